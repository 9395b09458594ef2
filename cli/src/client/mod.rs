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

/// `println!` that ignores a closed stdout (`tern handler list | head -1`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `eprintln!` that ignores a closed stderr.
macro_rules! esay {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod api;
mod output;
mod token;
mod verbs;

use anyhow::Result;
use clap::{Args, Subcommand};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;

use api::{login, Api};
use output::{print_json, str_of};

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
    #[arg(long, global = true)]
    pub(super) server: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    pub(super) json: bool,
}

/// `tern login URL`.
#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The API address, e.g. http://127.0.0.1:8081.
    pub(super) url: String,
    /// The token (default: $TERN_TOKEN, else read from standard input).
    #[arg(long)]
    pub(super) token: Option<String>,
    #[command(flatten)]
    pub(super) common: Common,
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
    pub(super) name: String,
    /// Keep printing records as they arrive.
    #[arg(short, long)]
    pub(super) follow: bool,
    /// Only this run (with -f: wait until it has finished).
    #[arg(long)]
    pub(super) run: Option<String>,
    /// Only records after this sequence number.
    #[arg(long, default_value_t = 0)]
    pub(super) since: i64,
    #[command(flatten)]
    pub(super) common: Common,
}

/// `tern invoke NAME`.
#[derive(Args, Debug)]
pub struct InvokeArgs {
    /// Handler name.
    pub(super) name: String,
    /// Queue the run and print its id instead of waiting.
    #[arg(long = "async")]
    pub(super) run_async: bool,
    /// The request body: text, or @FILE (@- for standard input).
    #[arg(long)]
    pub(super) data: Option<String>,
    #[command(flatten)]
    pub(super) common: Common,
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

pub(super) fn fail(code: i32, message: impl Into<String>) -> anyhow::Error {
    Failure(code, message.into()).into()
}

/// The exit status for an error: its own, or 1.
fn exit_code(e: &anyhow::Error) -> i32 {
    e.downcast_ref::<Failure>().map_or(EXIT_REFUSED, |f| f.0)
}

/// Runs a client verb; prints an error as `error: …` and returns the exit status.
pub fn run(command: ClientCommand) -> i32 {
    match run_verb(command) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            exit_code(&e)
        }
    }
}

fn run_verb(command: ClientCommand) -> Result<i32> {
    match command {
        ClientCommand::Login(args) => login(args),
        ClientCommand::Whoami(common) => {
            let api = Api::from_config(&common)?;
            let me = api.call("GET", "/v1/whoami", None, &[])?;
            if common.json {
                print_json(&json!({"server": api.server, "token": me}));
            } else {
                say!("server  {}", api.server);
                say!("token   {} ({})", str_of(&me["name"]), str_of(&me["id"]));
                say!("scope   {}", str_of(&me["scope"]));
            }
            Ok(0)
        }
        ClientCommand::Handler(cmd) => verbs::handler(cmd),
        ClientCommand::Logs(args) => verbs::logs(args),
        ClientCommand::Invoke(args) => verbs::invoke(args),
        ClientCommand::Namegen => {
            say!("{}", tern_serve::api::namegen::generate());
            Ok(0)
        }
        ClientCommand::Token(cmd) => token::token(cmd),
    }
}
