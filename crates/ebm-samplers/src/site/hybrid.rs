//! Single-site moves of hybrid models (real and binary units): the exact
//! heat bath from each unit's closed-form conditional (a Gaussian draw for a
//! real unit, a Bernoulli draw for a bit).

use super::{Moves, Scan, SiteChain, SiteMoves};
use crate::clamp::is_free;
use ebm_core::{
    Beta, Error, Hybrid, HybridModel, LocalRule, Result, StateSpace, standard_normal, uniform,
};
use rand::RngExt;

/// The heat-bath draw of unit `i` from its conditional `(c0, c1)` (see
/// [`HybridModel::conditionals`]) at inverse temperature `beta`: a real unit
/// becomes `η/a + ξ/√(βa)` (one standard normal, two uniforms), a bit
/// becomes 1 with probability `σ(−βΔ)` (one uniform). A real unit whose
/// curvature is not finite and positive (a model breaking its contract) is
/// left as it is rather than set to NaN. Returns whether the unit changed.
#[inline]
pub(crate) fn draw_unit<R: rand::Rng + ?Sized>(
    space: &Hybrid,
    x: &mut [f64],
    i: usize,
    c: &[f64],
    beta: f64,
    rng: &mut R,
) -> bool {
    let old = x[i];
    if space.is_real(i) {
        let (a, eta) = (c[0], c[1]);
        let z = standard_normal(rng);
        if a > 0.0 && a.is_finite() && eta.is_finite() {
            x[i] = eta / a + z / (beta * a).sqrt();
        }
    } else {
        let p1 = 1.0 / (1.0 + (beta * c[0]).exp());
        x[i] = if uniform(rng) < p1 { 1.0 } else { 0.0 };
    }
    x[i] != old
}

impl<M: HybridModel + ?Sized> SiteMoves<M> for Hybrid {
    /// Heat bath only: a hybrid model's real units have no discrete moves
    /// to propose (use MALA or HMC on a real-valued model for Metropolis-
    /// type moves), so `Metropolis` is a typed error.
    fn start(model: &M, x0: &[f64], moves: Moves<'_>) -> Result<SiteChain<f64>> {
        ebm_core::check_len("state", model.n_units(), x0.len())?;
        model.space().validate(x0)?;
        if moves.rule != LocalRule::HeatBath {
            return Err(Error::InvalidParameter {
                name: "single-site rule on a hybrid (real and binary) model",
                value: 0.0,
                expected: "heat bath (Gibbs): the conditionals are Gaussian and Bernoulli",
            });
        }
        let blocks = (moves.scan == Scan::Block).then(|| model.blocks());
        let width = 2 * blocks.as_ref().map_or(1, |b| b.max_block_len());
        SiteChain::from_parts(x0, moves.clamp, blocks, None, width)
    }

    fn sweep<R: rand::Rng + ?Sized>(
        model: &M,
        c: &mut SiteChain<f64>,
        moves: Moves<'_>,
        beta: Beta,
        rng: &mut R,
    ) {
        let Moves { scan, clamp, .. } = moves;
        let (b, n, space) = (beta.value(), c.x.len(), *model.space());
        let (mut proposed, mut accepted) = (0u64, 0u64);
        match scan {
            Scan::Sequential | Scan::Random => {
                if c.scratch.len() < 2 {
                    c.scratch.resize(2, 0.0);
                }
                for k in 0..n {
                    let i = if scan == Scan::Random { rng.random_range(0..n) } else { k };
                    if is_free(clamp, i) {
                        model.conditionals(&c.x, &[i], &mut c.scratch[..2]);
                        proposed += 1;
                        accepted += u64::from(draw_unit(&space, &mut c.x, i, &c.scratch, b, rng));
                    }
                }
            }
            Scan::Block => {
                let blocks = c.take_blocks(|| model.blocks());
                let need = 2 * blocks.max_block_len();
                if c.scratch.len() < need {
                    c.scratch.resize(need, 0.0);
                }
                // a block is an independent set: all its conditionals come
                // from the same configuration, then its units are drawn in turn
                for block in blocks.iter() {
                    if clamp.is_some() && block.iter().all(|&i| !is_free(clamp, i)) {
                        continue;
                    }
                    model.conditionals(&c.x, block, &mut c.scratch[..2 * block.len()]);
                    for (k, &i) in block.iter().enumerate() {
                        if is_free(clamp, i) {
                            proposed += 1;
                            let cond = &c.scratch[2 * k..2 * k + 2];
                            accepted += u64::from(draw_unit(&space, &mut c.x, i, cond, b, rng));
                        }
                    }
                }
                c.blocks = Some(blocks);
            }
        }
        c.proposed += proposed;
        c.accepted += accepted;
    }

    /// Block scan batches the model's work: per block, one
    /// `conditionals_batch` call over all chains (a GEMM for the
    /// Gaussian–Bernoulli RBM); each chain draws the same numbers in the same
    /// order as in `sweep`, so the result equals sweeping the chains one by
    /// one whenever the batched conditionals equal the single-state ones.
    fn sweep_batch<R: rand::Rng>(
        model: &M,
        chains: &mut [SiteChain<f64>],
        moves: Moves<'_>,
        beta: Beta,
        rngs: &mut [R],
    ) {
        let Moves { scan, clamp, .. } = moves;
        if scan != Scan::Block || chains.is_empty() {
            for (c, r) in chains.iter_mut().zip(rngs.iter_mut()) {
                Self::sweep(model, c, moves, beta, r);
            }
            return;
        }
        let (b, n, space) = (beta.value(), model.n_units(), *model.space());
        super::batched_block_sweep(
            chains,
            rngs,
            || model.blocks(),
            n,
            2,
            clamp,
            |xs, block, out| model.conditionals_batch(xs, block, out),
            |x, i, cond, rng| draw_unit(&space, x, i, cond, b, rng),
        );
    }
}
