//! The side panels, about one per file: the inspector of a node, a message or a link, the event
//! log, the datum matrix, the network controls, the scenarios, the space-time diagram, the safety
//! monitor and the help. Each is a function of its props, drawn through the one component
//! [`crate::app::memo::Memo`], so it re-renders only when its props change (the app bumps `rev`
//! at most five times a second while playing); it keeps no state (form drafts are the page's,
//! [`crate::app::Forms`]) and acts only by sending [`Msg`]s.

mod data;
mod events;
mod help;
mod inspector;
mod lanes;
mod link;
mod message;
mod network;
mod node;
mod safety;
mod scenarios;

pub use data::{data_view, DataProps};
pub use events::{event_log, LogProps};
pub use help::{help, HelpProps};
pub use inspector::{inspector, selected, SelectedProps};
pub use lanes::{lanes_view, spacetime, LanesProps};
pub use network::{network, NetProps};
pub use node::{node_inspector, NodeProps};
pub use safety::{safety, SafetyProps};
pub use scenarios::{scenarios, ScenarioProps};

use super::{Msg, Selection, WorldRef};
use crate::describe::letter;
use crate::i18n::Lang;
use yew::prelude::*;

/// What every panel gets.
#[derive(Clone, PartialEq)]
pub struct Common {
    /// The world (the same one until a new run is loaded).
    pub world: WorldRef,
    /// The revision: a panel renders again when it changes.
    pub rev: u64,
    /// The page's language.
    pub lang: Lang,
    /// Where the panel sends its messages.
    pub on: Callback<Msg>,
}

/// One row of an inspector's table, `<tr><th>label</th><td>value</td></tr>`, out of line: each
/// element an `html!` writes is its own construction code, so a row written here once instead of
/// at every place costs a call, not a copy (issue 14, the page's size).
#[inline(never)]
fn kv_row(label: &'static str, value: Html) -> Html {
    html! { <tr><th>{ label }</th><td>{ value }</td></tr> }
}

/// A node's letter as a button that selects it.
fn node_button(on: &Callback<Msg>, i: usize) -> Html {
    let onclick = crate::app::send(on, Msg::Select(Selection::Node(i)));
    html! { <button class="chip" {onclick}>{ letter(i) }</button> }
}
