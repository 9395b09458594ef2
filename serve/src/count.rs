//! A 64-bit counter shared between threads, on every target: std's `AtomicU64` where the target has
//! 64-bit atomics, a mutex around a `u64` where it does not (32-bit PowerPC; 32-bit ARM has them).
//!
//! The counters that use it must not wrap at 2^32: fuel used (one run can burn billions), body bytes
//! read (a body limit can exceed 4 GiB), the run number in run ids (unique for the server's life).
//! None is hot enough for an uncontended lock to matter: each is touched once per request or once per
//! read of a request body. It also stores prometheus-client's counters, whose default storage is
//! `AtomicU64` on 64-bit targets but `AtomicU32` (wrapping at 4 Gi) elsewhere.

/// A `u64` that threads add to and read; additions wrap, as `AtomicU64::fetch_add` does.
#[derive(Debug, Default)]
pub struct Count(Inner);

#[cfg(target_has_atomic = "64")]
type Inner = Native;
#[cfg(not(target_has_atomic = "64"))]
type Inner = Locked;

impl Count {
    /// A counter starting at `value`.
    pub fn new(value: u64) -> Self {
        Count(Inner::new(value))
    }

    /// Adds `n` and returns the value before.
    pub fn fetch_add(&self, n: u64) -> u64 {
        self.0.fetch_add(n)
    }

    /// The value now.
    pub fn load(&self) -> u64 {
        self.0.load()
    }
}

impl prometheus_client::metrics::counter::Atomic<u64> for Count {
    fn inc(&self) -> u64 {
        self.fetch_add(1)
    }

    fn inc_by(&self, v: u64) -> u64 {
        self.fetch_add(v)
    }

    fn get(&self) -> u64 {
        self.load()
    }
}

/// Relaxed ordering: a counter orders nothing else.
#[cfg(target_has_atomic = "64")]
#[derive(Debug, Default)]
struct Native(std::sync::atomic::AtomicU64);

#[cfg(target_has_atomic = "64")]
impl Native {
    fn new(value: u64) -> Self {
        Native(std::sync::atomic::AtomicU64::new(value))
    }

    fn fetch_add(&self, n: u64) -> u64 {
        self.0.fetch_add(n, std::sync::atomic::Ordering::Relaxed)
    }

    fn load(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// The fallback; compiled for tests on every target so the host's `cargo test` covers it.
#[cfg(any(test, not(target_has_atomic = "64")))]
#[derive(Debug, Default)]
struct Locked(std::sync::Mutex<u64>);

#[cfg(any(test, not(target_has_atomic = "64")))]
impl Locked {
    fn new(value: u64) -> Self {
        Locked(std::sync::Mutex::new(value))
    }

    fn fetch_add(&self, n: u64) -> u64 {
        // A panic cannot leave a u64 half-written: a poisoned lock still holds a whole value.
        let mut value = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let before = *value;
        *value = before.wrapping_add(n);
        before
    }

    fn load(&self) -> u64 {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_past_32_bits_and_wraps_at_64() {
        let count = Count::new(u64::from(u32::MAX));
        assert_eq!(count.fetch_add(2), u64::from(u32::MAX));
        assert_eq!(count.load(), u64::from(u32::MAX) + 2);
        let locked = Locked::new(u64::from(u32::MAX));
        assert_eq!(locked.fetch_add(2), u64::from(u32::MAX));
        assert_eq!(locked.load(), u64::from(u32::MAX) + 2);
        let locked = Locked::new(u64::MAX);
        assert_eq!(locked.fetch_add(3), u64::MAX);
        assert_eq!(locked.load(), 2);
    }

    #[test]
    fn locked_adds_from_many_threads() {
        let locked = std::sync::Arc::new(Locked::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let locked = locked.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        locked.fetch_add(1 << 32);
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(locked.load(), 4000 << 32);
    }
}
