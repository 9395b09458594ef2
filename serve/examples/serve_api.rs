//! `tern serve --data DIR --api-listen ADDR` until the `tern` CLI has its `serve` command: the real
//! server (no handlers from a config file) with the control plane attached, its API (and the
//! dashboard at `/`) on its own listener. The dashboard's browser test drives it
//! (serve/tests/browser/run.sh).
//!
//! ```text
//! serve_api token --data DIR [--scope read|deploy|admin]   # prints a new token
//! serve_api serve --data DIR [--api ADDR] [--http ADDR]     # prints "api URL" and "http URL"
//! ```

use std::path::PathBuf;
use tern_serve::store::{Scope, SqliteStore, Store};
use tern_serve::{ServeConfig, ServerSettings};

fn arg(args: &[String], flag: &str, default: &str) -> String {
    args.windows(2)
        .find(|w| w[0] == flag)
        .map_or(default.to_string(), |w| w[1].clone())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let data = PathBuf::from(arg(&args, "--data", "tern-data"));
    match args.get(1).map(String::as_str) {
        Some("token") => {
            let scope = Scope::parse(&arg(&args, "--scope", "admin"))?;
            let (_, secret) = SqliteStore::open(&data)?.create_token("dashboard", scope)?;
            println!("{secret}");
            Ok(())
        }
        Some("serve") => {
            let server = ServerSettings {
                listen: arg(&args, "--http", "127.0.0.1:8080").parse()?,
                ..ServerSettings::default()
            };
            let config = ServeConfig {
                server,
                handlers: Vec::new(),
            };
            let options = tern_serve::Options {
                signals: true,
                ..Default::default()
            };
            let running = tern_serve::start(config, options)?;
            let api_listen = arg(&args, "--api", "127.0.0.1:8081").parse()?;
            let api = tern_serve::api::attach(&running, &data, api_listen)?;
            println!("api http://{}", api.addr());
            println!("http http://{}", running.addr());
            running.wait();
            api.shutdown();
            api.wait();
            Ok(())
        }
        _ => Err(
            "usage: serve_api token|serve --data DIR [--scope S] [--api ADDR] [--http ADDR]".into(),
        ),
    }
}
