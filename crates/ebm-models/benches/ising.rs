//! 2D Ising throughput at T = 2.269 (near T_c), periodic L×L, J = 1, h = 0:
//! one sweep = L² update attempts, reported as elements (attempts) per
//! second. `Metropolis::block()` and `Gibbs::block()`, which run the model's
//! checkerboard kernel on a uniform periodic lattice (the path the CLI takes),
//! at L = 64, 256, 1024 on rayon pools of 1 and 2 threads (the spare worker
//! polling for the sweep's tasks, as in the chain runner), and the generic
//! `Metropolis::sequential()` (sequential scan through `flip_delta`) at
//! L = 256 for comparison. Chains start cold (all +1) and are warmed up before timing,
//! like the peers in `../shared/peers/ising_numba.py`.
//!
//! The q = 3 Potts model at its critical point (β_c = ln(1 + √3)) runs the
//! same way through its own checkerboard kernel, for the ratio to Ising.
//!
//! Run: `cargo bench -p ebm-models --bench ising`
//! (`EBM_BENCH_SIZES=64,256` restricts the sizes.)

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ebm_core::{Beta, Purpose, Sampler, Seed, UnitOf};
use ebm_models::ising::{Boundary, Ising};
use ebm_samplers::{AnySampler, Gibbs, Metropolis};
use std::hint::black_box;
use std::time::Duration;

const T: f64 = 2.269;

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap()
}

fn sizes() -> Vec<usize> {
    std::env::var("EBM_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![64, 256, 1024])
}

/// The block samplers of `samplers` on `m` (chains started at `x0`, warmed
/// up like the peers), one benchmark per sampler and pool, in group `g`.
fn block_samplers<M>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    m: &M,
    samplers: &[(&str, AnySampler)],
    x0: &[UnitOf<M>],
    beta: Beta,
    pools: &[(usize, rayon::ThreadPool)],
) where
    M: ebm_core::EnergyModel,
    AnySampler: Sampler<M>,
{
    for (name, sampler) in samplers {
        for (threads, pool) in pools {
            let mut chain = sampler.start(m, x0).unwrap();
            let mut rng = Seed(7).stream(Purpose::SAMPLING, 0);
            let warmup = (20_000_000 / x0.len()).max(20);
            pool.install(|| {
                for _ in 0..warmup {
                    sampler.sweep(m, &mut chain, beta, &mut rng);
                }
            });
            g.bench_function(format!("block_{name}_t{threads}"), |b| {
                // as the chain runner (and so the CLI) runs one chain: the
                // spare workers polling, taking the sweep's tasks from the
                // crew's slot (`ebm_parallel`)
                pool.install(|| {
                    ebm_samplers::with_workers_awake(1, || {
                        b.iter(|| sampler.sweep(black_box(m), &mut chain, beta, &mut rng))
                    })
                })
            });
        }
    }
}

/// A group of L² attempts per sweep, with longer measurement at L ≥ 1024.
fn group<'a>(
    c: &'a mut Criterion,
    name: String,
    l: usize,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements((l * l) as u64));
    if l >= 1024 {
        g.sample_size(30).measurement_time(Duration::from_secs(6));
    }
    g
}

fn checkerboard(c: &mut Criterion) {
    let beta = Beta::from_temperature(T).unwrap();
    let pools = [(1, pool(1)), (2, pool(2))];
    let samplers = [
        ("metropolis", AnySampler::Metropolis(Metropolis::block())),
        ("gibbs", AnySampler::Gibbs(Gibbs::block())),
    ];
    for l in sizes() {
        let m = Ising::square(l, l, Boundary::Periodic, 1.0, 0.0).unwrap();
        let mut g = group(c, format!("ising2d_L{l}_T2.269"), l);
        block_samplers(&mut g, &m, &samplers, &vec![1i8; l * l], beta, &pools);
        if l == 256 {
            let sampler = ebm_samplers::Metropolis::sequential();
            let mut chain = sampler.start(&m, &vec![1i8; l * l]).unwrap();
            let mut rng = Seed(7).stream(Purpose::SAMPLING, 0);
            for _ in 0..20 {
                sampler.sweep(&m, &mut chain, beta, &mut rng);
            }
            g.bench_function("generic_metropolis_sequential_t1", |b| {
                b.iter(|| sampler.sweep(black_box(&m), &mut chain, beta, &mut rng))
            });
        }
        g.finish();
    }
}

fn potts(c: &mut Criterion) {
    let beta = Beta::new((1.0 + 3f64.sqrt()).ln()).unwrap();
    let pools = [(1, pool(1)), (2, pool(2))];
    let samplers = [
        ("gibbs", AnySampler::Gibbs(Gibbs::block())),
        ("metropolis", AnySampler::Metropolis(Metropolis::block())),
    ];
    for l in sizes() {
        let m =
            ebm_models::potts::Potts::lattice(3, &[l, l], Boundary::Periodic, 1.0, 0.0).unwrap();
        let mut g = group(c, format!("potts3_2d_L{l}_Tc"), l);
        block_samplers(&mut g, &m, &samplers, &vec![0u8; l * l], beta, &pools);
        g.finish();
    }
}

criterion_group!(benches, checkerboard, potts);
criterion_main!(benches);
