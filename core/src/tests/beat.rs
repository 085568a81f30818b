//! §5.3 beats: `sendBeat`, `receivedBeat` (before the sync part) and `makeLeader`.

use super::*;
use crate::{Failure, RaftError};

#[test]
fn beat_from_a_lower_term_is_out_of_date() {
    let mut b = node(1, 3);
    let mut c = RaftPeer::new(addr(2));
    c.term = 7;
    b.on_request(1, Request::Vote(c));
    skip(&mut b);
    b.on_request(2, beat(0, 6, &[]));
    let outs = outputs(
        &mut b,
        &[
            "event beat-rejected A: out of date beat, beat-from-term: 6, beat-to-term: 7",
            "reply #2 400 out of date beat, beat-from-term: 6, beat-to-term: 7",
        ],
    );
    assert_eq!(
        the_reply(&outs).unwrap_err().http_body(),
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
            datums: Default::default(),
        })),
    );
    let outs = outputs(
        &mut b,
        &[
            "event beat-rejected A: invalid state from master, state: FOLLOWER",
            "reply #1 400 invalid state from master, state: FOLLOWER",
        ],
    );
    assert_eq!(
        the_reply(&outs),
        Err(RaftError::bad_request(
            "invalid state from master, state: FOLLOWER"
        ))
    );
}

#[test]
fn beat_with_equal_term_is_accepted_and_a_candidate_steps_down() {
    let mut b = node(1, 3);
    b.timeout_now(); // candidate in term 1
    skip(&mut b);
    b.on_request(5, beat(0, 1, &[]));
    let outs = outputs(
        &mut b,
        &[
            "event stepped-down CANDIDATE accepted-beat A term=1",
            "event leader-changed A was=-",
            "event beat-accepted A term=1",
            "reply #5 200 B FOLLOWER term=1 vote=A",
        ],
    );
    let Ok(Response::Peer(p)) = the_reply(&outs) else {
        panic!()
    };
    assert_eq!(p.heartbeat_due_ms, 5_000);
    assert_eq!(b.leader(), Some(addr(0).as_str()));
}

#[test]
fn followers_do_not_adopt_the_leaders_term_from_beats() {
    let mut b = node(1, 3);
    b.on_request(1, beat(0, 305, &[]));
    outputs(
        &mut b,
        &[
            "event leader-changed A was=-",
            "event beat-accepted A term=305",
            "reply #1 200 B FOLLOWER term=0 vote=-",
        ],
    );
    assert_eq!(b.local().term, 0);
    assert_eq!(b.peer(&addr(0)).unwrap().term, 305);
}

#[test]
fn make_leader_refreshes_other_leader_records_and_marks_failures_follower() {
    let mut b = node(1, 3);
    b.on_request(1, beat(2, 1, &[])); // C was leader
    skip(&mut b);
    assert_eq!(b.peer(&addr(2)).unwrap().state, PeerState::Leader);
    b.on_request(2, beat(0, 2, &[])); // now A leads
    let outs = outputs(
        &mut b,
        &[
            "event leader-changed A was=C",
            "send C #1 peer",
            "event beat-accepted A term=2",
            "reply #2 200 B FOLLOWER term=0 vote=-",
        ],
    );
    // Refused, timed out or unreadable: Java's empty onError, nothing changes.
    let mut ids = send_ids(&outs);
    for failure in [
        Failure::Refused,
        Failure::Timeout,
        Failure::Malformed("not a peer".into()),
    ] {
        b.on_response(ids[0], Err(failure));
        outputs(&mut b, &[]);
        assert_eq!(b.peer(&addr(2)).unwrap().state, PeerState::Leader);
        // The next beat asks again, as Java's makeLeader does while the record says LEADER.
        b.on_request(3, beat(0, 2, &[]));
        let again = b.take_outputs();
        ids = send_ids(&again);
        assert_eq!(ids.len(), 1, "{again:?}");
    }
    // A non-200 answer marks it FOLLOWER.
    b.on_response(ids[0], Err(Failure::Status(RaftError::server("boom"))));
    outputs(&mut b, &["event peer-marked-follower C"]);
    assert_eq!(b.peer(&addr(2)).unwrap().state, PeerState::Follower);
}

/// Java accepts a beat from an address that is not a member and stores its record
/// (`RaftPeerSet.update` puts it), so `/leader` shows it; the member list does not change here.
#[test]
fn a_leader_that_is_not_a_member_has_its_record_shown() {
    let mut b = node(1, 3);
    let mut stranger = RaftPeer::new("127.0.0.99:8848");
    stranger.state = PeerState::Leader;
    stranger.term = 5;
    stranger.vote_for = Some(stranger.ip.clone());
    b.on_request(
        1,
        Request::Beat(Arc::new(BeatPacket {
            peer: stranger.clone(),
            datums: Default::default(),
        })),
    );
    skip(&mut b);
    assert_eq!(b.leader(), Some("127.0.0.99:8848"));
    assert_eq!(b.leader_record(), Some(&stranger));
    assert!(b.peer("127.0.0.99:8848").is_none(), "not made a member");
    b.on_request(2, beat(0, 6, &[]));
    skip(&mut b);
    assert_eq!(
        b.leader_record().map(|p| p.ip.as_str()),
        Some(addr(0).as_str())
    );
}

#[test]
fn a_peer_refresh_that_answers_replaces_the_record() {
    let mut b = node(1, 3);
    b.on_request(1, beat(2, 1, &[]));
    b.on_request(2, beat(0, 2, &[]));
    let outs = b.take_outputs();
    let mut now = RaftPeer::new(addr(2));
    now.term = 2;
    b.on_response(send_ids(&outs)[0], Ok(Response::Peer(now.clone())));
    outputs(&mut b, &[]);
    assert_eq!(b.peer(&addr(2)), Some(&now));
}

#[test]
fn the_leader_stores_what_followers_answer_to_beats() {
    let mut a = elected(3);
    for _ in 0..10 {
        a.tick();
    }
    let ids = send_ids(&a.take_outputs());
    let mut p = RaftPeer::new(addr(1));
    p.term = 1;
    p.vote_for = Some(addr(0));
    p.leader_due_ms = 16_000;
    a.on_response(ids[0], Ok(Response::Peer(p.clone())));
    outputs(&mut a, &[]);
    assert_eq!(a.peer(&addr(1)), Some(&p));
    // An answer naming the leader itself changes nothing; a failed beat is only logged.
    a.on_response(ids[1], Ok(Response::Peer(RaftPeer::new(addr(0)))));
    outputs(&mut a, &[]);
    assert_eq!(a.local().state, PeerState::Leader);
    for _ in 0..10 {
        a.tick();
    }
    let ids = send_ids(&a.take_outputs());
    a.on_response(ids[0], Err(Failure::Timeout));
    outputs(&mut a, &["event request-failed B beat: timed out"]);
}

#[test]
fn beat_packet_lists_every_key_in_brief_form_and_resets_the_leader_due() {
    let mut a = elected(3);
    a.put(iplist(1), value(r#"{"instanceList":[]}"#));
    skip(&mut a);
    for _ in 0..9 {
        a.tick();
        outputs(&mut a, &[]);
    }
    a.tick();
    let outs = outputs(
        &mut a,
        &[
            "event beat-sent term=101 keys=1",
            "send B #5 beat A LEADER term=101 vote=A keys=[iplist.s001:1]",
            "send C #6 beat A LEADER term=101 vote=A keys=[iplist.s001:1]",
        ],
    );
    let Some(Output::Send {
        request: Request::Beat(p),
        ..
    }) = outs.get(1)
    else {
        panic!()
    };
    assert_eq!(p.datums[0].key, "iplist.public##DEFAULT_GROUP@@s001");
    assert_eq!(p.peer.heartbeat_due_ms, 5_000);
    assert!((15_000..20_000).contains(&p.peer.leader_due_ms));
}

#[test]
fn send_beat_only_sends_no_datums_and_receivers_skip_sync() {
    let cfg = Config {
        send_beat_only: true,
        ..Config::default()
    };
    let mut b = Node::new(cfg, &addr(1), &members(3), 1).unwrap();
    b.on_request(1, beat(0, 1, &[]));
    b.on_request(2, commit(&iplist(1), "{}", 1, 0, 1));
    skip(&mut b);
    b.on_request(3, beat(0, 1, &[]));
    outputs(
        &mut b,
        &[
            "event beat-accepted A term=1",
            "reply #3 200 B FOLLOWER term=1 vote=-",
        ],
    );
    assert_eq!(b.datum_count(), 1, "nothing is deleted without sync");
}

/// The keys a beat `outs` sends lists, per receiver.
fn beat_keys(outs: &[Output]) -> Vec<usize> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Send {
                request: Request::Beat(p),
                ..
            } => Some(p.datums.len()),
            _ => None,
        })
        .collect()
}

/// A write on leader `a`, acknowledged by every follower.
fn put_acked(a: &mut Node, k: impl Into<String>, v: JsonValue) {
    a.put(k, v);
    for id in send_ids(&a.take_outputs()) {
        a.on_response(id, Ok(Response::Ok));
    }
    skip(a);
}

/// `sendBeatOnly` comes from the replicated switch datum (RaftCore 632-650, 763;
/// SwitchManager.update 330): a leader that applies the switch sends empty beats; a follower
/// that applied it skips the sync (so it deletes nothing); a deleted switch keeps the value, a
/// reloaded one changes nothing, and a restored one applies from start-up.
#[test]
fn send_beat_only_follows_the_switch_datum() {
    let switch = key::SWITCH_KEY;
    let mut a = elected(3);
    put_acked(&mut a, iplist(1), value(r#"{"instanceList":[]}"#));
    put_acked(
        &mut a,
        switch,
        value(r#"{"name":"00-00---000-NACOS_SWITCH_DOMAIN-000---00-00","sendBeatOnly":true}"#),
    );
    assert!(a.send_beat_only());
    let beats = |a: &mut Node| {
        for _ in 0..10 {
            a.tick();
        }
        beat_keys(&a.take_outputs())
    };
    assert_eq!(beats(&mut a), vec![0, 0], "empty beats");
    a.remove(switch);
    skip(&mut a);
    assert!(a.datum(switch).is_none());
    assert!(a.send_beat_only(), "a deleted switch keeps its value");
    assert_eq!(beats(&mut a), vec![0, 0]);
    // A switch without the field sets Java's default, false; one Java cannot read changes nothing.
    put_acked(&mut a, switch, value(r#"{"sendBeatOnly":{}}"#));
    assert!(a.send_beat_only());
    put_acked(&mut a, switch, value(r#"{"sendBeatOnly":"false"}"#));
    assert!(!a.send_beat_only());
    put_acked(&mut a, switch, value(r#"{"sendBeatOnly":1}"#));
    assert!(a.send_beat_only());
    put_acked(&mut a, switch, value(r#"{"name":"x"}"#));
    assert!(!a.send_beat_only());
    assert_eq!(beats(&mut a), vec![2, 2], "both keys listed again");
    a.reload(crate::Datum {
        key: switch.into(),
        value: Some(value(r#"{"sendBeatOnly":true}"#)),
        timestamp: 99,
    });
    assert!(!a.send_beat_only(), "reload notifies no listener");

    // A follower that committed the switch skips the sync: the leader's empty key list deletes
    // nothing.
    let mut b = following(3, 1);
    b.on_request(2, commit(&iplist(1), "{}", 1, 0, 1));
    b.on_request(3, commit(switch, r#"{"sendBeatOnly":true}"#, 1, 0, 1));
    skip(&mut b);
    assert!(b.send_beat_only());
    b.on_request(4, beat(0, 1, &[]));
    outputs(
        &mut b,
        &[
            "event beat-accepted A term=1",
            "reply #4 200 B FOLLOWER term=1 vote=-",
        ],
    );
    assert_eq!(b.datum_count(), 2, "nothing is deleted without sync");

    // Restored from disk with the switch on: on from the start.
    let on = crate::Datum {
        key: switch.into(),
        value: Some(value(r#"{"sendBeatOnly":true}"#)),
        timestamp: 3,
    };
    let r = Node::restore(Config::default(), &addr(1), &members(3), 1, [on], 0).unwrap();
    assert!(r.send_beat_only());
}

/// A datum that is neither meta nor instance list (a switch-named key without the meta prefix):
/// Java's leader still beats, with an entry without key (RaftCore 639-648); a follower accepts
/// the leader (due reset, leader made), then fails the sync with the NullPointerException's 500
/// and an empty body, deleting nothing (RaftCore 763-773).
#[test]
fn keys_neither_meta_nor_iplist_beat_without_key_and_fail_the_sync_after_the_leader_is_accepted() {
    let odd = "com.alibaba.nacos.naming.00-00---000-NACOS_SWITCH_DOMAIN-000---00-00";
    let mut a = elected(3);
    a.reload(crate::Datum {
        key: odd.into(),
        value: Some(value("{}")),
        timestamp: 4,
    });
    let mut sent = Vec::new();
    for _ in 0..10 {
        a.tick();
        sent.extend(a.take_outputs());
    }
    let packet = sent
        .iter()
        .find_map(|o| match o {
            Output::Send {
                request: Request::Beat(p),
                ..
            } => Some(p.clone()),
            _ => None,
        })
        .expect("the leader beats");
    assert_eq!(packet.datums.len(), 1);
    assert_eq!(packet.datums[0].key, "");
    assert!(
        !packet.to_json().contains("\"key\""),
        "{}",
        packet.to_json()
    );

    let mut b = following(3, 1);
    b.on_request(2, commit(&iplist(1), "{}", 1, 0, 1));
    skip(&mut b);
    // A new leader C whose beat lists no key for b's datum, then an entry without key.
    let c = 2;
    b.on_request(3, beat(c, 2, &[("", 5)]));
    let outs = outputs(
        &mut b,
        &[
            "event leader-changed C was=A",
            "send A #1 peer",
            "event beat-accepted C term=2",
            "reply #3 500 ",
        ],
    );
    assert_eq!(the_reply(&outs).unwrap_err().http_body(), "");
    assert_eq!(b.leader(), Some(addr(c).as_str()));
    assert_eq!(b.datum_count(), 1, "the dead-key pass never ran");
}

#[test]
fn a_key_without_brief_form_stops_the_whole_beat() {
    let mut a = elected(3);
    // A brief-form meta key: Nacos accepts the write, then cannot abbreviate it in its beat.
    a.put("meta.x", value("{}"));
    skip(&mut a);
    for _ in 0..10 {
        a.tick();
    }
    outputs(
        &mut a,
        &["event beat-not-sent: key meta.x has no brief form"],
    );
}

/// The list and the outputs of a beat from `a` now, and the same from a copy of `a` that
/// remembers no list (so builds it from every key).
fn beat_now_and_built(a: &mut Node) -> (Vec<Output>, Vec<Output>) {
    let mut fresh = a.clone();
    fresh.beat_list = None;
    fresh.beat_changes.clear();
    a.send_beat();
    fresh.send_beat();
    (a.take_outputs(), fresh.take_outputs())
}

/// Issue 13: a leader patches its last beat list at the keys changed since, instead of building
/// it from every key. Random stores, re-stamps and deletes of meta, instance-list and other keys
/// (one without a brief form fails the beat; one that lists no key stops the patching), with the
/// sent lists sometimes still held (the patch then copies instead of moving): every beat is the
/// one a build from every key gives, byte for byte in the outputs.
#[test]
fn a_patched_beat_list_is_the_list_built_from_every_key() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut patched = 0;
    for round in 0..40 {
        let mut a = elected(3);
        skip(&mut a);
        let mut held = Vec::new();
        let keys = 20 + next(200) as usize;
        for step in 0..60 {
            let changes = match next(4) {
                0 => 0,
                1 => 1,
                2 => 1 + next(5),
                _ => next(keys as u64 / 2),
            };
            for _ in 0..changes {
                let i = next(keys as u64) as usize;
                let k = match next(40) {
                    // Rare: a key the beat lists without a key, and one with no brief form.
                    0 if round % 4 == 1 => String::from("com.example.other"),
                    1 if round % 4 == 2 => format!("meta.no-brief-{i}"),
                    2..=9 => format!("{}public##DEFAULT_GROUP@@m{i:03}", key::META_PREFIX),
                    _ => iplist(i),
                };
                if next(3) == 0 {
                    a.delete_datum(&k);
                } else {
                    a.reload(crate::Datum {
                        key: k,
                        value: Some(value("{}")),
                        timestamp: 1 + next(1000),
                    });
                }
            }
            let had = a.beat_list.is_some();
            let (got, want) = beat_now_and_built(&mut a);
            let (got_r, want_r) = (render_all(&got), render_all(&want));
            assert_eq!(got_r, want_r, "round {round} step {step}");
            let lists = |outs: &[Output]| -> Vec<Arc<Vec<BeatDatum>>> {
                outs.iter()
                    .filter_map(|o| match o {
                        Output::Send {
                            request: Request::Beat(p),
                            ..
                        } => Some(p.datums.clone()),
                        _ => None,
                    })
                    .collect()
            };
            assert_eq!(lists(&got), lists(&want), "round {round} step {step}");
            patched += (had && changes > 0 && a.beat_list.is_some()) as usize;
            if next(2) == 0 {
                held.push(got);
            }
        }
    }
    assert!(patched > 500, "only {patched} beats were patched");
}

fn render_all(outs: &[Output]) -> Vec<String> {
    render(outs, &Names::new(&members(16)))
}
