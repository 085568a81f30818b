//! What the page knows of a live cluster, built from the nodes' event-stream records
//! (`docs/live.md`) and nothing else: each node's own record, leader, timings, faults and datums;
//! the messages between members, paired across two streams by `rid`; the protocol events; and
//! what the safety observers saw. Pure: records and the page's clock come in as arguments, so
//! every rule is tested on the host.
//!
//! Times: every record carries its writer's wall clock. The page maps a node's clock onto its own
//! with the smallest `received - at_ms` seen on that node's stream (one-way delay plus skew), so
//! nodes whose clocks disagree still line up; a request and its answer are ordered by their
//! pairing (an answer never lands before its request left, whatever the clocks say).

use crate::layout::Lane;
use nacos_raft_core::key::MapKey;
use nacos_raft_core::sim::{Fate as TraceFate, Violation, ViolationKind};
use nacos_raft_core::{Event, MsgKind, PeerState, RaftPeer};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, VecDeque};

/// The payload cap the page asks every node's stream for (`?payload_cap=`; the node's own is
/// 4096): the inspector shows the start of a payload, and every byte of a record costs the page
/// its copies (the event's text, into wasm, parsed, kept on the tape). Commits of big values
/// were most of what the streams carried.
pub const PAYLOAD_CAP: usize = 1024;

/// A message flies at least this long on the page (loopback exchanges take a millisecond, too
/// short to see); its real duration is in the inspector.
pub const MIN_FLIGHT_MS: f64 = 450.0;
/// A request nobody reported arriving is dropped from the ring after this long.
const STALE_FLIGHT_MS: f64 = 20_000.0;
/// Finished messages kept for the inspector.
const KEEP_DONE: usize = 400;
/// Log lines kept.
const KEEP_LOG: usize = 2_000;

/// The node's timings (`snapshot.config`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timings {
    /// Tick of the node's timer.
    pub tick_ms: u64,
    /// Leader timeout.
    pub leader_timeout_ms: u64,
    /// Random part of the leader due.
    pub random_ms: u64,
    /// Beat period.
    pub heartbeat_ms: u64,
    /// Publish timeout.
    pub publish_timeout_ms: u64,
    /// Term increment of an election.
    pub term_step: u64,
}

/// Added latency of a node's edge.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Latency {
    /// Lowest delay.
    pub min: u64,
    /// Highest delay.
    pub max: u64,
}

/// The active faults of a node (`faults` records and `snapshot.faults`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Whether the node was started with `--faults`.
    pub enabled: bool,
    /// Crashed by the fault API.
    pub crashed: bool,
    /// Peers it does not send to.
    pub cut_out: Vec<String>,
    /// Peers it does not answer.
    pub cut_in: Vec<String>,
    /// Loss, percent.
    pub loss_pct: u32,
    /// Added latency.
    pub latency_ms: Option<Latency>,
}

/// A datum key in a snapshot.
#[derive(Clone, Debug)]
pub struct DatumKey {
    /// Key.
    pub key: String,
    /// Its timestamp.
    pub timestamp: u64,
}

/// One record of a node's stream.
#[derive(Clone, Debug)]
pub enum Record {
    /// Where the node stands.
    Snapshot {
        /// Writer's clock.
        at_ms: u64,
        /// Its own record (`null` while crashed).
        peer: Option<RaftPeer>,
        /// Its view of the others.
        peers: Vec<RaftPeer>,
        /// Its leader.
        leader: Option<String>,
        /// Its keys.
        datums: Vec<DatumKey>,
        /// Its timings.
        config: Timings,
        /// Its faults.
        faults: Faults,
        /// The cluster's members, itself included.
        members: Vec<String>,
    },
    /// One side of one exchange.
    Msg(MsgRecord),
    /// A protocol decision.
    Event {
        /// Writer's clock.
        at_ms: u64,
        /// The decision.
        event: Event,
    },
    /// Its own record changed.
    State {
        /// Writer's clock.
        at_ms: u64,
        /// The record.
        peer: RaftPeer,
        /// Its leader.
        leader: Option<String>,
    },
    /// A key written or removed.
    Datum {
        /// `put` or `remove`.
        op: String,
        /// The key.
        key: String,
        /// Its timestamp (puts).
        timestamp: u64,
    },
    /// The faults changed.
    Faults {
        /// Writer's clock.
        at_ms: u64,
        /// The faults.
        faults: Faults,
    },
    /// The viewer fell behind and lost records.
    Gap {
        /// How many.
        dropped: u64,
    },
    /// A record type this page does not know (a newer node): ignored.
    Unknown,
}

impl Record {
    /// A record from its JSON text (None: not JSON, or a known type whose fields are missing or
    /// of the wrong type). Read by hand from a JSON value, like the event object
    /// ([`super::event_json`]): derived deserializers for the record and its parts cost the page
    /// more than this. Only the fields of the record's own type are read; absent fields take
    /// their defaults, as the node's `#[serde(default)]` types would.
    pub fn parse(json: &str) -> Option<Record> {
        let v: Value = serde_json::from_str(json).ok()?;
        let o = v.as_object()?;
        let at_ms = get(o, "at_ms", Value::as_u64)?.unwrap_or_default();
        let s = |k: &str| get(o, k, string).map(Option::unwrap_or_default);
        Some(match get(o, "type", string)?.unwrap_or_default().as_str() {
            "snapshot" => Record::Snapshot {
                at_ms,
                peer: opt(o, "peer", raft_peer)?,
                peers: get(o, "peers", |v| list(v, raft_peer))?.unwrap_or_default(),
                leader: opt(o, "leader", string)?,
                datums: get(o, "datums", |v| list(v, datum_key))?.unwrap_or_default(),
                config: get(o, "config", timings)?.unwrap_or_default(),
                faults: get(o, "faults", |v| faults(v.as_object()?))?.unwrap_or_default(),
                members: get(o, "members", |v| list(v, string))?.unwrap_or_default(),
            },
            "msg" => Record::Msg(MsgRecord {
                at_ms,
                phase: s("phase")?,
                rid: s("rid")?,
                kind: s("kind")?,
                from: s("from")?,
                to: s("to")?,
                payload: s("payload")?,
                truncated: get(o, "truncated", Value::as_bool)?.unwrap_or_default(),
                outcome: opt(o, "outcome", string)?,
                status: opt(o, "status", |v| v.as_u64()?.try_into().ok())?,
                granted: opt(o, "granted", Value::as_bool)?,
                sent_ms: opt(o, "sent_ms", Value::as_u64)?,
            }),
            "event" => Record::Event {
                at_ms,
                event: super::event_json::event(o.get("event")?)?,
            },
            "state" => Record::State {
                at_ms,
                peer: opt(o, "peer", raft_peer)??,
                leader: opt(o, "leader", string)?,
            },
            "datum" => Record::Datum {
                op: s("op")?,
                key: s("key")?,
                timestamp: get(o, "timestamp", Value::as_u64)?.unwrap_or_default(),
            },
            // The faults object's fields at the top level.
            "faults" => Record::Faults {
                at_ms,
                faults: faults(o)?,
            },
            "gap" => Record::Gap {
                dropped: get(o, "dropped", Value::as_u64)?.unwrap_or_default(),
            },
            _ => Record::Unknown,
        })
    }
}

/// `o[k]` read by `f`: `Some(None)` when absent, `None` (the record is refused) when present but
/// not what `f` reads.
fn get<T>(o: &Map<String, Value>, k: &str, f: impl Fn(&Value) -> Option<T>) -> Option<Option<T>> {
    match o.get(k) {
        None => Some(None),
        Some(v) => f(v).map(Some),
    }
}

/// An optional field: as [`get`], and `null` is absent too.
fn opt<T>(o: &Map<String, Value>, k: &str, f: impl Fn(&Value) -> Option<T>) -> Option<Option<T>> {
    match o.get(k) {
        None | Some(Value::Null) => Some(None),
        Some(v) => f(v).map(Some),
    }
}

fn string(v: &Value) -> Option<String> {
    v.as_str().map(String::from)
}

fn list<T>(v: &Value, f: impl Fn(&Value) -> Option<T>) -> Option<Vec<T>> {
    v.as_array()?.iter().map(f).collect()
}

/// A [`RaftPeer`] as the node writes it (camelCase, every field defaulted).
fn raft_peer(v: &Value) -> Option<RaftPeer> {
    let o = v.as_object()?;
    Some(RaftPeer {
        ip: get(o, "ip", string)?.unwrap_or_default(),
        vote_for: opt(o, "voteFor", string)?,
        term: get(o, "term", Value::as_u64)?.unwrap_or_default(),
        leader_due_ms: get(o, "leaderDueMs", Value::as_i64)?.unwrap_or_default(),
        heartbeat_due_ms: get(o, "heartbeatDueMs", Value::as_i64)?.unwrap_or_default(),
        state: get(o, "state", super::event_json::state)?.unwrap_or_default(),
        data_version: None,
        position: None,
    })
}

fn datum_key(v: &Value) -> Option<DatumKey> {
    let o = v.as_object()?;
    Some(DatumKey {
        key: string(o.get("key")?)?,
        timestamp: get(o, "timestamp", Value::as_u64)?.unwrap_or_default(),
    })
}

fn timings(v: &Value) -> Option<Timings> {
    let o = v.as_object()?;
    let n = |k: &str| get(o, k, Value::as_u64).map(Option::unwrap_or_default);
    Some(Timings {
        tick_ms: n("tick_ms")?,
        leader_timeout_ms: n("leader_timeout_ms")?,
        random_ms: n("random_ms")?,
        heartbeat_ms: n("heartbeat_ms")?,
        publish_timeout_ms: n("publish_timeout_ms")?,
        term_step: n("term_step")?,
    })
}

fn faults(o: &Map<String, Value>) -> Option<Faults> {
    let b = |k: &str| get(o, k, Value::as_bool).map(Option::unwrap_or_default);
    let names = |k: &str| get(o, k, |v| list(v, string)).map(Option::unwrap_or_default);
    Some(Faults {
        enabled: b("enabled")?,
        crashed: b("crashed")?,
        cut_out: names("cut_out")?,
        cut_in: names("cut_in")?,
        loss_pct: get(o, "loss_pct", |v| v.as_u64()?.try_into().ok())?.unwrap_or_default(),
        latency_ms: opt(o, "latency_ms", |v| {
            let l = v.as_object()?;
            Some(Latency {
                min: l.get("min")?.as_u64()?,
                max: l.get("max")?.as_u64()?,
            })
        })?,
    })
}

/// A `msg` record.
#[derive(Clone, Debug)]
pub struct MsgRecord {
    /// Writer's clock.
    pub at_ms: u64,
    /// `sent`, `answered`, `received` or `replied`.
    pub phase: String,
    /// Pairs the four records of an exchange.
    pub rid: String,
    /// `MsgKind` name.
    pub kind: String,
    /// Sender of this message.
    pub from: String,
    /// Its receiver.
    pub to: String,
    /// Wire payload.
    pub payload: String,
    /// Cut at the payload cap ([`PAYLOAD_CAP`], or the node's own).
    pub truncated: bool,
    /// How it ended.
    pub outcome: Option<String>,
    /// HTTP status.
    pub status: Option<u16>,
    /// Vote answers: granted.
    pub granted: Option<bool>,
    /// When the request left (answers).
    pub sent_ms: Option<u64>,
}

/// `MsgKind` from its DOM name.
pub fn kind_of(name: &str) -> Option<MsgKind> {
    MsgKind::ALL.into_iter().find(|k| k.as_str() == name)
}

/// How the page reaches a node's stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conn {
    /// Opening.
    Connecting,
    /// Records flow.
    Open,
    /// The stream dropped or never opened: reconnecting with backoff.
    Unreachable,
    /// A member with no stream of ours (a Java node, or an address without
    /// `/nacos-raft/v1/events`): drawn from what the watched nodes send it and hear from it.
    NoStream,
}

impl Conn {
    /// The DOM's `data-conn`.
    pub fn as_str(self) -> &'static str {
        match self {
            Conn::Connecting => "connecting",
            Conn::Open => "open",
            Conn::Unreachable => "unreachable",
            Conn::NoStream => "none",
        }
    }
}

/// One watched node.
#[derive(Clone, Debug)]
pub struct LiveNode {
    /// Its address.
    pub addr: String,
    /// Its stream.
    pub conn: Conn,
    /// Failed connection attempts in a row (the backoff grows with them).
    pub retries: u32,
    /// Its own record (None: not known yet, or crashed).
    pub peer: Option<RaftPeer>,
    /// Its leader.
    pub leader: Option<String>,
    /// Its view of the others.
    pub peers: Vec<RaftPeer>,
    /// Page time at which `peer`'s dues were true.
    pub due_at: f64,
    /// Its timings (from the last snapshot).
    pub timings: Timings,
    /// Its faults.
    pub faults: Faults,
    /// Its datum keys and timestamps (keyed as the core's maps of timestamps: one copy of the
    /// B-tree code in the page).
    pub datums: BTreeMap<MapKey, u64>,
    /// Page ms minus node ms (smallest seen on this stream).
    offset: Option<f64>,
    /// A snapshot arrived on the current connection.
    pub synced: bool,
    /// Its stream was open at some point (its own records, not hearsay, say where it stands).
    pub ever_open: bool,
    /// Page time of the newest hearsay about it (what the watched nodes heard from it).
    heard_at: Option<f64>,
}

impl LiveNode {
    fn new(addr: String) -> LiveNode {
        LiveNode {
            addr,
            conn: Conn::Connecting,
            retries: 0,
            peer: None,
            leader: None,
            peers: Vec::new(),
            due_at: 0.0,
            timings: Timings::default(),
            faults: Faults::default(),
            datums: BTreeMap::new(),
            offset: None,
            synced: false,
            ever_open: false,
            heard_at: None,
        }
    }

    /// Whether it is drawn from hearsay: no stream of its own ever opened, and the watched nodes
    /// heard from it (or it was found in a member list).
    pub fn no_stream(&self) -> bool {
        !self.ever_open && (self.conn == Conn::NoStream || self.heard_at.is_some())
    }

    /// How its stream stands as the page shows it ([`Conn::NoStream`] for a member drawn from
    /// hearsay, even while its address is still being tried).
    pub fn shown_conn(&self) -> Conn {
        if self.no_stream() {
            Conn::NoStream
        } else {
            self.conn
        }
    }

    /// The state as the DOM spells it: DOWN when crashed or not known.
    pub fn state(&self) -> Option<PeerState> {
        if self.no_stream() {
            return self.peer.as_ref().map(|p| p.state);
        }
        match self.conn {
            Conn::Open if !self.faults.crashed => self.peer.as_ref().map(|p| p.state),
            _ => None,
        }
    }

    /// Its term (0 when not known).
    pub fn term(&self) -> u64 {
        self.peer.as_ref().map_or(0, |p| p.term)
    }

    /// The leader due left at page time `now`, as a fraction of its longest value, extrapolated
    /// from the last report (None when not known).
    pub fn leader_due(&self, now: f64) -> Option<f64> {
        // Hearsay carries no timings to extrapolate with.
        if self.no_stream() {
            return None;
        }
        let p = self.peer.as_ref()?;
        let full = (self.timings.leader_timeout_ms + self.timings.random_ms).max(1) as f64;
        let left = p.leader_due_ms as f64 - (now - self.due_at);
        Some((left / full).clamp(0.0, 1.0))
    }

    /// The heartbeat due left at `now`, as a fraction of the beat period.
    pub fn beat_due(&self, now: f64) -> Option<f64> {
        if self.no_stream() {
            return None;
        }
        let p = self.peer.as_ref()?;
        let full = self.timings.heartbeat_ms.max(1) as f64;
        let left = p.heartbeat_due_ms as f64 - (now - self.due_at);
        Some((left / full).clamp(0.0, 1.0))
    }

    /// The leader due as a countdown the browser can play by itself: the page time at which it
    /// reaches 0, and its full length in ms (None when not known). At every instant `t` before
    /// the next report, [`Self::leader_due`] is `(zero - t) / full`, clamped to 0..1.
    pub fn leader_countdown(&self) -> Option<(f64, f64)> {
        let p = self.peer.as_ref().filter(|_| !self.no_stream())?;
        let full = (self.timings.leader_timeout_ms + self.timings.random_ms).max(1) as f64;
        Some((self.due_at + p.leader_due_ms as f64, full))
    }

    /// The heartbeat due as a countdown (as [`Self::leader_countdown`]).
    pub fn beat_countdown(&self) -> Option<(f64, f64)> {
        let p = self.peer.as_ref().filter(|_| !self.no_stream())?;
        let full = self.timings.heartbeat_ms.max(1) as f64;
        Some((self.due_at + p.heartbeat_due_ms as f64, full))
    }

    /// Whether it drops what it sends to `peer` (`cut_out`) — seen from its own faults.
    pub fn cuts_to(&self, peer: &str) -> bool {
        self.faults.cut_out.iter().any(|p| p == peer)
    }

    /// Whether it drops what `peer` sends it.
    pub fn cuts_from(&self, peer: &str) -> bool {
        self.faults.cut_in.iter().any(|p| p == peer)
    }
}

/// How a message ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Still on its way, or arrived.
    Fine,
    /// `cut`, `lost`, `timeout`, `refused` or `error`, as the stream said.
    Failed(String),
}

/// One message between two members: a request, or the answer to one.
#[derive(Clone, Debug)]
pub struct Flight {
    /// The exchange's id.
    pub rid: String,
    /// Kind.
    pub kind: MsgKind,
    /// Sender (a member index).
    pub from: usize,
    /// Receiver.
    pub to: usize,
    /// Page time it left.
    pub start: f64,
    /// Page time it arrived (None: not reported yet).
    pub end: Option<f64>,
    /// Wire payload.
    pub payload: String,
    /// Payload cut.
    pub truncated: bool,
    /// HTTP status of an answer.
    pub status: Option<u16>,
    /// Vote answers.
    pub granted: Option<bool>,
    /// How it ended.
    pub fate: Fate,
    /// Order of arrival on the page (for the inspector and tests).
    pub n: u64,
}

impl Flight {
    /// An exchange seen leaving `from` for `to` at page time `start`, nothing known of its end.
    fn leaving(rid: &str, kind: MsgKind, from: usize, to: usize, start: f64, n: u64) -> Flight {
        Flight {
            rid: rid.into(),
            kind,
            from,
            to,
            start,
            end: None,
            payload: String::new(),
            truncated: false,
            status: None,
            granted: None,
            fate: Fate::Fine,
            n,
        }
    }

    /// When the page shows it leaving: answers wait for their request to land.
    fn shown_from(&self, req_end: Option<f64>) -> f64 {
        match req_end {
            Some(e) if e > self.start => e,
            _ => self.start,
        }
    }
}

/// A message where the ring draws it.
#[derive(Clone, Debug, PartialEq)]
pub struct Shown {
    /// Which flight (key of [`LiveModel::flight`]).
    pub key: (String, bool),
    /// Kind.
    pub kind: MsgKind,
    /// Sender index.
    pub from: usize,
    /// Receiver index.
    pub to: usize,
    /// 0 at the sender, 1 at the receiver.
    pub progress: f64,
    /// Failed on the way (drawn as a burst).
    pub failed: bool,
    /// Vote answers.
    pub granted: Option<bool>,
    /// Answer status.
    pub status: u16,
    /// Page time it left the sender (as drawn).
    pub start: f64,
    /// Real ms it takes to cross the whole link at the speed drawn.
    pub span: f64,
    /// How far it goes: 1 (the receiver), or 0.5 (a failed one, which bursts in the middle).
    pub reach: f64,
    /// Page time its drawing next changes other than by moving (it lands, bursts, or goes).
    pub change_at: f64,
}

/// Something the page itself noticed about a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// The stream opened.
    Connected,
    /// The stream dropped (or could not open).
    Unreachable,
    /// Records were lost; re-synced from a fresh snapshot.
    Gap(u64),
    /// A snapshot says it is crashed.
    Crashed,
    /// It came back from a crash (a fresh snapshot of a running node).
    Restarted,
    /// Its faults changed.
    FaultsChanged,
}

/// One line of the log.
#[derive(Clone, Debug)]
pub enum LogItem {
    /// A protocol event of the node.
    Event(Event),
    /// The page's own observation.
    Note(Note),
}

/// A log line.
#[derive(Clone, Debug)]
pub struct LogLine {
    /// Page time.
    pub at: f64,
    /// Member index.
    pub node: usize,
    /// What.
    pub item: LogItem,
}

/// The flights by exchange: `(rid, answer)`, iterated in that order. An index of the core's map
/// type `BTreeMap<MapKey, u64>` (also `heard_ms`' and the tombstones') into slots rather than a
/// `BTreeMap<(String, bool), Flight>`: each B-tree type is its own copy of the map code in the
/// page (issue 14).
#[derive(Clone, Debug, Default)]
struct Flights {
    /// The rid and a last character, `\u{0}` for the request and `\u{1}` for the answer (which
    /// orders as `(rid, answer)`: rids have no control characters) → its slot.
    index: BTreeMap<MapKey, u64>,
    slots: Vec<Option<Flight>>,
    /// Empty slots.
    free: Vec<usize>,
}

impl Flights {
    fn key(rid: &str, answer: bool) -> MapKey {
        let mut k = String::with_capacity(rid.len() + 1);
        k.push_str(rid);
        k.push(if answer { '\u{1}' } else { '\u{0}' });
        k.into()
    }

    fn get(&self, rid: &str, answer: bool) -> Option<&Flight> {
        let s = *self.index.get(&Self::key(rid, answer))?;
        self.slots[s as usize].as_ref()
    }

    /// The flight of an exchange, made by `new` if it has none.
    fn get_or_insert(
        &mut self,
        rid: &str,
        answer: bool,
        new: impl FnOnce() -> Flight,
    ) -> &mut Flight {
        let (s, _) = self.slot(rid, answer);
        self.slots[s].get_or_insert_with(new)
    }

    /// The slot of an exchange's flight and whether it is new (then empty, for the caller to
    /// fill): one search of the index. A record of a message looked its flight up three times
    /// (is it new, get or make it, has it ended); rids share their sender's address as a
    /// prefix, so each search compares ~20 keys over it, and those searches were the biggest
    /// item of the page's own record handling.
    fn slot(&mut self, rid: &str, answer: bool) -> (usize, bool) {
        use std::collections::btree_map::Entry;
        match self.index.entry(Self::key(rid, answer)) {
            Entry::Occupied(e) => (*e.get() as usize, false),
            Entry::Vacant(e) => {
                let s = self.free.pop().unwrap_or_else(|| {
                    self.slots.push(None);
                    self.slots.len() - 1
                });
                e.insert(s as u64);
                (s, true)
            }
        }
    }

    fn remove(&mut self, rid: &str, answer: bool) {
        self.remove_key(&Self::key(rid, answer));
    }

    fn remove_key(&mut self, key: &MapKey) {
        if let Some(s) = self.index.remove(key) {
            self.slots[s as usize] = None;
            self.free.push(s as usize);
        }
    }

    fn retain(&mut self, mut keep: impl FnMut(&Flight) -> bool) {
        let gone: Vec<MapKey> = self
            .index
            .iter()
            .filter(|(_, &s)| !self.slots[s as usize].as_ref().is_some_and(&mut keep))
            .map(|(k, _)| k.clone())
            .collect();
        for k in &gone {
            self.remove_key(k);
        }
    }

    /// Whether each is an answer, and the flight, in `(rid, answer)` order.
    fn iter(&self) -> impl Iterator<Item = (bool, &Flight)> {
        self.index.iter().filter_map(|(k, &s)| {
            let f = self.slots[s as usize].as_ref()?;
            Some((k.as_str().ends_with('\u{1}'), f))
        })
    }
}

/// The live cluster as the page sees it.
#[derive(Clone, Debug)]
pub struct LiveModel {
    /// The watched nodes, in the order of the hash.
    pub nodes: Vec<LiveNode>,
    /// Messages by `(rid, is_answer)`.
    flights: Flights,
    done: VecDeque<(String, bool)>,
    /// Requests between members seen so far.
    pub msg_count: u64,
    /// The log, oldest first.
    pub log: VecDeque<LogLine>,
    /// Lines ever added to the log (the page redraws the log only when this moves).
    pub logged: u64,
    /// What the observers saw.
    pub violations: Vec<Violation>,
    /// Observer state: the leaders of each term, as seen: (term, member) sorted by term, each
    /// term's in the order seen. A sorted `Vec` rather than a map of its own: each map layout
    /// adds its own copy of the B-tree code to the page (issue 14).
    term_leaders: Vec<(u64, usize)>,
    leaders_before: usize,
    /// Records that did not parse.
    pub bad_records: u64,
    /// Gaps reported by the nodes.
    pub gaps: u64,
    /// Page time of the first record.
    pub started: Option<f64>,
    n: u64,
}

/// What applying a record asks of the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    /// Nothing.
    Nothing,
    /// Reconnect this node's stream to get a fresh snapshot (a gap the node did not follow with
    /// one).
    Resync,
}

impl LiveModel {
    /// A model of these addresses, every stream connecting.
    pub fn new(addrs: &[String]) -> LiveModel {
        LiveModel {
            nodes: addrs.iter().cloned().map(LiveNode::new).collect(),
            flights: Flights::default(),
            done: VecDeque::new(),
            msg_count: 0,
            log: VecDeque::new(),
            logged: 0,
            violations: Vec::new(),
            term_leaders: Vec::new(),
            leaders_before: 0,
            bad_records: 0,
            gaps: 0,
            started: None,
            n: 0,
        }
    }

    /// The member index of an address.
    pub fn index(&self, addr: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.addr == addr)
    }

    /// A flight by key.
    pub fn flight(&self, key: &(String, bool)) -> Option<&Flight> {
        self.flights.get(&key.0, key.1)
    }

    /// The request of an exchange, if seen.
    pub fn request_of(&self, rid: &str) -> Option<&Flight> {
        self.flights.get(rid, false)
    }

    /// The answer of an exchange, if seen.
    pub fn answer_of(&self, rid: &str) -> Option<&Flight> {
        self.flights.get(rid, true)
    }

    fn note(&mut self, at: f64, node: usize, note: Note) {
        self.push_log(at, node, LogItem::Note(note));
    }

    fn push_log(&mut self, at: f64, node: usize, item: LogItem) {
        if self.log.len() >= KEEP_LOG {
            self.log.pop_front();
        }
        self.log.push_back(LogLine { at, node, item });
        self.logged += 1;
    }

    /// The stream of node `i` opened.
    pub fn opened(&mut self, i: usize, now: f64) {
        let Some(n) = self.nodes.get_mut(i) else {
            return;
        };
        n.conn = Conn::Open;
        n.ever_open = true;
        n.retries = 0;
        n.synced = false;
        n.offset = None;
        self.note(now, i, Note::Connected);
    }

    /// The stream of node `i` dropped; returns the attempt number (for the backoff).
    pub fn dropped(&mut self, i: usize, now: f64) -> u32 {
        let Some(n) = self.nodes.get_mut(i) else {
            return 0;
        };
        let was_open = n.conn == Conn::Open;
        n.conn = Conn::Unreachable;
        n.retries = n.retries.saturating_add(1);
        n.synced = false;
        let r = n.retries;
        if was_open || r == 1 {
            self.note(now, i, Note::Unreachable);
        }
        self.observe(now);
        r
    }

    /// Node `i`'s stream is being opened again.
    pub fn connecting(&mut self, i: usize) {
        if let Some(n) = self.nodes.get_mut(i) {
            n.conn = Conn::Connecting;
        }
    }

    fn page_time(&mut self, i: usize, at_ms: u64, now: f64) -> f64 {
        let n = &mut self.nodes[i];
        let d = now - at_ms as f64;
        let off = match n.offset {
            Some(o) if o <= d => o,
            _ => {
                n.offset = Some(d);
                d
            }
        };
        at_ms as f64 + off
    }

    /// Applies one record (its JSON text) of node `i`'s stream, received at page time `now`.
    pub fn apply(&mut self, i: usize, json: &str, now: f64) -> After {
        if i >= self.nodes.len() {
            return After::Nothing;
        }
        self.started.get_or_insert(now);
        let Some(rec) = Record::parse(json) else {
            self.bad_records += 1;
            return After::Nothing;
        };
        let after = self.record(i, rec, now);
        self.observe(now);
        after
    }

    fn record(&mut self, i: usize, rec: Record, now: f64) -> After {
        match rec {
            Record::Snapshot {
                at_ms,
                peer,
                peers,
                leader,
                datums,
                config,
                faults,
                members,
            } => {
                let t = self.page_time(i, at_ms, now);
                // Members nobody watches join the ring, drawn from hearsay; the node's view of
                // each (its `peers`) is the first hearsay.
                for a in &members {
                    if self.index(a).is_none() {
                        let mut n = LiveNode::new(a.clone());
                        n.conn = Conn::NoStream;
                        self.nodes.push(n);
                    }
                }
                for p in &peers {
                    if let Some(j) = self.index(&p.ip) {
                        self.hearsay(j, p.clone(), t);
                    }
                }
                let n = &mut self.nodes[i];
                let was_crashed = n.faults.crashed;
                let had_peer = n.peer.is_some();
                n.synced = true;
                n.conn = Conn::Open;
                n.peer = peer;
                n.peers = peers;
                n.leader = leader;
                n.due_at = t;
                n.timings = config;
                // Inserted one by one, not collected: `BTreeMap::from_iter` sorts first, and
                // that sort would be one more copy of the stable sort in the page (same map:
                // a repeated key keeps its last timestamp either way).
                n.datums.clear();
                for d in datums {
                    n.datums.insert(d.key.into(), d.timestamp);
                }
                let crashed = faults.crashed;
                n.faults = faults;
                if crashed {
                    self.note(t, i, Note::Crashed);
                } else if was_crashed || (had_peer && self.nodes[i].term() == 0) {
                    self.note(t, i, Note::Restarted);
                }
                // The snapshot replaces the term the term observer compares with: a restart at
                // term 0 is not a term going down.
                After::Nothing
            }
            Record::State {
                at_ms,
                peer,
                leader,
            } => {
                let t = self.page_time(i, at_ms, now);
                let before = self.nodes[i].term();
                let n = &mut self.nodes[i];
                if n.peer.is_some() && peer.term < before {
                    let detail = format!("{} term {before} → {}", n.addr, peer.term);
                    self.violation(t, ViolationKind::TermDecreased, detail, vec![i]);
                }
                let n = &mut self.nodes[i];
                n.peer = Some(peer);
                n.leader = leader;
                n.due_at = t;
                After::Nothing
            }
            Record::Event { at_ms, event } => {
                let t = self.page_time(i, at_ms, now);
                self.reset_dues(i, &event, t);
                self.push_log(t, i, LogItem::Event(event));
                After::Nothing
            }
            Record::Datum { op, key, timestamp } => {
                let n = &mut self.nodes[i];
                if op == "remove" {
                    n.datums.remove(&key);
                } else {
                    n.datums.insert(key.into(), timestamp);
                }
                After::Nothing
            }
            Record::Faults { at_ms, faults } => {
                let t = self.page_time(i, at_ms, now);
                let n = &mut self.nodes[i];
                if n.faults != faults {
                    n.faults = faults;
                    self.note(t, i, Note::FaultsChanged);
                }
                After::Nothing
            }
            Record::Gap { dropped } => {
                self.gaps += dropped;
                self.nodes[i].synced = false;
                self.note(now, i, Note::Gap(dropped));
                // The node follows a gap with a fresh snapshot; if it does not come, the page
                // reconnects (the caller decides after a while). Flights of this node may have
                // lost their ends: they are dropped when stale.
                After::Resync
            }
            Record::Msg(m) => {
                self.msg(i, m, now);
                After::Nothing
            }
            Record::Unknown => After::Nothing,
        }
    }

    /// The core resets a due on these decisions without a `state` record (only state, term,
    /// vote or leader changes are written): the page resets its countdown the same way, to the
    /// middle of the random range.
    fn reset_dues(&mut self, i: usize, e: &Event, t: f64) {
        let n = &mut self.nodes[i];
        let tm = n.timings.clone();
        let elapsed = t - n.due_at;
        let Some(p) = n.peer.as_mut() else {
            return;
        };
        let leader_due = (tm.leader_timeout_ms + tm.random_ms / 2) as i64;
        match e {
            Event::BeatAccepted { .. }
            | Event::VoteGranted { .. }
            | Event::ElectionStarted { .. } => {
                p.leader_due_ms = leader_due;
                p.heartbeat_due_ms -= elapsed as i64;
                n.due_at = t;
            }
            Event::BeatSent { .. } => {
                p.heartbeat_due_ms = tm.heartbeat_ms as i64;
                p.leader_due_ms -= elapsed as i64;
                n.due_at = t;
            }
            // The first of a split campaigns again at its next tick.
            Event::SplitVote { .. } => {
                p.leader_due_ms = 0;
                p.heartbeat_due_ms -= elapsed as i64;
                n.due_at = t;
            }
            _ => {}
        }
    }

    fn msg(&mut self, i: usize, m: MsgRecord, now: f64) {
        let Some(kind) = kind_of(&m.kind) else {
            return;
        };
        let t = self.page_time(i, m.at_ms, now);
        let (Some(from), Some(to)) = (self.index(&m.from), self.index(&m.to)) else {
            // A client's request, or a member the page does not watch: not on the ring.
            return;
        };
        // What a member said of itself in what it sent: a vote or beat request names the
        // sender's RaftPeer, a vote or beat answer is the answerer's.
        if matches!(m.phase.as_str(), "received" | "answered")
            && failed_outcome(&m.outcome).is_none()
        {
            if let Some(p) = said_of_itself(kind, &m.payload) {
                if p.ip == m.from {
                    self.hearsay(from, p, t);
                }
            }
        }
        let answer = kind.is_reply();
        let key = (m.rid.clone(), answer);
        self.n += 1;
        let n = self.n;
        let (slot, fresh) = self.flights.slot(&m.rid, answer);
        let f = self.flights.slots[slot]
            .get_or_insert_with(|| Flight::leaving(&m.rid, kind, from, to, t, n));
        let failed = |o: &Option<String>| match o.as_deref() {
            Some("ok") | None => None,
            Some(other) => Some(other.to_string()),
        };
        match m.phase.as_str() {
            "sent" => {
                f.start = t;
                f.payload = m.payload;
                f.truncated = m.truncated;
            }
            "received" => {
                if fresh {
                    // The sender's stream is not watched (or not yet): it left about now.
                    f.start = t;
                }
                f.end = Some(t.max(f.start));
                if f.payload.is_empty() {
                    f.payload = m.payload;
                    f.truncated = m.truncated;
                }
                if let Some(o) = failed(&m.outcome) {
                    f.fate = Fate::Failed(o);
                }
            }
            "replied" => {
                f.start = t;
                f.payload = m.payload;
                f.truncated = m.truncated;
                f.status = m.status;
                f.granted = m.granted;
                if let Some(o) = failed(&m.outcome) {
                    if o == "error" {
                        f.fate = Fate::Failed(o);
                    }
                }
            }
            "answered" => {
                match failed(&m.outcome) {
                    Some(o) if o != "error" => {
                        // No answer came back: the request failed on its way (the record is
                        // written by the sender, from = the peer that did not answer).
                        self.flights.remove(&key.0, key.1);
                        let rq = (m.rid.clone(), false);
                        let sent = m.sent_ms.map(|s| self.page_time(i, s, now));
                        let r = self.flights.get_or_insert(&m.rid, false, || {
                            let start = sent.unwrap_or(t);
                            Flight::leaving(&m.rid, kind_request(kind), to, from, start, n)
                        });
                        if r.end.is_none() {
                            r.end = Some(t.max(r.start));
                        }
                        r.fate = Fate::Failed(o);
                        self.finish(rq);
                        return;
                    }
                    other => {
                        if fresh {
                            // The receiver is not watched: the answer left when it arrived.
                            f.start = t;
                            f.payload = m.payload;
                            f.truncated = m.truncated;
                        }
                        f.status = m.status.or(f.status);
                        f.granted = m.granted.or(f.granted);
                        f.end = Some(t.max(f.start));
                        if let Some(o) = other {
                            f.fate = Fate::Failed(o);
                        }
                    }
                }
            }
            _ => return,
        }
        if fresh && !answer {
            self.msg_count += 1;
        }
        let ended = self.flights.slots[slot]
            .as_ref()
            .is_some_and(|f| f.end.is_some());
        if ended {
            self.finish(key);
        }
    }

    /// Member `j`'s record as another node heard it at page time `t`; kept when `j` has no
    /// stream of its own and it is the newest heard.
    fn hearsay(&mut self, j: usize, p: RaftPeer, t: f64) {
        let n = &mut self.nodes[j];
        if n.ever_open || n.heard_at.is_some_and(|h| h > t) {
            return;
        }
        n.heard_at = Some(t);
        n.due_at = t;
        n.peer = Some(p);
    }

    fn finish(&mut self, key: (String, bool)) {
        self.done.push_back(key);
        while self.done.len() > KEEP_DONE {
            if let Some(old) = self.done.pop_front() {
                self.flights.remove(&old.0, old.1);
            }
        }
    }

    /// Drops requests that never arrived (their answer or failure never came either).
    pub fn prune(&mut self, now: f64) {
        self.flights
            .retain(|f| f.end.is_some() || now - f.start < STALE_FLIGHT_MS);
    }

    /// The messages on the ring at page time `now`.
    pub fn shown(&self, now: f64) -> Vec<Shown> {
        self.shown_next(now).0
    }

    /// [`Self::shown`], and the page time after `now` at which the set drawn next changes other
    /// than by messages moving (one lands, bursts or goes, or a sent one starts its flight):
    /// live mode moves messages by browser animations and redraws only then or when records
    /// arrive.
    pub fn shown_next(&self, now: f64) -> (Vec<Shown>, f64) {
        let mut out = Vec::new();
        let mut next = f64::INFINITY;
        for (answer, f) in self.flights.iter() {
            let key = (f.rid.clone(), answer);
            let req_end = if answer {
                // The request's shown landing: it left at `start` and flew at least
                // MIN_FLIGHT_MS.
                self.flights.get(&f.rid, false).map(|r| {
                    let real = r.end.map_or(0.0, |e| e - r.start);
                    r.start + real.max(MIN_FLIGHT_MS)
                })
            } else {
                None
            };
            let start = f.shown_from(req_end);
            let age = now - start;
            if age < 0.0 {
                next = next.min(start);
                continue;
            }
            let (progress, failed, span, reach, change_at) = if matches!(f.fate, Fate::Failed(_)) {
                // It flies to the middle, and bursts there once its failure is known (a timeout
                // is known only when the sender gives up), for half a flight.
                let burst_at = f.end.unwrap_or(start).max(start + MIN_FLIGHT_MS / 2.0);
                let gone = burst_at + MIN_FLIGHT_MS / 2.0;
                if now > gone {
                    continue;
                }
                let burst = now >= burst_at;
                let change = if burst { gone } else { burst_at };
                (
                    (age / MIN_FLIGHT_MS).min(0.5),
                    burst,
                    MIN_FLIGHT_MS,
                    0.5,
                    change,
                )
            } else {
                let span = f
                    .end
                    .map_or(MIN_FLIGHT_MS, |e| (e - start).max(MIN_FLIGHT_MS));
                if age > span {
                    // Arrived, or still waiting for news of its arrival: off the ring.
                    continue;
                }
                (age / span, false, span, 1.0, start + span)
            };
            next = next.min(change_at);
            out.push(Shown {
                key: key.clone(),
                kind: f.kind,
                from: f.from,
                to: f.to,
                progress,
                failed,
                granted: f.granted,
                status: f.status.unwrap_or(0),
                start,
                span,
                reach,
                change_at,
            });
        }
        (out, next)
    }

    /// The flight a space-time diagram row names (its arrival number [`Flight::n`]).
    pub fn flight_by_n(&self, n: u64) -> Option<&Flight> {
        self.flights.iter().map(|(_, f)| f).find(|f| f.n == n)
    }

    /// The space-time diagram (the simulator's Lanes view) of the latest `max` messages that
    /// left by page time `now`: rows are the distinct ms (since the first record) at which one
    /// left or arrived. An answer leaves when its request arrived, whatever the clocks say (the
    /// pairing orders them); every failure is drawn as one (its kind is in the inspector).
    pub fn lanes(&self, now: f64, max: usize) -> (Vec<u64>, Vec<Lane>) {
        let base = self.started.unwrap_or(0.0);
        let ms = |t: f64| (t - base).max(0.0).round() as u64;
        let mut chosen: Vec<(f64, Option<f64>, &Flight)> = self
            .flights
            .iter()
            .map(|(answer, f)| {
                let start = if answer {
                    self.flights
                        .get(&f.rid, false)
                        .and_then(|r| r.end)
                        .map_or(f.start, |e| e.max(f.start))
                } else {
                    f.start
                };
                (start, f.end.map(|e| e.max(start)), f)
            })
            .filter(|x| x.0 <= now)
            .collect();
        nacos_raft_core::sort::sort_by(&mut chosen, |a, b| {
            a.0.total_cmp(&b.0).then(a.2.n.cmp(&b.2.n))
        });
        let chosen = &chosen[chosen.len().saturating_sub(max)..];
        let mut times: Vec<u64> = Vec::with_capacity(chosen.len() * 2);
        for (start, end, _) in chosen {
            times.push(ms(*start));
            times.push(ms(end.unwrap_or(now).min(now)));
        }
        nacos_raft_core::sort::sort(&mut times);
        times.dedup();
        let row = |t: f64| times.partition_point(|x| *x < ms(t));
        let lanes = chosen
            .iter()
            .map(|(start, end, f)| {
                let arrived = end.is_some_and(|e| e <= now);
                let failed = match &f.fate {
                    Fate::Failed(o) if arrived => Some(match o.as_str() {
                        "cut" => TraceFate::Cut,
                        "refused" => TraceFate::Refused,
                        _ => TraceFate::Lost,
                    }),
                    _ => None,
                };
                Lane {
                    id: f.n,
                    kind: f.kind,
                    from: f.from,
                    to: f.to,
                    sent_row: row(*start),
                    end_row: row(end.unwrap_or(now).min(now)),
                    flying: !arrived,
                    failed,
                    granted: f.granted,
                }
            })
            .collect();
        (times, lanes)
    }

    /// What the ring draws of [`LiveModel::shown`]: on each link, per direction, kind and
    /// outcome, one message per `gap` of the way (the one furthest along; `keep` always stays).
    /// Under a write load a link carries a commit every few ms, each drawn for at least
    /// [`MIN_FLIGHT_MS`]: dozens of glyphs on one spot, which cost frames and show nothing more
    /// (every one of them is in the Lanes view and the inspector's list).
    pub fn thin(mut v: Vec<Shown>, gap: f64, keep: Option<&(String, bool)>) -> Vec<Shown> {
        nacos_raft_core::sort::sort_by(&mut v, |a, b| {
            (a.from, a.to, a.kind, a.failed)
                .cmp(&(b.from, b.to, b.kind, b.failed))
                .then(b.progress.total_cmp(&a.progress))
        });
        let mut out: Vec<Shown> = Vec::with_capacity(v.len());
        let mut last: Option<((usize, usize, MsgKind, bool), f64)> = None;
        for s in v {
            let group = (s.from, s.to, s.kind, s.failed);
            let crowded = matches!(last, Some((g, p)) if g == group && p - s.progress < gap);
            if crowded && keep != Some(&s.key) {
                continue;
            }
            if !crowded {
                last = Some((group, s.progress));
            }
            out.push(s);
        }
        out
    }

    /// Recent messages, newest first (the inspector's list).
    pub fn recent(&self, max: usize) -> Vec<&Flight> {
        let mut v: Vec<&Flight> = self.flights.iter().map(|(_, f)| f).collect();
        nacos_raft_core::sort::sort_by_key(&mut v, |f| std::cmp::Reverse(f.n));
        v.truncate(max);
        v
    }

    /// The leader each reachable node believes in, and whether they agree.
    pub fn leaders(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].state() == Some(PeerState::Leader))
            .collect()
    }

    /// Every key any node holds.
    pub fn keys(&self) -> Vec<String> {
        let mut k: Vec<String> = self
            .nodes
            .iter()
            .flat_map(|n| n.datums.keys().map(|k| k.as_str().to_string()))
            .collect();
        nacos_raft_core::sort::sort(&mut k);
        k.dedup();
        k
    }

    fn violation(&mut self, at: f64, kind: ViolationKind, detail: String, nodes: Vec<usize>) {
        self.violations.push(Violation {
            at_ms: at.max(0.0) as u64,
            kind,
            detail,
            nodes,
        });
    }

    /// The observers, on what the streams said: two leaders of one term, two leaders at once
    /// (as the nodes themselves report, through their open streams), a term going down.
    fn observe(&mut self, now: f64) {
        let leaders = self.leaders();
        for &i in &leaders {
            let term = self.nodes[i].term();
            let from = self.term_leaders.partition_point(|&(t, _)| t < term);
            let to = self.term_leaders.partition_point(|&(t, _)| t <= term);
            let seen = &self.term_leaders[from..to];
            if seen.iter().any(|&(_, j)| j == i) {
                continue;
            }
            let first = seen.first().map(|&(_, j)| j);
            self.term_leaders.insert(to, (term, i));
            if let Some(j) = first {
                let detail = format!(
                    "{} and {} both LEADER in term {term}",
                    self.nodes[j].addr, self.nodes[i].addr
                );
                self.violation(now, ViolationKind::TwoLeadersSameTerm, detail, vec![j, i]);
            }
        }
        if leaders.len() >= 2 && self.leaders_before < 2 {
            let names: Vec<String> = leaders
                .iter()
                .map(|&i| format!("{} (term {})", self.nodes[i].addr, self.nodes[i].term()))
                .collect();
            self.violation(
                now,
                ViolationKind::TwoLeaders,
                format!("LEADER at once: {}", names.join(", ")),
                leaders.clone(),
            );
        }
        self.leaders_before = leaders.len();
    }
}

/// `ok` or no outcome: None; else the failure.
fn failed_outcome(o: &Option<String>) -> Option<&str> {
    match o.as_deref() {
        Some("ok") | None => None,
        Some(other) => Some(other),
    }
}

/// The RaftPeer a message's sender wrote of itself: the vote parameter, the beat packet's
/// `peer`, a vote or beat answer's body. A beat cut at the payload cap still names its `peer`
/// first (the packet's first field), which is read on its own.
fn said_of_itself(kind: MsgKind, payload: &str) -> Option<RaftPeer> {
    match kind {
        MsgKind::Vote | MsgKind::VoteReply | MsgKind::BeatReply => {
            raft_peer(&serde_json::from_str(payload).ok()?)
        }
        MsgKind::Beat => match serde_json::from_str::<Value>(payload) {
            Ok(v) => raft_peer(v.get("peer")?),
            Err(_) => {
                // RaftPeer has no nested object: its text ends at the first `}`.
                let from = payload.find("\"peer\":")? + "\"peer\":".len();
                let end = from + payload[from..].find('}')? + 1;
                raft_peer(&serde_json::from_str(&payload[from..end]).ok()?)
            }
        },
        _ => None,
    }
}

fn kind_request(k: MsgKind) -> MsgKind {
    use MsgKind::*;
    match k {
        VoteReply => Vote,
        BeatReply => Beat,
        PeerReply => Peer,
        DatumReply => DatumGet,
        CommitReply => Commit,
        ForwardReply => Forward,
        DeleteCommitReply => DeleteCommit,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "127.0.0.1:8848";
    const B: &str = "127.0.0.1:8849";
    const C: &str = "127.0.0.1:8850";

    fn model() -> LiveModel {
        LiveModel::new(&[A.into(), B.into(), C.into()])
    }

    /// The flights iterate in `(rid, answer)` order, as a map keyed by that pair would, and a
    /// slot freed by a removal is reused.
    #[test]
    fn flights_keep_the_order_of_rid_then_answer() {
        let flight = |rid: &str, n: u64| Flight::leaving(rid, MsgKind::Beat, 0, 1, 0.0, n);
        let mut fl = Flights::default();
        let keys = [
            ("ab", false),
            ("a", true),
            ("b", false),
            ("a", false),
            ("ab", true),
        ];
        for (n, (rid, answer)) in keys.iter().enumerate() {
            fl.get_or_insert(rid, *answer, || flight(rid, n as u64));
        }
        let mut want: Vec<(String, bool)> = keys.iter().map(|(r, a)| (r.to_string(), *a)).collect();
        want.sort();
        let got: Vec<(String, bool)> = fl.iter().map(|(a, f)| (f.rid.clone(), a)).collect();
        assert_eq!(got, want);
        // The same key finds the same flight; a removed one is gone and its slot reused.
        assert_eq!(fl.get_or_insert("a", true, || flight("x", 99)).n, 1);
        fl.remove("b", false);
        assert!(fl.get("b", false).is_none());
        fl.retain(|f| f.n != 0);
        assert!(fl.get("ab", false).is_none());
        fl.get_or_insert("c", false, || flight("c", 7));
        assert_eq!(fl.slots.len(), 5);
        assert_eq!(fl.iter().count(), 4);
    }

    /// `logged` counts every line ever added, also once the log is trimmed to its last
    /// KEEP_LOG lines: the page redraws the log when it moves, so it must move on each line.
    #[test]
    fn logged_counts_lines_past_the_trim() {
        let mut m = model();
        assert_eq!(m.logged, 0);
        m.opened(0, 1.0);
        assert_eq!((m.log.len(), m.logged), (1, 1));
        for k in 0..KEEP_LOG + 5 {
            m.opened(1, 2.0 + k as f64);
        }
        assert_eq!(m.log.len(), KEEP_LOG);
        assert_eq!(m.logged, (KEEP_LOG + 6) as u64);
        // A record that adds no line leaves it alone.
        let before = m.logged;
        m.apply(0, "not json", 10_000.0);
        assert_eq!(m.logged, before);
    }

    /// The hand-made reader: every field of each record type, defaults for absent fields, and
    /// a refusal (not a default) for a field of the wrong type.
    #[test]
    fn records_parse_field_by_field() {
        let s = snapshot(A, "LEADER", 7, false);
        let Some(Record::Snapshot {
            at_ms,
            peer,
            datums,
            config,
            faults,
            ..
        }) = Record::parse(&s)
        else {
            panic!("{s}")
        };
        assert_eq!(at_ms, 1000);
        let p = peer.unwrap();
        assert_eq!(
            (p.ip.as_str(), p.term, p.leader_due_ms, p.state),
            (A, 7, 1000, PeerState::Leader)
        );
        assert_eq!((datums[0].key.as_str(), datums[0].timestamp), ("k1", 3));
        assert_eq!((config.tick_ms, config.term_step), (50, 100));
        assert!(faults.enabled && faults.latency_ms.is_none());
        let f = r#"{"type":"faults","at_ms":5,"enabled":true,"cut_out":["x"],"loss_pct":30,"latency_ms":{"min":1,"max":9}}"#;
        let Some(Record::Faults { at_ms: 5, faults }) = Record::parse(f) else {
            panic!("{f}")
        };
        assert_eq!(
            faults,
            Faults {
                enabled: true,
                cut_out: vec!["x".into()],
                loss_pct: 30,
                latency_ms: Some(Latency { min: 1, max: 9 }),
                ..Faults::default()
            }
        );
        let m = r#"{"type":"msg","phase":"done","rid":"r","status":200,"granted":null}"#;
        let Some(Record::Msg(m)) = Record::parse(m) else {
            panic!("{m}")
        };
        assert_eq!(
            (m.rid.as_str(), m.status, m.granted, m.at_ms),
            ("r", Some(200), None, 0)
        );
        // Escapes in the payload; a character of several bytes where the type is looked for.
        let m = r#"{"seq":9,"type":"msg","at_ms":3,"phase":"sent","rid":"é/1","kind":"commit","from":"a","to":"b","payload":"{\"k\":\"x\\ny é\"}","truncated":true,"client":true,"sent_ms":null}"#;
        let Some(Record::Msg(m)) = Record::parse(m) else {
            panic!("{m}")
        };
        assert_eq!(
            (m.rid.as_str(), m.kind.as_str(), m.payload.as_str()),
            ("é/1", "commit", r#"{"k":"x\ny é"}"#)
        );
        assert!(m.truncated && m.sent_ms.is_none() && m.outcome.is_none());
        for bad in [
            r#"{"type":"msg","truncated":"yes"}"#,
            r#"{"type":"msg","rid":null}"#,
            r#"{"type":"msg","payload":"x""#,
            "not json",
            "[1]",
            r#"{"type":"snapshot","at_ms":"1000"}"#,
            r#"{"type":"snapshot","peers":[{"ip":1}]}"#,
            r#"{"type":"snapshot","config":null}"#,
            r#"{"type":"msg","status":70000}"#,
            r#"{"type":"faults","latency_ms":{"min":1}}"#,
            r#"{"type":"state","leader":"a"}"#,
            r#"{"type":"event","event":{"kind":"BeatSent"}}"#,
            r#"{"type":"datum","key":null}"#,
        ] {
            assert!(Record::parse(bad).is_none(), "{bad}");
        }
    }

    fn peer(ip: &str, state: &str, term: u64, due: i64) -> String {
        format!(
            r#"{{"ip":"{ip}","term":{term},"leaderDueMs":{due},"heartbeatDueMs":500,"state":"{state}"}}"#
        )
    }

    fn snapshot(ip: &str, state: &str, term: u64, crashed: bool) -> String {
        let p = if crashed {
            "null".to_string()
        } else {
            peer(ip, state, term, 1000)
        };
        format!(
            r#"{{"type":"snapshot","seq":1,"at_ms":1000,"node":"{ip}","peer":{p},"peers":[],"leader":null,
            "datums":[{{"key":"k1","timestamp":3}}],
            "config":{{"tick_ms":50,"leader_timeout_ms":1500,"random_ms":500,"heartbeat_ms":500,"publish_timeout_ms":500,"term_step":100}},
            "faults":{{"enabled":true,"crashed":{crashed},"cut_out":[],"cut_in":[],"loss_pct":0,"latency_ms":null}},
            "members":["{A}","{B}","{C}"]}}"#
        )
    }

    fn msg(
        phase: &str,
        at: u64,
        rid: &str,
        kind: &str,
        from: &str,
        to: &str,
        extra: &str,
    ) -> String {
        format!(
            r#"{{"type":"msg","seq":5,"at_ms":{at},"phase":"{phase}","rid":"{rid}","kind":"{kind}","from":"{from}","to":"{to}","payload":"p-{phase}","truncated":false{extra}}}"#
        )
    }

    #[test]
    fn a_snapshot_sets_the_node_and_a_state_record_moves_it() {
        let mut m = model();
        m.opened(0, 0.0);
        assert_eq!(m.nodes[0].state(), None, "no snapshot yet");
        m.apply(0, &snapshot(A, "FOLLOWER", 3, false), 1_010.0);
        let n = &m.nodes[0];
        assert_eq!((n.state(), n.term()), (Some(PeerState::Follower), 3));
        assert_eq!(n.datums.get("k1"), Some(&3));
        assert_eq!(n.timings.leader_timeout_ms, 1500);
        // Countdown: 1000 ms left of 2000 at the snapshot, 500 ms later 500 left.
        assert_eq!(n.leader_due(1_010.0), Some(0.5));
        assert_eq!(n.leader_due(1_510.0), Some(0.25));
        assert_eq!(n.leader_due(9_000.0), Some(0.0));
        // The same countdown as the page hands it on: 0 at 2_010, 2000 ms long.
        assert_eq!(n.leader_countdown(), Some((2_010.0, 2_000.0)));
        let st = format!(
            r#"{{"type":"state","seq":2,"at_ms":1100,"peer":{},"leader":"{A}"}}"#,
            peer(A, "LEADER", 4, 1800)
        );
        m.apply(0, &st, 1_110.0);
        assert_eq!(m.nodes[0].state(), Some(PeerState::Leader));
        assert_eq!(m.leaders(), [0]);
        // A beat accepted resets the countdown without a state record.
        let ev = r#"{"type":"event","seq":3,"at_ms":1200,"node":"x","event":{"kind":"BeatSent","term":4,"keys":1},"text":"t"}"#;
        m.apply(0, ev, 1_210.0);
        assert_eq!(m.nodes[0].beat_due(1_210.0), Some(1.0));
        assert!(matches!(
            m.log.back().unwrap().item,
            LogItem::Event(Event::BeatSent { .. })
        ));
        // Datums come and go.
        m.apply(
            0,
            r#"{"type":"datum","seq":4,"at_ms":1300,"op":"put","key":"k2","timestamp":9}"#,
            1_310.0,
        );
        m.apply(
            0,
            r#"{"type":"datum","seq":5,"at_ms":1300,"op":"remove","key":"k1"}"#,
            1_310.0,
        );
        assert_eq!(m.keys(), ["k2"]);
        // Garbage is counted, recorded, ignored; an unknown type is ignored.
        m.apply(0, "{nope", 1_400.0);
        m.apply(0, r#"{"type":"future","seq":9}"#, 1_400.0);
        assert_eq!(m.bad_records, 1);
    }

    #[test]
    fn crashed_unreachable_and_restarted_are_told_apart() {
        let mut m = model();
        m.opened(1, 0.0);
        m.apply(1, &snapshot(B, "LEADER", 5, false), 1_000.0);
        m.apply(1, &snapshot(B, "", 0, true), 1_100.0);
        let n = &m.nodes[1];
        assert_eq!(
            (n.state(), n.conn, n.faults.crashed),
            (None, Conn::Open, true)
        );
        m.apply(1, &snapshot(B, "FOLLOWER", 0, false), 1_200.0);
        assert_eq!(m.nodes[1].state(), Some(PeerState::Follower));
        let notes: Vec<&Note> = m
            .log
            .iter()
            .filter_map(|l| match &l.item {
                LogItem::Note(n) => Some(n),
                _ => None,
            })
            .collect();
        assert_eq!(notes, [&Note::Connected, &Note::Crashed, &Note::Restarted]);
        // The stream drops: unreachable, not crashed; the backoff counts attempts.
        assert_eq!(m.dropped(1, 2_000.0), 1);
        assert_eq!(m.dropped(1, 3_000.0), 2);
        let n = &m.nodes[1];
        assert_eq!(
            (n.state(), n.conn, n.faults.crashed),
            (None, Conn::Unreachable, false)
        );
        m.connecting(1);
        m.opened(1, 4_000.0);
        assert_eq!(m.nodes[1].retries, 0);
        // A gap asks for a re-sync.
        let after = m.apply(
            1,
            r#"{"type":"gap","seq":40,"at_ms":5000,"dropped":12}"#,
            5_000.0,
        );
        assert_eq!(
            (after, m.gaps, m.nodes[1].synced),
            (After::Resync, 12, false)
        );
    }

    #[test]
    fn the_four_sides_of_an_exchange_make_a_request_and_its_answer() {
        let mut m = model();
        for i in 0..3 {
            m.opened(i, 0.0);
        }
        let rid = "127.0.0.1:8848/1";
        m.apply(0, &msg("sent", 10_000, rid, "vote", A, B, ""), 10_000.0);
        assert_eq!(m.msg_count, 1);
        // B's clock is 40 ms behind: the request still arrives after it left.
        m.apply(1, &msg("received", 9_962, rid, "vote", A, B, ""), 10_003.0);
        m.apply(
            1,
            &msg(
                "replied",
                9_963,
                rid,
                "vote-reply",
                B,
                A,
                r#","outcome":"ok","status":200,"granted":true"#,
            ),
            10_004.0,
        );
        m.apply(
            0,
            &msg(
                "answered",
                10_004,
                rid,
                "vote-reply",
                B,
                A,
                r#","outcome":"ok","status":200,"granted":true,"sent_ms":10000"#,
            ),
            10_005.0,
        );
        assert_eq!(m.msg_count, 1, "one request");
        let rq = m.request_of(rid).unwrap();
        assert_eq!((rq.from, rq.to, rq.kind), (0, 1, MsgKind::Vote));
        assert!(rq.end.unwrap() >= rq.start);
        assert_eq!(rq.payload, "p-sent");
        let an = m.answer_of(rid).unwrap();
        assert_eq!(
            (an.from, an.to, an.granted, an.status),
            (1, 0, Some(true), Some(200))
        );
        assert_eq!(an.payload, "p-replied");
        // On the ring: the request first, over at least MIN_FLIGHT_MS, then the answer.
        let at = |t: f64| -> Vec<(MsgKind, bool)> {
            m.shown(t).iter().map(|s| (s.kind, s.failed)).collect()
        };
        assert_eq!(at(10_100.0), [(MsgKind::Vote, false)]);
        assert_eq!(
            at(10_000.0 + MIN_FLIGHT_MS + 100.0),
            [(MsgKind::VoteReply, false)]
        );
        assert!(at(10_000.0 + 3.0 * MIN_FLIGHT_MS).is_empty());
    }

    /// Live, the browser moves the messages: where `shown_next` says each left, how fast and
    /// how far puts it where `shown` does at every instant, and the set drawn changes at the
    /// instant it returns, not before (the page draws nothing in between).
    #[test]
    fn messages_move_by_themselves_until_the_next_change() {
        let mut m = model();
        for i in 0..3 {
            m.opened(i, 0.0);
        }
        let (ok, cut) = ("127.0.0.1:8848/1", "127.0.0.1:8848/2");
        m.apply(0, &msg("sent", 10_000, ok, "vote", A, B, ""), 10_000.0);
        m.apply(1, &msg("received", 10_002, ok, "vote", A, B, ""), 10_003.0);
        m.apply(0, &msg("sent", 10_100, cut, "beat", A, C, ""), 10_100.0);
        m.apply(
            0,
            &msg(
                "answered",
                10_400,
                cut,
                "beat-reply",
                C,
                A,
                r#","outcome":"timeout","sent_ms":10100"#,
            ),
            10_400.0,
        );
        m.apply(
            0,
            &msg(
                "answered",
                10_004,
                ok,
                "vote-reply",
                B,
                A,
                r#","outcome":"ok","status":200,"granted":true,"sent_ms":10000"#,
            ),
            10_005.0,
        );
        let drawn = |v: &[Shown]| {
            let mut k: Vec<_> = v.iter().map(|s| (s.key.clone(), s.failed)).collect();
            k.sort();
            k
        };
        let mut changes = 0;
        for k in 0..80 {
            let t = 9_990.0 + k as f64 * 23.0;
            let (v, next) = m.shown_next(t);
            // A message is drawn up to its landing instant inclusive.
            assert!(next >= t, "{next} after {t}");
            for s in &v {
                let p = ((t - s.start) / s.span).min(s.reach);
                assert!((s.progress - p).abs() < 1e-9, "{s:?} at {t}");
            }
            if next.is_finite() {
                assert_eq!(
                    drawn(&m.shown((t + next) / 2.0)),
                    drawn(&v),
                    "{t} .. {next}"
                );
                assert_ne!(drawn(&m.shown(next + 0.5)), drawn(&v), "at {next}");
                changes += 1;
            } else {
                assert!(v.is_empty());
            }
        }
        assert!(changes > 30, "{changes}");
        assert!(m.shown_next(20_000.0).1.is_infinite());
    }

    #[test]
    fn failed_requests_end_in_a_burst_and_clients_stay_off_the_ring() {
        let mut m = model();
        let rid = "127.0.0.1:8848/2";
        m.apply(0, &msg("sent", 1_000, rid, "beat", A, C, ""), 1_000.0);
        m.apply(
            0,
            &msg(
                "answered",
                1_000,
                rid,
                "beat-reply",
                C,
                A,
                r#","outcome":"cut","sent_ms":1000"#,
            ),
            1_000.0,
        );
        assert!(m.answer_of(rid).is_none());
        let rq = m.request_of(rid).unwrap();
        assert_eq!(rq.fate, Fate::Failed("cut".into()));
        let s = m.shown(1_000.0 + MIN_FLIGHT_MS * 0.8);
        assert_eq!(s.len(), 1);
        assert!(s[0].failed && s[0].progress <= 0.5);
        // A client's write is not drawn and not counted.
        m.apply(
            1,
            &msg("received", 1_000, "c/in-1", "forward", "client", B, ""),
            1_000.0,
        );
        assert_eq!(m.msg_count, 1);
        // A request whose arrival is never reported goes stale.
        m.apply(
            0,
            &msg("sent", 2_000, "127.0.0.1:8848/3", "peer", A, B, ""),
            2_000.0,
        );
        m.prune(2_000.0 + STALE_FLIGHT_MS + 1.0);
        assert!(m.request_of("127.0.0.1:8848/3").is_none());
        assert!(
            m.request_of(rid).is_some(),
            "finished ones stay for the inspector"
        );
    }

    #[test]
    fn observers_see_two_leaders_and_a_falling_term() {
        // Through the session, which records what the model takes (for the export).
        let mut s = super::super::tape::Session::new(&[A.into(), B.into(), C.into()]);
        s.opened(0, 0.0);
        s.opened(1, 0.0);
        s.apply(0, &snapshot(A, "LEADER", 7, false), 1_000.0);
        assert!(s.live.violations.is_empty());
        s.apply(1, &snapshot(B, "LEADER", 7, false), 1_000.0);
        let kinds: Vec<ViolationKind> = s.live.violations.iter().map(|v| v.kind).collect();
        assert_eq!(
            kinds,
            [ViolationKind::TwoLeadersSameTerm, ViolationKind::TwoLeaders]
        );
        let st = format!(
            r#"{{"type":"state","seq":2,"at_ms":1100,"peer":{},"leader":null}}"#,
            peer(B, "FOLLOWER", 5, 1000)
        );
        s.apply(1, &st, 1_100.0);
        assert_eq!(
            s.live.violations.last().unwrap().kind,
            ViolationKind::TermDecreased
        );
        let doc = s.export("http://127.0.0.1:8080/#live=x");
        let v: serde_json::Value = serde_json::from_str(&doc).expect("the export is JSON");
        assert_eq!(v["records"].as_array().unwrap().len(), 3);
        assert_eq!(v["records"][2]["record"]["type"], "state");
        assert_eq!(v["nodes"][1], B);
    }

    /// A Java member (no stream; its requests carry no rid header, so its receiver numbers them
    /// `<sender>/in-<receiver>-<n>`) is drawn from what the watched node hears from it: found in the
    /// member list, its state and term from the beat it sends (also when the beat is cut at the
    /// payload cap) and from its vote answer, newest first; marked "no stream"; its beat flies on
    /// the ring. A watched node's own records are never overridden by hearsay.
    #[test]
    fn a_member_without_a_stream_is_drawn_from_what_the_others_hear() {
        const D: &str = "127.0.0.1:8851";
        let mut m = model();
        m.opened(0, 0.0);
        let snap = snapshot(A, "FOLLOWER", 3, false).replace(
            &format!(r#""members":["{A}","{B}","{C}"]"#),
            &format!(r#""members":["{A}","{B}","{C}","{D}"]"#),
        );
        let snap = snap.replace(
            r#""peers":[]"#,
            &format!(r#""peers":[{}]"#, peer(D, "FOLLOWER", 3, 0)),
        );
        m.apply(0, &snap, 1_000.0);
        assert_eq!(m.nodes.len(), 4, "the Java member joins the ring");
        let d = &m.nodes[3];
        assert_eq!((d.addr.as_str(), d.shown_conn()), (D, Conn::NoStream));
        assert_eq!((d.state(), d.term()), (Some(PeerState::Follower), 3));
        assert_eq!(d.leader_due(1_000.0), None, "no timings to extrapolate");
        // It wins an election and beats A: the beat names it LEADER of term 5.
        let beat = format!(r#"{{"peer":{},"datums":[]}}"#, peer(D, "LEADER", 5, 0));
        let beat = format!(r#""payload":{}"#, serde_json::to_string(&beat).unwrap());
        let rec = msg(
            "received",
            2_000,
            "127.0.0.1:8851/in-127.0.0.1:8848-1",
            "beat",
            D,
            A,
            "",
        )
        .replace(r#""payload":"p-received""#, &beat);
        m.apply(0, &rec, 2_001.0);
        let d = &m.nodes[3];
        assert_eq!((d.state(), d.term()), (Some(PeerState::Leader), 5));
        assert_eq!(m.leaders(), [3]);
        let s = m.shown(2_100.0);
        assert_eq!(
            s.iter().map(|x| (x.kind, x.from, x.to)).collect::<Vec<_>>(),
            [(MsgKind::Beat, 3, 0)]
        );
        // A cut beat (a big packet past the cap) still tells: term 6.
        let cut = format!(
            r#"{{"peer":{},"datums":[{{"key":"k","#,
            peer(D, "LEADER", 6, 0)
        );
        let rec = msg(
            "received",
            2_500,
            "127.0.0.1:8851/in-127.0.0.1:8848-2",
            "beat",
            D,
            A,
            "",
        )
        .replace(
            r#""payload":"p-received","truncated":false"#,
            &format!(
                r#""payload":{},"truncated":true"#,
                serde_json::to_string(&cut).unwrap()
            ),
        );
        m.apply(0, &rec, 2_501.0);
        assert_eq!(m.nodes[3].term(), 6);
        // A asks it for a vote; its answer is its own record: FOLLOWER of term 7.
        m.apply(
            0,
            &msg("sent", 3_000, "127.0.0.1:8848/9", "vote", A, D, ""),
            3_001.0,
        );
        let reply = msg(
            "answered",
            3_004,
            "127.0.0.1:8848/9",
            "vote-reply",
            D,
            A,
            r#","outcome":"ok","status":200,"granted":true"#,
        )
        .replace(
            r#""payload":"p-answered""#,
            &format!(
                r#""payload":{}"#,
                serde_json::to_string(&peer(D, "FOLLOWER", 7, 0)).unwrap()
            ),
        );
        m.apply(0, &reply, 3_005.0);
        assert_eq!(
            (m.nodes[3].state(), m.nodes[3].term()),
            (Some(PeerState::Follower), 7)
        );
        // An older snapshot view does not move it back.
        let late = snap.replace(r#""at_ms":1000"#, r#""at_ms":900"#);
        m.apply(0, &late, 3_100.0);
        assert_eq!(m.nodes[3].term(), 7);
        // Hearsay about a watched node whose stream is open never overrides its own records.
        m.opened(1, 3_200.0);
        m.apply(1, &snapshot(B, "FOLLOWER", 7, false), 3_200.0);
        let from_b = msg(
            "received",
            3_300,
            "127.0.0.1:8849/in-127.0.0.1:8848-3",
            "vote",
            B,
            A,
            "",
        )
        .replace(
            r#""payload":"p-received""#,
            &format!(
                r#""payload":{}"#,
                serde_json::to_string(&peer(B, "CANDIDATE", 9, 0)).unwrap()
            ),
        );
        m.apply(0, &from_b, 3_301.0);
        assert_eq!(
            (m.nodes[1].term(), m.nodes[1].shown_conn()),
            (7, Conn::Open)
        );
        // A listed address whose stream never opens (a Java node in the hash) is drawn from
        // hearsay too, and marked so, while the page keeps trying it.
        m.dropped(2, 3_400.0);
        assert_eq!(m.nodes[2].shown_conn(), Conn::Unreachable);
        let from_c = msg(
            "received",
            3_500,
            "127.0.0.1:8850/in-127.0.0.1:8848-4",
            "vote",
            C,
            A,
            "",
        )
        .replace(
            r#""payload":"p-received""#,
            &format!(
                r#""payload":{}"#,
                serde_json::to_string(&peer(C, "CANDIDATE", 8, 0)).unwrap()
            ),
        );
        m.apply(0, &from_c, 3_501.0);
        let c = &m.nodes[2];
        assert_eq!(
            (c.shown_conn(), c.state(), c.term()),
            (Conn::NoStream, Some(PeerState::Candidate), 8)
        );
    }

    /// The Lanes view fed by the streams: the latest messages in order, the answer leaving
    /// where its request arrived although the answerer's clock runs 300 ms behind, a message
    /// still flying ends at now, a failure once known; rows clicked back to their flight.
    #[test]
    fn lanes_draw_the_latest_exchanges_in_pairing_order() {
        let mut m = model();
        m.apply(0, &msg("sent", 10_000, "a/1", "vote", A, B, ""), 1_000.0);
        m.apply(1, &msg("received", 9_702, "a/1", "vote", A, B, ""), 1_005.0);
        m.apply(
            1,
            &msg(
                "replied",
                9_703,
                "a/1",
                "vote-reply",
                B,
                A,
                r#","outcome":"ok","granted":true"#,
            ),
            1_006.0,
        );
        m.apply(
            0,
            &msg(
                "answered",
                10_008,
                "a/1",
                "vote-reply",
                B,
                A,
                r#","outcome":"ok","granted":true,"sent_ms":10000"#,
            ),
            1_008.0,
        );
        m.apply(0, &msg("sent", 10_100, "a/2", "beat", A, C, ""), 1_100.0);
        m.apply(0, &msg("sent", 10_200, "a/3", "beat", A, B, ""), 1_200.0);
        m.apply(
            0,
            &msg(
                "answered",
                10_300,
                "a/3",
                "beat-reply",
                B,
                A,
                r#","outcome":"timeout","sent_ms":10200"#,
            ),
            1_300.0,
        );
        let (times, lanes) = m.lanes(1_400.0, 10);
        let got: Vec<(MsgKind, usize, usize, bool, bool)> = lanes
            .iter()
            .map(|l| (l.kind, l.from, l.to, l.flying, l.failed.is_some()))
            .collect();
        assert_eq!(
            got,
            [
                (MsgKind::Vote, 0, 1, false, false),
                (MsgKind::VoteReply, 1, 0, false, false),
                (MsgKind::Beat, 0, 2, true, false),
                (MsgKind::Beat, 0, 1, false, true),
            ]
        );
        let (rq, an) = (&lanes[0], &lanes[1]);
        assert!(
            an.sent_row >= rq.end_row,
            "the answer leaves after its request arrived"
        );
        assert!(rq.end_row > rq.sent_row && an.end_row > an.sent_row);
        assert_eq!(times[lanes[2].end_row], 400, "flying: ends at now");
        assert_eq!(lanes[1].granted, Some(true));
        assert_eq!(
            m.flight_by_n(lanes[3].id).map(|f| f.rid.as_str()),
            Some("a/3")
        );
        // Only the latest `max`, and only what had left by `now`.
        let (_, last) = m.lanes(1_400.0, 2);
        assert_eq!(last.len(), 2);
        assert_eq!(last[0].to, 2);
        assert_eq!(m.lanes(1_050.0, 10).1.len(), 2);
    }

    /// Thinning keeps one glyph per gap of a link per direction, kind and outcome, the one
    /// furthest along, and always the selected one.
    #[test]
    fn a_crowded_link_is_drawn_thinned() {
        let sh =
            |rid: &str, from: usize, to: usize, kind: MsgKind, progress: f64, failed: bool| Shown {
                key: (rid.to_string(), kind.is_reply()),
                kind,
                from,
                to,
                progress,
                failed,
                granted: None,
                status: 0,
                start: 0.0,
                span: MIN_FLIGHT_MS,
                reach: 1.0,
                change_at: MIN_FLIGHT_MS,
            };
        let mut v = Vec::new();
        // 20 commits 0 → 1, 0.02 apart: 0.39 .. 0.01.
        for k in 0..20 {
            v.push(sh(
                &format!("c{k}"),
                0,
                1,
                MsgKind::Commit,
                0.01 + 0.02 * k as f64,
                false,
            ));
        }
        v.push(sh("r", 1, 0, MsgKind::CommitReply, 0.2, false));
        v.push(sh("b", 0, 1, MsgKind::Beat, 0.2, false));
        v.push(sh("x", 0, 1, MsgKind::Commit, 0.2, true));
        let keep = ("c3".to_string(), false);
        let t = LiveModel::thin(v, 0.09, Some(&keep));
        let commits: Vec<f64> = t
            .iter()
            .filter(|s| s.kind == MsgKind::Commit && !s.failed)
            .map(|s| (s.progress * 100.0).round())
            .collect();
        assert_eq!(
            commits,
            [39.0, 29.0, 19.0, 9.0, 7.0],
            "one per 0.09 (5 steps of 0.02), and the selected c3"
        );
        assert_eq!(
            t.len(),
            5 + 3,
            "other kinds, directions and outcomes are their own groups"
        );
        assert_eq!(LiveModel::thin(Vec::new(), 0.1, None), Vec::new());
    }

    /// Every kind reads back from its DOM name, and no two share one.
    #[test]
    fn every_kind_reads_from_its_name() {
        for k in MsgKind::ALL {
            assert_eq!(kind_of(k.as_str()), Some(k));
        }
        let mut names: Vec<&str> = MsgKind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), MsgKind::ALL.len());
        assert_eq!(kind_of("gossip"), None);
    }
}
