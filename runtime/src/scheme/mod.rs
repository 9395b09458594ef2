//! Schemes: the only code that touches the OS or the network.
//!
//! Each scheme is one file with one type implementing [`Resource`] and an `open` function, put in
//! the registry of tern's own schemes ([`Schemes::new`]) beside any an embedder adds. A scheme is
//! opened only by [`crate::Process::open`], after the policy check.

use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use url::Url;

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::interrupt::{Interrupt, WAIT_STEP};
use crate::process::Authoriser;
use crate::{Error, Limits, Result};

#[cfg(feature = "wasi")]
pub mod dir;
#[cfg(feature = "net")]
mod dns;
pub mod file;
#[cfg(feature = "net")]
mod http;
mod log;
#[cfg(feature = "net")]
pub(crate) mod net;
mod null;
mod random;
mod resolve;
pub(crate) mod stdio;
#[cfg(feature = "net")]
mod tcp;
#[cfg(feature = "net")]
mod tls;
mod zero;

pub use self::log::LogLevel;

/// An open handle's behaviour: read, write, flush and close, each defaulting to "unsupported".
pub trait Resource: Send {
    /// Reads into `buf` and returns how many bytes were read; `Ok(0)` for a non-empty `buf` means the end.
    fn read(&mut self, _buf: &mut [u8]) -> Result<usize> {
        Err(Error::unsupported("this resource cannot be read"))
    }

    /// Writes from `buf` and returns how many bytes were accepted.
    fn write(&mut self, _buf: &[u8]) -> Result<usize> {
        Err(Error::unsupported("this resource cannot be written"))
    }

    /// Pushes buffered writes out.
    fn flush(&mut self) -> Result<()> {
        Ok(())
    }

    /// Releases the resource; called once, when the handle is closed or the process ends.
    fn close(&mut self) -> Result<()> {
        self.flush()
    }

    /// The directory or file behind the handle, for WASI's file-system calls; `None` for a stream.
    #[cfg(feature = "wasi")]
    #[doc(hidden)] // WASI's internals: the return type is not part of the library's surface
    fn node(&mut self) -> Option<dir::Node<'_>> {
        None
    }

    /// A descriptor that becomes readable when [`Resource::read`] has data, for a stream whose
    /// read can block: the process then waits for it in steps that see the run's interrupt and
    /// deadline, and reads only once it is readable. `None` (the default): the read is made at once.
    fn readable_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }
}

/// Waits until `fd` is readable (or at its end, or failed: the read that follows says which), in
/// steps of at most [`WAIT_STEP`]: fails with [`Error::Interrupted`] once `interrupt` is
/// triggered and with [`Error::Timeout`] once `deadline` passes.
pub(crate) fn wait_readable(
    fd: BorrowedFd<'_>,
    interrupt: Option<&Interrupt>,
    deadline: Option<Instant>,
) -> Result<()> {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    loop {
        if interrupt.is_some_and(Interrupt::is_triggered) {
            return Err(Error::Interrupted);
        }
        let step = match deadline.map(|d| d.saturating_duration_since(Instant::now())) {
            Some(left) if left.is_zero() => {
                return Err(Error::Timeout(
                    "the run's timeout came while reading".into(),
                ))
            }
            Some(left) => left.min(WAIT_STEP),
            None => WAIT_STEP,
        };
        let timeout = Timespec::try_from(step).ok();
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        match poll(&mut fds, timeout.as_ref()) {
            Ok(0) | Err(rustix::io::Errno::INTR) => continue,
            Ok(_) => return Ok(()),
            Err(e) => return Err(std::io::Error::from(e).into()),
        }
    }
}

/// A stream shared between handles (the guest's stdout is handle 1 and every `fd://1` it opens).
pub type Shared<T> = Arc<Mutex<T>>;

/// Locks a shared stream, recovering from a poisoned lock: a stream has no invariant a panic could break.
pub(crate) fn lock<T: ?Sized>(shared: &Mutex<T>) -> MutexGuard<'_, T> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The guest's standard streams and the host log, as the embedder provides them.
#[derive(Clone)]
pub struct Stdio {
    /// What the guest reads as stdin.
    pub stdin: Shared<Box<dyn Read + Send>>,
    /// Where the guest's stdout goes.
    pub stdout: Shared<Box<dyn Write + Send>>,
    /// Where the guest's stderr goes.
    pub stderr: Shared<Box<dyn Write + Send>>,
    /// Where guest log lines (`log_write`, `log://`) and the host's diagnostics about this guest go.
    pub log: Shared<Box<dyn Write + Send>>,
    /// A descriptor for `stdin` that polls readable when it has data, if it can block (see
    /// [`Stdio::stdin_fd`]).
    stdin_fd: Option<Arc<OwnedFd>>,
}

impl Stdio {
    /// The streams of the host process itself (what `tern run` uses). Its stdin, unless it is a
    /// regular file, can block, and is waited on as [`Stdio::stdin_fd`] says.
    pub fn inherit() -> Self {
        let stdio = Stdio::new(
            Box::new(std::io::stdin()),
            Box::new(std::io::stdout()),
            Box::new(std::io::stderr()),
            Box::new(std::io::stderr()),
        );
        // A stdin that can block is read unbuffered, through a descriptor of its own: std's Stdin
        // buffers, and data in its buffer would not show on the descriptor polled. A regular file
        // never blocks, and keeps std's buffered reads; so does a closed stdin.
        let own = std::io::stdin().as_fd().try_clone_to_owned();
        match own.map(std::fs::File::from) {
            Ok(file) if !file.metadata().is_ok_and(|m| m.is_file()) => {
                stdio.clone().stdin_fd(file).unwrap_or(stdio)
            }
            _ => stdio,
        }
    }

    /// Replaces stdin with a stream that can block — a pipe, a socket, a terminal — so that a
    /// guest waiting on it still sees the run's interrupt and timeout: a read first polls the
    /// descriptor in steps that check them, and reads once it has data (or is at its end).
    /// `stdin` must not buffer (a buffered reader could hold data the descriptor no longer shows).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let (reader, _writer) = std::io::pipe()?;
    /// let stdio = tern::Stdio::null().stdin_fd(reader)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn stdin_fd<R: Read + AsFd + Send + 'static>(self, stdin: R) -> std::io::Result<Self> {
        let fd = stdin.as_fd().try_clone_to_owned()?;
        let stdio = Stdio {
            stdin: Arc::new(Mutex::new(Box::new(stdin))),
            ..self
        };
        Ok(stdio.with_stdin_fd(fd))
    }

    fn with_stdin_fd(self, fd: OwnedFd) -> Self {
        Stdio {
            stdin_fd: Some(Arc::new(fd)),
            ..self
        }
    }

    /// Streams from the given reader and writers.
    pub fn new(
        stdin: Box<dyn Read + Send>,
        stdout: Box<dyn Write + Send>,
        stderr: Box<dyn Write + Send>,
        log: Box<dyn Write + Send>,
    ) -> Self {
        Stdio {
            stdin: Arc::new(Mutex::new(stdin)),
            stdout: Arc::new(Mutex::new(stdout)),
            stderr: Arc::new(Mutex::new(stderr)),
            log: Arc::new(Mutex::new(log)),
            stdin_fd: None,
        }
    }

    /// Streams that give the guest an empty stdin and discard everything it writes.
    pub fn null() -> Self {
        Stdio::new(
            Box::new(std::io::empty()),
            Box::new(std::io::sink()),
            Box::new(std::io::sink()),
            Box::new(std::io::sink()),
        )
    }

    /// Writes one line to the host log, ignoring failure: a closed log must not stop the guest.
    pub fn log_line(&self, level: LogLevel, prefix: Option<&str>, message: &[u8]) {
        log::write_line(&self.log, level, prefix, message, false);
    }

    /// [`Stdio::log_line`] for a guest's message, cut at `max` bytes (and marked so).
    pub(crate) fn guest_log_line(&self, level: LogLevel, message: &[u8], max: usize) {
        match message.get(..max) {
            Some(head) if message.len() > max => {
                log::write_line(&self.log, level, None, head, true)
            }
            _ => log::write_line(&self.log, level, None, message, false),
        }
    }

    /// Writes a host diagnostic (`tern: …`) to the log stream.
    pub fn diagnostic(&self, message: &str) {
        let mut out = lock(&self.log);
        let _ = writeln!(out, "tern: {message}");
        let _ = out.flush();
    }
}

/// An in-memory stream to hand a guest as stdout, stderr or log, and read back afterwards.
#[derive(Clone, Default)]
pub struct Capture(Shared<Vec<u8>>);

impl Capture {
    /// An empty capture.
    pub fn new() -> Self {
        Capture::default()
    }

    /// Everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        lock(&self.0).clone()
    }

    /// Everything written so far, as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.contents()).into_owned()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        lock(&self.0).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What a scheme's open gets from its process besides the URL (the network schemes use the most).
#[cfg_attr(not(feature = "net"), allow(dead_code))]
pub struct Context<'a> {
    /// The guest's streams and log.
    pub(crate) stdio: &'a Stdio,
    /// The process's narrow view of the policy.
    pub(crate) auth: &'a Authoriser,
    /// When the run ends, if it has a timeout.
    pub(crate) deadline: Option<Instant>,
    /// The run's interrupt, if the process is running: every blocking wait must end when it is
    /// triggered (see [`crate::Interrupt`]).
    pub(crate) interrupt: Option<&'a Interrupt>,
    /// The run's limits.
    pub(crate) limits: &'a Limits,
    /// The host memory all of the process's unsent HTTP requests may hold together.
    pub(crate) request_budget: &'a Arc<Budget>,
    /// The guest log bytes the process has left, shared by `log_write` and `log://` handles.
    pub(crate) log_budget: &'a Arc<Budget>,
    /// What the process's handles share.
    pub(crate) shared: &'a ProcessShared,
}

impl Context<'_> {
    /// The guest's standard streams and log (diagnostics about the guest go to its log).
    pub fn stdio(&self) -> &Stdio {
        self.stdio
    }

    /// The limits the run is held to.
    pub fn limits(&self) -> &Limits {
        self.limits
    }

    /// When the run must stop, if it has a timeout: a handle's operations should not wait past it.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Whether the run's [`Interrupt`] was triggered: a handle's operations that wait should give
    /// up, as tern's own do, when it is.
    pub fn interrupted(&self) -> bool {
        self.interrupt.is_some_and(Interrupt::is_triggered)
    }
}

/// A URL scheme a guest can open: one of tern's own or one an embedder adds ([`Schemes::add`]).
///
/// A process opens a URL with its scheme only once the policy has granted it, and hands the scheme
/// the URL in normalised form; a scheme never sees the policy.
pub trait Scheme: Send + Sync {
    /// Opens `url` (granted, normalised) for the guest and returns the handle's behaviour.
    fn open(&self, url: &Url, cx: &Context<'_>) -> Result<Box<dyn Resource>>;
}

/// One of tern's own schemes: its open function.
struct Builtin(fn(&Url, &Context<'_>) -> Result<Box<dyn Resource>>);

impl Scheme for Builtin {
    fn open(&self, url: &Url, cx: &Context<'_>) -> Result<Box<dyn Resource>> {
        (self.0)(url, cx)
    }
}

/// The schemes a process can open, by name: tern's own (`log`, `null`, `zero`, `random`, `fd`,
/// `file`, and with the `net` feature `http`, `https`, `tcp`, `tls`, `dns`) and any an embedder
/// adds. A process uses tern's own unless given others with
/// [`Process::set_schemes`](crate::Process::set_schemes); build a set once and share it.
///
/// Whether a guest may open a URL is still the policy's decision alone: an added scheme is
/// granted like any other (`--allow kv:`, [`Policy::allow`](crate::Policy::allow)), and a denial
/// of it is reported and counted like any other.
///
/// ```
/// use std::sync::Arc;
/// use tern::{Context, Error, Policy, Process, Resource, Scheme, Schemes, Stdio, Url};
///
/// /// `clock:` handles read the host's Unix time, in seconds, as text.
/// struct Clock;
/// struct ClockHandle(Vec<u8>);
///
/// impl Scheme for Clock {
///     fn open(&self, _url: &Url, _cx: &Context<'_>) -> tern::Result<Box<dyn Resource>> {
///         let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
///         let secs = now.map_err(|e| Error::Unknown(e.to_string()))?.as_secs();
///         Ok(Box::new(ClockHandle(secs.to_string().into_bytes())))
///     }
/// }
///
/// impl Resource for ClockHandle {
///     fn read(&mut self, buf: &mut [u8]) -> tern::Result<usize> {
///         let n = buf.len().min(self.0.len());
///         buf[..n].copy_from_slice(&self.0[..n]);
///         self.0.drain(..n);
///         Ok(n)
///     }
/// }
///
/// let mut schemes = Schemes::new();
/// schemes.add("clock", Clock)?;
/// let schemes = Arc::new(schemes); // built once, shared by every process
///
/// let mut policy = Policy::new();
/// policy.allow("clock:")?; // granted like any scheme
/// let mut process = Process::new("guest", vec![], Arc::new(policy), Stdio::null());
/// process.set_schemes(Arc::clone(&schemes));
/// let handle = process.open("clock://")?;
/// let mut text = [0u8; 20];
/// assert!(process.read(handle, &mut text)? > 0);
/// # Ok::<(), tern::Error>(())
/// ```
#[derive(Clone)]
pub struct Schemes {
    by_name: Vec<(String, Arc<dyn Scheme>)>,
}

impl Default for Schemes {
    fn default() -> Self {
        Schemes::new()
    }
}

impl std::fmt::Debug for Schemes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl Schemes {
    /// tern's own schemes.
    pub fn new() -> Self {
        use tern_abi::scheme as s;
        let local = [
            (s::LOG, Builtin(open_log)),
            (s::NULL, Builtin(|_, _| Ok(Box::new(null::Null)))),
            (s::ZERO, Builtin(|_, _| Ok(Box::new(zero::Zero)))),
            (s::RANDOM, Builtin(|_, _| Ok(Box::new(random::Random)))),
            (s::FD, Builtin(|url, cx| stdio::open(url, cx.stdio))),
            // Process::open resolves file: URLs and opens them itself (file::open), with the
            // access the policy granted; the entry says the scheme exists.
            (
                s::FILE,
                Builtin(|url, _| Err(Error::NotFound(format!("{url}: opened by the process")))),
            ),
        ];
        #[cfg(feature = "net")]
        let network = [
            (s::HTTP, Builtin(open_http)),
            (s::HTTPS, Builtin(open_http)),
            (
                s::TCP,
                Builtin(|url, cx| tcp::open(url, cx.stdio, cx.auth, waits(cx))),
            ),
            (
                s::TLS,
                Builtin(|url, cx| tls::open(url, cx.stdio, cx.auth, waits(cx))),
            ),
            (
                s::DNS,
                Builtin(|url, cx| dns::open(url, cx.stdio, waits(cx))),
            ),
        ];
        #[cfg(not(feature = "net"))]
        let network: [(&str, Builtin); 0] = [];
        let by_name = local
            .into_iter()
            .chain(network)
            .map(|(name, open)| (name.to_owned(), Arc::new(open) as Arc<dyn Scheme>))
            .collect();
        Schemes { by_name }
    }

    /// tern's own schemes, built once and shared by every process not given others.
    pub(crate) fn builtin() -> Arc<Schemes> {
        static BUILTIN: std::sync::OnceLock<Arc<Schemes>> = std::sync::OnceLock::new();
        Arc::clone(BUILTIN.get_or_init(|| Arc::new(Schemes::new())))
    }

    /// Adds `scheme` under `name` (a URL scheme: a lower-case letter, then lower-case letters,
    /// digits, `+`, `-` or `.`). A name already taken, tern's own included, is an
    /// [`Error::InvalidArgument`]: tern's schemes cannot be replaced.
    pub fn add(&mut self, name: &str, scheme: impl Scheme + 'static) -> Result<()> {
        let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
        if !valid {
            return Err(Error::invalid(format!(
                "{name:?} is not a URL scheme name (a lower-case letter, then lower-case \
                 letters, digits, +, - or .)"
            )));
        }
        if self.contains(name) {
            return Err(Error::invalid(format!("the scheme {name:?} is taken")));
        }
        self.by_name.push((name.to_owned(), Arc::new(scheme)));
        Ok(())
    }

    /// Whether there is a scheme by this name.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The names of the schemes, tern's own first.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.iter().map(|(name, _)| name.as_str())
    }

    /// The scheme named `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&dyn Scheme> {
        self.by_name
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, scheme)| scheme.as_ref())
    }
}

fn open_log(url: &Url, cx: &Context<'_>) -> Result<Box<dyn Resource>> {
    let budget = Arc::clone(cx.log_budget);
    let log = log::open(url, cx.stdio, cx.limits.max_log_line_bytes, budget);
    Ok(Box::new(log))
}

/// How long a network open and its handle may wait (see [`net::Waits`]).
#[cfg(feature = "net")]
fn waits(cx: &Context<'_>) -> net::Waits {
    net::Waits::new(cx.auth.network(), cx.deadline, cx.interrupt)
}

/// Opens `http:` and `https:` URLs with the process's one HTTP client.
#[cfg(feature = "net")]
fn open_http(url: &Url, cx: &Context<'_>) -> Result<Box<dyn Resource>> {
    let client = &cx.shared.http;
    http::open(url, cx.stdio, cx.auth, waits(cx), cx.request_budget, client)
}

/// What a process's handles of one scheme share, made at the first open that needs it.
#[derive(Default)]
pub(crate) struct ProcessShared {
    /// The HTTP client of every `http:` and `https:` handle.
    #[cfg(feature = "net")]
    http: std::sync::OnceLock<Arc<http::Client>>,
}

/// A number of bytes of host memory shared by a process's handles: taken as a buffer grows, given
/// back as it empties, so many handles cannot together hold more than one limit.
#[derive(Debug)]
#[cfg_attr(not(feature = "net"), allow(dead_code))]
pub struct Budget {
    max: AtomicUsize,
    used: AtomicUsize,
}

#[cfg_attr(not(feature = "net"), allow(dead_code))]
impl Budget {
    /// A budget of `max` bytes.
    pub fn new(max: usize) -> Self {
        Budget {
            max: AtomicUsize::new(max),
            used: AtomicUsize::new(0),
        }
    }

    /// Changes the limit (bytes already taken stay taken).
    pub fn set_max(&self, max: usize) {
        self.max.store(max, Ordering::Relaxed);
    }

    /// The limit.
    pub fn max(&self) -> usize {
        self.max.load(Ordering::Relaxed)
    }

    /// Bytes taken now.
    #[cfg(test)]
    fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Takes `n` bytes if they fit.
    pub fn take(&self, n: usize) -> bool {
        let max = self.max();
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|total| *total <= max)
            })
            .is_ok()
    }

    /// Gives back `n` bytes taken before.
    pub fn give(&self, n: usize) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                Some(used.saturating_sub(n))
            });
    }
}

/// Fills `buf` from the OS's cryptographic generator (what `random://` reads).
pub fn random_fill(buf: &mut [u8]) -> Result<()> {
    random::fill(buf)
}

/// Opens the guest's stdin, stdout and stderr: handles 0, 1 and 2 of every process.
pub fn standard_streams(stdio: &Stdio) -> [Handle; 3] {
    let (stdin, stdout, stderr) = stdio::streams(stdio);
    [
        Handle::Input(stdin),
        Handle::Output(stdout),
        Handle::Output(stderr),
    ]
}

/// An open resource in a process's handle table. The standard streams, which every process has,
/// are held inline: starting a process allocates nothing for them.
pub enum Handle {
    /// The guest's stdin.
    Input(stdio::Input),
    /// The guest's stdout or stderr.
    Output(stdio::Output),
    /// Any other resource.
    Boxed(Box<dyn Resource>),
}

impl std::ops::Deref for Handle {
    type Target = dyn Resource;

    fn deref(&self) -> &Self::Target {
        match self {
            Handle::Input(r) => r,
            Handle::Output(r) => r,
            Handle::Boxed(r) => r.as_ref(),
        }
    }
}

impl std::ops::DerefMut for Handle {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            Handle::Input(r) => r,
            Handle::Output(r) => r,
            Handle::Boxed(r) => r.as_mut(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Budget;

    #[test]
    fn a_budget_is_shared_and_bounded() {
        let budget = Budget::new(10);
        assert!(budget.take(6));
        assert!(!budget.take(5));
        assert!(budget.take(4));
        assert_eq!(budget.used(), 10);
        budget.give(6);
        assert!(budget.take(5));
        assert!(!budget.take(usize::MAX));
        budget.give(100);
        assert_eq!(budget.used(), 0);
    }
}
