//! One finding: saving its reproducer, and running a saved one again.

use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::campaign::Options;
use crate::exec::{self, Failure, Run};
use crate::sandbox::Sandbox;

/// How long past its own `--timeout` tern may take to end before the run counts as a hang: generous,
/// because CI machines are loaded and tern's watchdog allows itself a second.
const HANG_MARGIN: Duration = Duration::from_secs(5);

/// One run's host failure, with everything needed to reproduce it.
pub struct Finding<'a> {
    pub fuzzer: &'static str,
    pub seed: u64,
    /// Which of the run's findings this is (0 for the first).
    pub index: usize,
    pub kind: &'static str,
    pub detail: String,
    /// File name and contents of the module.
    pub module: (&'a str, &'a [u8]),
    /// The module as WebAssembly text, if it was made as text (saved as `guest.wat`).
    pub text: Option<&'a str>,
    pub args: &'a [OsString],
    /// Where the module was when it ran (replaced by the saved copy in the saved command).
    pub module_path: &'a Path,
    pub run: &'a Run,
    pub sandbox: Option<&'a Sandbox>,
    /// Whether stdin was an open, silent pipe.
    pub stdin_open: bool,
}

/// Runs tern with `args`, killing it `HANG_MARGIN` after its own timeout (see [`exec::run`] for
/// `stdin_open`).
pub fn launch(options: &Options, args: &[OsString], stdin_open: bool) -> Result<Run, String> {
    let kill_after = Duration::from_millis(options.timeout_ms) + HANG_MARGIN;
    let address_space = options.host_memory_mb.map(|mb| mb << 20);
    exec::run(&options.tern, args, kill_after, stdin_open, address_space)
        .map_err(|e| format!("cannot run {}: {e}", options.tern.display()))
}

/// Writes a finding's reproducer to `findings/<fuzzer>-<seed>-<kind>/`; returns that directory.
pub fn save(findings: &Path, tern: &Path, f: &Finding) -> Result<PathBuf, String> {
    let name = match f.index {
        0 => format!("{}-{}-{}", f.fuzzer, f.seed, f.kind),
        i => format!("{}-{}.{i}-{}", f.fuzzer, f.seed, f.kind),
    };
    let dir = findings.join(name);
    let io = |e: std::io::Error| format!("saving finding in {}: {e}", dir.display());
    fs::create_dir_all(&dir).map_err(io)?;
    let module = dir.join(f.module.0);
    fs::write(&module, f.module.1).map_err(io)?;
    if let Some(text) = f.text {
        fs::write(dir.join("guest.wat"), text).map_err(io)?;
    }
    // The saved command runs the saved module.
    let args: Vec<OsString> = f
        .args
        .iter()
        .map(|a| {
            if Path::new(a) == f.module_path {
                module.clone().into_os_string()
            } else {
                a.clone()
            }
        })
        .collect();
    let mut argv = Vec::new();
    for a in &args {
        argv.extend_from_slice(a.as_bytes());
        argv.push(0);
    }
    fs::write(dir.join("args"), argv).map_err(io)?;
    let shown: Vec<String> = args
        .iter()
        .map(|a| shell_word(&a.to_string_lossy()))
        .collect();
    let mut readme = format!(
        "{} fuzzer, seed {}: {}: {}\n\nreplay:   tern-fuzz replay --tern {tern} {dir}\n",
        f.fuzzer,
        f.seed,
        f.kind,
        f.detail,
        tern = tern.display(),
        dir = dir.display(),
    );
    if f.stdin_open {
        fs::write(dir.join("stdin-open"), "").map_err(io)?;
        readme.push_str("(stdin is an open pipe nobody writes to: `sleep 1000 | tern …`)\n");
    }
    if let Some(sandbox) = f.sandbox {
        readme.push_str(&format!(
            "minimize: tern-fuzz minimize --tern {} {}\n(replay rebuilds the sandbox tree the command needs)\n",
            tern.display(),
            dir.display()
        ));
        fs::write(dir.join("root"), sandbox.root.as_os_str().as_bytes()).map_err(io)?;
        fs::write(dir.join("token"), &sandbox.token).map_err(io)?;
    }
    readme.push_str(&format!(
        "command:  {} {}\n",
        tern.display(),
        shown.join(" ")
    ));
    fs::write(dir.join("README.txt"), readme).map_err(io)?;
    fs::write(dir.join("stdout"), &f.run.stdout).map_err(io)?;
    fs::write(dir.join("stderr"), &f.run.stderr).map_err(io)?;
    Ok(dir)
}

fn shell_word(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-=:".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The saved command's arguments.
pub fn saved_args(dir: &Path) -> Result<Vec<OsString>, String> {
    let bytes = fs::read(dir.join("args")).map_err(|e| format!("{}/args: {e}", dir.display()))?;
    Ok(bytes
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| OsString::from_vec(a.to_vec()))
        .collect())
}

/// The saved sandbox's root and token, for an ABI finding.
pub fn saved_sandbox(dir: &Path) -> Result<Option<(PathBuf, String)>, String> {
    match (fs::read(dir.join("root")), fs::read(dir.join("token"))) {
        (Ok(root), Ok(token)) => Ok(Some((
            PathBuf::from(OsString::from_vec(root)),
            String::from_utf8_lossy(&token).into_owned(),
        ))),
        _ => Ok(None),
    }
}

/// Runs `args` (in a fresh sandbox, if given) and returns the kinds of failure seen, with details.
pub fn check_detailed(
    options: &Options,
    args: &[OsString],
    sandbox: Option<(&Path, &str)>,
    stdin_open: bool,
) -> Result<(Run, Vec<Failure>), String> {
    let sandbox = sandbox
        .map(|(root, token)| Sandbox::create(root, token))
        .transpose()
        .map_err(|e| format!("sandbox: {e}"))?;
    let before = sandbox
        .as_ref()
        .map(|s| s.snapshot())
        .transpose()
        .map_err(|e| e.to_string())?;
    let run = launch(options, args, stdin_open)?;
    let mut found: Vec<Failure> = exec::host_failure(&run).into_iter().collect();
    if let (Some(sandbox), Some(before)) = (&sandbox, before) {
        let after = sandbox.snapshot().map_err(|e| e.to_string())?;
        found.extend(before.changes(&after).into_iter().map(|c| ("escape", c)));
        let seen = |b: &[u8]| String::from_utf8_lossy(b).contains(&sandbox.token);
        if seen(&run.stdout) || seen(&run.stderr) {
            found.push(("read-escape", "the token reached the output".into()));
        }
    }
    Ok((run, found))
}

/// The kinds of failure `args` shows now.
pub fn check(
    options: &Options,
    args: &[OsString],
    sandbox: Option<(&Path, &str)>,
    stdin_open: bool,
) -> Result<Vec<&'static str>, String> {
    Ok(check_detailed(options, args, sandbox, stdin_open)?
        .1
        .into_iter()
        .map(|(k, _)| k)
        .collect())
}

/// Runs a saved finding again (rebuilding its sandbox); returns how many failures it still shows.
pub fn replay(options: &Options) -> Result<usize, String> {
    let dir = options
        .replay
        .as_ref()
        .ok_or("replay needs a finding directory")?;
    let args = saved_args(dir)?;
    let sandbox = saved_sandbox(dir)?;
    let (run, found) = check_detailed(
        options,
        &args,
        sandbox.as_ref().map(|(r, t)| (r.as_path(), t.as_str())),
        dir.join("stdin-open").exists(),
    )?;
    println!("exit: {:?}, {:.2} s", run.status, run.elapsed.as_secs_f64());
    println!(
        "stderr (end): {}",
        exec::last_lines(&String::from_utf8_lossy(&run.stderr), 3)
    );
    if found.is_empty() {
        println!("no longer fails");
    }
    for (kind, detail) in &found {
        println!("FAILS: {kind}: {detail}");
    }
    Ok(found.len())
}
