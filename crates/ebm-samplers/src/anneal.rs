//! Simulated annealing: a schedule of inverse temperatures driving any sampler.

use ebm_core::{Beta, Chain, EnergyModel, Error, Result, Sampler, UnitOf};

/// An increasing sequence of inverse temperatures.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    betas: Vec<Beta>,
}

impl Schedule {
    /// `n ≥ 2` values linearly spaced from `from` to `to` (`0 < from < to`).
    pub fn linear(from: f64, to: f64, n: usize) -> Result<Self> {
        Self::check_ends(from, to, n)?;
        Schedule::given((0..n).map(|k| from + (to - from) * k as f64 / (n - 1) as f64).collect())
    }

    /// `n ≥ 2` values geometrically spaced from `from` to `to` (`0 < from < to`).
    pub fn geometric(from: f64, to: f64, n: usize) -> Result<Self> {
        Self::check_ends(from, to, n)?;
        let r = (to / from).ln();
        Schedule::given((0..n).map(|k| from * (r * k as f64 / (n - 1) as f64).exp()).collect())
    }

    /// A schedule from explicit values: each a valid β, non-decreasing.
    pub fn given(betas: Vec<f64>) -> Result<Self> {
        if betas.is_empty() {
            return Err(Error::InvalidSequence {
                what: "annealing schedule",
                reason: "empty".into(),
            });
        }
        let betas = betas.into_iter().map(Beta::new).collect::<Result<Vec<_>>>()?;
        if let Some(k) = betas.windows(2).position(|w| w[1] < w[0]) {
            return Err(Error::InvalidSequence {
                what: "annealing schedule",
                reason: format!("decreases at position {}", k + 1),
            });
        }
        Ok(Schedule { betas })
    }

    fn check_ends(from: f64, to: f64, n: usize) -> Result<()> {
        Beta::new(from)?;
        Beta::new(to)?;
        if n < 2 || to <= from {
            return Err(Error::InvalidSequence {
                what: "annealing schedule",
                reason: format!("needs n ≥ 2 and from < to (got n = {n}, {from} → {to})"),
            });
        }
        Ok(())
    }

    /// The inverse temperatures.
    pub fn betas(&self) -> &[Beta] {
        &self.betas
    }
}

/// Simulated annealing: `sweeps_per_step` sweeps of the sampler at each β of
/// the schedule, remembering the lowest-energy configuration seen.
#[derive(Debug, Clone, PartialEq)]
pub struct Anneal<S> {
    /// The sampler moved at each step.
    pub sampler: S,
    /// The inverse temperatures, in order.
    pub schedule: Schedule,
    /// Sweeps at each β.
    pub sweeps_per_step: usize,
}

impl<S> Anneal<S> {
    /// Runs the schedule on `chain`; returns the lowest energy seen and its
    /// configuration (checked after every sweep).
    pub fn run<M, R>(&self, model: &M, chain: &mut S::Chain, rng: &mut R) -> (f64, Vec<UnitOf<M>>)
    where
        M: EnergyModel + ?Sized,
        S: Sampler<M>,
        R: rand::Rng + ?Sized,
    {
        let mut best = (model.energy(chain.state()), chain.state().to_vec());
        for &beta in &self.schedule.betas {
            for _ in 0..self.sweeps_per_step {
                self.sampler.sweep(model, chain, beta, rng);
                let e = model.energy(chain.state());
                if e < best.0 {
                    best.0 = e;
                    best.1.copy_from_slice(chain.state());
                }
            }
        }
        best
    }
}
