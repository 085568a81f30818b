//! The inspector: what is selected (a node, a message, a link), each drawn through [`Memo`]. The
//! dispatch is a plain function.

use super::link::{link_inspector, LinkProps};
use super::message::{msg_inspector, MsgProps};
use super::{Common, NodeProps};
use crate::app::memo::{Memo, MemoView};
use crate::app::{Forms, Selection};
use crate::i18n::Texts;
use yew::prelude::*;

/// The inspector of `sel`, with the app's `common` panel inputs.
pub fn inspector(common: &Common, sel: Selection, forms: &Forms) -> Html {
    let tr = common.lang.tr();
    match sel {
        Selection::None => {
            html! { <p class="hint" data-testid="inspector-empty">{ tr.nothing_selected }</p> }
        }
        Selection::Node(node) => {
            let view = MemoView::Node(NodeProps {
                common: common.clone(),
                node,
                service: forms.service.clone(),
                ip: forms.ip.clone(),
            });
            html! { <Memo {view} /> }
        }
        Selection::Msg(_) | Selection::Link(..) => {
            let view = MemoView::Selected(SelectedProps {
                common: common.clone(),
                sel,
            });
            html! { <Memo {view} /> }
        }
    }
}

#[derive(Clone, PartialEq)]
pub struct SelectedProps {
    pub common: Common,
    pub sel: Selection,
}

/// A message's or a link's inspector (they keep no state), drawn by [`Memo`]: it renders only
/// when the app's `rev` or the selection changes.
pub fn selected(p: &SelectedProps) -> Html {
    let common = p.common.clone();
    match p.sel {
        Selection::Msg(id) => msg_inspector(&MsgProps { common, id }),
        Selection::Link(a, b) => link_inspector(&LinkProps { common, a, b }),
        Selection::None | Selection::Node(_) => html! {},
    }
}
