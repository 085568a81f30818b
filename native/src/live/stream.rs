//! `GET /nacos-raft/v1/events`: a snapshot, then every record as it happens, as Server-Sent
//! Events. A viewer that fell behind gets a `gap` with the number of records it lost and a fresh
//! snapshot; so does, without the gap, every viewer after a restart by the fault API.

use super::record::{self, DatumKey, GapRec, Snapshot};
use super::{Live, Viewer};
use crate::conn::{Gate, StreamPermit};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use nacos_raft_core::{Node, RaftPeer};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Comments sent on an idle stream so that proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub(super) async fn events(
    State(live): State<Live>,
    gate: Option<axum::Extension<Gate>>,
) -> Response {
    // A viewer holds its connection for as long as it watches: it takes one of the streams'
    // share of `--max-connections` (half the cap), so viewers can never crowd out the protocol.
    // Without a gate (a router served by something else than `conn::serve`) nothing is counted.
    let permit = match gate {
        Some(axum::Extension(g)) => match g.try_stream() {
            Some(p) => Some(p),
            None => {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too many event-stream viewers: the node keeps half of --max-connections \
                     for the protocol",
                )
                    .into_response()
            }
        },
        None => None,
    };
    let state = Conn {
        live,
        viewer: None,
        pending: VecDeque::new(),
        seq: 0,
        _permit: permit,
    };
    let stream = futures_util::stream::unfold(state, |mut c| async move {
        let live = c.live.clone();
        tokio::select! {
            ev = c.next() => Some((Ok::<_, std::convert::Infallible>(ev), c)),
            // The node is stopping: the stream ends so that the server can.
            _ = live.closed() => None,
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
        .into_response()
}

/// One connection: its viewer queue (none until the first snapshot), records waiting to be
/// written, and the per-connection sequence number.
struct Conn {
    live: Live,
    viewer: Option<Viewer>,
    pending: VecDeque<Arc<str>>,
    seq: u64,
    /// The viewer's share of the connection cap, released when the stream ends.
    _permit: Option<StreamPermit>,
}

impl Conn {
    async fn next(&mut self) -> SseEvent {
        loop {
            if let Some(rec) = self.pending.pop_front() {
                return self.frame(&rec);
            }
            let Some(v) = &mut self.viewer else {
                let (viewer, snapshot) = self.live.snapshot().await;
                self.viewer = Some(viewer);
                self.pending.push_back(snapshot.into());
                continue;
            };
            let got = v.rx.recv().await;
            let dropped = v.dropped.load(Ordering::Relaxed);
            if dropped > 0 {
                // Whatever is still queued comes before the hole but is moot: the snapshot
                // that follows the gap replaces it.
                self.viewer = None;
                let gap = GapRec {
                    ty: "gap",
                    at_ms: record::now_ms(),
                    dropped,
                };
                self.pending.push_back(record::to_json(&gap).into());
                continue;
            }
            match got {
                Some(rec) => return self.frame(&rec),
                // Detached by a restart: a fresh snapshot of the new node follows.
                None => self.viewer = None,
            }
        }
    }

    /// The record with this connection's `seq` (first field), as one SSE message.
    fn frame(&mut self, rec: &str) -> SseEvent {
        self.seq += 1;
        let body = rec.strip_prefix('{').unwrap_or(rec);
        SseEvent::default()
            .id(self.seq.to_string())
            .data(format!("{{\"seq\":{},{body}", self.seq))
    }
}

impl Live {
    /// A new viewer and the snapshot its records follow. The viewer is registered inside the
    /// actor, between two of its steps, so no record is missing or repeated after the snapshot.
    async fn snapshot(&self) -> (Viewer, String) {
        if let Some(h) = self.handle().filter(|_| !self.0.faults.crashed()) {
            let live = self.clone();
            let got = h
                .inspect(move |n| (live.subscribe(), NodeView::of(n)))
                .await;
            if let Ok((viewer, view)) = got {
                return (viewer, self.snapshot_json(Some(view)));
            }
        }
        // Crashed (or the actor gone): there is no node state to show.
        (self.subscribe(), self.snapshot_json(None))
    }

    fn snapshot_json(&self, view: Option<NodeView>) -> String {
        let faults = self.faults();
        let (peer, peers, leader, datums) = match view {
            Some(v) => (Some(v.peer), v.peers, v.leader, v.datums),
            None => (None, Vec::new(), None, Vec::new()),
        };
        record::to_json(&Snapshot {
            ty: "snapshot",
            at_ms: record::now_ms(),
            node: &self.0.me,
            version: env!("CARGO_PKG_VERSION"),
            rules: "nacos",
            peer,
            peers,
            leader,
            datums,
            config: &self.0.config,
            faults: &faults,
            members: &self.0.members,
        })
    }
}

/// What the snapshot copies out of the node, inside the actor (serialized outside it).
struct NodeView {
    peer: RaftPeer,
    peers: Vec<RaftPeer>,
    leader: Option<String>,
    datums: Vec<DatumKey>,
}

impl NodeView {
    fn of(n: &Node) -> NodeView {
        NodeView {
            peer: n.local().clone(),
            peers: n.peers().filter(|p| p.ip != n.me()).cloned().collect(),
            leader: n.leader().map(str::to_string),
            datums: n
                .datums()
                .map(|d| DatumKey {
                    key: d.key.clone(),
                    timestamp: d.timestamp,
                })
                .collect(),
        }
    }
}
