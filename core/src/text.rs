//! What a node decided, in words: one catalogue of sentences, in English and 简体中文, for every
//! [`Event`]. The page's event log, its trace export and `Display for Event` (the native node's
//! log lines) all read it, so each sentence is written once, its two languages side by side.
//!
//! Conventions of the catalogue:
//! - A sentence starts with the node it happened at when [`Ctx::node`] names one ("B votes for
//!   A …"), and with the verb when it does not (a log line that carries the node in a field).
//! - The names of the Java code stay as they are in both languages (`MasterElection.sendVote`,
//!   `receivedVote`, `decideLeader`, `HeartBeat.sendBeat`, `receivedBeat`, `makeLeader`,
//!   `leaderDueMs`, `/peer`, `GET /raft/datum`), and so do the state words of the wire (LEADER,
//!   FOLLOWER, CANDIDATE) and "leader", the word Chinese Nacos texts use for the role.
//! - The error texts a Java node answers with (`invalid state from master, …`, `out of date beat,
//!   …`, `publish failed …`) are quoted as they are: they are what goes on the wire. Every other
//!   word the core itself chooses (what a failed request was, why a datum was skipped, how a
//!   request failed) is translated.
//! - The term step of a write (`PUBLISH_TERM_INCREASE_COUNT`, 100 in Nacos) is
//!   [`Config::term_step`](crate::Config::term_step) as the reader passes it in [`Ctx`], never a
//!   literal.

use crate::event::{Event, StepDown};
use alloc::format;
use alloc::string::{String, ToString};

/// A language of the sentences.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English.
    En,
    /// Simplified Chinese.
    Zh,
}

impl Lang {
    /// Both languages.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    /// BCP 47 tag (`en`, `zh-CN`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    /// From a tag such as `navigator.language`: any `zh…` is Chinese, everything else English.
    pub fn from_tag(tag: &str) -> Lang {
        match tag.get(..2) {
            Some(p) if p.eq_ignore_ascii_case("zh") => Lang::Zh,
            _ => Lang::En,
        }
    }

    /// The other language.
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Zh,
            Lang::Zh => Lang::En,
        }
    }
}

/// How a sentence names things.
#[derive(Clone, Copy, Debug)]
pub struct Ctx<'a> {
    /// The node the event happened at: its address and the name to write for it. `None`: the
    /// sentence has no subject.
    pub node: Option<(&'a str, &'a str)>,
    /// `Config::term_step` of the run, when the reader knows it: a write then reads
    /// "term +100 = 301" instead of "term now 301".
    pub term_step: Option<u64>,
    /// How to name a peer from its address (the page writes letters).
    pub name: fn(&str) -> String,
    /// How to write a key (the page shortens them).
    pub key: fn(&str) -> String,
}

fn as_is(s: &str) -> String {
    s.to_string()
}

impl Ctx<'static> {
    /// Addresses and keys as they are, no subject, no term step (what `Display for Event` uses).
    pub const PLAIN: Ctx<'static> = Ctx {
        node: None,
        term_step: None,
        name: as_is,
        key: as_is,
    };
}

impl<'a> Ctx<'a> {
    /// The same, with the node the event happened at (its address and its name).
    pub fn at<'b>(self, address: &'b str, name: &'b str) -> Ctx<'b>
    where
        'a: 'b,
    {
        Ctx {
            node: Some((address, name)),
            ..self
        }
    }
}

/// One sentence in `lang`: both languages are written next to each other at every call site.
macro_rules! say {
    ($lang:expr, $en:literal, $zh:literal) => {
        match $lang {
            Lang::En => format!($en),
            Lang::Zh => format!($zh),
        }
    };
}

/// The sentence for `e`.
pub fn event_sentence(e: &Event, lang: Lang, ctx: &Ctx<'_>) -> String {
    use Event::*;
    let n = |a: &str| (ctx.name)(a);
    let key = |k: &str| (ctx.key)(k);
    // The subject, followed by a space ("B votes") or by a colon ("B: leader due ran out").
    let (w, wc) = match (ctx.node, lang) {
        (Some((_, x)), Lang::En) => (format!("{x} "), format!("{x}: ")),
        (Some((_, x)), Lang::Zh) => (format!("{x} "), format!("{x}:")),
        (None, _) => (String::new(), String::new()),
    };
    match e {
        ElectionStarted { term } => say!(
            lang,
            "{wc}leader due ran out → MasterElection.sendVote: term {term}, votes for itself, becomes CANDIDATE and asks every peer",
            "{wc}leaderDueMs 到期 → MasterElection.sendVote：任期变为 {term}，投自己一票，成为候选者并向所有节点拉票"
        ),
        VoteGranted { candidate, term } => {
            let c = n(candidate);
            say!(
                lang,
                "{w}votes for {c} (receivedVote): term {term} is above its own, so it becomes FOLLOWER in term {term}",
                "{w}投票给 {c}（receivedVote）：任期 {term} 高于自己的任期，于是成为跟随者，任期改为 {term}"
            )
        }
        VoteRefused {
            candidate,
            candidate_term,
            own_term,
        } => {
            let c = n(candidate);
            say!(
                lang,
                "{w}refuses the vote of {c}: term {candidate_term} is not above {own_term}",
                "{w}拒绝了 {c} 的投票请求：任期 {candidate_term} 不大于自己的 {own_term}"
            )
        }
        VoteRefusedStaleData {
            candidate,
            candidate_version,
            own_version,
        } => {
            let c = n(candidate);
            say!(
                lang,
                "{w}refuses the vote of {c}: its data version {candidate_version} is below its own {own_version}",
                "{w}拒绝了 {c} 的投票请求：它的数据版本 {candidate_version} 低于自己的 {own_version}"
            )
        }
        VoteRefusedStaleLog {
            candidate,
            candidate_at,
            own_at,
        } => {
            let c = n(candidate);
            let (ct, ci, ot, oi) = (candidate_at.0, candidate_at.1, own_at.0, own_at.1);
            say!(
                lang,
                "{w}refuses the vote of {c}: its log position {ct}.{ci} is below its own {ot}.{oi}",
                "{w}拒绝了 {c} 的投票请求：它的日志位置 {ct}.{ci} 低于自己的 {ot}.{oi}"
            )
        }
        SplitVote { candidate, term } => {
            let c = n(candidate);
            say!(
                lang,
                "{w}and {c} split the vote of term {term} (each voted for itself); it ranks first of the two (log position, data version, address), so it campaigns again at its next tick",
                "{w}与 {c} 在任期 {term} 中分票（各投自己一票）；按日志位置、数据版本、地址它排在前面，所以在下一个定时周期立即重新发起选举"
            )
        }
        VoteFromStranger { candidate } => {
            let c = n(candidate);
            say!(
                lang,
                "{w}refuses a vote from {c}: can not find peer (not a member)",
                "{w}拒绝来自 {c} 的投票：找不到这个节点（它不是集群成员）"
            )
        }
        VoteAnswered {
            from,
            vote_for: Some(v),
            term,
        } => {
            let (f, v) = (n(from), n(v));
            say!(
                lang,
                "{w}hears from {f}: it votes for {v} (term {term})",
                "{w}收到 {f} 的应答：它投给了 {v}（任期 {term}）"
            )
        }
        VoteAnswered {
            from,
            vote_for: None,
            term,
        } => {
            let f = n(from);
            say!(
                lang,
                "{w}hears from {f}: no vote (term {term})",
                "{w}收到 {f} 的应答：没有投票（任期 {term}）"
            )
        }
        LeaderDecided {
            leader,
            votes,
            majority,
        } => match ctx.node {
            Some((me, _)) if me == leader => say!(
                lang,
                "{w}decideLeader: {votes} votes for itself, majority {majority} → it becomes LEADER",
                "{w}decideLeader：自己得到 {votes} 票，多数为 {majority} → 成为领导者"
            ),
            _ => {
                let l = n(leader);
                let whose = match ctx.node {
                    Some((_, x)) => say!(lang, "{x}'s", " {x} "),
                    None => say!(lang, "its", "它"),
                };
                say!(
                    lang,
                    "{w}decideLeader: {l} has {votes} votes, majority {majority} → {l} is the leader in {whose} view",
                    "{w}decideLeader：{l} 得到 {votes} 票，多数为 {majority} → 在{whose}看来 {l} 是领导者"
                )
            }
        },
        SteppedDown { was, why } => {
            let why = step_down_reason(why, lang, ctx);
            // Chinese names the state in words (领导者, …), like the rest of the page.
            let was_zh = match was {
                crate::PeerState::Leader => "领导者",
                crate::PeerState::Follower => "跟随者",
                crate::PeerState::Candidate => "候选者",
            };
            say!(lang, "{w}steps down from {was}: {why}", "{w}不再是{was_zh}：{why}")
        }
        BeatSent { term, keys } => say!(
            lang,
            "{w}HeartBeat.sendBeat: a beat to every peer (term {term}, {keys} keys)",
            "{w}HeartBeat.sendBeat：向所有节点发送心跳（任期 {term}，{keys} 个键）"
        ),
        BeatNotSent { reason } => {
            let reason = core_words(reason, lang);
            say!(
                lang,
                "{w}cannot send its beat: {reason}",
                "{w}无法发送心跳：{reason}"
            )
        }
        BeatAccepted { leader, term } => {
            let l = n(leader);
            say!(
                lang,
                "{w}receivedBeat from {l} (term {term}): resets its leader due",
                "{w}receivedBeat：接受 {l} 的心跳（任期 {term}），重置 leaderDueMs"
            )
        }
        BeatRejected { from, reason } => {
            let f = n(from);
            say!(
                lang,
                "{w}rejects the beat of {f}: {reason}",
                "{w}拒绝 {f} 的心跳：{reason}"
            )
        }
        LeaderChanged {
            leader,
            previous: Some(p),
        } => {
            let (l, p) = (n(leader), n(p));
            say!(
                lang,
                "{w}makeLeader: now follows {l} (was {p})",
                "{w}makeLeader：现在跟随 {l}（之前是 {p}）"
            )
        }
        LeaderChanged {
            leader,
            previous: None,
        } => {
            let l = n(leader);
            say!(
                lang,
                "{w}makeLeader: now follows {l}",
                "{w}makeLeader：现在跟随 {l}"
            )
        }
        PeerMarkedFollower { peer } => {
            let p = n(peer);
            say!(
                lang,
                "{w}marks {p} FOLLOWER: its /peer failed",
                "{w}把 {p} 标记为跟随者：对它的 /peer 请求失败"
            )
        }
        RequestFailed { to, what, failure } => {
            let t = n(to);
            let what = request_name(what, lang);
            let failure = failure_words(failure, lang);
            say!(
                lang,
                "{wc}{what} to {t} failed: {failure}",
                "{wc}发往 {t} 的{what}请求失败：{failure}"
            )
        }
        SyncFetch { from, keys } => {
            let f = n(from);
            say!(
                lang,
                "{w}fetches {keys} newer keys from {f} (GET /raft/datum)",
                "{w}向 {f} 拉取 {keys} 个较新的键（GET /raft/datum）"
            )
        }
        DatumApplied {
            key: k,
            timestamp,
            from,
            term,
        } => {
            let (k, f) = (key(k), n(from));
            say!(
                lang,
                "{w}syncs {k} v{timestamp} from {f}; term now {term}",
                "{w}从 {f} 同步 {k} v{timestamp}；任期变为 {term}"
            )
        }
        DatumSkipped { key: k, reason } => {
            let k = key(k);
            let reason = core_words(reason, lang);
            say!(lang, "{w}skips {k}: {reason}", "{w}跳过 {k}：{reason}")
        }
        DeadKeyDeleted { key: k } => {
            let k = key(k);
            say!(
                lang,
                "{w}deletes {k}: the leader's beat did not list it (dead-key rule)",
                "{w}删除 {k}：领导者的心跳里没有它（死键规则）"
            )
        }
        PublishStarted {
            key: k,
            timestamp,
            term,
        } => {
            let k = key(k);
            let term = match ctx.term_step {
                Some(step) => say!(lang, "term +{step} = {term}", "任期 +{step} = {term}"),
                None => say!(lang, "term now {term}", "任期变为 {term}"),
            };
            say!(
                lang,
                "{w}writes {k} v{timestamp} as the leader, {term}, sends commits",
                "{w}作为领导者写入 {k} v{timestamp}，{term}，发出提交"
            )
        }
        Published { key: k, timestamp } => {
            let k = key(k);
            say!(
                lang,
                "{wc}a majority acknowledged {k} v{timestamp}",
                "{wc}多数节点确认了 {k} v{timestamp}"
            )
        }
        PublishFailed { key: k, reason } => {
            let k = key(k);
            say!(
                lang,
                "{wc}the write of {k} failed, and is not rolled back: {reason}",
                "{wc}写入 {k} 失败，且不会回滚：{reason}"
            )
        }
        Forwarded { key: k, to } => {
            let (k, t) = (key(k), n(to));
            say!(
                lang,
                "{w}forwards {k} to the leader {t}",
                "{w}把 {k} 转发给领导者 {t}"
            )
        }
        CommitApplied {
            key: k,
            timestamp,
            from,
            term,
        } => {
            let (k, f) = (key(k), n(from));
            say!(
                lang,
                "{w}applies the commit of {k} v{timestamp} from {f}; term now {term}",
                "{w}应用来自 {f} 的 {k} v{timestamp}；任期变为 {term}"
            )
        }
        CommitRejected {
            key: k,
            from,
            reason,
        } => {
            let (k, f) = (key(k), n(from));
            say!(
                lang,
                "{w}rejects {k} from {f}: {reason}",
                "{w}拒绝来自 {f} 的 {k}：{reason}"
            )
        }
        Deleted { key: k, by } => {
            let (k, b) = (key(k), n(by));
            say!(lang, "{w}deletes {k} (leader {b})", "{w}删除 {k}（领导者 {b}）")
        }
    }
}

/// Why a node stepped down, as a clause ("it voted for A in the higher term 3").
pub fn step_down_reason(why: &StepDown, lang: Lang, ctx: &Ctx<'_>) -> String {
    match why {
        StepDown::GrantedVote { candidate, term } => {
            let c = (ctx.name)(candidate);
            say!(
                lang,
                "it voted for {c} in the higher term {term}",
                "它在更高的任期 {term} 投票给了 {c}"
            )
        }
        StepDown::AcceptedBeat { leader, term } => {
            let l = (ctx.name)(leader);
            say!(
                lang,
                "it accepted a beat from {l} (term {term})",
                "它接受了 {l} 的心跳（任期 {term}）"
            )
        }
        StepDown::RefusedStaleCandidate { candidate, term } => {
            let c = (ctx.name)(candidate);
            say!(
                lang,
                "it refused {c}, whose data is older, but took its higher term {term}",
                "它拒绝了数据更旧的 {c}，但采用了它更高的任期 {term}"
            )
        }
        StepDown::LostMajority { heard, majority } => say!(
            lang,
            "as leader it heard from only {heard} of the {majority} members a majority needs (itself included) for a leader timeout",
            "作为 leader，它在一个 leader 超时内只收到了 {heard} 个成员的应答（含自己），不足多数派所需的 {majority} 个"
        ),
    }
}

/// The name of a request in `RequestFailed::what`.
fn request_name(what: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return what.to_string();
    }
    match what {
        "vote" => "投票",
        "beat" => "心跳",
        "commit" => "提交",
        "delete commit" => "删除提交",
        "datum fetch" => "拉取数据",
        "forward" => "转发",
        "forward delete" => "转发删除",
        other => other,
    }
    .to_string()
}

/// How a request failed (`Failure`'s text, or the core's "unexpected answer"). A status failure
/// carries the body a Java node answered with, which stays as it is.
pub fn failure_words(failure: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return failure.to_string();
    }
    if let Some(m) = failure.strip_prefix("malformed answer: ") {
        return format!("应答格式错误：{m}");
    }
    match failure {
        "timed out" => "超时",
        "connection refused" => "连接被拒绝",
        "unexpected answer" => "意外的应答",
        other => other,
    }
    .to_string()
}

/// The reasons the core itself words (a skipped datum, a beat it could not build).
fn core_words(reason: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return reason.to_string();
    }
    if let Some(k) = reason
        .strip_prefix("key ")
        .and_then(|r| r.strip_suffix(" has no brief form"))
    {
        return format!("键 {k} 没有简写形式");
    }
    match reason {
        "not newer than the local copy" => "不比本地的副本新",
        "empty or untyped datum" => "数据为空或没有类型",
        other => other,
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PeerState;
    use alloc::vec;
    use alloc::vec::Vec;

    /// Which variant `e` is. Exhaustive, so that a new variant does not compile until it is
    /// numbered here; [`samples`] must then cover it, or `every_variant_has_both_sentences` fails.
    fn variant(e: &Event) -> usize {
        use Event::*;
        match e {
            ElectionStarted { .. } => 0,
            VoteGranted { .. } => 1,
            VoteRefused { .. } => 2,
            VoteFromStranger { .. } => 3,
            VoteAnswered { .. } => 4,
            VoteRefusedStaleData { .. } => 25,
            VoteRefusedStaleLog { .. } => 26,
            SplitVote { .. } => 27,
            LeaderDecided { .. } => 5,
            SteppedDown { .. } => 6,
            BeatSent { .. } => 7,
            BeatNotSent { .. } => 8,
            BeatAccepted { .. } => 9,
            BeatRejected { .. } => 10,
            LeaderChanged { .. } => 11,
            PeerMarkedFollower { .. } => 12,
            RequestFailed { .. } => 13,
            SyncFetch { .. } => 14,
            DatumApplied { .. } => 15,
            DatumSkipped { .. } => 16,
            DeadKeyDeleted { .. } => 17,
            PublishStarted { .. } => 18,
            Published { .. } => 19,
            PublishFailed { .. } => 20,
            Forwarded { .. } => 21,
            CommitApplied { .. } => 22,
            CommitRejected { .. } => 23,
            Deleted { .. } => 24,
        }
    }
    const VARIANTS: usize = 28;

    /// Nacos' own error texts are quoted verbatim; the samples use a stand-in without letters so
    /// that the test sees only the catalogue's words.
    const NACOS_TEXT: &str = "«…»";

    /// Every variant, with every value of the fields the core fills with its own words (request
    /// names, failures, skip reasons) as the core writes them.
    fn samples() -> Vec<Event> {
        use Event::*;
        let s = |x: &str| x.to_string();
        let mut v = vec![
            ElectionStarted { term: 3 },
            VoteGranted {
                candidate: s("A"),
                term: 3,
            },
            VoteRefused {
                candidate: s("A"),
                candidate_term: 3,
                own_term: 3,
            },
            VoteFromStranger {
                candidate: s("127.0.0.9:8848"),
            },
            VoteAnswered {
                from: s("B"),
                vote_for: Some(s("A")),
                term: 3,
            },
            VoteAnswered {
                from: s("B"),
                vote_for: None,
                term: 3,
            },
            LeaderDecided {
                leader: s("A"),
                votes: 3,
                majority: 3,
            },
            LeaderDecided {
                leader: s("C"),
                votes: 3,
                majority: 3,
            },
            SteppedDown {
                was: PeerState::Leader,
                why: StepDown::GrantedVote {
                    candidate: s("B"),
                    term: 4,
                },
            },
            SteppedDown {
                was: PeerState::Candidate,
                why: StepDown::AcceptedBeat {
                    leader: s("B"),
                    term: 4,
                },
            },
            SteppedDown {
                was: PeerState::Leader,
                why: StepDown::RefusedStaleCandidate {
                    candidate: s("B"),
                    term: 4,
                },
            },
            SteppedDown {
                was: PeerState::Leader,
                why: StepDown::LostMajority {
                    heard: 1,
                    majority: 2,
                },
            },
            VoteRefusedStaleData {
                candidate: s("B"),
                candidate_version: 3,
                own_version: 5,
            },
            VoteRefusedStaleLog {
                candidate: s("B"),
                candidate_at: (3, 4),
                own_at: (3, 5),
            },
            SplitVote {
                candidate: s("B"),
                term: 4,
            },
            BeatSent { term: 3, keys: 2 },
            BeatNotSent {
                reason: format!("key {} has no brief form", "0001"),
            },
            BeatAccepted {
                leader: s("A"),
                term: 3,
            },
            BeatRejected {
                from: s("A"),
                reason: s(NACOS_TEXT),
            },
            LeaderChanged {
                leader: s("A"),
                previous: Some(s("B")),
            },
            LeaderChanged {
                leader: s("A"),
                previous: None,
            },
            PeerMarkedFollower { peer: s("B") },
            SyncFetch {
                from: s("A"),
                keys: 50,
            },
            DatumApplied {
                key: s("0001"),
                timestamp: 2,
                from: s("A"),
                term: 301,
            },
            DeadKeyDeleted { key: s("0001") },
            PublishStarted {
                key: s("0001"),
                timestamp: 2,
                term: 301,
            },
            Published {
                key: s("0001"),
                timestamp: 2,
            },
            PublishFailed {
                key: s("0001"),
                reason: s(NACOS_TEXT),
            },
            Forwarded {
                key: s("0001"),
                to: s("A"),
            },
            CommitApplied {
                key: s("0001"),
                timestamp: 2,
                from: s("A"),
                term: 301,
            },
            CommitRejected {
                key: s("0001"),
                from: s("A"),
                reason: s(NACOS_TEXT),
            },
            Deleted {
                key: s("0001"),
                by: s("A"),
            },
        ];
        // The values of `RequestFailed::what` and the failures the core words itself.
        for what in [
            "vote",
            "beat",
            "commit",
            "delete commit",
            "datum fetch",
            "forward",
            "forward delete",
        ] {
            for failure in [
                s("timed out"),
                s("connection refused"),
                s("unexpected answer"),
                format!("malformed answer: {NACOS_TEXT}"),
                format!("500: {NACOS_TEXT}"),
            ] {
                v.push(RequestFailed {
                    to: s("B"),
                    what: what.into(),
                    failure,
                });
            }
        }
        for reason in ["not newer than the local copy", "empty or untyped datum"] {
            v.push(DatumSkipped {
                key: s("0001"),
                reason: reason.into(),
            });
        }
        v
    }

    fn ctxs() -> [Ctx<'static>; 3] {
        [
            Ctx::PLAIN,
            Ctx::PLAIN.at("A", "A"),
            Ctx {
                term_step: Some(100),
                ..Ctx::PLAIN.at("B", "B")
            },
        ]
    }

    fn is_cjk(c: char) -> bool {
        ('\u{4e00}'..='\u{9fff}').contains(&c)
    }

    #[test]
    fn every_variant_has_both_sentences() {
        let samples = samples();
        let mut seen = [false; VARIANTS];
        for e in &samples {
            seen[variant(e)] = true;
            for ctx in ctxs() {
                let en = event_sentence(e, Lang::En, &ctx);
                let zh = event_sentence(e, Lang::Zh, &ctx);
                assert!(!en.trim().is_empty() && !zh.trim().is_empty(), "{e:?}");
                assert!(!en.chars().any(is_cjk), "{en}");
                assert!(zh.chars().any(is_cjk), "{zh}");
                assert_ne!(en, zh);
            }
        }
        let missing: Vec<usize> = (0..VARIANTS).filter(|i| !seen[*i]).collect();
        assert!(missing.is_empty(), "variants without a sample: {missing:?}");
    }

    /// The words the Chinese sentences keep in Latin letters: the Java names, the wire's state
    /// words and paths, and "leader" (as Chinese Nacos texts say). Single letters are node names
    /// and the `v` before a datum's timestamp.
    const KEPT: [&str; 13] = [
        "MasterElection.sendVote",
        "receivedVote",
        "decideLeader",
        "HeartBeat.sendBeat",
        "receivedBeat",
        "makeLeader",
        "leaderDueMs",
        "GET /raft/datum",
        "/peer",
        "LEADER",
        "FOLLOWER",
        "CANDIDATE",
        "leader",
    ];

    #[test]
    fn chinese_sentences_have_no_english_words_left() {
        for e in samples() {
            for ctx in ctxs() {
                let mut zh = event_sentence(&e, Lang::Zh, &ctx);
                for k in KEPT {
                    zh = zh.replace(k, " ");
                }
                let words: Vec<&str> = zh
                    .split(|c: char| !c.is_ascii_alphabetic())
                    .filter(|w| w.len() > 1)
                    .collect();
                assert!(
                    words.is_empty(),
                    "{words:?} in {}",
                    event_sentence(&e, Lang::Zh, &ctx)
                );
            }
        }
    }

    #[test]
    fn sentences_name_the_node_and_its_peers() {
        fn letter(addr: &str) -> String {
            match addr {
                "127.0.0.1:8848" => "A".into(),
                "127.0.0.1:8849" => "B".into(),
                other => other.into(),
            }
        }
        let page = Ctx {
            name: letter,
            ..Ctx::PLAIN
        };
        let e = Event::VoteRefused {
            candidate: "127.0.0.1:8848".into(),
            candidate_term: 3,
            own_term: 3,
        };
        let b = page.at("127.0.0.1:8849", "B");
        assert_eq!(
            event_sentence(&e, Lang::En, &b),
            "B refuses the vote of A: term 3 is not above 3"
        );
        assert_eq!(
            event_sentence(&e, Lang::Zh, &b),
            "B 拒绝了 A 的投票请求：任期 3 不大于自己的 3"
        );
        // Whether the winner is the node itself is decided on addresses, not on names.
        let won = Event::LeaderDecided {
            leader: "127.0.0.1:8848".into(),
            votes: 3,
            majority: 3,
        };
        assert_eq!(
            event_sentence(&won, Lang::En, &page.at("127.0.0.1:8848", "A")),
            "A decideLeader: 3 votes for itself, majority 3 → it becomes LEADER"
        );
        assert_eq!(
            event_sentence(&won, Lang::En, &b),
            "B decideLeader: A has 3 votes, majority 3 → A is the leader in B's view"
        );
        assert_eq!(
            event_sentence(&e, Lang::En, &Ctx::PLAIN),
            "refuses the vote of 127.0.0.1:8848: term 3 is not above 3"
        );
        assert_eq!(
            e.to_string(),
            event_sentence(&e, Lang::En, &Ctx::PLAIN),
            "Display is the plain English sentence"
        );
    }

    #[test]
    fn the_term_step_of_a_write_comes_from_the_reader() {
        let e = Event::PublishStarted {
            key: "k".into(),
            timestamp: 2,
            term: 13,
        };
        let ten = Ctx {
            term_step: Some(10),
            ..Ctx::PLAIN
        };
        assert_eq!(
            event_sentence(&e, Lang::En, &ten),
            "writes k v2 as the leader, term +10 = 13, sends commits"
        );
        assert!(event_sentence(&e, Lang::Zh, &ten).contains("任期 +10 = 13"));
        // Unknown (a log line): no step is made up.
        assert_eq!(
            e.to_string(),
            "writes k v2 as the leader, term now 13, sends commits"
        );
    }

    #[test]
    fn tags_round_trip_and_default_to_english() {
        for l in Lang::ALL {
            assert_eq!(Lang::from_tag(l.tag()), l);
            assert_eq!(l.other().other(), l);
            assert_ne!(l.other(), l);
        }
        assert_eq!(Lang::from_tag("zh-TW"), Lang::Zh);
        assert_eq!(Lang::from_tag("ZH"), Lang::Zh);
        assert_eq!(Lang::from_tag("de-DE"), Lang::En);
        assert_eq!(Lang::from_tag("z"), Lang::En);
        assert_eq!(Lang::from_tag(""), Lang::En);
    }
}
