//! Several `tern serve` nodes on one shared store (`--store postgres://…`).
//!
//! Nodes are stateless: the database holds handlers, versions, module blobs, tokens, records and
//! the async queue; each node keeps only its compiled modules (the registry's cache, keyed by
//! sha256) and its routing table (swapped whole). A [`Follower`] thread per node keeps them current:
//! it listens for the store's change notifications and also compares the store's revision every
//! [`TICK`] (a notification missed while disconnected is caught there), renews the leases of the
//! async runs the node holds, wakes the async workers when another node queued a run and the
//! `logs?follow=1` readers when another node wrote records (`NOTIFY tern_runs`), and marks
//! the node not ready on `/readyz` while the database is unreachable (it keeps serving the routes
//! it has, and reconnects by itself).

#[cfg(feature = "postgres")]
mod follower;

use crate::api::Attached;
use crate::server::Running;
use crate::Error;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

#[cfg(feature = "postgres")]
pub use follower::Follower;

/// How often a node checks the store's revision, renews its leases and looks at the queue.
pub const TICK: Duration = Duration::from_millis(250);

/// Opens the shared store at `url`, attaches the control plane to `running` (API on
/// `api_listen`; relative paths in configs resolve against `base`) and starts following the
/// other nodes' changes.
#[cfg(feature = "postgres")]
pub fn attach(
    running: &Running,
    url: &str,
    base: &Path,
    api_listen: SocketAddr,
) -> Result<Attached, Error> {
    use crate::store::{PostgresStore, Store};
    use std::sync::Arc;
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(Error::new(format!(
            "--store {}: give a postgres://user@host/db URL",
            redact(url)
        )));
    }
    let store = Arc::new(
        PostgresStore::open(url).map_err(|e| Error::new(format!("{}: {e}", redact(url))))?,
    );
    eprintln!(
        "tern serve: cluster node {} on {}",
        store.node(),
        redact(url)
    );
    let attached =
        crate::api::attach_store(running, store.clone() as Arc<dyn Store>, base, api_listen)?;
    Follower::start(store, attached.plane(), running.state())
        .map_err(|e| Error::new(format!("cannot start the cluster follower: {e}")))?;
    Ok(attached)
}

/// Without the `postgres` feature there is no shared store.
#[cfg(not(feature = "postgres"))]
pub fn attach(
    _running: &Running,
    url: &str,
    _base: &Path,
    _api_listen: SocketAddr,
) -> Result<Attached, Error> {
    Err(Error::new(format!(
        "--store {}: this tern was built without the postgres feature",
        redact(url)
    )))
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            let hidden = if userinfo.contains(':') { ":…" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            super::redact("postgres://tern:s3cret@db/tern"),
            "postgres://tern:…@db/tern"
        );
        assert_eq!(
            super::redact("postgres://tern@db/tern"),
            "postgres://tern@db/tern"
        );
    }
}
