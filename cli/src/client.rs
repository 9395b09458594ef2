//! The client verbs: `login`, `whoami`, `handler deploy|list|show|rollback|delete`, `logs`,
//! `invoke`, `namegen`, and `token` (on the server's data directory). Everything but `token` and
//! `namegen` talks to a `tern serve` control plane over its JSON API (`/v1/`).
//!
//! The server and token live in a config file (`$TERN_CONFIG`, else
//! `$XDG_CONFIG_HOME/tern/client.json`, else `~/.config/tern/client.json`), written with mode 0600;
//! `--server` / `TERN_SERVER` and `TERN_TOKEN` override it.
//!
//! Exit codes: 0 done; 1 the server refused or failed (the message says why); 2 bad usage;
//! 3 not logged in, or the token was refused; 4 not found; 5 the server could not be reached.

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tern_serve::store::{Scope, SqliteStore, Store};

/// Exit status: the server refused or failed.
pub const EXIT_REFUSED: i32 = 1;
/// Exit status: not logged in, or the token was refused.
pub const EXIT_AUTH: i32 = 3;
/// Exit status: the handler or run does not exist.
pub const EXIT_NOT_FOUND: i32 = 4;
/// Exit status: the server could not be reached.
pub const EXIT_UNREACHABLE: i32 = 5;

/// The client verbs, flattened into `tern`'s commands.
#[derive(Subcommand, Debug)]
pub enum ClientCommand {
    /// Log in to a tern serve control plane: checks the token, then stores server and token.
    Login(LoginArgs),
    /// Show the server and the token's name and scope.
    Whoami(Common),
    /// Deploy, list, show, roll back and delete handlers.
    #[command(subcommand)]
    Handler(HandlerCommand),
    /// Print a handler's invocation records and logs (`-f` to follow).
    Logs(LogsArgs),
    /// Run a handler now, or queue it with `--async`.
    Invoke(InvokeArgs),
    /// Print a generated handler name (adjective-bird-number).
    Namegen,
    /// Create, list and revoke API tokens in a server's data directory (run it on the server).
    #[command(subcommand)]
    Token(TokenCommand),
}

/// Options every API verb takes.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// The control plane's address (default: the one `tern login` stored).
    #[arg(long, env = "TERN_SERVER", global = true)]
    server: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
}

/// `tern login URL`.
#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The API address, e.g. http://127.0.0.1:8081.
    url: String,
    /// The token (default: read from standard input).
    #[arg(long, env = "TERN_TOKEN")]
    token: Option<String>,
    #[command(flatten)]
    common: Common,
}

/// `tern handler …`.
#[derive(Subcommand, Debug)]
pub enum HandlerCommand {
    /// Deploy a module as a new handler, or as the next version of an existing one.
    Deploy {
        /// The module, .wasm or .wat.
        file: PathBuf,
        /// The handler's name (default: the one section of --config, else a generated name).
        #[arg(long)]
        name: Option<String>,
        /// A tern.toml: the handler's section gives routes, grants, limits and environment.
        #[arg(long)]
        config: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// List handlers with their live versions.
    List(Common),
    /// Show a handler: versions, config, recent runs.
    Show {
        /// Handler name.
        name: String,
        #[command(flatten)]
        common: Common,
    },
    /// Make an earlier version live again (default: the one before the live one).
    Rollback {
        /// Handler name.
        name: String,
        /// The version to go to.
        #[arg(long)]
        to: Option<i64>,
        #[command(flatten)]
        common: Common,
    },
    /// Delete a handler with its versions and records.
    Delete {
        /// Handler name.
        name: String,
        #[command(flatten)]
        common: Common,
    },
}

/// `tern logs NAME`.
#[derive(Args, Debug)]
pub struct LogsArgs {
    /// Handler name.
    name: String,
    /// Keep printing records as they arrive.
    #[arg(short, long)]
    follow: bool,
    /// Only this run (with -f: wait until it has finished).
    #[arg(long)]
    run: Option<String>,
    /// Only records after this sequence number.
    #[arg(long, default_value_t = 0)]
    since: i64,
    #[command(flatten)]
    common: Common,
}

/// `tern invoke NAME`.
#[derive(Args, Debug)]
pub struct InvokeArgs {
    /// Handler name.
    name: String,
    /// Queue the run and print its id instead of waiting.
    #[arg(long = "async")]
    run_async: bool,
    /// The request body: text, or @FILE (@- for standard input).
    #[arg(long)]
    data: Option<String>,
    #[command(flatten)]
    common: Common,
}

/// `tern token …` (on the server: reads and writes the data directory directly).
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token and print it once (it is stored only as a hash).
    Create {
        /// A label, e.g. who or what uses it.
        #[arg(long, default_value = "token")]
        name: String,
        /// read, deploy or admin.
        #[arg(long, default_value = "admin")]
        scope: String,
        /// The server's data directory.
        #[arg(long, default_value = "tern-data")]
        data: PathBuf,
    },
    /// List tokens (ids, names, scopes; never secrets).
    List {
        /// The server's data directory.
        #[arg(long, default_value = "tern-data")]
        data: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by id.
    Revoke {
        /// The token's id (from `tern token list`).
        id: String,
        /// The server's data directory.
        #[arg(long, default_value = "tern-data")]
        data: PathBuf,
    },
}

/// A failure with the exit status it maps to.
#[derive(Debug)]
struct Failure(i32, String);

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.1)
    }
}

impl std::error::Error for Failure {}

fn fail(code: i32, message: impl Into<String>) -> anyhow::Error {
    Failure(code, message.into()).into()
}

/// The exit status for an error from [`run`]: its own, or 1.
pub fn exit_code(e: &anyhow::Error) -> i32 {
    e.downcast_ref::<Failure>().map_or(EXIT_REFUSED, |f| f.0)
}

/// Runs a client verb; returns the exit status.
pub fn run(command: ClientCommand) -> Result<i32> {
    match command {
        ClientCommand::Login(args) => login(args),
        ClientCommand::Whoami(common) => {
            let api = Api::from_config(&common)?;
            let me = api.call("GET", "/v1/whoami", None, &[])?;
            if common.json {
                print_json(&json!({"server": api.server, "token": me}));
            } else {
                println!("server  {}", api.server);
                println!("token   {} ({})", str_of(&me["name"]), str_of(&me["id"]));
                println!("scope   {}", str_of(&me["scope"]));
            }
            Ok(0)
        }
        ClientCommand::Handler(cmd) => handler(cmd),
        ClientCommand::Logs(args) => logs(args),
        ClientCommand::Invoke(args) => invoke(args),
        ClientCommand::Namegen => {
            println!("{}", tern_serve::api::namegen::generate());
            Ok(0)
        }
        ClientCommand::Token(cmd) => token(cmd),
    }
}

// ---- the config file ----

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct ClientConfig {
    server: Option<String>,
    token: Option<String>,
}

fn config_path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("TERN_CONFIG") {
        return Ok(PathBuf::from(p));
    }
    let base = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(x) if !x.is_empty() => PathBuf::from(x),
        _ => PathBuf::from(
            std::env::var_os("HOME")
                .ok_or_else(|| anyhow!("neither TERN_CONFIG nor HOME is set: set TERN_CONFIG=FILE"))?,
        )
        .join(".config"),
    };
    Ok(base.join("tern").join("client.json"))
}

fn read_config() -> Result<ClientConfig> {
    let path = config_path()?;
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid: log in again with `tern login URL`", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ClientConfig::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Writes the config with mode 0600 (it holds a token): temp file, then rename.
fn write_config(config: &ClientConfig) -> Result<PathBuf> {
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

struct Api {
    server: String,
    token: String,
    agent: ureq::Agent,
}

fn agent(timeout: Option<Duration>) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(timeout)
        .build()
        .into()
}

impl Api {
    fn from_config(common: &Common) -> Result<Api> {
        let config = read_config()?;
        let server = common.server.clone().or(config.server);
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
    fn send(
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
                format!("cannot reach the control plane at {}: {e} (is `tern serve` running? check the address with `tern whoami`, or log in again)", self.server),
            )
        })
    }

    /// A JSON call: the parsed body on 2xx, else an error that says what to do.
    fn call(
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

    fn refusal(&self, status: u16, text: &str) -> anyhow::Error {
        let message = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or_else(|| text.trim().to_string());
        match status {
            401 => fail(
                EXIT_AUTH,
                format!("the server refused the token: run `tern login {}` with a valid token", self.server),
            ),
            403 => fail(EXIT_AUTH, message),
            404 => fail(EXIT_NOT_FOUND, message),
            _ => fail(EXIT_REFUSED, format!("{message} (HTTP {status})")),
        }
    }
}

fn login(args: LoginArgs) -> Result<i32> {
    let token = match args.token {
        Some(t) => t,
        None => {
            eprint!("token (from `tern token create` on the server): ");
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim().to_string()
        }
    };
    if token.is_empty() {
        return Err(fail(EXIT_AUTH, "no token given: pass --token or paste it when asked"));
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
        println!(
            "logged in to {server} as {} (scope {}); saved in {}",
            str_of(&me["name"]),
            str_of(&me["scope"]),
            path.display()
        );
    }
    Ok(0)
}

// ---- handlers ----

fn handler(cmd: HandlerCommand) -> Result<i32> {
    match cmd {
        HandlerCommand::Deploy {
            file,
            name,
            config,
            common,
        } => deploy(&file, name, config.as_deref(), &common),
        HandlerCommand::List(common) => {
            let api = Api::from_config(&common)?;
            let list = api.call("GET", "/v1/handlers", None, &[])?;
            if common.json {
                print_json(&list);
                return Ok(0);
            }
            let mut rows = vec![vec![
                "NAME".to_string(),
                "VERSION".into(),
                "SHA256".into(),
                "ROUTES".into(),
                "UPDATED".into(),
            ]];
            for h in list["handlers"].as_array().into_iter().flatten() {
                rows.push(vec![
                    str_of(&h["name"]),
                    h["live_version"].to_string(),
                    short_sha(&h["sha256"]),
                    routes_of(&h["routes"]),
                    timestamp(h["updated_at"].as_i64().unwrap_or(0)),
                ]);
            }
            print_table(&rows);
            Ok(0)
        }
        HandlerCommand::Show { name, common } => {
            let api = Api::from_config(&common)?;
            let h = api.call("GET", &format!("/v1/handlers/{name}"), None, &[])?;
            if common.json {
                print_json(&h);
                return Ok(0);
            }
            println!("handler   {}", str_of(&h["name"]));
            println!("live      version {}", h["live_version"]);
            println!("config    {}", h["config"]);
            println!(
                "keeps     {} records, {} days",
                h["retention"]["keep_runs"], h["retention"]["keep_days"]
            );
            let mut rows = vec![vec![
                "VERSION".to_string(),
                "SHA256".into(),
                "DEPLOYED".into(),
                "".into(),
            ]];
            for v in h["versions"].as_array().into_iter().flatten() {
                rows.push(vec![
                    v["version"].to_string(),
                    short_sha(&v["sha256"]),
                    timestamp(v["created_at"].as_i64().unwrap_or(0)),
                    if v["live"] == json!(true) { "live".into() } else { String::new() },
                ]);
            }
            println!();
            print_table(&rows);
            let recent = h["recent_runs"].as_array().cloned().unwrap_or_default();
            if !recent.is_empty() {
                println!("\nrecent runs");
                for r in recent {
                    println!("  {}", summary_line(&r));
                }
            }
            Ok(0)
        }
        HandlerCommand::Rollback { name, to, common } => {
            let api = Api::from_config(&common)?;
            let path = match to {
                Some(v) => format!("/v1/handlers/{name}/rollback?version={v}"),
                None => format!("/v1/handlers/{name}/rollback"),
            };
            let v = api.call("POST", &path, None, &[])?;
            if common.json {
                print_json(&v);
            } else {
                println!("{name} is at version {} ({})", v["version"], short_sha(&v["sha256"]));
            }
            Ok(0)
        }
        HandlerCommand::Delete { name, common } => {
            let api = Api::from_config(&common)?;
            let v = api.call("DELETE", &format!("/v1/handlers/{name}"), None, &[])?;
            if common.json {
                print_json(&v);
            } else {
                println!("deleted {name}");
            }
            Ok(0)
        }
    }
}

fn deploy(file: &Path, name: Option<String>, config: Option<&Path>, common: &Common) -> Result<i32> {
    let api = Api::from_config(common)?;
    let module = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let (name, section) = match config {
        Some(path) => handler_section(path, name)?,
        None => (name, None),
    };
    let mut headers = Vec::new();
    if let Some(section) = section {
        headers.push(("Tern-Config", ascii_json(&section)));
    }
    headers.push(("Content-Type", "application/wasm".to_string()));
    let v = match &name {
        Some(n) => api.call("PUT", &format!("/v1/handlers/{n}"), Some(module), &headers)?,
        None => api.call("POST", "/v1/handlers", Some(module), &headers)?,
    };
    if common.json {
        print_json(&v);
    } else {
        println!(
            "deployed {} version {} ({}); it is live",
            str_of(&v["name"]),
            v["version"],
            short_sha(&v["sha256"])
        );
    }
    Ok(0)
}

/// The handler's section of a tern.toml as JSON (without `module`: the deploy's file is the
/// module), and the handler's name: `--name`, else the file's only handler.
fn handler_section(path: &Path, name: Option<String>) -> Result<(Option<String>, Option<Value>)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let doc: toml::Value = toml::from_str(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let handlers = doc
        .get("handlers")
        .and_then(|h| h.as_table())
        .ok_or_else(|| anyhow!("{}: no [handlers.NAME] section", path.display()))?;
    let name = match name {
        Some(n) => n,
        None if handlers.len() == 1 => handlers.keys().next().cloned().unwrap_or_default(),
        None => bail!(
            "{} has {} handlers: pick one with --name ({})",
            path.display(),
            handlers.len(),
            handlers.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
    };
    let section = handlers
        .get(&name)
        .ok_or_else(|| anyhow!("{} has no [handlers.{name}] section", path.display()))?;
    let mut section = serde_json::to_value(section)?;
    if let Some(obj) = section.as_object_mut() {
        obj.remove("module");
    }
    Ok((Some(name), Some(section)))
}

/// JSON with every non-ASCII character escaped, so it fits in an HTTP header.
fn ascii_json(v: &Value) -> String {
    let mut out = String::new();
    for c in v.to_string().chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

// ---- logs and invoke ----

fn logs(args: LogsArgs) -> Result<i32> {
    let api = Api::from_config(&args.common)?;
    let mut path = format!("/v1/handlers/{}/logs?since={}", args.name, args.since);
    if let Some(run) = &args.run {
        path.push_str(&format!("&run={run}"));
    }
    if args.follow {
        path.push_str("&follow=1");
    }
    // Following has no end; a plain read is bounded by the server's page.
    let agent = agent(if args.follow { None } else { Some(Duration::from_secs(120)) });
    let mut resp = api.send(&agent, "GET", &path, None, &[])?;
    let status = resp.status().as_u16();
    if status != 200 {
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        return Err(api.refusal(status, &text));
    }
    let reader = BufReader::new(resp.into_body().into_reader());
    let stdout = std::io::stdout();
    for line in reader.lines() {
        let line = line.context("reading the log stream")?;
        if line.trim().is_empty() {
            continue;
        }
        let mut out = stdout.lock();
        let written = if args.common.json {
            writeln!(out, "{line}")
        } else {
            let r: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
            writeln!(out, "{}", summary_line(&r)).and_then(|_| {
                let logs = r["logs"].as_str().unwrap_or("");
                logs.lines().try_for_each(|l| writeln!(out, "    {l}"))
            })
        };
        if written.and_then(|_| out.flush()).is_err() {
            break; // stdout closed (e.g. piped into head)
        }
    }
    Ok(0)
}

fn invoke(args: InvokeArgs) -> Result<i32> {
    let api = Api::from_config(&args.common)?;
    let body = match args.data.as_deref() {
        None => Vec::new(),
        Some("@-") => {
            let mut b = Vec::new();
            std::io::stdin().read_to_end(&mut b)?;
            b
        }
        Some(d) if d.starts_with('@') => {
            std::fs::read(&d[1..]).with_context(|| format!("reading {}", &d[1..]))?
        }
        Some(d) => d.as_bytes().to_vec(),
    };
    let name = &args.name;
    if args.run_async {
        let v = api.call("POST", &format!("/v1/handlers/{name}/invoke?async=1"), Some(body), &[])?;
        if args.common.json {
            print_json(&v);
        } else {
            let run = str_of(&v["run"]);
            println!("{run}");
            eprintln!("queued; see its outcome with `tern logs {name} --run {run} -f`");
        }
        return Ok(0);
    }
    let mut resp = api.send(&api.agent, "POST", &format!("/v1/handlers/{name}/invoke"), Some(body), &[])?;
    let status = resp.status().as_u16();
    let run = resp
        .headers()
        .get("x-tern-run-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = resp
        .body_mut()
        .with_config()
        .limit(256 << 20)
        .read_to_vec()
        .context("reading the handler's response")?;
    let Some(run) = run else {
        // No run happened: the API refused (unknown handler, bad token, …).
        return Err(api.refusal(status, &String::from_utf8_lossy(&bytes)));
    };
    if args.common.json {
        print_json(&json!({"run": run, "status": status, "body": String::from_utf8_lossy(&bytes)}));
    } else {
        std::io::stdout().write_all(&bytes)?;
        eprintln!("run {run}: HTTP {status}");
    }
    Ok(if (200..300).contains(&status) { 0 } else { EXIT_REFUSED })
}

// ---- tokens ----

fn token(cmd: TokenCommand) -> Result<i32> {
    let open = |data: &Path| {
        if !data.join("tern.db").exists() {
            eprintln!("note: {} has no tern.db yet; creating it", data.display());
        }
        SqliteStore::open(data).map_err(|e| anyhow!("{}: {e}", data.display()))
    };
    match cmd {
        TokenCommand::Create { name, scope, data } => {
            let scope = Scope::parse(&scope).map_err(|e| fail(2, e.to_string()))?;
            let store = open(&data)?;
            let (info, secret) = store.create_token(&name, scope)?;
            println!("{secret}");
            eprintln!(
                "token {} ({}, scope {}): shown once; log in with `tern login http://HOST:8081` and paste it",
                info.id, info.name, info.scope.as_str()
            );
            Ok(0)
        }
        TokenCommand::List { data, json: as_json } => {
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
            store
                .revoke_token(&id)
                .map_err(|e| fail(EXIT_NOT_FOUND, format!("{e}: see `tern token list --data {}`", data.display())))?;
            println!("revoked {id}");
            Ok(0)
        }
    }
}

// ---- output ----

fn print_json(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

fn str_of(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

fn short_sha(v: &Value) -> String {
    v.as_str().unwrap_or("").chars().take(12).collect()
}

fn routes_of(v: &Value) -> String {
    match v {
        Value::Array(a) => a.iter().map(str_of).collect::<Vec<_>>().join(" "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// One line per record: when, run id, version, status, how it ended, wall time.
fn summary_line(r: &Value) -> String {
    format!(
        "{}  run {}  v{}  {}  {}  {}  {}ms",
        timestamp(r["finished_at"].as_i64().unwrap_or(0)),
        str_of(&r["id"]),
        r["version"],
        str_of(&r["kind"]),
        r["status"],
        str_of(&r["ended"]),
        r["wall_ms"]
    )
}

fn print_table(rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, s)| format!("{s:<w$}", w = widths[c]))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS` UTC.
fn timestamp(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_dates() {
        assert_eq!(timestamp(0), "1970-01-01 00:00:00");
        assert_eq!(timestamp(1_795_939_200_000), "2026-11-29 08:00:00");
        assert_eq!(timestamp(951_782_400_000), "2000-02-29 00:00:00");
    }

    #[test]
    fn config_json_is_ascii() {
        let v = json!({"env": {"GREETING": "grüß dich 🐦"}});
        let text = ascii_json(&v);
        assert!(text.is_ascii());
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
    }
}
