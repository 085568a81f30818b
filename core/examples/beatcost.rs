//! The core's own work for one beat at N keys (default 100,000) while keys change (issue 13):
//! a follower's pass over a beat that lists 200 keys more than the last one (keys it already
//! holds, as under a write load where commits come before the beat), and the leader's tick that
//! sends a beat after 200 new keys. Encoding and decoding (native) are not in it. Medians of 10
//! beats after 2 warm-up ones; it uses only the public API, so the same file times any build:
//!
//!     cargo run --release -p nacos-raft-core --example beatcost [-- KEYS]
use nacos_raft_core::*;
use std::sync::Arc;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().unwrap())
        .unwrap_or(100_000);
    let members: Vec<String> = (1..=3).map(|i| format!("127.0.0.{i}:8848")).collect();
    let key = |i: usize| key::iplist_key("public", &format!("DEFAULT_GROUP@@svc{i:07}"));
    let v = JsonValue::parse("{}").unwrap();
    // Follower: its pass over a beat that lists 200 new keys it already committed.
    let mut f = Node::new(Config::default(), &members[1], &members, 1).unwrap();
    let mut list: Vec<BeatDatum> = Vec::new();
    for i in 0..n {
        listed(&mut list, &mut f, key(i * 20), &v);
    }
    let mut peer = RaftPeer::new(members[0].clone());
    peer.state = PeerState::Leader;
    peer.term = 1;
    let mut times = Vec::new();
    let mut keep = Vec::new();
    for round in 0..12 {
        for j in 0..200 {
            listed(&mut list, &mut f, key((j * 487 % n) * 20 + 1 + round), &v);
        }
        list.sort_by(|a, b| a.key.cmp(&b.key));
        let datums = Arc::new(list.clone());
        // As in the native node, whose beat decoder frees a list: not the pass that replaces it.
        keep.push(datums.clone());
        let p = Arc::new(BeatPacket {
            peer: peer.clone(),
            datums,
        });
        let t = Instant::now();
        f.on_request(round as u64 + 1, Request::Beat(p));
        let outs = f.take_outputs();
        times.push(t.elapsed().as_secs_f64() * 1e3);
        drop(outs);
    }
    println!(
        "follower pass, {n} keys, 200 new per beat: median {:.2} ms of {:?}",
        median(times[2..].to_vec()),
        times
            .iter()
            .map(|t| (t * 100.0).round() / 100.0)
            .collect::<Vec<_>>()
    );
    drop(keep);
    // Leader: elected alone by one vote, then a beat after 200 writes.
    let mut a = Node::new(Config::default(), &members[0], &members, 1).unwrap();
    for i in 0..n {
        a.reload(Datum {
            key: key(i * 20),
            value: Some(v.clone()),
            timestamp: 1,
        });
    }
    a.timeout_now();
    let outs = a.take_outputs();
    for o in outs {
        if let Output::Send { id, to, .. } = o {
            let mut p = RaftPeer::new(to);
            p.vote_for = Some(members[0].clone());
            p.term = 1;
            a.on_response(id, Ok(Response::Peer(p)));
        }
    }
    assert!(a.is_leader());
    let _ = a.take_outputs();
    let mut times = Vec::new();
    for round in 0..12 {
        for j in 0..200 {
            a.reload(Datum {
                key: key((j * 487 % n) * 20 + 1 + round),
                value: Some(v.clone()),
                timestamp: 1,
            });
        }
        // Tick until the beat goes out; time only the tick that sends it.
        loop {
            let t = Instant::now();
            a.tick();
            let outs = a.take_outputs();
            let dt = t.elapsed().as_secs_f64() * 1e3;
            let beat = outs.iter().any(|o| {
                matches!(
                    o,
                    Output::Send {
                        request: Request::Beat(_),
                        ..
                    }
                )
            });
            drop(outs);
            if beat {
                times.push(dt);
                break;
            }
        }
    }
    println!(
        "leader beat tick, {n} keys, 200 new per beat: median {:.2} ms of {:?}",
        median(times[2..].to_vec()),
        times
            .iter()
            .map(|t| (t * 100.0).round() / 100.0)
            .collect::<Vec<_>>()
    );
}

/// `k` held by the follower and listed by the leader's beat, both at timestamp 1.
fn listed(list: &mut Vec<BeatDatum>, f: &mut Node, k: String, v: &JsonValue) {
    list.push(BeatDatum {
        key: key::brief(&k).unwrap().into(),
        timestamp: 1,
    });
    f.reload(Datum {
        key: k,
        value: Some(v.clone()),
        timestamp: 1,
    });
}
