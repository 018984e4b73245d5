//! Batched conditionals of the RBM: `p(h | v)` and `p(v | h)` for dense,
//! binary (sparse) and real-valued batches, and the sparse outer products of
//! its weight statistics.

use super::*;

impl Rbm {
    /// `out[j] = p(h_j = 1 | v) = σ(β (c_j + Σ_i v_i W_ij))`, in f64.
    pub fn hidden_probs(&self, v: &[i8], beta: Beta, out: &mut [f64]) -> Result<()> {
        check_len("visible units", self.nv, v.len())?;
        check_len("hidden probabilities", self.nh, out.len())?;
        Domain::Bit.validate(v)?;
        for (j, o) in out.iter_mut().enumerate() {
            *o = sigmoid(beta.value() * self.hidden_input(v, j));
        }
        Ok(())
    }

    /// `out[i] = p(v_i = 1 | h) = σ(β (b_i + Σ_j W_ij h_j))`, in f64.
    pub fn visible_probs(&self, h: &[i8], beta: Beta, out: &mut [f64]) -> Result<()> {
        check_len("hidden units", self.nh, h.len())?;
        check_len("visible probabilities", self.nv, out.len())?;
        Domain::Bit.validate(h)?;
        for (i, o) in out.iter_mut().enumerate() {
            *o = sigmoid(beta.value() * self.visible_input(h, i));
        }
        Ok(())
    }

    /// Batched `p(h = 1 | v)`: `v` holds rows of `n_visible` values (f32, e.g.
    /// probabilities, or i8 bits), `out` the matching rows of `n_hidden`
    /// probabilities. One f32 GEMM `β (V W + 1 cᵀ)`, then a stable sigmoid.
    pub fn hidden_probs_batch<T: BatchValue>(
        &self,
        v: &[T],
        beta: Beta,
        out: &mut [f32],
    ) -> Result<()> {
        let rows = check_rows_allow_empty("visible batch", v.len(), self.nv)?;
        check_len("hidden probabilities (rows × n_hidden)", rows * self.nh, out.len())?;
        T::validate(v)?;
        let v = T::to_f32(v);
        self.hidden_probs_f32(&v, rows, beta, out);
        Ok(())
    }

    /// `out ← σ(β (V W + 1 cᵀ))` for `rows` rows of V (f32, validated).
    pub(super) fn hidden_probs_f32(&self, v: &[f32], rows: usize, beta: Beta, out: &mut [f32]) {
        self.probs_gemm(v, rows, beta, out, false);
    }

    /// The one dense conditional: `out ← σ(β (X M + 1 biasᵀ))` with, for the
    /// hidden layer, `M = W` and the hidden biases, for the visible layer
    /// `M = Wᵀ` (the same row-major W with swapped strides) and the visible
    /// biases; one f32 GEMM, then a stable sigmoid.
    fn probs_gemm(&self, x: &[f32], rows: usize, beta: Beta, out: &mut [f32], visible: bool) {
        let bt = beta.value() as f32;
        let (inner, width, bias) =
            if visible { (self.nh, self.nv, &self.b32) } else { (self.nv, self.nh, &self.c32) };
        for row in out.chunks_exact_mut(width) {
            row.copy_from_slice(bias);
        }
        let w = View::row_major(&self.w32, self.nv, self.nh);
        let m = if visible { w.t() } else { w };
        linalg::sgemm(bt, View::row_major(x, rows, inner), m, bt, out);
        for p in out.iter_mut() {
            *p = sigmoid_f32(*p);
        }
    }

    /// Batched `p(v = 1 | h)`: rows of `n_hidden` values in, rows of
    /// `n_visible` probabilities out. One f32 GEMM `β (H Wᵀ + 1 bᵀ)`, reading
    /// the same row-major W with swapped strides.
    pub fn visible_probs_batch<T: BatchValue>(
        &self,
        h: &[T],
        beta: Beta,
        out: &mut [f32],
    ) -> Result<()> {
        let rows = check_rows_allow_empty("hidden batch", h.len(), self.nh)?;
        check_len("visible probabilities (rows × n_visible)", rows * self.nv, out.len())?;
        T::validate(h)?;
        let h = T::to_f32(h);
        self.probs_gemm(&h, rows, beta, out, true);
        Ok(())
    }

    /// Batched `p(h = 1 | v)` for binary visible rows given as [`ActiveSets`]
    /// (width `n_visible`): for the rows `rows`, `out` (`rows.len() × n_hidden`)
    /// ← `σ(β (c + Σ_{i active} W_i·))`. The pre-activations are sums of rows
    /// of the f32 mirror of W over the active units (a GEMM with a 0/1 left
    /// operand, at the cost of the ones only), in a fixed order per element:
    /// bit-identical however the rows are split among threads.
    ///
    /// Errors: a width other than `n_visible`, a range outside the sets, or a
    /// wrong `out` length.
    pub fn hidden_probs_sparse(
        &self,
        v: &ActiveSets,
        rows: Range<usize>,
        beta: Beta,
        out: &mut [f32],
    ) -> Result<()> {
        self.probs_sparse(v, rows, beta, out, false)
    }

    /// The hidden pre-activations of binary visible rows, `inputs`
    /// (`rows.len() × n_hidden`) ← `c + Σ_{i active} W_i·`: the sums of
    /// [`Rbm::hidden_probs_sparse`] before β and the sigmoid, kept so that
    /// [`Rbm::hidden_probs_moved`] can move them to a nearby state.
    ///
    /// Errors: as [`Rbm::hidden_probs_sparse`].
    pub fn hidden_inputs_sparse(
        &self,
        v: &ActiveSets,
        rows: Range<usize>,
        inputs: &mut [f32],
    ) -> Result<()> {
        self.inputs_sparse(v, rows, inputs, false)
    }

    /// `p(h = 1 | v')` for visible rows v' near rows v whose pre-activations
    /// `inputs` holds ([`Rbm::hidden_inputs_sparse`]): the pre-activations
    /// are moved in place to those of v' by adding the weight rows of the
    /// units `moves` switches on and subtracting those it switches off (a
    /// fresh row is summed from `c`), then `out ← σ(β · inputs)`. A CD chain's
    /// reconstruction differs from its data row in a few units, so this costs
    /// a fraction of [`Rbm::hidden_probs_sparse`]. The same value in exact
    /// arithmetic; in f32 the rounding differs (each element summed in a
    /// fixed order, so the bits do not depend on the thread count).
    ///
    /// Errors: a width other than `n_visible`, or lengths other than
    /// `moves.n_rows() × n_hidden`.
    pub fn hidden_probs_moved(
        &self,
        inputs: &mut [f32],
        moves: &Moves,
        beta: Beta,
        out: &mut [f32],
    ) -> Result<()> {
        let rows = moves.n_rows();
        check_len("active-set width", self.nv, moves.up().width())?;
        check_len("pre-activations (rows × n_hidden)", rows * self.nh, inputs.len())?;
        check_len("probabilities (rows × n_hidden)", rows * self.nh, out.len())?;
        for (r, a) in inputs.chunks_exact_mut(self.nh).enumerate() {
            if moves.is_fresh(r) {
                a.copy_from_slice(&self.c32);
            }
        }
        let (up, down) = ((&self.w32[..], moves.up()), (&self.w32[..], moves.down()));
        linalg::sparse_rows(inputs, self.nh, linalg::Init::Out, up, Some(down), 0..rows);
        Self::probs_of_inputs(inputs, beta, out)
    }

    /// `out ← σ(β · inputs)`, element by element (the last step of the
    /// sparse conditionals, with the same bits).
    ///
    /// Errors: `out` and `inputs` of different lengths.
    pub fn probs_of_inputs(inputs: &[f32], beta: Beta, out: &mut [f32]) -> Result<()> {
        check_len("probabilities", inputs.len(), out.len())?;
        out.copy_from_slice(inputs);
        sigmoid_scaled(out, beta);
        Ok(())
    }

    /// Batched `p(v = 1 | h)` for every row of `h` (width `n_hidden`), the
    /// product `H Wᵀ` by group tables (the method of four Russians: the 16
    /// subset sums of each group of 4 hidden units' weight rows, then one
    /// table row per group and output row). For hidden layers about half on,
    /// as in training, it costs half of [`Rbm::visible_probs_sparse`]; the
    /// sums are in another (fixed) order, so the bits differ from it, but
    /// not with the number of threads. Used by the CD/PCD training kernel.
    ///
    /// Errors: a width other than `n_hidden` or a wrong `out` length.
    pub fn visible_probs_grouped(&self, h: &ActiveSets, beta: Beta, out: &mut [f32]) -> Result<()> {
        check_len("active-set width", self.nh, h.width())?;
        check_len("probabilities (rows × n_visible)", h.n_rows() * self.nv, out.len())?;
        crate::grouped::grouped_rows(out, self.nv, &self.b32, &self.wt32, h, |o| {
            sigmoid_scaled(o, beta)
        });
        Ok(())
    }

    /// Batched `p(v = 1 | h)` for binary hidden rows given as [`ActiveSets`]
    /// (width `n_hidden`): `out` ← `σ(β (b + Σ_{j active} W_·j))`, as
    /// [`Rbm::hidden_probs_sparse`].
    pub fn visible_probs_sparse(
        &self,
        h: &ActiveSets,
        rows: Range<usize>,
        beta: Beta,
        out: &mut [f32],
    ) -> Result<()> {
        self.probs_sparse(h, rows, beta, out, true)
    }

    pub(super) fn probs_sparse(
        &self,
        x: &ActiveSets,
        rows: Range<usize>,
        beta: Beta,
        out: &mut [f32],
        visible: bool,
    ) -> Result<()> {
        self.inputs_sparse(x, rows, out, visible)?;
        sigmoid_scaled(out, beta);
        Ok(())
    }

    /// `out ← bias + Σ_{i active} M_i·` for the rows `rows` of `x`: the
    /// pre-activations of the hidden layer (`M = W`, c) or of the visible one
    /// (`M = Wᵀ`, b), as the sparse conditionals sum them.
    fn inputs_sparse(
        &self,
        x: &ActiveSets,
        rows: Range<usize>,
        out: &mut [f32],
        visible: bool,
    ) -> Result<()> {
        let (inner, width, m, bias) = if visible {
            (self.nh, self.nv, &self.wt32, &self.b32)
        } else {
            (self.nv, self.nh, &self.w32, &self.c32)
        };
        check_len("active-set width", inner, x.width())?;
        check_len("rows within the active sets", x.n_rows(), x.n_rows().max(rows.end))?;
        check_len("rows × layer width", rows.len() * width, out.len())?;
        check_row_range(&rows)?;
        linalg::sparse_rows(out, width, linalg::Init::Row(bias), (m, x), None, rows);
        Ok(())
    }

    /// The sparse building block of weight statistics:
    /// `out[k, :] = Σ_{r ∈ plus.row(k)} a[r, :] − Σ_{r ∈ minus.row(k)} b[r, :]`
    /// for the rows `rows` of the sets, with `a`, `b` row-major with `cols`
    /// columns. With `plus` the transpose ([`ActiveSets::transpose_into`]) of a
    /// batch of visible rows V and `a` the matching hidden probabilities P,
    /// row i of the result is row i of `Vᵀ P`: a CD gradient `V₀ᵀ P₀ − V₁ᵀ P₁`
    /// costs one add per (one, hidden unit), in a fixed order per element.
    ///
    /// Errors: inconsistent shapes.
    pub fn sparse_outer_difference(
        out: &mut [f32],
        cols: usize,
        plus: (&[f32], &ActiveSets),
        minus: (&[f32], &ActiveSets),
        rows: Range<usize>,
    ) -> Result<()> {
        check_len("rows within the active sets", plus.1.n_rows(), plus.1.n_rows().max(rows.end))?;
        check_len("rows of the two sets", plus.1.n_rows(), minus.1.n_rows())?;
        check_len("output (rows × cols)", rows.len() * cols, out.len())?;
        check_len("plus matrix (width × cols)", plus.1.width() * cols, plus.0.len())?;
        check_len("minus matrix (width × cols)", minus.1.width() * cols, minus.0.len())?;
        check_row_range(&rows)?;
        linalg::sparse_rows(out, cols, linalg::Init::Zero, plus, Some(minus), rows);
        Ok(())
    }

    /// [`Rbm::sparse_outer_difference`] for two batches whose rows share
    /// most of their ones, as a CD chain's reconstruction shares them with its
    /// data row: with `A − B = Σ_{shared} (a − b) + Σ_{plus only} a − Σ_{minus
    /// only} b`, row k of the result is `Σ_{r ∈ shared.row(k)} d[r, :] +
    /// Σ_{r ∈ plus_only.row(k)} a[r, :] − Σ_{r ∈ minus_only.row(k)} b[r, :]`
    /// with `d = a − b` (the caller's), one add per one of the union instead
    /// of one per one of each. The same value in exact arithmetic; the sets
    /// come from [`ActiveSets::split_into`].
    ///
    /// Errors: inconsistent shapes.
    pub fn sparse_outer_paired(
        out: &mut [f32],
        cols: usize,
        shared: (&[f32], &ActiveSets),
        plus_only: (&[f32], &ActiveSets),
        minus_only: (&[f32], &ActiveSets),
        rows: Range<usize>,
    ) -> Result<()> {
        let n = shared.1.n_rows();
        check_len("rows within the active sets", n, n.max(rows.end))?;
        check_len("rows of the sets", n, plus_only.1.n_rows())?;
        check_len("rows of the sets", n, minus_only.1.n_rows())?;
        check_len("output (rows × cols)", rows.len() * cols, out.len())?;
        for (m, s) in [shared, plus_only, minus_only] {
            check_len("matrix (width × cols)", s.width() * cols, m.len())?;
        }
        check_row_range(&rows)?;
        linalg::sparse_rows(out, cols, linalg::Init::Zero, shared, None, rows.clone());
        linalg::sparse_rows(out, cols, linalg::Init::Out, plus_only, Some(minus_only), rows);
        Ok(())
    }

    /// Batched `p(h = 1 | v)` for real-valued visible rows (e.g. the
    /// probabilities of a mean-field reconstruction): `out` (`rows × n_hidden`)
    /// ← `σ(β (V W + 1 cᵀ))` with `v` row-major `rows × n_visible`, by f32 GEMM
    /// from the f32 mirror of W.
    ///
    /// The hidden units are split into [`DENSE_COLUMN_BLOCKS`] fixed blocks
    /// (a multiple of 16 wide) computed in parallel into `work` (grown as
    /// needed, then reused) and copied into `out`. The blocks depend only on
    /// the shape, and GEMM never splits the sum over visible units, so the
    /// result is bit-identical for any number of threads. Inputs are not
    /// checked for finiteness (a non-finite input gives non-finite outputs).
    ///
    /// Errors: `v` not a whole number of rows, or `out` of the wrong length.
    pub fn hidden_probs_dense(
        &self,
        v: &[f32],
        beta: Beta,
        out: &mut [f32],
        work: &mut Vec<f32>,
    ) -> Result<()> {
        let (nv, nh) = (self.nv, self.nh);
        let rows = check_rows_allow_empty("visible batch", v.len(), nv)?;
        check_len("hidden probabilities (rows × n_hidden)", rows * nh, out.len())?;
        if rows == 0 {
            return Ok(());
        }
        let cb = dense_column_block(nh);
        let bt = beta.value() as f32;
        work.resize(rows * nh, 0.0);
        work.par_chunks_mut(rows * cb).enumerate().for_each(|(k, blk)| {
            let j0 = k * cb;
            let w = blk.len() / rows;
            for row in blk.chunks_exact_mut(w) {
                row.copy_from_slice(&self.c32[j0..j0 + w]);
            }
            let wv = View::strided(&self.w32[j0..], nv, w, nh, 1);
            linalg::sgemm(bt, View::row_major(v, rows, nv), wv, bt, blk);
            sigmoid_in_place(blk);
        });
        for (k, blk) in work.chunks(rows * cb).enumerate() {
            let j0 = k * cb;
            let w = blk.len() / rows;
            for (o, src) in out.chunks_exact_mut(nh).zip(blk.chunks_exact(w)) {
                o[j0..j0 + w].copy_from_slice(src);
            }
        }
        Ok(())
    }

    /// The weight statistics of a mean-field negative phase:
    /// `out[k, :] = Σ_{r ∈ plus.row(k)} a[r, :] − Σ_r V[r, k] P[r, :]` for the
    /// rows `rows` (`out` holds `rows.len() × cols`), with `plus` a transposed
    /// batch of binary rows ([`ActiveSets::transpose_into`]) and `a` their
    /// hidden probabilities, `V` (`dense.0`, row-major `n_rows × width`) real
    /// values such as reconstruction probabilities and `P` (`dense.1`,
    /// row-major `n_rows × cols`) their hidden probabilities. Row k of the
    /// result over all rows is row k of `V₀ᵀP₀ − V₁ᵀP₁`: the sparse term costs
    /// one add per (one, column), the dense one is an f32 GEMM with the sum
    /// over the batch never split, so every element is computed the same way
    /// for a given `rows` range whatever the threads.
    ///
    /// Errors: inconsistent shapes.
    pub fn sparse_dense_outer_difference(
        out: &mut [f32],
        cols: usize,
        plus: (&[f32], &ActiveSets),
        dense: (&[f32], &[f32]),
        rows: Range<usize>,
    ) -> Result<()> {
        let batch = plus.1.width();
        check_len("output (rows × cols)", rows.len() * cols, out.len())?;
        check_len("plus matrix (batch rows × cols)", batch * cols, plus.0.len())?;
        check_len("dense rows (batch rows × width)", batch * plus.1.n_rows(), dense.0.len())?;
        check_len("dense probabilities (batch rows × cols)", batch * cols, dense.1.len())?;
        Self::sparse_outer_sum(out, cols, plus, rows.clone())?;
        Self::subtract_dense_outer(out, cols, plus.1.n_rows(), dense, rows)
    }

    /// The sparse half of [`Rbm::sparse_dense_outer_difference`]:
    /// `out[k, :] = Σ_{r ∈ plus.row(k)} a[r, :]` for the rows `rows` (`out`
    /// holds `rows.len() × cols`), each element summed in a fixed order.
    ///
    /// Errors: inconsistent shapes.
    pub fn sparse_outer_sum(
        out: &mut [f32],
        cols: usize,
        plus: (&[f32], &ActiveSets),
        rows: Range<usize>,
    ) -> Result<()> {
        let (batch, width) = (plus.1.width(), plus.1.n_rows());
        check_len("output (rows × cols)", rows.len() * cols, out.len())?;
        check_len("plus matrix (batch rows × cols)", batch * cols, plus.0.len())?;
        if rows.start > rows.end || rows.end > width {
            return Err(Error::ShapeMismatch {
                what: "row range within the width",
                expected: width,
                found: rows.end,
            });
        }
        linalg::sparse_rows(out, cols, linalg::Init::Zero, plus, None, rows);
        Ok(())
    }

    /// The dense half of [`Rbm::sparse_dense_outer_difference`]:
    /// `out[k, :] −= Σ_r V[r, k] P[r, :]` for the rows `rows` of Vᵀ (`out`
    /// holds `rows.len() × cols`), with `V` (`dense.0`, row-major
    /// `batch × width`) and `P` (`dense.1`, row-major `batch × cols`), by one
    /// f32 GEMM that never splits the sum over the batch: applied to the
    /// output of [`Rbm::sparse_outer_sum`] it gives the same bits as
    /// [`Rbm::sparse_dense_outer_difference`].
    ///
    /// Errors: inconsistent shapes.
    pub fn subtract_dense_outer(
        out: &mut [f32],
        cols: usize,
        width: usize,
        dense: (&[f32], &[f32]),
        rows: Range<usize>,
    ) -> Result<()> {
        let (v, p) = dense;
        let batch = p.len().checked_div(cols).unwrap_or(0);
        check_len("output (rows × cols)", rows.len() * cols, out.len())?;
        check_len("dense probabilities (batch rows × cols)", batch * cols, p.len())?;
        check_len("dense rows (batch rows × width)", batch * width, v.len())?;
        if rows.start > rows.end || rows.end > width {
            return Err(Error::ShapeMismatch {
                what: "row range within the width",
                expected: width,
                found: rows.end,
            });
        }
        if rows.is_empty() || batch == 0 {
            return Ok(());
        }
        let vt = View::strided(&v[rows.start..], rows.len(), batch, 1, width);
        linalg::sgemm(-1.0, vt, View::row_major(p, batch, cols), 1.0, out);
        Ok(())
    }
}

/// A row range that does not run backwards.
fn check_row_range(rows: &Range<usize>) -> Result<()> {
    if rows.start > rows.end {
        return Err(Error::ShapeMismatch {
            what: "row range",
            expected: rows.start,
            found: rows.end,
        });
    }
    Ok(())
}

/// `x ← σ(β x)` element by element, in f32 (the last step of every f32
/// conditional).
pub(super) fn sigmoid_scaled(xs: &mut [f32], beta: Beta) {
    let bt = beta.value() as f32;
    if bt != 1.0 {
        xs.iter_mut().for_each(|p| *p *= bt);
    }
    sigmoid_in_place(xs);
}
