//! The pair form of a model: its interaction graph, couplings and fields, as
//! cluster algorithms (Wolff, Swendsen–Wang) read them.
//!
//! ```text
//! ±1 spins (a Domain::Spin BinaryModel):   E(s) = −Σ_e J_e s_a s_b    − Σ_i h_i s_i    + const
//! categories (a CategoricalModel):          E(x) = −Σ_e J_e δ(x_a, x_b) − Σ_i h_i(x_i) + const
//! ```
//!
//! A model exposes it through `BinaryModel::pair_graph` or
//! `CategoricalModel::pair_graph` (default `None`: no pair form). The graph
//! is borrowed from the model on every sweep, so a sampler always sees the
//! model's current parameters.

use crate::error::{Error, Result};

/// A model's interaction graph with its couplings and fields, borrowed.
///
/// Edges are listed once each (`edges`, `couplings`), and again as a CSR
/// adjacency, one entry per edge end: the entries of unit i are
/// `offsets[i]..offsets[i + 1]` of `neighbours` and `neighbour_couplings`.
/// `fields` holds h_i for spins (n values) and h_i(k) site-major for
/// categories (Σ q_i values).
///
/// `torus` is an optional hint that lets samplers compute neighbours by
/// index arithmetic instead of reading the adjacency (see [`UniformTorus`]).
///
/// ```
/// use ebm_core::PairGraph;
/// // a triangle 0–1–2 with J = 1, 2, 3 and no field
/// let edges = [[0, 1], [1, 2], [0, 2]];
/// let g = PairGraph {
///     edges: &edges,
///     couplings: &[1.0, 2.0, 3.0],
///     offsets: &[0, 2, 4, 6],
///     neighbours: &[1, 2, 0, 2, 1, 0],
///     neighbour_couplings: &[1.0, 3.0, 1.0, 2.0, 2.0, 3.0],
///     fields: &[0.0; 3],
///     torus: None,
/// };
/// g.validate(3, 3)?;
/// assert_eq!(g.neighbours_of(1), (&[0u32, 2][..], &[1.0, 2.0][..]));
/// # Ok::<(), ebm_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairGraph<'a> {
    /// Edge endpoints, each pair once, in edge order.
    pub edges: &'a [[u32; 2]],
    /// J_e, one per edge.
    pub couplings: &'a [f64],
    /// CSR row starts: n + 1 non-decreasing offsets into `neighbours`.
    pub offsets: &'a [usize],
    /// The neighbour of each adjacency entry.
    pub neighbours: &'a [u32],
    /// The coupling of each adjacency entry.
    pub neighbour_couplings: &'a [f64],
    /// The fields (n of them for spins, Σ q_i site-major for categories).
    pub fields: &'a [f64],
    /// `Some` when the graph is a periodic hypercubic lattice with one
    /// coupling on every bond (checked by [`PairGraph::validate`]).
    pub torus: Option<UniformTorus<'a>>,
}

/// The periodic lattice with sides `dims` (row-major, last axis fastest:
/// the `±1` neighbours of a site along axis a are `i ± stride_a`, wrapping)
/// and the coupling J on every bond. A side of 2 lists the one neighbour
/// twice, as the adjacency does (two bonds join the pair).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UniformTorus<'a> {
    /// The sides, each ≥ 2; their product is the number of units.
    pub dims: &'a [usize],
    /// The coupling of every bond.
    pub coupling: f64,
}

impl UniformTorus<'_> {
    /// The neighbour arithmetic of this torus, precomputed; `None` unless
    /// it has 1–3 sides, each from 2 to 2^32 − 1 (what
    /// [`PairGraph::validate`] checks).
    pub fn index(&self) -> Option<TorusIndex> {
        let d = self.dims.len();
        if !(1..=3).contains(&d) || self.dims.iter().any(|&l| !(2..=u32::MAX as usize).contains(&l))
        {
            return None;
        }
        let mut dims = [1usize; 3];
        let mut magic = [0u64; 3];
        for (a, &l) in self.dims.iter().enumerate() {
            dims[a] = l;
            magic[a] = u64::MAX / l as u64 + 1;
        }
        Some(TorusIndex { d, dims, magic })
    }

    /// The neighbours of site `i` in the order `+1, −1` per axis, written to
    /// `out[..2d]`; returns 2d (0 for a shape [`UniformTorus::index`]
    /// refuses). Builds the index on every call: in a loop, build
    /// [`UniformTorus::index`] once.
    pub fn neighbours(&self, i: usize, out: &mut [usize; 6]) -> usize {
        self.index().map_or(0, |t| t.neighbours(i, out))
    }
}

/// A torus's neighbours by index arithmetic, the divisions by the sides
/// strength-reduced to multiplications (Lemire's fastdiv, exact for site
/// indices below 2^32): built once from a [`UniformTorus`], then used per
/// site by the cluster samplers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TorusIndex {
    d: usize,
    dims: [usize; 3],
    magic: [u64; 3],
}

impl TorusIndex {
    /// `x / dims[a]` for `x` < 2^32.
    #[inline]
    fn div(&self, a: usize, x: u64) -> u64 {
        ((u128::from(self.magic[a]) * u128::from(x)) >> 64) as u64
    }

    /// As [`UniformTorus::neighbours`]: `+1, −1` per axis, 2d of them.
    #[inline]
    pub fn neighbours(&self, i: usize, out: &mut [usize; 6]) -> usize {
        let mut rest = i as u64;
        let mut stride = 1usize;
        for a in (0..self.d).rev() {
            let l = self.dims[a];
            let c = if a == 0 {
                rest as usize
            } else {
                let q = self.div(a, rest);
                let c = (rest - q * l as u64) as usize;
                rest = q;
                c
            };
            out[2 * a] = if c + 1 < l { i + stride } else { i + stride - l * stride };
            out[2 * a + 1] = if c > 0 { i - stride } else { i + (l - 1) * stride };
            stride *= l;
        }
        2 * self.d
    }

    /// Whether the torus is 2-D, so that [`TorusIndex::square_neighbours`]
    /// applies.
    #[inline]
    pub fn is_square(&self) -> bool {
        self.d == 2
    }

    /// On a 2-D torus, the four neighbours of site `a` in the order of
    /// [`TorusIndex::neighbours`] (down, up, right, left), unrolled.
    #[inline]
    pub fn square_neighbours(&self, a: usize) -> [usize; 4] {
        let (rows, cols) = (self.dims[0], self.dims[1]);
        let n = rows * cols;
        let r = self.div(1, a as u64) as usize;
        let col = a - r * cols;
        [
            if r + 1 < rows { a + cols } else { a + cols - n },
            if r > 0 { a - cols } else { a + n - cols },
            if col + 1 < cols { a + 1 } else { a + 1 - cols },
            if col > 0 { a - 1 } else { a + cols - 1 },
        ]
    }
}

impl PairGraph<'_> {
    /// Checks the shapes against a model of `n` units with `n_fields` field
    /// values: the edges' endpoints, the CSR layout (every edge appears at
    /// both of its ends), finite couplings and fields.
    pub fn validate(&self, n: usize, n_fields: usize) -> Result<()> {
        let bad = |reason: String| Err(Error::InvalidSequence { what: "pair graph", reason });
        if self.couplings.len() != self.edges.len() {
            return bad(format!(
                "{} couplings for {} edges",
                self.couplings.len(),
                self.edges.len()
            ));
        }
        if self.offsets.len() != n + 1 || self.offsets[0] != 0 {
            return bad(format!("{} CSR offsets for {n} units", self.offsets.len()));
        }
        if self.offsets.windows(2).any(|w| w[0] > w[1]) {
            return bad("CSR offsets decrease".into());
        }
        let total = self.offsets[n];
        if total != 2 * self.edges.len()
            || self.neighbours.len() != total
            || self.neighbour_couplings.len() != total
        {
            return bad(format!(
                "{total} adjacency entries ({} neighbours, {} couplings) for {} edges",
                self.neighbours.len(),
                self.neighbour_couplings.len(),
                self.edges.len()
            ));
        }
        if self.edges.iter().flatten().chain(self.neighbours).any(|&i| i as usize >= n) {
            return bad(format!("an endpoint is not below {n}"));
        }
        crate::error::check_len("fields", n_fields, self.fields.len())?;
        crate::error::check_finite("couplings", self.couplings)?;
        crate::error::check_finite("fields", self.fields)?;
        if let Some(t) = &self.torus {
            let sites = t.dims.iter().try_fold(1usize, |p, &l| p.checked_mul(l));
            if t.dims.is_empty()
                || t.dims.len() > 3
                || t.dims.iter().any(|&l| l < 2)
                || sites != Some(n)
            {
                return bad(format!("torus sides {:?} for {n} units", t.dims));
            }
            let index = t.index().ok_or_else(|| Error::InvalidSequence {
                what: "pair graph",
                reason: format!("torus sides {:?} out of range", t.dims),
            })?;
            let mut nb = [0usize; 6];
            for i in 0..n {
                let k = index.neighbours(i, &mut nb);
                let (have, js) = self.neighbours_of(i);
                let mut got = [0usize; 6];
                let same_len = have.len() == k;
                if same_len {
                    for (g, &j) in got.iter_mut().zip(have) {
                        *g = j as usize;
                    }
                    nb[..k].sort_unstable();
                    got[..k].sort_unstable();
                }
                if !same_len || nb[..k] != got[..k] || js.iter().any(|&j| j != t.coupling) {
                    return bad(format!("the torus hint disagrees with the adjacency at unit {i}"));
                }
            }
        }
        Ok(())
    }

    /// The neighbours of unit `i` and their couplings.
    #[inline]
    pub fn neighbours_of(&self, i: usize) -> (&[u32], &[f64]) {
        let r = self.offsets[i]..self.offsets[i + 1];
        (&self.neighbours[r.clone()], &self.neighbour_couplings[r])
    }

    /// Whether any field is non-zero.
    pub fn has_fields(&self) -> bool {
        self.fields.iter().any(|&h| h != 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The strength-reduced index agrees with plain division, and the
    /// unrolled square neighbours with the general ones, on odd and even
    /// sides in 1–3 dimensions; shapes it cannot index are refused.
    #[test]
    fn the_torus_index_matches_division() {
        for dims in [&[7][..], &[3, 5], &[4, 4], &[2, 9], &[3, 4, 5], &[2, 2, 2]] {
            let t = UniformTorus { dims, coupling: 1.0 }.index().unwrap();
            let n: usize = dims.iter().product();
            let mut nb = [0usize; 6];
            for i in 0..n {
                let k = t.neighbours(i, &mut nb);
                assert_eq!(k, 2 * dims.len());
                // by plain division: coordinates, ±1 along each axis
                let mut coord = vec![0; dims.len()];
                let mut rest = i;
                for a in (0..dims.len()).rev() {
                    coord[a] = rest % dims[a];
                    rest /= dims[a];
                }
                for a in 0..dims.len() {
                    for (slot, step) in [(2 * a, 1), (2 * a + 1, dims[a] - 1)] {
                        let mut c = coord.clone();
                        c[a] = (c[a] + step) % dims[a];
                        let j = c.iter().zip(dims).fold(0, |acc, (&x, &l)| acc * l + x);
                        assert_eq!(nb[slot], j, "{dims:?} site {i} slot {slot}");
                    }
                }
                if t.is_square() {
                    assert_eq!(t.square_neighbours(i)[..], nb[..4], "{dims:?} site {i}");
                }
            }
        }
        for bad in [&[][..], &[1, 4], &[2, 2, 2, 2]] {
            assert_eq!(UniformTorus { dims: bad, coupling: 1.0 }.index(), None);
        }
    }

    /// A ring of 4: the torus hint is checked against the adjacency.
    #[test]
    fn the_torus_hint_must_agree_with_the_adjacency() {
        let edges = [[0, 1], [1, 2], [2, 3], [3, 0]];
        let mut g = PairGraph {
            edges: &edges,
            couplings: &[1.0; 4],
            offsets: &[0, 2, 4, 6, 8],
            neighbours: &[1, 3, 0, 2, 1, 3, 2, 0],
            neighbour_couplings: &[1.0; 8],
            fields: &[0.0; 4],
            torus: Some(UniformTorus { dims: &[4], coupling: 1.0 }),
        };
        assert!(g.validate(4, 4).is_ok());
        let mut nb = [0; 6];
        assert_eq!(g.torus.unwrap().neighbours(0, &mut nb), 2);
        assert_eq!(&nb[..2], &[1, 3]);
        g.torus = Some(UniformTorus { dims: &[4], coupling: 2.0 });
        assert!(g.validate(4, 4).is_err(), "wrong coupling");
        g.torus = Some(UniformTorus { dims: &[2, 2], coupling: 1.0 });
        assert!(g.validate(4, 4).is_err(), "wrong shape");
        g.torus = Some(UniformTorus { dims: &[5], coupling: 1.0 });
        assert!(g.validate(4, 4).is_err(), "wrong size");
    }
}
