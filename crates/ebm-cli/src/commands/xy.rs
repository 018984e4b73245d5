//! `ebm sample --model xy:L|xy:LxM|xy:LxMxK[:open]`: the XY model (planar
//! spins, angles on the torus) with its continuous samplers, reporting the
//! energy, |m| and the helicity modulus with error bars.
//!
//! Samplers: `gibbs`/`block-gibbs` (the exact von Mises heat bath, site by
//! site), `overrelaxation` (heat bath + two overrelaxation sweeps),
//! `metropolis`/`metropolis-random` (a uniform window adapted to acceptance
//! 0.5 during warm-up), `hmc` (10 leapfrog steps, step adapted to 0.75
//! during warm-up), `tempering` (parallel tempering over the heat bath).

use super::sample::{Options, column_estimate, name, record_with_progress};
use super::{Measured, print_json};
use crate::cli::SamplerName;
use ebm_core::{Beta, Chain, EnergyModel, Result, Sampler};
use ebm_models::lattice::Lattice;
use ebm_models::xy::{Xy, XyMoves, helicity_modulus};
use ebm_samplers::{Hmc, Ladder, ParallelTempering};
use serde::Serialize;

#[derive(Serialize)]
struct Out {
    model: String,
    beta: f64,
    sampler: String,
    n_chains: usize,
    n_sweeps: usize,
    n_warmup: usize,
    energy_per_unit: Measured,
    abs_magnetization: Measured,
    /// Υ = (⟨Σ_x J cos⟩ − β⟨(Σ_x J sin)²⟩)/N along axis 0; its error from
    /// the spread of the per-chain values (4 or more chains), else null.
    helicity_modulus: f64,
    helicity_modulus_std_err: Option<f64>,
    acceptance_rate: Option<f64>,
    tau_int: f64,
    ess: f64,
    r_hat: f64,
    seconds: f64,
    sweep_seconds: f64,
    ns_per_site_update: f64,
}

/// Parses `xy:DIMS[:open|:periodic]` (the lattice part as every spec's).
fn parse(spec: &str, j: f64, h: f64) -> Result<Xy> {
    let (dims, boundary) = crate::spec::lattice_parts(spec, spec.split(':').skip(1))?;
    Xy::new(Lattice::new(&dims, boundary)?, j, h)
}

/// `ebm sample` on an XY lattice.
pub fn run(o: &Options, beta: Beta) -> Result<()> {
    let model = parse(&o.model.model, o.model.coupling, o.model.field)?;
    let replicas = if o.sampler == SamplerName::Tempering { o.n_replicas } else { 1 };
    super::check_chain_units("--n-chains", o.n_chains.saturating_mul(replicas), model.n_units())?;
    let warm = o.n_warmup as u64;
    match o.sampler {
        SamplerName::Gibbs | SamplerName::BlockGibbs => {
            sample(o, &model, &XyMoves::heat_bath(), beta)
        }
        SamplerName::Overrelaxation => {
            sample(o, &model, &XyMoves::heat_bath().with_overrelaxation(2), beta)
        }
        SamplerName::Metropolis | SamplerName::MetropolisRandom => {
            let moves = XyMoves::metropolis(1.0)?.adapt_during(warm, 0.5)?;
            sample(o, &model, &moves, beta)
        }
        SamplerName::Hmc => sample(o, &model, &Hmc::new(0.2, 10)?.adapt_during(warm, 0.75)?, beta),
        SamplerName::Tempering => {
            let pt =
                ParallelTempering::new(XyMoves::heat_bath(), Ladder::geometric(o.n_replicas, 0.3)?);
            sample(o, &model, &pt, beta)
        }
        SamplerName::Wolff | SamplerName::SwendsenWang | SamplerName::Houdayer => {
            Err(ebm_core::Error::Unsupported {
                what: "cluster moves",
                reason: "they run on Ising and Potts models; the XY model has none here".into(),
            })
        }
    }
}

fn sample<S: Sampler<Xy>>(o: &Options, model: &Xy, s: &S, beta: Beta) -> Result<()> {
    let t0 = std::time::Instant::now();
    let n = model.n_units();
    let observe = |m: &Xy, x: &[f64], out: &mut [f64]| {
        out[0] = m.energy(x) / x.len() as f64;
        out[1] = m.abs_magnetisation(x);
        let t = m.helicity_terms(x);
        out[2] = t.cos_sum;
        out[3] = t.sin_sum * t.sin_sum;
    };
    let (traces, running) = record_with_progress(model, s, beta, o, 4, observe)?;
    let est = |k| column_estimate(&traces, k);
    let (e, m, cos, sin2) = (est(0), est(1), est(2), est(3));
    let ups = helicity_modulus(beta, n, cos.mean, sin2.mean);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let per_chain: Vec<f64> = traces
        .chains(2)
        .iter()
        .zip(traces.chains(3))
        .map(|(c, s)| helicity_modulus(beta, n, mean(c), mean(&s)))
        .collect();
    let ups_err = (per_chain.len() >= 4).then(|| {
        let mu = mean(&per_chain);
        let var = per_chain.iter().map(|u| (u - mu) * (u - mu)).sum::<f64>()
            / (per_chain.len() - 1) as f64;
        (var / per_chain.len() as f64).sqrt()
    });
    if let Some(path) = &o.png {
        let dims = model.lattice().dims();
        let (rows, cols) = match dims {
            [l] => (1, *l),
            [r, c, ..] => (*r, *c),
            [] => (1, n),
        };
        let scale = (640 / cols.max(rows)).clamp(1, 32) as u32;
        crate::picture::angles(path, running.chains[0].state(), rows, cols, scale)?;
    }
    let out = Out {
        model: o.model.model.clone(),
        beta: beta.value(),
        sampler: name(o.sampler).into(),
        n_chains: o.n_chains,
        n_sweeps: o.n_sweeps,
        n_warmup: o.n_warmup,
        energy_per_unit: Measured { mean: e.mean, std_err: e.std_err },
        abs_magnetization: Measured { mean: m.mean, std_err: m.std_err },
        helicity_modulus: ups,
        helicity_modulus_std_err: ups_err,
        acceptance_rate: traces.acceptance_rate(),
        tau_int: e.tau_int,
        ess: e.ess,
        r_hat: e.r_hat,
        seconds: t0.elapsed().as_secs_f64(),
        sweep_seconds: traces.sweep_seconds,
        ns_per_site_update: traces.sweep_seconds * 1e9
            / (o.n_chains as f64 * o.n_sweeps as f64 * n as f64).max(1.0),
    };
    if o.common.json {
        return print_json(&out);
    }
    println!(
        "{} at β = {}, {} sampler, {} chains × {} sweeps (+{} warm-up), {:.2} s",
        out.model, out.beta, out.sampler, out.n_chains, out.n_sweeps, out.n_warmup, out.seconds
    );
    println!(
        "  energy per unit   {:>10.6} ± {:.6}   (τ_int {:.1} sweeps, ESS {:.0}, R̂ {:.4})",
        e.mean, e.std_err, e.tau_int, e.ess, e.r_hat
    );
    println!("  |magnetization|   {:>10.6} ± {:.6}", m.mean, m.std_err);
    match ups_err {
        Some(se) => println!("  helicity modulus  {ups:>10.6} ± {se:.6}"),
        None => println!("  helicity modulus  {ups:>10.6}   (error bar: 4 or more chains)"),
    }
    if let Some(a) = out.acceptance_rate {
        println!("  acceptance rate   {a:>10.4}");
    }
    if let Some(p) = &o.png {
        println!("  final configuration of chain 0 (hue = angle) written to {}", p.display());
    }
    Ok(())
}
