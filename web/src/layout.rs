//! Geometry of the ring and the scene to draw at one instant: pure functions of the simulator
//! state and the playhead, tested on the host.

use crate::model::World;
use nacos_raft_core::sim::{Fate, MsgId};
use nacos_raft_core::MsgKind;
use nacos_raft_core::PeerState;

/// Side of the square SVG viewBox.
pub const VIEW: f64 = 1000.0;
/// Centre of the ring.
pub const CENTER: (f64, f64) = (500.0, 500.0);
/// Radius of the ring.
pub const RING: f64 = 360.0;

/// Sine and cosine by their series (exact to ~1e-9 after reducing the angle to [-π, π]); the
/// page avoids libm's, which bring large tables into the wasm.
pub fn sin_cos(a: f64) -> (f64, f64) {
    use std::f64::consts::TAU;
    // Whole turns off by `round_ties_even` (one wasm instruction), not `%`: float `%` is libm's
    // `fmod`, which brings 128-bit division into the page (0.8 KB gzipped). Within a turn or two,
    // where the page's angles are, the result is what `%` and a ±TAU step gave.
    let x = a - (a / TAU).round_ties_even() * TAU;
    let (mut s, mut c) = (0.0, 0.0);
    let mut term = 1.0; // x^k / k!
    for k in 0..24 {
        match k % 4 {
            0 => c += term,
            1 => s += term,
            2 => c -= term,
            _ => s -= term,
        }
        term *= x / (k + 1) as f64;
    }
    (s, c)
}

/// Where node `i` of `n` sits (the first at the top, clockwise).
pub fn node_pos(i: usize, n: usize) -> (f64, f64) {
    let a = -std::f64::consts::FRAC_PI_2 + (i as f64) * std::f64::consts::TAU / (n.max(1) as f64);
    let (s, c) = sin_cos(a);
    (CENTER.0 + RING * c, CENTER.1 + RING * s)
}

/// The radius of a node's circle for a cluster of `n`.
pub fn node_radius(n: usize) -> f64 {
    let chord = 2.0 * RING * sin_cos(std::f64::consts::PI / n.max(2) as f64).0;
    // Up to ~24 nodes the circles keep the 30-unit minimum that their inner texts need; above,
    // they shrink with the chord so that 64 still fit on the ring without overlapping.
    let min = if n <= 24 { 30.0 } else { 12.0 };
    (chord * 0.36).clamp(min, 90.0)
}

/// Where along the link `from → to` a message at progress `p` (0 = sender, 1 = receiver) is,
/// shifted to the right of its direction so that the two directions use separate lanes.
pub fn along(from: (f64, f64), to: (f64, f64), p: f64, r: f64) -> (f64, f64) {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let len = (dx * dx + dy * dy).sqrt().max(1e-6);
    let (ux, uy) = (dx / len, dy / len);
    // Start and end at the circles' edges.
    let start = (from.0 + ux * r, from.1 + uy * r);
    let span = (len - 2.0 * r).max(0.0);
    let lane = (r * 0.22).clamp(6.0, 12.0);
    let (nx, ny) = (-uy, ux);
    let p = p.clamp(0.0, 1.0);
    (
        start.0 + ux * span * p + nx * lane,
        start.1 + uy * span * p + ny * lane,
    )
}

/// A decimal number (`[+-]digits[.digits][e[+-]digits]`, as `str::parse::<f64>` reads finite
/// ones), read without the standard float parser, which would add its code and tables to the
/// wasm. Exact up to 15 significant digits; the page reads speeds, loss percentages and
/// weights with it.
pub fn decimal(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    let neg = match b.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let (mut mant, mut exp, mut digits) = (0u64, 0i32, 0);
    let mut frac = false;
    while i < b.len() {
        match b[i] {
            c @ b'0'..=b'9' => {
                digits += 1;
                if mant < 100_000_000_000_000_000 {
                    mant = mant * 10 + u64::from(c - b'0');
                    exp -= i32::from(frac);
                } else {
                    exp += i32::from(!frac);
                }
            }
            b'.' if !frac => frac = true,
            _ => break,
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if i < b.len() {
        if !matches!(b[i], b'e' | b'E') {
            return None;
        }
        let e = &s[i + 1..];
        let e = e.strip_prefix('+').unwrap_or(e);
        exp = exp.saturating_add(e.parse::<i32>().ok()?);
    }
    let m = mant as f64;
    let v = if exp >= 0 {
        m * 10f64.powi(exp)
    } else {
        m / 10f64.powi(-exp)
    };
    Some(if neg { -v } else { v })
}

/// `v` rounded to a whole number (half away from zero), written without float formatting.
pub fn d0(v: f64) -> String {
    let t = if v.is_finite() { v.round() as i64 } else { 0 };
    t.to_string()
}

/// `v` with one decimal, written without float formatting (which would add its tables to the
/// wasm).
pub fn d1(v: f64) -> String {
    fixed(v, 10)
}

/// `v` with three decimals.
pub fn d3(v: f64) -> String {
    fixed(v, 1000)
}

fn fixed(v: f64, scale: i64) -> String {
    let t = if v.is_finite() {
        (v * scale as f64).round() as i64
    } else {
        0
    };
    let sign = if t < 0 { "-" } else { "" };
    let t = t.abs();
    let width = scale.ilog10() as usize;
    format!("{sign}{}.{:0width$}", t / scale, t % scale)
}

/// A `class` attribute: the non-empty words joined by spaces (use [`when`] for optional ones).
/// One plain function instead of Yew's `classes!`, which builds its set inline at each of ~30
/// uses (issue 14: page size). Yew still splits the text into its class set, same DOM.
pub fn class_list(words: &[&str]) -> String {
    let mut out = String::new();
    for w in words.iter().filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// `word` if `on`, else nothing (for [`class_list`]).
pub fn when(on: bool, word: &'static str) -> &'static str {
    if on {
        word
    } else {
        ""
    }
}

/// SVG `points` from x, y pairs.
pub fn points(xy: &[f64]) -> String {
    xy.chunks(2)
        .map(|p| format!("{},{}", d1(p[0]), d1(p.get(1).copied().unwrap_or(0.0))))
        .collect::<Vec<_>>()
        .join(" ")
}

/// An SVG arc path of a fraction `f` (0 to 1) of a circle, clockwise from the top.
pub fn arc_path(cx: f64, cy: f64, r: f64, f: f64) -> String {
    let f = f.clamp(0.0, 1.0);
    if f >= 0.9999 {
        let (x, r_) = (d1(cx), d1(r));
        let (top, bottom) = (d1(cy - r), d1(cy + r));
        return format!("M {x} {top} A {r_} {r_} 0 1 1 {x} {bottom} A {r_} {r_} 0 1 1 {x} {top}");
    }
    let a = -std::f64::consts::FRAC_PI_2 + f * std::f64::consts::TAU;
    let (sin, cos) = sin_cos(a);
    let (x, y) = (cx + r * cos, cy + r * sin);
    let large = if f > 0.5 { 1 } else { 0 };
    format!(
        "M {} {} A {r_} {r_} 0 {large} 1 {} {}",
        d1(cx),
        d1(cy - r),
        d1(x),
        d1(y),
        r_ = d1(r)
    )
}

/// One node as drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeView {
    /// Index.
    pub index: usize,
    /// Address.
    pub addr: String,
    /// State, `None` when down.
    pub state: Option<PeerState>,
    /// Term.
    pub term: u64,
    /// Whom it voted for (index, or the raw address if not a member).
    pub vote_for: Option<usize>,
    /// The leader it believes in.
    pub leader: Option<usize>,
    /// Fraction of the full leader due left (0 to 1).
    pub leader_due: f64,
    /// leaderDueMs.
    pub leader_due_ms: i64,
    /// Fraction of the heartbeat interval left (leaders).
    pub beat_due: f64,
    /// heartbeatDueMs.
    pub beat_due_ms: i64,
    /// Datums held.
    pub datums: usize,
    /// Centre.
    pub pos: (f64, f64),
    /// For candidates: which members its own peer map records as voting for it (what
    /// `decideLeader` counts), by member index.
    pub votes_for_me: Vec<bool>,
    /// The majority it needs.
    pub majority: usize,
}

/// One message as drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct MsgView {
    /// Id (index in the trace).
    pub id: MsgId,
    /// Kind.
    pub kind: MsgKind,
    /// Sender.
    pub from: usize,
    /// Receiver.
    pub to: usize,
    /// Where it is.
    pub pos: (f64, f64),
    /// Progress from sender (0) to receiver (1).
    pub progress: f64,
    /// For vote answers.
    pub granted: Option<bool>,
    /// HTTP status of answers (0 for requests).
    pub status: u16,
    /// `Some` once it has failed (shown as a burst where it died): the fate and how far into
    /// the fading it is (0 to 1).
    pub failed: Option<(Fate, f64)>,
}

/// Everything the ring shows at one instant.
#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    /// Nodes.
    pub nodes: Vec<NodeView>,
    /// Messages in flight, and recently failed ones.
    pub messages: Vec<MsgView>,
    /// Node radius.
    pub radius: f64,
}

/// The scene at the playhead. `linger_ms` is how long (virtual ms) a failed message stays
/// visible where it died.
pub fn scene(w: &World, linger_ms: f64) -> Scene {
    let s = w.sim();
    let n = s.len();
    let t = w.display_ms();
    let now = s.now();
    let radius = node_radius(n);
    let cfg = &s.config().timings;
    let due_full = (cfg.leader_timeout_ms + cfg.random_ms) as f64;
    let nodes: Vec<NodeView> = (0..n)
        .map(|i| {
            let pos = node_pos(i, n);
            match s.node(i) {
                Some(node) => {
                    let l = node.local();
                    NodeView {
                        index: i,
                        addr: s.addr(i).to_string(),
                        state: Some(l.state),
                        term: l.term,
                        vote_for: l.vote().and_then(|v| s.index_of(v)),
                        leader: node.leader().and_then(|a| s.index_of(a)),
                        leader_due: (l.leader_due_ms as f64 / due_full).clamp(0.0, 1.0),
                        leader_due_ms: l.leader_due_ms,
                        beat_due: (l.heartbeat_due_ms as f64 / cfg.heartbeat_ms as f64)
                            .clamp(0.0, 1.0),
                        beat_due_ms: l.heartbeat_due_ms,
                        datums: node.datum_count(),
                        pos,
                        votes_for_me: if l.state == PeerState::Candidate {
                            let voters: Vec<&str> = node.voters_for(s.addr(i)).collect();
                            (0..n).map(|j| voters.contains(&s.addr(j))).collect()
                        } else {
                            Vec::new()
                        },
                        majority: node.majority(),
                    }
                }
                None => NodeView {
                    index: i,
                    addr: s.addr(i).to_string(),
                    state: None,
                    term: s.sim_node(i).disk.term,
                    vote_for: None,
                    leader: None,
                    leader_due: 0.0,
                    leader_due_ms: 0,
                    beat_due: 0.0,
                    beat_due_ms: 0,
                    datums: s.sim_node(i).disk.datums.len(),
                    pos,
                    votes_for_me: Vec::new(),
                    majority: 0,
                },
            }
        })
        .collect();
    let msgs = s.messages();
    // Messages that can still be drawn were sent after this horizon.
    let horizon = now
        .saturating_sub(linger_ms.ceil() as u64 + w.max_latency() + s.config().read_timeout_ms + 1);
    let start = msgs.partition_point(|m| m.sent_ms < horizon);
    let mut messages = Vec::new();
    for m in &msgs[start..] {
        if m.sent_ms > now {
            break;
        }
        let failed = m.fate.is_failure();
        let end = m.arrive_ms as f64;
        let (from, to) = (nodes[m.from].pos, nodes[m.to].pos);
        // How far along the path it is at time `x` (a dropped message keeps the pace it had).
        let progress_at = |x: f64| -> f64 {
            let planned = match m.fate {
                Fate::Dropped => w.planned_arrival(m.id).unwrap_or(m.arrive_ms),
                _ => m.arrive_ms,
            };
            let full = (planned.saturating_sub(m.sent_ms)).max(1) as f64;
            let frac = ((x - m.sent_ms as f64) / full).clamp(0.0, 1.0);
            match m.fate {
                Fate::Lost | Fate::Cut => frac * m.fate.failure_point(),
                _ => frac,
            }
        };
        let failed_view = if t < end {
            None
        } else if failed && t < end + linger_ms {
            Some((m.fate, ((t - end) / linger_ms.max(1e-9)).clamp(0.0, 1.0)))
        } else {
            continue;
        };
        let p = progress_at(t.min(end));
        messages.push(MsgView {
            id: m.id,
            kind: m.kind,
            from: m.from,
            to: m.to,
            pos: along(from, to, p, radius),
            progress: p,
            granted: m.granted,
            status: m.status,
            failed: failed_view,
        });
    }
    Scene {
        nodes,
        messages,
        radius,
    }
}

/// One message in the space-time diagram.
#[derive(Clone, Debug, PartialEq)]
pub struct Lane {
    /// Message id.
    pub id: MsgId,
    /// Kind.
    pub kind: MsgKind,
    /// Sender and receiver.
    pub from: usize,
    /// Receiver.
    pub to: usize,
    /// Row of its sending.
    pub sent_row: usize,
    /// Row of its arrival (or of now, while it flies).
    pub end_row: usize,
    /// Still flying at the playhead.
    pub flying: bool,
    /// How it failed, once that is visible.
    pub failed: Option<Fate>,
    /// For vote answers.
    pub granted: Option<bool>,
}

/// The space-time diagram of the latest `max` messages sent up to the playhead: rows are the
/// distinct moments at which one of them was sent or arrived (logical time, so that millisecond
/// exchanges and five-second gaps both read well).
pub fn lanes(s: &nacos_raft_core::sim::Sim, max: usize) -> (Vec<u64>, Vec<Lane>) {
    let now = s.now();
    let msgs = s.messages();
    let end = msgs.partition_point(|m| m.sent_ms <= now);
    let first = end.saturating_sub(max);
    let chosen = &msgs[first..end];
    let mut times: Vec<u64> = Vec::with_capacity(chosen.len() * 2);
    for m in chosen {
        times.push(m.sent_ms);
        times.push(m.arrive_ms.min(now));
    }
    nacos_raft_core::sort::sort(&mut times);
    times.dedup();
    let row = |t: u64| times.partition_point(|x| *x < t);
    let lanes = chosen
        .iter()
        .map(|m| {
            let flying = m.arrive_ms > now;
            Lane {
                id: m.id,
                kind: m.kind,
                from: m.from,
                to: m.to,
                sent_row: row(m.sent_ms),
                end_row: row(m.arrive_ms.min(now)),
                flying,
                failed: (!flying && m.fate.is_failure()).then_some(m.fate),
                granted: m.granted,
            }
        })
        .collect();
    (times, lanes)
}

/// Whether segments `a–b` and `c–d` cross.
pub fn segments_cross(a: (f64, f64), b: (f64, f64), c: (f64, f64), d: (f64, f64)) -> bool {
    let orient = |p: (f64, f64), q: (f64, f64), r: (f64, f64)| {
        (q.0 - p.0) * (r.1 - p.1) - (q.1 - p.1) * (r.0 - p.0)
    };
    let (d1, d2) = (orient(c, d, a), orient(c, d, b));
    let (d3, d4) = (orient(a, b, c), orient(a, b, d));
    (d1 > 0.0) != (d2 > 0.0) && (d3 > 0.0) != (d4 > 0.0) && d1 != 0.0 && d2 != 0.0
}

/// The links (lower index first) that a line drawn from `from` to `to` across the ring cuts.
pub fn links_crossed(n: usize, from: (f64, f64), to: (f64, f64)) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for a in 0..n {
        for b in a + 1..n {
            if segments_cross(node_pos(a, n), node_pos(b, n), from, to) {
                out.push((a, b));
            }
        }
    }
    out
}

/// The link (lower index first) nearest to `pt` among those passing within `within` of it: how
/// a click picks a link in a big cluster, where the open links are drawn as one path.
pub fn nearest_link(n: usize, pt: (f64, f64), within: f64) -> Option<(usize, usize)> {
    let dist = |a: (f64, f64), b: (f64, f64)| {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len2 = (dx * dx + dy * dy).max(1e-9);
        let t = (((pt.0 - a.0) * dx + (pt.1 - a.1) * dy) / len2).clamp(0.0, 1.0);
        let (x, y) = (a.0 + t * dx - pt.0, a.1 + t * dy - pt.1);
        (x * x + y * y).sqrt()
    };
    let mut best: Option<(f64, (usize, usize))> = None;
    for a in 0..n {
        for b in a + 1..n {
            let d = dist(node_pos(a, n), node_pos(b, n));
            if d <= within && best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, (a, b)));
            }
        }
    }
    best.map(|(_, l)| l)
}

/// Picks a "nice" timeline span at least `t` ms long (so that marks do not move every frame).
pub fn timeline_span(t: u64) -> u64 {
    let mut span = 30_000u64;
    while span < t {
        span = span * 3 / 2;
        span = span.div_ceil(10_000) * 10_000;
    }
    span
}

/// `mm:ss.s` for a virtual time.
pub fn clock_text(ms: u64) -> String {
    let total_s = ms / 1000;
    let (h, m, s) = (total_s / 3600, (total_s / 60) % 60, total_s % 60);
    let tenth = (ms % 1000) / 100;
    if h > 0 {
        format!("{h}:{m:02}:{s:02}.{tenth}")
    } else {
        format!("{m:02}:{s:02}.{tenth}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_list_joins_the_words_present() {
        assert_eq!(
            class_list(&["node", "leader", when(true, "selected"), when(false, "hot")]),
            "node leader selected"
        );
        assert_eq!(class_list(&[when(false, "on"), "tab", ""]), "tab");
        assert_eq!(class_list(&[when(false, "on")]), "");
    }

    #[test]
    fn decimal_reads_what_str_parse_reads() {
        for t in [
            "0",
            "1",
            "-1",
            "+2.5",
            "0.1",
            ".5",
            "5.",
            "10",
            "1000",
            "0.0001",
            "12.345",
            "1e3",
            "1E-2",
            "2.5e+1",
            "-0.75",
            "99.999",
            "100",
            "123456789012345678901234",
            "0.000000001",
        ] {
            let want: f64 = t.parse().unwrap();
            let got = decimal(t).unwrap_or_else(|| panic!("{t}"));
            assert!(
                (got - want).abs() <= want.abs() * 1e-15,
                "{t}: {got} vs {want}"
            );
        }
        for t in [
            "", "-", ".", "e1", "1e", "1.2.3", "abc", "1x", "inf", "NaN", " 1",
        ] {
            assert_eq!(decimal(t), None, "{t}");
            assert!(t.parse::<f64>().map_or(true, |v| !v.is_finite()), "{t}");
        }
        assert_eq!(d0(2.5), "3");
        assert_eq!(d0(-0.4), "0");
        assert_eq!(d0(f64::NAN), "0");
    }
    use crate::urlstate::RunSpec;
    use nacos_raft_core::sim::Action;

    #[test]
    fn ring_geometry() {
        let (x, y) = node_pos(0, 4);
        assert!((x - 500.0).abs() < 1e-9 && (y - 140.0).abs() < 1e-9);
        let (x, y) = node_pos(1, 4);
        assert!((x - 860.0).abs() < 1e-9 && (y - 500.0).abs() < 1e-9);
        assert!(node_radius(3) > node_radius(15));
        assert!(node_radius(15) >= 30.0);
        // Nodes do not overlap at 15.
        let (a, b) = (node_pos(0, 15), node_pos(1, 15));
        let d = ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
        assert!(d > 2.0 * node_radius(15) + 10.0);
        // Nor at 51 and 64, where the circles shrink below the small clusters' minimum.
        for n in [25, 51, 64] {
            let (a, b) = (node_pos(0, n), node_pos(1, n));
            let d = ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
            assert!(d > 2.0 * node_radius(n) + 8.0, "{n} nodes");
            assert!(node_radius(n) >= 12.0, "{n} nodes");
        }
    }

    #[test]
    fn a_click_picks_the_nearest_link() {
        // 4 nodes: top, right, bottom, left. The middle of the top-right link, slightly off it.
        let (a, b) = (node_pos(0, 4), node_pos(1, 4));
        let mid = ((a.0 + b.0) / 2.0 + 3.0, (a.1 + b.1) / 2.0);
        assert_eq!(nearest_link(4, mid, 8.0), Some((0, 1)));
        // The centre is on both diagonals: the first of the two equally near.
        assert_eq!(nearest_link(4, CENTER, 8.0), Some((0, 2)));
        // Far from every link.
        assert_eq!(nearest_link(4, (0.0, 0.0), 8.0), None);
        // 51 nodes: a point near the chord between nodes 10 and 30 picks it.
        let (p, q) = (node_pos(10, 51), node_pos(30, 51));
        let near = (p.0 + (q.0 - p.0) * 0.31, p.1 + (q.1 - p.1) * 0.31);
        let got = nearest_link(51, near, 4.0).unwrap();
        assert_eq!(got, (10, 30));
    }

    #[test]
    fn lanes_separate_directions() {
        let (a, b) = ((100.0, 500.0), (900.0, 500.0));
        let there = along(a, b, 0.5, 40.0);
        let back = along(b, a, 0.5, 40.0);
        assert!((there.0 - back.0).abs() < 1e-9);
        assert!((there.1 - back.1).abs() > 10.0);
        assert_eq!(along(a, b, 0.0, 40.0).0, 140.0);
    }

    #[test]
    fn series_sine_and_cosine_match_libm() {
        for k in -400..400 {
            let a = k as f64 * 0.037;
            let (s, c) = sin_cos(a);
            assert!(
                (s - a.sin()).abs() < 1e-9 && (c - a.cos()).abs() < 1e-9,
                "{a}"
            );
        }
        // Many turns away, and the reduction's large-angle step.
        for a in [1_000.25, -1_000.25, 123_456.7, -9.87e7] {
            let (s, c) = sin_cos(a);
            assert!(
                (s - a.sin()).abs() < 1e-6 && (c - a.cos()).abs() < 1e-6,
                "{a}"
            );
        }
        // No input hangs or panics.
        for a in [
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MAX,
            1e300,
            -3.3e291,
        ] {
            let _ = sin_cos(a);
        }
    }

    #[test]
    fn fixed_point_text() {
        assert_eq!(d1(1.25), "1.3");
        assert_eq!(d1(-0.04), "0.0");
        assert_eq!(d1(-3.46), "-3.5");
        assert_eq!(d3(12.0), "12.000");
        assert_eq!(d3(0.0417), "0.042");
        assert_eq!(points(&[1.0, 2.0, -3.0, 4.55]), "1.0,2.0 -3.0,4.6");
    }

    #[test]
    fn arcs() {
        assert!(arc_path(0.0, 0.0, 10.0, 0.25).contains(" 0 0 1 10.0 0.0"));
        assert!(arc_path(0.0, 0.0, 10.0, 0.75).contains(" 0 1 1 "));
        assert_eq!(arc_path(0.0, 0.0, 10.0, 1.0).matches('A').count(), 2);
    }

    #[test]
    fn the_scene_shows_messages_between_send_and_arrival() {
        let mut w = World::new(RunSpec::new(8).sim_config(), vec![]).unwrap();
        while w.sim().in_flight_at(w.now()).next().is_none() {
            w.step();
        }
        let sc = scene(&w, 500.0);
        assert_eq!(sc.nodes.len(), 5);
        let flying: Vec<_> = w.sim().in_flight_at(w.now()).map(|m| m.id).collect();
        let shown: Vec<_> = sc
            .messages
            .iter()
            .filter(|m| m.failed.is_none())
            .map(|m| m.id)
            .collect();
        for id in &flying {
            assert!(shown.contains(id), "message {id} in flight but not drawn");
        }
        assert!(sc
            .messages
            .iter()
            .all(|m| (0.0..=1.0).contains(&m.progress)));
    }

    #[test]
    fn a_dropped_message_bursts_where_it_was() {
        let mut w = World::new(RunSpec::new(8).sim_config(), vec![]).unwrap();
        while w.sim().in_flight_at(w.now()).next().is_none() {
            w.step();
        }
        let m = w.sim().in_flight_at(w.now()).next().unwrap().clone();
        w.act(Action::Drop { msg: m.id }).unwrap();
        let sc = scene(&w, 500.0);
        let v = sc
            .messages
            .iter()
            .find(|v| v.id == m.id)
            .expect("still drawn");
        assert_eq!(v.failed.map(|f| f.0), Some(Fate::Dropped));
        w.seek(w.now() + 600);
        let sc = scene(&w, 500.0);
        assert!(sc.messages.iter().all(|v| v.id != m.id));
    }

    #[test]
    fn a_down_node_shows_its_disk() {
        let mut w = World::new(RunSpec::new(8).sim_config(), vec![]).unwrap();
        w.seek(1_000);
        w.act(Action::Crash { node: 2 }).unwrap();
        let sc = scene(&w, 500.0);
        assert_eq!(sc.nodes[2].state, None);
        assert_eq!(sc.nodes[1].state, Some(PeerState::Follower));
    }

    #[test]
    fn lanes_rank_moments() {
        let mut w = World::new(RunSpec::new(8).sim_config(), vec![]).unwrap();
        w.seek(40_000);
        let (times, lanes) = lanes(w.sim(), 30);
        assert_eq!(lanes.len(), 30.min(w.sim().messages().len()));
        assert!(times.windows(2).all(|p| p[0] < p[1]));
        for l in &lanes {
            assert!(l.sent_row <= l.end_row && l.end_row < times.len());
            assert_ne!(l.from, l.to);
        }
    }

    #[test]
    fn a_line_across_the_ring_cuts_the_links_it_crosses() {
        // A vertical line through the centre of a 4-node ring (A top, B right, C bottom, D left)
        // crosses A–B? No: it runs between A and C... take a line left of centre, top to bottom.
        let cut = links_crossed(4, (400.0, 0.0), (400.0, 1000.0));
        // D (left) is cut off from A, B and C.
        assert_eq!(cut, vec![(0, 3), (1, 3), (2, 3)]);
        assert!(links_crossed(4, (0.0, 0.0), (10.0, 10.0)).is_empty());
        assert!(segments_cross(
            (0.0, 0.0),
            (2.0, 2.0),
            (0.0, 2.0),
            (2.0, 0.0)
        ));
        assert!(!segments_cross(
            (0.0, 0.0),
            (1.0, 1.0),
            (2.0, 0.0),
            (3.0, 1.0)
        ));
    }

    #[test]
    fn spans_and_clock() {
        assert_eq!(timeline_span(0), 30_000);
        assert!(timeline_span(31_000) >= 31_000);
        assert_eq!(
            timeline_span(timeline_span(100_000)),
            timeline_span(100_000)
        );
        assert_eq!(clock_text(61_250), "01:01.2");
        assert_eq!(clock_text(3_600_000), "1:00:00.0");
    }
}
