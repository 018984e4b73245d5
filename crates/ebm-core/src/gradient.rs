//! The gradient family: models over real-valued units with an energy
//! gradient, what Langevin-type samplers (MALA, HMC) need.

use crate::model::EnergyModel;
use crate::space::Reals;

/// A model over `x ∈ ℝⁿ` ([`Reals`]) with the gradient of its energy.
///
/// Contract: `energy_and_gradient(x, grad)` returns `E(x)` and writes
/// `∂E/∂x_i` to `grad[i]`, consistent with [`EnergyModel::energy`];
/// `exp(−βE)` must be integrable for the β sampled at.
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
pub trait GradientModel: EnergyModel<Space = Reals> {
    /// `E(x)`, with `∇E(x)` written to `grad` (length `n_units()`).
    fn energy_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64;
}
