//! # ebm-data: data sets in, models out
//!
//! This crate holds everything that touches files or data sets:
//!
//! - [`idx`]: the IDX format of MNIST and Fashion-MNIST, raw or gzipped,
//!   with typed [`Error::Format`](ebm_core::Error::Format) errors carrying
//!   the byte offset of every problem; [`idx::load_mnist_split`].
//! - [`binarize`]: threshold and stochastic binarisation into 0/1 rows, the
//!   latter reproducible per image from `Seed::stream(Purpose::DATA, k)`.
//! - [`generate`]: bars-and-stripes of any size and the procedurally drawn
//!   10×10 demo digits (no data is downloaded or shipped).
//! - [`msa`]: multiple sequence alignments (protein families) from FASTA /
//!   A2M as categorical rows over an [`msa::Alphabet`], similarity weights
//!   and seeded train/test splits.
//! - [`npy`]: 2-D NumPy `.npy` arrays (`u8`, `i8`, `f32`, `f64`) for exchange
//!   with Python.
//! - [`standardize`]: real-valued rows for Gaussian units (intensities,
//!   per-feature standardisation fitted on the training split).
//! - [`persist`]: RBMs, categorical RBMs, Boltzmann machines and Ising models as standard
//!   safetensors files with metadata ([`persist::SavedModel`]).
//! - [`read_capped`]: the workspace's one file reader (regular files only,
//!   a size cap before any allocation).
//! - [`write_atomic`]: the workspace's one atomic file writer (temporary file,
//!   fsync, rename), also used by `ebm-train`'s checkpoints.
//!
//! Data rows are flat `Vec<i8>` of 0/1 values (or `Vec<u8>` of categories for
//! alignments), row after row, the layout every trainer and sampler of the
//! workspace takes.
//!
//! Depends on `ebm-core`, `ebm-models` (for the model files), `flate2` (gzip)
//! and `safetensors`; never on samplers or trainers.
#![deny(missing_docs)]

mod atomic;
pub mod binarize;
pub mod generate;
pub mod idx;
pub mod msa;
pub mod npy;
pub mod persist;
pub mod standardize;

pub use atomic::{MAX_READ_BYTES, read_capped, write_atomic};
pub use generate::{Labelled, bars_and_stripes, demo_digits};
pub use idx::{Images, Labels, Split, load_mnist_split};
pub use npy::{NpyArray, NpyData};
pub use persist::SavedModel;
