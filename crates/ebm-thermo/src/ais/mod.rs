//! Annealed importance sampling: `ln Z` with honest error bars past the reach
//! of exact enumeration.
//!
//! ```text
//! p_k(x) = f_k(x) / Z_k,   f_k(x) = exp(−β_k E(x)),   0 = β_0 < β_1 < … < β_K = β
//! x_1 ~ p_0 (uniform),  x_{k+1} ~ T_k(x_k, ·)  (T_k leaves p_k invariant)
//! ln w = Σ_{k=1}^{K} ln f_k(x_k) − ln f_{k−1}(x_k) = −Σ_k (β_k − β_{k−1}) E(x_k)
//! E[w] = Z_K / Z_0,   Z_0 = 2^N  (Π q_i categorical, (2π)^N for angles)
//! ```
//!
//! The start is the uniform distribution of any [`UniformSpace`]: every
//! finite space, and the torus of [`ebm_core::Angles`] (TI from β = 0 is
//! proper there, the torus being compact).
//!
//! [`Ais`] runs many independent such paths in parallel (rayon), run `r` on
//! its own ChaCha stream `seed.stream(Purpose::AIS, r)`, with any
//! [`Sampler`] as the transition kernel; results are reduced in run order, so
//! they are bit-identical for any number of threads. [`LogZEstimate`] turns
//! the log-weights into `ln Z` and an interval, all in log space.
//!
//! **A base of its own.** [`Ais::log_z_from`] anneals along
//! `E_t = (1 − t) E₀ + t E` from an exactly solvable base ([`Base`]; e.g.
//! [`IndependentSites`] fitted to data), which needs far fewer steps when the
//! base is close to the target, with its reverse runs, sandwich and RAISE
//! (`reverse_log_z_from`, `sandwich_from`, `raise_from`). A model may run
//! such a path with its own kernel ([`EnergyModel::anneal_runs`]; the RBM
//! does, for a base of independent sites). On ℝⁿ the base is [`DiagonalGaussian`]; on
//! a hybrid space (real and binary units: the Gaussian–Bernoulli RBM)
//! [`GaussianBits`], whose path keeps closed-form conditionals (`hybrid.rs`).
//!
//! **The sandwich.** By Jensen, `E[ln Ẑ] ≤ ln Z`: forward AIS is a stochastic
//! lower bound. Running the same path backwards from exact (or long-MCMC)
//! samples of the target, [`Ais::reverse_log_z`] estimates `Z_0 / Z_K`
//! unbiasedly, so its `ln Z` is a stochastic upper bound (Burda, Grosse and
//! Salakhutdinov 2015). [`Ais::sandwich`] reports both.
//!
//! **A likelihood from the other side.** Forward AIS over-states a
//! log-likelihood (`ln p(v) = ln f(v) − ln Z`, `ln Ẑ` under-stated); RAISE
//! runs the path backwards from the data points themselves and under-states
//! it, with no ln Z needed ([`RaiseEstimate`]).

mod based;
mod estimate;
mod hybrid;
mod path;
mod runs;
mod schedule;
mod ti;

pub use based::AIS_BATCH;
pub use estimate::{
    Estimated, LogLikelihoodEstimate, LogZEstimate, RaiseEstimate, Sandwich,
    mean_visible_log_marginal,
};
pub use hybrid::GaussianBits;
pub use path::{Base, DiagonalGaussian, GradientBase, IndependentSites, Interpolated};
pub use runs::{Ais, path_betas};
pub use schedule::Schedule;
pub use ti::{Ti, TiEstimate, TiNode};

use crate::diagnostics::{Estimate, estimate};
use ebm_core::rand_core::Rng;
use ebm_core::{
    AnnealRuns, Beta, Chain, EnergyModel, Error, FiniteSpace, Purpose, Result, Sampler, Seed,
    UniformSpace, UnitOf,
};
use rayon::prelude::*;

/// Number of standard errors of the mean weight in the interval
/// `ln(mean w ± 3 sd(w)/√R)` of Salakhutdinov and Murray (2008).
pub const INTERVAL_SIGMAS: f64 = 3.0;

/// `ln(1/α)` with α = 0.0027 (the two-sided tail of ±3σ): Markov's inequality
/// `P(Ẑ ≥ Z/α) ≤ α` gives `ln Z ≥ ln Ẑ − ln(1/α)` with probability ≥ 1 − α,
/// whatever the weights' distribution. Used as the lower end of the interval
/// when `mean w − 3 sd(w)/√R ≤ 0` (and as the upper end of a reverse estimate).
pub const MARKOV_LOG_FACTOR: f64 = 5.914_503_505_971_854; // ln(1 / 0.0027)

/// Number of intermediate inverse temperatures of the standard schedule of
/// Salakhutdinov and Murray (2008).
pub const STANDARD_N_BETAS: usize = 14_500;

/// Offset added to the run index for the streams of reverse AIS runs
/// (`seed.stream(Purpose::AIS, REVERSE_STREAM_OFFSET + r)`), so forward and
/// reverse runs of one seed are independent.
pub const REVERSE_STREAM_OFFSET: u64 = 1 << 63;

/// Offset added to the run index for the streams of RAISE runs (reverse runs
/// from data points, see [`RaiseEstimate`]):
/// `seed.stream(Purpose::AIS, RAISE_STREAM_OFFSET + r)`, apart from the
/// forward (`r`) and reverse (`REVERSE_STREAM_OFFSET + r`) runs.
pub const RAISE_STREAM_OFFSET: u64 = 3 << 62;

fn invalid_sequence(reason: String) -> Error {
    Error::InvalidSequence { what: "AIS schedule", reason }
}

fn at_least(name: &'static str, value: usize, min: usize) -> Result<()> {
    if value < min {
        let expected = if min == 1 { "≥ 1" } else { "≥ 3" };
        return Err(Error::InvalidParameter { name, value: value as f64, expected });
    }
    Ok(())
}

/// `ln Z(0) = Σ_i ln |X_i|` (N ln 2 for binary units, Σ ln q_i for
/// categorical ones, N ln 2π for angles): the β = 0 end of every path is the
/// uniform distribution over the model's space ([`UniformSpace`]).
fn log_z0<M: EnergyModel<Space: UniformSpace> + ?Sized>(model: &M) -> f64 {
    model.space().ln_volume(model.n_units())
}

impl Ais {
    /// The first R rows of reverse runs' `starts`, checked: whole rows of
    /// `n_units()` values in the model's space, at least R of them.
    fn reverse_starts<'s, M: EnergyModel + ?Sized>(
        &self,
        model: &M,
        starts: &'s [UnitOf<M>],
    ) -> Result<&'s [UnitOf<M>]> {
        let n = model.n_units();
        let rows = starts.len().checked_div(n).unwrap_or(0);
        if n == 0 || rows * n != starts.len() || rows < self.n_runs() {
            return Err(Error::ShapeMismatch {
                what: "reverse AIS starting states (≥ n_runs rows of n_units)",
                expected: self.n_runs() * n,
                found: starts.len(),
            });
        }
        let starts = &starts[..self.n_runs() * n];
        ebm_core::validate_rows(model.space(), starts, n)?;
        Ok(starts)
    }
}
