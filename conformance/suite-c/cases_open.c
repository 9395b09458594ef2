/* resource_open (malformed URLs, the policy, unknown schemes, the handle limit) and handle numbers. */
#include "suite.h"

CASE(50) { return open_fails(TERN_LIT(""), TERN_EINVAL); }

CASE(51) {
    TRY(open_fails(TERN_LIT("not a url"), TERN_EINVAL));
    return open_fails(TERN_LIT("://missing-scheme"), TERN_EINVAL);
}

CASE(52) {
    EXPECT_EQ(resource_open("null://\xff", 8), TERN_EINVAL, "resource_open(b\"null://\\xff\")");
    return 0;
}

CASE(53) {
    edge e = edge_grow();
    return expect_out_of_bounds(e, raw_resource_open(edge_near_end(e), 16), "resource_open(<end of memory - 2>, 16)");
}

CASE(54) {
    TRY(open_fails(TERN_LIT("null://user@host/"), TERN_EINVAL));
    return open_fails(TERN_LIT("log://user:pw@host/"), TERN_EINVAL);
}

CASE(55) {
    static const char *const segments[] = {"a%2Fb", "a%5Cb", "a%00b"};
    for (int i = 0; i < 3; i++) {
        tern_str url;
        TRY(file_url(segments[i], &url));
        TRY(open_fails(url, TERN_EINVAL));
    }
    return 0;
}

CASE(56) { return open_fails(TERN_LIT("conformance-nope://x/y"), TERN_EPERM); }
CASE(57) { return open_fails(TERN_LIT("conformance-unknown://example/x"), TERN_ENOTFOUND); }

CASE(58) {
    tern_str dir;
    TRY(conf_dir(&dir));
    int32_t slash = dir.len - 1;
    while (slash > 0 && dir.ptr[slash] != '/') slash--;
    ENSURE(slash > 0, "TERN_CONFORMANCE_DIR has no parent");
    tern_str url = concat3(TERN_LIT("file://"), tern_slice(dir, 0, slash), TERN_LIT("/outside.txt"));
    return open_fails(url, TERN_EPERM);
}

CASE(59) {
    tern_str url;
    TRY(file_url("secret.txt", &url));
    return open_fails(url, TERN_EPERM);
}

CASE(60) {
    tern_str url;
    TRY(file_url("../outside.txt", &url));
    TRY(open_fails(url, TERN_EPERM));
    TRY(file_url("subdir/../../outside.txt", &url));
    return open_fails(url, TERN_EPERM);
}

CASE(61) {
    enum { MAX = 100000 };
    int32_t *handles = tern_alloc(MAX * 4);
    ENSURE(handles, "no memory for the handle list");
    int32_t count = 0, result = 0;
    while (count < MAX) {
        result = tern_open(TERN_LIT("null://"));
        if (result < 0) break;
        handles[count++] = result;
    }
    int verdict = 0;
    if (result != TERN_ELIMIT) {
        verdict = fail_eq("resource_open at the limit", result, TERN_ELIMIT);
    } else if (count == 0) {
        verdict = fail("no handle could be opened");
    } else {
        resource_close(handles[--count]);
        int32_t again = tern_open(TERN_LIT("null://"));
        if (again < 0) verdict = fail_got("resource_open after a close at the limit", again);
        else handles[count++] = again;
    }
    for (int32_t i = 0; i < count; i++) resource_close(handles[i]);
    return verdict;
}

/* Read, write and flush on `h` return -2. */
static int all_invalid(int32_t h) {
    char buf[8];
    EXPECT_EQ(resource_read(h, buf, 8), TERN_EINVAL, "resource_read(h)");
    EXPECT_EQ(resource_write(h, "x", 1), TERN_EINVAL, "resource_write(h)");
    EXPECT_EQ(resource_flush(h), TERN_EINVAL, "resource_flush(h)");
    return 0;
}

CASE(62) {
    TRY(all_invalid(999));
    TRY(all_invalid(-1));
    return all_invalid(1 << 30);
}

CASE(63) {
    WITH("zero://", h);
    resource_close(h);
    return all_invalid(h);
}

CASE(64) {
    WITH("zero://", live);
    WITH("null://", dead);
    resource_close(dead);
    resource_close(999);
    resource_close(-1);
    resource_close(dead);
    char buf[4] = {1, 1, 1, 1};
    int32_t n = resource_read(live, buf, 4);
    resource_close(live);
    EXPECT_EQ(n, 4, "resource_read on an open handle");
    return 0;
}

CASE(65) {
    WITH("null://", a);
    WITH("null://", b);
    WITH("null://", c);
    ENSURE(a != b && b != c && a != c, "handles are not distinct");
    resource_close(b);
    resource_close(a);
    int32_t first = tern_open(TERN_LIT("null://"));
    int32_t second = tern_open(TERN_LIT("null://"));
    resource_close(first);
    resource_close(second);
    resource_close(c);
    EXPECT_EQ(first, a < b ? a : b, "the open after closing b then a");
    EXPECT_EQ(second, a < b ? b : a, "the open after that");
    return 0;
}

CASE(66) {
    WITH("zero://", h);
    char buf[1];
    return close_and_expect(h, resource_read(h, buf, 0), 0, "resource_read(zero://, buf, 0)");
}

CASE(67) {
    WITH("zero://", h);
    edge e = edge_grow();
    int32_t got = raw_resource_read(h, edge_near_end(e), 16);
    int untouched = edge_untouched(e);
    int32_t wrapped = raw_resource_read(h, -1, 2);
    resource_close(h);
    TRY(untouched);
    EXPECT_EQ(got, TERN_EINVAL, "resource_read(zero://, <end of memory - 2>, 16)");
    EXPECT_EQ(wrapped, TERN_EINVAL, "resource_read(zero://, 0xFFFFFFFF, 2)");
    return 0;
}

CASE(68) {
    WITH("null://", h);
    edge e = edge_grow();
    char buf[8] = {0};
    int32_t got = raw_resource_write(h, edge_near_end(e), 16);
    int32_t huge = raw_resource_write(h, ADDR(buf), -1);
    resource_close(h);
    EXPECT_EQ(got, TERN_EINVAL, "resource_write(null://, <end of memory - 2>, 16)");
    EXPECT_EQ(huge, TERN_EINVAL, "resource_write(null://, buf, -1)");
    return 0;
}

CASE(69) {
    EXPECT_EQ(resource_flush(1), 0, "resource_flush(1)");
    EXPECT_EQ(resource_flush(2), 0, "resource_flush(2)");
    return 0;
}
