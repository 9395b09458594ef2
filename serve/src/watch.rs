//! `--watch`: recompile a handler whose module file changed and swap it in atomically. A change is
//! taken once the file's size and mtime have held still for one poll (editors write in steps); a
//! module that no longer compiles leaves the old one serving, and the reason is printed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::config::ServeConfig;
use crate::registry::{Live, Registry, Table};

/// How often module files are looked at.
const POLL: Duration = Duration::from_millis(200);

type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &PathBuf) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Starts the watcher thread.
pub fn spawn(config: ServeConfig, registry: Arc<Registry>, live: Arc<Live>) {
    let spawned = std::thread::Builder::new()
        .name("tern-watch".into())
        .spawn(move || watch(config, registry, live));
    if let Err(e) = spawned {
        eprintln!("tern serve: --watch: cannot start the watcher: {e}");
    }
}

fn watch(config: ServeConfig, registry: Arc<Registry>, live: Arc<Live>) {
    let paths: Vec<PathBuf> = config.handlers.iter().map(|h| h.module.clone()).collect();
    let mut served: Vec<Stamp> = paths.iter().map(stamp).collect();
    let mut seen = served.clone();
    loop {
        std::thread::sleep(POLL);
        let now: Vec<Stamp> = paths.iter().map(stamp).collect();
        // Changed since the last poll: still being written; wait for it to hold still.
        let settled = now == seen;
        seen = now.clone();
        if !settled || now == served {
            continue;
        }
        served = now;
        reload(&config, &registry, &live);
    }
}

/// Rebuilds the table from the module files as they are now; on any error the old table stays.
fn reload(config: &ServeConfig, registry: &Registry, live: &Live) {
    let current = live.current();
    let mut handlers = Vec::new();
    for spec in &config.handlers {
        match registry.load(spec.clone()) {
            Ok(h) => {
                if current.handler(&spec.name).map(|old| &old.module.sha256)
                    != Some(&h.module.sha256)
                {
                    eprintln!(
                        "tern serve: --watch: {} now serves {} (sha256 {})",
                        spec.name,
                        spec.module.display(),
                        &h.module.sha256[..12]
                    );
                }
                handlers.push(Arc::new(h));
            }
            Err(e) => {
                eprintln!("tern serve: --watch: keeping the running version: {e}");
                return;
            }
        }
    }
    match Table::new(handlers, config.server.workers) {
        Ok(table) => {
            live.swap(table);
            registry.retain_used(&live.current());
        }
        Err(e) => eprintln!("tern serve: --watch: keeping the running version: {e}"),
    }
}
