/* The schemes granted by default: null, zero, random, log and fd. */
#include "suite.h"

/* Fails unless one resource_write of `bytes` on a fresh handle on `url` returns `want`. */
static int write_once(const char *url, tern_str bytes, int32_t want, const char *what) {
    int32_t h;
    TRY(opened(tern_cstr(url), &h));
    return close_and_expect(h, resource_write(h, bytes.ptr, bytes.len), want, what);
}

CASE(70) {
    WITH("null://", h);
    char buf[8];
    int32_t a = resource_read(h, buf, 8), b = resource_read(h, buf, 8);
    return close_and_expect2(h, a, TERN_EOF, "resource_read(null://)", b, TERN_EOF, "resource_read(null://) again");
}

CASE(71) {
    WITH("null://", h);
    char *big = tern_alloc(10000);
    memset(big, 7, 10000);
    int32_t one = resource_write(h, "x", 1), many = resource_write(h, big, 10000), f = resource_flush(h);
    resource_close(h);
    EXPECT_EQ(one, 1, "resource_write(null://, 1 byte)");
    EXPECT_EQ(many, 10000, "resource_write(null://, 10000 bytes)");
    EXPECT_EQ(f, 0, "resource_flush(null://)");
    return 0;
}

CASE(72) {
    WITH("zero://", h);
    unsigned char buf[100];
    memset(buf, 0xAA, sizeof buf);
    int32_t n = resource_read(h, buf, 100), f = resource_flush(h);
    resource_close(h);
    EXPECT_EQ(n, 100, "resource_read(zero://, buf, 100)");
    ENSURE(all_bytes(buf, 100, 0), "zero:// gave non-zero bytes");
    EXPECT_EQ(f, 0, "resource_flush(zero://)");
    return 0;
}

CASE(73) { return write_once("zero://", TERN_LIT("x"), TERN_EUNSUPPORTED, "resource_write(zero://)"); }

CASE(74) {
    WITH("random://", h);
    unsigned char a[64] = {0}, b[64] = {0};
    int32_t na = resource_read(h, a, 64), nb = resource_read(h, b, 64), f = resource_flush(h);
    resource_close(h);
    EXPECT_EQ(na, 64, "resource_read(random://, buf, 64)");
    EXPECT_EQ(nb, 64, "resource_read(random://, buf, 64)");
    ENSURE(memcmp(a, b, 64) != 0, "two reads of random:// gave the same 64 bytes");
    ENSURE(!all_bytes(a, 64, 0), "random:// gave 64 zero bytes");
    EXPECT_EQ(f, 0, "resource_flush(random://)");
    return 0;
}

CASE(75) { return write_once("random://", TERN_LIT("x"), TERN_EUNSUPPORTED, "resource_write(random://)"); }

CASE(76) {
    return write_once("log://?prefix=c76", TERN_LIT("first\nsecond\n"), 13, "resource_write(log://, 13 bytes)");
}

CASE(77) {
    WITH("log://?prefix=c77", h);
    int32_t a = resource_write(h, "par", 3), b = resource_write(h, "tial line\n", 10);
    return close_and_expect2(h, a, 3, "resource_write(log://, \"par\")", b, 10,
                             "resource_write(log://, \"tial line\\n\")");
}

CASE(78) {
    WITH("log://?prefix=c78", h);
    int32_t n = resource_write(h, "flushed", 7), f = resource_flush(h);
    tern_log(TERN_LOG_INFO, TERN_LIT("c78: after flush"));
    return close_and_expect2(h, n, 7, "resource_write(log://, \"flushed\")", f, 0, "resource_flush(log://)");
}

CASE(79) {
    WITH("log://?prefix=c79", h);
    int verdict = close_and_expect(h, resource_write(h, "closed", 6), 6, "resource_write(log://, \"closed\")");
    tern_log(TERN_LOG_INFO, TERN_LIT("c79: after close"));
    return verdict;
}

CASE(80) {
    WITH("log://?prefix=c80", h);
    char buf[8];
    return close_and_expect(h, resource_read(h, buf, 8), TERN_EUNSUPPORTED, "resource_read(log://)");
}

CASE(81) {
    WITH("fd://1", out);
    WITH("fd://2", err);
    int r = write_whole(out, TERN_LIT("c81: via fd://1\n"));
    if (!r) r = write_whole(err, TERN_LIT("c81: via fd://2\n"));
    resource_close(out);
    resource_close(err);
    return r;
}

CASE(82) {
    char buf[8];
    WITH("fd://1", out);
    WITH("fd://2", err);
    WITH("fd://0", in);
    int32_t r1 = resource_read(out, buf, 8), r2 = resource_read(err, buf, 8), w0 = resource_write(in, "x", 1);
    resource_close(out);
    resource_close(err);
    resource_close(in);
    EXPECT_EQ(r1, TERN_EUNSUPPORTED, "resource_read(fd://1)");
    EXPECT_EQ(r2, TERN_EUNSUPPORTED, "resource_read(fd://2)");
    EXPECT_EQ(w0, TERN_EUNSUPPORTED, "resource_write(fd://0)");
    return 0;
}

CASE(83) {
    TRY(open_fails(TERN_LIT("fd://3"), TERN_ENOTFOUND));
    return open_fails(TERN_LIT("fd://99"), TERN_ENOTFOUND);
}

CASE(84) {
    WITH("fd://1", out);
    WITH("fd://2", err);
    int32_t a = resource_flush(out), b = resource_flush(err);
    resource_close(out);
    resource_close(err);
    EXPECT_EQ(a, 0, "resource_flush(fd://1)");
    EXPECT_EQ(b, 0, "resource_flush(fd://2)");
    return 0;
}
