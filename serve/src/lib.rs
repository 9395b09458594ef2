//! `tern serve`: HTTP handlers — WebAssembly modules run once per request, CGI-style — behind one
//! route table, with per-handler limits, bounded queues and invocation records.
//!
//! Connections live on a one-thread tokio runtime (hyper, HTTP/1.1); guests run on a fixed pool of
//! worker threads, never on the I/O thread. The route table is swapped atomically ([`Live`]), so a
//! reload, `--watch` or the control plane changes handlers without failing a request.
//!
//! The control plane (the store, the `/v1/` API, the dashboard, clusters: modules [`api`], [`store`],
//! [`dashboard`], [`cluster`]) is the cargo feature `control`, on by default; without it (a board's
//! build) the crate is the handler server alone.
//!
//! ```no_run
//! let config = tern_serve::config::load(std::path::Path::new("tern.toml")).unwrap();
//! let server = tern_serve::start(config, tern_serve::Options { signals: true, ..Default::default() }).unwrap();
//! println!("listening on http://{}", server.addr());
//! server.wait();
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "control")]
pub mod api;
pub mod cgi;
#[cfg(feature = "control")]
pub mod cluster;
pub mod command;
pub mod config;
pub mod count;
#[cfg(feature = "control")]
pub mod dashboard;
mod http;
pub mod invoke;
pub mod job;
pub mod metrics;
pub mod pool;
pub mod records;
pub mod registry;
pub mod router;
pub mod server;
#[cfg(feature = "control")]
pub mod store;
pub mod stream;
mod tls;
mod watch;

use std::fmt;
use std::fmt::Write as _;

pub use config::{HandlerSection, HandlerSpec, LogFormat, ServeConfig, ServerSettings};
pub use http::RUN_ID_HEADER;
pub use records::{InvocationRecord, RecordSink, Ring};
pub use registry::{Handler, Live, Registry, Table};
pub use server::{start, Options, Running, State};

/// A configuration or load error, for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Error(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// The quick start: one handler, `module`, on every path of any host.
pub fn single(module: &std::path::Path, mut section: HandlerSection) -> Result<ServeConfig, Error> {
    let server = ServerSettings::default();
    section.module = module.to_owned();
    if section.routes.is_empty() && section.route.is_empty() {
        section.routes = vec!["/...".into()];
    }
    let name = module
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("handler")
        .to_owned();
    let spec = config::resolve_handler(&name, &section, std::path::Path::new(""), server.workers)?;
    Ok(ServeConfig {
        server,
        handlers: vec![spec],
    })
}

/// `--check`: loads every handler (modules compile, imports resolve, routes do not overlap) and
/// describes the route table, the server settings and each handler's limits.
pub fn check(config: &ServeConfig) -> Result<String, Error> {
    let registry = Registry::new(std::sync::Arc::new(invoke::Engine::default()));
    let table = registry.load_all(config)?;
    let s = &config.server;
    let mut out = String::new();
    let _ = writeln!(out, "server: listen {}, {} workers, header-read-timeout {:?}, keep-alive-timeout {:?}, max-header-bytes {}, max-connections {}, shutdown-grace {:?}",
        s.listen, s.workers, s.header_read_timeout, s.keep_alive_timeout, s.max_header_bytes, s.max_connections, s.shutdown_grace);
    let _ = writeln!(out, "routes (in precedence order):");
    for (host, methods, pattern, handler) in table.router.describe() {
        let _ = writeln!(
            out,
            "  {host:<20} {methods:<12} {pattern:<28} -> {}",
            table.handlers[handler].spec.name
        );
    }
    for (h, concurrency) in table.handlers.iter().zip(&table.concurrency) {
        let l = &h.spec.limits;
        let _ = writeln!(
            out,
            "handler {}: {} (sha256 {})",
            h.spec.name,
            h.spec.module.display(),
            h.module.sha256
        );
        let _ = writeln!(out, "  timeout {:?}, fuel {}, max-memory-pages {}, max-request-body {}, max-response-body {}, max-concurrency {} (effective {concurrency}), queue-depth {}, queue-timeout {:?}",
            l.timeout, l.fuel.map_or("unlimited".into(), |f| f.to_string()), l.max_memory_pages, l.max_request_body, l.max_response_body, l.max_concurrency, l.queue_depth, l.queue_timeout);
        let grants = h.permissions.grants();
        let _ = writeln!(
            out,
            "  grants: {}",
            if grants.is_empty() {
                "none".into()
            } else {
                grants.join(", ")
            }
        );
        let env: Vec<&str> = h.spec.env.iter().map(|(k, _)| k.as_str()).collect();
        if !env.is_empty() {
            let _ = writeln!(out, "  env: {} (values not shown)", env.join(", "));
        }
    }
    Ok(out)
}
