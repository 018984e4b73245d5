//! Single-flip Metropolis sampling.

use crate::clamp::{Clamp, is_free};
use crate::gibbs::{Scan, SiteChain};
use ebm_core::{Beta, BinaryModel, Result, Sampler, uniform};
use rand::RngExt;

/// Metropolis: propose flipping unit i, accept with min(1, e^{−β Δ_i}).
///
/// One sweep proposes n flips, in sequential or random order. A downhill or
/// level move (Δ ≤ 0) is accepted without drawing a random number; `exp` is
/// only evaluated for uphill moves.
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
    /// Metropolis proposing uniformly chosen units.
    pub fn random_scan() -> Self {
        Metropolis { scan: Scan::Random, clamp: None }
    }
    /// The same sampler with units fixed by `clamp`.
    pub fn with_clamp(mut self, clamp: Clamp) -> Self {
        self.clamp = Some(clamp);
        self
    }
    /// The scan order (`Sequential` or `Random`).
    pub fn scan(&self) -> Scan {
        self.scan
    }
}

impl<M: BinaryModel + ?Sized> Sampler<M> for Metropolis {
    type Chain = SiteChain;

    fn start(&self, model: &M, x0: &[i8]) -> Result<SiteChain> {
        SiteChain::new(model, x0, &self.clamp, false)
    }

    fn sweep<R: rand::Rng + ?Sized>(&self, model: &M, c: &mut SiteChain, beta: Beta, rng: &mut R) {
        let (b, d, n) = (beta.value(), model.domain(), c.x.len());
        for k in 0..n {
            let i = if self.scan == Scan::Random { rng.random_range(0..n) } else { k };
            if !is_free(&self.clamp, i) {
                continue;
            }
            c.proposed += 1;
            let delta = model.flip_delta(&c.x, i);
            if delta <= 0.0 || uniform(rng) < (-b * delta).exp() {
                c.x[i] = d.flip(c.x[i]);
                c.accepted += 1;
            }
        }
    }
}
