//! Run `cgi`: the module as a CGI handler behind `tern serve` (ABI.md §8). Each request names its
//! case in the path (`/cgi/ID...`); the module checks the request with the SDK's `cgi` module and
//! answers with its TAP line for the case as the body (the harness checks status and headers).

use crate::check::{ensure, expect_eq, Outcome};
use crate::CASES;
use alloc::format;
use alloc::string::String;
use tern_guest::cgi::{Request, Response};

/// Whether the module runs as a CGI handler (`tern serve` sets GATEWAY_INTERFACE).
pub fn is_handler() -> bool {
    matches!(tern_guest::env::get("GATEWAY_INTERFACE"), Ok(Some(_)))
}

/// Answers one request; returns the exit status.
pub fn handle() -> i32 {
    let request = Request::from_env();
    let path = request
        .as_ref()
        .map(|r| r.path_info.clone())
        .unwrap_or_default();
    let id: u32 = path
        .strip_prefix("/cgi/")
        .map(|rest| rest.split('/').next().unwrap_or_default())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let outcome = match &request {
        Err(e) => Err(format!("Request::from_env(): {e}")),
        Ok(req) => match id {
            143 => request_line(req),
            144 => body(req),
            145 => headers(req),
            146 => Ok(()),
            _ => Err(format!("no CGI case for the path {path:?}")),
        },
    };
    let name = CASES.iter().find(|c| c.id == id).map_or("", |c| c.name);
    let mut tap = format!("# sdk: tern-guest (Rust) {}\n", crate::SDK_VERSION);
    match outcome {
        Ok(()) => tap.push_str(&format!("ok {id} - {name}\n")),
        Err(reason) => {
            tap.push_str(&format!("not ok {id} - {name}\n"));
            for line in reason.lines() {
                tap.push_str(&format!("# {line}\n"));
            }
        }
    }
    let mut response = Response::new(if id == 146 { 404 } else { 200 }).text(tap);
    if id == 146 {
        response = response.header("X-Conformance-Reply", "c146");
    }
    match response.send() {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

/// The value of a CGI variable, or "" when unset.
fn var(name: &str) -> String {
    tern_guest::env::get(name)
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Case 143.
fn request_line(req: &Request) -> Outcome {
    expect_eq!(req.method, "GET", "REQUEST_METHOD");
    expect_eq!(req.path_info, "/cgi/143/a b/c", "PATH_INFO");
    expect_eq!(req.query_string, "name=Ada%20L&x=1", "QUERY_STRING");
    let name = req.query("name");
    expect_eq!(name.as_deref(), Some("Ada L"), "Request::query(\"name\")");
    Ok(())
}

/// Case 144.
fn body(req: &Request) -> Outcome {
    expect_eq!(req.method, "POST", "REQUEST_METHOD");
    expect_eq!(
        req.content_type.as_deref(),
        Some("text/plain; charset=utf-8"),
        "CONTENT_TYPE"
    );
    expect_eq!(var("CONTENT_LENGTH"), "15", "CONTENT_LENGTH");
    expect_eq!(req.body_str(), Ok("hello, handler\n"), "the body");
    Ok(())
}

/// Case 145.
fn headers(req: &Request) -> Outcome {
    expect_eq!(
        req.header("x-conformance"),
        Some("yes, really"),
        "Request::header(\"x-conformance\")"
    );
    let listed = var("TERN_HTTP_HEADERS");
    ensure!(
        listed.split(',').any(|n| n == "HTTP_X_CONFORMANCE"),
        "TERN_HTTP_HEADERS {listed:?} does not list HTTP_X_CONFORMANCE"
    );
    Ok(())
}
