//! Gradient evaluations per second of HMC and MALA (and ULA) on a
//! 1000-dimensional diagonal Gaussian, one thread, no criterion: a warm
//! loop of sweeps of one chain, timed with `Instant`, repeated and the best
//! repetition reported (the machine is shared).
//!
//! Evaluations are counted from the kernels' definitions: an HMC sweep is
//! one trajectory of L leapfrog steps, L + 1 gradients (the current state's
//! and one per step); a MALA sweep of s proposals is s + 1; a ULA sweep of
//! s steps is s. The rate is of the whole kernel per gradient: MALA and
//! ULA draw n normals per gradient (Box–Muller: a logarithm, a square root
//! and a cosine per unit), which costs more than this model's O(n)
//! gradient; HMC draws n per trajectory of L gradients.
//!
//! Run: `cargo bench -p ebm-samplers --bench gradient`
//! (`EBM_BENCH_SWEEPS` sets the sweeps per repetition, default 20 000).

use ebm_core::{Beta, Chain, Purpose, Sampler, Seed};
use ebm_samplers::{Hmc, Mala, Ula};
use ebm_thermo::ais::DiagonalGaussian;
use std::hint::black_box;
use std::time::Instant;

const N: usize = 1000;
const REPEATS: usize = 5;

fn time<S: Sampler<DiagonalGaussian>>(
    name: &str,
    s: &S,
    g: &DiagonalGaussian,
    sweeps: usize,
    grads_per_sweep: usize,
) {
    let mut rng = Seed(1).stream(Purpose::SAMPLING, 0);
    let mut c = s.start(g, &vec![0.0; N]).unwrap();
    for _ in 0..sweeps / 10 {
        s.sweep(g, &mut c, Beta::ONE, &mut rng);
    }
    let mut best = f64::INFINITY;
    for _ in 0..REPEATS {
        let t0 = Instant::now();
        for _ in 0..sweeps {
            s.sweep(g, &mut c, Beta::ONE, &mut rng);
        }
        best = best.min(t0.elapsed().as_secs_f64());
        black_box(c.state());
    }
    let grads = (sweeps * grads_per_sweep) as f64;
    eprintln!(
        "{name:<28} n = {N}: {:>7.1} k gradient evaluations/s ({:.1} ns per unit per gradient), \
         acceptance {:.3}",
        grads / best / 1e3,
        best / grads / N as f64 * 1e9,
        c.acceptance_rate().unwrap_or(1.0)
    );
}

fn main() {
    // `cargo test --benches` runs bench binaries with `--bench` absent: keep it short
    let sweeps: usize = std::env::var("EBM_BENCH_SWEEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if std::env::args().any(|a| a == "--bench") { 20_000 } else { 200 });
    let sd: Vec<f64> = (0..N).map(|i| 0.5 + (i % 10) as f64 * 0.1).collect();
    let g = DiagonalGaussian::new(vec![0.0; N], sd).unwrap();
    eprintln!("1 thread, {sweeps} sweeps per repetition, best of {REPEATS}");
    let hmc = Hmc::new(0.05, 20).unwrap();
    time("HMC (ε = 0.05, L = 20)", &hmc, &g, sweeps / 10, 21);
    let mala = Mala::new(0.1).unwrap().with_steps(4).unwrap();
    time("MALA (ε = 0.1, 4 per sweep)", &mala, &g, sweeps / 2, 5);
    let ula = Ula::new(0.05).unwrap().with_steps(4).unwrap();
    time("ULA (ε = 0.05, 4 per sweep)", &ula, &g, sweeps / 2, 4);
}
