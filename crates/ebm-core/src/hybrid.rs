//! The hybrid family: real units and binary units in one state, each unit's
//! conditional distribution given the rest in closed form (Gaussian or
//! Bernoulli), so block Gibbs draws every block exactly — the
//! Gaussian–Bernoulli RBM is the model this is for.

use crate::blocks::Blocks;
use crate::error::{Error, Result};
use crate::model::EnergyModel;
use crate::rng::ChainRng;
use crate::space::StateSpace;

/// `reals` real units followed by `bits` binary units, every unit an `f64`
/// (a bit is exactly `0.0` or `1.0`). The reference draw is a standard
/// normal for each real unit and a fair coin for each bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hybrid {
    reals: usize,
    bits: usize,
}

impl Hybrid {
    /// `reals` real units (indices `0..reals`), then `bits` 0/1 units.
    pub fn new(reals: usize, bits: usize) -> Self {
        Hybrid { reals, bits }
    }
    /// The number of real units (the first ones).
    pub fn reals(&self) -> usize {
        self.reals
    }
    /// The number of binary units (the last ones).
    pub fn bits(&self) -> usize {
        self.bits
    }
    /// Whether unit `i` is real (else binary).
    #[inline]
    pub fn is_real(&self, i: usize) -> bool {
        i < self.reals
    }
}

impl StateSpace for Hybrid {
    type Unit = f64;

    /// A prefix of a state (e.g. a row of visible data) is valid when its
    /// real units are finite and its bits are 0 or 1.
    fn validate(&self, x: &[f64]) -> Result<()> {
        let n = self.reals + self.bits;
        if x.len() > n {
            return Err(Error::ShapeMismatch { what: "state", expected: n, found: x.len() });
        }
        let bad = x.iter().enumerate().position(|(i, &v)| {
            if self.is_real(i) { !v.is_finite() } else { v != 0.0 && v != 1.0 }
        });
        match bad {
            Some(index) => Err(Error::InvalidUnitValue { index, value: x[index] }),
            None => Ok(()),
        }
    }

    fn fixed_value(&self, _i: usize) -> f64 {
        0.0
    }

    /// Standard normals for the real units, fair coins for the bits.
    fn draw(&self, rng: &mut ChainRng, out: &mut [f64]) {
        for (i, o) in out.iter_mut().enumerate() {
            *o = if self.is_real(i) {
                crate::rng::standard_normal(rng)
            } else {
                f64::from(u8::from(crate::rng::uniform(rng) < 0.5))
            };
        }
    }
}

/// What block Gibbs needs of a model over a [`Hybrid`] space: every unit's
/// conditional given the rest.
///
/// Contract: as a function of a **real** unit x_i, with the rest fixed, the
/// energy is a quadratic with positive curvature,
///
/// ```text
/// E(x) = ½ a_i x_i² − η_i x_i + const,   a_i > 0
/// ⇒  x_i | rest ~ N(η_i / a_i, 1 / (β a_i))   under p_β ∝ e^{−βE}
/// ```
///
/// and for a **bit** x_i the conditional is Bernoulli with
/// `P(x_i = 1 | rest) = σ(−β Δ_i)`, `Δ_i = E(x_i = 1) − E(x_i = 0)`.
/// [`HybridModel::conditionals`] writes `(a_i, η_i)` for a real unit and
/// `(Δ_i, 0)` for a bit. Every block of [`HybridModel::blocks`] is an
/// independent set (its units' conditionals do not depend on each other).
///
/// Every method has a correct default built on [`EnergyModel::energy`] (the
/// quadratic is read off three energies), so `impl HybridModel for M {}` is
/// valid; models with matrix structure override
/// [`HybridModel::conditionals_batch`] with one GEMM per block.
///
/// ```
/// use ebm_core::{EnergyModel, Hybrid, HybridModel};
///
/// /// One real unit coupled to one bit: E = x²/2 − w x h − c h.
/// struct Pair { w: f64, c: f64, space: Hybrid }
/// impl EnergyModel for Pair {
///     type Space = Hybrid;
///     fn n_units(&self) -> usize { 2 }
///     fn space(&self) -> &Hybrid { &self.space }
///     fn energy(&self, x: &[f64]) -> f64 {
///         0.5 * x[0] * x[0] - self.w * x[0] * x[1] - self.c * x[1]
///     }
/// }
/// impl HybridModel for Pair {
///     fn conditionals(&self, x: &[f64], block: &[usize], out: &mut [f64]) {
///         for (k, &i) in block.iter().enumerate() {
///             let (a, b) = if i == 0 {
///                 (1.0, self.w * x[1]) // x | h ~ N(w h, 1/β)
///             } else {
///                 (-self.w * x[0] - self.c, 0.0) // Δ = E(h = 1) − E(h = 0)
///             };
///             out[2 * k] = a;
///             out[2 * k + 1] = b;
///         }
///     }
/// }
/// let m = Pair { w: 0.5, c: 1.0, space: Hybrid::new(1, 1) };
/// let mut out = [0.0; 4];
/// m.conditionals(&[2.0, 1.0], &[0, 1], &mut out);
/// assert_eq!(out, [1.0, 0.5, -2.0, 0.0]);
/// ```
pub trait HybridModel: EnergyModel<Space = Hybrid> {
    /// The conditional parameters of the units of `block` given the rest of
    /// `x`: `out[2k], out[2k + 1]` = `(a_i, η_i)` for a real unit i =
    /// `block[k]`, `(Δ_i, 0)` for a bit.
    ///
    /// The default evaluates the energy at x_i ∈ {−1, 0, 1} (real) or
    /// {0, 1} (bit): correct for every model that meets the contract,
    /// O(n) per unit and allocating. Override it.
    fn conditionals(&self, x: &[f64], block: &[usize], out: &mut [f64]) {
        let mut y = x.to_vec();
        let space = *self.space();
        for (k, &i) in block.iter().enumerate() {
            let keep = y[i];
            let mut at = |v: f64| {
                y[i] = v;
                self.energy(&y)
            };
            let (a, b) = if space.is_real(i) {
                let (em, e0, ep) = (at(-1.0), at(0.0), at(1.0));
                (em + ep - 2.0 * e0, 0.5 * (em - ep))
            } else {
                (at(1.0) - at(0.0), 0.0)
            };
            y[i] = keep;
            out[2 * k] = a;
            out[2 * k + 1] = b;
        }
    }

    /// [`HybridModel::conditionals`] for each of several configurations:
    /// `xs` holds rows of `n_units()` values; row r's pairs go to
    /// `out[2 r · block.len()..2 (r + 1) · block.len()]`.
    ///
    /// The default calls [`HybridModel::conditionals`] row by row.
    fn conditionals_batch(&self, xs: &[f64], block: &[usize], out: &mut [f64]) {
        let (n, w) = (self.n_units().max(1), 2 * block.len());
        for (x, o) in xs.chunks_exact(n).zip(out.chunks_exact_mut(w.max(1))) {
            self.conditionals(x, block, o);
        }
    }

    /// A partition of the units into independent sets, for block Gibbs.
    /// The default, singletons, is valid for every model.
    fn blocks(&self) -> Blocks {
        Blocks::singletons(self.n_units())
    }
}
