//! # nacos-raft-web
//!
//! The animated, interactive view of a Nacos 1.x naming-raft cluster: the core's simulator runs
//! in the browser, and people watch, break and replay it.
//!
//! The pure parts (URL state, texts in two languages, layout, the time-travel model, the page's
//! state and its reducer in `app::state`) build and test on the host; the Yew components of
//! `app` are built for wasm32 only.

pub mod compare;
pub mod describe;
pub mod export;
pub mod i18n;
pub mod jsonfmt;
pub mod layout;
pub mod live;
pub mod model;
pub mod teach;
pub mod urlstate;

pub mod app;

/// Talc rather than Rust's default wasm allocator (dlmalloc): the simulator allocates on every
/// message and beat, and an allocation cost about twice as much in wasm as natively with
/// dlmalloc (issue 14: perf vs `node --cpu-prof` of the same workload). Both pages' binaries and
/// `simbench`'s wasm build use it, so the benchmark's figure is the page's.
#[cfg(target_family = "wasm")]
#[global_allocator]
static ALLOC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// Where live mode's page is, relative to the simulator's (`dist/live/index.html`).
pub const LIVE_PAGE: &str = "live/";
/// Where the simulator's page is, relative to live mode's.
pub const SIMULATOR_PAGE: &str = "../";

/// Mounts the simulator's app on `<body>` (the entry point of the page's main binary).
///
/// Live mode is a page of its own (`live/`, binary `nacos-raft-live`), so that neither page
/// downloads the other's code (issue 14, the page's size). A live link to this page
/// (`#live=…`, the documented form) goes there: `index.html`'s first script sends it before any
/// wasm runs; this check covers a hash changed after that script and before the app's
/// `hashchange` listener exists.
#[cfg(target_arch = "wasm32")]
pub fn start_simulator() {
    if live::hash::is_live(&app::dom::hash()) {
        app::dom::go_to(LIVE_PAGE);
        return;
    }
    yew::Renderer::<app::App>::new().render();
}

/// Mounts live mode's app on `<body>` (the entry point of the `nacos-raft-live` binary).
/// `live/` without a hash is `live/#live=` (the Connect dialog); a hash of the simulator's goes
/// to the simulator's page, with the hash (`live.html`'s first script does so too; this covers a
/// hash changed in between, as in [`start_simulator`]).
#[cfg(target_arch = "wasm32")]
pub fn start_live() {
    let hash = app::dom::hash();
    if hash.is_empty() {
        app::dom::replace_hash("live=");
    } else if !live::hash::is_live(&hash) {
        app::dom::go_to(SIMULATOR_PAGE);
        return;
    }
    yew::Renderer::<live::LiveApp>::new().render();
}
