//! The event queue and the virtual clock: what happens next, in time order (ties in the order
//! scheduled), and the loop that runs it.

use super::{MsgId, Sim, Waiter};
use crate::{Failure, Timer};
use core::cmp::{Ordering, Reverse};

#[derive(Clone, Debug)]
pub(super) enum Ev {
    Tick { node: usize, inc: u32 },
    Arrive(MsgId),
    Fail { waiter: Waiter, failure: Failure },
    Timer { node: usize, inc: u32, timer: Timer },
    Check,
}

#[derive(Clone, Debug)]
pub(super) struct Scheduled {
    pub(super) at: u64,
    pub(super) seq: u64,
    pub(super) ev: Ev,
}

impl PartialEq for Scheduled {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

impl Sim {
    /// Virtual time now, ms.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// When the next event happens.
    pub fn next_event_ms(&self) -> Option<u64> {
        self.queue.peek().map(|s| s.0.at)
    }

    /// Processes every event up to and including `t`, then sets the clock to `t`.
    pub fn run_until(&mut self, t: u64) {
        while self.queue.peek().is_some_and(|s| s.0.at <= t) {
            self.step();
        }
        self.now = self.now.max(t);
    }

    /// Runs event by event until `done` holds (checked after every step) or `within_ms` of
    /// virtual time have passed; returns whether `done` held.
    pub fn run_for(&mut self, within_ms: u64, mut done: impl FnMut(&Sim) -> bool) -> bool {
        let limit = self.now + within_ms;
        while !done(self) {
            match self.next_event_ms() {
                Some(t) if t <= limit => {
                    self.step();
                }
                _ => {
                    self.run_until(limit);
                    return done(self);
                }
            }
        }
        true
    }

    /// The cluster leader, if every running node believes in it (its first beat has landed).
    pub fn settled_leader(&self) -> Option<usize> {
        let l = self.cluster_leader()?;
        let a = self.addr(l);
        (0..self.len())
            .all(|i| self.node(i).is_none_or(|n| n.leader() == Some(a)))
            .then_some(l)
    }

    /// Processes the next event; returns its time.
    pub fn step(&mut self) -> Option<u64> {
        let Reverse(s) = self.queue.pop()?;
        self.now = s.at;
        self.stats.steps += 1;
        let (touched, synced) = match s.ev {
            Ev::Tick { node, inc } => self.on_tick(node, inc),
            Ev::Arrive(id) => self.on_arrive(id),
            Ev::Fail { waiter, failure } => self.on_fail(waiter, failure),
            Ev::Timer { node, inc, timer } => self.on_timer(node, inc, timer),
            Ev::Check => {
                self.check_convergence();
                let hb = self.cfg.timings.heartbeat_ms;
                self.schedule(self.now + hb, Ev::Check);
                (None, false)
            }
        };
        self.observe(touched, synced);
        Some(self.now)
    }

    pub(super) fn schedule(&mut self, at: u64, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            ev,
        }));
    }

    pub(super) fn on_tick(&mut self, i: usize, inc: u32) -> (Option<usize>, bool) {
        if self.nodes[i].incarnation != inc || self.nodes[i].node.is_none() {
            return (None, false);
        }
        let tick = self.cfg.timings.tick_ms;
        self.schedule(self.now + tick, Ev::Tick { node: i, inc });
        self.with_node(i, |n| n.tick())
    }

    pub(super) fn on_timer(&mut self, i: usize, inc: u32, timer: Timer) -> (Option<usize>, bool) {
        if self.nodes[i].incarnation != inc || self.nodes[i].node.is_none() {
            return (None, false);
        }
        self.with_node(i, |n| n.on_timer(timer))
    }
}
