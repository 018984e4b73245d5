//! # ebm-parallel: how a sweep uses the threads
//!
//! Two pieces of scheduling shared by the models' lattice kernels and the
//! samplers, neither of which changes a result (which thread runs a piece
//! of work never changes its random numbers):
//!
//! - [`with_workers_awake`]: while fewer chains than threads run, the spare
//!   rayon workers poll for work instead of sleeping, so a sweep that hands
//!   work to them does not pay a wake-up (`awake.rs`).
//! - [`run_tasks`]: runs tasks `0..n` of one sweep, each exactly once, on
//!   the calling thread and whichever workers are free. Called by the thread
//!   that [`with_workers_awake`] runs its operation on, the polling workers
//!   take the tasks straight from a shared slot (one cache-line hand-over
//!   instead of a rayon fork and join); anywhere else it is a rayon
//!   parallel loop (`crew.rs`); [`run_each`] hands task i the i-th of a
//!   slice of work items.
//!
//! Depends on `rayon` only.
#![deny(missing_docs)]

mod awake;
mod crew;

pub use awake::with_workers_awake;
pub use crew::{run_each, run_tasks};
