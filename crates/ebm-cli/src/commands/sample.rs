//! `ebm sample`: Markov chains with error bars.

use super::{Measured, print_json};
use crate::cli::{Common, ModelArgs, SamplerName};
use crate::spec::{self, Model, Observed};
use ebm_core::{Beta, Chain, FiniteModel, Result, Seed, UnitOf};
pub use ebm_run::sample::column_estimate;
use ebm_samplers::{AnySampler, ChainsConfig, SiteMoves};
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

/// The sampler a name stands for (`ebm_run::sample::sampler`); a tempering
/// ladder spans β·`min_fraction` to β. Houdayer's move and the XY samplers
/// run by their own commands.
pub fn sampler(name_of: SamplerName, n_replicas: usize, min_fraction: f64) -> Result<AnySampler> {
    match name_of {
        SamplerName::Houdayer => Err(ebm_core::Error::Unsupported {
            what: "--sampler houdayer",
            reason: "it samples two replicas of an Ising model (ising:… or glass:…) with `ebm sample` or `ebm scan`".into(),
        }),
        SamplerName::Overrelaxation | SamplerName::Hmc => Err(ebm_core::Error::InvalidSequence {
            what: "sampler",
            reason: format!(
                "`{}` moves continuous spins (--model xy:…), not binary or categorical units",
                name(name_of)
            ),
        }),
        s => ebm_run::sample::sampler(name(s), n_replicas, min_fraction),
    }
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

/// β_min / β for a tempering ladder (`ebm_run::sample::ladder_fraction`),
/// its error naming the flag `--beta-min`.
pub fn ladder_fraction(beta_min: Option<f64>, beta: Beta) -> Result<f64> {
    ebm_run::sample::ladder_fraction(beta_min, beta).map_err(|e| match e {
        ebm_core::Error::InvalidParameter { value, expected, .. } => {
            ebm_core::Error::InvalidParameter { name: "--beta-min", value, expected }
        }
        other => other,
    })
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
    UnitOf<M>: Into<f64>,
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

fn measure<M>(
    o: &Options,
    parsed: &Model,
    model: &M,
    beta: Beta,
) -> Result<ebm_run::sample::SampleOut>
where
    M: FiniteModel + Observed,
    M::Space: SiteMoves<M> + ebm_samplers::ClusterMoves<M>,
    UnitOf<M>: Into<f64>,
{
    // the checks whose messages name the flags, before the library's own
    let replicas = if o.sampler == SamplerName::Tempering { o.n_replicas } else { 1 };
    super::check_chain_units("--n-chains", o.n_chains.saturating_mul(replicas), model.n_units())?;
    ladder_fraction(o.beta_min, beta)?;
    sampler(o.sampler, o.n_replicas, 0.3)?;
    let options = ebm_run::sample::Options {
        sampler: name(o.sampler).into(),
        n_chains: o.n_chains,
        n_sweeps: o.n_sweeps,
        n_warmup: o.n_warmup,
        n_replicas: o.n_replicas,
        beta_min: o.beta_min,
        seed: o.common.seed,
        states_every: 0,
    };
    let total = (o.n_chains * (o.n_warmup + o.n_sweeps)) as u64;
    let bar = crate::progress::bar(total, "sampling", o.common.quiet);
    let inc = |k: u64| bar.inc(k);
    let run = ebm_run::sample::measure(&o.model.model, model, beta, &options, &inc);
    bar.finish_and_clear();
    let run = run?;
    if let Some(path) = &o.png {
        let (rows, cols) = parsed.picture_shape(model.n_units());
        let scale = (640 / cols.max(rows)).clamp(1, 32) as u32;
        let colours = model.colours(run.running.chains[0].state());
        crate::picture::configuration(path, &colours, rows, cols, scale)?;
    }
    Ok(run.out)
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
