//! `sendBeatOnly` from the replicated switch datum in the simulator: `beatonly:N:on` (the page's
//! action syntax) writes the switch through node N; every member then applies it, the leader's
//! beats carry no keys, and a later `beatonly:N:off` brings the key lists back.

use nacos_raft_core::sim::{parse_actions, Happening, Sim, SimConfig, TraceMode};
use nacos_raft_core::Event;

fn beat_keys_after(s: &Sim, t: u64) -> Vec<usize> {
    s.events()
        .iter()
        .filter(|e| e.at_ms > t)
        .filter_map(|e| match &e.what {
            Happening::Protocol(Event::BeatSent { keys, .. }) => Some(*keys),
            _ => None,
        })
        .collect()
}

#[test]
fn the_beatonly_action_turns_send_beat_only_on_and_off_everywhere() {
    for seed in 1..=5 {
        let mut s = Sim::new(SimConfig {
            nodes: 3,
            seed,
            trace: TraceMode::Full,
            ..SimConfig::default()
        })
        .unwrap();
        assert!(
            s.run_for(60_000, |s| s.settled_leader().is_some()),
            "seed {seed}"
        );
        let leader = s.cluster_leader().unwrap();
        for a in parse_actions(&format!("0:load:{leader}:0:3,0:beatonly:{leader}:on")).unwrap() {
            s.apply(a.action).unwrap();
        }
        let all_on = |s: &Sim| (0..3).all(|i| s.node(i).is_some_and(|n| n.send_beat_only()));
        assert!(
            s.run_for(20_000, all_on),
            "seed {seed}: not applied everywhere"
        );
        let on_at = s.now();
        s.run_until(on_at + 12_000);
        let keys = beat_keys_after(&s, on_at);
        assert!(
            !keys.is_empty() && keys.iter().all(|k| *k == 0),
            "seed {seed}: {keys:?}"
        );
        // Followers skipped the sync and kept everything.
        for i in 0..3 {
            assert_eq!(s.node(i).unwrap().datum_count(), 4, "seed {seed} node {i}");
        }
        let off = parse_actions(&format!("0:beatonly:{leader}:off")).unwrap();
        s.apply(off[0].action.clone()).unwrap();
        let all_off = |s: &Sim| (0..3).all(|i| s.node(i).is_some_and(|n| !n.send_beat_only()));
        assert!(s.run_for(20_000, all_off), "seed {seed}: not turned off");
        let off_at = s.now();
        s.run_until(off_at + 12_000);
        let keys = beat_keys_after(&s, off_at);
        assert!(
            !keys.is_empty() && keys.iter().all(|k| *k == 4),
            "seed {seed}: {keys:?}"
        );
    }
}
