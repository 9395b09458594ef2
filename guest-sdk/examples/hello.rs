//! A tiny `no_std` tern guest: greets on stdout and logs a line.
//!
//! ```text
//! cargo build -p tern-guest --example hello --target wasm32-unknown-unknown --release
//! tern run target/wasm32-unknown-unknown/release/examples/hello.wasm
//! tern run --env WHO=you target/wasm32-unknown-unknown/release/examples/hello.wasm
//! ```
//!
//! On the guest target it is `no_std` (the SDK provides the allocator and panic handler); on the host
//! it builds with `std` only so that `cargo test` of the workspace can compile it.
#![cfg_attr(target_arch = "wasm32", no_std)]
#![forbid(unsafe_code)]

use tern_guest::{env, log, println, runtime, Error};

fn run() -> Result<(), Error> {
    let who = env::get("WHO")?.unwrap_or_else(|| "world".into());
    println!("Hello, {who}!");
    println!(
        "This is {} (ABI {}), {} argument(s).",
        runtime::name()?,
        runtime::spec_version(),
        env::args().len()
    );
    log::info("hello: greeted");
    Ok(())
}

tern_guest::main!(run);
