//! The texts of the teaching parts of the page (issue #11), in one block of their own so that
//! they stay apart from the rest of the page's texts ([`crate::i18n`]). Chinese sentences use
//! full-width punctuation and one word per state: 领导者, 跟随者, 候选者.

use crate::i18n::Lang;

/// One of two fixed texts.
const fn pick(lang: Lang, en: &'static str, zh: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

/// The fixed texts, one function each.
pub struct T;

macro_rules! texts {
    ($($name:ident: $en:literal, $zh:literal;)*) => {
        impl T {
            $(
                #[allow(missing_docs)]
                pub const fn $name(lang: Lang) -> &'static str {
                    pick(lang, $en, $zh)
                }
            )*
        }
    };
}

texts! {
    no_leader: "no leader", "没有领导者";
    all_down: "every node is down", "所有节点都已宕机";
    waiting: "no leader yet: each node waits for its leader due (a random 15–20 s) to run out",
        "还没有领导者：每个节点都在等自己的 leaderDueMs（随机 15–20 秒）到期";
    heal_all: "every link heals", "所有连线恢复";
    start_title: "Start here", "从这里开始";
    start_what: "The circles are the nodes of a Nacos 1.x naming cluster, running its Raft exactly as the Java 1.4.1 code does, in your browser.",
        "每个圆圈是 Nacos 1.x 命名服务集群中的一个节点，它们在浏览器里按 Java 1.4.1 代码的方式运行 Raft。";
    start_how: "The dots that move between them are messages: votes, heartbeats, data. The line under the ring says what is happening now.",
        "节点之间移动的小点是消息：投票、心跳、数据。圆环下方的一行字说明现在正在发生什么。";
    start_why: "Nacos' Raft differs from the textbook, and a few of its differences lose data: break the cluster and watch.",
        "Nacos 的 Raft 与教科书不同，其中有几处会丢数据：动手破坏集群，看看会发生什么。";
    start_try: "Try first:", "先试试：";
    try_crash: "Crash the leader", "让领导者宕机";
    try_story: "The #3652 story: two leaders", "#3652 的故事：两个领导者";
    try_cut: "Cut a link: draw a line across the ring", "切断连线：在圆环上画一条线穿过它";
    dismiss: "Got it", "知道了";
    chapter_prev: "Previous chapter", "上一章";
    chapter_next: "Next chapter", "下一章";
    what_you_saw: "What you saw:", "你看到了：";
    try_next: "Try next:", "接下来试试：";
    story_over: "The story is over; play to go on from here.", "故事讲完了；点击播放可以从这里继续。";
    fast_stretch: "fast through a quiet stretch", "快进平静的一段";
    slowed: "slowed while messages fly", "消息在途时放慢";
    url_error: "This link has a field the page cannot read; it kept the others", "链接中有页面无法读取的字段；其他字段已保留";
    url_field: "bad field", "错误字段";
}

/// "Chapter N of M".
pub fn chapter_of(lang: Lang, n: usize, m: usize) -> String {
    match lang {
        Lang::En => format!("Chapter {n} of {m}"),
        Lang::Zh => format!("第 {n} 章，共 {m} 章"),
    }
}

/// What a story showed and what to try after it: (what you saw, try next).
pub fn story_end(lang: Lang, id: &str) -> Option<(&'static str, &'static str)> {
    let (saw_en, next_en, saw_zh, next_zh) = match id {
        "first-election" => (
            "the node whose random leader due ran out first asked for votes in term 1 and won with a majority; its heartbeats then told the others who leads.",
            "crash the leader (click it, then Crash) and count how long the cluster has no leader.",
            "随机 leaderDueMs 最先到期的节点以任期 1 拉票，获得多数票后当选；随后它的心跳告诉其他节点谁是领导者。",
            "让领导者宕机（点击它，再点“宕机”），数一数集群有多久没有领导者。",
        ),
        "split-vote" => (
            "two candidates in the same term split the votes; neither reached a majority, and Nacos waited 15–20 s before anyone tried again.",
            "load “Leader crash” and watch a single candidate win at once.",
            "同一任期的两个候选者瓜分了选票，谁都没有获得多数；Nacos 等了 15–20 秒才有节点再次尝试。",
            "加载“领导者宕机”，看一个候选者如何立即胜出。",
        ),
        "leader-crash" => (
            "after the crash the followers kept believing in the dead leader until a new leader, elected with a higher term, sent its first heartbeat.",
            "restart the old leader: it comes back with term 0 and follows the new one.",
            "宕机后，跟随者一直相信已经宕机的领导者，直到以更高任期当选的新领导者发出第一次心跳。",
            "重启旧领导者：它以任期 0 回来，并跟随新领导者。",
        ),
        "catch-up" => (
            "the restarted follower learned every key from the leader's heartbeat and fetched the missing ones 50 at a time.",
            "crash the leader during the catch-up and see which keys the new leader has.",
            "重启后的跟随者从领导者的心跳中得知所有键，并每次拉取 50 个缺失的键。",
            "在追赶期间让领导者宕机，看看新领导者有哪些键。",
        ),
        "two-leaders" => (
            "during the partition two nodes believed they led at once (Nacos #3652); after healing the one with the lower term stepped down.",
            "load “Data loss by the dead-key rule”: the same split, with writes on both sides.",
            "分区期间有两个节点同时认为自己是领导者（Nacos #3652）；网络恢复后，任期较低的一方退位。",
            "加载“死键规则导致数据丢失”：同样的分区，两边都有写入。",
        ),
        "dead-key-loss" => (
            "the old leader's failed writes still raised its term by 100 each; after healing its heartbeat won and deleted the write the new leader had acknowledged.",
            "open the Data tab at the end and compare each node with the leader.",
            "旧领导者失败的写入仍让它的任期每次加 100；网络恢复后它的心跳获胜，删除了新领导者已经确认的写入。",
            "在结尾打开“数据”标签页，把每个节点与领导者比较。",
        ),
        "stale-node-wins" => (
            "the isolated node raised its term alone until it passed the cluster's, then won the election with no data, and its heartbeat emptied every node (Nacos #785).",
            "isolate a node yourself and watch its term creep up.",
            "被隔离的节点独自提高任期，直到超过集群的任期，然后在没有数据的情况下赢得选举，它的心跳清空了每个节点（Nacos #785）。",
            "自己隔离一个节点，观察它的任期如何增长。",
        ),
        _ => return None,
    };
    Some(match lang {
        Lang::En => (saw_en, next_en),
        Lang::Zh => (saw_zh, next_zh),
    })
}

/// What looks like a bug but is Nacos (issue #11, point 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Explain {
    /// A term like 101 or 20001: the +100 rule.
    BigTerm,
    /// `term in meta.properties = 0`, or a restarted node at term 0.
    DiskTerm,
    /// Writes waiting for `OPERATE_LOCK`.
    OperateLock,
}

impl Explain {
    /// Its name in `data-explain`.
    pub fn as_str(self) -> &'static str {
        match self {
            Explain::BigTerm => "term",
            Explain::DiskTerm => "disk-term",
            Explain::OperateLock => "operate-lock",
        }
    }
}

/// The question and its short answer.
pub fn explain_text(lang: Lang, e: Explain) -> (&'static str, &'static str) {
    match (e, lang) {
        (Explain::BigTerm, Lang::En) => (
            "Why is the term 101, or 20001?",
            "Nacos adds 1 to the term per election and 100 per write (onPublish): the leader's term goes +100 with each write, and a follower applying a commit or a synced datum takes the leader's term, or adds 100 when it is more than 100 behind. The commit carries the leader's term from before its own +100, so followers sit 100 below the leader; a follower catching up 200 datums adds 100 for each: 20001.",
        ),
        (Explain::BigTerm, Lang::Zh) => (
            "任期为什么是 101，甚至 20001？",
            "Nacos 每次选举让任期加 1，每次写入加 100（onPublish）：领导者每写入一次任期加 100；跟随者应用提交或同步来的数据时，采用领导者的任期，落后超过 100 时则自己加 100。提交中携带的是领导者加 100 之前的任期，所以跟随者比领导者低 100；追赶 200 条数据的跟随者每条都加 100：20001。",
        ),
        (Explain::DiskTerm, Lang::En) => (
            "Why is the term on disk 0, and 0 again after a restart?",
            "Elections do not persist the term; only writes do (meta.properties, term=…). And Nacos 1.3+ never reads it back: the peer objects exist before the file is read, so a restarted node starts at term 0 whatever its disk says.",
        ),
        (Explain::DiskTerm, Lang::Zh) => (
            "为什么磁盘上的任期是 0，重启后又是 0？",
            "选举不会持久化任期，只有写入才会（meta.properties 中的 term=…）。而且 Nacos 1.3+ 从不读回它：节点对象在读取文件之前就已创建，所以无论磁盘上写的是什么，重启的节点都从任期 0 开始。",
        ),
        (Explain::OperateLock, Lang::En) => (
            "What is OPERATE_LOCK?",
            "One lock per node (RaftCore.OPERATE_LOCK) under which the leader publishes and deletes and a follower applies synced datums: writes wait for it one at a time, each up to 5 s for a majority of commit answers.",
        ),
        (Explain::OperateLock, Lang::Zh) => (
            "OPERATE_LOCK 是什么？",
            "每个节点一把锁（RaftCore.OPERATE_LOCK）：领导者在它之下发布和删除，跟随者在它之下应用同步来的数据；写入逐个等待这把锁，每次最多等 5 秒，直到多数节点应答提交。",
        ),
    }
}

/// The glyphs of the ring and the timeline the message legend does not cover: (glyph, meaning).
pub fn legend(lang: Lang) -> [(&'static str, &'static str); 8] {
    match lang {
        Lang::En => [
            ("—✓", "vote arrow: this node's voteFor (a record, not a message); grey when the node voted for is down"),
            ("▤N", "the node holds N datums (keys)"),
            ("◯", "red halo: a node in a violation just found"),
            ("╳ |", "a cut link: dashed, with a wall on the side that cannot receive"),
            ("| A ✕ ↻ ▲ ◆", "timeline marks (a mark is a moment worth returning to): an election, a new leader, a crash, a restart, a violation, your action; [ / ] jump between them"),
            ("▒", "the shaded band of the timeline: the time already simulated"),
            ("N/M", "a candidate's votes: N of the M it needs"),
            ("⋯◯", "dotted coloured rims: the sides of a partition, one colour per group"),
        ],
        Lang::Zh => [
            ("—✓", "投票箭头：该节点的 voteFor（一条记录，不是消息）；所投节点宕机时变灰"),
            ("▤N", "该节点持有 N 条数据（键）"),
            ("◯", "红色光环：刚发现的违规所涉及的节点"),
            ("╳ |", "被切断的连线：虚线，不能接收的一侧有一堵墙"),
            ("| A ✕ ↻ ▲ ◆", "时间轴标记（标记是值得回看的时刻）：选举、新领导者、宕机、重启、违规、你的操作；用 [ / ] 在其间跳转"),
            ("▒", "时间轴上的阴影带：已经模拟过的时间"),
            ("N/M", "候选者的票数：已有 N 票，需要 M 票"),
            ("⋯◯", "彩色点状外圈：网络分区的各方，每组一种颜色"),
        ],
    }
}

/// "1 time a node became LEADER", "3 times …".
pub fn leader_changes(lang: Lang, n: u64) -> String {
    match (lang, n) {
        (Lang::En, 1) => "1 time a node became LEADER".to_string(),
        (Lang::En, _) => format!("{n} times a node became LEADER"),
        (Lang::Zh, _) => format!("{n} 次有节点成为领导者"),
    }
}

texts! {
    compare_with: "Compare with", "比较对象";
    the_leader: "the leader", "领导者";
    show_values: "Show values", "显示值";
    story_end_reached: "The end of the story", "故事结尾";
    primer: "A short primer on Nacos' Raft", "Nacos Raft 简明入门";
    repository: "Source code", "源代码";
    term_hint: "+1 per election, +100 per write (Nacos); the inspector explains.", "每次选举 +1，每次写入 +100（Nacos）；查看器中有说明。";
}
