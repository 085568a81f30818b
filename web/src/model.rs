//! The page's model: the core simulator plus time travel. No browser types in here, so every
//! rule is tested on the host.
//!
//! A *branch* is the seed plus a list of timed actions. The state at virtual time `t` is, by
//! definition, `Sim::replay(cfg, actions, t)`; the [`World`] reaches it quickly from clones of the
//! simulator taken along the way (checkpoints). Acting at a time before the end of what has been
//! simulated forks a new branch there; the old one is kept and can be switched back to.

use nacos_raft_core::sim::{
    Action, Fate, Happening, MsgId, Sim, SimConfig, TimedAction, ViolationKind,
};
use nacos_raft_core::Event;

/// Most checkpoints kept; past that, every other one is dropped and the spacing doubles.
const MAX_CHECKPOINTS: usize = 40;
/// Initial spacing of checkpoints, virtual ms.
const FIRST_CHECKPOINT_MS: u64 = 4_000;

/// Something the timeline marks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// A node started an election.
    Election {
        /// The election's term.
        term: u64,
    },
    /// A node became LEADER.
    Leader {
        /// Its term.
        term: u64,
    },
    /// A node crashed.
    Crash,
    /// A node restarted.
    Restart,
    /// An observer recorded a violation.
    Violation(ViolationKind),
    /// A person acted (network, node, data).
    Action,
}

/// One mark on the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    /// Virtual ms.
    pub at_ms: u64,
    /// The node concerned, if one.
    pub node: Option<usize>,
    /// What.
    pub kind: MarkKind,
}

/// A branch not currently shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Branch {
    /// Its actions.
    pub actions: Vec<TimedAction>,
    /// How far it had been simulated.
    pub end_ms: u64,
    /// Where it parted from the branch it was forked from (or was forked into).
    pub fork_ms: u64,
    /// Number for people (1 = the first).
    pub number: usize,
}

#[derive(Clone)]
struct Checkpoint {
    sim: Sim,
    next_action: usize,
}

#[derive(Default, Clone, Copy)]
struct Scan {
    events: usize,
    leaders: usize,
    violations: usize,
    actions: usize,
}

/// The simulator with time travel.
pub struct World {
    cfg: SimConfig,
    cur: Sim,
    next_action: usize,
    /// The furthest state of this branch while `cur` is behind it, with its `next_action`.
    head: Option<(Sim, usize)>,
    actions: Vec<TimedAction>,
    checkpoints: Vec<Checkpoint>,
    cp_every: u64,
    frontier_ms: u64,
    marks: Vec<Mark>,
    scan: Scan,
    branches: Vec<Branch>,
    branch_number: usize,
    next_branch_number: usize,
    /// Messages dropped by a person: the time they would have arrived, sorted by message. A
    /// sorted `Vec` rather than a map: each map layout adds its own copy of the B-tree code to
    /// the page (issue 14).
    drop_plan: Vec<(MsgId, u64)>,
    max_arrive: u64,
    scanned_msgs: usize,
    max_latency: u64,
    violations_seen: usize,
    /// Sub-millisecond part of the playhead (smooth slow motion).
    frac: f64,
    /// Actions of the run that the simulator refused (and the page skipped), with why: a link
    /// can hold an action that does not apply (a restart of a running node); the page says so.
    refused: Vec<(TimedAction, String)>,
}

/// What [`World::play`] did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlayResult {
    /// The speed used at the end of the frame (slow motion may lower it).
    pub speed: f64,
    /// A violation not seen before happened during the frame.
    pub new_violation: bool,
}

impl World {
    /// A fresh branch with `actions` (sorted by time) on a new cluster.
    pub fn new(cfg: SimConfig, actions: Vec<TimedAction>) -> Result<World, String> {
        let cur = Sim::new(cfg.clone()).map_err(|e| e.0)?;
        let max_latency = cfg.latency_ms.1;
        let mut w = World {
            cfg,
            cur,
            next_action: 0,
            head: None,
            actions,
            checkpoints: Vec::new(),
            cp_every: FIRST_CHECKPOINT_MS,
            frontier_ms: 0,
            marks: Vec::new(),
            scan: Scan::default(),
            branches: Vec::new(),
            branch_number: 1,
            next_branch_number: 2,
            drop_plan: Vec::new(),
            max_arrive: 0,
            scanned_msgs: 0,
            max_latency,
            violations_seen: 0,
            frac: 0.0,
            refused: Vec::new(),
        };
        w.update_latency_bound();
        Ok(w)
    }

    // ---- reading ----------------------------------------------------------------------------

    /// The simulator at the playhead.
    pub fn sim(&self) -> &Sim {
        &self.cur
    }

    /// The playhead, virtual ms.
    pub fn now(&self) -> u64 {
        self.cur.now()
    }

    /// The playhead with its sub-millisecond part, for drawing.
    pub fn display_ms(&self) -> f64 {
        self.cur.now() as f64 + self.frac
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// Every action of this branch (also those after the playhead).
    pub fn actions(&self) -> &[TimedAction] {
        &self.actions
    }

    /// How far this branch has been simulated.
    pub fn frontier_ms(&self) -> u64 {
        self.frontier_ms.max(self.cur.now())
    }

    /// The timeline's marks (up to the frontier).
    pub fn marks(&self) -> &[Mark] {
        &self.marks
    }

    /// Other branches.
    pub fn branches(&self) -> &[Branch] {
        &self.branches
    }

    /// This branch's number.
    pub fn branch_number(&self) -> usize {
        self.branch_number
    }

    /// Number of checkpoints held.
    pub fn checkpoints(&self) -> usize {
        self.checkpoints.len()
    }

    /// When a message dropped by a person would have arrived.
    pub fn planned_arrival(&self, msg: MsgId) -> Option<u64> {
        let k = self
            .drop_plan
            .binary_search_by_key(&msg, |&(m, _)| m)
            .ok()?;
        Some(self.drop_plan[k].1)
    }

    /// The largest latency configured so far in this run (bounds how long a message flies).
    pub fn max_latency(&self) -> u64 {
        self.max_latency
    }

    /// Whether a message is travelling at the playhead (cheap).
    pub fn messages_flying(&self) -> bool {
        self.cur.now() < self.max_arrive
    }

    // ---- time -------------------------------------------------------------------------------

    /// Moves the playhead to `t`, forward by simulating, backward from a checkpoint.
    pub fn seek(&mut self, t: u64) {
        self.frac = 0.0;
        if t < self.cur.now() {
            self.restore(t);
        }
        self.advance_to(t);
    }

    /// Plays `real_ms` of wall time at `speed` virtual ms per real ms. With `slowmo`, time slows
    /// while a message flies so that one takes about `flight_real_ms` to cross. `stop_on_violation`
    /// stops at the first violation not seen before.
    pub fn play(
        &mut self,
        real_ms: f64,
        speed: f64,
        slowmo: bool,
        flight_real_ms: f64,
        stop_on_violation: bool,
    ) -> PlayResult {
        // Slow enough that a message of average latency takes `flight_real_ms`, but never more
        // than 300 times slower than the chosen speed (fast playback stays fast).
        let slow = ((self.cfg_latency_mid() as f64) / flight_real_ms.max(1.0))
            .max(speed / 300.0)
            .max(1e-4);
        let mut budget = real_ms.max(0.0);
        let mut used = speed;
        let mut new_violation = false;
        let mut guard = 0u32;
        loop {
            guard += 1;
            if guard > 200_000 {
                break;
            }
            let now = self.cur.now();
            let t = now as f64 + self.frac;
            let flying = slowmo && now < self.max_arrive;
            let s = if flying { speed.min(slow) } else { speed };
            used = s;
            let next = self.next_change_ms().unwrap_or(u64::MAX);
            let bound = if flying {
                next.min(self.max_arrive)
            } else {
                next
            };
            let target = t + budget * s;
            if target < bound as f64 {
                let nt = target.floor() as u64;
                if nt > now {
                    self.advance_to(nt);
                }
                self.frac = (target - nt as f64).clamp(0.0, 0.999_999);
                break;
            }
            budget = (budget - ((bound as f64 - t).max(0.0)) / s).max(0.0);
            self.advance_to(bound);
            self.frac = 0.0;
            if stop_on_violation && self.cur.violations().len() > self.violations_seen {
                self.violations_seen = self.cur.violations().len();
                new_violation = true;
                break;
            }
            if budget <= 0.0 {
                break;
            }
        }
        if self.cur.violations().len() > self.violations_seen {
            self.violations_seen = self.cur.violations().len();
            new_violation |= stop_on_violation;
        }
        PlayResult {
            speed: used,
            new_violation,
        }
    }

    /// Advances to the next moment at which something visible happens (a message is sent or
    /// arrives, a node decides something); returns the new playhead.
    pub fn step(&mut self) -> u64 {
        self.frac = 0.0;
        let t0 = self.cur.now();
        let next_arrival = self
            .cur
            .in_flight_at(t0)
            .map(|m| m.arrive_ms)
            .filter(|a| *a > t0)
            .min();
        let (m0, e0) = (self.cur.messages().len(), self.cur.events().len());
        while let Some(ne) = self.next_change_ms() {
            if let Some(a) = next_arrival {
                if ne >= a {
                    self.advance_to(a);
                    break;
                }
            }
            if ne > t0 + 24 * 3_600_000 {
                break;
            }
            self.advance_to(ne);
            if self.cur.messages().len() != m0 || self.cur.events().len() != e0 {
                break;
            }
        }
        self.cur.now()
    }

    /// The latest moment before the playhead at which something visible happened.
    pub fn previous_moment(&self) -> Option<u64> {
        let t = self.cur.now();
        let mut best: Option<u64> = None;
        let mut consider = |x: u64| {
            if x < t && best.is_none_or(|b| x > b) {
                best = Some(x);
            }
        };
        for m in self.cur.messages().iter().rev().take(400) {
            consider(m.sent_ms);
            consider(m.arrive_ms);
        }
        if let Some(e) = self.cur.events().iter().rev().find(|e| e.at_ms < t) {
            consider(e.at_ms);
        }
        best
    }

    /// The next time the state can change: the next scheduled event or the next action of the
    /// branch, whichever comes first.
    fn next_change_ms(&self) -> Option<u64> {
        let a = self.actions.get(self.next_action).map(|a| a.at_ms);
        match (self.cur.next_event_ms(), a) {
            (Some(e), Some(a)) => Some(e.min(a)),
            (e, a) => e.or(a),
        }
    }

    fn cfg_latency_mid(&self) -> u64 {
        let (a, b) = self.cur.net().latency_ms;
        ((a + b) / 2).max(1)
    }

    /// Simulates forward to `t` (never backward), applying the branch's actions on the way and
    /// taking checkpoints.
    fn advance_to(&mut self, t: u64) {
        if let Some((h, _)) = &self.head {
            if t >= h.now() {
                let (h, na) = self.head.take().expect("checked");
                self.cur = h;
                self.next_action = na;
                self.rescan_flights();
            }
        }
        loop {
            let now = self.cur.now();
            if now > t {
                break;
            }
            let mut stop = t;
            if let Some(a) = self.actions.get(self.next_action) {
                stop = stop.min(a.at_ms.max(now));
            }
            let last_cp = self.checkpoints.last().map(|c| c.sim.now()).unwrap_or(0);
            let next_cp = (last_cp / self.cp_every + 1) * self.cp_every;
            let take_cp = next_cp <= stop && next_cp > now.max(last_cp);
            if take_cp {
                stop = next_cp;
            }
            self.cur.run_until(stop);
            while let Some(a) = self.actions.get(self.next_action) {
                if a.at_ms > stop {
                    break;
                }
                let a = a.clone();
                self.before_apply(&a.action);
                // Actions recorded on the page were valid when recorded; a link's may not be. A
                // refusal changes nothing; it is noted once (replays after a seek meet it again).
                if let Err(e) = self.cur.apply(a.action.clone()) {
                    if !self.refused.iter().any(|(r, _)| *r == a) {
                        self.refused.push((a, e));
                    }
                }
                self.next_action += 1;
            }
            if take_cp && self.cur.now() == next_cp {
                self.push_checkpoint();
            }
            self.after_advance();
            if stop >= t {
                break;
            }
        }
    }

    fn push_checkpoint(&mut self) {
        self.checkpoints.push(Checkpoint {
            sim: self.cur.clone(),
            next_action: self.next_action,
        });
        if self.checkpoints.len() > MAX_CHECKPOINTS {
            let mut i = 0;
            self.checkpoints.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            self.cp_every *= 2;
        }
    }

    /// Puts `cur` at the latest checkpoint at or before `t` (keeping the furthest state as head).
    fn restore(&mut self, t: u64) {
        let base = match self.checkpoints.iter().rev().find(|c| c.sim.now() <= t) {
            Some(c) => (c.sim.clone(), c.next_action),
            None => (
                Sim::new(self.cfg.clone()).expect("the configuration built this world"),
                0,
            ),
        };
        let old = std::mem::replace(&mut self.cur, base.0);
        let old_na = std::mem::replace(&mut self.next_action, base.1);
        let keep_old = match &self.head {
            Some((h, _)) => old.now() > h.now(),
            None => true,
        };
        if keep_old && old.now() > self.cur.now() {
            self.head = Some((old, old_na));
        }
        self.rescan_flights();
    }

    fn before_apply(&mut self, a: &Action) {
        match a {
            Action::Drop { msg } => {
                if let Some(m) = self.cur.messages().get(*msg as usize) {
                    if m.id == *msg {
                        match self.drop_plan.binary_search_by_key(msg, |&(m, _)| m) {
                            Ok(k) => self.drop_plan[k].1 = m.arrive_ms,
                            Err(k) => self.drop_plan.insert(k, (*msg, m.arrive_ms)),
                        }
                    }
                }
            }
            Action::SetLatency { max, .. } => self.max_latency = self.max_latency.max(*max),
            _ => {}
        }
    }

    fn update_latency_bound(&mut self) {
        self.max_latency = self.max_latency.max(self.cur.net().latency_ms.1);
    }

    fn rescan_flights(&mut self) {
        self.scanned_msgs = 0;
        self.max_arrive = 0;
        self.scan_flights();
    }

    fn scan_flights(&mut self) {
        let msgs = self.cur.messages();
        for m in &msgs[self.scanned_msgs.min(msgs.len())..] {
            if m.fate == Fate::InFlight || m.arrive_ms > self.max_arrive {
                self.max_arrive = self.max_arrive.max(m.arrive_ms);
            }
        }
        self.scanned_msgs = msgs.len();
    }

    fn after_advance(&mut self) {
        self.scan_flights();
        if self.head.is_none() && self.cur.now() >= self.frontier_ms {
            self.frontier_ms = self.cur.now();
            self.scan_marks();
        }
    }

    fn scan_marks(&mut self) {
        let s = &self.cur;
        for e in &s.events()[self.scan.events.min(s.events().len())..] {
            let kind = match &e.what {
                Happening::Protocol(Event::ElectionStarted { term }) => {
                    MarkKind::Election { term: *term }
                }
                Happening::Crashed => MarkKind::Crash,
                Happening::Restarted => MarkKind::Restart,
                _ => continue,
            };
            self.marks.push(Mark {
                at_ms: e.at_ms,
                node: Some(e.node),
                kind,
            });
        }
        self.scan.events = s.events().len();
        for (at, node, term) in
            &s.leader_changes()[self.scan.leaders.min(s.leader_changes().len())..]
        {
            self.marks.push(Mark {
                at_ms: *at,
                node: Some(*node),
                kind: MarkKind::Leader { term: *term },
            });
        }
        self.scan.leaders = s.leader_changes().len();
        for v in &s.violations()[self.scan.violations.min(s.violations().len())..] {
            self.marks.push(Mark {
                at_ms: v.at_ms,
                node: v.nodes.first().copied(),
                kind: MarkKind::Violation(v.kind),
            });
        }
        self.scan.violations = s.violations().len();
        for a in &s.actions()[self.scan.actions.min(s.actions().len())..] {
            self.marks.push(Mark {
                at_ms: a.at_ms,
                node: a.action.node(),
                kind: MarkKind::Action,
            });
        }
        self.scan.actions = s.actions().len();
    }

    // ---- acting -------------------------------------------------------------------------------

    /// Applies `action` at the playhead. If the branch goes on after the playhead, a new branch
    /// is forked here (the old one is kept in [`World::branches`]). A refused action changes
    /// nothing and returns the simulator's reason.
    pub fn act(&mut self, action: Action) -> Result<(), String> {
        let t = self.cur.now();
        // Check on a copy first? No: Sim::apply validates before it changes anything.
        let forks = self.next_action < self.actions.len() || self.frontier_ms() > t;
        // Validation happens inside apply; do the bookkeeping only once it succeeded.
        let before = Scan {
            events: self.cur.events().len(),
            leaders: self.cur.leader_changes().len(),
            violations: self.cur.violations().len(),
            actions: self.cur.actions().len(),
        };
        self.before_apply(&action);
        self.cur.apply(action.clone())?;
        if forks {
            let old = Branch {
                actions: std::mem::take(&mut self.actions),
                end_ms: self.frontier_ms(),
                fork_ms: t,
                number: self.branch_number,
            };
            self.branches.push(old);
            self.branch_number = self.next_branch_number;
            self.next_branch_number += 1;
            self.actions = self.cur.actions()[..self.cur.actions().len() - 1].to_vec();
            self.head = None;
            self.checkpoints.retain(|c| c.sim.now() < t);
            if self.checkpoints.is_empty() {
                self.cp_every = FIRST_CHECKPOINT_MS;
            }
            self.marks.retain(|m| m.at_ms <= t);
            self.frontier_ms = t;
            self.violations_seen = before.violations;
        } else {
            // A checkpoint at exactly `t` predates this action.
            self.checkpoints.retain(|c| c.sim.now() < t);
        }
        self.actions.push(TimedAction { at_ms: t, action });
        self.next_action = self.actions.len();
        self.scan = before;
        self.frontier_ms = t;
        self.rescan_flights();
        self.after_advance();
        Ok(())
    }

    /// Shows branch `i` of [`World::branches`] instead of this one (which joins the list), with
    /// the playhead at the same time or at the end of that branch, whichever is earlier.
    pub fn switch_branch(&mut self, i: usize) {
        if i >= self.branches.len() {
            return;
        }
        let t = self.cur.now();
        let b = self.branches.remove(i);
        let common = common_prefix(&self.actions, &b.actions);
        let split_ms = b
            .actions
            .get(common)
            .map(|a| a.at_ms)
            .into_iter()
            .chain(self.actions.get(common).map(|a| a.at_ms))
            .min()
            .unwrap_or(u64::MAX);
        let mine = Branch {
            actions: std::mem::replace(&mut self.actions, b.actions),
            end_ms: self.frontier_ms(),
            fork_ms: split_ms.min(self.frontier_ms()),
            number: self.branch_number,
        };
        self.branches.insert(i, mine);
        self.branch_number = b.number;
        // Checkpoints before the first differing action hold for both branches.
        self.checkpoints.retain(|c| c.sim.now() < split_ms);
        if self.checkpoints.is_empty() {
            self.cp_every = FIRST_CHECKPOINT_MS;
        }
        self.head = None;
        let base = match self.checkpoints.last() {
            Some(c) => (c.sim.clone(), c.next_action),
            None => (
                Sim::new(self.cfg.clone()).expect("the configuration built this world"),
                0,
            ),
        };
        self.cur = base.0;
        self.next_action = base.1;
        self.marks.retain(|m| m.at_ms < self.cur.now());
        self.scan = Scan {
            events: self.cur.events().len(),
            leaders: self.cur.leader_changes().len(),
            violations: self.cur.violations().len(),
            actions: self.cur.actions().len(),
        };
        // Marks at exactly the checkpoint time were rescanned above only if they came after it.
        self.marks.retain(|m| m.at_ms < self.cur.now());
        self.rebuild_marks_from_cur();
        self.frontier_ms = self.cur.now();
        self.violations_seen = self.cur.violations().len();
        self.rescan_flights();
        // Simulate the whole branch once so that its marks show, then go to the playhead.
        self.advance_to(b.end_ms);
        self.violations_seen = self.cur.violations().len();
        self.seek(t.min(b.end_ms));
    }

    fn rebuild_marks_from_cur(&mut self) {
        self.marks.clear();
        self.scan = Scan::default();
        self.scan_marks();
    }

    /// The run's actions the simulator refused so far (skipped), with why, in time order.
    pub fn refused(&self) -> &[(TimedAction, String)] {
        &self.refused
    }

    /// Simulates ahead to `t` (so that the timeline shows what is coming), then returns to the
    /// playhead.
    pub fn prefetch(&mut self, t: u64) {
        let back = self.cur.now();
        if t > back {
            self.advance_to(t);
            self.violations_seen = self.cur.violations().len().min(self.violations_seen);
            self.seek(back);
        }
    }

    /// What the receiver of message `msg` does when it arrives, found by simulating a copy of the
    /// world ahead (with this branch's actions) to its arrival: the receiver's events at that
    /// moment. For a message that has already arrived, what it did. Empty for a message that dies
    /// on the way, and when `msg` was not sent yet.
    pub fn on_arrival(&self, msg: MsgId) -> Vec<nacos_raft_core::sim::TraceEvent> {
        let Some(m) = self
            .cur
            .messages()
            .get(msg as usize)
            .filter(|m| m.id == msg)
        else {
            return Vec::new();
        };
        if m.fate.is_failure() {
            return Vec::new();
        }
        let (to, at) = (m.to, m.arrive_ms);
        let pick = |s: &Sim| -> Vec<nacos_raft_core::sim::TraceEvent> {
            let start = s.events().partition_point(|e| e.at_ms < at);
            s.events()[start..]
                .iter()
                .take_while(|e| e.at_ms == at)
                .filter(|e| e.node == to)
                .cloned()
                .collect()
        };
        if at <= self.cur.now() {
            return pick(&self.cur);
        }
        let mut ahead = self.cur.clone();
        for a in &self.actions[self.next_action..] {
            if a.at_ms > at {
                break;
            }
            ahead.run_until(a.at_ms);
            let _ = ahead.apply(a.action.clone());
        }
        ahead.run_until(at);
        pick(&ahead)
    }

    /// Forgets which violations were already reported (so that playing reports them again).
    pub fn set_violations_seen(&mut self, n: usize) {
        self.violations_seen = n;
    }
}

fn common_prefix(a: &[TimedAction], b: &[TimedAction]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::urlstate::RunSpec;
    use nacos_raft_core::PeerState;

    fn cfg(seed: u64) -> SimConfig {
        RunSpec::new(seed).sim_config()
    }

    fn fingerprint(s: &Sim) -> Vec<(Option<PeerState>, u64, usize)> {
        (0..s.len())
            .map(|i| {
                (
                    s.state(i),
                    s.node(i).map(|n| n.local().term).unwrap_or(0),
                    s.messages().len(),
                )
            })
            .collect()
    }

    #[test]
    fn a_campaign_link_opens_at_its_violation() {
        use nacos_raft_core::sim::campaign::Case;
        use nacos_raft_core::sim::TraceMode;
        // `make campaign` prints its shrunk cases as links; the first seeds with a violation,
        // opened the way `State::load` opens a link, must show the run the campaign saw.
        let mut checked = 0;
        for seed in 1..40 {
            let case = Case::generate(seed, [3, 5][seed as usize % 2], 600_000);
            let run = case.run(TraceMode::Off).unwrap();
            let Some(v) = run.violations().first().cloned() else {
                continue;
            };
            let spec = RunSpec::parse(&case.page_fragment(Some(v.at_ms)), 0).unwrap();
            let mut w = World::new(spec.sim_config(), spec.actions.clone()).unwrap();
            w.prefetch(spec.actions.last().map_or(0, |a| a.at_ms));
            w.seek(spec.at_ms.unwrap());
            let direct = Sim::replay(case.config(TraceMode::Off), &case.actions, v.at_ms).unwrap();
            assert_eq!(w.now(), v.at_ms);
            assert_eq!(w.sim().trace_hash(), direct.trace_hash(), "seed {seed}");
            assert!(w.sim().violations().contains(&v), "seed {seed}");
            checked += 1;
            if checked == 3 {
                return;
            }
        }
        panic!("fewer than 3 of the first seeds show a violation");
    }

    #[test]
    fn scrubbing_back_and_forth_matches_a_straight_replay() {
        let actions = vec![
            TimedAction {
                at_ms: 9_000,
                action: Action::Timeout { node: 1 },
            },
            TimedAction {
                at_ms: 40_000,
                action: Action::Crash { node: 2 },
            },
        ];
        let mut w = World::new(cfg(7), actions.clone()).unwrap();
        w.seek(90_000);
        let straight = Sim::replay(cfg(7), &actions, 90_000).unwrap();
        assert_eq!(w.sim().trace_hash(), straight.trace_hash());
        for t in [0, 8_999, 9_000, 33_333, 40_000, 41_000, 77_777, 12_345] {
            w.seek(t);
            let r = Sim::replay(cfg(7), &actions, t).unwrap();
            assert_eq!(w.now(), t);
            assert_eq!(w.sim().trace_hash(), r.trace_hash(), "at {t}");
            assert_eq!(fingerprint(w.sim()), fingerprint(&r), "at {t}");
        }
        assert!(w.checkpoints() > 5);
        assert_eq!(w.frontier_ms(), 90_000);
        w.seek(90_000);
        assert_eq!(w.sim().trace_hash(), straight.trace_hash());
    }

    #[test]
    fn playing_in_frames_equals_seeking() {
        let mut a = World::new(cfg(3), vec![]).unwrap();
        for _ in 0..600 {
            a.play(16.0, 20.0, true, 600.0, false);
        }
        let t = a.now();
        assert!(t > 1_000);
        let b = Sim::replay(cfg(3), &[], t).unwrap();
        assert_eq!(a.sim().trace_hash(), b.trace_hash());
    }

    #[test]
    fn slow_motion_slows_time_while_messages_fly() {
        let mut w = World::new(cfg(5), vec![]).unwrap();
        // Find the first message.
        while w.sim().messages().is_empty() {
            w.step();
        }
        assert!(w.messages_flying());
        let t = w.now();
        let r = w.play(100.0, 10.0, true, 600.0, false);
        assert!(r.speed < 0.1, "{r:?}");
        assert!(w.now() - t < 10, "slow motion moved {} ms", w.now() - t);
        let mut fast = World::new(cfg(5), vec![]).unwrap();
        fast.seek(t);
        fast.play(100.0, 10.0, false, 600.0, false);
        assert_eq!(fast.now(), t + 1_000);
        // At high speed, slow motion slows at most 300-fold.
        let r = w.play(100.0, 1000.0, true, 600.0, false);
        assert!(r.speed >= 1000.0 / 300.0 - 1e-9, "{r:?}");
    }

    #[test]
    fn step_stops_at_each_visible_change() {
        let mut w = World::new(cfg(9), vec![]).unwrap();
        let mut last = 0;
        let mut moments = 0;
        while w.sim().cluster_leader().is_none() {
            let t = w.step();
            assert!(t > last || t == 0, "{t} after {last}");
            last = t;
            moments += 1;
            assert!(moments < 500);
        }
        // An election needs at least: start, votes sent, votes arriving, answers arriving.
        assert!(moments >= 3, "{moments}");
        let p = w.previous_moment().unwrap();
        assert!(p < w.now());
    }

    #[test]
    fn acting_in_the_past_forks_and_the_old_branch_comes_back() {
        let mut w = World::new(cfg(11), vec![]).unwrap();
        w.seek(60_000);
        let leader = w.sim().cluster_leader().expect("a leader within 60 s");
        let original = w.sim().trace_hash();
        w.seek(30_000);
        w.act(Action::Crash { node: leader }).unwrap();
        assert_eq!(w.branches().len(), 1);
        assert_eq!(w.frontier_ms(), 30_000);
        assert_eq!(w.actions().len(), 1);
        w.seek(60_000);
        let forked = Sim::replay(cfg(11), w.actions(), 60_000).unwrap();
        assert_eq!(w.sim().trace_hash(), forked.trace_hash());
        assert_ne!(w.sim().trace_hash(), original);
        assert!(w
            .marks()
            .iter()
            .any(|m| m.kind == MarkKind::Crash && m.at_ms == 30_000));
        w.switch_branch(0);
        assert_eq!(w.actions().len(), 0);
        assert_eq!(w.now(), 60_000);
        assert_eq!(w.sim().trace_hash(), original);
        assert_eq!(w.branches().len(), 1);
        assert!(!w.marks().iter().any(|m| m.kind == MarkKind::Crash));
        w.switch_branch(0);
        assert_eq!(w.actions().len(), 1);
        assert_eq!(w.sim().trace_hash(), forked.trace_hash());
    }

    #[test]
    fn acting_at_the_frontier_does_not_fork() {
        let mut w = World::new(cfg(2), vec![]).unwrap();
        w.seek(5_000);
        w.act(Action::Timeout { node: 0 }).unwrap();
        w.seek(6_000);
        w.act(Action::Crash { node: 1 }).unwrap();
        assert!(w.branches().is_empty());
        assert_eq!(w.actions().len(), 2);
        assert!(w.act(Action::Crash { node: 1 }).is_err());
        assert_eq!(w.actions().len(), 2);
        w.seek(20_000);
        let r = Sim::replay(cfg(2), w.actions(), 20_000).unwrap();
        assert_eq!(w.sim().trace_hash(), r.trace_hash());
    }

    #[test]
    fn marks_cover_elections_leaders_crashes_and_violations() {
        let mut w = World::new(cfg(4), vec![]).unwrap();
        w.seek(40_000);
        assert!(w
            .marks()
            .iter()
            .any(|m| matches!(m.kind, MarkKind::Election { .. })));
        let l = w
            .marks()
            .iter()
            .find(|m| matches!(m.kind, MarkKind::Leader { .. }))
            .expect("a leader mark");
        assert_eq!(Some(l.at_ms), w.sim().first_leader_ms());
        // Scrubbing back keeps the marks of the future.
        let n = w.marks().len();
        w.seek(1_000);
        assert_eq!(w.marks().len(), n);
    }

    #[test]
    fn the_receiver_s_reaction_is_known_before_arrival() {
        let mut w = World::new(cfg(6), vec![]).unwrap();
        while !w
            .sim()
            .in_flight_at(w.now())
            .any(|m| m.kind == nacos_raft_core::MsgKind::Vote)
        {
            w.step();
        }
        let m = w
            .sim()
            .in_flight_at(w.now())
            .find(|m| m.kind == nacos_raft_core::MsgKind::Vote)
            .unwrap()
            .clone();
        let predicted = w.on_arrival(m.id);
        assert!(!predicted.is_empty());
        assert!(predicted
            .iter()
            .all(|e| e.node == m.to && e.at_ms == m.arrive_ms));
        assert!(predicted.iter().any(|e| matches!(
            e.what,
            Happening::Protocol(Event::VoteGranted { .. } | Event::VoteRefused { .. })
        )));
        // Predicting changes nothing, and the prediction comes true.
        let t = w.now();
        w.seek(m.arrive_ms);
        let key = |v: &[nacos_raft_core::sim::TraceEvent]| -> Vec<(u64, usize, Happening)> {
            v.iter()
                .map(|e| (e.at_ms, e.node, e.what.clone()))
                .collect()
        };
        assert_eq!(key(&w.on_arrival(m.id)), key(&predicted));
        assert!(t < w.now());
    }

    #[test]
    fn a_dropped_message_remembers_where_it_was_going() {
        let mut w = World::new(cfg(6), vec![]).unwrap();
        while w.sim().in_flight_at(w.now()).next().is_none() {
            w.step();
        }
        let m = w.sim().in_flight_at(w.now()).next().unwrap().clone();
        w.act(Action::Drop { msg: m.id }).unwrap();
        assert_eq!(w.planned_arrival(m.id), Some(m.arrive_ms));
        assert_eq!(w.sim().messages()[m.id as usize].fate, Fate::Dropped);
    }
}
