//! Simulator throughput: 5 nodes, 1,000 datums, one hour of virtual time with Nacos timings.
//! Target (issue #14): at least 100,000× faster than real time in a release build.

use criterion::{criterion_group, Criterion};
use nacos_raft_core::sim::bench::{workload, WORKLOAD_MS};
use std::time::{Duration, Instant};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("sim");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("5 nodes, 1000 datums, 1 h virtual", |b| {
        b.iter(|| {
            let sim = workload(1);
            assert_eq!(sim.summary().datums_min_follower, 1_000);
            sim.stats().steps
        })
    });
    g.finish();
}

/// A plain table after criterion's report: median wall time and the speed-up over real time.
fn table() {
    let mut times = Vec::new();
    let mut steps = 0;
    let mut messages = 0;
    for seed in 1..=9 {
        let t = Instant::now();
        let sim = workload(seed);
        times.push(t.elapsed());
        steps = sim.stats().steps;
        messages = sim.stats().messages_sent;
    }
    times.sort();
    let median = times[times.len() / 2];
    let speedup = WORKLOAD_MS as f64 / (median.as_secs_f64() * 1000.0);
    println!();
    println!("| workload | median wall time | min | max | × real time | steps | messages |");
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| 5 nodes, 1000 datums, 1 h virtual (native) | {:.1} ms | {:.1} ms | {:.1} ms | {:.0}× | {steps} | {messages} |",
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
        speedup
    );
    println!(
        "target: ≥ 100000× → {}",
        if speedup >= 100_000.0 {
            "met"
        } else {
            "NOT met"
        }
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
    table();
}
