//! Ising models on hypercubic lattices and on arbitrary graphs.
//!
//! ```text
//! E(s) = −Σ_e J_e s_{a(e)} s_{b(e)} − Σ_i h_i s_i,      s_i ∈ {−1, +1}
//! ```
//!
//! One type, [`Ising`], covers the uniform ferromagnet or antiferromagnet on a
//! chain, square or cubic [`Lattice`] (periodic or open), spin glasses with
//! ±J or Gaussian couplings ([`Disorder`], drawn from seeded streams), random
//! fields, and any graph given as an edge list. Neighbours are stored as a
//! compressed adjacency list, so [`BinaryModel::flip_delta`] costs O(degree)
//! and never allocates:
//!
//! ```text
//! Δ_i = E(s with s_i flipped) − E(s) = 2 s_i (Σ_j J_ij s_j + h_i) = 2 s_i · local_field(s, i)
//! ```
//!
//! ```
//! use ebm_core::{Beta, BinaryModel, EnergyModel};
//! use ebm_models::ising::{Boundary, Ising};
//!
//! let m = Ising::square(4, 4, Boundary::Periodic, 1.0, 0.0)?;
//! assert_eq!(m.n_edges(), 32);
//! let up = vec![1i8; 16];
//! assert_eq!(m.energy(&up), -32.0);
//! assert_eq!(m.flip_delta(&up, 5), 8.0);
//! assert_eq!(m.blocks().n_blocks(), 2); // checkerboard
//! assert_eq!(m.uniform_couplings(), Some((1.0, 0.0)));
//! # Ok::<(), ebm_core::Error>(())
//! ```
//!
//! ## Parameters ([`LogLinear`])
//!
//! θ = `[J_0, …, J_{E−1}, h_0, …, h_{N−1}]`: one coupling per edge in edge
//! order, then one field per site; φ(s) = `[s_a s_b per edge, s_i per site]`,
//! so `E = −⟨θ, φ(s)⟩` exactly. Edge order is the order given to
//! [`Ising::from_edges`], and for lattices the order of [`Lattice`]'s bonds:
//! sites in index order, and for each site the axes in order, the bond to its
//! `+1` neighbour (wrapping if periodic). [`UniformIsing`] is the two-parameter
//! view θ = `[J, h]` of a uniform model.

mod checkerboard;
mod observables;
mod uniform;

use crate::graph::{Adjacency, check_edges};
pub use crate::lattice::{Boundary, Lattice, MAX_SITES};
pub use observables::SpinObservables;
pub use uniform::UniformIsing;

use crate::keystream::Isa;
use ebm_core::{
    BinaryModel, Blocks, Domain, EnergyModel, Error, KernelState, LocalRule, LogLinear, Purpose,
    Result, Seed, check_finite, check_len, rand_core::Rng, uniform,
};
use rand::RngExt;
use rayon::prelude::*;
use std::ops::Range;

/// A distribution of random couplings or fields.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Disorder {
    /// `+j` or `−j` with probability 1/2 each (the ±J spin glass).
    PlusMinus(f64),
    /// Normal with the given mean and standard deviation (Edwards–Anderson
    /// Gaussian glass, random-field Ising model).
    Gaussian {
        /// The mean.
        mean: f64,
        /// The standard deviation, ≥ 0.
        std: f64,
    },
}

impl Disorder {
    fn validate(self) -> Result<()> {
        let bad = |name, value, expected| Err(Error::InvalidParameter { name, value, expected });
        match self {
            Disorder::PlusMinus(j) if !j.is_finite() => bad("±J coupling", j, "finite"),
            Disorder::Gaussian { mean, .. } if !mean.is_finite() => {
                bad("Gaussian mean", mean, "finite")
            }
            Disorder::Gaussian { std, .. } if !(std.is_finite() && std >= 0.0) => {
                bad("Gaussian standard deviation", std, "finite and ≥ 0")
            }
            _ => Ok(()),
        }
    }

    /// One draw. The Gaussian uses Box–Muller with one uniform pair per draw.
    fn sample<R: Rng + ?Sized>(self, rng: &mut R) -> f64 {
        match self {
            Disorder::PlusMinus(j) => {
                if rng.random::<bool>() {
                    j
                } else {
                    -j
                }
            }
            Disorder::Gaussian { mean, std } => {
                let u1 = 1.0 - uniform(rng); // in (0, 1]
                let u2 = uniform(rng);
                mean + std * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
            }
        }
    }
}

/// The Ising model on a lattice or a graph, with per-edge couplings and
/// per-site fields: `E(s) = −Σ_e J_e s_a s_b − Σ_i h_i s_i`.
///
/// Construct it with [`Ising::chain`], [`Ising::square`], [`Ising::cubic`],
/// [`Ising::lattice`] (uniform J and h), [`Ising::spin_glass_pm`],
/// [`Ising::spin_glass_gaussian`], or [`Ising::from_edges`] for any graph;
/// [`Ising::with_random_couplings`] and [`Ising::with_random_fields`] add
/// disorder to any of them. States are `[i8]` slices of ±1 spins.
///
/// Blocks: the checkerboard on bipartite lattices (every periodic side even),
/// otherwise a greedy colouring (largest degree first) of the interaction
/// graph, which is always a partition into independent sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Ising {
    n: usize,
    /// Edge endpoints, in edge order.
    edges: Vec<[u32; 2]>,
    /// θ = [J per edge, h per site].
    params: Vec<f64>,
    /// Who interacts with whom (CSR).
    adj: Adjacency,
    /// Coupling per adjacency entry (a copy of `params[edge of entry k]`).
    nbr_coupling: Vec<f64>,
    lattice: Option<Lattice>,
    blocks: Blocks,
    /// `Some((J, h))` when every coupling equals J and every field equals h.
    uniform: Option<(f64, f64)>,
    /// `Some(J)` on a periodic lattice whose every coupling is J (the
    /// pair form's torus hint).
    torus_j: Option<f64>,
}

fn check_scalar(name: &'static str, value: f64) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidParameter { name, value, expected: "finite" })
    }
}

impl Ising {
    /// A chain of `l` spins (a ring if periodic) with uniform coupling `j` and
    /// field `h`.
    pub fn chain(l: usize, boundary: impl Into<Boundary>, j: f64, h: f64) -> Result<Self> {
        Ising::lattice(&[l], boundary, j, h)
    }

    /// An `l×m` square lattice (a torus if periodic) with uniform `j` and `h`.
    pub fn square(
        l: usize,
        m: usize,
        boundary: impl Into<Boundary>,
        j: f64,
        h: f64,
    ) -> Result<Self> {
        Ising::lattice(&[l, m], boundary, j, h)
    }

    /// An `l×m×k` simple cubic lattice with uniform `j` and `h`.
    pub fn cubic(
        l: usize,
        m: usize,
        k: usize,
        boundary: impl Into<Boundary>,
        j: f64,
        h: f64,
    ) -> Result<Self> {
        Ising::lattice(&[l, m, k], boundary, j, h)
    }

    /// A hypercubic lattice with sides `dims` (1 to 3 of them) and uniform
    /// coupling `j` and field `h`. See [`Lattice`] for site numbering, bond
    /// order and the conventions for sides 1 and 2.
    ///
    /// Errors: a side of 0, a periodic side of 1, no or more than 3 sides
    /// ([`Error::InvalidParameter`]); non-finite `j` or `h`.
    pub fn lattice(dims: &[usize], boundary: impl Into<Boundary>, j: f64, h: f64) -> Result<Self> {
        check_scalar("coupling J", j)?;
        check_scalar("field h", h)?;
        let lattice = Lattice::new(dims, boundary)?;
        let bonds = lattice.bonds();
        let n = lattice.n_sites();
        let mut params = vec![j; bonds.len()];
        params.resize(bonds.len() + n, h);
        Ok(Ising::build(n, bonds, params, Some(lattice)))
    }

    /// The ±J spin glass on a lattice: every coupling `+j` or `−j` with
    /// probability 1/2, no field, drawn from `seed`'s [`Purpose::INIT`] stream 0.
    pub fn spin_glass_pm(
        dims: &[usize],
        boundary: impl Into<Boundary>,
        j: f64,
        seed: Seed,
    ) -> Result<Self> {
        Ising::lattice(dims, boundary, 1.0, 0.0)?
            .with_random_couplings(Disorder::PlusMinus(j), seed)
    }

    /// The Gaussian (Edwards–Anderson) spin glass on a lattice: couplings
    /// N(0, std²), no field, drawn from `seed`'s [`Purpose::INIT`] stream 0.
    pub fn spin_glass_gaussian(
        dims: &[usize],
        boundary: impl Into<Boundary>,
        std: f64,
        seed: Seed,
    ) -> Result<Self> {
        Ising::lattice(dims, boundary, 1.0, 0.0)?
            .with_random_couplings(Disorder::Gaussian { mean: 0.0, std }, seed)
    }

    /// Ising on any graph of `n` sites: `edges` lists `(i, j, J_ij)` once per
    /// interacting pair (edge order = this order), `fields` gives `h_i`.
    ///
    /// Errors: `n = 0` ([`Error::InvalidParameter`]); `fields.len() ≠ n`
    /// ([`Error::ShapeMismatch`]); an endpoint ≥ n, a self-loop `(i, i)` or a
    /// pair listed twice, in either orientation ([`Error::InvalidSequence`]);
    /// a non-finite coupling or field ([`Error::NonFinite`]); more than
    /// [`MAX_SITES`] sites ([`Error::TooManyUnits`]).
    pub fn from_edges(n: usize, edges: &[(usize, usize, f64)], fields: &[f64]) -> Result<Self> {
        let bonds = check_edges("number of spins", n, edges)?;
        check_len("fields", n, fields.len())?;
        check_finite("fields", fields)?;
        let mut params: Vec<f64> = edges.iter().map(|e| e.2).collect();
        params.extend_from_slice(fields);
        Ok(Ising::build(n, bonds, params, None))
    }

    /// Replaces every coupling by an independent draw from `disorder`, using
    /// `seed`'s [`Purpose::INIT`] stream 0 in edge order (reproducible).
    pub fn with_random_couplings(mut self, disorder: Disorder, seed: Seed) -> Result<Self> {
        disorder.validate()?;
        let mut rng = seed.stream(Purpose::INIT, 0);
        let e = self.edges.len();
        for j in &mut self.params[..e] {
            *j = disorder.sample(&mut rng);
        }
        check_finite("couplings", &self.params[..e])?;
        self.refresh();
        Ok(self)
    }

    /// Replaces every field by an independent draw from `disorder`, using
    /// `seed`'s [`Purpose::INIT`] stream 1 in site order (reproducible).
    pub fn with_random_fields(mut self, disorder: Disorder, seed: Seed) -> Result<Self> {
        disorder.validate()?;
        let mut rng = seed.stream(Purpose::INIT, 1);
        let e = self.edges.len();
        for h in &mut self.params[e..] {
            *h = disorder.sample(&mut rng);
        }
        check_finite("fields", &self.params[e..])?;
        self.refresh();
        Ok(self)
    }

    /// Replaces the fields (length `n_units()`, finite).
    pub fn with_fields(mut self, fields: &[f64]) -> Result<Self> {
        check_len("fields", self.n, fields.len())?;
        check_finite("fields", fields)?;
        let e = self.edges.len();
        self.params[e..].copy_from_slice(fields);
        self.refresh();
        Ok(self)
    }

    /// Assembles a validated model: CSR adjacency, blocks, uniformity.
    fn build(n: usize, edges: Vec<[u32; 2]>, params: Vec<f64>, lattice: Option<Lattice>) -> Self {
        let adj = Adjacency::new(n, &edges);
        let nbr_coupling = adj.entry_edges().iter().map(|&e| params[e]).collect();
        let blocks = adj.colouring(lattice.as_ref());
        let mut model = Ising {
            n,
            edges,
            params,
            adj,
            nbr_coupling,
            lattice,
            blocks,
            uniform: None,
            torus_j: None,
        };
        model.refresh();
        model
    }

    /// Recomputes the adjacency couplings and the uniformity flag from θ.
    fn refresh(&mut self) {
        self.torus_j =
            crate::graph::torus_coupling(self.lattice.as_ref(), &self.params[..self.edges.len()]);
        for (c, &e) in self.nbr_coupling.iter_mut().zip(self.adj.entry_edges()) {
            *c = self.params[e];
        }
        let (j, h) = self.params.split_at(self.edges.len());
        let all_equal = |v: &[f64]| v.iter().all(|&x| x == v[0]);
        self.uniform = if all_equal(h) && (j.is_empty() || all_equal(j)) {
            Some((j.first().copied().unwrap_or(0.0), h[0]))
        } else {
            None
        };
    }

    /// Number of edges (bonds) E.
    pub fn n_edges(&self) -> usize {
        self.edges.len()
    }

    /// The endpoints of edge `e`, in the orientation given at construction.
    /// Panics if `e ≥ n_edges()`.
    pub fn edge(&self, e: usize) -> (usize, usize) {
        let [a, b] = self.edges[e];
        (a as usize, b as usize)
    }

    /// All edges in edge order, with their couplings: `(i, j, J_ij)`.
    pub fn edges(&self) -> impl ExactSizeIterator<Item = (usize, usize, f64)> + '_ {
        self.edges.iter().zip(&self.params).map(|(&[a, b], &j)| (a as usize, b as usize, j))
    }

    /// The coupling of edge `e`. Panics if `e ≥ n_edges()`.
    pub fn coupling(&self, e: usize) -> f64 {
        self.couplings()[e]
    }

    /// The couplings, one per edge in edge order (the first part of θ).
    pub fn couplings(&self) -> &[f64] {
        &self.params[..self.edges.len()]
    }

    /// The field of site `i`. Panics if `i ≥ n_units()`.
    pub fn field(&self, i: usize) -> f64 {
        self.fields()[i]
    }

    /// The fields, one per site (the second part of θ).
    pub fn fields(&self) -> &[f64] {
        &self.params[self.edges.len()..]
    }

    /// The neighbours of site `i`, one entry per edge (a pair joined by two
    /// bonds, as on a periodic side of 2, appears twice). Panics if `i ≥ n_units()`.
    #[inline]
    pub fn neighbours(&self, i: usize) -> &[u32] {
        self.adj.neighbours(i)
    }

    /// The couplings to the neighbours of site `i`, aligned with
    /// [`Ising::neighbours`].
    #[inline]
    pub fn neighbour_couplings(&self, i: usize) -> &[f64] {
        &self.nbr_coupling[self.adj.range(i)]
    }

    /// The number of adjacency entries of site `i`.
    pub fn degree(&self, i: usize) -> usize {
        self.adj.degree(i)
    }

    /// The largest degree of any site (the range of [`Ising::neighbour_sum`]
    /// is `−max_degree..=max_degree`).
    pub fn max_degree(&self) -> usize {
        self.adj.max_degree()
    }

    /// The lattice (shape, boundary, site numbering), if the model was built on one.
    pub fn lattice_shape(&self) -> Option<&Lattice> {
        self.lattice.as_ref()
    }

    /// The lattice's boundary condition, if the model was built on one.
    pub fn boundary(&self) -> Option<Boundary> {
        self.lattice.as_ref().map(Lattice::boundary)
    }

    /// The lattice's side lengths, if the model was built on one.
    pub fn lattice_dims(&self) -> Option<&[usize]> {
        self.lattice.as_ref().map(Lattice::dims)
    }

    /// `Some((J, h))` when every coupling equals J and every field equals h
    /// (`J = 0` if there are no edges). Then
    /// `local_field(s, i) = J · neighbour_sum(s, i) + h`, and a sampler may
    /// tabulate acceptance probabilities by `(s_i, neighbour_sum)`.
    pub fn uniform_couplings(&self) -> Option<(f64, f64)> {
        self.uniform
    }

    /// `Σ_j s_j` over the neighbours of `i` (with multiplicity).
    #[inline]
    pub fn neighbour_sum(&self, s: &[i8], i: usize) -> i32 {
        self.neighbours(i).iter().map(|&j| i32::from(s[j as usize])).sum()
    }

    /// The local field `Σ_j J_ij s_j + h_i`, so that
    /// `flip_delta(s, i) = 2 s_i · local_field(s, i)`. O(degree), no allocation.
    #[inline]
    pub fn local_field(&self, s: &[i8], i: usize) -> f64 {
        if let Some((j, h)) = self.uniform {
            return j * f64::from(self.neighbour_sum(s, i)) + h;
        }
        let mut f = 0.0;
        for (&k, &c) in self.neighbours(i).iter().zip(self.neighbour_couplings(i)) {
            f += c * f64::from(s[k as usize]);
        }
        f + self.params[self.edges.len() + i]
    }

    /// `Σ_e s_a s_b`, the sum over edges.
    fn bond_sum(&self, s: &[i8]) -> i64 {
        if let Some(l) = &self.lattice
            && l.dims().iter().all(|&d| d >= 2)
        {
            return lattice_bond_sum(l.dims(), l.boundary() == Boundary::Periodic, s);
        }
        self.edges.iter().map(|&[a, b]| i64::from(s[a as usize]) * i64::from(s[b as usize])).sum()
    }

    /// The magnetization per spin, `(1/N) Σ_i s_i`.
    pub fn magnetization(&self, s: &[i8]) -> f64 {
        sum_i8(s) as f64 / self.n as f64
    }

    /// `|magnetization(s)|`.
    pub fn abs_magnetization(&self, s: &[i8]) -> f64 {
        self.magnetization(s).abs()
    }

    /// The energy per spin, `E(s) / N`.
    pub fn energy_per_spin(&self, s: &[i8]) -> f64 {
        self.energy(s) / self.n as f64
    }

    /// The mean of `s_a s_b` over the edges (1 when all spins are aligned);
    /// 0 for a model without edges.
    pub fn nearest_neighbour_correlation(&self, s: &[i8]) -> f64 {
        if self.edges.is_empty() {
            return 0.0;
        }
        self.bond_sum(s) as f64 / self.edges.len() as f64
    }
}

/// `Σ_e s_a s_b` over the bonds of a lattice (each site to its `+1`
/// neighbour along every axis, wrapping if periodic; sides ≥ 2), by shifted
/// dot products: vectorised, without the edge list.
fn lattice_bond_sum(dims: &[usize], periodic: bool, s: &[i8]) -> i64 {
    slab_bond_sum(dims, periodic, s, 0..dims[0])
}

/// The part of [`lattice_bond_sum`] from the sites whose first coordinate is
/// in `layers` (each site's bonds to its `+1` neighbours): summed over a
/// partition of the layers, the whole bond sum. Along the first axis the
/// bonds pair site i with i + (layer size), and the last layer wraps to the
/// first; along the others they stay inside a layer ([`axis_bond_sum`]).
fn slab_bond_sum(dims: &[usize], periodic: bool, s: &[i8], layers: Range<usize>) -> i64 {
    let layer: usize = dims[1..].iter().product();
    let (a, b) = (layers.start * layer, layers.end * layer);
    let inner = b.min(s.len() - layer);
    let mut total = if inner > a { dot_i8(&s[a..inner], &s[a + layer..inner + layer]) } else { 0 };
    if periodic && layers.end == dims[0] {
        total += short_dot(&s[s.len() - layer..], &s[..layer]);
    }
    let slab = &s[a..b];
    for axis in 1..dims.len() {
        total += axis_bond_sum(slab, dims[axis], dims[axis + 1..].iter().product(), periodic);
    }
    total
}

/// The bonds `(i, i + stride)` inside each block of `side · stride` sites of
/// `s` (and, if periodic, each block's last layer of `stride` sites with its
/// first): one axis's share of [`lattice_bond_sum`].
///
/// One dot of the whole array with itself shifted by the stride counts
/// those plus, at every block boundary, `stride` pairs that straddle two
/// blocks: those are taken off again, and the wrapping pairs added. So the
/// last axis (stride 1, a block per row) is one long dot and O(rows)
/// fix-ups rather than a short dot per row. Integer sums: exact, the same
/// on every path.
fn axis_bond_sum(s: &[i8], side: usize, stride: usize, periodic: bool) -> i64 {
    let block = side * stride;
    let n_blocks = s.len() / block;
    let mut total = dot_i8(&s[..s.len() - stride], &s[stride..]);
    // the last `stride` sites of block b: its top layer
    let top = |b: usize| &s[(b + 1) * block - stride..(b + 1) * block];
    for b in 0..n_blocks - 1 {
        total -= short_dot(top(b), &s[(b + 1) * block..(b + 1) * block + stride]);
    }
    if periodic {
        for b in 0..n_blocks {
            total += short_dot(top(b), &s[b * block..b * block + stride]);
        }
    }
    total
}

/// [`dot_i8`] for slices that may be a handful of sites long (a row's ends),
/// without its dispatch there.
fn short_dot(x: &[i8], y: &[i8]) -> i64 {
    if x.len() < 64 {
        x.iter().zip(y).map(|(&p, &q)| i64::from(p) * i64::from(q)).sum()
    } else {
        dot_i8(x, y)
    }
}

/// Arrays at least this long are summed by several threads (exact integer
/// sums: the same result for any number of threads).
const PARALLEL_SUM_MIN: usize = 1 << 16;

/// `Σ a_k b_k` over the common length in exact integer arithmetic: blocks
/// of 4096 products summed in i32 (no overflow), then i64; long arrays in
/// parallel.
fn dot_i8(a: &[i8], b: &[i8]) -> i64 {
    let n = a.len().min(b.len());
    split_sum(n, |r| dot_serial(&a[r.clone()], &b[r]))
}

/// `Σ s_i` in exact integer arithmetic (`Σ s·1` by the same kernel; long
/// arrays in parallel).
pub(crate) fn sum_i8(s: &[i8]) -> i64 {
    const ONES: [i8; SUM_BLOCK] = [1; SUM_BLOCK];
    split_sum(s.len(), |r| s[r].chunks(SUM_BLOCK).map(|c| dot_serial(c, &ONES[..c.len()])).sum())
}

/// [`dot_i8`] on one thread, the blocks compiled for the instruction set the
/// CPU has ([`Isa::detect`], as the checkerboard kernel; integer arithmetic:
/// the same result on every path).
fn dot_serial(x: &[i8], y: &[i8]) -> i64 {
    #[inline(always)]
    fn body(x: &[i8], y: &[i8]) -> i64 {
        let block = |(x, y): (&[i8], &[i8])| {
            let s: i32 =
                x.iter().zip(y).map(|(&p, &q)| i32::from(i16::from(p) * i16::from(q))).sum();
            i64::from(s)
        };
        x.chunks(SUM_BLOCK).zip(y.chunks(SUM_BLOCK)).map(block).sum()
    }
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    unsafe fn avx512(x: &[i8], y: &[i8]) -> i64 {
        body(x, y)
    }
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn avx2(x: &[i8], y: &[i8]) -> i64 {
        body(x, y)
    }
    match Isa::detect() {
        // SAFETY: `Isa::detect` found avx512f, avx512bw and avx512vl.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { avx512(x, y) },
        // SAFETY: `Isa::detect` found avx2.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { avx2(x, y) },
        Isa::Generic => body(x, y),
    }
}

/// Elements per block of [`sum_i8`] and [`dot_i8`].
const SUM_BLOCK: usize = 4096;

/// `f(0..len)`, or for long arrays `Σ f(range)` over fixed ranges of 16
/// blocks in parallel (exact integer sums: the same for any thread count).
fn split_sum(len: usize, f: impl Fn(std::ops::Range<usize>) -> i64 + Sync) -> i64 {
    const GROUP: usize = 16 * SUM_BLOCK;
    if len < PARALLEL_SUM_MIN {
        return f(0..len);
    }
    (0..len.div_ceil(GROUP)).into_par_iter().map(|g| f(g * GROUP..((g + 1) * GROUP).min(len))).sum()
}

/// `−J·bonds − h·spins` with uniform couplings, the spin sum computed only
/// when h ≠ 0 (shared by [`EnergyModel::energy`] and
/// [`Ising::observables`], which must agree bit for bit).
fn uniform_energy(j: f64, h: f64, bonds: i64, spins: impl FnOnce() -> i64) -> f64 {
    let e = -j * bonds as f64;
    if h == 0.0 { e } else { e - h * spins() as f64 }
}

impl EnergyModel for Ising {
    type Space = Domain;

    fn n_units(&self) -> usize {
        self.n
    }

    fn space(&self) -> &Domain {
        &Domain::Spin
    }

    /// `−Σ_e J_e s_a s_b − Σ_i h_i s_i`; with uniform couplings, `−J·(bond sum)
    /// − h·(spin sum)` from exact integer sums.
    fn energy(&self, s: &[i8]) -> f64 {
        if let Some((j, h)) = self.uniform {
            return uniform_energy(j, h, self.bond_sum(s), || sum_i8(s));
        }
        let (couplings, fields) = self.params.split_at(self.edges.len());
        let mut e = 0.0;
        for (&[a, b], &j) in self.edges.iter().zip(couplings) {
            e -= j * f64::from(i32::from(s[a as usize]) * i32::from(s[b as usize]));
        }
        for (&x, &h) in s.iter().zip(fields) {
            e -= h * f64::from(x);
        }
        e
    }
}

impl BinaryModel for Ising {
    /// `2 s_i (Σ_j J_ij s_j + h_i)`, O(degree), no allocation.
    #[inline]
    fn flip_delta(&self, s: &[i8], i: usize) -> f64 {
        2.0 * f64::from(s[i]) * self.local_field(s, i)
    }

    fn block_deltas(&self, s: &[i8], block: &[usize], out: &mut [f64]) {
        match self.uniform {
            Some((j, h)) => {
                for (o, &i) in out.iter_mut().zip(block) {
                    *o = 2.0 * f64::from(s[i]) * (j * f64::from(self.neighbour_sum(s, i)) + h);
                }
            }
            None => {
                for (o, &i) in out.iter_mut().zip(block) {
                    *o = 2.0 * f64::from(s[i]) * self.local_field(s, i);
                }
            }
        }
    }

    /// Checkerboard on bipartite lattices, greedy colouring otherwise
    /// (computed once at construction).
    fn blocks(&self) -> Blocks {
        self.blocks.clone()
    }

    /// The checkerboard kernel (vectorised, parallel over stripes) for a
    /// uniform periodic lattice with even sides; `None` otherwise. See the
    /// `checkerboard` module docs (its file) for the layout and the random
    /// stream.
    fn block_kernel(&self, _rule: LocalRule, x: &[i8]) -> Option<Box<dyn KernelState>> {
        checkerboard::start(self, x).map(|k| Box::new(k) as Box<dyn KernelState>)
    }

    fn block_kernel_sweep(
        &self,
        rule: LocalRule,
        state: &mut dyn KernelState,
        beta: ebm_core::Beta,
        key: [u32; 8],
    ) -> Option<u64> {
        checkerboard::sweep(self, rule, state, beta, key)
    }

    /// The edges, couplings and fields: the Ising model is its pair form.
    fn pair_graph(&self) -> Option<ebm_core::PairGraph<'_>> {
        Some(crate::graph::pair_graph(
            &self.edges,
            &self.params,
            &self.adj,
            &self.nbr_coupling,
            self.lattice.as_ref(),
            self.torus_j,
        ))
    }
}

impl LogLinear for Ising {
    /// θ = `[J per edge (edge order), h per site]`.
    fn params(&self) -> &[f64] {
        &self.params
    }

    fn set_params(&mut self, theta: &[f64]) -> Result<()> {
        check_len("Ising parameters", self.params.len(), theta.len())?;
        check_finite("Ising parameters", theta)?;
        self.params.copy_from_slice(theta);
        self.refresh();
        Ok(())
    }

    /// φ(s) = `[s_a s_b per edge, s_i per site]`.
    fn add_statistics(&self, s: &[i8], weight: f64, out: &mut [f64]) {
        let (pairs, singles) = out.split_at_mut(self.edges.len());
        for (o, &[a, b]) in pairs.iter_mut().zip(&self.edges) {
            *o += weight * f64::from(i32::from(s[a as usize]) * i32::from(s[b as usize]));
        }
        for (o, &x) in singles.iter_mut().zip(s) {
            *o += weight * f64::from(x);
        }
    }
}
