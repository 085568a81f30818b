//! Live mode's page (Trunk builds this binary for wasm32 from `live.html` into `dist/live/`).

fn main() {
    #[cfg(target_arch = "wasm32")]
    nacos_raft_web::start_live();
}
