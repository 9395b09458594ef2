//! A CGI handler with nothing but Rust's standard library: the request is in the environment and on
//! stdin, the response goes to stdout — header lines, a blank line, the body.

use std::io::{Read, Write};

fn main() {
    let method = std::env::var("REQUEST_METHOD").unwrap_or_default();
    let path = std::env::var("PATH_INFO").unwrap_or_default();
    let query = std::env::var("QUERY_STRING").unwrap_or_default();
    let mut body = Vec::new();
    // A body arrives only with a length (or chunked, until the end of stdin).
    let _ = std::io::stdin().read_to_end(&mut body);
    let mut out = std::io::stdout().lock();
    let _ = write!(
        out,
        "Content-Type: text/plain; charset=utf-8\r\n\r\nHello from Rust std! {method} {path}{}{query} ({} body bytes)\n",
        if query.is_empty() { "" } else { "?" },
        body.len()
    );
}
