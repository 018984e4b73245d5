//! AIS on hybrid (real and binary) models: the product base of independent
//! Gaussians and independent bits, and the interpolated model's closed-form
//! conditionals.
//!
//! Along `E_t = (1 − t) E₀ + t E` every unit's conditional stays in its
//! family, with parameters that interpolate linearly: for a real unit
//! `a_t = (1 − t) a₀ + t a`, `η_t = (1 − t) η₀ + t η` (a Gaussian), for a bit
//! `Δ_t = (1 − t) Δ₀ + t Δ` (a Bernoulli). So block Gibbs samples every
//! intermediate distribution exactly, with the target's blocks.

use super::path::{Base, Interpolated};
use ebm_core::{
    Beta, Blocks, ChainRng, EnergyModel, Error, Hybrid, HybridModel, Result, check_finite,
    check_len, check_rows,
};

thread_local! {
    /// The base's conditionals of one row, blended into the target's.
    static BASE: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Independent units on a [`Hybrid`] space: real unit i Gaussian with mean
/// m_i and standard deviation s_i, bit j with field f_j:
///
/// ```text
/// E₀(x) = Σ_i (x_i − m_i)² / 2 s_i² − Σ_j f_j x_j
/// ln Z₀(β) = Σ_i ½ ln(2π s_i² / β) + Σ_j softplus(β f_j)
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianBits {
    mean: Vec<f64>,
    std: Vec<f64>,
    fields: Vec<f64>,
    space: Hybrid,
}

impl GaussianBits {
    /// Means and standard deviations of the real units (finite; deviations
    /// > 0) and fields of the bits (finite).
    pub fn new(mean: Vec<f64>, std: Vec<f64>, fields: Vec<f64>) -> Result<Self> {
        check_len("standard deviations", mean.len(), std.len())?;
        check_finite("means", &mean)?;
        check_finite("bit fields", &fields)?;
        if let Some(&s) = std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(Error::InvalidParameter {
                name: "standard deviation",
                value: s,
                expected: "finite and > 0",
            });
        }
        let space = Hybrid::new(mean.len(), fields.len());
        Ok(GaussianBits { mean, std, fields, space })
    }

    /// The moment fit of the real units to rows `data` (`reals` values each:
    /// their means and standard deviations, floored at `min_std`), with
    /// `bits` fair coins (fields 0).
    pub fn fit(data: &[f64], reals: usize, bits: usize, min_std: f64) -> Result<Self> {
        let rows = check_rows("data (rows of the real units)", data.len(), reals)?;
        check_finite("data", data)?;
        if rows == 0 || !(min_std.is_finite() && min_std > 0.0) {
            return Err(Error::InvalidParameter {
                name: if rows == 0 { "data rows" } else { "minimum standard deviation" },
                value: if rows == 0 { 0.0 } else { min_std },
                expected: if rows == 0 { "≥ 1" } else { "finite and > 0" },
            });
        }
        let n = rows as f64;
        let mut mean = vec![0.0; reals];
        data.chunks_exact(reals)
            .for_each(|r| mean.iter_mut().zip(r).for_each(|(m, x)| *m += x / n));
        let mut var = vec![0.0; reals];
        for r in data.chunks_exact(reals) {
            for ((v, x), m) in var.iter_mut().zip(r).zip(&mean) {
                *v += (x - m) * (x - m) / n;
            }
        }
        let std = var.iter().map(|v| v.sqrt().max(min_std)).collect();
        GaussianBits::new(mean, std, vec![0.0; bits])
    }
}

impl EnergyModel for GaussianBits {
    type Space = Hybrid;
    fn n_units(&self) -> usize {
        self.mean.len() + self.fields.len()
    }
    fn space(&self) -> &Hybrid {
        &self.space
    }
    fn energy(&self, x: &[f64]) -> f64 {
        let (v, h) = x.split_at(self.mean.len());
        let quad: f64 = v
            .iter()
            .zip(&self.mean)
            .zip(&self.std)
            .map(|((x, m), s)| (x - m) * (x - m) / (2.0 * s * s))
            .sum();
        quad - h.iter().zip(&self.fields).map(|(x, f)| x * f).sum::<f64>()
    }
}

impl HybridModel for GaussianBits {
    fn conditionals(&self, _x: &[f64], block: &[usize], out: &mut [f64]) {
        let nr = self.mean.len();
        for (k, &i) in block.iter().enumerate() {
            let (a, eta) = if i < nr {
                let p = 1.0 / (self.std[i] * self.std[i]);
                (p, p * self.mean[i])
            } else {
                (-self.fields[i - nr], 0.0)
            };
            out[2 * k] = a;
            out[2 * k + 1] = eta;
        }
    }
}

impl Base<Hybrid> for GaussianBits {
    fn base_energy(&self, x: &[f64]) -> f64 {
        self.energy(x)
    }
    fn base_log_z(&self, beta: Beta) -> f64 {
        let b = beta.value();
        let gauss: f64 =
            self.std.iter().map(|s| 0.5 * (std::f64::consts::TAU * s * s / b).ln()).sum();
        let softplus = |x: f64| x.max(0.0) + (-x.abs()).exp().ln_1p();
        gauss + self.fields.iter().map(|&f| softplus(b * f)).sum::<f64>()
    }
    fn base_draw(&self, beta: Beta, rng: &mut ChainRng, out: &mut [f64]) {
        let b = beta.value();
        let nr = self.mean.len();
        for (i, o) in out.iter_mut().enumerate() {
            *o = if i < nr {
                self.mean[i] + self.std[i] / b.sqrt() * ebm_core::standard_normal(rng)
            } else {
                let f = self.fields[i - nr];
                let p1 = 1.0 / (1.0 + (-b * f).exp());
                f64::from(u8::from(ebm_core::uniform(rng) < p1))
            };
        }
    }
}

impl<M: HybridModel + ?Sized, B: HybridModel + Base<Hybrid>> HybridModel
    for Interpolated<'_, M, B>
{
    fn conditionals(&self, x: &[f64], block: &[usize], out: &mut [f64]) {
        self.conditionals_batch(x, block, out);
    }

    /// The target's batched conditionals, blended with the base's
    /// (module docs), the base's in a thread-local buffer (no allocation
    /// per sweep once warm).
    fn conditionals_batch(&self, xs: &[f64], block: &[usize], out: &mut [f64]) {
        let (n, w) = (self.target.n_units().max(1), 2 * block.len());
        self.target.conditionals_batch(xs, block, out);
        // taken out of the thread-local and put back, so a base that is
        // itself interpolated (nested use) only allocates, never panics
        let mut base = BASE.with(|b| std::mem::take(&mut *b.borrow_mut()));
        base.clear();
        base.resize(w, 0.0);
        for (x, o) in xs.chunks_exact(n).zip(out.chunks_exact_mut(w.max(1))) {
            self.base.conditionals(x, block, &mut base);
            for (o, b0) in o.iter_mut().zip(&base) {
                *o = (1.0 - self.t) * b0 + self.t * *o;
            }
        }
        BASE.with(|b| *b.borrow_mut() = base);
    }

    fn blocks(&self) -> Blocks {
        self.target.blocks()
    }
}
