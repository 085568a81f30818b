//! What the simulator records: every message with its timing and fate, and every event.

use crate::sim::Action;
use crate::{Event, MsgKind, OpId, RaftError, Request, Response};
use alloc::string::String;
use core::hash::{Hash, Hasher};

/// Id of a message in a run (its index in [`Sim::messages`](super::Sim::messages) when the trace is recorded).
pub type MsgId = u64;

/// How much of a run to keep.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TraceMode {
    /// Every message with its payload, every event (the page, tests that inspect payloads).
    #[default]
    Full,
    /// Messages and events without payloads.
    Light,
    /// Nothing but counters and the trace hash (benchmarks, long runs).
    Off,
}

/// What became of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fate {
    /// Still travelling.
    InFlight,
    /// Arrived and was handled.
    Delivered,
    /// Lost on the way (the loss rate).
    Lost,
    /// Blocked by a cut link.
    Cut,
    /// Arrived at a node that is down: connection refused.
    Refused,
    /// An answer that arrived after its requester crashed or restarted.
    Discarded,
    /// Dropped by a person.
    Dropped,
}

impl Fate {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Fate::InFlight => "in-flight",
            Fate::Delivered => "delivered",
            Fate::Lost => "lost",
            Fate::Cut => "cut",
            Fate::Refused => "refused",
            Fate::Discarded => "discarded",
            Fate::Dropped => "dropped",
        }
    }

    /// Whether a message with this fate failed to arrive (lost, cut, refused, discarded,
    /// dropped); in flight and delivered are not failures.
    pub fn is_failure(self) -> bool {
        !matches!(self, Fate::InFlight | Fate::Delivered)
    }

    /// How far along its way, as a fraction of its latency, a message with this fate dies: a
    /// lost one half way, a cut one a third of the way, every other at the receiver (1).
    pub fn failure_point(self) -> f64 {
        1.0 / self.failure_divisor() as f64
    }

    /// The simulator's integer form of [`Fate::failure_point`]: a message that dies on the way
    /// fails `latency / failure_divisor()` ms after it was sent.
    pub(crate) fn failure_divisor(self) -> u64 {
        match self {
            Fate::Lost => 2,
            Fate::Cut => 3,
            _ => 1,
        }
    }
}

/// A message's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// A request.
    Request(Request),
    /// An answer: 200 with a body, or an error status with Nacos' text.
    Reply(Result<Response, RaftError>),
}

impl Payload {
    /// The body as a Java node would put it on the wire.
    pub fn wire_json(&self) -> String {
        match self {
            Payload::Request(r) => r.wire_json(),
            Payload::Reply(Ok(r)) => r.wire_json(),
            Payload::Reply(Err(e)) => e.http_body(),
        }
    }
}

/// One message of a run.
#[derive(Clone, Debug)]
pub struct MsgRecord {
    /// Its id.
    pub id: MsgId,
    /// Its kind.
    pub kind: MsgKind,
    /// Sender (node index).
    pub from: usize,
    /// Receiver (node index).
    pub to: usize,
    /// Virtual time it was sent.
    pub sent_ms: u64,
    /// Virtual time it arrives, or fails (for lost and cut messages: where it dies on the way).
    pub arrive_ms: u64,
    /// What became of it (known in advance for lost and cut messages: show it only at `arrive_ms`).
    pub fate: Fate,
    /// For answers: the request answered.
    pub reply_to: Option<MsgId>,
    /// For answers: HTTP status (200 or the error's).
    pub status: u16,
    /// For vote answers: whether the vote was granted to the requester.
    pub granted: Option<bool>,
    /// The content ([`TraceMode::Full`] only).
    pub payload: Option<Payload>,
}

/// Something that happened at a node that is not a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Happening {
    /// A protocol decision.
    Protocol(Event),
    /// The node crashed.
    Crashed,
    /// The node restarted from its disk.
    Restarted,
    /// A client operation was submitted at the node.
    Submitted {
        /// The node's operation id.
        op: OpId,
        /// Put (true) or remove (false).
        put: bool,
        /// The key.
        key: String,
    },
    /// A client operation finished.
    Completed {
        /// The node's operation id.
        op: OpId,
        /// The key.
        key: String,
        /// `None` when it succeeded.
        error: Option<RaftError>,
    },
    /// A person changed something (network, timers) that concerns this node.
    Acted(Action),
}

/// One recorded event.
#[derive(Clone, Debug)]
pub struct TraceEvent {
    /// Virtual time.
    pub at_ms: u64,
    /// The node it concerns.
    pub node: usize,
    /// What happened.
    pub what: Happening,
}

/// FNV-1a, for the trace hash (stable across platforms, unlike `DefaultHasher`).
#[derive(Clone, Debug)]
pub(crate) struct Fnv(pub(crate) u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= *b as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.write(&v.to_le_bytes());
    }
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }
}

impl Fnv {
    pub(crate) fn add(&mut self, v: impl Hash) {
        v.hash(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Action, Sim, SimConfig};

    #[test]
    fn failures_and_where_they_die() {
        let all = [
            Fate::InFlight,
            Fate::Delivered,
            Fate::Lost,
            Fate::Cut,
            Fate::Refused,
            Fate::Discarded,
            Fate::Dropped,
        ];
        let failed: alloc::vec::Vec<bool> = all.iter().map(|f| f.is_failure()).collect();
        assert_eq!(failed, [false, false, true, true, true, true, true]);
        assert_eq!(Fate::Lost.failure_point(), 0.5);
        assert_eq!(Fate::Cut.failure_point(), 1.0 / 3.0);
        assert_eq!(Fate::Refused.failure_point(), 1.0);
    }

    #[test]
    fn the_simulator_kills_messages_at_their_failure_point() {
        // Every message takes 30 ms; a cut one dies after 10, a lost one after 15.
        let mut s = Sim::new(SimConfig {
            latency_ms: (30, 30),
            ..SimConfig::default()
        })
        .unwrap();
        s.apply(Action::Cut {
            from: 0,
            to: 1,
            both: false,
        })
        .unwrap();
        s.apply(Action::SetLoss { ppm: 1_000_000 }).unwrap();
        s.apply(Action::Timeout { node: 0 }).unwrap();
        let fates: alloc::vec::Vec<(Fate, u64)> = s
            .messages()
            .iter()
            .map(|m| (m.fate, m.arrive_ms - m.sent_ms))
            .collect();
        assert_eq!(fates, [(Fate::Cut, 10), (Fate::Lost, 15)]);
        for (f, d) in fates {
            assert_eq!(d as f64, 30.0 * f.failure_point());
        }
    }
}
