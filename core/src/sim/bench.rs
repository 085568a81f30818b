//! The simulator benchmark workload, shared by the criterion bench, the native/wasm comparison
//! and anyone who wants to time the core.

use super::{Action, Sim, SimConfig, TraceMode};
use crate::Config;

/// Virtual time the workload simulates: one hour.
pub const WORKLOAD_MS: u64 = 3_600_000;

/// Five nodes with Nacos timings; once a leader exists it publishes 1,000 datums, then the
/// cluster runs (beats listing 1,000 keys every 5 s) until one hour of virtual time has passed.
/// Returns the finished simulation so callers can check it did the work.
pub fn workload(seed: u64) -> Sim {
    let cfg = SimConfig {
        nodes: 5,
        seed,
        timings: Config::default(),
        trace: TraceMode::Off,
        ..SimConfig::default()
    };
    let mut sim = Sim::new(cfg).expect("valid configuration");
    while sim.cluster_leader().is_none() && sim.step().is_some() {}
    let leader = sim.cluster_leader().expect("a leader within the hour");
    sim.apply(Action::Load {
        node: leader,
        first: 0,
        count: 1_000,
    })
    .expect("the leader is up");
    sim.run_until(WORKLOAD_MS);
    sim
}
