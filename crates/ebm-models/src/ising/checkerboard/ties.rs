//! The exact two-stage comparison `u < T` of a 32-bit uniform u with a
//! threshold T, drawing only 16 bits in the common case.
//!
//! Write `u = 2¹⁶·a + b` and `T = 2¹⁶·T_hi + T_lo`. Then `u < T` iff
//! `a < T_hi`, or `a = T_hi` and `b < T_lo`. The kernels draw a (16 bits, two
//! sites per ChaCha word) and decide at once unless `a = T_hi`, which has
//! probability 2⁻¹⁶; only then do they draw b, from a second stream of the
//! stripe ([`Refine`]). So the flip probability is exactly `T/2³²`, as with
//! a whole word per site, for half the keystream.

use crate::keystream::{GENERIC, GROUP, WideChaCha8};

/// Stream ids of the refinement draws: bit 33 set on the stripe's stream
/// id `2³²·c + s` (c ∈ {0, 1}), so they never meet a site stream.
const REFINE_BIT: u64 = 1 << 33;

/// The refinement draws `b` of one stripe and colour: the 16-bit halves
/// (low, then high) of the words of ChaCha8 stream `stream | 2³³`, in the
/// keystream's word order, generated one group at a time when first needed.
pub(super) struct Refine<'a> {
    keystream: WideChaCha8,
    buf: &'a mut Vec<u32>,
    /// Next half-word of `buf` (2·GROUP: exhausted).
    pos: usize,
}

impl<'a> Refine<'a> {
    /// The refinement draws of the stripe stream `stream` of `key`, using
    /// `buf` as their buffer.
    pub(super) fn new(key: &[u32; 8], stream: u64, buf: &'a mut Vec<u32>) -> Self {
        let keystream = WideChaCha8 { key: *key, stream: stream | REFINE_BIT, block: 0 };
        Refine { keystream, buf, pos: 2 * GROUP }
    }

    /// The next 16-bit draw.
    #[inline]
    pub(super) fn next(&mut self) -> u16 {
        if self.pos == 2 * GROUP {
            self.refill();
        }
        let w = self.buf[self.pos / 2];
        let b = (w >> (16 * (self.pos % 2))) as u16;
        self.pos += 1;
        b
    }

    #[cold]
    #[inline(never)]
    fn refill(&mut self) {
        self.buf.resize(GROUP, 0);
        let out: &mut [u32; GROUP] = (&mut self.buf[..]).try_into().expect("GROUP words");
        self.keystream.fill::<GENERIC>(out);
        self.pos = 0;
    }
}

/// The sites among `tied` (bit j: site j of a block) that flip: for each,
/// in increasing j, one refinement draw b and the test `b < lo[idx[j] & 15]`.
#[cold]
#[inline(never)]
pub(super) fn resolve(tied: u64, idx: &[u8; 64], lo: &[u16; 16], refine: &mut Refine<'_>) -> u64 {
    let mut flips = 0u64;
    let mut m = tied;
    while m != 0 {
        let j = m.trailing_zeros() as usize;
        if refine.next() < lo[usize::from(idx[j] & 15)] {
            flips |= 1 << j;
        }
        m &= m - 1;
    }
    flips
}

/// The 16-bit draw `a` of site `k` of a row whose draws are `words`: half
/// `k mod 2` (low, then high) of word `⌊k/2⌋`, as the SIMD kernels load them
/// (x86-64 is little-endian).
#[inline(always)]
pub(super) fn draw(words: &[u32], k: usize) -> u16 {
    (words[k / 2] >> (16 * (k % 2))) as u16
}
