//! What a case returns, the failure reasons, shared helpers, and buffers at the end of memory.

const std = @import("std");
const tern = @import("tern");

pub const allocator = std.heap.wasm_allocator;

/// A case either returns or fails with a reason (kept in `reason`).
pub const Failed = error{CaseFailed};

var reason_buf: [4096]u8 = undefined;
var reason_len: usize = 0;

/// The reason of the last failure.
pub fn reason() []const u8 {
    return reason_buf[0..reason_len];
}

pub fn fail(comptime fmt: []const u8, args: anytype) Failed {
    const s = std.fmt.bufPrint(&reason_buf, fmt, args) catch reason_buf[0..];
    reason_len = s.len;
    return error.CaseFailed;
}

pub fn ensure(ok: bool, comptime fmt: []const u8, args: anytype) Failed!void {
    if (!ok) return fail(fmt, args);
}

pub fn expectEq(got: i64, want: i64, comptime what: []const u8, args: anytype) Failed!void {
    if (got != want) return fail(what ++ ": expected {d}, got {d}", args ++ .{ want, got });
}

pub fn expectBytes(got: []const u8, want: []const u8, comptime what: []const u8, args: anytype) Failed!void {
    if (!std.mem.eql(u8, got, want)) {
        return fail(what ++ ": expected b\"{}\", got b\"{}\"", args ++ .{ std.zig.fmtEscapes(want), std.zig.fmtEscapes(got) });
    }
}

/// Formats into fresh memory (for URLs).
pub fn format(comptime fmt: []const u8, args: anytype) Failed![]u8 {
    return std.fmt.allocPrint(allocator, fmt, args) catch fail("out of memory", .{});
}

pub fn open(url: []const u8) i32 {
    return tern.resource_open(url.ptr, url.len);
}

/// Opens `url`, failing unless it gives a handle > 2.
pub fn opened(url: []const u8) Failed!i32 {
    const h = open(url);
    if (h <= 2) return fail("resource_open(\"{s}\"): expected a handle > 2, got {d}", .{ url, h });
    return h;
}

/// Fails unless opening `url` returns `want`.
pub fn openFails(url: []const u8, want: i32) Failed!void {
    const got = open(url);
    if (got >= 0) tern.resource_close(got);
    if (got != want) return fail("resource_open(\"{s}\"): expected {d}, got {d}", .{ url, want, got });
}

/// One resource_write that must take every byte.
pub fn writeWhole(h: i32, bytes: []const u8) Failed!void {
    const n = tern.resource_write(h, bytes.ptr, bytes.len);
    if (n != bytes.len) return fail("resource_write({d}, \"{}\"): expected {d}, got {d}", .{ h, std.zig.fmtEscapes(bytes), bytes.len, n });
}

/// Reads `h` until -5; any other error fails.
pub fn readToEof(h: i32) Failed![]u8 {
    return tern.sdk.readAll(allocator, h, 1 << 20) catch |e| fail("reading {d} until -5: {s}", .{ h, @errorName(e) });
}

/// $TERN_CONFORMANCE_DIR.
pub fn dir() Failed![]u8 {
    return tern.sdk.env(allocator, "TERN_CONFORMANCE_DIR") catch fail("TERN_CONFORMANCE_DIR is not set (the harness passes --env TERN_CONFORMANCE_DIR=...)", .{});
}

/// file:// + $TERN_CONFORMANCE_DIR + / + rest, NUL-terminated (for dagger.open).
pub fn fileUrl(rest: []const u8) Failed![:0]u8 {
    const d = try dir();
    return std.fmt.allocPrintZ(allocator, "file://{s}/{s}", .{ d, rest }) catch fail("out of memory", .{});
}

/// A fresh page at the end of memory with a 2-byte marker just below the end.
pub const Edge = struct {
    end: usize,

    pub const marker = [2]u8{ 0xA5, 0x5A };

    pub fn grow() Edge {
        const before = @wasmMemoryGrow(0, 1);
        const e = Edge{ .end = (@as(usize, @intCast(before)) + 1) * 65536 };
        const at: [*]volatile u8 = @ptrFromInt(e.end - 2);
        at[0] = marker[0];
        at[1] = marker[1];
        return e;
    }

    /// Two bytes before the end: a buffer of 3 or more bytes there is out of bounds.
    pub fn nearEnd(self: Edge) [*]u8 {
        return @ptrFromInt(self.end - 2);
    }

    /// Fails if memory grew since or the marker changed.
    pub fn untouched(self: Edge) Failed!void {
        if (@wasmMemorySize(0) * 65536 != self.end) return fail("memory grew during the call; the buffer was not out of bounds", .{});
        const at: [*]volatile u8 = @ptrFromInt(self.end - 2);
        if (at[0] != marker[0] or at[1] != marker[1]) {
            return fail("the in-bounds bytes of an out-of-bounds buffer were written: {x:0>2} {x:0>2}", .{ at[0], at[1] });
        }
    }

    /// Fails unless a call with a buffer here returned -2 (`got`) and left the marker.
    pub fn expectOutOfBounds(self: Edge, got: i32, comptime what: []const u8) Failed!void {
        try self.untouched();
        try expectEq(got, tern.EINVAL, what, .{});
    }

    /// Copies `bytes` to end exactly at the end of memory; returns where they start.
    pub fn putAtEnd(self: Edge, bytes: []const u8) [*]const u8 {
        const start: [*]volatile u8 = @ptrFromInt(self.end - bytes.len);
        for (bytes, 0..) |b, i| start[i] = b;
        return @ptrFromInt(self.end - bytes.len);
    }
};

/// The pointer 0xFFFFFFFF (a buffer there wraps around the address space).
pub fn wrapping() [*]u8 {
    return @ptrFromInt(0xFFFF_FFFF);
}
