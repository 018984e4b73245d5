//! # ebm-models: the models
//!
//! - [`ising`]: Ising models on hypercubic lattices (1, 2, 3 dimensions,
//!   periodic or open) and on any graph (spin glasses, random fields).
//! - [`potts`]: the q-state Potts model on the same lattices and on any graph
//!   (ferro- and antiferromagnetic couplings, fields per site and value,
//!   mixed alphabets).
//! - [`lattice`]: the hypercubic lattices both are built on.
//! - [`xy`]: the XY model (planar spins, angles on the torus) on the same
//!   lattices: a `GradientModel` for HMC/MALA/ULA, its own Metropolis,
//!   von Mises heat bath and overrelaxation moves, the helicity modulus.
//! - [`potts_rbm`]: the categorical-visible (Potts) RBM for sequence data,
//!   with GEMM block energies, exact ln Z over the hidden layer and a
//!   zero-sum gauge.
//! - [`boltzmann`]: the general Boltzmann machine (dense symmetric couplings,
//!   visible and hidden units).
//! - [`rbm`]: the Bernoulli–Bernoulli restricted Boltzmann machine, with batched
//!   GEMM conditionals and exact ln Z by summing the smaller layer.
//! - [`gbrbm`]: the Gaussian–Bernoulli RBM (real visible units with learned
//!   variances, binary hidden units; `HybridModel`), with GEMM conditionals
//!   and exact ln Z over the hidden layer (the visibles integrate in closed
//!   form).
//!
//! Each implements `EnergyModel`, its family trait (`BinaryModel`: fast flip
//! deltas, valid blocks; `CategoricalModel` for Potts: local energies) and
//! `LogLinear` from `ebm-core`, and passes `ebm-testkit`.
//! Depends on `ebm-core`, `ebm-thermo` (ln Z estimates), `ebm-parallel`
//! (the checkerboard sweeps' task crews), `rand`, `rayon`, `nalgebra` and
//! `gemm`; never on samplers or trainers.
#![deny(missing_docs)]

pub mod boltzmann;
pub mod gbrbm;
mod graph;
mod grouped;
pub mod ising;
mod keystream;
pub mod lattice;
mod linalg;
pub mod potts;
pub mod potts_rbm;
pub mod rbm;
pub mod rbm_ais;
mod sublattice;
pub mod xy;
