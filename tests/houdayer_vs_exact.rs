//! Houdayer's two-replica cluster move against exact enumeration of the
//! pair of copies (2N units): ±J and Gaussian glasses, with and without
//! fields, alone (the local moves clamped away: invariance of the move by
//! itself), after Metropolis and heat-bath sweeps, and inside parallel
//! tempering. The bound is the chains' own (`ebm_testkit::statistics`); the
//! negative controls (sampling at 0.9 β, and a move that swaps the seed site
//! only, which does not conserve the energy) must fail it.

use ebm_core::{
    Beta, Chain, ChainRecord, ChainRng, Domain, EnergyModel, Error, FiniteModel, Purpose, Result,
    Sampler, Seed,
};
use ebm_models::ising::{Boundary, Ising};
use ebm_samplers::{Clamp, Gibbs, Houdayer, Ladder, Metropolis, ParallelTempering, Replicas};
use ebm_testkit::conformance::{check_blocks, check_flip_deltas};
use ebm_testkit::statistics::{TvReport, sampler_tv};
use ebm_testkit::toy::Dense;
use ebm_thermo::exact_distribution;
use rand::{Rng, RngExt};

const N_CHAINS: usize = 200;
const N_SWEEPS: usize = 300;

fn tv_case<M: FiniteModel, S: Sampler<M>>(m: &M, s: &S, beta: f64, at: f64, seed: u64) -> TvReport {
    ebm_suite::exact_tv(m, s, (beta, at), (N_CHAINS, N_SWEEPS), seed)
}

/// A ±J glass on a 2×3 open lattice (7 bonds, 12 units in two copies).
fn pm_glass() -> Ising {
    Ising::spin_glass_pm(&[2, 3], Boundary::Open, 1.0, Seed(4)).unwrap()
}

/// A Gaussian glass on a frustrated 5-site graph with random fields.
fn gaussian_glass_with_fields() -> Ising {
    let edges = [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (3, 4, 1.0), (4, 0, 1.0), (1, 3, 1.0)];
    Ising::from_edges(5, &edges, &[0.0; 5])
        .unwrap()
        .with_random_couplings(
            ebm_models::ising::Disorder::Gaussian { mean: 0.0, std: 1.0 },
            Seed(8),
        )
        .unwrap()
        .with_fields(&[0.3, -0.2, 0.5, 0.0, -0.4])
        .unwrap()
}

/// The move by itself (the local sweeps clamped away) is not ergodic, so
/// its chains cannot be pooled over time; instead 20 000 chains each make
/// one move from an exact sample, and the states they reach must be exact
/// draws: invariance of the move, with i.i.d. samples.
fn move_alone_tv<S: Sampler<Replicas<Ising>>>(
    pair: &Replicas<Ising>,
    s: &S,
    beta: f64,
    seed: u64,
) -> TvReport {
    let p = exact_distribution(pair, Beta::new(beta).unwrap()).unwrap().probs;
    sampler_tv(pair, s, Beta::new(beta).unwrap(), &p, 20_000, 1, Seed(seed)).unwrap()
}

/// The local sweeps of a sampler on the replicas, clamped away.
fn frozen(pair: &Replicas<Ising>) -> Metropolis {
    Metropolis::sequential().with_clamp(Clamp::new(vec![true; pair.n_units()]))
}

fn check_houdayer(name: &str, glass: Ising, betas: &[f64]) {
    let pair = Replicas::new(glass);
    let alone = Houdayer::new(frozen(&pair));
    let ladder = Ladder::geometric(3, 0.4).unwrap();
    let mut failures = Vec::new();
    for (k, &beta) in betas.iter().enumerate() {
        let seed = 700 + k as u64;
        let cases = [
            ("move alone", move_alone_tv(&pair, &alone, beta, seed)),
            (
                "metropolis",
                tv_case(&pair, &Houdayer::new(Metropolis::sequential()), beta, beta, seed),
            ),
            ("heat bath", tv_case(&pair, &Houdayer::new(Gibbs::random_scan()), beta, beta, seed)),
            (
                "pt alone",
                tv_case(
                    &pair,
                    &ParallelTempering::new(Metropolis::sequential(), ladder.clone()),
                    beta,
                    beta,
                    seed,
                ),
            ),
            (
                "pt",
                tv_case(
                    &pair,
                    &ParallelTempering::new(
                        Houdayer::new(Metropolis::sequential()),
                        ladder.clone(),
                    ),
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
fn houdayer_matches_exact_on_a_pm_j_glass() {
    check_houdayer("±J 2×3", pm_glass(), &[0.5, 1.5, 3.0]);
}

#[test]
fn houdayer_matches_exact_on_a_gaussian_glass_with_fields() {
    // (colder, 98% of the mass sits on the ground-state pair and 200 chains
    // cannot estimate the rare excursions' variance, with or without the move)
    check_houdayer("gauss+h", gaussian_glass_with_fields(), &[0.7, 1.2]);
}

/// The replicas are a binary model like any other: flip deltas and blocks
/// agree with its energy.
#[test]
fn replicas_pass_the_binary_model_conformance_checks() {
    let pair =
        Replicas::new(Ising::spin_glass_pm(&[3, 4], Boundary::Periodic, 1.0, Seed(2)).unwrap());
    let mut rng = Seed(1).stream(Purpose::INIT, 0);
    for _ in 0..5 {
        let x = rng.random_state(&Domain::Spin, pair.n_units());
        check_flip_deltas(&pair, &x, 1e-12).unwrap();
        check_blocks(&pair, &x, 1e-12).unwrap();
    }
    let x: Vec<i8> = (0..24).map(|i| if i % 3 == 0 { 1 } else { -1 }).collect();
    let q = pair.overlap(&x);
    let direct: f64 = (0..12).map(|i| f64::from(x[i] * x[i + 12])).sum::<f64>() / 12.0;
    assert_eq!(q, direct);
    assert_eq!(pair.overlap(&[x[..12].to_vec(), x[..12].to_vec()].concat()), 1.0);
    assert_eq!(pair.link_overlap(&[x[..12].to_vec(), x[..12].to_vec()].concat()), Some(1.0));
}

/// A wrong move for the controls: swap the copies at one differing site only
/// (no cluster), which changes E(σ¹) + E(σ²) and is accepted regardless.
struct SeedOnly(Metropolis);

impl Sampler<Replicas<Ising>> for SeedOnly {
    type Chain = ebm_samplers::SiteChain<i8>;
    fn start(&self, m: &Replicas<Ising>, x0: &[i8]) -> Result<Self::Chain> {
        self.0.start(m, x0)
    }
    fn sweep<R: Rng + ?Sized>(
        &self,
        m: &Replicas<Ising>,
        c: &mut Self::Chain,
        b: Beta,
        rng: &mut R,
    ) {
        self.0.sweep(m, c, b, rng);
        let x = c.state_mut();
        let n = x.len() / 2;
        let differ: Vec<usize> = (0..n).filter(|&i| x[i] != x[i + n]).collect();
        if !differ.is_empty() {
            let i = differ[rng.random_range(0..differ.len())];
            x.swap(i, i + n);
        }
    }
}

#[test]
fn mis_tempered_and_wrong_moves_fail_the_same_test() {
    let pair = Replicas::new(pm_glass());
    let h = Houdayer::new(Metropolis::sequential());
    for beta in [1.0, 2.0] {
        let r = tv_case(&pair, &h, beta, 0.9 * beta, 21);
        assert!(!r.passed(), "mis-tempered β={beta}: {r:?}");
        let r = move_alone_tv(&pair, &SeedOnly(frozen(&pair)), beta, 21);
        println!("seed-only swap β={beta}: TV {:.4} > {:.4}", r.tv, r.bound);
        assert!(!r.passed(), "seed-only swap β={beta}: {r:?}");
    }
}

#[test]
fn houdayer_refuses_models_without_a_usable_pair_form_with_a_typed_error() {
    let unsupported = |r: Result<_>| matches!(r, Err(Error::Unsupported { .. }));
    let h = Houdayer::new(Metropolis::sequential());
    let dense = Replicas::new(Dense::from_upper(Domain::Spin, &[1.0], vec![0.0, 0.0]).unwrap());
    assert!(unsupported(h.start(&dense, &[1, -1, 1, 1]).map(|_| ())));
    let bits = Replicas::new(Dense::from_upper(Domain::Bit, &[1.0], vec![0.0, 0.0]).unwrap());
    assert!(unsupported(h.start(&bits, &[1, 0, 1, 1]).map(|_| ())));
    let pair = Replicas::new(pm_glass());
    assert!(matches!(h.start(&pair, &[1; 11]), Err(Error::ShapeMismatch { .. })));
    assert!(Houdayer::new(Metropolis::sequential()).min_beta(f64::NAN).is_err());
    assert!(Houdayer::new(Metropolis::sequential()).min_beta(-1.0).is_err());
}

/// A chain rebuilt from its record and stream position continues exactly as
/// the uninterrupted one, alone and inside tempering; a damaged record is a
/// typed error.
#[test]
fn a_restored_houdayer_chain_continues_as_the_uninterrupted_one() {
    let pair = Replicas::new(
        Ising::spin_glass_gaussian(&[6, 6], Boundary::Periodic, 1.0, Seed(5)).unwrap(),
    );
    let beta = Beta::new(1.5).unwrap();
    fn check<S: Sampler<Replicas<Ising>>>(s: &S, m: &Replicas<Ising>, beta: Beta) {
        let mut rng = Seed(6).stream(Purpose::SAMPLING, 0);
        let x0 = rng.random_state(&Domain::Spin, m.n_units());
        let mut a = s.start(m, &x0).unwrap();
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
        let mut bad: ChainRecord<i8> = record.clone();
        bad.counts.pop();
        assert!(s.restore(m, &bad).is_err());
    }
    let h = Houdayer::new(Metropolis::sequential());
    check(&h, &pair, beta);
    check(&ParallelTempering::new(h, Ladder::geometric(4, 0.3).unwrap()), &pair, beta);
    // the move happened: the copies were exchanged on clusters
    let mut rng = Seed(7).stream(Purpose::SAMPLING, 0);
    let h = Houdayer::new(Metropolis::sequential());
    let x0 = rng.random_state(&Domain::Spin, pair.n_units());
    let mut c = h.start(&pair, &x0).unwrap();
    for _ in 0..50 {
        h.sweep(&pair, &mut c, beta, &mut rng);
    }
    assert_eq!(c.n_moves(), 50);
    assert!(c.mean_cluster_size() >= 1.0, "{}", c.mean_cluster_size());
}
