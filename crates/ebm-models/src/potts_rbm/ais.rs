//! AIS for the categorical RBM along the base-rate path, hidden units summed
//! analytically (Salakhutdinov & Murray 2008, for q categories):
//!
//! ```text
//! p*_t(v) = exp(β[(1 − t) Σ_i g⁰_i(v_i) + t Σ_i g_i(v_i)]) Π_j (1 + e^{β t I_j(v)})
//! ```
//!
//! from the independent-site base `p_0(v) = Π_i softmax(β g⁰_i)(v_i)`
//! (`ln Z_0 = Σ_i ln Σ_k e^{β g⁰_ik} + n_h ln 2`; g⁰ from data frequencies,
//! or zero for the uniform base) to the model at t = 1. Each step is one
//! Gibbs sweep of the joint chain at t (h | v Bernoulli, v | h a softmax per
//! site); run r draws from `seed.stream(Purpose::AIS, r)`, runs are
//! independent and parallel, so the estimate is bit-identical for any
//! thread count.

use super::PottsRbm;
use crate::linalg::{sigmoid, softplus};
use ebm_core::Categories;
use ebm_core::{Beta, Purpose, Result, Seed, check_len, uniform};
use ebm_thermo::ais::{
    IndependentSites, LogLikelihoodEstimate, LogZEstimate, Schedule, path_betas,
};
use rayon::prelude::*;

/// Draws index k with probability ∝ exp(a_k) from one uniform.
fn draw_softmax<R: ebm_core::rand_core::Rng + ?Sized>(a: &[f64], rng: &mut R) -> usize {
    let m = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = a.iter().map(|&x| (x - m).exp()).sum();
    let mut u = uniform(rng) * total;
    for (k, &x) in a.iter().enumerate() {
        u -= (x - m).exp();
        if u < 0.0 {
            return k;
        }
    }
    a.len() - 1
}

fn log_sum_exp(a: &[f64]) -> f64 {
    let m = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + a.iter().map(|&x| (x - m).exp()).sum::<f64>().ln()
}

impl PottsRbm {
    /// The base fields `g⁰_i(k) = ln(frequency of k at site i + pseudocount)`
    /// of visible rows `data` (the independent-site model), for
    /// [`PottsRbm::ais_log_z`].
    pub fn base_fields(&self, data: &[u8], pseudocount: f64) -> Result<Vec<f64>> {
        let space = Categories::uniform(self.q, self.nv)?;
        Ok(IndependentSites::fit(space, self.nv, data, pseudocount)?.fields().to_vec())
    }

    /// ln Z(β) by AIS from the independent-site base with fields `base`
    /// (n_v·q values, e.g. [`PottsRbm::base_fields`]; `None`: uniform), over
    /// `schedule`'s β grid read as t ∈ [0, 1], `n_runs` runs.
    ///
    /// ```
    /// use ebm_core::{Beta, Seed};
    /// use ebm_models::potts_rbm::PottsRbm;
    /// use ebm_thermo::ais::Schedule;
    /// let m = PottsRbm::random(6, 5, 4, 0.8, Seed(2))?;
    /// let est = m.ais_log_z(None, Beta::ONE, &Schedule::Linear(300), 64, Seed(1))?;
    /// assert!(est.contains(m.exact_log_z(Beta::ONE)?), "{est:?}");
    /// # Ok::<(), ebm_core::Error>(())
    /// ```
    pub fn ais_log_z(
        &self,
        base: Option<&[f64]>,
        beta: Beta,
        schedule: &Schedule,
        n_runs: usize,
        seed: Seed,
    ) -> Result<LogZEstimate> {
        let (nv, nh, q) = (self.nv, self.nh, self.q);
        let zeros = vec![0.0; nv * q];
        let g0 = base.unwrap_or(&zeros);
        check_len("base fields (n_v·q)", nv * q, g0.len())?;
        ebm_core::check_finite("base fields", g0)?;
        if n_runs == 0 {
            return Err(ebm_core::Error::InvalidParameter {
                name: "n_runs",
                value: 0.0,
                expected: "≥ 1",
            });
        }
        let b = beta.value();
        let path = path_betas(schedule, Beta::ONE, false)?;
        let log_z0: f64 = (0..nv)
            .map(|i| log_sum_exp(&g0[i * q..(i + 1) * q].iter().map(|x| b * x).collect::<Vec<_>>()))
            .sum::<f64>()
            + nh as f64 * std::f64::consts::LN_2;
        let (w, g, c) = (self.weights(), self.fields(), self.hidden_bias());
        // log p*_t(v) from the visible row's fields and hidden inputs
        let log_star = |t: f64, v: &[u8], input: &[f64]| -> f64 {
            let mut s = 0.0;
            for (i, &vi) in v.iter().enumerate() {
                let r = i * q + usize::from(vi);
                s += b * ((1.0 - t) * g0[r] + t * g[r]);
            }
            s + input.iter().map(|&x| softplus(b * t * x)).sum::<f64>()
        };
        let lw: Vec<f64> = (0..n_runs as u64)
            .into_par_iter()
            .map(|r| {
                let mut rng = seed.stream(Purpose::AIS, r);
                let mut v = vec![0u8; nv];
                let mut a = vec![0.0; q];
                for (i, vi) in v.iter_mut().enumerate() {
                    a.iter_mut().zip(&g0[i * q..(i + 1) * q]).for_each(|(x, &y)| *x = b * y);
                    *vi = draw_softmax(&a, &mut rng) as u8;
                }
                let mut input = vec![0.0; nh];
                let mut h = vec![0u8; nh];
                let mut lw = 0.0;
                self.hidden_input(&v, &mut input);
                let last = path.len() - 1;
                for k in 1..=last {
                    let (t0, t1) = (path[k - 1], path[k]);
                    lw += log_star(t1, &v, &input) - log_star(t0, &v, &input);
                    if k == last {
                        break;
                    }
                    // one Gibbs sweep at t1: h | v, then v | h
                    for (hj, &x) in h.iter_mut().zip(&input) {
                        *hj = u8::from(uniform(&mut rng) < sigmoid(b * t1 * x));
                    }
                    for (i, vi) in v.iter_mut().enumerate() {
                        for (kk, ak) in a.iter_mut().enumerate() {
                            let row = i * q + kk;
                            let wh: f64 = w[row * nh..(row + 1) * nh]
                                .iter()
                                .zip(&h)
                                .map(|(&x, &hj)| if hj == 1 { x } else { 0.0 })
                                .sum();
                            *ak = b * ((1.0 - t1) * g0[row] + t1 * (g[row] + wh));
                        }
                        *vi = draw_softmax(&a, &mut rng) as u8;
                    }
                    self.hidden_input(&v, &mut input);
                }
                let _ = c;
                lw
            })
            .collect();
        LogZEstimate::from_log_weights(log_z0, &lw)
    }

    /// The mean log-likelihood of visible rows `data` (weights as in
    /// [`PottsRbm::mean_log_marginal`]) with ln Z from
    /// [`PottsRbm::ais_log_z`]: an estimate with the interval of ln Ẑ.
    pub fn ais_log_likelihood(
        &self,
        data: &[u8],
        weights: Option<&[f64]>,
        log_z: &LogZEstimate,
        beta: Beta,
    ) -> Result<LogLikelihoodEstimate> {
        Ok(LogLikelihoodEstimate::new(self.mean_log_marginal(data, weights, beta)?, log_z))
    }
}
