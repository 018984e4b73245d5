//! Critical dynamics of the 2D Ising model: how fast each sampler produces an
//! independent sample at Onsager's β_c = ln(1 + √2)/2 on periodic L×L
//! lattices (J = 1, h = 0), single-site moves against cluster moves.
//!
//! For each sampler (checkerboard Metropolis, checkerboard heat bath, Wolff,
//! Swendsen–Wang) and each L, one chain starts from a random state, warms up
//! (max(min_warmup, 20 × the expected τ)), then records E/N and |m|. It
//! reports:
//!
//! - τ_int of E and of |m| in sweeps, by `ebm_thermo::tau_int` (τ = 1 + 2Σρ,
//!   Sokal window c = 5: twice the "½ + Σρ" τ of the peers' scripts);
//! - the wall time of the sweeps alone (measurements excluded), per sweep
//!   and per spin (per attempt for single-site moves, per lattice spin for
//!   Swendsen–Wang, per *flipped* spin for Wolff: sweep time / (n_c ⟨|C|⟩));
//! - the time to an independent sample, ns per sweep × τ_int (= ns per sweep
//!   × 2 τ in the peers' convention, the same quantity), for τ of E and for
//!   max(τ_E, τ_|m|);
//! - ⟨E⟩/N with its error against Kaufman's exact finite-torus value;
//! - a least-squares fit of z in τ ∝ L^z per sampler, over the runs that
//!   reached the target length (1000 τ; 200 τ with `--quick`). Runs stopped
//!   by the time budget first are marked budget-limited (their τ is a lower
//!   bound at best) and left out of the fit. Wolff's τ is fitted in
//!   sweep-equivalents (N flipped spins), as the peers do.
//!
//! Single-site runs record every k-th sweep (k ≈ τ_expected / 40) so that the
//! measurement and the τ window stay cheap; τ in sweeps is k × τ in records.
//! The total wall budget (default 360 s, 60 s with `--quick`) is shared out
//! as the runs go: each run may use what is left divided by the runs left.
//! Rayon runs on 1 thread unless `--threads N` (the peers are single-chain,
//! single-thread).
//!
//! Run: `cargo run --release --example cluster_dynamics`
//! (options: `--sizes 16,32`, `--quick`, `--json`, `--budget SECONDS`,
//! `--samplers metropolis,gibbs,wolff,sw`, `--seed S`, `--threads N`)

use ebm_core::{Beta, Chain, EnergyModel, Purpose, Sampler, Seed};
use ebm_models::ising::{Boundary, Ising};
use ebm_samplers::{ClusterChain, Gibbs, Metropolis, SwendsenWang, Wolff};
use ebm_thermo::kaufman::{BETA_C, kaufman_mean_energy};
use ebm_thermo::{estimate, tau_int};
use serde_json::json;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algo {
    Wolff,
    SwendsenWang,
    Metropolis,
    Gibbs,
}

impl Algo {
    const ALL: [Algo; 4] = [Algo::Wolff, Algo::SwendsenWang, Algo::Metropolis, Algo::Gibbs];

    fn name(self) -> &'static str {
        match self {
            Algo::Wolff => "wolff",
            Algo::SwendsenWang => "sw",
            Algo::Metropolis => "metropolis",
            Algo::Gibbs => "gibbs",
        }
    }

    fn parse(s: &str) -> Option<Algo> {
        Algo::ALL.into_iter().find(|a| a.name() == s)
    }

    fn local(self) -> bool {
        matches!(self, Algo::Metropolis | Algo::Gibbs)
    }

    /// The τ_int (ebm convention, sweeps) expected at β_c: sets the warm-up
    /// and the thinning only, every reported τ is measured.
    fn tau_prior(self, l: usize) -> f64 {
        let x = l as f64 / 64.0;
        match self {
            Algo::Wolff => 5.0 * x.powf(0.25),
            Algo::SwendsenWang => 10.0 * x.powf(0.25),
            Algo::Metropolis => 500.0 * x.powf(2.17),
            Algo::Gibbs => 1000.0 * x.powf(2.17),
        }
    }
}

struct Options {
    sizes: Vec<usize>,
    algos: Vec<Algo>,
    quick: bool,
    json: bool,
    budget_s: f64,
    seed: u64,
    threads: usize,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        sizes: vec![16, 32, 64, 128, 256],
        algos: Algo::ALL.to_vec(),
        quick: false,
        json: false,
        budget_s: f64::NAN,
        seed: 2024,
        threads: 1,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--quick" => o.quick = true,
            "--json" => o.json = true,
            "--sizes" => {
                o.sizes = value()?
                    .split(',')
                    .map(|s| s.trim().parse::<usize>().map_err(|e| format!("--sizes {s}: {e}")))
                    .collect::<Result<_, _>>()?;
                if o.sizes.iter().any(|&l| l < 4 || l % 2 == 1) {
                    return Err("--sizes: each L must be even and ≥ 4".into());
                }
            }
            "--samplers" => {
                o.algos = value()?
                    .split(',')
                    .map(|s| Algo::parse(s.trim()).ok_or(format!("unknown sampler {s}")))
                    .collect::<Result<_, _>>()?;
            }
            "--budget" => {
                o.budget_s = value()?.parse().map_err(|e| format!("--budget: {e}"))?;
            }
            "--seed" => o.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--threads" => o.threads = value()?.parse().map_err(|e| format!("--threads: {e}"))?,
            "-h" | "--help" => {
                println!(
                    "cluster_dynamics [--sizes 16,32,...] [--quick] [--json] [--budget SECONDS] \
                     [--samplers wolff,sw,metropolis,gibbs] [--seed S] [--threads N]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other} (try --help)")),
        }
    }
    if o.budget_s.is_nan() {
        o.budget_s = if o.quick { 60.0 } else { 360.0 };
    }
    o.sizes.sort_unstable();
    o.sizes.dedup();
    Ok(o)
}

/// What one (sampler, L) run measured.
struct RunResult {
    algo: Algo,
    l: usize,
    warmup_sweeps: u64,
    warmup_short: bool,
    sweeps: u64,
    thin: u64,
    records: usize,
    /// τ_int in sweeps (ebm convention 1 + 2Σρ).
    tau_e: f64,
    tau_m: f64,
    ns_per_sweep: f64,
    /// Wolff: ⟨|C|⟩ (size-biased); SW: number-average cluster size.
    mean_cluster: Option<f64>,
    /// Wolff: clusters per sweep.
    n_c: u64,
    /// Spins flipped per sweep / N (Wolff), for sweep-equivalents.
    flip_fraction: Option<f64>,
    e_mean: f64,
    e_err: f64,
    e_exact: f64,
    budget_limited: bool,
    wall_s: f64,
}

impl RunResult {
    fn n(&self) -> f64 {
        (self.l * self.l) as f64
    }
    fn tau_max(&self) -> f64 {
        self.tau_e.max(self.tau_m)
    }
    fn run_over_tau(&self) -> f64 {
        self.sweeps as f64 / self.tau_max()
    }
    /// ns per attempt (single site), per lattice spin (SW), per flipped spin (Wolff).
    fn ns_per_spin(&self) -> f64 {
        match (self.algo, self.flip_fraction) {
            (Algo::Wolff, Some(f)) => self.ns_per_sweep / (f * self.n()),
            _ => self.ns_per_sweep / self.n(),
        }
    }
    /// τ for the z fit: in sweep-equivalents of N flipped spins for Wolff.
    fn tau_for_fit(&self, tau: f64) -> f64 {
        match (self.algo, self.flip_fraction) {
            (Algo::Wolff, Some(f)) => tau * f,
            _ => tau,
        }
    }
    fn t_indep_e_us(&self) -> f64 {
        self.ns_per_sweep * self.tau_e / 1e3
    }
    fn t_indep_max_us(&self) -> f64 {
        self.ns_per_sweep * self.tau_max() / 1e3
    }
    fn dev_sigmas(&self) -> f64 {
        (self.e_mean - self.e_exact) / self.e_err
    }
}

struct Budget {
    /// Stop once the run is this many τ long.
    tau_target: f64,
    /// and has at least this many records.
    min_records: usize,
    /// Wall seconds this run may use (warm-up included).
    cap_s: f64,
}

/// Cluster statistics of a chain: (mean cluster size, clusters per sweep).
fn no_clusters<C>(_: &C) -> (Option<f64>, u64) {
    (None, 0)
}

fn cluster_stats_of(c: &ClusterChain<i8>) -> (Option<f64>, u64) {
    (c.mean_cluster_size(), c.clusters_per_sweep())
}

fn run_one<S>(
    model: &Ising,
    sampler: &S,
    algo: Algo,
    l: usize,
    seed: u64,
    budget: &Budget,
    stats: impl Fn(&S::Chain) -> (Option<f64>, u64),
) -> Result<RunResult, ebm_core::Error>
where
    S: Sampler<Ising>,
{
    let t_start = Instant::now();
    let beta = Beta::new(BETA_C)?;
    let n = model.n_units();
    let stream = (Algo::ALL.iter().position(|&a| a == algo).unwrap_or(0) as u64) << 32 | l as u64;
    let mut rng = Seed(seed).stream(Purpose::SAMPLING, stream);
    let x0 = rng.random_state(model.space(), n);
    let mut chain = sampler.start(model, &x0)?;

    // warm-up: max(min_warmup, 20 τ_expected), at most 40 % of the run's time
    // (never fewer than min_warmup sweeps)
    let tau_prior = algo.tau_prior(l);
    let want = (sampler.min_warmup() as u64).max((20.0 * tau_prior).ceil() as u64).max(100);
    let warm_cap = Duration::from_secs_f64(0.4 * budget.cap_s);
    let mut warmup_sweeps = 0u64;
    while warmup_sweeps < want {
        sampler.sweep(model, &mut chain, beta, &mut rng);
        warmup_sweeps += 1;
        if warmup_sweeps.is_multiple_of(64)
            && warmup_sweeps >= sampler.min_warmup() as u64
            && t_start.elapsed() > warm_cap
        {
            break;
        }
    }
    let warmup_short = warmup_sweeps < want;
    chain.reset_counters();

    // production: k sweeps per record, timed without the measurement
    let thin = if algo.local() { ((tau_prior / 40.0).floor() as u64).max(1) } else { 1 };
    let cap = Duration::from_secs_f64(budget.cap_s);
    let (mut es, mut ms) = (Vec::<f64>::new(), Vec::<f64>::new());
    let mut sweep_time = Duration::ZERO;
    let mut next_check = budget.min_records;
    let (mut tau_e_rec, mut tau_m_rec);
    let mut budget_limited = false;
    loop {
        let t = Instant::now();
        for _ in 0..thin {
            sampler.sweep(model, &mut chain, beta, &mut rng);
        }
        sweep_time += t.elapsed();
        let s = chain.state();
        es.push(model.energy_per_spin(s));
        ms.push(model.abs_magnetization(s));
        let out_of_time = es.len().is_multiple_of(16) && t_start.elapsed() > cap;
        if es.len() >= next_check || out_of_time {
            tau_e_rec = tau_int(&[&es]);
            tau_m_rec = tau_int(&[&ms]);
            let long_enough = es.len() as f64 >= budget.tau_target * tau_e_rec.max(tau_m_rec);
            if long_enough && es.len() >= budget.min_records {
                break;
            }
            if out_of_time {
                budget_limited = true;
                break;
            }
            // next check when the run would be long enough at the current τ
            let need = (budget.tau_target * tau_e_rec.max(tau_m_rec)).ceil() as usize;
            next_check = need.max(es.len() + es.len() / 2).max(budget.min_records);
        }
    }
    let records = es.len();
    let sweeps = records as u64 * thin;
    let (mean_cluster, n_c) = stats(&chain);
    let flip_fraction = match algo {
        Algo::Wolff => mean_cluster.map(|c| c * n_c as f64 / n as f64),
        _ => None,
    };
    let e = estimate(&[&es]);
    Ok(RunResult {
        algo,
        l,
        warmup_sweeps,
        warmup_short,
        sweeps,
        thin,
        records,
        tau_e: tau_e_rec * thin as f64,
        tau_m: tau_m_rec * thin as f64,
        ns_per_sweep: sweep_time.as_secs_f64() * 1e9 / sweeps as f64,
        mean_cluster,
        n_c,
        flip_fraction,
        e_mean: e.mean,
        e_err: e.std_err,
        e_exact: kaufman_mean_energy(l, l, 1.0, BETA_C) / n as f64,
        budget_limited,
        wall_s: t_start.elapsed().as_secs_f64(),
    })
}

/// Least squares ln τ = a + z ln L: (z, its standard error if ≥ 3 points).
fn fit_z(points: &[(f64, f64)]) -> Option<(f64, Option<f64>)> {
    if points.len() < 2 {
        return None;
    }
    let xy: Vec<(f64, f64)> = points.iter().map(|&(l, t)| (l.ln(), t.ln())).collect();
    let k = xy.len() as f64;
    let mx = xy.iter().map(|p| p.0).sum::<f64>() / k;
    let my = xy.iter().map(|p| p.1).sum::<f64>() / k;
    let sxx = xy.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>();
    let sxy = xy.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>();
    let z = sxy / sxx;
    let err = (xy.len() >= 3).then(|| {
        let rss = xy.iter().map(|p| (p.1 - my - z * (p.0 - mx)).powi(2)).sum::<f64>();
        (rss / (k - 2.0) / sxx).sqrt()
    });
    Some((z, err))
}

fn fmt_us(us: f64) -> String {
    if us >= 1e5 {
        format!("{:.0} ms", us / 1e3)
    } else if us >= 1e3 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{us:.1} µs")
    }
}

fn print_table(results: &[RunResult], out: &mut String) -> std::fmt::Result {
    writeln!(
        out,
        "{:<10} {:>4} {:>9} {:>5} {:>7} {:>8} {:>8} {:>10} {:>7} {:>8} {:>4} {:>10} {:>10} {:>22} {:>10} {:>6}  flags",
        "sampler",
        "L",
        "sweeps",
        "thin",
        "run/τ",
        "τ_E",
        "τ_|m|",
        "µs/sweep",
        "ns/spin",
        "⟨|C|⟩/N",
        "n_c",
        "t_ind(E)",
        "t_ind(max)",
        "⟨E⟩/N",
        "Kaufman",
        "dev σ"
    )?;
    for r in results {
        let mut flags = Vec::new();
        if r.budget_limited {
            flags.push("budget-limited");
        }
        if r.warmup_short {
            flags.push("short warm-up");
        }
        writeln!(
            out,
            "{:<10} {:>4} {:>9} {:>5} {:>7.0} {:>8.2} {:>8.2} {:>10.2} {:>7.2} {:>8} {:>4} {:>10} {:>10} {:>12.6} ± {:.6} {:>10.6} {:>+6.1}  {}",
            r.algo.name(),
            r.l,
            r.sweeps,
            r.thin,
            r.run_over_tau(),
            r.tau_e,
            r.tau_m,
            r.ns_per_sweep / 1e3,
            r.ns_per_spin(),
            r.mean_cluster.map_or("-".to_string(), |c| format!("{:.4}", c / r.n())),
            if r.algo == Algo::Wolff { r.n_c.to_string() } else { "-".into() },
            fmt_us(r.t_indep_e_us()),
            fmt_us(r.t_indep_max_us()),
            r.e_mean,
            r.e_err,
            r.e_exact,
            r.dev_sigmas(),
            flags.join(", ")
        )?;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let o = parse_args().map_err(|e| {
        eprintln!("cluster_dynamics: {e}");
        std::process::exit(2)
    })?;
    rayon::ThreadPoolBuilder::new().num_threads(o.threads).build_global()?;
    let (tau_target, min_records) = if o.quick { (200.0, 1_000) } else { (1000.0, 2_000) };
    let n_runs = o.sizes.len() * o.algos.len();
    eprintln!(
        "2D Ising, periodic, J = 1, h = 0, β_c = {BETA_C:.7}; sizes {:?}; samplers {:?}; \
         budget {:.0} s over {n_runs} runs; target {tau_target} τ; {} rayon thread(s)",
        o.sizes,
        o.algos.iter().map(|a| a.name()).collect::<Vec<_>>(),
        o.budget_s,
        o.threads
    );
    let t_all = Instant::now();
    let mut results = Vec::new();
    let mut done = 0usize;
    for &l in &o.sizes {
        let model = Ising::square(l, l, Boundary::Periodic, 1.0, 0.0)?;
        for &algo in &o.algos {
            let left = (o.budget_s - t_all.elapsed().as_secs_f64()).max(1.0);
            let budget = Budget { tau_target, min_records, cap_s: left / (n_runs - done) as f64 };
            // the sweeps run with the pool's spare workers polling for their
            // forks (Swendsen–Wang's stripes), as in `ebm sample`
            let r = ebm_samplers::with_workers_awake(1, || match algo {
                Algo::Metropolis => {
                    run_one(&model, &Metropolis::block(), algo, l, o.seed, &budget, no_clusters)
                }
                Algo::Gibbs => {
                    run_one(&model, &Gibbs::block(), algo, l, o.seed, &budget, no_clusters)
                }
                Algo::Wolff => {
                    run_one(&model, &Wolff::new(), algo, l, o.seed, &budget, cluster_stats_of)
                }
                Algo::SwendsenWang => run_one(
                    &model,
                    &SwendsenWang::new(),
                    algo,
                    l,
                    o.seed,
                    &budget,
                    cluster_stats_of,
                ),
            })?;
            done += 1;
            eprintln!(
                "  {:<10} L={l:>4}: {:>9} sweeps (+{} warm-up) in {:.1} s (cap {:.1} s), τ_E {:.2}, \
                 τ_|m| {:.2}, {:.2} µs/sweep{}",
                algo.name(),
                r.sweeps,
                r.warmup_sweeps,
                r.wall_s,
                budget.cap_s,
                r.tau_e,
                r.tau_m,
                r.ns_per_sweep / 1e3,
                if r.budget_limited { " [budget-limited]" } else { "" }
            );
            results.push(r);
        }
    }

    // z fits over the runs that reached the target length
    let mut fits = Vec::new();
    for &algo in &o.algos {
        let rs: Vec<&RunResult> =
            results.iter().filter(|r| r.algo == algo && !r.budget_limited).collect();
        let excluded: Vec<usize> =
            results.iter().filter(|r| r.algo == algo && r.budget_limited).map(|r| r.l).collect();
        let pts = |f: fn(&RunResult) -> f64| -> Vec<(f64, f64)> {
            rs.iter().map(|r| (r.l as f64, r.tau_for_fit(f(r)))).collect()
        };
        let z_e = fit_z(&pts(|r| r.tau_e));
        let z_m = fit_z(&pts(|r| r.tau_m));
        let z_max = fit_z(&pts(|r| r.tau_max()));
        fits.push((algo, rs.iter().map(|r| r.l).collect::<Vec<_>>(), excluded, z_e, z_m, z_max));
    }

    let show = |z: Option<(f64, Option<f64>)>| match z {
        None => "-".to_string(),
        Some((z, None)) => format!("{z:.3}"),
        Some((z, Some(e))) => format!("{z:.3} ± {e:.3}"),
    };
    let mut table = String::new();
    writeln!(
        table,
        "\n2D Ising at β_c = {BETA_C:.7}, one chain per row from a random state, {} rayon \
         thread(s). τ in sweeps, τ = 1 + 2Σρ (= 2 × the peers' ½ + Σρ); t_ind = ns/sweep × τ \
         (= the peers' ns/sweep × 2τ); ns/spin: per attempt (local), per lattice spin (SW), per \
         flipped spin (Wolff, sweep = n_c clusters); ⟨|C|⟩/N: Wolff's size-biased mean, SW's \
number-average (N / clusters per sweep)\n",
        o.threads
    )?;
    print_table(&results, &mut table)?;
    writeln!(
        table,
        "\nz from least squares of ln τ vs ln L (Wolff: τ in sweep-equivalents of N flipped spins):"
    )?;
    for (algo, used, excluded, z_e, z_m, z_max) in &fits {
        writeln!(
            table,
            "  {:<10} z_E = {:<16} z_|m| = {:<16} z_max = {:<16} over L = {used:?}{}",
            algo.name(),
            show(*z_e),
            show(*z_m),
            show(*z_max),
            if excluded.is_empty() {
                String::new()
            } else {
                format!(" (budget-limited, excluded: {excluded:?})")
            }
        )?;
    }
    writeln!(table, "  published: Metropolis/heat bath 2.17, Wolff ≈ 0.25, SW ≈ 0.2–0.35")?;
    writeln!(table, "total wall {:.1} s", t_all.elapsed().as_secs_f64())?;

    if o.json {
        eprint!("{table}");
        for r in &results {
            let line = json!({
                "bench": "cluster_dynamics",
                "sampler": r.algo.name(),
                "L": r.l,
                "beta": BETA_C,
                "threads": o.threads,
                "warmup_sweeps": r.warmup_sweeps,
                "warmup_short": r.warmup_short,
                "sweeps": r.sweeps,
                "thin": r.thin,
                "records": r.records,
                "tau_e_sweeps": r.tau_e,
                "tau_abs_m_sweeps": r.tau_m,
                "tau_convention": "1 + 2 sum rho (ebm_thermo::tau_int, Sokal c = 5)",
                "run_over_tau_max": r.run_over_tau(),
                "ns_per_sweep": r.ns_per_sweep,
                "ns_per_spin": r.ns_per_spin(),
                "mean_cluster_size": r.mean_cluster,
                "clusters_per_sweep": (r.algo == Algo::Wolff).then_some(r.n_c),
                "flipped_fraction_per_sweep": r.flip_fraction,
                "t_indep_ns_e": r.t_indep_e_us() * 1e3,
                "t_indep_ns_max": r.t_indep_max_us() * 1e3,
                "energy_per_spin": r.e_mean,
                "energy_per_spin_err": r.e_err,
                "energy_exact_kaufman": r.e_exact,
                "dev_sigmas": r.dev_sigmas(),
                "budget_limited": r.budget_limited,
                "wall_s": r.wall_s,
            });
            println!("{line}");
        }
        let zj = |z: Option<(f64, Option<f64>)>| z.map(|(z, e)| json!({"z": z, "err": e}));
        for (algo, used, excluded, z_e, z_m, z_max) in &fits {
            println!(
                "{}",
                json!({
                    "bench": "cluster_dynamics",
                    "fit": "z",
                    "sampler": algo.name(),
                    "sizes": used,
                    "excluded_budget_limited": excluded,
                    "z_e": zj(*z_e),
                    "z_abs_m": zj(*z_m),
                    "z_max": zj(*z_max),
                    "tau_unit": if *algo == Algo::Wolff { "sweep-equivalent (N flipped spins)" } else { "sweep" },
                })
            );
        }
    } else {
        print!("{table}");
    }
    Ok(())
}
