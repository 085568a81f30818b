//! The teaching parts of the page (issue #11), rendered: the start card, the live caption under
//! the ring, the chapter of a story and the notice of a link with a bad field. What they say is
//! computed in [`crate::teach`]; this file only lays it out and sends [`Msg`]s.

use super::state::{Msg, PresetInfo, State, Tab};
use crate::describe;
use crate::i18n::Lang;
use crate::layout::{class_list, when};
use crate::teach::{self, texts::chapter_of, T};
use nacos_raft_core::sim::{Action, Sim};
use yew::prelude::*;

/// Where the dismissal of the start card is remembered.
const START_KEY: &str = "nacos-raft-start-dismissed";

/// Whether the start card was dismissed on an earlier visit.
pub fn start_dismissed() -> bool {
    storage()
        .and_then(|s| s.get_item(START_KEY).ok().flatten())
        .is_some()
}

/// Remembers that the start card was dismissed.
pub fn store_start_dismissed() {
    if let Some(s) = storage() {
        let _ = s.set_item(START_KEY, "1");
    }
}

/// Between two sentences: a space in English, nothing in Chinese.
fn sentence_gap(lang: Lang) -> &'static str {
    match lang {
        Lang::En => " ",
        Lang::Zh => "",
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The start card, shown in the empty inspector until dismissed.
pub fn start_card(lang: Lang, s: &Sim, on: &Callback<Msg>) -> Html {
    let leader = s.cluster_leader();
    let crash = super::send(
        on,
        match leader {
            Some(node) => Msg::Act(Action::Crash { node }),
            None => Msg::Step,
        },
    );
    let story = super::send(on, Msg::LoadScenario("two-leaders"));
    let cut = super::send(on, Msg::SetTab(Tab::Network));
    html! {
        <section class="start-here" data-testid="start-here" aria-labelledby="start-title">
            <h2 id="start-title">{ T::start_title(lang) }</h2>
            <p>{ [T::start_what(lang), T::start_how(lang), T::start_why(lang)].join(sentence_gap(lang)) }</p>
            <p class="try"><strong>{ T::start_try(lang) }</strong></p>
            <ul class="try-list">
                <li><button data-action="start-crash" disabled={leader.is_none()} onclick={crash}>{ T::try_crash(lang) }</button></li>
                <li><button data-action="start-story" onclick={story}>{ T::try_story(lang) }</button></li>
                <li><button data-action="start-cut" onclick={cut}>{ T::try_cut(lang) }</button></li>
            </ul>
            <button class="dismiss" data-action="dismiss-start" onclick={super::send(on, Msg::DismissStart)}>{ T::dismiss(lang) }</button>
            { reading(lang) }
        </section>
    }
}

/// The live one-line caption under the ring (it carries the preset's id when a story is told,
/// as the scenario caption did).
pub fn live_caption(lang: Lang, s: &Sim, preset: Option<&PresetInfo>) -> Html {
    html! {
        <p class="live-caption" data-testid="caption" data-scenario={preset.map(|p| p.id)} aria-live="polite">
            { teach::caption(lang, s) }
        </p>
    }
}

/// The chapter of the story playing now, and at its end what it showed and what to try next.
pub fn chapter(st: &State) -> Html {
    let (Some((i, m)), Some(p)) = (st.chapter_now(), st.preset.as_ref()) else {
        return html! {};
    };
    let lang = st.lang;
    let (title, _) = describe::scenario_text(lang, p.id, p.title, p.caption);
    let over = st.story_over();
    let text = teach::chapter_text(lang, &st.chapters[i], &title);
    html! {
        <div class={class_list(&["chapter", when(over, "over")])} data-testid="chapter"
            data-index={(i + 1).to_string()} data-count={m.to_string()} data-over={over.to_string()} aria-live="polite">
            <strong class="chapter-n">{ chapter_of(lang, i + 1, m) }</strong>{ " · " }{ text }
            if over {
                if let Some((saw, next)) = teach::story_end(lang, p.id) {
                    <p class="saw"><strong>{ T::what_you_saw(lang) }</strong>{ " " }{ linked(saw) }</p>
                    <p class="next"><strong>{ T::try_next(lang) }</strong>{ " " }{ next }</p>
                }
                <p class="small">{ T::story_over(lang) }</p>
            }
        </div>
    }
}

/// The notice of a link whose hash had fields the page could not read.
pub fn url_error(lang: Lang, bad: &[(String, String)]) -> Html {
    if bad.is_empty() {
        return html! {};
    }
    let fields: Vec<&str> = bad.iter().map(|b| b.0.as_str()).collect();
    let why: Vec<&str> = bad.iter().map(|b| b.1.as_str()).collect();
    let sep = match lang {
        Lang::En => ": ",
        Lang::Zh => "：",
    };
    html! {
        <div class="flash url-error" role="alert" data-testid="url-error" data-field={fields.join(",")}>
            { T::url_error(lang) }{ sep }
            <strong>{ format!("{} {}", T::url_field(lang), fields.join(", ")) }</strong>
            { " (" }<code>{ why.join("; ") }</code>{ ")" }
        </div>
    }
}

/// `text` with its Java method names and Nacos issue numbers as links to their source.
pub fn linked(text: &str) -> Html {
    teach::links::segments(text)
        .into_iter()
        .map(|(t, url)| match url {
            Some(u) => html! {
                <a href={u} target="_blank" rel="noopener" class="src">{ t }</a>
            },
            None => html! { { t.to_string() } },
        })
        .collect()
}

/// A short explanation one click away: something that looks like a bug but is how Nacos works.
pub fn explain(lang: Lang, topic: teach::Explain) -> Html {
    let (q, a) = teach::explain_text(lang, topic);
    html! {
        <details class="explain" data-explain={topic.as_str()}>
            <summary>{ q }</summary>
            <p>{ linked(a) }</p>
        </details>
    }
}

/// Links to the primer and the repository.
pub fn reading(lang: Lang) -> Html {
    html! {
        <p class="small reading">
            <a href={teach::links::primer(lang)} target="_blank" rel="noopener" data-testid="primer-link">{ T::primer(lang) }</a>
            if let Some(repository) = teach::links::REPOSITORY {
                { " · " }
                <a href={repository} target="_blank" rel="noopener">{ T::repository(lang) }</a>
            }
        </p>
    }
}

/// The widest screen with the one-column layout (style.css).
const ONE_COLUMN_PX: f64 = 1100.0;

/// Scrolls the element `selector` into view when the page has one column.
pub fn scroll_into_view_if_narrow(selector: &str) {
    let Some(w) = web_sys::window() else {
        return;
    };
    let narrow = w
        .inner_width()
        .ok()
        .and_then(|v| v.as_f64())
        .is_some_and(|px| px <= ONE_COLUMN_PX);
    if !narrow {
        return;
    }
    if let Some(e) = w
        .document()
        .and_then(|d| d.query_selector(selector).ok().flatten())
    {
        e.scroll_into_view();
    }
}
