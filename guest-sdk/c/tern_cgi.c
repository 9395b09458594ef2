/* tern_cgi.c — the CGI helpers of tern_sdk.h: the request from the environment and stdin, and a
 * response of a Status line, header lines, a blank line and the body on stdout (RFC 3875 §6). */
#include "tern_sdk.h"

static tern_str env_or_empty(const char *key) {
    tern_str v = {"", 0};
    if (tern_env(tern_cstr(key), &v) < 0) v = (tern_str){"", 0};
    return v;
}

/* Reads exactly `want` bytes of stdin; TERN_EINVAL when it ends sooner. */
static int32_t read_exactly(int32_t want, tern_str *out) {
    char *p = tern_alloc(want);
    if (!p) return TERN_ELIMIT;
    int32_t got = 0;
    while (got < want) {
        int32_t n = resource_read(TERN_STDIN, p + got, want - got);
        if (n == TERN_EOF) return TERN_EINVAL;
        if (n <= 0) return n < 0 ? n : TERN_EUNKNOWN;
        got += n;
    }
    *out = (tern_str){p, want};
    return want;
}

int32_t tern_cgi_read_request(tern_cgi_request *req, int32_t max_body) {
    int32_t e = tern_env(TERN_LIT("REQUEST_METHOD"), &req->method);
    if (e < 0) return e;
    req->path_info = env_or_empty("PATH_INFO");
    req->query_string = env_or_empty("QUERY_STRING");
    req->content_type = env_or_empty("CONTENT_TYPE");
    tern_str length;
    if (tern_env(TERN_LIT("CONTENT_LENGTH"), &length) >= 0 && length.len > 0) {
        int64_t n;
        if (tern_parse_i64(length, &n) != 0 || n < 0) return TERN_EINVAL;
        if (n > max_body) return TERN_ELIMIT;
        e = read_exactly((int32_t)n, &req->body);
    } else {
        e = tern_read_all(TERN_STDIN, max_body, &req->body);
    }
    return e < 0 ? e : 0;
}

int32_t tern_cgi_header(tern_str name, tern_str *out) {
    char key[128];
    tern_buf b;
    tern_buf_init(&b, key, sizeof key);
    tern_buf_cstr(&b, "HTTP_");
    for (int32_t i = 0; i < name.len; i++) {
        char c = name.ptr[i];
        if (c == '-') c = '_';
        else if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
        tern_buf_bytes(&b, &c, 1);
    }
    if (b.overflow) return TERN_ENOTFOUND;
    return tern_env(tern_buf_text(&b), out);
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* application/x-www-form-urlencoded: + is a space, %XX a byte; a malformed escape stays as is. */
static tern_str form_decode(tern_str s) {
    char *p = tern_alloc(s.len + 1);
    if (!p) return (tern_str){"", 0};
    int32_t n = 0;
    for (int32_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (c == '+') c = ' ';
        else if (c == '%' && i + 2 < s.len) {
            int hi = hex_value(s.ptr[i + 1]), lo = hex_value(s.ptr[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = (char)(hi * 16 + lo);
                i += 2;
            }
        }
        p[n++] = c;
    }
    p[n] = 0;
    return (tern_str){p, n};
}

int32_t tern_cgi_query(const tern_cgi_request *req, tern_str name, tern_str *out) {
    tern_str rest = req->query_string;
    while (rest.len > 0) {
        int32_t amp = tern_find(rest, TERN_LIT("&"));
        tern_str pair = amp < 0 ? rest : tern_slice(rest, 0, amp);
        rest = amp < 0 ? (tern_str){"", 0} : tern_slice(rest, amp + 1, rest.len);
        int32_t eq = tern_find(pair, TERN_LIT("="));
        tern_str key = eq < 0 ? pair : tern_slice(pair, 0, eq);
        tern_str value = eq < 0 ? (tern_str){"", 0} : tern_slice(pair, eq + 1, pair.len);
        if (tern_str_eq(form_decode(key), name)) {
            *out = form_decode(value);
            return out->len;
        }
    }
    return TERN_ENOTFOUND;
}

static const char *reason_of(int32_t code) {
    switch (code) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "";
    }
}

static void out(tern_cgi_response *r, tern_str s) {
    if (r->error) return;
    int32_t e = tern_print(s);
    if (e < 0) r->error = e;
}

/* Writes `v` in decimal. */
static void out_i64(tern_cgi_response *r, int64_t v) {
    char digits[24];
    tern_buf b;
    tern_buf_init(&b, digits, sizeof digits);
    tern_buf_i64(&b, v);
    out(r, tern_buf_text(&b));
}

/* Writes `s` without CR and LF. */
static void out_clean(tern_cgi_response *r, tern_str s) {
    int32_t start = 0;
    for (int32_t i = 0; i <= s.len; i++) {
        if (i == s.len || s.ptr[i] == '\r' || s.ptr[i] == '\n') {
            out(r, tern_slice(s, start, i));
            start = i + 1;
        }
    }
}

void tern_cgi_begin(tern_cgi_response *r, int32_t code, const char *reason) {
    r->head_done = 0;
    r->has_content_type = 0;
    r->error = 0;
    out(r, TERN_LIT("Status: "));
    out_i64(r, code);
    out(r, TERN_LIT(" "));
    out_clean(r, tern_cstr(reason ? reason : reason_of(code)));
    out(r, TERN_LIT("\r\n"));
}

static int is_content_type(tern_str name) {
    tern_str want = TERN_LIT("content-type");
    if (name.len != want.len) return 0;
    for (int32_t i = 0; i < name.len; i++) {
        char c = name.ptr[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != want.ptr[i]) return 0;
    }
    return 1;
}

void tern_cgi_header_out(tern_cgi_response *r, tern_str name, tern_str value) {
    if (r->head_done) return;
    if (is_content_type(name)) r->has_content_type = 1;
    out_clean(r, name);
    out(r, TERN_LIT(": "));
    out_clean(r, value);
    out(r, TERN_LIT("\r\n"));
}

static void end_head(tern_cgi_response *r, int has_body) {
    if (r->head_done) return;
    if (has_body && !r->has_content_type) {
        out(r, TERN_LIT("Content-Type: application/octet-stream\r\n"));
    }
    out(r, TERN_LIT("\r\n"));
    r->head_done = 1;
}

void tern_cgi_body(tern_cgi_response *r, tern_str bytes) {
    end_head(r, 1);
    out(r, bytes);
}

int32_t tern_cgi_end(tern_cgi_response *r) {
    end_head(r, 0);
    return r->error;
}
