//! The GB-RBM's batched training kernels: the two layer products and the
//! weight statistics of whole batches as f32 GEMMs on the f32 mirror of W
//! (split into blocks fixed by the shape, never along the summed index, so
//! the bits do not depend on the number of threads), and an in-place update
//! of θ fused with the refresh of the mirrors.
//!
//! The kernels take the visible rows already scaled, `a_i = v_i / σ_i²`:
//! then `p(h | v) = σ(β(c + A W))`, the visible means are `b + H Wᵀ` and the
//! weight statistic `Σ_r v_ri h_rj / σ_i²` is `(Aᵀ H)_ij`, all on one copy
//! of W.

use super::*;
use crate::linalg::sigmoid_in_place;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Number of fixed column blocks of the batched products.
const COLUMN_BLOCKS: usize = 4;

/// Width of the column blocks of a product with `n` columns: `n /`
/// [`COLUMN_BLOCKS`] rounded up to a multiple of 16.
fn column_block(n: usize) -> usize {
    n.div_ceil(COLUMN_BLOCKS).div_ceil(16).max(1) * 16
}

/// `out (rows × n) ← f(a (rows × k) · B)` with B the `k × n` view `b(j0, w)`
/// of columns `j0..j0 + w`, over fixed column blocks in parallel (each block
/// into `work`, then copied), `init(j0, row)` filling each output row's block
/// before the product is added with weight `alpha`, and `finish` applied to
/// each block after it.
#[allow(clippy::too_many_arguments)]
fn blocked_product<'b>(
    a: &[f32],
    (rows, k, n): (usize, usize, usize),
    alpha: f32,
    b: impl Fn(usize, usize) -> View<'b> + Sync,
    init: impl Fn(usize, &mut [f32]) + Sync,
    finish: impl Fn(&mut [f32]) + Sync,
    out: &mut [f32],
    work: &mut Vec<f32>,
) {
    let cb = column_block(n);
    work.resize(rows * n, 0.0);
    work.par_chunks_mut(rows * cb).enumerate().for_each(|(blk, wk)| {
        let j0 = blk * cb;
        let w = wk.len() / rows;
        for row in wk.chunks_exact_mut(w) {
            init(j0, row);
        }
        sgemm(alpha, View::row_major(a, rows, k), b(j0, w), 1.0, wk);
        finish(wk);
    });
    // the blocks back into rows, in parallel over the rows (disjoint writes)
    let work = &*work;
    out.par_chunks_exact_mut(n).with_min_len(8).enumerate().for_each(|(r, o)| {
        for (blk, wk) in work.chunks(rows * cb).enumerate() {
            let j0 = blk * cb;
            let w = wk.len() / rows;
            o[j0..j0 + w].copy_from_slice(&wk[r * w..][..w]);
        }
    });
}

/// Runs `f` compiled for AVX2 when the CPU has it (the crate builds for
/// baseline x86-64): the same operations in the same order, no fused
/// multiply-adds, so the same bits either way.
#[inline(always)]
fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { avx2(f) };
        }
    }
    f()
}

/// `Σ_k w_k g_k` in f64 over eight lanes (a fixed order that vectorises).
#[inline(always)]
fn dot_f64_f32(w: &[f64], g: &[f32]) -> f64 {
    const L: usize = 8;
    let mut acc = [0.0f64; L];
    let (wc, gc) = (w.chunks_exact(L), g.chunks_exact(L));
    let tail: f64 =
        wc.remainder().iter().zip(gc.remainder()).map(|(&w, &g)| w * f64::from(g)).sum();
    for (w, g) in wc.zip(gc) {
        for k in 0..L {
            acc[k] += w[k] * f64::from(g[k]);
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// Whether `x` is finite and within f32's range (NaN is not).
#[inline(always)]
fn fits_f32(x: f64) -> bool {
    x.abs() <= f64::from(f32::MAX)
}

impl GaussianRbm {
    /// `1/σ_i²` in f32, the scale of the kernels' visible rows.
    pub fn inverse_variances_f32(&self, out: &mut Vec<f32>) {
        out.clear();
        out.extend(self.inv_var.iter().map(|&x| x as f32));
    }

    /// `p(h = 1 | v) = σ(β(c + A W))` for the rows of `a` (scaled visible
    /// rows `v_i / σ_i²`, row-major `rows × n_visible`) into `out` (`rows ×
    /// n_hidden`): one f32 GEMM over fixed column blocks (`work` is grown as
    /// needed, then reused). Inputs are not checked for finiteness.
    ///
    /// Errors: `a` not whole rows, `out` of the wrong length.
    pub fn hidden_probs_scaled_f32(
        &self,
        a: &[f32],
        beta: Beta,
        out: &mut [f32],
        work: &mut Vec<f32>,
    ) -> Result<()> {
        let (nv, nh) = (self.nv, self.nh);
        let rows = check_rows("scaled visible rows", a.len(), nv)?;
        check_len("hidden probabilities (rows × n_hidden)", rows * nh, out.len())?;
        if rows == 0 {
            return Ok(());
        }
        let bt = beta.value() as f32;
        let c = self.hidden_bias();
        let w32 = &self.w32;
        blocked_product(
            a,
            (rows, nv, nh),
            bt,
            |j0, w| View::strided(&w32[j0..], nv, w, nh, 1),
            |j0, row| row.iter_mut().zip(&c[j0..]).for_each(|(o, &cj)| *o = bt * cj as f32),
            sigmoid_in_place,
            out,
            work,
        );
        Ok(())
    }

    /// The means of `v | h`, `b + H Wᵀ`, for the rows of `h` (row-major
    /// `rows × n_hidden`, bits or probabilities) into `out` (`rows ×
    /// n_visible`): one f32 GEMM over fixed column blocks.
    ///
    /// Errors: `h` not whole rows, `out` of the wrong length.
    pub fn visible_means_f32(&self, h: &[f32], out: &mut [f32], work: &mut Vec<f32>) -> Result<()> {
        let (nv, nh) = (self.nv, self.nh);
        let rows = check_rows("hidden rows", h.len(), nh)?;
        check_len("visible means (rows × n_visible)", rows * nv, out.len())?;
        if rows == 0 {
            return Ok(());
        }
        let b = self.visible_bias();
        let w32 = &self.w32;
        blocked_product(
            h,
            (rows, nh, nv),
            1.0,
            // columns i0.. of Wᵀ are rows i0.. of W
            |i0, w| View::strided(&w32[i0 * nh..], w, nh, nh, 1).t(),
            |i0, row| row.iter_mut().zip(&b[i0..]).for_each(|(o, &bi)| *o = bi as f32),
            |_| {},
            out,
            work,
        );
        Ok(())
    }

    /// The weight statistics of a step, `G[i, :] = Σ_r A[r, i] P[r, :]`, for
    /// the rows `rows` of G (`out` holds `rows.len() × n_hidden`), with `a`
    /// the stacked scaled visible rows (`K × n_visible`) and `p` their hidden
    /// values (`K × n_hidden`, e.g. data probabilities then negated, rescaled
    /// chain probabilities): one f32 GEMM that never splits the sum over the
    /// K rows. Also returns nothing else: the coupling term of φ_z is
    /// [`GaussianRbm::couplings`].
    ///
    /// Errors: inconsistent shapes.
    pub fn weight_statistics_f32(
        &self,
        a: &[f32],
        p: &[f32],
        rows: Range<usize>,
        out: &mut [f32],
    ) -> Result<()> {
        let (nv, nh) = (self.nv, self.nh);
        let k = check_rows("scaled visible rows", a.len(), nv)?;
        check_len("hidden values (K × n_hidden)", k * nh, p.len())?;
        check_len("statistics (rows × n_hidden)", rows.len() * nh, out.len())?;
        if rows.start > rows.end || rows.end > nv {
            return Err(Error::ShapeMismatch {
                what: "row range of W",
                expected: nv,
                found: rows.end,
            });
        }
        if rows.is_empty() {
            return Ok(());
        }
        if k == 0 {
            out.fill(0.0);
            return Ok(());
        }
        let at = View::strided(&a[rows.start..], rows.len(), k, 1, nv);
        sgemm(1.0, at, View::row_major(p, k, nh), 0.0, out);
        Ok(())
    }

    /// `out[r] = Σ_j W_ij G[r, j]` for the rows `i ∈ rows` of W (f64 W, f32
    /// G holding those rows): φ_z's coupling term summed over a batch,
    /// `Σ_r v_ri (W h_r)_i / σ_i² = Σ_j W_ij (Aᵀ H)_ij`.
    pub fn couplings(&self, g: &[f32], rows: Range<usize>, out: &mut [f64]) {
        let nh = self.nh;
        let w = &self.theta[rows.start * nh..rows.end * nh];
        let body = |out: &mut [f64]| {
            for ((o, wr), gr) in out.iter_mut().zip(w.chunks_exact(nh)).zip(g.chunks_exact(nh)) {
                *o = dot_f64_f32(wr, gr);
            }
        };
        with_avx2(|| body(out));
    }

    /// Updates θ in place, fused with the refresh of 1/σ² and the f32
    /// mirror of W (W/σ² is rebuilt on first use). First `biases(b, c, z)` moves copies of the visible means,
    /// hidden biases and log-variances; they are checked (finite, `|z| ≤`
    /// [`MAX_LOG_VARIANCE`]) before anything changes, so that on an error the
    /// model is as it was. Then W's rows, cut into blocks of
    /// `rows_per_block`, are updated in parallel: `update(w, side, work)` on
    /// each weight with the same element of the W-shaped companion `side`
    /// (an optimizer's velocity) and of `work` (e.g. a gradient), and the
    /// block's mirrors are written while it is in cache. Blocks depend only
    /// on `rows_per_block`: the result does not depend on the number of
    /// threads.
    ///
    /// Errors: wrong lengths or `rows_per_block = 0`, the check of the
    /// biases (nothing changed); [`Error::NonFinite`] with the first index of
    /// W at which `update` left a non-finite value, after replacing every
    /// such value by 0 so that the model stays valid.
    pub fn update_in_place<F, U>(
        &mut self,
        rows_per_block: usize,
        side: &mut [f64],
        work: &[f32],
        scratch: &mut Vec<f64>,
        biases: F,
        update: U,
    ) -> Result<()>
    where
        F: FnOnce(&mut [f64], &mut [f64], &mut [f64]),
        U: Fn(&mut f64, &mut f64, f32) + Sync,
    {
        let (nv, nh) = (self.nv, self.nh);
        let nw = nv * nh;
        positive("rows_per_block", rows_per_block)?;
        check_len("side (n_visible × n_hidden)", nw, side.len())?;
        check_len("work (n_visible × n_hidden)", nw, work.len())?;
        scratch.clear();
        scratch.extend_from_slice(&self.theta[nw..]);
        {
            let (b, rest) = scratch.split_at_mut(nv);
            let (c, z) = rest.split_at_mut(nh);
            biases(b, c, z);
        }
        check_finite("updated GB-RBM biases", scratch)?;
        if let Some(&bad) = scratch[nv + nh..].iter().find(|z| z.abs() > MAX_LOG_VARIANCE) {
            return Err(Error::InvalidParameter {
                name: "GB-RBM log-variance ln σ²",
                value: bad,
                expected: "within ±30",
            });
        }
        self.theta[nw..].copy_from_slice(scratch);
        let z = &self.theta[nw + nv + nh..];
        for (iv, &zi) in self.inv_var.iter_mut().zip(z) {
            *iv = (-zi).exp();
        }
        let first_bad = AtomicUsize::new(usize::MAX);
        let chunk = rows_per_block * nh;
        self.theta[..nw]
            .par_chunks_mut(chunk)
            .zip(self.w32.par_chunks_mut(chunk))
            .zip(side.par_chunks_mut(chunk).zip(work.par_chunks(chunk)))
            .enumerate()
            .for_each(|(blk, ((w, w32), (side, work)))| {
                with_avx2(|| {
                    // rows of the block one at a time, in passes that vectorise
                    for (r, ((w, w32), (side, work))) in w
                        .chunks_exact_mut(nh)
                        .zip(w32.chunks_exact_mut(nh))
                        .zip(side.chunks_exact_mut(nh).zip(work.chunks_exact(nh)))
                        .enumerate()
                    {
                        for ((x, s), &g) in w.iter_mut().zip(side.iter_mut()).zip(work) {
                            update(x, s, g);
                        }
                        let bad = w.iter().map(|x| u32::from(!fits_f32(*x))).sum::<u32>();
                        if bad > 0 {
                            for (j, x) in w.iter_mut().enumerate() {
                                if !fits_f32(*x) {
                                    first_bad.fetch_min(
                                        (blk * rows_per_block + r) * nh + j,
                                        Ordering::Relaxed,
                                    );
                                    *x = 0.0;
                                }
                            }
                        }
                        w32.iter_mut().zip(w.iter()).for_each(|(d, &x)| *d = x as f32);
                    }
                })
            });
        self.scaled = std::sync::OnceLock::new();
        self.wt = std::sync::OnceLock::new();
        match first_bad.into_inner() {
            usize::MAX => Ok(()),
            index => Err(Error::NonFinite { what: "updated GB-RBM weights", index }),
        }
    }
}
