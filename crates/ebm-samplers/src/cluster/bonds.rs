//! Bond draws and cluster bookkeeping shared by Wolff and Swendsen–Wang.

use rand::Rng;

/// Opens a bond of strength K with probability `p = 1 − e^{−βK}`, comparing
/// one raw 64-bit word with `⌊p·2^64⌋` (the probability is exact to 2^−64):
/// the general graphs' test. On a uniform torus the samplers compare 32-bit
/// words from [`Words`] with [`threshold32`] instead (exact to 2^−33, far
/// below any statistical resolution, at half the random bits).
/// The threshold of the last K is cached, so a uniform lattice (or a ±J
/// glass) computes one exponential per sweep, and any other graph one per
/// distinct coupling met in a row.
pub(crate) struct BondTest {
    beta: f64,
    k: f64,
    threshold: u64,
}

impl BondTest {
    pub(crate) fn new(beta: f64) -> Self {
        BondTest { beta, k: f64::NAN, threshold: 0 }
    }

    #[inline]
    pub(crate) fn open<R: Rng + ?Sized>(&mut self, k: f64, rng: &mut R) -> bool {
        let t = self.threshold(k);
        rng.next_u64() < t
    }

    /// `⌊p·2^64⌋` for strength `k`: a word below it opens the bond.
    #[inline]
    pub(crate) fn threshold(&mut self, k: f64) -> u64 {
        if k != self.k {
            self.k = k;
            let p = -(-self.beta * k).exp_m1();
            // p ∈ [0, 1]; 2^64 · p rounds to u64::MAX at p = 1
            self.threshold =
                if p >= 1.0 { u64::MAX } else { (p * 18_446_744_073_709_551_616.0) as u64 };
        }
        self.threshold
    }
}

/// Random 32-bit words for bond tests, drawn from the chain's stream 256
/// bytes at a time (one bulk copy out of the generator instead of a call per
/// word). Lives for one sweep; the words left at its end are dropped, so the
/// stream's position after a sweep depends only on the words used.
pub(crate) struct Words {
    buf: [u8; 256],
    pos: usize,
}

impl Words {
    pub(crate) fn new() -> Self {
        Words { buf: [0; 256], pos: 256 }
    }

    #[inline]
    pub(crate) fn next<R: Rng + ?Sized>(&mut self, rng: &mut R) -> u32 {
        if self.pos == 256 {
            rng.fill_bytes(&mut self.buf);
            self.pos = 0;
        }
        let w = &self.buf[self.pos..self.pos + 4];
        self.pos += 4;
        u32::from_le_bytes([w[0], w[1], w[2], w[3]])
    }
}

/// A byte-wide bond test against a 32-bit threshold `t` (≤ 2^32, as
/// [`threshold32`]): a random byte below `t >> 24` opens the bond, above it
/// closes it, and a tie (1 in 256) is settled by 24 more random bits
/// ([`settle_tie`]): exactly the test of one 32-bit word against `t`, at a
/// quarter of the random bits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ByteTest {
    top: u32,
    low: u32,
}

impl ByteTest {
    pub(crate) fn new(threshold: u64) -> Self {
        ByteTest { top: (threshold >> 24) as u32, low: (threshold & 0xff_ffff) as u32 }
    }

    /// Whether an eligible bond opens on `byte` (`eligible` false: never).
    #[inline]
    pub(crate) fn open<R: Rng + ?Sized>(self, eligible: bool, byte: u32, rng: &mut R) -> bool {
        if eligible & (byte == self.top) {
            return settle_tie(self.low, rng);
        }
        eligible & (byte < self.top)
    }
}

/// The rare tie of [`ByteTest`]: 24 more bits against the threshold's low 24.
#[cold]
#[inline(never)]
fn settle_tie<R: Rng + ?Sized>(low: u32, rng: &mut R) -> bool {
    rng.next_u32() & 0xff_ffff < low
}

/// `round(p · 2^32)` for the bond probability of strength `k` at `beta`: a
/// 32-bit word below it opens the bond (p exact to 2^−33; p = 1 always
/// opens, p = 0 never).
pub(crate) fn threshold32(beta: f64, k: f64) -> u64 {
    let p = -(-beta * k).exp_m1();
    (p.clamp(0.0, 1.0) * 4_294_967_296.0).round() as u64
}

/// A uniform index below `n` (> 0) from one word (multiply-shift; the bias,
/// below n / 2^64, is far under any statistical resolution).
#[inline]
pub(crate) fn index<R: Rng + ?Sized>(rng: &mut R, n: usize) -> usize {
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

/// The root of `i` in a union-find forest, halving paths on the way.
#[inline]
pub(crate) fn find(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let p = parent[i as usize];
        parent[i as usize] = parent[p as usize];
        i = p;
    }
    i
}

/// Joins the trees of `a` and `b` (the larger root under the smaller, so
/// the result depends only on the order of calls).
#[inline]
pub(crate) fn union(parent: &mut [u32], a: u32, b: u32) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra < rb {
        parent[rb as usize] = ra;
    } else if rb < ra {
        parent[ra as usize] = rb;
    }
}

/// A stable heat-bath choice among options with energies `e[k]` at `beta`
/// (weights e^{−β e_k}, shifted by the minimum), from one uniform draw.
pub(crate) fn heat_bath<R: Rng + ?Sized>(e: &[f64], beta: f64, rng: &mut R) -> usize {
    let min = e.iter().copied().fold(f64::INFINITY, f64::min);
    let total: f64 = e.iter().map(|&ek| (-beta * (ek - min)).exp()).sum();
    let mut u = ebm_core::uniform(rng) * total;
    for (k, &ek) in e.iter().enumerate() {
        u -= (-beta * (ek - min)).exp();
        if u < 0.0 {
            return k;
        }
    }
    // rounding: the last option with positive weight
    e.iter().rposition(|&ek| (-beta * (ek - min)).exp() > 0.0).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebm_core::{Purpose, Seed};

    /// The byte test with its tie settled is exactly the 32-bit word test,
    /// at every byte, for thresholds at, between and around the byte steps
    /// (p = 0 and p = 1 included).
    #[test]
    fn the_byte_test_is_the_32_bit_test() {
        let mut rng = Seed(4).stream(Purpose::SAMPLING, 0);
        let thresholds = [0u64, 1, 0x00ff_ffff, 0x0100_0000, 0x9612_3456, 0xffff_ffff, 1 << 32];
        for &t in &thresholds {
            let test = ByteTest::new(t);
            for byte in 0..256u32 {
                for _ in 0..4 {
                    let low = rng.clone().next_u32() & 0xff_ffff;
                    let word = u64::from(byte << 24 | low);
                    assert_eq!(test.open(true, byte, &mut rng), word < t, "t {t:#x} byte {byte}");
                    assert!(!test.open(false, byte, &mut rng));
                }
            }
        }
    }
}
