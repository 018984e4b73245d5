//! # ebm: energy-based models whose statistical mechanics composes
//!
//! The facade users depend on. It re-exports the workspace's crates under short
//! names and gathers the everyday items in [`prelude`]:
//!
//! | module | crate | holds |
//! |---|---|---|
//! | [`core`] | `ebm-core` | the traits, state spaces, `Beta`, states, blocks, seeds, `Error` |
//! | [`models`] | `ebm-models` | Ising and Potts lattices and graphs, the XY model, Boltzmann machines, RBMs (binary, categorical, Gaussian–Bernoulli) |
//! | [`samplers`] | `ebm-samplers` | Gibbs, Metropolis, MALA, HMC, ULA, parallel tempering, annealing, chains |
//! | [`thermo`] | `ebm-thermo` | exact enumeration, Kaufman/Onsager, AIS, TI, likelihoods, MCMC diagnostics |
//! | [`train`] | `ebm-train` | CD-k, persistent CD, optimizers, checkpoints |
//! | [`data`] | `ebm-data` | MNIST (IDX), binarisation, standardisation, bars and stripes, `.npy`, model files |
//! | [`testkit`] | `ebm-testkit` | conformance checks for your own models and samplers, the TV test |
//!
//! ```
//! use ebm::prelude::*;
//!
//! let model = Ising::square(4, 4, Boundary::Periodic, 1.0, 0.0)?;
//! let exact = ebm::thermo::exact(&model, Beta::new(0.3)?)?;
//! assert!((exact.log_z - 12.785523325714).abs() < 1e-9);
//! # Ok::<(), ebm::core::Error>(())
//! ```
//!
//! Depends on every library crate of the workspace and nothing else.
#![deny(missing_docs)]

pub use ebm_core as core;
pub use ebm_data as data;
pub use ebm_models as models;
pub use ebm_samplers as samplers;
pub use ebm_testkit as testkit;
pub use ebm_thermo as thermo;
pub use ebm_train as train;

/// The items most programs use.
pub mod prelude {
    pub use ebm_core::{
        Beta, BinaryModel, Bits, Blocks, CategoricalModel, Categories, Chain, ChainRng, Domain,
        EnergyModel, Error, FiniteModel, FiniteSpace, LocalRule, LogLinear, Purpose, Result,
        Sampler, Seed, Spins, StateSpace, Trainer, UnitOf,
    };
    pub use ebm_models::boltzmann::BoltzmannMachine;
    pub use ebm_models::ising::{Boundary, Ising, UniformIsing};
    pub use ebm_models::potts::Potts;
    pub use ebm_models::rbm::Rbm;
    pub use ebm_samplers::{
        Anneal, AnySampler, ChainsConfig, Clamp, Gibbs, Init, Ladder, Metropolis,
        ParallelTempering, Run, WithClamp,
    };
    pub use ebm_thermo::{Ais, LogZEstimate, Schedule, Thermo, Ti, estimate, exact};
    pub use ebm_train::{
        Batches, Cd, Checkpoint, ExactAscent, Learning, LearningRate, Momentum, Optimizer, Pcd,
    };
    // real units and angles: the gradient family, its samplers, the XY model
    pub use ebm_core::{Angles, ContinuousSpace, GradientModel, Reals, UniformSpace};
    pub use ebm_models::xy::{Xy, XyMoves};
    pub use ebm_samplers::{Hmc, Mala, Ula};
    // real and binary units together: the hybrid family, the GB-RBM
    pub use ebm_core::{Hybrid, HybridModel};
    pub use ebm_models::gbrbm::GaussianRbm;
}
