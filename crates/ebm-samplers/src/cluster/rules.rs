//! What a cluster move needs from a family of models, implemented by its
//! state space: ±1 spins ([`Domain`]) and categories ([`Categories`]).
//!
//! A cluster's move is one of q *options* k: for spins, 0 = stay and 1 =
//! flip (relative, so a cluster joined through antiferromagnetic bonds flips
//! as a whole); for categories, k is the new colour (absolute). The field
//! energy of unit i under option k is `field_energy(i, x_i, k)`.

use ebm_core::{
    BinaryModel, CategoricalModel, Categories, Domain, EnergyModel, Error, PairGraph, Result,
    StateSpace,
};

/// The cluster rules of a family of models (see the module docs). The bond
/// between units a and b with coupling J is *eligible* when
/// `bond_strength(x_a, x_b, J) = K > 0`; then it is open with probability
/// `p = 1 − e^{−βK}` (Fortuin–Kasteleyn).
pub trait ClusterMoves<M: EnergyModel<Space = Self> + ?Sized>: StateSpace + Sized {
    /// The model's pair form and its number of options q, checked: a typed
    /// error if the model has none or one the moves cannot use.
    fn pair_form(model: &M) -> Result<(PairGraph<'_>, usize)>;

    /// The pair form a sweep reads: `None` (the sweep then leaves the chain
    /// unchanged and counts a refusal) if the model no longer has a usable one.
    fn usable_form(model: &M) -> Option<(PairGraph<'_>, usize)>;

    /// K for the bond between values `a` and `b` with coupling `j`; 0 if the
    /// bond cannot open.
    fn bond_strength(a: Self::Unit, b: Self::Unit, j: f64) -> f64;

    /// Whether every cluster holds units of one value (all bonds join equal
    /// values): true for Potts, and for spins when every J ≥ 0. Wolff then
    /// skips its visit stamps.
    fn aligned_clusters(graph: &PairGraph<'_>) -> bool;

    /// The option a unit of value `x` is in now.
    fn current(x: Self::Unit) -> usize;

    /// The value of a unit of value `x` after its cluster takes option `k`.
    fn apply(x: Self::Unit, k: usize) -> Self::Unit;

    /// The field energy of unit `i` (value `x`) under option `k`: −h_i·s for
    /// spins, −h_i(k) for categories. `fields` as in [`PairGraph`].
    fn field_energy(fields: &[f64], q: usize, i: usize, x: Self::Unit, k: usize) -> f64;
}

impl<M: BinaryModel + ?Sized> ClusterMoves<M> for Domain {
    fn pair_form(model: &M) -> Result<(PairGraph<'_>, usize)> {
        if model.domain() != Domain::Spin {
            return Err(Error::Unsupported {
                what: "cluster moves",
                reason: "they flip ±1 spins; this model has 0/1 units".into(),
            });
        }
        let g = model.pair_graph().ok_or_else(|| Error::Unsupported {
            what: "cluster moves",
            reason: "the model exposes no pair form (BinaryModel::pair_graph)".into(),
        })?;
        g.validate(model.n_units(), model.n_units())?;
        Ok((g, 2))
    }

    fn usable_form(model: &M) -> Option<(PairGraph<'_>, usize)> {
        (model.domain() == Domain::Spin).then(|| model.pair_graph()).flatten().map(|g| (g, 2))
    }

    fn aligned_clusters(graph: &PairGraph<'_>) -> bool {
        // a torus hint stands for every coupling
        match &graph.torus {
            Some(t) => t.coupling >= 0.0,
            None => graph.couplings.iter().all(|&j| j >= 0.0),
        }
    }

    /// A satisfied bond (J s_a s_b > 0) is eligible with K = 2|J| (Kandel–
    /// Domany): exact for couplings of either sign.
    #[inline]
    fn bond_strength(a: i8, b: i8, j: f64) -> f64 {
        if j * f64::from(a * b) > 0.0 { 2.0 * j.abs() } else { 0.0 }
    }

    #[inline]
    fn current(_: i8) -> usize {
        0
    }

    #[inline]
    fn apply(x: i8, k: usize) -> i8 {
        if k == 0 { x } else { -x }
    }

    #[inline]
    fn field_energy(fields: &[f64], _: usize, i: usize, x: i8, k: usize) -> f64 {
        -fields[i] * f64::from(if k == 0 { x } else { -x })
    }
}

fn potts_form<M: CategoricalModel + ?Sized>(model: &M) -> Result<(PairGraph<'_>, usize)> {
    let unsupported = |reason: String| Error::Unsupported { what: "Potts cluster moves", reason };
    let q = model.space().uniform_q().ok_or_else(|| {
        unsupported("they recolour clusters, so every unit needs the same number of values".into())
    })?;
    let g = model.pair_graph().ok_or_else(|| {
        unsupported("the model exposes no pair form (CategoricalModel::pair_graph)".into())
    })?;
    g.validate(model.n_units(), model.n_units() * q)?;
    if let Some(e) = g.couplings.iter().position(|&j| j < 0.0) {
        return Err(unsupported(format!(
            "coupling {e} is {} < 0: Fortuin–Kasteleyn bonds need ferromagnetic couplings J ≥ 0",
            g.couplings[e]
        )));
    }
    Ok((g, q))
}

impl<M: CategoricalModel + ?Sized> ClusterMoves<M> for Categories {
    fn pair_form(model: &M) -> Result<(PairGraph<'_>, usize)> {
        potts_form(model)
    }

    fn usable_form(model: &M) -> Option<(PairGraph<'_>, usize)> {
        let q = model.space().uniform_q()?;
        let g = model.pair_graph()?;
        g.couplings.iter().all(|&j| j >= 0.0).then_some((g, q))
    }

    fn aligned_clusters(_: &PairGraph<'_>) -> bool {
        true
    }

    /// Equal neighbours with J > 0 are eligible with K = J.
    #[inline]
    fn bond_strength(a: u8, b: u8, j: f64) -> f64 {
        if a == b && j > 0.0 { j } else { 0.0 }
    }

    #[inline]
    fn current(x: u8) -> usize {
        usize::from(x)
    }

    #[inline]
    fn apply(_: u8, k: usize) -> u8 {
        k as u8
    }

    #[inline]
    fn field_energy(fields: &[f64], q: usize, i: usize, _: u8, k: usize) -> f64 {
        -fields[i * q + k]
    }
}
