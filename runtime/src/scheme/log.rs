//! `log://?prefix=P`: each written line goes to the host log, marked as the guest's.

use std::io::Write;

use url::Url;

use super::{lock, Resource, Shared, Stdio};
use crate::Result;

/// A log line's severity (CommonWA's syslog levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Level 1.
    Error,
    /// Level 3.
    Warning,
    /// Level 6, and any level the ABI does not name.
    Info,
}

impl LogLevel {
    /// The level for an ABI level number.
    pub fn from_abi(level: i32) -> Self {
        match level {
            tern_abi::log_level::ERROR => LogLevel::Error,
            tern_abi::log_level::WARNING => LogLevel::Warning,
            _ => LogLevel::Info,
        }
    }

    fn name(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warning => "warning",
            LogLevel::Info => "info",
        }
    }
}

/// Writes `[guest] LEVEL: [PREFIX: ]message`; control characters in the message are escaped so a guest
/// cannot forge a host diagnostic line.
pub(super) fn write_line(
    log: &Shared<Box<dyn Write + Send>>,
    level: LogLevel,
    prefix: Option<&str>,
    message: &[u8],
) {
    let text = String::from_utf8_lossy(message);
    let text: String = text.escape_debug().collect();
    let mut out = lock(log);
    let _ = match prefix {
        Some(p) => writeln!(out, "[guest] {}: {}: {}", level.name(), p, text),
        None => writeln!(out, "[guest] {}: {}", level.name(), text),
    };
    let _ = out.flush();
}

/// A log handle: buffers a partial line until its newline, a flush or close.
pub struct Log {
    stdio: Stdio,
    prefix: Option<String>,
    pending: Vec<u8>,
}

/// Opens `log://?prefix=P`.
pub(super) fn open(url: &Url, stdio: &Stdio) -> Log {
    let prefix = url
        .query_pairs()
        .find(|(k, _)| k == "prefix")
        .map(|(_, v)| v.into_owned());
    Log {
        stdio: stdio.clone(),
        prefix,
        pending: Vec::new(),
    }
}

impl Log {
    fn emit(&self, line: &[u8]) {
        self.stdio
            .log_line(LogLevel::Info, self.prefix.as_deref(), line);
    }
}

impl Resource for Log {
    fn write(&mut self, buf: &[u8]) -> Result<usize> {
        let mut rest = buf;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            if self.pending.is_empty() {
                self.emit(&rest[..nl]);
            } else {
                self.pending.extend_from_slice(&rest[..nl]);
                let line = std::mem::take(&mut self.pending);
                self.emit(&line);
            }
            rest = &rest[nl + 1..];
        }
        self.pending.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<()> {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.emit(&line);
        }
        Ok(())
    }
}
