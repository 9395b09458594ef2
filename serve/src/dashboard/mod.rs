//! The dashboard: one page of plain HTML, CSS and JavaScript, embedded in the binary and served at
//! `/` on the API listener. It reads only the public `/v1/` API with the token the user signs in
//! with (kept in the browser's session storage, sent as a bearer token), so serving the page itself
//! needs no token and reveals nothing.
//!
//! The page's responses carry a strict Content-Security-Policy (scripts and styles only from these
//! files, no inline code, no framing, requests only to this origin) and `X-Frame-Options: DENY`.

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Method, Response, StatusCode};
use std::convert::Infallible;
use std::time::Instant;

/// The API's response body type.
type Body = BoxBody<Bytes, Infallible>;

/// The page's files: path, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "/",
        "text/html; charset=utf-8",
        include_bytes!("index.html"),
    ),
    (
        "/dashboard.css",
        "text/css; charset=utf-8",
        include_bytes!("dashboard.css"),
    ),
    (
        "/dashboard.js",
        "text/javascript; charset=utf-8",
        include_bytes!("dashboard.js"),
    ),
    (
        "/charts.js",
        "text/javascript; charset=utf-8",
        include_bytes!("charts.js"),
    ),
    (
        "/favicon.svg",
        "image/svg+xml",
        include_bytes!("favicon.svg"),
    ),
];

/// Scripts and styles from this origin's files only; data requests to this origin only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The dashboard's response to `method path`, or `None` when the path is not one of its files
/// (the API answers it then).
pub fn asset(method: &Method, path: &str) -> Option<Response<Body>> {
    if *method != Method::GET && *method != Method::HEAD {
        return None;
    }
    let (_, content_type, bytes) = ASSETS.iter().find(|(p, _, _)| *p == path)?;
    // hyper sends no body for HEAD but keeps the length.
    let body = Bytes::from_static(bytes);
    let mut resp = Response::new(Full::new(body).boxed());
    *resp.status_mut() = StatusCode::OK;
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Revalidate each time: a new binary may serve a new page under the same name.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("content-security-policy", HeaderValue::from_static(CSP));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    Some(resp)
}

/// The JSON of `GET /v1/server`: what the server is and how busy it is. `backend` is what the
/// handler server reports about itself (workers busy, queue depths; `null` if it reports nothing).
pub fn server_info(
    started: Instant,
    handlers: usize,
    backend: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_s": started.elapsed().as_secs(),
        "handlers": handlers,
        "backend": backend,
    })
}

/// Bytes in the files under `dir` (the store's size: its database and module blobs).
pub fn dir_size(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0, // symlinks are not followed
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_small_and_has_no_inline_code() {
        let total: usize = ASSETS.iter().map(|(_, _, b)| b.len()).sum();
        assert!(total < 100 * 1024, "the dashboard is {total} bytes");
        let html = std::str::from_utf8(include_bytes!("index.html")).unwrap();
        assert!(!html.contains("<script>") && !html.contains(" style="));
        let inline_handler = html.split(" on").skip(1).any(|rest| {
            let name: String = rest.chars().take_while(char::is_ascii_lowercase).collect();
            !name.is_empty() && rest[name.len()..].starts_with('=')
        });
        assert!(!inline_handler, "no inline event handlers");
    }

    #[test]
    fn files_carry_the_security_headers_and_others_fall_through() {
        let page = asset(&Method::GET, "/").unwrap();
        assert_eq!(page.headers()["x-frame-options"], "DENY");
        assert!(page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'"));
        assert!(asset(&Method::GET, "/v1/handlers").is_none());
        assert!(asset(&Method::POST, "/").is_none());
    }
}
