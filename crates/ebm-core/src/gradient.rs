//! The gradient family: models over real-valued units with an energy
//! gradient, what Langevin-type samplers (MALA, HMC, ULA) need.

use crate::model::EnergyModel;
use crate::space::ContinuousSpace;

/// A model over real-valued units (a [`ContinuousSpace`]: ℝⁿ as
/// [`crate::Reals`], the torus as [`crate::Angles`]) with the gradient of its
/// energy: `energy_and_gradient(x, g)` returns `E(x)` and sets
/// `g_i = ∂E/∂x_i`.
///
/// Contract: `energy_and_gradient(x, grad)` returns `E(x)` and writes
/// `∂E/∂x_i` to `grad[i]`, consistent with [`EnergyModel::energy`];
/// `exp(−βE)` must be integrable for the β sampled at. On a space whose
/// [`ContinuousSpace::wrap`] is not the identity, E (and so ∇E) must be
/// invariant under it (periodic in every angle), so that samplers moving in
/// the covering space ℝⁿ are exact on the space.
///
/// ```
/// use ebm_core::{EnergyModel, GradientModel, Reals};
///
/// /// A double well in one dimension: E = (x² − 1)².
/// struct DoubleWell;
/// impl EnergyModel for DoubleWell {
///     type Space = Reals;
///     fn n_units(&self) -> usize { 1 }
///     fn space(&self) -> &Reals { &Reals }
///     fn energy(&self, x: &[f64]) -> f64 { (x[0] * x[0] - 1.0).powi(2) }
/// }
/// impl GradientModel for DoubleWell {
///     fn energy_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
///         grad[0] = 4.0 * x[0] * (x[0] * x[0] - 1.0);
///         self.energy(x)
///     }
/// }
/// let mut g = [0.0];
/// assert_eq!(DoubleWell.energy_and_gradient(&[2.0], &mut g), 9.0);
/// assert_eq!(g, [24.0]);
/// ```
pub trait GradientModel: EnergyModel<Space: ContinuousSpace> {
    /// `E(x)`, with `∇E(x)` written to `grad` (length `n_units()`).
    fn energy_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64;
}
