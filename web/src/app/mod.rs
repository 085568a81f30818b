//! The Yew app: one component owns the [`World`] and the clock; the panels are function
//! components that only render and dispatch (style-anchors.md §A4).

pub mod dom;
mod panels;
mod ring;
mod timeline;

use crate::describe::{self, letter};
use crate::i18n::Lang;
use crate::layout::{self, clock_text};
use crate::model::World;
use crate::urlstate::{self, fmt_speed, RunSpec, Timings};
use nacos_raft_core::sim::scenario;
use nacos_raft_core::sim::{Action, MsgId};
use nacos_raft_core::PeerState;
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// Playback speeds the keyboard steps through.
const SPEEDS: [f64; 13] = [
    0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0,
];
/// Real ms a message of average latency takes to cross in slow motion.
const FLIGHT_REAL_MS: f64 = 600.0;
/// Real ms between panel refreshes while playing.
const PANEL_EVERY_MS: f64 = 200.0;

/// The world, shared with the panels (equal when it is the same world).
#[derive(Clone)]
pub struct WorldRef(pub Rc<RefCell<World>>);

impl PartialEq for WorldRef {
    fn eq(&self, o: &Self) -> bool {
        Rc::ptr_eq(&self.0, &o.0)
    }
}

/// What the inspector shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Nothing.
    None,
    /// A node.
    Node(usize),
    /// A message.
    Msg(MsgId),
    /// The link between two nodes (lower index first).
    Link(usize, usize),
}

/// The side panel's tabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    /// Inspector.
    Inspect,
    /// Event log.
    Events,
    /// Datum matrix.
    Data,
    /// Network controls.
    Network,
    /// Presets.
    Scenarios,
    /// Space-time diagram.
    Lanes,
}

/// Event log filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    /// Everything.
    All,
    /// Elections and leaders.
    Election,
    /// Writes and sync.
    Data,
    /// Failures and actions.
    Faults,
}

/// A preset as the page lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct PresetInfo {
    /// Id.
    pub id: &'static str,
    /// English title.
    pub title: &'static str,
    /// English caption.
    pub caption: &'static str,
    /// When its story is told.
    pub end_ms: u64,
}

/// Everything the app reacts to.
pub enum Msg {
    Frame(f64),
    TogglePlay,
    Pause,
    Step,
    StepBack,
    SetSpeed(f64),
    Faster,
    Slower,
    ToggleSlowmo,
    Seek(u64),
    Act(Action),
    ActMany(Vec<Action>),
    Select(Selection),
    SetTab(Tab),
    ToggleLang,
    NewRun(Option<u64>),
    SetNodes(usize),
    SetTimings(Timings),
    LoadScenario(&'static str),
    SwitchBranch(usize),
    CopyLink,
    Copied(bool, String),
    ClearToast,
    Export,
    ToggleHelp,
    Escape,
    HashChanged,
    TogglePauseOnViolation,
    SetFilter(Filter),
    SetDraft(Vec<u8>),
    Key(web_sys::KeyboardEvent),
    SelectNodeKey(usize),
    /// Jump to the next (true) or previous mark of the timeline, paused there.
    Mark(bool),
    CutStart((f64, f64)),
    CutMove((f64, f64)),
    CutEnd,
}

/// The page.
pub struct App {
    world: WorldRef,
    spec: RunSpec,
    playing: bool,
    lang: Lang,
    tab: Tab,
    sel: Selection,
    speed_now: f64,
    pause_on_violation: bool,
    help: bool,
    toast: Option<String>,
    toast_timer: Option<gloo_timers::callback::Timeout>,
    rev: u64,
    /// Revision for panels that are hidden (refreshed once a second while playing).
    rev_slow: u64,
    last_panel: f64,
    last_slow: f64,
    last_ts: Option<f64>,
    frame_start: Option<f64>,
    clock: Option<dom::FrameLoop>,
    interval: Option<gloo_timers::callback::Interval>,
    reduced_motion: bool,
    _listeners: Vec<dom::Listener>,
    written_hash: String,
    preset: Option<PresetInfo>,
    presets: Option<Rc<Vec<PresetInfo>>>,
    draft: Vec<u8>,
    filter: Filter,
    on: Callback<Msg>,
    flash: Option<String>,
    cut_line: Option<((f64, f64), (f64, f64))>,
}

fn preset_info(p: &scenario::Preset) -> PresetInfo {
    PresetInfo {
        id: p.id,
        title: p.title,
        caption: p.caption,
        end_ms: p.end_ms,
    }
}

/// A long story (an hour of elections) plays faster, so that it is told in a minute or two.
fn story_speed(end_ms: u64, at_least: f64) -> f64 {
    let want = end_ms as f64 / 20_000.0;
    SPEEDS
        .iter()
        .copied()
        .find(|s| *s >= want)
        .unwrap_or(1000.0)
        .max(at_least)
}

/// The run spec of a preset.
fn preset_spec(p: &scenario::Preset, speed: f64) -> RunSpec {
    let timings = if p.config.timings == nacos_raft_core::Config::fast() {
        Timings::Fast
    } else {
        Timings::Nacos
    };
    RunSpec {
        seed: p.config.seed,
        nodes: p.config.nodes,
        timings,
        speed,
        latency: p.config.latency_ms,
        loss_ppm: p.config.loss_ppm,
        slowmo: true,
        scenario: Some(p.id.to_string()),
        at_ms: None,
        actions: p.actions.clone(),
    }
}

impl App {
    fn world(&self) -> std::cell::Ref<'_, World> {
        self.world.0.borrow()
    }

    fn world_mut(&self) -> std::cell::RefMut<'_, World> {
        self.world.0.borrow_mut()
    }

    /// Builds the world of `spec` (falling back to a fresh default run if the spec is unusable).
    fn load(&mut self, spec: RunSpec, ctx: &Context<Self>) {
        let world = match World::new(spec.sim_config(), spec.actions.clone()) {
            Ok(w) => w,
            Err(e) => {
                self.flash = Some(format!("{}: {e}", self.lang.tr().bad_link));
                World::new(RunSpec::new(spec.seed).sim_config(), vec![]).expect("defaults work")
            }
        };
        self.world = WorldRef(Rc::new(RefCell::new(world)));
        self.preset = spec.scenario.as_deref().and_then(|id| self.find_preset(id));
        let end = self.preset.as_ref().map(|p| p.end_ms).unwrap_or(0);
        let last_action = spec.actions.last().map(|a| a.at_ms).unwrap_or(0);
        let ahead = end.max(last_action);
        if ahead > 0 {
            // Simulate the story once so that the timeline shows what is coming.
            self.world_mut().prefetch(ahead);
        }
        self.playing = true;
        if let Some(at) = spec.at_ms {
            self.world_mut().seek(at);
            self.playing = false;
        }
        self.draft = (0..spec.nodes).map(|_| 0).collect();
        self.sel = Selection::None;
        self.spec = spec;
        self.spec.at_ms = None;
        self.last_ts = None;
        self.sync_clock(ctx);
        self.write_hash();
        self.bump();
    }

    fn find_preset(&mut self, id: &str) -> Option<PresetInfo> {
        if let Some(list) = &self.presets {
            if let Some(p) = list.iter().find(|p| p.id == id) {
                return Some(p.clone());
            }
        }
        scenario::preset(id).map(|p| preset_info(&p))
    }

    fn ensure_presets(&mut self) {
        if self.presets.is_none() {
            let list: Vec<PresetInfo> = scenario::presets().iter().map(preset_info).collect();
            self.presets = Some(Rc::new(list));
        }
    }

    fn write_hash(&mut self) {
        let actions = self.world().actions().to_vec();
        self.spec.actions = actions;
        let h = self.spec.to_hash();
        if h != self.written_hash {
            dom::replace_hash(&h);
            self.written_hash = h;
        }
    }

    fn bump(&mut self) {
        self.rev += 1;
        self.rev_slow += 1;
    }

    /// Starts or stops the animation clock to match `playing`.
    fn sync_clock(&mut self, ctx: &Context<Self>) {
        if !self.playing {
            self.clock = None;
            self.interval = None;
            self.last_ts = None;
            return;
        }
        if self.reduced_motion {
            if self.interval.is_none() {
                let link = ctx.link().clone();
                self.interval = Some(gloo_timers::callback::Interval::new(250, move || {
                    link.send_message(Msg::Frame(dom::now_ms()))
                }));
            }
        } else if self.clock.is_none() {
            let link = ctx.link().clone();
            self.clock = Some(dom::FrameLoop::start(move |ts| {
                link.send_message(Msg::Frame(ts));
                true
            }));
        }
    }

    fn set_playing(&mut self, p: bool, ctx: &Context<Self>) {
        self.playing = p;
        self.sync_clock(ctx);
        self.bump();
    }

    fn toast(&mut self, text: String, ctx: &Context<Self>) {
        self.toast = Some(text);
        let link = ctx.link().clone();
        self.toast_timer = Some(gloo_timers::callback::Timeout::new(3_500, move || {
            link.send_message(Msg::ClearToast)
        }));
    }

    fn act(&mut self, a: Action, ctx: &Context<Self>) -> bool {
        let r = self.world_mut().act(a);
        match r {
            Ok(()) => {
                self.write_hash();
                self.bump();
                true
            }
            Err(e) => {
                let t = format!("{}: {e}", self.lang.tr().refused_action);
                self.toast(t, ctx);
                false
            }
        }
    }

    fn link_text(&self) -> String {
        let mut spec = self.spec.clone();
        spec.actions = self.world().actions().to_vec();
        if !self.playing {
            spec.at_ms = Some(self.world().now());
        }
        format!("{}#{}", dom::href_without_hash(), spec.to_hash())
    }

    fn export(&self) -> String {
        let link = self.link_text();
        crate::export::trace_json(&self.world(), &self.spec, &link)
    }

    fn on_key(&mut self, e: web_sys::KeyboardEvent, ctx: &Context<Self>) -> bool {
        if e.ctrl_key() || e.meta_key() || e.alt_key() || dom::in_text_field(&e) {
            return false;
        }
        let link = ctx.link();
        let k = e.key();
        let msg = match k.as_str() {
            " " | "k" => Some(Msg::TogglePlay),
            "." | "ArrowRight" => Some(Msg::Step),
            "," | "ArrowLeft" => Some(Msg::StepBack),
            "+" | "=" => Some(Msg::Faster),
            "-" | "_" => Some(Msg::Slower),
            "s" => Some(Msg::ToggleSlowmo),
            "[" => Some(Msg::Mark(false)),
            "]" => Some(Msg::Mark(true)),
            "?" | "h" => Some(Msg::ToggleHelp),
            "l" => Some(Msg::ToggleLang),
            "Escape" => Some(Msg::Escape),
            "c" | "t" => {
                if let Selection::Node(i) = self.sel {
                    let up = self.world().sim().is_up(i);
                    Some(Msg::Act(match (k.as_str(), up) {
                        ("c", true) => Action::Crash { node: i },
                        ("c", false) => Action::Restart { node: i },
                        _ => Action::Timeout { node: i },
                    }))
                } else {
                    None
                }
            }
            d if d.len() == 1 && d.as_bytes()[0].is_ascii_digit() => {
                let n = (d.as_bytes()[0] - b'0') as usize;
                let i = if n == 0 { 9 } else { n - 1 };
                Some(Msg::SelectNodeKey(i))
            }
            _ => None,
        };
        match msg {
            Some(m) => {
                e.prevent_default();
                link.send_message(m);
                false
            }
            None => false,
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
            if let Ok(k) = e.dyn_into::<web_sys::KeyboardEvent>() {
                link.send_message(Msg::Key(k));
            }
        });
        let link = ctx.link().clone();
        let hash = dom::Listener::window("hashchange", move |_| {
            link.send_message(Msg::HashChanged);
        });
        let placeholder = World::new(RunSpec::new(1).sim_config(), vec![]).expect("defaults work");
        let mut app = App {
            world: WorldRef(Rc::new(RefCell::new(placeholder))),
            spec: RunSpec::new(1),
            playing: true,
            lang,
            tab: Tab::Inspect,
            sel: Selection::None,
            speed_now: urlstate::DEFAULT_SPEED,
            pause_on_violation: true,
            help: false,
            toast: None,
            toast_timer: None,
            rev: 0,
            rev_slow: 0,
            last_panel: 0.0,
            last_slow: 0.0,
            last_ts: None,
            frame_start: None,
            clock: None,
            interval: None,
            reduced_motion,
            _listeners: vec![keys, hash],
            written_hash: String::new(),
            preset: None,
            presets: None,
            draft: Vec::new(),
            filter: Filter::All,
            on: ctx.link().callback(|m| m),
            flash: None,
            cut_line: None,
        };
        let h = dom::hash();
        let spec = app.spec_from_hash(&h);
        app.load(spec, ctx);
        app
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Self::Message) -> bool {
        match msg {
            Msg::Frame(ts) => {
                self.frame_start = Some(dom::now_ms());
                if !self.playing {
                    return false;
                }
                let dt = match self.last_ts {
                    Some(l) => (ts - l).clamp(0.0, 250.0),
                    None => 0.0,
                };
                self.last_ts = Some(ts);
                let r = self.world_mut().play(
                    dt,
                    self.spec.speed,
                    self.spec.slowmo,
                    FLIGHT_REAL_MS,
                    self.pause_on_violation,
                );
                // Slow motion never slows more than 300-fold below the chosen speed.
                self.speed_now = r.speed;
                if r.new_violation && self.pause_on_violation {
                    self.playing = false;
                    self.sync_clock(ctx);
                    let t = self.lang.tr().paused_violation.to_string();
                    self.toast(t, ctx);
                    self.bump();
                } else if ts - self.last_panel >= PANEL_EVERY_MS {
                    self.last_panel = ts;
                    self.rev += 1;
                    if ts - self.last_slow >= 5.0 * PANEL_EVERY_MS {
                        self.last_slow = ts;
                        self.rev_slow += 1;
                    }
                }
                true
            }
            Msg::TogglePlay => {
                let p = !self.playing;
                self.set_playing(p, ctx);
                true
            }
            Msg::Pause => {
                self.set_playing(false, ctx);
                true
            }
            Msg::Step => {
                self.set_playing(false, ctx);
                self.world_mut().step();
                self.bump();
                true
            }
            Msg::StepBack => {
                self.set_playing(false, ctx);
                let p = self.world().previous_moment();
                if let Some(t) = p {
                    self.world_mut().seek(t);
                }
                self.bump();
                true
            }
            Msg::SetSpeed(s) => {
                self.spec.speed = urlstate::clamp_speed(s);
                self.write_hash();
                true
            }
            Msg::Faster | Msg::Slower => {
                let cur = self.spec.speed;
                let next = if matches!(msg, Msg::Faster) {
                    SPEEDS
                        .iter()
                        .copied()
                        .find(|s| *s > cur * 1.001)
                        .unwrap_or(1000.0)
                } else {
                    SPEEDS
                        .iter()
                        .rev()
                        .copied()
                        .find(|s| *s < cur * 0.999)
                        .unwrap_or(0.1)
                };
                self.spec.speed = next;
                self.write_hash();
                true
            }
            Msg::ToggleSlowmo => {
                self.spec.slowmo = !self.spec.slowmo;
                self.write_hash();
                true
            }
            Msg::Seek(t) => {
                self.set_playing(false, ctx);
                self.world_mut().seek(t);
                self.bump();
                true
            }
            Msg::Act(a) => {
                self.act(a, ctx);
                true
            }
            Msg::ActMany(list) => {
                for a in list {
                    if !self.act(a, ctx) {
                        break;
                    }
                }
                true
            }
            Msg::Select(s) => {
                self.sel = s;
                if s != Selection::None && self.tab != Tab::Lanes {
                    self.tab = Tab::Inspect;
                }
                if matches!(s, Selection::Msg(_)) && self.playing {
                    // A moving message is hard to read: hold time while it is inspected.
                    self.set_playing(false, ctx);
                }
                self.bump();
                true
            }
            Msg::SelectNodeKey(i) => {
                if i < self.world().sim().len() {
                    self.sel = Selection::Node(i);
                    self.tab = Tab::Inspect;
                    self.bump();
                    true
                } else {
                    false
                }
            }
            Msg::SetTab(t) => {
                if t == Tab::Scenarios {
                    self.ensure_presets();
                }
                self.tab = t;
                self.bump();
                true
            }
            Msg::ToggleLang => {
                self.lang = self.lang.other();
                dom::store_lang(self.lang.tag());
                self.bump();
                true
            }
            Msg::NewRun(seed) => {
                let mut spec = RunSpec::new(seed.unwrap_or_else(dom::random_seed));
                spec.nodes = self.spec.nodes;
                spec.timings = self.spec.timings;
                spec.speed = self.spec.speed;
                spec.slowmo = self.spec.slowmo;
                self.load(spec, ctx);
                true
            }
            Msg::SetNodes(n) => {
                let mut spec = RunSpec::new(self.spec.seed);
                spec.nodes = n.clamp(3, urlstate::MAX_NODES);
                spec.timings = self.spec.timings;
                spec.speed = self.spec.speed;
                spec.slowmo = self.spec.slowmo;
                self.load(spec, ctx);
                true
            }
            Msg::SetTimings(t) => {
                let mut spec = RunSpec::new(self.spec.seed);
                spec.nodes = self.spec.nodes;
                spec.timings = t;
                spec.speed = self.spec.speed;
                spec.slowmo = self.spec.slowmo;
                self.load(spec, ctx);
                true
            }
            Msg::LoadScenario(id) => {
                if let Some(p) = scenario::preset(id) {
                    let spec = preset_spec(&p, story_speed(p.end_ms, self.spec.speed));
                    self.load(spec, ctx);
                    self.tab = Tab::Scenarios;
                }
                true
            }
            Msg::SwitchBranch(i) => {
                self.set_playing(false, ctx);
                self.world_mut().switch_branch(i);
                self.write_hash();
                self.bump();
                true
            }
            Msg::CopyLink => {
                let text = self.link_text();
                let link = ctx.link().clone();
                let t2 = text.clone();
                dom::copy(&text, move |ok| link.send_message(Msg::Copied(ok, t2)));
                false
            }
            Msg::Copied(ok, text) => {
                let t = if ok {
                    self.lang.tr().link_copied.to_string()
                } else {
                    text
                };
                self.toast(t, ctx);
                true
            }
            Msg::ClearToast => {
                self.toast = None;
                self.toast_timer = None;
                true
            }
            Msg::Export => {
                let doc = self.export();
                dom::download(
                    &format!(
                        "nacos-raft-seed{}-{}ms.json",
                        self.spec.seed,
                        self.world().now()
                    ),
                    "application/json",
                    &doc,
                );
                false
            }
            Msg::ToggleHelp => {
                self.help = !self.help;
                true
            }
            Msg::Escape => {
                if self.help {
                    self.help = false;
                } else {
                    self.sel = Selection::None;
                    self.bump();
                }
                true
            }
            Msg::HashChanged => {
                let h = dom::hash();
                if h != self.written_hash {
                    let spec = self.spec_from_hash(&h);
                    self.load(spec, ctx);
                    true
                } else {
                    false
                }
            }
            Msg::TogglePauseOnViolation => {
                self.pause_on_violation = !self.pause_on_violation;
                self.bump();
                true
            }
            Msg::SetFilter(f) => {
                self.filter = f;
                self.bump();
                true
            }
            Msg::SetDraft(d) => {
                self.draft = d;
                self.bump();
                true
            }
            Msg::Key(e) => self.on_key(e, ctx),
            Msg::Mark(forward) => {
                self.set_playing(false, ctx);
                let now = self.world().now();
                let target = {
                    let w = self.world();
                    let marks = w.marks().iter().map(|m| m.at_ms);
                    if forward {
                        marks.filter(|t| *t > now).min()
                    } else {
                        marks.filter(|t| *t < now).max()
                    }
                };
                if let Some(t) = target {
                    self.world_mut().seek(t);
                }
                self.bump();
                true
            }
            Msg::CutStart(p) => {
                self.cut_line = Some((p, p));
                true
            }
            Msg::CutMove(p) => {
                if let Some((a, _)) = self.cut_line {
                    self.cut_line = Some((a, p));
                    true
                } else {
                    false
                }
            }
            Msg::CutEnd => {
                let Some((a, b)) = self.cut_line.take() else {
                    return false;
                };
                let len = ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
                if len < 40.0 {
                    return true;
                }
                let n = self.world().sim().len();
                let actions: Vec<Action> = {
                    let w = self.world();
                    layout::links_crossed(n, a, b)
                        .into_iter()
                        .filter(|(x, y)| {
                            !(w.sim().net().is_cut(*x, *y) && w.sim().net().is_cut(*y, *x))
                        })
                        .map(|(x, y)| Action::Cut {
                            from: x,
                            to: y,
                            both: true,
                        })
                        .collect()
                };
                let count = actions.len();
                for act in actions {
                    if !self.act(act, ctx) {
                        break;
                    }
                }
                if count > 0 {
                    let t = format!("{count} {}", self.lang.tr().links_cut);
                    self.toast(t, ctx);
                }
                true
            }
        }
    }

    fn rendered(&mut self, _ctx: &Context<Self>, _first: bool) {
        if let Some(s) = self.frame_start.take() {
            dom::record_frame(dom::now_ms() - s);
        }
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let tr = self.lang.tr();
        let link = ctx.link();
        let w = self.world();
        let s = w.sim();
        let now = s.now();
        let linger = (FLIGHT_REAL_MS * self.speed_now).clamp(1.0, 4_000.0);
        let scene = layout::scene(&w, linger);
        let violations = s.violations();
        let hot: Vec<usize> = violations
            .iter()
            .rev()
            .take_while(|v| now.saturating_sub(v.at_ms) < 2 * s.config().timings.heartbeat_ms)
            .flat_map(|v| v.nodes.iter().copied())
            .collect();
        let ring = ring::view(&ring::RingProps {
            scene: &scene,
            sim: s,
            lang: self.lang,
            sel: self.sel,
            hot: &hot,
            reduced_motion: self.reduced_motion,
            on: &self.on,
            cut_line: self.cut_line,
        });
        let speed_slider = {
            // Notches 0.1×, 0.2×, 0.5×, 1×, … 1000× (a log scale); a speed from a link that is
            // between notches shows at the nearest one.
            let v = SPEEDS
                .iter()
                .position(|s| *s >= self.spec.speed * 0.999)
                .unwrap_or(SPEEDS.len() - 1);
            let oninput = link.callback(|e: InputEvent| {
                let el: web_sys::HtmlInputElement = e.target_unchecked_into();
                let v: usize = el.value().parse().unwrap_or(6);
                Msg::SetSpeed(SPEEDS[v.min(SPEEDS.len() - 1)])
            });
            html! {
                <input type="range" min="0" max={(SPEEDS.len() - 1).to_string()} step="1" value={v.to_string()}
                    aria-label={tr.speed} aria-valuetext={format!("{}×", fmt_speed(self.spec.speed))}
                    data-testid="speed" {oninput} />
            }
        };
        let speed_text =
            if self.spec.slowmo && self.playing && (self.speed_now + 1e-9) < self.spec.speed {
                format!(
                    "{}× → {}×",
                    fmt_speed(self.spec.speed),
                    fmt_speed((self.speed_now * 1000.0).round() / 1000.0)
                )
            } else {
                format!("{}×", fmt_speed(self.spec.speed))
            };
        let nodes_select = {
            let onchange = link.callback(|e: Event| {
                let el: web_sys::HtmlSelectElement = e.target_unchecked_into();
                Msg::SetNodes(el.value().parse().unwrap_or(5))
            });
            html! {
                <select aria-label={tr.nodes} data-testid="nodes" {onchange}>
                    { for (3..=urlstate::MAX_NODES).map(|n| html! {
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
                    <option value="nacos" selected={self.spec.timings == Timings::Nacos}>{ tr.timings_nacos }</option>
                    <option value="fast" selected={self.spec.timings == Timings::Fast}>{ tr.timings_fast }</option>
                </select>
            }
        };
        let seed_input = {
            let onchange = link.callback(|e: Event| {
                let el: web_sys::HtmlInputElement = e.target_unchecked_into();
                Msg::NewRun(el.value().trim().parse().ok())
            });
            html! {
                <input class="seed" type="text" inputmode="numeric" aria-label={tr.seed}
                    value={self.spec.seed.to_string()} data-testid="seed" {onchange} />
            }
        };
        let leader = s.cluster_leader();
        let status_line = match leader {
            Some(l) => format!(
                "{} {} · {} {}",
                tr.state_leader,
                letter(l),
                tr.term,
                s.node(l).map(|n| n.local().term).unwrap_or(0)
            ),
            None => format!("{} —", tr.state_leader),
        };
        let tab_button = |t: Tab, label: &'static str| {
            let onclick = link.callback(move |_| Msg::SetTab(t));
            html! {
                <button role="tab" data-tab={format!("{t:?}").to_ascii_lowercase()} class={classes!("tab", (self.tab == t).then_some("on"))}
                    aria-selected={(self.tab == t).to_string()} {onclick}>{ label }</button>
            }
        };
        let wref = self.world.clone();
        let panel_common = panels::Common {
            world: wref.clone(),
            rev: self.rev,
            lang: self.lang,
            on: self.on.clone(),
        };
        // Hidden panels stay in the page (the event log is part of the DOM contract) but are
        // refreshed less often.
        let common_for = |t: Tab| panels::Common {
            rev: if self.tab == t {
                self.rev
            } else {
                self.rev_slow
            },
            ..panel_common.clone()
        };
        let violations_box = html! {
            <panels::Safety common={panel_common.clone()} pause_on_violation={self.pause_on_violation} />
        };
        html! {
            <div class={classes!("app", self.reduced_motion.then_some("reduced"))}>
                <header class="top">
                    <div class="brand">
                        <h1>{ tr.title }</h1>
                        <p class="sub">{ tr.subtitle }</p>
                    </div>
                    <div class="setup">
                        <label>{ tr.nodes }{" "}{ nodes_select }</label>
                        <label>{ tr.timings }{" "}{ timings_select }</label>
                        <label>{ tr.seed }{" "}{ seed_input }</label>
                        <button onclick={link.callback(|_| Msg::NewRun(None))} data-testid="new-run">{ tr.new_seed }</button>
                        <button onclick={link.callback(|_| Msg::CopyLink)} data-testid="copy-link">{ tr.copy_link }</button>
                        <button onclick={link.callback(|_| Msg::Export)} data-testid="export">{ tr.export }</button>
                        <button onclick={link.callback(|_| Msg::ToggleLang)} data-testid="lang" lang={self.lang.other().tag()}>{ tr.lang_switch }</button>
                        <button onclick={link.callback(|_| Msg::ToggleHelp)} data-testid="help" aria-label={tr.help}>{ "?" }</button>
                    </div>
                </header>
                if let Some(f) = &self.flash {
                    <div class="flash" role="alert">{ f }</div>
                }
                if let Some(p) = &self.preset {
                    { self.caption(p) }
                }
                <main class="main">
                    <section class="stage">
                        <div class="transport" role="toolbar">
                            <button class="play" data-testid="play" data-playing={self.playing.to_string()}
                                onclick={link.callback(|_| Msg::TogglePlay)}
                                title={if self.playing { tr.pause } else { tr.play }}>
                                { icon(if self.playing { ICON_PAUSE } else { ICON_PLAY }) }{ if self.playing { tr.pause } else { tr.play } }
                            </button>
                            <button data-testid="step-back" onclick={link.callback(|_| Msg::StepBack)} title={tr.step_back}>{ icon(ICON_BACK) }{ tr.step_back }</button>
                            <button data-testid="step" onclick={link.callback(|_| Msg::Step)} title={tr.step}>{ icon(ICON_STEP) }{ tr.step }</button>
                            <button class="mark-nav" data-testid="prev-mark" onclick={link.callback(|_| Msg::Mark(false))} title={tr.prev_mark} aria-label={tr.prev_mark}>{ "◆◂" }</button>
                            <button class="mark-nav" data-testid="next-mark" onclick={link.callback(|_| Msg::Mark(true))} title={tr.next_mark} aria-label={tr.next_mark}>{ "▸◆" }</button>
                            <label class="speed">{ tr.speed }{" "}{ speed_slider }<span class="speed-val" data-testid="speed-value">{ speed_text }</span></label>
                            <label class="check" title={tr.slowmo_hint}>
                                <input type="checkbox" checked={self.spec.slowmo} onchange={link.callback(|_| Msg::ToggleSlowmo)} data-testid="slowmo" />
                                { tr.slowmo }
                            </label>
                            <span class="clock" data-clock-ms={now.to_string()} title={tr.clock}>{ clock_text(now) }</span>
                            <span class="status" data-testid="status" aria-live="polite">{ status_line }</span>
                        </div>
                        { ring }
                        <timeline::Timeline common={panel_common.clone()} now={now} playing={self.playing} />
                        { violations_box }
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
                        <div class="panel" hidden={self.tab != Tab::Inspect}>
                            <panels::Inspector common={common_for(Tab::Inspect)} sel={self.sel} />
                        </div>
                        <div class="panel" hidden={self.tab != Tab::Events}>
                            <panels::EventLog common={common_for(Tab::Events)} filter={self.filter} />
                        </div>
                        <div class="panel" hidden={self.tab != Tab::Lanes}>
                            if self.tab == Tab::Lanes {
                                <panels::Lanes common={panel_common.clone()} sel={self.sel} />
                            }
                        </div>
                        <div class="panel" hidden={self.tab != Tab::Data}>
                            if self.tab == Tab::Data {
                                <panels::DataView common={panel_common.clone()} />
                            }
                        </div>
                        <div class="panel" hidden={self.tab != Tab::Network}>
                            <panels::Network common={common_for(Tab::Network)} draft={self.draft.clone()} />
                        </div>
                        <div class="panel" hidden={self.tab != Tab::Scenarios}>
                            <panels::Scenarios common={common_for(Tab::Scenarios)}
                                presets={self.presets.clone()} current={self.preset.as_ref().map(|p| p.id)} />
                        </div>
                    </aside>
                </main>
                if self.help {
                    <panels::Help lang={self.lang} on={self.on.clone()} />
                }
                if let Some(t) = &self.toast {
                    <div class="toast" role="status" aria-live="polite" data-testid="toast">{ t }</div>
                }
            </div>
        }
    }
}

impl App {
    fn spec_from_hash(&mut self, h: &str) -> RunSpec {
        if h.is_empty() {
            return RunSpec::new(dom::random_seed());
        }
        let has_seed = h.split('&').any(|p| p.starts_with("seed="));
        let scenario_only = h
            .split('&')
            .find_map(|p| p.strip_prefix("scenario="))
            .filter(|_| !has_seed);
        if let Some(id) = scenario_only {
            if let Some(p) = scenario::preset(id) {
                return preset_spec(&p, story_speed(p.end_ms, urlstate::DEFAULT_SPEED));
            }
        }
        match RunSpec::parse(h, dom::random_seed()) {
            Ok(s) => {
                self.flash = None;
                s
            }
            Err(e) => {
                self.flash = Some(format!("{}: {e}", self.lang.tr().bad_link));
                RunSpec::new(dom::random_seed())
            }
        }
    }

    fn caption(&self, p: &PresetInfo) -> Html {
        let (title, caption) = describe::scenario_text(self.lang, p.id, p.title, p.caption);
        html! {
            <div class="caption" data-testid="caption" data-scenario={p.id}>
                <strong>{ title }</strong>{ " — " }{ caption }
            </div>
        }
    }
}

const ICON_PLAY: &str = "M4 2 L14 8 L4 14 Z";
const ICON_PAUSE: &str = "M3 2h4v12H3z M9 2h4v12H9z";
const ICON_STEP: &str = "M2 2 L10 8 L2 14 Z M11 2h3v12h-3z";
const ICON_BACK: &str = "M14 2 L6 8 L14 14 Z M2 2h3v12H2z";

fn icon(d: &'static str) -> Html {
    html! { <svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><path d={d} /></svg> }
}

/// Node state as the DOM contract spells it.
pub fn state_attr(s: Option<PeerState>) -> &'static str {
    match s {
        Some(p) => p.as_str(),
        None => "DOWN",
    }
}
