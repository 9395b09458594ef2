//! The tern conformance suite written in Zig with guest-sdk/zig: the harness runs it once per run
//! of cases.toml with the run's name as argument 1, and it prints one TAP line per case of that
//! run. A case is implemented by a function `cN` (a check) or `eN` (ends the run) in one of the
//! case files; a case with neither is reported as `# SKIP`, so the port can grow case by case.

const std = @import("std");
const tern = @import("tern");
const table = @import("cases.zig"); // generated from cases.toml by conformance/gen-cases.py
const check = @import("check.zig");
const handler = @import("handler.zig");

const case_files = .{
    @import("basic.zig"),
    @import("handles.zig"),
    @import("files.zig"),
    @import("net.zig"),
};

var tap_handle: i32 = tern.STDOUT;

fn tap(comptime fmt: []const u8, args: anytype) void {
    tern.sdk.printTo(tap_handle, fmt, args);
}

/// Writes `text` as "# " comment lines.
pub fn comment(text: []const u8) void {
    var lines = std.mem.splitScalar(u8, text, '\n');
    while (lines.next()) |line| tap("# {s}\n", .{line});
}

const Outcome = union(enum) { passed, failed: []const u8, skipped: []const u8, ends: i32 };

/// Runs case `id` if this port has it.
fn runCase(id: u32) Outcome {
    inline for (1..table.cases.len + 1) |n| {
        if (id == n) {
            const check_name = std.fmt.comptimePrint("c{d}", .{n});
            const end_name = std.fmt.comptimePrint("e{d}", .{n});
            inline for (case_files) |file| {
                if (@hasDecl(file, check_name)) {
                    @field(file, check_name)() catch return .{ .failed = check.reason() };
                    return .passed;
                }
                if (@hasDecl(file, end_name)) return .{ .ends = n };
            }
        }
    }
    return .{ .skipped = "not ported to Zig yet" };
}

/// Calls the `eN` function of case `n`, which ends the run or returns its exit status.
fn endRun(id: u32) i32 {
    inline for (1..table.cases.len + 1) |n| {
        if (id == n) {
            const end_name = std.fmt.comptimePrint("e{d}", .{n});
            inline for (case_files) |file| {
                if (@hasDecl(file, end_name)) return @field(file, end_name)();
            }
        }
    }
    return 2;
}

fn runCases(run: []const u8) i32 {
    tap_handle = tern.STDOUT;
    var known = false;
    for (table.runs) |r| {
        if (std.mem.eql(u8, r.name, run)) {
            known = true;
            if (r.tap_stderr) tap_handle = tern.STDERR;
        }
    }
    if (!known) {
        comment("unknown run: argument 1 must name a run of cases.toml");
        return 2;
    }
    tap("# sdk: {s} (Zig) {s}\n", .{ tern.sdk.name, tern.sdk.version });
    var status: i32 = 0;
    for (table.cases) |c| {
        if (!std.mem.eql(u8, c.run, run)) continue;
        switch (runCase(c.id)) {
            .passed => tap("ok {d} - {s}\n", .{ c.id, c.name }),
            .failed => |why| {
                tap("not ok {d} - {s}\n", .{ c.id, c.name });
                comment(why);
            },
            .skipped => |why| tap("ok {d} - {s} # SKIP {s}\n", .{ c.id, c.name, why }),
            .ends => {
                // Reported first; the harness judges what happens next.
                tap("ok {d} - {s}\n", .{ c.id, c.name });
                status = endRun(c.id);
            },
        }
    }
    return status;
}

/// Run cgi's TAP line for case `id` (handler.zig).
fn reportCgi(id: u32, verdict: check.Failed!void) void {
    tap_handle = tern.STDOUT;
    var name: []const u8 = "";
    for (table.cases) |c| {
        if (c.id == id) name = c.name;
    }
    if (verdict) |_| {
        tap("ok {d} - {s}\n", .{ id, name });
    } else |_| {
        tap("not ok {d} - {s}\n", .{ id, name });
        comment(check.reason());
    }
}

export fn cwa_main() i32 {
    if (handler.isHandler()) return handler.serve(reportCgi); // run cgi: one request from `tern serve`
    const run = tern.sdk.arg(check.allocator, 1) catch "";
    if (std.mem.eql(u8, run, "invoke")) {
        // The runtime should have called conformance_invoke (case 115), not cwa_main.
        for (table.cases) |c| {
            if (std.mem.eql(u8, c.run, run)) {
                tap("not ok {d} - {s}\n# the runtime called cwa_main instead of the --invoke export\n", .{ c.id, c.name });
            }
        }
        return 0;
    }
    return runCases(run);
}

export fn conformance_invoke() i32 {
    return runCases("invoke");
}
