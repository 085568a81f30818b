//! The HTTP server's front door, built so that slow or abusive clients cannot wear a node down:
//! an accept loop with a cap on open connections, per-connection timeouts, a timeout on every
//! handler, the open-files limit fitted to the cap, and graceful shutdown.
//!
//! What each connection may cost, and for how long ([`ServerLimits`]):
//!
//! - **Cap**: at most `max_connections` are open at once. One over the cap is accepted, sent a
//!   short `503` and closed at once, and counted (`nacos_raft_http_connections_refused_total`):
//!   the listening socket's backlog never fills with connections nobody serves.
//! - **Head**: a new connection must deliver its first request head within `header_timeout`;
//!   on a kept-alive connection the head must be complete `header_timeout` after its first byte.
//!   The deadline is not moved by progress, so a client sending a byte a second gains nothing.
//! - **Idle**: between two requests a kept-alive connection may wait `idle_timeout`.
//! - **Write**: an answer the client does not read (no byte taken for `idle_timeout`) closes
//!   the connection, as Tomcat's write timeout does.
//! - **Handler**: a request whose handler (body read included) has not finished within
//!   `handler_timeout` is answered `503` and its connection closed.
//! - **Memory**: a request head may take at most [`MAX_BUF`] bytes (431 beyond), and hyper keeps
//!   a connection's read buffer near that size (8 KiB for an idle or half-open connection);
//!   bodies are capped by `--max-body-bytes`.
//!
//! hyper's own `header_read_timeout` cannot do this alone: its timer starts whenever the
//! connection waits for a head, keep-alive waits included (hyper `proto/h1/conn.rs`,
//! `poll_read_head`), so it cannot tell a slow head from an idle connection. [`Guarded`] tracks
//! the phase itself, from what the [`ConnService`] tells it (a request in progress or not), and
//! hyper's timer is set to the sum of both as a backstop.
//!
//! Long-lived streams (the event viewers of `/nacos-raft/v1/events`) are connections like any
//! other and so count against the cap. A handler that keeps its answer open should also hold a
//! [`StreamPermit`] from [`Gate::try_stream`] (the [`Gate`] is in every request's extensions:
//! `axum::Extension<conn::Gate>`), which keeps such streams to half the cap so that viewers can
//! never take the slots the protocol's own requests need.

use crate::codec::JSON_UTF8;
use crate::metrics::{HttpMetrics, TimeoutPhase};
use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// Default `--header-timeout-ms`: the `connectionTimeout` of the `server.xml` Tomcat ships
/// (20 s). Nacos 1.4.1's embedded Tomcat (Spring Boot 2.1, `server.connection-timeout` unset)
/// runs with Tomcat's built-in 60 s; a request head is a few hundred bytes, so the tighter value
/// costs a real client nothing.
pub const DEFAULT_HEADER_TIMEOUT_MS: u64 = 20_000;
/// Default `--idle-timeout-ms`: Tomcat's `keepAliveTimeout`, which defaults to its
/// `connectionTimeout`.
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 20_000;
/// Default `--handler-timeout-ms`: Tomcat's `asyncTimeout` (30 s), and twice the longest a
/// legitimate request can take: a write forwarded by a follower waits at most the peer
/// client's 5 s connect + 10 s answer timeouts, which cover the leader's publish timeout (5 s).
pub const DEFAULT_HANDLER_TIMEOUT_MS: u64 = 30_000;
/// Default `--max-connections`: `server.tomcat.max-connections` of Spring Boot 2.1 (10,000).
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Descriptors kept for everything but inbound connections: the listener, peer connections,
/// data files being written (up to 16 at once), the runtime's own.
pub const FD_RESERVE: u64 = 256;
/// Largest request head, and the read buffer size hyper keeps a connection near (Tomcat refuses
/// heads over 8 KiB, so no Java peer sends more).
pub const MAX_BUF: usize = 64 * 1024;

/// Length of the queue of connections the kernel has completed but the node not yet accepted.
/// Tomcat's `acceptCount` is 100 and std's listeners use 128; a burst beyond the queue has its
/// SYNs dropped and retried a second later or more, so a longer queue lets a burst be served or
/// refused at once instead (Linux caps it at `net.core.somaxconn`, 4096 by default).
pub const BACKLOG: u32 = 1024;

/// What a refused connection reads before it is closed.
const REFUSED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n\
content-length: 25\r\nconnection: close\r\n\r\ntoo many open connections";

/// The server's limits (`--header-timeout-ms`, `--idle-timeout-ms`, `--handler-timeout-ms`,
/// `--max-connections`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// Time allowed for a request head (see the module doc).
    pub header_timeout: Duration,
    /// Keep-alive wait between requests, and the write stall allowed.
    pub idle_timeout: Duration,
    /// Time allowed for a handler, body read included.
    pub handler_timeout: Duration,
    /// Cap on open connections (before fitting it to the open-files limit).
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_timeout: Duration::from_millis(DEFAULT_HEADER_TIMEOUT_MS),
            idle_timeout: Duration::from_millis(DEFAULT_IDLE_TIMEOUT_MS),
            handler_timeout: Duration::from_millis(DEFAULT_HANDLER_TIMEOUT_MS),
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// The connection cap, shared by the accept loop and the handlers (through the request
/// extensions). Cheap to clone.
#[derive(Clone)]
pub struct Gate {
    slots: Arc<Semaphore>,
    streams: Arc<Semaphore>,
    cap: usize,
    metrics: HttpMetrics,
}

impl Gate {
    /// A gate of `cap` connections (at least 1), reported in `metrics`.
    pub fn new(cap: usize, metrics: HttpMetrics) -> Gate {
        let cap = cap.max(1);
        metrics.max.set(cap as i64);
        Gate {
            slots: Arc::new(Semaphore::new(cap)),
            streams: Arc::new(Semaphore::new((cap / 2).max(1))),
            cap,
            metrics,
        }
    }

    /// The cap in force.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.cap - self.slots.available_permits()
    }

    /// A slot for a new connection, or `None` (counted as refused) when the cap is reached.
    fn try_admit(&self) -> Option<Slot> {
        match self.slots.clone().try_acquire_owned() {
            Ok(permit) => {
                self.metrics.open.inc();
                self.metrics.accepted.inc();
                Some(Slot {
                    _permit: permit,
                    open: self.metrics.open.clone(),
                })
            }
            Err(_) => {
                self.metrics.refused.inc();
                None
            }
        }
    }

    /// For a handler whose answer stays open (an event stream): a permit to hold for as long
    /// as the stream lives, or `None` (counted) when half the cap is already taken by streams;
    /// the handler should then answer 503. The stream's connection already holds a slot of the
    /// cap; this only stops streams from crowding out everything else.
    pub fn try_stream(&self) -> Option<StreamPermit> {
        match self.streams.clone().try_acquire_owned() {
            Ok(permit) => {
                self.metrics.streams_open.inc();
                Some(StreamPermit {
                    _permit: permit,
                    open: self.metrics.streams_open.clone(),
                })
            }
            Err(_) => {
                self.metrics.streams_refused.inc();
                None
            }
        }
    }
}

/// One connection's slot of the cap; dropped when the connection ends.
struct Slot {
    _permit: OwnedSemaphorePermit,
    open: Gauge,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.open.dec();
    }
}

/// A long-lived stream's share of the cap (see [`Gate::try_stream`]); drop it with the stream.
pub struct StreamPermit {
    _permit: OwnedSemaphorePermit,
    open: Gauge,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        self.open.dec();
    }
}

/// The open-files limit, and the connection cap that fits in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenFiles {
    /// Soft limit found at start-up.
    pub before: u64,
    /// Soft limit after raising it towards the hard limit.
    pub soft: u64,
    /// Hard limit.
    pub hard: u64,
}

/// Raises the soft open-files limit to the hard limit (logged when it changes) and returns the
/// connection cap that fits: `max_connections` when the limit has room for it plus
/// [`FD_RESERVE`], otherwise less, with one warning line. Past the limit `accept` would fail
/// and, worse, so would opening data files, which stops the node (exit 74).
pub fn fit_open_files(max_connections: usize) -> usize {
    let limits = match raise_open_files() {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!("cannot read the open-files limit ({e}); assuming it fits");
            return max_connections;
        }
    };
    if limits.soft > limits.before {
        tracing::info!(
            from = limits.before,
            to = limits.soft,
            "raised the open-files limit to the hard limit"
        );
    }
    let cap = connection_cap(max_connections, limits.soft);
    if cap < max_connections {
        tracing::warn!(
            "the open-files limit {} (hard {}) is below the {} that --max-connections {} needs; \
             serving at most {} connections (raise `ulimit -n` or lower --max-connections)",
            limits.soft,
            limits.hard,
            max_connections as u64 + FD_RESERVE,
            max_connections,
            cap
        );
    }
    cap
}

/// The soft limit raised to the hard one (left as it was, with a warning, if that fails).
fn raise_open_files() -> io::Result<OpenFiles> {
    let (before, hard) = rlimit::Resource::NOFILE.get()?;
    let soft = rlimit::increase_nofile_limit(u64::MAX).unwrap_or_else(|e| {
        tracing::warn!("cannot raise the open-files limit from {before} to {hard}: {e}");
        before
    });
    Ok(OpenFiles { before, soft, hard })
}

/// The connection cap that leaves [`FD_RESERVE`] descriptors of `open_files` for the rest
/// (half of them when the limit is tiny).
pub fn connection_cap(max_connections: usize, open_files: u64) -> usize {
    let room = if open_files > 2 * FD_RESERVE {
        open_files - FD_RESERVE
    } else {
        open_files / 2
    };
    max_connections
        .min(usize::try_from(room).unwrap_or(usize::MAX))
        .max(1)
}

/// The listening socket of `addr` (`HOST:PORT`, the first address it resolves to that binds),
/// with a queue of [`BACKLOG`].
pub fn bind(addr: &str) -> io::Result<TcpListener> {
    let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address to bind");
    for a in std::net::ToSocketAddrs::to_socket_addrs(addr)? {
        let socket = if a.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        // As std's listeners do: a restarted node can bind while old connections linger.
        socket.set_reuseaddr(true)?;
        match socket.bind(a).and_then(|()| socket.listen(BACKLOG)) {
            Ok(l) => return Ok(l),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open requests finish (for
/// at most `limits.handler_timeout`) and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    gate: Gate,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    // hyper's header timer only backs up [`Guarded`]'s deadlines, which all come earlier. It is
    // still needed: with it set, hyper polls the socket as soon as an answer is done (hyper
    // `proto/h1/conn.rs`, `idle`), and that poll is what arms the idle deadline; without it an
    // idle connection is not polled again until the client sends something.
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout + limits.idle_timeout)
        .max_buf_size(MAX_BUF)
        .max_header_size(MAX_BUF)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let metrics = gate.metrics.clone();
    let timeouts = TimeoutCounters::new(&metrics);
    let mut refusals = RateLimitedLog::default();
    let mut accept_errors = RateLimitedLog::default();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            a = listener.accept() => a,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                metrics.accept_errors.inc();
                if let Some(n) = accept_errors.tick() {
                    tracing::warn!(count = n, "accepting a connection failed: {e}");
                }
                // EMFILE and the like leave the connection in the backlog: retrying at once
                // would spin.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(slot) = gate.try_admit() else {
            // Best effort, never blocking: a fresh socket's send buffer is empty. What the
            // client already sent is read first, so that the close is a FIN after the answer
            // rather than a reset that may discard it.
            let mut sink = [0u8; 2048];
            let _ = stream.try_read(&mut sink);
            let _ = stream.try_write(REFUSED);
            if let Some(n) = refusals.tick() {
                tracing::warn!(
                    open = gate.open(),
                    refused = n,
                    "--max-connections reached: refusing new connections"
                );
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = Arc::new(Shared::default());
        let io = Guarded::new(stream, shared.clone(), limits, timeouts.clone());
        let service = ConnService {
            app: app.clone(),
            shared,
            gate: gate.clone(),
            handler_timeout: limits.handler_timeout,
            timeouts: metrics.handler_timeouts.clone(),
        };
        let conn = graceful.watch(http.serve_connection(TokioIo::new(io), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection ended: {e}");
            }
            drop(slot);
        });
    }
    drop(listener);
    let open = graceful.count();
    if open > 0 {
        tracing::info!(open, "waiting for open requests to finish");
    }
    if tokio::time::timeout(limits.handler_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still busy at shutdown; closing them");
    }
}

/// Logs the first event and then at most one line every 10 s with the count since.
#[derive(Default)]
struct RateLimitedLog {
    last: Option<Instant>,
    since: u64,
}

impl RateLimitedLog {
    /// `Some(events since the last line)` when a line is due.
    fn tick(&mut self) -> Option<u64> {
        self.since += 1;
        let now = Instant::now();
        match self.last {
            Some(t) if now.duration_since(t) < Duration::from_secs(10) => None,
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.since))
            }
        }
    }
}

/// What the service tells the connection's I/O: whether a request is in progress, and how many
/// answers are done (a new count starts a new keep-alive wait).
#[derive(Default)]
struct Shared {
    busy: AtomicBool,
    done: AtomicU64,
}

/// Marks the request finished when dropped: held by the answer's body, which hyper drops once
/// it has taken the last byte (or the connection is gone).
struct Done(Arc<Shared>);

impl Drop for Done {
    fn drop(&mut self) {
        self.0.done.fetch_add(1, Ordering::Relaxed);
        self.0.busy.store(false, Ordering::Relaxed);
    }
}

/// The per-connection service: the router, with the [`Gate`] in the request extensions, the
/// handler timeout, and the busy marking [`Guarded`] reads.
#[derive(Clone)]
struct ConnService {
    app: Router,
    shared: Arc<Shared>,
    gate: Gate,
    handler_timeout: Duration,
    timeouts: Counter,
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        self.shared.busy.store(true, Ordering::Relaxed);
        let done = Done(self.shared.clone());
        req.extensions_mut().insert(self.gate.clone());
        let mut app = self.app.clone();
        let fut = tower_service::Service::call(&mut app, req);
        let (limit, timeouts) = (self.handler_timeout, self.timeouts.clone());
        Box::pin(async move {
            let resp = match tokio::time::timeout(limit, fut).await {
                Ok(Ok(resp)) => resp,
                Ok(Err(never)) => match never {},
                Err(_) => {
                    timeouts.inc();
                    timed_out(limit)
                }
            };
            let (parts, body) = resp.into_parts();
            Ok(Response::from_parts(
                parts,
                Body::new(Tracked { body, _done: done }),
            ))
        })
    }
}

/// An answer's body that holds the [`Done`] guard, so that the request counts as finished once
/// hyper drops it; length and end are passed through (answers keep their `Content-Length`).
struct Tracked {
    body: Body,
    _done: Done,
}

impl hyper::body::Body for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// The answer to a request whose handler did not finish in time; the connection is closed after
/// it, since its request body may be half read.
fn timed_out(limit: Duration) -> Response<Body> {
    let mut r = Response::new(Body::from(format!(
        "caused: the request did not finish within {} ms;",
        limit.as_millis()
    )));
    *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// The three timeout counters, looked up once.
#[derive(Clone)]
struct TimeoutCounters {
    head: Counter,
    idle: Counter,
    write: Counter,
}

impl TimeoutCounters {
    fn new(m: &HttpMetrics) -> TimeoutCounters {
        TimeoutCounters {
            head: m.timeout(TimeoutPhase::Head),
            idle: m.timeout(TimeoutPhase::Idle),
            write: m.timeout(TimeoutPhase::Write),
        }
    }

    fn count(&self, phase: TimeoutPhase) {
        let c = match phase {
            TimeoutPhase::Head => &self.head,
            TimeoutPhase::Idle => &self.idle,
            TimeoutPhase::Write => &self.write,
        };
        c.inc();
    }
}

/// A connection's socket with the head, idle and write deadlines of the module doc. Between
/// requests (no request in progress) a read that waits past the deadline fails with
/// `TimedOut`, which ends the connection; during a request reads are left alone (the handler
/// timeout bounds them). A write that makes no progress for `idle_timeout` fails the same way.
struct Guarded {
    io: TcpStream,
    shared: Arc<Shared>,
    limits: ServerLimits,
    timeouts: TimeoutCounters,
    /// `done` count last seen: a change means an answer finished and a new wait began.
    seen_done: u64,
    /// Start of the current wait for a head.
    wait_start: Instant,
    /// No answer yet on this connection (its first head gets `header_timeout` from accept).
    fresh: bool,
    /// When the first byte of the awaited head arrived.
    first_byte: Option<Instant>,
    read_timer: Option<Pin<Box<Sleep>>>,
    /// Since when writes make no progress.
    stalled: Option<Instant>,
    write_timer: Option<Pin<Box<Sleep>>>,
}

impl Guarded {
    fn new(
        io: TcpStream,
        shared: Arc<Shared>,
        limits: ServerLimits,
        timeouts: TimeoutCounters,
    ) -> Guarded {
        Guarded {
            io,
            shared,
            limits,
            timeouts,
            seen_done: 0,
            wait_start: Instant::now(),
            fresh: true,
            first_byte: None,
            read_timer: None,
            stalled: None,
            write_timer: None,
        }
    }

    /// The deadline of the current wait for a head, and what it guards.
    fn read_deadline(&self) -> (Instant, TimeoutPhase) {
        // A new connection gets `header_timeout` from accept for its first head, as Tomcat's
        // connectionTimeout; a kept-alive one `idle_timeout` for the first byte, then
        // `header_timeout` for the rest.
        match (self.fresh, self.first_byte) {
            (true, _) => (
                self.wait_start + self.limits.header_timeout,
                TimeoutPhase::Head,
            ),
            (false, Some(t)) => (t + self.limits.header_timeout, TimeoutPhase::Head),
            (false, None) => (
                self.wait_start + self.limits.idle_timeout,
                TimeoutPhase::Idle,
            ),
        }
    }

    /// A write's outcome, failed with `TimedOut` once the client has taken nothing for
    /// `idle_timeout`.
    fn write_result(
        &mut self,
        r: Poll<io::Result<usize>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        match r {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.stalled = None;
                }
                Poll::Ready(Ok(n))
            }
            Poll::Pending => {
                let since = *self.stalled.get_or_insert_with(Instant::now);
                if expired(&mut self.write_timer, since + self.limits.idle_timeout, cx) {
                    self.timeouts.count(TimeoutPhase::Write);
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client takes none of the answer",
                    )));
                }
                Poll::Pending
            }
            other => other,
        }
    }
}

/// Whether `deadline` has passed; otherwise arms `timer` (created on first use) to wake the
/// task at `deadline`.
fn expired(timer: &mut Option<Pin<Box<Sleep>>>, deadline: Instant, cx: &mut Context<'_>) -> bool {
    if Instant::now() >= deadline {
        return true;
    }
    let t = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
    if t.deadline() != deadline {
        t.as_mut().reset(deadline);
    }
    t.as_mut().poll(cx).is_ready()
}

impl AsyncRead for Guarded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.io).poll_read(cx, buf);
        if this.shared.busy.load(Ordering::Relaxed) {
            return r;
        }
        let done = this.shared.done.load(Ordering::Relaxed);
        if done != this.seen_done {
            this.seen_done = done;
            this.fresh = false;
            this.first_byte = None;
            this.wait_start = Instant::now();
        }
        match r {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before && this.first_byte.is_none() {
                    this.first_byte = Some(Instant::now());
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => {
                let (deadline, phase) = this.read_deadline();
                if expired(&mut this.read_timer, deadline, cx) {
                    this.timeouts.count(phase);
                    let what = match phase {
                        TimeoutPhase::Idle => "no request within the idle timeout",
                        _ => "no complete request head within the header timeout",
                    };
                    return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, what)));
                }
                Poll::Pending
            }
            err => err,
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_write(cx, buf);
        this.write_result(r, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.write_result(r, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const T: Duration = Duration::from_millis(400);

    /// A server on a free loopback port with every timeout `T` (handler `2 T`) and a cap of
    /// `cap`: `/ok` answers at once, `/slow` after 10 s, `/big` with 32 MiB, `/gate` with the
    /// cap the handler sees. Returns its address, metrics, the shutdown trigger and the task.
    async fn server(
        cap: usize,
    ) -> (
        String,
        HttpMetrics,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
    ) {
        let app = Router::new()
            .route("/ok", get(|| async { "ok" }))
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    "late"
                }),
            )
            .route("/big", get(|| async { vec![b'x'; 32 << 20] }))
            .route(
                "/pause",
                get(|| async {
                    tokio::time::sleep(T).await;
                    "done"
                }),
            )
            .route(
                "/gate",
                get(|axum::Extension(g): axum::Extension<Gate>| async move {
                    format!("{} of {}", g.open(), g.cap())
                }),
            );
        let listener = bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let metrics = HttpMetrics::default();
        let limits = ServerLimits {
            header_timeout: T,
            idle_timeout: T,
            handler_timeout: 2 * T,
            max_connections: cap,
        };
        let gate = Gate::new(cap, metrics.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, app, limits, gate, async {
            let _ = stopped.await;
        }));
        (addr, metrics, stop, task)
    }

    /// Everything the server sends until it closes (at most 10 s), and when it closed.
    async fn until_closed(s: &mut TcpStream, start: Instant) -> (String, Duration) {
        let mut got = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut got)).await;
        (String::from_utf8_lossy(&got).into_owned(), start.elapsed())
    }

    fn within(took: Duration, limit: Duration) -> bool {
        took >= limit - Duration::from_millis(50) && took < limit + Duration::from_secs(3)
    }

    #[tokio::test]
    async fn a_half_sent_head_is_cut_at_the_header_timeout() {
        let (addr, m, _stop, _task) = server(10).await;
        let start = Instant::now();
        let mut s = TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET /ok HTTP/1.1\r\nHo").await.unwrap();
        let (got, took) = until_closed(&mut s, start).await;
        assert!(got.is_empty() && within(took, T), "{got:?} {took:?}");
        assert_eq!(m.timeout(TimeoutPhase::Head).get(), 1);
    }

    #[tokio::test]
    async fn a_head_over_the_cap_is_refused_with_431() {
        let (addr, _m, _stop, _task) = server(10).await;
        for (size, status) in [(MAX_BUF - 1024, "200"), (MAX_BUF + 1024, "431")] {
            let mut s = TcpStream::connect(&addr).await.unwrap();
            let head = format!(
                "GET /ok HTTP/1.1\r\nHost: x\r\nx-big: {}\r\n\r\n",
                "a".repeat(size)
            );
            let _ = s.write_all(head.as_bytes()).await;
            let mut buf = [0u8; 64];
            let n = s.read(&mut buf).await.unwrap_or(0);
            let got = String::from_utf8_lossy(&buf[..n]);
            assert!(
                got.starts_with(&format!("HTTP/1.1 {status}")),
                "{size}: {got}"
            );
        }
    }

    #[tokio::test]
    async fn a_head_sent_a_byte_at_a_time_gains_nothing() {
        let (addr, m, _stop, _task) = server(10).await;
        let start = Instant::now();
        let mut s = TcpStream::connect(&addr).await.unwrap();
        for b in b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n" {
            if s.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(T / 8).await;
        }
        let (got, took) = until_closed(&mut s, start).await;
        assert!(!got.contains("200 OK"), "{got:?}");
        assert!(took < T + Duration::from_secs(3), "{took:?}");
        assert_eq!(m.timeout(TimeoutPhase::Head).get(), 1);
    }

    #[tokio::test]
    async fn a_kept_alive_connection_is_closed_when_idle_and_answers_before() {
        let (addr, m, _stop, _task) = server(10).await;
        let mut s = TcpStream::connect(&addr).await.unwrap();
        // Two requests in a row, each after most of the idle timeout: both answered.
        for _ in 0..2 {
            tokio::time::sleep(T * 3 / 4).await;
            s.write_all(b"GET /gate HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .unwrap();
            let mut buf = [0u8; 512];
            let n = s.read(&mut buf).await.unwrap();
            let text = String::from_utf8_lossy(&buf[..n]);
            assert!(
                text.contains("200 OK") && text.ends_with("1 of 10"),
                "{text}"
            );
        }
        let start = Instant::now();
        let (got, took) = until_closed(&mut s, start).await;
        assert!(got.is_empty() && within(took, T), "{got:?} {took:?}");
        assert_eq!(m.timeout(TimeoutPhase::Idle).get(), 1);
        assert_eq!(m.timeout(TimeoutPhase::Head).get(), 0);
    }

    #[tokio::test]
    async fn an_answer_nobody_reads_is_dropped_at_the_idle_timeout() {
        let (addr, m, _stop, _task) = server(10).await;
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.set_recv_buffer_size(4096).unwrap();
        let mut s = sock.connect(addr.parse().unwrap()).await.unwrap();
        s.write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        assert!(wait(Duration::from_secs(5), || m.open.get() == 1).await);
        // Read nothing: the kernel buffers fill and the 32 MiB answer stalls.
        let start = Instant::now();
        let closed = wait(Duration::from_secs(10), || m.open.get() == 0).await;
        assert!(
            closed && within(start.elapsed(), T),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(m.timeout(TimeoutPhase::Write).get(), 1);
    }

    #[tokio::test]
    async fn a_handler_that_does_not_finish_answers_503_and_closes() {
        let (addr, m, _stop, _task) = server(10).await;
        let start = Instant::now();
        let mut s = TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let (got, took) = until_closed(&mut s, start).await;
        assert!(got.starts_with("HTTP/1.1 503"), "{got}");
        assert!(got.contains("connection: close"), "{got}");
        assert!(got.ends_with("caused: the request did not finish within 800 ms;"));
        assert!(within(took, 2 * T), "{took:?}");
        assert_eq!(m.handler_timeouts.get(), 1);
        // A body that never comes is bounded the same way.
        let start = Instant::now();
        let mut s = TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"POST /ok HTTP/1.1\r\nHost: x\r\ncontent-length: 10\r\n\r\n{")
            .await
            .unwrap();
        let (got, took) = until_closed(&mut s, start).await;
        assert!(
            got.is_empty() || got.starts_with("HTTP/1.1 "),
            "{got:?} {took:?}"
        );
        assert!(took < 2 * T + Duration::from_secs(3), "{took:?}");
    }

    #[tokio::test]
    async fn over_the_cap_a_connection_is_answered_503_at_once_and_counted() {
        let (addr, m, _stop, _task) = server(2).await;
        let _a = TcpStream::connect(&addr).await.unwrap();
        let _b = TcpStream::connect(&addr).await.unwrap();
        assert!(wait(Duration::from_secs(5), || m.open.get() == 2).await);
        let start = Instant::now();
        let mut c = TcpStream::connect(&addr).await.unwrap();
        c.write_all(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let (got, took) = until_closed(&mut c, start).await;
        assert!(got.starts_with("HTTP/1.1 503"), "{got}");
        assert!(got.ends_with("too many open connections"), "{got}");
        assert!(took < Duration::from_secs(1), "{took:?}");
        assert_eq!((m.refused.get(), m.accepted.get()), (1, 2));
    }

    #[tokio::test]
    async fn shutdown_lets_a_request_in_progress_finish() {
        let (addr, m, stop, task) = server(10).await;
        let mut s = TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET /pause HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        assert!(wait(Duration::from_secs(5), || m.open.get() == 1).await);
        tokio::time::sleep(T / 4).await;
        stop.send(()).unwrap();
        let (got, _) = until_closed(&mut s, Instant::now()).await;
        assert!(
            got.starts_with("HTTP/1.1 200") && got.ends_with("done"),
            "{got}"
        );
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("serve returns")
            .unwrap();
        assert!(TcpStream::connect(&addr).await.is_err());
    }

    /// Polls `f` every 20 ms for at most `limit`.
    async fn wait(limit: Duration, f: impl Fn() -> bool) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if f() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        f()
    }

    #[test]
    fn the_cap_leaves_room_for_the_rest() {
        assert_eq!(connection_cap(10_000, 1_048_576), 10_000);
        assert_eq!(connection_cap(10_000, 10_256), 10_000);
        assert_eq!(connection_cap(10_000, 10_255), 9_999);
        assert_eq!(connection_cap(10_000, 1_024), 768);
        assert_eq!(connection_cap(100, 1_024), 100);
        assert_eq!(connection_cap(10_000, 256), 128);
        assert_eq!(connection_cap(10_000, 1), 1);
    }

    #[test]
    fn defaults_are_tomcats() {
        let d = ServerLimits::default();
        assert_eq!(d.header_timeout, Duration::from_secs(20));
        assert_eq!(d.idle_timeout, Duration::from_secs(20));
        assert_eq!(d.handler_timeout, Duration::from_secs(30));
        assert_eq!(d.max_connections, 10_000);
    }

    #[test]
    fn streams_get_half_the_cap() {
        let m = HttpMetrics::default();
        let gate = Gate::new(4, m.clone());
        let a = gate.try_stream().expect("first stream");
        let b = gate.try_stream().expect("second stream");
        assert!(gate.try_stream().is_none());
        assert_eq!((m.streams_open.get(), m.streams_refused.get()), (2, 1));
        drop((a, b));
        assert_eq!(m.streams_open.get(), 0);
        assert!(gate.try_stream().is_some());
    }

    #[test]
    fn connections_over_the_cap_are_refused_and_counted() {
        let m = HttpMetrics::default();
        let gate = Gate::new(2, m.clone());
        let a = gate.try_admit().expect("slot");
        let _b = gate.try_admit().expect("slot");
        assert!(gate.try_admit().is_none());
        assert_eq!((gate.open(), m.open.get(), m.refused.get()), (2, 2, 1));
        drop(a);
        assert_eq!((gate.open(), m.open.get()), (1, 1));
        assert!(gate.try_admit().is_some());
        assert_eq!(m.max.get(), 2);
    }
}
