//! The inspector: what is selected (a node, a message, a link). A node's inspector is a
//! component of its own (it keeps the form's drafts); a message's and a link's share one. The
//! dispatch is a plain function. Fewer component types, a smaller page: each one costs ~3 KB of
//! wasm (its lifecycle code is generated per type).

use super::link::{link_inspector, LinkProps};
use super::message::{msg_inspector, MsgProps};
use super::{Common, NodeInspector};
use crate::app::Selection;
use crate::i18n::Texts;
use yew::prelude::*;

/// The inspector of `sel`, with the app's `common` panel inputs.
pub fn inspector(common: &Common, sel: Selection) -> Html {
    let tr = common.lang.tr();
    match sel {
        Selection::None => {
            html! { <p class="hint" data-testid="inspector-empty">{ tr.nothing_selected }</p> }
        }
        Selection::Node(i) => html! { <NodeInspector common={common.clone()} node={i} /> },
        Selection::Msg(_) | Selection::Link(..) => {
            html! { <Selected common={common.clone()} {sel} /> }
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct SelectedProps {
    pub common: Common,
    pub sel: Selection,
}

/// A message's or a link's inspector: one component for both (they keep no state), so that
/// it still renders only when the app's `rev` or the selection changes, with the lifecycle
/// code of one component type instead of two.
#[function_component(Selected)]
fn selected(p: &SelectedProps) -> Html {
    let common = p.common.clone();
    match p.sel {
        Selection::Msg(id) => msg_inspector(&MsgProps { common, id }),
        Selection::Link(a, b) => link_inspector(&LinkProps { common, a, b }),
        Selection::None | Selection::Node(_) => html! {},
    }
}
