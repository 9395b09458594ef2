//! Running one [`Run`] of the suite module: prepare its directory, start the runtime with tern's
//! `run` command line, feed stdin, collect stdout and stderr, enforce a deadline.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::cases::{expand, Run, Vars};

/// What one run of the runtime produced.
#[derive(Debug)]
pub struct Outcome {
    /// The command line (runtime first), for the report.
    pub command: Vec<String>,
    /// The run's temporary directory (`{dir}`).
    pub dir: PathBuf,
    /// The run's template values (`dir`, and what its servers provide).
    pub vars: Vars,
    /// Everything the runtime wrote to stdout.
    pub stdout: String,
    /// Everything the runtime wrote to stderr.
    pub stderr: String,
    /// The exit status, or `None` when it was killed or could not start.
    pub exit_status: Option<i32>,
    /// Why there is no exit status (killed at the deadline, by a signal, failed to start).
    pub problem: Option<String>,
    /// Wall-clock time from start to exit.
    pub duration: Duration,
    /// In a serve run: the HTTP response to the case's request.
    pub response: Option<crate::serve::HttpResponse>,
}

/// Where and how to run.
pub struct Runner<'a> {
    /// The runtime executable (tern, another build, or a wrapper script).
    pub runtime: &'a Path,
    /// The suite module.
    pub module: &'a Path,
    /// The deadline of a run that does not set `max_seconds`.
    pub deadline: Duration,
}

impl Runner<'_> {
    /// Prepares `run` in the fresh directory `dir` and runs it.
    pub fn run(&self, run: &Run, dir: &Path, deadline: Option<Duration>) -> Result<Outcome> {
        let dir_text = dir
            .to_str()
            .with_context(|| format!("{} is not UTF-8", dir.display()))?;
        let mut vars = crate::servers::start(&run.servers, dir)?;
        vars.insert("dir".into(), dir_text.into());
        prepare(run, dir, &vars)?;
        let args = command_line(run, self.module, &vars);
        let mut command = vec![self.runtime.display().to_string()];
        command.extend(args.iter().cloned());
        let stdin = expand(&run.stdin, &vars).into_bytes();
        let started = Instant::now();
        let mut child = match spawn(self.runtime, &args) {
            Ok(child) => child,
            Err(e) => {
                return Ok(Outcome {
                    command,
                    dir: dir.to_path_buf(),
                    vars,
                    stdout: String::new(),
                    stderr: String::new(),
                    exit_status: None,
                    problem: Some(format!("could not start {}: {e}", self.runtime.display())),
                    duration: started.elapsed(),
                    response: None,
                })
            }
        };
        let feeder = child.stdin.take().map(|mut pipe| {
            // A runtime that never reads stdin closes the pipe: that is not the harness's error.
            thread::spawn(move || drop(pipe.write_all(&stdin)))
        });
        let stdout = child.stdout.take().map(collect);
        let stderr = child.stderr.take().map(collect);
        let waited = wait(&mut child, deadline.unwrap_or(self.deadline));
        let duration = started.elapsed();
        if let Some(feeder) = feeder {
            let _ = feeder.join();
        }
        let text = |h: Option<thread::JoinHandle<Vec<u8>>>| {
            h.and_then(|h| h.join().ok())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        };
        let (stdout, stderr) = (text(stdout), text(stderr));
        let (exit_status, problem) = match waited {
            Ok(status) => describe(status),
            Err(limit) => (
                None,
                Some(format!(
                    "killed after {:.1} s (the run's deadline)",
                    limit.as_secs_f64()
                )),
            ),
        };
        Ok(Outcome {
            command,
            dir: dir.to_path_buf(),
            vars,
            stdout,
            stderr,
            exit_status,
            problem,
            duration,
            response: None,
        })
    }
}

/// Creates the run's files and directories under `dir`.
pub(crate) fn prepare(run: &Run, dir: &Path, vars: &Vars) -> Result<()> {
    for d in &run.dirs {
        std::fs::create_dir_all(dir.join(d)).with_context(|| format!("creating {d}"))?;
    }
    for (path, content) in &run.files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, expand(content, vars))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// `run [--env K=V]... [--allow U]... [--deny U]... [FLAGS]... MODULE RUN-NAME ARGS...`
pub fn command_line(run: &Run, module: &Path, vars: &Vars) -> Vec<String> {
    let mut args = vec!["run".to_string()];
    for (key, value) in &run.env {
        args.push("--env".into());
        args.push(format!("{key}={}", expand(value, vars)));
    }
    for url in &run.allow {
        args.push("--allow".into());
        args.push(expand(url, vars));
    }
    for url in &run.deny {
        args.push("--deny".into());
        args.push(expand(url, vars));
    }
    args.extend(run.flags.iter().map(|f| expand(f, vars)));
    args.push(module.display().to_string());
    args.push(run.name.clone());
    args.extend(run.args.iter().map(|a| expand(a, vars)));
    args
}

/// Starts the runtime in its own process group, so a wrapper and everything it started can be
/// killed together at the deadline.
pub(crate) fn spawn(runtime: &Path, args: &[String]) -> std::io::Result<Child> {
    let mut command = Command::new(runtime);
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    command.spawn()
}

/// Reads a pipe to its end on a thread.
pub(crate) fn collect(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Waits for the child until `limit`; past it, kills its process group and returns `Err(limit)`.
fn wait(child: &mut Child, limit: Duration) -> Result<ExitStatus, Duration> {
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if start.elapsed() < limit => thread::sleep(Duration::from_millis(10)),
            _ => {
                kill_group(child);
                let _ = child.wait();
                return Err(limit);
            }
        }
    }
}

/// Kills the child and, on Unix, its whole process group (a wrapper script's children too).
pub(crate) fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
}

/// The exit status, or a description of how the process ended without one.
fn describe(status: ExitStatus) -> (Option<i32>, Option<String>) {
    if let Some(code) = status.code() {
        return (Some(code), None);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return (None, Some(format!("killed by signal {signal}")));
        }
    }
    (
        None,
        Some(format!("ended without an exit status ({status})")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_tern_run() {
        let run: Run = toml::from_str(
            r#"
            name = "main"
            args = ["a b", "{dir}/x"]
            allow = ["file://{dir}"]
            deny = ["file://{dir}/s"]
            flags = ["--timeout", "1s"]
            [env]
            K = "v={dir}"
            "#,
        )
        .unwrap();
        let vars = Vars::from([("dir".to_string(), "/t".to_string())]);
        let args = command_line(&run, Path::new("/m.wasm"), &vars);
        assert_eq!(
            args,
            [
                "run",
                "--env",
                "K=v=/t",
                "--allow",
                "file:///t",
                "--deny",
                "file:///t/s",
                "--timeout",
                "1s",
                "/m.wasm",
                "main",
                "a b",
                "/t/x"
            ]
        );
    }
}
