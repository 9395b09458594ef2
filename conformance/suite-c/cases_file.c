/* file:// under $TERN_CONFORMANCE_DIR (the harness grants it and checks the files afterwards). */
#include "suite.h"

static int open_file(const char *rest, int32_t *h) {
    tern_str url;
    TRY(file_url(rest, &url));
    return opened(url, h);
}

static int fails_file(const char *rest, int32_t want) {
    tern_str url;
    TRY(file_url(rest, &url));
    return open_fails(url, want);
}

/* Opens `rest` into `h` and writes `bytes` with one write; closes `h` again if the write fails. */
static int open_written(const char *rest, tern_str bytes, int32_t *h) {
    TRY(open_file(rest, h));
    int r = write_whole(*h, bytes);
    if (r) resource_close(*h);
    return r;
}

/* Opens `rest`, writes `bytes` with one write, closes. */
static int write_file(const char *rest, tern_str bytes) {
    int32_t h;
    TRY(open_written(rest, bytes, &h));
    resource_close(h);
    return 0;
}

/* Fails unless the whole content of `rest` (a URL tail with its ?mode), read with the SDK's
 * tern_read_url, is `want`. */
static int expect_content(const char *rest, tern_str want, const char *what) {
    tern_str url, all;
    TRY(file_url(rest, &url));
    int32_t n = tern_read_url(url, 1 << 16, &all);
    if (n < 0) {
        detail(url);
        return fail_eq("tern_read_url", n, 0);
    }
    EXPECT_BYTES(all, want, what);
    return 0;
}

CASE(85) {
    int32_t h;
    TRY(open_file("hello.txt", &h));
    tern_str all;
    int r = read_to_eof(h, &all);
    char buf[4];
    int32_t again = resource_read(h, buf, 4);
    resource_close(h);
    TRY(r);
    EXPECT_BYTES(all, TERN_LIT("hello, file\n"), "hello.txt");
    EXPECT_EQ(again, TERN_EOF, "resource_read at the end, again");
    /* The SDK reads the same bytes. */
    return expect_content("hello.txt", TERN_LIT("hello, file\n"), "tern_read_url(hello.txt)");
}

CASE(86) { return expect_content("with%20space.txt?mode=r", TERN_LIT("spaced out\n"), "with%20space.txt"); }

CASE(87) {
    int32_t h;
    TRY(open_file("rw.txt", &h));
    char buf[4];
    int32_t n = resource_read(h, buf, 4);
    int r = n == 4 ? write_whole(h, TERN_LIT("AB")) : 0;
    resource_close(h);
    EXPECT_EQ(n, 4, "resource_read(rw.txt, buf, 4)");
    EXPECT_BYTES(bytes_of(buf, 4), TERN_LIT("0123"), "the first 4 bytes");
    return r;
}

CASE(88) {
    int32_t h;
    TRY(open_file("hello.txt?mode=r", &h));
    char buf[5];
    int32_t n = resource_read(h, buf, 5), w = resource_write(h, "overwritten", 11);
    resource_close(h);
    EXPECT_EQ(n, 5, "resource_read(hello.txt?mode=r, buf, 5)");
    EXPECT_BYTES(bytes_of(buf, 5), TERN_LIT("hello"), "the first 5 bytes");
    EXPECT_EQ(w, TERN_EUNSUPPORTED, "resource_write on a mode=r file");
    return 0;
}

CASE(89) { return fails_file("missing.txt?mode=r", TERN_ENOTFOUND); }

CASE(90) {
    TRY(fails_file("missing-too.txt", TERN_ENOTFOUND));
    return fails_file("missing-too.txt?mode=r", TERN_ENOTFOUND);
}

CASE(91) { return write_file("created.txt?mode=w", TERN_LIT("created by c91\n")); }

CASE(92) {
    TRY(write_file("truncate.txt?mode=w", TERN_LIT("short\n")));
    return expect_content("truncate.txt?mode=r", TERN_LIT("short\n"), "truncate.txt after mode=w");
}

CASE(93) {
    TRY(write_file("append.txt?mode=a", TERN_LIT("two\n")));
    TRY(write_file("new-append.txt?mode=a", TERN_LIT("fresh\n")));
    return expect_content("append.txt?mode=r", TERN_LIT("one\ntwo\n"), "append.txt after mode=a");
}

CASE(94) {
    TRY(write_file("rw-new.txt?mode=rw", TERN_LIT("made by mode=rw\n")));
    return expect_content("rw-new.txt?mode=rw", TERN_LIT("made by mode=rw\n"), "rw-new.txt read back");
}

CASE(95) {
    TRY(fails_file("subdir", TERN_EINVAL));
    return fails_file("subdir?mode=r", TERN_EINVAL);
}

CASE(96) {
    int32_t h;
    TRY(open_written("flushed.txt?mode=w", TERN_LIT("synced\n"), &h));
    return close_and_expect(h, resource_flush(h), 0, "resource_flush(file://)");
}

CASE(97) {
    int32_t h;
    TRY(open_written("write-only.txt?mode=w", TERN_LIT("w\n"), &h));
    char buf[4];
    return close_and_expect(h, resource_read(h, buf, 4), TERN_EUNSUPPORTED, "resource_read on a mode=w file");
}
