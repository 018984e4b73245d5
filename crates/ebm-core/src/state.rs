//! Binary unit values: the ±1 (spin) and 0/1 (bit) domains, and owned states.
//!
//! Every model in ebm has binary units and stores a configuration as a flat
//! `[i8]` whose values lie in the model's [`Domain`]. [`Spins`] and [`Bits`]
//! are validated owned configurations that dereference to `[i8]`.

use crate::error::{Error, Result};
use std::ops::{Deref, DerefMut};

/// The two values a binary unit can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Domain {
    /// Ising spins s ∈ {−1, +1}.
    Spin,
    /// Bits b ∈ {0, 1} (Boltzmann machines, RBMs).
    Bit,
}

impl Domain {
    /// The low value: −1 for spins, 0 for bits.
    #[inline]
    pub const fn low(self) -> i8 {
        match self {
            Domain::Spin => -1,
            Domain::Bit => 0,
        }
    }

    /// The high value: +1 in both domains.
    #[inline]
    pub const fn high(self) -> i8 {
        1
    }

    /// The value of a unit after a flip: low ↔ high.
    #[inline]
    pub const fn flip(self, x: i8) -> i8 {
        self.low() + 1 - x
    }

    /// The value encoding `on`: high if true, low if false.
    #[inline]
    pub const fn value(self, on: bool) -> i8 {
        if on { 1 } else { self.low() }
    }

    /// Whether `x` is one of the two values of this domain.
    #[inline]
    pub const fn contains(self, x: i8) -> bool {
        x == 1 || x == self.low()
    }

    /// Checks every value of `x`, returning the first bad one as an error.
    pub fn validate(self, x: &[i8]) -> Result<()> {
        // branch-free over blocks (vectorises); the position only on failure
        let low = self.low();
        let all_valid =
            x.chunks(256).all(|c| c.iter().fold(true, |ok, &v| ok & ((v == 1) | (v == low))));
        if all_valid {
            return Ok(());
        }
        match x.iter().position(|&v| !self.contains(v)) {
            Some(index) => Err(Error::InvalidUnitValue { index, value: f64::from(x[index]) }),
            None => Ok(()),
        }
    }

    /// The configuration whose unit `i` is high exactly when bit `i` of `code` is set.
    ///
    /// This is the indexing used by exact distributions (`code < 2^n`); units
    /// past the 64th are low.
    pub fn decode(self, code: u64, out: &mut [i8]) {
        for (i, v) in out.iter_mut().enumerate() {
            *v = self.value(i < 64 && (code >> i) & 1 == 1);
        }
    }

    /// Inverse of [`Domain::decode`]: bit `i` of the result is set when `x[i]` is high.
    /// Units past the 64th are ignored.
    pub fn encode(self, x: &[i8]) -> u64 {
        x.iter().take(64).enumerate().fold(0u64, |c, (i, &v)| c | (u64::from(v == 1) << i))
    }
}

macro_rules! owned_state {
    ($name:ident, $domain:expr, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(Vec<i8>);

        impl $name {
            /// Validates the values and wraps them.
            pub fn new(values: Vec<i8>) -> Result<Self> {
                $domain.validate(&values)?;
                Ok($name(values))
            }

            /// `n` units, all low.
            pub fn low(n: usize) -> Self {
                $name(vec![$domain.low(); n])
            }

            /// `n` units, all high.
            pub fn high(n: usize) -> Self {
                $name(vec![1; n])
            }

            /// The configuration of `n` units with code `code` (see [`Domain::decode`]).
            pub fn from_code(code: u64, n: usize) -> Self {
                let mut v = vec![0; n];
                $domain.decode(code, &mut v);
                $name(v)
            }

            /// Flips unit `i` (panics if `i` is out of range, like slice indexing).
            pub fn flip(&mut self, i: usize) {
                self.0[i] = $domain.flip(self.0[i]);
            }

            /// The domain of these values.
            pub const fn domain(&self) -> Domain {
                $domain
            }

            /// The raw values.
            pub fn into_vec(self) -> Vec<i8> {
                self.0
            }
        }

        impl Deref for $name {
            type Target = [i8];
            fn deref(&self) -> &[i8] {
                &self.0
            }
        }

        impl DerefMut for $name {
            /// Mutable access to the values; writing a value outside the domain is a
            /// logic error that models do not check in their hot paths.
            fn deref_mut(&mut self) -> &mut [i8] {
                &mut self.0
            }
        }

        impl TryFrom<Vec<i8>> for $name {
            type Error = Error;
            fn try_from(values: Vec<i8>) -> Result<Self> {
                $name::new(values)
            }
        }
    };
}

owned_state!(Spins, Domain::Spin, "A configuration of ±1 spins (validated on construction).");
owned_state!(Bits, Domain::Bit, "A configuration of 0/1 bits (validated on construction).");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flip_is_an_involution_and_swaps_values() {
        for d in [Domain::Spin, Domain::Bit] {
            assert_eq!(d.flip(d.low()), d.high());
            assert_eq!(d.flip(d.high()), d.low());
        }
    }

    #[test]
    fn encode_inverts_decode() {
        let mut x = [0i8; 7];
        for d in [Domain::Spin, Domain::Bit] {
            for code in 0..128u64 {
                d.decode(code, &mut x);
                assert_eq!(d.encode(&x), code);
                d.validate(&x).unwrap();
            }
        }
    }

    #[test]
    fn codes_address_the_first_64_units_only() {
        let s = Spins::from_code(1, 70);
        assert_eq!(s[0], 1);
        assert!(s[1..].iter().all(|&v| v == -1));
    }

    #[test]
    fn bad_values_are_rejected_with_their_position() {
        assert_eq!(
            Spins::new(vec![1, -1, 0]),
            Err(Error::InvalidUnitValue { index: 2, value: 0.0 })
        );
        assert_eq!(Bits::new(vec![1, -1]), Err(Error::InvalidUnitValue { index: 1, value: -1.0 }));
        assert!(Bits::new(vec![0, 1, 1]).is_ok());
    }
}
