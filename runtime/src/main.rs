//! The `tern` binary.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    tern::cli::main()
}
