//! What one recorded sweep measures of an Ising configuration, from shared
//! exact integer sums.
//!
//! A sampling run records E, m and the structure factor at k_min after every
//! sweep (`ebm sample`). Asked one by one they cost six passes over the
//! spins: the energy's bond sums (one per axis) and spin sum, the spin sum
//! again for m and for m², and the plane sums of the structure factor.
//! [`Ising::observables`] makes three: the spin sum is read off the plane
//! sums, and the energy needs it only when h ≠ 0. At 256² that observation
//! cost more than the sweep it follows. A large lattice is summed in slabs,
//! one per thread.

use super::{Boundary, Ising, Lattice, slab_bond_sum, sum_i8, uniform_energy};
use ebm_core::EnergyModel;

/// Lattices with fewer spins than this measure on one thread: the hand-over
/// would cost more than the half it hands over.
const PARALLEL_MIN: usize = 1 << 14;

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
        let Some((j, h)) = self.uniform else {
            let (lowest_mode, spins) = match &self.lattice {
                Some(l) => l.lowest_mode_and_sum_i8(s, 0.0),
                None => (0.0, sum_i8(s)),
            };
            let magnetization = spins as f64 / self.n as f64;
            return SpinObservables { energy: self.energy(s), magnetization, lowest_mode };
        };
        let (bonds, (lowest_mode, spins)) = match &self.lattice {
            Some(l) if l.dims().len() > 1 && l.dims().iter().all(|&d| d >= 2) => {
                let slabs = if s.len() >= PARALLEL_MIN {
                    rayon::current_num_threads().min(l.dims()[0])
                } else {
                    1
                };
                let (bonds, planes) = slab_sums(l, s, slabs);
                (bonds, l.mode_of_plane_sums(planes, 0.0))
            }
            Some(l) => (self.bond_sum(s), l.lowest_mode_and_sum_i8(s, 0.0)),
            None => (self.bond_sum(s), (0.0, sum_i8(s))),
        };
        SpinObservables {
            energy: uniform_energy(j, h, bonds, || spins),
            magnetization: spins as f64 / self.n as f64,
            lowest_mode,
        }
    }
}

/// The bond sum and the integer plane sums of `s` on the lattice `l` (sides
/// ≥ 2, two or three axes), cut into `slabs` slabs of whole layers along
/// its first axis, run in parallel, each summing its own sites' bonds and
/// planes. With one slab per thread, the rows of a slab are those
/// `Layout::join` wrote on the same thread just before, still in that
/// core's cache. The slabs' sums add up (exact integers): the same result
/// for any number of slabs.
fn slab_sums(l: &Lattice, s: &[i8], slabs: usize) -> (i64, [Vec<i64>; 3]) {
    let (dims, periodic) = (l.dims(), l.boundary() == Boundary::Periodic);
    let layers = |t: usize| t * dims[0] / slabs..(t + 1) * dims[0] / slabs;
    let sums =
        |t: usize| (slab_bond_sum(dims, periodic, s, layers(t)), l.plane_sums_i8(s, layers(t)));
    if slabs == 1 {
        return sums(0);
    }
    let mut parts: Vec<(i64, [Vec<i64>; 3])> = vec![Default::default(); slabs];
    ebm_parallel::run_each(&mut parts, |t, part| *part = sums(t));
    let mut parts = parts.into_iter();
    let (mut bonds, mut planes) = parts.next().unwrap_or_default();
    for (b, p) in parts {
        bonds += b;
        for (line, part) in planes.iter_mut().zip(p) {
            line.iter_mut().zip(part).for_each(|(x, y)| *x += y);
        }
    }
    (bonds, planes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebm_core::EnergyModel;

    /// Any number of slabs gives the lattice's bond sum and the plane sums
    /// of one pass, on periodic and open lattices of two and three axes
    /// (sides 2 and odd included), fields at the ends of the i8 range too.
    #[test]
    fn slabs_add_up_to_the_whole() {
        let mut z = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            z ^= z << 13;
            z ^= z >> 7;
            z ^= z << 17;
            z
        };
        for dims in [vec![2, 3], vec![5, 4], vec![6, 6], vec![7, 2, 3], vec![4, 4, 4]] {
            for periodic in [true, false] {
                let m = Ising::lattice(&dims, periodic, 1.0, 0.0).unwrap();
                let l = m.lattice_shape().unwrap();
                for values in [[-1i8, 1], [-128, 127]] {
                    let s: Vec<i8> =
                        (0..m.n_units()).map(|_| values[(next() & 1) as usize]).collect();
                    let whole = (m.bond_sum(&s), l.plane_sums_i8(&s, 0..dims[0]));
                    for slabs in 1..=dims[0] {
                        assert_eq!(slab_sums(l, &s, slabs), whole, "{dims:?} {periodic} {slabs}");
                    }
                }
                // and the energy of ±1 spins, against the edge list
                let s: Vec<i8> = (0..m.n_units()).map(|_| [-1, 1][(next() & 1) as usize]).collect();
                let by_edges: f64 =
                    -m.edges().map(|(a, b, j)| j * f64::from(s[a] * s[b])).sum::<f64>();
                assert_eq!(m.energy(&s), by_edges, "{dims:?} {periodic}");
            }
        }
    }
}
