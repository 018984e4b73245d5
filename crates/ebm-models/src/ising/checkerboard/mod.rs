//! The checkerboard kernel of a uniform periodic Ising lattice: what
//! `Gibbs::block()` and `Metropolis::block()` run on such a model, through
//! [`BinaryModel::block_kernel`](ebm_core::BinaryModel::block_kernel).
//!
//! It applies to models built on a periodic chain, square or cubic
//! [`Lattice`](super::Lattice) with every side even (bipartite) and uniform
//! coupling J and field h ([`Ising::uniform_couplings`]); any other Ising
//! model runs the generic block sweep. One sweep updates every site once:
//! all sites of colour 0 (even coordinate sum), then all of colour 1, by
//! Metropolis (`min(1, e^{−βΔ})`) or heat bath (`σ(−βΔ)`), where
//! `Δ = 2 s (J·nn + h)` and nn is the neighbour sum. J and h are read from
//! the model given to each sweep; a model that stops being uniform (or has
//! another lattice) makes the sampler fall back to the generic sweep.
//!
//! ## Layout
//!
//! The kernel state keeps the spins in a sublattice layout: one `i8` array
//! per colour, row by row along the last axis (`X_c[r][k]` is site
//! `2k + (c ⊕ p_r)` of row r, with `p_r` the parity of the row's other
//! coordinates). The four (2D) or six (3D) neighbours of `X_c[r][k]` are then
//! `X_{1−c}` at `[r][k]`, `[r][k ∓ 1]` and `[r'][k]` for the neighbouring
//! rows r′, so a row of one colour updates with contiguous, branch-free loops
//! that vectorise. [`KernelState::state`] returns the ±1 configuration in
//! site order, rebuilt lazily (once per sweep, only if asked for).
//!
//! ## Randomness
//!
//! Each decision compares a 32-bit uniform `u` with a threshold
//! `T = ⌊p·2³²⌋` from a table indexed by (spin, neighbour sum), precomputed
//! once per sweep from β: the flip happens iff `u < T` (`T = 2³² − 1` means
//! "always"; a probability is thus quantised to a multiple of 2⁻³²). No `exp`
//! in the loop. The comparison runs in two stages ([`ties`]): the kernel
//! draws the upper 16 bits `a` of u, two sites per ChaCha word, and decides
//! at once unless `a` equals the upper half of T (probability 2⁻¹⁶); only
//! then does it draw the lower 16 bits, from the stripe's refinement stream.
//! The flip probability is exactly `T/2³²`, as with a whole word per site,
//! for half the keystream, which is most of the sweep's work. Every site
//! draws, also a Metropolis move with `Δ ≤ 0` (which flips whatever the
//! draw): the rows are vectorised with the draws aligned to the sites, and
//! compacting the draws to the uncertain moves (about 88% of them at
//! T = 2.269) would cost more than the words it saves. No draw is shared
//! between decisions.
//!
//! Each sweep gets a 256-bit key from the sampler (eight `next_u32` of the
//! chain's stream). Colour c of stripe s then draws from the ChaCha8
//! keystream with that key and stream id `2^32·c + s`, block counter from 0:
//! exactly the words of `ChaCha8Rng::from_seed(key)` after
//! `set_stream(2^32·c + s)`, generated sixteen blocks at a time and used in
//! the order word 0 of blocks 0..16, word 1 of blocks 0..16, … (a fixed
//! permutation within each 1 KiB group, so every word is used once). A row of
//! h sites takes ⌈h/2⌉ words, site k the low (k even) or high (k odd) half of
//! word ⌊k/2⌋. The refinement draws come from stream id `2^32·(c + 2) + s`,
//! 16 bits at a time, in site order. The rows of each colour are split into
//! [`STRIPES`] stripes (independent of
//! the thread count) run in parallel with rayon, so a chain's trajectory is
//! bit-identical for any number of threads. (Lattices under 2¹⁴ sites run
//! their stripes on the calling thread: a fork costs more than their sweep.)
//!
//! ## Speed
//!
//! The row kernel and the keystream are compiled three times (AVX-512, AVX2,
//! baseline) and chosen at run time. The AVX2 version fuses a row update
//! into 32-site steps with `core::arch` intrinsics; the AVX-512 version into
//! 64-site steps (one `u16` permute per 32 thresholds, 16-bit compares into
//! mask registers, a masked negation, side neighbours loaded from the row)
//! and runs ChaCha8 with the sixteen blocks in the lanes of sixteen `zmm`
//! registers (rotations by `vprold`). These are
//! the only `unsafe` here, measured: the portable loop's threshold lookup
//! became a gather, and the portable keystream spilled its state.
//! See `benches/ising.rs`.
mod rows;
mod ties;

use super::{Boundary, Ising};
use crate::sublattice::{Layout, SiteView, schedule};
use ebm_core::{Beta, KernelState, LocalRule};
use rows::{Geometry, Isa, Thresholds, run_stripe};
use std::any::Any;

/// Stripes per colour: the parallel work units of a sweep, each with its own
/// random stream (a lattice with fewer rows uses one stripe per row).
pub(crate) const STRIPES: usize = 8;

/// Lattices with fewer sites than this run their stripes on the calling
/// thread: a rayon fork costs more than the sweep. (The result is the same.)
const PARALLEL_MIN_SITES: usize = 1 << 14;

/// The kernel state: spins in the sublattice layout, the lattice geometry,
/// per-stripe random-number pools.
#[derive(Debug, Clone)]
pub(crate) struct Sublattices {
    /// `spins[c]`: the spins of colour c, `rows × half` values, row by row.
    spins: [Vec<i8>; 2],
    /// The sublattice geometry (the model must have the same sides).
    layout: Layout,
    /// The degree 2d.
    degree: usize,
    /// One scratch pool per stripe.
    scratch: Vec<Scratch>,
    /// The ±1 configuration in site order, rebuilt on demand.
    view: SiteView<i8>,
}

impl KernelState for Sublattices {
    fn state(&self) -> &[i8] {
        self.view.get(&self.layout, &self.spins)
    }

    fn clone_box(&self) -> Box<dyn KernelState> {
        Box::new(self.clone())
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Per-stripe scratch: a pool of random words, a row of side neighbours,
/// table indices, and the refinement draws' buffer.
#[derive(Debug, Clone, Default)]
struct Scratch {
    pool: Vec<u32>,
    side: Vec<i8>,
    idx: Vec<u8>,
    refine: Vec<u32>,
}

/// The lattice sides of `model` if the kernel applies to it: a periodic
/// lattice with even sides and uniform J and h.
fn kernel_dims(model: &Ising) -> Option<(&[usize], f64, f64)> {
    let lattice = model.lattice_shape()?;
    let dims = lattice.dims();
    let fits = lattice.boundary() == Boundary::Periodic && dims.iter().all(|&l| l % 2 == 0);
    let (j, h) = model.uniform_couplings()?;
    fits.then_some((dims, j, h))
}

/// The kernel state of `model` at `x0` (valid ±1 values), if the kernel
/// applies to the model.
pub(crate) fn start(model: &Ising, x0: &[i8]) -> Option<Sublattices> {
    let (dims, _, _) = kernel_dims(model)?;
    let layout = Layout::new(dims, STRIPES);
    let chain = Sublattices {
        spins: layout.split(x0),
        degree: 2 * dims.len(),
        scratch: vec![Scratch::default(); layout.n_stripes()],
        layout,
        view: SiteView::default(),
    };
    Some(chain)
}

/// One sweep of `chain` under `rule` with `model`'s current J and h, the
/// random words from `key`; the number of flips, or `None` (nothing changed)
/// when the kernel does not apply to `model` or `chain` is another lattice's.
pub(crate) fn sweep(
    model: &Ising,
    rule: LocalRule,
    state: &mut dyn KernelState,
    beta: Beta,
    key: [u32; 8],
) -> Option<u64> {
    let (dims, j, h) = kernel_dims(model)?;
    let chain = state.as_any_mut().downcast_mut::<Sublattices>()?;
    if chain.layout.dims != dims {
        return None;
    }
    let table = Thresholds::new(rule, beta, (j, h), chain.degree);
    let isa = Isa::detect();
    let n_sites = chain.layout.n_rows() * chain.layout.row_len;
    let parallel = n_sites >= PARALLEL_MIN_SITES && rayon::current_num_threads() > 1;
    let geo = Geometry {
        half: chain.layout.half,
        row_parity: &chain.layout.row_parity,
        row_nbrs: &chain.layout.row_nbrs,
        n_row_nbrs: chain.layout.n_row_nbrs,
    };
    let flips = schedule::sweep(
        &chain.layout,
        &mut chain.spins,
        &mut chain.scratch,
        parallel,
        |c, s, rows, y, scratch| {
            let stream = (c as u64) << 32 | s as u64;
            let r0 = chain.layout.stripe_rows[s];
            run_stripe(isa, &geo, &table, &key, stream, c, r0, rows, y, scratch)
        },
    );
    chain.view.stale();
    Some(flips)
}

#[cfg(test)]
mod tests {
    use super::rows::*;
    use super::*;
    use crate::keystream::{GROUP, WideChaCha8};
    use crate::sublattice::schedule::OtherRows;
    use ebm_core::{ChainRng, EnergyModel, RngPosition, rand_core::Rng};

    #[test]
    fn wide_chacha8_is_chacha8rng_in_word_major_order() {
        let key: [u32; 8] = [1, 2, 3, 0xdead_beef, 5, 6, 7, 0xffff_ffff];
        let mut seed = [0u8; 32];
        for (w, ch) in key.iter().zip(seed.chunks_exact_mut(4)) {
            ch.copy_from_slice(&w.to_le_bytes());
        }
        let stream = (1u64 << 32) | 3;
        let mut reference = ChainRng::from_position(RngPosition { key: seed, stream, word_pos: 0 });
        let mut keystream = WideChaCha8 { key, stream, block: 0 };
        for _ in 0..3 {
            let mut out = [0u32; GROUP];
            keystream.fill::<GENERIC>(&mut out);
            for b in 0..16 {
                for w in 0..16 {
                    assert_eq!(out[16 * w + b], reference.next_u32(), "block {b} word {w}");
                }
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx512_keystream_is_the_portable_one() {
        if !std::arch::is_x86_feature_detected!("avx512f") {
            return;
        }
        let key: [u32; 8] = [9, 0x8000_0000, 3, 0xdead_beef, 5, 6, 7, 0xffff_ffff];
        // the second start crosses a carry into the counter's high word
        for (stream, block) in [((1u64 << 32) | 3, 0u64), (7, 0xffff_fff8), (5, u64::MAX - 7)] {
            let mut a = WideChaCha8 { key, stream, block };
            let mut b = WideChaCha8 { key, stream, block };
            for _ in 0..3 {
                let (mut oa, mut ob) = ([0u32; GROUP], [0u32; GROUP]);
                a.fill::<GENERIC>(&mut oa);
                // SAFETY: avx512f detected above.
                unsafe { b.fill_avx512(&mut ob) };
                b.block = b.block.wrapping_add(16);
                assert_eq!(oa, ob, "stream {stream} block {block}");
            }
        }
    }

    /// Every kernel level gives the same spins and flip counts as the
    /// portable loops, on rows with a 64-, a 32-site and a scalar part, and
    /// on rows whose last 64- or 32-site block wraps.
    #[test]
    fn kernels_agree_with_the_portable_loops() {
        let models = [
            Ising::chain(200, Boundary::Periodic, 1.0, 0.1).unwrap(),
            Ising::square(12, 200, Boundary::Periodic, 1.0, -0.2).unwrap(),
            // rows of 128: two 64-site blocks, the last one wrapping
            Ising::square(6, 256, Boundary::Periodic, 1.0, 0.1).unwrap(),
            // rows of 32 (one 32-site block, wrapping at both ends) and of
            // 96 (a 64- and a 32-site block, the last one wrapping)
            Ising::square(8, 64, Boundary::Periodic, 1.0, 0.1).unwrap(),
            Ising::square(4, 192, Boundary::Periodic, 1.0, -0.1).unwrap(),
            Ising::cubic(4, 6, 200, Boundary::Periodic, 0.7, 0.0).unwrap(),
        ];
        let isas = Isa::available();
        for m in &models {
            for rule in [LocalRule::Metropolis, LocalRule::HeatBath] {
                let n = m.n_units();
                let x0: Vec<i8> =
                    (0..n).map(|i| if (i * 7919) % 13 < 6 { 1 } else { -1 }).collect();
                let chain = start(m, &x0).unwrap();
                let couplings = m.uniform_couplings().unwrap();
                let table =
                    Thresholds::new(rule, Beta::new(0.44).unwrap(), couplings, chain.degree);
                let geo = Geometry {
                    half: chain.layout.half,
                    row_parity: &chain.layout.row_parity,
                    row_nbrs: &chain.layout.row_nbrs,
                    n_row_nbrs: chain.layout.n_row_nbrs,
                };
                let key = [11, 22, 33, 44, 55, 66, 77, 88];
                let results: Vec<(Vec<i8>, u64)> = isas
                    .iter()
                    .map(|&isa| {
                        let mut x = chain.spins[0].clone();
                        let mut scratch = Scratch::default();
                        let f = run_stripe(
                            isa,
                            &geo,
                            &table,
                            &key,
                            3,
                            0,
                            0,
                            &mut x,
                            &OtherRows::all(&chain.spins[1], &chain.layout),
                            &mut scratch,
                        );
                        (x, f)
                    })
                    .collect();
                assert!(results[0].1 > 0);
                for (isa, r) in isas.iter().zip(&results) {
                    assert_eq!(r, &results[0], "{isa:?} {rule:?} {}", m.n_units());
                }
            }
        }
    }
}

/// The two-stage comparison on crafted draws: every third site's 16-bit draw
/// equals its threshold's upper half (a tie), its neighbours miss by one.
#[cfg(test)]
mod tie_tests {
    use super::rows::*;
    use super::ties::Refine;
    use ebm_core::{Beta, LocalRule};

    /// `row_dense` of a 2D row at the kernel level `isa` (compiled with its
    /// target features, as `run_stripe` does for whole stripes).
    #[allow(clippy::too_many_arguments)]
    fn row_on(
        isa: Isa,
        x: &mut [i8],
        y: &[i8],
        left: bool,
        nbrs: [&[i8]; 2],
        rand: &[u32],
        table: &Thresholds,
        refine: &mut Refine<'_>,
    ) -> u64 {
        macro_rules! at_level {
            ($features:literal, $level:expr) => {{
                #[target_feature(enable = $features)]
                #[allow(clippy::too_many_arguments)]
                unsafe fn run(
                    x: &mut [i8],
                    y: &[i8],
                    left: bool,
                    side: &mut [i8],
                    nbrs: [&[i8]; 2],
                    rand: &[u32],
                    table: &Thresholds,
                    idx: &mut [u8],
                    refine: &mut Refine<'_>,
                ) -> u64 {
                    row_dense::<2, { $level }>(x, y, left, side, nbrs, rand, table, idx, refine)
                }
                run
            }};
        }
        let (mut side, mut idx) = (vec![0i8; x.len()], vec![0u8; x.len()]);
        let (side, idx) = (&mut side[..], &mut idx[..]);
        match isa {
            // SAFETY: the caller passes only levels `Isa::detect` or
            // `is_x86_feature_detected!` found on this CPU.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe {
                at_level!("avx512f,avx512bw,avx512vl,avx2,fma,bmi1,bmi2,popcnt", AVX512)(
                    x, y, left, side, nbrs, rand, table, idx, refine,
                )
            },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe {
                at_level!("avx2,fma,bmi1,bmi2,popcnt", AVX2)(
                    x, y, left, side, nbrs, rand, table, idx, refine,
                )
            },
            Isa::Generic => {
                row_dense::<2, GENERIC>(x, y, left, side, nbrs, rand, table, idx, refine)
            }
        }
    }

    /// ±1 values from a fixed LCG.
    fn spins(n: usize, salt: u64) -> Vec<i8> {
        let mut z = salt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (0..n)
            .map(|_| {
                z = z
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                if z >> 63 == 1 { 1 } else { -1 }
            })
            .collect()
    }

    #[test]
    fn ties_draw_refinements_in_site_order_on_every_kernel_level() {
        // rows of one 32-site block, of a 64- and a 32-site block (with and
        // without a scalar tail), of two 64-site blocks; the side neighbour
        // on either side
        let cases = [32, 96, 101, 128].into_iter().flat_map(|h| [(h, true), (h, false)]);
        let rules = [LocalRule::Metropolis, LocalRule::HeatBath];
        for ((h, left), rule) in cases.flat_map(|c| rules.map(|r| (c, r))) {
            check_ties(h, left, rule);
        }
    }

    fn check_ties(h: usize, left: bool, rule: LocalRule) {
        let key = [3, 1, 4, 1, 5, 9, 2, 6];
        let stream = (1u64 << 32) | 5;
        let table = Thresholds::new(rule, Beta::new(0.37).unwrap(), (1.0, 0.3), 4);
        let (x0, y) = (spins(h, 1), spins(h, 2));
        let side: Vec<i8> =
            (0..h).map(|k| if left { y[(k + h - 1) % h] } else { y[(k + 1) % h] }).collect();
        let nbrs = [spins(h, 4), spins(h, 5)];
        let idx_of = |k: usize| {
            let nn = y[k] + side[k] + nbrs[0][k] + nbrs[1][k];
            usize::from(((nn + 4) >> 1) as u8 | (u8::from(x0[k] > 0) << 3))
        };
        // every third site ties, the others miss by one either way
        let a: Vec<u16> = (0..h)
            .map(|k| {
                let hi = table.hi[idx_of(k)];
                [hi, hi.wrapping_sub(1), hi.wrapping_add(1)][k % 3]
            })
            .collect();
        let rand: Vec<u32> = (0..h.div_ceil(2))
            .map(|w| {
                let at = |k: usize| u32::from(a.get(k).copied().unwrap_or(0));
                at(2 * w) | at(2 * w + 1) << 16
            })
            .collect();
        // the 32-bit rule u = 2¹⁶a + b < T, b drawn in site order on ties;
        // the control ignores the low halves (a tie never flips)
        let reference = |exact: bool| {
            let mut buf = Vec::new();
            let mut refine = Refine::new(&key, stream, &mut buf);
            let (mut x, mut flips, mut draws) = (x0.clone(), 0u64, 0);
            for k in 0..h {
                let i = idx_of(k);
                let t = table.t[i];
                let tie = t != u32::MAX && a[k] == table.hi[i];
                let flip = t == u32::MAX
                    || a[k] < table.hi[i]
                    || (tie && exact && {
                        draws += 1;
                        refine.next() < table.lo[i]
                    });
                if flip {
                    x[k] = -x[k];
                    flips += 1;
                }
            }
            (x, flips, draws)
        };
        let (want_x, want_flips, draws) = reference(true);
        assert!(draws >= h / 6, "{rule:?}: only {draws} ties in {h}");
        assert_ne!(reference(false).0, want_x, "{rule:?}: the control must differ");
        let isas = Isa::available();
        let nb = [&nbrs[0][..], &nbrs[1][..]];
        for isa in isas {
            let mut buf = Vec::new();
            let mut refine = Refine::new(&key, stream, &mut buf);
            let mut x = x0.clone();
            let flips = row_on(isa, &mut x, &y, left, nb, &rand, &table, &mut refine);
            assert_eq!(
                (x, flips),
                (want_x.clone(), want_flips),
                "{isa:?} {rule:?} h {h} left {left}"
            );
        }
    }
}
