//! The page's state and every change to it: a message ([`Msg`]) goes in, the state changes, and
//! what the browser must do about it comes out as [`Effect`]s (write the hash, start the clock,
//! copy, download, show a toast). No Yew and no browser types here: whatever the browser gives
//! (the hash, a random seed, a frame's timestamp) arrives inside the message, so every change is
//! tested on the host. The component (`component.rs`) renders the state and carries out the
//! effects; the panels only send messages.

use super::keys::{self, Command};
use crate::describe::Topic;
use crate::i18n::{Lang, Texts};
use crate::layout;
use crate::model::World;
use crate::teach::{self, Chapter};
use crate::urlstate::{self, RulesMode, RunSpec, Timings};
use nacos_raft_core::sim::scenario;
use nacos_raft_core::sim::{Action, MsgId};
use nacos_raft_core::{Fix, Rules};
use std::cell::RefCell;
use std::rc::Rc;

/// Real ms a message of average latency takes to cross in slow motion.
pub const FLIGHT_REAL_MS: f64 = 600.0;
/// Real ms between panel refreshes while playing (hidden panels: five times that).
pub const PANEL_EVERY_MS: f64 = 200.0;
/// How long a toast stays, real ms.
pub const TOAST_MS: u32 = 3_500;
/// Virtual ms after a chapter starts and before the next one during which a story plays at the
/// chosen speed (what happens around a chapter's moment is worth watching).
const QUIET_MARGIN_MS: u64 = 1_000;
/// Real ms a story's quiet stretch between two chapters takes at most.
const QUIET_REAL_MS: f64 = 6_000.0;
/// The fastest a quiet stretch runs (virtual ms per real ms).
const QUIET_MAX_SPEED: f64 = 5_000.0;
/// The shortest line, in SVG units, that counts as drawing a cut (shorter: a click).
const CUT_MIN_LEN: f64 = 40.0;

/// The world, shared with the panels (equal when it is the same world).
#[derive(Clone)]
pub struct WorldRef(pub Rc<RefCell<World>>);

impl PartialEq for WorldRef {
    fn eq(&self, o: &Self) -> bool {
        Rc::ptr_eq(&self.0, &o.0)
    }
}

impl WorldRef {
    fn new(w: World) -> WorldRef {
        WorldRef(Rc::new(RefCell::new(w)))
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

impl Filter {
    /// Whether the log shows events of `topic` (routine beats only unfiltered).
    pub fn keeps(self, topic: Topic) -> bool {
        match self {
            Filter::All => true,
            Filter::Election => topic == Topic::Election,
            Filter::Data => topic == Topic::Data,
            Filter::Faults => topic == Topic::Fault,
        }
    }

    /// From the filter menu's `<option value>` (anything else: everything).
    pub fn from_value(v: &str) -> Filter {
        match v {
            "election" => Filter::Election,
            "data" => Filter::Data,
            "faults" => Filter::Faults,
            _ => Filter::All,
        }
    }
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

impl PresetInfo {
    fn of(p: &scenario::Preset) -> PresetInfo {
        PresetInfo {
            id: p.id,
            title: p.title,
            caption: p.caption,
            end_ms: p.end_ms,
        }
    }
}

/// A point in the ring's SVG coordinates.
pub type Point = (f64, f64);

/// Everything the page reacts to.
#[derive(Clone, Debug, PartialEq)]
pub enum Msg {
    /// A display frame at this timestamp (real ms).
    Frame(f64),
    /// Play or pause.
    TogglePlay,
    /// Pause, step to the next moment something happens.
    Step,
    /// Pause, back to the previous moment something happened.
    StepBack,
    /// A speed from the slider.
    SetSpeed(f64),
    /// The next speed notch up.
    Faster,
    /// The next speed notch down.
    Slower,
    /// Slow motion on or off.
    ToggleSlowmo,
    /// Pause and travel to this virtual ms.
    Seek(u64),
    /// Act on the world at the playhead (in the past: forks a branch).
    Act(Action),
    /// Several actions, stopping at the first refused one.
    ActMany(Vec<Action>),
    /// Inspect something.
    Select(Selection),
    /// Show a tab.
    SetTab(Tab),
    /// The other language.
    ToggleLang,
    /// A new run with this seed, keeping the node count, timings, speed and slow motion.
    NewRun(u64),
    /// A new run of `n` nodes with the same seed.
    SetNodes(usize),
    /// A new run with these timings and the same seed.
    SetTimings(Timings),
    /// A preset (under the rules in use: one ring or Compare).
    LoadScenario(&'static str),
    /// A preset in Compare mode.
    CompareScenario(&'static str),
    /// One ring under Nacos 1.4.1 or the hardened rules, or Compare: the same run (seed and
    /// actions) again, paused at the same moment.
    SetRules(RulesMode),
    /// Compare mode: switch one fix of the right ring on or off (the right ring is rebuilt).
    SetFix(Fix, bool),
    /// Show another branch again.
    SwitchBranch(usize),
    /// Copy the link of this run (paused: of this moment).
    CopyLink,
    /// The clipboard's answer: copied, or not (then the toast shows the link).
    Copied(bool, String),
    /// The toast's time is up.
    ClearToast,
    /// Download the trace.
    Export,
    /// Show or hide the help.
    ToggleHelp,
    /// Close the help, or deselect.
    Escape,
    /// The page opens with this hash; `seed` if the hash has none.
    Open {
        /// The location hash, without `#`.
        hash: String,
        /// A fresh random seed.
        seed: u64,
    },
    /// The hash changed (the person edited it, or went back in the history).
    HashChanged {
        /// The location hash, without `#`.
        hash: String,
        /// A fresh random seed.
        seed: u64,
    },
    /// Pause on a new violation, or not.
    TogglePauseOnViolation,
    /// Filter the event log.
    SetFilter(Filter),
    /// The partition being built in the Network tab (a group per node).
    SetDraft(Vec<u8>),
    /// A form field typed in or a choice made in a panel.
    Form(FormEdit),
    /// A keyboard shortcut.
    Key(Command),
    /// Pause at the next (true) or previous mark of the timeline.
    Mark(bool),
    /// A cut line starts here (the pointer went down on an empty spot of the ring).
    CutStart(Point),
    /// The cut line now ends here.
    CutMove(Point),
    /// The pointer went up: cut every link the line crosses.
    CutEnd,
    /// Close the start card for good.
    DismissStart,
}

/// What the panels' forms hold: the person's drafts and choices. They live in the state, not in
/// the panels, so that the panels keep no state and share one component type (issue 14: each
/// component type is ~2-3 KB of wasm).
#[derive(Clone, Debug, PartialEq)]
pub struct Forms {
    /// The node inspector's publish form: the service name.
    pub service: String,
    /// The publish form: the instance's IP.
    pub ip: String,
    /// The Network tab's loss in percent as typed (`None`: the network's own, until typed in).
    pub loss: Option<String>,
    /// The Network tab's latency range in ms as typed (`None`: the network's own).
    pub lat: (Option<String>, Option<String>),
    /// The data matrix's reference node (`None`: the leader).
    pub against: Option<usize>,
    /// Whether the data matrix shows values instead of timestamps.
    pub values: bool,
}

impl Default for Forms {
    fn default() -> Forms {
        Forms {
            service: "demo-service".into(),
            ip: "127.0.0.7".into(),
            loss: None,
            lat: (None, None),
            against: None,
            values: false,
        }
    }
}

/// One change of [`Forms`].
#[derive(Clone, Debug, PartialEq)]
pub enum FormEdit {
    /// The publish form's service name.
    Service(String),
    /// The publish form's IP.
    Ip(String),
    /// The loss field.
    Loss(String),
    /// The latency's minimum field.
    LatMin(String),
    /// The latency's maximum field.
    LatMax(String),
    /// The data matrix's reference node.
    Against(Option<usize>),
    /// Values or timestamps in the data matrix.
    Values(bool),
}

impl Forms {
    /// Applies `e`.
    fn edit(&mut self, e: FormEdit) {
        match e {
            FormEdit::Service(v) => self.service = v,
            FormEdit::Ip(v) => self.ip = v,
            FormEdit::Loss(v) => self.loss = Some(v),
            FormEdit::LatMin(v) => self.lat.0 = Some(v),
            FormEdit::LatMax(v) => self.lat.1 = Some(v),
            FormEdit::Against(a) => self.against = a,
            FormEdit::Values(v) => self.values = v,
        }
    }
}

/// What the browser must do after a change.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Put this hash in the address bar, without a history entry and without `hashchange`.
    WriteHash(String),
    /// Run (true) or stop the animation clock, which sends [`Msg::Frame`]s.
    Clock(bool),
    /// (Re)start the toast's timer: [`Msg::ClearToast`] after [`TOAST_MS`].
    ToastTimer,
    /// Copy this text to the clipboard, then send [`Msg::Copied`].
    Copy(String),
    /// Offer a file for download.
    Download {
        /// The file name.
        name: String,
        /// Its MIME type.
        mime: &'static str,
        /// Its content.
        text: String,
    },
    /// Remember the language (`localStorage`, `<html lang>`).
    StoreLang(Lang),
    /// Remember that the start card was dismissed (`localStorage`).
    StoreStartDismissed,
}

/// What [`State::update`] did.
#[derive(Debug, PartialEq)]
pub struct Outcome {
    /// Whether the page must render again.
    pub render: bool,
    /// What the browser must do, in order.
    pub effects: Vec<Effect>,
}

/// The page's state.
pub struct State {
    /// The simulated world, shared with the panels (in Compare mode, the left ring's:
    /// Nacos 1.4.1; the timeline, the panels and the URL's actions are this world's).
    pub world: WorldRef,
    /// Compare mode: the same seed and actions under [`RunSpec::right`], kept at the left
    /// world's time (one clock), every action applied to both.
    pub right: Option<WorldRef>,
    /// The run as the URL holds it (its actions are the world's; `at_ms` is always `None`).
    pub spec: RunSpec,
    /// Whether time runs.
    pub playing: bool,
    /// The page's language.
    pub lang: Lang,
    /// The side panel's tab.
    pub tab: Tab,
    /// What the inspector shows.
    pub sel: Selection,
    /// The speed of the last frame (slow motion may lower it).
    pub speed_now: f64,
    /// Whether a new violation pauses.
    pub pause_on_violation: bool,
    /// Whether the help is open.
    pub help: bool,
    /// A short notice.
    pub toast: Option<String>,
    /// A notice that stays (a link that could not be read).
    pub flash: Option<String>,
    /// Revision of what the visible panels show (a panel renders again when it changes).
    pub rev: u64,
    /// Revision for hidden panels (refreshed once a second while playing).
    pub rev_slow: u64,
    /// Whether the person asked for reduced motion (the clock then ticks four times a second).
    pub reduced_motion: bool,
    /// The preset this run came from.
    pub preset: Option<PresetInfo>,
    /// Every preset, once the Scenarios tab was opened.
    pub presets: Option<Rc<Vec<PresetInfo>>>,
    /// The partition being built (a group per node).
    pub draft: Vec<u8>,
    /// What the panels' forms hold.
    pub forms: Forms,
    /// The event log's filter.
    pub filter: Filter,
    /// The cut line being drawn.
    pub cut_line: Option<(Point, Point)>,
    /// Whether the start card was dismissed (on this visit or an earlier one).
    pub start_dismissed: bool,
    /// The chapters of the preset's story (empty without a preset).
    pub chapters: Vec<Chapter>,
    /// The fields of the opened hash that could not be read: (name, why).
    pub url_errors: Vec<(String, String)>,
    /// Whether the last frame ran fast through a quiet stretch of a story.
    pub fast_stretch: bool,
    /// The page's address without the hash (shared links start with it).
    page: String,
    last_panel: f64,
    last_slow: f64,
    last_ts: Option<f64>,
    written_hash: String,
    fx: Vec<Effect>,
    /// How many of the right world's violations were reported (as `World` counts the left's).
    right_seen: usize,
}

/// The run spec of a preset, played at `speed`.
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
        rules: RulesMode::default(),
        right: Rules::Hardened,
    }
}

impl State {
    /// The state before the first [`Msg::Open`]: a placeholder world, nothing written yet.
    pub fn new(lang: Lang, reduced_motion: bool, page: String) -> State {
        let spec = RunSpec::new(1);
        let world = World::new(spec.sim_config(), vec![]).expect("defaults work");
        State {
            world: WorldRef::new(world),
            right: None,
            spec,
            playing: true,
            lang,
            tab: Tab::Inspect,
            sel: Selection::None,
            speed_now: urlstate::DEFAULT_SPEED,
            pause_on_violation: true,
            help: false,
            toast: None,
            flash: None,
            rev: 0,
            rev_slow: 0,
            reduced_motion,
            preset: None,
            presets: None,
            draft: Vec::new(),
            forms: Forms::default(),
            filter: Filter::All,
            cut_line: None,
            start_dismissed: false,
            chapters: Vec::new(),
            url_errors: Vec::new(),
            fast_stretch: false,
            page,
            last_panel: 0.0,
            last_slow: 0.0,
            last_ts: None,
            written_hash: String::new(),
            fx: Vec::new(),
            right_seen: 0,
        }
    }

    /// The world, to read.
    pub fn world(&self) -> std::cell::Ref<'_, World> {
        self.world.0.borrow()
    }

    fn world_mut(&self) -> std::cell::RefMut<'_, World> {
        self.world.0.borrow_mut()
    }

    /// The right world of Compare mode, to read.
    pub fn right_world(&self) -> Option<std::cell::Ref<'_, World>> {
        self.right.as_ref().map(|r| r.0.borrow())
    }

    /// Applies `msg`.
    pub fn update(&mut self, msg: Msg) -> Outcome {
        let mut render = self.apply(msg);
        // One clock: whatever moved the left world's time moves the right one's to it.
        render |= self.sync_right();
        Outcome {
            render,
            effects: std::mem::take(&mut self.fx),
        }
    }

    /// The change of `msg`; whether to render.
    fn apply(&mut self, msg: Msg) -> bool {
        match msg {
            Msg::Frame(ts) => return self.frame(ts),
            Msg::TogglePlay => self.set_playing(!self.playing),
            Msg::Step => {
                self.set_playing(false);
                let t = self.world_mut().step();
                // Compare: the next moment of either ring (the other one goes there too).
                let other = self.right.as_ref().map(|r| r.0.borrow_mut().step());
                if let Some(o) = other.filter(|o| *o < t) {
                    self.world_mut().seek(o);
                }
                self.bump();
            }
            Msg::StepBack => {
                self.set_playing(false);
                let left = self.world().previous_moment();
                let right = self.right_world().and_then(|r| r.previous_moment());
                if let Some(t) = left.max(right) {
                    self.world_mut().seek(t);
                }
                self.bump();
            }
            Msg::SetSpeed(s) => {
                self.spec.speed = urlstate::clamp_speed(s);
                self.write_hash();
            }
            Msg::Faster => {
                self.spec.speed = keys::faster(self.spec.speed);
                self.write_hash();
            }
            Msg::Slower => {
                self.spec.speed = keys::slower(self.spec.speed);
                self.write_hash();
            }
            Msg::ToggleSlowmo => {
                self.spec.slowmo = !self.spec.slowmo;
                self.write_hash();
            }
            Msg::Seek(t) => self.seek(t),
            Msg::Act(a) => {
                self.act(a);
            }
            Msg::ActMany(list) => {
                for a in list {
                    if !self.act(a) {
                        break;
                    }
                }
            }
            Msg::Select(s) => {
                self.sel = s;
                if s != Selection::None && self.tab != Tab::Lanes {
                    self.tab = Tab::Inspect;
                }
                if matches!(s, Selection::Msg(_)) && self.playing {
                    // A moving message is hard to read: hold time while it is inspected.
                    self.set_playing(false);
                }
                self.bump();
            }
            Msg::SetTab(t) => {
                if t == Tab::Scenarios && self.presets.is_none() {
                    let list = scenario::presets().iter().map(PresetInfo::of).collect();
                    self.presets = Some(Rc::new(list));
                }
                self.tab = t;
                self.bump();
            }
            Msg::ToggleLang => {
                self.lang = self.lang.other();
                self.fx.push(Effect::StoreLang(self.lang));
                self.bump();
            }
            Msg::NewRun(seed) => self.load(self.same_setup(seed)),
            Msg::SetNodes(n) => {
                let mut spec = self.same_setup(self.spec.seed);
                spec.nodes = n.clamp(3, urlstate::MAX_NODES);
                self.load(spec);
            }
            Msg::SetTimings(t) => {
                let mut spec = self.same_setup(self.spec.seed);
                spec.timings = t;
                self.load(spec);
            }
            Msg::LoadScenario(id) => self.load_scenario(id, self.spec.rules),
            Msg::CompareScenario(id) => self.load_scenario(id, RulesMode::Compare),
            Msg::SetRules(mode) => {
                let mut spec = self.spec.clone();
                spec.actions = self.world().actions().to_vec();
                spec.rules = mode;
                spec.at_ms = Some(self.world().now());
                let playing = self.playing;
                self.load(spec);
                if playing {
                    self.set_playing(true);
                }
            }
            Msg::SetFix(fix, on) => {
                if !self.spec.rules.is_compare() {
                    return false;
                }
                let fixes = self.spec.right.fixes().with(fix, on);
                self.spec.right = Rules::Custom(fixes).normalized();
                self.rebuild_right();
                self.write_hash();
                self.bump();
            }
            Msg::SwitchBranch(i) => {
                self.set_playing(false);
                self.world_mut().switch_branch(i);
                // The right ring follows the branch's actions (its own branch list is not kept).
                self.rebuild_right();
                self.write_hash();
                self.bump();
            }
            Msg::CopyLink => {
                self.fx.push(Effect::Copy(self.link()));
                return false;
            }
            Msg::Copied(ok, link) => {
                let text = if ok {
                    self.lang.tr().link_copied.to_string()
                } else {
                    link
                };
                self.show_toast(text);
            }
            Msg::ClearToast => self.toast = None,
            Msg::Export => {
                let text = crate::export::trace_json(&self.world(), &self.spec, &self.link());
                let name = format!(
                    "nacos-raft-seed{}-{}ms.json",
                    self.spec.seed,
                    self.world().now()
                );
                self.fx.push(Effect::Download {
                    name,
                    mime: "application/json",
                    text,
                });
                return false;
            }
            Msg::ToggleHelp => self.help = !self.help,
            Msg::Escape => {
                if self.help {
                    self.help = false;
                } else {
                    self.sel = Selection::None;
                    self.bump();
                }
            }
            Msg::Open { hash, seed } => {
                let spec = self.spec_from_hash(&hash, seed);
                self.load(spec);
            }
            Msg::HashChanged { hash, seed } => {
                if hash == self.written_hash {
                    return false;
                }
                let spec = self.spec_from_hash(&hash, seed);
                self.load(spec);
            }
            Msg::TogglePauseOnViolation => {
                self.pause_on_violation = !self.pause_on_violation;
                self.bump();
            }
            Msg::SetFilter(f) => {
                self.filter = f;
                self.bump();
            }
            Msg::SetDraft(d) => {
                self.draft = d;
                self.bump();
            }
            Msg::Form(e) => self.forms.edit(e),
            Msg::Key(c) => return self.key(c),
            Msg::Mark(forward) if !self.chapters.is_empty() => self.chapter_step(forward),
            Msg::Mark(forward) => {
                self.set_playing(false);
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
            }
            Msg::CutStart(p) => self.cut_line = Some((p, p)),
            Msg::CutMove(p) => match &mut self.cut_line {
                Some((_, end)) => *end = p,
                None => return false,
            },
            Msg::CutEnd => return self.cut_end(),
            Msg::DismissStart => {
                self.start_dismissed = true;
                self.fx.push(Effect::StoreStartDismissed);
            }
        }
        true
    }

    /// One frame of playback.
    fn frame(&mut self, ts: f64) -> bool {
        if !self.playing {
            return false;
        }
        let dt = match self.last_ts {
            Some(l) => (ts - l).clamp(0.0, 250.0),
            None => 0.0,
        };
        self.last_ts = Some(ts);
        let before = self.world().now();
        let (speed, slowmo) = match self.quiet_stretch_speed(before) {
            Some(fast) => (fast, false),
            None => (self.spec.speed, self.spec.slowmo),
        };
        self.fast_stretch = !slowmo && self.spec.slowmo || speed > self.spec.speed;
        let mut r =
            self.world_mut()
                .play(dt, speed, slowmo, FLIGHT_REAL_MS, self.pause_on_violation);
        self.sync_right();
        r.new_violation |= self.pause_on_violation && self.right_new_violation();
        self.speed_now = r.speed;
        let end = self.preset.as_ref().map(|p| p.end_ms);
        let story_ended = end.is_some_and(|e| before < e && self.world().now() >= e);
        if story_ended && !r.new_violation {
            // The story's end: a pause with "what you saw" and "try next" (play goes on).
            self.fast_stretch = false;
            self.set_playing(false);
        } else if r.new_violation && self.pause_on_violation {
            self.set_playing(false);
            self.show_toast(self.lang.tr().paused_violation.to_string());
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

    fn key(&mut self, c: Command) -> bool {
        let msg = match c {
            Command::TogglePlay => Msg::TogglePlay,
            Command::Step => Msg::Step,
            Command::StepBack => Msg::StepBack,
            Command::Faster => Msg::Faster,
            Command::Slower => Msg::Slower,
            Command::ToggleSlowmo => Msg::ToggleSlowmo,
            Command::Mark(f) => Msg::Mark(f),
            Command::Help => Msg::ToggleHelp,
            Command::Lang => Msg::ToggleLang,
            Command::Escape => Msg::Escape,
            Command::CrashOrRestart | Command::TimeoutNow => {
                let Selection::Node(i) = self.sel else {
                    return false;
                };
                let up = self.world().sim().is_up(i);
                Msg::Act(match (c, up) {
                    (Command::CrashOrRestart, true) => Action::Crash { node: i },
                    (Command::CrashOrRestart, false) => Action::Restart { node: i },
                    _ => Action::Timeout { node: i },
                })
            }
            Command::Node(i) => {
                if i >= self.world().sim().len() {
                    return false;
                }
                self.sel = Selection::Node(i);
                self.tab = Tab::Inspect;
                self.bump();
                return true;
            }
        };
        self.apply(msg)
    }

    fn cut_end(&mut self) -> bool {
        let Some((a, b)) = self.cut_line.take() else {
            return false;
        };
        if ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt() < CUT_MIN_LEN {
            return true;
        }
        let actions: Vec<Action> = {
            let w = self.world();
            let s = w.sim();
            layout::links_crossed(s.len(), a, b)
                .into_iter()
                .filter(|(x, y)| !(s.net().is_cut(*x, *y) && s.net().is_cut(*y, *x)))
                .map(|(x, y)| Action::Cut {
                    from: x,
                    to: y,
                    both: true,
                })
                .collect()
        };
        let count = actions.len();
        for act in actions {
            if !self.act(act) {
                break;
            }
        }
        if count > 0 {
            self.show_toast(format!("{count} {}", self.lang.tr().links_cut));
        }
        true
    }

    /// Loads preset `id` under `rules`.
    fn load_scenario(&mut self, id: &str, rules: RulesMode) {
        if let Some(p) = scenario::preset(id) {
            let mut spec = preset_spec(&p, keys::story_speed(p.end_ms, self.spec.speed));
            spec.rules = rules;
            spec.right = self.spec.right;
            self.load(spec);
            self.tab = Tab::Scenarios;
        }
    }

    /// Compare mode: brings the right world to the left one's time. Whether it moved.
    fn sync_right(&mut self) -> bool {
        let Some(r) = &self.right else {
            return false;
        };
        let t = self.world.0.borrow().now();
        let mut r = r.0.borrow_mut();
        if r.now() == t {
            return false;
        }
        r.seek(t);
        true
    }

    /// Whether the right world holds a violation not reported yet (and marks it reported).
    fn right_new_violation(&mut self) -> bool {
        let n = self.right_world().map_or(0, |r| r.sim().violations().len());
        let new = n > self.right_seen;
        self.right_seen = self.right_seen.max(n);
        new
    }

    /// Compare mode: the right world again, from the left one's actions under the right rules,
    /// at the left one's time. Outside Compare mode: none.
    fn rebuild_right(&mut self) {
        if !self.spec.rules.is_compare() {
            self.right = None;
            return;
        }
        let actions = self.world().actions().to_vec();
        let now = self.world().now();
        match World::new(self.spec.right_sim_config(), actions) {
            Ok(mut w) => {
                w.seek(now);
                // What already happened is not news: only violations after this point pause.
                self.right_seen = w.sim().violations().len();
                self.right = Some(WorldRef::new(w));
            }
            Err(e) => {
                self.right = None;
                self.flash = Some(format!("{}: {e}", self.lang.tr().bad_link));
            }
        }
    }

    /// A fresh run with `seed` that keeps how this one is set up and watched.
    fn same_setup(&self, seed: u64) -> RunSpec {
        RunSpec {
            rules: self.spec.rules,
            right: self.spec.right,
            nodes: self.spec.nodes,
            timings: self.spec.timings,
            speed: self.spec.speed,
            slowmo: self.spec.slowmo,
            ..RunSpec::new(seed)
        }
    }

    /// The run of a hash (a random one with `seed` if the hash is empty or unreadable).
    fn spec_from_hash(&mut self, h: &str, seed: u64) -> RunSpec {
        if h.is_empty() {
            return RunSpec::new(seed);
        }
        let has_seed = h.split('&').any(|p| p.starts_with("seed="));
        let scenario_only = h
            .split('&')
            .find_map(|p| p.strip_prefix("scenario="))
            .filter(|_| !has_seed);
        self.flash = None;
        let (spec, bad) = RunSpec::parse_keeping_valid(h, seed);
        self.url_errors = bad;
        if let Some(p) = scenario_only.and_then(scenario::preset) {
            // A preset by name, under the rules the hash asks for (`scenario=ID&rules=compare`).
            let mut preset = preset_spec(&p, keys::story_speed(p.end_ms, urlstate::DEFAULT_SPEED));
            preset.rules = spec.rules;
            preset.right = spec.right;
            return preset;
        }
        spec
    }

    /// Builds the world of `spec` (a fresh default run if the spec is unusable) and plays it.
    fn load(&mut self, spec: RunSpec) {
        let world = match World::new(spec.sim_config(), spec.actions.clone()) {
            Ok(w) => w,
            Err(e) => {
                self.flash = Some(format!("{}: {e}", self.lang.tr().bad_link));
                World::new(RunSpec::new(spec.seed).sim_config(), vec![]).expect("defaults work")
            }
        };
        self.world = WorldRef::new(world);
        // A new run has a network of its own: its loss and latency fields show it again.
        self.forms.loss = None;
        self.forms.lat = (None, None);
        self.preset = spec.scenario.as_deref().and_then(|id| self.find_preset(id));
        let end = self.preset.as_ref().map(|p| p.end_ms).unwrap_or(0);
        let last_action = spec.actions.last().map(|a| a.at_ms).unwrap_or(0);
        let ahead = end.max(last_action);
        if ahead > 0 {
            // Simulate the story once so that the timeline shows what is coming.
            self.world_mut().prefetch(ahead);
        }
        // A link may hold an action the simulator refuses (a restart of a running node): it is
        // skipped, as `simulate --url` skips it, and the link's error line names it.
        let refused: Vec<(String, String)> = (self.world().refused().iter())
            .map(|(a, e)| ("actions".to_string(), format!("{a}: {e}")))
            .collect();
        self.url_errors.extend(refused);
        self.chapters = match &self.preset {
            Some(p) => teach::chapters(&self.world(), &spec.actions, p.end_ms),
            None => Vec::new(),
        };
        self.playing = true;
        if let Some(at) = spec.at_ms {
            self.world_mut().seek(at);
            self.playing = false;
        }
        self.draft = vec![0; spec.nodes];
        self.sel = Selection::None;
        self.spec = spec;
        self.spec.at_ms = None;
        // After the left world is at its time: the right one is built there.
        self.rebuild_right();
        self.right_seen = 0;
        self.last_ts = None;
        self.fx.push(Effect::Clock(self.playing));
        self.write_hash();
        self.bump();
    }

    fn find_preset(&self, id: &str) -> Option<PresetInfo> {
        if let Some(p) = self
            .presets
            .as_ref()
            .and_then(|l| l.iter().find(|p| p.id == id))
        {
            return Some(p.clone());
        }
        scenario::preset(id).map(|p| PresetInfo::of(&p))
    }

    fn write_hash(&mut self) {
        let actions = self.world().actions().to_vec();
        self.spec.actions = actions;
        let h = self.spec.to_hash();
        if h != self.written_hash {
            self.fx.push(Effect::WriteHash(h.clone()));
            self.written_hash = h;
        }
    }

    fn bump(&mut self) {
        self.rev += 1;
        self.rev_slow += 1;
    }

    fn set_playing(&mut self, p: bool) {
        self.playing = p;
        if !p {
            self.last_ts = None;
        }
        self.fx.push(Effect::Clock(p));
        self.bump();
    }

    fn seek(&mut self, t: u64) {
        self.set_playing(false);
        self.world_mut().seek(t);
        self.bump();
    }

    fn show_toast(&mut self, text: String) {
        self.toast = Some(text);
        self.fx.push(Effect::ToastTimer);
    }

    /// Acts on the world; a refusal becomes a toast. Whether it was done.
    fn act(&mut self, a: Action) -> bool {
        let r = self.world_mut().act(a.clone());
        match r {
            Ok(()) => {
                // Compare: the same action at the same virtual time on the right. The two worlds
                // are at the same time here (`update` keeps them so).
                let right = self.right.as_ref().map(|w| {
                    let mut w = w.0.borrow_mut();
                    let n = w.sim().violations().len();
                    (w.act(a), n)
                });
                if let Some((res, n)) = right {
                    // Acting in the past forks: what the right world saw after it is gone.
                    self.right_seen = self.right_seen.min(n);
                    if let Err(e) = res {
                        // A refusal changes nothing on the right; the replay of this run's
                        // actions refuses it in the same way, so a reload shows the same.
                        self.show_toast(format!(
                            "{} · {}: {e}",
                            crate::compare::right_title(self.lang),
                            self.lang.tr().refused_action
                        ));
                    }
                }
                self.write_hash();
                self.bump();
                true
            }
            Err(e) => {
                self.show_toast(format!("{}: {e}", self.lang.tr().refused_action));
                false
            }
        }
    }

    /// The link of this run; paused, of this very moment.
    fn link(&self) -> String {
        let mut spec = self.spec.clone();
        spec.actions = self.world().actions().to_vec();
        if !self.playing {
            spec.at_ms = Some(self.world().now());
        }
        format!("{}#{}", self.page, spec.to_hash())
    }

    /// The status line: the cluster's leader and its term, and the rules when they are not
    /// Nacos 1.4.1's.
    pub fn status_line(&self) -> String {
        let head = teach::headline(self.lang, self.world().sim());
        match self.spec.rules {
            RulesMode::One(Rules::Nacos141) | RulesMode::Compare => head,
            RulesMode::One(r) => {
                format!("{head} · {}", crate::compare::rules_name(self.lang, r))
            }
        }
    }

    /// Compare mode: the right ring's leader and term.
    pub fn right_status_line(&self) -> Option<String> {
        self.right_world()
            .map(|w| teach::headline(self.lang, w.sim()))
    }

    /// The speed readout: the chosen speed, and in slow motion the one in use.
    pub fn speed_text(&self) -> String {
        let chosen = urlstate::fmt_speed(self.spec.speed);
        // The chosen speed stays; what stretches or skips it is said in words, not as a number
        // that changes several times a second.
        if self.playing && self.fast_stretch {
            format!("{chosen}× · {}", teach::T::fast_stretch(self.lang))
        } else if self.spec.slowmo && self.playing && (self.speed_now + 1e-9) < self.spec.speed {
            format!("{chosen}× · {}", teach::T::slowed(self.lang))
        } else {
            format!("{chosen}×")
        }
    }

    /// The chapter playing now, if a story is told: (index, count).
    pub fn chapter_now(&self) -> Option<(usize, usize)> {
        (!self.chapters.is_empty()).then(|| {
            (
                teach::chapter_at(&self.chapters, self.world().now()),
                self.chapters.len(),
            )
        })
    }

    /// Whether the story has reached its end.
    pub fn story_over(&self) -> bool {
        self.preset
            .as_ref()
            .is_some_and(|p| self.world().now() >= p.end_ms)
    }

    /// `[` / `]` in a story: pause at the start of the previous or next chapter, announced.
    fn chapter_step(&mut self, forward: bool) {
        self.set_playing(false);
        let now = self.world().now();
        let cur = teach::chapter_at(&self.chapters, now);
        let target = if forward {
            self.chapters.iter().position(|c| c.at_ms > now)
        } else if self.chapters[cur].at_ms < now {
            // Inside a chapter, back goes to its start first, as a player's "previous" does.
            Some(cur)
        } else {
            cur.checked_sub(1)
        };
        let end = self.preset.as_ref().map(|p| p.end_ms).unwrap_or(0);
        if target.is_none() && forward && now < end {
            // After the last chapter, `]` goes to the end of the story: what it showed.
            self.world_mut().seek(end);
            self.show_toast(teach::T::story_end_reached(self.lang).to_string());
        }
        if let Some(i) = target {
            let at = self.chapters[i].at_ms;
            self.world_mut().seek(at);
            let word = if forward {
                teach::T::chapter_next(self.lang)
            } else {
                teach::T::chapter_prev(self.lang)
            };
            let of = teach::texts::chapter_of(self.lang, i + 1, self.chapters.len());
            self.show_toast(format!("{word} · {of}"));
        }
        self.bump();
    }

    /// In a story, between two chapters and away from both, the speed of the quiet stretch:
    /// without slow motion, and fast enough to cross it in [`QUIET_REAL_MS`] (never slower than
    /// the chosen speed); `None` elsewhere. The 200-datum catch-up would otherwise spend minutes
    /// of slow motion on its writes before the restart that is its point.
    fn quiet_stretch_speed(&self, now: u64) -> Option<f64> {
        let p = self.preset.as_ref()?;
        if now >= p.end_ms {
            return None;
        }
        let i = teach::chapter_at(&self.chapters, now);
        let from = self.chapters.get(i)?.at_ms + QUIET_MARGIN_MS;
        let to = self
            .chapters
            .get(i + 1)
            .map(|c| c.at_ms)
            .unwrap_or(p.end_ms)
            .saturating_sub(QUIET_MARGIN_MS);
        if now < from || now >= to {
            return None;
        }
        let fast = (to - from) as f64 / QUIET_REAL_MS;
        Some(fast.clamp(self.spec.speed, QUIET_MAX_SPEED.max(self.spec.speed)))
    }

    /// How long (virtual ms) a failed message lingers where it died, at the speed in use.
    pub fn linger_ms(&self) -> f64 {
        (FLIGHT_REAL_MS * self.speed_now).clamp(1.0, 4_000.0)
    }

    /// The nodes a recent violation concerns (rung on the ring).
    pub fn hot_nodes(&self) -> Vec<usize> {
        hot_nodes_of(&self.world())
    }

    /// The same for the right ring of Compare mode.
    pub fn right_hot_nodes(&self) -> Vec<usize> {
        self.right_world()
            .map(|w| hot_nodes_of(&w))
            .unwrap_or_default()
    }
}

/// The nodes a recent violation of `w` concerns.
fn hot_nodes_of(w: &World) -> Vec<usize> {
    let s = w.sim();
    let now = s.now();
    s.violations()
        .iter()
        .rev()
        .take_while(|v| now.saturating_sub(v.at_ms) < 2 * s.config().timings.heartbeat_ms)
        .flat_map(|v| v.nodes.iter().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nacos_raft_core::PeerState;

    const PAGE: &str = "http://127.0.0.1:8080/demo/";

    /// A page opened on `hash`.
    fn open(hash: &str) -> (State, Outcome) {
        let mut s = State::new(Lang::En, false, PAGE.into());
        let out = s.update(Msg::Open {
            hash: hash.into(),
            seed: 42,
        });
        (s, out)
    }

    fn hash_of(out: &Outcome) -> Option<&str> {
        out.effects.iter().rev().find_map(|e| match e {
            Effect::WriteHash(h) => Some(h.as_str()),
            _ => None,
        })
    }

    fn clock_of(out: &Outcome) -> Option<bool> {
        out.effects.iter().rev().find_map(|e| match e {
            Effect::Clock(on) => Some(*on),
            _ => None,
        })
    }

    fn now(s: &State) -> u64 {
        s.world().now()
    }

    #[test]
    fn opening_a_link_builds_its_run_plays_it_and_writes_the_hash_back() {
        let (s, out) = open("");
        assert_eq!(s.spec.seed, 42, "no hash: the random seed");
        assert!(s.playing);
        assert_eq!(clock_of(&out), Some(true));
        assert_eq!(
            hash_of(&out),
            Some("seed=42&nodes=5&timings=nacos&speed=10")
        );
        assert!(out.render);

        let (s, out) = open("seed=7&nodes=3&timings=fast&speed=100&at=5000");
        assert_eq!((s.spec.seed, s.world().sim().len()), (7, 3));
        assert_eq!(now(&s), 5_000, "at= opens at that moment");
        assert!(!s.playing, "… paused");
        assert_eq!(clock_of(&out), Some(false));
        assert_eq!(
            hash_of(&out),
            Some("seed=7&nodes=3&timings=fast&speed=100"),
            "at= is not written back (the playhead moves on)"
        );
        assert!(s.flash.is_none());

        let (s, out) = open("seed=x&nodes=3");
        assert_eq!(s.url_errors.len(), 1);
        assert_eq!(s.url_errors[0].0, "seed", "the bad field is named");
        assert_eq!(s.spec.seed, 42, "an unreadable seed: a random one");
        assert_eq!(s.spec.nodes, 3, "the valid fields are kept");
        assert!(hash_of(&out).unwrap().starts_with("seed=42&nodes=3&"));
        let (s, _) = open("seed=7");
        assert!(s.url_errors.is_empty());
        // An action the simulator refuses is skipped and named, the rest of the run kept.
        let (s, _) = open("seed=7&nodes=5&actions=2000:crash:1,3500:restart:2,9000:timeout:3");
        assert_eq!(s.url_errors.len(), 1, "{:?}", s.url_errors);
        assert_eq!(s.url_errors[0].0, "actions");
        assert!(
            s.url_errors[0].1.starts_with("3500:restart:2: ")
                && s.url_errors[0].1.contains("running"),
            "{:?}",
            s.url_errors
        );
        assert_eq!(
            s.world().actions().len(),
            3,
            "the link's actions are kept as written"
        );
    }

    #[test]
    fn a_hash_change_loads_only_a_hash_the_page_did_not_write() {
        let (mut s, out) = open("seed=7&nodes=3");
        let written = hash_of(&out).unwrap().to_string();
        let same = s.update(Msg::HashChanged {
            hash: written,
            seed: 1,
        });
        assert_eq!(
            same,
            Outcome {
                render: false,
                effects: vec![]
            }
        );
        let other = s.update(Msg::HashChanged {
            hash: "seed=9&nodes=4".into(),
            seed: 1,
        });
        assert!(other.render);
        assert_eq!((s.spec.seed, s.world().sim().len()), (9, 4));
        // A preset alone loads the preset, played at its story's speed.
        s.update(Msg::HashChanged {
            hash: "scenario=split-vote".into(),
            seed: 1,
        });
        assert_eq!(s.preset.as_ref().map(|p| p.id), Some("split-vote"));
        assert_eq!(s.spec.scenario.as_deref(), Some("split-vote"));
    }

    #[test]
    fn frames_advance_time_and_refresh_the_panels_five_times_a_second() {
        let (mut s, _) = open("seed=3&nodes=3&speed=10&slowmo=0");
        let (rev, slow) = (s.rev, s.rev_slow);
        let first = s.update(Msg::Frame(1_000.0));
        assert!(first.render && first.effects.is_empty());
        assert_eq!(now(&s), 0, "the first frame only sets the clock");
        s.update(Msg::Frame(1_100.0));
        assert_eq!(now(&s), 1_000, "100 real ms at 10× is 1000 virtual ms");
        // Frames closer together than 250 ms count as they are, longer gaps as 250 ms.
        s.update(Msg::Frame(5_000.0));
        assert_eq!(now(&s), 3_500);
        assert!(s.rev > rev && s.rev_slow > slow);
        let rev = s.rev;
        s.update(Msg::Frame(5_016.0));
        assert_eq!(s.rev, rev, "no panel refresh within 200 ms");
        // Paused: frames change nothing.
        s.update(Msg::TogglePlay);
        let t = now(&s);
        let out = s.update(Msg::Frame(6_000.0));
        assert!(!out.render);
        assert_eq!(now(&s), t);
    }

    #[test]
    fn play_pause_step_and_step_back() {
        let (mut s, _) = open("seed=3&nodes=3&timings=fast&speed=100");
        let out = s.update(Msg::TogglePlay);
        assert!(!s.playing);
        assert_eq!(clock_of(&out), Some(false));
        let out = s.update(Msg::TogglePlay);
        assert!(s.playing);
        assert_eq!(clock_of(&out), Some(true));
        let out = s.update(Msg::Step);
        assert!(!s.playing, "a step pauses");
        assert_eq!(clock_of(&out), Some(false));
        let first = now(&s);
        assert!(first > 0);
        s.update(Msg::Step);
        let second = now(&s);
        assert!(second > first);
        s.update(Msg::StepBack);
        assert_eq!(now(&s), first);
    }

    #[test]
    fn speeds_move_by_notches_and_land_in_the_hash() {
        let (mut s, _) = open("seed=3&speed=10");
        let out = s.update(Msg::Faster);
        assert_eq!(s.spec.speed, 20.0);
        assert!(hash_of(&out).unwrap().contains("speed=20"));
        s.update(Msg::Slower);
        s.update(Msg::Slower);
        assert_eq!(s.spec.speed, 5.0);
        s.update(Msg::SetSpeed(5_000.0));
        assert_eq!(s.spec.speed, 1000.0, "clamped");
        let out = s.update(Msg::ToggleSlowmo);
        assert!(!s.spec.slowmo);
        assert!(hash_of(&out).unwrap().contains("slowmo=0"));
        // The readout shows the slowed speed only while slow motion slows.
        assert_eq!(s.speed_text(), "1000×");
    }

    #[test]
    fn seeking_pauses_and_travels_both_ways() {
        let (mut s, _) = open("seed=3&nodes=3");
        let out = s.update(Msg::Seek(30_000));
        assert_eq!(now(&s), 30_000);
        assert!(!s.playing);
        assert_eq!(clock_of(&out), Some(false));
        s.update(Msg::Seek(10_000));
        assert_eq!(now(&s), 10_000);
    }

    #[test]
    fn acting_records_the_action_in_the_hash_and_a_refusal_is_a_toast() {
        let (mut s, _) = open("seed=3&nodes=3");
        s.update(Msg::Seek(1_200));
        let out = s.update(Msg::Act(Action::Crash { node: 2 }));
        assert!(hash_of(&out).unwrap().ends_with("actions=1200:crash:2"));
        assert!(!s.world().sim().is_up(2));
        assert!(s.toast.is_none());
        // Crashing it again is refused: a toast, and the hash stays.
        let out = s.update(Msg::Act(Action::Crash { node: 2 }));
        assert_eq!(hash_of(&out), None);
        assert!(out.effects.contains(&Effect::ToastTimer));
        assert!(s
            .toast
            .as_deref()
            .unwrap()
            .starts_with(Lang::En.tr().refused_action));
        s.update(Msg::ClearToast);
        assert!(s.toast.is_none());
        // Several at once stop at the first refusal.
        s.update(Msg::ActMany(vec![
            Action::Crash { node: 0 },
            Action::Crash { node: 0 },
            Action::Crash { node: 1 },
        ]));
        assert!(!s.world().sim().is_up(0));
        assert!(s.world().sim().is_up(1));
    }

    #[test]
    fn acting_in_the_past_forks_and_the_old_branch_comes_back() {
        let (mut s, _) = open("seed=3&nodes=3");
        s.update(Msg::Seek(20_000));
        s.update(Msg::Act(Action::Crash { node: 0 }));
        s.update(Msg::Seek(10_000));
        s.update(Msg::Act(Action::Crash { node: 1 }));
        assert_eq!(s.world().branches().len(), 1, "the old branch is kept");
        assert!(s.spec.actions.iter().all(|a| a.at_ms == 10_000));
        let out = s.update(Msg::SwitchBranch(0));
        assert!(!s.playing);
        assert!(hash_of(&out).unwrap().ends_with("actions=20000:crash:0"));
    }

    #[test]
    fn selecting_shows_the_inspector_and_a_message_holds_time() {
        let (mut s, _) = open("seed=3&nodes=3");
        s.update(Msg::SetTab(Tab::Data));
        s.update(Msg::Select(Selection::Node(1)));
        assert_eq!((s.sel, s.tab), (Selection::Node(1), Tab::Inspect));
        assert!(s.playing, "a node does not pause");
        s.update(Msg::SetTab(Tab::Lanes));
        let out = s.update(Msg::Select(Selection::Msg(0)));
        assert_eq!(
            s.tab,
            Tab::Lanes,
            "the lanes stay: they show the selection too"
        );
        assert!(!s.playing, "a message pauses");
        assert_eq!(clock_of(&out), Some(false));
        s.update(Msg::Escape);
        assert_eq!(s.sel, Selection::None);
    }

    #[test]
    fn a_story_is_told_in_chapters_and_pauses_at_its_end() {
        let (mut s, _) = open("scenario=two-leaders");
        let n = s.chapters.len();
        assert!(n >= 4, "{:?}", s.chapters);
        assert_eq!(s.chapter_now(), Some((0, n)));
        // `]` pauses at the next chapter and says so.
        s.update(Msg::Key(Command::Mark(true)));
        assert!(!s.playing);
        assert_eq!(now(&s), s.chapters[1].at_ms);
        assert_eq!(s.chapter_now(), Some((1, n)));
        assert_eq!(
            s.toast.as_deref(),
            Some(format!("Next chapter · Chapter 2 of {n}").as_str())
        );
        s.update(Msg::Mark(false));
        assert_eq!(now(&s), 0);
        assert!(s.toast.as_deref().unwrap().starts_with("Previous chapter"));
        // Past the last chapter, `]` goes to the story's end.
        for _ in 1..n {
            s.update(Msg::Mark(true));
        }
        assert_eq!(now(&s), s.chapters[n - 1].at_ms);
        s.update(Msg::Mark(true));
        assert!(s.story_over());
        assert_eq!(s.toast.as_deref(), Some("The end of the story"));
        // Played through (violations do not pause here), the story stops at its end.
        s.update(Msg::TogglePauseOnViolation);
        let end = s.preset.as_ref().unwrap().end_ms;
        s.update(Msg::Seek(end - 50));
        s.update(Msg::TogglePlay);
        let mut ts = 0.0;
        while s.playing && ts < 100_000.0 {
            ts += 16.0;
            s.update(Msg::Frame(ts));
        }
        assert!(!s.playing && s.story_over(), "paused at the end");
        assert!(now(&s) >= end);
        // Without a story, `]` goes to marks as before.
        let (s, _) = open("seed=3");
        assert!(s.chapters.is_empty() && s.chapter_now().is_none());
    }

    #[test]
    fn a_story_runs_its_quiet_stretch_fast() {
        let (mut s, _) = open("scenario=catch-up");
        let mut ch: Vec<u64> = s.chapters.iter().map(|c| c.at_ms).collect();
        ch.push(s.preset.as_ref().unwrap().end_ms);
        // The longest gap between two chapters (or the last one and the end).
        let (i, gap) = ch
            .windows(2)
            .map(|w| w[1] - w[0])
            .enumerate()
            .max_by_key(|g| g.1)
            .unwrap();
        assert!(gap > 5_000, "{ch:?}");
        s.update(Msg::Seek(ch[i] + QUIET_MARGIN_MS + 1));
        s.update(Msg::TogglePlay);
        let t0 = now(&s);
        s.update(Msg::Frame(0.0));
        s.update(Msg::Frame(100.0));
        assert!(s.fast_stretch);
        assert!(s.speed_text().ends_with("fast through a quiet stretch"));
        assert!(now(&s) - t0 >= 1_000, "no slow motion: {}", now(&s) - t0);
        // Near the next chapter the chosen speed is back.
        s.update(Msg::Seek(ch[i + 1] - 1_000));
        s.update(Msg::TogglePlay);
        s.update(Msg::Frame(0.0));
        s.update(Msg::Frame(16.0));
        assert!(!s.fast_stretch);
    }

    #[test]
    fn the_start_card_is_dismissed_for_good() {
        let (mut s, _) = open("seed=3");
        assert!(!s.start_dismissed);
        let out = s.update(Msg::DismissStart);
        assert!(s.start_dismissed);
        assert_eq!(out.effects, vec![Effect::StoreStartDismissed]);
    }

    #[test]
    fn tabs_list_the_presets_once_opened() {
        let (mut s, _) = open("seed=3");
        assert!(s.presets.is_none());
        s.update(Msg::SetTab(Tab::Scenarios));
        assert_eq!(s.tab, Tab::Scenarios);
        let n = s.presets.as_ref().unwrap().len();
        assert_eq!(n, scenario::IDS.len());
        s.update(Msg::SetTab(Tab::Events));
        assert_eq!(s.tab, Tab::Events);
    }

    #[test]
    fn the_language_switches_and_is_remembered() {
        let (mut s, _) = open("seed=3");
        let out = s.update(Msg::ToggleLang);
        assert_eq!(s.lang, Lang::Zh);
        assert_eq!(out.effects, vec![Effect::StoreLang(Lang::Zh)]);
        assert_eq!(s.status_line(), "没有领导者");
        s.update(Msg::Key(Command::Lang));
        assert_eq!(s.lang, Lang::En);
    }

    #[test]
    fn a_new_run_keeps_the_setup_and_nodes_and_timings_keep_the_seed() {
        let (mut s, _) = open("seed=3&nodes=7&timings=fast&speed=50&slowmo=0");
        s.update(Msg::Seek(5_000));
        s.update(Msg::Act(Action::Crash { node: 0 }));
        let out = s.update(Msg::NewRun(11));
        assert_eq!(
            hash_of(&out),
            Some("seed=11&nodes=7&timings=fast&speed=50&slowmo=0"),
            "same setup, no actions"
        );
        assert!(s.playing && now(&s) == 0);
        let out = s.update(Msg::SetNodes(90));
        assert_eq!(
            hash_of(&out),
            Some("seed=11&nodes=64&timings=fast&speed=50&slowmo=0")
        );
        let out = s.update(Msg::SetTimings(Timings::Nacos));
        assert_eq!(
            hash_of(&out),
            Some("seed=11&nodes=64&timings=nacos&speed=50&slowmo=0")
        );
        assert_eq!(
            s.draft.len(),
            64,
            "the partition draft follows the node count"
        );
    }

    #[test]
    fn a_scenario_loads_with_its_story_ahead() {
        let (mut s, _) = open("seed=3");
        s.update(Msg::LoadScenario("leader-crash"));
        let p = s.preset.clone().unwrap();
        assert_eq!(p.id, "leader-crash");
        assert_eq!(s.tab, Tab::Scenarios);
        assert!(s.world().frontier_ms() >= p.end_ms, "simulated ahead");
        assert!(!s.spec.actions.is_empty());
        assert!(s.spec.speed >= 10.0);
        let before = s.spec.clone();
        s.update(Msg::LoadScenario("no-such-story"));
        assert_eq!(s.spec, before, "an unknown id changes nothing");
    }

    #[test]
    fn the_filter_the_draft_and_the_violation_switch() {
        let (mut s, _) = open("seed=3&nodes=3");
        let rev = s.rev;
        s.update(Msg::SetFilter(Filter::from_value("faults")));
        assert_eq!(s.filter, Filter::Faults);
        assert!(s.filter.keeps(Topic::Fault) && !s.filter.keeps(Topic::Beat));
        assert!(
            Filter::All.keeps(Topic::Beat),
            "routine beats: only unfiltered"
        );
        assert_eq!(Filter::from_value("election"), Filter::Election);
        assert_eq!(Filter::from_value("data"), Filter::Data);
        assert_eq!(Filter::from_value("?"), Filter::All);
        s.update(Msg::SetDraft(vec![0, 1, 1]));
        assert_eq!(s.draft, [0, 1, 1]);
        s.update(Msg::TogglePauseOnViolation);
        assert!(!s.pause_on_violation);
        assert!(s.rev >= rev + 3, "each one refreshes the panels");
    }

    /// The panels' forms live in the state: every edit renders; a new run keeps the publish form
    /// and the data matrix's choices, and shows its own network in the loss and latency fields.
    #[test]
    fn form_edits_render_and_stay() {
        let (mut s, _) = open("seed=3&nodes=3");
        assert_eq!(s.forms, Forms::default());
        for e in [
            FormEdit::Service("svc".into()),
            FormEdit::Ip("127.0.0.9".into()),
            FormEdit::Loss("2.5".into()),
            FormEdit::LatMax("80".into()),
            FormEdit::Against(Some(2)),
            FormEdit::Values(true),
        ] {
            assert!(s.update(Msg::Form(e)).render);
        }
        assert_eq!(s.forms.loss.as_deref(), Some("2.5"));
        assert_eq!(s.forms.lat, (None, Some("80".to_string())));
        s.update(Msg::NewRun(4));
        let f = &s.forms;
        assert_eq!((f.service.as_str(), f.ip.as_str()), ("svc", "127.0.0.9"));
        assert_eq!((f.loss.as_deref(), &f.lat), (None, &(None, None)));
        assert_eq!((f.against, f.values), (Some(2), true));
    }

    #[test]
    fn marks_are_visited_in_order() {
        let (mut s, _) = open("seed=3&nodes=3&timings=fast");
        s.update(Msg::Seek(20_000));
        s.update(Msg::Seek(0));
        let out = s.update(Msg::Mark(true));
        assert!(!s.playing);
        assert_eq!(clock_of(&out), Some(false));
        let first = now(&s);
        let marks: Vec<u64> = s.world().marks().iter().map(|m| m.at_ms).collect();
        assert_eq!(Some(&first), marks.iter().filter(|t| **t > 0).min());
        s.update(Msg::Key(Command::Mark(true)));
        assert!(now(&s) > first);
        s.update(Msg::Mark(false));
        assert_eq!(now(&s), first);
    }

    #[test]
    fn drawing_a_line_cuts_the_links_it_crosses() {
        let (mut s, _) = open("seed=3&nodes=4");
        // A click (a line shorter than 40) cuts nothing.
        s.update(Msg::CutStart((500.0, 500.0)));
        s.update(Msg::CutMove((510.0, 500.0)));
        let out = s.update(Msg::CutEnd);
        assert!(out.effects.is_empty() && s.cut_line.is_none());
        assert!(s.world().actions().is_empty());
        // A moving pointer without a line does nothing.
        assert!(!s.update(Msg::CutMove((1.0, 1.0))).render);
        // A horizontal line through the centre crosses links of the square of 4.
        s.update(Msg::CutStart((0.0, 480.0)));
        s.update(Msg::CutMove((1000.0, 480.0)));
        assert_eq!(s.cut_line, Some(((0.0, 480.0), (1000.0, 480.0))));
        s.update(Msg::CutEnd);
        let cut = s.world().actions().len();
        assert!(cut > 0);
        assert!(s.toast.as_deref().unwrap().starts_with(&format!("{cut} ")));
        // Again: those links are cut already, nothing more to do.
        s.update(Msg::CutStart((0.0, 480.0)));
        s.update(Msg::CutMove((1000.0, 480.0)));
        s.update(Msg::CutEnd);
        assert_eq!(s.world().actions().len(), cut);
    }

    #[test]
    fn keys_act_on_the_selected_node() {
        let (mut s, _) = open("seed=3&nodes=3");
        assert!(
            !s.update(Msg::Key(Command::CrashOrRestart)).render,
            "no node selected"
        );
        assert!(!s.update(Msg::Key(Command::Node(5))).render, "no such node");
        s.update(Msg::Key(Command::Node(1)));
        assert_eq!(s.sel, Selection::Node(1));
        s.update(Msg::Key(Command::CrashOrRestart));
        assert!(!s.world().sim().is_up(1));
        s.update(Msg::Key(Command::CrashOrRestart));
        assert!(s.world().sim().is_up(1), "c again restarts it");
        s.update(Msg::Key(Command::TimeoutNow));
        assert_eq!(
            s.world().sim().state(1),
            Some(PeerState::Candidate),
            "t makes it start an election"
        );
        s.update(Msg::Key(Command::Help));
        assert!(s.help);
        s.update(Msg::Key(Command::Escape));
        assert!(!s.help, "Esc closes the help first");
        assert_eq!(s.sel, Selection::Node(1));
        s.update(Msg::Key(Command::Escape));
        assert_eq!(s.sel, Selection::None);
        s.update(Msg::Key(Command::Faster));
        assert_eq!(s.spec.speed, 20.0);
        s.update(Msg::Key(Command::TogglePlay));
        assert!(!s.playing);
    }

    #[test]
    fn copy_and_export_are_effects_with_the_link_of_this_moment() {
        let (mut s, _) = open("seed=3&nodes=3");
        let out = s.update(Msg::CopyLink);
        assert!(!out.render);
        assert_eq!(
            out.effects,
            vec![Effect::Copy(format!(
                "{PAGE}#seed=3&nodes=3&timings=nacos&speed=10"
            ))],
            "playing: the link of the run"
        );
        s.update(Msg::Seek(4_000));
        let out = s.update(Msg::CopyLink);
        assert_eq!(
            out.effects,
            vec![Effect::Copy(format!(
                "{PAGE}#seed=3&nodes=3&timings=nacos&speed=10&at=4000"
            ))],
            "paused: of this moment"
        );
        s.update(Msg::Copied(true, "x".into()));
        assert_eq!(s.toast.as_deref(), Some(Lang::En.tr().link_copied));
        s.update(Msg::Copied(false, "the link".into()));
        assert_eq!(s.toast.as_deref(), Some("the link"), "not copied: shown");
        let out = s.update(Msg::Export);
        assert!(!out.render);
        let [Effect::Download { name, mime, text }] = &out.effects[..] else {
            panic!("{:?}", out.effects)
        };
        assert_eq!(name, "nacos-raft-seed3-4000ms.json");
        assert_eq!(*mime, "application/json");
        assert!(text.contains("\"link\": \"http://127.0.0.1:8080/demo/#seed=3"));
    }

    #[test]
    fn a_new_violation_pauses_with_a_toast() {
        // Two leaders at once: isolate the leader, the rest elect another.
        let (mut s, _) = open("seed=3&nodes=3&timings=fast&speed=1000&slowmo=0");
        s.update(Msg::Seek(4_000));
        let leader = s.world().sim().cluster_leader().expect("a leader by 4 s");
        s.update(Msg::Act(Action::Isolate { node: leader }));
        s.update(Msg::TogglePlay);
        let mut t = 0.0;
        let mut paused = None;
        for _ in 0..400 {
            t += 50.0;
            let out = s.update(Msg::Frame(t));
            if !s.playing {
                paused = Some(out);
                break;
            }
        }
        let out = paused.expect("a violation within 20 virtual s");
        assert!(!s.world().sim().violations().is_empty());
        assert_eq!(clock_of(&out), Some(false));
        assert!(out.effects.contains(&Effect::ToastTimer));
        assert_eq!(
            s.toast.as_deref(),
            Some(Lang::En.tr().paused_violation),
            "{:?}",
            s.world().sim().violations()
        );
    }
}

/// Compare mode (issue #13): two worlds on one clock.
#[cfg(test)]
mod compare_tests {
    use super::*;
    use nacos_raft_core::Fixes;

    fn open(hash: &str) -> (State, Outcome) {
        let mut s = State::new(Lang::En, false, "http://127.0.0.1:8080/".into());
        let out = s.update(Msg::Open {
            hash: hash.into(),
            seed: 42,
        });
        (s, out)
    }

    fn hash_of(out: &Outcome) -> Option<&str> {
        out.effects.iter().rev().find_map(|e| match e {
            Effect::WriteHash(h) => Some(h.as_str()),
            _ => None,
        })
    }

    /// (left now, right now).
    fn clocks(s: &State) -> (u64, u64) {
        (s.world().now(), s.right_world().unwrap().now())
    }

    /// Plays `frames` frames of 50 real ms.
    fn play(s: &mut State, frames: u32) {
        for i in 0..frames {
            s.update(Msg::Frame(f64::from(i) * 50.0));
        }
    }

    #[test]
    fn compare_builds_two_worlds_with_each_sides_rules_on_one_clock() {
        let (mut s, out) = open("seed=7&nodes=5&timings=fast&speed=100&rules=compare");
        assert_eq!(
            hash_of(&out),
            Some("seed=7&nodes=5&timings=fast&speed=100&rules=compare")
        );
        assert_eq!(s.world().config().rules, Rules::Nacos141);
        assert_eq!(s.right_world().unwrap().config().rules, Rules::Hardened);
        assert_eq!(s.right_world().unwrap().config().seed, 7);
        play(&mut s, 40);
        let (l, r) = clocks(&s);
        assert!(l > 1_000, "time ran: {l}");
        assert_eq!(l, r, "one clock");
        // Seeking, stepping and stepping back move both.
        s.update(Msg::Seek(500));
        assert_eq!(clocks(&s), (500, 500));
        s.update(Msg::Step);
        let (l, r) = clocks(&s);
        assert!(l > 500 && l == r, "{l} {r}");
        s.update(Msg::StepBack);
        let (l, r) = clocks(&s);
        assert!(l < 1_000 && l == r, "{l} {r}");
        // Out of Compare mode the right world is gone.
        s.update(Msg::SetRules(RulesMode::default()));
        assert!(s.right.is_none());
        assert_eq!(s.world().config().rules, Rules::Nacos141);
    }

    #[test]
    fn an_action_is_applied_to_both_at_the_same_virtual_time() {
        let (mut s, _) = open("seed=7&nodes=5&timings=fast&speed=100&rules=compare");
        s.update(Msg::Seek(3_000));
        s.update(Msg::Act(Action::Crash { node: 2 }));
        let out = s.update(Msg::Act(Action::Timeout { node: 1 }));
        assert!(hash_of(&out)
            .unwrap()
            .ends_with("&rules=compare&actions=3000:crash:2,3000:timeout:1"));
        let r = s.right_world().unwrap();
        assert_eq!(r.actions(), s.world().actions());
        assert!(!r.sim().is_up(2) && !s.world().sim().is_up(2));
        let at: Vec<u64> = r.sim().actions().iter().map(|a| a.at_ms).collect();
        assert_eq!(at, [3_000, 3_000]);
        drop(r);
        // Acting in the past forks both.
        s.update(Msg::Seek(1_000));
        s.update(Msg::Act(Action::Crash { node: 0 }));
        assert_eq!(clocks(&s), (1_000, 1_000));
        assert_eq!(
            s.right_world().unwrap().actions(),
            s.world().actions(),
            "the right world holds the new branch"
        );
        // Back to the old branch: the right world follows it.
        s.update(Msg::SwitchBranch(0));
        assert_eq!(s.right_world().unwrap().actions(), s.world().actions());
        assert_eq!(s.world().actions().len(), 2);
    }

    #[test]
    fn each_fix_switch_rebuilds_only_the_right_world_at_the_same_moment() {
        let (mut s, _) = open("seed=7&nodes=5&timings=fast&rules=compare&actions=800:crash:1");
        s.update(Msg::Seek(2_000));
        let left = s.world.clone();
        let out = s.update(Msg::SetFix(Fix::DeadKey, false));
        assert!(left == s.world, "the left world is kept");
        let want = Rules::Custom(Fixes::ALL.with(Fix::DeadKey, false));
        assert_eq!(s.spec.right, want);
        assert_eq!(s.right_world().unwrap().config().rules, want);
        assert_eq!(clocks(&s), (2_000, 2_000));
        assert_eq!(s.right_world().unwrap().actions(), s.world().actions());
        let h = hash_of(&out).unwrap();
        assert!(h.contains("&rules=compare&fixes=stale-votes+term-bump+stale-candidate+two-leaders+first-beat+global-lock+term-on-restart+stale-forward+split-vote"), "{h}");
        // Every fix off, then one on.
        for f in Fix::ALL {
            s.update(Msg::SetFix(f, false));
        }
        let out = s.update(Msg::SetFix(Fix::StaleVotes, true));
        assert!(hash_of(&out).unwrap().contains("&fixes=stale-votes&"));
        // Reopening the link gives the same right side.
        let (again, _) = open(hash_of(&out).unwrap());
        assert_eq!(again.spec.right, s.spec.right);
        // Outside Compare mode the switches do nothing.
        let (mut one, _) = open("seed=7");
        let out = one.update(Msg::SetFix(Fix::DeadKey, false));
        assert!(!out.render && one.right.is_none());
    }

    /// The plumbing, proved with rules whose behaviour is known today: Nacos 1.4.1 against
    /// itself gives two identical rings, message for message, through actions and time travel.
    #[test]
    fn nacos_against_itself_shows_identical_rings_and_the_url_round_trips() {
        let h = "seed=11&nodes=5&timings=fast&speed=100&rules=compare&fixes=nacos&actions=2000:part:00111,4000:put:0:k:%22v%22,6000:healall";
        let (mut s, out) = open(h);
        assert_eq!(hash_of(&out), Some(h), "the URL round-trips");
        play(&mut s, 60);
        s.update(Msg::Act(Action::Crash { node: 3 }));
        play(&mut s, 20);
        s.update(Msg::Seek(5_000));
        s.update(Msg::Step);
        let (l, r) = (s.world(), s.right_world().unwrap());
        assert_eq!(l.now(), r.now());
        assert!(l.sim().events().len() > 10);
        assert_eq!(l.sim().trace_hash(), r.sim().trace_hash());
        let states = |w: &World| -> Vec<_> {
            (0..w.sim().len())
                .map(|i| w.sim().node(i).map(|n| (n.local().state, n.local().term)))
                .collect()
        };
        assert_eq!(states(&l), states(&r));
        assert_eq!(l.sim().violations().len(), r.sim().violations().len());
    }

    #[test]
    fn hardened_runs_one_ring_and_says_so() {
        let (s, out) = open("seed=7&rules=hardened");
        assert!(s.right.is_none());
        assert_eq!(s.world().config().rules, Rules::Hardened);
        assert!(hash_of(&out).unwrap().ends_with("&rules=hardened"));
        assert!(
            s.status_line().ends_with(" · Hardened"),
            "{}",
            s.status_line()
        );
        let (s, _) = open("seed=7");
        assert!(!s.status_line().contains("Hardened"));
        // A bad value is named, the rest is kept, and the default rules run.
        let (s, _) = open("seed=7&nodes=4&rules=raft");
        assert_eq!(s.url_errors[0].0, "rules");
        assert_eq!(
            (s.spec.nodes, s.world().config().rules),
            (4, Rules::Nacos141)
        );
    }

    #[test]
    fn scenarios_open_in_compare_mode() {
        for id in ["dead-key-loss", "stale-node-wins", "two-leaders"] {
            let (mut s, _) = open("seed=1");
            let out = s.update(Msg::CompareScenario(id));
            assert!(s.right.is_some(), "{id}");
            assert_eq!(s.preset.as_ref().map(|p| p.id), Some(id));
            let h = hash_of(&out).unwrap();
            assert!(h.contains("&rules=compare&scenario="), "{h}");
            assert_eq!(s.right_world().unwrap().actions(), s.world().actions());
            // The preset alone in the URL, with the rules.
            let (s, _) = open(&format!("scenario={id}&rules=compare"));
            assert!(s.right.is_some() && s.preset.is_some(), "{id}");
        }
        // Loading another preset keeps Compare mode; a new seed too.
        let (mut s, _) = open("seed=1&rules=compare");
        s.update(Msg::LoadScenario("split-vote"));
        assert!(s.right.is_some());
        s.update(Msg::NewRun(5));
        assert!(s.right.is_some() && s.spec.seed == 5);
    }
}
