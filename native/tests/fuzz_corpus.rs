//! Every seed and every regression input of the fuzz targets (`fuzz/corpus/<target>/`,
//! `fuzz/regressions/<target>/`) through the harness the fuzzer runs, with the same allocation
//! bound, so `cargo test` checks them without the fuzzer (see native/README.md, "Garbage").

use nacos_raft_node::fuzz::{allocation_bound, Target};
use peak_alloc::PeakAlloc;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

// The peak is only meaningful while one input runs at a time: this file has a single test.
#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

#[test]
fn every_corpus_and_regression_input_passes_its_harness() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut failures = Vec::new();
    for target in Target::ALL {
        let (mut seeds, mut regressions, mut max_peak) = (0, 0, 0);
        for dir in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(target.name())) else {
                assert_ne!(dir, "corpus", "no seed corpus for {}", target.name());
                continue;
            };
            let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
            files.sort();
            for path in files {
                let data = std::fs::read(&path).expect("read an input");
                let base = ALLOC.current_usage();
                ALLOC.reset_peak_usage();
                let outcome = catch_unwind(AssertUnwindSafe(|| target.run(&data)));
                let peak = ALLOC.peak_usage().saturating_sub(base);
                let bound = allocation_bound(data.len());
                match outcome {
                    Err(e) => failures.push(format!("{}: {}", path.display(), panic_text(&e))),
                    Ok(()) if peak > bound => failures.push(format!(
                        "{}: allocated {peak} bytes at once (bound {bound})",
                        path.display()
                    )),
                    Ok(()) => {}
                }
                max_peak = max_peak.max(peak);
                if dir == "corpus" {
                    seeds += 1;
                } else {
                    regressions += 1;
                }
            }
        }
        println!(
            "{:<14} {seeds:>3} seeds {regressions:>3} regressions, peak allocation {max_peak} bytes",
            target.name()
        );
        assert!(seeds >= 3, "{}: only {seeds} seeds", target.name());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn panic_text(e: &Box<dyn std::any::Any + Send>) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".into())
}
