//! The sampling run of `ebm sample` and `ebm.sample`: Markov chains of a
//! binary or categorical model with error bars on the energy, the order
//! parameter and the finite-size-scaling observables, chain by chain and
//! pooled.

use crate::spec::Observed;
use ebm_core::{Beta, Error, FiniteModel, Result, Seed, UnitOf};
use ebm_samplers::{
    AnyChain, AnySampler, ChainsConfig, ClusterMoves, Gibbs, Ladder, Metropolis, ParallelTempering,
    Running, SiteMoves, SwendsenWang, Traces, Wolff,
};
use ebm_thermo::observables::{Critical, Samples, critical, critical_row};
use serde::Serialize;

/// A mean with its error bar.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Measured {
    /// The mean.
    pub mean: f64,
    /// Its standard error.
    pub std_err: f64,
}

impl From<ebm_thermo::observables::Measured> for Measured {
    fn from(v: ebm_thermo::observables::Measured) -> Self {
        Measured { mean: v.mean, std_err: v.std_err }
    }
}

impl From<&ebm_thermo::Estimate> for Measured {
    fn from(e: &ebm_thermo::Estimate) -> Self {
        Measured { mean: e.mean, std_err: e.std_err }
    }
}

/// The most units all chains of one run may hold together (2^28: 2 GiB of
/// f64 units), checked before any chain is made.
pub const MAX_CHAIN_UNITS: usize = 1 << 28;

/// An error when `n_chains` chains of `n_units` units exceed
/// [`MAX_CHAIN_UNITS`], naming the argument `what`.
pub fn check_chain_units(what: &'static str, n_chains: usize, n_units: usize) -> Result<()> {
    if n_chains.saturating_mul(n_units) > MAX_CHAIN_UNITS {
        return Err(Error::InvalidSequence {
            what,
            reason: format!(
                "{n_chains} chains of {n_units} units exceed the {MAX_CHAIN_UNITS} units a run may hold: use fewer"
            ),
        });
    }
    Ok(())
}

/// The names [`sampler`] takes.
pub const SAMPLERS: [&str; 7] = [
    "gibbs",
    "block-gibbs",
    "metropolis",
    "metropolis-random",
    "tempering",
    "wolff",
    "swendsen-wang",
];

/// The sampler a name of [`SAMPLERS`] stands for; a tempering ladder of
/// `n_replicas` rungs spans β·`min_fraction` to β.
pub fn sampler(name: &str, n_replicas: usize, min_fraction: f64) -> Result<AnySampler> {
    Ok(match name {
        "gibbs" => AnySampler::Gibbs(Gibbs::sequential()),
        "block-gibbs" => AnySampler::Gibbs(Gibbs::block()),
        // block scan: the model's kernel (checkerboard) where it has one
        "metropolis" => AnySampler::Metropolis(Metropolis::block()),
        "metropolis-random" => AnySampler::Metropolis(Metropolis::random_scan()),
        "tempering" => AnySampler::TemperingGibbs(ParallelTempering::new(
            Gibbs::block(),
            Ladder::geometric(n_replicas, min_fraction)?,
        )),
        "wolff" => AnySampler::Wolff(Wolff::new()),
        "swendsen-wang" | "sw" => AnySampler::SwendsenWang(SwendsenWang::new()),
        other => {
            return Err(Error::InvalidSequence {
                what: "sampler",
                reason: format!(
                    "`{other}` (expected one of {}; houdayer and the continuous-spin samplers run from `ebm sample` only)",
                    SAMPLERS.join(", ")
                ),
            });
        }
    })
}

/// β_min / β for a tempering ladder: `beta_min` in (0, β), default 0.3 β.
pub fn ladder_fraction(beta_min: Option<f64>, beta: Beta) -> Result<f64> {
    let Some(b) = beta_min else { return Ok(0.3) };
    if !(b > 0.0 && b < beta.value()) {
        return Err(Error::InvalidParameter { name: "beta_min", value: b, expected: "in (0, β)" });
    }
    Ok(b / beta.value())
}

/// What one run is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// A name of [`SAMPLERS`].
    pub sampler: String,
    /// Independent chains.
    pub n_chains: usize,
    /// Recorded sweeps per chain.
    pub n_sweeps: usize,
    /// Warm-up sweeps per chain (not recorded).
    pub n_warmup: usize,
    /// Rungs of a tempering ladder.
    pub n_replicas: usize,
    /// The hottest rung of a tempering ladder (default 0.3 β).
    pub beta_min: Option<f64>,
    /// The seed every chain's stream derives from.
    pub seed: u64,
    /// Also keep the full state every this many recorded sweeps (0: never).
    pub states_every: usize,
}

/// The result of a run: what `ebm sample --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct SampleOut {
    /// The model spec.
    pub model: String,
    /// The inverse temperature.
    pub beta: f64,
    /// The sampler's name.
    pub sampler: String,
    /// Chains.
    pub n_chains: usize,
    /// Recorded sweeps per chain.
    pub n_sweeps: usize,
    /// Warm-up sweeps per chain.
    pub n_warmup: usize,
    /// E/N.
    pub energy_per_unit: Measured,
    /// |m| for binary models (absent for Potts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abs_magnetization: Option<Measured>,
    /// |m| for binary models, the Potts order parameter for Potts.
    pub order_parameter: Measured,
    /// ⟨m²⟩ (Potts: of the (q − 1)-component order parameter), and the
    /// rest of the finite-size-scaling observables, block-jackknife errors
    /// (absent with fewer than 2 recorded sweeps).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub magnetization_sq: Option<Measured>,
    /// ⟨m⁴⟩.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub magnetization_4: Option<Measured>,
    /// U₄ = 1 − ⟨m⁴⟩ / 3⟨m²⟩².
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binder: Option<Measured>,
    /// χ = βN(⟨m²⟩ − ⟨|m|⟩²).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub susceptibility: Option<Measured>,
    /// χ' = βN⟨m²⟩.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub susceptibility_full: Option<Measured>,
    /// C/N = β²N Var(E/N).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heat_capacity_per_unit: Option<Measured>,
    /// Second-moment correlation length (lattices only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_length: Option<Measured>,
    /// Jackknife block length, in sweeps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jackknife_block: Option<usize>,
    /// Wolff: the mean cluster size and clusters per sweep (chain 0);
    /// Swendsen–Wang: the mean (number-average) cluster size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_cluster_size: Option<f64>,
    /// Wolff's clusters per sweep (chain 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clusters_per_sweep: Option<u64>,
    /// Accepted / attempted moves (Metropolis).
    pub acceptance_rate: Option<f64>,
    /// τ_int of E/N, in sweeps.
    pub tau_int: f64,
    /// Effective sample size of E/N.
    pub ess: f64,
    /// Split-R̂ of E/N.
    pub r_hat: f64,
    /// Tempering: the swap rate of each neighbouring pair of rungs.
    pub swap_rates: Option<Vec<f64>>,
    /// The same observables chain by chain (block-jackknife errors within
    /// each chain): chains that disagree beyond their errors have not mixed.
    pub per_chain: Vec<PerChain>,
    /// Wall time of the whole run.
    pub seconds: f64,
    /// Wall time of the production sweeps (observations included).
    pub production_seconds: f64,
    /// Time inside production sweeps, summed over chains.
    pub sweep_seconds: f64,
    /// `sweep_seconds` per single-unit update attempt (per chain).
    pub ns_per_attempt: f64,
    /// The sweep path: "model kernel", "cluster" or "generic".
    pub path: &'static str,
}

impl SampleOut {
    /// The fields serialisation leaves out when they have no value (those
    /// with `skip_serializing_if` but `abs_magnetization`, which categorical
    /// units never have): a front end that shows every field fills these in
    /// as "none". The test below fails when the struct and this list part.
    pub const OPTIONAL_FIELDS: [&'static str; 10] = [
        "magnetization_sq",
        "magnetization_4",
        "binder",
        "susceptibility",
        "susceptibility_full",
        "heat_capacity_per_unit",
        "correlation_length",
        "jackknife_block",
        "mean_cluster_size",
        "clusters_per_sweep",
    ];
}

/// One chain's share of [`SampleOut`].
#[derive(Debug, Clone, Serialize)]
pub struct PerChain {
    /// E/N.
    pub energy_per_unit: Measured,
    /// The order parameter.
    pub order_parameter: Measured,
    /// ⟨m²⟩.
    pub magnetization_sq: Measured,
    /// U₄.
    pub binder: Measured,
    /// χ.
    pub susceptibility: Measured,
    /// C/N.
    pub heat_capacity_per_unit: Measured,
}

/// A run: its result, the recorded traces (the columns of
/// `ebm_thermo::observables::CRITICAL_COLUMNS`, then the order parameter at
/// [`ORDER`]), the chains where they stopped, and the kept states.
pub struct Sampled<U: ebm_core::UnitValue> {
    /// What `ebm sample --json` prints.
    pub out: SampleOut,
    /// The recorded observables.
    pub traces: Traces,
    /// The chains after the last sweep.
    pub running: Running<AnyChain<U>>,
    /// With [`Options::states_every`] > 0: the kept states, row-major
    /// (chain, kept sample, unit), and the number kept per chain.
    pub states: Option<(Vec<f64>, usize)>,
}

/// The column of the order parameter in the recorded samples.
pub const ORDER: usize = 6;

/// Runs `o.n_chains` chains of `model` at `beta` (`spec` names the model in
/// the result) and measures; `progress` is told of every chain's sweeps
/// (warm-up included: `n_chains · (n_warmup + n_sweeps)` in all).
///
/// Errors: an unknown sampler, a bad ladder, too many chain units, a
/// warm-up the sampler refuses, a model the sampler does not take.
pub fn measure<M>(
    spec: &str,
    model: &M,
    beta: Beta,
    o: &Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Sampled<UnitOf<M>>>
where
    M: FiniteModel + Observed,
    M::Space: SiteMoves<M> + ClusterMoves<M>,
    UnitOf<M>: Into<f64>,
{
    let replicas = if o.sampler == "tempering" { o.n_replicas } else { 1 };
    let n = model.n_units();
    check_chain_units("n_chains", o.n_chains.saturating_mul(replicas), n)?;
    let s = sampler(&o.sampler, o.n_replicas, ladder_fraction(o.beta_min, beta)?)?;
    let t0 = std::time::Instant::now();
    let every = o.states_every;
    let n_cols = ORDER + 1 + if every > 0 { n } else { 0 };
    let observe = |m: &M, x: &[UnitOf<M>], out: &mut [f64]| {
        let o = m.observe(x);
        out[..ORDER].copy_from_slice(&critical_row(
            o.energy / x.len() as f64,
            o.magnetization_sq,
            o.lowest_mode,
        ));
        out[ORDER] = o.order;
        if every > 0 {
            for (o, &u) in out[ORDER + 1..].iter_mut().zip(x) {
                *o = u.into();
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
    let (full, running) = ebm_samplers::Run::new(model, &s, beta)
        .config(config)
        .progress(progress)
        .record(n_cols, observe)?;
    let (traces, states) = if every > 0 { split_states(full, every) } else { (full, None) };
    let out = summary(spec, model, beta, o, &traces, &running, t0);
    Ok(Sampled { out, traces, running, states })
}

/// The observable columns of `full` apart from the states recorded after
/// them, keeping every `every`-th state of each chain.
fn split_states(full: Traces, every: usize) -> (Traces, Option<(Vec<f64>, usize)>) {
    let n_cols = full.n_observables;
    let mut values = Vec::with_capacity(full.values.len() / n_cols * (ORDER + 1));
    let mut states = Vec::new();
    let mut kept = 0;
    for (r, row) in full.values.chunks_exact(n_cols).enumerate() {
        values.extend_from_slice(&row[..=ORDER]);
        if (r % full.n_samples.max(1)).is_multiple_of(every) {
            states.extend_from_slice(&row[ORDER + 1..]);
            kept += 1;
        }
    }
    let per_chain = kept / full.n_chains.max(1);
    (Traces { n_observables: ORDER + 1, values, ..full }, Some((states, per_chain)))
}

/// The estimates of a run's traces.
fn summary<M>(
    spec: &str,
    model: &M,
    beta: Beta,
    o: &Options,
    traces: &Traces,
    running: &Running<AnyChain<UnitOf<M>>>,
    t0: std::time::Instant,
) -> SampleOut
where
    M: FiniteModel + Observed,
{
    let n = model.n_units();
    let est = |k| column_estimate(traces, k);
    let (e, m) = (est(0), est(ORDER));
    let crit: Option<(Critical, usize)> =
        Samples::new(&traces.values, traces.n_chains, traces.n_observables)
            .ok()
            .map(|s| (critical(&s, beta.value(), n, model.k_min()), s.block_len()));
    let cluster = running.chains.first().and_then(|c| c.cluster());
    let jk = |f: fn(&Critical) -> ebm_thermo::observables::Measured| {
        crit.as_ref().map(|(c, _)| Measured::from(f(c)))
    };
    SampleOut {
        model: spec.to_string(),
        beta: beta.value(),
        sampler: if o.sampler == "sw" { "swendsen-wang".into() } else { o.sampler.clone() },
        n_chains: o.n_chains,
        n_sweeps: o.n_sweeps,
        n_warmup: o.n_warmup,
        energy_per_unit: Measured::from(&e),
        abs_magnetization: model.is_binary().then(|| Measured::from(&m)),
        order_parameter: Measured::from(&m),
        magnetization_sq: jk(|c| c.magnetization_sq),
        magnetization_4: jk(|c| c.magnetization_4),
        binder: jk(|c| c.binder),
        susceptibility: jk(|c| c.susceptibility),
        susceptibility_full: jk(|c| c.susceptibility_full),
        heat_capacity_per_unit: jk(|c| c.heat_capacity_per_unit),
        correlation_length: crit
            .as_ref()
            .and_then(|(c, _)| c.correlation_length.map(Measured::from)),
        jackknife_block: crit.as_ref().map(|(_, b)| *b),
        mean_cluster_size: cluster.and_then(|c| c.mean_cluster_size()),
        clusters_per_sweep: cluster.map(|c| c.clusters_per_sweep()).filter(|&k| k > 0),
        acceptance_rate: traces.acceptance_rate(),
        tau_int: e.tau_int,
        ess: e.ess,
        r_hat: e.r_hat,
        swap_rates: running.chains.first().and_then(|c| c.tempering()).map(|t| t.swap_rates()),
        per_chain: per_chain(traces, beta.value(), n),
        seconds: t0.elapsed().as_secs_f64(),
        production_seconds: traces.seconds,
        sweep_seconds: traces.sweep_seconds,
        ns_per_attempt: traces.sweep_seconds * 1e9
            / (o.n_chains as f64 * o.n_sweeps as f64 * n as f64).max(1.0),
        path: match running.chains.first() {
            Some(AnyChain::Site(c)) if c.runs_model_kernel() => "model kernel",
            Some(AnyChain::Cluster(_)) => "cluster",
            _ => "generic",
        },
    }
}

/// The per-chain observables of `traces` (chain-major, the columns of
/// `CRITICAL_COLUMNS`, then the order parameter); empty if the chains are
/// too short for errors.
fn per_chain(traces: &Traces, beta: f64, n: usize) -> Vec<PerChain> {
    let (values, k) = (&traces.values, traces.n_observables);
    let len = values.len() / traces.n_chains.max(1);
    values
        .chunks_exact(len.max(1))
        .filter_map(|chain| {
            let s = Samples::new(chain, 1, k).ok()?;
            let c = critical(&s, beta, n, None);
            Some(PerChain {
                energy_per_unit: c.energy_per_unit.into(),
                order_parameter: s.jackknife(|v| v[ORDER]).into(),
                magnetization_sq: c.magnetization_sq.into(),
                binder: c.binder.into(),
                susceptibility: c.susceptibility.into(),
                heat_capacity_per_unit: c.heat_capacity_per_unit.into(),
            })
        })
        .collect()
}

/// Mean, error, τ_int, ESS and R̂ of recorded column `k` over the chains.
pub fn column_estimate(traces: &Traces, k: usize) -> ebm_thermo::Estimate {
    let chains = traces.chains(k);
    let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
    ebm_thermo::estimate(&refs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_fields_are_exactly_the_ones_serialisation_skips() {
        let m = Measured { mean: 0.0, std_err: 0.0 };
        let out = SampleOut {
            model: String::new(),
            beta: 1.0,
            sampler: String::new(),
            n_chains: 1,
            n_sweeps: 1,
            n_warmup: 0,
            energy_per_unit: m,
            abs_magnetization: Some(m),
            order_parameter: m,
            magnetization_sq: None,
            magnetization_4: None,
            binder: None,
            susceptibility: None,
            susceptibility_full: None,
            heat_capacity_per_unit: None,
            correlation_length: None,
            jackknife_block: None,
            mean_cluster_size: None,
            clusters_per_sweep: None,
            acceptance_rate: None,
            tau_int: 0.0,
            ess: 0.0,
            r_hat: 0.0,
            swap_rates: None,
            per_chain: Vec::new(),
            seconds: 0.0,
            production_seconds: 0.0,
            sweep_seconds: 0.0,
            ns_per_attempt: 0.0,
            path: "generic",
        };
        let with = |o: &SampleOut| -> Vec<String> {
            match serde_json::to_value(o).unwrap() {
                serde_json::Value::Object(map) => map.keys().cloned().collect(),
                _ => unreachable!(),
            }
        };
        let present = with(&out);
        let full = SampleOut {
            magnetization_sq: Some(m),
            magnetization_4: Some(m),
            binder: Some(m),
            susceptibility: Some(m),
            susceptibility_full: Some(m),
            heat_capacity_per_unit: Some(m),
            correlation_length: Some(m),
            jackknife_block: Some(1),
            mean_cluster_size: Some(1.0),
            clusters_per_sweep: Some(1),
            ..out
        };
        let mut skipped: Vec<String> =
            with(&full).into_iter().filter(|k| !present.contains(k)).collect();
        let mut listed = SampleOut::OPTIONAL_FIELDS.map(String::from).to_vec();
        skipped.sort();
        listed.sort();
        assert_eq!(skipped, listed);
    }
}
