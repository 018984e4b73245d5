//! An RBM learns bars-and-stripes 3×3: the 14 distinct patterns, so the best
//! possible average log-likelihood is ln(1/14) = −2.639 nats. PCD with 200
//! persistent chains, 10 block-Gibbs sweeps per step, 16 hidden units; the
//! log-likelihood printed is exact (the 2^9 visible states are few enough).
//!
//! Run: `cargo run --release --example rbm_bars_and_stripes`

use ebm::prelude::*;
use ebm::train::{LearningRate, Momentum};

fn main() -> Result<()> {
    let data = ebm_data::bars_and_stripes(3, 3)?;
    let n_rows = data.len() / 9;
    let mut rbm = Rbm::random(9, 16, 0.1, Seed(1))?;
    let pcd = Pcd {
        n_chains: 200,
        k: 10,
        sampler: Gibbs::block(),
        learning: Learning::new(
            Optimizer::Sgd {
                learning_rate: LearningRate::Constant(0.05),
                momentum: Momentum::constant(0.5),
                weight_decay: 0.0,
            },
            Seed(2),
        ),
    };
    let mut state = pcd.init(&rbm)?;
    let optimum = -(n_rows as f64).ln();
    println!(
        "bars-and-stripes 3×3: {n_rows} patterns, optimum average log-likelihood {optimum:.4}"
    );
    for step in 0..8000 {
        pcd.step(&mut rbm, &mut state, &data)?;
        if (step + 1) % 1000 == 0 {
            let ll = rbm.exact_log_likelihood(&data, Beta::ONE)?;
            println!(
                "step {:>5}: exact log-likelihood {ll:.4} ({:.4} nats from the optimum)",
                step + 1,
                optimum - ll
            );
        }
    }
    Ok(())
}
