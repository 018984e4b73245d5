//! The Gaussian–Bernoulli RBM: real visible units, binary hidden units, and a
//! learned variance per visible unit (Cho, Ilin & Raiko 2011).
//!
//! A state is `[v, h]` (`n_visible` reals, then `n_hidden` 0/1 bits, all
//! `f64`: the [`Hybrid`] space), with σ_i² = e^{z_i} and
//!
//! ```text
//! E(v, h) = Σ_i (v_i − b_i)² / 2σ_i² − Σ_ij (v_i / σ_i²) W_ij h_j − c·h
//! p(h_j = 1 | v) = σ(β (c_j + Σ_i v_i W_ij / σ_i²))
//! v_i | h ~ N(b_i + Σ_j W_ij h_j, σ_i² / β)
//! F_β(v) = −T ln Σ_h e^{−βE} = Σ_i (v_i − b_i)² / 2σ_i² − T Σ_j softplus(β (c_j + Σ_i v_i W_ij / σ_i²))
//! ```
//!
//! **Layout of θ** ([`LogLinear::params`]): `[W row-major (n_visible ×
//! n_hidden), b, c, z]`. The energy is not linear in (b, z), so the
//! statistics are the parameter gradient `φ_θ = −∂E/∂θ` at the current θ
//! ([`LogLinear::is_linear`] is `false`):
//!
//! ```text
//! φ_W = v_i h_j / σ_i²,  φ_b = (v_i − b_i) / σ_i²,  φ_c = h_j,
//! φ_z = ((v_i − b_i)² / 2 − v_i Σ_j W_ij h_j) / σ_i²
//! ```
//!
//! **Precision.** Parameters, energies, free energies and ln Z are f64. The
//! layer conditionals and the statistics are f32 GEMMs on f32 mirrors of W
//! and W/σ² (refreshed by `set_params`), accurate to ≈1e−6 relative; a
//! single state's conditionals run the same GEMM on one row, so block Gibbs
//! on one chain and on a batch give the same bits.
//!
//! ```
//! use ebm_core::{Beta, EnergyModel, Seed};
//! use ebm_models::gbrbm::GaussianRbm;
//!
//! let rbm = GaussianRbm::random(3, 4, 0.5, Seed(1))?;
//! let log_z = rbm.exact_log_z(Beta::ONE)?; // 2^4 hidden states, v integrated exactly
//! let ll = rbm.exact_log_likelihood(&[0.5, -1.0, 0.2], Beta::ONE)?;
//! assert!(log_z.is_finite() && ll.is_finite());
//! # Ok::<(), ebm_core::Error>(())
//! ```

mod exact;
mod training;

pub use exact::MAX_EXACT_HIDDEN;

use crate::linalg::{self, View, sgemm, sigmoid, softplus};
use ebm_core::{
    Beta, Blocks, EnergyModel, Error, Hybrid, HybridModel, LogLinear, Purpose, Result, Seed,
    check_finite, check_len, check_rows,
};
use rayon::prelude::*;
use std::cell::RefCell;

/// Rows of the statistics GEMM `G = VᵀH` per parallel piece.
const G_ROW_BLOCK: usize = 196;

/// The bound on log-variances: `|z_i| ≤ MAX_LOG_VARIANCE` (σ_i from about
/// 3·10⁻⁷ to 3·10⁶), so that 1/σ² and its products stay finite.
pub const MAX_LOG_VARIANCE: f64 = 30.0;

thread_local! {
    /// f32 scratch of the batched GEMMs: the left operand, the right
    /// operand (statistics), the product (no allocation per call once warm).
    static SCRATCH: RefCell<[Vec<f32>; 3]> = const { RefCell::new([Vec::new(), Vec::new(), Vec::new()]) };
    /// The energy's W h (f64).
    static DRIVE: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// `rows` rows of `cols` f64 values (`x[r * stride + k]`) as a contiguous f32
/// row-major matrix in `buf`.
fn to_f32(x: &[f64], rows: usize, cols: usize, stride: usize, buf: &mut Vec<f32>) {
    buf.clear();
    for r in 0..rows {
        buf.extend(x[r * stride..][..cols].iter().map(|&v| v as f32));
    }
}

/// `C = A B` with A the `rows × cols` f64 matrix `a[r * stride + k]` (taken
/// to f32) and B an f32 matrix, written as f64 to `out[r * rsc + j * csc]`.
fn gemm_rows(
    (a, rows, cols, stride): (&[f64], usize, usize, usize),
    b: View<'_>,
    out: &mut [f64],
    rsc: usize,
    csc: usize,
) {
    let n = b.cols();
    SCRATCH.with(|s| {
        let [a32, _, c32] = &mut *s.borrow_mut();
        to_f32(a, rows, cols, stride, a32);
        c32.clear();
        c32.resize(rows * n, 0.0);
        sgemm(1.0, View::row_major(a32, rows, cols), b, 0.0, c32);
        for r in 0..rows {
            for (j, &c) in c32[r * n..][..n].iter().enumerate() {
                out[r * rsc + j * csc] = f64::from(c);
            }
        }
    });
}

/// A Gaussian–Bernoulli RBM (see the [module docs](self)). Equality
/// compares the shape and the parameters.
#[derive(Clone)]
pub struct GaussianRbm {
    nv: usize,
    nh: usize,
    theta: Vec<f64>,
    space: Hybrid,
    /// 1/σ_i² = e^{−z_i}.
    inv_var: Vec<f64>,
    /// W_ij / σ_i², row-major `n_visible × n_hidden` (the h | v weights),
    /// in f64 and in f32: built on first use after a parameter change (the
    /// training kernels scale the visible rows instead and never ask).
    scaled: std::sync::OnceLock<(Vec<f64>, Vec<f32>)>,
    /// Wᵀ (`n_hidden × n_visible`), for the energy's W h over active units:
    /// built on the first energy after a parameter change (training steps
    /// that never ask for an energy never pay for the transpose).
    wt: std::sync::OnceLock<Vec<f64>>,
    /// The two layers as blocks (built once).
    blocks: Blocks,
    /// The f32 mirror of W for the batched GEMMs.
    w32: Vec<f32>,
}

impl PartialEq for GaussianRbm {
    fn eq(&self, o: &Self) -> bool {
        (self.nv, self.nh) == (o.nv, o.nh) && self.theta == o.theta
    }
}

impl std::fmt::Debug for GaussianRbm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GaussianRbm")
            .field("n_visible", &self.nv)
            .field("n_hidden", &self.nh)
            .finish_non_exhaustive()
    }
}

fn positive(name: &'static str, n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::InvalidParameter { name, value: 0.0, expected: "≥ 1" });
    }
    Ok(())
}

impl GaussianRbm {
    /// A model from its parameters `θ = [W, b, c, z]` (layout in the module
    /// docs). Errors: zero-sized layers, a wrong length, non-finite values,
    /// a log-variance outside `±MAX_LOG_VARIANCE`.
    pub fn new(n_visible: usize, n_hidden: usize, theta: Vec<f64>) -> Result<Self> {
        positive("n_visible", n_visible)?;
        positive("n_hidden", n_hidden)?;
        let nw = n_visible.checked_mul(n_hidden).ok_or(Error::InvalidParameter {
            name: "n_visible × n_hidden",
            value: f64::INFINITY,
            expected: "fits in memory",
        })?;
        let mut m = GaussianRbm {
            nv: n_visible,
            nh: n_hidden,
            theta: Vec::new(),
            space: Hybrid::new(n_visible, n_hidden),
            inv_var: vec![0.0; n_visible],
            scaled: std::sync::OnceLock::new(),
            wt: std::sync::OnceLock::new(),
            blocks: Blocks::new(
                n_visible + n_hidden,
                vec![(0..n_visible).collect(), (n_visible..n_visible + n_hidden).collect()],
            )?,
            w32: vec![0.0; nw],
        };
        check_len("GB-RBM parameters", nw + 2 * n_visible + n_hidden, theta.len())?;
        m.theta = vec![0.0; theta.len()];
        m.set_params(&theta)?;
        Ok(m)
    }

    /// Weights drawn `scale · N(0, 1)` from `seed`'s `INIT` stream, biases 0,
    /// unit variances.
    pub fn random(n_visible: usize, n_hidden: usize, scale: f64, seed: Seed) -> Result<Self> {
        GaussianRbm::init(n_visible, n_hidden, scale, None, seed)
    }

    /// The usual start of training: weights `scale · N(0, 1)` (0.01 is
    /// customary), hidden biases 0, visible biases at the data means and
    /// unit variances (data standardised to unit variance, as
    /// `ebm_data::standardize` does, start at their own scale).
    pub fn init(
        n_visible: usize,
        n_hidden: usize,
        scale: f64,
        data: Option<&[f64]>,
        seed: Seed,
    ) -> Result<Self> {
        if !(scale.is_finite() && scale >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "weight scale",
                value: scale,
                expected: "finite and ≥ 0",
            });
        }
        positive("n_visible", n_visible)?;
        positive("n_hidden", n_hidden)?;
        let nw = n_visible.saturating_mul(n_hidden);
        let mut theta = vec![0.0; nw + 2 * n_visible + n_hidden];
        let mut rng = seed.stream(Purpose::INIT, 0);
        linalg::fill_normal(&mut rng, scale, &mut theta[..nw]);
        if let Some(data) = data {
            let rows = check_rows("data (rows of n_visible values)", data.len(), n_visible)?;
            check_finite("data", data)?;
            if rows > 0 {
                let b = &mut theta[nw..nw + n_visible];
                for row in data.chunks_exact(n_visible) {
                    b.iter_mut().zip(row).for_each(|(b, &v)| *b += v / rows as f64);
                }
            }
        }
        GaussianRbm::new(n_visible, n_hidden, theta)
    }

    /// Number of visible (real) units.
    pub fn n_visible(&self) -> usize {
        self.nv
    }
    /// Number of hidden (binary) units.
    pub fn n_hidden(&self) -> usize {
        self.nh
    }
    /// W, row-major `n_visible × n_hidden`.
    pub fn weights(&self) -> &[f64] {
        &self.theta[..self.nv * self.nh]
    }
    /// The visible means b.
    pub fn visible_bias(&self) -> &[f64] {
        let o = self.nv * self.nh;
        &self.theta[o..o + self.nv]
    }
    /// The hidden biases c.
    pub fn hidden_bias(&self) -> &[f64] {
        let o = self.nv * self.nh + self.nv;
        &self.theta[o..o + self.nh]
    }
    /// The log-variances z_i = ln σ_i².
    pub fn log_variances(&self) -> &[f64] {
        &self.theta[self.nv * self.nh + self.nv + self.nh..]
    }
    /// The standard deviations σ_i.
    pub fn std_devs(&self) -> Vec<f64> {
        self.log_variances().iter().map(|z| (0.5 * z).exp()).collect()
    }

    /// `p(h = 1 | v)` at β for each row of `vs` (rows of `n_visible`
    /// values) into `out` (rows of `n_hidden`): one GEMM.
    pub fn hidden_probs_batch(&self, vs: &[f64], beta: Beta, out: &mut [f64]) -> Result<()> {
        let rows = check_rows("visible rows", vs.len(), self.nv)?;
        check_len("hidden probabilities", rows * self.nh, out.len())?;
        self.hidden_preactivations(vs, self.nv, rows, out, 1);
        let b = beta.value();
        let c = self.hidden_bias();
        for row in out.chunks_exact_mut(self.nh) {
            row.iter_mut().zip(c).for_each(|(o, &cj)| *o = sigmoid(b * (cj + *o)));
        }
        Ok(())
    }

    /// The mean of `v | h`, `b + W h`, for each row of `hs` (rows of
    /// `n_hidden` values, probabilities allowed: the mean-field
    /// reconstruction) into `out` (rows of `n_visible`).
    pub fn visible_means_batch(&self, hs: &[f64], out: &mut [f64]) -> Result<()> {
        let rows = check_rows("hidden rows", hs.len(), self.nh)?;
        check_len("visible means", rows * self.nv, out.len())?;
        self.visible_drives(hs, self.nh, rows, out, 1);
        let b = self.visible_bias();
        for row in out.chunks_exact_mut(self.nv) {
            row.iter_mut().zip(b).for_each(|(o, &bi)| *o += bi);
        }
        Ok(())
    }

    /// `F_β(v) = −T ln Σ_h e^{−β E(v, h)}` (module docs), for `v` of
    /// `n_visible` values. Not the system's free energy −T ln Z.
    pub fn visible_free_energy(&self, v: &[f64], beta: Beta) -> Result<f64> {
        check_len("visible units", self.nv, v.len())?;
        check_finite("visible units", v)?;
        let b = beta.value();
        // in f64 (not the f32 GEMM of the batched paths): F enters ln p(v)
        let mut pre = vec![0.0; self.nh];
        for (&vi, row) in v.iter().zip(self.scaled().0.chunks_exact(self.nh)) {
            pre.iter_mut().zip(row).for_each(|(p, &w)| *p += vi * w);
        }
        let quad: f64 = v
            .iter()
            .zip(self.visible_bias())
            .zip(&self.inv_var)
            .map(|((&vi, &bi), &iv)| 0.5 * iv * (vi - bi) * (vi - bi))
            .sum();
        let soft: f64 =
            pre.iter().zip(self.hidden_bias()).map(|(p, c)| softplus(b * (c + p))).sum();
        Ok(quad - soft / b)
    }

    /// `W_ij / σ_i²` in f64 and f32 (built on first use).
    fn scaled(&self) -> &(Vec<f64>, Vec<f32>) {
        self.scaled.get_or_init(|| {
            let nh = self.nh;
            let mut s64 = vec![0.0; self.nv * nh];
            for ((row, w), &iv) in
                s64.chunks_exact_mut(nh).zip(self.weights().chunks_exact(nh)).zip(&self.inv_var)
            {
                row.iter_mut().zip(w).for_each(|(s, &w)| *s = w * iv);
            }
            let s32 = s64.iter().map(|&x| x as f32).collect();
            (s64, s32)
        })
    }

    /// `Σ_i v_i W_ij / σ_i²` for `rows` rows of `xs` (row stride `stride`,
    /// visible units first) into `out[r * nh * csc + j * csc]`.
    fn hidden_preactivations(
        &self,
        xs: &[f64],
        stride: usize,
        rows: usize,
        out: &mut [f64],
        csc: usize,
    ) {
        let w = View::row_major(&self.scaled().1, self.nv, self.nh);
        gemm_rows((xs, rows, self.nv, stride), w, out, self.nh * csc, csc);
    }

    /// `(W h)_i` for `rows` rows of hidden values (`hs[r * stride + j]`)
    /// into `out[r * nv * csc + i * csc]`.
    fn visible_drives(&self, hs: &[f64], stride: usize, rows: usize, out: &mut [f64], csc: usize) {
        let wt = View::row_major(&self.w32, self.nv, self.nh).t();
        gemm_rows((hs, rows, self.nh, stride), wt, out, self.nv * csc, csc);
    }

    /// `out += w · Σ_r φ(v_r, h_r)` with `h` given as rows of values in [0, 1]
    /// (bits, or probabilities for the Rao–Blackwellised data term): one
    /// GEMM, `G = Vᵀ H`, serves both φ_W and φ_z's coupling term.
    fn add_statistics_rows(
        &self,
        (vs, v_stride): (&[f64], usize),
        (hs, h_stride): (&[f64], usize),
        rows: usize,
        w: f64,
        out: &mut [f64],
    ) {
        let (nv, nh) = (self.nv, self.nh);
        let nw = nv * nh;
        SCRATCH.with(|s| {
            let [v32, h32, g] = &mut *s.borrow_mut();
            // G = Vᵀ H; φ_W = G_ij / σ_i², and Σ_r v_ri (W h_r)_i = Σ_j W_ij G_ij
            // gives φ_z's coupling term without a second GEMM
            to_f32(vs, rows, nv, v_stride, v32);
            to_f32(hs, rows, nh, h_stride, h32);
            g.clear();
            g.resize(nw, 0.0);
            // fixed blocks of G's rows in parallel (the same bits for any
            // thread count: each element is one k-ordered dot product)
            let (v32, h32) = (&*v32, &*h32);
            g.par_chunks_mut(G_ROW_BLOCK * nh).enumerate().for_each(|(blk, gb)| {
                let r0 = blk * G_ROW_BLOCK;
                let len = gb.len() / nh;
                let vt = View::strided(&v32[r0..], len, rows, 1, nv);
                sgemm(1.0, vt, View::row_major(h32, rows, nh), 0.0, gb);
            });
            let (b, c_off, z_off) = (nw, nw + nv, nw + nv + nh);
            let weights = self.weights();
            for i in 0..nv {
                let (gr, wr) = (&g[i * nh..][..nh], &weights[i * nh..][..nh]);
                let scale = w * self.inv_var[i];
                let mut coupling = 0.0;
                for ((o, &gij), &wij) in out[i * nh..][..nh].iter_mut().zip(gr).zip(wr) {
                    let gij = f64::from(gij);
                    *o += scale * gij;
                    coupling += wij * gij;
                }
                out[z_off + i] -= scale * coupling;
            }
            let bias = self.visible_bias();
            for r in 0..rows {
                let v = &vs[r * v_stride..][..nv];
                for i in 0..nv {
                    let (dv, iv) = (v[i] - bias[i], self.inv_var[i]);
                    out[b + i] += w * dv * iv;
                    out[z_off + i] += w * iv * 0.5 * dv * dv;
                }
                let hr = &hs[r * h_stride..][..nh];
                out[c_off..c_off + nh].iter_mut().zip(hr).for_each(|(o, &hj)| *o += w * hj);
            }
        });
    }

    /// The contiguous layer `block` covers: `Some(true)` for the visible
    /// units, `Some(false)` for the hidden ones, `None` otherwise.
    fn layer_of(&self, block: &[usize]) -> Option<bool> {
        let contiguous = |start: usize, len: usize| {
            block.len() == len && block.iter().enumerate().all(|(k, &i)| i == start + k)
        };
        if contiguous(0, self.nv) {
            Some(true)
        } else if contiguous(self.nv, self.nh) {
            Some(false)
        } else {
            None
        }
    }
}

impl EnergyModel for GaussianRbm {
    type Space = Hybrid;
    fn n_units(&self) -> usize {
        self.nv + self.nh
    }
    fn space(&self) -> &Hybrid {
        &self.space
    }
    /// O(n_v · #active hidden units): `W h` as a sum of the active columns.
    fn energy(&self, x: &[f64]) -> f64 {
        let (v, h) = x.split_at(self.nv);
        let wt = self.wt.get_or_init(|| {
            let (nv, nh) = (self.nv, self.nh);
            let mut t = vec![0.0; nv * nh];
            for (i, row) in self.weights().chunks_exact(nh).enumerate() {
                row.iter().enumerate().for_each(|(j, &w)| t[j * nv + i] = w);
            }
            t
        });
        let e = DRIVE.with(|d| {
            let mut drive = d.borrow_mut();
            drive.clear();
            drive.resize(self.nv, 0.0);
            for (j, &hj) in h.iter().enumerate() {
                if hj != 0.0 {
                    let col = &wt[j * self.nv..][..self.nv];
                    drive.iter_mut().zip(col).for_each(|(d, &w)| *d += hj * w);
                }
            }
            let mut e = 0.0;
            for (((&vi, &bi), &iv), &d) in
                v.iter().zip(self.visible_bias()).zip(&self.inv_var).zip(drive.iter())
            {
                e += iv * (0.5 * (vi - bi) * (vi - bi) - vi * d);
            }
            e
        });
        e - self.hidden_bias().iter().zip(h).map(|(c, hj)| c * hj).sum::<f64>()
    }
}

impl HybridModel for GaussianRbm {
    /// A whole layer (the blocks of block Gibbs) by one GEMM row; any other
    /// block unit by unit.
    fn conditionals(&self, x: &[f64], block: &[usize], out: &mut [f64]) {
        self.conditionals_batch(x, block, out);
    }

    /// One GEMM per layer for all rows: the visible layer's `(1/σ_i²,
    /// (b_i + (W h)_i)/σ_i²)`, the hidden layer's `Δ_j = −(c_j + Σ_i v_i
    /// W_ij/σ_i²)`.
    fn conditionals_batch(&self, xs: &[f64], block: &[usize], out: &mut [f64]) {
        let (n, nv, nh) = (self.nv + self.nh, self.nv, self.nh);
        let rows = xs.len() / n;
        match self.layer_of(block) {
            Some(true) => {
                self.visible_drives(&xs[nv.min(xs.len())..], n, rows, &mut out[1..], 2);
                for row in out[..rows * 2 * nv].chunks_exact_mut(2 * nv) {
                    for ((pair, &bi), &iv) in
                        row.chunks_exact_mut(2).zip(self.visible_bias()).zip(&self.inv_var)
                    {
                        pair[0] = iv;
                        pair[1] = iv * (bi + pair[1]);
                    }
                }
            }
            Some(false) => {
                self.hidden_preactivations(xs, n, rows, out, 2);
                for row in out[..rows * 2 * nh].chunks_exact_mut(2 * nh) {
                    for (pair, &cj) in row.chunks_exact_mut(2).zip(self.hidden_bias()) {
                        pair[0] = -(cj + pair[0]);
                        pair[1] = 0.0;
                    }
                }
            }
            None => {
                let (w, scaled) = (self.weights(), &self.scaled().0);
                for (x, o) in xs.chunks_exact(n).zip(out.chunks_exact_mut(2 * block.len().max(1))) {
                    let (v, h) = x.split_at(nv);
                    for (k, &i) in block.iter().enumerate() {
                        if i < nv {
                            let row = &w[i * nh..][..nh];
                            let drive: f64 = row.iter().zip(h).map(|(a, b)| a * b).sum();
                            o[2 * k] = self.inv_var[i];
                            o[2 * k + 1] = self.inv_var[i] * (self.visible_bias()[i] + drive);
                        } else {
                            let j = i - nv;
                            let pre: f64 = (0..nv).map(|i| v[i] * scaled[i * nh + j]).sum();
                            o[2 * k] = -(self.hidden_bias()[j] + pre);
                            o[2 * k + 1] = 0.0;
                        }
                    }
                }
            }
        }
    }

    /// The two layers: v | h and h | v are each a product of independent
    /// conditionals.
    fn blocks(&self) -> Blocks {
        self.blocks.clone()
    }
}

impl LogLinear for GaussianRbm {
    fn params(&self) -> &[f64] {
        &self.theta
    }
    fn n_couplings(&self) -> usize {
        self.nv * self.nh
    }
    fn n_visible(&self) -> usize {
        self.nv
    }
    /// The log-variances make E non-linear in θ: φ is the gradient.
    fn is_linear(&self) -> bool {
        false
    }

    fn set_params(&mut self, theta: &[f64]) -> Result<()> {
        check_len("GB-RBM parameters", self.theta.len(), theta.len())?;
        check_finite("GB-RBM parameters", theta)?;
        let z = &theta[self.nv * self.nh + self.nv + self.nh..];
        if let Some(&bad) = z.iter().find(|z| z.abs() > MAX_LOG_VARIANCE) {
            return Err(Error::InvalidParameter {
                name: "GB-RBM log-variance ln σ²",
                value: bad,
                expected: "within ±30",
            });
        }
        self.theta.copy_from_slice(theta);
        for (iv, &zi) in self.inv_var.iter_mut().zip(z) {
            *iv = (-zi).exp();
        }
        self.w32.iter_mut().zip(&theta[..self.nv * self.nh]).for_each(|(a, &w)| *a = w as f32);
        self.wt = std::sync::OnceLock::new();
        self.scaled = std::sync::OnceLock::new();
        Ok(())
    }

    fn add_statistics(&self, x: &[f64], weight: f64, out: &mut [f64]) {
        let n = self.nv + self.nh;
        self.add_statistics_rows((x, n), (&x[self.nv..], n), 1, weight, out);
    }

    fn add_statistics_batch(&self, xs: &[f64], weight: f64, out: &mut [f64]) {
        let n = self.nv + self.nh;
        let rows = xs.len() / n;
        if rows > 0 {
            self.add_statistics_rows((xs, n), (&xs[self.nv..], n), rows, weight, out);
        }
    }

    /// Closed form: h replaced by `p_β(h = 1 | v)`.
    fn add_data_statistics(&self, v: &[f64], beta: Beta, weight: f64, out: &mut [f64]) -> bool {
        self.add_data_statistics_batch(v, beta, weight, out)
    }

    fn add_data_statistics_batch(
        &self,
        vs: &[f64],
        beta: Beta,
        weight: f64,
        out: &mut [f64],
    ) -> bool {
        let rows = vs.len() / self.nv;
        if rows == 0 {
            return true;
        }
        let mut p = vec![0.0; rows * self.nh];
        if self.hidden_probs_batch(&vs[..rows * self.nv], beta, &mut p).is_err() {
            return false;
        }
        self.add_statistics_rows((vs, self.nv), (&p, self.nh), rows, weight, out);
        true
    }
}
