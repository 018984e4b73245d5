//! Cluster algorithms: [`Wolff`] and [`SwendsenWang`] for Ising and Potts
//! models (any model that exposes its pair form, [`ebm_core::PairGraph`]),
//! and [`Houdayer`]'s two-replica move for spin glasses (on [`Replicas`],
//! two copies of a model; `houdayer.rs`).
//!
//! Both rest on the Fortuin–Kasteleyn representation: an *eligible* bond
//! (a satisfied Ising bond, J s_a s_b > 0, or equal Potts neighbours with
//! J > 0) is open with probability `p = 1 − e^{−βK}` (K = 2|J| for Ising,
//! J for Potts); the clusters of open bonds can then change value as a whole.
//! Near a critical point this beats single-site moves by orders of
//! magnitude (dynamic exponent z ≈ 0.25 instead of ≈ 2.17 in 2-D).
//!
//! - Ising couplings may have either sign (Kandel–Domany: only satisfied
//!   bonds open, and a cluster flips as a whole); frustrated glasses are
//!   sampled exactly but their clusters percolate, so it does not help there.
//! - Potts couplings must be ≥ 0 and every unit must have the same q: a
//!   typed error ([`ebm_core::Error::Unsupported`]) otherwise. A model whose
//!   parameters change between sweeps into a form the moves cannot use is
//!   left unchanged by each such sweep, counted by
//!   [`ClusterChain::refused_sweeps`].
//! - Fields enter through the cluster's field energy, the ghost-spin
//!   construction with the ghost's bonds summed out: Wolff accepts the
//!   cluster's move with min(1, e^{−β ΔE_field}) and Swendsen–Wang draws each
//!   cluster's option from its heat bath, `∝ e^{−β Σ_{i∈C} E_field(i)}`.
//!
//! ## The unit of work ("sweep"), so that τ_int compares across samplers
//!
//! - [`SwendsenWang`]: one sweep is one Swendsen–Wang update: every bond
//!   drawn, every cluster given a new option.
//! - [`Wolff`]: one sweep is a **fixed** number n_c of single-cluster
//!   updates, n_c = round(N / ⟨|C|⟩), so that a sweep moves N units on
//!   average, as a single-site sweep visits N. Stopping each sweep once N
//!   units have moved would not leave p_β invariant (the stopping time
//!   depends on the state); so n_c is adapted during warm-up only
//!   ([`Wolff::adapt_during`], the default 100 sweeps, which runners enforce
//!   through `min_warmup`) and fixed afterwards, or set outright
//!   ([`Wolff::clusters_per_sweep`]).
//!
//! Cluster growth allocates nothing per sweep: the chain owns the stack,
//! the visit stamps and the union-find forest.
//!
//! On a uniform torus without fields or clamped units, a Swendsen–Wang
//! update runs in stripes that threads share (`stripes.rs`): each stripe
//! draws its own bonds and labels its own clusters, and the bonds between
//! stripes join them after; bit-identical on any number of threads.

mod bonds;
mod houdayer;
mod rules;
mod stripes;

pub use houdayer::{Houdayer, HoudayerChain, Replicas};
pub use rules::ClusterMoves;
pub(crate) use stripes::STRIPE_SITES;

use crate::clamp::{Clamp, check_clamp, is_free};
use bonds::{BondTest, ByteTest, Words, find, heat_bath, index, threshold32, union};
use ebm_core::{
    Beta, Chain, ChainRecord, EnergyModel, Error, Result, Sampler, StateSpace, UnitOf, UnitValue,
    check_len, uniform,
};
use rand::Rng;

/// Wolff's single-cluster algorithm: grow one cluster from a uniformly chosen
/// seed through open bonds, then move it (spins flip; a Potts cluster takes
/// a uniformly chosen other colour), accepted with min(1, e^{−βΔE_field}).
/// One sweep is n_c clusters (see the module docs).
///
/// A user's model gets cluster moves by exposing its pair form; here a
/// ferromagnetic ring of 4 spins:
///
/// ```
/// use ebm_core::{Beta, BinaryModel, Chain, Domain, EnergyModel, PairGraph, Purpose, Sampler, Seed};
/// use ebm_samplers::Wolff;
///
/// struct Ring;
/// const EDGES: [[u32; 2]; 4] = [[0, 1], [1, 2], [2, 3], [3, 0]];
/// impl EnergyModel for Ring {
///     type Space = Domain;
///     fn n_units(&self) -> usize { 4 }
///     fn space(&self) -> &Domain { &Domain::Spin }
///     fn energy(&self, s: &[i8]) -> f64 {
///         -EDGES.iter().map(|&[a, b]| f64::from(s[a as usize] * s[b as usize])).sum::<f64>()
///     }
/// }
/// impl BinaryModel for Ring {
///     fn pair_graph(&self) -> Option<PairGraph<'_>> {
///         Some(PairGraph {
///             edges: &EDGES,
///             couplings: &[1.0; 4],
///             offsets: &[0, 2, 4, 6, 8],
///             neighbours: &[1, 3, 0, 2, 1, 3, 2, 0],
///             neighbour_couplings: &[1.0; 8],
///             fields: &[0.0; 4],
///             torus: None, // (or Some: a periodic lattice with one coupling)
///         })
///     }
/// }
///
/// let wolff = Wolff::clusters_per_sweep(1)?;
/// let mut rng = Seed(1).stream(Purpose::SAMPLING, 0);
/// let mut chain = wolff.start(&Ring, &[1, 1, 1, 1])?;
/// let mut aligned = 0;
/// for _ in 0..4000 {
///     wolff.sweep(&Ring, &mut chain, Beta::new(1.0)?, &mut rng);
///     aligned += (chain.state().iter().all(|&s| s == chain.state()[0])) as u32;
/// }
/// // P(all aligned) = 2e⁴ / Z, Z = 2e⁴ + 12 + 2e⁻⁴ (the ring of 4 at β = 1)
/// let z = 2.0 * 4f64.exp() + 12.0 + 2.0 * (-4f64).exp();
/// let p = 2.0 * 4f64.exp() / z;
/// assert!((f64::from(aligned) / 4000.0 - p).abs() < 0.05);
/// # Ok::<(), ebm_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wolff {
    adapt_sweeps: u64,
    fixed: Option<u64>,
    clamp: Option<Clamp>,
}

impl Default for Wolff {
    fn default() -> Self {
        Wolff::new()
    }
}

impl Wolff {
    /// Wolff with n_c adapted during the first 100 sweeps (the mean over the
    /// last 50: ~150 clusters at β_c, enough to fix n_c to ±10%).
    pub fn new() -> Self {
        Wolff { adapt_sweeps: 100, fixed: None, clamp: None }
    }

    /// Adapts n_c = round(N / ⟨|C|⟩) during the first `sweeps` sweeps (≥ 2;
    /// the mean is taken over the second half), then keeps it fixed.
    pub fn adapt_during(sweeps: u64) -> Result<Self> {
        if sweeps < 2 {
            return Err(Error::InvalidParameter {
                name: "Wolff adaptation sweeps",
                value: sweeps as f64,
                expected: "≥ 2",
            });
        }
        Ok(Wolff { adapt_sweeps: sweeps, fixed: None, clamp: None })
    }

    /// Exactly `clusters` single-cluster updates per sweep (≥ 1), no
    /// adaptation: a fixed kernel from the first sweep (for AIS, annealing).
    pub fn clusters_per_sweep(clusters: u64) -> Result<Self> {
        if clusters == 0 {
            return Err(Error::InvalidParameter {
                name: "Wolff clusters per sweep",
                value: 0.0,
                expected: "≥ 1",
            });
        }
        Ok(Wolff { adapt_sweeps: 0, fixed: Some(clusters), clamp: None })
    }

    /// The same sampler with the units of `clamp` fixed: a cluster that
    /// reaches a fixed unit is not moved (exact: the move is refused in
    /// both directions alike).
    pub fn with_clamp(mut self, clamp: Clamp) -> Self {
        self.clamp = Some(clamp);
        self
    }
}

impl SwendsenWang {
    /// Swendsen–Wang with every unit free.
    pub fn new() -> Self {
        SwendsenWang { clamp: None, stripe_sites: stripes::STRIPE_SITES }
    }

    /// On a uniform torus without fields or clamps, the update runs in
    /// stripes of whole slabs that threads share (at most 16): this sets the
    /// sites per stripe aimed at (default 2048, ≥ 1). The result depends on
    /// the stripes (each draws from its own stream), never on the number of
    /// threads.
    pub fn with_stripe_sites(mut self, sites: usize) -> Result<Self> {
        if sites == 0 {
            return Err(Error::InvalidParameter {
                name: "Swendsen–Wang stripe sites",
                value: 0.0,
                expected: "≥ 1",
            });
        }
        self.stripe_sites = sites;
        Ok(self)
    }

    /// The same sampler with the units of `clamp` fixed: a cluster holding a
    /// fixed unit keeps its values (exact: given the bonds, clusters are
    /// independent, and those clusters are conditioned on).
    pub fn with_clamp(mut self, clamp: Clamp) -> Self {
        self.clamp = Some(clamp);
        self
    }
}

/// Swendsen–Wang: every eligible bond opens with probability p, then every
/// cluster independently takes a new option (uniform without fields, its
/// heat bath with them). One sweep is one such update.
/// (Usage as [`Wolff`]'s example.)
///
/// On a uniform torus (one coupling, bonds joining equal values) without
/// fields or clamped units, one update runs in stripes that threads share,
/// bit-identical on any number of threads
/// ([`SwendsenWang::with_stripe_sites`]); elsewhere it runs in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwendsenWang {
    clamp: Option<Clamp>,
    stripe_sites: usize,
}

impl Default for SwendsenWang {
    fn default() -> Self {
        SwendsenWang::new()
    }
}

/// The chain of a cluster sampler: the configuration, the scratch of
/// cluster growth (stack, visit stamps, union-find forest, cluster
/// energies), Wolff's n_c and its adaptation, and counters. Equality
/// compares the configuration and the counters.
#[derive(Debug, Clone)]
pub struct ClusterChain<U> {
    x: Vec<U>,
    /// Wolff: visit stamps and the growth stack; SW: parents and labels.
    marks: Vec<u32>,
    stack: Vec<u32>,
    stamp: u32,
    /// SW with fields: option energies per cluster.
    energies: Vec<f64>,
    /// SW on a uniform torus: the stripes' scratch.
    stripes: stripes::Stripes,
    /// Sweeps done.
    sweeps: u64,
    /// Wolff: clusters per sweep (0 until the first sweep).
    n_c: u64,
    /// Wolff adaptation: units and clusters counted in its second half.
    adapt_units: u64,
    adapt_clusters: u64,
    /// Cluster moves proposed and accepted (Wolff), clusters formed (SW).
    proposed: u64,
    accepted: u64,
    /// Units in the clusters counted by `proposed`.
    units: u64,
    refused: u64,
}

impl<U: PartialEq> PartialEq for ClusterChain<U> {
    fn eq(&self, o: &Self) -> bool {
        self.x == o.x
            && self.sweeps == o.sweeps
            && self.n_c == o.n_c
            && self.adapt_units == o.adapt_units
            && self.adapt_clusters == o.adapt_clusters
            && self.proposed == o.proposed
            && self.accepted == o.accepted
            && self.units == o.units
            && self.refused == o.refused
    }
}

impl<U: UnitValue> ClusterChain<U> {
    fn new(x0: &[U], n_c: u64) -> Self {
        let n = x0.len();
        ClusterChain {
            x: x0.to_vec(),
            marks: vec![0; n],
            stack: Vec::with_capacity(n),
            stamp: 0,
            energies: Vec::new(),
            stripes: stripes::Stripes::default(),
            sweeps: 0,
            n_c,
            adapt_units: 0,
            adapt_clusters: 0,
            proposed: 0,
            accepted: 0,
            units: 0,
            refused: 0,
        }
    }

    /// Wolff's clusters per sweep n_c (adapted so far, or fixed); 0 for
    /// Swendsen–Wang.
    pub fn clusters_per_sweep(&self) -> u64 {
        self.n_c
    }

    /// The mean size of the clusters counted since the last counter reset:
    /// Wolff's ⟨|C|⟩ (the size-biased mean, clusters grown from a uniform
    /// unit), or Swendsen–Wang's number-average N / (clusters per sweep).
    pub fn mean_cluster_size(&self) -> Option<f64> {
        (self.proposed > 0).then(|| self.units as f64 / self.proposed as f64)
    }

    /// Sweeps left unchanged because the model no longer had a usable pair
    /// form (see the module docs).
    pub fn refused_sweeps(&self) -> u64 {
        self.refused
    }
}

impl<U: UnitValue> Chain for ClusterChain<U> {
    type Unit = U;

    fn state(&self) -> &[U] {
        &self.x
    }

    /// Wolff: the fraction of cluster moves accepted (1 without fields).
    /// Swendsen–Wang: `None` (it has no rejections).
    fn acceptance_rate(&self) -> Option<f64> {
        (self.n_c > 0 && self.proposed > 0).then(|| self.accepted as f64 / self.proposed as f64)
    }

    fn reset_counters(&mut self) {
        self.proposed = 0;
        self.accepted = 0;
        self.units = 0;
    }

    /// `counts = [sweeps, n_c, adapt_units, adapt_clusters, proposed,
    /// accepted, units, refused]`.
    fn record(&self) -> ChainRecord<U> {
        ChainRecord {
            units: self.x.clone(),
            counts: vec![
                self.sweeps,
                self.n_c,
                self.adapt_units,
                self.adapt_clusters,
                self.proposed,
                self.accepted,
                self.units,
                self.refused,
            ],
            reals: Vec::new(),
        }
    }
}

fn start_chain<M>(
    model: &M,
    x0: &[UnitOf<M>],
    n_c: u64,
    clamp: &Option<Clamp>,
) -> Result<ClusterChain<UnitOf<M>>>
where
    M: EnergyModel + ?Sized,
    M::Space: ClusterMoves<M>,
{
    check_len("state", model.n_units(), x0.len())?;
    check_clamp(clamp, x0.len())?;
    model.space().validate(x0)?;
    M::Space::pair_form(model)?;
    if model.n_units() > u32::MAX as usize {
        return Err(Error::TooManyUnits { n_units: model.n_units(), max: u32::MAX as usize });
    }
    Ok(ClusterChain::new(x0, n_c))
}

fn restore_chain<M>(
    model: &M,
    record: &ChainRecord<UnitOf<M>>,
    wolff: bool,
    clamp: &Option<Clamp>,
) -> Result<ClusterChain<UnitOf<M>>>
where
    M: EnergyModel + ?Sized,
    M::Space: ClusterMoves<M>,
{
    let mut c = start_chain(model, &record.units, 0, clamp)?;
    match record.counts.as_slice() {
        &[sweeps, n_c, adapt_units, adapt_clusters, proposed, accepted, units, refused]
            if accepted <= proposed && (n_c > 0 || !wolff || sweeps == 0) =>
        {
            c.sweeps = sweeps;
            c.n_c = if wolff { n_c } else { 0 };
            c.adapt_units = adapt_units;
            c.adapt_clusters = adapt_clusters;
            c.proposed = proposed;
            c.accepted = accepted;
            c.units = units;
            c.refused = refused;
            Ok(c)
        }
        other => Err(Error::InvalidSequence {
            what: "cluster chain record",
            reason: format!("expected 8 consistent counters, got {other:?}"),
        }),
    }
}

impl<M: EnergyModel + ?Sized> Sampler<M> for Wolff
where
    M::Space: ClusterMoves<M>,
{
    type Chain = ClusterChain<UnitOf<M>>;

    fn start(&self, model: &M, x0: &[UnitOf<M>]) -> Result<Self::Chain> {
        start_chain(model, x0, self.fixed.unwrap_or(1), &self.clamp)
    }

    fn restore(&self, model: &M, record: &ChainRecord<UnitOf<M>>) -> Result<Self::Chain> {
        let c = restore_chain(model, record, true, &self.clamp)?;
        match self.fixed {
            Some(k) if c.n_c != k => Err(Error::InvalidSequence {
                what: "cluster chain record",
                reason: format!("recorded {} clusters per sweep, the sampler has {k}", c.n_c),
            }),
            _ => Ok(c),
        }
    }

    /// The adaptation sweeps: n_c is not fixed before them.
    fn min_warmup(&self) -> usize {
        usize::try_from(self.adapt_sweeps).unwrap_or(usize::MAX)
    }

    fn sweep<R: Rng + ?Sized>(&self, model: &M, c: &mut Self::Chain, beta: Beta, rng: &mut R) {
        let Some((g, q)) = sweep_form(model, c) else {
            return;
        };
        let n = c.x.len();
        let beta = beta.value();
        let fields = g.has_fields().then_some(g.fields);
        let mut bonds = BondTest::new(beta);
        let ferro = M::Space::aligned_clusters(&g);
        let mut fast =
            Fast { torus: g.torus.as_ref().and_then(|t| t.index()), words: Words::new() };
        let (mut units, mut clusters) = (0u64, 0u64);
        for _ in 0..c.n_c.max(1) {
            let clamp = &self.clamp;
            let args = (&mut bonds, &mut fast);
            units += grow_and_move::<M, R>(c, &g, q, fields, clamp, args, beta, rng, ferro) as u64;
            clusters += 1;
        }
        c.sweeps += 1;
        if self.fixed.is_none() && c.sweeps <= self.adapt_sweeps {
            if c.sweeps > self.adapt_sweeps / 2 {
                c.adapt_units += units;
                c.adapt_clusters += clusters;
            }
            let (u, k) = if c.adapt_clusters > 0 {
                (c.adapt_units, c.adapt_clusters)
            } else {
                (units, clusters)
            };
            // n_c = round(N / ⟨|C|⟩) = round(N k / u)
            c.n_c = ((n as f64 * k as f64 / u.max(1) as f64).round() as u64).max(1);
        }
    }
}

/// The pair form a sweep reads; `None`, counted as a refused sweep, when
/// the model no longer has a usable one of the chain's size.
fn sweep_form<'m, M>(
    model: &'m M,
    c: &mut ClusterChain<UnitOf<M>>,
) -> Option<(ebm_core::PairGraph<'m>, usize)>
where
    M: EnergyModel + ?Sized,
    M::Space: ClusterMoves<M>,
{
    let form = M::Space::usable_form(model)
        .filter(|(g, _)| !c.x.is_empty() && g.offsets.len() == c.x.len() + 1);
    if form.is_none() {
        c.refused += 1;
    }
    form
}

/// Whether a grown Wolff cluster (`members`, unit i of value `value(i)`)
/// takes option `k`: never if it holds a clamped unit; with fields, with
/// probability min(1, e^{−β ΔE_field}).
#[allow(clippy::too_many_arguments)]
fn accepts<M, R>(
    members: &[u32],
    value: impl Fn(usize) -> UnitOf<M>,
    k: usize,
    q: usize,
    fields: Option<&[f64]>,
    clamp: &Option<Clamp>,
    beta: f64,
    rng: &mut R,
) -> bool
where
    M: EnergyModel + ?Sized,
    M::Space: ClusterMoves<M>,
    R: Rng + ?Sized,
{
    if clamp.is_some() && !members.iter().all(|&i| is_free(clamp, i as usize)) {
        return false;
    }
    let Some(h) = fields else {
        return true;
    };
    let de: f64 = members
        .iter()
        .map(|&i| {
            let (i, x) = (i as usize, value(i as usize));
            M::Space::field_energy(h, q, i, x, k)
                - M::Space::field_energy(h, q, i, x, M::Space::current(x))
        })
        .sum();
    de <= 0.0 || uniform(rng) < (-beta * de).exp()
}

/// What a sweep on a uniform torus reuses across its clusters: the
/// strength-reduced neighbour arithmetic and the bulk random words.
struct Fast {
    torus: Option<ebm_core::TorusIndex>,
    words: Words,
}

/// One Wolff update; returns the cluster's size.
#[allow(clippy::too_many_arguments)]
fn grow_and_move<M, R>(
    c: &mut ClusterChain<UnitOf<M>>,
    g: &ebm_core::PairGraph<'_>,
    q: usize,
    fields: Option<&[f64]>,
    clamp: &Option<Clamp>,
    (bonds, fast): (&mut BondTest, &mut Fast),
    beta: f64,
    rng: &mut R,
    ferromagnetic: bool,
) -> usize
where
    M: EnergyModel + ?Sized,
    M::Space: ClusterMoves<M>,
    R: Rng + ?Sized,
{
    let n = c.x.len();
    if c.stamp == u32::MAX {
        c.marks.fill(0);
        c.stamp = 0;
    }
    c.stamp += 1;
    let stamp = c.stamp;
    let seed = index(rng, n);
    let now = M::Space::current(c.x[seed]);
    // the new option: spins flip (option 1); a colour moves to a uniform
    // other colour (for q = 2, the other one)
    let k = if q == 2 {
        1 - now
    } else {
        let k = index(rng, q - 1);
        if k >= now { k + 1 } else { k }
    };
    if ferromagnetic {
        return grow_aligned::<M, R>(c, g, q, fields, clamp, (bonds, fast), beta, rng, seed, k);
    }
    c.stack.clear();
    c.stack.push(seed as u32);
    c.marks[seed] = stamp;
    let mut top = 0;
    while top < c.stack.len() {
        let a = c.stack[top] as usize;
        top += 1;
        let xa = c.x[a];
        let (nbrs, js) = g.neighbours_of(a);
        for (&b, &j) in nbrs.iter().zip(js) {
            let b = b as usize;
            if c.marks[b] == stamp {
                continue;
            }
            let strength = M::Space::bond_strength(xa, c.x[b], j);
            if strength > 0.0 && bonds.open(strength, rng) {
                c.marks[b] = stamp;
                c.stack.push(b as u32);
            }
        }
    }
    let size = c.stack.len();
    let x = &c.x;
    let accept = accepts::<M, R>(&c.stack, |i| x[i], k, q, fields, clamp, beta, rng);
    c.proposed += 1;
    c.units += size as u64;
    if accept {
        c.accepted += 1;
        for &i in &c.stack {
            let x = &mut c.x[i as usize];
            *x = M::Space::apply(*x, k);
        }
    }
    size
}

/// Wolff growth when every coupling is ferromagnetic: every member has the
/// seed's value `old`, so members are moved as they join and "not yet a
/// member and eligible" is the one test `x_b == old` (no visit stamps; the
/// same random numbers as the general path, in the same order). A refused
/// move puts the members back.
#[allow(clippy::too_many_arguments)]
fn grow_aligned<M, R>(
    c: &mut ClusterChain<UnitOf<M>>,
    g: &ebm_core::PairGraph<'_>,
    q: usize,
    fields: Option<&[f64]>,
    clamp: &Option<Clamp>,
    (bonds, fast): (&mut BondTest, &mut Fast),
    beta: f64,
    rng: &mut R,
    seed: usize,
    k: usize,
) -> usize
where
    M: EnergyModel + ?Sized,
    M::Space: ClusterMoves<M>,
    R: Rng + ?Sized,
{
    let x = &mut c.x[..];
    let stack = &mut c.stack;
    let old = x[seed];
    let new = M::Space::apply(old, k);
    x[seed] = new;
    let mut top = 0;
    let size = if let (Some(t), Some(ft)) = (&g.torus, &fast.torus) {
        // neighbours by index arithmetic and one threshold for every bond;
        // branch-free: every neighbour draws its test (a byte on the square
        // lattice, `grow_square`; a 32-bit word otherwise), the site is
        // written to the stack top whether or not it joins (the stack has
        // room for n + 6), and the new value is a `select_unpredictable`
        // (the compiler had made it a branch, mispredicted half the time),
        // so the coin flips cannot mispredict
        let threshold = threshold32(beta, M::Space::bond_strength(old, old, t.coupling));
        let words = &mut fast.words;
        let n = x.len();
        if stack.len() != n + 6 {
            // sized once: the stack's length stays n + 6, `len` counts
            stack.clear();
            stack.resize(n + 6, 0);
        }
        stack[0] = seed as u32;
        let mut len = 1;
        let mut nb = [0usize; 6];
        if ft.is_square() {
            len = grow_square(x, stack, (top, len), ft, (old, new), threshold, words, rng);
            top = len;
        }
        while top < len {
            let a = stack[top] as usize;
            top += 1;
            let k = ft.neighbours(a, &mut nb);
            for &b in &nb[..k] {
                let xb = x[b];
                let joins = (xb == old) & (u64::from(words.next(rng)) < threshold);
                stack[len] = b as u32;
                len += usize::from(joins);
                x[b] = std::hint::select_unpredictable(joins, new, xb);
            }
        }
        len
    } else {
        stack.clear();
        stack.push(seed as u32);
        grow_graph::<M, R>(x, stack, g, bonds, (old, new), rng)
    };
    let members = &stack[..size];
    let accept = accepts::<M, R>(members, |_| old, k, q, fields, clamp, beta, rng);
    if !accept {
        for &i in members {
            x[i as usize] = old;
        }
    }
    c.proposed += 1;
    c.units += size as u64;
    c.accepted += u64::from(accept);
    size
}

/// Wolff's aligned growth on any graph (see [`grow_aligned`]); `stack`
/// holds the seed. Returns the cluster's size (`stack`'s length).
fn grow_graph<M, R>(
    x: &mut [UnitOf<M>],
    stack: &mut Vec<u32>,
    g: &ebm_core::PairGraph<'_>,
    bonds: &mut BondTest,
    (old, new): (UnitOf<M>, UnitOf<M>),
    rng: &mut R,
) -> usize
where
    M: EnergyModel + ?Sized,
    M::Space: ClusterMoves<M>,
    R: Rng + ?Sized,
{
    let mut top = 0;
    while top < stack.len() {
        let a = stack[top] as usize;
        top += 1;
        let r = g.offsets[a]..g.offsets[a + 1];
        for (&b, &j) in g.neighbours[r.clone()].iter().zip(&g.neighbour_couplings[r]) {
            let b = b as usize;
            if x[b] == old {
                let strength = M::Space::bond_strength(old, old, j);
                if strength > 0.0 && bonds.open(strength, rng) {
                    x[b] = new;
                    stack.push(b as u32);
                }
            }
        }
    }
    stack.len()
}

/// Wolff's growth on the square lattice (see [`grow_aligned`]), unrolled:
/// four neighbours per member, their bond tests one byte each of one
/// 32-bit word ([`ByteTest`]), every select branch-free.
/// `stack[top..len]` is the queue (with room for n + 6 entries); returns the
/// cluster's size.
#[allow(clippy::too_many_arguments)]
fn grow_square<U: UnitValue, R: Rng + ?Sized>(
    x: &mut [U],
    stack: &mut [u32],
    (mut top, mut len): (usize, usize),
    ft: &ebm_core::TorusIndex,
    (old, new): (U, U),
    threshold: u64,
    words: &mut Words,
    rng: &mut R,
) -> usize {
    let test = ByteTest::new(threshold);
    while top < len {
        let a = stack[top] as usize;
        top += 1;
        let [down, up, right, left] = ft.square_neighbours(a);
        let w = words.next(rng);
        for (b, byte) in
            [(down, w & 0xff), (up, w >> 8 & 0xff), (right, w >> 16 & 0xff), (left, w >> 24)]
        {
            let xb = x[b];
            let joins = test.open(xb == old, byte, rng);
            stack[len] = b as u32;
            len += usize::from(joins);
            x[b] = std::hint::select_unpredictable(joins, new, xb);
        }
    }
    len
}

impl<M: EnergyModel + ?Sized> Sampler<M> for SwendsenWang
where
    M::Space: ClusterMoves<M>,
{
    type Chain = ClusterChain<UnitOf<M>>;

    fn start(&self, model: &M, x0: &[UnitOf<M>]) -> Result<Self::Chain> {
        start_chain(model, x0, 0, &self.clamp)
    }

    fn restore(&self, model: &M, record: &ChainRecord<UnitOf<M>>) -> Result<Self::Chain> {
        restore_chain(model, record, false, &self.clamp)
    }

    fn sweep<R: Rng + ?Sized>(&self, model: &M, c: &mut Self::Chain, beta: Beta, rng: &mut R) {
        let Some((g, q)) = sweep_form(model, c) else {
            return;
        };
        let n = c.x.len();
        let beta = beta.value();
        if let Some(t) = g.torus.filter(|t| {
            self.clamp.is_none()
                && !g.has_fields()
                && t.index().is_some()
                && M::Space::aligned_clusters(&g)
        }) {
            // the uniform torus in stripes (stripes.rs), on every thread
            let strength = M::Space::bond_strength(c.x[0], c.x[0], t.coupling);
            let threshold = threshold32(beta, strength);
            let (x, parent, scratch) = (&mut c.x, &mut c.marks, &mut c.stripes);
            let layout = stripes::Layout::new(t.dims, self.stripe_sites);
            let clusters = stripes::sweep::<M, R>(x, parent, scratch, layout, q, threshold, rng);
            c.sweeps += 1;
            c.proposed += clusters;
            c.accepted += clusters;
            c.units += n as u64;
            return;
        }
        let mut bonds = BondTest::new(beta);
        // the forest of open bonds
        let parent = &mut c.marks;
        for (i, p) in parent.iter_mut().enumerate() {
            *p = i as u32;
        }
        match g.torus.filter(|_| M::Space::aligned_clusters(&g)) {
            Some(t) => {
                // one coupling, bonds join equal values: one threshold, and a
                // 32-bit word for every bond (eligible or not), in bulk
                let strength = M::Space::bond_strength(c.x[0], c.x[0], t.coupling);
                let threshold = threshold32(beta, strength);
                let mut words = Words::new();
                for &[a, b] in g.edges {
                    let (a, b) = (a as usize, b as usize);
                    let w = u64::from(words.next(rng));
                    if (c.x[a] == c.x[b]) & (w < threshold) {
                        union(parent, a as u32, b as u32);
                    }
                }
            }
            None => {
                for (&[a, b], &j) in g.edges.iter().zip(g.couplings) {
                    let strength = M::Space::bond_strength(c.x[a as usize], c.x[b as usize], j);
                    if strength > 0.0 && bonds.open(strength, rng) {
                        union(parent, a, b);
                    }
                }
            }
        }
        // label clusters in order of their first unit: `stack[i]` is unit
        // i's cluster; a root's parent entry is turned into its label
        const NONE: u32 = u32::MAX;
        c.stack.clear();
        c.stack.resize(n, NONE);
        let mut n_clusters = 0u32;
        for i in 0..n {
            let r = find(parent, i as u32) as usize;
            if c.stack[r] == NONE {
                c.stack[r] = n_clusters;
                n_clusters += 1;
            }
            c.stack[i] = c.stack[r];
        }
        let labels = &c.stack;
        let k_of = &mut c.marks; // reused: the option of each cluster
        let m = n_clusters as usize;
        if g.has_fields() {
            c.energies.clear();
            c.energies.resize(m * q, 0.0);
            for (i, (&l, &x)) in labels.iter().zip(&c.x).enumerate() {
                let e = &mut c.energies[l as usize * q..][..q];
                for (k, ek) in e.iter_mut().enumerate() {
                    *ek += M::Space::field_energy(g.fields, q, i, x, k);
                }
            }
            for (l, e) in c.energies.chunks_exact(q).enumerate() {
                k_of[l] = heat_bath(e, beta, rng) as u32;
            }
        } else {
            for k in &mut k_of[..m] {
                *k = index(rng, q) as u32;
            }
        }
        // clusters holding a fixed unit keep their values
        const KEEP: u32 = u32::MAX;
        if let Some(cl) = &self.clamp {
            for (i, &l) in labels.iter().enumerate() {
                if cl.is_fixed(i) {
                    k_of[l as usize] = KEEP;
                }
            }
        }
        for (x, &l) in c.x.iter_mut().zip(labels.iter()) {
            let k = k_of[l as usize];
            if k != KEEP {
                *x = M::Space::apply(*x, k as usize);
            }
        }
        c.sweeps += 1;
        c.proposed += u64::from(n_clusters);
        // (a clamped cluster counts as formed and left as it is)
        c.accepted += u64::from(n_clusters);
        c.units += n as u64;
    }
}
