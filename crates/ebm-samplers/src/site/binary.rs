//! Single-site moves of binary models: flip deltas, batched block deltas and
//! the model's own sweep kernels.

use super::{Moves, Scan, SiteChain, SiteMoves};
use crate::clamp::is_free;
use ebm_core::{Beta, BinaryModel, Domain, LocalRule, Result, uniform};
use rand::RngExt;

/// σ(−βΔ) = 1 / (1 + e^{βΔ}): the heat-bath probability of flipping a unit
/// whose flip changes the energy by Δ. Saturates cleanly at 0 and 1.
#[inline]
fn heat_bath(beta: f64, delta: f64) -> f64 {
    1.0 / (1.0 + (beta * delta).exp())
}

/// Whether a unit whose flip changes the energy by `delta` flips, drawing at
/// most one uniform: heat bath always draws; Metropolis draws only uphill.
#[inline]
fn flips<R: rand::Rng + ?Sized>(rule: LocalRule, beta: f64, delta: f64, rng: &mut R) -> bool {
    match rule {
        LocalRule::HeatBath => uniform(rng) < heat_bath(beta, delta),
        LocalRule::Metropolis => delta <= 0.0 || uniform(rng) < (-beta * delta).exp(),
    }
}

impl<M: BinaryModel + ?Sized> SiteMoves<M> for Domain {
    fn start(model: &M, x0: &[i8], moves: Moves<'_>) -> Result<SiteChain<i8>> {
        ebm_core::check_len("state", model.n_units(), x0.len())?;
        model.domain().validate(x0)?;
        let block = moves.scan == Scan::Block;
        let kernel = match (block, moves.clamp) {
            (true, None) => model.block_kernel(moves.rule, x0),
            _ => None,
        };
        let blocks = (block && kernel.is_none()).then(|| model.blocks());
        SiteChain::from_parts(x0, moves.clamp, blocks, kernel, 0)
    }

    fn sweep<R: rand::Rng + ?Sized>(
        model: &M,
        c: &mut SiteChain<i8>,
        moves: Moves<'_>,
        beta: Beta,
        rng: &mut R,
    ) {
        let Moves { rule, scan, clamp } = moves;
        let (b, d, n) = (beta.value(), model.domain(), c.x.len());
        let (mut proposed, mut accepted) = (0u64, 0u64);
        let mut update = |x: &mut [i8], i: usize, delta: f64, rng: &mut R| {
            proposed += 1;
            if flips(rule, b, delta, rng) {
                x[i] = d.flip(x[i]);
                accepted += 1;
            }
        };
        match scan {
            Scan::Sequential | Scan::Random => {
                for k in 0..n {
                    let i = if scan == Scan::Random { rng.random_range(0..n) } else { k };
                    if is_free(clamp, i) {
                        let delta = model.flip_delta(&c.x, i);
                        update(&mut c.x, i, delta, rng);
                    }
                }
            }
            Scan::Block => {
                if c.kernel_sweep(rng, |k, key| model.block_kernel_sweep(rule, k, beta, key)) {
                    return;
                }
                let blocks = c.take_blocks(|| model.blocks());
                for block in blocks.iter() {
                    let out = &mut c.scratch[..block.len()];
                    model.block_deltas(&c.x, block, out);
                    for (k, &i) in block.iter().enumerate() {
                        if is_free(clamp, i) {
                            let delta = c.scratch[k];
                            update(&mut c.x, i, delta, rng);
                        }
                    }
                }
                c.blocks = Some(blocks);
            }
        }
        c.proposed += proposed;
        c.accepted += accepted;
    }

    /// Block scan batches the model's work: for each block, one
    /// `block_deltas_batch` call over all chains (a sparse product for an
    /// RBM). Each chain draws the same numbers in the same order as in
    /// `sweep`, so the result is bit-identical to sweeping the chains one by
    /// one whenever the model's batched deltas equal its single-state ones
    /// (see [`ebm_core::Sampler::sweep_batch`] for what holds otherwise).
    /// Blocks whose units are all clamped are skipped (they draw no numbers
    /// in `sweep`). Chains on a model's own sweep kernel, and other scans,
    /// are swept one by one.
    fn sweep_batch<R: rand::Rng>(
        model: &M,
        chains: &mut [SiteChain<i8>],
        moves: Moves<'_>,
        beta: Beta,
        rngs: &mut [R],
    ) {
        let Moves { rule, scan, clamp } = moves;
        if scan != Scan::Block || chains.is_empty() || chains.iter().any(|c| c.kernel.is_some()) {
            for (c, r) in chains.iter_mut().zip(rngs.iter_mut()) {
                Self::sweep(model, c, moves, beta, r);
            }
            return;
        }
        let (b, d, n) = (beta.value(), model.domain(), model.n_units());
        super::batched_block_sweep(
            chains,
            rngs,
            || model.blocks(),
            n,
            1,
            clamp,
            |xs, block, out| model.block_deltas_batch(xs, block, out),
            |x, i, delta, rng| {
                let f = flips(rule, b, delta[0], rng);
                if f {
                    x[i] = d.flip(x[i]);
                }
                f
            },
        );
    }
}
