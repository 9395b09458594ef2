//! `tern serve --data DIR`: the control plane beside a running server — the store opened, every
//! stored handler made live, records persisted, the API on its own listener.

use super::live::{ServerBackend, StoreSink};
use super::ControlPlane;
use crate::config::{ServeConfig, ServerSettings};
use crate::server::Running;
use crate::store::{SqliteStore, Store};
use crate::Error;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use tokio::sync::watch;

/// Threads running async invocations (each run also takes a worker of the server's pool).
const ASYNC_WORKERS: usize = 2;

/// The control plane of a running server.
pub struct Attached {
    addr: SocketAddr,
    plane: Arc<ControlPlane>,
    shutdown: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl Attached {
    /// The API's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The control plane.
    pub fn plane(&self) -> &Arc<ControlPlane> {
        &self.plane
    }

    /// Stops the API: async runs in progress finish and are recorded; pending records are written.
    pub fn shutdown(&self) {
        let _ = self.shutdown.send(true);
    }

    /// Waits until the API has stopped.
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Stops the API and waits for it.
    pub fn stop(self) {
        self.shutdown();
        self.wait();
    }
}

/// The configuration of a server whose handlers all come from the store.
pub fn empty_configuration() -> ServeConfig {
    ServeConfig {
        server: ServerSettings::default(),
        handlers: Vec::new(),
    }
}

/// `tern serve`'s `--data` and `--api-listen`: the control plane when a data directory is given.
pub fn attach_from_args(
    running: &Running,
    data: Option<&Path>,
    api_listen: Option<&str>,
) -> Result<Option<Attached>, Error> {
    let Some(data) = data else {
        if api_listen.is_some() {
            return Err(Error::new(
                "--api-listen needs --data DIR (the control plane's store)",
            ));
        }
        return Ok(None);
    };
    let listen = api_listen.unwrap_or(super::DEFAULT_API_LISTEN);
    let addr: SocketAddr = listen
        .parse()
        .map_err(|e| Error::new(format!("--api-listen {listen}: {e}")))?;
    let attached = attach(running, data, addr)?;
    eprintln!(
        "tern serve: control plane API and dashboard on http://{} (data in {})",
        attached.addr(),
        data.display()
    );
    Ok(Some(attached))
}

/// Opens the store in `data` (created with mode 0700), makes its handlers live in `running`,
/// persists `running`'s records of them, and serves the API on `api_listen`.
pub fn attach(running: &Running, data: &Path, api_listen: SocketAddr) -> Result<Attached, Error> {
    let store =
        SqliteStore::open(data).map_err(|e| Error::new(format!("{}: {e}", data.display())))?;
    // Before any deploy can run: a blob whose version row never committed is garbage.
    store
        .collect_garbage()
        .map_err(|e| Error::new(format!("{}: {e}", data.display())))?;
    let store: Arc<dyn Store> = Arc::new(store);
    let backend = Arc::new(ServerBackend::new(
        running.state().clone(),
        data.to_path_buf(),
    ));
    let (plane, problems) = ControlPlane::start(store, backend.clone(), ASYNC_WORKERS)
        .map_err(|e| Error::new(format!("{}: {e}", data.display())))?;
    for p in problems {
        eprintln!("tern serve: not serving {p}");
    }
    running.add_sink(Arc::new(StoreSink::new(&plane, &backend)));
    let listener = std::net::TcpListener::bind(api_listen)
        .and_then(|l| l.set_nonblocking(true).map(|_| l))
        .map_err(|e| Error::new(format!("cannot listen on {api_listen} for the API: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::new(format!("API listener: {e}")))?;
    let (shutdown, mut stop) = watch::channel(false);
    let serving = plane.clone();
    let thread = std::thread::Builder::new()
        .name("tern-api".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("tern serve: cannot start the API runtime: {e}");
                    return;
                }
            };
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        eprintln!("tern serve: API listener: {e}");
                        return;
                    }
                };
                let stopped = async move {
                    while !*stop.borrow_and_update() {
                        if stop.changed().await.is_err() {
                            return;
                        }
                    }
                };
                serving.serve(listener, stopped).await;
            });
        })
        .map_err(|e| Error::new(format!("cannot start the API thread: {e}")))?;
    Ok(Attached {
        addr,
        plane,
        shutdown,
        thread: Some(thread),
    })
}
