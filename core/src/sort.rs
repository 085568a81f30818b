//! One stable sort for every element type: the order is computed on indices through a `dyn`
//! comparator, so the standard library's sort is compiled once (on `usize`) instead of once per
//! element type and closure. Each copy of the stable sort is ~4 KB of wasm, and the page
//! (issue 14's size budget) had eleven of them. The result is exactly `slice::sort_by`'s: stable,
//! ties keep their order.

use alloc::vec::Vec;
use core::cmp::Ordering;

/// Adds `x` to the sorted, duplicate-free `set` (a `BTreeSet::insert`): whether it was absent.
/// The core's few sets of numbers are sorted `Vec`s: they stay small, and a `BTreeSet<u64>` of
/// their own adds its copy of the B-tree code to the page (issue 14).
pub(crate) fn set_insert(set: &mut Vec<u64>, x: u64) -> bool {
    match set.binary_search(&x) {
        Ok(_) => false,
        Err(k) => {
            set.insert(k, x);
            true
        }
    }
}

/// Removes `x` from the sorted `set` (a `BTreeSet::remove`): whether it was there.
pub(crate) fn set_remove(set: &mut Vec<u64>, x: u64) -> bool {
    match set.binary_search(&x) {
        Ok(k) => {
            set.remove(k);
            true
        }
        Err(_) => false,
    }
}

/// Sorts `v` stably by `cmp`, like `v.sort_by(cmp)`.
pub fn sort_by<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    let perm = {
        let s: &[T] = v;
        order(s.len(), &mut |a, b| cmp(&s[a], &s[b]))
    };
    permute(v, perm);
}

/// Sorts `v` stably by `key`, like `v.sort_by_key(key)`.
pub fn sort_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// Sorts `v` stably, like `v.sort()`.
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, T::cmp);
}

/// The indices `0..n` in the order `cmp` gives them (stable): the one monomorphic sort.
fn order(n: usize, cmp: &mut dyn FnMut(usize, usize) -> Ordering) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|a, b| cmp(*a, *b));
    idx
}

/// Reorders `v` in place so that `v[j]` becomes the old `v[perm[j]]`, following each cycle of
/// the permutation with swaps (an entry of `perm` is set to its own index once placed).
fn permute<T>(v: &mut [T], mut perm: Vec<usize>) {
    for i in 0..perm.len() {
        let mut j = i;
        loop {
            let k = perm[j];
            perm[j] = j;
            if k == i || k == j {
                break;
            }
            v.swap(j, k);
            j = k;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// The sorted-Vec set answers as a `BTreeSet<u64>` does, over a run of mixed operations.
    #[test]
    fn set_insert_and_remove_answer_as_a_btreeset() {
        let mut set = Vec::new();
        let mut tree = alloc::collections::BTreeSet::new();
        let mut x: u64 = 7;
        for step in 0..2_000u64 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let v = (x >> 33) % 64;
            if step % 3 == 0 {
                assert_eq!(set_remove(&mut set, v), tree.remove(&v));
            } else {
                assert_eq!(set_insert(&mut set, v), tree.insert(v));
            }
            assert!(set.iter().copied().eq(tree.iter().copied()));
        }
    }

    /// Same order as the standard library's stable sort, ties included, on many permutations.
    #[test]
    fn matches_std_stable_sort() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in 0..40 {
            for _ in 0..30 {
                // (key, original position): only the key is compared, the position shows stability.
                let v: Vec<(u8, usize)> = (0..len)
                    .map(|i| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        ((seed % 5) as u8, i)
                    })
                    .collect();
                let mut want = v.clone();
                want.sort_by_key(|x| x.0);
                let mut got = v.clone();
                sort_by_key(&mut got, |x| x.0);
                assert_eq!(got, want);
                let mut rev = v.clone();
                sort_by(&mut rev, |a, b| b.0.cmp(&a.0));
                want.sort_by_key(|x| core::cmp::Reverse(x.0));
                assert_eq!(rev, want);
            }
        }
        let mut s = vec!["b", "a", "c", "a"];
        sort(&mut s);
        assert_eq!(s, ["a", "a", "b", "c"]);
    }
}
