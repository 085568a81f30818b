//! Prints every preset scenario: its id, length, actions and what the observers recorded.
//! `cargo run -p nacos-raft-core --example presets`
use nacos_raft_core::sim::{scenario, Sim, TraceMode};

fn main() {
    for p in scenario::presets() {
        let mut cfg = p.config.clone();
        cfg.trace = TraceMode::Light;
        let sim = Sim::replay(cfg, &p.actions, p.end_ms).expect("presets replay");
        let s = sim.summary();
        println!(
            "{} (seed {}, {} nodes): end {} ms, {} actions",
            p.id,
            p.config.seed,
            p.config.nodes,
            p.end_ms,
            p.actions.len()
        );
        for a in p.actions.iter().take(6) {
            println!(
                "    at {:>8} ms: {}",
                a.at_ms,
                serde_json::to_string(&a.action).unwrap()
            );
        }
        println!(
            "    leader {:?} term {} changes {} datums {}..{}",
            s.leader, s.term, s.leader_changes, s.datums_min_follower, s.datums_at_leader
        );
        for v in &s.violations {
            println!("    ! {} at {} ms: {}", v.kind.as_str(), v.at_ms, v.detail);
        }
    }
}
