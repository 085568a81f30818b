//! What the fuzz targets run: [`Target::run`] of `nacos_raft_node::fuzz` under a counting
//! allocator that checks the peak of every input against [`allocation_bound`].
//!
//! The decoders and the harnesses are compiled from the node's own source files rather than
//! through the `nacos-raft-node` crate: the instrumented build of the node's runtime (tokio,
//! hyper, axum, clap) would take about three times as long, and these files need none of it.
//! They must stay free of `crate::` paths other than `crate::codec`, `crate::beat_list` and
//! `crate::store`.

#[path = "../../native/src/beat_list.rs"]
#[allow(dead_code)]
pub mod beat_list;
#[path = "../../native/src/codec.rs"]
#[allow(dead_code)]
pub mod codec;
#[path = "../../native/src/fuzz.rs"]
pub mod harness;
#[path = "../../native/src/store.rs"]
#[allow(dead_code)]
pub mod store;

pub use harness::{allocation_bound, Target};
use peak_alloc::PeakAlloc;

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

/// Runs one input; panics (a crash for libFuzzer) when a property fails or the input allocated
/// more than [`allocation_bound`] at once.
pub fn run(target: Target, data: &[u8]) {
    let base = ALLOC.current_usage();
    ALLOC.reset_peak_usage();
    target.run(data);
    let peak = ALLOC.peak_usage().saturating_sub(base);
    let bound = allocation_bound(data.len());
    assert!(
        peak <= bound,
        "{}: {} bytes of input allocated {peak} bytes at once (bound {bound})",
        target.name(),
        data.len()
    );
}
