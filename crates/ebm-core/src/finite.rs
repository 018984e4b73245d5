//! Models over finite state spaces: the one operation that exact
//! enumeration and other finite-space algorithms need of a model, whatever
//! its family.
//!
//! [`FiniteModel`] is implemented for every binary and every categorical
//! model (a blanket impl through [`Enumerable`], which each family's space
//! implements); nobody implements it by hand.

use crate::binary::BinaryModel;
use crate::categorical::CategoricalModel;
use crate::model::{EnergyModel, UnitOf};
use crate::space::{Categories, FiniteSpace};
use crate::state::Domain;

/// How a family of models over a finite space changes energy when one unit
/// changes value: implemented by the family's space ([`Domain`] through
/// `flip_delta`, [`Categories`] through `local_energies`).
pub trait Enumerable<M: EnergyModel<Space = Self> + ?Sized>: FiniteSpace {
    /// `E(x with unit i set to its k-th value) − E(x)`; `scratch` holds at
    /// least `n_values(i)` values.
    fn change(model: &M, x: &[Self::Unit], i: usize, k: usize, scratch: &mut [f64]) -> f64;
}

impl<M: BinaryModel + ?Sized> Enumerable<M> for Domain {
    #[inline]
    fn change(model: &M, x: &[i8], i: usize, k: usize, _scratch: &mut [f64]) -> f64 {
        if usize::from(x[i] == 1) == k { 0.0 } else { model.flip_delta(x, i) }
    }
}

impl<M: CategoricalModel + ?Sized> Enumerable<M> for Categories {
    #[inline]
    fn change(model: &M, x: &[u8], i: usize, k: usize, scratch: &mut [f64]) -> f64 {
        let q = model.space().n_values(i);
        model.local_energies(x, i, &mut scratch[..q]);
        scratch[k] - scratch[usize::from(x[i])]
    }
}

/// A model over a finite state space (binary or categorical): what exact
/// enumeration, exact distributions and the uniform base of AIS/TI need.
/// Implemented for every such model; bound generic code by it.
///
/// ```
/// use ebm_core::{Categories, CategoricalModel, EnergyModel, FiniteModel};
/// struct Two { space: Categories }
/// impl EnergyModel for Two {
///     type Space = Categories;
///     fn n_units(&self) -> usize { 2 }
///     fn space(&self) -> &Categories { &self.space }
///     fn energy(&self, s: &[u8]) -> f64 { -f64::from(u8::from(s[0] == s[1])) }
/// }
/// impl CategoricalModel for Two {}
/// let m = Two { space: Categories::uniform(3, 2)? };
/// let mut scratch = [0.0; 3];
/// assert_eq!(m.value_change(&[0, 1], 0, 1, &mut scratch), -1.0);
/// # Ok::<(), ebm_core::Error>(())
/// ```
pub trait FiniteModel: EnergyModel<Space: FiniteSpace> {
    /// `E(x with unit i set to its k-th value) − E(x)` (`scratch`: at least
    /// the largest number of values of a unit).
    fn value_change(&self, x: &[UnitOf<Self>], i: usize, k: usize, scratch: &mut [f64]) -> f64;
}

impl<M> FiniteModel for M
where
    M: EnergyModel + ?Sized,
    M::Space: Enumerable<M>,
{
    #[inline]
    fn value_change(&self, x: &[UnitOf<Self>], i: usize, k: usize, scratch: &mut [f64]) -> f64 {
        M::Space::change(self, x, i, k, scratch)
    }
}
