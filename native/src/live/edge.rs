//! Where the live view meets the wire: the client edge ([`OutboundTap`], one per request this
//! node sends), the server edge ([`server_edge`], a middleware in front of every endpoint but
//! `/nacos-raft/`) and the record of a request this node answers ([`InboundTap`]).
//!
//! Faults act here, so peers see what a real network or a real crash would show them: a cut or
//! lost request is never delivered (the sender times out after its read timeout), a crashed node
//! resets every connection (the sender sees a refusal), latency delays the request or answer.

use super::faults::Verdict;
use super::record::{self, Msg, Outcome, Phase};
use super::{Live, FROM_HEADER, RID_HEADER};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;
use nacos_raft_core::{Failure, MsgKind, RaftError, RaftPeer, Request as RaftRequest};
use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The record keeping of one request this node sends, from the `sent` record to the `answered`
/// one, and the faults of the client edge.
pub struct OutboundTap {
    live: Live,
    rid: String,
    kind: MsgKind,
    to: String,
    sent_ms: u64,
}

impl Live {
    /// Numbers a request to `to`, adds the id and sender headers to `headers` and writes the
    /// `sent` record (if anyone watches).
    pub fn outbound(
        &self,
        to: &str,
        req: &RaftRequest,
        headers: &mut Vec<(&'static str, String)>,
    ) -> OutboundTap {
        let n = self.0.next_rid.fetch_add(1, Ordering::Relaxed);
        let rid = format!("{}/{n}", self.0.me);
        headers.push((RID_HEADER, rid.clone()));
        headers.push((FROM_HEADER, self.0.me.clone()));
        let tap = OutboundTap {
            live: self.clone(),
            rid,
            kind: req.kind(),
            to: to.to_string(),
            sent_ms: record::now_ms(),
        };
        if self.watched() {
            let (payload, truncated) = record::request_payload(req);
            let mut m = Msg::new(Phase::Sent, &tap.rid, tap.kind, &self.0.me, to);
            m.at_ms = tap.sent_ms;
            m.payload = &payload;
            m.truncated = truncated;
            self.emit(&m);
        }
        tap
    }
}

impl OutboundTap {
    /// The client edge: waits out an added latency, or fails the request as the fault
    /// dictates (a cut or lost request after the client's timeout, as a dropped one would).
    pub async fn gate(&self) -> Result<(), Failure> {
        match self.live.0.faults.outbound(&self.to) {
            Verdict::Pass(delay) => {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                Ok(())
            }
            Verdict::Crashed => Err(Failure::Refused),
            v @ (Verdict::Cut | Verdict::Lost) => {
                let outcome = if v == Verdict::Cut {
                    Outcome::Cut
                } else {
                    Outcome::Lost
                };
                self.answer(outcome, None, None, "");
                tokio::time::sleep(self.live.0.drop_timeout).await;
                Err(Failure::Timeout)
            }
        }
    }

    /// Writes the `answered` record of `result` (the status and body, or the failure).
    pub fn answered(&self, result: &Result<(u16, Bytes), Failure>) {
        if !self.live.watched() {
            return;
        }
        match result {
            Ok((status, body)) => {
                let (payload, _) = record::capped_bytes(body);
                let granted = (self.kind == MsgKind::Vote && (200..300).contains(status))
                    .then(|| voted_for(body, &self.live.0.me));
                let outcome = if (200..300).contains(status) {
                    Outcome::Ok
                } else {
                    Outcome::Error
                };
                self.answer(outcome, Some(*status), granted, &payload);
            }
            Err(Failure::Refused) => self.answer(Outcome::Refused, None, None, ""),
            Err(Failure::Timeout) => self.answer(Outcome::Timeout, None, None, ""),
            Err(Failure::Status(e)) => {
                self.answer(Outcome::Error, Some(e.status), None, &e.http_body())
            }
            Err(Failure::Malformed(m)) => self.answer(Outcome::Error, None, None, m),
        }
    }

    fn answer(&self, outcome: Outcome, status: Option<u16>, granted: Option<bool>, body: &str) {
        if !self.live.watched() {
            return;
        }
        let (payload, truncated) = record::capped_str(body);
        let me = &self.live.0.me;
        let mut m = Msg::new(Phase::Answered, &self.rid, self.kind.reply(), &self.to, me);
        m.outcome = Some(outcome);
        m.status = status;
        m.granted = granted;
        m.payload = payload;
        m.truncated = truncated;
        m.sent_ms = Some(self.sent_ms);
        self.live.emit(&m);
    }
}

/// Whether a vote answer (the voter's RaftPeer) names `candidate` as its vote.
fn voted_for(body: &[u8], candidate: &str) -> bool {
    serde_json::from_slice::<RaftPeer>(body)
        .ok()
        .and_then(|p| p.vote_for)
        .is_some_and(|v| v == candidate)
}

/// The record keeping of one request this node answers (the protocol endpoints).
pub struct InboundTap {
    live: Live,
    kind: MsgKind,
    rid: Option<String>,
    from: Option<String>,
}

impl Live {
    /// A tap for a request of `kind` with these headers, `None` when nobody watches.
    pub fn inbound(&self, kind: MsgKind, headers: &HeaderMap) -> Option<InboundTap> {
        if !self.watched() {
            return None;
        }
        let from = header(headers, FROM_HEADER).filter(|f| self.0.members.contains(f));
        Some(InboundTap {
            live: self.clone(),
            kind,
            rid: header(headers, RID_HEADER),
            from,
        })
    }

    /// The id of a request that came without one (a Java member's, a client's): the receiver
    /// names itself too, since two receivers of the same sender count on their own and the page
    /// pairs records of every stream by this id.
    fn in_rid(&self, from: &str) -> String {
        let n = self.0.next_in.fetch_add(1, Ordering::Relaxed);
        format!("{from}/in-{}-{n}", self.0.me)
    }
}

/// A header's value if it is short visible text.
fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    let v = headers.get(name)?.to_str().ok()?;
    (!v.is_empty() && v.len() <= 256).then(|| v.to_string())
}

/// The member a decoded request names as its sender (votes, beats, commits carry it).
fn named_sender(req: &RaftRequest) -> Option<&str> {
    match req {
        RaftRequest::Vote(p) => Some(&p.ip),
        RaftRequest::Beat(b) => Some(&b.peer.ip),
        RaftRequest::Commit { source, .. } | RaftRequest::DeleteCommit { source, .. } => {
            Some(&source.ip)
        }
        _ => None,
    }
}

const CLIENT: &str = "client";

impl InboundTap {
    /// Writes the `received` record: `req` is the decoded request, or the raw body when it could
    /// not be decoded.
    pub fn received(&mut self, req: Result<&RaftRequest, &[u8]>) {
        if self.from.is_none() {
            if let Ok(r) = req {
                self.from = named_sender(r)
                    .filter(|f| self.live.0.members.iter().any(|m| m == f))
                    .map(str::to_string);
            }
        }
        let from = self.from.clone().unwrap_or_else(|| CLIENT.to_string());
        if self.rid.is_none() {
            self.rid = Some(self.live.in_rid(&from));
        }
        let (payload, truncated) = match req {
            Ok(r) => {
                let (p, cut) = record::request_payload(r);
                (Cow::Owned(p), cut)
            }
            Err(raw) => record::capped_bytes(raw),
        };
        let rid = self.rid.as_deref().unwrap_or_default();
        let mut m = Msg::new(Phase::Received, rid, self.kind, &from, &self.live.0.me);
        m.client = self.from.is_none();
        m.payload = &payload;
        m.truncated = truncated;
        self.live.emit(&m);
    }

    /// Writes the `replied` record of the answer (its body, or the error).
    pub fn replied(&self, answer: &Result<String, RaftError>) {
        let me = &self.live.0.me;
        let to = self.from.as_deref().unwrap_or(CLIENT);
        let rid = self.rid.as_deref().unwrap_or_default();
        let mut m = Msg::new(Phase::Replied, rid, self.kind.reply(), me, to);
        let err_body;
        let body = match answer {
            Ok(text) => {
                m.outcome = Some(Outcome::Ok);
                m.status = Some(200);
                if self.kind == MsgKind::Vote {
                    m.granted = Some(voted_for(text.as_bytes(), to));
                }
                record::capped_str(text)
            }
            Err(e) => {
                m.outcome = Some(Outcome::Error);
                m.status = Some(e.status);
                err_body = e.http_body();
                record::capped_str(&err_body)
            }
        };
        m.payload = body.0;
        m.truncated = body.1;
        self.live.emit(&m);
    }
}

/// The kind of message a protocol path carries (`None` for other endpoints).
fn kind_of(method: &Method, path: &str) -> Option<MsgKind> {
    let tail = [
        "/nacos/nacos/v1/ns/raft",
        "/nacos/v1/ns/raft",
        "/v1/ns/raft",
    ]
    .iter()
    .find_map(|p| path.strip_prefix(p))?;
    Some(match (method.as_str(), tail) {
        ("POST", "/vote") => MsgKind::Vote,
        ("POST", "/beat") => MsgKind::Beat,
        ("GET", "/peer") => MsgKind::Peer,
        ("GET", "/datum") => MsgKind::DatumGet,
        ("POST" | "DELETE", "/datum") => MsgKind::Forward,
        ("POST", "/datum/commit") => MsgKind::Commit,
        ("DELETE", "/datum/commit") => MsgKind::DeleteCommit,
        _ => return None,
    })
}

/// An answer that never reaches the client: hyper drops the connection when the body fails
/// before its first byte, so the head is never written and the client reads a reset.
fn reset() -> Response {
    let fail = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other(
            "the node is crashed (fault API): connection reset",
        ))
    });
    Response::new(Body::from_stream(fail))
}

/// How long a dropped request is held before its connection is reset: longer than any peer
/// waits, so that the peer sees a timeout, not a refusal.
fn hold_time(live: &Live) -> Duration {
    live.0.drop_timeout * 2
}

/// The server edge: with no fault active it only passes the request on. Otherwise a crashed
/// node resets the connection, a request from a cut peer or lost to loss is held unanswered
/// (its sender times out), and an answer waits out an added latency.
pub(super) async fn server_edge(State(live): State<Live>, req: Request, next: Next) -> Response {
    let faults = &live.0.faults;
    if !faults.any() {
        return next.run(req).await;
    }
    if faults.crashed() {
        return reset();
    }
    let (req, from) = if faults.cuts_in() {
        sender_of(&live, req).await
    } else {
        (req, None)
    };
    let verdict = faults.inbound(from.as_deref());
    match verdict {
        Verdict::Crashed => reset(),
        Verdict::Cut | Verdict::Lost => {
            if live.watched() {
                if let Some(kind) = kind_of(req.method(), req.uri().path()) {
                    let who = from.clone().unwrap_or_else(|| CLIENT.to_string());
                    let rid =
                        header(req.headers(), RID_HEADER).unwrap_or_else(|| live.in_rid(&who));
                    let mut m = Msg::new(Phase::Received, &rid, kind, &who, &live.0.me);
                    m.client = from.is_none();
                    m.outcome = Some(if verdict == Verdict::Cut {
                        Outcome::Cut
                    } else {
                        Outcome::Lost
                    });
                    live.emit(&m);
                }
            }
            drop(req);
            tokio::select! {
                _ = tokio::time::sleep(hold_time(&live)) => {}
                _ = live.closed() => {}
            }
            reset()
        }
        Verdict::Pass(delay) => {
            let resp = next.run(req).await;
            if faults.crashed() {
                return reset();
            }
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            resp
        }
    }
}

/// The member that sent `req`: the `X-Nacos-Raft-From` header every nacos-raft-node sends, or,
/// for a Java member, the peer named in a vote, beat or commit body (read, then put back).
async fn sender_of(live: &Live, req: Request) -> (Request, Option<String>) {
    let is_member = |f: &str| live.0.members.iter().any(|m| m == f);
    if let Some(f) = header(req.headers(), FROM_HEADER) {
        return (req, is_member(&f).then_some(f));
    }
    let Some(kind) = kind_of(req.method(), req.uri().path()) else {
        return (req, None);
    };
    if !matches!(
        kind,
        MsgKind::Vote | MsgKind::Beat | MsgKind::Commit | MsgKind::DeleteCommit
    ) {
        return (req, None);
    }
    let (parts, body) = req.into_parts();
    let limits = live.0.limits;
    let Ok(bytes) = axum::body::to_bytes(body, limits.max_body).await else {
        // Over the cap or broken: the endpoint would refuse it anyway.
        return (Request::from_parts(parts, Body::empty()), None);
    };
    let query = parts.uri.query().map(str::to_string);
    let named = {
        let b = bytes.clone();
        tokio::task::spawn_blocking(move || {
            use crate::codec;
            match kind {
                MsgKind::Vote => codec::decode_vote(query.as_deref(), &b).ok().map(|p| p.ip),
                MsgKind::Beat => codec::decode_beat(&b, &limits).ok().map(|p| p.peer.ip),
                MsgKind::Commit => codec::decode_commit(&b, &limits).ok().map(|c| c.1.ip),
                _ => codec::decode_delete_commit(&b, &limits)
                    .ok()
                    .map(|c| c.1.ip),
            }
        })
        .await
        .ok()
        .flatten()
    };
    (
        Request::from_parts(parts, Body::from(bytes)),
        named.filter(|f| is_member(f)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_paths_map_to_message_kinds() {
        let k = |m: Method, p: &str| kind_of(&m, p);
        assert_eq!(
            k(Method::POST, "/nacos/v1/ns/raft/vote"),
            Some(MsgKind::Vote)
        );
        assert_eq!(k(Method::POST, "/v1/ns/raft/beat"), Some(MsgKind::Beat));
        assert_eq!(
            k(Method::DELETE, "/nacos/nacos/v1/ns/raft/datum/commit"),
            Some(MsgKind::DeleteCommit)
        );
        assert_eq!(
            k(Method::DELETE, "/nacos/v1/ns/raft/datum"),
            Some(MsgKind::Forward)
        );
        assert_eq!(
            k(Method::GET, "/nacos/v1/ns/raft/datum"),
            Some(MsgKind::DatumGet)
        );
        assert_eq!(k(Method::GET, "/nacos/v1/ns/raft/state"), None);
        assert_eq!(k(Method::GET, "/metrics"), None);
    }
}
