//! The texts of the rule sets (issue #13): the titles of the two rings of Compare mode, and each
//! fix's one-line explanation, in English and 简体中文; and which fixes have a design note in
//! `docs/hardened/` in this build (only those are linked).

use crate::i18n::Lang;
use nacos_raft_core::{Fix, Rules};

const fn pick(lang: Lang, en: &'static str, zh: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

/// The fixes that have `docs/hardened/<name>.md` in the source tree this page was built from
/// (written by build.rs).
const DOCUMENTED: &[&str] = include!(concat!(env!("OUT_DIR"), "/hardened_docs.rs"));

/// The title of the left ring in Compare mode.
pub fn left_title(lang: Lang) -> &'static str {
    pick(lang, "Nacos 1.4.1", "Nacos 1.4.1")
}

/// The title of the right ring in Compare mode.
pub fn right_title(lang: Lang) -> &'static str {
    pick(lang, "Hardened", "加固版")
}

/// The name of a rule set, as the headline says which rules a single ring runs.
pub fn rules_name(lang: Lang, r: Rules) -> String {
    match r.normalized() {
        Rules::Nacos141 => left_title(lang).to_string(),
        Rules::Hardened => right_title(lang).to_string(),
        Rules::Custom(f) => {
            let n = f.iter().count();
            let all = Fix::ALL.len();
            match lang {
                Lang::En => format!("Nacos 1.4.1 + {n} of {all} fixes"),
                Lang::Zh => format!("Nacos 1.4.1 + {all} 项修复中的 {n} 项"),
            }
        }
    }
}

/// The heading of the list of switches.
pub fn fixes_heading(lang: Lang) -> &'static str {
    pick(
        lang,
        "Fixes on the right (each one alone):",
        "右侧启用的修复（可逐项开关）：",
    )
}

/// The text of the Compare button of a scenario, and of the mode switch.
pub fn compare_button(lang: Lang) -> &'static str {
    pick(lang, "Compare", "对比")
}

/// The rules menu's label and options: (value of `rules=`, text).
pub fn rules_label(lang: Lang) -> &'static str {
    pick(lang, "Rules", "规则")
}

/// The options of the rules menu.
pub fn rules_options(lang: Lang) -> [(&'static str, &'static str); 3] {
    [
        ("nacos", left_title(lang)),
        ("hardened", right_title(lang)),
        ("compare", pick(lang, "Compare both", "两者对比")),
    ]
}

/// A fix's one-line explanation: the flaw, then the fix.
pub fn explain(lang: Lang, fix: Fix) -> &'static str {
    match fix {
        Fix::StaleVotes => pick(
            lang,
            "decideLeader counts votes cast in older terms; only this term's votes count.",
            "decideLeader 会计入旧任期的投票；修复后只计本任期的票。",
        ),
        Fix::TermBump => pick(
            lang,
            "every write adds 100 to the term and sync copies terms; terms move only by elections.",
            "每次写入任期加 100，同步还会复制任期；修复后任期只随选举变化。",
        ),
        Fix::StaleCandidate => pick(
            lang,
            "a node with stale data can win (#785); voters refuse a candidate older than them, \
             and term t writes at timestamps from t × 10⁹ + 1.",
            "数据陈旧的节点也能当选（#785）；修复后投票者拒绝比自己旧的候选者，\
             任期 t 的写入时间戳从 t × 10⁹ + 1 起。",
        ),
        Fix::DeadKey => pick(
            lang,
            "the dead-key rule deletes acknowledged writes (#3652); a newer key is never deleted.",
            "dead-key 规则会删掉已确认的写入（#3652）；修复后不删除比领导者更新的键。",
        ),
        Fix::TwoLeaders => pick(
            lang,
            "a leader never steps down; without a majority for a leader timeout, it does.",
            "领导者从不主动退位；修复后一个选举超时内联系不上多数派就退位。",
        ),
        Fix::FirstBeat => pick(
            lang,
            "a new leader's first beat waits a heartbeat interval; it beats at once.",
            "新领导者要等一个心跳间隔才发第一次心跳；修复后立即发送。",
        ),
        Fix::GlobalLock => pick(
            lang,
            "OPERATE_LOCK serializes every write; different keys in parallel, one key in order.",
            "OPERATE_LOCK 让所有写入串行；修复后不同键并行，同一键按序。",
        ),
        Fix::TermOnRestart => pick(
            lang,
            "a restart forgets the term; the term and vote are saved and reloaded.",
            "重启会丢失任期；修复后任期和投票会持久化并重新加载。",
        ),
        Fix::StaleForward => pick(
            lang,
            "a forwarded write waits on a leader no longer followed; it fails at once, to retry.",
            "转发的写入会一直等待已不再跟随的领导者；修复后立即失败，由客户端重试。",
        ),
        Fix::SplitVote => pick(
            lang,
            "after a split vote both candidates wait a whole leader due; the first of the two \
             (log position, data, then lower address) campaigns again at the next tick.",
            "分票后两个候选者都要再等一整个 leaderDueMs；修复后排在前面的一个\
             （依次比较日志位置、数据、地址）在下一个定时周期立即重新选举。",
        ),
    }
}

/// The design note of `fix`, when this build has one: `docs/hardened/<name>.md` (beside the
/// page, or in the repository when the build knows it).
pub fn doc_link(fix: Fix) -> Option<String> {
    let name = fix.name();
    DOCUMENTED.contains(&name).then(|| {
        let file = format!("docs/hardened/{name}.md");
        match crate::teach::links::REPOSITORY {
            Some(repository) => format!("{repository}/blob/main/{file}"),
            None => file,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fix_is_explained_in_both_languages() {
        for fix in Fix::ALL {
            for lang in [Lang::En, Lang::Zh] {
                let t = explain(lang, fix);
                assert!(!t.is_empty() && t.len() < 200, "{fix}: {t}");
            }
            assert_ne!(explain(Lang::En, fix), explain(Lang::Zh, fix));
        }
        assert_eq!(rules_name(Lang::En, Rules::Hardened), "Hardened");
        assert_eq!(
            rules_name(
                Lang::En,
                Rules::Custom(nacos_raft_core::Fixes::NONE.with(Fix::DeadKey, true))
            ),
            "Nacos 1.4.1 + 1 of 10 fixes"
        );
    }

    #[test]
    fn only_documented_fixes_link() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/hardened");
        for fix in Fix::ALL {
            let exists = root.join(format!("{}.md", fix.name())).is_file();
            assert_eq!(doc_link(fix).is_some(), exists, "{fix}");
        }
    }
}
