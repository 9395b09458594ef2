//! Batched writes of invocation records: one transaction per batch instead of one per request
//! (SD cards wear, and each fsync costs). A bounded channel: when the writer falls behind, new
//! records are dropped and counted rather than held without limit. Records the store refused (the
//! shared database is down) wait in a bounded [`Backlog`] and are written again when it is back.

use super::backlog::Backlog;
use super::{RunRecord, Store};
use crate::metrics::Counter64;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

enum Msg {
    Record(Box<RunRecord>),
    Flush(mpsc::Sender<()>),
    /// The last flush: tries until the deadline, then gives up; answers how many were not stored.
    Finish(Instant, mpsc::Sender<usize>),
}

/// Collects records and writes them in batches from a background thread.
pub struct RecordBatcher {
    tx: Option<SyncSender<Msg>>,
    thread: Option<JoinHandle<()>>,
    dropped: Counter64,
}

/// Called after each batch is written (e.g. to wake `logs?follow=1` readers).
pub type OnWritten = Box<dyn Fn() + Send>;

impl RecordBatcher {
    /// Records queued at most before new ones are dropped.
    pub const CAPACITY: usize = 4096;
    /// Records written at most per transaction.
    pub const MAX_BATCH: usize = 256;

    /// Starts the writer: a batch is written when it is full or `interval` after its first record.
    /// Records it drops are counted in `dropped` (the server's `tern_records_dropped_total`).
    pub fn start(
        store: Arc<dyn Store>,
        interval: Duration,
        on_written: OnWritten,
        dropped: Counter64,
    ) -> Self {
        let (tx, rx) = mpsc::sync_channel(Self::CAPACITY);
        let backlog_dropped = dropped.clone();
        let thread = std::thread::Builder::new()
            .name("tern-records".into())
            .spawn(move || write_loop(store, rx, interval, on_written, backlog_dropped))
            .expect("spawning the record writer thread");
        RecordBatcher {
            tx: Some(tx),
            thread: Some(thread),
            dropped,
        }
    }

    /// Queues a record; if the writer is too far behind, drops it and counts the drop.
    pub fn push(&self, record: RunRecord) {
        let Some(tx) = &self.tx else { return };
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
            tx.try_send(Msg::Record(Box::new(record)))
        {
            self.dropped.inc();
        }
    }

    /// The last flush, when the server stops: writes everything queued so far, trying again until
    /// `deadline` if the store fails, then gives up on what is left and says so in the log.
    /// Returns how many records were not stored, by `deadline` plus at most one store call (each
    /// call of the PostgreSQL store is bounded).
    pub fn finish(&self, deadline: Instant) -> usize {
        let Some(tx) = &self.tx else { return 0 };
        let (done_tx, done_rx) = mpsc::channel();
        if tx.send(Msg::Finish(deadline, done_tx)).is_err() {
            return 0;
        }
        done_rx.recv().unwrap_or(0)
    }

    /// Writes everything queued so far and returns when it is on disk (or the store failed once:
    /// then the records wait in the backlog).
    pub fn flush(&self) {
        let Some(tx) = &self.tx else { return };
        let (done_tx, done_rx) = mpsc::channel();
        if tx.send(Msg::Flush(done_tx)).is_ok() {
            let _ = done_rx.recv();
        }
    }

    /// Records dropped because the writer fell behind, or the store was unavailable for so long
    /// that the backlog was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.get()
    }
}

impl Drop for RecordBatcher {
    fn drop(&mut self) {
        // Closing the channel makes the writer write what it holds and stop.
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn write_loop(
    store: Arc<dyn Store>,
    rx: Receiver<Msg>,
    interval: Duration,
    on_written: OnWritten,
    dropped: Counter64,
) {
    let mut batch: Vec<RunRecord> = Vec::new();
    let mut deadline: Option<Instant> = None;
    let mut backlog = Backlog::default();
    // Writes the batch and empties it. Records the store refuses (and any that arrive while some
    // wait, so the order holds) join the backlog, which is written when its pause is over, or at
    // once if `force` (a flush) and it was not tried just now.
    let write = |batch: &mut Vec<RunRecord>, backlog: &mut Backlog, force: bool| {
        let mut tried = false;
        if backlog.is_empty() {
            if batch.is_empty() {
                return;
            }
            match store.append_runs(batch) {
                Ok(()) => {
                    batch.clear();
                    on_written();
                    return;
                }
                Err(e) => {
                    eprintln!(
                        "tern: writing {} invocation records failed: {e}; keeping them to try again",
                        batch.len()
                    );
                    backlog.failed(Instant::now());
                    tried = true;
                }
            }
        }
        dropped.inc_by(backlog.keep(batch.drain(..)));
        if (force && !tried) || backlog.due(Instant::now()) {
            let waiting = backlog.len();
            if backlog
                .write(&*store, RecordBatcher::MAX_BATCH, &on_written)
                .is_ok()
            {
                eprintln!("tern: stored {waiting} invocation records that waited for the store");
            }
        }
    };
    let give_up = |backlog: &mut Backlog, last_try: Result<(), String>| {
        let lost = backlog.give_up();
        if lost > 0 {
            let why = last_try.err().unwrap_or_default();
            eprintln!("tern serve: shutting down: {lost} invocation records not stored ({why})");
        }
        lost
    };
    loop {
        let wake = match (deadline, backlog.retry_at()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let msg = match wake {
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(at) => rx.recv_timeout(at.saturating_duration_since(Instant::now())),
        };
        match msg {
            Ok(Msg::Record(r)) => {
                batch.push(*r);
                deadline.get_or_insert_with(|| Instant::now() + interval);
                if batch.len() >= RecordBatcher::MAX_BATCH {
                    write(&mut batch, &mut backlog, false);
                    deadline = None;
                }
            }
            Ok(Msg::Flush(done)) => {
                write(&mut batch, &mut backlog, true);
                deadline = None;
                let _ = done.send(());
            }
            Ok(Msg::Finish(until, done)) => {
                write(&mut batch, &mut backlog, true);
                deadline = None;
                let mut last_try = Ok(());
                while let Some(at) = backlog.retry_at() {
                    if at >= until {
                        break;
                    }
                    std::thread::sleep(at.saturating_duration_since(Instant::now()));
                    last_try = backlog
                        .write(&*store, RecordBatcher::MAX_BATCH, &on_written)
                        .map(|_| ())
                        .map_err(|e| e.to_string());
                }
                if last_try.is_ok() && !backlog.is_empty() {
                    last_try = Err("the store was unavailable until the shutdown deadline".into());
                }
                // What comes after (nothing should) is written as usual.
                let _ = done.send(give_up(&mut backlog, last_try));
            }
            Err(RecvTimeoutError::Timeout) => {
                // The batch's time or the backlog's: either way both go (in order).
                write(&mut batch, &mut backlog, false);
                deadline = None;
            }
            Err(RecvTimeoutError::Disconnected) => {
                write(&mut batch, &mut backlog, true);
                give_up(&mut backlog, Err("the store was unavailable".into()));
                return;
            }
        }
    }
}
