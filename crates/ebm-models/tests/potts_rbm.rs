//! The categorical RBM: conformance, closed forms against enumeration, the
//! gauge, the GEMM block energies, and typed errors.

use ebm_core::{
    Beta, CategoricalModel, EnergyModel, Error, FiniteSpace, LogLinear, Purpose, Seed, uniform,
};
use ebm_models::potts_rbm::PottsRbm;
use ebm_testkit::{check_categorical_blocks, check_local_energies, check_log_linear};
use ebm_thermo::{exact, exact_distribution, exact_log_likelihood, log_marginal};

fn random_state(m: &PottsRbm, seed: u64) -> Vec<u8> {
    let mut rng = Seed(seed).stream(Purpose::DATA, 0);
    rng.random_state(m.space(), m.n_units())
}

/// A model with non-zero fields and biases too (and not in the gauge before
/// `new` projects it).
fn model(nv: usize, nh: usize, q: usize, seed: u64) -> PottsRbm {
    let mut rng = Seed(seed).stream(Purpose::INIT, 0);
    let mut d = |k: usize, s: f64| -> Vec<f64> {
        (0..k).map(|_| s * (2.0 * uniform(&mut rng) - 1.0)).collect()
    };
    let (w, g, c) = (d(nv * q * nh, 0.8), d(nv * q, 0.7), d(nh, 0.5));
    PottsRbm::new(nv, nh, q, &w, &g, &c).unwrap()
}

#[test]
fn conforms_on_random_states() {
    for (nv, nh, q, seed) in [(4, 3, 3, 1), (6, 5, 21, 2), (2, 7, 2, 3)] {
        let mut m = model(nv, nh, q, seed);
        for s in 0..20 {
            let x = random_state(&m, 100 * seed + s);
            check_local_energies(&m, &x, 1e-12).unwrap();
            check_categorical_blocks(&m, &x, 1e-12).unwrap();
            check_log_linear(&mut m, &x, 1e-12).unwrap();
        }
    }
}

#[test]
fn exact_ln_z_over_the_smaller_layer_equals_full_enumeration() {
    // the last two sum the visible layer (q^{n_v} < 2^{n_h})
    for (nv, nh, q, seed) in [(4, 3, 3, 4), (3, 5, 4, 5), (5, 2, 2, 6), (2, 13, 3, 7), (3, 7, 2, 8)]
    {
        let m = model(nv, nh, q, seed);
        for beta in [0.3, 1.0, 2.5] {
            let b = Beta::new(beta).unwrap();
            let fast = m.exact_log_z(b).unwrap();
            let slow = exact(&m, b).unwrap().log_z;
            assert!(
                (fast - slow).abs() < 1e-10 * slow.abs().max(1.0),
                "{nv}×{nh} q={q} β={beta}: {fast} vs {slow}"
            );
        }
    }
}

#[test]
fn closed_form_marginals_and_data_statistics_equal_enumeration() {
    let m = model(4, 5, 3, 8);
    let b = Beta::new(0.9).unwrap();
    for s in 0..10 {
        let x = random_state(&m, 200 + s);
        let v = &x[..4];
        let closed = m.log_marginal(v, b).unwrap();
        let enumerated = log_marginal(&m, v, b).unwrap();
        assert!((closed - enumerated).abs() < 1e-12, "{closed} vs {enumerated}");
        let mut fast = vec![0.0; m.n_params()];
        assert!(m.add_data_statistics(v, b, 1.0, &mut fast));
        let slow = ebm_thermo::exact_data_statistics(&m, v, b).unwrap();
        for (k, (a, e)) in fast.iter().zip(&slow).enumerate() {
            assert!((a - e).abs() < 1e-12, "statistic {k}: {a} vs {e}");
        }
    }
    // the exact log-likelihood through the hidden sum equals enumeration
    let data: Vec<u8> = (0..6).flat_map(|s| random_state(&m, 300 + s)[..4].to_vec()).collect();
    let a = m.exact_log_likelihood(&data, None, b).unwrap();
    let e = exact_log_likelihood(&m, &data, 4, b).unwrap();
    assert!((a - e).abs() < 1e-10, "{a} vs {e}");
}

#[test]
fn the_zero_sum_gauge_keeps_the_distribution() {
    let m = model(3, 3, 4, 9);
    // the stored parameters satisfy the gauge
    let (q, nh) = (4, 3);
    for i in 0..3 {
        for j in 0..nh {
            let s: f64 = (0..q).map(|k| m.weights()[(i * q + k) * nh + j]).sum();
            assert!(s.abs() < 1e-12);
        }
        assert!(m.fields()[i * q..(i + 1) * q].iter().sum::<f64>().abs() < 1e-12);
    }
    // a field shift on one value only is a real change
    let mut theta = m.params().to_vec();
    theta[3 * q * nh + 2 * q + 1] += 0.4;
    let mut shifted = m.clone();
    shifted.set_params(&theta).unwrap();
    let b = Beta::ONE;
    let p = |x: &PottsRbm| exact_distribution(x, b).unwrap().probs;
    let mut only_gauge = m.clone();
    let mut t2 = m.params().to_vec();
    // W_{1,1}(k) += 0.7 for every k with c_1 −= 0.7, and g_2(k) += 0.3 for
    // every k: the energy changes by a constant only
    for k in 0..q {
        t2[(q + k) * nh + 1] += 0.7;
        t2[3 * q * nh + 2 * q + k] += 0.3;
    }
    t2[3 * q * nh + 3 * q + 1] -= 0.7;
    only_gauge.set_params(&t2).unwrap();
    let tv = |a: &[f64], c: &[f64]| a.iter().zip(c).map(|(x, y)| (x - y).abs()).sum::<f64>();
    assert!(tv(&p(&m), &p(&only_gauge)) < 1e-12, "a gauge shift changed the distribution");
    assert!(tv(&p(&m), &p(&shifted)) > 1e-3, "a real change left the distribution alone");
    assert_eq!(only_gauge.params().len(), m.params().len());
    for (a, c) in only_gauge.params().iter().zip(m.params()) {
        assert!((a - c).abs() < 1e-12, "the gauge fixes a unique representative");
    }
}

#[test]
fn gemm_block_energies_equal_local_energies() {
    let m = model(7, 6, 21, 10);
    let n = m.n_units();
    let rows = 9;
    let xs: Vec<u8> = (0..rows).flat_map(|s| random_state(&m, 400 + s as u64)).collect();
    let w = m.space().max_values();
    for block in CategoricalModel::blocks(&m).iter() {
        let mut out = vec![0.0; rows * block.len() * w];
        m.block_energies_batch(&xs, block, &mut out);
        let mut e = vec![0.0; w];
        for (r, x) in xs.chunks_exact(n).enumerate() {
            for (b, &i) in block.iter().enumerate() {
                let q = m.space().n_values(i);
                m.local_energies(x, i, &mut e[..q]);
                for k in 0..q {
                    let got = out[(r * block.len() + b) * w + k];
                    assert!(
                        (got - e[k]).abs() < 1e-5 * (1.0 + e[k].abs()),
                        "row {r} unit {i} value {k}: {got} vs {}",
                        e[k]
                    );
                }
            }
        }
    }
}

#[test]
fn independent_sites_fields_are_log_frequencies() {
    let data = [0u8, 1, 0, 2, 0, 1, 1, 1];
    let m = PottsRbm::independent_sites(&data, 2, 3, 3, 0.5, None).unwrap();
    // site 0 saw 0,0,0,1: counts + 0.5 = 3.5, 1.5, 0.5; p ∝ those
    let b = Beta::ONE;
    let z = m.exact_log_z(b).unwrap();
    let lp = m.log_marginal(&[0, 1], b).unwrap() - z;
    let want = (3.5f64 / 5.5).ln() + (3.5f64 / 5.5).ln();
    assert!((lp - want).abs() < 1e-12, "{lp} vs {want}");
    assert!(matches!(
        PottsRbm::independent_sites(&[0, 3], 2, 3, 3, 0.5, None),
        Err(Error::InvalidUnitValue { .. })
    ));
}

#[test]
fn bad_input_gets_typed_errors() {
    assert!(matches!(PottsRbm::random(0, 3, 3, 1.0, Seed(1)), Err(Error::InvalidParameter { .. })));
    assert!(matches!(PottsRbm::random(3, 3, 1, 1.0, Seed(1)), Err(Error::InvalidParameter { .. })));
    assert!(matches!(
        PottsRbm::new(2, 2, 3, &[0.0; 11], &[0.0; 6], &[0.0; 2]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        PottsRbm::new(2, 2, 3, &[f64::NAN; 12], &[0.0; 6], &[0.0; 2]),
        Err(Error::NonFinite { .. })
    ));
    let m = PottsRbm::random(3, 25, 3, 0.1, Seed(2)).unwrap();
    // 27 visible states: summed over the visible layer despite 25 hidden units
    assert!(m.exact_log_z(Beta::ONE).is_ok());
    let big = PottsRbm::random(30, 25, 21, 0.1, Seed(2)).unwrap();
    assert!(matches!(big.exact_log_z(Beta::ONE), Err(Error::TooManyUnits { .. })));
    assert!(matches!(m.log_marginal(&[0, 1], Beta::ONE), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(m.log_marginal(&[0, 1, 3], Beta::ONE), Err(Error::InvalidUnitValue { .. })));
}

#[test]
fn base_rate_ais_covers_the_exact_ln_z() {
    use ebm_thermo::ais::Schedule;
    // 20 models × (uniform base at β = 1, data base at β = 0.7): the ±3σ
    // interval must hold the exact value at least 38 times of 40
    let mut inside = 0;
    for s in 0..20u64 {
        let m = model(8, 6, 5, 500 + s);
        let data: Vec<u8> =
            (0..200).flat_map(|r| random_state(&m, 10_000 * s + r)[..8].to_vec()).collect();
        let base = m.base_fields(&data, 1.0).unwrap();
        for (g0, beta) in [(None, 1.0), (Some(base.as_slice()), 0.7)] {
            let b = Beta::new(beta).unwrap();
            let est = m.ais_log_z(g0, b, &Schedule::Linear(500), 64, Seed(s)).unwrap();
            inside += u32::from(est.contains(m.exact_log_z(b).unwrap()));
        }
    }
    assert!(inside >= 38, "{inside}/40");
}
