//! The `event` object of an event-stream record (`{"kind":"BeatSent","term":4,"keys":1}`, the
//! serialization of [`Event`]) read by hand from a parsed JSON value. The derived `Deserialize`
//! of the internally tagged enum buffers the object and carries a visitor per variant: about
//! 25 KB of the page's gzipped wasm for one record type, while the page already has a JSON value
//! parser. Same acceptance as the derive: an unknown kind, a missing or mistyped field is `None`
//! (optional fields may be absent or `null`; unknown fields are ignored), except that the
//! array form the derive also takes, which no node writes, is refused.

use nacos_raft_core::{Event, PeerState, StepDown};
use serde_json::{Map, Value};

/// The event in `v`, or `None` when it is not one this page knows.
pub fn event(v: &Value) -> Option<Event> {
    let o = v.as_object()?;
    let s = |k: &str| o.get(k)?.as_str().map(String::from);
    let n = |k: &str| o.get(k)?.as_u64();
    let z = |k: &str| n(k).and_then(|x| usize::try_from(x).ok());
    Some(match o.get("kind")?.as_str()? {
        "ElectionStarted" => Event::ElectionStarted { term: n("term")? },
        "VoteGranted" => Event::VoteGranted {
            candidate: s("candidate")?,
            term: n("term")?,
        },
        "VoteRefused" => Event::VoteRefused {
            candidate: s("candidate")?,
            candidate_term: n("candidate_term")?,
            own_term: n("own_term")?,
        },
        "VoteRefusedStaleData" => Event::VoteRefusedStaleData {
            candidate: s("candidate")?,
            candidate_version: n("candidate_version")?,
            own_version: n("own_version")?,
        },
        "SplitVote" => Event::SplitVote {
            candidate: s("candidate")?,
            term: n("term")?,
        },
        "VoteRefusedStaleLog" => Event::VoteRefusedStaleLog {
            candidate: s("candidate")?,
            candidate_at: pair(o.get("candidate_at")?)?,
            own_at: pair(o.get("own_at")?)?,
        },
        "VoteFromStranger" => Event::VoteFromStranger {
            candidate: s("candidate")?,
        },
        "VoteAnswered" => Event::VoteAnswered {
            from: s("from")?,
            vote_for: opt_str(o, "vote_for")?,
            term: n("term")?,
        },
        "LeaderDecided" => Event::LeaderDecided {
            leader: s("leader")?,
            votes: z("votes")?,
            majority: z("majority")?,
        },
        "SteppedDown" => Event::SteppedDown {
            was: state(o.get("was")?)?,
            why: step_down(o.get("why")?)?,
        },
        "BeatSent" => Event::BeatSent {
            term: n("term")?,
            keys: z("keys")?,
        },
        "BeatNotSent" => Event::BeatNotSent {
            reason: s("reason")?,
        },
        "BeatAccepted" => Event::BeatAccepted {
            leader: s("leader")?,
            term: n("term")?,
        },
        "BeatRejected" => Event::BeatRejected {
            from: s("from")?,
            reason: s("reason")?,
        },
        "LeaderChanged" => Event::LeaderChanged {
            leader: s("leader")?,
            previous: opt_str(o, "previous")?,
        },
        "PeerMarkedFollower" => Event::PeerMarkedFollower { peer: s("peer")? },
        "RequestFailed" => Event::RequestFailed {
            to: s("to")?,
            what: s("what")?.into(),
            failure: s("failure")?,
        },
        "SyncFetch" => Event::SyncFetch {
            from: s("from")?,
            keys: z("keys")?,
        },
        "DatumApplied" => Event::DatumApplied {
            key: s("key")?,
            timestamp: n("timestamp")?,
            from: s("from")?,
            term: n("term")?,
        },
        "DatumSkipped" => Event::DatumSkipped {
            key: s("key")?,
            reason: s("reason")?.into(),
        },
        "DeadKeyDeleted" => Event::DeadKeyDeleted { key: s("key")? },
        "PublishStarted" => Event::PublishStarted {
            key: s("key")?,
            timestamp: n("timestamp")?,
            term: n("term")?,
        },
        "Published" => Event::Published {
            key: s("key")?,
            timestamp: n("timestamp")?,
        },
        "PublishFailed" => Event::PublishFailed {
            key: s("key")?,
            reason: s("reason")?,
        },
        "Forwarded" => Event::Forwarded {
            key: s("key")?,
            to: s("to")?,
        },
        "CommitApplied" => Event::CommitApplied {
            key: s("key")?,
            timestamp: n("timestamp")?,
            from: s("from")?,
            term: n("term")?,
        },
        "CommitRejected" => Event::CommitRejected {
            key: s("key")?,
            from: s("from")?,
            reason: s("reason")?,
        },
        "Deleted" => Event::Deleted {
            key: s("key")?,
            by: s("by")?,
        },
        _ => return None,
    })
}

/// A `(u64, u64)` as serde writes it: a two-element array.
fn pair(v: &Value) -> Option<(u64, u64)> {
    match v.as_array()?.as_slice() {
        [a, b] => Some((a.as_u64()?, b.as_u64()?)),
        _ => None,
    }
}

/// An optional string field: `Some(None)` when absent or `null`, `None` when of another type.
fn opt_str(o: &Map<String, Value>, k: &str) -> Option<Option<String>> {
    match o.get(k) {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(_) => None,
    }
}

pub(super) fn state(v: &Value) -> Option<PeerState> {
    Some(match v.as_str()? {
        "LEADER" => PeerState::Leader,
        "FOLLOWER" => PeerState::Follower,
        "CANDIDATE" => PeerState::Candidate,
        _ => return None,
    })
}

fn step_down(v: &Value) -> Option<StepDown> {
    let o = v.as_object()?;
    let s = |k: &str| o.get(k)?.as_str().map(String::from);
    let term = || o.get("term")?.as_u64();
    let z = |k: &str| o.get(k)?.as_u64().and_then(|x| usize::try_from(x).ok());
    Some(match o.get("kind")?.as_str()? {
        "GrantedVote" => StepDown::GrantedVote {
            candidate: s("candidate")?,
            term: term()?,
        },
        "AcceptedBeat" => StepDown::AcceptedBeat {
            leader: s("leader")?,
            term: term()?,
        },
        "RefusedStaleCandidate" => StepDown::RefusedStaleCandidate {
            candidate: s("candidate")?,
            term: term()?,
        },
        "LostMajority" => StepDown::LostMajority {
            heard: z("heard")?,
            majority: z("majority")?,
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Event> {
        let s = |x: &str| x.to_string();
        vec![
            Event::ElectionStarted { term: 1 },
            Event::VoteGranted {
                candidate: s("a"),
                term: 2,
            },
            Event::VoteRefused {
                candidate: s("a"),
                candidate_term: 3,
                own_term: 4,
            },
            Event::VoteFromStranger { candidate: s("z") },
            Event::VoteRefusedStaleData {
                candidate: s("a"),
                candidate_version: 3,
                own_version: 5,
            },
            Event::VoteRefusedStaleLog {
                candidate: s("a"),
                candidate_at: (3, 4),
                own_at: (3, 5),
            },
            Event::SplitVote {
                candidate: s("a"),
                term: 4,
            },
            Event::VoteAnswered {
                from: s("b"),
                vote_for: Some(s("a")),
                term: 5,
            },
            Event::VoteAnswered {
                from: s("b"),
                vote_for: None,
                term: 5,
            },
            Event::LeaderDecided {
                leader: s("a"),
                votes: 2,
                majority: 2,
            },
            Event::SteppedDown {
                was: PeerState::Leader,
                why: StepDown::GrantedVote {
                    candidate: s("c"),
                    term: 7,
                },
            },
            Event::SteppedDown {
                was: PeerState::Candidate,
                why: StepDown::AcceptedBeat {
                    leader: s("d"),
                    term: 8,
                },
            },
            Event::SteppedDown {
                was: PeerState::Follower,
                why: StepDown::RefusedStaleCandidate {
                    candidate: s("e"),
                    term: 9,
                },
            },
            Event::SteppedDown {
                was: PeerState::Leader,
                why: StepDown::LostMajority {
                    heard: 1,
                    majority: 2,
                },
            },
            Event::BeatSent { term: 9, keys: 10 },
            Event::BeatNotSent { reason: s("r") },
            Event::BeatAccepted {
                leader: s("a"),
                term: 11,
            },
            Event::BeatRejected {
                from: s("a"),
                reason: s("r"),
            },
            Event::LeaderChanged {
                leader: s("a"),
                previous: Some(s("b")),
            },
            Event::LeaderChanged {
                leader: s("a"),
                previous: None,
            },
            Event::PeerMarkedFollower { peer: s("p") },
            Event::RequestFailed {
                to: s("t"),
                what: "vote".into(),
                failure: s("f"),
            },
            Event::SyncFetch {
                from: s("a"),
                keys: 3,
            },
            Event::DatumApplied {
                key: s("k"),
                timestamp: 12,
                from: s("a"),
                term: 13,
            },
            Event::DatumSkipped {
                key: s("k"),
                reason: "older".into(),
            },
            Event::DeadKeyDeleted { key: s("k") },
            Event::PublishStarted {
                key: s("k"),
                timestamp: 14,
                term: 15,
            },
            Event::Published {
                key: s("k"),
                timestamp: 16,
            },
            Event::PublishFailed {
                key: s("k"),
                reason: s("r"),
            },
            Event::Forwarded {
                key: s("k"),
                to: s("a"),
            },
            Event::CommitApplied {
                key: s("k"),
                timestamp: 17,
                from: s("a"),
                term: 18,
            },
            Event::CommitRejected {
                key: s("k"),
                from: s("a"),
                reason: s("r"),
            },
            Event::Deleted {
                key: s("k"),
                by: s("a"),
            },
        ]
    }

    /// Every variant the node can write reads back equal, as the derived deserializer reads it.
    #[test]
    fn reads_what_the_node_writes() {
        for e in all() {
            let v = serde_json::to_value(&e).unwrap();
            assert_eq!(event(&v).as_ref(), Some(&e), "{v}");
            let derived: Event = serde_json::from_value(v).unwrap();
            assert_eq!(derived, e);
        }
    }

    /// `all()` has every variant: the match has no wildcard, so a variant added to `Event` stops
    /// this test from compiling until it is read here and listed above.
    #[test]
    fn covers_every_variant() {
        let index = |e: &Event| match e {
            Event::ElectionStarted { .. } => 0,
            Event::VoteGranted { .. } => 1,
            Event::VoteRefused { .. } => 2,
            Event::VoteFromStranger { .. } => 3,
            Event::VoteAnswered { .. } => 4,
            Event::LeaderDecided { .. } => 5,
            Event::SteppedDown { .. } => 6,
            Event::BeatSent { .. } => 7,
            Event::BeatNotSent { .. } => 8,
            Event::BeatAccepted { .. } => 9,
            Event::BeatRejected { .. } => 10,
            Event::LeaderChanged { .. } => 11,
            Event::PeerMarkedFollower { .. } => 12,
            Event::RequestFailed { .. } => 13,
            Event::SyncFetch { .. } => 14,
            Event::DatumApplied { .. } => 15,
            Event::DatumSkipped { .. } => 16,
            Event::DeadKeyDeleted { .. } => 17,
            Event::PublishStarted { .. } => 18,
            Event::Published { .. } => 19,
            Event::PublishFailed { .. } => 20,
            Event::Forwarded { .. } => 21,
            Event::CommitApplied { .. } => 22,
            Event::CommitRejected { .. } => 23,
            Event::Deleted { .. } => 24,
            Event::VoteRefusedStaleData { .. } => 25,
            Event::VoteRefusedStaleLog { .. } => 26,
            Event::SplitVote { .. } => 27,
        };
        let seen: std::collections::BTreeSet<usize> = all().iter().map(index).collect();
        assert_eq!(seen, (0..28).collect());
    }

    #[test]
    fn rejects_what_the_derive_rejects() {
        let bad = [
            r#"{"kind":"NoSuchEvent","term":1}"#,
            r#"{"term":1}"#,
            r#"{"kind":"ElectionStarted"}"#,
            r#"{"kind":"ElectionStarted","term":"1"}"#,
            r#"{"kind":"ElectionStarted","term":-1}"#,
            r#"{"kind":"VoteAnswered","from":"b","vote_for":3,"term":5}"#,
            r#"{"kind":"SteppedDown","was":"BOSS","why":{"kind":"GrantedVote","candidate":"c","term":7}}"#,
            r#"{"kind":"SteppedDown","was":"LEADER","why":{"kind":"Other","term":7}}"#,
        ];
        for b in bad {
            let v: Value = serde_json::from_str(b).unwrap();
            assert_eq!(event(&v), None, "{b}");
            assert!(serde_json::from_value::<Event>(v).is_err(), "{b}");
        }
        // Absent optional fields and unknown fields are accepted, as by the derive.
        let v: Value =
            serde_json::from_str(r#"{"kind":"LeaderChanged","leader":"a","extra":1}"#).unwrap();
        assert_eq!(
            event(&v),
            Some(Event::LeaderChanged {
                leader: "a".into(),
                previous: None
            })
        );
    }
}
