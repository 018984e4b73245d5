//! The q-state Potts model on lattices and graphs.
//!
//! `E(s) = −Σ_e J_e δ(s_a, s_b) − Σ_i h_i(s_i)`, s_i ∈ {0, …, q_i − 1}:
//! ferromagnetic for J > 0, antiferromagnetic for J < 0, with a field per
//! site and value. Units can have different numbers of values (mixed
//! alphabets; δ compares values). For q = 2 the Potts model is an Ising
//! model at half the coupling: with s = ±1, δ(s_a, s_b) = (1 + s_a s_b)/2, so
//! `Z_Potts(β; J) = e^{β J N_b / 2} Z_Ising(β; J/2)` on the same graph.

mod kernel;

pub use kernel::MAX_TABLE;

use crate::graph::{Adjacency, check_edges};
use crate::lattice::{Boundary, Lattice};
use ebm_core::{
    Blocks, CategoricalModel, Categories, EnergyModel, Error, FiniteSpace, KernelState, LocalRule,
    LogLinear, Result, check_finite, check_len,
};

/// The Potts model on a lattice or graph, with per-edge couplings and
/// per-site, per-value fields.
///
/// θ = `[J per edge (edge order), h_i(k) per site i and value k (site-major)]`
/// and φ(s) = `[δ(s_a, s_b) per edge, one-hot of s_i per site]`, so
/// `E = −⟨θ, φ⟩` and the model is [`LogLinear`]. The fields are
/// over-parameterised (adding a constant to all h_i(·) of a site shifts E by
/// a constant); trainers that need a gauge fix it themselves.
///
/// Blocks: the checkerboard on bipartite lattices, otherwise a greedy
/// colouring of the interaction graph.
///
/// ```
/// use ebm_core::{Beta, EnergyModel};
/// use ebm_models::potts::Potts;
/// // q = 3 on a 4-site ring, J = 1, field 0.5 on value 0 of every site
/// let m = Potts::lattice(3, &[4], true, 1.0, 0.5)?;
/// assert_eq!(m.energy(&[0, 0, 0, 0]), -4.0 - 2.0);
/// assert_eq!(m.energy(&[0, 1, 2, 1]), -0.5);
/// # Ok::<(), ebm_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Potts {
    space: Categories,
    /// Edge endpoints, in edge order.
    edges: Vec<[u32; 2]>,
    /// θ = [J per edge, h per site and value].
    params: Vec<f64>,
    /// Site i's fields are `params[edges.len() + field_offsets[i]..][..q_i]`.
    field_offsets: Vec<usize>,
    adj: Adjacency,
    /// Coupling per adjacency entry (a copy of θ).
    nbr_coupling: Vec<f64>,
    lattice: Option<Lattice>,
    blocks: Blocks,
    /// `Some((q, J, h))` when every unit has q values, every coupling is J
    /// and every site has the same fields h (what the lattice kernel needs).
    uniform: Option<(usize, f64, Vec<f64>)>,
    /// `Some(J)` on a periodic lattice whose every coupling is J (the
    /// pair form's torus hint).
    torus_j: Option<f64>,
}

fn check_scalar(name: &'static str, value: f64) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidParameter { name, value, expected: "finite" })
    }
}

impl Potts {
    /// q states on a hypercubic lattice with sides `dims` (1 to 3 of them),
    /// uniform coupling `j` and a field `h` on value 0 of every site (the
    /// other values have none). See [`Lattice`] for site numbering, bond
    /// order and sides 1 and 2.
    ///
    /// Errors: q outside `2..=256`, a bad lattice shape
    /// ([`Error::InvalidParameter`]); non-finite `j` or `h`.
    pub fn lattice(
        q: usize,
        dims: &[usize],
        boundary: impl Into<Boundary>,
        j: f64,
        h: f64,
    ) -> Result<Self> {
        check_scalar("coupling J", j)?;
        check_scalar("field h", h)?;
        let lattice = Lattice::new(dims, boundary)?;
        let n = lattice.n_sites();
        let space = Categories::uniform(q, n)?;
        let bonds = lattice.bonds();
        let mut params = vec![j; bonds.len()];
        for _ in 0..n {
            params.push(h);
            params.extend(std::iter::repeat_n(0.0, q - 1));
        }
        Ok(Potts::build(space, bonds, params, Some(lattice)))
    }

    /// Potts on any graph: unit i takes `space.n_values(i)` values; `edges`
    /// lists `(i, j, J_ij)` once per interacting pair (edge order = this
    /// order); `fields` holds h_i(k) site-major (Σ_i q_i values).
    ///
    /// Errors: as `Ising::from_edges` (no sites, endpoints out of range,
    /// self-loops, a pair listed twice, non-finite values); `fields` of the
    /// wrong length ([`Error::ShapeMismatch`]).
    pub fn from_edges(
        space: Categories,
        edges: &[(usize, usize, f64)],
        fields: &[f64],
    ) -> Result<Self> {
        let n = space.len();
        let bonds = check_edges("number of sites", n, edges)?;
        let n_fields: usize = (0..n).map(|i| space.n_values(i)).sum();
        check_len("fields (Σ q_i values)", n_fields, fields.len())?;
        check_finite("fields", fields)?;
        let mut params: Vec<f64> = edges.iter().map(|e| e.2).collect();
        params.extend_from_slice(fields);
        Ok(Potts::build(space, bonds, params, None))
    }

    /// Replaces the fields (h_i(k) site-major, Σ q_i finite values).
    pub fn with_fields(mut self, fields: &[f64]) -> Result<Self> {
        let e = self.edges.len();
        check_len("fields (Σ q_i values)", self.params.len() - e, fields.len())?;
        check_finite("fields", fields)?;
        self.params[e..].copy_from_slice(fields);
        self.refresh();
        Ok(self)
    }

    /// Replaces the couplings (one per edge, in edge order, finite).
    pub fn with_couplings(mut self, couplings: &[f64]) -> Result<Self> {
        let e = self.edges.len();
        check_len("couplings", e, couplings.len())?;
        check_finite("couplings", couplings)?;
        self.params[..e].copy_from_slice(couplings);
        self.refresh();
        Ok(self)
    }

    fn build(
        space: Categories,
        edges: Vec<[u32; 2]>,
        params: Vec<f64>,
        lattice: Option<Lattice>,
    ) -> Self {
        let n = space.len();
        let mut field_offsets = Vec::with_capacity(n);
        let mut total = 0;
        for i in 0..n {
            field_offsets.push(total);
            total += space.n_values(i);
        }
        let adj = Adjacency::new(n, &edges);
        let nbr_coupling = adj.entry_edges().iter().map(|&e| params[e]).collect();
        let blocks = adj.colouring(lattice.as_ref());
        let mut m = Potts {
            space,
            edges,
            params,
            field_offsets,
            adj,
            nbr_coupling,
            lattice,
            blocks,
            uniform: None,
            torus_j: None,
        };
        m.refresh();
        m
    }

    /// Recomputes the adjacency couplings and the uniformity flag from θ.
    fn refresh(&mut self) {
        self.torus_j =
            crate::graph::torus_coupling(self.lattice.as_ref(), &self.params[..self.edges.len()]);
        for (c, &e) in self.nbr_coupling.iter_mut().zip(self.adj.entry_edges()) {
            *c = self.params[e];
        }
        let e = self.edges.len();
        let (j, h) = self.params.split_at(e);
        self.uniform = self.space.uniform_q().and_then(|q| {
            let j0 = j.first().copied().unwrap_or(0.0);
            let same_j = j.iter().all(|&x| x == j0);
            let same_h = h.chunks_exact(q).all(|hi| hi == &h[..q]);
            (same_j && same_h).then(|| (q, j0, h[..q].to_vec()))
        });
    }

    /// Number of edges (bonds).
    pub fn n_edges(&self) -> usize {
        self.edges.len()
    }

    /// The endpoints of edge `e`.
    pub fn edge(&self, e: usize) -> (usize, usize) {
        let [a, b] = self.edges[e];
        (a as usize, b as usize)
    }

    /// The couplings J_e, in edge order.
    pub fn couplings(&self) -> &[f64] {
        &self.params[..self.edges.len()]
    }

    /// The fields h_i(k) of site `i`, one per value.
    pub fn fields(&self, i: usize) -> &[f64] {
        let start = self.edges.len() + self.field_offsets[i];
        &self.params[start..start + self.space.n_values(i)]
    }

    /// The neighbours of site `i`, one entry per edge.
    pub fn neighbours(&self, i: usize) -> &[u32] {
        self.adj.neighbours(i)
    }

    /// The lattice, if the model was built on one.
    pub fn lattice_shape(&self) -> Option<&Lattice> {
        self.lattice.as_ref()
    }

    /// `Some((q, J, h))` when every unit has q values, every coupling is J
    /// and every site has the fields h.
    pub fn uniform(&self) -> Option<(usize, f64, &[f64])> {
        self.uniform.as_ref().map(|(q, j, h)| (*q, *j, h.as_slice()))
    }

    /// The fraction of sites in each value `0..max q` of state `s`.
    pub fn fractions(&self, s: &[u8]) -> Vec<f64> {
        let mut counts = vec![0usize; self.space.max_values()];
        s.iter().for_each(|&v| counts[usize::from(v)] += 1);
        counts.iter().map(|&c| c as f64 / s.len().max(1) as f64).collect()
    }

    /// The Potts order parameter `(q · max_k n_k / N − 1) / (q − 1)`: 0 for
    /// an evenly mixed state, 1 for an ordered one (q: the largest alphabet).
    pub fn order_parameter(&self, s: &[u8]) -> f64 {
        let q = self.space.max_values() as f64;
        let max = self.fractions(s).into_iter().fold(0.0, f64::max);
        (q * max - 1.0) / (q - 1.0)
    }

    /// The fraction of edges whose endpoints agree, `Σ_e δ(s_a, s_b) / N_b`.
    pub fn bond_agreement(&self, s: &[u8]) -> f64 {
        let same = self.edges.iter().filter(|&&[a, b]| s[a as usize] == s[b as usize]).count();
        same as f64 / self.edges.len().max(1) as f64
    }
}

impl EnergyModel for Potts {
    type Space = Categories;

    fn n_units(&self) -> usize {
        self.space.len()
    }

    fn space(&self) -> &Categories {
        &self.space
    }

    /// `−Σ_e J_e δ(s_a, s_b) − Σ_i h_i(s_i)`.
    fn energy(&self, s: &[u8]) -> f64 {
        let (couplings, fields) = self.params.split_at(self.edges.len());
        let mut e = 0.0;
        for (&[a, b], &j) in self.edges.iter().zip(couplings) {
            if s[a as usize] == s[b as usize] {
                e -= j;
            }
        }
        for (&v, &off) in s.iter().zip(&self.field_offsets) {
            e -= fields[off + usize::from(v)];
        }
        e
    }
}

impl CategoricalModel for Potts {
    /// `out[k] = −h_i(k) − Σ_{j ∼ i} J_ij δ(k, s_j)`: O(q + degree), no
    /// allocation.
    #[inline]
    fn local_energies(&self, s: &[u8], i: usize, out: &mut [f64]) {
        let q = self.space.n_values(i);
        let e = self.edges.len();
        let h = &self.params[e + self.field_offsets[i]..][..q];
        for (o, &hk) in out[..q].iter_mut().zip(h) {
            *o = -hk;
        }
        let r = self.adj.range(i);
        for (&j, &c) in self.adj.neighbours(i).iter().zip(&self.nbr_coupling[r]) {
            let v = usize::from(s[j as usize]);
            if v < q {
                out[v] -= c;
            }
        }
    }

    fn blocks(&self) -> Blocks {
        self.blocks.clone()
    }

    /// The checkerboard kernel (table-driven, parallel over stripes) for a
    /// uniform periodic lattice with even sides and a small transition
    /// table; `None` otherwise. See the `kernel` module docs (its file).
    fn block_kernel(&self, _rule: LocalRule, x: &[u8]) -> Option<Box<dyn KernelState<u8>>> {
        kernel::start(self, x).map(|k| Box::new(k) as Box<dyn KernelState<u8>>)
    }

    fn block_kernel_sweep(
        &self,
        rule: LocalRule,
        state: &mut dyn KernelState<u8>,
        beta: ebm_core::Beta,
        key: [u32; 8],
    ) -> Option<u64> {
        kernel::sweep(self, rule, state, beta, key)
    }

    /// The edges, couplings and fields: the Potts model is its pair form.
    fn pair_graph(&self) -> Option<ebm_core::PairGraph<'_>> {
        Some(crate::graph::pair_graph(
            &self.edges,
            &self.params,
            &self.adj,
            &self.nbr_coupling,
            self.lattice.as_ref(),
            self.torus_j,
        ))
    }
}

impl LogLinear for Potts {
    /// θ = `[J per edge (edge order), h_i(k) per site and value]`.
    fn params(&self) -> &[f64] {
        &self.params
    }

    fn n_couplings(&self) -> usize {
        self.edges.len()
    }

    fn set_params(&mut self, theta: &[f64]) -> Result<()> {
        check_len("Potts parameters", self.params.len(), theta.len())?;
        check_finite("Potts parameters", theta)?;
        self.params.copy_from_slice(theta);
        self.refresh();
        Ok(())
    }

    /// φ(s) = `[δ(s_a, s_b) per edge, one-hot of s_i per site]`.
    fn add_statistics(&self, s: &[u8], weight: f64, out: &mut [f64]) {
        let e = self.edges.len();
        let (pairs, singles) = out.split_at_mut(e);
        for (o, &[a, b]) in pairs.iter_mut().zip(&self.edges) {
            if s[a as usize] == s[b as usize] {
                *o += weight;
            }
        }
        for (&v, &off) in s.iter().zip(&self.field_offsets) {
            singles[off + usize::from(v)] += weight;
        }
    }
}
