//! What a run produced: [`Termination`] and [`Outcome`], with the `--stats-json` object.

use std::fmt;
use std::time::Duration;

use crate::host::RefusedGrowth;
use crate::process::Process;
use crate::trap::Trap;

/// The exit status of a run ended by an [`Interrupt`](crate::Interrupt): 128 + SIGINT, as a shell
/// reports a command stopped with Ctrl-C.
const INTERRUPTED_STATUS: i32 = 130;

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Termination {
    /// The guest finished or exited with this status.
    Exited(i32),
    /// The guest trapped.
    Trapped(Trap),
    /// The guest ran past its wall-clock timeout (the limit it had).
    TimedOut(Duration),
    /// An [`Interrupt`](crate::Interrupt) ended the run.
    Interrupted,
}

impl Termination {
    /// The exit status `tern run` reports for this termination.
    pub fn exit_code(&self) -> i32 {
        match self {
            Termination::Exited(code) => *code,
            Termination::Trapped(_) => tern_abi::exit_status::TRAP,
            Termination::TimedOut(_) => tern_abi::exit_status::TIMEOUT,
            Termination::Interrupted => INTERRUPTED_STATUS,
        }
    }
}

impl fmt::Display for Termination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Termination::Exited(code) => write!(f, "exited with status {code}"),
            Termination::Trapped(trap) => trap.fmt(f),
            Termination::TimedOut(limit) => write!(f, "timeout: ran longer than {limit:?}"),
            Termination::Interrupted => f.write_str("interrupted"),
        }
    }
}

/// What a run produced: how it ended, its figures, and the process (for stats and captured output).
pub struct Outcome {
    /// How the run ended.
    pub termination: Termination,
    /// Fuel (roughly, instructions) the guest used.
    pub fuel_used: u64,
    /// The largest memory the guest had, in 64 KiB pages.
    pub peak_memory_pages: u64,
    /// The `memory.grow` calls the page limit refused, if any.
    pub refused_growth: Option<RefusedGrowth>,
    /// Wall-clock time from instantiation to the end.
    pub wall: Duration,
    /// The process after the run, with every handle closed.
    pub process: Process,
}

impl Outcome {
    /// The run's figures as one JSON object (what `tern run --stats-json` prints): `fuel_used`,
    /// `host_calls`, `peak_memory_pages`, `wall_ms`, `exit_code`, `termination`, `handles_opened`,
    /// `bytes_read`, `bytes_written`, `denied` (URLs), `memory_grow_refused` (a count).
    pub fn to_json(&self) -> String {
        let s = &self.process.stats;
        let denied: Vec<String> = s.denied.iter().map(|u| json_string(u)).collect();
        format!(
            "{{\"fuel_used\":{},\"host_calls\":{},\"peak_memory_pages\":{},\"wall_ms\":{:.3},\
             \"exit_code\":{},\"termination\":{},\"handles_opened\":{},\"bytes_read\":{},\
             \"bytes_written\":{},\"denied\":[{}],\"memory_grow_refused\":{}}}",
            self.fuel_used,
            s.host_calls,
            self.peak_memory_pages,
            self.wall.as_secs_f64() * 1000.0,
            self.termination.exit_code(),
            json_string(&self.termination.to_string()),
            s.opened,
            s.bytes_read,
            s.bytes_written,
            denied.join(","),
            self.refused_growth.map_or(0, |r| r.count),
        )
    }
}

/// A JSON string literal for `s`.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }
}
