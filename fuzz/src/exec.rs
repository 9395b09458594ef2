//! Runs `tern` as a child process with a hard kill deadline, and says whether the host misbehaved.

use std::ffi::OsString;
use std::io::{self, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How much of the start of each output stream is kept, and of its end (where tern's own last words
/// are); the middle is read and dropped, so the child never blocks.
const KEEP_HEAD: usize = 128 * 1024;
const KEEP_TAIL: usize = 64 * 1024;

/// What a run of `tern` did.
pub struct Run {
    /// How it ended; `None` only if waiting for it failed.
    pub status: Option<ExitStatus>,
    /// True if it outlived the kill deadline and was killed.
    pub killed: bool,
    /// The start of its stdout.
    pub stdout: Vec<u8>,
    /// The start of its stderr.
    pub stderr: Vec<u8>,
    /// Wall-clock time until it ended (or was killed).
    pub elapsed: Duration,
}

/// Runs `tern args…`; kills it if it is still running after `kill_after`.
///
/// With `stdin_open`, stdin is a pipe that stays open and silent, so a guest reading it blocks until
/// tern's own deadline ends the run; otherwise stdin is at end of file.
pub fn run(
    tern: &Path,
    args: &[OsString],
    kill_after: Duration,
    stdin_open: bool,
    address_space: Option<u64>,
) -> io::Result<Run> {
    let start = Instant::now();
    // prlimit (util-linux) caps the address space, so a host allocation past it fails and aborts
    // with "memory allocation of N bytes failed", which counts as a finding.
    let mut command = match address_space {
        Some(bytes) => {
            let mut c = Command::new("prlimit");
            c.arg(format!("--as={bytes}")).arg("--").arg(tern);
            c
        }
        None => Command::new(tern),
    };
    let mut child = command
        .args(args)
        .stdin(if stdin_open {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Held until the child has ended: dropping it would close the pipe.
    let stdin = child.stdin.take();
    let (done_tx, done_rx) = mpsc::channel();
    let readers = [
        drain(
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            done_tx.clone(),
        ),
        drain(
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            done_tx,
        ),
    ];
    // Both pipes close when the process ends: that is the signal, with no polling.
    let deadline = start + kill_after;
    let mut killed = false;
    for _ in 0..readers.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if done_rx.recv_timeout(left).is_err() {
            killed = true;
            let _ = child.kill();
            break;
        }
    }
    let status = child.wait().ok();
    drop(stdin);
    let elapsed = start.elapsed();
    let [stdout, stderr] = readers.map(|r| r.join().unwrap_or_default());
    Ok(Run {
        status,
        killed,
        stdout,
        stderr,
        elapsed,
    })
}

fn drain(
    stream: Option<Box<dyn Read + Send>>,
    done: mpsc::Sender<()>,
) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut head = Vec::new();
        let mut tail = Vec::new();
        let mut dropped = 0usize;
        if let Some(mut stream) = stream {
            let mut buf = [0u8; 16384];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let room = KEEP_HEAD.saturating_sub(head.len()).min(n);
                head.extend_from_slice(&buf[..room]);
                tail.extend_from_slice(&buf[room..n]);
                if tail.len() > 2 * KEEP_TAIL {
                    let cut = tail.len() - KEEP_TAIL;
                    dropped += cut;
                    tail.drain(..cut);
                }
            }
        }
        let _ = done.send(());
        if dropped > 0 {
            head.extend_from_slice(format!("\n[tern-fuzz: {dropped} bytes not kept]\n").as_bytes());
        }
        head.extend_from_slice(&tail);
        head
    })
}

/// A kind of failure (`hang`, `panic`, `escape`, …) and what exactly was seen.
pub type Failure = (&'static str, String);

/// A host failure seen in how a run ended: `(kind, detail)`, or `None` if the host behaved.
///
/// Guest traps, denials and bad modules are normal outcomes (an `error:` line and a non-zero exit);
/// only a Rust panic, a death by signal or outliving the deadline count.
pub fn host_failure(run: &Run) -> Option<Failure> {
    let stderr = String::from_utf8_lossy(&run.stderr);
    let tail = last_lines(&stderr, 3);
    if run.killed {
        return Some((
            "hang",
            format!(
                "still running after {:.1} s; killed",
                run.elapsed.as_secs_f64()
            ),
        ));
    }
    if stderr.contains("has overflowed its stack") {
        // Issue 11 defect 3 (failed memory.grow/table.grow in a loop); B1 is fixing it.
        return Some((
            "stack-overflow",
            format!("known: issue 11 defect 3; {tail}"),
        ));
    }
    if stderr.contains("memory allocation of") {
        return Some(("host-memory", tail));
    }
    if stderr.contains("panicked at") {
        return Some(("panic", tail));
    }
    // Exit 101 is not checked: a guest may exit with it. A panic always prints "panicked at".
    let status = run.status?;
    if let Some(signal) = status.signal() {
        return Some(("signal", format!("killed by signal {signal}; {tail}")));
    }
    None
}

/// The last `n` lines of `text`, joined with " | ".
pub fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

/// The `host_calls` figure of the `--stats-json` line, if the run printed one.
pub fn host_calls(stderr: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(stderr);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with("{\"fuel_used\""))?;
    let rest = &line[line.find("\"host_calls\":")? + "\"host_calls\":".len()..];
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

/// Whether `prlimit` can be run here.
pub fn have_prlimit() -> bool {
    Command::new("prlimit")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
