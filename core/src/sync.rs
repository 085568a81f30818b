//! Beat-driven data sync: the second part of `receivedBeat` and its datum-fetch callback
//! (docs/nacos-protocol.md §7). The leader's key list is authoritative: newer keys are fetched in
//! batches, keys it did not list are deleted at once.

use crate::event::Event;
use crate::key;
use crate::message::{Failure, RaftError, Request, Response};
use crate::naming;
use crate::node::{Node, Pending};
use crate::output::{Output, Persist, Timer};
use crate::publish::REPAIR_DELETED;
use crate::{BeatDatum, BeatPacket, Datum, Fix};
use alloc::collections::{BTreeSet, VecDeque};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::cmp::Ordering;

/// Fetch answers waiting for the 200 ms pause after the previous one (or for the lock).
#[derive(Clone, Debug, Default)]
pub(crate) struct SyncPacer {
    paused: bool,
    queue: VecDeque<(String, u64, u64, Vec<Option<Datum>>)>,
}

impl SyncPacer {
    pub(crate) fn waiting(&self) -> usize {
        self.queue.len()
    }
}

impl Node {
    /// Walks the beat's list. A key is fetched when the local copy is missing or older; batches
    /// go out when they reach `sync_batch` keys or at the last entry, without waiting for the
    /// answers. Then every local key the beat did not list is deleted (the dead-key rule).
    ///
    /// `Ok(true)`: this node already held every listed key at the listed timestamp (nothing to
    /// fetch, nothing held newer, nothing kept), so it holds what the leader held at the beat.
    pub(crate) fn sync_from_beat(&mut self, packet: &BeatPacket) -> Result<bool, RaftError> {
        let from = &packet.peer.ip;
        let beat_term = packet.peer.term;
        // The same list (shared, or equal) against an unchanged map: the last walk of it found
        // nothing to fetch and already deleted the dead keys, so this one would do nothing.
        if let Some((version, list)) = &self.synced_list {
            if *version == self.datums_version && *list == packet.datums {
                return Ok(true);
            }
        }
        let delta = if crate::beat::INCREMENTAL {
            self.delta_walk(&packet.datums)
        } else {
            None
        };
        let (walk, ordered) = match delta {
            Some(walk) => (walk, true),
            None => (self.full_walk(&packet.datums), false),
        };
        let Walk {
            fetches,
            keyless,
            mut ahead,
            mut unstable,
            newer_here,
            dead,
        } = walk;
        let repairs = self.cfg.rules.has(Fix::DeadKey);
        let nothing_to_fetch = fetches.is_empty();
        let kept = kept_any(repairs, &dead, &ahead);
        // `Fix::StaleCandidate`: once these fetches are applied this node holds what the leader
        // held at the beat, unless it keeps or holds newer keys (then only a later beat tells).
        let beat = self.position_fetching(
            packet.peer.position,
            fetches.len(),
            keyless || kept || newer_here,
        );
        for keys in fetches {
            self.event(Event::SyncFetch {
                from: from.clone(),
                keys: keys.len(),
            });
            self.send(
                from,
                Request::GetDatums(keys),
                Pending::Fetch { beat_term, beat },
            );
        }
        if kept {
            // Kept against this list: the next pass looks at them again.
            unstable.extend(dead.iter().cloned());
            // The fix: a key the leader did not list may be a write it never got (#3652), or a
            // delete this node missed. Only the leader can tell (it keeps tombstones): keep the
            // key and send it there as a repair, as every key held newer than the leader's.
            ahead.extend(dead);
            // Not the keys committed here after the leader built this list: it holds them.
            // Under `wrk -c 32` they were a third of the leader's requests (issue 13).
            let at = packet.peer.position;
            ahead.retain(|k| !self.position_listed_later(k, at));
            self.repair(from, ahead);
        } else {
            for k in dead {
                self.delete_datum(&k);
                self.event(Event::DeadKeyDeleted { key: k });
            }
        }
        self.position_beat_walked(packet.peer.position);
        if nothing_to_fetch && !keyless && !kept && !newer_here {
            self.synced_list = Some((self.datums_version, packet.datums.clone()));
        }
        self.remember_sync(
            &packet.datums,
            keyless
                || packet.datums.len() < crate::beat::PATCH_MIN_KEYS
                || !(ordered || in_order(&packet.datums)),
            unstable,
        );
        if keyless {
            // The NullPointerException has no message: Nacos answers 500 with an empty body.
            return Err(RaftError::server(""));
        }
        Ok(nothing_to_fetch && !kept && !newer_here)
    }

    /// Walks the whole list against a sorted snapshot of the local keys. A leader whose map is
    /// ordered like ours lists its keys in our order, so a cursor finds each one in O(1); other
    /// orders (Java's hash order) fall back to a binary search. Either way no key is allocated
    /// unless it must be fetched (or is held at another timestamp).
    fn full_walk(&self, list: &[BeatDatum]) -> Walk {
        let total = list.len();
        let limit = self.cfg.sync_batch;
        let repairs = self.cfg.rules.has(Fix::DeadKey);
        // Only a pass the next one may start from needs its unstable keys.
        let remembered = total >= crate::beat::PATCH_MIN_KEYS;
        let local: Vec<(&str, u64)> = self
            .datums
            .iter()
            .map(|(k, d)| (k.as_str(), d.timestamp))
            .collect();
        let mut seen = vec![false; local.len()];
        let mut cursor = 0;
        let mut batch: Vec<String> = Vec::new();
        let mut walk = Walk::default();
        for (i, entry) in list.iter().enumerate() {
            if entry.key.is_empty() {
                // RaftCore 773: `entry.get("key").asText()` throws a NullPointerException: the
                // batches already flushed were sent, the rest (and the dead-key pass) never run.
                walk.keyless = true;
                break;
            }
            let last = i + 1 == total;
            // Nacos skips ("ignore corrupted key") entries that are neither meta nor iplist.
            let Some(head) = key::detail_head(&entry.key) else {
                continue;
            };
            let found = if local
                .get(cursor)
                .is_some_and(|(k, _)| key::is_joined(k, head, &entry.key))
            {
                Some(cursor)
            } else {
                local
                    .binary_search_by(|(k, _)| key::cmp_joined(k, head, &entry.key))
                    .ok()
            };
            if let Some(j) = found {
                cursor = j + 1;
                seen[j] = true;
            }
            let up_to_date = found.is_some_and(|j| local[j].1 >= entry.timestamp);
            walk.newer_here |= found.is_some_and(|j| local[j].1 > entry.timestamp);
            if let Some(j) = found.filter(|j| repairs && local[*j].1 > entry.timestamp) {
                // A write the leader never got (it was elected without it, or the commit reached
                // this node only): the leader's list will never fetch it here, so without a
                // repair the two copies differ for ever. The newest write of a key wins.
                walk.ahead.push(String::from(local[j].0));
            }
            if remembered && found.is_none_or(|j| local[j].1 != entry.timestamp) {
                walk.unstable.push(joined(head, &entry.key));
            }
            if up_to_date && !last {
                continue;
            }
            if !up_to_date {
                batch.push(joined(head, &entry.key));
            }
            if batch.len() < limit && !last {
                continue;
            }
            if !batch.is_empty() {
                walk.fetches.push(core::mem::take(&mut batch));
            }
        }
        if !walk.keyless {
            walk.dead = local
                .iter()
                .zip(&seen)
                .filter(|(_, s)| !**s)
                .map(|((k, _), _)| String::from(*k))
                .collect();
        }
        walk
    }

    /// What [`full_walk`](Self::full_walk) gives, from the entries that differ from the list of
    /// the last pass and the keys that changed here since (issue 13), or `None` when the lists
    /// do not allow it. Work and allocations follow those, not the number of keys.
    ///
    /// Why it is the same outcome: after the last pass over list L0, every local key is either
    /// *stable* (listed in L0 at exactly its local timestamp) or in `recheck` (listed at another
    /// timestamp, not found, or held unlisted and kept), and every change to the map since is in
    /// `sync_changes`. Both lists hold only entries that name a key, in strictly increasing key
    /// order (checked here for the new one), so a key is listed at most once and is found by a
    /// binary search. An entry of the new list that equals L0's entry of its key, for a key in
    /// neither set, is a stable key with an unchanged timestamp: the full walk finds it up to
    /// date and fetches, repairs and marks nothing for it; its only effect (flushing the batch at
    /// the last entry) is the flush at the end here. A local key in neither set and not removed
    /// from the list is listed, so it is not dead. Everything else is walked as the full walk
    /// walks it, in the list's order; dead keys come out in the map's order.
    fn delta_walk(&self, list: &Arc<Vec<BeatDatum>>) -> Option<Walk> {
        let state = self.sync_state.as_ref()?;
        let old = &state.list;
        // Indices in the new list of the entries to walk, and old entries no longer listed.
        let mut walked: Vec<usize> = Vec::new();
        let mut removed: Vec<&BeatDatum> = Vec::new();
        if !Arc::ptr_eq(old, list) {
            let (mut i, mut j) = (0, 0);
            // Whether the new list's previous entry was an unchanged one.
            let mut prev_same = false;
            loop {
                let (a, b) = (old.get(i), list.get(j));
                let same = match (a, b) {
                    (None, None) => break,
                    (Some(a), None) => {
                        removed.push(a);
                        i += 1;
                        continue;
                    }
                    (Some(a), Some(b)) => a == b,
                    (None, Some(_)) => false,
                };
                let b = &list[j];
                // Two unchanged entries in a row are in order as they were in L0; any other
                // pair is compared (and an entry that names no key stops here).
                if !same && !names_key(b) {
                    return None;
                }
                if j > 0 && !(same && prev_same) && cmp_listed(&list[j - 1], b) != Ordering::Less {
                    return None;
                }
                if same {
                    i += 1;
                } else {
                    match a.map(|a| cmp_listed(a, b)) {
                        Some(Ordering::Less) => {
                            removed.push(&old[i]);
                            i += 1;
                            // `b` is compared again with the next old entry.
                            continue;
                        }
                        Some(Ordering::Equal) => i += 1,
                        Some(Ordering::Greater) | None => {}
                    }
                    walked.push(j);
                }
                prev_same = same;
                j += 1;
            }
        }
        let here = |k: &str| {
            list.binary_search_by(|e| match key::detail_head(&e.key) {
                Some(head) => key::cmp_joined(k, head, &e.key).reverse(),
                None => Ordering::Less,
            })
            .ok()
        };
        let touched = || {
            state
                .recheck
                .iter()
                .map(String::as_str)
                .chain(self.sync_changes.iter().map(|k| k.as_str()))
        };
        walked.extend(touched().filter_map(here));
        walked.sort_unstable();
        walked.dedup();

        let limit = self.cfg.sync_batch;
        let repairs = self.cfg.rules.has(Fix::DeadKey);
        let mut batch: Vec<String> = Vec::new();
        let mut walk = Walk::default();
        for j in walked {
            let entry = &list[j];
            let head = key::detail_head(&entry.key)?;
            let full = joined(head, &entry.key);
            let local = self.datums.get(full.as_str()).map(|d| d.timestamp);
            let up_to_date = local.is_some_and(|t| t >= entry.timestamp);
            walk.newer_here |= local.is_some_and(|t| t > entry.timestamp);
            if repairs && local.is_some_and(|t| t > entry.timestamp) {
                walk.ahead.push(full.clone());
            }
            if local != Some(entry.timestamp) {
                walk.unstable.push(full.clone());
            }
            if !up_to_date {
                batch.push(full);
                if batch.len() >= limit {
                    walk.fetches.push(core::mem::take(&mut batch));
                }
            }
        }
        if !batch.is_empty() {
            walk.fetches.push(batch);
        }
        let mut dead: Vec<String> = removed
            .iter()
            .filter_map(|e| key::detail_head(&e.key).map(|h| joined(h, &e.key)))
            .chain(touched().map(String::from))
            .filter(|k| self.datums.contains_key(k.as_str()) && here(k).is_none())
            .collect();
        dead.sort_unstable();
        dead.dedup();
        walk.dead = dead;
        Some(walk)
    }

    /// Remembers the pass just made over `list` for the next [`delta_walk`](Self::delta_walk),
    /// unless `full_next`: a list in Java's hash order, or one the pass stopped in, is walked in
    /// full next time.
    fn remember_sync(&mut self, list: &Arc<Vec<BeatDatum>>, full_next: bool, recheck: Vec<String>) {
        self.sync_changes.clear();
        self.sync_state = (crate::beat::INCREMENTAL && !full_next).then(|| SyncState {
            list: list.clone(),
            recheck: recheck.into_iter().collect(),
        });
    }

    /// Sends each kept key that has no repair in flight to the leader `to` ([`Fix::DeadKey`]).
    fn repair(&mut self, to: &str, keys: Vec<String>) {
        for k in keys {
            let Some(d) = self.datums.get(&k) else {
                continue;
            };
            let (Some(value), timestamp) = (d.value.clone(), d.timestamp) else {
                continue;
            };
            if self.repairing.contains_key(&k) {
                continue;
            }
            self.repairing.insert(k.as_str().into(), timestamp);
            let request = Request::Repair {
                key: k.clone(),
                value,
                timestamp,
            };
            self.send(to, request, Pending::Repair { key: k, timestamp });
        }
    }

    /// The leader's answer to a repair: refused because it deleted the key → the copy goes,
    /// unless it was written again since; anything else → tried again at a later beat.
    pub(crate) fn repair_answered(
        &mut self,
        to: &str,
        k: &str,
        timestamp: u64,
        result: Result<Response, Failure>,
    ) {
        self.repairing.remove(k);
        match result {
            Ok(_) => {}
            Err(Failure::Status(e))
                if e.message.contains(REPAIR_DELETED)
                    || e.message.contains(crate::publish::REPAIR_UNACKNOWLEDGED) =>
            {
                if self.datums.get(k).is_some_and(|d| d.timestamp == timestamp) {
                    self.bury(k, timestamp);
                    self.delete_datum(k);
                    self.event(Event::DeadKeyDeleted { key: k.into() });
                }
            }
            Err(f) => self.request_failed(to, "repair", f.to_string()),
        }
    }

    pub(crate) fn fetch_answered(
        &mut self,
        from: &str,
        beat_term: u64,
        beat: u64,
        result: Result<Response, Failure>,
    ) {
        match result {
            Ok(Response::Datums(list)) => {
                self.sync
                    .queue
                    .push_back((from.into(), beat_term, beat, list));
                self.pump_sync();
            }
            Ok(_) => {
                self.position_fetched(beat, false);
                self.request_failed(from, "datum fetch", "unexpected answer".into())
            }
            Err(f) => {
                self.position_fetched(beat, false);
                self.request_failed(from, "datum fetch", f.to_string())
            }
        }
    }

    pub(crate) fn sync_pause_over(&mut self) {
        self.sync.paused = false;
        self.pump_sync();
    }

    /// Applies the next waiting fetch answer unless paused or the write lock is held (Nacos
    /// applies each datum under `OPERATE_LOCK`). Under [`Fix::GlobalLock`] it does not wait:
    /// a fetched datum is applied only when newer than the local copy, whatever runs meanwhile,
    /// and a steady stream of writes must not starve the sync.
    pub(crate) fn pump_sync(&mut self) {
        let waits = self.lock.is_held() && !self.cfg.rules.has(Fix::GlobalLock);
        if self.sync.paused || waits {
            return;
        }
        let Some((from, beat_term, beat, list)) = self.sync.queue.pop_front() else {
            return;
        };
        let whole = self.apply_fetched(&from, beat_term, list);
        self.position_fetched(beat, whole);
        if self.cfg.sync_pause_ms > 0 {
            self.sync.paused = true;
            self.out.push(Output::SetTimer {
                timer: Timer::SyncPause,
                after_ms: self.cfg.sync_pause_ms,
            });
        } else {
            self.pump_sync();
        }
    }

    /// The fetch callback: per datum, skip it unless newer than the local copy and non-empty;
    /// otherwise write it, reset the leader due and apply the +100 rule against the beat's term.
    /// Whether every datum is now held at least as new (none skipped as empty, untyped or
    /// unparsable, none missing from the answer).
    fn apply_fetched(&mut self, from: &str, beat_term: u64, list: Vec<Option<Datum>>) -> bool {
        let mut whole = true;
        for d in list {
            let Some(d) = d else {
                whole = false;
                continue;
            };
            if let Some(old) = self.datums.get(&d.key) {
                if d.timestamp <= old.timestamp {
                    self.event(Event::DatumSkipped {
                        key: d.key,
                        reason: "not newer than the local copy".into(),
                    });
                    continue;
                }
            }
            // Nacos types the value by key (iplist → Instances, any meta → Service); other keys
            // and null values are "receive null datum".
            let typed = key::is_meta(&d.key) || key::is_iplist(&d.key);
            if !typed || d.value.as_ref().is_none_or(|v| v.is_null()) {
                whole = false;
                self.event(Event::DatumSkipped {
                    key: d.key,
                    reason: "empty or untyped datum".into(),
                });
                continue;
            }
            // The value is parsed the same way, meta first: the switch datum (a meta key) is read
            // as a `Service` here. A value that does not parse throws inside the loop; Nacos logs
            // "failed to sync datum from leader" and goes on with the next datum.
            let kind = if key::is_meta(&d.key) {
                key::KeyKind::Meta
            } else {
                key::KeyKind::Iplist
            };
            let checked = match d.value.as_ref() {
                Some(v) => naming::check_json(kind, v, naming::java_class(kind)),
                None => naming::check_value(kind, "null", naming::java_class(kind)),
            };
            if let Err(e) = checked {
                whole = false;
                self.event(Event::DatumSkipped {
                    key: d.key,
                    reason: format!("failed to sync datum from leader: {e}").into(),
                });
                continue;
            }
            let (k, ts) = (d.key.clone(), d.timestamp);
            self.persist(Persist::Datum(d.clone()));
            self.store_datum(d);
            self.reset_leader_due();
            self.follow_term(beat_term);
            self.persist_term();
            let term = self.peers.local().term;
            self.event(Event::DatumApplied {
                key: k,
                timestamp: ts,
                from: from.into(),
                term,
            });
        }
        whole
    }

    /// `deleteDatum`: drop from memory and, when the key has a namespace, from disk.
    /// Keeps (and persists) a tombstone for `k` at `at` or above the one it has.
    pub(crate) fn bury(&mut self, k: &str, at: u64) {
        let at = at.max(self.tombstones.get(k).copied().unwrap_or(0));
        self.tombstones.insert(k.into(), at);
        self.persist(Persist::Tombstone { key: k.into(), at });
    }

    pub(crate) fn delete_datum(&mut self, k: &str) -> bool {
        let existed = self.datums.remove(k).is_some();
        if existed {
            self.touch(k);
        }
        if existed && !key::namespace(k).is_empty() {
            self.persist(Persist::Remove { key: k.into() });
        }
        existed
    }

    /// Stores a datum, as every path that notifies Nacos' listeners does (publish, commit,
    /// sync, start-up): the switch datum updates `sendBeatOnly` (`SwitchManager.onChange`).
    pub(crate) fn store_datum(&mut self, d: Datum) {
        if key::kind(&d.key) == Some(key::KeyKind::Switch) {
            if let Some(on) = d.value.as_ref().and_then(switch_send_beat_only) {
                self.send_beat_only = on;
            }
        }
        if self
            .tombstones
            .get(&d.key)
            .is_some_and(|t| *t < d.timestamp)
        {
            // Written again after the delete: the tombstone is history.
            self.tombstones.remove(&d.key);
        }
        self.touch(&d.key);
        self.datums.insert(d.key.as_str().into(), d);
    }
}

/// What a pass over a beat's list found.
#[derive(Default)]
struct Walk {
    /// The fetch batches, in the list's order.
    fetches: Vec<Vec<String>>,
    /// Whether an entry without a key stopped the pass (no dead keys then).
    keyless: bool,
    /// Under [`Fix::DeadKey`]: keys held newer here than listed.
    ahead: Vec<String>,
    /// Listed keys not held here at exactly the listed timestamp.
    unstable: Vec<String>,
    /// Whether some key is held newer here than listed (a different write of it).
    newer_here: bool,
    /// Local keys the list does not name, in the map's order.
    dead: Vec<String>,
}

/// The last pass over a beat's list, for [`Node::delta_walk`].
#[derive(Clone, Debug)]
pub(crate) struct SyncState {
    list: Arc<Vec<BeatDatum>>,
    /// Local keys that were not stable after that pass (see [`Node::delta_walk`]).
    recheck: BTreeSet<String>,
}

impl SyncState {
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }
}

/// Whether the entry names a key the receiver rebuilds (meta or instance list).
fn names_key(e: &BeatDatum) -> bool {
    !e.key.is_empty() && key::detail_head(&e.key).is_some()
}

/// Whether every entry names a key, in strictly increasing key order (what
/// [`Node::delta_walk`] needs of the last list).
fn in_order(list: &[BeatDatum]) -> bool {
    list.iter().all(names_key)
        && list
            .windows(2)
            .all(|w| cmp_listed(&w[0], &w[1]) == Ordering::Less)
}

/// Two entries that name keys, in the order of the keys they name.
fn cmp_listed(a: &BeatDatum, b: &BeatDatum) -> Ordering {
    let (ha, hb) = (
        key::detail_head(&a.key).unwrap_or(""),
        key::detail_head(&b.key).unwrap_or(""),
    );
    if ha == hb {
        return a.key.as_bytes().cmp(b.key.as_bytes());
    }
    let x = ha.bytes().chain(a.key.bytes());
    x.cmp(hb.bytes().chain(b.key.bytes()))
}

/// The full key a receiver rebuilds from a brief one.
fn joined(head: &str, brief: &str) -> String {
    let mut full = String::with_capacity(head.len() + brief.len());
    full.push_str(head);
    full.push_str(brief);
    full
}

/// Whether the beat pass keeps keys against the leader's list (repairs under [`Fix::DeadKey`]).
fn kept_any(repairs: bool, dead: &[String], ahead: &[String]) -> bool {
    repairs && !(dead.is_empty() && ahead.is_empty())
}

/// The `sendBeatOnly` a switch value sets, as `SwitchManager.update` copies it from the parsed
/// `SwitchDomain`: the field's boolean (Jackson also reads `"true"`/`"false"`), `false` when
/// absent (the field's default); `None` when the value is not an object Java could parse, so
/// nothing changes.
pub(crate) fn switch_send_beat_only(value: &crate::JsonValue) -> Option<bool> {
    let v: serde_json::Value = serde_json::from_str(value.as_str()).ok()?;
    let obj = v.as_object()?;
    match obj.get("sendBeatOnly") {
        None | Some(serde_json::Value::Null) => Some(false),
        Some(serde_json::Value::Bool(b)) => Some(*b),
        Some(serde_json::Value::String(s)) if s == "true" => Some(true),
        Some(serde_json::Value::String(s)) if s == "false" => Some(false),
        // Jackson reads an integer as a boolean: 0 is false, anything else true.
        Some(serde_json::Value::Number(n)) if n.is_i64() || n.is_u64() => {
            Some(n.as_i64() != Some(0))
        }
        Some(_) => None,
    }
}
