//! The JSON shapes of the wire (docs/nacos-protocol.md §3), byte-compatible with what Jackson writes in
//! Nacos 1.3/1.4: field names and order, `NON_NULL` omission, and the lenient or strict parsing
//! each endpoint applies.

use crate::datum::{Datum, JsonValue};
use crate::message::{BeatDatum, BeatPacket};
use crate::peer::{PeerState, RaftPeer};
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Deserializer, Serialize};

impl RaftPeer {
    /// Compact JSON exactly as Jackson writes it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Datum {
    /// Compact JSON, as on disk and in `/datum` answers.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Why a wire body could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireError(pub String);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for WireError {}

/// Java's text when `RaftPeer.State.valueOf` meets an unknown name (RaftCore 729), followed by
/// the name.
pub const NO_SUCH_STATE: &str =
    "No enum constant com.alibaba.nacos.naming.consistency.persistent.raft.RaftPeer.State.";

impl WireError {
    /// Whether this is Java's `IllegalArgumentException` from an unknown beat `state`, which
    /// Nacos answers with 400 and the bare message (every other beat parse error is a 500).
    pub fn is_unknown_state(&self) -> bool {
        self.0.starts_with(NO_SUCH_STATE)
    }
}

fn werr(e: impl fmt::Display) -> WireError {
    WireError(e.to_string())
}

/// `null` must be told apart from "absent" for the beat's `voteFor`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Ok(Some(Option::<T>::deserialize(d)?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StrictPeer {
    ip: Option<String>,
    #[serde(default, deserialize_with = "present")]
    vote_for: Option<Option<String>>,
    term: Option<u64>,
    leader_due_ms: Option<i64>,
    heartbeat_due_ms: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    state: Option<Option<serde_json::Value>>,
    /// Not read by Java: the hardened leader's log position (`RaftPeer::position`).
    #[serde(default)]
    position: Option<(u64, u64)>,
}

/// Jackson's `asText` of a JSON value: a string as it is, null as `null`, a number or boolean
/// as written, an array or object as an empty text.
pub(crate) fn as_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    use serde_json::Value;
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(_) | Value::Object(_) => String::new(),
    })
}

/// `RaftPeer.State.valueOf(peer.get("state").asText())`: a known name, else Java's error with
/// the text Jackson's `asText` gives (a number or boolean as written, `null`, and an empty text
/// for an object or array).
fn state_of(v: &serde_json::Value) -> Result<PeerState, WireError> {
    use serde_json::Value;
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(_) | Value::Object(_) => String::new(),
    };
    match text.as_str() {
        "FOLLOWER" => Ok(PeerState::Follower),
        "CANDIDATE" => Ok(PeerState::Candidate),
        "LEADER" => Ok(PeerState::Leader),
        _ => Err(WireError(alloc::format!("{NO_SUCH_STATE}{text}"))),
    }
}

#[derive(Deserialize)]
struct RawPacket {
    peer: Option<StrictPeer>,
    datums: Option<Vec<BeatDatum>>,
}

#[derive(Deserialize)]
struct Outer {
    beat: Option<String>,
}

impl BeatPacket {
    /// Parses the inner packet the way `receivedBeat` reads it: all six peer fields required, a
    /// JSON null `voteFor` becomes the text `"null"`, `state` must be a known name, and every
    /// datum entry needs a `timestamp` (an entry without `key` is read with an empty key, which the
    /// sync then fails on, as Java does). Errors happen before any state is touched.
    pub fn from_json(text: &str) -> Result<BeatPacket, WireError> {
        let raw: RawPacket = serde_json::from_str(text).map_err(werr)?;
        let p = raw
            .peer
            .ok_or_else(|| WireError("beat packet has no peer".into()))?;
        let missing = |f: &str| WireError(alloc::format!("beat peer has no {f}"));
        // Java reads ip, then state, then the rest (RaftCore 728-733).
        let ip = p.ip.ok_or_else(|| missing("ip"))?;
        let state = state_of(
            p.state
                .ok_or_else(|| missing("state"))?
                .as_ref()
                .unwrap_or(&serde_json::Value::Null),
        )?;
        let peer = RaftPeer {
            ip,
            vote_for: Some(
                p.vote_for
                    .ok_or_else(|| missing("voteFor"))?
                    .unwrap_or_else(|| "null".into()),
            ),
            term: p.term.ok_or_else(|| missing("term"))?,
            leader_due_ms: p.leader_due_ms.ok_or_else(|| missing("leaderDueMs"))?,
            heartbeat_due_ms: p
                .heartbeat_due_ms
                .ok_or_else(|| missing("heartbeatDueMs"))?,
            state,
            // Java's receivedBeat reads the six fields by name and nothing else; a hardened
            // follower also reads the leader's log position.
            data_version: None,
            position: p.position,
        };
        let datums = raw
            .datums
            .ok_or_else(|| WireError("beat packet has no datums".into()))?;
        Ok(BeatPacket {
            peer,
            datums: Arc::new(datums),
        })
    }

    /// The inner packet as compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The outer body before gzip: `{"beat":"<packet JSON as a string>"}`.
    pub fn to_body(&self) -> String {
        #[derive(Serialize)]
        struct OuterRef<'a> {
            beat: &'a str,
        }
        serde_json::to_string(&OuterRef {
            beat: &self.to_json(),
        })
        .unwrap_or_default()
    }

    /// Parses the outer body (already gunzipped and URL-decoded) and then the packet inside it.
    pub fn from_body(text: &str) -> Result<BeatPacket, WireError> {
        let outer: Outer = serde_json::from_str(text).map_err(werr)?;
        let inner = outer
            .beat
            .ok_or_else(|| WireError("beat body has no field beat".into()))?;
        BeatPacket::from_json(&inner)
    }
}

/// Body of a commit (endpoint 9) and, with a value-less datum, a delete commit (endpoint 10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitBody {
    /// The datum (delete commits: `{"key":..,"timestamp":0}`).
    pub datum: Datum,
    /// The leader as it was when it built the message.
    pub source: RaftPeer,
}

impl CommitBody {
    /// Parses a commit body; both fields are required (Nacos fails with 500 otherwise).
    pub fn from_json(text: &str) -> Result<CommitBody, WireError> {
        serde_json::from_str(text).map_err(werr)
    }

    /// Compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Body of a forwarded publish (endpoint 5): `{"key":..,"value":{..}}`, plus `timestamp` in a
/// hardened follower's repair of a key its leader lacks ([`Fix::DeadKey`](crate::Fix::DeadKey);
/// Java's `RaftController.publish` reads only `key` and `value`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardBody {
    /// The full key.
    pub key: String,
    /// The value.
    pub value: JsonValue,
    /// The repaired datum's timestamp; absent in a plain forwarded write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
    /// The term of the leader a hardened follower addresses (`Fix::StaleForward`).
    #[serde(
        default,
        rename = "leaderTerm",
        skip_serializing_if = "Option::is_none"
    )]
    pub leader_term: Option<u64>,
}

impl ForwardBody {
    /// Parses a forward body.
    pub fn from_json(text: &str) -> Result<ForwardBody, WireError> {
        serde_json::from_str(text).map_err(werr)
    }

    /// Compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Answer of `GET /raft/datum`: one element per requested key, `null` when absent.
pub fn datums_to_json(datums: &[Option<Datum>]) -> String {
    serde_json::to_string(datums).unwrap_or_default()
}

/// Parses a `GET /raft/datum` answer.
pub fn datums_from_json(text: &str) -> Result<Vec<Option<Datum>>, WireError> {
    serde_json::from_str(text).map_err(werr)
}

/// Parses a peer answer (vote, beat, peer endpoints) leniently.
pub fn peer_from_json(text: &str) -> Result<RaftPeer, WireError> {
    serde_json::from_str(text).map_err(werr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raft_peer_round_trips_byte_for_byte() {
        for text in [
            r#"{"ip":"127.0.0.1:8847","voteFor":"127.0.0.1:8846","term":1,"leaderDueMs":16569,"heartbeatDueMs":1500,"state":"FOLLOWER"}"#,
            r#"{"ip":"10.0.0.1:8848","voteFor":"10.0.0.1:8848","term":305,"leaderDueMs":17342,"heartbeatDueMs":5000,"state":"LEADER"}"#,
            r#"{"ip":"10.0.0.2:8848","voteFor":"10.0.0.2:8848","term":6,"leaderDueMs":18210,"heartbeatDueMs":5000,"state":"CANDIDATE"}"#,
        ] {
            let p = peer_from_json(text).unwrap();
            assert_eq!(p.to_json(), text);
        }
    }

    #[test]
    fn raft_peer_parsing_is_lenient_and_null_vote_is_omitted() {
        let p = peer_from_json(r#"{"ip":"a:1","voteFor":null,"extra":[1]}"#).unwrap();
        assert_eq!(p, RaftPeer::new("a:1"));
        assert_eq!(
            p.to_json(),
            r#"{"ip":"a:1","term":0,"leaderDueMs":0,"heartbeatDueMs":0,"state":"FOLLOWER"}"#
        );
        assert_eq!(peer_from_json(r#"{"voteFor":""}"#).unwrap().vote(), None);
        assert!(peer_from_json(r#"{"state":"BOSS"}"#).is_err());
    }

    #[test]
    fn beat_packet_matches_the_spec_example_and_is_strict() {
        let text = r#"{"peer":{"ip":"10.0.0.1:8848","voteFor":"10.0.0.1:8848","term":305,"leaderDueMs":17342,"heartbeatDueMs":5000,"state":"LEADER"},"datums":[{"key":"meta.public##DEFAULT_GROUP@@demo","timestamp":3},{"key":"iplist.public##DEFAULT_GROUP@@demo","timestamp":12},{"key":"meta.00-00---000-NACOS_SWITCH_DOMAIN-000---00-00","timestamp":1}]}"#;
        let p = BeatPacket::from_json(text).unwrap();
        assert_eq!(p.datums.len(), 3);
        assert_eq!(p.to_json(), text);
        let body = p.to_body();
        assert!(
            body.starts_with(r#"{"beat":"{\"peer\":{\"ip\":\"10.0.0.1:8848\""#),
            "{body}"
        );
        assert_eq!(BeatPacket::from_body(&body).unwrap(), p);

        let no_vote = text.replace(r#""voteFor":"10.0.0.1:8848","#, "");
        assert_eq!(
            BeatPacket::from_json(&no_vote).unwrap_err().0,
            "beat peer has no voteFor"
        );
        let null_vote = text.replace(r#""voteFor":"10.0.0.1:8848""#, r#""voteFor":null"#);
        assert_eq!(
            BeatPacket::from_json(&null_vote)
                .unwrap()
                .peer
                .vote_for
                .as_deref(),
            Some("null")
        );
        // RaftPeer.State.valueOf(asText()): Java's IllegalArgumentException text, whatever the
        // JSON type; a missing state is another error (Java's NPE).
        for (state, name) in [
            (r#""KING""#, "KING"),
            ("3", "3"),
            ("null", "null"),
            ("true", "true"),
            ("[]", ""),
            (r#""leader""#, "leader"),
        ] {
            let e = BeatPacket::from_json(&text.replace(r#""LEADER""#, state)).unwrap_err();
            assert!(e.is_unknown_state(), "{state}");
            assert_eq!(e.0, alloc::format!("{NO_SUCH_STATE}{name}"));
        }
        let no_state = text.replace(r#","state":"LEADER""#, "");
        let e = BeatPacket::from_json(&no_state).unwrap_err();
        assert!(!e.is_unknown_state(), "{e}");
        let no_ts = text.replace(r#","timestamp":3"#, "");
        assert!(BeatPacket::from_json(&no_ts).is_err());
        // An entry without key (Java's leader sends them) is read, and written back without key.
        let keyless = text.replace(r#""key":"meta.public##DEFAULT_GROUP@@demo","#, "");
        let p = BeatPacket::from_json(&keyless).unwrap();
        assert_eq!(p.datums[0].key, "");
        assert_eq!(p.to_json(), keyless);
        let null_key = text.replace(r#""meta.public##DEFAULT_GROUP@@demo""#, "null");
        assert_eq!(
            BeatPacket::from_json(&null_key).unwrap().datums[0].key,
            "null"
        );
        assert!(BeatPacket::from_json(r#"{"peer":{"ip":"a","voteFor":"a","term":1,"leaderDueMs":1,"heartbeatDueMs":1,"state":"LEADER"}}"#).is_err());
    }

    #[test]
    fn datum_and_commit_bodies_match_the_spec() {
        let commit = r#"{"datum":{"key":"com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@demo","value":{"instanceList":[]},"timestamp":12},"source":{"ip":"10.0.0.1:8848","voteFor":"10.0.0.1:8848","term":305,"leaderDueMs":17342,"heartbeatDueMs":5000,"state":"LEADER"}}"#;
        let c = CommitBody::from_json(commit).unwrap();
        assert_eq!(c.datum.timestamp, 12);
        assert_eq!(c.to_json(), commit);
        let del = r#"{"datum":{"key":"com.alibaba.nacos.naming.domains.meta.public##DEFAULT_GROUP@@demo","timestamp":0},"source":{"ip":"10.0.0.1:8848","voteFor":"10.0.0.1:8848","term":305,"leaderDueMs":17342,"heartbeatDueMs":5000,"state":"LEADER"}}"#;
        let d = CommitBody::from_json(del).unwrap();
        assert_eq!(d.datum.value, None);
        assert_eq!(d.to_json(), del);
        let fwd = r#"{"key":"com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@demo","value":{"instanceList":[{"ip":"10.0.0.5","port":8080}]}}"#;
        assert_eq!(ForwardBody::from_json(fwd).unwrap().to_json(), fwd);
        let arr = r#"[{"key":"k","value":{"a":1},"timestamp":2},null]"#;
        let v = datums_from_json(arr).unwrap();
        assert_eq!(v[1], None);
        assert_eq!(datums_to_json(&v), arr);
    }

    #[test]
    fn json_values_keep_their_text() {
        let v = JsonValue::parse(r#"{"b":1, "a":[true,null]}"#).unwrap();
        assert_eq!(v.as_str(), r#"{"b":1, "a":[true,null]}"#);
        assert!(JsonValue::parse("{").is_err());
        assert!(JsonValue::parse("null").unwrap().is_null());
    }
}
