//! What can go wrong in the store, in words a client can act on.

use std::fmt;

/// A store operation's failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The thing asked for does not exist (handler, version, run, token, blob).
    NotFound(String),
    /// It exists already, or the change conflicts with the current state.
    Conflict(String),
    /// The request is malformed (a bad name, a bad scope).
    Invalid(String),
    /// A handler's async queue is full.
    QueueFull(String),
    /// Stored data failed a check (a blob's hash, an unknown value in a row).
    Corrupt(String),
    /// The file system failed.
    Io(String),
    /// The database failed.
    Db(String),
}

/// The errors both stores give, worded once.
impl StoreError {
    pub(crate) fn handler_not_found(name: &str) -> Self {
        StoreError::NotFound(format!("handler {name:?}"))
    }

    pub(crate) fn version_not_found(name: &str, version: i64) -> Self {
        StoreError::NotFound(format!("version {version} of handler {name:?}"))
    }

    pub(crate) fn run_not_found(id: &str) -> Self {
        StoreError::NotFound(format!("run {id:?}"))
    }

    pub(crate) fn token_not_found(id: &str) -> Self {
        StoreError::NotFound(format!("token {id:?} (or it is revoked already)"))
    }

    pub(crate) fn handler_exists(name: &str) -> Self {
        StoreError::Conflict(format!(
            "handler {name:?} exists: deploy a new version with PUT /v1/handlers/{name}"
        ))
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::NotFound(m) => write!(f, "not found: {m}"),
            StoreError::Conflict(m) => write!(f, "conflict: {m}"),
            StoreError::Invalid(m) => write!(f, "invalid: {m}"),
            StoreError::QueueFull(m) => write!(f, "queue full: {m}"),
            StoreError::Corrupt(m) => write!(f, "store corrupt: {m}"),
            StoreError::Io(m) => write!(f, "store i/o: {m}"),
            StoreError::Db(m) => write!(f, "database: {m}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Db(e.to_string())
    }
}
