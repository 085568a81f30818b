//! §8 restart and §9 membership: what comes back from disk (not the term), `loadDatum`, and
//! `changePeers`; plus how completions are routed to their origin.

use super::*;
use crate::{Datum, Origin, RaftError};

#[test]
fn restore_brings_datums_back_but_not_the_term() {
    let d = Datum {
        key: iplist(0),
        value: Some(value("{}")),
        timestamp: 7,
    };
    let mut n = Node::restore(
        Config::default(),
        &addr(0),
        &members(3),
        5,
        vec![d.clone()],
        4_301,
    )
    .unwrap();
    outputs(&mut n, &[]);
    assert_eq!(n.datum(&iplist(0)), Some(&d));
    assert_eq!(n.local().term, 0);
    assert_eq!(n.persisted_term(), 4_301);
}

#[test]
fn members_change_only_when_a_new_address_appears() {
    let mut n = node(0, 3);
    n.timeout_now();
    skip(&mut n);
    assert!(
        !n.set_members(&members(2)),
        "no new address: nothing changes"
    );
    assert_eq!(n.members(), 3);
    assert!(n.set_members(&members(4)));
    assert_eq!(n.members(), 4);
    assert_eq!(n.local().term, 1, "existing records are kept");
    outputs(&mut n, &[]);
}

#[test]
fn origins_route_completions() {
    let mut a = node(0, 3);
    a.finish(Origin::Inbound(5), Ok(()));
    a.finish(Origin::Client(6), Err(RaftError::server("x")));
    outputs(&mut a, &["reply #5 200 ok", "done op#6 500 x"]);
}

#[test]
fn reload_replaces_the_datum_in_memory_only() {
    let mut f = following(3, 1);
    let d = Datum {
        key: key::SWITCH_KEY.into(),
        value: Some(value(r#"{"a":1}"#)),
        timestamp: 9,
    };
    f.reload(d.clone());
    outputs(&mut f, &[]);
    assert_eq!(f.datum(key::SWITCH_KEY), Some(&d));
    assert_eq!(f.local().term, 0);
}

#[test]
fn service_count_counts_meta_keys_but_not_the_switch() {
    let mut f = following(3, 1);
    f.on_request(
        2,
        commit(&key::meta_key("public", "DEFAULT_GROUP@@a"), "{}", 1, 0, 1),
    );
    f.on_request(
        3,
        commit(&key::meta_key("dev", "DEFAULT_GROUP@@b"), "{}", 1, 0, 1),
    );
    f.on_request(4, commit(&iplist(0), "{}", 1, 0, 1));
    f.on_request(5, commit(key::SWITCH_KEY, "{}", 1, 0, 1));
    skip(&mut f);
    assert_eq!((f.datum_count(), f.service_count()), (4, 2));
}
