//! Single-site moves of categorical models: local energies, a softmax heat
//! bath and uniform Metropolis proposals.

use super::{Moves, Scan, SiteChain, SiteMoves};
use crate::clamp::is_free;
use ebm_core::{Beta, CategoricalModel, Categories, FiniteSpace, LocalRule, Result, uniform};
use rand::RngExt;

/// The new value of a unit with local energies `e` (its `q` values) and
/// current value `old`, under `rule` at inverse temperature `beta`.
///
/// Heat bath draws one uniform and returns k with probability
/// `e^{−β(e_k − e_min)} / Σ_l e^{−β(e_l − e_min)}` (shifted by the minimum:
/// no overflow at any β); Metropolis draws one of the q − 1 other values
/// uniformly, then (uphill only) one uniform for the acceptance
/// `min(1, e^{−βΔ})`.
#[inline]
/// The heat bath overwrites `e` with the unnormalised weights (one `exp`
/// per value).
pub(crate) fn next_value<R: rand::Rng + ?Sized>(
    rule: LocalRule,
    beta: f64,
    e: &mut [f64],
    old: u8,
    rng: &mut R,
) -> u8 {
    let q = e.len();
    match rule {
        LocalRule::HeatBath => {
            let min = e.iter().copied().fold(f64::INFINITY, f64::min);
            e.iter_mut().for_each(|ek| *ek = (-beta * (*ek - min)).exp());
            let total: f64 = e.iter().sum();
            let mut u = uniform(rng) * total;
            for (k, &wk) in e.iter().enumerate().take(q - 1) {
                u -= wk;
                if u < 0.0 {
                    return k as u8;
                }
            }
            (q - 1) as u8
        }
        LocalRule::Metropolis => {
            let r = rng.random_range(0..q - 1);
            let new = r + usize::from(r >= usize::from(old));
            let delta = e[new] - e[usize::from(old)];
            if delta <= 0.0 || uniform(rng) < (-beta * delta).exp() { new as u8 } else { old }
        }
    }
}

impl<M: CategoricalModel + ?Sized> SiteMoves<M> for Categories {
    fn start(model: &M, x0: &[u8], moves: Moves<'_>) -> Result<SiteChain<u8>> {
        ebm_core::check_len("state", model.n_units(), x0.len())?;
        ebm_core::StateSpace::validate(model.space(), x0)?;
        let block = moves.scan == Scan::Block;
        let kernel = match (block, moves.clamp) {
            (true, None) => model.block_kernel(moves.rule, x0),
            _ => None,
        };
        let blocks = (block && kernel.is_none()).then(|| model.blocks());
        SiteChain::from_parts(x0, moves.clamp, blocks, kernel, model.space().max_values())
    }

    fn sweep<R: rand::Rng + ?Sized>(
        model: &M,
        c: &mut SiteChain<u8>,
        moves: Moves<'_>,
        beta: Beta,
        rng: &mut R,
    ) {
        let Moves { rule, scan, clamp } = moves;
        let (b, n, space) = (beta.value(), c.x.len(), model.space());
        let (mut proposed, mut accepted) = (0u64, 0u64);
        let mut update = |x: &mut [u8], e: &mut [f64], i: usize, rng: &mut R| {
            let q = space.n_values(i);
            model.local_energies(x, i, &mut e[..q]);
            let new = next_value(rule, b, &mut e[..q], x[i], rng);
            proposed += 1;
            if new != x[i] {
                x[i] = new;
                accepted += 1;
            }
        };
        match scan {
            Scan::Sequential | Scan::Random => {
                for k in 0..n {
                    let i = if scan == Scan::Random { rng.random_range(0..n) } else { k };
                    if is_free(clamp, i) {
                        update(&mut c.x, &mut c.scratch, i, rng);
                    }
                }
            }
            Scan::Block => {
                if c.kernel_sweep(rng, |k, key| model.block_kernel_sweep(rule, k, beta, key)) {
                    return;
                }
                let blocks = c.take_blocks(|| model.blocks());
                // the units of a block are independent: updating them in turn
                // is updating them all from the same configuration
                for block in blocks.iter() {
                    for &i in block {
                        if is_free(clamp, i) {
                            update(&mut c.x, &mut c.scratch, i, rng);
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
    /// `block_energies_batch` call over all chains (a GEMM for a categorical
    /// RBM). Each chain draws the same numbers in the same order as in
    /// `sweep`, so the result is bit-identical to sweeping the chains one by
    /// one whenever the batched energies equal the single-state ones (the
    /// default). Chains on a model's own kernel, and other scans, sweep one
    /// by one.
    fn sweep_batch<R: rand::Rng>(
        model: &M,
        chains: &mut [SiteChain<u8>],
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
        let (b, n, space) = (beta.value(), model.n_units(), model.space());
        super::batched_block_sweep(
            chains,
            rngs,
            || model.blocks(),
            n,
            space.max_values(),
            clamp,
            |xs, block, out| model.block_energies_batch(xs, block, out),
            |x, i, e, rng| {
                let new = next_value(rule, b, &mut e[..space.n_values(i)], x[i], rng);
                let changed = new != x[i];
                x[i] = new;
                changed
            },
        );
    }
}
