//! Shared helpers for integration tests: run .wat guests in-process with captured stdio.
#![allow(dead_code)]

use std::io::Cursor;
use std::sync::Arc;

use tern::{Capture, Outcome, Policy, Process, Runtime, Stdio, Termination};

/// What a run left behind.
pub struct Run {
    pub outcome: Outcome,
    pub stdout: String,
    pub stderr: String,
    pub log: String,
}

impl Run {
    /// The exit status (or 134/124 for traps/timeouts).
    pub fn code(&self) -> i32 {
        self.outcome.termination.exit_code()
    }

    pub fn termination(&self) -> &Termination {
        &self.outcome.termination
    }

    /// Asserts the run ended in a trap whose reason mentions `reason`, and exited as a trap does.
    pub fn assert_trapped(&self, reason: &str) {
        assert!(
            matches!(self.termination(), Termination::Trapped(t) if t.to_string().contains(reason)),
            "expected a trap with {reason:?}, got: {}",
            self.termination()
        );
        assert_eq!(self.code(), 134);
    }
}

/// A guest run, configured step by step.
pub struct Guest {
    pub wat: String,
    pub policy: Policy,
    pub limits: tern::Limits,
    /// Directories preopened for WASI (host, guest name), fds 3, 4, … in this order.
    pub preopens: Vec<(std::path::PathBuf, String)>,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub stdin: Vec<u8>,
    pub entry: Option<String>,
    /// The schemes the guest can open, if not tern's own.
    pub schemes: Option<Arc<tern::Schemes>>,
}

impl Guest {
    /// A guest from a whole module's text.
    pub fn module(wat: impl Into<String>) -> Self {
        Guest {
            wat: wat.into(),
            policy: Policy::new(),
            limits: tern::Limits::default(),
            preopens: Vec::new(),
            args: vec!["guest".into()],
            env: Vec::new(),
            stdin: Vec::new(),
            entry: None,
            schemes: None,
        }
    }

    /// A guest whose `cwa_main` is `body` (which must leave an i32), with every `cwa` function imported
    /// as `$name` (from the spec's table), one page of exported memory and the given data segments.
    pub fn main(body: &str, data: &[(u32, &str)]) -> Self {
        Guest::module(cwa_module(body, data))
    }

    pub fn allow(mut self, url: &str) -> Self {
        self.policy.allow(url).expect("test grant parses");
        self
    }

    pub fn deny(mut self, url: &str) -> Self {
        self.policy.deny(url).expect("test denial parses");
        self
    }

    /// Preopens `host` as `guest` (the policy must grant it, as `--dir` does).
    pub fn preopen(mut self, host: &std::path::Path, guest: &str) -> Self {
        self.preopens.push((host.to_path_buf(), guest.to_owned()));
        self
    }

    pub fn arg(mut self, a: &str) -> Self {
        self.args.push(a.into());
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    pub fn stdin(mut self, bytes: &[u8]) -> Self {
        self.stdin = bytes.to_vec();
        self
    }

    pub fn schemes(mut self, schemes: Arc<tern::Schemes>) -> Self {
        self.schemes = Some(schemes);
        self
    }

    pub fn limits(mut self, f: impl FnOnce(&mut tern::Limits)) -> Self {
        f(&mut self.limits);
        self
    }

    pub fn run(self) -> Run {
        let runtime = Runtime::new();
        // Text is made binary here, so the tests run in builds without the `wat` feature too.
        let wasm = wat::parse_str(&self.wat).expect("test module is valid text");
        let module = match &self.entry {
            Some(entry) => runtime.compile_with_entry(&wasm, entry),
            None => runtime.compile(&wasm),
        }
        .expect("test module compiles");
        let (stdout, stderr, log) = (Capture::new(), Capture::new(), Capture::new());
        let stdio = Stdio::new(
            Box::new(Cursor::new(self.stdin)),
            Box::new(stdout.clone()),
            Box::new(stderr.clone()),
            Box::new(log.clone()),
        );
        let mut process = Process::new("guest", self.args, Arc::new(self.policy), stdio);
        process.set_limits(self.limits);
        if let Some(schemes) = self.schemes {
            process.set_schemes(schemes);
        }
        #[cfg(feature = "wasi")]
        for (host, guest) in &self.preopens {
            process
                .preopen(host, guest)
                .expect("test preopen is granted");
        }
        for (k, v) in self.env {
            process.set_env(k, v);
        }
        let outcome = match runtime.run(&module, process) {
            Ok(o) => o,
            Err(e) => panic!("test module failed to start: {e}"),
        };
        Run {
            outcome,
            stdout: stdout.text(),
            stderr: stderr.text(),
            log: log.text(),
        }
    }
}

/// The text of a module importing every CWA function, with `cwa_main` running `body`.
pub fn cwa_module(body: &str, data: &[(u32, &str)]) -> String {
    let mut wat = String::from("(module\n");
    for f in tern_abi::CWA_FUNCTIONS {
        wat += &format!(
            "  (import \"cwa\" \"{0}\" (func ${0}{1}{2}))\n",
            f.name,
            sig("param", f.params),
            sig("result", f.results)
        );
    }
    wat += "  (memory (export \"memory\") 1)\n";
    for (offset, text) in data {
        wat += &format!("  (data (i32.const {offset}) \"{text}\")\n");
    }
    wat += &format!("  (func (export \"cwa_main\") (result i32)\n    (local $h i32) (local $n i32) (local $i i32)\n    {body}))\n");
    wat
}

fn sig(kind: &str, types: &[tern_abi::ValType]) -> String {
    if types.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = types
        .iter()
        .map(|t| match t {
            tern_abi::ValType::I32 => "i32",
            tern_abi::ValType::I64 => "i64",
        })
        .collect();
    format!(" ({kind} {})", names.join(" "))
}

/// Runs `body` as `cwa_main` with no setup and returns its exit status.
pub fn eval(body: &str, data: &[(u32, &str)]) -> i32 {
    Guest::main(body, data).run().code()
}
