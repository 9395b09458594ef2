//! env_get and the startup arguments, with the buffer-too-small protocol.

use super::Outcome;
use crate::check::{ensure, expect_bytes, expect_eq};
use crate::raw::{self, Edge};
use alloc::string::String;
use tern_guest::abi::errno;
use tern_guest::{env, sys};

const GREETING: &[u8] = b"hello, conformance";
const FILL: u8 = 0xEE;

/// Case 22.
pub fn get() -> Outcome {
    let mut buf = [FILL; 64];
    expect_eq!(
        sys::env_get(b"CONF_GREETING", &mut buf),
        18,
        "env_get(CONF_GREETING, buf, 64)"
    );
    expect_bytes!(&buf[..18], GREETING, "the value");
    ensure!(
        buf[18..].iter().all(|&b| b == FILL),
        "env_get wrote past the value"
    );
    // The SDK's wrapper, which relies on the same protocol:
    expect_eq!(
        env::get("CONF_GREETING"),
        Ok(Some(String::from("hello, conformance"))),
        "env::get(CONF_GREETING)"
    );
    Ok(())
}

/// Case 23.
pub fn get_exact() -> Outcome {
    let mut buf = [FILL; 18];
    expect_eq!(
        sys::env_get(b"CONF_GREETING", &mut buf),
        18,
        "env_get(CONF_GREETING, buf, 18)"
    );
    expect_bytes!(&buf[..], GREETING, "the value");
    Ok(())
}

/// Case 24.
pub fn get_small() -> Outcome {
    let mut buf = [FILL; 5];
    expect_eq!(
        sys::env_get(b"CONF_GREETING", &mut buf),
        18,
        "env_get(CONF_GREETING, buf, 5)"
    );
    ensure!(
        buf == [FILL; 5],
        "env_get wrote into a too-small buffer: b\"{}\"",
        buf.escape_ascii()
    );
    Ok(())
}

/// Case 25.
pub fn get_zero() -> Outcome {
    expect_eq!(
        sys::env_get(b"CONF_GREETING", &mut []),
        18,
        "env_get(CONF_GREETING, buf, 0)"
    );
    Ok(())
}

/// Case 26.
pub fn get_missing() -> Outcome {
    let mut buf = [FILL; 16];
    expect_eq!(
        sys::env_get(b"CONF_MISSING", &mut buf),
        errno::NOT_FOUND,
        "env_get(CONF_MISSING)"
    );
    expect_eq!(
        sys::env_get(b"conf_greeting", &mut buf),
        errno::NOT_FOUND,
        "env_get(conf_greeting)"
    );
    ensure!(buf == [FILL; 16], "env_get wrote for a missing variable");
    expect_eq!(env::get("CONF_MISSING"), Ok(None), "env::get(CONF_MISSING)");
    Ok(())
}

/// Case 27.
pub fn get_empty() -> Outcome {
    let mut buf = [FILL; 16];
    expect_eq!(
        sys::env_get(b"CONF_EMPTY", &mut buf),
        0,
        "env_get(CONF_EMPTY)"
    );
    Ok(())
}

/// Case 28.
pub fn get_unicode() -> Outcome {
    let want = "ünïcødé ✓";
    let mut buf = [FILL; 64];
    let n = sys::env_get(b"CONF_UNICODE", &mut buf);
    expect_eq!(n, want.len() as i32, "env_get(CONF_UNICODE) (UTF-8 bytes)");
    expect_bytes!(&buf[..want.len()], want.as_bytes(), "the value");
    Ok(())
}

/// Case 29.
pub fn get_equals() -> Outcome {
    expect_eq!(
        env::get("CONF_EQUALS"),
        Ok(Some(String::from("a=b=c"))),
        "env::get(CONF_EQUALS)"
    );
    Ok(())
}

/// Case 30.
pub fn get_key_out_of_bounds() -> Outcome {
    let edge = Edge::grow();
    let mut buf = [FILL; 16];
    // SAFETY: the key is out of bounds on purpose; `buf` is valid and writable.
    let got = unsafe { raw::env_get(edge.near_end(), 16, raw::addr_mut(&mut buf), raw::len(&buf)) };
    raw::untouched(&edge)?;
    expect_eq!(
        got,
        errno::INVALID_ARGUMENT,
        "env_get(<key at end of memory - 2, 16 bytes>)"
    );
    Ok(())
}

/// Case 31.
pub fn get_value_out_of_bounds() -> Outcome {
    let edge = Edge::grow();
    let key = b"CONF_GREETING";
    // SAFETY: the value buffer is out of bounds on purpose; a conforming host writes nothing.
    let got = unsafe { raw::env_get(raw::addr(key), raw::len(key), edge.near_end(), 64) };
    raw::untouched(&edge)?;
    expect_eq!(
        got,
        errno::INVALID_ARGUMENT,
        "env_get(CONF_GREETING, <end of memory - 2>, 64)"
    );
    Ok(())
}

/// Case 32.
pub fn get_key_not_utf8() -> Outcome {
    let mut buf = [FILL; 16];
    expect_eq!(
        sys::env_get(b"CONF_\xff", &mut buf),
        errno::INVALID_ARGUMENT,
        "env_get(b\"CONF_\\xff\")"
    );
    Ok(())
}

/// The arguments run main passes after the run name (cases.toml, [[run]] main, `args`).
const ARGS: [&str; 6] = [
    "alpha",
    "two words",
    "ünïcødé ✓",
    "",
    "--allow=file:///",
    "last",
];

/// Case 33.
pub fn arg_len() -> Outcome {
    expect_eq!(
        sys::startup_arg_len(),
        2 + ARGS.len() as i32,
        "startup_arg_len()"
    );
    Ok(())
}

/// Case 34.
pub fn arg_program_name() -> Outcome {
    let mut buf = [FILL; 4096];
    let n = sys::startup_arg_at(0, &mut buf);
    ensure!(n > 0, "startup_arg_at(0) returned {n}");
    expect_eq!(env::arg(1), Ok(Some(String::from("main"))), "env::arg(1)");
    Ok(())
}

/// Case 35.
pub fn arg_values() -> Outcome {
    for (i, want) in ARGS.iter().enumerate() {
        let i = i + 2;
        let mut buf = [FILL; 64];
        let n = sys::startup_arg_at(i as i32, &mut buf);
        expect_eq!(n, want.len() as i32, "startup_arg_at({i}) length");
        expect_bytes!(&buf[..want.len()], want.as_bytes(), "startup_arg_at({i})");
    }
    let all = env::args();
    expect_eq!(all.len(), 2 + ARGS.len(), "env::args().len()");
    expect_eq!(&all[2..], &ARGS[..], "env::args()[2..]");
    Ok(())
}

/// Case 36.
pub fn arg_small() -> Outcome {
    let mut buf = [FILL; 4];
    expect_eq!(
        sys::startup_arg_at(3, &mut buf),
        9,
        "startup_arg_at(3, buf, 4)"
    );
    ensure!(
        buf == [FILL; 4],
        "startup_arg_at wrote into a too-small buffer: b\"{}\"",
        buf.escape_ascii()
    );
    Ok(())
}

/// Case 37.
pub fn arg_past_end() -> Outcome {
    let mut buf = [FILL; 16];
    let count = sys::startup_arg_len();
    expect_eq!(
        sys::startup_arg_at(count, &mut buf),
        errno::INVALID_ARGUMENT,
        "startup_arg_at({count})"
    );
    expect_eq!(
        sys::startup_arg_at(1000, &mut buf),
        errno::INVALID_ARGUMENT,
        "startup_arg_at(1000)"
    );
    Ok(())
}

/// Case 38.
pub fn arg_negative() -> Outcome {
    let mut buf = [FILL; 16];
    expect_eq!(
        sys::startup_arg_at(-1, &mut buf),
        errno::INVALID_ARGUMENT,
        "startup_arg_at(-1)"
    );
    Ok(())
}

/// Case 39.
pub fn arg_out_of_bounds() -> Outcome {
    let edge = Edge::grow();
    // SAFETY: out of bounds on purpose; a conforming host writes nothing.
    let got = unsafe { raw::startup_arg_at(1, edge.near_end(), 16) };
    raw::untouched(&edge)?;
    expect_eq!(
        got,
        errno::INVALID_ARGUMENT,
        "startup_arg_at(1, <end of memory - 2>, 16)"
    );
    Ok(())
}
