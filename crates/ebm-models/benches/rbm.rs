//! RBM throughput: the batched conditional p(h | v) for a batch of 100 MNIST-
//! sized inputs (784 × 500; 2·100·784·500 flops per call, reported as
//! "elem/s" = FLOP/s), the Rao–Blackwellised batch statistics, and exact ln Z
//! of a 784 × 20 RBM (2^20 terms of 784 softplus each).
//!
//! Run: `cargo bench -p ebm-models --bench rbm`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ebm_core::{Beta, LogLinear, Seed};
use ebm_models::rbm::{ActiveSets, Rbm};
use std::hint::black_box;
use std::time::Duration;

fn data(rows: usize, nv: usize) -> Vec<i8> {
    bits(rows * nv, 51) // about 20% ones
}

/// `n` pseudo-random bits, each on with probability `on / 256`.
fn bits(n: usize, on: u64) -> Vec<i8> {
    let mut s = 0x2545_f491_4f6c_dd1du64;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            i8::from(s & 0xff < on)
        })
        .collect()
}

fn conditionals(c: &mut Criterion) {
    let (batch, nv, nh) = (100, 784, 500);
    let rbm = Rbm::random(nv, nh, 0.01, Seed(1)).unwrap();
    let v = data(batch, nv);
    let v32: Vec<f32> = v.iter().map(|&x| f32::from(x)).collect();
    let mut out = vec![0f32; batch * nh];
    let mut g = c.benchmark_group("rbm_784x500_batch100");
    g.throughput(Throughput::Elements((2 * batch * nv * nh) as u64));
    g.bench_function("hidden_probs_batch_f32", |b| {
        b.iter(|| rbm.hidden_probs_batch(black_box(&v32), Beta::ONE, &mut out).unwrap())
    });
    g.bench_function("hidden_probs_batch_i8", |b| {
        b.iter(|| rbm.hidden_probs_batch(black_box(&v), Beta::ONE, &mut out).unwrap())
    });
    // two GEMMs of the same size
    g.throughput(Throughput::Elements((4 * batch * nv * nh) as u64));
    let mut stats = vec![0.0; rbm.n_params()];
    g.bench_function("add_data_statistics_batch", |b| {
        b.iter(|| rbm.add_data_statistics_batch(black_box(&v), Beta::ONE, 0.01, &mut stats))
    });
    // the training kernel's sparse products: p(h | v) from active sets (13% of
    // the visible units on, as binarised MNIST), p(v | h) by group tables
    // (half the hidden units on), each counted as the dense 2·100·784·500
    g.throughput(Throughput::Elements((2 * batch * nv * nh) as u64));
    let mut vs = ActiveSets::new(nv);
    bits(batch * nv, 33).chunks(nv).for_each(|r| vs.push_row(r));
    g.bench_function("hidden_probs_sparse_13pc", |b| {
        b.iter(|| rbm.hidden_probs_sparse(black_box(&vs), 0..batch, Beta::ONE, &mut out).unwrap())
    });
    let mut hs = ActiveSets::new(nh);
    bits(batch * nh, 128).chunks(nh).for_each(|r| hs.push_row(r));
    let mut pv = vec![0f32; batch * nv];
    g.bench_function("visible_probs_grouped_50pc", |b| {
        b.iter(|| rbm.visible_probs_grouped(black_box(&hs), Beta::ONE, &mut pv).unwrap())
    });
    g.bench_function("visible_probs_sparse_50pc", |b| {
        b.iter(|| rbm.visible_probs_sparse(black_box(&hs), 0..batch, Beta::ONE, &mut pv).unwrap())
    });
    g.finish();
}

fn exact_log_z(c: &mut Criterion) {
    let rbm = Rbm::random(784, 20, 0.05, Seed(2)).unwrap();
    let mut g = c.benchmark_group("rbm_784x20");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(1 << 20));
    g.bench_function("exact_log_z", |b| b.iter(|| rbm.exact_log_z(black_box(Beta::ONE)).unwrap()));
    g.finish();
}

criterion_group!(benches, conditionals, exact_log_z);
criterion_main!(benches);
