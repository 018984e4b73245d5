//! # ebm-models: the models
//!
//! - [`ising`]: Ising models on hypercubic lattices (1, 2, 3 dimensions,
//!   periodic or open) and on any graph (spin glasses, random fields).
//! - [`boltzmann`]: the general Boltzmann machine (dense symmetric couplings,
//!   visible and hidden units).
//! - [`rbm`]: the Bernoulli–Bernoulli restricted Boltzmann machine, with batched
//!   GEMM conditionals and exact ln Z by summing the smaller layer.
//!
//! Each implements `EnergyModel`, `BinaryModel` (fast flip deltas, valid
//! blocks) and `LogLinear` from `ebm-core`, and passes `ebm-testkit`.
//! Depends on `ebm-core`, `rand`, `rayon` and `nalgebra`; never on samplers or
//! trainers.
#![deny(missing_docs)]

pub mod boltzmann;
pub mod ising;
mod linalg;
pub mod rbm;
pub mod rbm_ais;
