//! # ebm-thermo: the thermodynamics of any model
//!
//! Exact statistical mechanics by enumeration for every finite model — binary
//! or categorical, [`FiniteModel`] — small enough ([`exact()`],
//! [`exact_distribution`]; [`exact_moments`] for binary units): ln Z, free
//! energy F = −T ln Z, mean energy U, entropy S = β(U − F), heat capacity
//! C = β² Var(E), the exact distribution and the moments ⟨x_i⟩, ⟨x_i x_j⟩.
//! These are the oracle every sampler, trainer and estimator of ebm is tested
//! against. [`diagnostics`] turns Markov-chain traces into honest error bars
//! (τ_int with Sokal's window, ESS, split-R̂), and [`observables`] gives
//! nonlinear observables (Binder cumulant, susceptibility, heat capacity,
//! correlation length, or a user's own) block-jackknife errors. [`likelihood`] gives exact
//! log-likelihoods and gradients of small latent-variable models. Past exact
//! enumeration, [`ais`] estimates ln Z with error bars: annealed importance
//! sampling (forward and reverse, a stochastic sandwich) and thermodynamic
//! integration, plus free energy, entropy and log-likelihood from them.
//! [`kaufman`] holds the exact 2D Ising results: Kaufman's finite torus and
//! Onsager's infinite lattice (closed forms, `std` only).
//!
//! Depends on `ebm-core`, `rayon` and `rustfft` (the autocovariances of long
//! chains, `diagnostics`).
//!
//! [`FiniteModel`]: ebm_core::FiniteModel
#![deny(missing_docs)]

pub mod ais;
pub mod diagnostics;
pub mod exact;
pub mod kaufman;
pub mod likelihood;
pub mod observables;

pub use ais::{
    Ais, Estimated, LogLikelihoodEstimate, LogZEstimate, Sandwich, Schedule, Ti, TiEstimate,
};
pub use diagnostics::{Estimate, estimate, split_r_hat, tau_int};
pub use likelihood::{
    exact_data_statistics, exact_log_likelihood, exact_log_likelihood_gradient,
    exact_model_statistics, log_marginal,
};

pub use exact::{
    ExactDistribution, MAX_DISTRIBUTION_STATES, MAX_DISTRIBUTION_UNITS, MAX_EXACT_STATES,
    MAX_EXACT_UNITS, Moments, Thermo, exact, exact_distribution, exact_log_z, exact_moments,
};
