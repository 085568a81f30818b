//! Scenario tests over many seeds (host, and wasm in Node under `wasm-pack test --node`).
include!("common/scenario_cases.rs");
