//! The records of the event stream (`docs/live.md`), serialized once and shared by every viewer,
//! and the payload of a message cut to [`PAYLOAD_CAP`] bytes without building more than that.

use nacos_raft_core::{Config, Datum, Event, JsonValue, MsgKind, RaftPeer, Request};
use serde::Serialize;
use std::borrow::Cow;
use std::io;

/// Payloads are cut after this many bytes (and flagged `truncated`).
pub const PAYLOAD_CAP: usize = 4096;

/// Wall-clock milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Which side of an exchange a `msg` record describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// The sender: the request left.
    Sent,
    /// The sender: the answer arrived, or the request failed.
    Answered,
    /// The receiver: the request arrived.
    Received,
    /// The receiver: it answered.
    Replied,
}

/// How an exchange ended (phases `answered` and `replied`; `received` for a request a fault
/// dropped at the receiver's edge).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// A 2xx answer.
    Ok,
    /// Another status.
    Error,
    /// Connection refused or reset.
    Refused,
    /// No answer within the read timeout.
    Timeout,
    /// A `--faults` cut dropped it at this node's edge.
    Cut,
    /// A `--faults` loss dropped it at this node's edge.
    Lost,
}

/// One side of one HTTP exchange.
#[derive(Serialize)]
pub struct Msg<'a> {
    #[serde(rename = "type")]
    pub ty: &'static str,
    pub at_ms: u64,
    pub phase: Phase,
    pub rid: &'a str,
    pub kind: &'static str,
    pub from: &'a str,
    pub to: &'a str,
    /// The sender is not a member (a client, or a peer this node cannot identify).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub client: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub granted: Option<bool>,
    pub payload: &'a str,
    pub truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_ms: Option<u64>,
}

impl<'a> Msg<'a> {
    /// A record without outcome, payload or answer fields.
    pub fn new(phase: Phase, rid: &'a str, kind: MsgKind, from: &'a str, to: &'a str) -> Self {
        Msg {
            ty: "msg",
            at_ms: now_ms(),
            phase,
            rid,
            kind: kind.as_str(),
            from,
            to,
            client: false,
            outcome: None,
            status: None,
            granted: None,
            payload: "",
            truncated: false,
            sent_ms: None,
        }
    }
}

/// A protocol decision of this node.
#[derive(Serialize)]
pub struct EventRec<'a> {
    #[serde(rename = "type")]
    pub ty: &'static str,
    pub at_ms: u64,
    pub node: &'a str,
    pub event: &'a Event,
    /// The event in words (its `Display`), written straight into the record.
    #[serde(serialize_with = "as_text")]
    pub text: &'a Event,
}

fn as_text<S: serde::Serializer>(e: &&Event, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(e)
}

/// This node's own record changed.
#[derive(Serialize)]
pub struct StateRec<'a> {
    #[serde(rename = "type")]
    pub ty: &'static str,
    pub at_ms: u64,
    pub peer: &'a nacos_raft_core::RaftPeer,
    pub leader: Option<&'a str>,
}

/// A key was written or removed on this node.
#[derive(Serialize)]
pub struct DatumRec<'a> {
    #[serde(rename = "type")]
    pub ty: &'static str,
    pub at_ms: u64,
    pub op: &'static str,
    pub key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
}

/// The viewer fell behind: this many records were dropped for it.
#[derive(Serialize)]
pub struct GapRec {
    #[serde(rename = "type")]
    pub ty: &'static str,
    pub at_ms: u64,
    pub dropped: u64,
}

/// The timings a viewer needs to extrapolate countdowns.
#[derive(Clone, Debug, Serialize)]
pub struct ConfigRec {
    pub tick_ms: u64,
    pub leader_timeout_ms: u64,
    pub random_ms: u64,
    pub heartbeat_ms: u64,
    pub publish_timeout_ms: u64,
    pub term_step: u64,
}

impl From<&Config> for ConfigRec {
    fn from(c: &Config) -> Self {
        ConfigRec {
            tick_ms: c.tick_ms,
            leader_timeout_ms: c.leader_timeout_ms,
            random_ms: c.random_ms,
            heartbeat_ms: c.heartbeat_ms,
            publish_timeout_ms: c.publish_timeout_ms,
            term_step: c.term_step,
        }
    }
}

/// A key and its timestamp, as the snapshot lists them.
#[derive(Serialize)]
pub struct DatumKey {
    pub key: String,
    pub timestamp: u64,
}

/// The first record of a connection (and the one after a `gap` or a restart).
#[derive(Serialize)]
pub struct Snapshot<'a> {
    #[serde(rename = "type")]
    pub ty: &'static str,
    pub at_ms: u64,
    pub node: &'a str,
    pub version: &'static str,
    pub rules: &'static str,
    /// `None` while the node is crashed by the fault API.
    pub peer: Option<nacos_raft_core::RaftPeer>,
    pub peers: Vec<nacos_raft_core::RaftPeer>,
    pub leader: Option<String>,
    pub datums: Vec<DatumKey>,
    pub config: &'a ConfigRec,
    pub faults: &'a super::faults::FaultView,
    pub members: &'a [String],
}

/// Compact JSON of a record (records are plain structs: serializing cannot fail).
pub fn to_json<T: Serialize>(rec: &T) -> String {
    serde_json::to_string(rec).unwrap_or_default()
}

thread_local! {
    /// The buffer records are serialized into, kept per thread so that a record costs one
    /// allocation (its shared copy) instead of a growing `String` and then that copy.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// [`to_json`], serialized once into a reused buffer and shared by every viewer's queue.
pub fn to_shared<T: Serialize>(rec: &T) -> std::sync::Arc<str> {
    SCRATCH.with(|b| {
        let mut buf = b.borrow_mut();
        buf.clear();
        let _ = serde_json::to_writer(&mut *buf, rec);
        let rec = std::str::from_utf8(&buf).unwrap_or_default().into();
        // One huge record (a long payload is capped, but a snapshot is not sent this way) must
        // not pin its size in every thread for good.
        if buf.capacity() > 64 * 1024 {
            *buf = Vec::new();
        }
        rec
    })
}

/// A writer that keeps the first `cap` bytes and then refuses, so that serializing a huge value
/// stops right there.
struct Capped {
    buf: Vec<u8>,
    cap: usize,
    over: bool,
}

impl io::Write for Capped {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        let room = self.cap - self.buf.len();
        if b.len() > room {
            self.buf.extend_from_slice(&b[..room]);
            self.over = true;
            return Err(io::Error::other("payload cap reached"));
        }
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The longest prefix of `bytes` that is whole UTF-8.
fn utf8_prefix(mut bytes: Vec<u8>) -> String {
    match std::str::from_utf8(&bytes) {
        Ok(_) => {}
        Err(e) => bytes.truncate(e.valid_up_to()),
    }
    String::from_utf8(bytes).unwrap_or_default()
}

/// `value` as JSON, cut after [`PAYLOAD_CAP`] bytes; `true` when cut.
pub fn capped_json<T: Serialize + ?Sized>(value: &T) -> (String, bool) {
    let mut w = Capped {
        buf: Vec::with_capacity(256),
        cap: PAYLOAD_CAP,
        over: false,
    };
    let _ = serde_json::to_writer(&mut w, value);
    let over = w.over;
    (utf8_prefix(w.buf), over)
}

/// Where `s` is cut: at most [`PAYLOAD_CAP`] bytes, at a character boundary.
fn cap_at(s: &str) -> usize {
    let mut end = s.len().min(PAYLOAD_CAP);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// `s` cut after [`PAYLOAD_CAP`] bytes (at a character boundary), borrowed; `true` when cut.
pub fn capped_str(s: &str) -> (&str, bool) {
    let end = cap_at(s);
    (&s[..end], end < s.len())
}

/// [`capped_str`] of a string this node built for the wire, cut in place.
fn capped_string(mut s: String) -> (String, bool) {
    let end = cap_at(&s);
    let cut = end < s.len();
    s.truncate(end);
    (s, cut)
}

/// `bytes` as text (lossy), cut after [`PAYLOAD_CAP`] bytes; borrowed when they are text.
pub fn capped_bytes(bytes: &[u8]) -> (Cow<'_, str>, bool) {
    let over = bytes.len() > PAYLOAD_CAP;
    let head = &bytes[..bytes.len().min(PAYLOAD_CAP)];
    let text = match std::str::from_utf8(head) {
        Ok(s) => Cow::Borrowed(s),
        // Cut inside a character, or not text at all (a gzip body that failed to decode).
        Err(e) if e.error_len().is_none() => Cow::Owned(utf8_prefix(head.to_vec())),
        Err(_) => String::from_utf8_lossy(head),
    };
    (text, over)
}

/// A serialized record as a viewer that asked for a smaller payload cap (`?payload_cap=N`, `cap`
/// under [`PAYLOAD_CAP`]) gets it: a `msg` record whose payload is longer than `cap` bytes is cut
/// there (at a character, never inside an escape) and flagged `truncated`; any other record is
/// returned as it is. Records are serialized once for every viewer at the node's cap, so the
/// smaller cap is applied to the text: the payload is the first string field `"payload":` (a
/// field before it cannot hold that text, its quotes are escaped) and `truncated` follows it.
pub fn recap(rec: &str, cap: usize) -> Cow<'_, str> {
    const KEY: &str = ",\"payload\":\"";
    const FLAG: &str = ",\"truncated\":";
    if rec.len() <= cap + KEY.len() || !rec.starts_with("{\"type\":\"msg\"") {
        return Cow::Borrowed(rec);
    }
    let Some(start) = rec.find(KEY).map(|at| at + KEY.len()) else {
        return Cow::Borrowed(rec);
    };
    let b = rec.as_bytes();
    let (mut i, mut n, mut cut) = (start, 0, None);
    while i < b.len() && b[i] != b'"' {
        // Escaped length and decoded (payload) length of the piece at `i`.
        let (len, dec) = match b[i] {
            b'\\' if b.get(i + 1) == Some(&b'u') => {
                let hex = rec
                    .get(i + 2..i + 6)
                    .and_then(|h| u32::from_str_radix(h, 16).ok());
                match hex {
                    // A surrogate pair is one character: never split.
                    Some(0xD800..=0xDBFF) => (12, 4),
                    Some(c) => (6, char::from_u32(c).map_or(3, char::len_utf8)),
                    None => return Cow::Borrowed(rec),
                }
            }
            b'\\' => (2, 1),
            c if c < 0x80 => (1, 1),
            c if c >= 0xF0 => (4, 4),
            c if c >= 0xE0 => (3, 3),
            _ => (2, 2),
        };
        if cut.is_none() && n + dec > cap {
            cut = Some(i);
        }
        n += dec;
        i += len;
    }
    let (Some(cut), Some(rest)) = (cut, rec.get(i + 1..)) else {
        return Cow::Borrowed(rec);
    };
    let Some(after) = rest
        .strip_prefix(FLAG)
        .and_then(|r| r.strip_prefix("false").or_else(|| r.strip_prefix("true")))
    else {
        return Cow::Borrowed(rec);
    };
    let mut out = String::with_capacity(cut + FLAG.len() + after.len() + 8);
    out.push_str(&rec[..cut]);
    out.push('"');
    out.push_str(FLAG);
    out.push_str("true");
    out.push_str(after);
    Cow::Owned(out)
}

/// The payload of a request as the simulator shows it (`Request::wire_json`: the vote
/// parameter, the inner beat packet, the commit or forward body, the key list), cut after
/// [`PAYLOAD_CAP`] bytes. A beat of 100,000 keys is not serialized beyond the cap.
pub fn request_payload(req: &Request) -> (String, bool) {
    match req {
        Request::Beat(p) => capped_json(&**p),
        Request::GetDatums(keys) => {
            let mut s = String::new();
            for (i, k) in keys.iter().enumerate() {
                if s.len() > PAYLOAD_CAP {
                    break;
                }
                if i > 0 {
                    s.push(',');
                }
                s.push_str(k);
            }
            capped_string(s)
        }
        // Commits and forwards carry a whole value: serialized from borrows, in `wire_json`'s
        // shapes (`CommitBody`, `ForwardBody`), and only up to the cap.
        Request::Commit { datum, source } => capped_json(&CommitRef { datum, source }),
        Request::Forward {
            key,
            value,
            leader_term,
        } => capped_json(&ForwardRef {
            key,
            value,
            timestamp: None,
            leader_term: *leader_term,
        }),
        Request::Repair {
            key,
            value,
            timestamp,
        } => capped_json(&ForwardRef {
            key,
            value,
            timestamp: Some(*timestamp),
            leader_term: None,
        }),
        other => capped_string(other.wire_json()),
    }
}

/// `nacos_raft_core::wire::CommitBody`, borrowed.
#[derive(Serialize)]
struct CommitRef<'a> {
    datum: &'a Datum,
    source: &'a RaftPeer,
}

/// `nacos_raft_core::wire::ForwardBody`, borrowed.
#[derive(Serialize)]
struct ForwardRef<'a> {
    key: &'a str,
    value: &'a JsonValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<u64>,
    #[serde(rename = "leaderTerm", skip_serializing_if = "Option::is_none")]
    leader_term: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use nacos_raft_core::{BeatDatum, BeatPacket, RaftPeer};
    use std::sync::Arc;

    #[test]
    fn payloads_are_cut_at_the_cap_on_a_character_boundary() {
        let (s, cut) = capped_str("short");
        assert_eq!((s, cut), ("short", false));
        let long = "é".repeat(PAYLOAD_CAP);
        let (s, cut) = capped_str(&long);
        assert!(cut && s.len() <= PAYLOAD_CAP && s.len() >= PAYLOAD_CAP - 1);
        let (s, cut) = capped_bytes(long.as_bytes());
        assert!(cut && s.chars().all(|c| c == 'é'));
        let (s, cut) = capped_bytes(&[0x1f, 0x8b, 0xff, 0x00]);
        assert!(!cut && s.contains('\u{fffd}'));
    }

    #[test]
    fn a_smaller_cap_cuts_a_msg_payload_and_flags_it() {
        let record = |payload: &str, truncated: bool| {
            let mut m = Msg::new(Phase::Sent, "a/1", MsgKind::Commit, "a", "b");
            m.payload = payload;
            m.truncated = truncated;
            m.sent_ms = Some(5);
            to_json(&m)
        };
        let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
        // Escapes, two-byte characters, a surrogate pair: the cut lands on none of their insides.
        let payload = "{\"k\":\"a\\nb\u{1}é😀\"}".repeat(20);
        for truncated in [false, true] {
            let rec = record(&payload, truncated);
            for cap in 0..payload.len() + 2 {
                let out = recap(&rec, cap);
                let v = parse(&out);
                let got = v["payload"].as_str().unwrap();
                assert!(payload.starts_with(got), "cap {cap}: {got:?}");
                if payload.len() > cap {
                    assert!(
                        got.len() <= cap && got.len() + 4 > cap,
                        "cap {cap}: {}",
                        got.len()
                    );
                    assert_eq!(v["truncated"], true);
                } else {
                    assert_eq!(out, rec);
                }
                assert_eq!(
                    (v["sent_ms"].as_u64(), v["rid"].as_str()),
                    (Some(5), Some("a/1"))
                );
            }
        }
        // Other records, and a msg whose payload fits, are the node's text unchanged.
        let state = r#"{"type":"datum","at_ms":1,"op":"put","key":"k","payload":"x"}"#;
        assert_eq!(recap(state, 0), state);
        let short = record("ab", false);
        assert!(matches!(recap(&short, 2), Cow::Borrowed(_)));
    }

    #[test]
    fn a_huge_beat_is_serialized_only_up_to_the_cap() {
        let packet = BeatPacket {
            peer: RaftPeer {
                ip: "127.0.0.1:8848".into(),
                ..RaftPeer::default()
            },
            datums: (0..100_000)
                .map(|i| BeatDatum {
                    key: format!("iplist.public##DEFAULT_GROUP@@svc-{i}"),
                    timestamp: 1,
                })
                .collect::<Vec<_>>()
                .into(),
        };
        let (s, cut) = request_payload(&Request::Beat(Arc::new(packet.clone())));
        assert!(cut);
        assert_eq!(s.len(), PAYLOAD_CAP);
        assert!(packet.to_json().starts_with(&s));
        let (s, cut) = request_payload(&Request::GetDatums(vec!["a".into(), "b".into()]));
        assert_eq!((s.as_str(), cut), ("a,b", false));
    }

    #[test]
    fn commit_and_forward_payloads_are_the_wire_json_cut_at_the_cap() {
        let source = RaftPeer {
            ip: "127.0.0.1:8848".into(),
            ..RaftPeer::default()
        };
        for len in [10, PAYLOAD_CAP * 3] {
            let value: JsonValue = serde_json::from_str(&format!(
                r#"{{"instanceList":[],"pad":"{}"}}"#,
                "é".repeat(len)
            ))
            .unwrap();
            let reqs = [
                Request::Commit {
                    datum: Datum {
                        key: "k".into(),
                        value: Some(value.clone()),
                        timestamp: 7,
                    },
                    source: source.clone(),
                },
                Request::Forward {
                    key: "k".into(),
                    value: value.clone(),
                    leader_term: None,
                },
                Request::Forward {
                    key: "k".into(),
                    value: value.clone(),
                    leader_term: Some(4),
                },
                Request::Repair {
                    key: "k".into(),
                    value,
                    timestamp: 3,
                },
            ];
            for r in &reqs {
                let wire = r.wire_json();
                assert_eq!(
                    request_payload(r),
                    capped_string(wire.clone()),
                    "{wire:.80}"
                );
            }
        }
    }
}
