//! The 2D Ising critical point: sampled energy and heat capacity of periodic
//! L×L lattices at Onsager's β_c = ln(1 + √2)/2, against Kaufman's exact
//! finite-torus values.
//!
//! Run: `cargo run --release --example ising_critical`

use ebm::prelude::*;
use ebm_thermo::kaufman::{
    BETA_C, kaufman_heat_capacity, kaufman_mean_energy, onsager_energy_per_spin,
};

fn main() -> Result<()> {
    println!(
        "2D Ising at β_c = {BETA_C:.10} (T_c = {:.6}); Onsager u(∞) = {:.6}",
        1.0 / BETA_C,
        onsager_energy_per_spin(1.0, BETA_C)
    );
    println!(
        "{:>4} {:>22} {:>12} {:>22} {:>12}",
        "L", "u sampled", "u exact", "c sampled", "c exact"
    );
    for l in [8usize, 16, 32] {
        let model = Ising::square(l, l, Boundary::Periodic, 1.0, 0.0)?;
        let n = (l * l) as f64;
        let config = ChainsConfig {
            n_chains: 8,
            n_warmup: 1000,
            n_sweeps: 8000,
            thin: 1,
            seed: Seed(l as u64),
        };
        let (traces, _) = Run::new(&model, &Gibbs::block(), Beta::new(BETA_C)?)
            .config(config)
            .init(Init::Uniform)
            .record(1, |m: &Ising, s: &[i8], out: &mut [f64]| {
                out[0] = m.energy(s) / n;
            })?;
        let chains = traces.chains(0);
        let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
        let u = estimate(&refs);
        // heat capacity per spin c = β² N Var(u); error from the spread over chains
        let per_chain: Vec<f64> = chains
            .iter()
            .map(|c| {
                let m = c.iter().sum::<f64>() / c.len() as f64;
                BETA_C * BETA_C * n * c.iter().map(|x| (x - m).powi(2)).sum::<f64>()
                    / (c.len() - 1) as f64
            })
            .collect();
        let c_mean = per_chain.iter().sum::<f64>() / per_chain.len() as f64;
        let c_err = (per_chain.iter().map(|x| (x - c_mean).powi(2)).sum::<f64>()
            / ((per_chain.len() - 1) * per_chain.len()) as f64)
            .sqrt();
        let (u_exact, c_exact) = (
            kaufman_mean_energy(l, l, 1.0, BETA_C) / n,
            kaufman_heat_capacity(l, l, 1.0, BETA_C) / n,
        );
        println!(
            "{l:>4} {:>13.6} ± {:.6} {u_exact:>12.6} {:>13.5} ± {:.5} {c_exact:>12.5}",
            u.mean, u.std_err, c_mean, c_err
        );
    }
    println!("(the heat capacity grows like ln L at the critical point)");
    Ok(())
}
