//! `tern-conformance`: runs a conformance suite module under a runtime and reports, case by case,
//! whether the runtime and the module agree with abi/ABI.md.
//!
//! For every run of the case list (conformance/cases.toml) it prepares a fresh directory and the
//! run's environment, starts `RUNTIME run … MODULE RUN-NAME ARGS…`, parses the module's TAP report,
//! adds the checks the module cannot make itself (stdout, the host log, files, exit status), and
//! prints one TAP line per case and the summary line `N passed, N failed, N skipped (…)`. See
//! conformance/README.md.

/// Prints a line on stdout, ignoring failure: a closed stdout (`| head`) must not stop the
/// runs or lose the JSON report and exit status.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod cases;
mod runner;
#[cfg(test)]
mod sdk_bindings;
mod serve;
mod servers;
mod tap;
mod verdict;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Parser;
use serde::Serialize;

use cases::CaseFile;
use tap::Sdk;
use verdict::{Skips, Status, Verdict};

/// Run a tern conformance suite module under a runtime and check it against the case list.
#[derive(Parser, Debug)]
#[command(name = "tern-conformance", version)]
struct Cli {
    /// The runtime: any executable with tern's `run` command line (tern itself, another build, or
    /// a wrapper script such as one that runs tern under qemu). Default: the `tern` next to this
    /// program, else `tern` on PATH.
    #[arg(long, value_name = "PATH")]
    runtime: Option<PathBuf>,
    /// The case list. Default: the conformance/cases.toml this harness was built with.
    #[arg(long, value_name = "FILE")]
    cases: Option<PathBuf>,
    /// Also write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Only these runs (repeatable); the cases of other runs are not counted.
    #[arg(long = "run", value_name = "NAME")]
    runs: Vec<String>,
    /// Leave out these runs (repeatable), e.g. `--skip net` for a runtime built without network
    /// support; their cases are not counted.
    #[arg(long = "skip", value_name = "NAME")]
    skip: Vec<String>,
    /// Kill a run that takes longer than this many seconds (unless the case list sets max_seconds).
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    deadline: u64,
    /// Keep the runs' temporary directories and print where they are.
    #[arg(long)]
    keep: bool,
    /// Print each run's command line, stdout and stderr.
    #[arg(short, long)]
    verbose: bool,
    /// Judge a case the module reports as `# SKIP` failed instead of skipped (what tern's own CI
    /// does for the Rust and C suites, which implement every case).
    #[arg(long)]
    require_all: bool,
    /// The suite module (.wasm).
    module: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match conform(&cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("tern-conformance: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs everything; `Ok(true)` when every case passed.
fn conform(cli: &Cli) -> Result<bool> {
    let file = match &cli.cases {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            CaseFile::parse(&text, &path.display().to_string())?
        }
        None => CaseFile::parse(cases::BUILT_IN, "built-in cases.toml")?,
    };
    for (flag, names) in [("--run", &cli.runs), ("--skip", &cli.skip)] {
        for name in names {
            if !file.runs.iter().any(|r| &r.name == name) {
                bail!("{flag} {name}: the case list has no such run");
            }
        }
    }
    let runtime = match &cli.runtime {
        Some(path) => path.clone(),
        None => default_runtime(),
    };
    let module =
        std::path::absolute(&cli.module).with_context(|| format!("{}", cli.module.display()))?;
    if !module.is_file() {
        bail!(
            "{}: no such module (build the suite first; see conformance/README.md)",
            module.display()
        );
    }
    let runner = runner::Runner {
        runtime: &runtime,
        module: &module,
        deadline: Duration::from_secs(cli.deadline),
    };

    say!("# runtime: {}", runtime.display());
    say!("# module: {}", module.display());
    let selected: Vec<&cases::Run> = file
        .runs
        .iter()
        .filter(|r| cli.runs.is_empty() || cli.runs.contains(&r.name))
        .filter(|r| !cli.skip.contains(&r.name))
        .collect();
    let skips = if cli.require_all {
        Skips::Fail
    } else {
        Skips::Allowed
    };
    let mut sdk: Option<Sdk> = None;
    let mut verdicts = Vec::new();
    let mut run_reports = Vec::new();
    for run in selected {
        let temp = tempfile::Builder::new()
            .prefix(&format!("tern-conformance-{}-", run.name))
            .tempdir()
            .context("cannot create a temporary directory")?;
        let deadline = file
            .cases_of(&run.name)
            .filter_map(|c| c.max_seconds)
            .max()
            .map(|s| Duration::from_secs(s + 30));
        if run.serve {
            let cases: Vec<&cases::Case> = file.cases_of(&run.name).collect();
            let outcomes = serve::run(&runner, run, temp.path(), &cases)
                .with_context(|| format!("run {}", run.name))?;
            for (case, (_, outcome)) in cases.iter().zip(&outcomes) {
                let report = tap::parse(&outcome.stdout);
                if sdk.is_none() {
                    sdk = report.sdk.clone();
                }
                verdicts.push(verdict::judge(case, run.tap, outcome, &report, skips));
            }
            if let Some((_, last)) = outcomes.last() {
                say!(
                    "# run {}: {} requests served in {:.2} s",
                    run.name,
                    outcomes.len(),
                    last.duration.as_secs_f64()
                );
                if cli.verbose {
                    print_output(last);
                }
                run_reports.push(RunReport::new(run, last));
            }
            keep(cli, temp, &run.name);
            continue;
        }
        let outcome = runner
            .run(run, temp.path(), deadline)
            .with_context(|| format!("run {}", run.name))?;
        let tap_text = match run.tap {
            cases::TapStream::Stdout => &outcome.stdout,
            cases::TapStream::Stderr => &outcome.stderr,
        };
        let report = tap::parse(tap_text);
        if sdk.is_none() {
            sdk = report.sdk.clone();
        }
        say!(
            "# run {}: {} in {:.2} s",
            run.name,
            match (&outcome.exit_status, &outcome.problem) {
                (_, Some(p)) => p.clone(),
                (Some(c), None) => format!("exit status {c}"),
                (None, None) => "no exit status".into(),
            },
            outcome.duration.as_secs_f64()
        );
        if cli.verbose {
            print_output(&outcome);
        }
        for id in report.results.keys() {
            if !file.cases_of(&run.name).any(|c| c.id == *id) {
                say!(
                    "# run {}: the module reported case {id}, which is not a case of this run",
                    run.name
                );
            }
        }
        for case in file.cases_of(&run.name) {
            let v = verdict::judge(case, run.tap, &outcome, &report, skips);
            if let Some(result) = report.results.get(&case.id) {
                if !result.name.is_empty() && result.name != case.name {
                    say!(
                        "# note: case {} is named {:?} by the module",
                        case.id,
                        result.name
                    );
                }
            }
            verdicts.push(v);
        }
        run_reports.push(RunReport::new(run, &outcome));
        keep(cli, temp, &run.name);
    }

    verdicts.sort_by_key(|v| v.id);
    let sdk_text = match &sdk {
        Some(sdk) => sdk.to_string(),
        None => "unnamed (the module printed no \"# sdk: NAME VERSION\" line)".into(),
    };
    say!("# sdk: {sdk_text}");
    say!("1..{}", verdicts.len());
    for v in &verdicts {
        print_verdict(v);
    }
    let count = |status| verdicts.iter().filter(|v| v.status == status).count();
    let (passed, skipped) = (count(Status::Passed), count(Status::Skipped));
    let failed = verdicts.len() - passed - skipped;
    if let Some(path) = &cli.json {
        let report = JsonReport {
            runtime: runtime.display().to_string(),
            module: module.display().to_string(),
            sdk: sdk.as_ref(),
            require_all: cli.require_all,
            passed,
            failed,
            skipped,
            cases: &verdicts,
            runs: &run_reports,
        };
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    say!(
        "{passed} passed, {failed} failed, {skipped} skipped (sdk: {sdk_text}; runtime: {})",
        runtime.display()
    );
    Ok(failed == 0)
}

/// A case's TAP line (`ok`, `not ok`, or `ok … # SKIP reason`) and its reasons.
fn print_verdict(v: &Verdict) {
    match v.status {
        Status::Passed => say!("ok {} - {}", v.id, v.name),
        Status::Skipped => {
            let why = v.reasons.first().map(String::as_str).unwrap_or_default();
            let why = why.strip_prefix("skipped: ").unwrap_or(why);
            say!("ok {} - {} # SKIP {why}", v.id, v.name);
        }
        Status::Failed | Status::Missing => {
            say!("not ok {} - {}", v.id, v.name);
            for reason in &v.reasons {
                say!("#   {reason}");
            }
            say!("#   expected: {}", v.expect);
        }
    }
}

/// With `--keep`, keeps a run's temporary directory and says where it is.
fn keep(cli: &Cli, temp: tempfile::TempDir, run: &str) {
    if cli.keep {
        let kept = temp.keep();
        say!("# run {run}: kept {}", kept.display());
    }
}

/// The `tern` next to this executable, else `tern` (found on PATH when run).
fn default_runtime() -> PathBuf {
    let beside = std::env::current_exe().ok().and_then(|exe| {
        exe.parent()
            .map(|d| d.join(format!("tern{}", std::env::consts::EXE_SUFFIX)))
    });
    match beside {
        Some(path) if path.is_file() => path,
        _ => PathBuf::from("tern"),
    }
}

fn print_output(outcome: &runner::Outcome) {
    say!("# command: {}", shell_words(&outcome.command));
    for (name, text) in [("stdout", &outcome.stdout), ("stderr", &outcome.stderr)] {
        for line in text.lines() {
            say!("# {name}| {line}");
        }
    }
}

/// The command line, quoted for a POSIX shell, so it can be pasted to reproduce a run.
fn shell_words(words: &[String]) -> String {
    let quote = |w: &String| {
        if !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
        {
            w.clone()
        } else {
            format!("'{}'", w.replace('\'', "'\\''"))
        }
    };
    words.iter().map(quote).collect::<Vec<_>>().join(" ")
}

/// The `--json` report.
#[derive(Serialize)]
struct JsonReport<'a> {
    runtime: String,
    module: String,
    /// The module's `# sdk:` line, if it printed one.
    sdk: Option<&'a Sdk>,
    require_all: bool,
    passed: usize,
    failed: usize,
    skipped: usize,
    cases: &'a [Verdict],
    runs: &'a [RunReport],
}

/// One run in the `--json` report.
#[derive(Serialize)]
struct RunReport {
    name: String,
    command: String,
    exit_status: Option<i32>,
    problem: Option<String>,
    duration_ms: u128,
    stdout: String,
    stderr: String,
}

impl RunReport {
    fn new(run: &cases::Run, o: &runner::Outcome) -> RunReport {
        RunReport {
            name: run.name.clone(),
            command: shell_words(&o.command),
            exit_status: o.exit_status,
            problem: o.problem.clone(),
            duration_ms: o.duration.as_millis(),
            stdout: clip(&o.stdout),
            stderr: clip(&o.stderr),
        }
    }
}

/// The first 64 KiB of a stream, for the JSON report.
fn clip(text: &str) -> String {
    const MAX: usize = 64 * 1024;
    if text.len() <= MAX {
        return text.to_string();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_quote_what_needs_it() {
        let words = ["tern", "run", "two words", "", "it's", "--env=K=v"].map(String::from);
        assert_eq!(
            shell_words(&words),
            "tern run 'two words' '' 'it'\\''s' --env=K=v"
        );
    }

    #[test]
    fn clip_keeps_char_boundaries() {
        let long = "é".repeat(40_000);
        let clipped = clip(&long);
        assert!(clipped.ends_with("(80000 bytes in all)"));
        assert_eq!(clip("short"), "short");
    }
}
