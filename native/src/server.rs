//! The HTTP side: the twelve endpoints of `docs/nacos-protocol.md` §2 under
//! `/nacos/v1/ns/raft/` (also `/nacos/nacos/v1/ns/raft/` and `/v1/ns/raft/`, as Java routes
//! them), plus `/metrics`.
//!
//! The eight endpoints that carry a protocol message are one `Endpoint` each and share one
//! handler, `ask_node`: decode (gunzip, URL-decode, parse) on the request's own task, hand the
//! typed [`Request`] to the node actor, encode its answer. Anything malformed is answered with
//! the status Nacos uses (§2.1: 400 with the bare message, 500 with `caused: <msg>;`) before it
//! reaches the node, so a rejected request never changes state. With a peer identity configured,
//! every raft route is behind [`Identity::guard`] (403 without the header). The operator endpoints
//! (`datum/reload`, `state`, `leader`, `listeners`) and `/metrics` have a handler each.

use crate::actor::Handle;
use crate::codec::{self, Limits, JSON_UTF8};
use crate::identity::Identity;
use crate::live::Live;
use crate::metrics::Metrics;
use crate::store::{self, Store};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::{get, on, put, MethodFilter};
use axum::Router;
use nacos_raft_core::key;
use nacos_raft_core::naming as nm;
use nacos_raft_core::{MsgKind, RaftError, Request};
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
    /// The live view (event stream, faults).
    pub live: Live,
    /// The peer identity every raft request must carry, when the cluster uses one.
    pub identity: Option<Identity>,
    /// Whether beats may name their key lists and carry differences (the hardened rules,
    /// [`crate::beat_list`]); off, a beat is read as Java reads it.
    pub beat_lists: bool,
    /// Whether the commit endpoint takes batches of commits and says so on its answers
    /// ([`codec::BATCH_HEADER`], the hardened rules); off, a commit is read as Java reads it.
    pub commit_batches: bool,
}

/// A decoded request: one, or a batch of commits (each refused on its own if it must be).
enum Decoded {
    One(Request, Option<crate::beat_list::ListId>),
    Commits(Vec<Result<Request, RaftError>>),
}

/// The router with every endpoint.
pub fn router(state: AppState, extra: Router) -> Router {
    let mut raft = Router::new();
    for ep in Endpoint::ALL {
        let handler =
            move |State(s): State<Arc<AppState>>,
                  headers: HeaderMap,
                  RawQuery(q): RawQuery,
                  body: Bytes| { ask_node(ep, s, headers, q, body) };
        raft = raft.route(ep.path(), on(ep.method(), handler));
    }
    let raft = raft
        .route("/datum/reload", put(reload))
        .route("/state", get(raft_state))
        .route("/leader", get(leader))
        .route("/listeners", get(listeners));
    // Every raft route, the operator ones included, and any other path under the raft base:
    // a stranger learns nothing, not even which paths exist.
    let raft = match state.identity.clone() {
        Some(id) => raft.layer(axum::middleware::from_fn(move |req, next| {
            id.clone().guard(req, next)
        })),
        None => raft,
    };
    let limit = state.limits.max_body;
    let live = state.live.clone();
    let app = Router::new()
        .nest("/nacos/v1/ns/raft", raft.clone())
        .nest("/nacos/nacos/v1/ns/raft", raft.clone())
        .nest("/v1/ns/raft", raft)
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(limit))
        // Shared, not cloned per request: a clone of `AppState` is six reference counts, about
        // 1.5 % of the nodes' CPU under `wrk -c 32` (issue 13).
        .with_state(Arc::new(state))
        .merge(extra);
    // Last: every route above (the naming API's in `extra` too) goes behind the fault edge, so a
    // crash by the fault API resets them all; the live routes join beside them.
    live.wrap(app)
}

/// The endpoints whose request goes to the node as a [`Request`] (numbered as in
/// `docs/nacos-protocol.md` §2.0). A new message kind is one more variant here, with its route
/// and its decoding below; [`ask_node`] does the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint {
    /// 1. `POST /vote`.
    Vote,
    /// 2. `POST /beat`.
    Beat,
    /// 3. `GET /peer`.
    Peer,
    /// 5. `POST /datum`: the client write path and Java's forwarded publish.
    Publish,
    /// 6. `DELETE /datum`: the client delete path and Java's forwarded delete.
    Remove,
    /// 7. `GET /datum`: the datum fetch of beat sync, and client reads.
    GetDatums,
    /// 9. `POST /datum/commit`.
    Commit,
    /// 10. `DELETE /datum/commit`.
    DeleteCommit,
}

impl Endpoint {
    const ALL: [Endpoint; 8] = [
        Endpoint::Vote,
        Endpoint::Beat,
        Endpoint::Peer,
        Endpoint::Publish,
        Endpoint::Remove,
        Endpoint::GetDatums,
        Endpoint::Commit,
        Endpoint::DeleteCommit,
    ];

    fn method(self) -> MethodFilter {
        match self {
            Endpoint::Peer | Endpoint::GetDatums => MethodFilter::GET,
            Endpoint::Remove | Endpoint::DeleteCommit => MethodFilter::DELETE,
            Endpoint::Vote | Endpoint::Beat | Endpoint::Publish | Endpoint::Commit => {
                MethodFilter::POST
            }
        }
    }

    fn path(self) -> &'static str {
        match self {
            Endpoint::Vote => "/vote",
            Endpoint::Beat => "/beat",
            Endpoint::Peer => "/peer",
            Endpoint::Publish | Endpoint::Remove | Endpoint::GetDatums => "/datum",
            Endpoint::Commit | Endpoint::DeleteCommit => "/datum/commit",
        }
    }

    /// The message kind, as the live view names it.
    fn kind(self) -> MsgKind {
        match self {
            Endpoint::Vote => MsgKind::Vote,
            Endpoint::Beat => MsgKind::Beat,
            Endpoint::Peer => MsgKind::Peer,
            Endpoint::Publish | Endpoint::Remove => MsgKind::Forward,
            Endpoint::GetDatums => MsgKind::DatumGet,
            Endpoint::Commit => MsgKind::Commit,
            Endpoint::DeleteCommit => MsgKind::DeleteCommit,
        }
    }

    /// Nacos' datum, state and commit handlers add extra headers to their answers.
    fn extra(self) -> Extra {
        match self {
            Endpoint::Vote | Endpoint::Beat | Endpoint::Peer => Extra::None,
            _ => Extra::DatumHeaders,
        }
    }

    /// The typed request, or the error Nacos answers for this input. Everything the node must
    /// never see is refused here: malformed bodies, keys a client may not write, keys that
    /// cannot be stored.
    fn decode(
        self,
        query: Option<&str>,
        body: &[u8],
        limits: &Limits,
    ) -> Result<Request, RaftError> {
        Ok(match self {
            Endpoint::Vote => Request::Vote(codec::decode_vote(query, body)?),
            Endpoint::Beat => Request::Beat(Arc::new(codec::decode_beat(body, limits)?)),
            Endpoint::Peer => Request::GetPeer,
            Endpoint::Publish => {
                let f = codec::decode_publish(body, limits)?;
                client_key(&f.key)?;
                codec::publish_request(f)
            }
            Endpoint::Remove => {
                let key = codec::decode_key(query, body)?;
                client_key(&key)?;
                let leader_term = codec::decode_leader_term(query, body)?;
                Request::ForwardDelete { key, leader_term }
            }
            Endpoint::GetDatums => Request::GetDatums(codec::decode_keys(query, body)?),
            Endpoint::Commit => {
                let (datum, source) = codec::decode_commit(body, limits)?;
                // An empty key goes on to the node, which answers as Nacos does.
                if !datum.key.is_empty() {
                    store::storable(&datum.key).map_err(RaftError::server)?;
                }
                Request::Commit { datum, source }
            }
            Endpoint::DeleteCommit => {
                let (key, source) = codec::decode_delete_commit(body, limits)?;
                Request::DeleteCommit { key, source }
            }
        })
    }
}

/// The one handler of every [`Endpoint`]: decode (on a blocking thread when the body is large),
/// hand the request to the node, encode its answer; the live view sees both sides.
async fn ask_node(
    ep: Endpoint,
    s: Arc<AppState>,
    headers: HeaderMap,
    query: Option<String>,
    body: Bytes,
) -> HttpResponse {
    let start = Instant::now();
    let mut tap = s.live.inbound(ep.kind(), &headers);
    let raw = tap.as_ref().map(|_| body.clone());
    let named = ep == Endpoint::Beat && s.beat_lists;
    let batches = ep == Endpoint::Commit && s.commit_batches;
    // A beat's difference is small on the wire but rebuilds the whole list.
    let (limits, small) = (s.limits, body.len() < BLOCKING_DECODE_BYTES && !named);
    let decode = move || {
        if named {
            codec::decode_beat_named(&body, &limits)
                .map(|(packet, id)| Decoded::One(Request::Beat(Arc::new(packet)), id))
        } else if batches {
            decode_commits(&body, &limits)
        } else {
            ep.decode(query.as_deref(), &body, &limits)
                .map(|request| Decoded::One(request, None))
        }
    };
    let decoded = if small {
        decode()
    } else {
        tokio::task::spawn_blocking(decode)
            .await
            .unwrap_or_else(|e| Err(RaftError::server(format!("decoding failed: {e}"))))
    };
    let (decoded, list) = match decoded {
        Ok(Decoded::One(request, list)) => (Ok(request), list),
        Ok(Decoded::Commits(commits)) => return answer_commits(&s, &headers, commits).await,
        Err(e) => (Err(e), None),
    };
    if let Some(t) = &mut tap {
        t.received(
            decoded
                .as_ref()
                .map_err(|_| raw.as_deref().unwrap_or_default()),
        );
    }
    let (result, call) = match decoded {
        Ok(request) => {
            let call = ServiceCall::of(&request);
            (s.node.request(request).await, call)
        }
        Err(e) => (Err(e), None),
    };
    if ep == Endpoint::Publish {
        s.metrics
            .publish_latency
            .observe(start.elapsed().as_secs_f64());
        if result.is_err() {
            s.metrics.publish_failures.inc();
        }
    }
    let body = result.map(|r| {
        let answer = codec::response_body(&r);
        match list {
            // The leader sends this member differences from this list from now on.
            Some(id) => codec::with_list_name(answer, id),
            None => answer,
        }
    });
    if let Some(t) = &tap {
        t.replied(&body);
    }
    let (status, answer) = status_and_text(body, call.as_ref());
    let ok = status == StatusCode::OK;
    let mut r = text(status, answer, if ok { ep.extra() } else { Extra::None });
    if ok && ep.extra() == Extra::DatumHeaders {
        echo_charset(&mut r, &headers);
    }
    // Not while a page watches this node or a fault is set: a batch would be one message to
    // show and to fault where the page expects one per commit.
    if batches && !s.live.watched() && !s.live.faults_active() {
        r.headers_mut()
            .insert(codec::BATCH_HEADER, HeaderValue::from_static("1"));
    }
    r
}

/// The status and body of an answer: the node's, or Java's text for a failure in its service
/// layer ([`ServiceCall`]).
fn status_and_text(
    body: Result<String, RaftError>,
    call: Option<&ServiceCall>,
) -> (StatusCode, String) {
    match (body, call) {
        (Ok(body), _) => (StatusCode::OK, body),
        (Err(e), Some(call))
            if e.status == 500 && !e.message.starts_with(nm::DESERIALIZE_FAILED) =>
        {
            (StatusCode::INTERNAL_SERVER_ERROR, call.failed(&e))
        }
        (Err(e), _) => (
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            e.http_body(),
        ),
    }
}

/// A commit body at a member that takes batches: one commit, read as Java reads it, or a batch
/// whose commits are each checked as a commit alone would be.
fn decode_commits(body: &[u8], limits: &Limits) -> Result<Decoded, RaftError> {
    let commit = |(datum, source): (nacos_raft_core::Datum, nacos_raft_core::RaftPeer)| {
        // An empty key goes on to the node, which answers as Nacos does.
        if !datum.key.is_empty() {
            store::storable(&datum.key).map_err(RaftError::server)?;
        }
        Ok(Request::Commit { datum, source })
    };
    let mut all = codec::decode_commits(body, limits)?;
    if all.len() == 1 {
        let one = all
            .pop()
            .map(commit)
            .unwrap_or_else(|| Err(RaftError::server("no commit")));
        return one.map(|request| Decoded::One(request, None));
    }
    Ok(Decoded::Commits(all.into_iter().map(commit).collect()))
}

/// Answers a batch of commits: each goes to the node in order, and the answer lists each one's
/// status and body as it would have been answered alone (`codec::decode_batch_answer`). A page
/// watching this node sees each commit as a message of its own.
async fn answer_commits(
    s: &AppState,
    headers: &HeaderMap,
    commits: Vec<Result<Request, RaftError>>,
) -> HttpResponse {
    let n = commits.len();
    let mut taps: Vec<_> = commits
        .iter()
        .map(|_| s.live.inbound(MsgKind::Commit, headers))
        .collect();
    for (tap, c) in taps.iter_mut().zip(&commits) {
        if let Some(t) = tap {
            t.received(c.as_ref().map_err(|_| &b""[..]));
        }
    }
    let calls: Vec<Option<ServiceCall>> = commits
        .iter()
        .map(|c| c.as_ref().ok().and_then(ServiceCall::of))
        .collect();
    let mut refused = Vec::new();
    let mut good = Vec::with_capacity(n);
    for c in commits {
        match c {
            Ok(request) => {
                refused.push(None);
                good.push(request);
            }
            Err(e) => refused.push(Some(e)),
        }
    }
    let mut results = s.node.request_all(good).await.into_iter();
    let mut answers = Vec::with_capacity(n);
    for ((refused, call), tap) in refused.into_iter().zip(&calls).zip(&taps) {
        let result = match refused {
            Some(e) => Err(e),
            None => results
                .next()
                .unwrap_or_else(|| Err(RaftError::server("no answer"))),
        };
        let body = result.map(|r| codec::response_body(&r));
        if let Some(t) = tap {
            t.replied(&body);
        }
        let (status, text) = status_and_text(body, call.as_ref());
        answers.push((status.as_u16(), text));
    }
    let mut r = text(
        StatusCode::OK,
        codec::encode_batch_answer(&answers),
        Extra::DatumHeaders,
    );
    // The header also says "send me batches": not while a page watches or a fault is set.
    if !s.live.watched() && !s.live.faults_active() {
        if let Ok(v) = HeaderValue::from_str(&n.to_string()) {
            r.headers_mut().insert(codec::BATCH_HEADER, v);
        }
    }
    r
}

/// RaftController's `Content-Type: application/json; charset=<getAcceptEncoding>` on its datum
/// and state answers: the first `Accept-Charset` entry without its parameters, `UTF-8` when
/// absent (RaftController 401-405). Only the label is echoed; the body stays UTF-8 (a
/// deviation listed in the README). Errors keep the handler's own type, as Spring answers them.
fn echo_charset(r: &mut HttpResponse, request: &HeaderMap) {
    if r.status() != StatusCode::OK {
        return;
    }
    let asked = request
        .get(header::ACCEPT_CHARSET)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty());
    let Some(asked) = asked else {
        return;
    };
    let first = asked.split(',').next().unwrap_or(asked);
    let label = first.split(';').next().unwrap_or(first);
    if let Ok(v) = HeaderValue::from_str(&format!("application/json; charset={label}")) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
}

/// A call into Java's `RaftConsistencyServiceImpl` (put, remove, onPut, onRemove), which wraps
/// every failure below it in a `NacosException` answered 500 with its own text alone
/// (RaftConsistencyServiceImpl 88, 105, 142, 159; ResponseExceptionHandler): the node's reason is
/// in the log and the live view, not in the answer. Errors found before the service (decoding,
/// 400s) are not wrapped, as in Java.
enum ServiceCall {
    Put { key: String, value: String },
    Remove { key: String },
    OnPut { datum: String, source: String },
    OnRemove { datum: String, source: String },
}

impl ServiceCall {
    fn of(request: &Request) -> Option<ServiceCall> {
        Some(match request {
            Request::Forward { key, value, .. } => ServiceCall::Put {
                key: key.clone(),
                value: value.as_str().to_string(),
            },
            Request::ForwardDelete { key, .. } => ServiceCall::Remove { key: key.clone() },
            // A hardened follower's repair is no Java call: its refusal keeps the node's text,
            // which the follower reads (`REPAIR_DELETED`, `REPAIR_UNACKNOWLEDGED`).
            Request::Repair { .. } => return None,
            Request::Commit { datum, source } => ServiceCall::OnPut {
                // The controller types the datum by its key; an unknown kind leaves it null.
                datum: if key::kind(&datum.key).is_some() {
                    java_datum(&datum.key, datum.timestamp)
                } else {
                    "null".into()
                },
                source: java_peer(source),
            },
            Request::DeleteCommit { key, source } => ServiceCall::OnRemove {
                datum: java_datum(key, 0),
                source: java_peer(source),
            },
            _ => return None,
        })
    }

    /// Java's text; where Java fails with a NullPointerException (no leader known) the real
    /// reason follows it, since Java's text would not say why.
    fn failed(&self, e: &RaftError) -> String {
        let java = match self {
            ServiceCall::Put { key, value } => format!("Raft put failed, key:{key}, value:{value}"),
            ServiceCall::Remove { key } => format!("Raft remove failed, key:{key}"),
            ServiceCall::OnPut { datum, source } => {
                format!("Raft onPut failed, datum:{datum}, source: {source}")
            }
            ServiceCall::OnRemove { datum, source } => {
                format!("Raft onRemove failed, datum:{datum}, source: {source}")
            }
        };
        if e.message == nacos_raft_core::NO_LEADER {
            format!("{java}; caused: {}", e.message)
        } else {
            java
        }
    }
}

/// `Datum` has no `toString` in Java (it prints `Datum@<identity hash>`); this names the datum
/// instead (a deviation listed in the README).
fn java_datum(key: &str, timestamp: u64) -> String {
    format!("Datum{{key='{key}', timestamp={timestamp}}}")
}

/// `RaftPeer.toString` (RaftPeer 91-94).
fn java_peer(p: &nacos_raft_core::RaftPeer) -> String {
    format!(
        "RaftPeer{{ip='{}', voteFor='{}', term={}, leaderDueMs={}, heartbeatDueMs={}, state={}}}",
        p.ip,
        p.vote_for.as_deref().unwrap_or("null"),
        p.term,
        p.leader_due_ms,
        p.heartbeat_due_ms,
        p.state.as_str()
    )
}

/// Which answers carry the extra headers of Nacos' `datum`, `state` and `commit` handlers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Extra {
    None,
    /// `Cache-Control: no-cache` and the (misnamed, not acted upon) `Content-Encode: gzip`.
    DatumHeaders,
}

/// A 200 with `body`, or the error as Nacos answers it (no extra headers on errors).
fn respond(body: Result<String, RaftError>, extra: Extra) -> HttpResponse {
    match body {
        Ok(body) => text(StatusCode::OK, body, extra),
        Err(e) => {
            let status =
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            text(status, e.http_body(), Extra::None)
        }
    }
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

/// Checks a key written through the client path: the project's strict rule (a brief or
/// ephemeral key, or characters Nacos never generates, are refused with 400) and that it can be
/// stored safely.
fn client_key(k: &str) -> Result<(), RaftError> {
    key::validate_client_key(k).map_err(RaftError::bad_request)?;
    store::storable(k).map_err(RaftError::bad_request)
}

// ---- the operator endpoints ------------------------------------------------------------

/// Endpoint 4. Nacos' `RaftStore.load(key)` only looks at files directly in the data folder,
/// so for every key with a namespace it finds nothing and the reload does nothing; that is
/// reproduced. A top-level key (the switch) is read from its file and replaces the datum in
/// memory (`RaftCore.loadDatum`: no notification, no term change).
async fn reload(
    State(s): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> HttpResponse {
    let result = reload_from_disk(&s, q.as_deref(), &body).await;
    respond(result.map(|()| "ok".into()), Extra::None)
}

async fn reload_from_disk(s: &AppState, query: Option<&str>, body: &[u8]) -> Result<(), RaftError> {
    // WebUtils.required: the servlet's decoding only, then trimmed (no second decode here).
    let k = codec::required(query, body, "key")?.trim().to_string();
    if !key::namespace(&k).is_empty() {
        return Ok(());
    }
    let Some(path) = s.store.path_of(&k) else {
        return Ok(());
    };
    let on_disk = match std::fs::read(&path) {
        Ok(b) if !b.is_empty() => store::read_datum_file(&k, &b)
            .map_err(|why| RaftError::server(format!("cannot reload {}: {why}", path.display())))?,
        _ => return Ok(()),
    };
    s.node.reload(on_disk).await
}

/// Endpoint 8.
async fn raft_state(State(s): State<Arc<AppState>>, headers: HeaderMap) -> HttpResponse {
    let body = s
        .node
        .inspect(|n| {
            let peers: Vec<String> = n.peers().map(|p| p.to_json()).collect();
            // `rules` is this node's own field (Java has none; JSON readers skip it).
            format!(
                "{{\"services\":{},\"peers\":[{}],\"rules\":\"{}\"}}",
                n.service_count(),
                peers.join(","),
                n.config().rules
            )
        })
        .await;
    let mut r = respond(body, Extra::DatumHeaders);
    echo_charset(&mut r, &headers);
    r
}

/// Endpoint 11: the leader's RaftPeer JSON as a string, `"null"` when there is none.
async fn leader(State(s): State<Arc<AppState>>) -> HttpResponse {
    let inner = s
        .node
        .inspect(|n| {
            n.leader_record()
                .map(|p| p.to_json())
                .unwrap_or_else(|| "null".into())
        })
        .await;
    let body = inner.map(|inner| serde_json::json!({ "leader": inner }).to_string());
    respond(body, Extra::None)
}

/// Endpoint 12. Listeners are the in-process subscribers of Nacos' naming module
/// (ServiceManager, SwitchManager); this node has none.
async fn listeners() -> HttpResponse {
    text(StatusCode::OK, "{\"listeners\":[]}".into(), Extra::None)
}

async fn metrics(State(s): State<Arc<AppState>>) -> HttpResponse {
    let mut r = s.metrics.render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}
