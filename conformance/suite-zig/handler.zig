//! Run cgi: the module as a CGI handler behind `tern serve` (ABI.md §8). Each request names its
//! case in the path (/cgi/ID...); the module checks the request with the package's `cgi` module and
//! answers with its TAP line for the case as the body (the harness checks status and headers).

const std = @import("std");
const tern = @import("tern");
const c = @import("check.zig");
const Failed = c.Failed;

/// Whether the module runs as a CGI handler (`tern serve` sets GATEWAY_INTERFACE).
pub fn isHandler() bool {
    var buf: [1]u8 = undefined;
    return tern.env_get("GATEWAY_INTERFACE", 17, &buf, 0) >= 0;
}

/// The value of a CGI variable, or "" when unset.
fn variable(name: []const u8) []const u8 {
    return tern.sdk.env(c.allocator, name) catch "";
}

fn requestLine(req: tern.cgi.Request) Failed!void { // case 143
    try c.expectBytes(req.method, "GET", "REQUEST_METHOD", .{});
    try c.expectBytes(req.path_info, "/cgi/143/a b/c", "PATH_INFO", .{});
    try c.expectBytes(req.query_string, "name=Ada%20L&x=1", "QUERY_STRING", .{});
    const name = req.query(c.allocator, "name") orelse return c.fail("Request.query(\"name\") found nothing", .{});
    try c.expectBytes(name, "Ada L", "Request.query(\"name\")", .{});
}

fn body(req: tern.cgi.Request) Failed!void { // case 144
    try c.expectBytes(req.method, "POST", "REQUEST_METHOD", .{});
    try c.expectBytes(req.content_type, "text/plain; charset=utf-8", "CONTENT_TYPE", .{});
    try c.expectBytes(variable("CONTENT_LENGTH"), "15", "CONTENT_LENGTH", .{});
    try c.expectBytes(req.body, "hello, handler\n", "the body", .{});
}

fn headers(req: tern.cgi.Request) Failed!void { // case 145
    const value = req.header(c.allocator, "x-conformance") orelse return c.fail("Request.header(\"x-conformance\") found nothing", .{});
    try c.expectBytes(value, "yes, really", "Request.header(\"x-conformance\")", .{});
    const listed = variable("TERN_HTTP_HEADERS");
    var names = std.mem.splitScalar(u8, listed, ',');
    while (names.next()) |name| {
        if (std.mem.eql(u8, name, "HTTP_X_CONFORMANCE")) return;
    }
    return c.fail("TERN_HTTP_HEADERS \"{s}\" does not list HTTP_X_CONFORMANCE", .{listed});
}

/// Answers one request; `report` writes the TAP line of case `id` (on stdout: the body).
pub fn serve(report: fn (id: u32, verdict: Failed!void) void) i32 {
    const req = tern.cgi.Request.read(c.allocator, 1 << 20);
    var id: u32 = 0;
    if (req) |r| {
        if (std.mem.startsWith(u8, r.path_info, "/cgi/")) {
            var parts = std.mem.splitScalar(u8, r.path_info[5..], '/');
            id = std.fmt.parseInt(u32, parts.first(), 10) catch 0;
        }
    } else |_| {}
    const verdict: Failed!void = if (req) |r| switch (id) {
        143 => requestLine(r),
        144 => body(r),
        145 => headers(r),
        146 => {},
        else => c.fail("no CGI case for the path \"{s}\"", .{r.path_info}),
    } else |e| c.fail("Request.read: {s}", .{@errorName(e)});
    var res = tern.cgi.Response.begin(if (id == 146) 404 else 200, if (id == 146) "Not Found" else "OK");
    if (id == 146) res.header("X-Conformance-Reply", "c146");
    res.header("Content-Type", "text/plain; charset=utf-8");
    res.body("# sdk: " ++ tern.sdk.name ++ " (Zig) " ++ tern.sdk.version ++ "\n");
    report(id, verdict);
    res.end() catch return 1;
    return 0;
}
