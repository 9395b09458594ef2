//! The CGI contract: every request variable and response rule.

use crate::*;

#[test]
fn cgi_request_variables() {
    let s = Server::start(TEST_HANDLER);
    let r = request(
        s.addr(),
        "POST /t/env/a%20b/./c?x=1&y=%20 HTTP/1.1\r\nHost: Example.COM:99\r\nContent-Type: text/x-test; q=1\r\n\
         Content-Length: 4\r\nCookie: a=1\r\nCookie: b=2\r\nX-Multi: 1\r\nX-Multi: 2\r\nProxy: http://evil\r\n\
         Authorization: Bearer secret\r\nX_Under: spoof\r\n\r\nbody",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let run_id = r.header("x-tern-run-id").expect("X-Tern-Run-Id").to_owned();
    let expect = [
        ("REQUEST_METHOD", "POST"),
        ("SCRIPT_NAME", "/t"),
        ("PATH_INFO", "/env/a b/c"),
        ("X_RAW_PATH_INFO", "/env/a%20b/c"),
        ("X_RELATIVE_PATH", "env/a b/c"),
        ("X_MATCHED_ROUTE", "/t/..."),
        ("QUERY_STRING", "x=1&y=%20"),
        ("CONTENT_TYPE", "text/x-test; q=1"),
        ("CONTENT_LENGTH", "4"),
        ("SERVER_NAME", "127.0.0.1"),
        ("SERVER_PORT", &s.addr().port().to_string()),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("GATEWAY_INTERFACE", "CGI/1.1"),
        ("REMOTE_ADDR", "127.0.0.1"),
        ("HTTP_HOST", "Example.COM:99"),
        ("HTTP_COOKIE", "a=1; b=2"),
        ("HTTP_X_MULTI", "1, 2"),
        ("X_RUN_ID", &run_id),
    ];
    for (name, value) in expect {
        assert_eq!(
            r.var(name).as_deref(),
            Some(value),
            "{name} in\n{}",
            r.text()
        );
    }
    assert!(r.var("SERVER_SOFTWARE").unwrap().starts_with("tern/"));
    assert!(r
        .var("X_FULL_URL")
        .unwrap()
        .ends_with("/t/env/a%20b/./c?x=1&y=%20"));
    for absent in [
        "HTTP_PROXY",
        "HTTP_AUTHORIZATION",
        "HTTP_X_UNDER",
        "HTTP_CONTENT_LENGTH",
        "HTTP_CONNECTION",
    ] {
        assert_eq!(r.var(absent), None, "{absent} must not be passed");
    }
    let listed = r.var("TERN_HTTP_HEADERS").unwrap();
    assert!(
        listed.contains("HTTP_COOKIE")
            && listed.contains("HTTP_X_MULTI")
            && !listed.contains("PROXY")
    );

    // A GET has no CONTENT_LENGTH; a route that opts in gets Authorization; path parameters.
    let r = request(
        s.addr(),
        "GET /users/42/env HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ok\r\n\r\n",
    );
    assert_eq!(r.var("CONTENT_LENGTH"), None);
    assert_eq!(r.var("HTTP_AUTHORIZATION").as_deref(), Some("Bearer ok"));
    assert_eq!(r.var("PATH_PARAM_ID").as_deref(), Some("42"));
    assert_eq!(r.var("TERN_PATH_PARAMS").as_deref(), Some("PATH_PARAM_ID"));
    assert_eq!(r.var("SCRIPT_NAME").as_deref(), Some("/users/42"));
    assert_eq!(r.var("WHO").as_deref(), Some("users"));
}

#[test]
fn cgi_response_rules() {
    let s = Server::start(TEST_HANDLER);
    let r = s.get("/t/cookies");
    assert_eq!(r.status, 201);
    assert_eq!(
        r.all("set-cookie"),
        ["a=1", "b=2"],
        "repeated headers are kept"
    );
    let r = s.get("/t/location");
    assert_eq!((r.status, r.header("location")), (302, Some("/elsewhere")));
    for (path, status) in [
        ("/t/badheader", 502),
        ("/t/nocolon", 502),
        ("/t/nohead", 502),
        ("/t/exit3", 500),
        ("/t/trap", 500),
        ("/t/loop", 504),
    ] {
        let r = s.get(path);
        assert_eq!(r.status, status, "{path}: {}", r.text());
        assert!(r.header("x-tern-run-id").is_some(), "{path} has a run id");
    }
    // Streamed out (chunked, no length), and HEAD discards the body.
    let r = s.get("/t/stream");
    assert_eq!(r.body.len(), 100 * 1024);
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    let r = request(s.addr(), "HEAD /t/stream HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!((r.status, r.body.len()), (200, 0));
    // Bodies in: with a length, chunked, and too large (413 before the run, or when it arrives).
    let r = request(
        s.addr(),
        "POST /t/echo HTTP/1.1\r\nHost: x\r\nContent-Type: a/b\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert_eq!(
        (r.status, r.text().as_str(), r.header("content-type")),
        (200, "hello", Some("a/b"))
    );
    let r = request(s.addr(), "POST /t/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    assert_eq!(r.text(), "abcde");
    let r = request(
        s.addr(),
        "POST /t/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n",
    );
    assert_eq!(r.status, 413);
    let big = format!("{:x}\r\n{}\r\n0\r\n\r\n", 2000, "x".repeat(2000));
    let r = request(
        s.addr(),
        &format!("POST /t/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{big}"),
    );
    assert_eq!(r.status, 413);
    // A response over max-response-body is cut off, and the record says why.
    let r = s.get("/t/big");
    assert!(r.body.len() < 1024 * 1024);
    let rec = s.record_for("/t/big");
    assert!(rec.detail.contains("max-response-body"), "{rec:?}");
    // The guest's stderr is in its record.
    s.get("/t/log");
    let rec = s.record_for("/t/log");
    assert!(rec.log.contains("a line on stderr"), "{rec:?}");
    assert_eq!(rec.version.len(), 64);
    let line = serde_json::to_string(&rec).unwrap();
    assert!(
        line.contains("\"run_id\"") && line.contains("\"handler\":\"t\""),
        "{line}"
    );
}
