//! The same scenario tests in a browser (`wasm-pack test --headless --chrome core`).
#![cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
include!("common/scenario_cases.rs");
