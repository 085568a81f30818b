use super::*;
use nacos_raft_core::sim::scenario;
use nacos_raft_core::sim::TraceMode;

/// The world of preset `id`, simulated to its end and shown at `at` (its end if `None`).
fn story(id: &str, at: Option<u64>) -> (World, scenario::Preset) {
    let p = scenario::preset(id).unwrap();
    let mut cfg = p.config.clone();
    cfg.trace = TraceMode::Full;
    let mut w = World::new(cfg, p.actions.clone()).unwrap();
    w.prefetch(p.end_ms);
    w.seek(at.unwrap_or(p.end_ms));
    (w, p)
}

#[test]
fn the_headline_names_every_node_that_believes_it_leads() {
    let (w, _) = story("two-leaders", None);
    let v = w
        .sim()
        .violations()
        .iter()
        .find(|v| v.kind == ViolationKind::TwoLeaders);
    let at = v.expect("the story's violation").at_ms;
    let (w, _) = story("two-leaders", Some(at));
    let l = leaders(w.sim());
    assert_eq!(l.len(), 2, "{l:?}");
    let h = headline(Lang::En, w.sim());
    let want = format!(
        "two leaders: {} term {}, {} term {}",
        letter(l[0].0),
        l[0].1,
        letter(l[1].0),
        l[1].1
    );
    assert_eq!(h, want);
    let zh = headline(Lang::Zh, w.sim());
    assert!(zh.starts_with("2 个领导者："), "{zh}");
    // The caption says it too, and names the two sides of the split.
    let c = caption(Lang::En, w.sim());
    assert!(c.starts_with("two leaders: "), "{c}");
    assert!(c.contains("the network is split: "), "{c}");
    let groups = groups(w.sim());
    assert_eq!(groups.len(), 2);
    assert_eq!(groups.iter().map(Vec::len).sum::<usize>(), 5);
}

#[test]
fn the_caption_says_what_happens_in_words() {
    let (w, _) = story("first-election", Some(0));
    assert_eq!(caption(Lang::En, w.sim()), T::waiting(Lang::En));
    assert_eq!(headline(Lang::En, w.sim()), "no leader");
    let (w, p) = story("first-election", None);
    let c = caption(Lang::En, w.sim());
    let l = leaders(w.sim());
    assert_eq!(l.len(), 1);
    assert_eq!(
        c,
        format!("{} leads in term 1; its beats list 0 keys", letter(l[0].0)),
        "{}",
        p.id
    );
    assert!(caption(Lang::Zh, w.sim()).contains("领导者"));
    // A candidate, between its vote requests and its win: its votes counted.
    let first = w
        .marks()
        .iter()
        .find(|m| matches!(m.kind, MarkKind::Election { .. }))
        .unwrap()
        .at_ms;
    let (w, _) = story("first-election", Some(first));
    let c = caption(Lang::En, w.sim());
    assert!(
        c.contains("is a candidate for term 1 and has 1 of 3 votes"),
        "{c}"
    );
    // A crashed node is named.
    let (w, _) = story("leader-crash", None);
    assert!(caption(Lang::En, w.sim()).ends_with(" down"));
}

#[test]
fn stories_are_told_in_chapters() {
    let (w, p) = story("two-leaders", None);
    let ch = chapters(&w, &p.actions, p.end_ms);
    assert_eq!(ch[0].beats, vec![Beat::Start]);
    assert!(ch.windows(2).all(|c| c[0].at_ms < c[1].at_ms));
    let has = |f: &dyn Fn(&Beat) -> bool| ch.iter().any(|c| c.beats.iter().any(f));
    assert!(has(&|b| matches!(b, Beat::Act(Action::Partition { .. }))));
    assert!(has(&|b| matches!(b, Beat::Act(Action::HealAll))));
    assert!(has(&|b| matches!(b, Beat::Leader { .. })));
    assert!(has(&|b| matches!(
        b,
        Beat::Violation(ViolationKind::TwoLeaders)
    )));
    let acts = story_actions(&ch);
    assert_eq!(acts, p.actions, "every action of the story is in a chapter");
    assert_eq!(chapter_at(&ch, 0), 0);
    assert_eq!(chapter_at(&ch, p.end_ms), ch.len() - 1);
    assert_eq!(chapter_at(&ch, ch[2].at_ms), 2);
    assert_eq!(chapter_at(&ch, ch[2].at_ms - 1), 1);
    let t = chapter_text(Lang::En, &ch[0], "Two leaders");
    assert_eq!(t, "the story begins: Two leaders");
    for c in &ch {
        let zh = chapter_text(Lang::Zh, c, "两个领导者");
        assert!(!zh.contains("you"), "{zh}");
    }
    for id in scenario::IDS {
        for lang in [Lang::En, Lang::Zh] {
            assert!(story_end(lang, id).is_some(), "{id}");
        }
    }
}

/// Whether `t` holds an English word of three letters or more that is not a name of the
/// protocol (leaderDueMs) or part of a key.
fn english_word(t: &str) -> Option<String> {
    // Keys (the only words with `@@`) keep their names; the key ends at the first full-width
    // bracket.
    t.split(|c: char| c.is_whitespace() || c == '（')
        .filter(|tok| !tok.contains("@@"))
        .flat_map(|tok| tok.split(|c: char| !c.is_ascii_alphabetic()))
        .find(|w| w.len() >= 3 && *w != "leaderDueMs")
        .map(str::to_string)
}

#[test]
fn violation_details_read_in_chinese() {
    let mut seen = std::collections::BTreeSet::new();
    for id in scenario::IDS {
        let (w, _) = story(id, None);
        let s = w.sim();
        for v in s.violations() {
            seen.insert(v.kind.as_str());
            let en = violation_detail(Lang::En, v, s.len());
            assert!(!en.contains("127.0.0.1"), "{en}");
            let zh = violation_detail(Lang::Zh, v, s.len());
            assert_ne!(zh, en);
            assert_eq!(english_word(&zh), None, "{id}: {zh}");
            assert!(!zh.contains(':') && !zh.contains(','), "half-width in {zh}");
        }
    }
    assert!(seen.len() >= 2, "{seen:?}");
}

#[test]
fn every_wording_of_the_monitor_is_translated() {
    let v = |kind, detail: &str, nodes: Vec<usize>| Violation {
        at_ms: 1,
        kind,
        detail: detail.into(),
        nodes,
    };
    let a = nacos_raft_core::sim::address;
    let cases = [
        v(
            ViolationKind::TermDecreased,
            &format!("{} term 301 → 2 by beat sync, which adopts the older term of the beat it answered", a(2)),
            vec![2],
        ),
        v(ViolationKind::TermDecreased, &format!("{} term 3 → 0 outside beat sync", a(0)), vec![0]),
        v(
            ViolationKind::TwoLeaders,
            &format!("LEADER at once: {} (term 301), {} (term 2)", a(2), a(3)),
            vec![2, 3],
        ),
        v(
            ViolationKind::TwoLeadersSameTerm,
            &format!("{} and {} are both LEADER in term 7", a(0), a(1)),
            vec![0, 1],
        ),
        v(
            ViolationKind::LostAckedWrite,
            &format!("com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@svc1 (acknowledged at 5000 ms via {}) is missing from the leader {}", a(1), a(0)),
            vec![0, 1],
        ),
        v(
            ViolationKind::StaleLeader,
            &format!("{} has believed in {} since 3000 ms, but it is not LEADER", a(1), a(0)),
            vec![1],
        ),
        v(
            ViolationKind::NotConverged,
            &format!("three quiet beats after the last change, {} (3 keys differ), {} (1 keys differ) still differ from the leader {}", a(1), a(2), a(0)),
            vec![1, 2],
        ),
    ];
    let want = [
        "C 的任期从 301 降到 2：心跳同步采用了它所应答的心跳中更旧的任期",
        "A 的任期从 3 降到 0（不是心跳同步造成的）",
        "同时是领导者：C（任期 301）、D（任期 2）",
        "A 和 B 在任期 7 中都是领导者",
        "iplist.…@@svc1（5000 ms 时经由 B 确认）在领导者 A 上不见了",
        "B 从 3000 ms 起一直认定 A 是领导者，但 A 并不是领导者",
        "最后一次变化后又过了三个平静的心跳周期，B（3 个键不同）、C（1 个键不同）仍与领导者 A 不一致",
    ];
    assert_eq!(
        violation_detail(Lang::En, &cases[2], 5),
        "C (term 301), D (term 2) both believe they lead"
    );
    for (c, w) in cases.iter().zip(want) {
        assert_eq!(violation_detail(Lang::Zh, c, 5), w);
    }
}
