//! # nacos-raft-core
//!
//! The consensus protocol of the Nacos 1.x naming module (its home-made "Raft": leader election
//! by vote, heartbeats from the leader, data sync driven by those heartbeats) as a pure,
//! deterministic state machine — and a cluster simulator built on it.
//!
//! It behaves as Nacos 1.4.1 does, known flaws included (stale vote counting, the +100 term
//! rule, commit before replication, the dead-key rule, fire-and-forget deletes, the term lost on
//! restart). The rules are those of `nacos-protocol.md`; function names follow the Java methods
//! (`send_vote`, `received_vote`, `decide_leader`, `send_beat`, `received_beat`, `make_leader`).
//!
//! ## Driving a node
//!
//! A [`Node`] never reads a clock and never does I/O. The runtime calls [`Node::tick`] every
//! `tick_ms`, hands it requests and answers, and carries out its [`Output`]s in order:
//!
//! ```
//! use nacos_raft_core::{Config, Node, Output, Request};
//!
//! let members: Vec<String> = vec!["10.0.0.1:8848".into(), "10.0.0.2:8848".into(), "10.0.0.3:8848".into()];
//! let mut a = Node::new(Config::default(), "10.0.0.1:8848", &members, 7).unwrap();
//! a.timeout_now(); // as if its leader due ran out
//! let votes: Vec<_> = a
//!     .take_outputs()
//!     .into_iter()
//!     .filter_map(|o| match o {
//!         Output::Send { to, request: Request::Vote(me), .. } => Some((to, me.term)),
//!         _ => None,
//!     })
//!     .collect();
//! assert_eq!(votes, [("10.0.0.2:8848".to_string(), 1), ("10.0.0.3:8848".to_string(), 1)]);
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

extern crate alloc;

mod beat;
pub mod config;
mod election;
pub mod event;
pub mod key;
pub mod message;
pub mod naming;
mod node;
pub mod output;
mod peer;
pub mod publish;
pub mod rng;
pub mod sim;
mod sync;
pub mod wire;

pub use config::{Config, ConfigError};
pub use event::{Event, StepDown};
pub use message::{Failure, MsgKind, RaftError, Request, Response};
pub use node::Node;
pub use output::{InboundId, OpId, Origin, Output, Persist, RequestId, Timer};
pub use wire::{BeatDatum, BeatPacket, Datum, JsonValue, PeerState, RaftPeer};

#[cfg(test)]
mod tests;
