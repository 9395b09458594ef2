//! API tokens: `tern_<id>_<secret>` with a 256-bit random secret. Only the secret's sha256 is
//! stored; the presented one is hashed and compared in constant time.

use super::{random_hex, sha256_hex, Millis, StoreError};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// What a token may do; each scope includes the ones before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read handlers, logs and runs.
    Read,
    /// Also deploy, roll back, delete and invoke.
    Deploy,
    /// Everything (also token management through the API, later).
    Admin,
}

impl Scope {
    /// The scope's name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Deploy => "deploy",
            Scope::Admin => "admin",
        }
    }

    /// Parses `read`, `deploy` or `admin`.
    pub fn parse(s: &str) -> Result<Scope, StoreError> {
        match s {
            "read" => Ok(Scope::Read),
            "deploy" => Ok(Scope::Deploy),
            "admin" => Ok(Scope::Admin),
            other => Err(StoreError::Invalid(format!(
                "scope {other:?}: use read, deploy or admin"
            ))),
        }
    }

    /// Whether this scope allows what `needed` allows.
    pub fn allows(self, needed: Scope) -> bool {
        self >= needed
    }
}

/// A token as listed (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// Public id (also inside the token).
    pub id: String,
    /// A label for people.
    pub name: String,
    /// What it may do.
    pub scope: Scope,
    /// When it was made.
    pub created_at: Millis,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Millis>,
}

/// A freshly made token: its id, the full bearer string, and the hash to store.
pub(crate) struct NewToken {
    pub id: String,
    pub bearer: String,
    pub hash: String,
}

impl NewToken {
    /// The token as made at `now`, and its bearer string (shown once, never stored).
    pub(crate) fn created(self, name: &str, scope: Scope, now: Millis) -> (TokenInfo, String) {
        (
            TokenInfo {
                id: self.id,
                name: name.to_string(),
                scope,
                created_at: now,
                revoked_at: None,
            },
            self.bearer,
        )
    }
}

pub(crate) fn generate() -> Result<NewToken, StoreError> {
    let id = random_hex(8)?;
    let secret = random_hex(32)?;
    let hash = hash_secret(&secret);
    Ok(NewToken {
        bearer: format!("tern_{id}_{secret}"),
        id,
        hash,
    })
}

pub(crate) fn hash_secret(secret: &str) -> String {
    sha256_hex(secret.as_bytes())
}

/// Splits a presented bearer string into (id, secret) if it has the token's shape.
fn split(presented: &str) -> Option<(&str, &str)> {
    let rest = presented.strip_prefix("tern_")?;
    let (id, secret) = rest.split_once('_')?;
    let hexish = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hexish(id, 16) && hexish(secret, 64)).then_some((id, secret))
}

/// Whether the presented secret hashes to the stored hash, in time independent of where they differ.
fn secret_matches(secret: &str, stored_hash: &str) -> bool {
    let presented = hash_secret(secret);
    presented.as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

/// The token a presented bearer string belongs to, if it is valid and not revoked; `by_id` looks
/// up a token and its secret's hash in the store.
pub(crate) fn authenticate(
    presented: &str,
    by_id: impl FnOnce(&str) -> Result<Option<(TokenInfo, String)>, StoreError>,
) -> Result<Option<TokenInfo>, StoreError> {
    let Some((id, secret)) = split(presented) else {
        return Ok(None);
    };
    let row = by_id(id)?;
    // Hash and compare even for an unknown id, so the time taken says nothing about which part
    // of the token was wrong.
    let (info, hash) = row.unwrap_or_else(|| {
        (
            TokenInfo {
                id: String::new(),
                name: String::new(),
                scope: Scope::Read,
                created_at: 0,
                revoked_at: Some(0),
            },
            "0".repeat(64),
        )
    });
    let matches = secret_matches(secret, &hash);
    Ok((matches && info.revoked_at.is_none()).then_some(info))
}
