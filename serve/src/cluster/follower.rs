//! The thread that keeps one node in step with the others (see the module doc of `cluster`).

use super::TICK;
use crate::api::{load_one, ControlPlane};
use crate::server::State;
use crate::store::{
    HandlerInfo, PostgresStore, Store, StoreError, HANDLERS_CHANNEL, JOBS_CHANNEL, RUNS_CHANNEL,
};
use postgres::fallible_iterator::FallibleIterator;
use postgres::Client;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Weak};

/// Every how many ticks leases are renewed and the queue is looked at without a notification
/// (leases last [`crate::store::LEASE_MS`], several renewals).
const SLOW_EVERY: u64 = 4;

/// What identifies a handler's live state: a rollback changes the version, a delete and
/// re-create the creation time.
type LiveKey = (i64, i64, i64);

fn live_key(h: &HandlerInfo) -> LiveKey {
    (h.live_version, h.created_at, h.updated_at)
}

/// What a wait for notifications heard.
#[derive(Default)]
struct Heard {
    /// A run was queued somewhere.
    jobs: bool,
    /// Records were written somewhere (or may have been, unheard: the LISTEN connection is new).
    runs: bool,
}

impl Heard {
    fn note(&mut self, channel: &str) {
        self.jobs |= channel == JOBS_CHANNEL;
        self.runs |= channel == RUNS_CHANNEL;
    }
}

/// Follows the shared store for one node.
pub struct Follower {
    store: Arc<PostgresStore>,
    plane: Weak<ControlPlane>,
    state: Arc<State>,
    /// The handlers this node serves, as it last applied them.
    applied: HashMap<String, LiveKey>,
    /// The store revision `applied` reflects (`None`: look at the store on the next tick).
    revision: Option<i64>,
    /// The LISTEN connection, reopened after the database came back.
    listener: Option<Client>,
    /// A LISTEN connection being opened (on a thread of its own: a database that hangs keeps that
    /// thread, not the follower, waiting; one attempt at a time).
    connecting: Option<Receiver<Result<Client, StoreError>>>,
    /// The database was unreachable at the last tick (this node said not ready).
    lost: bool,
    ticks: u64,
}

impl Follower {
    /// Starts following for the node of `plane` and `state`. The plane's start loaded the live
    /// handlers already; the first tick applies anything changed since.
    pub fn start(
        store: Arc<PostgresStore>,
        plane: &Arc<ControlPlane>,
        state: &Arc<State>,
    ) -> std::io::Result<()> {
        let applied = store
            .list_handlers()
            .map(|hs| hs.iter().map(|h| (h.name.clone(), live_key(h))).collect())
            .unwrap_or_default();
        let follower = Follower {
            store,
            plane: Arc::downgrade(plane),
            state: state.clone(),
            applied,
            revision: None,
            listener: None,
            connecting: None,
            lost: false,
            ticks: 0,
        };
        std::thread::Builder::new()
            .name("tern-cluster".into())
            .spawn(move || follower.run())?;
        Ok(())
    }

    fn run(mut self) {
        loop {
            let heard = self.wait();
            // Held weakly: a stopped control plane ends the follower.
            let Some(plane) = self.plane.upgrade() else {
                return;
            };
            // At once, before the tick's store calls: a follow on this node shows another's runs.
            if heard.runs {
                plane.wake_log_followers();
            }
            self.tick(&plane, heard.jobs);
        }
    }

    /// Waits up to a tick for a notification; returns what it heard.
    fn wait(&mut self) -> Heard {
        let mut heard = Heard::default();
        if self.listener.is_none() {
            let connecting = self.connecting.get_or_insert_with(|| {
                self.store.connect_in_background(|c| {
                    Ok(c.batch_execute(&format!(
                        "LISTEN {HANDLERS_CHANNEL}; LISTEN {JOBS_CHANNEL}; LISTEN {RUNS_CHANNEL};"
                    ))?)
                })
            });
            match connecting.recv_timeout(TICK) {
                Ok(Ok(client)) => {
                    self.connecting = None;
                    self.listener = Some(client);
                    // Records written while nobody listened: followers look again.
                    heard.runs = true;
                }
                // Tried again after a tick (a refused connection answers at once).
                Ok(Err(_)) | Err(RecvTimeoutError::Disconnected) => {
                    self.connecting = None;
                    std::thread::sleep(TICK);
                    return heard;
                }
                Err(RecvTimeoutError::Timeout) => return heard,
            }
        }
        let Some(client) = self.listener.as_mut() else {
            return heard;
        };
        let mut broken = false;
        let mut notifications = client.notifications();
        match notifications.timeout_iter(TICK).next() {
            Ok(Some(n)) => heard.note(n.channel()),
            Ok(None) => {}
            Err(_) => broken = true,
        }
        // Whatever else arrived with it.
        let mut pending = notifications.iter();
        loop {
            match pending.next() {
                Ok(Some(n)) => heard.note(n.channel()),
                Ok(None) => break,
                Err(_) => {
                    broken = true;
                    break;
                }
            }
        }
        drop(pending);
        drop(notifications);
        if broken || client.is_closed() {
            self.listener = None;
            // Changes made while we were not listening are found by the revision check.
            self.revision = None;
        }
        heard
    }

    fn tick(&mut self, plane: &ControlPlane, jobs_queued: bool) {
        self.ticks += 1;
        let revision = match self.store.revision() {
            Ok(r) => r,
            Err(e) => {
                if !self.lost {
                    eprintln!(
                        "tern serve: the database is unreachable ({e}): serving the routes we have, not ready"
                    );
                    self.lost = true;
                    self.state.ready.store(false, Ordering::Release);
                }
                return;
            }
        };
        if self.lost {
            eprintln!("tern serve: the database is back: ready");
            self.lost = false;
            self.revision = None;
            self.state.ready.store(true, Ordering::Release);
        }
        if self.revision != Some(revision) {
            match self.apply(plane) {
                Ok(()) => self.revision = Some(revision),
                Err(e) => eprintln!("tern serve: following the store: {e}"),
            }
        }
        let slow = self.ticks.is_multiple_of(SLOW_EVERY);
        if slow {
            if let Err(e) = self.store.renew_leases() {
                eprintln!("tern serve: renewing async run leases: {e}");
            }
        }
        if jobs_queued || slow {
            plane.wake_queue();
        }
    }

    /// Makes this node serve what the store says is live: loads changed handlers, drops deleted
    /// ones. Under the deploy lock, so a deploy through this node's API does not interleave.
    fn apply(&mut self, plane: &ControlPlane) -> Result<(), StoreError> {
        let _deploys = plane.deploy_lock();
        let handlers = self.store.list_handlers()?;
        let backend = plane.backend();
        let mut now = HashMap::with_capacity(handlers.len());
        let mut failed = 0;
        for h in &handlers {
            let key = live_key(h);
            let old = self.applied.get(&h.name).copied();
            if old == Some(key) {
                now.insert(h.name.clone(), key);
                continue;
            }
            match load_one(&*self.store, &**backend, h) {
                Ok(()) => {
                    now.insert(h.name.clone(), key);
                }
                Err(why) => {
                    // Keeps serving what it had; tried again on the next tick.
                    eprintln!("tern serve: not serving {why}");
                    failed += 1;
                    if let Some(old) = old {
                        now.insert(h.name.clone(), old);
                    }
                }
            }
        }
        for name in self.applied.keys() {
            if !now.contains_key(name) {
                backend.deactivate(name);
            }
        }
        self.applied = now;
        if failed > 0 {
            return Err(StoreError::Db(format!(
                "{failed} handler(s) could not be loaded"
            )));
        }
        Ok(())
    }
}
