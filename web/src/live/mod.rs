//! Live mode: the page watches and breaks a cluster of real `nacos-raft-node` processes
//! (`#live=127.0.0.1:8848,...`). Each node's event stream (`docs/live.md`) feeds one
//! [`model::LiveModel`]; the page draws the same ring, messages, inspectors, event sentences and
//! Data view as for the simulator, and its fault buttons call the nodes' fault API.
//!
//! [`hash`] (the `live=` hash) and [`model`] (records in, what the page shows out) are pure and
//! tested on the host; [`texts`] holds live mode's EN/中文 strings in one block of their own. The
//! Yew component (`app.rs`) and the browser plumbing (`net.rs`: EventSource, fetch) are wasm only.

mod event_json;
pub mod hash;
pub mod model;
pub mod tape;
pub mod texts;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod net;

#[cfg(target_arch = "wasm32")]
pub use app::LiveApp;
