//! `tern serve` as a command, without an argument parser: the CLI maps its flags onto [`ServeArgs`]
//! and calls [`run`]; so does `examples/serve.rs`.

use std::path::PathBuf;

use crate::config::{self, HandlerSection};
use crate::{Error, Options};

/// Everything `tern serve` takes.
#[derive(Debug, Clone, Default)]
pub struct ServeArgs {
    /// The quick start: one module on every path.
    pub module: Option<PathBuf>,
    /// A route table (`tern.toml`).
    pub config: Option<PathBuf>,
    /// `--listen ADDR` (overrides the file's).
    pub listen: Option<String>,
    /// `--workers N`.
    pub workers: Option<usize>,
    /// `--log-format json|text`.
    pub log_format: Option<String>,
    /// `--watch`.
    pub watch: bool,
    /// `--check`: validate and print the route table, then exit.
    pub check: bool,
    /// `--debug`: say which host and path a 404 tried.
    pub debug: bool,
    /// `--tls-cert PEM`.
    pub tls_cert: Option<PathBuf>,
    /// `--tls-key PEM`.
    pub tls_key: Option<PathBuf>,
    /// `--data DIR`: the control plane's store (handlers deployed through the API); `tern serve`
    /// with neither module nor config uses `tern-data`.
    pub data: Option<PathBuf>,
    /// `--api-listen ADDR`: the control plane's API (default 127.0.0.1:8081).
    pub api_listen: Option<String>,
    /// `--store postgres://…`: the control plane's store in a database shared by several nodes
    /// (instead of the data directory's SQLite).
    pub store: Option<String>,
    /// The quick start's grants and limits, as `tern run` takes them (`--allow`, `--dir`, `--env`,
    /// `--timeout`, `--fuel`, …); only with a module.
    pub handler: HandlerSection,
}

/// Loads the configuration the arguments describe.
pub fn configuration(args: &ServeArgs) -> Result<config::ServeConfig, Error> {
    #[cfg(not(feature = "control"))]
    without_control_plane(args)?;
    let mut config = match (&args.config, &args.module) {
        (Some(path), None) => {
            let flags = HandlerSection {
                module: PathBuf::new(),
                ..args.handler.clone()
            };
            if flags != HandlerSection::default() {
                return Err(Error::new(
                    "grant and limit flags apply to a single module; with --config put them in the handler's section",
                ));
            }
            config::load(path)?
        }
        (None, Some(module)) => crate::single(module, args.handler.clone())?,
        (Some(_), Some(_)) => return Err(Error::new("give a module or --config, not both")),
        // The control plane alone: every handler comes from the store.
        #[cfg(feature = "control")]
        (None, None) if args.data.is_some() || args.store.is_some() => {
            crate::api::empty_configuration()
        }
        (None, None) => {
            return Err(Error::new(
                "nothing to serve: give a module (tern serve hello.wasm) or --config tern.toml",
            ))
        }
    };
    if let Some(listen) = &args.listen {
        config.server.listen = listen
            .parse()
            .map_err(|e| Error::new(format!("--listen {listen}: {e}")))?;
    }
    if let Some(n) = args.workers {
        if n == 0 {
            return Err(Error::new("--workers must be at least 1"));
        }
        config.server.workers = n;
        for h in &mut config.handlers {
            h.limits.max_concurrency = h.limits.max_concurrency.min(n);
        }
    }
    if let Some(format) = &args.log_format {
        config.server.log_format = config::parse_log_format(format)?;
    }
    Ok(config)
}

/// Runs `tern serve` until SIGTERM/SIGINT (or, with `check`, prints the table and returns).
pub fn run(args: ServeArgs) -> Result<(), Error> {
    let config = configuration(&args)?;
    if args.check {
        print!("{}", crate::check(&config)?);
        return Ok(());
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
        (None, None) => None,
        _ => return Err(Error::new("--tls-cert and --tls-key go together")),
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let options = Options {
        watch: args.watch,
        signals: true,
        log_records: true,
        debug: args.debug,
        tls,
    };
    let server = crate::start(config, options)?;
    eprintln!("tern serve: listening on {scheme}://{}", server.addr());
    #[cfg(feature = "control")]
    let control = crate::api::attach_from_args(
        &server,
        args.data.as_deref(),
        args.api_listen.as_deref(),
        args.store.as_deref(),
    )?;
    server.wait();
    #[cfg(feature = "control")]
    if let Some(control) = control {
        control.stop();
    }
    Ok(())
}

/// Refuses the control plane's flags in a build without it (a board's), naming what is missing
/// rather than ignoring them.
#[cfg(not(feature = "control"))]
fn without_control_plane(args: &ServeArgs) -> Result<(), Error> {
    let flags = [
        ("--data", args.data.is_some()),
        ("--api-listen", args.api_listen.is_some()),
        ("--store", args.store.is_some()),
    ];
    let given: Vec<&str> = flags.iter().filter(|f| f.1).map(|f| f.0).collect();
    if given.is_empty() {
        return Ok(());
    }
    Err(Error::new(format!(
        "{}: this build of tern serve has no control plane (no store, /v1/ API or dashboard; it was \
         built without the cargo feature `control`, as board builds are); serve a module or \
         --config tern.toml",
        given.join(", ")
    )))
}

#[cfg(all(test, not(feature = "control")))]
mod tests {
    use super::*;

    #[test]
    fn control_plane_flags_are_refused_by_name() {
        let args = ServeArgs {
            module: Some(PathBuf::from("hello.wat")),
            data: Some(PathBuf::from("tern-data")),
            store: Some("postgres://db/tern".into()),
            ..Default::default()
        };
        let message = configuration(&args).unwrap_err().to_string();
        assert!(message.starts_with("--data, --store: "), "{message}");
        assert!(message.contains("no control plane"), "{message}");
    }
}
