//! Model specs: `ising:16x16`, `ising:64`, `ising:8x8x8`, `ising:16x16:open`,
//! or a saved model file (`.safetensors`, written by `ebm train`).

use ebm_core::{Error, Result};
use ebm_data::SavedModel;
use ebm_models::boltzmann::BoltzmannMachine;
use ebm_models::ising::{Boundary, Ising};
use ebm_models::rbm::Rbm;
use std::path::Path;

/// A model named on the command line.
#[derive(Debug, Clone)]
pub enum Model {
    /// An Ising lattice or graph.
    Ising(Ising),
    /// A restricted Boltzmann machine (joint state [v, h]).
    Rbm(Rbm),
    /// A general Boltzmann machine.
    Boltzmann(BoltzmannMachine),
}

/// Runs `$body` with `$m` bound to the concrete model inside `$model`.
#[macro_export]
macro_rules! with_model {
    ($model:expr, $m:ident => $body:expr) => {
        match $model {
            $crate::spec::Model::Ising($m) => $body,
            $crate::spec::Model::Rbm($m) => $body,
            $crate::spec::Model::Boltzmann($m) => $body,
        }
    };
}

impl Model {
    /// The lattice shape for pictures: (rows, cols).
    pub fn picture_shape(&self, n_units: usize) -> (usize, usize) {
        match self {
            Model::Ising(m) => match m.lattice_dims() {
                Some([l]) => (1, *l),
                Some([l, c, ..]) => (*l, *c),
                _ => (1, n_units),
            },
            _ => (1, n_units),
        }
    }
}

/// Loads a saved model file.
pub fn load_file(path: &Path) -> Result<Model> {
    let (saved, _) = SavedModel::load(path)?;
    Ok(match saved {
        SavedModel::Rbm(m) => Model::Rbm(m),
        SavedModel::Boltzmann(m) => Model::Boltzmann(m),
        SavedModel::Ising(m) => Model::Ising(m),
    })
}

/// Parses `spec` (an Ising lattice spec, with coupling `j` and field `h`) or
/// loads it as a saved model file if it names one.
pub fn parse(spec: &str, j: f64, h: f64) -> Result<Model> {
    let bad = |reason: String| Error::InvalidSequence { what: "model spec", reason };
    if !spec.starts_with("ising:") && (spec.ends_with(".safetensors") || Path::new(spec).is_file())
    {
        return load_file(Path::new(spec));
    }
    let mut parts = spec.split(':');
    let kind = parts.next().unwrap_or_default();
    if kind != "ising" {
        return Err(bad(format!(
            "unknown model `{spec}` (expected ising:L, ising:LxM, ising:LxMxK, optionally :open, or a model file)"
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
