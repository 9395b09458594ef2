/* hello_cgi.c — a CGI handler for `tern serve` in C with tern_sdk.h: greets ?name= (or "world") and
 * echoes the method, path and body length.
 *
 *   clang --target=wasm32 -O2 -ffreestanding -nostdlib -Wl,--no-entry -Wl,--export=cwa_main \
 *       -o hello_cgi.wasm hello_cgi.c tern_sdk.c tern_cgi.c
 *   tern run --env REQUEST_METHOD=GET --env QUERY_STRING=name=Ada hello_cgi.wasm </dev/null
 */
#include "tern_sdk.h"

__attribute__((export_name("cwa_main"))) int32_t cwa_main(void) {
    tern_cgi_request req;
    tern_cgi_response res;
    if (tern_cgi_read_request(&req, 1 << 20) < 0) {
        tern_cgi_begin(&res, 400, 0);
        tern_cgi_header_out(&res, TERN_LIT("Content-Type"), TERN_LIT("text/plain; charset=utf-8"));
        tern_cgi_body(&res, TERN_LIT("not a CGI request\n"));
        return tern_cgi_end(&res) < 0;
    }
    tern_str name;
    if (tern_cgi_query(&req, TERN_LIT("name"), &name) < 0) name = TERN_LIT("world");
    char text[512];
    tern_buf b;
    tern_buf_init(&b, text, sizeof text);
    tern_buf_cstr(&b, "hello, ");
    tern_buf_str(&b, name);
    tern_buf_cstr(&b, " (");
    tern_buf_str(&b, req.method);
    tern_buf_cstr(&b, " ");
    tern_buf_str(&b, req.path_info);
    tern_buf_cstr(&b, ", ");
    tern_buf_i64(&b, req.body.len);
    tern_buf_cstr(&b, " bytes)\n");
    tern_cgi_begin(&res, 200, 0);
    tern_cgi_header_out(&res, TERN_LIT("Content-Type"), TERN_LIT("text/plain; charset=utf-8"));
    tern_cgi_body(&res, tern_buf_text(&b));
    return tern_cgi_end(&res) < 0;
}
