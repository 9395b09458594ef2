//! Lays out the functions that `tern --version` and `tern run` execute together, in the order of
//! `startup.order`, on x86_64 Linux release builds (lld's `--symbol-ordering-file`).
//!
//! The kernel maps a binary's code 64 KiB around each page fault, so code run at start-up that is
//! scattered over the 4.6 MB of text makes 2.7 MB of it resident for a Rust std hello; laid out
//! together it is 0.8 MB (BENCHMARKS.md, issue 17: peak RSS). Symbols the file names that the build
//! does not have are skipped, so a stale file costs only that memory; bench/probe/order.sh regenerates
//! it (symbol names change with dependency versions, features, profiles and rustc).
//!
//! Only where rustc links with its own lld (x86_64-unknown-linux-gnu from Rust 1.90): GNU ld has no
//! such option. `TERN_SYMBOL_ORDER=0` turns it off (for another linker).
#![forbid(unsafe_code)]

use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=startup.order");
    println!("cargo:rerun-if-env-changed=TERN_SYMBOL_ORDER");
    let x86_64_linux = env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu");
    let release = env::var("PROFILE").is_ok_and(|p| p == "release");
    let wanted = env::var("TERN_SYMBOL_ORDER").map_or(true, |v| v != "0");
    if !(x86_64_linux && release && wanted && rustc_links_with_lld()) {
        return;
    }
    let dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg-bin=tern=-Wl,--symbol-ordering-file={dir}/startup.order");
    println!("cargo:rustc-link-arg-bin=tern=-Wl,--no-warn-symbol-ordering");
}

/// Whether rustc is 1.90 or later, which links x86_64-unknown-linux-gnu with its own lld by default.
fn rustc_links_with_lld() -> bool {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let Ok(out) = Command::new(rustc).arg("-vV").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let minor = text
        .lines()
        .find_map(|line| line.strip_prefix("release: 1."))
        .and_then(|rest| rest.split('.').next())
        .and_then(|minor| minor.parse::<u32>().ok());
    minor.is_some_and(|minor| minor >= 90)
}
