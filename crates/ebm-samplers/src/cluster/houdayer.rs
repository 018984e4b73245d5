//! Houdayer's two-replica cluster move for spin glasses: [`Replicas`] and
//! [`Houdayer`] (whose docs say why the move is exact).

use super::ClusterMoves;
use crate::site::SiteChain;
use ebm_core::{
    Beta, BinaryModel, Blocks, Chain, ChainRecord, Domain, EnergyModel, Error, PairGraph, Result,
    Sampler, check_len,
};
use rand::{Rng, RngExt};

/// Two independent copies of a binary model, as one model of 2N units
/// (copy 1 in units 0..N, copy 2 in N..2N):
///
/// ```text
/// E(σ¹, σ²) = E(σ¹) + E(σ²),   p_β(σ¹, σ²) = p_β(σ¹) p_β(σ²)
/// ```
///
/// Every sampler, estimator and observable of binary models works on it;
/// [`Houdayer`] exchanges the copies on clusters. The copies' overlap
/// ([`Replicas::overlap`]) is the order parameter of a spin glass.
#[derive(Debug, Clone, PartialEq)]
pub struct Replicas<M> {
    model: M,
}

impl<M: BinaryModel> Replicas<M> {
    /// Two copies of `model`.
    pub fn new(model: M) -> Self {
        Replicas { model }
    }

    /// The model each copy follows.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The model, for changing its parameters between sweeps.
    pub fn model_mut(&mut self) -> &mut M {
        &mut self.model
    }

    /// The two copies of a configuration of 2N units.
    pub fn copies<'x>(&self, x: &'x [i8]) -> (&'x [i8], &'x [i8]) {
        x.split_at(x.len() / 2)
    }

    /// The spin overlap q = (1/N) Σ_i σ¹_i σ²_i (units read as ±1 spins:
    /// a 0/1 unit b is 2b − 1).
    pub fn overlap(&self, x: &[i8]) -> f64 {
        let (a, b) = self.copies(x);
        let s: i64 = a.iter().zip(b).map(|(&u, &v)| i64::from(self.spin(u) * self.spin(v))).sum();
        s as f64 / a.len().max(1) as f64
    }

    /// The link overlap q_l = (1/N_b) Σ_(ij) σ¹_i σ¹_j σ²_i σ²_j over the
    /// model's interaction edges (units read as ±1 spins), if it exposes its
    /// pair form (NaN for a model without edges).
    pub fn link_overlap(&self, x: &[i8]) -> Option<f64> {
        let g = self.model.pair_graph()?;
        let (a, b) = self.copies(x);
        let s: i64 = g
            .edges
            .iter()
            .map(|&[i, j]| {
                let (i, j) = (i as usize, j as usize);
                i64::from(self.spin(a[i]) * self.spin(a[j]) * self.spin(b[i]) * self.spin(b[j]))
            })
            .sum();
        Some(s as f64 / g.edges.len() as f64)
    }

    /// A unit as a ±1 spin (a 0/1 unit b is 2b − 1).
    fn spin(&self, v: i8) -> i8 {
        if self.model.domain() == Domain::Spin { v } else { 2 * v - 1 }
    }
}

impl<M: BinaryModel> EnergyModel for Replicas<M> {
    type Space = Domain;

    fn n_units(&self) -> usize {
        2 * self.model.n_units()
    }

    fn space(&self) -> &Domain {
        self.model.space()
    }

    fn energy(&self, x: &[i8]) -> f64 {
        let (a, b) = self.copies(x);
        self.model.energy(a) + self.model.energy(b)
    }

    /// The two copies: tempering exchanges each on its own.
    fn n_factors(&self) -> usize {
        2
    }

    fn factor_energy(&self, _: usize, xf: &[i8]) -> f64 {
        self.model.energy(xf)
    }
}

impl<M: BinaryModel> BinaryModel for Replicas<M> {
    fn flip_delta(&self, x: &[i8], i: usize) -> f64 {
        let n = self.model.n_units();
        let (a, b) = self.copies(x);
        if i < n { self.model.flip_delta(a, i) } else { self.model.flip_delta(b, i - n) }
    }

    /// The model's blocks, each holding its units in both copies (the copies
    /// do not interact, so the union is still an independent set).
    fn blocks(&self) -> Blocks {
        let n = self.model.n_units();
        let inner = self.model.blocks();
        let groups = inner.iter().map(|b| b.iter().flat_map(|&i| [i, i + n]).collect()).collect();
        Blocks::new(2 * n, groups).unwrap_or_else(|_| Blocks::singletons(2 * n))
    }
}

/// Houdayer's cluster move after each sweep of a single-site sampler on
/// [`Replicas`].
///
/// Houdayer's two-replica cluster move (Houdayer 2001) for spin glasses:
/// two independent copies σ¹, σ² of one model at the same β, and a move that
/// exchanges them on a cluster of the sites where they disagree.
///
/// The overlap q_i = σ¹_i σ²_i splits the lattice into sites where the copies
/// agree and sites where they differ. Pick a differing site uniformly, grow
/// its connected cluster C of differing sites (through the model's
/// interaction graph, every edge with J ≠ 0), and swap σ¹ and σ² on C. The
/// total energy E(σ¹) + E(σ²) does not change: bonds inside C or outside it
/// are exchanged whole between the copies, and a bond (i ∈ C, j ∉ C) has
/// σ¹_j = σ²_j = s (j would be in C otherwise), so its two terms
/// −J_ij s (σ¹_i + σ²_i) are the same after the swap; fields likewise. The
/// swap leaves the set of differing sites unchanged, so the reverse move
/// picks C with the same probability |C|/N_d: the move is accepted always
/// and leaves the product p_β(σ¹) p_β(σ²) invariant exactly, with any
/// couplings and fields. It is not ergodic alone (it never changes the
/// multiset {σ¹_i, σ²_i} at a site), so [`Houdayer`] follows each local
/// sweep of both copies with one move.
///
/// In 2-D the disagreeing sites (at most about half of them, below the
/// square lattice's site-percolation threshold 0.593) form finite clusters,
/// so the move carries large rearrangements across energy barriers. On
/// lattices with a lower threshold (3-D: 0.31) they percolate at high
/// temperature and the move only exchanges the copies (harmless, but
/// useless: [`Houdayer::min_beta`] switches it off there).
/// Inside [`crate::ParallelTempering`] each copy has its own ladder:
/// [`Replicas`] declares two independent factors
/// (`EnergyModel::n_factors`), so an exchange between rungs moves one copy,
/// accepted on that copy's energies. That is where the move pays: it
/// redistributes E(σ¹) + E(σ²) between the copies, and tempering then moves
/// the colder copy down the ladder and the warmer one up.
///
/// **Unit of work.** One sweep is one sweep of the local sampler over all
/// 2N units (N updates per copy) followed by one cluster move (if β ≥
/// [`Houdayer::min_beta`] and the copies differ somewhere): its τ_int is in
/// the same sweeps as the local sampler's, at 1.1–1.2 times its cost
/// (measured inside tempering on 16×16 and 32×32 glasses).
///
/// The model must expose its pair form (`BinaryModel::pair_graph`) with ±1
/// spins: a typed error at `start` otherwise. If a model changed between
/// sweeps no longer has one, the move is skipped and counted
/// ([`HoudayerChain::refused_moves`]); the local sweep still runs.
///
/// ```
/// use ebm_core::{Beta, Chain, Purpose, Sampler, Seed};
/// use ebm_models::ising::{Boundary, Ising};
/// use ebm_samplers::cluster::{Houdayer, Replicas};
/// use ebm_samplers::{Ladder, Metropolis, ParallelTempering};
///
/// // a 6×6 ±J glass, two copies, tempering with the move at every rung
/// let glass = Ising::spin_glass_pm(&[6, 6], Boundary::Periodic, 1.0, Seed(3))?;
/// let pair = Replicas::new(glass);
/// let pt = ParallelTempering::new(Houdayer::new(Metropolis::sequential()), Ladder::geometric(6, 0.2)?);
/// let mut rng = Seed(1).stream(Purpose::SAMPLING, 0);
/// let mut chain = pt.start(&pair, &vec![1; 72])?;
/// for _ in 0..200 {
///     pt.sweep(&pair, &mut chain, Beta::new(2.0)?, &mut rng);
/// }
/// let q = pair.overlap(chain.state());
/// assert!((-1.0..=1.0).contains(&q));
/// # Ok::<(), ebm_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Houdayer<S> {
    local: S,
    min_beta: f64,
}

impl<S> Houdayer<S> {
    /// The move after every sweep of `local` (a [`crate::Metropolis`] or
    /// [`crate::Gibbs`] on the replicas), at every β.
    pub fn new(local: S) -> Self {
        Houdayer { local, min_beta: 0.0 }
    }

    /// Only moves clusters at β ≥ `beta` (each rung of a tempering ladder is
    /// then still a fixed kernel); above that temperature the disagreement
    /// clusters percolate and the move does little.
    pub fn min_beta(mut self, beta: f64) -> Result<Self> {
        if !(beta.is_finite() && beta >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "Houdayer min_beta",
                value: beta,
                expected: "finite and ≥ 0",
            });
        }
        self.min_beta = beta;
        Ok(self)
    }

    /// The local sampler.
    pub fn local(&self) -> &S {
        &self.local
    }
}

/// The chain of [`Houdayer`]: the local sampler's chain (which holds the
/// configuration) and the scratch of cluster growth (visit stamps, stack,
/// the list of differing sites), with counters.
#[derive(Debug, Clone)]
pub struct HoudayerChain<C> {
    local: C,
    scratch: Scratch,
    /// Sweeps, cluster moves made, sites swapped, moves refused.
    sweeps: u64,
    moves: u64,
    swapped: u64,
    refused: u64,
}

impl<C: PartialEq> PartialEq for HoudayerChain<C> {
    fn eq(&self, o: &Self) -> bool {
        self.local == o.local
            && (self.sweeps, self.moves, self.swapped, self.refused)
                == (o.sweeps, o.moves, o.swapped, o.refused)
    }
}

impl<C> HoudayerChain<C> {
    /// The local sampler's chain.
    pub fn local(&self) -> &C {
        &self.local
    }

    /// Sweeps done.
    pub fn n_sweeps(&self) -> u64 {
        self.sweeps
    }

    /// Cluster moves made (sweeps where the copies differed and β ≥
    /// min_beta).
    pub fn n_moves(&self) -> u64 {
        self.moves
    }

    /// Mean number of sites exchanged per move (NaN before the first).
    pub fn mean_cluster_size(&self) -> f64 {
        self.swapped as f64 / self.moves as f64
    }

    /// Moves skipped because the model had no usable pair form.
    pub fn refused_moves(&self) -> u64 {
        self.refused
    }
}

impl<C: Chain<Unit = i8>> Chain for HoudayerChain<C> {
    type Unit = i8;

    fn state(&self) -> &[i8] {
        self.local.state()
    }

    fn acceptance_rate(&self) -> Option<f64> {
        self.local.acceptance_rate()
    }

    fn reset_counters(&mut self) {
        self.local.reset_counters();
        (self.moves, self.swapped, self.refused) = (0, 0, 0);
    }

    fn units_mut(&mut self) -> Option<&mut [i8]> {
        self.local.units_mut()
    }

    /// `counts = [sweeps, moves, swapped, refused, then the local chain's
    /// counts]`, units and reals the local chain's.
    fn record(&self) -> ChainRecord<i8> {
        let mut r = self.local.record();
        let mut counts = vec![self.sweeps, self.moves, self.swapped, self.refused];
        counts.append(&mut r.counts);
        r.counts = counts;
        r
    }
}

/// Cluster growth without allocation: visit stamps, the stack, the list of
/// differing sites.
#[derive(Debug, Clone)]
struct Scratch {
    stamps: Vec<u32>,
    stamp: u32,
    stack: Vec<u32>,
    differ: Vec<u32>,
}

impl Scratch {
    fn new(n: usize) -> Self {
        Scratch {
            stamps: vec![0; n],
            stamp: 0,
            stack: Vec::with_capacity(n),
            differ: Vec::with_capacity(n),
        }
    }

    /// One cluster move on the 2N units `x` over `graph`: the number of
    /// sites swapped, or `None` if the copies agree everywhere.
    fn cluster_move<R: Rng + ?Sized>(
        &mut self,
        graph: &PairGraph<'_>,
        x: &mut [i8],
        rng: &mut R,
    ) -> Option<u64> {
        let n = x.len() / 2;
        let (a, b) = x.split_at_mut(n);
        self.differ.clear();
        self.differ.extend((0..n as u32).filter(|&i| a[i as usize] != b[i as usize]));
        if self.differ.is_empty() {
            return None;
        }
        if self.stamp == u32::MAX {
            self.stamps.iter_mut().for_each(|s| *s = 0);
            self.stamp = 0;
        }
        self.stamp += 1;
        let stamp = self.stamp;
        let seed = self.differ[rng.random_range(0..self.differ.len())];
        self.stamps[seed as usize] = stamp;
        self.stack.clear();
        self.stack.push(seed);
        let mut size = 0u64;
        while let Some(i) = self.stack.pop() {
            let i = i as usize;
            std::mem::swap(&mut a[i], &mut b[i]);
            size += 1;
            let (nbrs, js) = graph.neighbours_of(i);
            for (&j, &jc) in nbrs.iter().zip(js) {
                let ju = j as usize;
                if jc != 0.0 && a[ju] != b[ju] && self.stamps[ju] != stamp {
                    self.stamps[ju] = stamp;
                    self.stack.push(j);
                }
            }
        }
        Some(size)
    }
}

impl<M, S> Sampler<Replicas<M>> for Houdayer<S>
where
    M: BinaryModel,
    S: Sampler<Replicas<M>, Chain = SiteChain<i8>>,
{
    type Chain = HoudayerChain<SiteChain<i8>>;

    fn min_warmup(&self) -> usize {
        self.local.min_warmup()
    }

    fn start(&self, model: &Replicas<M>, x0: &[i8]) -> Result<Self::Chain> {
        check_len("state (two copies)", model.n_units(), x0.len())?;
        let n = model.model.n_units();
        // the spin models' pair form, checked as the cluster moves check it
        <Domain as ClusterMoves<M>>::pair_form(&model.model)?;
        Ok(HoudayerChain {
            local: self.local.start(model, x0)?,
            scratch: Scratch::new(n),
            sweeps: 0,
            moves: 0,
            swapped: 0,
            refused: 0,
        })
    }

    /// Rebuilds a chain from its record (layout in [`HoudayerChain`]'s
    /// `record`); a record of states only starts a fresh chain there.
    fn restore(&self, model: &Replicas<M>, record: &ChainRecord<i8>) -> Result<Self::Chain> {
        let bad = |reason: String| Error::InvalidSequence { what: "Houdayer chain record", reason };
        if record.counts.is_empty() {
            return self.start(model, &record.units);
        }
        let [sweeps, moves, swapped, refused] = match record.counts.get(..4) {
            Some(&[s, m, w, r]) => [s, m, w, r],
            _ => return Err(bad(format!("{} counts, expected at least 4", record.counts.len()))),
        };
        let n = model.model.n_units() as u64;
        if moves + refused > sweeps || swapped > moves.saturating_mul(n) {
            return Err(bad(format!(
                "{moves} moves and {refused} refusals in {sweeps} sweeps, {swapped} sites swapped"
            )));
        }
        let inner = ChainRecord {
            units: record.units.clone(),
            counts: record.counts[4..].to_vec(),
            reals: record.reals.clone(),
        };
        let mut c = self.start(model, &record.units)?;
        c.local = self.local.restore(model, &inner)?;
        (c.sweeps, c.moves, c.swapped, c.refused) = (sweeps, moves, swapped, refused);
        Ok(c)
    }

    fn sweep<R: Rng + ?Sized>(
        &self,
        model: &Replicas<M>,
        c: &mut Self::Chain,
        beta: Beta,
        rng: &mut R,
    ) {
        self.local.sweep(model, &mut c.local, beta, rng);
        c.sweeps += 1;
        if beta.value() < self.min_beta {
            return;
        }
        let inner = &model.model;
        let usable = <Domain as ClusterMoves<M>>::usable_form(inner)
            .filter(|(g, _)| g.offsets.len() == inner.n_units() + 1);
        match usable {
            Some((g, _)) => {
                if let Some(size) = c.scratch.cluster_move(&g, c.local.state_mut(), rng) {
                    c.moves += 1;
                    c.swapped += size;
                }
            }
            None => c.refused += 1,
        }
    }
}
