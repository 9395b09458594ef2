//! Cases 85-105: file:// under $TERN_CONFORMANCE_DIR (the harness checks the files afterwards) and
//! module dagger.

const std = @import("std");
const tern = @import("tern");
const c = @import("check.zig");
const Failed = c.Failed;

fn openFile(rest: []const u8) Failed!i32 {
    return c.opened(try c.fileUrl(rest));
}

/// Opens `rest`, writes `bytes` with one write, closes.
fn writeFile(rest: []const u8, bytes: []const u8) Failed!void {
    const h = try openFile(rest);
    defer tern.resource_close(h);
    try c.writeWhole(h, bytes);
}

/// The whole content of `rest` (with its ?mode), read with the SDK's readUrl.
fn content(rest: []const u8) Failed![]u8 {
    const url = try c.fileUrl(rest);
    return tern.sdk.readUrl(c.allocator, url, 1 << 16) catch |e| c.fail("sdk.readUrl({s}): {s}", .{ url, @errorName(e) });
}

pub fn c85() Failed!void {
    const h = try openFile("hello.txt");
    defer tern.resource_close(h);
    try c.expectBytes(try c.readToEof(h), "hello, file\n", "hello.txt", .{});
    var buf: [4]u8 = undefined;
    try c.expectEq(tern.resource_read(h, &buf, 4), tern.EOF, "resource_read at the end, again", .{});
    try c.expectBytes(try content("hello.txt"), "hello, file\n", "sdk.readUrl(hello.txt)", .{});
}

pub fn c86() Failed!void {
    try c.expectBytes(try content("with%20space.txt?mode=r"), "spaced out\n", "with%20space.txt", .{});
}

pub fn c87() Failed!void {
    const h = try openFile("rw.txt");
    defer tern.resource_close(h);
    var buf: [4]u8 = undefined;
    try c.expectEq(tern.resource_read(h, &buf, 4), 4, "resource_read(rw.txt, buf, 4)", .{});
    try c.expectBytes(&buf, "0123", "the first 4 bytes", .{});
    try c.writeWhole(h, "AB");
}

pub fn c88() Failed!void {
    const h = try openFile("hello.txt?mode=r");
    defer tern.resource_close(h);
    var buf: [5]u8 = undefined;
    try c.expectEq(tern.resource_read(h, &buf, 5), 5, "resource_read(hello.txt?mode=r, buf, 5)", .{});
    try c.expectBytes(&buf, "hello", "the first 5 bytes", .{});
    try c.expectEq(tern.resource_write(h, "overwritten", 11), tern.EUNSUPPORTED, "resource_write on a mode=r file", .{});
}

pub fn c89() Failed!void {
    try c.openFails(try c.fileUrl("missing.txt?mode=r"), tern.ENOTFOUND);
}

pub fn c90() Failed!void {
    try c.openFails(try c.fileUrl("missing-too.txt"), tern.ENOTFOUND);
    try c.openFails(try c.fileUrl("missing-too.txt?mode=r"), tern.ENOTFOUND);
}

pub fn c91() Failed!void {
    try writeFile("created.txt?mode=w", "created by c91\n");
}

pub fn c92() Failed!void {
    try writeFile("truncate.txt?mode=w", "short\n");
    try c.expectBytes(try content("truncate.txt?mode=r"), "short\n", "truncate.txt after mode=w", .{});
}

pub fn c93() Failed!void {
    try writeFile("append.txt?mode=a", "two\n");
    try writeFile("new-append.txt?mode=a", "fresh\n");
    try c.expectBytes(try content("append.txt?mode=r"), "one\ntwo\n", "append.txt after mode=a", .{});
}

pub fn c94() Failed!void {
    try writeFile("rw-new.txt?mode=rw", "made by mode=rw\n");
    try c.expectBytes(try content("rw-new.txt?mode=rw"), "made by mode=rw\n", "rw-new.txt read back", .{});
}

pub fn c95() Failed!void {
    try c.openFails(try c.fileUrl("subdir"), tern.EINVAL);
    try c.openFails(try c.fileUrl("subdir?mode=r"), tern.EINVAL);
}

pub fn c96() Failed!void {
    const h = try openFile("flushed.txt?mode=w");
    defer tern.resource_close(h);
    try c.writeWhole(h, "synced\n");
    try c.expectEq(tern.resource_flush(h), 0, "resource_flush(file://)", .{});
}

pub fn c97() Failed!void {
    const h = try openFile("write-only.txt?mode=w");
    defer tern.resource_close(h);
    try c.writeWhole(h, "w\n");
    var buf: [4]u8 = undefined;
    try c.expectEq(tern.resource_read(h, &buf, 4), tern.EUNSUPPORTED, "resource_read on a mode=w file", .{});
}

/// dagger.open of `url`, failing unless it gives a handle > 2.
fn dopened(url: [:0]const u8) Failed!i32 {
    const h = tern.dagger.open(url.ptr, 0);
    if (h <= 2) return c.fail("dagger.open(\"{s}\"): expected a handle > 2, got {d}", .{ url, h });
    return h;
}

pub fn c98() Failed!void {
    const h = try dopened("zero://");
    defer tern.resource_close(h);
    var buf = [_]u8{0xAA} ** 8;
    try c.expectEq(tern.resource_read(h, &buf, 8), 8, "resource_read on a dagger handle", .{});
    try c.ensure(std.mem.allEqual(u8, &buf, 0), "the bytes of zero:// are not zero", .{});
}

pub fn c99() Failed!void {
    const null_h = try dopened("null://");
    defer tern.resource_close(null_h);
    const zero_h = try dopened("zero://");
    defer tern.resource_close(zero_h);
    var buf: [8]u8 = undefined;
    try c.expectEq(tern.dagger.read(null_h, &buf, 8), 0, "dagger.read(null://)", .{});
    try c.expectEq(tern.dagger.read(zero_h, &buf, 8), 8, "dagger.read(zero://, buf, 8)", .{});
}

pub fn c100() Failed!void {
    const h = try dopened("fd://1");
    const line = "c100: via dagger\n";
    const n = tern.dagger.write(h, line, line.len);
    const closed = tern.dagger.close(h);
    try c.expectEq(n, line.len, "dagger.write(fd://1)", .{});
    try c.expectEq(closed, 0, "dagger.close", .{});
}

pub fn c101() Failed!void {
    const h = try dopened("null://");
    defer tern.resource_close(h);
    try c.expectEq(tern.dagger.sync(h), 0, "dagger.sync(null://)", .{});
    try c.expectEq(tern.dagger.sync(999), tern.EINVAL, "dagger.sync(999)", .{});
}

pub fn c102() Failed!void {
    const h = try dopened("zero://");
    try c.expectEq(tern.dagger.close(h), 0, "dagger.close({d})", .{h});
    try c.expectEq(tern.dagger.close(h), tern.EINVAL, "dagger.close({d}) again", .{h});
    var buf: [4]u8 = undefined;
    try c.expectEq(tern.resource_read(h, &buf, 4), tern.EINVAL, "resource_read after dagger.close", .{});
}

pub fn c103() Failed!void {
    const lots = c.allocator.alloc(u8, 5000) catch return c.fail("out of memory", .{});
    @memset(lots, 'a');
    const no_nul: [*:0]const u8 = @ptrCast(lots.ptr); // deliberately not NUL-terminated
    try c.expectEq(tern.dagger.open(no_nul, 0), tern.EINVAL, "dagger.open(5000 x 'a', no NUL)", .{});
    const edge = c.Edge.grow();
    const at: [*:0]const u8 = @ptrCast(edge.putAtEnd("null://"));
    const got = tern.dagger.open(at, 0);
    try c.ensure(@wasmMemorySize(0) * 65536 == edge.end, "memory grew during the call", .{});
    try c.expectEq(got, tern.EINVAL, "dagger.open(\"null://\" at the end of memory, no NUL)", .{});
}

pub fn c104() Failed!void {
    const url = try c.fileUrl("../outside.txt");
    const got = tern.dagger.open(url.ptr, 0);
    if (got >= 0) tern.resource_close(got);
    try c.expectEq(got, tern.EPERM, "dagger.open(\"{s}\")", .{url});
}

pub fn c105() Failed!void {
    const zero_h = try dopened("zero://");
    defer tern.resource_close(zero_h);
    const null_h = try dopened("null://");
    defer tern.resource_close(null_h);
    const edge = c.Edge.grow();
    const r = tern.dagger.read(zero_h, edge.nearEnd(), 16);
    const w = tern.dagger.write(null_h, edge.nearEnd(), 16);
    try edge.untouched();
    try c.expectEq(r, tern.EINVAL, "dagger.read(zero://, <end of memory - 2>, 16)", .{});
    try c.expectEq(w, tern.EINVAL, "dagger.write(null://, <end of memory - 2>, 16)", .{});
}
