//! The binary family: what samplers and exact enumeration need of a model
//! whose units take two values (±1 spins or 0/1 bits).

use crate::beta::Beta;
use crate::blocks::Blocks;
use crate::kernel::{KernelState, LocalRule};
use crate::model::EnergyModel;
use crate::state::Domain;

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
///     type Space = Domain;
///     fn n_units(&self) -> usize { 4 }
///     fn space(&self) -> &Domain { &Domain::Bit }
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
pub trait BinaryModel: EnergyModel<Space = Domain> {
    /// The domain of the units, `*self.space()`.
    #[inline]
    fn domain(&self) -> Domain {
        *self.space()
    }

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

    /// The model's pair form, if its energy is
    /// `E(s) = −Σ_e J_e s_a s_b − Σ_i h_i s_i + const` on ±1 spins: what
    /// cluster samplers (Wolff, Swendsen–Wang) need. `fields` holds one h_i
    /// per unit. The default, `None`, means the model has no such form (or
    /// does not expose it), and cluster samplers refuse it with a typed error.
    fn pair_graph(&self) -> Option<crate::PairGraph<'_>> {
        None
    }
}
