//! Schemes: the only code that touches the OS or the network.
//!
//! Each scheme is one file with one type implementing [`Resource`] and an `open` function. [`open`]
//! dispatches on the URL's scheme; it is called only by [`crate::Process::open`], after the policy check.

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
    /// The streams of the host process itself (what `tern run` uses). Its stdin can block, and is
    /// waited on as [`Stdio::stdin_fd`] says.
    pub fn inherit() -> Self {
        let stdio = Stdio::new(
            Box::new(std::io::stdin()),
            Box::new(std::io::stdout()),
            Box::new(std::io::stderr()),
            Box::new(std::io::stderr()),
        );
        // Read unbuffered, through a descriptor of its own: std's Stdin buffers, and data in its
        // buffer would not show on the descriptor polled. Without one (stdin closed), reads are
        // made directly.
        let own = std::io::stdin().as_fd().try_clone_to_owned();
        match own.map(std::fs::File::from) {
            Ok(file) => stdio.clone().stdin_fd(file).unwrap_or(stdio),
            Err(_) => stdio,
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

/// Whether the runtime has a scheme by this name (the policy decides whether the guest may use it).
pub fn is_known(scheme: &str) -> bool {
    use tern_abi::scheme as s;
    let network = matches!(scheme, s::HTTP | s::HTTPS | s::TCP | s::TLS | s::DNS);
    matches!(
        scheme,
        s::LOG | s::NULL | s::ZERO | s::RANDOM | s::FD | s::FILE
    ) || (network && cfg!(feature = "net"))
}

/// What a scheme's open gets from its process besides the URL (the network schemes use the most).
#[cfg_attr(not(feature = "net"), allow(dead_code))]
pub struct Context<'a> {
    /// The guest's streams and log.
    pub stdio: &'a Stdio,
    /// The process's narrow view of the policy.
    pub auth: &'a Authoriser,
    /// When the run ends, if it has a timeout.
    pub deadline: Option<Instant>,
    /// The run's interrupt, if the process is running: every blocking wait must end when it is
    /// triggered (see [`crate::Interrupt`]).
    pub interrupt: Option<&'a Interrupt>,
    /// The run's limits.
    pub limits: &'a Limits,
    /// The host memory all of the process's unsent HTTP requests may hold together.
    pub request_budget: &'a Arc<Budget>,
    /// The guest log bytes the process has left, shared by `log_write` and `log://` handles.
    pub log_budget: &'a Arc<Budget>,
    /// What the process's handles share.
    pub(crate) shared: &'a ProcessShared,
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

/// Opens a normalised, already-granted URL; network schemes check request targets, redirects and
/// each address through `auth`, and wait no longer than the network timeouts nor past `deadline`
/// (the run's end, if any).
pub fn open(url: &Url, cx: &Context<'_>) -> Result<Box<dyn Resource>> {
    use tern_abi::scheme as s;
    let stdio = cx.stdio;
    #[cfg(feature = "net")]
    let (auth, waits) = (
        cx.auth,
        net::Waits::new(cx.auth.network(), cx.deadline, cx.interrupt),
    );
    match url.scheme() {
        s::LOG => {
            let budget = Arc::clone(cx.log_budget);
            let log = log::open(url, stdio, cx.limits.max_log_line_bytes, budget);
            Ok(Box::new(log))
        }
        s::NULL => Ok(Box::new(null::Null)),
        s::ZERO => Ok(Box::new(zero::Zero)),
        s::RANDOM => Ok(Box::new(random::Random)),
        s::FD => stdio::open(url, stdio),
        // Process::open resolves file: URLs and opens them itself (file::open).
        #[cfg(feature = "net")]
        s::HTTP | s::HTTPS => {
            http::open(url, stdio, auth, waits, cx.request_budget, &cx.shared.http)
        }
        #[cfg(feature = "net")]
        s::TCP => tcp::open(url, stdio, auth, waits),
        #[cfg(feature = "net")]
        s::TLS => tls::open(url, stdio, auth, waits),
        #[cfg(feature = "net")]
        s::DNS => dns::open(url, stdio, waits),
        other => Err(Error::NotFound(format!("no scheme {other:?}"))),
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
