/*
 * tern_sdk.h — a small freestanding helper library over tern.h: strings, a text builder, memory,
 * environment variables and arguments (with the ABI's size protocol), reading a whole resource, and
 * CGI requests and responses for handlers run by `tern serve`. No libc: build tern_sdk.c with the
 * guest, e.g.
 *
 *   clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wl,--export=cwa_main \
 *       -o handler.wasm handler.c tern_sdk.c
 *
 * Memory comes from a bump allocator (tern_alloc) that grows linear memory and never frees: a guest
 * runs once per request or command, so that is all it needs.
 */
#ifndef TERN_SDK_H
#define TERN_SDK_H

#include "tern.h"

#define TERN_SDK_NAME "tern-c"
#define TERN_SDK_VERSION "0.1.0"

/* ---- Strings: a pointer and a length, not NUL-terminated ---------------------------------------- */

typedef struct {
    const char *ptr;
    int32_t len;
} tern_str;

/* A tern_str of a string literal (its length is known at compile time). */
#define TERN_LIT(lit) ((tern_str){(lit), (int32_t)(sizeof(lit) - 1)})

tern_str tern_cstr(const char *s);
int tern_str_eq(tern_str a, tern_str b);
int tern_starts_with(tern_str s, tern_str prefix);
int tern_ends_with(tern_str s, tern_str suffix);
/* The offset of the first `needle` in `s`, or -1. */
int32_t tern_find(tern_str s, tern_str needle);
tern_str tern_slice(tern_str s, int32_t from, int32_t to);
/* Parses a decimal integer (an optional '-', then digits); returns 0 and sets *out, or -1. */
int tern_parse_i64(tern_str s, int64_t *out);

/* ---- Memory -------------------------------------------------------------------------------------- */

/* The C library's memory functions, which clang may also emit calls to (defined in tern_sdk.c). */
void *memcpy(void *dst, const void *src, __SIZE_TYPE__ n);
void *memmove(void *dst, const void *src, __SIZE_TYPE__ n);
void *memset(void *dst, int c, __SIZE_TYPE__ n);
int memcmp(const void *a, const void *b, __SIZE_TYPE__ n);

/* `size` bytes, 8-aligned, or NULL when memory cannot grow. Never freed. */
void *tern_alloc(int32_t size);
/* A copy of `s` in fresh memory (NUL-terminated too, for dagger.open and friends). */
tern_str tern_dup(tern_str s);

/* ---- A text builder over a caller's buffer (writes past its capacity are counted, not made) ------ */

typedef struct {
    char *ptr;
    int32_t len;
    int32_t cap;
    int overflow; /* set when something did not fit */
} tern_buf;

void tern_buf_init(tern_buf *b, char *mem, int32_t cap);
void tern_buf_bytes(tern_buf *b, const void *p, int32_t n);
void tern_buf_str(tern_buf *b, tern_str s);
void tern_buf_cstr(tern_buf *b, const char *s);
void tern_buf_i64(tern_buf *b, int64_t v);
/* Bytes as text a reader can tell apart: printable ASCII as is, \n \r \t \\ \" escaped, others \xNN. */
void tern_buf_escaped(tern_buf *b, const void *p, int32_t n);
tern_str tern_buf_text(const tern_buf *b);

/* ---- Output and the log ------------------------------------------------------------------------- */

/* Writes all of `n` bytes to `handle`, looping over short writes; 0 or a negative error number. */
int32_t tern_write_all(int32_t handle, const void *p, int32_t n);
int32_t tern_print(tern_str s);  /* to stdout */
int32_t tern_eprint(tern_str s); /* to stderr */
void tern_log(int32_t level, tern_str s);

/* ---- Environment and arguments (ABI.md §3: ask, and ask again with the size the host returned) ---- */

/* The value of `key` in fresh memory: its length (>= 0), or TERN_ENOTFOUND, or another error. */
int32_t tern_env(tern_str key, tern_str *out);
/* Argument `i` (0 is the program name) in fresh memory: its length, or TERN_ENOTFOUND. */
int32_t tern_arg(int32_t i, tern_str *out);
/* How many arguments there are (startup_arg_len). */
int32_t tern_arg_count(void);

/* ---- Resources -------------------------------------------------------------------------------- */

/* resource_open of a tern_str URL. */
int32_t tern_open(tern_str url);
/* Reads `handle` until its end (-5) into fresh memory: the length, or a negative error number
 * (TERN_ELIMIT when there is more than `max` bytes). */
int32_t tern_read_all(int32_t handle, int32_t max, tern_str *out);
/* Opens `url`, reads it whole, closes it: as tern_read_all, or the open's error. */
int32_t tern_read_url(tern_str url, int32_t max, tern_str *out);

/* ---- CGI (RFC 3875) for handlers run by `tern serve` ------------------------------------------- */

typedef struct {
    tern_str method;       /* REQUEST_METHOD */
    tern_str path_info;    /* PATH_INFO, empty if unset */
    tern_str query_string; /* QUERY_STRING, empty if unset */
    tern_str content_type; /* CONTENT_TYPE, empty if unset */
    tern_str body;         /* CONTENT_LENGTH bytes of stdin, or all of it when unset */
} tern_cgi_request;

/* Reads the request: 0, TERN_ENOTFOUND without REQUEST_METHOD, TERN_EINVAL for a bad
 * CONTENT_LENGTH or a body shorter than it, TERN_ELIMIT for a body over `max_body` bytes. */
int32_t tern_cgi_read_request(tern_cgi_request *req, int32_t max_body);
/* A request header by its HTTP name ("User-Agent" is HTTP_USER_AGENT): its length or TERN_ENOTFOUND. */
int32_t tern_cgi_header(tern_str name, tern_str *out);
/* The decoded value of the first query parameter `name` (+ is a space, %XX a byte): its length or
 * TERN_ENOTFOUND. */
int32_t tern_cgi_query(const tern_cgi_request *req, tern_str name, tern_str *out);

/* A response written to stdout: the status line, headers, a blank line, then the body. */
typedef struct {
    int head_done;
    int has_content_type;
    int32_t error; /* the first write error, or 0 */
} tern_cgi_response;

/* Starts a response: "Status: CODE REASON" (a known reason when `reason` is NULL). */
void tern_cgi_begin(tern_cgi_response *r, int32_t code, const char *reason);
/* A header line; CR and LF are dropped from name and value (no header injection). */
void tern_cgi_header_out(tern_cgi_response *r, tern_str name, tern_str value);
/* Body bytes; the first call ends the head (adding Content-Type: application/octet-stream when
 * no Content-Type was given). */
void tern_cgi_body(tern_cgi_response *r, tern_str bytes);
/* Ends the response (the head, if no body was written): 0 or the first write error. */
int32_t tern_cgi_end(tern_cgi_response *r);

#endif /* TERN_SDK_H */
