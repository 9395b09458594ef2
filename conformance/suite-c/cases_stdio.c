/* Handles 0, 1 and 2, io_get_*, and the guest's stdin. */
#include "suite.h"

static int stable(int32_t (*get)(void), int32_t want, const char *what) {
    for (int i = 0; i < 3; i++) EXPECT_EQ(get(), want, what);
    return 0;
}

CASE(7) { return stable(io_get_stdin, 0, "io_get_stdin()"); }
CASE(8) { return stable(io_get_stdout, 1, "io_get_stdout()"); }
CASE(9) { return stable(io_get_stderr, 2, "io_get_stderr()"); }
CASE(10) { return write_whole(1, TERN_LIT("c10: written to handle 1\n")); }
CASE(11) { return write_whole(2, TERN_LIT("c11: written to handle 2\n")); }

CASE(12) {
    char buf[11];
    int32_t got = 0;
    while (got < 11) {
        int32_t n = resource_read(0, buf + got, 11 - got);
        if (n < 1 || n > 11 - got) {
            detail(bytes_of(buf, got));
            return fail_eq("resource_read(0) after the bytes so far", n, 11 - got);
        }
        got += n;
    }
    EXPECT_BYTES(bytes_of(buf, 11), TERN_LIT("first line\n"), "stdin");
    return 0;
}

CASE(13) {
    WITH("fd://0", h);
    tern_str rest;
    int r = read_to_eof(h, &rest);
    resource_close(h);
    TRY(r);
    EXPECT_BYTES(rest, TERN_LIT("second line\n"), "the rest of stdin read from fd://0");
    return 0;
}

CASE(14) {
    char buf[16];
    for (int i = 0; i < 2; i++) EXPECT_EQ(resource_read(0, buf, 16), TERN_EOF, "resource_read(0) at the end");
    return 0;
}

CASE(15) {
    char buf[8];
    EXPECT_EQ(resource_read(1, buf, 8), TERN_EUNSUPPORTED, "resource_read(1)");
    return 0;
}

CASE(16) {
    EXPECT_EQ(resource_write(0, "x", 1), TERN_EUNSUPPORTED, "resource_write(0)");
    return 0;
}
