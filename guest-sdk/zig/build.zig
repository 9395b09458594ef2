//! The tern guest package for Zig's package manager: module `tern` (tern.zig), and `zig build`
//! builds the examples for wasm32-freestanding into zig-out/bin (hello.wasm, cgi.wasm).
//!
//! In another project: `zig fetch --save PATH-OR-URL`, then
//! `exe.root_module.addImport("tern", b.dependency("tern", .{}).module("tern"));`
const std = @import("std");

pub fn build(b: *std.Build) void {
    const tern = b.addModule("tern", .{ .root_source_file = b.path("tern.zig") });
    const target = b.resolveTargetQuery(.{ .cpu_arch = .wasm32, .os_tag = .freestanding });
    const optimize = b.standardOptimizeOption(.{ .preferred_optimize_mode = .ReleaseSmall });
    for ([_][]const u8{ "hello", "cgi" }) |name| {
        const exe = b.addExecutable(.{
            .name = name,
            .root_module = b.createModule(.{
                .root_source_file = b.path(b.fmt("examples/{s}.zig", .{name})),
                .target = target,
                .optimize = optimize,
                .imports = &.{.{ .name = "tern", .module = tern }},
            }),
        });
        // A tern guest is a library-like module: no _start, cwa_main is the entry point.
        exe.entry = .disabled;
        exe.root_module.export_symbol_names = &.{"cwa_main"};
        b.installArtifact(exe);
    }
}
