//! The datum matrix: nodes × keys, each cell a timestamp coloured against the leader's.

use super::Common;
use crate::describe::{letter, short_key};
use crate::i18n::Texts;
use yew::prelude::*;

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
