//! A stand-in for `tern serve` until the CLI wires it (the flags map onto `ServeArgs` the same way):
//!
//!     cargo run -p tern-serve --example serve -- examples/handlers/hello.wat
//!     cargo run -p tern-serve --example serve -- --config tern.toml [--check] [--watch]
//!
//! Options: --listen ADDR, --workers N, --log-format json|text, --watch, --check, --debug,
//! --tls-cert PEM --tls-key PEM; for a single module also --timeout D, --fuel N, --allow URL,
//! --deny URL, --dir HOST[::GUEST][:ro], --env KEY=VALUE.

use std::process::ExitCode;

use tern_serve::command::{run, ServeArgs};

fn main() -> ExitCode {
    match parse().and_then(|args| run(args).map_err(|e| e.to_string())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tern serve: {e}");
            ExitCode::from(2)
        }
    }
}

fn parse() -> Result<ServeArgs, String> {
    let mut a = ServeArgs::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--config" => a.config = Some(value()?.into()),
            "--listen" => a.listen = Some(value()?),
            "--workers" => {
                a.workers = Some(value()?.parse().map_err(|e| format!("--workers: {e}"))?)
            }
            "--log-format" => a.log_format = Some(value()?),
            "--tls-cert" => a.tls_cert = Some(value()?.into()),
            "--tls-key" => a.tls_key = Some(value()?.into()),
            "--timeout" => a.handler.timeout = Some(value()?),
            "--fuel" => {
                a.handler.fuel = Some(value()?.parse().map_err(|e| format!("--fuel: {e}"))?)
            }
            "--allow" => a.handler.allow.push(value()?),
            "--deny" => a.handler.deny.push(value()?),
            "--dir" => a.handler.dirs.push(value()?),
            "--env" => {
                let pair = value()?;
                let (k, v) = pair
                    .split_once('=')
                    .ok_or(format!("--env {pair}: expected KEY=VALUE"))?;
                a.handler.env.insert(k.into(), v.into());
            }
            "--watch" => a.watch = true,
            "--debug" => a.debug = true,
            "--check" => a.check = true,
            other if other.starts_with("--") => return Err(format!("unknown option {other}")),
            other => a.module = Some(other.into()),
        }
    }
    Ok(a)
}
