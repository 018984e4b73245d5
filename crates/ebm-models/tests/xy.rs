//! The XY model against its exact solution: every sampler (Metropolis,
//! heat bath, overrelaxation with Metropolis, HMC, MALA) reproduces ⟨E⟩/N of
//! the periodic chain (N = 32, β = 0.5, 1, 2) from the Bessel-function
//! transfer matrix, within error bars from the chains' autocorrelation
//! (τ_int through `ebm_thermo::estimate`); sampling at a wrong β fails the
//! same test. The von Mises draw against its Bessel moments; resume.

use ebm_core::{Beta, Chain, EnergyModel, Purpose, Sampler, Seed};
use ebm_models::lattice::Boundary;
use ebm_models::xy::{Xy, XyMoves, von_mises};
use ebm_samplers::{Hmc, Init, Mala, Run};
use ebm_testkit::bessel::{bessel_i, xy_ring_mean_energy};
use ebm_thermo::estimate;

const N: usize = 32;

/// z of ⟨E⟩/N sampled at `sample_beta` against the exact value at `beta`
/// (8 chains from uniform angles, 500 warm-up sweeps, `sweeps` recorded).
fn energy_z(s: &impl Sampler<Xy>, beta: f64, sample_beta: f64, sweeps: usize) -> (f64, f64, f64) {
    let m = Xy::chain(N, Boundary::Periodic, 1.0, 0.0).unwrap();
    let (traces, _) = Run::new(&m, s, Beta::new(sample_beta).unwrap())
        .chains(8)
        .warmup(500)
        .sweeps(sweeps)
        .seed(Seed(17))
        .init(Init::Uniform)
        .record(1, |m: &Xy, x: &[f64], out: &mut [f64]| out[0] = m.energy(x) / N as f64)
        .unwrap();
    let chains = traces.chains(0);
    let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
    let e = estimate(&refs);
    let want = xy_ring_mean_energy(N, 1.0, beta) / N as f64;
    ((e.mean - want) / e.std_err, e.mean, e.std_err)
}

fn check_sampler(name: &str, s: &impl Sampler<Xy>, sweeps: usize) {
    for beta in [0.5, 1.0, 2.0] {
        let (z, mean, se) = energy_z(s, beta, beta, sweeps);
        let want = xy_ring_mean_energy(N, 1.0, beta) / N as f64;
        eprintln!("{name} β = {beta}: ⟨E⟩/N = {mean:.5} ± {se:.5} (exact {want:.5}, z = {z:.2})");
        assert!(z.abs() < 5.0, "{name} at β = {beta}: z = {z}");
    }
    // the negative control: sampling at 0.9 β must be excluded
    let (z, _, _) = energy_z(s, 1.0, 0.9, sweeps);
    eprintln!("{name} at 0.9 β: z = {z:.1}");
    assert!(z.abs() > 5.0, "{name}: a 10% error in β went unnoticed (z = {z})");
}

#[test]
fn metropolis_with_an_adapted_window_matches_the_exact_chain() {
    check_sampler(
        "Metropolis",
        &XyMoves::metropolis(2.5).unwrap().adapt_during(300, 0.5).unwrap(),
        4000,
    );
}

#[test]
fn the_von_mises_heat_bath_matches_the_exact_chain() {
    check_sampler("heat bath", &XyMoves::heat_bath(), 3000);
}

#[test]
fn overrelaxation_with_metropolis_matches_the_exact_chain() {
    check_sampler(
        "Metropolis + 2 overrelaxation",
        &XyMoves::metropolis(1.0).unwrap().with_overrelaxation(2),
        3000,
    );
}

#[test]
fn hmc_and_mala_on_the_torus_match_the_exact_chain() {
    check_sampler("HMC", &Hmc::new(0.3, 8).unwrap().adapt_during(300, 0.75).unwrap(), 3000);
    check_sampler("MALA", &Mala::new(0.5).unwrap().with_steps(4).unwrap(), 3000);
}

#[test]
fn von_mises_draws_have_the_bessel_moments() {
    // ⟨cos(θ − μ)⟩ = I₁(κ)/I₀(κ), ⟨cos 2(θ − μ)⟩ = I₂/I₀, ⟨sin(θ − μ)⟩ = 0;
    // each within 5 sd of the mean of 100 000 independent draws
    let mut rng = Seed(5).stream(Purpose::SAMPLING, 0);
    let n = 100_000;
    for (kappa, mu) in [(0.0, 1.0), (1e-9, 2.0), (0.3, 0.0), (2.0, 4.0), (30.0, 6.2), (500.0, 3.0)]
    {
        let r = |k| {
            if kappa == 0.0 {
                f64::from(u8::from(k == 0))
            } else {
                bessel_i(k, kappa) / bessel_i(0, kappa)
            }
        };
        let (r1, r2, r4) = (r(1), r(2), r(4));
        let (mut c1, mut c2, mut s1) = (0.0, 0.0, 0.0);
        for _ in 0..n {
            let t = von_mises(&mut rng, mu, kappa);
            assert!((0.0..std::f64::consts::TAU).contains(&t));
            c1 += (t - mu).cos();
            c2 += (2.0 * (t - mu)).cos();
            s1 += (t - mu).sin();
        }
        let nf = n as f64;
        // Var cos = (1 + r₂)/2 − r₁², Var cos 2 = (1 + r₄)/2 − r₂², Var sin = (1 − r₂)/2
        let sd = |v: f64| (v.max(1e-300) / nf).sqrt();
        let checks = [
            (c1 / nf, r1, sd((1.0 + r2) / 2.0 - r1 * r1)),
            (c2 / nf, r2, sd((1.0 + r4) / 2.0 - r2 * r2)),
            (s1 / nf, 0.0, sd((1.0 - r2) / 2.0)),
        ];
        for (k, (got, want, sd)) in checks.into_iter().enumerate() {
            assert!(
                (got - want).abs() < 5.0 * sd + 1e-12,
                "κ = {kappa}, moment {k}: {got} vs {want} (sd {sd})"
            );
        }
    }
}

#[test]
fn xy_chains_resume_bit_for_bit_and_the_window_freezes() {
    let m =
        Xy::new(ebm_models::lattice::Lattice::new(&[4, 4], Boundary::Periodic).unwrap(), 1.0, 0.2)
            .unwrap();
    let s =
        XyMoves::metropolis(3.0).unwrap().adapt_during(100, 0.5).unwrap().with_overrelaxation(1);
    let mut rng = Seed(2).stream(Purpose::SAMPLING, 0);
    let mut a = s.start(&m, &[0.0; 16]).unwrap();
    for _ in 0..40 {
        s.sweep(&m, &mut a, Beta::new(1.2).unwrap(), &mut rng);
    }
    let mut b = s.restore(&m, &a.record()).unwrap();
    let mut rng_b = rng.clone();
    for _ in 0..300 {
        s.sweep(&m, &mut a, Beta::new(1.2).unwrap(), &mut rng);
        s.sweep(&m, &mut b, Beta::new(1.2).unwrap(), &mut rng_b);
    }
    assert_eq!(a.record(), b.record());
    let frozen = a.width_factor();
    a.reset_counters();
    for _ in 0..200 {
        s.sweep(&m, &mut a, Beta::new(1.2).unwrap(), &mut rng);
    }
    assert_eq!(a.width_factor(), frozen);
    let rate = a.acceptance_rate().unwrap();
    assert!((0.4..0.6).contains(&rate), "adapted acceptance {rate}");
    // typed errors
    assert!(XyMoves::metropolis(0.0).is_err() && XyMoves::metropolis(4.0).is_err());
    assert!(XyMoves::heat_bath().adapt_during(10, 1.0).is_err());
    assert!(s.start(&m, &[7.0; 16]).is_err() && s.start(&m, &[0.0; 3]).is_err());
    assert!(
        s.restore(
            &m,
            &ebm_core::ChainRecord { units: vec![0.0; 16], counts: vec![1], reals: vec![] }
        )
        .is_err()
    );
    // observables: an aligned state has |m| = 1 and Υ = J
    let t = m.helicity_terms(&[0.5; 16]);
    assert!((m.abs_magnetisation(&[0.5; 16]) - 1.0).abs() < 1e-12);
    assert!(
        (ebm_models::xy::helicity_modulus(Beta::ONE, 16, t.cos_sum, t.sin_sum.powi(2)) - 1.0).abs()
            < 1e-12
    );
}

#[test]
fn ais_and_ti_from_the_uniform_torus_match_the_bessel_log_z() {
    use ebm_testkit::bessel::xy_ring_log_z;
    use ebm_thermo::ais::{Ais, Schedule, Ti};
    // β = 0 is the uniform distribution on the torus, ln Z₀ = N ln 2π
    let m = Xy::chain(N, Boundary::Periodic, 1.0, 0.0).unwrap();
    let hb = XyMoves::heat_bath();
    let ais = Ais::new(Schedule::Linear(1000), 64).unwrap();
    let ti = Ti { intervals: 16, n_chains: 4, burn_in: 100, n_sweeps: 1000 };
    for (beta, seed) in [(0.5, 1u64), (1.0, 2), (2.0, 3)] {
        let want = xy_ring_log_z(N, beta);
        let b = Beta::new(beta).unwrap();
        let a = ais.log_z(&m, &hb, b, Seed(seed)).unwrap();
        let t = ti.log_z(&m, &hb, b, Seed(seed)).unwrap();
        let te = t.to_log_z_estimate(ti.n_chains);
        eprintln!(
            "XY chain β = {beta}: exact {want:.4}, AIS {:.4} [{:.4}, {:.4}], TI {:.4} ± {:.4} (quadrature {:.1e})",
            a.log_z, a.lower, a.upper, t.log_z, t.std_err, t.quadrature_error
        );
        assert!(a.contains(want), "AIS at β = {beta}: {a:?} vs {want}");
        assert!(te.contains(want), "TI at β = {beta}: {t:?} vs {want}");
        // the wrong answer is excluded: ln Z at 1.02 β
        let wrong = xy_ring_log_z(N, 1.02 * beta);
        assert!(!a.contains(wrong) && !te.contains(wrong), "β = {beta}: {wrong} not excluded");
        assert!(a.upper - a.lower < 0.2 && te.std_err < 0.05, "{a:?} {te:?}");
    }
}

#[test]
fn the_helicity_modulus_estimator_matches_the_twisted_chain() {
    use ebm_models::xy::helicity_modulus;
    use ebm_testkit::bessel::xy_ring_helicity;
    // Υ = (1/N)[⟨Σ_x J cos⟩ − β⟨(Σ_x J sin)²⟩] per sample (a linear
    // combination of per-sample observables, so `estimate` bounds it),
    // against (N/β) Σ k² I_k^N / Σ I_k^N; heat bath + overrelaxation
    // (at N = 32, β = 8 windings freeze: τ_int ≈ 2500 sweeps, so not here)
    for (n, beta) in [(8, 1.0), (8, 2.0), (16, 2.0), (32, 4.0)] {
        let m = Xy::chain(n, Boundary::Periodic, 1.0, 0.0).unwrap();
        let s = XyMoves::heat_bath().with_overrelaxation(1);
        let b = Beta::new(beta).unwrap();
        let (traces, _) = Run::new(&m, &s, b)
            .chains(8)
            .warmup(500)
            .sweeps(20_000)
            .seed(Seed(23))
            .init(Init::Uniform)
            .record(2, |m: &Xy, x: &[f64], out: &mut [f64]| {
                let t = m.helicity_terms(x);
                out[0] = helicity_modulus(b, n, t.cos_sum, t.sin_sum * t.sin_sum);
                out[1] = t.cos_sum / n as f64; // the stiffness without its fluctuation term
            })
            .unwrap();
        let est = |k: usize| {
            let chains = traces.chains(k);
            let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
            estimate(&refs)
        };
        let (ups, naive) = (est(0), est(1));
        let want = xy_ring_helicity(n, 1.0, beta);
        let z = (ups.mean - want) / ups.std_err;
        eprintln!(
            "Υ, N = {n}, β = {beta}: {:.4} ± {:.4} (exact {want:.4}, z = {z:.2}, τ_int {:.1}); without the β⟨sin²⟩ term {:.4}",
            ups.mean, ups.std_err, ups.tau_int, naive.mean
        );
        assert!(z.abs() < 5.0, "N = {n}, β = {beta}: z = {z}");
        // the negative control: the bond energy alone is not the stiffness
        assert!(((naive.mean - want) / naive.std_err).abs() > 5.0);
    }
}

#[test]
fn xy_runs_ais_and_ti_are_bit_identical_for_one_and_three_threads() {
    use ebm_thermo::ais::{Ais, Schedule, Ti};
    let m = Xy::chain(12, Boundary::Periodic, 1.0, 0.3).unwrap();
    let hb = XyMoves::heat_bath().with_overrelaxation(1);
    let hmc = Hmc::new(0.3, 5).unwrap();
    let b = Beta::new(1.5).unwrap();
    let go = || {
        let (t1, _) = Run::new(&m, &hb, b)
            .chains(5)
            .warmup(10)
            .sweeps(50)
            .seed(Seed(4))
            .init(Init::Uniform)
            .record(1, |m: &Xy, x: &[f64], o: &mut [f64]| o[0] = m.energy(x))
            .unwrap();
        let (t2, _) = Run::new(&m, &hmc, b)
            .chains(5)
            .warmup(10)
            .sweeps(50)
            .seed(Seed(4))
            .init(Init::Uniform)
            .record(1, |m: &Xy, x: &[f64], o: &mut [f64]| o[0] = m.energy(x))
            .unwrap();
        let a = Ais::new(Schedule::Linear(50), 7).unwrap().log_z(&m, &hb, b, Seed(5)).unwrap();
        let ti = Ti { intervals: 4, n_chains: 3, burn_in: 5, n_sweeps: 20 };
        let t = ti.log_z(&m, &hb, b, Seed(6)).unwrap();
        (t1.chains(0), t2.chains(0), a.log_z.to_bits(), t.log_z.to_bits())
    };
    let pool = |k| rayon::ThreadPoolBuilder::new().num_threads(k).build().unwrap();
    let one = pool(1).install(go);
    let three = pool(3).install(go);
    assert_eq!(one, three);
}

#[test]
fn gradient_samplers_wrap_exactly_across_the_seam_of_the_torus() {
    // one spin in a field, E = −h cos θ: von Mises with κ = βh, its mass
    // centred on θ = 0, the seam of [0, 2π) that every move crosses;
    // ⟨cos θ⟩ = I₁(κ)/I₀(κ), ⟨sin θ⟩ = 0, P(θ < π) = ½
    use ebm_samplers::Ula;
    let m = Xy::chain(1, Boundary::Open, 1.0, 3.0).unwrap();
    let kappa = 3.0;
    let want = [bessel_i(1, kappa) / bessel_i(0, kappa), 0.0, 0.5];
    let z = |s: &dyn Fn() -> ebm_samplers::Traces| {
        let traces = s();
        let mut out = [0.0; 3];
        for (k, o) in out.iter_mut().enumerate() {
            let chains = traces.chains(k);
            let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
            let e = estimate(&refs);
            *o = (e.mean - want[k]) / e.std_err;
        }
        out
    };
    let obs = |_: &Xy, x: &[f64], out: &mut [f64]| {
        out[0] = x[0].cos();
        out[1] = x[0].sin();
        out[2] = f64::from(u8::from(x[0] < std::f64::consts::PI));
    };
    macro_rules! traces {
        ($s:expr) => {
            Run::new(&m, &$s, Beta::ONE)
                .chains(8)
                .warmup(500)
                .sweeps(10_000)
                .seed(Seed(31))
                .init(Init::Uniform)
                .record(3, obs)
                .unwrap()
                .0
        };
    }
    let zh = z(&|| traces!(Hmc::new(0.4, 6).unwrap()));
    let zm = z(&|| traces!(Mala::new(0.8).unwrap()));
    let zb = z(&|| traces!(XyMoves::heat_bath()));
    let zu = z(&|| traces!(Ula::new(0.05).unwrap().with_steps(10).unwrap()));
    eprintln!(
        "one spin, κ = 3: z HMC {zh:.2?}, MALA {zm:.2?}, heat bath {zb:.2?}, ULA (ε = 0.05) {zu:.2?}"
    );
    for zs in [zh, zm, zb, zu] {
        assert!(zs.iter().all(|z| z.abs() < 5.0), "{zs:?}");
    }
    // ULA at a large step is visibly biased (O(ε²))
    let zu_big = z(&|| traces!(Ula::new(0.9).unwrap()));
    eprintln!("ULA ε = 0.9: z {zu_big:.1?}");
    assert!(zu_big[0].abs() > 5.0, "{zu_big:?}");
}
