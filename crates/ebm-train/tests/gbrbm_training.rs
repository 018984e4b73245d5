//! The generic trainers on a Gaussian–Bernoulli RBM, against exact
//! likelihoods: CD-1, PCD and tempered PCD recover a teacher's density from
//! its exact samples; training is bit-identical across thread counts and
//! across a checkpoint resume.

use ebm_core::{Beta, EnergyModel, LogLinear, Purpose, Seed, standard_normal, uniform};
use ebm_models::gbrbm::GaussianRbm;
use ebm_samplers::{Gibbs, Ladder, ParallelTempering};
use ebm_train::{Batches, Cd, Checkpoint, Learning, Optimizer, Pcd};

/// A teacher with well-separated modes (large weights), spread variances.
fn teacher() -> GaussianRbm {
    let (nv, nh) = (4, 3);
    let mut m = GaussianRbm::random(nv, nh, 1.2, Seed(31)).unwrap();
    let mut t = m.params().to_vec();
    let nw = nv * nh;
    for i in 0..nv {
        t[nw + i] = 0.4 * i as f64 - 0.6;
        t[nw + nv + nh + i] = -0.8 + 0.3 * i as f64;
    }
    for j in 0..nh {
        t[nw + nv + j] = -0.5 + 0.4 * j as f64;
    }
    m.set_params(&t).unwrap();
    m
}

/// Exact draws of v: h from its marginal p(h) ∝ e^{S(h)} (enumerated), then
/// v | h Gaussian.
fn exact_samples(m: &GaussianRbm, rows: usize, seed: u64) -> Vec<f64> {
    let (nv, nh) = (m.n_visible(), m.n_hidden());
    let (w, b, c) = (m.weights(), m.visible_bias(), m.hidden_bias());
    let var: Vec<f64> = m.log_variances().iter().map(|z| z.exp()).collect();
    let mut modes = Vec::new();
    for code in 0..1u32 << nh {
        let h: Vec<f64> = (0..nh).map(|j| f64::from((code >> j) & 1)).collect();
        let mu: Vec<f64> =
            (0..nv).map(|i| b[i] + (0..nh).map(|j| w[i * nh + j] * h[j]).sum::<f64>()).collect();
        let s: f64 = (0..nh).map(|j| c[j] * h[j]).sum::<f64>()
            + (0..nv).map(|i| (mu[i] * mu[i] - b[i] * b[i]) / (2.0 * var[i])).sum::<f64>();
        modes.push((s, mu));
    }
    let top = modes.iter().map(|m| m.0).fold(f64::NEG_INFINITY, f64::max);
    let p: Vec<f64> = modes.iter().map(|m| (m.0 - top).exp()).collect();
    let total: f64 = p.iter().sum();
    let mut rng = Seed(seed).stream(Purpose::DATA, 0);
    let mut out = Vec::with_capacity(rows * nv);
    for _ in 0..rows {
        let mut u = uniform(&mut rng) * total;
        let k = p.iter().position(|&pk| {
            u -= pk;
            u < 0.0
        });
        let mu = &modes[k.unwrap_or(p.len() - 1)].1;
        out.extend((0..nv).map(|i| mu[i] + var[i].sqrt() * standard_normal(&mut rng)));
    }
    out
}

fn ll(m: &GaussianRbm, data: &[f64]) -> f64 {
    m.exact_mean_log_likelihood(data, Beta::ONE).unwrap()
}

#[test]
fn cd_pcd_and_tempered_pcd_recover_a_gaussian_bernoulli_teacher() {
    let truth = teacher();
    let nv = truth.n_visible();
    let data = exact_samples(&truth, 6000, 32);
    let start = GaussianRbm::init(nv, 3, 0.01, Some(&data), Seed(33)).unwrap();
    let (ll_start, ll_truth) = (ll(&start, &data), ll(&truth, &data));
    let learning = Learning::new(
        Optimizer::Adam {
            learning_rate: ebm_train::LearningRate::InverseTime { initial: 0.02, scale: 600.0 },
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        },
        Seed(34),
    );
    let cd = Cd { k: 1, sampler: Gibbs::block(), learning: learning.clone() };
    let pcd = Pcd { n_chains: 100, k: 1, sampler: Gibbs::block(), learning: learning.clone() };
    let pt = ParallelTempering::new(Gibbs::block(), Ladder::geometric(4, 0.3).unwrap());
    let tpcd = Pcd { n_chains: 50, k: 1, sampler: pt, learning };
    let (mut m_cd, mut m_pcd, mut m_t) = (start.clone(), start.clone(), start.clone());
    let mut s_cd = cd.init(&m_cd).unwrap();
    let mut s_pcd = pcd.init(&m_pcd).unwrap();
    let mut s_t = tpcd.init(&m_t).unwrap();
    for epoch in 0..40 {
        let mut b = Batches::new(&data, nv, 100, Seed(35), epoch).unwrap();
        while let Some(batch) = b.next_batch() {
            use ebm_core::Trainer;
            cd.step(&mut m_cd, &mut s_cd, batch).unwrap();
            pcd.step(&mut m_pcd, &mut s_pcd, batch).unwrap();
            tpcd.step(&mut m_t, &mut s_t, batch).unwrap();
        }
    }
    let (l_cd, l_pcd, l_t) = (ll(&m_cd, &data), ll(&m_pcd, &data), ll(&m_t, &data));
    println!(
        "exact mean log-density: start {ll_start:.4}, teacher {ll_truth:.4}, CD-1 {l_cd:.4}, \
         PCD-1 {l_pcd:.4}, tempered PCD {l_t:.4}"
    );
    for (name, l) in [("CD-1", l_cd), ("PCD-1", l_pcd), ("tempered PCD", l_t)] {
        // most of the way from the start to the teacher
        assert!(l - ll_start > 0.8 * (ll_truth - ll_start), "{name}: {l}");
        assert!((l - ll_truth).abs() < 0.01, "{name}: {l} vs the teacher's {ll_truth}");
    }
}

fn pcd_run(
    threads: usize,
    epochs: std::ops::Range<u64>,
    resume: Option<&Checkpoint<f64>>,
) -> (GaussianRbm, Checkpoint<f64>) {
    use ebm_core::Trainer;
    let truth = teacher();
    let data = exact_samples(&truth, 500, 41);
    let pcd = Pcd {
        n_chains: 30,
        k: 2,
        sampler: Gibbs::block(),
        learning: Learning::new(Optimizer::sgd(0.01), Seed(42)),
    };
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| {
        let mut m = GaussianRbm::init(4, 3, 0.01, Some(&data), Seed(43)).unwrap();
        let mut state = match resume {
            Some(ck) => ck.restore(&mut m, &pcd.sampler).unwrap(),
            None => pcd.init(&m).unwrap(),
        };
        for epoch in epochs {
            let mut b = Batches::new(&data, 4, 50, Seed(44), epoch).unwrap();
            while let Some(batch) = b.next_batch() {
                pcd.step(&mut m, &mut state, batch).unwrap();
            }
        }
        let ck = Checkpoint::capture(&m, &state);
        (m, ck)
    })
}

#[test]
fn gbrbm_training_is_bit_identical_across_threads_and_checkpoint_resume() {
    let bits = |m: &GaussianRbm| m.params().iter().map(|p| p.to_bits()).collect::<Vec<_>>();
    let (one, _) = pcd_run(1, 0..4, None);
    let (four, _) = pcd_run(4, 0..4, None);
    assert_eq!(bits(&one), bits(&four));
    let (_, ck) = pcd_run(2, 0..2, None);
    let path = std::env::temp_dir().join(format!("ebm-gbrbm-ckpt-{}", std::process::id()));
    ck.save(&path).unwrap();
    let loaded = Checkpoint::<f64>::load(&path).unwrap();
    assert_eq!(loaded, ck);
    let (resumed, _) = pcd_run(2, 2..4, Some(&loaded));
    assert_eq!(bits(&resumed), bits(&one));
    std::fs::remove_file(&path).ok();
    assert_ne!(bits(&one), bits(&pcd_run(1, 0..3, None).0), "the epochs do change the model");
    let _ = one.energy(&[0.0; 7]);
}

/// Mean and standard error of the one-step gradient (θ' − θ)/η with plain
/// SGD at rate η, over `n` seeds.
fn mean_gradient<T: Fn(&mut GaussianRbm, u64)>(
    m: &GaussianRbm,
    n: u64,
    eta: f64,
    step: T,
) -> (Vec<f64>, Vec<f64>) {
    let k = m.n_params();
    let (mut s1, mut s2) = (vec![0.0; k], vec![0.0; k]);
    for seed in 0..n {
        let mut x = m.clone();
        step(&mut x, seed);
        for (i, (a, b)) in x.params().iter().zip(m.params()).enumerate() {
            let g = (a - b) / eta;
            s1[i] += g;
            s2[i] += g * g;
        }
    }
    let nf = n as f64;
    let mean: Vec<f64> = s1.iter().map(|s| s / nf).collect();
    let se = s2.iter().zip(&mean).map(|(s, m)| ((s / nf - m * m).max(0.0) / nf).sqrt()).collect();
    (mean, se)
}

/// The largest gap between two estimates in units of their combined standard
/// error, after an allowance for the f32 arithmetic of the kernel.
fn worst_gap(a: &(Vec<f64>, Vec<f64>), b: &(Vec<f64>, Vec<f64>)) -> f64 {
    a.0.iter()
        .zip(&a.1)
        .zip(b.0.iter().zip(&b.1))
        .map(|((ma, sa), (mb, sb))| {
            let gap = ((ma - mb).abs() - 1e-4 * (1.0 + ma.abs())).max(0.0);
            gap / (sa * sa + sb * sb).sqrt().max(1e-12)
        })
        .fold(0.0, f64::max)
}

#[test]
fn the_gbrbm_kernel_has_the_generic_trainers_expected_gradient() {
    use ebm_samplers::Clamp;
    let m = teacher();
    let batch = exact_samples(&m, 8, 5);
    let n_units = m.n_units();
    // the same chain on the generic path: a block sweep with an empty clamp
    // is not a plain block sweep, so no model kernel is asked for
    let generic = Gibbs::block().with_clamp(Clamp::first(0, n_units));
    let (n, eta) = (3000, 0.01);
    let cd = |beta: f64, kernel: bool, k: usize| {
        mean_gradient(&m, n, eta, |x, seed| {
            let learning = Learning {
                beta: Beta::new(beta).unwrap(),
                ..Learning::new(Optimizer::sgd(eta), Seed(seed))
            };
            if kernel {
                let t = Cd { k, sampler: Gibbs::block(), learning };
                let mut st = t.init(x).unwrap();
                ebm_core::Trainer::step(&t, x, &mut st, &batch).unwrap();
            } else {
                let t = Cd { k, sampler: generic.clone(), learning };
                let mut st = t.init(x).unwrap();
                ebm_core::Trainer::step(&t, x, &mut st, &batch).unwrap();
            }
        })
    };
    let pcd = |beta: f64, kernel: bool| {
        mean_gradient(&m, n, eta, |x, seed| {
            let learning = Learning {
                beta: Beta::new(beta).unwrap(),
                ..Learning::new(Optimizer::sgd(eta), Seed(seed))
            };
            if kernel {
                let t = Pcd { n_chains: 6, k: 2, sampler: Gibbs::block(), learning };
                let mut st = t.init(x).unwrap();
                ebm_core::Trainer::step(&t, x, &mut st, &batch).unwrap();
            } else {
                let t = Pcd { n_chains: 6, k: 2, sampler: generic.clone(), learning };
                let mut st = t.init(x).unwrap();
                ebm_core::Trainer::step(&t, x, &mut st, &batch).unwrap();
            }
        })
    };
    for beta in [1.0, 0.6] {
        for k in [1, 3] {
            let (a, b) = (cd(beta, true, k), cd(beta, false, k));
            let gap = worst_gap(&a, &b);
            assert!(gap < 5.0, "CD-{k} at β = {beta}: kernel vs generic {gap:.2} standard errors");
        }
        let (a, b) = (pcd(beta, true), pcd(beta, false));
        let gap = worst_gap(&a, &b);
        assert!(gap < 5.0, "PCD-2 at β = {beta}: kernel vs generic {gap:.2} standard errors");
    }
    // negative control: the kernel at β = 0.6 against the generic path at β = 1
    // (the bound tells a mis-tempered reference apart)
    let gap = worst_gap(&cd(0.6, true, 1), &cd(1.0, false, 1));

    assert!(gap > 8.0, "a mis-tempered reference should be told apart: {gap:.2}");
}
