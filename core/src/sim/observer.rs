//! Safety and liveness observers, run after every step of the simulator. Each records the onset
//! of a condition once (not every step while it lasts) as a [`Violation`].

use super::Sim;
use crate::key::{self, MapKey};
use crate::{Event, JsonValue, PeerState};
use alloc::collections::BTreeMap;
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

/// What the observers keep about one key, in one map: a client write and its completion, a
/// publish and a change at the leader each cost one search of it (three maps were searched up
/// to three times per datum, ~60-byte keys compared along their shared prefix each time).
#[derive(Clone, Debug, Default)]
pub(crate) struct KeyRecord {
    /// The sequence number of the latest client operation submitted on the key.
    pub(crate) latest_op: Option<u64>,
    /// The term of the leader at the key's last `Published` event.
    pub(crate) published_term: Option<u64>,
    /// The last acknowledged put (or, under `dead-key`, delete).
    pub(crate) acked: Option<AckedWrite>,
    /// Client operations on the key submitted and not finished (those of a crashed node never
    /// finish: one may still be applied by the leader it was forwarded to).
    pub(crate) unfinished: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct AckedWrite {
    pub(crate) seq: u64,
    /// `None`: an acknowledged delete.
    pub(crate) value: Option<JsonValue>,
    pub(crate) node: usize,
    pub(crate) at_ms: u64,
    /// The term of the leader whose publish of it reached a majority (0: unknown).
    pub(crate) term: u64,
}

/// A node's belief in a leader, for the stale-leader observer.
#[derive(Clone, Debug)]
pub(crate) struct StaleEntry {
    leader: String,
    /// When the believed leader was last seen LEADER (or the belief began).
    since: u64,
    reported: bool,
    /// The believed leader's index, `None` if it is no member.
    index: Option<usize>,
    /// Whether the believed leader was LEADER at the last look.
    real: bool,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Observer {
    pub(crate) leaders_before: usize,
    /// Terms with two leaders already reported (sorted, see [`crate::sort::set_insert`]).
    pub(crate) same_term_reported: Vec<u64>,
    /// Per node: the leader it believes in, since when that leader was last seen not leading
    /// (or `now` while it leads), whether reported, and its index.
    pub(crate) stale_since: Vec<Option<StaleEntry>>,
    /// The leaders found by the last step's scan, kept to reuse its allocation.
    pub(crate) leaders: Vec<(usize, u64)>,
    /// Bit `i`: node `i` may have changed since the last [`Sim::observe`] (set by every call
    /// into it, crash and restart; nodes are at most 64). Only those nodes are read again: a
    /// step changes one node, and reading all of them on every step was a tenth of the
    /// simulator's time.
    pub(crate) changed: u64,
    /// Per node, its term when last read as LEADER (valid where `was_leader`).
    pub(crate) leader_term: Vec<u64>,
    pub(crate) unique_leader: Option<usize>,
    /// Per key: the latest operation, the last acknowledged put, the term of its last publish.
    pub(crate) keys: BTreeMap<MapKey, KeyRecord>,
    /// Operations already reported lost (sorted).
    pub(crate) lost_reported: Vec<u64>,
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
        let changed = self.obs.changed;
        // Leader entries, terms: read again only where a node may have changed; the others
        // are as the last step left them.
        for i in 0..self.nodes.len() {
            if changed & (1 << i) == 0 && Some(i) != touched {
                continue;
            }
            let Some(node) = self.nodes[i].node.as_ref() else {
                self.obs.was_leader[i] = false;
                continue;
            };
            let local = node.local();
            let is_leader = local.state == PeerState::Leader;
            if is_leader {
                self.obs.leader_term[i] = local.term;
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
        let mut leaders = core::mem::take(&mut self.obs.leaders);
        leaders.clear();
        for (i, &was) in self.obs.was_leader.iter().enumerate() {
            if was {
                leaders.push((i, self.obs.leader_term[i]));
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
                if ta == tb && crate::sort::set_insert(&mut self.obs.same_term_reported, *ta) {
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
        self.check_stale_leaders(changed);
        self.obs.changed = 0;
    }

    /// Node `i` is about to change (a call into it, a crash, a restart): the next
    /// [`observe`](Sim::observe) reads it again.
    pub(crate) fn node_changed(&mut self, i: usize) {
        self.obs.changed |= 1 << i;
    }

    /// After a protocol event at `node`: a key change at the only leader may lose an acked write.
    pub(crate) fn observe_event(&mut self, node: usize, e: &Event) {
        if let Event::Published { key, .. } = e {
            if let Some(n) = self.nodes[node].node.as_ref() {
                let term = Some(n.local().term);
                // Looked up as a `MapKey`: a `&str` lookup compares with `memcmp`, a byte loop on
                // wasm.
                let r = self.obs.keys.entry(MapKey::from(key.as_str())).or_default();
                r.published_term = term;
            }
        }
        if self.obs.unique_leader != Some(node) {
            return;
        }
        // A leader's own publish can bring back a key whose delete was acknowledged (a
        // repair); acknowledged deletes are checked only under `dead-key` (see `Sim::op_done`).
        let deletes = self.cfg.rules.has(crate::Fix::DeadKey);
        match e {
            Event::Published { key, .. } if deletes => self.check_lost_writes(node, Some(key)),
            Event::DeadKeyDeleted { key }
            | Event::Deleted { key, .. }
            | Event::DatumApplied { key, .. }
            | Event::CommitApplied { key, .. } => self.check_lost_writes(node, Some(key)),
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
        let candidates: Vec<(&MapKey, &KeyRecord)> = match only {
            // Looked up as a `MapKey`: a `&str` lookup compares with `memcmp`.
            Some(k) => self
                .obs
                .keys
                .get_key_value(&MapKey::from(k))
                .into_iter()
                .collect(),
            None => self.obs.keys.iter().collect(),
        };
        for (key, r) in candidates {
            let Some(w) = &r.acked else {
                continue;
            };
            if r.latest_op != Some(w.seq)
                || self.obs.lost_reported.binary_search(&w.seq).is_ok()
                || (elections && own_term < w.term)
            {
                continue;
            }
            let holds = node.datum_by_key(key).and_then(|d| d.value.as_ref()) == w.value.as_ref();
            if !holds {
                lost.push((
                    String::from(key.as_str()),
                    w.seq,
                    w.node,
                    w.at_ms,
                    w.value.is_none(),
                ));
            }
        }
        for (key, seq, by, at, deleted) in lost {
            crate::sort::set_insert(&mut self.obs.lost_reported, seq);
            let (what, fate) = if deleted {
                ("deleted, acknowledged", "is back at")
            } else {
                ("acknowledged", "is missing from")
            };
            let detail = format!(
                "{key} ({what} at {at} ms via {}) {fate} the leader {}",
                self.nodes[by].addr, self.nodes[leader].addr
            );
            self.violation(
                ViolationKind::LostAckedWrite,
                detail,
                alloc::vec![leader, by],
            );
        }
    }

    /// `changed`: the nodes that may have changed since the last step (see `Observer::changed`);
    /// a belief is read again only when its node changed, whether its leader leads only when
    /// that leader changed.
    fn check_stale_leaders(&mut self, changed: u64) {
        let t = &self.cfg.timings;
        let threshold = 2 * (t.leader_timeout_ms + t.random_ms) + t.heartbeat_ms;
        let now = self.now;
        for i in 0..self.nodes.len() {
            if changed & (1 << i) != 0 {
                let Some(l) = self.nodes[i].node.as_ref().and_then(|n| n.leader()) else {
                    self.obs.stale_since[i] = None;
                    continue;
                };
                // Same belief as before: keep its entry.
                let same = self.obs.stale_since[i]
                    .as_ref()
                    .is_some_and(|e| key::same(&e.leader, l));
                if !same {
                    let index = self.index_of(l);
                    self.obs.stale_since[i] = Some(StaleEntry {
                        leader: String::from(l),
                        since: now,
                        reported: false,
                        index,
                        real: false,
                    });
                }
            }
            let Some(entry) = self.obs.stale_since[i].as_ref() else {
                continue;
            };
            let real = match entry.index {
                // A new entry's node changed, so it is always read here.
                Some(j) if changed & (1 << i | 1 << j) != 0 => self.nodes[j]
                    .node
                    .as_ref()
                    .is_some_and(|n| n.local().state == PeerState::Leader),
                Some(_) => entry.real,
                None => false,
            };
            let entry = self.obs.stale_since[i].as_mut().expect("checked above");
            entry.real = real;
            if real {
                entry.since = now;
                continue;
            }
            if !entry.reported && now - entry.since > threshold {
                entry.reported = true;
                let detail = alloc::format!(
                    "{} has believed in {} since {} ms, but it is not LEADER",
                    self.nodes[i].addr,
                    entry.leader,
                    entry.since
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
