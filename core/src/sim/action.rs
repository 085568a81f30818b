//! What a person (or a test) can do to a running simulation. A run is reproduced exactly by its
//! seed plus the list of actions with the virtual times at which they were applied.

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
