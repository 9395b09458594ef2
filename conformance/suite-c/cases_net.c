/* The network schemes (ABI.md §4.2) against the loopback servers the harness starts for run net. */
#include "suite.h"

/* A server address (127.0.0.1:PORT) the harness passes as $NET_…. */
static int server(const char *var, tern_str *out) {
    if (tern_env(tern_cstr(var), out) > 0) return 0;
    detail(tern_cstr(var));
    return fail("a server variable is not set (the harness passes it in run net)");
}

/* scheme://$VAR + path */
static int url_of(const char *scheme, const char *var, const char *path, tern_str *out) {
    tern_str addr;
    TRY(server(var, &addr));
    *out = concat3(tern_cstr(scheme), addr, tern_cstr(path));
    return 0;
}

static int open_at(const char *scheme, const char *var, const char *path, int32_t *h) {
    tern_str url;
    TRY(url_of(scheme, var, path, &url));
    return opened(url, h);
}

/* A response as the guest reads it: the status line, the head's other lines, the body. */
typedef struct { tern_str status, head, body; } response;

/* Reads `h` until -5 and splits the HTTP/1.1 response text. */
static int read_response(int32_t h, response *r) {
    tern_str all;
    TRY(read_to_eof(h, &all));
    int32_t blank = tern_find(all, TERN_LIT("\r\n\r\n"));
    if (blank < 0) {
        detail(all);
        return fail("no blank line after the response head");
    }
    tern_str head = tern_slice(all, 0, blank);
    int32_t eol = tern_find(head, TERN_LIT("\r\n"));
    r->status = eol < 0 ? head : tern_slice(head, 0, eol);
    /* The header lines, each framed by CRLF so a whole line can be searched for. */
    r->head = concat3(TERN_LIT(""), eol < 0 ? TERN_LIT("") : tern_slice(head, eol, head.len), TERN_LIT("\r\n"));
    r->body = tern_slice(all, blank + 4, all.len);
    return 0;
}

/* Whether the head has exactly this header line (`name: value`). */
static int has(const response *r, const char *line) {
    return tern_find(r->head, concat3(TERN_LIT("\r\n"), tern_cstr(line), TERN_LIT("\r\n"))) >= 0;
}

static int expect_response(int32_t h, const char *status, tern_str body, response *r) {
    TRY(read_response(h, r));
    EXPECT_BYTES(r->status, tern_cstr(status), "status line");
    EXPECT_BYTES(r->body, body, "body");
    return 0;
}

/* One exchange on `h`: writes `request`, flushes (which must return 0; `flush_what` names the flush in
 * a failure), and reads the response, which must have this status line and body. */
static int exchange(int32_t h, tern_str request, const char *flush_what, const char *status, tern_str body,
                    response *r) {
    TRY(write_whole(h, request));
    EXPECT_EQ(resource_flush(h), 0, flush_what);
    return expect_response(h, status, body, r);
}

/* Fails unless resource_open of scheme://$VAR + path returns `want`. */
static int open_at_fails(const char *scheme, const char *var, const char *path, int32_t want) {
    tern_str url;
    TRY(url_of(scheme, var, path, &url));
    return open_fails(url, want);
}

/* Opens `url`, writes `request`, and checks that the flush returns `want`. */
static int flush_fails(tern_str url, tern_str request, int32_t want) {
    int32_t h;
    TRY(opened(url, &h));
    int r = write_whole(h, request);
    int32_t f = resource_flush(h);
    resource_close(h);
    TRY(r);
    detail(request);
    EXPECT_EQ(f, want, "resource_flush after the request");
    return 0;
}

/* Declares `h` and opens http://$NET_HTTP + path into it. */
#define HTTP(path, h) int32_t h; TRY(open_at("http://", "NET_HTTP", path, &h))
/* Evaluates `expr` (a check on `h`), closes `h`, and returns the check's failure if it failed. */
#define CLOSE_AFTER(h, expr) do { int e_ = (expr); resource_close(h); if (e_) return e_; } while (0)

/* Opens scheme://$VAR + path, reads the response into `r` and closes: fails unless the response has
 * this status line and body. */
static int get_response(const char *scheme, const char *var, const char *path, const char *status, tern_str body,
                        response *r) {
    int32_t h;
    TRY(open_at(scheme, var, path, &h));
    CLOSE_AFTER(h, expect_response(h, status, body, r));
    return 0;
}

CASE(116) {
    response r;
    TRY(get_response("http://", "NET_HTTP", "/pub/hello", "HTTP/1.1 200 OK", TERN_LIT("hello, http\n"), &r));
    ENSURE(has(&r, "content-length: 12"), "no \"content-length: 12\" header line");
    return 0;
}

CASE(117) {
    HTTP("/pub/echo", h);
    response r;
    int e = write_whole(h, TERN_LIT("POST /pub/echo HTTP/1.1\r\nContent-Length: 5\r\n\r\n"));
    if (!e) e = exchange(h, TERN_LIT("hello"), "resource_flush", "HTTP/1.1 200 OK", TERN_LIT("hello"), &r);
    CLOSE_AFTER(h, e);
    ENSURE(has(&r, "x-method: POST"), "no \"x-method: POST\" header line");
    return 0;
}

CASE(118) {
    tern_str url, addr;
    TRY(url_of("http://", "NET_HTTP", "/pub/hello", &url));
    TRY(flush_fails(url, TERN_LIT("GET /pub/hello HTTP/1.1\r\nHost: example.com\r\n\r\n"), TERN_EPERM));
    TRY(server("NET_HTTP", &addr));
    int32_t h;
    TRY(opened(url, &h));
    response r;
    CLOSE_AFTER(h, exchange(h, concat3(TERN_LIT("GET /pub/hello HTTP/1.1\r\nHost: "), addr, TERN_LIT("\r\n\r\n")),
                            "resource_flush with the opened Host", "HTTP/1.1 200 OK", TERN_LIT("hello, http\n"), &r));
    return 0;
}

CASE(119) {
    tern_str url;
    TRY(url_of("http://", "NET_HTTP", "/pub/hello", &url));
    TRY(flush_fails(url, TERN_LIT("GET /secret/data HTTP/1.1\r\n\r\n"), TERN_EPERM));
    return flush_fails(url, TERN_LIT("GET http://example.com/ HTTP/1.1\r\n\r\n"), TERN_EPERM);
}

CASE(120) {
    response r;
    TRY(get_response("http://", "NET_HTTP", "/pub/chunked", "HTTP/1.1 200 OK", TERN_LIT("chunk one\nchunk two\n"),
                     &r));
    ENSURE(tern_find(r.head, TERN_LIT("\r\ntransfer-encoding")) < 0, "the head still has transfer-encoding");
    return 0;
}

CASE(121) {
    response r;
    return get_response("http://", "NET_HTTP", "/pub/missing", "HTTP/1.1 404 Not Found", TERN_LIT("no such page\n"),
                        &r);
}

CASE(122) {
    response r;
    return get_response("http://", "NET_HTTP", "/pub/redirect", "HTTP/1.1 200 OK", TERN_LIT("hello, http\n"), &r);
}

CASE(123) {
    HTTP("/pub/redirect-out", h);
    response r;
    CLOSE_AFTER(h, read_response(h, &r));
    EXPECT_BYTES(r.status, TERN_LIT("HTTP/1.1 302 Found"), "status line");
    ENSURE(has(&r, "location: /secret/data"), "no \"location: /secret/data\" header line");
    return 0;
}

CASE(124) {
    tern_str url, addr;
    TRY(url_of("http://", "NET_HTTP", "/pub/echo", &url));
    TRY(flush_fails(url,
                    TERN_LIT("POST /pub/echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
                    TERN_EUNSUPPORTED));
    TRY(server("NET_HTTP", &addr));
    return flush_fails(url, concat3(TERN_LIT("CONNECT "), addr, TERN_LIT(" HTTP/1.1\r\n\r\n")), TERN_EUNSUPPORTED);
}

CASE(125) {
    tern_str url;
    TRY(url_of("http://", "NET_HTTP", "/pub/echo", &url));
    return flush_fails(url, TERN_LIT("POST /pub/echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nhello"), TERN_EINVAL);
}

/* Reads `h` until an error number (or a read of 0) and returns it. */
static int32_t read_until_error(int32_t h) {
    static char buf[512];
    for (;;) {
        int32_t n = resource_read(h, buf, sizeof buf);
        if (n <= 0) return n;
    }
}

CASE(126) {
    HTTP("/pub/big", h);
    return close_and_expect(h, read_until_error(h), TERN_ELIMIT,
                            "reading a 4096-byte body under --max-response-size 1K");
}

CASE(127) {
    HTTP("/pub/slow", h);
    return close_and_expect(h, read_until_error(h), TERN_ETIMEOUT, "reading /pub/slow");
}

CASE(128) {
    HTTP("/pub/hello", h);
    response r;
    int e = 0;
    for (int i = 0; i < 2 && !e; i++) {
        e = exchange(h, TERN_LIT("GET /pub/hello HTTP/1.1\r\n\r\n"), "resource_flush of an exchange", "HTTP/1.1 200 OK",
                     TERN_LIT("hello, http\n"), &r);
    }
    resource_close(h);
    return e;
}

CASE(129) {
    HTTP("/pub/echo", h);
    int e = write_whole(h, TERN_LIT("GET /pub/echo HTTP/1.1\r\n\r\n"));
    response r;
    if (!e) e = expect_response(h, "HTTP/1.1 200 OK", TERN_LIT(""), &r);
    resource_close(h);
    TRY(e);
    ENSURE(has(&r, "x-method: GET"), "no \"x-method: GET\" header line");
    return 0;
}

CASE(130) { return open_at_fails("http://", "NET_HTTP", "/secret/data", TERN_EPERM); }

CASE(131) {
    response r;
    return get_response("https://", "NET_HTTPS", "/pub/hello", "HTTP/1.1 200 OK", TERN_LIT("hello, http\n"), &r);
}

/* Writes `message` to an echo connection and reads the same bytes back. */
static int echo(const char *scheme, const char *var, tern_str message) {
    int32_t h;
    TRY(open_at(scheme, var, "", &h));
    int e = write_whole(h, message);
    int32_t f = e ? 0 : resource_flush(h);
    char back[64];
    int32_t got = 0;
    while (!e && got < message.len) {
        int32_t n = resource_read(h, back + got, message.len - got);
        if (n <= 0) e = fail_eq("resource_read of the echo", n, message.len - got);
        else got += n;
    }
    resource_close(h);
    TRY(e);
    EXPECT_EQ(f, 0, "resource_flush");
    EXPECT_BYTES(bytes_of(back, got), message, "the echo");
    return 0;
}

CASE(132) { return echo("tcp://", "NET_TCP_ECHO", TERN_LIT("ping\n")); }

CASE(133) {
    int32_t h;
    TRY(open_at("tcp://", "NET_TCP_HELLO", "", &h));
    tern_str all;
    CLOSE_AFTER(h, read_to_eof(h, &all));
    EXPECT_BYTES(all, TERN_LIT("hello, tcp\n"), "what tcp_hello sent");
    return 0;
}

CASE(134) { return open_fails(TERN_LIT("tls://localhost"), TERN_EINVAL); }

CASE(135) { return open_at_fails("tcp://", "NET_TCP_CLOSED", "", TERN_ECONNECT); }

CASE(136) {
    int32_t h;
    TRY(open_at("tcp://", "NET_TCP_SILENT", "", &h));
    char buf[16];
    return close_and_expect(h, resource_read(h, buf, 16), TERN_ETIMEOUT, "resource_read(tcp_silent)");
}

CASE(137) { return open_at_fails("tcp://localhost:", "NET_TCP_ECHO_PORT", "", TERN_EPERM); }

CASE(138) { return echo("tls://", "NET_TLS_ECHO", TERN_LIT("ping over tls\n")); }

CASE(139) { return open_at_fails("tls://", "NET_TLS_UNTRUSTED", "", TERN_ECONNECT); }

/* Whether `s` is an IPv4 address: four decimal numbers up to 255. */
static int is_ipv4(tern_str s) {
    int dots = 0, digits = 0, value = 0;
    for (int32_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (c >= '0' && c <= '9') {
            value = value * 10 + (c - '0');
            if (++digits > 3 || value > 255) return 0;
        } else if (c == '.' && digits > 0) {
            dots++, digits = 0, value = 0;
        } else {
            return 0;
        }
    }
    return dots == 3 && digits > 0;
}

/* Whether `s` looks like an IPv6 address: hex digits, at least two colons, maybe an IPv4 tail. */
static int is_ipv6(tern_str s) {
    int colons = 0;
    for (int32_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (c == ':') colons++;
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.')) return 0;
    }
    return colons >= 2;
}

CASE(140) {
    WITH("dns://localhost", h);
    tern_str text;
    int e = read_to_eof(h, &text);
    int32_t w = resource_write(h, "x", 1);
    resource_close(h);
    TRY(e);
    detail(text);
    ENSURE(text.len > 0 && text.ptr[text.len - 1] == '\n', "the answer does not end with a newline");
    int loopback = 0;
    tern_str rest = text;
    while (rest.len > 0) {
        int32_t nl = tern_find(rest, TERN_LIT("\n"));
        tern_str line = tern_slice(rest, 0, nl);
        rest = tern_slice(rest, nl + 1, rest.len);
        ENSURE(is_ipv4(line) || is_ipv6(line), "a line is not an address");
        ENSURE(tern_find(concat3(TERN_LIT("\n"), rest, TERN_LIT("")), concat3(TERN_LIT("\n"), line, TERN_LIT("\n"))) < 0,
               "an address is listed twice");
        if (tern_str_eq(line, TERN_LIT("127.0.0.1")) || tern_str_eq(line, TERN_LIT("::1"))) loopback = 1;
    }
    ENSURE(loopback, "localhost did not resolve to 127.0.0.1 or ::1");
    EXPECT_EQ(w, TERN_EUNSUPPORTED, "resource_write(dns://)");
    return 0;
}

CASE(141) { return open_fails(TERN_LIT("dns://conformance-test.invalid"), TERN_ENOTFOUND); }

CASE(142) {
    TRY(open_fails(TERN_LIT("tcp://127.0.0.1:1"), TERN_EPERM));
    TRY(open_fails(TERN_LIT("dns://example.com"), TERN_EPERM));
    return open_at_fails("https://", "NET_HTTPS", "/secret/data", TERN_EPERM);
}
