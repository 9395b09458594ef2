//! README's control-plane walk-through (section "Handlers as a service"), run as written: its `sh` blocks, in order, by bash, with the
//! built `tern` on PATH, in a fresh directory, on free ports. Token, serve, login, deploy, curl, a new
//! version, rollback, an async run and its outcome, a restart, and everything still there.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The doc's shell blocks, joined, with its ports replaced by free ones.
fn script(doc: &str, http: u16, api: u16) -> String {
    // A failing step must not leave a server running behind the test.
    let mut out =
        String::from("set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n");
    let mut in_block = false;
    for line in doc.lines() {
        match (in_block, line.trim()) {
            (false, "```sh") => in_block = true,
            (true, "```") => in_block = false,
            (true, _) => {
                out.push_str(
                    &line
                        .replace("127.0.0.1:8080", &format!("127.0.0.1:{http}"))
                        .replace("127.0.0.1:8081", &format!("127.0.0.1:{api}")),
                );
                out.push('\n');
            }
            _ => {}
        }
    }
    out
}

#[test]
fn the_control_plane_walkthrough_runs_as_written() {
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("skipped: the walk-through uses curl, which is not installed");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    // The README's section, up to the next section of the same level.
    let start = readme
        .find("## Handlers as a service")
        .expect("README has the control-plane section");
    let section = &readme[start..];
    let doc = match section[3..].find("\n## ") {
        Some(end) => &section[..end + 3],
        None => section,
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("examples/handlers")).unwrap();
    std::fs::copy(
        root.join("examples/handlers/hello.wat"),
        dir.path().join("examples/handlers/hello.wat"),
    )
    .unwrap();
    let (http, api) = (free_port(), free_port());
    let script = script(doc, http, api);
    assert!(
        script.contains("tern handler rollback"),
        "no walk-through found"
    );
    let bin_dir = Path::new(crate::tern_bin()).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("PATH", path)
        .env("TERN_CONFIG", dir.path().join("client.json"))
        .env_remove("TERN_SERVER")
        .env_remove("TERN_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running bash");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    // A walk-through that hangs (a server that never answers) fails instead of stalling CI.
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done_tx.send(child.wait());
    });
    let status = done_rx
        .recv_timeout(Duration::from_secs(180))
        .expect("the walk-through did not finish in 180 s")
        .unwrap();
    let out = out_reader.join().unwrap();
    let err = err_reader.join().unwrap();
    assert!(
        status.success(),
        "walk-through failed ({status})\nstdout:\n{out}\nstderr:\n{err}"
    );
    let expect_in_order = [
        "logged in to http://127.0.0.1:",
        "scope   admin",
        "deployed hello version 1",
        "Hello from tern! You asked for /world",
        "deployed hello version 2",
        "Howdy from tern! You asked for /world",
        "hello is at version 1",
        "Hello from tern! You asked for /world",
        "live",
        " async  200  exited",
        "hello  1 ",
        "Hello from tern! You asked for /world",
        " http  200  exited",
    ];
    let mut rest = out.as_str();
    for want in expect_in_order {
        let at = rest
            .find(want)
            .unwrap_or_else(|| panic!("{want:?} missing (in order) from:\n{out}\nstderr:\n{err}"));
        rest = &rest[at + want.len()..];
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.path().join("client.json")), 0o600);
        assert_eq!(mode(&dir.path().join("tern-data")), 0o700);
    }
    let token = std::fs::read_to_string(dir.path().join("token.txt")).unwrap();
    assert!(
        !err.contains(token.trim()),
        "the token appeared on stderr (a shared log)"
    );
}
