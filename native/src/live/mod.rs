//! The live view of a running node (`docs/live.md`): a Server-Sent Events stream of everything
//! it does (`GET /nacos-raft/v1/events`) and, with `--faults`, an API that breaks it
//! (`/nacos-raft/v1/faults/...`), both behind a CORS gate (`--web-origin`).
//!
//! [`Live`] is the hub every part of the node reports to: the actor (events, state changes,
//! datum writes), the peer client (each request it sends) and the server (each request it
//! receives). Records are serialized once and handed to every viewer's bounded queue with
//! `try_send`; a full queue drops and counts, so a viewer never slows the node. Nobody watching
//! costs one atomic load per report.
//!
//! - `record.rs`: the record shapes and capped payloads;
//! - `stream.rs`: the SSE endpoint (snapshot, records, gap and re-sync);
//! - `faults.rs`: the fault state; `edge.rs`: where it is applied (client and server edges);
//! - `api.rs`: the fault endpoints; `life.rs`: crash and restart; `cors.rs`: the origin gate.

mod api;
mod cors;
mod edge;
mod faults;
mod life;
mod record;
mod stream;

pub use api::DISABLED as FAULTS_DISABLED;
pub use edge::{InboundTap, OutboundTap};
pub use faults::{FaultView, Latency};
pub use life::Boot;
pub use record::PAYLOAD_CAP;

use crate::actor::Handle;
use crate::codec::Limits;
use crate::metrics::Metrics;
use axum::Router;
use nacos_raft_core::{Config, Event, Node, PeerState, Persist, RaftPeer};
use record::{ConfigRec, DatumRec, EventRec, StateRec};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::{mpsc, Notify};

/// The header carrying a request's id from sender to receiver (Java ignores it).
pub const RID_HEADER: &str = "x-nacos-raft-rid";
/// The header naming the sending member (Java ignores it).
pub const FROM_HEADER: &str = "x-nacos-raft-from";
/// The origins the page is served from by `make demo` and `make live`.
pub const DEFAULT_WEB_ORIGINS: [&str; 2] = ["http://127.0.0.1:8080", "http://localhost:8080"];
/// Records queued per viewer by default.
pub const DEFAULT_BUFFER: usize = 4096;

/// The live view's options.
#[derive(Clone, Debug)]
pub struct LiveSettings {
    /// `--faults`: allow the fault API.
    pub faults: bool,
    /// `--web-origin`: page origins allowed to read the stream and call the fault API.
    pub web_origins: Vec<String>,
    /// `--live-buffer`: records queued per viewer before it is dropped behind.
    pub buffer: usize,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            faults: false,
            web_origins: DEFAULT_WEB_ORIGINS.iter().map(|s| s.to_string()).collect(),
            buffer: DEFAULT_BUFFER,
        }
    }
}

/// Checks one `--web-origin`: `scheme://host[:port]`, nothing after.
pub fn check_origin(o: &str) -> Result<String, String> {
    let bad = |why: &str| {
        Err(format!(
            "--web-origin {o:?}: {why} (expected e.g. http://127.0.0.1:8080)"
        ))
    };
    let Some((scheme, rest)) = o.split_once("://") else {
        return bad("no scheme");
    };
    if scheme != "http" && scheme != "https" {
        return bad("the scheme must be http or https");
    }
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ', '*']) {
        return bad("an origin is scheme://host[:port] with no path");
    }
    if axum::http::HeaderValue::from_str(o).is_err() {
        return bad("not a valid header value");
    }
    Ok(o.to_string())
}

/// The hub of the live view; cheap to clone.
#[derive(Clone)]
pub struct Live(Arc<Inner>);

struct Inner {
    me: String,
    members: Vec<String>,
    config: ConfigRec,
    settings: LiveSettings,
    metrics: Metrics,
    viewers: Mutex<Vec<ViewerTx>>,
    watched: AtomicUsize,
    next_rid: AtomicU64,
    next_in: AtomicU64,
    faults: faults::Faults,
    /// How long a request a fault dropped takes to fail: the client's own timeouts.
    drop_timeout: Duration,
    /// Body caps (to read the sender out of a Java member's request under a cut).
    limits: Limits,
    life: life::Life,
    /// Set when the node shuts down: streams end and held requests are let go, so that the
    /// server's graceful shutdown does not wait for them.
    closing: tokio::sync::watch::Sender<bool>,
}

/// A viewer's end of the hub.
struct ViewerTx {
    tx: mpsc::Sender<Arc<str>>,
    dropped: Arc<AtomicU64>,
    /// Told when the queue is half full: the stream stops gathering and writes at once.
    hurry: Arc<Notify>,
}

impl Live {
    /// The hub of node `me` among `members`. `limits` are the node's body caps, `drop_timeout`
    /// how long its client waits for an answer (a request a fault drops fails after that long,
    /// as a real lost one would).
    pub fn new(
        me: &str,
        members: &[String],
        config: &Config,
        settings: LiveSettings,
        metrics: Metrics,
        limits: Limits,
        drop_timeout: Duration,
    ) -> Live {
        Live(Arc::new(Inner {
            me: me.to_string(),
            members: members.to_vec(),
            config: ConfigRec::from(config),
            faults: faults::Faults::new(settings.faults),
            settings,
            metrics,
            viewers: Mutex::new(Vec::new()),
            watched: AtomicUsize::new(0),
            next_rid: AtomicU64::new(1),
            next_in: AtomicU64::new(1),
            drop_timeout,
            limits,
            life: life::Life::default(),
            closing: tokio::sync::watch::Sender::new(false),
        }))
    }

    /// Ends every event stream and lets go of every held request (the node is stopping).
    pub fn shutdown(&self) {
        self.0.closing.send_replace(true);
    }

    /// Resolves once [`Live::shutdown`] was called.
    async fn closed(&self) {
        let mut rx = self.0.closing.subscribe();
        // Err: the sender is gone, which only happens with the node itself.
        let _ = rx.wait_for(|c| *c).await;
    }

    /// This node's address.
    pub fn me(&self) -> &str {
        &self.0.me
    }

    /// Whether anyone is watching (one atomic load: every report checks it first).
    pub fn watched(&self) -> bool {
        self.0.watched.load(Ordering::Relaxed) > 0
    }

    /// Whether any fault is set (one atomic load).
    pub fn faults_active(&self) -> bool {
        self.0.faults.any()
    }

    /// The active faults.
    pub fn faults(&self) -> FaultView {
        self.0.faults.view()
    }

    /// Hands the running node to the hub: `handle` is the actor (its sender is swapped on a
    /// restart), `boot` starts a fresh one from the data directory as start-up does.
    pub fn attach(&self, handle: Handle, boot: Boot) {
        self.0.life.attach(handle, boot);
    }

    /// The routes `/nacos-raft/v1/events` and `/nacos-raft/v1/faults/...` behind the origin gate,
    /// with `app` (the protocol and other endpoints) behind the fault edge.
    pub fn wrap(&self, app: Router) -> Router {
        let app = app.layer(axum::middleware::from_fn_with_state(
            self.clone(),
            edge::server_edge,
        ));
        let own = Router::new()
            .route("/nacos-raft/v1/events", axum::routing::get(stream::events))
            .merge(api::routes())
            .with_state(self.clone());
        app.merge(cors::gate(own, &self.0.settings.web_origins))
    }

    fn viewers(&self) -> MutexGuard<'_, Vec<ViewerTx>> {
        self.0
            .viewers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A new viewer: its queue and its drop counter. Called inside the actor (through
    /// `Handle::inspect`) together with the snapshot, so that the snapshot and the records after
    /// it are consistent.
    fn subscribe(&self) -> Viewer {
        let (tx, rx) = mpsc::channel(self.0.settings.buffer.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let hurry = Arc::new(Notify::new());
        let mut v = self.viewers();
        v.push(ViewerTx {
            tx,
            dropped: dropped.clone(),
            hurry: hurry.clone(),
        });
        self.0.watched.store(v.len(), Ordering::Relaxed);
        self.0.metrics.live_viewers.set(v.len() as i64);
        Viewer {
            live: self.clone(),
            rx,
            dropped,
            hurry,
        }
    }

    /// Detaches every viewer: each one re-syncs from a fresh snapshot (after a restart).
    fn resync_all(&self) {
        let mut v = self.viewers();
        v.clear();
        self.0.watched.store(0, Ordering::Relaxed);
        self.0.metrics.live_viewers.set(0);
    }

    /// Hands a record to every viewer without ever waiting: a full queue drops it and counts.
    fn publish(&self, rec: Arc<str>) {
        let mut v = self.viewers();
        v.retain(|w| {
            if w.dropped.load(Ordering::Relaxed) > 0 {
                // Already behind: it re-syncs from a snapshot, whatever comes now is moot.
                w.dropped.fetch_add(1, Ordering::Relaxed);
                self.0.metrics.live_dropped.inc();
                return !w.tx.is_closed();
            }
            match w.tx.try_send(rec.clone()) {
                Ok(()) => {
                    if w.tx.capacity() <= w.tx.max_capacity() / 2 {
                        w.hurry.notify_one();
                    }
                    true
                }
                Err(mpsc::error::TrySendError::Full(_)) => {
                    w.dropped.fetch_add(1, Ordering::Relaxed);
                    self.0.metrics.live_dropped.inc();
                    true
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            }
        });
        self.0.watched.store(v.len(), Ordering::Relaxed);
        self.0.metrics.live_viewers.set(v.len() as i64);
    }

    /// Publishes `rec` if anyone watches.
    fn emit<T: serde::Serialize>(&self, rec: &T) {
        if self.watched() {
            self.publish(record::to_shared(rec));
        }
    }

    // ---- reports of the actor ----------------------------------------------------------

    /// A protocol decision.
    pub fn on_event(&self, e: &Event) {
        if !self.watched() {
            return;
        }
        self.emit(&EventRec {
            ty: "event",
            at_ms: record::now_ms(),
            node: &self.0.me,
            event: e,
            text: e,
        });
    }

    /// A datum write or removal handed to the disk.
    pub fn on_persist(&self, p: &Persist) {
        if !self.watched() {
            return;
        }
        let (op, key, timestamp) = match p {
            Persist::Datum(d) => ("put", d.key.as_str(), Some(d.timestamp)),
            Persist::Remove { key } => ("remove", key.as_str(), None),
            Persist::Term(_) | Persist::Position { .. } | Persist::Tombstone { .. } => return,
        };
        self.emit(&DatumRec {
            ty: "datum",
            at_ms: record::now_ms(),
            op,
            key,
            timestamp,
        });
    }

    /// The node's own record, when [`StateWatch`] saw it change.
    fn on_state(&self, node: &Node) {
        self.emit(&StateRec {
            ty: "state",
            at_ms: record::now_ms(),
            peer: node.local(),
            leader: node.leader(),
        });
    }

    /// Publishes the `faults` record.
    fn on_faults(&self, view: &FaultView) {
        #[derive(serde::Serialize)]
        struct FaultsRec<'a> {
            #[serde(rename = "type")]
            ty: &'static str,
            at_ms: u64,
            #[serde(flatten)]
            faults: &'a FaultView,
        }
        self.emit(&FaultsRec {
            ty: "faults",
            at_ms: record::now_ms(),
            faults: view,
        });
    }
}

/// The receiving end of one viewer; leaving unregisters it.
struct Viewer {
    live: Live,
    rx: mpsc::Receiver<Arc<str>>,
    dropped: Arc<AtomicU64>,
    hurry: Arc<Notify>,
}

impl Drop for Viewer {
    fn drop(&mut self) {
        self.rx.close();
        let live = &self.live;
        let mut v = live.viewers();
        v.retain(|w| !w.tx.is_closed());
        live.0.watched.store(v.len(), Ordering::Relaxed);
        live.0.metrics.live_viewers.set(v.len() as i64);
    }
}

/// What the actor last reported of its own record: a `state` record is written when the
/// state, term, vote or leader differs (not for countdown steps).
#[derive(Default)]
pub struct StateWatch {
    last: Option<(PeerState, u64, Option<String>, Option<String>)>,
}

impl StateWatch {
    /// Compares the node with the last report and reports it to `live` if it changed.
    pub fn check(&mut self, node: &Node, live: &Live) {
        let RaftPeer {
            state,
            term,
            vote_for,
            ..
        } = node.local();
        let leader = node.leader();
        let same = self.last.as_ref().is_some_and(|(s, t, v, l)| {
            s == state && t == term && v == vote_for && l.as_deref() == leader
        });
        if same {
            return;
        }
        self.last = Some((*state, *term, vote_for.clone(), leader.map(str::to_string)));
        live.on_state(node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nacos_raft_core::StepDown;

    #[test]
    fn events_serialize_with_their_variant_as_kind_and_come_back_owned() {
        let events = [
            Event::VoteGranted {
                candidate: "127.0.0.1:8848".into(),
                term: 4,
            },
            Event::SteppedDown {
                was: PeerState::Leader,
                why: StepDown::AcceptedBeat {
                    leader: "127.0.0.1:8849".into(),
                    term: 5,
                },
            },
            Event::RequestFailed {
                to: "127.0.0.1:8850".into(),
                what: "vote".into(),
                failure: "timed out".into(),
            },
        ];
        let json: Vec<String> = events
            .iter()
            .map(|e| serde_json::to_string(e).unwrap())
            .collect();
        assert_eq!(
            json[0],
            r#"{"kind":"VoteGranted","candidate":"127.0.0.1:8848","term":4}"#
        );
        assert_eq!(
            json[1],
            r#"{"kind":"SteppedDown","was":"LEADER","why":{"kind":"AcceptedBeat","leader":"127.0.0.1:8849","term":5}}"#
        );
        for (e, j) in events.iter().zip(&json) {
            let owned: String = j.clone();
            let back: Event = serde_json::from_str(&owned).unwrap();
            assert_eq!(&back, e);
        }
    }

    #[test]
    fn an_event_record_carries_the_event_and_its_words() {
        let e = Event::RequestFailed {
            to: "127.0.0.1:8850".into(),
            what: "vote \"x\"".into(),
            failure: "timed out\nafter 1 s".into(),
        };
        let rec = record::to_shared(&EventRec {
            ty: "event",
            at_ms: 5,
            node: "127.0.0.1:8848",
            event: &e,
            text: &e,
        });
        let v: serde_json::Value = serde_json::from_str(&rec).unwrap();
        assert_eq!(v["text"], e.to_string());
        assert_eq!(v["event"], serde_json::to_value(&e).unwrap());
        assert!(!rec.contains('\n'), "one SSE data line: {rec}");
        assert!(rec.starts_with(r#"{"type":"event","at_ms":5,"node":"127.0.0.1:8848","event":{"#));
    }

    #[test]
    fn origins_are_checked() {
        assert!(check_origin("http://127.0.0.1:8080").is_ok());
        assert!(check_origin("https://nacos-raft.example").is_ok());
        for bad in ["127.0.0.1:8080", "ftp://x", "http://", "http://x/page", "*"] {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
    }
}
