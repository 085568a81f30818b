//! §5.1 the candidate: `sendVote` and `decideLeader`, stale vote counting included.

use super::*;
use crate::Failure;

#[test]
fn send_vote_clears_the_view_bumps_the_term_and_asks_every_other_peer() {
    let mut a = following(3, 1);
    a.timeout_now();
    // The term is not persisted; the vote request carries the candidate's record.
    let outs = outputs(
        &mut a,
        &[
            "event election-started term=1",
            "send A #1 vote B CANDIDATE term=1 vote=B",
            "send C #2 vote B CANDIDATE term=1 vote=B",
        ],
    );
    let me = a.local().clone();
    assert_eq!(
        (me.term, me.vote_for.as_deref(), me.state),
        (1, Some(addr(1).as_str()), PeerState::Candidate)
    );
    assert_eq!(a.leader(), None);
    assert!(outs.contains(&Output::Send {
        to: addr(0),
        id: 1,
        request: Request::Vote(me)
    }));
    assert!(a
        .peers()
        .filter(|p| p.ip != addr(1))
        .all(|p| p.vote_for.is_none()));
}

#[test]
fn decide_leader_needs_a_majority_and_marks_the_winner() {
    let mut a = node(0, 5);
    a.timeout_now();
    let ids = send_ids(&a.take_outputs());
    a.on_response(ids[0], voter(1, 1, 0));
    outputs(&mut a, &["event vote-answered B vote=A term=1"]);
    assert_eq!(a.local().state, PeerState::Candidate);
    assert_eq!(a.voters_for(&addr(0)).count(), 2);
    a.on_response(ids[1], voter(2, 1, 0));
    outputs(
        &mut a,
        &[
            "event vote-answered C vote=A term=1",
            "event leader-decided A votes=3 majority=3",
        ],
    );
    assert!(a.is_leader());
    assert_eq!(a.local().state, PeerState::Leader);
    assert_eq!(
        a.voters_for(&addr(0)).collect::<Vec<_>>(),
        [addr(0), addr(1), addr(2)]
    );
}

#[test]
fn decide_leader_may_crown_another_node_in_the_local_view() {
    // Stale vote counting: the tally counts whatever voteFor values sit in the map. Both peers
    // answer that they voted for C (say, in a concurrent round).
    let mut c = node(0, 3);
    c.timeout_now();
    let ids = send_ids(&c.take_outputs());
    c.on_response(ids[0], voter(1, 1, 2));
    outputs(&mut c, &["event vote-answered B vote=C term=1"]);
    c.on_response(ids[1], voter(2, 1, 2));
    outputs(
        &mut c,
        &[
            "event vote-answered C vote=C term=1",
            "event leader-decided C votes=2 majority=2",
        ],
    );
    assert_eq!(c.leader(), Some(addr(2).as_str()));
    assert_eq!(c.peer(&addr(2)).unwrap().state, PeerState::Leader);
    assert_eq!(c.local().state, PeerState::Candidate);
    assert!(!c.is_leader());
    assert_eq!(c.voters_for(&addr(2)).count(), 2);
}

#[test]
fn late_answers_from_an_old_round_still_count() {
    let mut a = node(0, 3);
    a.timeout_now();
    let round1 = send_ids(&a.take_outputs());
    a.timeout_now(); // a second round; the first round's requests are still out
    outputs(
        &mut a,
        &[
            "event election-started term=2",
            "send B #3 vote A CANDIDATE term=2 vote=A",
            "send C #4 vote A CANDIDATE term=2 vote=A",
        ],
    );
    a.on_response(round1[0], voter(1, 1, 0)); // granted in round 1
    outputs(
        &mut a,
        &[
            "event vote-answered B vote=A term=1",
            "event leader-decided A votes=2 majority=2",
        ],
    );
    assert!(a.is_leader(), "a term-1 grant elected a term-2 candidate");
    assert_eq!(a.local().term, 2);
}

#[test]
fn failed_vote_requests_are_only_logged() {
    let mut a = node(0, 3);
    a.timeout_now();
    let ids = send_ids(&a.take_outputs());
    a.on_response(ids[0], Err(Failure::Timeout));
    outputs(&mut a, &["event request-failed B vote: timed out"]);
    assert_eq!(a.local().state, PeerState::Candidate);
    // An answer to a request it never sent (or already answered) is ignored.
    a.on_response(ids[0], voter(1, 1, 0));
    a.on_response(99, voter(1, 1, 0));
    outputs(&mut a, &[]);
    assert_eq!(a.local().state, PeerState::Candidate);
}

#[test]
fn a_single_member_never_elects_itself() {
    // A single-member cluster asks nobody, so decideLeader never runs (Nacos' behaviour).
    let mut solo = Node::new(Config::default(), &addr(0), &members(1), 1).unwrap();
    solo.timeout_now();
    outputs(&mut solo, &["event election-started term=1"]);
    assert!(!solo.is_leader());
}
