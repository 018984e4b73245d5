//! `sample`: what `ebm sample` measures, by the same call
//! (`ebm_run::sample::measure`), plus the chains' final states, the traces
//! and, on request, the states along the way.

use crate::convert::{RunResult, V};

use crate::models::{any_model, spec_of, with_any};
use crate::{Cancel, IntoPy, detached};
use ebm_core::{Beta, Chain, FiniteModel, Result, UnitOf};
use ebm_run::Observed;
use ebm_run::sample::{ORDER, Options, SampleOut};
use ebm_samplers::{ClusterMoves, SiteMoves};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// Recorded states back in the units' type.
trait FromF64: Sized {
    fn states(values: Vec<f64>, shape: Vec<usize>) -> V;
    fn final_states(values: Vec<Self>, shape: Vec<usize>) -> V;
}
impl FromF64 for i8 {
    fn states(values: Vec<f64>, shape: Vec<usize>) -> V {
        V::ArrI8(values.into_iter().map(|x| x as i8).collect(), shape)
    }
    fn final_states(values: Vec<i8>, shape: Vec<usize>) -> V {
        V::ArrI8(values, shape)
    }
}
impl FromF64 for u8 {
    fn states(values: Vec<f64>, shape: Vec<usize>) -> V {
        V::ArrU8(values.into_iter().map(|x| x as u8).collect(), shape)
    }
    fn final_states(values: Vec<u8>, shape: Vec<usize>) -> V {
        V::ArrU8(values, shape)
    }
}

/// `ebm sample`'s measurement (`spec` names the model in it, as the CLI's
/// `--model`), plus states and traces.
fn measure<M>(
    spec: Option<String>,
    o: &Options,
    model: &M,
    beta: Beta,
    cancel: &Cancel,
) -> Result<V>
where
    M: FiniteModel + Observed,
    M::Space: SiteMoves<M> + ClusterMoves<M>,
    UnitOf<M>: FromF64 + Into<f64>,
{
    let progress = |_: u64| cancel.check_unwind();
    let run = ebm_run::sample::measure(spec.as_deref().unwrap_or(""), model, beta, o, &progress)?;
    let n = model.n_units();
    let finals: Vec<UnitOf<M>> =
        run.running.chains.iter().flat_map(|c| c.state().iter().copied()).collect();
    let traces = &run.traces;
    let trace_of = |k: usize| {
        let v: Vec<f64> = traces.chains(k).into_iter().flatten().collect();
        V::ArrF(v, vec![traces.n_chains, traces.n_samples])
    };
    let states =
        run.states.map(|(st, per_chain)| UnitOf::<M>::states(st, vec![o.n_chains, per_chain, n]));
    let extras = vec![
        ("model", V::opt(spec, V::S)),
        ("final_states", UnitOf::<M>::final_states(finals, vec![o.n_chains, n])),
        (
            "traces",
            V::D(vec![("energy_per_unit", trace_of(0)), ("order_parameter", trace_of(ORDER))]),
        ),
        ("states", states.unwrap_or(V::None)),
    ];
    Ok(V::result(RunResult::Sample(Box::new(run.out)), &SampleOut::OPTIONAL_FIELDS, extras))
}

/// Markov-chain sampling with error bars (the CLI's `ebm sample`).
#[pyfunction]
#[pyo3(signature = (model, beta, sampler = "block-gibbs", n_chains = 4, n_sweeps = 2000, n_warmup = 200, n_replicas = 8, beta_min = None, seed = 0, states_every = 0))]
#[allow(clippy::too_many_arguments)]
fn sample(
    py: Python<'_>,
    model: &Bound<'_, PyAny>,
    beta: f64,
    sampler: &str,
    n_chains: usize,
    n_sweeps: usize,
    n_warmup: usize,
    n_replicas: usize,
    beta_min: Option<f64>,
    seed: u64,
    states_every: usize,
) -> PyResult<Py<PyAny>> {
    let m = any_model(model)?;
    let beta = Beta::new(beta).py()?;
    if n_chains == 0 || n_sweeps == 0 {
        return Err(PyValueError::new_err("n_chains and n_sweeps must be at least 1"));
    }
    if n_replicas < 2 {
        return Err(PyValueError::new_err("n_replicas must be at least 2"));
    }
    let spec = spec_of(model);
    let o = Options {
        sampler: sampler.to_string(),
        n_chains,
        n_sweeps,
        n_warmup,
        n_replicas,
        beta_min,
        seed,
        states_every,
    };
    let out = detached(py, move |cancel| with_any!(&m, x => measure(spec, &o, x, beta, cancel)))?;
    Ok(out.into_py(py)?.unbind())
}

/// Adds the function to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sample, m)?)?;
    Ok(())
}
