//! The unadjusted Langevin algorithm: Langevin steps without an accept test.

use crate::mala::GradientChain;
use ebm_core::{
    Beta, ChainRecord, ContinuousSpace, Error, GradientModel, Result, Sampler, standard_normal,
};

/// ULA: `x' = x − (ε²/2) β ∇E(x) + ε ξ` (ξ standard normal), always taken
/// (wrapped into the space, [`ContinuousSpace::wrap`]).
///
/// This is the Euler–Maruyama discretisation of the overdamped Langevin
/// diffusion `dx = −β∇E dt + √2 dW` at time step `ε²/2`. Without the
/// Metropolis test of [`crate::Mala`] its stationary distribution is **not**
/// `p_β` but a perturbation of it of order ε²: for a quadratic energy
/// `E = ½ a x²` the chain is the AR(1) process `x' = (1 − c) x + ε ξ`,
/// `c = ε²βa/2`, whose stationary variance `v = (1 − c)² v + ε²` is
///
/// ```text
/// v = ε² / (c (2 − c)) = 1 / (βa (1 − ε²βa/4))     (exact: 1/(βa))
/// ```
///
/// (stable for `ε²βa < 4`); for a Gaussian with precision A the stationary
/// covariance is `(βA (I − ε²βA/4))⁻¹` and the mean is exact. Use it where a
/// cheap, rejection-free move is worth a bias that vanishes as ε → 0 (every
/// step costs one gradient, like MALA's, but never sticks).
///
/// One sweep is `steps` Langevin steps, each moving every unit. The chain
/// is a [`GradientChain`]; it counts no proposals (nothing is rejected).
///
/// ```
/// use ebm_core::{Beta, Chain, EnergyModel, GradientModel, Purpose, Reals, Sampler, Seed};
/// use ebm_samplers::Ula;
/// struct Quadratic;
/// impl EnergyModel for Quadratic {
///     type Space = Reals;
///     fn n_units(&self) -> usize { 1 }
///     fn space(&self) -> &Reals { &Reals }
///     fn energy(&self, x: &[f64]) -> f64 { 0.5 * x[0] * x[0] }
/// }
/// impl GradientModel for Quadratic {
///     fn energy_and_gradient(&self, x: &[f64], g: &mut [f64]) -> f64 { g[0] = x[0]; self.energy(x) }
/// }
/// // ε = 1: the stationary variance is 1/(1 − 1/4) = 4/3, not 1
/// let ula = Ula::new(1.0)?;
/// let mut c = ula.start(&Quadratic, &[0.0])?;
/// let mut rng = Seed(1).stream(Purpose::SAMPLING, 0);
/// let mut sum_sq = 0.0;
/// for _ in 0..40_000 { ula.sweep(&Quadratic, &mut c, Beta::ONE, &mut rng); sum_sq += c.state()[0].powi(2); }
/// assert!((sum_sq / 40_000.0 - 4.0 / 3.0).abs() < 0.1);
/// # Ok::<(), ebm_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ula {
    step: f64,
    steps: usize,
}

impl Ula {
    /// ULA with step size ε = `step` (finite, > 0), one step per sweep.
    pub fn new(step: f64) -> Result<Self> {
        if !(step.is_finite() && step > 0.0) {
            return Err(Error::InvalidParameter {
                name: "ULA step",
                value: step,
                expected: "finite and > 0",
            });
        }
        Ok(Ula { step, steps: 1 })
    }

    /// The same with `steps` (≥ 1) Langevin steps per sweep.
    pub fn with_steps(mut self, steps: usize) -> Result<Self> {
        if steps == 0 {
            return Err(Error::InvalidParameter {
                name: "ULA steps per sweep",
                value: 0.0,
                expected: "≥ 1",
            });
        }
        self.steps = steps;
        Ok(self)
    }

    /// The step size ε.
    pub fn step(&self) -> f64 {
        self.step
    }

    /// The stationary variance of ULA at this step for `E = ½ a x²` at β:
    /// `1 / (βa (1 − ε²βa/4))`, or `None` where the chain is unstable
    /// (`ε²βa ≥ 4`).
    pub fn stationary_variance(&self, a: f64, beta: Beta) -> Option<f64> {
        let ba = beta.value() * a;
        let f = 1.0 - self.step * self.step * ba / 4.0;
        (ba > 0.0 && f > 0.0).then(|| 1.0 / (ba * f))
    }
}

impl<M: GradientModel + ?Sized> Sampler<M> for Ula {
    type Chain = GradientChain;

    fn start(&self, model: &M, x0: &[f64]) -> Result<GradientChain> {
        GradientChain::new(model, x0)
    }

    fn restore(&self, model: &M, record: &ChainRecord<f64>) -> Result<GradientChain> {
        GradientChain::restore(model, record)
    }

    fn sweep<R: rand::Rng + ?Sized>(
        &self,
        model: &M,
        c: &mut GradientChain,
        beta: Beta,
        rng: &mut R,
    ) {
        let (b, eps) = (beta.value(), self.step);
        let half = 0.5 * eps * eps;
        let space = model.space();
        for _ in 0..self.steps {
            model.energy_and_gradient(&c.x, &mut c.grad);
            for (x, &g) in c.x.iter_mut().zip(&c.grad) {
                *x += -half * b * g + eps * standard_normal(rng);
            }
            space.wrap(&mut c.x);
        }
        c.sweeps += 1;
    }
}
