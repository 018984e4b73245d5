//! `ebm sample --sampler houdayer`: two replicas of an Ising model (a spin
//! glass, `glass:LxM`) under parallel tempering, each copy on its own
//! ladder, with Houdayer's cluster move at every rung; the overlap
//! observables of a spin-glass study, with block-jackknife errors.

use super::sample::{Options, column_estimate, record_with_progress};
use super::{Measured, print_json};
use crate::spec::Model;
use ebm_core::{Beta, EnergyModel, Result};
use ebm_models::ising::Ising;
use ebm_samplers::{Houdayer, Ladder, Metropolis, ParallelTempering, Replicas};
use ebm_thermo::observables::Samples;
use serde::Serialize;

#[derive(Serialize)]
pub struct Out {
    model: String,
    beta: f64,
    sampler: &'static str,
    n_chains: usize,
    n_sweeps: usize,
    n_warmup: usize,
    /// Rungs of each copy's ladder, geometric from `beta_min` to β.
    n_replicas: usize,
    beta_min: f64,
    /// E/N of one copy (the mean of the two).
    energy_per_unit: Measured,
    /// ⟨|q|⟩, ⟨q²⟩, ⟨q⁴⟩ of the spin overlap q = (1/N) Σ σ¹σ².
    overlap_abs: Measured,
    overlap_sq: Measured,
    overlap_4: Measured,
    /// g = ½(3 − ⟨q⁴⟩/⟨q²⟩²), the spin-glass Binder ratio.
    binder_overlap: Measured,
    /// χ_SG = N⟨q²⟩.
    sg_susceptibility: Measured,
    /// ⟨q_l⟩, the link overlap over the interaction edges.
    link_overlap: Measured,
    jackknife_block: usize,
    tau_int: f64,
    ess: f64,
    r_hat: f64,
    /// Chain 0's swap rates, pair by pair (both copies' exchanges).
    swap_rates: Vec<f64>,
    /// Round trips per 1000 sweeps, walkers of both copies, all chains.
    round_trips_per_1000_sweeps: f64,
    /// Mean number of sites Houdayer's move exchanges at β (chain 0).
    mean_cluster_size: f64,
    seconds: f64,
    sweep_seconds: f64,
    /// `sweep_seconds` per single-spin update attempt, all rungs and both
    /// copies counted.
    ns_per_attempt: f64,
    path: &'static str,
}

/// The columns recorded per sweep.
const COLUMNS: usize = 5;

pub fn measure(o: &Options, parsed: &Model, beta: Beta) -> Result<Out> {
    let Model::Ising(model) = parsed else {
        return Err(ebm_core::Error::Unsupported {
            what: "--sampler houdayer",
            reason:
                "it exchanges two replicas of an Ising model on clusters: give ising:… or glass:…"
                    .into(),
        });
    };
    let fraction = super::sample::ladder_fraction(o.beta_min, beta)?;
    let beta_min = fraction * beta.value();
    let n = model.n_units();
    super::check_chain_units(
        "--n-chains",
        o.n_chains.saturating_mul(o.n_replicas).saturating_mul(2),
        n,
    )?;
    let pair = Replicas::new(model.clone());
    let pt = ParallelTempering::new(
        Houdayer::new(Metropolis::sequential()),
        Ladder::geometric(o.n_replicas, fraction)?,
    );
    let t0 = std::time::Instant::now();
    let observe = |m: &Replicas<Ising>, x: &[i8], out: &mut [f64]| {
        let q = m.overlap(x);
        out[0] = m.energy(x) / x.len() as f64;
        out[1] = q.abs();
        out[2] = q * q;
        out[3] = q * q * q * q;
        out[4] = m.link_overlap(x).unwrap_or(f64::NAN);
    };
    let (traces, running) = record_with_progress(&pair, &pt, beta, o, COLUMNS, observe)?;
    let e = column_estimate(&traces, 0);
    let s = Samples::new(&traces.values, traces.n_chains, COLUMNS)?;
    let jk = |f: &dyn Fn(&[f64]) -> f64| {
        let v = s.jackknife(f);
        Measured { mean: v.mean, std_err: v.std_err }
    };
    let first = &running.chains[0];
    let trips: u64 = running.chains.iter().map(|c| c.round_trips()).sum();
    let attempts = (o.n_chains * o.n_sweeps * o.n_replicas * 2 * n) as f64;
    if let Some(path) = &o.png {
        // the overlap field of chain 0 at β: q_i = +1 light, −1 dark
        let (rows, cols) = parsed.picture_shape(n);
        let (a, b) = pair.copies(ebm_core::Chain::state(first));
        let colours: Vec<usize> = a.iter().zip(b).map(|(u, v)| usize::from(u == v)).collect();
        let scale = (640 / cols.max(rows)).clamp(1, 32) as u32;
        crate::picture::configuration(path, &colours, rows, cols, scale)?;
    }
    Ok(Out {
        model: o.model.model.clone(),
        beta: beta.value(),
        sampler: "houdayer",
        n_chains: o.n_chains,
        n_sweeps: o.n_sweeps,
        n_warmup: o.n_warmup,
        n_replicas: o.n_replicas,
        beta_min,
        energy_per_unit: Measured { mean: e.mean, std_err: e.std_err },
        overlap_abs: jk(&|m| m[1]),
        overlap_sq: jk(&|m| m[2]),
        overlap_4: jk(&|m| m[3]),
        binder_overlap: jk(&|m| 0.5 * (3.0 - m[3] / (m[2] * m[2]))),
        sg_susceptibility: jk(&|m| n as f64 * m[2]),
        link_overlap: jk(&|m| m[4]),
        jackknife_block: s.block_len(),
        tau_int: e.tau_int,
        ess: e.ess,
        r_hat: e.r_hat,
        swap_rates: first.swap_rates(),
        // (the runner resets the counters after the warm-up: production only)
        round_trips_per_1000_sweeps: trips as f64 * 1000.0
            / (o.n_chains as f64 * o.n_sweeps as f64),
        mean_cluster_size: first.replicas().last().map_or(f64::NAN, |h| h.mean_cluster_size()),
        seconds: t0.elapsed().as_secs_f64(),
        sweep_seconds: traces.sweep_seconds,
        ns_per_attempt: traces.sweep_seconds * 1e9 / attempts.max(1.0),
        path: "houdayer",
    })
}

pub fn run(o: &Options, parsed: &Model, beta: Beta) -> Result<()> {
    let out = measure(o, parsed, beta)?;
    if o.common.json {
        return print_json(&out);
    }
    println!(
        "{} at β = {}, houdayer sampler ({} rungs per copy from β = {}), {} chains × {} sweeps (+{} warm-up), {:.2} s",
        out.model,
        out.beta,
        out.n_replicas,
        out.beta_min,
        out.n_chains,
        out.n_sweeps,
        out.n_warmup,
        out.seconds
    );
    println!(
        "  energy per unit   {:>10.6} ± {:.6}   (τ_int {:.1} sweeps, ESS {:.0}, R̂ {:.4})",
        out.energy_per_unit.mean, out.energy_per_unit.std_err, out.tau_int, out.ess, out.r_hat
    );
    for (name, v) in [
        ("<|q|>", &out.overlap_abs),
        ("<q²>", &out.overlap_sq),
        ("Binder g", &out.binder_overlap),
        ("χ_SG", &out.sg_susceptibility),
        ("link overlap", &out.link_overlap),
    ] {
        println!("  {name:<17} {:>10.6} ± {:.6}", v.mean, v.std_err);
    }
    println!(
        "  round trips       {:>10.2} per 1000 sweeps; Houdayer clusters of {:.1} sites",
        out.round_trips_per_1000_sweeps, out.mean_cluster_size
    );
    println!(
        "  sweeps            {:>10.3} s   ({:.3} ns per attempt)",
        out.sweep_seconds, out.ns_per_attempt
    );
    println!(
        "  swap rates        {}",
        out.swap_rates.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(" ")
    );
    if let Some(p) = &o.png {
        println!("  overlap field of chain 0 written to {}", p.display());
    }
    Ok(())
}
