//! Cancelling a run from another thread.
//!
//! The engine checks the flag between fuel slices, which it sizes to last about a millisecond, so a
//! triggered run ends within a few milliseconds, whether it runs its entry point or its start
//! function. The guest cannot observe or delay it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A handle that ends a run from any thread: clone it, pass it to [`Runtime::run_with`], call
/// [`Interrupt::trigger`]. The run then ends as [`Termination::Interrupted`].
///
/// [`Runtime::run_with`]: crate::Runtime::run_with
/// [`Termination::Interrupted`]: crate::Termination::Interrupted
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// A handle that has not been triggered.
    pub fn new() -> Self {
        Interrupt::default()
    }

    /// Asks every run using this handle (or a clone) to stop; runs started afterwards stop at once.
    pub fn trigger(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`Interrupt::trigger`] was called.
    pub fn is_triggered(&self) -> bool {
        self.0.load(Ordering::Relaxed)
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
}
