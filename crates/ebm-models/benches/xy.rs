//! XY single-site moves per second (Metropolis, heat bath, overrelaxation)
//! and HMC gradient evaluations per second on the 64 × 64 periodic square
//! lattice at β = 1, one chain, one thread, no criterion: a warm loop timed
//! with `Instant`, best of 5 repetitions (the machine is shared).
//!
//! Run: `cargo bench -p ebm-models --bench xy`

use ebm_core::{Beta, Chain, Purpose, Sampler, Seed};
use ebm_models::lattice::{Boundary, Lattice};
use ebm_models::xy::{Xy, XyMoves};
use std::hint::black_box;
use std::time::Instant;

fn time<S: Sampler<Xy>>(name: &str, s: &S, m: &Xy, sweeps: usize, updates_per_sweep: usize) {
    let n = ebm_core::EnergyModel::n_units(m);
    let mut rng = Seed(1).stream(Purpose::SAMPLING, 0);
    let x0 = rng.random_state(&ebm_core::Angles, n);
    let mut c = s.start(m, &x0).unwrap();
    let b = Beta::ONE;
    for _ in 0..sweeps / 10 + 1 {
        s.sweep(m, &mut c, b, &mut rng);
    }
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t0 = Instant::now();
        for _ in 0..sweeps {
            s.sweep(m, &mut c, b, &mut rng);
        }
        best = best.min(t0.elapsed().as_secs_f64());
        black_box(c.state());
    }
    let updates = (sweeps * updates_per_sweep) as f64;
    eprintln!(
        "{name:<36} {:>7.1} ns per update ({:.1} M/s)",
        best / updates * 1e9,
        updates / best / 1e6
    );
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let sweeps = if quick { 2 } else { 200 };
    let l = 64;
    let m = Xy::new(Lattice::new(&[l, l], Boundary::Periodic).unwrap(), 1.0, 0.0).unwrap();
    let n = l * l;
    eprintln!("XY {l}×{l} periodic, β = 1, 1 thread, {sweeps} sweeps per repetition, best of 5");
    time("Metropolis (site update)", &XyMoves::metropolis(1.0).unwrap(), &m, sweeps, n);
    time("heat bath (site update)", &XyMoves::heat_bath(), &m, sweeps, n);
    time(
        "heat bath + 3 overrelaxation (update)",
        &XyMoves::heat_bath().with_overrelaxation(3),
        &m,
        sweeps,
        4 * n,
    );
    // HMC: L + 1 gradients per sweep, each O(bonds): reported per site and gradient
    let hmc = ebm_samplers::Hmc::new(0.1, 10).unwrap();
    time("HMC L = 10 (site × gradient)", &hmc, &m, sweeps / 4 + 1, 11 * n);
}
