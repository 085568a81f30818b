//! The page. [`state`] holds everything the page shows and every change to it, as a pure reducer
//! tested on the host; [`keys`] the keyboard and the speed notches. The rest is the Yew app,
//! built for wasm32 only: one component (`component.rs`) owns the state and the clock, renders
//! and carries out the reducer's effects; the ring (`ring.rs`), the timeline (`timeline.rs`) and
//! the panels (`panels/`, functions drawn through the one component `memo::Memo`) only render and
//! send messages.

pub mod keys;
pub mod state;

#[cfg(target_arch = "wasm32")]
mod compare_view;
#[cfg(target_arch = "wasm32")]
mod component;
#[cfg(target_arch = "wasm32")]
pub mod dom;
#[cfg(target_arch = "wasm32")]
pub(crate) mod memo;
#[cfg(target_arch = "wasm32")]
pub(crate) mod panels;
#[cfg(target_arch = "wasm32")]
pub(crate) mod ring;
#[cfg(target_arch = "wasm32")]
pub(crate) mod teach_view;
#[cfg(target_arch = "wasm32")]
mod timeline;

#[cfg(target_arch = "wasm32")]
pub use component::App;
pub use state::{Filter, FormEdit, Forms, Msg, PresetInfo, Selection, Tab, WorldRef};

use nacos_raft_core::PeerState;

/// A callback that sends `m` (decided when the view is built) whatever the event. Every button
/// with a fixed message shares this one closure type: a closure written at each button is its
/// own type, with its own copies of Yew's callback code (~150 bytes of wasm each).
#[cfg(target_arch = "wasm32")]
pub fn send<E>(on: &yew::Callback<Msg>, m: Msg) -> yew::Callback<E> {
    on.reform(move |_: E| m.clone())
}

/// Node state as the DOM contract spells it.
pub fn state_attr(s: Option<PeerState>) -> &'static str {
    match s {
        Some(p) => p.as_str(),
        None => "DOWN",
    }
}
