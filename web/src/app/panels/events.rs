//! The event log: every decision in plain words, newest first, filtered; a click travels back to it.

use super::Common;
use crate::app::teach_view::linked;
use crate::app::{Filter, Msg};
use crate::describe::{self, letter};
use crate::i18n::Texts;
use crate::layout::clock_text;
use yew::prelude::*;

#[derive(Clone, PartialEq)]
pub struct LogProps {
    pub common: Common,
    pub filter: Filter,
    /// The story's own actions (told as what happens, not as "you …").
    pub story: std::rc::Rc<Vec<nacos_raft_core::sim::TimedAction>>,
}

/// Most events the log shows (the newest first).
const LOG_ROWS: usize = 200;

/// Drawn by [`crate::app::memo::Memo`].
pub fn event_log(p: &LogProps) -> Html {
    let w = p.common.world.0.borrow();
    let s = w.sim();
    let lang = p.common.lang;
    let tr = lang.tr();
    let on = &p.common.on;
    let term_step = s.config().timings.term_step;
    let rows: Html = describe::log(s, LOG_ROWS, |t| p.filter.keeps(t))
        .into_iter()
        .map(|r| {
            let at = r.at_ms;
            let onclick = crate::app::send(on, Msg::Seek(at));
            let who = r.node.map(letter).unwrap_or_else(|| "·".into());
            let text = match r.action() {
                Some(a) if p.story.iter().any(|t| t.at_ms == at && &t.action == a) => {
                    crate::teach::story_action(lang, a)
                }
                _ => r.text(lang, term_step),
            };
            html! {
                <li class={r.tone.as_str()} data-at-ms={at.to_string()} {onclick}>
                    <span class="t">{ clock_text(at) }</span>
                    <span class="who">{ who }</span>
                    <span class="what">{ linked(&text) }</span>
                </li>
            }
        })
        .collect();
    let onchange = on.reform(|e: Event| {
        let el: web_sys::HtmlSelectElement = e.target_unchecked_into();
        Msg::SetFilter(Filter::from_value(&el.value()))
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
