/* hello.c — a freestanding C guest: greets argument 1 (or "world") on stdout, logs, exits 0.
 *
 *   clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wl,--export=cwa_main -o hello.wasm hello.c
 *   tern run hello.wasm Ada
 */
#include "tern.h"

static char name[256];

int32_t cwa_main(void) {
    const char *who = "world";
    int32_t who_len = 5;
    if (startup_arg_len() >= 2) {
        int32_t n = startup_arg_at(1, name, sizeof name);
        if (n > 0 && n <= (int32_t)sizeof name) {
            who = name;
            who_len = n;
        }
    }
    const char *hello = "Hello, ";
    int32_t out = io_get_stdout();
    if (resource_write(out, hello, tern_strlen(hello)) < 0) return 1;
    resource_write(out, who, who_len);
    resource_write(out, "!\n", 2);
    const char *note = "greeted from C";
    log_write(TERN_LOG_INFO, note, tern_strlen(note));
    return 0;
}
