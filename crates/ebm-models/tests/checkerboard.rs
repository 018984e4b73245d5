//! The checkerboard lattice sampler against exact results: state histograms
//! on small periodic lattices (1D, 2D with a field, 3D) vs exact enumeration,
//! the 16×16 mean energy vs Kaufman's finite-torus formula, bit-identical
//! trajectories for 1, 2 and 4 rayon threads, and typed errors.

use ebm_core::{Beta, BinaryModel, Chain, EnergyModel, Error, Purpose, Sampler, Seed, uniform};
use ebm_models::ising::{Boundary, Checkerboard, CheckerboardChain, Disorder, Ising, Rule};
use ebm_testkit::kaufman::kaufman_mean_energy;
use ebm_testkit::statistics::{TvReport, sampler_tv};
use ebm_thermo::{estimate, exact_distribution};

const N_CHAINS: usize = 200;
const N_SWEEPS: usize = 400;

/// `N_CHAINS` chains started from exact samples; per-chain state histograms
/// against the exact distribution (`ebm_testkit::statistics::sampler_tv`).
fn tv_case<S: Sampler<Ising>>(model: &Ising, sampler: &S, beta: f64, seed: u64) -> TvReport {
    let beta = Beta::new(beta).unwrap();
    let dist = exact_distribution(model, beta).unwrap();
    sampler_tv(model, sampler, beta, &dist.probs, N_CHAINS, N_SWEEPS, Seed(seed)).unwrap()
}

fn check_tv(name: &str, model: &Ising, betas: &[f64]) {
    let mut failures = Vec::new();
    for (s_name, sampler) in
        [("metropolis", Checkerboard::metropolis()), ("gibbs", Checkerboard::gibbs())]
    {
        for (k, &beta) in betas.iter().enumerate() {
            let r = tv_case(model, &sampler, beta, 2000 + k as u64);
            println!(
                "{name} {s_name} β={beta}: TV {:.4} ≤ {:.4} (n_eff {:.0})",
                r.tv, r.bound, r.n_eff
            );
            if !r.passed() {
                failures.push(format!("{name} {s_name} β={beta}: {r:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn matches_exact_on_a_4x4_torus_with_a_field() {
    // βJ = 0.12 and 0.4 (just below critical). With J = 1 the β = 1 case is
    // frozen in the all-up state and the TV bound, estimated from chains that
    // barely move, fails for the generic Gibbs samplers alike.
    let m = Ising::square(4, 4, Boundary::Periodic, 0.4, 0.2).unwrap();
    check_tv("4x4 h=0.2", &m, &[0.3, 1.0]);
}

#[test]
fn matches_exact_on_an_antiferromagnetic_4x4_torus_with_a_field() {
    let m = Ising::square(4, 4, Boundary::Periodic, -0.7, -0.3).unwrap();
    check_tv("4x4 afm", &m, &[0.3, 1.0]);
}

#[test]
fn matches_exact_on_a_ring_and_on_a_2x2x4_cubic_lattice() {
    let ring = Ising::chain(10, Boundary::Periodic, 1.0, 0.1).unwrap();
    check_tv("ring-10", &ring, &[0.3, 1.0]);
    // sides of 2: doubled bonds, as the model counts them
    let cube = Ising::cubic(2, 2, 4, Boundary::Periodic, 0.5, -0.2).unwrap();
    check_tv("cubic-2x2x4", &cube, &[0.3, 1.0]);
}

#[test]
fn mean_energy_on_a_16x16_torus_matches_kaufman() {
    let m = Ising::square(16, 16, Boundary::Periodic, 1.0, 0.0).unwrap();
    let (n_chains, n_warmup, n_sweeps) = (16, 1000, 10_000);
    let mut failures = Vec::new();
    for sampler in [Checkerboard::metropolis(), Checkerboard::gibbs()] {
        for beta in [0.3, 0.440_686_8, 0.6] {
            let b = Beta::new(beta).unwrap();
            let series: Vec<Vec<f64>> = (0..n_chains as u64)
                .map(|c| {
                    let mut rng = Seed(17).stream(Purpose::SAMPLING, c);
                    let mut chain = sampler.start(&m, &vec![1; 256]).unwrap();
                    for _ in 0..n_warmup {
                        sampler.sweep(&m, &mut chain, b, &mut rng);
                    }
                    (0..n_sweeps)
                        .map(|_| {
                            sampler.sweep(&m, &mut chain, b, &mut rng);
                            m.energy_per_spin(chain.state())
                        })
                        .collect()
                })
                .collect();
            let refs: Vec<&[f64]> = series.iter().map(Vec::as_slice).collect();
            let est = estimate(&refs);
            let exact = kaufman_mean_energy(16, 16, 1.0, beta) / 256.0;
            let z = (est.mean - exact) / est.std_err;
            println!(
                "{:?} β={beta}: u = {:.5} ± {:.5} (τ {:.1}), exact {exact:.5}, z = {z:.2}",
                sampler.rule(),
                est.mean,
                est.std_err,
                est.tau_int
            );
            if z.is_nan() || z.abs() >= 4.0 {
                failures.push(format!("{:?} β={beta}: {est:?} vs {exact}", sampler.rule()));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Mean energy per spin over `n_chains` chains of `n_sweeps` sweeps after
/// `n_warmup`, as an `ebm_thermo::estimate`.
fn energy_estimate(
    m: &Ising,
    sampler: &Checkerboard,
    beta: f64,
    (n_chains, n_warmup, n_sweeps): (usize, usize, usize),
) -> ebm_thermo::Estimate {
    let b = Beta::new(beta).unwrap();
    let series: Vec<Vec<f64>> = (0..n_chains as u64)
        .map(|c| {
            let mut rng = Seed(23).stream(Purpose::SAMPLING, c);
            let mut chain = sampler.start(m, &vec![1; m.n_units()]).unwrap();
            for _ in 0..n_warmup {
                sampler.sweep(m, &mut chain, b, &mut rng);
            }
            (0..n_sweeps)
                .map(|_| {
                    sampler.sweep(m, &mut chain, b, &mut rng);
                    m.energy_per_spin(chain.state())
                })
                .collect()
        })
        .collect();
    let refs: Vec<&[f64]> = series.iter().map(Vec::as_slice).collect();
    estimate(&refs)
}

#[test]
fn long_rows_match_kaufman_and_the_transfer_matrix() {
    // rows of 40 and 48 sites per colour: the 32-site vector kernel plus a tail
    let mut failures = Vec::new();
    let torus = Ising::square(48, 80, Boundary::Periodic, 1.0, 0.0).unwrap();
    // a ring of 96 spins in a field: u = −∂ ln Z/∂β with Z = λ₊^N + λ₋^N
    let (n, j, h) = (96, 1.0, 0.3);
    let ring = Ising::chain(n, Boundary::Periodic, j, h).unwrap();
    let ln_z = |b: f64| {
        let (a, r) = (
            (b * j).exp() * (b * h).cosh(),
            ((2.0 * b * j).exp() * (b * h).sinh().powi(2) + (-2.0 * b * j).exp()).sqrt(),
        );
        let (p, q) = (a + r, a - r);
        n as f64 * p.ln() + (1.0 + (q / p).powi(n as i32)).ln()
    };
    for sampler in [Checkerboard::metropolis(), Checkerboard::gibbs()] {
        for beta in [0.3, 0.6] {
            let est = energy_estimate(&torus, &sampler, beta, (8, 300, 3000));
            let exact = kaufman_mean_energy(48, 80, 1.0, beta) / 3840.0;
            let z = (est.mean - exact) / est.std_err;
            println!(
                "torus {:?} β={beta}: {:.5} ± {:.5} vs {exact:.5}",
                sampler.rule(),
                est.mean,
                est.std_err
            );
            if z.is_nan() || z.abs() >= 4.0 {
                failures.push(format!("torus {:?} β={beta}: {est:?} vs {exact}", sampler.rule()));
            }
        }
        for beta in [0.5, 1.0] {
            let est = energy_estimate(&ring, &sampler, beta, (8, 300, 5000));
            let eps = 1e-5;
            let exact = -(ln_z(beta + eps) - ln_z(beta - eps)) / (2.0 * eps) / n as f64;
            let z = (est.mean - exact) / est.std_err;
            println!(
                "ring {:?} β={beta}: {:.5} ± {:.5} vs {exact:.5}",
                sampler.rule(),
                est.mean,
                est.std_err
            );
            if z.is_nan() || z.abs() >= 4.0 {
                failures.push(format!("ring {:?} β={beta}: {est:?} vs {exact}", sampler.rule()));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// 30 sweeps of a random start on a pool of `threads` threads.
fn run_on(threads: usize, m: &Ising, sampler: &Checkerboard, beta: f64) -> CheckerboardChain {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let mut init = Seed(3).stream(Purpose::INIT, 0);
    let x0: Vec<i8> =
        (0..m.n_units()).map(|_| if uniform(&mut init) < 0.5 { -1 } else { 1 }).collect();
    let mut chain = sampler.start(m, &x0).unwrap();
    let mut rng = Seed(5).stream(Purpose::SAMPLING, 0);
    pool.install(|| {
        for _ in 0..30 {
            sampler.sweep(m, &mut chain, Beta::new(beta).unwrap(), &mut rng);
        }
    });
    chain
}

#[test]
fn trajectories_are_bit_identical_for_1_2_and_4_threads() {
    // large enough (≥ 2^14 sites) for the stripes to run in parallel
    let models = [
        Ising::square(128, 192, Boundary::Periodic, 1.0, 0.1).unwrap(),
        Ising::cubic(16, 32, 40, Boundary::Periodic, 0.3, 0.0).unwrap(),
    ];
    for m in &models {
        for sampler in [Checkerboard::metropolis(), Checkerboard::gibbs()] {
            let one = run_on(1, m, &sampler, 0.44);
            for threads in [2, 4] {
                let other = run_on(threads, m, &sampler, 0.44);
                assert_eq!(one.state(), other.state(), "{:?} {threads} threads", sampler.rule());
                assert_eq!(one.n_accepted(), other.n_accepted());
                assert!(one == other);
            }
            assert_eq!(one.n_proposed(), 30 * m.n_units() as u64);
            let rate = one.acceptance_rate().unwrap();
            assert!(rate > 0.05 && rate < 0.95, "{rate}");
        }
    }
}

#[test]
fn stripes_change_the_trajectory_but_not_the_threads() {
    let m = Ising::square(16, 16, Boundary::Periodic, 1.0, 0.0).unwrap();
    let a = run_on(1, &m, &Checkerboard::metropolis(), 0.3);
    let b = run_on(1, &m, &Checkerboard::metropolis().with_stripes(3).unwrap(), 0.3);
    assert_ne!(a.state(), b.state());
    assert!(Checkerboard::gibbs().with_stripes(0).is_err());
}

#[test]
fn the_state_view_follows_site_order() {
    let m = Ising::square(6, 8, Boundary::Periodic, 1.0, 0.0).unwrap();
    let x0: Vec<i8> = (0..48).map(|i| if (i * 7) % 5 < 2 { -1 } else { 1 }).collect();
    let s = Checkerboard::new(Rule::Gibbs);
    let chain = s.start(&m, &x0).unwrap();
    assert_eq!(chain.state(), &x0[..]);
    assert_eq!(chain.acceptance_rate(), None);
    // colour 0 holds the sites with even coordinate sum, row by row
    let even: Vec<i8> = (0..48).filter(|i| (i / 8 + i % 8) % 2 == 0).map(|i| x0[i]).collect();
    assert_eq!(chain.sublattice(0), &even[..]);
    // zero temperature limit: β large, every downhill move taken, uphill never
    let m = Ising::square(4, 4, Boundary::Periodic, 1.0, 0.0).unwrap();
    let mut c = Checkerboard::metropolis().start(&m, &[1; 16]).unwrap();
    let mut rng = Seed(1).stream(Purpose::SAMPLING, 0);
    Checkerboard::metropolis().sweep(&m, &mut c, Beta::new(50.0).unwrap(), &mut rng);
    assert_eq!(c.state(), &[1; 16][..]);
    assert_eq!(c.n_accepted(), 0);
}

#[test]
fn start_rejects_unsupported_models_and_bad_states_with_typed_errors() {
    let s = Checkerboard::metropolis();
    let blocks = |e: Error, needle: &str| match e {
        Error::InvalidBlocks { reason } => assert!(reason.contains(needle), "{reason}"),
        other => panic!("expected InvalidBlocks({needle}), got {other:?}"),
    };
    // not a lattice
    let graph =
        Ising::from_edges(4, &[(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (3, 0, 1.0)], &[0.0; 4])
            .unwrap();
    blocks(s.start(&graph, &[1; 4]).unwrap_err(), "not a lattice");
    // open boundaries
    let open = Ising::square(4, 4, Boundary::Open, 1.0, 0.0).unwrap();
    blocks(s.start(&open, &[1; 16]).unwrap_err(), "open");
    // odd periodic side: not bipartite
    let odd = Ising::square(4, 5, Boundary::Periodic, 1.0, 0.0).unwrap();
    blocks(s.start(&odd, &[1; 20]).unwrap_err(), "not bipartite");
    // non-uniform couplings, non-uniform fields
    let glass = Ising::spin_glass_pm(&[4, 4], Boundary::Periodic, 1.0, Seed(1)).unwrap();
    assert!(matches!(
        s.start(&glass, &[1; 16]),
        Err(Error::InvalidParameter { name: "coupling spread", .. })
    ));
    let rf = Ising::square(4, 4, Boundary::Periodic, 1.0, 0.0)
        .unwrap()
        .with_random_fields(Disorder::Gaussian { mean: 0.0, std: 1.0 }, Seed(2))
        .unwrap();
    assert!(matches!(
        s.start(&rf, &[1; 16]),
        Err(Error::InvalidParameter { name: "field spread", .. })
    ));
    // bad states
    let m = Ising::square(4, 4, Boundary::Periodic, 1.0, 0.0).unwrap();
    assert_eq!(
        s.start(&m, &[1; 15]).unwrap_err(),
        Error::ShapeMismatch { what: "state", expected: 16, found: 15 }
    );
    let mut x = [1i8; 16];
    x[9] = 0;
    assert_eq!(s.start(&m, &x).unwrap_err(), Error::InvalidUnitValue { index: 9, value: 0 });
    // the blocks the model reports are the sampler's colours
    assert_eq!(m.blocks().n_blocks(), 2);
}
