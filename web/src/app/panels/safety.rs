//! The safety monitor (always visible): the violations found so far and a few counters.

use super::Common;
use crate::app::Msg;
use crate::describe;
use crate::i18n::{Lang, Texts};
use crate::layout::clock_text;
use crate::layout::{class_list, when};
use yew::prelude::*;

#[derive(Clone, PartialEq)]
pub struct SafetyProps {
    pub common: Common,
    pub pause_on_violation: bool,
}

/// Drawn by [`crate::app::memo::Memo`].
pub fn safety(p: &SafetyProps) -> Html {
    let w = p.common.world.0.borrow();
    let s = w.sim();
    let lang = p.common.lang;
    let tr = lang.tr();
    let on = &p.common.on;
    let v = s.violations();
    let st = s.stats();
    let comma = if lang == Lang::Zh { "，" } else { ", " };
    let stats = format!(
        "{} {} · {} · {} {}{comma}{} {}",
        tr.stats_first_leader,
        s.first_leader_ms()
            .map(clock_text)
            .unwrap_or_else(|| "—".into()),
        crate::teach::texts::leader_changes(lang, st.leader_changes),
        st.messages_sent,
        tr.stats_messages,
        st.messages_dropped,
        tr.stats_lost
    );
    html! {
        <section class={class_list(&["safety", when(!v.is_empty(), "alarm")])} data-testid="violations"
            data-count={v.len().to_string()} aria-live="polite">
            <div class="row">
                <strong>{ format!("{}: {}", tr.violations, v.len()) }</strong>
                <label class="check">
                    <input type="checkbox" checked={p.pause_on_violation} onchange={crate::app::send(on, Msg::TogglePauseOnViolation)} />
                    { tr.pause_on_violation }
                </label>
            </div>
            <p class="small stats" data-testid="stats">{ stats }</p>
            if v.is_empty() {
                <p class="small">{ tr.no_violations }</p>
            } else {
                <ol class="violations" reversed=true>
                    { for v.iter().rev().take(30).map(|x| {
                        let at = x.at_ms;
                        let onclick = crate::app::send(on, Msg::Seek(at));
                        html! {
                            <li data-kind={x.kind.as_str()} data-at-ms={at.to_string()} {onclick}>
                                <span class="t">{ clock_text(at) }</span>
                                <strong>{ describe::violation_title(lang, x.kind) }</strong>
                                { if lang == Lang::Zh { "：" } else { ": " } }
                                <span class="detail">{ crate::teach::violation_detail(lang, x, s.len()) }</span>
                            </li>
                        }
                    }) }
                </ol>
            }
        </section>
    }
}
