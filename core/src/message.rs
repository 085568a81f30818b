//! What nodes say to each other: one [`Request`] variant per endpoint of docs/nacos-protocol.md §2,
//! the [`Response`] each gets, and the errors with Nacos' texts and status codes.

use crate::datum::{Datum, JsonValue};
use crate::peer::RaftPeer;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

/// One element of a beat's `datums`: a brief key and its timestamp.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeatDatum {
    /// Brief key (`meta.…` / `iplist.…`); empty when the entry has none: Java's `sendBeat` puts
    /// no `key` in the entry of a datum that is neither meta nor instance list (RaftCore
    /// 639-648). Read as Jackson's `asText` would give it (null as `null`, numbers as written).
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::wire::as_text"
    )]
    pub key: String,
    /// The leader's version of that key.
    pub timestamp: u64,
}

/// The heartbeat packet `{"peer":<leader RaftPeer>,"datums":[...]}` (§3.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BeatPacket {
    /// The leader as it sent the beat.
    pub peer: RaftPeer,
    /// Every key the leader holds (empty with `sendBeatOnly`). Shared: a leader whose keys did
    /// not change since its last beat sends the same list again without rebuilding it, and a
    /// follower that already checked that very list knows it has nothing to do.
    #[serde(serialize_with = "serialize_list")]
    pub datums: Arc<Vec<BeatDatum>>,
}

/// Serializes the shared list as the plain JSON array it stands for.
fn serialize_list<S: serde::Serializer>(
    list: &Arc<Vec<BeatDatum>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    list.as_slice().serialize(s)
}

/// A request from one node to another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `POST /raft/vote`: a candidate's peer right after it bumped its term.
    Vote(RaftPeer),
    /// `POST /raft/beat`: the leader's heartbeat (shared between all receivers of one beat).
    Beat(Arc<BeatPacket>),
    /// `GET /raft/peer`: "who are you now?" (makeLeader's refresh of a stale LEADER record).
    GetPeer,
    /// `GET /raft/datum?keys=`: full keys a follower fetches during beat sync.
    GetDatums(Vec<String>),
    /// `POST /raft/datum/commit`: the leader applied `datum` and asks followers to apply it.
    Commit {
        /// The new datum.
        datum: Datum,
        /// The leader, snapshotted before its own +100.
        source: RaftPeer,
    },
    /// `DELETE /raft/datum/commit`: the leader deleted `key`.
    DeleteCommit {
        /// The deleted key.
        key: String,
        /// The leader.
        source: RaftPeer,
    },
    /// `POST /raft/datum`: a non-leader forwards a write to the leader.
    Forward {
        /// The full key.
        key: String,
        /// The value.
        value: JsonValue,
        /// Under [`Fix::StaleForward`](crate::Fix::StaleForward): the term of the leader it is
        /// addressed to (`"leaderTerm"` in the body, which Java ignores). A node that does not
        /// lead in that term refuses it, so a forward its sender gave up on cannot be carried
        /// out after later writes when the network delivers it late.
        leader_term: Option<u64>,
    },
    /// `POST /raft/datum` with the datum's `timestamp`: under [`Fix::DeadKey`](crate::Fix::DeadKey)
    /// a follower holds the datum but its leader's beat does not list it; the leader takes it
    /// unless it holds the key at that timestamp or newer, or deleted it at or after it. A Java
    /// leader reads it as a plain forwarded write.
    Repair {
        /// The full key.
        key: String,
        /// The follower's value.
        value: JsonValue,
        /// The follower's timestamp of it.
        timestamp: u64,
    },
    /// `DELETE /raft/datum`: a non-leader forwards a delete to the leader.
    ForwardDelete {
        /// The full key.
        key: String,
        /// As in [`Request::Forward`] (the parameter `leaderTerm`, which Java ignores).
        leader_term: Option<u64>,
    },
}

/// A successful (HTTP 200) answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// The receiver's own RaftPeer (vote, beat, peer).
    Peer(RaftPeer),
    /// The text `ok` (commit, delete commit, forward, forward delete).
    Ok,
    /// One element per requested key, `None` where the key is absent.
    Datums(Vec<Option<Datum>>),
}

/// A refusal with the status code and message Nacos uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaftError {
    /// HTTP status: 400 for Nacos' `IllegalArgumentException`s, 500 otherwise.
    pub status: u16,
    /// The exception message exactly as Nacos words it.
    pub message: String,
}

impl RaftError {
    /// An `IllegalArgumentException` (400).
    pub fn bad_request(message: impl Into<String>) -> RaftError {
        RaftError {
            status: 400,
            message: message.into(),
        }
    }

    /// Any other exception (500).
    pub fn server(message: impl Into<String>) -> RaftError {
        RaftError {
            status: 500,
            message: message.into(),
        }
    }

    /// The HTTP body Nacos' `ResponseExceptionHandler` writes: the bare message for 400, the
    /// `caused: <msg>;` chain for 500.
    pub fn http_body(&self) -> String {
        if self.message.is_empty() {
            // Java's getAllExceptionMsg stops at a null message (a NullPointerException): an
            // empty body.
            return String::new();
        }
        if self.status == 400 {
            self.message.clone()
        } else {
            alloc::format!("caused: {};", self.message)
        }
    }
}

impl fmt::Display for RaftError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for RaftError {}

/// Why a request this node sent did not get a 200 answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The peer answered with a non-200 status.
    Status(RaftError),
    /// Nothing came back before the client's read timeout (cut link, lost message).
    Timeout,
    /// The connection was refused or reset (peer down).
    Refused,
    /// The answer could not be understood.
    Malformed(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Status(e) => write!(f, "{}: {}", e.status, e.http_body()),
            Failure::Timeout => f.write_str("timed out"),
            Failure::Refused => f.write_str("connection refused"),
            Failure::Malformed(m) => write!(f, "malformed answer: {m}"),
        }
    }
}

/// The kind of a message on a link, as named in the page's DOM contract (`data-msg`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MsgKind {
    /// Vote request.
    Vote,
    /// Answer to a vote.
    VoteReply,
    /// Heartbeat.
    Beat,
    /// Answer to a heartbeat.
    BeatReply,
    /// Peer refresh request.
    Peer,
    /// Answer to a peer refresh.
    PeerReply,
    /// Datum fetch (beat sync).
    DatumGet,
    /// Answer to a datum fetch.
    DatumReply,
    /// Commit of a write.
    Commit,
    /// Answer to a commit.
    CommitReply,
    /// Forwarded write or delete.
    Forward,
    /// Answer to a forward.
    ForwardReply,
    /// Delete commit.
    DeleteCommit,
    /// Answer to a delete commit.
    DeleteCommitReply,
}

impl MsgKind {
    /// Every kind, requests before their answers (readers of the DOM names look them up here).
    pub const ALL: [MsgKind; 14] = [
        MsgKind::Vote,
        MsgKind::VoteReply,
        MsgKind::Beat,
        MsgKind::BeatReply,
        MsgKind::Peer,
        MsgKind::PeerReply,
        MsgKind::DatumGet,
        MsgKind::DatumReply,
        MsgKind::Commit,
        MsgKind::CommitReply,
        MsgKind::Forward,
        MsgKind::ForwardReply,
        MsgKind::DeleteCommit,
        MsgKind::DeleteCommitReply,
    ];

    /// The DOM / trace name (`vote`, `vote-reply`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            MsgKind::Vote => "vote",
            MsgKind::VoteReply => "vote-reply",
            MsgKind::Beat => "beat",
            MsgKind::BeatReply => "beat-reply",
            MsgKind::Peer => "peer",
            MsgKind::PeerReply => "peer-reply",
            MsgKind::DatumGet => "datum-get",
            MsgKind::DatumReply => "datum-reply",
            MsgKind::Commit => "commit",
            MsgKind::CommitReply => "commit-reply",
            MsgKind::Forward => "forward",
            MsgKind::ForwardReply => "forward-reply",
            MsgKind::DeleteCommit => "delete-commit",
            MsgKind::DeleteCommitReply => "delete-commit-reply",
        }
    }

    /// Whether this is an answer rather than a request.
    pub fn is_reply(self) -> bool {
        matches!(
            self,
            MsgKind::VoteReply
                | MsgKind::BeatReply
                | MsgKind::PeerReply
                | MsgKind::DatumReply
                | MsgKind::CommitReply
                | MsgKind::ForwardReply
                | MsgKind::DeleteCommitReply
        )
    }

    /// The answer kind of a request kind (itself for answers).
    pub fn reply(self) -> MsgKind {
        match self {
            MsgKind::Vote => MsgKind::VoteReply,
            MsgKind::Beat => MsgKind::BeatReply,
            MsgKind::Peer => MsgKind::PeerReply,
            MsgKind::DatumGet => MsgKind::DatumReply,
            MsgKind::Commit => MsgKind::CommitReply,
            MsgKind::Forward => MsgKind::ForwardReply,
            MsgKind::DeleteCommit => MsgKind::DeleteCommitReply,
            other => other,
        }
    }
}

impl Request {
    /// The message kind of this request.
    pub fn kind(&self) -> MsgKind {
        match self {
            Request::Vote(_) => MsgKind::Vote,
            Request::Beat(_) => MsgKind::Beat,
            Request::GetPeer => MsgKind::Peer,
            Request::GetDatums(_) => MsgKind::DatumGet,
            Request::Commit { .. } => MsgKind::Commit,
            Request::DeleteCommit { .. } => MsgKind::DeleteCommit,
            Request::Forward { .. } | Request::Repair { .. } | Request::ForwardDelete { .. } => {
                MsgKind::Forward
            }
        }
    }

    /// HTTP method and path (after the context path `/nacos`) Nacos uses for this request.
    pub fn endpoint(&self) -> (&'static str, &'static str) {
        match self {
            Request::Vote(_) => ("POST", "/v1/ns/raft/vote"),
            Request::Beat(_) => ("POST", "/v1/ns/raft/beat"),
            Request::GetPeer => ("GET", "/v1/ns/raft/peer"),
            Request::GetDatums(_) => ("GET", "/v1/ns/raft/datum"),
            Request::Commit { .. } => ("POST", "/v1/ns/raft/datum/commit"),
            Request::DeleteCommit { .. } => ("DELETE", "/v1/ns/raft/datum/commit"),
            Request::Forward { .. } | Request::Repair { .. } => ("POST", "/v1/ns/raft/datum"),
            Request::ForwardDelete { .. } => ("DELETE", "/v1/ns/raft/datum"),
        }
    }

    /// The JSON a Java node would put on the wire for this request (decoded form: the vote
    /// parameter, the inner beat packet, the commit or forward body, the key list).
    pub fn wire_json(&self) -> String {
        use crate::wire::{CommitBody, ForwardBody};
        match self {
            Request::Vote(p) => p.to_json(),
            Request::Beat(b) => b.to_json(),
            Request::GetPeer => String::new(),
            Request::GetDatums(keys) => keys.join(","),
            Request::Commit { datum, source } => CommitBody {
                datum: datum.clone(),
                source: source.clone(),
            }
            .to_json(),
            Request::DeleteCommit { key, source } => CommitBody {
                datum: Datum {
                    key: key.clone(),
                    value: None,
                    timestamp: 0,
                },
                source: source.clone(),
            }
            .to_json(),
            Request::Forward {
                key,
                value,
                leader_term,
            } => ForwardBody {
                key: key.clone(),
                value: value.clone(),
                timestamp: None,
                leader_term: *leader_term,
            }
            .to_json(),
            Request::Repair {
                key,
                value,
                timestamp,
            } => ForwardBody {
                key: key.clone(),
                value: value.clone(),
                timestamp: Some(*timestamp),
                leader_term: None,
            }
            .to_json(),
            Request::ForwardDelete { key, .. } => key.clone(),
        }
    }
}

impl Response {
    /// The body a Java node would answer with.
    pub fn wire_json(&self) -> String {
        match self {
            Response::Peer(p) => p.to_json(),
            Response::Ok => String::from("ok"),
            Response::Datums(d) => crate::wire::datums_to_json(d),
        }
    }
}
