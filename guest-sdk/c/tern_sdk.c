/* tern_sdk.c — the helpers of tern_sdk.h. Freestanding: also defines the memcpy, memmove, memset and
 * memcmp that clang emits calls to, since there is no libc to provide them. */
#include "tern_sdk.h"

typedef __SIZE_TYPE__ size_t; /* no <stddef.h> without libc headers */

void *memcpy(void *dst, const void *src, size_t n) {
    char *d = dst;
    const char *s = src;
    while (n--) *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    char *d = dst;
    const char *s = src;
    if (d < s) {
        while (n--) *d++ = *s++;
    } else {
        while (n--) d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    unsigned char *d = dst;
    while (n--) *d++ = (unsigned char)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}

/* ---- Strings ---------------------------------------------------------------------------------- */

tern_str tern_cstr(const char *s) { return (tern_str){s, tern_strlen(s)}; }

int tern_str_eq(tern_str a, tern_str b) {
    return a.len == b.len && memcmp(a.ptr, b.ptr, (size_t)a.len) == 0;
}

int tern_starts_with(tern_str s, tern_str prefix) {
    return s.len >= prefix.len && memcmp(s.ptr, prefix.ptr, (size_t)prefix.len) == 0;
}

int tern_ends_with(tern_str s, tern_str suffix) {
    return s.len >= suffix.len &&
           memcmp(s.ptr + s.len - suffix.len, suffix.ptr, (size_t)suffix.len) == 0;
}

int32_t tern_find(tern_str s, tern_str needle) {
    for (int32_t i = 0; i + needle.len <= s.len; i++) {
        if (memcmp(s.ptr + i, needle.ptr, (size_t)needle.len) == 0) return i;
    }
    return -1;
}

tern_str tern_slice(tern_str s, int32_t from, int32_t to) {
    if (to > s.len) to = s.len;
    if (from > to) from = to;
    return (tern_str){s.ptr + from, to - from};
}

int tern_parse_i64(tern_str s, int64_t *out) {
    int32_t i = 0;
    int negative = s.len > 0 && s.ptr[0] == '-';
    if (negative) i = 1;
    if (i >= s.len || s.len - i > 18) return -1;
    int64_t v = 0;
    for (; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') return -1;
        v = v * 10 + (s.ptr[i] - '0');
    }
    *out = negative ? -v : v;
    return 0;
}

/* ---- Memory ----------------------------------------------------------------------------------- */

extern unsigned char __heap_base;
/* The allocator's region: [heap_next, heap_end) is free. It only uses memory it grew itself (or the
 * initial memory past __heap_base), so pages the guest grows for its own use are never handed out. */
static uintptr_t heap_next, heap_end;

void *tern_alloc(int32_t size) {
    const uintptr_t page = 65536;
    if (size < 0) return 0;
    if (heap_next == 0) {
        heap_next = (uintptr_t)&__heap_base;
        heap_end = __builtin_wasm_memory_size(0) * page;
    }
    uintptr_t start = (heap_next + 7) & ~(uintptr_t)7;
    if ((uintptr_t)size > heap_end - start) {
        uintptr_t memory = __builtin_wasm_memory_size(0) * page;
        /* Someone else grew memory since: continue at its end rather than hand out their pages. */
        if (memory != heap_end) start = memory;
        if ((uintptr_t)size > UINTPTR_MAX - memory - page) return 0;
        uintptr_t pages = (start + (uintptr_t)size - memory + page - 1) / page;
        if (__builtin_wasm_memory_grow(0, pages) == (uintptr_t)-1) return 0;
        heap_end = memory + pages * page;
    }
    heap_next = start + (uintptr_t)size;
    return (void *)start;
}

tern_str tern_dup(tern_str s) {
    char *p = tern_alloc(s.len + 1);
    if (!p) return (tern_str){0, 0};
    memcpy(p, s.ptr, (size_t)s.len);
    p[s.len] = 0;
    return (tern_str){p, s.len};
}

/* ---- The text builder ------------------------------------------------------------------------- */

void tern_buf_init(tern_buf *b, char *mem, int32_t cap) {
    b->ptr = mem;
    b->len = 0;
    b->cap = cap;
    b->overflow = 0;
}

void tern_buf_bytes(tern_buf *b, const void *p, int32_t n) {
    if (n < 0 || n > b->cap - b->len) {
        b->overflow = 1;
        return;
    }
    memcpy(b->ptr + b->len, p, (size_t)n);
    b->len += n;
}

void tern_buf_str(tern_buf *b, tern_str s) { tern_buf_bytes(b, s.ptr, s.len); }

void tern_buf_cstr(tern_buf *b, const char *s) { tern_buf_bytes(b, s, tern_strlen(s)); }

void tern_buf_i64(tern_buf *b, int64_t v) {
    char digits[24];
    int32_t n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        digits[sizeof digits - 1 - n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) digits[sizeof digits - 1 - n++] = '-';
    tern_buf_bytes(b, digits + sizeof digits - n, n);
}

void tern_buf_escaped(tern_buf *b, const void *p, int32_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = p;
    for (int32_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '\n') tern_buf_cstr(b, "\\n");
        else if (c == '\r') tern_buf_cstr(b, "\\r");
        else if (c == '\t') tern_buf_cstr(b, "\\t");
        else if (c == '\\' || c == '"') {
            char e[2] = {'\\', (char)c};
            tern_buf_bytes(b, e, 2);
        } else if (c >= 0x20 && c < 0x7f) {
            tern_buf_bytes(b, &c, 1);
        } else {
            char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            tern_buf_bytes(b, e, 4);
        }
    }
}

tern_str tern_buf_text(const tern_buf *b) { return (tern_str){b->ptr, b->len}; }

/* ---- Output and the log ----------------------------------------------------------------------- */

int32_t tern_write_all(int32_t handle, const void *p, int32_t n) {
    const char *s = p;
    while (n > 0) {
        int32_t w = resource_write(handle, s, n);
        if (w < 0) return w;
        if (w == 0) return TERN_EUNKNOWN; /* no progress: give up rather than spin */
        s += w;
        n -= w;
    }
    return 0;
}

int32_t tern_print(tern_str s) { return tern_write_all(TERN_STDOUT, s.ptr, s.len); }

int32_t tern_eprint(tern_str s) { return tern_write_all(TERN_STDERR, s.ptr, s.len); }

void tern_log(int32_t level, tern_str s) { log_write(level, s.ptr, s.len); }

/* ---- Environment and arguments ---------------------------------------------------------------- */

/* The size protocol shared by env_get and startup_arg_at: a call with a small buffer returns the
 * length it needs and writes nothing; `get` is one such call. */
typedef int32_t (*sized_get)(const void *ctx, char *buf, int32_t len);

static int32_t get_sized(sized_get get, const void *ctx, tern_str *out) {
    char small[64];
    int32_t n = get(ctx, small, sizeof small);
    if (n < 0) return n;
    char *p = tern_alloc(n + 1);
    if (!p) return TERN_ELIMIT;
    if (n <= (int32_t)sizeof small) {
        memcpy(p, small, (size_t)n);
    } else {
        int32_t again = get(ctx, p, n);
        if (again < 0) return again;
        if (again != n) return TERN_EUNKNOWN; /* the value changed between the calls */
    }
    p[n] = 0;
    *out = (tern_str){p, n};
    return n;
}

static int32_t env_call(const void *ctx, char *buf, int32_t len) {
    const tern_str *key = ctx;
    return env_get(key->ptr, key->len, buf, len);
}

int32_t tern_env(tern_str key, tern_str *out) { return get_sized(env_call, &key, out); }

static int32_t arg_call(const void *ctx, char *buf, int32_t len) {
    return startup_arg_at(*(const int32_t *)ctx, buf, len);
}

int32_t tern_arg(int32_t i, tern_str *out) {
    /* Hosts differ on an index out of range (-2 now, -4 before 2026-12): ask the count first. */
    if (i < 0 || i >= startup_arg_len()) return TERN_ENOTFOUND;
    return get_sized(arg_call, &i, out);
}

int32_t tern_arg_count(void) { return startup_arg_len(); }

/* ---- Resources -------------------------------------------------------------------------------- */

int32_t tern_open(tern_str url) { return resource_open(url.ptr, url.len); }

int32_t tern_read_all(int32_t handle, int32_t max, tern_str *out) {
    int32_t cap = 256, len = 0;
    char *p = tern_alloc(cap);
    if (!p) return TERN_ELIMIT;
    for (;;) {
        if (len == cap) {
            if (cap > max) return TERN_ELIMIT;
            char *bigger = tern_alloc(cap * 2);
            if (!bigger) return TERN_ELIMIT;
            memcpy(bigger, p, (size_t)len);
            p = bigger;
            cap *= 2;
        }
        int32_t n = resource_read(handle, p + len, cap - len);
        if (n == TERN_EOF) break;
        if (n < 0) return n;
        if (n == 0) return TERN_EUNKNOWN; /* a read of 0 bytes into a non-empty buffer: no progress */
        len += n;
    }
    if (len > max) return TERN_ELIMIT;
    *out = (tern_str){p, len};
    return len;
}

int32_t tern_read_url(tern_str url, int32_t max, tern_str *out) {
    int32_t h = tern_open(url);
    if (h < 0) return h;
    int32_t n = tern_read_all(h, max, out);
    resource_close(h);
    return n;
}
