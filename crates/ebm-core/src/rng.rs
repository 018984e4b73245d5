//! Seeds and per-chain ChaCha streams.
//!
//! Reproducibility rule of the workspace: every random number a chain, a data
//! shuffle or an initialisation uses comes from its own [`ChainRng`], derived
//! from `(seed, purpose, index)`. Work can then be spread over any number of
//! threads and the result is bit-identical, and a stream's position can be
//! saved in a checkpoint and restored.

use crate::space::StateSpace;
use rand_chacha::ChaCha8Rng;
use rand_core::{SeedableRng, TryRng};
use std::convert::Infallible;

/// What a random stream is used for; distinct purposes get independent keys.
///
/// The constants name the purposes of the workspace; a user may define more
/// with [`Purpose::custom`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Purpose(u64);

impl Purpose {
    /// Markov-chain sampling (index = chain).
    pub const SAMPLING: Purpose = Purpose(1);
    /// Model parameter initialisation.
    pub const INIT: Purpose = Purpose(2);
    /// Data shuffling and mini-batch order (index = epoch).
    pub const SHUFFLE: Purpose = Purpose(3);
    /// Training chains (index = chain).
    pub const TRAINING: Purpose = Purpose(4);
    /// Annealed importance sampling runs (index = run).
    pub const AIS: Purpose = Purpose(5);
    /// Data generation and stochastic binarisation.
    pub const DATA: Purpose = Purpose(6);
    /// Replica exchange moves of parallel tempering.
    pub const SWAP: Purpose = Purpose(7);
    /// CD negative chains started at a mini-batch (index = step · 2^24 + row).
    pub const CD_ROWS: Purpose = Purpose(8);
    /// Clamped positive-phase chains of latent models (index = step · 2^24 + row).
    pub const POSITIVE_ROWS: Purpose = Purpose(9);
    /// The stripes of one sweep that threads share, keyed per sweep by a
    /// word of the chain's stream (index = stripe).
    pub const STRIPES: Purpose = Purpose(10);

    /// A user-defined purpose. Values below 1024 are reserved for ebm.
    pub const fn custom(tag: u64) -> Purpose {
        Purpose(tag | 1 << 62)
    }

    /// The purpose's tag.
    pub const fn tag(self) -> u64 {
        self.0
    }
}

/// A master seed from which every stream of an experiment is derived.
///
/// ```
/// use ebm_core::{Purpose, Seed};
/// use rand_core::Rng;
/// let seed = Seed(42);
/// let mut a = seed.stream(Purpose::SAMPLING, 0);
/// let mut b = seed.stream(Purpose::SAMPLING, 0);
/// assert_eq!(a.next_u64(), b.next_u64());
/// let mut c = seed.stream(Purpose::SAMPLING, 1);
/// assert_ne!(a.next_u64(), c.next_u64());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Seed(pub u64);

/// SplitMix64 finaliser: a bijective mixing of 64 bits.
const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Seed {
    /// The ChaCha key for `purpose`: four mixed words of (seed, purpose).
    pub fn key(self, purpose: Purpose) -> [u8; 32] {
        let mut key = [0u8; 32];
        let base = mix64(self.0 ^ mix64(purpose.0.wrapping_add(0x9e37_79b9_7f4a_7c15)));
        for (w, chunk) in key.chunks_exact_mut(8).enumerate() {
            let word = mix64(base.wrapping_add((w as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)));
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        key
    }

    /// The stream for work unit `index` of `purpose`: ChaCha8 keyed by
    /// (seed, purpose), with the ChaCha stream (nonce) set to `index`.
    pub fn stream(self, purpose: Purpose, index: u64) -> ChainRng {
        let mut rng = ChaCha8Rng::from_seed(self.key(purpose));
        rng.set_stream(index);
        ChainRng(rng)
    }

    /// A derived seed, e.g. for the `index`-th repetition of an experiment.
    pub fn derive(self, index: u64) -> Seed {
        Seed(mix64(self.0 ^ mix64(index ^ 0x5851_f42d_4c95_7f2d)))
    }
}

/// Where a [`ChainRng`] is in its stream: enough to restore it exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RngPosition {
    /// The ChaCha key.
    pub key: [u8; 32],
    /// The ChaCha stream (nonce).
    pub stream: u64,
    /// Offset in 32-bit words from the start of the stream.
    pub word_pos: u128,
}

/// One chain's random stream: ChaCha8, portable and seekable.
///
/// Implements `rand_core::Rng` (and so rand's `RngExt`). Its position can be
/// saved with [`ChainRng::position`] and restored with [`ChainRng::from_position`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRng(ChaCha8Rng);

impl ChainRng {
    /// The stream's position (key, stream, word offset).
    pub fn position(&self) -> RngPosition {
        RngPosition {
            key: self.0.get_seed(),
            stream: self.0.get_stream(),
            word_pos: self.0.get_word_pos(),
        }
    }

    /// Restores a stream at a saved position; it continues bit-identically.
    pub fn from_position(pos: RngPosition) -> Self {
        let mut rng = ChaCha8Rng::from_seed(pos.key);
        rng.set_stream(pos.stream);
        rng.set_word_pos(pos.word_pos);
        ChainRng(rng)
    }

    /// Fills `out` with uniform 32-bit words, faster per word than repeated
    /// `next_u32` calls.
    pub fn fill_u32(&mut self, out: &mut [u32]) {
        // ChaCha emits little-endian words; reading them back LE gives the same
        // values as `next_u32` would, on every platform.
        let mut bytes = [0u8; 256];
        for chunk in out.chunks_mut(64) {
            let b = &mut bytes[..4 * chunk.len()];
            rand_core::Rng::fill_bytes(&mut self.0, b);
            for (w, c) in chunk.iter_mut().zip(b.chunks_exact(4)) {
                *w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            }
        }
    }

    /// A state of `n` units drawn from `space`'s reference distribution
    /// ([`StateSpace::draw`]: uniform over a finite space; for binary units,
    /// unit i is high when bit `i % 32` of word `i / 32` is set). The one way
    /// chains start at random (runners, persistent chains).
    pub fn random_state<S: StateSpace + ?Sized>(&mut self, space: &S, n: usize) -> Vec<S::Unit> {
        let mut x = vec![S::Unit::default(); n];
        space.draw(self, &mut x);
        x
    }

    /// [`ChainRng::random_state`] into `out` (its length is the number of
    /// units), drawing the same words: no allocation, for loops that draw
    /// many states.
    pub fn fill_random_state<S: StateSpace + ?Sized>(&mut self, space: &S, out: &mut [S::Unit]) {
        space.draw(self, out);
    }
}

impl TryRng for ChainRng {
    type Error = Infallible;

    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        self.0.try_next_u32()
    }

    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.0.try_next_u64()
    }

    #[inline]
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.0.try_fill_bytes(dst)
    }
}

/// A uniform draw in [0, 1) with 53 random bits, from any RNG.
#[inline]
pub fn uniform<R: rand_core::Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A standard normal draw by Box–Muller from two words of `rng`
/// (`√(−2 ln u₁) cos 2πu₂` with `u₁ ∈ (0, 1]`): exact in distribution,
/// two words per draw, reproducible.
pub fn standard_normal<R: rand_core::Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1 = 1.0 - uniform(rng);
    let u2 = uniform(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::Rng;

    #[test]
    fn position_round_trips_mid_stream() {
        let mut a = Seed(7).stream(Purpose::SAMPLING, 3);
        for _ in 0..37 {
            a.next_u32();
        }
        let mut b = ChainRng::from_position(a.position());
        for _ in 0..200 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn fill_u32_matches_next_u32() {
        let mut a = Seed(1).stream(Purpose::INIT, 0);
        let mut b = a.clone();
        let mut buf = [0u32; 150];
        a.fill_u32(&mut buf);
        for w in buf {
            assert_eq!(w, b.next_u32());
        }
    }

    #[test]
    fn purposes_and_indices_give_distinct_streams() {
        let s = Seed(0);
        let first = |p, i| s.stream(p, i).next_u64();
        assert_ne!(first(Purpose::SAMPLING, 0), first(Purpose::INIT, 0));
        assert_ne!(first(Purpose::SAMPLING, 0), first(Purpose::SAMPLING, 1));
        assert_ne!(Seed(1).stream(Purpose::SAMPLING, 0).next_u64(), first(Purpose::SAMPLING, 0));
    }

    #[test]
    fn uniform_is_in_unit_interval() {
        let mut r = Seed(3).stream(Purpose::DATA, 0);
        let mean = (0..100_000)
            .map(|_| uniform(&mut r))
            .inspect(|u| assert!((0.0..1.0).contains(u)))
            .sum::<f64>()
            / 1e5;
        // σ of the mean is 1/sqrt(12e5) ≈ 9.1e-4; 5σ
        assert!((mean - 0.5).abs() < 4.6e-3, "{mean}");
    }
}
