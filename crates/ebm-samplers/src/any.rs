//! Run-time choice of sampler.

use crate::cluster::{ClusterChain, ClusterMoves, SwendsenWang, Wolff};
use crate::gibbs::Gibbs;
use crate::metropolis::Metropolis;
use crate::site::{SiteChain, SiteMoves};
use crate::tempering::{ParallelTempering, TemperingChain};
use ebm_core::{Beta, Chain, ChainRecord, EnergyModel, Result, Sampler, UnitOf};

/// A sampler chosen at run time (from a command line or a config file).
///
/// Dispatch is a `match` once per sweep, not a virtual call per flip.
#[derive(Debug, Clone, PartialEq)]
pub enum AnySampler {
    /// Heat-bath Gibbs in any scan order.
    Gibbs(Gibbs),
    /// Single-flip Metropolis.
    Metropolis(Metropolis),
    /// Parallel tempering over Gibbs.
    TemperingGibbs(ParallelTempering<Gibbs>),
    /// Parallel tempering over Metropolis.
    TemperingMetropolis(ParallelTempering<Metropolis>),
    /// Wolff single-cluster moves (Ising and Potts models).
    Wolff(Wolff),
    /// Swendsen–Wang cluster moves (Ising and Potts models).
    SwendsenWang(SwendsenWang),
}

/// The chain of an [`AnySampler`].
#[derive(Debug, Clone, PartialEq)]
pub enum AnyChain<U: ebm_core::UnitValue = i8> {
    /// A single-site chain (Gibbs, Metropolis).
    Site(SiteChain<U>),
    /// A tempering chain.
    Tempering(TemperingChain<SiteChain<U>>),
    /// A cluster chain (Wolff, Swendsen–Wang).
    Cluster(ClusterChain<U>),
}

impl<U: ebm_core::UnitValue> AnyChain<U> {
    /// The tempering chain, if this is one (for swap rates and round trips).
    pub fn tempering(&self) -> Option<&TemperingChain<SiteChain<U>>> {
        match self {
            AnyChain::Tempering(t) => Some(t),
            _ => None,
        }
    }

    /// The cluster chain, if this is one (for cluster sizes).
    pub fn cluster(&self) -> Option<&ClusterChain<U>> {
        match self {
            AnyChain::Cluster(c) => Some(c),
            _ => None,
        }
    }
}

impl<U: ebm_core::UnitValue> Chain for AnyChain<U> {
    type Unit = U;

    fn state(&self) -> &[U] {
        match self {
            AnyChain::Site(c) => c.state(),
            AnyChain::Tempering(c) => c.state(),
            AnyChain::Cluster(c) => c.state(),
        }
    }

    fn acceptance_rate(&self) -> Option<f64> {
        match self {
            AnyChain::Site(c) => c.acceptance_rate(),
            AnyChain::Tempering(c) => c.acceptance_rate(),
            AnyChain::Cluster(c) => c.acceptance_rate(),
        }
    }

    fn reset_counters(&mut self) {
        match self {
            AnyChain::Site(c) => c.reset_counters(),
            AnyChain::Tempering(c) => c.reset_counters(),
            AnyChain::Cluster(c) => c.reset_counters(),
        }
    }

    fn record(&self) -> ChainRecord<U> {
        match self {
            AnyChain::Site(c) => c.record(),
            AnyChain::Tempering(c) => c.record(),
            AnyChain::Cluster(c) => c.record(),
        }
    }
}

impl<M: EnergyModel + ?Sized> Sampler<M> for AnySampler
where
    M::Space: SiteMoves<M> + ClusterMoves<M>,
{
    type Chain = AnyChain<UnitOf<M>>;

    fn min_warmup(&self) -> usize {
        match self {
            AnySampler::TemperingGibbs(s) => Sampler::<M>::min_warmup(s),
            AnySampler::TemperingMetropolis(s) => Sampler::<M>::min_warmup(s),
            AnySampler::Wolff(s) => Sampler::<M>::min_warmup(s),
            _ => 0,
        }
    }

    fn block_rule(&self) -> Option<ebm_core::LocalRule> {
        match self {
            AnySampler::Gibbs(s) => Sampler::<M>::block_rule(s),
            AnySampler::Metropolis(s) => Sampler::<M>::block_rule(s),
            _ => None,
        }
    }

    fn restore(&self, model: &M, record: &ChainRecord<UnitOf<M>>) -> Result<Self::Chain> {
        Ok(match self {
            AnySampler::Gibbs(s) => AnyChain::Site(s.restore(model, record)?),
            AnySampler::Metropolis(s) => AnyChain::Site(s.restore(model, record)?),
            AnySampler::TemperingGibbs(s) => AnyChain::Tempering(s.restore(model, record)?),
            AnySampler::TemperingMetropolis(s) => AnyChain::Tempering(s.restore(model, record)?),
            AnySampler::Wolff(s) => AnyChain::Cluster(s.restore(model, record)?),
            AnySampler::SwendsenWang(s) => AnyChain::Cluster(s.restore(model, record)?),
        })
    }

    fn start(&self, model: &M, x0: &[UnitOf<M>]) -> Result<Self::Chain> {
        Ok(match self {
            AnySampler::Gibbs(s) => AnyChain::Site(s.start(model, x0)?),
            AnySampler::Metropolis(s) => AnyChain::Site(s.start(model, x0)?),
            AnySampler::TemperingGibbs(s) => AnyChain::Tempering(s.start(model, x0)?),
            AnySampler::TemperingMetropolis(s) => AnyChain::Tempering(s.start(model, x0)?),
            AnySampler::Wolff(s) => AnyChain::Cluster(s.start(model, x0)?),
            AnySampler::SwendsenWang(s) => AnyChain::Cluster(s.start(model, x0)?),
        })
    }

    /// A chain started by a different variant is left unchanged.
    fn sweep<R: rand::Rng + ?Sized>(
        &self,
        model: &M,
        chain: &mut Self::Chain,
        beta: Beta,
        rng: &mut R,
    ) {
        match (self, chain) {
            (AnySampler::Gibbs(s), AnyChain::Site(c)) => s.sweep(model, c, beta, rng),
            (AnySampler::Metropolis(s), AnyChain::Site(c)) => s.sweep(model, c, beta, rng),
            (AnySampler::TemperingGibbs(s), AnyChain::Tempering(c)) => s.sweep(model, c, beta, rng),
            (AnySampler::TemperingMetropolis(s), AnyChain::Tempering(c)) => {
                s.sweep(model, c, beta, rng)
            }
            (AnySampler::Wolff(s), AnyChain::Cluster(c)) => s.sweep(model, c, beta, rng),
            (AnySampler::SwendsenWang(s), AnyChain::Cluster(c)) => s.sweep(model, c, beta, rng),
            _ => debug_assert!(false, "chain was started by another sampler"),
        }
    }
}
