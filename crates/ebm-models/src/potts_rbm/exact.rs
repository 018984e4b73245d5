//! Exact ln Z of the categorical RBM by summing the smaller layer. Over the
//! hidden layer (the usual case for sequence data): for each
//! of the 2^{n_h} hidden states (Gray-code order, the visible fields updated
//! by one weight column per step), the visible sites are independent
//! softmaxes, `ln Σ_v e^{−βE(v,h)} = β c·h + Σ_i ln Σ_k e^{β F_ik(h)}` with
//! `F_ik(h) = g_i(k) + Σ_j W_ij(k) h_j`. Tasks of consecutive Gray indices
//! (a number depending only on n_h) run in parallel and are reduced in order,
//! so the result is bit-identical for any thread count.

use super::PottsRbm;
use ebm_core::{Beta, Error, Result};
use rayon::prelude::*;

/// The largest hidden layer [`PottsRbm::exact_log_z`] sums (2^24 states).
pub const MAX_EXACT_HIDDEN: usize = 24;

/// Hidden states per task (2^TASK_BITS) and the refresh interval of F.
const TASK_BITS: usize = 12;

/// `ln Σ_k exp(a_k)` in f64, relative to the maximum.
fn log_sum_exp(a: &[f64]) -> f64 {
    let m = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + a.iter().map(|&x| (x - m).exp()).sum::<f64>().ln()
}

/// A running `ln Σ exp` (max-shifted).
#[derive(Clone, Copy)]
struct Lse {
    max: f64,
    sum: f64,
}

impl Lse {
    const EMPTY: Lse = Lse { max: f64::NEG_INFINITY, sum: 0.0 };
    fn push(&mut self, a: f64) {
        if a > self.max {
            self.sum = self.sum * (self.max - a).exp() + 1.0;
            self.max = a;
        } else {
            self.sum += (a - self.max).exp();
        }
    }
    fn merge(self, o: Lse) -> Lse {
        if o.sum == 0.0 {
            return self;
        }
        if self.sum == 0.0 {
            return o;
        }
        let max = self.max.max(o.max);
        Lse { max, sum: self.sum * (self.max - max).exp() + o.sum * (o.max - max).exp() }
    }
    fn value(self) -> f64 {
        self.max + self.sum.ln()
    }
}

impl PottsRbm {
    /// Exact ln Z(β), summing the smaller layer: the 2^{n_h} hidden states
    /// (at most [`MAX_EXACT_HIDDEN`] hidden units, else
    /// [`Error::TooManyUnits`]), or the q^{n_v} visible states when there
    /// are fewer of them.
    pub fn exact_log_z(&self, beta: Beta) -> Result<f64> {
        let (nv, nh, q) = (self.nv, self.nh, self.q);
        // sum over the smaller layer: the q^{n_v} visible states when fewer
        let visible_states = (q as u64).checked_pow(nv as u32);
        if visible_states.is_some_and(|s| s < (1u64 << nh.min(63)) && s <= 1 << MAX_EXACT_HIDDEN) {
            return self.exact_log_z_over_visible(beta);
        }
        if nh > MAX_EXACT_HIDDEN {
            return Err(Error::TooManyUnits { n_units: nh, max: MAX_EXACT_HIDDEN });
        }
        let b = beta.value();
        let (w, g, c) = (self.weights(), self.fields(), self.hidden_bias());
        // W by hidden unit: column j as a contiguous row of n_v·q values
        let mut wt = vec![0.0; nh * nv * q];
        for r in 0..nv * q {
            for j in 0..nh {
                wt[j * nv * q + r] = w[r * nh + j];
            }
        }
        let total = 1u64 << nh;
        let len = total.min(1 << TASK_BITS);
        let n_tasks = total / len;
        let parts: Vec<Lse> = (0..n_tasks)
            .into_par_iter()
            .map(|t| {
                let k0 = t * len;
                let mut h: Vec<bool> = (0..nh).map(|j| ((k0 ^ (k0 >> 1)) >> j) & 1 == 1).collect();
                let field = |h: &[bool], f: &mut Vec<f64>| {
                    f.clear();
                    f.extend_from_slice(g);
                    for (j, _) in h.iter().enumerate().filter(|(_, on)| **on) {
                        f.iter_mut()
                            .zip(&wt[j * nv * q..(j + 1) * nv * q])
                            .for_each(|(a, &x)| *a += x);
                    }
                };
                let mut f = Vec::with_capacity(nv * q);
                field(&h, &mut f);
                let mut scaled = vec![0.0; q];
                let mut acc = Lse::EMPTY;
                let mut visit = |h: &[bool], f: &[f64]| {
                    let mut s: f64 =
                        h.iter().zip(c).filter(|(on, _)| **on).map(|(_, &cj)| b * cj).sum();
                    for site in f.chunks_exact(q) {
                        scaled.iter_mut().zip(site).for_each(|(a, &x)| *a = b * x);
                        s += log_sum_exp(&scaled);
                    }
                    acc.push(s);
                };
                visit(&h, &f);
                for step in 1..len {
                    let k = k0 + step;
                    let j = k.trailing_zeros() as usize;
                    h[j] = !h[j];
                    if step % 1024 == 0 {
                        field(&h, &mut f);
                    } else {
                        let sign = if h[j] { 1.0 } else { -1.0 };
                        f.iter_mut()
                            .zip(&wt[j * nv * q..(j + 1) * nv * q])
                            .for_each(|(a, &x)| *a += sign * x);
                    }
                    visit(&h, &f);
                }
                acc
            })
            .collect();
        let lz = parts.into_iter().fold(Lse::EMPTY, Lse::merge).value();
        if lz.is_finite() {
            Ok(lz)
        } else {
            Err(Error::NonFinite { what: "ln Z of the categorical RBM", index: 0 })
        }
    }

    /// ln Z(β) by summing the q^{n_v} visible states (each with the hidden
    /// layer in closed form, [`PottsRbm::log_marginal`]), in chunks reduced
    /// in order (bit-identical for any thread count).
    fn exact_log_z_over_visible(&self, beta: Beta) -> Result<f64> {
        let (nv, q) = (self.nv, self.q);
        let total = (q as u64).pow(nv as u32);
        let len = total.min(1 << TASK_BITS);
        let parts: Vec<Lse> = (0..total.div_ceil(len))
            .into_par_iter()
            .map(|t| {
                let mut acc = Lse::EMPTY;
                let (mut v, mut input) = (vec![0u8; nv], vec![0.0; self.nh]);
                for code in t * len..(t * len + len).min(total) {
                    let mut c = code;
                    for x in v.iter_mut() {
                        *x = (c % q as u64) as u8;
                        c /= q as u64;
                    }
                    acc.push(self.log_marginal_in(&v, beta.value(), &mut input));
                }
                acc
            })
            .collect();
        let acc = parts.into_iter().fold(Lse::EMPTY, Lse::merge);
        let lz = acc.value();
        if lz.is_finite() {
            Ok(lz)
        } else {
            Err(Error::NonFinite { what: "ln Z of the categorical RBM", index: 0 })
        }
    }

    /// Exact mean log-likelihood of the rows of `data` (weights as in
    /// [`PottsRbm::mean_log_marginal`]): `mean ln p(v) = mean [−βF(v)] − ln Z`.
    pub fn exact_log_likelihood(
        &self,
        data: &[u8],
        weights: Option<&[f64]>,
        beta: Beta,
    ) -> Result<f64> {
        Ok(self.mean_log_marginal(data, weights, beta)? - self.exact_log_z(beta)?)
    }
}
