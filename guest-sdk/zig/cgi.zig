//! CGI (RFC 3875) for handlers run by `tern serve`: the request's meta-variables are in the
//! environment and its body on stdin; the response is a Status line, header lines, a blank line and
//! the body on stdout.

const std = @import("std");
const tern = @import("tern.zig");
const sdk = @import("sdk.zig");

/// An HTTP request as a CGI handler sees it.
pub const Request = struct {
    method: []const u8,
    path_info: []const u8,
    query_string: []const u8,
    content_type: []const u8,
    body: []const u8,

    /// Reads the request; error.NotFound without REQUEST_METHOD, error.InvalidArgument for a bad
    /// CONTENT_LENGTH or a shorter body, error.LimitExceeded for a body over `max_body` bytes.
    pub fn read(allocator: std.mem.Allocator, max_body: usize) sdk.Error!Request {
        var req = Request{
            .method = try sdk.env(allocator, "REQUEST_METHOD"),
            .path_info = orEmpty(allocator, "PATH_INFO"),
            .query_string = orEmpty(allocator, "QUERY_STRING"),
            .content_type = orEmpty(allocator, "CONTENT_TYPE"),
            .body = "",
        };
        const length = orEmpty(allocator, "CONTENT_LENGTH");
        if (length.len > 0) {
            const n = std.fmt.parseInt(usize, length, 10) catch return error.InvalidArgument;
            if (n > max_body) return error.LimitExceeded;
            const body = try allocator.alloc(u8, n);
            var got: usize = 0;
            while (got < n) {
                const r = tern.resource_read(tern.STDIN, body[got..].ptr, n - got);
                if (r == tern.EOF) return error.InvalidArgument;
                const k = try sdk.check(r);
                if (k == 0) return error.Unknown;
                got += k;
            }
            req.body = body;
        } else {
            req.body = try sdk.readAll(allocator, tern.STDIN, max_body);
        }
        return req;
    }

    /// A request header by its HTTP name ("User-Agent" is HTTP_USER_AGENT), or null.
    pub fn header(self: Request, allocator: std.mem.Allocator, name: []const u8) ?[]u8 {
        _ = self;
        var key: [128]u8 = undefined;
        if (name.len + 5 > key.len) return null;
        @memcpy(key[0..5], "HTTP_");
        for (name, 0..) |c, i| key[5 + i] = if (c == '-') '_' else std.ascii.toUpper(c);
        return sdk.env(allocator, key[0 .. 5 + name.len]) catch null;
    }

    /// The decoded value of the first query parameter `name` (+ is a space, %XX a byte), or null.
    pub fn query(self: Request, allocator: std.mem.Allocator, name: []const u8) ?[]u8 {
        var pairs = std.mem.splitScalar(u8, self.query_string, '&');
        while (pairs.next()) |pair| {
            const eq = std.mem.indexOfScalar(u8, pair, '=') orelse pair.len;
            const key = formDecode(allocator, pair[0..eq]) catch return null;
            if (std.mem.eql(u8, key, name)) {
                return formDecode(allocator, if (eq < pair.len) pair[eq + 1 ..] else "") catch null;
            }
        }
        return null;
    }
};

fn orEmpty(allocator: std.mem.Allocator, key: []const u8) []const u8 {
    return sdk.env(allocator, key) catch "";
}

fn formDecode(allocator: std.mem.Allocator, s: []const u8) ![]u8 {
    const out = try allocator.alloc(u8, s.len);
    var n: usize = 0;
    var i: usize = 0;
    while (i < s.len) : (i += 1) {
        var c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' and i + 2 < s.len) {
            if (std.fmt.parseInt(u8, s[i + 1 .. i + 3], 16)) |v| {
                c = v;
                i += 2;
            } else |_| {}
        }
        out[n] = c;
        n += 1;
    }
    return out[0..n];
}

/// A response written to stdout as it is built: status, headers, then the body.
pub const Response = struct {
    head_done: bool = false,
    has_content_type: bool = false,
    err: ?sdk.Error = null,

    /// Starts a response with "Status: CODE REASON".
    pub fn begin(code: u16, reason: []const u8) Response {
        var r = Response{};
        var buf: [64]u8 = undefined;
        r.out(std.fmt.bufPrint(&buf, "Status: {d} ", .{code}) catch "Status: 500 ");
        r.outClean(reason);
        r.out("\r\n");
        return r;
    }

    /// A header line; CR and LF are dropped from name and value (no header injection).
    pub fn header(self: *Response, name: []const u8, value: []const u8) void {
        if (self.head_done) return;
        if (std.ascii.eqlIgnoreCase(name, "content-type")) self.has_content_type = true;
        self.outClean(name);
        self.out(": ");
        self.outClean(value);
        self.out("\r\n");
    }

    /// Body bytes; the first call ends the head (adding Content-Type: application/octet-stream
    /// when none was given).
    pub fn body(self: *Response, bytes: []const u8) void {
        self.endHead(true);
        self.out(bytes);
    }

    /// Ends the response: the first write error, if any.
    pub fn end(self: *Response) sdk.Error!void {
        self.endHead(false);
        if (self.err) |e| return e;
    }

    fn endHead(self: *Response, has_body: bool) void {
        if (self.head_done) return;
        if (has_body and !self.has_content_type) self.out("Content-Type: application/octet-stream\r\n");
        self.out("\r\n");
        self.head_done = true;
    }

    fn out(self: *Response, bytes: []const u8) void {
        if (self.err != null) return;
        sdk.writeAll(tern.STDOUT, bytes) catch |e| {
            self.err = e;
        };
    }

    fn outClean(self: *Response, text: []const u8) void {
        var parts = std.mem.tokenizeAny(u8, text, "\r\n");
        while (parts.next()) |part| self.out(part);
    }
};
