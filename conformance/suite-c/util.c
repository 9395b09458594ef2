/* The C suite's helpers: failure reasons, opening and reading handles, the granted directory, and
 * buffers at the very end of linear memory. */
#include "suite.h"

int32_t tap_handle = TERN_STDOUT;
extern tern_buf *current_reason(void);

static char detail_mem[512];
static tern_buf detail_buf;

void reset_detail(void) { tern_buf_init(&detail_buf, detail_mem, sizeof detail_mem); }

void detail(tern_str s) {
    if (detail_buf.len > 0) tern_buf_cstr(&detail_buf, ", ");
    tern_buf_cstr(&detail_buf, "\"");
    tern_buf_escaped(&detail_buf, s.ptr, s.len);
    tern_buf_cstr(&detail_buf, "\"");
}

static tern_buf *start(const char *what) {
    tern_buf *r = current_reason();
    tern_buf_cstr(r, what);
    if (detail_buf.len > 0) {
        tern_buf_cstr(r, " (");
        tern_buf_str(r, tern_buf_text(&detail_buf));
        tern_buf_cstr(r, ")");
    }
    return r;
}

int fail(const char *what) {
    start(what);
    return 1;
}

int fail_eq(const char *what, int64_t got, int64_t want) {
    tern_buf *r = start(what);
    tern_buf_cstr(r, ": expected ");
    tern_buf_i64(r, want);
    tern_buf_cstr(r, ", got ");
    tern_buf_i64(r, got);
    return 1;
}

int fail_got(const char *what, int64_t got) {
    tern_buf *r = start(what);
    tern_buf_cstr(r, ": got ");
    tern_buf_i64(r, got);
    return 1;
}

int fail_bytes(const char *what, tern_str got, tern_str want) {
    tern_buf *r = start(what);
    tern_buf_cstr(r, ": expected b\"");
    tern_buf_escaped(r, want.ptr, want.len);
    tern_buf_cstr(r, "\", got b\"");
    tern_buf_escaped(r, got.ptr, got.len);
    tern_buf_cstr(r, "\"");
    return 1;
}

int opened(tern_str url, int32_t *h) {
    *h = tern_open(url);
    if (*h > 2) return 0;
    detail(url);
    return fail_got("resource_open, expecting a handle > 2", *h);
}

int close_and_expect(int32_t h, int32_t got, int32_t want, const char *what) {
    resource_close(h);
    EXPECT_EQ(got, want, what);
    return 0;
}

int close_and_expect2(int32_t h, int32_t got_a, int32_t want_a, const char *what_a, int32_t got_b, int32_t want_b,
                      const char *what_b) {
    resource_close(h);
    EXPECT_EQ(got_a, want_a, what_a);
    EXPECT_EQ(got_b, want_b, what_b);
    return 0;
}

int open_fails(tern_str url, int32_t want) {
    int32_t got = tern_open(url);
    if (got >= 0) resource_close(got);
    if (got == want) return 0;
    detail(url);
    return fail_eq("resource_open", got, want);
}

int write_whole(int32_t h, tern_str bytes) {
    int32_t n = resource_write(h, bytes.ptr, bytes.len);
    if (n == bytes.len) return 0;
    detail(bytes);
    return fail_eq("resource_write", n, bytes.len);
}

int read_to_eof(int32_t h, tern_str *out) {
    int32_t n = tern_read_all(h, 1 << 20, out);
    if (n >= 0) return 0;
    return fail_eq("reading until -5", n, TERN_EOF);
}

tern_str concat3(tern_str a, tern_str b, tern_str c) {
    char *p = tern_alloc(a.len + b.len + c.len + 1);
    memcpy(p, a.ptr, a.len);
    memcpy(p + a.len, b.ptr, b.len);
    memcpy(p + a.len + b.len, c.ptr, c.len);
    p[a.len + b.len + c.len] = 0;
    return (tern_str){p, a.len + b.len + c.len};
}

tern_str bytes_of(const void *p, int32_t n) { return (tern_str){p, n}; }

int all_bytes(const unsigned char *p, int32_t n, unsigned char value) {
    for (int32_t i = 0; i < n; i++) {
        if (p[i] != value) return 0;
    }
    return 1;
}

int conf_dir(tern_str *out) {
    if (tern_env(TERN_LIT("TERN_CONFORMANCE_DIR"), out) > 0) return 0;
    return fail("TERN_CONFORMANCE_DIR is not set (the harness passes --env TERN_CONFORMANCE_DIR=...)");
}

int file_url(const char *rest, tern_str *out) {
    tern_str dir;
    TRY(conf_dir(&dir));
    *out = concat3(TERN_LIT("file://"), dir, concat3(TERN_LIT("/"), tern_cstr(rest), TERN_LIT("")));
    return 0;
}

/* ---- The end of memory ------------------------------------------------------------------------- */

static const unsigned char MARKER[2] = {0xA5, 0x5A};

edge edge_grow(void) {
    uintptr_t before = __builtin_wasm_memory_grow(0, 1);
    edge e = {(uint32_t)((before + 1) * 65536)};
    volatile unsigned char *at = (volatile unsigned char *)(uintptr_t)(e.end - 2);
    at[0] = MARKER[0];
    at[1] = MARKER[1];
    return e;
}

int32_t edge_near_end(edge e) { return (int32_t)(e.end - 2); }

int edge_untouched(edge e) {
    if (__builtin_wasm_memory_size(0) * 65536 != e.end) {
        return fail("memory grew during the call; the buffer was not out of bounds");
    }
    volatile unsigned char *at = (volatile unsigned char *)(uintptr_t)(e.end - 2);
    if (at[0] != MARKER[0] || at[1] != MARKER[1]) {
        return fail("the in-bounds bytes of an out-of-bounds buffer were written");
    }
    return 0;
}

int expect_out_of_bounds(edge e, int32_t got, const char *what) {
    TRY(edge_untouched(e));
    EXPECT_EQ(got, TERN_EINVAL, what);
    return 0;
}

int32_t edge_put_at_end(edge e, tern_str bytes) {
    volatile unsigned char *start = (volatile unsigned char *)(uintptr_t)(e.end - bytes.len);
    for (int32_t i = 0; i < bytes.len; i++) start[i] = (unsigned char)bytes.ptr[i];
    return (int32_t)(e.end - bytes.len);
}
