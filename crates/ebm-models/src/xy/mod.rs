//! The XY model: planar spins (angles) on the hypercubic lattices.
//!
//! ```text
//! E(θ) = −J Σ_<ij> cos(θ_i − θ_j) − h Σ_i cos θ_i,      θ_i ∈ [0, 2π)
//! ∂E/∂θ_i = J Σ_{j∼i} sin(θ_i − θ_j) + h sin θ_i
//! ```
//!
//! [`Xy`] is an [`EnergyModel`] over [`Angles`] and a [`GradientModel`], so
//! the generic gradient samplers (HMC, MALA, ULA), tempering, the chain
//! runner, AIS and TI from the uniform distribution on the torus
//! (`ln Z₀ = N ln 2π`) all apply unchanged. Its own single-site moves
//! ([`XyMoves`]: Metropolis in a window, the exact von Mises heat bath,
//! overrelaxation) use the local field ([`Xy::local_field`]):
//!
//! ```text
//! E_i(θ) = −(J Σ_{j∼i} cos(θ − θ_j) + h cos θ) = −|H_i| cos(θ − φ_i),
//! H_i = (J Σ_j cos θ_j + h, J Σ_j sin θ_j),   φ_i = atan2(H_i)
//! ```
//!
//! The files hold one idea each: the model (here), its moves
//! ([`moves`]), the von Mises draw ([`von_mises()`]) and the observables
//! ([`observables`]: magnetisation, helicity modulus).
//!
//! ```
//! use ebm_core::{EnergyModel, GradientModel};
//! use ebm_models::lattice::{Boundary, Lattice};
//! use ebm_models::xy::Xy;
//! let m = Xy::new(Lattice::new(&[4, 4], Boundary::Periodic)?, 1.0, 0.0)?;
//! let aligned = vec![0.3; 16];
//! assert!((m.energy(&aligned) + 32.0).abs() < 1e-12); // 2N bonds at cos 0
//! let mut g = vec![0.0; 16];
//! m.energy_and_gradient(&aligned, &mut g);
//! assert!(g.iter().all(|g| g.abs() < 1e-12)); // a ground state
//! # Ok::<(), ebm_core::Error>(())
//! ```

pub mod moves;
pub mod observables;
mod von_mises;

pub use moves::{XyChain, XyMoves};
pub use observables::{HelicityTerms, helicity_modulus};
pub use von_mises::von_mises;

use crate::lattice::{Boundary, Lattice};
use ebm_core::{Angles, EnergyModel, Error, GradientModel, Result};

/// The XY model on a [`Lattice`] with uniform coupling J and field h (along
/// θ = 0). See the [module docs](self).
#[derive(Debug, Clone, PartialEq)]
pub struct Xy {
    lattice: Lattice,
    j: f64,
    h: f64,
    /// The lattice's bonds in its documented order.
    bonds: Vec<[u32; 2]>,
    /// Whether bond b lies along axis 0 (the x axis of the helicity modulus).
    along_x: Vec<bool>,
    /// Neighbours of site i: `nbr[start[i]..start[i + 1]]` (with multiplicity).
    start: Vec<u32>,
    nbr: Vec<u32>,
}

impl Xy {
    /// The XY model on `lattice` with coupling `j` and field `h` (finite).
    pub fn new(lattice: Lattice, j: f64, h: f64) -> Result<Self> {
        for (name, v) in [("XY coupling", j), ("XY field", h)] {
            if !v.is_finite() {
                return Err(Error::InvalidParameter { name, value: v, expected: "finite" });
            }
        }
        let n = lattice.n_sites();
        let bonds = lattice.bonds();
        let along_x = bonds
            .iter()
            .map(|&[a, b]| {
                let (ca, cb) = (lattice.coords(a as usize), lattice.coords(b as usize));
                ca.zip(cb).is_some_and(|(ca, cb)| ca[0] != cb[0])
            })
            .collect();
        let mut degree = vec![0u32; n + 1];
        for &[a, b] in &bonds {
            degree[a as usize + 1] += 1;
            degree[b as usize + 1] += 1;
        }
        let start: Vec<u32> = degree
            .iter()
            .scan(0u32, |acc, &d| {
                *acc += d;
                Some(*acc)
            })
            .collect();
        let mut fill = start.clone();
        let mut nbr = vec![0u32; 2 * bonds.len()];
        for &[a, b] in &bonds {
            nbr[fill[a as usize] as usize] = b;
            fill[a as usize] += 1;
            nbr[fill[b as usize] as usize] = a;
            fill[b as usize] += 1;
        }
        Ok(Xy { lattice, j, h, bonds, along_x, start, nbr })
    }

    /// The periodic or open chain of `n` spins.
    pub fn chain(n: usize, boundary: Boundary, j: f64, h: f64) -> Result<Self> {
        Xy::new(Lattice::new(&[n], boundary)?, j, h)
    }

    /// The lattice.
    pub fn lattice(&self) -> &Lattice {
        &self.lattice
    }

    /// The coupling J.
    pub fn coupling(&self) -> f64 {
        self.j
    }

    /// The field h.
    pub fn field(&self) -> f64 {
        self.h
    }

    /// The bonds `[i, j]` in the lattice's order.
    pub fn bonds(&self) -> &[[u32; 2]] {
        &self.bonds
    }

    /// The local field of site i, `H_i = (J Σ_j cos θ_j + h, J Σ_j sin θ_j)`:
    /// the energy of site i at angle θ, all else fixed, is
    /// `−(H_x cos θ + H_y sin θ)` plus a constant. O(degree), no allocation.
    #[inline]
    pub fn local_field(&self, theta: &[f64], i: usize) -> (f64, f64) {
        let (mut c, mut s) = (0.0, 0.0);
        for &k in &self.nbr[self.start[i] as usize..self.start[i + 1] as usize] {
            let t = theta[k as usize];
            c += t.cos();
            s += t.sin();
        }
        (self.j * c + self.h, self.j * s)
    }

    /// [`Xy::local_field`] from the cached `(cos θ_j, sin θ_j)` of every
    /// site (what [`XyMoves`] keeps): no trigonometry, the same sums in the
    /// same order, so the same bits.
    #[inline]
    pub(crate) fn local_field_cached(&self, cs: &[(f64, f64)], i: usize) -> (f64, f64) {
        let (mut c, mut s) = (0.0, 0.0);
        for &k in &self.nbr[self.start[i] as usize..self.start[i + 1] as usize] {
            let (ck, sk) = cs[k as usize];
            c += ck;
            s += sk;
        }
        (self.j * c + self.h, self.j * s)
    }

    /// Whether bond `b` lies along axis 0.
    pub(crate) fn is_along_x(&self, b: usize) -> bool {
        self.along_x[b]
    }
}

impl EnergyModel for Xy {
    type Space = Angles;

    fn n_units(&self) -> usize {
        self.lattice.n_sites()
    }

    fn space(&self) -> &Angles {
        &Angles
    }

    fn energy(&self, theta: &[f64]) -> f64 {
        let bond: f64 =
            self.bonds.iter().map(|&[a, b]| (theta[a as usize] - theta[b as usize]).cos()).sum();
        let field: f64 = if self.h == 0.0 { 0.0 } else { theta.iter().map(|t| t.cos()).sum() };
        -self.j * bond - self.h * field
    }
}

impl GradientModel for Xy {
    /// One pass over the bonds and (if h ≠ 0) one over the sites; no
    /// allocation.
    fn energy_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let mut e = 0.0;
        if self.h == 0.0 {
            grad.fill(0.0);
        } else {
            for (g, &t) in grad.iter_mut().zip(theta) {
                let (s, c) = t.sin_cos();
                *g = self.h * s;
                e -= self.h * c;
            }
        }
        for &[a, b] in &self.bonds {
            let (a, b) = (a as usize, b as usize);
            let (s, c) = (theta[a] - theta[b]).sin_cos();
            e -= self.j * c;
            grad[a] += self.j * s;
            grad[b] -= self.j * s;
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradients_local_fields_and_bonds_agree_with_the_energy() {
        for (dims, boundary) in [
            (vec![7], Boundary::Periodic),
            (vec![5], Boundary::Open),
            (vec![4, 3], Boundary::Periodic),
            (vec![2, 3], Boundary::Open),
            (vec![2, 2, 3], Boundary::Periodic),
        ] {
            let lat = Lattice::new(&dims, boundary).unwrap();
            let m = Xy::new(lat.clone(), 0.7, -0.3).unwrap();
            assert_eq!(m.bonds().len(), lat.n_bonds());
            let n = lat.n_sites();
            let theta: Vec<f64> = (0..n).map(|i| Angles::reduce(1.3 * i as f64 + 0.2)).collect();
            ebm_testkit::check_gradient(&m, &theta, 1e-5, 1e-6).unwrap();
            // the local field gives every single-site energy change
            for i in 0..n {
                let (hx, hy) = m.local_field(&theta, i);
                let mut y = theta.clone();
                y[i] = 2.0;
                let de = m.energy(&y) - m.energy(&theta);
                let want =
                    -(hx * (2f64.cos() - theta[i].cos()) + hy * (2f64.sin() - theta[i].sin()));
                assert!((de - want).abs() < 1e-12, "{dims:?} site {i}: {de} vs {want}");
            }
        }
        // at the edge of the torus (the finite differences wrap)
        let m = Xy::chain(5, Boundary::Periodic, 1.0, 0.5).unwrap();
        let edge = [0.0, std::f64::consts::TAU - 1e-7, 1.0, 3.0, 5.0];
        ebm_testkit::check_gradient(&m, &edge, 1e-5, 1e-6).unwrap();
        assert!(Xy::chain(4, Boundary::Periodic, f64::NAN, 0.0).is_err());
        assert!(Xy::chain(4, Boundary::Periodic, 1.0, f64::INFINITY).is_err());
    }
}
