//! The inspector of a link: each direction open or cut, and the buttons to cut or heal it.

use super::Common;
use crate::app::Msg;
use crate::describe::letter;
use crate::i18n::Texts;
use nacos_raft_core::sim::Action;
use yew::prelude::*;

pub struct LinkProps {
    pub common: Common,
    pub a: usize,
    pub b: usize,
}

/// Rendered inside the inspector's [`super::inspector::Selected`] component.
pub fn link_inspector(p: &LinkProps) -> Html {
    let w = p.common.world.0.borrow();
    let s = w.sim();
    let tr = p.common.lang.tr();
    let on = &p.common.on;
    let (a, b) = (p.a, p.b);
    if a >= s.len() || b >= s.len() {
        return html! {};
    }
    let dir = |x: usize, y: usize| {
        let cut = s.net().is_cut(x, y);
        html! {
            <tr>
                <th>{ format!("{} → {}", letter(x), letter(y)) }</th>
                <td class={if cut { "bad" } else { "good" }}>{ if cut { tr.cut_one_way } else { tr.link_open } }</td>
                <td>
                    if cut {
                        <button onclick={crate::app::send(on, Msg::Act(Action::Heal { from: x, to: y, both: false }))}>{ tr.heal }</button>
                    } else {
                        <button data-action={format!("cut-{x}-{y}")} onclick={crate::app::send(on, Msg::Act(Action::Cut { from: x, to: y, both: false }))}>{ tr.cut_one_way }</button>
                    }
                </td>
            </tr>
        }
    };
    html! {
        <div class="inspector" data-testid="link-inspector">
            <h2 class="insp-title">{ format!("{} {} ↔ {}", tr.link, letter(a), letter(b)) }</h2>
            <table class="kv">{ dir(a, b) }{ dir(b, a) }</table>
            <div class="actions">
                <button class="danger" data-action="cut-both" onclick={crate::app::send(on, Msg::Act(Action::Cut { from: a, to: b, both: true }))}>{ tr.cut_both }</button>
                <button data-action="heal-both" onclick={crate::app::send(on, Msg::Act(Action::Heal { from: a, to: b, both: true }))}>{ tr.heal }</button>
            </div>
        </div>
    }
}
