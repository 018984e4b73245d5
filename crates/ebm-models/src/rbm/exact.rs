//! Exact ln Z of the RBM by enumeration of its smaller layer (Gray code,
//! log-sum-exp in f64), and exact log-likelihoods.

use super::*;

impl Rbm {
    /// Exact ln Z(β), summing the smaller layer's 2^min(n_visible, n_hidden)
    /// configurations and the other layer analytically:
    /// `ln Z = ln Σ_s exp(β a·s + Σ_l softplus(β (d_l + (W s)_l)))`.
    ///
    /// The configurations are visited in Gray-code order in fixed tasks of
    /// 2^12, each updating the other layer's pre-activations incrementally in
    /// f64 from a fresh start, reduced by log-sum-exp and merged in task order:
    /// the result is bit-identical for any number of rayon threads.
    ///
    /// Errors: [`Error::TooManyUnits`] if the smaller layer exceeds
    /// [`MAX_EXACT_LAYER`].
    pub fn exact_log_z(&self, beta: Beta) -> Result<f64> {
        let k = self.nv.min(self.nh);
        if k > MAX_EXACT_LAYER {
            return Err(Error::TooManyUnits { n_units: k, max: MAX_EXACT_LAYER });
        }
        let (w, b, c) = split(&self.theta, self.nv, self.nh);
        // rows: the small layer's units' weights to every unit of the large layer
        let (rows, a, d) = if self.nh <= self.nv { (self.wt(), c, b) } else { (w, b, c) };
        let task_bits = k.min(LOG_Z_TASK_BITS);
        let n_tasks = 1u64 << (k - task_bits);
        let parts: Vec<(f64, f64)> = (0..n_tasks)
            .into_par_iter()
            .map(|t| log_z_task(rows, a, d, beta.value(), t << task_bits, 1u64 << task_bits))
            .collect();
        let (mut mx, mut sum) = (f64::NEG_INFINITY, 0.0);
        for (m, s) in parts {
            lse_merge(&mut mx, &mut sum, m, s);
        }
        Ok(mx + sum.ln())
    }

    /// The exact mean log-likelihood of `data` (rows of `n_visible` bits):
    /// `(1/N) Σ_r (−β F(v_r)) − ln Z(β)`.
    ///
    /// Errors: data that is empty, not a multiple of `n_visible` long or not
    /// bits, and the errors of [`Rbm::exact_log_z`].
    pub fn exact_log_likelihood(&self, data: &[i8], beta: Beta) -> Result<f64> {
        let rows = check_rows("data", data, self.nv)?;
        let log_z = self.exact_log_z(beta)?;
        let total: f64 = data
            .chunks_exact(self.nv)
            .map(|v| -beta.value() * self.visible_free_energy_unchecked(v, beta))
            .sum();
        Ok(total / rows as f64 - log_z)
    }
}

/// Adds `(m, s)` (a sum `s · e^m`) to the running `(mx, sum)`.
#[inline]
pub(super) fn lse_merge(mx: &mut f64, sum: &mut f64, m: f64, s: f64) {
    if s == 0.0 {
        return;
    }
    if m > *mx {
        *sum = *sum * (*mx - m).exp() + s;
        *mx = m;
    } else {
        *sum += s * (m - *mx).exp();
    }
}

/// `Σ_l softplus(β x_l)` as `Σ max(βx, 0) + ln Π (1 + e^{−β|x|})`: one exp per
/// term, one logarithm per [`SOFTPLUS_PRODUCT`] terms.
#[inline]
pub(super) fn sum_softplus(beta: f64, pre: &[f64]) -> f64 {
    let mut pos = 0.0;
    let mut logs = 0.0;
    for chunk in pre.chunks(SOFTPLUS_PRODUCT) {
        let mut prod = 1.0;
        for &p in chunk {
            let x = beta * p;
            pos += x.max(0.0);
            prod *= 1.0 + (-x.abs()).exp();
        }
        logs += prod.ln();
    }
    pos + logs
}

/// One task of `exact_log_z`: the Gray-code configurations `g(t)` for
/// `t ∈ [start, start + len)` of the small layer, returned as `(max, Σ e^{term − max})`.
pub(super) fn log_z_task(
    rows: &[f64],
    a: &[f64],
    d: &[f64],
    beta: f64,
    start: u64,
    len: u64,
) -> (f64, f64) {
    let m = d.len();
    let gray = |t: u64| t ^ (t >> 1);
    let mut pre = d.to_vec();
    let mut lin = 0.0;
    let g0 = gray(start);
    for (s, &a_s) in a.iter().enumerate() {
        if (g0 >> s) & 1 == 1 {
            axpy(1.0, &rows[s * m..(s + 1) * m], &mut pre);
            lin += a_s;
        }
    }
    let (mut mx, mut sum) = (beta * lin + sum_softplus(beta, &pre), 1.0);
    for t in start + 1..start + len {
        let s = t.trailing_zeros() as usize;
        let sign = if (gray(t) >> s) & 1 == 1 { 1.0 } else { -1.0 };
        axpy(sign, &rows[s * m..(s + 1) * m], &mut pre);
        lin += sign * a[s];
        let term = beta * lin + sum_softplus(beta, &pre);
        if term > mx {
            sum = sum * (mx - term).exp() + 1.0;
            mx = term;
        } else {
            sum += (term - mx).exp();
        }
    }
    (mx, sum)
}
