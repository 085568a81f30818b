//! The election half of the hardened rules (issue #13, `docs/hardened/`): each fix against
//! Nacos 1.4.1 on the same input, one switched on at a time, so that each test shows exactly
//! what that fix changes.

use super::*;
use crate::{Datum, Fix, Fixes, Persist, Rules};

/// Member `i` of an `n`-member cluster under `rules`, fresh (same seed as [`node`]).
fn node_under(rules: Rules, i: usize, n: usize) -> Node {
    let cfg = Config {
        rules,
        ..Config::default()
    };
    Node::new(cfg, &addr(i), &members(n), 42 + i as u64).unwrap()
}

/// Nacos 1.4.1, then the rule set with `fix` alone.
fn both(fix: Fix) -> [Rules; 2] {
    [Rules::Nacos141, Rules::Custom(Fixes::NONE.with(fix, true))]
}

/// A datum of key [`iplist`] `i` at timestamp `ts`.
fn datum(i: usize, ts: u64) -> Datum {
    Datum {
        key: iplist(i),
        value: Some(value(r#"{"instanceList":[]}"#)),
        timestamp: ts,
    }
}

/// Member 0 elected in term 1 by member 1 under `rules`, with the election's outputs discarded.
fn elected_under(rules: Rules, n: usize) -> Node {
    let mut a = node_under(rules, 0, n);
    a.timeout_now();
    let ids = send_ids(&a.take_outputs());
    for id in ids.into_iter().take(a.majority() - 1) {
        let to = a.inflight.get(&id).unwrap().0.clone();
        let i = members(n).iter().position(|m| *m == to).unwrap();
        a.on_response(id, voter(i, 1, 0));
    }
    skip(&mut a);
    assert!(a.is_leader());
    a
}

#[test]
fn stale_votes_a_grant_of_an_older_round_no_longer_elects() {
    let mut outcome = Vec::new();
    for rules in both(Fix::StaleVotes) {
        let mut a = node_under(rules, 0, 3);
        a.timeout_now();
        let round1 = send_ids(&a.take_outputs());
        a.timeout_now(); // round 2, term 2; the term-1 requests are still out
        skip(&mut a);
        a.on_response(round1[0], voter(1, 1, 0)); // B granted term 1, answering late
        outcome.push(rendered(&mut a));
        assert_eq!(a.local().term, 2);
        assert_eq!(a.is_leader(), rules == Rules::Nacos141);
        // A grant for the current term still elects.
        a.on_response(round1[1] + 2, voter(2, 2, 0));
        assert!(a.is_leader());
    }
    assert_eq!(
        outcome,
        [
            "event vote-answered B vote=A term=1\nevent leader-decided A votes=2 majority=2",
            "event vote-answered B vote=A term=1",
        ]
    );
}

#[test]
fn stale_votes_no_longer_crowns_another_node_on_votes_of_other_terms() {
    // B voted for C in term 1, C's record says it voted for itself in term 1; A campaigns in
    // term 2. Nacos crowns C in A's view on those term-1 records; the fix counts term 2 only.
    for rules in both(Fix::StaleVotes) {
        let mut a = node_under(rules, 0, 3);
        a.timeout_now();
        a.timeout_now();
        let ids = send_ids(&a.take_outputs());
        a.on_response(ids[2], voter(1, 1, 2));
        a.on_response(ids[3], voter(2, 1, 2));
        let text = rendered(&mut a);
        assert_eq!(
            text.contains("leader-decided C votes=2 majority=2"),
            rules == Rules::Nacos141,
            "{text}"
        );
        assert_eq!(a.leader().is_some(), rules == Rules::Nacos141);
    }
}

#[test]
fn stale_candidate_rides_on_the_vote_body_in_a_field_java_ignores() {
    for rules in both(Fix::StaleCandidate) {
        let mut b = node_under(rules, 1, 3);
        b.reload(datum(0, 3));
        b.reload(datum(1, 4));
        b.timeout_now();
        let outs = b.take_outputs();
        let Some(Output::Send {
            request: Request::Vote(me),
            ..
        }) = outs.iter().find(|o| matches!(o, Output::Send { .. }))
        else {
            panic!("no vote request: {outs:?}");
        };
        let json = me.to_json();
        if rules == Rules::Nacos141 {
            assert_eq!(me.data_version, None);
            assert!(!json.contains("dataVersion"), "{json}");
        } else {
            // The sum of its timestamps and its log position, written last: Java reads the
            // six fields it knows.
            assert_eq!(me.data_version, Some(7));
            assert_eq!(me.position, Some((0, 0)));
            assert!(
                json.ends_with(r#""state":"CANDIDATE","dataVersion":7,"position":[0,0]}"#),
                "{json}"
            );
        }
        // The own record keeps neither: beats and commits add only the position.
        assert_eq!(b.local().data_version, None);
        assert_eq!(b.local().position, None);
        assert_eq!(crate::wire::peer_from_json(&json).unwrap(), *me);
    }
}

#[test]
fn stale_candidate_is_refused_by_a_voter_with_newer_data() {
    // C missed the writes (say it was down): 1 against B's 7. Its vote asks with term 5.
    let mut stale = RaftPeer::new(addr(2));
    stale.vote_for = Some(addr(2));
    stale.term = 5;
    stale.state = PeerState::Candidate;
    stale.data_version = Some(1);
    let mut got = Vec::new();
    for rules in both(Fix::StaleCandidate) {
        // B follows A in term 1 and holds two keys.
        let mut b = node_under(rules, 1, 3);
        b.on_request(1, beat(0, 1, &[]));
        skip(&mut b);
        b.reload(datum(0, 3));
        b.reload(datum(1, 4));
        b.on_request(7, Request::Vote(stale.clone()));
        got.push(rendered(&mut b));
        assert_eq!(b.local().term, 5, "the higher term is taken either way");
        assert_eq!(b.local().state, PeerState::Follower);
    }
    assert_eq!(
        got,
        [
            "event vote-granted C term=5\nreply #7 200 B FOLLOWER term=5 vote=C",
            "event vote-refused-stale-data C version=1 own=7\nreply #7 200 B FOLLOWER term=5 vote=-",
        ]
    );
    // A Java candidate sends no version: judged by term alone, as Nacos does.
    let mut b = node_under(
        Rules::Custom(Fixes::NONE.with(Fix::StaleCandidate, true)),
        1,
        3,
    );
    b.reload(datum(0, 3));
    stale.data_version = None;
    b.on_request(8, Request::Vote(stale.clone()));
    assert!(rendered(&mut b).starts_with("event vote-granted C term=5"));
    // A candidate with as much data is granted.
    let mut b = node_under(
        Rules::Custom(Fixes::NONE.with(Fix::StaleCandidate, true)),
        1,
        3,
    );
    b.reload(datum(0, 3));
    stale.data_version = Some(3);
    b.on_request(9, Request::Vote(stale));
    assert!(rendered(&mut b).starts_with("event vote-granted C term=5"));
}

#[test]
fn stale_candidate_makes_a_leader_step_down_to_its_term() {
    let rules = Rules::Custom(Fixes::NONE.with(Fix::StaleCandidate, true));
    let mut a = elected_under(rules, 3);
    a.reload(datum(0, 2));
    let mut stale = RaftPeer::new(addr(2));
    stale.term = 9;
    stale.data_version = Some(0);
    a.on_request(3, Request::Vote(stale));
    outputs(
        &mut a,
        &[
            "event vote-refused-stale-data C version=0 own=2",
            "event stepped-down LEADER refused-stale-candidate C term=9",
            "reply #3 200 A FOLLOWER term=9 vote=-",
        ],
    );
    assert!(!a.is_leader());
    assert_eq!(a.leader(), None);
}

#[test]
fn two_leaders_a_leader_that_hears_no_majority_steps_down() {
    let mut got = Vec::new();
    for rules in both(Fix::TwoLeaders) {
        let mut a = elected_under(rules, 3);
        // Its beats go out every 5 s and nobody answers, for 15 s and a tick.
        let ticks = 15_000 / 500 + 1;
        let mut stepped = String::new();
        for _ in 0..ticks {
            a.tick();
            let text = rendered(&mut a);
            if let Some(line) = text.lines().find(|l| l.contains("stepped-down")) {
                stepped = line.into();
            }
        }
        got.push(stepped);
        assert_eq!(a.is_leader(), rules == Rules::Nacos141);
    }
    assert_eq!(
        got,
        [
            "",
            "event stepped-down LEADER lost-majority heard=1 majority=2",
        ]
    );
}

#[test]
fn two_leaders_a_leader_answered_by_a_majority_stays() {
    let mut a = elected_under(Rules::Custom(Fixes::NONE.with(Fix::TwoLeaders, true)), 3);
    for _ in 0..120 {
        a.tick();
        for o in a.take_outputs() {
            if let Output::Send {
                to,
                id,
                request: Request::Beat(_),
            } = o
            {
                // Only B answers: with itself that is 2 of 3.
                if to == addr(1) {
                    a.on_response(id, Ok(Response::Peer(RaftPeer::new(addr(1)))));
                }
            }
        }
    }
    assert!(a.is_leader(), "a minute with a majority");
}

#[test]
fn two_leaders_a_vote_for_a_new_term_forgets_the_old_leader() {
    // B follows A in term 1, then grants C's term-2 vote: Nacos' B still believes in A, whose
    // term is over; the fix forgets it until a leader of the new term beats.
    let mut still = Vec::new();
    for rules in both(Fix::TwoLeaders) {
        let mut b = node_under(rules, 1, 3);
        b.on_request(1, beat(0, 1, &[]));
        skip(&mut b);
        let mut c = RaftPeer::new(addr(2));
        c.term = 2;
        b.on_request(2, Request::Vote(c));
        outputs(
            &mut b,
            &[
                "event vote-granted C term=2",
                "reply #2 200 B FOLLOWER term=2 vote=C",
            ],
        );
        still.push(b.leader().map(String::from));
    }
    assert_eq!(still, [Some(addr(0)), None]);
}

#[test]
fn first_beat_the_new_leader_beats_when_it_wins() {
    let mut got = Vec::new();
    for rules in both(Fix::FirstBeat) {
        let mut a = node_under(rules, 0, 3);
        a.timeout_now();
        let ids = send_ids(&a.take_outputs());
        a.on_response(ids[0], voter(1, 1, 0));
        got.push(rendered(&mut a));
    }
    assert_eq!(
        got,
        [
            "event vote-answered B vote=A term=1\nevent leader-decided A votes=2 majority=2",
            "event vote-answered B vote=A term=1\nevent leader-decided A votes=2 majority=2\n\
             event beat-sent term=1 keys=0\n\
             send B #3 beat A LEADER term=1 vote=A keys=[]\n\
             send C #4 beat A LEADER term=1 vote=A keys=[]",
        ]
    );
}

#[test]
fn first_beat_a_commit_that_overtakes_the_first_beat_is_taken_as_it() {
    // B follows A in term 1; C won term 2 and its first commit arrives before its first beat.
    let mut got = Vec::new();
    for rules in both(Fix::FirstBeat) {
        let mut b = node_under(rules, 1, 3);
        b.on_request(1, beat(0, 1, &[]));
        skip(&mut b);
        b.on_request(2, commit(&iplist(0), r#"{"instanceList":[]}"#, 1, 2, 2));
        got.push(rendered(&mut b));
    }
    assert_eq!(
        got,
        [
            "event commit-rejected iplist.s000 from=C: peer(C) tried to publish data but wasn't leader\n\
             reply #2 500 peer(C) tried to publish data but wasn't leader",
            "event leader-changed C was=A\n\
             send A #1 peer\n\
             persist datum iplist.s000 ts=1 {\"instanceList\":[]}\n\
             persist term 2\n\
             event commit-applied iplist.s000 ts=1 from=C term=2\n\
             reply #2 200 ok",
        ]
    );
}

#[test]
fn term_on_restart_every_term_change_is_written_and_read_back() {
    let mut got = Vec::new();
    for rules in both(Fix::TermOnRestart) {
        // B grants C's term-5 vote, crashes, and comes back from its disk.
        let mut b = node_under(rules, 1, 3);
        let mut c = RaftPeer::new(addr(2));
        c.term = 5;
        b.on_request(1, Request::Vote(c));
        let outs = b.take_outputs();
        let term_file = outs.iter().find_map(|o| match o {
            Output::Persist(Persist::Term(t)) => Some(*t),
            _ => None,
        });
        let cfg = b.config().clone();
        let mut b = Node::restore(
            cfg,
            &addr(1),
            &members(3),
            7,
            vec![],
            term_file.unwrap_or(0),
        )
        .unwrap();
        // A, also in term 5, asks it: Nacos' B has forgotten it voted and grants again.
        let mut a = RaftPeer::new(addr(0));
        a.term = 5;
        b.on_request(2, Request::Vote(a));
        got.push((term_file, rendered(&mut b)));
    }
    assert_eq!(
        got,
        [
            (
                None,
                "event vote-granted A term=5\nreply #2 200 B FOLLOWER term=5 vote=A".into()
            ),
            (
                Some(5),
                "event vote-refused A term=5 own=5\nreply #2 200 B FOLLOWER term=5 vote=B".into()
            ),
        ]
    );
}

#[test]
fn term_on_restart_a_candidate_writes_its_new_term_before_it_asks() {
    let mut a = node_under(
        Rules::Custom(Fixes::NONE.with(Fix::TermOnRestart, true)),
        0,
        3,
    );
    a.timeout_now();
    outputs(
        &mut a,
        &[
            "persist term 1",
            "event election-started term=1",
            "send B #1 vote A CANDIDATE term=1 vote=A",
            "send C #2 vote A CANDIDATE term=1 vote=A",
        ],
    );
}

/// The vote request `n` sends when its leader due runs out.
fn vote_request_of(n: &mut Node) -> RaftPeer {
    n.timeout_now();
    n.take_outputs()
        .into_iter()
        .find_map(|o| match o {
            Output::Send {
                request: Request::Vote(p),
                ..
            } => Some(p),
            _ => None,
        })
        .expect("a vote request")
}

#[test]
fn split_vote_the_first_of_two_split_candidates_campaigns_at_the_next_tick() {
    let mut got = Vec::new();
    for rules in both(Fix::SplitVote) {
        // A and B time out together: both ask for term 1 and voted for themselves.
        let mut a = node_under(rules, 0, 3);
        let mut b = node_under(rules, 1, 3);
        let from_a = vote_request_of(&mut a);
        let from_b = vote_request_of(&mut b);
        a.on_request(7, Request::Vote(from_b));
        b.on_request(8, Request::Vote(from_a.clone()));
        let mut text = rendered(&mut a);
        // B is second (same data, higher address): it only refuses.
        assert_eq!(
            rendered(&mut b),
            "event vote-refused A term=1 own=1\nreply #8 200 B CANDIDATE term=1 vote=B"
        );
        a.tick();
        text.push_str(&format!("\n-- one tick --\n{}", rendered(&mut a)));
        got.push(text);
        // B grants A's next term (A is not behind B), and A wins it.
        let mut next = from_a.clone();
        next.term = 2;
        b.on_request(9, Request::Vote(next));
        assert!(rendered(&mut b).starts_with("event vote-granted A term=2"));
    }
    assert_eq!(
        got,
        [
            "event vote-refused B term=1 own=1\nreply #7 200 A CANDIDATE term=1 vote=A\n-- one tick --\n",
            "event vote-refused B term=1 own=1\nevent split-vote B term=1\n\
             reply #7 200 A CANDIDATE term=1 vote=A\n-- one tick --\n\
             event election-started term=2\n\
             send B #3 vote A CANDIDATE term=2 vote=A data=0\n\
             send C #4 vote A CANDIDATE term=2 vote=A data=0",
        ]
    );
}

#[test]
fn split_vote_more_data_ranks_before_the_lower_address() {
    // B holds a write A missed: B goes first although A's address is lower, and A, which
    // would refuse nothing, stays put (B's next term is one A grants under stale-candidate).
    let rules = Rules::Hardened;
    let mut a = node_under(rules, 0, 3);
    let mut b = node_under(rules, 1, 3);
    b.reload(datum(0, 2));
    let from_a = vote_request_of(&mut a);
    let from_b = vote_request_of(&mut b);
    a.on_request(7, Request::Vote(from_b.clone()));
    b.on_request(8, Request::Vote(from_a));
    assert!(!rendered(&mut a).contains("split-vote"));
    assert!(rendered(&mut b).contains("event split-vote A term=1"));
    let mut next = from_b;
    next.term = 2;
    a.on_request(9, Request::Vote(next));
    assert!(rendered(&mut a).contains("event vote-granted B term=2"));
}

#[test]
fn hardened_applies_every_election_fix_at_once() {
    let mut a = node_under(Rules::Hardened, 0, 3);
    a.reload(datum(0, 2));
    a.timeout_now();
    let outs = outputs(
        &mut a,
        &[
            "persist term 1",
            "event election-started term=1",
            "send B #1 vote A CANDIDATE term=1 vote=A data=2 at=0.0",
            "send C #2 vote A CANDIDATE term=1 vote=A data=2 at=0.0",
        ],
    );
    assert!(outs.iter().any(
        |o| matches!(o, Output::Send { request: Request::Vote(p), .. } if p.data_version == Some(2))
    ));
}

/// Leader A's beat is refused by C for C's higher term 6 (C campaigned alone while cut off).
fn beat_refused_for_term(rules: Rules) -> String {
    let mut a = elected_under(rules, 3);
    let beat = loop {
        a.tick();
        let outs = a.take_outputs();
        let beats: Vec<u64> = outs
            .iter()
            .filter_map(|o| match o {
                Output::Send {
                    id,
                    request: Request::Beat(_),
                    ..
                } => Some(*id),
                _ => None,
            })
            .collect();
        if let Some(id) = beats.last() {
            break *id;
        }
    };
    let refusal =
        crate::RaftError::bad_request("out of date beat, beat-from-term: 1, beat-to-term: 6");
    a.on_response(beat, Err(crate::Failure::Status(refusal)));
    rendered(&mut a)
}

#[test]
fn stale_candidate_a_leader_refused_for_a_higher_term_campaigns_above_it() {
    let refused =
        "event request-failed C beat: 400: out of date beat, beat-from-term: 1, beat-to-term: 6";
    // Nacos, and the fix without term-bump (a higher term may be a write's +100): nothing more.
    assert_eq!(beat_refused_for_term(Rules::Nacos141), refused);
    let alone = Rules::Custom(Fixes::NONE.with(Fix::StaleCandidate, true));
    assert_eq!(beat_refused_for_term(alone), refused);
    let with = Rules::Custom(
        Fixes::NONE
            .with(Fix::StaleCandidate, true)
            .with(Fix::TermBump, true),
    );
    // The fix: A campaigns at once one above C's term, with its data version.
    assert_eq!(
        beat_refused_for_term(with),
        format!(
            "{refused}\n\
             event election-started term=7\n\
             send B #5 vote A CANDIDATE term=7 vote=A data=0 at=1.0\n\
             send C #6 vote A CANDIDATE term=7 vote=A data=0 at=1.0"
        )
    );
}

/// A commit of member 0 in term 1 numbered `(1, index)`.
fn numbered_commit(i: usize, index: u64) -> Request {
    match commit(&iplist(i), r#"{"instanceList":[]}"#, 1, 0, 1) {
        Request::Commit { datum, mut source } => {
            source.position = Some((1, index));
            Request::Commit { datum, source }
        }
        _ => unreachable!(),
    }
}

#[test]
fn stale_candidate_a_follower_answers_commits_in_log_order() {
    let rules = Rules::Custom(Fixes::NONE.with(Fix::StaleCandidate, true));
    let mut b = node_under(rules, 1, 3);
    // The leader's first beat: nothing to fetch, so B takes its position (1, 0).
    let mut first = BeatPacket {
        peer: leader_peer(0, 1),
        datums: Arc::new(Vec::new()),
    };
    first.peer.position = Some((1, 0));
    b.on_request(1, Request::Beat(Arc::new(first)));
    let outs = b.take_outputs();
    assert!(outs.contains(&Output::Persist(Persist::Position { term: 1, index: 0 })));
    // Write 2 overtakes write 1: applied at once, answered only when 1 has come.
    b.on_request(2, numbered_commit(1, 2));
    let outs = b.take_outputs();
    assert!(
        !outs.iter().any(|o| matches!(o, Output::Reply { .. })),
        "{outs:?}"
    );
    assert!(b.datum(&iplist(1)).is_some());
    b.on_request(3, numbered_commit(0, 1));
    let outs = b.take_outputs();
    let replies: Vec<u64> = outs
        .iter()
        .filter_map(|o| match o {
            Output::Reply { to, result: Ok(_) } => Some(*to),
            _ => None,
        })
        .collect();
    assert_eq!(replies, [2, 3]);
    // The position is written before either answer.
    let persisted = outs
        .iter()
        .position(|o| *o == Output::Persist(Persist::Position { term: 1, index: 2 }))
        .unwrap();
    let first_reply = outs
        .iter()
        .position(|o| matches!(o, Output::Reply { .. }))
        .unwrap();
    assert!(persisted < first_reply, "{outs:?}");
    // A new leader's commit ends the wait of the old one's: refused, not counted.
    b.on_request(4, numbered_commit(2, 4));
    b.on_request(6, beat(2, 2, &[]));
    skip(&mut b);
    let mut next = leader_peer(2, 2);
    next.position = Some((2, 1));
    b.on_request(
        5,
        Request::Commit {
            datum: datum(3, 1),
            source: next,
        },
    );
    let outs = b.take_outputs();
    assert!(
        outs.iter().any(|o| matches!(o, Output::Reply { to: 4, result: Err(e) } if e.message == crate::COMMIT_OUT_OF_ORDER)),
        "{outs:?}"
    );
    // Without the fix a numbered commit is answered at once (Nacos ignores the field).
    let mut b = node_under(Rules::Nacos141, 1, 3);
    b.on_request(1, beat(0, 1, &[]));
    skip(&mut b);
    b.on_request(2, numbered_commit(1, 2));
    assert!(the_reply(&b.take_outputs()).is_ok());
}

#[test]
fn stale_candidate_a_voter_refuses_a_candidate_below_its_log_position() {
    let rules = Rules::Custom(Fixes::NONE.with(Fix::StaleCandidate, true));
    let mut b = node_under(rules, 1, 3).with_position(3, 5);
    let mut c = RaftPeer::new(addr(2));
    c.vote_for = Some(addr(2));
    c.term = 9;
    c.state = PeerState::Candidate;
    // More data by the sum, an older position: refused (the sum is no order between logs).
    c.data_version = Some(100);
    c.position = Some((3, 4));
    b.on_request(7, Request::Vote(c.clone()));
    assert_eq!(
        rendered(&mut b),
        "event vote-refused-stale-log C at=3.4 own=3.5\nreply #7 200 B FOLLOWER term=9 vote=-"
    );
    // A later term's position wins over a lower sum.
    c.term = 10;
    c.data_version = Some(0);
    c.position = Some((4, 0));
    b.on_request(8, Request::Vote(c));
    assert!(rendered(&mut b).starts_with("event vote-granted C term=10"));
}

#[test]
fn stale_candidate_a_follower_takes_a_beats_position_once_its_fetches_are_applied() {
    let rules = Rules::Custom(Fixes::NONE.with(Fix::StaleCandidate, true));
    let mut b = node_under(rules, 1, 3);
    // The beat lists a key B lacks: no position yet, one fetch.
    let mut packet = BeatPacket {
        peer: leader_peer(0, 1),
        datums: Arc::new(vec![BeatDatum {
            key: brief(0),
            timestamp: 2,
        }]),
    };
    packet.peer.position = Some((1, 4));
    b.on_request(1, Request::Beat(Arc::new(packet)));
    let outs = b.take_outputs();
    assert!(!outs
        .iter()
        .any(|o| matches!(o, Output::Persist(Persist::Position { .. }))));
    let fetch = send_ids(&outs)[0];
    b.on_response(fetch, Ok(Response::Datums(vec![Some(datum(0, 2))])));
    let outs = b.take_outputs();
    assert!(
        outs.contains(&Output::Persist(Persist::Position { term: 1, index: 4 })),
        "{outs:?}"
    );
}
