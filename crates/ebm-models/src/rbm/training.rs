//! In-place parameter updates of the RBM for its training kernel: W block by
//! block with the f32 mirror and its transpose refreshed in the same pass.

use super::*;

impl Rbm {
    /// Updates the weights W in place, fused with the refresh of their f32
    /// mirrors. W's rows (visible units) are cut into blocks of
    /// `rows_per_block` (the last may be shorter); for each block, in
    /// parallel, `prepare(rows, work)` fills those rows of the W-shaped f32
    /// work area (e.g. with a gradient) and its result goes to
    /// `results[block]`; then one pass over the block calls
    /// `update(w, side, work)` on each weight (f64, in place) with the same
    /// element of the W-shaped companion `side` (e.g. an optimizer's velocity)
    /// and of `work`, and writes the f32 mirror while the block is in cache.
    /// The f32 transpose follows in one parallel pass; the f64 transpose used
    /// by the single-vector methods is rebuilt lazily, on first use.
    ///
    /// The biases are untouched ([`Rbm::update_biases`]). Blocks depend only
    /// on `rows_per_block`, so if `prepare` computes each element the same
    /// way whatever the block's thread, the result does not depend on the
    /// number of threads.
    ///
    /// Errors: wrong lengths (`side`, `work`: `n_visible × n_hidden`;
    /// `results`: the number of blocks) or `rows_per_block = 0`, before
    /// anything changes; the first error of `prepare` (the blocks already done
    /// keep their update); [`Error::NonFinite`] with the first index of W at
    /// which `update` left a non-finite value, after replacing every such
    /// value by 0 so that the model stays valid.
    pub fn update_weights<P, U>(
        &mut self,
        rows_per_block: usize,
        side: &mut [f64],
        work: &mut [f32],
        results: &mut [f64],
        prepare: P,
        update: U,
    ) -> Result<()>
    where
        P: Fn(Range<usize>, &mut [f32]) -> Result<f64> + Sync,
        U: Fn(&mut f64, &mut f64, f32) + Sync,
    {
        let (nv, nh) = (self.nv, self.nh);
        positive("rows_per_block", rows_per_block)?;
        check_len("side (n_visible × n_hidden)", nv * nh, side.len())?;
        check_len("work (n_visible × n_hidden)", nv * nh, work.len())?;
        check_len("results (one per block)", nv.div_ceil(rows_per_block), results.len())?;
        let first_bad = AtomicUsize::new(usize::MAX);
        let chunk = rows_per_block * nh;
        // each block writes its own columns of the transposed mirror
        let wt32 = SharedColumns::new(&mut self.wt32, nh, nv);
        self.theta[..nv * nh]
            .par_chunks_mut(chunk)
            .zip(self.w32.par_chunks_mut(chunk))
            .zip(side.par_chunks_mut(chunk))
            .zip(work.par_chunks_mut(chunk))
            .zip(results.par_iter_mut())
            .enumerate()
            .try_for_each(|(k, ((((w, w32), side), work), res))| -> Result<()> {
                let r0 = k * rows_per_block;
                *res = prepare(r0..r0 + w.len() / nh, work)?;
                if apply_block(w, w32, side, work, &update) {
                    for (i, (x, d)) in w.iter_mut().zip(w32.iter_mut()).enumerate() {
                        if !fits_f32(*x) {
                            first_bad.fetch_min(k * chunk + i, Ordering::Relaxed);
                            *x = 0.0;
                            *d = 0.0;
                        }
                    }
                }
                // SAFETY: block k alone writes columns r0..r0 + rows of Wᵀ.
                unsafe { wt32.write_transposed(w32, r0) };
                Ok(())
            })?;
        if let Some(wt) = self.wt.take() {
            self.wt_spare = wt;
        }
        match first_bad.into_inner() {
            usize::MAX => Ok(()),
            index => Err(Error::NonFinite { what: "updated weights", index }),
        }
    }

    /// Updates the biases in place with `f(b, c)` and refreshes their f32
    /// mirrors. Errors: [`Error::NonFinite`] (index into `[b, c]`) if `f`
    /// left a non-finite value, after replacing every such value by 0.
    pub fn update_biases(&mut self, f: impl FnOnce(&mut [f64], &mut [f64])) -> Result<()> {
        let nw = self.nv * self.nh;
        let (b, c) = self.theta[nw..].split_at_mut(self.nv);
        f(b, c);
        let mut first_bad = None;
        for (i, x) in self.theta[nw..].iter_mut().enumerate() {
            if !fits_f32(*x) {
                first_bad.get_or_insert(i);
                *x = 0.0;
            }
        }
        let (_, b, c) = split(&self.theta, self.nv, self.nh);
        for (d, &s) in self.b32.iter_mut().zip(b) {
            *d = s as f32;
        }
        for (d, &s) in self.c32.iter_mut().zip(c) {
            *d = s as f32;
        }
        match first_bad {
            None => Ok(()),
            Some(index) => Err(Error::NonFinite { what: "updated biases", index }),
        }
    }
}

/// `update(w, side, work)` element-wise, then `w32 ← w as f32`; whether a
/// non-finite value was left. With AVX-512 or AVX2 when the CPU has them
/// (the same operations, no fused multiply-adds: the same bits).
pub(super) fn apply_block<U: Fn(&mut f64, &mut f64, f32)>(
    w: &mut [f64],
    w32: &mut [f32],
    side: &mut [f64],
    work: &[f32],
    update: &U,
) -> bool {
    #[inline(always)]
    pub(super) fn body<U: Fn(&mut f64, &mut f64, f32)>(
        w: &mut [f64],
        w32: &mut [f32],
        side: &mut [f64],
        work: &[f32],
        update: &U,
    ) -> bool {
        let mut bad = 0u32;
        for (((x, d), sd), &g) in
            w.iter_mut().zip(w32.iter_mut()).zip(side.iter_mut()).zip(work.iter())
        {
            update(x, sd, g);
            bad |= u32::from(!fits_f32(*x));
            *d = *x as f32;
        }
        bad != 0
    }
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        unsafe fn avx2<U: Fn(&mut f64, &mut f64, f32)>(
            w: &mut [f64],
            w32: &mut [f32],
            side: &mut [f64],
            work: &[f32],
            update: &U,
        ) -> bool {
            body(w, w32, side, work, update)
        }
        #[target_feature(enable = "avx512f")]
        unsafe fn avx512<U: Fn(&mut f64, &mut f64, f32)>(
            w: &mut [f64],
            w32: &mut [f32],
            side: &mut [f64],
            work: &[f32],
            update: &U,
        ) -> bool {
            body(w, w32, side, work, update)
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F (checked just above).
            return unsafe { avx512(w, w32, side, work, update) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { avx2(w, w32, side, work, update) };
        }
    }
    body(w, w32, side, work, update)
}

/// A row-major `rows × cols` f32 matrix whose disjoint column ranges are
/// written from several threads (the transposed mirror of W, block by block).
pub(super) struct SharedColumns {
    ptr: *mut f32,
    rows: usize,
    cols: usize,
}

// SAFETY: writers touch disjoint columns (see `write_transposed`); the
// matrix is borrowed mutably for the lifetime of the wrapper's use.
unsafe impl Sync for SharedColumns {}

impl SharedColumns {
    pub(super) fn new(m: &mut [f32], rows: usize, cols: usize) -> Self {
        assert_eq!(m.len(), rows * cols, "SharedColumns: shape");
        SharedColumns { ptr: m.as_mut_ptr(), rows, cols }
    }

    /// Columns `c0..c0 + src.len() / rows` ← the transpose of `src`
    /// (row-major, `rows` columns): pure copies.
    ///
    /// # Safety
    /// No other thread may access these columns meanwhile, and the matrix
    /// must outlive the call.
    unsafe fn write_transposed(&self, src: &[f32], c0: usize) {
        let (rows, cols) = (self.rows, self.cols);
        let n = src.len() / rows;
        assert!(c0 + n <= cols && src.len() == n * rows, "SharedColumns: columns");
        // SAFETY: columns c0..c0 + n of every row lie inside the matrix
        // (checked), and the caller keeps other threads off them.
        unsafe { linalg::transpose_to(src, rows, self.ptr.add(c0), cols) };
    }
}

/// Whether a parameter is finite and its f32 mirror too (|x| ≤ f32::MAX): a
/// step past it has diverged, though the f64 value is still finite.
#[inline]
pub(super) fn fits_f32(x: f64) -> bool {
    x.abs() <= f64::from(f32::MAX)
}
