//! Annealed importance sampling against exact ln Z, for a model of any kind
//! (a 20-spin Gaussian glass, generic AIS with a Gibbs kernel) and for a
//! 784×20 RBM (base-rate AIS, hidden units summed analytically), whose exact
//! ln Z sums 2^20 hidden states. Also the reverse-AIS upper estimate.
//!
//! Run: `cargo run --release --example ais_vs_exact`

use ebm::models::ising::Disorder;
use ebm::prelude::*;
use ebm::thermo::ais::{Ais, Schedule};

fn main() -> Result<()> {
    let edges: Vec<(usize, usize, f64)> =
        (0..20).flat_map(|a| (a + 1..20).map(move |b| (a, b, 0.0))).collect();
    let glass = Ising::from_edges(20, &edges, &[0.0; 20])?
        .with_random_couplings(Disorder::Gaussian { mean: 0.0, std: 0.3 }, Seed(1))?;
    let beta = Beta::new(1.0)?;
    let exact = ebm::thermo::exact_log_z(&glass, beta)?;
    let t = std::time::Instant::now();
    let est = Ais::new(Schedule::Linear(1000), 200)?.log_z(
        &glass,
        &Gibbs::sequential(),
        beta,
        Seed(2),
    )?;
    println!(
        "20-spin glass: exact ln Z = {exact:.4}; AIS (1000 β, 200 runs, {:.2} s) = {:.4} ± {:.4}, interval [{:.4}, {:.4}]",
        t.elapsed().as_secs_f64(),
        est.log_z,
        est.std_err,
        est.lower,
        est.upper
    );
    let rbm = Rbm::random(784, 20, 0.05, Seed(3))?;
    let t = std::time::Instant::now();
    let exact = rbm.exact_log_z(Beta::ONE)?;
    let exact_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let est = Ais::new(Schedule::StandardScaled(2000), 100)?.log_z(
        &rbm,
        &Gibbs::block(),
        Beta::ONE,
        Seed(4),
    )?;
    println!(
        "RBM 784×20: exact ln Z = {exact:.4} ({exact_s:.2} s); AIS (2000 β, 100 runs, {:.2} s) = {:.4} ± {:.4}, interval [{:.4}, {:.4}]",
        t.elapsed().as_secs_f64(),
        est.log_z,
        est.std_err,
        est.lower,
        est.upper
    );
    Ok(())
}
