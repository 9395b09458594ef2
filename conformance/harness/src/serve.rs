//! A serve run: the module as a CGI handler behind `RUNTIME serve` (ABI.md §8). The harness starts
//! `RUNTIME serve --listen 127.0.0.1:0 [--env K=V]... [--allow U]... [--deny U]... [FLAGS]... MODULE`,
//! waits for its `listening on http://ADDR` line, sends each case's request, and stops the server.
//! Each case's [`Outcome`] has the response (its body is the module's TAP report for the case) and
//! the server's stderr.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::cases::{expand, Case, HttpRequest, Run, Vars};
use crate::runner::{self, Outcome, Runner};

/// The most response bytes the harness reads for one request.
const MAX_RESPONSE: u64 = 1 << 20;

/// An HTTP response as the harness received it.
#[derive(Debug, Clone, Serialize)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The header lines as `name: value`, the name in lower case.
    pub headers: Vec<String>,
    /// The body, as text.
    pub body: String,
}

/// `serve --listen 127.0.0.1:0 [--env K=V]... [--allow U]... [--deny U]... [FLAGS]... MODULE`
pub fn command_line(run: &Run, module: &Path, vars: &Vars) -> Vec<String> {
    let mut args = vec!["serve".to_string(), "--listen".into(), "127.0.0.1:0".into()];
    for (key, value) in &run.env {
        args.push("--env".into());
        args.push(format!("{key}={}", expand(value, vars)));
    }
    for (flag, urls) in [("--allow", &run.allow), ("--deny", &run.deny)] {
        for url in urls {
            args.push(flag.into());
            args.push(expand(url, vars));
        }
    }
    args.extend(run.flags.iter().map(|f| expand(f, vars)));
    args.push(module.display().to_string());
    args
}

/// Serves the module for `run` in the fresh directory `dir` and sends the request of every case;
/// returns one outcome per case, in order.
pub fn run(runner: &Runner, run: &Run, dir: &Path, cases: &[&Case]) -> Result<Vec<(u32, Outcome)>> {
    let dir_text = dir
        .to_str()
        .with_context(|| format!("{} is not UTF-8", dir.display()))?;
    let mut vars = crate::servers::start(&run.servers, dir)?;
    vars.insert("dir".into(), dir_text.into());
    runner::prepare(run, dir, &vars)?;
    let args = command_line(run, runner.module, &vars);
    let mut command = vec![runner.runtime.display().to_string()];
    command.extend(args.iter().cloned());
    let started = Instant::now();
    let outcome = |stderr: &str, problem: Option<String>, response: Option<HttpResponse>| Outcome {
        command: command.clone(),
        dir: dir.to_path_buf(),
        vars: vars.clone(),
        stdout: response
            .as_ref()
            .map(|r| r.body.clone())
            .unwrap_or_default(),
        stderr: stderr.to_string(),
        exit_status: None,
        problem,
        duration: started.elapsed(),
        response,
    };
    let mut child = match runner::spawn(runner.runtime, &args) {
        Ok(child) => child,
        Err(e) => {
            let problem = format!("could not start {}: {e}", runner.runtime.display());
            return Ok(cases
                .iter()
                .map(|c| (c.id, outcome("", Some(problem.clone()), None)))
                .collect());
        }
    };
    drop(child.stdin.take());
    let stdout = child.stdout.take().map(runner::collect);
    // stderr line by line: the listening line tells where the server is; all of it is kept.
    let (lines_tx, lines_rx) = mpsc::channel::<String>();
    let stderr = child.stderr.take().map(|pipe| {
        thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = lines_tx.send(line.clone());
                all.push_str(&line);
                all.push('\n');
            }
            all
        })
    });
    let addr = wait_for_address(&lines_rx, runner.deadline);
    let exchanges: Vec<(u32, Result<HttpResponse, String>)> = cases
        .iter()
        .map(|case| {
            let result = match (&addr, &case.request) {
                (Ok(addr), Some(request)) => exchange(*addr, request, &vars, runner.deadline),
                (Err(e), _) => Err(e.clone()),
                (_, None) => Err("the case has no request".into()),
            };
            (case.id, result)
        })
        .collect();
    runner::kill_group(&mut child);
    let _ = child.wait();
    drop(stdout.map(|h| h.join()));
    let stderr = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    Ok(exchanges
        .into_iter()
        .map(|(id, result)| match result {
            Ok(response) => (id, outcome(&stderr, None, Some(response))),
            Err(problem) => (id, outcome(&stderr, Some(problem), None)),
        })
        .collect())
}

/// Waits for `tern serve: listening on http://ADDR` on the server's stderr.
fn wait_for_address(lines: &mpsc::Receiver<String>, limit: Duration) -> Result<SocketAddr, String> {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                if let Some((_, rest)) = line.split_once("listening on http://") {
                    let addr = rest.split_whitespace().next().unwrap_or_default();
                    return addr
                        .parse()
                        .map_err(|e| format!("the listening line {line:?} has no address: {e}"));
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(format!(
                    "the server printed no \"listening on http://ADDR\" line within {:.0} s",
                    limit.as_secs_f64()
                ))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err("the server ended before it was listening".into())
            }
        }
    }
}

/// Sends `request` as HTTP/1.0 (so the response is neither chunked nor kept alive) and reads the
/// response to its end.
fn exchange(
    addr: SocketAddr,
    request: &HttpRequest,
    vars: &Vars,
    limit: Duration,
) -> Result<HttpResponse, String> {
    let fail = |e: std::io::Error| format!("{} {}: {e}", request.method, request.path);
    let mut stream = TcpStream::connect_timeout(&addr, limit).map_err(fail)?;
    stream.set_read_timeout(Some(limit)).map_err(fail)?;
    let body = expand(&request.body, vars);
    let mut head = format!(
        "{} {} HTTP/1.0\r\nHost: {addr}\r\n",
        request.method,
        expand(&request.path, vars)
    );
    for (name, value) in &request.headers {
        head.push_str(&format!("{name}: {}\r\n", expand(value, vars)));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).map_err(fail)?;
    stream.write_all(body.as_bytes()).map_err(fail)?;
    let mut bytes = Vec::new();
    stream
        .take(MAX_RESPONSE)
        .read_to_end(&mut bytes)
        .map_err(fail)?;
    parse_response(&String::from_utf8_lossy(&bytes))
}

/// Splits an HTTP/1.x response into status, header lines and body.
fn parse_response(text: &str) -> Result<HttpResponse, String> {
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no blank line after the response head: {text:?}"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("not a status line: {status_line:?}"))?;
    let headers = lines
        .map(|line| match line.split_once(':') {
            Some((name, value)) => format!("{}: {}", name.to_ascii_lowercase(), value.trim()),
            None => line.to_string(),
        })
        .collect();
    Ok(HttpResponse {
        status,
        headers,
        body: body.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_are_split_and_header_names_lowered() {
        let r = parse_response(
            "HTTP/1.0 404 Not Found\r\nX-A: b\r\ncontent-type:text/plain\r\n\r\nok 1\n",
        )
        .unwrap();
        assert_eq!(r.status, 404);
        assert_eq!(r.headers, ["x-a: b", "content-type: text/plain"]);
        assert_eq!(r.body, "ok 1\n");
        assert!(parse_response("garbage").is_err());
        assert!(parse_response("HTTP/1.0 x\r\n\r\n").is_err());
    }

    #[test]
    fn the_command_line_is_tern_serve() {
        let run: Run = toml::from_str(
            "name = \"cgi\"\nserve = true\nallow = [\"file://{dir}\"]\n[env]\nK = \"v\"\n",
        )
        .unwrap();
        let vars = Vars::from([("dir".to_string(), "/t".to_string())]);
        assert_eq!(
            command_line(&run, Path::new("/m.wasm"), &vars),
            [
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--env",
                "K=v",
                "--allow",
                "file:///t",
                "/m.wasm"
            ]
        );
    }
}
