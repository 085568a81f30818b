//! Health of persistent instances, as Nacos 1.4.1 keeps it: in memory, never written by the
//! checker itself.
//!
//! - The leader checks every unmarked persistent instance with a TCP connect to `ip:port`
//!   (`healthcheck/TcpSuperSenseProcessor.java`; connect timeout 500 ms, `CONNECT_TIMEOUT_MS`).
//!   `HealthCheckCommon` decides (`HealthCheckCommon.java:96-200`): `checkTimes` (3) successes
//!   in a row make an instance healthy, 3 failures (timeouts, errors) unhealthy, and a refused
//!   connection (`ConnectException`: the host answered, nothing listens) unhealthy at once
//!   (`checkFailNow`).
//! - Every connect passes [`Egress::check`] first: under `--loopback-only` an instance outside
//!   127.0.0.0/8 (or named by a host name) is never contacted; it is logged once and left as
//!   it is. Host names are resolved only without `--loopback-only`, and only the name the
//!   instance was registered with.
//! - Followers learn the leader's verdicts as Java servers learn each other's
//!   (`ServiceManager.ServiceReporter`, `ServiceStatusSynchronizer`): every
//!   `serviceStatusSynchronizationPeriodMillis` (5 s), and right after a verdict changes, the
//!   leader posts the checksums of its services to `/nacos/v1/ns/service/status`; a member
//!   whose checksum differs fetches `/nacos/v1/ns/instance/statuses?key=` from it.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// The outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Connected.
    Ok,
    /// The connection was refused (`checkFailNow`).
    Refused,
    /// Timed out or failed otherwise (`checkFail`).
    Failed,
}

/// One instance's health state (`HealthCheckStatus` plus the instance's `healthy` and
/// `mockValid` flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstanceHealth {
    /// What `/instance/list` shows.
    pub healthy: bool,
    mock_valid: bool,
    ok: u32,
    fail: u32,
}

impl InstanceHealth {
    /// A state that starts from the stored (or synchronised) flag, with no check seen yet.
    pub fn new(healthy: bool) -> InstanceHealth {
        InstanceHealth {
            healthy,
            mock_valid: false,
            ok: 0,
            fail: 0,
        }
    }

    /// Applies one check result with `HealthCheckCommon`'s rules; returns whether `healthy`
    /// changed.
    pub fn apply(&mut self, outcome: Outcome, check_times: u32) -> bool {
        let before = self.healthy;
        match outcome {
            Outcome::Ok => {
                if !self.healthy || !self.mock_valid {
                    self.ok += 1;
                    if self.ok >= check_times {
                        self.healthy = true;
                        self.mock_valid = true;
                    }
                }
                self.fail = 0;
            }
            Outcome::Failed => {
                if self.healthy || self.mock_valid {
                    self.fail += 1;
                    if self.fail >= check_times {
                        self.healthy = false;
                        self.mock_valid = false;
                    }
                }
                self.ok = 0;
            }
            Outcome::Refused => {
                if self.healthy || self.mock_valid {
                    self.healthy = false;
                    self.mock_valid = false;
                }
                self.ok = 0;
            }
        }
        before != self.healthy
    }
}

/// The in-memory health of every persistent instance this node knows a verdict for, by
/// instance-list key and `ip:port:unknown:cluster`.
#[derive(Default)]
pub struct HealthTable {
    inner: Mutex<HashMap<String, HashMap<String, InstanceHealth>>>,
    /// Bumped whenever a verdict appears, changes or goes: answers computed from the table
    /// are cached under it.
    generation: AtomicU64,
}

impl HealthTable {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, HashMap<String, InstanceHealth>>> {
        // A panic while holding the lock cannot leave the map half-updated in a way that
        // matters (each entry is replaced whole), so a poisoned lock is used as it is.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current generation (see the field).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The verdicts of one service (`datum key → healthy`).
    pub fn of(&self, iplist_key: &str) -> HashMap<String, bool> {
        self.lock()
            .get(iplist_key)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.healthy)).collect())
            .unwrap_or_default()
    }

    /// Applies check results to one service; `stored` gives the flag an instance starts from.
    /// Returns whether any verdict changed.
    pub fn apply(
        &self,
        iplist_key: &str,
        results: &[(String, bool, Outcome)],
        check_times: u32,
    ) -> bool {
        let mut all = self.lock();
        let m = all.entry(iplist_key.to_string()).or_default();
        let (mut changed, mut added) = (false, false);
        for (datum_key, stored, outcome) in results {
            let h = m.entry(datum_key.clone()).or_insert_with(|| {
                added = true;
                InstanceHealth::new(*stored)
            });
            changed |= h.apply(*outcome, check_times);
        }
        if changed || added {
            self.bump();
        }
        changed
    }

    /// Sets verdicts learnt from the leader (`ServiceManager.updatedHealthStatus`).
    pub fn set(&self, iplist_key: &str, verdicts: &[(String, bool)]) -> bool {
        let mut all = self.lock();
        let m = all.entry(iplist_key.to_string()).or_default();
        let mut changed = false;
        for (k, healthy) in verdicts {
            match m.get_mut(k) {
                Some(h) if h.healthy == *healthy => {}
                Some(h) => {
                    *h = InstanceHealth::new(*healthy);
                    changed = true;
                }
                None => {
                    m.insert(k.clone(), InstanceHealth::new(*healthy));
                    changed = true;
                }
            }
        }
        if changed {
            self.bump();
        }
        changed
    }

    /// Forgets services and instances that no longer exist (`HealthCheckStatus.remv`).
    pub fn retain(&self, live: &HashMap<String, HashSet<String>>) {
        let mut all = self.lock();
        let before: usize = all.values().map(HashMap::len).sum();
        all.retain(|k, m| match live.get(k) {
            Some(keys) => {
                m.retain(|dk, _| keys.contains(dk));
                !m.is_empty()
            }
            None => false,
        });
        if all.values().map(HashMap::len).sum::<usize>() != before {
            self.bump();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_failures_make_unhealthy_three_successes_healthy() {
        let mut h = InstanceHealth::new(true);
        assert!(!h.apply(Outcome::Failed, 3));
        assert!(!h.apply(Outcome::Failed, 3));
        assert!(h.apply(Outcome::Failed, 3));
        assert!(!h.healthy);
        assert!(!h.apply(Outcome::Failed, 3), "no further change");
        assert!(!h.apply(Outcome::Ok, 3));
        assert!(!h.apply(Outcome::Ok, 3));
        assert!(h.apply(Outcome::Ok, 3));
        assert!(h.healthy);
    }

    #[test]
    fn a_success_resets_the_failure_count_and_the_other_way_round() {
        let mut h = InstanceHealth::new(true);
        h.apply(Outcome::Failed, 3);
        h.apply(Outcome::Failed, 3);
        h.apply(Outcome::Ok, 3);
        h.apply(Outcome::Failed, 3);
        h.apply(Outcome::Failed, 3);
        assert!(
            h.healthy,
            "two failures after a success are not three in a row"
        );
        let mut d = InstanceHealth::new(false);
        d.apply(Outcome::Ok, 3);
        d.apply(Outcome::Ok, 3);
        d.apply(Outcome::Failed, 3);
        d.apply(Outcome::Ok, 3);
        assert!(!d.healthy);
    }

    #[test]
    fn a_refused_connection_is_unhealthy_at_once() {
        let mut h = InstanceHealth::new(true);
        assert!(h.apply(Outcome::Refused, 3));
        assert!(!h.healthy);
    }

    #[test]
    fn the_table_forgets_what_is_gone() {
        let t = HealthTable::default();
        assert!(t.apply(
            "k",
            &[
                ("a".into(), true, Outcome::Refused),
                ("b".into(), true, Outcome::Ok)
            ],
            3
        ));
        assert_eq!(t.of("k").get("a"), Some(&false));
        assert_eq!(t.of("k").get("b"), Some(&true));
        let mut live = HashMap::new();
        live.insert("k".to_string(), HashSet::from(["b".to_string()]));
        t.retain(&live);
        assert_eq!(t.of("k").len(), 1);
        assert!(t.set("k", &[("b".into(), false)]));
        assert!(!t.set("k", &[("b".into(), false)]));
        t.retain(&HashMap::new());
        assert!(t.of("k").is_empty());
    }
}
