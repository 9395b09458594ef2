//! Judging a case: the module's TAP verdict plus the checks only the harness can make.

use serde::Serialize;

use crate::cases::{expand, Case, TapStream};
use crate::runner::Outcome;
use crate::tap;

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The module said `ok` and every harness check held.
    Passed,
    /// The module said `not ok`, or a harness check failed.
    Failed,
    /// The module never reported the case.
    Missing,
    /// The module reported `# SKIP reason`: its SDK does not implement the case (yet). Reported
    /// apart from passes and failures; `--require-all` judges it failed instead.
    Skipped,
}

/// How strictly skips are judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skips {
    /// A `# SKIP` case is [`Status::Skipped`].
    Allowed,
    /// A `# SKIP` case is [`Status::Failed`] (`--require-all`).
    Fail,
}

/// The verdict on one case.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// The case number.
    pub id: u32,
    /// The case's name in cases.toml.
    pub name: String,
    /// The run it belongs to.
    pub run: String,
    /// What the case checks (cases.toml's `expect`).
    pub expect: String,
    /// What it exercises (cases.toml's `covers`).
    pub covers: Vec<String>,
    /// Passed, failed or missing.
    pub status: Status,
    /// Why it did not pass: the module's reasons (`suite: …`) and the harness's (`harness: …`).
    pub reasons: Vec<String>,
}

/// Judges `case` from its run's `outcome` and TAP `report`.
pub fn judge(
    case: &Case,
    tap_stream: TapStream,
    outcome: &Outcome,
    report: &tap::Report,
    skips: Skips,
) -> Verdict {
    let mut reasons = Vec::new();
    let status = match report.results.get(&case.id) {
        // A skipped case is not judged further: the module did not do what the harness would check.
        Some(result) if result.skip.is_some() && !report.duplicates.contains(&case.id) => {
            let why = result.skip.as_deref().unwrap_or_default();
            reasons.push(if why.is_empty() {
                "skipped (no reason given)".to_string()
            } else {
                format!("skipped: {why}")
            });
            match skips {
                Skips::Allowed => Status::Skipped,
                Skips::Fail => {
                    reasons.push("harness: --require-all: a skipped case fails".into());
                    Status::Failed
                }
            }
        }
        None => {
            reasons.push(format!(
                "missing: the module never reported case {} on {}",
                case.id,
                match tap_stream {
                    TapStream::Stdout => "stdout",
                    TapStream::Stderr => "stderr",
                }
            ));
            reasons.push(format!("run {}: {}", case.run, ending(outcome)));
            Status::Missing
        }
        Some(result) => {
            if !result.ok {
                if let Some(d) = &result.directive {
                    reasons.push(format!("suite: {d}"));
                } else if result.diagnostics.is_empty() {
                    reasons.push("suite: not ok (no reason given)".into());
                }
                reasons.extend(result.diagnostics.iter().map(|d| format!("suite: {d}")));
            }
            if report.duplicates.contains(&case.id) {
                reasons.push("harness: the module reported this case more than once".into());
            }
            let before = reasons.len();
            harness_checks(case, outcome, &mut reasons);
            if reasons.len() > before {
                reasons.push(format!("run {}: {}", case.run, ending(outcome)));
            }
            if reasons.is_empty() {
                Status::Passed
            } else {
                Status::Failed
            }
        }
    };
    Verdict {
        id: case.id,
        name: case.name.clone(),
        run: case.run.clone(),
        expect: case.expect.split_whitespace().collect::<Vec<_>>().join(" "),
        covers: case.covers.clone(),
        status,
        reasons,
    }
}

/// How the run ended, in words.
fn ending(outcome: &Outcome) -> String {
    let how = match (&outcome.exit_status, &outcome.problem, &outcome.response) {
        (_, Some(problem), _) => problem.clone(),
        (_, None, Some(response)) => format!("HTTP status {}", response.status),
        (Some(code), None, None) => format!("exit status {code}"),
        (None, None, None) => "no exit status".into(),
    };
    let last = outcome
        .stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("error:") || l.starts_with("tern:"));
    match last {
        Some(line) => format!("{how}; last host diagnostic: {line}"),
        None => how,
    }
}

/// The checks of cases.toml that look at the run from outside: output, log, files, status, time.
fn harness_checks(case: &Case, outcome: &Outcome, reasons: &mut Vec<String>) {
    let x = |s: &String| expand(s, &outcome.vars);
    let stdout: Vec<&str> = lines(&outcome.stdout);
    let stderr: Vec<&str> = lines(&outcome.stderr);

    let want: Vec<String> = case.stdout.iter().map(x).collect();
    if let Err(missing) = in_order(&stdout, &want) {
        reasons.push(format!(
            "harness: stdout lacks the line {missing:?} (in this order: {want:?})"
        ));
    }
    for line in case.stdout_absent.iter().map(x) {
        if stdout.contains(&line.as_str()) {
            reasons.push(format!(
                "harness: stdout has the line {line:?}, which must not appear"
            ));
        }
    }
    let want: Vec<String> = case.stderr.iter().map(x).collect();
    if let Err(missing) = in_order(&stderr, &want) {
        reasons.push(format!(
            "harness: stderr lacks the line {missing:?} (in this order: {want:?})"
        ));
    }

    let log: Vec<String> = case
        .log
        .iter()
        .map(|l| format!("[guest] {}", x(l)))
        .collect();
    let found = if case.log_consecutive {
        consecutive(&stderr, &log)
    } else {
        in_order(&stderr, &log)
    };
    if let Err(missing) = found {
        let how = if case.log_consecutive {
            "as consecutive lines"
        } else {
            "in order"
        };
        reasons.push(format!(
            "harness: the log lacks {missing:?} ({how}: {log:?}); guest log lines seen: {:?}",
            guest_lines(&stderr)
        ));
    }
    for line in &case.log_absent {
        let line = format!("[guest] {}", x(line));
        if stderr.contains(&line.as_str()) {
            reasons.push(format!(
                "harness: the log has {line:?}, which must not appear"
            ));
        }
    }

    for needle in case.diagnostic.iter().map(x) {
        let found = stderr
            .iter()
            .any(|l| (l.starts_with("tern:") || l.starts_with("error:")) && l.contains(&needle));
        if !found {
            reasons.push(format!(
                "harness: no host diagnostic line (starting \"tern:\" or \"error:\") on stderr contains {needle:?}"
            ));
        }
    }

    for (path, want) in &case.files {
        let full = outcome.dir.join(path);
        match std::fs::read(&full) {
            Ok(got) if got == x(want).as_bytes() => {}
            Ok(got) => reasons.push(format!(
                "harness: {path} holds {:?}, expected {:?}",
                String::from_utf8_lossy(&got),
                x(want)
            )),
            Err(e) => reasons.push(format!("harness: cannot read {path}: {e}")),
        }
    }

    if let Some(want) = case.exit_status {
        if outcome.exit_status != Some(want) {
            let got = match (&outcome.exit_status, &outcome.problem) {
                (Some(code), _) => format!("{code}"),
                (None, Some(problem)) => problem.clone(),
                (None, None) => "none".into(),
            };
            reasons.push(format!("harness: exit status {got}, expected {want}"));
        }
    }
    response_checks(case, outcome, reasons);
    if let Some(limit) = case.max_seconds {
        if outcome.duration.as_secs_f64() > limit as f64 {
            reasons.push(format!(
                "harness: the run took {:.1} s, more than {limit} s",
                outcome.duration.as_secs_f64()
            ));
        }
    }
}

/// A serve run's checks of the HTTP response: its status and header lines.
fn response_checks(case: &Case, outcome: &Outcome, reasons: &mut Vec<String>) {
    if case.response_status.is_none() && case.response_headers.is_empty() {
        return;
    }
    let Some(response) = &outcome.response else {
        reasons.push("harness: no HTTP response to check".into());
        return;
    };
    if let Some(want) = case.response_status {
        if response.status != want {
            reasons.push(format!(
                "harness: response status {}, expected {want}",
                response.status
            ));
        }
    }
    for line in &case.response_headers {
        if !response.headers.contains(line) {
            reasons.push(format!(
                "harness: the response lacks the header {line:?}; it has {:?}",
                response.headers
            ));
        }
    }
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().map(|l| l.trim_end_matches('\r')).collect()
}

fn guest_lines<'a>(stderr: &[&'a str]) -> Vec<&'a str> {
    stderr
        .iter()
        .copied()
        .filter(|l| l.starts_with("[guest] "))
        .collect()
}

/// Whether `want` occurs in `have` as a subsequence; `Err` names the first line not found.
fn in_order<'a>(have: &[&str], want: &'a [String]) -> Result<(), &'a str> {
    let mut rest = have.iter();
    for line in want {
        if !rest.any(|h| h == line) {
            return Err(line);
        }
    }
    Ok(())
}

/// Whether `want` occurs in `have` as consecutive lines.
fn consecutive<'a>(have: &[&str], want: &'a [String]) -> Result<(), &'a str> {
    if want.is_empty()
        || have
            .windows(want.len())
            .any(|w| w.iter().zip(want).all(|(h, l)| h == l))
    {
        return Ok(());
    }
    // Name the first line that is missing, or the first whose neighbour is wrong.
    match want.iter().find(|l| !have.contains(&l.as_str())) {
        Some(line) => Err(line),
        None => Err(&want[want.len() - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn outcome(stdout: &str, stderr: &str, status: Option<i32>) -> Outcome {
        Outcome {
            command: vec![],
            dir: "/nonexistent-conformance-dir".into(),
            vars: Default::default(),
            stdout: stdout.into(),
            stderr: stderr.into(),
            exit_status: status,
            problem: None,
            duration: Duration::from_millis(5),
            response: None,
        }
    }

    fn case(extra: &str) -> Case {
        toml::from_str(&format!("id = 1\nname = \"n\"\nexpect = \"e\"\n{extra}")).unwrap()
    }

    fn verdict(case: &Case, out: &Outcome, tap: &str) -> Verdict {
        judge(
            case,
            TapStream::Stdout,
            out,
            &tap::parse(tap),
            Skips::Allowed,
        )
    }

    #[test]
    fn a_skip_is_its_own_status_unless_all_are_required() {
        let c = case("exit_status = 7\nstdout = [\"never\"]");
        let out = outcome("ok 1 - n # SKIP not ported\n", "", Some(0));
        let v = verdict(&c, &out, &out.stdout);
        assert_eq!(v.status, Status::Skipped);
        assert_eq!(v.reasons, ["skipped: not ported"]);
        let strict = judge(
            &c,
            TapStream::Stdout,
            &out,
            &tap::parse(&out.stdout),
            Skips::Fail,
        );
        assert_eq!(strict.status, Status::Failed);
        assert!(
            strict.reasons[1].contains("--require-all"),
            "{:?}",
            strict.reasons
        );
        // A TODO is no skip: it fails.
        let todo = outcome("ok 1 - n # TODO later\n", "", Some(7));
        let c = case("exit_status = 7");
        assert_eq!(verdict(&c, &todo, &todo.stdout).status, Status::Failed);
    }

    #[test]
    fn ok_with_no_checks_passes() {
        let out = outcome("ok 1 - n\n", "", Some(0));
        assert_eq!(verdict(&case(""), &out, &out.stdout).status, Status::Passed);
    }

    #[test]
    fn an_unreported_case_is_missing() {
        let out = outcome("ok 2 - other\n", "error: m.wasm: unreachable\n", Some(134));
        let v = verdict(&case(""), &out, &out.stdout);
        assert_eq!(v.status, Status::Missing);
        assert!(v.reasons[1].contains("exit status 134"));
        assert!(v.reasons[1].contains("unreachable"));
    }

    #[test]
    fn not_ok_fails_with_the_suites_reasons() {
        let out = outcome("not ok 1 - n\n# expected 1, got 2\n", "", Some(0));
        let v = verdict(&case(""), &out, &out.stdout);
        assert_eq!(v.status, Status::Failed);
        assert_eq!(v.reasons, ["suite: expected 1, got 2"]);
        let silent = outcome("not ok 1 - n\n", "", Some(0));
        let v = verdict(&case(""), &silent, &silent.stdout);
        assert_eq!(v.reasons, ["suite: not ok (no reason given)"]);
    }

    #[test]
    fn stdout_lines_must_appear_in_order() {
        let c = case("stdout = [\"a\", \"b\"]\nstdout_absent = [\"z\"]");
        let good = outcome("a\nx\nb\nok 1\n", "", Some(0));
        assert_eq!(verdict(&c, &good, &good.stdout).status, Status::Passed);
        let swapped = outcome("b\na\nok 1\n", "", Some(0));
        let v = verdict(&c, &swapped, &swapped.stdout);
        assert_eq!(v.status, Status::Failed);
        assert!(v.reasons[0].contains("\"b\""), "{:?}", v.reasons);
        let absent = outcome("a\nb\nz\nok 1\n", "", Some(0));
        assert_eq!(verdict(&c, &absent, &absent.stdout).status, Status::Failed);
    }

    #[test]
    fn log_lines_carry_the_guest_prefix() {
        let c = case("log = [\"info: p: one\", \"info: two\"]\nlog_consecutive = true\nlog_absent = [\"info: p: on\"]");
        let ok = outcome(
            "ok 1\n",
            "[guest] info: p: one\n[guest] info: two\n",
            Some(0),
        );
        assert_eq!(verdict(&c, &ok, &ok.stdout).status, Status::Passed);
        let apart = outcome(
            "ok 1\n",
            "[guest] info: p: one\nnoise\n[guest] info: two\n",
            Some(0),
        );
        assert_eq!(verdict(&c, &apart, &apart.stdout).status, Status::Failed);
        let unprefixed = outcome("ok 1\n", "info: p: one\ninfo: two\n", Some(0));
        assert_eq!(
            verdict(&c, &unprefixed, &unprefixed.stdout).status,
            Status::Failed
        );
        let split = outcome(
            "ok 1\n",
            "[guest] info: p: on\n[guest] info: p: one\n[guest] info: two\n",
            Some(0),
        );
        assert_eq!(verdict(&c, &split, &split.stdout).status, Status::Failed);
    }

    #[test]
    fn diagnostics_must_be_host_lines() {
        let c = case("diagnostic = [\"x://y\"]");
        let host = outcome("ok 1\n", "tern: m: denied: x://y is not granted\n", Some(0));
        assert_eq!(verdict(&c, &host, &host.stdout).status, Status::Passed);
        let guest = outcome("ok 1\n", "[guest] info: x://y\n", Some(0));
        assert_eq!(verdict(&c, &guest, &guest.stdout).status, Status::Failed);
    }

    #[test]
    fn exit_status_and_time_are_checked() {
        let c = case("exit_status = 7\nmax_seconds = 1");
        let right = outcome("ok 1\n", "", Some(7));
        assert_eq!(verdict(&c, &right, &right.stdout).status, Status::Passed);
        let wrong = outcome("ok 1\n", "", Some(0));
        let v = verdict(&c, &wrong, &wrong.stdout);
        assert!(v.reasons[0].contains("exit status 0, expected 7"));
        let mut slow = outcome("ok 1\n", "", Some(7));
        slow.duration = Duration::from_secs(3);
        assert_eq!(verdict(&c, &slow, &slow.stdout).status, Status::Failed);
    }

    #[test]
    fn files_are_compared_exactly() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f.txt"), "one\n").unwrap();
        let c = case("files = { \"f.txt\" = \"one\\n\", \"g.txt\" = \"\" }");
        let mut out = outcome("ok 1\n", "", Some(0));
        out.dir = dir.path().to_path_buf();
        let v = verdict(&c, &out, &out.stdout);
        assert_eq!(v.status, Status::Failed);
        assert_eq!(v.reasons.len(), 2, "{:?}", v.reasons);
        assert!(v.reasons[0].contains("cannot read g.txt"));
    }
}
