//! The case list (conformance/cases.toml): runs, cases, and the checks the harness makes.
//!
//! The file is the contract between ABI.md, the suite modules and this harness; its header comment
//! documents every field. Loading validates it, so a typo fails loudly instead of skipping a check.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// The cases.toml this harness was built with.
pub const BUILT_IN: &str = include_str!("../../cases.toml");

/// A parsed and validated case list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// The runs, in file order.
    #[serde(rename = "run")]
    pub runs: Vec<Run>,
    /// The cases, in file order.
    #[serde(rename = "case")]
    pub cases: Vec<Case>,
}

/// One run of the suite module: the environment the harness prepares for it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Run {
    /// The run's name, passed as the guest's argument 1.
    pub name: String,
    /// The guest's arguments after the run name.
    #[serde(default)]
    pub args: Vec<String>,
    /// Environment variables (`--env KEY=VALUE`).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The guest's stdin.
    #[serde(default)]
    pub stdin: String,
    /// URLs passed as `--allow`.
    #[serde(default)]
    pub allow: Vec<String>,
    /// URLs passed as `--deny`.
    #[serde(default)]
    pub deny: Vec<String>,
    /// Other options of `run`, placed before the module.
    #[serde(default)]
    pub flags: Vec<String>,
    /// Files to create under the run's directory: relative path → content.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Empty directories to create under the run's directory.
    #[serde(default)]
    pub dirs: Vec<String>,
    /// Where the module prints its TAP lines.
    #[serde(default)]
    pub tap: TapStream,
    /// Loopback servers the harness starts for the run (see [`crate::servers`]).
    #[serde(default)]
    pub servers: Vec<String>,
    /// Serve the module with `RUNTIME serve` and send each case's `request` (the CGI contract of
    /// ABI.md §8) instead of running it once with `RUNTIME run`.
    #[serde(default)]
    pub serve: bool,
}

/// The stream a run's TAP report is on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TapStream {
    /// The runtime's stdout (the default).
    #[default]
    Stdout,
    /// The runtime's stderr, for a run that closes the guest's stdout.
    Stderr,
}

/// One numbered case and the checks the harness adds to the module's verdict.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// The case number.
    pub id: u32,
    /// The TAP description.
    pub name: String,
    /// The run the case belongs to.
    #[serde(default = "main_run")]
    pub run: String,
    /// ABI functions, schemes and error numbers the case exercises.
    #[serde(default)]
    pub covers: Vec<String>,
    /// The behaviour the module checks, in words.
    pub expect: String,
    /// Lines that must appear on stdout, in order.
    #[serde(default)]
    pub stdout: Vec<String>,
    /// Lines that must not appear on stdout.
    #[serde(default)]
    pub stdout_absent: Vec<String>,
    /// Lines that must appear on stderr, in order.
    #[serde(default)]
    pub stderr: Vec<String>,
    /// Guest log lines (without `[guest] `) that must appear on stderr, in order.
    #[serde(default)]
    pub log: Vec<String>,
    /// Whether the `log` lines must be consecutive stderr lines.
    #[serde(default)]
    pub log_consecutive: bool,
    /// Guest log lines that must not appear.
    #[serde(default)]
    pub log_absent: Vec<String>,
    /// Substrings that must appear in a host diagnostic line (`tern:` or `error:`).
    #[serde(default)]
    pub diagnostic: Vec<String>,
    /// Files under the run's directory that must have exactly this content afterwards.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// The run's expected exit status (exactly one case per run has it).
    pub exit_status: Option<i32>,
    /// The run must end within this many seconds.
    pub max_seconds: Option<u64>,
    /// In a serve run: the HTTP request the harness sends for this case.
    pub request: Option<HttpRequest>,
    /// In a serve run: the response's status code.
    pub response_status: Option<u16>,
    /// In a serve run: header lines (`name: value`, name in lower case) the response must have.
    #[serde(default)]
    pub response_headers: Vec<String>,
}

/// A request the harness sends to `RUNTIME serve` for a case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpRequest {
    /// The method (default `GET`).
    #[serde(default = "get")]
    pub method: String,
    /// The request target: path and query, starting with `/cgi/ID`.
    pub path: String,
    /// Request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The request body (sent with a Content-Length).
    #[serde(default)]
    pub body: String,
}

fn get() -> String {
    "GET".into()
}

fn main_run() -> String {
    "main".into()
}

impl CaseFile {
    /// Parses and validates a case list; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<CaseFile> {
        let file: CaseFile = toml::from_str(text).with_context(|| origin.to_string())?;
        file.validate().with_context(|| origin.to_string())?;
        Ok(file)
    }

    /// Checks what serde cannot: unique names and ids, known runs, one exit status per run.
    fn validate(&self) -> Result<()> {
        let mut names = BTreeSet::new();
        for run in &self.runs {
            if !names.insert(run.name.as_str()) {
                bail!("run {:?} is defined twice", run.name);
            }
            for server in &run.servers {
                if !crate::servers::KINDS.contains(&server.as_str()) {
                    bail!(
                        "run {:?}: unknown server {server:?} (known: {})",
                        run.name,
                        crate::servers::KINDS.join(", ")
                    );
                }
            }
            for path in run.files.keys().chain(&run.dirs) {
                check_relative(path).with_context(|| format!("run {:?}", run.name))?;
            }
        }
        let mut ids = BTreeSet::new();
        for case in &self.cases {
            if case.id == 0 || !ids.insert(case.id) {
                bail!("case id {} is zero or used twice", case.id);
            }
            if case.name.contains('#') {
                bail!("case {}: a TAP name cannot contain '#'", case.id);
            }
            if !names.contains(case.run.as_str()) {
                bail!("case {}: no run named {:?}", case.id, case.run);
            }
            for path in case.files.keys() {
                check_relative(path).with_context(|| format!("case {}", case.id))?;
            }
            let serve = self.runs.iter().any(|r| r.name == case.run && r.serve);
            let http_fields = case.request.is_some()
                || case.response_status.is_some()
                || !case.response_headers.is_empty();
            if serve && (case.request.is_none() || case.exit_status.is_some()) {
                bail!(
                    "case {}: a case of serve run {:?} needs a request and has no exit_status",
                    case.id,
                    case.run
                );
            }
            if !serve && http_fields {
                bail!(
                    "case {}: request and response_* belong to cases of a serve run",
                    case.id
                );
            }
        }
        for run in self.runs.iter().filter(|r| !r.serve) {
            let owners: Vec<u32> = self
                .cases_of(&run.name)
                .filter(|c| c.exit_status.is_some())
                .map(|c| c.id)
                .collect();
            if owners.len() != 1 {
                bail!(
                    "run {:?}: exactly one case must have exit_status, found {owners:?}",
                    run.name
                );
            }
        }
        Ok(())
    }

    /// The cases of run `name`, in file order.
    pub fn cases_of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Case> + 'a {
        self.cases.iter().filter(move |c| c.run == name)
    }
}

/// A path in `files`/`dirs` must stay inside the run's directory.
fn check_relative(path: &str) -> Result<()> {
    let p = std::path::Path::new(path);
    let inside = p
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    if path.is_empty() || !inside {
        bail!("{path:?} must be a relative path without '..'");
    }
    Ok(())
}

/// The values of a run's templates: `dir` (its directory) and what its servers provide.
pub type Vars = BTreeMap<String, String>;

/// Replaces the templates of cases.toml (`{dir}`, `{http}`, …) in `text`.
pub fn expand(text: &str, vars: &Vars) -> String {
    let mut out = text.to_string();
    for (name, value) in vars {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built_in() -> CaseFile {
        CaseFile::parse(BUILT_IN, "cases.toml").unwrap()
    }

    #[test]
    fn the_built_in_case_list_is_valid() {
        let file = built_in();
        assert!(file.cases.len() >= 100);
        assert!(file.runs.iter().any(|r| r.name == "main"));
    }

    #[test]
    fn case_ids_run_from_one_without_gaps() {
        let ids: Vec<u32> = built_in().cases.iter().map(|c| c.id).collect();
        let expected: Vec<u32> = (1..=ids.len() as u32).collect();
        assert_eq!(ids, expected);
    }

    /// Every function of ABI.md §3 and §6, every scheme of §4 and every error number but -1 is
    /// exercised by some case.
    #[test]
    fn every_abi_function_and_scheme_is_covered() {
        let file = built_in();
        let covered: BTreeSet<&str> = file
            .cases
            .iter()
            .flat_map(|c| c.covers.iter().map(String::as_str))
            .collect();
        for f in tern_abi::CWA_FUNCTIONS {
            assert!(covered.contains(f.name), "no case covers {}", f.name);
        }
        for f in tern_abi::DAGGER_FUNCTIONS {
            let name = format!("dagger.{}", f.name);
            assert!(covered.contains(name.as_str()), "no case covers {name}");
        }
        use tern_abi::scheme as s;
        let schemes = [
            s::LOG,
            s::NULL,
            s::ZERO,
            s::RANDOM,
            s::FD,
            s::FILE,
            s::HTTP,
            s::HTTPS,
            s::TCP,
            s::TLS,
            s::DNS,
        ];
        for scheme in schemes {
            let name = format!("{scheme}://");
            assert!(covered.contains(name.as_str()), "no case covers {name}");
        }
        // Every error number but -1 ("a failure no other number describes", which nothing causes
        // on purpose).
        for (code, _) in tern_abi::errno::ALL.iter().filter(|(c, _)| *c != -1) {
            let name = code.to_string();
            assert!(
                covered.contains(name.as_str()),
                "no case covers error {name}"
            );
        }
    }

    #[test]
    fn invalid_files_are_rejected() {
        let base = "[[run]]\nname = \"main\"\n";
        let case = |extra: &str| {
            format!(
                "{base}[[case]]\nid = 1\nname = \"x\"\nexpect = \"y\"\nexit_status = 0\n{extra}"
            )
        };
        assert!(CaseFile::parse(&case(""), "t").is_ok());
        let typo = CaseFile::parse(&case("stdout_abscent = [\"x\"]"), "t");
        assert!(format!("{:#}", typo.unwrap_err()).contains("stdout_abscent"));
        let wrong_run = CaseFile::parse(&case("run = \"nope\""), "t");
        assert!(format!("{:#}", wrong_run.unwrap_err()).contains("no run named"));
        let escaping = CaseFile::parse(&case("files = { \"../x\" = \"\" }"), "t");
        assert!(escaping.is_err());
        let no_status = CaseFile::parse(
            &format!("{base}[[case]]\nid = 1\nname = \"x\"\nexpect = \"y\"\n"),
            "t",
        );
        assert!(format!("{:#}", no_status.unwrap_err()).contains("exit_status"));
    }

    #[test]
    fn serve_runs_have_requests_and_no_exit_status() {
        let base = "[[run]]\nname = \"main\"\n[[run]]\nname = \"cgi\"\nserve = true\n\
                    [[case]]\nid = 1\nname = \"m\"\nexpect = \"y\"\nexit_status = 0\n";
        let case = |extra: &str| {
            format!("{base}[[case]]\nid = 2\nrun = \"cgi\"\nname = \"c\"\nexpect = \"y\"\n{extra}")
        };
        let good = CaseFile::parse(
            &case("request = { path = \"/cgi/2\" }\nresponse_status = 200"),
            "t",
        );
        assert!(good.is_ok(), "{good:?}");
        let no_request = CaseFile::parse(&case(""), "t");
        assert!(format!("{:#}", no_request.unwrap_err()).contains("needs a request"));
        let with_status =
            CaseFile::parse(&case("request = { path = \"/\" }\nexit_status = 0"), "t");
        assert!(with_status.is_err());
        let outside = "[[run]]\nname = \"main\"\n[[case]]\nid = 1\nname = \"m\"\nexpect = \"y\"\n\
                       exit_status = 0\nresponse_status = 200\n";
        let outside = CaseFile::parse(outside, "t");
        assert!(format!("{:#}", outside.unwrap_err()).contains("serve run"));
    }

    #[test]
    fn templates_expand() {
        let vars = Vars::from([
            ("dir".to_string(), "/tmp/x".to_string()),
            ("http".to_string(), "127.0.0.1:80".to_string()),
            ("http_port".to_string(), "80".to_string()),
        ]);
        assert_eq!(expand("file://{dir}/a", &vars), "file:///tmp/x/a");
        assert_eq!(
            expand("{http}/{http_port}{nope}", &vars),
            "127.0.0.1:80/80{nope}"
        );
    }
}
