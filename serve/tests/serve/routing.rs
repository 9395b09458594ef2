//! Routing precedence, 405/404, normalisation, and configuration errors.

use crate::*;

#[test]
fn routing_precedence_405_404_and_normalisation() {
    let toml = r#"
[handlers.exact]
module = "A"
[[handlers.exact.route]]
host = "api.example.com"
path = "/users/:id"
methods = ["GET"]
[handlers.wild]
module = "B"
[[handlers.wild.route]]
host = "*.example.com"
path = "/users/:id"
[handlers.any]
module = "C"
routes = ["/users/:id"]
[handlers.me]
module = "D"
routes = ["/users/me"]
[handlers.files]
module = "E"
routes = ["/static/..."]
[handlers.post]
module = "F"
[[handlers.post.route]]
path = "/only-post"
methods = ["POST"]
"#;
    let s = Server::start_with(toml, Options::default(), |dir| {
        for (name, text) in [
            ("A", "exact"),
            ("B", "wild"),
            ("C", "any"),
            ("D", "me"),
            ("E", "files"),
            ("F", "post"),
        ] {
            std::fs::write(dir.join(name), responder(text)).unwrap();
        }
    });
    let on = |host: &str, method: &str, path: &str| {
        request(
            s.addr(),
            &format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n"),
        )
    };
    assert_eq!(on("api.example.com", "GET", "/users/1").text(), "exact");
    assert_eq!(
        on("API.example.com:8080", "GET", "/users/1").text(),
        "exact"
    );
    let r = on("api.example.com", "POST", "/users/1");
    assert_eq!(
        (r.status, r.header("allow")),
        (405, Some("GET")),
        "the best path decides; no fallback"
    );
    assert_eq!(on("x.example.com", "POST", "/users/1").text(), "wild");
    assert_eq!(on("example.org", "GET", "/users/1").text(), "any");
    assert_eq!(
        on("example.org", "GET", "/users/me").text(),
        "me",
        "more literals win"
    );
    assert_eq!(on("h", "GET", "/static").text(), "files");
    assert_eq!(on("h", "GET", "/static/a/b").text(), "files");
    assert_eq!(
        on("h", "GET", "//static/./x/../y").text(),
        "files",
        "normalised before matching"
    );
    assert_eq!(on("h", "GET", "/staticfoo").status, 404, "segment-aware");
    assert_eq!(on("h", "GET", "/nothing").status, 404);
    let r = on("h", "GET", "/only-post");
    assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
    assert_eq!(on("h", "POST", "/only-post").text(), "post");
    // Metrics count a request when its record is written, just after the response.
    s.record_for("/only-post");
    assert_eq!(on("h", "GET", "/healthz").text(), "ok\n");
    assert_eq!(on("h", "GET", "/readyz").status, 200);
    let metrics = on("h", "GET", "/metrics").text();
    assert!(
        metrics.contains("tern_requests_total{handler=\"post\",status=\"200\"} 1"),
        "{metrics}"
    );
}

#[test]
fn configuration_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let load = |text: &str| {
        let path = dir.path().join("tern.toml");
        std::fs::write(&path, text).unwrap();
        tern_serve::config::load(&path).and_then(|c| tern_serve::check(&c))
    };
    let e = load(
        "[handlers.a]\nmodule = \"x.wat\"\nroutes = [\"/\"]\ntimeout = \"1s\"\nmax_fuel = 3\n",
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("line 5") && e.to_string().contains("max_fuel"),
        "{e}"
    );
    std::fs::write(dir.path().join("a.wat"), responder("a")).unwrap();
    let e = load("[handlers.a]\nmodule = \"a.wat\"\nroutes = [\"/x/:id\"]\n[handlers.b]\nmodule = \"a.wat\"\nroutes = [\"/x/:name\"]\n").unwrap_err();
    assert!(e.to_string().contains("overlapping routes"), "{e}");
    std::fs::write(
        dir.path().join("bad.wat"),
        "(module (import \"nope\" \"f\" (func)))",
    )
    .unwrap();
    let e = load("[handlers.a]\nmodule = \"bad.wat\"\nroutes = [\"/\"]\n").unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
    let out =
        load("[handlers.a]\nmodule = \"a.wat\"\nroutes = [\"/x/...\", \"/y\"]\ntimeout = \"2s\"\n")
            .unwrap();
    assert!(
        out.contains("/x/...") && out.contains("timeout 2s") && out.contains("queue-depth 128"),
        "{out}"
    );
}
