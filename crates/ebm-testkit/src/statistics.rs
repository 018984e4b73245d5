//! Statistical comparison of sampler output with an exact distribution.
//!
//! ## The total-variation bound, and where it comes from
//!
//! Run m independent chains, each started from an exact sample (so every chain
//! is stationary from its first sweep) and recording n states. Let `f_c(k)` be
//! the fraction of chain c's samples in state k. The chains are i.i.d., and
//! stationarity makes `E f_c(k) = p(k)`, so the pooled fraction
//! `p̂(k) = mean_c f_c(k)` is unbiased with variance `σ_k² = Var(f_c(k)) / m`.
//! That variance already contains every autocorrelation of the chains (a
//! slowly mixing chain has a widely spread `f_c`), so the effective number of
//! samples of state k is `p(k)(1 − p(k)) / σ_k²`, measured rather than assumed.
//! `Var(f_c(k))` is estimated by the sample variance across chains, floored at
//! the i.i.d. value `p(k)(1 − p(k)) / n` so that states no chain visited are not
//! treated as known exactly.
//!
//! By Jensen, `E|p̂(k) − p(k)| ≤ σ_k`, so `E[TV] ≤ ½ Σ_k σ_k`, and TV is a sum
//! of many nearly independent terms with standard deviation at most
//! `½ √(Σ_k σ_k² (1 − 2/π))`. The test passes when the observed TV is below
//! that expectation bound plus five standard deviations. A sampler whose
//! stationary distribution is wrong by more than its sampling noise fails,
//! which the tests demonstrate with a deliberately mis-tempered sampler.

use ebm_core::{
    Beta, Chain, Error, FiniteModel, FiniteSpace, Purpose, Result, Sampler, Seed, UnitOf,
    check_len, uniform,
};
use rayon::prelude::*;

/// The result of [`tv_test`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TvReport {
    /// Observed total variation ½ Σ |p̂ − p|.
    pub tv: f64,
    /// Upper bound on its expectation, ½ Σ σ_k.
    pub expected: f64,
    /// The pass threshold: `expected + 5 sd`.
    pub bound: f64,
    /// Effective number of samples, `Σ_k p(1−p) / Σ_k σ_k²` (a summary only).
    pub n_eff: f64,
}

impl TvReport {
    /// Whether `tv ≤ bound`.
    pub fn passed(&self) -> bool {
        self.tv <= self.bound
    }
}

/// Compares per-chain state histograms (`counts[c][k]`, equal totals per
/// chain, at least 2 chains) with the exact probabilities `probs[k]`.
pub fn tv_test(probs: &[f64], counts: &[Vec<u64>]) -> TvReport {
    let m = counts.len() as f64;
    let n = counts.first().map_or(0, |c| c.iter().sum::<u64>()) as f64;
    let (mut tv, mut expected, mut var_sum, mut pq_sum) = (0.0, 0.0, 0.0, 0.0);
    for (k, &p) in probs.iter().enumerate() {
        let f: Vec<f64> = counts.iter().map(|c| c[k] as f64 / n).collect();
        let mean = f.iter().sum::<f64>() / m;
        let s2 = f.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (m - 1.0);
        let var = s2.max(p * (1.0 - p) / n) / m;
        tv += (mean - p).abs();
        expected += var.sqrt();
        var_sum += var;
        pq_sum += p * (1.0 - p);
    }
    let sd = (var_sum * (1.0 - 2.0 / std::f64::consts::PI)).sqrt();
    TvReport {
        tv: 0.5 * tv,
        expected: 0.5 * expected,
        bound: 0.5 * expected + 5.0 * 0.5 * sd,
        n_eff: pq_sum / var_sum,
    }
}

/// The state code drawn from `probs` by inverse CDF at `u ∈ [0, 1)`.
pub fn draw_code(probs: &[f64], u: f64) -> u64 {
    let mut acc = 0.0;
    for (k, p) in probs.iter().enumerate() {
        acc += p;
        if u < acc {
            return k as u64;
        }
    }
    // rounding left u above the total: the last state with positive mass
    probs.iter().rposition(|&p| p > 0.0).unwrap_or(0) as u64
}

/// The whole test for any sampler: `n_chains` chains started from exact
/// samples of `probs` (indexed by state code, see `FiniteSpace::code_of_state`;
/// for binary units `Domain::encode`), each run
/// for `n_sweeps` sweeps at `beta` and recording its state code after every
/// sweep, then [`tv_test`] against `probs`.
///
/// Chain c draws its start from `(seed, custom(1), c)` and its moves from
/// `(seed, SAMPLING, c)`; chains run in parallel and the result does not
/// depend on the number of threads. Sampling at a `beta` other than the one
/// `probs` was computed at is how a test shows the bound has teeth.
pub fn sampler_tv<M, S>(
    model: &M,
    sampler: &S,
    beta: Beta,
    probs: &[f64],
    n_chains: usize,
    n_sweeps: usize,
    seed: Seed,
) -> Result<TvReport>
where
    M: FiniteModel + ?Sized,
    S: Sampler<M>,
{
    let (n, space) = (model.n_units(), model.space());
    let states = space
        .n_states(n)
        .ok_or(Error::TooManyStates { ln_states: space.ln_size(n), max: u64::MAX })?;
    check_len("exact distribution (Π q_i states)", states as usize, probs.len())?;
    let counts: Vec<Result<Vec<u64>>> = (0..n_chains as u64)
        .into_par_iter()
        .map(|c| {
            let mut x = vec![UnitOf::<M>::default(); n];
            let code = draw_code(probs, uniform(&mut seed.stream(Purpose::custom(1), c)));
            space.state_of_code(code, &mut x);
            let mut chain = sampler.start(model, &x)?;
            let mut rng = seed.stream(Purpose::SAMPLING, c);
            let mut h = vec![0u64; probs.len()];
            for _ in 0..n_sweeps {
                sampler.sweep(model, &mut chain, beta, &mut rng);
                h[space.code_of_state(chain.state()) as usize] += 1;
            }
            Ok(h)
        })
        .collect();
    Ok(tv_test(probs, &counts.into_iter().collect::<Result<Vec<_>>>()?))
}
