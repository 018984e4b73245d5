//! Interaction graphs shared by the lattice-and-graph models (Ising, Potts):
//! validated edge lists, CSR adjacency and independent-set colourings.

use crate::lattice::{Lattice, MAX_SITES};
use ebm_core::{Blocks, Error, Result};

/// Checks a graph's edge list `(i, j, J_ij)` on `n` sites and returns the
/// endpoints in edge order.
///
/// Errors: `n = 0` ([`Error::InvalidParameter`]); more than [`MAX_SITES`]
/// sites ([`Error::TooManyUnits`]); an endpoint ≥ n, a self-loop `(i, i)` or a
/// pair listed twice, in either orientation ([`Error::InvalidSequence`]); a
/// non-finite coupling ([`Error::NonFinite`]).
pub(crate) fn check_edges(
    what: &'static str,
    n: usize,
    edges: &[(usize, usize, f64)],
) -> Result<Vec<[u32; 2]>> {
    if n == 0 {
        return Err(Error::InvalidParameter { name: what, value: 0.0, expected: "≥ 1" });
    }
    if n > MAX_SITES {
        return Err(Error::TooManyUnits { n_units: n, max: MAX_SITES });
    }
    let mut keys = Vec::with_capacity(edges.len());
    for (e, &(a, b, j)) in edges.iter().enumerate() {
        if a >= n || b >= n {
            return Err(Error::InvalidSequence {
                what: "edges",
                reason: format!("edge {e} = ({a}, {b}) names a site ≥ {n}, the number of sites"),
            });
        }
        if a == b {
            return Err(Error::InvalidSequence {
                what: "edges",
                reason: format!("edge {e} = ({a}, {b}) is a self-loop"),
            });
        }
        if !j.is_finite() {
            return Err(Error::NonFinite { what: "couplings", index: e });
        }
        keys.push((a.min(b), a.max(b), e));
    }
    keys.sort_unstable();
    if let Some(w) = keys.windows(2).find(|w| (w[0].0, w[0].1) == (w[1].0, w[1].1)) {
        let (e0, e1) = (w[0].2.min(w[1].2), w[0].2.max(w[1].2));
        return Err(Error::InvalidSequence {
            what: "edges",
            reason: format!(
                "edges {e0} and {e1} both join sites {} and {} (give each pair once)",
                w[0].0, w[0].1
            ),
        });
    }
    // a, b < n ≤ u32::MAX, checked above
    Ok(edges.iter().map(|&(a, b, _)| [a as u32, b as u32]).collect())
}

/// CSR adjacency of a graph: the entries of site i are
/// `offsets[i]..offsets[i + 1]`, one per edge end (a pair joined by two
/// bonds, as on a periodic side of 2, appears twice).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Adjacency {
    offsets: Vec<usize>,
    /// Neighbour index per entry.
    nbr: Vec<u32>,
    /// Edge index per entry.
    nbr_edge: Vec<usize>,
    max_degree: usize,
}

impl Adjacency {
    /// The adjacency of `n` sites joined by `edges` (endpoints < n).
    pub(crate) fn new(n: usize, edges: &[[u32; 2]]) -> Self {
        let mut degree = vec![0usize; n];
        for &[a, b] in edges {
            degree[a as usize] += 1;
            degree[b as usize] += 1;
        }
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        for d in &degree {
            offsets.push(offsets[offsets.len() - 1] + d);
        }
        let max_degree = degree.iter().copied().max().unwrap_or(0);
        let total = offsets[n];
        let mut nbr = vec![0u32; total];
        let mut nbr_edge = vec![0usize; total];
        let mut next = offsets[..n].to_vec();
        for (e, &[a, b]) in edges.iter().enumerate() {
            for (from, to) in [(a, b), (b, a)] {
                let k = &mut next[from as usize];
                nbr[*k] = to;
                nbr_edge[*k] = e;
                *k += 1;
            }
        }
        Adjacency { offsets, nbr, nbr_edge, max_degree }
    }

    /// The neighbours of site `i`.
    #[inline]
    pub(crate) fn neighbours(&self, i: usize) -> &[u32] {
        &self.nbr[self.offsets[i]..self.offsets[i + 1]]
    }

    /// The CSR row starts (n + 1 offsets).
    pub(crate) fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// The neighbour of every entry, in CSR order.
    pub(crate) fn entries(&self) -> &[u32] {
        &self.nbr
    }

    /// The edge index of every entry, in CSR order.
    pub(crate) fn entry_edges(&self) -> &[usize] {
        &self.nbr_edge
    }

    /// The entries of site `i`, as a range into CSR-ordered arrays.
    #[inline]
    pub(crate) fn range(&self, i: usize) -> std::ops::Range<usize> {
        self.offsets[i]..self.offsets[i + 1]
    }

    /// The number of entries of site `i`.
    pub(crate) fn degree(&self, i: usize) -> usize {
        self.offsets[i + 1] - self.offsets[i]
    }

    /// The largest degree.
    pub(crate) fn max_degree(&self) -> usize {
        self.max_degree
    }

    /// The number of sites.
    pub(crate) fn n_sites(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Independent sets for block sweeps: the checkerboard on bipartite
    /// lattices, otherwise a greedy colouring, largest degree first.
    pub(crate) fn colouring(&self, lattice: Option<&Lattice>) -> Blocks {
        let n = self.n_sites();
        let colour = match lattice {
            Some(l) if l.is_bipartite() => l.checkerboard(),
            _ => {
                let mut order: Vec<usize> = (0..n).collect();
                order.sort_by_key(|&i| std::cmp::Reverse(self.degree(i)));
                let mut colour = vec![usize::MAX; n];
                // marks[c] == i + 1: colour c is taken by a neighbour of i
                let mut marks = vec![0usize; self.max_degree + 1];
                for &i in &order {
                    for &j in self.neighbours(i) {
                        let c = colour[j as usize];
                        if c != usize::MAX {
                            marks[c] = i + 1;
                        }
                    }
                    colour[i] = marks.iter().position(|&m| m != i + 1).unwrap_or(0);
                }
                colour
            }
        };
        // A greedy colouring uses every colour below its largest one, and the
        // checkerboard is an independent-set partition here, so this succeeds;
        // singletons are the always-valid fallback.
        Blocks::from_colouring(&colour).unwrap_or_else(|_| Blocks::singletons(n))
    }
}

/// The one coupling of a periodic lattice whose bonds all carry it (the
/// pair form's torus hint), else `None`.
pub(crate) fn torus_coupling(lattice: Option<&Lattice>, couplings: &[f64]) -> Option<f64> {
    let (l, &j0) = (lattice?, couplings.first()?);
    (l.boundary() == crate::lattice::Boundary::Periodic && couplings.iter().all(|&j| j == j0))
        .then_some(j0)
}

/// The pair form of a model stored as Ising and Potts store theirs: edges,
/// θ = [J per edge, then the fields], the adjacency with a coupling per
/// entry, and the lattice with its torus coupling.
pub(crate) fn pair_graph<'a>(
    edges: &'a [[u32; 2]],
    params: &'a [f64],
    adj: &'a Adjacency,
    nbr_coupling: &'a [f64],
    lattice: Option<&'a Lattice>,
    torus_j: Option<f64>,
) -> ebm_core::PairGraph<'a> {
    let (couplings, fields) = params.split_at(edges.len());
    ebm_core::PairGraph {
        edges,
        couplings,
        offsets: adj.offsets(),
        neighbours: adj.entries(),
        neighbour_couplings: nbr_coupling,
        fields,
        torus: lattice
            .zip(torus_j)
            .map(|(l, coupling)| ebm_core::UniformTorus { dims: l.dims(), coupling }),
    }
}
