//! The space-time diagram of the latest messages: a lane per node, time flowing down.

use super::Common;
use crate::app::ring::{click_target, kind_class};
use crate::app::{Msg, Selection};
use crate::describe::letter;
use crate::i18n::Texts;
use crate::layout::{class_list, when};
use crate::layout::{clock_text, Lane};
use yew::prelude::*;

#[derive(Clone, PartialEq)]
pub struct LanesProps {
    pub common: Common,
    pub sel: Selection,
}

/// Messages the space-time diagram shows.
const LANE_MSGS: usize = 48;

/// Drawn by [`crate::app::memo::Memo`].
pub fn lanes_view(p: &LanesProps) -> Html {
    let w = p.common.world.0.borrow();
    let s = w.sim();
    let tr = p.common.lang.tr();
    let on = p.common.on.clone();
    let (times, lanes) = crate::layout::lanes(s, LANE_MSGS);
    let onclick = Callback::from(move |e: MouseEvent| on.emit(Msg::Select(click_target(&e))));
    let sel = match p.sel {
        Selection::Msg(id) => Some(id),
        _ => None,
    };
    html! {
        <div class="lanes-view">
            <p class="small">{ tr.lanes_hint }</p>
            { spacetime(s.len(), &times, &lanes, sel, onclick) }
        </div>
    }
}

/// The diagram of `n` lanes, `times` the rows' clock (ms), `sel` the selected message: the
/// simulator's, and live mode's (fed by the nodes' streams).
pub fn spacetime(
    n: usize,
    times: &[u64],
    lanes: &[Lane],
    sel: Option<u64>,
    onclick: Callback<MouseEvent>,
) -> Html {
    let (left, width, top, row_h) = (64.0, 420.0, 28.0, 15.0);
    let col = |i: usize| left + 10.0 + (width - left - 20.0) * (i as f64) / ((n.max(2) - 1) as f64);
    let y = |r: usize| top + 8.0 + r as f64 * row_h;
    // Names ~14 units apart at most: in a big cluster every k-th lane is named.
    let every = (14.0 / (col(1) - col(0))).ceil().max(1.0) as usize;
    let height = y(times.len().max(1)) + 10.0;
    let f = crate::layout::d1;
    html! {
            <svg class="spacetime" data-testid="spacetime" viewBox={format!("0 0 {} {}", width as u32, height.ceil() as u32)} {onclick}>
                { for (0..n).map(|i| html! {
                    <g>
                        <line class="lane-line" x1={f(col(i))} x2={f(col(i))} y1={f(top)} y2={f(height - 4.0)} />
                        if i % every == 0 {
                            <text class="lane-name" x={f(col(i))} y="16">{ letter(i) }</text>
                        }
                    </g>
                }) }
                { for times.iter().enumerate().filter(|(r, _)| r % 2 == 0 || times.len() < 30).map(|(r, t)| html! {
                    <text class="lane-time" x={f(left - 4.0)} y={f(y(r) + 3.0)}>{ clock_text(*t) }</text>
                }) }
                { for lanes.iter().map(|l| {
                    let (x1, y1, x2, y2) = (col(l.from), y(l.sent_row), col(l.to), y(l.end_row));
                    let sel = sel == Some(l.id);
                    html! {
                        <g class={class_list(&["st-msg", kind_class(l.kind), when(l.kind.is_reply(), "reply"), when(l.flying, "flying"), when(l.failed.is_some(), "failed"), when(l.granted == Some(false), "refused"), when(sel, "selected")])}
                            data-hit="msg" data-msg-id={l.id.to_string()} data-st-kind={l.kind.as_str()}>
                            <line class="st-hit" x1={f(x1)} y1={f(y1)} x2={f(x2)} y2={f(y2)} />
                            <line class="st-line" x1={f(x1)} y1={f(y1)} x2={f(x2)} y2={f(y2)} />
                            <circle class="st-dot" cx={f(x1)} cy={f(y1)} r="2.5" />
                            if l.failed.is_some() {
                                <text class="st-x" x={f(x2)} y={f(y2 + 4.0)}>{ "✕" }</text>
                            } else if !l.flying {
                                <circle class="st-end" cx={f(x2)} cy={f(y2)} r="3" />
                            }
                        </g>
                    }
                }) }
                <line class="st-now" x1={f(left)} x2={f(width)} y1={f(y(times.len().saturating_sub(1)))} y2={f(y(times.len().saturating_sub(1)))} />
            </svg>
    }
}
