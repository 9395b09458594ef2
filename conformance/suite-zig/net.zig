//! Cases 116-142: the network schemes (ABI.md §4.2) against the loopback servers the harness starts
//! for run net.

const std = @import("std");
const tern = @import("tern");
const c = @import("check.zig");
const Failed = c.Failed;

/// A server address (127.0.0.1:PORT) the harness passes as $NET_….
fn server(comptime variable: []const u8) Failed![]u8 {
    return tern.sdk.env(c.allocator, variable) catch c.fail(variable ++ " is not set (the harness passes it in run net)", .{});
}

fn http(path: []const u8) Failed![]u8 {
    return c.format("http://{s}{s}", .{ try server("NET_HTTP"), path });
}

/// A response as the guest reads it: the status line, the header lines, the body.
const Response = struct {
    status: []const u8,
    head: []const u8, // the header lines, each framed by CRLF
    body: []const u8,

    fn has(self: Response, comptime line: []const u8) bool {
        return std.mem.indexOf(u8, self.head, "\r\n" ++ line ++ "\r\n") != null;
    }
};

/// Reads `h` until -5 and splits the HTTP/1.1 response text.
fn response(h: i32) Failed!Response {
    const text = try c.readToEof(h);
    const blank = std.mem.indexOf(u8, text, "\r\n\r\n") orelse
        return c.fail("no blank line after the response head: \"{}\"", .{std.zig.fmtEscapes(text)});
    const eol = std.mem.indexOf(u8, text[0..blank], "\r\n") orelse blank;
    return .{
        .status = text[0..eol],
        .head = text[eol .. blank + 2],
        .body = text[blank + 4 ..],
    };
}

fn expectResponse(h: i32, status: []const u8, body: []const u8) Failed!Response {
    const r = try response(h);
    try c.expectBytes(r.status, status, "status line", .{});
    try c.expectBytes(r.body, body, "body", .{});
    return r;
}

/// Opens `url`, writes `request`, and checks that the flush returns `want`.
fn flushFails(url: []const u8, request: []const u8, want: i32) Failed!void {
    const h = try c.opened(url);
    defer tern.resource_close(h);
    try c.writeWhole(h, request);
    try c.expectEq(tern.resource_flush(h), want, "resource_flush after \"{}\"", .{std.zig.fmtEscapes(request)});
}

pub fn c116() Failed!void {
    const h = try c.opened(try http("/pub/hello"));
    defer tern.resource_close(h);
    const r = try expectResponse(h, "HTTP/1.1 200 OK", "hello, http\n");
    try c.ensure(r.has("content-length: 12"), "no \"content-length: 12\" line in \"{}\"", .{std.zig.fmtEscapes(r.head)});
}

pub fn c117() Failed!void {
    const h = try c.opened(try http("/pub/echo"));
    defer tern.resource_close(h);
    try c.writeWhole(h, "POST /pub/echo HTTP/1.1\r\nContent-Length: 5\r\n\r\n");
    try c.writeWhole(h, "hello");
    try c.expectEq(tern.resource_flush(h), 0, "resource_flush", .{});
    const r = try expectResponse(h, "HTTP/1.1 200 OK", "hello");
    try c.ensure(r.has("x-method: POST"), "no \"x-method: POST\" line", .{});
}

pub fn c118() Failed!void {
    const url = try http("/pub/hello");
    try flushFails(url, "GET /pub/hello HTTP/1.1\r\nHost: example.com\r\n\r\n", tern.EPERM);
    const h = try c.opened(url);
    defer tern.resource_close(h);
    try c.writeWhole(h, try c.format("GET /pub/hello HTTP/1.1\r\nHost: {s}\r\n\r\n", .{try server("NET_HTTP")}));
    try c.expectEq(tern.resource_flush(h), 0, "resource_flush with the opened Host", .{});
    _ = try expectResponse(h, "HTTP/1.1 200 OK", "hello, http\n");
}

pub fn c119() Failed!void {
    const url = try http("/pub/hello");
    try flushFails(url, "GET /secret/data HTTP/1.1\r\n\r\n", tern.EPERM);
    try flushFails(url, "GET http://example.com/ HTTP/1.1\r\n\r\n", tern.EPERM);
}

pub fn c120() Failed!void {
    const h = try c.opened(try http("/pub/chunked"));
    defer tern.resource_close(h);
    const r = try expectResponse(h, "HTTP/1.1 200 OK", "chunk one\nchunk two\n");
    try c.ensure(std.mem.indexOf(u8, r.head, "\r\ntransfer-encoding") == null, "the head still has transfer-encoding", .{});
}

pub fn c121() Failed!void {
    const h = try c.opened(try http("/pub/missing"));
    defer tern.resource_close(h);
    _ = try expectResponse(h, "HTTP/1.1 404 Not Found", "no such page\n");
}

pub fn c122() Failed!void {
    const h = try c.opened(try http("/pub/redirect"));
    defer tern.resource_close(h);
    _ = try expectResponse(h, "HTTP/1.1 200 OK", "hello, http\n");
}

pub fn c123() Failed!void {
    const h = try c.opened(try http("/pub/redirect-out"));
    defer tern.resource_close(h);
    const r = try response(h);
    try c.expectBytes(r.status, "HTTP/1.1 302 Found", "status line", .{});
    try c.ensure(r.has("location: /secret/data"), "no \"location: /secret/data\" line", .{});
}

pub fn c124() Failed!void {
    const url = try http("/pub/echo");
    try flushFails(url, "POST /pub/echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", tern.EUNSUPPORTED);
    try flushFails(url, try c.format("CONNECT {s} HTTP/1.1\r\n\r\n", .{try server("NET_HTTP")}), tern.EUNSUPPORTED);
}

pub fn c125() Failed!void {
    try flushFails(try http("/pub/echo"), "POST /pub/echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nhello", tern.EINVAL);
}

/// Reads `h` until an error number (or a read of 0) and returns it.
fn readUntilError(h: i32) i32 {
    var buf: [512]u8 = undefined;
    while (true) {
        const n = tern.resource_read(h, &buf, buf.len);
        if (n <= 0) return n;
    }
}

pub fn c126() Failed!void {
    const h = try c.opened(try http("/pub/big"));
    defer tern.resource_close(h);
    try c.expectEq(readUntilError(h), tern.ELIMIT, "reading a 4096-byte body under --max-response-size 1K", .{});
}

pub fn c127() Failed!void {
    const h = try c.opened(try http("/pub/slow"));
    defer tern.resource_close(h);
    try c.expectEq(readUntilError(h), tern.ETIMEOUT, "reading /pub/slow", .{});
}

pub fn c128() Failed!void {
    const h = try c.opened(try http("/pub/hello"));
    defer tern.resource_close(h);
    for (1..3) |i| {
        try c.writeWhole(h, "GET /pub/hello HTTP/1.1\r\n\r\n");
        try c.expectEq(tern.resource_flush(h), 0, "resource_flush of exchange {d}", .{i});
        _ = try expectResponse(h, "HTTP/1.1 200 OK", "hello, http\n");
    }
}

pub fn c129() Failed!void {
    const h = try c.opened(try http("/pub/echo"));
    defer tern.resource_close(h);
    try c.writeWhole(h, "GET /pub/echo HTTP/1.1\r\n\r\n");
    const r = try expectResponse(h, "HTTP/1.1 200 OK", "");
    try c.ensure(r.has("x-method: GET"), "no \"x-method: GET\" line", .{});
}

pub fn c130() Failed!void {
    try c.openFails(try http("/secret/data"), tern.EPERM);
}

pub fn c131() Failed!void {
    const h = try c.opened(try c.format("https://{s}/pub/hello", .{try server("NET_HTTPS")}));
    defer tern.resource_close(h);
    _ = try expectResponse(h, "HTTP/1.1 200 OK", "hello, http\n");
}

/// Writes `message` to an echo connection and reads the same bytes back.
fn echo(url: []const u8, message: []const u8) Failed!void {
    const h = try c.opened(url);
    defer tern.resource_close(h);
    try c.writeWhole(h, message);
    try c.expectEq(tern.resource_flush(h), 0, "resource_flush({s})", .{url});
    var back: [64]u8 = undefined;
    var got: usize = 0;
    while (got < message.len) {
        const n = tern.resource_read(h, back[got..].ptr, message.len - got);
        try c.ensure(n > 0, "resource_read({s}) returned {d} after {d} bytes", .{ url, n, got });
        got += @intCast(n);
    }
    try c.expectBytes(back[0..got], message, "the echo", .{});
}

pub fn c132() Failed!void {
    try echo(try c.format("tcp://{s}", .{try server("NET_TCP_ECHO")}), "ping\n");
}

pub fn c133() Failed!void {
    const h = try c.opened(try c.format("tcp://{s}", .{try server("NET_TCP_HELLO")}));
    defer tern.resource_close(h);
    try c.expectBytes(try c.readToEof(h), "hello, tcp\n", "what tcp_hello sent", .{});
}

pub fn c134() Failed!void {
    try c.openFails("tls://localhost", tern.EINVAL);
}

pub fn c135() Failed!void {
    try c.openFails(try c.format("tcp://{s}", .{try server("NET_TCP_CLOSED")}), tern.ECONNECT);
}

pub fn c136() Failed!void {
    const h = try c.opened(try c.format("tcp://{s}", .{try server("NET_TCP_SILENT")}));
    defer tern.resource_close(h);
    var buf: [16]u8 = undefined;
    try c.expectEq(tern.resource_read(h, &buf, 16), tern.ETIMEOUT, "resource_read(tcp_silent)", .{});
}

pub fn c137() Failed!void {
    try c.openFails(try c.format("tcp://localhost:{s}", .{try server("NET_TCP_ECHO_PORT")}), tern.EPERM);
}

pub fn c138() Failed!void {
    try echo(try c.format("tls://{s}", .{try server("NET_TLS_ECHO")}), "ping over tls\n");
}

pub fn c139() Failed!void {
    try c.openFails(try c.format("tls://{s}", .{try server("NET_TLS_UNTRUSTED")}), tern.ECONNECT);
}

/// Four decimal numbers up to 255 (std.net needs an OS; this module has none).
fn isIpv4(s: []const u8) bool {
    var parts = std.mem.splitScalar(u8, s, '.');
    var count: usize = 0;
    while (parts.next()) |part| : (count += 1) {
        if (part.len == 0 or part.len > 3) return false;
        _ = std.fmt.parseInt(u8, part, 10) catch return false;
    }
    return count == 4;
}

/// Hex groups separated by colons (at least two), possibly ending in an IPv4 part.
fn isIpv6(s: []const u8) bool {
    if (std.mem.count(u8, s, ":") < 2) return false;
    for (s) |ch| {
        if (!(std.ascii.isHex(ch) or ch == ':' or ch == '.')) return false;
    }
    return true;
}

pub fn c140() Failed!void {
    const h = try c.opened("dns://localhost");
    defer tern.resource_close(h);
    const text = try c.readToEof(h);
    try c.ensure(text.len > 0 and text[text.len - 1] == '\n', "the answer does not end with a newline: \"{}\"", .{std.zig.fmtEscapes(text)});
    var loopback = false;
    var lines = std.mem.splitScalar(u8, text[0 .. text.len - 1], '\n');
    var count: usize = 0;
    while (lines.next()) |line| : (count += 1) {
        try c.ensure(isIpv4(line) or isIpv6(line), "\"{s}\" is not an address (answer \"{}\")", .{ line, std.zig.fmtEscapes(text) });
        var others = std.mem.splitScalar(u8, text[0 .. text.len - 1], '\n');
        var same: usize = 0;
        while (others.next()) |other| {
            if (std.mem.eql(u8, other, line)) same += 1;
        }
        try c.ensure(same == 1, "\"{s}\" is listed twice", .{line});
        if (std.mem.eql(u8, line, "127.0.0.1") or std.mem.eql(u8, line, "::1")) loopback = true;
    }
    try c.ensure(loopback, "localhost did not resolve to 127.0.0.1 or ::1: \"{}\"", .{std.zig.fmtEscapes(text)});
    try c.expectEq(tern.resource_write(h, "x", 1), tern.EUNSUPPORTED, "resource_write(dns://)", .{});
}

pub fn c141() Failed!void {
    try c.openFails("dns://conformance-test.invalid", tern.ENOTFOUND);
}

pub fn c142() Failed!void {
    try c.openFails("tcp://127.0.0.1:1", tern.EPERM);
    try c.openFails("dns://example.com", tern.EPERM);
    try c.openFails(try c.format("https://{s}/secret/data", .{try server("NET_HTTPS")}), tern.EPERM);
}
