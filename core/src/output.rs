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

/// A write to stable storage, in Nacos' layout (docs/nacos-protocol.md §8).
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
    /// Not Nacos': the hardened log position ([`Fix::StaleCandidate`](crate::Fix::StaleCandidate),
    /// `docs/hardened/stale-candidate.md`). Durable before what follows: a follower's commit
    /// answer counts on it, and a restarted voter that forgot it could elect a node without
    /// the write.
    Position {
        /// The term of the leader whose writes it counts.
        term: u64,
        /// That leader's last write held here.
        index: u64,
    },
    /// Not Nacos': under [`Fix::DeadKey`](crate::Fix::DeadKey) a key this node deleted, with the
    /// timestamp it had (`docs/hardened/dead-key.md`). Durable with the removal it comes with:
    /// a restarted leader that forgot it would take a stale copy back as a repair (the delete
    /// lost). Restored with [`Node::with_tombstones`](crate::Node::with_tombstones).
    Tombstone {
        /// The deleted key.
        key: String,
        /// Its timestamp when it was deleted; a write above it brings the key back.
        at: u64,
    },
}

impl Persist {
    /// Whether this write must be durable (fsync'd) before any later send, reply or completion
    /// is released — the `Ready.MustSync` of etcd's raft. Datum files and their removal must:
    /// Nacos writes them before it commits to followers or answers; so must the hardened
    /// position, which a follower's commit answer counts on, and a tombstone. The term file need not:
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
/// # The contract
///
/// What a runtime must do with the list [`Node::take_outputs`](crate::Node::take_outputs)
/// returns. The simulator (`sim`), the page and the real node (`native/src/actor.rs`) all obey
/// it; the minimal runtime in the crate documentation shows it for every variant.
///
/// 1. **In order.** Carry the outputs out in the order given, and the order holds across calls:
///    everything a later `take_outputs` returns comes after everything an earlier one returned.
/// 2. **Writes first.** A [`Persist`] whose [`must_sync`](Persist::must_sync) is true must be
///    durable before any later [`Send`](Output::Send), [`Reply`](Output::Reply),
///    [`SetTimer`](Output::SetTimer) or [`Done`](Output::Done) is released — timers too wait
///    behind writes, because Nacos writes a datum's file before it commits to followers or
///    answers. Term writes (`meta.properties`) need no fsync, but they still apply in order:
///    the last term written wins.
/// 3. **A failed write stops the node.** If a persist fails, the runtime must not release any
///    later output and must stop the node (fail-stop): it already told itself the data was
///    durable, and cannot keep that promise. The real node exits with code 74.
/// 4. **Events carry no obligation.** [`Event`](Output::Event)s change nothing; a runtime may
///    log them, show them, drop them, or handle them at once, ahead of outputs held behind a
///    write.
/// 5. **Inputs may come while outputs are pending.** The node's state already reflects every
///    decision it emitted, so a runtime may feed new inputs (ticks, requests, answers, timers,
///    client operations) while earlier outputs still wait behind a write; the new outputs
///    queue behind the held ones (rule 1). An answer can only come for a send already released.
/// 6. **Sends are asynchronous.** Never wait for an answer before handling the next output.
///    Report the outcome of every send once, with [`Node::on_response`](crate::Node::on_response)
///    and the send's `id`: the answer, or a [`Failure`](crate::Failure) (refused, timed out,
///    malformed). Extra or unknown ids are ignored; a send never reported leaks its entry and,
///    for a forwarded write, never completes the client's operation.
/// 7. **Every request gets one reply**, with the inbound id the runtime gave it — at once, or
///    (forwarded writes) when the write finishes. Timers are never cancelled: fire each one once
///    after `after_ms`; the node ignores those that no longer matter.
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
