//! Single-flip Metropolis sampling.

use crate::clamp::{Clamp, is_free};
use crate::gibbs::{Scan, SiteChain};
use ebm_core::{Beta, BinaryModel, LocalRule, Result, Sampler, uniform};
use rand::RngExt;

/// Metropolis: propose flipping unit i, accept with min(1, e^{−β Δ_i}).
///
/// One sweep proposes n flips: in sequential or random order, or block by
/// block over the model's `blocks()` (all units of a block from the same
/// configuration, valid because blocks are independent sets). A block scan
/// runs the model's own sweep kernel when it has one
/// ([`BinaryModel::block_kernel`]: the checkerboard kernel of a uniform
/// periodic Ising lattice). In the generic sweeps a downhill or level move
/// (Δ ≤ 0) is accepted without drawing a random number; `exp` is only
/// evaluated for uphill moves.
///
/// Like a sequential sweep, a block sweep is nearly deterministic at tiny β
/// (every move is accepted) and, at h = 0, flips every unit whose
/// neighbourhood is balanced: it leaves `p_β` invariant, but mixes badly
/// there; prefer [`Metropolis::random_scan`] or heat-bath Gibbs at high
/// temperature.
#[derive(Debug, Clone, PartialEq)]
pub struct Metropolis {
    scan: Scan,
    clamp: Option<Clamp>,
}

impl Metropolis {
    /// Metropolis visiting units 0..n in turn. Beware: at tiny β nearly every
    /// move is accepted and a sequential sweep becomes almost deterministic;
    /// prefer [`Metropolis::random_scan`] there.
    pub fn sequential() -> Self {
        Metropolis { scan: Scan::Sequential, clamp: None }
    }
    /// Metropolis over the model's blocks (checkerboard colours of a lattice).
    pub fn block() -> Self {
        Metropolis { scan: Scan::Block, clamp: None }
    }
    /// Metropolis proposing uniformly chosen units.
    pub fn random_scan() -> Self {
        Metropolis { scan: Scan::Random, clamp: None }
    }
    /// The same sampler with units fixed by `clamp`.
    pub fn with_clamp(mut self, clamp: Clamp) -> Self {
        self.clamp = Some(clamp);
        self
    }
    /// The scan order.
    pub fn scan(&self) -> Scan {
        self.scan
    }
}

impl<M: BinaryModel + ?Sized> Sampler<M> for Metropolis {
    type Chain = SiteChain;

    fn block_rule(&self) -> Option<LocalRule> {
        (self.scan == Scan::Block && self.clamp.is_none()).then_some(LocalRule::Metropolis)
    }

    fn start(&self, model: &M, x0: &[i8]) -> Result<SiteChain> {
        let rule = (self.scan == Scan::Block).then_some(LocalRule::Metropolis);
        SiteChain::new(model, x0, &self.clamp, rule)
    }

    fn sweep<R: rand::Rng + ?Sized>(&self, model: &M, c: &mut SiteChain, beta: Beta, rng: &mut R) {
        let (b, d, n) = (beta.value(), model.domain(), c.x.len());
        let (mut proposed, mut accepted) = (0u64, 0u64);
        let mut update = |x: &mut [i8], i: usize, delta: f64, rng: &mut R| {
            proposed += 1;
            if delta <= 0.0 || uniform(rng) < (-b * delta).exp() {
                x[i] = d.flip(x[i]);
                accepted += 1;
            }
        };
        if self.scan == Scan::Block && c.kernel_sweep(model, LocalRule::Metropolis, beta, rng) {
            return;
        }
        if self.scan != Scan::Block {
            for k in 0..n {
                let i = if self.scan == Scan::Random { rng.random_range(0..n) } else { k };
                if is_free(&self.clamp, i) {
                    let delta = model.flip_delta(&c.x, i);
                    update(&mut c.x, i, delta, rng);
                }
            }
            c.proposed += proposed;
            c.accepted += accepted;
            return;
        }
        let blocks = c.take_blocks(model);
        let mut deltas = std::mem::take(&mut c.deltas);
        for block in blocks.iter() {
            let out = &mut deltas[..block.len()];
            model.block_deltas(&c.x, block, out);
            for (k, &i) in block.iter().enumerate() {
                if is_free(&self.clamp, i) {
                    update(&mut c.x, i, deltas[k], rng);
                }
            }
        }
        c.deltas = deltas;
        c.blocks = Some(blocks);
        c.proposed += proposed;
        c.accepted += accepted;
    }
}
