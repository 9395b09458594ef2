//! `https://` and `tls://` against loopback servers whose certificates come from a test CA.
#![cfg(feature = "net")]

use crate::common;
use crate::net_support;

use net_support::{assert_echoed, echo_guest, fetch, split_response, NetGuest, OPEN, READ};
use tern_abi::errno;
use tern_loopback::{echo_server, https_server, respond, tls_echo_server, TestCa};

/// Trusts `ca` in the guest's policy, as `--ca-file` does.
fn trusting(guest: common::Guest, ca: &TestCa) -> common::Guest {
    guest.network(|n| {
        n.trust_pem(ca.pem().as_bytes()).unwrap();
    })
}

#[test]
fn https_with_a_trusted_ca_gets_the_body() {
    let ca = TestCa::new("tern test CA").unwrap();
    let port = https_server(&ca.leaf(&["127.0.0.1"]).unwrap(), |req, out| {
        respond(
            out,
            "200 OK",
            &[("Content-Type", "text/plain")],
            format!("secure {}", req.target).as_bytes(),
        )
    })
    .unwrap();
    let url = format!("https://127.0.0.1:{port}/doc");
    let run = trusting(fetch(&url, None), &ca)
        .allow(&format!("https://127.0.0.1:{port}"))
        .run();
    assert_eq!(run.code(), 0, "{}", run.log);
    let (head, body) = split_response(&run.stdout);
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert_eq!(body, "secure /doc");
}

#[test]
fn https_by_name_needs_the_address_granted_too() {
    let ca = TestCa::new("tern test CA").unwrap();
    let port = https_server(&ca.leaf(&["localhost"]).unwrap(), |_, out| {
        respond(out, "200 OK", &[], b"named")
    })
    .unwrap();
    let url = format!("https://localhost:{port}/");
    let grant = format!("https://localhost:{port}");
    // The name is granted, but it resolves to loopback, which is not.
    let run = trusting(fetch(&url, None), &ca).allow(&grant).run();
    assert_eq!(run.code(), READ - errno::PERMISSION_DENIED, "{}", run.log);
    assert!(
        run.log
            .contains("resolves to 127.0.0.1, a loopback address"),
        "{}",
        run.log
    );
    assert!(run.log.contains("--allow-private 127.0.0.1"), "{}", run.log);
    let run = trusting(fetch(&url, None), &ca)
        .allow(&grant)
        .allow_private("127.0.0.0/8")
        .run();
    assert_eq!(run.code(), 0, "{}", run.log);
    assert!(run.stdout.ends_with("named"));
}

#[test]
fn an_untrusted_certificate_fails() {
    let ca = TestCa::new("tern test CA").unwrap();
    let stranger = TestCa::new("someone else").unwrap();
    let port = https_server(&stranger.leaf(&["127.0.0.1"]).unwrap(), |_, out| {
        respond(out, "200 OK", &[], b"x")
    })
    .unwrap();
    let url = format!("https://127.0.0.1:{port}/");
    for guest in [fetch(&url, None), trusting(fetch(&url, None), &ca)] {
        let run = guest.allow(&format!("https://127.0.0.1:{port}")).run();
        assert_eq!(run.code(), READ - errno::CONNECTION_FAILED, "{}", run.log);
        assert!(run.log.contains("UnknownIssuer"), "{}", run.log);
        assert!(run.stdout.is_empty());
    }
}

#[test]
fn a_certificate_for_another_name_fails() {
    let ca = TestCa::new("tern test CA").unwrap();
    let port = https_server(&ca.leaf(&["other.example"]).unwrap(), |_, out| {
        respond(out, "200 OK", &[], b"x")
    })
    .unwrap();
    let run = trusting(fetch(&format!("https://127.0.0.1:{port}/"), None), &ca)
        .allow(&format!("https://127.0.0.1:{port}"))
        .run();
    assert_eq!(run.code(), READ - errno::CONNECTION_FAILED, "{}", run.log);
    assert!(run.log.contains("not valid for name"), "{}", run.log);
}

#[test]
fn plain_http_to_a_tls_port_fails_cleanly() {
    let ca = TestCa::new("tern test CA").unwrap();
    let port = tls_echo_server(&ca.leaf(&["127.0.0.1"]).unwrap()).unwrap();
    let run = fetch(&format!("http://127.0.0.1:{port}/"), None)
        .allow(&format!("http://127.0.0.1:{port}"))
        .network(|n| n.timeout = std::time::Duration::from_secs(2))
        .run();
    assert!(
        run.code() == READ - errno::CONNECTION_FAILED || run.code() == READ - errno::TIMEOUT,
        "{}",
        run.log
    );
}

#[test]
fn tls_streams_are_verified_and_bidirectional() {
    let ca = TestCa::new("tern test CA").unwrap();
    let port = tls_echo_server(&ca.leaf(&["127.0.0.1"]).unwrap()).unwrap();
    let url = format!("tls://127.0.0.1:{port}");
    let run = trusting(echo_guest(&url), &ca).allow(&url).run();
    assert_echoed(&run);
    // Without the CA the open fails, before anything is written.
    let run = echo_guest(&url).allow(&url).run();
    assert_eq!(run.code(), OPEN - errno::CONNECTION_FAILED, "{}", run.log);
    assert!(run.log.contains("UnknownIssuer"), "{}", run.log);
    // A certificate for another name fails too.
    let port = tls_echo_server(&ca.leaf(&["other.example"]).unwrap()).unwrap();
    let url = format!("tls://127.0.0.1:{port}");
    let run = trusting(echo_guest(&url), &ca).allow(&url).run();
    assert_eq!(run.code(), OPEN - errno::CONNECTION_FAILED, "{}", run.log);
    assert!(run.log.contains("not valid for name"), "{}", run.log);
}

#[test]
fn tls_to_a_plain_server_fails() {
    let port = echo_server().unwrap();
    let url = format!("tls://127.0.0.1:{port}");
    let run = echo_guest(&url)
        .allow(&url)
        .network(|n| n.connect_timeout = std::time::Duration::from_secs(2))
        .run();
    let code = run.code();
    assert!(
        code == OPEN - errno::CONNECTION_FAILED || code == OPEN - errno::TIMEOUT,
        "{code}: {}",
        run.log
    );
}
