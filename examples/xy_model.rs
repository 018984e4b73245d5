//! The XY model: planar spins on the torus of angles. On the periodic chain
//! (N = 32) every estimate has an exact answer from the Bessel-function
//! transfer matrix: ⟨E⟩/N by the von Mises heat bath and by HMC, ln Z by AIS
//! and by TI from the uniform distribution (ln Z₀ = N ln 2π). Then the
//! square lattice (16 × 16) across its Berezinskii–Kosterlitz–Thouless
//! transition (T_BKT ≈ 0.893 in the thermodynamic limit): the helicity
//! modulus Υ falls from near J at low T through the universal line 2T/π to
//! ≈ 0 at high T.
//!
//! Run: `cargo run --release --example xy_model`

use ebm::models::lattice::Lattice;
use ebm::models::xy::helicity_modulus;
use ebm::prelude::*;
use ebm::testkit::bessel::{xy_ring_log_z, xy_ring_mean_energy};
use ebm::thermo::ais::{Ais, Schedule};

fn mean_of(traces: &ebm::samplers::Traces, k: usize) -> ebm::thermo::Estimate {
    let chains = traces.chains(k);
    let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
    estimate(&refs)
}

fn main() -> Result<()> {
    let n = 32;
    let chain = Xy::chain(n, Boundary::Periodic, 1.0, 0.0)?;
    let beta = Beta::new(1.0)?;
    let energy = |m: &Xy, x: &[f64], out: &mut [f64]| out[0] = m.energy(x) / n as f64;
    let exact_u = xy_ring_mean_energy(n, 1.0, 1.0) / n as f64;
    let hb = XyMoves::heat_bath().with_overrelaxation(1);
    let hmc = Hmc::new(0.3, 8)?.adapt_during(300, 0.75)?;
    let (t_hb, _) = Run::new(&chain, &hb, beta)
        .chains(4)
        .warmup(500)
        .sweeps(5000)
        .seed(Seed(1))
        .record(1, energy)?;
    let (t_hmc, _) = Run::new(&chain, &hmc, beta)
        .chains(4)
        .warmup(500)
        .sweeps(5000)
        .seed(Seed(1))
        .record(1, energy)?;
    let (e_hb, e_hmc) = (mean_of(&t_hb, 0), mean_of(&t_hmc, 0));
    println!(
        "periodic chain N = {n}, β = 1: ⟨E⟩/N exact {exact_u:.5}; heat bath {:.5} ± {:.5}; HMC {:.5} ± {:.5}",
        e_hb.mean, e_hb.std_err, e_hmc.mean, e_hmc.std_err
    );
    let exact_lz = xy_ring_log_z(n, 1.0);
    let ais = Ais::new(Schedule::Linear(1000), 64)?.log_z(
        &chain,
        &XyMoves::heat_bath(),
        beta,
        Seed(2),
    )?;
    let ti = Ti { intervals: 16, n_chains: 4, burn_in: 100, n_sweeps: 1000 }.log_z(
        &chain,
        &XyMoves::heat_bath(),
        beta,
        Seed(3),
    )?;
    println!(
        "  ln Z exact {exact_lz:.4}; AIS {:.4} [{:.4}, {:.4}]; TI {:.4} ± {:.4}",
        ais.log_z,
        ais.lower,
        ais.upper,
        ti.log_z,
        ti.total_error()
    );

    let l = 16;
    let square = Xy::new(Lattice::new(&[l, l], Boundary::Periodic)?, 1.0, 0.0)?;
    let sites = l * l;
    println!(
        "square lattice {l}×{l}: helicity modulus Υ and |m| (heat bath + 2 overrelaxation sweeps)"
    );
    for t in [0.6, 0.8, 0.9, 1.0, 1.2, 1.5] {
        let b = Beta::new(1.0 / t)?;
        let s = XyMoves::heat_bath().with_overrelaxation(2);
        let (traces, _) =
            Run::new(&square, &s, b).chains(4).warmup(1000).sweeps(4000).seed(Seed(4)).record(
                2,
                |m: &Xy, x: &[f64], out: &mut [f64]| {
                    let h = m.helicity_terms(x);
                    out[0] = helicity_modulus(b, sites, h.cos_sum, h.sin_sum * h.sin_sum);
                    out[1] = m.abs_magnetisation(x);
                },
            )?;
        let (ups, mag) = (mean_of(&traces, 0), mean_of(&traces, 1));
        println!(
            "  T = {t:.2}: Υ = {:.4} ± {:.4} (2T/π = {:.4}), |m| = {:.4} ± {:.4}",
            ups.mean,
            ups.std_err,
            2.0 * t / std::f64::consts::PI,
            mag.mean,
            mag.std_err
        );
    }
    Ok(())
}
