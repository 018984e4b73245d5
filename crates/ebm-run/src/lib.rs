//! # ebm-run: the runs behind `ebm` and `import ebm`
//!
//! What a user names on the command line or in Python, and the measurements
//! both front ends make of it, as library calls: model specs
//! ([`spec::parse`]: `ising:16x16`, `potts:3:32x32:open`,
//! `glass:16x16:gauss:disorder=3`, or a saved model file) and the
//! observables `ebm sample` records ([`spec::Observed`]); data specs
//! ([`data::load`]: `default`, `bars-and-stripes:N`, `mnist:DIR`,
//! `fashion:DIR`) with their binarisation ([`binarize::Binarize`]); the
//! sampling run with error bars ([`sample::measure`]) and the ln Z estimate
//! ([`logz::log_z`]). Each returns a serialisable result: the CLI prints it
//! as JSON, the Python package turns the same values into dicts, so the two
//! agree bit for bit by construction.
//!
//! Depends on `ebm-core`, `ebm-models`, `ebm-samplers`, `ebm-thermo`,
//! `ebm-data` and `serde`; the `ebm` binary (`ebm-cli`), the Python
//! package (`python/`) and the fuzz targets (`fuzz/`) depend on it.
#![deny(missing_docs)]

pub mod binarize;
pub mod data;
pub mod logz;
pub mod sample;
pub mod spec;

pub use binarize::Binarize;
pub use sample::{MAX_CHAIN_UNITS, Measured, check_chain_units};
pub use spec::{Model, Observation, Observed};
