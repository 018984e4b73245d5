//! # ebm-testkit: the conformance kit
//!
//! Checks that any implementer of the ebm traits can run against their own
//! model or sampler, and the proptest strategies the workspace's tests use:
//!
//! - [`conformance`]: flip deltas (binary) and local energies (categorical)
//!   equal energy differences, blocks are partitions into independent sets, `E = −⟨θ, φ(x)⟩` for log-linear models,
//!   closed-form data statistics equal enumeration over the hidden units.
//! - [`strategies`]: proptest strategies for small states and models.
//! - [`statistics`]: a total-variation test of sampler histograms against exact
//!   distributions, with a bound derived from the chains themselves.
//! - [`quadrature`]: exact 1-D moments and ln Z of continuous densities.
//! - [`bessel`]: modified Bessel functions `I_k` and the exact periodic XY
//!   chain (ln Z, ⟨E⟩) they give.
//! - [`toy`]: tiny reference models implemented with nothing but `energy`
//!   (binary [`toy::Dense`], categorical [`toy::DenseCategorical`]), and the
//!   multivariate Gaussian [`toy::Gaussian`], the closed-form oracle for
//!   real-valued samplers.
//!
//! Depends on `ebm-core`, `proptest`, `rayon` and `nalgebra` (the Gaussian's Cholesky
//! factor) only (no models, so every model crate
//! can use it in its own tests).
#![deny(missing_docs)]

pub mod bessel;
pub mod conformance;
pub mod quadrature;
pub mod statistics;
pub mod strategies;
pub mod toy;

pub use conformance::{
    Violation, check_blocks, check_categorical_blocks, check_data_statistics, check_flip_deltas,
    check_gradient, check_local_energies, check_log_linear,
};
