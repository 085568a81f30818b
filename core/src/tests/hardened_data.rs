//! The data fixes of the hardened rule set (issue #13, `docs/hardened/`): each test runs the
//! same input under Nacos 1.4.1 and under the one fix, and asserts both output lists.

use super::*;
use crate::{key, Datum, Fix, Fixes, PeerState, Persist, RaftPeer, Request, Rules, Timer};

/// Nacos 1.4.1 with only `fix`.
fn only(fix: Fix) -> Rules {
    Rules::Custom(Fixes::NONE.with(fix, true))
}

/// Member `i` of an `n`-member cluster under `rules`, fresh.
fn node_under(rules: Rules, i: usize, n: usize) -> Node {
    let cfg = Config {
        rules,
        ..Config::default()
    };
    Node::new(cfg, &addr(i), &members(n), 42 + i as u64).unwrap()
}

/// Member 0 of a 3-member cluster under `rules`, elected in term 1 by member 1.
fn elected_under(rules: Rules) -> Node {
    let mut a = node_under(rules, 0, 3);
    a.timeout_now();
    let ids = send_ids(&a.take_outputs());
    a.on_response(ids[0], voter(1, 1, 0));
    skip(&mut a);
    assert!(a.is_leader());
    a
}

/// Member 1 of a 3-member cluster under `rules`, following member 0 (term `term`).
fn following_under(rules: Rules, term: u64) -> Node {
    let mut f = node_under(rules, 1, 3);
    f.on_request(1, beat(0, term, &[]));
    skip(&mut f);
    f
}

// ---- Fix::TermBump ----------------------------------------------------------------------

/// Two writes on the leader: Nacos adds 100 to the term per write and rewrites the term file
/// each time; under the fix the term stays the election's and is not rewritten.
fn leader_writes_twice(rules: Rules) -> String {
    let mut a = elected_under(rules);
    for _ in 0..2 {
        a.put(iplist(0), value("{}"));
        let ids = send_ids(&a.take_outputs());
        a.on_response(ids[0], Ok(Response::Ok));
        skip(&mut a);
    }
    a.put(iplist(0), value("{}"));
    rendered(&mut a)
}

#[test]
fn term_bump_leader_writes_leave_the_term_alone() {
    assert_eq!(
        leader_writes_twice(Rules::Nacos141),
        "persist datum iplist.s000 ts=3 {}\n\
         persist term 301\n\
         event publish-started iplist.s000 ts=3 term=301\n\
         send B #7 commit iplist.s000 ts=3 {} src=A src.term=201\n\
         send C #8 commit iplist.s000 ts=3 {} src=A src.term=201\n\
         timer publish#3 5000"
    );
    assert_eq!(
        leader_writes_twice(only(Fix::TermBump)),
        "persist datum iplist.s000 ts=3 {}\n\
         event publish-started iplist.s000 ts=3 term=1\n\
         send B #7 commit iplist.s000 ts=3 {} src=A src.term=1\n\
         send C #8 commit iplist.s000 ts=3 {} src=A src.term=1\n\
         timer publish#3 5000"
    );
}

/// `stale-candidate`'s timestamps by term: the leader elected in term 1 writes a key at
/// `1 × TERM_STRIDE + 1` and up, where Nacos starts at 1 (docs/hardened/stale-candidate.md).
#[test]
fn stale_candidate_a_leader_writes_in_its_terms_timestamp_range() {
    assert_eq!(
        leader_writes_twice(Rules::Nacos141).lines().next(),
        Some("persist datum iplist.s000 ts=3 {}")
    );
    let out = leader_writes_twice(only(Fix::StaleCandidate));
    assert_eq!(
        out.lines().next(),
        Some("persist datum iplist.s000 ts=1000000003 {}"),
        "{out}"
    );
    assert!(out.contains("commit iplist.s000 ts=1000000003 {}"), "{out}");
}

/// A follower in term 0 gets two commits from a leader elected in term 250: Nacos steps +100
/// per commit (100, then 200: terms no election made); under the fix it learns 250 once and
/// does not rewrite the term file for the second commit.
fn follower_commits(rules: Rules) -> String {
    let mut f = following_under(rules, 250);
    f.on_request(2, commit(&iplist(0), "{}", 1, 0, 250));
    f.on_request(3, commit(&iplist(1), "{}", 1, 0, 250));
    rendered(&mut f)
}

#[test]
fn term_bump_followers_only_learn_elected_terms() {
    assert_eq!(
        follower_commits(Rules::Nacos141),
        "persist datum iplist.s000 ts=1 {}\n\
         persist term 100\n\
         event commit-applied iplist.s000 ts=1 from=A term=100\n\
         reply #2 200 ok\n\
         persist datum iplist.s001 ts=1 {}\n\
         persist term 200\n\
         event commit-applied iplist.s001 ts=1 from=A term=200\n\
         reply #3 200 ok"
    );
    assert_eq!(
        follower_commits(only(Fix::TermBump)),
        "persist datum iplist.s000 ts=1 {}\n\
         persist term 250\n\
         event commit-applied iplist.s000 ts=1 from=A term=250\n\
         reply #2 200 ok\n\
         persist datum iplist.s001 ts=1 {}\n\
         event commit-applied iplist.s001 ts=1 from=A term=250\n\
         reply #3 200 ok"
    );
}

// ---- Fix::GlobalLock --------------------------------------------------------------------

/// Three writes at once: keys 0, 1, then 0 again. Nacos runs one at a time; under the fix the
/// writes to keys 0 and 1 run together and the second write to key 0 waits for the first.
fn three_writes(rules: Rules) -> (String, String) {
    let mut a = elected_under(rules);
    a.put(iplist(0), value("{}"));
    a.put(iplist(1), value("{}"));
    a.put(iplist(0), value("{}"));
    let outs = a.take_outputs();
    let started = render(&outs, &crate::testing::Names::new(&members(16))).join("\n");
    let pending = a.pending_writes();
    // The first commit of key 0 is acked (by B): that write finishes, the next one may start.
    a.on_response(send_ids(&outs)[0], Ok(Response::Ok));
    let after = rendered(&mut a);
    (format!("{pending} pending\n{started}"), after)
}

#[test]
fn global_lock_writes_to_different_keys_run_together_one_key_in_order() {
    let (started, after) = three_writes(Rules::Nacos141);
    assert_eq!(
        started,
        "3 pending\n\
         persist datum iplist.s000 ts=1 {}\n\
         persist term 101\n\
         event publish-started iplist.s000 ts=1 term=101\n\
         send B #3 commit iplist.s000 ts=1 {} src=A src.term=1\n\
         send C #4 commit iplist.s000 ts=1 {} src=A src.term=1\n\
         timer publish#1 5000"
    );
    // Nacos: the next write in line (key 1) starts only now.
    assert_eq!(
        after,
        "event published iplist.s000 ts=1\n\
         done op#1 ok\n\
         persist datum iplist.s001 ts=1 {}\n\
         persist term 201\n\
         event publish-started iplist.s001 ts=1 term=201\n\
         send B #5 commit iplist.s001 ts=1 {} src=A src.term=101\n\
         send C #6 commit iplist.s001 ts=1 {} src=A src.term=101\n\
         timer publish#2 5000"
    );
    let (started, after) = three_writes(only(Fix::GlobalLock));
    // The fix: keys 0 and 1 are published at once, the second write to key 0 waits.
    assert_eq!(
        started,
        "3 pending\n\
         persist datum iplist.s000 ts=1 {}\n\
         persist term 101\n\
         event publish-started iplist.s000 ts=1 term=101\n\
         send B #3 commit iplist.s000 ts=1 {} src=A src.term=1\n\
         send C #4 commit iplist.s000 ts=1 {} src=A src.term=1\n\
         timer publish#1 5000\n\
         persist datum iplist.s001 ts=1 {}\n\
         persist term 201\n\
         event publish-started iplist.s001 ts=1 term=201\n\
         send B #5 commit iplist.s001 ts=1 {} src=A src.term=101\n\
         send C #6 commit iplist.s001 ts=1 {} src=A src.term=101\n\
         timer publish#2 5000"
    );
    assert_eq!(
        after,
        "event published iplist.s000 ts=1\n\
         done op#1 ok\n\
         persist datum iplist.s000 ts=2 {}\n\
         persist term 301\n\
         event publish-started iplist.s000 ts=2 term=301\n\
         send B #7 commit iplist.s000 ts=2 {} src=A src.term=201\n\
         send C #8 commit iplist.s000 ts=2 {} src=A src.term=201\n\
         timer publish#3 5000"
    );
}

#[test]
fn global_lock_a_timed_out_write_frees_only_its_key() {
    let mut a = elected_under(only(Fix::GlobalLock));
    a.put(iplist(0), value("{}"));
    a.put(iplist(1), value("{}"));
    a.put(iplist(0), value("{}"));
    skip(&mut a);
    // Key 0's first write times out: key 0's next write starts, key 1's publish goes on.
    a.on_timer(Timer::PublishTimeout(1));
    outputs(&mut a, &[
        "event publish-failed iplist.s000: data publish failed, caused failed to notify majority",
        "done op#1 500 data publish failed, caused failed to notify majority, key=com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@s000",
        "persist datum iplist.s000 ts=2 {}",
        "persist term 301",
        "event publish-started iplist.s000 ts=2 term=301",
        "send B #7 commit iplist.s000 ts=2 {} src=A src.term=201",
        "send C #8 commit iplist.s000 ts=2 {} src=A src.term=201",
        "timer publish#3 5000",
    ]);
    assert_eq!(a.pending_writes(), 2);
}

// ---- Fix::DeadKey -----------------------------------------------------------------------

/// alibaba/nacos#3652 on a follower: B holds key 0 (committed by leader A, term 1); C, elected
/// in term 2 without it, beats an empty list. Nacos deletes the acknowledged write; under the
/// fix B keeps it and sends it to C as a repair.
fn stale_leader_beat(rules: Rules) -> String {
    let mut b = following_under(rules, 1);
    b.on_request(2, commit(&iplist(0), "{}", 1, 0, 1));
    skip(&mut b);
    b.on_request(3, beat(2, 2, &[]));
    // A second beat while the repair is in flight sends nothing more.
    b.on_request(4, beat(2, 2, &[]));
    format!("{}\n{} datums", rendered(&mut b), b.datum_count())
}

#[test]
fn dead_key_a_stale_leaders_beat_does_not_delete_an_acknowledged_write() {
    assert_eq!(
        stale_leader_beat(Rules::Nacos141),
        "event leader-changed C was=A\n\
         send A #1 peer\n\
         event beat-accepted C term=2\n\
         persist remove iplist.s000\n\
         event dead-key-deleted iplist.s000\n\
         reply #3 200 B FOLLOWER term=1 vote=-\n\
         send A #2 peer\n\
         event beat-accepted C term=2\n\
         reply #4 200 B FOLLOWER term=1 vote=-\n\
         0 datums"
    );
    assert_eq!(
        stale_leader_beat(only(Fix::DeadKey)),
        "event leader-changed C was=A\n\
         send A #1 peer\n\
         event beat-accepted C term=2\n\
         send C #2 repair iplist.s000 ts=1 {}\n\
         reply #3 200 B FOLLOWER term=1 vote=-\n\
         send A #3 peer\n\
         event beat-accepted C term=2\n\
         reply #4 200 B FOLLOWER term=1 vote=-\n\
         1 datums"
    );
}

fn repair(k: &str, ts: u64) -> Request {
    Request::Repair {
        key: k.into(),
        value: value("{}"),
        timestamp: ts,
    }
}

/// The leader's side: a repair of a key it lacks, of a key it deleted, of a key it holds newer.
fn leader_repairs(rules: Rules) -> String {
    let mut a = elected_under(rules);
    for i in [1, 2] {
        a.put(iplist(i), value("{}"));
        let ids = send_ids(&a.take_outputs());
        a.on_response(ids[0], Ok(Response::Ok));
    }
    a.put(iplist(2), value("{}"));
    let ids = send_ids(&a.take_outputs());
    a.on_response(ids[0], Ok(Response::Ok));
    a.remove(iplist(1));
    // B acks the delete commit (under the fix the delete holds the lock until a majority has it).
    let ids = send_ids(&a.take_outputs());
    a.on_response(ids[0], Ok(Response::Ok));
    skip(&mut a);
    a.on_request(10, repair(&iplist(0), 4));
    a.on_request(11, repair(&iplist(1), 1));
    a.on_request(12, repair(&iplist(2), 2));
    let first = a.take_outputs();
    let names = crate::testing::Names::new(&members(16));
    let mut lines = render(&first, &names);
    // B acks the first publish: the repairs queued behind it (Nacos' one lock) run.
    if let Some(&id) = send_ids(&first).first() {
        a.on_response(id, Ok(Response::Ok));
    }
    lines.extend(render(&a.take_outputs(), &names));
    lines.join("\n")
}

#[test]
fn dead_key_the_leader_takes_a_repair_unless_deleted_or_newer() {
    // Nacos reads a repair as a plain forwarded write: key 0 is published with ts 1 (the
    // follower's 4 is lost), then the deleted key 1 comes back.
    assert_eq!(
        leader_repairs(Rules::Nacos141),
        "persist datum iplist.s000 ts=1 {}\n\
         persist term 401\n\
         event publish-started iplist.s000 ts=1 term=401\n\
         send B #11 commit iplist.s000 ts=1 {} src=A src.term=301\n\
         send C #12 commit iplist.s000 ts=1 {} src=A src.term=301\n\
         timer publish#4 5000\n\
         event published iplist.s000 ts=1\n\
         reply #10 200 ok\n\
         persist datum iplist.s001 ts=1 {}\n\
         persist term 501\n\
         event publish-started iplist.s001 ts=1 term=501\n\
         send B #13 commit iplist.s001 ts=1 {} src=A src.term=401\n\
         send C #14 commit iplist.s001 ts=1 {} src=A src.term=401\n\
         timer publish#5 5000"
    );
    // The fix: key 0 is taken at the follower's timestamp, the deleted key 1 is refused (the
    // follower will delete its copy), key 2 (ts 2 here) is not older than the repair: ok, no write.
    assert_eq!(
        leader_repairs(only(Fix::DeadKey)),
        "persist datum iplist.s000 ts=4 {}\n\
         persist term 401\n\
         event publish-started iplist.s000 ts=4 term=401\n\
         send B #11 commit iplist.s000 ts=4 {} src=A src.term=301\n\
         send C #12 commit iplist.s000 ts=4 {} src=A src.term=301\n\
         timer publish#5 5000\n\
         event published iplist.s000 ts=4\n\
         reply #10 200 ok\n\
         reply #11 500 repair refused: the key was deleted, key=com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@s001\n\
         reply #12 200 ok"
    );
    // With log positions too (every fix) the leader holds every acknowledged write and delete:
    // a copy it lacks (key 0) or deleted (key 1) was never acknowledged or is gone; key 2 is not
    // older than the repair: ok.
    assert_eq!(
        leader_repairs(Rules::Hardened),
        "reply #10 500 repair refused: the leader holds every acknowledged write, key=com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@s000\n\
         reply #11 500 repair refused: the leader holds every acknowledged write, key=com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@s001\n\
         reply #12 200 ok"
    );
}

#[test]
fn dead_key_a_refused_repair_deletes_the_copy_and_a_later_write_clears_the_tombstone() {
    let mut b = following_under(only(Fix::DeadKey), 1);
    b.on_request(2, commit(&iplist(0), "{}", 3, 0, 1));
    b.on_request(3, beat(0, 1, &[]));
    let outs = b.take_outputs();
    let id = send_ids(&outs)[0];
    let refused = crate::RaftError::server(format!("{}, key={}", crate::REPAIR_DELETED, iplist(0)));
    b.on_response(id, Err(crate::Failure::Status(refused)));
    outputs(
        &mut b,
        &[
            "persist tombstone iplist.s000@3",
            "persist remove iplist.s000",
            "event dead-key-deleted iplist.s000",
        ],
    );
    assert_eq!(b.datum_count(), 0);
    // Written again by the leader (above the delete): kept, and the tombstone is history.
    b.on_request(4, commit(&iplist(0), "{}", 4, 0, 1));
    skip(&mut b);
    assert_eq!(b.datum(&iplist(0)).unwrap().timestamp, 4);
    assert!(b.tombstones.is_empty());
}

/// An elected leader writes key 1 (acked by B), then a client deletes it: the leader and the
/// delete's outputs.
fn written_then_deleted(rules: Rules) -> (Node, Vec<Output>) {
    let mut a = elected_under(rules);
    a.put(iplist(1), value("{}"));
    let ids = send_ids(&a.take_outputs());
    a.on_response(ids[0], Ok(Response::Ok));
    skip(&mut a);
    a.remove(iplist(1));
    let outs = a.take_outputs();
    (a, outs)
}

/// The leader's tombstones outlive a restart: restored from what it persisted, it still refuses
/// the repair of a key it deleted (before, the stale copy came back: the delete was lost).
#[test]
fn dead_key_tombstones_are_persisted_and_restored() {
    let rules = only(Fix::DeadKey);
    let (_, outs) = written_then_deleted(rules);
    let at = outs
        .iter()
        .position(|o| {
            *o == Output::Persist(Persist::Tombstone {
                key: iplist(1),
                at: 1,
            })
        })
        .expect("the delete persists its tombstone");
    let gone = outs
        .iter()
        .position(|o| *o == Output::Persist(Persist::Remove { key: iplist(1) }))
        .expect("and removes the file");
    assert!(
        at < gone,
        "the tombstone is written with the removal, first"
    );

    let cfg = Config {
        rules,
        ..Config::default()
    };
    let restart = |tombstones: Vec<(String, u64)>| {
        let mut r = Node::restore(cfg.clone(), &addr(0), &members(3), 7, [], 1)
            .unwrap()
            .with_tombstones(tombstones);
        r.timeout_now();
        let ids = send_ids(&r.take_outputs());
        r.on_response(ids[0], voter(1, 2, 0));
        skip(&mut r);
        assert!(r.is_leader());
        r.on_request(10, repair(&iplist(1), 1));
        rendered(&mut r)
    };
    assert_eq!(
        restart(vec![(iplist(1), 1)]),
        "reply #10 500 repair refused: the key was deleted, key=com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@s001"
    );
    // Without them (as before) the follower's stale copy is published again.
    assert!(restart(vec![]).starts_with("persist datum iplist.s001 ts=1 {}"));
    // A datum newer than a restored tombstone makes it history.
    let d = Datum {
        key: iplist(1),
        value: Some(value("{}")),
        timestamp: 2,
    };
    let r = Node::restore(cfg, &addr(0), &members(3), 7, [d], 1)
        .unwrap()
        .with_tombstones([(iplist(1), 1)]);
    assert!(r.tombstones.is_empty());
}

/// B holds key 0 at ts 3 (a write leader A got to B only); C, elected without it, beats the
/// key at ts 1. Nacos fetches only older keys, so the two copies differ for ever; under the fix
/// B sends its newer copy to C as a repair (the newest write of a key wins).
fn newer_than_the_beat(rules: Rules) -> String {
    let mut b = following_under(rules, 1);
    b.on_request(2, commit(&iplist(0), "{}", 3, 0, 1));
    skip(&mut b);
    b.on_request(3, beat(2, 2, &[(&brief(0), 1)]));
    rendered(&mut b)
}

#[test]
fn dead_key_a_key_held_newer_than_the_beat_lists_it_is_repaired() {
    assert_eq!(
        newer_than_the_beat(Rules::Nacos141),
        "event leader-changed C was=A\n\
         send A #1 peer\n\
         event beat-accepted C term=2\n\
         reply #3 200 B FOLLOWER term=1 vote=-"
    );
    assert_eq!(
        newer_than_the_beat(only(Fix::DeadKey)),
        "event leader-changed C was=A\n\
         send A #1 peer\n\
         event beat-accepted C term=2\n\
         send C #2 repair iplist.s000 ts=3 {}\n\
         reply #3 200 B FOLLOWER term=1 vote=-"
    );
}

/// A delete on the leader: Nacos answers at once (fire-and-forget commits); under the fix the
/// delete holds the key until a majority has it, or fails at the publish timeout.
fn leader_deletes(rules: Rules, ack: bool) -> String {
    let (mut a, outs) = written_then_deleted(rules);
    let names = crate::testing::Names::new(&members(16));
    let mut lines = render(&outs, &names);
    if ack {
        a.on_response(send_ids(&outs)[1], Ok(Response::Ok));
    } else {
        a.on_timer(Timer::PublishTimeout(2));
    }
    lines.push("--".into());
    lines.extend(render(&a.take_outputs(), &names));
    lines.join("\n")
}

#[test]
fn dead_key_a_delete_is_acknowledged_once_a_majority_has_it() {
    assert_eq!(
        leader_deletes(Rules::Nacos141, true),
        "persist remove iplist.s001\n\
         event deleted iplist.s001 by=A\n\
         send B #5 delete-commit iplist.s001 src=A src.term=101\n\
         send C #6 delete-commit iplist.s001 src=A src.term=101\n\
         done op#2 ok\n\
         --"
    );
    assert_eq!(
        leader_deletes(only(Fix::DeadKey), true),
        "persist tombstone iplist.s001@1\n\
         persist remove iplist.s001\n\
         event deleted iplist.s001 by=A\n\
         send B #5 delete-commit iplist.s001 src=A src.term=101\n\
         send C #6 delete-commit iplist.s001 src=A src.term=101\n\
         timer publish#2 5000\n\
         --\n\
         done op#2 ok"
    );
    // No majority in time: the delete fails (the key stays deleted here, as a failed publish
    // stays written).
    assert_eq!(
        leader_deletes(only(Fix::DeadKey), false).split("--\n").nth(1),
        Some(
            "event publish-failed iplist.s001: data delete failed, a majority did not confirm it\n\
             done op#2 500 data delete failed, a majority did not confirm it, key=com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@s001"
        )
    );
}

#[test]
fn dead_key_a_followers_delete_goes_to_the_leader() {
    let delete_on_follower = |rules| {
        let mut f = following_under(rules, 1);
        f.on_request(2, commit(&iplist(0), "{}", 1, 0, 1));
        skip(&mut f);
        f.remove(iplist(0));
        rendered(&mut f)
    };
    // Nacos deletes an instance list at a follower only there: the next beat brings it back.
    assert_eq!(
        delete_on_follower(Rules::Nacos141),
        "persist remove iplist.s000\n\
         event deleted iplist.s000 by=A\n\
         done op#1 ok"
    );
    assert_eq!(
        delete_on_follower(only(Fix::DeadKey)),
        "event forwarded iplist.s000 to=A\n\
         send A #1 forward-delete iplist.s000"
    );
}

/// A commit of [`iplist`] `i` at timestamp 1 from member 0 in term 1, numbered `(1, index)`.
fn numbered_commit(i: usize, index: u64) -> Request {
    match commit(&iplist(i), "{}", 1, 0, 1) {
        Request::Commit { datum, mut source } => {
            source.position = Some((1, index));
            Request::Commit { datum, source }
        }
        _ => unreachable!(),
    }
}

/// A beat of member 0 in term 1 at position `(1, index)` listing `keys` at timestamp 1.
fn numbered_beat(index: u64, keys: &[usize]) -> Request {
    let briefs: Vec<String> = keys.iter().map(|&i| brief(i)).collect();
    let listed: Vec<(&str, u64)> = briefs.iter().map(|b| (b.as_str(), 1)).collect();
    match beat(0, 1, &listed) {
        Request::Beat(p) => {
            let mut p = (*p).clone();
            p.peer.position = Some((1, index));
            Request::Beat(Arc::new(p))
        }
        _ => unreachable!(),
    }
}

/// The keys a node sends repairs of, in order.
fn repaired(outs: &[Output]) -> Vec<String> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Send {
                request: Request::Repair { key, .. },
                ..
            } => Some(key.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn dead_key_a_key_committed_after_the_beats_position_is_not_repaired() {
    let mut b = node_under(Rules::Hardened, 1, 3);
    b.on_request(1, numbered_beat(0, &[]));
    skip(&mut b);
    // Writes 1 and 2 of the leader come in; its beat was built after write 1, before write 2
    // (under `wrk -c 32` hundreds of writes land between the two): it lists key 0 only.
    b.on_request(2, numbered_commit(0, 1));
    b.on_request(3, numbered_commit(1, 2));
    skip(&mut b);
    b.on_request(4, numbered_beat(1, &[0]));
    assert_eq!(repaired(&b.take_outputs()), Vec::<String>::new());
    // A beat at write 2 that does not list key 0 (written at 1) nor key 1: both are repaired,
    // as every key a leader that held it should have listed.
    b.on_request(5, numbered_beat(2, &[]));
    assert_eq!(repaired(&b.take_outputs()), [iplist(0), iplist(1)]);
    // A key's copy from the disk, not from a commit, is repaired whatever the beat's position.
    let mut c = node_under(Rules::Hardened, 1, 3);
    c.on_request(1, numbered_beat(0, &[]));
    c.on_request(2, numbered_commit(2, 1));
    skip(&mut c);
    c.reload(crate::Datum {
        key: iplist(2),
        value: Some(value("{}")),
        timestamp: 1,
    });
    c.on_request(3, numbered_beat(0, &[]));
    assert_eq!(repaired(&c.take_outputs()), [iplist(2)]);
}

// ---- Fix::StaleForward ------------------------------------------------------------------

/// Member 1 follows member 0, forwards a client write to it, then follows member 2 (a beat of
/// term 2); member 0's answer comes afterwards. What member 1 does from the new beat on.
fn forward_then_new_leader(rules: Rules) -> String {
    let mut f = following_under(rules, 1);
    f.put(iplist(0), value("{}"));
    let ids = send_ids(&f.take_outputs());
    f.on_request(2, beat(2, 2, &[]));
    let mut out = rendered(&mut f);
    f.on_response(ids[0], Ok(Response::Ok));
    out.push_str("\n--\n");
    out.push_str(&rendered(&mut f));
    out
}

#[test]
fn stale_forward_a_new_leader_fails_the_forwards_to_the_old() {
    let nacos = forward_then_new_leader(Rules::Nacos141);
    let fixed = forward_then_new_leader(only(Fix::StaleForward));
    // Nacos: the write waits on A, whose answer settles it whenever it comes.
    assert_eq!(
        nacos,
        "event leader-changed C was=A\n\
         send A #2 peer\n\
         event beat-accepted C term=2\n\
         reply #2 200 B FOLLOWER term=0 vote=-\n\
         --\n\
         done op#1 ok"
    );
    // The fix: it fails as B follows C; A's late answer is not awaited any more.
    assert_eq!(
        fixed,
        "event leader-changed C was=A\n\
         event request-failed A forward: no longer followed\n\
         done op#1 500 the leader this write was forwarded to is no longer followed: A had not \
         answered, so the write may or may not be applied there; retry it\n\
         send A #2 peer\n\
         event beat-accepted C term=2\n\
         reply #2 200 B FOLLOWER term=0 vote=-\n\
         --\n"
    );
}

/// Member 1 follows member 0 and forwards a delete to it (holding the key's lock), then grants
/// member 2's vote in term 2 under `rules`; a second delete of the key follows.
fn forward_delete_then_vote(rules: Rules) -> String {
    let key = key::meta_key("public", "DEFAULT_GROUP@@s000");
    let mut f = following_under(rules, 1);
    f.remove(key.clone());
    skip(&mut f);
    let mut cand = RaftPeer::new(addr(2));
    cand.state = PeerState::Candidate;
    cand.vote_for = Some(addr(2));
    cand.term = 2;
    f.on_request(2, Request::Vote(cand));
    f.remove(key);
    rendered(&mut f)
}

#[test]
fn stale_forward_a_vote_for_another_fails_a_forwarded_delete_and_frees_its_key() {
    let two_leaders = Fixes::NONE.with(Fix::TwoLeaders, true);
    // A vote alone forgets the leader (`two-leaders`), but the first delete still holds the
    // lock (`signalDelete` runs under `OPERATE_LOCK`), so the second waits behind it.
    assert_eq!(
        forward_delete_then_vote(Rules::Custom(two_leaders)),
        "event vote-granted C term=2\n\
         reply #2 200 B FOLLOWER term=2 vote=C"
    );
    // With the fix the first delete fails at the vote and frees the lock; the second runs: no
    // leader is known, so it fails at once rather than waiting on A.
    assert_eq!(
        forward_delete_then_vote(Rules::Custom(two_leaders.with(Fix::StaleForward, true))),
        "event request-failed A forward: no longer followed\n\
         done op#1 500 the leader this write was forwarded to is no longer followed: A had not \
         answered, so the write may or may not be applied there; retry it\n\
         event vote-granted C term=2\n\
         reply #2 200 B FOLLOWER term=2 vote=C\n\
         done op#2 500 no leader is available now"
    );
}

/// With `term-bump` too, a forward names the term of the leader it is sent to, and only the
/// leader of that term carries it out: one sent before a cut and delivered after it must not
/// overwrite the writes its client made since.
#[test]
fn stale_forward_a_forward_names_its_leader_term_and_only_that_leader_takes_it() {
    let rules = Rules::Custom(
        Fixes::NONE
            .with(Fix::StaleForward, true)
            .with(Fix::TermBump, true),
    );
    let mut f = following_under(rules, 3);
    f.put(iplist(0), value("{}"));
    let sent = rendered(&mut f);
    assert!(sent.contains("forward iplist.s000 {} to-term=3"), "{sent}");
    let forward = |term| Request::Forward {
        key: iplist(0),
        value: value("{}"),
        leader_term: Some(term),
    };
    // A follower does not pass it on.
    f.on_request(5, forward(3));
    assert_eq!(
        rendered(&mut f),
        "reply #5 500 refused a forward addressed to another leader term, so that it is not \
         carried out late: it names term 3, this node is FOLLOWER in term 0"
    );
    // A leader in another term refuses it; the leader of that term takes it.
    let mut a = elected_under(rules);
    a.on_request(6, forward(7));
    assert!(rendered(&mut a).starts_with("reply #6 500 refused a forward"));
    a.on_request(7, forward(1));
    assert!(rendered(&mut a).contains("event publish-started iplist.s000"));
    // Without the fix the same request is Nacos' forward: a follower passes it on.
    let mut n = following_under(Rules::Nacos141, 3);
    n.on_request(8, forward(9));
    assert!(rendered(&mut n).contains("forward iplist.s000"));
}
