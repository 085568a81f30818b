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

mod action;
pub mod bench;
mod net;
mod observer;
pub mod scenario;
mod trace;

pub use action::{format_actions, parse_actions, Action, ActionSyntaxError, TimedAction};
pub use net::Net;
pub use observer::{Violation, ViolationKind};
pub use trace::{Fate, Happening, MsgId, MsgRecord, Payload, TraceEvent, TraceMode};

use crate::rng::Rng;
use crate::Event;
use crate::Node;
use crate::{Config, ConfigError};
use crate::{Datum, JsonValue, PeerState};
use crate::{Failure, MsgKind, RaftError, Request, Response};
use crate::{OpId, Output, Persist, RequestId, Timer};
use alloc::collections::{BTreeMap, BinaryHeap};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::cmp::{Ordering, Reverse};
use observer::{AckedWrite, Observer};
use trace::Fnv;

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
        }
    }
}

impl SimConfig {
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
    pub datums: BTreeMap<String, Datum>,
    /// `meta.properties`' term.
    pub term: u64,
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
    inbound: BTreeMap<MsgId, Inbound>,
}

#[derive(Clone, Debug)]
struct Inbound {
    from: usize,
    waiter: Waiter,
    kind: MsgKind,
}

/// The node waiting for an answer: index, incarnation, request id, and when it sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Waiter {
    node: usize,
    inc: u32,
    req: RequestId,
    sent_ms: u64,
}

#[derive(Clone, Debug)]
enum Body {
    Request(Request),
    Reply(Result<Response, RaftError>),
}

#[derive(Clone, Debug)]
struct Flight {
    from: usize,
    to: usize,
    kind: MsgKind,
    body: Body,
    waiter: Waiter,
    dropped: bool,
}

#[derive(Clone, Debug)]
enum Ev {
    Tick { node: usize, inc: u32 },
    Arrive(MsgId),
    Fail { waiter: Waiter, failure: Failure },
    Timer { node: usize, inc: u32, timer: Timer },
    Check,
}

#[derive(Clone, Debug)]
struct Scheduled {
    at: u64,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Scheduled {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
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
    queue: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
    next_msg: MsgId,
    flights: BTreeMap<MsgId, Flight>,
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
            let node = Node::new(cfg.timings.clone(), addr, &members, rng.next_u64())?;
            let tick_phase = rng.below(cfg.timings.tick_ms);
            nodes.push(SimNode {
                addr: addr.clone(),
                node: Some(node),
                disk: Disk::default(),
                incarnation: 0,
                tick_phase,
                inbound: BTreeMap::new(),
            });
        }
        let n = cfg.nodes;
        let mut sim = Sim {
            net: Net::new(n, cfg.latency_ms, cfg.loss_ppm),
            now: 0,
            rng,
            members,
            nodes,
            queue: BinaryHeap::new(),
            seq: 0,
            next_msg: 0,
            flights: BTreeMap::new(),
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

    // ---- time ---------------------------------------------------------------------------

    /// Virtual time now, ms.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// When the next event happens.
    pub fn next_event_ms(&self) -> Option<u64> {
        self.queue.peek().map(|s| s.0.at)
    }

    /// Processes every event up to and including `t`, then sets the clock to `t`.
    pub fn run_until(&mut self, t: u64) {
        while self.queue.peek().is_some_and(|s| s.0.at <= t) {
            self.step();
        }
        self.now = self.now.max(t);
    }

    /// Runs event by event until `done` holds (checked after every step) or `within_ms` of
    /// virtual time have passed; returns whether `done` held.
    pub fn run_for(&mut self, within_ms: u64, mut done: impl FnMut(&Sim) -> bool) -> bool {
        let limit = self.now + within_ms;
        while !done(self) {
            match self.next_event_ms() {
                Some(t) if t <= limit => {
                    self.step();
                }
                _ => {
                    self.run_until(limit);
                    return done(self);
                }
            }
        }
        true
    }

    /// The cluster leader, if every running node believes in it (its first beat has landed).
    pub fn settled_leader(&self) -> Option<usize> {
        let l = self.cluster_leader()?;
        let a = self.addr(l);
        (0..self.len())
            .all(|i| self.node(i).is_none_or(|n| n.leader() == Some(a)))
            .then_some(l)
    }

    /// Processes the next event; returns its time.
    pub fn step(&mut self) -> Option<u64> {
        let Reverse(s) = self.queue.pop()?;
        self.now = s.at;
        self.stats.steps += 1;
        let (touched, synced) = match s.ev {
            Ev::Tick { node, inc } => self.on_tick(node, inc),
            Ev::Arrive(id) => self.on_arrive(id),
            Ev::Fail { waiter, failure } => self.on_fail(waiter, failure),
            Ev::Timer { node, inc, timer } => self.on_timer(node, inc, timer),
            Ev::Check => {
                self.check_convergence();
                let hb = self.cfg.timings.heartbeat_ms;
                self.schedule(self.now + hb, Ev::Check);
                (None, false)
            }
        };
        self.observe(touched, synced);
        Some(self.now)
    }

    fn schedule(&mut self, at: u64, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            ev,
        }));
    }

    fn on_tick(&mut self, i: usize, inc: u32) -> (Option<usize>, bool) {
        if self.nodes[i].incarnation != inc || self.nodes[i].node.is_none() {
            return (None, false);
        }
        let tick = self.cfg.timings.tick_ms;
        self.schedule(self.now + tick, Ev::Tick { node: i, inc });
        self.with_node(i, |n| n.tick())
    }

    fn on_timer(&mut self, i: usize, inc: u32, timer: Timer) -> (Option<usize>, bool) {
        if self.nodes[i].incarnation != inc || self.nodes[i].node.is_none() {
            return (None, false);
        }
        self.with_node(i, |n| n.on_timer(timer))
    }

    fn on_fail(&mut self, w: Waiter, failure: Failure) -> (Option<usize>, bool) {
        if self.nodes[w.node].incarnation != w.inc || self.nodes[w.node].node.is_none() {
            return (None, false);
        }
        self.with_node(w.node, |n| n.on_response(w.req, Err(failure)))
    }

    fn on_arrive(&mut self, id: MsgId) -> (Option<usize>, bool) {
        let Some(f) = self.flights.remove(&id) else {
            return (None, false);
        };
        if f.dropped {
            return (None, false);
        }
        match f.body {
            Body::Request(req) => {
                if self.nodes[f.to].node.is_none() {
                    self.set_fate(id, Fate::Refused, self.now);
                    self.stats.messages_dropped += 1;
                    self.fail_later(f.waiter, f.to, f.from, Failure::Refused);
                    return (None, false);
                }
                self.set_fate(id, Fate::Delivered, self.now);
                self.nodes[f.to].inbound.insert(
                    id,
                    Inbound {
                        from: f.from,
                        waiter: f.waiter,
                        kind: f.kind,
                    },
                );
                self.with_node(f.to, |n| n.on_request(id, req))
            }
            Body::Reply(result) => {
                let w = f.waiter;
                if self.nodes[w.node].incarnation != w.inc || self.nodes[w.node].node.is_none() {
                    self.set_fate(id, Fate::Discarded, self.now);
                    self.stats.messages_dropped += 1;
                    return (None, false);
                }
                self.set_fate(id, Fate::Delivered, self.now);
                let result = result.map_err(Failure::Status);
                self.with_node(w.node, |n| n.on_response(w.req, result))
            }
        }
    }

    /// A failure the sender learns after the answer's way back (connection refused), or after
    /// its read timeout when that way is cut.
    fn fail_later(&mut self, w: Waiter, at: usize, back_to: usize, failure: Failure) {
        let when = if self.net.is_cut(at, back_to) {
            (w.sent_ms + self.cfg.read_timeout_ms).max(self.now)
        } else {
            self.now + self.latency()
        };
        self.schedule(when, Ev::Fail { waiter: w, failure });
    }

    fn latency(&mut self) -> u64 {
        let (lo, hi) = self.net.latency_ms;
        self.rng.range_inclusive(lo, hi)
    }

    /// Calls into node `i`, then carries out its outputs. Returns the node touched and whether
    /// it applied a synced datum (for the term observer).
    fn with_node(&mut self, i: usize, f: impl FnOnce(&mut Node)) -> (Option<usize>, bool) {
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
                        disk.datums.insert(d.key.clone(), d);
                    }
                    Persist::Remove { key } => {
                        disk.datums.remove(&key);
                    }
                    Persist::Term(t) => disk.term = t,
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

    fn send_request(&mut self, from: usize, to: &str, req: RequestId, request: Request) {
        let inc = self.nodes[from].incarnation;
        let waiter = Waiter {
            node: from,
            inc,
            req,
            sent_ms: self.now,
        };
        let Some(to) = self.index_of(to) else {
            self.schedule(
                self.now,
                Ev::Fail {
                    waiter,
                    failure: Failure::Refused,
                },
            );
            return;
        };
        let kind = request.kind();
        self.launch(from, to, kind, Body::Request(request), waiter, None);
    }

    fn send_reply(&mut self, from: usize, inbound: MsgId, result: Result<Response, RaftError>) {
        let Some(ib) = self.nodes[from].inbound.remove(&inbound) else {
            return;
        };
        let kind = ib.kind.reply();
        self.launch(
            from,
            ib.from,
            kind,
            Body::Reply(result),
            ib.waiter,
            Some(inbound),
        );
    }

    /// Puts a message on the wire: it arrives after a latency, or dies on the way (loss, cut),
    /// in which case its waiter times out.
    fn launch(
        &mut self,
        from: usize,
        to: usize,
        kind: MsgKind,
        body: Body,
        waiter: Waiter,
        reply_to: Option<MsgId>,
    ) {
        let id = self.next_msg;
        self.next_msg += 1;
        self.stats.messages_sent += 1;
        let latency = self.latency();
        let fate = if self.net.is_cut(from, to) {
            Fate::Cut
        } else if self.rng.chance_ppm(self.net.loss_ppm) {
            Fate::Lost
        } else {
            Fate::InFlight
        };
        let arrive_ms = self.now + latency / fate.failure_divisor();
        self.hash
            .add((self.now, id, from, to, kind, fate, arrive_ms));
        if self.cfg.trace != TraceMode::Off {
            let (status, granted) = match &body {
                Body::Request(_) => (0, None),
                Body::Reply(Ok(Response::Peer(p))) if kind == MsgKind::VoteReply => {
                    (200, Some(p.vote() == Some(self.nodes[to].addr.as_str())))
                }
                Body::Reply(Ok(_)) => (200, None),
                Body::Reply(Err(e)) => (e.status, None),
            };
            let payload = (self.cfg.trace == TraceMode::Full).then(|| match &body {
                Body::Request(r) => Payload::Request(r.clone()),
                Body::Reply(r) => Payload::Reply(r.clone()),
            });
            self.messages.push(MsgRecord {
                id,
                kind,
                from,
                to,
                sent_ms: self.now,
                arrive_ms,
                fate,
                reply_to,
                status,
                granted,
                payload,
            });
        }
        if fate == Fate::InFlight {
            self.flights.insert(
                id,
                Flight {
                    from,
                    to,
                    kind,
                    body,
                    waiter,
                    dropped: false,
                },
            );
            self.schedule(arrive_ms, Ev::Arrive(id));
        } else {
            self.stats.messages_dropped += 1;
            self.time_out(waiter);
        }
    }

    fn set_fate(&mut self, id: MsgId, fate: Fate, at: u64) {
        if let Some(m) = self.messages.get_mut(id as usize) {
            debug_assert_eq!(m.id, id);
            m.fate = fate;
            m.arrive_ms = at;
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
        if let (true, Ok(()), Some(value)) = (put, &result, value) {
            self.obs.acked.insert(
                key.clone(),
                AckedWrite {
                    seq,
                    value,
                    node,
                    at_ms: now,
                },
            );
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

    // ---- actions --------------------------------------------------------------------------

    /// Applies `action` now and records it for replay. A refused action changes nothing.
    pub fn apply(&mut self, action: Action) -> Result<(), String> {
        let n = self.nodes.len();
        let check = |i: usize| {
            if i < n {
                Ok(())
            } else {
                Err(format!("there is no node {i} (nodes: {n})"))
            }
        };
        match &action {
            Action::Crash { node } => {
                check(*node)?;
                if self.nodes[*node].node.is_none() {
                    return Err(format!("{} is already down", self.nodes[*node].addr));
                }
            }
            Action::Restart { node } => {
                check(*node)?;
                if self.nodes[*node].node.is_some() {
                    return Err(format!("{} is running", self.nodes[*node].addr));
                }
            }
            Action::Timeout { node }
            | Action::Put { node, .. }
            | Action::Remove { node, .. }
            | Action::Load { node, .. } => {
                check(*node)?;
                if self.nodes[*node].node.is_none() {
                    return Err(format!("{} is down", self.nodes[*node].addr));
                }
            }
            Action::Isolate { node } => check(*node)?,
            Action::Cut { from, to, .. } | Action::Heal { from, to, .. } => {
                check(*from)?;
                check(*to)?;
                if from == to {
                    return Err("a link joins two different nodes".into());
                }
            }
            Action::Partition { groups } => {
                if groups.len() != n {
                    return Err(format!(
                        "a partition names a group for each of the {n} nodes"
                    ));
                }
            }
            Action::SetLatency { min, max } => {
                if min > max {
                    return Err("latency minimum is above the maximum".into());
                }
            }
            Action::SetLoss { ppm } => {
                if *ppm > 1_000_000 {
                    return Err("loss must be at most 100%".into());
                }
            }
            Action::Drop { msg } => {
                if !self.flights.contains_key(msg) {
                    return Err(format!("message {msg} is not in flight"));
                }
            }
            Action::HealAll => {}
        }
        if let Action::Load { count, .. } = &action {
            if *count > 100_000 {
                return Err(format!("at most 100000 datums at once, not {count}"));
            }
        }
        let value = match &action {
            Action::Put { value, .. } => {
                Some(JsonValue::parse(value).map_err(|e| format!("the value is not JSON: {e}"))?)
            }
            _ => None,
        };
        self.hash.add(self.now);
        self.actions.push(TimedAction {
            at_ms: self.now,
            action: action.clone(),
        });
        let touched = match action.clone() {
            Action::Crash { node } => {
                self.crash(node);
                None
            }
            Action::Restart { node } => {
                self.restart(node);
                Some(node)
            }
            Action::Timeout { node } => self.with_node(node, |n| n.timeout_now()).0,
            Action::Isolate { node } => {
                self.net.isolate(node);
                None
            }
            Action::Cut { from, to, both } => {
                self.net.set_cut(from, to, true);
                if both {
                    self.net.set_cut(to, from, true);
                }
                None
            }
            Action::Heal { from, to, both } => {
                self.net.set_cut(from, to, false);
                if both {
                    self.net.set_cut(to, from, false);
                }
                None
            }
            Action::Partition { groups } => {
                self.net.partition(&groups);
                None
            }
            Action::HealAll => {
                self.net.heal_all();
                None
            }
            Action::SetLoss { ppm } => {
                self.net.loss_ppm = ppm;
                None
            }
            Action::SetLatency { min, max } => {
                self.net.latency_ms = (min, max);
                None
            }
            Action::Put { node, key, .. } => {
                self.submit(node, true, key, value);
                Some(node)
            }
            Action::Remove { node, key } => {
                self.submit(node, false, key, None);
                Some(node)
            }
            Action::Load { node, first, count } => {
                for i in first..first.saturating_add(count) {
                    let v = JsonValue::parse(&sample_value(i, 1)).expect("sample values are JSON");
                    self.submit(node, true, sample_key(i), Some(v));
                }
                Some(node)
            }
            Action::Drop { msg } => {
                self.drop_message(msg);
                None
            }
        };
        if let Some(node) = action.node() {
            if !matches!(
                action,
                Action::Put { .. } | Action::Remove { .. } | Action::Load { .. }
            ) {
                self.record(node, Happening::Acted(action));
            }
        }
        self.quiet(self.now);
        self.observe(touched, false);
        Ok(())
    }

    fn submit(&mut self, node: usize, put: bool, key: String, value: Option<JsonValue>) {
        let inc = self.nodes[node].incarnation;
        let seq = self.ops.len() as u64 + 1;
        self.obs.latest_op.insert(key.clone(), seq);
        let idx = self.ops.len();
        self.ops.push(ClientOp {
            node,
            put,
            key: key.clone(),
            value: value.clone(),
            submitted_ms: self.now,
            done: None,
            seq,
        });
        let Some(n) = self.nodes[node].node.as_mut() else {
            return;
        };
        let op = if put {
            n.put(key.clone(), value.expect("put has a value"))
        } else {
            n.remove(key.clone())
        };
        self.op_index.insert((node, inc, op), idx);
        self.record(node, Happening::Submitted { op, put, key });
        self.with_node(node, |_| {});
    }

    fn crash(&mut self, i: usize) {
        let n = &mut self.nodes[i];
        n.node = None;
        n.incarnation += 1;
        // Requests it was still answering (forwards waiting for a majority): connection reset.
        let waiting: Vec<Inbound> = core::mem::take(&mut n.inbound).into_values().collect();
        for ib in waiting {
            self.fail_later(ib.waiter, i, ib.from, Failure::Refused);
        }
        self.record(i, Happening::Crashed);
    }

    fn restart(&mut self, i: usize) {
        let seed = self.rng.next_u64();
        let n = &mut self.nodes[i];
        let node = Node::restore(
            self.cfg.timings.clone(),
            &n.addr,
            &self.members,
            seed,
            n.disk.datums.values().cloned(),
            n.disk.term,
        )
        .expect("a configuration that built the cluster restores it");
        n.node = Some(node);
        let inc = n.incarnation;
        let tick = self.cfg.timings.tick_ms;
        let phase = n.tick_phase;
        let next = if self.now <= phase {
            phase
        } else {
            phase + (self.now - phase).div_ceil(tick) * tick
        };
        self.obs.terms[i] = 0;
        self.schedule(next, Ev::Tick { node: i, inc });
        self.record(i, Happening::Restarted);
    }

    fn drop_message(&mut self, id: MsgId) {
        let Some(f) = self.flights.get_mut(&id) else {
            return;
        };
        f.dropped = true;
        let waiter = f.waiter;
        self.stats.messages_dropped += 1;
        self.set_fate(id, Fate::Dropped, self.now);
        self.time_out(waiter);
    }

    /// A request or its answer died on the way: the sender gives up at its read timeout.
    fn time_out(&mut self, waiter: Waiter) {
        let when = (waiter.sent_ms + self.cfg.read_timeout_ms).max(self.now);
        let failure = Failure::Timeout;
        self.schedule(when, Ev::Fail { waiter, failure });
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
        self.nodes.iter().position(|n| n.addr == addr)
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

    /// The figures the `simulate` CLI prints.
    pub fn summary(&self) -> Summary {
        let leader = self.cluster_leader();
        let term = match leader {
            Some(l) => self.node(l).map(|n| n.local().term).unwrap_or(0),
            None => (0..self.len())
                .filter_map(|i| self.node(i).map(|n| n.local().term))
                .max()
                .unwrap_or(0),
        };
        let datums_at_leader = leader
            .and_then(|l| self.node(l))
            .map(|n| n.datum_count())
            .unwrap_or(0);
        let datums_min_follower = (0..self.len())
            .filter(|i| Some(*i) != leader)
            .filter_map(|i| self.node(i).map(|n| n.datum_count()))
            .min()
            .unwrap_or(datums_at_leader);
        Summary {
            seed: self.cfg.seed,
            nodes: self.len(),
            duration_ms: self.now,
            leader: leader.map(|l| self.addr(l).to_string()),
            term,
            first_leader_ms: self.first_leader_ms,
            leader_changes: self.stats.leader_changes,
            messages_sent: self.stats.messages_sent,
            messages_dropped: self.stats.messages_dropped,
            violations: self.violations.clone(),
            datums_at_leader,
            datums_min_follower,
            converged: self.converged(),
            trace_hash: alloc::format!("{:016x}", self.trace_hash()),
        }
    }
}

/// The result of a run, as the `simulate` CLI prints it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// The seed.
    pub seed: u64,
    /// Node count.
    pub nodes: usize,
    /// Virtual time simulated, ms.
    pub duration_ms: u64,
    /// The cluster leader at the end (see [`Sim::cluster_leader`]).
    pub leader: Option<String>,
    /// Its term (or the highest term when there is no leader).
    pub term: u64,
    /// When a node first became LEADER.
    pub first_leader_ms: Option<u64>,
    /// How many times a node became LEADER.
    pub leader_changes: u64,
    /// Messages sent.
    pub messages_sent: u64,
    /// Messages that did not arrive.
    pub messages_dropped: u64,
    /// What the observers recorded.
    pub violations: Vec<Violation>,
    /// Datums at the leader.
    pub datums_at_leader: usize,
    /// Fewest datums at another running node.
    pub datums_min_follower: usize,
    /// Whether every running node matches the leader.
    pub converged: bool,
    /// The trace hash, hex.
    pub trace_hash: String,
}

/// Sample data: the instance-list key of service `svc-<i>` in namespace `public`.
pub fn sample_key(i: usize) -> String {
    crate::key::iplist_key("public", &format!("DEFAULT_GROUP@@svc-{i:04}"))
}

/// Sample data: a one-instance `Instances` value for service `svc-<i>`, version `v` (its
/// instance IP is on loopback, `127.0.x.y`).
pub fn sample_value(i: usize, v: u64) -> String {
    let ip = format!("127.0.{}.{}", (i / 250) % 250, i % 250 + 1);
    let version = format!("{v}");
    instances(&format!("svc-{i:04}"), &ip, Some(&version))
}

/// A persistent instance list (`Instances`, as Nacos stores it) of service
/// `DEFAULT_GROUP@@<service>` holding one healthy instance `<ip>:8080` without metadata: what
/// the page publishes for a service name and an IP.
pub fn instance_value(service: &str, ip: &str) -> String {
    instances(service, ip, None)
}

fn instances(service: &str, ip: &str, version: Option<&str>) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let metadata = match version {
        Some(v) => format!("{{\"version\":{}}}", q(v)),
        None => "{}".into(),
    };
    format!(
        r#"{{"instanceList":[{{"instanceId":{},"ip":{},"port":8080,"weight":1.0,"healthy":true,"enabled":true,"ephemeral":false,"clusterName":"DEFAULT","serviceName":{},"metadata":{metadata}}}]}}"#,
        q(&format!("{ip}#8080#DEFAULT#DEFAULT_GROUP@@{service}")),
        q(ip),
        q(&format!("DEFAULT_GROUP@@{service}"))
    )
}
