//! §4 timers: the leader due counts down by one tick, the heartbeat due likewise; only a
//! LEADER beats.

use super::*;

#[test]
fn fresh_node_starts_follower_with_random_dues_in_range() {
    let mut n = node(0, 3);
    let l = n.local();
    assert_eq!(
        (l.term, l.vote_for.as_deref(), l.state),
        (0, None, PeerState::Follower)
    );
    assert!((0..15_000).contains(&l.leader_due_ms));
    assert!((0..5_000).contains(&l.heartbeat_due_ms));
    assert_eq!((n.members(), n.majority()), (3, 2));
    outputs(&mut n, &[]);
}

#[test]
fn majority_is_half_plus_one() {
    for (n, m) in [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (9, 5), (15, 8)] {
        assert_eq!(node(0, n).majority(), m, "{n} members");
    }
}

#[test]
fn own_address_is_added_to_the_members() {
    let n = Node::new(Config::default(), "127.0.9.9:8848", &members(2), 1).unwrap();
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
        outputs(&mut n, &[]);
    }
    n.tick();
    outputs(
        &mut n,
        &[
            "event election-started term=1",
            "send B #1 vote A CANDIDATE term=1 vote=A",
            "send C #2 vote A CANDIDATE term=1 vote=A",
        ],
    );
    // resetLeaderDue: 15000 + [0, 5000)
    assert!((15_000..20_000).contains(&n.local().leader_due_ms));
    // The election reset the heartbeat due to 5000; the heartbeat task of the same tick ran next.
    assert_eq!(n.local().heartbeat_due_ms, 4_500);
}

#[test]
fn followers_do_not_beat_and_leaders_beat_every_heartbeat() {
    let mut f = following(3, 1);
    for _ in 0..20 {
        f.tick();
        outputs(&mut f, &[]);
    }
    let mut a = elected(3);
    let mut beats_at = Vec::new();
    for t in 1..=40 {
        a.tick();
        let outs = a.take_outputs();
        if outs.is_empty() {
            continue;
        }
        // The election used request ids 1 and 2; each beat takes two more.
        let k = 2 * beats_at.len() as u64;
        let want = [
            "event beat-sent term=1 keys=0".into(),
            format!("send B #{} beat A LEADER term=1 vote=A keys=[]", 3 + k),
            format!("send C #{} beat A LEADER term=1 vote=A keys=[]", 4 + k),
        ];
        expect(&outs, &want.each_ref().map(String::as_str));
        beats_at.push(t);
    }
    // The heartbeat due was reset to 5000 when the election started: a beat every 10 ticks.
    assert_eq!(beats_at, [10, 20, 30, 40]);
}
