//! Small numeric kernels shared by the RBM and the Boltzmann machine: a safe
//! wrapper over the `gemm` crate's f32 GEMM, f64 dot products against `[i8]`
//! states, stable softplus / sigmoid, and Gaussian draws for initialisation.
//!
//! `gemm` takes arbitrary row and column strides (so one row-major copy of W
//! serves both `V W` and `H Wᵀ`), dispatches at run time to AVX2/FMA or
//! AVX-512 kernels, and is called on one thread: callers split the work into
//! blocks fixed by the shape, never along the summed index, so results do
//! not depend on the number of threads.

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

    /// A `rows × cols` matrix whose element (r, c) is `data[r * rs + c * cs]`
    /// (checked by [`sgemm`]).
    pub(crate) fn strided(data: &'a [f32], rows: usize, cols: usize, rs: usize, cs: usize) -> Self {
        View { data, rows, cols, rs, cs }
    }

    /// Number of columns.
    pub(crate) fn cols(&self) -> usize {
        self.cols
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
    // slices cannot alias because C is borrowed mutably. gemm computes
    // dst ← α·dst + β·A·B (dst read only when asked), one thread.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            beta != 0.0,
            a.data.as_ptr(),
            a.cs as isize,
            a.rs as isize,
            b.data.as_ptr(),
            b.cs as isize,
            b.rs as isize,
            beta,
            alpha,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// `dst ← srcᵀ` for a row-major `rows × cols` matrix `src` (`dst` is
/// `cols × rows`), in parallel over fixed blocks of 64 rows of `src`, each
/// by [`transpose_to`]: pure copies, so the result does not depend on the
/// number of threads.
pub(crate) fn transpose_f32(src: &[f32], rows: usize, cols: usize, dst: &mut [f32]) {
    use rayon::prelude::*;
    /// Rows of `src` per task: a multiple of 8 (whole AVX blocks).
    const T: usize = 64;
    /// `dst`'s base pointer, shared by the tasks (each writes its own columns).
    struct Dst(*mut f32);
    // SAFETY: the tasks write disjoint elements (their own columns).
    unsafe impl Sync for Dst {}
    impl Dst {
        /// The pointer (a method, so closures capture the `Sync` wrapper).
        fn get(&self) -> *mut f32 {
            self.0
        }
    }
    assert!(src.len() == rows * cols && dst.len() == rows * cols, "transpose_f32: shapes");
    if rows == 0 || cols == 0 {
        return;
    }
    let d = Dst(dst.as_mut_ptr());
    src.par_chunks(T * cols).enumerate().for_each(|(k, chunk)| {
        // SAFETY: task k writes columns k·T.. k·T + chunk rows of the
        // `cols × rows` matrix `dst` (stride `rows`), inside it and apart
        // from every other task's; `dst` is borrowed mutably for the call.
        unsafe { transpose_to(chunk, cols, d.get().add(k * T), rows) };
    });
}

/// `dst[j · stride + i] ← src[i · cols + j]` for every row i of the row-major
/// `src` (`src.len() / cols` rows) and every column j < `cols`: the transpose
/// of `src` into columns `0..src.len() / cols` of a matrix of row stride
/// `stride` that `dst` starts. Pure copies (8 × 8 blocks through AVX
/// registers when the CPU has AVX, the edges one by one): the same bits on
/// every path.
///
/// # Safety
/// `dst` must be valid for writes at every position named above, and no
/// other thread may access them meanwhile.
pub(crate) unsafe fn transpose_to(src: &[f32], cols: usize, dst: *mut f32, stride: usize) {
    let n = src.len().checked_div(cols).unwrap_or(0);
    let (mut i8, mut j8) = (0, 0);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        (i8, j8) = (n - n % 8, cols - cols % 8);
        for i in (0..i8).step_by(8) {
            for j in (0..j8).step_by(8) {
                // SAFETY: rows i..i + 8, columns j..j + 8 of src exist (i + 8
                // ≤ n, j + 8 ≤ cols), and the caller vouches for dst; the CPU
                // has AVX (checked above).
                unsafe {
                    transpose8x8(
                        src.as_ptr().add(i * cols + j),
                        cols,
                        dst.add(j * stride + i),
                        stride,
                    )
                };
            }
        }
    }
    // the edges: rows from i8 on (every column), columns from j8 on
    for i in 0..n {
        let js = if i < i8 { j8..cols } else { 0..cols };
        for j in js {
            // SAFETY: the caller vouches for dst.
            unsafe { *dst.add(j * stride + i) = src[i * cols + j] };
        }
    }
}

/// The 8 × 8 block at `src` (row stride `ss`) transposed to `dst` (row
/// stride `ds`) by unpacks and shuffles.
///
/// # Safety
/// Both blocks must be valid (8 rows of 8 floats at their strides) and the
/// CPU must have AVX.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn transpose8x8(src: *const f32, ss: usize, dst: *mut f32, ds: usize) {
    use std::arch::x86_64::*;
    // SAFETY: the caller vouches for the 8 rows at both ends.
    unsafe {
        let r: [__m256; 8] = std::array::from_fn(|k| _mm256_loadu_ps(src.add(k * ss)));
        let t0 = _mm256_unpacklo_ps(r[0], r[1]);
        let t1 = _mm256_unpackhi_ps(r[0], r[1]);
        let t2 = _mm256_unpacklo_ps(r[2], r[3]);
        let t3 = _mm256_unpackhi_ps(r[2], r[3]);
        let t4 = _mm256_unpacklo_ps(r[4], r[5]);
        let t5 = _mm256_unpackhi_ps(r[4], r[5]);
        let t6 = _mm256_unpacklo_ps(r[6], r[7]);
        let t7 = _mm256_unpackhi_ps(r[6], r[7]);
        let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        let out = [
            _mm256_permute2f128_ps::<0x20>(u0, u4),
            _mm256_permute2f128_ps::<0x20>(u1, u5),
            _mm256_permute2f128_ps::<0x20>(u2, u6),
            _mm256_permute2f128_ps::<0x20>(u3, u7),
            _mm256_permute2f128_ps::<0x31>(u0, u4),
            _mm256_permute2f128_ps::<0x31>(u1, u5),
            _mm256_permute2f128_ps::<0x31>(u2, u6),
            _mm256_permute2f128_ps::<0x31>(u3, u7),
        ];
        for (k, o) in out.into_iter().enumerate() {
            _mm256_storeu_ps(dst.add(k * ds), o);
        }
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

/// Columns one register tile of the sparse kernels covers (8 AVX2
/// registers, 4 AVX-512 ones: wider tiles measured slower with AVX2).
const TILE: usize = 64;

/// The same with AVX-512's 32 registers: 8 of them (measured 3.5% faster
/// than 64 columns for `p(h | v)` at 784×500, batch 100).
const TILE_AVX512: usize = 128;

/// Rows of 0/1 values stored as the indices of their ones (CSR): the binary
/// operand of the sparse kernels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActiveSets {
    idx: Vec<u32>,
    offsets: Vec<usize>,
    width: usize,
}

impl ActiveSets {
    /// No rows, of width `width`.
    pub fn new(width: usize) -> Self {
        ActiveSets { idx: Vec::new(), offsets: vec![0], width }
    }

    /// Removes every row and sets the width (keeps the allocations).
    pub fn clear(&mut self, width: usize) {
        self.idx.clear();
        self.offsets.clear();
        self.offsets.push(0);
        self.width = width;
    }

    /// Appends a row: the positions of the nonzero values of `row`
    /// (`row.len()` must equal the width).
    pub fn push_row<T: Copy + Default + PartialEq>(&mut self, row: &[T]) {
        debug_assert_eq!(row.len(), self.width);
        let zero = T::default();
        // branch-free: write every position, advance past the nonzero ones
        let old = self.idx.len();
        self.idx.resize(old + row.len(), 0);
        let out = &mut self.idx[old..];
        let mut count = 0;
        for (k, &x) in row.iter().enumerate() {
            out[count] = k as u32;
            count += usize::from(x != zero);
        }
        self.idx.truncate(old + count);
        self.offsets.push(self.idx.len());
    }

    /// Appends a row given by the positions of its ones, which must be
    /// increasing and below the width (checked by the kernels that read them).
    pub fn push_indices(&mut self, idx: impl IntoIterator<Item = u32>) {
        self.idx.extend(idx);
        self.offsets.push(self.idx.len());
    }

    /// Appends a row of Bernoulli draws: position k is one when
    /// `(u[k] >> 8) · 2⁻²⁴ < p[k]` (24-bit uniforms compared in f32), written
    /// without branches.
    pub fn push_bernoulli(&mut self, p: &[f32], u: &[u32]) {
        const SCALE: f32 = 1.0 / 16_777_216.0;
        let n = p.len().min(u.len()).min(self.width);
        let old = self.idx.len();
        self.idx.resize(old + n, 0);
        let out = &mut self.idx[old..];
        let mut count = 0;
        for (k, (&p, &u)) in p[..n].iter().zip(&u[..n]).enumerate() {
            out[count] = k as u32;
            count += usize::from(((u >> 8) as f32) * SCALE < p);
        }
        self.idx.truncate(old + count);
        self.offsets.push(self.idx.len());
    }

    /// Replaces the sets by rows of bits drawn from probabilities `p` (rows
    /// of `width`), row r drawing 32 bits per unit from `rngs[r]` into the
    /// buffer `u` ([`ActiveSets::push_bernoulli`]'s comparison).
    pub fn sample_rows(
        &mut self,
        p: &[f32],
        width: usize,
        rngs: &mut [ebm_core::ChainRng],
        u: &mut Vec<u32>,
    ) {
        self.clear(width);
        u.resize(width, 0);
        for (p, rng) in p.chunks_exact(width).zip(rngs.iter_mut()) {
            rng.fill_u32(u);
            self.push_bernoulli(p, u);
        }
    }

    /// Appends the rows of `other` (same width).
    pub fn extend(&mut self, other: &ActiveSets) {
        debug_assert_eq!(self.width, other.width);
        let base = self.idx.len();
        self.idx.extend_from_slice(&other.idx);
        self.offsets.extend(other.offsets[1..].iter().map(|o| o + base));
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Width of a row (number of columns).
    pub fn width(&self) -> usize {
        self.width
    }

    /// Total number of ones.
    pub fn n_active(&self) -> usize {
        self.idx.len()
    }

    /// The positions of the ones of row `r`, increasing.
    #[inline]
    pub fn row(&self, r: usize) -> &[u32] {
        &self.idx[self.offsets[r]..self.offsets[r + 1]]
    }

    /// Row by row, the ones `self` and `other` (same width and number of
    /// rows) share, and those of each alone, into `both`, `self_only` and
    /// `other_only` (each row increasing).
    pub fn split_into(
        &self,
        other: &ActiveSets,
        both: &mut ActiveSets,
        self_only: &mut ActiveSets,
        other_only: &mut ActiveSets,
    ) {
        debug_assert!(self.width == other.width && self.n_rows() == other.n_rows());
        for out in [&mut *both, &mut *self_only, &mut *other_only] {
            out.clear(self.width);
        }
        for r in 0..self.n_rows().min(other.n_rows()) {
            let (sb, sa, so) = (&mut both.idx, &mut self_only.idx, &mut other_only.idx);
            merge_rows(self.row(r), other.row(r), |k| sb.push(k), |k| sa.push(k), |k| so.push(k));
            for out in [&mut *both, &mut *self_only, &mut *other_only] {
                out.offsets.push(out.idx.len());
            }
        }
    }

    /// The transpose into `out`: row k of `out` lists the rows of `self`
    /// whose column k is one, increasing (counting sort, no allocation once
    /// `out` has grown).
    pub fn transpose_into(&self, out: &mut ActiveSets) {
        let (rows, width) = (self.n_rows(), self.width);
        out.width = rows;
        out.offsets.clear();
        out.offsets.resize(width + 1, 0);
        for &k in &self.idx {
            out.offsets[k as usize + 1] += 1;
        }
        for k in 0..width {
            out.offsets[k + 1] += out.offsets[k];
        }
        out.idx.clear();
        out.idx.resize(self.idx.len(), 0);
        // fill using offsets[k] as a cursor, then shift back
        for r in 0..rows {
            for &k in self.row(r) {
                let pos = &mut out.offsets[k as usize];
                out.idx[*pos] = r as u32;
                *pos += 1;
            }
        }
        for k in (1..=width).rev() {
            out.offsets[k] = out.offsets[k - 1];
        }
        out.offsets[0] = 0;
    }
}

/// The changes between two batches of binary rows, row by row: the units
/// switched on (`up`) and off (`down`) from an old row to a new one, so that
/// a sum over the new row's ones is the old sum plus `up`'s terms minus
/// `down`'s. A row whose changes are at least as many as the new row's ones
/// is *fresh*: its `up` is the new row and its `down` empty, to be summed
/// from the start (the cheaper of the two).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Moves {
    up: ActiveSets,
    down: ActiveSets,
    fresh: Vec<bool>,
}

impl Moves {
    /// The changes from each row of `old` to the same row of `new` (same
    /// width and number of rows).
    pub fn between(&mut self, old: &ActiveSets, new: &ActiveSets) {
        debug_assert!(old.width == new.width && old.n_rows() == new.n_rows());
        self.up.clear(new.width);
        self.down.clear(new.width);
        self.fresh.clear();
        for r in 0..new.n_rows() {
            let b = new.row(r);
            let (u0, d0) = (self.up.idx.len(), self.down.idx.len());
            let (up, down) = (&mut self.up.idx, &mut self.down.idx);
            merge_rows(old.row(r), b, |_| (), |k| down.push(k), |k| up.push(k));
            let fresh = (self.up.idx.len() - u0) + (self.down.idx.len() - d0) >= b.len();
            if fresh {
                self.up.idx.truncate(u0);
                self.up.idx.extend_from_slice(b);
                self.down.idx.truncate(d0);
            }
            self.up.offsets.push(self.up.idx.len());
            self.down.offsets.push(self.down.idx.len());
            self.fresh.push(fresh);
        }
    }

    /// The units switched on, per row (a fresh row's whole new state).
    pub fn up(&self) -> &ActiveSets {
        &self.up
    }

    /// The units switched off, per row (empty for a fresh row).
    pub fn down(&self) -> &ActiveSets {
        &self.down
    }

    /// Whether row `r` is summed from the start.
    pub fn is_fresh(&self, r: usize) -> bool {
        self.fresh[r]
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.fresh.len()
    }
}

/// Walks two increasing index lists together, handing each index to `both`,
/// `a_only` or `b_only` in increasing order.
fn merge_rows(
    a: &[u32],
    b: &[u32],
    mut both: impl FnMut(u32),
    mut a_only: impl FnMut(u32),
    mut b_only: impl FnMut(u32),
) {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            both(a[i]);
            i += 1;
            j += 1;
        } else if a[i] < b[j] {
            a_only(a[i]);
            i += 1;
        } else {
            b_only(b[j]);
            j += 1;
        }
    }
    a[i..].iter().for_each(|&k| a_only(k));
    b[j..].iter().for_each(|&k| b_only(k));
}

/// Where the sums of [`sparse_rows`] start.
#[derive(Clone, Copy)]
pub(crate) enum Init<'a> {
    /// At zero.
    Zero,
    /// At this row (`cols` values), the same for every output row.
    Row(&'a [f32]),
    /// At what `out` holds: the sums are added in place.
    Out,
}

/// `out[r, :] = init + Σ_{i ∈ plus.row(r)} a[i, :] − Σ_{i ∈ minus.row(r)} b[i, :]`
/// for the rows `rows` of the sets (`out` holds `rows.len()` rows of `cols`),
/// with `a` and `b` row-major with `cols` columns and `init` a row, zeros or
/// `out`'s own values ([`Init`]).
///
/// Each element is summed in the same order (init, then the `plus` indices
/// increasing, then the `minus` ones) whatever the tiling or the split of the
/// rows among threads, so results are bit-identical for any thread count.
/// Tiles of [`TILE`] columns keep the accumulators in registers.
pub(crate) fn sparse_rows(
    out: &mut [f32],
    cols: usize,
    init: Init<'_>,
    plus: (&[f32], &ActiveSets),
    minus: Option<(&[f32], &ActiveSets)>,
    rows: std::ops::Range<usize>,
) {
    assert!(out.len() == rows.len() * cols && rows.end <= plus.1.n_rows(), "sparse_rows: shapes");
    assert!(!matches!(init, Init::Row(i) if i.len() != cols), "sparse_rows: init");
    // every index read must address a row of its matrix (checked for the rows read only)
    let fits = |m: &[f32], s: &ActiveSets| {
        let idx = &s.idx[s.offsets[rows.start]..s.offsets[rows.end]];
        idx.iter().all(|&i| (i as usize + 1) * cols <= m.len())
    };
    assert!(fits(plus.0, plus.1), "sparse_rows: index out of range");
    if let Some((b, s)) = minus {
        assert!(rows.end <= s.n_rows() && fits(b, s), "sparse_rows: index out of range");
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU supports AVX-512F (checked just above).
        unsafe { sparse_rows_avx512(out, cols, init, plus, minus, rows) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        unsafe { sparse_rows_avx2(out, cols, init, plus, minus, rows) };
        return;
    }
    sparse_rows_body::<TILE>(out, cols, init, plus, minus, rows);
}

/// The same element-wise additions in the same order as the AVX2 and
/// portable versions (no fused operations), so all three agree bit for bit.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn sparse_rows_avx512(
    out: &mut [f32],
    cols: usize,
    init: Init<'_>,
    plus: (&[f32], &ActiveSets),
    minus: Option<(&[f32], &ActiveSets)>,
    rows: std::ops::Range<usize>,
) {
    sparse_rows_body::<TILE_AVX512>(out, cols, init, plus, minus, rows);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sparse_rows_avx2(
    out: &mut [f32],
    cols: usize,
    init: Init<'_>,
    plus: (&[f32], &ActiveSets),
    minus: Option<(&[f32], &ActiveSets)>,
    rows: std::ops::Range<usize>,
) {
    sparse_rows_body::<TILE>(out, cols, init, plus, minus, rows);
}

#[inline(always)]
fn sparse_rows_body<const T: usize>(
    out: &mut [f32],
    cols: usize,
    init: Init<'_>,
    plus: (&[f32], &ActiveSets),
    minus: Option<(&[f32], &ActiveSets)>,
    rows: std::ops::Range<usize>,
) {
    // tiles of T columns, then 64, 32, …, 1 for the rest (each with its
    // accumulators in registers; each pass costs about the same per index,
    // so the rest takes one pass per bit of its width)
    let mut j0 = 0;
    while j0 < cols {
        let left = cols - j0;
        let args = (&mut *out, cols, init, plus, minus, rows.clone(), j0);
        j0 += if left >= T {
            tile_pass::<T>(args)
        } else if T > 64 && left >= 64 {
            tile_pass::<64>(args)
        } else if left >= 32 {
            tile_pass::<32>(args)
        } else if left >= 16 {
            tile_pass::<16>(args)
        } else if left >= 8 {
            tile_pass::<8>(args)
        } else if left >= 4 {
            tile_pass::<4>(args)
        } else if left >= 2 {
            tile_pass::<2>(args)
        } else {
            tile_pass::<1>(args)
        };
    }
}

type TileArgs<'a, 'b> = (
    &'a mut [f32],
    usize,
    Init<'b>,
    (&'b [f32], &'b ActiveSets),
    Option<(&'b [f32], &'b ActiveSets)>,
    std::ops::Range<usize>,
    usize,
);

/// Columns `j0..j0 + W` of every row of [`sparse_rows`]; returns `W`.
#[inline(always)]
fn tile_pass<const W: usize>((out, cols, init, plus, minus, rows, j0): TileArgs<'_, '_>) -> usize {
    for (o, r) in rows.enumerate() {
        let mut acc = [0f32; W];
        match init {
            Init::Zero => {}
            Init::Row(init) => acc.copy_from_slice(&init[j0..j0 + W]),
            Init::Out => acc.copy_from_slice(&out[o * cols + j0..][..W]),
        }
        tile_add::<true, W>(&mut acc, plus.0, cols, j0, plus.1.row(r));
        if let Some((b, s)) = minus {
            tile_add::<false, W>(&mut acc, b, cols, j0, s.row(r));
        }
        out[o * cols + j0..][..W].copy_from_slice(&acc);
    }
    W
}

#[inline(always)]
fn tile_add<const PLUS: bool, const TILE: usize>(
    acc: &mut [f32; TILE],
    m: &[f32],
    cols: usize,
    j0: usize,
    idx: &[u32],
) {
    // a local copy: with `acc` itself the compiler stored the accumulators
    // back to memory after every row (the bounds check's panic path can
    // observe them), which made the loop store-bound
    let mut a = *acc;
    for (k, &i) in idx.iter().enumerate() {
        #[cfg(target_arch = "x86_64")]
        if let Some(&ahead) = idx.get(k + 4) {
            let base = m.as_ptr().wrapping_add(ahead as usize * cols + j0);
            for l in (0..TILE).step_by(16) {
                // SAFETY: a prefetch is a hint and never faults
                unsafe {
                    std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                        base.wrapping_add(l) as *const i8,
                    )
                };
            }
        }
        let src: &[f32; TILE] = m[i as usize * cols + j0..][..TILE].try_into().expect("a tile");
        for k in 0..TILE {
            if PLUS {
                a[k] += src[k];
            } else {
                a[k] -= src[k];
            }
        }
    }
    *acc = a;
}

/// `x ← σ(x)` elementwise, in f32 with a branch-free exponential (Cody–Waite
/// reduction and a degree-6 polynomial: relative error below 1e−6), so the
/// loop vectorises. Saturates cleanly: σ(+∞) = 1, σ(−∞) ≈ 6·10⁻³⁹ (the
/// argument is clamped to [−87, 88]).
pub fn sigmoid_in_place(xs: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU supports AVX-512F (checked just above).
        unsafe { sigmoid_avx512(xs) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        unsafe { sigmoid_avx2(xs) };
        return;
    }
    sigmoid_body(xs);
}

/// The same operations as the AVX2 and portable versions (no fused
/// operations), 16 lanes at a time: the same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn sigmoid_avx512(xs: &mut [f32]) {
    sigmoid_body(xs);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sigmoid_avx2(xs: &mut [f32]) {
    sigmoid_body(xs);
}

#[inline(always)]
fn sigmoid_body(xs: &mut [f32]) {
    for x in xs.iter_mut() {
        *x = 1.0 / (1.0 + exp_f32(-*x));
    }
}

/// e^x for f32, branch-free; exact powers of two via the exponent bits.
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    // clamp so that 2^n stays a normal number (NaN stays NaN)
    let x = x.clamp(-87.0, 88.0);
    const MAGIC: f32 = 12_582_912.0; // 1.5 · 2^23: adding it rounds to an integer
    let t = x * std::f32::consts::LOG2_E + MAGIC;
    let n = t - MAGIC;
    // the same integer from t's bits (|n| < 2²² keeps t in [2²³, 2²⁴), one
    // unit per ulp): `n as i32` is a saturating cast that does not vectorise
    let n_int = t.to_bits().wrapping_sub(MAGIC.to_bits()) as i32;
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    // e^r on |r| ≤ ln2/2: Taylor to degree 6 (error ≈ 1.3e−7 relative)
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    let scale = f32::from_bits((n_int.wrapping_add(127) as u32) << 23);
    p * scale
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
    fn fast_sigmoid_is_accurate() {
        let mut xs: Vec<f32> = (-2000..=2000).map(|k| k as f32 * 0.05).collect();
        xs.extend([f32::INFINITY, f32::NEG_INFINITY, 1e30, -1e30, 0.0]);
        let want: Vec<f32> = xs.iter().map(|&x| sigmoid(f64::from(x)) as f32).collect();
        sigmoid_in_place(&mut xs);
        for (g, w) in xs.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-6 * w.max(1e-30) + 1e-38, "{g} vs {w}");
        }
    }

    #[test]
    fn transpose_f32_is_the_transpose_at_any_shape() {
        for (rows, cols) in [(1, 1), (7, 3), (63, 7), (64, 9), (65, 64), (130, 500), (784, 500)] {
            let src: Vec<f32> = (0..rows * cols).map(|k| k as f32 - 0.25).collect();
            let mut dst = vec![f32::NAN; rows * cols];
            transpose_f32(&src, rows, cols, &mut dst);
            for i in 0..rows {
                for j in 0..cols {
                    assert_eq!(dst[j * rows + i], src[i * cols + j], "{rows}×{cols}: ({i}, {j})");
                }
            }
        }
    }

    #[test]
    fn transpose_to_is_the_transpose_at_any_shape_and_offset() {
        for (n, cols) in [(0, 5), (1, 1), (8, 8), (9, 17), (16, 8), (98, 500), (3, 40), (41, 7)] {
            let src: Vec<f32> = (0..n * cols).map(|k| k as f32 + 0.5).collect();
            let (c0, stride) = (3, n + 5);
            let mut dst = vec![-1f32; cols * stride];
            // SAFETY: dst holds cols rows of stride ≥ c0 + n columns
            unsafe { transpose_to(&src, cols, dst.as_mut_ptr().add(c0), stride) };
            for j in 0..cols {
                for k in 0..stride {
                    let want =
                        if (c0..c0 + n).contains(&k) { src[(k - c0) * cols + j] } else { -1.0 };
                    assert_eq!(dst[j * stride + k], want, "n {n} cols {cols}: ({j}, {k})");
                }
            }
        }
    }

    #[test]
    fn sigmoid_has_the_same_bits_on_every_instruction_set() {
        let xs: Vec<f32> = (0..4099)
            .map(|k| (k as f32 - 2049.0) * 0.0731)
            .chain([f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0, 1e-30, 100.0, -100.0])
            .collect();
        let mut want = xs.clone();
        sigmoid_body(&mut want);
        let mut got = xs.clone();
        sigmoid_in_place(&mut got);
        assert!(got.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()));
        #[cfg(target_arch = "x86_64")]
        for (feature, f) in [
            ("avx2", sigmoid_avx2 as unsafe fn(&mut [f32])),
            ("avx512f", sigmoid_avx512 as unsafe fn(&mut [f32])),
        ] {
            let has = match feature {
                "avx2" => std::arch::is_x86_feature_detected!("avx2"),
                _ => std::arch::is_x86_feature_detected!("avx512f"),
            };
            if has {
                let mut got = xs.clone();
                // SAFETY: the CPU has the feature (checked just above).
                unsafe { f(&mut got) };
                assert!(
                    got.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{feature}"
                );
            }
        }
        let p = |x: f32| {
            let mut v = [x];
            sigmoid_in_place(&mut v);
            v[0]
        };
        assert!(p(f32::INFINITY) == 1.0 && p(f32::NEG_INFINITY) < 1e-37);
        assert!((p(0.7) as f64 - 1.0 / (1.0 + (-0.7f64).exp())).abs() < 1e-6);
    }

    #[test]
    fn moves_turn_old_rows_into_new_ones() {
        let (rows, width) = (40, 23);
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        let mut bits = |p: u64| -> Vec<i8> {
            (0..rows * width)
                .map(|_| {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    i8::from(s % 100 < p)
                })
                .collect()
        };
        let (x, y) = (bits(30), bits(35));
        let (mut old, mut new) = (ActiveSets::new(width), ActiveSets::new(width));
        x.chunks(width).for_each(|r| old.push_row(r));
        // some new rows close to the old ones, some far
        for (r, (a, b)) in x.chunks(width).zip(y.chunks(width)).enumerate() {
            let mixed: Vec<i8> = a
                .iter()
                .zip(b)
                .enumerate()
                .map(|(k, (&a, &b))| if (k + r) % 5 == 0 { b } else { a })
                .collect();
            new.push_row(if r % 3 == 0 { b } else { &mixed });
        }
        let mut m = Moves::default();
        m.between(&old, &new);
        let (mut fresh, mut moved) = (0, 0);
        for r in 0..rows {
            let mut v: Vec<i8> =
                if m.is_fresh(r) { vec![0; width] } else { x[r * width..][..width].to_vec() };
            m.up().row(r).iter().for_each(|&k| {
                assert_eq!(v[k as usize], 0);
                v[k as usize] = 1
            });
            m.down().row(r).iter().for_each(|&k| {
                assert_eq!(v[k as usize], 1);
                v[k as usize] = 0
            });
            let want: Vec<u32> = new.row(r).to_vec();
            let got: Vec<u32> = (0..width as u32).filter(|&k| v[k as usize] == 1).collect();
            assert_eq!(got, want, "row {r}");
            let changes = m.up().row(r).len() + m.down().row(r).len();
            if m.is_fresh(r) {
                fresh += 1;
                assert!(m.down().row(r).is_empty());
            } else {
                moved += 1;
                assert!(changes < new.row(r).len(), "row {r}: a move costlier than a fresh sum");
            }
        }
        assert!(fresh > 0 && moved > 0, "both kinds of rows: {fresh} fresh, {moved} moved");
        let (mut both, mut old_only, mut new_only) = Default::default();
        old.split_into(&new, &mut both, &mut old_only, &mut new_only);
        for r in 0..rows {
            let set = |s: &ActiveSets| s.row(r).to_vec();
            let (o, n) = (set(&old), set(&new));
            assert_eq!(set(&both), o.iter().copied().filter(|k| n.contains(k)).collect::<Vec<_>>());
            assert_eq!(
                set(&old_only),
                o.iter().copied().filter(|k| !n.contains(k)).collect::<Vec<_>>()
            );
            assert_eq!(
                set(&new_only),
                n.iter().copied().filter(|k| !o.contains(k)).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn sparse_rows_match_dense_sums() {
        // every tile width (128, 64, …, 1) and every start, against sums in
        // the documented order (the same f32 operations, so the same bits)
        let (rows, inner) = (5, 7);
        let bits = |s: usize| -> Vec<i8> {
            (0..rows * inner).map(|k| i8::from((k * s) % 5 < 2)).collect()
        };
        let (x, y) = (bits(3), bits(7));
        let (mut sx, mut sy) = (ActiveSets::new(inner), ActiveSets::new(inner));
        x.chunks(inner).for_each(|r| sx.push_row(r));
        y.chunks(inner).for_each(|r| sy.push_row(r));
        for cols in [1, 3, 70, 255, 500] {
            let a: Vec<f32> =
                (0..inner * cols).map(|k| ((k * 37) % 101) as f32 * 0.173 - 8.0).collect();
            let b: Vec<f32> = (0..inner * cols).map(|k| ((k * 11) % 29) as f32 * 0.311).collect();
            let init: Vec<f32> = (0..cols).map(|k| k as f32 * 0.1).collect();
            let start: Vec<f32> = (0..(rows - 1) * cols).map(|k| k as f32 * -0.07).collect();
            for mode in 0..3 {
                let mut out = start.clone();
                let init_mode = match mode {
                    0 => Init::Zero,
                    1 => Init::Row(&init),
                    _ => Init::Out,
                };
                sparse_rows(&mut out, cols, init_mode, (&a, &sx), Some((&b, &sy)), 1..rows);
                for r in 1..rows {
                    for j in 0..cols {
                        let mut want = match mode {
                            0 => 0.0,
                            1 => init[j],
                            _ => start[(r - 1) * cols + j],
                        };
                        for i in 0..inner {
                            if x[r * inner + i] == 1 {
                                want += a[i * cols + j];
                            }
                        }
                        for i in 0..inner {
                            if y[r * inner + i] == 1 {
                                want -= b[i * cols + j];
                            }
                        }
                        let got = out[(r - 1) * cols + j];
                        assert_eq!(
                            got.to_bits(),
                            want.to_bits(),
                            "cols {cols} mode {mode} ({r}, {j})"
                        );
                    }
                }
                // the portable body (64-column tiles) gives the same bits
                let mut portable = start.clone();
                let p = (&a[..], &sx);
                sparse_rows_body::<TILE>(
                    &mut portable,
                    cols,
                    init_mode,
                    p,
                    Some((&b, &sy)),
                    1..rows,
                );
                assert!(portable.iter().zip(&out).all(|(p, o)| p.to_bits() == o.to_bits()));
            }
        }
        let mut t = ActiveSets::new(0);
        sx.transpose_into(&mut t);
        for i in 0..inner {
            let want: Vec<u32> =
                (0..rows as u32).filter(|&r| x[r as usize * inner + i] == 1).collect();
            assert_eq!(t.row(i), &want[..]);
        }
    }

    #[test]
    fn dot_handles_tails() {
        let w: Vec<f64> = (0..7).map(f64::from).collect();
        assert_eq!(dot_i8(&w, &[1, 0, 1, 1, 0, 0, 1]), 0.0 + 2.0 + 3.0 + 6.0);
    }
}
