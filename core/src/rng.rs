//! A tiny seeded PRNG (SplitMix64) so that every random choice of a node or of the simulator
//! replays from one `u64` seed. Nacos draws its timer jitter from `java.util.Random`; the exact
//! sequence does not matter, only that it is uniform and reproducible here.

/// SplitMix64 (Steele, Lea, Flood 2014): one `u64` of state, full period, good enough statistics
/// for timer jitter and fault injection, and trivially cloneable for simulator checkpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    /// A generator whose whole future is determined by `seed`.
    pub(crate) fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, n)`; `0` when `n == 0`. Multiply-shift avoids the modulo bias.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `[lo, hi]` (inclusive); `lo` when `hi <= lo`.
    #[cfg(feature = "sim")]
    pub(crate) fn range_inclusive(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `ppm / 1_000_000`.
    #[cfg(feature = "sim")]
    pub(crate) fn chance_ppm(&mut self, ppm: u32) -> bool {
        ppm > 0 && self.below(1_000_000) < ppm as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_bounds_hold() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..1000 {
            let x = a.below(5000);
            assert_eq!(x, b.below(5000));
            assert!(x < 5000);
        }
        assert_eq!(Rng::new(0).below(0), 0);
        #[cfg(feature = "sim")]
        assert_eq!(Rng::new(0).range_inclusive(5, 5), 5);
    }

    #[test]
    fn below_is_roughly_uniform() {
        let mut r = Rng::new(42);
        let mut buckets = [0u32; 10];
        for _ in 0..100_000 {
            buckets[r.below(10) as usize] += 1;
        }
        for b in buckets {
            assert!((9_000..11_000).contains(&b), "{buckets:?}");
        }
    }
}
