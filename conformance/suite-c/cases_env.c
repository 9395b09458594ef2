/* env_get and the startup arguments, with the buffer-too-small protocol. */
#include "suite.h"

#define FILL 0xEE
static const tern_str GREETING = TERN_LIT("hello, conformance");

/* Fails with `what` and the bytes unless the `n` bytes of `buf`, filled with FILL before a call that
 * found it too small, are untouched. */
static int small_untouched(const char *buf, int32_t n, const char *what) {
    if (all_bytes((const unsigned char *)buf, n, FILL)) return 0;
    detail(bytes_of(buf, n));
    return fail(what);
}

CASE(22) {
    char buf[64];
    memset(buf, FILL, sizeof buf);
    EXPECT_EQ(env_get("CONF_GREETING", 13, buf, 64), 18, "env_get(CONF_GREETING, buf, 64)");
    EXPECT_BYTES(bytes_of(buf, 18), GREETING, "the value");
    ENSURE(all_bytes((unsigned char *)buf + 18, 64 - 18, FILL), "env_get wrote past the value");
    /* The SDK's helper, which relies on the same protocol: */
    tern_str v;
    EXPECT_EQ(tern_env(TERN_LIT("CONF_GREETING"), &v), 18, "tern_env(CONF_GREETING)");
    EXPECT_BYTES(v, GREETING, "tern_env(CONF_GREETING)");
    return 0;
}

CASE(23) {
    char buf[18];
    memset(buf, FILL, sizeof buf);
    EXPECT_EQ(env_get("CONF_GREETING", 13, buf, 18), 18, "env_get(CONF_GREETING, buf, 18)");
    EXPECT_BYTES(bytes_of(buf, 18), GREETING, "the value");
    return 0;
}

CASE(24) {
    char buf[5];
    memset(buf, FILL, sizeof buf);
    EXPECT_EQ(env_get("CONF_GREETING", 13, buf, 5), 18, "env_get(CONF_GREETING, buf, 5)");
    return small_untouched(buf, 5, "env_get wrote into a too-small buffer");
}

CASE(25) {
    char buf[1];
    EXPECT_EQ(env_get("CONF_GREETING", 13, buf, 0), 18, "env_get(CONF_GREETING, buf, 0)");
    return 0;
}

CASE(26) {
    char buf[16];
    memset(buf, FILL, sizeof buf);
    EXPECT_EQ(env_get("CONF_MISSING", 12, buf, 16), TERN_ENOTFOUND, "env_get(CONF_MISSING)");
    EXPECT_EQ(env_get("conf_greeting", 13, buf, 16), TERN_ENOTFOUND, "env_get(conf_greeting)");
    ENSURE(all_bytes((unsigned char *)buf, 16, FILL), "env_get wrote for a missing variable");
    tern_str v;
    EXPECT_EQ(tern_env(TERN_LIT("CONF_MISSING"), &v), TERN_ENOTFOUND, "tern_env(CONF_MISSING)");
    return 0;
}

CASE(27) {
    char buf[16];
    EXPECT_EQ(env_get("CONF_EMPTY", 10, buf, 16), 0, "env_get(CONF_EMPTY)");
    return 0;
}

CASE(28) {
    tern_str want = TERN_LIT("ünïcødé ✓");
    char buf[64];
    EXPECT_EQ(env_get("CONF_UNICODE", 12, buf, 64), want.len, "env_get(CONF_UNICODE) (UTF-8 bytes)");
    EXPECT_BYTES(bytes_of(buf, want.len), want, "the value");
    return 0;
}

CASE(29) {
    tern_str v;
    EXPECT_EQ(tern_env(TERN_LIT("CONF_EQUALS"), &v), 5, "tern_env(CONF_EQUALS)");
    EXPECT_BYTES(v, TERN_LIT("a=b=c"), "tern_env(CONF_EQUALS)");
    return 0;
}

CASE(30) {
    edge e = edge_grow();
    char buf[16];
    return expect_out_of_bounds(e, raw_env_get(edge_near_end(e), 16, ADDR(buf), 16), "env_get(<key at end of memory - 2, 16 bytes>)");
}

CASE(31) {
    static const char key[] = "CONF_GREETING";
    edge e = edge_grow();
    return expect_out_of_bounds(e, raw_env_get(ADDR(key), 13, edge_near_end(e), 64), "env_get(CONF_GREETING, <end of memory - 2>, 64)");
}

CASE(32) {
    char buf[16];
    EXPECT_EQ(env_get("CONF_\xff", 6, buf, 16), TERN_EINVAL, "env_get(b\"CONF_\\xff\")");
    return 0;
}

/* The arguments run main passes after the run name (cases.toml, [[run]] main, `args`). */
static const char *const ARGS[6] = {"alpha", "two words", "ünïcødé ✓", "", "--allow=file:///", "last"};

CASE(33) {
    EXPECT_EQ(startup_arg_len(), 8, "startup_arg_len()");
    EXPECT_EQ(tern_arg_count(), 8, "tern_arg_count()");
    return 0;
}

CASE(34) {
    static char buf[4096];
    int32_t n = startup_arg_at(0, buf, sizeof buf);
    ENSURE(n > 0, "startup_arg_at(0) is empty or failed");
    tern_str run;
    EXPECT_EQ(tern_arg(1, &run), 4, "tern_arg(1)");
    EXPECT_BYTES(run, TERN_LIT("main"), "tern_arg(1)");
    return 0;
}

CASE(35) {
    for (int32_t i = 0; i < 6; i++) {
        tern_str want = tern_cstr(ARGS[i]);
        char buf[64];
        memset(buf, FILL, sizeof buf);
        detail(want);
        EXPECT_EQ(startup_arg_at(i + 2, buf, 64), want.len, "startup_arg_at(i) length");
        EXPECT_BYTES(bytes_of(buf, want.len), want, "startup_arg_at(i)");
        tern_str got;
        EXPECT_EQ(tern_arg(i + 2, &got), want.len, "tern_arg(i) length");
        EXPECT_BYTES(got, want, "tern_arg(i)");
    }
    return 0;
}

CASE(36) {
    char buf[4];
    memset(buf, FILL, sizeof buf);
    EXPECT_EQ(startup_arg_at(3, buf, 4), 9, "startup_arg_at(3, buf, 4)");
    return small_untouched(buf, 4, "startup_arg_at wrote into a too-small buffer");
}

CASE(37) {
    char buf[16];
    EXPECT_EQ(startup_arg_at(startup_arg_len(), buf, 16), TERN_EINVAL, "startup_arg_at(startup_arg_len())");
    EXPECT_EQ(startup_arg_at(1000, buf, 16), TERN_EINVAL, "startup_arg_at(1000)");
    return 0;
}

CASE(38) {
    char buf[16];
    EXPECT_EQ(startup_arg_at(-1, buf, 16), TERN_EINVAL, "startup_arg_at(-1)");
    return 0;
}

CASE(39) {
    edge e = edge_grow();
    return expect_out_of_bounds(e, raw_startup_arg_at(1, edge_near_end(e), 16), "startup_arg_at(1, <end of memory - 2>, 16)");
}
