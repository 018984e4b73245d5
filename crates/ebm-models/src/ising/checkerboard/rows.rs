//! The row kernels of the checkerboard sweep: flip thresholds, run-time
//! instruction-set choice, stripes, and the portable, AVX2 and AVX-512 row
//! updates (same decisions, same bits), each drawing 16 bits per site and
//! resolving ties with [`ties`](super::ties).

use super::Scratch;
use super::ties::{Refine, draw, resolve};
pub(super) use crate::keystream::{AVX2, AVX512, GENERIC, Isa};
use crate::keystream::{GROUP, WideChaCha8};
use crate::sublattice::schedule::OtherRows;
use ebm_core::{Beta, LocalRule};

/// Shared, read-only geometry of a chain.
pub(super) struct Geometry<'a> {
    pub(super) half: usize,
    pub(super) row_parity: &'a [u8],
    pub(super) row_nbrs: &'a [[u32; 4]],
    pub(super) n_row_nbrs: usize,
}

/// Flip thresholds indexed by `(nn + D)/2 + 8·[s = +1]` (D ≤ 6): the
/// 32-bit `t`, its upper and lower halves, and which are certain flips.
pub(super) struct Thresholds {
    pub(super) degree: usize,
    pub(super) t: [u32; 16],
    pub(super) hi: [u16; 16],
    pub(super) lo: [u16; 16],
}

impl Thresholds {
    pub(super) fn new(rule: LocalRule, beta: Beta, (j, h): (f64, f64), degree: usize) -> Self {
        let b = beta.value();
        let mut t = [0u32; 16];
        for (si, s) in [-1.0, 1.0].into_iter().enumerate() {
            for m in 0..=degree {
                let nn = 2.0 * m as f64 - degree as f64;
                let delta = 2.0 * s * (j * nn + h);
                let p = rule.flip_probability(b, delta);
                t[8 * si + m] = threshold(p);
            }
        }
        let hi = t.map(|t| (t >> 16) as u16);
        let lo = t.map(|t| t as u16);
        Thresholds { degree, t, hi, lo }
    }
}

/// `⌊p·2³²⌋`, with `u32::MAX` reserved for p = 1 (certain flip).
pub(super) fn threshold(p: f64) -> u32 {
    if p >= 1.0 {
        u32::MAX
    } else {
        ((p * 4_294_967_296.0) as u64).min(u64::from(u32::MAX - 1)) as u32
    }
}

/// One colour of one stripe: rows `r0..` of colour `c`, drawing from ChaCha8
/// stream `stream` of `key`. Returns the number of flips.
#[allow(clippy::too_many_arguments)]
pub(super) fn run_stripe(
    isa: Isa,
    geo: &Geometry<'_>,
    table: &Thresholds,
    key: &[u32; 8],
    stream: u64,
    c: usize,
    r0: usize,
    rows: &mut [i8],
    y: &OtherRows<'_, i8>,
    scratch: &mut Scratch,
) -> u64 {
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Isa::detect` found avx512f, avx512bw and avx512vl on this CPU.
        Isa::Avx512 => unsafe { stripe_avx512(geo, table, key, stream, c, r0, rows, y, scratch) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Isa::detect` found avx2 on this CPU.
        Isa::Avx2 => unsafe { stripe_avx2(geo, table, key, stream, c, r0, rows, y, scratch) },
        Isa::Generic => stripe::<GENERIC>(geo, table, key, stream, c, r0, rows, y, scratch),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma,bmi1,bmi2,popcnt")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn stripe_avx512(
    geo: &Geometry<'_>,
    table: &Thresholds,
    key: &[u32; 8],
    stream: u64,
    c: usize,
    r0: usize,
    rows: &mut [i8],
    y: &OtherRows<'_, i8>,
    scratch: &mut Scratch,
) -> u64 {
    stripe::<AVX512>(geo, table, key, stream, c, r0, rows, y, scratch)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,bmi1,bmi2,popcnt")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn stripe_avx2(
    geo: &Geometry<'_>,
    table: &Thresholds,
    key: &[u32; 8],
    stream: u64,
    c: usize,
    r0: usize,
    rows: &mut [i8],
    y: &OtherRows<'_, i8>,
    scratch: &mut Scratch,
) -> u64 {
    stripe::<AVX2>(geo, table, key, stream, c, r0, rows, y, scratch)
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn stripe<const LEVEL: u8>(
    geo: &Geometry<'_>,
    table: &Thresholds,
    key: &[u32; 8],
    stream: u64,
    c: usize,
    r0: usize,
    rows: &mut [i8],
    y: &OtherRows<'_, i8>,
    scratch: &mut Scratch,
) -> u64 {
    match geo.n_row_nbrs {
        0 => stripe_n::<0, LEVEL>(geo, table, key, stream, c, r0, rows, y, scratch),
        2 => stripe_n::<2, LEVEL>(geo, table, key, stream, c, r0, rows, y, scratch),
        _ => stripe_n::<4, LEVEL>(geo, table, key, stream, c, r0, rows, y, scratch),
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn stripe_n<const NR: usize, const LEVEL: u8>(
    geo: &Geometry<'_>,
    table: &Thresholds,
    key: &[u32; 8],
    stream: u64,
    c: usize,
    r0: usize,
    rows: &mut [i8],
    y: &OtherRows<'_, i8>,
    scratch: &mut Scratch,
) -> u64 {
    let h = geo.half;
    // 16-bit draws, two per word: a row takes ⌈h/2⌉ words
    let w = h.div_ceil(2);
    let mut keystream = WideChaCha8 { key: *key, stream, block: 0 };
    // the pool holds `len` words, of which `pos..len` are unused
    let Scratch { pool, side, idx, refine } = scratch;
    let mut refine = Refine::new(key, stream, refine);
    side.resize(h, 0);
    idx.resize(h, 0);
    let cap = (w + GROUP).div_ceil(GROUP) * GROUP + GROUP;
    if pool.len() != cap {
        pool.clear();
        pool.resize(cap, 0);
    }
    let (mut pos, mut len) = (0usize, 0usize);
    let mut flips = 0u64;
    let yrow = |r: usize| y.row(r);
    for (i, x) in rows.chunks_exact_mut(h).enumerate() {
        let r = r0 + i;
        // make sure at least w unused words are in the pool
        if len - pos < w {
            pool.copy_within(pos..len, 0);
            len -= pos;
            pos = 0;
            while len < w {
                let out: &mut [u32; GROUP] = (&mut pool[len..len + GROUP]).try_into().unwrap();
                keystream.fill::<LEVEL>(out);
                len += GROUP;
            }
        }
        let nbrs: [&[i8]; NR] = std::array::from_fn(|q| yrow(geo.row_nbrs[r][q] as usize));
        let y_r = yrow(r);
        // the in-row neighbour on the other side: y[k − 1] or y[k + 1], wrapping
        let left = (c ^ usize::from(geo.row_parity[r])) == 0;
        let rand = &pool[pos..pos + w];
        let f = row_dense::<NR, LEVEL>(x, y_r, left, side, nbrs, rand, table, idx, &mut refine);
        pos += w;
        flips += f;
    }
    flips
}

/// Updates one row of one colour, one 16-bit draw per site (site k: half
/// `k mod 2` of word `⌊k/2⌋` of `rand`) and a refinement draw on a tie;
/// the in-row neighbour not at `y[k]` is `y[k − 1]` if `left`, else
/// `y[k + 1]` (wrapping). `side` and `idx` are scratch rows. With `LEVEL` ≥
/// [`AVX2`] (x86-64 with AVX2) a fused AVX2 ([`row_avx2`]) or AVX-512
/// ([`row_avx512`]) kernel takes most of the row. Every path decides the
/// sites in increasing order, so the refinement draws go to the same sites.
/// Returns the number of flips.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn row_dense<const NR: usize, const LEVEL: u8>(
    x: &mut [i8],
    y: &[i8],
    left: bool,
    side: &mut [i8],
    nbrs: [&[i8]; NR],
    rand: &[u32],
    table: &Thresholds,
    idx: &mut [u8],
    refine: &mut Refine<'_>,
) -> u64 {
    let h = x.len();
    let d = table.degree as i8;
    let (y, rand) = (&y[..h], &rand[..h.div_ceil(2)]);
    let nbrs: [&[i8]; NR] = std::array::from_fn(|q| &nbrs[q][..h]);
    let mut flips = 0u32;
    // the fused kernels take 64 (AVX-512) or 32 (AVX2) sites at a time, the
    // loops below the rest
    let mut k0 = 0;
    #[cfg(target_arch = "x86_64")]
    if LEVEL >= AVX512 {
        // SAFETY: LEVEL = AVX512 only inside functions compiled with
        // `target_feature(enable = "avx512f,avx512bw,avx512vl,avx2")`, called
        // after run-time detection of those; every slice has length h (`rand`
        // ⌈h/2⌉ words).
        (k0, flips) = unsafe { row_avx512(x, y, left, &nbrs, rand, table, refine) };
    }
    // the side neighbours as a row from `k_side` on, for the code that reads
    // them from memory: the scalar tail, and the AVX2 kernel without AVX-512
    // (the fused kernels otherwise load their own from y: a row copied here
    // and read back at once by a wide load stalls on failed store forwarding,
    // 12 % of a 256² sweep)
    let wide = LEVEL >= AVX512;
    let k_side = if wide { k0 + (h - k0) / 32 * 32 } else { k0 };
    let m = h - k_side;
    let side = &mut side[..m];
    if m > 0 {
        if !left {
            side[..m - 1].copy_from_slice(&y[k_side + 1..]);
            side[m - 1] = y[0];
        } else if k_side == 0 {
            side[0] = y[h - 1];
            side[1..].copy_from_slice(&y[..h - 1]);
        } else {
            side.copy_from_slice(&y[k_side - 1..h - 1]);
        }
    }
    #[cfg(target_arch = "x86_64")]
    if LEVEL >= AVX2 {
        // SAFETY: LEVEL ≥ AVX2 only inside functions compiled with
        // `target_feature(enable = "avx2")`, and `wide` only inside those
        // with AVX-512 BW/VL, called after run-time detection; `y` is the
        // row (h), the other slices cover sites k0..h (sliced here), `side`
        // too when not `wide`; k0 ≤ h and even.
        let (k1, f1) = unsafe {
            row_avx2::<NR>(
                &mut x[k0..],
                y,
                k0,
                left,
                wide,
                side,
                &std::array::from_fn(|q| &nbrs[q][k0..]),
                &rand[k0 / 2..],
                table,
                refine,
            )
        };
        k0 += k1;
        flips += f1;
    }
    let n = h - k0;
    let (x, y, side, idx) = (&mut x[k0..], &y[k0..], &side[k0 - k_side..], &mut idx[..n]);
    // 1. table index (nn + D)/2 + 8·[s = +1]
    for k in 0..n {
        let mut nn = y[k] + side[k];
        for nb in &nbrs {
            nn += nb[k0 + k];
        }
        idx[k] = (((nn + d) >> 1) | (i8::from(x[k] > 0) << 3)) as u8;
    }
    // 2. decisions, in increasing k (the refinement draws' order)
    for k in 0..n {
        let i = usize::from(idx[k] & 15);
        let a = draw(rand, k0 + k);
        let flip = table.t[i] == u32::MAX
            || a < table.hi[i]
            || (a == table.hi[i] && refine.next() < table.lo[i]);
        if flip {
            x[k] = -x[k];
        }
        flips += u32::from(flip);
    }
    u64::from(flips)
}

/// The row update of [`row_dense`] for sites `0..64·⌊h/64⌋` in AVX-512
/// registers: neighbour sums and table indices in 64 `i8` lanes, the upper
/// threshold halves by one 32-entry `u16` permute per 32 sites, unsigned
/// 16-bit compares into mask registers (ties go to [`resolve`]), and the flips
/// as a masked negation. Returns (sites done, flips).
///
/// The side neighbours are loads from `y` at k ∓ 1, the wrapped end by a
/// masked load and a byte insert.
///
/// # Safety
/// AVX-512 F, BW and VL must be available; `y` and `nbrs` have the length
/// of `x`, `rand` at least half of it.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) unsafe fn row_avx512<const NR: usize>(
    x: &mut [i8],
    y: &[i8],
    left: bool,
    nbrs: &[&[i8]; NR],
    rand: &[u32],
    table: &Thresholds,
    refine: &mut Refine<'_>,
) -> (usize, u32) {
    use std::arch::x86_64::*;
    let h = x.len();
    let d = table.degree as i8;
    let mut flips = 0u32;
    let mut k = 0;
    // certain flips (threshold u32::MAX) as a byte table for `vpshufb`
    let certain: [i8; 16] = std::array::from_fn(|i| -i8::from(table.t[i] == u32::MAX));
    // SAFETY: the caller guarantees AVX-512 F/BW/VL; every load and store
    // covers `k..k + 64` bytes (or words `k/2..k/2 + 32` of `rand`) with
    // `k + 64 ≤ h`, inside slices of length h (`rand`: ≥ h/2), or `y` at
    // `k − 1..k + 63` (k ≥ 1) or `k + 1..k + 65` (k + 65 ≤ h); the masked
    // loads touch only their unmasked bytes, `y[0..63]` and `y[k + 1..h]`
    // (masked lanes do not fault); unaligned loads and stores.
    unsafe {
        let tv = _mm512_zextsi256_si512(_mm256_loadu_si256(table.hi.as_ptr().cast()));
        let cert = _mm512_broadcast_i32x4(_mm_loadu_si128(certain.as_ptr().cast()));
        let dv = _mm512_set1_epi8(d);
        let low7 = _mm512_set1_epi8(0x7f);
        let eight = _mm512_set1_epi8(8);
        let zero = _mm512_setzero_si512();
        while k + 64 <= h {
            let ld = |p: *const i8| _mm512_loadu_si512(p.add(k).cast());
            let s = ld(x.as_ptr());
            let side = match (left, k) {
                (true, 0) => _mm512_mask_set1_epi8(
                    _mm512_maskz_loadu_epi8(!1, y.as_ptr().wrapping_sub(1)),
                    1,
                    y[h - 1],
                ),
                (true, _) => _mm512_loadu_si512(y.as_ptr().add(k - 1).cast()),
                (false, _) if k + 64 < h => _mm512_loadu_si512(y.as_ptr().add(k + 1).cast()),
                (false, _) => _mm512_mask_set1_epi8(
                    _mm512_maskz_loadu_epi8(u64::MAX >> 1, y.as_ptr().add(k + 1)),
                    1 << 63,
                    y[0],
                ),
            };
            let mut nn = _mm512_add_epi8(ld(y.as_ptr()), side);
            for nb in nbrs {
                nn = _mm512_add_epi8(nn, ld(nb.as_ptr()));
            }
            // (nn + D)/2: nn + D is even and in 0..=12, so a 16-bit shift and a mask do
            let m = _mm512_and_si512(_mm512_srli_epi16::<1>(_mm512_add_epi8(nn, dv)), low7);
            let up = _mm512_cmpgt_epi8_mask(s, zero);
            let idx8 = _mm512_mask_add_epi8(m, up, m, eight);
            let sure = _mm512_shuffle_epi8(cert, idx8);
            let sure: u64 = _mm512_test_epi8_mask(sure, sure);
            // sites 32g..32g + 32: draws in words k/2 + 16g.., thresholds by index
            let (mut lt, mut eq) = (0u64, 0u64);
            for g in 0..2 {
                let u = _mm512_loadu_si512(rand.as_ptr().add(k / 2 + 16 * g).cast());
                let i8s = if g == 0 {
                    _mm512_castsi512_si256(idx8)
                } else {
                    _mm512_extracti64x4_epi64::<1>(idx8)
                };
                let th = _mm512_permutexvar_epi16(_mm512_cvtepu8_epi16(i8s), tv);
                lt |= u64::from(_mm512_cmplt_epu16_mask(u, th)) << (32 * g);
                eq |= u64::from(_mm512_cmpeq_epi16_mask(u, th)) << (32 * g);
            }
            let mut fm = sure | lt;
            let tied = eq & !sure;
            if tied != 0 {
                let mut ib = [0u8; 64];
                _mm512_storeu_si512(ib.as_mut_ptr().cast(), idx8);
                fm |= resolve(tied, &ib, &table.lo, refine);
            }
            // s → −s where the flip mask is set
            let new = _mm512_mask_sub_epi8(s, fm, zero, s);
            flips += fm.count_ones();
            _mm512_storeu_si512(x.as_mut_ptr().add(k).cast(), new);
            k += 64;
        }
    }
    (k, flips)
}

/// The row update of [`row_dense`] for the sites `k0..k0 + 32·⌊n/32⌋` of a
/// row `y` (its other colour; `n = x.len()` sites from k0 on), fused in AVX2
/// registers: neighbour sums and table indices in 32 `i8` lanes, the upper
/// threshold halves by two byte shuffles, signed 16-bit compares of the
/// biased draws (ties go to [`resolve`]), and the flips packed back to `i8`.
/// The side neighbours come from `side` (those of sites k0..), or with
/// `wide` (AVX-512 BW/VL) from loads of `y` at k ∓ 1, the wrapped end by a
/// masked load and a byte insert. Returns (sites done, flips).
///
/// # Safety
/// AVX2 must be available, and AVX-512 BW/VL with `wide`; `nbrs` have the
/// length of `x`, `side` too without `wide`, `rand` at least half of it;
/// `y` is the whole row, `k0 + x.len()` bytes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn row_avx2<const NR: usize>(
    x: &mut [i8],
    y: &[i8],
    k0: usize,
    left: bool,
    wide: bool,
    side: &[i8],
    nbrs: &[&[i8]; NR],
    rand: &[u32],
    table: &Thresholds,
    refine: &mut Refine<'_>,
) -> (usize, u32) {
    use std::arch::x86_64::*;
    let h = x.len();
    let row = y.len();
    let d = table.degree as i8;
    let mut flips = 0u32;
    let mut k = 0;
    let certain: [i8; 16] = std::array::from_fn(|i| -i8::from(table.t[i] == u32::MAX));
    let hi_low: [u8; 16] = table.hi.map(|t| t as u8);
    let hi_high: [u8; 16] = table.hi.map(|t| (t >> 8) as u8);
    // SAFETY: the caller guarantees AVX2 (and AVX-512 BW/VL with `wide`);
    // every load and store covers `k..k + 32` bytes (or words `k/2..k/2 + 16`
    // of `rand`) with `k + 32 ≤ h`, inside slices of length h (`rand`: ≥ h/2),
    // or `y` at `j − 1..j + 31` (j = k0 + k ≥ 1) or `j + 1..j + 33` (j + 33 ≤
    // row); the masked loads touch only their unmasked bytes, `y[0..31]` and
    // `y[j + 1..row]` (masked lanes do not fault); unaligned loads and stores.
    unsafe {
        let table16 =
            |b: &[u8; 16]| _mm256_broadcastsi128_si256(_mm_loadu_si128(b.as_ptr().cast()));
        let (tl, th, cert) =
            (table16(&hi_low), table16(&hi_high), table16(&certain.map(|c| c as u8)));
        let dv = _mm256_set1_epi8(d);
        let low7 = _mm256_set1_epi8(0x7f);
        let eight = _mm256_set1_epi8(8);
        let zero = _mm256_setzero_si256();
        let bias = _mm256_set1_epi16(i16::MIN);
        while k + 32 <= h {
            let ld = |p: *const i8| _mm256_loadu_si256(p.add(k).cast());
            let s = ld(x.as_ptr());
            let j = k0 + k;
            let side = match (wide, left, j) {
                (false, _, _) => ld(side.as_ptr()),
                (true, true, 0) => _mm256_mask_set1_epi8(
                    _mm256_maskz_loadu_epi8(!1, y.as_ptr().wrapping_sub(1)),
                    1,
                    y[row - 1],
                ),
                (true, true, _) => _mm256_loadu_si256(y.as_ptr().add(j - 1).cast()),
                (true, false, _) if j + 32 < row => {
                    _mm256_loadu_si256(y.as_ptr().add(j + 1).cast())
                }
                (true, false, _) => _mm256_mask_set1_epi8(
                    _mm256_maskz_loadu_epi8(u32::MAX >> 1, y.as_ptr().add(j + 1)),
                    1 << 31,
                    y[0],
                ),
            };
            let mut nn = _mm256_add_epi8(_mm256_loadu_si256(y.as_ptr().add(j).cast()), side);
            for nb in nbrs {
                nn = _mm256_add_epi8(nn, ld(nb.as_ptr()));
            }
            // (nn + D)/2: nn + D is even and in 0..=12, so a 16-bit shift and a mask do
            let m = _mm256_and_si256(_mm256_srli_epi16::<1>(_mm256_add_epi8(nn, dv)), low7);
            let idx8 = _mm256_or_si256(m, _mm256_and_si256(_mm256_cmpgt_epi8(s, zero), eight));
            // the thresholds' two bytes; unpacking interleaves per 128-bit
            // lane (sites 0..8 | 16..24 and 8..16 | 24..32), the permutes
            // put sites 0..16 and 16..32 together
            let (bl, bh) = (_mm256_shuffle_epi8(tl, idx8), _mm256_shuffle_epi8(th, idx8));
            let (a, b) = (_mm256_unpacklo_epi8(bl, bh), _mm256_unpackhi_epi8(bl, bh));
            let t16 =
                [_mm256_permute2x128_si256::<0x20>(a, b), _mm256_permute2x128_si256::<0x31>(a, b)];
            let mut lt = [zero; 2];
            let mut eq = [zero; 2];
            for g in 0..2 {
                let u = _mm256_loadu_si256(rand.as_ptr().add(k / 2 + 8 * g).cast());
                lt[g] =
                    _mm256_cmpgt_epi16(_mm256_xor_si256(t16[g], bias), _mm256_xor_si256(u, bias));
                eq[g] = _mm256_cmpeq_epi16(t16[g], u);
            }
            // 2 × 16 i16 masks → 32 i8 masks (saturating packs keep 0 and −1),
            // then undo the pack's per-128-bit-lane interleaving
            let pack =
                |p: [__m256i; 2]| _mm256_permute4x64_epi64::<0xd8>(_mm256_packs_epi16(p[0], p[1]));
            let sure = _mm256_shuffle_epi8(cert, idx8);
            let fm = _mm256_or_si256(pack(lt), sure);
            let tied = (_mm256_movemask_epi8(pack(eq)) & !_mm256_movemask_epi8(sure)) as u32;
            // s → −s where fm = −1: (s ^ fm) − fm
            let new = _mm256_sub_epi8(_mm256_xor_si256(s, fm), fm);
            flips += (_mm256_movemask_epi8(fm) as u32).count_ones();
            _mm256_storeu_si256(x.as_mut_ptr().add(k).cast(), new);
            if tied != 0 {
                let mut ib = [0u8; 64];
                _mm256_storeu_si256(ib.as_mut_ptr().cast(), idx8);
                let mut extra = resolve(u64::from(tied), &ib, &table.lo, refine);
                flips += extra.count_ones();
                while extra != 0 {
                    let j = extra.trailing_zeros() as usize;
                    x[k + j] = -x[k + j];
                    extra &= extra - 1;
                }
            }
            k += 32;
        }
    }
    (k, flips)
}
