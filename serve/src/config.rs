//! `tern.toml`: the server's settings and its handlers, parsed with serde (unknown keys are errors
//! that name their line), then resolved into [`ServeConfig`] with every default filled in.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:8080"
//! workers = 2
//!
//! [handlers.hello]
//! module = "examples/handlers/hello.wat"
//! routes = ["/hello", "/hello/..."]
//! timeout = "2s"
//!
//! [[handlers.users.route]]
//! host = "*.example.com"
//! path = "/users/:id"
//! methods = ["GET", "HEAD"]
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::Error;

/// The whole configuration: server settings and the handlers in the order the file lists them.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Listener and connection settings.
    pub server: ServerSettings,
    /// The handlers, sorted by name.
    pub handlers: Vec<HandlerSpec>,
}

/// How the server reads its own log format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// One human line per invocation.
    Text,
}

/// Listener and connection settings (`[server]`).
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Worker threads that run guests.
    pub workers: usize,
    /// Time a client has to send a request's header block.
    pub header_read_timeout: Duration,
    /// Time an idle keep-alive connection is kept open.
    pub keep_alive_timeout: Duration,
    /// Largest request header block, in bytes.
    pub max_header_bytes: usize,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Time in-flight requests get to finish after SIGTERM/SIGINT. With the control plane, the
    /// last write of invocation records gets what is left of it (at least 1 s) to try again while
    /// the store is unavailable.
    pub shutdown_grace: Duration,
    /// Format of invocation records on stderr.
    pub log_format: LogFormat,
    /// Invocation records kept in memory.
    pub record_ring: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            header_read_timeout: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(5),
            max_header_bytes: 16 * 1024,
            max_connections: 1024,
            shutdown_grace: Duration::from_secs(10),
            log_format: LogFormat::Json,
            record_ring: 1000,
        }
    }
}

/// One handler: its module, routes, grants, environment and limits.
#[derive(Debug, Clone)]
pub struct HandlerSpec {
    /// The handler's name (the key under `[handlers]`).
    pub name: String,
    /// The module file, .wasm or .wat.
    pub module: PathBuf,
    /// The entry point (default: `_start`, `cwa_main` or `main`).
    pub entry: Option<String>,
    /// Where requests reach it.
    pub routes: Vec<RouteSpec>,
    /// What the guest may reach, as `tern run` takes it.
    pub grants: Grants,
    /// Environment variables beside the CGI ones.
    pub env: Vec<(String, String)>,
    /// Pass the `Authorization` header as `HTTP_AUTHORIZATION` (off by default).
    pub pass_authorization: bool,
    /// Limits and queueing.
    pub limits: HandlerLimits,
}

/// A route as written: host pattern, methods and path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    /// `example.com`, `*.example.com`, or `None` for any host.
    pub host: Option<String>,
    /// Upper-case methods, or `None` for all.
    pub methods: Option<Vec<String>>,
    /// `/exact`, `/users/:id`, `/static/...`.
    pub path: String,
}

/// Grants, the same as `tern run`'s flags.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    /// `--allow URL`.
    pub allow: Vec<String>,
    /// `--deny URL`.
    pub deny: Vec<String>,
    /// `--allow-private RANGE`.
    pub allow_private: Vec<String>,
    /// `--ca-file PEM`.
    pub ca_files: Vec<PathBuf>,
    /// `--dir HOST[::GUEST][:ro]`.
    pub dirs: Vec<String>,
}

/// A handler's limits; `--check` prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerLimits {
    /// Wall-clock time one run may take (then 504).
    pub timeout: Duration,
    /// Instructions one run may execute (then 500); `None` is unlimited.
    pub fuel: Option<u64>,
    /// Linear memory one run may grow to, in 64 KiB pages.
    pub max_memory_pages: u32,
    /// Largest request body (413 beyond it).
    pub max_request_body: u64,
    /// Largest response body (the response is cut off beyond it).
    pub max_response_body: u64,
    /// Runs of this handler at once.
    pub max_concurrency: usize,
    /// Requests waiting for a run; beyond it 503.
    pub queue_depth: usize,
    /// Time a request may wait in the queue; beyond it 503.
    pub queue_timeout: Duration,
}

impl HandlerLimits {
    /// The defaults, for a server with `workers` worker threads.
    pub fn defaults(workers: usize) -> Self {
        HandlerLimits {
            timeout: Duration::from_secs(30),
            fuel: None,
            max_memory_pages: 256,
            max_request_body: 10 << 20,
            max_response_body: 64 << 20,
            max_concurrency: workers.max(1),
            queue_depth: 128,
            queue_timeout: Duration::from_secs(5),
        }
    }
}

// ---- the file as written ----

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    server: ServerSection,
    #[serde(default)]
    handlers: BTreeMap<String, HandlerSection>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ServerSection {
    listen: Option<String>,
    workers: Option<usize>,
    header_read_timeout: Option<String>,
    keep_alive_timeout: Option<String>,
    max_header_bytes: Option<Size>,
    max_connections: Option<usize>,
    shutdown_grace: Option<String>,
    log_format: Option<String>,
    record_ring: Option<usize>,
}

/// A handler's section; also what the quick start builds from `tern run`-style flags.
#[derive(Deserialize, Default, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HandlerSection {
    /// Module file (relative to the config file).
    pub module: PathBuf,
    /// Entry point.
    pub entry: Option<String>,
    /// Path-only routes (any host, all methods).
    #[serde(default)]
    pub routes: Vec<String>,
    /// Full routes.
    #[serde(default)]
    pub route: Vec<RouteSection>,
    /// URL grants.
    #[serde(default)]
    pub allow: Vec<String>,
    /// URL denials.
    #[serde(default)]
    pub deny: Vec<String>,
    /// Private address ranges network schemes may reach.
    #[serde(default)]
    pub allow_private: Vec<String>,
    /// Extra trusted CA certificates (PEM files).
    #[serde(default)]
    pub ca_file: Vec<PathBuf>,
    /// Preopened directories for WASI guests.
    #[serde(default)]
    pub dirs: Vec<String>,
    /// Environment variables with their values.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Environment variables copied from the server's own environment (secrets).
    #[serde(default)]
    pub env_from_host: Vec<String>,
    /// A file of `KEY=VALUE` lines (secrets).
    pub env_file: Option<PathBuf>,
    /// Pass `Authorization` to the guest.
    #[serde(default)]
    pub pass_authorization: bool,
    /// Wall-clock limit per run, e.g. `"2s"`.
    pub timeout: Option<String>,
    /// Fuel per run.
    pub fuel: Option<u64>,
    /// Memory limit per run, in pages.
    pub max_memory_pages: Option<u32>,
    /// Largest request body: bytes or `"1MiB"`.
    pub max_request_body: Option<Size>,
    /// Largest response body.
    pub max_response_body: Option<Size>,
    /// Runs at once.
    pub max_concurrency: Option<usize>,
    /// Queue length.
    pub queue_depth: Option<usize>,
    /// Longest wait in the queue, e.g. `"5s"`.
    pub queue_timeout: Option<String>,
}

/// `[[handlers.NAME.route]]`.
#[derive(Deserialize, Default, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RouteSection {
    /// Path pattern.
    pub path: String,
    /// Host pattern.
    pub host: Option<String>,
    /// Methods.
    pub methods: Option<Vec<String>>,
}

/// A size: an integer number of bytes or a string such as `"64KiB"` or `"10MB"`.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(untagged)]
pub enum Size {
    /// Bytes.
    Bytes(u64),
    /// Text with a unit.
    Text(String),
}

impl Size {
    fn bytes(&self, what: &str) -> Result<u64, Error> {
        match self {
            Size::Bytes(n) => Ok(*n),
            Size::Text(t) => parse_size(t).map_err(|e| Error::new(format!("{what}: {e}"))),
        }
    }
}

/// Reads and resolves a `tern.toml`; module paths are taken relative to its directory.
pub fn load(path: &Path) -> Result<ServeConfig, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::new(format!("cannot read {}: {e}", path.display())))?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse(&text, base).map_err(|e| Error::new(format!("{}: {e}", path.display())))
}

/// Parses `tern.toml` text; relative paths are joined to `base`.
pub fn parse(text: &str, base: &Path) -> Result<ServeConfig, Error> {
    let file: FileConfig = toml::from_str(text).map_err(|e| Error::new(describe(&e, text)))?;
    let server = resolve_server(&file.server)?;
    let mut handlers = Vec::new();
    for (name, section) in &file.handlers {
        handlers.push(resolve_handler(name, section, base, server.workers)?);
    }
    if handlers.is_empty() {
        return Err(Error::new("no handlers: add a [handlers.NAME] section"));
    }
    Ok(ServeConfig { server, handlers })
}

/// "line N, column M: message" from a toml error (its Display repeats the source line; keep it).
fn describe(error: &toml::de::Error, text: &str) -> String {
    match error.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {}", error.message())
        }
        None => error.message().to_owned(),
    }
}

fn resolve_server(s: &ServerSection) -> Result<ServerSettings, Error> {
    let mut out = ServerSettings::default();
    if let Some(listen) = &s.listen {
        out.listen = listen
            .parse()
            .map_err(|e| Error::new(format!("server.listen {listen:?}: {e}")))?;
    }
    if let Some(workers) = s.workers {
        if workers == 0 {
            return Err(Error::new("server.workers must be at least 1"));
        }
        out.workers = workers;
    }
    let duration = |v: &Option<String>, what: &str, d: Duration| -> Result<Duration, Error> {
        v.as_deref().map_or(Ok(d), |t| {
            parse_duration(t).map_err(|e| Error::new(format!("server.{what}: {e}")))
        })
    };
    out.header_read_timeout = duration(
        &s.header_read_timeout,
        "header-read-timeout",
        out.header_read_timeout,
    )?;
    out.keep_alive_timeout = duration(
        &s.keep_alive_timeout,
        "keep-alive-timeout",
        out.keep_alive_timeout,
    )?;
    out.shutdown_grace = duration(&s.shutdown_grace, "shutdown-grace", out.shutdown_grace)?;
    if let Some(size) = &s.max_header_bytes {
        out.max_header_bytes = size.bytes("server.max-header-bytes")? as usize;
    }
    out.max_connections = s.max_connections.unwrap_or(out.max_connections).max(1);
    out.record_ring = s.record_ring.unwrap_or(out.record_ring);
    if let Some(format) = &s.log_format {
        out.log_format = parse_log_format(format)?;
    }
    Ok(out)
}

/// `json` or `text`.
pub fn parse_log_format(text: &str) -> Result<LogFormat, Error> {
    match text {
        "json" => Ok(LogFormat::Json),
        "text" => Ok(LogFormat::Text),
        other => Err(Error::new(format!(
            "log format {other:?}: expected json or text"
        ))),
    }
}

/// Resolves one handler section (also used by the quick start, with `base` the current directory).
pub fn resolve_handler(
    name: &str,
    s: &HandlerSection,
    base: &Path,
    workers: usize,
) -> Result<HandlerSpec, Error> {
    let at = |what: &str, e: String| Error::new(format!("handlers.{name}.{what}: {e}"));
    if s.module.as_os_str().is_empty() {
        return Err(Error::new(format!("handlers.{name}: `module` is required")));
    }
    let mut routes: Vec<RouteSpec> = s
        .routes
        .iter()
        .map(|path| RouteSpec {
            host: None,
            methods: None,
            path: path.clone(),
        })
        .collect();
    for r in &s.route {
        routes.push(RouteSpec {
            host: r.host.as_ref().map(|h| h.to_ascii_lowercase()),
            methods: r
                .methods
                .as_ref()
                .map(|m| m.iter().map(|m| m.to_ascii_uppercase()).collect()),
            path: r.path.clone(),
        });
    }
    if routes.is_empty() {
        return Err(Error::new(format!(
            "handlers.{name}: no routes (add routes = [\"/path\"])"
        )));
    }
    let mut env: Vec<(String, String)> =
        s.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    for key in &s.env_from_host {
        let value = std::env::var(key).map_err(|_| {
            at(
                "env-from-host",
                format!("{key} is not set in the server's environment"),
            )
        })?;
        env.push((key.clone(), value));
    }
    if let Some(file) = &s.env_file {
        let path = base.join(file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| at("env-file", format!("cannot read {}: {e}", path.display())))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (k, v) = line.split_once('=').ok_or_else(|| {
                at(
                    "env-file",
                    format!("{} line {}: expected KEY=VALUE", path.display(), n + 1),
                )
            })?;
            env.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let mut limits = HandlerLimits::defaults(workers);
    if let Some(t) = &s.timeout {
        limits.timeout = parse_duration(t).map_err(|e| at("timeout", e))?;
    }
    limits.fuel = s.fuel.or(limits.fuel);
    limits.max_memory_pages = s.max_memory_pages.unwrap_or(limits.max_memory_pages);
    if let Some(size) = &s.max_request_body {
        limits.max_request_body = size.bytes(&format!("handlers.{name}.max-request-body"))?;
    }
    if let Some(size) = &s.max_response_body {
        limits.max_response_body = size.bytes(&format!("handlers.{name}.max-response-body"))?;
    }
    if let Some(n) = s.max_concurrency {
        if n == 0 {
            return Err(at("max-concurrency", "must be at least 1".into()));
        }
        limits.max_concurrency = n;
    }
    limits.queue_depth = s.queue_depth.unwrap_or(limits.queue_depth);
    if let Some(t) = &s.queue_timeout {
        limits.queue_timeout = parse_duration(t).map_err(|e| at("queue-timeout", e))?;
    }
    Ok(HandlerSpec {
        name: name.to_owned(),
        module: base.join(&s.module),
        entry: s.entry.clone(),
        routes,
        grants: Grants {
            allow: s.allow.clone(),
            deny: s.deny.clone(),
            allow_private: s.allow_private.clone(),
            ca_files: s.ca_file.iter().map(|p| base.join(p)).collect(),
            dirs: s.dirs.clone(),
        },
        env,
        pass_authorization: s.pass_authorization,
        limits,
    })
}

/// `250ms`, `2s`, `1m`, `1h`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a duration such as 500ms, 2s or 1m"))?;
    let seconds = match unit.trim() {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        other => return Err(format!("{text:?}: unknown unit {other:?} (ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}

/// `4096`, `64KiB`, `10MiB`, `1GB`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a size such as 4096, 64KiB or 10MiB"))?;
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1000,
        "KiB" => 1 << 10,
        "MB" => 1000 * 1000,
        "MiB" => 1 << 20,
        "GB" => 1000 * 1000 * 1000,
        "GiB" => 1 << 30,
        other => return Err(format!("{text:?}: unknown unit {other:?}")),
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("{text:?}: too large"))
}
