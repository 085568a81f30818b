//! The datum matrix: nodes × keys, each cell a timestamp (or the value, decoded) coloured
//! against the reference node's: the leader, or a node the person picks (with two leaders the
//! choice matters).

use super::Common;
use crate::app::{FormEdit, Msg};
use crate::describe::{letter, short_key};
use crate::i18n::Texts;
use crate::layout::class_list;
use crate::teach::{values, T};
use yew::prelude::*;

#[derive(Clone, PartialEq)]
pub struct DataProps {
    pub common: Common,
    /// The reference node picked (`None`: the cluster's leader).
    pub against: Option<usize>,
    /// Values instead of timestamps.
    pub show_values: bool,
}

/// Drawn by [`crate::app::memo::Memo`].
pub fn data_view(p: &DataProps) -> Html {
    let w = p.common.world.0.borrow();
    let s = w.sim();
    let lang = p.common.lang;
    let tr = lang.tr();
    let n = s.len();
    let (against, show_values) = (p.against, p.show_values);
    let leader = against.filter(|i| *i < n).or(s.cluster_leader());
    let mut keys: Vec<&str> = Vec::new();
    for i in 0..n {
        if let Some(node) = s.node(i) {
            keys.extend(node.datums().map(|d| d.key.as_str()));
        }
    }
    nacos_raft_core::sort::sort(&mut keys);
    keys.dedup();
    let reference = leader.and_then(|l| s.node(l));
    // (key, cells, differs)
    type Row<'a> = (&'a str, Vec<(String, &'static str)>, bool);
    let rows: Vec<Row> = keys
        .iter()
        .map(|k| {
            let want = reference.and_then(|r| r.datum(k)).map(|d| d.timestamp);
            let mut differs = false;
            let shown = |node: &nacos_raft_core::Node, ts: u64| match (show_values, node.datum(k)) {
                (true, Some(d)) => d
                    .value
                    .as_ref()
                    .map(|v| values::summary(v.as_str()))
                    .unwrap_or_else(|| "null".into()),
                _ => ts.to_string(),
            };
            let cells = (0..n)
                .map(|i| match s.node(i) {
                    None => ("·".to_string(), "down"),
                    Some(node) => match (node.datum(k).map(|d| d.timestamp), want, reference) {
                        (Some(ts), Some(w), _) if ts == w => (shown(node, ts), "same"),
                        (Some(ts), Some(_), _) => {
                            differs = true;
                            (shown(node, ts), "older")
                        }
                        (Some(ts), None, Some(_)) => {
                            differs = true;
                            (shown(node, ts), "extra")
                        }
                        (Some(ts), None, None) => (shown(node, ts), "plain"),
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
    // Differing rows first, each part in key order: a stable partition, not a sort by `!differs`,
    // which put a whole stable-sort copy for this row type into the page (issue 14).
    let (mut rows, same): (Vec<Row>, Vec<Row>) = rows.into_iter().partition(|r| r.2);
    rows.extend(same);
    let limit = 60;
    let same_hidden = rows.iter().skip(limit).filter(|r| !r.2).count();
    let behind: Vec<(usize, usize)> = leader.map(|l| s.nodes_behind(l)).unwrap_or_default();
    let head: Html = (0..n)
        .map(|i| {
            let d = behind.iter().find(|b| b.0 == i).map(|b| b.1).unwrap_or(0);
            html! {
                <th class={(Some(i) == leader).then_some("leader")} data-behind={d.to_string()}
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
                <tr class={differs.then_some("differs")}>
                    <td class="key" title={k.to_string()}>{ short_key(k) }</td>
                    { for cells.iter().map(|(t, c)| html! { <td class={class_list(&["cell", *c])}>{ t }</td> }) }
                </tr>
            }
        })
        .collect();
    html! {
        <div class="data-view" data-testid="data-view" data-keys={keys.len().to_string()}>
            <h3>{ tr.data_view }</h3>
            <div class="row">
                <label>{ T::compare_with(lang) }{ " " }
                    <select data-testid="data-against" onchange={p.common.on.reform(|e: Event| {
                        let el: web_sys::HtmlSelectElement = e.target_unchecked_into();
                        Msg::Form(FormEdit::Against(el.value().parse().ok()))
                    })}>
                        <option value="" selected={against.is_none()}>
                            { match s.cluster_leader() {
                                Some(l) => format!("{} ({})", T::the_leader(lang), letter(l)),
                                None => T::the_leader(lang).to_string(),
                            } }
                        </option>
                        { for (0..n).map(|i| html! {
                            <option value={i.to_string()} selected={against == Some(i)}>{ letter(i) }</option>
                        }) }
                    </select>
                </label>
                <label class="check">
                    <input type="checkbox" data-testid="data-values" checked={show_values}
                        onchange={crate::app::send(&p.common.on, Msg::Form(FormEdit::Values(!show_values)))} />
                    { T::show_values(lang) }
                </label>
            </div>
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
