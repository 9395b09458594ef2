/* hello.c — a CGI handler in freestanding C on the stream ABI (guest-sdk/c/tern.h).
 *
 *   clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wl,--export=cwa_main \
 *       -I guest-sdk/c -o hello_c.wasm examples/handlers/hello.c
 *   tern serve hello_c.wasm      then   curl http://127.0.0.1:8080/you
 *   -> Hello from C! You asked for /you
 */
#include "tern.h"

static char path[1024];

int32_t cwa_main(void) {
    int32_t out = io_get_stdout();
    const char *head = "Content-Type: text/plain; charset=utf-8\r\n\r\n";
    if (resource_write(out, head, tern_strlen(head)) < 0) return 1;
    const char *hello = "Hello from C! You asked for ";
    resource_write(out, hello, tern_strlen(hello));
    /* env_get writes nothing when the value does not fit: then say "/". */
    int32_t n = env_get("PATH_INFO", 9, path, sizeof path);
    if (n > 0 && n <= (int32_t)sizeof path) {
        resource_write(out, path, n);
    } else {
        resource_write(out, "/", 1);
    }
    resource_write(out, "\n", 1);
    return 0;
}
