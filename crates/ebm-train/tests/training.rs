//! Trainers against exact results: gradients vs finite differences, inverse
//! Ising, reproducibility across threads and checkpoints, divergence errors.

use ebm_core::{Beta, Domain, EnergyModel, Error, LogLinear, Purpose, Seed, Trainer, uniform};
use ebm_models::ising::Ising;
use ebm_samplers::{Gibbs, Ladder, ParallelTempering};
use ebm_testkit::statistics::draw_code;
use ebm_thermo::{exact_distribution, exact_log_likelihood, exact_log_likelihood_gradient};
use ebm_train::{
    Batches, Cd, Checkpoint, ExactAscent, Learning, Momentum, Optimizer, Pcd, epoch_order,
};

/// A fully connected Ising model on `n` spins with Gaussian-ish couplings of
/// scale `j` and fields of scale `h`, from `seed`.
fn random_ising(n: usize, j: f64, h: f64, seed: u64) -> Ising {
    let mut rng = Seed(seed).stream(Purpose::INIT, 0);
    let mut g = || {
        // sum of 4 uniforms: mean 0, variance 1/3 · 4 / 4 → scaled to unit variance
        let s: f64 = (0..4).map(|_| uniform(&mut rng) - 0.5).sum();
        s * 3f64.sqrt()
    };
    let edges: Vec<(usize, usize, f64)> =
        (0..n).flat_map(|a| (a + 1..n).map(move |b| (a, b))).map(|(a, b)| (a, b, 0.0)).collect();
    let edges: Vec<(usize, usize, f64)> =
        edges.into_iter().map(|(a, b, _)| (a, b, j * g())).collect();
    let fields: Vec<f64> = (0..n).map(|_| h * g()).collect();
    Ising::from_edges(n, &edges, &fields).unwrap()
}

/// `rows` exact samples of `model` at β = 1.
fn exact_samples(model: &Ising, rows: usize, seed: u64) -> Vec<i8> {
    let dist = exact_distribution(model, Beta::ONE).unwrap();
    let n = model.n_units();
    let mut rng = Seed(seed).stream(Purpose::DATA, 0);
    let mut data = vec![0i8; rows * n];
    for row in data.chunks_exact_mut(n) {
        Domain::Spin.decode(draw_code(&dist.probs, uniform(&mut rng)), row);
    }
    data
}

fn zeroed(model: &Ising) -> Ising {
    let mut m = model.clone();
    m.set_params(&vec![0.0; m.n_params()]).unwrap();
    m
}

#[test]
fn exact_gradient_equals_finite_differences_of_the_exact_log_likelihood() {
    let model = random_ising(7, 0.5, 0.3, 1);
    let data = exact_samples(&random_ising(7, 0.8, 0.2, 2), 40, 3);
    for beta in [0.5, 1.0, 1.7] {
        let beta = Beta::new(beta).unwrap();
        let grad = exact_log_likelihood_gradient(&model, &data, beta).unwrap();
        let theta = model.params().to_vec();
        let mut m = model.clone();
        let h = 1e-5;
        for k in 0..theta.len() {
            let mut t = theta.clone();
            t[k] += h;
            m.set_params(&t).unwrap();
            let up = exact_log_likelihood(&m, &data, 7, beta).unwrap();
            t[k] -= 2.0 * h;
            m.set_params(&t).unwrap();
            let down = exact_log_likelihood(&m, &data, 7, beta).unwrap();
            let fd = (up - down) / (2.0 * h);
            assert!((fd - grad[k]).abs() < 1e-6, "β={beta:?} θ_{k}: fd {fd} vs {}", grad[k]);
        }
    }
}

fn rms(a: &[f64], b: &[f64]) -> f64 {
    (a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.len() as f64).sqrt()
}

#[test]
fn inverse_ising_recovers_the_couplings_with_pcd() {
    let truth = random_ising(12, 0.3, 0.15, 7);
    let n_data = 20_000;
    let data = exact_samples(&truth, n_data, 8);
    // reference: the exact maximum-likelihood fit of the same data
    let mut ml = zeroed(&truth);
    let exact = ExactAscent { learning: Learning::new(Optimizer::adam(0.05), Seed(0)) };
    let mut st = exact.init(&ml).unwrap();
    for _ in 0..300 {
        exact.step(&mut ml, &mut st, &data).unwrap();
    }
    let n_edges = truth.n_couplings();
    let true_j = &truth.params()[..n_edges];
    let rms_ml = rms(&ml.params()[..n_edges], true_j);
    // PCD with Gibbs chains, mini-batches, Adam with a decaying rate
    let mut model = zeroed(&truth);
    let pcd = Pcd {
        n_chains: 200,
        k: 2,
        sampler: Gibbs::sequential(),
        learning: Learning::new(
            Optimizer::Adam {
                learning_rate: ebm_train::LearningRate::InverseTime { initial: 0.03, scale: 300.0 },
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay: 0.0,
            },
            Seed(9),
        ),
    };
    let mut state = pcd.init(&model).unwrap();
    for epoch in 0..15 {
        let mut batches = Batches::new(&data, 12, 500, Seed(9), epoch).unwrap();
        while let Some(b) = batches.next_batch() {
            pcd.step(&mut model, &mut state, b).unwrap();
        }
    }
    let rms_pcd = rms(&model.params()[..n_edges], true_j);
    let rms_zero = rms(&vec![0.0; n_edges], true_j);
    println!(
        "RMS coupling error: zero model {rms_zero:.4}, exact ML {rms_ml:.4}, PCD {rms_pcd:.4}"
    );
    // the sampling error of ML with 20k samples is ~0.01 here; PCD may add its
    // own noise but must stay within 0.03 of the truth, 10× below the zero model
    assert!(rms_ml < 0.02, "{rms_ml}");
    assert!(rms_pcd < 0.03, "{rms_pcd}");
    assert!(rms_pcd < rms_zero / 10.0);
}

fn train_run(
    threads: usize,
    steps: std::ops::Range<u64>,
    resume: Option<&Checkpoint>,
) -> (Ising, Checkpoint) {
    let truth = random_ising(10, 0.4, 0.2, 21);
    let data = exact_samples(&truth, 600, 22);
    let pcd = Pcd {
        n_chains: 70,
        k: 1,
        sampler: Gibbs::random_scan(),
        learning: Learning {
            optimizer: Optimizer::Sgd {
                learning_rate: ebm_train::LearningRate::Constant(0.05),
                momentum: Momentum::hinton(5),
                weight_decay: 1e-3,
            },
            ..Learning::new(Optimizer::sgd(0.05), Seed(23))
        },
    };
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| {
        let mut model = zeroed(&truth);
        let mut state = match resume {
            Some(ck) => ck.restore(&mut model, &pcd.sampler).unwrap(),
            None => pcd.init(&model).unwrap(),
        };
        for epoch in steps {
            let mut batches = Batches::new(&data, 10, 100, Seed(24), epoch).unwrap();
            while let Some(b) = batches.next_batch() {
                pcd.step(&mut model, &mut state, b).unwrap();
            }
        }
        let ck = Checkpoint::capture(&model, &state);
        (model, ck)
    })
}

fn bits(m: &Ising) -> Vec<u64> {
    m.params().iter().map(|p| p.to_bits()).collect()
}

#[test]
fn training_is_bit_identical_across_thread_counts_and_checkpoint_resume() {
    let (one, _) = train_run(1, 0..4, None);
    let (four, _) = train_run(4, 0..4, None);
    assert_eq!(bits(&one), bits(&four));
    // stop after 2 epochs, save to disk, load, continue
    let (_, ck) = train_run(2, 0..2, None);
    let dir = std::env::temp_dir().join(format!("ebm-ckpt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("train.ckpt");
    ck.save(&path).unwrap();
    let loaded = Checkpoint::load(&path).unwrap();
    assert_eq!(loaded, ck);
    let (resumed, _) = train_run(2, 2..4, Some(&loaded));
    assert_eq!(bits(&resumed), bits(&one));
    // a truncated file is a typed error, and the saved file is untouched by a failed load
    let bytes = std::fs::read(&path).unwrap();
    for cut in [0, 5, 20, bytes.len() - 1] {
        assert!(
            matches!(Checkpoint::<i8>::from_bytes(&bytes[..cut]), Err(Error::Format { .. })),
            "cut {cut}"
        );
    }
    let mut corrupt = bytes.clone();
    corrupt[0] = b'X';
    assert!(matches!(Checkpoint::<i8>::from_bytes(&corrupt), Err(Error::Format { offset: 0, .. })));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn cd_and_pcd_with_tempering_improve_the_exact_likelihood() {
    let truth = random_ising(9, 0.6, 0.2, 31);
    let data = exact_samples(&truth, 2000, 32);
    let ll = |m: &Ising| exact_log_likelihood(m, &data, 9, Beta::ONE).unwrap();
    let optimum = ll(&truth);
    let start = zeroed(&truth);
    let (ll0, opt) = (ll(&start), optimum);
    let mut cd_model = start.clone();
    let cd = Cd {
        k: 1,
        sampler: Gibbs::sequential(),
        learning: Learning::new(Optimizer::adam(0.02), Seed(1)),
    };
    let mut s = cd.init(&cd_model).unwrap();
    let mut pt_model = start.clone();
    let pt = Pcd {
        n_chains: 50,
        k: 1,
        sampler: ParallelTempering::new(Gibbs::sequential(), Ladder::geometric(3, 0.4).unwrap()),
        learning: Learning::new(Optimizer::adam(0.02), Seed(2)),
    };
    let mut s2 = pt.init(&pt_model).unwrap();
    for epoch in 0..10 {
        let mut b = Batches::new(&data, 9, 100, Seed(3), epoch).unwrap();
        while let Some(batch) = b.next_batch() {
            cd.step(&mut cd_model, &mut s, batch).unwrap();
            pt.step(&mut pt_model, &mut s2, batch).unwrap();
        }
    }
    let (l_cd, l_pt) = (ll(&cd_model), ll(&pt_model));
    println!("exact LL: start {ll0:.4}, CD-1 {l_cd:.4}, tempered PCD {l_pt:.4}, truth {opt:.4}");
    // both close most of the gap between the independent-spin start and the truth
    assert!(l_cd > ll0 + 0.8 * (opt - ll0), "CD {l_cd}");
    assert!(l_pt > ll0 + 0.9 * (opt - ll0), "PT-PCD {l_pt}");
}

#[test]
fn divergence_and_bad_input_are_typed_errors() {
    let model0 = random_ising(6, 0.5, 0.2, 41);
    let data = exact_samples(&model0, 50, 42);
    let mut model = model0.clone();
    let cd = Cd {
        k: 1,
        sampler: Gibbs::sequential(),
        learning: Learning::new(Optimizer::sgd(f64::MAX), Seed(1)),
    };
    let mut st = cd.init(&model).unwrap();
    let mut err = None;
    for _ in 0..50 {
        if let Err(e) = cd.step(&mut model, &mut st, &data) {
            err = Some(e);
            break;
        }
    }
    assert!(matches!(err, Some(Error::Diverged { .. })), "{err:?}");
    assert!(model.params().iter().all(|p| p.is_finite()));
    // the failed step left the training state as it was: retrying fails the same way
    let before = st.clone();
    assert!(matches!(cd.step(&mut model, &mut st, &data), Err(Error::Diverged { .. })));
    assert_eq!(st, before);
    // an SGD state handed to an Adam trainer is rejected, not silently ignored
    let adam = Cd {
        k: 1,
        sampler: Gibbs::sequential(),
        learning: Learning::new(Optimizer::adam(0.1), Seed(1)),
    };
    let mut sgd_state = Cd {
        k: 1,
        sampler: Gibbs::sequential(),
        learning: Learning::new(Optimizer::sgd(0.1), Seed(1)),
    }
    .init(&model0)
    .unwrap();
    let mut m = model0.clone();
    assert!(matches!(adam.step(&mut m, &mut sgd_state, &data), Err(Error::ShapeMismatch { .. })));
    let mut model = model0.clone();
    let cd = Cd {
        k: 1,
        sampler: Gibbs::sequential(),
        learning: Learning::new(Optimizer::sgd(0.1), Seed(1)),
    };
    let mut st = cd.init(&model).unwrap();
    assert!(matches!(cd.step(&mut model, &mut st, &data[..7]), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(cd.step(&mut model, &mut st, &[0i8; 6]), Err(Error::InvalidUnitValue { .. })));
    assert!(matches!(cd.step(&mut model, &mut st, &[]), Err(Error::ShapeMismatch { .. })));
    let bad = Cd {
        k: 0,
        sampler: Gibbs::sequential(),
        learning: Learning::new(Optimizer::sgd(0.1), Seed(1)),
    };
    assert!(bad.init(&model).is_err());
    let bad = Cd {
        k: 1,
        sampler: Gibbs::sequential(),
        learning: Learning::new(Optimizer::sgd(-1.0), Seed(1)),
    };
    assert!(matches!(bad.init(&model), Err(Error::InvalidParameter { .. })));
    assert!(matches!(Batches::new(&data, 7, 10, Seed(0), 0), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(Batches::new(&data, 6, 0, Seed(0), 0), Err(Error::InvalidParameter { .. })));
}

#[test]
fn epoch_orders_are_reproducible_permutations() {
    let a = epoch_order(1000, Seed(5), 3);
    let mut sorted = a.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..1000).collect::<Vec<_>>());
    assert_eq!(a, epoch_order(1000, Seed(5), 3));
    assert_ne!(a, epoch_order(1000, Seed(5), 4));
}

/// PCD with parallel tempering (replicas, an adapted ladder, swap counters
/// and walkers in every chain): a checkpoint holds whole chains, so resuming
/// equals the uninterrupted run bit for bit; and a checkpoint of states only
/// (the first format) still loads, restarting the replicas there.
#[test]
fn tempered_pcd_resumes_bit_identically_from_whole_chain_checkpoints() {
    let truth = random_ising(8, 0.5, 0.2, 51);
    let data = exact_samples(&truth, 300, 52);
    let pcd = Pcd {
        n_chains: 20,
        k: 1,
        sampler: ParallelTempering::new(Gibbs::sequential(), Ladder::geometric(4, 0.3).unwrap())
            .adapt_during(100),
        learning: Learning::new(Optimizer::sgd(0.05), Seed(53)),
    };
    let run = |epochs: std::ops::Range<u64>, resume: Option<&Checkpoint>| {
        let mut model = zeroed(&truth);
        let mut state = match resume {
            Some(ck) => ck.restore(&mut model, &pcd.sampler).unwrap(),
            None => pcd.init(&model).unwrap(),
        };
        for epoch in epochs {
            let mut b = Batches::new(&data, 8, 50, Seed(54), epoch).unwrap();
            while let Some(batch) = b.next_batch() {
                pcd.step(&mut model, &mut state, batch).unwrap();
            }
        }
        (model.clone(), Checkpoint::capture(&model, &state), state)
    };
    let (whole, _, whole_state) = run(0..6, None);
    let (_, ck, _) = run(0..3, None);
    let bytes = ck.to_bytes();
    let loaded = Checkpoint::<i8>::from_bytes(&bytes).unwrap();
    assert_eq!(loaded, ck);
    let (resumed, _, resumed_state) = run(3..6, Some(&loaded));
    assert_eq!(bits(&resumed), bits(&whole), "tempered PCD resumed ≠ uninterrupted");
    assert_eq!(resumed_state.chains, whole_state.chains);
    // a first-format file: magic EBMCKPT1, the states of every chain only
    let mut v1 = Vec::new();
    v1.extend_from_slice(b"EBMCKPT1");
    v1.extend_from_slice(&ck.step.to_le_bytes());
    for v in [&ck.params, &ck.optimizer.first, &ck.optimizer.second] {
        v1.extend_from_slice(&(v.len() as u64).to_le_bytes());
        v.iter().for_each(|x| v1.extend_from_slice(&x.to_le_bytes()));
    }
    v1.extend_from_slice(&ck.optimizer.step.to_le_bytes());
    v1.extend_from_slice(&(ck.chains.len() as u64).to_le_bytes());
    v1.extend_from_slice(&8u64.to_le_bytes());
    for c in &ck.chains {
        // the top replica's state (the chain's state), as the old format saved
        let top = &c.units[c.units.len() - 8..];
        v1.extend(top.iter().map(|&x| x as u8));
    }
    v1.extend_from_slice(&(ck.rng_positions.len() as u64).to_le_bytes());
    for p in &ck.rng_positions {
        v1.extend_from_slice(&p.key);
        v1.extend_from_slice(&p.stream.to_le_bytes());
        v1.extend_from_slice(&p.word_pos.to_le_bytes());
    }
    let old = Checkpoint::<i8>::from_bytes(&v1).unwrap();
    assert!(old.chains.iter().all(|c| c.counts.is_empty() && c.units.len() == 8));
    let mut m = zeroed(&truth);
    let st = old.restore(&mut m, &pcd.sampler).unwrap();
    assert_eq!(st.chains.len(), 20);
    // a damaged record is a typed error, not a panic
    let mut bad = ck.clone();
    bad.chains[0].counts.truncate(5);
    let mut m = zeroed(&truth);
    assert!(matches!(bad.restore(&mut m, &pcd.sampler), Err(Error::InvalidSequence { .. })));
}
