//! The page's entry point (Trunk builds this binary for wasm32).

/// Talc rather than Rust's default wasm allocator (dlmalloc): the simulator allocates on every
/// message and beat, and an allocation cost about twice as much in wasm as natively with
/// dlmalloc (issue 14: perf vs `node --cpu-prof` of the same workload). `simbench` uses the same
/// allocator for its wasm build, so the figure is the page's.
#[cfg(target_family = "wasm")]
#[global_allocator]
static ALLOC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

fn main() {
    #[cfg(target_arch = "wasm32")]
    nacos_raft_web::start();
}
