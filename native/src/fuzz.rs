//! Harnesses for fuzzing every decoder a peer or a client reaches (issue 12, "Garbage"). The
//! fuzz targets in `fuzz/` and the replay test `tests/fuzz_corpus.rs` call the same
//! [`Target::run`], so every input the fuzzer keeps or crashes on is replayed by `cargo test`.
//!
//! A harness takes the bytes a peer controls and does what the HTTP handler of `server.rs` does
//! with them (body cap, gunzip under its cap, URL-decoding, JSON, the key checks), then hands
//! the request to fixed nodes through [`Node::on_request`]: a fresh member, a follower, a
//! candidate and a leader, each a fresh clone for every input. It panics when a property fails:
//!
//! - a refused request leaves the node exactly as it was (the `Debug` text of the whole node is
//!   compared: records, datums, timers, random generator, requests in flight, write lock, sync
//!   queue), and the node's only outputs are its refusal and events;
//! - a refusal carries a 4xx or 5xx status;
//! - every request the node sends because of the input decodes, the way its receiver decodes
//!   it, to the request that was sent (for datum fetches: the same keys once joined with `,`,
//!   since Java's receiver splits on commas), and every 200 answer decodes back to itself;
//! - every datum the node asks to persist has a key that can be stored safely;
//! - files at start-up: nothing is lost (each file stays in place, or is moved to `corrupt/`
//!   unchanged, or is a leftover temporary file), each key comes back with its newest valid
//!   file, a second start finds the same, and a node restored from it can lead and beat.
//!
//! Allocation is watched from outside: the fuzz targets and the replay test run every input
//! with a counting allocator and check the peak against [`allocation_bound`], which grows with
//! the input and the caps of [`LIMITS`] but not with what an input claims to inflate to.
//!
//! Input formats (the seed corpora in `fuzz/corpus/<target>/` are readable examples):
//! - `vote`, `datum_keys`: the query string on the first line, the body after it;
//! - `beat`: the body; one that does not start with the gzip magic is gzipped by the harness
//!   first, so the fuzzer explores the packet rather than CRC failures;
//! - `commit`, `delete_commit`, `publish`: the body, as is;
//! - `answer`: an HTTP status on the first line (200 if unreadable), the answer body after it,
//!   given as the answer to every kind of request a node sends;
//! - `store`: files of a data directory, each introduced by a line `== <relative path>`.

use crate::codec::{self, Limits};
use crate::store::{self, Store};
use nacos_raft_core::key;
use nacos_raft_core::{BeatDatum, BeatPacket, Datum, Event, JsonValue, PeerState, RaftPeer};
use nacos_raft_core::{Config, Failure, Node, Output, Persist, RaftError, Request, Response};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

/// The caps the harnesses apply: the body cap far above any fuzz input (so bodies are decoded),
/// the gunzip cap far below what a few kilobytes of gzip can inflate to (so bombs hit it).
pub const LIMITS: Limits = Limits {
    max_body: 1 << 20,
    max_gunzip: 64 << 10,
};

/// Most bytes one input may have allocated at once, above what was allocated before it: 64
/// bytes per byte of input or of the largest inflated body, plus 2 MiB. A body inflating beyond
/// the gunzip cap must have been refused before it could cost more.
pub fn allocation_bound(input_len: usize) -> usize {
    64 * (input_len + LIMITS.max_gunzip) + (2 << 20)
}

/// One decoder a peer or a client reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `POST /raft/vote`: the `vote` parameter from the query string or a form body.
    Vote,
    /// `POST /raft/beat`: gzip, two URL-decodes, the outer and the strict inner JSON.
    Beat,
    /// `POST /raft/datum/commit`.
    Commit,
    /// `DELETE /raft/datum/commit`.
    DeleteCommit,
    /// `POST /raft/datum`: a forwarded publish or a client write.
    Publish,
    /// The key parameters: `GET /raft/datum?keys=`, `DELETE /raft/datum?key=`,
    /// `PUT /raft/datum/reload?key=`, and the key functions of `nacos_raft_core::key`.
    DatumKeys,
    /// Answers to the requests this node sends (vote, beat, peer, fetch, commit, forwards).
    Answer,
    /// The files of a data directory at start-up (`Store::load`, then `Node::restore`).
    Store,
}

impl Target {
    /// Every target, in the order `make fuzz` runs them.
    pub const ALL: [Target; 8] = [
        Target::Vote,
        Target::Beat,
        Target::Commit,
        Target::DeleteCommit,
        Target::Publish,
        Target::DatumKeys,
        Target::Answer,
        Target::Store,
    ];

    /// The name of the fuzz target and of its corpus folder.
    pub fn name(self) -> &'static str {
        match self {
            Target::Vote => "vote",
            Target::Beat => "beat",
            Target::Commit => "commit",
            Target::DeleteCommit => "delete_commit",
            Target::Publish => "publish",
            Target::DatumKeys => "datum_keys",
            Target::Answer => "answer",
            Target::Store => "store",
        }
    }

    /// Feeds one input; panics when a property fails.
    pub fn run(self, data: &[u8]) {
        match self {
            Target::Vote
            | Target::Beat
            | Target::Commit
            | Target::DeleteCommit
            | Target::Publish => requests(self, data),
            Target::DatumKeys => datum_keys(data),
            Target::Answer => answer(data),
            Target::Store => store_files(data),
        }
    }
}

// ---- the endpoints ----------------------------------------------------------------------

/// One HTTP request an input of a request target stands for, and what `server.rs` makes of it
/// before the node: the request it hands to the node (`None` for the reload path, which reads a
/// file instead), or its refusal. `tests/fuzz_server.rs` sends the refused ones to a real node
/// and checks that it answers exactly so, which keeps these harnesses true to the handlers.
#[derive(Debug)]
pub struct Exchange {
    /// HTTP method.
    pub method: &'static str,
    /// Path under [`codec::RAFT_BASE`] and query string.
    pub path_and_query: String,
    /// The body as sent.
    pub body: Vec<u8>,
    /// The request for the node, or the refusal.
    pub outcome: Result<Option<Request>, RaftError>,
}

/// The HTTP requests an input of a request target stands for (none for `answer` and `store`).
pub fn exchanges(target: Target, data: &[u8]) -> Vec<Exchange> {
    let exchange = |method, path: &str, query: Option<&str>, body: &[u8], outcome| Exchange {
        method,
        path_and_query: match query {
            Some(q) => format!("{}{path}?{q}", codec::RAFT_BASE),
            None => format!("{}{path}", codec::RAFT_BASE),
        },
        body: body.to_vec(),
        outcome,
    };
    match target {
        Target::Vote => {
            let (query, body) = query_and_body(data);
            let q = query.as_deref();
            let r = decoded(body, |b| codec::decode_vote(q, b)).map(|p| Some(Request::Vote(p)));
            vec![exchange("POST", "/vote", q, body, r)]
        }
        Target::Beat => {
            let body = if codec::is_gzip(data) {
                data.to_vec()
            } else {
                codec::gzip(data, 1)
            };
            let r = decoded(&body, |b| codec::decode_beat(b, &LIMITS))
                .map(|p| Some(Request::Beat(p.into())));
            // A hardened member's reading of the same bytes (named lists, differences) never
            // panics, and reads a beat that names no list exactly as Nacos' reading does.
            if let Ok((p, None)) = codec::decode_beat_named(&body, &LIMITS) {
                assert_eq!(codec::decode_beat(&body, &LIMITS).ok(), Some(p));
            }
            vec![exchange("POST", "/beat", None, &body, r)]
        }
        Target::Commit => {
            let r =
                decoded(data, |b| codec::decode_commit(b, &LIMITS)).and_then(|(datum, source)| {
                    // An unstorable key is refused before the node; an empty one reaches it.
                    if !datum.key.is_empty() {
                        store::storable(&datum.key).map_err(RaftError::server)?;
                    }
                    Ok(Some(Request::Commit { datum, source }))
                });
            vec![exchange("POST", "/datum/commit", None, data, r)]
        }
        Target::DeleteCommit => {
            let r = decoded(data, |b| codec::decode_delete_commit(b, &LIMITS))
                .map(|(key, source)| Some(Request::DeleteCommit { key, source }));
            vec![exchange("DELETE", "/datum/commit", None, data, r)]
        }
        Target::Publish => {
            let r = decoded(data, |b| codec::decode_publish(b, &LIMITS)).and_then(|f| {
                client_key(&f.key)?;
                Ok(Some(codec::publish_request(f)))
            });
            vec![exchange("POST", "/datum", None, data, r)]
        }
        Target::DatumKeys => {
            let (query, body) = query_and_body(data);
            let q = query.as_deref();
            let get = decoded(body, |b| codec::decode_keys(q, b))
                .map(|keys| Some(Request::GetDatums(keys)));
            let delete = decoded(body, |b| codec::decode_key(q, b)).and_then(|key| {
                client_key(&key)?;
                let leader_term = codec::decode_leader_term(q, b"")?;
                Ok(Some(Request::ForwardDelete { key, leader_term }))
            });
            let reload = decoded(body, |b| codec::decode_key(q, b)).map(|_| None);
            vec![
                exchange("GET", "/datum", q, body, get),
                exchange("DELETE", "/datum", q, body, delete),
                exchange("PUT", "/datum/reload", q, body, reload),
            ]
        }
        Target::Answer | Target::Store => Vec::new(),
    }
}

/// Checks the refusals and offers the accepted requests to the nodes.
fn requests(target: Target, data: &[u8]) {
    for ex in exchanges(target, data) {
        match ex.outcome {
            Ok(Some(req)) => offer(req),
            Ok(None) => {}
            Err(e) => check_refusal(&e),
        }
    }
}

/// The key parameters: the laws of the key functions on every decoded key, and the file the
/// reload path would read; then the three endpoints.
fn datum_keys(data: &[u8]) {
    let (query, body) = query_and_body(data);
    let q = query.as_deref();
    if let Ok(keys) = codec::decode_keys(q, body) {
        for k in &keys {
            key_laws(k);
        }
    }
    if let Ok(k) = codec::decode_key(q, body) {
        key_laws(&k);
        // `PUT /datum/reload`: a key without a namespace is read from `data/<file>`.
        if key::namespace(&k).is_empty() {
            if let Some(path) = scratch_store().path_of(&k) {
                assert_eq!(
                    path.parent(),
                    Some(scratch_store().root().join("data").as_path()),
                    "reload of {k:?} would read {path:?}"
                );
            }
        }
    }
    requests(Target::DatumKeys, data);
}

/// `server.rs`'s check of keys written through the client path.
fn client_key(k: &str) -> Result<(), RaftError> {
    key::validate_client_key(k).map_err(RaftError::bad_request)?;
    store::storable(k).map_err(RaftError::bad_request)
}

/// Splits `<query>\n<body>`; an input without a newline is all query.
fn query_and_body(data: &[u8]) -> (Option<String>, &[u8]) {
    let (q, body) = match data.iter().position(|&c| c == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &data[data.len()..]),
    };
    let q = (!q.is_empty()).then(|| String::from_utf8_lossy(q).into_owned());
    (q, body)
}

/// The body cap (axum's `DefaultBodyLimit`: 413), then the decoder.
fn decoded<T>(
    body: &[u8],
    decode: impl FnOnce(&[u8]) -> Result<T, RaftError>,
) -> Result<T, RaftError> {
    if body.len() > LIMITS.max_body {
        return Err(RaftError {
            status: codec::TOO_LARGE,
            message: "length limit exceeded".into(),
        });
    }
    decode(body)
}

fn check_refusal(e: &RaftError) {
    assert!(
        (400..600).contains(&e.status),
        "refusal with status {}: {}",
        e.status,
        e.message
    );
    let _ = e.http_body();
}

// ---- the nodes --------------------------------------------------------------------------

const A: &str = "127.0.0.1:8848";
const B: &str = "127.0.0.1:8849";
const C: &str = "127.0.0.1:8850";
const INBOUND: u64 = 1_000_000;
const META: &str = "com.alibaba.nacos.naming.domains.meta.public##DEFAULT_GROUP@@demo";
const IPLIST: &str = "com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@demo";

fn members() -> Vec<String> {
    vec![A.into(), B.into(), C.into()]
}

fn datums() -> Vec<Datum> {
    let value = |t: &str| Some(JsonValue::parse(t).expect("fixture JSON"));
    vec![
        Datum {
            key: META.into(),
            value: value(r#"{"name":"DEFAULT_GROUP@@demo","namespaceId":"public"}"#),
            timestamp: 3,
        },
        Datum {
            key: IPLIST.into(),
            value: value(r#"{"instanceList":[{"ip":"127.0.0.5","port":8080}]}"#),
            timestamp: 12,
        },
        Datum {
            key: key::SWITCH_KEY.into(),
            value: value(r#"{"name":"00-00---000-NACOS_SWITCH_DOMAIN-000---00-00"}"#),
            timestamp: 1,
        },
    ]
}

/// The record of A as a leader at `term`, as a beat carries it.
fn leader_record(term: u64) -> RaftPeer {
    RaftPeer {
        ip: A.into(),
        vote_for: Some(A.into()),
        term,
        leader_due_ms: 17342,
        heartbeat_due_ms: 5000,
        state: PeerState::Leader,
        data_version: None,
        position: None,
    }
}

/// The nodes every request is offered to, with the requests they have in flight (for
/// [`Target::Answer`]). Built once; each input works on clones.
struct Fixtures {
    nodes: Vec<(&'static str, Node)>,
    pending: Vec<(&'static str, u64, Request)>,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(build_fixtures)
}

fn build_fixtures() -> Fixtures {
    let cfg = Config::default();
    let restore = |me: &str| {
        Node::restore(cfg.clone(), me, &members(), 7, datums(), 0).expect("fixture node")
    };
    let mut pending = Vec::new();
    let mut note = |name: &'static str, outs: Vec<Output>| {
        for o in outs {
            if let Output::Send { id, request, .. } = o {
                if !pending.iter().any(|(n, _, r): &(&str, u64, Request)| {
                    *n == name && std::mem::discriminant(r) == std::mem::discriminant(&request)
                }) {
                    pending.push((name, id, request));
                }
            }
        }
    };
    let beat_of = |leader: &str, term: u64, newer: Option<&str>| {
        let mut peer = leader_record(term);
        peer.ip = leader.into();
        peer.vote_for = Some(leader.into());
        let datums: Vec<_> = datums()
            .iter()
            .filter_map(|d| {
                let timestamp = d.timestamp + u64::from(Some(d.key.as_str()) == newer);
                Some(BeatDatum {
                    key: key::brief(&d.key)?.into(),
                    timestamp,
                })
            })
            .collect();
        Request::Beat(
            BeatPacket {
                peer,
                datums: datums.into(),
            }
            .into(),
        )
    };
    let value = JsonValue::parse(r#"{"instanceList":[]}"#).expect("fixture JSON");

    let fresh = Node::new(cfg.clone(), B, &members(), 7).expect("fixture node");

    // A follower of A at term 5 with A's datums. C led before (term 4), so accepting A's beat
    // makes it ask C who it is now; A's beat lists a newer instance list, which it fetches; then
    // it forwards a write and a delete to A.
    let mut follower = restore(B);
    follower.on_request(1, beat_of(C, 4, None));
    follower.on_request(2, beat_of(A, 5, Some(IPLIST)));
    follower.put(IPLIST, value.clone());
    follower.remove(META);
    note("follower", follower.take_outputs());
    assert_eq!(follower.leader(), Some(A), "fixture follower");

    // A candidate: asked for votes in term 1.
    let mut candidate = restore(A);
    candidate.timeout_now();
    let votes = candidate.take_outputs();
    let mut leader = candidate.clone();
    note("candidate", votes.clone());

    // A leader: the candidate with both votes; it beats, deletes (delete commits in flight) and
    // publishes (commits in flight, the write lock held).
    grant_votes(&mut leader, &votes);
    assert!(leader.is_leader(), "fixture leader");
    for _ in 0..=(cfg.heartbeat_ms / cfg.tick_ms) {
        leader.tick();
    }
    leader.remove(IPLIST);
    leader.put(META, value);
    note("leader", leader.take_outputs());

    let kinds: std::collections::HashSet<_> = pending
        .iter()
        .map(|(_, _, r)| std::mem::discriminant(r))
        .collect();
    assert_eq!(
        kinds.len(),
        8,
        "every kind of request in flight: {pending:?}"
    );
    Fixtures {
        nodes: vec![
            ("fresh", fresh),
            ("follower", follower),
            ("candidate", candidate),
            ("leader", leader),
        ],
        pending,
    }
}

/// Answers every vote request among `outs` with a granted vote.
fn grant_votes(n: &mut Node, outs: &[Output]) {
    for o in outs {
        if let Output::Send {
            to,
            id,
            request: Request::Vote(me),
        } = o
        {
            let mut granted = RaftPeer::new(to.as_str());
            granted.vote_for = Some(me.ip.clone());
            granted.term = me.term;
            n.on_response(*id, Ok(Response::Peer(granted)));
        }
    }
}

/// Hands `req` to a clone of every fixture and checks what comes out.
fn offer(req: Request) {
    for (name, fixture) in &fixtures().nodes {
        let mut n = fixture.clone();
        let before = format!("{n:?}");
        n.on_request(INBOUND, req.clone());
        let outs = n.take_outputs();
        let reply = outs.iter().find_map(|o| match o {
            Output::Reply { to, result } if *to == INBOUND => Some(result.clone()),
            _ => None,
        });
        match reply {
            Some(Err(e)) => {
                check_refusal(&e);
                // Java accepts the leader of a beat before its sync fails (RaftCore 721-784: an
                // entry without a usable key is a 500 after makeLeader), so such a 500 changes the
                // peers and may ask old leaders who leads (`/peer`), but writes and deletes nothing.
                let leader_accepted = matches!(req, Request::Beat(_))
                    && outs
                        .iter()
                        .any(|o| matches!(o, Output::Event(Event::BeatAccepted { .. })));
                if !leader_accepted {
                    let after = format!("{n:?}");
                    assert!(
                        before == after,
                        "{name}: the refused request {req:?} ({e}) changed the node:\n{before}\n{after}"
                    );
                }
                for o in &outs {
                    let peer_refresh = leader_accepted
                        && matches!(
                            o,
                            Output::Send {
                                request: Request::GetPeer,
                                ..
                            }
                        );
                    assert!(
                        peer_refresh || matches!(o, Output::Event(_) | Output::Reply { .. }),
                        "{name}: the refused request {req:?} ({e}) also did {o:?}"
                    );
                }
            }
            Some(Ok(r)) => answer_round_trip(&req, &r),
            // A forwarded write is answered when it completes.
            None => {}
        }
        check_outputs(name, &outs);
    }
}

/// What the node does because of an input: requests decode as their receivers decode them,
/// written keys are storable.
fn check_outputs(name: &str, outs: &[Output]) {
    for o in outs {
        match o {
            Output::Send { request, .. } => request_round_trip(request),
            Output::Persist(Persist::Datum(d)) => assert!(
                store::storable(&d.key).is_ok(),
                "{name}: persists the unstorable key {:?}",
                d.key
            ),
            _ => {}
        }
    }
}

/// Encodes `req` as this node sends it and decodes it as the receiving handler does.
fn request_round_trip(req: &Request) {
    let out = codec::encode_request(req, None);
    let (path, query) = match out.path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (out.path_and_query.as_str(), None),
    };
    assert!(path.starts_with(codec::RAFT_BASE), "{path}");
    let limits = Limits::default();
    let fail = |e: RaftError| -> ! { panic!("{req:?} sent as {out:?} does not decode: {e}") };
    match req {
        Request::Vote(p) => {
            let got = codec::decode_vote(query, &out.body).unwrap_or_else(|e| fail(e));
            assert_eq!(&got, p, "{out:?}");
        }
        Request::Beat(p) => {
            let got = codec::decode_beat(&out.body, &limits).unwrap_or_else(|e| fail(e));
            assert_eq!(&got, &**p, "{out:?}");
        }
        Request::GetPeer => {}
        Request::GetDatums(keys) => {
            let got = codec::decode_keys(query, &out.body).unwrap_or_else(|e| fail(e));
            // The list travels joined by commas, as Java sends it, and is read back with Java's
            // `split(",")`: a key that itself holds a comma (a leader may list one in its beat)
            // arrives cut in two, trailing empty parts dropped, exactly as a Java leader reads
            // it (fuzz/regressions/beat/crash-c1c24196…).
            assert_eq!(got, codec::java_split(&keys.join(","), ','), "{out:?}");
        }
        Request::Commit { datum, source } => {
            let got = codec::decode_commit(&out.body, &limits).unwrap_or_else(|e| fail(e));
            assert_eq!((&got.0, &got.1), (datum, source), "{out:?}");
        }
        Request::DeleteCommit { key, source } => {
            let got = codec::decode_delete_commit(&out.body, &limits).unwrap_or_else(|e| fail(e));
            assert_eq!((&got.0, &got.1), (key, source), "{out:?}");
        }
        Request::Forward {
            key,
            value,
            leader_term,
        } => {
            let got = codec::decode_publish(&out.body, &limits).unwrap_or_else(|e| fail(e));
            assert_eq!(
                (&got.key, &got.value, got.timestamp, got.leader_term),
                (key, value, None, *leader_term),
                "{out:?}"
            );
        }
        Request::Repair {
            key,
            value,
            timestamp,
        } => {
            let got = codec::decode_publish(&out.body, &limits).unwrap_or_else(|e| fail(e));
            assert_eq!(
                (&got.key, &got.value, got.timestamp),
                (key, value, Some(*timestamp)),
                "{out:?}"
            );
        }
        Request::ForwardDelete { key, leader_term } => {
            let got = codec::decode_key(query, &out.body).unwrap_or_else(|e| fail(e));
            assert_eq!(&got, key, "{out:?}");
            let term = codec::decode_leader_term(query, &out.body).unwrap_or_else(|e| fail(e));
            assert_eq!(&term, leader_term, "{out:?}");
        }
    }
}

/// A 200 answer decodes, on the asking side, to what was answered.
fn answer_round_trip(req: &Request, r: &Response) {
    let body = codec::response_body(r);
    match codec::decode_answer(req, 200, body.as_bytes()) {
        Ok(back) => assert_eq!(&back, r, "answer {body}"),
        Err(f) => panic!("the answer {body} to {req:?} does not decode: {f}"),
    }
}

// ---- answers from peers -----------------------------------------------------------------

fn answer(data: &[u8]) {
    let (status, body) = match data.iter().position(|&c| c == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&data[..0], data),
    };
    let status = std::str::from_utf8(status)
        .ok()
        .and_then(|s| s.trim().parse::<u16>().ok())
        .unwrap_or(200);
    let f = fixtures();
    for (name, id, req) in &f.pending {
        let mut result = codec::decode_answer_capped(req, status, body, LIMITS.max_gunzip);
        // peer_client.rs: fetched datums whose keys cannot be stored never reach the node.
        if let Ok(Response::Datums(list)) = &mut result {
            for slot in list.iter_mut() {
                if slot
                    .as_ref()
                    .is_some_and(|d| store::storable(&d.key).is_err())
                {
                    *slot = None;
                }
            }
        }
        if let Err(Failure::Status(e)) = &result {
            let _ = e.http_body();
        }
        let Some((_, fixture)) = f.nodes.iter().find(|(n, _)| n == name) else {
            continue;
        };
        let mut n = fixture.clone();
        n.on_response(*id, result);
        // Whatever the answer did, the node still runs: a tick and its outputs.
        n.tick();
        check_outputs(name, &n.take_outputs());
    }
}

// ---- key functions ----------------------------------------------------------------------

/// Laws of `nacos_raft_core::key` on a key a peer sent.
fn key_laws(k: &str) {
    if let Some(b) = key::brief(k) {
        assert_eq!(key::detail(b).as_deref(), Some(k), "brief {b:?} of {k:?}");
    }
    if k.starts_with(key::BRIEF_META_PREFIX) || k.starts_with(key::BRIEF_IPLIST_PREFIX) {
        let d = key::detail(k).expect("a brief key has a long form");
        assert_eq!(key::brief(&d), Some(k), "detail {d:?} of {k:?}");
    }
    let ns = key::namespace(k);
    assert!(k.contains(ns), "namespace {ns:?} of {k:?}");
    if key::validate_client_key(k).is_ok() {
        assert!(key::kind(k).is_some(), "client key {k:?} has no kind");
        assert!(
            key::brief(k).is_some(),
            "client key {k:?} has no brief form"
        );
    }
    if store::storable(k).is_ok() {
        let path = scratch_store()
            .path_of(k)
            .unwrap_or_else(|| panic!("storable key {k:?} has no path"));
        let rel = path
            .strip_prefix(scratch_store().root())
            .unwrap_or_else(|_| panic!("{k:?} is stored outside the data directory: {path:?}"));
        assert!(
            rel.components().all(|c| matches!(c, Component::Normal(_)))
                && (2..=3).contains(&rel.components().count()),
            "{k:?} is stored at {rel:?}"
        );
    }
}

/// A data directory for path computations only: `Store::open` needs the folder, `path_of` does
/// not, so it is removed again at once.
fn scratch_store() -> &'static Store {
    static S: OnceLock<Store> = OnceLock::new();
    S.get_or_init(|| {
        let dir = scratch_root().join("paths");
        let store = Store::open(&dir).expect("scratch data directory");
        let _ = fs::remove_dir_all(scratch_root());
        store
    })
}

/// This process's scratch folder, in memory where `/dev/shm` exists. Each user removes it when
/// done, so nothing is left behind unless a property failed.
fn scratch_root() -> &'static Path {
    static R: OnceLock<PathBuf> = OnceLock::new();
    R.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        base.join(format!("nacos-raft-fuzz-{}", std::process::id()))
    })
}

// ---- files at start-up ------------------------------------------------------------------

/// Parses `== <path>` sections into files under the data directory. Paths are reduced to
/// `meta.properties`, `position`, `tombstones` or at most `data/<folder>/<file>` of plain names, so the harness writes only
/// inside its folder; a section whose path reduces to nothing is dropped.
fn store_sections(data: &[u8]) -> Vec<(PathBuf, Vec<u8>)> {
    let default = || {
        PathBuf::from("data/public")
            .join("com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@demo")
    };
    let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    let mut current: Option<(PathBuf, Vec<u8>)> = None;
    for line in data.split_inclusive(|&c| c == b'\n') {
        let Some(head) = line.strip_prefix(b"== ") else {
            let (_, body) = current.get_or_insert_with(|| (default(), Vec::new()));
            body.extend_from_slice(line);
            continue;
        };
        files.extend(current.take());
        let text = String::from_utf8_lossy(head);
        let parts: Vec<&str> = text
            .trim_end_matches(['\n', '\r'])
            .split('/')
            .filter(|p| !p.is_empty() && *p != "." && *p != ".." && !p.contains('\0'))
            .collect();
        let rest = match parts.as_slice() {
            [name @ ("meta.properties" | "position" | "tombstones")] => {
                current = Some((PathBuf::from(name), Vec::new()));
                continue;
            }
            ["data", rest @ ..] => rest,
            rest => rest,
        };
        let rest = &rest[rest.len().saturating_sub(2)..];
        let path: PathBuf = if rest.is_empty() || rest.iter().any(|p| p.len() > 200) {
            PathBuf::new()
        } else {
            std::iter::once("data")
                .chain(rest.iter().copied())
                .collect()
        };
        current = Some((path, Vec::new()));
    }
    files.extend(current);
    // Dropped: sections without a path, a later section for the same path, a file where an
    // earlier one needs a folder (and the reverse).
    let mut out: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    for (p, b) in files {
        let clash = p.as_os_str().is_empty()
            || out
                .iter()
                .any(|(q, _)| q == &p || q.starts_with(&p) || p.starts_with(q));
        if !clash {
            out.push((p, b));
        }
    }
    out
}

fn store_files(data: &[u8]) {
    let files = store_sections(data);
    let root = scratch_root().join("store");
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(root.join("data")).expect("scratch data directory");
    let mut written: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    for (rel, bytes) in files {
        let path = root.join(&rel);
        if let Some(parent) = path.parent() {
            if fs::create_dir_all(parent).is_err() {
                continue;
            }
        }
        if fs::write(&path, &bytes).is_ok() {
            written.push((rel, bytes));
        }
    }
    let store = Store::open(&root).expect("open the scratch data directory");
    let loaded = store
        .load()
        .unwrap_or_else(|e| panic!("start-up failed on {written:?}: {e}"));

    // Nothing is lost: every file is where it was, moved aside unchanged, or a leftover temp.
    for (rel, bytes) in &written {
        let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') && name.ends_with(".tmp") && rel.starts_with("data") {
            continue;
        }
        let path = root.join(rel);
        match fs::read(&path) {
            // The one file start-up may rewrite: tombstones compacted to a line per key.
            Ok(now) if rel == Path::new(store::TOMBSTONES_FILE) && &now != bytes => {
                let now = String::from_utf8(now).expect("tombstones rewritten as UTF-8");
                let kept = store::parse_tombstones(&now).expect("tombstones rewritten readable");
                assert_eq!(
                    kept, loaded.tombstones,
                    "tombstones compacted from {bytes:?}"
                );
            }
            Ok(now) => assert_eq!(&now, bytes, "{rel:?} changed at start-up"),
            Err(_) => {
                let moved = loaded
                    .moved_aside
                    .iter()
                    .find(|(from, _, _)| from == &path)
                    .unwrap_or_else(|| panic!("{rel:?} vanished at start-up"));
                assert!(
                    moved.1.starts_with(root.join("corrupt")),
                    "{rel:?} moved to {:?}",
                    moved.1
                );
                let kept = fs::read(&moved.1).expect("the moved file");
                assert_eq!(&kept, bytes, "{rel:?} changed when moved aside");
            }
        }
    }

    // Each key comes back from its newest valid file.
    let mut newest: BTreeMap<String, u64> = BTreeMap::new();
    for (rel, bytes) in &written {
        let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let direct = rel.components().count() <= 3 && rel.starts_with("data");
        if !direct || !name.starts_with(key::FILE_PREFIX) || bytes.is_empty() {
            continue;
        }
        // Valid as Java reads it: JSON of a datum whose value parses as its key's kind.
        if let Ok(d) = store::read_datum_file(name, bytes) {
            let t = newest.entry(d.key).or_insert(0);
            *t = (*t).max(d.timestamp);
        }
    }
    let got: BTreeMap<String, u64> = loaded
        .datums
        .iter()
        .map(|d| (d.key.clone(), d.timestamp))
        .collect();
    assert_eq!(got, newest, "datums loaded from {written:?}");
    for d in &loaded.datums {
        assert!(store::storable(&d.key).is_ok(), "loaded {:?}", d.key);
        assert!(d.value.as_ref().is_some_and(|v| !v.is_null()), "{d:?}");
    }

    // A second start finds the same and moves nothing.
    let again = store.load().expect("second start-up");
    assert!(again.moved_aside.is_empty(), "{:?}", again.moved_aside);
    assert_eq!(again.datums, loaded.datums);
    assert_eq!(again.term, loaded.term);
    assert_eq!(again.position, loaded.position);
    assert_eq!(again.tombstones, loaded.tombstones);

    // A node restored from it leads and beats; its beat decodes on a follower.
    let cfg = Config::default();
    let mut n = Node::restore(cfg.clone(), A, &members(), 7, loaded.datums, loaded.term)
        .expect("restore")
        .with_position(loaded.position.0, loaded.position.1)
        .with_tombstones(loaded.tombstones);
    n.timeout_now();
    let votes = n.take_outputs();
    grant_votes(&mut n, &votes);
    assert!(n.is_leader());
    for _ in 0..=(cfg.heartbeat_ms / cfg.tick_ms) {
        n.tick();
    }
    check_outputs("restored", &n.take_outputs());
    let _ = fs::remove_dir_all(scratch_root());
}
