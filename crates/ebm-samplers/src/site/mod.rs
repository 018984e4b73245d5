//! Single-site dynamics for every family of models.
//!
//! [`Gibbs`](crate::Gibbs) and [`Metropolis`](crate::Metropolis) are one type
//! each for every family: they hold the scan order and clamp, and hand the
//! sweep to the model's state space through [`SiteMoves`], implemented by
//! [`Domain`](ebm_core::Domain) for binary models (`binary.rs`: flip deltas,
//! GEMM block deltas, model kernels) and by
//! [`Categories`](ebm_core::Categories) for categorical ones
//! (`categorical.rs`: local energies, softmax heat bath, uniform proposals),
//! and by [`Hybrid`](ebm_core::Hybrid) for real-and-binary models
//! (`hybrid.rs`: Gaussian and Bernoulli conditionals, heat bath only).
//! Dispatching on the space type, not on the model trait, is what lets one
//! `impl Sampler<M> for Gibbs` cover both families (Rust does not let two
//! blanket impls differ only in a bound).

mod binary;
mod categorical;
mod hybrid;

use crate::clamp::{Clamp, check_clamp};
use ebm_core::{
    Beta, Blocks, Chain, ChainRecord, EnergyModel, KernelState, LocalRule, Result, StateSpace,
};

/// The order in which units are visited in a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scan {
    /// Units 0, 1, …, n−1 in turn.
    Sequential,
    /// n units drawn uniformly with replacement.
    Random,
    /// The model's `blocks()` in turn, all units of a block from the same
    /// configuration (valid because blocks are independent sets).
    Block,
}

/// What one sweep of a single-site sampler does: the rule, the scan, the clamp.
#[derive(Debug, Clone, Copy)]
pub struct Moves<'a> {
    /// Heat bath or Metropolis.
    pub rule: LocalRule,
    /// The visiting order.
    pub scan: Scan,
    /// Units that never change, if any.
    pub clamp: &'a Option<Clamp>,
}

/// The single-site moves of one family of models, implemented by the
/// family's state space: how a chain starts and how a sweep updates units.
///
/// Contract (as [`ebm_core::Sampler`]): a sweep leaves `p_β` invariant; it
/// reads the model it is given; `sweep_batch` gives each chain the same
/// result as `sweep` with its own stream, up to what
/// [`ebm_core::Sampler::sweep_batch`] documents.
pub trait SiteMoves<M: EnergyModel<Space = Self> + ?Sized>: StateSpace + Sized {
    /// A validated chain at `x0` (length, values, clamp), asking the model
    /// for a sweep kernel when the scan is by blocks and nothing is clamped.
    fn start(model: &M, x0: &[Self::Unit], moves: Moves<'_>) -> Result<SiteChain<Self::Unit>>;

    /// One sweep of `chain` at `beta`.
    fn sweep<R: rand::Rng + ?Sized>(
        model: &M,
        chain: &mut SiteChain<Self::Unit>,
        moves: Moves<'_>,
        beta: Beta,
        rng: &mut R,
    );

    /// One sweep of each chain, chain r drawing from `rngs[r]`. The default
    /// sweeps them one by one.
    fn sweep_batch<R: rand::Rng>(
        model: &M,
        chains: &mut [SiteChain<Self::Unit>],
        moves: Moves<'_>,
        beta: Beta,
        rngs: &mut [R],
    ) {
        for (c, r) in chains.iter_mut().zip(rngs.iter_mut()) {
            Self::sweep(model, c, moves, beta, r);
        }
    }
}

/// The `Sampler` impl of a single-site sampler type (`Gibbs`, `Metropolis`):
/// everything comes from its `moves()` (rule, scan, clamp) and the model's
/// [`SiteMoves`]; a block sweep with nothing clamped is a plain block sweep
/// under the type's rule (`block_rule`).
macro_rules! impl_site_sampler {
    ($t:ty) => {
        impl<M: ebm_core::EnergyModel + ?Sized> ebm_core::Sampler<M> for $t
        where
            M::Space: $crate::site::SiteMoves<M>,
        {
            type Chain = $crate::site::SiteChain<ebm_core::UnitOf<M>>;

            fn block_rule(&self) -> Option<ebm_core::LocalRule> {
                let m = self.moves();
                (m.scan == $crate::site::Scan::Block && m.clamp.is_none()).then_some(m.rule)
            }

            fn start(
                &self,
                model: &M,
                x0: &[ebm_core::UnitOf<M>],
            ) -> ebm_core::Result<Self::Chain> {
                M::Space::start(model, x0, self.moves())
            }

            fn restore(
                &self,
                model: &M,
                record: &ebm_core::ChainRecord<ebm_core::UnitOf<M>>,
            ) -> ebm_core::Result<Self::Chain> {
                $crate::site::restore_site(model, self, record)
            }

            fn sweep<R: rand::Rng + ?Sized>(
                &self,
                model: &M,
                c: &mut Self::Chain,
                beta: ebm_core::Beta,
                rng: &mut R,
            ) {
                M::Space::sweep(model, c, self.moves(), beta, rng)
            }

            /// A block scan batches the model's work over the chains (one
            /// `block_deltas_batch` or `block_energies_batch` per block; see
            /// [`SiteMoves`]).
            fn sweep_batch<R: rand::Rng>(
                &self,
                model: &M,
                chains: &mut [Self::Chain],
                beta: ebm_core::Beta,
                rngs: &mut [R],
            ) {
                M::Space::sweep_batch(model, chains, self.moves(), beta, rngs)
            }
        }
    };
}
pub(crate) use impl_site_sampler;

/// The batched block sweep both families share: the chains' states as rows,
/// then per block one `batch(xs, block, out)` call for all rows (unit b of
/// row r gets `out[(r·len + b)·width..][..width]`), then each row's free units
/// updated in block order by `update(x, i, its out slice, rng)` (true if the
/// unit changed), drawing from the row's own stream as `sweep` does. Blocks
/// whose units are all clamped are skipped (they draw nothing in `sweep`
/// either). The blocks are borrowed from the first chain and put back.
#[allow(clippy::too_many_arguments)]
pub(crate) fn batched_block_sweep<U: ebm_core::UnitValue, R: rand::Rng>(
    chains: &mut [SiteChain<U>],
    rngs: &mut [R],
    blocks: impl FnOnce() -> Blocks,
    n: usize,
    width: usize,
    clamp: &Option<Clamp>,
    mut batch: impl FnMut(&[U], &[usize], &mut [f64]),
    mut update: impl FnMut(&mut [U], usize, &mut [f64], &mut R) -> bool,
) {
    use crate::clamp::is_free;
    let blocks = chains[0].blocks.take().unwrap_or_else(blocks);
    let rows = chains.len().min(rngs.len());
    let mut xs: Vec<U> = Vec::with_capacity(rows * n);
    chains[..rows].iter().for_each(|c| xs.extend_from_slice(&c.x));
    let mut out = vec![0.0; rows * blocks.max_block_len() * width];
    let mut counts = vec![(0u64, 0u64); rows];
    for block in blocks.iter() {
        if clamp.is_some() && block.iter().all(|&i| !is_free(clamp, i)) {
            continue;
        }
        let len = block.len();
        batch(&xs, block, &mut out[..rows * len * width]);
        for (r, ((x, rng), cnt)) in
            xs.chunks_exact_mut(n).zip(rngs.iter_mut()).zip(counts.iter_mut()).enumerate()
        {
            for (k, &i) in block.iter().enumerate() {
                if is_free(clamp, i) {
                    cnt.0 += 1;
                    let o = &mut out[(r * len + k) * width..][..width];
                    if update(x, i, o, rng) {
                        cnt.1 += 1;
                    }
                }
            }
        }
    }
    for ((c, x), (p, a)) in chains.iter_mut().zip(xs.chunks_exact(n)).zip(counts) {
        c.x.copy_from_slice(x);
        c.proposed += p;
        c.accepted += a;
    }
    chains[0].blocks = Some(blocks);
}

/// The chain of a single-site sampler: the configuration, a scratch buffer
/// (block deltas or local energies), move counters, and, when the model runs
/// block sweeps with a kernel of its own (`block_kernel`), that kernel's
/// state (which then holds the configuration). `U` is the unit type. Equality
/// compares configurations and counters.
#[derive(Debug, Clone)]
pub struct SiteChain<U: 'static = i8> {
    pub(crate) x: Vec<U>,
    pub(crate) scratch: Vec<f64>,
    pub(crate) blocks: Option<Blocks>,
    pub(crate) kernel: Option<Box<dyn KernelState<U>>>,
    pub(crate) proposed: u64,
    pub(crate) accepted: u64,
}

impl<U: Copy + 'static> SiteChain<U> {
    /// A chain at `x0` (validated by the caller), checking the clamp's
    /// length; `blocks` for a generic block sweep, `kernel` for a model's
    /// own; a scratch buffer of `width` values.
    pub(crate) fn from_parts(
        x0: &[U],
        clamp: &Option<Clamp>,
        blocks: Option<Blocks>,
        kernel: Option<Box<dyn KernelState<U>>>,
        width: usize,
    ) -> Result<Self> {
        check_clamp(clamp, x0.len())?;
        if let Some(b) = &blocks {
            ebm_core::check_len("blocks", x0.len(), b.n_units())?;
        }
        let width = width.max(blocks.as_ref().map_or(0, |b| b.max_block_len()));
        Ok(SiteChain {
            x: x0.to_vec(),
            scratch: vec![0.0; width],
            blocks,
            kernel,
            proposed: 0,
            accepted: 0,
        })
    }

    /// Mutable access to the configuration (for clamping new values in, e.g.
    /// the next data vector of a positive phase). Values must stay in the
    /// model's space. A model's sweep kernel, if the chain had one, is left
    /// for the generic block sweep.
    pub fn state_mut(&mut self) -> &mut [U] {
        self.leave_kernel();
        &mut self.x
    }

    /// Whether the chain runs a sweep kernel of the model's (`block_kernel`)
    /// rather than the generic sweep.
    pub fn runs_model_kernel(&self) -> bool {
        self.kernel.is_some()
    }

    /// Copies the kernel's configuration back and drops the kernel.
    pub(crate) fn leave_kernel(&mut self) {
        if let Some(k) = self.kernel.take() {
            self.x.copy_from_slice(k.state());
        }
    }

    /// One block sweep through the model's kernel (`run(state, key)`, the
    /// model's `block_kernel_sweep`), if the chain has one and the model
    /// accepts it; `false` (the chain then holds its configuration in `x`,
    /// kernel dropped) when the generic sweep must run.
    pub(crate) fn kernel_sweep<R: rand::Rng + ?Sized>(
        &mut self,
        rng: &mut R,
        run: impl FnOnce(&mut dyn KernelState<U>, [u32; 8]) -> Option<u64>,
    ) -> bool {
        let Some(k) = self.kernel.as_mut() else { return false };
        let mut key = [0u32; 8];
        key.iter_mut().for_each(|w| *w = rng.next_u32());
        match run(k.as_mut(), key) {
            Some(changed) => {
                self.proposed += self.x.len() as u64;
                self.accepted += changed;
                true
            }
            None => {
                // the model no longer fits the kernel: the generic sweep runs
                // from here on (the key drawn above is simply not used)
                self.leave_kernel();
                false
            }
        }
    }

    /// The blocks for a generic block sweep (taken out; put back after),
    /// from `blocks()` when the chain has none cached.
    pub(crate) fn take_blocks(&mut self, blocks: impl FnOnce() -> Blocks) -> Blocks {
        let blocks = self.blocks.take().unwrap_or_else(blocks);
        if self.scratch.len() < blocks.max_block_len() {
            self.scratch.resize(blocks.max_block_len(), 0.0);
        }
        blocks
    }
}

impl<U: ebm_core::UnitValue> PartialEq for SiteChain<U> {
    fn eq(&self, other: &Self) -> bool {
        self.state() == other.state()
            && self.proposed == other.proposed
            && self.accepted == other.accepted
    }
}

impl<U: ebm_core::UnitValue> Chain for SiteChain<U> {
    type Unit = U;

    fn state(&self) -> &[U] {
        match &self.kernel {
            Some(k) => k.state(),
            None => &self.x,
        }
    }

    fn acceptance_rate(&self) -> Option<f64> {
        (self.proposed > 0).then(|| self.accepted as f64 / self.proposed as f64)
    }

    fn reset_counters(&mut self) {
        self.proposed = 0;
        self.accepted = 0;
    }

    /// As [`SiteChain::state_mut`].
    fn units_mut(&mut self) -> Option<&mut [U]> {
        Some(self.state_mut())
    }

    /// The configuration and the two move counters.
    fn record(&self) -> ChainRecord<U> {
        ChainRecord {
            units: self.state().to_vec(),
            counts: vec![self.proposed, self.accepted],
            reals: Vec::new(),
        }
    }
}

/// A single-site chain from its record: started at the recorded
/// configuration, with the recorded counters (a record of states only, as
/// older checkpoints hold, restarts them at zero).
pub(crate) fn restore_site<M, S>(
    model: &M,
    sampler: &S,
    record: &ChainRecord<ebm_core::UnitOf<M>>,
) -> Result<SiteChain<ebm_core::UnitOf<M>>>
where
    M: EnergyModel + ?Sized,
    S: ebm_core::Sampler<M, Chain = SiteChain<ebm_core::UnitOf<M>>>,
{
    let mut c = sampler.start(model, &record.units)?;
    match record.counts.as_slice() {
        [] => {}
        &[proposed, accepted] if accepted <= proposed => {
            c.proposed = proposed;
            c.accepted = accepted;
        }
        other => {
            return Err(ebm_core::Error::InvalidSequence {
                what: "single-site chain record",
                reason: format!("expected [proposed, accepted] counters, got {other:?}"),
            });
        }
    }
    Ok(c)
}
