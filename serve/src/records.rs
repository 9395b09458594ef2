//! One record per invocation: written to the server's log (JSON lines or text) and kept in a bounded
//! in-memory ring. The control plane adds its own [`RecordSink`] to persist them.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;

use crate::config::LogFormat;

/// The guest's stderr and log lines kept per run, at most this many bytes.
pub const MAX_GUEST_LOG: usize = 8 * 1024;

/// What happened to one request that reached a handler.
#[derive(Debug, Clone, Serialize, Default)]
pub struct InvocationRecord {
    /// Unique per request; also `X-Tern-Run-Id` and the guest's `X_RUN_ID`.
    pub run_id: String,
    /// Seconds since the Unix epoch when the request arrived.
    pub started_at: f64,
    /// Handler name.
    pub handler: String,
    /// sha256 of the module that ran.
    pub version: String,
    /// The matched route pattern.
    pub route: String,
    /// HTTP method.
    pub method: String,
    /// Request path (raw).
    pub path: String,
    /// The status sent (or that would have been sent, if the client left).
    pub status: u16,
    /// Wall time from arrival to the end of the run, milliseconds.
    pub wall_ms: f64,
    /// Time spent waiting for a worker, milliseconds.
    pub queue_ms: f64,
    /// Fuel used.
    pub fuel: u64,
    /// Peak memory, pages.
    pub peak_memory_pages: u64,
    /// Host calls.
    pub host_calls: u64,
    /// Request body bytes read by the guest.
    pub bytes_in: u64,
    /// Response body bytes written by the guest.
    pub bytes_out: u64,
    /// URLs the policy denied.
    pub denials: Vec<String>,
    /// How it ended: `exited`, `trap`, `timeout`, `out-of-fuel`, `rejected`, `bad-response`, …
    pub end: String,
    /// Why, for people (trap message, 502 reason); empty when it went well.
    pub detail: String,
    /// The guest's stderr and log lines, cut at [`MAX_GUEST_LOG`] bytes.
    pub log: String,
    /// Whether the client went away before the response was complete.
    pub client_gone: bool,
}

/// Where invocation records go; implementations must not block for long (they run on workers).
pub trait RecordSink: Send + Sync {
    /// Takes one record.
    fn record(&self, record: &InvocationRecord);
}

/// The last N records, in memory.
pub struct Ring {
    capacity: usize,
    records: Mutex<VecDeque<InvocationRecord>>,
}

impl Ring {
    /// A ring keeping the last `capacity` records.
    pub fn new(capacity: usize) -> Self {
        Ring {
            capacity,
            records: Mutex::new(VecDeque::with_capacity(capacity.min(4096))),
        }
    }

    /// The records kept, oldest first.
    pub fn snapshot(&self) -> Vec<InvocationRecord> {
        lock(&self.records).iter().cloned().collect()
    }

    /// The record of one run, if still kept.
    pub fn find(&self, run_id: &str) -> Option<InvocationRecord> {
        lock(&self.records)
            .iter()
            .rev()
            .find(|r| r.run_id == run_id)
            .cloned()
    }
}

impl RecordSink for Ring {
    fn record(&self, record: &InvocationRecord) {
        if self.capacity == 0 {
            return;
        }
        let mut records = lock(&self.records);
        if records.len() == self.capacity {
            records.pop_front();
        }
        records.push_back(record.clone());
    }
}

/// Writes records to stderr, one line each.
pub struct LogWriter {
    /// JSON lines or text.
    pub format: LogFormat,
}

impl RecordSink for LogWriter {
    fn record(&self, r: &InvocationRecord) {
        let mut line = match self.format {
            LogFormat::Json => serde_json::to_string(r).unwrap_or_default(),
            LogFormat::Text => {
                let mut line = format!(
                    "{} {} {} {} -> {} {} in {:.1} ms (queue {:.1} ms, fuel {})",
                    r.run_id,
                    r.handler,
                    r.method,
                    r.path,
                    r.status,
                    r.end,
                    r.wall_ms,
                    r.queue_ms,
                    r.fuel
                );
                if !r.detail.is_empty() {
                    line.push_str(": ");
                    line.push_str(&r.detail);
                }
                for l in r.log.lines() {
                    line.push_str("\n    | ");
                    line.push_str(l);
                }
                line
            }
        };
        // One write per record: stderr is unbuffered, and `writeln!` would make two (the line, then
        // the newline), each a system call on the worker that ran the request.
        line.push('\n');
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

/// The guest's stderr and log, kept up to [`MAX_GUEST_LOG`] bytes; the rest is counted, not kept.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<(Vec<u8>, u64)>>);

impl LogCapture {
    /// What was kept, as text, with a note of what was cut.
    pub fn text(&self) -> String {
        let guard = lock(&self.0);
        let mut text = String::from_utf8_lossy(&guard.0).into_owned();
        if guard.1 > 0 {
            text.push_str(&format!("\n[{} more bytes not kept]", guard.1));
        }
        text
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut guard = lock(&self.0);
        let room = MAX_GUEST_LOG.saturating_sub(guard.0.len());
        let kept = room.min(buf.len());
        guard.0.extend_from_slice(&buf[..kept]);
        guard.1 += (buf.len() - kept) as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Locks, recovering from poison: these buffers have no invariant a panic could break.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
