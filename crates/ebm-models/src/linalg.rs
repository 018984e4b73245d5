//! Small numeric kernels shared by the RBM and the Boltzmann machine: a safe
//! wrapper over `matrixmultiply`'s f32 GEMM, f64 dot products against `[i8]`
//! states, stable softplus / sigmoid, and Gaussian draws for initialisation.
//!
//! `matrixmultiply` is already in the dependency tree through nalgebra, takes
//! arbitrary row and column strides (so one row-major copy of W serves both
//! `V W` and `H Wᵀ`), and dispatches at run time to AVX2/FMA kernels.

use ebm_core::rand_core::Rng;
use ebm_core::uniform;

/// A read-only strided f32 matrix: element (r, c) is `data[r * rs + c * cs]`.
#[derive(Clone, Copy)]
pub(crate) struct View<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a> View<'a> {
    /// A contiguous row-major `rows × cols` matrix.
    pub(crate) fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        View { data, rows, cols, rs: cols, cs: 1 }
    }

    /// The transpose (no copy: strides swap).
    pub(crate) fn t(self) -> Self {
        View { data: self.data, rows: self.cols, cols: self.rows, rs: self.cs, cs: self.rs }
    }

    /// Whether every element lies inside `data`.
    fn fits(&self) -> bool {
        if self.rows == 0 || self.cols == 0 {
            return true;
        }
        let last = (self.rows - 1)
            .checked_mul(self.rs)
            .and_then(|r| (self.cols - 1).checked_mul(self.cs).and_then(|c| r.checked_add(c)));
        matches!(last, Some(l) if l < self.data.len())
    }
}

/// `C ← alpha · A B + beta · C` with C a contiguous row-major `A.rows × B.cols`
/// matrix. When `beta == 0` the old contents of C are not read.
///
/// The shape assertions guard the `unsafe` call; callers validate user input
/// first, so they cannot fire on it.
pub(crate) fn sgemm(alpha: f32, a: View<'_>, b: View<'_>, beta: f32, c: &mut [f32]) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert!(b.rows == k && a.fits() && b.fits() && c.len() == m * n, "sgemm: bad shapes");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        for x in c.iter_mut() {
            *x = if beta == 0.0 { 0.0 } else { beta * *x };
        }
        return;
    }
    // SAFETY: `fits` checked that every (row, column) of A and B addresses an
    // element of its slice, and C is exactly m × n contiguous row-major; the
    // slices cannot alias because C is borrowed mutably.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a.data.as_ptr(),
            a.rs as isize,
            a.cs as isize,
            b.data.as_ptr(),
            b.rs as isize,
            b.cs as isize,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// `Σ_k w_k x_k` in f64 with four accumulators (the states are small integers).
#[inline]
pub(crate) fn dot_i8(w: &[f64], x: &[i8]) -> f64 {
    let n = w.len().min(x.len());
    let (w, x) = (&w[..n], &x[..n]);
    let mut acc = [0.0f64; 4];
    let wc = w.chunks_exact(4);
    let xc = x.chunks_exact(4);
    let (wr, xr) = (wc.remainder(), xc.remainder());
    for (a, b) in wc.zip(xc) {
        acc[0] += a[0] * f64::from(b[0]);
        acc[1] += a[1] * f64::from(b[1]);
        acc[2] += a[2] * f64::from(b[2]);
        acc[3] += a[3] * f64::from(b[3]);
    }
    let mut tail = 0.0;
    for (a, &b) in wr.iter().zip(xr) {
        tail += a * f64::from(b);
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `y += a · x` elementwise.
#[inline]
pub(crate) fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// softplus(x) = ln(1 + eˣ), without overflow for any finite x.
#[inline]
pub(crate) fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// The logistic function 1 / (1 + e⁻ˣ), without overflow.
#[inline]
pub(crate) fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// The logistic function in f32, without overflow.
#[inline]
pub(crate) fn sigmoid_f32(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Fills `out` with independent N(0, σ²) draws (Box–Muller, both outputs used).
pub(crate) fn fill_normal<R: Rng + ?Sized>(rng: &mut R, sigma: f64, out: &mut [f64]) {
    for pair in out.chunks_mut(2) {
        // 1 − u ∈ (0, 1], so the logarithm is finite
        let r = (-2.0 * (1.0 - uniform(rng)).ln()).sqrt();
        let t = std::f64::consts::TAU * uniform(rng);
        pair[0] = sigma * r * t.cos();
        if let Some(second) = pair.get_mut(1) {
            *second = sigma * r * t.sin();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgemm_matches_naive_with_transposes() {
        // A: 3×2, B: 2×4 stored transposed (4×2)
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let bt = [1.0, 0.5, -1.0, 2.0, 0.0, 1.0, 3.0, -2.0];
        let mut c = vec![1.0f32; 12];
        sgemm(2.0, View::row_major(&a, 3, 2), View::row_major(&bt, 4, 2).t(), 1.0, &mut c);
        for r in 0..3 {
            for col in 0..4 {
                let naive: f32 = (0..2).map(|k| a[r * 2 + k] * bt[col * 2 + k]).sum();
                assert_eq!(c[r * 4 + col], 2.0 * naive + 1.0);
            }
        }
    }

    #[test]
    fn stable_functions_do_not_overflow() {
        assert_eq!(softplus(1e3), 1e3);
        assert_eq!(softplus(-1e3), 0.0);
        assert!((softplus(0.0) - std::f64::consts::LN_2).abs() < 1e-16);
        assert_eq!(sigmoid(-1e3), 0.0);
        assert_eq!(sigmoid(1e3), 1.0);
        assert_eq!(sigmoid_f32(-1e3), 0.0);
        assert_eq!(sigmoid_f32(1e3), 1.0);
    }

    #[test]
    fn dot_handles_tails() {
        let w: Vec<f64> = (0..7).map(f64::from).collect();
        assert_eq!(dot_i8(&w, &[1, 0, 1, 1, 0, 0, 1]), 0.0 + 2.0 + 3.0 + 6.0);
    }
}
