//! One guest instance's view of the world: handle table, arguments, environment, stdio, stats.
//!
//! [`Process::open`] is the only place a handle to the outside world is created: parse → normalise →
//! [`Policy::check`] → scheme. Every ABI front-end (CWA, Dagger, WASI) goes through it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::Arc;
use std::time::Instant;

use crate::normalize::normalize;
use crate::policy::{Access, Denial, DirectScheme};
use crate::scheme::{self, LogLevel, Resource, Schemes, Stdio};
use crate::{Error, Interrupt, Limits, Policy, Result};

mod authoriser;
#[cfg(feature = "wasi")]
mod fs;

pub use self::authoriser::Authoriser;
use self::authoriser::DenialLog;

/// [`Limits::max_log_bytes`] as a budget size.
fn log_bytes(limits: &Limits) -> usize {
    limits
        .max_log_bytes
        .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// Counters a run reports with `--stats`.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Calls the guest made into the host.
    pub host_calls: u64,
    /// URLs the policy denied, in order: the first [`Limits::max_denials_recorded`], each cut to
    /// 256 bytes.
    pub denied: Vec<String>,
    /// Denials in all, including those past the ones `denied` keeps.
    pub denials: u64,
    /// Handles opened (including ones closed since).
    pub opened: u64,
    /// Bytes the guest read through handles.
    pub bytes_read: u64,
    /// Bytes the guest wrote through handles.
    pub bytes_written: u64,
}

struct Entry {
    /// The normalised URL (static for the standard streams: a process starts without allocating
    /// for them).
    url: Cow<'static, str>,
    resource: scheme::Handle,
}

/// A guest's process state: what the ABI front-ends operate on.
pub struct Process {
    name: String,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    policy: Arc<Policy>,
    limits: Limits,
    stdio: Stdio,
    handles: Vec<Option<Entry>>,
    open_count: usize,
    /// When the run started; `None` before (reading the clock costs, and a process may never run).
    started: Option<Instant>,
    deadline: Option<Instant>,
    out_of_time: bool,
    /// The run's interrupt, once the engine runs the process: blocking host calls wait on it.
    interrupt: Option<Interrupt>,
    /// Whether a host call was cut short by the interrupt.
    interrupted: bool,
    /// Where every denial is reported and counted, shared with the schemes' [`Authoriser`]s.
    /// This and the two budgets are made when first needed: most runs need none of them, and a
    /// process should cost little to start.
    denial_log: Option<Arc<DenialLog>>,
    /// The host memory the guest's unsent HTTP requests may hold together.
    request_budget: Option<Arc<scheme::Budget>>,
    /// The guest log bytes left ([`Limits::max_log_bytes`]), shared with its `log://` handles.
    log_budget: Option<Arc<scheme::Budget>>,
    /// Bytes written to stdout and stderr, for [`Limits::max_stdout_bytes`] and `max_stderr_bytes`.
    output_written: [u64; 2],
    /// The schemes the guest can open (the policy still decides whether it may).
    schemes: Arc<Schemes>,
    /// What the process's handles share (the HTTP client).
    shared: scheme::ProcessShared,
    /// Whether a `log_write` under a denied `log:` was reported already.
    log_denial_reported: bool,
    /// Counters for `--stats`; front-ends count host calls here.
    pub stats: Stats,
}

impl Process {
    /// A process named `name` (for messages) with `args` (argument 0 is the program name), under
    /// `policy`'s grants and the default [`Limits`] (see [`Process::set_limits`]).
    pub fn new(
        name: impl Into<String>,
        args: Vec<String>,
        policy: Arc<Policy>,
        stdio: Stdio,
    ) -> Self {
        let handles = scheme::standard_streams(&stdio)
            .into_iter()
            .zip(["fd://0", "fd://1", "fd://2"])
            .map(|(resource, url)| {
                Some(Entry {
                    url: Cow::Borrowed(url),
                    resource,
                })
            })
            .collect();
        let name = name.into();
        let limits = Limits::default();
        Process {
            name,
            args,
            env: BTreeMap::new(),
            policy,
            limits,
            stdio,
            handles,
            open_count: 3,
            started: None,
            deadline: None,
            out_of_time: false,
            interrupt: None,
            interrupted: false,
            denial_log: None,
            request_budget: None,
            log_budget: None,
            output_written: [0; 2],
            log_denial_reported: false,
            shared: scheme::ProcessShared::default(),
            schemes: Schemes::builtin(),
            stats: Stats::default(),
        }
    }

    /// Sets the schemes the guest can open, tern's own and an embedder's (see [`Schemes`]); by
    /// default, tern's own.
    pub fn set_schemes(&mut self, schemes: Arc<Schemes>) {
        self.schemes = schemes;
    }

    /// Sets an environment variable the guest can read.
    pub fn set_env(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.env.insert(key.into(), value.into());
    }

    /// The guest's name, as used in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The guest's arguments; argument 0 is the program name.
    pub fn args(&self) -> &[String] {
        &self.args
    }

    /// The guest's environment.
    pub fn env(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    /// The policy this process runs under.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Sets the limits the run is held to.
    pub fn set_limits(&mut self, limits: Limits) {
        if let Some(log) = &self.denial_log {
            log.set_max_recorded(limits.max_denials_recorded);
        }
        if let Some(budget) = &self.request_budget {
            budget.set_max(limits.max_request_buffer_bytes);
        }
        if let Some(budget) = &self.log_budget {
            budget.set_max(log_bytes(&limits));
        }
        self.limits = limits;
    }

    /// The process's denial log, made at first use.
    fn denial_log(&mut self) -> &Arc<DenialLog> {
        let (name, stdio) = (&self.name, &self.stdio);
        let max = self.limits.max_denials_recorded;
        self.denial_log
            .get_or_insert_with(|| Arc::new(DenialLog::new(name, stdio, max)))
    }

    /// The budget of unsent HTTP request bytes, made at first use.
    fn request_budget(&mut self) -> Arc<scheme::Budget> {
        let max = self.limits.max_request_buffer_bytes;
        let budget = self
            .request_budget
            .get_or_insert_with(|| Arc::new(scheme::Budget::new(max)));
        Arc::clone(budget)
    }

    /// The budget of guest log bytes, made at first use.
    fn log_budget(&mut self) -> &Arc<scheme::Budget> {
        let max = log_bytes(&self.limits);
        self.log_budget
            .get_or_insert_with(|| Arc::new(scheme::Budget::new(max)))
    }

    /// The narrow view of the policy a scheme gets (see [`Authoriser`]).
    pub(crate) fn authoriser(&mut self) -> Authoriser {
        let log = Arc::clone(self.denial_log());
        Authoriser::new(Arc::clone(&self.policy), log)
    }

    /// Brings [`Stats::denied`] and [`Stats::denials`] up to date with what the schemes recorded.
    /// Called after every host operation, so it is one plain load when nothing was denied.
    fn sync_denials(&mut self) {
        if let Some(log) = &self.denial_log {
            if let Some(total) = log.drain(&mut self.stats.denied) {
                self.stats.denials = total;
            }
        }
    }

    /// The limits the run is held to.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The guest's stdio and log streams.
    pub fn stdio(&self) -> &Stdio {
        &self.stdio
    }

    /// When the run started, the origin of the guest's monotonic clock (before the run: now).
    pub fn started(&self) -> Instant {
        self.started.unwrap_or_else(Instant::now)
    }

    /// When the run must stop, if it has a timeout; host calls that block wait no longer than this.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Starts the run: the engine does, at `started`, with its deadline and its interrupt (if the
    /// embedder gave one).
    pub(crate) fn start(
        &mut self,
        started: Instant,
        deadline: Option<Instant>,
        interrupt: Option<Interrupt>,
    ) {
        self.started = Some(started);
        self.deadline = deadline;
        self.interrupt = interrupt;
    }

    /// Whether a host call gave up waiting because the run's deadline came: the run then ends as
    /// timed out, whatever the guest does with the error it got.
    pub fn ran_out_of_time(&self) -> bool {
        self.out_of_time
    }

    /// The run's interrupt, if the process is running.
    pub(crate) fn interrupt(&self) -> Option<&Interrupt> {
        self.interrupt.as_ref()
    }

    /// Whether a host call was cut short by the run's [`Interrupt`]: the run then ends as
    /// interrupted, whatever the guest does with the error it got.
    pub fn was_interrupted(&self) -> bool {
        self.interrupted
    }

    /// Passes the result of an operation that may have waited through, noting a timeout that came
    /// with the run's deadline; once the run's interrupt is triggered, the result is
    /// [`Error::Interrupted`] whatever it was (a socket shut down by the trigger reads as closed).
    fn note_wait<T>(&mut self, result: Result<T>) -> Result<T> {
        if self.interrupt.as_ref().is_some_and(Interrupt::is_triggered) {
            self.interrupted = true;
            return Err(Error::Interrupted);
        }
        if matches!(result, Err(Error::Timeout(_)))
            && self.deadline.is_some_and(|d| Instant::now() >= d)
        {
            self.out_of_time = true;
        }
        result
    }

    /// Writes a guest log line (`log_write`): the `log:` grant decides. Under a denial the line is
    /// dropped; the first one is reported, all are counted.
    pub fn log(&mut self, level: LogLevel, message: &[u8]) {
        let Some(denial) = self.policy.direct_denial(DirectScheme::Log) else {
            if self.log_budget().take(message.len()) {
                let max = self.limits.max_log_line_bytes;
                self.stdio.guest_log_line(level, message, max);
            }
            return;
        };
        if self.log_denial_reported {
            self.denial_log().count();
        } else {
            self.log_denial_reported = true;
            let denial = denial.clone();
            self.denial_log().record(denial.url.as_str(), &denial);
        }
        self.sync_denials();
    }

    /// Fills `buf` with random bytes for a direct call (`random_i32/i64/fill`, WASI `random_get`):
    /// the `random:` grant decides, as for `random://` handles.
    pub fn random_fill(&mut self, buf: &mut [u8]) -> Result<()> {
        if let Some(denial) = self.policy.direct_denial(DirectScheme::Random) {
            let denial = denial.clone();
            let url = url::Url::parse(&denial.url).map_err(|e| Error::invalid(e.to_string()))?;
            self.judged(&url, Err(denial))?;
        }
        scheme::random_fill(buf)
    }

    /// Opens a URL for the guest: the single capability choke point.
    pub fn open(&mut self, raw_url: &str) -> Result<i32> {
        let url = normalize(raw_url)?;
        self.check(&url)?;
        let file = if url.scheme() == tern_abi::scheme::FILE {
            Some(self.judge_file(&url)?)
        } else {
            None
        };
        let schemes = Arc::clone(&self.schemes);
        let Some(scheme) = schemes.get(url.scheme()) else {
            return Err(Error::NotFound(format!(
                "{url}: unknown scheme {:?}",
                url.scheme()
            )));
        };
        let max = self.limits.max_handles;
        if self.open_count >= max {
            return Err(Error::LimitExceeded(format!(
                "{url}: the guest already has {max} open handles"
            )));
        }
        let opened = match &file {
            Some((real, may_write)) => scheme::file::open(real, *may_write),
            None => {
                let auth = self.authoriser();
                let request_budget = self.request_budget();
                let log_budget = Arc::clone(self.log_budget());
                let cx = scheme::Context {
                    stdio: &self.stdio,
                    auth: &auth,
                    deadline: self.deadline,
                    interrupt: self.interrupt.as_ref(),
                    limits: &self.limits,
                    request_budget: &request_budget,
                    log_budget: &log_budget,
                    shared: &self.shared,
                };
                scheme.open(&url, &cx)
            }
        };
        self.sync_denials();
        let resource = self.note_wait(opened)?;
        self.insert(url.as_str(), resource)
    }

    /// Judges a `file:` URL already granted for reading: a mode that could change the file needs a
    /// read-write grant (file::Mode). The policy speaks of real paths, so the URL is judged, and
    /// opened, where its symlinks lead (dangling ones too): returns that real URL, and whether a
    /// handle opened without a mode may write (both names writable).
    fn judge_file(&mut self, url: &url::Url) -> Result<(url::Url, bool)> {
        let mode = scheme::file::Mode::of(url)?;
        let needed = if mode.writes() {
            Access::ReadWrite
        } else {
            Access::ReadOnly
        };
        if mode.writes() {
            self.check_access(url, needed)?;
        }
        let real = normalize(scheme::file::real_url(url)?.as_str())?;
        if real != *url {
            self.check_access(&real, needed)?;
        }
        let may_write =
            self.policy.check_write(url).is_ok() && self.policy.check_write(&real).is_ok();
        Ok((real, may_write))
    }

    /// Asks the policy about a normalised URL; a denial is reported on the log and counted.
    fn check(&mut self, url: &url::Url) -> Result<()> {
        self.check_access(url, Access::ReadOnly)
    }

    /// Asks the policy whether `url` may be used with `needed` access (reported and counted).
    fn check_access(&mut self, url: &url::Url, needed: Access) -> Result<()> {
        let verdict = match needed {
            Access::ReadOnly => self.policy.check(url),
            Access::ReadWrite => self.policy.check_write(url),
        };
        Ok(self.judged(url, verdict)?)
    }

    /// Reports and counts a denial, if `verdict` is one.
    fn judged(
        &mut self,
        url: &url::Url,
        verdict: std::result::Result<(), Denial>,
    ) -> std::result::Result<(), Denial> {
        if let Err(denial) = verdict {
            self.denial_log().record(url.as_str(), &denial);
            self.sync_denials();
            return Err(denial);
        }
        Ok(())
    }

    /// Puts an opened resource in the lowest free handle slot.
    fn insert(&mut self, url: &str, resource: Box<dyn Resource>) -> Result<i32> {
        let max = self.limits.max_handles;
        if self.open_count >= max {
            return Err(Error::LimitExceeded(format!(
                "{url}: the guest already has {max} open handles"
            )));
        }
        let entry = Entry {
            url: Cow::Owned(url.to_owned()),
            resource: scheme::Handle::Boxed(resource),
        };
        let slot = self.handles.iter().position(Option::is_none);
        let handle = match slot {
            Some(i) => {
                self.handles[i] = Some(entry);
                i
            }
            None => {
                self.handles.push(Some(entry));
                self.handles.len() - 1
            }
        };
        self.open_count += 1;
        self.stats.opened += 1;
        i32::try_from(handle).map_err(|_| Error::LimitExceeded("handle table full".into()))
    }

    fn entry(&mut self, handle: i32) -> Result<&mut Entry> {
        slot(&mut self.handles, handle)
    }

    /// The normalised URL a handle was opened with.
    pub fn url_of(&self, handle: i32) -> Option<&str> {
        let i = usize::try_from(handle).ok()?;
        self.handles.get(i)?.as_ref().map(|e| &*e.url)
    }

    /// The resource behind a handle, for front-ends that need more than the stream calls.
    pub fn resource(&mut self, handle: i32) -> Result<&mut dyn Resource> {
        Ok(&mut *self.entry(handle)?.resource)
    }

    /// Reads into `buf`; `Ok(0)` with a non-empty `buf` is the end of the stream.
    pub fn read(&mut self, handle: i32, buf: &mut [u8]) -> Result<usize> {
        let resource = &mut slot(&mut self.handles, handle)?.resource;
        let read = match resource.readable_fd() {
            // A stream that can block: wait for data where the interrupt and deadline are seen.
            Some(fd) if !buf.is_empty() => {
                scheme::wait_readable(fd, self.interrupt.as_ref(), self.deadline)
                    .and_then(|()| resource.read(buf))
            }
            _ => resource.read(buf),
        };
        self.sync_denials();
        let n = self.note_wait(read)?;
        self.stats.bytes_read += n as u64;
        Ok(n)
    }

    /// Writes `buf` and returns how many bytes were accepted.
    pub fn write(&mut self, handle: i32, buf: &[u8]) -> Result<usize> {
        let limited = self.output_limit(handle)?;
        let buf = match limited {
            Some((stream, 0)) if !buf.is_empty() => {
                let name = ["stdout", "stderr"][stream];
                return Err(Error::LimitExceeded(format!(
                    "the guest wrote all the {name} it may ({} bytes)",
                    self.output_written[stream]
                )));
            }
            Some((_, left)) => &buf[..buf.len().min(usize::try_from(left).unwrap_or(usize::MAX))],
            None => buf,
        };
        let written = self.entry(handle)?.resource.write(buf);
        self.sync_denials();
        let n = self.note_wait(written)?;
        self.stats.bytes_written += n as u64;
        if let Some((stream, _)) = limited {
            self.output_written[stream] += n as u64;
        }
        Ok(n)
    }

    /// For a handle on the guest's stdout or stderr under a byte limit: which of the two (0, 1)
    /// and how many bytes are left. `None` when no limit applies.
    fn output_limit(&mut self, handle: i32) -> Result<Option<(usize, u64)>> {
        let limits = [self.limits.max_stdout_bytes, self.limits.max_stderr_bytes];
        if limits == [None, None] {
            return Ok(None);
        }
        let stream = match &*self.entry(handle)?.url {
            "fd://1" => 0,
            "fd://2" => 1,
            _ => return Ok(None),
        };
        Ok(limits[stream].map(|max| (stream, max.saturating_sub(self.output_written[stream]))))
    }

    /// Flushes a handle.
    pub fn flush(&mut self, handle: i32) -> Result<()> {
        let flushed = self.entry(handle)?.resource.flush();
        self.sync_denials();
        self.note_wait(flushed)
    }

    /// Closes a handle; its number becomes free for the next open.
    pub fn close(&mut self, handle: i32) -> Result<()> {
        let mut entry = usize::try_from(handle)
            .ok()
            .and_then(|i| self.handles.get_mut(i))
            .and_then(Option::take)
            .ok_or_else(|| Error::invalid(format!("bad handle {handle}")))?;
        self.open_count -= 1;
        let closed = entry.resource.close();
        self.sync_denials();
        closed
    }

    /// Closes every handle, flushing what they buffer; called when the guest ends.
    pub fn close_all(&mut self) {
        for slot in &mut self.handles {
            if let Some(mut entry) = slot.take() {
                let _ = entry.resource.close();
            }
        }
        self.open_count = 0;
        // The HTTP client's pooled connections end with the run, not when the outcome is dropped.
        self.shared = scheme::ProcessShared::default();
        // Handles 1 and 2 share the guest's streams with the host: flush them even if closed above.
        let _ = scheme::lock(&self.stdio.stdout).flush();
        let _ = scheme::lock(&self.stdio.stderr).flush();
        self.sync_denials();
    }
}

/// The open handle `handle` in `handles`.
fn slot(handles: &mut [Option<Entry>], handle: i32) -> Result<&mut Entry> {
    usize::try_from(handle)
        .ok()
        .and_then(|i| handles.get_mut(i))
        .and_then(Option::as_mut)
        .ok_or_else(|| Error::invalid(format!("bad handle {handle}")))
}
