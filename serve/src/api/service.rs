//! `tern serve --data DIR`: the control plane beside a running server — the store opened, every
//! stored handler made live, records persisted, the API on its own listener.

use super::live::{ServerBackend, StoreSink};
use super::ControlPlane;
use crate::config::{ServeConfig, ServerSettings};
use crate::server::{self, ListenerNames, Running, Serving};
use crate::store::{SqliteStore, Store};
use crate::Error;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// Threads running async invocations (each run also takes a worker of the server's pool).
const ASYNC_WORKERS: usize = 2;

/// The API port's listener.
const API_LISTENER: ListenerNames = ListenerNames {
    thread: "tern-api",
    serves: "API",
    listener: "API listener",
    bind_context: " for the API",
};

/// The control plane of a running server.
pub struct Attached {
    plane: Arc<ControlPlane>,
    serving: Serving,
}

impl Attached {
    /// The API's address.
    pub fn addr(&self) -> SocketAddr {
        self.serving.addr()
    }

    /// The control plane.
    pub fn plane(&self) -> &Arc<ControlPlane> {
        &self.plane
    }

    /// Stops the API: async runs in progress finish and are recorded; pending records are written.
    pub fn shutdown(&self) {
        self.serving.shutdown();
    }

    /// Waits until the API has stopped.
    pub fn wait(mut self) {
        self.serving.join();
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
    store: Option<&str>,
) -> Result<Option<Attached>, Error> {
    let Some(data) = data.or(store.map(|_| Path::new("."))) else {
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
    let attached = match store {
        // `--store URL`: a shared database (the data directory only resolves relative paths).
        Some(url) => crate::cluster::attach(running, url, data, addr)?,
        None => attach(running, data, addr)?,
    };
    eprintln!(
        "tern serve: control plane API and dashboard on http://{} (data in {})",
        attached.addr(),
        store.map_or_else(|| data.display().to_string(), crate::cluster::redact)
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
    attach_store(running, Arc::new(store), data, api_listen)
        .map_err(|e| Error::new(format!("{}: {e}", data.display())))
}

/// Makes the handlers of `store` live in `running`, persists `running`'s records of them, and
/// serves the API on `api_listen`; relative paths in configs are taken from `base`.
pub fn attach_store(
    running: &Running,
    store: Arc<dyn Store>,
    base: &Path,
    api_listen: SocketAddr,
) -> Result<Attached, Error> {
    let backend = Arc::new(ServerBackend::new(
        running.state().clone(),
        base.to_path_buf(),
    ));
    let (plane, problems) = ControlPlane::start(
        store,
        backend.clone(),
        ASYNC_WORKERS,
        running.state().metrics.records_dropped().clone(),
    )
    .map_err(|e| Error::new(e.to_string()))?;
    for p in problems {
        eprintln!("tern serve: not serving {p}");
    }
    running.add_sink(Arc::new(StoreSink::new(&plane, &backend)));
    let api = plane.clone();
    let state = running.state().clone();
    // The last write of records gets what is left of the handler server's shutdown grace.
    let flush_until = move || {
        let now = Instant::now();
        let began = state.stopping_since.get().copied().unwrap_or(now);
        super::final_flush_deadline(began, state.settings.shutdown_grace, now)
    };
    let serving = server::bind(api_listen, &API_LISTENER)?.serve(
        move |listener, _, mut stop| async move {
            let stopped = async move {
                while !*stop.borrow_and_update() {
                    if stop.changed().await.is_err() {
                        return;
                    }
                }
            };
            api.serve(listener, stopped, flush_until).await;
        },
    )?;
    Ok(Attached { plane, serving })
}
