//! The worker pool: a fixed set of threads that run guests, never the I/O threads.
//!
//! Each handler has a bounded queue and a concurrency cap. A free worker takes the next job round-robin
//! across the handlers that are under their cap, so one flooded handler cannot keep another's requests
//! waiting behind its whole queue. A request that finds its handler's queue full is rejected at once
//! (503); one that waits past its queue timeout is abandoned by the server and skipped by the workers.
//!
//! Wakes cost more than the short runs they start (a futex call each, and on a small machine a
//! context switch), so the pool makes only the ones that do something: a submit wakes a worker only
//! when one is asleep, and a worker that finishes a job looks for the next one itself instead of
//! waking another.

use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use crate::records::lock;

const QUEUED: u8 = 0;
const STARTED: u8 = 1;
const ABANDONED: u8 = 2;

/// Work for one request.
pub type Work = Box<dyn FnOnce() + Send>;

struct Job {
    work: Work,
    state: Arc<AtomicU8>,
}

struct HandlerQueue {
    name: String,
    jobs: VecDeque<Job>,
    running: usize,
    cap: usize,
}

impl HandlerQueue {
    fn waiting(&self) -> usize {
        self.jobs
            .iter()
            .filter(|j| j.state.load(Ordering::Acquire) == QUEUED)
            .count()
    }
}

struct State {
    /// Queues in round-robin order; a handler's queue stays at its index for the pool's life.
    queues: Vec<HandlerQueue>,
    /// Handler name to its index in `queues`.
    index: HashMap<String, usize>,
    cursor: usize,
    busy: usize,
    /// Workers waiting on `wake`.
    sleeping: usize,
    stopping: bool,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    /// Notified when a job finishes once stopping (for [`Pool::drain`]).
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

/// A queued job; abandon it to take it back before a worker starts it.
pub struct Ticket {
    state: Arc<AtomicU8>,
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
                queues: Vec::new(),
                index: HashMap::new(),
                cursor: 0,
                busy: 0,
                sleeping: 0,
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
        let mut guard = lock(&self.shared.state);
        let state = &mut *guard;
        if state.stopping {
            return Err(Rejected::Stopping);
        }
        let idle = self.shared.workers.saturating_sub(state.busy);
        let at = match state.index.get(handler) {
            Some(&at) => at,
            None => {
                state.index.insert(handler.to_owned(), state.queues.len());
                state.queues.push(HandlerQueue {
                    name: handler.to_owned(),
                    jobs: VecDeque::new(),
                    running: 0,
                    cap: 1,
                });
                state.queues.len() - 1
            }
        };
        let queue = &mut state.queues[at];
        queue.cap = cap.max(1);
        // Jobs a free worker will take at once do not count against the queue's depth.
        let room = depth + queue.cap.saturating_sub(queue.running).min(idle);
        if queue.jobs.len() >= room {
            // Abandoned jobs still hold places until a worker skips them: clear them out first.
            queue
                .jobs
                .retain(|j| j.state.load(Ordering::Acquire) == QUEUED);
            if queue.jobs.len() >= room {
                return Err(Rejected::QueueFull);
            }
        }
        let job_state = Arc::new(AtomicU8::new(QUEUED));
        queue.jobs.push_back(Job {
            work,
            state: job_state.clone(),
        });
        let wake = state.sleeping > 0;
        drop(guard);
        if wake {
            self.shared.wake.notify_one();
        }
        Ok(Ticket { state: job_state })
    }

    /// Jobs waiting for `handler`.
    pub fn queued(&self, handler: &str) -> usize {
        let state = lock(&self.shared.state);
        state
            .index
            .get(handler)
            .map_or(0, |&at| state.queues[at].waiting())
    }

    /// Jobs waiting, for every handler that has had a request.
    pub fn queue_lengths(&self) -> Vec<(String, usize)> {
        let state = lock(&self.shared.state);
        state
            .queues
            .iter()
            .map(|q| (q.name.clone(), q.waiting()))
            .collect()
    }

    /// Refuses new jobs and waits until every queued and running job has finished, or `deadline`;
    /// true if all finished. (A run still going at the deadline goes on until its own timeout.)
    pub fn drain(&self, deadline: std::time::Instant) -> bool {
        let mut state = lock(&self.shared.state);
        state.stopping = true;
        self.shared.wake.notify_all();
        loop {
            let queued = state.queues.iter().any(|q| q.waiting() > 0);
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
    let mut finished = None;
    loop {
        let Some((job, at)) = next_job(shared, finished.take()) else {
            return;
        };
        // A panic in one run must not take a worker away; the run's reply is dropped, which the
        // server answers with a 500.
        let _ = catch_unwind(AssertUnwindSafe(job.work));
        finished = Some(at);
    }
}

/// Accounts for the job that ended (the queue index `finished`), then takes the next one, waiting
/// for it if need be. The worker that ended a job takes the next one itself: a job is only ever
/// held back by its handler's cap, which that ending just made room under, so no other worker needs
/// waking for it.
fn next_job(shared: &Shared, finished: Option<usize>) -> Option<(Job, usize)> {
    let mut state = lock(&shared.state);
    if let Some(at) = finished {
        state.busy -= 1;
        state.queues[at].running -= 1;
        if state.stopping {
            shared.done.notify_all();
        }
    }
    'scan: loop {
        let n = state.queues.len();
        let mut any_queued = false;
        for step in 0..n {
            let i = (state.cursor + step) % n;
            let q = &mut state.queues[i];
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
            return Some((job, i));
        }
        if state.stopping && !any_queued {
            return None;
        }
        state.sleeping += 1;
        state = shared.wake.wait(state).unwrap_or_else(|p| p.into_inner());
        state.sleeping -= 1;
    }
}
