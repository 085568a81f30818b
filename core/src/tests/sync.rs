//! §7 beat-driven sync: the second part of `receivedBeat` (fetch what is newer, delete what
//! the beat does not list) and the datum-fetch callback (+100 rule, 200 ms pause).

use super::*;
use crate::{Datum, Timer};

#[test]
fn beat_listing_120_newer_keys_fetches_50_50_20() {
    let mut b = node(1, 3);
    let briefs: Vec<String> = (0..120).map(brief).collect();
    let list: Vec<(&str, u64)> = briefs.iter().map(|b| (b.as_str(), 3)).collect();
    b.on_request(1, beat(0, 1, &list));
    let outs = outputs(
        &mut b,
        &[
            "event leader-changed A was=-",
            "event beat-accepted A term=1",
            "event sync-fetch A keys=50",
            "send A #1 datum-get keys=50",
            "event sync-fetch A keys=50",
            "send A #2 datum-get keys=50",
            "event sync-fetch A keys=20",
            "send A #3 datum-get keys=20",
            "reply #1 200 B FOLLOWER term=0 vote=-",
        ],
    );
    let fetched: Vec<String> = outs
        .iter()
        .filter_map(|o| match o {
            Output::Send {
                request: Request::GetDatums(k),
                ..
            } => Some(k.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(fetched, (0..120).map(iplist).collect::<Vec<_>>());
}

#[test]
fn up_to_date_keys_are_not_fetched_and_the_last_entry_flushes() {
    let mut b = following(3, 1);
    for i in 0..3 {
        b.on_request(10 + i as u64, commit(&iplist(i), "{}", 5, 0, 1));
    }
    skip(&mut b);
    // Key 1 is newer on the leader; keys 0 and 2 (the last) are up to date.
    let (k0, k1, k2) = (brief(0), brief(1), brief(2));
    b.on_request(20, beat(0, 1, &[(&k0, 5), (&k1, 6), (&k2, 5)]));
    outputs(
        &mut b,
        &[
            "event beat-accepted A term=1",
            "event sync-fetch A keys=1",
            "send A #1 datum-get [iplist.s001]",
            "reply #20 200 B FOLLOWER term=1 vote=-",
        ],
    );
    // All up to date: nothing to fetch.
    b.on_request(21, beat(0, 1, &[(&k0, 5), (&k1, 5), (&k2, 5)]));
    outputs(
        &mut b,
        &[
            "event beat-accepted A term=1",
            "reply #21 200 B FOLLOWER term=1 vote=-",
        ],
    );
}

#[test]
fn a_key_missing_from_the_beat_is_deleted_by_the_dead_key_rule() {
    let mut b = following(3, 1);
    b.on_request(10, commit(&iplist(1), "{}", 1, 0, 1));
    b.on_request(11, commit(&iplist(2), "{}", 1, 0, 1));
    b.on_request(12, commit(key::SWITCH_KEY, "{}", 1, 0, 1));
    skip(&mut b);
    b.on_request(20, beat(0, 1, &[(&brief(1), 1)]));
    // The switch key has no namespace: Nacos keeps its file, so only iplist.s002's goes.
    outputs(
        &mut b,
        &[
            "event beat-accepted A term=1",
            "event dead-key-deleted switch",
            "persist remove iplist.s002",
            "event dead-key-deleted iplist.s002",
            "reply #20 200 B FOLLOWER term=1 vote=-",
        ],
    );
    assert_eq!(
        b.datums().map(|d| d.key.clone()).collect::<Vec<_>>(),
        [iplist(1)]
    );
}

#[test]
fn an_empty_beat_deletes_everything() {
    let mut b = following(3, 1);
    b.on_request(2, commit(&iplist(0), "{}", 1, 0, 1));
    skip(&mut b);
    b.on_request(3, beat(0, 1, &[]));
    outputs(
        &mut b,
        &[
            "event beat-accepted A term=1",
            "persist remove iplist.s000",
            "event dead-key-deleted iplist.s000",
            "reply #3 200 B FOLLOWER term=1 vote=-",
        ],
    );
    assert_eq!(b.datum_count(), 0);
}

#[test]
fn unknown_entries_in_a_beat_are_skipped_and_keys_in_any_order_are_found() {
    let mut b = following(3, 1);
    b.on_request(2, commit(&iplist(1), "{}", 4, 0, 1));
    b.on_request(3, commit(&iplist(2), "{}", 4, 0, 1));
    skip(&mut b);
    // Java lists keys in hash order; an entry that is neither meta nor iplist is ignored.
    b.on_request(
        4,
        beat(0, 1, &[(&brief(2), 4), ("other.x", 9), (&brief(1), 5)]),
    );
    outputs(
        &mut b,
        &[
            "event beat-accepted A term=1",
            "event sync-fetch A keys=1",
            "send A #1 datum-get [iplist.s001]",
            "reply #4 200 B FOLLOWER term=1 vote=-",
        ],
    );
}

#[test]
fn fetched_datums_apply_with_the_term_rule_and_are_paced() {
    let mut b = node(1, 3);
    let (k0, k1) = (brief(0), brief(1));
    // Two beats from the leader in term 250, each needing one key.
    b.on_request(1, beat(0, 250, &[(&k0, 2)]));
    let f1 = send_ids(&b.take_outputs())[0];
    b.on_request(2, beat(0, 250, &[(&k0, 2), (&k1, 1)]));
    let f2 = send_ids(&b.take_outputs())[0];
    let d0 = Datum {
        key: iplist(0),
        value: Some(value(r#"{"instanceList":[]}"#)),
        timestamp: 2,
    };
    b.on_response(f1, Ok(Response::Datums(vec![Some(d0.clone()), None])));
    // Own term 0 + 100 <= 250: only +100.
    outputs(
        &mut b,
        &[
            "persist datum iplist.s000 ts=2 {\"instanceList\":[]}",
            "persist term 100",
            "event datum-applied iplist.s000 ts=2 from=A term=100",
            "timer sync-pause 200",
        ],
    );
    assert_eq!(b.local().term, 100);
    // The second answer waits for the 200 ms pause.
    let d1 = Datum {
        key: iplist(1),
        value: Some(value(r#"{"instanceList":[]}"#)),
        timestamp: 1,
    };
    b.on_response(f2, Ok(Response::Datums(vec![Some(d1)])));
    outputs(&mut b, &[]);
    assert_eq!(b.pending_sync(), 1);
    b.on_timer(Timer::SyncPause);
    // 100 + 100 <= 250: +100 again, to 200.
    outputs(
        &mut b,
        &[
            "persist datum iplist.s001 ts=1 {\"instanceList\":[]}",
            "persist term 200",
            "event datum-applied iplist.s001 ts=1 from=A term=200",
            "timer sync-pause 200",
        ],
    );
    // A stale copy is skipped; so is an empty one.
    b.on_timer(Timer::SyncPause);
    outputs(&mut b, &[]);
    b.on_request(3, beat(0, 250, &[(&k0, 9)]));
    let f3 = send_ids(&b.take_outputs())[0];
    let old = Datum {
        timestamp: 1,
        ..d0.clone()
    };
    let empty = Datum {
        key: iplist(5),
        value: Some(value("null")),
        timestamp: 1,
    };
    b.on_response(f3, Ok(Response::Datums(vec![Some(old), Some(empty)])));
    outputs(
        &mut b,
        &[
            "event datum-skipped iplist.s000: not newer than the local copy",
            "event datum-skipped iplist.s005: empty or untyped datum",
            "timer sync-pause 200",
        ],
    );
}

#[test]
fn sync_follows_the_leader_term_when_within_one_step_even_downwards() {
    // Flaw: the fetch callback sets the term to the beat's term, which may be older.
    let mut b = following(3, 10);
    b.on_request(2, beat(0, 10, &[(&brief(0), 1)]));
    let fetch = send_ids(&b.take_outputs())[0];
    let mut cand = RaftPeer::new(addr(2));
    cand.term = 50;
    b.on_request(3, Request::Vote(cand)); // granted: term 50
    skip(&mut b);
    let d = Datum {
        key: iplist(0),
        value: Some(value("{}")),
        timestamp: 1,
    };
    b.on_response(fetch, Ok(Response::Datums(vec![Some(d)])));
    outputs(
        &mut b,
        &[
            "persist datum iplist.s000 ts=1 {}",
            "persist term 10",
            "event datum-applied iplist.s000 ts=1 from=A term=10",
            "timer sync-pause 200",
        ],
    );
    assert_eq!(b.local().term, 10);
}

#[test]
fn sync_answers_wait_while_a_write_holds_the_lock() {
    // Nacos applies each fetched datum under OPERATE_LOCK: a forwarded delete holds it.
    let mut f = following(3, 1);
    f.remove(key::meta_key("public", "DEFAULT_GROUP@@s"));
    let fwd = send_ids(&f.take_outputs())[0];
    f.on_request(4, beat(0, 1, &[(&brief(0), 1)]));
    let fetch = send_ids(&f.take_outputs())[0];
    let d = Datum {
        key: iplist(0),
        value: Some(value("{}")),
        timestamp: 1,
    };
    f.on_response(fetch, Ok(Response::Datums(vec![Some(d)])));
    outputs(&mut f, &[]);
    assert_eq!(f.pending_sync(), 1);
    f.on_response(fwd, Ok(Response::Ok));
    outputs(
        &mut f,
        &[
            "done op#1 ok",
            "persist datum iplist.s000 ts=1 {}",
            "persist term 1",
            "event datum-applied iplist.s000 ts=1 from=A term=1",
            "timer sync-pause 200",
        ],
    );
}

#[test]
fn get_datums_answers_null_for_missing_keys() {
    let mut b = following(3, 1);
    b.on_request(2, commit(&iplist(0), "{}", 1, 0, 1));
    skip(&mut b);
    b.on_request(3, Request::GetDatums(vec![iplist(0), iplist(9)]));
    outputs(&mut b, &["reply #3 200 [iplist.s000:1,null]"]);
}

#[test]
fn a_fetched_datum_java_cannot_type_is_skipped_and_the_rest_applied() {
    // RaftCore 855-876: the value is parsed by key (meta first, so the switch is read as a
    // Service); a parse failure is caught per datum, logged, and the loop goes on.
    let mut b = node(1, 3);
    let switch = key::SWITCH_KEY;
    b.on_request(
        1,
        beat(
            0,
            250,
            &[
                (&brief(0), 2),
                (&brief(1), 1),
                (key::brief(switch).unwrap(), 3),
            ],
        ),
    );
    let f1 = send_ids(&b.take_outputs())[0];
    let bad = Datum {
        key: iplist(0),
        value: Some(value(r#"{"instanceList":[{"weight":"heavy"}]}"#)),
        timestamp: 2,
    };
    let good = Datum {
        key: iplist(1),
        value: Some(value(r#"{"instanceList":[]}"#)),
        timestamp: 1,
    };
    // The switch value a Java node writes (all its fields) reads as a Service too.
    let sw = Datum {
        key: switch.into(),
        value: Some(value(
            r#"{"name":"00-00---000-NACOS_SWITCH_DOMAIN-000---00-00","masters":null,"adWeightMap":{},"defaultPushCacheMillis":10000,"clientBeatInterval":5000,"defaultCacheMillis":3000,"distroThreshold":0.7,"healthCheckEnabled":true,"autoChangeHealthCheckEnabled":true,"distroEnabled":true,"enableStandalone":true,"pushEnabled":true,"checkTimes":3,"httpHealthParams":{"max":5000,"min":500,"factor":0.85},"tcpHealthParams":{"max":5000,"min":1000,"factor":0.75},"mysqlHealthParams":{"max":3000,"min":2000,"factor":0.65},"incrementalList":[],"serverStatusSynchronizationPeriodMillis":2000,"serviceStatusSynchronizationPeriodMillis":5000,"disableAddIP":false,"sendBeatOnly":false,"lightBeatEnabled":true,"limitedUrlMap":{},"distroServerExpiredMillis":10000,"pushGoVersion":"0.1.0","pushJavaVersion":"0.1.0","pushPythonVersion":"0.4.3","pushCVersion":"1.0.12","enableAuthentication":false,"overriddenServerStatus":null,"defaultInstanceEphemeral":true,"healthCheckWhiteList":[],"checksum":null}"#,
        )),
        timestamp: 3,
    };
    b.on_response(
        f1,
        Ok(Response::Datums(vec![Some(bad), Some(good), Some(sw)])),
    );
    let text = rendered(&mut b);
    assert!(
        text.starts_with("event datum-skipped iplist.s000: failed to sync datum from leader: errCode: 101, errMsg: Nacos deserialize for class [com.alibaba.nacos.naming.core.Instances] failed. ;caused: invalid type: string"),
        "{text}"
    );
    assert!(
        text.contains("event datum-applied iplist.s001 ts=1"),
        "{text}"
    );
    assert!(text.contains("event datum-applied"), "{text}");
    assert!(b.datum(&iplist(0)).is_none());
    assert!(b.datum(switch).is_some(), "{text}");
}

/// Issue 13: a follower walks only the entries that changed since its last pass and the keys
/// that changed here. Random leader writes and deletes, commits and local changes on the
/// follower, fetch answers (some failing) and beats (some in another order, with an entry that
/// names no key, an unknown one, or a key twice), under both rule sets: every beat gives the
/// outputs and the map that a node walking the whole list gives.
#[test]
#[cfg(feature = "incremental-beats")]
fn a_pass_over_what_changed_is_the_pass_over_the_whole_list() {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n.max(1)
    };
    let mut walked_delta = 0;
    for round in 0..24 {
        let rules = if round % 2 == 0 {
            crate::Rules::Nacos141
        } else {
            crate::Rules::Hardened
        };
        let cfg = Config {
            rules,
            sync_batch: 1 + next(8) as usize,
            ..Config::default()
        };
        let mut f = Node::new(cfg, &addr(1), &members(3), 7).unwrap();
        f.on_request(1, beat(0, 1, &[]));
        skip(&mut f);
        let pool = 10 + next(120) as usize;
        let full_key = |i: usize| {
            if i.is_multiple_of(5) {
                format!("{}public##DEFAULT_GROUP@@m{i:03}", key::META_PREFIX)
            } else {
                iplist(i)
            }
        };
        let mut leader: alloc::collections::BTreeMap<String, u64> = Default::default();
        let mut inbound = 10;
        for step in 0..80 {
            for _ in 0..next(6) {
                let k = full_key(next(pool as u64) as usize);
                match next(8) {
                    0 => {
                        leader.remove(&k);
                    }
                    1 => {
                        let ts = leader.get(&k).copied().unwrap_or(0) + 1;
                        inbound += 1;
                        f.on_request(inbound, commit(&k, "{}", ts, 0, 1));
                    }
                    2 => {
                        f.delete_datum(&k);
                    }
                    3 => f.reload(Datum {
                        key: k,
                        value: Some(value("{}")),
                        timestamp: next(5),
                    }),
                    _ => *leader.entry(k).or_insert(0) += 1,
                }
            }
            // Answer (or fail) the fetches in flight.
            for o in f.take_outputs() {
                if let Output::Send {
                    id,
                    request: Request::GetDatums(keys),
                    ..
                } = o
                {
                    let answer = if next(4) == 0 {
                        Err(crate::Failure::Timeout)
                    } else {
                        let list = keys
                            .iter()
                            .map(|k| {
                                leader.get(k).map(|ts| Datum {
                                    key: k.clone(),
                                    value: Some(value(r#"{"instanceList":[]}"#)),
                                    timestamp: *ts,
                                })
                            })
                            .collect();
                        Ok(Response::Datums(list))
                    };
                    f.on_response(id, answer);
                }
            }
            f.on_timer(Timer::SyncPause);
            skip(&mut f);
            let mut list: Vec<BeatDatum> = leader
                .iter()
                .map(|(k, ts)| BeatDatum {
                    key: key::brief(k).unwrap().into(),
                    timestamp: *ts,
                })
                .collect();
            match next(12) {
                0 if list.len() > 2 => {
                    let last = list.len() - 1;
                    list.swap(0, last);
                }
                1 => list.insert(
                    next(list.len() as u64 + 1) as usize,
                    BeatDatum {
                        key: String::new(),
                        timestamp: 1,
                    },
                ),
                2 => list.insert(
                    next(list.len() as u64 + 1) as usize,
                    BeatDatum {
                        key: "other.key".into(),
                        timestamp: 1,
                    },
                ),
                3 if !list.is_empty() => {
                    let e = list[0].clone();
                    list.insert(1, e);
                }
                _ => {}
            }
            let packet = Arc::new(BeatPacket {
                peer: leader_peer(0, 1),
                datums: Arc::new(list),
            });
            let mut whole = f.clone();
            whole.sync_state = None;
            whole.sync_changes.clear();
            walked_delta += f.sync_state.is_some() as usize;
            inbound += 1;
            f.on_request(inbound, Request::Beat(packet.clone()));
            whole.on_request(inbound, Request::Beat(packet));
            let names = Names::new(&members(16));
            assert_eq!(
                render(&f.take_outputs(), &names),
                render(&whole.take_outputs(), &names),
                "round {round} step {step}"
            );
            let map = |n: &Node| -> Vec<(String, u64)> {
                n.datums
                    .iter()
                    .map(|(k, d)| (String::from(k.as_str()), d.timestamp))
                    .collect()
            };
            assert_eq!(map(&f), map(&whole), "round {round} step {step}");
            // What the pass decided beyond its outputs: the hardened position, the keys under
            // repair, the remembered clean list.
            let state =
                |n: &Node| format!("{:?} {:?} {:?}", n.position, n.repairing, n.synced_list);
            assert_eq!(state(&f), state(&whole), "round {round} step {step}");
        }
    }
    assert!(
        walked_delta > 1000,
        "only {walked_delta} passes over the changes"
    );
}
