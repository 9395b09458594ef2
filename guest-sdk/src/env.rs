//! Environment variables and command-line arguments.
//!
//! The host gives them out one at a time, by name or by index, into a buffer the guest provides
//! (`env_get`, `startup_arg_at`). When the buffer is too small the host writes nothing and returns the
//! length it needs; these functions try a 64-byte buffer first and retry once with exactly the size the
//! host asked for.
//!
//! There is no way to list the environment: a guest can only ask for names it knows.
//!
//! ```no_run
//! use tern_guest::env;
//!
//! let args = env::args();              // args[0] is the program name
//! let home = env::get("HOME")?;        // Option<String>
//! let level = env::get("LEVEL")?.unwrap_or_else(|| "info".into());
//! # Ok::<(), tern_guest::Error>(())
//! ```

use crate::{sys, Error};
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

/// The size of the first buffer offered to the host.
const FIRST_TRY: usize = 64;
/// How many times to call the host before giving up (a value cannot keep growing).
const MAX_TRIES: usize = 4;

/// The buffer-too-small protocol of `env_get` and `startup_arg_at` (ABI.md §3).
///
/// `call` is the raw call with the output buffer: it returns a negative error number, or the length of
/// the value, which it wrote into the buffer only if it fit.
pub(crate) fn fetch(mut call: impl FnMut(&mut [u8]) -> i32) -> Result<Vec<u8>, Error> {
    let mut buf = vec![0u8; FIRST_TRY];
    for _ in 0..MAX_TRIES {
        let needed = Error::check(call(&mut buf))? as usize;
        if needed <= buf.len() {
            buf.truncate(needed);
            return Ok(buf);
        }
        buf.resize(needed, 0);
    }
    Err(Error::Unknown)
}

/// The value of the environment variable `key` as bytes, or `None` when it is not set.
///
/// ```no_run
/// let raw: Option<Vec<u8>> = tern_guest::env::get_bytes("DATA")?;
/// # Ok::<(), tern_guest::Error>(())
/// ```
pub fn get_bytes(key: &str) -> Result<Option<Vec<u8>>, Error> {
    match fetch(|buf| sys::env_get(key.as_bytes(), buf)) {
        Ok(v) => Ok(Some(v)),
        Err(Error::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The value of the environment variable `key`, or `None` when it is not set.
///
/// Fails with [`Error::InvalidArgument`] when the value is not UTF-8 (use [`get_bytes`] for those).
///
/// ```no_run
/// match tern_guest::env::get("GREETING")? {
///     Some(g) => tern_guest::println!("{g}"),
///     None => tern_guest::println!("hello"),
/// }
/// # Ok::<(), tern_guest::Error>(())
/// ```
pub fn get(key: &str) -> Result<Option<String>, Error> {
    match get_bytes(key)? {
        Some(v) => String::from_utf8(v)
            .map(Some)
            .map_err(|_| Error::InvalidArgument),
        None => Ok(None),
    }
}

/// The number of command-line arguments, counting the program name (`0` off wasm32).
///
/// ```no_run
/// if tern_guest::env::arg_count() < 2 {
///     tern_guest::eprintln!("usage: prog FILE");
/// }
/// ```
pub fn arg_count() -> usize {
    usize::try_from(sys::startup_arg_len()).unwrap_or(0)
}

/// Argument `i` (0 is the program name), or `None` when there are not that many. Invalid UTF-8 is
/// replaced with U+FFFD.
///
/// ```no_run
/// let file = tern_guest::env::arg(1)?.unwrap_or_else(|| "-".into());
/// # Ok::<(), tern_guest::Error>(())
/// ```
pub fn arg(i: usize) -> Result<Option<String>, Error> {
    let Ok(i) = i32::try_from(i) else {
        return Ok(None);
    };
    // Out of range is -2 (CommonWA) from tern now, -4 from older hosts: ask the count instead.
    if i >= sys::startup_arg_len() {
        return Ok(None);
    }
    match fetch(|buf| sys::startup_arg_at(i, buf)) {
        Ok(v) => Ok(Some(lossy(v))),
        Err(Error::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// All command-line arguments, starting with the program name. Invalid UTF-8 is replaced with U+FFFD;
/// an argument the host fails to give ends the list. Empty off wasm32.
///
/// ```no_run
/// for (i, a) in tern_guest::env::args().iter().enumerate() {
///     tern_guest::println!("argv[{i}] = {a}");
/// }
/// ```
pub fn args() -> Vec<String> {
    args_with(sys::startup_arg_len(), sys::startup_arg_at)
}

fn args_with(count: i32, mut at: impl FnMut(i32, &mut [u8]) -> i32) -> Vec<String> {
    (0..count.max(0))
        .map_while(|i| fetch(|buf| at(i, buf)).ok())
        .map(lossy)
        .collect()
}

fn lossy(v: Vec<u8>) -> String {
    String::from_utf8(v).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use tern_abi::errno;

    /// `env_get` as the ABI specifies it, over a fixed value; counts calls and records buffer sizes.
    fn host<'a>(
        value: Option<&'a [u8]>,
        sizes: &'a mut Vec<usize>,
    ) -> impl FnMut(&mut [u8]) -> i32 + 'a {
        move |buf| {
            sizes.push(buf.len());
            match value {
                None => errno::NOT_FOUND,
                Some(v) if v.len() > buf.len() => {
                    buf.fill(0xAA); // a correct host writes nothing; the SDK must not care
                    v.len() as i32
                }
                Some(v) => {
                    buf[..v.len()].copy_from_slice(v);
                    v.len() as i32
                }
            }
        }
    }

    #[test]
    fn short_value_takes_one_call() {
        let mut sizes = Vec::new();
        assert_eq!(fetch(host(Some(b"short"), &mut sizes)).unwrap(), b"short");
        assert_eq!(sizes, [64]);
    }

    #[test]
    fn value_of_exactly_64_bytes_fits() {
        let v = [b'x'; 64];
        let mut sizes = Vec::new();
        assert_eq!(fetch(host(Some(&v), &mut sizes)).unwrap(), v);
        assert_eq!(sizes, [64]);
    }

    #[test]
    fn long_value_retries_with_exactly_the_needed_size() {
        let v: Vec<u8> = (0..1000).map(|i| b'a' + (i % 26) as u8).collect();
        let mut sizes = Vec::new();
        assert_eq!(fetch(host(Some(&v), &mut sizes)).unwrap(), v);
        assert_eq!(sizes, [64, 1000]);
    }

    #[test]
    fn empty_value_is_empty() {
        let mut sizes = Vec::new();
        assert_eq!(fetch(host(Some(b""), &mut sizes)).unwrap(), b"");
    }

    #[test]
    fn errors_pass_through() {
        let mut sizes = Vec::new();
        assert_eq!(fetch(host(None, &mut sizes)), Err(Error::NotFound));
        assert_eq!(
            fetch(|_| errno::INVALID_ARGUMENT),
            Err(Error::InvalidArgument)
        );
    }

    #[test]
    fn a_host_that_keeps_asking_for_more_is_cut_off() {
        let mut calls = 0;
        let r = fetch(|buf| {
            calls += 1;
            buf.len() as i32 + 1
        });
        assert_eq!(r, Err(Error::Unknown));
        assert_eq!(calls, MAX_TRIES);
    }

    #[test]
    fn args_use_the_same_protocol() {
        let argv: [&[u8]; 3] = [b"prog", &[b'y'; 100], b"\xffz"];
        let args = args_with(3, |i, buf| {
            let v = argv[i as usize];
            if v.len() <= buf.len() {
                buf[..v.len()].copy_from_slice(v);
            }
            v.len() as i32
        });
        assert_eq!(
            args,
            ["prog".to_string(), "y".repeat(100), "\u{fffd}z".to_string()]
        );
        assert!(args_with(errno::UNSUPPORTED, |_, _| 0).is_empty());
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn off_wasm32() {
        assert_eq!(get("PATH"), Err(Error::Unsupported));
        assert!(args().is_empty());
        assert_eq!(arg_count(), 0);
    }
}
