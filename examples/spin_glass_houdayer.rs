//! Does Houdayer's cluster move help parallel tempering equilibrate a 2-D
//! spin glass? The same experiment with and without it, in the same sitting.
//!
//! Instances: `--instances` (default 8) ±J glasses on the periodic L×L
//! lattice (`--size`, default 16), couplings from seeds 1000, 1001, ….
//! Both methods run on [`Replicas`] (two copies, the pair a spin-glass
//! study needs for the overlap) with the same geometric ladder of
//! `--rungs` inverse temperatures from `--beta-min` to `--beta-max`
//! (default 20 rungs, 0.4 → 4, i.e. T = 2.5 → 0.25):
//!
//! - **PT**: `ParallelTempering<Metropolis::sequential()>`;
//! - **PT + Houdayer**: `ParallelTempering<Houdayer<Metropolis::sequential()>>`,
//!   the move at every rung with β ≥ `--houdayer-min-beta` (default 1: below
//!   T ≈ 1 the disagreement clusters no longer percolate).
//!
//! Each of `--runs` (default 4) independent runs per instance starts from a
//! uniformly random pair and records E/2N of the coldest rung every sweep for
//! 2^`--log2-sweeps` sweeps (default 2^13). Three measures:
//!
//! 1. **Equilibration time** (the standard logarithmic binning): the mean
//!    energy over each window [2^(k−1), 2^k) of sweeps, as a difference from
//!    each instance's equilibrium energy (the lower of the two methods' means
//!    over their last window: at fixed low T the energy relaxes from above,
//!    so a method not yet in equilibrium sits above), averaged over
//!    instances and runs, with its
//!    standard error. A method is equilibrated from the first window after
//!    which every window's difference is within 2σ of 0; the time is that
//!    window's start, in sweeps and in seconds (× the method's measured time
//!    per sweep).
//! 2. **The ground state**: the fraction of runs whose coldest rung has
//!    reached the lowest energy either method found, by sweep 2^k.
//! 3. **Round trips** of walkers through the ladder per 1000 sweeps.
//!
//! Run: `cargo run --release --example spin_glass_houdayer` (options
//! `--size L`, `--instances D`, `--runs R`, `--log2-sweeps K`, `--rungs K`,
//! `--beta-min B`, `--beta-max B`, `--houdayer-min-beta B`, `--quick`,
//! `--json`). Rayon runs the (instance, run) chains in parallel; results do
//! not depend on the number of threads.

use ebm_core::{Beta, EnergyModel, Sampler, Seed};
use ebm_models::ising::{Boundary, Ising};
use ebm_samplers::{Houdayer, Init, Ladder, Metropolis, ParallelTempering, Replicas, Run};
use rayon::prelude::*;
use serde_json::json;

struct Options {
    size: usize,
    instances: usize,
    runs: usize,
    log2_sweeps: u32,
    rungs: usize,
    beta_min: f64,
    beta_max: f64,
    houdayer_min_beta: f64,
    json: bool,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        size: 16,
        instances: 8,
        runs: 4,
        log2_sweeps: 13,
        rungs: 20,
        beta_min: 0.4,
        beta_max: 4.0,
        houdayer_min_beta: 1.0,
        json: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        let bad = |e: &dyn std::fmt::Display| format!("{a}: {e}");
        match a.as_str() {
            "--size" => o.size = value()?.parse().map_err(|e| bad(&e))?,
            "--instances" => o.instances = value()?.parse().map_err(|e| bad(&e))?,
            "--runs" => o.runs = value()?.parse().map_err(|e| bad(&e))?,
            "--log2-sweeps" => o.log2_sweeps = value()?.parse().map_err(|e| bad(&e))?,
            "--rungs" => o.rungs = value()?.parse().map_err(|e| bad(&e))?,
            "--beta-min" => o.beta_min = value()?.parse().map_err(|e| bad(&e))?,
            "--beta-max" => o.beta_max = value()?.parse().map_err(|e| bad(&e))?,
            "--houdayer-min-beta" => o.houdayer_min_beta = value()?.parse().map_err(|e| bad(&e))?,
            "--quick" => {
                (o.size, o.instances, o.runs, o.log2_sweeps, o.rungs) = (8, 2, 2, 9, 10);
            }
            "--json" => o.json = true,
            other => return Err(format!("unknown option {other}")),
        }
    }
    if o.size < 3 || o.instances == 0 || o.runs < 2 || !(4..=24).contains(&o.log2_sweeps) {
        return Err("need --size ≥ 3, --instances ≥ 1, --runs ≥ 2, --log2-sweeps in 4..=24".into());
    }
    Ok(o)
}

/// One method's runs: per (instance, run), the coldest rung's E/2N every
/// sweep, and the round trips; and the wall time per sweep.
struct Outcome {
    traces: Vec<Vec<Vec<f64>>>,
    round_trips: Vec<u64>,
    seconds_per_sweep: f64,
}

fn run_method<S>(
    glasses: &[Replicas<Ising>],
    pt: &ParallelTempering<S>,
    o: &Options,
) -> Result<Outcome, ebm_core::Error>
where
    S: Sampler<Replicas<Ising>> + Sync,
{
    let beta = Beta::new(o.beta_max)?;
    let n_sweeps = 1usize << o.log2_sweeps;
    let results: Vec<_> = glasses
        .par_iter()
        .enumerate()
        .map(|(d, pair)| {
            let n2 = pair.n_units() as f64;
            Run::new(pair, pt, beta)
                .chains(o.runs)
                .warmup(0)
                .sweeps(n_sweeps)
                .seed(Seed(77).derive(d as u64))
                .init(Init::Uniform)
                .record(1, |m: &Replicas<Ising>, x: &[i8], out: &mut [f64]| {
                    out[0] = m.energy(x) / n2
                })
                .map(|(traces, running)| {
                    let trips = running.chains.iter().map(|c| c.round_trips()).sum::<u64>();
                    (traces.chains(0), trips, traces.sweep_seconds)
                })
        })
        .collect::<Result<_, _>>()?;
    let sweeps_total = (glasses.len() * o.runs * n_sweeps) as f64;
    // CPU time per sweep: the sweeps' own time summed over chains
    let cpu: f64 = results.iter().map(|r| r.2).sum();
    Ok(Outcome {
        traces: results.iter().map(|r| r.0.clone()).collect(),
        round_trips: results.iter().map(|r| r.1).collect(),
        seconds_per_sweep: cpu / sweeps_total,
    })
}

/// Window k (1-based) covers sweeps [2^(k−1), 2^k); window 0 is sweep 0.
fn window(k: u32) -> std::ops::Range<usize> {
    if k == 0 { 0..1 } else { (1usize << (k - 1))..(1usize << k) }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("spin_glass_houdayer: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&o) {
        eprintln!("spin_glass_houdayer: {e}");
        std::process::exit(1);
    }
}

fn run(o: &Options) -> Result<(), ebm_core::Error> {
    let l = o.size;
    let glasses: Vec<Replicas<Ising>> = (0..o.instances)
        .map(|d| {
            Ising::spin_glass_pm(&[l, l], Boundary::Periodic, 1.0, Seed(1000 + d as u64))
                .map(Replicas::new)
        })
        .collect::<Result<_, _>>()?;
    let ladder = Ladder::geometric(o.rungs, o.beta_min / o.beta_max)?;
    let pt = ParallelTempering::new(Metropolis::sequential(), ladder.clone());
    let ph = ParallelTempering::new(
        Houdayer::new(Metropolis::sequential()).min_beta(o.houdayer_min_beta)?,
        ladder,
    );
    let plain = run_method(&glasses, &pt, o)?;
    let houdayer = run_method(&glasses, &ph, o)?;
    let methods = [("PT", &plain), ("PT + Houdayer", &houdayer)];

    let last = window(o.log2_sweeps);
    // each instance's equilibrium energy: the lower of the two methods'
    // last-window means (at fixed low T the energy relaxes from above, so a
    // method that has not equilibrated sits above it)
    let reference: Vec<f64> = (0..o.instances)
        .map(|d| {
            methods
                .iter()
                .map(|(_, m)| {
                    mean(&m.traces[d].iter().map(|t| mean(&t[last.clone()])).collect::<Vec<_>>())
                })
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    let lowest: Vec<f64> = (0..o.instances)
        .map(|d| {
            methods
                .iter()
                .flat_map(|(_, m)| m.traces[d].iter().flatten())
                .fold(f64::INFINITY, |a, &b| a.min(b))
        })
        .collect();

    let n_sweeps = 1usize << o.log2_sweeps;
    let mut report = Vec::new();
    println!(
        "2-D ±J glass, {l}×{l} periodic, {} instances × {} runs, {} rungs β = {}…{}, {} sweeps",
        o.instances, o.runs, o.rungs, o.beta_min, o.beta_max, n_sweeps
    );
    println!("(E/2N at β = {} minus each instance's equilibrium value)", o.beta_max);
    for (name, m) in methods {
        let mut rows = Vec::new();
        for k in 0..=o.log2_sweeps {
            let w = window(k);
            let diffs: Vec<f64> = (0..o.instances)
                .flat_map(|d| m.traces[d].iter().map(move |t| (d, t)))
                .map(|(d, t)| mean(&t[w.clone()]) - reference[d])
                .collect();
            let dm = mean(&diffs);
            let se = (diffs.iter().map(|x| (x - dm).powi(2)).sum::<f64>()
                / (diffs.len() as f64 - 1.0)
                / diffs.len() as f64)
                .sqrt();
            let found = (0..o.instances)
                .flat_map(|d| m.traces[d].iter().map(move |t| (d, t)))
                .filter(|(d, t)| t[..w.end].iter().any(|&e| e <= lowest[*d] + 1e-9))
                .count() as f64
                / (o.instances * o.runs) as f64;
            rows.push((k, w.start, dm, se, found));
        }
        // equilibrated from the first window after which all are within 2σ
        let eq = (0..rows.len())
            .find(|&i| rows[i..].iter().all(|r| r.2.abs() <= 2.0 * r.3.max(1e-12)))
            .map(|i| rows[i].1);
        let trips = m.round_trips.iter().sum::<u64>() as f64
            / (o.instances * o.runs) as f64
            / n_sweeps as f64
            * 1000.0;
        println!(
            "\n{name}: {:.1} µs per sweep (all {} rungs), {:.2} round trips per 1000 sweeps",
            m.seconds_per_sweep * 1e6,
            o.rungs,
            trips
        );
        println!("{:>8} {:>12} {:>10} {:>12}", "sweeps", "ΔE/2N", "± σ", "ground found");
        for r in &rows {
            println!("{:>8} {:>12.5} {:>10.5} {:>11.0}%", r.1, r.2, r.3, 100.0 * r.4);
        }
        match eq {
            Some(t) => println!(
                "equilibrated from sweep {t} ({:.3} s of one core per run)",
                t as f64 * m.seconds_per_sweep
            ),
            None => println!("not equilibrated within {n_sweeps} sweeps"),
        }
        report.push(json!({
            "method": name,
            "us_per_sweep": m.seconds_per_sweep * 1e6,
            "round_trips_per_1000_sweeps": trips,
            "equilibrated_from_sweep": eq,
            "equilibration_seconds": eq.map(|t| t as f64 * m.seconds_per_sweep),
            "windows": rows.iter().map(|r| json!({
                "from_sweep": r.1, "delta_e": r.2, "std_err": r.3, "ground_found": r.4
            })).collect::<Vec<_>>(),
        }));
    }
    if o.json {
        println!(
            "{}",
            json!({
                "size": l, "instances": o.instances, "runs": o.runs, "rungs": o.rungs,
                "beta_min": o.beta_min, "beta_max": o.beta_max,
                "houdayer_min_beta": o.houdayer_min_beta, "sweeps": n_sweeps,
                "methods": report,
            })
        );
    }
    Ok(())
}
