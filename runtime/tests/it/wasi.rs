//! WASI preview1: real wasm32-wasip1 programs (runtime/tests/wasi, built here with cargo) run under the
//! `tern` binary with `--dir` preopens on temp directories, compared with expected output; escape
//! attempts checked against the host files; a differential run under Node's `node:wasi`; and .wat
//! guests for the shared handle table, linking and deadlines.

use crate::common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{tern_bin, Guest};

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Builds the WASI test programs once per test run; returns the directory holding the .wasm files.
fn guests() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let target_dir = root().join("target/wasi-guests");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--release", "--quiet", "--target", "wasm32-wasip1"])
            .arg("--manifest-path")
            .arg(root().join("runtime/tests/wasi/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir)
            .status()
            .expect("cargo runs");
        assert!(
            status.success(),
            "building the WASI test programs failed (is the wasm32-wasip1 target installed?)"
        );
        target_dir.join("wasm32-wasip1/release")
    })
}

fn wasm(name: &str) -> PathBuf {
    guests().join(format!("{name}.wasm"))
}

fn expected(name: &str) -> String {
    let path = root().join(format!("runtime/tests/wasi/expected/{name}.txt"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `tern run ARGS` with `stdin`.
fn tern(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(tern_bin())
        .arg("run")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tern starts");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A line-by-line diff message, so a failure names the first line that differs.
fn assert_same(got: &str, want: &str, what: &str) {
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(g, w, "{what}: line {} differs", i + 1);
    }
    assert_eq!(
        got.lines().count(),
        want.lines().count(),
        "{what}: line count\n{got}"
    );
}

/// The directory tree `raw` expects: hello.txt and sub/inner.txt.
fn sandbox() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), "hello, wasi\n").unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/inner.txt"), "inner\n").unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn every_function_and_error_path_matches_expected_output() {
    let dir = sandbox();
    let preopen = format!("{}::/sandbox", s(dir.path()));
    let module = wasm("raw");
    let out = tern(
        &["--dir", &preopen, "--env", "K=V", s(&module), "a", "b c"],
        b"input\n",
    );
    assert_same(&text(&out.stdout), &expected("raw"), "raw");
    assert_eq!(
        out.status.code(),
        Some(7),
        "proc_exit(7) is the exit status"
    );
    // What the program left on the host: new.txt truncated, sub/moved.txt a hard link of hello.txt.
    let root = dir.path();
    assert_eq!(std::fs::read(root.join("new.txt")).unwrap(), b"");
    assert_eq!(
        std::fs::read_to_string(root.join("sub/moved.txt")).unwrap(),
        "hello, wasi\n"
    );
    assert!(!root.join("link").exists() && !root.join("app.txt").exists());
}

#[test]
fn an_ordinary_std_program_runs_unmodified() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.txt"), "some input\n").unwrap();
    let preopen = format!("{}::/data", s(dir.path()));
    let module = wasm("std");
    let out = tern(
        &[
            "--dir",
            &preopen,
            "--env",
            "GREETING=hi",
            s(&module),
            "x",
            "y",
        ],
        b"piped\n",
    );
    assert_same(&text(&out.stdout), &expected("std"), "std");
    assert_eq!(text(&out.stderr), "to stderr\n");
    assert_eq!(out.status.code(), Some(3));
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["in.txt"], "the program cleans up after itself");
}

/// Every file below `dir` with its kind, contents (or link target), size and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let what = if meta.file_type().is_symlink() {
                format!("link {:?}", std::fs::read_link(&path).unwrap())
            } else if meta.is_dir() {
                todo.push(path.clone());
                format!("dir {:?}", meta.modified().unwrap())
            } else {
                format!(
                    "file {:?} {:?}",
                    std::fs::read(&path).unwrap(),
                    meta.modified().unwrap()
                )
            };
            out.insert(path, what);
        }
    }
    out
}

#[test]
fn escapes_fail_with_the_right_errno_and_touch_nothing_outside() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    for d in [
        "jail/sub",
        "jail/deep",
        "jail/private",
        "outside",
        "rodir/subdir",
    ] {
        std::fs::create_dir_all(r.join(d)).unwrap();
    }
    std::fs::write(r.join("outside/secret.txt"), "secret\n").unwrap();
    std::fs::write(r.join("jail/sub/ok.txt"), "ok\n").unwrap();
    std::fs::write(r.join("jail/private/data.txt"), "data\n").unwrap();
    std::fs::write(r.join("rodir/keep.txt"), "keep\n").unwrap();
    let link = |target: &str, at: &str| std::os::unix::fs::symlink(target, r.join(at)).unwrap();
    link("../outside", "jail/up");
    link(s(&r.join("outside/secret.txt")), "jail/abs");
    link("loop2", "jail/loop1");
    link("loop1", "jail/loop2");
    link("../../outside/secret.txt", "jail/deep/climb");
    link("sub", "jail/inner");
    link("private", "jail/to_private");
    let outside = snapshot(&r.join("outside"));
    let rodir = snapshot(&r.join("rodir"));
    let private = snapshot(&r.join("jail/private"));
    let top: Vec<_> = std::fs::read_dir(r)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();

    let jail = format!("{}::/jail", s(&r.join("jail")));
    let ro = format!("{}::/ro:ro", s(&r.join("rodir")));
    let deny = format!("file://{}", s(&r.join("jail/private")));
    let module = wasm("attack");
    let out = tern(
        &[
            "--dir",
            &jail,
            "--dir",
            &ro,
            "--deny",
            &deny,
            "--stats-json",
            s(&module),
        ],
        b"",
    );
    assert_same(&text(&out.stdout), &expected("attack"), "attack");
    assert_eq!(out.status.code(), Some(0));

    assert_eq!(
        snapshot(&r.join("outside")),
        outside,
        "nothing outside the preopen changed"
    );
    assert_eq!(
        snapshot(&r.join("rodir")),
        rodir,
        "nothing in the read-only preopen changed"
    );
    assert_eq!(
        snapshot(&r.join("jail/private")),
        private,
        "nothing denied changed"
    );
    let top_after: Vec<_> = std::fs::read_dir(r)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(top_after, top, "nothing was created beside the preopens");
    // The one thing the program may create: a symlink whose contents point out, which is data.
    assert!(std::fs::symlink_metadata(r.join("jail/mylink")).is_ok());
    assert!(!r.join("jail/stolen").exists());

    // Policy denials are reported and counted like any other denial.
    let stderr = text(&out.stderr);
    let private_url = format!("file://{}/private/data.txt", s(&r.join("jail")));
    assert!(
        stderr.contains(&format!("denied: {private_url} is denied by --deny")),
        "{stderr}"
    );
    let stats = stderr.lines().last().unwrap();
    assert!(
        stats.contains(&format!("\"denied\":[\"{private_url}\"")),
        "{stats}"
    );
}

#[test]
fn the_preopen_is_the_same_grant_as_allow_and_a_deny_on_it_wins() {
    let dir = sandbox();
    let module = wasm("raw");
    let deny = format!("file://{}", s(dir.path()));
    let preopen = format!("{}::/sandbox", s(dir.path()));
    let out = tern(&["--dir", &preopen, "--deny", &deny, s(&module)], b"");
    assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("is denied by --deny"),
        "{}",
        text(&out.stderr)
    );

    let out = tern(&["--dir", "/definitely/not/here", s(&module)], b"");
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("--dir /definitely/not/here"));
}

#[test]
fn node_wasi_agrees_on_the_std_program() {
    // node:wasi is a trustworthy reference for what an ordinary program sees, not for escapes (it
    // follows symlinks out of a preopen) nor for corner cases (proc_raise kills node, CPU clocks),
    // nor for sleeps: its poll_oneoff runs a libuv timer of whole milliseconds that can fire before
    // the 15 ms the program sleeps (seen: about one run in 40 printed "slept: false"). tern's line
    // is checked against expected/std.txt above; here it is left out on both sides.
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("node is not installed: differential check skipped");
        return;
    }
    let script = root().join("runtime/tests/wasi/node_run.mjs");
    let module = wasm("std");
    let mut outputs = Vec::new();
    for use_node in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("in.txt"), "some input\n").unwrap();
        let mut cmd = if use_node {
            let mut c = Command::new("node");
            c.arg("--no-warnings")
                .arg(&script)
                .arg(&module)
                .arg(dir.path())
                .arg("/data");
            c.env("WASI_ENV", "GREETING=hi");
            c
        } else {
            let mut c = Command::new(tern_bin());
            c.arg("run")
                .arg("--dir")
                .arg(format!("{}::/data", s(dir.path())));
            c.args(["--env", "GREETING=hi"]).arg(&module);
            c
        };
        let mut child = cmd
            .args(["x", "y"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(b"piped\n").unwrap();
        let out = child.wait_with_output().unwrap();
        if use_node && out.stdout.is_empty() {
            // The program prints before anything else, so node failed on its own: seen where the
            // address space is capped (`ulimit -v`), as V8 reserves gigabytes for a Wasm memory.
            eprintln!(
                "node:wasi could not run the module here: differential check skipped\n{}",
                text(&out.stderr)
            );
            return;
        }
        let stdout: String = text(&out.stdout)
            .lines()
            .filter(|line| !line.starts_with("slept: "))
            .map(|line| format!("{line}\n"))
            .collect();
        outputs.push((stdout, out.status.code(), text(&out.stderr)));
    }
    let (tern, node) = (&outputs[0], &outputs[1]);
    assert_eq!(
        (&tern.0, tern.1),
        (&node.0, node.1),
        "tern and node:wasi differ (left tern, right node)\nnode's stderr:\n{}",
        node.2
    );
}

/// A module importing both ABIs: `cwa_main`'s body runs with `$fd_write`, `$fd_close`, `$fd_renumber`
/// from WASI and `$resource_*` from the stream ABI.
fn mixed(body: &str, data: &[(u32, &str)]) -> String {
    let mut wat = String::from("(module\n");
    wat += r#"(import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
(import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
(import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
(import "cwa" "resource_open" (func $resource_open (param i32 i32) (result i32)))
(import "cwa" "resource_write" (func $resource_write (param i32 i32 i32) (result i32)))
(memory (export "memory") 1)
"#;
    for (at, text) in data {
        wat += &format!("(data (i32.const {at}) \"{text}\")\n");
    }
    wat + &format!("(func (export \"cwa_main\") (result i32) (local $h i32) {body}))")
}

#[test]
fn one_handle_table_and_one_stdout_for_both_abis() {
    // iovec at 0 → "wasi\n" at 100; "cwa\n" at 200; "null://" at 300; nwritten at 400.
    let run = Guest::module(mixed(
        "(drop (call $resource_write (i32.const 1) (i32.const 200) (i32.const 4)))
         (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 400)))
         (drop (call $resource_write (i32.const 1) (i32.const 200) (i32.const 4)))
         (local.set $h (call $resource_open (i32.const 300) (i32.const 7)))
         ;; the stream handle is a WASI fd: fd_write to it works, then fd_close frees it for both ABIs
         (if (i32.ne (call $fd_write (local.get $h) (i32.const 0) (i32.const 1) (i32.const 400)) (i32.const 0))
           (then (return (i32.const 101))))
         (if (i32.ne (call $fd_close (local.get $h)) (i32.const 0)) (then (return (i32.const 102))))
         (if (i32.ne (call $resource_write (local.get $h) (i32.const 200) (i32.const 4)) (i32.const -2))
           (then (return (i32.const 103))))
         (local.get $h)",
        &[(0, "\\64\\00\\00\\00\\05\\00\\00\\00"), (100, "wasi\\n"), (200, "cwa\\n"), (300, "null://")],
    ))
    .run();
    assert_eq!(run.code(), 3, "the first free handle, shared by both ABIs");
    assert_eq!(run.stdout, "cwa\nwasi\ncwa\n");
    assert_eq!(run.outcome.process.stats.bytes_written, 4 + 5 + 4 + 5);
}

#[test]
fn poll_oneoff_sleeping_ends_at_the_run_deadline() {
    // One relative monotonic clock subscription of 10 s, with a 200 ms run timeout.
    let sub = "\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\01\\00\\00\\00\\00\\00\\00\\00\\00\\e4\\0b\\54\\02\\00\\00\\00";
    let started = Instant::now();
    let run = Guest::module(mixed(
        "(drop (call $poll_oneoff (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200))) (i32.const 0)",
        &[(0, sub)],
    ))
    .limits(|l| l.timeout = Some(Duration::from_millis(200)))
    .run();
    assert_eq!(run.code(), 124, "{}", run.termination());
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// Every wasi_snapshot_preview1 function with its core-wasm signature (params, results).
const PREVIEW1: &[(&str, &str, &str)] = &[
    ("args_get", "i32 i32", "i32"),
    ("args_sizes_get", "i32 i32", "i32"),
    ("environ_get", "i32 i32", "i32"),
    ("environ_sizes_get", "i32 i32", "i32"),
    ("clock_res_get", "i32 i32", "i32"),
    ("clock_time_get", "i32 i64 i32", "i32"),
    ("fd_advise", "i32 i64 i64 i32", "i32"),
    ("fd_allocate", "i32 i64 i64", "i32"),
    ("fd_close", "i32", "i32"),
    ("fd_datasync", "i32", "i32"),
    ("fd_fdstat_get", "i32 i32", "i32"),
    ("fd_fdstat_set_flags", "i32 i32", "i32"),
    ("fd_fdstat_set_rights", "i32 i64 i64", "i32"),
    ("fd_filestat_get", "i32 i32", "i32"),
    ("fd_filestat_set_size", "i32 i64", "i32"),
    ("fd_filestat_set_times", "i32 i64 i64 i32", "i32"),
    ("fd_pread", "i32 i32 i32 i64 i32", "i32"),
    ("fd_prestat_get", "i32 i32", "i32"),
    ("fd_prestat_dir_name", "i32 i32 i32", "i32"),
    ("fd_pwrite", "i32 i32 i32 i64 i32", "i32"),
    ("fd_read", "i32 i32 i32 i32", "i32"),
    ("fd_readdir", "i32 i32 i32 i64 i32", "i32"),
    ("fd_renumber", "i32 i32", "i32"),
    ("fd_seek", "i32 i64 i32 i32", "i32"),
    ("fd_sync", "i32", "i32"),
    ("fd_tell", "i32 i32", "i32"),
    ("fd_write", "i32 i32 i32 i32", "i32"),
    ("path_create_directory", "i32 i32 i32", "i32"),
    ("path_filestat_get", "i32 i32 i32 i32 i32", "i32"),
    (
        "path_filestat_set_times",
        "i32 i32 i32 i32 i64 i64 i32",
        "i32",
    ),
    ("path_link", "i32 i32 i32 i32 i32 i32 i32", "i32"),
    ("path_open", "i32 i32 i32 i32 i32 i64 i64 i32 i32", "i32"),
    ("path_readlink", "i32 i32 i32 i32 i32 i32", "i32"),
    ("path_remove_directory", "i32 i32 i32", "i32"),
    ("path_rename", "i32 i32 i32 i32 i32 i32", "i32"),
    ("path_symlink", "i32 i32 i32 i32 i32", "i32"),
    ("path_unlink_file", "i32 i32 i32", "i32"),
    ("poll_oneoff", "i32 i32 i32 i32", "i32"),
    ("proc_exit", "i32", ""),
    ("proc_raise", "i32", "i32"),
    ("sched_yield", "", "i32"),
    ("random_get", "i32 i32", "i32"),
    ("sock_accept", "i32 i32 i32", "i32"),
    ("sock_recv", "i32 i32 i32 i32 i32 i32", "i32"),
    ("sock_send", "i32 i32 i32 i32 i32", "i32"),
    ("sock_shutdown", "i32 i32", "i32"),
];

#[test]
fn every_preview1_function_links_with_its_exact_signature_and_nothing_else() {
    let mut wat = String::from("(module\n");
    for (name, params, results) in PREVIEW1 {
        wat += &format!(
            "(import \"wasi_snapshot_preview1\" \"{name}\" (func (param {params}) (result {results})))\n"
        );
    }
    let run = Guest::module(wat + "(func (export \"_start\")))").run();
    assert_eq!(run.code(), 0, "{}", run.termination());
    let defined: Vec<&str> = tern::Runtime::new()
        .imports()
        .iter()
        .filter(|(m, _)| *m == tern_abi::module::WASI_PREVIEW1)
        .map(|(_, n)| *n)
        .collect();
    let mut listed: Vec<&str> = PREVIEW1.iter().map(|(n, _, _)| *n).collect();
    let mut defined_sorted = defined.clone();
    defined_sorted.sort_unstable();
    listed.sort_unstable();
    assert_eq!(defined_sorted, listed);
}
