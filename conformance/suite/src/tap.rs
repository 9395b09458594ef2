//! The TAP report: one `ok N - name` / `not ok N - name` line per case, reasons as `#` comments.

use crate::Case;
use tern_guest::{io, Resource};

/// Where a run's TAP lines go (stdout, or stderr for a run that closes stdout).
pub struct Tap {
    out: &'static Resource,
}

impl Tap {
    /// The TAP stream of `run`, as cases.toml's `tap` field says.
    pub fn for_run(run: &str) -> Tap {
        let stderr = crate::RUNS.iter().any(|(name, e)| *name == run && *e);
        Tap {
            out: if stderr { io::stderr() } else { io::stdout() },
        }
    }

    /// A `# text` comment line.
    pub fn comment(&self, text: &str) {
        for line in text.lines() {
            // A failed write has nowhere to be reported; the harness will see the case missing.
            let _ = writeln!(self.out, "# {line}");
        }
    }

    /// `ok N - name # SKIP why`: the suite does not implement `case`.
    pub fn skip(&self, case: &Case, why: &str) {
        let _ = writeln!(self.out, "ok {} - {} # SKIP {why}", case.id, case.name);
    }

    /// The result line of `case`, with the reason of a failure as comment lines under it.
    pub fn result(&self, case: &Case, outcome: Result<(), alloc::string::String>) {
        let _ = match &outcome {
            Ok(()) => writeln!(self.out, "ok {} - {}", case.id, case.name),
            Err(_) => writeln!(self.out, "not ok {} - {}", case.id, case.name),
        };
        if let Err(reason) = outcome {
            self.comment(&reason);
        }
    }
}
