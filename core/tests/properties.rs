//! Property tests over random fault schedules (host only: proptest does not target wasm).
#![cfg(not(target_arch = "wasm32"))]

use nacos_raft_core::sim::{sample_key, Action, Happening, Sim, SimConfig, TimedAction, TraceMode};
use nacos_raft_core::{Config, Event};
use proptest::prelude::*;

const HORIZON_MS: u64 = 120_000;

fn action(nodes: usize) -> impl Strategy<Value = Action> {
    let n = 0..nodes;
    prop_oneof![
        n.clone().prop_map(|node| Action::Crash { node }),
        n.clone().prop_map(|node| Action::Restart { node }),
        n.clone().prop_map(|node| Action::Timeout { node }),
        n.clone().prop_map(|node| Action::Isolate { node }),
        (n.clone(), n.clone(), any::<bool>()).prop_map(|(from, to, both)| Action::Cut {
            from,
            to,
            both
        }),
        (n.clone(), n.clone(), any::<bool>()).prop_map(|(from, to, both)| Action::Heal {
            from,
            to,
            both
        }),
        proptest::collection::vec(0u8..3, nodes).prop_map(|groups| Action::Partition { groups }),
        Just(Action::HealAll),
        Just(Action::HealAll),
        (0u32..300_000).prop_map(|ppm| Action::SetLoss { ppm }),
        (0u64..20, 0u64..80).prop_map(|(a, b)| Action::SetLatency { min: a, max: a + b }),
        (n.clone(), 0usize..6).prop_map(|(node, k)| Action::Put {
            node,
            key: sample_key(k),
            value: format!("{{\"k\":{k}}}")
        }),
        (n.clone(), 0usize..6).prop_map(|(node, k)| Action::Remove {
            node,
            key: sample_key(k)
        }),
        (n.clone(), 0usize..4, 1usize..60).prop_map(|(node, first, count)| Action::Load {
            node,
            first,
            count
        }),
        (0u64..2_000).prop_map(|msg| Action::Drop { msg }),
    ]
}

fn schedule() -> impl Strategy<Value = (u64, usize, Vec<TimedAction>)> {
    (any::<u64>(), 3usize..=5).prop_flat_map(|(seed, nodes)| {
        let step = (0..HORIZON_MS, action(nodes))
            .prop_map(|(at_ms, action)| TimedAction { at_ms, action });
        proptest::collection::vec(step, 0..40).prop_map(move |mut v| {
            v.sort_by_key(|a| a.at_ms);
            (seed, nodes, v)
        })
    })
}

struct Run {
    hash: u64,
    unexplained_term_decreases: u64,
    acked_missing_on_acker: Vec<String>,
}

/// Runs the schedule step by step; after every step, every write a majority just acknowledged
/// must be on the leader that acknowledged it (or a newer version of its key). Refused actions (a restart of a running node, a
/// drop of a message not in flight) change nothing and are skipped.
fn run(seed: u64, nodes: usize, actions: &[TimedAction]) -> Run {
    let cfg = SimConfig {
        nodes,
        seed,
        timings: Config::fast(),
        trace: TraceMode::Light,
        ..SimConfig::default()
    };
    let mut sim = Sim::new(cfg).unwrap();
    let mut seen = 0;
    let mut missing = Vec::new();
    let mut check = |sim: &Sim, seen: &mut usize| {
        let new = &sim.events()[*seen..];
        for (i, e) in new.iter().enumerate() {
            if let Happening::Protocol(Event::Published { key, timestamp }) = &e.what {
                let held = sim
                    .node(e.node)
                    .and_then(|n| n.datum(key))
                    .map(|d| d.timestamp);
                // A newer version is not a loss: as soon as a publish is acknowledged the leader
                // takes the next queued write of the same key and applies it locally before
                // replicating it (Java's signalPublish calls onPublish on itself first), all in
                // one step of the simulator. Traced on the regression seed: n2 publishes
                // svc-0043 v1, acknowledged at 37,606 ms, and starts v2 in that millisecond.
                // Nor is a delete of the key that waited for the lock behind this write: it runs
                // as soon as the write is acknowledged, in the same step (a put and a delete of
                // one key submitted in the same millisecond, both queued behind a load, found
                // this). The delete was submitted before the write's acknowledgement, so it may
                // come after the write.
                let deleted_after = new[i + 1..].iter().any(|d| {
                    d.node == e.node
                        && matches!(&d.what, Happening::Protocol(Event::Deleted { key: k, .. }) if k == key)
                });
                if !deleted_after && held.is_none_or(|t| t < *timestamp) {
                    missing.push(format!("{key} v{timestamp} at node {} ({held:?})", e.node));
                }
            }
        }
        *seen = sim.events().len();
    };
    let mut next = actions.iter().peekable();
    loop {
        let t_next_action = next.peek().map(|a| a.at_ms).unwrap_or(u64::MAX);
        match sim.next_event_ms() {
            Some(t) if t <= HORIZON_MS && t <= t_next_action => {
                sim.step();
            }
            _ if t_next_action <= HORIZON_MS => {
                let a = next.next().unwrap();
                sim.run_until(a.at_ms);
                let before = sim.trace_hash();
                if sim.apply(a.action.clone()).is_err() {
                    assert_eq!(before, sim.trace_hash(), "a refused action changed the run");
                }
            }
            _ => break,
        }
        check(&sim, &mut seen);
    }
    Run {
        hash: sim.trace_hash(),
        unexplained_term_decreases: sim.unexplained_term_decreases(),
        acked_missing_on_acker: missing,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn random_fault_schedules_keep_the_invariants((seed, nodes, actions) in schedule()) {
        let a = run(seed, nodes, &actions);
        // No panic got us here. Same seed and actions: same trace.
        let b = run(seed, nodes, &actions);
        prop_assert_eq!(a.hash, b.hash);
        // Terms only go down on restart, or through beat sync adopting an older beat's term
        // (a Nacos flaw, recorded by the observer as term_decreased).
        prop_assert_eq!(a.unexplained_term_decreases, 0);
        prop_assert!(a.acked_missing_on_acker.is_empty(), "{:?}", a.acked_missing_on_acker);
    }
}
