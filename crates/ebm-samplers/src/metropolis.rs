//! Single-flip Metropolis sampling.

use crate::clamp::Clamp;
use crate::site::{Moves, Scan, SiteMoves};
use ebm_core::LocalRule;

/// Metropolis: propose flipping unit i, accept with min(1, e^{−β Δ_i}); for a
/// categorical unit, propose one of its other values uniformly and accept
/// with min(1, e^{−β(E_new − E_old)}).
///
/// One type for every family of models ([`SiteMoves`]). One sweep proposes n
/// moves: in sequential or random order, or block by
/// block over the model's `blocks()` (all units of a block from the same
/// configuration, valid because blocks are independent sets). A block scan
/// runs the model's own sweep kernel when it has one
/// (`block_kernel`: the checkerboard kernel of a uniform
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
    fn moves(&self) -> Moves<'_> {
        Moves { rule: LocalRule::Metropolis, scan: self.scan, clamp: &self.clamp }
    }
}

crate::site::impl_site_sampler!(Metropolis);
