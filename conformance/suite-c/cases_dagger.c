/* Module dagger (ABI.md §6): Olin's first ABI on the same handles. */
#include "suite.h"

/* dagger.open of a literal (C literals end with the NUL dagger wants). */
static int dopened(const char *url, int32_t *h) {
    *h = tern_dagger_open(url, 0);
    if (*h > 2) return 0;
    detail(tern_cstr(url));
    return fail_got("dagger.open, expecting a handle > 2", *h);
}

/* Declares `h` and opens `url` into it with dagger.open, as WITH does with resource_open. */
#define DWITH(url, h) int32_t h; TRY(dopened(url, &h))

CASE(98) {
    DWITH("zero://", h);
    unsigned char buf[8];
    memset(buf, 0xAA, sizeof buf);
    int32_t n = resource_read(h, buf, 8);
    resource_close(h);
    EXPECT_EQ(n, 8, "resource_read on a dagger handle");
    ENSURE(all_bytes(buf, 8, 0), "the bytes of zero:// are not zero");
    return 0;
}

CASE(99) {
    DWITH("null://", null);
    DWITH("zero://", zero);
    char buf[8];
    int32_t at_end = tern_dagger_read(null, buf, 8), n = tern_dagger_read(zero, buf, 8);
    resource_close(null);
    resource_close(zero);
    EXPECT_EQ(at_end, 0, "dagger.read(null://)");
    EXPECT_EQ(n, 8, "dagger.read(zero://, buf, 8)");
    return 0;
}

CASE(100) {
    DWITH("fd://1", h);
    int32_t n = tern_dagger_write(h, "c100: via dagger\n", 17);
    int32_t closed = tern_dagger_close(h);
    EXPECT_EQ(n, 17, "dagger.write(fd://1)");
    EXPECT_EQ(closed, 0, "dagger.close");
    return 0;
}

CASE(101) {
    DWITH("null://", h);
    int32_t ok = tern_dagger_sync(h), bad = tern_dagger_sync(999);
    return close_and_expect2(h, ok, 0, "dagger.sync(null://)", bad, TERN_EINVAL, "dagger.sync(999)");
}

CASE(102) {
    DWITH("zero://", h);
    int32_t first = tern_dagger_close(h), second = tern_dagger_close(h);
    char buf[4];
    EXPECT_EQ(first, 0, "dagger.close(h)");
    EXPECT_EQ(second, TERN_EINVAL, "dagger.close(h) again");
    EXPECT_EQ(resource_read(h, buf, 4), TERN_EINVAL, "resource_read after dagger.close");
    return 0;
}

CASE(103) {
    char *lots = tern_alloc(5000);
    ENSURE(lots, "no memory");
    memset(lots, 'a', 5000);
    EXPECT_EQ(tern_dagger_open(lots, 0), TERN_EINVAL, "dagger.open(5000 x 'a', no NUL)");
    edge e = edge_grow();
    int32_t at = edge_put_at_end(e, TERN_LIT("null://"));
    int32_t got = tern_dagger_open((const char *)(uintptr_t)at, 0);
    ENSURE(__builtin_wasm_memory_size(0) * 65536 == e.end, "memory grew during the call");
    EXPECT_EQ(got, TERN_EINVAL, "dagger.open(\"null://\" at the end of memory, no NUL)");
    return 0;
}

CASE(104) {
    tern_str url;
    TRY(file_url("../outside.txt", &url)); /* file_url's result is NUL-terminated */
    int32_t got = tern_dagger_open(url.ptr, 0);
    if (got >= 0) resource_close(got);
    detail(url);
    EXPECT_EQ(got, TERN_EPERM, "dagger.open");
    return 0;
}

CASE(105) {
    DWITH("zero://", zero);
    DWITH("null://", null);
    edge e = edge_grow();
    void *end = (void *)(uintptr_t)edge_near_end(e);
    int32_t r = tern_dagger_read(zero, end, 16), w = tern_dagger_write(null, end, 16);
    int untouched = edge_untouched(e);
    resource_close(zero);
    resource_close(null);
    TRY(untouched);
    EXPECT_EQ(r, TERN_EINVAL, "dagger.read(zero://, <end of memory - 2>, 16)");
    EXPECT_EQ(w, TERN_EINVAL, "dagger.write(null://, <end of memory - 2>, 16)");
    return 0;
}
