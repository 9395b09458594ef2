//! The streams between a request's connection (async) and its run (a worker thread): the request
//! body in as the guest's stdin, and the guest's stdout out as a CGI head and a streamed body.

use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::{Frame, SizeHint};
use hyper::StatusCode;
use tokio::sync::{mpsc, oneshot};

use crate::cgi::{self, Head};
use crate::invoke::{RunEnd, Stopper};
use crate::records::lock;

/// Body bytes are sent on once this many are buffered (or the guest flushes, or ends).
const CHUNK: usize = 16 * 1024;
/// The end of a stream may wait this long for room even past the run's deadline.
const LAST_SEND: Duration = Duration::from_secs(1);
/// A flush before the head has gone out waits this long into the run: the runtime flushes stdout when
/// a run ends, and a quick handler's response is better sent whole, with a Content-Length.
const FLUSH_AFTER: Duration = Duration::from_millis(20);

/// A chunk of a body, or why the body broke off.
pub type Chunk = Result<Bytes, io::Error>;

/// A response body: whole, or streamed from a run.
pub enum Body {
    /// All of it (or none).
    Full(Option<Bytes>),
    /// Chunks as the guest writes them.
    Channel(mpsc::Receiver<Chunk>),
}

impl Body {
    /// A body of `text`.
    pub fn text(text: impl Into<Bytes>) -> Self {
        Body::Full(Some(text.into()))
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            Body::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            Body::Channel(rx) => rx.poll_recv(cx).map(|c| c.map(|c| c.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(Some(d)) => SizeHint::with_exact(d.len() as u64),
            Body::Full(None) => SizeHint::with_exact(0),
            Body::Channel(_) => SizeHint::default(),
        }
    }
}

/// What a run answers, once: its head with the body, its head with a stream, or an error status.
pub enum Reply {
    /// The run ended with its whole response buffered.
    Complete(Head, Bytes),
    /// The head, and the body as the guest goes on writing it.
    Streaming(Head, mpsc::Receiver<Chunk>),
    /// No usable response: the status the server sends, and why.
    Error(StatusCode, String),
}

/// The guest's stdin: the request body as it arrives.
pub struct BodyReader {
    rx: Option<mpsc::Receiver<Chunk>>,
    current: Bytes,
    /// Body bytes the guest has read.
    pub read: Arc<crate::count::Count>,
}

impl BodyReader {
    /// A reader of the chunks `rx` gets; `None` is an empty body.
    pub fn new(rx: Option<mpsc::Receiver<Chunk>>) -> Self {
        BodyReader {
            rx,
            current: Bytes::new(),
            read: Arc::default(),
        }
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            let Some(rx) = self.rx.as_mut() else {
                return Ok(0);
            };
            match rx.blocking_recv() {
                None => {
                    self.rx = None;
                    return Ok(0);
                }
                Some(chunk) => self.current = chunk?,
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        self.read.fetch_add(n as u64);
        Ok(n)
    }
}

enum Phase {
    /// Reading the header block.
    Head,
    /// Head parsed; `pending` until it is sent.
    Body { pending: Option<Head> },
    /// The head went out and the stream was cut, or the output was refused: nothing more is taken.
    Failed,
}

struct OutputState {
    phase: Phase,
    buf: Vec<u8>,
    reply: Option<oneshot::Sender<Reply>>,
    tx: Option<mpsc::Sender<Chunk>>,
    status: Option<StatusCode>,
    failure: Option<String>,
    body_bytes: u64,
    max_body: u64,
    head_only: bool,
    /// A client that reads slower than the guest writes holds the run back no longer than this.
    deadline: Instant,
}

/// The guest's stdout: a CGI response parsed as it is written. Clones share one state.
#[derive(Clone)]
pub struct CgiOutput {
    state: Arc<Mutex<OutputState>>,
    client_gone: Arc<AtomicBool>,
    stopper: Stopper,
    created: Instant,
}

/// What a finished run answered: the status sent and, for a failure, why.
pub struct Answer {
    /// The status the client got (or would have got).
    pub status: StatusCode,
    /// Why the run's response was not the guest's own; empty when it was.
    pub detail: String,
    /// Body bytes the guest wrote.
    pub body_bytes: u64,
}

impl CgiOutput {
    /// An output answering on `reply`; `head_only` for HEAD requests (the body is discarded).
    pub fn new(
        reply: oneshot::Sender<Reply>,
        client_gone: Arc<AtomicBool>,
        max_body: u64,
        head_only: bool,
        timeout: Duration,
        stopper: Stopper,
    ) -> Self {
        CgiOutput {
            state: Arc::new(Mutex::new(OutputState {
                phase: Phase::Head,
                buf: Vec::new(),
                reply: Some(reply),
                tx: None,
                status: None,
                failure: None,
                body_bytes: 0,
                max_body,
                head_only,
                deadline: Instant::now() + timeout,
            })),
            client_gone,
            stopper,
            created: Instant::now(),
        }
    }

    /// Sends what is left and says how the response ended, given how the run ended.
    pub fn finish(&self, end: &RunEnd, request_too_large: bool) -> Answer {
        let mut s = lock(&self.state);
        let body_bytes = s.body_bytes;
        if let Some(reply) = s.reply.take() {
            let pending = match std::mem::replace(&mut s.phase, Phase::Failed) {
                Phase::Body { pending } => pending,
                _ => None,
            };
            let (answer, detail) = match (end, pending) {
                _ if request_too_large => (
                    Err(StatusCode::PAYLOAD_TOO_LARGE),
                    "request body larger than max-request-body".to_owned(),
                ),
                // A response the server refused (bad header block, too large) is the guest's fault
                // whatever it did next (a guest whose write failed often panics).
                _ if s.failure.is_some() => (
                    Err(StatusCode::BAD_GATEWAY),
                    s.failure.clone().unwrap_or_default(),
                ),
                (RunEnd::TimedOut(limit), _) => (
                    Err(StatusCode::GATEWAY_TIMEOUT),
                    format!("timeout: ran longer than {limit:?}"),
                ),
                (RunEnd::Trapped(_, reason), _) => (Err(StatusCode::INTERNAL_SERVER_ERROR), reason.clone()),
                (RunEnd::Interrupted, _) => (
                    Err(StatusCode::SERVICE_UNAVAILABLE),
                    "interrupted (the client went away, or the server is shutting down)".to_owned(),
                ),
                (RunEnd::Failed(reason), _) => (Err(StatusCode::INTERNAL_SERVER_ERROR), reason.clone()),
                (_, Some(head)) => (Ok(head), String::new()),
                (RunEnd::Exited(code), None) if *code != 0 => (
                    Err(StatusCode::INTERNAL_SERVER_ERROR),
                    format!("exited with status {code} before writing a CGI header block"),
                ),
                (RunEnd::Exited(_), None) => (
                    Err(StatusCode::BAD_GATEWAY),
                    s.failure.clone().unwrap_or_else(|| {
                        if s.buf.is_empty() {
                            "the handler wrote no CGI header block (expected header lines, a blank line, then the body)".into()
                        } else {
                            "the handler's output ended inside its CGI header block (no blank line after the headers)".into()
                        }
                    }),
                ),
            };
            let status = match answer {
                Ok(head) => {
                    let status = head.status;
                    let body = Bytes::from(std::mem::take(&mut s.buf));
                    let _ = reply.send(Reply::Complete(head, body));
                    status
                }
                Err(status) => {
                    let _ = reply.send(Reply::Error(status, detail.clone()));
                    status
                }
            };
            return Answer {
                status,
                detail,
                body_bytes,
            };
        }
        // The head went out: end the stream cleanly, or cut it so the client sees it incomplete.
        let status = s.status.unwrap_or(StatusCode::OK);
        let failure = s.failure.clone().or(match end {
            RunEnd::Exited(_) => None,
            RunEnd::TimedOut(limit) => Some(format!("timeout: ran longer than {limit:?}")),
            RunEnd::Trapped(_, r) | RunEnd::Failed(r) => Some(r.clone()),
            RunEnd::Interrupted => Some("interrupted".to_owned()),
        });
        if let Some(tx) = s.tx.take() {
            match &failure {
                None if !s.buf.is_empty() => {
                    let rest = Bytes::from(std::mem::take(&mut s.buf));
                    let _ = send_until(&tx, Ok(rest), s.deadline.max(Instant::now() + LAST_SEND));
                }
                None => {}
                Some(why) => {
                    let _ = send_until(
                        &tx,
                        Err(io::Error::other(why.clone())),
                        s.deadline.max(Instant::now() + LAST_SEND),
                    );
                }
            }
        }
        Answer {
            status,
            detail: failure.unwrap_or_default(),
            body_bytes,
        }
    }

    fn gone() -> io::Error {
        io::Error::new(io::ErrorKind::BrokenPipe, "the client went away")
    }
}

impl OutputState {
    fn fail(&mut self, why: String) -> io::Error {
        let error = io::Error::new(io::ErrorKind::InvalidData, why.clone());
        self.failure = Some(why);
        self.phase = Phase::Failed;
        error
    }

    /// Sends the head if it is pending, then the buffered body; a closed channel means the client left.
    fn push(&mut self, client_gone: &AtomicBool, stopper: &Stopper) -> io::Result<()> {
        let result = self.send_pending();
        if let Err(e) = &result {
            if e.kind() == io::ErrorKind::BrokenPipe {
                client_gone.store(true, Ordering::Relaxed);
                stopper.stop();
            }
        }
        result
    }

    fn send_pending(&mut self) -> io::Result<()> {
        if let Phase::Body { pending } = &mut self.phase {
            if let Some(head) = pending.take() {
                let (tx, rx) = mpsc::channel(8);
                let Some(reply) = self.reply.take() else {
                    return Err(io::Error::other("the response was already answered"));
                };
                if reply.send(Reply::Streaming(head, rx)).is_err() {
                    return Err(CgiOutput::gone());
                }
                self.tx = Some(tx);
            }
        }
        if let Some(tx) = &self.tx {
            if !self.buf.is_empty() {
                let chunk = Bytes::from(std::mem::take(&mut self.buf));
                send_until(tx, Ok(chunk), self.deadline)?;
            }
        }
        Ok(())
    }
}

/// Sends a chunk, waiting for room no later than `deadline` (the engine cannot stop a run blocked
/// in a host call, so the wait itself must end). Backpressure is rare; polling it costs little.
fn send_until(tx: &mpsc::Sender<Chunk>, chunk: Chunk, deadline: Instant) -> io::Result<()> {
    let mut chunk = chunk;
    let mut pause = Duration::from_micros(100);
    loop {
        match tx.try_send(chunk) {
            Ok(()) => return Ok(()),
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(CgiOutput::gone()),
            Err(mpsc::error::TrySendError::Full(back)) => chunk = back,
        }
        if Instant::now() >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client reads the response too slowly",
            ));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

impl Write for CgiOutput {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.client_gone.load(Ordering::Relaxed) {
            return Err(CgiOutput::gone());
        }
        let mut s = lock(&self.state);
        match s.phase {
            Phase::Failed => return Err(io::Error::other("the response was already cut off")),
            Phase::Head => {
                s.buf.extend_from_slice(data);
                let Some(end) = cgi::head_end(&s.buf) else {
                    if s.buf.len() > cgi::MAX_HEAD_BYTES {
                        return Err(s.fail(format!(
                            "the CGI header block is larger than {} bytes",
                            cgi::MAX_HEAD_BYTES
                        )));
                    }
                    return Ok(data.len());
                };
                if end > cgi::MAX_HEAD_BYTES {
                    return Err(s.fail("the CGI header block is too large".into()));
                }
                let head = match cgi::parse_head(&s.buf[..end]) {
                    Ok(head) => head,
                    Err(why) => return Err(s.fail(format!("invalid CGI header block: {why}"))),
                };
                s.status = Some(head.status);
                let rest = s.buf.split_off(end);
                s.buf = rest;
                s.phase = Phase::Body {
                    pending: Some(head),
                };
                let body = s.buf.len() as u64;
                s.body_bytes = body;
                if s.head_only {
                    s.buf.clear();
                }
            }
            Phase::Body { .. } => {
                s.body_bytes += data.len() as u64;
                if !s.head_only {
                    s.buf.extend_from_slice(data);
                }
            }
        }
        if s.body_bytes > s.max_body {
            let why = format!(
                "the response body is larger than max-response-body ({} bytes)",
                s.max_body
            );
            if let Some(tx) = s.tx.take() {
                let _ = send_until(
                    &tx,
                    Err(io::Error::other(why.clone())),
                    s.deadline.max(Instant::now() + LAST_SEND),
                );
            }
            s.buf.clear();
            return Err(s.fail(why));
        }
        if s.buf.len() >= CHUNK {
            s.push(&self.client_gone, &self.stopper)?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.client_gone.load(Ordering::Relaxed) {
            return Err(CgiOutput::gone());
        }
        let mut s = lock(&self.state);
        let head_sent = s.tx.is_some();
        if s.head_only || (!head_sent && self.created.elapsed() < FLUSH_AFTER) {
            return Ok(());
        }
        s.push(&self.client_gone, &self.stopper)
    }
}
