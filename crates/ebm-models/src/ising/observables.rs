//! What one recorded sweep measures of an Ising configuration, from shared
//! exact integer sums.
//!
//! A sampling run records E, m and the structure factor at k_min after every
//! sweep (`ebm sample`). Asked one by one they cost six passes over the
//! spins: the energy's bond sums (one per axis) and spin sum, the spin sum
//! again for m and for m², and the plane sums of the structure factor.
//! [`Ising::observables`] makes three: the spin sum is read off the plane
//! sums, and the energy needs it only when h ≠ 0. At 256² that observation
//! cost more than the sweep it follows.

use super::{Ising, sum_i8, uniform_energy};
use ebm_core::EnergyModel;

/// E, m and S(k_min) of one configuration ([`Ising::observables`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpinObservables {
    /// The energy E(s), as [`EnergyModel::energy`].
    pub energy: f64,
    /// The magnetization per spin, as [`Ising::magnetization`].
    pub magnetization: f64,
    /// The structure factor at the smallest wave vector,
    /// [`Lattice::lowest_mode_i8`](crate::lattice::Lattice::lowest_mode_i8)
    /// of s; 0 for a model without a lattice.
    pub lowest_mode: f64,
}

impl Ising {
    /// [`EnergyModel::energy`], [`Ising::magnetization`] and (on a lattice)
    /// the lowest mode of `s` at once, each bit for bit what its own method
    /// gives, in fewer passes over `s` (the module docs).
    ///
    /// ```
    /// use ebm_core::EnergyModel;
    /// use ebm_models::ising::{Boundary, Ising};
    ///
    /// let m = Ising::square(4, 4, Boundary::Periodic, 1.0, 0.5)?;
    /// let s: Vec<i8> = (0..16).map(|i| if i % 3 == 0 { -1 } else { 1 }).collect();
    /// let o = m.observables(&s);
    /// assert_eq!(o.energy, m.energy(&s));
    /// assert_eq!(o.magnetization, m.magnetization(&s));
    /// assert_eq!(o.lowest_mode, m.lattice_shape().unwrap().lowest_mode_i8(&s, 0.0));
    /// # Ok::<(), ebm_core::Error>(())
    /// ```
    ///
    /// # Panics
    /// If `s.len()` is not the number of spins.
    pub fn observables(&self, s: &[i8]) -> SpinObservables {
        assert_eq!(s.len(), self.n, "one value per spin");
        let (lowest_mode, spins) = match &self.lattice {
            Some(l) => l.lowest_mode_and_sum_i8(s, 0.0),
            None => (0.0, sum_i8(s)),
        };
        let energy = match self.uniform {
            Some((j, h)) => uniform_energy(j, h, self.bond_sum(s), || spins),
            None => self.energy(s),
        };
        SpinObservables { energy, magnetization: spins as f64 / self.n as f64, lowest_mode }
    }
}
