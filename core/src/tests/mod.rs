//! Rule-by-rule tests of the state machine: given this state and this input, exactly these
//! outputs in this order, as openraft's engine tests assert
//! (`assert_eq!(vec![..], eng.output.take_commands())`). Outputs are compared as their one-line
//! renderings ([`crate::testing`]); a mismatch prints the whole actual list, ready to paste.
//!
//! One file per section of `docs/nacos-protocol.md`: timers (§4), election (§5.1, the
//! candidate), vote (§5.2, the voter), beat (§5.3), sync (§7), publish (§6.1, the leader),
//! commit (§6.1, the follower), delete (§6.2), restart (§8, §9). Setup steps that are not the
//! rule under test discard their outputs with [`skip`].

mod beat;
mod commit;
mod delete;
mod election;
mod hardened_data;
mod hardened_election;
mod publish;
mod restart;
mod sync;
mod timers;
mod vote;

use crate::testing::{render, Names};
use crate::{key, BeatDatum, BeatPacket, Config, JsonValue, Node, Output, PeerState, RaftPeer};
use crate::{Request, Response};
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

/// Address of test member `i` (`A` is 0).
pub(super) fn addr(i: usize) -> String {
    format!("127.0.0.{}:8848", i + 1)
}

pub(super) fn members(n: usize) -> Vec<String> {
    (0..n).map(addr).collect()
}

/// Member `i` of an `n`-member cluster, fresh.
pub(super) fn node(i: usize, n: usize) -> Node {
    Node::new(Config::default(), &addr(i), &members(n), 42 + i as u64).unwrap()
}

/// Asserts the whole output list. On a mismatch the panic shows the actual list as Rust source.
#[track_caller]
pub(super) fn expect(outs: &[Output], want: &[&str]) {
    let got = render(outs, &Names::new(&members(16)));
    if got != want {
        let mut paste = String::from("&[\n");
        for g in &got {
            paste.push_str(&format!("    {g:?},\n"));
        }
        paste.push(']');
        panic!("the outputs differ.\nwant: {want:#?}\ngot (paste-ready):\n{paste}");
    }
}

/// Takes the node's outputs, asserts the whole list, and returns them (for their ids).
#[track_caller]
pub(super) fn outputs(n: &mut Node, want: &[&str]) -> Vec<Output> {
    let outs = n.take_outputs();
    expect(&outs, want);
    outs
}

/// The node's outputs rendered one per line (for assertions on part of a long text).
pub(super) fn rendered(n: &mut Node) -> String {
    render(&n.take_outputs(), &Names::new(&members(16))).join("\n")
}

/// Discards the outputs of a setup step that is not the rule under test.
pub(super) fn skip(n: &mut Node) {
    let _ = n.take_outputs();
}

/// The request ids of the sends in `outs`, in order.
pub(super) fn send_ids(outs: &[Output]) -> Vec<u64> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Send { id, .. } => Some(*id),
            _ => None,
        })
        .collect()
}

/// The one reply in `outs`.
#[track_caller]
pub(super) fn the_reply(outs: &[Output]) -> Result<Response, crate::RaftError> {
    let r: Vec<_> = outs
        .iter()
        .filter_map(|o| match o {
            Output::Reply { result, .. } => Some(result.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(r.len(), 1, "{outs:?}");
    r.into_iter().next().unwrap()
}

pub(super) fn value(v: &str) -> JsonValue {
    JsonValue::parse(v).unwrap()
}

/// The instance-list key of service `s<i>` (`iplist.s001` in renderings).
pub(super) fn iplist(i: usize) -> String {
    key::iplist_key("public", &format!("DEFAULT_GROUP@@s{i:03}"))
}

/// The brief form of [`iplist`] `i`, as beats list it.
pub(super) fn brief(i: usize) -> String {
    key::brief(&iplist(i)).unwrap().into()
}

/// Member `i`'s record as a LEADER in `term` sends it in beats and commits.
pub(super) fn leader_peer(i: usize, term: u64) -> RaftPeer {
    RaftPeer {
        ip: addr(i),
        vote_for: Some(addr(i)),
        term,
        leader_due_ms: 17_000,
        heartbeat_due_ms: 5_000,
        state: PeerState::Leader,
        data_version: None,
        position: None,
    }
}

/// A voter's answer: member `i` in `term`, having voted for member `for_`.
pub(super) fn voter(i: usize, term: u64, for_: usize) -> Result<Response, crate::Failure> {
    let mut p = RaftPeer::new(addr(i));
    p.vote_for = Some(addr(for_));
    p.term = term;
    Ok(Response::Peer(p))
}

/// A beat from member `from` in `term` listing brief keys with timestamps.
pub(super) fn beat(from: usize, term: u64, datums: &[(&str, u64)]) -> Request {
    Request::Beat(Arc::new(BeatPacket {
        peer: leader_peer(from, term),
        datums: datums
            .iter()
            .map(|(k, t)| BeatDatum {
                key: (*k).into(),
                timestamp: *t,
            })
            .collect::<Vec<_>>()
            .into(),
    }))
}

/// A commit of `key` = `v` at timestamp `ts` from member `from` in `term`.
pub(super) fn commit(key: &str, v: &str, ts: u64, from: usize, term: u64) -> Request {
    Request::Commit {
        datum: crate::Datum {
            key: key.into(),
            value: Some(value(v)),
            timestamp: ts,
        },
        source: leader_peer(from, term),
    }
}

/// Member 0 of an `n`-member cluster, elected in term 1 by the votes of members 1..majority.
pub(super) fn elected(n: usize) -> Node {
    let mut a = node(0, n);
    a.timeout_now();
    let outs = a.take_outputs();
    for id in send_ids(&outs).into_iter().take(a.majority() - 1) {
        let i = a.inflight.get(&id).unwrap().0.clone();
        let i = members(n).iter().position(|m| *m == i).unwrap();
        a.on_response(id, voter(i, 1, 0));
    }
    skip(&mut a);
    assert!(a.is_leader());
    a
}

/// Member 1 of an `n`-member cluster, following member 0 (in `term`) after one empty beat.
pub(super) fn following(n: usize, term: u64) -> Node {
    let mut f = node(1, n);
    f.on_request(1, beat(0, term, &[]));
    skip(&mut f);
    assert_eq!(f.leader(), Some(addr(0).as_str()));
    f
}
