//! Exact enumeration against naive sums, identities, known densities of states
//! and extreme parameters.

use ebm_core::{Beta, BinaryModel, Domain, EnergyModel, Error};
use ebm_testkit::{strategies, toy::Dense};
use ebm_thermo::{exact, exact_distribution, exact_moments};
use proptest::prelude::*;

/// Naive reference: all states, energies from `energy`, plain f64 sums.
fn naive(model: &impl BinaryModel, beta: f64) -> (f64, f64, f64) {
    let n = model.n_units();
    let mut x = vec![0i8; n];
    let (mut z, mut ze, mut ze2) = (0.0, 0.0, 0.0);
    for code in 0..1u64 << n {
        model.domain().decode(code, &mut x);
        let e = model.energy(&x);
        let w = (-beta * e).exp();
        z += w;
        ze += w * e;
        ze2 += w * e * e;
    }
    let u = ze / z;
    (z.ln(), u, ze2 / z - u * u)
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-300)
}

/// A periodic L×L Ising lattice written with nothing but `energy`.
struct Torus {
    l: usize,
    j: f64,
}

impl EnergyModel for Torus {
    type Space = Domain;

    fn n_units(&self) -> usize {
        self.l * self.l
    }
    fn space(&self) -> &Domain {
        &Domain::Spin
    }
    fn energy(&self, s: &[i8]) -> f64 {
        let l = self.l;
        let mut e = 0.0;
        for r in 0..l {
            for c in 0..l {
                let si = f64::from(s[r * l + c]);
                e -= self.j * si * f64::from(s[r * l + (c + 1) % l]);
                e -= self.j * si * f64::from(s[((r + 1) % l) * l + c]);
            }
        }
        e
    }
}
impl BinaryModel for Torus {}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn log_z_and_moments_equal_naive_sums(
        (m, beta) in (strategies::domain().prop_flat_map(|d| strategies::dense(1..=10, d, 1.5)), 0.05f64..3.0)
    ) {
        let t = exact(&m, Beta::new(beta).unwrap()).unwrap();
        let (log_z, u, var) = naive(&m, beta);
        prop_assert!(rel(t.log_z, log_z) < 1e-12, "ln Z {} vs naive {}", t.log_z, log_z);
        prop_assert!((t.mean_energy - u).abs() < 1e-10 * (1.0 + u.abs()), "U {} vs {}", t.mean_energy, u);
        prop_assert!((t.energy_variance - var).abs() < 1e-9 * (1.0 + var), "Var {} vs {}", t.energy_variance, var);
    }

    #[test]
    fn thermodynamic_identities_hold(
        (m, beta) in (strategies::domain().prop_flat_map(|d| strategies::dense(1..=12, d, 2.0)), 0.01f64..10.0)
    ) {
        let t = exact(&m, Beta::new(beta).unwrap()).unwrap();
        let temp = 1.0 / beta;
        let scale = 1.0 + t.free_energy.abs() + t.mean_energy.abs();
        prop_assert!((t.free_energy - (t.mean_energy - temp * t.entropy)).abs() < 1e-10 * scale);
        prop_assert!(t.entropy >= -1e-12, "S = {}", t.entropy);
        prop_assert!(t.entropy <= m.n_units() as f64 * 2f64.ln() + 1e-12);
        prop_assert!(t.heat_capacity >= 0.0);
        prop_assert!(t.min_energy <= t.mean_energy + 1e-12 * scale);
    }

    #[test]
    fn entropy_tends_to_n_ln_2_at_high_temperature(m in strategies::domain().prop_flat_map(|d| strategies::dense(1..=12, d, 1.0))) {
        let t = exact(&m, Beta::new(1e-6).unwrap()).unwrap();
        let n = m.n_units() as f64;
        // S = N ln 2 − β² Var₀(E)/2 + O(β³); Var₀ ≤ (Σ|θ|)² ≤ (n²)² here
        prop_assert!((t.entropy - n * 2f64.ln()).abs() < 1e-12 * n.powi(4) + 1e-12, "S = {}", t.entropy);
        prop_assert!(rel(t.log_z, n * 2f64.ln()) < 1e-5);
    }

    #[test]
    fn moments_equal_naive_weighted_sums(
        (m, beta) in (strategies::domain().prop_flat_map(|d| strategies::dense(1..=8, d, 1.0)), 0.1f64..2.0)
    ) {
        let n = m.n_units();
        let mo = exact_moments(&m, Beta::new(beta).unwrap()).unwrap();
        let (log_z, _, _) = naive(&m, beta);
        let mut x = vec![0i8; n];
        let (mut mean, mut pair) = (vec![0.0; n], vec![0.0; n * n]);
        for code in 0..1u64 << n {
            m.domain().decode(code, &mut x);
            let p = (-beta * m.energy(&x) - log_z).exp();
            for i in 0..n {
                mean[i] += p * f64::from(x[i]);
                for j in 0..n {
                    pair[i * n + j] += p * f64::from(x[i] * x[j]);
                }
            }
        }
        for i in 0..n {
            prop_assert!((mo.mean[i] - mean[i]).abs() < 1e-12);
            for j in 0..n {
                prop_assert!((mo.pair(i, j) - pair[i * n + j]).abs() < 1e-12);
            }
        }
    }
}

#[test]
fn four_by_four_torus_has_the_known_density_of_states() {
    let beta = Beta::new(0.4406868).unwrap();
    let model = Torus { l: 4, j: 1.0 };
    let dist = exact_distribution(&model, beta).unwrap();
    let levels = dist.energy_levels(&model, 1e-9);
    let known = [
        (-32.0, 2.0),
        (-24.0, 32.0),
        (-20.0, 64.0),
        (-16.0, 424.0),
        (-12.0, 1728.0),
        (-8.0, 6688.0),
        (-4.0, 13568.0),
        (0.0, 20524.0),
        (4.0, 13568.0),
        (8.0, 6688.0),
        (12.0, 1728.0),
        (16.0, 424.0),
        (20.0, 64.0),
        (24.0, 32.0),
        (32.0, 2.0),
    ];
    assert_eq!(levels.len(), known.len(), "{levels:?}");
    for ((e, p), (ek, gk)) in levels.iter().zip(known) {
        assert_eq!(*e, ek);
        let g = p * (dist.thermo.log_z + beta.value() * e).exp();
        assert!((g - gk).abs() < 1e-8 * gk, "g({e}) = {g}, known {gk}");
    }
    let total: f64 = dist.probs.iter().sum();
    // 65536 terms summed naively: rounding up to n·ε ≈ 1.5e-11
    assert!((total - 1.0).abs() < 1.5e-11, "{total}");
}

#[test]
fn extreme_beta_and_huge_energies_stay_finite_and_right() {
    // couplings of order 1e5 on 10 units: energies of magnitude up to ~1e6
    let base = Dense::from_upper(
        Domain::Spin,
        &(0..45).map(|k| ((k * 37 % 11) as f64 - 5.0) / 5.0).collect::<Vec<_>>(),
        (0..10).map(|k| ((k * 7 % 5) as f64 - 2.0) / 3.0).collect(),
    )
    .unwrap();
    let big = base.scaled(1e5);
    for beta in [1e-6, 1e-3, 1.0, 1e3] {
        let t = exact(&big, Beta::new(beta).unwrap()).unwrap();
        for v in [t.log_z, t.free_energy, t.mean_energy, t.entropy, t.heat_capacity] {
            assert!(v.is_finite(), "β = {beta}: {t:?}");
        }
        // reference: log-sum-exp of the sorted exponents, by hand
        let n = 10;
        let mut x = vec![0i8; n];
        let mut a: Vec<f64> = (0..1u64 << n)
            .map(|c| {
                Domain::Spin.decode(c, &mut x);
                -beta * big.energy(&x)
            })
            .collect();
        a.sort_by(|p, q| q.total_cmp(p));
        let m = a[0];
        let lse = m + a.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        assert!(rel(t.log_z, lse) < 1e-12, "β = {beta}: {} vs {lse}", t.log_z);
        assert!(t.entropy >= -1e-9 && t.entropy <= n as f64 * 2f64.ln() + 1e-9);
    }
    // at β = 1e3 the chain is frozen into its ground states: S = ln(degeneracy)
    let t = exact(&big, Beta::new(1e3).unwrap()).unwrap();
    assert!((t.mean_energy - t.min_energy).abs() < 1e-6 * t.min_energy.abs());
    let s_ground = 2f64.ln(); // spin-flip symmetry is broken by the fields; check the value instead
    assert!(t.entropy < s_ground + 1e-9, "S = {}", t.entropy);
}

#[test]
fn ground_state_degeneracy_is_the_zero_temperature_entropy() {
    // zero field: every state and its spin-flip partner have equal energy
    let m = Torus { l: 4, j: 1.0 };
    let t = exact(&m, Beta::new(1e3).unwrap()).unwrap();
    assert!((t.entropy - 2f64.ln()).abs() < 1e-12, "S = {}", t.entropy);
    assert_eq!(t.min_energy, -32.0);
    assert!(t.heat_capacity < 1e-12);
}

#[test]
fn too_many_units_is_a_typed_error() {
    let m = Torus { l: 6, j: 1.0 };
    assert_eq!(
        exact(&m, Beta::ONE).unwrap_err(),
        Error::TooManyUnits { n_units: 36, max: ebm_thermo::MAX_EXACT_UNITS }
    );
    let m = Torus { l: 5, j: 1.0 };
    assert!(matches!(exact_distribution(&m, Beta::ONE), Err(Error::TooManyUnits { .. })));
    assert!(matches!(exact_moments(&m, Beta::ONE), Err(Error::TooManyUnits { .. })));
}

#[test]
fn results_are_bit_identical_for_any_thread_count() {
    // 22 units: several enumeration tasks, reduced in a fixed order
    let m = Dense::from_upper(
        Domain::Bit,
        &(0..231).map(|k| ((k * 31 % 17) as f64 - 8.0) / 9.0).collect::<Vec<_>>(),
        (0..22).map(|k| ((k * 5 % 7) as f64 - 3.0) / 4.0).collect(),
    )
    .unwrap();
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| exact(&m, Beta::new(0.7).unwrap()).unwrap())
    };
    let (a, b) = (run(1), run(4));
    for (x, y) in
        [(a.log_z, b.log_z), (a.mean_energy, b.mean_energy), (a.heat_capacity, b.heat_capacity)]
    {
        assert_eq!(x.to_bits(), y.to_bits());
    }
}
