//! A small stand-in for `tern serve` until the CLI crate wires it:
//!
//!     cargo run -p tern-serve --example serve -- examples/handlers/hello.wat
//!     cargo run -p tern-serve --example serve -- --config tern.toml [--check] [--watch]
//!
//! Options: --listen ADDR, --workers N, --log-format json|text, --timeout D, --watch, --check,
//! --debug, --tls-cert PEM --tls-key PEM.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tern serve: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<ExitCode, String> {
    let mut args = std::env::args().skip(1);
    let mut config_path: Option<PathBuf> = None;
    let mut module: Option<PathBuf> = None;
    let mut listen: Option<String> = None;
    let mut workers: Option<usize> = None;
    let mut log_format: Option<String> = None;
    let mut timeout: Option<String> = None;
    let (mut cert, mut key) = (None, None);
    let mut options = tern_serve::Options {
        signals: true,
        log_records: true,
        ..Default::default()
    };
    let mut check = false;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--config" => config_path = Some(value("--config")?.into()),
            "--listen" => listen = Some(value("--listen")?),
            "--workers" => {
                workers = Some(
                    value("--workers")?
                        .parse()
                        .map_err(|e| format!("--workers: {e}"))?,
                )
            }
            "--log-format" => log_format = Some(value("--log-format")?),
            "--timeout" => timeout = Some(value("--timeout")?),
            "--tls-cert" => cert = Some(PathBuf::from(value("--tls-cert")?)),
            "--tls-key" => key = Some(PathBuf::from(value("--tls-key")?)),
            "--watch" => options.watch = true,
            "--debug" => options.debug = true,
            "--check" => check = true,
            other if other.starts_with("--") => return Err(format!("unknown option {other}")),
            other => module = Some(other.into()),
        }
    }
    let mut config = match (&config_path, &module) {
        (Some(path), None) => tern_serve::config::load(path).map_err(|e| e.to_string())?,
        (None, Some(module)) => {
            let section = tern_serve::HandlerSection {
                timeout: timeout.clone(),
                ..Default::default()
            };
            tern_serve::single(module, section).map_err(|e| e.to_string())?
        }
        _ => return Err("give a module, or --config tern.toml".into()),
    };
    if let Some(listen) = listen {
        config.server.listen = listen
            .parse()
            .map_err(|e| format!("--listen {listen}: {e}"))?;
    }
    if let Some(n) = workers {
        config.server.workers = n.max(1);
    }
    if let Some(f) = log_format {
        config.server.log_format =
            tern_serve::config::parse_log_format(&f).map_err(|e| e.to_string())?;
    }
    if let (Some(cert), Some(key)) = (cert, key) {
        options.tls = Some((cert, key));
    }
    if check {
        print!("{}", tern_serve::check(&config).map_err(|e| e.to_string())?);
        return Ok(ExitCode::SUCCESS);
    }
    let server = tern_serve::start(config, options).map_err(|e| e.to_string())?;
    eprintln!("tern serve: listening on http://{}", server.addr());
    server.wait();
    Ok(ExitCode::SUCCESS)
}
