/* Cases that end the guest (exit, trap, timeout, limits) or close its standard streams. */
#include "suite.h"

/* Case 107: prints a line, exits with 7; anything after that is a failure the harness sees. */
int32_t end_exit(void) {
    tern_print(TERN_LIT("c107: before runtime_exit\n"));
    runtime_exit(7);
}

/* Case 109. */
int32_t end_trap(void) { __builtin_trap(); }

/* Case 110: the run's --timeout (1s) must end this sleep early. */
int32_t end_sleep(void) {
    runtime_msleep(600000);
    return 0;
}

/* Case 111: runs until the run's --fuel is used up. */
int32_t end_spin(void) {
    volatile uint64_t n = 0;
    for (;;) n = n + 1;
}

/* Case 112: a memory.grow past the run's --max-memory-pages (100) is refused with -1. */
CASE(112) {
    uintptr_t before = __builtin_wasm_memory_size(0);
    intptr_t got = (intptr_t)__builtin_wasm_memory_grow(0, 1000);
    EXPECT_EQ(got, -1, "memory.grow(1000) under --max-memory-pages 100");
    EXPECT_EQ(__builtin_wasm_memory_size(0), before, "memory pages after the refused grow");
    return 0;
}

CASE(113) {
    resource_close(0);
    char buf[8];
    EXPECT_EQ(resource_read(0, buf, 8), TERN_EINVAL, "resource_read(0) after close");
    EXPECT_EQ(io_get_stdin(), 0, "io_get_stdin() after close");
    int32_t h = tern_open(TERN_LIT("null://"));
    resource_close(h);
    EXPECT_EQ(h, 0, "resource_open(\"null://\") after closing 0");
    return 0;
}

CASE(114) {
    TRY(write_whole(1, TERN_LIT("c114: before close\n")));
    resource_close(1);
    EXPECT_EQ(resource_write(1, "c114: after close\n", 18), TERN_EINVAL, "resource_write(1) after close");
    EXPECT_EQ(io_get_stdout(), 1, "io_get_stdout() after close");
    return 0;
}
