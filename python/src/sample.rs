//! `sample`: what `ebm sample` measures, by the same calls (`Run::record`
//! with the CLI's observation, `ebm_thermo::estimate` and the
//! block-jackknife `critical` observables), plus the states on request.

use crate::convert::V;
use crate::models::{any_model, spec_of, with_any};
use crate::{Cancel, IntoPy, detached};
use ebm_core::{Beta, EnergyModel, Error, FiniteModel, Result, Seed, UnitOf};
use ebm_models::boltzmann::BoltzmannMachine;
use ebm_models::ising::Ising;
use ebm_models::potts::Potts;
use ebm_models::rbm::Rbm;
use ebm_samplers::{
    AnySampler, ChainsConfig, ClusterMoves, Gibbs, Ladder, Metropolis, ParallelTempering,
    SiteMoves, SwendsenWang, Traces, Wolff,
};
use ebm_thermo::observables::{Critical, Samples, critical};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// What a sample records besides the energy (the CLI's `spec::Observed`).
pub(crate) trait Observed: EnergyModel {
    /// `|m|` (binary), the Potts order parameter (Potts).
    fn order(&self, x: &[UnitOf<Self>]) -> f64;
    /// m² of the (Potts: (q − 1)-component) magnetisation.
    fn magnetization_sq(&self, x: &[UnitOf<Self>]) -> f64 {
        self.order(x).powi(2)
    }
    /// The structure factor at the smallest wave vector (lattices; else 0).
    fn lowest_mode(&self, _x: &[UnitOf<Self>]) -> f64 {
        0.0
    }
    /// 2π/L on lattices.
    fn k_min(&self) -> Option<f64> {
        None
    }
    /// Whether the units are binary (`abs_magnetization` is then reported).
    fn is_binary(&self) -> bool;
    /// A unit's value as a float, for recorded states.
    fn unit_f64(u: UnitOf<Self>) -> f64;
}

macro_rules! binary_observed {
    ($($t:ty),*) => {$(
        impl Observed for $t {
            fn order(&self, x: &[i8]) -> f64 {
                (x.iter().map(|&v| f64::from(v)).sum::<f64>() / x.len().max(1) as f64).abs()
            }
            fn is_binary(&self) -> bool {
                true
            }
            fn unit_f64(u: i8) -> f64 {
                f64::from(u)
            }
        }
    )*};
}
binary_observed!(Rbm, BoltzmannMachine);

impl Observed for Ising {
    fn order(&self, x: &[i8]) -> f64 {
        self.abs_magnetization(x)
    }
    fn lowest_mode(&self, x: &[i8]) -> f64 {
        self.lattice_shape().map_or(0.0, |l| {
            let v: Vec<f64> = x.iter().map(|&s| f64::from(s)).collect();
            l.lowest_mode(&v)
        })
    }
    fn k_min(&self) -> Option<f64> {
        self.lattice_shape().map(|l| l.k_min())
    }
    fn is_binary(&self) -> bool {
        true
    }
    fn unit_f64(u: i8) -> f64 {
        f64::from(u)
    }
}

impl Observed for Potts {
    fn order(&self, x: &[u8]) -> f64 {
        self.order_parameter(x)
    }
    fn magnetization_sq(&self, x: &[u8]) -> f64 {
        let f = self.fractions(x);
        let q = f.len() as f64;
        if q < 2.0 {
            return 0.0;
        }
        ((q * f.iter().map(|v| v * v).sum::<f64>() - 1.0) / (q - 1.0)).max(0.0)
    }
    fn lowest_mode(&self, x: &[u8]) -> f64 {
        let (Some(l), Some(q)) = (self.lattice_shape(), self.space().uniform_q()) else {
            return 0.0;
        };
        let qf = q as f64;
        let mut v = vec![0.0; x.len()];
        let mut total = 0.0;
        for k in 0..q {
            for (vi, &xi) in v.iter_mut().zip(x) {
                *vi = f64::from(u8::from(usize::from(xi) == k)) - 1.0 / qf;
            }
            total += l.lowest_mode(&v);
        }
        total * qf / (qf - 1.0)
    }
    fn k_min(&self) -> Option<f64> {
        self.lattice_shape().map(|l| l.k_min())
    }
    fn is_binary(&self) -> bool {
        false
    }
    fn unit_f64(u: u8) -> f64 {
        f64::from(u)
    }
}

/// The options of one `sample` call (the CLI's flags).
#[derive(Clone)]
struct Options {
    spec: Option<String>,
    sampler_name: String,
    n_chains: usize,
    n_sweeps: usize,
    n_warmup: usize,
    n_replicas: usize,
    beta_min: Option<f64>,
    seed: u64,
    states_every: usize,
}

/// The sampler a name stands for (the CLI's `sample::sampler`); a tempering
/// ladder spans β·`min_fraction` to β.
fn sampler(name: &str, n_replicas: usize, min_fraction: f64) -> Result<(AnySampler, &'static str)> {
    Ok(match name {
        "gibbs" => (AnySampler::Gibbs(Gibbs::sequential()), "gibbs"),
        "block-gibbs" => (AnySampler::Gibbs(Gibbs::block()), "block-gibbs"),
        "metropolis" => (AnySampler::Metropolis(Metropolis::block()), "metropolis"),
        "metropolis-random" => {
            (AnySampler::Metropolis(Metropolis::random_scan()), "metropolis-random")
        }
        "tempering" => (
            AnySampler::TemperingGibbs(ParallelTempering::new(
                Gibbs::block(),
                Ladder::geometric(n_replicas, min_fraction)?,
            )),
            "tempering",
        ),
        "wolff" => (AnySampler::Wolff(Wolff::new()), "wolff"),
        "swendsen-wang" | "sw" => (AnySampler::SwendsenWang(SwendsenWang::new()), "swendsen-wang"),
        other => {
            return Err(Error::InvalidSequence {
                what: "sampler",
                reason: format!(
                    "`{other}` (gibbs, block-gibbs, metropolis, metropolis-random, tempering, wolff, swendsen-wang; houdayer and the XY samplers are command-line only for now)"
                ),
            });
        }
    })
}

/// β_min / β: `beta_min` in (0, β), default 0.3.
fn ladder_fraction(beta_min: Option<f64>, beta: Beta) -> Result<f64> {
    let Some(b) = beta_min else { return Ok(0.3) };
    if !(b > 0.0 && b < beta.value()) {
        return Err(Error::InvalidParameter { name: "beta_min", value: b, expected: "in (0, β)" });
    }
    Ok(b / beta.value())
}

/// The column of the order parameter.
const ORDER: usize = 6;

fn measured(m: ebm_thermo::observables::Measured) -> V {
    V::M(m.mean, m.std_err)
}

/// The per-chain observables (the CLI's `per_chain`).
fn per_chain(values: &[f64], n_chains: usize, k: usize, beta: f64, n: usize) -> V {
    let len = values.len() / n_chains.max(1);
    V::L(
        values
            .chunks_exact(len.max(1))
            .filter_map(|chain| {
                let s = Samples::new(chain, 1, k).ok()?;
                let c = critical(&s, beta, n, None);
                Some(V::D(vec![
                    ("energy_per_unit", measured(c.energy_per_unit)),
                    ("order_parameter", measured(s.jackknife(|v| v[ORDER]))),
                    ("magnetization_sq", measured(c.magnetization_sq)),
                    ("binder", measured(c.binder)),
                    ("susceptibility", measured(c.susceptibility)),
                    ("heat_capacity_per_unit", measured(c.heat_capacity_per_unit)),
                ]))
            })
            .collect(),
    )
}

fn column_estimate(traces: &Traces, k: usize) -> ebm_thermo::Estimate {
    let chains = traces.chains(k);
    let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
    ebm_thermo::estimate(&refs)
}

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

/// `ebm sample`'s `measure`, plus states and traces.
fn measure<M>(o: &Options, model: &M, beta: Beta, cancel: &Cancel) -> Result<V>
where
    M: FiniteModel + Observed,
    M::Space: SiteMoves<M> + ClusterMoves<M>,
    UnitOf<M>: FromF64,
{
    let replicas = if o.sampler_name == "tempering" { o.n_replicas } else { 1 };
    let n = model.n_units();
    if o.n_chains.saturating_mul(replicas).saturating_mul(n) > 1 << 28 {
        return Err(Error::InvalidSequence {
            what: "n_chains",
            reason: format!(
                "{} chains of {n} units exceed the 2^28 units a run may hold",
                o.n_chains
            ),
        });
    }
    let (s, name) = sampler(&o.sampler_name, o.n_replicas, ladder_fraction(o.beta_min, beta)?)?;
    let t0 = std::time::Instant::now();
    let every = o.states_every;
    let n_cols = ORDER + 1 + if every > 0 { n } else { 0 };
    let observe = |m: &M, x: &[UnitOf<M>], out: &mut [f64]| {
        cancel.check_unwind();
        let e = m.energy(x) / x.len() as f64;
        let m2 = m.magnetization_sq(x);
        out[0] = e;
        out[1] = m2.sqrt();
        out[2] = m2;
        out[3] = m2 * m2;
        out[4] = e * e;
        out[5] = m.lowest_mode(x);
        out[ORDER] = m.order(x);
        if every > 0 {
            for (o, &u) in out[ORDER + 1..].iter_mut().zip(x) {
                *o = M::unit_f64(u);
            }
        }
    };
    let config = ChainsConfig {
        n_chains: o.n_chains,
        n_warmup: o.n_warmup,
        n_sweeps: o.n_sweeps,
        thin: 1,
        seed: Seed(o.seed),
    };
    let progress = |_: u64| cancel.check_unwind();
    let (full, running) = ebm_samplers::Run::new(model, &s, beta)
        .config(config)
        .progress(&progress)
        .record(n_cols, observe)?;
    // the CLI's seven columns, for every statistic; the states apart
    let (traces, states) = if every > 0 {
        let mut values = Vec::with_capacity(full.values.len() / n_cols * (ORDER + 1));
        let mut st = Vec::new();
        let mut kept = 0;
        for (r, row) in full.values.chunks_exact(n_cols).enumerate() {
            values.extend_from_slice(&row[..=ORDER]);
            if (r % full.n_samples.max(1)) % every == 0 {
                st.extend_from_slice(&row[ORDER + 1..]);
                kept += 1;
            }
        }
        let per_chain_kept = kept / full.n_chains.max(1);
        let t = Traces { n_observables: ORDER + 1, values, ..full };
        (t, Some(UnitOf::<M>::states(st, vec![o.n_chains, per_chain_kept, n])))
    } else {
        (full, None)
    };
    let est = |k| column_estimate(&traces, k);
    let (e, m) = (est(0), est(ORDER));
    let crit: Option<(Critical, usize)> =
        Samples::new(&traces.values, traces.n_chains, traces.n_observables)
            .ok()
            .map(|s| (critical(&s, beta.value(), n, model.k_min()), s.block_len()));
    let cluster = running.chains.first().and_then(|c| c.cluster());
    let jk = |f: fn(&Critical) -> ebm_thermo::observables::Measured| {
        V::opt(crit.as_ref(), |(c, _)| measured(f(c)))
    };
    let swap_rates = running.chains.first().and_then(|c| c.tempering()).map(|t| t.swap_rates());
    let finals: Vec<UnitOf<M>> =
        running.chains.iter().flat_map(|c| ebm_core::Chain::state(c).iter().copied()).collect();
    let trace_of = |k: usize| {
        let v: Vec<f64> = traces.chains(k).into_iter().flatten().collect();
        V::ArrF(v, vec![traces.n_chains, traces.n_samples])
    };
    let mut out = vec![
        ("model", V::opt(o.spec.clone(), V::S)),
        ("beta", V::F(beta.value())),
        ("sampler", V::S(name.into())),
        ("n_chains", V::U(o.n_chains as u64)),
        ("n_sweeps", V::U(o.n_sweeps as u64)),
        ("n_warmup", V::U(o.n_warmup as u64)),
        ("energy_per_unit", V::M(e.mean, e.std_err)),
    ];
    if model.is_binary() {
        out.push(("abs_magnetization", V::M(m.mean, m.std_err)));
    }
    out.extend([
        ("order_parameter", V::M(m.mean, m.std_err)),
        ("magnetization_sq", jk(|c| c.magnetization_sq)),
        ("magnetization_4", jk(|c| c.magnetization_4)),
        ("binder", jk(|c| c.binder)),
        ("susceptibility", jk(|c| c.susceptibility)),
        ("susceptibility_full", jk(|c| c.susceptibility_full)),
        ("heat_capacity_per_unit", jk(|c| c.heat_capacity_per_unit)),
        (
            "correlation_length",
            V::opt(crit.as_ref().and_then(|(c, _)| c.correlation_length), measured),
        ),
        ("jackknife_block", V::opt(crit.as_ref(), |(_, b)| V::U(*b as u64))),
        ("mean_cluster_size", V::opt(cluster.and_then(|c| c.mean_cluster_size()), V::F)),
        (
            "clusters_per_sweep",
            V::opt(cluster.map(|c| c.clusters_per_sweep()).filter(|&k| k > 0), V::U),
        ),
        ("acceptance_rate", V::opt(traces.acceptance_rate(), V::F)),
        ("tau_int", V::F(e.tau_int)),
        ("ess", V::F(e.ess)),
        ("r_hat", V::F(e.r_hat)),
        ("swap_rates", V::opt(swap_rates, |r| V::L(r.into_iter().map(V::F).collect()))),
        (
            "per_chain",
            per_chain(&traces.values, traces.n_chains, traces.n_observables, beta.value(), n),
        ),
        ("seconds", V::F(t0.elapsed().as_secs_f64())),
        ("production_seconds", V::F(traces.seconds)),
        ("sweep_seconds", V::F(traces.sweep_seconds)),
        (
            "ns_per_attempt",
            V::F(
                traces.sweep_seconds * 1e9
                    / (o.n_chains as f64 * o.n_sweeps as f64 * n as f64).max(1.0),
            ),
        ),
        (
            "path",
            V::S(
                match running.chains.first() {
                    Some(ebm_samplers::AnyChain::Site(c)) if c.runs_model_kernel() => {
                        "model kernel"
                    }
                    Some(ebm_samplers::AnyChain::Cluster(_)) => "cluster",
                    _ => "generic",
                }
                .into(),
            ),
        ),
        ("final_states", UnitOf::<M>::final_states(finals, vec![o.n_chains, n])),
        (
            "traces",
            V::D(vec![("energy_per_unit", trace_of(0)), ("order_parameter", trace_of(ORDER))]),
        ),
        ("states", states.unwrap_or(V::None)),
    ]);
    Ok(V::D(out))
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
    let o = Options {
        spec: spec_of(model),
        sampler_name: sampler.to_string(),
        n_chains,
        n_sweeps,
        n_warmup,
        n_replicas,
        beta_min,
        seed,
        states_every,
    };
    let out = detached(py, move |cancel| with_any!(&m, x => measure(&o, x, beta, cancel)))?;
    Ok(out.into_py(py)?.unbind())
}

/// Adds the function to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sample, m)?)?;
    Ok(())
}
