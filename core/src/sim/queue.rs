//! The event queue and the virtual clock: what happens next, in time order (ties in the order
//! scheduled), and the loop that runs it.

use super::{MsgId, Sim, Waiter};
use crate::{Failure, Timer};
use alloc::collections::BinaryHeap;
use alloc::vec::Vec;
use core::cmp::Reverse;

#[derive(Clone, Debug)]
pub(super) enum Ev {
    Tick { node: usize, inc: u32 },
    Arrive(MsgId),
    Fail { waiter: Waiter, failure: Failure },
    Timer { node: usize, inc: u32, timer: Timer },
    Check,
}

/// The pending events, earliest first, ties in the order scheduled. The heap holds only
/// `(time, sequence, slot)` and the events wait in `slots`: a pop moves an entry per heap level,
/// and an event (a failure carries an error text) is several times the size of an entry.
#[derive(Clone, Debug, Default)]
pub(super) struct Queue {
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
    slots: Vec<Option<Ev>>,
    free: Vec<u32>,
}

impl Queue {
    /// Schedules `ev` at `at`; `seq` (unique, increasing) orders events of the same time.
    pub(super) fn push(&mut self, at: u64, seq: u64, ev: Ev) {
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(ev);
                s
            }
            None => {
                self.slots.push(Some(ev));
                u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 pending events")
            }
        };
        self.heap.push(Reverse((at, seq, slot)));
    }

    /// The next event and its time.
    pub(super) fn pop(&mut self) -> Option<(u64, Ev)> {
        let Reverse((at, _, slot)) = self.heap.pop()?;
        let ev = self.slots[slot as usize]
            .take()
            .expect("a queued slot holds its event");
        self.free.push(slot);
        Some((at, ev))
    }

    /// When the next event happens.
    pub(super) fn next_at(&self) -> Option<u64> {
        self.heap.peek().map(|r| r.0 .0)
    }
}

impl Sim {
    /// Virtual time now, ms.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// When the next event happens.
    pub fn next_event_ms(&self) -> Option<u64> {
        self.queue.next_at()
    }

    /// Processes every event up to and including `t`, then sets the clock to `t`.
    pub fn run_until(&mut self, t: u64) {
        while self.queue.next_at().is_some_and(|at| at <= t) {
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
        let (at, ev) = self.queue.pop()?;
        self.now = at;
        self.stats.steps += 1;
        let (touched, synced) = match ev {
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
        self.queue.push(at, self.seq, ev);
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
