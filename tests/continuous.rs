//! Real-valued units through the same core: MALA (alone, in parallel
//! tempering, through the chain runner) against the closed-form Gaussian,
//! with error bars from the chains' autocorrelation and a mis-tempered
//! negative control that must fail; the gradient conformance check.

use ebm_core::{Beta, Chain, Purpose, Sampler, Seed};
use ebm_samplers::{Hmc, Init, Ladder, Mala, ParallelTempering, Run, Ula};
use ebm_testkit::check_gradient;
use ebm_testkit::toy::Gaussian;
use ebm_thermo::estimate;

/// A correlated, anisotropic Gaussian: precision with off-diagonal terms and
/// scales spread over a factor of 9.
fn gaussian(n: usize) -> Gaussian {
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        a[i * n + i] = 1.0 + 8.0 * i as f64 / (n.max(2) - 1) as f64;
        if i + 1 < n {
            a[i * n + i + 1] = 0.4;
            a[(i + 1) * n + i] = 0.4;
        }
    }
    let mean = (0..n).map(|i| (i as f64 - 1.0) * 0.5).collect();
    Gaussian::new(mean, a).unwrap()
}

/// Means and second central moments of every unit (and the (0, 1)
/// covariance) against the exact ones: the number of |z| > 5 among them.
fn check_moments(
    g: &Gaussian,
    sampler: &impl Sampler<Gaussian>,
    beta: f64,
    sample_beta: f64,
) -> usize {
    check_moments_against(g, sampler, sample_beta, g.mean(), &g.covariance(beta), 6000)
}

/// Means and second moments of every unit (and the (0, 1) covariance) of
/// `sampler` at `sample_beta` against `mu` and the row-major `cov`: the
/// number of |z| > 5 among them, each z with its τ_int-aware error bar
/// (`estimate` over 8 chains of `sweeps` sweeps after 500 warm-up sweeps).
fn check_moments_against(
    g: &Gaussian,
    sampler: &impl Sampler<Gaussian>,
    sample_beta: f64,
    mu: &[f64],
    cov: &[f64],
    sweeps: usize,
) -> usize {
    let n = ebm_core::EnergyModel::n_units(g);
    let (traces, _) = Run::new(g, sampler, Beta::new(sample_beta).unwrap())
        .chains(8)
        .warmup(500)
        .sweeps(sweeps)
        .seed(Seed(3))
        .init(Init::Uniform)
        .record(2 * n + 1, |_: &Gaussian, x: &[f64], out: &mut [f64]| {
            for i in 0..n {
                out[i] = x[i];
                out[n + i] = x[i] * x[i];
            }
            out[2 * n] = x[0] * x[1];
        })
        .unwrap();
    let mut bad = 0;
    let want = |k: usize| {
        if k < n {
            mu[k]
        } else if k < 2 * n {
            let i = k - n;
            cov[i * n + i] + mu[i] * mu[i]
        } else {
            cov[1] + mu[0] * mu[1]
        }
    };
    for k in 0..2 * n + 1 {
        let chains = traces.chains(k);
        let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
        let e = estimate(&refs);
        let z = (e.mean - want(k)) / e.std_err;
        if z.abs() > 5.0 {
            bad += 1;
        }
    }
    bad
}

#[test]
fn mala_samples_correlated_anisotropic_gaussians_exactly() {
    for n in [2, 10] {
        let g = gaussian(n);
        let mala = Mala::new(0.3).unwrap().with_steps(2).unwrap();
        for beta in [0.5, 1.0, 3.0] {
            let bad = check_moments(&g, &mala, beta, beta);
            assert_eq!(bad, 0, "n = {n}, β = {beta}: {bad} moments off by more than 5 se");
        }
    }
    // n = 50 (101 moments), the step adapted during warm-up
    let g = gaussian(50);
    let mala = Mala::new(0.3).unwrap().with_steps(2).unwrap().adapt_during(400, 0.574).unwrap();
    let bad = check_moments(&g, &mala, 1.0, 1.0);
    assert_eq!(bad, 0, "n = 50: {bad} moments off by more than 5 se");
    assert!(check_moments(&g, &mala, 1.0, 0.85) > 0, "mis-tempered MALA at n = 50 must fail");
}

#[test]
fn hmc_samples_correlated_anisotropic_gaussians_exactly() {
    for n in [2, 10] {
        let g = gaussian(n);
        // a mass matrix matched to the scales, and the identity
        let mass: Vec<f64> = (0..n).map(|i| 1.0 + 8.0 * i as f64 / (n.max(2) - 1) as f64).collect();
        for hmc in [Hmc::new(0.15, 8).unwrap(), Hmc::new(0.3, 6).unwrap().with_mass(mass).unwrap()]
        {
            for beta in [0.5, 1.0, 3.0] {
                let bad = check_moments(&g, &hmc, beta, beta);
                assert_eq!(bad, 0, "n = {n}, β = {beta}, {hmc:?}: {bad} moments off");
            }
        }
    }
    // the negative control: mis-tempered HMC fails
    assert!(check_moments(&gaussian(2), &Hmc::new(0.15, 8).unwrap(), 1.0, 0.8) > 0);
    assert!(Hmc::new(0.1, 0).is_err() && Hmc::new(-1.0, 3).is_err());
    assert!(Hmc::new(0.1, 3).unwrap().with_mass(vec![1.0, 0.0]).is_err());
    let wrong_len = Hmc::new(0.1, 3).unwrap().with_mass(vec![1.0; 3]).unwrap();
    assert!(wrong_len.start(&gaussian(2), &[0.0, 0.0]).is_err());
}

#[test]
fn mala_adapts_its_step_during_warm_up_only_and_stays_exact() {
    // a step 10× too large (acceptance ≈ 0) adapted during the first 400
    // sweeps (the runner's 500 warm-up sweeps cover them) toward 0.574
    let g = gaussian(10);
    let mala = Mala::new(3.0).unwrap().adapt_during(400, 0.574).unwrap();
    assert_eq!(check_moments(&g, &mala, 1.0, 1.0), 0);
    let mut rng = Seed(12).stream(Purpose::SAMPLING, 0);
    let mut c = mala.start(&g, g.mean()).unwrap();
    for _ in 0..400 {
        mala.sweep(&g, &mut c, Beta::ONE, &mut rng);
    }
    let frozen = c.step_factor();
    c.reset_counters();
    for _ in 0..4000 {
        mala.sweep(&g, &mut c, Beta::ONE, &mut rng);
    }
    assert_eq!(c.step_factor(), frozen, "the step moved after the adaptation");
    let rate = c.acceptance_rate().unwrap();
    assert!(frozen < 0.5 && (0.4..0.75).contains(&rate), "factor {frozen}, acceptance {rate}");
    // a warm-up shorter than the adaptation is rejected by the runner
    let short = Run::new(&g, &mala, Beta::ONE)
        .warmup(100)
        .sweeps(10)
        .record(1, |_: &Gaussian, x: &[f64], o: &mut [f64]| o[0] = x[0]);
    assert!(short.is_err());
    // the adapted step is part of the chain's record
    let b = mala.restore(&g, &c.record()).unwrap();
    assert_eq!(b.step_factor(), frozen);
    assert!(Mala::new(0.1).unwrap().adapt_during(10, 1.0).is_err());
}

#[test]
fn a_mis_tempered_mala_fails_the_same_test() {
    let g = gaussian(2);
    let mala = Mala::new(0.3).unwrap().with_steps(2).unwrap();
    // sampling at 0.8 β: variances 25% too large
    assert!(check_moments(&g, &mala, 1.0, 0.8) > 0);
}

#[test]
fn tempering_over_mala_and_whole_chain_records_work_on_real_units() {
    let g = gaussian(4);
    let pt = ParallelTempering::new(Mala::new(0.3).unwrap(), Ladder::geometric(4, 0.3).unwrap());
    assert_eq!(check_moments(&g, &pt, 1.0, 1.0), 0);
    // a restored tempering chain continues bit for bit
    let mut rng = Seed(9).stream(Purpose::SAMPLING, 0);
    let mut a = pt.start(&g, &[0.0; 4]).unwrap();
    for _ in 0..50 {
        pt.sweep(&g, &mut a, Beta::ONE, &mut rng);
    }
    let mut b = pt.restore(&g, &a.record()).unwrap();
    let mut rng_b = rng.clone();
    for _ in 0..50 {
        pt.sweep(&g, &mut a, Beta::ONE, &mut rng);
        pt.sweep(&g, &mut b, Beta::ONE, &mut rng_b);
    }
    assert_eq!(a.state(), b.state());
}

#[test]
fn gradients_are_checked_against_finite_differences() {
    let g = gaussian(5);
    check_gradient(&g, &[0.3, -1.0, 2.0, 0.1, -0.7], 1e-5, 1e-7).unwrap();
    // a wrong gradient is caught
    struct Wrong(Gaussian);
    impl ebm_core::EnergyModel for Wrong {
        type Space = ebm_core::Reals;
        fn n_units(&self) -> usize {
            self.0.n_units()
        }
        fn space(&self) -> &ebm_core::Reals {
            &ebm_core::Reals
        }
        fn energy(&self, x: &[f64]) -> f64 {
            self.0.energy(x)
        }
    }
    impl ebm_core::GradientModel for Wrong {
        fn energy_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
            let e = ebm_core::GradientModel::energy_and_gradient(&self.0, x, grad);
            grad[2] *= 1.01;
            e
        }
    }
    assert!(check_gradient(&Wrong(gaussian(5)), &[0.3, -1.0, 2.0, 0.1, -0.7], 1e-5, 1e-7).is_err());
    // bad input
    assert!(Mala::new(0.0).is_err() && Mala::new(f64::NAN).is_err());
    assert!(Mala::new(0.1).unwrap().start(&g, &[0.0, f64::NAN, 0.0, 0.0, 0.0]).is_err());
    assert!(
        Gaussian::new(vec![0.0; 2], vec![1.0, 2.0, 2.0, 1.0]).is_err(),
        "not positive definite"
    );
}

#[test]
fn ais_from_a_gaussian_base_matches_the_cholesky_ln_z() {
    use ebm_thermo::ais::{Ais, DiagonalGaussian, Schedule};
    // the correlated n = 10 Gaussian, from the diagonal Gaussian with its
    // means and marginal variances (what `DiagonalGaussian::fit` gives from
    // samples): the path has only the correlations to build; MALA at each step
    let g = gaussian(10);
    let sd: Vec<f64> = (0..10).map(|i| g.covariance(1.0)[i * 10 + i].sqrt()).collect();
    let base = DiagonalGaussian::new(g.mean().to_vec(), sd).unwrap();
    let mala = Mala::new(0.25).unwrap().with_steps(2).unwrap();
    let ais = Ais::new(Schedule::Linear(300), 64).unwrap();
    for (beta, seed) in [(1.0, 1u64), (2.5, 2), (0.5, 3)] {
        let est = ais.log_z_from(&g, &base, &mala, Beta::new(beta).unwrap(), Seed(seed)).unwrap();
        let want = g.log_z(beta);
        eprintln!(
            "β = {beta}: AIS {:.4} ± {:.4} (ESS {:.1}), Cholesky {want:.4}",
            est.log_z, est.std_err, est.ess
        );
        assert!(est.contains(want), "β = {beta}: {est:?} vs {want}");
        assert!(est.std_err < 0.05, "{est:?}");
    }
    // the wrong answer is excluded: ln Z at another β
    let est = ais.log_z_from(&g, &base, &mala, Beta::ONE, Seed(5)).unwrap();
    assert!(!est.contains(g.log_z(1.1)), "{est:?}");
    // the moment fit of exact samples gives the same kind of base
    let mut rng = Seed(6).stream(Purpose::DATA, 0);
    let mut c = mala.start(&g, g.mean()).unwrap();
    let mut rows = Vec::new();
    for _ in 0..4000 {
        mala.sweep(&g, &mut c, Beta::ONE, &mut rng);
        rows.extend_from_slice(c.state());
    }
    let fitted = DiagonalGaussian::fit(&rows, 10, 1e-3).unwrap();
    let est = ais.log_z_from(&g, &fitted, &mala, Beta::ONE, Seed(7)).unwrap();
    assert!(est.contains(g.log_z(1.0)), "{est:?}");
    assert!(DiagonalGaussian::new(vec![0.0], vec![0.0]).is_err());
}

/// A tilted double well, E = a (x² − 1)² + t x, with its gradient.
struct DoubleWell {
    a: f64,
    t: f64,
}

impl ebm_core::EnergyModel for DoubleWell {
    type Space = ebm_core::Reals;
    fn n_units(&self) -> usize {
        1
    }
    fn space(&self) -> &ebm_core::Reals {
        &ebm_core::Reals
    }
    fn energy(&self, x: &[f64]) -> f64 {
        self.a * (x[0] * x[0] - 1.0).powi(2) + self.t * x[0]
    }
}

impl ebm_core::GradientModel for DoubleWell {
    fn energy_and_gradient(&self, x: &[f64], g: &mut [f64]) -> f64 {
        g[0] = 4.0 * self.a * x[0] * (x[0] * x[0] - 1.0) + self.t;
        ebm_core::EnergyModel::energy(self, x)
    }
}

/// z-scores of ⟨x⟩, ⟨x²⟩ and P(x > 0) against quadrature, and the split-R̂
/// of P(x > 0) across the chains.
fn double_well_z(
    m: &DoubleWell,
    s: &impl Sampler<DoubleWell>,
    beta: f64,
    sweeps: usize,
) -> ([f64; 3], f64) {
    use ebm_core::EnergyModel;
    let exact = ebm_testkit::quadrature::moments_1d(|x| m.energy(&[x]), beta, -6.0, 6.0, 20_000);
    let (traces, _) = Run::new(m, s, Beta::new(beta).unwrap())
        .chains(8)
        .warmup(500)
        .sweeps(sweeps)
        .seed(Seed(21))
        .record(3, |_: &DoubleWell, x: &[f64], out: &mut [f64]| {
            out[0] = x[0];
            out[1] = x[0] * x[0];
            out[2] = f64::from(u8::from(x[0] > 0.0));
        })
        .unwrap();
    let want = [exact.mean, exact.second, exact.positive];
    let est = |k: usize| {
        let chains = traces.chains(k);
        let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
        estimate(&refs)
    };
    let z = std::array::from_fn(|k| {
        let e = est(k);
        (e.mean - want[k]) / e.std_err
    });
    (z, est(2).r_hat)
}

#[test]
fn mala_and_hmc_match_a_double_well_by_quadrature() {
    let m = DoubleWell { a: 1.0, t: 0.3 };
    for beta in [1.0, 3.0] {
        let mala = Mala::new(0.5).unwrap();
        let hmc = Hmc::new(0.2, 10).unwrap();
        let (zm, _) = double_well_z(&m, &mala, beta, 20_000);
        let (zh, _) = double_well_z(&m, &hmc, beta, 5_000);
        assert!(zm.iter().chain(&zh).all(|z| z.abs() < 5.0), "β = {beta}: MALA {zm:?}, HMC {zh:?}");
    }
    // the quadrature itself: a wide Gaussian (E = x²/8) has ln Z = ½ ln(8π)
    let g = ebm_testkit::quadrature::moments_1d(|x| x * x / 8.0, 1.0, -40.0, 40.0, 20_000);
    assert!((g.log_z - 0.5 * (8.0 * std::f64::consts::PI).ln()).abs() < 1e-9);
}

#[test]
fn tempering_over_hmc_crosses_a_barrier_that_hmc_alone_does_not() {
    // barrier 10 at β = 1 between wells at ±1 with a tilt: plain HMC with
    // short trajectories stays where it starts; PT over it tunnels
    let m = DoubleWell { a: 10.0, t: 0.5 };
    let hmc = Hmc::new(0.05, 10).unwrap();
    let pt = ParallelTempering::new(hmc.clone(), Ladder::geometric(8, 0.02).unwrap());
    let (z_pt, r_pt) = double_well_z(&m, &pt, 1.0, 16_000);
    assert!(z_pt.iter().all(|z| z.abs() < 5.0) && r_pt < 1.05, "PT over HMC: {z_pt:?}, R̂ {r_pt}");
    // plain HMC: chains stuck in the well they started in; the diagnostics
    // say so (split-R̂ of the well indicator far above 1)
    let (z_plain, r_plain) = double_well_z(&m, &hmc, 1.0, 4_000);
    eprintln!("plain HMC: z {z_plain:?}, R̂ {r_plain:.2}; PT: z {z_pt:?}, R̂ {r_pt:.3}");
    assert!(r_plain > 1.5, "plain HMC should not mix between the wells: R̂ {r_plain}");
    // round trips of the walkers across the ladder
    let mut rng = Seed(4).stream(Purpose::SAMPLING, 0);
    let mut c = pt.start(&m, &[1.0]).unwrap();
    for _ in 0..4000 {
        pt.sweep(&m, &mut c, Beta::ONE, &mut rng);
    }
    eprintln!(
        "PT over HMC: {} round trips in 4000 sweeps, swap rates {:?}",
        c.round_trips(),
        c.swap_rates()
    );
    assert!(c.round_trips() >= 10, "{}", c.round_trips());
}

/// ULA's stationary covariance on the Gaussian of precision A at β with step
/// ε: `(βA (I − ε²βA/4))⁻¹` (n = 2, by the 2 × 2 inverse).
fn ula_covariance_2(g: &Gaussian, beta: f64, eps: f64) -> Vec<f64> {
    // A from the exact covariance A⁻¹/β at β = 1
    let c = g.covariance(1.0);
    let det = c[0] * c[3] - c[1] * c[2];
    let a = [c[3] / det, -c[1] / det, -c[2] / det, c[0] / det];
    let a2 = [
        a[0] * a[0] + a[1] * a[2],
        a[0] * a[1] + a[1] * a[3],
        a[2] * a[0] + a[3] * a[2],
        a[2] * a[1] + a[3] * a[3],
    ];
    let k = eps * eps * beta * beta / 4.0;
    let b: Vec<f64> = (0..4).map(|i| beta * a[i] - k * a2[i]).collect();
    let d = b[0] * b[3] - b[1] * b[2];
    vec![b[3] / d, -b[1] / d, -b[2] / d, b[0] / d]
}

#[test]
fn ula_has_its_derived_discretisation_bias_and_is_exact_as_the_step_vanishes() {
    // E = ½ a x²: stationary variance 1/(βa(1 − ε²βa/4)); at a = 2, β = 1,
    // ε = 0.9 that is 0.840 against the exact 0.5 (1.68×)
    let g1 = Gaussian::new(vec![0.5], vec![2.0]).unwrap();
    let ula = Ula::new(0.9).unwrap();
    let v = ula.stationary_variance(2.0, Beta::ONE).unwrap();
    assert!((v - 1.0 / (2.0 * (1.0 - 0.81 * 2.0 / 4.0))).abs() < 1e-15);
    let biased = check_moments_1d(&g1, &ula, 1.0, &[0.5], v);
    let exact = check_moments_1d(&g1, &ula, 1.0, &[0.5], 0.5);
    eprintln!(
        "ULA ε = 0.9, E = x²: variance {v:.4} (derived) vs 0.5 (exact): {biased} / {exact} moments off"
    );
    assert_eq!(biased, 0, "ULA misses its derived stationary variance");
    assert!(exact > 0, "the negative control: ULA at a large step is not exact");
    assert!(Ula::new(1.5).unwrap().stationary_variance(2.0, Beta::ONE).is_none(), "unstable");
    // the correlated n = 2 Gaussian: the derived covariance (βA(I − ε²βA/4))⁻¹
    let g = gaussian(2);
    for (beta, eps) in [(1.0, 0.4), (3.0, 0.2)] {
        let cov = ula_covariance_2(&g, beta, eps);
        let ula = Ula::new(eps).unwrap().with_steps(4).unwrap();
        let bad = check_moments_against(&g, &ula, beta, g.mean(), &cov, 6000);
        let bad_exact = check_moments_against(&g, &ula, beta, g.mean(), &g.covariance(beta), 6000);
        eprintln!("ULA n = 2, β = {beta}, ε = {eps}: derived {bad}, exact {bad_exact} moments off");
        assert_eq!(bad, 0, "β = {beta}: ULA's derived covariance");
        assert!(bad_exact > 0, "β = {beta}: the exact covariance must be excluded at ε = {eps}");
    }
    // a small step: the bias (≈ 0.25% at ε = 0.05, n = 2) is far below the
    // error bars, so the exact moments hold
    let small = Ula::new(0.05).unwrap().with_steps(40).unwrap();
    assert_eq!(check_moments(&g, &small, 1.0, 1.0), 0);
    assert!(Ula::new(0.0).is_err() && Ula::new(0.1).unwrap().with_steps(0).is_err());
}

/// The mean and second moment of the 1-D Gaussian under `sampler` against
/// `mu` and variance `var`: the number of |z| > 5.
fn check_moments_1d(
    g: &Gaussian,
    sampler: &impl Sampler<Gaussian>,
    beta: f64,
    mu: &[f64],
    var: f64,
) -> usize {
    let (traces, _) = Run::new(g, sampler, Beta::new(beta).unwrap())
        .chains(8)
        .warmup(500)
        .sweeps(20_000)
        .seed(Seed(8))
        .record(2, |_: &Gaussian, x: &[f64], out: &mut [f64]| {
            out[0] = x[0];
            out[1] = x[0] * x[0];
        })
        .unwrap();
    let want = [mu[0], var + mu[0] * mu[0]];
    (0..2)
        .filter(|&k| {
            let chains = traces.chains(k);
            let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
            let e = estimate(&refs);
            ((e.mean - want[k]) / e.std_err).abs() > 5.0
        })
        .count()
}

#[test]
fn hmc_with_a_dense_mass_samples_correlated_gaussians_exactly() {
    // M = βA (the precision at the sampled β) makes the dynamics isotropic
    for (n, beta) in [(2, 1.0), (2, 3.0), (50, 1.0)] {
        let g = gaussian(n);
        let cov = g.covariance(1.0);
        // the precision, by inverting the covariance back (the oracle keeps A private)
        let a = invert(&cov, n);
        let m: Vec<f64> = a.iter().map(|v| v * beta).collect();
        let hmc = Hmc::new(0.5, 4).unwrap().with_dense_mass(symmetrise(m, n)).unwrap();
        let bad = check_moments(&g, &hmc, beta, beta);
        assert_eq!(bad, 0, "n = {n}, β = {beta}: {bad} of {} moments off", 2 * n + 1);
        let mut c = hmc.start(&g, g.mean()).unwrap();
        let mut rng = Seed(1).stream(Purpose::SAMPLING, 0);
        for _ in 0..500 {
            hmc.sweep(&g, &mut c, Beta::new(beta).unwrap(), &mut rng);
        }
        eprintln!("dense HMC n = {n}, β = {beta}: acceptance {:.3}", c.acceptance_rate().unwrap());
    }
    // the negative control: the same dense HMC mis-tempered fails
    let g = gaussian(2);
    let a = symmetrise(invert(&g.covariance(1.0), 2), 2);
    let hmc = Hmc::new(0.5, 4).unwrap().with_dense_mass(a.clone()).unwrap();
    assert!(check_moments(&g, &hmc, 1.0, 0.8) > 0);
    // typed errors: not SPD, asymmetric, not square, wrong size for the model
    let h = || Hmc::new(0.1, 3).unwrap();
    assert!(h().with_dense_mass(vec![1.0, 2.0, 2.0, 1.0]).is_err());
    assert!(h().with_dense_mass(vec![1.0, 0.1, 0.2, 1.0]).is_err());
    assert!(h().with_dense_mass(vec![1.0, 0.0, 0.0]).is_err());
    assert!(h().with_dense_mass(vec![1.0, f64::NAN, f64::NAN, 1.0]).is_err());
    let three = h().with_dense_mass(vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]).unwrap();
    assert!(three.start(&g, &[0.0, 0.0]).is_err());
}

/// The inverse of a row-major SPD matrix by Gauss–Jordan (test helper).
fn invert(m: &[f64], n: usize) -> Vec<f64> {
    let mut a = m.to_vec();
    let mut inv: Vec<f64> = (0..n * n).map(|k| f64::from(u8::from(k / n == k % n))).collect();
    for col in 0..n {
        let p = a[col * n + col];
        for j in 0..n {
            a[col * n + j] /= p;
            inv[col * n + j] /= p;
        }
        for r in 0..n {
            if r != col {
                let f = a[r * n + col];
                for j in 0..n {
                    a[r * n + j] -= f * a[col * n + j];
                    inv[r * n + j] -= f * inv[col * n + j];
                }
            }
        }
    }
    inv
}

/// `(M + Mᵀ)/2`, exactly symmetric.
fn symmetrise(m: Vec<f64>, n: usize) -> Vec<f64> {
    (0..n * n).map(|k| 0.5 * (m[k] + m[(k % n) * n + k / n])).collect()
}

#[test]
fn hmc_adapts_its_step_during_warm_up_only_and_resumes_bit_for_bit() {
    // a step 6× too large adapted toward 0.65 during the first 400 sweeps
    let g = gaussian(10);
    let hmc = Hmc::new(2.0, 5).unwrap().adapt_during(400, 0.65).unwrap();
    assert_eq!(check_moments(&g, &hmc, 1.0, 1.0), 0);
    let mut rng = Seed(12).stream(Purpose::SAMPLING, 0);
    let mut c = hmc.start(&g, g.mean()).unwrap();
    for _ in 0..400 {
        hmc.sweep(&g, &mut c, Beta::ONE, &mut rng);
    }
    let frozen = c.step_factor();
    c.reset_counters();
    for _ in 0..3000 {
        hmc.sweep(&g, &mut c, Beta::ONE, &mut rng);
    }
    assert_eq!(c.step_factor(), frozen, "the step moved after the adaptation");
    let rate = c.acceptance_rate().unwrap();
    eprintln!("HMC adapted: factor {frozen:.4} (step {:.4}), acceptance {rate:.3}", 2.0 * frozen);
    assert!(frozen < 0.5 && (0.45..0.85).contains(&rate), "factor {frozen}, acceptance {rate}");
    // the runner rejects a warm-up shorter than the adaptation
    let short = Run::new(&g, &hmc, Beta::ONE)
        .warmup(100)
        .sweeps(10)
        .record(1, |_: &Gaussian, x: &[f64], o: &mut [f64]| o[0] = x[0]);
    assert!(short.is_err());
    assert!(Hmc::new(0.1, 2).unwrap().adapt_during(10, 0.0).is_err());
    // resume mid-adaptation, with a dense mass: a restored chain continues
    // exactly as the uninterrupted one (state, counters, adapted step)
    let a = symmetrise(invert(&g.covariance(1.0), 10), 10);
    let dense =
        Hmc::new(1.5, 4).unwrap().with_dense_mass(a).unwrap().adapt_during(100, 0.7).unwrap();
    let mut rng = Seed(13).stream(Purpose::SAMPLING, 0);
    let mut x = dense.start(&g, &[0.0; 10]).unwrap();
    for _ in 0..40 {
        dense.sweep(&g, &mut x, Beta::ONE, &mut rng);
    }
    let mut y = dense.restore(&g, &x.record()).unwrap();
    let mut rng_y = rng.clone();
    for _ in 0..200 {
        dense.sweep(&g, &mut x, Beta::ONE, &mut rng);
        dense.sweep(&g, &mut y, Beta::ONE, &mut rng_y);
    }
    assert_eq!(x.record(), y.record(), "resume differs from the uninterrupted run");
    assert_eq!(x.step_factor().to_bits(), y.step_factor().to_bits());
}

#[test]
fn ti_from_a_gaussian_base_matches_the_cholesky_ln_z() {
    use ebm_thermo::ais::{DiagonalGaussian, Ti};
    // the path E_t = (1 − t) E₀ + t E from the diagonal Gaussian with the
    // target's means and marginal variances; d ln Z_t/dt = −β⟨E − E₀⟩_t by
    // Simpson over 16 intervals of t, MALA at each node
    let g = gaussian(10);
    let sd: Vec<f64> = (0..10).map(|i| g.covariance(1.0)[i * 10 + i].sqrt()).collect();
    let base = DiagonalGaussian::new(g.mean().to_vec(), sd).unwrap();
    let mala = Mala::new(0.25).unwrap().with_steps(2).unwrap();
    let ti = Ti { intervals: 16, n_chains: 4, burn_in: 200, n_sweeps: 2000 };
    for (beta, seed) in [(1.0, 1u64), (2.5, 2), (0.5, 3)] {
        let t = ti.log_z_from(&g, &base, &mala, Beta::new(beta).unwrap(), Seed(seed)).unwrap();
        let est = t.to_log_z_estimate(ti.n_chains);
        let want = g.log_z(beta);
        eprintln!(
            "TI from a Gaussian base, β = {beta}: {:.4} ± {:.4} (quadrature {:.1e}), Cholesky {want:.4}",
            t.log_z, t.std_err, t.quadrature_error
        );
        assert!(est.contains(want), "β = {beta}: {t:?} vs {want}");
        assert!(est.std_err < 0.05, "{est:?}");
        // the wrong answer is excluded: ln Z at 1.05 β
        assert!(!est.contains(g.log_z(1.05 * beta)), "β = {beta}: {est:?}");
    }
    let bad = Ti { intervals: 6, ..ti };
    assert!(bad.log_z_from(&g, &base, &mala, Beta::ONE, Seed(1)).is_err());
}
