//! Cases 50-84: resource_open (malformed URLs, the policy, the handle limit), handle numbers, and the
//! schemes granted by default (null, zero, random, log, fd).

const std = @import("std");
const tern = @import("tern");
const c = @import("check.zig");
const Failed = c.Failed;

pub fn c50() Failed!void {
    try c.openFails("", tern.EINVAL);
}

pub fn c51() Failed!void {
    try c.openFails("not a url", tern.EINVAL);
    try c.openFails("://missing-scheme", tern.EINVAL);
}

pub fn c52() Failed!void {
    try c.expectEq(c.open("null://\xff"), tern.EINVAL, "resource_open(b\"null://\\xff\")", .{});
}

pub fn c53() Failed!void {
    const edge = c.Edge.grow();
    try edge.expectOutOfBounds(tern.resource_open(edge.nearEnd(), 16), "resource_open(<end of memory - 2>, 16)");
}

pub fn c54() Failed!void {
    try c.openFails("null://user@host/", tern.EINVAL);
    try c.openFails("log://user:pw@host/", tern.EINVAL);
}

pub fn c55() Failed!void {
    for ([_][]const u8{ "a%2Fb", "a%5Cb", "a%00b" }) |segment| {
        try c.openFails(try c.fileUrl(segment), tern.EINVAL);
    }
}

pub fn c56() Failed!void {
    try c.openFails("conformance-nope://x/y", tern.EPERM);
}

pub fn c57() Failed!void {
    try c.openFails("conformance-unknown://example/x", tern.ENOTFOUND);
}

pub fn c58() Failed!void {
    const d = try c.dir();
    const slash = std.mem.lastIndexOfScalar(u8, std.mem.trimRight(u8, d, "/"), '/') orelse
        return c.fail("TERN_CONFORMANCE_DIR {s} has no parent", .{d});
    try c.openFails(try c.format("file://{s}/outside.txt", .{d[0..slash]}), tern.EPERM);
}

pub fn c59() Failed!void {
    try c.openFails(try c.fileUrl("secret.txt"), tern.EPERM);
}

pub fn c60() Failed!void {
    try c.openFails(try c.fileUrl("../outside.txt"), tern.EPERM);
    try c.openFails(try c.fileUrl("subdir/../../outside.txt"), tern.EPERM);
}

pub fn c61() Failed!void {
    var handles = std.ArrayListUnmanaged(i32){};
    defer {
        for (handles.items) |h| tern.resource_close(h);
        handles.deinit(c.allocator);
    }
    var result: i32 = 0;
    for (0..100_000) |_| {
        result = c.open("null://");
        if (result < 0) break;
        handles.append(c.allocator, result) catch return c.fail("out of memory", .{});
    }
    try c.expectEq(result, tern.ELIMIT, "resource_open after {d} handles", .{handles.items.len});
    const freed = handles.pop() orelse return c.fail("no handle could be opened", .{});
    tern.resource_close(freed);
    const again = c.open("null://");
    try c.ensure(again >= 0, "resource_open after a close at the limit returned {d}", .{again});
    handles.append(c.allocator, again) catch return c.fail("out of memory", .{});
}

/// Read, write and flush on `h` return -2.
fn allInvalid(h: i32) Failed!void {
    var buf: [8]u8 = undefined;
    try c.expectEq(tern.resource_read(h, &buf, 8), tern.EINVAL, "resource_read({d})", .{h});
    try c.expectEq(tern.resource_write(h, "x", 1), tern.EINVAL, "resource_write({d})", .{h});
    try c.expectEq(tern.resource_flush(h), tern.EINVAL, "resource_flush({d})", .{h});
}

pub fn c62() Failed!void {
    for ([_]i32{ 999, -1, 1 << 30 }) |h| try allInvalid(h);
}

pub fn c63() Failed!void {
    const h = try c.opened("zero://");
    tern.resource_close(h);
    try allInvalid(h);
}

pub fn c64() Failed!void {
    const live = try c.opened("zero://");
    defer tern.resource_close(live);
    const dead = try c.opened("null://");
    tern.resource_close(dead);
    tern.resource_close(999);
    tern.resource_close(-1);
    tern.resource_close(dead);
    var buf = [_]u8{1} ** 4;
    try c.expectEq(tern.resource_read(live, &buf, 4), 4, "resource_read on an open handle", .{});
}

pub fn c65() Failed!void {
    const a = try c.opened("null://");
    const b = try c.opened("null://");
    const d = try c.opened("null://");
    try c.ensure(a != b and b != d and a != d, "handles are not distinct: {d} {d} {d}", .{ a, b, d });
    tern.resource_close(b);
    tern.resource_close(a);
    const first = c.open("null://");
    const second = c.open("null://");
    tern.resource_close(first);
    tern.resource_close(second);
    tern.resource_close(d);
    try c.expectEq(first, @min(a, b), "the open after closing {d} then {d}", .{ b, a });
    try c.expectEq(second, @max(a, b), "the open after that", .{});
}

pub fn c66() Failed!void {
    const h = try c.opened("zero://");
    defer tern.resource_close(h);
    var buf: [1]u8 = undefined;
    try c.expectEq(tern.resource_read(h, &buf, 0), 0, "resource_read(zero://, buf, 0)", .{});
}

pub fn c67() Failed!void {
    const h = try c.opened("zero://");
    defer tern.resource_close(h);
    const edge = c.Edge.grow();
    try edge.expectOutOfBounds(tern.resource_read(h, edge.nearEnd(), 16), "resource_read(zero://, <end of memory - 2>, 16)");
    try c.expectEq(tern.resource_read(h, c.wrapping(), 2), tern.EINVAL, "resource_read(zero://, 0xFFFFFFFF, 2)", .{});
}

pub fn c68() Failed!void {
    const h = try c.opened("null://");
    defer tern.resource_close(h);
    const edge = c.Edge.grow();
    try c.expectEq(tern.resource_write(h, edge.nearEnd(), 16), tern.EINVAL, "resource_write(null://, <end of memory - 2>, 16)", .{});
    const buf = [_]u8{0} ** 8;
    try c.expectEq(tern.resource_write(h, &buf, 0xFFFF_FFFF), tern.EINVAL, "resource_write(null://, buf, -1)", .{});
}

pub fn c69() Failed!void {
    try c.expectEq(tern.resource_flush(1), 0, "resource_flush(1)", .{});
    try c.expectEq(tern.resource_flush(2), 0, "resource_flush(2)", .{});
}

pub fn c70() Failed!void {
    const h = try c.opened("null://");
    defer tern.resource_close(h);
    var buf: [8]u8 = undefined;
    for (0..2) |_| try c.expectEq(tern.resource_read(h, &buf, 8), tern.EOF, "resource_read(null://)", .{});
}

pub fn c71() Failed!void {
    const h = try c.opened("null://");
    defer tern.resource_close(h);
    try c.expectEq(tern.resource_write(h, "x", 1), 1, "resource_write(null://, 1 byte)", .{});
    const big = [_]u8{7} ** 10_000;
    try c.expectEq(tern.resource_write(h, &big, big.len), 10_000, "resource_write(null://, 10000 bytes)", .{});
    try c.expectEq(tern.resource_flush(h), 0, "resource_flush(null://)", .{});
}

pub fn c72() Failed!void {
    const h = try c.opened("zero://");
    defer tern.resource_close(h);
    var buf = [_]u8{0xAA} ** 100;
    try c.expectEq(tern.resource_read(h, &buf, 100), 100, "resource_read(zero://, buf, 100)", .{});
    try c.ensure(std.mem.allEqual(u8, &buf, 0), "zero:// gave non-zero bytes", .{});
    try c.expectEq(tern.resource_flush(h), 0, "resource_flush(zero://)", .{});
}

pub fn c73() Failed!void {
    const h = try c.opened("zero://");
    defer tern.resource_close(h);
    try c.expectEq(tern.resource_write(h, "x", 1), tern.EUNSUPPORTED, "resource_write(zero://)", .{});
}

pub fn c74() Failed!void {
    const h = try c.opened("random://");
    defer tern.resource_close(h);
    var a = [_]u8{0} ** 64;
    var b = [_]u8{0} ** 64;
    try c.expectEq(tern.resource_read(h, &a, 64), 64, "resource_read(random://, buf, 64)", .{});
    try c.expectEq(tern.resource_read(h, &b, 64), 64, "resource_read(random://, buf, 64)", .{});
    try c.ensure(!std.mem.eql(u8, &a, &b), "two reads of random:// gave the same 64 bytes", .{});
    try c.ensure(!std.mem.allEqual(u8, &a, 0), "random:// gave 64 zero bytes", .{});
    try c.expectEq(tern.resource_flush(h), 0, "resource_flush(random://)", .{});
}

pub fn c75() Failed!void {
    const h = try c.opened("random://");
    defer tern.resource_close(h);
    try c.expectEq(tern.resource_write(h, "x", 1), tern.EUNSUPPORTED, "resource_write(random://)", .{});
}

pub fn c76() Failed!void {
    const h = try c.opened("log://?prefix=c76");
    defer tern.resource_close(h);
    try c.expectEq(tern.resource_write(h, "first\nsecond\n", 13), 13, "resource_write(log://, 13 bytes)", .{});
}

pub fn c77() Failed!void {
    const h = try c.opened("log://?prefix=c77");
    defer tern.resource_close(h);
    try c.expectEq(tern.resource_write(h, "par", 3), 3, "resource_write(log://, \"par\")", .{});
    try c.expectEq(tern.resource_write(h, "tial line\n", 10), 10, "resource_write(log://, \"tial line\\n\")", .{});
}

pub fn c78() Failed!void {
    const h = try c.opened("log://?prefix=c78");
    defer tern.resource_close(h);
    try c.expectEq(tern.resource_write(h, "flushed", 7), 7, "resource_write(log://, \"flushed\")", .{});
    try c.expectEq(tern.resource_flush(h), 0, "resource_flush(log://)", .{});
    tern.sdk.log(tern.LOG_INFO, "c78: after flush");
}

pub fn c79() Failed!void {
    const h = try c.opened("log://?prefix=c79");
    const n = tern.resource_write(h, "closed", 6);
    tern.resource_close(h);
    tern.sdk.log(tern.LOG_INFO, "c79: after close");
    try c.expectEq(n, 6, "resource_write(log://, \"closed\")", .{});
}

pub fn c80() Failed!void {
    const h = try c.opened("log://?prefix=c80");
    defer tern.resource_close(h);
    var buf: [8]u8 = undefined;
    try c.expectEq(tern.resource_read(h, &buf, 8), tern.EUNSUPPORTED, "resource_read(log://)", .{});
}

pub fn c81() Failed!void {
    const out = try c.opened("fd://1");
    defer tern.resource_close(out);
    const err = try c.opened("fd://2");
    defer tern.resource_close(err);
    try c.writeWhole(out, "c81: via fd://1\n");
    try c.writeWhole(err, "c81: via fd://2\n");
}

pub fn c82() Failed!void {
    var buf: [8]u8 = undefined;
    for ([_][]const u8{ "fd://1", "fd://2" }) |url| {
        const h = try c.opened(url);
        defer tern.resource_close(h);
        try c.expectEq(tern.resource_read(h, &buf, 8), tern.EUNSUPPORTED, "resource_read({s})", .{url});
    }
    const h = try c.opened("fd://0");
    defer tern.resource_close(h);
    try c.expectEq(tern.resource_write(h, "x", 1), tern.EUNSUPPORTED, "resource_write(fd://0)", .{});
}

pub fn c83() Failed!void {
    try c.openFails("fd://3", tern.ENOTFOUND);
    try c.openFails("fd://99", tern.ENOTFOUND);
}

pub fn c84() Failed!void {
    for ([_][]const u8{ "fd://1", "fd://2" }) |url| {
        const h = try c.opened(url);
        defer tern.resource_close(h);
        try c.expectEq(tern.resource_flush(h), 0, "resource_flush({s})", .{url});
    }
}
