//! The SVG ring: nodes, links and messages at one instant. One click handler on the `<svg>`
//! finds what was clicked from `data-*` attributes (no closure per element and frame).

use super::memo::{Memo, MemoView};
use super::{state_attr, Msg, Selection};
use crate::describe::{self, letter};
use crate::i18n::{Lang, Texts};
use crate::layout::{along, arc_path, d1, nearest_link, points, Scene, CENTER};

/// Above this many nodes the ring is drawn sparer: open links as one path, no texts under the
/// letter and no labels outside (the tooltip, the inspector and the Data view keep them).
const DENSE: usize = 15;
use crate::layout::{class_list, when};
use nacos_raft_core::sim::{Fate, Sim};
use nacos_raft_core::MsgKind;
use nacos_raft_core::PeerState;
use yew::prelude::*;

/// What the ring needs.
pub struct RingProps<'a> {
    pub scene: &'a Scene,
    pub sim: &'a Sim,
    pub lang: Lang,
    pub sel: Selection,
    pub hot: &'a [usize],
    pub reduced_motion: bool,
    pub on: &'a Callback<Msg>,
    /// A cut line being drawn (SVG coordinates).
    pub cut_line: Option<((f64, f64), (f64, f64))>,
}

/// Where a pointer event is, in the ring's SVG coordinates (viewBox 0 0 1000 1000, centred).
fn svg_point(e: &MouseEvent) -> Option<(f64, f64)> {
    // Not `current_target`: Yew listens on its root element and delegates.
    let el = super::dom::closest(e.as_ref(), "svg.ring")?;
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

/// What a click in an SVG of the page hit, from its `data-hit` attributes.
pub fn click_target(e: &MouseEvent) -> Selection {
    let ev: &web_sys::Event = e.as_ref();
    let Some(el) = super::dom::closest(ev, "[data-hit]") else {
        return Selection::None;
    };
    let num = |name: &str| el.get_attribute(name).and_then(|v| v.parse::<u64>().ok());
    match el.get_attribute("data-hit").as_deref() {
        Some("node") => num("data-index")
            .map(|i| Selection::Node(i as usize))
            .unwrap_or(Selection::None),
        Some("msg") => num("data-msg-id")
            .map(Selection::Msg)
            .unwrap_or(Selection::None),
        Some("link") => match (num("data-a"), num("data-b")) {
            (Some(a), Some(b)) => Selection::Link(a as usize, b as usize),
            _ => Selection::None,
        },
        _ => Selection::None,
    }
}

/// The CSS class of a message kind's colour.
pub fn kind_class(k: MsgKind) -> &'static str {
    use MsgKind::*;
    match k {
        Vote | VoteReply => "k-vote",
        Beat | BeatReply => "k-beat",
        Peer | PeerReply => "k-peer",
        DatumGet | DatumReply => "k-datum",
        Commit | CommitReply => "k-commit",
        Forward | ForwardReply => "k-forward",
        DeleteCommit | DeleteCommitReply => "k-delete",
    }
}

/// The shape of a message kind, centred at 0,0, of size `s` (used by the ring and the legend).
pub fn msg_shape(k: MsgKind, s: f64, granted: Option<bool>, status: u16) -> Html {
    use MsgKind::*;
    let reply = k.is_reply();
    let error = reply && status != 200 && status != 0;
    let class = class_list(&[
        "shape",
        kind_class(k),
        if reply { "reply" } else { "req" },
        when(error, "error"),
        when(granted == Some(false), "refused"),
        when(granted == Some(true), "granted"),
    ]);
    let body = match k {
        Vote | VoteReply => html! { <circle class={class} r={fmt(s)} /> },
        Beat | BeatReply => html! {
            <rect class={class} x={fmt(-s * 0.85)} y={fmt(-s * 0.85)} width={fmt(s * 1.7)} height={fmt(s * 1.7)}
                transform="rotate(45)" />
        },
        Peer | PeerReply => html! {
            <rect class={class} x={fmt(-s * 0.9)} y={fmt(-s * 0.9)} width={fmt(s * 1.8)} height={fmt(s * 1.8)} rx={fmt(s * 0.2)} />
        },
        DatumGet | DatumReply => html! {
            <polygon class={class} points={points(&[0.0, -s * 1.15, s * 1.05, s * 0.75, -s * 1.05, s * 0.75])} />
        },
        Commit | CommitReply => html! {
            <rect class={class} x={fmt(-s * 1.2)} y={fmt(-s * 0.75)} width={fmt(s * 2.4)} height={fmt(s * 1.5)} rx={fmt(s * 0.5)} />
        },
        Forward | ForwardReply => html! {
            <polygon class={class} points={points(&[s * 1.1, 0.0, s * 0.1, -s, -s * 0.9, -s, -s * 0.9, s, s * 0.1, s])} />
        },
        DeleteCommit | DeleteCommitReply => html! {
            <rect class={class} x={fmt(-s * 0.9)} y={fmt(-s * 0.9)} width={fmt(s * 1.8)} height={fmt(s * 1.8)} />
        },
    };
    let mark = match (k, granted) {
        (VoteReply, Some(true)) => "✓",
        (VoteReply, Some(false)) => "✗",
        (Commit, _) => "C",
        (DeleteCommit, _) => "✕",
        _ if error => "!",
        _ => "",
    };
    html! {
        <>
            { body }
            if !mark.is_empty() {
                <text class="mark" y={fmt(s * 0.38)} font-size={fmt(s * 1.1)}>{ mark }</text>
            }
        </>
    }
}

fn fmt(v: f64) -> String {
    d1(v)
}

fn translate(x: f64, y: f64) -> String {
    format!("translate({},{})", d1(x), d1(y))
}

fn cross(a: f64, b: f64) -> String {
    let (a, b) = (d1(a), d1(b));
    format!("M {a} {a} L {b} {b} M {a} {b} L {b} {a}")
}

/// The ring.
pub fn view(p: &RingProps<'_>) -> Html {
    let on = p.on.clone();
    let n = p.scene.nodes.len();
    let dense = n > DENSE;
    let onclick = Callback::from(move |e: MouseEvent| {
        let mut hit = click_target(&e);
        if dense && hit == Selection::None {
            // The open links of a big cluster are one path: pick the link by geometry.
            if let Some((a, b)) = svg_point(&e).and_then(|pt| nearest_link(n, pt, 8.0)) {
                hit = Selection::Link(a, b);
            }
        }
        on.emit(Msg::Select(hit))
    });
    // Drawing a line across the ring (mouse or pen, from an empty spot) cuts the links it crosses.
    let onpointerdown = {
        let on = p.on.clone();
        Callback::from(move |e: PointerEvent| {
            if e.pointer_type() == "touch" || e.button() != 0 {
                return;
            }
            let ev: &web_sys::Event = e.as_ref();
            if super::dom::closest(ev, "[data-hit]").is_some() {
                return;
            }
            if let Some(pt) = svg_point(&e) {
                if let Some(el) = super::dom::closest(ev, "svg.ring") {
                    let _ = el.set_pointer_capture(e.pointer_id());
                }
                on.emit(Msg::CutStart(pt));
            }
        })
    };
    let drawing = p.cut_line.is_some();
    // Enter or space on a focused node selects it (nodes are in the tab order).
    let onkeydown = {
        let on = p.on.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() != "Enter" {
                return;
            }
            let ev: &web_sys::Event = e.as_ref();
            if let Some(el) = super::dom::closest(ev, "[data-hit=node]") {
                if let Some(i) = el.get_attribute("data-index").and_then(|v| v.parse().ok()) {
                    e.prevent_default();
                    on.emit(Msg::Select(Selection::Node(i)));
                }
            }
        })
    };
    let onpointermove = {
        let on = p.on.clone();
        Callback::from(move |e: PointerEvent| {
            if drawing {
                if let Some(pt) = svg_point(&e) {
                    on.emit(Msg::CutMove(pt));
                }
            }
        })
    };
    let onpointerup = {
        let on = p.on.clone();
        Callback::from(move |_: PointerEvent| {
            if drawing {
                on.emit(Msg::CutEnd);
            }
        })
    };
    let sc = p.scene;
    let r = sc.radius;
    let tr = p.lang.tr();
    let net = p.sim.net();

    let cuts: Vec<bool> = (0..n * n).map(|k| net.is_cut(k / n, k % n)).collect();
    let sel_link = match p.sel {
        Selection::Link(a, b) => Some((a, b)),
        _ => None,
    };
    let positions: Vec<(f64, f64)> = sc.nodes.iter().map(|nv| nv.pos).collect();
    let links = html! {
        <Memo view={MemoView::Links(LinksProps { n, cuts, sel: sel_link, radius: r, positions, dense })} />
    };

    // A partition shows as groups on the ring: a coloured rim per side.
    let groups = crate::teach::groups(p.sim);
    let mut votes = Vec::new();
    for nv in &sc.nodes {
        if let Some(v) = nv.vote_for {
            if v != nv.index && nv.state != Some(PeerState::Leader) && v < n {
                // A vote is a record, not a message: a solid pointer with a tick at its end (the
                // messages are dots), grey when the node voted for is down.
                let to = sc.nodes[v].pos;
                let s = along(nv.pos, to, 0.0, r);
                let e = along(nv.pos, to, 0.28, r);
                let stale = sc.nodes[v].state.is_none();
                votes.push(html! {
                    <g class={class_list(&["vote", when(stale, "stale")])} data-vote-from={nv.index.to_string()} data-vote-to={v.to_string()}>
                        <line class="vote-arrow" x1={fmt(s.0)} y1={fmt(s.1)} x2={fmt(e.0)} y2={fmt(e.1)}
                            marker-end="url(#vote-head)" />
                        <text class="vote-tick" x={fmt(e.0)} y={fmt(e.1 - 14.0)}>{ "✓" }</text>
                    </g>
                });
            }
        }
    }

    let nodes: Html = sc
        .nodes
        .iter()
        .map(|nv| {
            let (x, y) = nv.pos;
            let st = state_attr(nv.state);
            let selected = p.sel == Selection::Node(nv.index);
            let hot = p.hot.contains(&nv.index);
            let vote_addr = nv
                .vote_for
                .map(|v| p.sim.addr(v).to_string())
                .or_else(|| {
                    p.sim
                        .node(nv.index)
                        .and_then(|n| n.local().vote().map(String::from))
                })
                .unwrap_or_default();
            let state_class = match nv.state {
                Some(PeerState::Leader) => "leader",
                Some(PeerState::Follower) => "follower",
                Some(PeerState::Candidate) => "candidate",
                None => "down",
            };
            // Labels outside the ring.
            let (ox, oy) = (x - CENTER.0, y - CENTER.1);
            let olen = (ox * ox + oy * oy).sqrt().max(1e-6);
            // Further out above and below a node (clear of a leader's crown), closer at the sides.
            let off = r + 30.0 + (r * 0.5 - 18.0).max(0.0) * (oy / olen).abs();
            let lx = x + ox / olen * off;
            let ly = y + oy / olen * off - 6.0;
            let anchor = if (lx - CENTER.0).abs() < 30.0 {
                "middle"
            } else if lx > CENTER.0 {
                "start"
            } else {
                "end"
            };
            // The host part is hidden on phones (style.css): the port tells the nodes apart and
            // the full address would run off a narrow screen.
            let port = nv.addr.rsplit_once(':').map(|(_, p)| p).unwrap_or_default();
            let host = nv.addr.strip_suffix(port).and_then(|h| h.strip_suffix(':'));
            let addr_label = match host {
                Some(h) if n <= 7 => html! { <><tspan class="host">{ h }</tspan>{ format!(":{port}") }</> },
                Some(_) => html! { { format!(":{port}") } },
                None => html! { { nv.addr.clone() } },
            };
            let tally = nv.votes_for_me.iter().filter(|v| **v).count();
            let vote_label = match nv.vote_for {
                _ if nv.state == Some(PeerState::Candidate) => {
                    format!("{} {tally}/{}", tr.vote, nv.majority)
                }
                Some(v) => format!("{}→{}", tr.vote, letter(v)),
                None => String::new(),
            };
            // A candidate's tally, as decideLeader counts it: one dot per member, towards it.
            let dots: Html = nv
                .votes_for_me
                .iter()
                .enumerate()
                .map(|(j, got)| {
                    let (tx, ty) = sc.nodes[j].pos;
                    let (dx, dy) = if j == nv.index { (0.0, -1.0) } else { (tx - x, ty - y) };
                    let len = (dx * dx + dy * dy).sqrt().max(1e-6);
                    let rr = r * 0.84;
                    html! {
                        <circle class={class_list(&["tally", when(*got, "got")])}
                            cx={fmt(dx / len * rr)} cy={fmt(dy / len * rr)} r={fmt((r * 0.08).max(3.0))} />
                    }
                })
                .collect();
            let mut title = format!(
                "{} · {} · {} {}",
                nv.addr,
                describe::state_word(p.lang, nv.state),
                tr.term,
                nv.term
            );
            if nv.term > 100 {
                // A term like 101 or 20001 looks like a bug; the hover says why it is not.
                let (q, _) = crate::teach::explain_text(p.lang, crate::teach::Explain::BigTerm);
                title = format!("{title}\n{q} {}", crate::teach::T::term_hint(p.lang));
            }
            let group = groups.iter().position(|g| g.contains(&nv.index));
            let fs = if dense { r * 0.7 } else { r * 0.5 };
            // The rims around a node (due arcs, selection, halo) shrink with small circles so that
            // neighbours' rims do not overlap.
            let k = if dense { (r / 30.0).min(1.0) } else { 1.0 };
            html! {
                <g class={class_list(&["node", state_class, when(selected, "selected"), when(hot, "hot")])}
                    data-node={nv.addr.clone()} data-state={st} data-term={nv.term.to_string()}
                    data-vote-for={vote_addr} data-hit="node" data-index={nv.index.to_string()}
                    tabindex="0" role="button" aria-label={title.clone()}
                    transform={translate(x, y)}>
                    <title>{ title }</title>
                    if hot { <circle class="halo" r={fmt(r + 24.0 * k)} /> }
                    if let (Some(g), true) = (group, groups.len() > 1) {
                        <circle class={format!("group-ring g{}", g % 4)} data-group={g.to_string()} r={fmt(r + 30.0 * k)} />
                    }
                    if selected { <circle class="sel" r={fmt(r + 19.0 * k)} /> }
                    if nv.state.is_some() {
                        <circle class="due-track" r={fmt(r + 8.0 * k)} />
                        <path class={class_list(&["due", when(nv.leader_due < 0.2, "low")])}
                            d={arc_path(0.0, 0.0, r + 8.0 * k, nv.leader_due)} />
                    }
                    if nv.state == Some(PeerState::Leader) {
                        <path class="beat-due" d={arc_path(0.0, 0.0, r + 15.0 * k, nv.beat_due)} />
                        <polygon class="crown" points={points(&[
                            -r * 0.45, -r * 1.02, -r * 0.5, -r * 1.38, -r * 0.22, -r * 1.18, 0.0, -r * 1.45,
                            r * 0.22, -r * 1.18, r * 0.5, -r * 1.38, r * 0.45, -r * 1.02])} />
                    }
                    <circle class="body" r={fmt(r)} />
                    if nv.state == Some(PeerState::Candidate) {
                        <circle class="cand-ring" r={fmt(r - 5.0)} />
                        <g class="tallies" data-votes={tally.to_string()}>{ if dense { Html::default() } else { dots } }</g>
                    }
                    if nv.state.is_none() {
                        <path class="down-x" d={cross(-r * 0.6, r * 0.6)} />
                    }
                    <text class="letter" y={fmt(-r * 0.12)} font-size={fmt(fs)}>{ letter(nv.index) }</text>
                    if !dense {
                        <text class="term" y={fmt(r * 0.3)} font-size={fmt(r * 0.27)}>{ format!("{} {}", tr.term, nv.term) }</text>
                        <text class="state-word" y={fmt(r * 0.64)} font-size={fmt(r * 0.26)}>{ describe::state_word(p.lang, nv.state) }</text>
                        <g class="label" transform={translate(lx - x, ly - y)}>
                            <text text-anchor={anchor} class="addr">{ addr_label }</text>
                            <text text-anchor={anchor} class="sub" y="18">
                                { vote_label }
                                { if nv.datums > 0 { format!("  ▤{}", nv.datums) } else { String::new() } }
                            </text>
                        </g>
                    }
                </g>
            }
        })
        .collect();

    let size = (r * 0.24).clamp(8.0, 14.0);
    let msgs: Html = sc
        .messages
        .iter()
        .map(|m| {
            let (x, y) = m.pos;
            if let Some((fate, f)) = m.failed {
                let k = size * (1.0 + f);
                return html! {
                    <g key={m.id} class="burst" data-msg-failed={m.kind.as_str()} data-fate={fate.as_str()}
                        transform={translate(x, y)} opacity={fmt(1.0 - f)}>
                        <circle r={fmt(k)} />
                        <path d={cross(-k * 0.7, k * 0.7)} />
                    </g>
                };
            }
            let from = sc.nodes[m.from].pos;
            let to = sc.nodes[m.to].pos;
            let tail = along(from, to, (m.progress - 0.06).max(0.0), r);
            let selected = p.sel == Selection::Msg(m.id);
            // Keyed, and drawn around its own origin: from one frame to the next a message
            // changes only its `transform` (its tail too, once longer than the gap it left), so
            // the browser moves what it painted instead of painting it again.
            html! {
                <g key={m.id} class={class_list(&["msg", when(selected, "selected")])} data-msg={m.kind.as_str()}
                    data-msg-id={m.id.to_string()} data-hit="msg" transform={translate(x, y)}>
                    if !p.reduced_motion {
                        <line class={class_list(&["tail", kind_class(m.kind)])} x1={fmt(tail.0 - x)} y1={fmt(tail.1 - y)} x2="0" y2="0" />
                    }
                    <circle class="msg-hit" r={fmt(size * 2.0)} />
                    if selected { <circle class="msg-sel" r={fmt(size * 1.9)} /> }
                    { msg_shape(m.kind, size, m.granted, m.status) }
                </g>
            }
        })
        .collect();

    let flying = sc.messages.iter().filter(|m| m.failed.is_none()).count();
    let failed_now = sc
        .messages
        .iter()
        .filter(|m| matches!(m.failed, Some((f, _)) if f != Fate::Delivered))
        .count();
    html! {
        <svg class={class_list(&["ring", when(dense, "dense")])} viewBox="0 0 1000 1000" role="img"
            aria-label={format!("{} · {}", tr.title, p.sim.len())} {onclick}
            data-flying={flying.to_string()} data-failed={failed_now.to_string()}
            {onpointerdown} {onpointermove} {onpointerup} {onkeydown}>
            <defs>
                <marker id="vote-head" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="5" markerHeight="5" orient="auto-start-reverse">
                    <path d="M 0 0 L 10 5 L 0 10 z" class="vote-head" />
                </marker>
            </defs>
            <circle class="orbit" cx={fmt(CENTER.0)} cy={fmt(CENTER.1)} r={fmt(crate::layout::RING)} />
            { links }
            <g class="votes">{ for votes }</g>
            <g class="nodes">{ nodes }</g>
            <g class="msgs">{ msgs }</g>
            if let Some((a, b)) = p.cut_line {
                <line class="cut-draw" x1={fmt(a.0)} y1={fmt(a.1)} x2={fmt(b.0)} y2={fmt(b.1)} />
            }
        </svg>
    }
}

#[derive(Clone, PartialEq)]
pub struct LinksProps {
    n: usize,
    /// `cuts[from * n + to]`.
    cuts: Vec<bool>,
    sel: Option<(usize, usize)>,
    radius: f64,
    positions: Vec<(f64, f64)>,
    dense: bool,
}

/// The links between nodes, drawn by [`Memo`]: again only when a cut or the selection changes
/// (not every frame).
pub fn links(p: &LinksProps) -> Html {
    let (n, r) = (p.n, p.radius);
    let lane = (r * 0.22).clamp(6.0, 12.0);
    let mut out = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    // In a big cluster the open links (1,275 at 51 nodes) are one path: as elements they made
    // every frame repaint thousands of lines. Cut, one-way and selected links stay elements.
    let mut mesh = String::new();
    for a in 0..n {
        for b in a + 1..n {
            let (pa, pb) = (p.positions[a], p.positions[b]);
            let (ab, ba) = (p.cuts[a * n + b], p.cuts[b * n + a]);
            let selected = p.sel == Some((a, b));
            if p.dense && !ab && !ba && !selected {
                mesh.push_str(&format!(
                    "M{} {}L{} {}",
                    fmt(pa.0),
                    fmt(pa.1),
                    fmt(pb.0),
                    fmt(pb.1)
                ));
                continue;
            }
            let state = match (ab, ba) {
                (false, false) => "open",
                (true, true) => "cut",
                _ => "one-way",
            };
            let lane_line = |from: (f64, f64), to: (f64, f64)| {
                let s = along(from, to, 0.0, r);
                let e = along(from, to, 1.0, r);
                let wall = along(from, to, 0.9, r);
                let (dx, dy) = (e.0 - s.0, e.1 - s.1);
                let len = (dx * dx + dy * dy).sqrt().max(1e-6);
                let (nx, ny) = (-dy / len * lane, dx / len * lane);
                html! {
                    <>
                        <line class="cut-lane" x1={fmt(s.0)} y1={fmt(s.1)} x2={fmt(e.0)} y2={fmt(e.1)} />
                        <line class="cut-wall" x1={fmt(wall.0 - nx)} y1={fmt(wall.1 - ny)} x2={fmt(wall.0 + nx)} y2={fmt(wall.1 + ny)} />
                    </>
                }
            };
            out.push(html! {
                <g class={class_list(&["link", state, when(selected, "selected")])}
                    data-hit="link" data-a={a.to_string()} data-b={b.to_string()} data-link-state={state}>
                    <line class="hit" x1={fmt(pa.0)} y1={fmt(pa.1)} x2={fmt(pb.0)} y2={fmt(pb.1)} />
                    <line class="base" x1={fmt(pa.0)} y1={fmt(pa.1)} x2={fmt(pb.0)} y2={fmt(pb.1)} />
                    if ab { { lane_line(pa, pb) } }
                    if ba { { lane_line(pb, pa) } }
                </g>
            });
        }
    }
    html! {
        <g class="links">
            if !mesh.is_empty() { <path class="mesh" d={mesh} /> }
            { for out }
        </g>
    }
}
