//! `exact` and `log_z`: what `ebm exact` and `ebm logz` compute, by the
//! same calls (`log_z` is `ebm_run::logz::log_z`).

use crate::convert::{self, RunResult, V};
use crate::models::{AnyModel, any_model, spec_of, with_any};
use crate::{IntoPy, detached};
use ebm_core::{Beta, EnergyModel, Result};
use ebm_models::rbm_ais::data_marginals;
use ebm_run::logz::Method;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// The largest number of units whose moments `exact` computes by default
/// (`ebm_thermo::MAX_DISTRIBUTION_UNITS`).
const MAX_MOMENT_UNITS: usize = ebm_thermo::MAX_DISTRIBUTION_UNITS;

/// The fields of `ebm exact --json`, then the extras (energy variance, the
/// lowest energy, and the moments of binary units).
fn exact_out(model: &AnyModel, beta: Beta, moments: bool, spec: Option<String>) -> Result<V> {
    let t = with_any!(model, m => ebm_thermo::exact(m, beta)?);
    let moments = match model {
        AnyModel::Potts(_) => V::None,
        _ if !moments => V::None,
        m => with_any!(m, x => {
            match x {
                x if EnergyModel::n_units(x) <= MAX_MOMENT_UNITS => binary_moments(x, beta)?,
                _ => V::None,
            }
        }),
    };
    Ok(V::D(vec![
        ("model", V::opt(spec, V::S)),
        ("beta", V::F(t.beta.value())),
        ("n_units", V::U(t.n_units as u64)),
        ("n_states", V::U(t.n_states)),
        ("log_z", V::F(t.log_z)),
        ("free_energy", V::F(t.free_energy)),
        ("mean_energy", V::F(t.mean_energy)),
        ("entropy", V::F(t.entropy)),
        ("heat_capacity", V::F(t.heat_capacity)),
        ("free_energy_per_unit", V::F(t.free_energy_per_unit())),
        ("mean_energy_per_unit", V::F(t.mean_energy_per_unit())),
        ("entropy_per_unit", V::F(t.entropy_per_unit())),
        ("heat_capacity_per_unit", V::F(t.heat_capacity_per_unit())),
        ("energy_variance", V::F(t.energy_variance)),
        ("min_energy", V::F(t.min_energy)),
        ("moments", moments),
    ]))
}

/// Dispatch helper: the moments of a binary model; categorical models have none.
trait MaybeMoments {
    fn moments(&self, beta: Beta) -> Result<V>;
}

macro_rules! binary_moments_impl {
    ($($t:ty),*) => {$(
        impl MaybeMoments for $t {
            fn moments(&self, beta: Beta) -> Result<V> {
                let m = ebm_thermo::exact_moments(self, beta)?;
                let n = m.mean.len();
                Ok(V::D(vec![("mean", V::ArrF(m.mean, vec![n])), ("pair", V::ArrF(m.pair, vec![n, n]))]))
            }
        }
    )*};
}
binary_moments_impl!(
    ebm_models::ising::Ising,
    ebm_models::boltzmann::BoltzmannMachine,
    ebm_models::rbm::Rbm
);

impl MaybeMoments for ebm_models::potts::Potts {
    fn moments(&self, _beta: Beta) -> Result<V> {
        Ok(V::None)
    }
}

fn binary_moments<M: MaybeMoments>(m: &M, beta: Beta) -> Result<V> {
    m.moments(beta)
}

/// Exact thermodynamics by enumeration (the CLI's `ebm exact`).
#[pyfunction]
#[pyo3(signature = (model, beta, moments = true))]
fn exact(
    py: Python<'_>,
    model: &Bound<'_, PyAny>,
    beta: f64,
    moments: bool,
) -> PyResult<Py<PyAny>> {
    let m = any_model(model)?;
    let spec = spec_of(model);
    let beta = Beta::new(beta).py()?;
    let out = detached(py, move |_| exact_out(&m, beta, moments, spec))?;
    Ok(out.into_py(py)?.unbind())
}

/// ln Z by annealed importance sampling or thermodynamic integration (the
/// CLI's `ebm logz`).
#[pyfunction]
#[pyo3(signature = (model, beta, method = "ais", n_betas = 1000, n_runs = 64, seed = 0, data = None))]
#[allow(clippy::too_many_arguments)]
fn log_z(
    py: Python<'_>,
    model: &Bound<'_, PyAny>,
    beta: f64,
    method: &str,
    n_betas: usize,
    n_runs: usize,
    seed: u64,
    data: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let m = any_model(model)?;
    let spec = spec_of(model);
    let beta = Beta::new(beta).py()?;
    let method = match method {
        "ais" => Method::Ais,
        "ti" => Method::Ti,
        other => {
            return Err(PyValueError::new_err(format!(
                "method must be \"ais\" or \"ti\" (got {other:?})"
            )));
        }
    };
    let marginals = match (data, &m) {
        (None, _) => None,
        (Some(d), AnyModel::Rbm(r)) => {
            let (x, _, cols, _) = convert::rows::<i8>(d, "data", "int8")?;
            ebm_core::check_len("data width (n_visible)", r.n_visible(), cols).py()?;
            Some(data_marginals(&x, cols).py()?)
        }
        (Some(_), _) => {
            return Err(PyValueError::new_err(
                "data (the base rates of the AIS path) applies to an Rbm only",
            ));
        }
    };
    let o = ebm_run::logz::Options { method, n_betas, n_runs, seed };
    let out = detached(py, move |_| {
        let name = spec.as_deref().unwrap_or("");
        let out =
            with_any!(&m, x => ebm_run::logz::log_z(name, x, beta, &o, marginals.as_deref()))?;
        Ok(V::result(RunResult::LogZ(out), &[], vec![("model", V::opt(spec, V::S))]))
    })?;
    Ok(out.into_py(py)?.unbind())
}

/// Adds the functions to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(exact, m)?)?;
    m.add_function(wrap_pyfunction!(log_z, m)?)?;
    Ok(())
}
