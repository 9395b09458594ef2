//! `tern run`: run a module locally, with the same environment as production.

use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;

use tern::{Limits, Outcome, Policy, Process, Runtime, Stdio, Termination, Trap, Validation};

/// Options of `tern run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Set an environment variable for the guest (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Grant URLs under this one: scheme, host, port and path prefix must match (repeatable).
    #[arg(long = "allow", value_name = "URL")]
    allow: Vec<String>,
    /// Grant URLs under this one for reading only: opening them to change them (a `file:` URL with
    /// `?mode=w`, `a` or `rw`, a WASI open for writing) is denied. The same as --allow URL?mode=r
    /// (repeatable).
    #[arg(long = "allow-read", value_name = "URL")]
    allow_read: Vec<String>,
    /// Deny URLs under this one, even if granted (repeatable; deny wins).
    #[arg(long = "deny", value_name = "URL")]
    deny: Vec<String>,
    /// Trust the CA certificates in this PEM file for https and tls, besides the built-in web
    /// roots (repeatable).
    #[arg(long = "ca-file", value_name = "PEM")]
    ca_file: Vec<PathBuf>,
    /// Let network schemes connect to addresses in this loopback/private/link-local range, such as
    /// 10.0.0.0/8 or 127.0.0.1 (repeatable).
    #[arg(long = "allow-private", value_name = "RANGE")]
    allow_private: Vec<String>,
    /// How long resolving a name and connecting may take (default 10s).
    #[arg(long = "connect-timeout", value_name = "DURATION", value_parser = parse_duration)]
    connect_timeout: Option<Duration>,
    /// How long each phase of an HTTP request (send, wait for the head, receive the body), or one
    /// tcp/tls read or write, may take (default 30s).
    #[arg(long = "net-timeout", value_name = "DURATION", value_parser = parse_duration)]
    net_timeout: Option<Duration>,
    /// The largest HTTP response body the guest may receive (e.g. 512K, 64M; default 64M).
    #[arg(long = "max-response-size", value_name = "BYTES", value_parser = parse_size)]
    max_response_size: Option<u64>,
    /// Read grants, denials and limits from an Olin-format policy file.
    #[arg(long = "policy", value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Stop the guest after this much fuel (roughly, WebAssembly instructions).
    #[arg(long = "fuel", value_name = "N")]
    fuel: Option<u64>,
    /// Trap if the guest's memory would grow past N 64 KiB pages.
    #[arg(long = "max-memory-pages", value_name = "N")]
    max_memory_pages: Option<u32>,
    /// Stop the guest after this much wall-clock time (e.g. 500ms, 2s, 1m).
    #[arg(long = "timeout", value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Call this exported function instead of _start / cwa_main / main.
    #[arg(long = "invoke", value_name = "NAME")]
    invoke: Option<String>,
    /// Print a summary of the run on stderr.
    #[arg(long = "stats")]
    stats: bool,
    /// Print the run's figures as one JSON object, the last line on stderr.
    #[arg(long = "stats-json")]
    stats_json: bool,
    /// Preopen a host directory for WASI guests as GUEST (default: HOST as written); `:ro` makes it
    /// read-only. The same grant as --allow file://HOST (repeatable; fds 3, 4, … in this order).
    #[arg(long = "dir", value_name = "HOST[::GUEST][:ro]")]
    dir: Vec<String>,
    /// The module (WebAssembly binary .wasm or text .wat), then the guest's arguments: everything after
    /// MODULE goes to the guest, even words that look like tern options.
    #[arg(
        value_name = "MODULE [ARGS]",
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    command: Vec<String>,
}

/// Builds the policy from a policy file and the flags (flags add to the file; deny always wins).
fn policy(args: &RunArgs) -> Result<(Policy, Limits)> {
    let mut policy = Policy::new();
    let mut limits = Limits::default();
    if let Some(path) = &args.policy {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read policy {}", path.display()))?;
        let olin = policy
            .add_olin(&text)
            .with_context(|| format!("policy {}", path.display()))?;
        limits.apply_olin(&olin);
        for ca in &olin.ca_files {
            let pem = std::fs::read(ca).with_context(|| {
                format!(
                    "policy {}: ca-file {}: cannot read it",
                    path.display(),
                    ca.display()
                )
            })?;
            policy
                .network
                .trust_pem(&pem)
                .with_context(|| format!("policy {}: ca-file {}", path.display(), ca.display()))?;
        }
    }
    for spec in &args.dir {
        let dir = Preopen::parse(spec)?;
        let granted = if dir.read_only {
            policy.allow_read(dir.url.as_str())
        } else {
            policy.allow(dir.url.as_str())
        };
        granted.with_context(|| format!("--dir {spec}"))?;
    }
    for url in &args.allow {
        policy
            .allow(url)
            .with_context(|| format!("--allow {url}"))?;
    }
    for url in &args.allow_read {
        policy
            .allow_read(url)
            .with_context(|| format!("--allow-read {url}"))?;
    }
    for url in &args.deny {
        policy.deny(url).with_context(|| format!("--deny {url}"))?;
    }
    for path in &args.ca_file {
        let pem = std::fs::read(path)
            .with_context(|| format!("cannot read --ca-file {}", path.display()))?;
        policy
            .network
            .trust_pem(&pem)
            .with_context(|| format!("--ca-file {}", path.display()))?;
    }
    for range in &args.allow_private {
        policy
            .allow_private(range)
            .with_context(|| format!("--allow-private {range}"))?;
    }
    let network = &mut policy.network;
    network.connect_timeout = args.connect_timeout.unwrap_or(network.connect_timeout);
    network.timeout = args.net_timeout.unwrap_or(network.timeout);
    network.max_response_bytes = args.max_response_size.unwrap_or(network.max_response_bytes);
    limits.fuel = args.fuel.or(limits.fuel);
    limits.max_memory_pages = args.max_memory_pages.or(limits.max_memory_pages);
    limits.timeout = args.timeout.or(limits.timeout);
    Ok((policy, limits))
}

/// Runs the module and returns the exit status for the tern process.
pub(super) fn run(args: RunArgs) -> Result<i32> {
    let (policy, limits) = policy(&args)?;
    let policy = Arc::new(policy);
    let timeout = limits.timeout;
    let name = args.command[0].clone();
    let bytes = std::fs::read(&name).with_context(|| format!("cannot read {name}"))?;
    if name.ends_with(".wasm") && !bytes.starts_with(b"\0asm") {
        bail!("{name}: not a WebAssembly binary (it does not start with \\0asm)");
    }
    // One run per compile: validating each function body on its first call does a tenth of the
    // compile's work up front (BENCHMARKS.md, issue 17); an invalid body that is called still ends the
    // run with an error naming it.
    let runtime = Runtime::with_validation(Validation::OnFirstCall);
    let module = match &args.invoke {
        Some(entry) => runtime.compile_with_entry(&bytes, entry),
        None => runtime.compile(&bytes),
    }
    .with_context(|| name.clone())?;
    let guest_args = args.command.clone();
    let mut process = Process::new(&name, guest_args, policy, Stdio::inherit());
    process.set_limits(limits);
    for pair in &args.env {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("--env {pair}: expected KEY=VALUE");
        };
        process.set_env(key, value);
    }
    #[cfg(not(feature = "wasi"))]
    if let Some(spec) = args.dir.first() {
        bail!("--dir {spec}: this tern was built without WASI (feature `wasi`)");
    }
    #[cfg(feature = "wasi")]
    for spec in &args.dir {
        let dir = Preopen::parse(spec)?;
        process
            .preopen(&dir.host, &dir.guest)
            .with_context(|| format!("--dir {spec}"))?;
    }

    let watchdog = timeout.map(|limit| watchdog(&name, limit));
    // Guest code runs on a thread with the stack it needs (tern::GUEST_STACK_SIZE), more than a
    // main thread may have.
    let outcome = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("guest".into())
            .stack_size(tern::GUEST_STACK_SIZE)
            .spawn_scoped(scope, || runtime.run(&module, process))
            .map(|guest| guest.join())
    });
    let outcome = match outcome {
        Ok(Ok(Ok(outcome))) => outcome,
        Ok(Ok(Err(e))) => bail!("{name}: {e}"),
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(e) => bail!("{name}: cannot start the guest's thread: {e}"),
    };
    drop(watchdog);
    if let Termination::Trapped(invalid @ Trap::InvalidFunction(_)) = &outcome.termination {
        // What compile says of an invalid body when it validates them all: tern could not run it.
        bail!("{name}: {invalid}");
    }
    let code = outcome.termination.exit_code();
    if !matches!(outcome.termination, Termination::Exited(_)) {
        crate::report(&format!("{name}: {}", outcome.termination));
    }
    if let Some(refused) = &outcome.refused_growth {
        eprintln_safe(&format!("tern: {name}: {refused}"));
    }
    if args.stats {
        print_stats(&outcome, code);
    }
    if args.stats_json {
        eprintln_safe(&outcome.to_json());
    }
    // The tern process ends with this run: taking the engine and linker apart (about 70k
    // instructions, 1% of a Rust std hello) would be work for nothing.
    std::mem::forget(runtime);
    Ok(code)
}

/// How long past the deadline the watchdog leaves the engine to end the run itself.
const WATCHDOG_GRACE: Duration = Duration::from_secs(1);

/// Ends the tern process as timed out (124) if the run still goes on `limit` + [`WATCHDOG_GRACE`]
/// from now; dropping the returned sender stops it. The engine ends a run at its deadline between
/// slices of instructions and cuts network waits, but cannot reach a guest blocked reading stdin or
/// writing to a stalled stdout, nor a start function, which runs whole inside instantiation. For
/// `tern run` the process is the run, so ending the process is the sure way.
fn watchdog(name: &str, limit: Duration) -> mpsc::Sender<()> {
    let (done, finished) = mpsc::channel::<()>();
    let name = name.to_owned();
    std::thread::spawn(move || {
        let waited = finished.recv_timeout(limit.saturating_add(WATCHDOG_GRACE));
        if waited == Err(RecvTimeoutError::Timeout) {
            crate::report(&format!(
                "{name}: {} (stopped where the engine cannot stop it: blocked on stdin or stdout, \
                 or in the start function)",
                Termination::TimedOut(limit)
            ));
            // process::exit flushes what std's stdout holds and runs no guest code.
            std::process::exit(Termination::TimedOut(limit).exit_code());
        }
    });
    done
}

/// A `--dir HOST[::GUEST][:ro]` argument (wasmtime's syntax, plus `:ro`).
#[cfg_attr(not(feature = "wasi"), allow(dead_code))]
struct Preopen {
    /// The host directory, canonical.
    host: PathBuf,
    /// The name the guest sees.
    guest: String,
    /// Whether the guest may change nothing below it.
    read_only: bool,
    /// `file://HOST/`: what the preopen grants.
    url: url::Url,
}

impl Preopen {
    fn parse(spec: &str) -> Result<Preopen> {
        let (rest, read_only) = match spec.strip_suffix(":ro") {
            Some(rest) => (rest, true),
            None => (spec, false),
        };
        let (host, guest) = rest.split_once("::").unwrap_or((rest, rest));
        if host.is_empty() || guest.is_empty() {
            bail!("--dir {spec}: expected HOST_DIR[::GUEST_DIR][:ro]");
        }
        let canonical = std::fs::canonicalize(host)
            .with_context(|| format!("--dir {spec}: cannot open {host}"))?;
        if !canonical.is_dir() {
            bail!("--dir {spec}: {host} is not a directory");
        }
        let url = url::Url::from_directory_path(&canonical)
            .map_err(|()| anyhow::anyhow!("--dir {spec}: {host} has no file: URL"))?;
        Ok(Preopen {
            host: canonical,
            guest: guest.to_owned(),
            read_only,
            url,
        })
    }
}

fn eprintln_safe(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn print_stats(o: &Outcome, code: i32) {
    let s = &o.process.stats;
    eprintln_safe(&format!(
        "tern: stats: exit {code} · {} · fuel {} · {} host calls · peak memory {} pages ({} KiB) · \
         {} handles opened · {} B read · {} B written · {} denied{}",
        format_duration(o.wall),
        o.fuel_used,
        s.host_calls,
        o.peak_memory_pages,
        o.peak_memory_pages * 64,
        s.opened,
        s.bytes_read,
        s.bytes_written,
        s.denied.len(),
        if s.denied.is_empty() {
            String::new()
        } else {
            format!(" ({})", s.denied.join(", "))
        }
    ));
}

fn format_duration(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// The longest duration an option takes: a year. A deadline is "now + duration", and a duration
/// near `Duration::MAX` would overflow it; no run, connect or network wait needs more.
const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// Parses `500ms`, `2s`, `1.5s`, `1m`, `1h` (a bare number is seconds), up to [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (try 500ms, 2s, 1m)"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit {unit:?} (use ms, s, m or h)"
            ))
        }
    };
    match Duration::try_from_secs_f64(seconds) {
        Ok(duration) if duration <= MAX_DURATION => Ok(duration),
        _ => Err(format!("{text:?} is too long (at most 8760h, a year)")),
    }
}

/// Parses a size in bytes: `1024`, `512K`, `64M`, `1G` (binary multiples; `KiB` etc. too).
pub fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size (try 1048576, 512K, 64M)"))?;
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err(format!("{text:?}: unknown unit {unit:?} (use K, M or G)")),
    };
    value
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("{text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("512K"), Ok(512 << 10));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("1T").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("2 weeks").is_err());
        assert!(parse_duration("").is_err());
        assert_eq!(parse_duration("8760h"), Ok(MAX_DURATION));
        for too_long in ["8761h", "10000000000000000000", "9".repeat(400).as_str()] {
            assert!(parse_duration(too_long).is_err(), "{too_long}");
        }
    }
}
