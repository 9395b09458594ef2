//! The `tern` binary as a user runs it (real files, real pipes), as one test binary. The guest
//! builders are shared with the library's tests in runtime/tests/it/.

#[path = "../../../runtime/tests/it/common/mod.rs"]
mod common;
#[cfg(feature = "net")]
#[path = "../../../runtime/tests/it/net_support/mod.rs"]
mod net_support;

mod ca_file;
mod cli;
#[cfg(feature = "control")]
mod control_walkthrough;
mod wasi;
#[cfg(not(feature = "control"))]
mod without_control;

/// The path of the built `tern` binary.
pub fn tern_bin() -> &'static str {
    env!("CARGO_BIN_EXE_tern")
}
