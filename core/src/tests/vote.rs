//! §5.2 the voter: `receivedVote` grants only a strictly higher term.

use super::*;
use crate::{Event, RaftError};
use alloc::string::ToString;

#[test]
fn vote_with_equal_term_is_refused_with_own_peer_and_vote_for_self() {
    let mut b = node(1, 3);
    let mut cand = RaftPeer::new(addr(0));
    cand.state = PeerState::Candidate;
    b.on_request(7, Request::Vote(cand));
    let outs = outputs(
        &mut b,
        &[
            "event vote-refused A term=0 own=0",
            "reply #7 200 B FOLLOWER term=0 vote=B",
        ],
    );
    let Ok(Response::Peer(p)) = the_reply(&outs) else {
        panic!()
    };
    assert_eq!(p, b.local().clone());
    assert_eq!(
        Event::VoteRefused {
            candidate: "A".into(),
            candidate_term: 3,
            own_term: 3
        }
        .to_string(),
        "refuses the vote of A: term 3 is not above 3"
    );
}

#[test]
fn refusal_keeps_an_existing_vote() {
    let mut b = node(1, 3);
    let mut c2 = RaftPeer::new(addr(2));
    c2.term = 4;
    b.on_request(1, Request::Vote(c2));
    skip(&mut b);
    let mut c0 = RaftPeer::new(addr(0));
    c0.term = 4;
    b.on_request(2, Request::Vote(c0));
    outputs(
        &mut b,
        &[
            "event vote-refused A term=4 own=4",
            "reply #2 200 B FOLLOWER term=4 vote=C",
        ],
    );
}

#[test]
fn vote_with_higher_term_is_granted_and_a_leader_steps_down() {
    let mut a = elected(3);
    let mut cand = RaftPeer::new(addr(1));
    cand.term = 5;
    cand.state = PeerState::Candidate;
    a.on_request(9, Request::Vote(cand));
    // Vote terms are not persisted.
    let outs = outputs(
        &mut a,
        &[
            "event vote-granted B term=5",
            "event stepped-down LEADER granted-vote B term=5",
            "reply #9 200 A FOLLOWER term=5 vote=B",
        ],
    );
    let Ok(Response::Peer(p)) = the_reply(&outs) else {
        panic!()
    };
    assert!((15_000..20_000).contains(&p.leader_due_ms));
    // Granting does not clear the believed leader (it learns the new one from a beat).
    assert_eq!(a.leader(), Some(addr(0).as_str()));
}

#[test]
fn vote_from_an_unknown_address_is_a_500() {
    let mut b = node(1, 3);
    b.on_request(3, Request::Vote(RaftPeer::new("127.0.9.9:8848")));
    let outs = outputs(
        &mut b,
        &[
            "event vote-from-stranger 127.0.9.9:8848",
            "reply #3 500 can not find peer: 127.0.9.9:8848",
        ],
    );
    let err = the_reply(&outs).unwrap_err();
    assert_eq!(err, RaftError::server("can not find peer: 127.0.9.9:8848"));
    assert_eq!(
        err.http_body(),
        "caused: can not find peer: 127.0.9.9:8848;"
    );
    assert_eq!(b.local().term, 0);
}
