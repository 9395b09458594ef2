//! cgi.zig — a CGI handler for `tern serve` in Zig: greets ?name= (or "world"), echoes the method,
//! path and body length.
//!
//!     zig build-exe -target wasm32-freestanding -fno-entry --export=cwa_main -O ReleaseSmall \
//!         --dep tern -Mroot=guest-sdk/zig/examples/cgi.zig -Mtern=guest-sdk/zig/tern.zig
//!     tern run --env REQUEST_METHOD=GET --env QUERY_STRING=name=Ada cgi.wasm </dev/null
const std = @import("std");
const tern = @import("tern");

export fn cwa_main() i32 {
    const allocator = std.heap.wasm_allocator;
    const req = tern.cgi.Request.read(allocator, 1 << 20) catch {
        var bad = tern.cgi.Response.begin(400, "Bad Request");
        bad.header("Content-Type", "text/plain; charset=utf-8");
        bad.body("not a CGI request\n");
        bad.end() catch return 1;
        return 0;
    };
    const name = req.query(allocator, "name") orelse "world";
    var buf: [512]u8 = undefined;
    const text = std.fmt.bufPrint(&buf, "hello, {s} ({s} {s}, {d} bytes)\n", .{ name, req.method, req.path_info, req.body.len }) catch "hello\n";
    var res = tern.cgi.Response.begin(200, "OK");
    res.header("Content-Type", "text/plain; charset=utf-8");
    res.body(text);
    res.end() catch return 1;
    return 0;
}
