//! What a case returns, and the macros that build it.

use alloc::string::String;

/// A case's verdict: `Err` carries the reason, shown under the `not ok` line.
pub type Outcome = Result<(), String>;

/// Fails the case with a formatted reason unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($reason:tt)+) => {
        if !$cond {
            return Err(alloc::format!($($reason)+));
        }
    };
}

/// Fails the case unless `got == want`, naming `what` and both values.
macro_rules! expect_eq {
    ($got:expr, $want:expr, $($what:tt)+) => {{
        let (got, want) = (&$got, &$want);
        if got != want {
            return Err(alloc::format!(
                "{}: expected {:?}, got {:?}",
                alloc::format!($($what)+),
                want,
                got
            ));
        }
    }};
}

/// Fails the case unless the bytes `got` equal `want`, showing both as escaped text.
macro_rules! expect_bytes {
    ($got:expr, $want:expr, $($what:tt)+) => {{
        let (got, want): (&[u8], &[u8]) = (&$got[..], &$want[..]);
        if got != want {
            return Err(alloc::format!(
                "{}: expected b\"{}\", got b\"{}\"",
                alloc::format!($($what)+),
                want.escape_ascii(),
                got.escape_ascii()
            ));
        }
    }};
}

pub(crate) use {ensure, expect_bytes, expect_eq};
