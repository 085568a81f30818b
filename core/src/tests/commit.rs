//! §6.1 the follower's side of a write: `onPublish` for a received commit — empty value, source
//! not the believed leader, lower term — and the +100 rule.

use super::*;
use crate::Datum;

#[test]
fn commit_from_a_non_leader_source_is_refused_with_nacos_text() {
    let mut f = following(3, 1);
    f.on_request(2, commit(&iplist(0), "{}", 1, 2, 9));
    outputs(&mut f, &[
        "event commit-rejected iplist.s000 from=C: peer(C) tried to publish data but wasn't leader",
        "reply #2 500 peer(C) tried to publish data but wasn't leader",
    ]);
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
    outputs(
        &mut f,
        &[
            "event commit-rejected iplist.s000 from=C: received empty datum",
            "reply #2 500 received empty datum",
        ],
    );
    let mut cand = RaftPeer::new(addr(2));
    cand.term = 30;
    f.on_request(3, Request::Vote(cand));
    skip(&mut f);
    f.on_request(4, commit(&iplist(0), "{}", 1, 0, 20));
    outputs(&mut f, &[
        "event commit-rejected iplist.s000 from=A: out of date publish, pub-term:20, cur-term: 30",
        "reply #4 500 out of date publish, pub-term:20, cur-term: 30",
    ]);
}

#[test]
fn commit_overwrites_without_timestamp_check_and_applies_the_term_rule() {
    let mut f = following(3, 1);
    f.on_request(2, commit(&iplist(0), r#"{"v":1}"#, 9, 0, 1));
    // 1 + 100 > 1: follow the leader's term (1), already ours.
    outputs(
        &mut f,
        &[
            "persist datum iplist.s000 ts=9 {\"v\":1}",
            "persist term 1",
            "event commit-applied iplist.s000 ts=9 from=A term=1",
            "reply #2 200 ok",
        ],
    );
    f.on_request(3, commit(&iplist(0), r#"{"v":2}"#, 3, 0, 101));
    // An older timestamp overwrites; 1 + 100 > 101 is false: own term + 100 = 101.
    outputs(
        &mut f,
        &[
            "persist datum iplist.s000 ts=3 {\"v\":2}",
            "persist term 101",
            "event commit-applied iplist.s000 ts=3 from=A term=101",
            "reply #3 200 ok",
        ],
    );
    assert_eq!(f.datum(&iplist(0)).unwrap().timestamp, 3);
    f.on_request(4, commit(&iplist(1), r#"{"v":3}"#, 1, 0, 150));
    // 101 + 100 > 150: follow the leader's term exactly.
    outputs(
        &mut f,
        &[
            "persist datum iplist.s001 ts=1 {\"v\":3}",
            "persist term 150",
            "event commit-applied iplist.s001 ts=1 from=A term=150",
            "reply #4 200 ok",
        ],
    );
    assert_eq!(f.peer(&addr(0)).unwrap().term, 150);
}

#[test]
fn commit_for_an_untyped_key_is_a_500() {
    let mut f = following(3, 1);
    f.on_request(2, commit("com.example.x", "{}", 1, 0, 1));
    outputs(
        &mut f,
        &[
            "event commit-rejected com.example.x from=A: unknown type publish key: com.example.x",
            "reply #2 500 unknown type publish key: com.example.x",
        ],
    );
}

#[test]
fn a_commit_without_a_believed_leader_is_refused() {
    // Nacos' follow-the-term step would throw without a leader; the source check comes first.
    let mut f = node(1, 3);
    f.on_request(2, commit(&iplist(0), "{}", 1, 0, 1));
    outputs(&mut f, &[
        "event commit-rejected iplist.s000 from=A: peer(A) tried to publish data but wasn't leader",
        "reply #2 500 peer(A) tried to publish data but wasn't leader",
    ]);
}

#[test]
fn commit_of_a_value_java_cannot_type_is_a_500() {
    // RaftController.onPublish parses `Datum<Instances>` (its first anonymous TypeReference)
    // before onPut: the follower refuses, nothing is stored, the term stays.
    let mut f = following(3, 1);
    f.on_request(2, commit(&iplist(0), r#"{"instanceList":"x"}"#, 1, 0, 1));
    let text = rendered(&mut f);
    assert!(text.contains(
        "reply #2 500 errCode: 101, errMsg: Nacos deserialize for class [com.alibaba.nacos.naming.controllers.RaftController$1] failed. ;caused: invalid type: string"
    ), "{text}");
    assert!(
        text.starts_with("event commit-rejected iplist.s000 from=A: errCode: 101"),
        "{text}"
    );
    assert_eq!(f.datum_count(), 0);
    // An instance list Java reads is applied.
    f.on_request(
        3,
        commit(
            &iplist(0),
            r#"{"instanceList":[{"ip":"127.0.0.1","port":80}]}"#,
            1,
            0,
            1,
        ),
    );
    assert_eq!(f.datum_count(), 1);
}
