//! Beat lists sent as differences between hardened members (issue 13,
//! `docs/hardened/beat-lists.md`).
//!
//! A Nacos beat lists every key with its timestamp, every heartbeat interval, and a follower
//! inflates and parses the whole list each time: at ~60,000 keys under `wrk -c 32` a median
//! 37 ms per beat on each follower, both followers at once on a 2-core machine, which is where
//! the hardened write p99 went. Between two members of this node that both run the hardened
//! rules the list goes as the difference from a list the follower already holds; the follower
//! rebuilds the very same list (checked by its length and CRC-32) and its core sees exactly the
//! packet a full beat would have given it. The protocol's behaviour does not change, only bytes
//! and CPU.
//!
//! On Nacos' wire: a hardened leader names every list it sends, `"list":"<epoch>.<n>"` after
//! `datums` (Java's `receivedBeat` reads `peer` and `datums` by name and nothing else); a hardened
//! follower that now holds a named list says so in its answer, `"beatList":"<epoch>.<n>"` beside
//! its peer fields (Jackson ignores unknown properties there, as it does `position`); only then
//! does the leader send that follower a difference: a beat without `datums`,
//! `{"peer":…,"delta":{…},"list":…}`. A Java follower never names a list, so it only ever gets
//! full beats; were a difference ever to reach one, `receivedBeat` would fail on the missing
//! `datums` (a 500) before touching any datum. A follower that does not hold the base list
//! answers 409 ([`NOT_HELD`]) and the leader sends it the full beat at once.

use nacos_raft_core::key::detail_head;
use nacos_raft_core::BeatDatum;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;

/// The start of a follower's answer when it does not hold the list a difference applies to.
pub const NOT_HELD: &str = "beat list not held";

/// A leader's name for one key list: the leader process (`epoch`, random at its start) and the
/// list's number there. A name stands for one content: the number moves whenever the list does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ListId {
    /// Random per leader process (and per restart of its node).
    pub epoch: u64,
    /// The list's number within the epoch.
    pub seq: u64,
}

impl ListId {
    /// Reads the `<epoch hex>.<n>` form.
    pub fn parse(s: &str) -> Option<ListId> {
        let (e, n) = s.split_once('.')?;
        let hex =
            |t: &str| !t.is_empty() && t.len() <= 16 && t.bytes().all(|b| b.is_ascii_hexdigit());
        let dec = |t: &str| !t.is_empty() && t.len() <= 20 && t.bytes().all(|b| b.is_ascii_digit());
        if !hex(e) || !dec(n) {
            return None;
        }
        Some(ListId {
            epoch: u64::from_str_radix(e, 16).ok()?,
            seq: n.parse().ok()?,
        })
    }

    /// A fresh epoch: different for every leader process and restart.
    pub fn fresh_epoch() -> u64 {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        h.write_u32(std::process::id());
        h.finish()
    }
}

impl fmt::Display for ListId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:x}.{}", self.epoch, self.seq)
    }
}

/// The changes that turn list `base` into the list a beat names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delta {
    /// The number of the list these changes apply to (same epoch as the beat's name).
    pub base: u64,
    /// Entries of the resulting list.
    pub count: u64,
    /// [`crc_of`] the resulting list.
    pub crc: u32,
    /// New entries and entries with a new timestamp, in the list's order.
    pub put: Vec<BeatDatum>,
    /// Brief keys gone from the list, in the list's order.
    pub del: Vec<String>,
}

impl Delta {
    /// Whether the beat's list is the base itself.
    pub fn is_empty(&self) -> bool {
        self.put.is_empty() && self.del.is_empty()
    }
}

/// The order of the lists this applies to: each entry's full key (the brief key behind the
/// head a follower puts in front of it) in byte order, which is the order in which a leader of
/// this node lists its map. `None` for an entry with no full form: such lists go in full.
pub fn order(a: &str, b: &str) -> Option<Ordering> {
    Some(order_headed((detail_head(a)?, a), (detail_head(b)?, b)))
}

/// [`order`] of two keys whose heads are known.
fn order_headed((ha, a): (&str, &str), (hb, b): (&str, &str)) -> Ordering {
    if std::ptr::eq(ha, hb) || ha == hb {
        a.as_bytes().cmp(b.as_bytes())
    } else {
        ha.bytes().chain(a.bytes()).cmp(hb.bytes().chain(b.bytes()))
    }
}

/// A checksum of a whole list (keys with their lengths, timestamps), which the follower checks
/// its rebuilt list against.
pub fn crc_of<'a>(entries: impl IntoIterator<Item = (&'a str, u64)>) -> u32 {
    let mut h = crc32fast::Hasher::new();
    for (k, ts) in entries {
        h.update(&(k.len() as u32).to_le_bytes());
        h.update(k.as_bytes());
        h.update(&ts.to_le_bytes());
    }
    h.finalize()
}

/// The leader's copy of the last list it named: the keys in one buffer (no allocation per key),
/// enough to compute the next difference.
struct Snapshot {
    keys: String,
    /// Per entry: where its key ends in `keys`, its timestamp and its head.
    entries: Vec<(usize, u64, &'static str)>,
}

impl Snapshot {
    fn key(&self, i: usize) -> (&'static str, &str) {
        let start = if i == 0 { 0 } else { self.entries[i - 1].0 };
        (self.entries[i].2, &self.keys[start..self.entries[i].0])
    }
}

/// What a beat's list is called, and how to send it to a follower that holds an earlier one.
#[derive(Clone, Debug)]
pub struct Named {
    /// The list's name.
    pub id: ListId,
    /// Its length and checksum (for the empty difference of an unchanged list).
    pub count: u64,
    /// [`crc_of`] the list.
    pub crc: u32,
    /// The difference from the list named just before it, when both could be compared.
    pub from_previous: Option<Arc<Delta>>,
}

impl Named {
    /// The beat for a follower that holds `held`, if a difference can carry it: the empty one
    /// when it holds this very list, the last change when it holds the one before.
    pub fn delta_for(&self, held: Option<ListId>) -> Option<Arc<Delta>> {
        let held = held.filter(|h| h.epoch == self.id.epoch)?;
        if held.seq == self.id.seq {
            return Some(Arc::new(Delta {
                base: held.seq,
                count: self.count,
                crc: self.crc,
                put: Vec::new(),
                del: Vec::new(),
            }));
        }
        self.from_previous.clone().filter(|d| d.base == held.seq)
    }
}

/// A leader's side: the last list it named, and which list each follower said it holds.
pub struct LeaderLists {
    epoch: u64,
    seq: u64,
    last: Option<Snapshot>,
    last_count: u64,
    last_crc: u32,
    from_previous: Option<Arc<Delta>>,
    held: HashMap<String, ListId>,
}

impl LeaderLists {
    /// A leader with a fresh epoch and nothing named yet.
    pub fn new() -> LeaderLists {
        LeaderLists::with_epoch(ListId::fresh_epoch())
    }

    /// The same with a given epoch (tests).
    pub fn with_epoch(epoch: u64) -> LeaderLists {
        LeaderLists {
            epoch,
            seq: 0,
            last: None,
            last_count: 0,
            last_crc: 0,
            from_previous: None,
            held: HashMap::new(),
        }
    }

    /// Names `list`: the last name again when it is the last list, the next one otherwise, with
    /// the difference from the last list when both are in [`order`]. One pass over the list.
    pub fn name(&mut self, list: &[BeatDatum]) -> Named {
        let mut fresh = Snapshot {
            keys: String::with_capacity(self.last.as_ref().map_or(0, |s| s.keys.len())),
            entries: Vec::with_capacity(list.len()),
        };
        let (mut put, mut del) = (Vec::new(), Vec::new());
        let mut ordered = true;
        let mut i = 0;
        let mut prev: Option<(&'static str, &str)> = None;
        for e in list {
            let Some(head) = detail_head(&e.key).filter(|_| ordered) else {
                ordered = false;
                break;
            };
            let here = (head, e.key.as_str());
            if prev.is_some_and(|p| order_headed(p, here) != Ordering::Less) {
                ordered = false;
                break;
            }
            prev = Some(here);
            fresh.keys.push_str(&e.key);
            fresh.entries.push((fresh.keys.len(), e.timestamp, head));
            let Some(old) = self.last.as_ref() else {
                continue;
            };
            let mut same_key = false;
            while i < old.entries.len() {
                match order_headed(old.key(i), here) {
                    Ordering::Less => {
                        del.push(old.key(i).1.to_string());
                        i += 1;
                    }
                    Ordering::Equal => {
                        same_key = true;
                        if old.entries[i].1 != e.timestamp {
                            put.push(e.clone());
                        }
                        i += 1;
                        break;
                    }
                    Ordering::Greater => break,
                }
            }
            if !same_key {
                put.push(e.clone());
            }
        }
        let crc = crc_of(list.iter().map(|e| (e.key.as_str(), e.timestamp)));
        let count = list.len() as u64;
        match self.last.as_ref() {
            Some(old) if ordered => {
                for k in i..old.entries.len() {
                    del.push(old.key(k).1.to_string());
                }
                if put.is_empty() && del.is_empty() {
                    // The same list: same name, same difference from the one before.
                    return self.named();
                }
                self.from_previous = Some(Arc::new(Delta {
                    base: self.seq,
                    count,
                    crc,
                    put,
                    del,
                }));
            }
            _ => self.from_previous = None,
        }
        self.seq += 1;
        self.last = ordered.then_some(fresh);
        (self.last_count, self.last_crc) = (count, crc);
        self.named()
    }

    fn named(&self) -> Named {
        Named {
            id: ListId {
                epoch: self.epoch,
                seq: self.seq,
            },
            count: self.last_count,
            crc: self.last_crc,
            from_previous: self.from_previous.clone(),
        }
    }

    /// The list `to` said it holds in its last answer, if any.
    pub fn held_by(&self, to: &str) -> Option<ListId> {
        self.held.get(to).copied()
    }

    /// Records what `to` answered: the list it now holds, or none (a Java follower, a refusal).
    pub fn answered(&mut self, to: &str, holds: Option<ListId>) {
        match holds.filter(|h| h.epoch == self.epoch) {
            Some(h) => {
                self.held.insert(to.to_string(), h);
            }
            None => {
                self.held.remove(to);
            }
        }
    }
}

impl Default for LeaderLists {
    fn default() -> Self {
        LeaderLists::new()
    }
}

/// A follower's side: the last few named lists it received (shared with its core, so keeping
/// them costs no copy).
#[derive(Default)]
pub struct HeldLists(VecDeque<(ListId, Arc<Vec<BeatDatum>>)>);

/// Lists kept: the last one, and the one before for an answer that crossed the next beat.
const HELD: usize = 2;

impl HeldLists {
    /// Nothing held.
    pub const fn new() -> HeldLists {
        HeldLists(VecDeque::new())
    }

    /// Remembers `list` under `id`.
    pub fn keep(&mut self, id: ListId, list: Arc<Vec<BeatDatum>>) {
        self.0.retain(|(i, _)| *i != id);
        self.0.push_front((id, list));
        self.0.truncate(HELD);
    }

    /// The list named `id`, if held.
    pub fn get(&self, id: ListId) -> Option<&Arc<Vec<BeatDatum>>> {
        self.0.iter().find(|(i, _)| *i == id).map(|(_, l)| l)
    }

    /// The list a beat named `id` carrying `delta` stands for, remembered under `id`. `Err` with
    /// [`NOT_HELD`] first when the base is not held (the leader then sends the full list), with
    /// the reason when the difference does not apply; nothing is remembered then.
    pub fn rebuild(&mut self, id: ListId, delta: &Delta) -> Result<Arc<Vec<BeatDatum>>, String> {
        let base_id = ListId {
            epoch: id.epoch,
            seq: delta.base,
        };
        let Some(base) = self.get(base_id) else {
            return Err(format!(
                "{NOT_HELD}: {base_id} (the difference to {id} needs it)"
            ));
        };
        let list = if delta.is_empty() && id == base_id {
            base.clone()
        } else {
            Arc::new(apply(base, delta)?)
        };
        if list.len() as u64 != delta.count {
            return Err(format!(
                "the difference gives {} entries, the leader has {}",
                list.len(),
                delta.count
            ));
        }
        if !delta.is_empty() || id != base_id {
            let crc = crc_of(list.iter().map(|e| (e.key.as_str(), e.timestamp)));
            if crc != delta.crc {
                return Err(format!(
                    "the difference gives a list with CRC {crc:08x}, the leader's is {:08x}",
                    delta.crc
                ));
            }
        }
        self.keep(id, list.clone());
        Ok(list)
    }
}

/// `base` with `delta`'s entries put in their places and its deleted keys taken out. Every key
/// deleted must be in `base`, each put and deleted list in [`order`], and the result too.
pub fn apply(base: &[BeatDatum], delta: &Delta) -> Result<Vec<BeatDatum>, String> {
    fn bad(what: &str, k: &str) -> String {
        format!("the difference {what}: {k:?}")
    }
    fn headed(k: &str) -> Result<(&'static str, &str), String> {
        let head = detail_head(k).ok_or_else(|| bad("has a key without a full form", k))?;
        Ok((head, k))
    }
    let mut out: Vec<BeatDatum> = Vec::with_capacity(base.len() + delta.put.len());
    // The last entry out, and whether it was the base entry just before the next one: two
    // consecutive base entries are in order already (the base was checked when it came).
    let mut last_base: Option<usize> = None;
    let push = |out: &mut Vec<BeatDatum>, e: &BeatDatum| -> Result<(), String> {
        if let Some(last) = out.last() {
            if order_headed(headed(&last.key)?, headed(&e.key)?) != Ordering::Less {
                return Err(bad("is out of order at", &e.key));
            }
        } else {
            headed(&e.key)?;
        }
        out.push(e.clone());
        Ok(())
    };
    let mut puts = delta.put.iter().peekable();
    let mut dels = delta.del.iter().peekable();
    for (i, e) in base.iter().enumerate() {
        let here = headed(&e.key)?;
        while let Some(p) = puts.peek() {
            if order_headed(headed(&p.key)?, here) != Ordering::Less {
                break;
            }
            push(&mut out, p)?;
            last_base = None;
            puts.next();
        }
        if dels.peek().is_some_and(|d| **d == e.key) {
            dels.next();
            if puts.peek().is_some_and(|p| p.key == e.key) {
                return Err(bad("both puts and deletes", &e.key));
            }
            last_base = None;
            continue;
        }
        match puts.peek() {
            Some(p) if p.key == e.key => {
                push(&mut out, p)?;
                puts.next();
                last_base = None;
            }
            _ if last_base.is_some_and(|l| l + 1 == i) => {
                out.push(e.clone());
                last_base = Some(i);
            }
            _ => {
                push(&mut out, e)?;
                last_base = Some(i);
            }
        }
    }
    for p in puts {
        push(&mut out, p)?;
    }
    if let Some(d) = dels.next() {
        return Err(bad(
            "deletes a key the list does not hold (or out of order)",
            d,
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(k: &str, ts: u64) -> BeatDatum {
        BeatDatum {
            key: k.into(),
            timestamp: ts,
        }
    }

    fn iplist(i: u32) -> String {
        format!("iplist.public##DEFAULT_GROUP@@svc-{i:05}")
    }

    fn meta(i: u32) -> String {
        format!("meta.public##DEFAULT_GROUP@@svc-{i:05}")
    }

    /// A list in a leader's map order: full keys sorted.
    fn sorted(mut l: Vec<BeatDatum>) -> Vec<BeatDatum> {
        l.sort_by(|a, b| order(&a.key, &b.key).unwrap());
        l.dedup_by(|a, b| a.key == b.key);
        l
    }

    #[test]
    fn the_order_is_the_full_keys_order() {
        // Brief `iplist.` sorts before `meta.`; the full keys the other way round
        // (`…naming.domains.meta.…` < `…naming.iplist.…`), and a leader lists full-key order.
        assert_eq!(order(&meta(9), &iplist(1)), Some(Ordering::Less));
        assert_eq!(order(&iplist(1), &iplist(2)), Some(Ordering::Less));
        assert_eq!(order("no-head", &iplist(1)), None);
    }

    #[test]
    fn a_leader_names_lists_and_a_follower_rebuilds_each_from_the_last() {
        let mut leader = LeaderLists::with_epoch(7);
        let mut follower = HeldLists::default();
        let a = sorted((0..50).map(|i| entry(&iplist(i), 100)).collect());
        let na = leader.name(&a);
        assert_eq!(na.id, ListId { epoch: 7, seq: 1 });
        assert!(na.from_previous.is_none());
        follower.keep(na.id, Arc::new(a.clone()));
        leader.answered("f", Some(na.id));

        // Unchanged: same name, an empty difference that gives the held list itself.
        let again = leader.name(&a);
        assert_eq!(again.id, na.id);
        let d = again.delta_for(leader.held_by("f")).unwrap();
        assert!(d.is_empty());
        let held = follower.get(na.id).unwrap().clone();
        assert!(Arc::ptr_eq(&follower.rebuild(again.id, &d).unwrap(), &held));

        // Changed: one new timestamp, one key gone, two new keys (one a meta key).
        let mut b = a.clone();
        b[3].timestamp = 101;
        b.remove(10);
        b.push(entry(&iplist(77), 5));
        b.push(entry(&meta(2), 6));
        let b = sorted(b);
        let nb = leader.name(&b);
        assert_eq!(nb.id.seq, 2);
        let d = nb.delta_for(leader.held_by("f")).unwrap();
        assert_eq!(d.base, 1);
        assert_eq!(d.put.len(), 3);
        assert_eq!(d.del, vec![iplist(10)]);
        assert_eq!(*follower.rebuild(nb.id, &d).unwrap(), b);

        // A follower two lists behind gets the full list.
        let nc = leader.name(&a);
        assert_eq!(nc.id.seq, 3);
        assert!(nc.delta_for(Some(na.id)).is_none());
        assert!(nc.delta_for(Some(nb.id)).is_some());
        assert!(nc.delta_for(None).is_none());
        assert!(nc.delta_for(Some(ListId { epoch: 8, seq: 2 })).is_none());
    }

    #[test]
    fn a_list_out_of_order_or_without_full_keys_goes_in_full() {
        let mut leader = LeaderLists::with_epoch(1);
        let a = vec![entry(&iplist(2), 1), entry(&iplist(1), 1)];
        leader.name(&a);
        let n = leader.name(&a);
        // Not comparable: every list gets a new name and no difference.
        assert_eq!(n.id.seq, 2);
        assert!(n.from_previous.is_none());
        let keyless = vec![entry("", 1)];
        leader.name(&keyless);
        assert!(leader.name(&keyless).from_previous.is_none());
    }

    #[test]
    fn a_follower_refuses_a_difference_it_cannot_apply_and_keeps_what_it_had() {
        let id = ListId { epoch: 3, seq: 1 };
        let base = Arc::new(sorted((0..5).map(|i| entry(&iplist(i), 1)).collect()));
        let mut f = HeldLists::default();
        f.keep(id, base.clone());
        let next = ListId { epoch: 3, seq: 2 };
        let good = Delta {
            base: 1,
            count: 6,
            crc: 0,
            put: vec![entry(&iplist(9), 2)],
            del: vec![],
        };
        let cases = [
            (
                ListId { epoch: 4, seq: 2 },
                good.clone(),
                "beat list not held: 4.1",
            ),
            (next, good.clone(), "CRC"),
            (
                next,
                Delta {
                    del: vec![iplist(8)],
                    ..good.clone()
                },
                "deletes a key the list does not hold",
            ),
            (
                next,
                Delta {
                    put: vec![entry(&iplist(9), 2), entry(&iplist(8), 2)],
                    ..good.clone()
                },
                "out of order",
            ),
            (
                next,
                Delta {
                    count: 9,
                    ..good.clone()
                },
                "gives 6 entries, the leader has 9",
            ),
            (
                next,
                Delta {
                    put: vec![entry(&iplist(1), 2)],
                    del: vec![iplist(1)],
                    count: 5,
                    ..good.clone()
                },
                "both puts and deletes",
            ),
        ];
        for (id, d, want) in cases {
            let e = f.rebuild(id, &d).unwrap_err();
            assert!(e.contains(want), "{e} (wanted {want})");
            assert!(f.get(next).is_none());
            assert!(Arc::ptr_eq(
                f.get(ListId { epoch: 3, seq: 1 }).unwrap(),
                &base
            ));
        }
    }

    fn list_strategy() -> impl Strategy<Value = Vec<BeatDatum>> {
        prop::collection::vec((0u32..60, any::<bool>(), 0u64..4), 0..40).prop_map(|v| {
            sorted(
                v.into_iter()
                    .map(|(i, m, ts)| entry(&if m { meta(i) } else { iplist(i) }, ts))
                    .collect(),
            )
        })
    }

    proptest! {
        /// Any list after any list: the follower rebuilds exactly the leader's list from the
        /// difference, and the leader names equal lists alike.
        #[test]
        fn any_change_is_rebuilt_exactly(a in list_strategy(), b in list_strategy()) {
            let mut leader = LeaderLists::with_epoch(9);
            let mut follower = HeldLists::default();
            let na = leader.name(&a);
            follower.keep(na.id, Arc::new(a.clone()));
            let nb = leader.name(&b);
            prop_assert_eq!(nb.id.seq == na.id.seq, a == b);
            let d = nb.delta_for(Some(na.id)).expect("ordered lists always have a difference");
            prop_assert_eq!(&*follower.rebuild(nb.id, &d).unwrap(), &b);
            prop_assert!(d.put.len() + d.del.len() <= a.len() + b.len());
        }
    }
}
