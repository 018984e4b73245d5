//! Model specs: `ising:16x16`, `ising:64`, `ising:8x8x8`, `ising:16x16:open`.

use ebm_core::{Error, Result};
use ebm_models::ising::{Boundary, Ising};

/// A model named on the command line.
#[derive(Debug, Clone)]
pub enum Model {
    /// An Ising lattice.
    Ising(Ising),
}

/// Parses `spec` (an Ising lattice spec) with coupling `j` and field `h`.
pub fn parse(spec: &str, j: f64, h: f64) -> Result<Model> {
    let bad = |reason: String| Error::InvalidSequence { what: "model spec", reason };
    let mut parts = spec.split(':');
    let kind = parts.next().unwrap_or_default();
    if kind != "ising" {
        return Err(bad(format!(
            "unknown model `{spec}` (expected ising:L, ising:LxM, ising:LxMxK, optionally :open)"
        )));
    }
    let dims_text = parts.next().ok_or_else(|| bad(format!("`{spec}` gives no lattice size")))?;
    let boundary = match parts.next() {
        None | Some("periodic") => Boundary::Periodic,
        Some("open") => Boundary::Open,
        Some(other) => return Err(bad(format!("unknown boundary `{other}` (periodic or open)"))),
    };
    if parts.next().is_some() {
        return Err(bad(format!("`{spec}` has too many `:` parts")));
    }
    let dims = dims_text
        .split('x')
        .map(|d| d.parse::<usize>().map_err(|_| bad(format!("`{d}` in `{spec}` is not a size"))))
        .collect::<Result<Vec<_>>>()?;
    Ok(Model::Ising(Ising::lattice(&dims, boundary, j, h)?))
}
