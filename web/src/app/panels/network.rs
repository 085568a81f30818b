//! The Network tab: loss, latency, a partition built by dragging node chips between groups, preset
//! splits, and the list of cut directions.

use super::Common;
use crate::app::dom::input_value;
use crate::app::{state_attr, FormEdit, Msg};
use crate::describe::{self, letter};
use crate::i18n::Texts;
use crate::layout::class_list;
use nacos_raft_core::sim::Action;
use yew::prelude::*;

#[derive(Clone, PartialEq)]
pub struct NetProps {
    pub common: Common,
    pub draft: Vec<u8>,
    /// The loss field as typed (`None`: the network's loss).
    pub loss: Option<String>,
    /// The latency fields as typed (`None`: the network's).
    pub lat: (Option<String>, Option<String>),
}

const GROUPS: u8 = 3;

/// Drawn by [`crate::app::memo::Memo`].
pub fn network(p: &NetProps) -> Html {
    let w = p.common.world.0.borrow();
    let s = w.sim();
    let tr = p.common.lang.tr();
    let on = &p.common.on;
    let n = s.len();
    let loss = p
        .loss
        .clone()
        .unwrap_or_else(|| describe::pct(s.net().loss_ppm));
    let lat = (
        p.lat
            .0
            .clone()
            .unwrap_or_else(|| s.net().latency_ms.0.to_string()),
        p.lat
            .1
            .clone()
            .unwrap_or_else(|| s.net().latency_ms.1.to_string()),
    );
    let draft: Vec<u8> = if p.draft.len() == n {
        p.draft.clone()
    } else {
        vec![0; n]
    };
    let loss_apply = {
        let loss = loss.clone();
        on.reform(move |_| {
            let pct = crate::layout::decimal(loss.trim()).unwrap_or(0.0);
            Msg::Act(Action::SetLoss {
                ppm: (pct.clamp(0.0, 100.0) * 10_000.0).round() as u32,
            })
        })
    };
    let lat_apply = {
        let lat = lat.clone();
        on.reform(move |_| {
            let a: u64 = lat.0.trim().parse().unwrap_or(1);
            let b: u64 = lat.1.trim().parse().unwrap_or(a);
            Msg::Act(Action::SetLatency {
                min: a.min(b),
                max: a.max(b).min(60_000),
            })
        })
    };
    let set_loss = on.reform(|e: InputEvent| Msg::Form(FormEdit::Loss(input_value(&e))));
    let set_lat = |which: usize| {
        on.reform(move |e: InputEvent| {
            let v = input_value(&e);
            Msg::Form(if which == 0 {
                FormEdit::LatMin(v)
            } else {
                FormEdit::LatMax(v)
            })
        })
    };
    let lanes: Html = (0..GROUPS)
        .map(|g| {
            let ondragover = Callback::from(|e: DragEvent| e.prevent_default());
            let ondrop = {
                let draft = draft.clone();
                on.reform(move |e: DragEvent| {
                    e.prevent_default();
                    let i: Option<usize> = e
                        .data_transfer()
                        .and_then(|d| d.get_data("text/plain").ok())
                        .and_then(|v| v.parse().ok());
                    let mut d = draft.clone();
                    if let Some(i) = i {
                        if i < d.len() {
                            d[i] = g;
                        }
                    }
                    Msg::SetDraft(d)
                })
            };
            let chips: Html = (0..n)
                .filter(|i| draft[*i] == g)
                .map(|i| {
                    let ondragstart = Callback::from(move |e: DragEvent| {
                        if let Some(d) = e.data_transfer() {
                            let _ = d.set_data("text/plain", &i.to_string());
                        }
                    });
                    let onclick = {
                        let draft = draft.clone();
                        on.reform(move |_| {
                            let mut d = draft.clone();
                            d[i] = (d[i] + 1) % GROUPS;
                            Msg::SetDraft(d)
                        })
                    };
                    let st = state_attr(s.state(i)).to_ascii_lowercase();
                    html! {
                        <button class={class_list(&["chip", "node-chip", &st])} draggable="true" {ondragstart} {onclick}
                            data-chip={i.to_string()} title={s.addr(i).to_string()}>{ letter(i) }</button>
                    }
                })
                .collect();
            html! {
                <div class={class_list(&["lane", &format!("g{g}")])} data-group={g.to_string()} {ondragover} {ondrop}>
                    <span class="lane-title">{ format!("{} {}", tr.group, g + 1) }</span>
                    { chips }
                </div>
            }
        })
        .collect();
    let apply_partition = crate::app::send(
        on,
        Msg::Act(Action::Partition {
            groups: draft.clone(),
        }),
    );
    let leader = s.cluster_leader();
    let presets = {
        let iso = leader.map(|l| Action::Isolate { node: l });
        let minority = leader.map(|l| {
            let buddy = (0..n).find(|i| *i != l).unwrap_or(0);
            Action::Partition {
                groups: (0..n).map(|i| u8::from(i != l && i != buddy)).collect(),
            }
        });
        let three = Action::Partition {
            groups: (0..n).map(|i| (i % 3) as u8).collect(),
        };
        html! {
            <div class="actions">
                if let Some(a) = iso { <button onclick={crate::app::send(on, Msg::Act(a))}>{ tr.split_isolate_leader }</button> }
                if let Some(a) = minority { <button onclick={crate::app::send(on, Msg::Act(a))}>{ tr.split_minority }</button> }
                <button onclick={crate::app::send(on, Msg::Act(three))}>{ tr.split_three }</button>
                <button data-action="heal-all" onclick={crate::app::send(on, Msg::Act(Action::HealAll))}>{ tr.heal_all }</button>
            </div>
        }
    };
    let cuts = s.net().cuts();
    html! {
        <div class="network" data-testid="network">
            <h3>{ tr.loss }</h3>
            <div class="row">
                <input type="number" min="0" max="100" step="0.5" value={loss} oninput={set_loss} data-testid="loss" aria-label={tr.loss} />{ " % " }
                <button onclick={loss_apply} data-action="set-loss">{ tr.apply }</button>
                <span class="small">{ format!("{}: {}%", tr.loss, describe::pct(s.net().loss_ppm)) }</span>
            </div>
            <h3>{ tr.latency }</h3>
            <div class="row">
                <input type="number" min="0" max="60000" value={lat.0.clone()} oninput={set_lat(0)} data-testid="lat-min" aria-label="min" />{ " – " }
                <input type="number" min="0" max="60000" value={lat.1.clone()} oninput={set_lat(1)} data-testid="lat-max" aria-label="max" />{ " ms " }
                <button onclick={lat_apply} data-action="set-latency">{ tr.apply }</button>
                <span class="small">{ format!("{}–{} ms", s.net().latency_ms.0, s.net().latency_ms.1) }</span>
            </div>
            <h3>{ tr.partition }</h3>
            <p class="small">{ tr.partition_hint }</p>
            <div class="lanes">{ lanes }</div>
            <div class="actions"><button class="danger" onclick={apply_partition} data-action="apply-partition">{ tr.apply_partition }</button></div>
            <p class="small">{ tr.draw_cut_hint }</p>
            <h3>{ tr.preset_splits }</h3>
            { presets }
            if !cuts.is_empty() {
                <p class="small" data-testid="cuts">
                    { cuts.iter().map(|(a, b)| format!("{}→{}", letter(*a), letter(*b))).collect::<Vec<_>>().join(" · ") }
                </p>
            }
        </div>
    }
}
