//! RBM AIS at the scale of Salakhutdinov and Murray (2008): the standard
//! schedule (14,500 β), 100 runs, a 784 × 500 RBM with random weights
//! (N(0, 0.01²)). Each iteration does 2 · 14,500 f32 GEMMs of 100 × 784 × 500.
//!
//! Run: `cargo bench -p ebm-models --bench ais`

use criterion::{Criterion, criterion_group, criterion_main};
use ebm_core::{Beta, Seed};
use ebm_models::rbm::Rbm;
use ebm_samplers::Gibbs;
use ebm_thermo::ais::{Ais, Schedule};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn ais(c: &mut Criterion) {
    let rbm = Rbm::random(784, 500, 0.01, Seed(1)).unwrap();
    // one full-size run, timed once (criterion's minimum of 10 samples would take minutes)
    let t0 = Instant::now();
    let ais = |s: Schedule, rbm: &Rbm| {
        Ais::new(s, 100).unwrap().log_z(rbm, &Gibbs::block(), Beta::ONE, Seed(7)).unwrap()
    };
    let est = ais(Schedule::Standard, &rbm);
    eprintln!(
        "Ais::log_z 784x500 (Gibbs::block(), the RBM's kernel), 14,500 betas, 100 runs: {:.2} s on {} threads (ln Z = {:.3} ± {:.3})",
        t0.elapsed().as_secs_f64(),
        rayon::current_num_threads(),
        est.log_z,
        est.std_err
    );
    let mut g = c.benchmark_group("rbm_ais_784x500");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(1))
        .warm_up_time(Duration::from_millis(1));
    // the same shape with a tenth of the steps: multiply by 10 for the full schedule
    g.bench_function("standard_shape_1450_betas_100_runs", |b| {
        b.iter(|| {
            let s = Schedule::StandardScaled(1450);
            let est = ais(s, black_box(&rbm));
            black_box(est)
        })
    });
    g.finish();
}

criterion_group!(benches, ais);
criterion_main!(benches);
