//! State spaces: what values a model's units take, how to check and draw them.
//!
//! Every model names its space ([`crate::EnergyModel::Space`]); a state is a
//! flat slice of the space's [`StateSpace::Unit`] values, one per unit:
//!
//! | space | unit | values | family trait |
//! |---|---|---|---|
//! | [`Domain`] | `i8` | ±1 spins or 0/1 bits | [`crate::BinaryModel`] |
//! | [`Categories`] | `u8` | `0..q_i`, q_i per unit (mixed alphabets) | [`crate::CategoricalModel`] |
//! | [`Reals`] | `f64` | every finite value | [`crate::GradientModel`] |
//! | [`Angles`] | `f64` | angles in `[0, 2π)` (the torus) | [`crate::GradientModel`] |
//! | [`crate::Hybrid`] | `f64` | real units, then 0/1 bits | [`crate::HybridModel`] |
//!
//! Everything generic (chains, tempering, annealing, the chain runner,
//! AIS/TI, trainers, checkpoints, diagnostics) is written against
//! [`StateSpace`]; exact enumeration, exact distributions and the uniform
//! base of AIS/TI against [`UniformSpace`] (every [`FiniteSpace`], and the
//! torus [`Angles`]: a space whose reference draw is uniform with a known
//! total measure). A continuous space (`f64` units) is a [`ContinuousSpace`]:
//! gradient samplers move in ℝⁿ and map each proposal back into the space
//! with [`ContinuousSpace::wrap`].

use crate::error::{Error, Result};
use crate::rng::ChainRng;
use crate::state::Domain;
use std::fmt;

/// The values a state's units take, as a type and as a run-time description.
///
/// Contract: [`StateSpace::validate`] accepts exactly the slices of valid unit
/// values (callers check the length against the model's `n_units()`), and
/// [`StateSpace::draw`] writes a valid state drawn from the space's reference
/// distribution (uniform for a finite space), a deterministic function of the
/// stream's words so that seeded runs are reproducible.
///
/// ```
/// use ebm_core::{Categories, Domain, Purpose, Seed, StateSpace};
/// let mut rng = Seed(3).stream(Purpose::INIT, 0);
/// let q = Categories::new(vec![2, 3, 21])?;
/// let x = rng.random_state(&q, 3);
/// q.validate(&x)?;
/// assert!(q.validate(&[0, 3, 0]).is_err());
/// assert!(Domain::Spin.validate(&[1, -1, 1]).is_ok());
/// # Ok::<(), ebm_core::Error>(())
/// ```
pub trait StateSpace: fmt::Debug + Send + Sync {
    /// The value of one unit.
    type Unit: UnitValue;

    /// Checks every value of `x`, taken as the first `x.len()` units (a whole
    /// state, or the visible part of one), returning the first bad one as
    /// [`Error::InvalidUnitValue`] (or a shape error where the space knows
    /// its length and `x` is longer).
    fn validate(&self, x: &[Self::Unit]) -> Result<()>;

    /// A fixed valid value of unit `i` (the low value of a binary unit,
    /// category 0): what a unit is set to before it is sampled, e.g. the
    /// hidden units of a chain started at a data vector.
    fn fixed_value(&self, i: usize) -> Self::Unit;

    /// Fills `out` with a state drawn from the space's reference distribution
    /// (uniform over a finite space), from `rng`.
    fn draw(&self, rng: &mut ChainRng, out: &mut [Self::Unit]);
}

/// Checks `xs`, rows of `width` values each taken as the first `width` units
/// of a state, against `space`; an invalid value is reported at its index in
/// `xs`. (Callers check that `width` divides the length.)
pub fn validate_rows<S: StateSpace + ?Sized>(
    space: &S,
    xs: &[S::Unit],
    width: usize,
) -> Result<()> {
    for (r, row) in xs.chunks(width.max(1)).enumerate() {
        space.validate(row).map_err(|e| match e {
            Error::InvalidUnitValue { index, value } => {
                Error::InvalidUnitValue { index: r * width + index, value }
            }
            other => other,
        })?;
    }
    Ok(())
}

/// A unit's value type as checkpoints and model files store it: a fixed
/// number of little-endian bytes, and an exact conversion to `f64` for
/// error messages and observables.
pub trait UnitValue: Copy + Default + PartialEq + fmt::Debug + Send + Sync + 'static {
    /// Bytes per value.
    const BYTES: usize;
    /// Appends the value's bytes.
    fn put(self, out: &mut Vec<u8>);
    /// The value stored in `bytes` (`BYTES` of them).
    fn get(bytes: &[u8]) -> Self;
    /// The value as an `f64` (exact for `i8`, `u8`).
    fn to_f64(self) -> f64;
}

impl UnitValue for i8 {
    const BYTES: usize = 1;
    fn put(self, out: &mut Vec<u8>) {
        out.push(self as u8);
    }
    fn get(bytes: &[u8]) -> Self {
        bytes[0] as i8
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl UnitValue for u8 {
    const BYTES: usize = 1;
    fn put(self, out: &mut Vec<u8>) {
        out.push(self);
    }
    fn get(bytes: &[u8]) -> Self {
        bytes[0]
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl UnitValue for f64 {
    const BYTES: usize = 8;
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn get(bytes: &[u8]) -> Self {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[..8]);
        f64::from_le_bytes(b)
    }
    fn to_f64(self) -> f64 {
        self
    }
}

/// A state space with finitely many values per unit: what exact enumeration,
/// exact distributions, the TV test and the uniform base of AIS/TI need.
///
/// Values of unit i are indexed `0..n_values(i)`; a state's code is the
/// mixed-radix number `Σ_i k_i Π_{j<i} q_j` (for binary units: bit i set when
/// unit i is high).
pub trait FiniteSpace: StateSpace {
    /// q_i, the number of values unit `i` takes (≥ 2).
    fn n_values(&self, i: usize) -> usize;

    /// The `k`-th value of unit `i` (`k < n_values(i)`).
    fn value(&self, i: usize, k: usize) -> Self::Unit;

    /// The index of value `u` of unit `i` (inverse of [`FiniteSpace::value`]).
    fn index(&self, i: usize, u: Self::Unit) -> usize;

    /// `ln Π_{i<n} q_i`: the log of the number of states of `n` units, the
    /// `ln Z₀` of a uniform base distribution.
    fn ln_size(&self, n: usize) -> f64 {
        (0..n).map(|i| (self.n_values(i) as f64).ln()).sum()
    }

    /// `Π_{i<n} q_i`, the number of states of `n` units, or `None` above
    /// `u64::MAX`.
    fn n_states(&self, n: usize) -> Option<u64> {
        (0..n).try_fold(1u64, |acc, i| acc.checked_mul(self.n_values(i) as u64))
    }

    /// The state of `out.len()` units with mixed-radix code `code`
    /// (`Σ_i k_i Π_{j<i} q_j`, unit 0 fastest).
    fn state_of_code(&self, mut code: u64, out: &mut [Self::Unit]) {
        for (i, v) in out.iter_mut().enumerate() {
            let q = self.n_values(i) as u64;
            *v = self.value(i, (code % q) as usize);
            code /= q;
        }
    }

    /// Inverse of [`FiniteSpace::state_of_code`] (for states with at most
    /// `u64::MAX` codes).
    fn code_of_state(&self, x: &[Self::Unit]) -> u64 {
        x.iter().enumerate().rev().fold(0u64, |c, (i, &u)| {
            c.wrapping_mul(self.n_values(i) as u64).wrapping_add(self.index(i, u) as u64)
        })
    }
}

impl StateSpace for Domain {
    type Unit = i8;

    fn validate(&self, x: &[i8]) -> Result<()> {
        Domain::validate(*self, x)
    }

    fn fixed_value(&self, _i: usize) -> i8 {
        self.low()
    }

    /// One bit of the stream per unit, 32 per word (the layout of every
    /// seeded binary run since round 1).
    fn draw(&self, rng: &mut ChainRng, out: &mut [i8]) {
        let mut words = [0u32; 64];
        for chunk in out.chunks_mut(32 * 64) {
            let w = &mut words[..chunk.len().div_ceil(32)];
            rng.fill_u32(w);
            for (i, v) in chunk.iter_mut().enumerate() {
                *v = Domain::value(*self, (w[i / 32] >> (i % 32)) & 1 == 1);
            }
        }
    }
}

impl FiniteSpace for Domain {
    #[inline]
    fn n_values(&self, _i: usize) -> usize {
        2
    }
    #[inline]
    fn value(&self, _i: usize, k: usize) -> i8 {
        Domain::value(*self, k == 1)
    }
    #[inline]
    fn index(&self, _i: usize, u: i8) -> usize {
        usize::from(u == 1)
    }
    fn ln_size(&self, n: usize) -> f64 {
        n as f64 * std::f64::consts::LN_2
    }
    fn code_of_state(&self, x: &[i8]) -> u64 {
        self.encode(x)
    }
}

/// Real-valued units (`f64`): every finite value is a state. The reference
/// draw is the standard normal (a proper density on ℝⁿ; there is no uniform
/// one), so chains started "at random" start there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Reals;

impl StateSpace for Reals {
    type Unit = f64;

    fn validate(&self, x: &[f64]) -> Result<()> {
        match x.iter().position(|v| !v.is_finite()) {
            Some(index) => Err(Error::InvalidUnitValue { index, value: x[index] }),
            None => Ok(()),
        }
    }

    fn fixed_value(&self, _i: usize) -> f64 {
        0.0
    }

    /// Independent standard normals ([`crate::standard_normal`]).
    fn draw(&self, rng: &mut ChainRng, out: &mut [f64]) {
        out.iter_mut().for_each(|v| *v = crate::rng::standard_normal(rng));
    }
}

impl ContinuousSpace for Reals {
    /// The identity: every finite point of ℝⁿ is a state.
    #[inline]
    fn wrap(&self, _x: &mut [f64]) {}
}

/// A space of real-valued units that gradient samplers (MALA, HMC, ULA) move
/// in, with the map from the covering space back into it:
///
/// ```text
/// wrap: ℝⁿ → X,   wrap ∘ wrap = wrap,   E(wrap(x)) = E(x),   ∇E(wrap(x)) = ∇E(x)
/// ```
///
/// Samplers propose in ℝⁿ and call [`ContinuousSpace::wrap`] to map the
/// proposal to the canonical representative the model sees.
///
/// Contract: `wrap` maps every finite point to a valid state and is the
/// identity on valid states, and a [`crate::GradientModel`] over the space
/// has an energy invariant under it (for [`Angles`]: 2π-periodic in every
/// coordinate), which is what makes the samplers exact on the quotient.
///
/// A user's own space, circles of circumference `c` (a [`UniformSpace`]
/// too, so AIS and TI can start from its uniform distribution):
///
/// ```
/// use ebm_core::{ChainRng, ContinuousSpace, Error, Result, StateSpace, UniformSpace, uniform};
///
/// #[derive(Debug)]
/// struct Circles { c: f64 }
/// impl StateSpace for Circles {
///     type Unit = f64;
///     fn validate(&self, x: &[f64]) -> Result<()> {
///         match x.iter().position(|v| !(0.0..self.c).contains(v)) {
///             Some(index) => Err(Error::InvalidUnitValue { index, value: x[index] }),
///             None => Ok(()),
///         }
///     }
///     fn fixed_value(&self, _i: usize) -> f64 { 0.0 }
///     fn draw(&self, rng: &mut ChainRng, out: &mut [f64]) {
///         out.iter_mut().for_each(|v| *v = (self.c * uniform(rng)) % self.c);
///     }
/// }
/// impl ContinuousSpace for Circles {
///     fn wrap(&self, x: &mut [f64]) {
///         x.iter_mut().for_each(|v| *v = v.rem_euclid(self.c) % self.c);
///     }
/// }
/// impl UniformSpace for Circles {
///     fn ln_volume(&self, n: usize) -> f64 { n as f64 * self.c.ln() }
/// }
///
/// let s = Circles { c: 3.0 };
/// let mut x = [7.5, -0.5];
/// s.wrap(&mut x);
/// assert_eq!(x, [1.5, 2.5]);
/// assert!(s.validate(&x).is_ok());
/// // the library's spaces: ℝⁿ (identity) and the 2π torus
/// let mut y = [7.0, -0.5];
/// ebm_core::Reals.wrap(&mut y);
/// assert_eq!(y, [7.0, -0.5]);
/// ebm_core::Angles.wrap(&mut y);
/// assert!(ebm_core::Angles.validate(&y).is_ok());
/// ```
pub trait ContinuousSpace: StateSpace<Unit = f64> {
    /// Maps every coordinate of `x` to its canonical value (in place).
    fn wrap(&self, x: &mut [f64]);
}

/// A space whose reference draw ([`StateSpace::draw`]) is the uniform
/// distribution of a finite total measure (counting measure for a finite
/// space, Lebesgue measure for the torus):
///
/// ```text
/// Z(β = 0) = ∫_X dx = Π_i |X_i|,     ln_volume(n) = Σ_{i<n} ln |X_i|
/// ```
///
/// the known start of AIS and thermodynamic integration from β = 0
/// (`ebm_thermo::ais`). Every [`FiniteSpace`] is one (`ln_volume` is
/// [`FiniteSpace::ln_size`]); implement it for a compact continuous space of
/// your own as the example of [`ContinuousSpace`] does.
///
/// ```
/// use ebm_core::{Angles, Categories, UniformSpace};
/// assert!((Angles.ln_volume(2) - 2.0 * std::f64::consts::TAU.ln()).abs() < 1e-15);
/// assert!((Categories::uniform(3, 2)?.ln_volume(2) - 9f64.ln()).abs() < 1e-15);
/// # Ok::<(), ebm_core::Error>(())
/// ```
pub trait UniformSpace: StateSpace {
    /// `ln Π_{i<n} |X_i|`: `Σ ln q_i` for a finite space, `n ln 2π` for
    /// [`Angles`].
    fn ln_volume(&self, n: usize) -> f64;
}

impl<S: FiniteSpace> UniformSpace for S {
    fn ln_volume(&self, n: usize) -> f64 {
        self.ln_size(n)
    }
}

/// Angular units (`f64` in `[0, 2π)`): the n-torus, e.g. the spins of the XY
/// model. The reference draw is uniform on `[0, 2π)` per unit, and
/// `ln Z₀ = n ln 2π` ([`UniformSpace::ln_volume`]). [`ContinuousSpace::wrap`]
/// reduces modulo 2π.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Angles;

impl Angles {
    /// `θ mod 2π` in `[0, 2π)` (for finite θ).
    #[inline]
    pub fn reduce(theta: f64) -> f64 {
        let r = theta.rem_euclid(std::f64::consts::TAU);
        // rem_euclid of a tiny negative value rounds up to 2π itself
        if r >= std::f64::consts::TAU { 0.0 } else { r }
    }
}

impl StateSpace for Angles {
    type Unit = f64;

    fn validate(&self, x: &[f64]) -> Result<()> {
        match x.iter().position(|v| !(v.is_finite() && (0.0..std::f64::consts::TAU).contains(v))) {
            Some(index) => Err(Error::InvalidUnitValue { index, value: x[index] }),
            None => Ok(()),
        }
    }

    fn fixed_value(&self, _i: usize) -> f64 {
        0.0
    }

    /// Independent uniforms on `[0, 2π)`: `2π u` with u of 53 bits
    /// ([`crate::uniform`]), one word per unit.
    fn draw(&self, rng: &mut ChainRng, out: &mut [f64]) {
        out.iter_mut()
            .for_each(|v| *v = Angles::reduce(std::f64::consts::TAU * crate::rng::uniform(rng)));
    }
}

impl UniformSpace for Angles {
    fn ln_volume(&self, n: usize) -> f64 {
        n as f64 * std::f64::consts::TAU.ln()
    }
}

impl ContinuousSpace for Angles {
    #[inline]
    fn wrap(&self, x: &mut [f64]) {
        x.iter_mut().for_each(|v| *v = Angles::reduce(*v));
    }
}

/// The largest number of values a categorical unit may take (values are `u8`).
pub const MAX_CATEGORIES: usize = 256;

/// Categorical units: unit i takes the values `0..q_i` (a `u8`), with its own
/// q_i, so mixed alphabets are one space.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Categories {
    q: Vec<u16>,
    max: usize,
}

impl Categories {
    /// Units with the given numbers of values, each in `2..=256`.
    pub fn new(q: Vec<usize>) -> Result<Self> {
        if let Some(&bad) = q.iter().find(|&&qi| !(2..=MAX_CATEGORIES).contains(&qi)) {
            return Err(Error::InvalidParameter {
                name: "number of categories",
                value: bad as f64,
                expected: "an integer in 2..=256",
            });
        }
        let max = q.iter().copied().max().unwrap_or(0);
        Ok(Categories { q: q.into_iter().map(|qi| qi as u16).collect(), max })
    }

    /// `n` units of `q` values each.
    pub fn uniform(q: usize, n: usize) -> Result<Self> {
        Categories::new(vec![q; n])
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        self.q.len()
    }

    /// Whether there are no units.
    pub fn is_empty(&self) -> bool {
        self.q.is_empty()
    }

    /// The largest q_i (0 for no units).
    pub fn max_values(&self) -> usize {
        self.max
    }

    /// `Some(q)` when every unit takes q values.
    pub fn uniform_q(&self) -> Option<usize> {
        let first = *self.q.first()?;
        self.q.iter().all(|&qi| qi == first).then_some(usize::from(first))
    }
}

impl StateSpace for Categories {
    type Unit = u8;

    fn validate(&self, x: &[u8]) -> Result<()> {
        if x.len() > self.q.len() {
            return Err(Error::ShapeMismatch {
                what: "state",
                expected: self.q.len(),
                found: x.len(),
            });
        }
        match x.iter().zip(&self.q).position(|(&v, &q)| u16::from(v) >= q) {
            Some(index) => Err(Error::InvalidUnitValue { index, value: f64::from(x[index]) }),
            None => Ok(()),
        }
    }

    fn fixed_value(&self, _i: usize) -> u8 {
        0
    }

    /// Each unit uniform on `0..q_i`, exactly: one word per unit, by
    /// rejection (Lemire's multiply–shift), so no value is favoured.
    fn draw(&self, rng: &mut ChainRng, out: &mut [u8]) {
        use rand_core::Rng;
        for (v, &q) in out.iter_mut().zip(&self.q) {
            let q = u64::from(q);
            let threshold = (u32::MAX as u64 + 1 - q) % q; // 2^32 mod q
            *v = loop {
                let m = u64::from(rng.next_u32()) * q;
                if (m & 0xffff_ffff) >= threshold {
                    break (m >> 32) as u8;
                }
            };
        }
    }
}

impl FiniteSpace for Categories {
    #[inline]
    fn n_values(&self, i: usize) -> usize {
        usize::from(self.q[i])
    }
    #[inline]
    fn value(&self, _i: usize, k: usize) -> u8 {
        k as u8
    }
    #[inline]
    fn index(&self, _i: usize, u: u8) -> usize {
        usize::from(u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Purpose, Seed};

    #[test]
    fn categories_reject_bad_alphabets_and_values() {
        assert!(Categories::new(vec![3, 1]).is_err());
        assert!(Categories::new(vec![257]).is_err());
        let q = Categories::new(vec![2, 3, 4]).unwrap();
        assert_eq!(q.validate(&[1, 2, 3]), Ok(()));
        assert_eq!(q.validate(&[1, 3, 0]), Err(Error::InvalidUnitValue { index: 1, value: 3.0 }));
        assert!(q.validate(&[1, 2]).is_ok(), "a prefix (visible part) validates");
        assert!(q.validate(&[1, 2, 0, 0]).is_err());
        assert_eq!(
            validate_rows(&q, &[1, 2, 1, 3], 2),
            Err(Error::InvalidUnitValue { index: 3, value: 3.0 })
        );
        assert_eq!(q.uniform_q(), None);
        assert_eq!(Categories::uniform(5, 3).unwrap().uniform_q(), Some(5));
        assert!((q.ln_size(3) - 24f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn categorical_draws_are_uniform_on_each_alphabet() {
        // 3 units with q = 2, 3, 7; 60 000 draws; each count within 5 sd of n/q
        let q = Categories::new(vec![2, 3, 7]).unwrap();
        let mut rng = Seed(11).stream(Purpose::INIT, 0);
        let mut counts = [[0u32; 7]; 3];
        let mut x = [0u8; 3];
        let n = 60_000;
        for _ in 0..n {
            q.draw(&mut rng, &mut x);
            q.validate(&x).unwrap();
            for (i, &v) in x.iter().enumerate() {
                counts[i][usize::from(v)] += 1;
            }
        }
        for (i, qi) in [2usize, 3, 7].into_iter().enumerate() {
            let p = 1.0 / qi as f64;
            let sd = (n as f64 * p * (1.0 - p)).sqrt();
            for &c in &counts[i][..qi] {
                assert!((f64::from(c) - n as f64 * p).abs() < 5.0 * sd, "{i}: {c}");
            }
        }
    }

    #[test]
    fn mixed_radix_codes_round_trip() {
        let q = Categories::new(vec![3, 2, 4]).unwrap();
        assert_eq!(q.n_states(3), Some(24));
        let mut x = [0u8; 3];
        for code in 0..24 {
            q.state_of_code(code, &mut x);
            q.validate(&x).unwrap();
            assert_eq!(q.code_of_state(&x), code);
        }
        q.state_of_code(5, &mut x); // 5 = 2 + 3·1
        assert_eq!(x, [2, 1, 0]);
        let mut b = [0i8; 5];
        Domain::Spin.state_of_code(0b10110, &mut b);
        assert_eq!(b, [-1, 1, 1, -1, 1]);
        assert_eq!(FiniteSpace::code_of_state(&Domain::Spin, &b), 0b10110);
    }

    #[test]
    fn angles_validate_wrap_and_draw_uniformly() {
        use std::f64::consts::TAU;
        assert!(Angles.validate(&[0.0, 1.0, TAU - 1e-12]).is_ok());
        assert_eq!(
            Angles.validate(&[0.0, TAU]),
            Err(Error::InvalidUnitValue { index: 1, value: TAU })
        );
        assert!(Angles.validate(&[-1e-300]).is_err());
        assert!(
            Angles.validate(&[f64::NAN]).is_err() && Angles.validate(&[f64::INFINITY]).is_err()
        );
        let mut x = [-1e-18, TAU, 3.0 * TAU + 0.25, -0.25];
        Angles.wrap(&mut x);
        assert!(Angles.validate(&x).is_ok(), "{x:?}");
        assert_eq!(x[0], 0.0);
        assert_eq!(x[1], 0.0);
        assert!((x[2] - 0.25).abs() < 1e-14 && (x[3] - (TAU - 0.25)).abs() < 1e-15);
        assert!((Angles.ln_volume(3) - 3.0 * TAU.ln()).abs() < 1e-15);
        assert!((Domain::Spin.ln_volume(3) - 3.0 * std::f64::consts::LN_2).abs() < 1e-15);
        // uniform: the mean of cos θ and of θ/2π over 40 000 draws, 5 sd
        let mut rng = Seed(2).stream(Purpose::INIT, 0);
        let mut y = [0.0; 4];
        let (mut c, mut u, n) = (0.0, 0.0, 10_000);
        for _ in 0..n {
            Angles.draw(&mut rng, &mut y);
            Angles.validate(&y).unwrap();
            c += y.iter().map(|t| t.cos()).sum::<f64>();
            u += y.iter().map(|t| t / TAU).sum::<f64>();
        }
        let m = 4.0 * n as f64;
        assert!((c / m).abs() < 5.0 * (0.5 / m).sqrt(), "{}", c / m);
        assert!((u / m - 0.5).abs() < 5.0 * (1.0 / 12.0 / m).sqrt(), "{}", u / m);
    }

    #[test]
    fn domain_index_and_value_follow_the_binary_code() {
        for d in [Domain::Spin, Domain::Bit] {
            assert_eq!(FiniteSpace::value(&d, 0, 1), 1);
            assert_eq!(FiniteSpace::value(&d, 0, 0), d.low());
            assert_eq!(d.index(0, d.low()), 0);
            assert_eq!(d.index(0, 1), 1);
        }
    }
}
