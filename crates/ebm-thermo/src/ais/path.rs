//! AIS from a base distribution of its own: the path
//! `E_t = (1 − t) E₀ + t E` from an exactly solvable base `E₀` (known
//! `ln Z₀(β)`, exact draws) to the model at t = 1, every intermediate
//! distribution sampled at β by the model family's own samplers.
//!
//! ```text
//! x_1 ~ p_0 ∝ e^{−β E₀},  ln w = −β Σ_k (t_k − t_{k−1}) (E(x_k) − E₀(x_k)),
//! E[w] = Z(β) / Z₀(β)
//! ```
//!
//! A base close to the target (independent sites fitted to data: the
//! "base-rate" path) needs far fewer steps than the uniform start of
//! [`super::Ais::log_z`]; a continuous space will bring a Gaussian base.

use super::*;
use ebm_core::{
    BinaryModel, Blocks, CategoricalModel, Categories, ChainRng, ContinuousSpace, Domain,
    GradientModel, Reals, StateSpace, check_finite,
};

/// The start of an annealing path: an energy with exact draws and a known
/// `ln Z₀(β)`. The base must not couple units that the target's blocks
/// hold together (independent sites never do), since the path samples with
/// the target's blocks.
pub trait Base<S: StateSpace>: Sync {
    /// `E₀(x)`.
    fn base_energy(&self, x: &[S::Unit]) -> f64;
    /// `ln Σ_x e^{−β E₀(x)}`.
    fn base_log_z(&self, beta: Beta) -> f64;
    /// An exact draw from `p₀ ∝ e^{−β E₀}` into `out`.
    fn base_draw(&self, beta: Beta, rng: &mut ChainRng, out: &mut [S::Unit]);
    /// For a base of independent sites, `E₀(x) = −Σ_i f_i(x_i)`: the fields
    /// `f_i(k)` (unit-major, in the space's value order), which a model's own
    /// AIS kernel ([`EnergyModel::anneal_runs`]) can run the path with;
    /// `None` (the default) for any other base.
    fn site_fields(&self) -> Option<&[f64]> {
        None
    }
}

/// Independent units with a field on every value: `E₀(x) = −Σ_i f_i(x_i)`,
/// for any finite space (binary or categorical).
#[derive(Debug, Clone, PartialEq)]
pub struct IndependentSites<S> {
    space: S,
    /// `fields[offset[i] + k]` = f_i(k-th value).
    fields: Vec<f64>,
    offset: Vec<usize>,
}

impl<S: FiniteSpace + Clone> IndependentSites<S> {
    /// Fields per unit and value (`Σ_i q_i` finite values, unit-major, in
    /// the value order of `space`) for `n` units.
    pub fn new(space: S, n: usize, fields: Vec<f64>) -> Result<Self> {
        let offset: Vec<usize> = (0..n)
            .scan(0, |acc, i| Some(std::mem::replace(acc, *acc + space.n_values(i))))
            .collect();
        let total: usize = (0..n).map(|i| space.n_values(i)).sum();
        ebm_core::check_len("fields (Σ q_i)", total, fields.len())?;
        check_finite("fields", &fields)?;
        Ok(IndependentSites { space, fields, offset })
    }

    /// The independent-site fit of rows `data` (the first `n` units of
    /// states): `f_i(k) = ln(count of k at i + pseudocount)`, so that
    /// `p₀` at β = 1 is the data's per-unit frequencies (smoothed).
    pub fn fit(space: S, n: usize, data: &[S::Unit], pseudocount: f64) -> Result<Self> {
        IndependentSites::fit_weighted(space, n, data, None, pseudocount)
    }

    /// [`IndependentSites::fit`] with row `r` counted `weights[r]` times
    /// (similarity weights of sequence data), all rows once if `None`.
    pub fn fit_weighted(
        space: S,
        n: usize,
        data: &[S::Unit],
        weights: Option<&[f64]>,
        pseudocount: f64,
    ) -> Result<Self> {
        let rows = ebm_core::check_rows("data (rows of n units)", data.len(), n)?;
        ebm_core::validate_rows(&space, data, n)?;
        if let Some(w) = weights {
            ebm_core::check_len("row weights", rows, w.len())?;
            check_finite("row weights", w)?;
        }
        if !(pseudocount.is_finite() && pseudocount > 0.0) {
            return Err(Error::InvalidParameter {
                name: "pseudocount",
                value: pseudocount,
                expected: "finite and > 0",
            });
        }
        let total: usize = (0..n).map(|i| space.n_values(i)).sum();
        let mut counts = vec![pseudocount; total];
        let base = IndependentSites::new(space.clone(), n, vec![0.0; total])?;
        for (r, row) in data.chunks_exact(n).enumerate() {
            let w = weights.map_or(1.0, |w| w[r]);
            for (i, &u) in row.iter().enumerate() {
                counts[base.offset[i] + space.index(i, u)] += w;
            }
        }
        IndependentSites::new(space, n, counts.iter().map(|c| c.ln()).collect())
    }

    /// The fields, unit-major (`Σ q_i` values).
    pub fn fields(&self) -> &[f64] {
        &self.fields
    }

    /// The exact mean log-likelihood at β = 1 of rows `data` (weighted by
    /// `weights` if given): `mean_r [−E₀(x_r)] − ln Z₀(1)`.
    pub fn mean_log_likelihood(&self, data: &[S::Unit], weights: Option<&[f64]>) -> Result<f64> {
        let n = self.n_units();
        let rows = ebm_core::check_rows("data (rows of n units)", data.len(), n)?;
        ebm_core::validate_rows(&self.space, data, n)?;
        if let Some(w) = weights {
            ebm_core::check_len("row weights", rows, w.len())?;
        }
        let (mut total, mut wsum) = (0.0, 0.0);
        for (r, row) in data.chunks_exact(n).enumerate() {
            let w = weights.map_or(1.0, |w| w[r]);
            total -= w * self.energy(row);
            wsum += w;
        }
        Ok(total / wsum - self.base_log_z(Beta::ONE))
    }

    #[inline]
    fn field(&self, i: usize, u: S::Unit) -> f64 {
        self.fields[self.offset[i] + self.space.index(i, u)]
    }
}

impl<S: FiniteSpace + Clone> EnergyModel for IndependentSites<S> {
    type Space = S;
    fn n_units(&self) -> usize {
        self.offset.len()
    }
    fn space(&self) -> &S {
        &self.space
    }
    fn energy(&self, x: &[S::Unit]) -> f64 {
        -x.iter().enumerate().map(|(i, &u)| self.field(i, u)).sum::<f64>()
    }
}

impl BinaryModel for IndependentSites<Domain> {
    #[inline]
    fn flip_delta(&self, x: &[i8], i: usize) -> f64 {
        self.field(i, x[i]) - self.field(i, self.space.flip(x[i]))
    }
}

impl CategoricalModel for IndependentSites<Categories> {
    #[inline]
    fn local_energies(&self, _x: &[u8], i: usize, out: &mut [f64]) {
        let q = self.space.n_values(i);
        for (o, &f) in out[..q].iter_mut().zip(&self.fields[self.offset[i]..]) {
            *o = -f;
        }
    }
}

impl<S: FiniteSpace + Clone> Base<S> for IndependentSites<S> {
    fn base_energy(&self, x: &[S::Unit]) -> f64 {
        self.energy(x)
    }
    fn site_fields(&self) -> Option<&[f64]> {
        Some(&self.fields)
    }
    fn base_log_z(&self, beta: Beta) -> f64 {
        let b = beta.value();
        (0..self.n_units())
            .map(|i| {
                let f = &self.fields[self.offset[i]..self.offset[i] + self.space.n_values(i)];
                let m = f.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                b * m + f.iter().map(|&x| (b * (x - m)).exp()).sum::<f64>().ln()
            })
            .sum()
    }
    fn base_draw(&self, beta: Beta, rng: &mut ChainRng, out: &mut [S::Unit]) {
        let b = beta.value();
        for (i, o) in out.iter_mut().enumerate() {
            let q = self.space.n_values(i);
            let f = &self.fields[self.offset[i]..self.offset[i] + q];
            let m = f.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let total: f64 = f.iter().map(|&x| (b * (x - m)).exp()).sum();
            let mut u = ebm_core::uniform(rng) * total;
            let mut k = q - 1;
            for (j, &x) in f.iter().enumerate().take(q - 1) {
                u -= (b * (x - m)).exp();
                if u < 0.0 {
                    k = j;
                    break;
                }
            }
            *o = self.space.value(i, k);
        }
    }
}

/// The model at point `t` of the path: `E_t = (1 − t) E₀ + t E`, with the
/// target's space and blocks, as a binary or categorical model when both
/// ends are.
#[derive(Debug)]
pub struct Interpolated<'a, M: ?Sized, B> {
    /// The model at t = 1.
    pub target: &'a M,
    /// The base at t = 0.
    pub base: &'a B,
    /// The path coordinate in [0, 1].
    pub t: f64,
}

impl<M: EnergyModel + ?Sized, B: Base<M::Space> + Sync> EnergyModel for Interpolated<'_, M, B> {
    type Space = M::Space;
    fn n_units(&self) -> usize {
        self.target.n_units()
    }
    fn space(&self) -> &M::Space {
        self.target.space()
    }
    fn energy(&self, x: &[UnitOf<M>]) -> f64 {
        (1.0 - self.t) * self.base.base_energy(x) + self.t * self.target.energy(x)
    }
}

impl<M: BinaryModel + ?Sized, B: BinaryModel + Base<Domain>> BinaryModel
    for Interpolated<'_, M, B>
{
    #[inline]
    fn flip_delta(&self, x: &[i8], i: usize) -> f64 {
        (1.0 - self.t) * self.base.flip_delta(x, i) + self.t * self.target.flip_delta(x, i)
    }
    fn blocks(&self) -> Blocks {
        self.target.blocks()
    }
}

impl<M: CategoricalModel + ?Sized, B: CategoricalModel + Base<Categories>> CategoricalModel
    for Interpolated<'_, M, B>
{
    fn local_energies(&self, x: &[u8], i: usize, out: &mut [f64]) {
        let q = self.target.space().n_values(i);
        // the base's energies: on the stack for the usual alphabets (no
        // zeroing of a 256-entry array per unit update)
        let mut small = [0.0; 32];
        let mut large = Vec::new();
        let b: &mut [f64] = if q <= small.len() {
            &mut small[..q]
        } else {
            large.resize(q, 0.0);
            &mut large
        };
        self.base.local_energies(x, i, b);
        self.target.local_energies(x, i, &mut out[..q]);
        for (o, &e0) in out[..q].iter_mut().zip(&b[..q]) {
            *o = (1.0 - self.t) * e0 + self.t * *o;
        }
    }
    fn blocks(&self) -> Blocks {
        self.target.blocks()
    }
}

/// A [`Base`] on a continuous space (ℝⁿ, the torus) whose gradient can be
/// added into another's: what the path's gradient needs without a second
/// buffer.
pub trait GradientBase<S: ContinuousSpace>: Base<S> {
    /// `grad += weight · ∇E₀(x)`.
    fn add_base_gradient(&self, x: &[f64], weight: f64, grad: &mut [f64]);
}

impl<M: GradientModel + ?Sized, B: GradientBase<M::Space> + Sync> GradientModel
    for Interpolated<'_, M, B>
{
    /// `t ∇E + (1 − t) ∇E₀`, accumulated in `grad` (no allocation).
    fn energy_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let e1 = self.target.energy_and_gradient(x, grad);
        grad.iter_mut().for_each(|g| *g *= self.t);
        self.base.add_base_gradient(x, 1.0 - self.t, grad);
        (1.0 - self.t) * self.base.base_energy(x) + self.t * e1
    }
}

/// Independent Gaussian units: `E₀(x) = Σ_i (x_i − m_i)² / (2 s_i²)`, the
/// proper base of AIS on ℝⁿ (`ln Z₀(β) = Σ_i ½ ln(2π s_i² / β)`).
#[derive(Debug, Clone, PartialEq)]
pub struct DiagonalGaussian {
    mean: Vec<f64>,
    std: Vec<f64>,
}

impl DiagonalGaussian {
    /// Means and standard deviations (finite; deviations > 0).
    pub fn new(mean: Vec<f64>, std: Vec<f64>) -> Result<Self> {
        ebm_core::check_len("standard deviations", mean.len(), std.len())?;
        check_finite("mean", &mean)?;
        if let Some(&s) = std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(Error::InvalidParameter {
                name: "standard deviation",
                value: s,
                expected: "finite and > 0",
            });
        }
        Ok(DiagonalGaussian { mean, std })
    }

    /// The moment fit of rows `data` (n values each): their means and
    /// standard deviations (floored at `min_std`).
    pub fn fit(data: &[f64], n: usize, min_std: f64) -> Result<Self> {
        let rows = ebm_core::check_rows("data (rows of n values)", data.len(), n)? as f64;
        check_finite("data", data)?;
        let mut mean = vec![0.0; n];
        data.chunks_exact(n).for_each(|r| mean.iter_mut().zip(r).for_each(|(m, x)| *m += x / rows));
        let mut var = vec![0.0; n];
        for r in data.chunks_exact(n) {
            for ((v, x), m) in var.iter_mut().zip(r).zip(&mean) {
                *v += (x - m) * (x - m) / rows;
            }
        }
        DiagonalGaussian::new(mean, var.iter().map(|v| v.sqrt().max(min_std)).collect())
    }
}

impl EnergyModel for DiagonalGaussian {
    type Space = Reals;
    fn n_units(&self) -> usize {
        self.mean.len()
    }
    fn space(&self) -> &Reals {
        &Reals
    }
    fn energy(&self, x: &[f64]) -> f64 {
        x.iter()
            .zip(&self.mean)
            .zip(&self.std)
            .map(|((x, m), s)| (x - m) * (x - m) / (2.0 * s * s))
            .sum()
    }
}

impl GradientModel for DiagonalGaussian {
    fn energy_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        for (((g, x), m), s) in grad.iter_mut().zip(x).zip(&self.mean).zip(&self.std) {
            *g = (x - m) / (s * s);
        }
        self.energy(x)
    }
}

impl GradientBase<Reals> for DiagonalGaussian {
    fn add_base_gradient(&self, x: &[f64], weight: f64, grad: &mut [f64]) {
        for (((g, x), m), s) in grad.iter_mut().zip(x).zip(&self.mean).zip(&self.std) {
            *g += weight * ((x - m) / (s * s));
        }
    }
}

impl Base<Reals> for DiagonalGaussian {
    fn base_energy(&self, x: &[f64]) -> f64 {
        self.energy(x)
    }
    fn base_log_z(&self, beta: Beta) -> f64 {
        self.std.iter().map(|s| 0.5 * (std::f64::consts::TAU * s * s / beta.value()).ln()).sum()
    }
    fn base_draw(&self, beta: Beta, rng: &mut ChainRng, out: &mut [f64]) {
        let scale = 1.0 / beta.value().sqrt();
        for ((o, m), s) in out.iter_mut().zip(&self.mean).zip(&self.std) {
            *o = m + s * scale * ebm_core::standard_normal(rng);
        }
    }
}
