//! For the browser build: ask the linker to drop the symbol names (the wasm `name` section, about
//! 170 KB of the output that the page never needs; Trunk cannot run wasm-opt here to strip it).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-bins=--strip-all");
    }
}
