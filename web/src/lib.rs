//! # nacos-raft-web
//!
//! The animated, interactive view of a Nacos 1.x naming-raft cluster: the core's simulator runs
//! in the browser, and people watch, break and replay it.
//!
//! The pure parts (URL state, texts in two languages, layout, the time-travel model, the page's
//! state and its reducer in `app::state`) build and test on the host; the Yew components of
//! `app` are built for wasm32 only.

pub mod describe;
pub mod export;
pub mod i18n;
pub mod jsonfmt;
pub mod layout;
pub mod model;
pub mod teach;
pub mod urlstate;

pub mod app;

/// Mounts the app on `<body>` (the page's entry point).
#[cfg(target_arch = "wasm32")]
pub fn start() {
    yew::Renderer::<app::App>::new().render();
}
