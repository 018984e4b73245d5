//! Annealed importance sampling: `ln Z` with honest error bars past the reach
//! of exact enumeration.
//!
//! ```text
//! p_k(x) = f_k(x) / Z_k,   f_k(x) = exp(−β_k E(x)),   0 = β_0 < β_1 < … < β_K = β
//! x_1 ~ p_0 (uniform),  x_{k+1} ~ T_k(x_k, ·)  (T_k leaves p_k invariant)
//! ln w = Σ_{k=1}^{K} ln f_k(x_k) − ln f_{k−1}(x_k) = −Σ_k (β_k − β_{k−1}) E(x_k)
//! E[w] = Z_K / Z_0,   Z_0 = 2^N
//! ```
//!
//! [`Ais`] runs many independent such paths in parallel (rayon), run `r` on
//! its own ChaCha stream `seed.stream(Purpose::AIS, r)`, with any
//! [`Sampler`] as the transition kernel; results are reduced in run order, so
//! they are bit-identical for any number of threads. [`LogZEstimate`] turns
//! the log-weights into `ln Z` and an interval, all in log space.
//!
//! **The sandwich.** By Jensen, `E[ln Ẑ] ≤ ln Z`: forward AIS is a stochastic
//! lower bound. Running the same path backwards from exact (or long-MCMC)
//! samples of the target, [`Ais::reverse_log_z`] estimates `Z_0 / Z_K`
//! unbiasedly, so its `ln Z` is a stochastic upper bound (Burda, Grosse and
//! Salakhutdinov 2015). [`Ais::sandwich`] reports both.

use crate::diagnostics::{Estimate, estimate};
use ebm_core::rand_core::Rng;
use ebm_core::{Beta, BinaryModel, Chain, Error, Purpose, Result, Sampler, Seed};
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

/// An annealing path `0 = β_0 < β_1 < … < β_K = β` from the uniform
/// distribution to the target.
///
/// [`Schedule::betas`] lists `β_1, …, β_K` (β_0 = 0 is implicit: the uniform
/// state is drawn directly, never by a sampler step at β = 0).
///
/// ```
/// use ebm_core::Beta;
/// use ebm_thermo::ais::Schedule;
/// let b = Schedule::Standard.betas(Beta::new(2.0)?)?;
/// assert_eq!(b.len(), 14_500);
/// assert_eq!(b[0], 2e-3);
/// assert_eq!(*b.last().unwrap(), 2.0);
/// assert!(Schedule::Given(vec![0.5, 0.4, 2.0]).betas(Beta::new(2.0)?).is_err());
/// # Ok::<(), ebm_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// `β_k = β · k / K`, k = 1..=K.
    Linear(usize),
    /// `β_k = β · f^{(K − k)/(K − 1)}`: geometric from `β · first_fraction` to β.
    Geometric {
        /// K, the number of intermediate inverse temperatures.
        n_betas: usize,
        /// `β_1 / β`, in (0, 1).
        first_fraction: f64,
    },
    /// Salakhutdinov and Murray (2008): 14,500 steps of `10⁻³ β` up to `β/2`,
    /// `10⁻⁴ β` up to `0.9 β`, then `10⁻⁵ β` up to β.
    Standard,
    /// The shape of [`Schedule::Standard`] with `K` steps in total (split
    /// 500 : 4000 : 10000 between the three segments; K ≥ 3).
    StandardScaled(usize),
    /// The given `β_1 < … < β_K = β` (absolute values; a leading 0 is allowed
    /// and dropped). Validated by [`Schedule::betas`].
    Given(Vec<f64>),
}

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

impl Schedule {
    /// `β_1, …, β_K` for the target β, strictly increasing, ending exactly at β.
    ///
    /// Errors: [`Error::InvalidParameter`] for zero steps or a geometric
    /// fraction outside (0, 1); [`Error::InvalidSequence`] for a given schedule
    /// that is empty, non-finite, not strictly increasing, not positive, or
    /// not ending at β (relative tolerance 1e-12).
    pub fn betas(&self, target: Beta) -> Result<Vec<f64>> {
        let t = target.value();
        let betas = match self {
            Schedule::Linear(k) => {
                at_least("n_betas", *k, 1)?;
                (1..=*k).map(|i| t * i as f64 / *k as f64).collect()
            }
            Schedule::Geometric { n_betas, first_fraction } => {
                at_least("n_betas", *n_betas, 1)?;
                let f = *first_fraction;
                if !(f > 0.0 && f < 1.0) {
                    return Err(Error::InvalidParameter {
                        name: "first_fraction",
                        value: f,
                        expected: "in (0, 1)",
                    });
                }
                let k = *n_betas;
                if k == 1 {
                    vec![t]
                } else {
                    let span = (k - 1) as f64;
                    (1..=k).map(|i| t * f.powf((k - i) as f64 / span)).collect()
                }
            }
            Schedule::Standard => standard(t, [500, 4000, 10_000]),
            Schedule::StandardScaled(k) => {
                at_least("n_betas", *k, 3)?;
                let n1 = ((*k as f64 * 500.0 / 14_500.0).round() as usize).max(1);
                let n2 = ((*k as f64 * 4000.0 / 14_500.0).round() as usize).max(1);
                let n3 = k.saturating_sub(n1 + n2).max(1);
                standard(t, [n1, n2, n3])
            }
            Schedule::Given(b) => return validate_given(b, t),
        };
        Ok(betas)
    }
}

/// The three-segment schedule with the given step counts, ending exactly at `t`.
fn standard(t: f64, n: [usize; 3]) -> Vec<f64> {
    let mut out = Vec::with_capacity(n.iter().sum());
    let segments = [(0.0, 0.5), (0.5, 0.9), (0.9, 1.0)];
    for (&(a, b), &m) in segments.iter().zip(&n) {
        for i in 1..=m {
            out.push(t * (a + (b - a) * i as f64 / m as f64));
        }
    }
    if let Some(last) = out.last_mut() {
        *last = t;
    }
    out
}

fn validate_given(b: &[f64], t: f64) -> Result<Vec<f64>> {
    let b = if b.first() == Some(&0.0) { &b[1..] } else { b };
    let Some(&last) = b.last() else {
        return Err(invalid_sequence("no inverse temperature after β = 0".into()));
    };
    if let Some(i) = b.iter().position(|x| !x.is_finite() || *x <= 0.0) {
        return Err(invalid_sequence(format!("β_{} = {} is not finite and > 0", i + 1, b[i])));
    }
    if let Some(i) = b.windows(2).position(|w| w[1] <= w[0]) {
        return Err(invalid_sequence(format!(
            "not strictly increasing: β_{} = {} ≥ β_{} = {}",
            i + 1,
            b[i],
            i + 2,
            b[i + 1]
        )));
    }
    if (last - t).abs() > 1e-12 * t {
        return Err(invalid_sequence(format!("ends at {last}, not at the target β = {t}")));
    }
    let mut out = b.to_vec();
    if let Some(l) = out.last_mut() {
        *l = t;
    }
    Ok(out)
}

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

/// Annealed importance sampling for any [`BinaryModel`] with any [`Sampler`]
/// as the transition kernel: `ln Z(β) = N ln 2 + ln E[w]` (see the
/// [module docs](self)).
///
/// ```
/// use ebm_core::{Beta, BinaryModel, Domain, EnergyModel, Seed, Sampler};
/// use ebm_thermo::ais::{Ais, Schedule};
/// # use ebm_core::{Chain, Result, uniform};
/// # use ebm_core::rand_core::Rng;
/// # struct Heat; #[derive(Clone)] struct S(Vec<i8>);
/// # impl Chain for S { fn state(&self) -> &[i8] { &self.0 } }
/// # impl<M: BinaryModel + ?Sized> Sampler<M> for Heat {
/// #     type Chain = S;
/// #     fn start(&self, _: &M, x: &[i8]) -> Result<S> { Ok(S(x.to_vec())) }
/// #     fn sweep<R: Rng + ?Sized>(&self, m: &M, c: &mut S, b: Beta, rng: &mut R) {
/// #         for i in 0..c.0.len() {
/// #             let d = m.flip_delta(&c.0, i);
/// #             if uniform(rng) < 1.0 / (1.0 + (b.value() * d).exp()) { c.0[i] = -c.0[i]; }
/// #         }
/// #     }
/// # }
/// /// Two coupled spins: Z = 2 e^{β} + 2 e^{−β}.
/// struct Pair;
/// impl EnergyModel for Pair {
///     fn n_units(&self) -> usize { 2 }
///     fn domain(&self) -> Domain { Domain::Spin }
///     fn energy(&self, s: &[i8]) -> f64 { -f64::from(s[0] * s[1]) }
/// }
/// impl BinaryModel for Pair {}
///
/// let est = Ais::new(Schedule::Linear(100), 200)?.log_z(&Pair, &Heat, Beta::ONE, Seed(1))?;
/// let exact = (2.0 * 1f64.exp() + 2.0 * (-1f64).exp()).ln();
/// assert!(est.contains(exact));
/// # Ok::<(), ebm_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Ais {
    schedule: Schedule,
    n_runs: usize,
}

impl Ais {
    /// AIS along `schedule` with `n_runs` independent runs.
    ///
    /// Errors: `n_runs == 0` ([`Error::InvalidParameter`]). The schedule is
    /// validated against the target β when a run starts.
    pub fn new(schedule: Schedule, n_runs: usize) -> Result<Self> {
        at_least("n_runs", n_runs, 1)?;
        Ok(Ais { schedule, n_runs })
    }

    /// The schedule.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// Number of runs R.
    pub fn n_runs(&self) -> usize {
        self.n_runs
    }

    /// The forward log-weights `ln w_r`, r = 0..R, in run order
    /// (`E[w] = Z(β) / 2^N`).
    pub fn log_weights<M, S>(
        &self,
        model: &M,
        sampler: &S,
        beta: Beta,
        seed: Seed,
    ) -> Result<Vec<f64>>
    where
        M: BinaryModel + ?Sized,
        S: Sampler<M>,
    {
        let path = path_betas(&self.schedule, beta, false)?;
        let n = model.n_units();
        let d = model.domain();
        (0..self.n_runs as u64)
            .into_par_iter()
            .map(|r| {
                let mut rng = seed.stream(Purpose::AIS, r);
                let mut x = vec![d.low(); n];
                for chunk in x.chunks_mut(64) {
                    let bits = rng.next_u64();
                    for (i, v) in chunk.iter_mut().enumerate() {
                        *v = d.value((bits >> i) & 1 == 1);
                    }
                }
                run_path(model, sampler, &x, &path, &mut rng)
            })
            .collect()
    }

    /// Forward AIS: `ln Z(β)` from R runs starting at the uniform distribution.
    ///
    /// Errors: an invalid schedule, and whatever the sampler's `start` returns.
    pub fn log_z<M, S>(
        &self,
        model: &M,
        sampler: &S,
        beta: Beta,
        seed: Seed,
    ) -> Result<LogZEstimate>
    where
        M: BinaryModel + ?Sized,
        S: Sampler<M>,
    {
        let lw = self.log_weights(model, sampler, beta, seed)?;
        LogZEstimate::from_log_weights(log_z0(model), &lw)
    }

    /// Reverse AIS: the same path run from β down to 0, run r starting at row
    /// r of `starts` (rows of `n_units()` values, at least R of them; only the
    /// first R are used), which should be samples of `p_β` (exact, or from a
    /// long MCMC run). The weights `w = Π_k f_{k−1}(x_k)/f_k(x_k)
    /// = exp(Σ_k (β_k − β_{k−1}) E(x_k))` have `E[w] = 2^N / Z(β)`, so the
    /// result is a stochastic upper bound on ln Z. Streams:
    /// `seed.stream(Purpose::AIS, REVERSE_STREAM_OFFSET + r)`.
    ///
    /// Errors: fewer than R rows or a length not a multiple of `n_units()`
    /// ([`Error::ShapeMismatch`]), values outside the domain, an invalid schedule.
    pub fn reverse_log_z<M, S>(
        &self,
        model: &M,
        sampler: &S,
        beta: Beta,
        starts: &[i8],
        seed: Seed,
    ) -> Result<LogZEstimate>
    where
        M: BinaryModel + ?Sized,
        S: Sampler<M>,
    {
        let n = model.n_units();
        let rows = starts.len().checked_div(n).unwrap_or(0);
        if n == 0 || rows * n != starts.len() || rows < self.n_runs {
            return Err(Error::ShapeMismatch {
                what: "reverse AIS starting states (≥ n_runs rows of n_units)",
                expected: self.n_runs * n,
                found: starts.len(),
            });
        }
        model.domain().validate(&starts[..self.n_runs * n])?;
        let path = path_betas(&self.schedule, beta, true)?;
        let lw: Vec<f64> = (0..self.n_runs)
            .into_par_iter()
            .map(|r| {
                let mut rng = seed.stream(Purpose::AIS, REVERSE_STREAM_OFFSET + r as u64);
                run_path(model, sampler, &starts[r * n..(r + 1) * n], &path, &mut rng)
            })
            .collect::<Result<_>>()?;
        LogZEstimate::from_reverse_log_weights(log_z0(model), &lw)
    }

    /// Forward and reverse AIS together (see [`Sandwich`]).
    pub fn sandwich<M, S>(
        &self,
        model: &M,
        sampler: &S,
        beta: Beta,
        starts: &[i8],
        seed: Seed,
    ) -> Result<Sandwich>
    where
        M: BinaryModel + ?Sized,
        S: Sampler<M>,
    {
        Ok(Sandwich {
            forward: self.log_z(model, sampler, beta, seed)?,
            reverse: self.reverse_log_z(model, sampler, beta, starts, seed)?,
        })
    }
}

/// `ln Z(0) = N ln 2` for a model of N binary units.
fn log_z0<M: BinaryModel + ?Sized>(model: &M) -> f64 {
    model.n_units() as f64 * std::f64::consts::LN_2
}

/// The visiting order `s_0, …, s_K` of a path: `[0, β_1, …, β_K]` forward,
/// `[β_K, …, β_1, 0]` reverse.
pub fn path_betas(schedule: &Schedule, beta: Beta, reverse: bool) -> Result<Vec<f64>> {
    let mut path = vec![0.0];
    path.extend(schedule.betas(beta)?);
    if reverse {
        path.reverse();
    }
    Ok(path)
}

/// One run along `path` from `x`: `ln w = −Σ_t (s_t − s_{t−1}) E(x_t)`, with a
/// sweep at `s_t` after every increment but the last.
fn run_path<M, S, R>(model: &M, sampler: &S, x: &[i8], path: &[f64], rng: &mut R) -> Result<f64>
where
    M: BinaryModel + ?Sized,
    S: Sampler<M>,
    R: Rng,
{
    let mut chain = sampler.start(model, x)?;
    let last = path.len() - 1;
    let mut lw = 0.0;
    for t in 1..=last {
        lw -= (path[t] - path[t - 1]) * model.energy(chain.state());
        if t < last {
            // interior β of a validated schedule: finite and > 0
            sampler.sweep(model, &mut chain, Beta::new(path[t])?, rng);
        }
    }
    Ok(lw)
}

/// Thermodynamic integration: `ln Z(β) = N ln 2 − ∫₀^β U(β') dβ'`.
///
/// U is estimated at the `2m + 1` equally spaced nodes `β_i = i β / (2m)` of
/// Simpson's rule (`intervals = 2m`, a multiple of 4): at β_0 = 0 from
/// independent uniform states, elsewhere from `n_chains` chains of the given
/// sampler (each started uniformly at random, `burn_in` sweeps discarded,
/// then `n_sweeps` recorded), each node's mean and autocorrelation-corrected
/// standard error from [`crate::estimate`]. Then
///
/// ```text
/// ln Ẑ = N ln 2 − S_h,        S_h = (h/3) Σ_i c_i U_i,   c = 1, 4, 2, 4, …, 4, 1
/// std_err = √(Σ_i (h c_i / 3)² se_i²)        (independent nodes)
/// quadrature_error = |S_h − S_{2h}| / 15     (Richardson, grid halving)
/// ```
///
/// Chain c of node i draws from `seed.derive(i).stream(Purpose::SAMPLING, c)`;
/// the result is bit-identical for any number of threads.
#[derive(Debug, Clone, PartialEq)]
pub struct Ti {
    /// Number of Simpson intervals (a positive multiple of 4).
    pub intervals: usize,
    /// Chains per node.
    pub n_chains: usize,
    /// Sweeps discarded at the start of each chain.
    pub burn_in: usize,
    /// Sweeps recorded per chain.
    pub n_sweeps: usize,
}

/// One node of thermodynamic integration: β and the estimate of U(β).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TiNode {
    /// The node's inverse temperature.
    pub beta: f64,
    /// The mean energy there, with its error bar and diagnostics.
    pub mean_energy: Estimate,
}

/// The result of [`Ti::log_z`].
#[derive(Debug, Clone, PartialEq)]
pub struct TiEstimate {
    /// `N ln 2 − S_h`.
    pub log_z: f64,
    /// Statistical standard error propagated from the nodes.
    pub std_err: f64,
    /// `|S_h − S_{2h}| / 15`.
    pub quadrature_error: f64,
    /// `N ln 2 − S_{2h}` (every other node).
    pub coarse_log_z: f64,
    /// The nodes.
    pub nodes: Vec<TiNode>,
}

impl TiEstimate {
    /// `√(std_err² + quadrature_error²)`.
    pub fn total_error(&self) -> f64 {
        self.std_err.hypot(self.quadrature_error)
    }

    /// As a [`LogZEstimate`]: `std_err` is [`TiEstimate::total_error`], the
    /// interval ±3 of it, `ess` the smallest node ESS, `n_runs` the number of
    /// chains per node.
    pub fn to_log_z_estimate(&self, n_chains: usize) -> LogZEstimate {
        let e = self.total_error();
        LogZEstimate {
            log_z: self.log_z,
            std_err: e,
            lower: self.log_z - INTERVAL_SIGMAS * e,
            upper: self.log_z + INTERVAL_SIGMAS * e,
            ess: self.nodes.iter().map(|n| n.mean_energy.ess).fold(f64::INFINITY, f64::min),
            n_runs: n_chains,
        }
    }
}

impl Ti {
    /// Runs the integration (see the type docs).
    ///
    /// Errors: `intervals` not a positive multiple of 4, zero chains or
    /// sweeps ([`Error::InvalidParameter`]), and sampler start errors.
    pub fn log_z<M, S>(&self, model: &M, sampler: &S, beta: Beta, seed: Seed) -> Result<TiEstimate>
    where
        M: BinaryModel + ?Sized,
        S: Sampler<M>,
    {
        if self.intervals == 0 || !self.intervals.is_multiple_of(4) {
            return Err(Error::InvalidParameter {
                name: "intervals",
                value: self.intervals as f64,
                expected: "a positive multiple of 4",
            });
        }
        at_least("n_chains", self.n_chains, 1)?;
        at_least("n_sweeps", self.n_sweeps, 1)?;
        let n_nodes = self.intervals + 1;
        let h = beta.value() / self.intervals as f64;
        let (n, d) = (model.n_units(), model.domain());
        let traces: Vec<Vec<f64>> = (0..n_nodes * self.n_chains)
            .into_par_iter()
            .map(|job| {
                let (node, c) = (job / self.n_chains, job % self.n_chains);
                let mut rng = seed.derive(node as u64).stream(Purpose::SAMPLING, c as u64);
                let mut x = vec![d.low(); n];
                let draw = |x: &mut [i8], rng: &mut ebm_core::ChainRng| {
                    for chunk in x.chunks_mut(64) {
                        let bits = rng.next_u64();
                        for (i, v) in chunk.iter_mut().enumerate() {
                            *v = d.value((bits >> i) & 1 == 1);
                        }
                    }
                };
                draw(&mut x, &mut rng);
                let mut trace = Vec::with_capacity(self.n_sweeps);
                if node == 0 {
                    for _ in 0..self.n_sweeps {
                        draw(&mut x, &mut rng);
                        trace.push(model.energy(&x));
                    }
                    return Ok(trace);
                }
                let b = Beta::new(h * node as f64)?;
                let mut chain = sampler.start(model, &x)?;
                for _ in 0..self.burn_in {
                    sampler.sweep(model, &mut chain, b, &mut rng);
                }
                for _ in 0..self.n_sweeps {
                    sampler.sweep(model, &mut chain, b, &mut rng);
                    trace.push(model.energy(chain.state()));
                }
                Ok(trace)
            })
            .collect::<Result<_>>()?;
        let nodes: Vec<TiNode> = traces
            .chunks(self.n_chains)
            .enumerate()
            .map(|(i, ch)| {
                let refs: Vec<&[f64]> = ch.iter().map(|t| t.as_slice()).collect();
                TiNode { beta: h * i as f64, mean_energy: estimate(&refs) }
            })
            .collect();
        let simpson = |step: usize| -> (f64, f64) {
            let hh = h * step as f64;
            let m = self.intervals / step;
            let (mut s, mut var) = (0.0, 0.0);
            for k in 0..=m {
                let c = if k == 0 || k == m {
                    1.0
                } else if k % 2 == 1 {
                    4.0
                } else {
                    2.0
                };
                let e = &nodes[k * step].mean_energy;
                let w = hh * c / 3.0;
                s += w * e.mean;
                var += w * w * e.std_err * e.std_err;
            }
            (s, var)
        };
        let (fine, var) = simpson(1);
        let (coarse, _) = simpson(2);
        let z0 = log_z0(model);
        Ok(TiEstimate {
            log_z: z0 - fine,
            std_err: var.sqrt(),
            quadrature_error: (fine - coarse).abs() / 15.0,
            coarse_log_z: z0 - coarse,
            nodes,
        })
    }
}
