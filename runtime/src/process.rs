//! One guest instance's view of the world: handle table, arguments, environment, stdio, stats.
//!
//! [`Process::open`] is the only place a handle to the outside world is created: parse → normalise →
//! [`Policy::check`] → scheme. Every ABI front-end (CWA, Dagger, WASI) goes through it.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::Arc;
use std::time::Instant;

use crate::normalize::normalize;
use crate::policy::{Access, Denial};
use crate::scheme::{self, LogLevel, Resource, Stdio};
use crate::{Error, Limits, Policy, Result};

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
    url: Arc<str>,
    resource: Box<dyn Resource>,
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
    started: Instant,
    deadline: Option<Instant>,
    out_of_time: bool,
    /// Where every denial is reported and counted, shared with the schemes' [`Authoriser`]s.
    denial_log: Arc<DenialLog>,
    /// The host memory the guest's unsent HTTP requests may hold together.
    request_budget: Arc<scheme::Budget>,
    /// The guest log bytes left ([`Limits::max_log_bytes`]), shared with its `log://` handles.
    log_budget: Arc<scheme::Budget>,
    /// Bytes written to stdout and stderr, for [`Limits::max_stdout_bytes`] and `max_stderr_bytes`.
    output_written: [u64; 2],
    /// Whether the policy denies `random:` and `log:`, which direct calls (`random_*`, WASI
    /// `random_get`, `log_write`) use without a handle; decided once, the policy being fixed.
    random_denied: Option<Denial>,
    log_denied: Option<Denial>,
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
                    url: url.into(),
                    resource,
                })
            })
            .collect();
        let name = name.into();
        let limits = Limits::default();
        let denial_log = Arc::new(DenialLog::new(&name, &stdio, limits.max_denials_recorded));
        let default_denied = |raw: &str| {
            let url = normalize(raw).expect("a default scheme URL parses");
            policy.check(&url).err()
        };
        let request_budget = Arc::new(scheme::Budget::new(limits.max_request_buffer_bytes));
        let log_budget = Arc::new(scheme::Budget::new(log_bytes(&limits)));
        let random_denied = default_denied("random://");
        let log_denied = default_denied("log://");
        Process {
            name,
            args,
            env: BTreeMap::new(),
            policy,
            limits,
            stdio,
            handles,
            open_count: 3,
            started: Instant::now(),
            deadline: None,
            out_of_time: false,
            denial_log,
            request_budget,
            log_budget,
            output_written: [0; 2],
            random_denied,
            log_denied,
            log_denial_reported: false,
            stats: Stats::default(),
        }
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
        self.denial_log
            .set_max_recorded(limits.max_denials_recorded);
        self.request_budget.set_max(limits.max_request_buffer_bytes);
        self.log_budget.set_max(log_bytes(&limits));
        self.limits = limits;
    }

    /// The narrow view of the policy a scheme gets (see [`Authoriser`]).
    pub(crate) fn authoriser(&self) -> Authoriser {
        Authoriser::new(Arc::clone(&self.policy), Arc::clone(&self.denial_log))
    }

    /// Brings [`Stats::denied`] and [`Stats::denials`] up to date with what the schemes recorded.
    fn sync_denials(&mut self) {
        if let Some(total) = self.denial_log.drain(&mut self.stats.denied) {
            self.stats.denials = total;
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

    /// When the process was created (the origin of monotonic time).
    pub fn started(&self) -> Instant {
        self.started
    }

    /// When the run must stop, if it has a timeout; host calls that block wait no longer than this.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Sets the run's deadline: the engine does, when the run starts.
    pub(crate) fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// Whether a host call gave up waiting because the run's deadline came: the run then ends as
    /// timed out, whatever the guest does with the error it got.
    pub fn ran_out_of_time(&self) -> bool {
        self.out_of_time
    }

    /// Passes `result` through, noting a timeout that came with the run's deadline.
    fn note_deadline<T>(&mut self, result: Result<T>) -> Result<T> {
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
        let Some(denial) = &self.log_denied else {
            if self.log_budget.take(message.len()) {
                let max = self.limits.max_log_line_bytes;
                self.stdio.guest_log_line(level, message, max);
            }
            return;
        };
        if self.log_denial_reported {
            self.denial_log.count();
        } else {
            self.log_denial_reported = true;
            self.denial_log.record(denial.url.as_str(), denial);
        }
        self.sync_denials();
    }

    /// Fills `buf` with random bytes for a direct call (`random_i32/i64/fill`, WASI `random_get`):
    /// the `random:` grant decides, as for `random://` handles.
    pub fn random_fill(&mut self, buf: &mut [u8]) -> Result<()> {
        if let Some(denial) = self.random_denied.clone() {
            let url = url::Url::parse(&denial.url).map_err(|e| Error::invalid(e.to_string()))?;
            self.judged(&url, Err(denial.clone()))?;
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
        if !scheme::is_known(url.scheme()) {
            return Err(Error::NotFound(format!(
                "{url}: unknown scheme {:?}",
                url.scheme()
            )));
        }
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
                let cx = scheme::Context {
                    stdio: &self.stdio,
                    auth: &auth,
                    deadline: self.deadline,
                    limits: &self.limits,
                    request_budget: &self.request_budget,
                    log_budget: &self.log_budget,
                };
                scheme::open(&url, &cx)
            }
        };
        self.sync_denials();
        let resource = self.note_deadline(opened)?;
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
            self.denial_log.record(url.as_str(), &denial);
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
            url: url.into(),
            resource,
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
        usize::try_from(handle)
            .ok()
            .and_then(|i| self.handles.get_mut(i))
            .and_then(Option::as_mut)
            .ok_or_else(|| Error::invalid(format!("bad handle {handle}")))
    }

    /// The normalised URL a handle was opened with.
    pub fn url_of(&self, handle: i32) -> Option<&str> {
        let i = usize::try_from(handle).ok()?;
        self.handles.get(i)?.as_ref().map(|e| &*e.url)
    }

    /// The resource behind a handle, for front-ends that need more than the stream calls.
    pub fn resource(&mut self, handle: i32) -> Result<&mut dyn Resource> {
        Ok(self.entry(handle)?.resource.as_mut())
    }

    /// Reads into `buf`; `Ok(0)` with a non-empty `buf` is the end of the stream.
    pub fn read(&mut self, handle: i32, buf: &mut [u8]) -> Result<usize> {
        let read = self.entry(handle)?.resource.read(buf);
        self.sync_denials();
        let n = self.note_deadline(read)?;
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
        let n = self.note_deadline(written)?;
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
        self.note_deadline(flushed)
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
        // Handles 1 and 2 share the guest's streams with the host: flush them even if closed above.
        let _ = scheme::lock(&self.stdio.stdout).flush();
        let _ = scheme::lock(&self.stdio.stderr).flush();
        self.sync_denials();
    }
}
