//! §6.2 deletes: `signalDelete` (forwarded by non-leaders, fire-and-forget commits from the
//! leader), the local-only iplist delete of followers, and `onDelete`'s term rule.

use super::*;

#[test]
fn leader_remove_deletes_and_fires_commits_without_waiting() {
    let mut a = elected(3);
    let k = key::meta_key("public", "DEFAULT_GROUP@@s");
    a.put(k.clone(), value("{}"));
    let ids = send_ids(&a.take_outputs());
    a.on_response(ids[0], Ok(Response::Ok));
    skip(&mut a);
    a.remove(k);
    let outs = outputs(
        &mut a,
        &[
            "persist remove meta.s",
            "persist term 101",
            "event deleted meta.s by=A",
            "send B #5 delete-commit meta.s src=A src.term=101",
            "send C #6 delete-commit meta.s src=A src.term=101",
            "done op#2 ok",
        ],
    );
    assert_eq!(a.datum_count(), 0);
    // An acked delete commit resets the leader's own election timer; a failed one is logged.
    let ids = send_ids(&outs);
    a.on_response(ids[0], Ok(Response::Ok));
    a.on_response(ids[1], Err(crate::Failure::Refused));
    outputs(
        &mut a,
        &["event request-failed C delete commit: connection refused"],
    );
}

#[test]
fn iplist_remove_on_a_follower_is_local_only() {
    let mut f = following(3, 1);
    f.on_request(2, commit(&iplist(0), "{}", 1, 0, 1));
    skip(&mut f);
    f.remove(iplist(0));
    outputs(
        &mut f,
        &[
            "persist remove iplist.s000",
            "event deleted iplist.s000 by=A",
            "done op#1 ok",
        ],
    );
    assert_eq!(f.datum_count(), 0);
    let mut lonely = node(1, 3);
    lonely.remove(iplist(0));
    outputs(&mut lonely, &["done op#1 500 no leader is available now"]);
}

#[test]
fn meta_remove_on_a_follower_is_forwarded_and_holds_the_lock() {
    let mut f = following(3, 1);
    f.remove(key::meta_key("public", "DEFAULT_GROUP@@s"));
    let outs = outputs(
        &mut f,
        &[
            "event forwarded meta.s to=A",
            "send A #1 forward-delete meta.s",
        ],
    );
    f.remove(key::meta_key("public", "DEFAULT_GROUP@@t"));
    // The second delete waits for the first.
    outputs(&mut f, &[]);
    f.on_response(send_ids(&outs)[0], Ok(Response::Ok));
    let outs = outputs(
        &mut f,
        &[
            "done op#1 ok",
            "event forwarded meta.t to=A",
            "send A #2 forward-delete meta.t",
        ],
    );
    f.on_response(
        send_ids(&outs)[0],
        Err(crate::Failure::Malformed("no body".into())),
    );
    outputs(
        &mut f,
        &[
            "event request-failed A forward delete: malformed answer: no body",
            "done op#2 500 leader failed, caused by: malformed answer: no body",
        ],
    );
}

#[test]
fn delete_commit_checks_the_source_and_moves_the_term_only_for_meta_keys() {
    let mut f = following(3, 1);
    let m = key::meta_key("public", "DEFAULT_GROUP@@s");
    f.on_request(2, commit(&m, "{}", 1, 0, 1));
    f.on_request(3, commit(&iplist(0), "{}", 1, 0, 1));
    skip(&mut f);
    f.on_request(
        4,
        Request::DeleteCommit {
            key: iplist(0),
            source: leader_peer(2, 5),
        },
    );
    outputs(&mut f, &[
        "event commit-rejected iplist.s000 from=C: peer(C) tried to publish data but wasn't leader",
        "reply #4 500 peer(C) tried to publish data but wasn't leader",
    ]);
    f.on_request(
        5,
        Request::DeleteCommit {
            key: iplist(0),
            source: leader_peer(0, 50),
        },
    );
    // Instance-list deletes leave the term alone.
    outputs(
        &mut f,
        &[
            "persist remove iplist.s000",
            "event deleted iplist.s000 by=A",
            "reply #5 200 ok",
        ],
    );
    f.on_request(
        6,
        Request::DeleteCommit {
            key: m,
            source: leader_peer(0, 50),
        },
    );
    outputs(
        &mut f,
        &[
            "persist remove meta.s",
            "persist term 50",
            "event deleted meta.s by=A",
            "reply #6 200 ok",
        ],
    );
    assert_eq!(f.datum_count(), 0);
}
