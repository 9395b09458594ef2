//! The tern stream ABI (abi/ABI.md, version 1.1) for Zig guests: the imports, the constants, and
//! (in `sdk`) helpers for strings, environment variables and arguments, whole resources and CGI.
//!
//! Build a guest for `wasm32-freestanding` (no libc, no WASI):
//!
//!     zig build-exe -target wasm32-freestanding -fno-entry --export=cwa_main -O ReleaseSmall \
//!         --dep tern -Mroot=hello.zig -Mtern=guest-sdk/zig/tern.zig
//!
//! Every import and constant here is checked against the tern-abi crate (abi/src/lib.rs) by the
//! conformance harness's tests (conformance/harness/src/sdk_bindings.rs): keep one declaration per
//! line, in the form below. Pointers and lengths are 32-bit; error numbers are negative.

pub const sdk = @import("sdk.zig");
pub const cgi = @import("cgi.zig");

pub const SPEC_MAJOR: i32 = 1;
pub const SPEC_MINOR: i32 = 1;

// Error numbers (ABI.md §2).
pub const EUNKNOWN: i32 = -1;
pub const EINVAL: i32 = -2;
pub const EPERM: i32 = -3;
pub const ENOTFOUND: i32 = -4;
pub const EOF: i32 = -5;
pub const EUNSUPPORTED: i32 = -6;
pub const ELIMIT: i32 = -7;
pub const ETIMEOUT: i32 = -8;
pub const ECONNECT: i32 = -9;

// log_write levels.
pub const LOG_ERROR: i32 = 1;
pub const LOG_WARNING: i32 = 3;
pub const LOG_INFO: i32 = 6;

// The standard handles.
pub const STDIN: i32 = 0;
pub const STDOUT: i32 = 1;
pub const STDERR: i32 = 2;

// Exit statuses of `tern run` when the guest did not choose one.
pub const EXIT_TRAP: i32 = 134;
pub const EXIT_TIMEOUT: i32 = 124;
pub const EXIT_RUNTIME_ERROR: i32 = 125;

pub extern "cwa" fn log_write(level: i32, ptr: [*]const u8, len: usize) void;
pub extern "cwa" fn env_get(key: [*]const u8, key_len: usize, val: [*]u8, val_len: usize) i32;
pub extern "cwa" fn runtime_exit(status: i32) noreturn;
pub extern "cwa" fn runtime_spec_major() i32;
pub extern "cwa" fn runtime_spec_minor() i32;
pub extern "cwa" fn runtime_name(ptr: [*]u8, len: usize) i32;
pub extern "cwa" fn runtime_msleep(ms: i32) void;
pub extern "cwa" fn startup_arg_len() i32;
pub extern "cwa" fn startup_arg_at(i: i32, ptr: [*]u8, len: usize) i32;
pub extern "cwa" fn time_now() i64;
pub extern "cwa" fn time_now_ns() i64; // minor 1
pub extern "cwa" fn time_monotonic_ns() i64; // minor 1
pub extern "cwa" fn random_i32() i32;
pub extern "cwa" fn random_i64() i64;
pub extern "cwa" fn random_fill(ptr: [*]u8, len: usize) i32; // minor 1
pub extern "cwa" fn resource_open(url: [*]const u8, url_len: usize) i32;
pub extern "cwa" fn resource_read(handle: i32, ptr: [*]u8, len: usize) i32;
pub extern "cwa" fn resource_write(handle: i32, ptr: [*]const u8, len: usize) i32;
pub extern "cwa" fn resource_close(handle: i32) void;
pub extern "cwa" fn resource_flush(handle: i32) i32;
pub extern "cwa" fn io_get_stdin() i32;
pub extern "cwa" fn io_get_stdout() i32;
pub extern "cwa" fn io_get_stderr() i32;

/// Module dagger (ABI.md §6): Olin's first ABI. URLs are NUL-terminated; reads return 0 at the end.
pub const dagger = struct {
    pub extern "dagger" fn open(url: [*:0]const u8, flags: i32) i32;
    pub extern "dagger" fn close(fd: i32) i32;
    pub extern "dagger" fn read(fd: i32, ptr: [*]u8, len: usize) i32;
    pub extern "dagger" fn write(fd: i32, ptr: [*]const u8, len: usize) i32;
    pub extern "dagger" fn sync(fd: i32) i32;
};
