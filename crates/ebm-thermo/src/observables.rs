//! Nonlinear observables with honest errors: the block jackknife over
//! recorded samples, and the quantities of critical phenomena built on it
//! (Binder cumulant, susceptibility, heat capacity, second-moment
//! correlation length).
//!
//! A *primary* observable is a number per recorded sample (energy per unit,
//! m², …); a *derived* one is a function of the primaries' means, f(⟨A⟩,
//! ⟨B⟩, …), such as U₄ = 1 − ⟨m⁴⟩/3⟨m²⟩². Its error comes from the
//! **block jackknife**: each chain is cut into blocks of b = ⌈10τ⌉ samples
//! (τ the largest integrated autocorrelation time of the primaries: block
//! means of an AR(1) series then carry ≥ 95% of the asymptotic variance,
//! where b = 2τ would understate the error by ~15%); f is recomputed with each block left
//! out, f_(j), and
//!
//! ```text
//! σ_f² = (B − 1)/B · Σ_j (f_(j) − f̄)²,   B blocks in all chains together.
//! ```
//!
//! A user adds an observable in two lines: a primary column in the
//! recording, and a closure over the means.
//!
//! ```
//! use ebm_thermo::observables::Samples;
//! // two chains of 4 samples of (x, x²)
//! let values = [1.0, 1.0, 2.0, 4.0, 3.0, 9.0, 2.0, 4.0, 0.0, 0.0, 1.0, 1.0, 2.0, 4.0, 1.0, 1.0];
//! let s = Samples::new(&values, 2, 2)?;
//! let variance = s.jackknife(|m| m[1] - m[0] * m[0]);
//! assert!((variance.mean - (24.0 / 8.0 - (12.0f64 / 8.0).powi(2))).abs() < 1e-12);
//! assert!(variance.std_err > 0.0);
//! # Ok::<(), ebm_core::Error>(())
//! ```

use crate::diagnostics::tau_int;
use ebm_core::{Error, Result};

/// A value with its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    /// The estimate (f of the means over all samples).
    pub mean: f64,
    /// Its jackknife standard error.
    pub std_err: f64,
}

/// Recorded samples of k primary observables from several chains, laid out
/// chain-major as the chain runner's traces are: `values[(c · n + t) · k + j]`
/// is observable j of chain c at sample t.
#[derive(Debug, Clone)]
pub struct Samples<'a> {
    values: &'a [f64],
    n_chains: usize,
    n: usize,
    k: usize,
    block: usize,
}

impl<'a> Samples<'a> {
    /// Wraps `values` (`n_chains` chains of k = `n_observables` columns),
    /// choosing the block length b = ⌈10 τ_max⌉ (τ in samples, the largest
    /// over the columns), shortened if needed so that there are at least 16
    /// blocks in all (a run that short gets errors that are too small by up
    /// to the factor the docs above quantify: run longer).
    ///
    /// Errors: no chains or columns, a length that is not a whole number of
    /// samples per chain, fewer than 2 samples per chain, non-finite values.
    pub fn new(values: &'a [f64], n_chains: usize, n_observables: usize) -> Result<Self> {
        let (m, k) = (n_chains, n_observables);
        if m == 0 || k == 0 || !values.len().is_multiple_of(m * k) {
            return Err(Error::ShapeMismatch {
                what: "samples (chains × samples × observables)",
                expected: m.max(1) * k.max(1) * (values.len() / (m.max(1) * k.max(1))).max(1),
                found: values.len(),
            });
        }
        let n = values.len() / (m * k);
        if n < 2 {
            return Err(Error::InvalidParameter {
                name: "samples per chain",
                value: n as f64,
                expected: "≥ 2",
            });
        }
        ebm_core::check_finite("samples", values)?;
        let mut s = Samples { values, n_chains: m, n, k, block: 1 };
        let tau = (0..k).map(|j| s.tau(j)).fold(1.0, f64::max);
        let max_block = (n * m / 16).max(1).min(n);
        s.block = ((10.0 * tau).ceil() as usize).clamp(1, max_block);
        Ok(s)
    }

    /// Series j of chain c.
    pub fn series(&self, c: usize, j: usize) -> impl Iterator<Item = f64> + '_ {
        let chain = &self.values[c * self.n * self.k..][..self.n * self.k];
        chain.chunks_exact(self.k).map(move |row| row[j])
    }

    /// τ_int of column j, pooled over chains (in samples).
    pub fn tau(&self, j: usize) -> f64 {
        let chains: Vec<Vec<f64>> =
            (0..self.n_chains).map(|c| self.series(c, j).collect()).collect();
        let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
        tau_int(&refs)
    }

    /// The block length b in samples.
    pub fn block_len(&self) -> usize {
        self.block
    }

    /// The number of jackknife blocks B (⌊n/b⌋ per chain; a chain's last
    /// partial block is dropped).
    pub fn n_blocks(&self) -> usize {
        self.n_chains * (self.n / self.block)
    }

    /// The means of the columns over all samples (those in whole blocks).
    pub fn means(&self) -> Vec<f64> {
        let (sums, count) = self.block_sums();
        let total: Vec<f64> = (0..self.k).map(|j| sums.iter().map(|b| b[j]).sum()).collect();
        total.iter().map(|t| t / (count * sums.len()) as f64).collect()
    }

    /// Per-block column sums, and the samples per block.
    fn block_sums(&self) -> (Vec<Vec<f64>>, usize) {
        let (b, k) = (self.block, self.k);
        let per_chain = self.n / b;
        let mut out = Vec::with_capacity(self.n_chains * per_chain);
        for c in 0..self.n_chains {
            let chain = &self.values[c * self.n * k..][..self.n * k];
            for blk in chain.chunks_exact(b * k).take(per_chain) {
                let mut sum = vec![0.0; k];
                for row in blk.chunks_exact(k) {
                    for (s, v) in sum.iter_mut().zip(row) {
                        *s += v;
                    }
                }
                out.push(sum);
            }
        }
        (out, b)
    }

    /// f of the column means, with its block-jackknife error. A non-finite
    /// f on the whole sample gives a non-finite mean and error (the caller
    /// sees it, nothing is hidden); non-finite leave-one-out values are
    /// skipped in the error.
    pub fn jackknife(&self, f: impl Fn(&[f64]) -> f64) -> Measured {
        let (sums, b) = self.block_sums();
        let n_blocks = sums.len();
        let k = self.k;
        let total: Vec<f64> = (0..k).map(|j| sums.iter().map(|s| s[j]).sum()).collect();
        let all = (n_blocks * b) as f64;
        let full = f(&total.iter().map(|t| t / all).collect::<Vec<_>>());
        if n_blocks < 2 {
            return Measured { mean: full, std_err: f64::NAN };
        }
        let rest = ((n_blocks - 1) * b) as f64;
        let mut means = vec![0.0; k];
        let loo: Vec<f64> = sums
            .iter()
            .map(|s| {
                for j in 0..k {
                    means[j] = (total[j] - s[j]) / rest;
                }
                f(&means)
            })
            .filter(|v| v.is_finite())
            .collect();
        let nb = loo.len() as f64;
        let bar = loo.iter().sum::<f64>() / nb;
        let var = (nb - 1.0) / nb * loo.iter().map(|v| (v - bar).powi(2)).sum::<f64>();
        Measured { mean: full, std_err: var.sqrt() }
    }
}

/// The columns [`critical`] reads, in this order, per recorded sample.
pub const CRITICAL_COLUMNS: [&str; 6] =
    ["energy_per_unit", "abs_magnetization", "m2", "m4", "energy_sq_per_unit2", "lowest_mode"];

/// One recorded sample in the columns of [`CRITICAL_COLUMNS`], from
/// e = E/N, m² and the structure factor at k_min (0 when there is none):
/// `[e, √m², m², m⁴, e², lowest_mode]`.
///
/// ```
/// use ebm_thermo::observables::critical_row;
/// assert_eq!(critical_row(-1.5, 0.25, 3.0), [-1.5, 0.5, 0.25, 0.0625, 2.25, 3.0]);
/// ```
pub fn critical_row(energy_per_unit: f64, magnetization_sq: f64, lowest_mode: f64) -> [f64; 6] {
    let (e, m2) = (energy_per_unit, magnetization_sq);
    [e, m2.sqrt(), m2, m2 * m2, e * e, lowest_mode]
}

/// The observables of a finite-size-scaling study, each with its
/// block-jackknife error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Critical {
    /// ⟨E⟩/N.
    pub energy_per_unit: Measured,
    /// ⟨|m|⟩.
    pub abs_magnetization: Measured,
    /// ⟨m²⟩.
    pub magnetization_sq: Measured,
    /// ⟨m⁴⟩.
    pub magnetization_4: Measured,
    /// U₄ = 1 − ⟨m⁴⟩ / (3⟨m²⟩²).
    pub binder: Measured,
    /// χ = βN(⟨m²⟩ − ⟨|m|⟩²).
    pub susceptibility: Measured,
    /// χ' = βN⟨m²⟩ (the symmetric-phase susceptibility).
    pub susceptibility_full: Measured,
    /// C/N = β² N (⟨e²⟩ − ⟨e⟩²), e = E/N.
    pub heat_capacity_per_unit: Measured,
    /// ξ₂ = √(χ(0)/χ(k_min) − 1) / (2 sin(k_min/2)), with χ(0) = N⟨m²⟩ and
    /// χ(k_min) = ⟨lowest_mode⟩; `None` when no wave vector was given.
    pub correlation_length: Option<Measured>,
}

/// The [`Critical`] observables from samples recorded with the columns of
/// [`CRITICAL_COLUMNS`]: e = E/N, |m|, m², m⁴, e², and the structure factor
/// at the smallest wave vector, S(k) = |Σ_x m_x e^{ik·x}|²/N (any value when
/// `k_min` is `None`). `beta` is the inverse temperature, `n` the number of
/// units, `k_min` = 2π/L.
pub fn critical(s: &Samples<'_>, beta: f64, n: usize, k_min: Option<f64>) -> Critical {
    let nf = n as f64;
    Critical {
        energy_per_unit: s.jackknife(|m| m[0]),
        abs_magnetization: s.jackknife(|m| m[1]),
        magnetization_sq: s.jackknife(|m| m[2]),
        magnetization_4: s.jackknife(|m| m[3]),
        binder: s.jackknife(|m| 1.0 - m[3] / (3.0 * m[2] * m[2])),
        susceptibility: s.jackknife(|m| beta * nf * (m[2] - m[1] * m[1])),
        susceptibility_full: s.jackknife(|m| beta * nf * m[2]),
        heat_capacity_per_unit: s.jackknife(|m| beta * beta * nf * (m[4] - m[0] * m[0])),
        correlation_length: k_min.map(|k| {
            s.jackknife(|m| {
                let ratio = nf * m[2] / m[5];
                (ratio - 1.0).max(0.0).sqrt() / (2.0 * (k / 2.0).sin())
            })
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebm_core::{Purpose, Seed, standard_normal};

    /// An AR(1) series x_t = ρ x_{t−1} + √(1−ρ²) ε_t has τ = (1+ρ)/(1−ρ):
    /// the jackknife error of its mean must match √(τ/N) within its own
    /// uncertainty, and a naive (b = 1) error would be √τ too small.
    #[test]
    fn jackknife_error_of_a_correlated_mean_matches_the_closed_form() {
        let rho: f64 = 0.8;
        let (m, n) = (8, 20_000);
        let mut values = Vec::with_capacity(m * n);
        for c in 0..m as u64 {
            let mut rng = Seed(3).stream(Purpose::SAMPLING, c);
            let mut x = standard_normal(&mut rng);
            for _ in 0..n {
                x = rho * x + (1.0 - rho * rho).sqrt() * standard_normal(&mut rng);
                values.push(x);
            }
        }
        let s = Samples::new(&values, m, 1).unwrap();
        let est = s.jackknife(|v| v[0]);
        let tau = (1.0 + rho) / (1.0 - rho);
        let exact = (tau / (m * n) as f64).sqrt();
        // the error of an error from B blocks is ≈ 1/√(2B); allow 4 of them
        let rel = 4.0 / (2.0 * s.n_blocks() as f64).sqrt();
        assert!((est.std_err / exact - 1.0).abs() < rel + 0.05, "{} vs {exact}", est.std_err);
        assert!(est.mean.abs() < 5.0 * exact);
        assert!(s.block_len() >= 85, "b = {}", s.block_len());
    }

    /// The jackknife of a nonlinear function (the variance, ⟨x²⟩ − ⟨x⟩²) of
    /// i.i.d. normals: mean 1, error √(2/N).
    #[test]
    fn jackknife_of_a_nonlinear_function_has_the_delta_method_error() {
        let n = 40_000;
        let mut rng = Seed(4).stream(Purpose::SAMPLING, 0);
        let mut values = Vec::new();
        for _ in 0..n {
            let x = standard_normal(&mut rng);
            values.extend([x, x * x]);
        }
        let s = Samples::new(&values, 1, 2).unwrap();
        let var = s.jackknife(|m| m[1] - m[0] * m[0]);
        let err = (2.0 / n as f64).sqrt();
        assert!((var.mean - 1.0).abs() < 5.0 * err, "{var:?}");
        assert!((var.std_err / err - 1.0).abs() < 0.25, "{var:?} vs {err}");
    }

    #[test]
    fn bad_shapes_are_typed_errors() {
        assert!(Samples::new(&[1.0, 2.0, 3.0], 2, 1).is_err());
        assert!(Samples::new(&[1.0], 1, 1).is_err());
        assert!(Samples::new(&[1.0, f64::NAN], 1, 1).is_err());
        assert!(Samples::new(&[], 0, 1).is_err());
    }
}
