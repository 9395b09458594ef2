//! One invocation of a handler on a worker thread: the run, its CGI answer and its figures. The HTTP
//! path ([`crate::http`]) and the control plane's invoke both run handlers through [`execute`].

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use hyper::StatusCode;
use tokio::sync::oneshot;

use crate::invoke::{self, RunEnd, RunStats, RunStreams, Stopper};
use crate::records::{InvocationRecord, LogCapture};
use crate::registry::Handler;
use crate::server::State;
use crate::stream::{CgiOutput, Reply};

/// What one run needs.
pub struct Invocation {
    /// The handler (its module, permissions and limits).
    pub handler: Arc<Handler>,
    /// The environment: the handler's own variables, then the CGI ones.
    pub env: Vec<(String, String)>,
    /// The request body.
    pub stdin: Box<dyn Read + Send>,
    /// Where the answer goes, once: head and body, or an error status.
    pub reply: oneshot::Sender<Reply>,
    /// Set when the client went away (the run is then skipped or stopped).
    pub client_gone: Arc<AtomicBool>,
    /// Ends the run early.
    pub stopper: Stopper,
    /// A HEAD request: the body is discarded.
    pub head_only: bool,
    /// Set when the request body grew past the handler's limit (the answer is then 413).
    pub request_too_large: Arc<AtomicBool>,
}

/// What a run produced.
pub struct Ran {
    /// How the guest ended.
    pub end: RunEnd,
    /// Its figures.
    pub stats: RunStats,
    /// The status the client got (or would have got).
    pub status: StatusCode,
    /// Why the answer was not the guest's own; empty when it was.
    pub detail: String,
    /// Response body bytes the guest wrote.
    pub bytes_out: u64,
    /// The guest's stderr and log lines (bounded).
    pub log: String,
}

impl Ran {
    /// How it ended, as invocation records and metrics name it.
    pub fn end_kind(&self) -> &'static str {
        match self.status {
            StatusCode::BAD_GATEWAY => "bad-response",
            StatusCode::PAYLOAD_TOO_LARGE => "rejected",
            _ if !self.detail.is_empty() && self.end == RunEnd::Exited(0) => "bad-response",
            _ => self.end.kind(),
        }
    }

    /// Fills a record's outcome fields.
    pub fn fill(self, record: &mut InvocationRecord) {
        record.status = self.status.as_u16();
        record.end = self.end_kind().into();
        record.fuel = self.stats.fuel;
        record.peak_memory_pages = self.stats.peak_memory_pages;
        record.host_calls = self.stats.host_calls;
        record.denials = self.stats.denials;
        record.bytes_out = self.bytes_out;
        record.detail = self.detail;
        record.log = self.log;
    }
}

/// Runs one invocation on this (worker) thread; `run_id` registers it for shutdown's interrupts.
pub fn execute(state: &State, run_id: &str, inv: Invocation) -> Ran {
    let limits = &inv.handler.spec.limits;
    state.metrics.in_flight.inc();
    state.run_started(run_id, &inv.stopper);
    let output = CgiOutput::new(
        inv.reply,
        inv.client_gone.clone(),
        limits.max_response_body,
        inv.head_only,
        limits.timeout,
        inv.stopper.clone(),
    );
    let log = LogCapture::default();
    // A client that left while its request waited in the queue gets no run at all.
    let (end, stats) = if inv.client_gone.load(Ordering::Relaxed) {
        (RunEnd::Interrupted, RunStats::default())
    } else {
        invoke::run(
            state.registry.engine(),
            &inv.handler.module,
            &inv.handler.permissions,
            &inv.handler.spec.name,
            inv.env,
            RunStreams {
                stdin: inv.stdin,
                stdout: Box::new(output.clone()),
                log: log.clone(),
            },
            &inv.stopper,
        )
    };
    let answer = output.finish(&end, inv.request_too_large.load(Ordering::Relaxed));
    state.metrics.in_flight.dec();
    state.run_ended(run_id);
    Ran {
        end,
        stats,
        status: answer.status,
        detail: answer.detail,
        bytes_out: answer.body_bytes,
        log: log.text(),
    }
}
