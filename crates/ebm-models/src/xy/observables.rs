//! Observables of the XY model: energy (the model's), magnetisation, and the
//! helicity modulus (spin stiffness).
//!
//! ```text
//! m = (1/N) Σ_i (cos θ_i, sin θ_i),     |m|
//! Υ = (1/N) [ ⟨Σ_x J cos(θ_i − θ_j)⟩ − β ⟨(Σ_x J sin(θ_i − θ_j))²⟩ ]
//! ```
//!
//! Σ_x runs over the bonds along axis 0 (i the site, j its +1 neighbour).
//! Υ is the second derivative of the free energy density with respect to a
//! uniform twist of the boundary condition along x (the term `β⟨Σ_x J
//! sin⟩²` vanishes by symmetry at h = 0 and is left out, as is usual);
//! it jumps to zero at the Berezinskii–Kosterlitz–Thouless transition in 2D.
//! The per-configuration parts are [`HelicityTerms`]; the estimator combines
//! their averages ([`helicity_modulus`]).

use super::Xy;
use ebm_core::EnergyModel;

impl Xy {
    /// The magnetisation vector `m = (1/N) Σ_i (cos θ_i, sin θ_i)`.
    pub fn magnetisation(&self, theta: &[f64]) -> [f64; 2] {
        let n = self.n_units().max(1) as f64;
        let (c, s) = theta.iter().fold((0.0, 0.0), |(c, s), t| (c + t.cos(), s + t.sin()));
        [c / n, s / n]
    }

    /// `|m|`, the length of [`Xy::magnetisation`].
    pub fn abs_magnetisation(&self, theta: &[f64]) -> f64 {
        let [x, y] = self.magnetisation(theta);
        x.hypot(y)
    }

    /// The two sums along the x bonds that the helicity modulus averages.
    pub fn helicity_terms(&self, theta: &[f64]) -> HelicityTerms {
        let (mut cos_sum, mut sin_sum) = (0.0, 0.0);
        for (b, &[i, j]) in self.bonds().iter().enumerate() {
            if self.is_along_x(b) {
                let (s, c) = (theta[i as usize] - theta[j as usize]).sin_cos();
                cos_sum += self.coupling() * c;
                sin_sum += self.coupling() * s;
            }
        }
        HelicityTerms { cos_sum, sin_sum }
    }
}

/// `Σ_x J cos(θ_i − θ_j)` and `Σ_x J sin(θ_i − θ_j)` of one configuration,
/// over the bonds along axis 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HelicityTerms {
    /// `Σ_x J cos(θ_i − θ_j)`.
    pub cos_sum: f64,
    /// `Σ_x J sin(θ_i − θ_j)`.
    pub sin_sum: f64,
}

/// `Υ = (⟨Σ_x J cos⟩ − β ⟨(Σ_x J sin)²⟩) / N` from the two averages over
/// samples at `beta` (`mean_cos` of [`HelicityTerms::cos_sum`], `mean_sin_sq`
/// of its `sin_sum` squared) and the number of sites `n`.
///
/// ```
/// use ebm_core::Beta;
/// use ebm_models::{lattice::Boundary, xy::{Xy, helicity_modulus}};
/// // an aligned configuration is perfectly stiff: Υ = J
/// let m = Xy::chain(8, Boundary::Periodic, 1.5, 0.0)?;
/// let t = m.helicity_terms(&[0.4; 8]);
/// let ups = helicity_modulus(Beta::ONE, 8, t.cos_sum, t.sin_sum * t.sin_sum);
/// assert!((ups - 1.5).abs() < 1e-12);
/// # Ok::<(), ebm_core::Error>(())
/// ```
pub fn helicity_modulus(beta: ebm_core::Beta, n: usize, mean_cos: f64, mean_sin_sq: f64) -> f64 {
    (mean_cos - beta.value() * mean_sin_sq) / n.max(1) as f64
}
