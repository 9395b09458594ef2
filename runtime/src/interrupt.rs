//! Cancelling a run from another thread.
//!
//! The engine checks the flag between fuel slices, which it sizes to last about a millisecond, so a
//! triggered run ends within a few milliseconds, whether it runs its entry point or its start
//! function; a guest sleeping in `runtime_msleep` is woken at once. The guest cannot observe or
//! delay it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A handle that ends a run from any thread: clone it, pass it to [`Runtime::run_with`], call
/// [`Interrupt::trigger`]. The run then ends as [`Termination::Interrupted`].
///
/// [`Runtime::run_with`]: crate::Runtime::run_with
/// [`Termination::Interrupted`]: crate::Termination::Interrupted
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    triggered: AtomicBool,
    /// Wakes [`Interrupt::sleep`]ers; the flag is set before it is notified, under the lock.
    lock: Mutex<()>,
    wake: Condvar,
}

impl Interrupt {
    /// A handle that has not been triggered.
    pub fn new() -> Self {
        Interrupt::default()
    }

    /// Asks every run using this handle (or a clone) to stop; runs started afterwards stop at once.
    pub fn trigger(&self) {
        let _guard = self.0.lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.0.triggered.store(true, Ordering::Relaxed);
        self.0.wake.notify_all();
    }

    /// Whether [`Interrupt::trigger`] was called.
    pub fn is_triggered(&self) -> bool {
        self.0.triggered.load(Ordering::Relaxed)
    }

    /// Sleeps for `duration` or until triggered; `true` if it was triggered.
    pub(crate) fn sleep(&self, duration: Duration) -> bool {
        let until = Instant::now().checked_add(duration);
        let mut guard = self.0.lock.lock().unwrap_or_else(PoisonError::into_inner);
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
}
