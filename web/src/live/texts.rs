//! Live mode's fixed texts in English and 简体中文, in one block of their own (the simulator's
//! are in [`crate::i18n`]; shared words such as "term" or "Pause" are taken from there).

use super::model::{Conn, Note};
use crate::i18n::Lang;

/// Every fixed text of live mode.
#[derive(Debug)]
#[allow(missing_docs)]
pub struct LiveTr {
    pub title: &'static str,
    pub subtitle: &'static str,
    pub connect: &'static str,
    pub connect_title: &'static str,
    pub connect_hint: &'static str,
    pub connect_go: &'static str,
    pub cancel: &'static str,
    pub simulation: &'static str,
    pub messages: &'static str,
    pub conn_open: &'static str,
    pub conn_connecting: &'static str,
    pub conn_unreachable: &'static str,
    pub crashed: &'static str,
    pub tab_faults: &'static str,
    pub crash: &'static str,
    pub restart: &'static str,
    pub isolate: &'static str,
    pub heal_all: &'static str,
    pub timeout_now: &'static str,
    pub loss: &'static str,
    pub latency: &'static str,
    pub apply: &'static str,
    pub cut: &'static str,
    pub heal: &'static str,
    pub draw_hint: &'static str,
    pub faults_disabled: &'static str,
    pub faults_active: &'static str,
    pub no_faults: &'static str,
    pub publish: &'static str,
    pub service: &'static str,
    pub ip: &'static str,
    pub port: &'static str,
    pub via: &'static str,
    pub publish_sent: &'static str,
    pub select_node: &'static str,
    pub select_link: &'static str,
    pub took: &'static str,
    pub truncated_at: &'static str,
    pub bytes: &'static str,
    pub request: &'static str,
    pub answer: &'static str,
    pub failed: &'static str,
    pub frozen: &'static str,
    pub no_violations: &'static str,
    pub unreachable_call: &'static str,
    pub note_connected: &'static str,
    pub note_unreachable: &'static str,
    pub note_gap: &'static str,
    pub note_crashed: &'static str,
    pub note_restarted: &'static str,
    pub note_faults: &'static str,
    pub recent: &'static str,
    pub live_button: &'static str,
    pub conn_none: &'static str,
    pub no_stream_tag: &'static str,
    pub scrub: &'static str,
    pub go_live: &'static str,
    pub trimmed: &'static str,
}

const EN: LiveTr = LiveTr {
    title: "Nacos Raft, live",
    subtitle: "real nacos-raft-node processes, watched through their event streams",
    connect: "Connect…",
    connect_title: "Watch a running cluster",
    connect_hint: "Addresses of nacos-raft-node processes (host:port, comma-separated). Start them with --web-origin set to this page's origin (make live does), and --faults to break them from here.",
    connect_go: "Connect",
    cancel: "Cancel",
    simulation: "Simulation",
    messages: "messages",
    conn_open: "streaming",
    conn_connecting: "connecting…",
    conn_unreachable: "unreachable, retrying",
    crashed: "crashed (fault API)",
    tab_faults: "Faults",
    crash: "Crash",
    restart: "Restart",
    isolate: "Isolate",
    heal_all: "Heal all",
    timeout_now: "Time out now",
    loss: "Loss %",
    latency: "Latency ms (min–max)",
    apply: "Apply",
    cut: "Cut",
    heal: "Heal",
    draw_hint: "Click a link to inspect it, or draw a line across the ring to cut every link it crosses.",
    faults_disabled: "faults are disabled on this node: start it with --faults to break it from the page",
    faults_active: "Active faults",
    no_faults: "no faults",
    publish: "Publish",
    service: "Service",
    ip: "IP",
    port: "Port",
    via: "Through",
    publish_sent: "sent (a persistent instance): the Data view shows the key once the leader commits it",
    select_node: "Select a node on the ring to break it.",
    select_link: "Selected link",
    took: "took",
    truncated_at: "… (truncated at",
    bytes: "bytes)",
    request: "Request",
    answer: "Answer",
    failed: "failed",
    frozen: "Paused: the view is frozen, the cluster goes on (and is recorded).",
    no_violations: "No violation seen.",
    unreachable_call: "could not reach",
    note_connected: "stream open",
    note_unreachable: "stream dropped: unreachable, reconnecting",
    note_gap: "records lost (the page fell behind): re-syncing from a fresh snapshot",
    note_crashed: "crashed by the fault API",
    note_restarted: "restarted from its data directory",
    note_faults: "faults changed",
    recent: "Recent messages",
    live_button: "Live…",
    no_stream_tag: "no stream",
    conn_none: "no stream (drawn from what the other nodes send it and hear from it)",
    scrub: "Scrub the recorded session",
    go_live: "Live",
    trimmed: "oldest records dropped (the recording is bounded): scrubbing starts here",
};

const ZH: LiveTr = LiveTr {
    title: "Nacos Raft 实时",
    subtitle: "真实的 nacos-raft-node 进程，通过它们的事件流观察",
    connect: "连接…",
    connect_title: "观察运行中的集群",
    connect_hint: "nacos-raft-node 进程的地址（host:port，逗号分隔）。启动时用 --web-origin 指定本页面的来源（make live 已设置），加 --faults 才能在此注入故障。",
    connect_go: "连接",
    cancel: "取消",
    simulation: "模拟",
    messages: "条消息",
    conn_open: "数据流已连接",
    conn_connecting: "连接中…",
    conn_unreachable: "不可达，重试中",
    crashed: "已崩溃（故障 API）",
    tab_faults: "故障",
    crash: "崩溃",
    restart: "重启",
    isolate: "隔离",
    heal_all: "全部恢复",
    timeout_now: "立即超时",
    loss: "丢包 %",
    latency: "延迟 ms（最小–最大）",
    apply: "应用",
    cut: "切断",
    heal: "恢复",
    draw_hint: "点击链路查看它，或在环上画一条线切断它穿过的所有链路。",
    faults_disabled: "此节点未开启故障注入：用 --faults 启动它才能在页面上破坏它",
    faults_active: "当前故障",
    no_faults: "无故障",
    publish: "发布",
    service: "服务",
    ip: "IP",
    port: "端口",
    via: "经由",
    publish_sent: "已发送（持久实例）：领导者提交后，数据视图会显示该键",
    select_node: "在环上选择一个节点来破坏它。",
    select_link: "所选链路",
    took: "耗时",
    truncated_at: "……（截断于",
    bytes: "字节）",
    request: "请求",
    answer: "应答",
    failed: "失败",
    frozen: "已暂停：画面冻结，集群继续运行（并被记录）。",
    no_violations: "未发现违规。",
    unreachable_call: "无法访问",
    note_connected: "数据流已打开",
    note_unreachable: "数据流断开：不可达，正在重连",
    note_gap: "丢失了记录（页面跟不上）：从新的快照重新同步",
    note_crashed: "被故障 API 崩溃",
    note_restarted: "从数据目录重启",
    note_faults: "故障已变更",
    recent: "最近的消息",
    live_button: "实时…",
    no_stream_tag: "无数据流",
    conn_none: "无数据流（由其他节点的收发推断）",
    scrub: "回看录制的会话",
    go_live: "回到实时",
    trimmed: "条最早的记录已丢弃（录制有上限），回看从这里开始",
};

/// Live mode's texts of a language.
pub fn tr(lang: Lang) -> &'static LiveTr {
    match lang {
        Lang::En => &EN,
        Lang::Zh => &ZH,
    }
}

/// A stream's state in words.
pub fn conn_word(lang: Lang, c: Conn) -> &'static str {
    let t = tr(lang);
    match c {
        Conn::Open => t.conn_open,
        Conn::Connecting => t.conn_connecting,
        Conn::Unreachable => t.conn_unreachable,
        Conn::NoStream => t.conn_none,
    }
}

/// Under a payload cut at `n` bytes (the cap the page asks the nodes for, or a node's own).
pub fn truncated(lang: Lang, n: usize) -> String {
    let t = tr(lang);
    format!("{} {n} {}", t.truncated_at, t.bytes)
}

/// A page note as a sentence.
pub fn note(lang: Lang, n: &Note) -> String {
    let t = tr(lang);
    match n {
        Note::Connected => t.note_connected.to_string(),
        Note::Unreachable => t.note_unreachable.to_string(),
        Note::Gap(k) => format!("{k} {}", t.note_gap),
        Note::Crashed => t.note_crashed.to_string(),
        Note::Restarted => t.note_restarted.to_string(),
        Note::FaultsChanged => t.note_faults.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_say_every_note() {
        for lang in [Lang::En, Lang::Zh] {
            for n in [
                Note::Connected,
                Note::Unreachable,
                Note::Gap(3),
                Note::Crashed,
            ] {
                assert!(!note(lang, &n).is_empty());
            }
            assert_ne!(
                conn_word(lang, Conn::Open),
                conn_word(lang, Conn::Unreachable)
            );
        }
        assert!(note(Lang::Zh, &Note::Gap(7)).starts_with("7 "));
        assert_eq!(truncated(Lang::En, 1024), "… (truncated at 1024 bytes)");
        assert_eq!(truncated(Lang::Zh, 1024), "……（截断于 1024 字节）");
        assert_ne!(tr(Lang::En).crash, tr(Lang::Zh).crash);
    }
}
