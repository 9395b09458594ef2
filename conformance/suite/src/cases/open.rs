//! resource_open: malformed URLs, the policy, unknown schemes, the open-handle limit.

use super::{dir, file_url, open, open_fails, Outcome};
use crate::check::{ensure, expect_eq};
use crate::raw::{self, Edge};
use alloc::format;
use alloc::vec::Vec;
use tern_guest::abi::errno;
use tern_guest::sys;

/// Case 50.
pub fn empty() -> Outcome {
    open_fails("", errno::INVALID_ARGUMENT)
}

/// Case 51.
pub fn malformed() -> Outcome {
    open_fails("not a url", errno::INVALID_ARGUMENT)?;
    open_fails("://missing-scheme", errno::INVALID_ARGUMENT)
}

/// Case 52.
pub fn not_utf8() -> Outcome {
    expect_eq!(
        sys::resource_open(b"null://\xff"),
        errno::INVALID_ARGUMENT,
        "resource_open(b\"null://\\xff\")"
    );
    Ok(())
}

/// Case 53.
pub fn out_of_bounds() -> Outcome {
    let edge = Edge::grow();
    // SAFETY: out of bounds on purpose; resource_open only reads.
    let got = unsafe { raw::resource_open(edge.near_end(), 16) };
    raw::untouched(&edge)?;
    expect_eq!(
        got,
        errno::INVALID_ARGUMENT,
        "resource_open(<end of memory - 2>, 16)"
    );
    Ok(())
}

/// Case 54.
pub fn user_info() -> Outcome {
    open_fails("null://user@host/", errno::INVALID_ARGUMENT)?;
    open_fails("log://user:pw@host/", errno::INVALID_ARGUMENT)
}

/// Case 55.
pub fn bad_segment() -> Outcome {
    for segment in ["a%2Fb", "a%5Cb", "a%00b"] {
        open_fails(&file_url(segment)?, errno::INVALID_ARGUMENT)?;
    }
    Ok(())
}

/// Case 56.
pub fn unknown_scheme_denied() -> Outcome {
    open_fails("conformance-nope://x/y", errno::PERMISSION_DENIED)
}

/// Case 57.
pub fn unknown_scheme_granted() -> Outcome {
    open_fails("conformance-unknown://example/x", errno::NOT_FOUND)
}

/// The run's temporary directory: the parent of `$TERN_CONFORMANCE_DIR`, which is not granted.
fn parent() -> Result<alloc::string::String, alloc::string::String> {
    let d = dir()?;
    match d.trim_end_matches('/').rsplit_once('/') {
        Some((parent, _)) => Ok(parent.into()),
        None => Err(format!("TERN_CONFORMANCE_DIR {d:?} has no parent")),
    }
}

/// Case 58.
pub fn outside_grant() -> Outcome {
    // The file exists (the harness created it): -3 is the policy, not a missing file.
    open_fails(
        &format!("file://{}/outside.txt", parent()?),
        errno::PERMISSION_DENIED,
    )
}

/// Case 59.
pub fn deny_wins() -> Outcome {
    open_fails(&file_url("secret.txt")?, errno::PERMISSION_DENIED)
}

/// Case 60.
pub fn dot_segments() -> Outcome {
    open_fails(&file_url("../outside.txt")?, errno::PERMISSION_DENIED)?;
    open_fails(
        &file_url("subdir/../../outside.txt")?,
        errno::PERMISSION_DENIED,
    )
}

/// Case 61.
pub fn handle_limit() -> Outcome {
    let mut handles = Vec::new();
    let mut result = 0;
    for _ in 0..100_000 {
        result = open("null://");
        if result < 0 {
            break;
        }
        handles.push(result);
    }
    let outcome = (|| -> Outcome {
        expect_eq!(
            result,
            errno::LIMIT_EXCEEDED,
            "resource_open after {} handles",
            handles.len()
        );
        let freed = handles.pop().ok_or("no handle could be opened")?;
        sys::resource_close(freed);
        let again = open("null://");
        ensure!(
            again >= 0,
            "resource_open after a close at the limit returned {again}"
        );
        handles.push(again);
        Ok(())
    })();
    for h in handles {
        sys::resource_close(h);
    }
    outcome
}
