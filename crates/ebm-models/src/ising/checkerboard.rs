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
//! Each decision compares a fresh 32-bit uniform `u` with a threshold
//! `T = ⌊p·2³²⌋` from a table indexed by (spin, neighbour sum), precomputed
//! once per sweep from β: the flip happens iff `u < T` (`T = 2³² − 1` means
//! "always"; a probability is thus quantised to a multiple of 2⁻³²). No `exp`
//! in the loop. Every site consumes one word, also a Metropolis move with
//! `Δ ≤ 0` (which flips whatever the word): the rows are vectorised with the
//! words aligned to the sites, and compacting the draws to the uncertain
//! moves (about 88% of them at T = 2.269) would cost more than the ChaCha
//! words it saves. No word is shared between decisions or truncated.
//!
//! Each sweep gets a 256-bit key from the sampler (eight `next_u32` of the
//! chain's stream). Colour c of stripe s then draws from the ChaCha8
//! keystream with that key and stream id `2^32·c + s`, block counter from 0:
//! exactly the words of `ChaCha8Rng::from_seed(key)` after
//! `set_stream(2^32·c + s)`, generated sixteen blocks at a time and used in
//! the order word 0 of blocks 0..16, word 1 of blocks 0..16, … (a fixed
//! permutation within each 1 KiB group, so every word is used once). The
//! rows of each colour are split into [`STRIPES`] stripes (independent of
//! the thread count) run in parallel with rayon, so a chain's trajectory is
//! bit-identical for any number of threads. (Lattices under 2¹⁴ sites run
//! their stripes on the calling thread: a fork costs more than their sweep.)
//!
//! ## Speed
//!
//! The row kernel and the keystream are compiled three times (AVX-512, AVX2,
//! baseline) and chosen at run time. The AVX2 version fuses a row update
//! into 32-site steps with `core::arch` intrinsics; the AVX-512 version into
//! 64-site steps (one 16-entry permute per 16 thresholds, compares into mask
//! registers, a masked negation) and runs ChaCha8 with the sixteen blocks in
//! the lanes of sixteen `zmm` registers (rotations by `vprold`). These are
//! the only `unsafe` here, measured: the portable loop's threshold lookup
//! became a gather, and the portable keystream spilled its state.
//! See `benches/ising.rs`.
use super::{Boundary, Ising};
use ebm_core::{Beta, KernelState, LocalRule};
use rayon::prelude::*;
use std::any::Any;
use std::sync::{Mutex, OnceLock};

/// Stripes per colour: the parallel work units of a sweep, each with its own
/// random stream (a lattice with fewer rows uses one stripe per row).
pub(crate) const STRIPES: usize = 8;

/// Lattices with fewer sites than this run their stripes on the calling
/// thread: a rayon fork costs more than the sweep. (The result is the same.)
const PARALLEL_MIN_SITES: usize = 1 << 14;

/// The kernel state: spins in the sublattice layout, the lattice geometry,
/// per-stripe random-number pools.
#[derive(Debug)]
pub(crate) struct Sublattices {
    /// `spins[c]`: the spins of colour c, `rows × half` values, row by row.
    spins: [Vec<i8>; 2],
    /// The lattice's sides (the model must have the same to run the kernel).
    dims: Vec<usize>,
    /// Sites per row (the last side M) and per row and colour (M / 2).
    row_len: usize,
    half: usize,
    /// Parity of each row's coordinates other than the last.
    row_parity: Vec<u8>,
    /// Neighbouring rows of each row (2 in 2D, 4 in 3D, none in 1D).
    row_nbrs: Vec<[u32; 4]>,
    n_row_nbrs: usize,
    /// The degree 2d.
    degree: usize,
    /// Stripe boundaries (row indices), `n_stripes + 1` of them.
    stripe_rows: Vec<usize>,
    /// One scratch pool per stripe.
    scratch: Vec<Scratch>,
    /// The ±1 configuration in site order, rebuilt on demand.
    view: OnceLock<Vec<i8>>,
    /// The previous sweep's view, kept for reuse: a fresh 1 MiB buffer per
    /// sweep cost an mmap, page faults and an munmap (with TLB shootdowns
    /// across threads) every sweep.
    spare: Mutex<Vec<i8>>,
}

impl Clone for Sublattices {
    fn clone(&self) -> Self {
        Sublattices {
            spins: self.spins.clone(),
            dims: self.dims.clone(),
            row_len: self.row_len,
            half: self.half,
            row_parity: self.row_parity.clone(),
            row_nbrs: self.row_nbrs.clone(),
            n_row_nbrs: self.n_row_nbrs,
            degree: self.degree,
            stripe_rows: self.stripe_rows.clone(),
            scratch: self.scratch.clone(),
            view: self.view.clone(),
            spare: Mutex::new(Vec::new()),
        }
    }
}

impl Sublattices {
    fn n_rows(&self) -> usize {
        self.row_parity.len()
    }

    /// Site index of `X_c[r][k]`.
    #[inline]
    fn site(&self, c: usize, r: usize, k: usize) -> usize {
        r * self.row_len + 2 * k + (c ^ usize::from(self.row_parity[r]))
    }

    fn to_sites(&self) -> Vec<i8> {
        let mut out = self.spare.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default();
        out.resize(self.n_rows() * self.row_len, 0);
        for r in 0..self.n_rows() {
            for c in 0..2 {
                let row = &self.spins[c][r * self.half..(r + 1) * self.half];
                for (k, &s) in row.iter().enumerate() {
                    out[self.site(c, r, k)] = s;
                }
            }
        }
        out
    }
}

impl KernelState for Sublattices {
    fn state(&self) -> &[i8] {
        self.view.get_or_init(|| self.to_sites())
    }

    fn clone_box(&self) -> Box<dyn KernelState> {
        Box::new(self.clone())
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Random words per generated group: 16 ChaCha blocks of 16 words.
const GROUP: usize = 256;

/// Per-stripe scratch: a pool of random words, a row of side neighbours,
/// table indices and thresholds.
#[derive(Debug, Clone, Default)]
struct Scratch {
    pool: Vec<u32>,
    side: Vec<i8>,
    idx: Vec<u32>,
    th: Vec<u32>,
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
    let d = dims.len();
    let row_len = dims[d - 1];
    let half = row_len / 2;
    let n_rows = x0.len() / row_len;
    // coordinates of a row: (a) in 2D, (a, b) in 3D, () in 1D
    let (n_a, n_b) = match d {
        1 => (1, 1),
        2 => (dims[0], 1),
        _ => (dims[0], dims[1]),
    };
    let mut row_parity = Vec::with_capacity(n_rows);
    let mut row_nbrs = Vec::with_capacity(n_rows);
    for r in 0..n_rows {
        let (a, b) = (r / n_b, r % n_b);
        row_parity.push(((a + b) % 2) as u8);
        let up_a = (a + n_a - 1) % n_a;
        let dn_a = (a + 1) % n_a;
        let up_b = (b + n_b - 1) % n_b;
        let dn_b = (b + 1) % n_b;
        // n_rows ≤ MAX_SITES = u32::MAX
        let idx = |a: usize, b: usize| (a * n_b + b) as u32;
        row_nbrs.push([idx(up_a, b), idx(dn_a, b), idx(a, up_b), idx(a, dn_b)]);
    }
    let n_stripes = STRIPES.min(n_rows);
    let stripe_rows = (0..=n_stripes).map(|s| s * n_rows / n_stripes).collect();
    let mut chain = Sublattices {
        spins: [vec![0; n_rows * half], vec![0; n_rows * half]],
        dims: dims.to_vec(),
        row_len,
        half,
        row_parity,
        row_nbrs,
        n_row_nbrs: 2 * (d - 1),
        degree: 2 * d,
        stripe_rows,
        scratch: vec![Scratch::default(); n_stripes],
        view: OnceLock::new(),
        spare: Mutex::new(Vec::new()),
    };
    for c in 0..2 {
        for r in 0..n_rows {
            for k in 0..half {
                let i = chain.site(c, r, k);
                chain.spins[c][r * half + k] = x0[i];
            }
        }
    }
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
    if chain.dims != dims {
        return None;
    }
    let table = Thresholds::new(rule, beta, (j, h), chain.degree);
    let isa = Isa::detect();
    let n_sites = chain.n_rows() * chain.row_len;
    let parallel = n_sites >= PARALLEL_MIN_SITES && rayon::current_num_threads() > 1;
    let geo = Geometry {
        half: chain.half,
        row_parity: &chain.row_parity,
        row_nbrs: &chain.row_nbrs,
        n_row_nbrs: chain.n_row_nbrs,
    };
    let mut flips = 0u64;
    for c in 0..2 {
        let [s0, s1] = &mut chain.spins;
        let (x, y) = if c == 0 { (s0, &*s1) } else { (s1, &*s0) };
        // one work item per stripe: (stripe, first row, its rows of x, scratch)
        let mut items = Vec::with_capacity(chain.scratch.len());
        let mut rest: &mut [i8] = x;
        for (s, scratch) in chain.scratch.iter_mut().enumerate() {
            let (r0, r1) = (chain.stripe_rows[s], chain.stripe_rows[s + 1]);
            let (mine, tail) = rest.split_at_mut((r1 - r0) * geo.half);
            rest = tail;
            items.push((s, r0, mine, scratch));
        }
        let run = |(s, r0, rows, scratch): &mut (usize, usize, &mut [i8], &mut Scratch)| {
            let stream = (c as u64) << 32 | *s as u64;
            run_stripe(isa, &geo, &table, &key, stream, c, *r0, rows, y, scratch)
        };
        flips += if parallel {
            // one task per thread (not per stripe): every fork may have to
            // wake a sleeping worker, and a sweep between observations found
            // them asleep (~60 context switches per sweep, no 2-thread gain);
            // an integer sum is the same in any order and grouping
            let per_task = items.len().div_ceil(rayon::current_num_threads());
            items.par_iter_mut().with_min_len(per_task).map(run).sum::<u64>()
        } else {
            items.iter_mut().map(run).sum::<u64>()
        };
    }
    if let Some(v) = chain.view.take() {
        // a poisoned lock only loses the buffer
        if let Ok(spare) = chain.spare.get_mut() {
            *spare = v;
        }
    }
    Some(flips)
}

/// Shared, read-only geometry of a chain.
struct Geometry<'a> {
    half: usize,
    row_parity: &'a [u8],
    row_nbrs: &'a [[u32; 4]],
    n_row_nbrs: usize,
}

/// Flip thresholds indexed by `(nn + D)/2 + 8·[s = +1]` (D ≤ 6).
struct Thresholds {
    degree: usize,
    t: [u32; 16],
}

impl Thresholds {
    fn new(rule: LocalRule, beta: Beta, (j, h): (f64, f64), degree: usize) -> Self {
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
fn threshold(p: f64) -> u32 {
    if p >= 1.0 {
        u32::MAX
    } else {
        ((p * 4_294_967_296.0) as u64).min(u64::from(u32::MAX - 1)) as u32
    }
}

/// Kernel levels (`LEVEL` const parameters): portable loops, AVX2, AVX-512.
const GENERIC: u8 = 0;
const AVX2: u8 = 1;
const AVX512: u8 = 2;

/// The instruction set the kernels were compiled for, detected at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isa {
    Generic,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Isa {
    fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512vl")
            {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Isa::Avx2;
            }
        }
        Isa::Generic
    }
}

/// One colour of one stripe: rows `r0..` of colour `c`, drawing from ChaCha8
/// stream `stream` of `key`. Returns the number of flips.
#[allow(clippy::too_many_arguments)]
fn run_stripe(
    isa: Isa,
    geo: &Geometry<'_>,
    table: &Thresholds,
    key: &[u32; 8],
    stream: u64,
    c: usize,
    r0: usize,
    rows: &mut [i8],
    y: &[i8],
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
unsafe fn stripe_avx512(
    geo: &Geometry<'_>,
    table: &Thresholds,
    key: &[u32; 8],
    stream: u64,
    c: usize,
    r0: usize,
    rows: &mut [i8],
    y: &[i8],
    scratch: &mut Scratch,
) -> u64 {
    stripe::<AVX512>(geo, table, key, stream, c, r0, rows, y, scratch)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,bmi1,bmi2,popcnt")]
#[allow(clippy::too_many_arguments)]
unsafe fn stripe_avx2(
    geo: &Geometry<'_>,
    table: &Thresholds,
    key: &[u32; 8],
    stream: u64,
    c: usize,
    r0: usize,
    rows: &mut [i8],
    y: &[i8],
    scratch: &mut Scratch,
) -> u64 {
    stripe::<AVX2>(geo, table, key, stream, c, r0, rows, y, scratch)
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn stripe<const LEVEL: u8>(
    geo: &Geometry<'_>,
    table: &Thresholds,
    key: &[u32; 8],
    stream: u64,
    c: usize,
    r0: usize,
    rows: &mut [i8],
    y: &[i8],
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
fn stripe_n<const NR: usize, const LEVEL: u8>(
    geo: &Geometry<'_>,
    table: &Thresholds,
    key: &[u32; 8],
    stream: u64,
    c: usize,
    r0: usize,
    rows: &mut [i8],
    y: &[i8],
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
    let yrow = |r: usize| &y[r * h..(r + 1) * h];
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
fn row_dense<const NR: usize, const LEVEL: u8>(
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
unsafe fn row_avx512<const NR: usize>(
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
unsafe fn row_avx2<const NR: usize>(
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
fn lookup<const LEVEL: u8>(t: &[u32; 16], idx: &[u32], th: &mut [u32]) {
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

/// "expand 32-byte k".
const CHACHA_CONSTANTS: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// ChaCha8 keystream of `(key, stream)`, sixteen blocks per call.
struct WideChaCha8 {
    key: [u32; 8],
    stream: u64,
    block: u64,
}

impl WideChaCha8 {
    /// Writes blocks `block..block + 16` as `out[16·w + b]` = word w of block
    /// `block + b`, and advances by 16 blocks.
    #[inline(always)]
    fn fill<const LEVEL: u8>(&mut self, out: &mut [u32; GROUP]) {
        #[cfg(target_arch = "x86_64")]
        if LEVEL >= AVX512 {
            // SAFETY: LEVEL = AVX512 only inside functions compiled with
            // `target_feature(enable = "avx512f,…")`, called after run-time
            // detection of AVX-512 F.
            unsafe { self.fill_avx512(out) };
            self.block = self.block.wrapping_add(16);
            return;
        }
        const C: [u32; 4] = CHACHA_CONSTANTS;
        let ctr = |b: usize| self.block.wrapping_add(b as u64);
        let init: [[u32; 16]; 16] = [
            [C[0]; 16],
            [C[1]; 16],
            [C[2]; 16],
            [C[3]; 16],
            [self.key[0]; 16],
            [self.key[1]; 16],
            [self.key[2]; 16],
            [self.key[3]; 16],
            [self.key[4]; 16],
            [self.key[5]; 16],
            [self.key[6]; 16],
            [self.key[7]; 16],
            std::array::from_fn(|b| ctr(b) as u32),
            std::array::from_fn(|b| (ctr(b) >> 32) as u32),
            [self.stream as u32; 16],
            [(self.stream >> 32) as u32; 16],
        ];
        let mut x = init;
        #[inline(always)]
        fn add16(a: [u32; 16], b: [u32; 16]) -> [u32; 16] {
            std::array::from_fn(|l| a[l].wrapping_add(b[l]))
        }
        #[inline(always)]
        fn qr(x: &mut [[u32; 16]; 16], a: usize, b: usize, c: usize, d: usize) {
            let (mut va, mut vb, mut vc, mut vd) = (x[a], x[b], x[c], x[d]);
            for l in 0..16 {
                va[l] = va[l].wrapping_add(vb[l]);
                vd[l] = (vd[l] ^ va[l]).rotate_left(16);
                vc[l] = vc[l].wrapping_add(vd[l]);
                vb[l] = (vb[l] ^ vc[l]).rotate_left(12);
                va[l] = va[l].wrapping_add(vb[l]);
                vd[l] = (vd[l] ^ va[l]).rotate_left(8);
                vc[l] = vc[l].wrapping_add(vd[l]);
                vb[l] = (vb[l] ^ vc[l]).rotate_left(7);
            }
            (x[a], x[b], x[c], x[d]) = (va, vb, vc, vd);
        }
        for _ in 0..4 {
            qr(&mut x, 0, 4, 8, 12);
            qr(&mut x, 1, 5, 9, 13);
            qr(&mut x, 2, 6, 10, 14);
            qr(&mut x, 3, 7, 11, 15);
            qr(&mut x, 0, 5, 10, 15);
            qr(&mut x, 1, 6, 11, 12);
            qr(&mut x, 2, 7, 8, 13);
            qr(&mut x, 3, 4, 9, 14);
        }
        // straight-line code: a loop over w here gets vectorised across w
        // (with gathers) instead of across the 16 lanes
        let mut finish = |w: usize| {
            out[16 * w..16 * w + 16].copy_from_slice(&add16(x[w], init[w]));
        };
        finish(0);
        finish(1);
        finish(2);
        finish(3);
        finish(4);
        finish(5);
        finish(6);
        finish(7);
        finish(8);
        finish(9);
        finish(10);
        finish(11);
        finish(12);
        finish(13);
        finish(14);
        finish(15);
        self.block = self.block.wrapping_add(16);
    }

    /// [`Self::fill`] (without advancing) with the sixteen blocks in the
    /// sixteen lanes of sixteen `zmm` registers, rotations by `vprold`.
    ///
    /// # Safety
    /// AVX-512 F must be available.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn fill_avx512(&self, out: &mut [u32; GROUP]) {
        use std::arch::x86_64::*;
        // SAFETY: the caller guarantees AVX-512 F; the 16 stores cover
        // `out[16·w..16·w + 16]` for w < 16, inside `out` (256 words).
        unsafe {
            let bc = |v: u32| _mm512_set1_epi32(v as i32);
            let lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            let base = _mm512_set1_epi64(self.block as i64);
            // 64-bit counters block + b, split into low and high words
            let c_lo64 =
                _mm512_add_epi64(base, _mm512_cvtepu32_epi64(_mm512_castsi512_si256(lanes)));
            let c_hi64 = _mm512_add_epi64(
                base,
                _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64::<1>(lanes)),
            );
            let pick_lo =
                _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            let pick_hi =
                _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
            let ctr_lo = _mm512_permutex2var_epi32(c_lo64, pick_lo, c_hi64);
            let ctr_hi = _mm512_permutex2var_epi32(c_lo64, pick_hi, c_hi64);
            let k = &self.key;
            let init = [
                bc(CHACHA_CONSTANTS[0]),
                bc(CHACHA_CONSTANTS[1]),
                bc(CHACHA_CONSTANTS[2]),
                bc(CHACHA_CONSTANTS[3]),
                bc(k[0]),
                bc(k[1]),
                bc(k[2]),
                bc(k[3]),
                bc(k[4]),
                bc(k[5]),
                bc(k[6]),
                bc(k[7]),
                ctr_lo,
                ctr_hi,
                bc(self.stream as u32),
                bc((self.stream >> 32) as u32),
            ];
            let mut x = init;
            macro_rules! qr {
                ($a:literal, $b:literal, $c:literal, $d:literal) => {
                    x[$a] = _mm512_add_epi32(x[$a], x[$b]);
                    x[$d] = _mm512_rol_epi32::<16>(_mm512_xor_si512(x[$d], x[$a]));
                    x[$c] = _mm512_add_epi32(x[$c], x[$d]);
                    x[$b] = _mm512_rol_epi32::<12>(_mm512_xor_si512(x[$b], x[$c]));
                    x[$a] = _mm512_add_epi32(x[$a], x[$b]);
                    x[$d] = _mm512_rol_epi32::<8>(_mm512_xor_si512(x[$d], x[$a]));
                    x[$c] = _mm512_add_epi32(x[$c], x[$d]);
                    x[$b] = _mm512_rol_epi32::<7>(_mm512_xor_si512(x[$b], x[$c]));
                };
            }
            for _ in 0..4 {
                qr!(0, 4, 8, 12);
                qr!(1, 5, 9, 13);
                qr!(2, 6, 10, 14);
                qr!(3, 7, 11, 15);
                qr!(0, 5, 10, 15);
                qr!(1, 6, 11, 12);
                qr!(2, 7, 8, 13);
                qr!(3, 4, 9, 14);
            }
            let p = out.as_mut_ptr();
            for w in 0..16 {
                _mm512_storeu_si512(p.add(16 * w).cast(), _mm512_add_epi32(x[w], init[w]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
    /// portable loops, on rows with a 64-, a 32-site and a scalar part.
    #[test]
    fn kernels_agree_with_the_portable_loops() {
        let models = [
            Ising::chain(200, Boundary::Periodic, 1.0, 0.1).unwrap(),
            Ising::square(12, 200, Boundary::Periodic, 1.0, -0.2).unwrap(),
            Ising::cubic(4, 6, 200, Boundary::Periodic, 0.7, 0.0).unwrap(),
        ];
        let mut isas = vec![Isa::Generic];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                isas.push(Isa::Avx2);
            }
            if Isa::detect() == Isa::Avx512 {
                isas.push(Isa::Avx512);
            }
        }
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
                    half: chain.half,
                    row_parity: &chain.row_parity,
                    row_nbrs: &chain.row_nbrs,
                    n_row_nbrs: chain.n_row_nbrs,
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
                            &chain.spins[1],
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
