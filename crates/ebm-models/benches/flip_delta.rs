//! `flip_delta` cost per call: uniform Ising lattices (2D, 3D), a spin glass
//! (per-edge couplings) and a dense Boltzmann machine.
//!
//! Run: `cargo bench -p ebm-models --bench flip_delta`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ebm_core::{BinaryModel, Seed};
use ebm_models::boltzmann::BoltzmannMachine;
use ebm_models::ising::{Boundary, Ising};
use std::hint::black_box;

fn per_site<M: BinaryModel>(c: &mut Criterion, name: &str, model: &M) {
    let n = model.n_units();
    let d = model.domain();
    let x: Vec<i8> = (0..n).map(|i| d.value((i * 2_654_435_761) % 7 < 3)).collect();
    let mut g = c.benchmark_group("flip_delta");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(name, |b| {
        b.iter(|| {
            let mut s = 0.0;
            for i in 0..n {
                s += model.flip_delta(black_box(&x), i);
            }
            s
        })
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    per_site(c, "ising_2d_64x64", &Ising::square(64, 64, Boundary::Periodic, 1.0, 0.1).unwrap());
    per_site(
        c,
        "ising_3d_16x16x16",
        &Ising::cubic(16, 16, 16, Boundary::Periodic, 1.0, 0.1).unwrap(),
    );
    per_site(
        c,
        "spin_glass_2d_64x64",
        &Ising::spin_glass_gaussian(&[64, 64], Boundary::Periodic, 1.0, Seed(1)).unwrap(),
    );
    per_site(c, "boltzmann_dense_100", &BoltzmannMachine::random(100, 60, 0.1, Seed(2)).unwrap());
}

criterion_group!(benches, bench);
criterion_main!(benches);
