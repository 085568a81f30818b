//! `GET /nacos-raft/v1/events`: a snapshot, then every record as it happens, as Server-Sent
//! Events. A viewer that fell behind gets a `gap` with the number of records it lost and a fresh
//! snapshot; so does, without the gap, every viewer after a restart by the fault API.

use super::record::{self, DatumKey, GapRec, Snapshot};
use super::{Live, Viewer};
use crate::conn::{Gate, StreamPermit};
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use nacos_raft_core::{Node, RaftPeer};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Comments sent on an idle stream so that proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How long the stream lets records gather after the first one before writing them together:
/// well under a frame of the page (16.7 ms), so a viewer sees no difference.
const COALESCE: Duration = Duration::from_millis(10);
/// A chunk is written once it holds this much, even if more records are queued.
const CHUNK_BYTES: usize = 64 * 1024;

pub(super) async fn events(
    State(live): State<Live>,
    gate: Option<axum::Extension<Gate>>,
    RawQuery(query): RawQuery,
) -> Response {
    let Params { batch, cap } = match params(query.as_deref()) {
        Ok(p) => p,
        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
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
        out: BytesMut::new(),
        batch,
        cap,
        backlog: false,
        _permit: permit,
    };
    let stream = futures_util::stream::unfold(state, |mut c| async move {
        let live = c.live.clone();
        tokio::select! {
            chunk = c.chunk() => Some((Ok::<_, std::convert::Infallible>(chunk), c)),
            // The node is stopping: the stream ends so that the server can.
            _ = live.closed() => None,
        }
    });
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// What a viewer asked for in the query string.
#[derive(Debug, PartialEq)]
struct Params {
    /// `?batch=1` (or `true`): every chunk of records as one SSE message, a browser's
    /// `EventSource` then dispatches one event per chunk (every 10 ms at most), not one per
    /// record, and hands the records over joined by line breaks. Absent, `0` or `false`: one
    /// message per record.
    batch: bool,
    /// `?payload_cap=N` (0 to [`record::PAYLOAD_CAP`]): `msg` payloads cut after N bytes for
    /// this viewer (the page shows the start of a payload and asks for less than the node's
    /// cap: it pays for every byte it reads). Absent: the node's cap.
    cap: Option<usize>,
}

/// The query string's parameters; others are ignored, a bad value of these is an error.
fn params(query: Option<&str>) -> Result<Params, String> {
    let mut p = Params {
        batch: false,
        cap: None,
    };
    for pair in query.unwrap_or("").split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "batch" => {
                p.batch = match v {
                    "1" | "true" => true,
                    "0" | "false" => false,
                    _ => return Err(format!("batch={v}: expected 1, true, 0 or false")),
                }
            }
            "payload_cap" => {
                p.cap = match v.parse::<usize>() {
                    Ok(n) if n <= record::PAYLOAD_CAP => {
                        Some(n).filter(|&n| n < record::PAYLOAD_CAP)
                    }
                    _ => {
                        return Err(format!(
                            "payload_cap={v}: expected a number of bytes from 0 to {}",
                            record::PAYLOAD_CAP
                        ))
                    }
                }
            }
            _ => {}
        }
    }
    Ok(p)
}

/// One connection: its viewer queue (none until the first snapshot), records waiting to be
/// written, the per-connection sequence number and the buffer the SSE text is written into.
struct Conn {
    live: Live,
    viewer: Option<Viewer>,
    pending: VecDeque<Arc<str>>,
    seq: u64,
    out: BytesMut,
    /// `?batch=1`: the records of one chunk go as one SSE message, one `data:` line each.
    batch: bool,
    /// `?payload_cap=N`: the smaller payload cap this viewer asked for.
    cap: Option<usize>,
    /// The last chunk was cut at [`CHUNK_BYTES`] with records still queued.
    backlog: bool,
    /// The viewer's share of the connection cap, released when the stream ends.
    _permit: Option<StreamPermit>,
}

impl Conn {
    /// The next piece of the response body: every record queued for this viewer within
    /// [`COALESCE`] of the first one, as SSE messages, or a keep-alive comment after
    /// [`KEEP_ALIVE`] without records. A write to the leader makes about ten records on each
    /// node, one at a time: written as they come, each cost a task wake-up and a socket write
    /// per viewer; gathered, a burst costs one of each.
    async fn chunk(&mut self) -> Bytes {
        // Only a wait on the queue is cut short for a keep-alive (receiving is cancel-safe); a
        // snapshot being taken is waited for, however long the actor takes.
        let rec = if self.pending.is_empty() && self.viewer.is_some() {
            match tokio::time::timeout(KEEP_ALIVE, self.next()).await {
                Ok(rec) => rec,
                Err(_) => return Bytes::from_static(b": keep-alive\n\n"),
            }
        } else {
            self.next().await
        };
        self.frame(&rec);
        // No wait when the last chunk was cut at its size (records are queued already), nor
        // after a gap (no viewer: nothing follows it until the next snapshot). A queue half
        // full ends the wait early: gathering must never make a viewer that keeps up fall
        // behind (the queue can be as small as 16 records).
        if let Some(hurry) = self.viewer.as_ref().map(|v| v.hurry.clone()) {
            if !self.backlog {
                tokio::select! {
                    _ = tokio::time::sleep(COALESCE) => {}
                    _ = hurry.notified() => {}
                }
            }
        }
        self.backlog = false;
        while !self.backlog {
            match self.try_next() {
                Some(rec) => self.frame(&rec),
                None => break,
            }
            self.backlog = self.out.len() >= CHUNK_BYTES;
        }
        if self.batch {
            use std::fmt::Write;
            let _ = write!(self.out, "id: {}\n\n", self.seq);
        }
        self.out.split().freeze()
    }

    /// The next record, waiting for it (a snapshot first, and after a gap or a restart).
    async fn next(&mut self) -> Arc<str> {
        loop {
            if let Some(rec) = self.pending.pop_front() {
                return rec;
            }
            let Some(v) = &mut self.viewer else {
                let (viewer, snapshot) = self.live.snapshot().await;
                self.viewer = Some(viewer);
                self.pending.push_back(snapshot.into());
                continue;
            };
            let got = v.rx.recv().await;
            if let Some(gap) = self.behind() {
                return gap;
            }
            match got {
                Some(rec) => return rec,
                // Detached by a restart: a fresh snapshot of the new node follows.
                None => self.viewer = None,
            }
        }
    }

    /// The next record if one is queued already (never a snapshot: that waits for the actor).
    fn try_next(&mut self) -> Option<Arc<str>> {
        if let Some(rec) = self.pending.pop_front() {
            return Some(rec);
        }
        let got = self.viewer.as_mut()?.rx.try_recv();
        if let Some(gap) = self.behind() {
            return Some(gap);
        }
        match got {
            Ok(rec) => Some(rec),
            Err(mpsc::error::TryRecvError::Empty) => None,
            // Detached by a restart: the next chunk starts with a fresh snapshot.
            Err(mpsc::error::TryRecvError::Disconnected) => {
                self.viewer = None;
                None
            }
        }
    }

    /// The `gap` record if the hub dropped records for this viewer. Whatever is still queued
    /// comes before the hole but is moot: the snapshot that follows the gap replaces it.
    fn behind(&mut self) -> Option<Arc<str>> {
        let dropped = self.viewer.as_ref()?.dropped.load(Ordering::Relaxed);
        if dropped == 0 {
            return None;
        }
        self.viewer = None;
        let gap = GapRec {
            ty: "gap",
            at_ms: record::now_ms(),
            dropped,
        };
        Some(record::to_json(&gap).into())
    }

    /// Appends the record with this connection's `seq` (first field) as one SSE message:
    /// `id: N`, `data: {"seq":N,...}` (records are compact JSON: never a line break). Batched,
    /// only its `data:` line: [`Conn::chunk`] ends the message with the last record's `id:`.
    fn frame(&mut self, rec: &str) {
        use std::fmt::Write;
        self.seq += 1;
        let rec = match self.cap {
            Some(cap) => record::recap(rec, cap),
            None => std::borrow::Cow::Borrowed(rec),
        };
        let body = rec.strip_prefix('{').unwrap_or(&rec);
        self.out.reserve(body.len() + 48);
        if !self.batch {
            let _ = writeln!(self.out, "id: {}", self.seq);
        }
        let _ = write!(self.out, "data: {{\"seq\":{},", self.seq);
        self.out.extend_from_slice(body.as_bytes());
        self.out
            .extend_from_slice(if self.batch { b"\n" } else { b"\n\n" });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_asks_for_batches_and_a_payload_cap() {
        let p = |q: &str| params(Some(q));
        assert_eq!(
            params(None),
            Ok(Params {
                batch: false,
                cap: None
            })
        );
        assert_eq!(
            p("batch=1&payload_cap=512&x=y"),
            Ok(Params {
                batch: true,
                cap: Some(512)
            })
        );
        assert_eq!(p("payload_cap=0").unwrap().cap, Some(0));
        // The node's own cap is no cut at all.
        assert_eq!(p("payload_cap=4096").unwrap().cap, None);
        for bad in [
            "payload_cap=4097",
            "payload_cap=-1",
            "payload_cap=",
            "payload_cap=1k",
        ] {
            let e = p(bad).unwrap_err();
            assert!(e.contains("from 0 to 4096"), "{bad}: {e}");
        }
        assert!(p("batch=maybe").is_err());
    }
}
