//! `ebm sample`: Markov chains with error bars.

use super::{Measured, print_json};
use crate::cli::{Common, ModelArgs, SamplerName};
use crate::spec::{self, Model, Observed};
use ebm_core::{Beta, Chain, FiniteModel, Result, Seed, UnitOf};
use ebm_samplers::{
    AnySampler, ChainsConfig, Gibbs, Ladder, Metropolis, ParallelTempering, SiteMoves,
    SwendsenWang, Wolff,
};
use ebm_thermo::observables::{Critical, Samples, critical};
use serde::Serialize;
use std::path::PathBuf;

pub struct Options {
    pub model: ModelArgs,
    pub beta: f64,
    pub sampler: SamplerName,
    pub n_chains: usize,
    pub n_sweeps: usize,
    pub n_warmup: usize,
    pub n_replicas: usize,
    /// The hottest rung of a tempering ladder (default 0.3 β).
    pub beta_min: Option<f64>,
    pub png: Option<PathBuf>,
    pub common: Common,
}

#[derive(Serialize)]
struct Out {
    model: String,
    beta: f64,
    sampler: String,
    n_chains: usize,
    n_sweeps: usize,
    n_warmup: usize,
    energy_per_unit: Measured,
    /// |m| for binary models (absent for Potts).
    #[serde(skip_serializing_if = "Option::is_none")]
    abs_magnetization: Option<Measured>,
    /// |m| for binary models, the Potts order parameter for Potts.
    order_parameter: Measured,
    /// ⟨m²⟩ (Potts: of the (q − 1)-component order parameter), and the
    /// rest of the finite-size-scaling observables, block-jackknife errors
    /// (absent with fewer than 2 recorded sweeps).
    #[serde(skip_serializing_if = "Option::is_none")]
    magnetization_sq: Option<Measured>,
    #[serde(skip_serializing_if = "Option::is_none")]
    magnetization_4: Option<Measured>,
    /// U₄ = 1 − ⟨m⁴⟩ / 3⟨m²⟩².
    #[serde(skip_serializing_if = "Option::is_none")]
    binder: Option<Measured>,
    /// χ = βN(⟨m²⟩ − ⟨|m|⟩²).
    #[serde(skip_serializing_if = "Option::is_none")]
    susceptibility: Option<Measured>,
    /// χ' = βN⟨m²⟩.
    #[serde(skip_serializing_if = "Option::is_none")]
    susceptibility_full: Option<Measured>,
    /// C/N = β²N Var(E/N).
    #[serde(skip_serializing_if = "Option::is_none")]
    heat_capacity_per_unit: Option<Measured>,
    /// Second-moment correlation length (lattices only).
    #[serde(skip_serializing_if = "Option::is_none")]
    correlation_length: Option<Measured>,
    /// Jackknife block length, in sweeps.
    #[serde(skip_serializing_if = "Option::is_none")]
    jackknife_block: Option<usize>,
    /// Wolff: the mean cluster size and clusters per sweep (chain 0);
    /// Swendsen–Wang: the mean (number-average) cluster size.
    #[serde(skip_serializing_if = "Option::is_none")]
    mean_cluster_size: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    clusters_per_sweep: Option<u64>,
    acceptance_rate: Option<f64>,
    tau_int: f64,
    ess: f64,
    r_hat: f64,
    swap_rates: Option<Vec<f64>>,
    /// The same observables chain by chain (block-jackknife errors within
    /// each chain): chains that disagree beyond their errors have not mixed.
    per_chain: Vec<PerChain>,
    /// Wall time of the whole command.
    seconds: f64,
    /// Wall time of the production sweeps (observations included).
    production_seconds: f64,
    /// Time inside production sweeps, summed over chains.
    sweep_seconds: f64,
    /// `sweep_seconds` per single-unit update attempt (per chain).
    ns_per_attempt: f64,
    /// The sweep path: "model kernel", "cluster" or "generic".
    path: &'static str,
}

/// One chain's share of [`Out`].
#[derive(Serialize)]
struct PerChain {
    energy_per_unit: Measured,
    order_parameter: Measured,
    magnetization_sq: Measured,
    binder: Measured,
    susceptibility: Measured,
    heat_capacity_per_unit: Measured,
}

/// The per-chain observables of `values` (chain-major, `k` columns: those
/// of `CRITICAL_COLUMNS`, then the order parameter); empty if the chains
/// are too short for errors.
fn per_chain(values: &[f64], n_chains: usize, k: usize, beta: f64, n: usize) -> Vec<PerChain> {
    let len = values.len() / n_chains.max(1);
    let m = |v: ebm_thermo::observables::Measured| Measured { mean: v.mean, std_err: v.std_err };
    values
        .chunks_exact(len.max(1))
        .filter_map(|chain| {
            let s = Samples::new(chain, 1, k).ok()?;
            let c = critical(&s, beta, n, None);
            Some(PerChain {
                energy_per_unit: m(c.energy_per_unit),
                order_parameter: m(s.jackknife(|v| v[ORDER])),
                magnetization_sq: m(c.magnetization_sq),
                binder: m(c.binder),
                susceptibility: m(c.susceptibility),
                heat_capacity_per_unit: m(c.heat_capacity_per_unit),
            })
        })
        .collect()
}

/// The sampler a name stands for; a tempering ladder spans β·`min_fraction`
/// to β.
pub fn sampler(name_of: SamplerName, n_replicas: usize, min_fraction: f64) -> Result<AnySampler> {
    Ok(match name_of {
        SamplerName::Gibbs => AnySampler::Gibbs(Gibbs::sequential()),
        SamplerName::BlockGibbs => AnySampler::Gibbs(Gibbs::block()),
        // block scan: the model's kernel (checkerboard) where it has one
        SamplerName::Metropolis => AnySampler::Metropolis(Metropolis::block()),
        SamplerName::MetropolisRandom => AnySampler::Metropolis(Metropolis::random_scan()),
        SamplerName::Tempering => AnySampler::TemperingGibbs(ParallelTempering::new(
            Gibbs::block(),
            Ladder::geometric(n_replicas, min_fraction)?,
        )),
        SamplerName::Wolff => AnySampler::Wolff(Wolff::new()),
        SamplerName::SwendsenWang => AnySampler::SwendsenWang(SwendsenWang::new()),
        SamplerName::Houdayer => {
            return Err(ebm_core::Error::Unsupported {
                what: "--sampler houdayer",
                reason: "it samples two replicas of an Ising model (ising:… or glass:…) with `ebm sample` or `ebm scan`".into(),
            });
        }
        SamplerName::Overrelaxation | SamplerName::Hmc => {
            return Err(ebm_core::Error::InvalidSequence {
                what: "sampler",
                reason: format!(
                    "`{}` moves continuous spins (--model xy:…), not binary or categorical units",
                    name(name_of)
                ),
            });
        }
    })
}

pub fn name(s: SamplerName) -> &'static str {
    match s {
        SamplerName::Gibbs => "gibbs",
        SamplerName::BlockGibbs => "block-gibbs",
        SamplerName::Metropolis => "metropolis",
        SamplerName::MetropolisRandom => "metropolis-random",
        SamplerName::Tempering => "tempering",
        SamplerName::Wolff => "wolff",
        SamplerName::SwendsenWang => "swendsen-wang",
        SamplerName::Houdayer => "houdayer",
        SamplerName::Overrelaxation => "overrelaxation",
        SamplerName::Hmc => "hmc",
    }
}

pub fn run(o: &Options) -> Result<()> {
    let beta = Beta::new(o.beta)?;
    if o.model.model.starts_with("xy:") {
        return super::xy::run(o, beta);
    }
    let parsed = spec::parse(&o.model.model, o.model.coupling, o.model.field)?;
    if o.sampler == SamplerName::Houdayer {
        return super::glass::run(o, &parsed, beta);
    }
    crate::with_model!(&parsed, model => run_on(o, &parsed, model, beta))
}

/// β_min / β for a tempering ladder: `--beta-min` in (0, β), default 0.3.
pub fn ladder_fraction(beta_min: Option<f64>, beta: Beta) -> Result<f64> {
    let Some(b) = beta_min else { return Ok(0.3) };
    if !(b > 0.0 && b < beta.value()) {
        return Err(ebm_core::Error::InvalidParameter {
            name: "--beta-min",
            value: b,
            expected: "in (0, β)",
        });
    }
    Ok(b / beta.value())
}

/// The JSON object `ebm sample --json` prints, without printing it (what
/// `ebm scan` records per point). Binary and Potts models only.
pub fn measure_json(o: &Options) -> Result<serde_json::Value> {
    let beta = Beta::new(o.beta)?;
    let parsed = spec::parse(&o.model.model, o.model.coupling, o.model.field)?;
    let out = if o.sampler == SamplerName::Houdayer {
        serde_json::to_value(super::glass::measure(o, &parsed, beta)?)
    } else {
        serde_json::to_value(
            crate::with_model!(&parsed, model => measure(o, &parsed, model, beta))?,
        )
    };
    out.map_err(|e| ebm_core::Error::Format {
        what: "sample output".into(),
        offset: 0,
        reason: e.to_string(),
    })
}

fn run_on<M>(o: &Options, parsed: &Model, model: &M, beta: Beta) -> Result<()>
where
    M: FiniteModel + Observed,
    M::Space: SiteMoves<M> + ebm_samplers::ClusterMoves<M>,
{
    let out = measure(o, parsed, model, beta)?;
    if o.common.json {
        return print_json(&out);
    }
    let (e, m) = (&out.energy_per_unit, &out.order_parameter);
    println!(
        "{} at β = {}, {} sampler, {} chains × {} sweeps (+{} warm-up), {:.2} s",
        out.model, out.beta, out.sampler, out.n_chains, out.n_sweeps, out.n_warmup, out.seconds
    );
    println!(
        "  energy per unit   {:>10.6} ± {:.6}   (τ_int {:.1} sweeps, ESS {:.0}, R̂ {:.4})",
        e.mean, e.std_err, out.tau_int, out.ess, out.r_hat
    );
    let label = if model.is_binary() { "|magnetization|" } else { "order parameter" };
    println!("  {label:<17} {:>10.6} ± {:.6}", m.mean, m.std_err);
    let show = |name: &str, v: &Option<Measured>| {
        if let Some(v) = v {
            println!("  {name:<17} {:>10.6} ± {:.6}", v.mean, v.std_err);
        }
    };
    show("<m²>", &out.magnetization_sq);
    show("Binder U4", &out.binder);
    show("susceptibility", &out.susceptibility);
    show("heat capacity/N", &out.heat_capacity_per_unit);
    show("corr. length", &out.correlation_length);
    if let Some(s) = out.mean_cluster_size {
        println!("  mean cluster size {s:>10.1}");
    }
    println!(
        "  sweeps            {:>10.3} s   ({:.3} ns per attempt, {} path)",
        out.sweep_seconds, out.ns_per_attempt, out.path
    );
    if let Some(a) = out.acceptance_rate {
        println!("  acceptance rate   {a:>10.4}");
    }
    if let Some(r) = &out.swap_rates {
        println!(
            "  swap rates        {}",
            r.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(" ")
        );
    }
    if let Some(p) = &o.png {
        println!("  final configuration of chain 0 written to {}", p.display());
    }
    Ok(())
}

fn measure<M>(o: &Options, parsed: &Model, model: &M, beta: Beta) -> Result<Out>
where
    M: FiniteModel + Observed,
    M::Space: SiteMoves<M> + ebm_samplers::ClusterMoves<M>,
{
    let replicas = if o.sampler == SamplerName::Tempering { o.n_replicas } else { 1 };
    super::check_chain_units("--n-chains", o.n_chains.saturating_mul(replicas), model.n_units())?;
    let s = sampler(o.sampler, o.n_replicas, ladder_fraction(o.beta_min, beta)?)?;
    let t0 = std::time::Instant::now();
    let (traces, running) = run_with_progress(model, &s, beta, o)?;
    let est = |k| column_estimate(&traces, k);
    let (e, m) = (est(0), est(ORDER));
    let crit: Option<(Critical, usize)> =
        Samples::new(&traces.values, traces.n_chains, traces.n_observables)
            .ok()
            .map(|s| (critical(&s, beta.value(), model.n_units(), model.k_min()), s.block_len()));
    let cluster = running.chains.first().and_then(|c| c.cluster());
    let jk = |f: fn(&Critical) -> ebm_thermo::observables::Measured| {
        crit.as_ref().map(|(c, _)| {
            let v = f(c);
            Measured { mean: v.mean, std_err: v.std_err }
        })
    };
    let swap_rates = running.chains.first().and_then(|c| c.tempering()).map(|t| t.swap_rates());
    if let Some(path) = &o.png {
        let (rows, cols) = parsed.picture_shape(model.n_units());
        let scale = (640 / cols.max(rows)).clamp(1, 32) as u32;
        let colours = model.colours(running.chains[0].state());
        crate::picture::configuration(path, &colours, rows, cols, scale)?;
    }
    let out = Out {
        model: o.model.model.clone(),
        beta: beta.value(),
        sampler: name(o.sampler).into(),
        n_chains: o.n_chains,
        n_sweeps: o.n_sweeps,
        n_warmup: o.n_warmup,
        energy_per_unit: Measured { mean: e.mean, std_err: e.std_err },
        abs_magnetization: model
            .is_binary()
            .then_some(Measured { mean: m.mean, std_err: m.std_err }),
        order_parameter: Measured { mean: m.mean, std_err: m.std_err },
        magnetization_sq: jk(|c| c.magnetization_sq),
        magnetization_4: jk(|c| c.magnetization_4),
        binder: jk(|c| c.binder),
        susceptibility: jk(|c| c.susceptibility),
        susceptibility_full: jk(|c| c.susceptibility_full),
        heat_capacity_per_unit: jk(|c| c.heat_capacity_per_unit),
        correlation_length: crit.as_ref().and_then(|(c, _)| {
            c.correlation_length.map(|v| Measured { mean: v.mean, std_err: v.std_err })
        }),
        jackknife_block: crit.as_ref().map(|(_, b)| *b),
        mean_cluster_size: cluster.and_then(|c| c.mean_cluster_size()),
        clusters_per_sweep: cluster.map(|c| c.clusters_per_sweep()).filter(|&k| k > 0),
        acceptance_rate: traces.acceptance_rate(),
        tau_int: e.tau_int,
        ess: e.ess,
        r_hat: e.r_hat,
        swap_rates,
        per_chain: per_chain(
            &traces.values,
            traces.n_chains,
            traces.n_observables,
            beta.value(),
            model.n_units(),
        ),
        seconds: t0.elapsed().as_secs_f64(),
        production_seconds: traces.seconds,
        sweep_seconds: traces.sweep_seconds,
        ns_per_attempt: traces.sweep_seconds * 1e9
            / (o.n_chains as f64 * o.n_sweeps as f64 * model.n_units() as f64).max(1.0),
        path: match running.chains.first() {
            Some(ebm_samplers::AnyChain::Site(c)) if c.runs_model_kernel() => "model kernel",
            Some(ebm_samplers::AnyChain::Cluster(_)) => "cluster",
            _ => "generic",
        },
    };
    Ok(out)
}

/// The column of the order parameter in the recorded samples.
const ORDER: usize = 6;

/// A run's traces and its chains.
type Sampled<U> = (ebm_samplers::Traces, ebm_samplers::Running<ebm_samplers::AnyChain<U>>);

/// The run of a binary or Potts model, recording the columns of
/// `ebm_thermo::observables::CRITICAL_COLUMNS`, then the order parameter.
fn run_with_progress<M>(
    model: &M,
    s: &AnySampler,
    beta: Beta,
    o: &Options,
) -> Result<Sampled<UnitOf<M>>>
where
    M: FiniteModel + Observed,
    M::Space: SiteMoves<M> + ebm_samplers::ClusterMoves<M>,
{
    let observe = |m: &M, x: &[UnitOf<M>], out: &mut [f64]| {
        let e = m.energy(x) / x.len() as f64;
        let m2 = m.magnetization_sq(x);
        out[0] = e;
        out[1] = m2.sqrt();
        out[2] = m2;
        out[3] = m2 * m2;
        out[4] = e * e;
        out[5] = m.lowest_mode(x);
        out[ORDER] = m.order(x);
    };
    record_with_progress(model, s, beta, o, ORDER + 1, observe)
}

/// `Run::record` of `n_observables` columns with `o`'s chains, warm-up and
/// seed, and a progress bar over every chain's sweeps (warm-up included);
/// the library checks the warm-up and resets counters after it.
pub fn record_with_progress<M, S, F>(
    model: &M,
    s: &S,
    beta: Beta,
    o: &Options,
    n_observables: usize,
    observe: F,
) -> Result<(ebm_samplers::Traces, ebm_samplers::Running<S::Chain>)>
where
    M: ebm_core::EnergyModel + ?Sized,
    S: ebm_core::Sampler<M>,
    F: Fn(&M, &[UnitOf<M>], &mut [f64]) + Sync,
{
    let config = ChainsConfig {
        n_chains: o.n_chains,
        n_warmup: o.n_warmup,
        n_sweeps: o.n_sweeps,
        thin: 1,
        seed: Seed(o.common.seed),
    };
    let total = (config.n_chains * (config.n_warmup + config.n_sweeps)) as u64;
    let bar = crate::progress::bar(total, "sampling", o.common.quiet);
    let inc = |k: u64| bar.inc(k);
    let result = ebm_samplers::Run::new(model, s, beta)
        .config(config)
        .progress(&inc)
        .record(n_observables, observe);
    bar.finish_and_clear();
    result
}

/// Mean, error, τ_int, ESS and R̂ of recorded column `k` over the chains.
pub fn column_estimate(traces: &ebm_samplers::Traces, k: usize) -> ebm_thermo::Estimate {
    let chains = traces.chains(k);
    let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
    ebm_thermo::estimate(&refs)
}
