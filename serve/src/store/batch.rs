//! Batched writes of invocation records: one transaction per batch instead of one per request
//! (SD cards wear, and each fsync costs). A bounded channel: when the writer falls behind, new
//! records are dropped and counted rather than held without limit.

use super::{RunRecord, Store};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

enum Msg {
    Record(Box<RunRecord>),
    Flush(mpsc::Sender<()>),
}

/// Collects records and writes them in batches from a background thread.
pub struct RecordBatcher {
    tx: Option<SyncSender<Msg>>,
    thread: Option<JoinHandle<()>>,
    dropped: Arc<crate::count::Count>,
}

/// Called after each batch is written (e.g. to wake `logs?follow=1` readers).
pub type OnWritten = Box<dyn Fn() + Send>;

impl RecordBatcher {
    /// Records queued at most before new ones are dropped.
    pub const CAPACITY: usize = 4096;
    /// Records written at most per transaction.
    pub const MAX_BATCH: usize = 256;

    /// Starts the writer: a batch is written when it is full or `interval` after its first record.
    pub fn start(store: Arc<dyn Store>, interval: Duration, on_written: OnWritten) -> Self {
        let (tx, rx) = mpsc::sync_channel(Self::CAPACITY);
        let dropped = Arc::new(crate::count::Count::new(0));
        let thread = std::thread::Builder::new()
            .name("tern-records".into())
            .spawn(move || write_loop(store, rx, interval, on_written))
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
            self.dropped.fetch_add(1);
        }
    }

    /// Writes everything queued so far and returns when it is on disk.
    pub fn flush(&self) {
        let Some(tx) = &self.tx else { return };
        let (done_tx, done_rx) = mpsc::channel();
        if tx.send(Msg::Flush(done_tx)).is_ok() {
            let _ = done_rx.recv();
        }
    }

    /// Records dropped because the writer fell behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load()
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

fn write_loop(store: Arc<dyn Store>, rx: Receiver<Msg>, interval: Duration, on_written: OnWritten) {
    let mut batch: Vec<RunRecord> = Vec::new();
    let mut deadline: Option<Instant> = None;
    let write = |batch: &mut Vec<RunRecord>| {
        if batch.is_empty() {
            return;
        }
        if let Err(e) = store.append_runs(batch) {
            eprintln!(
                "tern: writing {} invocation records failed: {e}",
                batch.len()
            );
        }
        batch.clear();
        on_written();
    };
    loop {
        let msg = match deadline {
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(at) => rx.recv_timeout(at.saturating_duration_since(Instant::now())),
        };
        match msg {
            Ok(Msg::Record(r)) => {
                batch.push(*r);
                deadline.get_or_insert_with(|| Instant::now() + interval);
                if batch.len() >= RecordBatcher::MAX_BATCH {
                    write(&mut batch);
                    deadline = None;
                }
            }
            Ok(Msg::Flush(done)) => {
                write(&mut batch);
                deadline = None;
                let _ = done.send(());
            }
            Err(RecvTimeoutError::Timeout) => {
                write(&mut batch);
                deadline = None;
            }
            Err(RecvTimeoutError::Disconnected) => {
                write(&mut batch);
                return;
            }
        }
    }
}
