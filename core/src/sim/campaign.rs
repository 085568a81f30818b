//! Fault campaigns: random fault schedules drawn from a seed, run on the simulator, classified by
//! the violations the observers record, and the smallest failing case of each class shrunk to a
//! recipe a person can replay (a page link or a `simulate` command).
//!
//! A [`Case`] is the whole recipe of a run: the simulator's seed, the cluster size, the timed
//! actions and the horizon. [`Case::generate`] draws the actions from the seed alone, so a seed
//! and a cluster size name a case; [`run_seed`] runs it, [`shrink`] reduces a failing one. The
//! runner that spreads seeds over threads and prints the table is `core/examples/campaign.rs`.

use super::{Action, Sim, SimConfig, TimedAction, TraceMode, Violation, ViolationKind};
use crate::rng::Rng;
use crate::{Config, Rules};
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write as _;
use serde::Serialize;

/// Every violation class, in the order the campaign table lists them.
pub const KINDS: [ViolationKind; 6] = [
    ViolationKind::TwoLeadersSameTerm,
    ViolationKind::TwoLeaders,
    ViolationKind::StaleLeader,
    ViolationKind::LostAckedWrite,
    ViolationKind::NotConverged,
    ViolationKind::TermDecreased,
];

/// The position of `kind` in [`KINDS`] (exhaustive: a new kind must be added there).
pub fn kind_index(kind: ViolationKind) -> usize {
    match kind {
        ViolationKind::TwoLeadersSameTerm => 0,
        ViolationKind::TwoLeaders => 1,
        ViolationKind::StaleLeader => 2,
        ViolationKind::LostAckedWrite => 3,
        ViolationKind::NotConverged => 4,
        ViolationKind::TermDecreased => 5,
    }
}

/// Keys the clients of a campaign write and delete: few, so that writes overwrite and deletes
/// hit keys that exist.
pub const CAMPAIGN_KEYS: usize = 6;

/// How long the end of a run stays free of faults (at most): everything is healed and restarted
/// when it starts, so that the convergence observer, which only judges a healthy and quiet
/// cluster, gets to judge every run.
pub const RECOVERY_MS: u64 = 120_000;

/// The recipe of one run: replayed by [`Sim::replay`] with [`Case::config`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Case {
    /// The simulator's seed (also the seed its schedule was drawn from).
    pub seed: u64,
    /// Cluster size.
    pub nodes: usize,
    /// Virtual time the run lasts, ms.
    pub until_ms: u64,
    /// The actions, in time order; every one is accepted when replayed.
    #[serde(serialize_with = "ser_actions")]
    pub actions: Vec<TimedAction>,
    /// The rule set of every node (issue #13); written only when it is not Nacos 1.4.1's, so a
    /// faithful campaign's JSON is unchanged.
    #[serde(skip_serializing_if = "is_nacos", serialize_with = "ser_rules")]
    pub rules: Rules,
}

fn is_nacos(r: &Rules) -> bool {
    r.normalized() == Rules::Nacos141
}

fn ser_rules<S: serde::Serializer>(r: &Rules, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(r)
}

fn ser_actions<S: serde::Serializer>(a: &[TimedAction], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&super::format_actions(a))
}

/// A fault with a beginning and an end, or an instant one, while drawing a schedule.
enum Fault {
    Crash,
    Partition,
    Isolate,
    CutOneWay,
    CutTwoWay,
    Loss,
    LatencySpike,
    Timeout,
}

/// What the generator knows of the cluster while it draws: nodes only go down and up through
/// its own actions, so it never draws an action the simulator would refuse.
struct Draft {
    rng: Rng,
    nodes: usize,
    up: Vec<bool>,
    /// `(time, order, action, token)`: undo actions waiting for their time; `token` ties a loss or
    /// latency undo to the change it undoes (a later change of the same setting wins).
    pending: Vec<(u64, u64, Action, u64)>,
    order: u64,
    loss_token: u64,
    latency_token: u64,
    out: Vec<TimedAction>,
}

impl Draft {
    fn pick(&mut self, n: usize) -> usize {
        self.rng.below(n as u64) as usize
    }

    fn pick_up(&mut self) -> Option<usize> {
        let ups: Vec<usize> = (0..self.nodes).filter(|i| self.up[*i]).collect();
        if ups.is_empty() {
            return None;
        }
        let i = self.pick(ups.len());
        Some(ups[i])
    }

    fn two_nodes(&mut self) -> (usize, usize) {
        let a = self.pick(self.nodes);
        let b = (a + 1 + self.pick(self.nodes - 1)) % self.nodes;
        (a, b)
    }

    fn later(&mut self, at: u64, action: Action, token: u64) {
        self.order += 1;
        self.pending.push((at, self.order, action, token));
    }

    fn emit(&mut self, at_ms: u64, action: Action) {
        match &action {
            Action::Crash { node } => self.up[*node] = false,
            Action::Restart { node } => self.up[*node] = true,
            _ => {}
        }
        self.out.push(TimedAction { at_ms, action });
    }

    /// Emits the undo actions due at or before `t`, in time order.
    fn flush(&mut self, t: u64) {
        self.pending.sort_by_key(|p| (p.0, p.1));
        let due = self.pending.partition_point(|p| p.0 <= t);
        let now: Vec<(u64, u64, Action, u64)> = self.pending.drain(..due).collect();
        for (at, _, action, token) in now {
            match action {
                Action::Restart { node } if self.up[node] => {}
                Action::SetLoss { .. } if token != self.loss_token => {}
                Action::SetLatency { .. } if token != self.latency_token => {}
                a => self.emit(at, a),
            }
        }
    }
}

impl Case {
    /// Draws the fault schedule of `seed` on `nodes` nodes (2 or more) over `until_ms` of virtual
    /// time. Up to 16 faults start at random times before the recovery window — crashes (with a
    /// restart 2 to 150 s later), two-way partitions into random groups, isolated nodes, one-way
    /// and two-way cuts of one link (healed later), loss of 0–30 %, latency spikes of up to
    /// 8 s, forced election timeouts — and up to 30 client writes and deletes at random running
    /// nodes on [`CAMPAIGN_KEYS`] keys. The last [`RECOVERY_MS`] (a fifth of shorter runs) start
    /// with every link healed, loss and latency back to normal and every node restarted.
    pub fn generate(seed: u64, nodes: usize, until_ms: u64) -> Case {
        let base = SimConfig::default().latency_ms;
        // A stream of its own, so that the schedule and the simulator's draws are unrelated.
        let mut rng = Rng::new(seed ^ 0x6361_6d70_6169_676e);
        let recovery_at = until_ms - RECOVERY_MS.min(until_ms / 5);
        let faults = rng.below(17) as usize;
        let ops = rng.below(31) as usize;
        let mut starts: Vec<(u64, Option<Fault>)> = Vec::with_capacity(faults + ops);
        for _ in 0..faults {
            let at = rng.below(recovery_at.max(1));
            let f = match rng.below(15) {
                0..=2 => Fault::Crash,
                3..=4 => Fault::Partition,
                5 => Fault::Isolate,
                6..=7 => Fault::CutOneWay,
                8 => Fault::CutTwoWay,
                9..=10 => Fault::Loss,
                11..=12 => Fault::LatencySpike,
                _ => Fault::Timeout,
            };
            starts.push((at, Some(f)));
        }
        for _ in 0..ops {
            starts.push((rng.below(recovery_at.max(1)), None));
        }
        starts.sort_by_key(|s| s.0);
        let mut d = Draft {
            rng,
            nodes,
            up: vec![true; nodes],
            pending: Vec::new(),
            order: 0,
            loss_token: 0,
            latency_token: 0,
            out: Vec::new(),
        };
        let mut cuts = false;
        let mut value = 0u64;
        for (at, what) in starts {
            d.flush(at);
            let lasts = 2_000 + d.rng.below(148_001);
            let end = at + lasts;
            match what {
                None => {
                    let Some(node) = d.pick_up() else { continue };
                    let key = super::sample_key(d.pick(CAMPAIGN_KEYS));
                    if d.rng.below(4) == 0 {
                        d.emit(at, Action::Remove { node, key });
                    } else {
                        value += 1;
                        let value = format!("{{\"v\":{value}}}");
                        d.emit(at, Action::Put { node, key, value });
                    }
                }
                Some(Fault::Crash) => {
                    let Some(node) = d.pick_up() else { continue };
                    d.emit(at, Action::Crash { node });
                    if end < recovery_at {
                        d.later(end, Action::Restart { node }, 0);
                    }
                }
                Some(Fault::Partition) => {
                    let spread = if nodes >= 5 && d.rng.below(3) == 0 {
                        3
                    } else {
                        2
                    };
                    let mut groups: Vec<u8> =
                        (0..nodes).map(|_| d.rng.below(spread) as u8).collect();
                    if groups.iter().all(|g| *g == groups[0]) {
                        let i = d.pick(nodes);
                        groups[i] = (groups[i] + 1) % spread as u8;
                    }
                    d.emit(at, Action::Partition { groups });
                    cuts = true;
                    d.later(end, Action::HealAll, 0);
                }
                Some(Fault::Isolate) => {
                    let node = d.pick(nodes);
                    d.emit(at, Action::Isolate { node });
                    cuts = true;
                    d.later(end, Action::HealAll, 0);
                }
                Some(Fault::CutOneWay | Fault::CutTwoWay) => {
                    let both = matches!(what, Some(Fault::CutTwoWay));
                    let (from, to) = d.two_nodes();
                    d.emit(at, Action::Cut { from, to, both });
                    cuts = true;
                    d.later(end, Action::Heal { from, to, both }, 0);
                }
                Some(Fault::Loss) => {
                    let ppm = d.rng.below(300_001) as u32;
                    d.loss_token += 1;
                    d.emit(at, Action::SetLoss { ppm });
                    let token = d.loss_token;
                    d.later(end, Action::SetLoss { ppm: 0 }, token);
                }
                Some(Fault::LatencySpike) => {
                    let min = 50 + d.rng.below(1_951);
                    let max = min + d.rng.below(6_001);
                    d.latency_token += 1;
                    d.emit(at, Action::SetLatency { min, max });
                    let token = d.latency_token;
                    let (min, max) = base;
                    let back = at + 1_000 + d.rng.below(29_001);
                    d.later(back, Action::SetLatency { min, max }, token);
                }
                Some(Fault::Timeout) => {
                    let Some(node) = d.pick_up() else { continue };
                    d.emit(at, Action::Timeout { node });
                }
            }
        }
        d.flush(recovery_at.saturating_sub(1));
        d.pending.clear();
        let r = recovery_at;
        if cuts {
            d.emit(r, Action::HealAll);
        }
        if d.out
            .iter()
            .any(|a| matches!(a.action, Action::SetLoss { .. }))
        {
            d.emit(r, Action::SetLoss { ppm: 0 });
        }
        if d.out
            .iter()
            .any(|a| matches!(a.action, Action::SetLatency { .. }))
        {
            let (min, max) = base;
            d.emit(r, Action::SetLatency { min, max });
        }
        for node in 0..nodes {
            if !d.up[node] {
                d.emit(r, Action::Restart { node });
            }
        }
        Case {
            seed,
            nodes,
            until_ms,
            actions: d.out,
            rules: Rules::Nacos141,
        }
    }

    /// The same schedule under another rule set: the schedule is drawn from the seed alone, so
    /// both rule sets meet the same faults at the same times.
    #[must_use]
    pub fn with_rules(self, rules: Rules) -> Case {
        Case { rules, ..self }
    }

    /// The simulator configuration of this case: Nacos 1.4.1 timings, the default network
    /// (latency 1–5 ms, no loss), Java's 10 s read timeout — what the page builds from the
    /// case's link.
    pub fn config(&self, trace: TraceMode) -> SimConfig {
        SimConfig {
            nodes: self.nodes,
            seed: self.seed,
            timings: Config::default(),
            trace,
            rules: self.rules,
            ..SimConfig::default()
        }
    }

    /// Replays the case exactly ([`Sim::replay`]); an action the simulator refuses is an error.
    pub fn run(&self, trace: TraceMode) -> Result<Sim, String> {
        Sim::replay(self.config(trace), &self.actions, self.until_ms)
    }

    /// Replays the case, skipping the actions the simulator refuses (as the page does): a
    /// refused action changes nothing, and [`Sim::actions`] then lists only those applied.
    fn run_lenient(&self) -> Sim {
        let mut sim = Sim::new(self.config(TraceMode::Off)).expect("a campaign configuration");
        for a in &self.actions {
            if a.at_ms > self.until_ms {
                break;
            }
            sim.run_until(a.at_ms);
            let _ = sim.apply(a.action.clone());
        }
        sim.run_until(self.until_ms);
        sim
    }

    /// The page's URL fragment (without `#`) that replays this case and opens it paused at
    /// `at_ms`: every field the page's simulator configuration is built from is written.
    pub fn page_fragment(&self, at_ms: Option<u64>) -> String {
        let cfg = self.config(TraceMode::Off);
        let mut s = format!(
            "seed={}&nodes={}&timings=nacos&speed=10&latency={}-{}&loss={}",
            self.seed, self.nodes, cfg.latency_ms.0, cfg.latency_ms.1, cfg.loss_ppm
        );
        if !is_nacos(&self.rules) {
            let _ = write!(s, "&rules={}", self.rules);
        }
        if let Some(at) = at_ms {
            let _ = write!(s, "&at={at}");
        }
        if !self.actions.is_empty() {
            s.push_str("&actions=");
            s.push_str(&super::format_actions(&self.actions));
        }
        s
    }

    /// The `simulate` command that replays this case and prints its outcome as JSON.
    pub fn simulate_command(&self) -> String {
        let mut s = format!(
            "cargo run --release -p nacos-raft-core --example simulate -- --nodes {} --seed {} --duration-ms {}",
            self.nodes, self.seed, self.until_ms
        );
        if !is_nacos(&self.rules) {
            let _ = write!(s, " --rules {}", self.rules);
        }
        if !self.actions.is_empty() {
            let _ = write!(s, " --actions '{}'", super::format_actions(&self.actions));
        }
        s
    }
}

/// What one seed's run showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedRun {
    /// The seed.
    pub seed: u64,
    /// Cluster size.
    pub nodes: usize,
    /// Actions in its schedule.
    pub actions: usize,
    /// The trace hash of the run.
    pub hash: u64,
    /// The first onset of each class ([`KINDS`] order), virtual ms.
    pub first: [Option<u64>; 6],
    /// Simulator steps (events processed).
    pub steps: u64,
}

/// The first onset of each class in `violations`, in [`KINDS`] order.
pub fn first_onsets(violations: &[Violation]) -> [Option<u64>; 6] {
    let mut first = [None; 6];
    for v in violations {
        first[kind_index(v.kind)].get_or_insert(v.at_ms);
    }
    first
}

/// Draws and runs the case of `seed` on `nodes` nodes for `until_ms` (no trace kept: the
/// trace hash is computed in every mode).
pub fn run_seed(seed: u64, nodes: usize, until_ms: u64) -> Result<SeedRun, String> {
    let case = Case::generate(seed, nodes, until_ms);
    let sim = case.run(TraceMode::Off)?;
    Ok(SeedRun {
        seed,
        nodes,
        actions: case.actions.len(),
        hash: sim.trace_hash(),
        first: first_onsets(sim.violations()),
        steps: sim.stats().steps,
    })
}

/// A failing case reduced by [`shrink`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Shrunk {
    /// The class it reproduces.
    pub kind: ViolationKind,
    /// The reduced case; it ends at the violation's onset.
    pub case: Case,
    /// The first violation of that class in the reduced case.
    pub violation: Violation,
    /// Actions of the case before shrinking.
    pub original_actions: usize,
    /// When the violation first showed before shrinking, ms.
    pub original_at_ms: u64,
    /// Replays spent shrinking.
    pub replays: usize,
}

/// The smaller of two failing cases: fewer actions first, then an earlier violation.
fn size(case: &Case) -> (usize, u64) {
    (case.actions.len(), case.until_ms)
}

struct Shrinker {
    kind: ViolationKind,
    best: Case,
    replays: usize,
    budget: usize,
}

impl Shrinker {
    /// Replays `actions` on the best case's seed and cluster up to the best case's end; when
    /// the class shows, the candidate (cut to its first onset, with only the actions applied)
    /// becomes the best case if it is not larger. Returns whether it did.
    fn try_actions(&mut self, actions: Vec<TimedAction>) -> bool {
        if self.replays >= self.budget {
            return false;
        }
        self.replays += 1;
        let cand = Case {
            actions,
            ..self.best.clone()
        };
        let sim = cand.run_lenient();
        let Some(at) = first_onsets(sim.violations())[kind_index(self.kind)] else {
            return false;
        };
        let applied: Vec<TimedAction> = sim
            .actions()
            .iter()
            .filter(|a| a.at_ms <= at)
            .cloned()
            .collect();
        let next = Case {
            actions: applied,
            until_ms: at,
            ..cand
        };
        if size(&next) <= size(&self.best) && next != self.best {
            self.best = next;
            true
        } else {
            false
        }
    }

    /// Delta debugging (Zeller's ddmin, complements only): drop ever smaller chunks of actions
    /// while the class still shows.
    fn ddmin(&mut self) {
        let mut chunks = 2usize;
        loop {
            let n = self.best.actions.len();
            if n == 0 || self.replays >= self.budget {
                return;
            }
            let chunks_now = chunks.min(n);
            let mut reduced = false;
            for c in 0..chunks_now {
                let (lo, hi) = (c * n / chunks_now, (c + 1) * n / chunks_now);
                let mut cand = self.best.actions.clone();
                cand.drain(lo..hi);
                if self.try_actions(cand) {
                    chunks = (chunks_now - 1).max(2);
                    reduced = true;
                    break;
                }
            }
            if !reduced {
                if chunks_now >= n {
                    return;
                }
                chunks = (chunks_now * 2).min(n);
            }
        }
    }

    /// Moves actions earlier: all of them by the time before the first, then each gap between
    /// two actions halved, while the class still shows.
    fn compress_time(&mut self) {
        let mut i = 0;
        while i <= self.best.actions.len() && self.replays < self.budget {
            let acts = self.best.actions.clone();
            let gap = match i {
                0 => acts.first().map(|a| a.at_ms).unwrap_or(0),
                _ if i < acts.len() => acts[i].at_ms - acts[i - 1].at_ms,
                _ => 0,
            };
            let mut moved = false;
            for shift in [gap, gap / 2] {
                if shift < 100 {
                    break;
                }
                let mut cand = acts.clone();
                for a in &mut cand[i..] {
                    a.at_ms -= shift;
                }
                if self.try_actions(cand) {
                    moved = true;
                    break;
                }
            }
            if !moved {
                i += 1;
            }
        }
    }

    /// Simpler values: half the loss or the latency, the default latency, a removed key's
    /// write as a remove, each while the class still shows.
    fn simplify_values(&mut self) {
        let base = SimConfig::default().latency_ms;
        let mut i = 0;
        while i < self.best.actions.len() && self.replays < self.budget {
            let simpler: Vec<Action> = match &self.best.actions[i].action {
                Action::SetLoss { ppm } if *ppm > 1_000 => {
                    vec![Action::SetLoss {
                        ppm: (*ppm / 2_000) * 1_000,
                    }]
                }
                Action::SetLatency { min, max } if (*min, *max) != base => {
                    let half = (min / 2, max / 2);
                    let mut v = vec![Action::SetLatency {
                        min: base.0,
                        max: base.1,
                    }];
                    if half.0 >= base.0 && half.1 >= base.1 {
                        v.push(Action::SetLatency {
                            min: half.0,
                            max: half.1,
                        });
                    }
                    v
                }
                Action::Partition { groups } if groups.iter().filter(|g| **g != 0).count() > 1 => {
                    // One node alone on the other side.
                    let n = groups.len();
                    (0..n)
                        .filter(|j| groups[*j] != 0)
                        .map(|j| Action::Isolate { node: j })
                        .collect()
                }
                Action::Cut {
                    from,
                    to,
                    both: true,
                } => vec![
                    Action::Cut {
                        from: *from,
                        to: *to,
                        both: false,
                    },
                    Action::Cut {
                        from: *to,
                        to: *from,
                        both: false,
                    },
                ],
                _ => Vec::new(),
            };
            let mut changed = false;
            for s in simpler {
                let mut cand = self.best.actions.clone();
                cand[i].action = s;
                if self.try_actions(cand) {
                    changed = true;
                    break;
                }
            }
            if !changed {
                i += 1;
            }
        }
    }
}

/// Shrinks a case that shows `kind`: cuts it at the first onset, then drops actions (delta
/// debugging), moves the rest earlier and simplifies their values, re-checking after every step
/// that the same class still shows, until nothing helps or `budget` replays are spent. Returns
/// `None` if the case does not show `kind`.
pub fn shrink(case: &Case, kind: ViolationKind, budget: usize) -> Option<Shrunk> {
    let sim = case.run(TraceMode::Off).ok()?;
    let original_at_ms = first_onsets(sim.violations())[kind_index(kind)]?;
    let mut s = Shrinker {
        kind,
        best: case.clone(),
        replays: 1,
        budget,
    };
    s.try_actions(case.actions.clone());
    loop {
        let before = size(&s.best);
        s.ddmin();
        s.compress_time();
        s.simplify_values();
        if size(&s.best) == before || s.replays >= s.budget {
            break;
        }
    }
    // The final case replays strictly (no refused action) to the same class.
    let sim = s.best.run(TraceMode::Off).ok()?;
    let violation = sim.violations().iter().find(|v| v.kind == kind)?.clone();
    Some(Shrunk {
        kind,
        case: s.best,
        violation,
        original_actions: case.actions.len(),
        original_at_ms,
        replays: s.replays,
    })
}

/// What a campaign covers: which seeds, on which cluster sizes, for how long, and how hard to
/// shrink.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// How many seeds.
    pub seeds: u64,
    /// The first seed; seeds are `first_seed`, `first_seed + 1`, ...
    pub first_seed: u64,
    /// Cluster sizes, used in turn: seed `first_seed + i` runs on `nodes[i % nodes.len()]`.
    pub nodes: Vec<usize>,
    /// Virtual minutes per run.
    pub minutes: u64,
    /// Failing seeds shrunk per class (the smallest ones).
    pub shrink_candidates: usize,
    /// Replays one shrink may spend.
    pub shrink_budget: usize,
}

impl Plan {
    /// Virtual time of one run, ms.
    pub fn until_ms(&self) -> u64 {
        self.minutes * 60_000
    }

    /// Every `(seed, cluster size)` of the campaign, in order.
    pub fn seeds(&self) -> Vec<(u64, usize)> {
        (0..self.seeds)
            .map(|i| {
                let n = self.nodes[(i % self.nodes.len() as u64) as usize];
                (self.first_seed + i, n)
            })
            .collect()
    }

    /// The cases to shrink: for each class, the failing seeds with the fewest actions (then
    /// the earliest onset), at most [`Plan::shrink_candidates`] of them.
    pub fn shrink_targets(&self, runs: &[SeedRun]) -> Vec<(ViolationKind, Case)> {
        let mut out = Vec::new();
        for kind in KINDS {
            let k = kind_index(kind);
            let mut failing: Vec<&SeedRun> = runs.iter().filter(|r| r.first[k].is_some()).collect();
            failing.sort_by_key(|r| (r.actions, r.first[k], r.seed));
            for r in failing.iter().take(self.shrink_candidates) {
                out.push((kind, Case::generate(r.seed, r.nodes, self.until_ms())));
            }
        }
        out
    }
}

/// Runs the case of `seed` twice: the two runs must agree, trace hash included.
pub fn run_seed_twice(seed: u64, nodes: usize, until_ms: u64) -> Result<SeedRun, String> {
    let a = run_seed(seed, nodes, until_ms)?;
    let b = run_seed(seed, nodes, until_ms)?;
    if a != b {
        return Err(format!(
            "non-deterministic: trace hash {:016x}, then {:016x} on the rerun",
            a.hash, b.hash
        ));
    }
    Ok(a)
}

/// A seed the campaign could not judge: it panicked, its rerun differed, or an action of its
/// schedule was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The seed.
    pub seed: u64,
    /// Cluster size.
    pub nodes: usize,
    /// What went wrong, in words (`panic: ...`, `non-deterministic: ...`, or the refusal).
    pub what: String,
}

/// One seed's outcome in the JSON report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunRow {
    /// The seed.
    pub seed: u64,
    /// Cluster size.
    pub nodes: usize,
    /// Actions in its schedule.
    pub actions: usize,
    /// Trace hash, hex.
    pub trace_hash: String,
    /// The classes it showed.
    pub violations: Vec<ViolationKind>,
}

/// The shrunk case of a class, with what replays it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Smallest {
    /// The shrunk case.
    #[serde(flatten)]
    pub shrunk: Shrunk,
    /// Its trace hash, hex (the same with and without a recorded trace).
    pub trace_hash: String,
    /// The page link that replays it, opened at the violation.
    pub page_url: String,
    /// The `simulate` command that replays it.
    pub simulate: String,
}

/// One row of the campaign table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassRow {
    /// The class.
    pub kind: ViolationKind,
    /// Its name in words.
    pub title: &'static str,
    /// Seeds that showed it.
    pub seeds: u64,
    /// Their share of all seeds (0 to 1).
    pub share: f64,
    /// Seeds that showed it, by cluster size.
    pub by_nodes: BTreeMap<usize, u64>,
    /// The smallest case, shrunk.
    pub smallest: Option<Smallest>,
}

/// How long a campaign took (measured by its runner).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Timing {
    /// Worker threads.
    pub jobs: usize,
    /// Wall time of the runs (every seed twice), s.
    pub runs_s: f64,
    /// Wall time of the shrinking, s.
    pub shrink_s: f64,
    /// Wall time of everything, s.
    pub wall_s: f64,
}

/// The outcome of a campaign: the table, the shrunk cases, the failures and every seed's run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// What was run.
    pub plan: Plan,
    /// Seeds per cluster size.
    pub seeds_by_nodes: BTreeMap<usize, u64>,
    /// Protocol timings (always Nacos 1.4.1's).
    pub timings: &'static str,
    /// How long it took.
    pub timing: Timing,
    /// Simulator steps over every run and rerun.
    pub steps: u64,
    /// Seeds that panicked.
    pub panics: Vec<Failure>,
    /// Seeds whose rerun gave another trace hash.
    pub nondeterministic: Vec<Failure>,
    /// Anything else that went wrong: a refused action, a shrunk case that does not replay.
    pub errors: Vec<Failure>,
    /// One row per class, in [`KINDS`] order.
    pub classes: Vec<ClassRow>,
    /// Every seed that ran to its end.
    pub runs: Vec<RunRow>,
}

/// The name of a class in words.
pub fn title(kind: ViolationKind) -> &'static str {
    match kind {
        ViolationKind::TwoLeadersSameTerm => "two leaders in a term",
        ViolationKind::TwoLeaders => "two leaders",
        ViolationKind::StaleLeader => "stale leader",
        ViolationKind::LostAckedWrite => "lost acknowledged write",
        ViolationKind::NotConverged => "not converged",
        ViolationKind::TermDecreased => "term decreased",
    }
}

impl Report {
    /// Builds the report from every seed's result (`Err`: what went wrong, starting with
    /// `panic` or `non-deterministic` or else a refusal) and the shrunk cases. Each class keeps
    /// its smallest shrunk case, re-checked here: it must replay strictly to the same class, and
    /// to the same trace hash with a full trace (what the page records) as without.
    /// `page` is where the page is served (`http://127.0.0.1:8080/`).
    pub fn new(
        plan: Plan,
        results: Vec<(u64, usize, Result<SeedRun, String>)>,
        shrunk: Vec<Option<Shrunk>>,
        timing: Timing,
        page: &str,
    ) -> Report {
        let mut runs = Vec::new();
        let (mut panics, mut nondeterministic, mut errors) = (Vec::new(), Vec::new(), Vec::new());
        let mut seeds_by_nodes: BTreeMap<usize, u64> = BTreeMap::new();
        for (seed, nodes, r) in results {
            *seeds_by_nodes.entry(nodes).or_default() += 1;
            match r {
                Ok(run) => runs.push(run),
                Err(what) => {
                    let f = Failure { seed, nodes, what };
                    if f.what.starts_with("panic") {
                        panics.push(f);
                    } else if f.what.starts_with("non-deterministic") {
                        nondeterministic.push(f);
                    } else {
                        errors.push(f);
                    }
                }
            }
        }
        let mut best: [Option<Shrunk>; 6] = Default::default();
        let key = |x: &Shrunk| (x.case.actions.len(), x.case.until_ms, x.case.seed);
        for s in shrunk.into_iter().flatten() {
            let slot = &mut best[kind_index(s.kind)];
            if slot.as_ref().is_none_or(|b| key(&s) < key(b)) {
                *slot = Some(s);
            }
        }
        let total = plan.seeds.max(1);
        let mut classes = Vec::new();
        for kind in KINDS {
            let k = kind_index(kind);
            let mut by_nodes: BTreeMap<usize, u64> =
                seeds_by_nodes.keys().map(|n| (*n, 0)).collect();
            let mut count = 0;
            for r in runs.iter().filter(|r| r.first[k].is_some()) {
                count += 1;
                *by_nodes.entry(r.nodes).or_default() += 1;
            }
            let smallest = best[k].take().and_then(|s| {
                let off = s.case.run(TraceMode::Off);
                let full = s.case.run(TraceMode::Full);
                let what = match (&off, &full) {
                    (Ok(off), Ok(full)) if off.trace_hash() != full.trace_hash() => format!(
                        "the shrunk {} case has trace hash {:016x} without a trace, {:016x} with one",
                        kind.as_str(),
                        off.trace_hash(),
                        full.trace_hash()
                    ),
                    (Ok(off), Ok(_)) if !off.violations().contains(&s.violation) => format!(
                        "the shrunk {} case does not replay to its violation",
                        kind.as_str()
                    ),
                    (Ok(off), Ok(_)) => {
                        return Some(Smallest {
                            trace_hash: format!("{:016x}", off.trace_hash()),
                            page_url: format!(
                                "{page}#{}",
                                s.case.page_fragment(Some(s.violation.at_ms))
                            ),
                            simulate: s.case.simulate_command(),
                            shrunk: s,
                        })
                    }
                    (Err(e), _) | (_, Err(e)) => {
                        format!("the shrunk {} case does not replay: {e}", kind.as_str())
                    }
                };
                errors.push(Failure {
                    seed: s.case.seed,
                    nodes: s.case.nodes,
                    what,
                });
                None
            });
            classes.push(ClassRow {
                kind,
                title: title(kind),
                seeds: count,
                share: count as f64 / total as f64,
                by_nodes,
                smallest,
            });
        }
        let steps = runs.iter().map(|r| 2 * r.steps).sum();
        let rows = runs
            .iter()
            .map(|r| RunRow {
                seed: r.seed,
                nodes: r.nodes,
                actions: r.actions,
                trace_hash: format!("{:016x}", r.hash),
                violations: KINDS
                    .iter()
                    .filter(|k| r.first[kind_index(**k)].is_some())
                    .copied()
                    .collect(),
            })
            .collect();
        Report {
            plan,
            seeds_by_nodes,
            timings: "nacos",
            timing,
            steps,
            panics,
            nondeterministic,
            errors,
            classes,
            runs: rows,
        }
    }

    /// Whether the campaign itself went right: no panic, every rerun the same, nothing refused
    /// and every shrunk case replayed. (Violations are findings about the protocol.)
    pub fn ok(&self) -> bool {
        self.panics.is_empty() && self.nondeterministic.is_empty() && self.errors.is_empty()
    }

    /// The table and the shrunk cases, as Markdown.
    pub fn render(&self) -> String {
        let pct = |part: u64, whole: u64| {
            if whole == 0 {
                String::from("—")
            } else {
                format!("{:.2} %", 100.0 * part as f64 / whole as f64)
            }
        };
        let secs = |ms: u64| format!("{:.1} s", ms as f64 / 1000.0);
        let mut s = String::new();
        let sizes: Vec<String> = self
            .seeds_by_nodes
            .iter()
            .map(|(n, c)| format!("{c} with {n} nodes"))
            .collect();
        let _ = writeln!(
            s,
            "Fault campaign: {} seeds ({}), {} virtual minutes each, Nacos 1.4.1 timings.",
            self.plan.seeds,
            sizes.join(", "),
            self.plan.minutes
        );
        let t = &self.timing;
        let _ = writeln!(
            s,
            "{:.0} s on {} threads: {:.0} s of runs (every seed run twice), {:.0} s of shrinking; {} simulator steps.",
            t.wall_s, t.jobs, t.runs_s, t.shrink_s, self.steps
        );
        let _ = writeln!(
            s,
            "Panics: {}. Seeds whose rerun gave another trace hash: {}. Other errors: {}.\n",
            self.panics.len(),
            self.nondeterministic.len(),
            self.errors.len()
        );
        let mut head = String::from("| violation | seeds | share |");
        let mut rule = String::from("|---|--:|--:|");
        for n in self.seeds_by_nodes.keys() {
            let _ = write!(head, " {n} nodes |");
            rule.push_str("--:|");
        }
        let _ = writeln!(s, "{head} smallest case, shrunk |\n{rule}---|");
        for c in &self.classes {
            let _ = write!(
                s,
                "| {} (`{}`) | {} | {} |",
                c.title,
                c.kind.as_str(),
                c.seeds,
                pct(c.seeds, self.plan.seeds)
            );
            for (n, total) in &self.seeds_by_nodes {
                let k = c.by_nodes.get(n).copied().unwrap_or(0);
                let _ = write!(s, " {} |", pct(k, *total));
            }
            match &c.smallest {
                Some(m) => {
                    let c = &m.shrunk.case;
                    let _ = writeln!(
                        s,
                        " seed {}, {} nodes: {} actions, {} (from {} actions, {}) |",
                        c.seed,
                        c.nodes,
                        c.actions.len(),
                        secs(c.until_ms),
                        m.shrunk.original_actions,
                        secs(m.shrunk.original_at_ms)
                    );
                }
                None => s.push_str(" — |\n"),
            }
        }
        for c in &self.classes {
            let Some(m) = &c.smallest else { continue };
            let _ = writeln!(
                s,
                "\n{} ({}) at {} ms: {}\n  page: {}\n  cli:  {}",
                c.kind.as_str(),
                c.title,
                m.shrunk.violation.at_ms,
                m.shrunk.violation.detail,
                m.page_url,
                m.simulate
            );
        }
        for f in self
            .panics
            .iter()
            .chain(&self.nondeterministic)
            .chain(&self.errors)
        {
            let _ = writeln!(s, "\nseed {} ({} nodes): {}", f.seed, f.nodes, f.what);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_are_drawn_from_the_seed_and_replay_without_refusals() {
        for seed in 0..40 {
            for nodes in [3, 5] {
                let a = Case::generate(seed, nodes, 600_000);
                assert_eq!(a, Case::generate(seed, nodes, 600_000));
                assert!(a.actions.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
                // Nothing in the recovery window but the recovery itself.
                assert!(a.actions.iter().all(|t| t.at_ms <= 480_000));
                let sim = a.run(TraceMode::Off).expect("every action is accepted");
                assert_eq!(sim.actions(), &a.actions[..]);
                // At the end, every node runs and the network is whole.
                assert!((0..nodes).all(|i| sim.is_up(i)));
                assert!(!sim.net().has_faults());
            }
        }
    }

    #[test]
    fn the_page_fragment_names_every_field_of_the_run() {
        let case = Case {
            seed: 9,
            nodes: 5,
            until_ms: 1_000,
            actions: vec![TimedAction {
                at_ms: 5,
                action: Action::Crash { node: 1 },
            }],
            rules: Rules::Nacos141,
        };
        assert_eq!(
            case.page_fragment(Some(900)),
            "seed=9&nodes=5&timings=nacos&speed=10&latency=1-5&loss=0&at=900&actions=5:crash:1"
        );
        assert_eq!(
            case.simulate_command(),
            "cargo run --release -p nacos-raft-core --example simulate -- --nodes 5 --seed 9 --duration-ms 1000 --actions '5:crash:1'"
        );
        let hardened = case.with_rules(Rules::Hardened);
        assert_eq!(
            hardened.page_fragment(None),
            "seed=9&nodes=5&timings=nacos&speed=10&latency=1-5&loss=0&rules=hardened&actions=5:crash:1"
        );
        assert!(hardened
            .simulate_command()
            .contains(" --rules hardened --actions"));
    }
}
