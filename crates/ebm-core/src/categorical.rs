//! The categorical family: what samplers and exact enumeration need of a
//! model whose unit i takes q_i values (Potts models, categorical RBMs).

use crate::beta::Beta;
use crate::blocks::Blocks;
use crate::kernel::{KernelState, LocalRule};
use crate::model::EnergyModel;
use crate::space::{Categories, FiniteSpace};

/// What samplers need of a model with categorical units (values `0..q_i` of
/// a [`Categories`] space).
///
/// Contract: `local_energies(x, i, out)` writes, for every value k of unit i,
/// `out[k] = E(x with unit i set to k) + c` with c independent of k (so only
/// differences matter); every block of `blocks()` is an independent set. Every
/// method has a correct default built on [`EnergyModel::energy`], so
/// `impl CategoricalModel for M {}` is valid; models override
/// `local_energies` for speed (O(degree) per value instead of O(n)).
///
/// Heat-bath Gibbs draws unit i from `softmax(−β·out)`; Metropolis proposes
/// one of the other values uniformly and accepts with
/// `min(1, e^{−β(out[new] − out[old])})`.
///
/// ```
/// use ebm_core::{Categories, CategoricalModel, EnergyModel};
///
/// /// A q = 3 Potts ring: E = −J Σ_i δ(s_i, s_{i+1}).
/// struct PottsRing { space: Categories, j: f64 }
/// impl EnergyModel for PottsRing {
///     type Space = Categories;
///     fn n_units(&self) -> usize { self.space.len() }
///     fn space(&self) -> &Categories { &self.space }
///     fn energy(&self, s: &[u8]) -> f64 {
///         let n = s.len();
///         (0..n).map(|i| -self.j * f64::from(u8::from(s[i] == s[(i + 1) % n]))).sum()
///     }
/// }
/// impl CategoricalModel for PottsRing {}
///
/// let ring = PottsRing { space: Categories::uniform(3, 4)?, j: 1.0 };
/// let mut e = [0.0; 3];
/// ring.local_energies(&[0, 0, 1, 0], 2, &mut e);
/// // setting unit 2 to 0 aligns it with both neighbours: −2 relative to now
/// assert_eq!(e, [-2.0, 0.0, 0.0]);
/// # Ok::<(), ebm_core::Error>(())
/// ```
pub trait CategoricalModel: EnergyModel<Space = Categories> {
    /// `out[k] = E(x with unit i set to k) + c` for `k < q_i` (c independent
    /// of k); `out` has at least q_i entries.
    ///
    /// The default copies `x` and calls [`EnergyModel::energy`] q_i + 1
    /// times, with `c = −E(x)`: correct, O(q·n) and allocating. Override it.
    fn local_energies(&self, x: &[u8], i: usize, out: &mut [f64]) {
        let q = self.space().n_values(i);
        let e0 = self.energy(x);
        let mut y = x.to_vec();
        for (k, o) in out[..q].iter_mut().enumerate() {
            y[i] = k as u8;
            *o = self.energy(&y) - e0;
        }
    }

    /// The local energies of the units of `block` for each of several
    /// configurations: `xs` holds rows of `n_units()` values, and the
    /// energies of the b-th unit of `block` in row r go to
    /// `out[(r · block.len() + b) · w..][..q]` with `w = space().max_values()`.
    ///
    /// Valid because a block is an independent set (the energies of a
    /// block's units do not depend on each other). The default calls
    /// [`CategoricalModel::local_energies`] unit by unit; models with matrix
    /// structure (a categorical RBM) override it with one GEMM for the batch.
    fn block_energies_batch(&self, xs: &[u8], block: &[usize], out: &mut [f64]) {
        let (n, w) = (self.n_units().max(1), self.space().max_values().max(1));
        for (x, o) in xs.chunks_exact(n).zip(out.chunks_exact_mut(w * block.len().max(1))) {
            for (&i, e) in block.iter().zip(o.chunks_exact_mut(w)) {
                self.local_energies(x, i, e);
            }
        }
    }

    /// A partition of the units into independent sets, for block Gibbs.
    /// The default, singletons, is valid for every model.
    fn blocks(&self) -> Blocks {
        Blocks::singletons(self.n_units())
    }

    /// A whole-sweep kernel for block sweeps under `rule`, starting at `x`,
    /// if the model has one (as [`crate::BinaryModel::block_kernel`]);
    /// `None` (the default) runs the generic block sweep.
    fn block_kernel(&self, rule: LocalRule, x: &[u8]) -> Option<Box<dyn KernelState<u8>>> {
        let _ = (rule, x);
        None
    }

    /// One block sweep of `state` under `rule` at `beta` from the 256 fresh
    /// bits `key`, returning the number of units that changed, or `None`,
    /// changing nothing, when this model cannot run the kernel on `state` (as
    /// [`crate::BinaryModel::block_kernel_sweep`]).
    fn block_kernel_sweep(
        &self,
        rule: LocalRule,
        state: &mut dyn KernelState<u8>,
        beta: Beta,
        key: [u32; 8],
    ) -> Option<u64> {
        let _ = (rule, state, beta, key);
        None
    }

    /// The model's pair form, if its energy is
    /// `E(x) = −Σ_e J_e δ(x_a, x_b) − Σ_i h_i(x_i) + const` (a Potts model):
    /// what cluster samplers need. `fields` holds h_i(k) site-major (Σ q_i
    /// values). The default, `None`, means no such form.
    fn pair_graph(&self) -> Option<crate::PairGraph<'_>> {
        None
    }
}
