//! The checkerboard kernel of a uniform periodic Potts lattice: what
//! `Gibbs::block()` and `Metropolis::block()` run on such a model, through
//! [`CategoricalModel::block_kernel`](ebm_core::CategoricalModel::block_kernel).
//!
//! It applies to a [`Potts`] model on a periodic chain, square or cubic
//! lattice with every side even (bipartite), uniform q, coupling J and
//! fields h, when its transition table is small (`(2d + 1)^{q−1}` neighbour
//! compositions, times q old values for Metropolis, at most
//! [`MAX_TABLE`] entries); any other Potts model runs the generic block
//! sweep. J and h are read from the model given to each sweep; a model that
//! stops fitting falls back to the generic sweep.
//!
//! **Layout.** As the Ising kernel: one `u8` array per colour, row by row
//! along the last axis; the 2d neighbours of `X_c[r][k]` are `X_{1−c}` at
//! `[r][k]`, `[r][k ∓ 1]` and `[r'][k]`.
//!
//! **The update.** A site's conditional depends on its neighbours only
//! through the counts `n_k` of neighbours in each value k (Σ n_k = 2d), so a
//! table indexed by the composition `(n_0, …, n_{q−2})` (and, for
//! Metropolis, the old value) holds the cumulative transition probabilities
//! as 32-bit thresholds `T_m = ⌊P(new ≤ m)·2³²⌋`, computed once per sweep from
//! β, J and h; the new value is the number of thresholds a fresh 32-bit
//! uniform reaches. Heat bath: `P(k) ∝ e^{β(J n_k + h_k)}`; Metropolis:
//! another value proposed uniformly and accepted with `min(1, e^{−βΔ})`, the
//! two folded into one draw. Probabilities are thus quantised to multiples
//! of 2⁻³², as in the Ising kernel. No `exp` in the loop.
//!
//! **Randomness.** Each sweep gets a 256-bit key from the sampler; colour c
//! of stripe s draws from the ChaCha8 keystream `(key, 2^32·c + s)` of the
//! Ising kernel (sixteen blocks at a time, AVX-512 where available, the
//! words in that keystream's fixed order), one word per site in row order.
//! Stripes (a number independent of the thread count) run in parallel, so a
//! chain's trajectory is bit-identical for any number of threads.
//!
//! **Speed.** The stripe loop is compiled three times (AVX-512, AVX2,
//! portable) and chosen at run time; the row loop is specialised for the
//! common (q, dimension, rule) and left to the compiler to vectorise.

use super::Potts;
use crate::keystream::{AVX2, AVX512, GENERIC, GROUP, Isa, WideChaCha8};
use crate::lattice::Boundary;
use crate::sublattice::schedule::OtherRows;
use crate::sublattice::{Layout, SiteView, schedule};
use ebm_core::{Beta, KernelState, LocalRule};
use std::any::Any;

/// The largest transition table the kernel builds (entries of q − 1 words).
pub const MAX_TABLE: usize = 1 << 14;

/// Stripes per colour.
const STRIPES: usize = 8;

/// Lattices below this size sweep their stripes on the calling thread.
const PARALLEL_MIN_SITES: usize = 1 << 14;

/// The kernel state: values in the sublattice layout and the geometry.
#[derive(Debug, Clone)]
pub(crate) struct PottsSublattices {
    values: [Vec<u8>; 2],
    layout: Layout,
    q: usize,
    /// One scratch pool per stripe (random words, side neighbours).
    scratch: Vec<Scratch>,
    view: SiteView<u8>,
}

/// A stripe's buffers, kept across sweeps.
#[derive(Debug, Clone, Default)]
struct Scratch {
    words: Vec<u32>,
    side: Vec<u8>,
}

impl KernelState<u8> for PottsSublattices {
    fn state(&self) -> &[u8] {
        self.view.get(&self.layout, &self.values)
    }
    fn clone_box(&self) -> Box<dyn KernelState<u8>> {
        Box::new(self.clone())
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// What the kernel needs of a model: lattice sides, q, J, h.
fn fits(model: &Potts) -> Option<(&[usize], usize, f64, &[f64])> {
    let lattice = model.lattice_shape()?;
    let dims = lattice.dims();
    let ok = lattice.boundary() == Boundary::Periodic && dims.iter().all(|&l| l % 2 == 0);
    let (q, j, h) = model.uniform()?;
    let compositions = (2 * dims.len() + 1).checked_pow(q as u32 - 1)?;
    (ok && compositions.checked_mul(q)? <= MAX_TABLE).then_some((dims, q, j, h))
}

/// The kernel state at `x0`, if the kernel applies to `model`.
pub(crate) fn start(model: &Potts, x0: &[u8]) -> Option<PottsSublattices> {
    let (dims, q, _, _) = fits(model)?;
    let layout = Layout::new(dims, STRIPES);
    let k = PottsSublattices {
        values: layout.split(x0),
        scratch: vec![Scratch::default(); layout.n_stripes()],
        layout,
        q,
        view: SiteView::default(),
    };
    Some(k)
}

/// Cumulative thresholds per (composition[, old value]).
struct Table {
    /// `q − 1` thresholds per entry.
    th: Vec<u32>,
    q: usize,
    degree: usize,
    metropolis: bool,
    /// At most 32 compositions: threshold m of composition c (and, for
    /// Metropolis, old value o) at `small[o·(q − 1) + m][c]`, for in-register
    /// lookups.
    small: Option<Vec<[u32; 32]>>,
}

/// `⌊p · 2³²⌋`, saturating (`p ≥ 1` means "always").
fn threshold(p: f64) -> u32 {
    if p >= 1.0 { u32::MAX } else { (p * 4_294_967_296.0) as u32 }
}

impl Table {
    fn new(rule: LocalRule, beta: f64, q: usize, j: f64, h: &[f64], degree: usize) -> Table {
        let base = degree + 1;
        let n_comp = base.pow(q as u32 - 1);
        let metropolis = rule == LocalRule::Metropolis;
        let olds = if metropolis { q } else { 1 };
        let mut th = Vec::with_capacity(n_comp * olds * (q - 1));
        let mut counts = vec![0usize; q];
        let mut p = vec![0.0; q];
        for c in 0..n_comp {
            let mut rest = c;
            let mut used = 0;
            for n in counts.iter_mut().take(q - 1) {
                *n = rest % base;
                rest /= base;
                used += *n;
            }
            // compositions with Σ n_k > 2d never occur; fill them anyway
            counts[q - 1] = degree.saturating_sub(used);
            // local energies E_k = −J n_k − h_k
            let e: Vec<f64> = (0..q).map(|k| -j * counts[k] as f64 - h[k]).collect();
            for old in 0..olds {
                if metropolis {
                    for (k, pk) in p.iter_mut().enumerate() {
                        *pk = if k == old {
                            0.0
                        } else {
                            let d = e[k] - e[old];
                            (if d <= 0.0 { 1.0 } else { (-beta * d).exp() }) / (q - 1) as f64
                        };
                    }
                    p[old] = 1.0 - p.iter().sum::<f64>();
                } else {
                    let m = e.iter().copied().fold(f64::INFINITY, f64::min);
                    let total: f64 = e.iter().map(|&x| (-beta * (x - m)).exp()).sum();
                    for (pk, &x) in p.iter_mut().zip(&e) {
                        *pk = (-beta * (x - m)).exp() / total;
                    }
                }
                let mut acc = 0.0;
                for &pk in &p[..q - 1] {
                    acc += pk;
                    th.push(threshold(acc));
                }
            }
        }
        let small = (n_comp <= 32).then(|| {
            (0..olds * (q - 1))
                .map(|om| {
                    let (o, m) = (om / (q - 1), om % (q - 1));
                    std::array::from_fn(|c| {
                        if c < n_comp { th[(c * olds + o) * (q - 1) + m] } else { 0 }
                    })
                })
                .collect()
        });
        Table { th, q, degree, metropolis, small }
    }
}

/// One stripe's rows of colour c: each site's new value from its
/// neighbours' composition and one word of the stripe's stream. The common
/// shapes (q = 2, 3, 4 in 1–3 dimensions, heat bath or Metropolis) run a row
/// loop specialised at compile time, which the compiler unrolls and
/// vectorises; others the same loop with run-time sizes.
#[allow(clippy::too_many_arguments)]
fn run_stripe(
    isa: Isa,
    k: &PottsSublattices,
    table: &Table,
    key: &[u32; 8],
    stream: u64,
    c: usize,
    r0: usize,
    rows: &mut [u8],
    y: &OtherRows<'_, u8>,
    scratch: &mut Scratch,
) -> u64 {
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Isa::detect` found avx512f, avx512bw and avx512vl on this CPU.
        Isa::Avx512 => unsafe { stripe_avx512(k, table, key, stream, c, r0, rows, y, scratch) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Isa::detect` found avx2 on this CPU.
        Isa::Avx2 => unsafe { stripe_avx2(k, table, key, stream, c, r0, rows, y, scratch) },
        Isa::Generic => stripe::<GENERIC>(k, table, key, stream, c, r0, rows, y, scratch),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma,bmi1,bmi2,popcnt")]
#[allow(clippy::too_many_arguments)]
unsafe fn stripe_avx512(
    k: &PottsSublattices,
    table: &Table,
    key: &[u32; 8],
    stream: u64,
    c: usize,
    r0: usize,
    rows: &mut [u8],
    y: &OtherRows<'_, u8>,
    scratch: &mut Scratch,
) -> u64 {
    stripe::<AVX512>(k, table, key, stream, c, r0, rows, y, scratch)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,bmi1,bmi2,popcnt")]
#[allow(clippy::too_many_arguments)]
unsafe fn stripe_avx2(
    k: &PottsSublattices,
    table: &Table,
    key: &[u32; 8],
    stream: u64,
    c: usize,
    r0: usize,
    rows: &mut [u8],
    y: &OtherRows<'_, u8>,
    scratch: &mut Scratch,
) -> u64 {
    stripe::<AVX2>(k, table, key, stream, c, r0, rows, y, scratch)
}

/// The words of a stripe's keystream, handed out in order.
struct Words {
    keystream: WideChaCha8,
    group: [u32; GROUP],
    used: usize,
}

impl Words {
    #[inline(always)]
    fn fill<const LEVEL: u8>(&mut self, out: &mut [u32]) {
        let mut done = 0;
        while done < out.len() {
            if self.used == GROUP {
                self.keystream.fill::<LEVEL>(&mut self.group);
                self.used = 0;
            }
            let n = (out.len() - done).min(GROUP - self.used);
            out[done..done + n].copy_from_slice(&self.group[self.used..self.used + n]);
            done += n;
            self.used += n;
        }
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn stripe<const LEVEL: u8>(
    k: &PottsSublattices,
    table: &Table,
    key: &[u32; 8],
    stream: u64,
    c: usize,
    r0: usize,
    rows: &mut [u8],
    y: &OtherRows<'_, u8>,
    scratch: &mut Scratch,
) -> u64 {
    let half = k.layout.half;
    let mut rng = Words {
        keystream: WideChaCha8 { key: *key, stream, block: 0 },
        group: [0; GROUP],
        used: GROUP,
    };
    let Scratch { words, side } = scratch;
    words.resize(half, 0);
    side.resize(half, 0);
    let mut changed = 0u64;
    for (rr, x) in rows.chunks_exact_mut(half).enumerate() {
        let r = r0 + rr;
        rng.fill::<LEVEL>(words);
        let yr = y.row(r);
        // the side neighbour other than [k]: [k − 1] (offset 0) or [k + 1]
        if c ^ usize::from(k.layout.row_parity[r]) == 0 {
            side[0] = yr[half - 1];
            side[1..].copy_from_slice(&yr[..half - 1]);
        } else {
            side[..half - 1].copy_from_slice(&yr[1..]);
            side[half - 1] = yr[0];
        }
        let nb = |m: usize| y.row(k.layout.row_nbrs[r][m] as usize);
        let empty: &[u8] = &[];
        let (n0, n1, n2, n3) = match k.layout.n_row_nbrs {
            0 => (empty, empty, empty, empty),
            2 => (nb(0), nb(1), empty, empty),
            _ => (nb(0), nb(1), nb(2), nb(3)),
        };
        let mut row = Row { x, yr, side, n: [n0, n1, n2, n3], words };
        #[cfg(target_arch = "x86_64")]
        if LEVEL >= AVX512 && table.q <= 4 && table.small.is_some() {
            // SAFETY: LEVEL = AVX512 only inside `stripe_avx512`, compiled
            // with AVX-512 F/BW/VL and called after run-time detection.
            let (done, n) = unsafe { row.update_avx512(table, k.layout.n_row_nbrs) };
            changed += n;
            row.x = &mut row.x[done..];
            row.yr = &row.yr[done..];
            row.side = &row.side[done..];
            row.words = &row.words[done..];
            for m in 0..4 {
                if !row.n[m].is_empty() {
                    row.n[m] = &row.n[m][done..];
                }
            }
        }
        changed += match (table.q, k.layout.n_row_nbrs, table.metropolis) {
            (2, 2, false) => row.update::<2, 2, false>(table),
            (3, 2, false) => row.update::<3, 2, false>(table),
            (4, 2, false) => row.update::<4, 2, false>(table),
            (2, 2, true) => row.update::<2, 2, true>(table),
            (3, 2, true) => row.update::<3, 2, true>(table),
            (4, 2, true) => row.update::<4, 2, true>(table),
            (3, 4, false) => row.update::<3, 4, false>(table),
            (3, 4, true) => row.update::<3, 4, true>(table),
            _ => row.update_dyn(table, k.layout.n_row_nbrs),
        };
    }
    changed
}

/// A row of colour c and its neighbours in the other colour.
struct Row<'a> {
    x: &'a mut [u8],
    yr: &'a [u8],
    side: &'a [u8],
    n: [&'a [u8]; 4],
    words: &'a [u32],
}

impl Row<'_> {
    /// The row with q = `Q`, `NR` neighbouring rows, Metropolis or heat bath.
    #[inline(always)]
    fn update<const Q: usize, const NR: usize, const METRO: bool>(&mut self, table: &Table) -> u64 {
        let base = NR + 3; // 2d + 1 with 2d = NR + 2
        let th = table.th.as_slice();
        let mut changed = 0u64;
        for i in 0..self.x.len() {
            let mut idx = 0usize;
            let mut scale = 1usize;
            for v in 0..Q - 1 {
                let v = v as u8;
                let mut n = usize::from(self.yr[i] == v) + usize::from(self.side[i] == v);
                for m in 0..NR {
                    n += usize::from(self.n[m][i] == v);
                }
                idx += n * scale;
                scale *= base;
            }
            let old = self.x[i];
            let entry = if METRO { idx * Q + usize::from(old) } else { idx };
            let u = self.words[i];
            let mut new = 0u8;
            for m in 0..Q - 1 {
                new += u8::from(u >= th[entry * (Q - 1) + m]);
            }
            changed += u64::from(new != old);
            self.x[i] = new;
        }
        changed
    }

    /// Sites `0..64·⌊h/64⌋` in AVX-512 registers: neighbour counts per value
    /// in 64 byte lanes, the composition index in bytes, thresholds by
    /// in-register lookups (`vpermi2d`, tables of ≤ 32 words; for Metropolis
    /// one table per old value, blended by the old value), one compare per
    /// threshold. Returns the sites done and the changes.
    ///
    /// # Safety
    /// AVX-512 F/BW/VL must be available.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn update_avx512(&mut self, table: &Table, nr: usize) -> (usize, u64) {
        use std::arch::x86_64::*;
        let Some(small) = &table.small else { return (0, 0) };
        let (h, q, base) = (self.x.len(), table.q, (table.degree + 1) as i8);
        let mut changed = 0u64;
        let mut k = 0;
        // SAFETY: AVX-512 F/BW/VL by the caller's contract; every load and
        // store covers `k..k + 64` bytes (or words of `words`) with
        // `k + 64 ≤ h`, inside slices of length h (the neighbour rows and
        // the random words have h entries); unaligned loads and stores.
        unsafe {
            let one = _mm512_set1_epi8(1);
            // at most q·(q − 1) = 12 tables (q ≤ 4), in registers, no
            // allocation per row
            let mut tabs = [(_mm512_setzero_si512(), _mm512_setzero_si512()); 12];
            for (r, t) in tabs.iter_mut().zip(small) {
                *r = (
                    _mm512_loadu_si512(t.as_ptr().cast()),
                    _mm512_loadu_si512(t[16..].as_ptr().cast()),
                );
            }
            while k + 64 <= h {
                let ld = |p: *const u8| _mm512_loadu_si512(p.add(k).cast());
                let nbv: [__m512i; 6] = [
                    ld(self.yr.as_ptr()),
                    ld(self.side.as_ptr()),
                    if nr > 0 { ld(self.n[0].as_ptr()) } else { _mm512_set1_epi8(-1) },
                    if nr > 0 { ld(self.n[1].as_ptr()) } else { _mm512_set1_epi8(-1) },
                    if nr > 2 { ld(self.n[2].as_ptr()) } else { _mm512_set1_epi8(-1) },
                    if nr > 2 { ld(self.n[3].as_ptr()) } else { _mm512_set1_epi8(-1) },
                ];
                let mut idx = _mm512_setzero_si512();
                let mut scale = 1i8;
                for v in 0..q - 1 {
                    let vv = _mm512_set1_epi8(v as i8);
                    let mut cnt = _mm512_setzero_si512();
                    for nb in &nbv[..2 + nr] {
                        let m = _mm512_cmpeq_epi8_mask(*nb, vv);
                        cnt = _mm512_mask_add_epi8(cnt, m, cnt, one);
                    }
                    for _ in 0..scale {
                        idx = _mm512_add_epi8(idx, cnt);
                    }
                    scale = scale.wrapping_mul(base);
                }
                let mut new = _mm512_setzero_si512();
                let words =
                    |g: usize| _mm512_loadu_si512(self.words.as_ptr().add(k + 16 * g).cast());
                let parts = [
                    _mm512_cvtepu8_epi32(_mm512_castsi512_si128(idx)),
                    _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32::<1>(idx)),
                    _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32::<2>(idx)),
                    _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32::<3>(idx)),
                ];
                let u = [words(0), words(1), words(2), words(3)];
                let old = ld(self.x.as_ptr());
                let n_old = if table.metropolis { q } else { 1 };
                let olds = if n_old > 1 {
                    [
                        _mm512_cvtepu8_epi32(_mm512_castsi512_si128(old)),
                        _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32::<1>(old)),
                        _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32::<2>(old)),
                        _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32::<3>(old)),
                    ]
                } else {
                    [_mm512_setzero_si512(); 4]
                };
                for m in 0..q - 1 {
                    let mut mask = 0u64;
                    for g in 0..4 {
                        let (lo, hi) = tabs[m];
                        let mut t = _mm512_permutex2var_epi32(lo, parts[g], hi);
                        for o in 1..n_old {
                            let (lo, hi) = tabs[o * (q - 1) + m];
                            let sel = _mm512_cmpeq_epi32_mask(olds[g], _mm512_set1_epi32(o as i32));
                            t = _mm512_mask_blend_epi32(
                                sel,
                                t,
                                _mm512_permutex2var_epi32(lo, parts[g], hi),
                            );
                        }
                        mask |= u64::from(_mm512_cmpge_epu32_mask(u[g], t)) << (16 * g);
                    }
                    new = _mm512_mask_add_epi8(new, mask, new, one);
                }
                changed += u64::from(_mm512_cmpneq_epi8_mask(new, old).count_ones());
                _mm512_storeu_si512(self.x.as_mut_ptr().add(k).cast(), new);
                k += 64;
            }
        }
        (k, changed)
    }

    /// The same with run-time sizes.
    fn update_dyn(&mut self, table: &Table, nr: usize) -> u64 {
        let (q, base) = (table.q, table.degree + 1);
        let mut changed = 0u64;
        for i in 0..self.x.len() {
            let mut idx = 0usize;
            let mut scale = 1usize;
            for v in 0..q - 1 {
                let v = v as u8;
                let mut n = usize::from(self.yr[i] == v) + usize::from(self.side[i] == v);
                for m in 0..nr {
                    n += usize::from(self.n[m][i] == v);
                }
                idx += n * scale;
                scale *= base;
            }
            let old = self.x[i];
            let entry = if table.metropolis { idx * q + usize::from(old) } else { idx };
            let th = &table.th[entry * (q - 1)..(entry + 1) * (q - 1)];
            let u = self.words[i];
            let new = th.iter().map(|&t| u8::from(u >= t)).sum::<u8>();
            changed += u64::from(new != old);
            self.x[i] = new;
        }
        changed
    }
}

/// One sweep, or `None` when the kernel does not apply to `model` or
/// `state` is another lattice's.
pub(crate) fn sweep(
    model: &Potts,
    rule: LocalRule,
    state: &mut dyn KernelState<u8>,
    beta: Beta,
    key: [u32; 8],
) -> Option<u64> {
    let (dims, q, j, h) = fits(model)?;
    let k = state.as_any_mut().downcast_mut::<PottsSublattices>()?;
    if k.layout.dims != dims || k.q != q {
        return None;
    }
    let table = Table::new(rule, beta.value(), q, j, h, 2 * dims.len());
    let isa = Isa::detect();
    let parallel = k.layout.n_rows() * k.layout.row_len >= PARALLEL_MIN_SITES
        && rayon::current_num_threads() > 1;
    let mut values = std::mem::take(&mut k.values);
    let mut scratch = std::mem::take(&mut k.scratch);
    let kk = &*k;
    let changed =
        schedule::sweep(&kk.layout, &mut values, &mut scratch, parallel, |c, s, rows, y, pool| {
            let stream = (c as u64) << 32 | s as u64;
            let r0 = kk.layout.stripe_rows[s];
            run_stripe(isa, kk, &table, &key, stream, c, r0, rows, y, pool)
        });
    k.values = values;
    k.scratch = scratch;
    k.view.stale();
    Some(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebm_core::{EnergyModel, Purpose, Seed};

    /// Every compiled level gives the same values and change counts as the
    /// portable loops, on rows with a 64-site vector part and a scalar tail,
    /// for heat bath and Metropolis in 1–3 dimensions.
    #[test]
    fn every_level_agrees_with_the_portable_loops() {
        let models = [
            Potts::lattice(3, &[6, 300], Boundary::Periodic, 1.0, 0.2).unwrap(),
            Potts::lattice(2, &[4, 260], Boundary::Periodic, -0.7, 0.1).unwrap(),
            Potts::lattice(4, &[4, 264], Boundary::Periodic, 0.9, -0.3).unwrap(),
            Potts::lattice(3, &[400], Boundary::Periodic, 1.1, 0.0).unwrap(),
            Potts::lattice(3, &[2, 4, 200], Boundary::Periodic, 0.6, 0.1).unwrap(),
        ];
        // every level this CPU can run (the portable one compared with
        // itself would prove nothing)
        let isas: Vec<Isa> = Isa::available().into_iter().filter(|&i| i != Isa::Generic).collect();
        for m in &models {
            for rule in [LocalRule::HeatBath, LocalRule::Metropolis] {
                let mut rng = Seed(9).stream(Purpose::INIT, 0);
                let x0 = rng.random_state(m.space(), m.n_units());
                let k = start(m, &x0).unwrap();
                let (dims, q, j, h) = fits(m).unwrap();
                let table = Table::new(rule, 0.9, q, j, h, 2 * dims.len());
                let key = [1, 2, 3, 4, 5, 6, 7, 8];
                let rows = k.layout.stripe_rows[1] - k.layout.stripe_rows[0];
                let run = |level: Isa| {
                    let mut x = k.values[0][..rows * k.layout.half].to_vec();
                    let mut pool = Scratch::default();
                    let n = run_stripe(
                        level,
                        &k,
                        &table,
                        &key,
                        5,
                        0,
                        0,
                        &mut x,
                        &OtherRows::all(&k.values[1], &k.layout),
                        &mut pool,
                    );
                    (x, n)
                };
                let portable = run(Isa::Generic);
                assert!(portable.1 > 0);
                for &isa in &isas {
                    assert_eq!(run(isa), portable, "{isa:?} {rule:?} {:?}", dims);
                }
            }
        }
    }
}
