//! The checkerboard kernel, reached as users reach it (`Gibbs::block()` and
//! `Metropolis::block()` on a uniform periodic `Ising` lattice), against exact
//! results: state histograms on small periodic lattices (1D, 2D with a
//! field, 3D) vs exact enumeration, the 16×16 mean energy vs Kaufman's
//! finite-torus formula, bit-identical trajectories for 1, 2 and 4 rayon
//! threads, which models get the kernel, and the fallback when a model
//! stops fitting it.

use ebm_core::{Beta, Chain, EnergyModel, LogLinear, Purpose, Sampler, Seed, uniform};
use ebm_models::ising::{Boundary, Disorder, Ising};
use ebm_samplers::{AnyChain, AnySampler, Gibbs, Metropolis};
use ebm_testkit::statistics::{TvReport, sampler_tv};
use ebm_thermo::kaufman::kaufman_mean_energy;
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

/// The two samplers that run the kernel.
fn kernel_samplers() -> [(&'static str, AnySampler); 2] {
    [
        ("metropolis", AnySampler::Metropolis(Metropolis::block())),
        ("gibbs", AnySampler::Gibbs(Gibbs::block())),
    ]
}

fn runs_kernel(chain: &AnyChain) -> bool {
    matches!(chain, AnyChain::Site(c) if c.runs_model_kernel())
}

fn check_tv(name: &str, model: &Ising, betas: &[f64]) {
    let mut failures = Vec::new();
    for (s_name, sampler) in kernel_samplers() {
        assert!(runs_kernel(&sampler.start(model, &vec![1; model.n_units()]).unwrap()));
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
    for (name, sampler) in kernel_samplers() {
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
                "{name} β={beta}: u = {:.5} ± {:.5} (τ {:.1}), exact {exact:.5}, z = {z:.2}",
                est.mean, est.std_err, est.tau_int
            );
            if z.is_nan() || z.abs() >= 4.0 {
                failures.push(format!("{name} β={beta}: {est:?} vs {exact}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Mean energy per spin over `n_chains` chains of `n_sweeps` sweeps after
/// `n_warmup`, as an `ebm_thermo::estimate`.
fn energy_estimate(
    m: &Ising,
    sampler: &AnySampler,
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
    // rows of 40 and 48 sites per colour: the 32-site vector kernel plus a
    // tail; and of 64 (with AVX-512: one 64-site block, wrapping at both ends)
    let mut failures = Vec::new();
    let torus = Ising::square(48, 80, Boundary::Periodic, 1.0, 0.0).unwrap();
    let wide = Ising::square(16, 128, Boundary::Periodic, 1.0, 0.0).unwrap();
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
    for (name, sampler) in kernel_samplers() {
        for beta in [0.3, 0.6] {
            for (m, (rows, cols)) in [(&torus, (48, 80)), (&wide, (16, 128))] {
                let est = energy_estimate(m, &sampler, beta, (8, 300, 3000));
                let exact = kaufman_mean_energy(rows, cols, 1.0, beta) / (rows * cols) as f64;
                let z = (est.mean - exact) / est.std_err;
                let what = format!("{rows}×{cols} torus {name} β={beta}");
                println!("{what}: {:.5} ± {:.5} vs {exact:.5}", est.mean, est.std_err);
                if z.is_nan() || z.abs() >= 4.0 {
                    failures.push(format!("{what}: {est:?} vs {exact}"));
                }
            }
        }
        for beta in [0.5, 1.0] {
            let est = energy_estimate(&ring, &sampler, beta, (8, 300, 5000));
            let eps = 1e-5;
            let exact = -(ln_z(beta + eps) - ln_z(beta - eps)) / (2.0 * eps) / n as f64;
            let z = (est.mean - exact) / est.std_err;
            println!("ring {name} β={beta}: {:.5} ± {:.5} vs {exact:.5}", est.mean, est.std_err);
            if z.is_nan() || z.abs() >= 4.0 {
                failures.push(format!("ring {name} β={beta}: {est:?} vs {exact}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// 30 sweeps of a random start on a pool of `threads` threads.
fn run_on(threads: usize, m: &Ising, sampler: &AnySampler, beta: f64) -> AnyChain {
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
        for (name, sampler) in kernel_samplers() {
            let one = run_on(1, m, &sampler, 0.44);
            assert!(runs_kernel(&one));
            for threads in [2, 4] {
                let other = run_on(threads, m, &sampler, 0.44);
                assert_eq!(one.state(), other.state(), "{name} {threads} threads");
                assert_eq!(one.acceptance_rate(), other.acceptance_rate());
                assert!(one == other);
            }
            let rate = one.acceptance_rate().unwrap();
            assert!(rate > 0.05 && rate < 0.95, "{rate}");
        }
    }
}

#[test]
fn sweep_batch_on_kernel_chains_equals_sweeping_one_by_one() {
    let m = Ising::square(8, 8, Boundary::Periodic, 1.0, 0.2).unwrap();
    for (name, sampler) in kernel_samplers() {
        let starts: Vec<Vec<i8>> = (0..3)
            .map(|c| (0..64).map(|i| if (i * 7 + c) % 3 == 0 { -1 } else { 1 }).collect())
            .collect();
        let mut a: Vec<AnyChain> = starts.iter().map(|x| sampler.start(&m, x).unwrap()).collect();
        let mut b = a.clone();
        let mut ra: Vec<_> = (0..3).map(|c| Seed(9).stream(Purpose::SAMPLING, c)).collect();
        let mut rb = ra.clone();
        for _ in 0..5 {
            sampler.sweep_batch(&m, &mut a, Beta::new(0.4).unwrap(), &mut ra);
            for (c, r) in b.iter_mut().zip(rb.iter_mut()) {
                sampler.sweep(&m, c, Beta::new(0.4).unwrap(), r);
            }
        }
        assert_eq!(a, b, "{name}");
    }
}

#[test]
fn the_state_view_follows_site_order_and_beta_to_infinity_freezes() {
    let m = Ising::square(6, 8, Boundary::Periodic, 1.0, 0.0).unwrap();
    let x0: Vec<i8> = (0..48).map(|i| if (i * 7) % 5 < 2 { -1 } else { 1 }).collect();
    for (_, s) in kernel_samplers() {
        let chain = s.start(&m, &x0).unwrap();
        assert!(runs_kernel(&chain));
        assert_eq!(chain.state(), &x0[..]);
        assert_eq!(chain.acceptance_rate(), None);
    }
    // zero temperature limit: β large, every downhill move taken, uphill never
    let m = Ising::square(4, 4, Boundary::Periodic, 1.0, 0.0).unwrap();
    let s = AnySampler::Metropolis(Metropolis::block());
    let mut c = s.start(&m, &[1; 16]).unwrap();
    let mut rng = Seed(1).stream(Purpose::SAMPLING, 0);
    s.sweep(&m, &mut c, Beta::new(50.0).unwrap(), &mut rng);
    assert_eq!(c.state(), &[1; 16][..]);
    assert_eq!(c.acceptance_rate(), Some(0.0));
}

#[test]
fn only_uniform_periodic_even_lattices_get_the_kernel() {
    let kernel = |m: &Ising| {
        kernel_samplers()
            .iter()
            .all(|(_, s)| runs_kernel(&s.start(m, &vec![1; m.n_units()]).unwrap()))
    };
    let none = |m: &Ising| {
        kernel_samplers()
            .iter()
            .all(|(_, s)| !runs_kernel(&s.start(m, &vec![1; m.n_units()]).unwrap()))
    };
    assert!(kernel(&Ising::square(4, 6, Boundary::Periodic, 1.0, 0.3).unwrap()));
    assert!(kernel(&Ising::chain(8, Boundary::Periodic, -1.0, 0.0).unwrap()));
    assert!(kernel(&Ising::cubic(2, 4, 6, Boundary::Periodic, 0.5, 0.0).unwrap()));
    // a graph, open boundaries, an odd side, a glass, random fields
    let graph =
        Ising::from_edges(4, &[(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (3, 0, 1.0)], &[0.0; 4])
            .unwrap();
    assert!(none(&graph));
    assert!(none(&Ising::square(4, 4, Boundary::Open, 1.0, 0.0).unwrap()));
    assert!(none(&Ising::square(4, 5, Boundary::Periodic, 1.0, 0.0).unwrap()));
    assert!(none(&Ising::spin_glass_pm(&[4, 4], Boundary::Periodic, 1.0, Seed(1)).unwrap()));
    let rf = Ising::square(4, 4, Boundary::Periodic, 1.0, 0.0)
        .unwrap()
        .with_random_fields(Disorder::Gaussian { mean: 0.0, std: 1.0 }, Seed(2))
        .unwrap();
    assert!(none(&rf));
    // clamped samplers never take it
    let m = Ising::square(4, 4, Boundary::Periodic, 1.0, 0.0).unwrap();
    let clamped = Gibbs::block().with_clamp(ebm_samplers::Clamp::first(2, 16));
    assert!(!clamped.start(&m, &[1; 16]).unwrap().runs_model_kernel());
    // bad states are still typed errors
    for (_, s) in kernel_samplers() {
        assert!(s.start(&m, &[1; 15]).is_err());
        let mut x = [1i8; 16];
        x[9] = 0;
        assert!(s.start(&m, &x).is_err());
    }
}

/// The kernel reads J and h from the model of each sweep: chains started
/// (and run) on one model, then run on a model with other J and h, sample
/// the second model's exact distribution; a model that stops being uniform
/// moves the chain to the generic sweep, which samples it exactly too.
#[test]
fn chains_follow_the_model_they_are_given_on_every_sweep() {
    let a = Ising::square(4, 4, Boundary::Periodic, 0.9, 0.0).unwrap();
    let mut b = a.clone();
    let e = b.n_edges();
    let mut theta = vec![-0.6; e];
    theta.extend(vec![0.25; 16]);
    b.set_params(&theta).unwrap();
    let mut glass = a.clone();
    let theta: Vec<f64> = (0..e + 16).map(|k| 0.5 * ((k * 37 % 11) as f64 / 11.0 - 0.4)).collect();
    glass.set_params(&theta).unwrap();
    let beta = Beta::new(0.8).unwrap();
    let (n_chains, n_sweeps) = (100, 300);
    for target in [&b, &glass] {
        let p = ebm_thermo::exact_distribution(target, beta).unwrap().probs;
        let p_a = ebm_thermo::exact_distribution(&a, beta).unwrap().probs;
        for (name, s) in kernel_samplers() {
            let counts: Vec<Vec<u64>> = (0..n_chains as u64)
                .map(|c| {
                    let mut rng = Seed(31).stream(Purpose::SAMPLING, c);
                    let mut x = vec![1i8; 16];
                    // start from an exact sample of the target; run on `a` first
                    let code = ebm_testkit::statistics::draw_code(&p_a, uniform(&mut rng));
                    ebm_core::Domain::Spin.decode(code, &mut x);
                    let mut chain = s.start(&a, &x).unwrap();
                    for _ in 0..50 {
                        s.sweep(&a, &mut chain, beta, &mut rng);
                    }
                    // burn in on the target, then record
                    for _ in 0..50 {
                        s.sweep(target, &mut chain, beta, &mut rng);
                    }
                    let mut h = vec![0u64; p.len()];
                    for _ in 0..n_sweeps {
                        s.sweep(target, &mut chain, beta, &mut rng);
                        h[ebm_core::Domain::Spin.encode(chain.state()) as usize] += 1;
                    }
                    assert_eq!(runs_kernel(&chain), target.uniform_couplings().is_some());
                    h
                })
                .collect();
            let r = ebm_testkit::statistics::tv_test(&p, &counts);
            println!(
                "{name} → {}: TV {:.4} ≤ {:.4}",
                target.uniform_couplings().is_some(),
                r.tv,
                r.bound
            );
            assert!(r.passed(), "{name}: {r:?}");
            // negative control: the same histograms are far from model a's
            let wrong = ebm_testkit::statistics::tv_test(&p_a, &counts);
            assert!(!wrong.passed(), "{name}: control passed {wrong:?}");
        }
    }
}
