//! `log://?prefix=P`: each written line goes to the host log, marked as the guest's.

use std::io::Write;

use url::Url;

use std::sync::Arc;

use super::{lock, Budget, Resource, Shared, Stdio};
use crate::{Error, Result};

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

/// What ends a line cut at the length limit ([`crate::Limits::max_log_line_bytes`]).
pub const CUT_MARKER: &str = " [cut]";

/// Writes `[guest] LEVEL: [PREFIX: ]message`, ending with [`CUT_MARKER`] if `cut`; control
/// characters in the prefix and the message are escaped so a guest cannot forge a host diagnostic
/// line.
pub(super) fn write_line(
    log: &Shared<Box<dyn Write + Send>>,
    level: LogLevel,
    prefix: Option<&str>,
    message: &[u8],
    cut: bool,
) {
    let cut = if cut { CUT_MARKER } else { "" };
    let text: String = String::from_utf8_lossy(message).escape_debug().collect();
    let mut out = lock(log);
    let _ = match prefix {
        Some(p) => {
            let p: String = p.escape_debug().collect();
            writeln!(out, "[guest] {}: {p}: {text}{cut}", level.name())
        }
        None => writeln!(out, "[guest] {}: {text}{cut}", level.name()),
    };
    let _ = out.flush();
}

/// A log handle: buffers a partial line until its newline, a flush or close — at most
/// `max_line` bytes of it: a longer line is written out in pieces of that size, each marked as cut.
pub struct Log {
    stdio: Stdio,
    prefix: Option<String>,
    pending: Vec<u8>,
    max_line: usize,
    /// The guest log bytes the process has left.
    budget: Arc<Budget>,
}

/// Opens `log://?prefix=P`; lines are cut at `max_line` bytes.
pub(super) fn open(url: &Url, stdio: &Stdio, max_line: usize, budget: Arc<Budget>) -> Log {
    let prefix = url
        .query_pairs()
        .find(|(k, _)| k == "prefix")
        .map(|(_, v)| v.into_owned());
    Log {
        stdio: stdio.clone(),
        prefix,
        pending: Vec::new(),
        max_line: max_line.max(1),
        budget,
    }
}

impl Log {
    fn emit(&self, line: &[u8], cut: bool) {
        let log = &self.stdio.log;
        write_line(log, LogLevel::Info, self.prefix.as_deref(), line, cut);
    }

    /// The partial line buffered now (its length never exceeds the line limit).
    #[cfg(test)]
    fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Adds `part` (no newline in it) to the partial line, writing out full-length pieces.
    fn buffer(&mut self, mut part: &[u8]) {
        while self.pending.len() + part.len() > self.max_line {
            let room = self.max_line.saturating_sub(self.pending.len());
            let (head, tail) = part.split_at(room.min(part.len()));
            self.pending.extend_from_slice(head);
            let piece = std::mem::take(&mut self.pending);
            self.emit(&piece, true);
            part = tail;
        }
        self.pending.extend_from_slice(part);
    }
}

impl Resource for Log {
    fn write(&mut self, buf: &[u8]) -> Result<usize> {
        if !self.budget.take(buf.len()) {
            return Err(Error::LimitExceeded(format!(
                "the guest wrote all the log it may ({} bytes)",
                self.budget.max()
            )));
        }
        let mut rest = buf;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            if self.pending.is_empty() && nl <= self.max_line {
                self.emit(&rest[..nl], false);
            } else {
                self.buffer(&rest[..nl]);
                let line = std::mem::take(&mut self.pending);
                self.emit(&line, false);
            }
            rest = &rest[nl + 1..];
        }
        self.buffer(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<()> {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.emit(&line, false);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::Capture;

    fn log_to(capture: &Capture, max_line: usize, query: &str) -> Log {
        let stdio = Stdio::new(
            Box::new(std::io::empty()),
            Box::new(std::io::sink()),
            Box::new(std::io::sink()),
            Box::new(capture.clone()),
        );
        let url = Url::parse(&format!("log://{query}")).unwrap();
        open(&url, &stdio, max_line, Arc::new(Budget::new(usize::MAX)))
    }

    #[test]
    fn a_line_that_never_ends_is_written_in_marked_pieces() {
        let capture = Capture::new();
        let mut log = log_to(&capture, 1000, "");
        let chunk = [b'a'; 4096];
        for _ in 0..256 {
            log.write(&chunk).unwrap();
            assert!(log.pending_len() <= 1000, "{}", log.pending_len());
        }
        log.write(b"\n").unwrap();
        let text = capture.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), (1 << 20) / 1000 + 1);
        let piece = format!("[guest] info: {}{CUT_MARKER}", "a".repeat(1000));
        assert!(lines[..lines.len() - 1].iter().all(|l| *l == piece));
        assert_eq!(
            lines[lines.len() - 1],
            format!("[guest] info: {}", "a".repeat(576))
        );
        // Lines within the limit are untouched, even when they fill it exactly.
        let capture = Capture::new();
        let mut log = log_to(&capture, 4, "");
        log.write(b"abcd\nab").unwrap();
        log.write(b"cd\nxy").unwrap();
        log.flush().unwrap();
        assert_eq!(
            capture.text(),
            "[guest] info: abcd\n[guest] info: abcd\n[guest] info: xy\n"
        );
    }

    #[test]
    fn control_bytes_in_the_prefix_are_escaped() {
        let capture = Capture::new();
        let mut log = log_to(
            &capture,
            100,
            "?prefix=x%0Aerror:%20app.wasm:%20out%20of%20fuel%0D%1B",
        );
        log.write(b"hi\n").unwrap();
        assert_eq!(
            capture.text(),
            "[guest] info: x\\nerror: app.wasm: out of fuel\\r\\u{1b}: hi\n"
        );
    }
}
