//! The timeline: what has been simulated on this branch, marks for elections, leaders, crashes,
//! violations and your actions, and a playhead to drag. Other branches are listed below it.

use super::keys;
use super::memo::{Memo, MemoView};
use super::panels::Common;
use super::{Msg, WorldRef};
use crate::describe::{self, letter};
use crate::i18n::{Lang, Texts};
use crate::layout::class_list;
use crate::layout::{clock_text, timeline_span};
use crate::model::MarkKind;
use yew::prelude::*;

#[derive(Clone, PartialEq)]
pub struct Props {
    pub common: Common,
    pub now: u64,
    pub playing: bool,
}

#[derive(Clone, PartialEq)]
pub struct MarksProps {
    world: WorldRef,
    count: usize,
    span: u64,
    branch: usize,
    lang: Lang,
}

/// The timeline's marks, drawn by [`Memo`]: again only when one is added, the span grows, the
/// branch or the language changes.
pub fn marks(p: &MarksProps) -> Html {
    let w = p.world.0.borrow();
    let tr = p.lang.tr();
    let span = p.span.max(1) as f64;
    w.marks()
        .iter()
        .map(|m| {
            let left = format!("left:{}%", crate::layout::d3(m.at_ms as f64 / span * 100.0));
            let who = m.node.map(letter).unwrap_or_default();
            let (class, kind, label, title) = match &m.kind {
                MarkKind::Election { term } => (
                    "m-election",
                    "election",
                    String::new(),
                    format!("{} {who} · {} {term}", tr.mark_election, tr.term),
                ),
                MarkKind::Leader { term } => (
                    "m-leader",
                    "leader",
                    who.clone(),
                    format!("{} {who} · {} {term}", tr.mark_leader, tr.term),
                ),
                MarkKind::Crash => (
                    "m-crash",
                    "crash",
                    "✕".into(),
                    format!("{} {who}", tr.mark_crash),
                ),
                MarkKind::Restart => (
                    "m-restart",
                    "restart",
                    "↻".into(),
                    format!("{} {who}", tr.mark_restart),
                ),
                MarkKind::Violation(k) => (
                    "m-violation",
                    "violation",
                    "▲".into(),
                    describe::violation_title(p.lang, *k).to_string(),
                ),
                MarkKind::Action => (
                    "m-action",
                    "action",
                    String::new(),
                    tr.mark_action.to_string(),
                ),
            };
            let term = match &m.kind {
                MarkKind::Election { term } | MarkKind::Leader { term } => term.to_string(),
                _ => String::new(),
            };
            html! {
                <span class={class_list(&["mark", class])} style={left} data-mark={kind}
                    data-at-ms={m.at_ms.to_string()} data-mark-node={who} data-term={term}
                    title={format!("{} · {title}", clock_text(m.at_ms))}>{ label }</span>
            }
        })
        .collect()
}

fn seek_from(e: &PointerEvent, span: u64) -> Option<u64> {
    // Not `current_target`: Yew listens on its root element and delegates.
    let el = super::dom::closest(e.as_ref(), ".timeline")?;
    let rect = el.get_bounding_client_rect();
    if rect.width() <= 0.0 {
        return None;
    }
    let f = ((e.client_x() as f64 - rect.left()) / rect.width()).clamp(0.0, 1.0);
    Some((f * span as f64).round() as u64)
}

/// The timeline under the ring, drawn by [`Memo`].
pub fn timeline(p: &Props) -> Html {
    let w = p.common.world.0.borrow();
    let tr = p.common.lang.tr();
    let frontier = w.frontier_ms();
    let span = timeline_span(frontier.max(p.now) + 1);
    let on = p.common.on.clone();
    let onpointerdown = {
        let on = on.clone();
        Callback::from(move |e: PointerEvent| {
            if let Some(el) = super::dom::closest(e.as_ref(), ".timeline") {
                let _ = el.set_pointer_capture(e.pointer_id());
            }
            if let Some(t) = seek_from(&e, span) {
                on.emit(Msg::Seek(t));
            }
        })
    };
    let onpointermove = {
        let on = on.clone();
        Callback::from(move |e: PointerEvent| {
            if e.buttons() & 1 == 1 {
                if let Some(t) = seek_from(&e, span) {
                    on.emit(Msg::Seek(t));
                }
            }
        })
    };
    let onkeydown = {
        let on = on.clone();
        let now = p.now;
        Callback::from(move |e: KeyboardEvent| {
            if let Some(t) = keys::timeline_key(&e.key(), now, span) {
                on.emit(Msg::Seek(t));
            }
        })
    };
    let pct = |t: u64| t as f64 / span as f64 * 100.0;
    let branches = w.branches();
    html! {
        <div class="timeline-wrap">
            <div class="timeline" data-testid="timeline" data-span-ms={span.to_string()}
                data-frontier-ms={frontier.to_string()} role="slider" tabindex="0"
                aria-label={tr.timeline} aria-valuemin="0" aria-valuemax={span.to_string()}
                aria-valuenow={p.now.to_string()} aria-valuetext={clock_text(p.now)}
                {onpointerdown} {onpointermove} {onkeydown}>
                <div class="simulated" style={format!("width:{}%", crate::layout::d3(pct(frontier)))}></div>
                <div class="marks" data-testid="timeline-marks">
                    <Memo view={MemoView::Marks(MarksProps { world: p.common.world.clone(), count: w.marks().len(), span, branch: w.branch_number(), lang: p.common.lang })} />
                </div>
                <div class="playhead" style={format!("left:{}%", crate::layout::d3(pct(p.now)))}></div>
                <div class="ticks">
                    { for (0..=4).map(|i| html! {
                        <span style={format!("left:{}%", i * 25)}>{ clock_text(span / 4 * i) }</span>
                    }) }
                </div>
            </div>
            if !branches.is_empty() {
                <div class="branches" data-testid="branches">
                    <span>{ tr.branches }{ ": " }</span>
                    <span class="branch on">{ format!("#{} ({})", w.branch_number(), tr.this_branch) }</span>
                    { for branches.iter().enumerate().map(|(i, b)| {
                        let onclick = crate::app::send(&on, Msg::SwitchBranch(i));
                        html! {
                            <button class="branch" {onclick} title={format!("{} {}", tr.switch_to, b.number)}>
                                { format!("{} {} ({} {})", tr.branch, b.number, tr.forked_at, clock_text(b.fork_ms)) }
                            </button>
                        }
                    }) }
                </div>
            }
        </div>
    }
}
