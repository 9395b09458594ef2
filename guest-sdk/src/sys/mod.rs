//! The raw ABI: one thin, safe function per import of module `cwa` (ABI.md §3).
//!
//! This is the only module of the crate that contains `unsafe` code. It holds
//!
//! * the `extern "C"` declarations of every function in [`tern_abi::CWA_FUNCTIONS`], imported from
//!   module [`tern_abi::module::CWA`] with exactly the ABI's signatures (every pointer and length is an
//!   `i32`; a unit test checks the declarations against `tern-abi`);
//! * the safe wrappers below, which take slices instead of pointer/length pairs and otherwise return
//!   what the host returned: a negative number is an error number (see [`Error::check`](crate::Error::check));
//! * the global allocator for `no_std` guests (private submodule `allocator`).
//!
//! Prefer the typed modules ([`env`](crate::env), [`Resource`](crate::Resource), …) in guest code; these
//! functions exist for the few things they do not cover and for testing a host.
//!
//! **Off wasm32** (when the crate is compiled for the host, e.g. by `cargo test`), the imports do not
//! exist: every raw call is a stub that returns [`tern_abi::errno::UNSUPPORTED`] (`-6`) or does nothing,
//! and [`runtime_exit`] panics.
//!
//! ```no_run
//! let mut buf = [0u8; 16];
//! let n = tern_guest::sys::runtime_name(&mut buf);
//! assert!(n >= 0);
//! assert_eq!(&buf[..n as usize], tern_abi::RUNTIME_NAME.as_bytes());
//! ```
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

#[cfg(any(
    test,
    all(target_arch = "wasm32", feature = "allocator", not(feature = "std"))
))]
mod allocator;

/// Declares the imports once: as an `extern` block on wasm32, as stubs elsewhere, and (for the unit
/// tests) as a table of names and value types to compare with `tern_abi::CWA_FUNCTIONS`.
macro_rules! imports {
    ($( fn $name:ident ( $($arg:ident : $ty:ident),* ) $(-> $ret:ident)? ; )*) => {
        #[cfg(target_arch = "wasm32")]
        mod raw {
            #[link(wasm_import_module = "cwa")]
            extern "C" {
                $( pub fn $name($($arg: $ty),*) $(-> $ret)?; )*
            }
        }

        /// Host stubs: the SDK does nothing off wasm32.
        #[cfg(not(target_arch = "wasm32"))]
        mod raw {
            $(
                #[allow(unused_variables)]
                pub unsafe fn $name($($arg: $ty),*) $(-> $ret)? {
                    $( <$ret as super::Unsupported>::UNSUPPORTED )?
                }
            )*
        }

        #[cfg(test)]
        const DECLARED: &[(&str, &[tern_abi::ValType], &[tern_abi::ValType])] = &[
            $( (
                stringify!($name),
                &[$(valtype!($ty)),*],
                &[$(valtype!($ret))?],
            ), )*
        ];
    };
}

#[cfg(test)]
macro_rules! valtype {
    (i32) => {
        tern_abi::ValType::I32
    };
    (i64) => {
        tern_abi::ValType::I64
    };
}

/// What a host stub returns: the "unsupported" error number in the import's result type.
#[cfg(not(target_arch = "wasm32"))]
trait Unsupported {
    const UNSUPPORTED: Self;
}
#[cfg(not(target_arch = "wasm32"))]
impl Unsupported for i32 {
    const UNSUPPORTED: i32 = tern_abi::errno::UNSUPPORTED;
}
#[cfg(not(target_arch = "wasm32"))]
impl Unsupported for i64 {
    const UNSUPPORTED: i64 = tern_abi::errno::UNSUPPORTED as i64;
}

imports! {
    fn log_write(level: i32, ptr: i32, len: i32);
    fn env_get(key_ptr: i32, key_len: i32, val_ptr: i32, val_len: i32) -> i32;
    fn runtime_exit(status: i32);
    fn runtime_spec_major() -> i32;
    fn runtime_spec_minor() -> i32;
    fn runtime_name(ptr: i32, len: i32) -> i32;
    fn runtime_msleep(ms: i32);
    fn startup_arg_len() -> i32;
    fn startup_arg_at(i: i32, ptr: i32, len: i32) -> i32;
    fn time_now() -> i64;
    fn time_now_ns() -> i64;
    fn time_monotonic_ns() -> i64;
    fn random_i32() -> i32;
    fn random_i64() -> i64;
    fn random_fill(ptr: i32, len: i32) -> i32;
    fn resource_open(url_ptr: i32, url_len: i32) -> i32;
    fn resource_read(h: i32, ptr: i32, len: i32) -> i32;
    fn resource_write(h: i32, ptr: i32, len: i32) -> i32;
    fn resource_close(h: i32);
    fn resource_flush(h: i32) -> i32;
    fn io_get_stdin() -> i32;
    fn io_get_stdout() -> i32;
    fn io_get_stderr() -> i32;
}

/// The guest-memory address of a buffer, as the ABI's `i32` (an unsigned offset on wasm32).
///
/// The `as usize` cast exposes the pointer's provenance, so the host may access the memory through the
/// address. Off wasm32 the value is meaningless (the stubs ignore it).
fn addr(ptr: *const u8) -> i32 {
    ptr as usize as i32
}

/// A buffer length as the ABI's `i32`. On wasm32 no slice is longer than `i32::MAX`; saturating keeps
/// the call in bounds anyway (the host then reads or writes a prefix).
fn len(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// `log_write(level, ptr, len)`: writes `message` as one line to the host log at `level`
/// ([`tern_abi::log_level`]). Invalid UTF-8 or a bad buffer is silently ignored by the host.
pub fn log_write(level: i32, message: &[u8]) {
    // SAFETY: the import has the ABI signature (checked by `declarations_match_tern_abi`); the host
    // only reads `message.len()` bytes at the address of `message`, which is borrowed for the call.
    unsafe { raw::log_write(level, addr(message.as_ptr()), len(message.len())) }
}

/// `env_get(key_ptr, key_len, val_ptr, val_len)`: looks up `key`.
///
/// Returns the value's length; when it is larger than `buf.len()`, nothing was written (call again with
/// a buffer that size — [`env::get`](crate::env::get) does this). `-4` when missing.
pub fn env_get(key: &[u8], buf: &mut [u8]) -> i32 {
    // SAFETY: the import has the ABI signature; the host reads `key` and writes at most `buf.len()`
    // bytes into `buf`, both borrowed (the latter exclusively) for the duration of the call.
    unsafe {
        raw::env_get(
            addr(key.as_ptr()),
            len(key.len()),
            addr(buf.as_mut_ptr()),
            len(buf.len()),
        )
    }
}

/// `runtime_exit(status)`: ends the guest at once with exit status `status`.
///
/// # Panics
///
/// Off wasm32 (where there is no host to exit to).
pub fn runtime_exit(status: i32) -> ! {
    // SAFETY: the import has the ABI signature and takes no pointers.
    unsafe { raw::runtime_exit(status) };
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    panic!("tern_guest: runtime_exit({status}) called off wasm32");
}

/// `runtime_spec_major()`: the ABI major version the host implements ([`tern_abi::SPEC_MAJOR`]).
pub fn runtime_spec_major() -> i32 {
    // SAFETY: the import has the ABI signature and takes no pointers.
    unsafe { raw::runtime_spec_major() }
}

/// `runtime_spec_minor()`: the ABI minor version the host implements ([`tern_abi::SPEC_MINOR`]).
pub fn runtime_spec_minor() -> i32 {
    // SAFETY: the import has the ABI signature and takes no pointers.
    unsafe { raw::runtime_spec_minor() }
}

/// `runtime_name(ptr, len)`: writes the runtime's name into `buf` and returns its length; `-2` (and
/// nothing written) when `buf` is too small.
pub fn runtime_name(buf: &mut [u8]) -> i32 {
    // SAFETY: the import has the ABI signature; the host writes at most `buf.len()` bytes into `buf`,
    // which is exclusively borrowed for the call.
    unsafe { raw::runtime_name(addr(buf.as_mut_ptr()), len(buf.len())) }
}

/// `runtime_msleep(ms)`: sleeps `ms` milliseconds (negative: no sleep).
pub fn runtime_msleep(ms: i32) {
    // SAFETY: the import has the ABI signature and takes no pointers.
    unsafe { raw::runtime_msleep(ms) }
}

/// `startup_arg_len()`: the number of arguments, counting the program name.
pub fn startup_arg_len() -> i32 {
    // SAFETY: the import has the ABI signature and takes no pointers.
    unsafe { raw::startup_arg_len() }
}

/// `startup_arg_at(i, ptr, len)`: argument `i`, with the [`env_get`] protocol (returns the needed
/// length and writes nothing when `buf` is too small; `-2` when `i` is out of range, as CommonWA
/// says; tern before 2026-12 returned `-4`).
pub fn startup_arg_at(i: i32, buf: &mut [u8]) -> i32 {
    // SAFETY: the import has the ABI signature; the host writes at most `buf.len()` bytes into `buf`,
    // which is exclusively borrowed for the call.
    unsafe { raw::startup_arg_at(i, addr(buf.as_mut_ptr()), len(buf.len())) }
}

/// `time_now()`: wall-clock seconds since the Unix epoch.
pub fn time_now() -> i64 {
    // SAFETY: the import has the ABI signature and takes no pointers.
    unsafe { raw::time_now() }
}

/// `time_now_ns()` (minor 1): wall-clock nanoseconds since the Unix epoch.
pub fn time_now_ns() -> i64 {
    // SAFETY: the import has the ABI signature and takes no pointers.
    unsafe { raw::time_now_ns() }
}

/// `time_monotonic_ns()` (minor 1): nanoseconds since a point fixed for the run; never decreases.
pub fn time_monotonic_ns() -> i64 {
    // SAFETY: the import has the ABI signature and takes no pointers.
    unsafe { raw::time_monotonic_ns() }
}

/// `random_i32()`: a cryptographically secure random number.
pub fn random_i32() -> i32 {
    // SAFETY: the import has the ABI signature and takes no pointers.
    unsafe { raw::random_i32() }
}

/// `random_i64()`: a cryptographically secure random number.
pub fn random_i64() -> i64 {
    // SAFETY: the import has the ABI signature and takes no pointers.
    unsafe { raw::random_i64() }
}

/// `random_fill(ptr, len)` (minor 1): fills `buf` with random bytes; returns the length filled.
pub fn random_fill(buf: &mut [u8]) -> i32 {
    // SAFETY: the import has the ABI signature; the host writes at most `buf.len()` bytes into `buf`,
    // which is exclusively borrowed for the call.
    unsafe { raw::random_fill(addr(buf.as_mut_ptr()), len(buf.len())) }
}

/// `resource_open(url_ptr, url_len)`: opens `url` and returns a handle (or an error number).
pub fn resource_open(url: &[u8]) -> i32 {
    // SAFETY: the import has the ABI signature; the host only reads `url`, borrowed for the call.
    unsafe { raw::resource_open(addr(url.as_ptr()), len(url.len())) }
}

/// `resource_read(h, ptr, len)`: reads into `buf`; returns the count, `-5` at the end of the stream.
pub fn resource_read(handle: i32, buf: &mut [u8]) -> i32 {
    // SAFETY: the import has the ABI signature; the host writes at most `buf.len()` bytes into `buf`,
    // which is exclusively borrowed for the call.
    unsafe { raw::resource_read(handle, addr(buf.as_mut_ptr()), len(buf.len())) }
}

/// `resource_write(h, ptr, len)`: writes `buf`; returns how many bytes were accepted.
pub fn resource_write(handle: i32, buf: &[u8]) -> i32 {
    // SAFETY: the import has the ABI signature; the host only reads `buf`, borrowed for the call.
    unsafe { raw::resource_write(handle, addr(buf.as_ptr()), len(buf.len())) }
}

/// `resource_flush(h)`: pushes buffered writes out; `0` or an error number.
pub fn resource_flush(handle: i32) -> i32 {
    // SAFETY: the import has the ABI signature and takes no pointers.
    unsafe { raw::resource_flush(handle) }
}

/// `resource_close(h)`: flushes and closes the handle (a bad handle is ignored).
pub fn resource_close(handle: i32) {
    // SAFETY: the import has the ABI signature and takes no pointers. Closing is not a memory-safety
    // concern: a stale handle number only makes later calls fail with `-2`.
    unsafe { raw::resource_close(handle) }
}

/// `io_get_stdin()`: the stdin handle (always [`tern_abi::handle::STDIN`] on tern).
pub fn io_get_stdin() -> i32 {
    // SAFETY: the import has the ABI signature and takes no pointers.
    unsafe { raw::io_get_stdin() }
}

/// `io_get_stdout()`: the stdout handle (always [`tern_abi::handle::STDOUT`] on tern).
pub fn io_get_stdout() -> i32 {
    // SAFETY: the import has the ABI signature and takes no pointers.
    unsafe { raw::io_get_stdout() }
}

/// `io_get_stderr()`: the stderr handle (always [`tern_abi::handle::STDERR`] on tern).
pub fn io_get_stderr() -> i32 {
    // SAFETY: the import has the ABI signature and takes no pointers.
    unsafe { raw::io_get_stderr() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_match_tern_abi() {
        assert_eq!(DECLARED.len(), tern_abi::CWA_FUNCTIONS.len());
        for spec in tern_abi::CWA_FUNCTIONS {
            let (_, params, results) = DECLARED
                .iter()
                .find(|(name, _, _)| *name == spec.name)
                .unwrap_or_else(|| panic!("{} is not declared", spec.name));
            assert_eq!(*params, spec.params, "{}", spec.name);
            assert_eq!(*results, spec.results, "{}", spec.name);
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn host_stubs_report_unsupported() {
        let mut buf = [0u8; 4];
        assert_eq!(env_get(b"K", &mut buf), tern_abi::errno::UNSUPPORTED);
        assert_eq!(resource_open(b"log://"), tern_abi::errno::UNSUPPORTED);
        assert_eq!(time_now(), i64::from(tern_abi::errno::UNSUPPORTED));
        log_write(tern_abi::log_level::INFO, b"ignored");
        resource_close(3);
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    #[should_panic(expected = "off wasm32")]
    fn exit_panics_off_wasm32() {
        runtime_exit(0);
    }
}
