//! The model traits: energy, single-unit flips and blocks, log-linear parameters.

use crate::beta::Beta;
use crate::blocks::Blocks;
use crate::error::Result;
use crate::kernel::{KernelState, LocalRule};
use crate::state::Domain;

/// A model assigning an energy E(x) to every configuration x of its binary units.
///
/// At inverse temperature β the equilibrium distribution is
/// `p(x) = exp(−β E(x)) / Z`, `Z = Σ_x exp(−β E(x))`. β is not part of the
/// model. Sign convention, used everywhere in ebm:
/// `E(x) = −Σ_i b_i x_i − Σ_{i<j} W_ij x_i x_j` (Ising: `−J Σ_<ij> s_i s_j − h Σ_i s_i`).
///
/// A configuration is a slice of `n_units()` values in the model's [`Domain`]
/// (±1 or 0/1). Implementations may assume the slice has the right length and
/// values; constructors of states validate.
///
/// Implementing it, together with an empty [`BinaryModel`] impl, is all a new
/// model needs for exact thermodynamics and every sampler:
///
/// ```
/// use ebm_core::{BinaryModel, Domain, EnergyModel};
///
/// /// A ring of spins with coupling `j`.
/// struct Ring { n: usize, j: f64 }
///
/// impl EnergyModel for Ring {
///     fn n_units(&self) -> usize { self.n }
///     fn domain(&self) -> Domain { Domain::Spin }
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
    /// Number of units n; configurations are slices of this length.
    fn n_units(&self) -> usize;

    /// The values the units take.
    fn domain(&self) -> Domain;

    /// The energy E(x) of configuration `x`.
    fn energy(&self, x: &[i8]) -> f64;
}

/// What samplers and exact enumeration need of a model with binary units.
///
/// Contract: `flip_delta(x, i) = E(x with unit i flipped) − E(x)`; every block of
/// `blocks()` is an independent set (no two of its units interact), so the
/// deltas of a block's units do not depend on each other.
///
/// Every method has a correct default built on [`EnergyModel::energy`], so
/// `impl BinaryModel for M {}` is valid; models override the defaults for
/// speed (O(degree) flip deltas, checkerboard blocks, GEMM block deltas).
/// Heat-bath Gibbs flips unit i with probability σ(−β Δ_i); Metropolis accepts
/// with min(1, e^{−β Δ_i}); both need only `flip_delta`.
///
/// ```
/// use ebm_core::{BinaryModel, Blocks, Domain, EnergyModel};
///
/// /// Two independent pairs of bits: units {0,1} and {2,3} interact.
/// struct Pairs { w: f64 }
/// impl EnergyModel for Pairs {
///     fn n_units(&self) -> usize { 4 }
///     fn domain(&self) -> Domain { Domain::Bit }
///     fn energy(&self, x: &[i8]) -> f64 {
///         -self.w * f64::from(x[0] * x[1] + x[2] * x[3])
///     }
/// }
/// impl BinaryModel for Pairs {
///     fn flip_delta(&self, x: &[i8], i: usize) -> f64 {
///         let partner = i ^ 1;
///         // a bit going 0 → 1 changes the energy by −w x_partner, 1 → 0 by +w x_partner
///         let dx = f64::from(1 - 2 * x[i]);
///         -self.w * dx * f64::from(x[partner])
///     }
///     fn blocks(&self) -> Blocks {
///         Blocks::new(4, vec![vec![0, 2], vec![1, 3]]).expect("a partition")
///     }
/// }
/// let m = Pairs { w: 2.0 };
/// assert_eq!(m.flip_delta(&[0, 1, 1, 1], 0), -2.0);
/// ```
pub trait BinaryModel: EnergyModel {
    /// E(x with unit `i` flipped) − E(x).
    ///
    /// The default copies `x` and calls [`EnergyModel::energy`] twice: correct,
    /// O(n) and allocating. Override it.
    fn flip_delta(&self, x: &[i8], i: usize) -> f64 {
        let mut y = x.to_vec();
        y[i] = self.domain().flip(y[i]);
        self.energy(&y) - self.energy(x)
    }

    /// The flip deltas of every unit of `block`, written to `out[..block.len()]`.
    ///
    /// Valid because a block is an independent set. The default calls
    /// [`BinaryModel::flip_delta`] per unit; models with matrix structure (RBM)
    /// override it with a matrix–vector product.
    fn block_deltas(&self, x: &[i8], block: &[usize], out: &mut [f64]) {
        for (o, &i) in out.iter_mut().zip(block) {
            *o = self.flip_delta(x, i);
        }
    }

    /// The flip deltas of the units of `block` for each of several
    /// configurations: `xs` holds rows of `n_units()` values, and row r's deltas
    /// go to `out[r * block.len()..(r + 1) * block.len()]`.
    ///
    /// The default calls [`BinaryModel::block_deltas`] row by row; models with
    /// matrix structure (the RBM) override it with one GEMM for the batch.
    fn block_deltas_batch(&self, xs: &[i8], block: &[usize], out: &mut [f64]) {
        let (n, w) = (self.n_units().max(1), block.len().max(1));
        for (x, o) in xs.chunks_exact(n).zip(out.chunks_exact_mut(w)) {
            self.block_deltas(x, block, o);
        }
    }

    /// A partition of the units into independent sets, for block Gibbs.
    ///
    /// The default, singletons, is valid for every model.
    fn blocks(&self) -> Blocks {
        Blocks::singletons(self.n_units())
    }

    /// A whole-sweep kernel for block sweeps under `rule`, starting at
    /// configuration `x` (valid: right length and domain), if the model has
    /// one; `None` (the default) runs the generic block sweep on
    /// [`BinaryModel::block_deltas`]. See [`crate::kernel`].
    fn block_kernel(&self, rule: LocalRule, x: &[i8]) -> Option<Box<dyn KernelState>> {
        let _ = (rule, x);
        None
    }

    /// One block sweep of `state` (made by [`BinaryModel::block_kernel`] of
    /// this model or one of the same shape) under `rule` at inverse
    /// temperature `beta`: every unit updated once, with this model's current
    /// parameters, drawing its random numbers from the 256 fresh bits `key`.
    /// Returns the number of flips, or `None`, changing nothing, when this
    /// model cannot run the kernel on `state` (its parameters no longer fit
    /// it); the sampler then continues generically from `state.state()`.
    fn block_kernel_sweep(
        &self,
        rule: LocalRule,
        state: &mut dyn KernelState,
        beta: Beta,
        key: [u32; 8],
    ) -> Option<u64> {
        let _ = (rule, state, beta, key);
        None
    }
}

/// A model whose energy is linear in its parameters: `E_θ(x) = −⟨θ, φ(x)⟩`.
///
/// The log-likelihood gradient is then `∂ ln p(v)/∂θ = β(⟨φ⟩_data − ⟨φ⟩_model)`;
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
///     fn n_units(&self) -> usize { self.theta.len() }
///     fn domain(&self) -> Domain { Domain::Bit }
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
pub trait LogLinear: BinaryModel {
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

    /// `out += weight · φ(x)` for a full configuration `x`.
    fn add_statistics(&self, x: &[i8], weight: f64, out: &mut [f64]);

    /// Number of visible units (the first ones of a state); `n_units()` for a
    /// fully visible model.
    fn n_visible(&self) -> usize {
        self.n_units()
    }

    /// `out += weight · E_β[φ(v, h) | v]` for visible data `v` (length
    /// `n_visible()`), with h distributed as `p_β(h | v) ∝ exp(−β E(v, h))`,
    /// returning `true`; or `false`, adding nothing, when the model has latent
    /// units without a closed-form conditional expectation.
    ///
    /// The default handles fully visible models.
    fn add_data_statistics(&self, v: &[i8], beta: Beta, weight: f64, out: &mut [f64]) -> bool {
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
    fn add_statistics_batch(&self, xs: &[i8], weight: f64, out: &mut [f64]) {
        let n = self.n_units().max(1);
        for x in xs.chunks_exact(n) {
            self.add_statistics(x, weight, out);
        }
    }

    /// `out += weight · Σ_r E[φ | v_r]` over the rows of `vs` (row length
    /// `n_visible()`); `false` as in [`LogLinear::add_data_statistics`].
    fn add_data_statistics_batch(
        &self,
        vs: &[i8],
        beta: Beta,
        weight: f64,
        out: &mut [f64],
    ) -> bool {
        let n = self.n_visible().max(1);
        vs.chunks_exact(n).all(|v| self.add_data_statistics(v, beta, weight, out))
    }
}
