//! §6.1 the leader's write: `signalPublish` under `OPERATE_LOCK`, commit before replication, the
//! +100 rule, the publish timeout that rolls nothing back, forwarding from non-leaders.

use super::*;
use crate::{Failure, RaftError, Timer, PUBLISH_FAILED};

#[test]
fn leader_put_persists_first_bumps_the_term_and_commits_with_the_old_term() {
    let mut a = elected(3);
    let op = a.put(iplist(0), value(r#"{"instanceList":[]}"#));
    assert_eq!(op, 1);
    // The datum file, the term, then the commits (source term 1, before the +100), then the
    // timer; no answer before a majority.
    let outs = outputs(
        &mut a,
        &[
            "persist datum iplist.s000 ts=1 {\"instanceList\":[]}",
            "persist term 101",
            "event publish-started iplist.s000 ts=1 term=101",
            "send B #3 commit iplist.s000 ts=1 {\"instanceList\":[]} src=A src.term=1",
            "send C #4 commit iplist.s000 ts=1 {\"instanceList\":[]} src=A src.term=1",
            "timer publish#1 5000",
        ],
    );
    let ids = send_ids(&outs);
    // One ack + self = a majority of 3.
    a.on_response(ids[0], Ok(Response::Ok));
    outputs(
        &mut a,
        &["event published iplist.s000 ts=1", "done op#1 ok"],
    );
    // A late ack and the timer of a finished publish change nothing.
    a.on_response(ids[1], Ok(Response::Ok));
    a.on_timer(Timer::PublishTimeout(1));
    outputs(&mut a, &[]);
    assert_eq!(a.local().term, 101);
}

#[test]
fn publish_timeout_fails_but_nothing_is_rolled_back() {
    let mut a = elected(3);
    a.put(iplist(0), value("{}"));
    let ids = send_ids(&a.take_outputs());
    a.on_response(ids[0], Err(Failure::Timeout));
    outputs(&mut a, &["event request-failed B commit: timed out"]);
    a.on_timer(Timer::PublishTimeout(1));
    outputs(&mut a, &[
        "event publish-failed iplist.s000: data publish failed, caused failed to notify majority",
        "done op#1 500 data publish failed, caused failed to notify majority, key=com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@s000",
    ]);
    assert_eq!(a.datum(&iplist(0)).unwrap().timestamp, 1);
    assert_eq!(a.local().term, 101);
    assert_eq!(
        RaftError::server(PUBLISH_FAILED).http_body(),
        "caused: data publish failed, caused failed to notify majority;"
    );
}

#[test]
fn writes_are_serialized_behind_the_lock() {
    let mut a = elected(3);
    a.put(iplist(0), value("{}"));
    let first = send_ids(&a.take_outputs());
    a.put(iplist(1), value("{}"));
    outputs(&mut a, &[]);
    assert_eq!(a.pending_writes(), 2);
    a.on_response(first[0], Ok(Response::Ok));
    // The first completes, then the second runs: its commits carry term 101.
    let outs = outputs(
        &mut a,
        &[
            "event published iplist.s000 ts=1",
            "done op#1 ok",
            "persist datum iplist.s001 ts=1 {}",
            "persist term 201",
            "event publish-started iplist.s001 ts=1 term=201",
            "send B #5 commit iplist.s001 ts=1 {} src=A src.term=101",
            "send C #6 commit iplist.s001 ts=1 {} src=A src.term=101",
            "timer publish#2 5000",
        ],
    );
    a.on_response(send_ids(&outs)[0], Ok(Response::Ok));
    outputs(
        &mut a,
        &["event published iplist.s001 ts=1", "done op#2 ok"],
    );
    assert_eq!(a.pending_writes(), 0);
}

#[test]
fn timestamps_count_up_per_key() {
    let mut a = elected(3);
    for _ in 0..2 {
        a.put(iplist(0), value("{}"));
        let ids = send_ids(&a.take_outputs());
        a.on_response(ids[0], Ok(Response::Ok));
        skip(&mut a);
    }
    a.put(iplist(0), value("{}"));
    outputs(
        &mut a,
        &[
            "persist datum iplist.s000 ts=3 {}",
            "persist term 301",
            "event publish-started iplist.s000 ts=3 term=301",
            "send B #7 commit iplist.s000 ts=3 {} src=A src.term=201",
            "send C #8 commit iplist.s000 ts=3 {} src=A src.term=201",
            "timer publish#3 5000",
        ],
    );
    assert_eq!(a.datum(&iplist(0)).unwrap().timestamp, 3);
    assert_eq!(a.local().term, 301);
}

#[test]
fn unknown_key_types_are_refused() {
    let mut a = elected(3);
    a.put("com.example.x", value("{}"));
    outputs(
        &mut a,
        &["done op#1 400 unknown type publish key: com.example.x"],
    );
}

#[test]
fn follower_put_is_forwarded_and_fails_clearly_without_a_leader() {
    let mut lonely = node(1, 3);
    lonely.put(iplist(0), value("{}"));
    outputs(&mut lonely, &["done op#1 500 no leader is available now"]);
    let mut f = following(3, 1);
    f.put(iplist(0), value("{}"));
    let outs = outputs(
        &mut f,
        &[
            "event forwarded iplist.s000 to=A",
            "send A #1 forward iplist.s000 {}",
        ],
    );
    let id = send_ids(&outs)[0];
    f.on_response(id, Err(Failure::Status(RaftError::server(PUBLISH_FAILED))));
    outputs(&mut f, &[
        "event request-failed A forward: 500: caused: data publish failed, caused failed to notify majority;",
        "done op#1 500 leader failed, caused by: caused: data publish failed, caused failed to notify majority;",
    ]);
}

#[test]
fn a_forwarded_write_is_answered_when_the_majority_acked() {
    let mut a = elected(3);
    a.on_request(
        77,
        Request::Forward {
            key: iplist(0),
            value: value("{}"),
            leader_term: None,
        },
    );
    let outs = outputs(
        &mut a,
        &[
            "persist datum iplist.s000 ts=1 {}",
            "persist term 101",
            "event publish-started iplist.s000 ts=1 term=101",
            "send B #3 commit iplist.s000 ts=1 {} src=A src.term=1",
            "send C #4 commit iplist.s000 ts=1 {} src=A src.term=1",
            "timer publish#1 5000",
        ],
    );
    a.on_response(send_ids(&outs)[0], Ok(Response::Ok));
    outputs(
        &mut a,
        &["event published iplist.s000 ts=1", "reply #77 200 ok"],
    );
}

#[test]
fn a_non_persistent_key_is_applied_but_not_written() {
    // Ephemeral instance lists never enter raft in Nacos; if one is published anyway, the
    // leader applies it in memory only (matchPersistentKey) and still bumps its term.
    let mut a = elected(3);
    a.put(
        "com.alibaba.nacos.naming.iplist.ephemeral.public##DEFAULT_GROUP@@e",
        value("{}"),
    );
    outputs(
        &mut a,
        &[
            "persist term 101",
            "event publish-started iplist.ephemeral.public##DEFAULT_GROUP@@e ts=1 term=101",
            "send B #3 commit iplist.ephemeral.public##DEFAULT_GROUP@@e ts=1 {} src=A src.term=1",
            "send C #4 commit iplist.ephemeral.public##DEFAULT_GROUP@@e ts=1 {} src=A src.term=1",
            "timer publish#1 5000",
        ],
    );
}

#[test]
fn values_java_cannot_type_are_refused_before_the_write() {
    // RaftController.publish types the value by key on every node: a Java follower would refuse
    // the commit of `{"instanceList":{}}` (an object where a list is due), never acknowledge it
    // and never converge, so the leader refuses it first; a follower does not forward it.
    let mut a = elected(3);
    a.put(iplist(0), value(r#"{"instanceList":{}}"#));
    let text = rendered(&mut a);
    assert!(
        text.starts_with("done op#1 500 errCode: 101, errMsg: Nacos deserialize for class [com.alibaba.nacos.naming.core.Instances] failed. ;caused: invalid type: map"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(a.datum(&iplist(0)).is_none());
    a.put(
        key::meta_key("public", "DEFAULT_GROUP@@s000"),
        value(r#"{"name":["x"]}"#),
    );
    let text = rendered(&mut a);
    assert!(
        text.contains("[com.alibaba.nacos.naming.core.Service] failed."),
        "{text}"
    );
    let mut f = following(3, 1);
    f.on_request(
        2,
        Request::Forward {
            key: iplist(0),
            value: value(r#"{"instanceList":[{"port":"x"}]}"#),
            leader_term: None,
        },
    );
    let text = rendered(&mut f);
    assert!(text.starts_with("reply #2 500 errCode: 101"), "{text}");
    // What Java reads is accepted as it is: unknown fields, nulls, the switch's own fields.
    a.put(iplist(1), value(r#"{"instanceList":null,"x":[1]}"#));
    assert!(a.datum(&iplist(1)).is_some());
}
