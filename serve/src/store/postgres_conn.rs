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
//!
//! Calls get a [`Session`]: the connection with the statements prepared on it. A query given as
//! SQL text is prepared on its first use on a connection and reused after (one round trip a
//! query instead of two: prepare, then bind and execute).

use super::StoreError;
use crate::records::lock;
use postgres::types::ToSql;
use postgres::{Client, Config, GenericClient, NoTls, Row, Statement, Transaction};
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Makes a call (or reports why it could not: no connection) and answers its caller; returns
/// whether the connection is fit for the next call (the caller was still there to take the answer,
/// and the call did not panic).
type Run = Box<dyn FnOnce(Result<&mut Session, StoreError>) -> bool + Send>;

/// The statements prepared on one connection, by their SQL text.
#[derive(Default)]
pub(super) struct Statements(HashMap<String, Statement>);

impl Statements {
    /// More different SQL texts than the store has: past this many, the cache starts again
    /// rather than grow.
    const MAX: usize = 256;

    /// The statement for `sql` on `client`'s connection, prepared there on its first use.
    fn get(
        &mut self,
        client: &mut impl GenericClient,
        sql: &str,
    ) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.0.get(sql) {
            return Ok(statement.clone());
        }
        let statement = client.prepare(sql)?;
        if self.0.len() >= Self::MAX {
            self.0.clear();
        }
        self.0.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

/// Queries by SQL text, each prepared once per connection: the methods of
/// [`postgres::GenericClient`] the store uses, on a [`Session`] or a [`Tx`].
pub(super) trait Queries {
    /// The client (the connection, or a transaction on it).
    type Client: GenericClient;

    /// The client and the statements prepared on its connection.
    fn parts(&mut self) -> (&mut Self::Client, &mut Statements);

    /// The client, and the statement for `sql` prepared on its connection.
    fn prepared(&mut self, sql: &str) -> Result<(&mut Self::Client, Statement), postgres::Error> {
        let (client, statements) = self.parts();
        let statement = statements.get(client, sql)?;
        Ok((client, statement))
    }

    /// The rows `sql` returns.
    fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error> {
        let (client, statement) = self.prepared(sql)?;
        client.query(&statement, params)
    }

    /// The one row `sql` returns (an error if none or several).
    fn query_one(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, postgres::Error> {
        let (client, statement) = self.prepared(sql)?;
        client.query_one(&statement, params)
    }

    /// The row `sql` returns, if any (an error if several).
    fn query_opt(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, postgres::Error> {
        let (client, statement) = self.prepared(sql)?;
        client.query_opt(&statement, params)
    }

    /// Runs `sql`; returns how many rows it changed.
    fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        let (client, statement) = self.prepared(sql)?;
        client.execute(&statement, params)
    }
}

/// The store's connection as a call gets it, with the statements prepared on it.
pub(super) struct Session {
    client: Client,
    statements: Statements,
}

impl Session {
    /// The connection itself (for what is not a prepared query: the schema's migration).
    pub(super) fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Starts a transaction, whose queries use the connection's prepared statements.
    pub(super) fn transaction(&mut self) -> Result<Tx<'_>, postgres::Error> {
        Ok(Tx {
            tx: self.client.transaction()?,
            statements: &mut self.statements,
        })
    }
}

impl Queries for Session {
    type Client = Client;

    fn parts(&mut self) -> (&mut Client, &mut Statements) {
        (&mut self.client, &mut self.statements)
    }
}

/// A transaction on a [`Session`]'s connection (rolled back if dropped before [`Tx::commit`]).
pub(super) struct Tx<'a> {
    tx: Transaction<'a>,
    statements: &'a mut Statements,
}

impl Tx<'_> {
    /// Commits the transaction.
    pub(super) fn commit(self) -> Result<(), postgres::Error> {
        self.tx.commit()
    }
}

impl<'a> Queries for Tx<'a> {
    type Client = Transaction<'a>;

    fn parts(&mut self) -> (&mut Transaction<'a>, &mut Statements) {
        (&mut self.tx, self.statements)
    }
}

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
        f: impl FnOnce(&mut Session) -> Result<T, StoreError> + Send + 'static,
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
    // A new connection starts with no prepared statements.
    let mut client: Option<Session> = None;
    for call in calls {
        if Instant::now() >= call.deadline {
            continue; // its caller has gone; dropping it tells nobody
        }
        *lock(busy_until) = Some(call.deadline);
        if client.as_ref().is_none_or(|s| s.client.is_closed()) {
            client = None;
            let connected = config.connect(NoTls).and_then(|mut c| {
                c.batch_execute(setup)?;
                Ok(c)
            });
            match connected {
                Ok(c) => {
                    client = Some(Session {
                        client: c,
                        statements: Statements::default(),
                    })
                }
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
            if !fit || c.client.is_closed() {
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
        let first = conn.call(Duration::from_millis(300), |c| Ok(c.client.is_closed()));
        assert!(
            matches!(&first, Err(StoreError::Db(m)) if m.contains("did not answer")),
            "{first:?}"
        );
        // The thread still waits on the first connection: the next caller is told at once.
        let second = conn.call(Duration::from_secs(3600), |c| Ok(c.client.is_closed()));
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
        let r = conn.call(Duration::from_secs(3600), |c| Ok(c.client.is_closed()));
        assert!(
            matches!(&r, Err(StoreError::Db(m)) if !m.contains("answer")),
            "{r:?}"
        );
    }
}
