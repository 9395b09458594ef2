//! hello.zig — a Zig guest: greets argument 1 (or "world") on stdout, logs, exits 0.
//!
//!     zig build-exe -target wasm32-freestanding -fno-entry --export=cwa_main -O ReleaseSmall \
//!         --dep tern -Mroot=guest-sdk/zig/examples/hello.zig -Mtern=guest-sdk/zig/tern.zig
//!     tern run hello.wasm Ada
const std = @import("std");
const tern = @import("tern");

export fn cwa_main() i32 {
    const allocator = std.heap.wasm_allocator;
    const who = tern.sdk.arg(allocator, 1) catch "world";
    tern.sdk.print("Hello, {s}!\n", .{who});
    tern.sdk.log(tern.LOG_INFO, "greeted from Zig");
    return 0;
}
