//! Preset scenarios: short, reproducible runs that show the interesting behaviours of the
//! Nacos protocol, each with a caption. A preset is a seed, a configuration and timed actions;
//! it is computed by driving a simulation (so that "crash the leader" names whoever leads), and
//! replays exactly with [`Sim::replay`].

use super::{Action, Sim, SimConfig, TimedAction, TraceMode};
use crate::{Config, PeerState};
use alloc::vec::Vec;

/// A ready-made run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preset {
    /// Stable id (used in URLs and for translations).
    pub id: &'static str,
    /// Short English title.
    pub title: &'static str,
    /// One or two English sentences on what to watch.
    pub caption: &'static str,
    /// The cluster.
    pub config: SimConfig,
    /// What happens, when.
    pub actions: Vec<TimedAction>,
    /// Virtual time by which the story has been told.
    pub end_ms: u64,
}

/// Every preset id, in the order a page lists them.
pub const IDS: [&str; 7] = [
    "first-election",
    "split-vote",
    "leader-crash",
    "catch-up",
    "two-leaders",
    "dead-key-loss",
    "stale-node-wins",
];

/// Every preset.
pub fn presets() -> Vec<Preset> {
    IDS.iter().filter_map(|id| preset(id)).collect()
}

/// One preset by id.
pub fn preset(id: &str) -> Option<Preset> {
    Some(match id {
        "first-election" => first_election(),
        "split-vote" => split_vote(),
        "leader-crash" => leader_crash(),
        "catch-up" => catch_up(),
        "two-leaders" => two_leaders(),
        "dead-key-loss" => dead_key_loss(),
        "stale-node-wins" => stale_node_wins(),
        _ => return None,
    })
}

fn config(nodes: usize, seed: u64) -> SimConfig {
    SimConfig {
        nodes,
        seed,
        timings: Config::default(),
        latency_ms: (10, 40),
        trace: TraceMode::Off,
        ..SimConfig::default()
    }
}

fn sim(nodes: usize, seed: u64) -> Sim {
    Sim::new(config(nodes, seed)).expect("preset configurations are valid")
}

/// Runs until a leader exists and every running node follows it (its first beat landed).
fn settle(s: &mut Sim, within_ms: u64) -> Option<usize> {
    s.run_for(within_ms, |s| s.settled_leader().is_some());
    s.cluster_leader()
}

fn act(s: &mut Sim, a: Action) {
    s.apply(a).expect("preset actions are valid");
}

fn ops_done(s: &Sim) -> bool {
    s.ops().iter().all(|o| o.done.is_some())
}

fn finish(
    id: &'static str,
    title: &'static str,
    caption: &'static str,
    s: Sim,
    end_ms: u64,
) -> Preset {
    Preset {
        id,
        title,
        caption,
        config: s.config().clone(),
        actions: s.actions().to_vec(),
        end_ms,
    }
}

fn first_election() -> Preset {
    let mut s = sim(5, 11);
    let t = settle(&mut s, 60_000).map(|_| s.now()).unwrap_or(60_000);
    finish(
        "first-election",
        "First election",
        "Every node starts with a random leader due in [0, 15 s). The first to run out becomes CANDIDATE with term 1 and asks the others; they grant because 1 is above their 0. About 5 s after winning, its first beat tells the others who leads.",
        s,
        t + 2_000,
    )
}

fn split_vote() -> Preset {
    // Two nodes of four time out at once: when the two others split their votes, nobody has 3
    // and both candidates wait 15–20 s for the next round, which the jitter usually resolves.
    let mut seed = 1;
    let mut s = loop {
        let mut s = sim(4, seed);
        s.run_until(300);
        act(&mut s, Action::Timeout { node: 0 });
        act(&mut s, Action::Timeout { node: 1 });
        let split = !s.run_for(3_000, |s| s.cluster_leader().is_some());
        if split || seed > 500 {
            break s;
        }
        seed += 1;
    };
    let t = settle(&mut s, 120_000).map(|_| s.now()).unwrap_or(120_000);
    finish(
        "split-vote",
        "Split vote",
        "Two of four nodes time out at the same moment, both in term 1. Each of the other two grants the request that reaches it first, so each candidate has 2 of the 3 votes it needs. Nacos has no retry: both wait 15–20 s, and the random jitter decides the next round.",
        s,
        t + 2_000,
    )
}

fn leader_crash() -> Preset {
    let mut s = sim(5, 12);
    let l = settle(&mut s, 60_000).expect("a leader");
    s.run_until(s.now() + 6_000);
    act(&mut s, Action::Crash { node: l });
    let t = settle(&mut s, 90_000).map(|_| s.now()).unwrap_or(s.now());
    finish(
        "leader-crash",
        "Leader crash",
        "The leader crashes. Followers stop getting beats, so their leader dues run out within 20 s; the first to time out wins with a higher term. The others keep believing in the dead leader until the new leader's first beat arrives.",
        s,
        t + 2_000,
    )
}

fn catch_up() -> Preset {
    let mut s = sim(5, 13);
    let l = settle(&mut s, 60_000).expect("a leader");
    let f = (0..5).find(|i| *i != l).expect("a follower");
    act(&mut s, Action::Crash { node: f });
    act(
        &mut s,
        Action::Load {
            node: l,
            first: 0,
            count: 200,
        },
    );
    s.run_for(120_000, ops_done);
    s.run_until(s.now() + 1_000);
    act(&mut s, Action::Restart { node: f });
    s.run_for(60_000, |s| {
        s.node(f).is_some_and(|n| n.datum_count() >= 200)
    });
    let t = s.now();
    finish(
        "catch-up",
        "Follower catch-up of 200 datums",
        "A follower is down while the leader writes 200 keys. When it restarts (term 0, data from its disk), the next beat lists all 200 keys with their timestamps: it fetches the missing ones from the leader 50 at a time and applies each answer with a 200 ms pause, as Nacos does.",
        s,
        t + 3_000,
    )
}

/// The leader and one follower in one group, the other three in another.
fn split_off(s: &Sim, leader: usize) -> Vec<u8> {
    let buddy = (0..s.len()).find(|i| *i != leader).expect("a follower");
    (0..s.len())
        .map(|i| u8::from(i == leader || i == buddy))
        .collect()
}

fn new_leader(s: &Sim, old: usize) -> Option<usize> {
    (0..s.len()).find(|i| *i != old && s.state(*i) == Some(PeerState::Leader))
}

/// Settles, cuts the leader and one follower off, waits for the majority's leader and its first
/// beat; returns (old leader, new leader).
fn partition_two_leaders(s: &mut Sim) -> (usize, usize) {
    let old = settle(s, 60_000).expect("a leader");
    s.run_until(s.now() + 2_000);
    let groups = split_off(s, old);
    act(s, Action::Partition { groups });
    s.run_for(60_000, |s| new_leader(s, old).is_some());
    let new = new_leader(s, old).expect("the majority elects");
    s.run_until(s.now() + 6_000);
    (old, new)
}

fn two_leaders() -> Preset {
    let mut s = sim(5, 14);
    let (old, new) = partition_two_leaders(&mut s);
    act(
        &mut s,
        Action::Put {
            node: new,
            key: super::sample_key(1),
            value: super::sample_value(1, 1),
        },
    );
    s.run_for(10_000, ops_done);
    s.run_until(s.now() + 4_000);
    act(&mut s, Action::HealAll);
    s.run_for(30_000, |s| s.state(old) == Some(PeerState::Follower));
    let t = s.now();
    finish(
        "two-leaders",
        "Partition: two leaders (Nacos #3652)",
        "The leader and one follower are cut off from the other three. The old leader keeps beating its minority, the majority elects a new leader: two LEADERs at once. After healing, the old leader's term is lower, so the new leader's first beat makes it step down.",
        s,
        t + 6_000,
    )
}

fn dead_key_loss() -> Preset {
    let mut s = sim(5, 15);
    let (old, new) = partition_two_leaders(&mut s);
    act(
        &mut s,
        Action::Put {
            node: new,
            key: super::sample_key(1),
            value: super::sample_value(1, 1),
        },
    );
    act(
        &mut s,
        Action::Put {
            node: old,
            key: super::sample_key(2),
            value: super::sample_value(2, 1),
        },
    );
    act(
        &mut s,
        Action::Put {
            node: old,
            key: super::sample_key(3),
            value: super::sample_value(3, 1),
        },
    );
    s.run_for(20_000, ops_done);
    s.run_until(s.now() + 1_000);
    act(&mut s, Action::HealAll);
    s.run_for(30_000, |s| {
        s.state(new) == Some(PeerState::Follower)
            && s.node(new).is_some_and(|n| n.datum_count() == 2)
    });
    let t = s.now();
    finish(
        "dead-key-loss",
        "Data loss by the dead-key rule",
        "During the partition the new leader acknowledges a write (term +100), while the old leader's two writes fail for lack of a majority — but are never rolled back, and each still adds 100 to its term. After healing, the old leader's term is higher: its beat wins, and since it does not list the new leader's key, every node deletes that acknowledged write.",
        s,
        t + 6_000,
    )
}

fn stale_node_wins() -> Preset {
    let mut s = sim(3, 16);
    let l = settle(&mut s, 60_000).expect("a leader");
    let x = (0..3).find(|i| *i != l).expect("a follower");
    act(&mut s, Action::Isolate { node: x });
    act(
        &mut s,
        Action::Load {
            node: l,
            first: 0,
            count: 2,
        },
    );
    s.run_for(20_000, ops_done);
    // Alone, x starts an election every 15-20 s: +1 each time, until its term passes the
    // leader's (which rose by 100 per write).
    s.run_for(4 * 3_600_000, |s| {
        let top = (0..3)
            .filter(|i| *i != x)
            .filter_map(|i| s.node(i).map(|n| n.local().term))
            .max()
            .unwrap_or(0);
        s.node(x).is_some_and(|n| n.local().term > top)
    });
    s.run_until(s.now() + 1_000);
    act(&mut s, Action::HealAll);
    s.run_for(60_000, |s| {
        s.state(x) == Some(PeerState::Leader)
            && (0..3).all(|i| s.node(i).is_some_and(|n| n.datum_count() == 0))
    });
    let t = s.now();
    finish(
        "stale-node-wins",
        "Isolated node wins with stale data (Nacos #785)",
        "A follower is isolated before two writes. Alone, it starts an election every 15–20 s and its term creeps up by 1 each time, until it passes the cluster's term. Back in the network, its vote request has the highest term, so it wins — votes ignore data — and its first beat deletes the keys it never had on every node.",
        s,
        t + 6_000,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_builds_and_replays_to_the_same_trace() {
        for id in IDS {
            let p = preset(id).unwrap();
            assert_eq!(p.id, id);
            let mut cfg = p.config.clone();
            cfg.trace = TraceMode::Light;
            let a = Sim::replay(cfg.clone(), &p.actions, p.end_ms).unwrap();
            let b = Sim::replay(cfg, &p.actions, p.end_ms).unwrap();
            assert_eq!(a.trace_hash(), b.trace_hash(), "{id}");
        }
        assert!(preset("nope").is_none());
    }
}
