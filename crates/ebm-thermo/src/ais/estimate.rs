//! What the estimators return: ln Z with an interval, free energy and entropy
//! from it, log-likelihoods, and the forward/reverse sandwich.

use super::*;
use ebm_core::LogLinear;

/// An estimate of ln Z from importance weights, with its uncertainty.
///
/// From `R` log-weights `ln w_r` (forward: `E[w] = Z / Z_0`), in log space
/// with `m = max ln w` and `w̃ = e^{ln w − m}`:
///
/// ```text
/// ln Ẑ     = ln Z_0 + m + ln mean(w̃)
/// std_err  = sd(w̃) / (√R · mean(w̃))                     (delta method)
/// [lower, upper] = ln Z_0 + m + ln(mean(w̃) ∓ 3 sd(w̃)/√R)  (Salakhutdinov–Murray)
/// ess      = (Σ w)² / Σ w²
/// ```
///
/// When `mean − 3 sd/√R ≤ 0` the lower end is Markov's bound
/// `ln Ẑ − ln(1/0.0027)` instead (see [`MARKOV_LOG_FACTOR`]). For a reverse
/// estimate (`E[w] = Z_0 / Z`) the signs swap: `ln Ẑ = ln Z_0 − m − ln mean(w̃)`
/// and Markov's bound caps the upper end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogZEstimate {
    /// The estimate of ln Z.
    pub log_z: f64,
    /// Standard error of `log_z` (delta method on the weights' spread).
    pub std_err: f64,
    /// Lower end of the interval.
    pub lower: f64,
    /// Upper end of the interval.
    pub upper: f64,
    /// Effective number of runs `(Σ w)² / Σ w²`.
    pub ess: f64,
    /// Number of runs R.
    pub n_runs: usize,
}

/// A derived quantity with its standard error and interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimated {
    /// The estimate.
    pub value: f64,
    /// Its standard error.
    pub std_err: f64,
    /// Lower end of its interval.
    pub lower: f64,
    /// Upper end of its interval.
    pub upper: f64,
}

/// The mean log-likelihood of a data set, `mean_v[−β F(v)] − ln Z`, with the
/// ln Z interval carried through: `[m − upper_lnZ, m − lower_lnZ]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogLikelihoodEstimate {
    /// `mean_v[−β F(v)] − ln Ẑ`.
    pub mean: f64,
    /// `mean_v[−β F(v)] − upper(ln Z)`.
    pub lower: f64,
    /// `mean_v[−β F(v)] − lower(ln Z)`.
    pub upper: f64,
    /// The standard error of `ln Ẑ` (the data term is exact).
    pub std_err: f64,
}

impl LogLikelihoodEstimate {
    /// `mean_log_marginal − ln Z` for `mean_log_marginal = mean_v[−β F(v)]`.
    pub fn new(mean_log_marginal: f64, log_z: &LogZEstimate) -> Self {
        LogLikelihoodEstimate {
            mean: mean_log_marginal - log_z.log_z,
            lower: mean_log_marginal - log_z.upper,
            upper: mean_log_marginal - log_z.lower,
            std_err: log_z.std_err,
        }
    }

    /// [`LogLikelihoodEstimate::new`] with the data term computed:
    /// `mean_v ln f(v)` over the rows of `data` (`n_visible()` values each) by
    /// [`mean_visible_log_marginal`].
    pub fn of_data<M: LogLinear + ?Sized>(
        model: &M,
        data: &[UnitOf<M>],
        beta: Beta,
        log_z: &LogZEstimate,
    ) -> Result<Self> {
        Ok(LogLikelihoodEstimate::new(mean_visible_log_marginal(model, data, beta)?, log_z))
    }
}

/// `mean_v ln Σ_h e^{−β E(v, h)}` (`mean_v[−β F(v)]`) over the rows of `data`
/// ([`LogLinear::visible_log_marginal`]), the data term of a mean
/// log-likelihood.
///
/// Errors: data empty, not whole rows of `n_visible()` values or outside the
/// space ([`Error::ShapeMismatch`], [`Error::InvalidUnitValue`]), a model
/// whose latent units have no closed-form marginal ([`Error::Unsupported`]).
pub fn mean_visible_log_marginal<M: LogLinear + ?Sized>(
    model: &M,
    data: &[UnitOf<M>],
    beta: Beta,
) -> Result<f64> {
    let nv = model.n_visible();
    let rows = ebm_core::check_rows("data (rows of n_visible values)", data.len(), nv)?;
    ebm_core::validate_rows(model.space(), data, nv)?;
    let mut total = 0.0;
    for v in data.chunks_exact(nv) {
        total += model.visible_log_marginal(v, beta).ok_or_else(|| Error::Unsupported {
            what: "a visible marginal",
            reason: "the model's latent units have no closed-form marginal".into(),
        })?;
    }
    Ok(total / rows as f64)
}

/// `(m, mean, sd, ess)` of the weights `e^{lw − m}`; errors on non-finite input.
fn weight_stats(log_w: &[f64]) -> Result<(f64, f64, f64, f64)> {
    if log_w.is_empty() {
        return Err(Error::InvalidParameter { name: "n_runs", value: 0.0, expected: "≥ 1" });
    }
    if let Some(index) = log_w.iter().position(|x| !x.is_finite()) {
        return Err(Error::NonFinite { what: "AIS log-weights", index });
    }
    let m = log_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let r = log_w.len() as f64;
    let (mut s, mut s2) = (0.0, 0.0);
    for &lw in log_w {
        let w = (lw - m).exp();
        s += w;
        s2 += w * w;
    }
    let mean = s / r;
    let mut ss = 0.0;
    for &lw in log_w {
        ss += ((lw - m).exp() - mean).powi(2);
    }
    let sd = if log_w.len() > 1 { (ss / (r - 1.0)).sqrt() } else { f64::INFINITY };
    Ok((m, mean, sd, s * s / s2))
}

impl LogZEstimate {
    /// The estimate from forward log-weights (`E[w] = Z / Z_0`); see the type docs.
    ///
    /// Errors: no weights ([`Error::InvalidParameter`]), a non-finite one
    /// ([`Error::NonFinite`]).
    pub fn from_log_weights(log_z0: f64, log_w: &[f64]) -> Result<Self> {
        let (m, mean, sd, ess) = weight_stats(log_w)?;
        let r = log_w.len() as f64;
        let half = INTERVAL_SIGMAS * sd / r.sqrt();
        let log_z = log_z0 + m + mean.ln();
        let lower = if mean - half > 0.0 {
            log_z0 + m + (mean - half).ln()
        } else {
            log_z - MARKOV_LOG_FACTOR
        };
        Ok(LogZEstimate {
            log_z,
            std_err: sd / (r.sqrt() * mean),
            lower,
            upper: log_z0 + m + (mean + half).ln(),
            ess,
            n_runs: log_w.len(),
        })
    }

    /// The estimate from reverse log-weights (`E[w] = Z_0 / Z`): a stochastic
    /// upper bound on ln Z; see the type docs.
    pub fn from_reverse_log_weights(log_z0: f64, log_w: &[f64]) -> Result<Self> {
        let (m, mean, sd, ess) = weight_stats(log_w)?;
        let r = log_w.len() as f64;
        let half = INTERVAL_SIGMAS * sd / r.sqrt();
        let log_z = log_z0 - m - mean.ln();
        let upper = if mean - half > 0.0 {
            log_z0 - m - (mean - half).ln()
        } else {
            log_z + MARKOV_LOG_FACTOR
        };
        Ok(LogZEstimate {
            log_z,
            std_err: sd / (r.sqrt() * mean),
            lower: log_z0 - m - (mean + half).ln(),
            upper,
            ess,
            n_runs: log_w.len(),
        })
    }

    /// Whether `log_z` lies in `[lower, upper]`.
    pub fn contains(&self, log_z: f64) -> bool {
        self.lower <= log_z && log_z <= self.upper
    }

    /// `F = −T ln Z` with `std_err_F = T · std_err` and the interval
    /// `[−T upper, −T lower]`.
    pub fn free_energy(&self, beta: Beta) -> Estimated {
        let t = beta.temperature();
        Estimated {
            value: -t * self.log_z,
            std_err: t * self.std_err,
            lower: -t * self.upper,
            upper: -t * self.lower,
        }
    }

    /// `S = β (U − F) = β U + ln Z` from a mean-energy estimate `U ± se_U`
    /// (independent of the ln Z runs, e.g. [`crate::estimate`] of an MCMC
    /// trace): `std_err_S = √(β² se_U² + se_lnZ²)`, interval
    /// `[β (U − 3 se_U) + lower, β (U + 3 se_U) + upper]`.
    pub fn entropy(&self, beta: Beta, mean_energy: &Estimate) -> Estimated {
        let b = beta.value();
        let (u, se) = (mean_energy.mean, mean_energy.std_err);
        Estimated {
            value: b * u + self.log_z,
            std_err: (b * b * se * se + self.std_err * self.std_err).sqrt(),
            lower: b * (u - INTERVAL_SIGMAS * se) + self.lower,
            upper: b * (u + INTERVAL_SIGMAS * se) + self.upper,
        }
    }
}

/// Forward and reverse AIS of the same path: a stochastic sandwich
/// `E[forward.log_z] ≤ ln Z ≤ E[reverse.log_z]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sandwich {
    /// Forward AIS from the uniform state: a stochastic lower bound.
    pub forward: LogZEstimate,
    /// Reverse AIS from samples of the target: a stochastic upper bound (exact
    /// when the starting states are exact samples; with MCMC starts only as
    /// good as their equilibration).
    pub reverse: LogZEstimate,
}

impl Sandwich {
    /// `(forward.log_z, reverse.log_z)`: the stochastic bounds.
    pub fn bounds(&self) -> (f64, f64) {
        (self.forward.log_z, self.reverse.log_z)
    }

    /// `(forward.lower, reverse.upper)`: the conservative interval.
    pub fn interval(&self) -> (f64, f64) {
        (self.forward.lower, self.reverse.upper)
    }

    /// `reverse.log_z − forward.log_z`: large gaps mean too few steps or poor mixing.
    pub fn gap(&self) -> f64 {
        self.reverse.log_z - self.forward.log_z
    }
}

/// A conservative mean log-likelihood by RAISE (the reverse annealed
/// importance sampling estimator of Burda, Grosse and Salakhutdinov 2015).
///
/// RAISE scores each data point `v` under the *annealing model*: the
/// distribution of the last state of a forward AIS chain (base `p_0`, then
/// the transitions `T_1 … T_K`, `T_K` at the target), a proper normalised
/// model close to the target when the path is long. Running the chain
/// backwards from `x_K = v` (`x_{k−1} ~ T_k(x_k, ·)`, the kernels being
/// reversible) gives an unbiased estimate of that model's `p_ann(v)`:
///
/// ```text
/// ŵ(v) = f_K(v) / Z_0 · Π_{k=1}^{K} f_{k−1}(x_{k−1}) / f_k(x_{k−1})
/// ```
///
/// so `E[ln ŵ] ≤ ln p_ann(v)`: it needs no ln Z, and it under-states where
/// forward AIS over-states (`p_ann → p` as K grows; with few steps it is the
/// worse model, hence *conservative*). For a data set, the unnormalised term
/// `ln f_K(v)` is exact and summed over every row; the correction
/// `d_i = ln mean_m ŵ_m(v_i) − ln f_K(v_i)` (M runs per point) is averaged
/// over n points spread through the data:
///
/// ```text
/// mean   = mean_{all v} ln f_K(v) + mean_{i ≤ n} d_i
/// std_err = sd(d) / √n,   [lower, upper] = mean ∓ 3 std_err
/// ```
///
/// (unbiased for the all-rows mean of `E[ln ŵ]`, with far less spread than
/// averaging `ln ŵ` itself over a subset, because `d_i ≈ −ln Z` varies little).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RaiseEstimate {
    /// The conservative mean log-likelihood.
    pub mean: f64,
    /// Its standard error over the scored points.
    pub std_err: f64,
    /// `mean − 3 std_err`.
    pub lower: f64,
    /// `mean + 3 std_err`.
    pub upper: f64,
    /// Number of data points scored by reverse runs.
    pub n_points: usize,
    /// Reverse runs per scored point.
    pub runs_per_point: usize,
}

impl RaiseEstimate {
    /// The estimate from `mean_log_unnormalised = mean_{all v} ln f_K(v)` and
    /// the per-point log-weights `log_w` (n points × `runs_per_point` runs,
    /// point-major), each `ln ŵ − ln f_K(v)` of one reverse run.
    ///
    /// Errors: no weights or a length not a multiple of `runs_per_point`
    /// ([`Error::ShapeMismatch`]), a non-finite weight ([`Error::NonFinite`]).
    pub fn from_corrections(
        mean_log_unnormalised: f64,
        log_w: &[f64],
        runs_per_point: usize,
    ) -> Result<Self> {
        let m = runs_per_point.max(1);
        if log_w.is_empty() || !log_w.len().is_multiple_of(m) {
            return Err(Error::ShapeMismatch {
                what: "RAISE log-weights (points × runs per point)",
                expected: m * (log_w.len() / m).max(1),
                found: log_w.len(),
            });
        }
        if let Some(index) = log_w.iter().position(|x| !x.is_finite()) {
            return Err(Error::NonFinite { what: "RAISE log-weights", index });
        }
        let d: Vec<f64> = log_w.chunks_exact(m).map(log_mean_exp).collect();
        let n = d.len() as f64;
        let mean_d = d.iter().sum::<f64>() / n;
        let var = if d.len() > 1 {
            d.iter().map(|x| (x - mean_d).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            f64::INFINITY
        };
        let std_err = (var / n).sqrt();
        let mean = mean_log_unnormalised + mean_d;
        Ok(RaiseEstimate {
            mean,
            std_err,
            lower: mean - INTERVAL_SIGMAS * std_err,
            upper: mean + INTERVAL_SIGMAS * std_err,
            n_points: d.len(),
            runs_per_point: m,
        })
    }

    /// Whether `value` lies in `[lower, upper]`.
    pub fn contains(&self, value: f64) -> bool {
        self.lower <= value && value <= self.upper
    }
}

/// `ln mean_i e^{x_i}` in log space.
fn log_mean_exp(x: &[f64]) -> f64 {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + (x.iter().map(|v| (v - m).exp()).sum::<f64>() / x.len() as f64).ln()
}
