//! The async queue's workers: take the oldest queued run from the store, run it with the handler's
//! limits, and replace the job by its record in one transaction. The queue itself is the store's,
//! so an accepted run survives a restart; a run the server died during is started again.

use super::{ControlPlane, InvokeError, InvokeRequest};
use crate::store::{now_ms, Job, RunKind, RunRecord};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread::JoinHandle;

/// How much of an async run's response body its record keeps.
const MAX_OUTPUT_KEPT: usize = 64 << 10;

#[derive(Default)]
struct Signal {
    /// Bumped on every enqueue; a worker that saw no job waits for it to change.
    generation: u64,
    stopping: bool,
}

/// The async workers.
#[derive(Default)]
pub(crate) struct Queue {
    signal: Arc<(Mutex<Signal>, Condvar)>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl Queue {
    /// Starts `n` workers for `plane` (they hold it weakly, so dropping the plane ends them).
    pub(crate) fn spawn_workers(&self, plane: Weak<ControlPlane>, n: usize) {
        let mut workers = self.workers.lock().unwrap_or_else(|p| p.into_inner());
        for i in 0..n.max(1) {
            let plane = plane.clone();
            let signal = self.signal.clone();
            let worker = std::thread::Builder::new()
                .name(format!("tern-async-{i}"))
                .spawn(move || work(plane, signal))
                .expect("spawning an async worker");
            workers.push(worker);
        }
    }

    /// Tells the workers a run was queued.
    pub(crate) fn wake(&self) {
        let (lock, cv) = &*self.signal;
        lock.lock().unwrap_or_else(|p| p.into_inner()).generation += 1;
        cv.notify_all();
    }

    /// Stops the workers after the runs they are in finish.
    pub(crate) fn stop(&self) {
        let (lock, cv) = &*self.signal;
        lock.lock().unwrap_or_else(|p| p.into_inner()).stopping = true;
        cv.notify_all();
        let workers = std::mem::take(&mut *self.workers.lock().unwrap_or_else(|p| p.into_inner()));
        for w in workers {
            if w.thread().id() != std::thread::current().id() {
                let _ = w.join();
            }
        }
    }
}

fn work(plane: Weak<ControlPlane>, signal: Arc<(Mutex<Signal>, Condvar)>) {
    let (lock, cv) = &*signal;
    loop {
        let seen = {
            let s = lock.lock().unwrap_or_else(|p| p.into_inner());
            if s.stopping {
                return;
            }
            s.generation
        };
        let Some(plane) = plane.upgrade() else { return };
        match plane.store.claim_job() {
            Ok(Some(job)) => {
                if run_job(&plane, job) {
                    continue;
                }
                // The server is stopping: take no more jobs until told to stop.
                drop(plane);
                let mut s = lock.lock().unwrap_or_else(|p| p.into_inner());
                while !s.stopping {
                    s = cv.wait(s).unwrap_or_else(|p| p.into_inner());
                }
                return;
            }
            Ok(None) => {}
            Err(e) => eprintln!("tern: async queue: {e}"),
        }
        drop(plane);
        let mut s = lock.lock().unwrap_or_else(|p| p.into_inner());
        while s.generation == seen && !s.stopping {
            s = cv.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// Runs one job and records its outcome; false when the server is stopping (the job went back).
fn run_job(plane: &Arc<ControlPlane>, job: Job) -> bool {
    let request = InvokeRequest {
        run_id: job.id.clone(),
        handler: job.handler.clone(),
        kind: RunKind::Async,
        input: job.input,
        content_type: job.content_type,
    };
    let record = match plane.backend.invoke(request) {
        Err(InvokeError::Stopping) => {
            // Not run (or cut short by the shutdown): back to the queue for the next start.
            if let Err(e) = plane.store.release_job(&job.id) {
                eprintln!("tern: returning async run {} to the queue: {e}", job.id);
            }
            return false;
        }
        Ok(inv) => {
            let mut record = inv.record;
            record.created_at = job.created_at;
            let kept = &inv.body[..inv.body.len().min(MAX_OUTPUT_KEPT)];
            let mut detail = match record.detail {
                serde_json::Value::Object(m) => m,
                _ => serde_json::Map::new(),
            };
            detail.insert("attempts".into(), job.attempts.into());
            detail.insert(
                "output".into(),
                String::from_utf8_lossy(kept).into_owned().into(),
            );
            detail.insert("output_bytes".into(), inv.body.len().into());
            record.detail = detail.into();
            record
        }
        Err(why) => RunRecord {
            seq: 0,
            id: job.id,
            handler: job.handler,
            version: 0,
            kind: RunKind::Async,
            status: 503,
            ended: format!("failed: {why}"),
            // (not live: deleted since it was queued; busy: its queue stayed full)
            created_at: job.created_at,
            finished_at: now_ms(),
            wall_ms: 0,
            logs: String::new(),
            detail: serde_json::json!({ "attempts": job.attempts }),
        },
    };
    if let Err(e) = plane.store.finish_job(&record) {
        eprintln!("tern: recording async run {}: {e}", record.id);
    }
    plane.records_written.send_modify(|n| *n += 1);
    true
}
