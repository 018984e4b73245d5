//! Wolff and Swendsen–Wang at β_c on the 64×64 torus: ⟨E⟩/N and C/N within
//! 4σ (block-jackknife errors) of Kaufman's exact finite-lattice values, and
//! the Binder cumulant near its known critical value; a negative control
//! (the same run at 0.97 β_c) must miss Kaufman's energy.

use ebm_core::{Beta, Seed};
use ebm_models::ising::{Boundary, Ising};
use ebm_samplers::{AnySampler, ChainsConfig, Init, Run, SwendsenWang, Wolff};
use ebm_thermo::kaufman::{kaufman_heat_capacity, kaufman_mean_energy};
use ebm_thermo::observables::{Critical, Samples, critical, critical_row};

const BETA_C: f64 = 0.440_686_793_509_771_5;
const L: usize = 64;

fn run(s: &AnySampler, beta: f64, seed: u64) -> Critical {
    let m = Ising::square(L, L, Boundary::Periodic, 1.0, 0.0).unwrap();
    let config =
        ChainsConfig { n_chains: 4, n_warmup: 200, n_sweeps: 4000, thin: 1, seed: Seed(seed) };
    let (traces, _) = Run::new(&m, s, Beta::new(beta).unwrap())
        .config(config)
        .init(Init::Uniform)
        .record(6, |m: &Ising, x: &[i8], out: &mut [f64]| {
            out.copy_from_slice(&critical_row(
                m.energy_per_spin(x),
                m.magnetization(x).powi(2),
                0.0,
            ));
        })
        .unwrap();
    let samples = Samples::new(&traces.values, traces.n_chains, traces.n_observables).unwrap();
    critical(&samples, beta, L * L, None)
}

#[test]
fn wolff_and_swendsen_wang_match_kaufman_at_beta_c_on_the_64x64_torus() {
    let n = (L * L) as f64;
    let u = kaufman_mean_energy(L, L, 1.0, BETA_C) / n;
    let c = kaufman_heat_capacity(L, L, 1.0, BETA_C) / n;
    for (name, s) in [
        ("wolff", AnySampler::Wolff(Wolff::new())),
        ("sw", AnySampler::SwendsenWang(SwendsenWang::new())),
    ] {
        let r = run(&s, BETA_C, 21);
        let (e, cv) = (r.energy_per_unit, r.heat_capacity_per_unit);
        println!(
            "{name}: E/N {:.5} ± {:.5} (exact {u:.5}), C/N {:.4} ± {:.4} (exact {c:.4}), U4 {:.4} ± {:.4}",
            e.mean, e.std_err, cv.mean, cv.std_err, r.binder.mean, r.binder.std_err
        );
        assert!((e.mean - u).abs() < 4.0 * e.std_err, "{name} energy: {e:?} vs {u}");
        assert!((cv.mean - c).abs() < 4.0 * cv.std_err, "{name} heat capacity: {cv:?} vs {c}");
        // U₄ at β_c on the torus: 0.6107 in the limit (Salas & Sokal); at L = 64
        // within a few 10⁻³ of it
        assert!(
            (r.binder.mean - 0.6107).abs() < 4.0 * r.binder.std_err + 0.005,
            "{name}: {:?}",
            r.binder
        );
        // the control: a 3% temperature error is far outside the bar
        let off = run(&s, 0.97 * BETA_C, 22);
        assert!(
            (off.energy_per_unit.mean - u).abs() > 4.0 * off.energy_per_unit.std_err,
            "{name} control"
        );
    }
}
