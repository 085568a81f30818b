//! The inspector: what is selected (a node, a message, a link), each in its own component.
//! The dispatch itself is a plain function, not a component: it only picks one of them, and a
//! component costs ~3 KB of wasm (its lifecycle code is generated per component type).

use super::{Common, LinkInspector, MsgInspector, NodeInspector};
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
        Selection::Msg(id) => html! { <MsgInspector common={common.clone()} id={id} /> },
        Selection::Link(a, b) => html! { <LinkInspector common={common.clone()} a={a} b={b} /> },
    }
}
