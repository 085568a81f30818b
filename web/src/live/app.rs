//! The live-mode page: one component owns the [`LiveModel`], the streams and the clock; it draws
//! the ring (the simulator's DOM contract: `data-node`, `data-state`, `data-term`, `data-msg`),
//! the inspector, the event log, the Data view and the safety monitor, and calls the nodes'
//! fault API.

use super::hash;
use super::model::{Conn, Fate, LiveModel, LogItem, Note, PAYLOAD_CAP};
use super::net::{self, Stream};
use super::tape::{self, Session, Waiting};
use super::texts::{self, LiveTr};
use crate::app::dom;
use crate::app::memo::{self, MemoCache};
use crate::app::ring::{kind_class, msg_shape};
use crate::describe;
use crate::i18n::{Lang, Texts};
use crate::jsonfmt;
use crate::layout::{along, arc_path, d0, d1, node_pos, node_radius, points, CENTER, RING};
use crate::layout::{class_list, when};
use gloo_timers::callback::Timeout;
use nacos_raft_core::text::{self, Ctx};
use nacos_raft_core::PeerState;
use yew::prelude::*;

/// Real ms between pruning passes over finished messages.
const PRUNE_EVERY_MS: f64 = 1_000.0;
/// A gap not followed by a snapshot within this long: the page reconnects for one.
const RESYNC_WAIT_MS: u32 = 3_000;
/// The shortest drawn line that cuts (shorter: a click).
const CUT_MIN_LEN: f64 = 40.0;
/// Log lines rendered (the newest), and while the log's tab is hidden (the DOM contract keeps it
/// in the page).
const LOG_ROWS: usize = 300;
const HIDDEN_LOG_ROWS: usize = 40;
/// Real ms at least between two redraws of the hidden event log for new events: under a write
/// load events come in every render (every 30 ms), and nobody sees the hidden log; the clock's
/// tenths redraw the page at least every 100 ms, so it is never more than this behind.
const HIDDEN_LOG_EVERY_MS: f64 = 250.0;
/// The ring draws one message per this fraction of a link per direction and kind.
const THIN_GAP: f64 = 0.12;
/// Messages the space-time diagram shows (as the simulator's).
const LANE_MSGS: usize = 48;
/// The [`MemoCache`] slots.
const LOG_SLOT: usize = 0;
const SAFETY_SLOT: usize = 1;
const RECENT_SLOT: usize = 2;
/// Real ms between redraws of the inspector's list of recent messages: under a write load it
/// changed every frame, faster than anyone reads, and its text cost paint and raster each time.
const RECENT_EVERY_MS: f64 = 250.0;
/// Real ms at least between two renders of the live view for new records or stale drawings
/// alone: under a write load records arrive in every frame, and messages (moved by the browser
/// between renders) are drawn where they are whenever they appear.
const RENDER_GAP_MS: f64 = 30.0;
/// Stream messages (each the records a node wrote at once) waiting in the inbox that make the page
/// apply them before the next frame (a hidden tab gets no frames, and the inbox must not grow
/// without bound).
const INBOX_FLUSH: usize = 64;
/// Real ms of record work a frame may do: the rest waits for the next frame. With a render at
/// most every [`RENDER_GAP_MS`] and done in a frame that applies no records, no frame pays for
/// both a burst of records and a redraw (under a write load that pair was the slow frame).
const RECORD_BUDGET_MS: f64 = 3.0;

/// Stream records as they arrive, applied per animation frame within [`RECORD_BUDGET_MS`] (or
/// all when [`INBOX_FLUSH`] wait): one Yew update per record cost more than the record itself
/// under a write load.
type Inbox = std::rc::Rc<std::cell::RefCell<tape::Inbox>>;

/// What the inspector shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Sel {
    /// Nothing.
    None,
    /// A node.
    Node(usize),
    /// A message: its `rid`, and whether the answer.
    Msg(String, bool),
    /// The link between two nodes (lower index first).
    Link(usize, usize),
}

/// The side panel's tabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    /// Inspector and fault controls.
    Inspect,
    /// Event log.
    Events,
    /// Space-time diagram.
    Lanes,
    /// Datum matrix and publish.
    Data,
}

/// Everything the page reacts to.
#[derive(Clone)]
pub enum Msg {
    Frame,
    Opened(usize, u32),
    /// Apply the records waiting in the inbox now (it is full).
    Flush,
    Dropped(usize, u32),
    Reconnect(usize, u32),
    CheckSync(usize, u32),
    HashChanged,
    Select(Sel),
    /// A message of the space-time diagram, by its arrival number.
    SelectLane(u64),
    SetTab(Tab),
    ToggleLang,
    TogglePause,
    /// Show the recorded session at this page time (pauses).
    Scrub(f64),
    /// Back to now.
    GoLive,
    Export,
    Fault(usize, String),
    FaultDone(String, net::Answer),
    Publish,
    Published(String, Result<(), String>),
    Input(Field, String),
    Dialog(bool),
    Escape,
    Connect,
    CutStart((f64, f64)),
    CutMove((f64, f64)),
    CutEnd,
    ClearToast,
}

/// The text fields of the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Addrs,
    Loss,
    LatMin,
    LatMax,
    Service,
    Ip,
    Port,
    Via,
}

/// A callback that sends `m` whatever the event: buttons with a message fixed when the view is
/// built share this one closure type (a closure written at each button is its own type, with
/// its own copy of Yew's callback code).
fn send<E: 'static>(link: &yew::html::Scope<LiveApp>, m: Msg) -> Callback<E> {
    link.callback(move |_: E| m.clone())
}

/// The live page.
pub struct LiveApp {
    /// The model now, and the tape of what built it (scrubbing, export).
    session: Session,
    /// The view while paused: the model at the scrubbed instant, and that page time.
    frozen: Option<(LiveModel, f64)>,
    streams: Vec<Option<Stream>>,
    inbox: Inbox,
    /// Counts connections (each makes a new session): part of every memo version.
    epoch: u64,
    /// The panels drawn only when what they show changed (slots: [`LOG_SLOT`], [`SAFETY_SLOT`],
    /// [`RECENT_SLOT`]).
    memo: MemoCache,
    /// Per node, a generation: events of a replaced stream are ignored.
    gens: Vec<u32>,
    /// Per node: its pending reconnect or re-sync check.
    timers: Vec<Option<Timeout>>,
    /// The display clock (dropped = stopped).
    _clock: dom::FrameLoop,
    _listeners: Vec<dom::Listener>,
    now: f64,
    last_prune: f64,
    lang: Lang,
    sel: Sel,
    tab: Tab,
    dialog: bool,
    addrs_text: String,
    error: Option<String>,
    toast: Option<String>,
    toast_timer: Option<Timeout>,
    loss: String,
    lat_min: String,
    lat_max: String,
    service: String,
    ip: String,
    port: String,
    via: String,
    cut_line: Option<((f64, f64), (f64, f64))>,
    /// When the current frame's work started (for `window.__nacosRaftFrames`, read by
    /// `make bench-live`).
    frame_start: Option<f64>,
    /// Records were applied since the last render.
    dirty: bool,
    /// Page time of the last render.
    last_render: f64,
    /// The last frame rendered (the next one applies records).
    rendered_last: bool,
    /// Page time at which the last render goes stale other than by what the browser animates
    /// itself (messages flying): the clock's tenth turns, a message lands or bursts, a countdown
    /// arc leaves its step. Set by `view`.
    redraw_at: std::cell::Cell<f64>,
    /// While the event log's tab is hidden: the [`HIDDEN_LOG_EVERY_MS`] slot the log was last
    /// drawn in and the number of events it showed.
    hidden_log: std::cell::Cell<(u64, u64)>,
}

impl LiveApp {
    fn connect_all(&mut self, ctx: &Context<Self>, addrs: &[String]) {
        self.streams.clear();
        self.timers.clear();
        // Records of the streams being replaced must not reach the new session.
        self.inbox.borrow_mut().clear();
        self.epoch += 1;
        self.session = Session::new(addrs);
        self.frozen = None;
        self.sel = Sel::None;
        self.gens = vec![0; addrs.len()];
        self.timers = (0..addrs.len()).map(|_| None).collect();
        self.streams = (0..addrs.len()).map(|_| None).collect();
        // Remembered for the Connect dialog, however the page was connected (hash or dialog).
        net::store_addrs(&addrs.join(","));
        if self.via.is_empty() || !addrs.contains(&self.via) {
            self.via = addrs.first().cloned().unwrap_or_default();
        }
        for i in 0..addrs.len() {
            self.open(ctx, i);
        }
    }

    fn open(&mut self, ctx: &Context<Self>, i: usize) {
        self.gens[i] = self.gens[i].wrapping_add(1);
        let g = self.gens[i];
        self.session.connecting(i, net::wall_ms());
        let (l1, l2, l3) = (ctx.link().clone(), ctx.link().clone(), ctx.link().clone());
        let inbox = self.inbox.clone();
        let s = Stream::open(
            &self.session.live.nodes[i].addr,
            move || l1.send_message(Msg::Opened(i, g)),
            move |r| {
                let waiting = {
                    let mut q = inbox.borrow_mut();
                    q.push_back(Waiting {
                        node: i,
                        gen: g,
                        records: r,
                        at: net::wall_ms(),
                    });
                    q.len()
                };
                if waiting == INBOX_FLUSH {
                    l2.send_message(Msg::Flush);
                }
            },
            move || l3.send_message(Msg::Dropped(i, g)),
        );
        match s {
            Ok(s) => self.streams[i] = Some(s),
            Err(_) => ctx.link().send_message(Msg::Dropped(i, g)),
        }
    }

    /// Sends `msg` about node `i` after `ms`; a newer one for the same node replaces it (a
    /// reconnect supersedes a re-sync check, and dropping a `Timeout` cancels it).
    fn later(&mut self, ctx: &Context<Self>, i: usize, ms: u32, msg: Msg) {
        let link = ctx.link().clone();
        if let Some(slot) = self.timers.get_mut(i) {
            *slot = Some(Timeout::new(ms, move || link.send_message(msg)));
        }
    }

    /// Applies the records that arrived since the last call, in arrival order, all of them or
    /// (`budget`, in ms) as many messages as fit in that time, the rest left waiting. Called
    /// without a budget before every message but a frame, so a stream's drop, reconnect or
    /// re-sync check sees every record that came before it, as when each record was a message
    /// of its own.
    fn drain(&mut self, ctx: &Context<Self>, budget: Option<f64>) {
        let until = budget.map(|b| dom::now_ms() + b);
        let inbox = self.inbox.clone();
        let n = tape::drain(
            &inbox,
            || until.is_none_or(|u| dom::now_ms() < u),
            |w| {
                if self.gens.get(w.node) == Some(&w.gen)
                    && self.session.apply_message(w.node, &w.records, w.at)
                        == super::model::After::Resync
                {
                    self.later(ctx, w.node, RESYNC_WAIT_MS, Msg::CheckSync(w.node, w.gen));
                }
            },
        );
        self.dirty |= n > 0;
    }

    fn toast(&mut self, ctx: &Context<Self>, text: String) {
        self.toast = Some(text);
        let link = ctx.link().clone();
        self.toast_timer = Some(Timeout::new(4_000, move || {
            link.send_message(Msg::ClearToast)
        }));
    }

    fn t(&self) -> &'static LiveTr {
        texts::tr(self.lang)
    }

    fn fault_url(&self, i: usize, action: &str) -> Option<String> {
        let n = self.session.live.nodes.get(i)?;
        Some(format!("http://{}/nacos-raft/v1/faults/{action}", n.addr))
    }

    /// What every memoised panel depends on: the session, the language, live or which recorded
    /// instant.
    fn memo_base(&self) -> u64 {
        memo::version(&[
            self.epoch,
            self.lang as u64,
            self.frozen.as_ref().map_or(u64::MAX, |(_, t)| t.to_bits()),
        ])
    }

    fn view_model(&self) -> (&LiveModel, f64) {
        match &self.frozen {
            Some((m, t)) => (m, *t),
            None => (&self.session.live, self.now),
        }
    }
}

/// `127.0.0.1:8848` → `:8848` in sentences (every node of a local cluster shares the host).
fn short(addr: &str) -> String {
    match addr.strip_prefix("127.0.0.1") {
        Some(rest) if rest.starts_with(':') => rest.to_string(),
        _ => addr.to_string(),
    }
}

fn as_is(s: &str) -> String {
    s.to_string()
}

impl Component for LiveApp {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        let lang = dom::stored_lang()
            .map(|t| Lang::from_tag(&t))
            .unwrap_or_else(|| Lang::from_tag(&dom::browser_lang()));
        dom::store_lang(lang.tag());
        let link = ctx.link().clone();
        let hashl =
            dom::Listener::window("hashchange", move |_| link.send_message(Msg::HashChanged));
        let link = ctx.link().clone();
        // The simulation's keys where they mean the same here: Space pauses, L switches the
        // language, Esc closes the dialog or clears the selection.
        let keys = dom::Listener::window("keydown", move |e| {
            use wasm_bindgen::JsCast;
            let Ok(k) = e.dyn_into::<web_sys::KeyboardEvent>() else {
                return;
            };
            if k.ctrl_key() || k.meta_key() || k.alt_key() || dom::in_text_field(&k) {
                return;
            }
            let msg = match k.key().as_str() {
                " " => Msg::TogglePause,
                "l" | "L" => Msg::ToggleLang,
                "Escape" => Msg::Escape,
                _ => return,
            };
            k.prevent_default();
            link.send_message(msg);
        });
        let link = ctx.link().clone();
        let clock = dom::FrameLoop::start(move |_| {
            link.send_message(Msg::Frame);
            true
        });
        let remembered = net::stored_addrs().unwrap_or_else(|| hash::DEFAULT_ADDRS.to_string());
        let mut app = LiveApp {
            session: Session::new(&[]),
            frozen: None,
            streams: Vec::new(),
            inbox: Inbox::default(),
            epoch: 0,
            memo: MemoCache::default(),
            gens: Vec::new(),
            timers: Vec::new(),
            _clock: clock,
            _listeners: vec![hashl, keys],
            now: net::wall_ms(),
            last_prune: 0.0,
            lang,
            sel: Sel::None,
            tab: Tab::Inspect,
            dialog: false,
            addrs_text: remembered,
            error: None,
            toast: None,
            toast_timer: None,
            loss: "30".into(),
            lat_min: "50".into(),
            lat_max: "200".into(),
            service: "live-demo".into(),
            ip: "127.0.0.1".into(),
            port: "9000".into(),
            via: String::new(),
            cut_line: None,
            frame_start: None,
            dirty: true,
            last_render: 0.0,
            rendered_last: false,
            redraw_at: std::cell::Cell::new(0.0),
            hidden_log: std::cell::Cell::new((u64::MAX, 0)),
        };
        match hash::addresses(&dom::hash()) {
            Ok(a) if !a.is_empty() => {
                app.addrs_text = a.join(",");
                app.connect_all(ctx, &a);
            }
            Ok(_) => app.dialog = true,
            Err(e) => {
                app.error = Some(e);
                app.dialog = true;
            }
        }
        app
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        // A frame's work includes applying the records that arrived since the last one.
        if matches!(msg, Msg::Frame) && self.frozen.is_none() {
            self.frame_start = Some(dom::now_ms());
        }
        if !matches!(msg, Msg::Frame) {
            self.drain(ctx, None);
        }
        match msg {
            Msg::Frame => {
                self.now = net::wall_ms();
                // Messages fly by browser animations: a frame with no new record and nothing gone
                // stale (see `redraw_at`) draws nothing, and new records or stale drawings are
                // drawn at most every RENDER_GAP_MS. The space-time diagram and a node's
                // inspector (its dues in ms) still follow the clock every frame.
                let due = self.frozen.is_none()
                    && (self.tab == Tab::Lanes
                        || matches!(self.sel, Sel::Node(_))
                        || ((self.dirty || self.now >= self.redraw_at.get())
                            && self.now - self.last_render >= RENDER_GAP_MS));
                // A frame that redraws applies no records (they wait for the next frame), unless
                // the view redraws every frame (then every other frame does both).
                let redraw = due && !self.rendered_last;
                self.rendered_last = redraw;
                if redraw {
                    return true;
                }
                self.drain(ctx, Some(RECORD_BUDGET_MS));
                if self.now - self.last_prune > PRUNE_EVERY_MS {
                    // Pruning is an input of the tape at this instant: every record that arrived
                    // before it goes first.
                    self.drain(ctx, None);
                    self.last_prune = self.now;
                    self.session.prune(self.now);
                    self.dirty = true;
                }
                if !due {
                    if let Some(s) = self.frame_start.take() {
                        dom::record_frame(dom::now_ms() - s);
                    }
                }
                due
            }
            Msg::Opened(i, g) => {
                if self.gens.get(i) == Some(&g) {
                    self.session.opened(i, net::wall_ms());
                }
                false
            }
            Msg::Flush => false,
            Msg::CheckSync(i, g) => {
                if self.gens.get(i) == Some(&g) && !self.session.live.nodes[i].synced {
                    self.streams[i] = None;
                    self.open(ctx, i);
                }
                false
            }
            Msg::Dropped(i, g) => {
                if self.gens.get(i) != Some(&g) {
                    return false;
                }
                self.streams[i] = None;
                let tries = self.session.dropped(i, net::wall_ms());
                // Backoff: 0.5 s, 1 s, 2 s ... at most 8 s.
                let delay = (500u32 << tries.saturating_sub(1).min(4)).min(8_000);
                self.later(ctx, i, delay, Msg::Reconnect(i, g));
                true
            }
            Msg::Reconnect(i, g) => {
                if self.gens.get(i) == Some(&g) {
                    self.open(ctx, i);
                }
                false
            }
            Msg::HashChanged => {
                let h = dom::hash();
                if !hash::is_live(&h) {
                    // The simulator is the other page (`../`): go there with the hash.
                    dom::go_to(crate::SIMULATOR_PAGE);
                    return false;
                }
                match hash::addresses(&h) {
                    Ok(a) if !a.is_empty() => {
                        let same = a.len() == self.session.live.nodes.len()
                            && a.iter()
                                .zip(&self.session.live.nodes)
                                .all(|(x, n)| *x == n.addr);
                        if !same {
                            self.addrs_text = a.join(",");
                            self.connect_all(ctx, &a);
                        }
                    }
                    Ok(_) => self.dialog = true,
                    Err(e) => {
                        self.error = Some(e);
                        self.dialog = true;
                    }
                }
                true
            }
            Msg::Select(s) => {
                self.sel = s;
                if self.sel != Sel::None {
                    self.tab = Tab::Inspect;
                }
                true
            }
            Msg::SelectLane(n) => {
                let (m, _) = self.view_model();
                self.sel = m
                    .flight_by_n(n)
                    .map_or(Sel::None, |f| Sel::Msg(f.rid.clone(), f.kind.is_reply()));
                true
            }
            Msg::SetTab(t) => {
                self.tab = t;
                true
            }
            Msg::ToggleLang => {
                self.lang = self.lang.other();
                dom::store_lang(self.lang.tag());
                true
            }
            Msg::TogglePause => {
                self.frozen = match self.frozen.take() {
                    Some(_) => None,
                    None => Some((self.session.live.clone(), self.now)),
                };
                true
            }
            Msg::Scrub(t) => {
                // Never past the newest input: the view is what was recorded.
                let t = t.min(self.session.end().unwrap_or(self.now));
                self.frozen = Some((self.session.at(t), t));
                true
            }
            Msg::GoLive => {
                self.frozen = None;
                true
            }
            Msg::Export => {
                let page = dom::href_without_hash() + "#" + &dom::hash();
                let name = format!("nacos-raft-live-{}.json", self.now as u64);
                dom::download(&name, "application/json", &self.session.export(&page));
                false
            }
            Msg::Fault(i, action) => {
                let Some(url) = self.fault_url(i, &action) else {
                    return false;
                };
                let link = ctx.link().clone();
                let who = self.session.live.nodes[i].addr.clone();
                net::post(url, move |a| link.send_message(Msg::FaultDone(who, a)));
                false
            }
            Msg::FaultDone(who, a) => {
                let t = self.t();
                let text = match a {
                    Ok((200, _)) => return false,
                    Ok((403, body)) if body.starts_with("faults are disabled") => {
                        format!("{who}: {}", t.faults_disabled)
                    }
                    Ok((_, body)) => format!("{who}: {}", body.trim()),
                    Err(e) => format!("{} {who}: {e}", t.unreachable_call),
                };
                self.toast(ctx, text);
                true
            }
            Msg::Publish => {
                let q = |s: &str| String::from(js_sys::encode_uri_component(s.trim()));
                let url = format!(
                    "http://{}/nacos/v1/ns/instance?serviceName={}&ip={}&port={}&ephemeral=false",
                    self.via,
                    q(&self.service),
                    q(&self.ip),
                    q(&self.port)
                );
                let link = ctx.link().clone();
                let via = self.via.clone();
                net::post_blind(url, move |r| link.send_message(Msg::Published(via, r)));
                false
            }
            Msg::Published(via, r) => {
                let t = self.t();
                let text = match r {
                    Ok(()) => format!("{} → {via}: {}", self.service.trim(), t.publish_sent),
                    Err(e) => format!("{} {via}: {e}", t.unreachable_call),
                };
                self.toast(ctx, text);
                true
            }
            Msg::Input(f, v) => {
                match f {
                    Field::Addrs => self.addrs_text = v,
                    Field::Loss => self.loss = v,
                    Field::LatMin => self.lat_min = v,
                    Field::LatMax => self.lat_max = v,
                    Field::Service => self.service = v,
                    Field::Ip => self.ip = v,
                    Field::Port => self.port = v,
                    Field::Via => self.via = v,
                }
                false
            }
            Msg::Escape => {
                if self.dialog && !self.session.live.nodes.is_empty() {
                    self.dialog = false;
                } else {
                    self.sel = Sel::None;
                }
                true
            }
            Msg::Dialog(open) => {
                self.dialog = open;
                true
            }
            Msg::Connect => match hash::parse_list(&self.addrs_text) {
                Ok(a) if !a.is_empty() => {
                    dom::replace_hash(&hash::hash_of(&a));
                    self.error = None;
                    self.dialog = false;
                    self.connect_all(ctx, &a);
                    true
                }
                Ok(_) => {
                    self.error = Some("no address".into());
                    true
                }
                Err(e) => {
                    self.error = Some(e);
                    true
                }
            },
            Msg::CutStart(p) => {
                self.cut_line = Some((p, p));
                true
            }
            Msg::CutMove(p) => match &mut self.cut_line {
                Some((_, b)) => {
                    *b = p;
                    true
                }
                None => false,
            },
            Msg::CutEnd => {
                let Some((a, b)) = self.cut_line.take() else {
                    return false;
                };
                let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
                if len >= CUT_MIN_LEN {
                    let n = self.session.live.nodes.len();
                    for (x, y) in crate::layout::links_crossed(n, a, b) {
                        let peer = self.session.live.nodes[y].addr.clone();
                        ctx.link()
                            .send_message(Msg::Fault(x, format!("cut?peer={peer}&dir=both")));
                    }
                }
                true
            }
            Msg::ClearToast => {
                self.toast = None;
                true
            }
        }
    }

    fn rendered(&mut self, _ctx: &Context<Self>, _first: bool) {
        self.dirty = false;
        self.last_render = net::wall_ms();
        dom::sync_anims("svg.ring [data-anim], svg.ring [data-anim-on]");
        if let Some(s) = self.frame_start.take() {
            dom::record_frame(dom::now_ms() - s);
        }
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let tr = self.lang.tr();
        let t = self.t();
        let (m, now) = self.view_model();
        let paused = self.frozen.is_some();
        let since = m.started.map_or(0.0, |s| (now - s).max(0.0));
        // The clock shows tenths: the next one is a redraw (the ring adds its own instants).
        self.redraw_at.set(now + 100.0 - since % 100.0);
        let base = self.memo_base();
        let (log_rows, logged) = if self.tab == Tab::Events {
            (LOG_ROWS, m.logged)
        } else {
            let slot = (now / HIDDEN_LOG_EVERY_MS) as u64;
            if self.hidden_log.get().0 != slot {
                self.hidden_log.set((slot, m.logged));
            }
            (HIDDEN_LOG_ROWS, self.hidden_log.get().1)
        };
        let tab_button = |tb: Tab, label: &'static str| {
            html! {
                <button role="tab" data-tab={format!("{tb:?}").to_ascii_lowercase()}
                    class={class_list(&["tab", when(self.tab == tb, "on")])}
                    aria-selected={(self.tab == tb).to_string()}
                    onclick={send(link, Msg::SetTab(tb))}>{ label }</button>
            }
        };
        html! {
            <div class="app live" data-live="true">
                <header class="top">
                    <div class="brand">
                        <h1>{ t.title }</h1>
                        <p class="sub">{ t.subtitle }</p>
                    </div>
                    <div class="setup">
                        <button onclick={send(link, Msg::Dialog(true))} data-testid="live-connect-open">{ t.connect }</button>
                        <button onclick={send(link, Msg::Export)} data-testid="export">{ tr.export }</button>
                        <button onclick={send(link, Msg::ToggleLang)} data-testid="lang" lang={self.lang.other().tag()}>{ tr.lang_switch }</button>
                        <a class="button" href={crate::SIMULATOR_PAGE} data-testid="live-simulation">{ t.simulation }</a>
                    </div>
                </header>
                <main class="main">
                    <section class="stage">
                        <div class="transport" role="toolbar">
                            <button class="play" data-testid="play" data-playing={(!paused).to_string()}
                                onclick={send(link, Msg::TogglePause)}>
                                { if paused { tr.play } else { tr.pause } }
                            </button>
                            <span class="clock" data-clock-ms={d0(since)}>{ crate::layout::clock_text(since as u64) }</span>
                            <span class="status" data-testid="live-msg-count" data-count={m.msg_count.to_string()}>
                                { format!("{} {}", m.msg_count, t.messages) }
                            </span>
                            <span class="status" data-testid="status">{ status_line(self.lang, m) }</span>
                        </div>
                        if paused {
                            <div class="flash" data-testid="live-frozen">{ t.frozen }</div>
                            { self.scrubber(ctx, now) }
                        }
                        { self.ring(ctx, m, now) }
                        { self.memo.get(SAFETY_SLOT, memo::version(&[base, m.violations.len() as u64]), || safety(self.lang, m)) }
                    </section>
                    <aside class="side">
                        <nav class="tabs" role="tablist">
                            { tab_button(Tab::Inspect, tr.tab_inspect) }
                            { tab_button(Tab::Events, tr.tab_events) }
                            { tab_button(Tab::Lanes, tr.tab_lanes) }
                            { tab_button(Tab::Data, tr.tab_data) }
                        </nav>
                        <div class="panel" hidden={self.tab != Tab::Inspect}>
                            { self.inspector(ctx, m, now) }
                        </div>
                        <div class="panel" hidden={self.tab != Tab::Events}>
                            { self.memo.get(LOG_SLOT, memo::version(&[base, log_rows as u64, logged, m.started.map_or(u64::MAX, f64::to_bits)]),
                                || event_log(self.lang, m, log_rows)) }
                        </div>
                        <div class="panel" hidden={self.tab != Tab::Lanes}>
                            if self.tab == Tab::Lanes { { self.lanes_view(ctx, m, now) } }
                        </div>
                        <div class="panel" hidden={self.tab != Tab::Data}>
                            // Built only while shown: a matrix of every key on every node each
                            // frame would cost more than the ring under a write load.
                            if self.tab == Tab::Data { { self.data_view(ctx, m) } }
                        </div>
                    </aside>
                </main>
                if self.dialog { { self.dialog_view(ctx) } }
                if let Some(x) = &self.toast {
                    <div class="toast" role="status" aria-live="polite" data-testid="toast">{ x }</div>
                }
            </div>
        }
    }
}

fn status_line(lang: Lang, m: &LiveModel) -> String {
    let tr = lang.tr();
    let leaders: Vec<String> = m
        .leaders()
        .into_iter()
        .map(|i| format!("{} ({} {})", m.nodes[i].addr, tr.term, m.nodes[i].term()))
        .collect();
    format!(
        "{}: {}",
        tr.state_leader,
        if leaders.is_empty() {
            tr.none.to_string()
        } else {
            leaders.join(", ")
        }
    )
}

fn safety(lang: Lang, m: &LiveModel) -> Html {
    let t = texts::tr(lang);
    html! {
        <div class="violations" data-testid="violations" data-count={m.violations.len().to_string()}>
            if m.violations.is_empty() {
                <span class="ok">{ t.no_violations }</span>
            }
            <ul>
                { for m.violations.iter().rev().take(20).map(|v| html! {
                    <li class="violation" data-kind={v.kind.as_str()}>
                        <strong>{ describe::violation_title(lang, v.kind) }</strong>{ " — " }{ &v.detail }
                    </li>
                }) }
            </ul>
        </div>
    }
}

fn event_log(lang: Lang, m: &LiveModel, rows: usize) -> Html {
    let start = m.started.unwrap_or(0.0);
    let rows = m.log.iter().rev().take(rows).map(|l| {
        let addr = &m.nodes[l.node].addr;
        let name = short(addr);
        let (text, kind) = match &l.item {
            LogItem::Event(e) => {
                let ctx = Ctx {
                    node: Some((addr, &name)),
                    term_step: Some(m.nodes[l.node].timings.term_step.max(1)),
                    name: as_is,
                    key: describe::short_key,
                };
                (text::event_sentence(e, lang, &ctx), "event")
            }
            LogItem::Note(n) => (format!("{name} {}", texts::note(lang, n)), note_kind(n)),
        };
        html! {
            <li data-kind={kind} data-addr={addr.clone()}>
                <span class="at">{ format!("{}s", d1(((l.at - start) / 1000.0).max(0.0))) }</span>{ " " }{ text }
            </li>
        }
    });
    html! { <ol class="log" data-testid="event-log">{ for rows }</ol> }
}

fn note_kind(n: &Note) -> &'static str {
    match n {
        Note::Connected => "connected",
        Note::Unreachable => "unreachable",
        Note::Gap(_) => "gap",
        Note::Crashed => "crashed",
        Note::Restarted => "restarted",
        Note::FaultsChanged => "faults",
    }
}

/// Where a pointer event is, in the ring's SVG coordinates (viewBox 0 0 1000 1000).
fn svg_point(e: &PointerEvent) -> Option<(f64, f64)> {
    let el = dom::closest(e.as_ref(), "svg.ring")?;
    let r = el.get_bounding_client_rect();
    let scale = (r.width() / 1000.0).min(r.height() / 1000.0);
    if scale <= 0.0 {
        return None;
    }
    let ox = r.left() + (r.width() - 1000.0 * scale) / 2.0;
    let oy = r.top() + (r.height() - 1000.0 * scale) / 2.0;
    Some((
        (e.client_x() as f64 - ox) / scale,
        (e.client_y() as f64 - oy) / scale,
    ))
}

fn click_target(e: &MouseEvent) -> Sel {
    let Some(el) = dom::closest(e.as_ref(), "[data-hit]") else {
        return Sel::None;
    };
    let num = |name: &str| el.get_attribute(name).and_then(|v| v.parse::<usize>().ok());
    match el.get_attribute("data-hit").as_deref() {
        Some("node") => num("data-index").map_or(Sel::None, Sel::Node),
        Some("msg") => match el.get_attribute("data-rid") {
            Some(rid) => Sel::Msg(
                rid,
                el.get_attribute("data-answer").as_deref() == Some("true"),
            ),
            None => Sel::None,
        },
        Some("link") => match (num("data-a"), num("data-b")) {
            (Some(a), Some(b)) => Sel::Link(a, b),
            _ => Sel::None,
        },
        _ => Sel::None,
    }
}

/// A message's key among the ring's messages: its `rid`, and whether the answer.
fn key_of(k: &(String, bool)) -> String {
    format!("{}{}", k.0, if k.1 { "<" } else { ">" })
}

fn translate(x: f64, y: f64) -> String {
    format!("translate({},{})", d1(x), d1(y))
}

impl LiveApp {
    /// A countdown's fraction (`f` at the page's instant; `cd`: when it reaches 0 and its full
    /// length) as the ring draws it: live, rounded up to `steps` per turn, and the next redraw
    /// due when it leaves that step, so no frame in between redraws anything for it; paused, as
    /// it is.
    fn stepped(&self, f: Option<f64>, cd: Option<(f64, f64)>, steps: f64) -> Option<f64> {
        let f = f?;
        let Some((zero, full)) = cd.filter(|_| self.frozen.is_none()) else {
            return Some(f);
        };
        let k = (f * steps).ceil();
        if k > 0.0 {
            let leaves = zero - (k - 1.0) / steps * full;
            self.redraw_at.set(self.redraw_at.get().min(leaves));
        }
        Some(k / steps)
    }

    /// The simulator's space-time diagram, fed by the streams.
    fn lanes_view(&self, ctx: &Context<Self>, m: &LiveModel, now: f64) -> Html {
        let (times, lanes) = m.lanes(now, LANE_MSGS);
        let sel = match &self.sel {
            Sel::Msg(rid, answer) => lanes
                .iter()
                .find(|l| {
                    m.flight_by_n(l.id)
                        .is_some_and(|f| f.rid == *rid && f.kind.is_reply() == *answer)
                })
                .map(|l| l.id),
            _ => None,
        };
        let onclick = ctx.link().callback(|e: MouseEvent| {
            match dom::closest(e.as_ref(), "[data-msg-id]")
                .and_then(|el| el.get_attribute("data-msg-id"))
                .and_then(|v| v.parse::<u64>().ok())
            {
                Some(n) => Msg::SelectLane(n),
                None => Msg::Select(Sel::None),
            }
        });
        html! {
            <div class="lanes-view">
                <p class="small">{ self.lang.tr().lanes_hint }</p>
                { crate::app::panels::spacetime(m.nodes.len(), &times, &lanes, sel, onclick) }
            </div>
        }
    }

    /// The scrubber of the paused page: a slider over the recorded session (page time of
    /// arrival, from the oldest input kept to the newest), and "Live" back to now.
    fn scrubber(&self, ctx: &Context<Self>, at: f64) -> Html {
        let link = ctx.link();
        let t = self.t();
        let s = &self.session;
        let (lo, hi) = match (s.start(), s.end()) {
            (Some(a), Some(b)) => (a, b.max(a)),
            _ => (at, at),
        };
        let base = self.session.live.started.unwrap_or(lo);
        let oninput = link.callback(|e: InputEvent| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            Msg::Scrub(el.value_as_number())
        });
        html! {
            <div class="transport scrub" data-testid="live-scrubber">
                <label class="speed">{ t.scrub }
                    <input type="range" data-testid="live-scrub" aria-label={t.scrub}
                        min={d0(lo)} max={d0(hi)} step="1"
                        value={d0(at.clamp(lo, hi))}
                        data-at-ms={d0((at - base).max(0.0))}
                        data-span-ms={d0((hi - lo).max(0.0))} {oninput} />
                </label>
                <span class="clock">{ crate::layout::clock_text((at - base).max(0.0) as u64) }</span>
                <button data-testid="live-now" onclick={send(link, Msg::GoLive)}>{ t.go_live }</button>
                if s.dropped_records > 0 {
                    <span class="hint" data-testid="live-trimmed" data-dropped={s.dropped_records.to_string()}>
                        { format!("{} {}", s.dropped_records, t.trimmed) }
                    </span>
                }
            </div>
        }
    }

    fn ring(&self, ctx: &Context<Self>, m: &LiveModel, now: f64) -> Html {
        let link = ctx.link();
        let n = m.nodes.len();
        let r = node_radius(n);
        let tr = self.lang.tr();
        let t = self.t();
        let pos: Vec<(f64, f64)> = (0..n).map(|i| node_pos(i, n)).collect();
        // Live (not paused): messages are handed to the browser to animate.
        let animate = self.frozen.is_none();
        let onclick = link.callback(|e: MouseEvent| Msg::Select(click_target(&e)));
        let onpointerdown = {
            let link = link.clone();
            Callback::from(move |e: PointerEvent| {
                if e.pointer_type() == "touch" || e.button() != 0 {
                    return;
                }
                let ev: &web_sys::Event = e.as_ref();
                if dom::closest(ev, "[data-hit]").is_some() {
                    return;
                }
                if let Some(pt) = svg_point(&e) {
                    if let Some(el) = dom::closest(ev, "svg.ring") {
                        let _ = el.set_pointer_capture(e.pointer_id());
                    }
                    link.send_message(Msg::CutStart(pt));
                }
            })
        };
        // Moves and the release always go to `update`, which ignores them when no line is being
        // drawn: a closure made at the last render could be older than the pointer going down.
        let onpointermove = link.batch_callback(|e: PointerEvent| svg_point(&e).map(Msg::CutMove));
        let onpointerup = link.callback(|_: PointerEvent| Msg::CutEnd);

        let mut links = Vec::new();
        for a in 0..n {
            for b in a + 1..n {
                let (na, nb) = (&m.nodes[a], &m.nodes[b]);
                let ab = na.cuts_to(&nb.addr) || nb.cuts_from(&na.addr);
                let ba = nb.cuts_to(&na.addr) || na.cuts_from(&nb.addr);
                let state = match (ab, ba) {
                    (false, false) => "open",
                    (true, true) => "cut",
                    _ => "one-way",
                };
                let selected = self.sel == Sel::Link(a, b);
                let (pa, pb) = (pos[a], pos[b]);
                links.push(html! {
                    <g class={class_list(&["link", state, when(selected, "selected")])}
                        data-hit="link" data-a={a.to_string()} data-b={b.to_string()} data-link-state={state}>
                        <line class="hit" x1={d1(pa.0)} y1={d1(pa.1)} x2={d1(pb.0)} y2={d1(pb.1)} />
                        <line class="base" x1={d1(pa.0)} y1={d1(pa.1)} x2={d1(pb.0)} y2={d1(pb.1)} />
                    </g>
                });
            }
        }

        let nodes = m.nodes.iter().enumerate().map(|(i, nd)| {
            let (x, y) = pos[i];
            let st = nd.state();
            let state_class = match st {
                Some(PeerState::Leader) => "leader",
                Some(PeerState::Follower) => "follower",
                Some(PeerState::Candidate) => "candidate",
                None => "down",
            };
            let conn = nd.shown_conn();
            // A member drawn from hearsay is not unreachable: it is shown as heard, marked.
            let no_stream = conn == Conn::NoStream;
            let unreachable = !no_stream && conn != Conn::Open;
            let selected = self.sel == Sel::Node(i);
            let vote = nd.peer.as_ref().and_then(|p| p.vote().map(String::from)).unwrap_or_default();
            let word = if unreachable {
                texts::conn_word(self.lang, conn)
            } else if nd.faults.crashed {
                t.crashed
            } else {
                describe::state_word(self.lang, st)
            };
            let (ox, oy) = (x - CENTER.0, y - CENTER.1);
            let olen = (ox * ox + oy * oy).sqrt().max(1e-6);
            let off = r + 30.0 + (r * 0.5 - 18.0).max(0.0) * (oy / olen).abs();
            let (lx, ly) = (x + ox / olen * off, y + oy / olen * off - 6.0);
            let anchor = if (lx - CENTER.0).abs() < 30.0 {
                "middle"
            } else if lx > CENTER.0 {
                "start"
            } else {
                "end"
            };
            let title = format!("{} · {} · {} {}", nd.addr, word, tr.term, nd.term());
            let vote_label = nd
                .peer
                .as_ref()
                .and_then(|p| p.vote())
                .and_then(|v| m.index(v))
                .map(|j| format!("{}→{}", tr.vote, describe::letter(j)))
                .unwrap_or_default();
            // Live, the arcs move in steps: 1/60 of a turn for the leader due, 1/30 for the
            // leader's beat (a 4x shorter turn at the default timings).
            let leader_due = self.stepped(nd.leader_due(now), nd.leader_countdown(), 60.0);
            let beat_due = if st == Some(PeerState::Leader) {
                self.stepped(nd.beat_due(now), nd.beat_countdown(), 30.0)
            } else {
                None
            };
            html! {
                <g class={class_list(&["node", state_class, when(selected, "selected"), when(unreachable, "unreachable"), when(no_stream, "no-stream")])}
                    data-node={nd.addr.clone()} data-state={crate::app::state_attr(st)} data-term={nd.term().to_string()}
                    data-vote-for={vote} data-conn={conn.as_str()} data-crashed={nd.faults.crashed.to_string()}
                    data-leader={nd.leader.clone().unwrap_or_default()}
                    data-hit="node" data-index={i.to_string()} tabindex="0" role="button" aria-label={title.clone()}
                    transform={translate(x, y)}>
                    <title>{ title }</title>
                    if selected { <circle class="sel" r={d1(r + 19.0)} /> }
                    if let (Some(f), Some(_)) = (leader_due, st) {
                        <circle class="due-track" r={d1(r + 8.0)} />
                        <path class={class_list(&["due", when(f < 0.2, "low")])} d={arc_path(0.0, 0.0, r + 8.0, f)} />
                    }
                    if st == Some(PeerState::Leader) {
                        if let Some(f) = beat_due {
                            <path class="beat-due" d={arc_path(0.0, 0.0, r + 15.0, f)} />
                        }
                        <polygon class="crown" points={points(&[
                            -r * 0.45, -r * 1.02, -r * 0.5, -r * 1.38, -r * 0.22, -r * 1.18, 0.0, -r * 1.45,
                            r * 0.22, -r * 1.18, r * 0.5, -r * 1.38, r * 0.45, -r * 1.02])} />
                    }
                    <circle class="body" r={d1(r)} stroke-dasharray={unreachable.then_some("6 6").or(no_stream.then_some("2 5"))} />
                    if st == Some(PeerState::Candidate) {
                        <circle class="cand-ring" r={d1(r - 5.0)} />
                    }
                    if st.is_none() && !unreachable {
                        <path class="down-x" d={format!("M {a} {a} L {b} {b} M {a} {b} L {b} {a}", a = d1(-r * 0.6), b = d1(r * 0.6))} />
                    }
                    <text class="letter" y={d1(-r * 0.12)} font-size={d1(r * 0.5)}>{ if unreachable { "?".to_string() } else { describe::letter(i) } }</text>
                    <text class="term" y={d1(r * 0.3)} font-size={d1(r * 0.27)}>{ format!("{} {}", tr.term, nd.term()) }</text>
                    <text class="state-word" y={d1(r * 0.62)} font-size={d1(r * 0.2)}>{ word }</text>
                    <g class="label" transform={translate(lx - x, ly - y)}>
                        <text text-anchor={anchor} class="addr">{ nd.addr.clone() }</text>
                        <text text-anchor={anchor} class="sub" y="18">
                            { vote_label }
                            { if no_stream { format!("  {}", t.no_stream_tag) } else { String::new() } }
                            { if nd.datums.is_empty() { String::new() } else { format!("  ▤{}", nd.datums.len()) } }
                        </text>
                    </g>
                </g>
            }
        });

        let size = (r * 0.24).clamp(8.0, 14.0);
        let keep = match &self.sel {
            Sel::Msg(rid, answer) => Some((rid.clone(), *answer)),
            _ => None,
        };
        let (shown, next) = m.shown_next(now);
        self.redraw_at.set(self.redraw_at.get().min(next));
        let shown = LiveModel::thin(shown, THIN_GAP, keep.as_ref());
        let msgs = shown.iter().filter(|s| s.from < n && s.to < n).map(|s| {
            let (from, to) = (pos[s.from], pos[s.to]);
            let (x, y) = along(from, to, s.progress.clamp(0.0, 1.0), r);
            if s.failed {
                let k = size * 1.5;
                return html! {
                    <g key={key_of(&s.key)} class="burst" data-msg-failed={s.kind.as_str()} transform={translate(x, y)}>
                        <circle r={d1(k)} />
                        <path d={format!("M {a} {a} L {b} {b} M {a} {b} L {b} {a}", a = d1(-k * 0.7), b = d1(k * 0.7))} />
                    </g>
                };
            }
            let selected = self.sel == Sel::Msg(s.key.0.clone(), s.key.1);
            // Keyed, and drawn around its own origin, as the simulation's ring. Live, the browser
            // moves it from the sender's edge to where it goes, on a timeline pinned to when it
            // left (a late or repeated render does not shift it), and no render writes to it
            // while it flies; its tail has its full length from the start. Paused, it stands
            // where the scrubbed instant puts it.
            let (x, y, tail, anim) = if animate {
                let (x0, y0) = along(from, to, 0.0, r);
                let end = along(from, to, s.reach, r);
                let tail = along(from, to, 0.06, r);
                let anim = format!(
                    "translate({}px,{}px)|translate({}px,{}px)|{}|{}",
                    d1(x0), d1(y0), d1(end.0), d1(end.1), s.start as i64, (s.span * s.reach) as i64
                );
                // Drawn where it ends: the animation shows it on its way until then.
                let back = (x0 - tail.0, y0 - tail.1);
                (end.0, end.1, (end.0 + back.0, end.1 + back.1), Some(anim))
            } else {
                let tail = along(from, to, (s.progress - 0.06).max(0.0), r);
                (x, y, tail, None)
            };
            html! {
                <g key={key_of(&s.key)} class={class_list(&["msg", when(selected, "selected")])} data-msg={s.kind.as_str()}
                    data-rid={s.key.0.clone()} data-answer={s.key.1.to_string()} data-hit="msg" transform={translate(x, y)} data-anim={anim}>
                    <line class={class_list(&["tail", kind_class(s.kind)])} x1={d1(tail.0 - x)} y1={d1(tail.1 - y)} x2="0" y2="0" />
                    <circle class="msg-hit" r={d1(size * 2.0)} />
                    if selected { <circle class="msg-sel" r={d1(size * 1.9)} /> }
                    { msg_shape(s.kind, size, s.granted, s.status) }
                </g>
            }
        });
        html! {
            <svg class="ring" viewBox="0 0 1000 1000" role="img" aria-label={t.title}
                data-flying={shown.len().to_string()} {onclick} {onpointerdown} {onpointermove} {onpointerup}>
                <circle class="orbit" cx={d1(CENTER.0)} cy={d1(CENTER.1)} r={d1(RING)} />
                <g class="links">{ for links }</g>
                <g class="nodes">{ for nodes }</g>
                <g class="msgs">{ for msgs }</g>
                if let Some((a, b)) = self.cut_line {
                    <line class="cut-draw" x1={d1(a.0)} y1={d1(a.1)} x2={d1(b.0)} y2={d1(b.1)} />
                }
            </svg>
        }
    }

    fn inspector(&self, ctx: &Context<Self>, m: &LiveModel, now: f64) -> Html {
        let t = self.t();
        match &self.sel {
            Sel::Node(i) if *i < m.nodes.len() => self.node_view(ctx, m, *i, now),
            Sel::Msg(rid, _) => msg_view(self.lang, m, rid),
            Sel::Link(a, b) if *b < m.nodes.len() => self.link_view(ctx, m, *a, *b),
            _ => html! {
                <div class="inspector">
                    <p class="hint">{ t.select_node }</p>
                    <p class="hint">{ t.draw_hint }</p>
                    <h3>{ t.recent }</h3>
                    { self.memo.get(RECENT_SLOT, memo::version(&[self.memo_base(), m.msg_count.min(1), (now / RECENT_EVERY_MS) as u64]), || html! {
                        <ul class="recent">
                            { for m.recent(12).into_iter().map(|f| {
                                let key = (f.rid.clone(), f.kind.is_reply());
                                let onclick = send(ctx.link(), Msg::Select(Sel::Msg(key.0, key.1)));
                                html! {
                                    <li><button class="linkish" {onclick} data-testid="live-recent">
                                        { format!("{} {} → {}", f.kind.as_str(), short(&m.nodes[f.from].addr), short(&m.nodes[f.to].addr)) }
                                    </button></li>
                                }
                            }) }
                        </ul>
                    }) }
                </div>
            },
        }
    }

    fn node_view(&self, ctx: &Context<Self>, m: &LiveModel, i: usize, now: f64) -> Html {
        let link = ctx.link();
        let tr = self.lang.tr();
        let t = self.t();
        let nd = &m.nodes[i];
        let fault = |label: &'static str, action: &'static str, id: &'static str| {
            let onclick = send(link, Msg::Fault(i, action.to_string()));
            html! { <button {onclick} data-testid={id} disabled={!nd.faults.enabled}>{ label }</button> }
        };
        let loss = {
            let onclick = send(
                link,
                Msg::Fault(i, format!("loss?pct={}", self.loss.trim())),
            );
            html! { <button {onclick} data-testid="live-loss" disabled={!nd.faults.enabled}>{ t.apply }</button> }
        };
        let latency = {
            let (a, b) = (self.lat_min.trim(), self.lat_max.trim());
            let onclick = send(link, Msg::Fault(i, format!("latency?min={a}&max={b}")));
            html! { <button {onclick} data-testid="live-latency" disabled={!nd.faults.enabled}>{ t.apply }</button> }
        };
        let input = |f: Field, v: &str, id: &'static str| {
            let oninput = link.callback(move |e: InputEvent| Msg::Input(f, dom::input_value(&e)));
            html! { <input class="num" type="text" inputmode="numeric" value={v.to_string()} data-testid={id} {oninput} /> }
        };
        let ms_left = |f: Option<f64>, full: u64| {
            f.map(|f| format!("{} ms", d0(f * full as f64)))
                .unwrap_or_else(|| tr.none.to_string())
        };
        let tm = &nd.timings;
        let fl = &nd.faults;
        let mut active = Vec::new();
        if fl.crashed {
            active.push(t.crashed.to_string());
        }
        for p in &fl.cut_out {
            active.push(format!("{} → {p}", t.cut));
        }
        for p in &fl.cut_in {
            active.push(format!("{} ← {p}", t.cut));
        }
        if fl.loss_pct > 0 {
            active.push(format!("{} {}", t.loss, fl.loss_pct));
        }
        if let Some(l) = &fl.latency_ms {
            active.push(format!("{} {}–{}", t.latency, l.min, l.max));
        }
        html! {
            <div class="inspector" data-testid="live-node" data-addr={nd.addr.clone()}>
                <h3>{ format!("{} · {}", describe::letter(i), nd.addr) }</h3>
                <dl>
                    <dt>{ tr.state }</dt><dd>{ describe::state_word(self.lang, nd.state()) }{ " · " }{ texts::conn_word(self.lang, nd.shown_conn()) }</dd>
                    <dt>{ tr.term }</dt><dd>{ nd.term() }</dd>
                    <dt>{ tr.vote_for }</dt><dd>{ nd.peer.as_ref().and_then(|p| p.vote()).unwrap_or(tr.none) }</dd>
                    <dt>{ tr.believed_leader }</dt><dd>{ nd.leader.clone().unwrap_or_else(|| tr.none.to_string()) }</dd>
                    <dt>{ tr.leader_due }</dt><dd>{ ms_left(nd.leader_due(now), tm.leader_timeout_ms + tm.random_ms) }</dd>
                    <dt>{ tr.heartbeat_due }</dt><dd>{ ms_left(nd.beat_due(now), tm.heartbeat_ms) }</dd>
                    <dt>{ tr.datums }</dt><dd>{ nd.datums.len() }</dd>
                </dl>
                <h3>{ t.tab_faults }</h3>
                if !nd.faults.enabled && nd.synced {
                    <p class="warn" data-testid="live-faults-disabled">{ t.faults_disabled }</p>
                }
                <div class="actions">
                    { fault(t.crash, "crash", "live-crash") }
                    { fault(t.restart, "restart", "live-restart") }
                    { fault(t.isolate, "isolate", "live-isolate") }
                    { fault(t.heal_all, "heal-all", "live-heal-all") }
                    { fault(t.timeout_now, "timeout-now", "live-timeout-now") }
                </div>
                <label>{ t.loss }{ " " }{ input(Field::Loss, &self.loss, "live-loss-pct") }{ loss }</label>
                <label>{ t.latency }{ " " }{ input(Field::LatMin, &self.lat_min, "live-lat-min") }{ "–" }{ input(Field::LatMax, &self.lat_max, "live-lat-max") }{ latency }</label>
                <p data-testid="live-active-faults">{ t.faults_active }{ ": " }{ if active.is_empty() { t.no_faults.to_string() } else { active.join(", ") } }</p>
                <h3>{ tr.peers_view }</h3>
                <table class="peers">
                    <tr><th>{ tr.peer }</th><th>{ tr.state }</th><th>{ tr.term }</th><th>{ tr.vote_for }</th></tr>
                    { for nd.peers.iter().map(|p| html! {
                        <tr><td>{ &p.ip }</td><td>{ p.state.as_str() }</td><td>{ p.term }</td><td>{ p.vote().unwrap_or("") }</td></tr>
                    }) }
                </table>
                if let Some(p) = &nd.peer {
                    <h3>{ tr.own_peer }</h3>
                    <pre class="payload">{ serde_json::to_string(p).ok().and_then(|j| jsonfmt::pretty(&j)).unwrap_or_default() }</pre>
                }
            </div>
        }
    }

    fn link_view(&self, ctx: &Context<Self>, m: &LiveModel, a: usize, b: usize) -> Html {
        let t = self.t();
        let (na, nb) = (&m.nodes[a], &m.nodes[b]);
        let cut = send(
            ctx.link(),
            Msg::Fault(a, format!("cut?peer={}&dir=both", nb.addr)),
        );
        // Heal both ends: a cut may have been made at either node.
        let (pa, pb) = (na.addr.clone(), nb.addr.clone());
        let heal = ctx.link().batch_callback(move |_| {
            vec![
                Msg::Fault(a, format!("heal?peer={pb}&dir=both")),
                Msg::Fault(b, format!("heal?peer={pa}&dir=both")),
            ]
        });
        html! {
            <div class="inspector" data-testid="live-link">
                <h3>{ t.select_link }{ ": " }{ format!("{} ↔ {}", na.addr, nb.addr) }</h3>
                <div class="actions">
                    <button onclick={cut} data-testid="live-cut-link" disabled={!na.faults.enabled}>{ t.cut }</button>
                    <button onclick={heal} data-testid="live-heal-link">{ t.heal }</button>
                </div>
                <p class="hint">{ t.draw_hint }</p>
            </div>
        }
    }

    fn data_view(&self, ctx: &Context<Self>, m: &LiveModel) -> Html {
        let link = ctx.link();
        let tr = self.lang.tr();
        let t = self.t();
        let keys = m.keys();
        let input = |f: Field, v: &str, id: &'static str| {
            let oninput = link.callback(move |e: InputEvent| Msg::Input(f, dom::input_value(&e)));
            html! { <input type="text" value={v.to_string()} data-testid={id} {oninput} /> }
        };
        let via = {
            let onchange = link.callback(|e: Event| {
                let el: web_sys::HtmlSelectElement = e.target_unchecked_into();
                Msg::Input(Field::Via, el.value())
            });
            html! {
                <select data-testid="live-publish-via" {onchange}>
                    { for m.nodes.iter().map(|n| html! {
                        <option value={n.addr.clone()} selected={n.addr == self.via}>{ &n.addr }</option>
                    }) }
                </select>
            }
        };
        html! {
            <div class="data-view">
                <table class="matrix" data-testid="live-data">
                    <tr>
                        <th>{ tr.peer }</th>
                        { for keys.iter().map(|k| html! { <th title={k.clone()}>{ describe::short_key(k) }</th> }) }
                    </tr>
                    { for m.nodes.iter().map(|n| html! {
                        <tr data-testid="live-data-row" data-addr={n.addr.clone()} data-keys={n.datums.len().to_string()}>
                            <th>{ short(&n.addr) }</th>
                            { for keys.iter().map(|k| match n.datums.get(k) {
                                Some(ts) => html! { <td class="cell same" data-key={k.clone()} data-ts={ts.to_string()}>{ ts }</td> },
                                None => html! { <td class="cell missing">{ "—" }</td> },
                            }) }
                        </tr>
                    }) }
                </table>
                if keys.is_empty() { <p class="hint">{ tr.no_datums }</p> }
                <h3>{ t.publish }</h3>
                <div class="publish">
                    <label>{ t.service }{ " " }{ input(Field::Service, &self.service, "live-publish-service") }</label>
                    <label>{ t.ip }{ " " }{ input(Field::Ip, &self.ip, "live-publish-ip") }</label>
                    <label>{ t.port }{ " " }{ input(Field::Port, &self.port, "live-publish-port") }</label>
                    <label>{ t.via }{ " " }{ via }</label>
                    <button onclick={send(link, Msg::Publish)} data-testid="live-publish">{ t.publish }</button>
                </div>
            </div>
        }
    }

    fn dialog_view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let t = self.t();
        let oninput = link.callback(|e: InputEvent| Msg::Input(Field::Addrs, dom::input_value(&e)));
        let onsubmit = link.callback(|e: SubmitEvent| {
            e.prevent_default();
            Msg::Connect
        });
        html! {
            <div class="overlay" role="dialog" aria-modal="true" data-testid="live-connect-dialog">
                <form class="dialog" aria-label={t.connect_title} {onsubmit}>
                    <h2>{ t.connect_title }</h2>
                    <p>{ t.connect_hint }</p>
                    <input type="text" class="addrs" value={self.addrs_text.clone()} {oninput}
                        data-testid="live-addrs" aria-label={t.connect_title} />
                    if let Some(e) = &self.error {
                        <p class="warn" role="alert" data-testid="url-error">{ e }</p>
                    }
                    <div class="actions">
                        <button type="submit" data-testid="live-connect">{ t.connect_go }</button>
                        if !self.session.live.nodes.is_empty() {
                            <button type="button" onclick={send(link, Msg::Dialog(false))}>{ t.cancel }</button>
                        }
                    </div>
                </form>
            </div>
        }
    }
}

fn msg_view(lang: Lang, m: &LiveModel, rid: &str) -> Html {
    let t = texts::tr(lang);
    let tr = lang.tr();
    let side = |f: Option<&super::model::Flight>, title: &'static str| -> Html {
        let Some(f) = f else {
            return html! {};
        };
        let took = f
            .end
            .map(|e| format!("{} {} ms", t.took, d1((e - f.start).max(0.0))))
            .unwrap_or_default();
        let fate = match &f.fate {
            Fate::Fine => String::new(),
            Fate::Failed(o) => format!("{} ({o})", t.failed),
        };
        let body = jsonfmt::pretty(&f.payload).unwrap_or_else(|| f.payload.clone());
        html! {
            <section data-testid="live-msg-side" data-kind={f.kind.as_str()}>
                <h3>{ title }{ ": " }{ describe::kind_name(lang, f.kind) }</h3>
                <p>{ format!("{} → {}", m.nodes[f.from].addr, m.nodes[f.to].addr) }{ " " }{ took }{ " " }{ fate }
                    { f.status.map(|s| format!(" · HTTP {s}")).unwrap_or_default() }
                    { f.granted.map(|g| format!(" · granted {g}")).unwrap_or_default() }
                </p>
                <pre class="payload" data-testid="live-payload">{ body }</pre>
                if f.truncated {
                    // A node that ignores `payload_cap` (older) cuts at its own cap.
                    <p class="hint">{ texts::truncated(lang, PAYLOAD_CAP.max(f.payload.len())) }</p>
                }
            </section>
        }
    };
    html! {
        <div class="inspector" data-testid="live-msg" data-rid={rid.to_string()}>
            <p class="hint">{ "rid " }{ rid }</p>
            { side(m.request_of(rid), t.request) }
            { side(m.answer_of(rid), t.answer) }
            if m.request_of(rid).is_none() && m.answer_of(rid).is_none() {
                <p>{ tr.nothing_selected }</p>
            }
        </div>
    }
}
