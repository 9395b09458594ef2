//! The async queue's workers: take the oldest queued run from the store, run it with the handler's
//! limits, and replace the job by its record in one transaction. The queue itself is the store's,
//! so an accepted run survives a restart; a run the server died during is started again.

use super::{ControlPlane, InvokeRequest};
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
                run_job(&plane, job);
                continue;
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

fn run_job(plane: &Arc<ControlPlane>, job: Job) {
    let request = InvokeRequest {
        run_id: job.id.clone(),
        handler: job.handler.clone(),
        kind: RunKind::Async,
        input: job.input,
        content_type: job.content_type,
    };
    let record = match plane.backend.invoke(request) {
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
}
