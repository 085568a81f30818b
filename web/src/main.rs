//! The simulator's page (Trunk builds this binary for wasm32 from `index.html`).

fn main() {
    #[cfg(target_arch = "wasm32")]
    nacos_raft_web::start_simulator();
}
