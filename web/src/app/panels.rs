//! The side panels: inspector (node, message, link), event log, datum matrix, network, scenarios,
//! the safety monitor and the help. They re-render only when the app bumps `rev` (at most five
//! times a second while playing), and they act only by sending [`Msg`]s.

use super::ring::msg_shape;
use super::{state_attr, Filter, Msg, PresetInfo, Selection, WorldRef};
use crate::describe::{self, letter, letters_for_addresses, short_key, Topic};
use crate::i18n::Lang;
use crate::layout::clock_text;
use nacos_raft_core::sim::{Action, Fate, Payload};
use nacos_raft_core::MsgKind;
use nacos_raft_core::PeerState;
use std::rc::Rc;
use yew::prelude::*;

/// What every panel gets.
#[derive(Clone, PartialEq)]
pub struct Common {
    pub world: WorldRef,
    pub rev: u64,
    pub lang: Lang,
    pub on: Callback<Msg>,
}

use crate::jsonfmt::{pretty, quote};

fn node_button(on: &Callback<Msg>, i: usize) -> Html {
    let onclick = on.reform(move |_| Msg::Select(Selection::Node(i)));
    html! { <button class="chip" {onclick}>{ letter(i) }</button> }
}

// ---- inspector ------------------------------------------------------------------------------

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

#[derive(Properties, PartialEq)]
struct NodeProps {
    common: Common,
    node: usize,
}

/// A persistent instance list with one instance, as Nacos stores it.
pub fn instance_value(service: &str, ip: &str) -> String {
    format!(
        r#"{{"instanceList":[{{"instanceId":{},"ip":{},"port":8080,"weight":1.0,"healthy":true,"enabled":true,"ephemeral":false,"clusterName":"DEFAULT","serviceName":{},"metadata":{{}}}}]}}"#,
        quote(&format!("{ip}#8080#DEFAULT#DEFAULT_GROUP@@{service}")),
        quote(ip),
        quote(&format!("DEFAULT_GROUP@@{service}"))
    )
}

/// Whether a service name is one Nacos accepts (`[0-9a-zA-Z@.:_-]+`).
pub fn valid_service(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@.:_-".contains(&b))
}

#[function_component(NodeInspector)]
fn node_inspector(p: &NodeProps) -> Html {
    let service = use_state(|| "demo-service".to_string());
    let ip = use_state(|| "127.0.0.7".to_string());
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
    let act = |a: Action| on.reform(move |_| Msg::Act(a.clone()));
    let cut_links: Vec<Action> = (0..s.len())
        .filter(|j| *j != i && (s.net().is_cut(i, *j) || s.net().is_cut(*j, i)))
        .map(|j| Action::Heal {
            from: i,
            to: j,
            both: true,
        })
        .collect();
    let reconnect = {
        let list = cut_links.clone();
        on.reform(move |_| Msg::ActMany(list.clone()))
    };
    let disk = &s.sim_node(i).disk;
    let header = html! {
        <h2 class="insp-title">
            <span class={classes!("badge", state_attr(state).to_ascii_lowercase())}>{ letter(i) }</span>
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
        <p class="small">{ format!("{}: {} = {}, {} {}", tr.disk, tr.disk_term, disk.term, disk.datums.len(), tr.datums) }</p>
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
                <tr class={classes!((r.ip == addr).then_some("me"))}>
                    <td title={r.ip.clone()}>{ idx.map(letter).unwrap_or_else(|| r.ip.clone()) }</td>
                    <td class={r.state.as_str().to_ascii_lowercase()}>{ r.state.as_str() }</td>
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
                    <td><button class="mini" onclick={del} title={tr.delete}>{ "🗑" }</button></td>
                </tr>
            }
        })
        .collect();
    let publish = {
        let svc = (*service).clone();
        let ipv = (*ip).clone();
        let ok = valid_service(&svc) && !ipv.trim().is_empty();
        let key = nacos_raft_core::key::iplist_key("public", &format!("DEFAULT_GROUP@@{svc}"));
        let value = instance_value(&svc, ipv.trim());
        let onclick = on.reform(move |_| {
            Msg::Act(Action::Put {
                node: i,
                key: key.clone(),
                value: value.clone(),
            })
        });
        let on_svc = {
            let service = service.clone();
            Callback::from(move |e: InputEvent| {
                let el: web_sys::HtmlInputElement = e.target_unchecked_into();
                service.set(el.value());
            })
        };
        let on_ip = {
            let ip = ip.clone();
            Callback::from(move |e: InputEvent| {
                let el: web_sys::HtmlInputElement = e.target_unchecked_into();
                ip.set(el.value());
            })
        };
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
            <details open=true>
                <summary>{ tr.own_peer }</summary>
                <pre class="json" data-testid="own-peer">{ own }</pre>
            </details>
            <h3>{ tr.peers_view }</h3>
            <table class="grid">
                <thead><tr>
                    <th>{ tr.peer }</th><th>{ "state" }</th><th>{ "term" }</th><th>{ tr.vote_for }</th>
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

#[derive(Properties, PartialEq)]
struct MsgProps {
    common: Common,
    id: u64,
}

#[function_component(MsgInspector)]
fn msg_inspector(p: &MsgProps) -> Html {
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
    let arrival: Option<Vec<String>> = (!describe::is_failure(m.fate)).then(|| {
        w.on_arrival(m.id)
            .iter()
            .map(|e| describe::happening(lang, e.node, &e.what, s.len()))
            .collect()
    });
    let id = m.id;
    let drop = on.reform(move |_| Msg::Act(Action::Drop { msg: id }));
    let body = body.unwrap_or_default();
    let pretty_body = pretty(&body);
    let reply_to = m.reply_to.map(|r| {
        let onclick = on.reform(move |_| Msg::Select(Selection::Msg(r)));
        html! { <p>{ tr.answers }{ " " }<button class="chip" {onclick}>{ format!("#{r}") }</button></p> }
    });
    html! {
        <div class="inspector" data-testid="msg-inspector" data-msg-kind={m.kind.as_str()}>
            <h2 class="insp-title">
                <svg class="legend-shape" viewBox="-14 -14 28 28" width="28" height="28">{ msg_shape(m.kind, 9.0, m.granted, m.status) }</svg>
                { format!(" {} #{}", describe::kind_name(lang, m.kind), m.id) }
            </h2>
            <table class="kv">
                <tr><th>{ tr.kind }</th><td><code>{ m.kind.as_str() }</code></td></tr>
                <tr><th>{ tr.from }</th><td>{ node_button(on, m.from) }{ format!(" {}", s.addr(m.from)) }</td></tr>
                <tr><th>{ tr.to }</th><td>{ node_button(on, m.to) }{ format!(" {}", s.addr(m.to)) }</td></tr>
                <tr><th>{ tr.sent }</th><td>{ clock_text(m.sent_ms) }{ format!(" ({} ms)", m.sent_ms) }</td></tr>
                <tr><th>{ tr.arrives }</th><td>{ if revealed || m.fate == Fate::InFlight { format!("{} ({} ms)", clock_text(m.arrive_ms), m.arrive_ms) } else { "…".into() } }</td></tr>
                <tr><th>{ tr.fate }</th><td data-testid="msg-fate">{ fate }</td></tr>
                if !path.is_empty() {
                    <tr><th>{ tr.endpoint }</th><td><code>{ format!("{method} /nacos{path}") }</code></td></tr>
                }
                if m.kind.is_reply() {
                    <tr><th>{ tr.status }</th><td>{ m.status }</td></tr>
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

#[derive(Properties, PartialEq)]
struct LinkProps {
    common: Common,
    a: usize,
    b: usize,
}

#[function_component(LinkInspector)]
fn link_inspector(p: &LinkProps) -> Html {
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
                        <button onclick={on.reform(move |_| Msg::Act(Action::Heal { from: x, to: y, both: false }))}>{ tr.heal }</button>
                    } else {
                        <button data-action={format!("cut-{x}-{y}")} onclick={on.reform(move |_| Msg::Act(Action::Cut { from: x, to: y, both: false }))}>{ tr.cut_one_way }</button>
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
                <button class="danger" data-action="cut-both" onclick={on.reform(move |_| Msg::Act(Action::Cut { from: a, to: b, both: true }))}>{ tr.cut_both }</button>
                <button data-action="heal-both" onclick={on.reform(move |_| Msg::Act(Action::Heal { from: a, to: b, both: true }))}>{ tr.heal }</button>
            </div>
        </div>
    }
}

// ---- event log ------------------------------------------------------------------------------

#[derive(Properties, PartialEq)]
pub struct LogProps {
    pub common: Common,
    pub filter: Filter,
}

/// Most events the log shows (the newest first).
const LOG_ROWS: usize = 200;

#[function_component(EventLog)]
pub fn event_log(p: &LogProps) -> Html {
    let w = p.common.world.0.borrow();
    let s = w.sim();
    let lang = p.common.lang;
    let tr = lang.tr();
    let on = &p.common.on;
    let keep = |t: Topic| match p.filter {
        Filter::All => true,
        Filter::Election => t == Topic::Election,
        Filter::Data => t == Topic::Data,
        Filter::Faults => t == Topic::Fault,
    };
    // Protocol events, plus the actions that concern no single node (the simulator logs the
    // others as events of their node), newest first; only the kept ones are put into words.
    let actions: Vec<_> = s
        .actions()
        .iter()
        .filter(|a| a.action.node().is_none())
        .collect();
    let mut ai = actions.len();
    let mut kept: Vec<(u64, String, describe::Tone, String)> = Vec::new();
    let push_action = |a: &nacos_raft_core::sim::TimedAction, kept: &mut Vec<_>| {
        if keep(Topic::Fault) {
            kept.push((
                a.at_ms,
                "·".to_string(),
                describe::Tone::Info,
                describe::action(lang, &a.action, s.len()),
            ));
        }
    };
    for e in s.events().iter().rev() {
        if kept.len() >= LOG_ROWS {
            break;
        }
        while ai > 0 && actions[ai - 1].at_ms > e.at_ms {
            ai -= 1;
            push_action(actions[ai], &mut kept);
        }
        let (topic, tone) = describe::classify(&e.what);
        if keep(topic) {
            kept.push((
                e.at_ms,
                letter(e.node),
                tone,
                describe::happening(lang, e.node, &e.what, s.len()),
            ));
        }
    }
    while ai > 0 && kept.len() < LOG_ROWS {
        ai -= 1;
        push_action(actions[ai], &mut kept);
    }
    let rows: Html = kept
        .into_iter()
        .take(LOG_ROWS)
        .map(|(at, who, tone, text)| {
            let onclick = on.reform(move |_| Msg::Seek(at));
            let tone = match tone {
                describe::Tone::Info => "info",
                describe::Tone::Good => "good",
                describe::Tone::Bad => "bad",
            };
            html! {
                <li class={tone} data-at-ms={at.to_string()} {onclick}>
                    <span class="t">{ clock_text(at) }</span>
                    <span class="who">{ who }</span>
                    <span class="what">{ text }</span>
                </li>
            }
        })
        .collect();
    let onchange = on.reform(|e: Event| {
        let el: web_sys::HtmlSelectElement = e.target_unchecked_into();
        Msg::SetFilter(match el.value().as_str() {
            "election" => Filter::Election,
            "data" => Filter::Data,
            "faults" => Filter::Faults,
            _ => Filter::All,
        })
    });
    html! {
        <div class="log-panel">
            <div class="row">
                <label>{ tr.filter }{ " " }
                    <select {onchange} data-testid="log-filter">
                        <option value="all" selected={p.filter == Filter::All}>{ tr.filter_all }</option>
                        <option value="election" selected={p.filter == Filter::Election}>{ tr.filter_election }</option>
                        <option value="data" selected={p.filter == Filter::Data}>{ tr.filter_data }</option>
                        <option value="faults" selected={p.filter == Filter::Faults}>{ tr.filter_faults }</option>
                    </select>
                </label>
                <span class="small">{ tr.events_hint }</span>
            </div>
            <ol class="log" data-testid="event-log" aria-live="off">{ rows }</ol>
        </div>
    }
}

// ---- datum matrix ---------------------------------------------------------------------------

#[derive(Properties, PartialEq)]
pub struct DataProps {
    pub common: Common,
}

#[function_component(DataView)]
pub fn data_view(p: &DataProps) -> Html {
    let w = p.common.world.0.borrow();
    let s = w.sim();
    let tr = p.common.lang.tr();
    let n = s.len();
    let leader = s.cluster_leader();
    let mut keys: Vec<&str> = Vec::new();
    for i in 0..n {
        if let Some(node) = s.node(i) {
            keys.extend(node.datums().map(|d| d.key.as_str()));
        }
    }
    keys.sort_unstable();
    keys.dedup();
    let reference = leader.and_then(|l| s.node(l));
    // (key, cells, differs)
    type Row<'a> = (&'a str, Vec<(String, &'static str)>, bool);
    let mut rows: Vec<Row> = keys
        .iter()
        .map(|k| {
            let want = reference.and_then(|r| r.datum(k)).map(|d| d.timestamp);
            let mut differs = false;
            let cells = (0..n)
                .map(|i| match s.node(i) {
                    None => ("·".to_string(), "down"),
                    Some(node) => match (node.datum(k).map(|d| d.timestamp), want, reference) {
                        (Some(ts), Some(w), _) if ts == w => (ts.to_string(), "same"),
                        (Some(ts), Some(_), _) => {
                            differs = true;
                            (ts.to_string(), "older")
                        }
                        (Some(ts), None, Some(_)) => {
                            differs = true;
                            (ts.to_string(), "extra")
                        }
                        (Some(ts), None, None) => (ts.to_string(), "plain"),
                        (None, _, Some(_)) => {
                            differs = true;
                            ("—".to_string(), "missing")
                        }
                        (None, _, None) => ("—".to_string(), "plain"),
                    },
                })
                .collect();
            (*k, cells, differs)
        })
        .collect();
    rows.sort_by_key(|r| !r.2);
    let limit = 60;
    let same_hidden = rows.iter().skip(limit).filter(|r| !r.2).count();
    let behind: Vec<(usize, usize)> = leader.map(|l| s.nodes_behind(l)).unwrap_or_default();
    let head: Html = (0..n)
        .map(|i| {
            let d = behind.iter().find(|b| b.0 == i).map(|b| b.1).unwrap_or(0);
            html! {
                <th class={classes!((Some(i) == leader).then_some("leader"))} data-behind={d.to_string()}
                    title={s.addr(i).to_string()}>
                    { letter(i) }
                    if d > 0 { <span class="behind-count">{ format!(" −{d}") }</span> }
                </th>
            }
        })
        .collect();
    let body: Html = rows
        .iter()
        .take(limit.max(rows.iter().filter(|r| r.2).count()))
        .map(|(k, cells, differs)| {
            html! {
                <tr class={classes!(differs.then_some("differs"))}>
                    <td class="key" title={k.to_string()}>{ short_key(k) }</td>
                    { for cells.iter().map(|(t, c)| html! { <td class={classes!("cell", *c)}>{ t }</td> }) }
                </tr>
            }
        })
        .collect();
    html! {
        <div class="data-view" data-testid="data-view" data-keys={keys.len().to_string()}>
            <h3>{ tr.data_view }</h3>
            if leader.is_none() { <p class="small">{ tr.no_leader }</p> }
            <p class="legend small">
                <span class="cell same">{ "1" }</span>{ format!(" {} ", tr.up_to_date) }
                <span class="cell older">{ "1" }</span>{ format!(" {} ", tr.behind) }
                <span class="cell missing">{ "—" }</span>{ format!(" {} ", tr.missing) }
                <span class="cell extra">{ "1" }</span>{ format!(" {} ", tr.extra) }
                <span class="cell down">{ "·" }</span>{ format!(" {}", tr.state_down) }
            </p>
            if keys.is_empty() {
                <p class="small">{ tr.no_datums }</p>
            } else {
                <div class="scroll">
                    <table class="grid matrix">
                        <thead><tr><th>{ tr.key }</th>{ head }</tr></thead>
                        <tbody>{ body }</tbody>
                    </table>
                </div>
                if same_hidden > 0 { <p class="small">{ format!("+{same_hidden} {}", tr.more_rows) }</p> }
            }
        </div>
    }
}

// ---- network --------------------------------------------------------------------------------

#[derive(Properties, PartialEq)]
pub struct NetProps {
    pub common: Common,
    pub draft: Vec<u8>,
}

const GROUPS: u8 = 3;

#[function_component(Network)]
pub fn network(p: &NetProps) -> Html {
    let w = p.common.world.0.borrow();
    let s = w.sim();
    let tr = p.common.lang.tr();
    let on = &p.common.on;
    let n = s.len();
    let loss = use_state(|| describe::pct(s.net().loss_ppm));
    let lat = use_state(|| {
        (
            s.net().latency_ms.0.to_string(),
            s.net().latency_ms.1.to_string(),
        )
    });
    let draft: Vec<u8> = if p.draft.len() == n {
        p.draft.clone()
    } else {
        vec![0; n]
    };
    let loss_apply = {
        let loss = loss.clone();
        on.reform(move |_| {
            let pct: f64 = loss.trim().parse().unwrap_or(0.0);
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
    let set_loss = {
        let loss = loss.clone();
        Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            loss.set(el.value());
        })
    };
    let set_lat = |which: usize| {
        let lat = lat.clone();
        Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            let mut v = (*lat).clone();
            if which == 0 {
                v.0 = el.value();
            } else {
                v.1 = el.value();
            }
            lat.set(v);
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
                        <button class={classes!("chip", "node-chip", st)} draggable="true" {ondragstart} {onclick}
                            data-chip={i.to_string()} title={s.addr(i).to_string()}>{ letter(i) }</button>
                    }
                })
                .collect();
            html! {
                <div class={classes!("lane", format!("g{g}"))} data-group={g.to_string()} {ondragover} {ondrop}>
                    <span class="lane-title">{ format!("{} {}", tr.group, g + 1) }</span>
                    { chips }
                </div>
            }
        })
        .collect();
    let apply_partition = {
        let d = draft.clone();
        on.reform(move |_| Msg::Act(Action::Partition { groups: d.clone() }))
    };
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
                if let Some(a) = iso { <button onclick={on.reform(move |_| Msg::Act(a.clone()))}>{ tr.split_isolate_leader }</button> }
                if let Some(a) = minority { <button onclick={on.reform(move |_| Msg::Act(a.clone()))}>{ tr.split_minority }</button> }
                <button onclick={on.reform(move |_| Msg::Act(three.clone()))}>{ tr.split_three }</button>
                <button data-action="heal-all" onclick={on.reform(|_| Msg::Act(Action::HealAll))}>{ tr.heal_all }</button>
            </div>
        }
    };
    let cuts = s.net().cuts();
    html! {
        <div class="network" data-testid="network">
            <h3>{ tr.loss }</h3>
            <div class="row">
                <input type="number" min="0" max="100" step="0.5" value={(*loss).clone()} oninput={set_loss} data-testid="loss" aria-label={tr.loss} />{ " % " }
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

// ---- scenarios ------------------------------------------------------------------------------

#[derive(Properties, PartialEq)]
pub struct ScenarioProps {
    pub common: Common,
    pub presets: Option<Rc<Vec<PresetInfo>>>,
    pub current: Option<&'static str>,
}

#[function_component(Scenarios)]
pub fn scenarios(p: &ScenarioProps) -> Html {
    let lang = p.common.lang;
    let tr = lang.tr();
    let on = &p.common.on;
    let Some(list) = &p.presets else {
        return html! { <p class="hint">{ "…" }</p> };
    };
    html! {
        <div class="scenarios" data-testid="scenarios">
            <p class="small">{ tr.scenario_hint }</p>
            <ul>
                { for list.iter().map(|s| {
                    let id = s.id;
                    let (title, caption) = describe::scenario_text(lang, s.id, s.title, s.caption);
                    let onclick = on.reform(move |_| Msg::LoadScenario(id));
                    html! {
                        <li class={classes!((p.current == Some(id)).then_some("on"))} data-scenario={id}>
                            <button {onclick} data-action={format!("load-{id}")}>{ tr.load }</button>
                            <strong>{ title }</strong>
                            <p class="small">{ caption }</p>
                        </li>
                    }
                }) }
            </ul>
        </div>
    }
}

// ---- space-time diagram --------------------------------------------------------------------

#[derive(Properties, PartialEq)]
pub struct LanesProps {
    pub common: Common,
    pub sel: Selection,
}

/// Messages the space-time diagram shows.
const LANE_MSGS: usize = 48;

#[function_component(Lanes)]
pub fn lanes_view(p: &LanesProps) -> Html {
    let w = p.common.world.0.borrow();
    let s = w.sim();
    let tr = p.common.lang.tr();
    let on = p.common.on.clone();
    let (times, lanes) = crate::layout::lanes(s, LANE_MSGS);
    let n = s.len();
    let (left, width, top, row_h) = (64.0, 420.0, 28.0, 15.0);
    let col = |i: usize| left + 10.0 + (width - left - 20.0) * (i as f64) / ((n.max(2) - 1) as f64);
    let y = |r: usize| top + 8.0 + r as f64 * row_h;
    let height = y(times.len().max(1)) + 10.0;
    let onclick =
        Callback::from(move |e: MouseEvent| on.emit(Msg::Select(super::ring::click_target(&e))));
    let f = crate::layout::d1;
    html! {
        <div class="lanes-view">
            <p class="small">{ tr.lanes_hint }</p>
            <svg class="spacetime" data-testid="spacetime" viewBox={format!("0 0 {} {}", width as u32, height.ceil() as u32)} {onclick}>
                { for (0..n).map(|i| html! {
                    <g>
                        <line class="lane-line" x1={f(col(i))} x2={f(col(i))} y1={f(top)} y2={f(height - 4.0)} />
                        <text class="lane-name" x={f(col(i))} y="16">{ letter(i) }</text>
                    </g>
                }) }
                { for times.iter().enumerate().filter(|(r, _)| r % 2 == 0 || times.len() < 30).map(|(r, t)| html! {
                    <text class="lane-time" x={f(left - 4.0)} y={f(y(r) + 3.0)}>{ clock_text(*t) }</text>
                }) }
                { for lanes.iter().map(|l| {
                    let (x1, y1, x2, y2) = (col(l.from), y(l.sent_row), col(l.to), y(l.end_row));
                    let sel = p.sel == Selection::Msg(l.id);
                    html! {
                        <g class={classes!("st-msg", super::ring::kind_class(l.kind), l.kind.is_reply().then_some("reply"),
                                l.flying.then_some("flying"), l.failed.is_some().then_some("failed"),
                                (l.granted == Some(false)).then_some("refused"), sel.then_some("selected"))}
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
        </div>
    }
}

// ---- safety monitor -------------------------------------------------------------------------

#[derive(Properties, PartialEq)]
pub struct SafetyProps {
    pub common: Common,
    pub pause_on_violation: bool,
}

#[function_component(Safety)]
pub fn safety(p: &SafetyProps) -> Html {
    let w = p.common.world.0.borrow();
    let s = w.sim();
    let lang = p.common.lang;
    let tr = lang.tr();
    let on = &p.common.on;
    let v = s.violations();
    let st = s.stats();
    let stats = format!(
        "{} {} · {} {} · {} {}, {} {}",
        tr.stats_first_leader,
        s.first_leader_ms()
            .map(clock_text)
            .unwrap_or_else(|| "—".into()),
        st.leader_changes,
        tr.stats_leader_changes,
        st.messages_sent,
        tr.stats_messages,
        st.messages_dropped,
        tr.stats_lost
    );
    html! {
        <section class={classes!("safety", (!v.is_empty()).then_some("alarm"))} data-testid="violations"
            data-count={v.len().to_string()} aria-live="polite">
            <div class="row">
                <strong>{ format!("{}: {}", tr.violations, v.len()) }</strong>
                <label class="check">
                    <input type="checkbox" checked={p.pause_on_violation} onchange={on.reform(|_| Msg::TogglePauseOnViolation)} />
                    { tr.pause_on_violation }
                </label>
            </div>
            <p class="small stats" data-testid="stats">{ stats }</p>
            if v.is_empty() {
                <p class="small">{ tr.no_violations }</p>
            } else {
                <ol class="violations">
                    { for v.iter().rev().take(30).map(|x| {
                        let at = x.at_ms;
                        let onclick = on.reform(move |_| Msg::Seek(at));
                        html! {
                            <li data-kind={x.kind.as_str()} data-at-ms={at.to_string()} {onclick}>
                                <span class="t">{ clock_text(at) }</span>
                                <strong>{ describe::violation_title(lang, x.kind) }</strong>
                                { ": " }{ letters_for_addresses(&x.detail, s.len()) }
                            </li>
                        }
                    }) }
                </ol>
            }
        </section>
    }
}

// ---- help -----------------------------------------------------------------------------------

#[derive(Properties, PartialEq)]
pub struct HelpProps {
    pub lang: Lang,
    pub on: Callback<Msg>,
}

#[function_component(Help)]
pub fn help(p: &HelpProps) -> Html {
    let lang = p.lang;
    let tr = lang.tr();
    let keys: [(&str, &str); 12] = [
        ("Space / K", tr.key_play),
        (". / →", tr.key_step),
        (", / ←", tr.key_back),
        ("[ / ]", tr.key_marks),
        ("− / +", tr.key_speed),
        ("S", tr.key_slowmo),
        ("1 … 9, 0", tr.key_nodes),
        ("C", tr.crash),
        ("T", tr.timeout_now),
        ("L", tr.key_lang),
        ("? / H", tr.key_help),
        ("Esc", tr.key_esc),
    ];
    let kinds = [
        MsgKind::Vote,
        MsgKind::VoteReply,
        MsgKind::Beat,
        MsgKind::BeatReply,
        MsgKind::Peer,
        MsgKind::DatumGet,
        MsgKind::DatumReply,
        MsgKind::Commit,
        MsgKind::CommitReply,
        MsgKind::Forward,
        MsgKind::DeleteCommit,
    ];
    let close = p.on.reform(|_| Msg::ToggleHelp);
    html! {
        <div class="overlay" role="dialog" aria-modal="true" aria-label={tr.help} data-testid="help-dialog">
            <div class="dialog">
                <button class="close" onclick={close.clone()} aria-label={tr.close}>{ "×" }</button>
                <h2>{ tr.title }</h2>
                <p>{ tr.help_intro }</p>
                <div class="cols">
                    <div>
                        <h3>{ tr.shortcuts }</h3>
                        <table class="kv">
                            { for keys.iter().map(|(k, v)| html! { <tr><th><kbd>{ *k }</kbd></th><td>{ *v }</td></tr> }) }
                        </table>
                    </div>
                    <div>
                        <h3>{ tr.legend }</h3>
                        <ul class="legend-list">
                            { for kinds.iter().map(|k| html! {
                                <li>
                                    <svg class="legend-shape" viewBox="-14 -14 28 28" width="24" height="24">
                                        { msg_shape(*k, 9.0, (*k == MsgKind::VoteReply).then_some(true), 200) }
                                    </svg>
                                    <code>{ k.as_str() }</code>{ " " }{ describe::kind_name(lang, *k) }
                                </li>
                            }) }
                            <li>
                                <svg class="legend-shape" viewBox="-14 -14 28 28" width="24" height="24">
                                    { msg_shape(MsgKind::VoteReply, 9.0, Some(false), 200) }
                                </svg>
                                { tr.refused }
                            </li>
                            <li>{ format!("● {} · ○ {} · ✕ {}", tr.request, tr.reply, tr.failed_message) }</li>
                        </ul>
                        <p class="small">{ tr.leader_ring }</p>
                        <p class="small">{ tr.beat_ring }</p>
                        <p class="small">{ format!("{}: ", tr.state) }
                            { for [PeerState::Leader, PeerState::Candidate, PeerState::Follower].iter().map(|st| html! {
                                <span class={classes!("badge", st.as_str().to_ascii_lowercase())}>{ describe::state_word(lang, Some(*st)) }</span>
                            }) }
                            <span class="badge down">{ tr.state_down }</span>
                        </p>
                    </div>
                </div>
                <div class="actions"><button onclick={close}>{ tr.close }</button></div>
            </div>
        </div>
    }
}
