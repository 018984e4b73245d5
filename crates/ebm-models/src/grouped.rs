//! Products of a dense matrix with a *half-on* binary matrix by the method of
//! four Russians (Arlazarov, Dinic, Kronrod & Faradzev 1970): `out[r, :] =
//! init + Σ_{i ∈ set(r)} m[i, :]` with the inner index cut into groups of
//! [`GROUP_BITS`] units. For each group the 2⁴ = 16 subset sums of its rows
//! are tabulated once (11 additions of a row: entry `c` is entry
//! `c & (c − 1)` plus the row of `c`'s lowest bit), after which every output
//! row costs one table row per group instead of one weight row per one.
//!
//! Where the sparse kernel ([`sparse_rows`](crate::linalg)) pays one row
//! addition per one, this pays `n / 4` per output row plus `11 n / 4` per
//! table: with hidden units about half on (an RBM's `H Wᵀ`, 250 ones in 500
//! at batch 100), half the additions. With sparse rows (MNIST's visible
//! units, 13 % on) the sparse kernel stays cheaper.
//!
//! Order of the sums: every output element is `(init + T₀ + T₂ + …) + (T₁ +
//! T₃ + …)` over the groups' table entries, each entry itself summed in bit
//! order; this depends only on the shape, so the result is bit-identical for
//! any number of threads. The work is split by column tiles: each task builds
//! the tables of its own tile (in a thread-local buffer) and runs every row
//! through them, so a second thread halves the table building too (a split
//! by rows would build every table on both).

use crate::linalg::ActiveSets;
use rayon::prelude::*;
use std::cell::RefCell;

/// Units per group: tables of 2⁴ entries (measured best at batch 100 with
/// 500 hidden units; 5 bits does no better and doubles the table).
pub const GROUP_BITS: usize = 4;
const ENTRIES: usize = 1 << GROUP_BITS;

/// Columns per register tile (4 AVX-512 registers per accumulator, two
/// accumulators).
const TILE: usize = 64;

thread_local! {
    /// One tile's tables (groups × 16 × TILE).
    static TABLE: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    /// The rows' group codes (rows × groups), built by the calling thread.
    static CODES: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// `out[r, :] = init + Σ_{i ∈ sets.row(r)} m[i, :]` for every row of `sets`
/// (`m` row-major with `cols` columns and at least `sets.width()` rows, `out`
/// `n_rows × cols`), by group tables (see the [module docs](self)); then
/// `finish` on blocks of whole rows, in parallel (an element-wise map such as
/// a sigmoid, so its cost is split too).
///
/// Panics on inconsistent shapes or an index outside `m` (callers check).
pub(crate) fn grouped_rows(
    out: &mut [f32],
    cols: usize,
    init: &[f32],
    m: &[f32],
    sets: &ActiveSets,
    finish: impl Fn(&mut [f32]) + Sync,
) {
    let (rows, inner) = (sets.n_rows(), sets.width());
    assert!(out.len() == rows * cols && init.len() == cols, "grouped_rows: shapes");
    assert!(m.len() >= inner * cols, "grouped_rows: matrix");
    assert!(
        (0..rows).all(|r| sets.row(r).iter().all(|&i| (i as usize) < inner)),
        "grouped_rows: index out of range"
    );
    if rows == 0 || cols == 0 {
        return;
    }
    let groups = inner.div_ceil(GROUP_BITS);
    // the codes leave the thread-local while the tiles run: waiting for them,
    // this thread may run a task that calls grouped_rows itself (a borrow
    // held across the fork would then panic)
    let mut codes = CODES.with(|c| std::mem::take(&mut *c.borrow_mut()));
    codes.clear();
    codes.resize(rows * groups, 0);
    for (c, r) in codes.chunks_exact_mut(groups).zip(0..rows) {
        for &i in sets.row(r) {
            let i = i as usize;
            c[i / GROUP_BITS] |= 1 << (i % GROUP_BITS);
        }
    }
    let tiles = Tiles { ptr: out.as_mut_ptr(), len: out.len() };
    (0..cols.div_ceil(TILE)).into_par_iter().for_each(|t| {
        let j0 = t * TILE;
        let w = TILE.min(cols - j0);
        TABLE.with(|table| {
            // no fork while the table is borrowed
            let table = &mut *table.borrow_mut();
            table.resize(groups * ENTRIES * TILE, 0.0);
            // SAFETY: tile t alone writes columns j0..j0 + w of the rows,
            // which lie inside `out` (len = rows · cols)
            unsafe { tile(&tiles, cols, j0, w, init, m, inner, &codes, table) };
        });
    });
    CODES.with(|c| *c.borrow_mut() = codes);
    // then `finish` on blocks of whole rows, one per thread (calls on each
    // row's 64-column part of a tile measured slower)
    let block = rows.div_ceil(rayon::current_num_threads());
    out.par_chunks_mut(block * cols).for_each(&finish);
}

/// The output matrix, whose column tiles are written by different tasks.
struct Tiles {
    ptr: *mut f32,
    len: usize,
}

// SAFETY: tasks write disjoint column tiles (see `grouped_rows`); the matrix
// is borrowed mutably for as long as the tasks run.
unsafe impl Sync for Tiles {}

impl Tiles {
    /// `len` elements from `start`.
    ///
    /// # Safety
    /// No other task may access them meanwhile.
    #[allow(clippy::mut_from_ref)]
    unsafe fn part(&self, start: usize, len: usize) -> &mut [f32] {
        assert!(start + len <= self.len, "grouped_rows: tile");
        // SAFETY: inside the matrix (checked); exclusive by the caller
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(start), len) }
    }
}

/// One column tile of [`grouped_rows`] for every row, dispatched by
/// instruction set.
///
/// # Safety
/// No other task may access columns `j0..j0 + w` of `out` meanwhile.
#[allow(clippy::too_many_arguments)]
unsafe fn tile(
    out: &Tiles,
    cols: usize,
    j0: usize,
    w: usize,
    init: &[f32],
    m: &[f32],
    inner: usize,
    codes: &[u8],
    table: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU supports AVX-512F (checked just above); the caller
        // vouches for the tile
        unsafe { tile_avx512(out, cols, j0, w, init, m, inner, codes, table) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above); as above
        unsafe { tile_avx2(out, cols, j0, w, init, m, inner, codes, table) };
        return;
    }
    // SAFETY: the caller vouches for the tile
    unsafe { tile_body(out, cols, j0, w, init, m, inner, codes, table) };
}

/// The same element-wise additions in the same order as the portable body
/// (no fused operations), so every dispatch gives the same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_avx512(
    out: &Tiles,
    cols: usize,
    j0: usize,
    w: usize,
    init: &[f32],
    m: &[f32],
    inner: usize,
    codes: &[u8],
    table: &mut [f32],
) {
    // SAFETY: the caller vouches for the tile
    unsafe { tile_body(out, cols, j0, w, init, m, inner, codes, table) };
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_avx2(
    out: &Tiles,
    cols: usize,
    j0: usize,
    w: usize,
    init: &[f32],
    m: &[f32],
    inner: usize,
    codes: &[u8],
    table: &mut [f32],
) {
    // SAFETY: the caller vouches for the tile
    unsafe { tile_body(out, cols, j0, w, init, m, inner, codes, table) };
}

/// # Safety
/// No other task may access columns `j0..j0 + w` of `out` meanwhile.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_body(
    out: &Tiles,
    cols: usize,
    j0: usize,
    w: usize,
    init: &[f32],
    m: &[f32],
    inner: usize,
    codes: &[u8],
    table: &mut [f32],
) {
    let groups = inner.div_ceil(GROUP_BITS);
    // the tile's tables: entry 0 is zero, entry c = entry (c & (c − 1)) + row
    for (g, t) in table.chunks_exact_mut(ENTRIES * TILE).enumerate() {
        t[..TILE].fill(0.0);
        for c in 1..ENTRIES {
            let low = c.trailing_zeros() as usize;
            let i = g * GROUP_BITS + low;
            let (done, rest) = t.split_at_mut(c * TILE);
            let prev = &done[(c & (c - 1)) * TILE..][..TILE];
            let dst = &mut rest[..TILE];
            if i < inner && w == TILE {
                // a whole tile: fixed bounds, so the loop vectorises
                let src: &[f32; TILE] = m[i * cols + j0..][..TILE].try_into().expect("tile");
                for k in 0..TILE {
                    dst[k] = prev[k] + src[k];
                }
            } else if i < inner {
                let src = &m[i * cols + j0..][..w];
                for k in 0..w {
                    dst[k] = prev[k] + src[k];
                }
                dst[w..].fill(0.0);
            } else {
                // a unit past the last: never set in the codes
                dst.copy_from_slice(prev);
            }
        }
    }
    for (r, code) in codes.chunks_exact(groups).enumerate() {
        let mut even = [0f32; TILE];
        let mut odd = [0f32; TILE];
        even[..w].copy_from_slice(&init[j0..j0 + w]);
        let mut pairs = code.chunks_exact(2);
        let mut g = 0;
        for pair in &mut pairs {
            let a: &[f32; TILE] =
                table[(g * ENTRIES + pair[0] as usize) * TILE..][..TILE].try_into().expect("tile");
            let b: &[f32; TILE] = table[((g + 1) * ENTRIES + pair[1] as usize) * TILE..][..TILE]
                .try_into()
                .expect("tile");
            for k in 0..TILE {
                even[k] += a[k];
                odd[k] += b[k];
            }
            g += 2;
        }
        if let [c] = pairs.remainder() {
            let a: &[f32; TILE] =
                table[(g * ENTRIES + *c as usize) * TILE..][..TILE].try_into().expect("tile");
            for k in 0..TILE {
                even[k] += a[k];
            }
        }
        // SAFETY: this tile's part of row r, exclusive by the caller
        let o = unsafe { out.part(r * cols + j0, w) };
        for k in 0..w {
            o[k] = even[k] + odd[k];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The grouped sums equal the plain sums (f64 reference, tolerance of
    /// f32 rounding), for shapes with partial groups and tiles, and the bits
    /// do not depend on the number of threads.
    #[test]
    fn grouped_rows_match_plain_sums_and_any_thread_count() {
        // a fixed linear congruential sequence: the test needs values, not quality
        let mut state = 0x1234_5678_u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as u32
        };
        for &(rows, inner, cols) in &[(1, 1, 1), (7, 9, 70), (40, 501, 130), (33, 16, 64)] {
            let m: Vec<f32> =
                (0..inner * cols).map(|_| (next() % 2001) as f32 / 1000.0 - 1.0).collect();
            let init: Vec<f32> = (0..cols).map(|j| j as f32 * 0.01).collect();
            let mut sets = ActiveSets::new(inner);
            for _ in 0..rows {
                sets.push_indices((0..inner as u32).filter(|_| next() % 2 == 0));
            }
            let mut out = vec![0f32; rows * cols];
            grouped_rows(&mut out, cols, &init, &m, &sets, |_| ());
            for r in 0..rows {
                for j in 0..cols {
                    let want: f64 = f64::from(init[j])
                        + sets
                            .row(r)
                            .iter()
                            .map(|&i| f64::from(m[i as usize * cols + j]))
                            .sum::<f64>();
                    let got = f64::from(out[r * cols + j]);
                    assert!((got - want).abs() < 1e-4 * (1.0 + inner as f64), "{got} vs {want}");
                }
            }
            for threads in [1, 3] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let mut again = vec![0f32; rows * cols];
                pool.install(|| grouped_rows(&mut again, cols, &init, &m, &sets, |_| ()));
                assert!(again.iter().zip(&out).all(|(a, b)| a.to_bits() == b.to_bits()));
            }
            // called from many tasks at once (a thread waiting for its tiles
            // may run another caller's task): the same bits
            let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
            let outs: Vec<Vec<f32>> = pool.install(|| {
                (0..64)
                    .into_par_iter()
                    .map(|_| {
                        let mut o = vec![0f32; rows * cols];
                        grouped_rows(&mut o, cols, &init, &m, &sets, |_| ());
                        o
                    })
                    .collect()
            });
            for o in &outs {
                assert!(o.iter().zip(&out).all(|(a, b)| a.to_bits() == b.to_bits()));
            }
        }
    }
}
