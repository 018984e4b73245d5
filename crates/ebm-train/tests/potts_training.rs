//! Trainers on q-state models, against exact results: the exact gradient
//! against finite differences, PCD and CD against the exact maximum-likelihood
//! fit, and reproducibility across thread counts and checkpoint resume.

use ebm_core::{
    Beta, Categories, EnergyModel, FiniteSpace, LogLinear, Purpose, Seed, Trainer, uniform,
};
use ebm_models::potts::Potts;
use ebm_samplers::Gibbs;
use ebm_testkit::statistics::draw_code;
use ebm_thermo::{exact_distribution, exact_log_likelihood, exact_log_likelihood_gradient};
use ebm_train::{Batches, Cd, Checkpoint, ExactAscent, Learning, Optimizer, Pcd};

/// A Potts model on a ring with chords over mixed alphabets, couplings and
/// fields of the given scales.
fn model(j: f64, h: f64, seed: u64) -> Potts {
    let space = Categories::new(vec![3, 2, 4, 3, 3, 2, 4]).unwrap();
    let n = space.len();
    let mut rng = Seed(seed).stream(Purpose::INIT, 0);
    let mut g = |s: f64| s * (2.0 * uniform(&mut rng) - 1.0);
    let mut edges: Vec<(usize, usize, f64)> = (0..n).map(|i| (i, (i + 1) % n, 0.0)).collect();
    edges.extend([(0, 3, 0.0), (2, 5, 0.0), (1, 4, 0.0)]);
    let edges: Vec<_> = edges.into_iter().map(|(a, b, _)| (a, b, g(j))).collect();
    let n_fields: usize = (0..n).map(|i| space.n_values(i)).sum();
    let fields: Vec<f64> = (0..n_fields).map(|_| g(h)).collect();
    Potts::from_edges(space, &edges, &fields).unwrap()
}

fn zeroed(m: &Potts) -> Potts {
    let mut z = m.clone();
    z.set_params(&vec![0.0; z.n_params()]).unwrap();
    z
}

fn exact_samples(m: &Potts, rows: usize, seed: u64) -> Vec<u8> {
    let dist = exact_distribution(m, Beta::ONE).unwrap();
    let mut rng = Seed(seed).stream(Purpose::DATA, 0);
    let mut x = vec![0u8; m.n_units()];
    let mut out = Vec::with_capacity(rows * x.len());
    for _ in 0..rows {
        m.space().state_of_code(draw_code(&dist.probs, uniform(&mut rng)), &mut x);
        out.extend_from_slice(&x);
    }
    out
}

#[test]
fn exact_gradient_equals_finite_differences_for_potts() {
    let m = model(0.7, 0.4, 1);
    let data = exact_samples(&model(1.0, 0.5, 2), 50, 3);
    let n = m.n_units();
    for beta in [0.6, 1.3] {
        let beta = Beta::new(beta).unwrap();
        let grad = exact_log_likelihood_gradient(&m, &data, beta).unwrap();
        let theta = m.params().to_vec();
        let mut p = m.clone();
        let h = 1e-5;
        for k in 0..theta.len() {
            let mut t = theta.clone();
            t[k] += h;
            p.set_params(&t).unwrap();
            let up = exact_log_likelihood(&p, &data, n, beta).unwrap();
            t[k] -= 2.0 * h;
            p.set_params(&t).unwrap();
            let down = exact_log_likelihood(&p, &data, n, beta).unwrap();
            let fd = (up - down) / (2.0 * h);
            assert!((fd - grad[k]).abs() < 1e-6, "θ_{k}: fd {fd} vs {}", grad[k]);
        }
    }
}

#[test]
fn pcd_and_cd_on_potts_approach_the_exact_maximum_likelihood_fit() {
    let truth = model(1.0, 0.6, 7);
    let n = truth.n_units();
    let data = exact_samples(&truth, 10_000, 8);
    let ll = |m: &Potts| exact_log_likelihood(m, &data, n, Beta::ONE).unwrap();
    // the exact ML fit of the same data
    let mut ml = zeroed(&truth);
    let exact = ExactAscent { learning: Learning::new(Optimizer::adam(0.05), Seed(0)) };
    let mut st = exact.init(&ml).unwrap();
    for _ in 0..400 {
        exact.step(&mut ml, &mut st, &data).unwrap();
    }
    let (ll_zero, ll_ml, ll_truth) = (ll(&zeroed(&truth)), ll(&ml), ll(&truth));
    let learning = Learning::new(
        Optimizer::Adam {
            learning_rate: ebm_train::LearningRate::InverseTime { initial: 0.03, scale: 200.0 },
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        },
        Seed(9),
    );
    let pcd = Pcd { n_chains: 200, k: 2, sampler: Gibbs::block(), learning: learning.clone() };
    let mut m_pcd = zeroed(&truth);
    let mut s = pcd.init(&m_pcd).unwrap();
    let cd = Cd { k: 1, sampler: Gibbs::sequential(), learning };
    let mut m_cd = zeroed(&truth);
    let mut s_cd = cd.init(&m_cd).unwrap();
    for epoch in 0..10 {
        let mut b = Batches::new(&data, n, 200, Seed(10), epoch).unwrap();
        while let Some(batch) = b.next_batch() {
            pcd.step(&mut m_pcd, &mut s, batch).unwrap();
            cd.step(&mut m_cd, &mut s_cd, batch).unwrap();
        }
    }
    let (ll_pcd, ll_cd) = (ll(&m_pcd), ll(&m_cd));
    println!(
        "exact LL: zero {ll_zero:.4}, truth {ll_truth:.4}, ML {ll_ml:.4}, PCD {ll_pcd:.4}, CD-1 {ll_cd:.4}"
    );
    assert!(ll_ml >= ll_truth - 1e-3, "ML fit below the truth on its own data");
    // PCD within 0.02 nats of the ML fit; CD-1 (biased) within 0.1 and far above zero
    assert!(ll_ml - ll_pcd < 0.02, "{ll_pcd} vs {ll_ml}");
    assert!(ll_ml - ll_cd < 0.1 && ll_cd - ll_zero > 0.5 * (ll_ml - ll_zero), "{ll_cd}");
}

fn pcd_run(
    threads: usize,
    epochs: std::ops::Range<u64>,
    resume: Option<&Checkpoint<u8>>,
) -> (Potts, Checkpoint<u8>) {
    let truth = model(1.0, 0.5, 21);
    let n = truth.n_units();
    let data = exact_samples(&truth, 600, 22);
    let pcd = Pcd {
        n_chains: 70,
        k: 1,
        sampler: Gibbs::random_scan(),
        learning: Learning::new(Optimizer::sgd(0.05), Seed(23)),
    };
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| {
        let mut m = zeroed(&truth);
        let mut state = match resume {
            Some(ck) => ck.restore(&mut m, &pcd.sampler).unwrap(),
            None => pcd.init(&m).unwrap(),
        };
        for epoch in epochs {
            let mut b = Batches::new(&data, n, 100, Seed(24), epoch).unwrap();
            while let Some(batch) = b.next_batch() {
                pcd.step(&mut m, &mut state, batch).unwrap();
            }
        }
        let ck = Checkpoint::capture(&m, &state);
        (m, ck)
    })
}

#[test]
fn potts_training_is_bit_identical_across_threads_and_checkpoint_resume() {
    let bits = |m: &Potts| m.params().iter().map(|p| p.to_bits()).collect::<Vec<_>>();
    let (one, _) = pcd_run(1, 0..4, None);
    let (four, _) = pcd_run(4, 0..4, None);
    assert_eq!(bits(&one), bits(&four));
    let (_, ck) = pcd_run(2, 0..2, None);
    let path = std::env::temp_dir().join(format!("ebm-potts-ckpt-{}", std::process::id()));
    ck.save(&path).unwrap();
    let loaded = Checkpoint::<u8>::load(&path).unwrap();
    assert_eq!(loaded, ck);
    let (resumed, _) = pcd_run(2, 2..4, Some(&loaded));
    assert_eq!(bits(&resumed), bits(&one));
    std::fs::remove_file(&path).ok();
}
