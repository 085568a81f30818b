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

/// Mounts the app on `<body>` (the page's entry point).
#[cfg(target_arch = "wasm32")]
pub fn start() {
    // Live mode (`#live=...`) is its own component: the simulator's page is not built at all.
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    if live::hash::is_live(&hash) {
        yew::Renderer::<live::LiveApp>::new().render();
    } else {
        yew::Renderer::<app::App>::new().render();
    }
}
