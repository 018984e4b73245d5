//! The model traits: energy over a state space, and log-linear parameters.
//! The families of models (what samplers need of binary or categorical
//! units) are in `binary.rs` and `categorical.rs`.

use crate::beta::Beta;
use crate::error::Result;
use crate::space::StateSpace;

/// The value type of one unit of model `M`: `i8` for binary units, `u8` for
/// categorical ones.
pub type UnitOf<M> = <<M as EnergyModel>::Space as StateSpace>::Unit;

/// A model assigning an energy E(x) to every configuration x of its units.
///
/// At inverse temperature β the equilibrium distribution is
/// `p(x) = exp(−β E(x)) / Z`, `Z = Σ_x exp(−β E(x))`. β is not part of the
/// model. Sign convention, used everywhere in ebm:
/// `E(x) = −Σ_i b_i x_i − Σ_{i<j} W_ij x_i x_j` (Ising: `−J Σ_<ij> s_i s_j − h Σ_i s_i`;
/// Potts: `−Σ_<ij> J_ij δ(s_i, s_j) − Σ_i h_i(s_i)`).
///
/// A configuration is a slice of `n_units()` values of the model's
/// [`StateSpace`] ([`EnergyModel::space`]): ±1 or 0/1 for a
/// [`crate::Domain`], `0..q_i` for [`crate::Categories`]. Implementations may
/// assume the slice has the right length and values; constructors of states
/// validate.
///
/// Implementing it, together with an empty [`BinaryModel`](crate::BinaryModel)
/// (or [`CategoricalModel`](crate::CategoricalModel)) impl, is all a new model
/// needs for exact thermodynamics and every sampler:
///
/// ```
/// use ebm_core::{BinaryModel, Domain, EnergyModel};
///
/// /// A ring of spins with coupling `j`.
/// struct Ring { n: usize, j: f64 }
///
/// impl EnergyModel for Ring {
///     type Space = Domain;
///     fn n_units(&self) -> usize { self.n }
///     fn space(&self) -> &Domain { &Domain::Spin }
///     fn energy(&self, s: &[i8]) -> f64 {
///         (0..self.n).map(|i| -self.j * f64::from(s[i] * s[(i + 1) % self.n])).sum()
///     }
/// }
/// impl BinaryModel for Ring {}
///
/// let ring = Ring { n: 4, j: 1.0 };
/// assert_eq!(ring.energy(&[1, 1, 1, 1]), -4.0);
/// assert_eq!(ring.flip_delta(&[1, 1, 1, 1], 0), 4.0);
/// ```
pub trait EnergyModel: Sync {
    /// The values the units take ([`crate::Domain`] for binary units,
    /// [`crate::Categories`] for categorical ones).
    type Space: StateSpace;

    /// Number of units n; configurations are slices of this length.
    fn n_units(&self) -> usize;

    /// The state space of the units (for binary units, `&Domain::Spin` or
    /// `&Domain::Bit`).
    fn space(&self) -> &Self::Space;

    /// The energy E(x) of configuration `x`.
    fn energy(&self, x: &[UnitOf<Self>]) -> f64;

    /// Number F of independent factors: `E(x) = Σ_f E_f(x_f)` over F equal,
    /// contiguous, non-interacting blocks of units (`x_f` =
    /// `x[f·n/F..(f+1)·n/F]`; two replicas of one model, say). Parallel
    /// tempering then exchanges each factor between rungs on its own. The
    /// default, 1, is always correct.
    fn n_factors(&self) -> usize {
        1
    }

    /// The energy `E_f(x_f)` of factor `f` alone, given its units `xf`;
    /// the factors' energies sum to [`EnergyModel::energy`]. The default
    /// (one factor) is `energy(xf)`.
    fn factor_energy(&self, f: usize, xf: &[UnitOf<Self>]) -> f64 {
        let _ = f;
        self.energy(xf)
    }

    /// The log-weights `ln w_r` (run order) of a batch of AIS runs by the
    /// model's own kernel, or `None` (the default): the generic runner then
    /// sweeps the caller's sampler. Forward weights must satisfy
    /// `E[w] = Z(s_K) / Z(0)`, reverse ones `E[w] = Z(0) / Z(s_0)`, with
    /// `Z(0)` the size of the state space, or with a base
    /// ([`crate::AnnealBase`]) `Z(0) = Σ_x e^{−β E₀(x)}`; RAISE runs
    /// (`first_sweep`) start at data points and weigh by the same formula
    /// (Burda, Grosse and Salakhutdinov 2015). A kernel may sum some units out
    /// analytically (Rao–Blackwellised weights, lower variance). The result
    /// must not depend on the number of threads. The RBM answers for
    /// heat-bath block sweeps, with its hidden layer summed out and the runs
    /// batched.
    fn anneal_runs(&self, runs: &crate::AnnealRuns<'_, UnitOf<Self>>) -> Option<Result<Vec<f64>>> {
        let _ = runs;
        None
    }

    /// The energy traces of a thermodynamic integration's chains by the
    /// model's own kernel (`traces[i · n_chains + c]`: node i, chain c, one
    /// value per recorded sweep), or `None` (the default): `Ti` then sweeps
    /// the caller's sampler. Each trace must be a trace of the chain the
    /// caller's sampler would run (the same Markov kernel, any random
    /// numbers), so that its mean estimates `⟨E⟩_β`; a kernel may record a
    /// conditional expectation of E instead (Rao–Blackwellised). The result
    /// must not depend on the number of threads. The RBM answers for
    /// heat-bath block sweeps, with the chains batched.
    fn node_traces(&self, runs: &crate::NodeRuns<'_>) -> Option<Result<Vec<Vec<f64>>>> {
        let _ = runs;
        None
    }
}

/// A model whose energy is linear in its parameters: `E_θ(x) = −⟨θ, φ(x)⟩`
/// — or, more generally, differentiable in them, with the statistics
/// `φ_θ(x) = −∂E_θ(x)/∂θ` taken at the current θ
/// ([`LogLinear::is_linear`] is then `false`: the Gaussian–Bernoulli RBM's
/// log-variances).
///
/// The log-likelihood gradient is in both cases `∂ ln p(v)/∂θ = β(⟨φ⟩_data − ⟨φ⟩_model)`;
/// trainers and optimizers see only the flat parameter vector θ and the
/// sufficient statistics φ. For latent-variable models the data term is
/// `E[φ(v, h) | v]`: models with a closed form (the RBM) provide it through
/// [`LogLinear::add_data_statistics`]; others (a BM with hidden units) return
/// `false` there and the trainer samples h with v clamped.
///
/// The visible units are the first [`LogLinear::n_visible`] units of a state.
///
/// ```
/// use ebm_core::{BinaryModel, Domain, EnergyModel, LogLinear, Result, check_finite, check_len};
///
/// /// Independent bits with biases θ: E(x) = −Σ θ_i x_i, φ(x) = x.
/// struct Biases { theta: Vec<f64> }
/// impl EnergyModel for Biases {
///     type Space = Domain;
///     fn n_units(&self) -> usize { self.theta.len() }
///     fn space(&self) -> &Domain { &Domain::Bit }
///     fn energy(&self, x: &[i8]) -> f64 {
///         -self.theta.iter().zip(x).map(|(t, &xi)| t * f64::from(xi)).sum::<f64>()
///     }
/// }
/// impl BinaryModel for Biases {}
/// impl LogLinear for Biases {
///     fn params(&self) -> &[f64] { &self.theta }
///     fn set_params(&mut self, theta: &[f64]) -> Result<()> {
///         check_len("params", self.theta.len(), theta.len())?;
///         check_finite("params", theta)?;
///         self.theta.copy_from_slice(theta);
///         Ok(())
///     }
///     fn add_statistics(&self, x: &[i8], weight: f64, out: &mut [f64]) {
///         for (o, &xi) in out.iter_mut().zip(x) { *o += weight * f64::from(xi); }
///     }
/// }
/// let m = Biases { theta: vec![0.5, -1.0] };
/// let mut phi = vec![0.0; 2];
/// m.add_statistics(&[1, 1], 1.0, &mut phi);
/// let dot: f64 = m.params().iter().zip(&phi).map(|(t, p)| t * p).sum();
/// assert_eq!(m.energy(&[1, 1]), -dot);
/// ```
pub trait LogLinear: EnergyModel {
    /// The parameters θ as one flat slice (layout documented by each model).
    fn params(&self) -> &[f64];

    /// Number of parameters, `params().len()`.
    fn n_params(&self) -> usize {
        self.params().len()
    }

    /// Number of pairwise parameters: by convention θ lists couplings first
    /// (`θ[..n_couplings()]`) and biases/fields after; optimizers apply weight
    /// decay to the couplings only. The default counts every parameter as a
    /// coupling.
    fn n_couplings(&self) -> usize {
        self.n_params()
    }

    /// Replaces θ. Errors on a wrong length or a non-finite value, leaving the
    /// model unchanged.
    fn set_params(&mut self, theta: &[f64]) -> Result<()>;

    /// Whether `E_θ(x) = −⟨θ, φ(x)⟩` exactly (the default); `false` for a
    /// model whose statistics are the energy's parameter gradient at the
    /// current θ (`φ_θ = −∂E_θ/∂θ`), which the conformance checks then
    /// verify by finite differences instead.
    fn is_linear(&self) -> bool {
        true
    }

    /// `out += weight · φ(x)` for a full configuration `x`.
    fn add_statistics(&self, x: &[UnitOf<Self>], weight: f64, out: &mut [f64]);

    /// Number of visible units (the first ones of a state); `n_units()` for a
    /// fully visible model.
    fn n_visible(&self) -> usize {
        self.n_units()
    }

    /// `ln Σ_h e^{−β E(v, h)}` (`−β F(v)`, the log of the unnormalised
    /// visible marginal) for visible values `v` (length `n_visible()`,
    /// valid), or `None` when the model has latent units without a closed
    /// form. The default handles fully visible models (`−β E(v)`).
    fn visible_log_marginal(&self, v: &[UnitOf<Self>], beta: Beta) -> Option<f64> {
        (self.n_visible() == self.n_units()).then(|| -beta.value() * self.energy(v))
    }

    /// `out += weight · E_β[φ(v, h) | v]` for visible data `v` (length
    /// `n_visible()`), with h distributed as `p_β(h | v) ∝ exp(−β E(v, h))`,
    /// returning `true`; or `false`, adding nothing, when the model has latent
    /// units without a closed-form conditional expectation.
    ///
    /// The default handles fully visible models.
    fn add_data_statistics(
        &self,
        v: &[UnitOf<Self>],
        beta: Beta,
        weight: f64,
        out: &mut [f64],
    ) -> bool {
        let _ = beta;
        if self.n_visible() == self.n_units() {
            self.add_statistics(v, weight, out);
            true
        } else {
            false
        }
    }

    /// `out += weight · Σ_r φ(x_r)` over the rows of `xs` (row length
    /// `n_units()`). Models override it with GEMM.
    fn add_statistics_batch(&self, xs: &[UnitOf<Self>], weight: f64, out: &mut [f64]) {
        let n = self.n_units().max(1);
        for x in xs.chunks_exact(n) {
            self.add_statistics(x, weight, out);
        }
    }

    /// `out += weight · Σ_r E[φ | v_r]` over the rows of `vs` (row length
    /// `n_visible()`); `false` as in [`LogLinear::add_data_statistics`].
    fn add_data_statistics_batch(
        &self,
        vs: &[UnitOf<Self>],
        beta: Beta,
        weight: f64,
        out: &mut [f64],
    ) -> bool {
        let n = self.n_visible().max(1);
        vs.chunks_exact(n).all(|v| self.add_data_statistics(v, beta, weight, out))
    }
}
