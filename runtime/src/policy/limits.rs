//! Limits a run is held to, apart from the grants: a value of its own, set per run.

use std::time::Duration;

/// Resource limits a guest runs under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Instructions (wasmi fuel) the guest may execute; `None` is unlimited.
    pub fuel: Option<u64>,
    /// 64 KiB pages of linear memory the guest may grow to; `None` is the module's own maximum.
    pub max_memory_pages: Option<u32>,
    /// Wall-clock time the guest may run; `None` is unlimited.
    pub timeout: Option<Duration>,
    /// Handles the guest may hold open at once.
    pub max_handles: usize,
    /// The longest `log://` line kept while waiting for its newline; a longer one is written out in
    /// pieces of this size, each marked as cut.
    pub max_log_line_bytes: usize,
    /// Denied URLs kept in [`crate::Stats::denied`]; later denials are counted, not kept.
    pub max_denials_recorded: usize,
    /// Bytes of HTTP requests written but not yet sent that all of the guest's `http:` handles
    /// may hold together (each handle is also held to [`crate::Network::max_request_bytes`]).
    pub max_request_buffer_bytes: usize,
    /// Bytes the guest may write to its stdout (through every handle on it): a write past it is
    /// cut short, the next one is -7 (LIMIT_EXCEEDED). `None` is unlimited.
    pub max_stdout_bytes: Option<u64>,
    /// The same for stderr.
    pub max_stderr_bytes: Option<u64>,
    /// Bytes of guest log lines (`log_write`, `log://`): past it `log_write` lines are dropped and
    /// a `log://` write is -7. `None` is unlimited.
    pub max_log_bytes: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: None,
            max_memory_pages: None,
            timeout: None,
            max_handles: 1024,
            max_log_line_bytes: 64 << 10,
            max_denials_recorded: 64,
            max_request_buffer_bytes: 16 << 20,
            max_stdout_bytes: None,
            max_stderr_bytes: None,
            max_log_bytes: None,
        }
    }
}

impl Limits {
    /// Applies what an Olin policy file set (`gas-limit`, `ram-page-limit`); what it left out stays.
    pub fn apply_olin(&mut self, olin: &super::OlinSettings) {
        if olin.ram_page_limit.is_some() {
            self.max_memory_pages = olin.ram_page_limit;
        }
        if olin.gas_limit.is_some() {
            self.fuel = olin.gas_limit;
        }
    }
}
