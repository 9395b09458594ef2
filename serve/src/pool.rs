//! The worker pool: a fixed set of threads that run guests, never the I/O threads.
//!
//! Each handler has a bounded queue and a concurrency cap. A free worker takes the next job round-robin
//! across the handlers that are under their cap, so one flooded handler cannot keep another's requests
//! waiting behind its whole queue. A request that finds its handler's queue full is rejected at once
//! (503); one that waits past its queue timeout is abandoned by the server and skipped by the workers.

use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::records::lock;

const QUEUED: u8 = 0;
const STARTED: u8 = 1;
const ABANDONED: u8 = 2;

/// Work for one request.
pub type Work = Box<dyn FnOnce() + Send>;

struct Job {
    work: Work,
    state: Arc<AtomicU8>,
    started: oneshot::Sender<()>,
}

#[derive(Default)]
struct HandlerQueue {
    jobs: VecDeque<Job>,
    running: usize,
    cap: usize,
}

struct State {
    queues: HashMap<String, HandlerQueue>,
    /// Handler names in round-robin order.
    order: Vec<String>,
    cursor: usize,
    busy: usize,
    stopping: bool,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    /// Notified when a job finishes (for [`Pool::drain`]).
    done: Condvar,
    workers: usize,
}

/// The pool; dropping it does not stop the workers, [`Pool::stop`] does.
pub struct Pool {
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// Why a job was not queued.
#[derive(Debug, PartialEq, Eq)]
pub enum Rejected {
    /// The handler's queue is full.
    QueueFull,
    /// The server is shutting down.
    Stopping,
}

/// A queued job: resolves when a worker starts it; abandon it to take it back.
pub struct Ticket {
    state: Arc<AtomicU8>,
    /// Fires when a worker starts the job.
    pub started: oneshot::Receiver<()>,
}

impl Ticket {
    /// Takes the job back unless a worker has already started it; true if it was taken back.
    pub fn abandon(&self) -> bool {
        self.state
            .compare_exchange(QUEUED, ABANDONED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

impl Pool {
    /// Starts `workers` threads.
    pub fn new(workers: usize) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queues: HashMap::new(),
                order: Vec::new(),
                cursor: 0,
                busy: 0,
                stopping: false,
            }),
            wake: Condvar::new(),
            done: Condvar::new(),
            workers: workers.max(1),
        });
        let threads = (0..shared.workers)
            .map(|i| {
                let shared = shared.clone();
                std::thread::Builder::new()
                    .name(format!("tern-worker-{i}"))
                    // Workers run guest code: it needs this much stack (address space).
                    .stack_size(tern::GUEST_STACK_SIZE)
                    .spawn(move || work(&shared))
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(Pool {
            shared,
            threads: Mutex::new(threads),
        })
    }

    /// Worker threads.
    pub fn workers(&self) -> usize {
        self.shared.workers
    }

    /// Workers running a guest now.
    pub fn busy(&self) -> usize {
        lock(&self.shared.state).busy
    }

    /// Queues `work` for `handler`, which may run `cap` jobs at once and keep `depth` waiting.
    pub fn submit(
        &self,
        handler: &str,
        cap: usize,
        depth: usize,
        work: Work,
    ) -> Result<Ticket, Rejected> {
        let mut state = lock(&self.shared.state);
        if state.stopping {
            return Err(Rejected::Stopping);
        }
        let idle = self.shared.workers.saturating_sub(state.busy);
        if !state.queues.contains_key(handler) {
            state.order.push(handler.to_owned());
        }
        let queue = state.queues.entry(handler.to_owned()).or_default();
        queue.cap = cap.max(1);
        queue
            .jobs
            .retain(|j| j.state.load(Ordering::Acquire) == QUEUED);
        // Jobs a free worker will take at once do not count against the queue's depth.
        let startable = queue.cap.saturating_sub(queue.running).min(idle);
        if queue.jobs.len() >= depth + startable {
            return Err(Rejected::QueueFull);
        }
        let (tx, rx) = oneshot::channel();
        let job_state = Arc::new(AtomicU8::new(QUEUED));
        queue.jobs.push_back(Job {
            work,
            state: job_state.clone(),
            started: tx,
        });
        drop(state);
        self.shared.wake.notify_one();
        Ok(Ticket {
            state: job_state,
            started: rx,
        })
    }

    /// Jobs waiting for `handler`.
    pub fn queued(&self, handler: &str) -> usize {
        let state = lock(&self.shared.state);
        state.queues.get(handler).map_or(0, |q| {
            q.jobs
                .iter()
                .filter(|j| j.state.load(Ordering::Acquire) == QUEUED)
                .count()
        })
    }

    /// Refuses new jobs and waits until every queued and running job has finished, or `deadline`;
    /// true if all finished. (A run still going at the deadline goes on until its own timeout.)
    pub fn drain(&self, deadline: std::time::Instant) -> bool {
        let mut state = lock(&self.shared.state);
        state.stopping = true;
        self.shared.wake.notify_all();
        loop {
            let queued = state.queues.values().any(|q| {
                q.jobs
                    .iter()
                    .any(|j| j.state.load(Ordering::Acquire) == QUEUED)
            });
            if state.busy == 0 && !queued {
                return true;
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return false;
            }
            state = self
                .shared
                .done
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Refuses new jobs; workers finish what is queued, then exit. Joins them.
    pub fn stop(&self) {
        lock(&self.shared.state).stopping = true;
        self.shared.wake.notify_all();
        for t in lock(&self.threads).drain(..) {
            let _ = t.join();
        }
    }
}

/// A worker: take the next job, run it, repeat; return when stopping and nothing is queued.
fn work(shared: &Shared) {
    loop {
        let Some((job, handler)) = next_job(shared) else {
            return;
        };
        let _ = job.started.send(());
        // A panic in one run must not take a worker away; the run's reply is dropped, which the
        // server answers with a 500.
        let _ = catch_unwind(AssertUnwindSafe(job.work));
        let mut state = lock(&shared.state);
        state.busy -= 1;
        if let Some(q) = state.queues.get_mut(&handler) {
            q.running -= 1;
        }
        drop(state);
        shared.wake.notify_one();
        shared.done.notify_all();
    }
}

fn next_job(shared: &Shared) -> Option<(Job, String)> {
    let mut state = lock(&shared.state);
    'scan: loop {
        let n = state.order.len();
        let mut any_queued = false;
        for step in 0..n {
            let i = (state.cursor + step) % n;
            let name = state.order[i].clone();
            let Some(q) = state.queues.get_mut(&name) else {
                continue;
            };
            while let Some(front) = q.jobs.front() {
                if front.state.load(Ordering::Acquire) == ABANDONED {
                    q.jobs.pop_front();
                } else {
                    break;
                }
            }
            if q.jobs.is_empty() {
                continue;
            }
            any_queued = true;
            if q.running >= q.cap {
                continue;
            }
            let Some(job) = q.jobs.pop_front() else {
                continue;
            };
            if job
                .state
                .compare_exchange(QUEUED, STARTED, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                // Abandoned between the check and now: look again.
                continue 'scan;
            }
            q.running += 1;
            state.busy += 1;
            state.cursor = (i + 1) % n;
            return Some((job, name));
        }
        if state.stopping && !any_queued {
            return None;
        }
        state = shared.wake.wait(state).unwrap_or_else(|p| p.into_inner());
    }
}
