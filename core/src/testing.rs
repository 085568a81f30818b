//! One-line renderings of [`Output`]s and [`Event`]s, so that a test can assert a node's whole
//! output list in one `assert_eq!` (as openraft's engine tests do) and a golden script can print
//! a run as text a reviewer reads.
//!
//! Members are named by letter (`A` is the first address of the member list given to
//! [`Names`]), keys by their short form ([`short_key`]). A rendering shows everything that
//! identifies an output — kind, target, ids, keys, timestamps, terms, short values, error texts —
//! but not the random timer dues of a `RaftPeer` (assert those separately where they matter).
//!
//! ```
//! use nacos_raft_core::testing::{render, Names};
//! use nacos_raft_core::{Config, Node};
//!
//! let members: Vec<String> = ["127.0.0.1:8848", "127.0.0.2:8848"].map(String::from).to_vec();
//! let mut a = Node::new(Config::default(), &members[0], &members, 7).unwrap();
//! a.timeout_now();
//! assert_eq!(
//!     render(&a.take_outputs(), &Names::new(&members)),
//!     [
//!         "event election-started term=1",
//!         "send B #1 vote A CANDIDATE term=1 vote=A",
//!     ]
//! );
//! ```

use crate::key::{self, SWITCH_KEY};
use crate::{
    Datum, Event, JsonValue, Output, Persist, RaftError, RaftPeer, Request, Response, StepDown,
    Timer,
};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::Write as _;

/// Longest value shown verbatim; longer ones render as their size.
const MAX_VALUE: usize = 40;
/// Longest key list shown in full; longer ones render as their length.
const MAX_KEYS: usize = 4;

/// Address → letter: the member at index `i` of the list is `A + i`; any other address (a
/// stranger) is shown as it is.
#[derive(Clone, Debug, Default)]
pub struct Names {
    members: Vec<String>,
}

impl Names {
    /// Names for `members`, in this order.
    pub fn new(members: &[String]) -> Names {
        Names {
            members: members.to_vec(),
        }
    }

    /// The letter of member index `i` (`A`…`Z`, then `N26`, `N27`…).
    pub fn letter(i: usize) -> String {
        match u8::try_from(i) {
            Ok(b) if b < 26 => char::from(b'A' + b).to_string(),
            _ => format!("N{i}"),
        }
    }

    /// The name of `addr`.
    pub fn name(&self, addr: &str) -> String {
        match self.members.iter().position(|m| m == addr) {
            Some(i) => Names::letter(i),
            None => addr.into(),
        }
    }

    /// Every member address replaced by its letter in `text` (longest addresses first, so that
    /// `127.0.0.1:88481` is not read as `A1`).
    pub fn replace_all(&self, text: &str) -> String {
        let mut order: Vec<usize> = (0..self.members.len()).collect();
        order.sort_by_key(|i| core::cmp::Reverse(self.members[*i].len()));
        let mut t = String::from(text);
        for i in order {
            if t.contains(self.members[i].as_str()) {
                t = t.replace(self.members[i].as_str(), &Names::letter(i));
            }
        }
        t
    }
}

/// Every output of a list, rendered.
pub fn render(outputs: &[Output], names: &Names) -> Vec<String> {
    outputs.iter().map(|o| output(o, names)).collect()
}

/// One output on one line: `persist datum iplist.s000 ts=1 {}`, `persist term 101`,
/// `send B #3 commit iplist.s000 ts=1 {} src=A src.term=1`, `reply #7 200 B FOLLOWER term=0
/// vote=B`, `timer publish#1 5000`, `done op#1 ok`, `event leader-decided A votes=2
/// majority=2`.
pub fn output(o: &Output, names: &Names) -> String {
    match o {
        Output::Persist(Persist::Datum(d)) => format!("persist datum {}", datum(d)),
        Output::Persist(Persist::Remove { key }) => format!("persist remove {}", short_key(key)),
        Output::Persist(Persist::Term(t)) => format!("persist term {t}"),
        Output::Persist(Persist::Position { term, index }) => {
            format!("persist position {term}.{index}")
        }
        Output::Persist(Persist::Tombstone { key, at }) => {
            format!("persist tombstone {}@{at}", short_key(key))
        }
        Output::Send { to, id, request } => {
            format!(
                "send {} #{id} {}",
                names.name(to),
                self::request(request, names)
            )
        }
        Output::Reply { to, result } => format!("reply #{to} {}", answer(result, names)),
        Output::SetTimer { timer, after_ms } => format!("timer {} {after_ms}", self::timer(*timer)),
        Output::Done { op, result } => match result {
            Ok(()) => format!("done op#{op} ok"),
            Err(e) => format!("done op#{op} {}", error(e, names)),
        },
        Output::Event(e) => format!("event {}", event(e, names)),
    }
}

/// A timer: `publish#1`, `sync-pause`.
pub fn timer(t: Timer) -> String {
    match t {
        Timer::PublishTimeout(p) => format!("publish#{p}"),
        Timer::SyncPause => "sync-pause".into(),
    }
}

/// A request: its kind (the `data-msg` name) and what tells it apart.
pub fn request(r: &Request, names: &Names) -> String {
    match r {
        Request::Vote(p) => format!("vote {}", peer(p, names)),
        Request::Beat(b) => {
            let mut s = format!("beat {}", peer(&b.peer, names));
            if b.datums.len() > MAX_KEYS {
                let _ = write!(s, " keys={}", b.datums.len());
            } else {
                let list: Vec<String> = b
                    .datums
                    .iter()
                    .map(|d| format!("{}:{}", short_key(&d.key), d.timestamp))
                    .collect();
                let _ = write!(s, " keys=[{}]", list.join(","));
            }
            s
        }
        Request::GetPeer => "peer".into(),
        Request::GetDatums(keys) => format!("datum-get {}", key_list(keys)),
        Request::Commit { datum: d, source } => format!(
            "commit {} src={} src.term={}",
            self::datum(d),
            names.name(&source.ip),
            source.term
        ),
        Request::DeleteCommit { key, source } => format!(
            "delete-commit {} src={} src.term={}",
            short_key(key),
            names.name(&source.ip),
            source.term
        ),
        Request::Forward {
            key,
            value: v,
            leader_term,
        } => format!(
            "forward {} {}{}",
            short_key(key),
            value(v),
            addressed(*leader_term)
        ),
        Request::ForwardDelete { key, leader_term } => {
            format!(
                "forward-delete {}{}",
                short_key(key),
                addressed(*leader_term)
            )
        }
        Request::Repair {
            key,
            value: v,
            timestamp,
        } => format!("repair {} ts={timestamp} {}", short_key(key), value(v)),
    }
}

/// An answer: `200 ok`, `200 <peer>`, `200 [iplist.s000:1,null]`, or `<status> <message>`.
pub fn answer(r: &Result<Response, RaftError>, names: &Names) -> String {
    match r {
        Ok(Response::Ok) => "200 ok".into(),
        Ok(Response::Peer(p)) => format!("200 {}", peer(p, names)),
        Ok(Response::Datums(list)) => {
            let items: Vec<String> = list
                .iter()
                .map(|d| match d {
                    Some(d) => format!("{}:{}", short_key(&d.key), d.timestamp),
                    None => "null".into(),
                })
                .collect();
            format!("200 [{}]", items.join(","))
        }
        Err(e) => error(e, names),
    }
}

/// An error: its status and Nacos' message, member addresses as letters.
pub fn error(e: &RaftError, names: &Names) -> String {
    format!("{} {}", e.status, names.replace_all(&e.message))
}

/// A peer record without its timer dues: `A LEADER term=1 vote=A` (`vote=-` when empty), and
/// ` data=7` when it carries the hardened rules' `dataVersion`, ` at=3.4` their `position`.
pub fn peer(p: &RaftPeer, names: &Names) -> String {
    let mut s = format!(
        "{} {} term={} vote={}",
        names.name(&p.ip),
        p.state,
        p.term,
        p.vote()
            .map(|v| names.name(v))
            .unwrap_or_else(|| "-".into())
    );
    if let Some(v) = p.data_version {
        s.push_str(&format!(" data={v}"));
    }
    if let Some((t, i)) = p.position {
        s.push_str(&format!(" at={t}.{i}"));
    }
    s
}

/// A datum: `iplist.s000 ts=1 {"instanceList":[]}` (no value: `-`).
pub fn datum(d: &Datum) -> String {
    let v = d.value.as_ref().map(value).unwrap_or_else(|| "-".into());
    format!("{} ts={} {v}", short_key(&d.key), d.timestamp)
}

/// A value verbatim when short, else `<N bytes>`.
pub fn value(v: &JsonValue) -> String {
    let s = v.as_str();
    if s.len() <= MAX_VALUE {
        s.into()
    } else {
        format!("<{} bytes>", s.len())
    }
}

fn key_list(keys: &[String]) -> String {
    if keys.len() > MAX_KEYS {
        return format!("keys={}", keys.len());
    }
    let short: Vec<String> = keys.iter().map(|k| short_key(k)).collect();
    format!("[{}]", short.join(","))
}

/// A key as tests and scripts show it: `switch` for the switch key (long or brief), `iplist.X`
/// / `meta.X` for the keys of service `DEFAULT_GROUP@@X` in namespace `public` — long in
/// datums, brief in beats: the context tells which — the brief form for other long keys, and
/// anything else as it is.
pub fn short_key(k: &str) -> String {
    if k == SWITCH_KEY || key::brief(SWITCH_KEY) == Some(k) {
        return "switch".into();
    }
    const SERVICE_HEAD: &str = "public##DEFAULT_GROUP@@";
    let families = [
        (key::IPLIST_PREFIX, "iplist."),
        (key::META_PREFIX, "meta."),
        (key::BRIEF_IPLIST_PREFIX, "iplist."),
        (key::BRIEF_META_PREFIX, "meta."),
    ];
    for (prefix, family) in families {
        if let Some(rest) = k.strip_prefix(prefix) {
            return match rest.strip_prefix(SERVICE_HEAD) {
                Some(svc) => format!("{family}{svc}"),
                None => format!("{family}{rest}"),
            };
        }
    }
    k.into()
}

/// An event: its kebab-case name and fields, e.g. `vote-refused A term=0 own=0`,
/// `leader-decided A votes=2 majority=2`, `dead-key-deleted iplist.s002`.
pub fn event(e: &Event, names: &Names) -> String {
    let n = |a: &str| names.name(a);
    let k = |key: &str| short_key(key);
    let r = |reason: &str| names.replace_all(reason);
    match e {
        Event::ElectionStarted { term } => format!("election-started term={term}"),
        Event::VoteGranted { candidate, term } => {
            format!("vote-granted {} term={term}", n(candidate))
        }
        Event::VoteRefused {
            candidate,
            candidate_term,
            own_term,
        } => format!(
            "vote-refused {} term={candidate_term} own={own_term}",
            n(candidate)
        ),
        Event::VoteRefusedStaleData {
            candidate,
            candidate_version,
            own_version,
        } => format!(
            "vote-refused-stale-data {} version={candidate_version} own={own_version}",
            n(candidate)
        ),
        Event::SplitVote { candidate, term } => {
            format!("split-vote {} term={term}", n(candidate))
        }
        Event::VoteRefusedStaleLog {
            candidate,
            candidate_at,
            own_at,
        } => format!(
            "vote-refused-stale-log {} at={}.{} own={}.{}",
            n(candidate),
            candidate_at.0,
            candidate_at.1,
            own_at.0,
            own_at.1
        ),
        Event::VoteFromStranger { candidate } => format!("vote-from-stranger {}", n(candidate)),
        Event::VoteAnswered {
            from,
            vote_for,
            term,
        } => format!(
            "vote-answered {} vote={} term={term}",
            n(from),
            vote_for.as_deref().map(n).unwrap_or_else(|| "-".into())
        ),
        Event::LeaderDecided {
            leader,
            votes,
            majority,
        } => format!(
            "leader-decided {} votes={votes} majority={majority}",
            n(leader)
        ),
        Event::SteppedDown { was, why } => match why {
            StepDown::GrantedVote { candidate, term } => format!(
                "stepped-down {was} granted-vote {} term={term}",
                n(candidate)
            ),
            StepDown::AcceptedBeat { leader, term } => {
                format!("stepped-down {was} accepted-beat {} term={term}", n(leader))
            }
            StepDown::RefusedStaleCandidate { candidate, term } => format!(
                "stepped-down {was} refused-stale-candidate {} term={term}",
                n(candidate)
            ),
            StepDown::LostMajority { heard, majority } => {
                format!("stepped-down {was} lost-majority heard={heard} majority={majority}")
            }
        },
        Event::BeatSent { term, keys } => format!("beat-sent term={term} keys={keys}"),
        Event::BeatNotSent { reason } => format!("beat-not-sent: {}", r(reason)),
        Event::BeatAccepted { leader, term } => format!("beat-accepted {} term={term}", n(leader)),
        Event::BeatRejected { from, reason } => format!("beat-rejected {}: {}", n(from), r(reason)),
        Event::LeaderChanged { leader, previous } => format!(
            "leader-changed {} was={}",
            n(leader),
            previous.as_deref().map(n).unwrap_or_else(|| "-".into())
        ),
        Event::PeerMarkedFollower { peer } => format!("peer-marked-follower {}", n(peer)),
        Event::RequestFailed { to, what, failure } => {
            format!("request-failed {} {what}: {}", n(to), r(failure))
        }
        Event::SyncFetch { from, keys } => format!("sync-fetch {} keys={keys}", n(from)),
        Event::DatumApplied {
            key,
            timestamp,
            from,
            term,
        } => format!(
            "datum-applied {} ts={timestamp} from={} term={term}",
            k(key),
            n(from)
        ),
        Event::DatumSkipped { key, reason } => format!("datum-skipped {}: {reason}", k(key)),
        Event::DeadKeyDeleted { key } => format!("dead-key-deleted {}", k(key)),
        Event::PublishStarted {
            key,
            timestamp,
            term,
        } => format!("publish-started {} ts={timestamp} term={term}", k(key)),
        Event::Published { key, timestamp } => format!("published {} ts={timestamp}", k(key)),
        Event::PublishFailed { key, reason } => {
            format!("publish-failed {}: {}", k(key), r(reason))
        }
        Event::Forwarded { key, to } => format!("forwarded {} to={}", k(key), n(to)),
        Event::CommitApplied {
            key,
            timestamp,
            from,
            term,
        } => format!(
            "commit-applied {} ts={timestamp} from={} term={term}",
            k(key),
            n(from)
        ),
        Event::CommitRejected { key, from, reason } => {
            format!("commit-rejected {} from={}: {}", k(key), n(from), r(reason))
        }
        Event::Deleted { key, by } => format!("deleted {} by={}", k(key), n(by)),
    }
}

/// The kebab-case name of an event (the first word of [`event`]).
pub fn event_name(e: &Event) -> &'static str {
    match e {
        Event::ElectionStarted { .. } => "election-started",
        Event::VoteGranted { .. } => "vote-granted",
        Event::VoteRefused { .. } => "vote-refused",
        Event::VoteRefusedStaleData { .. } => "vote-refused-stale-data",
        Event::VoteRefusedStaleLog { .. } => "vote-refused-stale-log",
        Event::SplitVote { .. } => "split-vote",
        Event::VoteFromStranger { .. } => "vote-from-stranger",
        Event::VoteAnswered { .. } => "vote-answered",
        Event::LeaderDecided { .. } => "leader-decided",
        Event::SteppedDown { .. } => "stepped-down",
        Event::BeatSent { .. } => "beat-sent",
        Event::BeatNotSent { .. } => "beat-not-sent",
        Event::BeatAccepted { .. } => "beat-accepted",
        Event::BeatRejected { .. } => "beat-rejected",
        Event::LeaderChanged { .. } => "leader-changed",
        Event::PeerMarkedFollower { .. } => "peer-marked-follower",
        Event::RequestFailed { .. } => "request-failed",
        Event::SyncFetch { .. } => "sync-fetch",
        Event::DatumApplied { .. } => "datum-applied",
        Event::DatumSkipped { .. } => "datum-skipped",
        Event::DeadKeyDeleted { .. } => "dead-key-deleted",
        Event::PublishStarted { .. } => "publish-started",
        Event::Published { .. } => "published",
        Event::PublishFailed { .. } => "publish-failed",
        Event::Forwarded { .. } => "forwarded",
        Event::CommitApplied { .. } => "commit-applied",
        Event::CommitRejected { .. } => "commit-rejected",
        Event::Deleted { .. } => "deleted",
    }
}

/// A forward's addressed leader term, when it names one (` to-term=T`).
fn addressed(term: Option<u64>) -> String {
    term.map_or_else(String::new, |t| format!(" to-term={t}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn names_and_keys_are_short_and_exact() {
        let m: Vec<String> = vec!["127.0.0.1:8848".into(), "127.0.0.1:88481".into()];
        let names = Names::new(&m);
        assert_eq!(names.name("127.0.0.1:8848"), "A");
        assert_eq!(names.name("10.9.9.9:1"), "10.9.9.9:1");
        assert_eq!(
            names.replace_all("127.0.0.1:88481 and 127.0.0.1:8848"),
            "B and A"
        );
        assert_eq!(Names::letter(25), "Z");
        assert_eq!(Names::letter(26), "N26");
        assert_eq!(
            short_key(&key::iplist_key("public", "DEFAULT_GROUP@@s1")),
            "iplist.s1"
        );
        assert_eq!(short_key(&key::meta_key("dev", "G@@s1")), "meta.dev##G@@s1");
        assert_eq!(short_key(SWITCH_KEY), "switch");
        assert_eq!(short_key("meta.x"), "meta.x");
        assert_eq!(short_key("iplist.public##DEFAULT_GROUP@@s1"), "iplist.s1");
        assert_eq!(short_key(key::brief(SWITCH_KEY).unwrap()), "switch");
        assert_eq!(short_key("com.example.x"), "com.example.x");
    }

    #[test]
    fn outputs_render_on_one_line() {
        let m: Vec<String> = vec!["a:1".into(), "b:1".into()];
        let names = Names::new(&m);
        let d = Datum {
            key: key::iplist_key("public", "DEFAULT_GROUP@@s"),
            value: Some(JsonValue::parse("{}").unwrap()),
            timestamp: 3,
        };
        let outs = vec![
            Output::Persist(Persist::Datum(d.clone())),
            Output::Persist(Persist::Term(101)),
            Output::Send {
                to: "b:1".into(),
                id: 4,
                request: Request::Commit {
                    datum: d,
                    source: RaftPeer::new("a:1"),
                },
            },
            Output::Reply {
                to: 7,
                result: Err(RaftError::server(
                    "peer(b:1) tried to publish data but wasn't leader",
                )),
            },
            Output::SetTimer {
                timer: Timer::PublishTimeout(1),
                after_ms: 5_000,
            },
            Output::Done {
                op: 2,
                result: Ok(()),
            },
            Output::Event(Event::Deleted {
                key: SWITCH_KEY.into(),
                by: "a:1".into(),
            }),
        ];
        assert_eq!(
            render(&outs, &names),
            [
                "persist datum iplist.s ts=3 {}",
                "persist term 101",
                "send B #4 commit iplist.s ts=3 {} src=A src.term=0",
                "reply #7 500 peer(B) tried to publish data but wasn't leader",
                "timer publish#1 5000",
                "done op#2 ok",
                "event deleted switch by=A",
            ]
        );
    }
}
