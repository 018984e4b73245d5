//! Model-supplied sweep kernels: how a model makes the generic samplers fast.
//!
//! A block sweep visits every block of [`BinaryModel::blocks`] in turn and
//! updates each of its units once by a [`LocalRule`]. Most models run it
//! through [`BinaryModel::block_deltas`]; a model with more structure (a
//! uniform periodic Ising lattice: a checkerboard kernel on a sublattice
//! layout with vectorised random numbers) offers a whole-sweep kernel instead,
//! through [`BinaryModel::block_kernel`] and
//! [`BinaryModel::block_kernel_sweep`]. The samplers (`Gibbs::block()`,
//! `Metropolis::block()`) ask for it when a chain starts and run it on every
//! sweep while the model accepts it; user code names no extra type.
//!
//! The same holds for annealed importance sampling: a model may run a whole
//! batch of AIS runs itself ([`AnnealRuns`], through
//! [`EnergyModel::anneal_runs`](crate::EnergyModel::anneal_runs)), which
//! `Ais` asks for when its sampler's sweep is a plain block sweep (the RBM:
//! block Gibbs with the hidden layer summed out, all runs batched).
//!
//! [`BinaryModel::blocks`]: crate::BinaryModel::blocks
//! [`BinaryModel::block_deltas`]: crate::BinaryModel::block_deltas
//! [`BinaryModel::block_kernel`]: crate::BinaryModel::block_kernel
//! [`BinaryModel::block_kernel_sweep`]: crate::BinaryModel::block_kernel_sweep

use std::any::Any;
use std::fmt;

/// The single-unit update of a sweep. For a binary unit, given
/// `Δ_i = E(x with i flipped) − E(x)`; for a unit with q values, given the
/// energies `E_k` of its values with the rest fixed: heat bath draws value k
/// with probability `e^{−βE_k} / Σ_l e^{−βE_l}`, Metropolis proposes one of the
/// other q − 1 values uniformly and accepts with `min(1, e^{−β(E_new − E_old)})`
/// (for q = 2 both reduce to the binary rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LocalRule {
    /// Heat bath: flip with probability `σ(−βΔ) = 1 / (1 + e^{βΔ})`.
    HeatBath,
    /// Metropolis: flip with probability `min(1, e^{−βΔ})`.
    Metropolis,
}

impl LocalRule {
    /// The flip probability of a unit whose flip changes the energy by
    /// `delta`, at inverse temperature `beta`; saturates cleanly at 0 and 1.
    #[inline]
    pub fn flip_probability(self, beta: f64, delta: f64) -> f64 {
        match self {
            LocalRule::HeatBath => {
                let z = -beta * delta;
                if z >= 0.0 { 1.0 / (1.0 + (-z).exp()) } else { z.exp() / (1.0 + z.exp()) }
            }
            LocalRule::Metropolis => {
                if delta <= 0.0 {
                    1.0
                } else {
                    (-beta * delta).exp()
                }
            }
        }
    }
}

/// The per-chain data of a model's sweep kernel (for a lattice: the spins in
/// a sublattice layout). It holds the chain's configuration, nothing that
/// depends on the model's parameters: the kernel reads those from the model
/// on every sweep.
///
/// `U` is the unit type (`i8` for binary models, `u8` for categorical ones).
pub trait KernelState<U = i8>: Send + Sync + fmt::Debug {
    /// The configuration in unit order.
    fn state(&self) -> &[U];
    /// A boxed copy.
    fn clone_box(&self) -> Box<dyn KernelState<U>>;
    /// For the model to downcast to its own type.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<U: 'static> Clone for Box<dyn KernelState<U>> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// A batch of annealed-importance-sampling runs handed to a model's own
/// kernel ([`crate::EnergyModel::anneal_runs`]): the runs visit the points
/// `path = [s_0, …, s_K]` in order, targeting
///
/// ```text
/// p_s(x) ∝ e^{−s E(x)}                      (no base: the uniform start)
/// p_s(x) ∝ e^{−(β − s) E₀(x) − s E(x)}      (base E₀(x) = −Σ_i f_i(x_i), 0 ≤ s ≤ β)
/// ln w   = −Σ_t (s_t − s_{t−1}) (E(x_t) − E₀(x_t))
/// ```
///
/// with one sweep of `rule` at `s_t` after every increment but the last (the
/// generic runner's schedule). Forward runs (`starts == None`) begin with
/// exact draws from `p_0`.
#[derive(Debug, Clone, Copy)]
pub struct AnnealRuns<'a, U> {
    /// The update rule of the caller's sampler, whose sweep is a plain block
    /// sweep ([`crate::Sampler::block_rule`]).
    pub rule: LocalRule,
    /// The inverse temperatures in visiting order: from 0 up (forward runs)
    /// or down to 0 (reverse runs).
    pub path: &'a [f64],
    /// Reverse runs: run r starts at row r (`n_units()` values, valid, at
    /// least `n_runs` rows). Forward runs (`None`) start from the uniform
    /// distribution at `s_0 = 0`.
    pub starts: Option<&'a [U]>,
    /// Number of runs.
    pub n_runs: usize,
    /// Run r draws only from `seed.stream(Purpose::AIS, stream_offset + r)`.
    pub seed: crate::Seed,
    /// See `seed`.
    pub stream_offset: u64,
    /// The independent-site base of the path, or `None` for the uniform
    /// start (E₀ = 0).
    pub base: Option<AnnealBase<'a>>,
    /// RAISE: one sweep at `s_0` before the first increment (reverse runs
    /// started at data points, which are not samples of `p_{s_0}`).
    pub first_sweep: bool,
}

/// The base `E₀(x) = −Σ_i f_i(x_i)` of an [`AnnealRuns`] path and the β at
/// which the path ends on the model.
#[derive(Debug, Clone, Copy)]
pub struct AnnealBase<'a> {
    /// `f_i(k)`, unit-major, `q_i` values per unit in the space's value order.
    pub fields: &'a [f64],
    /// The path's end: `p_β ∝ e^{−β E}`, its start `p_0 ∝ e^{−β E₀}`.
    pub beta: f64,
}

/// The chains of a thermodynamic integration handed to a model's own kernel
/// ([`crate::EnergyModel::node_traces`]): at each inverse temperature of
/// `betas`, `n_chains` chains of a plain block sweep under `rule`, each
/// started at a uniformly random state, `burn_in` sweeps discarded, then the
/// energy `E(x)` recorded after each of `n_sweeps` sweeps (at β = 0: exact
/// uniform draws). Chain c of node i draws only from
/// `seed.derive(i).stream(Purpose::SAMPLING, c)`.
#[derive(Debug, Clone, Copy)]
pub struct NodeRuns<'a> {
    /// The update rule of the caller's sampler ([`crate::Sampler::block_rule`]).
    pub rule: LocalRule,
    /// The nodes' inverse temperatures (each finite and ≥ 0).
    pub betas: &'a [f64],
    /// Chains per node.
    pub n_chains: usize,
    /// Sweeps discarded per chain.
    pub burn_in: usize,
    /// Sweeps recorded per chain.
    pub n_sweeps: usize,
    /// The seed the chains' streams derive from.
    pub seed: crate::Seed,
}
