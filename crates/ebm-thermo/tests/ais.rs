//! AIS and thermodynamic integration against exact enumeration and Kaufman's
//! exact ln Z of the 16×16 torus.
//!
//! Run: `cargo test --release -p ebm-thermo --test ais`

use ebm_core::{Beta, BinaryModel, Domain, Error, Purpose, Seed, uniform};
use ebm_models::boltzmann::BoltzmannMachine;
use ebm_models::ising::Ising;
use ebm_models::rbm::Rbm;
use ebm_samplers::{Gibbs, Metropolis};
use ebm_thermo::ais::{Ais, LogZEstimate, STANDARD_N_BETAS, Schedule, Ti};
use ebm_thermo::kaufman::kaufman_log_z;
use ebm_thermo::{estimate, exact, exact_distribution};

/// Exact samples of `model` at β: rows of `n_units` values, by inverse CDF.
fn exact_samples<M: BinaryModel>(model: &M, beta: Beta, rows: usize, seed: Seed) -> Vec<i8> {
    let dist = exact_distribution(model, beta).unwrap();
    let mut cdf = dist.probs.clone();
    for i in 1..cdf.len() {
        cdf[i] += cdf[i - 1];
    }
    let n = model.n_units();
    let mut rng = seed.stream(Purpose::DATA, 0);
    let mut x = vec![0i8; n];
    let mut out = Vec::with_capacity(rows * n);
    for _ in 0..rows {
        let u = uniform(&mut rng) * cdf[cdf.len() - 1];
        let code = cdf.partition_point(|&c| c <= u).min(cdf.len() - 1);
        model.domain().decode(code as u64, &mut x);
        out.extend_from_slice(&x);
    }
    out
}

/// Over 100 seeds (model and AIS both drawn anew), counts how often
/// |ln Ẑ − ln Z| ≤ std_err and how often [lower, upper] ∋ ln Z.
fn coverage<M: BinaryModel>(
    name: &str,
    make: impl Fn(u64) -> M,
    beta: Beta,
    schedule: Schedule,
    runs: usize,
) -> (u32, u32) {
    let ais = Ais::new(schedule, runs).unwrap();
    let (mut in_se, mut in_interval, mut zsum) = (0, 0, 0.0);
    for s in 0..100 {
        let model = make(s);
        let exact = exact(&model, beta).unwrap().log_z;
        let est = ais.log_z(&model, &Gibbs::sequential(), beta, Seed(s)).unwrap();
        let z = (est.log_z - exact) / est.std_err;
        zsum += z;
        in_se += u32::from(z.abs() <= 1.0);
        in_interval += u32::from(est.contains(exact));
    }
    eprintln!("{name}: ±se {in_se}/100, interval {in_interval}/100, mean z {:.3}", zsum / 100.0);
    (in_se, in_interval)
}

// ±std_err claims 68.3% coverage; with n = 100 the 99.9% binomial range is
// 0.683 ± 3.3 · 0.0465 = [0.53, 0.84]. The ±3σ interval claims 99.7%: ≥ 95/100.
const SE_RANGE: std::ops::RangeInclusive<u32> = 53..=84;

#[test]
fn coverage_spin_glass_16() {
    let (se, iv) = coverage(
        "4x4 Gaussian spin glass, β = 1",
        |s| Ising::spin_glass_gaussian(&[4, 4], true, 1.0, Seed(500 + s)).unwrap(),
        Beta::ONE,
        Schedule::Linear(300),
        64,
    );
    assert!(SE_RANGE.contains(&se) && iv >= 95, "{se} {iv}");
}

#[test]
fn coverage_boltzmann_machine_12() {
    let (se, iv) = coverage(
        "12-unit BM, couplings N(0, 0.5²)",
        |s| BoltzmannMachine::random(12, 12, 0.5, Seed(700 + s)).unwrap(),
        Beta::ONE,
        Schedule::Linear(200),
        64,
    );
    assert!(SE_RANGE.contains(&se) && iv >= 95, "{se} {iv}");
}

#[test]
fn coverage_rbm_10x6_generic_path() {
    let (se, iv) = coverage(
        "10x6 RBM (generic path), weights N(0, 1)",
        |s| Rbm::random(10, 6, 1.0, Seed(900 + s)).unwrap(),
        Beta::ONE,
        Schedule::Geometric { n_betas: 300, first_fraction: 1e-2 },
        64,
    );
    assert!(SE_RANGE.contains(&se) && iv >= 95, "{se} {iv}");
}

#[test]
fn bit_identical_for_any_thread_count() {
    let model = Ising::spin_glass_gaussian(&[3, 4], true, 1.0, Seed(1)).unwrap();
    let ais = Ais::new(Schedule::Linear(50), 33).unwrap();
    let run = |threads| {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| {
            ais.log_weights(&model, &Metropolis::sequential(), Beta::ONE, Seed(8)).unwrap()
        })
    };
    let (a, b) = (run(1), run(4));
    assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
}

#[test]
fn reverse_ais_from_exact_samples_sandwiches_exact() {
    // short paths on a frustrated glass: a clear gap, forward below, reverse above
    let model = Ising::spin_glass_gaussian(&[4, 4], true, 2.0, Seed(3)).unwrap();
    let exact = exact(&model, Beta::ONE).unwrap().log_z;
    let starts = exact_samples(&model, Beta::ONE, 20 * 64, Seed(4));
    let ais = Ais::new(Schedule::Linear(3), 64).unwrap();
    let (mut below, mut above, mut fsum, mut rsum) = (0, 0, 0.0, 0.0);
    for s in 0..20usize {
        let rows = &starts[s * 64 * 16..(s + 1) * 64 * 16];
        let sw =
            ais.sandwich(&model, &Gibbs::sequential(), Beta::ONE, rows, Seed(s as u64)).unwrap();
        below += u32::from(sw.forward.log_z <= exact);
        above += u32::from(sw.reverse.log_z >= exact);
        fsum += sw.forward.log_z;
        rsum += sw.reverse.log_z;
        let (lo, hi) = sw.interval();
        assert!(lo <= exact && exact <= hi, "{sw:?} vs {exact}");
    }
    let (f, r) = (fsum / 20.0, rsum / 20.0);
    eprintln!(
        "glass sandwich (3 β): forward {below}/20 below, reverse {above}/20 above; means {f:.3} ≤ {exact:.3} ≤ {r:.3}"
    );
    assert!(f < exact && exact < r);
    assert!(below >= 15 && above >= 15, "{below} {above}");
    // a long path closes the gap
    let ais = Ais::new(Schedule::Linear(1000), 64).unwrap();
    let sw = ais.sandwich(&model, &Gibbs::sequential(), Beta::ONE, &starts, Seed(99)).unwrap();
    assert!(sw.forward.contains(exact) && sw.reverse.contains(exact), "{sw:?} vs {exact}");
    assert!(sw.gap().abs() < 0.1, "{sw:?}");
}

const BETA_C: f64 = 0.440_686_8;

#[test]
fn ising_16x16_critical_ais_matches_kaufman() {
    let model = Ising::square(16, 16, true, 1.0, 0.0).unwrap();
    let beta = Beta::new(BETA_C).unwrap();
    let exact = kaufman_log_z(16, 16, 1.0, BETA_C);
    let est = Ais::new(Schedule::Linear(20_000), 64)
        .unwrap()
        .log_z(&model, &Gibbs::block(), beta, Seed(1))
        .unwrap();
    let z = (est.log_z - exact) / est.std_err;
    eprintln!(
        "16x16 AIS: {:.4} ± {:.4} (ess {:.1}), Kaufman {exact:.4}, z = {z:.2}",
        est.log_z, est.std_err, est.ess
    );
    assert!(z.abs() < 4.0 && est.contains(exact), "{est:?} vs {exact}");
}

#[test]
fn ising_16x16_critical_ti_matches_kaufman() {
    let model = Ising::square(16, 16, true, 1.0, 0.0).unwrap();
    let beta = Beta::new(BETA_C).unwrap();
    let exact = kaufman_log_z(16, 16, 1.0, BETA_C);
    let ti = Ti { intervals: 16, n_chains: 4, burn_in: 500, n_sweeps: 4000 };
    let est = ti.log_z(&model, &Metropolis::sequential(), beta, Seed(2)).unwrap();
    let e = est.total_error();
    eprintln!(
        "16x16 TI: {:.4} ± {:.4} (stat) ± {:.4} (quad; coarse {:.4}), Kaufman {exact:.4}, z = {:.2}",
        est.log_z,
        est.std_err,
        est.quadrature_error,
        est.coarse_log_z,
        (est.log_z - exact) / e
    );
    assert!((est.log_z - exact).abs() < 4.0 * e, "{} vs {exact}", est.log_z);
    assert!(est.to_log_z_estimate(4).contains(exact));
}

#[test]
fn ti_small_glass_matches_exact() {
    let model = Ising::spin_glass_gaussian(&[3, 4], true, 1.0, Seed(6)).unwrap();
    let t = exact(&model, Beta::ONE).unwrap();
    let ti = Ti { intervals: 32, n_chains: 4, burn_in: 200, n_sweeps: 4000 };
    let est = ti.log_z(&model, &Gibbs::sequential(), Beta::ONE, Seed(3)).unwrap();
    eprintln!(
        "glass TI: {:.4} ± {:.4} ± {:.4}, exact {:.4}",
        est.log_z, est.std_err, est.quadrature_error, t.log_z
    );
    assert!((est.log_z - t.log_z).abs() < 4.0 * est.total_error());
    // the last node's U is ⟨E⟩ at β
    let u = est.nodes.last().unwrap().mean_energy;
    assert!((u.mean - t.mean_energy).abs() < 4.0 * u.std_err);
}

#[test]
fn free_energy_and_entropy_carry_the_error_bars() {
    let model = BoltzmannMachine::random(14, 14, 0.7, Seed(12)).unwrap();
    let beta = Beta::new(0.8).unwrap();
    let t = exact(&model, beta).unwrap();
    let est = Ais::new(Schedule::Linear(500), 128)
        .unwrap()
        .log_z(&model, &Gibbs::sequential(), beta, Seed(5))
        .unwrap();
    let f = est.free_energy(beta);
    assert!((f.value + t.log_z / 0.8).abs() < 1e-9 + (est.log_z - t.log_z).abs() / 0.8 + 1e-9);
    assert!(f.lower <= t.free_energy && t.free_energy <= f.upper, "{f:?} vs {}", t.free_energy);
    assert!((f.std_err - est.std_err / 0.8).abs() < 1e-12);
    // U from exact samples (independent: τ = 1)
    let xs = exact_samples(&model, beta, 4000, Seed(6));
    let energies: Vec<f64> =
        xs.chunks_exact(14).map(|x| ebm_core::EnergyModel::energy(&model, x)).collect();
    let u = estimate(&[&energies]);
    let s = est.entropy(beta, &u);
    assert!(s.lower <= t.entropy && t.entropy <= s.upper, "{s:?} vs {}", t.entropy);
    assert!((s.value - t.entropy).abs() < 4.0 * s.std_err, "{s:?} vs {}", t.entropy);
}

#[test]
fn schedules() {
    let b = Beta::new(0.5).unwrap();
    let s = Schedule::Standard.betas(b).unwrap();
    assert_eq!(s.len(), STANDARD_N_BETAS);
    assert!(s.windows(2).all(|w| w[1] > w[0]));
    assert_eq!(*s.last().unwrap(), 0.5);
    assert!((s[499] - 0.25).abs() < 1e-15 && (s[500] - 0.5 * 0.5001).abs() < 1e-15);
    assert!((s[4499] - 0.45).abs() < 1e-15 && (s[4500] - 0.5 * 0.90001).abs() < 1e-15);
    assert_eq!(Schedule::StandardScaled(1450).betas(b).unwrap().len(), 1450);
    let g = Schedule::Geometric { n_betas: 5, first_fraction: 1e-4 }.betas(b).unwrap();
    assert!((g[0] - 0.5e-4).abs() < 1e-18 && g[4] == 0.5 && (g[1] / g[0] - 10.0).abs() < 1e-12);
    assert_eq!(Schedule::Linear(4).betas(b).unwrap(), vec![0.125, 0.25, 0.375, 0.5]);
    assert_eq!(Schedule::Given(vec![0.0, 0.1, 0.5]).betas(b).unwrap(), vec![0.1, 0.5]);
}

#[test]
fn bad_input_gives_typed_errors() {
    let b = Beta::new(0.5).unwrap();
    let seq = |v: Vec<f64>| Schedule::Given(v).betas(b);
    assert!(matches!(seq(vec![0.1, 0.3, 0.3, 0.5]), Err(Error::InvalidSequence { .. })));
    assert!(matches!(seq(vec![0.3, 0.1, 0.5]), Err(Error::InvalidSequence { .. })));
    assert!(matches!(seq(vec![0.1, 0.4]), Err(Error::InvalidSequence { .. })));
    assert!(matches!(seq(vec![-0.1, 0.5]), Err(Error::InvalidSequence { .. })));
    assert!(matches!(seq(vec![f64::NAN, 0.5]), Err(Error::InvalidSequence { .. })));
    assert!(matches!(seq(vec![]), Err(Error::InvalidSequence { .. })));
    assert!(matches!(Schedule::Linear(0).betas(b), Err(Error::InvalidParameter { .. })));
    assert!(matches!(
        Schedule::Geometric { n_betas: 3, first_fraction: 1.0 }.betas(b),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(Ais::new(Schedule::Standard, 0), Err(Error::InvalidParameter { .. })));
    let model = Ising::chain(4, true, 1.0, 0.0).unwrap();
    let ais = Ais::new(Schedule::Given(vec![0.2, 0.4]), 2).unwrap();
    assert!(matches!(
        ais.log_z(&model, &Gibbs::sequential(), b, Seed(0)),
        Err(Error::InvalidSequence { .. })
    ));
    let ais = Ais::new(Schedule::Linear(3), 2).unwrap();
    // too few starting rows, a ragged row, values outside the domain
    let g = Gibbs::sequential();
    assert!(matches!(
        ais.reverse_log_z(&model, &g, b, &[1; 4], Seed(0)),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        ais.reverse_log_z(&model, &g, b, &[1; 9], Seed(0)),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        ais.reverse_log_z(&model, &g, b, &[0; 8], Seed(0)),
        Err(Error::InvalidUnitValue { .. })
    ));
    let ti = Ti { intervals: 6, n_chains: 1, burn_in: 0, n_sweeps: 1 };
    assert!(matches!(ti.log_z(&model, &g, b, Seed(0)), Err(Error::InvalidParameter { .. })));
    assert!(matches!(
        LogZEstimate::from_log_weights(0.0, &[]),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        LogZEstimate::from_log_weights(0.0, &[1.0, f64::NAN]),
        Err(Error::NonFinite { index: 1, .. })
    ));
}

#[test]
fn log_z_estimate_arithmetic() {
    // two weights e^0, e^{ln 3}: mean 2, sd √2, R = 2
    let e = LogZEstimate::from_log_weights(1.0, &[0.0, 3f64.ln()]).unwrap();
    assert!((e.log_z - (1.0 + 2f64.ln())).abs() < 1e-12);
    assert!((e.std_err - 2f64.sqrt() / (2f64.sqrt() * 2.0)).abs() < 1e-12);
    assert!((e.ess - 16.0 / 10.0).abs() < 1e-12);
    assert!((e.upper - (1.0 + 5f64.ln())).abs() < 1e-12);
    // mean − 3 sd/√R = 2 − 3 < 0: Markov's lower bound
    assert!((e.lower - (e.log_z - ebm_thermo::ais::MARKOV_LOG_FACTOR)).abs() < 1e-12);
    // equal weights: zero width, ESS = R
    let c = LogZEstimate::from_log_weights(0.0, &[700.0; 8]).unwrap();
    assert_eq!((c.log_z, c.std_err, c.lower, c.upper, c.ess), (700.0, 0.0, 700.0, 700.0, 8.0));
    let r = LogZEstimate::from_reverse_log_weights(1.0, &[0.0, 3f64.ln()]).unwrap();
    assert!((r.log_z - (1.0 - 2f64.ln())).abs() < 1e-12);
    assert!((r.upper - (r.log_z + ebm_thermo::ais::MARKOV_LOG_FACTOR)).abs() < 1e-12);
    let _ = Domain::Spin;
}
