//! The sublattice layout of a periodic lattice with even sides, shared by the
//! checkerboard kernels (Ising and Potts).
//!
//! One array per colour, row by row along the last axis: `X_c[r][k]` is site
//! `2k + (c ⊕ p_r)` of row r, with `p_r` the parity of the row's other
//! coordinates. The 2d neighbours of `X_c[r][k]` are then `X_{1−c}` at
//! `[r][k]`, `[r][k ∓ 1]` and `[r'][k]` for the neighbouring rows r′, so a
//! row of one colour updates with contiguous loops. The rows are split into
//! a fixed number of stripes (independent of the thread count), the
//! parallel work units of a sweep, scheduled by [`schedule`].

pub(crate) mod schedule;

use std::sync::{Mutex, OnceLock};

/// The geometry of the layout.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Layout {
    /// The lattice's sides.
    pub(crate) dims: Vec<usize>,
    /// Sites per row (the last side).
    pub(crate) row_len: usize,
    /// Sites per row and colour.
    pub(crate) half: usize,
    /// Parity of each row's coordinates other than the last.
    pub(crate) row_parity: Vec<u8>,
    /// Neighbouring rows of each row (2 in 2D, 4 in 3D, none in 1D).
    pub(crate) row_nbrs: Vec<[u32; 4]>,
    /// How many of `row_nbrs` are used: 2(d − 1).
    pub(crate) n_row_nbrs: usize,
    /// Stripe boundaries (row indices), `n_stripes + 1` of them.
    pub(crate) stripe_rows: Vec<usize>,
    /// The stripe of each row.
    pub(crate) row_stripe: Vec<u8>,
    /// For each stripe, the mask of the stripes holding a row neighbour of
    /// one of its rows, itself included (a symmetric relation).
    pub(crate) deps: Vec<u64>,
}

impl Layout {
    /// The layout of a periodic lattice with sides `dims` (every side even,
    /// checked by the caller) in at most `stripes` stripes (and at most
    /// [`schedule::MAX_STRIPES`]).
    pub(crate) fn new(dims: &[usize], stripes: usize) -> Layout {
        let d = dims.len();
        let row_len = dims[d - 1];
        let n_rows: usize = dims[..d - 1].iter().product();
        // coordinates of a row: (a) in 2D, (a, b) in 3D, () in 1D
        let (n_a, n_b) = match d {
            1 => (1, 1),
            2 => (dims[0], 1),
            _ => (dims[0], dims[1]),
        };
        let mut row_parity = Vec::with_capacity(n_rows);
        let mut row_nbrs = Vec::with_capacity(n_rows);
        for r in 0..n_rows {
            let (a, b) = (r / n_b, r % n_b);
            row_parity.push(((a + b) % 2) as u8);
            // n_rows ≤ MAX_SITES = u32::MAX
            let idx = |a: usize, b: usize| (a * n_b + b) as u32;
            row_nbrs.push([
                idx((a + n_a - 1) % n_a, b),
                idx((a + 1) % n_a, b),
                idx(a, (b + n_b - 1) % n_b),
                idx(a, (b + 1) % n_b),
            ]);
        }
        let n_stripes = stripes.clamp(1, schedule::MAX_STRIPES).min(n_rows);
        let stripe_rows: Vec<usize> = (0..=n_stripes).map(|s| s * n_rows / n_stripes).collect();
        let mut row_stripe = vec![0u8; n_rows];
        for s in 0..n_stripes {
            // s < MAX_STRIPES = 64
            row_stripe[stripe_rows[s]..stripe_rows[s + 1]].fill(s as u8);
        }
        let n_row_nbrs = 2 * (d - 1);
        let deps = (0..n_stripes)
            .map(|s| {
                (stripe_rows[s]..stripe_rows[s + 1]).fold(1u64 << s, |m, r| {
                    row_nbrs[r][..n_row_nbrs]
                        .iter()
                        .fold(m, |m, &rn| m | 1 << row_stripe[rn as usize])
                })
            })
            .collect();
        Layout {
            dims: dims.to_vec(),
            row_len,
            half: row_len / 2,
            row_parity,
            row_nbrs,
            n_row_nbrs,
            stripe_rows,
            row_stripe,
            deps,
        }
    }

    /// Number of rows.
    pub(crate) fn n_rows(&self) -> usize {
        self.row_parity.len()
    }

    /// Number of stripes.
    pub(crate) fn n_stripes(&self) -> usize {
        self.stripe_rows.len() - 1
    }

    /// Site index of `X_c[r][k]`.
    #[inline]
    pub(crate) fn site(&self, c: usize, r: usize, k: usize) -> usize {
        r * self.row_len + 2 * k + (c ^ usize::from(self.row_parity[r]))
    }

    /// A configuration in site order, split into the two colours' arrays.
    pub(crate) fn split<T: Copy + Default>(&self, x: &[T]) -> [Vec<T>; 2] {
        let (n_rows, half) = (self.n_rows(), self.half);
        let mut out = [vec![T::default(); n_rows * half], vec![T::default(); n_rows * half]];
        for (c, o) in out.iter_mut().enumerate() {
            for r in 0..n_rows {
                for k in 0..half {
                    o[r * half + k] = x[self.site(c, r, k)];
                }
            }
        }
        out
    }

    /// The two colours' arrays joined back into site order: row r of the
    /// lattice interleaves `X_{p_r}[r]` (even sites) and `X_{1−p_r}[r]` (odd).
    ///
    /// Large lattices are joined in parallel, each task reading the stripes
    /// its sweep task updates ([`schedule::task_block`]), so the rows stay in
    /// the cache of the core that swept them (pure copies: the same result).
    ///
    /// The result is written into `out`'s buffer: every element is
    /// overwritten, and a buffer of the right length is neither reallocated
    /// nor zeroed.
    pub(crate) fn join<T: Copy + Default + Send + Sync>(
        &self,
        values: &[Vec<T>; 2],
        mut out: Vec<T>,
    ) -> Vec<T> {
        let (n_rows, half, row_len) = (self.n_rows(), self.half, self.row_len);
        if out.len() != n_rows * row_len {
            out.clear();
            out.resize(n_rows * row_len, T::default());
        }
        // rows r0.. of the lattice into `rows`
        let fill = |r0: usize, rows: &mut [T]| {
            for (r, row) in (r0..).zip(rows.chunks_exact_mut(row_len)) {
                let p = usize::from(self.row_parity[r]);
                let even = &values[p][r * half..(r + 1) * half];
                let odd = &values[1 - p][r * half..(r + 1) * half];
                for ((o, &a), &b) in row.chunks_exact_mut(2).zip(even).zip(odd) {
                    o[0] = a;
                    o[1] = b;
                }
            }
        };
        let tasks = schedule::n_tasks(self.n_stripes());
        if out.len() < 1 << 16 || tasks < 2 {
            fill(0, &mut out);
            return out;
        }
        let mut blocks = Vec::with_capacity(tasks);
        let mut rest: &mut [T] = &mut out;
        for t in 0..tasks {
            let stripes = schedule::task_block(self.n_stripes(), t, tasks);
            let r0 = self.stripe_rows[stripes.start];
            let rows = self.stripe_rows[stripes.end] - r0;
            let (mine, tail) = std::mem::take(&mut rest).split_at_mut(rows * row_len);
            rest = tail;
            blocks.push((r0, mine));
        }
        ebm_parallel::run_each(&mut blocks, |_, (r0, rows)| fill(*r0, rows));
        out
    }
}

/// A chain's configuration in site order: rebuilt from the two colour
/// arrays on first request after a sweep, into the buffer of the view the
/// sweep made stale (so observing every sweep allocates and zeroes nothing).
#[derive(Debug, Default)]
pub(crate) struct SiteView<T> {
    view: OnceLock<Vec<T>>,
    spare: Mutex<Vec<T>>,
}

impl<T: Clone> Clone for SiteView<T> {
    fn clone(&self) -> Self {
        SiteView { view: self.view.clone(), spare: Mutex::new(Vec::new()) }
    }
}

impl<T: Copy + Default + Send + Sync> SiteView<T> {
    /// The view of `values` (the colour arrays of `layout`), current until
    /// the next [`SiteView::stale`].
    pub(crate) fn get(&self, layout: &Layout, values: &[Vec<T>; 2]) -> &[T] {
        self.view.get_or_init(|| {
            let buf = self.spare.lock().map(|mut b| std::mem::take(&mut *b)).unwrap_or_default();
            layout.join(values, buf)
        })
    }

    /// The colour arrays changed: the view is rebuilt on the next request.
    pub(crate) fn stale(&mut self) {
        if let (Some(v), Ok(spare)) = (self.view.take(), self.spare.get_mut()) {
            *spare = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Layout;

    #[test]
    fn join_inverts_split_and_agrees_with_site() {
        for dims in [vec![6], vec![4, 6], vec![2, 4, 8], vec![6, 6, 6]] {
            let layout = Layout::new(&dims, 3);
            let n: usize = dims.iter().product();
            let x: Vec<u32> = (0..n as u32).map(|i| i * 7 + 1).collect();
            let parts = layout.split(&x);
            for (c, part) in parts.iter().enumerate() {
                for r in 0..layout.n_rows() {
                    for k in 0..layout.half {
                        assert_eq!(part[r * layout.half + k], x[layout.site(c, r, k)]);
                    }
                }
            }
            assert_eq!(layout.join(&parts, Vec::new()), x, "{dims:?}");
            // into a used buffer of the right length (not zeroed first) and
            // of another length
            assert_eq!(layout.join(&parts, vec![u32::MAX; n]), x, "{dims:?}");
            assert_eq!(layout.join(&parts, vec![7; n + 3]), x, "{dims:?}");
        }
    }
}
