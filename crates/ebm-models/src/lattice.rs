//! Hypercubic lattices: shape, boundary, site indexing, bonds and checkerboards.

use ebm_core::{Error, Result};
use std::ops::Range;

/// The boundary condition of a lattice, the same along every axis.
///
/// `bool` converts into it (`true` is [`Boundary::Periodic`]), so the lattice
/// constructors of [`crate::ising::Ising`] and [`crate::potts::Potts`] accept either spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Boundary {
    /// Each axis wraps around: a torus (a ring in 1D).
    Periodic,
    /// Sites on a face have fewer neighbours.
    Open,
}

impl From<bool> for Boundary {
    /// `true` → [`Boundary::Periodic`], `false` → [`Boundary::Open`].
    fn from(periodic: bool) -> Self {
        if periodic { Boundary::Periodic } else { Boundary::Open }
    }
}

/// The largest number of sites a lattice may have: 2^28 (16384² in 2-D,
/// 645³ in 3-D), checked before anything is allocated, so a mistyped size
/// is a typed error, not an allocation failure (the neighbour lists of a
/// 3-D lattice at the cap take 6 GiB; indices are `u32`).
pub const MAX_SITES: usize = 1 << 28;

/// A hypercubic lattice in 1, 2 or 3 dimensions.
///
/// Sites are numbered row-major, the **last axis fastest**: on an `L×M×K`
/// lattice the site at coordinates `(x, y, z)` has index `(x·M + y)·K + z`.
///
/// Bonds join each site to its `+1` neighbour along every axis, wrapping
/// around on periodic lattices. Counting conventions:
///
/// - an open side `L` gives `L − 1` bonds per line; a side of 1 gives none
///   (an `L×1` open lattice is a chain);
/// - a periodic side `L ≥ 2` gives `L` bonds per line, so a periodic lattice
///   has exactly `d·N` bonds. For a periodic side of **2** the two bonds of a
///   line join the same pair of sites: they are kept as two distinct bonds (the
///   pair interacts with coupling `2J`), which is what the transfer-matrix
///   formulas (`(2 cosh βJ)^N + (2 sinh βJ)^N`, Kaufman's torus) count;
/// - a periodic side of 1 would bond a site to itself and is rejected.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lattice {
    dims: Vec<usize>,
    boundary: Boundary,
    n_sites: usize,
}

impl Lattice {
    /// Validates the shape: 1 to 3 sides, each ≥ 1 (≥ 2 if periodic), at most
    /// [`MAX_SITES`] sites.
    pub fn new(dims: &[usize], boundary: impl Into<Boundary>) -> Result<Self> {
        let boundary = boundary.into();
        if dims.is_empty() || dims.len() > 3 {
            return Err(Error::InvalidParameter {
                name: "lattice dimension",
                value: dims.len() as f64,
                expected: "1, 2 or 3",
            });
        }
        let mut n_sites: usize = 1;
        for &side in dims {
            if side == 0 {
                return Err(Error::InvalidParameter {
                    name: "lattice side",
                    value: 0.0,
                    expected: "≥ 1",
                });
            }
            if side == 1 && boundary == Boundary::Periodic {
                return Err(Error::InvalidParameter {
                    name: "periodic lattice side",
                    value: 1.0,
                    expected: "≥ 2 (a periodic side of 1 bonds a spin to itself)",
                });
            }
            n_sites = n_sites.saturating_mul(side);
        }
        if n_sites > MAX_SITES {
            return Err(Error::TooManyUnits { n_units: n_sites, max: MAX_SITES });
        }
        Ok(Lattice { dims: dims.to_vec(), boundary, n_sites })
    }

    /// The side lengths, one per axis.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// The number of axes d (1, 2 or 3).
    pub fn dimension(&self) -> usize {
        self.dims.len()
    }

    /// The boundary condition.
    pub fn boundary(&self) -> Boundary {
        self.boundary
    }

    /// Number of sites N, the product of the sides.
    pub fn n_sites(&self) -> usize {
        self.n_sites
    }

    /// Number of bonds: `d·N` if periodic, `Σ_a (N / L_a)(L_a − 1)` if open.
    pub fn n_bonds(&self) -> usize {
        self.dims
            .iter()
            .map(|&l| match self.boundary {
                Boundary::Periodic => self.n_sites,
                Boundary::Open => self.n_sites / l * (l - 1),
            })
            .sum()
    }

    /// The index of the site at `coords`, or `None` if the number of
    /// coordinates or one of them is out of range.
    pub fn site(&self, coords: &[usize]) -> Option<usize> {
        if coords.len() != self.dims.len() {
            return None;
        }
        let mut i = 0;
        for (&c, &l) in coords.iter().zip(&self.dims) {
            if c >= l {
                return None;
            }
            i = i * l + c;
        }
        Some(i)
    }

    /// The coordinates of site `i` (unused trailing entries are 0), or `None`
    /// if `i ≥ N`.
    pub fn coords(&self, i: usize) -> Option<[usize; 3]> {
        if i >= self.n_sites {
            return None;
        }
        let mut out = [0; 3];
        let mut rest = i;
        for a in (0..self.dims.len()).rev() {
            out[a] = rest % self.dims[a];
            rest /= self.dims[a];
        }
        Some(out)
    }

    /// The smallest non-zero wave number, k_min = 2π/L₀ (L₀ the first side).
    pub fn k_min(&self) -> f64 {
        std::f64::consts::TAU / self.dims[0] as f64
    }

    /// The structure factor of a field `v` (one value per site) at the
    /// smallest wave vectors: `S(k_min) = |Σ_x v_x e^{i k_min x_a}|² / N`,
    /// averaged over the axes a whose side equals the first side (the
    /// symmetric directions). With `v = s` this is χ(k_min)/β of the
    /// second-moment correlation length; with v ≡ 1 it is 0. Panics if
    /// `v.len() ≠ N`.
    pub fn lowest_mode(&self, v: &[f64]) -> f64 {
        assert_eq!(v.len(), self.n_sites, "one value per site");
        let mut lines = [vec![0.0; self.dims[0]], Vec::new(), Vec::new()];
        self.plane_sums(
            v,
            &mut lines,
            0.0,
            |row| row.iter().sum(),
            |acc, row| acc.iter_mut().zip(row).for_each(|(a, &x)| *a += x),
            0..self.dims[0],
        );
        self.mode_of_planes(&lines)
    }

    /// [`Lattice::lowest_mode`] of the field `v − centre` with `v` given as
    /// `i8` values (±1 spins, 0/1 indicators): exact integer plane sums in
    /// one pass, no conversion of the field, then `centre` times the plane's
    /// size off each sum. Panics if `v.len() ≠ N`.
    pub fn lowest_mode_i8(&self, v: &[i8], centre: f64) -> f64 {
        self.lowest_mode_and_sum_i8(v, centre).0
    }

    /// [`Lattice::lowest_mode_i8`] and `Σ_x v_x`, the second read off the
    /// same plane sums (no pass of its own). Panics if `v.len() ≠ N`.
    pub(crate) fn lowest_mode_and_sum_i8(&self, v: &[i8], centre: f64) -> (f64, i64) {
        assert_eq!(v.len(), self.n_sites, "one value per site");
        self.mode_of_plane_sums(self.plane_sums_i8(v, 0..self.dims[0]), centre)
    }

    /// The exact integer plane sums of [`Lattice::lowest_mode_i8`] over the
    /// sites whose first coordinate is in `layers` (the whole range on a
    /// chain): summed element-wise over a partition of the layers, those of
    /// the whole field. The loop is compiled for the CPU's instruction set,
    /// as the checkerboard kernel (integer sums: the same on every path).
    pub(crate) fn plane_sums_i8(&self, v: &[i8], layers: Range<usize>) -> [Vec<i64>; 3] {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
        unsafe fn avx512(l: &Lattice, v: &[i8], layers: Range<usize>) -> [Vec<i64>; 3] {
            l.plane_sums_i8_body(v, layers)
        }
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        unsafe fn avx2(l: &Lattice, v: &[i8], layers: Range<usize>) -> [Vec<i64>; 3] {
            l.plane_sums_i8_body(v, layers)
        }
        match crate::keystream::Isa::detect() {
            // SAFETY: `Isa::detect` found avx512f, avx512bw and avx512vl.
            #[cfg(target_arch = "x86_64")]
            crate::keystream::Isa::Avx512 => unsafe { avx512(self, v, layers) },
            // SAFETY: `Isa::detect` found avx2.
            #[cfg(target_arch = "x86_64")]
            crate::keystream::Isa::Avx2 => unsafe { avx2(self, v, layers) },
            crate::keystream::Isa::Generic => self.plane_sums_i8_body(v, layers),
        }
    }

    /// [`Lattice::lowest_mode_i8`] and `Σ_x v_x` from the field's integer
    /// plane sums ([`Lattice::plane_sums_i8`] over every layer).
    pub(crate) fn mode_of_plane_sums(&self, lines: [Vec<i64>; 3], centre: f64) -> (f64, i64) {
        // the planes of the first axis are never empty and cover every site
        let total = lines[0].iter().sum();
        let lines = lines.map(|l| {
            let plane = if l.is_empty() { 0.0 } else { (self.n_sites / l.len()) as f64 };
            l.into_iter().map(|x| x as f64 - centre * plane).collect::<Vec<f64>>()
        });
        (self.mode_of_planes(&lines), total)
    }

    /// [`Lattice::plane_sums_i8`]'s loop.
    #[inline(always)]
    fn plane_sums_i8_body(&self, v: &[i8], layers: Range<usize>) -> [Vec<i64>; 3] {
        let mut lines = [vec![0i64; self.dims[0]], Vec::new(), Vec::new()];
        // i16 sums (twice the lanes of i32): 256 values of |v| ≤ 128 sum to
        // at most 2^15 in size, which fits (−2^15 at the least, 256 · 127 at
        // the most). A row sums in pieces of 256.
        const PIECE: usize = 256;
        let row_sum = |row: &[i8]| -> i64 {
            row.chunks(PIECE).map(|c| i64::from(c.iter().map(|&x| i16::from(x)).sum::<i16>())).sum()
        };
        let mut acc16 = vec![0i16; *self.dims.last().unwrap_or(&1)];
        let mut rows_in_acc = 0usize;
        // the last axis accumulates rows element-wise in i16, flushed every
        // 256 rows
        let add_row = |acc: &mut [i64], row: &[i8]| {
            acc16.iter_mut().zip(row).for_each(|(a, &x)| *a += i16::from(x));
            rows_in_acc += 1;
            if rows_in_acc == PIECE {
                acc.iter_mut().zip(&mut acc16).for_each(|(a, b)| {
                    *a += i64::from(*b);
                    *b = 0;
                });
                rows_in_acc = 0;
            }
        };
        self.plane_sums(v, &mut lines, 0i64, row_sum, add_row, layers);
        let last = self.dims.len() - 1;
        if self.dims[last] == self.dims[0] {
            lines[last].iter_mut().zip(&acc16).for_each(|(a, &b)| *a += i64::from(b));
        }
        lines
    }

    /// The sums of `v` over the planes `x_a = c`, into `lines[a]` (grown to
    /// `L_a`), for the axes a whose side equals the first side; the others
    /// are left empty. One pass over the rows of the last axis: each row's
    /// sum (`row_sum`) goes to its plane of every earlier axis, and the row
    /// itself is accumulated element-wise (`add_row`) for the last axis.
    /// Only the rows whose first coordinate is in `layers` count (on a
    /// chain, whose one row is the whole field, `layers` must be all of it).
    #[inline(always)]
    fn plane_sums<T: Copy, A: Copy + std::ops::AddAssign>(
        &self,
        v: &[T],
        lines: &mut [Vec<A>; 3],
        zero: A,
        row_sum: impl Fn(&[T]) -> A,
        mut add_row: impl FnMut(&mut [A], &[T]),
        layers: Range<usize>,
    ) {
        let d = self.dims.len();
        assert!(
            layers.end <= self.dims[0] && (d > 1 || layers == (0..self.dims[0])),
            "layers {layers:?} of a lattice with sides {:?}",
            self.dims
        );
        let l0 = self.dims[0];
        let used: Vec<bool> = self.dims.iter().map(|&l| l == l0).collect();
        for (a, line) in lines.iter_mut().enumerate() {
            line.clear();
            if a < d && used[a] {
                line.resize(self.dims[a], zero);
            }
        }
        let row_len = self.dims[d - 1];
        // row r = o · mid + m: o the first coordinate in 3D, m the one
        // before the last
        let mid = match d {
            1 => 1,
            2 => self.dims[0],
            _ => self.dims[1],
        };
        let [la, lb, lc] = lines;
        let last = match d {
            1 => &mut *la,
            2 => &mut *lb,
            _ => &mut *lc,
        };
        let mut last_acc = std::mem::take(last);
        // the layers are values of o in 3D, of m in 2D (a chain has one row)
        let (os, ms) = match d {
            1 => (0..1, 0..1),
            2 => (0..1, layers),
            _ => (layers, 0..mid),
        };
        for o in os {
            for m in ms.clone() {
                let r = o * mid + m;
                let row = &v[r * row_len..(r + 1) * row_len];
                if !last_acc.is_empty() {
                    add_row(&mut last_acc, row);
                }
                if d == 1 {
                    continue;
                }
                let s = row_sum(row);
                if d == 2 {
                    if used[0] {
                        la[m] += s;
                    }
                } else {
                    if used[0] {
                        la[o] += s;
                    }
                    if used[1] {
                        lb[m] += s;
                    }
                }
            }
        }
        let last = match d {
            1 => la,
            2 => lb,
            _ => lc,
        };
        *last = last_acc;
    }

    /// `Σ_a |Σ_c line_a[c] e^{i k_min c}|² / N`, averaged over the non-empty lines.
    fn mode_of_planes(&self, lines: &[Vec<f64>; 3]) -> f64 {
        thread_local! {
            /// `(cos, sin)` of `k_min · c` for the last first side seen on
            /// this thread: one table per run instead of 2L `sincos` per
            /// observation (3 % of a 512² CLI run's main thread).
            static TABLE: std::cell::RefCell<(f64, Vec<(f64, f64)>)> =
                const { std::cell::RefCell::new((0.0, Vec::new())) };
        }
        let k = self.k_min();
        let len = lines.iter().map(Vec::len).max().unwrap_or(0);
        TABLE.with_borrow_mut(|(k_table, table)| {
            if *k_table != k || table.len() < len {
                *k_table = k;
                *table = (0..len)
                    .map(|c| {
                        let phase = k * c as f64;
                        (phase.cos(), phase.sin())
                    })
                    .collect();
            }
            let mut total = 0.0;
            let mut axes = 0;
            for line in lines.iter().filter(|l| !l.is_empty()) {
                let (mut re, mut im) = (0.0, 0.0);
                for (&sum, &(cos, sin)) in line.iter().zip(table.iter()) {
                    re += sum * cos;
                    im += sum * sin;
                }
                total += (re * re + im * im) / self.n_sites as f64;
                axes += 1;
            }
            total / axes.max(1) as f64
        })
    }

    /// Whether the bond graph is bipartite, so that the checkerboard (parity of
    /// the coordinate sum) is a valid 2-colouring: true unless a periodic side
    /// is odd.
    pub fn is_bipartite(&self) -> bool {
        self.boundary == Boundary::Open || self.dims.iter().all(|l| l % 2 == 0)
    }

    /// The bonds in the documented order: sites in index order, and for each
    /// site the axes in order, the bond to its `+1` neighbour if there is one.
    pub(crate) fn bonds(&self) -> Vec<[u32; 2]> {
        let d = self.dims.len();
        let mut stride = [1usize; 3];
        for a in (0..d.saturating_sub(1)).rev() {
            stride[a] = stride[a + 1] * self.dims[a + 1];
        }
        let periodic = self.boundary == Boundary::Periodic;
        let mut bonds = Vec::with_capacity(self.n_bonds());
        let mut c = [0usize; 3];
        for i in 0..self.n_sites {
            for a in 0..d {
                let l = self.dims[a];
                let j = if c[a] + 1 < l {
                    i + stride[a]
                } else if periodic {
                    i - (l - 1) * stride[a]
                } else {
                    continue;
                };
                // i, j < n_sites ≤ u32::MAX, checked in `new`
                bonds.push([i as u32, j as u32]);
            }
            // advance the coordinates, last axis fastest
            for a in (0..d).rev() {
                c[a] += 1;
                if c[a] < self.dims[a] {
                    break;
                }
                c[a] = 0;
            }
        }
        bonds
    }

    /// The checkerboard colouring: parity of the coordinate sum. A valid
    /// colouring only when [`Lattice::is_bipartite`].
    pub(crate) fn checkerboard(&self) -> Vec<usize> {
        (0..self.n_sites)
            .map(|i| self.coords(i).map_or(0, |c| c.iter().sum::<usize>() % 2))
            .collect()
    }
}
