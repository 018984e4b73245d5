//! # ebm-core: the concepts every other ebm crate composes
//!
//! This crate holds the traits and small value types of the workspace and
//! nothing else: [`EnergyModel`] over a [`StateSpace`], the model families
//! [`BinaryModel`] (±1 or 0/1 units, a [`Domain`]), [`CategoricalModel`]
//! (q_i values per unit, [`Categories`]), [`GradientModel`] (real units,
//! [`Reals`], or angles, [`Angles`], with an energy gradient) and
//! [`HybridModel`] (real and binary units, [`Hybrid`], with closed-form
//! conditionals), [`LogLinear`], [`Sampler`],
//! [`Chain`], [`Trainer`]; the validated inverse temperature [`Beta`]; owned
//! binary states ([`Spins`], [`Bits`]); [`Blocks`] of independent units; the
//! [`PairGraph`] cluster algorithms read; the hooks through which a model
//! supplies its own sweep or AIS kernel ([`kernel`]: [`KernelState`],
//! [`AnnealRuns`]); seeds
//! and per-chain ChaCha streams ([`Seed`], [`ChainRng`]); and the one
//! [`Error`] enum. It depends only on `rand_core` and `rand_chacha`: no
//! models, no linear algebra.
//!
//! ## The physics, stated once
//!
//! A model gives each configuration x of its n binary units an energy E(x). At
//! inverse temperature β = 1/T (k_B = 1):
//!
//! ```text
//! p_β(x) = exp(−β E(x)) / Z(β),   Z(β) = Σ_x exp(−β E(x))
//! F = −T ln Z        (free energy; = U − T S)
//! U = ⟨E⟩,  S = β (U − F),  C = β² Var(E)
//! ```
//!
//! Sign convention: `E(x) = −Σ_i b_i x_i − Σ_{i<j} W_ij x_i x_j`; for Ising
//! spins `E(s) = −J Σ_<ij> s_i s_j − h Σ_i s_i`. A latent-variable model's
//! `visible_free_energy(v) = −T ln Σ_h exp(−β E(v, h))` is never called
//! `free_energy`, which always means the system's −T ln Z. Log-linear models
//! have `E_θ(x) = −⟨θ, φ(x)⟩` and `∂ ln p(v)/∂θ = β(⟨φ⟩_data − ⟨φ⟩_model)`.
//!
//! States are flat slices of the model's unit type ([`UnitOf`]): `[i8]` in a
//! [`Domain`] (±1 spins or 0/1 bits), `[u8]` of categories; β never lives
//! inside a model. See [`space`] for how the state spaces divide the work.
#![deny(missing_docs)]

mod beta;
mod binary;
mod blocks;
mod categorical;
mod error;
mod finite;
mod gradient;
mod hybrid;
pub mod kernel;
mod model;
mod pairs;
mod rng;
mod sampler;
pub mod space;
mod state;

pub use beta::Beta;
pub use binary::BinaryModel;
pub use blocks::Blocks;
pub use categorical::CategoricalModel;
pub use error::{Error, Result, check_finite, check_len, check_rows};
pub use finite::{Enumerable, FiniteModel};
pub use gradient::GradientModel;
pub use hybrid::{Hybrid, HybridModel};
pub use kernel::{AnnealBase, AnnealRuns, KernelState, LocalRule, NodeRuns};
pub use model::{EnergyModel, LogLinear, UnitOf};
pub use pairs::{PairGraph, TorusIndex, UniformTorus};
pub use rng::{ChainRng, Purpose, RngPosition, Seed, standard_normal, uniform};
pub use sampler::{Chain, ChainRecord, Sampler, Trainer};
pub use space::{
    Angles, Categories, ContinuousSpace, FiniteSpace, MAX_CATEGORIES, Reals, StateSpace,
    UniformSpace, UnitValue, validate_rows,
};
pub use state::{Bits, Domain, Spins};

/// Re-export of `rand_core`, so implementers name the same `Rng` trait.
pub use rand_core;
