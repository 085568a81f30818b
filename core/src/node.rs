//! [`Node`]: one member's whole protocol state and the inputs that drive it.

use crate::config::{Config, ConfigError};
use crate::event::Event;
use crate::message::{BeatDatum, Failure, RaftError, Request, Response};
use crate::output::{InboundId, OpId, Origin, Output, Persist, RequestId, Timer};
use crate::peer::PeerSet;
use crate::publish::OpLock;
use crate::rng::Rng;
use crate::sync::SyncPacer;
use crate::{Datum, Fix, JsonValue, PeerState, RaftPeer};
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// What an outbound request was for, so that its answer can be routed.
#[derive(Clone, Debug)]
pub(crate) enum Pending {
    Vote,
    Beat,
    Peer,
    Fetch {
        beat_term: u64,
        beat: u64,
    },
    Commit {
        publish: u64,
    },
    /// `delete`: the hardened delete waiting for a majority ([`Fix::DeadKey`]); `None` in Nacos,
    /// whose delete commits are fire-and-forget.
    DeleteCommit {
        delete: Option<u64>,
    },
    Forward {
        origin: Origin,
    },
    ForwardDelete {
        origin: Origin,
        key: String,
    },
    Repair {
        key: String,
        timestamp: u64,
    },
}

/// One member of a Nacos naming raft cluster, as a pure state machine.
///
/// Feed it inputs — [`tick`](Node::tick) every `tick_ms`, [`on_request`](Node::on_request),
/// [`on_response`](Node::on_response), [`on_timer`](Node::on_timer), [`put`](Node::put),
/// [`remove`](Node::remove) — and carry out what [`take_outputs`](Node::take_outputs) returns, in
/// order (see [`Output`]). It never reads a clock, never does I/O, and draws every random number
/// from its own seeded generator, so a cluster of nodes replays exactly from their seeds.
#[derive(Clone, Debug)]
pub struct Node {
    pub(crate) cfg: Config,
    pub(crate) peers: PeerSet,
    pub(crate) datums: BTreeMap<crate::key::MapKey, Datum>,
    pub(crate) rng: Rng,
    pub(crate) next_request: RequestId,
    pub(crate) next_op: OpId,
    pub(crate) next_publish: u64,
    pub(crate) inflight: crate::vecmap::VecMap<RequestId, (String, Pending)>,
    pub(crate) lock: OpLock,
    pub(crate) sync: SyncPacer,
    pub(crate) persisted_term: u64,
    /// The term of the last `Persist::Term` (skips rewrites of an unchanged term under
    /// [`Fix::TermBump`]).
    pub(crate) last_term_persisted: u64,
    /// Under [`Fix::DeadKey`]: every key this node deleted by an explicit remove, with the
    /// timestamp it had then (a later write of the key starts above it).
    pub(crate) tombstones: BTreeMap<crate::key::MapKey, u64>,
    /// Under [`Fix::DeadKey`]: the keys this follower kept against its leader's beat and is
    /// repairing (one repair in flight per key), with the timestamp of the copy sent. A map of
    /// the same types as `tombstones` and `heard_ms` rather than a set: each B-tree type adds its
    /// own copy of the map code to the page (issue 14).
    pub(crate) repairing: BTreeMap<crate::key::MapKey, u64>,
    /// `switchDomain.isSendBeatOnly()`: the configured default until a switch datum is applied,
    /// then that datum's `sendBeatOnly`; a deleted switch keeps the last value
    /// (`SwitchManager.onDelete` does nothing).
    pub(crate) send_beat_only: bool,
    pub(crate) out: Vec<Output>,
    /// Bumped by every change to `datums` (insert, remove, timestamp bump): the beat caches
    /// below are valid only for the version they were made at.
    pub(crate) datums_version: u64,
    /// The leader's last beat list and the `datums_version` it was built from: an unchanged map
    /// beats with the same list, so an idle leader does no per-key work.
    pub(crate) beat_list: Option<crate::beat::BeatList>,
    /// The keys changed (stored, deleted, re-stamped) since `beat_list` was made, recorded only
    /// while there is one: the next list is that one patched at these keys (issue 13).
    pub(crate) beat_changes: BTreeSet<crate::key::MapKey>,
    /// The last beat list this follower synced against with nothing left to fetch, and the
    /// `datums_version` after that pass: the same list against the same map has nothing to
    /// fetch and no dead key, so the walk is skipped.
    pub(crate) synced_list: Option<(u64, Arc<Vec<BeatDatum>>)>,
    /// The last beat pass of this follower over a list in our key order, for the next pass to
    /// walk only what changed (issue 13).
    pub(crate) sync_state: Option<crate::sync::SyncState>,
    /// The keys changed since `sync_state` was made, recorded only while there is one.
    pub(crate) sync_changes: BTreeSet<crate::key::MapKey>,
    /// Virtual milliseconds since the node started, advanced by every tick: the clock of the
    /// hardened leader lease ([`Fix::TwoLeaders`](crate::Fix::TwoLeaders)). It makes no output.
    pub(crate) now_ms: u64,
    /// As leader under [`Fix::TwoLeaders`](crate::Fix::TwoLeaders): when it became leader and,
    /// per member, when that member last answered a beat successfully (`now_ms`).
    pub(crate) lease: Lease,
    /// The hardened log position ([`Fix::StaleCandidate`](crate::Fix::StaleCandidate)).
    pub(crate) position: crate::position::Position,
}

/// What a hardened leader knows of its majority: since when it leads, and when each member last
/// answered one of its beats.
#[derive(Clone, Debug, Default)]
pub(crate) struct Lease {
    pub(crate) since_ms: u64,
    /// By address; a `MapKey` for comparisons without `memcmp` (a byte loop on wasm).
    pub(crate) heard_ms: BTreeMap<crate::key::MapKey, u64>,
}

impl Node {
    /// A fresh member `me` of the cluster `members` (`me` is added if missing, as Nacos adds
    /// itself to cluster.conf). All timers start random, as a new `RaftPeer` does.
    pub fn new(cfg: Config, me: &str, members: &[String], seed: u64) -> Result<Node, ConfigError> {
        cfg.validate()?;
        if me.is_empty() {
            return Err(ConfigError("the node's own address is empty".into()));
        }
        let mut rng = Rng::new(seed);
        let mut list: Vec<String> = members.to_vec();
        if !list.iter().any(|m| m == me) {
            list.push(me.into());
        }
        crate::sort::sort(&mut list);
        list.dedup();
        let peers: Vec<RaftPeer> = list.iter().map(|m| fresh_peer(&cfg, &mut rng, m)).collect();
        let send_beat_only = cfg.send_beat_only;
        Ok(Node {
            peers: PeerSet::new(me.into(), peers),
            cfg,
            datums: BTreeMap::new(),
            rng,
            next_request: 1,
            next_op: 1,
            next_publish: 1,
            inflight: crate::vecmap::VecMap::new(),
            lock: OpLock::default(),
            sync: SyncPacer::default(),
            persisted_term: 0,
            last_term_persisted: 0,
            tombstones: BTreeMap::new(),
            repairing: BTreeMap::new(),
            send_beat_only,
            out: Vec::new(),
            datums_version: 0,
            beat_list: None,
            beat_changes: BTreeSet::new(),
            synced_list: None,
            sync_state: None,
            sync_changes: BTreeSet::new(),
            now_ms: 0,
            position: Default::default(),
            lease: Lease::default(),
        })
    }

    /// A member restarted from what it persisted (docs/nacos-protocol.md §8): every datum comes back
    /// with its timestamp, but — as in Nacos 1.3+, where the peer records exist before the store
    /// is loaded — the persisted term never reaches the own record, which starts at 0.
    /// Under [`Fix::TermOnRestart`](crate::Fix::TermOnRestart) it does: the own record starts at
    /// the persisted term, so a restarted node never grants a second vote in a term it voted in.
    pub fn restore(
        cfg: Config,
        me: &str,
        members: &[String],
        seed: u64,
        datums: impl IntoIterator<Item = Datum>,
        persisted_term: u64,
    ) -> Result<Node, ConfigError> {
        let mut n = Node::new(cfg, me, members, seed)?;
        for d in datums {
            // Java's loadDatums notifies the listeners: the switch applies from start-up.
            n.store_datum(d);
        }
        n.persisted_term = persisted_term;
        if n.cfg.rules.has(Fix::TermOnRestart) {
            n.peers.local_mut().term = persisted_term;
        }
        Ok(n)
    }

    /// A restarted member's persisted log position ([`Persist::Position`]), given after
    /// [`Node::restore`]; `(0, 0)` when none was written.
    #[must_use]
    pub fn with_position(mut self, term: u64, index: u64) -> Node {
        self.restore_position((term, index));
        self
    }

    /// A restarted member's persisted tombstones ([`Persist::Tombstone`]), given after
    /// [`Node::restore`]. One older than the key's restored datum is history and is dropped, as
    /// a write of the key after its delete drops it.
    #[must_use]
    pub fn with_tombstones(mut self, tombstones: impl IntoIterator<Item = (String, u64)>) -> Node {
        for (key, at) in tombstones {
            if self.datums.get(&key).is_some_and(|d| d.timestamp > at) {
                continue;
            }
            let t = self.tombstones.entry(key.into()).or_insert(at);
            *t = (*t).max(at);
        }
        self
    }

    // ---- inputs -------------------------------------------------------------------------

    /// One `TICK_PERIOD_MS` has passed: runs the election task, then the heartbeat task.
    pub fn tick(&mut self) {
        self.now_ms += self.cfg.tick_ms;
        self.election_tick();
        self.heartbeat_tick();
        self.lease_tick();
    }

    /// Makes this node's leader due expire now: it starts an election immediately.
    pub fn timeout_now(&mut self) {
        self.reset_leader_due();
        self.reset_heartbeat_due();
        self.send_vote();
    }

    /// A request from another member arrived; the answer comes as [`Output::Reply`] with `id`
    /// (at once, except forwarded writes, which are answered when they finish).
    pub fn on_request(&mut self, id: InboundId, request: Request) {
        let answer = match request {
            Request::Vote(candidate) => self.received_vote(candidate).map(Response::Peer),
            Request::Beat(packet) => self.received_beat(&packet).map(Response::Peer),
            Request::GetPeer => Ok(Response::Peer(self.peers.local().clone())),
            Request::GetDatums(keys) => Ok(Response::Datums(
                keys.iter().map(|k| self.datums.get(k).cloned()).collect(),
            )),
            Request::Commit { datum, source } => match self.received_commit(id, datum, source) {
                Some(result) => result.map(|_| Response::Ok),
                // Answered when the log position reaches it (`Fix::StaleCandidate`).
                None => return,
            },
            Request::DeleteCommit { key, source } => {
                match self.received_delete_commit(id, &key, &source) {
                    Some(result) => result.map(|_| Response::Ok),
                    None => return,
                }
            }
            Request::Forward {
                key,
                value,
                leader_term,
            } => {
                if let Err(e) = self.addressed_here(leader_term) {
                    Err(e)
                } else {
                    return self.publish_entry(Origin::Inbound(id), key, value);
                }
            }
            Request::ForwardDelete { key, leader_term } => {
                if let Err(e) = self.addressed_here(leader_term) {
                    Err(e)
                } else {
                    return self.remove_entry(Origin::Inbound(id), key);
                }
            }
            Request::Repair {
                key,
                value,
                timestamp,
            } => {
                return self.repair_entry(Origin::Inbound(id), key, value, timestamp);
            }
        };
        self.out.push(Output::Reply {
            to: id,
            result: answer,
        });
    }

    /// The outcome of a request this node sent with [`Output::Send`].
    pub fn on_response(&mut self, id: RequestId, result: Result<Response, Failure>) {
        let Some((to, pending)) = self.inflight.remove(&id) else {
            return;
        };
        match pending {
            Pending::Vote => self.vote_answered(&to, result),
            Pending::Beat => self.beat_answered(&to, result),
            Pending::Peer => self.peer_answered(&to, result),
            Pending::Fetch { beat_term, beat } => self.fetch_answered(&to, beat_term, beat, result),
            Pending::Commit { publish } => self.commit_answered(&to, publish, result),
            Pending::DeleteCommit { delete } => self.delete_commit_answered(&to, delete, result),
            Pending::Forward { origin } => self.forward_answered(&to, origin, result),
            Pending::ForwardDelete { origin, key } => {
                self.forward_delete_answered(&to, origin, &key, result)
            }
            Pending::Repair { key, timestamp } => {
                self.repair_answered(&to, &key, timestamp, result)
            }
        }
    }

    /// A timer set with [`Output::SetTimer`] fired.
    pub fn on_timer(&mut self, timer: Timer) {
        match timer {
            Timer::PublishTimeout(p) => self.publish_timed_out(p),
            Timer::SyncPause => self.sync_pause_over(),
        }
    }

    /// Client write (`RaftConsistencyServiceImpl.put`): published here if this node is the
    /// leader, forwarded to the leader otherwise. Completion comes as [`Output::Done`].
    pub fn put(&mut self, key: impl Into<String>, value: JsonValue) -> OpId {
        let op = self.next_op();
        self.publish_entry(Origin::Client(op), key.into(), value);
        op
    }

    /// Client delete (`RaftConsistencyServiceImpl.remove`). Completion comes as [`Output::Done`].
    pub fn remove(&mut self, key: impl Into<String>) -> OpId {
        let op = self.next_op();
        self.remove_entry(Origin::Client(op), key.into());
        op
    }

    /// `RaftCore.loadDatum` (operator endpoint `datum/reload`): put a datum read from disk into
    /// memory as it is — no timestamp check, no term change, nothing persisted or sent.
    pub fn reload(&mut self, datum: Datum) {
        // No listener is notified: a reloaded switch does not change `sendBeatOnly`.
        self.touch(&datum.key);
        // A copy from the disk, not from a commit: repaired against a list without it.
        self.position.recent.remove(datum.key.as_str());
        self.datums.insert(datum.key.as_str().into(), datum);
    }

    /// The member list changed (Nacos 1.4 `changePeers`): the set is rebuilt only when an address
    /// appears that was not known; existing records are kept. Returns whether it changed.
    pub fn set_members(&mut self, members: &[String]) -> bool {
        let cfg = self.cfg.clone();
        let rng = &mut self.rng;
        self.peers
            .change_members(members, |m| fresh_peer(&cfg, rng, m))
    }

    /// Everything the node asks its runtime to do since the last call, in order (see
    /// [`Output`] for the obligations). Dropping them unread loses writes and answers.
    #[must_use = "the outputs are obligations: carry them out in order"]
    pub fn take_outputs(&mut self) -> Vec<Output> {
        core::mem::take(&mut self.out)
    }

    /// Appends the pending outputs to `buf` (no allocation when `buf` has room).
    pub fn drain_outputs_into(&mut self, buf: &mut Vec<Output>) {
        buf.append(&mut self.out);
    }

    // ---- read access --------------------------------------------------------------------

    /// This node's address.
    pub fn me(&self) -> &str {
        self.peers.me()
    }

    /// Its own `RaftPeer`.
    pub fn local(&self) -> &RaftPeer {
        self.peers.local()
    }

    /// Every member's record as this node sees it (own included), by address.
    pub fn peers(&self) -> impl Iterator<Item = &RaftPeer> {
        self.peers.all()
    }

    /// One member's record as this node sees it.
    pub fn peer(&self, ip: &str) -> Option<&RaftPeer> {
        self.peers.get(ip)
    }

    /// The leader this node believes in.
    pub fn leader(&self) -> Option<&str> {
        self.peers.leader()
    }

    /// The believed leader's record, as `/leader` shows it: a member's record, or the record a
    /// leader that is not a member sent with its beat (Java stores that one too).
    pub fn leader_record(&self) -> Option<&RaftPeer> {
        self.peers.leader_record()
    }

    /// `isLeader()`: whether this node believes it is the leader.
    pub fn is_leader(&self) -> bool {
        self.peers.is_leader(self.peers.me())
    }

    /// `n / 2 + 1` over the members.
    pub fn majority(&self) -> usize {
        self.peers.majority()
    }

    /// Number of members, self included.
    pub fn members(&self) -> usize {
        self.peers.len()
    }

    /// Every datum, by key.
    pub fn datums(&self) -> impl Iterator<Item = &Datum> {
        self.datums.values()
    }

    /// One datum.
    pub fn datum(&self, key: &str) -> Option<&Datum> {
        self.datums.get(key)
    }

    /// [`Node::datum`] by a `MapKey`, whose comparisons are the fast ones (a `&str` lookup
    /// compares with `memcmp`, a byte loop on wasm).
    #[cfg(feature = "sim")]
    pub(crate) fn datum_by_key(&self, key: &crate::key::MapKey) -> Option<&Datum> {
        self.datums.get(key)
    }

    /// Whether its beats carry no keys and received beats skip the sync (`sendBeatOnly`, from
    /// the replicated switch datum).
    pub fn send_beat_only(&self) -> bool {
        self.send_beat_only
    }

    /// How many datums it holds.
    pub fn datum_count(&self) -> usize {
        self.datums.len()
    }

    /// The term it found in `meta.properties` at start-up (Nacos' `localTerm`; not its term).
    pub fn persisted_term(&self) -> u64 {
        self.persisted_term
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Writes queued behind Nacos' `OPERATE_LOCK` plus the one holding it.
    pub fn pending_writes(&self) -> usize {
        self.lock.len()
    }

    /// Datum-fetch answers waiting for the sync pause (or the lock) to be applied.
    pub fn pending_sync(&self) -> usize {
        self.sync.waiting()
    }

    /// The members whose record, as this node sees it, says they voted for `candidate` (own
    /// record included, stale rounds too): what `decideLeader` counts for it. Their number is
    /// the `votes` of [`Event::LeaderDecided`] when `candidate` wins.
    pub fn voters_for<'a>(&'a self, candidate: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.peers.voters_for(candidate)
    }

    /// The services this node knows, as `/state` reports them (`serviceManager.getServiceCount()`,
    /// RaftController.java:282; a service exists per meta key): its meta keys without the switch.
    pub fn service_count(&self) -> usize {
        self.datums
            .keys()
            .filter(|k| crate::key::is_meta(k) && !crate::key::is_switch(k))
            .count()
    }

    // ---- helpers shared by the protocol modules ----------------------------------------

    pub(crate) fn next_op(&mut self) -> OpId {
        let op = self.next_op;
        self.next_op += 1;
        op
    }

    pub(crate) fn send(&mut self, to: &str, request: Request, pending: Pending) {
        self.send_to(String::from(to), request, pending);
    }

    /// [`Node::send`] with an address the caller already owns (a loop over
    /// [`PeerSet::others`](crate::peer::PeerSet::others)): one copy of it fewer per request, an
    /// allocation and a copy that cost relatively more in wasm than natively (issue 14).
    pub(crate) fn send_to(&mut self, to: String, request: Request, pending: Pending) {
        let id = self.next_request;
        self.next_request += 1;
        self.inflight.insert(id, (to.clone(), pending));
        self.out.push(Output::Send { to, id, request });
    }

    pub(crate) fn event(&mut self, e: Event) {
        self.out.push(Output::Event(e));
    }

    pub(crate) fn persist(&mut self, p: Persist) {
        self.out.push(Output::Persist(p));
    }

    /// `resetLeaderDue`: `leader_timeout + uniform[0, random)`.
    pub(crate) fn reset_leader_due(&mut self) {
        let due = self.cfg.leader_timeout_ms + self.rng.below(self.cfg.random_ms);
        self.peers.local_mut().leader_due_ms = due as i64;
    }

    /// `resetHeartbeatDue`.
    pub(crate) fn reset_heartbeat_due(&mut self) {
        self.peers.local_mut().heartbeat_due_ms = self.cfg.heartbeat_ms as i64;
    }

    /// The +100 rule of followers (onPublish, meta onDelete, beat sync): follow the leader's term
    /// unless it is more than a step ahead, in which case only step. Under [`Fix::TermBump`] a
    /// term is never stepped: the follower only learns a higher term its leader was elected in.
    pub(crate) fn follow_term(&mut self, leader_term: u64) {
        let local = self.peers.local().term;
        let follows = if self.cfg.rules.has(Fix::TermBump) {
            if leader_term <= local {
                return;
            }
            true
        } else {
            local + self.cfg.term_step > leader_term
        };
        if follows {
            // Nacos sets the leader record's term, then copies it; without a leader it throws
            // (NullPointerException) after the datum was already applied.
            let Some(leader) = self.peers.leader().map(String::from) else {
                return;
            };
            if let Some(rec) = self.peers.get_mut(&leader) {
                rec.term = leader_term;
            }
            self.peers.local_mut().term = leader_term;
        } else {
            self.peers.local_mut().term = local + self.cfg.term_step;
        }
    }

    /// Persists the own term after a write moved it (Nacos rewrites `meta.properties` after
    /// every applied write; under [`Fix::TermBump`] only when the term changed, since writes no
    /// longer move it).
    pub(crate) fn persist_term(&mut self) {
        let term = self.peers.local().term;
        if self.cfg.rules.has(Fix::TermBump) && term == self.last_term_persisted {
            return;
        }
        self.last_term_persisted = term;
        self.persist(Persist::Term(term));
    }

    /// Answers or completes an operation.
    pub(crate) fn finish(&mut self, origin: Origin, result: Result<(), RaftError>) {
        match origin {
            Origin::Client(op) => self.out.push(Output::Done { op, result }),
            Origin::Inbound(id) => self.out.push(Output::Reply {
                to: id,
                result: result.map(|_| Response::Ok),
            }),
        }
    }

    pub(crate) fn state(&self) -> PeerState {
        self.peers.local().state
    }
}

fn fresh_peer(cfg: &Config, rng: &mut Rng, ip: &str) -> RaftPeer {
    RaftPeer {
        ip: ip.into(),
        vote_for: None,
        term: 0,
        leader_due_ms: rng.below(cfg.leader_timeout_ms) as i64,
        heartbeat_due_ms: rng.below(cfg.heartbeat_ms) as i64,
        state: PeerState::Follower,
        data_version: None,
        position: None,
    }
}
