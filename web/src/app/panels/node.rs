//! The inspector of a node: its own `RaftPeer`, its view of every peer, its datums and disk, and
//! what can be done to it (crash, restart, time out, isolate, reconnect, publish, delete).

use super::Common;
use crate::app::dom::input_value;
use crate::app::teach_view::explain;
use crate::app::{state_attr, FormEdit, Msg};
use crate::describe::{self, letter, short_key};
use crate::i18n::Texts;
use crate::jsonfmt::pretty;
use crate::layout::class_list;
use crate::teach::Explain;
use nacos_raft_core::sim::Action;
use yew::prelude::*;

#[derive(Clone, PartialEq)]
pub struct NodeProps {
    pub common: Common,
    pub node: usize,
    /// The publish form's service name and IP as typed.
    pub service: String,
    pub ip: String,
}

/// Whether a service name is one Nacos accepts (`[0-9a-zA-Z@.:_-]+`).
pub fn valid_service(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@.:_-".contains(&b))
}

/// Drawn by [`crate::app::memo::Memo`].
pub fn node_inspector(p: &NodeProps) -> Html {
    let (service, ip) = (&p.service, &p.ip);
    let w = p.common.world.0.borrow();
    let s = w.sim();
    let lang = p.common.lang;
    let tr = lang.tr();
    let on = &p.common.on;
    let i = p.node;
    if i >= s.len() {
        return html! {};
    }
    let addr = s.addr(i).to_string();
    let node = s.node(i);
    let state = node.map(|n| n.local().state);
    let act = |a: Action| crate::app::send(on, Msg::Act(a));
    let cut_links: Vec<Action> = (0..s.len())
        .filter(|j| *j != i && (s.net().is_cut(i, *j) || s.net().is_cut(*j, i)))
        .map(|j| Action::Heal {
            from: i,
            to: j,
            both: true,
        })
        .collect();
    let reconnect = { crate::app::send(on, Msg::ActMany(cut_links.clone())) };
    let disk = &s.sim_node(i).disk;
    let header = html! {
        <h2 class="insp-title">
            <span class={class_list(&["badge", &state_attr(state).to_ascii_lowercase()])}>{ letter(i) }</span>
            { format!(" {addr} · {}", describe::state_word(lang, state)) }
        </h2>
    };
    let buttons = html! {
        <div class="actions" data-testid="node-actions">
            if node.is_some() {
                <button class="danger" data-action="crash" onclick={act(Action::Crash { node: i })}>{ tr.crash }</button>
                <button data-action="timeout" onclick={act(Action::Timeout { node: i })}>{ tr.timeout_now }</button>
            } else {
                <button data-action="restart" onclick={act(Action::Restart { node: i })}>{ tr.restart }</button>
            }
            <button data-action="isolate" onclick={act(Action::Isolate { node: i })}>{ tr.isolate }</button>
            <button data-action="reconnect" disabled={cut_links.is_empty()} onclick={reconnect}>{ tr.heal_node }</button>
        </div>
    };
    let disk_line = html! {
        <>
            <p class="small">{ format!("{}: {} = {}, {} {}", tr.disk, tr.disk_term, disk.term, disk.datums.len(), tr.datums) }</p>
            { explain(lang, Explain::DiskTerm) }
        </>
    };
    let Some(n) = node else {
        return html! {
            <div class="inspector" data-testid="node-inspector" data-node-index={i.to_string()}>
                { header }
                <p>{ tr.node_is_down }</p>
                { buttons }
                { disk_line }
            </div>
        };
    };
    let local = n.local();
    let own = pretty(&local.to_json()).unwrap_or_else(|| local.to_json());
    let leader = n.leader().map(describe::name);
    let peers: Html = n
        .peers()
        .map(|r| {
            let idx = describe::index_of(&r.ip);
            html! {
                <tr class={(r.ip == addr).then_some("me")}>
                    <td title={r.ip.clone()}>{ idx.map(letter).unwrap_or_else(|| r.ip.clone()) }</td>
                    <td class={r.state.as_str().to_ascii_lowercase()} title={r.state.as_str()}>{ describe::state_word(lang, Some(r.state)) }</td>
                    <td>{ r.term }</td>
                    <td>{ r.vote().map(describe::name).unwrap_or_default() }</td>
                    <td class="num">{ r.leader_due_ms }</td>
                    <td class="num">{ r.heartbeat_due_ms }</td>
                </tr>
            }
        })
        .collect();
    let datums: Vec<_> = n.datums().collect();
    let shown = datums.len().min(120);
    let rows: Html = datums[..shown]
        .iter()
        .map(|d| {
            let key = d.key.clone();
            let del = on.reform({
                let key = key.clone();
                move |_| {
                    Msg::Act(Action::Remove {
                        node: i,
                        key: key.clone(),
                    })
                }
            });
            let v = d
                .value
                .as_ref()
                .map(|v| v.as_str().to_string())
                .unwrap_or_else(|| "null".into());
            let preview: String = v.chars().take(48).collect();
            html! {
                <tr>
                    <td title={key.clone()}>{ short_key(&key) }</td>
                    <td class="num">{ d.timestamp }</td>
                    <td class="val" title={v.clone()}>{ preview }</td>
                    <td><button class="mini" onclick={del} title={tr.delete} aria-label={tr.delete}><svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><path d={ICON_TRASH} /></svg></button></td>
                </tr>
            }
        })
        .collect();
    let publish = {
        let svc = service.clone();
        let ipv = ip.clone();
        let ok = valid_service(&svc) && !ipv.trim().is_empty();
        let key = nacos_raft_core::key::iplist_key("public", &format!("DEFAULT_GROUP@@{svc}"));
        let value = nacos_raft_core::sim::instance_value(&svc, ipv.trim());
        let onclick = crate::app::send(
            on,
            Msg::Act(Action::Put {
                node: i,
                key,
                value,
            }),
        );
        let on_svc = on.reform(|e: InputEvent| Msg::Form(FormEdit::Service(input_value(&e))));
        let on_ip = on.reform(|e: InputEvent| Msg::Form(FormEdit::Ip(input_value(&e))));
        html! {
            <div class="publish">
                <p class="small">{ tr.publish_hint }</p>
                <label>{ tr.service }{" "}<input value={svc} oninput={on_svc} data-testid="publish-service" /></label>
                <label>{ "IP " }<input value={ipv} oninput={on_ip} data-testid="publish-ip" /></label>
                <button data-action="publish" disabled={!ok} {onclick}>{ tr.publish }</button>
            </div>
        }
    };
    html! {
        <div class="inspector" data-testid="node-inspector" data-node-index={i.to_string()}>
            { header }
            { buttons }
            <p>
                <strong>{ tr.believed_leader }{ ": " }</strong>
                { leader.unwrap_or_else(|| tr.none.to_string()) }
                { format!(" · {}: {}", tr.pending_writes, n.pending_writes()) }
            </p>
            { explain(lang, Explain::OperateLock) }
            if local.term > 100 {
                { explain(lang, Explain::BigTerm) }
            }
            <details open=true>
                <summary>{ tr.own_peer }</summary>
                <pre class="json" data-testid="own-peer">{ own }</pre>
            </details>
            <h3>{ tr.peers_view }</h3>
            <table class="grid">
                <thead><tr>
                    <th>{ tr.peer }</th><th>{ tr.state }</th><th>{ tr.term }</th><th>{ tr.vote_for }</th>
                    <th>{ tr.leader_due }</th><th>{ tr.heartbeat_due }</th>
                </tr></thead>
                <tbody>{ peers }</tbody>
            </table>
            <h3>{ format!("{} ({})", tr.datums, datums.len()) }</h3>
            if datums.is_empty() {
                <p class="small">{ tr.no_datums }</p>
            } else {
                <table class="grid" data-testid="datum-table">
                    <thead><tr><th>{ tr.key }</th><th>{ tr.timestamp }</th><th>{ tr.value }</th><th></th></tr></thead>
                    <tbody>{ rows }</tbody>
                </table>
                if datums.len() > shown { <p class="small">{ format!("… +{}", datums.len() - shown) }</p> }
            }
            { publish }
            { disk_line }
        </div>
    }
}

/// A bin (drawn: an emoji needs a font that may be missing).
const ICON_TRASH: &str = "M6 1h4v1h4v2H2V2h4z M3 5h10l-1 10H4z";
