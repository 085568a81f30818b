//! The page's one component: it owns the [`State`] and the animation clock, renders the state,
//! and carries out the effects of the reducer (`state.rs`). Every change of state is the
//! reducer's; this file only talks to the browser.

use super::compare_view;
use super::dom;
use super::keys;
use super::memo;
use super::panels;
use super::ring;
use super::state::{Effect, Msg, PresetInfo, State, Tab, TOAST_MS};
use super::teach_view;
use super::timeline;
use crate::describe;
use crate::i18n::{Lang, Texts};
use crate::layout::{self, clock_text};
use crate::layout::{class_list, when};
use crate::urlstate::{self, fmt_speed, Timings};
use gloo_timers::callback::{Interval, Timeout};
use yew::prelude::*;

/// Real ms between ticks of the clock with reduced motion.
const REDUCED_TICK_MS: u32 = 250;

/// The page.
pub struct App {
    state: State,
    /// The animation clock while playing (`requestAnimationFrame`), dropped = cancelled.
    clock: Option<dom::FrameLoop>,
    /// The clock with reduced motion.
    interval: Option<Interval>,
    toast_timer: Option<Timeout>,
    /// When the current frame's work started (for `window.__nacosRaftFrames`).
    frame_start: Option<f64>,
    /// What to bring into view after the next render, on a one-column (phone) layout.
    scroll_to: Option<&'static str>,
    _listeners: Vec<dom::Listener>,
    on: Callback<Msg>,
}

impl App {
    fn run(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        let out = self.state.update(msg);
        for e in out.effects {
            self.carry_out(ctx, e);
        }
        out.render
    }

    fn carry_out(&mut self, ctx: &Context<Self>, e: Effect) {
        match e {
            Effect::WriteHash(h) => dom::replace_hash(&h),
            Effect::Clock(false) => {
                self.clock = None;
                self.interval = None;
            }
            Effect::Clock(true) => {
                let link = ctx.link().clone();
                if self.state.reduced_motion {
                    if self.interval.is_none() {
                        self.interval = Some(Interval::new(REDUCED_TICK_MS, move || {
                            link.send_message(Msg::Frame(dom::now_ms()))
                        }));
                    }
                } else if self.clock.is_none() {
                    self.clock = Some(dom::FrameLoop::start(move |ts| {
                        link.send_message(Msg::Frame(ts));
                        true
                    }));
                }
            }
            Effect::ToastTimer => {
                let link = ctx.link().clone();
                self.toast_timer = Some(Timeout::new(TOAST_MS, move || {
                    link.send_message(Msg::ClearToast)
                }));
            }
            Effect::Copy(text) => {
                let link = ctx.link().clone();
                let t = text.clone();
                dom::copy(&text, move |ok| link.send_message(Msg::Copied(ok, t)));
            }
            Effect::Download { name, mime, text } => dom::download(&name, mime, &text),
            Effect::StoreLang(l) => dom::store_lang(l.tag()),
            Effect::StoreStartDismissed => teach_view::store_start_dismissed(),
        }
    }
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        let lang = dom::stored_lang()
            .map(|t| Lang::from_tag(&t))
            .unwrap_or_else(|| Lang::from_tag(&dom::browser_lang()));
        dom::store_lang(lang.tag());
        let reduced_motion = dom::media("(prefers-reduced-motion: reduce)");
        let link = ctx.link().clone();
        let keys = dom::Listener::window("keydown", move |e| {
            use wasm_bindgen::JsCast;
            let Ok(k) = e.dyn_into::<web_sys::KeyboardEvent>() else {
                return;
            };
            if k.ctrl_key() || k.meta_key() || k.alt_key() || dom::in_text_field(&k) {
                return;
            }
            if let Some(c) = keys::command(&k.key()) {
                k.prevent_default();
                link.send_message(Msg::Key(c));
            }
        });
        let link = ctx.link().clone();
        let hash = dom::Listener::window("hashchange", move |_| {
            // Live mode is another page (crate::live, `live/`): go there with the hash.
            if crate::live::hash::is_live(&dom::hash()) {
                dom::go_to(crate::LIVE_PAGE);
                return;
            }
            link.send_message(Msg::HashChanged {
                hash: dom::hash(),
                seed: dom::random_seed(),
            });
        });
        let mut app = App {
            state: State::new(lang, reduced_motion, dom::href_without_hash()),
            clock: None,
            interval: None,
            toast_timer: None,
            frame_start: None,
            scroll_to: None,
            _listeners: vec![keys, hash],
            on: ctx.link().callback(|m| m),
        };
        app.state.start_dismissed = teach_view::start_dismissed();
        app.run(
            ctx,
            Msg::Open {
                hash: dom::hash(),
                seed: dom::random_seed(),
            },
        );
        app
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Self::Message) -> bool {
        if matches!(msg, Msg::Frame(_)) {
            self.frame_start = Some(dom::now_ms());
        }
        // On a phone the inspector is below the ring: show it when something is selected, and
        // the ring again when a story starts.
        match &msg {
            Msg::Select(sel) if *sel != super::Selection::None => self.scroll_to = Some(".side"),
            Msg::LoadScenario(_) | Msg::CompareScenario(_) => self.scroll_to = Some(".stage"),
            _ => {}
        }
        self.run(ctx, msg)
    }

    fn rendered(&mut self, _ctx: &Context<Self>, _first: bool) {
        if let Some(s) = self.frame_start.take() {
            dom::record_frame(dom::now_ms() - s);
        }
        if let Some(sel) = self.scroll_to.take() {
            teach_view::scroll_into_view_if_narrow(sel);
        }
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let st = &self.state;
        let tr = st.lang.tr();
        let link = ctx.link();
        let w = st.world();
        let s = w.sim();
        let now = s.now();
        let scene = layout::scene(&w, st.linger_ms());
        let hot = st.hot_nodes();
        let ring = ring::view(&ring::RingProps {
            scene: &scene,
            sim: s,
            lang: st.lang,
            sel: st.sel,
            hot: &hot,
            reduced_motion: st.reduced_motion,
            on: &self.on,
            cut_line: st.cut_line,
        });
        let speed_slider = {
            let oninput = link.callback(|e: InputEvent| {
                Msg::SetSpeed(keys::notch_speed(dom::input_value(&e).parse().unwrap_or(6)))
            });
            html! {
                <input type="range" min="0" max={(keys::SPEEDS.len() - 1).to_string()} step="1"
                    value={keys::notch(st.spec.speed).to_string()}
                    aria-label={tr.speed} aria-valuetext={format!("{}×", fmt_speed(st.spec.speed))}
                    data-testid="speed" {oninput} />
            }
        };
        let nodes_select = {
            let onchange = link.callback(|e: Event| {
                let el: web_sys::HtmlSelectElement = e.target_unchecked_into();
                Msg::SetNodes(el.value().parse().unwrap_or(5))
            });
            html! {
                <select aria-label={tr.nodes} data-testid="nodes" {onchange}>
                    // A link may hold 1 or 2 nodes: the menu then offers that count too, so
                    // that it always shows the number drawn.
                    { for (s.len().min(3)..=urlstate::MAX_NODES).map(|n| html! {
                        <option value={n.to_string()} selected={n == s.len()}>{ n }</option>
                    }) }
                </select>
            }
        };
        let timings_select = {
            let onchange = link.callback(|e: Event| {
                let el: web_sys::HtmlSelectElement = e.target_unchecked_into();
                Msg::SetTimings(if el.value() == "fast" {
                    Timings::Fast
                } else {
                    Timings::Nacos
                })
            });
            html! {
                <select aria-label={tr.timings} data-testid="timings" {onchange}>
                    <option value="nacos" selected={st.spec.timings == Timings::Nacos}>{ tr.timings_nacos }</option>
                    <option value="fast" selected={st.spec.timings == Timings::Fast}>{ tr.timings_fast }</option>
                </select>
            }
        };
        let seed_input = {
            let onchange = link.callback(|e: Event| {
                let el: web_sys::HtmlInputElement = e.target_unchecked_into();
                Msg::NewRun(
                    el.value()
                        .trim()
                        .parse()
                        .unwrap_or_else(|_| dom::random_seed()),
                )
            });
            html! {
                <input class="seed" type="text" inputmode="numeric" aria-label={tr.seed}
                    value={st.spec.seed.to_string()} data-testid="seed" {onchange} />
            }
        };
        let tab_button = |t: Tab, label: &'static str| {
            let onclick = super::send(&self.on, Msg::SetTab(t));
            html! {
                <button role="tab" data-tab={format!("{t:?}").to_ascii_lowercase()} class={class_list(&["tab", when(st.tab == t, "on")])}
                    aria-selected={(st.tab == t).to_string()} {onclick}>{ label }</button>
            }
        };
        // In a story, `[` / `]` and these buttons go from chapter to chapter.
        let (prev_mark, next_mark) = if st.chapters.is_empty() {
            (tr.prev_mark, tr.next_mark)
        } else {
            (
                crate::teach::T::chapter_prev(st.lang),
                crate::teach::T::chapter_next(st.lang),
            )
        };
        let wref = st.world.clone();
        let panel_common = panels::Common {
            world: wref.clone(),
            rev: st.rev,
            lang: st.lang,
            on: self.on.clone(),
        };
        // Hidden panels stay in the page (the event log is part of the DOM contract) but are
        // refreshed less often.
        let common_for = |t: Tab| panels::Common {
            rev: if st.tab == t { st.rev } else { st.rev_slow },
            ..panel_common.clone()
        };
        let violations_box = html! {
            <memo::Memo view={memo::MemoView::Safety(panels::SafetyProps { common: panel_common.clone(), pause_on_violation: st.pause_on_violation })} />
        };
        // Built once, placed by the layout below (one ring, or Compare mode's two).
        let caption_line = teach_view::live_caption(st.lang, s, st.preset.as_ref());
        let timeline_box = html! {
            <memo::Memo view={memo::MemoView::Timeline(timeline::Props { common: panel_common.clone(), now, playing: st.playing })} />
        };
        html! {
            <div class={class_list(&["app", when(st.reduced_motion, "reduced")])}>
                <header class="top">
                    <div class="brand">
                        <h1>{ tr.title }</h1>
                        <p class="sub">{ tr.subtitle }</p>
                    </div>
                    <div class="setup">
                        <label>{ tr.nodes }{" "}{ nodes_select }</label>
                        <label>{ tr.timings }{" "}{ timings_select }</label>
                        { compare_view::rules_select(st, &self.on) }
                        <label>{ tr.seed }{" "}{ seed_input }</label>
                        <button onclick={link.callback(|_| Msg::NewRun(dom::random_seed()))} data-testid="new-run">{ tr.new_seed }</button>
                        <button onclick={super::send(&self.on, Msg::CopyLink)} data-testid="copy-link">{ tr.copy_link }</button>
                        <button onclick={super::send(&self.on, Msg::Export)} data-testid="export">{ tr.export }</button>
                        <button onclick={super::send(&self.on, Msg::ToggleLang)} data-testid="lang" lang={st.lang.other().tag()}>{ tr.lang_switch }</button>
                        <button onclick={super::send(&self.on, Msg::ToggleHelp)} data-testid="help" aria-label={tr.help}>{ "?" }</button>
                        <a class="button" href={format!("{}#live=", crate::LIVE_PAGE)} data-testid="live-open">{ crate::live::texts::tr(st.lang).live_button }</a>
                    </div>
                </header>
                if let Some(f) = &st.flash {
                    <div class="flash" role="alert">{ f }</div>
                }
                { teach_view::url_error(st.lang, &st.url_errors) }
                if let Some(p) = &st.preset {
                    { caption(st.lang, p) }
                }
                <main class="main">
                    <section class="stage">
                        <div class="transport" role="toolbar">
                            <button class="play" data-testid="play" data-playing={st.playing.to_string()}
                                onclick={super::send(&self.on, Msg::TogglePlay)}
                                title={if st.playing { tr.pause } else { tr.play }}>
                                { icon(if st.playing { ICON_PAUSE } else { ICON_PLAY }) }{ if st.playing { tr.pause } else { tr.play } }
                            </button>
                            <button data-testid="step-back" onclick={super::send(&self.on, Msg::StepBack)} title={tr.step_back}>{ icon(ICON_BACK) }{ tr.step_back }</button>
                            <button data-testid="step" onclick={super::send(&self.on, Msg::Step)} title={tr.step}>{ icon(ICON_STEP) }{ tr.step }</button>
                            <button class="mark-nav" data-testid="prev-mark" onclick={super::send(&self.on, Msg::Mark(false))} title={prev_mark} aria-label={prev_mark}>{ "◆◂" }</button>
                            <button class="mark-nav" data-testid="next-mark" onclick={super::send(&self.on, Msg::Mark(true))} title={next_mark} aria-label={next_mark}>{ "▸◆" }</button>
                            <label class="speed">{ tr.speed }{" "}{ speed_slider }<span class="speed-val" data-testid="speed-value">{ st.speed_text() }</span></label>
                            <label class="check" title={tr.slowmo_hint}>
                                <input type="checkbox" checked={st.spec.slowmo} onchange={super::send(&self.on, Msg::ToggleSlowmo)} data-testid="slowmo" />
                                { tr.slowmo }
                            </label>
                            <span class="clock" data-clock-ms={now.to_string()} title={tr.clock}>{ clock_text(now) }</span>
                            <span class="status" data-testid="status" aria-live="polite">{ st.status_line() }</span>
                        </div>
                        { teach_view::chapter(st) }
                        if st.right.is_some() {
                            // The one clock's timeline above the two rings, which are tall.
                            { timeline_box }
                            { caption_line }
                            { compare_view::view(st, &self.on, ring, violations_box) }
                        } else {
                            { ring }
                            { caption_line }
                            { timeline_box }
                            { violations_box }
                        }
                    </section>
                    <aside class="side">
                        <nav class="tabs" role="tablist">
                            { tab_button(Tab::Inspect, tr.tab_inspect) }
                            { tab_button(Tab::Events, tr.tab_events) }
                            { tab_button(Tab::Lanes, tr.tab_lanes) }
                            { tab_button(Tab::Data, tr.tab_data) }
                            { tab_button(Tab::Network, tr.tab_network) }
                            { tab_button(Tab::Scenarios, tr.tab_scenarios) }
                        </nav>
                        <div class="panel" hidden={st.tab != Tab::Inspect}>
                            if !st.start_dismissed && st.sel == super::Selection::None {
                                { teach_view::start_card(st.lang, s, &self.on) }
                            }
                            { panels::inspector(&common_for(Tab::Inspect), st.sel, &st.forms) }
                        </div>
                        <div class="panel" hidden={st.tab != Tab::Events}>
                            <memo::Memo view={memo::MemoView::Log(panels::LogProps { common: common_for(Tab::Events), filter: st.filter,
                                story: std::rc::Rc::new(crate::teach::story_actions(&st.chapters)) })} />
                        </div>
                        <div class="panel" hidden={st.tab != Tab::Lanes}>
                            if st.tab == Tab::Lanes {
                                <memo::Memo view={memo::MemoView::Lanes(panels::LanesProps { common: panel_common.clone(), sel: st.sel })} />
                            }
                        </div>
                        <div class="panel" hidden={st.tab != Tab::Data}>
                            if st.tab == Tab::Data {
                                <memo::Memo view={memo::MemoView::Data(panels::DataProps { common: panel_common.clone(), against: st.forms.against, show_values: st.forms.values })} />
                            }
                        </div>
                        <div class="panel" hidden={st.tab != Tab::Network}>
                            <memo::Memo view={memo::MemoView::Network(panels::NetProps { common: common_for(Tab::Network), draft: st.draft.clone(), loss: st.forms.loss.clone(), lat: st.forms.lat.clone() })} />
                        </div>
                        <div class="panel" hidden={st.tab != Tab::Scenarios}>
                            <memo::Memo view={memo::MemoView::Scenarios(panels::ScenarioProps { common: common_for(Tab::Scenarios),
                                presets: st.presets.clone(), current: st.preset.as_ref().map(|p| p.id) })} />
                        </div>
                    </aside>
                </main>
                if st.help {
                    <memo::Memo view={memo::MemoView::Help(panels::HelpProps { lang: st.lang, on: self.on.clone() })} />
                }
                if let Some(t) = &st.toast {
                    <div class="toast" role="status" aria-live="polite" data-testid="toast">{ t }</div>
                }
            </div>
        }
    }
}

/// The caption of the preset a run came from.
fn caption(lang: Lang, p: &PresetInfo) -> Html {
    let (title, caption) = describe::scenario_text(lang, p.id, p.title, p.caption);
    html! {
        <div class="caption" data-testid="scenario" data-scenario={p.id}>
            <strong>{ teach_view::linked(&title) }</strong>{ " — " }{ teach_view::linked(&caption) }
        </div>
    }
}

const ICON_PLAY: &str = "M4 2 L14 8 L4 14 Z";
const ICON_PAUSE: &str = "M3 2h4v12H3z M9 2h4v12H9z";
const ICON_STEP: &str = "M2 2 L10 8 L2 14 Z M11 2h3v12h-3z";
const ICON_BACK: &str = "M14 2 L6 8 L14 14 Z M2 2h3v12H2z";

fn icon(d: &'static str) -> Html {
    html! { <svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><path d={d} /></svg> }
}
