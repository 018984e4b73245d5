//! The parallel runner: bit-identical for any thread count, typed errors for
//! bad input, tempering bookkeeping.

use ebm_core::{Beta, Chain, Domain, Error, Purpose, Sampler, Seed, uniform};
use ebm_samplers::{
    AnySampler, ChainsConfig, Clamp, Gibbs, Init, Ladder, Metropolis, ParallelTempering, Run,
    Schedule, advance, start_chains,
};
use ebm_testkit::toy::Dense;

fn model() -> Dense {
    let mut rng = Seed(11).stream(Purpose::INIT, 0);
    let n = 12;
    let upper: Vec<f64> = (0..n * (n - 1) / 2).map(|_| 2.0 * uniform(&mut rng) - 1.0).collect();
    let b: Vec<f64> = (0..n).map(|_| 0.5 * uniform(&mut rng) - 0.25).collect();
    Dense::from_upper(Domain::Spin, &upper, b).unwrap()
}

fn run_with_threads(threads: usize, sampler: &AnySampler) -> (Vec<u64>, Vec<Vec<i8>>) {
    let m = model();
    let config = ChainsConfig { n_chains: 9, n_warmup: 20, n_sweeps: 60, thin: 3, seed: Seed(4) };
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| {
        let (traces, running) = Run::new(&m, sampler, Beta::new(0.8).unwrap())
            .config(config)
            .init(Init::Uniform)
            .record(2, |m: &Dense, x: &[i8], out: &mut [f64]| {
                out[0] = ebm_core::EnergyModel::energy(m, x);
                out[1] = x.iter().map(|&s| f64::from(s)).sum();
            })
            .unwrap();
        (
            traces.values.iter().map(|v| v.to_bits()).collect(),
            running.chains.iter().map(|c| c.state().to_vec()).collect(),
        )
    })
}

#[test]
fn results_are_bit_identical_for_one_and_four_threads() {
    let ladder = Ladder::geometric(3, 0.4).unwrap();
    for sampler in [
        AnySampler::Gibbs(Gibbs::random_scan()),
        AnySampler::Metropolis(Metropolis::random_scan()),
        AnySampler::TemperingGibbs(ParallelTempering::new(Gibbs::block(), ladder).adapt_during(20)),
    ] {
        let (a, sa) = run_with_threads(1, &sampler);
        let (b, sb) = run_with_threads(4, &sampler);
        assert_eq!(a, b, "{sampler:?}");
        assert_eq!(sa, sb);
        // and the chains really moved apart from each other
        assert!(sa.windows(2).any(|w| w[0] != w[1]));
    }
}

#[test]
fn continuing_from_saved_stream_positions_equals_one_long_run() {
    let m = model();
    let s = Gibbs::sequential();
    let beta = Beta::ONE;
    let config = ChainsConfig { n_chains: 3, n_warmup: 0, n_sweeps: 0, thin: 1, seed: Seed(8) };
    let rec = |n_sweeps| ebm_samplers::Recording { n_sweeps, thin: 1, n_observables: 1 };
    let obs = |m: &Dense, x: &[i8], out: &mut [f64]| out[0] = ebm_core::EnergyModel::energy(m, x);
    let mut long = start_chains(&m, &s, &config, &Init::Uniform).unwrap();
    let full = advance(&m, &s, beta, &mut long, rec(50), &obs);
    let mut first = start_chains(&m, &s, &config, &Init::Uniform).unwrap();
    let a = advance(&m, &s, beta, &mut first, rec(20), &obs);
    // "checkpoint": keep only states and stream positions, rebuild everything else
    let saved: Vec<_> = first
        .chains
        .iter()
        .map(|c| c.state().to_vec())
        .zip(first.rngs.iter().map(|r| r.position()))
        .collect();
    let mut resumed = ebm_samplers::Running {
        chains: saved.iter().map(|(x, _)| s.start(&m, x).unwrap()).collect(),
        rngs: saved.iter().map(|(_, p)| ebm_core::ChainRng::from_position(*p)).collect(),
    };
    let b = advance(&m, &s, beta, &mut resumed, rec(30), &obs);
    for c in 0..3 {
        let mut joined = a.series(c, 0);
        joined.extend(b.series(c, 0));
        assert_eq!(joined, full.series(c, 0));
    }
}

#[test]
fn bad_input_gets_typed_errors() {
    let m = model();
    let n = 12;
    assert!(matches!(Beta::new(0.0), Err(Error::InvalidParameter { .. })));
    assert!(matches!(Beta::new(-1.0), Err(Error::InvalidParameter { .. })));
    assert!(matches!(Beta::new(f64::NAN), Err(Error::InvalidParameter { .. })));
    assert!(matches!(Ladder::new(vec![]), Err(Error::InvalidSequence { .. })));
    assert!(matches!(Ladder::new(vec![0.5, 0.3, 1.0]), Err(Error::InvalidSequence { .. })));
    assert!(matches!(Ladder::new(vec![0.3, 0.5]), Err(Error::InvalidSequence { .. })));
    assert!(matches!(Ladder::from_betas(&[]), Err(Error::InvalidSequence { .. })));
    assert!(matches!(Ladder::geometric(1, 0.5), Err(Error::InvalidSequence { .. })));
    assert!(matches!(Schedule::given(vec![0.1, 0.05]), Err(Error::InvalidSequence { .. })));
    assert!(matches!(Schedule::given(vec![0.1, -1.0]), Err(Error::InvalidParameter { .. })));
    let clamped = Gibbs::sequential().with_clamp(Clamp::first(2, n + 1));
    assert_eq!(
        Sampler::<Dense>::start(&clamped, &m, &vec![1; n]).unwrap_err(),
        Error::ShapeMismatch { what: "clamp mask", expected: n, found: n + 1 }
    );
    assert!(matches!(
        Sampler::<Dense>::start(&Gibbs::block(), &m, &[1, -1]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        Sampler::<Dense>::start(&Metropolis::sequential(), &m, &vec![0; n]),
        Err(Error::InvalidUnitValue { index: 0, value: 0.0 })
    ));
    // a tempering ladder that adapts for 50 sweeps needs at least 50 warm-up sweeps
    let adaptive = ParallelTempering::new(Gibbs::sequential(), Ladder::geometric(3, 0.5).unwrap())
        .adapt_during(50);
    let short = ChainsConfig { n_chains: 2, n_warmup: 49, n_sweeps: 1, thin: 1, seed: Seed(0) };
    assert!(matches!(
        Run::new(&m, &adaptive, Beta::ONE)
            .config(short)
            .init(Init::Uniform)
            .record(0, |_: &Dense, _: &[i8], _: &mut [f64]| {}),
        Err(Error::InvalidSequence { what: "warm-up", .. })
    ));
    let config = ChainsConfig { n_chains: 0, n_warmup: 0, n_sweeps: 1, thin: 1, seed: Seed(0) };
    assert!(matches!(
        Run::new(&m, &Gibbs::sequential(), Beta::ONE)
            .config(config)
            .init(Init::Uniform)
            .record(0, |_: &Dense, _: &[i8], _: &mut [f64]| {}),
        Err(Error::InvalidParameter { name: "n_chains", .. })
    ));
}

#[test]
fn tempering_reports_swap_rates_and_round_trips() {
    let m = model();
    let pt = ParallelTempering::new(Metropolis::random_scan(), Ladder::geometric(5, 0.1).unwrap());
    let mut rng = Seed(2).stream(Purpose::SAMPLING, 0);
    let mut c = pt.start(&m, &[1; 12]).unwrap();
    for _ in 0..4000 {
        pt.sweep(&m, &mut c, Beta::new(2.0).unwrap(), &mut rng);
    }
    let rates = c.swap_rates();
    assert_eq!(rates.len(), 4);
    assert!(rates.iter().all(|r| (0.0..=1.0).contains(r) && *r > 0.05), "{rates:?}");
    assert!(c.round_trips() > 10, "{}", c.round_trips());
}

#[test]
fn ladder_adaptation_evens_out_swap_rates() {
    // a badly spaced ladder: most of the span in the last gap
    let m = model();
    let ladder = Ladder::new(vec![0.05, 0.06, 0.07, 0.08, 1.0]).unwrap();
    let spread = |adapt: u64| {
        let pt =
            ParallelTempering::new(Metropolis::random_scan(), ladder.clone()).adapt_during(adapt);
        let mut rng = Seed(3).stream(Purpose::SAMPLING, 0);
        let mut c = pt.start(&m, &[1; 12]).unwrap();
        for _ in 0..adapt + 3000 {
            pt.sweep(&m, &mut c, Beta::new(3.0).unwrap(), &mut rng);
        }
        let r = c.swap_rates();
        r.iter().cloned().fold(0.0, f64::max) - r.iter().cloned().fold(1.0, f64::min)
    };
    let (fixed, adapted) = (spread(0), spread(2000));
    assert!(adapted < 0.5 * fixed, "spread of swap rates: fixed {fixed}, adapted {adapted}");
}

#[test]
fn annealing_finds_the_ground_state_of_a_small_model() {
    let m = model();
    let exact_min = ebm_thermo::exact(&m, Beta::ONE).unwrap().min_energy;
    let anneal = ebm_samplers::Anneal {
        sampler: Metropolis::random_scan(),
        schedule: Schedule::geometric(0.1, 10.0, 50).unwrap(),
        sweeps_per_step: 20,
    };
    let mut rng = Seed(6).stream(Purpose::SAMPLING, 0);
    let mut c = Sampler::<Dense>::start(&anneal.sampler, &m, &[1; 12]).unwrap();
    let (best, x) = anneal.run(&m, &mut c, &mut rng);
    assert!((best - exact_min).abs() < 1e-12, "{best} vs {exact_min}");
    assert!((ebm_core::EnergyModel::energy(&m, &x) - best).abs() < 1e-12);
}

#[test]
fn batched_block_gibbs_equals_sweeping_chains_one_by_one() {
    let m = model();
    let gibbs = Gibbs::block().with_clamp(Clamp::new((0..12).map(|i| i % 5 == 0).collect()));
    let starts: Vec<Vec<i8>> = (0..6)
        .map(|c| (0..12).map(|i| if (i * 7 + c) % 3 == 0 { 1 } else { -1 }).collect())
        .collect();
    let mut one: Vec<_> =
        starts.iter().map(|x| Sampler::<Dense>::start(&gibbs, &m, x).unwrap()).collect();
    let mut batch = one.clone();
    let mut rngs_one: Vec<_> = (0..6).map(|c| Seed(1).stream(Purpose::SAMPLING, c)).collect();
    let mut rngs_batch = rngs_one.clone();
    for _ in 0..25 {
        for (c, r) in one.iter_mut().zip(rngs_one.iter_mut()) {
            gibbs.sweep(&m, c, Beta::new(0.9).unwrap(), r);
        }
        gibbs.sweep_batch(&m, &mut batch, Beta::new(0.9).unwrap(), &mut rngs_batch);
    }
    assert_eq!(one, batch);
    assert_eq!(rngs_one, rngs_batch);
}

/// A 128² torus (16,384 spins: its kernel sweeps fork) and a 256² one (its
/// states are also joined in parallel) with one chain, run from outside any
/// pool (the global pool keeps its spare workers polling, and they take the
/// sweep's tasks from `ebm_parallel`'s slot) and inside pools of 1, 2 and 3
/// threads: the same bits. The polling only happens when the pool has two or
/// more threads (the global pool has one per core: CI has two).
#[test]
fn one_forking_chain_gives_the_same_bits_with_spare_workers_kept_awake() {
    use ebm_models::ising::{Boundary, Ising};
    for side in [128, 256] {
        let m = Ising::square(side, side, Boundary::Periodic, 1.0, 0.1).unwrap();
        let s = Metropolis::block();
        let config =
            ChainsConfig { n_chains: 1, n_warmup: 5, n_sweeps: 20, thin: 1, seed: Seed(9) };
        let run = || {
            let (traces, running) = Run::new(&m, &s, Beta::new(0.44).unwrap())
                .config(config)
                .record(1, |m: &Ising, x: &[i8], out: &mut [f64]| {
                    out[0] = ebm_core::EnergyModel::energy(m, x);
                })
                .unwrap();
            (
                traces.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                running.chains[0].state().to_vec(),
            )
        };
        let outside = run();
        for threads in [1, 2, 3] {
            // called from a worker of the pool (as the CLI runs): the caller
            // takes part in the broadcast, the spare workers poll
            let inside =
                rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(run);
            assert_eq!(outside, inside, "{side}², {threads} threads");
        }
    }
}

/// A panic inside such a run reaches the caller instead of leaving the
/// polling workers waiting for ever.
#[test]
fn a_panic_in_a_forking_run_reaches_the_caller() {
    use ebm_models::ising::{Boundary, Ising};
    let m = Ising::square(128, 128, Boundary::Periodic, 1.0, 0.0).unwrap();
    let s = Metropolis::block();
    let config = ChainsConfig { n_chains: 1, n_warmup: 1, n_sweeps: 5, thin: 1, seed: Seed(9) };
    let count = std::sync::atomic::AtomicUsize::new(0);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Run::new(&m, &s, Beta::new(0.44).unwrap()).config(config).record(
            1,
            |_: &Ising, _: &[i8], _: &mut [f64]| {
                if count.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 2 {
                    panic!("observer fails on purpose");
                }
            },
        )
    }));
    assert!(result.is_err());
    assert_eq!(count.load(std::sync::atomic::Ordering::Relaxed), 3);
}
