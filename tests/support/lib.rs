//! Helpers shared by the workspace's cross-crate tests (`tests/`) and examples
//! (`examples/`). Library code lives in `crates/`; nothing here is published.
#![deny(missing_docs)]

/// Seconds since `start`, for examples that print their running time.
pub fn seconds_since(start: std::time::Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

use ebm_core::{Beta, FiniteModel, Sampler, Seed};
use ebm_testkit::statistics::{TvReport, sampler_tv};

/// The TV test (`ebm_testkit::statistics::sampler_tv`) of `sampler` run at
/// `at` against the exact distribution of `model` at `beta`: `at ≠ beta` is
/// the mis-tempered control that must fail.
pub fn exact_tv<M: FiniteModel, S: Sampler<M>>(
    model: &M,
    sampler: &S,
    (beta, at): (f64, f64),
    (n_chains, n_sweeps): (usize, usize),
    seed: u64,
) -> TvReport {
    let p = ebm_thermo::exact_distribution(model, Beta::new(beta).unwrap()).unwrap().probs;
    sampler_tv(model, sampler, Beta::new(at).unwrap(), &p, n_chains, n_sweeps, Seed(seed)).unwrap()
}

/// Prints each named case's TV against its bound and adds the failures to
/// `failures` (so one run reports every failing case, not the first).
pub fn record_cases(name: &str, beta: f64, cases: &[(&str, TvReport)], failures: &mut Vec<String>) {
    for (s, r) in cases {
        println!(
            "{name:>16} {s:>16} β={beta}: TV {:.4} ≤ {:.4} (n_eff {:.0})",
            r.tv, r.bound, r.n_eff
        );
        if !r.passed() {
            failures.push(format!("{name} {s} β={beta}: {r:?}"));
        }
    }
}
