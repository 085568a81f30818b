//! For the browser build: ask the linker to drop the symbol names (the wasm `name` section, about
//! 170 KB of the output that the page never needs; Trunk cannot run wasm-opt here to strip it).
//! `NACOS_RAFT_WEB_KEEP_NAMES=1` keeps them, to see what takes room.
//!
//! Also lists the fixes that have a design note in `docs/hardened/` (the page links only those):
//! `$OUT_DIR/hardened_docs.rs`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=NACOS_RAFT_WEB_KEEP_NAMES");
    hardened_docs();
    let keep = std::env::var_os("NACOS_RAFT_WEB_KEEP_NAMES").is_some();
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") && !keep {
        println!("cargo:rustc-link-arg-bins=--strip-all");
    }
}

/// Writes the names of the `docs/hardened/*.md` notes as a Rust slice expression.
fn hardened_docs() {
    // The whole docs folder: cargo scans a directory for changes, and docs/hardened may not
    // exist yet (a missing path would rerun this script on every build).
    println!("cargo:rerun-if-changed=../docs");
    let dir = std::path::Path::new("../docs/hardened");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().into_string().ok()?;
            n.strip_suffix(".md").map(str::to_string)
        })
        .collect();
    names.sort();
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("hardened_docs.rs");
    let list: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    std::fs::write(out, format!("&[{}]", list.join(", "))).expect("OUT_DIR is writable");
}
