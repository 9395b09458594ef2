//! The connection of a [`PostgresStore`](super::PostgresStore): a thread of its own makes the
//! store's calls, one at a time, and each caller waits for its answer at most until its deadline.
//!
//! Why a thread: a database that stops answering without closing the connection (a hung host, a
//! frozen VM, a network that drops packets while the peer's kernel still acknowledges) blocks a
//! query forever — no socket timeout fires, and the blocking facade of tokio-postgres has no
//! per-query timeout. Made on the caller's thread, such a query would hold the store (and shutdown,
//! readiness and the record writer behind it) for as long as the database hangs. Here the caller
//! gets [`StoreError::Db`] at its deadline; while that call is still stuck, later callers are told
//! at once that the database does not answer, instead of queueing behind it.
//!
//! A call whose caller gave up before it started is skipped. One that was under way when its
//! caller gave up may still complete once the database answers (as with any network timeout, the
//! caller cannot know); its connection is closed afterwards, since its state is unknown.

use super::StoreError;
use crate::records::lock;
use postgres::{Client, Config, NoTls};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Makes a call (or reports why it could not: no connection) and answers its caller; returns
/// whether the connection is fit for the next call (the caller was still there to take the answer,
/// and the call did not panic).
type Run = Box<dyn FnOnce(Result<&mut Client, StoreError>) -> bool + Send>;

/// A store call on its way to the connection thread.
struct Call {
    /// When its caller stops waiting.
    deadline: Instant,
    run: Run,
}

/// The store's connection, made and used on a thread of its own.
pub(super) struct Connection {
    calls: Sender<Call>,
    /// The deadline of the call the thread is making now (`None`: idle).
    busy_until: Arc<Mutex<Option<Instant>>>,
}

impl Connection {
    /// Starts the connection thread; it connects (again) with `config` when a call needs it, and
    /// runs `setup` (SQL) on each new connection.
    pub(super) fn start(config: Config, setup: &'static str) -> Result<Self, StoreError> {
        let (calls, incoming) = mpsc::channel();
        let busy_until = Arc::new(Mutex::new(None));
        let busy = busy_until.clone();
        std::thread::Builder::new()
            .name("tern-store-pg".into())
            .spawn(move || make_calls(&config, setup, incoming, &busy))
            .map_err(|e| StoreError::Db(format!("cannot start the database thread: {e}")))?;
        Ok(Connection { calls, busy_until })
    }

    /// Runs `f` on the connection (opened first if there is none, or it broke); gives up after
    /// `timeout`, connecting and waiting for earlier calls included.
    pub(super) fn call<T: Send + 'static>(
        &self,
        timeout: Duration,
        f: impl FnOnce(&mut Client) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let now = Instant::now();
        if lock(&self.busy_until).is_some_and(|until| now > until) {
            return Err(StoreError::Db(
                "the database does not answer (an earlier call is still waiting for it)".into(),
            ));
        }
        let (answer, answered) = mpsc::sync_channel(1);
        let call = Call {
            deadline: now + timeout,
            run: Box::new(move |client| {
                // A panicking call (a row of an unexpected type) fails alone: the thread lives on,
                // and the connection, in an unknown state, is closed.
                match catch_unwind(AssertUnwindSafe(|| client.and_then(f))) {
                    Ok(result) => answer.send(result).is_ok(),
                    Err(_) => {
                        let _ = answer.send(Err(StoreError::Db(
                            "a database call failed unexpectedly (it panicked)".into(),
                        )));
                        false
                    }
                }
            }),
        };
        if self.calls.send(call).is_err() {
            return Err(StoreError::Db("the database thread has stopped".into()));
        }
        match answered.recv_timeout(timeout) {
            Ok(result) => result,
            // Disconnected: skipped, its deadline had passed when the thread came to it.
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                Err(StoreError::Db(format!(
                    "the database did not answer within {} s",
                    timeout.as_secs_f64()
                )))
            }
        }
    }
}

/// How long a store call may take by default, connecting included.
pub(super) const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The connection thread: makes each call in turn until the store is dropped.
fn make_calls(
    config: &Config,
    setup: &str,
    calls: Receiver<Call>,
    busy_until: &Mutex<Option<Instant>>,
) {
    let mut client: Option<Client> = None;
    for call in calls {
        if Instant::now() >= call.deadline {
            continue; // its caller has gone; dropping it tells nobody
        }
        *lock(busy_until) = Some(call.deadline);
        if client.as_ref().is_none_or(Client::is_closed) {
            client = None;
            let connected = config.connect(NoTls).and_then(|mut c| {
                c.batch_execute(setup)?;
                Ok(c)
            });
            match connected {
                Ok(c) => client = Some(c),
                Err(e) => {
                    (call.run)(Err(e.into()));
                    *lock(busy_until) = None;
                    continue;
                }
            }
        }
        // Not after the caller gave up (a connection that took long is kept for the next call).
        if Instant::now() < call.deadline {
            let c = client.as_mut().expect("connected above");
            let fit = (call.run)(Ok(c));
            if !fit || c.is_closed() {
                client = None;
            }
        }
        *lock(busy_until) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A "database" that accepts connections and never answers: the start-up exchange hangs, as
    /// with a frozen server (its kernel accepts, nothing replies).
    fn silent_server() -> (TcpListener, Config) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut config: Config = format!(
            "postgres://tern@127.0.0.1:{}/tern",
            listener.local_addr().unwrap().port()
        )
        .parse()
        .unwrap();
        config.connect_timeout(Duration::from_secs(2));
        (listener, config)
    }

    #[test]
    fn a_database_that_does_not_answer_costs_one_deadline_then_fails_at_once() {
        let (listener, config) = silent_server();
        let conn = Connection::start(config, "").unwrap();
        let first = conn.call(Duration::from_millis(300), |c| Ok(c.is_closed()));
        assert!(
            matches!(&first, Err(StoreError::Db(m)) if m.contains("did not answer")),
            "{first:?}"
        );
        // The thread still waits on the first connection: the next caller is told at once.
        let second = conn.call(Duration::from_secs(3600), |c| Ok(c.is_closed()));
        assert!(
            matches!(&second, Err(StoreError::Db(m)) if m.contains("does not answer")),
            "{second:?}"
        );
        drop(listener);
    }

    #[test]
    fn a_refused_connection_is_an_error_not_a_wait() {
        let (listener, config) = silent_server();
        drop(listener); // nothing listens: refused
        let conn = Connection::start(config, "").unwrap();
        let r = conn.call(Duration::from_secs(3600), |c| Ok(c.is_closed()));
        assert!(
            matches!(&r, Err(StoreError::Db(m)) if !m.contains("answer")),
            "{r:?}"
        );
    }
}
