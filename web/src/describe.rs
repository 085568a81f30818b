//! Plain-language sentences, in English and 简体中文, for what the simulator records: crashes,
//! client operations, a person's actions, violations and messages, each with its two languages
//! side by side. The protocol's decisions are worded by the core's catalogue
//! ([`nacos_raft_core::text`], the same sentences the native node logs); this module names the
//! nodes in them by letter (A = 127.0.0.1:8848, B = :8849, ...) and shortens the keys. The Java
//! method names (MasterElection, sendVote, receivedVote, decideLeader, HeartBeat, receivedBeat,
//! makeLeader) are kept in both languages, as in the article the project started from.

use crate::i18n::{Lang, Texts};
use nacos_raft_core::sim::{Action, Fate, Happening, Sim, TimedAction, ViolationKind};
use nacos_raft_core::text::{self, Ctx};
use nacos_raft_core::{Event, MsgKind, PeerState};

/// One sentence in `lang`, its two languages written next to each other.
macro_rules! say {
    ($lang:expr, $en:literal, $zh:literal) => {
        match $lang {
            Lang::En => format!($en),
            Lang::Zh => format!($zh),
        }
    };
}

/// One of two fixed texts.
fn pick(lang: Lang, en: &'static str, zh: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

/// The letter of node `i` (A, B, ... then A1, B1 ... past Z).
pub fn letter(i: usize) -> String {
    let c = (b'A' + (i % 26) as u8) as char;
    if i < 26 {
        c.to_string()
    } else {
        format!("{c}{}", i / 26)
    }
}

/// The node index of a simulator address (`127.0.0.1:8848` is 0).
pub fn index_of(addr: &str) -> Option<usize> {
    let port: usize = addr.strip_prefix("127.0.0.1:")?.parse().ok()?;
    port.checked_sub(8848)
}

/// A node's letter from its address (the address itself if it is not a simulator address).
pub fn name(addr: &str) -> String {
    index_of(addr)
        .map(letter)
        .unwrap_or_else(|| addr.to_string())
}

/// Replaces every simulator address in `text` by its letter.
pub fn letters_for_addresses(text: &str, nodes: usize) -> String {
    let mut t = text.to_string();
    for i in (0..nodes).rev() {
        t = t.replace(&nacos_raft_core::sim::address(i), &letter(i));
    }
    t
}

/// A key shortened for sentences: the brief form, with the default namespace and group elided.
pub fn short_key(key: &str) -> String {
    let brief = nacos_raft_core::key::brief(key).unwrap_or(key);
    brief.replacen("public##DEFAULT_GROUP@@", "…@@", 1)
}

/// A state's word.
pub fn state_word(lang: Lang, s: Option<PeerState>) -> &'static str {
    let tr = lang.tr();
    match s {
        Some(PeerState::Leader) => tr.state_leader,
        Some(PeerState::Follower) => tr.state_follower,
        Some(PeerState::Candidate) => tr.state_candidate,
        None => tr.state_down,
    }
}

/// The kind of filter an event falls under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topic {
    /// Votes, leaders, steps down.
    Election,
    /// Routine heartbeats.
    Beat,
    /// Writes, commits, sync.
    Data,
    /// Failures, crashes, people's actions.
    Fault,
}

/// How an event should look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Routine.
    Info,
    /// Progress (a vote granted, a leader, a write acknowledged).
    Good,
    /// A refusal, failure or loss.
    Bad,
}

impl Tone {
    /// The CSS class of the tone.
    pub fn as_str(self) -> &'static str {
        match self {
            Tone::Info => "info",
            Tone::Good => "good",
            Tone::Bad => "bad",
        }
    }
}

/// Topic and tone of a happening.
pub fn classify(h: &Happening) -> (Topic, Tone) {
    use Event::*;
    match h {
        Happening::Protocol(e) => match e {
            ElectionStarted { .. } | VoteAnswered { .. } | SplitVote { .. } => {
                (Topic::Election, Tone::Info)
            }
            VoteGranted { .. } | LeaderDecided { .. } | LeaderChanged { .. } => {
                (Topic::Election, Tone::Good)
            }
            VoteRefused { .. }
            | VoteRefusedStaleData { .. }
            | VoteRefusedStaleLog { .. }
            | VoteFromStranger { .. } => (Topic::Election, Tone::Bad),
            SteppedDown { .. } | PeerMarkedFollower { .. } => (Topic::Election, Tone::Info),
            BeatSent { .. } | BeatAccepted { .. } => (Topic::Beat, Tone::Info),
            BeatNotSent { .. } | BeatRejected { .. } | RequestFailed { .. } => {
                (Topic::Fault, Tone::Bad)
            }
            SyncFetch { .. } | DatumApplied { .. } | DatumSkipped { .. } => {
                (Topic::Data, Tone::Info)
            }
            DeadKeyDeleted { .. } => (Topic::Data, Tone::Bad),
            PublishStarted { .. } | Forwarded { .. } | CommitApplied { .. } | Deleted { .. } => {
                (Topic::Data, Tone::Info)
            }
            Published { .. } => (Topic::Data, Tone::Good),
            PublishFailed { .. } | CommitRejected { .. } => (Topic::Data, Tone::Bad),
        },
        Happening::Crashed => (Topic::Fault, Tone::Bad),
        Happening::Restarted => (Topic::Fault, Tone::Info),
        Happening::Submitted { .. } => (Topic::Data, Tone::Info),
        Happening::Completed { error, .. } => (
            Topic::Data,
            if error.is_some() {
                Tone::Bad
            } else {
                Tone::Good
            },
        ),
        Happening::Acted(_) => (Topic::Fault, Tone::Info),
    }
}

/// One row of the event log.
#[derive(Clone, Copy, Debug)]
pub struct LogRow<'a> {
    /// When, virtual ms.
    pub at_ms: u64,
    /// The node it happened at; `None` for an action on the whole network.
    pub node: Option<usize>,
    /// How it looks.
    pub tone: Tone,
    what: LogWhat<'a>,
}

#[derive(Clone, Copy, Debug)]
enum LogWhat<'a> {
    Happening(&'a Happening),
    Action(&'a Action),
}

impl LogRow<'_> {
    /// The action the row tells of, if it is one.
    pub fn action(&self) -> Option<&Action> {
        match self.what {
            LogWhat::Action(a) | LogWhat::Happening(Happening::Acted(a)) => Some(a),
            LogWhat::Happening(_) => None,
        }
    }

    /// The row's sentence (`term_step`: the run's `Config::term_step`).
    pub fn text(&self, lang: Lang, term_step: u64) -> String {
        match (self.what, self.node) {
            (LogWhat::Happening(h), Some(n)) => happening(lang, n, h, term_step),
            (LogWhat::Happening(_), None) => String::new(),
            (LogWhat::Action(a), _) => action(lang, a),
        }
    }
}

/// The event log: the newest `max` rows whose topic `keep` keeps, newest first. The rows are the
/// simulator's events (protocol decisions, crashes, client operations, and the actions on one
/// node, which it records as events of that node) merged with the actions that concern no single
/// node (faults).
pub fn log(s: &Sim, max: usize, keep: impl Fn(Topic) -> bool) -> Vec<LogRow<'_>> {
    let actions: Vec<_> = s
        .actions()
        .iter()
        .filter(|a| a.action.node().is_none())
        .collect();
    let mut ai = actions.len();
    let mut rows = Vec::new();
    let keep_actions = keep(Topic::Fault);
    fn action_row(a: &TimedAction) -> LogRow<'_> {
        LogRow {
            at_ms: a.at_ms,
            node: None,
            tone: Tone::Info,
            what: LogWhat::Action(&a.action),
        }
    }
    for e in s.events().iter().rev() {
        if rows.len() >= max {
            break;
        }
        while ai > 0 && actions[ai - 1].at_ms > e.at_ms {
            ai -= 1;
            if keep_actions {
                rows.push(action_row(actions[ai]));
            }
        }
        let (topic, tone) = classify(&e.what);
        if keep(topic) {
            rows.push(LogRow {
                at_ms: e.at_ms,
                node: Some(e.node),
                tone,
                what: LogWhat::Happening(&e.what),
            });
        }
    }
    while keep_actions && ai > 0 && rows.len() < max {
        ai -= 1;
        rows.push(action_row(actions[ai]));
    }
    rows.truncate(max);
    rows
}

/// What happened at node `node`, as one sentence that names the node first. `term_step` is the
/// run's `Config::term_step` (a write says "term +100 = 301").
pub fn happening(lang: Lang, node: usize, h: &Happening, term_step: u64) -> String {
    let x = letter(node);
    match h {
        Happening::Protocol(e) => event(lang, node, e, term_step),
        Happening::Crashed => say!(
            lang,
            "{x} crashes: its memory is gone, its disk stays",
            "{x} 宕机：内存丢失，磁盘保留"
        ),
        Happening::Restarted => say!(
            lang,
            "{x} restarts from its disk: every datum with its timestamp, but term 0 (Nacos 1.3+ never reads the persisted term back)",
            "{x} 从磁盘重启：数据及其 timestamp 都恢复了，但任期为 0（Nacos 1.3+ 不会读回持久化的 term）"
        ),
        Happening::Submitted { put: true, key, .. } => {
            let k = short_key(key);
            say!(lang, "a client writes {k} at {x}", "客户端在 {x} 上写入 {k}")
        }
        Happening::Submitted { put: false, key, .. } => {
            let k = short_key(key);
            say!(lang, "a client deletes {k} at {x}", "客户端在 {x} 上删除 {k}")
        }
        Happening::Completed {
            key, error: None, ..
        } => {
            let k = short_key(key);
            say!(
                lang,
                "{x}: the client's operation on {k} succeeded",
                "{x}：客户端对 {k} 的操作成功"
            )
        }
        Happening::Completed {
            key,
            error: Some(e),
            ..
        } => {
            let k = short_key(key);
            say!(
                lang,
                "{x}: the client's operation on {k} failed: {e}",
                "{x}：客户端对 {k} 的操作失败：{e}"
            )
        }
        Happening::Acted(a) => action(lang, a),
    }
}

/// A protocol event at node `node`, from the core's catalogue, with letters for addresses.
pub fn event(lang: Lang, node: usize, e: &Event, term_step: u64) -> String {
    let addr = nacos_raft_core::sim::address(node);
    let x = letter(node);
    let ctx = Ctx {
        node: Some((&addr, &x)),
        term_step: Some(term_step),
        name,
        key: short_key,
    };
    text::event_sentence(e, lang, &ctx)
}

fn group_list(groups: &[u8]) -> String {
    let mut ids: Vec<u8> = groups.to_vec();
    nacos_raft_core::sort::sort(&mut ids);
    ids.dedup();
    ids.iter()
        .map(|g| {
            let names: Vec<String> = groups
                .iter()
                .enumerate()
                .filter(|(_, x)| *x == g)
                .map(|(i, _)| letter(i))
                .collect();
            format!("{{{}}}", names.join(" "))
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// A person's action, as a sentence.
pub fn action(lang: Lang, a: &Action) -> String {
    let l = letter;
    let arrow = |both: bool| if both { "↔" } else { "→" };
    match a {
        Action::Crash { node } => {
            let x = l(*node);
            say!(lang, "you crashed {x}", "你让 {x} 宕机")
        }
        Action::Restart { node } => {
            let x = l(*node);
            say!(lang, "you restarted {x}", "你重启了 {x}")
        }
        Action::Timeout { node } => {
            let x = l(*node);
            say!(
                lang,
                "you made {x}'s leader due run out",
                "你让 {x} 的 leaderDueMs 立即到期"
            )
        }
        Action::Isolate { node } => {
            let x = l(*node);
            say!(lang, "you isolated {x}", "你隔离了 {x}")
        }
        Action::Cut { from, to, both } => {
            let (f, t, a) = (l(*from), l(*to), arrow(*both));
            say!(lang, "you cut {f} {a} {t}", "你切断了 {f} {a} {t}")
        }
        Action::Heal { from, to, both } => {
            let (f, t, a) = (l(*from), l(*to), arrow(*both));
            say!(lang, "you healed {f} {a} {t}", "你恢复了 {f} {a} {t}")
        }
        Action::Partition { groups } => {
            let g = group_list(groups);
            say!(lang, "you split the network: {g}", "你把网络分成：{g}")
        }
        Action::HealAll => pick(lang, "you healed every link", "你恢复了所有连线").into(),
        Action::SetLoss { ppm } => {
            let p = pct(*ppm);
            say!(lang, "you set the loss to {p}%", "你把丢包率设为 {p}%")
        }
        Action::SetLatency { min, max } => say!(
            lang,
            "you set the latency to {min}–{max} ms",
            "你把延迟设为 {min}–{max} ms"
        ),
        Action::Put { node, key, .. } => {
            let (x, k) = (l(*node), short_key(key));
            say!(lang, "you wrote {k} at {x}", "你在 {x} 上写入 {k}")
        }
        Action::Load { node, count, .. } => {
            let x = l(*node);
            say!(
                lang,
                "you wrote {count} sample keys at {x}",
                "你在 {x} 上写入 {count} 个示例键"
            )
        }
        Action::Remove { node, key } => {
            let (x, k) = (l(*node), short_key(key));
            say!(lang, "you deleted {k} at {x}", "你在 {x} 上删除 {k}")
        }
        Action::Drop { msg } => say!(lang, "you dropped message #{msg}", "你丢弃了消息 #{msg}"),
    }
}

/// Parts per million as a percentage text.
pub fn pct(ppm: u32) -> String {
    crate::urlstate::fmt_speed(f64::from(ppm) / 10_000.0)
}

/// A violation kind's title.
pub fn violation_title(lang: Lang, k: ViolationKind) -> &'static str {
    use ViolationKind::*;
    match k {
        TwoLeadersSameTerm => pick(lang, "Two leaders in one term", "同一任期出现两个领导者"),
        TwoLeaders => pick(lang, "Two leaders at once", "同时存在两个领导者"),
        StaleLeader => pick(
            lang,
            "Believes in a leader that is not one",
            "认定的领导者其实不是领导者",
        ),
        LostAckedWrite => pick(lang, "Acknowledged write lost", "已确认的写入丢失"),
        NotConverged => pick(lang, "Data did not converge", "数据没有收敛"),
        TermDecreased => pick(lang, "A term went down", "任期下降"),
    }
}

/// A message kind's name, with the Java step it belongs to.
pub fn kind_name(lang: Lang, k: MsgKind) -> &'static str {
    use MsgKind::*;
    match k {
        Vote => pick(lang, "vote request (sendVote)", "投票请求（sendVote）"),
        VoteReply => pick(lang, "vote answer", "投票应答"),
        Beat => pick(lang, "heartbeat (sendBeat)", "心跳（sendBeat）"),
        BeatReply => pick(lang, "beat answer", "心跳应答"),
        Peer => pick(
            lang,
            "peer refresh (makeLeader → getPeer)",
            "节点刷新（makeLeader → getPeer）",
        ),
        PeerReply => pick(lang, "peer answer", "节点应答"),
        DatumGet => pick(lang, "datum fetch (beat sync)", "拉取数据（心跳同步）"),
        DatumReply => pick(lang, "datums", "数据应答"),
        Commit => pick(lang, "commit (publish)", "提交（publish）"),
        CommitReply => pick(lang, "commit answer", "提交应答"),
        Forward => pick(lang, "forwarded write or delete", "转发的写入或删除"),
        ForwardReply => pick(lang, "forward answer", "转发应答"),
        DeleteCommit => pick(lang, "delete commit", "删除提交"),
        DeleteCommitReply => pick(lang, "delete commit answer", "删除提交应答"),
    }
}

/// A fate's word.
pub fn fate_word(lang: Lang, f: Fate) -> &'static str {
    match f {
        Fate::InFlight => pick(lang, "in flight", "在途"),
        Fate::Delivered => pick(lang, "delivered", "已送达"),
        Fate::Lost => pick(lang, "lost on the way", "途中丢失"),
        Fate::Cut => pick(lang, "blocked by a cut link", "被切断的连线阻挡"),
        Fate::Refused => pick(
            lang,
            "refused: the receiver is down",
            "被拒绝：接收方已宕机",
        ),
        Fate::Discarded => pick(
            lang,
            "discarded: its requester restarted",
            "被丢弃：请求方已重启",
        ),
        Fate::Dropped => pick(lang, "dropped by you", "被你丢弃"),
    }
}

/// A scenario's title and caption in `lang` (the core holds the English ones).
pub fn scenario_text(lang: Lang, id: &str, title: &str, caption: &str) -> (String, String) {
    if lang == Lang::En {
        return (title.to_string(), caption.to_string());
    }
    let zh = match id {
        "first-election" => Some((
            "首次选举",
            "每个节点启动时的 leaderDueMs 在 [0, 15 s) 内随机。最先到期的节点成为候选者，任期为 1，向其他节点拉票；它们同意，因为 1 大于它们的 0。获胜约 5 秒后，它的第一次心跳告诉其他节点谁是领导者。",
        )),
        "split-vote" => Some((
            "选票分裂",
            "四个节点中的两个同时超时，都在任期 1。另外两个节点各自同意先到达的请求，于是每个候选者只有 3 票所需中的 2 票。Nacos 不会重试：两者都要等 15–20 秒，由随机抖动决定下一轮。",
        )),
        "leader-crash" => Some((
            "领导者宕机",
            "领导者宕机。跟随者收不到心跳，它们的 leaderDueMs 在 20 秒内到期；最先超时的节点以更高的任期获胜。其他节点一直相信已经宕机的领导者，直到新领导者的第一次心跳到达。",
        )),
        "catch-up" => Some((
            "跟随者追赶 200 条数据",
            "领导者写入 200 个键时，有一个跟随者宕机。它重启后（任期 0，数据来自磁盘），下一次心跳列出全部 200 个键及其 timestamp：它每次向领导者拉取 50 个缺失的键，每处理一批应答暂停 200 ms，与 Nacos 一致。",
        )),
        "two-leaders" => Some((
            "网络分区：两个领导者（Nacos #3652）",
            "领导者和一个跟随者与另外三个节点断开。旧领导者继续向少数派发送心跳，多数派选出新领导者：同时出现两个领导者。恢复网络后，旧领导者的任期更低，新领导者的第一次心跳让它退位。",
        )),
        "dead-key-loss" => Some((
            "死键规则导致数据丢失",
            "分区期间，新领导者确认了一次写入（任期 +100），而旧领导者的两次写入因得不到多数派而失败，但从不回滚，且每次都让任期加 100。恢复网络后，旧领导者的任期更高：它的心跳获胜，而心跳中没有新领导者的键，于是每个节点都删除了这条已确认的写入。",
        )),
        "stale-node-wins" => Some((
            "被隔离的节点带着旧数据当选（Nacos #785）",
            "一个跟随者在两次写入之前被隔离。它独自每 15–20 秒发起一次选举，任期每次加 1，直到超过集群的任期。回到网络后，它的投票请求任期最高，于是它获胜（投票不看数据），它的第一次心跳让每个节点删除了它从未拥有的键。",
        )),
        _ => None,
    };
    match zh {
        Some((t, c)) => (t.to_string(), c.to_string()),
        None => (title.to_string(), caption.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nacos_raft_core::sim::address;

    #[test]
    fn names_and_letters() {
        assert_eq!(letter(0), "A");
        assert_eq!(letter(14), "O");
        assert_eq!(index_of(&address(3)), Some(3));
        assert_eq!(name("127.0.0.1:8849"), "B");
        assert_eq!(name("10.0.0.1:8848"), "10.0.0.1:8848");
        assert_eq!(
            letters_for_addresses("127.0.0.1:8848 and 127.0.0.1:8858", 11),
            "A and K"
        );
    }

    #[test]
    fn the_refusal_reads_like_the_issue_says() {
        let h = Happening::Protocol(Event::VoteRefused {
            candidate: address(0),
            candidate_term: 3,
            own_term: 3,
        });
        assert_eq!(
            happening(Lang::En, 1, &h, 100),
            "B refuses the vote of A: term 3 is not above 3"
        );
        assert_eq!(
            happening(Lang::Zh, 1, &h, 100),
            "B 拒绝了 A 的投票请求：任期 3 不大于自己的 3"
        );
        assert_eq!(classify(&h), (Topic::Election, Tone::Bad));
        // A write's term step is the run's, and keys are shortened.
        let w = Happening::Protocol(Event::PublishStarted {
            key: nacos_raft_core::sim::sample_key(7),
            timestamp: 2,
            term: 31,
        });
        assert_eq!(
            happening(Lang::En, 0, &w, 10),
            "A writes iplist.…@@svc-0007 v2 as the leader, term +10 = 31, sends commits"
        );
    }

    #[test]
    fn keys_are_shortened() {
        let k = nacos_raft_core::sim::sample_key(7);
        assert_eq!(short_key(&k), "iplist.…@@svc-0007");
    }

    #[test]
    fn actions_and_partitions_read_well() {
        let a = Action::Partition {
            groups: vec![0, 0, 1, 1, 1],
        };
        assert_eq!(
            action(Lang::En, &a),
            "you split the network: {A B} | {C D E}"
        );
        assert_eq!(pct(250_000), "25");
        assert_eq!(pct(5_000), "0.5");
    }

    #[test]
    fn the_log_merges_network_actions_newest_first_and_filters() {
        use crate::model::World;
        use crate::urlstate::RunSpec;
        use nacos_raft_core::sim::TimedAction;
        let actions = vec![
            TimedAction {
                at_ms: 5_000,
                action: Action::HealAll,
            },
            TimedAction {
                at_ms: 6_000,
                action: Action::Crash { node: 0 },
            },
        ];
        let mut w = World::new(RunSpec::new(3).sim_config(), actions).unwrap();
        w.seek(40_000);
        let s = w.sim();
        let all = log(s, 100_000, |_| true);
        assert_eq!(all.len(), s.events().len() + 1, "every event and the heal");
        assert!(all.windows(2).all(|p| p[0].at_ms >= p[1].at_ms));
        let heal: Vec<_> = all.iter().filter(|r| r.node.is_none()).collect();
        assert_eq!(heal.len(), 1);
        assert_eq!(heal[0].at_ms, 5_000);
        assert_eq!(heal[0].text(Lang::En, 100), "you healed every link");
        assert_eq!(heal[0].text(Lang::Zh, 100), "你恢复了所有连线");
        let crash: Vec<String> = all
            .iter()
            .filter(|r| r.at_ms == 6_000 && r.node == Some(0))
            .map(|r| r.text(Lang::En, 100))
            .collect();
        assert!(crash.contains(&"A crashes: its memory is gone, its disk stays".to_string()));
        // A filter keeps its topic only: elections, and no network action.
        let elections = log(s, 100_000, |t| t == Topic::Election);
        let election_events = s
            .events()
            .iter()
            .filter(|e| classify(&e.what).0 == Topic::Election)
            .count();
        assert!(election_events > 0);
        assert_eq!(elections.len(), election_events);
        assert!(elections.iter().all(|r| r.node.is_some()));
        // At most `max`, the newest.
        let few = log(s, 3, |_| true);
        assert_eq!(few.len(), 3);
        assert_eq!(few[0].at_ms, all[0].at_ms);
        assert_eq!(few[2].at_ms, all[2].at_ms);
    }

    #[test]
    fn every_action_and_happening_reads_in_both_languages() {
        let key = nacos_raft_core::sim::sample_key(1);
        let actions = [
            Action::Crash { node: 0 },
            Action::Restart { node: 0 },
            Action::Timeout { node: 0 },
            Action::Isolate { node: 0 },
            Action::Cut {
                from: 0,
                to: 1,
                both: false,
            },
            Action::Heal {
                from: 0,
                to: 1,
                both: true,
            },
            Action::Partition {
                groups: vec![0, 1, 1],
            },
            Action::HealAll,
            Action::SetLoss { ppm: 5_000 },
            Action::SetLatency { min: 10, max: 40 },
            Action::Put {
                node: 0,
                key: key.clone(),
                value: "{}".into(),
            },
            Action::Load {
                node: 0,
                first: 0,
                count: 10,
            },
            Action::Remove {
                node: 0,
                key: key.clone(),
            },
            Action::Drop { msg: 7 },
        ];
        let happenings = [
            Happening::Crashed,
            Happening::Restarted,
            Happening::Submitted {
                op: 1,
                put: true,
                key: key.clone(),
            },
            Happening::Submitted {
                op: 1,
                put: false,
                key: key.clone(),
            },
            Happening::Completed {
                op: 1,
                key: key.clone(),
                error: None,
            },
            Happening::Acted(Action::HealAll),
        ];
        let cjk = |t: &str| t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        let texts = actions
            .iter()
            .map(|a| (action(Lang::En, a), action(Lang::Zh, a)));
        let texts = texts.chain(happenings.iter().map(|h| {
            (
                happening(Lang::En, 0, h, 100),
                happening(Lang::Zh, 0, h, 100),
            )
        }));
        for (en, zh) in texts {
            assert!(!en.is_empty() && !cjk(&en), "{en}");
            assert!(cjk(&zh), "{zh}");
        }
    }

    #[test]
    fn every_scenario_has_chinese() {
        for id in nacos_raft_core::sim::scenario::IDS {
            let (t, c) = scenario_text(Lang::Zh, id, "x", "y");
            assert_ne!(t, "x", "{id}");
            assert_ne!(c, "y", "{id}");
        }
    }
}
