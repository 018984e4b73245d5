//! # ebm-samplers: the dynamics
//!
//! Markov-chain kernels that leave `p_β(x) ∝ exp(−β E(x))` invariant at any
//! β, for binary and categorical models (one sampler type per algorithm;
//! the family's moves are in [`site`]):
//!
//! - [`Gibbs`]: heat bath, drawing unit i from its conditional (a binary
//!   unit flips with probability σ(−β Δ_i)), in sequential, random-scan or
//!   block order (the model's `blocks()`).
//! - [`Metropolis`]: single-unit moves accepted with min(1, e^{−β Δ}).
//! - [`Wolff`] and [`SwendsenWang`]: Fortuin–Kasteleyn cluster moves for
//!   Ising and Potts models (any model exposing its pair form), exact with
//!   fields; see [`cluster`] for the unit of work of each.
//! - [`Houdayer`]: the two-replica cluster move for spin glasses, on
//!   [`Replicas`] (two copies of a model), after each sweep of a single-site
//!   sampler; composes with [`ParallelTempering`].
//! - [`Mala`] and [`Hmc`]: Metropolis-adjusted Langevin and Hamiltonian Monte
//!   Carlo (leapfrog, diagonal mass) for real-valued units (a
//!   `GradientModel` on ℝⁿ or the torus), exact for every step size.
//! - [`Ula`]: unadjusted Langevin (no accept test; stationary bias O(ε²),
//!   documented in closed form for Gaussians).
//! - [`ParallelTempering`]: replicas on a ladder of inverse temperatures around
//!   any inner sampler, with replica-exchange moves, swap rates, round trips
//!   and optional ladder adaptation during warm-up.
//! - [`Anneal`]: simulated annealing, a β schedule driving any sampler.
//! - [`Clamp`]: a mask of fixed units every sampler respects (conditional
//!   sampling, the clamped phase of a Boltzmann machine).
//! - [`Run`] and [`chains`]: many chains in parallel with rayon, one ChaCha stream per
//!   chain from (seed, purpose, index), bit-identical for any thread count;
//!   with fewer chains than threads on a large model the spare workers are
//!   kept polling for the sweeps' forks (`ebm-parallel`).
//! - [`AnySampler`]: run-time choice of sampler, dispatched once per sweep.
//!
//! Depends on `ebm-core`, `ebm-parallel`, `rand`, `rayon` and `nalgebra`; MCMC diagnostics (τ_int, ESS,
//! R̂) live in `ebm-thermo`.
#![deny(missing_docs)]

mod anneal;
mod any;
pub mod chains;
mod clamp;
pub mod cluster;
mod gibbs;
mod hmc;
mod mala;
mod metropolis;
pub mod site;
mod tempering;
mod ula;

pub use anneal::{Anneal, Schedule};
pub use any::{AnyChain, AnySampler};
pub use chains::{ChainsConfig, Init, Recording, Run, Running, Traces, advance, start_chains};
pub use clamp::{Clamp, WithClamp};
pub use cluster::{
    ClusterChain, ClusterMoves, Houdayer, HoudayerChain, Replicas, SwendsenWang, Wolff,
};
pub use ebm_parallel::with_workers_awake;
pub use gibbs::Gibbs;
pub use hmc::Hmc;
pub use mala::{GradientChain, Mala};
pub use metropolis::Metropolis;
pub use site::{Moves, Scan, SiteChain, SiteMoves};
pub use tempering::{Ladder, ParallelTempering, TemperingChain};
pub use ula::Ula;
