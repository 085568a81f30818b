//! # nacos-raft-core
//!
//! The consensus protocol of the Nacos 1.x naming module (its home-made "Raft": leader election
//! by vote, heartbeats from the leader, data sync driven by those heartbeats) as a pure,
//! deterministic state machine — and a cluster simulator built on it.
//!
//! It behaves as Nacos 1.4.1 does, known flaws included (stale vote counting, the +100 term
//! rule, commit before replication, the dead-key rule, fire-and-forget deletes, the term lost on
//! restart). The rules are those of `docs/nacos-protocol.md` in the repository; function names
//! follow the Java methods
//! (`send_vote`, `received_vote`, `decide_leader`, `send_beat`, `received_beat`, `make_leader`).
//!
//! ## Driving a node
//!
//! A [`Node`] never reads a clock and never does I/O. The runtime calls [`Node::tick`] every
//! `tick_ms`, hands it requests, answers and timers, and carries out its [`Output`]s in order
//! (the contract is on [`Output`]):
//!
//! ```
//! use nacos_raft_core::{Config, Node, Output, Request};
//!
//! let members: Vec<String> = (1..=3).map(|i| format!("127.0.0.{i}:8848")).collect();
//! let mut a = Node::new(Config::default(), &members[0], &members, 7).unwrap();
//! a.timeout_now(); // as if its leader due ran out
//! let votes: Vec<_> = a
//!     .take_outputs()
//!     .into_iter()
//!     .filter_map(|o| match o {
//!         Output::Send { to, request: Request::Vote(me), .. } => Some((to, me.term)),
//!         _ => None,
//!     })
//!     .collect();
//! assert_eq!(votes, [(members[1].clone(), 1), (members[2].clone(), 1)]);
//! ```
//!
//! ## A minimal runtime
//!
//! Everything a runtime does, for every kind of output: three nodes in one process, a queue for
//! the network, maps for the disks, a list of timers, one virtual clock. The simulator
//! ([`sim`]) and the real node (`nacos-raft-node`) do the same with latency, faults, HTTP and
//! files.
//!
//! ```
//! use nacos_raft_core::{Config, Datum, Failure, Node, Output, Persist, Request, Response, Timer};
//! use std::collections::{BTreeMap, VecDeque};
//!
//! enum Wire {
//!     Request { from: usize, id: u64, to: usize, request: Request },
//!     Answer { to: usize, id: u64, result: Result<Response, Failure> },
//! }
//!
//! struct Runtime {
//!     members: Vec<String>,
//!     nodes: Vec<Node>,
//!     disks: Vec<(BTreeMap<String, Datum>, u64)>, // datum files, meta.properties' term
//!     wire: VecDeque<Wire>,
//!     inbound: BTreeMap<u64, (usize, usize, u64)>, // inbound id -> (receiver, sender, its id)
//!     next_inbound: u64,
//!     timers: Vec<(u64, usize, Timer)>, // due, node, timer
//!     done: BTreeMap<(usize, u64), Result<(), String>>,
//!     now: u64,
//! }
//!
//! impl Runtime {
//!     /// Carries out node `i`'s outputs, in order.
//!     fn carry_out(&mut self, i: usize) {
//!         for o in self.nodes[i].take_outputs() {
//!             match o {
//!                 Output::Persist(p) => {
//!                     // A real runtime makes `p.must_sync()` writes durable (fsync) before it
//!                     // releases any later output, and stops the node if a write fails.
//!                     let (files, term) = &mut self.disks[i];
//!                     match p {
//!                         Persist::Datum(d) => {
//!                             files.insert(d.key.clone(), d);
//!                         }
//!                         Persist::Remove { key } => {
//!                             files.remove(&key);
//!                         }
//!                         Persist::Term(t) => *term = t,
//!                         // Written only under the hardened rules (`Fix::StaleCandidate`,
//!                         // `Fix::DeadKey`); a runtime that runs them keeps them and restores
//!                         // them with `Node::with_position` and `Node::with_tombstones`. This
//!                         // one runs Nacos 1.4.1's.
//!                         Persist::Position { .. } | Persist::Tombstone { .. } => {}
//!                     }
//!                 }
//!                 Output::Send { to, id, request } => {
//!                     let to = self.members.iter().position(|m| *m == to).unwrap();
//!                     self.wire.push_back(Wire::Request { from: i, id, to, request });
//!                 }
//!                 Output::Reply { to, result } => {
//!                     let (_, from, id) = self.inbound.remove(&to).unwrap();
//!                     let result = result.map_err(Failure::Status);
//!                     self.wire.push_back(Wire::Answer { to: from, id, result });
//!                 }
//!                 Output::SetTimer { timer, after_ms } => {
//!                     self.timers.push((self.now + after_ms, i, timer));
//!                 }
//!                 Output::Done { op, result } => {
//!                     self.done.insert((i, op), result.map_err(|e| e.message));
//!                 }
//!                 Output::Event(e) => {
//!                     let _ = e; // no obligation: log it, show it, or drop it
//!                 }
//!             }
//!         }
//!     }
//!
//!     /// One tick of the clock: ticks, due timers, then every message until the wire is quiet.
//!     fn step(&mut self, tick_ms: u64) {
//!         self.now += tick_ms;
//!         for i in 0..self.nodes.len() {
//!             self.nodes[i].tick();
//!             self.carry_out(i);
//!         }
//!         let now = self.now;
//!         let (due, later) = self.timers.drain(..).partition(|t| t.0 <= now);
//!         self.timers = later;
//!         for (_, i, timer) in due {
//!             self.nodes[i].on_timer(timer);
//!             self.carry_out(i);
//!         }
//!         while let Some(m) = self.wire.pop_front() {
//!             let i = match m {
//!                 Wire::Request { from, id, to, request } => {
//!                     self.next_inbound += 1;
//!                     self.inbound.insert(self.next_inbound, (to, from, id));
//!                     self.nodes[to].on_request(self.next_inbound, request);
//!                     to
//!                 }
//!                 Wire::Answer { to, id, result } => {
//!                     self.nodes[to].on_response(id, result);
//!                     to
//!                 }
//!             };
//!             self.carry_out(i);
//!         }
//!     }
//! }
//!
//! let members: Vec<String> = (1..=3).map(|i| format!("127.0.0.{i}:8848")).collect();
//! let cfg = Config::fast();
//! let nodes = (0..3)
//!     .map(|i| Node::new(cfg.clone(), &members[i], &members, i as u64).unwrap())
//!     .collect();
//! let mut rt = Runtime {
//!     members, nodes, disks: vec![Default::default(); 3], wire: VecDeque::new(),
//!     inbound: BTreeMap::new(), next_inbound: 0, timers: Vec::new(), done: BTreeMap::new(),
//!     now: 0,
//! };
//! // Followers learn who leads from the leader's first beat; commits need that.
//! let settled = |rt: &Runtime| {
//!     let l = rt.nodes.iter().position(|n| n.is_leader())?;
//!     rt.nodes.iter().all(|n| n.leader() == Some(rt.members[l].as_str())).then_some(l)
//! };
//! for _ in 0..2_000 {
//!     if settled(&rt).is_some() {
//!         break;
//!     }
//!     rt.step(cfg.tick_ms);
//! }
//! let leader = settled(&rt).expect("a leader within 100 virtual seconds");
//! let key = "com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@demo";
//! let value = nacos_raft_core::JsonValue::parse(r#"{"instanceList":[]}"#).unwrap();
//! let op = rt.nodes[leader].put(key, value);
//! rt.carry_out(leader);
//! rt.step(cfg.tick_ms);
//! assert_eq!(rt.done[&(leader, op)], Ok(()));
//! assert!(rt.disks.iter().all(|(files, _)| files.contains_key(key)));
//! assert_eq!(rt.disks[leader].1, 101); // the +100 rule, persisted
//! assert!(rt.inbound.is_empty(), "every request was answered");
//! ```
//!
//! ## Simulating a cluster
//!
//! [`sim::Sim`] runs N nodes on a virtual clock with latency, loss, cuts, crashes and client
//! operations, records every message and event, and checks safety and liveness as it goes:
//!
//! ```
//! use nacos_raft_core::sim::{Sim, SimConfig};
//!
//! let mut sim = Sim::new(SimConfig { nodes: 3, seed: 1, ..SimConfig::default() }).unwrap();
//! sim.run_until(60_000);
//! assert!(sim.cluster_leader().is_some());
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// The crate docs link to the simulator, which is compiled only with the `sim` feature.
#![cfg_attr(not(feature = "sim"), allow(rustdoc::broken_intra_doc_links))]

extern crate alloc;

// Every module is private; the list below is the whole public surface, one path per type.
// Where each protocol step is handled, by file: a vote in `election.rs`, a beat in `beat.rs`, a
// sync batch in `sync.rs`, a write and a delete in `publish.rs`, a disk write is a
// `Persist` output (`output.rs`) the runtime carries out.
mod beat;
mod config;
mod datum;
mod election;
mod event;
mod message;
mod node;
mod output;
mod peer;
mod position;
mod publish;
mod rng;
mod rules;
mod sync;
mod vecmap;

pub mod key;
pub mod naming;
#[cfg(feature = "sim")]
pub mod sim;
pub mod sort;
#[cfg(any(test, feature = "sim"))]
pub mod testing;
pub mod text;
pub mod wire;

pub use config::{Config, ConfigError};
pub use datum::{Datum, JsonValue};
pub use event::{Event, StepDown};
pub use message::{BeatDatum, BeatPacket, Failure, MsgKind, RaftError, Request, Response};
pub use node::Node;
pub use output::{InboundId, OpId, Origin, Output, Persist, RequestId, Timer};
pub use peer::{PeerState, RaftPeer};
pub use position::COMMIT_OUT_OF_ORDER;
pub use publish::{
    forward_abandoned, DELETE_FAILED, FORWARD_ABANDONED, FORWARD_MISADDRESSED, NO_LEADER,
    PUBLISH_FAILED, REPAIR_DELETED, REPAIR_NOT_LEADER, REPAIR_UNACKNOWLEDGED, TERM_STRIDE,
};
pub use rules::{Fix, Fixes, Rules, RulesError};

#[cfg(test)]
mod tests;
