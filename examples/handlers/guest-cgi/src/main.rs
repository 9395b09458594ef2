//! A CGI handler on tern-guest's `cgi` module: `Request::from_env` reads the meta-variables (and the
//! headers the server lists in TERN_HTTP_HEADERS) and the body; `Response` writes the CGI answer.
#![cfg_attr(target_arch = "wasm32", no_std)]
#![cfg_attr(target_arch = "wasm32", no_main)]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::format;
use tern_guest::cgi::{Request, Response};
use tern_guest::Error;

fn handle() -> Result<(), Error> {
    let req = Request::from_env()?;
    let name = req.query("name").unwrap_or_else(|| "world".into());
    let agent = req.header("user-agent").unwrap_or("unknown");
    Response::ok()
        .header("Cache-Control", "no-store")
        .text(format!("Hello, {name}! ({} {}, {agent})\n", req.method, req.path_info))
        .send()
}

tern_guest::main!(handle);
