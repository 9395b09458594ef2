//! The case implementations, by number; cases.toml's `expect` field says what each one checks.

mod dagger;
mod ending;
mod env;
mod file;
mod handles;
mod net;
mod open;
mod runtime;
mod schemes;
mod stdio;

use crate::check::{ensure, expect_eq, Outcome};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use tern_guest::{abi::errno, sys};

/// How a case runs.
pub enum Impl {
    /// Checks something and returns the verdict.
    Check(fn() -> Outcome),
    /// Ends the run (exit, trap, timeout, the entry point's result): reported as `ok` before it
    /// starts; its result is the run's exit status, and the harness judges the rest.
    Ends(fn() -> i32),
}

/// The implementation of case `id`, if this suite has one.
pub fn implementation(id: u32) -> Option<Impl> {
    use Impl::{Check, Ends};
    Some(match id {
        1 => Check(runtime::spec_major),
        2 => Check(runtime::spec_minor),
        3 => Check(runtime::name),
        4 => Check(runtime::name_too_small),
        5 => Check(runtime::name_out_of_bounds),
        6 => Check(runtime::env_module),
        7 => Check(stdio::stdin_handle),
        8 => Check(stdio::stdout_handle),
        9 => Check(stdio::stderr_handle),
        10 => Check(stdio::write_stdout),
        11 => Check(stdio::write_stderr),
        12 => Check(stdio::read_stdin),
        13 => Check(stdio::fd0_same_stream),
        14 => Check(stdio::stdin_eof),
        15 => Check(stdio::read_stdout),
        16 => Check(stdio::write_stdin),
        17 => Check(runtime::log_error),
        18 => Check(runtime::log_warning),
        19 => Check(runtime::log_info),
        20 => Check(runtime::log_other_level),
        21 => Check(runtime::log_out_of_bounds),
        22 => Check(env::get),
        23 => Check(env::get_exact),
        24 => Check(env::get_small),
        25 => Check(env::get_zero),
        26 => Check(env::get_missing),
        27 => Check(env::get_empty),
        28 => Check(env::get_unicode),
        29 => Check(env::get_equals),
        30 => Check(env::get_key_out_of_bounds),
        31 => Check(env::get_value_out_of_bounds),
        32 => Check(env::get_key_not_utf8),
        33 => Check(env::arg_len),
        34 => Check(env::arg_program_name),
        35 => Check(env::arg_values),
        36 => Check(env::arg_small),
        37 => Check(env::arg_past_end),
        38 => Check(env::arg_negative),
        39 => Check(env::arg_out_of_bounds),
        40 => Check(runtime::time_now),
        41 => Check(runtime::time_now_ns),
        42 => Check(runtime::monotonic),
        43 => Check(runtime::msleep),
        44 => Check(runtime::msleep_zero),
        45 => Check(runtime::random_i32),
        46 => Check(runtime::random_i64),
        47 => Check(runtime::random_fill),
        48 => Check(runtime::random_fill_zero),
        49 => Check(runtime::random_fill_out_of_bounds),
        50 => Check(open::empty),
        51 => Check(open::malformed),
        52 => Check(open::not_utf8),
        53 => Check(open::out_of_bounds),
        54 => Check(open::user_info),
        55 => Check(open::bad_segment),
        56 => Check(open::unknown_scheme_denied),
        57 => Check(open::unknown_scheme_granted),
        58 => Check(open::outside_grant),
        59 => Check(open::deny_wins),
        60 => Check(open::dot_segments),
        61 => Check(open::handle_limit),
        62 => Check(handles::never_opened),
        63 => Check(handles::closed),
        64 => Check(handles::close_bad),
        65 => Check(handles::reuse),
        66 => Check(handles::read_zero_len),
        67 => Check(handles::read_out_of_bounds),
        68 => Check(handles::write_out_of_bounds),
        69 => Check(handles::flush),
        70 => Check(schemes::null_read),
        71 => Check(schemes::null_write),
        72 => Check(schemes::zero_read),
        73 => Check(schemes::zero_write),
        74 => Check(schemes::random_read),
        75 => Check(schemes::random_write),
        76 => Check(schemes::log_lines),
        77 => Check(schemes::log_partial),
        78 => Check(schemes::log_flush),
        79 => Check(schemes::log_close),
        80 => Check(schemes::log_read),
        81 => Check(schemes::fd_write),
        82 => Check(schemes::fd_wrong_direction),
        83 => Check(schemes::fd_other),
        84 => Check(schemes::fd_flush),
        85 => Check(file::read),
        86 => Check(file::percent_decoded),
        87 => Check(file::default_mode),
        88 => Check(file::mode_r),
        89 => Check(file::mode_r_missing),
        90 => Check(file::default_missing),
        91 => Check(file::mode_w_creates),
        92 => Check(file::mode_w_truncates),
        93 => Check(file::mode_a),
        94 => Check(file::mode_rw),
        95 => Check(file::directory),
        96 => Check(file::flush),
        97 => Check(file::mode_w_read),
        98 => Check(dagger::open_case),
        99 => Check(dagger::read_eof),
        100 => Check(dagger::write),
        101 => Check(dagger::sync),
        102 => Check(dagger::close),
        103 => Check(dagger::open_no_nul),
        104 => Check(dagger::open_denied),
        105 => Check(dagger::out_of_bounds),
        106 => Ends(|| 0),
        107 => Ends(ending::exit),
        108 => Ends(|| 3),
        109 => Ends(ending::trap),
        110 => Ends(ending::sleep_past_timeout),
        111 => Ends(ending::spin),
        112 => Check(ending::grow_refused),
        113 => Check(ending::close_stdin),
        114 => Check(ending::close_stdout),
        115 => Ends(|| 5),
        116 => Check(net::simple_form),
        117 => Check(net::full_form),
        118 => Check(net::host_header),
        119 => Check(net::target_not_granted),
        120 => Check(net::chunked),
        121 => Check(net::error_status),
        122 => Check(net::redirect),
        123 => Check(net::redirect_not_granted),
        124 => Check(net::unsupported_requests),
        125 => Check(net::short_body),
        126 => Check(net::response_too_large),
        127 => Check(net::no_response),
        128 => Check(net::two_exchanges),
        129 => Check(net::read_sends),
        130 => Check(net::http_not_granted),
        131 => Check(net::https),
        132 => Check(net::tcp_echo),
        133 => Check(net::tcp_eof),
        134 => Check(net::no_port),
        135 => Check(net::refused),
        136 => Check(net::tcp_timeout),
        137 => Check(net::loopback_name_refused),
        138 => Check(net::tls_echo),
        139 => Check(net::tls_untrusted),
        140 => Check(net::dns),
        141 => Check(net::dns_unknown),
        142 => Check(net::not_granted),
        _ => return None,
    })
}

/// `resource_open(url)` through the SDK's raw call.
fn open(url: &str) -> i32 {
    sys::resource_open(url.as_bytes())
}

/// An open handle, closed when dropped.
struct Handle(i32);

impl Drop for Handle {
    fn drop(&mut self) {
        sys::resource_close(self.0);
    }
}

/// Opens `url`, failing the case unless it yields a handle above the standard three.
fn opened(url: &str) -> Result<Handle, String> {
    let h = open(url);
    ensure!(
        h > 2,
        "resource_open({url:?}): expected a handle > 2, got {h}"
    );
    Ok(Handle(h))
}

/// Fails the case unless opening `url` returns the error number `want`.
fn open_fails(url: &str, want: i32) -> Outcome {
    let got = open(url);
    if got >= 0 {
        sys::resource_close(got);
    }
    ensure!(
        got == want,
        "resource_open({url:?}): expected {want} ({}), got {got}",
        errno::name(want).unwrap_or("?")
    );
    Ok(())
}

/// Writes `bytes` to `h` with one resource_write, failing the case unless it accepts them all.
fn write_whole(h: i32, bytes: &[u8]) -> Outcome {
    expect_eq!(
        sys::resource_write(h, bytes),
        bytes.len() as i32,
        "resource_write({h}, {:?})",
        String::from_utf8_lossy(bytes)
    );
    Ok(())
}

/// Reads `h` until -5 (the end), failing on any other error or a read of 0 bytes.
fn read_to_eof(h: i32) -> Result<Vec<u8>, String> {
    let mut all = Vec::new();
    let mut buf = [0u8; 256];
    for _ in 0..10_000 {
        match sys::resource_read(h, &mut buf) {
            errno::EOF => return Ok(all),
            n if n > 0 && n as usize <= buf.len() => all.extend_from_slice(&buf[..n as usize]),
            n => {
                return Err(format!(
                    "resource_read({h}) returned {n} after {} bytes",
                    all.len()
                ))
            }
        }
    }
    Err(format!("resource_read({h}) did not reach the end"))
}

/// `$TERN_CONFORMANCE_DIR`: the granted directory the harness prepared.
fn dir() -> Result<String, String> {
    match tern_guest::env::get("TERN_CONFORMANCE_DIR") {
        Ok(Some(d)) if !d.is_empty() => Ok(d),
        other => Err(format!(
            "TERN_CONFORMANCE_DIR is not set (the harness passes --env TERN_CONFORMANCE_DIR=...): {other:?}"
        )),
    }
}

/// `file://` + `$TERN_CONFORMANCE_DIR` + `/` + `rest`.
fn file_url(rest: &str) -> Result<String, String> {
    Ok(format!("file://{}/{rest}", dir()?))
}
