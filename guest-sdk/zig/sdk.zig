//! Helpers over the imports of tern.zig: output and the log, environment variables and arguments
//! with the ABI's size protocol, and reading a whole resource. Memory comes from the caller's
//! allocator (`std.heap.wasm_allocator` on wasm32-freestanding).

const std = @import("std");
const tern = @import("tern.zig");

pub const name = "tern-zig";
pub const version = "0.1.0";

/// A negative ABI error number as a Zig error.
pub const Error = error{
    Unknown,
    InvalidArgument,
    PermissionDenied,
    NotFound,
    EndOfFile,
    Unsupported,
    LimitExceeded,
    Timeout,
    ConnectionFailed,
    OutOfMemory,
};

/// The Zig error of an ABI error number (< 0).
pub fn errorOf(code: i32) Error {
    return switch (code) {
        tern.EINVAL => error.InvalidArgument,
        tern.EPERM => error.PermissionDenied,
        tern.ENOTFOUND => error.NotFound,
        tern.EOF => error.EndOfFile,
        tern.EUNSUPPORTED => error.Unsupported,
        tern.ELIMIT => error.LimitExceeded,
        tern.ETIMEOUT => error.Timeout,
        tern.ECONNECT => error.ConnectionFailed,
        else => error.Unknown,
    };
}

/// A non-negative result, or its error.
pub fn check(code: i32) Error!usize {
    return if (code < 0) errorOf(code) else @intCast(code);
}

/// Writes all of `bytes` to `handle`, looping over short writes.
pub fn writeAll(handle: i32, bytes: []const u8) Error!void {
    var rest = bytes;
    while (rest.len > 0) {
        const n = try check(tern.resource_write(handle, rest.ptr, rest.len));
        if (n == 0) return error.Unknown; // no progress: give up rather than spin
        rest = rest[n..];
    }
}

/// Formats into a stack buffer and writes the text to `handle` (cut at 4 KiB).
pub fn printTo(handle: i32, comptime fmt: []const u8, args: anytype) void {
    var buf: [4096]u8 = undefined;
    const text = std.fmt.bufPrint(&buf, fmt, args) catch buf[0..];
    writeAll(handle, text) catch {};
}

/// Formats to stdout.
pub fn print(comptime fmt: []const u8, args: anytype) void {
    printTo(tern.STDOUT, fmt, args);
}

/// A log line at `level` (tern.LOG_INFO, …).
pub fn log(level: i32, text: []const u8) void {
    tern.log_write(level, text.ptr, text.len);
}

/// The size protocol of env_get and startup_arg_at: ask with a small buffer, and ask again with
/// the length the host returned when it did not fit (the host writes nothing then).
fn getSized(allocator: std.mem.Allocator, ctx: anytype, comptime get: fn (@TypeOf(ctx), []u8) i32) Error![]u8 {
    var small: [64]u8 = undefined;
    const n = try check(get(ctx, &small));
    const out = try allocator.alloc(u8, n);
    if (n <= small.len) {
        @memcpy(out, small[0..n]);
        return out;
    }
    const again = try check(get(ctx, out));
    if (again != n) return error.Unknown; // the value changed between the calls
    return out;
}

fn envCall(key: []const u8, buf: []u8) i32 {
    return tern.env_get(key.ptr, key.len, buf.ptr, buf.len);
}

fn argCall(i: i32, buf: []u8) i32 {
    return tern.startup_arg_at(i, buf.ptr, buf.len);
}

/// The value of the environment variable `key`, or error.NotFound.
pub fn env(allocator: std.mem.Allocator, key: []const u8) Error![]u8 {
    return getSized(allocator, key, envCall);
}

/// Argument `i` (0 is the program name), or error.NotFound.
pub fn arg(allocator: std.mem.Allocator, i: i32) Error![]u8 {
    // Hosts differ on an index out of range (-2 now, -4 before 2026-12): ask the count first.
    if (i < 0 or i >= tern.startup_arg_len()) return error.NotFound;
    return getSized(allocator, i, argCall);
}

/// How many arguments there are.
pub fn argCount() usize {
    return @intCast(@max(tern.startup_arg_len(), 0));
}

/// resource_open of `url`: a handle, or its error.
pub fn open(url: []const u8) Error!i32 {
    const h = tern.resource_open(url.ptr, url.len);
    return if (h < 0) errorOf(h) else h;
}

/// Reads `handle` until its end (-5); error.LimitExceeded past `max` bytes.
pub fn readAll(allocator: std.mem.Allocator, handle: i32, max: usize) Error![]u8 {
    var list = std.ArrayListUnmanaged(u8){};
    errdefer list.deinit(allocator);
    var buf: [512]u8 = undefined;
    while (true) {
        const n = tern.resource_read(handle, &buf, buf.len);
        if (n == tern.EOF) break;
        const got = try check(n);
        if (got == 0) return error.Unknown; // a read of 0 into a non-empty buffer: no progress
        if (list.items.len + got > max) return error.LimitExceeded;
        try list.appendSlice(allocator, buf[0..got]);
    }
    return list.toOwnedSlice(allocator);
}

/// Opens `url`, reads it whole, closes it.
pub fn readUrl(allocator: std.mem.Allocator, url: []const u8, max: usize) Error![]u8 {
    const h = try open(url);
    defer tern.resource_close(h);
    return readAll(allocator, h, max);
}
