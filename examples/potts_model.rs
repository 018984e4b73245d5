//! A q-state model written with nothing but `energy` gets exact
//! thermodynamics, every sampler and AIS — and the numbers can be checked by
//! hand.
//!
//! The q-state Potts ring, E = −J Σ_i δ(s_i, s_{i+1}) (periodic, N sites), has
//! the transfer matrix e^{βJ} on the diagonal and 1 off it, with eigenvalues
//! e^{βJ} + q − 1 (once) and e^{βJ} − 1 (q − 1 times), so
//!
//! ```text
//! Z = (e^{βJ} + q − 1)^N + (q − 1)(e^{βJ} − 1)^N.
//! ```
//!
//! The example prints ln Z by enumeration beside that closed form, ⟨E⟩/N from
//! heat-bath Gibbs with its error bar beside the exact value, and ln Z by AIS
//! with its interval.
//!
//! Run: `cargo run --release --example potts_model`

use ebm::prelude::*;

/// The user's model: nothing but the state space and the energy.
struct PottsRing {
    space: Categories,
    j: f64,
}

impl EnergyModel for PottsRing {
    type Space = Categories;
    fn n_units(&self) -> usize {
        self.space.len()
    }
    fn space(&self) -> &Categories {
        &self.space
    }
    fn energy(&self, s: &[u8]) -> f64 {
        let n = s.len();
        (0..n).filter(|&i| s[i] == s[(i + 1) % n]).count() as f64 * -self.j
    }
}
impl CategoricalModel for PottsRing {}

fn main() -> Result<()> {
    let (q, n, j) = (3, 12, 1.0);
    let ring = PottsRing { space: Categories::uniform(q, n)?, j };
    println!("q = {q} Potts ring, N = {n}, J = {j}: {} states", 3u64.pow(n as u32));
    println!(
        "{:>5} {:>17} {:>17} {:>20} {:>10} {:>26}",
        "beta",
        "ln Z (enumerated)",
        "ln Z (closed form)",
        "U/N Gibbs ± err",
        "U/N exact",
        "ln Z by AIS [interval]"
    );
    for beta in [0.5, 1.0, 2.0] {
        let b = Beta::new(beta)?;
        let t = exact(&ring, b)?;
        let (a, qf, nf) = ((beta * j).exp(), q as f64, n as i32);
        let closed = ((a + qf - 1.0).powi(nf) + (qf - 1.0) * (a - 1.0).powi(nf)).ln();
        assert!((t.log_z - closed).abs() < 1e-12 * closed, "{} vs {closed}", t.log_z);
        let (traces, _) = Run::new(&ring, &Gibbs::sequential(), b)
            .chains(4)
            .warmup(200)
            .sweeps(5000)
            .seed(Seed(1))
            .record(1, |m: &PottsRing, s: &[u8], out: &mut [f64]| {
                out[0] = m.energy(s) / s.len() as f64
            })?;
        let chains = traces.chains(0);
        let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
        let u = estimate(&refs);
        let ais =
            Ais::new(Schedule::Linear(500), 64)?.log_z(&ring, &Gibbs::sequential(), b, Seed(2))?;
        println!(
            "{beta:>5.2} {:>17.12} {closed:>17.12} {:>11.5} ± {:.5} {:>10.5} {:>9.4} [{:.4}, {:.4}]",
            t.log_z,
            u.mean,
            u.std_err,
            t.mean_energy_per_unit(),
            ais.log_z,
            ais.lower,
            ais.upper
        );
    }
    Ok(())
}
