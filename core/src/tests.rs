//! Rule-by-rule tests of the state machine: given this state and this input, exactly these
//! outputs (openraft's style). Names follow nacos-protocol.md's sections.

use crate::key::{self, SWITCH_KEY};
use crate::message::{Failure, RaftError, Request, Response};
use crate::output::{Origin, Output, Persist, Timer};
use crate::publish::{NO_LEADER, PUBLISH_FAILED};
use crate::wire::{BeatDatum, BeatPacket, Datum, JsonValue, PeerState, RaftPeer};
use crate::{Config, Event, Node, StepDown};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

fn addr(i: usize) -> String {
    format!("10.0.0.{}:8848", i + 1)
}

fn members(n: usize) -> Vec<String> {
    (0..n).map(addr).collect()
}

fn node(i: usize, n: usize) -> Node {
    Node::new(Config::default(), &addr(i), &members(n), 42 + i as u64).unwrap()
}

/// The outputs matching one pattern, mapped: `pick!(outs, Output::Event(e) => e.clone())`.
macro_rules! pick {
    ($outs:expr, $pat:pat => $val:expr) => {
        $outs
            .iter()
            .filter_map(|o| match o {
                $pat => Some($val),
                _ => None,
            })
            .collect()
    };
}

fn sends(outs: &[Output]) -> Vec<(String, Request)> {
    pick!(outs, Output::Send { to, request, .. } => (to.clone(), request.clone()))
}

fn send_ids(outs: &[Output]) -> Vec<(String, u64)> {
    pick!(outs, Output::Send { to, id, .. } => (to.clone(), *id))
}

fn events(outs: &[Output]) -> Vec<Event> {
    pick!(outs, Output::Event(e) => e.clone())
}

fn persists(outs: &[Output]) -> Vec<Persist> {
    pick!(outs, Output::Persist(p) => p.clone())
}

fn the_reply(outs: &[Output]) -> Result<Response, RaftError> {
    let r: Vec<Result<Response, RaftError>> =
        pick!(outs, Output::Reply { result, .. } => result.clone());
    assert_eq!(r.len(), 1, "{outs:?}");
    r.into_iter().next().unwrap()
}

fn done(outs: &[Output]) -> Vec<Result<(), RaftError>> {
    pick!(outs, Output::Done { result, .. } => result.clone())
}

fn value(v: &str) -> JsonValue {
    JsonValue::parse(v).unwrap()
}

fn iplist(i: usize) -> String {
    key::iplist_key("public", &format!("DEFAULT_GROUP@@s{i:03}"))
}

fn leader_peer(i: usize, term: u64) -> RaftPeer {
    RaftPeer {
        ip: addr(i),
        vote_for: Some(addr(i)),
        term,
        leader_due_ms: 17_000,
        heartbeat_due_ms: 5_000,
        state: PeerState::Leader,
    }
}

fn beat(from: usize, term: u64, datums: &[(&str, u64)]) -> Request {
    Request::Beat(Arc::new(BeatPacket {
        peer: leader_peer(from, term),
        datums: datums
            .iter()
            .map(|(k, t)| BeatDatum {
                key: (*k).into(),
                timestamp: *t,
            })
            .collect(),
    }))
}

/// Node 0 of an `n`-node cluster, elected in term 1 by the votes of nodes 1..majority.
fn elected(n: usize) -> Node {
    let mut a = node(0, n);
    a.timeout_now();
    let outs = a.take_outputs();
    let ids = send_ids(&outs);
    for (to, id) in ids.iter().take(a.majority() - 1) {
        let mut voter = RaftPeer::new(to.clone());
        voter.vote_for = Some(addr(0));
        voter.term = 1;
        a.on_response(*id, Ok(Response::Peer(voter)));
    }
    a.take_outputs();
    assert!(a.is_leader());
    a
}

/// Node 1 of an `n`-node cluster, following node 0 (term `term`) after one empty beat.
fn following(n: usize, term: u64) -> Node {
    let mut f = node(1, n);
    f.on_request(1, beat(0, term, &[]));
    f.take_outputs();
    assert_eq!(f.leader(), Some(addr(0).as_str()));
    f
}

// ---- §4 timers -----------------------------------------------------------------------------

#[test]
fn fresh_node_starts_follower_with_random_dues_in_range() {
    let n = node(0, 3);
    let l = n.local();
    assert_eq!(
        (l.term, l.vote_for.as_deref(), l.state),
        (0, None, PeerState::Follower)
    );
    assert!((0..15_000).contains(&l.leader_due_ms));
    assert!((0..5_000).contains(&l.heartbeat_due_ms));
    assert_eq!((n.members(), n.majority()), (3, 2));
}

#[test]
fn majority_is_half_plus_one() {
    for (n, m) in [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (9, 5), (15, 8)] {
        assert_eq!(node(0, n).majority(), m, "{n} members");
    }
}

#[test]
fn own_address_is_added_to_the_members() {
    let n = Node::new(Config::default(), "10.9.9.9:8848", &members(2), 1).unwrap();
    assert_eq!(n.members(), 3);
    assert!(Node::new(Config::default(), "", &members(2), 1).is_err());
    let bad = Config {
        tick_ms: 0,
        ..Config::default()
    };
    assert!(Node::new(bad, &addr(0), &members(3), 1).is_err());
}

#[test]
fn election_starts_exactly_when_the_leader_due_runs_out() {
    let mut n = node(0, 3);
    let due = n.local().leader_due_ms;
    let ticks = (due + 499) / 500; // the tick that takes it to <= 0
    for _ in 0..ticks.saturating_sub(1) {
        n.tick();
        assert!(events(&n.take_outputs())
            .iter()
            .all(|e| !matches!(e, Event::ElectionStarted { .. })));
    }
    n.tick();
    let outs = n.take_outputs();
    assert_eq!(events(&outs)[0], Event::ElectionStarted { term: 1 });
    // resetLeaderDue: 15000 + [0, 5000)
    assert!((15_000..20_000).contains(&n.local().leader_due_ms));
}

#[test]
fn followers_do_not_beat_and_leaders_beat_every_heartbeat() {
    let mut f = node(1, 3);
    for _ in 0..20 {
        f.tick();
    }
    assert!(sends(&f.take_outputs())
        .iter()
        .all(|(_, r)| !matches!(r, Request::Beat(_))));
    let mut a = elected(3);
    let mut beats_at = Vec::new();
    for t in 1..=40 {
        a.tick();
        if sends(&a.take_outputs())
            .iter()
            .any(|(_, r)| matches!(r, Request::Beat(_)))
        {
            beats_at.push(t);
        }
    }
    // heartbeat due was reset to 5000 when the election started: a beat every 10 ticks.
    assert_eq!(beats_at, [10, 20, 30, 40]);
}

// ---- §5.1 candidate ------------------------------------------------------------------------

#[test]
fn send_vote_clears_the_view_bumps_the_term_and_asks_every_other_peer() {
    let mut a = node(0, 3);
    a.timeout_now();
    let outs = a.take_outputs();
    let me = a.local().clone();
    assert_eq!(
        (me.term, me.vote_for.as_deref(), me.state),
        (1, Some(addr(0).as_str()), PeerState::Candidate)
    );
    assert_eq!(a.leader(), None);
    assert_eq!(
        sends(&outs),
        vec![
            (addr(1), Request::Vote(me.clone())),
            (addr(2), Request::Vote(me.clone()))
        ]
    );
    assert_eq!(events(&outs), vec![Event::ElectionStarted { term: 1 }]);
    assert!(a
        .peers()
        .filter(|p| p.ip != addr(0))
        .all(|p| p.vote_for.is_none()));
    // The term is not persisted.
    assert!(persists(&outs).is_empty());
}

#[test]
fn decide_leader_needs_a_majority_and_marks_the_winner() {
    let mut a = node(0, 5);
    a.timeout_now();
    let ids = send_ids(&a.take_outputs());
    let grant = |i: usize| {
        let mut p = RaftPeer::new(addr(i));
        p.vote_for = Some(addr(0));
        p.term = 1;
        Ok(Response::Peer(p))
    };
    a.on_response(ids[0].1, grant(1));
    assert!(!a.is_leader());
    assert_eq!(a.local().state, PeerState::Candidate);
    a.on_response(ids[1].1, grant(2));
    let outs = a.take_outputs();
    assert!(a.is_leader());
    assert_eq!(a.local().state, PeerState::Leader);
    assert!(events(&outs).contains(&Event::LeaderDecided {
        leader: addr(0),
        votes: 3,
        majority: 3
    }));
}

#[test]
fn decide_leader_may_crown_another_node_in_the_local_view() {
    // Flaw 6: the tally counts whatever voteFor values sit in the map.
    let mut c = node(0, 3);
    c.timeout_now();
    let ids = send_ids(&c.take_outputs());
    // Both peers answer that they voted for node 2 (say, in a concurrent round).
    let mut p1 = RaftPeer::new(addr(1));
    p1.vote_for = Some(addr(2));
    p1.term = 1;
    c.on_response(ids[0].1, Ok(Response::Peer(p1)));
    let mut p2 = RaftPeer::new(addr(2));
    p2.vote_for = Some(addr(2));
    p2.term = 1;
    c.on_response(ids[1].1, Ok(Response::Peer(p2)));
    assert_eq!(c.leader(), Some(addr(2).as_str()));
    assert_eq!(c.peer(&addr(2)).unwrap().state, PeerState::Leader);
    assert_eq!(c.local().state, PeerState::Candidate);
    assert!(!c.is_leader());
}

#[test]
fn late_answers_from_an_old_round_still_count() {
    let mut a = node(0, 3);
    a.timeout_now();
    let round1 = send_ids(&a.take_outputs());
    a.timeout_now(); // a second round; the first round's requests are still out
    a.take_outputs();
    let mut p = RaftPeer::new(addr(1));
    p.vote_for = Some(addr(0));
    p.term = 1; // granted in round 1
    a.on_response(round1[0].1, Ok(Response::Peer(p)));
    assert!(a.is_leader(), "a term-1 grant elected a term-2 candidate");
    assert_eq!(a.local().term, 2);
}

#[test]
fn failed_vote_requests_are_only_logged() {
    let mut a = node(0, 3);
    a.timeout_now();
    let ids = send_ids(&a.take_outputs());
    a.on_response(ids[0].1, Err(Failure::Timeout));
    let outs = a.take_outputs();
    assert_eq!(
        events(&outs),
        vec![Event::RequestFailed {
            to: addr(1),
            what: "vote".into(),
            failure: "timed out".into()
        }]
    );
    assert_eq!(a.local().state, PeerState::Candidate);
}

// ---- §5.2 voter ----------------------------------------------------------------------------

#[test]
fn vote_with_equal_term_is_refused_with_own_peer_and_vote_for_self() {
    let mut b = node(1, 3);
    let mut cand = RaftPeer::new(addr(0));
    cand.term = 0;
    cand.state = PeerState::Candidate;
    b.on_request(7, Request::Vote(cand));
    let outs = b.take_outputs();
    let answer = the_reply(&outs).unwrap();
    let Response::Peer(p) = answer else { panic!() };
    assert_eq!(p.ip, addr(1));
    assert_eq!(p.vote_for.as_deref(), Some(addr(1).as_str()));
    assert_eq!((p.term, p.state), (0, PeerState::Follower));
    assert_eq!(
        events(&outs),
        vec![Event::VoteRefused {
            candidate: addr(0),
            candidate_term: 0,
            own_term: 0
        }]
    );
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
    b.take_outputs();
    let mut c0 = RaftPeer::new(addr(0));
    c0.term = 4;
    b.on_request(2, Request::Vote(c0));
    let Ok(Response::Peer(p)) = the_reply(&b.take_outputs()) else {
        panic!()
    };
    assert_eq!(p.vote_for.as_deref(), Some(addr(2).as_str()));
}

#[test]
fn vote_with_higher_term_is_granted_and_a_leader_steps_down() {
    let mut a = elected(3);
    let mut cand = RaftPeer::new(addr(1));
    cand.term = 5;
    cand.state = PeerState::Candidate;
    a.on_request(9, Request::Vote(cand));
    let outs = a.take_outputs();
    let Ok(Response::Peer(p)) = the_reply(&outs) else {
        panic!()
    };
    assert_eq!(
        (p.term, p.state, p.vote_for.as_deref()),
        (5, PeerState::Follower, Some(addr(1).as_str()))
    );
    assert!((15_000..20_000).contains(&p.leader_due_ms));
    assert_eq!(
        events(&outs),
        vec![
            Event::VoteGranted {
                candidate: addr(1),
                term: 5
            },
            Event::SteppedDown {
                was: PeerState::Leader,
                why: StepDown::GrantedVote {
                    candidate: addr(1),
                    term: 5
                }
            },
        ]
    );
    // Granting does not clear the believed leader (it learns the new one from a beat).
    assert_eq!(a.leader(), Some(addr(0).as_str()));
    assert!(persists(&outs).is_empty(), "vote terms are not persisted");
}

#[test]
fn vote_from_an_unknown_address_is_a_500() {
    let mut b = node(1, 3);
    b.on_request(3, Request::Vote(RaftPeer::new("10.9.9.9:8848")));
    let err = the_reply(&b.take_outputs()).unwrap_err();
    assert_eq!(err, RaftError::server("can not find peer: 10.9.9.9:8848"));
    assert_eq!(err.http_body(), "caused: can not find peer: 10.9.9.9:8848;");
    assert_eq!(b.local().term, 0);
}

// ---- §5.3 beats ----------------------------------------------------------------------------

#[test]
fn beat_from_a_lower_term_is_out_of_date() {
    let mut b = node(1, 3);
    let mut c = RaftPeer::new(addr(2));
    c.term = 7;
    b.on_request(1, Request::Vote(c));
    b.take_outputs();
    b.on_request(2, beat(0, 6, &[]));
    let outs = b.take_outputs();
    let err = the_reply(&outs).unwrap_err();
    assert_eq!(
        err,
        RaftError::bad_request("out of date beat, beat-from-term: 6, beat-to-term: 7")
    );
    assert_eq!(
        err.http_body(),
        "out of date beat, beat-from-term: 6, beat-to-term: 7"
    );
    assert_eq!(b.leader(), None);
}

#[test]
fn beat_from_a_non_leader_is_invalid_state() {
    let mut b = node(1, 3);
    let mut p = leader_peer(0, 3);
    p.state = PeerState::Follower;
    b.on_request(
        1,
        Request::Beat(Arc::new(BeatPacket {
            peer: p,
            datums: vec![],
        })),
    );
    let err = the_reply(&b.take_outputs()).unwrap_err();
    assert_eq!(
        err,
        RaftError::bad_request("invalid state from master, state: FOLLOWER")
    );
}

#[test]
fn beat_with_equal_term_is_accepted_and_a_candidate_steps_down() {
    let mut b = node(1, 3);
    b.timeout_now(); // candidate in term 1
    b.take_outputs();
    b.on_request(5, beat(0, 1, &[]));
    let outs = b.take_outputs();
    let Ok(Response::Peer(p)) = the_reply(&outs) else {
        panic!()
    };
    assert_eq!(
        (p.state, p.vote_for.as_deref(), p.term),
        (PeerState::Follower, Some(addr(0).as_str()), 1)
    );
    assert_eq!(p.heartbeat_due_ms, 5_000);
    assert_eq!(b.leader(), Some(addr(0).as_str()));
    assert_eq!(
        events(&outs),
        vec![
            Event::SteppedDown {
                was: PeerState::Candidate,
                why: StepDown::AcceptedBeat {
                    leader: addr(0),
                    term: 1
                }
            },
            Event::LeaderChanged {
                leader: addr(0),
                previous: None
            },
            Event::BeatAccepted {
                leader: addr(0),
                term: 1
            },
        ]
    );
}

#[test]
fn followers_do_not_adopt_the_leaders_term_from_beats() {
    let mut b = node(1, 3);
    b.on_request(1, beat(0, 305, &[]));
    b.take_outputs();
    assert_eq!(b.local().term, 0);
    assert_eq!(b.peer(&addr(0)).unwrap().term, 305);
}

#[test]
fn make_leader_refreshes_other_leader_records_and_marks_failures_follower() {
    let mut b = node(1, 3);
    b.on_request(1, beat(2, 1, &[])); // node 2 was leader
    b.take_outputs();
    assert_eq!(b.peer(&addr(2)).unwrap().state, PeerState::Leader);
    b.on_request(2, beat(0, 2, &[])); // now node 0 leads
    let outs = b.take_outputs();
    assert_eq!(sends(&outs), vec![(addr(2), Request::GetPeer)]);
    let id = send_ids(&outs)[0].1;
    b.on_response(id, Err(Failure::Refused));
    assert_eq!(
        events(&b.take_outputs()),
        vec![Event::PeerMarkedFollower { peer: addr(2) }]
    );
    assert_eq!(b.peer(&addr(2)).unwrap().state, PeerState::Follower);
}

#[test]
fn the_leader_stores_what_followers_answer_to_beats() {
    let mut a = elected(3);
    for _ in 0..10 {
        a.tick();
    }
    let outs = a.take_outputs();
    let ids = send_ids(&outs);
    let mut p = RaftPeer::new(addr(1));
    p.term = 1;
    p.vote_for = Some(addr(0));
    p.leader_due_ms = 16_000;
    a.on_response(ids[0].1, Ok(Response::Peer(p.clone())));
    assert_eq!(a.peer(&addr(1)), Some(&p));
    // An answer naming a stranger or the leader itself changes nothing.
    a.on_response(ids[1].1, Ok(Response::Peer(RaftPeer::new(addr(0)))));
    assert_eq!(a.local().state, PeerState::Leader);
}

#[test]
fn beat_packet_lists_every_key_in_brief_form_and_resets_the_leader_due() {
    let mut a = elected(3);
    a.put(iplist(1), value(r#"{"instanceList":[]}"#));
    a.take_outputs();
    for _ in 0..10 {
        a.tick();
    }
    let outs = a.take_outputs();
    let beats: Vec<_> = sends(&outs)
        .into_iter()
        .filter(|(_, r)| matches!(r, Request::Beat(_)))
        .collect();
    assert_eq!(beats.len(), 2);
    let Request::Beat(p) = &beats[0].1 else {
        panic!()
    };
    assert_eq!(
        p.datums,
        vec![BeatDatum {
            key: "iplist.public##DEFAULT_GROUP@@s001".into(),
            timestamp: 1
        }]
    );
    assert_eq!(p.peer.state, PeerState::Leader);
    assert_eq!(p.peer.heartbeat_due_ms, 5_000);
    assert!((15_000..20_000).contains(&p.peer.leader_due_ms));
    assert_eq!(events(&outs), vec![Event::BeatSent { term: 101, keys: 1 }]);
}

#[test]
fn send_beat_only_sends_no_datums_and_receivers_skip_sync() {
    let cfg = Config {
        send_beat_only: true,
        ..Config::default()
    };
    let mut b = Node::new(cfg, &addr(1), &members(3), 1).unwrap();
    b.on_request(
        1,
        Request::Commit {
            datum: Datum {
                key: iplist(1),
                value: Some(value("{}")),
                timestamp: 1,
            },
            source: leader_peer(0, 1),
        },
    );
    b.take_outputs();
    b.on_request(2, beat(0, 1, &[]));
    b.on_request(3, beat(0, 1, &[]));
    b.take_outputs();
    b.on_request(
        4,
        Request::Commit {
            datum: Datum {
                key: iplist(1),
                value: Some(value("{}")),
                timestamp: 1,
            },
            source: leader_peer(0, 1),
        },
    );
    b.on_request(5, beat(0, 1, &[]));
    assert_eq!(b.datum_count(), 1, "nothing is deleted without sync");
}

#[test]
fn a_key_without_brief_form_stops_the_whole_beat() {
    let mut a = elected(3);
    // A commit-like path that Nacos accepts: a brief-form meta key.
    a.put("meta.x", value("{}"));
    a.take_outputs();
    for _ in 0..10 {
        a.tick();
    }
    let outs = a.take_outputs();
    assert!(sends(&outs)
        .iter()
        .all(|(_, r)| !matches!(r, Request::Beat(_))));
    assert_eq!(
        events(&outs),
        vec![Event::BeatNotSent {
            reason: "key meta.x has no brief form".into()
        }]
    );
}

// ---- §7 beat-driven sync -------------------------------------------------------------------

#[test]
fn beat_listing_120_newer_keys_fetches_50_50_20() {
    let mut b = node(1, 3);
    let keys: Vec<String> = (0..120).map(iplist).collect();
    let briefs: Vec<String> = keys
        .iter()
        .map(|k| key::brief(k).unwrap().to_string())
        .collect();
    let list: Vec<(&str, u64)> = briefs.iter().map(|b| (b.as_str(), 3)).collect();
    b.on_request(1, beat(0, 1, &list));
    let outs = b.take_outputs();
    let fetches: Vec<Vec<String>> = sends(&outs)
        .into_iter()
        .map(|(to, r)| {
            assert_eq!(to, addr(0));
            match r {
                Request::GetDatums(k) => k,
                other => panic!("{other:?}"),
            }
        })
        .collect();
    assert_eq!(
        fetches.iter().map(Vec::len).collect::<Vec<_>>(),
        [50, 50, 20]
    );
    assert_eq!(fetches.concat(), keys);
    assert!(the_reply(&outs).is_ok());
}

#[test]
fn up_to_date_keys_are_not_fetched_and_the_last_entry_flushes() {
    let mut b = following(3, 1);
    for i in 0..3 {
        let d = Datum {
            key: iplist(i),
            value: Some(value("{}")),
            timestamp: 5,
        };
        b.on_request(
            10 + i as u64,
            Request::Commit {
                datum: d,
                source: leader_peer(0, 1),
            },
        );
    }
    b.take_outputs();
    let briefs: Vec<String> = (0..3)
        .map(|i| key::brief(&iplist(i)).unwrap().to_string())
        .collect();
    // key 1 newer on the leader; keys 0 and 2 (the last) up to date.
    b.on_request(
        20,
        beat(0, 1, &[(&briefs[0], 5), (&briefs[1], 6), (&briefs[2], 5)]),
    );
    let outs = b.take_outputs();
    assert_eq!(
        sends(&outs),
        vec![(addr(0), Request::GetDatums(vec![iplist(1)]))]
    );
    // All up to date: nothing at all.
    b.on_request(
        21,
        beat(0, 1, &[(&briefs[0], 5), (&briefs[1], 5), (&briefs[2], 5)]),
    );
    assert!(sends(&b.take_outputs()).is_empty());
}

#[test]
fn a_key_missing_from_the_beat_is_deleted_by_the_dead_key_rule() {
    let mut b = following(3, 1);
    let keep = iplist(1);
    let gone = iplist(2);
    for (i, k) in [&keep, &gone, &SWITCH_KEY.to_string()]
        .into_iter()
        .enumerate()
    {
        let d = Datum {
            key: k.clone(),
            value: Some(value("{}")),
            timestamp: 1,
        };
        b.on_request(
            10 + i as u64,
            Request::Commit {
                datum: d,
                source: leader_peer(0, 1),
            },
        );
    }
    b.take_outputs();
    let brief = key::brief(&keep).unwrap().to_string();
    b.on_request(20, beat(0, 1, &[(&brief, 1)]));
    let outs = b.take_outputs();
    assert_eq!(
        events(&outs)
            .into_iter()
            .filter(|e| matches!(e, Event::DeadKeyDeleted { .. }))
            .collect::<Vec<_>>(),
        vec![
            Event::DeadKeyDeleted {
                key: SWITCH_KEY.into()
            },
            Event::DeadKeyDeleted { key: gone.clone() }
        ]
    );
    // The switch key has no namespace: Nacos keeps its file.
    assert_eq!(persists(&outs), vec![Persist::Remove { key: gone.clone() }]);
    assert_eq!(
        b.datums().map(|d| d.key.clone()).collect::<Vec<_>>(),
        vec![keep]
    );
}

#[test]
fn an_empty_beat_deletes_everything() {
    let mut b = following(3, 1);
    b.on_request(
        2,
        Request::Commit {
            datum: Datum {
                key: iplist(0),
                value: Some(value("{}")),
                timestamp: 1,
            },
            source: leader_peer(0, 1),
        },
    );
    b.on_request(3, beat(0, 1, &[]));
    assert_eq!(b.datum_count(), 0);
}

#[test]
fn fetched_datums_apply_with_the_term_rule_and_are_paced() {
    let mut b = node(1, 3);
    let k0 = key::brief(&iplist(0)).unwrap().to_string();
    let k1 = key::brief(&iplist(1)).unwrap().to_string();
    // Two beats from the leader in term 250, each needing one key.
    b.on_request(1, beat(0, 250, &[(&k0, 2)]));
    let f1 = send_ids(&b.take_outputs())[0].1;
    b.on_request(2, beat(0, 250, &[(&k0, 2), (&k1, 1)]));
    let f2 = send_ids(&b.take_outputs())[0].1;
    let d0 = Datum {
        key: iplist(0),
        value: Some(value(r#"{"instanceList":[]}"#)),
        timestamp: 2,
    };
    b.on_response(f1, Ok(Response::Datums(vec![Some(d0.clone()), None])));
    let outs = b.take_outputs();
    // own term 0 + 100 <= 250: only +100.
    assert_eq!(
        persists(&outs),
        vec![Persist::Datum(d0.clone()), Persist::Term(100)]
    );
    assert!(outs.contains(&Output::SetTimer {
        timer: Timer::SyncPause,
        after_ms: 200
    }));
    assert_eq!(b.local().term, 100);
    // The second answer waits for the 200 ms pause.
    let d1 = Datum {
        key: iplist(1),
        value: Some(value(r#"{"instanceList":[]}"#)),
        timestamp: 1,
    };
    b.on_response(f2, Ok(Response::Datums(vec![Some(d1.clone())])));
    assert!(persists(&b.take_outputs()).is_empty());
    assert_eq!(b.pending_sync(), 1);
    b.on_timer(Timer::SyncPause);
    let outs = b.take_outputs();
    // 100 + 100 > 250 is false? 200 <= 250: +100 again → 200.
    assert_eq!(
        persists(&outs),
        vec![Persist::Datum(d1), Persist::Term(200)]
    );
    // A stale copy is skipped.
    b.on_timer(Timer::SyncPause);
    b.take_outputs();
    b.on_request(3, beat(0, 250, &[(&k0, 9)]));
    let f3 = send_ids(&b.take_outputs())[0].1;
    let old = Datum { timestamp: 1, ..d0 };
    b.on_response(f3, Ok(Response::Datums(vec![Some(old)])));
    assert_eq!(
        events(&b.take_outputs()),
        vec![Event::DatumSkipped {
            key: iplist(0),
            reason: "not newer than the local copy".into()
        }]
    );
}

#[test]
fn sync_follows_the_leader_term_when_within_one_step_even_downwards() {
    // Flaw: the fetch callback sets the term to the beat's term, which may be older.
    let mut b = following(3, 10);
    let k0 = key::brief(&iplist(0)).unwrap().to_string();
    b.on_request(2, beat(0, 10, &[(&k0, 1)]));
    let fetch = send_ids(&b.take_outputs())[0].1;
    let mut cand = RaftPeer::new(addr(2));
    cand.term = 50;
    b.on_request(3, Request::Vote(cand)); // granted: term 50
    b.take_outputs();
    let d = Datum {
        key: iplist(0),
        value: Some(value("{}")),
        timestamp: 1,
    };
    b.on_response(fetch, Ok(Response::Datums(vec![Some(d)])));
    b.take_outputs();
    assert_eq!(b.local().term, 10);
}

#[test]
fn get_datums_answers_null_for_missing_keys() {
    let mut b = following(3, 1);
    let d = Datum {
        key: iplist(0),
        value: Some(value("{}")),
        timestamp: 1,
    };
    b.on_request(
        2,
        Request::Commit {
            datum: d.clone(),
            source: leader_peer(0, 1),
        },
    );
    b.take_outputs();
    b.on_request(3, Request::GetDatums(vec![iplist(0), iplist(9)]));
    assert_eq!(
        the_reply(&b.take_outputs()),
        Ok(Response::Datums(vec![Some(d), None]))
    );
}

// ---- §6.1 publish ----------------------------------------------------------------------------

#[test]
fn leader_put_persists_first_bumps_the_term_and_commits_with_the_old_term() {
    let mut a = elected(3);
    let op = a.put(iplist(0), value(r#"{"instanceList":[]}"#));
    let outs = a.take_outputs();
    let d = Datum {
        key: iplist(0),
        value: Some(value(r#"{"instanceList":[]}"#)),
        timestamp: 1,
    };
    // Order: the datum file, the term, then the commits, then the timer.
    assert_eq!(outs[0], Output::Persist(Persist::Datum(d.clone())));
    assert_eq!(outs[1], Output::Persist(Persist::Term(101)));
    let commits = sends(&outs);
    assert_eq!(commits.len(), 2);
    for (_, r) in &commits {
        let Request::Commit { datum, source } = r else {
            panic!()
        };
        assert_eq!(datum, &d);
        assert_eq!((source.term, source.state), (1, PeerState::Leader));
    }
    assert!(outs.contains(&Output::SetTimer {
        timer: Timer::PublishTimeout(1),
        after_ms: 5_000
    }));
    assert!(done(&outs).is_empty(), "waits for a majority");
    // One ack + self = majority of 3.
    let ids = send_ids(&outs);
    a.on_response(ids[0].1, Ok(Response::Ok));
    let outs = a.take_outputs();
    assert_eq!(outs.last(), Some(&Output::Done { op, result: Ok(()) }));
    // A late ack changes nothing.
    a.on_response(ids[1].1, Ok(Response::Ok));
    assert!(a.take_outputs().is_empty());
    assert_eq!(a.local().term, 101);
}

#[test]
fn publish_timeout_fails_but_nothing_is_rolled_back() {
    let mut a = elected(3);
    let op = a.put(iplist(0), value("{}"));
    let ids = send_ids(&a.take_outputs());
    a.on_response(ids[0].1, Err(Failure::Timeout));
    a.on_timer(Timer::PublishTimeout(1));
    let outs = a.take_outputs();
    assert_eq!(
        outs.last(),
        Some(&Output::Done {
            op,
            result: Err(RaftError::server(PUBLISH_FAILED))
        })
    );
    assert_eq!(a.datum(&iplist(0)).unwrap().timestamp, 1);
    assert_eq!(a.local().term, 101);
}

#[test]
fn writes_are_serialized_behind_the_lock() {
    let mut a = elected(3);
    a.put(iplist(0), value("{}"));
    let first = send_ids(&a.take_outputs());
    let op2 = a.put(iplist(1), value("{}"));
    assert!(sends(&a.take_outputs()).is_empty(), "second write waits");
    assert_eq!(a.pending_writes(), 2);
    a.on_response(first[0].1, Ok(Response::Ok));
    let outs = a.take_outputs();
    let second = sends(&outs);
    assert_eq!(second.len(), 2);
    let Request::Commit { datum, source } = &second[0].1 else {
        panic!()
    };
    assert_eq!(
        (datum.key.as_str(), datum.timestamp, source.term),
        (iplist(1).as_str(), 1, 101)
    );
    let ids = send_ids(&outs);
    a.on_response(ids[0].1, Ok(Response::Ok));
    assert_eq!(done(&a.take_outputs()), vec![Ok(())]);
    let _ = op2;
}

#[test]
fn timestamps_count_up_per_key() {
    let mut solo = Node::new(Config::default(), &addr(0), &members(1), 1).unwrap();
    solo.timeout_now();
    solo.take_outputs();
    // A single-member cluster asks nobody, so decideLeader never runs (Nacos' behaviour).
    assert!(!solo.is_leader());
    let mut a = elected(3);
    for _ in 0..3 {
        a.put(iplist(0), value("{}"));
        let ids = send_ids(&a.take_outputs());
        a.on_response(ids[0].1, Ok(Response::Ok));
        a.take_outputs();
    }
    assert_eq!(a.datum(&iplist(0)).unwrap().timestamp, 3);
    assert_eq!(a.local().term, 301);
}

#[test]
fn unknown_key_types_are_refused() {
    let mut a = elected(3);
    a.put("com.example.x", value("{}"));
    assert_eq!(
        done(&a.take_outputs()),
        vec![Err(RaftError::bad_request(
            "unknown type publish key: com.example.x"
        ))]
    );
}

#[test]
fn follower_put_is_forwarded_and_fails_clearly_without_a_leader() {
    let mut lonely = node(1, 3);
    lonely.put(iplist(0), value("{}"));
    assert_eq!(
        done(&lonely.take_outputs()),
        vec![Err(RaftError::server(NO_LEADER))]
    );
    let mut f = following(3, 1);
    let op = f.put(iplist(0), value("{}"));
    let outs = f.take_outputs();
    assert_eq!(
        sends(&outs),
        vec![(
            addr(0),
            Request::Forward {
                key: iplist(0),
                value: value("{}")
            }
        )]
    );
    let id = send_ids(&outs)[0].1;
    f.on_response(id, Err(Failure::Status(RaftError::server(PUBLISH_FAILED))));
    let outs = f.take_outputs();
    assert_eq!(
        outs.last(),
        Some(&Output::Done {
            op,
            result: Err(RaftError::server(format!(
                "leader failed, caused by: caused: {PUBLISH_FAILED};"
            )))
        })
    );
}

#[test]
fn a_forwarded_write_is_answered_when_the_majority_acked() {
    let mut a = elected(3);
    a.on_request(
        77,
        Request::Forward {
            key: iplist(0),
            value: value("{}"),
        },
    );
    let outs = a.take_outputs();
    assert!(outs.iter().all(|o| !matches!(o, Output::Reply { .. })));
    a.on_response(send_ids(&outs)[0].1, Ok(Response::Ok));
    assert_eq!(the_reply(&a.take_outputs()), Ok(Response::Ok));
}

// ---- §6.1 follower side of a commit --------------------------------------------------------

#[test]
fn commit_from_a_non_leader_source_is_refused_with_nacos_text() {
    let mut f = following(3, 1);
    let d = Datum {
        key: iplist(0),
        value: Some(value("{}")),
        timestamp: 1,
    };
    f.on_request(
        2,
        Request::Commit {
            datum: d,
            source: leader_peer(2, 9),
        },
    );
    let outs = f.take_outputs();
    assert_eq!(
        the_reply(&outs),
        Err(RaftError::server(format!(
            "peer({}) tried to publish data but wasn't leader",
            addr(2)
        )))
    );
    assert!(persists(&outs).is_empty());
    assert_eq!(f.datum_count(), 0);
}

#[test]
fn commit_checks_value_then_leader_then_term() {
    let mut f = following(3, 1);
    let empty = Datum {
        key: iplist(0),
        value: None,
        timestamp: 1,
    };
    f.on_request(
        2,
        Request::Commit {
            datum: empty,
            source: leader_peer(2, 1),
        },
    );
    assert_eq!(
        the_reply(&f.take_outputs()),
        Err(RaftError::server("received empty datum"))
    );
    let mut cand = RaftPeer::new(addr(2));
    cand.term = 30;
    f.on_request(3, Request::Vote(cand));
    f.take_outputs();
    let d = Datum {
        key: iplist(0),
        value: Some(value("{}")),
        timestamp: 1,
    };
    f.on_request(
        4,
        Request::Commit {
            datum: d,
            source: leader_peer(0, 20),
        },
    );
    assert_eq!(
        the_reply(&f.take_outputs()),
        Err(RaftError::server(
            "out of date publish, pub-term:20, cur-term: 30"
        ))
    );
}

#[test]
fn commit_overwrites_without_timestamp_check_and_applies_the_term_rule() {
    let mut f = following(3, 1);
    let newer = Datum {
        key: iplist(0),
        value: Some(value("1")),
        timestamp: 9,
    };
    f.on_request(
        2,
        Request::Commit {
            datum: newer,
            source: leader_peer(0, 1),
        },
    );
    let older = Datum {
        key: iplist(0),
        value: Some(value("2")),
        timestamp: 3,
    };
    f.on_request(
        3,
        Request::Commit {
            datum: older.clone(),
            source: leader_peer(0, 101),
        },
    );
    let outs = f.take_outputs();
    assert_eq!(f.datum(&iplist(0)), Some(&older));
    // 1 + 100 > 101 is false → own term + 100 = 101 (from 1).
    assert_eq!(f.local().term, 101);
    assert!(events(&outs).contains(&Event::CommitApplied {
        key: iplist(0),
        timestamp: 3,
        from: addr(0),
        term: 101
    }));
    // Within a step: follow the leader's term exactly.
    let d = Datum {
        key: iplist(1),
        value: Some(value("3")),
        timestamp: 1,
    };
    f.on_request(
        4,
        Request::Commit {
            datum: d,
            source: leader_peer(0, 150),
        },
    );
    f.take_outputs();
    assert_eq!(f.local().term, 150);
    assert_eq!(f.peer(&addr(0)).unwrap().term, 150);
}

#[test]
fn commit_for_an_untyped_key_is_a_500() {
    let mut f = following(3, 1);
    let d = Datum {
        key: "com.example.x".into(),
        value: Some(value("{}")),
        timestamp: 1,
    };
    f.on_request(
        2,
        Request::Commit {
            datum: d,
            source: leader_peer(0, 1),
        },
    );
    assert_eq!(the_reply(&f.take_outputs()).unwrap_err().status, 500);
}

// ---- §6.2 delete -----------------------------------------------------------------------------

#[test]
fn leader_remove_deletes_and_fires_commits_without_waiting() {
    let mut a = elected(3);
    let k = key::meta_key("public", "DEFAULT_GROUP@@s");
    a.put(k.clone(), value("{}"));
    let ids = send_ids(&a.take_outputs());
    a.on_response(ids[0].1, Ok(Response::Ok));
    a.take_outputs();
    let op = a.remove(k.clone());
    let outs = a.take_outputs();
    assert_eq!(
        persists(&outs),
        vec![Persist::Remove { key: k.clone() }, Persist::Term(101)]
    );
    let dels = sends(&outs);
    assert_eq!(dels.len(), 2);
    assert!(
        matches!(&dels[0].1, Request::DeleteCommit { key, source } if *key == k && source.term == 101)
    );
    assert_eq!(outs.last(), Some(&Output::Done { op, result: Ok(()) }));
    assert_eq!(a.datum_count(), 0);
}

#[test]
fn iplist_remove_on_a_follower_is_local_only() {
    let mut f = following(3, 1);
    let d = Datum {
        key: iplist(0),
        value: Some(value("{}")),
        timestamp: 1,
    };
    f.on_request(
        2,
        Request::Commit {
            datum: d,
            source: leader_peer(0, 1),
        },
    );
    f.take_outputs();
    f.remove(iplist(0));
    let outs = f.take_outputs();
    assert!(sends(&outs).is_empty());
    assert_eq!(done(&outs), vec![Ok(())]);
    assert_eq!(f.datum_count(), 0);
}

#[test]
fn meta_remove_on_a_follower_is_forwarded_and_holds_the_lock() {
    let mut f = following(3, 1);
    let k = key::meta_key("public", "DEFAULT_GROUP@@s");
    f.remove(k.clone());
    let outs = f.take_outputs();
    assert_eq!(
        sends(&outs),
        vec![(addr(0), Request::ForwardDelete { key: k })]
    );
    f.remove(key::meta_key("public", "DEFAULT_GROUP@@t"));
    assert!(
        sends(&f.take_outputs()).is_empty(),
        "the second delete waits for the first"
    );
    f.on_response(send_ids(&outs)[0].1, Ok(Response::Ok));
    let outs = f.take_outputs();
    assert_eq!(done(&outs), vec![Ok(())]);
    assert_eq!(sends(&outs).len(), 1);
}

#[test]
fn delete_commit_checks_the_source_and_moves_the_term_only_for_meta_keys() {
    let mut f = following(3, 1);
    let m = key::meta_key("public", "DEFAULT_GROUP@@s");
    f.on_request(
        2,
        Request::Commit {
            datum: Datum {
                key: m.clone(),
                value: Some(value("{}")),
                timestamp: 1,
            },
            source: leader_peer(0, 1),
        },
    );
    f.on_request(
        3,
        Request::Commit {
            datum: Datum {
                key: iplist(0),
                value: Some(value("{}")),
                timestamp: 1,
            },
            source: leader_peer(0, 1),
        },
    );
    f.take_outputs();
    f.on_request(
        4,
        Request::DeleteCommit {
            key: iplist(0),
            source: leader_peer(2, 5),
        },
    );
    assert_eq!(
        the_reply(&f.take_outputs()).unwrap_err().message,
        format!("peer({}) tried to publish data but wasn't leader", addr(2))
    );
    f.on_request(
        5,
        Request::DeleteCommit {
            key: iplist(0),
            source: leader_peer(0, 50),
        },
    );
    f.take_outputs();
    assert_eq!(f.local().term, 1, "iplist deletes leave the term alone");
    f.on_request(
        6,
        Request::DeleteCommit {
            key: m,
            source: leader_peer(0, 50),
        },
    );
    f.take_outputs();
    assert_eq!(f.local().term, 50);
    assert_eq!(f.datum_count(), 0);
}

// ---- §8 restart and §9 membership ------------------------------------------------------------

#[test]
fn restore_brings_datums_back_but_not_the_term() {
    let d = Datum {
        key: iplist(0),
        value: Some(value("{}")),
        timestamp: 7,
    };
    let n = Node::restore(
        Config::default(),
        &addr(0),
        &members(3),
        5,
        vec![d.clone()],
        4_301,
    )
    .unwrap();
    assert_eq!(n.datum(&iplist(0)), Some(&d));
    assert_eq!(n.local().term, 0);
    assert_eq!(n.persisted_term(), 4_301);
}

#[test]
fn members_change_only_when_a_new_address_appears() {
    let mut n = node(0, 3);
    n.timeout_now();
    n.take_outputs();
    assert!(
        !n.set_members(&members(2)),
        "no new address: nothing changes"
    );
    assert_eq!(n.members(), 3);
    assert!(n.set_members(&members(4)));
    assert_eq!(n.members(), 4);
    assert_eq!(n.local().term, 1, "existing records are kept");
}

#[test]
fn origins_route_completions() {
    let mut a = node(0, 3);
    a.finish(Origin::Inbound(5), Ok(()));
    a.finish(Origin::Client(6), Err(RaftError::server("x")));
    assert_eq!(
        a.take_outputs(),
        vec![
            Output::Reply {
                to: 5,
                result: Ok(Response::Ok)
            },
            Output::Done {
                op: 6,
                result: Err(RaftError::server("x"))
            },
        ]
    );
}

#[test]
fn reload_replaces_the_datum_in_memory_only() {
    let mut f = following(3, 1);
    let d = Datum {
        key: SWITCH_KEY.into(),
        value: Some(value(r#"{"a":1}"#)),
        timestamp: 9,
    };
    f.reload(d.clone());
    assert_eq!(f.datum(SWITCH_KEY), Some(&d));
    assert!(f.take_outputs().is_empty());
    assert_eq!(f.local().term, 0);
}
