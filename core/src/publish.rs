//! Writes: `signalPublish` / `onPublish` and `signalDelete` / `onDelete` (docs/nacos-protocol.md §6),
//! serialized per node behind Nacos' `OPERATE_LOCK` (per key under [`Fix::GlobalLock`]).

use crate::event::Event;
use crate::key::{self, KeyKind};
use crate::message::{Failure, RaftError, Request, Response};
use crate::naming;
use crate::node::{Node, Pending};
use crate::output::{Origin, Output, Persist, RequestId, Timer};
use crate::{Datum, Fix, JsonValue, RaftPeer};
use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// Nacos' text when a publish timed out waiting for a majority (followed by `, key=<key>`).
pub const PUBLISH_FAILED: &str = "data publish failed, caused failed to notify majority";
/// This project's text when a write needs a leader and none is known (Nacos throws a
/// NullPointerException there, which has no message).
pub const NO_LEADER: &str = "no leader is available now";
/// The start of a hardened node's refusal of a forward addressed to a leader term it does not
/// lead in ([`Fix::StaleForward`]).
pub const FORWARD_MISADDRESSED: &str =
    "refused a forward addressed to another leader term, so that it is not carried out late";
/// The start of a hardened follower's answer to a write it forwarded to a leader it stopped
/// following before that leader answered ([`Fix::StaleForward`]).
pub const FORWARD_ABANDONED: &str = "the leader this write was forwarded to is no longer followed";
/// A hardened leader's answer to a repair of a key it deleted at or after the repair's timestamp
/// ([`Fix::DeadKey`]): the follower then deletes its copy.
pub const REPAIR_DELETED: &str = "repair refused: the key was deleted";
/// A hardened leader's answer to every repair when log positions are on ([`Fix::DeadKey`] with
/// [`Fix::StaleCandidate`]): it holds every acknowledged write and delete, so a copy it lacks or
/// holds older was never acknowledged (or was deleted since): the follower deletes it, as for
/// [`REPAIR_DELETED`], and fetches the leader's version if there is one.
pub const REPAIR_UNACKNOWLEDGED: &str = "repair refused: the leader holds every acknowledged write";
/// The timestamp range of one leader term ([`Fix::StaleCandidate`]): a leader elected in term
/// `t` writes a key at `t × TERM_STRIDE + 1` or above (one above its copy if that is higher). Decimal,
/// so that a timestamp reads as term and count (`3000000002`: term 3, second write); a billion
/// writes of one key in one term before a range runs into the next.
pub const TERM_STRIDE: u64 = 1_000_000_000;
/// A hardened non-leader's answer to a repair: the follower tries again with its next leader.
pub const REPAIR_NOT_LEADER: &str = "repair refused: not the leader";
/// A hardened leader's delete that a majority did not confirm within the publish timeout
/// ([`Fix::DeadKey`]); as with a publish, nothing is rolled back.
pub const DELETE_FAILED: &str = "data delete failed, a majority did not confirm it";

#[derive(Clone, Debug)]
pub(crate) enum Held {
    /// A leader's publish waiting for `remaining` more commit acks.
    Publishing {
        id: u64,
        origin: Origin,
        key: String,
        timestamp: u64,
        remaining: usize,
    },
    /// A hardened leader's delete waiting for `remaining` more delete-commit acks
    /// ([`Fix::DeadKey`]).
    Deleting {
        id: u64,
        origin: Origin,
        key: String,
        remaining: usize,
    },
    /// A non-leader's forwarded delete waiting for the leader's answer (Nacos holds the lock
    /// during the synchronous proxy call).
    ForwardingDelete { key: String },
}

impl Held {
    fn key(&self) -> &str {
        match self {
            Held::Publishing { key, .. }
            | Held::Deleting { key, .. }
            | Held::ForwardingDelete { key } => key,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Waiting {
    Publish {
        origin: Origin,
        key: String,
        value: JsonValue,
        /// A repair's timestamp ([`Fix::DeadKey`]): the least timestamp the write takes.
        at: Option<u64>,
    },
    Delete {
        origin: Origin,
        key: String,
    },
}

impl Waiting {
    fn key(&self) -> &str {
        match self {
            Waiting::Publish { key, .. } | Waiting::Delete { key, .. } => key,
        }
    }
}

/// `OPERATE_LOCK`: the writes holding it and the writes queued behind them. Nacos 1.4.1 holds
/// at most one write; under [`Fix::GlobalLock`] it is a lock per key: one write per key at a
/// time, writes to different keys at once.
#[derive(Clone, Debug, Default)]
pub(crate) struct OpLock {
    held: Vec<Held>,
    queue: VecDeque<Waiting>,
}

impl OpLock {
    pub(crate) fn is_held(&self) -> bool {
        !self.held.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.len() + self.held.len()
    }

    fn holds(&self, key: &str) -> bool {
        self.held.iter().any(|h| h.key() == key)
    }

    /// Takes the publish or delete `id` out of the held writes.
    fn take_publish(&mut self, publish: u64) -> Option<Held> {
        let i = self.held.iter().position(|h| {
            matches!(h, Held::Publishing { id, .. } | Held::Deleting { id, .. } if *id == publish)
        })?;
        Some(self.held.swap_remove(i))
    }

    /// One more member has the publish or delete `id`: the write, taken out of the held ones,
    /// once no more acks are needed.
    fn acked(&mut self, write: u64) -> Option<Held> {
        let remaining = self.held.iter_mut().find_map(|h| match h {
            Held::Publishing { id, remaining, .. } | Held::Deleting { id, remaining, .. }
                if *id == write =>
            {
                Some(remaining)
            }
            _ => None,
        })?;
        *remaining -= 1;
        if *remaining > 0 {
            return None;
        }
        self.take_publish(write)
    }

    /// The next queued write that may start: the first one when the lock is global; per key,
    /// the first one whose key is neither held nor queued earlier (one key's writes in order).
    fn next_runnable(&mut self, per_key: bool) -> Option<Waiting> {
        if !per_key {
            return if self.held.is_empty() {
                self.queue.pop_front()
            } else {
                None
            };
        }
        let i = (0..self.queue.len()).find(|&i| {
            let k = self.queue[i].key();
            !self.holds(k) && !self.queue.iter().take(i).any(|w| w.key() == k)
        })?;
        self.queue.remove(i)
    }
}

impl Node {
    /// `RaftConsistencyServiceImpl.put` → `signalPublish`. A non-leader forwards to the leader it
    /// believes in (no hop limit, as in Nacos); the leader takes the lock and publishes.
    pub(crate) fn publish_entry(&mut self, origin: Origin, key: String, value: JsonValue) {
        let Some(kind) = key::kind(&key) else {
            return self.finish(
                origin,
                Err(RaftError::bad_request(format!(
                    "unknown type publish key: {key}"
                ))),
            );
        };
        // `RaftController.publish` types the value before anything else, on every node, so a
        // value Java followers could not read is never committed (they would never ack it).
        if let Err(e) = naming::check_json(kind, &value, naming::java_class(kind)) {
            return self.finish(origin, Err(RaftError::server(e)));
        }
        if !self.is_leader() {
            let Some(leader) = self.peers.leader().map(String::from) else {
                return self.finish(origin, Err(RaftError::server(NO_LEADER)));
            };
            self.event(Event::Forwarded {
                key: key.clone(),
                to: leader.clone(),
            });
            let leader_term = self.addressed_term();
            return self.send_to(
                leader,
                Request::Forward {
                    key,
                    value,
                    leader_term,
                },
                Pending::Forward { origin },
            );
        }
        self.lock.queue.push_back(Waiting::Publish {
            origin,
            key,
            value,
            at: None,
        });
        self.pump_lock();
    }

    /// A follower's repair of a key this node's beat did not list ([`Fix::DeadKey`]). Without
    /// the fix it is what Java makes of it: a plain forwarded write. With it only the leader
    /// takes it, in the key's turn behind the lock (see [`Node::signal_publish`]).
    pub(crate) fn repair_entry(
        &mut self,
        origin: Origin,
        key: String,
        value: JsonValue,
        timestamp: u64,
    ) {
        if !self.cfg.rules.has(Fix::DeadKey) {
            return self.publish_entry(origin, key, value);
        }
        if key::kind(&key).is_none() {
            return self.finish(
                origin,
                Err(RaftError::bad_request(format!(
                    "unknown type publish key: {key}"
                ))),
            );
        }
        if !self.is_leader() {
            return self.finish(origin, Err(RaftError::server(REPAIR_NOT_LEADER)));
        }
        self.lock.queue.push_back(Waiting::Publish {
            origin,
            key,
            value,
            at: Some(timestamp),
        });
        self.pump_lock();
    }

    /// `RaftConsistencyServiceImpl.remove`: an instance-list key on a non-leader is deleted only
    /// locally (in the leader's name); everything else goes through `signalDelete`. Under
    /// [`Fix::DeadKey`] every delete goes to the leader: a local one came back with the next beat.
    pub(crate) fn remove_entry(&mut self, origin: Origin, key: String) {
        if key::kind(&key) == Some(KeyKind::Iplist)
            && !self.is_leader()
            && !self.cfg.rules.has(Fix::DeadKey)
        {
            let source = self.peers.leader().and_then(|l| self.peers.get(l)).cloned();
            let result = match source {
                None => Err(RaftError::server(NO_LEADER)),
                Some(source) => {
                    // Nacos' onDelete resets the leader due as if the leader had spoken; under
                    // [`Fix::TwoLeaders`] a client's delete does not keep the belief in a leader
                    // alive (a follower whose leader died would not campaign while clients
                    // delete).
                    let due = self.peers.local().leader_due_ms;
                    let result = self.on_delete(&key, &source);
                    if self.cfg.rules.has(Fix::TwoLeaders) {
                        self.peers.local_mut().leader_due_ms = due;
                    }
                    result
                }
            };
            return self.finish(origin, result);
        }
        self.lock.queue.push_back(Waiting::Delete { origin, key });
        self.pump_lock();
    }

    /// Runs queued writes while the lock (the key's lock under [`Fix::GlobalLock`]) is free,
    /// then lets waiting sync answers in.
    pub(crate) fn pump_lock(&mut self) {
        let per_key = self.cfg.rules.has(Fix::GlobalLock);
        while let Some(next) = self.lock.next_runnable(per_key) {
            match next {
                Waiting::Publish {
                    origin,
                    key,
                    value,
                    at,
                } => self.signal_publish(origin, key, value, at),
                Waiting::Delete { origin, key } => self.signal_delete(origin, key),
            }
        }
        self.pump_sync();
    }

    /// The leader half of `signalPublish`, under the lock: timestamp + 1 (bumped in place on the
    /// old datum, even if the publish then fails), apply locally first (`onPublish`, term +100),
    /// then commit to every other member and wait for a majority until the publish timeout.
    ///
    /// Under [`Fix::DeadKey`] a key deleted by an explicit remove starts above its tombstone, and
    /// a repair (`at`) is taken only if this node neither holds the key at that timestamp or
    /// newer (answered ok: its beats will list it) nor deleted it at or after it (refused: the
    /// follower deletes its copy); it keeps the follower's timestamp.
    fn signal_publish(&mut self, origin: Origin, key: String, value: JsonValue, at: Option<u64>) {
        if let Some(at) = at {
            // Timestamps order one key's writes under one leader only: an unacknowledged write
            // of an older term can carry a higher timestamp than an acknowledged one of a newer
            // term, and a leader that did not hold a key when a client deleted it keeps no
            // tombstone for it. With log positions neither matters: this leader holds every
            // acknowledged write and delete.
            if self.cfg.rules.has(Fix::StaleCandidate)
                && self.datums.get(&key).is_none_or(|d| d.timestamp < at)
            {
                let e = RaftError::server(format!("{REPAIR_UNACKNOWLEDGED}, key={key}"));
                return self.finish(origin, Err(e));
            }
            if self.tombstones.get(&key).is_some_and(|t| *t >= at) {
                let e = RaftError::server(format!("{REPAIR_DELETED}, key={key}"));
                return self.finish(origin, Err(e));
            }
            if self.datums.get(&key).is_some_and(|d| d.timestamp >= at) {
                return self.finish(origin, Ok(()));
            }
        }
        // Looked up as a `MapKey`: its comparisons are the fast ones (`key::MapKey`).
        let map_key = crate::key::MapKey::from(key);
        let (mut timestamp, existed) = match self.datums.get_mut(&map_key) {
            Some(old) => {
                old.timestamp += 1;
                (old.timestamp, true)
            }
            None => (1, false),
        };
        if existed {
            self.touch(&map_key);
        }
        if self.cfg.rules.has(Fix::DeadKey) {
            let above = self.tombstones.get(map_key.as_str()).map_or(0, |t| t + 1);
            timestamp = timestamp.max(above).max(at.unwrap_or(0));
        }
        if let Some((elected, _)) = self.own_position() {
            // Timestamps order one key's writes under one leader only: a cut-off leader and the
            // majority's new one, writing a key from the same copy the same number of times, would
            // give two different values one timestamp, and a follower holding the first would
            // count as in sync with the second (and could later win with it). Starting each
            // leader's writes at `term × TERM_STRIDE + 1` gives every term its own range, ordered by
            // term (docs/hardened/stale-candidate.md, "Timestamps by term").
            timestamp = timestamp.max(elected.saturating_mul(TERM_STRIDE).saturating_add(1));
        }
        let key = String::from(map_key);
        let datum = Datum {
            key: key.clone(),
            value: Some(value),
            timestamp,
        };
        // Nacos 1.3+ snapshots the source before onPublish: it carries the pre-increment term.
        let mut source = self.peers.local().clone();
        if let Err(e) = self.on_publish(datum.clone(), &source) {
            self.event(Event::PublishFailed {
                key,
                reason: e.message.clone(),
            });
            return self.finish(origin, Err(e));
        }
        // The write's number (`Fix::StaleCandidate`): followers count it only in order.
        source.position = self.position_next_write();
        let term = self.peers.local().term;
        self.event(Event::PublishStarted {
            key: key.clone(),
            timestamp,
            term,
        });
        let remaining = self.peers.majority() - 1;
        if remaining == 0 {
            self.event(Event::Published { key, timestamp });
            return self.finish(origin, Ok(()));
        }
        let id = self.next_write_id();
        for to in self.peers.others() {
            let request = Request::Commit {
                datum: datum.clone(),
                source: source.clone(),
            };
            self.send_to(to, request, Pending::Commit { publish: id });
        }
        self.hold_until_majority(
            id,
            Held::Publishing {
                id,
                origin,
                key,
                timestamp,
                remaining,
            },
        );
    }

    /// The number of the next write that waits for a majority (a publish, a hardened delete).
    fn next_write_id(&mut self) -> u64 {
        self.next_publish += 1;
        self.next_publish - 1
    }

    /// `held` (write `id`) now waits for its majority: it holds its key's lock until then, or
    /// until the publish timeout fails it.
    fn hold_until_majority(&mut self, id: u64, held: Held) {
        self.out.push(Output::SetTimer {
            timer: Timer::PublishTimeout(id),
            after_ms: self.cfg.publish_timeout_ms,
        });
        self.lock.held.push(held);
    }

    /// `RaftCore.onPublish`, for the leader's own write and for a received commit: the value must
    /// be non-empty, the source must be the believed leader, its term not below the own term.
    /// No timestamp check: a commit always overwrites.
    pub(crate) fn on_publish(&mut self, datum: Datum, source: &RaftPeer) -> Result<(), RaftError> {
        if datum.value.as_ref().is_none_or(|v| v.is_null()) {
            return Err(RaftError::server("received empty datum"));
        }
        self.check_source(source)?;
        self.reset_leader_due();
        if key::is_persistent(&datum.key) {
            self.persist(Persist::Datum(datum.clone()));
        }
        self.store_datum(datum);
        if self.is_leader() {
            if !self.cfg.rules.has(Fix::TermBump) {
                self.peers.local_mut().term += self.cfg.term_step;
            }
        } else {
            self.follow_term(source.term);
        }
        self.persist_term();
        Ok(())
    }

    /// The leader and term checks shared by `onPublish` and `onDelete` (same texts in Nacos).
    fn check_source(&self, source: &RaftPeer) -> Result<(), RaftError> {
        if !self.peers.is_leader(&source.ip) {
            return Err(RaftError::server(format!(
                "peer({}) tried to publish data but wasn't leader",
                source.ip
            )));
        }
        let own = self.peers.local().term;
        if source.term < own {
            return Err(RaftError::server(format!(
                "out of date publish, pub-term:{}, cur-term: {}",
                source.term, own
            )));
        }
        Ok(())
    }

    /// A commit from the leader. `None`: applied, answered later (when the log position of
    /// [`Fix::StaleCandidate`] reaches the write's number).
    pub(crate) fn received_commit(
        &mut self,
        id: crate::InboundId,
        datum: Datum,
        source: RaftPeer,
    ) -> Option<Result<(), RaftError>> {
        let (k, ts) = (datum.key.clone(), datum.timestamp);
        // Nacos types the datum by its key before `onPut` (`RaftController.onPublish`): a key of
        // no kind leaves it null (dereferenced), a value that does not parse fails the request.
        let typed = match key::kind(&k) {
            None => Err(format!("unknown type publish key: {k}")),
            Some(kind) => match datum.value.as_ref() {
                Some(v) => naming::check_json(kind, v, commit_class(kind)),
                None => Ok(()),
            },
        };
        if let Err(message) = typed {
            let e = RaftError::server(message);
            self.event(Event::CommitRejected {
                key: k,
                from: source.ip,
                reason: e.message.clone(),
            });
            return Some(Err(e));
        }
        self.commit_as_beat(&source);
        match self.on_publish(datum, &source) {
            Ok(()) => {
                if let Some(at) = source.position {
                    self.position_note_commit(&k, at);
                }
                let term = self.peers.local().term;
                self.event(Event::CommitApplied {
                    key: k,
                    timestamp: ts,
                    from: source.ip,
                    term,
                });
                match source.position {
                    Some(at) if self.cfg.rules.has(Fix::StaleCandidate) => {
                        self.position_committed(id, at)
                    }
                    _ => Some(Ok(())),
                }
            }
            Err(e) => {
                self.event(Event::CommitRejected {
                    key: k,
                    from: source.ip,
                    reason: e.message.clone(),
                });
                Some(Err(e))
            }
        }
    }

    pub(crate) fn commit_answered(
        &mut self,
        to: &str,
        publish: u64,
        result: Result<Response, Failure>,
    ) {
        if let Err(f) = &result {
            self.request_failed(to, "commit", f.to_string());
            return;
        }
        if let Some(Held::Publishing {
            origin,
            key,
            timestamp,
            ..
        }) = self.lock.acked(publish)
        {
            self.event(Event::Published { key, timestamp });
            self.finish(origin, Ok(()));
            self.pump_lock();
        }
    }

    /// The publish timeout (of a hardened delete too): the call fails, nothing is rolled back.
    pub(crate) fn publish_timed_out(&mut self, publish: u64) {
        let (origin, key, reason) = match self.lock.take_publish(publish) {
            Some(Held::Publishing { origin, key, .. }) => (origin, key, PUBLISH_FAILED),
            Some(Held::Deleting { origin, key, .. }) => (origin, key, DELETE_FAILED),
            _ => return self.pump_lock(),
        };
        // RaftCore 277: the exception names the key (the event names it already).
        let error = RaftError::server(format!("{reason}, key={key}"));
        self.event(Event::PublishFailed {
            key,
            reason: reason.into(),
        });
        self.finish(origin, Err(error));
        self.pump_lock();
    }

    pub(crate) fn forward_answered(
        &mut self,
        to: &str,
        origin: Origin,
        result: Result<Response, Failure>,
    ) {
        let result = self.leader_answer(to, "forward", result);
        self.finish(origin, result);
    }

    /// What a forwarded write or delete gets from the leader, in `RaftProxy`'s words.
    fn leader_answer(
        &mut self,
        to: &str,
        what: &'static str,
        result: Result<Response, Failure>,
    ) -> Result<(), RaftError> {
        result.map(|_| ()).map_err(|f| {
            self.request_failed(to, what, f.to_string());
            leader_failed(f)
        })
    }

    /// `signalDelete`, under the lock: a non-leader forwards and holds the lock until the leader
    /// answers; the leader deletes locally and sends delete commits without waiting for acks.
    fn signal_delete(&mut self, origin: Origin, key: String) {
        if !self.is_leader() {
            let Some(leader) = self.peers.leader().map(String::from) else {
                return self.finish(origin, Err(RaftError::server(NO_LEADER)));
            };
            self.event(Event::Forwarded {
                key: key.clone(),
                to: leader.clone(),
            });
            self.send_to(
                leader,
                Request::ForwardDelete {
                    key: key.clone(),
                    leader_term: self.addressed_term(),
                },
                Pending::ForwardDelete {
                    origin,
                    key: key.clone(),
                },
            );
            self.lock.held.push(Held::ForwardingDelete { key });
            return;
        }
        let mut source = self.peers.local().clone();
        if let Err(e) = self.on_delete(&key, &source) {
            return self.finish(origin, Err(e));
        }
        // A delete is a write in the log position (`Fix::StaleCandidate`): a node elected later
        // without it would hold the key again.
        source.position = self.position_next_write();
        // Nacos answers at once, before any follower has the delete: a leader that dies then
        // leaves the key to the next one. Under the fix a delete is acknowledged as a publish
        // is, once a majority has it, and holds the key's lock until then.
        let majority = self.cfg.rules.has(Fix::DeadKey);
        let remaining = self.peers.majority() - 1;
        let delete = (majority && remaining > 0).then(|| self.next_write_id());
        for to in self.peers.others() {
            let request = Request::DeleteCommit {
                key: key.clone(),
                source: source.clone(),
            };
            self.send_to(to, request, Pending::DeleteCommit { delete });
        }
        let Some(id) = delete else {
            return self.finish(origin, Ok(()));
        };
        self.hold_until_majority(
            id,
            Held::Deleting {
                id,
                origin,
                key,
                remaining,
            },
        );
    }

    /// `RaftCore.onDelete`: the same checks as `onPublish`, then delete; only meta keys move the
    /// term (the +100 rule; a no-op on the leader itself, whose source is itself).
    pub(crate) fn on_delete(&mut self, k: &str, source: &RaftPeer) -> Result<(), RaftError> {
        self.check_source(source)?;
        self.reset_leader_due();
        if self.cfg.rules.has(Fix::DeadKey) {
            if let Some(ts) = self.datums.get(k).map(|d| d.timestamp) {
                self.bury(k, ts);
            }
        }
        self.delete_datum(k);
        if key::is_meta(k) {
            self.follow_term(source.term);
            self.persist_term();
        }
        self.event(Event::Deleted {
            key: k.into(),
            by: source.ip.clone(),
        });
        Ok(())
    }

    /// A delete commit from the leader; `None`: applied, answered when the log position
    /// reaches the delete's number, as a commit's.
    pub(crate) fn received_delete_commit(
        &mut self,
        id: crate::InboundId,
        k: &str,
        source: &RaftPeer,
    ) -> Option<Result<(), RaftError>> {
        self.commit_as_beat(source);
        if let Err(e) = self.on_delete(k, source) {
            self.event(Event::CommitRejected {
                key: k.into(),
                from: source.ip.clone(),
                reason: e.message.clone(),
            });
            return Some(Err(e));
        }
        match source.position {
            Some(at) if self.cfg.rules.has(Fix::StaleCandidate) => self.position_committed(id, at),
            _ => Some(Ok(())),
        }
    }

    pub(crate) fn delete_commit_answered(
        &mut self,
        to: &str,
        delete: Option<u64>,
        result: Result<Response, Failure>,
    ) {
        if let Err(f) = result {
            return self.request_failed(to, "delete commit", f.to_string());
        }
        // An acked delete commit resets the leader's own election timer.
        self.reset_leader_due();
        let Some(delete) = delete else {
            return;
        };
        if let Some(Held::Deleting { origin, .. }) = self.lock.acked(delete) {
            self.finish(origin, Ok(()));
            self.pump_lock();
        }
    }

    pub(crate) fn forward_delete_answered(
        &mut self,
        to: &str,
        origin: Origin,
        key: &str,
        result: Result<Response, Failure>,
    ) {
        let result = self.leader_answer(to, "forward delete", result);
        self.forward_delete_over(origin, key, result);
    }

    /// A forwarded delete is over: its key's lock is free again.
    fn forward_delete_over(&mut self, origin: Origin, key: &str, result: Result<(), RaftError>) {
        let held = self
            .lock
            .held
            .iter()
            .position(|h| matches!(h, Held::ForwardingDelete { key: k } if k == key));
        if let Some(i) = held {
            self.lock.held.swap_remove(i);
        }
        self.finish(origin, result);
        self.pump_lock();
    }

    /// This node now follows `leader` (`None`: no one). Under [`Fix::StaleForward`] the writes
    /// it forwarded to the leader it followed before fail now: that leader's answer, if it ever
    /// comes, is no longer awaited, and the client retries at a leader that can commit.
    pub(crate) fn follow(&mut self, leader: Option<String>) {
        let before = self.peers.leader().map(String::from);
        self.peers.set_leader(leader);
        self.left_leader(before);
    }

    /// [`Fix::StaleForward`]: the term of the leader this node follows, which its forwards (and
    /// the node's hand-offs of instance writes) name.
    /// Only with [`Fix::TermBump`] too: Nacos' leader adds 100 to its term per write, so the
    /// term a follower last heard would not name the leader it still is.
    pub fn addressed_term(&self) -> Option<u64> {
        let rules = self.cfg.rules;
        (rules.has(Fix::StaleForward) && rules.has(Fix::TermBump))
            .then(|| self.peers.leader_record().map(|l| l.term))
            .flatten()
    }

    /// [`Fix::StaleForward`]: a forward that names a leader term is carried out only by the
    /// leader of that term. Its sender may have given up on it (and its client written the key
    /// again since); TCP can still deliver it seconds later, after a cut heals. Carried out then,
    /// or forwarded on by a node that has stopped leading, it would overwrite newer writes.
    /// `Ok` for a forward that names no term, or under other rules.
    pub fn addressed_here(&self, leader_term: Option<u64>) -> Result<(), RaftError> {
        let Some(term) = leader_term.filter(|_| self.cfg.rules.has(Fix::StaleForward)) else {
            return Ok(());
        };
        if self.is_leader() && self.peers.local().term == term {
            return Ok(());
        }
        Err(RaftError::server(format!(
            "{FORWARD_MISADDRESSED}: it names term {term}, this node is {} in term {}",
            self.state().as_str(),
            self.peers.local().term
        )))
    }

    /// [`Fix::StaleForward`]: fails the forwards awaiting `before` if this node no longer
    /// follows it.
    pub(crate) fn left_leader(&mut self, before: Option<String>) {
        if !self.cfg.rules.has(Fix::StaleForward) {
            return;
        }
        let Some(old) = before.filter(|b| self.peers.leader() != Some(b.as_str())) else {
            return;
        };
        let waiting: Vec<RequestId> = self
            .inflight
            .iter()
            .filter(|(_, (to, p))| {
                *to == old && matches!(p, Pending::Forward { .. } | Pending::ForwardDelete { .. })
            })
            .map(|(id, _)| *id)
            .collect();
        for id in waiting {
            let Some((to, pending)) = self.inflight.remove(&id) else {
                continue;
            };
            self.request_failed(&to, "forward", String::from("no longer followed"));
            let error = Err(RaftError::server(forward_abandoned(&to)));
            match pending {
                Pending::Forward { origin } => self.finish(origin, error),
                Pending::ForwardDelete { origin, key } => {
                    self.forward_delete_over(origin, &key, error)
                }
                _ => {}
            }
        }
    }
}

/// `RaftProxy`'s text for a failed forward.
/// The class `RaftController.onPublish` names when a commit's datum does not parse: the anonymous
/// `TypeReference` subclass of each branch (`RaftController$1`..`$3`, in source order).
fn commit_class(kind: KeyKind) -> &'static str {
    match kind {
        KeyKind::Iplist => "com.alibaba.nacos.naming.controllers.RaftController$1",
        KeyKind::Switch => "com.alibaba.nacos.naming.controllers.RaftController$2",
        KeyKind::Meta => "com.alibaba.nacos.naming.controllers.RaftController$3",
    }
}

/// The answer to a write forwarded to `leader` that this node stopped following before it
/// answered ([`Fix::StaleForward`]): [`FORWARD_ABANDONED`], whom, and what the client can know.
pub fn forward_abandoned(leader: &str) -> String {
    format!(
        "{FORWARD_ABANDONED}: {leader} had not answered, so the write may or may not be applied \
         there; retry it"
    )
}

fn leader_failed(f: Failure) -> RaftError {
    let cause = match f {
        Failure::Status(e) => e.http_body(),
        other => other.to_string(),
    };
    RaftError::server(format!("leader failed, caused by: {cause}"))
}
