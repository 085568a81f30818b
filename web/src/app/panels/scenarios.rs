//! The Scenarios tab: every preset with its caption in the page's language, one click to load.

use super::Common;
use crate::app::{Msg, PresetInfo};
use crate::describe;
use crate::i18n::Texts;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Clone, PartialEq)]
pub struct ScenarioProps {
    pub common: Common,
    pub presets: Option<Rc<Vec<PresetInfo>>>,
    pub current: Option<&'static str>,
}

/// Drawn by [`crate::app::memo::Memo`].
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
                    let onclick = crate::app::send(on, Msg::LoadScenario(id));
                    let compare = crate::app::send(on, Msg::CompareScenario(id));
                    html! {
                        <li class={(p.current == Some(id)).then_some("on")} data-scenario={id}>
                            <button {onclick} data-action={format!("load-{id}")}>{ tr.load }</button>
                            <button onclick={compare} data-action={format!("compare-{id}")}
                                title={crate::compare::compare_button(lang)}>{ crate::compare::compare_button(lang) }</button>
                            <strong>{ title }</strong>
                            <p class="small">{ caption }</p>
                        </li>
                    }
                }) }
            </ul>
        </div>
    }
}
