//! The one error type of the workspace.

use std::fmt;

/// Everything that can go wrong in ebm, with the offending values attached.
///
/// Library code validates at construction and at I/O and returns one of these;
/// hot functions (`energy`, `flip_delta`, `sweep`) stay infallible.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A slice, matrix or data set has the wrong size.
    ShapeMismatch {
        /// What was being checked, e.g. `"state"` or `"weights"`.
        what: &'static str,
        /// The size that was required.
        expected: usize,
        /// The size that was given.
        found: usize,
    },
    /// A scalar parameter is outside its domain (β ≤ 0, a negative count, …).
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// The offending value.
        value: f64,
        /// What the parameter must satisfy, e.g. `"finite and > 0"`.
        expected: &'static str,
    },
    /// A value that must be finite is NaN or infinite.
    NonFinite {
        /// What was non-finite, e.g. `"weights"` or `"gradient"`.
        what: &'static str,
        /// Index (parameter, unit or training step) where it was found.
        index: usize,
    },
    /// Training produced a non-finite gradient or parameter and stopped.
    Diverged {
        /// `"gradient"` or `"parameters"`.
        what: &'static str,
        /// The training step (0-based) whose update failed.
        step: u64,
        /// The first non-finite component.
        index: usize,
    },
    /// Exact enumeration was asked for a model with too many units.
    TooManyUnits {
        /// The model's number of units.
        n_units: usize,
        /// The largest number supported by the call.
        max: usize,
    },
    /// Exact enumeration was asked for a model with too many states
    /// (Π q_i above the call's cap).
    TooManyStates {
        /// ln Π q_i, the log of the model's number of states.
        ln_states: f64,
        /// The largest number of states supported by the call.
        max: u64,
    },
    /// A unit value is not in the model's domain (e.g. a 0 in a ±1 state).
    InvalidUnitValue {
        /// Position of the unit.
        index: usize,
        /// The value found (an `i8` or `u8` unit value, exactly).
        value: f64,
    },
    /// A grouping of units into blocks is not a partition, or a block is not an
    /// independent set of the model's interaction graph.
    InvalidBlocks {
        /// Why the blocks were rejected.
        reason: String,
    },
    /// A sequence that must be sorted, non-empty or otherwise well formed is not
    /// (an inverse-temperature ladder, an annealing schedule, a mask).
    InvalidSequence {
        /// The sequence's name.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A file or byte stream is malformed.
    Format {
        /// What was being read, e.g. `"IDX images"`.
        what: String,
        /// Byte offset at which the problem was detected.
        offset: u64,
        /// Why the input was rejected.
        reason: String,
    },
    /// An operating-system I/O error (the message of `std::io::Error`).
    Io {
        /// The path involved, if any.
        path: String,
        /// The error message.
        message: String,
    },
    /// A long run stopped on a signal (SIGINT, SIGTERM) after finishing the
    /// step in flight; what was saved is that of the last finished epoch.
    Interrupted {
        /// The epoch (1-based) that was running.
        epoch: usize,
    },
    /// The model lacks the structure an algorithm needs (a cluster sampler
    /// on a model with no pair form, or with couplings it cannot use).
    Unsupported {
        /// The algorithm or operation, e.g. `"Wolff cluster moves"`.
        what: &'static str,
        /// Why it cannot run on this model.
        reason: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ShapeMismatch { what, expected, found } => {
                write!(f, "shape mismatch for {what}: expected {expected}, found {found}")
            }
            Error::InvalidParameter { name, value, expected } => {
                write!(f, "invalid {name} = {value}: must be {expected}")
            }
            Error::NonFinite { what, index } => {
                write!(f, "non-finite value in {what} at index {index}")
            }
            Error::Diverged { what, step, index } => {
                write!(f, "training diverged at step {step}: non-finite {what} component {index}")
            }
            Error::TooManyUnits { n_units, max } => {
                write!(f, "too many units: {n_units} (at most {max} supported here)")
            }
            Error::TooManyStates { ln_states, max } => write!(
                f,
                "too many states: e^{ln_states:.1} ≈ 2^{:.1} (at most {max} supported here)",
                ln_states / std::f64::consts::LN_2
            ),
            Error::InvalidUnitValue { index, value } => {
                write!(f, "unit {index} has value {value}, outside the model's domain")
            }
            Error::InvalidBlocks { reason } => write!(f, "invalid blocks: {reason}"),
            Error::InvalidSequence { what, reason } => write!(f, "invalid {what}: {reason}"),
            Error::Format { what, offset, reason } => {
                write!(f, "malformed {what} at byte {offset}: {reason}")
            }
            Error::Io { path, message } => write!(f, "I/O error on {path}: {message}"),
            Error::Unsupported { what, reason } => write!(f, "{what} cannot run here: {reason}"),
            Error::Interrupted { epoch } => write!(
                f,
                "interrupted by a signal in epoch {epoch}: the files on disk are those of the last finished epoch"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for `std::result::Result<T, ebm_core::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Checks that every value of `values` is finite.
///
/// Returns [`Error::NonFinite`] naming `what` and the first bad index.
pub fn check_finite(what: &'static str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(Error::NonFinite { what, index }),
        None => Ok(()),
    }
}

/// The number of rows of a non-empty slice of `len` values in whole rows of
/// `width`, or [`Error::ShapeMismatch`] naming `what` (expected: the nearest
/// whole, non-empty number of rows) when `width` is 0, `len` is 0 or `width`
/// does not divide it. The one row check of every batch, data set and
/// starting-state argument.
pub fn check_rows(what: &'static str, len: usize, width: usize) -> Result<usize> {
    if width == 0 || len == 0 || !len.is_multiple_of(width) {
        let w = width.max(1);
        return Err(Error::ShapeMismatch { what, expected: w * (len / w).max(1), found: len });
    }
    Ok(len / width)
}

/// Checks that `found == expected`, naming `what` in the error.
pub fn check_len(what: &'static str, expected: usize, found: usize) -> Result<()> {
    if expected == found { Ok(()) } else { Err(Error::ShapeMismatch { what, expected, found }) }
}
