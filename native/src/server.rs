//! The HTTP side: the twelve endpoints of nacos-protocol.md §2 under `/nacos/v1/ns/raft/`
//! (also `/nacos/nacos/v1/ns/raft/` and `/v1/ns/raft/`, as Java routes them), plus `/metrics`.
//!
//! Handlers decode (gunzip, URL-decode, parse) on their own task, hand a typed request to the
//! node actor and encode its answer. Anything malformed is answered with the status Nacos uses
//! (§2.1: 400 with the bare message, 500 with `caused: <msg>;`) before it reaches the node, so a
//! rejected request never changes state.

use crate::actor::{self, Handle};
use crate::codec::{self, Limits, JSON_UTF8};
use crate::metrics::Metrics;
use crate::store::{self, Store};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::{get, post, put};
use axum::Router;
use nacos_raft_core::key;
use nacos_raft_core::{RaftError, Request, Response};
use std::sync::Arc;
use std::time::Instant;

/// Request bodies at least this large are decoded on a blocking thread (a beat of 100,000 keys
/// takes tens of milliseconds to inflate and parse).
const BLOCKING_DECODE_BYTES: usize = 64 * 1024;

/// What every handler needs.
#[derive(Clone)]
pub struct AppState {
    /// The node actor.
    pub node: Handle,
    /// Body caps.
    pub limits: Limits,
    /// Exported metrics.
    pub metrics: Metrics,
    /// The data directory (for `datum/reload`).
    pub store: Arc<Store>,
}

/// The router with every endpoint.
pub fn router(state: AppState) -> Router {
    let raft = Router::new()
        .route("/vote", post(vote))
        .route("/beat", post(beat))
        .route("/peer", get(peer))
        .route("/datum/reload", put(reload))
        .route("/datum", get(get_datums).post(publish).delete(remove))
        .route("/datum/commit", post(commit).delete(delete_commit))
        .route("/state", get(raft_state))
        .route("/leader", get(leader))
        .route("/listeners", get(listeners));
    let limit = state.limits.max_body;
    Router::new()
        .nest("/nacos/v1/ns/raft", raft.clone())
        .nest("/nacos/nacos/v1/ns/raft", raft.clone())
        .nest("/v1/ns/raft", raft)
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// Which answers carry the extra headers of Nacos' `datum`, `state` and `commit` handlers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Extra {
    None,
    /// `Cache-Control: no-cache` and the (misnamed, not acted upon) `Content-Encode: gzip`.
    DatumHeaders,
}

fn answer(result: Result<Response, RaftError>, extra: Extra) -> HttpResponse {
    match result {
        Ok(r) => text(StatusCode::OK, codec::response_body(&r), extra),
        Err(e) => error(e),
    }
}

fn error(e: RaftError) -> HttpResponse {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    text(status, e.http_body(), Extra::None)
}

fn text(status: StatusCode, body: String, extra: Extra) -> HttpResponse {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    if extra == Extra::DatumHeaders {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        h.insert("content-encode", HeaderValue::from_static("gzip"));
    }
    r
}

/// Runs a decoder on a blocking thread when the body is large.
async fn decode<T: Send + 'static>(
    body: Bytes,
    f: impl FnOnce(&[u8]) -> Result<T, RaftError> + Send + 'static,
) -> Result<T, RaftError> {
    if body.len() < BLOCKING_DECODE_BYTES {
        return f(&body);
    }
    tokio::task::spawn_blocking(move || f(&body))
        .await
        .unwrap_or_else(|e| Err(RaftError::server(format!("decoding failed: {e}"))))
}

// ---- the protocol endpoints ------------------------------------------------------------

async fn vote(State(s): State<AppState>, RawQuery(q): RawQuery, body: Bytes) -> HttpResponse {
    let r = match codec::decode_vote(q.as_deref(), &body) {
        Ok(peer) => s.node.request(Request::Vote(peer)).await,
        Err(e) => Err(e),
    };
    answer(r, Extra::None)
}

async fn beat(State(s): State<AppState>, body: Bytes) -> HttpResponse {
    let limits = s.limits;
    let r = match decode(body, move |b| codec::decode_beat(b, &limits)).await {
        Ok(packet) => s.node.request(Request::Beat(Arc::new(packet))).await,
        Err(e) => Err(e),
    };
    answer(r, Extra::None)
}

async fn peer(State(s): State<AppState>) -> HttpResponse {
    answer(s.node.request(Request::GetPeer).await, Extra::None)
}

async fn commit(State(s): State<AppState>, body: Bytes) -> HttpResponse {
    let limits = s.limits;
    let r = match decode(body, move |b| codec::decode_commit(b, &limits)).await {
        Ok((datum, source)) => match store::storable(&datum.key) {
            // An empty key falls through to the node, which answers as Nacos does.
            Err(why) if !datum.key.is_empty() => Err(RaftError::server(why)),
            _ => s.node.request(Request::Commit { datum, source }).await,
        },
        Err(e) => Err(e),
    };
    answer(r, Extra::DatumHeaders)
}

async fn delete_commit(State(s): State<AppState>, body: Bytes) -> HttpResponse {
    let limits = s.limits;
    let r = match decode(body, move |b| codec::decode_delete_commit(b, &limits)).await {
        Ok((key, source)) => s.node.request(Request::DeleteCommit { key, source }).await,
        Err(e) => Err(e),
    };
    answer(r, Extra::DatumHeaders)
}

async fn get_datums(State(s): State<AppState>, RawQuery(q): RawQuery, body: Bytes) -> HttpResponse {
    let r = match codec::decode_keys(q.as_deref(), &body) {
        Ok(keys) => s.node.request(Request::GetDatums(keys)).await,
        Err(e) => Err(e),
    };
    answer(r, Extra::DatumHeaders)
}

/// Checks a key written through the client path: the project's strict rule (a brief or
/// ephemeral key, or characters Nacos never generates, are refused with 400) and that it can be
/// stored safely.
fn client_key(k: &str) -> Result<(), RaftError> {
    key::validate_client_key(k).map_err(RaftError::bad_request)?;
    store::storable(k).map_err(RaftError::bad_request)
}

/// Endpoint 5 and the client write path: answered once a majority acknowledged the write (or
/// with Nacos' error when the publish timed out).
async fn publish(State(s): State<AppState>, body: Bytes) -> HttpResponse {
    let start = Instant::now();
    let limits = s.limits;
    let r = match decode(body, move |b| codec::decode_forward(b, &limits)).await {
        Ok((key, value)) => match client_key(&key) {
            Ok(()) => s.node.request(Request::Forward { key, value }).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    s.metrics
        .publish_latency
        .observe(start.elapsed().as_secs_f64());
    if r.is_err() {
        s.metrics.publish_failures.inc();
    }
    answer(r, Extra::DatumHeaders)
}

/// Endpoint 6 and the client delete path.
async fn remove(State(s): State<AppState>, RawQuery(q): RawQuery, body: Bytes) -> HttpResponse {
    let r = match codec::decode_key(q.as_deref(), &body) {
        Ok(k) => match client_key(&k) {
            Ok(()) => s.node.request(Request::ForwardDelete { key: k }).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    answer(r, Extra::DatumHeaders)
}

/// Endpoint 4. Nacos' `RaftStore.load(key)` only looks at files directly in the data folder,
/// so for every key with a namespace it finds nothing and the reload does nothing; that is
/// reproduced. A top-level key (the switch) is read from its file and replaces the datum in
/// memory (`RaftCore.loadDatum`: no notification, no term change).
async fn reload(State(s): State<AppState>, RawQuery(q): RawQuery, body: Bytes) -> HttpResponse {
    let k = match codec::decode_key(q.as_deref(), &body) {
        Ok(k) => k,
        Err(e) => return error(e),
    };
    if !key::namespace(&k).is_empty() {
        return text(StatusCode::OK, "ok".into(), Extra::None);
    }
    let Some(path) = s.store.path_of(&k) else {
        return text(StatusCode::OK, "ok".into(), Extra::None);
    };
    let on_disk = match std::fs::read(&path) {
        Ok(b) if !b.is_empty() => match store::parse_datum_file(&b) {
            Ok(d) => d,
            Err(why) => {
                return error(RaftError::server(format!(
                    "cannot reload {}: {why}",
                    path.display()
                )))
            }
        },
        _ => return text(StatusCode::OK, "ok".into(), Extra::None),
    };
    match s.node.reload(on_disk).await {
        Ok(()) => text(StatusCode::OK, "ok".into(), Extra::None),
        Err(e) => error(e),
    }
}

async fn raft_state(State(s): State<AppState>) -> HttpResponse {
    let r = s
        .node
        .inspect(|n| {
            let peers: Vec<String> = n.peers().map(|p| p.to_json()).collect();
            format!(
                "{{\"services\":{},\"peers\":[{}]}}",
                actor::service_count(n),
                peers.join(",")
            )
        })
        .await;
    match r {
        Ok(body) => text(StatusCode::OK, body, Extra::DatumHeaders),
        Err(e) => error(e),
    }
}

async fn leader(State(s): State<AppState>) -> HttpResponse {
    let r = s
        .node
        .inspect(|n| {
            n.leader()
                .and_then(|l| n.peer(l))
                .map(|p| p.to_json())
                .unwrap_or_else(|| "null".into())
        })
        .await;
    match r {
        Ok(inner) => {
            let body = serde_json::json!({ "leader": inner }).to_string();
            text(StatusCode::OK, body, Extra::None)
        }
        Err(e) => error(e),
    }
}

/// Endpoint 12. Listeners are the in-process subscribers of Nacos' naming module
/// (ServiceManager, SwitchManager); this node has none.
async fn listeners() -> HttpResponse {
    text(StatusCode::OK, "{\"listeners\":[]}".into(), Extra::None)
}

async fn metrics(State(s): State<AppState>) -> HttpResponse {
    let mut r = s.metrics.render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}
