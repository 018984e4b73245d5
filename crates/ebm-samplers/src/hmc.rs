//! Hamiltonian Monte Carlo for real-valued units.

use crate::mala::GradientChain;
use ebm_core::{Beta, Error, GradientModel, Result, Sampler, standard_normal, uniform};

/// HMC with a diagonal mass matrix: momenta `p ~ N(0, M)`, `L` leapfrog steps
/// of size ε on `H(x, p) = β E(x) + ½ pᵀ M⁻¹ p`, then a Metropolis test on
/// the change of H, so `p_β ∝ e^{−βE}` is exactly invariant for every ε, L
/// and M (the leapfrog map is reversible and volume preserving).
///
/// One sweep is one trajectory. The energy and gradient at the current state
/// are recomputed from the model given at the start of each sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Hmc {
    step: f64,
    leapfrog: usize,
    /// Diagonal of M (one per unit), or empty for the identity.
    mass: Vec<f64>,
}

impl Hmc {
    /// HMC with step size ε = `step` (finite, > 0), `leapfrog` ≥ 1 steps per
    /// trajectory and the identity mass matrix.
    pub fn new(step: f64, leapfrog: usize) -> Result<Self> {
        if !(step.is_finite() && step > 0.0) {
            return Err(Error::InvalidParameter {
                name: "HMC step",
                value: step,
                expected: "finite and > 0",
            });
        }
        if leapfrog == 0 {
            return Err(Error::InvalidParameter {
                name: "leapfrog steps",
                value: 0.0,
                expected: "≥ 1",
            });
        }
        Ok(Hmc { step, leapfrog, mass: Vec::new() })
    }

    /// The same with a diagonal mass matrix (one finite value > 0 per unit;
    /// checked against the model when a chain starts).
    pub fn with_mass(mut self, mass: Vec<f64>) -> Result<Self> {
        if let Some(&m) = mass.iter().find(|m| !(m.is_finite() && **m > 0.0)) {
            return Err(Error::InvalidParameter {
                name: "HMC mass",
                value: m,
                expected: "finite and > 0",
            });
        }
        self.mass = mass;
        Ok(self)
    }

    #[inline]
    fn mass(&self, i: usize) -> f64 {
        self.mass.get(i).copied().unwrap_or(1.0)
    }
}

impl<M: GradientModel + ?Sized> Sampler<M> for Hmc {
    type Chain = GradientChain;

    fn start(&self, model: &M, x0: &[f64]) -> Result<GradientChain> {
        if !self.mass.is_empty() {
            ebm_core::check_len("HMC mass (one per unit)", model.n_units(), self.mass.len())?;
        }
        GradientChain::new(model, x0)
    }

    fn restore(&self, model: &M, record: &ebm_core::ChainRecord<f64>) -> Result<GradientChain> {
        if !self.mass.is_empty() {
            ebm_core::check_len("HMC mass (one per unit)", model.n_units(), self.mass.len())?;
        }
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
        let e0 = model.energy_and_gradient(&c.x, &mut c.grad);
        // momenta p ~ N(0, M), kept in c.p; kinetic energy ½ Σ p²/m
        let mut k0 = 0.0;
        for (i, p) in c.p.iter_mut().enumerate() {
            let m = self.mass(i);
            *p = m.sqrt() * standard_normal(rng);
            k0 += 0.5 * *p * *p / m;
        }
        c.y.copy_from_slice(&c.x);
        c.grad_y.copy_from_slice(&c.grad);
        let mut e = e0;
        for _ in 0..self.leapfrog {
            for (p, &g) in c.p.iter_mut().zip(&c.grad_y) {
                *p -= 0.5 * eps * b * g;
            }
            for (i, (y, &p)) in c.y.iter_mut().zip(&c.p).enumerate() {
                *y += eps * p / self.mass(i);
            }
            e = model.energy_and_gradient(&c.y, &mut c.grad_y);
            for (p, &g) in c.p.iter_mut().zip(&c.grad_y) {
                *p -= 0.5 * eps * b * g;
            }
        }
        let k1: f64 = c.p.iter().enumerate().map(|(i, &p)| 0.5 * p * p / self.mass(i)).sum();
        let log_a = -(b * (e - e0) + (k1 - k0));
        c.proposed += 1;
        if e.is_finite() && (log_a >= 0.0 || uniform(rng) < log_a.exp()) {
            std::mem::swap(&mut c.x, &mut c.y);
            std::mem::swap(&mut c.grad, &mut c.grad_y);
            c.accepted += 1;
        }
        c.sweeps += 1;
    }
}
