//! The listener: connections on a one-thread tokio runtime, limits on connections and idle time,
//! graceful shutdown, and the state every request shares.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use crate::config::{ServeConfig, ServerSettings};
use crate::count::Count;
use crate::http::{self, Peer};
use crate::invoke::{Engine, Stopper};
use crate::metrics::Metrics;
use crate::pool::Pool;
use crate::records::{InvocationRecord, LogWriter, RecordSink, Ring};
use crate::registry::{Live, Registry};
use crate::Error;

/// How to run the server beyond its configuration.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Recompile handlers whose module file changed, and swap them in.
    pub watch: bool,
    /// Stop gracefully on SIGTERM and SIGINT.
    pub signals: bool,
    /// Write invocation records to stderr.
    pub log_records: bool,
    /// Print a debug line for each 404 (which host and path were tried).
    pub debug: bool,
    /// TLS certificate chain and private key (PEM files).
    pub tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

/// What every request shares.
pub struct State {
    /// Listener and connection settings.
    pub settings: ServerSettings,
    /// The route table in force.
    pub live: Arc<Live>,
    /// Compiles handlers.
    pub registry: Arc<Registry>,
    /// Runs guests.
    pub pool: Pool,
    /// Metrics.
    pub metrics: Metrics,
    /// The last invocation records.
    pub ring: Arc<Ring>,
    sinks: RwLock<Vec<Arc<dyn RecordSink>>>,
    /// Handlers are loaded.
    pub ready: AtomicBool,
    /// When the listener stopped accepting (a shutdown began): the shutdown grace counts from here.
    pub stopping_since: std::sync::OnceLock<Instant>,
    /// 404 debug lines.
    pub debug: bool,
    run_prefix: String,
    runs: Count,
    /// Runs on workers now, by run id: what shutdown stops once its grace is over.
    active: std::sync::Mutex<std::collections::HashMap<String, Stopper>>,
}

impl State {
    /// A new run id: unique in this server's life and unlikely across restarts.
    pub fn next_run_id(&self) -> String {
        let n = self.runs.fetch_add(1);
        format!("{}{:08x}", self.run_prefix, n)
    }

    /// Notes a run that started on a worker.
    pub fn run_started(&self, run_id: &str, stopper: &Stopper) {
        crate::records::lock(&self.active).insert(run_id.to_owned(), stopper.clone());
    }

    /// Notes a run that ended.
    pub fn run_ended(&self, run_id: &str) {
        crate::records::lock(&self.active).remove(run_id);
    }

    /// Hands a record to metrics and every sink.
    pub fn finish(&self, record: &InvocationRecord) {
        self.metrics.observe(record);
        for sink in self.sinks.read().unwrap_or_else(|p| p.into_inner()).iter() {
            sink.record(record);
        }
    }
}

/// A running server.
pub struct Running {
    serving: Serving,
    state: Arc<State>,
}

impl Running {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.serving.addr()
    }

    /// The shared state (route table, records, metrics).
    pub fn state(&self) -> &Arc<State> {
        &self.state
    }

    /// Adds a record sink (the control plane persists records through one).
    pub fn add_sink(&self, sink: Arc<dyn RecordSink>) {
        self.state
            .sinks
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(sink);
    }

    /// Starts a graceful shutdown: stop accepting, let in-flight requests finish (up to the grace).
    pub fn shutdown(&self) {
        self.serving.shutdown();
    }

    /// Waits until the server has stopped: connections closed, then the runs they started finished
    /// (and their records written), within the shutdown grace.
    pub fn wait(mut self) {
        self.serving.join();
        // Connections are closed; what still runs gets one more grace to write its record.
        let deadline = Instant::now() + self.state.settings.shutdown_grace;
        if !self.state.pool.drain(deadline) {
            let active = crate::records::lock(&self.state.active);
            eprintln!(
                "tern serve: {} run(s) still going after the shutdown grace; interrupting them",
                active.len()
            );
            active.values().for_each(Stopper::stop);
            drop(active);
            self.state
                .pool
                .drain(Instant::now() + Duration::from_secs(2));
        }
    }
}

/// Loads every handler and starts serving; returns once the listener is bound.
pub fn start(config: ServeConfig, options: Options) -> Result<Running, Error> {
    let registry = Arc::new(Registry::new(Arc::new(Engine::default())));
    let table = registry.load_all(&config)?;
    let settings = config.server.clone();
    let ring = Arc::new(Ring::new(settings.record_ring));
    let mut sinks: Vec<Arc<dyn RecordSink>> = vec![ring.clone()];
    if options.log_records {
        sinks.push(Arc::new(LogWriter {
            format: settings.log_format,
        }));
    }
    let bound = bind(settings.listen, &HANDLER_LISTENER)?;
    let tls = match &options.tls {
        Some((cert, key)) => Some(crate::tls::acceptor(cert, key)?),
        None => None,
    };
    let live = Arc::new(Live::new(table));
    let state = Arc::new(State {
        pool: Pool::new(settings.workers)
            .map_err(|e| Error::new(format!("cannot start the worker threads: {e}")))?,
        settings,
        live: live.clone(),
        registry: registry.clone(),
        metrics: Metrics::default(),
        ring,
        sinks: RwLock::new(sinks),
        ready: AtomicBool::new(true),
        stopping_since: Default::default(),
        debug: options.debug,
        run_prefix: run_prefix(),
        runs: Count::new(0),
        active: Default::default(),
    });
    if options.watch {
        crate::watch::spawn(config, registry, live);
    }
    let thread_state = state.clone();
    let signals = options.signals;
    let serving = bound.serve(move |listener, shutdown_tx, shutdown_rx| async move {
        if signals {
            tokio::spawn(wait_for_signal(shutdown_tx));
        }
        serve(listener, thread_state, shutdown_rx, tls).await;
    })?;
    Ok(Running { serving, state })
}

/// How a listener's thread is called, and how its errors name it.
pub(crate) struct ListenerNames {
    /// The thread's name.
    pub thread: &'static str,
    /// What the thread and its runtime are, in errors: "cannot start the {serves} runtime".
    pub serves: &'static str,
    /// The listener, in errors.
    pub listener: &'static str,
    /// After the address when it cannot be bound: "cannot listen on ADDR{bind_context}".
    pub bind_context: &'static str,
}

/// The handler port's listener.
const HANDLER_LISTENER: ListenerNames = ListenerNames {
    thread: "tern-io",
    serves: "I/O",
    listener: "listener",
    bind_context: "",
};

/// A listener bound (before the rest of start-up, so a port in use is the first error) but not
/// served yet.
pub(crate) struct Bound {
    listener: std::net::TcpListener,
    addr: SocketAddr,
    names: &'static ListenerNames,
}

/// Binds `addr` for the handler port or the API port (both: a one-thread tokio runtime each).
pub(crate) fn bind(addr: SocketAddr, names: &'static ListenerNames) -> Result<Bound, Error> {
    let listener = std::net::TcpListener::bind(addr)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| {
            Error::new(format!(
                "cannot listen on {addr}{}: {e}",
                names.bind_context
            ))
        })?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::new(format!("{}: {e}", names.listener)))?;
    Ok(Bound {
        listener,
        addr,
        names,
    })
}

impl Bound {
    /// Serves the listener on a thread of its own with a one-thread tokio runtime: `serve` gets it
    /// with the shutdown signal's sender (for a signal handler) and receiver, and the thread ends
    /// when `serve` returns.
    pub(crate) fn serve<F, Fut>(self, serve: F) -> Result<Serving, Error>
    where
        F: FnOnce(TcpListener, watch::Sender<bool>, watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()>,
    {
        let Bound {
            listener,
            addr,
            names,
        } = self;
        let (shutdown, stop) = watch::channel(false);
        let sender = shutdown.clone();
        let thread = std::thread::Builder::new()
            .name(names.thread.into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        eprintln!("tern serve: cannot start the {} runtime: {e}", names.serves);
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            eprintln!("tern serve: {}: {e}", names.listener);
                            return;
                        }
                    };
                    serve(listener, sender, stop).await;
                });
            })
            .map_err(|e| Error::new(format!("cannot start the {} thread: {e}", names.serves)))?;
        Ok(Serving {
            addr,
            shutdown,
            thread: Some(thread),
        })
    }
}

/// A listener being served on its thread, until shut down.
pub(crate) struct Serving {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl Serving {
    /// The address it listens on.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Asks it to stop (what stopping means is up to its `serve`).
    pub(crate) fn shutdown(&self) {
        let _ = self.shutdown.send(true);
    }

    /// Waits until its thread has ended.
    pub(crate) fn join(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run_prefix() -> String {
    let mut bytes = [0u8; 4];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn wait_for_signal(shutdown: watch::Sender<bool>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        eprintln!("tern serve: cannot install signal handlers");
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    eprintln!("tern serve: shutting down: finishing in-flight requests");
    let _ = shutdown.send(true);
}

async fn serve(
    listener: TcpListener,
    state: Arc<State>,
    mut shutdown: watch::Receiver<bool>,
    tls: Option<crate::tls::Acceptor>,
) {
    let settings = state.settings.clone();
    let permits = Arc::new(Semaphore::new(settings.max_connections));
    let open = Arc::new(AtomicUsize::new(0));
    let (done_tx, mut done_rx) = watch::channel(());
    loop {
        // At the connection limit, stop accepting: new clients wait in the backlog, not in memory.
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = shutdown.changed() => break,
        };
        let (stream, remote) = tokio::select! {
            r = listener.accept() => match r {
                Ok(pair) => pair,
                Err(e) => {
                    // EMFILE and the like: back off briefly instead of spinning.
                    eprintln!("tern serve: accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr().unwrap_or(settings.listen);
        let state = state.clone();
        let shutdown = shutdown.clone();
        let open = open.clone();
        let done_tx = done_tx.clone();
        let tls = tls.clone();
        open.fetch_add(1, Ordering::AcqRel);
        tokio::spawn(async move {
            let peer = Peer {
                remote,
                local,
                tls: tls.is_some(),
            };
            match tls {
                None => connection(stream, peer, state, shutdown).await,
                Some(acceptor) => {
                    let handshake = tokio::time::timeout(
                        state.settings.header_read_timeout,
                        crate::tls::accept(&acceptor, stream),
                    );
                    if let Ok(Ok(stream)) = handshake.await {
                        connection(stream, peer, state, shutdown).await;
                    }
                }
            }
            drop(permit);
            open.fetch_sub(1, Ordering::AcqRel);
            let _ = done_tx.send(());
        });
    }
    drop(listener);
    state.ready.store(false, Ordering::Release);
    let _ = state.stopping_since.set(Instant::now());
    // Let in-flight requests finish, up to the grace period.
    let deadline = tokio::time::Instant::now() + settings.shutdown_grace;
    while open.load(Ordering::Acquire) > 0 {
        if tokio::time::timeout_at(deadline, done_rx.changed())
            .await
            .is_err()
        {
            eprintln!(
                "tern serve: {} connection(s) still open after the shutdown grace; stopping",
                open.load(Ordering::Acquire)
            );
            break;
        }
    }
}

/// Serves one connection until it closes, it idles past the keep-alive timeout, or shutdown.
async fn connection<IO>(io: IO, peer: Peer, state: Arc<State>, mut shutdown: watch::Receiver<bool>)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let settings = &state.settings;
    let opened = Instant::now();
    let in_flight = Arc::new(AtomicUsize::new(0));
    // When the last response was made, in milliseconds since `opened`. The idle timer reads it when
    // it fires instead of being re-armed by every request (a timer wheel update and a wake each).
    // usize, not u64: 32-bit PowerPC has no 64-bit atomics (it saturates after 49 days there, which
    // at worst closes a connection that has been kept busy that long at its next idle moment).
    let last_activity = Arc::new(AtomicUsize::new(0));
    let service = {
        let state = state.clone();
        let in_flight = in_flight.clone();
        let last_activity = last_activity.clone();
        service_fn(move |req| {
            let state = state.clone();
            let in_flight = in_flight.clone();
            let last_activity = last_activity.clone();
            in_flight.fetch_add(1, Ordering::AcqRel);
            async move {
                let response = http::handle(state, req, peer).await;
                in_flight.fetch_sub(1, Ordering::AcqRel);
                last_activity.store(millis(opened.elapsed()), Ordering::Release);
                Ok::<_, std::convert::Infallible>(response)
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout)
        .max_buf_size(settings.max_header_bytes.max(8192))
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let mut closing = *shutdown.borrow();
    if closing {
        conn.as_mut().graceful_shutdown();
    }
    let idle = tokio::time::sleep(settings.keep_alive_timeout);
    tokio::pin!(idle);
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = shutdown.changed(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            () = idle.as_mut(), if !closing => {
                let now = Instant::now();
                let since_opened = last_activity.load(Ordering::Acquire) as u64;
                let last = opened + Duration::from_millis(since_opened);
                let due = last + settings.keep_alive_timeout;
                if in_flight.load(Ordering::Acquire) > 0 {
                    // A request in progress is not idleness: count again from now.
                    idle.as_mut().reset((now + settings.keep_alive_timeout).into());
                } else if now < due {
                    idle.as_mut().reset(due.into());
                } else {
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

fn millis(d: Duration) -> usize {
    usize::try_from(d.as_millis()).unwrap_or(usize::MAX)
}
