//! The inspector: what is selected (a node, a message, a link), each in its own component.

use super::{Common, LinkInspector, MsgInspector, NodeInspector};
use crate::app::Selection;
use crate::i18n::Texts;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct InspectorProps {
    pub common: Common,
    pub sel: Selection,
}

#[function_component(Inspector)]
pub fn inspector(p: &InspectorProps) -> Html {
    let tr = p.common.lang.tr();
    match p.sel {
        Selection::None => {
            html! { <p class="hint" data-testid="inspector-empty">{ tr.nothing_selected }</p> }
        }
        Selection::Node(i) => html! { <NodeInspector common={p.common.clone()} node={i} /> },
        Selection::Msg(id) => html! { <MsgInspector common={p.common.clone()} id={id} /> },
        Selection::Link(a, b) => html! { <LinkInspector common={p.common.clone()} a={a} b={b} /> },
    }
}
