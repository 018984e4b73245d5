//! # ebm-train: learning
//!
//! Trainers move a log-linear model's equilibrium toward data along
//! `∂ ln p(v)/∂θ = β(⟨φ⟩_data − ⟨φ⟩_model)`, generic over every `LogLinear`
//! model (binary or categorical units) and every `Sampler`:
//!
//! - [`Cd`] (CD-k): negative chains start at the batch and run k sweeps.
//! - [`Pcd`]: persistent chains survive across steps; with a
//!   parallel-tempering sampler this is tempered persistent training.
//! - [`ExactAscent`]: exact expectations by enumeration, the reference.
//! - [`RbmCd`]: CD-k specialised to the RBM (sparse products, no redundant
//!   conditionals), with the generic CD's expected gradient.
//!
//! `Cd` and `Pcd` with a plain block-Gibbs sampler run a model's batched
//! kernel when it has one: the RBM's (`rbm`) and the Gaussian–Bernoulli
//! RBM's (`gbrbm`: five f32 GEMMs per CD-1 step, an in-place fused update),
//! each the generic estimator at the cost of the work it needs.
//!
//! The data term is `E[φ | v]` in closed form when the model has one (the
//! RBM's hidden means), otherwise sampled with the visible units clamped (a BM
//! with hidden units). [`optim`] holds SGD with momentum and weight decay,
//! Adam and schedules; [`centring`] the centred RBM gradient (Melchior,
//! Fischer & Wiskott 2016); [`batch`] seeded mini-batches; [`checkpoint`] atomic,
//! bit-exact resumable checkpoints of whole chains (tempering replicas
//! included), for any unit type. The user's own loop drives training.
//!
//! Depends on `ebm-core`, `ebm-models` (the RBM trainer), `ebm-samplers`, `ebm-thermo`, `ebm-data` (its atomic
//! file writer) and `rayon`.
#![deny(missing_docs)]

pub mod batch;
pub mod centring;
pub mod checkpoint;
mod gbrbm;
pub mod monitor;
pub mod optim;
pub mod rbm;
mod trainer;

pub use batch::{Batches, epoch_order};
pub use centring::Centring;
pub use checkpoint::{Checkpoint, write_atomic};
pub use monitor::{RbmMonitors, pseudo_log_likelihood, rbm_monitors};
pub use optim::{LearningRate, Momentum, Optimizer, OptimizerState, clip_norm};
pub use rbm::{ROW_CHUNK, RbmCd, RbmCdState, RbmStepReport, Reconstruction};
pub use trainer::{CHAIN_CHUNK, Cd, ExactAscent, Learning, Pcd, StepReport, TrainState, Workspace};
