//! A deterministic discrete-event simulator of a Nacos naming raft cluster.
//!
//! N [`Node`]s run on one virtual millisecond clock. Every node ticks with its own phase; every
//! message gets a latency from the configured range and may be lost or blocked by a cut; crashed
//! nodes refuse connections; a lost request or answer surfaces as a timeout after the Java
//! client's read timeout. Everything random comes from one seed, so the same seed and the same
//! [`Action`]s at the same times give the same trace, message for message.
//!
//! Observers ([`Violation`]) run after every step: two leaders (in one term or at once), stale
//! leader beliefs, acknowledged writes missing from the leader, data that does not converge,
//! terms that go down.

// Where what happens, by file: `queue.rs` the event queue and the clock, `transport.rs` the
// links, `action.rs` what a person does, `observer.rs` the safety and liveness checks,
// `trace.rs` what is recorded, `summary.rs` the figures of a run, `samples.rs` sample data,
// `syntax.rs` the text form of actions, `scenario.rs` the preset stories, `campaign.rs` random
// fault schedules and the shrinking of failing ones.
mod action;
pub mod bench;
pub mod campaign;
mod net;
mod observer;
pub mod page;
mod queue;
mod samples;
pub mod scenario;
mod summary;
mod syntax;
mod trace;
mod transport;

pub use action::{Action, TimedAction};
pub use net::Net;
pub use observer::{Violation, ViolationKind};
pub use samples::{instance_value, sample_actions, sample_key, sample_value};
pub use summary::Summary;
pub use syntax::{format_actions, parse_actions, pct_decode, pct_encode, ActionSyntaxError};
pub use trace::{Fate, Happening, MsgId, MsgRecord, Payload, TraceEvent, TraceMode};

use crate::key::{self, MapKey};
use crate::rng::Rng;
use crate::{
    Config, ConfigError, Datum, Event, JsonValue, Node, OpId, Output, PeerState, Persist,
    RaftError, Rules,
};
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use observer::{AckedWrite, Observer};
use queue::{Ev, Queue};
use trace::Fnv;
use transport::{Flights, Inbound, Waiter};

/// How to set up a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimConfig {
    /// Number of nodes (1 to 64), addressed `127.0.0.1:8848`, `127.0.0.1:8849`, ...
    pub nodes: usize,
    /// The seed of everything random.
    pub seed: u64,
    /// Protocol timings of every node.
    pub timings: Config,
    /// Inclusive latency range of one message, ms.
    pub latency_ms: (u64, u64),
    /// Message loss, parts per million.
    pub loss_ppm: u32,
    /// How long a sender waits for a lost request or answer before it fails (Java's async
    /// client read timeout, 10 s).
    pub read_timeout_ms: u64,
    /// What to record.
    pub trace: TraceMode,
    /// The rule set of every node; it replaces `timings.rules`.
    pub rules: Rules,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            nodes: 3,
            seed: 1,
            timings: Config::default(),
            latency_ms: (1, 5),
            loss_ppm: 0,
            read_timeout_ms: 10_000,
            trace: TraceMode::Full,
            rules: Rules::Nacos141,
        }
    }
}

impl SimConfig {
    /// The configuration every node runs with: the timings under [`SimConfig::rules`].
    pub fn node_config(&self) -> Config {
        Config {
            rules: self.rules,
            ..self.timings.clone()
        }
    }

    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.nodes == 0 || self.nodes > 64 {
            return Err(ConfigError(format!(
                "nodes must be 1 to 64, not {}",
                self.nodes
            )));
        }
        if self.latency_ms.0 > self.latency_ms.1 {
            return Err(ConfigError("latency minimum is above the maximum".into()));
        }
        if self.loss_ppm > 1_000_000 {
            return Err(ConfigError("loss must be at most 100%".into()));
        }
        self.timings.validate()
    }
}

/// The address of node `i` in a simulation.
pub fn address(i: usize) -> String {
    format!("127.0.0.1:{}", 8848 + i)
}

/// What a crashed node keeps: its files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Disk {
    /// The data files, by key.
    pub datums: BTreeMap<crate::key::MapKey, Datum>,
    /// `meta.properties`' term.
    pub term: u64,
    /// The hardened log position (`Persist::Position`).
    pub position: (u64, u64),
    /// The hardened tombstones (`Persist::Tombstone`), by key (the node's map type: one copy of
    /// the B-tree code in the page).
    pub tombstones: BTreeMap<crate::key::MapKey, u64>,
}

/// One simulated member.
#[derive(Clone, Debug)]
pub struct SimNode {
    /// Its address.
    pub addr: String,
    node: Option<Node>,
    /// What it persisted.
    pub disk: Disk,
    incarnation: u32,
    tick_phase: u64,
    inbound: crate::vecmap::VecMap<MsgId, Inbound>,
}

/// A client operation submitted through the simulator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientOp {
    /// Node it was submitted at.
    pub node: usize,
    /// Put or remove.
    pub put: bool,
    /// The key.
    pub key: String,
    /// The value of a put.
    pub value: Option<JsonValue>,
    /// When it was submitted.
    pub submitted_ms: u64,
    /// When it finished and how (`Ok` or the error).
    pub done: Option<(u64, Result<(), RaftError>)>,
    seq: u64,
}

/// Counters of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages sent (requests and answers).
    pub messages_sent: u64,
    /// Messages that did not arrive (lost, cut, refused, discarded, dropped).
    pub messages_dropped: u64,
    /// How many times a node became LEADER.
    pub leader_changes: u64,
    /// Steps processed.
    pub steps: u64,
}

/// The simulator.
#[derive(Clone, Debug)]
pub struct Sim {
    cfg: SimConfig,
    now: u64,
    rng: Rng,
    members: Vec<String>,
    nodes: Vec<SimNode>,
    queue: Queue,
    seq: u64,
    next_msg: MsgId,
    flights: Flights,
    net: Net,
    messages: Vec<MsgRecord>,
    events: Vec<TraceEvent>,
    violations: Vec<Violation>,
    ops: Vec<ClientOp>,
    op_index: BTreeMap<(usize, u32, OpId), usize>,
    actions: Vec<TimedAction>,
    stats: Stats,
    hash: Fnv,
    obs: Observer,
    first_leader_ms: Option<u64>,
    leader_change_at: Vec<(u64, usize, u64)>,
    unexplained_term_decreases: u64,
    out: Vec<Output>,
}

impl Sim {
    /// A cluster of fresh nodes at virtual time 0.
    pub fn new(cfg: SimConfig) -> Result<Sim, ConfigError> {
        cfg.validate()?;
        let mut rng = Rng::new(cfg.seed);
        let members: Vec<String> = (0..cfg.nodes).map(address).collect();
        let mut nodes = Vec::with_capacity(cfg.nodes);
        for addr in &members {
            let node = Node::new(cfg.node_config(), addr, &members, rng.next_u64())?;
            let tick_phase = rng.below(cfg.timings.tick_ms);
            nodes.push(SimNode {
                addr: addr.clone(),
                node: Some(node),
                disk: Disk::default(),
                incarnation: 0,
                tick_phase,
                inbound: crate::vecmap::VecMap::new(),
            });
        }
        let n = cfg.nodes;
        let mut sim = Sim {
            net: Net::new(n, cfg.latency_ms, cfg.loss_ppm),
            now: 0,
            rng,
            members,
            nodes,
            queue: Queue::default(),
            seq: 0,
            next_msg: 0,
            flights: Flights::default(),
            messages: Vec::new(),
            events: Vec::new(),
            violations: Vec::new(),
            ops: Vec::new(),
            op_index: BTreeMap::new(),
            actions: Vec::new(),
            stats: Stats::default(),
            hash: Fnv::default(),
            obs: Observer {
                terms: vec![0; n],
                was_leader: vec![false; n],
                stale_since: vec![None; n],
                leader_term: vec![0; n],
                // Every node is read at the first step (at most 64: `SimConfig::validate`).
                changed: u64::MAX >> (64 - n),
                ..Observer::default()
            },
            first_leader_ms: None,
            leader_change_at: Vec::new(),
            unexplained_term_decreases: 0,
            out: Vec::new(),
            cfg,
        };
        for i in 0..n {
            let at = sim.nodes[i].tick_phase;
            sim.schedule(at, Ev::Tick { node: i, inc: 0 });
        }
        let hb = sim.cfg.timings.heartbeat_ms;
        sim.schedule(hb, Ev::Check);
        Ok(sim)
    }

    /// Replays `actions` (sorted by time) on a fresh cluster up to `until_ms`.
    pub fn replay(cfg: SimConfig, actions: &[TimedAction], until_ms: u64) -> Result<Sim, String> {
        let mut sim = Sim::new(cfg).map_err(|e| e.0)?;
        for a in actions {
            if a.at_ms > until_ms {
                break;
            }
            sim.run_until(a.at_ms);
            sim.apply(a.action.clone())?;
        }
        sim.run_until(until_ms);
        Ok(sim)
    }

    /// Calls into node `i`, then carries out its outputs. Returns the node touched and whether
    /// it applied a synced datum (for the term observer).
    fn with_node(&mut self, i: usize, f: impl FnOnce(&mut Node)) -> (Option<usize>, bool) {
        self.node_changed(i);
        let Some(node) = self.nodes[i].node.as_mut() else {
            return (None, false);
        };
        f(node);
        node.drain_outputs_into(&mut self.out);
        let outs = core::mem::take(&mut self.out);
        let mut synced = false;
        let mut outs_iter = outs;
        for o in outs_iter.drain(..) {
            if let Output::Event(Event::DatumApplied { .. }) = &o {
                synced = true;
            }
            self.carry_out(i, o);
        }
        self.out = outs_iter;
        (Some(i), synced)
    }

    fn carry_out(&mut self, i: usize, o: Output) {
        match o {
            Output::Persist(p) => {
                let disk = &mut self.nodes[i].disk;
                match p {
                    Persist::Datum(d) => {
                        disk.datums.insert(d.key.as_str().into(), d);
                    }
                    Persist::Remove { key } => {
                        disk.datums.remove(&MapKey::from(key));
                    }
                    Persist::Term(t) => disk.term = t,
                    Persist::Position { term, index } => disk.position = (term, index),
                    Persist::Tombstone { key, at } => {
                        let t = disk.tombstones.entry(key.into()).or_insert(at);
                        *t = (*t).max(at);
                    }
                }
            }
            Output::Send { to, id, request } => self.send_request(i, &to, id, request),
            Output::Reply { to, result } => self.send_reply(i, to, result),
            Output::SetTimer { timer, after_ms } => {
                let inc = self.nodes[i].incarnation;
                self.schedule(
                    self.now + after_ms,
                    Ev::Timer {
                        node: i,
                        inc,
                        timer,
                    },
                );
            }
            Output::Done { op, result } => self.op_done(i, op, result),
            Output::Event(e) => {
                self.hash.add((self.now, i, &e));
                self.observe_event(i, &e);
                self.record(i, Happening::Protocol(e));
            }
        }
    }

    fn record(&mut self, node: usize, what: Happening) {
        if self.cfg.trace != TraceMode::Off {
            self.events.push(TraceEvent {
                at_ms: self.now,
                node,
                what,
            });
        }
    }

    fn violation(&mut self, kind: ViolationKind, detail: String, nodes: Vec<usize>) {
        self.hash.add((self.now, kind));
        self.violations.push(Violation {
            at_ms: self.now,
            kind,
            detail,
            nodes,
        });
    }

    fn op_done(&mut self, node: usize, op: OpId, result: Result<(), RaftError>) {
        let inc = self.nodes[node].incarnation;
        let Some(&idx) = self.op_index.get(&(node, inc, op)) else {
            return;
        };
        self.hash.add((self.now, node, op, result.is_ok()));
        let now = self.now;
        let o = &mut self.ops[idx];
        o.done = Some((now, result.clone()));
        let (key, seq, put, value) = (o.key.clone(), o.seq, o.put, o.value.clone());
        // An acknowledged delete counts as a write of nothing where the rules make a delete a
        // majority write (`dead-key`); Nacos acknowledges one before any follower has it.
        let deleted = !put && self.cfg.rules.has(crate::Fix::DeadKey);
        // Looked up as a `MapKey` (a `&str` lookup compares with `memcmp`, a byte loop on
        // wasm); the record exists, `submit` made it.
        let r = self.obs.keys.entry(MapKey::from(key.as_str())).or_default();
        r.unfinished = r.unfinished.saturating_sub(1);
        // An op acknowledged while an earlier one on its key is still under way (a delete
        // forwarded by another node, say) has no single expected outcome: either may land last.
        if result.is_ok() && (value.is_some() || deleted) && r.unfinished == 0 {
            r.acked = Some(AckedWrite {
                seq,
                value,
                node,
                at_ms: now,
                term: r.published_term.unwrap_or(0),
            });
        }
        self.quiet(now);
        self.record(
            node,
            Happening::Completed {
                op,
                key,
                error: result.err(),
            },
        );
    }

    // ---- read access ------------------------------------------------------------------------

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// The network (cuts, latency, loss) as it is now. Read-only: change it with an
    /// [`Action`] through [`Sim::apply`], so that the change is recorded and replays.
    pub fn net(&self) -> &Net {
        &self.net
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the cluster has no nodes (never: at least one is required).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Node `i`'s address.
    pub fn addr(&self, i: usize) -> &str {
        &self.nodes[i].addr
    }

    /// The index of a member address.
    pub fn index_of(&self, addr: &str) -> Option<usize> {
        self.nodes.iter().position(|n| key::same(&n.addr, addr))
    }

    /// Node `i`'s state machine, `None` while it is down.
    pub fn node(&self, i: usize) -> Option<&Node> {
        self.nodes[i].node.as_ref()
    }

    /// Node `i` with its disk.
    pub fn sim_node(&self, i: usize) -> &SimNode {
        &self.nodes[i]
    }

    /// Whether node `i` is running.
    pub fn is_up(&self, i: usize) -> bool {
        self.nodes[i].node.is_some()
    }

    /// The state node `i` shows: its own state, or `None` while it is down.
    pub fn state(&self, i: usize) -> Option<PeerState> {
        self.node(i).map(|n| n.local().state)
    }

    /// The leader of the cluster as an observer sees it: the running node in LEADER state with
    /// the highest term (the lowest index among equals).
    pub fn cluster_leader(&self) -> Option<usize> {
        let mut best: Option<(usize, u64)> = None;
        for i in 0..self.nodes.len() {
            if let Some(n) = self.node(i) {
                let l = n.local();
                if l.state == PeerState::Leader && best.is_none_or(|(_, t)| l.term > t) {
                    best = Some((i, l.term));
                }
            }
        }
        best.map(|b| b.0)
    }

    /// Every message so far (empty with [`TraceMode::Off`]).
    pub fn messages(&self) -> &[MsgRecord] {
        &self.messages
    }

    /// Messages travelling at virtual time `t` (sent, not yet arrived or failed).
    pub fn in_flight_at(&self, t: u64) -> impl Iterator<Item = &MsgRecord> {
        // Messages are recorded in send order; a message travels at most the read timeout.
        let horizon = t.saturating_sub(self.cfg.read_timeout_ms + self.net.latency_ms.1);
        let start = self.messages.partition_point(|m| m.sent_ms < horizon);
        self.messages[start..]
            .iter()
            .take_while(move |m| m.sent_ms <= t)
            .filter(move |m| m.arrive_ms > t)
    }

    /// Every event so far (empty with [`TraceMode::Off`]).
    pub fn events(&self) -> &[TraceEvent] {
        &self.events
    }

    /// What the observers recorded.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// Every client operation submitted.
    pub fn ops(&self) -> &[ClientOp] {
        &self.ops
    }

    /// Every action applied, with its time (the recipe to replay this run).
    pub fn actions(&self) -> &[TimedAction] {
        &self.actions
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// When a node first became LEADER.
    pub fn first_leader_ms(&self) -> Option<u64> {
        self.first_leader_ms
    }

    /// Every time a node became LEADER: `(virtual ms, node, term)`.
    pub fn leader_changes(&self) -> &[(u64, usize, u64)] {
        &self.leader_change_at
    }

    /// Term decreases that beat sync does not explain (a correct model has none).
    pub fn unexplained_term_decreases(&self) -> u64 {
        self.unexplained_term_decreases
    }

    /// A hash of everything that happened: the same seed and actions give the same hash on every
    /// platform.
    pub fn trace_hash(&self) -> u64 {
        self.hash.0
    }

    /// Whether every running node holds exactly the cluster leader's keys and timestamps.
    pub fn converged(&self) -> bool {
        match self.cluster_leader() {
            Some(l) => self.nodes_behind(l).is_empty(),
            None => false,
        }
    }
}
