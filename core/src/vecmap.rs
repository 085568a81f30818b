//! A map kept as a vector sorted by key, for the core's small maps of requests in flight (a
//! node's requests awaiting an answer, a simulated node's requests awaiting its own). They hold a
//! few entries, keyed by ids that only grow, so an insert is a push and a lookup a binary search
//! over a handful. A `BTreeMap` of its own key and value types brings its copy of the B-tree code
//! into the page, ~5 KB of wasm each (issue 14); this is a fraction of that.

use alloc::vec::Vec;

/// A map sorted by key, with the `BTreeMap` operations the core uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VecMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord, V> VecMap<K, V> {
    /// An empty map.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn find(&self, k: &K) -> Result<usize, usize> {
        // Ids only grow: a new key is usually past the last one.
        match self.entries.last() {
            Some((last, _)) if last < k => Err(self.entries.len()),
            _ => self.entries.binary_search_by(|(e, _)| e.cmp(k)),
        }
    }

    /// Sets `k` to `v`, returning the value it had.
    pub(crate) fn insert(&mut self, k: K, v: V) -> Option<V> {
        match self.find(&k) {
            Ok(i) => Some(core::mem::replace(&mut self.entries[i].1, v)),
            Err(i) => {
                self.entries.insert(i, (k, v));
                None
            }
        }
    }

    /// Takes `k` out, returning its value.
    pub(crate) fn remove(&mut self, k: &K) -> Option<V> {
        self.find(k).ok().map(|i| self.entries.remove(i).1)
    }

    /// The value of `k`.
    #[cfg(test)]
    pub(crate) fn get(&self, k: &K) -> Option<&V> {
        self.find(k).ok().map(|i| &self.entries[i].1)
    }

    /// The entries in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The values in key order, the map emptied.
    #[cfg(any(feature = "sim", test))]
    pub(crate) fn take_values(&mut self) -> impl Iterator<Item = V> {
        core::mem::take(&mut self.entries)
            .into_iter()
            .map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::VecMap;
    use alloc::collections::BTreeMap;
    use alloc::vec::Vec;

    /// The same operations on a `BTreeMap` and a `VecMap` give the same answers and contents.
    #[test]
    fn it_answers_as_a_btree_map_does() {
        let mut rng = crate::rng::Rng::new(7);
        let (mut b, mut v) = (BTreeMap::new(), VecMap::new());
        for step in 0..20_000u64 {
            // Mostly growing keys, as ids are, with some from anywhere.
            let k = if rng.next_u64().is_multiple_of(4) {
                rng.next_u64() % 64
            } else {
                step / 3
            };
            match rng.next_u64() % 3 {
                0 => assert_eq!(b.remove(&k), v.remove(&k), "{step}"),
                _ => assert_eq!(b.insert(k, step), v.insert(k, step), "{step}"),
            }
            assert_eq!(b.get(&k), v.get(&k));
            assert_eq!(b.len(), v.iter().count());
        }
        let want: Vec<(u64, u64)> = b.iter().map(|(k, x)| (*k, *x)).collect();
        let got: Vec<(u64, u64)> = v.iter().map(|(k, x)| (*k, *x)).collect();
        assert_eq!(want, got);
        let values: Vec<u64> = v.take_values().collect();
        assert_eq!(values, b.into_values().collect::<Vec<_>>());
        assert_eq!(v.iter().count(), 0);
    }
}
