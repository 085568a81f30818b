//! What the page says to someone meeting Nacos' Raft for the first time (issue #11): the live
//! one-line caption under the ring, the headline naming every node that believes it leads, the
//! scenario chapters with their closing "what you saw / try next", and the violation details in
//! the page's language. Pure functions of the simulator, tested on the host; `app::teach_view`
//! renders them. The texts are in [`texts`], one block of their own, both languages side by side.

pub mod links;
pub mod texts;
pub mod values;

use crate::describe::{letter, short_key};
use crate::i18n::Lang;
use crate::model::{MarkKind, World};
use nacos_raft_core::sim::{Action, Sim, TimedAction, Violation, ViolationKind};
use nacos_raft_core::PeerState;
pub use texts::{explain_text, story_end, Explain, T};

/// One sentence in `lang`, its two languages written next to each other.
macro_rules! say {
    ($lang:expr, $en:literal, $zh:literal) => {
        match $lang {
            Lang::En => format!($en),
            Lang::Zh => format!($zh),
        }
    };
}

/// The separator of two clauses of one line: `;` in English, `；` in Chinese.
fn semi(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "; ",
        Lang::Zh => "；",
    }
}

/// A list of names: `A, B` / `A、B`.
fn names(lang: Lang, l: &[String]) -> String {
    l.join(match lang {
        Lang::En => ", ",
        Lang::Zh => "、",
    })
}

/// Every node that believes it leads, with its term, lowest index first.
pub fn leaders(s: &Sim) -> Vec<(usize, u64)> {
    (0..s.len())
        .filter(|i| s.state(*i) == Some(PeerState::Leader))
        .map(|i| (i, s.node(i).map(|n| n.local().term).unwrap_or(0)))
        .collect()
}

/// The groups of nodes that can talk both ways (connected components of the links open in both
/// directions), each sorted; one group when the network is whole.
pub fn groups(s: &Sim) -> Vec<Vec<usize>> {
    let n = s.len();
    let net = s.net();
    let mut group: Vec<Option<usize>> = vec![None; n];
    let mut out: Vec<Vec<usize>> = Vec::new();
    for start in 0..n {
        if group[start].is_some() {
            continue;
        }
        let g = out.len();
        let mut members = vec![start];
        group[start] = Some(g);
        let mut i = 0;
        while i < members.len() {
            let a = members[i];
            for (b, gb) in group.iter_mut().enumerate() {
                if gb.is_none() && !net.is_cut(a, b) && !net.is_cut(b, a) {
                    *gb = Some(g);
                    members.push(b);
                }
            }
            i += 1;
        }
        nacos_raft_core::sort::sort(&mut members);
        out.push(members);
    }
    out
}

/// "the network is split: A,B | C,D,E", or `None` when every node reaches every other.
pub fn split_text(lang: Lang, s: &Sim) -> Option<String> {
    let g = groups(s);
    if g.len() < 2 {
        return None;
    }
    let parts: Vec<String> = g
        .iter()
        .map(|m| m.iter().map(|i| letter(*i)).collect::<Vec<_>>().join(","))
        .collect();
    let p = parts.join(" | ");
    Some(say!(lang, "the network is split: {p}", "网络被分割：{p}"))
}

/// The headline: who believes it leads. "LEADER A · term 1", "two leaders: C term 301, D term
/// 2", "no leader".
pub fn headline(lang: Lang, s: &Sim) -> String {
    let l = leaders(s);
    match l.as_slice() {
        [] => T::no_leader(lang).to_string(),
        [(i, t)] => {
            let x = letter(*i);
            say!(lang, "LEADER {x} · term {t}", "领导者 {x} · 任期 {t}")
        }
        many => {
            let k = many.len();
            let list: Vec<String> = many
                .iter()
                .map(|(i, t)| {
                    let x = letter(*i);
                    say!(lang, "{x} term {t}", "{x} 任期 {t}")
                })
                .collect();
            let list = names(lang, &list);
            match (lang, k) {
                (Lang::En, 2) => format!("two leaders: {list}"),
                (Lang::En, _) => format!("{k} leaders: {list}"),
                (Lang::Zh, _) => format!("{k} 个领导者：{list}"),
            }
        }
    }
}

/// The live caption: what is happening now, in one line.
pub fn caption(lang: Lang, s: &Sim) -> String {
    let up: Vec<usize> = (0..s.len()).filter(|i| s.is_up(*i)).collect();
    if up.is_empty() {
        return T::all_down(lang).to_string();
    }
    let mut parts: Vec<String> = Vec::new();
    let l = leaders(s);
    let candidates: Vec<usize> = up
        .iter()
        .copied()
        .filter(|i| s.state(*i) == Some(PeerState::Candidate))
        .collect();
    if l.len() >= 2 {
        parts.push(headline(lang, s));
    } else if let Some(c) = candidates
        .iter()
        .copied()
        .max_by_key(|c| (votes(s, *c).0, usize::MAX - c))
    {
        let (have, need) = votes(s, c);
        let term = s.node(c).map(|n| n.local().term).unwrap_or(0);
        let x = letter(c);
        parts.push(say!(
            lang,
            "{x} is a candidate for term {term} and has {have} of {need} votes",
            "{x} 是任期 {term} 的候选者，已有 {have} 票，需要 {need} 票"
        ));
    } else if let [(i, t)] = l.as_slice() {
        let x = letter(*i);
        let keys = s.node(*i).map(|n| n.datum_count()).unwrap_or(0);
        parts.push(say!(
            lang,
            "{x} leads in term {t}; its beats list {keys} keys",
            "{x} 是任期 {t} 的领导者，它的心跳列出 {keys} 个键"
        ));
    } else {
        parts.push(T::waiting(lang).to_string());
    }
    let down: Vec<String> = (0..s.len()).filter(|i| !s.is_up(*i)).map(letter).collect();
    if !down.is_empty() {
        let d = names(lang, &down);
        parts.push(say!(lang, "{d} down", "{d} 宕机"));
    }
    if let Some(split) = split_text(lang, s) {
        parts.push(split);
    }
    parts.join(semi(lang))
}

/// The votes candidate `c` holds as it sees them, and the majority it needs.
fn votes(s: &Sim, c: usize) -> (usize, usize) {
    match s.node(c) {
        Some(n) => (n.voters_for(n.me()).count(), n.majority()),
        None => (0, 0),
    }
}

/// What starts a chapter of a story.
#[derive(Clone, Debug, PartialEq)]
pub enum Beat {
    /// The story begins.
    Start,
    /// One of the story's actions.
    Act(Action),
    /// A node became LEADER.
    Leader {
        /// Which.
        node: usize,
        /// In which term.
        term: u64,
    },
    /// The safety monitor flagged a violation.
    Violation(ViolationKind),
}

/// A chapter of a story: from `at_ms` to the next one's; several beats at the same moment make
/// one chapter.
#[derive(Clone, Debug, PartialEq)]
pub struct Chapter {
    /// Virtual ms it starts at.
    pub at_ms: u64,
    /// What happens.
    pub beats: Vec<Beat>,
}

/// The chapters of a story ending at `end_ms`: its start, each of its actions, each new leader
/// and each violation, in time order (the world must be simulated to `end_ms`).
pub fn chapters(w: &World, actions: &[TimedAction], end_ms: u64) -> Vec<Chapter> {
    let mut beats: Vec<(u64, Beat)> = vec![(0, Beat::Start)];
    beats.extend(
        actions
            .iter()
            .filter(|a| a.at_ms <= end_ms)
            .map(|a| (a.at_ms, Beat::Act(a.action.clone()))),
    );
    for m in w.marks().iter().filter(|m| m.at_ms <= end_ms) {
        match (&m.kind, m.node) {
            (MarkKind::Leader { term }, Some(node)) => {
                beats.push((m.at_ms, Beat::Leader { node, term: *term }))
            }
            (MarkKind::Violation(k), _) => beats.push((m.at_ms, Beat::Violation(*k))),
            _ => {}
        }
    }
    // Stable: at one moment, actions before what they cause.
    nacos_raft_core::sort::sort_by_key(&mut beats, |b| b.0);
    let mut out: Vec<Chapter> = Vec::new();
    for (at, b) in beats {
        match out.last_mut() {
            Some(c) if c.at_ms == at => {
                if !c.beats.contains(&b) {
                    c.beats.push(b)
                }
            }
            _ => out.push(Chapter {
                at_ms: at,
                beats: vec![b],
            }),
        }
    }
    out
}

/// The story's own actions, as its chapters tell them (the log words them as the story's, not
/// as "you …").
pub fn story_actions(ch: &[Chapter]) -> Vec<TimedAction> {
    ch.iter()
        .flat_map(|c| {
            c.beats.iter().filter_map(move |b| match b {
                Beat::Act(a) => Some(TimedAction {
                    at_ms: c.at_ms,
                    action: a.clone(),
                }),
                _ => None,
            })
        })
        .collect()
}

/// The index of the chapter playing at `now` (the last one started).
pub fn chapter_at(ch: &[Chapter], now: u64) -> usize {
    ch.iter().rposition(|c| c.at_ms <= now).unwrap_or(0)
}

/// A chapter's beats as one sentence.
pub fn chapter_text(lang: Lang, c: &Chapter, title: &str) -> String {
    let parts: Vec<String> = c.beats.iter().map(|b| beat_text(lang, b, title)).collect();
    parts.join(semi(lang))
}

fn beat_text(lang: Lang, b: &Beat, title: &str) -> String {
    match b {
        Beat::Start => say!(lang, "the story begins: {title}", "故事开始：{title}"),
        Beat::Act(a) => story_action(lang, a),
        Beat::Leader { node, term } => {
            let x = letter(*node);
            say!(
                lang,
                "{x} becomes LEADER in term {term}",
                "{x} 成为任期 {term} 的领导者"
            )
        }
        Beat::Violation(k) => {
            let t = crate::describe::violation_title(lang, *k);
            say!(lang, "the monitor flags: {t}", "监视器报告：{t}")
        }
    }
}

/// A story's action, told as what happens (not as "you ...": the story did it).
pub fn story_action(lang: Lang, a: &Action) -> String {
    match a {
        Action::Crash { node } => {
            let x = letter(*node);
            say!(lang, "{x} crashes", "{x} 宕机")
        }
        Action::Restart { node } => {
            let x = letter(*node);
            say!(lang, "{x} restarts from its disk", "{x} 从磁盘重启")
        }
        Action::Timeout { node } => {
            let x = letter(*node);
            say!(
                lang,
                "{x}'s leader due runs out now",
                "{x} 的 leaderDueMs 立即到期"
            )
        }
        Action::Isolate { node } => {
            let x = letter(*node);
            say!(lang, "{x} is cut off from the others", "{x} 与其他节点断开")
        }
        Action::Partition { groups } => {
            let mut ids: Vec<u8> = groups.clone();
            nacos_raft_core::sort::sort(&mut ids);
            ids.dedup();
            let p = ids
                .iter()
                .map(|g| {
                    groups
                        .iter()
                        .enumerate()
                        .filter(|(_, x)| *x == g)
                        .map(|(i, _)| letter(i))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .collect::<Vec<_>>()
                .join(" | ");
            say!(lang, "the network splits: {p}", "网络分割：{p}")
        }
        Action::HealAll => T::heal_all(lang).to_string(),
        Action::Put { node, key, .. } => {
            let (x, k) = (letter(*node), short_key(key));
            say!(
                lang,
                "a client writes {k} at {x}",
                "客户端在 {x} 上写入 {k}"
            )
        }
        Action::Load { node, count, .. } => {
            let x = letter(*node);
            say!(
                lang,
                "clients write {count} keys at {x}",
                "客户端在 {x} 上写入 {count} 个键"
            )
        }
        other => crate::describe::action(lang, other),
    }
}

/// Replaces every node address in `t` by its letter.
fn lettered(t: &str, nodes: usize) -> String {
    crate::describe::letters_for_addresses(t, nodes)
}

/// A violation's detail in `lang`. The core words it in English, naming nodes by address; the
/// page reads its values back and says it again (an unknown wording stays English, lettered).
pub fn violation_detail(lang: Lang, v: &Violation, nodes: usize) -> String {
    let en = lettered(&v.detail, nodes);
    if lang == Lang::En {
        // The title already says "Two leaders at once": the list is enough.
        return match (v.kind, en.strip_prefix("LEADER at once: ")) {
            (ViolationKind::TwoLeaders, Some(list)) => format!("{list} both believe they lead"),
            _ => en,
        };
    }
    zh_detail(v, &en).unwrap_or(en)
}

fn num_after<'a>(t: &'a str, before: &str) -> Option<&'a str> {
    let rest = t.split_once(before)?.1;
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

fn zh_detail(v: &Violation, en: &str) -> Option<String> {
    let n = |k: usize| v.nodes.get(k).map(|i| letter(*i));
    Some(match v.kind {
        ViolationKind::TermDecreased => {
            let x = n(0)?;
            let before = num_after(en, " term ")?;
            let after = num_after(en, "→ ")?;
            if en.contains("by beat sync") {
                format!(
                    "{x} 的任期从 {before} 降到 {after}：心跳同步采用了它所应答的心跳中更旧的任期"
                )
            } else {
                format!("{x} 的任期从 {before} 降到 {after}（不是心跳同步造成的）")
            }
        }
        ViolationKind::TwoLeaders => {
            let list = en.strip_prefix("LEADER at once: ")?;
            let items: Vec<String> = list
                .split("), ")
                .map(|p| {
                    let (x, t) = p.split_once(" (term ")?;
                    Some(format!("{x}（任期 {}）", t.trim_end_matches(')')))
                })
                .collect::<Option<_>>()?;
            format!("同时是领导者：{}", items.join("、"))
        }
        ViolationKind::TwoLeadersSameTerm => {
            let (a, b) = (n(0)?, n(1)?);
            let t = num_after(en, "in term ")?;
            format!("{a} 和 {b} 在任期 {t} 中都是领导者")
        }
        ViolationKind::LostAckedWrite => {
            let (key, rest) = en.split_once(" (acknowledged at ")?;
            let at = num_after(rest, "")?;
            let (_, via) = rest.split_once(" ms via ")?;
            let (by, rest) = via.split_once(')')?;
            let leader = rest.rsplit(' ').next()?;
            let k = short_key(key);
            format!("{k}（{at} ms 时经由 {by} 确认）在领导者 {leader} 上不见了")
        }
        ViolationKind::StaleLeader => {
            let x = n(0)?;
            let (_, rest) = en.split_once(" has believed in ")?;
            let (l, rest) = rest.split_once(" since ")?;
            let since = num_after(rest, "")?;
            format!("{x} 从 {since} ms 起一直认定 {l} 是领导者，但 {l} 并不是领导者")
        }
        ViolationKind::NotConverged => {
            let (_, rest) = en.split_once("after the last change, ")?;
            let (list, leader) = rest.split_once(" still differ from the leader ")?;
            let items: Vec<String> = list
                .split("), ")
                .map(|p| {
                    let (x, d) = p.split_once(" (")?;
                    let d = num_after(d, "")?;
                    Some(format!("{x}（{d} 个键不同）"))
                })
                .collect::<Option<_>>()?;
            format!(
                "最后一次变化后又过了三个平静的心跳周期，{}仍与领导者 {leader} 不一致",
                items.join("、")
            )
        }
    })
}

#[cfg(test)]
mod tests;
