//! The inspector of a message: kind, ends, times, fate, endpoint, status, what its receiver will
//! decide on arrival, and its payload exactly as a Java node puts it on the wire.

use super::{kv_row, node_button, Common};
use crate::app::ring::msg_shape;
use crate::app::teach_view::linked;
use crate::app::{Msg, Selection};
use crate::describe;
use crate::i18n::Texts;
use crate::jsonfmt::pretty;
use crate::layout::clock_text;
use nacos_raft_core::sim::{Action, Fate, Payload};
use yew::prelude::*;

pub struct MsgProps {
    pub common: Common,
    pub id: u64,
}

/// Rendered inside the inspector's [`super::inspector::Selected`] component.
pub fn msg_inspector(p: &MsgProps) -> Html {
    let w = p.common.world.0.borrow();
    let s = w.sim();
    let lang = p.common.lang;
    let tr = lang.tr();
    let on = &p.common.on;
    let now = s.now();
    let Some(m) = s.messages().get(p.id as usize).filter(|m| m.id == p.id) else {
        return html! { <p class="hint">{ format!("#{} —", p.id) }</p> };
    };
    let revealed = m.fate == Fate::Delivered || m.arrive_ms <= now;
    let fate = if revealed {
        describe::fate_word(lang, m.fate)
    } else {
        describe::fate_word(lang, Fate::InFlight)
    };
    let (method, path, body) = match &m.payload {
        Some(Payload::Request(r)) => {
            let (me, pa) = r.endpoint();
            (
                me,
                pa,
                Some(
                    m.payload
                        .as_ref()
                        .map(|p| p.wire_json())
                        .unwrap_or_default(),
                ),
            )
        }
        Some(Payload::Reply(_)) => {
            let req = m
                .reply_to
                .and_then(|r| s.messages().get(r as usize))
                .and_then(|r| match &r.payload {
                    Some(Payload::Request(q)) => Some(q.endpoint()),
                    _ => None,
                })
                .unwrap_or(("", ""));
            (req.0, req.1, m.payload.as_ref().map(|p| p.wire_json()))
        }
        None => ("", "", None),
    };
    let can_drop = m.fate == Fate::InFlight && m.arrive_ms > now;
    // What the receiver will do (or did): its events at the arrival, from the core itself.
    let arrival: Option<Vec<String>> = (!m.fate.is_failure()).then(|| {
        w.on_arrival(m.id)
            .iter()
            .map(|e| describe::happening(lang, e.node, &e.what, s.config().timings.term_step))
            .collect()
    });
    let id = m.id;
    let drop = crate::app::send(on, Msg::Act(Action::Drop { msg: id }));
    let body = body.unwrap_or_default();
    let pretty_body = pretty(&body);
    let reply_to = m.reply_to.map(|r| {
        let onclick = crate::app::send(on, Msg::Select(Selection::Msg(r)));
        html! { <p>{ tr.answers }{ " " }<button class="chip" {onclick}>{ format!("#{r}") }</button></p> }
    });
    html! {
        <div class="inspector" data-testid="msg-inspector" data-msg-kind={m.kind.as_str()}>
            <h2 class="insp-title">
                <svg class="legend-shape" viewBox="-14 -14 28 28" width="28" height="28">{ msg_shape(m.kind, 9.0, m.granted, m.status) }</svg>
                { " " }{ linked(describe::kind_name(lang, m.kind)) }{ format!(" #{}", m.id) }
            </h2>
            <table class="kv">
                { kv_row(tr.kind, html! { <code>{ m.kind.as_str() }</code> }) }
                { kv_row(tr.from, html! { <>{ node_button(on, m.from) }{ format!(" {}", s.addr(m.from)) }</> }) }
                { kv_row(tr.to, html! { <>{ node_button(on, m.to) }{ format!(" {}", s.addr(m.to)) }</> }) }
                { kv_row(tr.sent, html! { <>{ clock_text(m.sent_ms) }{ format!(" ({} ms)", m.sent_ms) }</> }) }
                { kv_row(tr.arrives, html! { { if revealed || m.fate == Fate::InFlight { format!("{} ({} ms)", clock_text(m.arrive_ms), m.arrive_ms) } else { "…".into() } } }) }
                <tr><th>{ tr.fate }</th><td data-testid="msg-fate">{ fate }</td></tr>
                if !path.is_empty() {
                    { kv_row(tr.endpoint, html! { <code>{ format!("{method} /nacos{path}") }</code> }) }
                }
                if m.kind.is_reply() {
                    { kv_row(tr.status, html! { { m.status } }) }
                }
                if let Some(g) = m.granted {
                    <tr><th>{ tr.vote }</th><td class={if g { "good" } else { "bad" }}>{ if g { tr.granted } else { tr.refused } }</td></tr>
                }
            </table>
            { reply_to }
            if let Some(lines) = arrival {
                <h3>{ tr.on_arrival }</h3>
                <ul class="arrival" data-testid="on-arrival">
                    if lines.is_empty() { <li class="small">{ tr.on_arrival_nothing }</li> }
                    { for lines.iter().map(|l| html! { <li>{ l }</li> }) }
                </ul>
            }
            <h3>{ tr.payload }</h3>
            <pre class="json wire" data-testid="payload">{ if body.is_empty() { tr.no_body.to_string() } else { body.clone() } }</pre>
            if let Some(pb) = pretty_body {
                <details><summary>{ "JSON" }</summary><pre class="json">{ pb }</pre></details>
            }
            <div class="actions">
                <button class="danger" data-action="drop" disabled={!can_drop} onclick={drop}>{ tr.drop }</button>
            </div>
        </div>
    }
}
