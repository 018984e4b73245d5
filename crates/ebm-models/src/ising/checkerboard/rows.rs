//! The row kernels of the checkerboard sweep: flip thresholds, run-time
//! instruction-set choice, stripes, and the portable, AVX2 and AVX-512 row
//! updates (same decisions, same bits).

use super::Scratch;
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

/// Flip thresholds indexed by `(nn + D)/2 + 8·[s = +1]` (D ≤ 6).
pub(super) struct Thresholds {
    pub(super) degree: usize,
    pub(super) t: [u32; 16],
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
        Thresholds { degree, t }
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
    let mut keystream = WideChaCha8 { key: *key, stream, block: 0 };
    // the pool holds `len` words, of which `pos..len` are unused
    let Scratch { pool, side, idx, th } = scratch;
    side.resize(h, 0);
    idx.resize(h, 0);
    th.resize(h, 0);
    let cap = (h + GROUP).div_ceil(GROUP) * GROUP + GROUP;
    if pool.len() != cap {
        pool.clear();
        pool.resize(cap, 0);
    }
    let (mut pos, mut len) = (0usize, 0usize);
    let mut flips = 0u64;
    let yrow = |r: usize| y.row(r);
    for (i, x) in rows.chunks_exact_mut(h).enumerate() {
        let r = r0 + i;
        // make sure at least h unused words are in the pool
        if len - pos < h {
            pool.copy_within(pos..len, 0);
            len -= pos;
            pos = 0;
            while len < h {
                let out: &mut [u32; GROUP] = (&mut pool[len..len + GROUP]).try_into().unwrap();
                keystream.fill::<LEVEL>(out);
                len += GROUP;
            }
        }
        let nbrs: [&[i8]; NR] = std::array::from_fn(|q| yrow(geo.row_nbrs[r][q] as usize));
        let y_r = yrow(r);
        // the in-row neighbour on the other side: y[k − 1] or y[k + 1], wrapping
        if (c ^ usize::from(geo.row_parity[r])) == 0 {
            side[0] = y_r[h - 1];
            side[1..].copy_from_slice(&y_r[..h - 1]);
        } else {
            side[..h - 1].copy_from_slice(&y_r[1..]);
            side[h - 1] = y_r[0];
        }
        let rand = &pool[pos..pos + h];
        let (used, f) = row_dense::<NR, LEVEL>(x, y_r, side, nbrs, rand, table, idx, th);
        pos += used;
        flips += f;
    }
    flips
}

/// Updates one row of one colour, one random word per site; `side[k]` is
/// the in-row neighbour not at `[k]` (`y[k − 1]` or `y[k + 1]`, wrapping).
/// `idx` and `th` are scratch rows. With `LEVEL` ≥ [`AVX2`] (x86-64 with
/// AVX2) the threshold lookup is a register permute instead of a gather, and
/// a fused AVX2 ([`row_avx2`]) or AVX-512 ([`row_avx512`]) kernel takes most
/// of the row. Returns (words used, flips).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn row_dense<const NR: usize, const LEVEL: u8>(
    x: &mut [i8],
    y: &[i8],
    side: &[i8],
    nbrs: [&[i8]; NR],
    rand: &[u32],
    table: &Thresholds,
    idx: &mut [u32],
    th: &mut [u32],
) -> (usize, u64) {
    let h = x.len();
    let d = table.degree as i8;
    let (y, side, rand) = (&y[..h], &side[..h], &rand[..h]);
    let nbrs: [&[i8]; NR] = std::array::from_fn(|q| &nbrs[q][..h]);
    let mut flips = 0u32;
    // the fused kernels take 64 (AVX-512) or 32 (AVX2) sites at a time, the
    // loops below the rest
    let mut k0 = 0;
    #[cfg(target_arch = "x86_64")]
    if LEVEL >= AVX512 {
        // SAFETY: LEVEL = AVX512 only inside functions compiled with
        // `target_feature(enable = "avx512f,avx512bw,avx512vl,avx2")`, called
        // after run-time detection of those; every slice has length h.
        (k0, flips) = unsafe { row_avx512(x, y, side, &nbrs, rand, &table.t, d) };
    }
    #[cfg(target_arch = "x86_64")]
    if LEVEL >= AVX2 {
        // SAFETY: LEVEL ≥ AVX2 only inside functions compiled with
        // `target_feature(enable = "avx2")`, called after run-time detection
        // of AVX2; every slice has length h (sliced above), k0 ≤ h.
        let (k1, f1) = unsafe {
            row_avx2::<NR>(
                &mut x[k0..],
                &y[k0..],
                &side[k0..],
                &std::array::from_fn(|q| &nbrs[q][k0..]),
                &rand[k0..],
                &table.t,
                d,
            )
        };
        k0 += k1;
        flips += f1;
    }
    let (x, y, side, rand) = (&mut x[k0..], &y[k0..], &side[k0..], &rand[k0..]);
    let n = h - k0;
    let (idx, th) = (&mut idx[..n], &mut th[..n]);
    // 1. table index (nn + D)/2 + 8·[s = +1]
    for k in 0..n {
        let mut nn = y[k] + side[k];
        for nb in &nbrs {
            nn += nb[k0 + k];
        }
        idx[k] = (((nn + d) >> 1) | (i8::from(x[k] > 0) << 3)) as u32;
    }
    // 2. thresholds
    lookup::<LEVEL>(&table.t, idx, th);
    // 3. decisions
    for k in 0..n {
        let (s, t) = (x[k], th[k]);
        let flip = (rand[k] < t) | (t == u32::MAX);
        x[k] = if flip { -s } else { s };
        flips += u32::from(flip);
    }
    (h, u64::from(flips))
}

/// The row update of [`row_dense`] for sites `0..64·⌊h/64⌋` in AVX-512
/// registers: neighbour sums and table indices in 64 `i8` lanes, thresholds
/// by one 16-entry permute per 16 sites, unsigned compares into mask
/// registers, and the flips as a masked negation. Returns (sites done, flips).
///
/// # Safety
/// AVX-512 F, BW and VL must be available; all slices have the length of `x`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) unsafe fn row_avx512<const NR: usize>(
    x: &mut [i8],
    y: &[i8],
    side: &[i8],
    nbrs: &[&[i8]; NR],
    rand: &[u32],
    t: &[u32; 16],
    d: i8,
) -> (usize, u32) {
    use std::arch::x86_64::*;
    let h = x.len();
    let mut flips = 0u32;
    let mut k = 0;
    // certain flips (threshold u32::MAX) as a byte table for `vpshufb`
    let certain: [i8; 16] = std::array::from_fn(|i| -i8::from(t[i] == u32::MAX));
    // SAFETY: the caller guarantees AVX-512 F/BW/VL; every load and store
    // covers `k..k + 64` bytes (or `k..k + 64` words of `rand`) with
    // `k + 64 ≤ h`, inside slices of length h; unaligned loads and stores.
    unsafe {
        let tv = _mm512_loadu_si512(t.as_ptr().cast());
        let cert = _mm512_broadcast_i32x4(_mm_loadu_si128(certain.as_ptr().cast()));
        let dv = _mm512_set1_epi8(d);
        let low7 = _mm512_set1_epi8(0x7f);
        let eight = _mm512_set1_epi8(8);
        let zero = _mm512_setzero_si512();
        while k + 64 <= h {
            let ld = |p: *const i8| _mm512_loadu_si512(p.add(k).cast());
            let s = ld(x.as_ptr());
            let mut nn = _mm512_add_epi8(ld(y.as_ptr()), ld(side.as_ptr()));
            for nb in nbrs {
                nn = _mm512_add_epi8(nn, ld(nb.as_ptr()));
            }
            // (nn + D)/2: nn + D is even and in 0..=12, so a 16-bit shift and a mask do
            let m = _mm512_and_si512(_mm512_srli_epi16::<1>(_mm512_add_epi8(nn, dv)), low7);
            let up = _mm512_cmpgt_epi8_mask(s, zero);
            let idx8 = _mm512_mask_add_epi8(m, up, m, eight);
            let sure = _mm512_shuffle_epi8(cert, idx8);
            let mut fm: u64 = _mm512_test_epi8_mask(sure, sure);
            let words = |g: usize| _mm512_loadu_si512(rand.as_ptr().add(k + 16 * g).cast());
            let lt = |q: __m128i, u: __m512i| {
                let th = _mm512_permutexvar_epi32(_mm512_cvtepu8_epi32(q), tv);
                u64::from(_mm512_cmplt_epu32_mask(u, th))
            };
            fm |= lt(_mm512_castsi512_si128(idx8), words(0));
            fm |= lt(_mm512_extracti32x4_epi32::<1>(idx8), words(1)) << 16;
            fm |= lt(_mm512_extracti32x4_epi32::<2>(idx8), words(2)) << 32;
            fm |= lt(_mm512_extracti32x4_epi32::<3>(idx8), words(3)) << 48;
            // s → −s where the flip mask is set
            let new = _mm512_mask_sub_epi8(s, fm, zero, s);
            flips += fm.count_ones();
            _mm512_storeu_si512(x.as_mut_ptr().add(k).cast(), new);
            k += 64;
        }
    }
    (k, flips)
}

/// The row update of [`row_dense`] for sites `0..32·⌊h/32⌋`, fused in AVX2
/// registers: neighbour sums and table indices in 32 `i8` lanes, thresholds by
/// two 8-entry permutes, unsigned compares of the words, and the flips packed
/// back to `i8`. Returns (sites done, flips).
///
/// # Safety
/// AVX2 must be available; all slices have the length of `x`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) unsafe fn row_avx2<const NR: usize>(
    x: &mut [i8],
    y: &[i8],
    side: &[i8],
    nbrs: &[&[i8]; NR],
    rand: &[u32],
    t: &[u32; 16],
    d: i8,
) -> (usize, u32) {
    use std::arch::x86_64::*;
    let h = x.len();
    let mut flips = 0u32;
    let mut k = 0;
    // SAFETY: the caller guarantees AVX2; every load and store covers
    // `k..k + 32` bytes (or `k..k + 32` words of `rand`) with `k + 32 ≤ h`,
    // inside slices of length h; unaligned loads and stores throughout.
    unsafe {
        let lo = _mm256_loadu_si256(t.as_ptr().cast());
        let hi = _mm256_loadu_si256(t.as_ptr().add(8).cast());
        let dv = _mm256_set1_epi8(d);
        let low7 = _mm256_set1_epi8(0x7f);
        let eight = _mm256_set1_epi8(8);
        let zero = _mm256_setzero_si256();
        let bias = _mm256_set1_epi32(i32::MIN);
        let ones = _mm256_set1_epi32(-1);
        let unpack = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        while k + 32 <= h {
            let ld = |p: *const i8| _mm256_loadu_si256(p.add(k).cast());
            let s = ld(x.as_ptr());
            let mut nn = _mm256_add_epi8(ld(y.as_ptr()), ld(side.as_ptr()));
            for nb in nbrs {
                nn = _mm256_add_epi8(nn, ld(nb.as_ptr()));
            }
            // (nn + D)/2: nn + D is even and in 0..=12, so a 16-bit shift and a mask do
            let m = _mm256_and_si256(_mm256_srli_epi16::<1>(_mm256_add_epi8(nn, dv)), low7);
            let idx8 = _mm256_or_si256(m, _mm256_and_si256(_mm256_cmpgt_epi8(s, zero), eight));
            let halves = [_mm256_castsi256_si128(idx8), _mm256_extracti128_si256::<1>(idx8)];
            let mut f = [zero; 4];
            for (g, fg) in f.iter_mut().enumerate() {
                let half = halves[g / 2];
                let q = if g % 2 == 0 { half } else { _mm_srli_si128::<8>(half) };
                let i = _mm256_cvtepu8_epi32(q);
                // bit 3 of the index selects the upper table
                let th = _mm256_castps_si256(_mm256_blendv_ps(
                    _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(lo, i)),
                    _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(hi, i)),
                    _mm256_castsi256_ps(_mm256_slli_epi32::<28>(i)),
                ));
                let u = _mm256_loadu_si256(rand.as_ptr().add(k + 8 * g).cast());
                // u < th as unsigned, or th = u32::MAX (certain flip)
                let lt = _mm256_cmpgt_epi32(_mm256_xor_si256(th, bias), _mm256_xor_si256(u, bias));
                *fg = _mm256_or_si256(lt, _mm256_cmpeq_epi32(th, ones));
            }
            // 4 × 8 i32 masks → 32 i8 masks (saturating packs keep 0 and −1),
            // then undo the packs' per-128-bit-lane interleaving
            let p =
                _mm256_packs_epi16(_mm256_packs_epi32(f[0], f[1]), _mm256_packs_epi32(f[2], f[3]));
            let fm = _mm256_permutevar8x32_epi32(p, unpack);
            // s → −s where fm = −1: (s ^ fm) − fm
            let new = _mm256_sub_epi8(_mm256_xor_si256(s, fm), fm);
            flips += (_mm256_movemask_epi8(fm) as u32).count_ones();
            _mm256_storeu_si256(x.as_mut_ptr().add(k).cast(), new);
            k += 32;
        }
    }
    (k, flips)
}

/// `th[k] = t[idx[k] & 15]`.
#[inline(always)]
pub(super) fn lookup<const LEVEL: u8>(t: &[u32; 16], idx: &[u32], th: &mut [u32]) {
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if LEVEL >= AVX2 {
        use std::arch::x86_64::*;
        // SAFETY: LEVEL ≥ AVX2 only inside functions compiled with
        // `target_feature(enable = "avx2")`, called after run-time detection
        // of AVX2; loads and stores are unaligned and within the slices (8
        // words at `k`, with `k + 8 ≤ len`).
        unsafe {
            let lo = _mm256_loadu_si256(t.as_ptr().cast());
            let hi = _mm256_loadu_si256(t.as_ptr().add(8).cast());
            let n = idx.len().min(th.len());
            while done + 8 <= n {
                let i = _mm256_loadu_si256(idx.as_ptr().add(done).cast());
                let a = _mm256_permutevar8x32_epi32(lo, i);
                let b = _mm256_permutevar8x32_epi32(hi, i);
                // bit 3 of the index selects the upper table
                let sel = _mm256_slli_epi32(i, 28);
                let v = _mm256_castps_si256(_mm256_blendv_ps(
                    _mm256_castsi256_ps(a),
                    _mm256_castsi256_ps(b),
                    _mm256_castsi256_ps(sel),
                ));
                _mm256_storeu_si256(th.as_mut_ptr().add(done).cast(), v);
                done += 8;
            }
        }
    }
    for (o, &i) in th[done..].iter_mut().zip(&idx[done..]) {
        *o = t[i as usize & 15];
    }
}
