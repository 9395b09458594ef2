//! `GET /metrics`: Prometheus text format, with prometheus-client.
//!
//! The metric types name their storage: prometheus-client's defaults depend on the target (64-bit
//! counters only where the target has 64-bit atomics), and fuel counts pass 2^32 quickly.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::count::Count;
use crate::records::InvocationRecord;

/// A counter that does not wrap at 2^32 on 32-bit targets.
pub type Counter64 = Counter<u64, Count>;

/// A gauge of runs or queued requests: bounded by the worker count and queue depths, far below 2^31,
/// and an `AtomicI32` on every target.
pub type SmallGauge = Gauge<i32, std::sync::atomic::AtomicI32>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    handler: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandlerLabel {
    handler: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndLabels {
    handler: String,
    kind: String,
}

fn duration_histogram() -> Histogram {
    // 0.25 ms … about 8 s.
    Histogram::new(exponential_buckets(0.00025, 2.0, 16))
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter64>,
    duration: Family<HandlerLabel, Histogram, fn() -> Histogram>,
    queue_wait: Family<HandlerLabel, Histogram, fn() -> Histogram>,
    /// Runs in progress.
    pub in_flight: SmallGauge,
    queued: Family<HandlerLabel, SmallGauge>,
    rejected: Family<HandlerLabel, Counter64>,
    failures: Family<EndLabels, Counter64>,
    fuel: Family<HandlerLabel, Counter64>,
    denials: Family<HandlerLabel, Counter64>,
    /// Invocation records the control plane's record writer dropped (it counts them).
    #[cfg(feature = "control")]
    records_dropped: Counter64,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("tern");
        let m = Metrics {
            registry: Registry::default(),
            requests: Family::default(),
            duration: Family::new_with_constructor(duration_histogram),
            queue_wait: Family::new_with_constructor(duration_histogram),
            in_flight: SmallGauge::default(),
            queued: Family::default(),
            rejected: Family::default(),
            failures: Family::default(),
            fuel: Family::default(),
            denials: Family::default(),
            #[cfg(feature = "control")]
            records_dropped: Counter64::default(),
        };
        registry.register(
            "requests",
            "Requests that reached a handler, by status",
            m.requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Arrival to end of run",
            m.duration.clone(),
        );
        registry.register(
            "queue_wait_seconds",
            "Time waiting for a worker",
            m.queue_wait.clone(),
        );
        registry.register("in_flight", "Runs in progress", m.in_flight.clone());
        registry.register("queued", "Requests waiting for a worker", m.queued.clone());
        registry.register(
            "rejected",
            "Requests refused with 503 (queue full or queue timeout)",
            m.rejected.clone(),
        );
        registry.register(
            "failures",
            "Runs that trapped, timed out or answered badly, by kind",
            m.failures.clone(),
        );
        registry.register("fuel", "Fuel used by runs", m.fuel.clone());
        registry.register(
            "denials",
            "Capability requests the policy denied",
            m.denials.clone(),
        );
        #[cfg(feature = "control")]
        registry.register(
            "records_dropped",
            "Invocation records not stored: the record writer fell behind, or the store was \
             unavailable until the records waiting for it passed their bound",
            m.records_dropped.clone(),
        );
        Metrics { registry, ..m }
    }
}

impl Metrics {
    /// Counts one finished request.
    pub fn observe(&self, r: &InvocationRecord) {
        let handler = HandlerLabel {
            handler: r.handler.clone(),
        };
        self.requests
            .get_or_create(&RequestLabels {
                handler: r.handler.clone(),
                status: r.status,
            })
            .inc();
        self.duration
            .get_or_create(&handler)
            .observe(r.wall_ms / 1000.0);
        if r.end == "rejected" {
            self.rejected.get_or_create(&handler).inc();
        } else {
            self.queue_wait
                .get_or_create(&handler)
                .observe(r.queue_ms / 1000.0);
        }
        if !matches!(r.end.as_str(), "exited" | "rejected") {
            self.failures
                .get_or_create(&EndLabels {
                    handler: r.handler.clone(),
                    kind: r.end.clone(),
                })
                .inc();
        }
        self.fuel.get_or_create(&handler).inc_by(r.fuel);
        self.denials
            .get_or_create(&handler)
            .inc_by(r.denials.len() as u64);
    }

    /// Sets the queue length of a handler.
    pub fn set_queued(&self, handler: &str, n: usize) {
        self.queued
            .get_or_create(&HandlerLabel {
                handler: handler.to_owned(),
            })
            .set(i32::try_from(n).unwrap_or(i32::MAX));
    }

    /// The counter of dropped invocation records, for the control plane's record writer.
    #[cfg(feature = "control")]
    pub fn records_dropped(&self) -> &Counter64 {
        &self.records_dropped
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
