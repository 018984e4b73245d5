//! The cluster samplers (Wolff, Swendsen–Wang, and tempering over them)
//! against exact enumeration: Ising with and without fields, 3-D, a graph
//! with couplings of both signs, q = 3 and q = 4 Potts with and without
//! fields. The bound is the chains' own (see `ebm_testkit::statistics`);
//! the negative controls (sampling at 0.9 β, a model changed under the
//! chain) must fail it.

use ebm_core::{Beta, Categories, Domain, Error, FiniteModel, FiniteSpace, Purpose, Sampler, Seed};
use ebm_models::boltzmann::BoltzmannMachine;
use ebm_models::ising::{Boundary, Ising};
use ebm_models::potts::Potts;
use ebm_samplers::{ClusterMoves, Ladder, ParallelTempering, SwendsenWang, Wolff};
use ebm_testkit::statistics::{TvReport, draw_code, tv_test};
use ebm_testkit::toy::Dense;
use ebm_thermo::exact_distribution;

const N_CHAINS: usize = 200;
const N_SWEEPS: usize = 400;

fn tv_case<M: FiniteModel, S: Sampler<M>>(m: &M, s: &S, beta: f64, at: f64, seed: u64) -> TvReport {
    ebm_suite::exact_tv(m, s, (beta, at), (N_CHAINS, N_SWEEPS), seed)
}

/// Wolff adapting its clusters per sweep: chains start from exact samples,
/// adapt for `warm` sweeps (not recorded: the adaptation is not a fixed
/// kernel), then record.
fn adaptive_wolff_tv<M: FiniteModel>(m: &M, beta: f64, seed: u64) -> TvReport
where
    M::Space: ClusterMoves<M>,
{
    let b = Beta::new(beta).unwrap();
    let p = exact_distribution(m, b).unwrap().probs;
    let wolff = Wolff::new();
    let warm = Sampler::<M>::min_warmup(&wolff);
    let space = m.space();
    let counts: Vec<Vec<u64>> = (0..N_CHAINS as u64)
        .map(|c| {
            let mut rng = Seed(seed).stream(Purpose::SAMPLING, c);
            let mut x = vec![Default::default(); m.n_units()];
            space.state_of_code(draw_code(&p, ebm_core::uniform(&mut rng)), &mut x);
            let mut chain = wolff.start(m, &x).unwrap();
            for _ in 0..warm {
                wolff.sweep(m, &mut chain, b, &mut rng);
            }
            let mut h = vec![0u64; p.len()];
            for _ in 0..N_SWEEPS {
                wolff.sweep(m, &mut chain, b, &mut rng);
                h[space.code_of_state(ebm_core::Chain::state(&chain)) as usize] += 1;
            }
            h
        })
        .collect();
    tv_test(&p, &counts)
}

/// Swendsen–Wang cutting a torus into stripes of one slab each.
fn striped() -> SwendsenWang {
    SwendsenWang::new().with_stripe_sites(1).unwrap()
}

fn check_clusters<M: FiniteModel>(name: &str, m: &M, betas: &[f64])
where
    M::Space: ClusterMoves<M>,
{
    let ladder = Ladder::geometric(3, 0.4).unwrap();
    let mut failures = Vec::new();
    for (k, &beta) in betas.iter().enumerate() {
        let seed = 500 + k as u64;
        let cases = [
            ("wolff×1", tv_case(m, &Wolff::clusters_per_sweep(1).unwrap(), beta, beta, seed)),
            ("wolff×3", tv_case(m, &Wolff::clusters_per_sweep(3).unwrap(), beta, beta, seed)),
            ("wolff-adaptive", adaptive_wolff_tv(m, beta, seed)),
            ("swendsen-wang", tv_case(m, &SwendsenWang::new(), beta, beta, seed)),
            // one slab per stripe: the crossings and wraps of the torus path
            ("swendsen-wang-stripes", tv_case(m, &striped(), beta, beta, seed)),
            (
                "pt-swendsen-wang",
                tv_case(
                    m,
                    &ParallelTempering::new(SwendsenWang::new(), ladder.clone()),
                    beta,
                    beta,
                    seed,
                ),
            ),
            (
                "pt-wolff",
                tv_case(
                    m,
                    &ParallelTempering::new(Wolff::clusters_per_sweep(2).unwrap(), ladder.clone()),
                    beta,
                    beta,
                    seed,
                ),
            ),
        ];
        ebm_suite::record_cases(name, beta, &cases, &mut failures);
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn cluster_samplers_match_exact_on_a_3x3_ising_torus() {
    let m = Ising::square(3, 3, Boundary::Periodic, 1.0, 0.0).unwrap();
    check_clusters("ising-3x3", &m, &[0.2, 0.44, 1.0]);
}

#[test]
fn cluster_samplers_match_exact_on_an_ising_lattice_with_a_field() {
    let m = Ising::square(3, 4, Boundary::Open, 0.8, 0.35).unwrap();
    check_clusters("ising-3x4-h", &m, &[0.3, 1.0]);
}

#[test]
fn cluster_samplers_match_exact_on_a_3d_ising_lattice() {
    let m = Ising::cubic(2, 2, 3, Boundary::Periodic, 0.3, -0.1).unwrap();
    check_clusters("ising-2x2x3", &m, &[0.5, 1.2]);
}

#[test]
fn cluster_samplers_match_exact_on_tori_without_fields_in_1_2_and_3_d() {
    // the tori Swendsen–Wang runs in stripes
    let m = Ising::cubic(2, 2, 3, Boundary::Periodic, 0.3, 0.0).unwrap();
    check_clusters("ising-2x2x3-torus", &m, &[0.5, 1.2]);
    let m = Ising::square(2, 5, Boundary::Periodic, 0.7, 0.0).unwrap();
    check_clusters("ising-2x5-torus", &m, &[0.4, 1.1]);
    let m = Potts::lattice(3, &[6], true, 1.0, 0.0).unwrap();
    check_clusters("potts3-ring6", &m, &[0.8, 1.7]);
}

#[test]
fn cluster_samplers_match_exact_on_a_graph_with_couplings_of_both_signs_and_fields() {
    // a frustrated 9-spin graph: satisfied-bond clusters are exact for any sign
    let edges = [
        (0, 1, 1.0),
        (1, 2, -0.7),
        (0, 2, 0.5),
        (2, 3, 1.2),
        (3, 4, -1.0),
        (4, 5, 0.9),
        (5, 6, 0.4),
        (6, 7, -0.6),
        (7, 8, 1.1),
        (8, 0, 0.3),
        (1, 5, 0.8),
        (3, 7, -0.2),
    ];
    let h = [0.2, -0.3, 0.0, 0.5, 0.1, -0.4, 0.3, 0.0, -0.2];
    let m = Ising::from_edges(9, &edges, &h).unwrap();
    check_clusters("graph-±J-h", &m, &[0.5, 1.5]);
}

#[test]
fn cluster_samplers_match_exact_on_q3_potts_lattices() {
    let m = Potts::lattice(3, &[3, 3], true, 1.0, 0.0).unwrap();
    check_clusters("potts3-3x3", &m, &[0.5, 1.005, 2.0]);
    // fields on value 0 of every site, on an open lattice
    let m = Potts::lattice(3, &[2, 4], false, 0.7, 0.4).unwrap();
    check_clusters("potts3-2x4-h", &m, &[0.6, 1.5]);
}

#[test]
fn cluster_samplers_match_exact_on_a_q4_potts_graph_with_site_dependent_fields() {
    let edges = [(0, 1, 1.0), (1, 2, 0.5), (2, 3, 1.5), (3, 4, 0.0), (4, 0, 0.8), (1, 3, 0.6)];
    let fields: Vec<f64> = (0..5 * 4).map(|k| ((k * 7) % 5) as f64 * 0.15 - 0.3).collect();
    let m = Potts::from_edges(Categories::uniform(4, 5).unwrap(), &edges, &fields).unwrap();
    check_clusters("potts4-graph-h", &m, &[0.7, 1.6]);
}

#[test]
fn mis_tempered_cluster_samplers_fail_the_same_test() {
    let ising = Ising::square(3, 3, Boundary::Periodic, 1.0, 0.2).unwrap();
    let torus = Ising::square(3, 3, Boundary::Periodic, 1.0, 0.0).unwrap();
    // a q = 3 ring of 6 (729 states: a 10% temperature error is visible)
    let potts = Potts::lattice(3, &[6], true, 1.0, 0.0).unwrap();
    let w = Wolff::clusters_per_sweep(2).unwrap();
    for beta in [0.44, 1.0] {
        let r = tv_case(&ising, &w, beta, 0.9 * beta, 11);
        assert!(!r.passed(), "Ising Wolff β={beta}: {r:?}");
        let r = tv_case(&ising, &SwendsenWang::new(), beta, 0.9 * beta, 11);
        assert!(!r.passed(), "Ising SW β={beta}: {r:?}");
    }
    // (without a field both ground states hold almost all of the mass at
    // β = 1 whatever the 10%: the torus control runs near β_c)
    for beta in [0.3, 0.44] {
        let r = tv_case(&torus, &striped(), beta, 0.9 * beta, 11);
        assert!(!r.passed(), "Ising SW in stripes β={beta}: {r:?}");
    }
    for beta in [1.0, 2.0] {
        let r = tv_case(&potts, &SwendsenWang::new(), beta, 0.9 * beta, 11);
        assert!(!r.passed(), "Potts SW β={beta}: {r:?}");
        let r = tv_case(&potts, &striped(), beta, 0.9 * beta, 11);
        assert!(!r.passed(), "Potts SW in stripes β={beta}: {r:?}");
        let r = tv_case(&potts, &w, beta, 0.9 * beta, 11);
        assert!(!r.passed(), "Potts Wolff β={beta}: {r:?}");
    }
}

/// A cluster sampler reads the model on every sweep: chains started on one
/// Ising model and moved to another (other couplings, a field) sample the
/// second exactly, and not the first (the control).
#[test]
fn cluster_samplers_follow_a_model_changed_between_sweeps() {
    use ebm_core::LogLinear;
    let a = Ising::square(3, 3, Boundary::Periodic, 0.8, 0.0).unwrap();
    let mut b = a.clone();
    let theta: Vec<f64> =
        (0..b.n_params()).map(|k| if k < b.n_edges() { 0.4 } else { -0.3 }).collect();
    b.set_params(&theta).unwrap();
    let beta = Beta::new(0.9).unwrap();
    let p_a = exact_distribution(&a, beta).unwrap().probs;
    let p_b = exact_distribution(&b, beta).unwrap().probs;
    fn run<S: Sampler<Ising>>(
        s: &S,
        a: &Ising,
        b: &Ising,
        p_a: &[f64],
        beta: Beta,
    ) -> Vec<Vec<u64>> {
        (0..N_CHAINS as u64)
            .map(|c| {
                let mut rng = Seed(91).stream(Purpose::SAMPLING, c);
                let mut x = vec![0i8; 9];
                Domain::Spin.decode(draw_code(p_a, ebm_core::uniform(&mut rng)), &mut x);
                let mut chain = s.start(a, &x).unwrap();
                for _ in 0..10 {
                    s.sweep(a, &mut chain, beta, &mut rng);
                }
                for _ in 0..20 {
                    s.sweep(b, &mut chain, beta, &mut rng);
                }
                let mut h = vec![0u64; 512];
                for _ in 0..N_SWEEPS {
                    s.sweep(b, &mut chain, beta, &mut rng);
                    h[Domain::Spin.encode(ebm_core::Chain::state(&chain)) as usize] += 1;
                }
                h
            })
            .collect()
    }
    for (name, counts) in [
        ("wolff", run(&Wolff::clusters_per_sweep(2).unwrap(), &a, &b, &p_a, beta)),
        ("swendsen-wang", run(&SwendsenWang::new(), &a, &b, &p_a, beta)),
    ] {
        let r = tv_test(&p_b, &counts);
        assert!(r.passed(), "{name} after the change: {r:?}");
        let control = tv_test(&p_a, &counts);
        assert!(!control.passed(), "{name}: the old model passed: {control:?}");
    }
}

#[test]
fn cluster_samplers_refuse_models_they_cannot_sample_with_a_typed_error() {
    let unsupported = |r: ebm_core::Result<_>| matches!(r, Err(Error::Unsupported { .. }));
    // antiferromagnetic Potts
    let afm = Potts::lattice(3, &[4], true, -1.0, 0.0).unwrap();
    assert!(unsupported(Wolff::new().start(&afm, &[0; 4]).map(|_| ())));
    assert!(unsupported(SwendsenWang::new().start(&afm, &[0; 4]).map(|_| ())));
    // mixed alphabets
    let mixed =
        Potts::from_edges(Categories::new(vec![2, 3]).unwrap(), &[(0, 1, 1.0)], &[0.0; 5]).unwrap();
    assert!(unsupported(SwendsenWang::new().start(&mixed, &[0, 0]).map(|_| ())));
    // 0/1 units
    let bm = BoltzmannMachine::new(vec![0.0; 9], vec![0.0; 3], 3).unwrap();
    assert!(unsupported(SwendsenWang::new().start(&bm, &[0, 1, 0]).map(|_| ())));
    // a model with no pair form
    let dense = Dense::from_upper(Domain::Spin, &[1.0], vec![0.0, 0.0]).unwrap();
    assert!(unsupported(Wolff::new().start(&dense, &[1, -1]).map(|_| ())));
    // and bad configuration arguments
    assert!(Wolff::clusters_per_sweep(0).is_err());
    assert!(Wolff::adapt_during(1).is_err());
}

fn cluster_run(threads: usize, s: &ebm_samplers::AnySampler) -> (Vec<u64>, Vec<Vec<i8>>) {
    use ebm_samplers::{ChainsConfig, Init, Run};
    let m = Ising::square(8, 8, Boundary::Periodic, 1.0, 0.05).unwrap();
    let config = ChainsConfig { n_chains: 5, n_warmup: 100, n_sweeps: 50, thin: 1, seed: Seed(3) };
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| {
        let (traces, running) = Run::new(&m, s, Beta::new(0.44).unwrap())
            .config(config)
            .init(Init::Uniform)
            .record(1, |m: &Ising, x: &[i8], out: &mut [f64]| out[0] = m.magnetization(x))
            .unwrap();
        (
            traces.values.iter().map(|v| v.to_bits()).collect(),
            running.chains.iter().map(|c| ebm_core::Chain::state(c).to_vec()).collect(),
        )
    })
}

#[test]
fn cluster_runs_are_bit_identical_for_one_and_two_threads() {
    use ebm_samplers::AnySampler as A;
    for s in [A::Wolff(Wolff::new()), A::SwendsenWang(SwendsenWang::new())] {
        let (a, sa) = cluster_run(1, &s);
        let (b, sb) = cluster_run(2, &s);
        assert_eq!(a, b, "{s:?}");
        assert_eq!(sa, sb);
        assert!(sa.windows(2).any(|w| w[0] != w[1]), "the chains differ from each other");
    }
}

/// Swendsen–Wang in stripes on one chain of a large torus: the stripes run
/// on every thread, and the run is bit-identical for 1, 2 and 3 threads
/// (Ising in 2-D and 3-D, Potts in 2-D; 2 to 16 stripes).
#[test]
fn striped_swendsen_wang_is_bit_identical_for_any_thread_count() {
    use ebm_core::Chain;
    fn run<M: ebm_core::EnergyModel>(
        m: &M,
        s: &SwendsenWang,
        threads: usize,
    ) -> Vec<ebm_core::UnitOf<M>>
    where
        M::Space: ClusterMoves<M>,
    {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| {
            let mut rng = Seed(8).stream(Purpose::SAMPLING, 0);
            let x0 = rng.random_state(m.space(), m.n_units());
            let mut c = s.start(m, &x0).unwrap();
            for _ in 0..30 {
                s.sweep(m, &mut c, Beta::new(0.44).unwrap(), &mut rng);
            }
            c.state().to_vec()
        })
    }
    let ising = Ising::square(64, 64, Boundary::Periodic, 1.0, 0.0).unwrap();
    let cube = Ising::cubic(12, 12, 12, Boundary::Periodic, 0.5, 0.0).unwrap();
    let potts = Potts::lattice(3, &[48, 40], true, 2.0, 0.0).unwrap();
    let (default, narrow) =
        (SwendsenWang::new(), SwendsenWang::new().with_stripe_sites(256).unwrap());
    // the striped path ran: each stripe draws its own stream, so another cut
    // gives another run (the in-order path would ignore the stripe size)
    assert_ne!(run(&ising, &default, 1), run(&ising, &narrow, 1));
    for s in [default, narrow] {
        let a = run(&ising, &s, 1);
        assert_eq!(a, run(&ising, &s, 2));
        assert_eq!(a, run(&ising, &s, 3));
        let a = run(&cube, &s, 1);
        assert_eq!(a, run(&cube, &s, 2));
        let a = run(&potts, &s, 1);
        assert_eq!(a, run(&potts, &s, 3));
        assert!(a.iter().any(|&v| v != a[0]));
    }
}

/// A chain rebuilt from its record and its stream's position continues
/// exactly as the uninterrupted chain (Wolff's adapted n_c included, the
/// record taken in the middle of the adaptation).
#[test]
fn a_restored_cluster_chain_continues_as_the_uninterrupted_one() {
    use ebm_core::{Chain, ChainRng};
    let m = Potts::lattice(3, &[6, 6], true, 1.0, 0.1).unwrap();
    let beta = Beta::new(1.0).unwrap();
    let wolff = Wolff::new();
    let sw = SwendsenWang::new();
    fn check<S: Sampler<Potts>>(s: &S, m: &Potts, beta: Beta) {
        let mut rng = Seed(6).stream(Purpose::SAMPLING, 0);
        let mut a = s.start(m, &[0; 36]).unwrap();
        for _ in 0..20 {
            s.sweep(m, &mut a, beta, &mut rng);
        }
        let (record, position) = (a.record(), rng.position());
        for _ in 0..30 {
            s.sweep(m, &mut a, beta, &mut rng);
        }
        let mut b = s.restore(m, &record).unwrap();
        let mut rng_b = ChainRng::from_position(position);
        for _ in 0..30 {
            s.sweep(m, &mut b, beta, &mut rng_b);
        }
        assert_eq!(a.record(), b.record());
        // a damaged record is a typed error
        let mut bad = record.clone();
        bad.counts.pop();
        assert!(s.restore(m, &bad).is_err());
    }
    check(&wolff, &m, beta);
    check(&sw, &m, beta);
    // the torus path: no field, in stripes
    let m = Potts::lattice(3, &[6, 6], true, 1.0, 0.0).unwrap();
    check(&SwendsenWang::new().with_stripe_sites(6).unwrap(), &m, beta);
}

/// Clamped units never change, and the free ones follow the exact
/// conditional distribution.
#[test]
fn clamped_cluster_samplers_sample_the_exact_conditional() {
    use ebm_samplers::Clamp;
    let m = Ising::square(3, 3, Boundary::Periodic, 0.7, 0.1).unwrap();
    let beta = Beta::new(1.0).unwrap();
    let p = exact_distribution(&m, beta).unwrap().probs;
    // fix units 0 and 4 at +1, −1: condition the exact distribution on them
    let fixed = |code: usize| {
        let mut x = [0i8; 9];
        Domain::Spin.decode(code as u64, &mut x);
        x[0] == 1 && x[4] == -1
    };
    let z: f64 = (0..512).filter(|&c| fixed(c)).map(|c| p[c]).sum();
    let cond: Vec<f64> = (0..512).map(|c| if fixed(c) { p[c] / z } else { 0.0 }).collect();
    let clamp = Clamp::new((0..9).map(|i| i == 0 || i == 4).collect());
    fn run<S: Sampler<Ising>>(s: &S, m: &Ising, cond: &[f64], beta: Beta) -> Vec<Vec<u64>> {
        (0..N_CHAINS as u64)
            .map(|c| {
                let mut rng = Seed(12).stream(Purpose::SAMPLING, c);
                let mut x = vec![0i8; 9];
                Domain::Spin.decode(draw_code(cond, ebm_core::uniform(&mut rng)), &mut x);
                let mut chain = s.start(m, &x).unwrap();
                let mut h = vec![0u64; 512];
                for _ in 0..N_SWEEPS {
                    s.sweep(m, &mut chain, beta, &mut rng);
                    h[Domain::Spin.encode(ebm_core::Chain::state(&chain)) as usize] += 1;
                }
                h
            })
            .collect()
    }
    let w = Wolff::clusters_per_sweep(2).unwrap().with_clamp(clamp.clone());
    let sw = SwendsenWang::new().with_clamp(clamp);
    for (name, counts) in [("wolff", run(&w, &m, &cond, beta)), ("sw", run(&sw, &m, &cond, beta))] {
        let r = tv_test(&cond, &counts);
        assert!(r.passed(), "{name}: {r:?}");
        let visited_unfixed: u64 =
            counts.iter().map(|h| (0..512).filter(|&c| !fixed(c)).map(|c| h[c]).sum::<u64>()).sum();
        assert_eq!(visited_unfixed, 0, "{name} moved a clamped unit");
        // the control: the unconditioned distribution fails
        assert!(!tv_test(&p, &counts).passed());
    }
}
