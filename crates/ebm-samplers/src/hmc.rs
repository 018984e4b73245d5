//! Hamiltonian Monte Carlo for real-valued units.

use crate::mala::{GradientChain, adapt_step};
use ebm_core::{
    Beta, ContinuousSpace, Error, GradientModel, Result, Sampler, standard_normal, uniform,
};

/// HMC: momenta `p ~ N(0, M)`, `L` leapfrog steps of size ε on
/// `H(x, p) = β E(x) + ½ pᵀ M⁻¹ p`, then a Metropolis test on the change of
/// H, so `p_β ∝ e^{−βE}` is exactly invariant for every ε, L and M (the
/// leapfrog map is reversible and volume preserving).
///
/// The mass matrix M is the identity, diagonal ([`Hmc::with_mass`]) or dense
/// ([`Hmc::with_dense_mass`]: `M = L Lᵀ` by Cholesky, `p = L z`,
/// `M⁻¹ p` by two triangular solves, `½ pᵀ M⁻¹ p = ½ |L⁻¹ p|²`; O(n²) per
/// leapfrog step, no allocation). M ≈ the covariance's inverse, `βA` for a
/// Gaussian of precision A, makes the dynamics isotropic.
///
/// The step may be adapted during warm-up only ([`Hmc::adapt_during`]): a
/// Robbins–Monro update of ln ε after every trajectory toward a target
/// acceptance, frozen after, the adapted factor in the chain and in its
/// record, so a restored chain continues bit for bit.
///
/// On the torus ([`ebm_core::Angles`]) positions are wrapped after every
/// drift. That is exact: the energy is 2π-periodic, so the leapfrog map on
/// ℝⁿ commutes with the translations by 2π and the wrapped trajectory is the
/// projection of the unwrapped one; H, reversibility and volume preservation
/// all pass to the quotient.
///
/// One sweep is one trajectory. The energy and gradient at the current state
/// are recomputed from the model given at the start of each sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Hmc {
    step: f64,
    leapfrog: usize,
    mass: Mass,
    /// Sweeps of step-size adaptation (0: none) and the acceptance aimed at.
    adapt: u64,
    target: f64,
}

/// The mass matrix.
#[derive(Debug, Clone, PartialEq)]
enum Mass {
    Identity,
    /// The diagonal of M, one per unit.
    Diagonal(Vec<f64>),
    /// The Cholesky factor L of M (lower triangle, row-major n × n).
    Dense {
        n: usize,
        l: Vec<f64>,
    },
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
        Ok(Hmc { step, leapfrog, mass: Mass::Identity, adapt: 0, target: 0.65 })
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
        self.mass = Mass::Diagonal(mass);
        Ok(self)
    }

    /// The same with a dense mass matrix M (n × n, row-major, finite,
    /// symmetric positive definite; n checked against the model when a chain
    /// starts), through its Cholesky factor.
    ///
    /// Errors: a length that is not a square, a non-finite entry, an
    /// asymmetric or not positive definite matrix ([`Error::InvalidParameter`]).
    pub fn with_dense_mass(mut self, matrix: Vec<f64>) -> Result<Self> {
        let n = (matrix.len() as f64).sqrt().round() as usize;
        ebm_core::check_len("dense HMC mass (n × n)", n * n, matrix.len())?;
        ebm_core::check_finite("dense HMC mass", &matrix)?;
        if (0..n).any(|i| (0..i).any(|j| matrix[i * n + j] != matrix[j * n + i])) {
            return Err(Error::InvalidParameter {
                name: "dense HMC mass asymmetry",
                value: 1.0,
                expected: "a symmetric matrix",
            });
        }
        let chol = nalgebra::Cholesky::new(nalgebra::DMatrix::from_row_slice(n, n, &matrix))
            .ok_or(Error::InvalidParameter {
                name: "dense HMC mass",
                value: 0.0,
                expected: "symmetric positive definite",
            })?;
        let lm = chol.l();
        let l = (0..n).flat_map(|i| (0..n).map(move |j| (i, j))).map(|(i, j)| lm[(i, j)]).collect();
        self.mass = Mass::Dense { n, l };
        Ok(self)
    }

    /// The same with its step size adapted during each chain's first
    /// `sweeps` sweeps (trajectories; they must be warm-up:
    /// [`Sampler::min_warmup`]) toward the mean acceptance probability
    /// `target` (in (0, 1); 0.65 is the usual choice), by a Robbins–Monro
    /// update of ln ε after every trajectory; frozen after, so production
    /// sweeps run one fixed, exact kernel.
    pub fn adapt_during(mut self, sweeps: u64, target: f64) -> Result<Self> {
        if !(target > 0.0 && target < 1.0) {
            return Err(Error::InvalidParameter {
                name: "HMC target acceptance",
                value: target,
                expected: "in (0, 1)",
            });
        }
        self.adapt = sweeps;
        self.target = target;
        Ok(self)
    }

    /// The initial step size ε.
    pub fn step(&self) -> f64 {
        self.step
    }

    fn check_units(&self, n: usize) -> Result<()> {
        match &self.mass {
            Mass::Identity => Ok(()),
            Mass::Diagonal(m) => ebm_core::check_len("HMC mass (one per unit)", n, m.len()),
            Mass::Dense { n: k, .. } => ebm_core::check_len("dense HMC mass (n × n)", n, *k),
        }
    }

    /// Draws p ~ N(0, M) into `p` (z into `w` for a dense M), returning the
    /// kinetic energy ½ pᵀ M⁻¹ p.
    fn draw_momenta<R: rand::Rng + ?Sized>(
        &self,
        p: &mut [f64],
        w: &mut [f64],
        rng: &mut R,
    ) -> f64 {
        let mut k = 0.0;
        match &self.mass {
            Mass::Identity => {
                for p in p.iter_mut() {
                    *p = standard_normal(rng);
                    k += 0.5 * *p * *p;
                }
            }
            Mass::Diagonal(mass) => {
                for (p, &m) in p.iter_mut().zip(mass) {
                    *p = m.sqrt() * standard_normal(rng);
                    k += 0.5 * *p * *p / m;
                }
            }
            Mass::Dense { n, l } => {
                for z in w.iter_mut() {
                    *z = standard_normal(rng);
                    k += 0.5 * *z * *z;
                }
                for (i, p) in p.iter_mut().enumerate() {
                    *p = l[i * n..i * n + i + 1].iter().zip(&w[..=i]).map(|(a, z)| a * z).sum();
                }
            }
        }
        k
    }

    /// `y += ε M⁻¹ p` (`w` is scratch for a dense M).
    fn drift(&self, eps: f64, y: &mut [f64], p: &[f64], w: &mut [f64]) {
        match &self.mass {
            Mass::Identity => y.iter_mut().zip(p).for_each(|(y, &p)| *y += eps * p),
            Mass::Diagonal(mass) => {
                for ((y, &p), &m) in y.iter_mut().zip(p).zip(mass) {
                    *y += eps * p / m;
                }
            }
            Mass::Dense { n, l } => {
                forward_solve(*n, l, p, w);
                // Lᵀ v = u, in place
                for i in (0..*n).rev() {
                    let s: f64 = (i + 1..*n).map(|j| l[j * n + i] * w[j]).sum();
                    w[i] = (w[i] - s) / l[i * n + i];
                }
                y.iter_mut().zip(w.iter()).for_each(|(y, &v)| *y += eps * v);
            }
        }
    }

    /// ½ pᵀ M⁻¹ p (`w` is scratch for a dense M).
    fn kinetic(&self, p: &[f64], w: &mut [f64]) -> f64 {
        match &self.mass {
            Mass::Identity => p.iter().map(|&p| 0.5 * p * p).sum(),
            Mass::Diagonal(mass) => p.iter().zip(mass).map(|(&p, &m)| 0.5 * p * p / m).sum(),
            Mass::Dense { n, l } => {
                forward_solve(*n, l, p, w);
                w.iter().map(|&u| 0.5 * u * u).sum()
            }
        }
    }
}

/// Solves `L u = p` for the lower-triangular row-major `l` (n × n).
fn forward_solve(n: usize, l: &[f64], p: &[f64], u: &mut [f64]) {
    for i in 0..n {
        let s: f64 = l[i * n..i * n + i].iter().zip(&u[..i]).map(|(a, b)| a * b).sum();
        u[i] = (p[i] - s) / l[i * n + i];
    }
}

impl<M: GradientModel + ?Sized> Sampler<M> for Hmc {
    type Chain = GradientChain;

    fn start(&self, model: &M, x0: &[f64]) -> Result<GradientChain> {
        self.check_units(model.n_units())?;
        GradientChain::new(model, x0)
    }

    fn restore(&self, model: &M, record: &ebm_core::ChainRecord<f64>) -> Result<GradientChain> {
        self.check_units(model.n_units())?;
        GradientChain::restore(model, record)
    }

    /// The adaptation sweeps: they must be warm-up.
    fn min_warmup(&self) -> usize {
        usize::try_from(self.adapt).unwrap_or(usize::MAX)
    }

    fn sweep<R: rand::Rng + ?Sized>(
        &self,
        model: &M,
        c: &mut GradientChain,
        beta: Beta,
        rng: &mut R,
    ) {
        let adapting = c.sweeps < self.adapt;
        let b = beta.value();
        let eps = if self.adapt > 0 { self.step * c.log_scale.exp() } else { self.step };
        let space = model.space();
        let e0 = model.energy_and_gradient(&c.x, &mut c.grad);
        let k0 = self.draw_momenta(&mut c.p, &mut c.w, rng);
        c.y.copy_from_slice(&c.x);
        c.grad_y.copy_from_slice(&c.grad);
        let mut e = e0;
        for _ in 0..self.leapfrog {
            for (p, &g) in c.p.iter_mut().zip(&c.grad_y) {
                *p -= 0.5 * eps * b * g;
            }
            self.drift(eps, &mut c.y, &c.p, &mut c.w);
            space.wrap(&mut c.y);
            e = model.energy_and_gradient(&c.y, &mut c.grad_y);
            for (p, &g) in c.p.iter_mut().zip(&c.grad_y) {
                *p -= 0.5 * eps * b * g;
            }
        }
        let k1 = self.kinetic(&c.p, &mut c.w);
        let log_a = -(b * (e - e0) + (k1 - k0));
        if adapting {
            adapt_step(c, c.sweeps, e.is_finite(), log_a, self.target);
        }
        c.proposed += 1;
        if e.is_finite() && (log_a >= 0.0 || uniform(rng) < log_a.exp()) {
            std::mem::swap(&mut c.x, &mut c.y);
            std::mem::swap(&mut c.grad, &mut c.grad_y);
            c.accepted += 1;
        }
        c.sweeps += 1;
    }
}
