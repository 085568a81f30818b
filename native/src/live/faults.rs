//! The faults a viewer may switch on with `--faults` (`docs/live.md`): cuts, isolation, loss and
//! latency applied at this node's own HTTP client and server edges, and the crash flag. Only
//! the state and its checks live here; the edges that apply them are in `edge.rs`, the API that
//! changes them in `api.rs`, crash and restart in `life.rs`.

use serde::Serialize;
use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// The largest latency a viewer may add (ms): beyond it a request would outlive every timeout.
pub const MAX_LATENCY_MS: u64 = 60_000;

/// The active faults, as the API answers them and the stream shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FaultView {
    /// Whether the node was started with `--faults`.
    pub enabled: bool,
    /// Crashed by the API (not serving, not sending, memory dropped).
    pub crashed: bool,
    /// Peers this node's requests are not sent to.
    pub cut_out: BTreeSet<String>,
    /// Peers whose requests this node never answers.
    pub cut_in: BTreeSet<String>,
    /// Percentage of requests dropped in both directions.
    pub loss_pct: u8,
    /// Added latency range (ms) of outgoing requests and answers.
    pub latency_ms: Option<Latency>,
}

/// A uniform latency range in ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Latency {
    /// Smallest delay.
    pub min: u64,
    /// Largest delay.
    pub max: u64,
}

/// What an edge does with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Let it through after this delay.
    Pass(Duration),
    /// Drop it (a cut link).
    Cut,
    /// Drop it (loss).
    Lost,
    /// The node is crashed: nothing is sent, connections are reset.
    Crashed,
}

/// The fault state of one node, shared by its edges. When nothing is active (always, without
/// `--faults`) every check is one atomic load.
#[derive(Debug, Default)]
pub struct Faults {
    active: AtomicBool,
    state: Mutex<FaultView>,
}

impl Faults {
    /// No fault active; `enabled` records `--faults`.
    pub fn new(enabled: bool) -> Faults {
        Faults {
            active: AtomicBool::new(false),
            state: Mutex::new(FaultView {
                enabled,
                ..FaultView::default()
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, FaultView> {
        // A panic while holding this lock leaves a consistent value behind (plain fields).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current faults.
    pub fn view(&self) -> FaultView {
        self.lock().clone()
    }

    /// Whether `--faults` is on.
    pub fn enabled(&self) -> bool {
        self.lock().enabled
    }

    /// Whether any fault is active (cheap; the edges check it first).
    pub fn any(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    /// Whether the node is crashed.
    pub fn crashed(&self) -> bool {
        self.any() && self.lock().crashed
    }

    /// Changes the faults with `f` and returns the result.
    pub fn update(&self, f: impl FnOnce(&mut FaultView)) -> FaultView {
        let mut s = self.lock();
        f(&mut s);
        let any = s.crashed
            || !s.cut_out.is_empty()
            || !s.cut_in.is_empty()
            || s.loss_pct > 0
            || s.latency_ms.is_some();
        self.active.store(any, Ordering::Release);
        s.clone()
    }

    /// The fate of a request this node sends to `to`.
    pub fn outbound(&self, to: &str) -> Verdict {
        if !self.any() {
            return Verdict::Pass(Duration::ZERO);
        }
        let s = self.lock();
        if s.crashed {
            Verdict::Crashed
        } else if s.cut_out.contains(to) {
            Verdict::Cut
        } else {
            Self::roll(&s)
        }
    }

    /// The fate of a request from `from` (`None`: not a member this node can name) arriving at
    /// this node's server.
    pub fn inbound(&self, from: Option<&str>) -> Verdict {
        if !self.any() {
            return Verdict::Pass(Duration::ZERO);
        }
        let s = self.lock();
        if s.crashed {
            Verdict::Crashed
        } else if from.is_some_and(|f| s.cut_in.contains(f)) {
            Verdict::Cut
        } else {
            Self::roll(&s)
        }
    }

    /// Whether a cut of incoming requests is active (the server edge then identifies senders
    /// that do not name themselves in a header).
    pub fn cuts_in(&self) -> bool {
        self.any() && !self.lock().cut_in.is_empty()
    }

    fn roll(s: &FaultView) -> Verdict {
        if s.loss_pct > 0 && random_below(100) < u64::from(s.loss_pct) {
            return Verdict::Lost;
        }
        match s.latency_ms {
            Some(l) => Verdict::Pass(Duration::from_millis(
                l.min + random_below(l.max - l.min + 1),
            )),
            None => Verdict::Pass(Duration::ZERO),
        }
    }
}

/// Uniform in `[0, n)` from the standard library's randomly keyed hasher (loss and latency need
/// no reproducibility, only independence from the protocol's own seeded jitter).
fn random_below(n: u64) -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n);
    h.finish() % n.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_active_until_a_fault_is_set_and_everything_heals() {
        let f = Faults::new(true);
        assert!(!f.any());
        assert_eq!(f.outbound("a:1"), Verdict::Pass(Duration::ZERO));
        f.update(|s| {
            s.cut_out.insert("a:1".into());
            s.cut_in.insert("b:1".into());
        });
        assert!(f.any() && f.cuts_in());
        assert_eq!(f.outbound("a:1"), Verdict::Cut);
        assert_eq!(f.outbound("b:1"), Verdict::Pass(Duration::ZERO));
        assert_eq!(f.inbound(Some("b:1")), Verdict::Cut);
        assert_eq!(f.inbound(None), Verdict::Pass(Duration::ZERO));
        f.update(|s| s.latency_ms = Some(Latency { min: 5, max: 7 }));
        for _ in 0..50 {
            match f.outbound("c:1") {
                Verdict::Pass(d) => assert!((5..=7).contains(&(d.as_millis() as u64))),
                v => panic!("{v:?}"),
            }
        }
        f.update(|s| s.loss_pct = 100);
        assert_eq!(f.outbound("c:1"), Verdict::Lost);
        f.update(|s| s.crashed = true);
        assert!(f.crashed());
        assert_eq!(f.inbound(None), Verdict::Crashed);
        let v = f.update(|s| {
            *s = FaultView {
                enabled: s.enabled,
                ..FaultView::default()
            }
        });
        assert!(v.enabled && !f.any() && !f.crashed());
    }

    #[test]
    fn loss_drops_about_its_share() {
        let f = Faults::new(true);
        f.update(|s| s.loss_pct = 30);
        let lost = (0..10_000)
            .filter(|_| f.inbound(None) == Verdict::Lost)
            .count();
        assert!((2_500..3_500).contains(&lost), "{lost}");
    }
}
