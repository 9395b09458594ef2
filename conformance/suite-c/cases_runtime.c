/* The runtime's own functions: version, name, module env, log_write, time, sleep, randomness. */
#include "suite.h"

CASE(1) {
    EXPECT_EQ(runtime_spec_major(), 1, "runtime_spec_major()");
    return 0;
}

CASE(2) {
    ENSURE(runtime_spec_minor() >= 1, "runtime_spec_minor() is below 1");
    return 0;
}

/* The runtime's name as case 3 checks it: its length, with bytes after it untouched. */
static int read_name(char *buf, int32_t *n) {
    memset(buf, 0xEE, 64);
    *n = runtime_name(buf, 64);
    if (*n <= 0 || *n > 64) return fail_got("runtime_name(buf, 64), expecting 1..=64", *n);
    ENSURE(all_bytes((unsigned char *)buf + *n, 64 - *n, 0xEE), "runtime_name wrote past the returned length");
    return 0;
}

CASE(3) {
    char buf[64];
    int32_t n;
    TRY(read_name(buf, &n));
    /* UTF-8: every multi-byte sequence well formed. */
    for (int32_t i = 0; i < n;) {
        unsigned char c = (unsigned char)buf[i];
        int32_t more = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
        ENSURE(more >= 0 && i + more < n, "runtime_name is not UTF-8");
        for (int32_t k = 1; k <= more; k++) ENSURE(((unsigned char)buf[i + k] & 0xC0) == 0x80, "runtime_name is not UTF-8");
        i += more + 1;
    }
    tern_str line = concat3(TERN_LIT("# runtime_name: "), bytes_of(buf, n), TERN_LIT("\n"));
    tern_write_all(tap_handle, line.ptr, line.len);
    return 0;
}

CASE(4) {
    char buf[64], probe[64];
    int32_t n;
    TRY(read_name(probe, &n));
    memset(buf, 0xEE, sizeof buf);
    EXPECT_EQ(runtime_name(buf, n - 1), TERN_EINVAL, "runtime_name(buf, n - 1)");
    ENSURE(all_bytes((unsigned char *)buf, 64, 0xEE), "runtime_name wrote into a too-small buffer");
    EXPECT_EQ(runtime_name(buf, n), n, "runtime_name(buf, n)");
    return 0;
}

CASE(5) {
    edge e = edge_grow();
    return expect_out_of_bounds(e, raw_runtime_name(edge_near_end(e), 16), "runtime_name(<end of memory - 2>, 16)");
}

CASE(6) {
    EXPECT_EQ(env_runtime_spec_major(), 1, "env.runtime_spec_major()");
    EXPECT_EQ(env_io_get_stdout(), 1, "env.io_get_stdout()");
    char buf[64];
    int32_t n = env_env_get("CONF_GREETING", 13, buf, sizeof buf);
    EXPECT_EQ(n, 18, "env.env_get(CONF_GREETING)");
    EXPECT_BYTES(bytes_of(buf, 18), TERN_LIT("hello, conformance"), "env.env_get value");
    return 0;
}

CASE(17) {
    tern_log(TERN_LOG_ERROR, TERN_LIT("c17: an error line"));
    return 0;
}

CASE(18) {
    tern_log(TERN_LOG_WARNING, TERN_LIT("c18: a warning line"));
    return 0;
}

CASE(19) {
    tern_log(TERN_LOG_INFO, TERN_LIT("c19: an info line"));
    return 0;
}

CASE(20) {
    tern_log(42, TERN_LIT("c20: level 42"));
    tern_log(-1, TERN_LIT("c20: level -1"));
    return 0;
}

CASE(21) {
    edge e = edge_grow();
    tern_log(TERN_LOG_INFO, TERN_LIT("c21: before"));
    raw_log_write(TERN_LOG_INFO, edge_near_end(e), 16);
    raw_log_write(TERN_LOG_INFO, -1, 2);
    tern_log(TERN_LOG_INFO, TERN_LIT("c21: after"));
    return 0;
}

CASE(40) {
    int64_t t = time_now();
    ENSURE(t > 1600000000 && t < 4102444800LL, "time_now() is not between 2020 and 2100");
    return 0;
}

CASE(41) {
    int64_t before = time_now();
    int64_t ns = time_now_ns();
    int64_t after = time_now();
    int64_t secs = ns / 1000000000;
    ENSURE(before <= secs + 1 && secs <= after + 1, "time_now_ns() disagrees with time_now()");
    return 0;
}

CASE(42) {
    int64_t last = time_monotonic_ns();
    ENSURE(last >= 0, "time_monotonic_ns() is negative");
    for (int i = 0; i < 1000; i++) {
        int64_t now = time_monotonic_ns();
        ENSURE(now >= last, "time_monotonic_ns() went back");
        last = now;
    }
    return 0;
}

CASE(43) {
    int64_t start = time_monotonic_ns();
    runtime_msleep(50);
    int64_t slept = time_monotonic_ns() - start;
    if (slept < 50000000) return fail_got("runtime_msleep(50) slept less than 50 ms: ns", slept);
    return 0;
}

CASE(44) {
    int64_t start = time_monotonic_ns();
    runtime_msleep(0);
    runtime_msleep(-1000);
    int64_t slept = time_monotonic_ns() - start;
    if (slept >= 500000000) return fail_got("runtime_msleep(0) and (-1000) took 500 ms or more: ns", slept);
    return 0;
}

CASE(45) {
    int32_t first = random_i32();
    for (int i = 0; i < 15; i++) {
        if (random_i32() != first) return 0;
    }
    return fail("random_i32() returned the same value 16 times");
}

CASE(46) {
    int64_t v[16];
    int differ = 0, high = 0;
    for (int i = 0; i < 16; i++) {
        v[i] = random_i64();
        if (v[i] != v[0]) differ = 1;
        if ((uint64_t)v[i] >> 32) high = 1;
    }
    ENSURE(differ, "random_i64() returned the same value 16 times");
    ENSURE(high, "random_i64() never set the upper 32 bits");
    return 0;
}

CASE(47) {
    unsigned char a[64] = {0}, b[64] = {0};
    EXPECT_EQ(random_fill(a, 64), 64, "random_fill(buf, 64)");
    EXPECT_EQ(random_fill(b, 64), 64, "random_fill(buf, 64)");
    ENSURE(memcmp(a, b, 64) != 0, "two random_fill calls gave the same 64 bytes");
    ENSURE(!all_bytes(a, 64, 0), "random_fill left 64 zero bytes");
    return 0;
}

CASE(48) {
    unsigned char a[1];
    EXPECT_EQ(random_fill(a, 0), 0, "random_fill(buf, 0)");
    return 0;
}

CASE(49) {
    edge e = edge_grow();
    return expect_out_of_bounds(e, raw_random_fill(edge_near_end(e), 16), "random_fill(<end of memory - 2>, 16)");
}
