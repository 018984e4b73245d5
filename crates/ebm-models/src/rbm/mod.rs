//! The Bernoulli–Bernoulli restricted Boltzmann machine.
//!
//! Units are bits; a state is the concatenation `[v, h]` of `n_visible`
//! visible and `n_hidden` hidden units, with energy
//!
//! ```text
//! E(v, h) = −b·v − c·h − vᵀ W h
//! ```
//!
//! (W is `n_visible × n_hidden`). Summing out one layer analytically gives
//!
//! ```text
//! F(v) = −T ln Σ_h e^{−β E(v,h)} = −b·v − T Σ_j softplus(β (c_j + Σ_i v_i W_ij))
//! p(h_j = 1 | v) = σ(β (c_j + Σ_i v_i W_ij)),   p(v_i = 1 | h) = σ(β (b_i + Σ_j W_ij h_j))
//! ```
//!
//! **Precision.** The parameters live in f64 (the master copy returned by
//! [`LogLinear::params`]); every energy, flip delta, free energy, single-vector
//! conditional, single-vector statistic and ln Z is computed from it in f64.
//! f32 mirrors of W, Wᵀ, b and c, refreshed by [`LogLinear::set_params`] (or,
//! in the same pass as the update, by [`Rbm::update_weights`] and
//! [`Rbm::update_biases`]), feed only the batched paths
//! ([`Rbm::hidden_probs_batch`], [`Rbm::visible_probs_batch`],
//! [`LogLinear::add_data_statistics_batch`],
//! [`BinaryModel::block_deltas_batch`], and the kernels specialised trainers
//! build on: [`Rbm::hidden_probs_sparse`], [`Rbm::visible_probs_sparse`],
//! [`Rbm::sparse_outer_difference`], [`Rbm::hidden_probs_dense`],
//! [`Rbm::sparse_dense_outer_difference`]),
//! whose results are therefore accurate to f32 (≈1e−6 relative).
//! [`LogLinear::add_statistics_batch`] also uses f32 GEMM, but on 0/1 values,
//! where the counts it forms are exact integers.
//!
//! **Layout of θ** ([`LogLinear::params`]): `[W row-major (n_visible × n_hidden), b, c]`,
//! with `φ(v, h) = [v_i h_j, v, h]` in the same order.
//!
//! ```
//! use ebm_core::{Beta, EnergyModel, Seed};
//! use ebm_models::rbm::Rbm;
//!
//! let rbm = Rbm::random(6, 3, 0.5, Seed(1))?;
//! let beta = Beta::ONE;
//! // ln Z by summing the 2^3 hidden configurations analytically
//! let log_z = rbm.exact_log_z(beta)?;
//! let ll = rbm.exact_log_likelihood(&[1, 0, 1, 1, 0, 0], beta)?;
//! assert!(ll < 0.0 && log_z.is_finite());
//! # Ok::<(), ebm_core::Error>(())
//! ```

mod conditionals;
mod exact;
mod ti;
mod training;

use crate::linalg::{self, View, axpy, dot_i8, sigmoid, sigmoid_f32, softplus};
pub use crate::linalg::{ActiveSets, Moves, sigmoid_in_place};
use ebm_core::{
    Beta, BinaryModel, Blocks, Domain, EnergyModel, Error, LogLinear, Purpose, Result, Seed,
    check_finite, check_len,
};
use rayon::prelude::*;
use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::ops::Range;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The largest smaller layer [`Rbm::exact_log_z`] sums over (2^26 terms).
pub const MAX_EXACT_LAYER: usize = 26;

/// Number of fixed column blocks of [`Rbm::hidden_probs_dense`].
pub const DENSE_COLUMN_BLOCKS: usize = 4;

/// Width of the column blocks of [`Rbm::hidden_probs_dense`]: `n_hidden /`
/// [`DENSE_COLUMN_BLOCKS`] rounded up to a multiple of 16.
fn dense_column_block(nh: usize) -> usize {
    nh.div_ceil(DENSE_COLUMN_BLOCKS).div_ceil(16) * 16
}

/// Data means are clamped to `[P_MIN, 1 − P_MIN]` before the logit in [`Rbm::init`].
pub const P_MIN: f64 = 1e-3;

/// Standard deviation of the initial weights in [`Rbm::init`] (Hinton's guide).
pub const INIT_WEIGHT_STD: f64 = 0.01;

/// Rows processed together by the batched statistics (bounds scratch memory,
/// and keeps f32 integer counts exact).
const BATCH_ROWS: usize = 1024;

/// log2 of the number of terms one task of [`Rbm::exact_log_z`] sums.
const LOG_Z_TASK_BITS: usize = 12;

/// Factors `1 + e^{−|x|} ∈ (1, 2]` multiplied before one logarithm (2^512 < f64::MAX).
const SOFTPLUS_PRODUCT: usize = 512;

/// A Bernoulli–Bernoulli restricted Boltzmann machine (see the [module docs](self)).
#[derive(Clone)]
pub struct Rbm {
    nv: usize,
    nh: usize,
    /// Master parameters `[W (nv × nh), b (nv), c (nh)]`.
    theta: Vec<f64>,
    /// Wᵀ (nh × nv row-major), so both layers' pre-activations read contiguous
    /// rows. Built eagerly by [`LogLinear::set_params`], lazily after
    /// [`Rbm::update_weights`] (which does not need it).
    wt: OnceLock<Vec<f64>>,
    /// The allocation of a discarded `wt`, reused by the next eager refresh.
    wt_spare: Vec<f64>,
    /// f32 mirror of W (nv × nh row-major), for GEMM and the sparse kernels.
    w32: Vec<f32>,
    /// f32 mirror of Wᵀ (nh × nv row-major), for the sparse kernels.
    wt32: Vec<f32>,
    /// f32 mirror of b.
    b32: Vec<f32>,
    /// f32 mirror of c.
    c32: Vec<f32>,
}

impl fmt::Debug for Rbm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rbm").field("n_visible", &self.nv).field("n_hidden", &self.nh).finish()
    }
}

/// Element types accepted by the batched conditionals: `f32` (any finite
/// values, e.g. probabilities) and `i8` (0/1 bits). Sealed.
pub trait BatchValue: Copy + Sync + sealed::Sealed {
    /// Checks the values (finite for f32, 0/1 for i8).
    fn validate(xs: &[Self]) -> Result<()>;
    /// The values as f32, borrowed when they already are.
    fn to_f32(xs: &[Self]) -> Cow<'_, [f32]>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for i8 {}
}

impl BatchValue for f32 {
    fn validate(xs: &[f32]) -> Result<()> {
        match xs.iter().position(|x| !x.is_finite()) {
            Some(index) => Err(Error::NonFinite { what: "batch", index }),
            None => Ok(()),
        }
    }
    fn to_f32(xs: &[f32]) -> Cow<'_, [f32]> {
        Cow::Borrowed(xs)
    }
}

impl BatchValue for i8 {
    fn validate(xs: &[i8]) -> Result<()> {
        Domain::Bit.validate(xs)
    }
    fn to_f32(xs: &[i8]) -> Cow<'_, [f32]> {
        Cow::Owned(xs.iter().map(|&x| f32::from(x)).collect())
    }
}

fn positive(name: &'static str, n: usize) -> Result<()> {
    if n == 0 {
        Err(Error::InvalidParameter { name, value: 0.0, expected: "≥ 1" })
    } else {
        Ok(())
    }
}

fn product(nv: usize, nh: usize) -> Result<usize> {
    nv.checked_mul(nh).ok_or(Error::InvalidParameter {
        name: "n_visible × n_hidden",
        value: nv as f64 * nh as f64,
        expected: "representable as usize",
    })
}

impl Rbm {
    /// An RBM from weights `w` (row-major `n_visible × n_hidden`), visible biases
    /// `b` (length `n_visible`) and hidden biases `c` (length `n_hidden`).
    ///
    /// Errors: an empty layer, `w.len() ≠ b.len() · c.len()`, or a non-finite value.
    pub fn new(w: Vec<f64>, b: Vec<f64>, c: Vec<f64>) -> Result<Self> {
        let (nv, nh) = (b.len(), c.len());
        positive("n_visible", nv)?;
        positive("n_hidden", nh)?;
        check_len("weights (n_visible × n_hidden)", product(nv, nh)?, w.len())?;
        check_finite("weights", &w)?;
        check_finite("visible biases", &b)?;
        check_finite("hidden biases", &c)?;
        let mut theta = w;
        theta.extend_from_slice(&b);
        theta.extend_from_slice(&c);
        Ok(Self::from_theta(nv, nh, theta))
    }

    /// Builds the mirrors around validated parameters.
    fn from_theta(nv: usize, nh: usize, theta: Vec<f64>) -> Self {
        let mut rbm = Rbm {
            nv,
            nh,
            theta,
            wt: OnceLock::new(),
            wt_spare: Vec::new(),
            w32: vec![0.0; nv * nh],
            wt32: vec![0.0; nv * nh],
            b32: vec![0.0; nv],
            c32: vec![0.0; nh],
        };
        rbm.refresh();
        rbm
    }

    /// Recomputes Wᵀ and the f32 mirrors from θ (no allocation once grown;
    /// blocked transposes in parallel: pure copies, so the result does not
    /// depend on the thread count).
    fn refresh(&mut self) {
        const T: usize = 32;
        let (nv, nh) = (self.nv, self.nh);
        let (w, b, c) = split(&self.theta, nv, nh);
        self.w32.par_chunks_mut(T * nh).zip(w.par_chunks(T * nh)).for_each(|(d, s)| {
            for (d, &s) in d.iter_mut().zip(s) {
                *d = s as f32;
            }
        });
        linalg::transpose_f32(&self.w32, nv, nh, &mut self.wt32);
        let mut wt = self.wt.take().unwrap_or_else(|| std::mem::take(&mut self.wt_spare));
        wt.resize(nv * nh, 0.0);
        transpose_f64(w, nv, nh, &mut wt);
        let _ = self.wt.set(wt);
        for (d, &s) in self.b32.iter_mut().zip(b) {
            *d = s as f32;
        }
        for (d, &s) in self.c32.iter_mut().zip(c) {
            *d = s as f32;
        }
    }

    /// Wᵀ in f64 (nh × nv row-major), built on first use after
    /// [`Rbm::update_weights`].
    fn wt(&self) -> &[f64] {
        self.wt.get_or_init(|| {
            let mut wt = vec![0.0; self.nv * self.nh];
            transpose_f64(self.weights(), self.nv, self.nh, &mut wt);
            wt
        })
    }

    /// An RBM with every weight and bias drawn from N(0, scale²), from
    /// `seed.stream(Purpose::INIT, 0)` (W row-major, then b, then c). For tests.
    pub fn random(n_visible: usize, n_hidden: usize, scale: f64, seed: Seed) -> Result<Self> {
        positive("n_visible", n_visible)?;
        positive("n_hidden", n_hidden)?;
        if !(scale.is_finite() && scale >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "scale",
                value: scale,
                expected: "finite and ≥ 0",
            });
        }
        let n = product(n_visible, n_hidden)? + n_visible + n_hidden;
        let mut theta = vec![0.0; n];
        let mut rng = seed.stream(Purpose::INIT, 0);
        linalg::fill_normal(&mut rng, scale, &mut theta);
        Ok(Self::from_theta(n_visible, n_hidden, theta))
    }

    /// The initialisation of Hinton's practical guide: W ~ N(0, 0.01²) from
    /// `seed.stream(Purpose::INIT, 0)`, hidden biases 0, and visible biases
    /// `b_i = ln(p_i / (1 − p_i))` with `p_i` the mean of unit i over the rows
    /// of `data` (row-major, `n_visible` bits per row), clamped to
    /// `[P_MIN, 1 − P_MIN]`; `b = 0` without data.
    ///
    /// Errors: an empty layer, data whose length is not a positive multiple of
    /// `n_visible`, or data values other than 0/1.
    pub fn init(
        n_visible: usize,
        n_hidden: usize,
        data: Option<&[i8]>,
        seed: Seed,
    ) -> Result<Self> {
        positive("n_visible", n_visible)?;
        positive("n_hidden", n_hidden)?;
        let nw = product(n_visible, n_hidden)?;
        let mut theta = vec![0.0; nw + n_visible + n_hidden];
        let mut rng = seed.stream(Purpose::INIT, 0);
        linalg::fill_normal(&mut rng, INIT_WEIGHT_STD, &mut theta[..nw]);
        if let Some(data) = data {
            let rows = check_rows("data", data, n_visible)?;
            let mut counts = vec![0u64; n_visible];
            for row in data.chunks_exact(n_visible) {
                for (c, &x) in counts.iter_mut().zip(row) {
                    *c += u64::from(x == 1);
                }
            }
            for (bi, &c) in theta[nw..nw + n_visible].iter_mut().zip(&counts) {
                let p = (c as f64 / rows as f64).clamp(P_MIN, 1.0 - P_MIN);
                *bi = (p / (1.0 - p)).ln();
            }
        }
        Ok(Self::from_theta(n_visible, n_hidden, theta))
    }

    /// Number of visible units.
    pub fn n_visible(&self) -> usize {
        self.nv
    }

    /// Number of hidden units.
    pub fn n_hidden(&self) -> usize {
        self.nh
    }

    /// The weights W, row-major `n_visible × n_hidden`.
    pub fn weights(&self) -> &[f64] {
        split(&self.theta, self.nv, self.nh).0
    }

    /// The visible biases b.
    pub fn visible_bias(&self) -> &[f64] {
        split(&self.theta, self.nv, self.nh).1
    }

    /// The hidden biases c.
    pub fn hidden_bias(&self) -> &[f64] {
        split(&self.theta, self.nv, self.nh).2
    }

    /// Row i of W: the weights from visible unit i to every hidden unit.
    #[inline]
    fn w_row(&self, i: usize) -> &[f64] {
        &self.theta[i * self.nh..(i + 1) * self.nh]
    }

    /// Row j of Wᵀ: the weights from hidden unit j to every visible unit.
    #[inline]
    fn wt_row(&self, j: usize) -> &[f64] {
        &self.wt()[j * self.nv..(j + 1) * self.nv]
    }

    /// `c_j + Σ_i v_i W_ij`, in f64.
    #[inline]
    fn hidden_input(&self, v: &[i8], j: usize) -> f64 {
        self.hidden_bias()[j] + dot_i8(self.wt_row(j), v)
    }

    /// `b_i + Σ_j W_ij h_j`, in f64.
    #[inline]
    fn visible_input(&self, h: &[i8], i: usize) -> f64 {
        self.visible_bias()[i] + dot_i8(self.w_row(i), h)
    }

    /// The free energy of visible units, `F(v) = −T ln Σ_h exp(−β E(v, h))
    /// = −b·v − T Σ_j softplus(β (c_j + Σ_i v_i W_ij))`, in f64, finite for any
    /// finite parameters. Errors on a wrong length or non-bit values.
    pub fn visible_free_energy(&self, v: &[i8], beta: Beta) -> Result<f64> {
        check_len("visible units", self.nv, v.len())?;
        Domain::Bit.validate(v)?;
        Ok(self.visible_free_energy_unchecked(v, beta))
    }

    /// The pre-activations `c + vW` are sums of W's rows over the ones of v
    /// (in the order of the units), formed in tiles of hidden units on the
    /// stack: `nnz(v) · n_hidden` additions instead of a dense product.
    fn visible_free_energy_unchecked(&self, v: &[i8], beta: Beta) -> f64 {
        const TILE: usize = 64;
        let (bt, nh) = (beta.value(), self.nh);
        let c = self.hidden_bias();
        let mut sp = 0.0;
        let mut j0 = 0;
        while j0 < nh {
            let w = TILE.min(nh - j0);
            let mut acc = [0.0f64; TILE];
            acc[..w].copy_from_slice(&c[j0..j0 + w]);
            for (i, &vi) in v.iter().enumerate() {
                if vi != 0 {
                    let row = &self.theta[i * nh + j0..i * nh + j0 + w];
                    acc[..w].iter_mut().zip(row).for_each(|(a, &x)| *a += x);
                }
            }
            sp += acc[..w].iter().map(|&x| softplus(bt * x)).sum::<f64>();
            j0 += w;
        }
        -dot_i8(self.visible_bias(), v) - sp / bt
    }

    /// The free energy of hidden units, `F(h) = −T ln Σ_v exp(−β E(v, h))
    /// = −c·h − T Σ_i softplus(β (b_i + Σ_j W_ij h_j))`. Errors on a wrong
    /// length or non-bit values.
    pub fn hidden_free_energy(&self, h: &[i8], beta: Beta) -> Result<f64> {
        check_len("hidden units", self.nh, h.len())?;
        Domain::Bit.validate(h)?;
        let bt = beta.value();
        let sp: f64 = (0..self.nv).map(|i| softplus(bt * self.visible_input(h, i))).sum();
        Ok(-dot_i8(self.hidden_bias(), h) - sp / bt)
    }

    /// The flip deltas of a whole layer (`first..first + out.len()`) from the
    /// other layer's active units: contiguous row updates, O(n · active).
    fn layer_deltas(&self, x: &[i8], visible: bool, out: &mut [f64]) {
        let (v, h) = x.split_at(self.nv);
        let (mine, other, bias) =
            if visible { (v, h, self.visible_bias()) } else { (h, v, self.hidden_bias()) };
        out.copy_from_slice(bias);
        for (k, &o) in other.iter().enumerate() {
            if o != 0 {
                let row = if visible { self.wt_row(k) } else { self.w_row(k) };
                axpy(f64::from(o), row, out);
            }
        }
        for (d, &m) in out.iter_mut().zip(mine) {
            *d *= -f64::from(1 - 2 * m);
        }
    }
}

/// `dst ← srcᵀ` for a row-major `rows × cols` f64 matrix, in parallel over
/// blocks of 32 rows of `dst` (pure copies).
fn transpose_f64(src: &[f64], rows: usize, cols: usize, dst: &mut [f64]) {
    const T: usize = 32;
    dst.par_chunks_mut(T * rows).enumerate().for_each(|(jb, d)| {
        let j0 = jb * T;
        let jn = d.len() / rows;
        for i0 in (0..rows).step_by(T) {
            for i in i0..(i0 + T).min(rows) {
                for (dj, &x) in src[i * cols + j0..i * cols + j0 + jn].iter().enumerate() {
                    d[dj * rows + i] = x;
                }
            }
        }
    });
}

/// `(W, b, c)` of a parameter vector.
#[inline]
fn split(theta: &[f64], nv: usize, nh: usize) -> (&[f64], &[f64], &[f64]) {
    let (w, rest) = theta.split_at(nv * nh);
    let (b, c) = rest.split_at(nv);
    (w, b, c)
}

/// Number of rows of a non-empty data set of bits, validated.
fn check_rows(what: &'static str, data: &[i8], width: usize) -> Result<usize> {
    let rows = check_rows_allow_empty(what, data.len(), width)?;
    if rows == 0 {
        return Err(Error::ShapeMismatch { what, expected: width, found: 0 });
    }
    Domain::Bit.validate(data)?;
    Ok(rows)
}

/// `len / width`, erroring unless `len` is a multiple of `width`.
fn check_rows_allow_empty(what: &'static str, len: usize, width: usize) -> Result<usize> {
    let rows = len / width;
    check_len(what, rows * width, len)?;
    Ok(rows)
}

impl EnergyModel for Rbm {
    type Space = Domain;

    /// Heat-bath block sweeps (block Gibbs) run as the batched AIS kernel of
    /// [`crate::rbm_ais`], from the uniform start or a base of independent
    /// sites (the base-rate path): the hidden layer summed out analytically,
    /// any β, runs advanced in groups. Other rules: `None`.
    fn anneal_runs(&self, runs: &ebm_core::AnnealRuns<'_, i8>) -> Option<Result<Vec<f64>>> {
        crate::rbm_ais::anneal_runs(self, runs)
    }

    /// Thermodynamic integration's chains for heat-bath block sweeps,
    /// batched in groups (the `ti` module); other rules: `None`.
    fn node_traces(&self, runs: &ebm_core::NodeRuns<'_>) -> Option<Result<Vec<Vec<f64>>>> {
        self.ti_traces(runs)
    }

    fn n_units(&self) -> usize {
        self.nv + self.nh
    }

    fn space(&self) -> &Domain {
        &Domain::Bit
    }

    /// `E(v, h) = −b·v − c·h − vᵀ W h` for `x = [v, h]`, in f64.
    fn energy(&self, x: &[i8]) -> f64 {
        let (v, h) = x.split_at(self.nv);
        let mut e = dot_i8(self.hidden_bias(), h);
        for (i, &vi) in v.iter().enumerate() {
            if vi != 0 {
                e += f64::from(vi) * self.visible_input(h, i);
            }
        }
        -e
    }
}

impl BinaryModel for Rbm {
    /// O(other layer): `−(1 − 2 x_i) · (bias_i + input from the other layer)`.
    fn flip_delta(&self, x: &[i8], i: usize) -> f64 {
        let (v, h) = x.split_at(self.nv);
        let field =
            if i < self.nv { self.visible_input(h, i) } else { self.hidden_input(v, i - self.nv) };
        -f64::from(1 - 2 * x[i]) * field
    }

    /// A whole layer (`0..n_visible` or `n_visible..n`, in order) is computed
    /// from the other layer's active units with contiguous row updates; any
    /// other block falls back to per-unit deltas.
    fn block_deltas(&self, x: &[i8], block: &[usize], out: &mut [f64]) {
        let is_range = |first: usize, len: usize| {
            block.len() == len && block.iter().enumerate().all(|(k, &u)| u == first + k)
        };
        if out.len() >= block.len() && is_range(0, self.nv) {
            self.layer_deltas(x, true, &mut out[..self.nv]);
        } else if out.len() >= block.len() && is_range(self.nv, self.nh) {
            self.layer_deltas(x, false, &mut out[..self.nh]);
        } else {
            for (o, &i) in out.iter_mut().zip(block) {
                *o = self.flip_delta(x, i);
            }
        }
    }

    /// A whole layer for a batch of states: the other layer's active units of
    /// every row are gathered into [`ActiveSets`] and the fields
    /// `bias + Σ_{active} W` of all rows are formed at once by the sparse f32
    /// kernel of [`Rbm::hidden_probs_sparse`] (a GEMM with a 0/1 operand,
    /// costing one add per active unit and column); any other block falls
    /// back to the row-by-row default. No allocation once the thread's
    /// scratch has grown.
    ///
    /// **Precision.** The fields are summed in f32 from the f32 mirror of the
    /// parameters, so a delta `Δ = ±(bias + Σ_k W_k)` over K active terms
    /// differs from the f64 [`BinaryModel::block_deltas`] by at most about
    /// `(K + 2) · 2⁻²⁴ · (|bias| + Σ_k |W_k|)` (tested). A heat-bath sampler
    /// flips with probability σ(−βΔ), whose slope is at most β/4, so an error
    /// δ in Δ moves a flip probability by at most β|δ|/4: for weights of
    /// order 1 and a few hundred active units, ~1e−5 β, far below what any
    /// feasible number of samples resolves. Metropolis' `min(1, e^{−βΔ})` has
    /// slope at most β, so its error is at most β|δ|. Samplers using these
    /// deltas therefore sample a distribution within that tolerance of the
    /// exact conditional, and stay exactly reproducible (fixed summation order).
    fn block_deltas_batch(&self, xs: &[i8], block: &[usize], out: &mut [f64]) {
        let (nv, nh) = (self.nv, self.nh);
        let n = nv + nh;
        let is_range = |first: usize, len: usize| {
            block.len() == len && block.iter().enumerate().all(|(k, &u)| u == first + k)
        };
        let visible = if is_range(0, nv) {
            true
        } else if is_range(nv, nh) {
            false
        } else {
            let w = block.len().max(1);
            for (x, o) in xs.chunks_exact(n).zip(out.chunks_exact_mut(w)) {
                self.block_deltas(x, block, o);
            }
            return;
        };
        let rows = xs.len() / n;
        let (width, other, m, bias) =
            if visible { (nv, nh, &self.wt32, &self.b32) } else { (nh, nv, &self.w32, &self.c32) };
        thread_local! {
            static SCRATCH: RefCell<(ActiveSets, Vec<f32>)> = RefCell::new(Default::default());
        }
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            let (sets, field) = &mut *s;
            sets.clear(other);
            for x in xs.chunks_exact(n) {
                sets.push_row(if visible { &x[nv..] } else { &x[..nv] });
            }
            field.resize(rows * width, 0.0);
            linalg::sparse_rows(field, width, linalg::Init::Row(bias), (m, sets), None, 0..rows);
            for ((o, f), x) in
                out.chunks_exact_mut(width).zip(field.chunks_exact(width)).zip(xs.chunks_exact(n))
            {
                let mine = if visible { &x[..nv] } else { &x[nv..] };
                for ((o, &f), &u) in o.iter_mut().zip(f).zip(mine) {
                    *o = -f64::from(1 - 2 * u) * f64::from(f);
                }
            }
        });
    }

    /// The two layers: `[visible units], [hidden units]`.
    fn blocks(&self) -> Blocks {
        let n = self.nv + self.nh;
        Blocks::new(n, vec![(0..self.nv).collect(), (self.nv..n).collect()])
            .unwrap_or_else(|_| Blocks::singletons(n))
    }
}

impl LogLinear for Rbm {
    /// `[W row-major (n_visible × n_hidden), b, c]`.
    fn params(&self) -> &[f64] {
        &self.theta
    }

    /// The weights W (`n_visible × n_hidden`, first in θ); weight decay
    /// applies to them, not to the biases.
    fn n_couplings(&self) -> usize {
        self.nv * self.nh
    }

    fn set_params(&mut self, theta: &[f64]) -> Result<()> {
        check_len("params", self.theta.len(), theta.len())?;
        check_finite("params", theta)?;
        if let Some(&x) = theta.iter().find(|&&x| !training::fits_f32(x)) {
            return Err(Error::InvalidParameter {
                name: "RBM parameter",
                value: x,
                expected: "|θ| ≤ 3.4e38 (the batched paths' f32 mirrors)",
            });
        }
        self.theta.copy_from_slice(theta);
        self.refresh();
        Ok(())
    }

    /// `φ(v, h) = [v_i h_j (row-major), v, h]`.
    fn add_statistics(&self, x: &[i8], weight: f64, out: &mut [f64]) {
        let (nv, nh) = (self.nv, self.nh);
        let (v, h) = x.split_at(nv);
        let (ow, rest) = out.split_at_mut(nv * nh);
        let (ob, oc) = rest.split_at_mut(nv);
        for ((row, ob_i), &vi) in ow.chunks_exact_mut(nh).zip(ob.iter_mut()).zip(v) {
            if vi != 0 {
                let s = weight * f64::from(vi);
                *ob_i += s;
                for (o, &hj) in row.iter_mut().zip(h) {
                    *o += s * f64::from(hj);
                }
            }
        }
        for (o, &hj) in oc.iter_mut().zip(h) {
            *o += weight * f64::from(hj);
        }
    }

    fn n_visible(&self) -> usize {
        self.nv
    }

    /// `−β F(v)` ([`Rbm::visible_free_energy`]).
    fn visible_log_marginal(&self, v: &[i8], beta: Beta) -> Option<f64> {
        Some(-beta.value() * self.visible_free_energy_unchecked(v, beta))
    }

    /// Rao–Blackwellised: `φ` with h replaced by `E[h | v] = σ(β (c + Wᵀ v))`,
    /// computed in f64 without allocation. Always `true`.
    fn add_data_statistics(&self, v: &[i8], beta: Beta, weight: f64, out: &mut [f64]) -> bool {
        const CHUNK: usize = 64;
        let (nv, nh) = (self.nv, self.nh);
        let (ow, rest) = out.split_at_mut(nv * nh);
        let (ob, oc) = rest.split_at_mut(nv);
        let mut p = [0.0f64; CHUNK];
        for j0 in (0..nh).step_by(CHUNK) {
            let len = CHUNK.min(nh - j0);
            for (k, pk) in p[..len].iter_mut().enumerate() {
                *pk = sigmoid(beta.value() * self.hidden_input(v, j0 + k));
                oc[j0 + k] += weight * *pk;
            }
            for (i, &vi) in v.iter().enumerate() {
                if vi != 0 {
                    let s = weight * f64::from(vi);
                    axpy(s, &p[..len], &mut ow[i * nh + j0..i * nh + j0 + len]);
                }
            }
        }
        for (o, &vi) in ob.iter_mut().zip(v) {
            *o += weight * f64::from(vi);
        }
        true
    }

    /// `out_W += weight · Vᵀ H` by f32 GEMM over blocks of rows (the counts are
    /// integers, exact in f32), biases by column sums.
    fn add_statistics_batch(&self, xs: &[i8], weight: f64, out: &mut [f64]) {
        let (nv, nh) = (self.nv, self.nh);
        let n = nv + nh;
        let total_rows = xs.len() / n;
        let cap = total_rows.min(BATCH_ROWS);
        let mut vbuf = vec![0.0f32; cap * nv];
        let mut hbuf = vec![0.0f32; cap * nh];
        let mut g = vec![0.0f32; nv * nh];
        let mut col = vec![0i64; n];
        for block in xs[..total_rows * n].chunks(BATCH_ROWS * n) {
            let rows = block.len() / n;
            for (r, x) in block.chunks_exact(n).enumerate() {
                for (d, &s) in vbuf[r * nv..(r + 1) * nv].iter_mut().zip(&x[..nv]) {
                    *d = f32::from(s);
                }
                for (d, &s) in hbuf[r * nh..(r + 1) * nh].iter_mut().zip(&x[nv..]) {
                    *d = f32::from(s);
                }
                for (c, &s) in col.iter_mut().zip(x) {
                    *c += i64::from(s);
                }
            }
            let v = View::row_major(&vbuf[..rows * nv], rows, nv);
            let h = View::row_major(&hbuf[..rows * nh], rows, nh);
            linalg::sgemm(1.0, v.t(), h, 0.0, &mut g);
            for (o, &c) in out.iter_mut().zip(&g) {
                *o += weight * f64::from(c);
            }
        }
        for (o, &c) in out[nv * nh..].iter_mut().zip(&col) {
            *o += weight * c as f64;
        }
    }

    /// Rao–Blackwellised over a batch with two f32 GEMMs per block of rows:
    /// `P = σ(β (V W + 1 cᵀ))`, then `out_W += weight · Vᵀ P`. Accurate to f32
    /// (≈1e−6 relative); rows must be bits. Always `true`.
    fn add_data_statistics_batch(
        &self,
        vs: &[i8],
        beta: Beta,
        weight: f64,
        out: &mut [f64],
    ) -> bool {
        let (nv, nh) = (self.nv, self.nh);
        let total_rows = vs.len() / nv;
        let cap = total_rows.min(BATCH_ROWS);
        let mut vbuf = vec![0.0f32; cap * nv];
        let mut pbuf = vec![0.0f32; cap * nh];
        let mut g = vec![0.0f32; nv * nh];
        let mut vsum = vec![0i64; nv];
        let mut psum = vec![0.0f64; nh];
        for block in vs[..total_rows * nv].chunks(BATCH_ROWS * nv) {
            let rows = block.len() / nv;
            let vb = &mut vbuf[..rows * nv];
            for ((d, &s), k) in vb.iter_mut().zip(block).zip(0..) {
                *d = f32::from(s);
                vsum[k % nv] += i64::from(s);
            }
            let pb = &mut pbuf[..rows * nh];
            self.hidden_probs_f32(vb, rows, beta, pb);
            let v = View::row_major(vb, rows, nv);
            linalg::sgemm(1.0, v.t(), View::row_major(pb, rows, nh), 0.0, &mut g);
            for (o, &c) in out.iter_mut().zip(&g) {
                *o += weight * f64::from(c);
            }
            for prow in pb.chunks_exact(nh) {
                for (s, &p) in psum.iter_mut().zip(prow) {
                    *s += f64::from(p);
                }
            }
        }
        let (ob, oc) = out[nv * nh..].split_at_mut(nv);
        for (o, &s) in ob.iter_mut().zip(&vsum) {
            *o += weight * s as f64;
        }
        for (o, &s) in oc.iter_mut().zip(&psum) {
            *o += weight * s;
        }
        true
    }
}
