//! `tern token create|list|revoke --data DIR`: on the server, straight on the data directory.

use super::output::{print_json, print_table, timestamp};
use super::{fail, TokenCommand, EXIT_NOT_FOUND};
use anyhow::{anyhow, Result};
use std::path::Path;
use tern_serve::store::{Scope, SqliteStore, Store};

// ---- tokens ----

pub(super) fn token(cmd: TokenCommand) -> Result<i32> {
    let open = |data: &Path| {
        if !data.join("tern.db").exists() {
            esay!("note: {} has no tern.db yet; creating it", data.display());
        }
        SqliteStore::open(data).map_err(|e| anyhow!("{}: {e}", data.display()))
    };
    match cmd {
        TokenCommand::Create { name, scope, data } => {
            let scope = Scope::parse(&scope).map_err(|e| fail(2, e.to_string()))?;
            let store = open(&data)?;
            let (info, secret) = store.create_token(&name, scope)?;
            say!("{secret}");
            esay!(
                "token {} ({}, scope {}): shown once; log in with `tern login http://HOST:8081` and paste it",
                info.id, info.name, info.scope.as_str()
            );
            Ok(0)
        }
        TokenCommand::List {
            data,
            json: as_json,
        } => {
            let store = open(&data)?;
            let tokens = store.list_tokens()?;
            if as_json {
                print_json(&serde_json::to_value(&tokens)?);
                return Ok(0);
            }
            let mut rows = vec![vec![
                "ID".to_string(),
                "NAME".into(),
                "SCOPE".into(),
                "CREATED".into(),
                "REVOKED".into(),
            ]];
            for t in tokens {
                rows.push(vec![
                    t.id,
                    t.name,
                    t.scope.as_str().into(),
                    timestamp(t.created_at),
                    t.revoked_at.map(timestamp).unwrap_or_default(),
                ]);
            }
            print_table(&rows);
            Ok(0)
        }
        TokenCommand::Revoke { id, data } => {
            let store = open(&data)?;
            store.revoke_token(&id).map_err(|e| {
                fail(
                    EXIT_NOT_FOUND,
                    format!("{e}: see `tern token list --data {}`", data.display()),
                )
            })?;
            say!("revoked {id}");
            Ok(0)
        }
    }
}
