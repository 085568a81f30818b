//! The network model: latency range, loss, and directed cuts between nodes.

use alloc::vec;
use alloc::vec::Vec;

/// Links between `n` nodes. A cut `from → to` blocks messages in that direction only.
#[derive(Clone, Debug)]
pub struct Net {
    n: usize,
    cut: Vec<bool>,
    /// Inclusive latency range of one message, in ms.
    pub latency_ms: (u64, u64),
    /// Probability of losing one message, in parts per million.
    pub loss_ppm: u32,
}

impl Net {
    pub(crate) fn new(n: usize, latency_ms: (u64, u64), loss_ppm: u32) -> Net {
        Net {
            n,
            cut: vec![false; n * n],
            latency_ms,
            loss_ppm,
        }
    }

    /// Whether messages from `from` to `to` are blocked.
    pub fn is_cut(&self, from: usize, to: usize) -> bool {
        self.cut[from * self.n + to]
    }

    pub(crate) fn set_cut(&mut self, from: usize, to: usize, cut: bool) {
        if from != to {
            self.cut[from * self.n + to] = cut;
        }
    }

    /// Cuts every link of `node`, both ways.
    pub(crate) fn isolate(&mut self, node: usize) {
        for other in 0..self.n {
            self.set_cut(node, other, true);
            self.set_cut(other, node, true);
        }
    }

    /// Cuts every link between nodes of different groups and heals links within a group.
    pub(crate) fn partition(&mut self, groups: &[u8]) {
        for a in 0..self.n {
            for b in 0..self.n {
                let ga = groups.get(a).copied().unwrap_or(0);
                let gb = groups.get(b).copied().unwrap_or(0);
                self.set_cut(a, b, ga != gb);
            }
        }
    }

    pub(crate) fn heal_all(&mut self) {
        self.cut.iter_mut().for_each(|c| *c = false);
    }

    /// Any cut or loss in effect.
    pub fn has_faults(&self) -> bool {
        self.loss_ppm > 0 || self.cut.iter().any(|c| *c)
    }

    /// Directed cuts currently in effect, as `(from, to)`.
    pub fn cuts(&self) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        for a in 0..self.n {
            for b in 0..self.n {
                if self.is_cut(a, b) {
                    v.push((a, b));
                }
            }
        }
        v
    }
}
