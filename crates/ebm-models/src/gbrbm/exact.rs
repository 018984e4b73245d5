//! Exact ln Z of a Gaussian–Bernoulli RBM: the visible units integrate in
//! closed form for each hidden configuration, and the 2^n_hidden hidden
//! configurations are summed by a Gray-code walk.
//!
//! ```text
//! ∫ e^{−βE(v,h)} dv = Π_i √(2π σ_i² / β) · e^{β S(h)},
//! S(h) = c·h + Σ_i (μ_i(h)² − b_i²) / 2σ_i²,   μ(h) = b + W h
//! ln Z(β) = (n_v / 2) ln(2π / β) + ½ Σ_i z_i + ln Σ_h e^{β S(h)}
//! ```

use super::GaussianRbm;
use ebm_core::{Beta, Error, Result, check_finite};
use rayon::prelude::*;

/// The largest hidden layer [`GaussianRbm::exact_log_z`] sums over (2^20
/// hidden configurations, each O(n_visible)).
pub const MAX_EXACT_HIDDEN: usize = 20;

/// High bits fixed per parallel piece of the walk: 2^6 pieces, combined in
/// order, so the sum does not depend on the number of threads.
const SPLIT_BITS: usize = 6;

impl GaussianRbm {
    /// ln Z(β), exactly (module docs of `exact.rs`): a Gray-code walk over
    /// the hidden layer, in 2^6 fixed pieces summed in order by log-sum-exp.
    ///
    /// Errors: a hidden layer larger than [`MAX_EXACT_HIDDEN`]
    /// (`Error::TooManyStates`).
    pub fn exact_log_z(&self, beta: Beta) -> Result<f64> {
        let (nv, nh) = (self.nv, self.nh);
        if nh > MAX_EXACT_HIDDEN {
            return Err(Error::TooManyStates {
                ln_states: nh as f64 * std::f64::consts::LN_2,
                max: 1u64 << MAX_EXACT_HIDDEN,
            });
        }
        let b = beta.value();
        let split = SPLIT_BITS.min(nh);
        let low = nh - split;
        // columns of W, contiguous, for the walk's updates μ ± W[:, j]
        let w = self.weights();
        let cols: Vec<f64> = (0..nh).flat_map(|j| (0..nv).map(move |i| w[i * nh + j])).collect();
        let bias = self.visible_bias();
        let c = self.hidden_bias();
        let b2: f64 = bias.iter().zip(&self.inv_var).map(|(bi, iv)| 0.5 * iv * bi * bi).sum();
        let pieces: Vec<(f64, f64)> = (0..1u64 << split)
            .into_par_iter()
            .map(|high| {
                // the high bits of this piece are fixed: h_{low + k} = bit k of `high`
                let mut h = vec![0u8; nh];
                let mut mu = bias.to_vec();
                let mut ch = 0.0;
                for k in 0..split {
                    if high >> k & 1 == 1 {
                        let j = low + k;
                        h[j] = 1;
                        ch += c[j];
                        mu.iter_mut().zip(&cols[j * nv..][..nv]).for_each(|(m, w)| *m += w);
                    }
                }
                let score = |mu: &[f64], ch: f64| {
                    let q: f64 = mu.iter().zip(&self.inv_var).map(|(m, iv)| 0.5 * iv * m * m).sum();
                    b * (ch + q - b2)
                };
                let mut acc = Lse::default();
                acc.add(score(&mu, ch));
                for step in 1..1u64 << low {
                    let j = step.trailing_zeros() as usize;
                    let sign = if h[j] == 0 { 1.0 } else { -1.0 };
                    h[j] ^= 1;
                    ch += sign * c[j];
                    mu.iter_mut().zip(&cols[j * nv..][..nv]).for_each(|(m, w)| *m += sign * w);
                    acc.add(score(&mu, ch));
                }
                (acc.max, acc.sum)
            })
            .collect();
        let mut total = Lse::default();
        for (m, s) in pieces {
            total.merge(m, s);
        }
        let half_z: f64 = 0.5 * self.log_variances().iter().sum::<f64>();
        Ok(0.5 * nv as f64 * (std::f64::consts::TAU / b).ln() + half_z + total.value())
    }

    /// The exact log-density ln p_β(v) = −β F_β(v) − ln Z(β) of visible
    /// vector `v` (nats; a density on ℝ^{n_v}, so it may be positive).
    pub fn exact_log_likelihood(&self, v: &[f64], beta: Beta) -> Result<f64> {
        let log_z = self.exact_log_z(beta)?;
        Ok(-beta.value() * self.visible_free_energy(v, beta)? - log_z)
    }

    /// The mean exact log-density of the rows of `data` (each `n_visible`
    /// values), computing ln Z once.
    pub fn exact_mean_log_likelihood(&self, data: &[f64], beta: Beta) -> Result<f64> {
        let rows = ebm_core::check_rows("data (rows of n_visible values)", data.len(), self.nv)?;
        check_finite("data", data)?;
        if rows == 0 {
            return Err(Error::ShapeMismatch {
                what: "data rows (at least one)",
                expected: 1,
                found: 0,
            });
        }
        let log_z = self.exact_log_z(beta)?;
        let mut total = 0.0;
        for v in data.chunks_exact(self.nv) {
            total += -beta.value() * self.visible_free_energy(v, beta)? - log_z;
        }
        Ok(total / rows as f64)
    }
}

/// A running log-sum-exp: `ln Σ e^{x_k} = max + ln sum`, `sum = Σ e^{x_k − max}`.
#[derive(Debug, Clone, Copy)]
struct Lse {
    max: f64,
    sum: f64,
}

impl Default for Lse {
    fn default() -> Self {
        Lse { max: f64::NEG_INFINITY, sum: 0.0 }
    }
}

impl Lse {
    fn add(&mut self, x: f64) {
        self.merge(x, 1.0);
    }
    /// Adds `sum · e^{max}`.
    fn merge(&mut self, max: f64, sum: f64) {
        if max <= self.max {
            self.sum += sum * (max - self.max).exp();
        } else {
            self.sum = self.sum * (self.max - max).exp() + sum;
            self.max = max;
        }
    }
    fn value(&self) -> f64 {
        self.max + self.sum.ln()
    }
}
