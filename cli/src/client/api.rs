//! The client's config file (server and token, mode 0600) and its HTTP calls to the API.

use super::output::{print_json, str_of};
use super::{fail, Common, LoginArgs, EXIT_AUTH, EXIT_NOT_FOUND, EXIT_REFUSED, EXIT_UNREACHABLE};
use anyhow::{anyhow, Context, Result};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

// ---- the config file ----

#[derive(serde::Serialize, serde::Deserialize, Default)]
pub(super) struct ClientConfig {
    server: Option<String>,
    token: Option<String>,
}

pub(super) fn config_path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("TERN_CONFIG") {
        return Ok(PathBuf::from(p));
    }
    let base =
        match std::env::var_os("XDG_CONFIG_HOME") {
            Some(x) if !x.is_empty() => PathBuf::from(x),
            _ => PathBuf::from(std::env::var_os("HOME").ok_or_else(|| {
                anyhow!("neither TERN_CONFIG nor HOME is set: set TERN_CONFIG=FILE")
            })?)
            .join(".config"),
        };
    Ok(base.join("tern").join("client.json"))
}

pub(super) fn read_config() -> Result<ClientConfig> {
    let path = config_path()?;
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not valid: log in again with `tern login URL`",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ClientConfig::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Writes the config with mode 0600 (it holds a token): temp file, then rename.
pub(super) fn write_config(config: &ClientConfig) -> Result<PathBuf> {
    let path = config_path()?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        builder.mode(0o700);
        options.mode(0o600);
    }
    builder
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    let tmp = path.with_extension("json.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut file = options
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    file.write_all(serde_json::to_string_pretty(config)?.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

// ---- talking to the API ----

pub(super) struct Api {
    pub(super) server: String,
    pub(super) token: String,
    pub(super) agent: ureq::Agent,
}

pub(super) fn agent(timeout: Option<Duration>) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(timeout)
        .build()
        .into()
}

impl Api {
    pub(super) fn from_config(common: &Common) -> Result<Api> {
        let config = read_config()?;
        let server = common
            .server
            .clone()
            .or_else(|| std::env::var("TERN_SERVER").ok())
            .or(config.server);
        let token = std::env::var("TERN_TOKEN").ok().or(config.token);
        let (Some(server), Some(token)) = (server, token) else {
            return Err(fail(
                EXIT_AUTH,
                "not logged in: run `tern login http://HOST:8081` (make a token on the server with `tern token create`)",
            ));
        };
        Ok(Api {
            server: server.trim_end_matches('/').to_string(),
            token,
            agent: agent(Some(Duration::from_secs(120))),
        })
    }

    /// Sends a request and returns the response, mapping transport failures to exit status 5.
    pub(super) fn send(
        &self,
        agent: &ureq::Agent,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, String)],
    ) -> Result<ureq::http::Response<ureq::Body>> {
        let url = format!("{}{path}", self.server);
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("Authorization", format!("Bearer {}", self.token));
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let req = req
            .body(body.unwrap_or_default())
            .map_err(|e| anyhow!("bad request to {url}: {e}"))?;
        agent.run(req).map_err(|e| {
            fail(
                EXIT_UNREACHABLE,
                format!("cannot reach the control plane at {}: {e} (is `tern serve --data DIR` running there? to use another address, run `tern login URL`)", self.server),
            )
        })
    }

    /// A JSON call: the parsed body on 2xx, else an error that says what to do.
    pub(super) fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, String)],
    ) -> Result<Value> {
        let mut resp = self.send(&self.agent, method, path, body, headers)?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .unwrap_or_default();
        if (200..300).contains(&status) {
            return serde_json::from_str(&text)
                .with_context(|| format!("the server's answer is not JSON: {text:.200}"));
        }
        Err(self.refusal(status, &text))
    }

    pub(super) fn refusal(&self, status: u16, text: &str) -> anyhow::Error {
        let message = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or_else(|| text.trim().to_string());
        match status {
            401 => fail(
                EXIT_AUTH,
                format!(
                    "the server refused the token: run `tern login {}` with a valid token",
                    self.server
                ),
            ),
            403 => fail(EXIT_AUTH, message),
            404 => fail(EXIT_NOT_FOUND, message),
            _ => fail(EXIT_REFUSED, format!("{message} (HTTP {status})")),
        }
    }
}

pub(super) fn login(args: LoginArgs) -> Result<i32> {
    let token = match args.token.or_else(|| std::env::var("TERN_TOKEN").ok()) {
        Some(t) => t,
        None => {
            let _ = write!(
                std::io::stderr(),
                "token (from `tern token create` on the server): "
            );
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim().to_string()
        }
    };
    if token.is_empty() {
        return Err(fail(
            EXIT_AUTH,
            "no token given: pass --token or paste it when asked",
        ));
    }
    let server = args.url.trim_end_matches('/').to_string();
    if !server.starts_with("http://") {
        return Err(fail(
            2,
            format!("{server}: give an http:// address, e.g. http://127.0.0.1:8081 (for a remote board, tunnel it: ssh -L 8081:127.0.0.1:8081 BOARD)"),
        ));
    }
    let api = Api {
        server: server.clone(),
        token: token.clone(),
        agent: agent(Some(Duration::from_secs(30))),
    };
    let me = api.call("GET", "/v1/whoami", None, &[])?;
    let path = write_config(&ClientConfig {
        server: Some(server.clone()),
        token: Some(token),
    })?;
    if args.common.json {
        print_json(&json!({"server": server, "token": me, "config": path}));
    } else {
        say!(
            "logged in to {server} as {} (scope {}); saved in {}",
            str_of(&me["name"]),
            str_of(&me["scope"]),
            path.display()
        );
    }
    Ok(0)
}
