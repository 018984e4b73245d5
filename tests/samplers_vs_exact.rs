//! Every sampler × every model × several β: the sampled distribution over all
//! states must match exact enumeration within a total-variation bound derived
//! from the chains themselves (see `ebm_testkit::statistics`). The dense
//! models implement only `energy`, so they exercise the traits' defaults.
//! Binary and categorical (q-state) models run through the same samplers.

use ebm_core::{
    Beta, BinaryModel, Categories, Domain, FiniteModel, FiniteSpace, Purpose, Sampler, Seed,
    uniform,
};
use ebm_models::boltzmann::BoltzmannMachine;
use ebm_models::ising::{Boundary, Disorder, Ising};
use ebm_models::potts::Potts;
use ebm_models::rbm::Rbm;
use ebm_samplers::{
    ChainsConfig, Clamp, Gibbs, Init, Ladder, Metropolis, ParallelTempering, Run, SiteMoves,
};
use ebm_testkit::statistics::{TvReport, draw_code, sampler_tv, tv_test};
use ebm_testkit::toy::{Dense, DenseCategorical};
use ebm_thermo::exact_distribution;

const N_CHAINS: usize = 200;
const N_SWEEPS: usize = 400;

/// The TV test (`ebm_testkit::statistics::sampler_tv`) of `sampler` at
/// `sample_beta` against the exact distribution at `beta`.
fn tv_case<M, S>(model: &M, sampler: &S, beta: f64, sample_beta: f64, seed: u64) -> TvReport
where
    M: FiniteModel,
    S: Sampler<M>,
{
    let dist = exact_distribution(model, Beta::new(beta).unwrap()).unwrap();
    let b = Beta::new(sample_beta).unwrap();
    sampler_tv(model, sampler, b, &dist.probs, N_CHAINS, N_SWEEPS, Seed(seed)).unwrap()
}

fn samplers() -> Vec<(&'static str, ebm_samplers::AnySampler)> {
    use ebm_samplers::AnySampler as A;
    let ladder = Ladder::geometric(4, 0.25).unwrap();
    vec![
        ("gibbs-sequential", A::Gibbs(Gibbs::sequential())),
        ("gibbs-random", A::Gibbs(Gibbs::random_scan())),
        ("gibbs-block", A::Gibbs(Gibbs::block())),
        ("metropolis-random", A::Metropolis(Metropolis::random_scan())),
        ("metropolis-sequential", A::Metropolis(Metropolis::sequential())),
        ("metropolis-block", A::Metropolis(Metropolis::block())),
        (
            "pt-gibbs",
            A::TemperingGibbs(ParallelTempering::new(Gibbs::sequential(), ladder.clone())),
        ),
        (
            "pt-metropolis",
            A::TemperingMetropolis(ParallelTempering::new(Metropolis::random_scan(), ladder)),
        ),
    ]
}

fn check_all_samplers<M: FiniteModel>(name: &str, model: &M)
where
    M::Space: SiteMoves<M> + ebm_samplers::ClusterMoves<M>,
{
    let mut failures = Vec::new();
    for (s_name, sampler) in samplers() {
        for (k, beta) in [0.3, 1.0, 2.0].into_iter().enumerate() {
            let r = tv_case(model, &sampler, beta, beta, 1000 + k as u64);
            println!(
                "{name:>14} {s_name:>22} β={beta}: TV {:.4} ≤ {:.4} (n_eff {:.0})",
                r.tv, r.bound, r.n_eff
            );
            if !r.passed() {
                failures.push(format!("{name} {s_name} β={beta}: {r:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

fn dense(domain: Domain, n: usize, scale: f64, salt: u64) -> Dense {
    let mut rng = Seed(salt).stream(Purpose::INIT, 0);
    let mut draw = || scale * (2.0 * uniform(&mut rng) - 1.0);
    let upper: Vec<f64> = (0..n * (n - 1) / 2).map(|_| draw()).collect();
    let bias: Vec<f64> = (0..n).map(|_| draw()).collect();
    Dense::from_upper(domain, &upper, bias).unwrap()
}

#[test]
fn every_sampler_matches_exact_on_a_2x4_torus_where_block_scans_run_the_kernel() {
    // even periodic sides and uniform J, h: `Gibbs::block()` and
    // `Metropolis::block()` run the model's checkerboard kernel
    // (weak J: the sides of 2 double the bonds, and β = 2 must not freeze it)
    let m = Ising::square(2, 4, Boundary::Periodic, 0.25, -0.1).unwrap();
    let chain = Gibbs::block().start(&m, &[1; 8]).unwrap();
    assert!(chain.runs_model_kernel());
    check_all_samplers("ising-2x4", &m);
}

/// The `sweep_batch` contract: bit-identical to `sweep` where the model's
/// batched deltas are its single-state ones (every model here but the RBM);
/// for the RBM (f32 batched fields) independent of how chains are batched,
/// and equal to `sweep` except where a uniform falls within the rounding.
#[test]
fn sweep_batch_keeps_its_contract_for_every_model() {
    fn run<M: BinaryModel, S: Sampler<M>>(
        m: &M,
        s: &S,
        split: Option<usize>,
        batched: bool,
    ) -> Vec<Vec<i8>> {
        let n = m.n_units();
        let starts: Vec<Vec<i8>> = (0..12u64)
            .map(|c| {
                let mut r = Seed(80).stream(Purpose::INIT, c);
                (0..n).map(|_| m.domain().value(uniform(&mut r) < 0.5)).collect()
            })
            .collect();
        let mut chains: Vec<S::Chain> = starts.iter().map(|x| s.start(m, x).unwrap()).collect();
        let mut rngs: Vec<_> = (0..12).map(|c| Seed(81).stream(Purpose::SAMPLING, c)).collect();
        let beta = Beta::new(0.7).unwrap();
        for _ in 0..20 {
            if batched {
                let k = split.unwrap_or(12);
                let (a, b) = chains.split_at_mut(k);
                let (ra, rb) = rngs.split_at_mut(k);
                s.sweep_batch(m, a, beta, ra);
                s.sweep_batch(m, b, beta, rb);
            } else {
                for (c, r) in chains.iter_mut().zip(rngs.iter_mut()) {
                    s.sweep(m, c, beta, r);
                }
            }
        }
        chains.iter().map(|c| ebm_core::Chain::state(c).to_vec()).collect()
    }
    let ising = Ising::square(3, 3, Boundary::Periodic, 1.0, 0.2).unwrap();
    let bm = BoltzmannMachine::random(8, 3, 1.0, Seed(82)).unwrap();
    let dense = dense(Domain::Spin, 7, 1.0, 83);
    for (name, s) in [("gibbs", samplers()[2].1.clone()), ("metropolis", samplers()[5].1.clone())] {
        assert_eq!(run(&ising, &s, None, true), run(&ising, &s, None, false), "ising {name}");
        assert_eq!(run(&bm, &s, Some(5), true), run(&bm, &s, None, false), "bm {name}");
        assert_eq!(run(&dense, &s, Some(7), true), run(&dense, &s, None, false), "dense {name}");
    }
    // tempering batches each rung through the inner sampler's sweep_batch
    let pt = ParallelTempering::new(Gibbs::block(), Ladder::geometric(4, 0.3).unwrap());
    assert_eq!(run(&ising, &pt, None, true), run(&ising, &pt, None, false), "ising tempering");
    assert_eq!(run(&bm, &pt, Some(5), true), run(&bm, &pt, None, false), "bm tempering");
    assert_eq!(run(&dense, &pt, Some(7), true), run(&dense, &pt, None, false), "dense tempering");
    let rbm = Rbm::random(30, 20, 1.0, Seed(84)).unwrap();
    let s = Gibbs::block();
    let whole = run(&rbm, &s, None, true);
    assert_eq!(whole, run(&rbm, &s, Some(5), true), "RBM: batch split");
    let single = run(&rbm, &s, None, false);
    let same = whole.iter().zip(&single).filter(|(a, b)| a == b).count();
    assert!(same >= 10, "RBM: only {same} of 12 chains equal to sweep");
    let whole = run(&rbm, &pt, None, true);
    assert_eq!(whole, run(&rbm, &pt, Some(5), true), "RBM tempering: batch split");
    let single = run(&rbm, &pt, None, false);
    let same = whole.iter().zip(&single).filter(|(a, b)| a == b).count();
    assert!(same >= 9, "RBM tempering: only {same} of 12 chains equal to sweep");
}

#[test]
fn every_sampler_matches_exact_on_a_3x3_periodic_ising_lattice_with_a_field() {
    // odd periodic sides: not bipartite, so the blocks are a greedy colouring
    let m = Ising::square(3, 3, Boundary::Periodic, 1.0, 0.2).unwrap();
    check_all_samplers("ising-3x3", &m);
}

#[test]
fn every_sampler_matches_exact_on_a_ten_spin_glass_with_fields() {
    let edges: Vec<(usize, usize, f64)> =
        (0..10).flat_map(|a| (a + 1..10).map(move |b| (a, b, 0.0))).collect();
    let m = Ising::from_edges(10, &edges, &[0.0; 10])
        .unwrap()
        .with_random_couplings(Disorder::Gaussian { mean: 0.0, std: 0.5 }, Seed(3))
        .unwrap()
        .with_random_fields(Disorder::Gaussian { mean: 0.0, std: 0.3 }, Seed(4))
        .unwrap();
    check_all_samplers("spin-glass-10", &m);
}

#[test]
fn every_sampler_matches_exact_on_a_boltzmann_machine_with_hidden_units() {
    let m = BoltzmannMachine::random(8, 5, 0.8, Seed(5)).unwrap();
    check_all_samplers("bm-8", &m);
}

#[test]
fn every_sampler_matches_exact_on_a_4x4_rbm() {
    let m = Rbm::random(4, 4, 1.0, Seed(6)).unwrap();
    check_all_samplers("rbm-4x4", &m);
}

#[test]
fn every_sampler_matches_exact_on_a_dense_spin_model() {
    check_all_samplers("dense-spin-9", &dense(Domain::Spin, 9, 0.7, 1));
}

#[test]
fn every_sampler_matches_exact_on_a_dense_bit_model() {
    check_all_samplers("dense-bit-8", &dense(Domain::Bit, 8, 1.5, 2));
}

#[test]
fn every_sampler_matches_exact_on_potts_tori_where_block_scans_run_the_kernel() {
    // even periodic sides, uniform J and h: `Gibbs::block()` and
    // `Metropolis::block()` run the Potts checkerboard kernel (1D, 2D, 3D)
    for (name, m) in [
        ("potts3-2x4", Potts::lattice(3, &[2, 4], Boundary::Periodic, 0.4, 0.3).unwrap()),
        ("potts4-ring6", Potts::lattice(4, &[6], Boundary::Periodic, -0.8, 0.2).unwrap()),
        ("potts3-2x2x2", Potts::lattice(3, &[2, 2, 2], Boundary::Periodic, 0.3, -0.2).unwrap()),
    ] {
        let x0 = vec![0u8; ebm_core::EnergyModel::n_units(&m)];
        assert!(Gibbs::block().start(&m, &x0).unwrap().runs_model_kernel(), "{name}");
        assert!(Metropolis::block().start(&m, &x0).unwrap().runs_model_kernel(), "{name}");
        check_all_samplers(name, &m);
    }
}

#[test]
fn every_sampler_matches_exact_on_a_q3_potts_ring_with_a_field() {
    // an odd ring: greedy colouring (three blocks)
    let m = Potts::lattice(3, &[5], Boundary::Periodic, 1.0, 0.4).unwrap();
    check_all_samplers("potts3-ring5", &m);
}

#[test]
fn every_sampler_matches_exact_on_an_open_q3_potts_lattice() {
    // open 2×3: bipartite, checkerboard blocks; 729 states
    let m = Potts::lattice(3, &[2, 3], Boundary::Open, 0.8, -0.3).unwrap();
    check_all_samplers("potts3-2x3", &m);
}

#[test]
fn every_sampler_matches_exact_on_an_antiferromagnetic_q4_potts_ring_with_fields() {
    let m = Potts::lattice(4, &[4], Boundary::Periodic, -1.0, 0.0).unwrap();
    let fields: Vec<f64> = (0..16).map(|k| 0.1 * (k % 5) as f64 - 0.2).collect();
    let m = m.with_fields(&fields).unwrap();
    check_all_samplers("potts4-afm-ring4", &m);
}

#[test]
fn every_sampler_matches_exact_on_a_mixed_alphabet_potts_graph() {
    let space = Categories::new(vec![2, 3, 4, 3, 2, 3]).unwrap();
    let edges = [
        (0, 1, 0.7),
        (1, 2, -0.5),
        (2, 3, 0.9),
        (3, 4, 0.4),
        (4, 5, -0.8),
        (5, 0, 0.6),
        (1, 4, 0.5),
    ];
    let n_fields: usize = (0..6).map(|i| space.n_values(i)).sum();
    let fields: Vec<f64> = (0..n_fields).map(|k| 0.3 * ((k * 7 % 5) as f64 - 2.0) / 2.0).collect();
    let m = Potts::from_edges(space, &edges, &fields).unwrap();
    check_all_samplers("potts-mixed-6", &m);
}

#[test]
fn every_sampler_matches_exact_on_a_dense_categorical_model() {
    // arbitrary pair tables, energy only: the CategoricalModel defaults
    let space = Categories::new(vec![3, 2, 4, 3, 2]).unwrap();
    let m = DenseCategorical::random(space, 0.6, Seed(12)).unwrap();
    check_all_samplers("dense-categorical-5", &m);
}

#[test]
fn every_sampler_matches_exact_on_a_categorical_rbm() {
    // block Gibbs alternates a softmax layer (q = 3) and a Bernoulli layer
    let m = ebm_models::potts_rbm::PottsRbm::random(3, 3, 3, 1.0, Seed(13)).unwrap();
    check_all_samplers("potts-rbm-3x3", &m);
}

#[test]
fn a_mis_tempered_sampler_fails_on_a_categorical_model() {
    let space = Categories::new(vec![3, 2, 4, 3, 2]).unwrap();
    let m = DenseCategorical::random(space, 0.6, Seed(12)).unwrap();
    for beta in [1.0, 2.0] {
        for (name, s) in
            [("gibbs", samplers()[0].1.clone()), ("metropolis", samplers()[3].1.clone())]
        {
            let r = tv_case(&m, &s, beta, 0.9 * beta, 8);
            assert!(!r.passed(), "{name} β={beta}: {r:?}");
        }
    }
}

#[test]
fn a_mis_tempered_sampler_fails_the_same_test() {
    // sampling at 0.9 β while comparing with the distribution at β must fail:
    // the bound is tight enough to see a 10% temperature error
    let model = dense(Domain::Spin, 9, 0.7, 1);
    for beta in [1.0, 2.0] {
        let r = tv_case(&model, &Gibbs::sequential(), beta, 0.9 * beta, 7);
        assert!(!r.passed(), "β={beta}: {r:?}");
    }
}

#[test]
fn clamped_sampling_matches_the_exact_conditional() {
    let model = dense(Domain::Bit, 8, 1.2, 3);
    let beta = Beta::new(1.0).unwrap();
    let fixed = [1i8, 0, 1];
    let clamp = Clamp::first(3, 8);
    let dist = exact_distribution(&model, beta).unwrap();
    // conditional over the 5 free units: codes whose low 3 bits equal `fixed`
    let low = Domain::Bit.encode(&fixed);
    let mut cond: Vec<f64> = (0..32u64).map(|k| dist.probs[(k << 3 | low) as usize]).collect();
    let z: f64 = cond.iter().sum();
    cond.iter_mut().for_each(|p| *p /= z);
    let samplers: Vec<(&str, ebm_samplers::AnySampler)> = vec![
        ("gibbs", ebm_samplers::AnySampler::Gibbs(Gibbs::sequential().with_clamp(clamp.clone()))),
        ("gibbs-block", ebm_samplers::AnySampler::Gibbs(Gibbs::block().with_clamp(clamp.clone()))),
        (
            "metropolis",
            ebm_samplers::AnySampler::Metropolis(
                Metropolis::random_scan().with_clamp(clamp.clone()),
            ),
        ),
        (
            "pt-gibbs",
            ebm_samplers::AnySampler::TemperingGibbs(ParallelTempering::new(
                Gibbs::sequential().with_clamp(clamp.clone()),
                Ladder::geometric(3, 0.3).unwrap(),
            )),
        ),
    ];
    for (name, sampler) in samplers {
        let starts: Vec<Vec<i8>> = (0..N_CHAINS as u64)
            .map(|c| {
                let mut rng = Seed(5).stream(Purpose::custom(2), c);
                let mut x = fixed.to_vec();
                x.resize(8, 0);
                Domain::Bit.decode(draw_code(&cond, uniform(&mut rng)), &mut x[3..]);
                x
            })
            .collect();
        let config = ChainsConfig {
            n_chains: N_CHAINS,
            n_warmup: 0,
            n_sweeps: N_SWEEPS,
            thin: 1,
            seed: Seed(9),
        };
        let (traces, running) = Run::new(&model, &sampler, beta)
            .config(config)
            .init(Init::States(starts))
            .record(1, |_: &Dense, x: &[i8], out: &mut [f64]| {
                out[0] = Domain::Bit.encode(&x[3..]) as f64
            })
            .unwrap();
        for c in &running.chains {
            assert_eq!(&ebm_core::Chain::state(c)[..3], &fixed, "{name} moved a clamped unit");
        }
        let counts: Vec<Vec<u64>> = (0..N_CHAINS)
            .map(|c| {
                let mut h = vec![0u64; 32];
                traces.series(c, 0).into_iter().for_each(|k| h[k as usize] += 1);
                h
            })
            .collect();
        let r = tv_test(&cond, &counts);
        println!("clamped {name}: TV {:.4} ≤ {:.4}", r.tv, r.bound);
        assert!(r.passed(), "{name}: {r:?}");
    }
}

/// Every sampler reads the model it is given on every sweep: chains started
/// and run on one model, then run on another with other couplings and
/// fields, sample the second model's exact distribution (and not the
/// first's: the negative control).
#[test]
fn every_sampler_follows_a_model_whose_couplings_changed_between_sweeps() {
    use ebm_core::LogLinear;
    let a = Ising::square(3, 3, Boundary::Periodic, 0.8, 0.3).unwrap();
    let mut b = a.clone();
    let theta: Vec<f64> =
        (0..b.n_params()).map(|k| if k < b.n_edges() { -0.5 } else { -0.2 }).collect();
    b.set_params(&theta).unwrap();
    let beta = Beta::new(0.9).unwrap();
    let p_a = exact_distribution(&a, beta).unwrap().probs;
    let p_b = exact_distribution(&b, beta).unwrap().probs;
    let mut failures = Vec::new();
    for (name, s) in samplers() {
        let counts: Vec<Vec<u64>> = (0..N_CHAINS as u64)
            .map(|c| {
                let mut rng = Seed(90).stream(Purpose::SAMPLING, c);
                let mut x = vec![0i8; 9];
                Domain::Spin.decode(draw_code(&p_a, uniform(&mut rng)), &mut x);
                let mut chain = s.start(&a, &x).unwrap();
                for _ in 0..20 {
                    s.sweep(&a, &mut chain, beta, &mut rng);
                }
                for _ in 0..50 {
                    s.sweep(&b, &mut chain, beta, &mut rng);
                }
                let mut h = vec![0u64; p_b.len()];
                for _ in 0..N_SWEEPS {
                    s.sweep(&b, &mut chain, beta, &mut rng);
                    h[Domain::Spin.encode(ebm_core::Chain::state(&chain)) as usize] += 1;
                }
                h
            })
            .collect();
        let r = tv_test(&p_b, &counts);
        println!("{name:>22} after the change: TV {:.4} ≤ {:.4}", r.tv, r.bound);
        if !r.passed() {
            failures.push(format!("{name}: {r:?}"));
        }
        let control = tv_test(&p_a, &counts);
        if control.passed() {
            failures.push(format!("{name}: the old model's distribution passed: {control:?}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Tempering's `sweep_batch` (each rung of all chains as one batch of the
/// RBM's f32 block-Gibbs kernel, then each chain's exchanges) samples the
/// exact joint distribution of a small RBM; the same chains at a β 40 %
/// higher fail the same bound (the negative control).
#[test]
fn tempering_sweep_batch_on_an_rbm_matches_exact() {
    let rbm = Rbm::random(4, 3, 1.2, Seed(90)).unwrap();
    let beta = Beta::ONE;
    let probs = exact_distribution(&rbm, beta).unwrap().probs;
    let pt = ParallelTempering::new(Gibbs::block(), Ladder::geometric(3, 0.4).unwrap());
    let histograms = |b: Beta| {
        let n_chains = 48;
        let mut chains: Vec<_> = (0..n_chains as u64)
            .map(|c| {
                let mut x = vec![0i8; 7];
                let u = uniform(&mut Seed(91).stream(Purpose::custom(1), c));
                Domain::Bit.decode(draw_code(&probs, u), &mut x);
                pt.start(&rbm, &x).unwrap()
            })
            .collect();
        let mut rngs: Vec<_> =
            (0..n_chains as u64).map(|c| Seed(92).stream(Purpose::SAMPLING, c)).collect();
        let mut counts = vec![vec![0u64; probs.len()]; n_chains];
        for _ in 0..400 {
            pt.sweep_batch(&rbm, &mut chains, b, &mut rngs);
            for (h, c) in counts.iter_mut().zip(&chains) {
                h[Domain::Bit.encode(ebm_core::Chain::state(c)) as usize] += 1;
            }
        }
        tv_test(&probs, &counts)
    };
    let ok = histograms(beta);
    eprintln!("RBM tempering sweep_batch: {ok:?}");
    assert!(ok.passed(), "{ok:?}");
    let control = histograms(Beta::new(1.4).unwrap());
    eprintln!("control at β = 1.4: {control:?}");
    assert!(!control.passed(), "{control:?}");
}
