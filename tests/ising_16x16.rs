//! Samplers on a 16×16 periodic Ising lattice against Kaufman's exact
//! finite-torus mean energy, and a test that the reported error bars are honest.

use ebm_core::{Beta, Seed};
use ebm_models::ising::Ising;
use ebm_samplers::{
    AnySampler, ChainsConfig, Gibbs, Init, Ladder, Metropolis, ParallelTempering, Run,
};
use ebm_thermo::kaufman::kaufman_mean_energy;
use ebm_thermo::{Estimate, estimate};

const L: usize = 16;

fn energy_per_spin(sampler: &AnySampler, beta: f64, config: &ChainsConfig) -> Estimate {
    let model = Ising::square(L, L, true, 1.0, 0.0).unwrap();
    let (traces, _) = Run::new(&model, sampler, Beta::new(beta).unwrap())
        .config(*config)
        .init(Init::Uniform)
        .record(1, |m: &Ising, s: &[i8], out: &mut [f64]| out[0] = m.energy_per_spin(s))
        .unwrap();
    let chains = traces.chains(0);
    let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
    estimate(&refs)
}

fn exact_energy_per_spin(beta: f64) -> f64 {
    kaufman_mean_energy(L, L, 1.0, beta) / (L * L) as f64
}

#[test]
fn every_sampler_agrees_with_kaufman_within_four_error_bars() {
    let ladder = Ladder::geometric(4, 0.6).unwrap();
    let samplers = [
        ("gibbs-sequential", AnySampler::Gibbs(Gibbs::sequential()), 1),
        ("gibbs-random", AnySampler::Gibbs(Gibbs::random_scan()), 1),
        ("gibbs-checkerboard", AnySampler::Gibbs(Gibbs::block()), 1),
        ("metropolis", AnySampler::Metropolis(Metropolis::sequential()), 1),
        (
            "pt-gibbs",
            AnySampler::TemperingGibbs(ParallelTempering::new(Gibbs::block(), ladder.clone())),
            4,
        ),
        (
            "pt-metropolis",
            AnySampler::TemperingMetropolis(ParallelTempering::new(
                Metropolis::sequential(),
                ladder,
            )),
            4,
        ),
    ];
    let mut failures = Vec::new();
    for (name, sampler, cost) in samplers {
        for (k, beta) in [0.3, 0.4406868, 0.6].into_iter().enumerate() {
            let config = ChainsConfig {
                n_chains: 8,
                n_warmup: 500,
                n_sweeps: 4000 / cost,
                thin: 1,
                seed: Seed(100 + k as u64),
            };
            let e = energy_per_spin(&sampler, beta, &config);
            let exact = exact_energy_per_spin(beta);
            let z = (e.mean - exact) / e.std_err;
            println!(
                "{name:>20} β={beta:<9} u = {:.5} ± {:.5} (exact {exact:.5}, z = {z:+.2}, τ = {:.1}, R̂ = {:.3})",
                e.mean, e.std_err, e.tau_int, e.r_hat
            );
            // a NaN z (zero error bar) fails too
            if z.abs() >= 4.0 || z.is_nan() {
                failures.push(format!("{name} β={beta}: z = {z}"));
            }
            assert!(e.r_hat < 1.1, "{name} β={beta}: R̂ = {}", e.r_hat);
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn error_bars_are_honest_over_twenty_independent_runs() {
    // 20 seeded runs at the critical point, where autocorrelations are longest:
    // Σ z² over runs is χ² with 20 degrees of freedom if the error bars are
    // right; its 0.1%–99.9% range is [5.9, 45.3].
    let beta = 0.4406868;
    let exact = exact_energy_per_spin(beta);
    let sampler = AnySampler::Gibbs(Gibbs::block());
    let chi2: f64 = (0..20)
        .map(|r| {
            let config = ChainsConfig {
                n_chains: 4,
                n_warmup: 300,
                n_sweeps: 2000,
                thin: 1,
                seed: Seed(5000 + r),
            };
            let e = energy_per_spin(&sampler, beta, &config);
            ((e.mean - exact) / e.std_err).powi(2)
        })
        .sum();
    println!("χ²_20 = {chi2:.2}");
    assert!((5.9..45.3).contains(&chi2), "χ²_20 = {chi2}");
}
