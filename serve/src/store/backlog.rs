//! Invocation records the store could not take yet (the shared database is down, or hangs): kept
//! in order and written again with a growing pause between tries, so an outage loses no records
//! that fit. Bounded by count and by size: when full, the oldest records are dropped and counted.

use super::{RunRecord, Store, StoreError};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Records waiting for the store, oldest first.
pub(super) struct Backlog {
    records: VecDeque<RunRecord>,
    /// What `records` hold, about (see [`size_of`]).
    bytes: usize,
    /// The pause before the next try; doubles after each failure up to [`Backlog::MAX_PAUSE`].
    pause: Duration,
    /// When to try again (`None`: nothing failed since the last success).
    retry_at: Option<Instant>,
    /// Dropped because the backlog was full, since it was last said in the log.
    dropped_unreported: u64,
}

impl Default for Backlog {
    fn default() -> Self {
        Backlog {
            records: VecDeque::new(),
            bytes: 0,
            pause: Self::FIRST_PAUSE,
            retry_at: None,
            dropped_unreported: 0,
        }
    }
}

impl Backlog {
    /// Records kept at most (one record's log is at most 8 KiB).
    pub(super) const MAX_RECORDS: usize = 4096;
    /// Bytes kept at most.
    pub(super) const MAX_BYTES: usize = 16 << 20;
    /// The pause after the first failure.
    pub(super) const FIRST_PAUSE: Duration = Duration::from_millis(200);
    /// The longest pause between tries: how late records reach a database that came back.
    pub(super) const MAX_PAUSE: Duration = Duration::from_secs(2);

    /// Records waiting.
    pub(super) fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether nothing waits.
    pub(super) fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// When the next try is due, if records wait.
    pub(super) fn retry_at(&self) -> Option<Instant> {
        if self.records.is_empty() {
            return None;
        }
        Some(self.retry_at.unwrap_or_else(Instant::now))
    }

    /// Whether records wait and their pause is over.
    pub(super) fn due(&self, now: Instant) -> bool {
        !self.records.is_empty() && self.retry_at.is_none_or(|at| at <= now)
    }

    /// Keeps `records` after those waiting; drops the oldest beyond the bounds. Returns how many
    /// were dropped.
    pub(super) fn keep(&mut self, records: impl IntoIterator<Item = RunRecord>) -> u64 {
        let mut dropped = 0;
        for r in records {
            self.bytes += size_of(&r);
            self.records.push_back(r);
            while self.records.len() > Self::MAX_RECORDS || self.bytes > Self::MAX_BYTES {
                let Some(old) = self.records.pop_front() else {
                    break;
                };
                self.bytes -= size_of(&old);
                dropped += 1;
            }
        }
        self.dropped_unreported += dropped;
        dropped
    }

    /// Notes a failed write: the next try waits the pause, which then doubles.
    pub(super) fn failed(&mut self, now: Instant) {
        self.retry_at = Some(now + self.pause);
        self.pause = (self.pause * 2).min(Self::MAX_PAUSE);
    }

    /// Writes what waits, oldest first, `max_batch` records per store call, until done or a call
    /// fails (then [`Backlog::failed`]). `on_written` runs after each batch stored.
    pub(super) fn write(
        &mut self,
        store: &dyn Store,
        max_batch: usize,
        on_written: &dyn Fn(),
    ) -> Result<usize, StoreError> {
        self.report_drops();
        let mut stored = 0;
        while !self.records.is_empty() {
            let n = self.records.len().min(max_batch.max(1));
            let batch: Vec<RunRecord> = self.records.range(..n).cloned().collect();
            if let Err(e) = store.append_runs(&batch) {
                self.failed(Instant::now());
                return Err(e);
            }
            for r in self.records.drain(..n) {
                self.bytes -= size_of(&r);
            }
            stored += n;
            on_written();
        }
        self.retry_at = None;
        self.pause = Self::FIRST_PAUSE;
        Ok(stored)
    }

    /// Empties the backlog (the server is stopping); returns how many records were given up.
    pub(super) fn give_up(&mut self) -> usize {
        self.report_drops();
        let n = self.records.len();
        self.records.clear();
        self.bytes = 0;
        n
    }

    fn report_drops(&mut self) {
        if self.dropped_unreported > 0 {
            eprintln!(
                "tern: {} invocation records dropped: the store was unavailable and the backlog \
                 was full ({} records or {} MiB); the oldest go first",
                self.dropped_unreported,
                Self::MAX_RECORDS,
                Self::MAX_BYTES >> 20
            );
            self.dropped_unreported = 0;
        }
    }
}

/// About what a record holds in memory: its strings and its detail's JSON text.
fn size_of(r: &RunRecord) -> usize {
    const FIXED: usize = 128;
    FIXED + r.id.len() + r.handler.len() + r.ended.len() + r.logs.len() + json_len(&r.detail)
}

/// The length of a JSON value's text, without making the text.
fn json_len(v: &serde_json::Value) -> usize {
    use serde_json::Value;
    match v {
        Value::Null | Value::Bool(_) | Value::Number(_) => 8,
        Value::String(s) => s.len() + 2,
        Value::Array(a) => 2 + a.iter().map(|x| json_len(x) + 1).sum::<usize>(),
        Value::Object(o) => {
            2 + o
                .iter()
                .map(|(k, x)| k.len() + 4 + json_len(x))
                .sum::<usize>()
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::store::RunKind;

    /// Record `r{id}` of handler `h`, with `log_bytes` of logs.
    pub(in crate::store) fn record(id: usize, log_bytes: usize) -> RunRecord {
        RunRecord {
            seq: 0,
            id: format!("r{id}"),
            handler: "h".into(),
            version: 1,
            kind: RunKind::Http,
            status: 200,
            ended: "exited".into(),
            created_at: 0,
            finished_at: 0,
            wall_ms: 0,
            logs: "x".repeat(log_bytes),
            detail: serde_json::json!({"path": "/"}),
        }
    }

    #[test]
    fn when_full_the_oldest_records_are_dropped_and_counted() {
        let mut backlog = Backlog::default();
        let n = Backlog::MAX_RECORDS + 10;
        let dropped = backlog.keep((0..n).map(|i| record(i, 0)));
        assert_eq!(dropped, 10);
        assert_eq!(backlog.len(), Backlog::MAX_RECORDS);
        assert_eq!(backlog.records.front().unwrap().id, "r10");
        assert_eq!(backlog.records.back().unwrap().id, format!("r{}", n - 1));
    }

    #[test]
    fn big_records_are_bounded_by_bytes() {
        let mut backlog = Backlog::default();
        let dropped = backlog.keep((0..100).map(|i| record(i, 1 << 20)));
        assert!(backlog.bytes <= Backlog::MAX_BYTES);
        assert_eq!(backlog.len() as u64 + dropped, 100);
        assert!(backlog.len() >= 15, "{} kept", backlog.len());
        assert_eq!(backlog.records.back().unwrap().id, "r99");
        let kept = backlog.len();
        assert_eq!(backlog.give_up(), kept);
        assert_eq!(backlog.bytes, 0);
    }

    #[test]
    fn the_pause_doubles_up_to_its_bound() {
        let mut backlog = Backlog::default();
        let now = Instant::now();
        assert!(!backlog.due(now), "nothing waits");
        backlog.keep([record(0, 0)]);
        assert!(backlog.due(now), "a new backlog is written at once");
        let mut pauses = Vec::new();
        for _ in 0..6 {
            backlog.failed(now);
            pauses.push(backlog.retry_at().unwrap() - now);
        }
        assert_eq!(pauses[0], Backlog::FIRST_PAUSE);
        assert_eq!(pauses[1], Backlog::FIRST_PAUSE * 2);
        assert_eq!(*pauses.last().unwrap(), Backlog::MAX_PAUSE);
        assert!(!backlog.due(now));
        assert!(backlog.due(now + Backlog::MAX_PAUSE));
    }
}
