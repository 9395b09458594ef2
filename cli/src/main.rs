//! The `tern` command line.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[cfg(feature = "control")]
mod client;
mod run;
#[cfg(feature = "serve")]
mod serve;

/// tern: a minimal capability operating system for WebAssembly.
#[derive(Parser, Debug)]
// The library's description, as `tern --help` said before the CLI had its own package.
#[command(
    name = "tern",
    version,
    about = "A minimal capability operating system for WebAssembly.",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a WebAssembly module (.wasm or .wat) with only the capabilities you grant.
    Run(run::RunArgs),
    /// Serve HTTP handlers: WebAssembly modules run once per request (CGI), behind a route table.
    #[cfg(feature = "serve")]
    Serve(serve::ServeArgs),
    #[cfg(feature = "control")]
    #[command(flatten)]
    Client(client::ClientCommand),
}

/// Parses the command line, runs the command, and returns the process exit status.
fn main() -> ExitCode {
    let cli = Cli::parse();
    let status = match cli.command {
        Command::Run(args) => run::run(args),
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve::serve(args),
        #[cfg(feature = "control")]
        Command::Client(command) => Ok(client::run(command)),
    };
    match status {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            report(&format!("{e:#}"));
            ExitCode::from(tern_abi::exit_status::RUNTIME_ERROR as u8)
        }
    }
}

/// Prints `error: …` on stderr, ignoring a closed stderr (there is nowhere else to say it).
fn report(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "error: {message}");
}
