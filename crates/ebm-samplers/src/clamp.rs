//! Masks of fixed units.

use ebm_core::{Error, Result};
use std::sync::Arc;

/// A mask of units that a sampler never changes.
///
/// A clamped unit keeps whatever value the chain's state has: start the chain
/// at the configuration whose clamped values you want (e.g. a data vector on
/// the visible units) and every sampler samples the others from the exact
/// conditional distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clamp {
    fixed: Arc<[bool]>,
}

impl Clamp {
    /// A mask from one flag per unit (`true` = fixed).
    pub fn new(fixed: Vec<bool>) -> Self {
        Clamp { fixed: fixed.into() }
    }

    /// Fixes units `0..n_fixed` of `n_units` (the visible units of a model
    /// whose visible units come first).
    pub fn first(n_fixed: usize, n_units: usize) -> Self {
        Clamp::new((0..n_units).map(|i| i < n_fixed).collect())
    }

    /// Whether unit `i` is fixed.
    #[inline]
    pub fn is_fixed(&self, i: usize) -> bool {
        self.fixed[i]
    }

    /// The mask's length.
    pub fn len(&self) -> usize {
        self.fixed.len()
    }

    /// Whether the mask has no units.
    pub fn is_empty(&self) -> bool {
        self.fixed.is_empty()
    }

    /// Number of fixed units.
    pub fn n_fixed(&self) -> usize {
        self.fixed.iter().filter(|f| **f).count()
    }

    /// Checks the mask against a model's number of units.
    pub fn check(&self, n_units: usize) -> Result<()> {
        if self.fixed.len() == n_units {
            Ok(())
        } else {
            Err(Error::ShapeMismatch {
                what: "clamp mask",
                expected: n_units,
                found: self.fixed.len(),
            })
        }
    }
}

/// Checks an optional clamp against `n_units`.
pub(crate) fn check_clamp(clamp: &Option<Clamp>, n_units: usize) -> Result<()> {
    clamp.as_ref().map_or(Ok(()), |c| c.check(n_units))
}

/// Whether unit `i` is free to move.
#[inline]
pub(crate) fn is_free(clamp: &Option<Clamp>, i: usize) -> bool {
    clamp.as_ref().is_none_or(|c| !c.is_fixed(i))
}

/// Samplers that can be given a clamp: trainers use it to build the clamped
/// sampler of a positive phase from the user's sampler.
pub trait WithClamp: Sized {
    /// The same sampler with the units of `clamp` fixed (replacing any clamp).
    fn with_clamp(self, clamp: Clamp) -> Self;
}

impl WithClamp for crate::Gibbs {
    fn with_clamp(self, clamp: Clamp) -> Self {
        crate::Gibbs::with_clamp(self, clamp)
    }
}

impl WithClamp for crate::Metropolis {
    fn with_clamp(self, clamp: Clamp) -> Self {
        crate::Metropolis::with_clamp(self, clamp)
    }
}

impl WithClamp for crate::Wolff {
    fn with_clamp(self, clamp: Clamp) -> Self {
        crate::Wolff::with_clamp(self, clamp)
    }
}

impl WithClamp for crate::SwendsenWang {
    fn with_clamp(self, clamp: Clamp) -> Self {
        crate::SwendsenWang::with_clamp(self, clamp)
    }
}

impl<S: WithClamp> WithClamp for crate::ParallelTempering<S> {
    fn with_clamp(self, clamp: Clamp) -> Self {
        self.map_inner(|s| s.with_clamp(clamp))
    }
}

impl WithClamp for crate::AnySampler {
    fn with_clamp(self, clamp: Clamp) -> Self {
        use crate::AnySampler as A;
        match self {
            A::Gibbs(s) => A::Gibbs(s.with_clamp(clamp)),
            A::Metropolis(s) => A::Metropolis(s.with_clamp(clamp)),
            A::TemperingGibbs(s) => A::TemperingGibbs(WithClamp::with_clamp(s, clamp)),
            A::TemperingMetropolis(s) => A::TemperingMetropolis(WithClamp::with_clamp(s, clamp)),
            A::Wolff(s) => A::Wolff(s.with_clamp(clamp)),
            A::SwendsenWang(s) => A::SwendsenWang(s.with_clamp(clamp)),
        }
    }
}
