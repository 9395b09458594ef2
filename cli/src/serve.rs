//! `tern serve`: HTTP handlers behind a route table (the tern-serve crate does the work; this maps
//! the flags onto it). See the README ("Serving handlers") and abi/ABI.md section 8.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

/// `tern serve` flags.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Serve a route table from this file instead of one module.
    #[arg(long = "config", value_name = "TERN_TOML", conflicts_with = "module")]
    config: Option<PathBuf>,
    /// Validate the configuration (modules compile, imports resolve, routes do not overlap), print the
    /// route table and every handler's limits, and exit.
    #[arg(long = "check")]
    check: bool,
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long = "listen", value_name = "ADDR")]
    listen: Option<String>,
    /// Worker threads that run guests (default: one per core).
    #[arg(long = "workers", value_name = "N")]
    workers: Option<usize>,
    /// Recompile a handler whose module file changed and swap it in; a broken one keeps the old.
    #[arg(long = "watch")]
    watch: bool,
    /// Invocation records on stderr as JSON lines (default) or text.
    #[arg(long = "log-format", value_name = "json|text")]
    log_format: Option<String>,
    /// Log which host and path a request that matched no route tried.
    #[arg(long = "debug")]
    debug: bool,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long = "tls-cert", value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The TLS private key (PEM).
    #[arg(long = "tls-key", value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Set an environment variable for the handler (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Grant URLs under this one (repeatable).
    #[arg(long = "allow", value_name = "URL")]
    allow: Vec<String>,
    /// Deny URLs under this one, even if granted (repeatable).
    #[arg(long = "deny", value_name = "URL")]
    deny: Vec<String>,
    /// Trust the CA certificates in this PEM file for https and tls (repeatable).
    #[arg(long = "ca-file", value_name = "PEM")]
    ca_file: Vec<PathBuf>,
    /// Let network schemes reach this private address range (repeatable).
    #[arg(long = "allow-private", value_name = "RANGE")]
    allow_private: Vec<String>,
    /// Preopen a host directory for WASI handlers (repeatable).
    #[arg(long = "dir", value_name = "HOST[::GUEST][:ro]")]
    dir: Vec<String>,
    /// Fuel per request.
    #[arg(long = "fuel", value_name = "N")]
    fuel: Option<u64>,
    /// Memory limit per request, in 64 KiB pages (default 256).
    #[arg(long = "max-memory-pages", value_name = "N")]
    max_memory_pages: Option<u32>,
    /// Wall-clock limit per request (default 30s; then 504).
    #[arg(long = "timeout", value_name = "DURATION")]
    timeout: Option<String>,
    /// Call this exported function instead of _start / cwa_main / main.
    #[arg(long = "invoke", value_name = "NAME")]
    invoke: Option<String>,
    // The control plane's flags are parsed in every build, and hidden from the help of a build
    // without it (a board's), so that giving one says this build lacks the control plane rather
    // than "unexpected argument".
    /// The control plane's data directory (handlers deployed with `tern handler deploy`); without a
    /// module or --config, `tern serve` uses ./tern-data.
    #[arg(long = "data", value_name = "DIR", hide = cfg!(not(feature = "control")))]
    data: Option<PathBuf>,
    /// Where the control plane's API listens (default 127.0.0.1:8081; keep it off the network).
    #[arg(long = "api-listen", value_name = "ADDR", hide = cfg!(not(feature = "control")))]
    api_listen: Option<String>,
    /// The control plane's store in PostgreSQL, shared by several nodes
    /// (postgres://user@host/db); without it, SQLite in the data directory.
    #[arg(long = "store", value_name = "URL", hide = cfg!(not(feature = "postgres")))]
    store: Option<String>,
    /// The handler module (.wasm or .wat), served on every path.
    #[arg(value_name = "MODULE")]
    module: Option<PathBuf>,
}

/// Runs `tern serve`; returns the exit status.
pub fn serve(args: ServeArgs) -> Result<i32> {
    let mut env = BTreeMap::new();
    for pair in &args.env {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("--env {pair}: expected KEY=VALUE");
        };
        env.insert(key.to_owned(), value.to_owned());
    }
    let handler = tern_serve::HandlerSection {
        entry: args.invoke,
        allow: args.allow,
        deny: args.deny,
        allow_private: args.allow_private,
        ca_file: args.ca_file,
        dirs: args.dir,
        env,
        timeout: args.timeout,
        fuel: args.fuel,
        max_memory_pages: args.max_memory_pages,
        ..Default::default()
    };
    #[cfg(all(feature = "control", not(feature = "postgres")))]
    if args.store.is_some() {
        bail!("--store: this build of tern has no PostgreSQL store (cargo feature `postgres`); the control plane keeps its store in --data DIR");
    }
    // `tern serve` alone is the control plane on ./tern-data (a build without it says there is
    // nothing to serve).
    let data = match (&args.data, &args.module, &args.config) {
        (None, None, None) if cfg!(feature = "control") && args.store.is_none() => {
            Some(PathBuf::from("tern-data"))
        }
        _ => args.data,
    };
    tern_serve::command::run(tern_serve::command::ServeArgs {
        module: args.module,
        config: args.config,
        listen: args.listen,
        workers: args.workers,
        log_format: args.log_format,
        watch: args.watch,
        check: args.check,
        debug: args.debug,
        tls_cert: args.tls_cert,
        tls_key: args.tls_key,
        data,
        api_listen: args.api_listen,
        store: args.store,
        handler,
    })?;
    Ok(0)
}
