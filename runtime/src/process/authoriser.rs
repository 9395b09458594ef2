//! What a scheme may ask of the policy, and where every denial is recorded.
//!
//! Schemes never see [`Policy`]: a network scheme that must judge something after the open (an
//! HTTP request target, a redirect, the addresses a name resolved to) gets an [`Authoriser`] from
//! its [`crate::Process`]. Every denial, whichever scheme or ABI front-end meets it, goes to one
//! [`DenialLog`]: reported on the log in one format (`NAME: denied: …`, naming the flag that would
//! grant it) and counted in [`crate::Stats`], both bounded by [`crate::Limits::max_denials_recorded`].

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use url::Url;

use crate::policy::{shortened, Denial, Network};
use crate::scheme::{lock, Stdio};
use crate::{Error, Policy, Result};

/// A scheme's narrow view of the policy (see the module documentation). Only the network schemes
/// ask it anything.
#[derive(Clone)]
#[cfg_attr(not(feature = "net"), allow(dead_code))]
pub struct Authoriser {
    policy: Arc<Policy>,
    log: Arc<DenialLog>,
}

impl std::fmt::Debug for Authoriser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authoriser")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

#[cfg_attr(not(feature = "net"), allow(dead_code))]
impl Authoriser {
    pub(super) fn new(policy: Arc<Policy>, log: Arc<DenialLog>) -> Self {
        Authoriser { policy, log }
    }

    /// An authoriser for `policy` that belongs to no process (for unit tests of schemes).
    #[cfg(test)]
    pub(crate) fn detached(policy: Policy) -> Self {
        Authoriser::detached_shared(Arc::new(policy))
    }

    /// [`Authoriser::detached`] for a shared policy.
    #[cfg(test)]
    pub(crate) fn detached_shared(policy: Arc<Policy>) -> Self {
        let log = DenialLog::new("test", &Stdio::null(), usize::MAX);
        Authoriser::new(policy, Arc::new(log))
    }

    /// Checks a URL the scheme is about to use for the guest (an HTTP request target, a redirect):
    /// a denial is recorded and becomes the guest's [`Error::PermissionDenied`].
    pub fn url(&self, url: &Url) -> Result<()> {
        self.policy.check(url).map_err(|d| self.refuse(url, d))
    }

    /// Whether the host may connect to `addr`, which `url`'s host resolved to. The denial is not
    /// recorded here: a name may resolve to several addresses, and only when none is allowed is
    /// the open refused ([`Authoriser::refuse`]).
    pub fn address(&self, url: &Url, addr: IpAddr) -> std::result::Result<(), Denial> {
        self.policy.check_address(url, addr)
    }

    /// Records `denial` of `url` and turns it into the guest's error.
    pub fn refuse(&self, url: &Url, denial: Denial) -> Error {
        self.log.record(url.as_str(), &denial);
        denial.into()
    }

    /// Records a refusal the scheme itself decided (a request leaving the handle's origin, a
    /// redirect to another scheme) when `e` is one ([`Error::PermissionDenied`]); passes `e` on.
    pub fn refused(&self, url: &Url, e: Error) -> Error {
        if let Error::PermissionDenied(why) = &e {
            self.log.record(url.as_str(), why);
        }
        e
    }

    /// The network settings that come with the policy: timeouts, sizes, trusted CAs.
    pub fn network(&self) -> &Network {
        &self.policy.network
    }

    /// The policy's TLS client configuration (one per policy, built at first use).
    #[cfg(feature = "net")]
    pub fn tls_config(&self) -> Result<Arc<rustls::ClientConfig>> {
        self.policy.tls.get(&self.policy.network)
    }
}

/// Every denial of one process: reported and counted as it happens, drained into the process's
/// [`crate::Stats`] by [`crate::Process`] after each call.
pub(crate) struct DenialLog {
    /// The guest's name, for messages.
    name: String,
    /// Where denials are reported.
    stdio: Stdio,
    /// Denials reported and kept; later ones are only counted.
    max_recorded: AtomicUsize,
    /// Whether something was recorded since the last drain (a cheap test on every call).
    pending: AtomicBool,
    inner: Mutex<Recorded>,
}

#[derive(Default)]
struct Recorded {
    /// URLs denied since the last drain (bounded by `max_recorded` over the whole run).
    new: Vec<String>,
    /// Denials in all.
    total: u64,
}

impl DenialLog {
    pub(super) fn new(name: &str, stdio: &Stdio, max_recorded: usize) -> Self {
        DenialLog {
            name: name.to_owned(),
            stdio: stdio.clone(),
            max_recorded: AtomicUsize::new(max_recorded),
            pending: AtomicBool::new(false),
            inner: Mutex::new(Recorded::default()),
        }
    }

    pub(super) fn set_max_recorded(&self, max: usize) {
        self.max_recorded.store(max, Ordering::Relaxed);
    }

    /// Reports `denial` (of `url`) and counts it; past the bound it is only counted, and the first
    /// one past it says so once.
    pub(crate) fn record(&self, url: &str, denial: &dyn std::fmt::Display) {
        let max = self.max_recorded.load(Ordering::Relaxed) as u64;
        let mut recorded = lock(&self.inner);
        recorded.total += 1;
        if recorded.total <= max {
            self.stdio
                .diagnostic(&format!("{}: denied: {denial}", self.name));
            recorded.new.push(shortened(url).into_owned());
        } else if recorded.total == max + 1 {
            self.stdio.diagnostic(&format!(
                "{}: more than {max} denials: the rest are counted, not shown",
                self.name
            ));
        }
        self.pending.store(true, Ordering::Release);
    }

    /// Counts a denial without reporting it (a denied call repeated in a loop, such as
    /// `log_write` under `--deny log:`, is reported once).
    pub(crate) fn count(&self) {
        lock(&self.inner).total += 1;
        self.pending.store(true, Ordering::Release);
    }

    /// Moves what was recorded since the last drain into `denied` and returns the total so far, or
    /// `None` if nothing happened.
    pub(super) fn drain(&self, denied: &mut Vec<String>) -> Option<u64> {
        // A plain load first: the swap is a locked instruction, and this runs after every call.
        if !self.pending.load(Ordering::Relaxed) || !self.pending.swap(false, Ordering::Acquire) {
            return None;
        }
        let mut recorded = lock(&self.inner);
        denied.append(&mut recorded.new);
        Some(recorded.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_a_bounded_number() {
        let log = DenialLog::new("g", &Stdio::null(), 3);
        let denial = Policy::new()
            .check(&crate::normalize::normalize("file:///x").unwrap())
            .unwrap_err();
        let mut kept = Vec::new();
        for _ in 0..10 {
            log.record("file:///x", &denial);
        }
        log.count();
        assert_eq!(log.drain(&mut kept), Some(11));
        assert_eq!(kept.len(), 3);
        assert_eq!(log.drain(&mut kept), None);
    }
}
