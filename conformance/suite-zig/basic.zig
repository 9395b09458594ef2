//! Cases 1-49 and the cases that end the run: the runtime, the standard handles, log_write,
//! env_get and the arguments, time, randomness.

const std = @import("std");
const tern = @import("tern");
const c = @import("check.zig");
const Failed = c.Failed;

pub fn c1() Failed!void {
    try c.expectEq(tern.runtime_spec_major(), 1, "runtime_spec_major()", .{});
}

pub fn c2() Failed!void {
    const minor = tern.runtime_spec_minor();
    try c.ensure(minor >= 1, "runtime_spec_minor(): expected >= 1, got {d}", .{minor});
}

/// The runtime's name as case 3 checks it.
fn readName(buf: *[64]u8) Failed![]u8 {
    @memset(buf, 0xEE);
    const n = tern.runtime_name(buf, 64);
    try c.ensure(n > 0 and n <= 64, "runtime_name(buf, 64) returned {d}", .{n});
    const len: usize = @intCast(n);
    for (buf[len..]) |b| try c.ensure(b == 0xEE, "runtime_name wrote past the returned length {d}", .{len});
    try c.ensure(std.unicode.utf8ValidateSlice(buf[0..len]), "runtime_name is not UTF-8", .{});
    return buf[0..len];
}

pub fn c3() Failed!void {
    var buf: [64]u8 = undefined;
    const name = try readName(&buf);
    tern.sdk.print("# runtime_name: {s}\n", .{name});
}

pub fn c4() Failed!void {
    var probe: [64]u8 = undefined;
    const n = (try readName(&probe)).len;
    var buf = [_]u8{0xEE} ** 64;
    try c.expectEq(tern.runtime_name(&buf, n - 1), tern.EINVAL, "runtime_name(buf, {d})", .{n - 1});
    for (buf) |b| try c.ensure(b == 0xEE, "runtime_name wrote into a too-small buffer", .{});
    try c.expectEq(tern.runtime_name(&buf, n), @intCast(n), "runtime_name(buf, {d})", .{n});
}

pub fn c5() Failed!void {
    const edge = c.Edge.grow();
    try edge.expectOutOfBounds(tern.runtime_name(edge.nearEnd(), 16), "runtime_name(<end of memory - 2>, 16)");
}

pub fn c7() Failed!void {
    for (0..3) |_| try c.expectEq(tern.io_get_stdin(), 0, "io_get_stdin()", .{});
}

pub fn c8() Failed!void {
    for (0..3) |_| try c.expectEq(tern.io_get_stdout(), 1, "io_get_stdout()", .{});
}

pub fn c9() Failed!void {
    for (0..3) |_| try c.expectEq(tern.io_get_stderr(), 2, "io_get_stderr()", .{});
}

pub fn c10() Failed!void {
    try c.writeWhole(1, "c10: written to handle 1\n");
}

pub fn c11() Failed!void {
    try c.writeWhole(2, "c11: written to handle 2\n");
}

pub fn c12() Failed!void {
    var buf: [11]u8 = undefined;
    var got: usize = 0;
    while (got < buf.len) {
        const n = tern.resource_read(0, buf[got..].ptr, buf.len - got);
        try c.ensure(n >= 1 and n <= buf.len - got, "resource_read(0) returned {d} after {d} bytes (\"{}\")", .{ n, got, std.zig.fmtEscapes(buf[0..got]) });
        got += @intCast(n);
    }
    try c.expectBytes(&buf, "first line\n", "stdin", .{});
}

pub fn c13() Failed!void {
    const h = try c.opened("fd://0");
    defer tern.resource_close(h);
    try c.expectBytes(try c.readToEof(h), "second line\n", "the rest of stdin read from fd://0", .{});
}

pub fn c14() Failed!void {
    var buf: [16]u8 = undefined;
    for (0..2) |_| try c.expectEq(tern.resource_read(0, &buf, 16), tern.EOF, "resource_read(0) at the end", .{});
}

pub fn c15() Failed!void {
    var buf: [8]u8 = undefined;
    try c.expectEq(tern.resource_read(1, &buf, 8), tern.EUNSUPPORTED, "resource_read(1)", .{});
}

pub fn c16() Failed!void {
    try c.expectEq(tern.resource_write(0, "x", 1), tern.EUNSUPPORTED, "resource_write(0)", .{});
}

pub fn c17() Failed!void {
    tern.sdk.log(tern.LOG_ERROR, "c17: an error line");
}

pub fn c18() Failed!void {
    tern.sdk.log(tern.LOG_WARNING, "c18: a warning line");
}

pub fn c19() Failed!void {
    tern.sdk.log(tern.LOG_INFO, "c19: an info line");
}

pub fn c20() Failed!void {
    tern.sdk.log(42, "c20: level 42");
    tern.sdk.log(-1, "c20: level -1");
}

pub fn c21() Failed!void {
    const edge = c.Edge.grow();
    tern.sdk.log(tern.LOG_INFO, "c21: before");
    tern.log_write(tern.LOG_INFO, edge.nearEnd(), 16);
    tern.log_write(tern.LOG_INFO, c.wrapping(), 2);
    tern.sdk.log(tern.LOG_INFO, "c21: after");
}

const greeting = "hello, conformance";

pub fn c22() Failed!void {
    var buf = [_]u8{0xEE} ** 64;
    try c.expectEq(tern.env_get("CONF_GREETING", 13, &buf, 64), 18, "env_get(CONF_GREETING, buf, 64)", .{});
    try c.expectBytes(buf[0..18], greeting, "the value", .{});
    for (buf[18..]) |b| try c.ensure(b == 0xEE, "env_get wrote past the value", .{});
    const v = tern.sdk.env(c.allocator, "CONF_GREETING") catch |e| return c.fail("sdk.env(CONF_GREETING): {s}", .{@errorName(e)});
    try c.expectBytes(v, greeting, "sdk.env(CONF_GREETING)", .{});
}

pub fn c23() Failed!void {
    var buf = [_]u8{0xEE} ** 18;
    try c.expectEq(tern.env_get("CONF_GREETING", 13, &buf, 18), 18, "env_get(CONF_GREETING, buf, 18)", .{});
    try c.expectBytes(&buf, greeting, "the value", .{});
}

pub fn c24() Failed!void {
    var buf = [_]u8{0xEE} ** 5;
    try c.expectEq(tern.env_get("CONF_GREETING", 13, &buf, 5), 18, "env_get(CONF_GREETING, buf, 5)", .{});
    for (buf) |b| try c.ensure(b == 0xEE, "env_get wrote into a too-small buffer: b\"{}\"", .{std.zig.fmtEscapes(&buf)});
}

pub fn c25() Failed!void {
    var buf: [1]u8 = undefined;
    try c.expectEq(tern.env_get("CONF_GREETING", 13, &buf, 0), 18, "env_get(CONF_GREETING, buf, 0)", .{});
}

pub fn c26() Failed!void {
    var buf = [_]u8{0xEE} ** 16;
    try c.expectEq(tern.env_get("CONF_MISSING", 12, &buf, 16), tern.ENOTFOUND, "env_get(CONF_MISSING)", .{});
    try c.expectEq(tern.env_get("conf_greeting", 13, &buf, 16), tern.ENOTFOUND, "env_get(conf_greeting)", .{});
    for (buf) |b| try c.ensure(b == 0xEE, "env_get wrote for a missing variable", .{});
    if (tern.sdk.env(c.allocator, "CONF_MISSING")) |_| {
        return c.fail("sdk.env(CONF_MISSING) found a value", .{});
    } else |e| try c.ensure(e == error.NotFound, "sdk.env(CONF_MISSING): {s}", .{@errorName(e)});
}

pub fn c27() Failed!void {
    var buf: [16]u8 = undefined;
    try c.expectEq(tern.env_get("CONF_EMPTY", 10, &buf, 16), 0, "env_get(CONF_EMPTY)", .{});
}

pub fn c28() Failed!void {
    const want = "ünïcødé ✓";
    var buf: [64]u8 = undefined;
    try c.expectEq(tern.env_get("CONF_UNICODE", 12, &buf, 64), want.len, "env_get(CONF_UNICODE) (UTF-8 bytes)", .{});
    try c.expectBytes(buf[0..want.len], want, "the value", .{});
}

pub fn c29() Failed!void {
    const v = tern.sdk.env(c.allocator, "CONF_EQUALS") catch |e| return c.fail("sdk.env(CONF_EQUALS): {s}", .{@errorName(e)});
    try c.expectBytes(v, "a=b=c", "sdk.env(CONF_EQUALS)", .{});
}

pub fn c30() Failed!void {
    const edge = c.Edge.grow();
    var buf: [16]u8 = undefined;
    try edge.expectOutOfBounds(tern.env_get(edge.nearEnd(), 16, &buf, 16), "env_get(<key at end of memory - 2, 16 bytes>)");
}

pub fn c31() Failed!void {
    const edge = c.Edge.grow();
    try edge.expectOutOfBounds(tern.env_get("CONF_GREETING", 13, edge.nearEnd(), 64), "env_get(CONF_GREETING, <end of memory - 2>, 64)");
}

pub fn c32() Failed!void {
    var buf: [16]u8 = undefined;
    try c.expectEq(tern.env_get("CONF_\xff", 6, &buf, 16), tern.EINVAL, "env_get(b\"CONF_\\xff\")", .{});
}

/// The arguments run main passes after the run name (cases.toml, [[run]] main, `args`).
const args = [_][]const u8{ "alpha", "two words", "ünïcødé ✓", "", "--allow=file:///", "last" };

pub fn c33() Failed!void {
    try c.expectEq(tern.startup_arg_len(), 8, "startup_arg_len()", .{});
    try c.expectEq(@intCast(tern.sdk.argCount()), 8, "sdk.argCount()", .{});
}

pub fn c34() Failed!void {
    var buf: [4096]u8 = undefined;
    const n = tern.startup_arg_at(0, &buf, buf.len);
    try c.ensure(n > 0, "startup_arg_at(0) returned {d}", .{n});
    const run = tern.sdk.arg(c.allocator, 1) catch |e| return c.fail("sdk.arg(1): {s}", .{@errorName(e)});
    try c.expectBytes(run, "main", "sdk.arg(1)", .{});
}

pub fn c35() Failed!void {
    for (args, 2..) |want, i| {
        var buf = [_]u8{0xEE} ** 64;
        try c.expectEq(tern.startup_arg_at(@intCast(i), &buf, 64), @intCast(want.len), "startup_arg_at({d}) length", .{i});
        try c.expectBytes(buf[0..want.len], want, "startup_arg_at({d})", .{i});
        const got = tern.sdk.arg(c.allocator, @intCast(i)) catch |e| return c.fail("sdk.arg({d}): {s}", .{ i, @errorName(e) });
        try c.expectBytes(got, want, "sdk.arg({d})", .{i});
    }
}

pub fn c36() Failed!void {
    var buf = [_]u8{0xEE} ** 4;
    try c.expectEq(tern.startup_arg_at(3, &buf, 4), 9, "startup_arg_at(3, buf, 4)", .{});
    for (buf) |b| try c.ensure(b == 0xEE, "startup_arg_at wrote into a too-small buffer: b\"{}\"", .{std.zig.fmtEscapes(&buf)});
}

pub fn c37() Failed!void {
    var buf: [16]u8 = undefined;
    const count = tern.startup_arg_len();
    try c.expectEq(tern.startup_arg_at(count, &buf, 16), tern.EINVAL, "startup_arg_at({d})", .{count});
    try c.expectEq(tern.startup_arg_at(1000, &buf, 16), tern.EINVAL, "startup_arg_at(1000)", .{});
}

pub fn c38() Failed!void {
    var buf: [16]u8 = undefined;
    try c.expectEq(tern.startup_arg_at(-1, &buf, 16), tern.EINVAL, "startup_arg_at(-1)", .{});
}

pub fn c39() Failed!void {
    const edge = c.Edge.grow();
    try edge.expectOutOfBounds(tern.startup_arg_at(1, edge.nearEnd(), 16), "startup_arg_at(1, <end of memory - 2>, 16)");
}

pub fn c40() Failed!void {
    const t = tern.time_now();
    try c.ensure(t > 1_600_000_000 and t < 4_102_444_800, "time_now() = {d} is not between 2020 and 2100", .{t});
}

pub fn c41() Failed!void {
    const before = tern.time_now();
    const ns = tern.time_now_ns();
    const after = tern.time_now();
    const secs = @divTrunc(ns, 1_000_000_000);
    try c.ensure(before <= secs + 1 and secs <= after + 1, "time_now_ns() = {d} disagrees with time_now() = {d}..{d}", .{ ns, before, after });
}

pub fn c42() Failed!void {
    var last = tern.time_monotonic_ns();
    try c.ensure(last >= 0, "time_monotonic_ns() = {d} is negative", .{last});
    for (0..1000) |i| {
        const now = tern.time_monotonic_ns();
        try c.ensure(now >= last, "time_monotonic_ns() went back at call {d}: {d} -> {d}", .{ i, last, now });
        last = now;
    }
}

pub fn c43() Failed!void {
    const start = tern.time_monotonic_ns();
    tern.runtime_msleep(50);
    const slept = tern.time_monotonic_ns() - start;
    try c.ensure(slept >= 50_000_000, "runtime_msleep(50) returned after {d} ns", .{slept});
}

pub fn c44() Failed!void {
    const start = tern.time_monotonic_ns();
    tern.runtime_msleep(0);
    tern.runtime_msleep(-1000);
    const slept = tern.time_monotonic_ns() - start;
    try c.ensure(slept < 500_000_000, "runtime_msleep(0) and runtime_msleep(-1000) took {d} ns", .{slept});
}

pub fn c45() Failed!void {
    const first = tern.random_i32();
    for (0..15) |_| if (tern.random_i32() != first) return;
    return c.fail("random_i32() returned {d} 16 times", .{first});
}

pub fn c46() Failed!void {
    var values: [16]i64 = undefined;
    var differ = false;
    var high = false;
    for (&values) |*v| {
        v.* = tern.random_i64();
        if (v.* != values[0]) differ = true;
        if (@as(u64, @bitCast(v.*)) >> 32 != 0) high = true;
    }
    try c.ensure(differ, "random_i64() returned {d} 16 times", .{values[0]});
    try c.ensure(high, "random_i64() never set the upper 32 bits", .{});
}

pub fn c47() Failed!void {
    var a = [_]u8{0} ** 64;
    var b = [_]u8{0} ** 64;
    try c.expectEq(tern.random_fill(&a, 64), 64, "random_fill(buf, 64)", .{});
    try c.expectEq(tern.random_fill(&b, 64), 64, "random_fill(buf, 64)", .{});
    try c.ensure(!std.mem.eql(u8, &a, &b), "two random_fill calls gave the same 64 bytes", .{});
    try c.ensure(!std.mem.allEqual(u8, &a, 0), "random_fill left 64 zero bytes", .{});
}

pub fn c48() Failed!void {
    var a: [1]u8 = undefined;
    try c.expectEq(tern.random_fill(&a, 0), 0, "random_fill(buf, 0)", .{});
}

pub fn c49() Failed!void {
    const edge = c.Edge.grow();
    try edge.expectOutOfBounds(tern.random_fill(edge.nearEnd(), 16), "random_fill(<end of memory - 2>, 16)");
}

// ---- Cases that end the run: reported ok first, then the harness judges what happens. ----------

pub fn e106() i32 {
    return 0;
}

pub fn e107() i32 {
    tern.sdk.writeAll(1, "c107: before runtime_exit\n") catch {};
    tern.runtime_exit(7);
}

pub fn e108() i32 {
    return 3;
}

pub fn e109() i32 {
    @trap();
}

pub fn e110() i32 {
    tern.runtime_msleep(600_000);
    return 0;
}

pub fn e111() i32 {
    var n: u64 = 0;
    while (true) {
        n +%= 1;
        std.mem.doNotOptimizeAway(n);
    }
}

/// A memory.grow past the run's --max-memory-pages (100) is refused with -1.
pub fn c112() Failed!void {
    const before = @wasmMemorySize(0);
    try c.expectEq(@wasmMemoryGrow(0, 1000), -1, "memory.grow(1000) under --max-memory-pages 100", .{});
    try c.expectEq(@intCast(@wasmMemorySize(0)), @intCast(before), "memory pages after the refused grow", .{});
}

pub fn e115() i32 {
    return 5;
}

pub fn c113() Failed!void {
    tern.resource_close(0);
    var buf: [8]u8 = undefined;
    try c.expectEq(tern.resource_read(0, &buf, 8), tern.EINVAL, "resource_read(0) after close", .{});
    try c.expectEq(tern.io_get_stdin(), 0, "io_get_stdin() after close", .{});
    const h = c.open("null://");
    tern.resource_close(h);
    try c.expectEq(h, 0, "resource_open(\"null://\") after closing 0", .{});
}

pub fn c114() Failed!void {
    try c.writeWhole(1, "c114: before close\n");
    tern.resource_close(1);
    try c.expectEq(tern.resource_write(1, "c114: after close\n", 18), tern.EINVAL, "resource_write(1) after close", .{});
    try c.expectEq(tern.io_get_stdout(), 1, "io_get_stdout() after close", .{});
}

/// Module env's functions (Olin's CommonWA module name), bound under other symbol names so they do
/// not clash with the same imports from module cwa.
const env_module = struct {
    const spec_major = @extern(*const fn () callconv(.c) i32, .{ .name = "runtime_spec_major", .library_name = "env" });
    const io_get_stdout = @extern(*const fn () callconv(.c) i32, .{ .name = "io_get_stdout", .library_name = "env" });
    const env_get = @extern(*const fn ([*]const u8, usize, [*]u8, usize) callconv(.c) i32, .{ .name = "env_get", .library_name = "env" });
};

pub fn c6() Failed!void {
    try c.expectEq(env_module.spec_major(), 1, "env.runtime_spec_major()", .{});
    try c.expectEq(env_module.io_get_stdout(), 1, "env.io_get_stdout()", .{});
    var buf: [64]u8 = undefined;
    try c.expectEq(env_module.env_get("CONF_GREETING", 13, &buf, 64), 18, "env.env_get(CONF_GREETING)", .{});
    try c.expectBytes(buf[0..18], greeting, "env.env_get value", .{});
}
