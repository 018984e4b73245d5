//! `exact` and `log_z`: what `ebm exact` and `ebm logz` compute, by the
//! same calls.

use crate::convert::{self, V};
use crate::models::{AnyModel, any_model, spec_of, with_any};
use crate::{IntoPy, detached};
use ebm_core::{Beta, EnergyModel, FiniteModel, FiniteSpace, Result, Seed};
use ebm_models::rbm_ais::{data_marginals, rbm_ais};
use ebm_samplers::{Gibbs, SiteMoves};
use ebm_thermo::ais::{Ais, LogZEstimate, Schedule, Ti};
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

/// The CLI's `exact_if_cheap`: enumeration up to 2^24 states, an RBM's
/// smaller layer up to 20 units, Kaufman's formula for the periodic 2D
/// Ising lattice without a field.
fn exact_if_cheap(model: &AnyModel, beta: Beta) -> Option<f64> {
    match model {
        AnyModel::Ising(m) if m.n_units() > 24 => {
            match (m.lattice_dims(), m.boundary(), m.uniform_couplings()) {
                (Some([l, c]), Some(ebm_models::ising::Boundary::Periodic), Some((j, 0.0))) => {
                    let z = ebm_thermo::kaufman::kaufman_log_z(*l, *c, j, beta.value());
                    z.is_finite().then_some(z)
                }
                _ => None,
            }
        }
        AnyModel::Rbm(r) if r.n_visible().min(r.n_hidden()) <= 20 => r.exact_log_z(beta).ok(),
        m => with_any!(m, x => {
            let cheap = x.space().n_states(x.n_units()).is_some_and(|s| s <= 1 << 24);
            cheap.then(|| ebm_thermo::exact_log_z(x, beta).ok()).flatten()
        }),
    }
}

/// The CLI's generic `ebm logz` path: AIS or TI with block Gibbs.
fn generic<M>(
    model: &M,
    ti: bool,
    beta: Beta,
    n_betas: usize,
    n_runs: usize,
    seed: Seed,
) -> Result<LogZEstimate>
where
    M: FiniteModel,
    M::Space: SiteMoves<M>,
{
    let sampler = Gibbs::block();
    if ti {
        let intervals = n_betas.div_ceil(4).max(1) * 4;
        let ti = Ti { intervals, n_chains: n_runs, burn_in: 200, n_sweeps: 1000 };
        Ok(ti.log_z(model, &sampler, beta, seed)?.to_log_z_estimate(n_runs))
    } else {
        Ais::new(Schedule::Linear(n_betas), n_runs)?.log_z(model, &sampler, beta, seed)
    }
}

/// The fields of `ebm logz --json`.
#[allow(clippy::too_many_arguments)]
fn log_z_out(
    model: &AnyModel,
    spec: Option<String>,
    beta: Beta,
    ti: bool,
    n_betas: usize,
    n_runs: usize,
    seed: Seed,
    marginals: Option<Vec<f64>>,
) -> Result<V> {
    let t0 = std::time::Instant::now();
    let est = match model {
        // the RBM's own path: base-rate model, hidden units summed analytically
        AnyModel::Rbm(r) if !ti && beta == Beta::ONE => rbm_ais(
            r,
            marginals.as_deref(),
            &Schedule::StandardScaled(n_betas.max(3)),
            n_runs,
            seed,
        )?,
        m => with_any!(m, x => generic(x, ti, beta, n_betas, n_runs, seed)?),
    };
    let exact = exact_if_cheap(model, beta);
    Ok(V::D(vec![
        ("model", V::opt(spec, V::S)),
        ("beta", V::F(beta.value())),
        ("method", V::S(if ti { "ti" } else { "ais" }.into())),
        ("log_z", V::F(est.log_z)),
        ("std_err", V::F(est.std_err)),
        ("lower", V::F(est.lower)),
        ("upper", V::F(est.upper)),
        ("ess", V::F(est.ess)),
        ("n_runs", V::U(est.n_runs as u64)),
        ("exact_log_z", V::opt(exact, V::F)),
        ("seconds", V::F(t0.elapsed().as_secs_f64())),
    ]))
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
    let ti = match method {
        "ais" => false,
        "ti" => true,
        other => {
            return Err(PyValueError::new_err(format!(
                "method must be \"ais\" or \"ti\" (got {other:?})"
            )));
        }
    };
    if n_betas == 0 || n_runs == 0 {
        return Err(PyValueError::new_err("n_betas and n_runs must be at least 1"));
    }
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
    let out = detached(py, move |_| {
        log_z_out(&m, spec, beta, ti, n_betas, n_runs, Seed(seed), marginals)
    })?;
    Ok(out.into_py(py)?.unbind())
}

/// Adds the functions to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(exact, m)?)?;
    m.add_function(wrap_pyfunction!(log_z, m)?)?;
    Ok(())
}
