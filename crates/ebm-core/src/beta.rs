//! Validated inverse temperature.

use crate::error::{Error, Result};

/// An inverse temperature β = 1/T (k_B = 1), guaranteed finite and > 0.
///
/// β never lives inside a model: one model instance serves every temperature,
/// every replica of parallel tempering and every step of an annealing path.
///
/// ```
/// use ebm_core::Beta;
/// let b = Beta::new(0.5)?;
/// assert_eq!(b.temperature(), 2.0);
/// assert!(Beta::new(0.0).is_err());
/// assert!(Beta::from_temperature(f64::INFINITY).is_err());
/// # Ok::<(), ebm_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Beta(f64);

impl Beta {
    /// β = 1, the convention of machine-learning energy models.
    pub const ONE: Beta = Beta(1.0);

    /// Validates `beta`: it must be finite and strictly positive.
    pub fn new(beta: f64) -> Result<Self> {
        if beta.is_finite() && beta > 0.0 {
            Ok(Beta(beta))
        } else {
            Err(Error::InvalidParameter { name: "beta", value: beta, expected: "finite and > 0" })
        }
    }

    /// β = 1/T from a temperature T that must be finite and strictly positive.
    pub fn from_temperature(temperature: f64) -> Result<Self> {
        if temperature.is_finite() && temperature > 0.0 {
            Beta::new(1.0 / temperature)
        } else {
            Err(Error::InvalidParameter {
                name: "temperature",
                value: temperature,
                expected: "finite and > 0",
            })
        }
    }

    /// The value of β.
    #[inline]
    pub fn value(self) -> f64 {
        self.0
    }

    /// β·f for a factor `0 < f ≤ 1` (a rung of a tempering ladder or an
    /// annealing path), saturating at the smallest positive f64 instead of
    /// reaching 0. Factors outside (0, 1] are clamped into it.
    #[inline]
    pub fn scaled_down(self, f: f64) -> Beta {
        let f = if f.is_nan() { 1.0 } else { f.clamp(0.0, 1.0) };
        Beta((self.0 * f).max(f64::MIN_POSITIVE))
    }

    /// The temperature T = 1/β.
    #[inline]
    pub fn temperature(self) -> f64 {
        1.0 / self.0
    }
}

impl TryFrom<f64> for Beta {
    type Error = Error;
    fn try_from(beta: f64) -> Result<Self> {
        Beta::new(beta)
    }
}

impl From<Beta> for f64 {
    fn from(b: Beta) -> f64 {
        b.0
    }
}
