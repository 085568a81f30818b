//! What a person (or a test) can do to a running simulation, and how the simulator carries it
//! out. A run is reproduced exactly by its seed plus the list of actions with the virtual times at
//! which they were applied.

use super::queue::Ev;
use super::{sample_key, sample_value, ClientOp, Happening, Inbound, Sim};
use crate::{Failure, JsonValue, Node};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// One intervention.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "kebab-case")]
pub enum Action {
    /// Crash a node (it loses memory; its disk stays).
    Crash {
        /// Node index.
        node: usize,
    },
    /// Restart a crashed node from its disk.
    Restart {
        /// Node index.
        node: usize,
    },
    /// Make a node's leader due expire now: it starts an election.
    Timeout {
        /// Node index.
        node: usize,
    },
    /// Cut every link of a node, both ways.
    Isolate {
        /// Node index.
        node: usize,
    },
    /// Cut the link `from → to` (and `to → from` when `both`).
    Cut {
        /// Sender side.
        from: usize,
        /// Receiver side.
        to: usize,
        /// Both directions.
        both: bool,
    },
    /// Restore the link `from → to` (and back when `both`).
    Heal {
        /// Sender side.
        from: usize,
        /// Receiver side.
        to: usize,
        /// Both directions.
        both: bool,
    },
    /// Split the cluster: node `i` goes to group `groups[i]`; links between groups are cut,
    /// links inside a group restored.
    Partition {
        /// Group of each node.
        groups: Vec<u8>,
    },
    /// Restore every link.
    HealAll,
    /// Set the loss rate, in parts per million.
    SetLoss {
        /// Parts per million.
        ppm: u32,
    },
    /// Set the latency range of every message.
    SetLatency {
        /// Minimum ms.
        min: u64,
        /// Maximum ms.
        max: u64,
    },
    /// A client writes `key` = `value` (JSON text) at a node.
    Put {
        /// Node index.
        node: usize,
        /// Full key.
        key: String,
        /// The value as JSON text.
        value: String,
    },
    /// A client writes `count` sample datums ([`sample_key`](super::sample_key) `first..`) at a
    /// node, one after the other as Nacos serializes them.
    Load {
        /// Node index.
        node: usize,
        /// Index of the first sample key.
        first: usize,
        /// How many keys.
        count: usize,
    },
    /// A client deletes `key` at a node.
    Remove {
        /// Node index.
        node: usize,
        /// Full key.
        key: String,
    },
    /// Drop one message in flight.
    Drop {
        /// Message id.
        msg: u64,
    },
}

impl Action {
    /// The node this action concerns most (for the event log), if any.
    pub fn node(&self) -> Option<usize> {
        match self {
            Action::Crash { node }
            | Action::Restart { node }
            | Action::Timeout { node }
            | Action::Isolate { node }
            | Action::Put { node, .. }
            | Action::Load { node, .. }
            | Action::Remove { node, .. } => Some(*node),
            Action::Cut { from, .. } | Action::Heal { from, .. } => Some(*from),
            _ => None,
        }
    }
}

/// An action and the virtual time at which it was applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedAction {
    /// Virtual ms.
    pub at_ms: u64,
    /// The action.
    #[serde(flatten)]
    pub action: Action,
}

impl Sim {
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
            Action::Put { value, .. } => Some(JsonValue::parse(value).map_err(|e| {
                format!(
                    "the value is not JSON ({e}); a datum value is JSON, in an action's text \
                         percent-encoded JSON: %7B%7D for {{}}, %22v%22 for \"v\""
                )
            })?),
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

    pub(super) fn submit(&mut self, node: usize, put: bool, key: String, value: Option<JsonValue>) {
        let inc = self.nodes[node].incarnation;
        let seq = self.ops.len() as u64 + 1;
        let r = self.obs.keys.entry(key.as_str().into()).or_default();
        r.latest_op = Some(seq);
        r.unfinished += 1;
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
        self.node_changed(node);
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

    pub(super) fn crash(&mut self, i: usize) {
        self.node_changed(i);
        let n = &mut self.nodes[i];
        n.node = None;
        n.incarnation += 1;
        // Requests it was still answering (forwards waiting for a majority): connection reset.
        let waiting: Vec<Inbound> = n.inbound.take_values().collect();
        for ib in waiting {
            self.fail_later(ib.waiter, i, ib.from, Failure::Refused);
        }
        self.record(i, Happening::Crashed);
    }

    pub(super) fn restart(&mut self, i: usize) {
        let seed = self.rng.next_u64();
        self.node_changed(i);
        let n = &mut self.nodes[i];
        let node = Node::restore(
            self.cfg.node_config(),
            &n.addr,
            &self.members,
            seed,
            n.disk.datums.values().cloned(),
            n.disk.term,
        )
        .expect("a configuration that built the cluster restores it")
        .with_position(n.disk.position.0, n.disk.position.1)
        .with_tombstones(
            n.disk
                .tombstones
                .iter()
                .map(|(k, at)| (k.as_str().into(), *at)),
        );
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
}
