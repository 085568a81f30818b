//! For the browser build: ask the linker to drop the symbol names (the wasm `name` section, about
//! 170 KB of the output that the page never needs; Trunk cannot run wasm-opt here to strip it).
//! `NACOS_RAFT_WEB_KEEP_NAMES=1` keeps them, to see what takes room.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=NACOS_RAFT_WEB_KEEP_NAMES");
    let keep = std::env::var_os("NACOS_RAFT_WEB_KEEP_NAMES").is_some();
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") && !keep {
        println!("cargo:rustc-link-arg-bins=--strip-all");
    }
}
