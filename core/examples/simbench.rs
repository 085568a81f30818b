//! Times the simulator workload (5 nodes, 1,000 datums, one hour of virtual time) and prints one
//! line of JSON. Built natively and for `wasm32-wasip1` (run under Node's WASI) by
//! `scripts/bench-wasm.sh`, which compares the two.
use nacos_raft_core::sim::bench::{workload, WORKLOAD_MS};
use std::time::Instant;

/// The page's allocator (web/src/main.rs), so that the wasm figure is what the page runs.
#[cfg(target_family = "wasm")]
#[global_allocator]
static ALLOC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(9);
    let hash = workload(1).trace_hash();
    let mut ms: Vec<f64> = (1..=runs as u64)
        .map(|seed| {
            let t = Instant::now();
            let sim = workload(seed);
            assert_eq!(
                sim.summary().datums_min_follower,
                1_000,
                "the workload did its work"
            );
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let median = ms[ms.len() / 2];
    println!(
        "{{\"runs\":{runs},\"trace_hash\":\"{hash:016x}\",\"median_ms\":{median:.2},\"min_ms\":{:.2},\"max_ms\":{:.2},\"x_real_time\":{:.0}}}",
        ms[0],
        ms[ms.len() - 1],
        WORKLOAD_MS as f64 / median
    );
}
