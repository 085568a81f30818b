// Scenario tests over many seeds, shared by the host test binary and the two wasm test binaries
// (Node and headless Chrome). Each case is a plain function; `scenario_tests!` declares them with
// the right test attribute for the target.

use nacos_raft_core::sim::{sample_key, scenario, Action, Sim, SimConfig, TraceMode, ViolationKind};
use nacos_raft_core::{Event, PeerState};

/// Seeds per case and cluster size.
const SEEDS: u64 = 200;
const RTT_MS: u64 = 2 * 5 + 1;

macro_rules! report {
    ($($t:tt)*) => {{
        #[cfg(target_arch = "wasm32")]
        wasm_bindgen_test::console_log!($($t)*);
        #[cfg(not(target_arch = "wasm32"))]
        println!($($t)*);
    }};
}

fn sim(nodes: usize, seed: u64) -> Sim {
    Sim::new(SimConfig { nodes, seed, trace: TraceMode::Light, ..SimConfig::default() }).unwrap()
}

/// Runs until one leader is followed by every running node; returns it.
fn settle(s: &mut Sim, within_ms: u64) -> usize {
    let ok = s.run_for(within_ms, |s| s.settled_leader().is_some());
    assert!(ok, "seed {}: no settled leader by {} ms", s.config().seed, s.now());
    s.cluster_leader().unwrap()
}

fn ops_done(s: &Sim) -> bool {
    s.ops().iter().all(|o| o.done.is_some())
}

fn leaders(s: &Sim) -> Vec<usize> {
    (0..s.len()).filter(|i| s.state(*i) == Some(PeerState::Leader)).collect()
}

fn has(s: &Sim, kind: ViolationKind) -> bool {
    s.violations().iter().any(|v| v.kind == kind)
}

/// A leader is elected within 15 s plus one round trip unless the first round splits the vote,
/// and within three rounds (56 s) in every seed.
fn first_election(nodes: usize) {
    let mut splits = 0;
    let mut slowest = 0;
    for seed in 1..=SEEDS {
        let mut s = sim(nodes, seed);
        let elected = s.run_for(56_000, |s| s.cluster_leader().is_some());
        assert!(elected, "seed {seed}: no leader within 56 s");
        let t = s.first_leader_ms().unwrap();
        let first_round = s
            .events()
            .iter()
            .find(|e| matches!(e.what, nacos_raft_core::sim::Happening::Protocol(Event::ElectionStarted { .. })))
            .map(|e| e.at_ms)
            .unwrap();
        assert!(first_round < 15_000, "seed {seed}: first candidate at {first_round} ms");
        if t <= first_round + RTT_MS {
            assert!(t <= 15_000 + RTT_MS, "seed {seed}: leader at {t} ms");
        } else {
            splits += 1;
        }
        slowest = slowest.max(t);
    }
    report!(
        "first election, {nodes} nodes: {splits}/{SEEDS} seeds split the first round ({:.1}%), slowest leader at {slowest} ms",
        splits as f64 * 100.0 / SEEDS as f64
    );
    assert!(splits < SEEDS / 4, "{splits} splits");
}

/// After the leader crashes a new one is elected within 2 × 20 s + one heartbeat.
fn leader_crash(nodes: usize) {
    let mut slowest = 0;
    for seed in 1..=SEEDS {
        let mut s = sim(nodes, seed);
        let old = settle(&mut s, 60_000);
        s.run_until(s.now() + 1_000);
        s.apply(Action::Crash { node: old }).unwrap();
        let crashed = s.now();
        let ok = s.run_for(45_000, |s| leaders(s).iter().any(|l| *l != old));
        assert!(ok, "seed {seed}: no new leader within 45 s of the crash at {crashed} ms");
        slowest = slowest.max(s.now() - crashed);
    }
    report!("leader crash, {nodes} nodes: slowest re-election {slowest} ms after the crash");
}

/// K datums published at the leader reach every follower within two heartbeats.
fn datums_reach_followers(nodes: usize) {
    for seed in 1..=SEEDS {
        let mut s = sim(nodes, seed);
        let l = settle(&mut s, 60_000);
        let t0 = s.now();
        s.apply(Action::Load { node: l, first: 0, count: 20 }).unwrap();
        let ok = s.run_for(2 * 5_000, |s| ops_done(s) && (0..s.len()).all(|i| s.node(i).unwrap().datum_count() == 20));
        assert!(ok, "seed {seed}: followers lack datums two heartbeats after publishing at {t0} ms");
        assert!(s.ops().iter().all(|o| matches!(o.done, Some((_, Ok(()))))), "seed {seed}: a write failed");
    }
}

/// A follower that was down catches up by beat sync.
fn follower_catch_up(nodes: usize) {
    let mut slowest = 0;
    for seed in 1..=SEEDS {
        let mut s = sim(nodes, seed);
        let l = settle(&mut s, 60_000);
        let f = (0..nodes).find(|i| *i != l).unwrap();
        s.apply(Action::Crash { node: f }).unwrap();
        s.apply(Action::Load { node: l, first: 0, count: 120 }).unwrap();
        assert!(s.run_for(30_000, ops_done), "seed {seed}: writes did not finish");
        if nodes == 3 {
            // With one of three down every write still has its majority.
            assert!(s.ops().iter().all(|o| matches!(o.done, Some((_, Ok(()))))));
        }
        s.run_until(s.now() + 1_000);
        s.apply(Action::Restart { node: f }).unwrap();
        let t0 = s.now();
        assert_eq!(s.node(f).unwrap().datum_count(), 0, "its disk was empty");
        let ok = s.run_for(2 * 5_000 + 3 * 200 + 1_000, |s| s.nodes_behind(l).is_empty());
        assert!(ok, "seed {seed}: follower not caught up {} ms after restart", s.now() - t0);
        slowest = slowest.max(s.now() - t0);
        let fetches = s
            .events()
            .iter()
            .filter(|e| e.node == f && matches!(e.what, nacos_raft_core::sim::Happening::Protocol(Event::SyncFetch { .. })))
            .count();
        assert!(fetches >= 3, "seed {seed}: {fetches} fetches for 120 keys");
    }
    report!("catch-up of 120 datums, {nodes} nodes: slowest {slowest} ms after restart");
}

/// A write on a follower is forwarded to the leader.
fn forwarded_write(nodes: usize) {
    for seed in 1..=SEEDS {
        let mut s = sim(nodes, seed);
        let l = settle(&mut s, 60_000);
        let f = (0..nodes).find(|i| *i != l).unwrap();
        s.apply(Action::Put { node: f, key: sample_key(7), value: "{\"instanceList\":[]}".into() }).unwrap();
        assert!(s.run_for(10_000, ops_done));
        assert_eq!(s.ops()[0].done.as_ref().unwrap().1, Ok(()), "seed {seed}");
        assert!(
            s.events().iter().any(|e| e.node == f && matches!(&e.what, nacos_raft_core::sim::Happening::Protocol(Event::Forwarded { .. }))),
            "seed {seed}: not forwarded"
        );
        let ok = s.run_for(10_000, |s| (0..nodes).all(|i| s.node(i).unwrap().datum(&sample_key(7)).is_some()));
        assert!(ok, "seed {seed}");
    }
}

/// Splits the old leader (with one follower in 5-node clusters) from the rest and waits for a
/// second leader; returns (old, new).
fn partition_two_leaders(s: &mut Sim) -> (usize, usize) {
    let n = s.len();
    let old = settle(s, 60_000);
    let buddy = (0..n).find(|i| *i != old).unwrap();
    let groups: Vec<u8> = (0..n).map(|i| u8::from(i == old || (n >= 5 && i == buddy))).collect();
    s.apply(Action::Partition { groups }).unwrap();
    let ok = s.run_for(45_000, |s| leaders(s).len() == 2);
    assert!(ok, "seed {}: the majority elected nobody", s.config().seed);
    let new = leaders(s).into_iter().find(|l| *l != old).unwrap();
    assert!(has(s, ViolationKind::TwoLeaders), "two LEADER states at once are recorded");
    // Let the new leader's first beat land in its group.
    s.run_until(s.now() + 6_000);
    (old, new)
}

/// A partitioned minority leader and the new majority leader coexist; after healing, the old
/// leader (lower term) steps down on the new leader's first beat.
fn partition_old_leader_steps_down(nodes: usize) {
    for seed in 1..=SEEDS {
        let mut s = sim(nodes, seed);
        let (old, new) = partition_two_leaders(&mut s);
        s.apply(Action::Put { node: new, key: sample_key(1), value: "{\"v\":1}".into() }).unwrap();
        assert!(s.run_for(10_000, ops_done));
        assert_eq!(s.ops()[0].done.as_ref().unwrap().1, Ok(()), "seed {seed}");
        let (t_old, t_new) = (s.node(old).unwrap().local().term, s.node(new).unwrap().local().term);
        assert!(t_old < t_new, "seed {seed}: terms {t_old} vs {t_new}");
        s.apply(Action::HealAll).unwrap();
        let ok = s.run_for(5_000 + RTT_MS, |s| s.state(old) == Some(PeerState::Follower));
        assert!(ok, "seed {seed}: the old leader did not step down on the first beat");
        assert!(s.run_for(10_000, |s| s.node(old).unwrap().datum(&sample_key(1)).is_some()));
        assert_eq!(s.cluster_leader(), Some(new));
        assert!(!has(&s, ViolationKind::LostAckedWrite), "seed {seed}");
        assert!(!has(&s, ViolationKind::TwoLeadersSameTerm), "seed {seed}");
    }
}

/// An old leader whose failed writes (+100 each, never rolled back) raised its term above the
/// new leader's takes the cluster back after healing, and the new leader's acknowledged write is
/// deleted by the dead-key rule; the observer records the loss.
fn partition_old_leader_takes_back(nodes: usize) {
    for seed in 1..=SEEDS {
        let mut s = sim(nodes, seed);
        let (old, new) = partition_two_leaders(&mut s);
        let acked = sample_key(1);
        s.apply(Action::Put { node: new, key: acked.clone(), value: "{\"v\":1}".into() }).unwrap();
        s.apply(Action::Put { node: old, key: sample_key(2), value: "{\"v\":2}".into() }).unwrap();
        s.apply(Action::Put { node: old, key: sample_key(3), value: "{\"v\":3}".into() }).unwrap();
        assert!(s.run_for(20_000, ops_done));
        let results: Vec<bool> = s.ops().iter().map(|o| o.done.as_ref().unwrap().1.is_ok()).collect();
        assert_eq!(results, [true, false, false], "seed {seed}: the minority cannot commit");
        assert!(s.node(old).unwrap().datum(&sample_key(2)).is_some(), "failed writes are not rolled back");
        let (t_old, t_new) = (s.node(old).unwrap().local().term, s.node(new).unwrap().local().term);
        assert!(t_old > t_new, "seed {seed}: terms {t_old} vs {t_new}");
        s.apply(Action::HealAll).unwrap();
        let ok = s.run_for(2 * 5_000 + RTT_MS, |s| {
            s.state(new) == Some(PeerState::Follower) && (0..nodes).all(|i| s.node(i).unwrap().datum(&acked).is_none())
        });
        assert!(ok, "seed {seed}: the old leader did not take the cluster back");
        assert_eq!(s.cluster_leader(), Some(old), "seed {seed}");
        assert!(has(&s, ViolationKind::LostAckedWrite), "seed {seed}: the loss is not recorded");
    }
}

/// Every preset of the page tells its story.
fn check_presets() {
    for p in scenario::presets() {
        let mut cfg = p.config.clone();
        cfg.trace = TraceMode::Light;
        let s = Sim::replay(cfg, &p.actions, p.end_ms).unwrap();
        let lost = has(&s, ViolationKind::LostAckedWrite);
        let two = has(&s, ViolationKind::TwoLeaders);
        match p.id {
            "first-election" | "split-vote" | "leader-crash" => assert!(s.cluster_leader().is_some() && !lost, "{}", p.id),
            "catch-up" => assert!(s.converged() && s.summary().datums_min_follower == 200, "{}", p.id),
            "two-leaders" => assert!(two && !lost && s.converged(), "{}", p.id),
            "dead-key-loss" | "stale-node-wins" => assert!(lost && s.converged(), "{}", p.id),
            other => panic!("untested preset {other}"),
        }
        if p.id == "split-vote" {
            let elections = s.events().iter().filter(|e| matches!(e.what, nacos_raft_core::sim::Happening::Protocol(Event::ElectionStarted { .. }))).count();
            assert!(elections >= 3, "split vote: {elections} candidacies");
        }
    }
}

/// Same seed and same actions, same trace; another seed, another trace.
fn check_determinism() {
    for seed in 1..=20 {
        let run = |seed| {
            let mut s = sim(5, seed);
            s.apply(Action::SetLoss { ppm: 50_000 }).unwrap();
            s.run_until(30_000);
            s.apply(Action::Load { node: 0, first: 0, count: 10 }).unwrap();
            s.run_until(90_000);
            s.trace_hash()
        };
        assert_eq!(run(seed), run(seed));
        assert_ne!(run(seed), run(seed + 1000));
    }
}

/// The benchmark workload (5 nodes, 1,000 datums, one hour) has the same trace on every platform:
/// native, wasm in Node, wasm in Chrome. A deliberate change of behaviour changes this hash;
/// update it then (`cargo run --release -p nacos-raft-core --example simbench 1` prints it).
fn check_golden_hash() {
    let sim = nacos_raft_core::sim::bench::workload(1);
    assert_eq!(format!("{:016x}", sim.trace_hash()), "efa5dacc10016a36");
}

macro_rules! scenario_tests {
    ($($name:ident => $body:expr;)*) => {$(
        #[cfg_attr(not(target_arch = "wasm32"), test)]
        #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
        fn $name() {
            $body
        }
    )*};
}

scenario_tests! {
    first_election_3 => first_election(3);
    first_election_5 => first_election(5);
    leader_crash_3 => leader_crash(3);
    leader_crash_5 => leader_crash(5);
    datums_reach_followers_3 => datums_reach_followers(3);
    datums_reach_followers_5 => datums_reach_followers(5);
    follower_catch_up_3 => follower_catch_up(3);
    follower_catch_up_5 => follower_catch_up(5);
    forwarded_write_3 => forwarded_write(3);
    forwarded_write_5 => forwarded_write(5);
    partition_old_leader_steps_down_3 => partition_old_leader_steps_down(3);
    partition_old_leader_steps_down_5 => partition_old_leader_steps_down(5);
    partition_old_leader_takes_back_3 => partition_old_leader_takes_back(3);
    partition_old_leader_takes_back_5 => partition_old_leader_takes_back(5);
    presets_tell_their_story => check_presets();
    determinism_same_seed_same_trace => check_determinism();
    same_trace_on_every_platform => check_golden_hash();
}
