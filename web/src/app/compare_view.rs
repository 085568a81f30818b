//! Compare mode's part of the page (issue #13): the two rings side by side, each with its title,
//! its leader and its safety monitor, and the switches of the right ring's fixes. The reducer
//! (`state.rs`) keeps both worlds on one clock; this file only renders.

use super::memo;
use super::panels;
use super::ring;
use super::state::{Msg, State};
use super::Selection;
use crate::compare;
use crate::layout;
use crate::urlstate::RulesMode;
use nacos_raft_core::{Fix, Rules};
use yew::prelude::*;

/// The two sides; `left_ring` and `left_safety` are the single ring's, already rendered.
pub fn view(st: &State, on: &Callback<Msg>, left_ring: Html, left_safety: Html) -> Html {
    let Some(right) = st.right.clone() else {
        return html! { <>{ left_ring }{ left_safety }</> };
    };
    let lang = st.lang;
    // Nodes and links are the same on both rings, messages are not: the inspector shows the left
    // world, so a message of the right ring is neither selected nor highlighted.
    let right_on = {
        let on = on.clone();
        Callback::from(move |m: Msg| {
            if !matches!(m, Msg::Select(Selection::Msg(_))) {
                on.emit(m);
            }
        })
    };
    let sel = match st.sel {
        Selection::Msg(_) => Selection::None,
        s => s,
    };
    let right_ring = {
        let w = right.0.borrow();
        let scene = layout::scene(&w, st.linger_ms());
        let hot = st.right_hot_nodes();
        ring::view(&ring::RingProps {
            scene: &scene,
            sim: w.sim(),
            lang,
            sel,
            hot: &hot,
            reduced_motion: st.reduced_motion,
            on: &right_on,
            cut_line: st.cut_line,
        })
    };
    let right_common = panels::Common {
        world: right,
        rev: st.rev,
        lang,
        on: on.clone(),
    };
    let title = |text: &'static str, status: String| {
        html! {
            <h2 class="compare-title">{ text }<span class="status">{ status }</span></h2>
        }
    };
    html! {
        <div class="compare" data-testid="compare">
            <div class="compare-side" data-testid="compare-left" data-rules="nacos">
                { title(compare::left_title(lang), crate::teach::headline(lang, st.world().sim())) }
                { left_ring }
                { left_safety }
            </div>
            <div class="compare-side" data-testid="compare-right" data-rules={st.spec.right.to_string()}>
                { title(compare::right_title(lang), st.right_status_line().unwrap_or_default()) }
                { right_ring }
                <memo::Memo view={memo::MemoView::Safety(panels::SafetyProps { common: right_common, pause_on_violation: st.pause_on_violation })} />
            </div>
            { fixes(st, on) }
        </div>
    }
}

/// The switch list of the right ring's fixes: name, one line, design note when the build has it.
fn fixes(st: &State, on: &Callback<Msg>) -> Html {
    let lang = st.lang;
    let right = st.spec.right;
    html! {
        <fieldset class="fixes" data-testid="fixes">
            <legend>{ compare::fixes_heading(lang) }</legend>
            { for Fix::ALL.into_iter().map(|fix| {
                let onchange = on.reform(move |e: Event| {
                    let el: web_sys::HtmlInputElement = e.target_unchecked_into();
                    Msg::SetFix(fix, el.checked())
                });
                html! {
                    <label class="fix">
                        <input type="checkbox" checked={right.has(fix)} data-testid={format!("fix-{}", fix.name())} {onchange} />
                        <code>{ fix.name() }</code>{ " " }
                        <span class="small">{ compare::explain(lang, fix) }</span>
                        if let Some(href) = compare::doc_link(fix) {
                            { " " }<a {href} target="_blank" rel="noopener">{ "↗" }</a>
                        }
                    </label>
                }
            }) }
        </fieldset>
    }
}

/// The rules menu of the header: Nacos 1.4.1, hardened, or Compare (and a custom set from a
/// link, shown as itself).
pub fn rules_select(st: &State, on: &Callback<Msg>) -> Html {
    let lang = st.lang;
    let now = match st.spec.rules {
        RulesMode::Compare => "compare".to_string(),
        RulesMode::One(r) => r.to_string(),
    };
    let onchange = on.reform(|e: Event| {
        let el: web_sys::HtmlSelectElement = e.target_unchecked_into();
        Msg::SetRules(match el.value().as_str() {
            "compare" => RulesMode::Compare,
            v => RulesMode::One(v.parse().unwrap_or(Rules::Nacos141)),
        })
    });
    let custom = match st.spec.rules {
        RulesMode::One(r @ Rules::Custom(_)) => Some(r),
        _ => None,
    };
    html! {
        <label>{ compare::rules_label(lang) }{ " " }
            <select aria-label={compare::rules_label(lang)} data-testid="rules" {onchange}>
                { for compare::rules_options(lang).into_iter().map(|(v, text)| html! {
                    <option value={v} selected={now == v}>{ text }</option>
                }) }
                if let Some(r) = custom {
                    <option value={r.to_string()} selected=true>{ compare::rules_name(lang, r) }</option>
                }
            </select>
        </label>
    }
}
