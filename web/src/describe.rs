//! Plain-language sentences, in English and 简体中文, for what the simulator records: protocol
//! decisions with their reasons, crashes, client operations, a person's actions, violations and
//! messages. Nodes are named by letter (A = 127.0.0.1:8848, B = :8849, ...); the Java method names
//! (MasterElection, sendVote, receivedVote, decideLeader, HeartBeat, receivedBeat, makeLeader)
//! are kept in both languages, as in the article the project started from.

use crate::i18n::Lang;
use nacos_raft_core::sim::{Action, Fate, Happening, ViolationKind};
use nacos_raft_core::PeerState;
use nacos_raft_core::{Event, StepDown};
use nacos_raft_core::{Failure, MsgKind};

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

/// Topic and tone of a happening.
pub fn classify(h: &Happening) -> (Topic, Tone) {
    use Event::*;
    match h {
        Happening::Protocol(e) => match e {
            ElectionStarted { .. } | VoteAnswered { .. } => (Topic::Election, Tone::Info),
            VoteGranted { .. } | LeaderDecided { .. } | LeaderChanged { .. } => {
                (Topic::Election, Tone::Good)
            }
            VoteRefused { .. } | VoteFromStranger { .. } => (Topic::Election, Tone::Bad),
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

fn failure_text(lang: Lang, f: &str) -> String {
    match lang {
        Lang::En => f.to_string(),
        Lang::Zh => match f {
            "timed out" => "超时".into(),
            "connection refused" => "连接被拒绝".into(),
            other => other.to_string(),
        },
    }
}

/// What happened at node `node`, as one sentence that names the node first.
pub fn happening(lang: Lang, node: usize, h: &Happening, nodes: usize) -> String {
    let x = letter(node);
    match h {
        Happening::Protocol(e) => event(lang, &x, e),
        Happening::Crashed => match lang {
            Lang::En => format!("{x} crashes: its memory is gone, its disk stays"),
            Lang::Zh => format!("{x} 宕机:内存丢失,磁盘保留"),
        },
        Happening::Restarted => match lang {
            Lang::En => format!(
                "{x} restarts from its disk: every datum with its timestamp, but term 0 (Nacos 1.3+ never reads the persisted term back)"
            ),
            Lang::Zh => format!(
                "{x} 从磁盘重启:数据及其 timestamp 都恢复了,但任期为 0(Nacos 1.3+ 不会读回持久化的 term)"
            ),
        },
        Happening::Submitted { put, key, .. } => {
            let k = short_key(key);
            match (lang, put) {
                (Lang::En, true) => format!("a client writes {k} at {x}"),
                (Lang::En, false) => format!("a client deletes {k} at {x}"),
                (Lang::Zh, true) => format!("客户端在 {x} 上写入 {k}"),
                (Lang::Zh, false) => format!("客户端在 {x} 上删除 {k}"),
            }
        }
        Happening::Completed { key, error, .. } => {
            let k = short_key(key);
            match (lang, error) {
                (Lang::En, None) => format!("{x}: the client's operation on {k} succeeded"),
                (Lang::En, Some(e)) => format!("{x}: the client's operation on {k} failed: {e}"),
                (Lang::Zh, None) => format!("{x}:客户端对 {k} 的操作成功"),
                (Lang::Zh, Some(e)) => format!("{x}:客户端对 {k} 的操作失败:{e}"),
            }
        }
        Happening::Acted(a) => action(lang, a, nodes),
    }
}

fn event(lang: Lang, x: &str, e: &Event) -> String {
    use Event::*;
    let n = |a: &str| name(a);
    match lang {
        Lang::En => match e {
            ElectionStarted { term } => format!(
                "{x}: leader due ran out → MasterElection.sendVote: term {term}, votes for itself, becomes CANDIDATE and asks every peer"
            ),
            VoteGranted { candidate, term } => format!(
                "{x} votes for {} (receivedVote): term {term} is above its own, so it becomes FOLLOWER in term {term}",
                n(candidate)
            ),
            VoteRefused {
                candidate,
                candidate_term,
                own_term,
            } => format!(
                "{x} refuses the vote of {}: term {candidate_term} is not above {own_term}",
                n(candidate)
            ),
            VoteFromStranger { candidate } => {
                format!("{x} refuses a vote from {candidate}: can not find peer")
            }
            VoteAnswered {
                from,
                vote_for,
                term,
            } => match vote_for {
                Some(v) => format!(
                    "{x} hears from {}: it votes for {} (term {term})",
                    n(from),
                    n(v)
                ),
                None => format!("{x} hears from {}: no vote (term {term})", n(from)),
            },
            LeaderDecided {
                leader,
                votes,
                majority,
            } => {
                let l = n(leader);
                if l == x {
                    format!("{x} decideLeader: {votes} votes for itself, majority {majority} → it becomes LEADER")
                } else {
                    format!("{x} decideLeader: {l} has {votes} votes, majority {majority} → {l} is the leader in {x}'s view")
                }
            }
            SteppedDown { was, why } => {
                let why = match why {
                    StepDown::GrantedVote { candidate, term } => {
                        format!("it voted for {} in the higher term {term}", n(candidate))
                    }
                    StepDown::AcceptedBeat { leader, term } => {
                        format!("it accepted a beat from {} (term {term})", n(leader))
                    }
                };
                format!("{x} steps down from {was}: {why}")
            }
            BeatSent { term, keys } => {
                format!("{x} HeartBeat.sendBeat: a beat to every peer (term {term}, {keys} keys)")
            }
            BeatNotSent { reason } => format!("{x} cannot send its beat: {reason}"),
            BeatAccepted { leader, term } => format!(
                "{x} receivedBeat from {} (term {term}): resets its leader due",
                n(leader)
            ),
            BeatRejected { from, reason } => {
                format!("{x} rejects the beat of {}: {reason}", n(from))
            }
            LeaderChanged { leader, previous } => match previous {
                Some(p) => format!("{x} makeLeader: now follows {} (was {})", n(leader), n(p)),
                None => format!("{x} makeLeader: now follows {}", n(leader)),
            },
            PeerMarkedFollower { peer } => {
                format!("{x} marks {} FOLLOWER: its /peer failed", n(peer))
            }
            RequestFailed { to, what, failure } => format!(
                "{x}: {what} to {} failed: {}",
                n(to),
                failure_text(lang, failure)
            ),
            SyncFetch { from, keys } => format!(
                "{x} fetches {keys} newer keys from {} (GET /raft/datum)",
                n(from)
            ),
            DatumApplied {
                key,
                timestamp,
                from,
                term,
            } => format!(
                "{x} syncs {} v{timestamp} from {}; term now {term}",
                short_key(key),
                n(from)
            ),
            DatumSkipped { key, reason } => format!("{x} skips {}: {reason}", short_key(key)),
            DeadKeyDeleted { key } => format!(
                "{x} deletes {}: the leader's beat did not list it (dead-key rule)",
                short_key(key)
            ),
            PublishStarted {
                key,
                timestamp,
                term,
            } => format!(
                "{x} (leader) writes {} v{timestamp}, term +100 = {term}, sends commits",
                short_key(key)
            ),
            Published { key, timestamp } => format!(
                "{x}: a majority acknowledged {} v{timestamp}",
                short_key(key)
            ),
            PublishFailed { key, reason } => format!(
                "{x}: the write of {} failed, and is not rolled back: {reason}",
                short_key(key)
            ),
            Forwarded { key, to } => format!(
                "{x} forwards {} to the leader {}",
                short_key(key),
                n(to)
            ),
            CommitApplied {
                key,
                timestamp,
                from,
                term,
            } => format!(
                "{x} applies the commit of {} v{timestamp} from {}; term now {term}",
                short_key(key),
                n(from)
            ),
            CommitRejected { key, from, reason } => format!(
                "{x} rejects {} from {}: {reason}",
                short_key(key),
                n(from)
            ),
            Deleted { key, by } => {
                format!("{x} deletes {} (leader {})", short_key(key), n(by))
            }
        },
        Lang::Zh => match e {
            ElectionStarted { term } => format!(
                "{x}:leaderDueMs 到期 → MasterElection.sendVote:任期变为 {term},投自己一票,成为候选者并向所有节点拉票"
            ),
            VoteGranted { candidate, term } => format!(
                "{x} 投票给 {}(receivedVote):任期 {term} 高于自己的任期,于是成为跟随者,任期改为 {term}",
                n(candidate)
            ),
            VoteRefused {
                candidate,
                candidate_term,
                own_term,
            } => format!(
                "{x} 拒绝了 {} 的投票请求:任期 {candidate_term} 不大于自己的 {own_term}",
                n(candidate)
            ),
            VoteFromStranger { candidate } => {
                format!("{x} 拒绝来自 {candidate} 的投票:can not find peer(不是集群成员)")
            }
            VoteAnswered {
                from,
                vote_for,
                term,
            } => match vote_for {
                Some(v) => format!(
                    "{x} 收到 {} 的应答:它投给了 {}(任期 {term})",
                    n(from),
                    n(v)
                ),
                None => format!("{x} 收到 {} 的应答:没有投票(任期 {term})", n(from)),
            },
            LeaderDecided {
                leader,
                votes,
                majority,
            } => {
                let l = n(leader);
                if l == x {
                    format!("{x} decideLeader:自己得到 {votes} 票,多数为 {majority} → 成为领导者")
                } else {
                    format!("{x} decideLeader:{l} 得到 {votes} 票,多数为 {majority} → 在 {x} 看来 {l} 是 leader")
                }
            }
            SteppedDown { was, why } => {
                let why = match why {
                    StepDown::GrantedVote { candidate, term } => {
                        format!("它在更高的任期 {term} 投票给了 {}", n(candidate))
                    }
                    StepDown::AcceptedBeat { leader, term } => {
                        format!("它接受了 {} 的心跳(任期 {term})", n(leader))
                    }
                };
                format!("{x} 不再是 {was}:{why}")
            }
            BeatSent { term, keys } => {
                format!("{x} HeartBeat.sendBeat:向所有节点发送心跳(任期 {term},{keys} 个键)")
            }
            BeatNotSent { reason } => format!("{x} 无法发送心跳:{reason}"),
            BeatAccepted { leader, term } => format!(
                "{x} receivedBeat:接受 {} 的心跳(任期 {term}),重置 leaderDueMs",
                n(leader)
            ),
            BeatRejected { from, reason } => format!("{x} 拒绝 {} 的心跳:{reason}", n(from)),
            LeaderChanged { leader, previous } => match previous {
                Some(p) => format!("{x} makeLeader:现在跟随 {}(之前是 {})", n(leader), n(p)),
                None => format!("{x} makeLeader:现在跟随 {}", n(leader)),
            },
            PeerMarkedFollower { peer } => {
                format!("{x} 把 {} 标记为跟随者:对它的 /peer 请求失败", n(peer))
            }
            RequestFailed { to, what, failure } => format!(
                "{x}:发往 {} 的 {what} 请求失败:{}",
                n(to),
                failure_text(lang, failure)
            ),
            SyncFetch { from, keys } => format!(
                "{x} 向 {} 拉取 {keys} 个较新的键(GET /raft/datum)",
                n(from)
            ),
            DatumApplied {
                key,
                timestamp,
                from,
                term,
            } => format!(
                "{x} 从 {} 同步 {} v{timestamp};任期变为 {term}",
                n(from),
                short_key(key)
            ),
            DatumSkipped { key, reason } => format!("{x} 跳过 {}:{reason}", short_key(key)),
            DeadKeyDeleted { key } => format!(
                "{x} 删除 {}:leader 的心跳里没有它(死键规则)",
                short_key(key)
            ),
            PublishStarted {
                key,
                timestamp,
                term,
            } => format!(
                "{x}(leader)写入 {} v{timestamp},任期 +100 = {term},发送 commit",
                short_key(key)
            ),
            Published { key, timestamp } => {
                format!("{x}:多数节点确认了 {} v{timestamp}", short_key(key))
            }
            PublishFailed { key, reason } => format!(
                "{x}:写入 {} 失败,且不会回滚:{reason}",
                short_key(key)
            ),
            Forwarded { key, to } => format!(
                "{x} 把 {} 转发给 leader {}",
                short_key(key),
                n(to)
            ),
            CommitApplied {
                key,
                timestamp,
                from,
                term,
            } => format!(
                "{x} 应用来自 {} 的 {} v{timestamp};任期变为 {term}",
                n(from),
                short_key(key)
            ),
            CommitRejected { key, from, reason } => format!(
                "{x} 拒绝来自 {} 的 {}:{reason}",
                n(from),
                short_key(key)
            ),
            Deleted { key, by } => format!("{x} 删除 {}(leader {})", short_key(key), n(by)),
        },
    }
}

fn group_list(groups: &[u8]) -> String {
    let mut ids: Vec<u8> = groups.to_vec();
    ids.sort_unstable();
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
pub fn action(lang: Lang, a: &Action, _nodes: usize) -> String {
    let l = letter;
    let arrow = |both: bool| if both { "↔" } else { "→" };
    match lang {
        Lang::En => match a {
            Action::Crash { node } => format!("you crashed {}", l(*node)),
            Action::Restart { node } => format!("you restarted {}", l(*node)),
            Action::Timeout { node } => format!("you made {}'s leader due run out", l(*node)),
            Action::Isolate { node } => format!("you isolated {}", l(*node)),
            Action::Cut { from, to, both } => {
                format!("you cut {} {} {}", l(*from), arrow(*both), l(*to))
            }
            Action::Heal { from, to, both } => {
                format!("you healed {} {} {}", l(*from), arrow(*both), l(*to))
            }
            Action::Partition { groups } => {
                format!("you split the network: {}", group_list(groups))
            }
            Action::HealAll => "you healed every link".into(),
            Action::SetLoss { ppm } => format!("you set the loss to {}%", pct(*ppm)),
            Action::SetLatency { min, max } => format!("you set the latency to {min}–{max} ms"),
            Action::Put { node, key, .. } => {
                format!("you wrote {} at {}", short_key(key), l(*node))
            }
            Action::Load { node, count, .. } => {
                format!("you wrote {count} sample keys at {}", l(*node))
            }
            Action::Remove { node, key } => {
                format!("you deleted {} at {}", short_key(key), l(*node))
            }
            Action::Drop { msg } => format!("you dropped message #{msg}"),
        },
        Lang::Zh => match a {
            Action::Crash { node } => format!("你让 {} 宕机", l(*node)),
            Action::Restart { node } => format!("你重启了 {}", l(*node)),
            Action::Timeout { node } => format!("你让 {} 的 leaderDueMs 立即到期", l(*node)),
            Action::Isolate { node } => format!("你隔离了 {}", l(*node)),
            Action::Cut { from, to, both } => {
                format!("你切断了 {} {} {}", l(*from), arrow(*both), l(*to))
            }
            Action::Heal { from, to, both } => {
                format!("你恢复了 {} {} {}", l(*from), arrow(*both), l(*to))
            }
            Action::Partition { groups } => format!("你把网络分成:{}", group_list(groups)),
            Action::HealAll => "你恢复了所有连线".into(),
            Action::SetLoss { ppm } => format!("你把丢包率设为 {}%", pct(*ppm)),
            Action::SetLatency { min, max } => format!("你把延迟设为 {min}–{max} ms"),
            Action::Put { node, key, .. } => format!("你在 {} 上写入 {}", l(*node), short_key(key)),
            Action::Load { node, count, .. } => {
                format!("你在 {} 上写入 {count} 个示例键", l(*node))
            }
            Action::Remove { node, key } => format!("你在 {} 上删除 {}", l(*node), short_key(key)),
            Action::Drop { msg } => format!("你丢弃了消息 #{msg}"),
        },
    }
}

/// Parts per million as a percentage text.
pub fn pct(ppm: u32) -> String {
    crate::urlstate::fmt_speed(f64::from(ppm) / 10_000.0)
}

/// A violation kind's title.
pub fn violation_title(lang: Lang, k: ViolationKind) -> &'static str {
    match (lang, k) {
        (Lang::En, ViolationKind::TwoLeadersSameTerm) => "Two leaders in one term",
        (Lang::En, ViolationKind::TwoLeaders) => "Two leaders at once",
        (Lang::En, ViolationKind::StaleLeader) => "Believes in a leader that is not one",
        (Lang::En, ViolationKind::LostAckedWrite) => "Acknowledged write lost",
        (Lang::En, ViolationKind::NotConverged) => "Data did not converge",
        (Lang::En, ViolationKind::TermDecreased) => "A term went down",
        (Lang::Zh, ViolationKind::TwoLeadersSameTerm) => "同一任期出现两个 leader",
        (Lang::Zh, ViolationKind::TwoLeaders) => "同时存在两个 leader",
        (Lang::Zh, ViolationKind::StaleLeader) => "认定的 leader 其实不是 leader",
        (Lang::Zh, ViolationKind::LostAckedWrite) => "已确认的写入丢失",
        (Lang::Zh, ViolationKind::NotConverged) => "数据没有收敛",
        (Lang::Zh, ViolationKind::TermDecreased) => "任期下降",
    }
}

/// A message kind's name, with the Java step it belongs to.
pub fn kind_name(lang: Lang, k: MsgKind) -> &'static str {
    use MsgKind::*;
    match lang {
        Lang::En => match k {
            Vote => "vote request (sendVote)",
            VoteReply => "vote answer",
            Beat => "heartbeat (sendBeat)",
            BeatReply => "beat answer",
            Peer => "peer refresh (makeLeader → getPeer)",
            PeerReply => "peer answer",
            DatumGet => "datum fetch (beat sync)",
            DatumReply => "datums",
            Commit => "commit (publish)",
            CommitReply => "commit answer",
            Forward => "forwarded write or delete",
            ForwardReply => "forward answer",
            DeleteCommit => "delete commit",
            DeleteCommitReply => "delete commit answer",
        },
        Lang::Zh => match k {
            Vote => "投票请求(sendVote)",
            VoteReply => "投票应答",
            Beat => "心跳(sendBeat)",
            BeatReply => "心跳应答",
            Peer => "节点刷新(makeLeader → getPeer)",
            PeerReply => "节点应答",
            DatumGet => "拉取数据(心跳同步)",
            DatumReply => "数据应答",
            Commit => "提交(publish)",
            CommitReply => "提交应答",
            Forward => "转发的写入或删除",
            ForwardReply => "转发应答",
            DeleteCommit => "删除提交",
            DeleteCommitReply => "删除提交应答",
        },
    }
}

/// A fate's word.
pub fn fate_word(lang: Lang, f: Fate) -> &'static str {
    match (lang, f) {
        (Lang::En, Fate::InFlight) => "in flight",
        (Lang::En, Fate::Delivered) => "delivered",
        (Lang::En, Fate::Lost) => "lost on the way",
        (Lang::En, Fate::Cut) => "blocked by a cut link",
        (Lang::En, Fate::Refused) => "refused: the receiver is down",
        (Lang::En, Fate::Discarded) => "discarded: its requester restarted",
        (Lang::En, Fate::Dropped) => "dropped by you",
        (Lang::Zh, Fate::InFlight) => "在途",
        (Lang::Zh, Fate::Delivered) => "已送达",
        (Lang::Zh, Fate::Lost) => "途中丢失",
        (Lang::Zh, Fate::Cut) => "被切断的连线阻挡",
        (Lang::Zh, Fate::Refused) => "被拒绝:接收方已宕机",
        (Lang::Zh, Fate::Discarded) => "被丢弃:请求方已重启",
        (Lang::Zh, Fate::Dropped) => "被你丢弃",
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
            "每个节点启动时的 leaderDueMs 在 [0, 15 s) 内随机。最先到期的节点成为候选者,任期为 1,向其他节点拉票;它们同意,因为 1 大于它们的 0。获胜约 5 秒后,它的第一次心跳告诉其他节点谁是 leader。",
        )),
        "split-vote" => Some((
            "选票分裂",
            "四个节点中的两个同时超时,都在任期 1。另外两个节点各自同意先到达的请求,于是每个候选者只有 3 票所需中的 2 票。Nacos 不会重试:两者都要等 15–20 秒,由随机抖动决定下一轮。",
        )),
        "leader-crash" => Some((
            "leader 宕机",
            "leader 宕机。跟随者收不到心跳,它们的 leaderDueMs 在 20 秒内到期;最先超时的节点以更高的任期获胜。其他节点一直相信已经宕机的 leader,直到新 leader 的第一次心跳到达。",
        )),
        "catch-up" => Some((
            "跟随者追赶 200 条数据",
            "leader 写入 200 个键时,有一个跟随者宕机。它重启后(任期 0,数据来自磁盘),下一次心跳列出全部 200 个键及其 timestamp:它每次向 leader 拉取 50 个缺失的键,每处理一批应答暂停 200 ms,与 Nacos 一致。",
        )),
        "two-leaders" => Some((
            "网络分区:两个 leader(Nacos #3652)",
            "leader 和一个跟随者与另外三个节点断开。旧 leader 继续向少数派发送心跳,多数派选出新 leader:同时出现两个领导者。恢复网络后,旧 leader 的任期更低,新 leader 的第一次心跳让它退位。",
        )),
        "dead-key-loss" => Some((
            "死键规则导致数据丢失",
            "分区期间,新 leader 确认了一次写入(任期 +100),而旧 leader 的两次写入因得不到多数派而失败,但从不回滚,且每次都让任期加 100。恢复网络后,旧 leader 的任期更高:它的心跳获胜,而心跳中没有新 leader 的键,于是每个节点都删除了这条已确认的写入。",
        )),
        "stale-node-wins" => Some((
            "被隔离的节点带着旧数据当选(Nacos #785)",
            "一个跟随者在两次写入之前被隔离。它独自每 15–20 秒发起一次选举,任期每次加 1,直到超过集群的任期。回到网络后,它的投票请求任期最高,于是它获胜(投票不看数据),它的第一次心跳让每个节点删除了它从未拥有的键。",
        )),
        _ => None,
    };
    match zh {
        Some((t, c)) => (t.to_string(), c.to_string()),
        None => (title.to_string(), caption.to_string()),
    }
}

/// Whether `f` is a failed fate (the message did not arrive).
pub fn is_failure(f: Fate) -> bool {
    !matches!(f, Fate::InFlight | Fate::Delivered)
}

/// A request failure as text (for tests and tooltips).
pub fn failure(lang: Lang, f: &Failure) -> String {
    failure_text(lang, &f.to_string())
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
            happening(Lang::En, 1, &h, 5),
            "B refuses the vote of A: term 3 is not above 3"
        );
        assert_eq!(
            happening(Lang::Zh, 1, &h, 5),
            "B 拒绝了 A 的投票请求:任期 3 不大于自己的 3"
        );
        assert_eq!(classify(&h), (Topic::Election, Tone::Bad));
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
            action(Lang::En, &a, 5),
            "you split the network: {A B} | {C D E}"
        );
        assert_eq!(pct(250_000), "25");
        assert_eq!(pct(5_000), "0.5");
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
