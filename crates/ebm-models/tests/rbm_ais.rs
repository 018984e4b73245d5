//! The generic `Ais` on an RBM with `Gibbs::block()`, which runs the RBM's
//! batched kernel, from the uniform start and along the base-rate path,
//! against exact ln Z and exact log-likelihoods.
//!
//! Run: `cargo test --release -p ebm-models --test rbm_ais`

use ebm_core::{Beta, Domain, Error, Purpose, Seed, uniform};
use ebm_models::rbm::Rbm;
use ebm_models::rbm_ais::{base_rate, data_marginals, rbm_log_likelihood};
use ebm_samplers::{Gibbs, Metropolis};
use ebm_thermo::ais::{Ais, IndependentSites, LogZEstimate, RaiseEstimate, Sandwich, Schedule};

/// Forward AIS at β = 1 from the base rate of marginals `p`, or from the
/// uniform start.
fn forward(rbm: &Rbm, p: Option<&[f64]>, s: &Schedule, runs: usize, seed: Seed) -> LogZEstimate {
    let ais = Ais::new(s.clone(), runs).unwrap();
    match p {
        Some(p) => {
            ais.log_z_from(rbm, &base_rate(rbm, p).unwrap(), &Gibbs::block(), Beta::ONE, seed)
        }
        None => ais.log_z(rbm, &Gibbs::block(), Beta::ONE, seed),
    }
    .unwrap()
}

/// The uniform base as a base of independent sites (every field 0).
fn flat(rbm: &Rbm) -> IndependentSites<Domain> {
    base_rate(rbm, &vec![0.5; rbm.n_visible()]).unwrap()
}

/// RAISE at β = 1 from `base` with `Gibbs::block()`.
fn raise(
    rbm: &Rbm,
    base: &IndependentSites<Domain>,
    s: &Schedule,
    data: &[i8],
    points: usize,
    runs: usize,
    seed: Seed,
) -> ebm_core::Result<RaiseEstimate> {
    Ais::new(s.clone(), 1)?.raise_from(
        rbm,
        base,
        &Gibbs::block(),
        Beta::ONE,
        data,
        points,
        runs,
        seed,
    )
}

/// Joint rows `[v, h]` with `h ~ p_β(h | v)` for visible rows `vs`.
fn joint_rows(rbm: &Rbm, vs: &[i8], beta: Beta, seed: Seed) -> Vec<i8> {
    let mut rng = seed.stream(Purpose::DATA, 1);
    let mut ph = vec![0.0; rbm.n_hidden()];
    let mut out = Vec::new();
    for v in vs.chunks_exact(rbm.n_visible()) {
        rbm.hidden_probs(v, beta, &mut ph).unwrap();
        out.extend_from_slice(v);
        out.extend(ph.iter().map(|&p| i8::from(uniform(&mut rng) < p)));
    }
    out
}

/// An RBM with weights N(0, w_sd²) and biases N(0, b_sd²) from `seed`.
fn random_rbm(nv: usize, nh: usize, w_sd: f64, b_sd: f64, seed: Seed) -> Rbm {
    let mut rng = seed.stream(Purpose::INIT, 0);
    let mut normal = |sd: f64| {
        let r = (-2.0 * (1.0 - uniform(&mut rng)).ln()).sqrt();
        sd * r * (std::f64::consts::TAU * uniform(&mut rng)).cos()
    };
    let w = (0..nv * nh).map(|_| normal(w_sd)).collect();
    let b = (0..nv).map(|_| normal(b_sd)).collect();
    let c = (0..nh).map(|_| normal(b_sd)).collect();
    Rbm::new(w, b, c).unwrap()
}

/// Exact samples of the visible marginal of a small-hidden RBM: h from
/// p(h) ∝ exp(−F(h)) by inverse CDF over 2^nh states, then v | h.
fn exact_visible_samples(rbm: &Rbm, n: usize, seed: Seed) -> Vec<i8> {
    exact_visible_samples_at(rbm, n, seed, Beta::ONE)
}

#[test]
fn mnist_sized_784x20_matches_exact_within_a_tenth_of_a_nat() {
    let rbm = random_rbm(784, 20, 0.05, 0.1, Seed(11));
    let exact = rbm.exact_log_z(Beta::ONE).unwrap();
    let est = forward(&rbm, None, &Schedule::StandardScaled(2000), 100, Seed(1));
    eprintln!(
        "784x20: exact {exact:.5}, AIS {:.5} ± {:.5} [{:.5}, {:.5}], ess {:.1}",
        est.log_z, est.std_err, est.lower, est.upper, est.ess
    );
    assert!((est.log_z - exact).abs() < 0.1, "{est:?} vs {exact}");
    assert!(est.contains(exact), "{est:?} vs {exact}");
}

#[test]
fn coverage_of_the_std_err_interval_over_seeds_small_rbms() {
    // 100 random 12×6 RBMs (strong weights), one AIS each: |ln Ẑ − ln Z| ≤ std_err
    // should hold with probability ≈ 0.683; 99.9% binomial bounds for n = 100
    // are 0.683 ± 3.3·0.0465, i.e. [0.53, 0.84]. The ±3σ interval should cover
    // at least 95 of 100 (nominal 99.7%).
    let (n, mut in_se, mut in_interval) = (100, 0, 0);
    let mut sum_z = 0.0;
    for s in 0..n {
        let rbm = random_rbm(12, 6, 0.8, 0.5, Seed(1000 + s));
        let exact = rbm.exact_log_z(Beta::ONE).unwrap();
        let est = forward(&rbm, None, &Schedule::Linear(100), 50, Seed(s));
        let z = (est.log_z - exact) / est.std_err;
        sum_z += z;
        in_se += u32::from(z.abs() <= 1.0);
        in_interval += u32::from(est.contains(exact));
    }
    eprintln!(
        "RBM-path coverage: ±se {in_se}/100, interval {in_interval}/100, mean z {:.3}",
        sum_z / n as f64
    );
    assert!((53..=84).contains(&in_se), "±std_err coverage {in_se}/100");
    assert!(in_interval >= 95, "interval coverage {in_interval}/100");
}

#[test]
fn data_marginals_base_and_reverse_sandwich_bracket_exact() {
    let rbm = random_rbm(30, 8, 1.5, 0.5, Seed(5));
    let exact = rbm.exact_log_z(Beta::ONE).unwrap();
    let data = exact_visible_samples(&rbm, 2000, Seed(9));
    let p = data_marginals(&data, 30).unwrap();
    let joint = joint_rows(&rbm, &data, Beta::ONE, Seed(10));
    let n = rbm.n_visible() + rbm.n_hidden();
    // a short path, so the gap is visible: forward below, reverse above
    let (mut below, mut above) = (0, 0);
    let ais = Ais::new(Schedule::Linear(3), 100).unwrap();
    for s in 0..20 {
        let starts = &joint[s as usize * 100 * n..];
        let sw = ais.sandwich(&rbm, &Gibbs::block(), Beta::ONE, starts, Seed(s)).unwrap();
        eprintln!(
            "{:.3} {:.3} {exact:.3} ess {:.1} {:.1}",
            sw.forward.log_z, sw.reverse.log_z, sw.forward.ess, sw.reverse.ess
        );
        below += u32::from(sw.forward.log_z <= exact);
        above += u32::from(sw.reverse.log_z >= exact);
        let (lo, hi) = sw.interval();
        assert!(lo <= exact && exact <= hi, "{sw:?} vs {exact}");
    }
    eprintln!(
        "RBM sandwich (3 β, uniform base): forward below {below}/20, reverse above {above}/20"
    );
    assert!(below >= 15 && above >= 15, "{below} {above}");
    // a long path: both agree with exact
    let base = base_rate(&rbm, &p).unwrap();
    let ais = Ais::new(Schedule::StandardScaled(3000), 100).unwrap();
    let sw: Sandwich =
        ais.sandwich_from(&rbm, &base, &Gibbs::block(), Beta::ONE, &joint, Seed(1)).unwrap();
    eprintln!("RBM sandwich (3000 β): {:?} exact {exact}", sw.bounds());
    assert!(sw.forward.contains(exact) && sw.reverse.contains(exact), "{sw:?} vs {exact}");
    assert!(sw.gap().abs() < 0.05, "{sw:?}");
}

#[test]
fn log_likelihood_interval_contains_exact() {
    let rbm = random_rbm(40, 10, 0.4, 0.3, Seed(21));
    let data = exact_visible_samples(&rbm, 200, Seed(2));
    let p = data_marginals(&data, 40).unwrap();
    let est = forward(&rbm, Some(&p), &Schedule::StandardScaled(1000), 64, Seed(3));
    let ll = rbm_log_likelihood(&rbm, &data, &est).unwrap();
    let exact = rbm.exact_log_likelihood(&data, Beta::ONE).unwrap();
    assert!(ll.lower <= exact && exact <= ll.upper, "{ll:?} vs {exact}");
    assert!((ll.mean - exact).abs() < 4.0 * ll.std_err + 1e-9, "{ll:?} vs {exact}");
}

#[test]
fn bit_identical_for_any_thread_count() {
    let rbm = random_rbm(50, 30, 0.2, 0.2, Seed(3));
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| forward(&rbm, None, &Schedule::Linear(50), 37, Seed(4)))
    };
    let (a, b) = (run(1), run(4));
    assert_eq!(a.log_z.to_bits(), b.log_z.to_bits());
    assert_eq!(a.std_err.to_bits(), b.std_err.to_bits());
}

#[test]
fn bad_input_gives_typed_errors() {
    let rbm = random_rbm(6, 3, 0.1, 0.1, Seed(0));
    let s = Schedule::Linear(10);
    let gibbs = Gibbs::block();
    let log_z =
        |s: &Schedule| Ais::new(s.clone(), 4).unwrap().log_z(&rbm, &gibbs, Beta::ONE, Seed(0));
    assert!(matches!(Ais::new(s.clone(), 0), Err(Error::InvalidParameter { .. })));
    assert!(matches!(
        base_rate(&rbm, &[0.5; 5]),
        Err(Error::ShapeMismatch { expected: 6, found: 5, .. })
    ));
    assert!(matches!(base_rate(&rbm, &[1.5; 6]), Err(Error::InvalidParameter { .. })));
    assert!(matches!(data_marginals(&[0, 1, 1], 2), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(data_marginals(&[0, 2], 2), Err(Error::InvalidUnitValue { .. })));
    let bad = Schedule::Given(vec![0.2, 0.1, 1.0]);
    assert!(matches!(log_z(&bad), Err(Error::InvalidSequence { .. })));
    let short = Schedule::Given(vec![0.2, 0.5]);
    assert!(matches!(log_z(&short), Err(Error::InvalidSequence { .. })));
    let three = Ais::new(s.clone(), 3).unwrap();
    let base = flat(&rbm);
    assert!(matches!(
        three.reverse_log_z_from(&rbm, &base, &gibbs, Beta::ONE, &[0; 17], Seed(0)),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        three.reverse_log_z_from(&rbm, &base, &gibbs, Beta::ONE, &[2; 27], Seed(0)),
        Err(Error::InvalidUnitValue { .. })
    ));
    assert!(matches!(
        rbm_log_likelihood(&rbm, &[0; 7], &log_z(&s).unwrap()),
        Err(Error::ShapeMismatch { .. })
    ));
}

/// RAISE brackets the log-likelihood from below: on a multimodal RBM with a
/// short path it falls under the exact value (the annealing model is worse),
/// forward AIS over it; with a long path both agree with the exact value
/// within their intervals. Negative control: the same estimate against the
/// exact log-likelihood of a slightly different RBM (visible biases + 0.3) fails.
#[test]
fn raise_is_conservative_and_converges_to_exact() {
    let rbm = random_rbm(30, 8, 1.5, 0.5, Seed(5));
    let data = exact_visible_samples(&rbm, 400, Seed(9));
    let p = data_marginals(&data, 30).unwrap();
    let exact = rbm.exact_log_likelihood(&data, Beta::ONE).unwrap();
    let (mut below, mut forward_above) = (0, 0);
    for s in 0..10 {
        let short = Schedule::Linear(3);
        let r = raise(&rbm, &flat(&rbm), &short, &data, 100, 1, Seed(s)).unwrap();
        let f = forward(&rbm, None, &short, 100, Seed(s));
        let fll = rbm_log_likelihood(&rbm, &data, &f).unwrap();
        eprintln!(
            "3 β: RAISE {:.3} ± {:.3}, forward {:.3}, exact {exact:.3}",
            r.mean, r.std_err, fll.mean
        );
        below += u32::from(r.mean <= exact);
        forward_above += u32::from(fll.mean >= exact);
    }
    assert!(below >= 9 && forward_above >= 8, "{below} {forward_above}");
    let long = Schedule::StandardScaled(3000);
    let r = raise(&rbm, &base_rate(&rbm, &p).unwrap(), &long, &data, 400, 2, Seed(1)).unwrap();
    eprintln!("3000 β: RAISE {r:?}, exact {exact:.4}");
    assert_eq!((r.n_points, r.runs_per_point), (400, 2));
    assert!(r.contains(exact), "{r:?} vs {exact}");
    assert!((r.mean - exact).abs() < 0.05 && r.std_err < 0.02, "{r:?} vs {exact}");
    // The data come from `rbm`, so it sits near their maximum-likelihood
    // point and small changes move the likelihood only to second order: the
    // control shifts every visible bias by 0.3 (about 0.3 nats).
    let b: Vec<f64> = rbm.visible_bias().iter().map(|x| x + 0.3).collect();
    let other = Rbm::new(rbm.weights().to_vec(), b, rbm.hidden_bias().to_vec()).unwrap();
    let wrong = other.exact_log_likelihood(&data, Beta::ONE).unwrap();
    eprintln!("control: exact log-likelihood with visible biases + 0.3 {wrong:.4}");
    assert!(!r.contains(wrong), "{r:?} vs {wrong}");
}

/// RAISE on a subset of the rows estimates the all-rows mean, and the result
/// is bit-identical for any thread count.
#[test]
fn raise_on_a_subset_and_threads() {
    let rbm = random_rbm(40, 10, 0.4, 0.3, Seed(21));
    let data = exact_visible_samples(&rbm, 1000, Seed(2));
    let exact = rbm.exact_log_likelihood(&data, Beta::ONE).unwrap();
    let s = Schedule::StandardScaled(500);
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| raise(&rbm, &flat(&rbm), &s, &data, 100, 1, Seed(4)).unwrap())
    };
    let (a, b) = (run(1), run(4));
    assert_eq!(a.mean.to_bits(), b.mean.to_bits());
    assert_eq!(a.std_err.to_bits(), b.std_err.to_bits());
    eprintln!("subset of 100/1000: {a:?}, exact {exact:.4}");
    assert!(a.contains(exact), "{a:?} vs {exact}");
    let bad = |n, m| raise(&rbm, &flat(&rbm), &s, &data, n, m, Seed(0));
    assert!(matches!(bad(0, 1), Err(Error::InvalidParameter { .. })));
    assert!(matches!(bad(3, 0), Err(Error::InvalidParameter { .. })));
    assert!(matches!(
        raise(&rbm, &flat(&rbm), &s, &data[..39], 3, 1, Seed(0)),
        Err(Error::ShapeMismatch { .. })
    ));
}

/// The generic [`Ais`] on an `Rbm` with `Gibbs::block()` runs the RBM's
/// batched kernel (`EnergyModel::anneal_runs`): the same bits from the
/// uniform start as from the flat base; ln Z(β) inside the interval at other β,
/// forward and reverse (from exact samples), while the exact value at a β
/// 10% off is outside (the negative control); the generic sweeps
/// (`Metropolis::block()`, which the kernel does not take) agree.
#[test]
fn generic_ais_on_an_rbm_runs_the_batched_kernel_at_any_beta() {
    let rbm = random_rbm(16, 6, 0.8, 0.3, Seed(8));
    let ais = Ais::new(Schedule::Linear(400), 200).unwrap();
    let kernel = ais.log_z(&rbm, &Gibbs::block(), Beta::ONE, Seed(2)).unwrap();
    let flat = ais.log_z_from(&rbm, &flat(&rbm), &Gibbs::block(), Beta::ONE, Seed(2)).unwrap();
    // the same weights; ln Z₀ = n ln 2 summed in another order
    assert!((kernel.log_z - flat.log_z).abs() < 1e-12, "{kernel:?} {flat:?}");
    assert_eq!(kernel.std_err.to_bits(), flat.std_err.to_bits());
    for b in [0.5, 1.0, 2.5] {
        let beta = Beta::new(b).unwrap();
        let exact = rbm.exact_log_z(beta).unwrap();
        let off = rbm.exact_log_z(Beta::new(1.1 * b).unwrap()).unwrap();
        let fast = ais.log_z(&rbm, &Gibbs::block(), beta, Seed(3)).unwrap();
        let generic = ais.log_z(&rbm, &Metropolis::block(), beta, Seed(3)).unwrap();
        eprintln!("β {b}: exact {exact:.4}, kernel {fast:?}, generic {generic:?}");
        assert!(
            fast.contains(exact) && generic.contains(exact),
            "β {b}: {exact} {fast:?} {generic:?}"
        );
        assert!(!fast.contains(off), "β {b}: the control {off} is inside {fast:?}");
        // reverse runs from exact joint samples (v exact, h | v)
        let mut starts = Vec::new();
        let mut rng = Seed(5).stream(Purpose::DATA, 0);
        let mut ph = vec![0.0; rbm.n_hidden()];
        let vs = exact_visible_samples_at(&rbm, 200, Seed(6), beta);
        for v in vs.chunks_exact(rbm.n_visible()) {
            rbm.hidden_probs(v, beta, &mut ph).unwrap();
            starts.extend_from_slice(v);
            starts.extend(ph.iter().map(|&p| i8::from(uniform(&mut rng) < p)));
        }
        let rev = ais.reverse_log_z(&rbm, &Gibbs::block(), beta, &starts, Seed(4)).unwrap();
        assert!(rev.contains(exact), "β {b}: reverse {rev:?} vs {exact}");
    }
    // any thread count
    let run = |t| {
        rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap().install(|| {
            ais.log_z(&rbm, &Gibbs::block(), Beta::new(1.7).unwrap(), Seed(9))
                .unwrap()
                .log_z
                .to_bits()
        })
    };
    assert_eq!(run(1), run(3));
}

/// Exact samples of the visible marginal at inverse temperature `beta`: h
/// from p(h) ∝ exp(−β F(h)) by inverse CDF over 2^nh states, then v | h.
fn exact_visible_samples_at(rbm: &Rbm, n: usize, seed: Seed, beta: Beta) -> Vec<i8> {
    let (nv, nh) = (rbm.n_visible(), rbm.n_hidden());
    let mut h = vec![0i8; nh];
    let logp: Vec<f64> = (0..1u64 << nh)
        .map(|code| {
            ebm_core::Domain::Bit.decode(code, &mut h);
            -beta.value() * rbm.hidden_free_energy(&h, beta).unwrap()
        })
        .collect();
    let m = logp.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut cdf: Vec<f64> = logp.iter().map(|l| (l - m).exp()).collect();
    for i in 1..cdf.len() {
        cdf[i] += cdf[i - 1];
    }
    let total = *cdf.last().unwrap();
    let mut rng = seed.stream(Purpose::DATA, 0);
    let mut probs = vec![0.0; nv];
    let mut out = Vec::with_capacity(n * nv);
    for _ in 0..n {
        let u = uniform(&mut rng) * total;
        let code = cdf.partition_point(|&c| c <= u).min(cdf.len() - 1);
        ebm_core::Domain::Bit.decode(code as u64, &mut h);
        rbm.visible_probs(&h, beta, &mut probs).unwrap();
        out.extend(probs.iter().map(|&p| i8::from(uniform(&mut rng) < p)));
    }
    out
}

/// `Ti` on an RBM with `Gibbs::block()` runs the RBM's batched chains
/// (`EnergyModel::node_traces`): at several β its ln Z contains the exact
/// value, agrees with the generic sweeps of the same chain, puts the exact
/// value at a β 10 % off outside its interval, and gives the same bits on 1
/// and 3 threads.
#[test]
fn ti_on_an_rbm_runs_the_batched_chains_at_any_beta() {
    use ebm_samplers::{Clamp, Gibbs};
    use ebm_thermo::ais::Ti;
    let rbm = random_rbm(16, 6, 0.8, 0.3, Seed(8));
    let n = rbm.n_visible() + rbm.n_hidden();
    let ti = Ti { intervals: 40, n_chains: 24, burn_in: 50, n_sweeps: 400 };
    // the same chain on the generic path: an empty clamp asks for no kernel
    let generic_sampler = Gibbs::block().with_clamp(Clamp::first(0, n));
    for b in [0.5, 1.0, 2.0] {
        let beta = Beta::new(b).unwrap();
        let exact = rbm.exact_log_z(beta).unwrap();
        let off = rbm.exact_log_z(Beta::new(1.1 * b).unwrap()).unwrap();
        let fast = ti.log_z(&rbm, &Gibbs::block(), beta, Seed(3)).unwrap();
        let generic = ti.log_z(&rbm, &generic_sampler, beta, Seed(3)).unwrap();
        let (f, g) = (fast.to_log_z_estimate(24), generic.to_log_z_estimate(24));
        assert!(f.contains(exact) && g.contains(exact), "β {b}: {exact} {f:?} {g:?}");
        assert!(!f.contains(off), "β {b}: the control {off} is inside {f:?}");
        // different random numbers, the same chain: within their errors
        let gap = (fast.log_z - generic.log_z).abs();
        assert!(gap <= 4.0 * fast.total_error().hypot(generic.total_error()), "β {b}: {gap}");
        assert_ne!(fast.log_z.to_bits(), generic.log_z.to_bits(), "the kernel ran");
    }
    let run = |t| {
        rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap().install(|| {
            ti.log_z(&rbm, &Gibbs::block(), Beta::new(1.3).unwrap(), Seed(9))
                .unwrap()
                .log_z
                .to_bits()
        })
    };
    assert_eq!(run(1), run(3));
}

/// The base-rate path (`Ais::log_z_from` with [`base_rate`]) runs the RBM's
/// kernel at any β: forward and reverse contain the exact ln Z(β), and so
/// do the generic sweeps of the same path (`Metropolis::block()`, which the
/// kernel declines); the exact value at a β 10 % off is outside (the
/// negative control). A base with constant fields added (on visible and
/// hidden units) is the same path: the kernel's weights shift by exactly
/// the constant. A base with a field on a hidden unit is declined by the
/// kernel and run by the generic sweeps, still exact.
#[test]
fn base_rate_path_runs_the_kernel_at_any_beta() {
    let rbm = random_rbm(16, 6, 0.8, 0.3, Seed(8));
    let data = exact_visible_samples(&rbm, 500, Seed(1));
    let base = base_rate(&rbm, &data_marginals(&data, 16).unwrap()).unwrap();
    let ais = Ais::new(Schedule::Linear(300), 200).unwrap();
    for b in [0.5, 1.0, 2.5] {
        let beta = Beta::new(b).unwrap();
        let exact = rbm.exact_log_z(beta).unwrap();
        let off = rbm.exact_log_z(Beta::new(1.1 * b).unwrap()).unwrap();
        let fast = ais.log_z_from(&rbm, &base, &Gibbs::block(), beta, Seed(3)).unwrap();
        let generic = ais.log_z_from(&rbm, &base, &Metropolis::block(), beta, Seed(3)).unwrap();
        eprintln!("base rate, β {b}: exact {exact:.4}, kernel {fast:?}, generic {generic:?}");
        assert!(fast.contains(exact) && generic.contains(exact), "β {b}");
        assert!(!fast.contains(off), "β {b}: the control {off} is inside {fast:?}");
        assert_ne!(fast.log_z.to_bits(), generic.log_z.to_bits(), "the kernel ran");
        let vs = exact_visible_samples_at(&rbm, 200, Seed(6), beta);
        let starts = joint_rows(&rbm, &vs, beta, Seed(7));
        let rev = ais.reverse_log_z_from(&rbm, &base, &Gibbs::block(), beta, &starts, Seed(4));
        let rev = rev.unwrap();
        assert!(rev.contains(exact), "β {b}: reverse {rev:?} vs {exact}");
    }
    // constant fields: the same path, the same draws
    let shifted: Vec<f64> = base.fields().iter().map(|f| f + 0.7).collect();
    let shifted = IndependentSites::new(Domain::Bit, 22, shifted).unwrap();
    let beta = Beta::new(1.5).unwrap();
    let a = ais.log_z_from(&rbm, &base, &Gibbs::block(), beta, Seed(5)).unwrap();
    let c = ais.log_z_from(&rbm, &shifted, &Gibbs::block(), beta, Seed(5)).unwrap();
    assert!((a.log_z - c.log_z).abs() < 1e-9, "{a:?} {c:?}");
    // a field on a hidden unit: the generic path
    let mut hidden = base.fields().to_vec();
    hidden[2 * 16 + 1] = 0.9;
    let hidden = IndependentSites::new(Domain::Bit, 22, hidden).unwrap();
    let exact = rbm.exact_log_z(beta).unwrap();
    let h = ais.log_z_from(&rbm, &hidden, &Gibbs::block(), beta, Seed(5)).unwrap();
    assert!(h.contains(exact), "{h:?} vs {exact}");
    assert_ne!(h.log_z.to_bits(), a.log_z.to_bits());
    // any thread count
    let run = |t| {
        rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap().install(|| {
            ais.log_z_from(&rbm, &base, &Gibbs::block(), beta, Seed(9)).unwrap().log_z.to_bits()
        })
    };
    assert_eq!(run(1), run(3));
}

/// RAISE needs the latent units summed out: on an RBM with a sampler the
/// kernel declines it is a typed error; on a fully visible model (an Ising
/// ring in a field) the generic sweeps run it, and it contains the exact
/// log-likelihood of exact samples while a wrong model's is outside.
#[test]
fn raise_generic_on_fully_visible_models_and_unsupported_on_latent_ones() {
    use ebm_models::ising::{Boundary, Ising};
    let rbm = random_rbm(8, 3, 0.5, 0.3, Seed(1));
    let data = exact_visible_samples(&rbm, 20, Seed(2));
    let ais = Ais::new(Schedule::Linear(20), 1).unwrap();
    let r =
        ais.raise_from(&rbm, &flat(&rbm), &Metropolis::block(), Beta::ONE, &data, 5, 1, Seed(0));
    assert!(matches!(r, Err(Error::Unsupported { .. })), "{r:?}");

    let ising = Ising::chain(10, Boundary::Periodic, 0.6, 0.2).unwrap();
    let dist = ebm_thermo::exact_distribution(&ising, Beta::ONE).unwrap();
    let mut rng = Seed(3).stream(Purpose::DATA, 0);
    let mut cdf = dist.probs.clone();
    for i in 1..cdf.len() {
        cdf[i] += cdf[i - 1];
    }
    let mut x = vec![0i8; 10];
    let mut data = Vec::new();
    for _ in 0..300 {
        let u = uniform(&mut rng) * cdf[cdf.len() - 1];
        let code = cdf.partition_point(|&c| c <= u).min(cdf.len() - 1);
        Domain::Spin.decode(code as u64, &mut x);
        data.extend_from_slice(&x);
    }
    let exact = ebm_thermo::likelihood::exact_log_likelihood(&ising, &data, 10, Beta::ONE).unwrap();
    let base = IndependentSites::fit(Domain::Spin, 10, &data, 1.0).unwrap();
    let ais = Ais::new(Schedule::Linear(200), 1).unwrap();
    let r =
        ais.raise_from(&ising, &base, &Gibbs::block(), Beta::ONE, &data, 300, 2, Seed(4)).unwrap();
    let other = Ising::chain(10, Boundary::Periodic, 0.9, 0.2).unwrap();
    let wrong = ebm_thermo::likelihood::exact_log_likelihood(&other, &data, 10, Beta::ONE).unwrap();
    eprintln!("Ising ring RAISE {r:?}, exact {exact:.4}, control {wrong:.4}");
    assert!(r.contains(exact), "{r:?} vs {exact}");
    assert!(!r.contains(wrong), "{r:?} vs {wrong}");
}
