//! What a [`Node`](crate::Node) asks its runtime to do.

use crate::event::Event;
use crate::message::{RaftError, Request, Response};
use crate::Datum;
use alloc::string::String;

/// Id of a request this node sent; the runtime hands it back with the answer.
pub type RequestId = u64;
/// Id the runtime gave a request this node received; the node answers with it.
pub type InboundId = u64;
/// Id of a client operation ([`Node::put`](crate::Node::put) / [`Node::remove`](crate::Node::remove)).
pub type OpId = u64;

/// A write to stable storage, in Nacos' layout (nacos-protocol.md §8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Persist {
    /// Write this datum's file (fsync'd in Nacos).
    Datum(Datum),
    /// Delete this key's file. Only emitted for keys with a namespace: Nacos never deletes the
    /// switch file.
    Remove {
        /// The key.
        key: String,
    },
    /// Rewrite `meta.properties` with `term=<n>` (no fsync in Nacos).
    Term(u64),
}

impl Persist {
    /// Whether this write must be durable (fsync'd) before any later send, reply or completion
    /// is released — the `Ready.MustSync` of etcd's raft. Datum files and their removal must:
    /// Nacos writes them before it commits to followers or answers. The term file need not:
    /// Nacos writes `meta.properties` without fsync, and a restarted node starts at term 0
    /// anyway (docs/nacos-protocol.md §8), so a lost term write changes nothing.
    pub fn must_sync(&self) -> bool {
        !matches!(self, Persist::Term(_))
    }
}

/// A timer the runtime must fire back with [`Node::on_timer`](crate::Node::on_timer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Timer {
    /// The publish of this operation waited long enough for a majority.
    PublishTimeout(OpId),
    /// The pause after processing one datum-fetch answer is over.
    SyncPause,
}

/// Where a client operation came from: a local caller or a forwarded request being served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// [`Node::put`](crate::Node::put) / [`Node::remove`](crate::Node::remove) on this node.
    Client(OpId),
    /// A `Forward` / `ForwardDelete` request received with this id.
    Inbound(InboundId),
}

/// One instruction for the runtime.
///
/// Obligations: carry the outputs out **in order**. In particular a [`Output::Persist`] must be
/// durable before any later [`Output::Send`], [`Output::Reply`] or [`Output::Done`] is released,
/// because Nacos writes a datum's file before it commits to followers or answers; term writes
/// (`meta.properties`) need no fsync. Sends are asynchronous: never wait for the answer before
/// handling the next output; feed it back with [`Node::on_response`](crate::Node::on_response).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Write to stable storage.
    Persist(Persist),
    /// Send a request to the member `to`; report the outcome with `id`.
    Send {
        /// Member address.
        to: String,
        /// Id to hand back with the answer.
        id: RequestId,
        /// The request.
        request: Request,
    },
    /// Answer the request received with id `to`.
    Reply {
        /// The inbound id.
        to: InboundId,
        /// 200 with a body, or an error status with Nacos' text.
        result: Result<Response, RaftError>,
    },
    /// Call [`Node::on_timer`](crate::Node::on_timer) with `timer` after `after_ms`.
    SetTimer {
        /// Which timer.
        timer: Timer,
        /// Delay in milliseconds.
        after_ms: u64,
    },
    /// A client operation finished.
    Done {
        /// The operation.
        op: OpId,
        /// Ok, or the error a Nacos API call would fail with.
        result: Result<(), RaftError>,
    },
    /// Something people may want to read.
    Event(Event),
}
