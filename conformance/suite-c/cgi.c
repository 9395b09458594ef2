/* Run cgi: the module as a CGI handler behind `tern serve` (ABI.md §8). Each request names its case
 * in the path (/cgi/ID...); the module checks the request with tern_cgi.c's helpers and answers with
 * its TAP line for the case as the body (the harness checks status and headers). */
#include "suite.h"

int is_cgi_handler(void) {
    char buf[1];
    return env_get("GATEWAY_INTERFACE", 17, buf, 0) >= 0;
}

/* The value of a CGI variable, or "" when unset. */
static tern_str var(const char *name) {
    tern_str v;
    return tern_env(tern_cstr(name), &v) >= 0 ? v : TERN_LIT("");
}

static int request_line(const tern_cgi_request *req) { /* case 143 */
    EXPECT_BYTES(req->method, TERN_LIT("GET"), "REQUEST_METHOD");
    EXPECT_BYTES(req->path_info, TERN_LIT("/cgi/143/a b/c"), "PATH_INFO");
    EXPECT_BYTES(req->query_string, TERN_LIT("name=Ada%20L&x=1"), "QUERY_STRING");
    tern_str name = {"", 0};
    EXPECT_EQ(tern_cgi_query(req, TERN_LIT("name"), &name), 5, "tern_cgi_query(name)");
    EXPECT_BYTES(name, TERN_LIT("Ada L"), "tern_cgi_query(name)");
    return 0;
}

static int body(const tern_cgi_request *req) { /* case 144 */
    EXPECT_BYTES(req->method, TERN_LIT("POST"), "REQUEST_METHOD");
    EXPECT_BYTES(req->content_type, TERN_LIT("text/plain; charset=utf-8"), "CONTENT_TYPE");
    EXPECT_BYTES(var("CONTENT_LENGTH"), TERN_LIT("15"), "CONTENT_LENGTH");
    EXPECT_BYTES(req->body, TERN_LIT("hello, handler\n"), "the body");
    return 0;
}

static int headers(void) { /* case 145 */
    tern_str value = {"", 0};
    EXPECT_EQ(tern_cgi_header(TERN_LIT("x-conformance"), &value), 11, "tern_cgi_header(x-conformance)");
    EXPECT_BYTES(value, TERN_LIT("yes, really"), "tern_cgi_header(x-conformance)");
    tern_str listed = concat3(TERN_LIT(","), var("TERN_HTTP_HEADERS"), TERN_LIT(","));
    detail(listed);
    ENSURE(tern_find(listed, TERN_LIT(",HTTP_X_CONFORMANCE,")) >= 0, "TERN_HTTP_HEADERS does not list HTTP_X_CONFORMANCE");
    return 0;
}

/* Answers one request: the case's checks, then a response whose body is the TAP line (written by
 * `report`, which prints on stdout like any run's TAP). */
int32_t serve_cgi(void (*report)(uint32_t id, int ok)) {
    tern_cgi_request req;
    int32_t e = tern_cgi_read_request(&req, 1 << 20);
    int64_t id = 0;
    if (e == 0 && tern_starts_with(req.path_info, TERN_LIT("/cgi/"))) {
        tern_str rest = tern_slice(req.path_info, 5, req.path_info.len);
        int32_t slash = tern_find(rest, TERN_LIT("/"));
        tern_parse_i64(slash < 0 ? rest : tern_slice(rest, 0, slash), &id);
    }
    int failed;
    if (e < 0) failed = fail_eq("tern_cgi_read_request", e, 0);
    else if (id == 143) failed = request_line(&req);
    else if (id == 144) failed = body(&req);
    else if (id == 145) failed = headers();
    else if (id == 146) failed = 0;
    else failed = fail("no CGI case for this path");
    tern_cgi_response res;
    tern_cgi_begin(&res, id == 146 ? 404 : 200, 0);
    if (id == 146) tern_cgi_header_out(&res, TERN_LIT("X-Conformance-Reply"), TERN_LIT("c146"));
    tern_cgi_header_out(&res, TERN_LIT("Content-Type"), TERN_LIT("text/plain; charset=utf-8"));
    tern_cgi_body(&res, TERN_LIT("# sdk: " TERN_SDK_NAME " (C) " TERN_SDK_VERSION "\n"));
    report((uint32_t)id, !failed);
    return tern_cgi_end(&res) < 0;
}
