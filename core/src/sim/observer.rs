//! Safety and liveness observers, run after every step of the simulator. Each records the onset
//! of a condition once (not every step while it lasts) as a [`Violation`].

use super::Sim;
use crate::key::{self, MapKey};
use crate::{Event, JsonValue, PeerState};
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;
use serde::Serialize;

/// What an observer noticed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationKind {
    /// Two nodes are LEADER in the same term (election safety).
    TwoLeadersSameTerm,
    /// Two nodes are LEADER at once, in different terms (Nacos issues #771, #3652).
    TwoLeaders,
    /// A node has believed for too long in a leader that does not believe itself leader.
    StaleLeader,
    /// An acknowledged write is missing from the (only) leader.
    LostAckedWrite,
    /// The network has been healthy and quiet for several beats, yet nodes hold different data.
    NotConverged,
    /// A node's term went down without a restart (in Nacos: only beat sync does this).
    TermDecreased,
}

impl ViolationKind {
    /// snake_case name, as in the CLI's JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ViolationKind::TwoLeadersSameTerm => "two_leaders_same_term",
            ViolationKind::TwoLeaders => "two_leaders",
            ViolationKind::StaleLeader => "stale_leader",
            ViolationKind::LostAckedWrite => "lost_acked_write",
            ViolationKind::NotConverged => "not_converged",
            ViolationKind::TermDecreased => "term_decreased",
        }
    }
}

/// One observation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Virtual time of the onset.
    pub at_ms: u64,
    /// What.
    pub kind: ViolationKind,
    /// In words, naming nodes by address.
    pub detail: String,
    /// Node indexes concerned.
    #[serde(skip)]
    pub nodes: Vec<usize>,
}

#[derive(Clone, Debug)]
pub(crate) struct AckedWrite {
    pub(crate) seq: u64,
    pub(crate) value: JsonValue,
    pub(crate) node: usize,
    pub(crate) at_ms: u64,
    /// The term of the leader whose publish of it reached a majority (0: unknown).
    pub(crate) term: u64,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Observer {
    pub(crate) leaders_before: usize,
    pub(crate) same_term_reported: BTreeSet<u64>,
    /// Per node (indexed by node: this is read for every node on every step): the leader it
    /// believes in, since when that leader was last seen not leading (or `now` while it leads),
    /// whether reported, and its index.
    pub(crate) stale_since: Vec<Option<(String, u64, bool, Option<usize>)>>,
    /// The leaders found by the last step's scan, kept to reuse its allocation.
    pub(crate) leaders: Vec<(usize, u64)>,
    pub(crate) unique_leader: Option<usize>,
    pub(crate) latest_op: BTreeMap<MapKey, u64>,
    pub(crate) acked: BTreeMap<MapKey, AckedWrite>,
    /// Per key, the term of the leader at its last `Published` event.
    pub(crate) published_term: BTreeMap<MapKey, u64>,
    pub(crate) lost_reported: BTreeSet<u64>,
    pub(crate) quiet_since: u64,
    pub(crate) converged_checked: bool,
    pub(crate) terms: Vec<u64>,
    pub(crate) was_leader: Vec<bool>,
}

impl Sim {
    /// Runs every per-step observer. `touched` is the node the step concerned, if any, and
    /// `synced` whether that node applied a datum from beat sync during the step.
    pub(crate) fn observe(&mut self, touched: Option<usize>, synced: bool) {
        let now = self.now;
        // Leader entries, terms.
        let mut leaders = core::mem::take(&mut self.obs.leaders);
        leaders.clear();
        for i in 0..self.nodes.len() {
            let Some(node) = self.nodes[i].node.as_ref() else {
                self.obs.was_leader[i] = false;
                continue;
            };
            let local = node.local();
            let is_leader = local.state == PeerState::Leader;
            if is_leader {
                leaders.push((i, local.term));
                if !self.obs.was_leader[i] {
                    self.stats.leader_changes += 1;
                    self.first_leader_ms.get_or_insert(now);
                    self.leader_change_at.push((now, i, local.term));
                }
            }
            self.obs.was_leader[i] = is_leader;
            if Some(i) == touched {
                let term = local.term;
                let before = self.obs.terms[i];
                if term < before {
                    let how = if synced {
                        "by beat sync, which adopts the older term of the beat it answered"
                    } else {
                        "outside beat sync"
                    };
                    let detail = format!("{} term {before} → {term} {how}", self.nodes[i].addr);
                    self.violation(
                        crate::sim::ViolationKind::TermDecreased,
                        detail,
                        alloc::vec![i],
                    );
                    if !synced {
                        self.unexplained_term_decreases += 1;
                    }
                }
                self.obs.terms[i] = term;
            }
        }
        if leaders.len() >= 2 && self.obs.leaders_before < 2 {
            let names: Vec<String> = leaders
                .iter()
                .map(|(i, t)| format!("{} (term {t})", self.nodes[*i].addr))
                .collect();
            self.violation(
                ViolationKind::TwoLeaders,
                format!("LEADER at once: {}", names.join(", ")),
                leaders.iter().map(|l| l.0).collect(),
            );
        }
        self.obs.leaders_before = leaders.len();
        for (a, (ia, ta)) in leaders.iter().enumerate() {
            for (ib, tb) in leaders.iter().skip(a + 1) {
                if ta == tb && self.obs.same_term_reported.insert(*ta) {
                    let detail = format!(
                        "{} and {} are both LEADER in term {ta}",
                        self.nodes[*ia].addr, self.nodes[*ib].addr
                    );
                    self.violation(
                        ViolationKind::TwoLeadersSameTerm,
                        detail,
                        alloc::vec![*ia, *ib],
                    );
                }
            }
        }
        let unique = if leaders.len() == 1 {
            Some(leaders[0].0)
        } else {
            None
        };
        self.obs.leaders = leaders;
        if unique != self.obs.unique_leader {
            self.obs.unique_leader = unique;
            self.quiet(now);
            if let Some(l) = unique {
                self.check_lost_writes(l, None);
            }
        }
        self.check_stale_leaders();
    }

    /// After a protocol event at `node`: a key change at the only leader may lose an acked write.
    pub(crate) fn observe_event(&mut self, node: usize, e: &Event) {
        if let Event::Published { key, .. } = e {
            if let Some(n) = self.nodes[node].node.as_ref() {
                let term = n.local().term;
                self.obs.published_term.insert(key.as_str().into(), term);
            }
        }
        if self.obs.unique_leader != Some(node) {
            return;
        }
        match e {
            Event::DeadKeyDeleted { key }
            | Event::Deleted { key, .. }
            | Event::DatumApplied { key, .. }
            | Event::CommitApplied { key, .. } => {
                let key = key.clone();
                self.check_lost_writes(node, Some(&key));
            }
            _ => {}
        }
    }

    fn check_lost_writes(&mut self, leader: usize, only: Option<&str>) {
        let Some(node) = self.nodes[leader].node.as_ref() else {
            return;
        };
        // Raft's leader completeness is about leaders of later terms: a leader of an earlier
        // term than the one that acknowledged the write (cut off in a minority, still within
        // its `two-leaders` lease for a few ms after forced elections depose the newer one)
        // cannot commit, its beats and commits are refused by every node of a newer term, and
        // its position is below theirs, so it can neither spread nor keep its stale copy
        // (docs/hardened/stale-candidate.md). Only where terms count elections (`term-bump`):
        // under Nacos' +100 rule a term says nothing about elections and every leader counts.
        let own_term = node.local().term;
        let elections = self.cfg.rules.has(crate::Fix::TermBump);
        let mut lost = Vec::new();
        let candidates: Vec<(&MapKey, &AckedWrite)> = match only {
            Some(k) => self.obs.acked.get_key_value(k).into_iter().collect(),
            None => self.obs.acked.iter().collect(),
        };
        for (key, w) in candidates {
            if self.obs.latest_op.get(key) != Some(&w.seq)
                || self.obs.lost_reported.contains(&w.seq)
                || (elections && own_term < w.term)
            {
                continue;
            }
            let holds = node.datum(key).and_then(|d| d.value.as_ref()) == Some(&w.value);
            if !holds {
                lost.push((String::from(key.as_str()), w.seq, w.node, w.at_ms));
            }
        }
        for (key, seq, by, at) in lost {
            self.obs.lost_reported.insert(seq);
            let detail = format!(
                "{key} (acknowledged at {} ms via {}) is missing from the leader {}",
                at, self.nodes[by].addr, self.nodes[leader].addr
            );
            self.violation(
                ViolationKind::LostAckedWrite,
                detail,
                alloc::vec![leader, by],
            );
        }
    }

    fn check_stale_leaders(&mut self) {
        let t = &self.cfg.timings;
        let threshold = 2 * (t.leader_timeout_ms + t.random_ms) + t.heartbeat_ms;
        let now = self.now;
        for i in 0..self.nodes.len() {
            let Some(l) = self.nodes[i].node.as_ref().and_then(|n| n.leader()) else {
                self.obs.stale_since[i] = None;
                continue;
            };
            // One string comparison per node and step on the common path (same belief as before).
            let known = self.obs.stale_since[i]
                .as_ref()
                .filter(|e| key::same(&e.0, l))
                .map(|e| e.3);
            let li = match known {
                Some(li) => li,
                None => {
                    let li = self.index_of(l);
                    let l = String::from(l);
                    self.obs.stale_since[i] = Some((l, now, false, li));
                    li
                }
            };
            let real = li
                .and_then(|j| self.nodes[j].node.as_ref())
                .is_some_and(|n| n.local().state == PeerState::Leader);
            let entry = self.obs.stale_since[i].as_mut().expect("set above");
            if real {
                entry.1 = now;
                continue;
            }
            if !entry.2 && now - entry.1 > threshold {
                entry.2 = true;
                let detail = alloc::format!(
                    "{} has believed in {} since {} ms, but it is not LEADER",
                    self.nodes[i].addr,
                    entry.0,
                    entry.1
                );
                self.violation(ViolationKind::StaleLeader, detail, alloc::vec![i]);
            }
        }
    }

    /// Something changed that may legitimately leave nodes apart for a while.
    pub(crate) fn quiet(&mut self, now: u64) {
        self.obs.quiet_since = now;
        self.obs.converged_checked = false;
    }

    /// Periodic: once the cluster has had no faults, no client activity and the same single
    /// leader for three heartbeats, every live node must hold the leader's keys and timestamps.
    pub(crate) fn check_convergence(&mut self) {
        if self.obs.converged_checked
            || self.net.has_faults()
            || self.nodes.iter().any(|n| n.node.is_none())
        {
            return;
        }
        let Some(l) = self.obs.unique_leader else {
            return;
        };
        if self.now < self.obs.quiet_since + 3 * self.cfg.timings.heartbeat_ms {
            return;
        }
        self.obs.converged_checked = true;
        let behind = self.nodes_behind(l);
        if !behind.is_empty() {
            let names: Vec<String> = behind
                .iter()
                .map(|(i, d)| format!("{} ({d} keys differ)", self.nodes[*i].addr))
                .collect();
            let detail = format!(
                "three quiet beats after the last change, {} still differ from the leader {}",
                names.join(", "),
                self.nodes[l].addr
            );
            self.violation(
                ViolationKind::NotConverged,
                detail,
                behind.iter().map(|b| b.0).collect(),
            );
        }
    }

    /// Live nodes whose `(key, timestamp)` set differs from node `l`'s, with the number of keys
    /// that differ.
    pub fn nodes_behind(&self, l: usize) -> Vec<(usize, usize)> {
        let Some(leader) = self.nodes[l].node.as_ref() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let Some(node) = n.node.as_ref() else {
                continue;
            };
            if i == l {
                continue;
            }
            // Both maps iterate in key order: one merge walk, one comparison per key (a lookup
            // per key was ten string comparisons, a fifth of the workload's time in wasm).
            let mut diff = 0;
            let mut ours = leader.datums().peekable();
            let mut theirs = node.datums().peekable();
            loop {
                let order = match (ours.peek(), theirs.peek()) {
                    (None, None) => break,
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (Some(a), Some(b)) => key::cmp_keys(&a.key, &b.key),
                };
                match order {
                    // A key only the leader holds, or only the node.
                    Ordering::Less => drop(ours.next()),
                    Ordering::Greater => drop(theirs.next()),
                    Ordering::Equal => {
                        let same =
                            ours.next().map(|d| d.timestamp) == theirs.next().map(|d| d.timestamp);
                        if same {
                            continue;
                        }
                    }
                }
                diff += 1;
            }
            if diff > 0 {
                out.push((i, diff));
            }
        }
        out
    }
}
