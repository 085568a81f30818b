//! The figures of a run, as the `simulate` CLI prints them.

use super::{Sim, Violation};
use alloc::string::{String, ToString};
use alloc::vec::Vec;

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
    /// The rule set of every node, as `--rules` names it (`nacos`, `hardened`, or fixes
    /// joined by `+`).
    pub rules: String,
}

impl Sim {
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
            rules: self.cfg.rules.to_string(),
        }
    }
}
