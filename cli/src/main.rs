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

/// `tern run …` alone: the same root and `run` command as [`Cli`], without the other commands, so
/// that parsing the most common command line does not build every command's parser (clap builds the
/// whole tree first). A test checks that help, errors and parsed options are the same as [`Cli`]'s.
#[derive(Parser, Debug)]
#[command(
    name = "tern",
    version,
    about = "A minimal capability operating system for WebAssembly.",
    long_about = None
)]
struct RunOnly {
    #[command(subcommand)]
    command: RunOnlyCommand,
}

/// [`Command::Run`], the only command of [`RunOnly`].
#[derive(Subcommand, Debug)]
enum RunOnlyCommand {
    /// Run a WebAssembly module (.wasm or .wat) with only the capabilities you grant.
    Run(run::RunArgs),
}

/// The client verbs (`client::ClientCommand`), which talk to a control plane. A build without one
/// (a board's) still knows their names, to say what it lacks instead of "unrecognized subcommand";
/// a test checks the list against the verbs of a build with them.
const CONTROL_PLANE_VERBS: &[&str] = &[
    "login", "whoami", "handler", "logs", "invoke", "namegen", "token",
];

/// Exit status of a usage error, as clap's.
const EXIT_USAGE: u8 = 2;

/// What a build without the control plane says to one of its verbs, or `None` for another command.
fn without_control_plane(command: &std::ffi::OsStr) -> Option<String> {
    let verb = CONTROL_PLANE_VERBS.iter().find(|v| command == **v)?;
    Some(format!(
        "`tern {verb}`: this build of tern has no control plane (it was built without the cargo \
         feature `control`, as board builds are); run the client verbs from a full build"
    ))
}

/// Parses the command line (on a usage error, or for help, clap prints and exits); `None` for
/// `tern --version` or `tern -V` alone. Those and `tern run …` take short ways that build no parser
/// for the other commands (BENCHMARKS.md, issue 17: start-up); everything else goes through [`Cli`].
fn parse() -> Option<Command> {
    let mut args = std::env::args_os().skip(1);
    match (args.next(), args.next()) {
        (Some(flag), None) if flag == "--version" || flag == "-V" => None,
        (Some(command), _) if command == "run" => {
            let RunOnlyCommand::Run(args) = RunOnly::parse().command;
            Some(Command::Run(args))
        }
        (Some(command), _) if !cfg!(feature = "control") => {
            if let Some(message) = without_control_plane(&command) {
                report(&message);
                std::process::exit(EXIT_USAGE.into());
            }
            Some(Cli::parse().command)
        }
        _ => Some(Cli::parse().command),
    }
}

/// What `tern --version` prints: clap's format, `NAME VERSION`.
fn version_line() -> String {
    format!("tern {}\n", env!("CARGO_PKG_VERSION"))
}

/// Parses the command line, runs the command, and returns the process exit status.
fn main() -> ExitCode {
    let Some(command) = parse() else {
        use std::io::Write;
        // As clap: a closed stdout is not an error.
        let _ = std::io::stdout().write_all(version_line().as_bytes());
        return ExitCode::SUCCESS;
    };
    let status = match command {
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// What clap makes of `args` with a parser: the parsed options, or the error or help it prints.
    fn outcome<P: Parser + std::fmt::Debug>(args: &[&str]) -> String {
        match P::try_parse_from(args) {
            Ok(parsed) => format!("{parsed:?}"),
            Err(e) => format!("exit {}: {}", e.exit_code(), e.render()),
        }
    }

    #[test]
    fn the_run_parser_says_what_the_full_parser_says() {
        let lines: &[&[&str]] = &[
            &["tern", "run"],
            &["tern", "run", "--help"],
            &["tern", "run", "-h"],
            &["tern", "run", "m.wasm"],
            &["tern", "run", "m.wasm", "--fuel", "x", "-h"],
            &[
                "tern",
                "run",
                "--fuel",
                "10",
                "--dir",
                "/tmp::/t:ro",
                "m.wasm",
                "a",
            ],
            &["tern", "run", "--fuel", "lots", "m.wasm"],
            &["tern", "run", "--fule", "10", "m.wasm"],
            &["tern", "run", "--timeout", "soon", "m.wasm"],
            &["tern", "run", "--max-response-size", "1T", "m.wasm"],
            &[
                "tern",
                "run",
                "--stats",
                "--stats-json",
                "--env",
                "A=B",
                "m.wat",
            ],
            &["tern", "run", "--version"],
            &["tern", "run", "run"],
        ];
        for line in lines {
            let full = outcome::<Cli>(line).replace("Cli { command: Run(", "");
            let short = outcome::<RunOnly>(line).replace("RunOnly { command: Run(", "");
            assert_eq!(short, full, "{line:?}");
        }
    }

    #[test]
    fn the_version_line_is_clap_s() {
        for flag in ["--version", "-V"] {
            let e = Cli::try_parse_from(["tern", flag]).unwrap_err();
            assert_eq!(e.exit_code(), 0);
            assert_eq!(e.render().to_string(), version_line());
        }
    }

    /// The names a build without the control plane refuses are the verbs of a build with it.
    #[cfg(feature = "control")]
    #[test]
    fn the_control_plane_verbs_are_the_client_commands() {
        let names: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_owned())
            .filter(|name| name != "run" && name != "serve")
            .collect();
        assert_eq!(names, CONTROL_PLANE_VERBS);
    }

    #[test]
    fn a_control_plane_verb_is_named_as_missing_from_the_build() {
        let message = without_control_plane("login".as_ref()).expect("login is a client verb");
        assert!(message.starts_with("`tern login`: "), "{message}");
        assert!(message.contains("no control plane"), "{message}");
        assert_eq!(without_control_plane("serve".as_ref()), None);
        assert_eq!(without_control_plane("logins".as_ref()), None);
    }

    #[test]
    fn both_parsers_are_well_formed() {
        Cli::command().debug_assert();
        RunOnly::command().debug_assert();
    }
}
