//! A categorical RBM on the WW-domain alignment (../shared/data/protein-msa;
//! skipped when absent): trained by PCD through the generic trainer with
//! block Gibbs, its exact test log-likelihood (hidden layer summed) must beat
//! the independent-site model's (exact), and AIS must agree with the exact
//! value within its interval.

use ebm_core::{Beta, Seed, Trainer};
use ebm_data::msa::{Alignment, Alphabet, ReadOptions};
use ebm_models::potts_rbm::PottsRbm;
use ebm_samplers::Gibbs;
use ebm_thermo::ais::Schedule;
use ebm_train::{Batches, Learning, LearningRate, Momentum, Optimizer, Pcd};
use std::path::PathBuf;

fn ww() -> Option<Alignment> {
    let dir = std::env::var_os("EBM_MSA_DIR").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/protein-msa"))
    });
    let path = dir.join("WW_domain_MSA.fasta");
    if !path.is_file() {
        eprintln!("SKIPPED: {} not found (set EBM_MSA_DIR)", path.display());
        return None;
    }
    Some(Alignment::load(&path, &Alphabet::protein(), &ReadOptions::default()).unwrap())
}

#[test]
fn a_pcd_trained_categorical_rbm_beats_the_independent_site_model_on_ww() {
    let Some(msa) = ww() else { return };
    let (train, test) = msa.split(0.2, Seed(1)).unwrap();
    let (nv, q, nh) = (msa.length(), 21, 12);
    assert_eq!((train.n_sequences(), test.n_sequences()), (13_787, 3_446));
    let init = PottsRbm::random(nv, nh, q, 0.01, Seed(2)).unwrap();
    let mut rbm =
        PottsRbm::independent_sites(train.data(), nv, nh, q, 1.0, Some(init.weights())).unwrap();
    let b = Beta::ONE;
    let independent = rbm.exact_log_likelihood(test.data(), None, b).unwrap();
    let steps = train.n_sequences().div_ceil(100) as f64;
    let pcd = Pcd {
        n_chains: 300,
        k: 5,
        sampler: Gibbs::block(),
        learning: Learning::new(
            Optimizer::Sgd {
                learning_rate: LearningRate::InverseTime { initial: 0.01, scale: 10.0 * steps },
                momentum: Momentum::hinton(5 * steps as u64),
                weight_decay: 1e-3,
            },
            Seed(3),
        ),
    };
    let mut state = pcd.init(&rbm).unwrap();
    for epoch in 0..12 {
        let mut batches = Batches::new(train.data(), nv, 100, Seed(4), epoch).unwrap();
        while let Some(batch) = batches.next_batch() {
            pcd.step(&mut rbm, &mut state, batch).unwrap();
        }
    }
    let exact = rbm.exact_log_likelihood(test.data(), None, b).unwrap();
    let base = rbm.base_fields(train.data(), 1.0).unwrap();
    let est = rbm.ais_log_z(Some(&base), b, &Schedule::Linear(1000), 64, Seed(5)).unwrap();
    let ais = rbm.ais_log_likelihood(test.data(), None, &est, b).unwrap();
    println!(
        "WW test LL: independent sites {independent:.4}, RBM({nh}) exact {exact:.4}, AIS {:.4} [{:.4}, {:.4}]",
        ais.mean, ais.lower, ais.upper
    );
    assert!(exact > independent + 3.0, "{exact} vs {independent}");
    assert!(ais.lower <= exact && exact <= ais.upper, "{ais:?} vs {exact}");
}
