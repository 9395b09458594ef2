//! The store's resource limiter: memory pages against the limit, tables and instances bounded.

use std::fmt;

use wasmi::ResourceLimiter;
use wasmi_core::LimiterError;

/// Bytes in a WebAssembly page.
const PAGE: usize = 65536;

/// Caps memory growth at the page limit, records the peak and every refused growth.
pub(crate) struct MemoryLimiter {
    max_pages: Option<u32>,
    pub(crate) peak_pages: u64,
    pub(crate) refused: Option<RefusedGrowth>,
    /// For the import check at compile time: refuse every memory and table, so that instantiation
    /// stops once the imports are linked and before anything is allocated.
    probe: bool,
}

impl MemoryLimiter {
    pub(crate) fn new(max_pages: Option<u32>) -> Self {
        MemoryLimiter {
            max_pages,
            peak_pages: 0,
            refused: None,
            probe: false,
        }
    }

    pub(crate) fn probe() -> Self {
        MemoryLimiter {
            probe: true,
            ..MemoryLimiter::new(Some(0))
        }
    }
}

/// `memory.grow` calls the page limit refused: the guest saw -1, as the WebAssembly spec and wasmtime
/// do, so a C `malloc` returns NULL and the program may recover; the user still learns of it here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusedGrowth {
    /// How many `memory.grow` calls were refused.
    pub count: u64,
    /// The largest size, in 64 KiB pages, the guest asked for.
    pub largest_request_pages: u64,
    /// The limit that refused them, in 64 KiB pages (`Limits::max_memory_pages`).
    pub limit_pages: u32,
}

impl fmt::Display for RefusedGrowth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let times = match self.count {
            1 => "once".to_string(),
            n => format!("{n} times"),
        };
        write!(
            f,
            "memory limit: memory.grow refused {times} (the guest asked for up to {} pages, \
             the limit is {})",
            self.largest_request_pages, self.limit_pages
        )
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool, LimiterError> {
        if self.probe {
            return Ok(false);
        }
        let pages = (desired / PAGE) as u64;
        if let Some(max) = self.max_pages {
            if pages > u64::from(max) {
                let refused = self.refused.get_or_insert(RefusedGrowth {
                    count: 0,
                    largest_request_pages: 0,
                    limit_pages: max,
                });
                refused.count += 1;
                refused.largest_request_pages = refused.largest_request_pages.max(pages);
                // `memory.grow` returns -1 (an initial memory past the limit fails instantiation).
                return Ok(false);
            }
        }
        self.peak_pages = self.peak_pages.max(pages);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool, LimiterError> {
        // Tables cost host memory too; cap them at a generous fixed size.
        Ok(!self.probe && desired <= 1 << 20)
    }

    fn instances(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        // Enough for any toolchain's output; bounded so a module cannot declare thousands.
        16
    }

    fn memories(&self) -> usize {
        1
    }
}
