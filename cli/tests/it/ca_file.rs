//! `tern run --ca-file` and the policy file's `ca-file`: a guest fetches https from a loopback
//! server whose certificate comes from a test CA.
#![cfg(feature = "net")]

use crate::{common, net_support, tern_bin};

use std::process::Command;

use net_support::READ;
use tern_abi::errno;
use tern_loopback::{https_server, respond, TestCa};

/// What the issue asks for, through the `tern` binary: a guest fetches https from a local server
/// trusted through `--ca-file` and gets the body.
#[test]
fn tern_run_trusts_ca_file() {
    let ca = TestCa::new("tern test CA").unwrap();
    let port = https_server(&ca.leaf(&["127.0.0.1"]).unwrap(), |_, out| {
        respond(out, "200 OK", &[], b"fetched over https")
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write_pem(dir.path()).unwrap();
    let url = format!("https://127.0.0.1:{port}/");
    let (body, data) = net_support::fetch_body(&url, None, None);
    let data: Vec<(u32, &str)> = data.iter().map(|(o, s)| (*o, s.as_str())).collect();
    let module = dir.path().join("fetch.wat");
    std::fs::write(&module, common::cwa_module(&body, &data)).unwrap();
    let run = |extra: &[&str]| {
        Command::new(tern_bin())
            .arg("run")
            .args(["--allow", &format!("https://127.0.0.1:{port}")])
            .args(extra)
            .arg(&module)
            .output()
            .unwrap()
    };
    let out = run(&["--ca-file", ca_file.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("HTTP/1.1 200 OK\r\n"), "{stdout}");
    assert!(stdout.ends_with("\r\n\r\nfetched over https"), "{stdout}");
    // Without it, the certificate is refused and the reason is on stderr.
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(READ - errno::CONNECTION_FAILED));
    assert!(String::from_utf8_lossy(&out.stderr).contains("UnknownIssuer"));
    // The policy-file form.
    let policy = dir.path().join("policy");
    std::fs::write(&policy, format!("ca-file {}\n", ca_file.display())).unwrap();
    let out = run(&["--policy", policy.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A file that holds no certificate is refused before the guest runs.
    let out = run(&["--ca-file", module.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(125),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--ca-file"));
}
