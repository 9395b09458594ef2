/* The C conformance suite: shared declarations. See main.c and conformance/README.md. */
#ifndef SUITE_H
#define SUITE_H

#include "tern_sdk.h"

/* A case returns 0 when it passed, or 1 after writing its reason with one of the fail functions. */
int fail(const char *what);
int fail_eq(const char *what, int64_t got, int64_t want);
int fail_got(const char *what, int64_t got); /* "what (detail): got N" */
int fail_bytes(const char *what, tern_str got, tern_str want);
/* Adds a detail (a URL, a handle) to the next failure's reason: "what (detail): …". */
void detail(tern_str s);

#define TRY(x) do { int r_ = (x); if (r_) return r_; } while (0)
#define ENSURE(cond, what) do { if (!(cond)) return fail(what); } while (0)
#define EXPECT_EQ(got, want, what) \
    do { int64_t g_ = (got), w_ = (want); if (g_ != w_) return fail_eq((what), g_, w_); } while (0)
#define EXPECT_BYTES(got, want, what) \
    do { tern_str gb_ = (got), wb_ = (want); if (!tern_str_eq(gb_, wb_)) return fail_bytes((what), gb_, wb_); } while (0)

/* Helpers shared by the cases (util.c). */
int opened(tern_str url, int32_t *h);       /* fails unless resource_open gives a handle > 2 */
/* Declares `h` and opens the literal `url` into it, failing the case unless that gives a handle > 2. */
#define WITH(url, h) int32_t h; TRY(opened(TERN_LIT(url), &h))
/* Closes `h`, then fails unless `got` (what a call on `h` returned, evaluated before the close) is
 * `want`: the last step of the many cases that open a handle, make one call and check its result. */
int close_and_expect(int32_t h, int32_t got, int32_t want, const char *what);
/* The same for two results, checked in this order. */
int close_and_expect2(int32_t h, int32_t got_a, int32_t want_a, const char *what_a, int32_t got_b, int32_t want_b,
                      const char *what_b);
int open_fails(tern_str url, int32_t want); /* fails unless resource_open returns `want` */
int write_whole(int32_t h, tern_str bytes); /* one resource_write that must take every byte */
int read_to_eof(int32_t h, tern_str *out);  /* reads until -5; any other error fails */
int conf_dir(tern_str *out);                /* $TERN_CONFORMANCE_DIR */
int file_url(const char *rest, tern_str *out);
tern_str concat3(tern_str a, tern_str b, tern_str c);
tern_str bytes_of(const void *p, int32_t n);
int all_bytes(const unsigned char *p, int32_t n, unsigned char value);

/* A fresh page at the end of memory with a 2-byte marker just below the end (raw.rs in Rust). */
typedef struct { uint32_t end; } edge;
edge edge_grow(void);
int32_t edge_near_end(edge e);
int edge_untouched(edge e);              /* fails if memory grew or the marker changed */
/* Fails unless a call with a buffer at the end of memory returned -2 (`got`) and left the marker. */
int expect_out_of_bounds(edge e, int32_t got, const char *what);
int32_t edge_put_at_end(edge e, tern_str bytes);

/* The imports the SDK declares with pointer types, here with the ABI's raw i32 addresses. */
#define RAW(name) __attribute__((import_module("cwa"), import_name(#name)))
RAW(log_write) void raw_log_write(int32_t level, int32_t ptr, int32_t len);
RAW(env_get) int32_t raw_env_get(int32_t key, int32_t key_len, int32_t val, int32_t val_len);
RAW(runtime_name) int32_t raw_runtime_name(int32_t ptr, int32_t len);
RAW(startup_arg_at) int32_t raw_startup_arg_at(int32_t i, int32_t ptr, int32_t len);
RAW(random_fill) int32_t raw_random_fill(int32_t ptr, int32_t len);
RAW(resource_open) int32_t raw_resource_open(int32_t ptr, int32_t len);
RAW(resource_read) int32_t raw_resource_read(int32_t h, int32_t ptr, int32_t len);
RAW(resource_write) int32_t raw_resource_write(int32_t h, int32_t ptr, int32_t len);
#undef RAW
#define ENVMOD(name) __attribute__((import_module("env"), import_name(#name)))
ENVMOD(runtime_spec_major) int32_t env_runtime_spec_major(void);
ENVMOD(io_get_stdout) int32_t env_io_get_stdout(void);
ENVMOD(env_get) int32_t env_env_get(const char *key, int32_t key_len, char *val, int32_t val_len);
#undef ENVMOD
#define ADDR(p) ((int32_t)(uintptr_t)(p))

/* The TAP stream of the current run (util.c), for cases that print comments. */
extern int32_t tap_handle;

/* Case implementations: cN returns 0 (passed) or 1 (failed, with a reason). */
#define CASE(n) int c##n(void)
#endif
