//! Cancelling a run from another thread: [`Interrupt`], and how every blocking wait sees it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

/// The longest step of a wait that cannot be woken and so checks the flag between steps.
pub(crate) const WAIT_STEP: Duration = Duration::from_millis(10);

/// Something a blocked host call waits on that the trigger can wake (a socket to shut down).
pub(crate) trait Wake: Send + Sync {
    /// Ends every wait on this object at once; called once, from the triggering thread.
    fn wake(&self);
}

/// A handle that ends a run from any thread: clone it, pass it to [`Runtime::run_with`], call
/// [`Interrupt::trigger`]. The run then ends as [`Termination::Interrupted`].
///
/// Triggering an [`Interrupt`] ends the run it was given to, whatever the guest is doing:
///
/// - **Running guest code**: the engine checks the flag between fuel slices, which it sizes to last
///   about a millisecond, so the run ends within a few milliseconds, whether it runs its entry point
///   or its start function.
/// - **Sleeping** (`runtime_msleep`, WASI `poll_oneoff` waiting on clocks): the sleep waits on the
///   interrupt's condition variable, which the trigger notifies: it ends at once.
/// - **Blocked on the network**: every socket a run opens (`tcp:`, `tls:`) and every HTTP client
///   (`http:`, `https:`) registers a wake handle with the interrupt; the trigger shuts the sockets
///   down (and the HTTP client with its connections), which ends a blocked read or write at once.
///   Waits that have no socket yet are made in steps of at most 10 ms that check the flag: a name
///   lookup, and a TCP connect, `http:` exchanges' included (made non-blocking, on Linux;
///   elsewhere it waits at most the policy's connect timeout, also cut by the run's).
/// - **Reading stdin**: a stdin that can block (the host's own, a pipe; see
///   [`Stdio::stdin_fd`](crate::Stdio::stdin_fd)) is polled in steps of at most 10 ms that check
///   the flag, and read only once it has data. A stdin given as a plain reader is read directly,
///   so it should not block (an in-memory request body does not).
///
/// A host call cut short by the interrupt fails with
/// [`Error::Interrupted`](crate::Error::Interrupted) and the run ends as
/// [`Termination::Interrupted`] whatever the guest does with that error. The guest cannot observe
/// the trigger any other way, nor delay it.
///
/// [`Runtime::run_with`]: crate::Runtime::run_with
/// [`Termination::Interrupted`]: crate::Termination::Interrupted
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<Inner>);

#[derive(Default)]
struct Inner {
    triggered: AtomicBool,
    /// What to wake on a trigger. [`Interrupt::sleep`]ers wait on the condition variable with
    /// this lock; the flag is set before they are notified, under the lock.
    wakers: Mutex<Vec<Weak<dyn Wake>>>,
    wake: Condvar,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interrupt")
            .field("triggered", &self.triggered)
            .finish_non_exhaustive()
    }
}

impl Interrupt {
    /// A handle that has not been triggered.
    pub fn new() -> Self {
        Interrupt::default()
    }

    /// Asks every run using this handle (or a clone) to stop; runs started afterwards stop at once.
    pub fn trigger(&self) {
        let wakers = {
            let mut wakers = self.0.wakers.lock().unwrap_or_else(PoisonError::into_inner);
            self.0.triggered.store(true, Ordering::Relaxed);
            self.0.wake.notify_all();
            std::mem::take(&mut *wakers)
        };
        for waker in wakers.iter().filter_map(Weak::upgrade) {
            waker.wake();
        }
    }

    /// Registers `waker` to be woken by a trigger (at once if the trigger came already). The
    /// interrupt holds it weakly: dropping the object unregisters it.
    #[cfg_attr(not(feature = "net"), allow(dead_code))] // only sockets have wakers
    pub(crate) fn on_trigger(&self, waker: Weak<dyn Wake>) {
        let mut wakers = self.0.wakers.lock().unwrap_or_else(PoisonError::into_inner);
        if self.is_triggered() {
            drop(wakers);
            if let Some(waker) = waker.upgrade() {
                waker.wake();
            }
            return;
        }
        wakers.retain(|w| w.strong_count() > 0);
        wakers.push(waker);
    }

    /// An interrupt that is never triggered, for runs the embedder gave none: shared, so such a
    /// run allocates nothing for it. Only the engine's meter sees it (processes get `None`, so no
    /// waker is ever registered with it), and nothing in the crate triggers it.
    pub(crate) fn never() -> &'static Interrupt {
        static NEVER: std::sync::OnceLock<Interrupt> = std::sync::OnceLock::new();
        NEVER.get_or_init(Interrupt::new)
    }

    /// Whether [`Interrupt::trigger`] was called.
    pub fn is_triggered(&self) -> bool {
        self.0.triggered.load(Ordering::Relaxed)
    }

    /// Sleeps for `duration` or until triggered; `true` if it was triggered.
    pub(crate) fn sleep(&self, duration: Duration) -> bool {
        let until = Instant::now().checked_add(duration);
        let mut guard = self.0.wakers.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if self.is_triggered() {
                return true;
            }
            // A duration past the clock's range is as good as forever: wait in long steps.
            let left = until.map_or(Duration::from_secs(1 << 20), |u| {
                u.saturating_duration_since(Instant::now())
            });
            if left.is_zero() {
                return false;
            }
            guard = self
                .0
                .wake
                .wait_timeout(guard, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trigger_is_seen_by_every_clone_and_from_another_thread() {
        let interrupt = Interrupt::new();
        let seen = interrupt.clone();
        assert!(!seen.is_triggered());
        std::thread::spawn(move || interrupt.trigger())
            .join()
            .unwrap();
        assert!(seen.is_triggered());
    }

    #[test]
    fn a_trigger_wakes_a_sleeper() {
        let interrupt = Interrupt::new();
        let trigger = interrupt.clone();
        let sleeper = std::thread::spawn(move || interrupt.sleep(Duration::from_secs(3600)));
        trigger.trigger();
        assert!(sleeper.join().unwrap());
        assert!(!Interrupt::new().sleep(Duration::ZERO));
    }

    struct Flag(AtomicBool);

    impl Wake for Flag {
        fn wake(&self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }

    #[test]
    fn a_trigger_wakes_what_is_registered_and_still_alive() {
        let interrupt = Interrupt::new();
        let kept = Arc::new(Flag(AtomicBool::new(false)));
        let dropped = Arc::new(Flag(AtomicBool::new(false)));
        interrupt.on_trigger(Arc::downgrade(&kept) as Weak<dyn Wake>);
        interrupt.on_trigger(Arc::downgrade(&dropped) as Weak<dyn Wake>);
        drop(dropped);
        interrupt.trigger();
        assert!(kept.0.load(Ordering::Relaxed));
        // Registered after the trigger: woken at once.
        let late = Arc::new(Flag(AtomicBool::new(false)));
        interrupt.on_trigger(Arc::downgrade(&late) as Weak<dyn Wake>);
        assert!(late.0.load(Ordering::Relaxed));
    }
}
