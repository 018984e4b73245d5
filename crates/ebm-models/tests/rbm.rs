//! The RBM against its definitions: conformance kit, brute-force free
//! energies and ln Z, batched vs single conditionals, extreme inputs, errors,
//! thread-count independence.

use ebm_core::{Beta, BinaryModel, Domain, EnergyModel, Error, LogLinear, Seed};
use ebm_models::rbm::Rbm;
use ebm_testkit::strategies::state;
use ebm_testkit::{check_blocks, check_data_statistics, check_flip_deltas, check_log_linear};
use proptest::prelude::*;

/// A random RBM with `nv ∈ nvs`, `nh ∈ nhs`, parameters uniform in [−scale, scale].
fn rbm(
    nvs: std::ops::RangeInclusive<usize>,
    nhs: std::ops::RangeInclusive<usize>,
    scale: f64,
) -> impl Strategy<Value = Rbm> {
    (nvs, nhs).prop_flat_map(move |(nv, nh)| {
        (
            proptest::collection::vec(-scale..=scale, nv * nh),
            proptest::collection::vec(-scale..=scale, nv),
            proptest::collection::vec(-scale..=scale, nh),
        )
            .prop_map(|(w, b, c)| Rbm::new(w, b, c).expect("valid parameters"))
    })
}

fn rbm_with_state(
    nvs: std::ops::RangeInclusive<usize>,
    nhs: std::ops::RangeInclusive<usize>,
    scale: f64,
) -> impl Strategy<Value = (Rbm, Vec<i8>)> {
    rbm(nvs, nhs, scale).prop_flat_map(|m| {
        let n = m.n_units();
        (Just(m), state(n, Domain::Bit))
    })
}

fn beta() -> impl Strategy<Value = Beta> {
    prop_oneof![Just(0.1), Just(0.5), Just(1.0), Just(3.0), 0.05..5.0f64]
        .prop_map(|b| Beta::new(b).expect("positive"))
}

/// ln Σ exp(x_k), max-shifted.
fn log_sum_exp(xs: &[f64]) -> f64 {
    let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + xs.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// `−T ln Σ_h exp(−β E(v, h))` by enumerating h with the joint energy.
fn brute_visible_free_energy(m: &Rbm, v: &[i8], beta: Beta) -> f64 {
    let nh = m.n_hidden();
    let mut x = v.to_vec();
    x.resize(m.n_units(), 0);
    let terms: Vec<f64> = (0..1u64 << nh)
        .map(|code| {
            Domain::Bit.decode(code, &mut x[v.len()..]);
            -beta.value() * m.energy(&x)
        })
        .collect();
    -log_sum_exp(&terms) / beta.value()
}

/// ln Z by enumerating every joint state.
fn brute_log_z(m: &Rbm, beta: Beta) -> f64 {
    let n = m.n_units();
    let mut x = vec![0i8; n];
    let terms: Vec<f64> = (0..1u64 << n)
        .map(|code| {
            Domain::Bit.decode(code, &mut x);
            -beta.value() * m.energy(&x)
        })
        .collect();
    log_sum_exp(&terms)
}

fn rel_close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
}

fn bits(seed: u64, n: usize) -> Vec<i8> {
    // a small LCG, enough to make varied test data
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            i8::from((s >> 33) & 1 == 1)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn conformance((mut m, x) in rbm_with_state(1..=6, 1..=6, 2.0), b in beta()) {
        check_flip_deltas(&m, &x, 1e-12).map_err(|e| TestCaseError::fail(e.to_string()))?;
        check_blocks(&m, &x, 1e-12).map_err(|e| TestCaseError::fail(e.to_string()))?;
        check_log_linear(&mut m, &x, 1e-12).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let v = &x[..m.n_visible()];
        check_data_statistics(&m, v, b, 1e-10).map_err(|e| TestCaseError::fail(e.to_string()))?;
    }

    #[test]
    fn visible_free_energy_is_minus_t_log_sum_over_h((m, x) in rbm_with_state(1..=6, 1..=8, 2.0), b in beta()) {
        let v = &x[..m.n_visible()];
        let fast = m.visible_free_energy(v, b).unwrap();
        let slow = brute_visible_free_energy(&m, v, b);
        prop_assert!(rel_close(fast, slow, 1e-12), "{fast} vs {slow}");
    }

    #[test]
    fn hidden_free_energy_is_minus_t_log_sum_over_v((m, x) in rbm_with_state(1..=8, 1..=6, 2.0), b in beta()) {
        let (nv, h) = (m.n_visible(), &x[m.n_visible()..]);
        let mut y = vec![0i8; nv];
        y.extend_from_slice(h);
        let terms: Vec<f64> = (0..1u64 << nv)
            .map(|code| {
                Domain::Bit.decode(code, &mut y[..nv]);
                -b.value() * m.energy(&y)
            })
            .collect();
        let slow = -log_sum_exp(&terms) / b.value();
        let fast = m.hidden_free_energy(h, b).unwrap();
        prop_assert!(rel_close(fast, slow, 1e-12), "{fast} vs {slow}");
    }

    /// Both n_v < n_h and n_v > n_h, several β: the smaller-layer sum equals
    /// ebm-thermo's full joint enumeration and a naive sum.
    #[test]
    fn exact_log_z_equals_joint_enumeration(m in rbm(1..=8, 1..=8, 1.5), b in beta()) {
        let fast = m.exact_log_z(b).unwrap();
        let joint = ebm_thermo::exact(&m, b).unwrap().log_z;
        prop_assert!(rel_close(fast, joint, 1e-10), "{fast} vs thermo {joint}");
        let naive = brute_log_z(&m, b);
        prop_assert!(rel_close(fast, naive, 1e-10), "{fast} vs naive {naive}");
    }

    #[test]
    fn data_statistics_batch_matches_singles(m in rbm(1..=9, 1..=9, 1.0), rows in 1usize..12, seed in any::<u64>(), b in beta()) {
        let nv = m.n_visible();
        let data = bits(seed, rows * nv);
        let mut single = vec![0.0; m.n_params()];
        for v in data.chunks_exact(nv) {
            prop_assert!(m.add_data_statistics(v, b, 0.25, &mut single));
        }
        let mut batch = vec![0.0; m.n_params()];
        prop_assert!(m.add_data_statistics_batch(&data, b, 0.25, &mut batch));
        for (k, (s, g)) in single.iter().zip(&batch).enumerate() {
            // f32 GEMM: relative accuracy ~1e-6 of the row count
            prop_assert!((s - g).abs() <= 1e-5 * (rows as f64).max(1.0), "param {k}: {s} vs {g}");
        }
    }

    #[test]
    fn statistics_batch_matches_singles(m in rbm(1..=9, 1..=9, 1.0), rows in 0usize..12, seed in any::<u64>()) {
        let n = m.n_units();
        let xs = bits(seed, rows * n);
        let mut single = vec![0.0; m.n_params()];
        for x in xs.chunks_exact(n) {
            m.add_statistics(x, 0.3, &mut single);
        }
        let mut batch = vec![0.0; m.n_params()];
        m.add_statistics_batch(&xs, 0.3, &mut batch);
        for (k, (s, g)) in single.iter().zip(&batch).enumerate() {
            prop_assert!((s - g).abs() <= 1e-12 * s.abs().max(1.0), "param {k}: {s} vs {g}");
        }
    }
}

#[test]
fn batched_and_single_conditionals_agree() {
    let (nv, nh, rows) = (37, 23, 9);
    let mut m = Rbm::random(nv, nh, 0.7, Seed(5)).unwrap();
    let beta = Beta::new(0.8).unwrap();
    for round in 0..2 {
        let v = bits(11 + round, rows * nv);
        let h = bits(17 + round, rows * nh);
        let mut ph = vec![0f32; rows * nh];
        let mut ph32 = vec![0f32; rows * nh];
        let mut pv = vec![0f32; rows * nv];
        m.hidden_probs_batch(&v, beta, &mut ph).unwrap();
        let v32: Vec<f32> = v.iter().map(|&x| f32::from(x)).collect();
        m.hidden_probs_batch(&v32, beta, &mut ph32).unwrap();
        assert_eq!(ph, ph32, "i8 and f32 inputs give the same probabilities");
        m.visible_probs_batch(&h, beta, &mut pv).unwrap();
        let mut one_h = vec![0.0; nh];
        let mut one_v = vec![0.0; nv];
        for r in 0..rows {
            m.hidden_probs(&v[r * nv..(r + 1) * nv], beta, &mut one_h).unwrap();
            for j in 0..nh {
                let d = (f64::from(ph[r * nh + j]) - one_h[j]).abs();
                assert!(d < 2e-6, "row {r}, hidden {j}: {} vs {}", ph[r * nh + j], one_h[j]);
            }
            m.visible_probs(&h[r * nh..(r + 1) * nh], beta, &mut one_v).unwrap();
            for i in 0..nv {
                let d = (f64::from(pv[r * nv + i]) - one_v[i]).abs();
                assert!(d < 2e-6, "row {r}, visible {i}: {} vs {}", pv[r * nv + i], one_v[i]);
            }
        }
        // the f32 mirror follows set_params
        let theta: Vec<f64> = m.params().iter().map(|t| -0.5 * t + 0.1).collect();
        m.set_params(&theta).unwrap();
    }
}

#[test]
fn conditionals_are_sigmoids_of_the_definition() {
    // p(h_j = 1 | v) = p(v, h_j = 1, rest) summed / p(v) by brute force on a tiny model
    let m = Rbm::random(3, 2, 1.0, Seed(9)).unwrap();
    let beta = Beta::new(1.7).unwrap();
    let v = [1, 0, 1];
    let mut p = [0.0; 2];
    m.hidden_probs(&v, beta, &mut p).unwrap();
    let mut x = [1, 0, 1, 0, 0];
    let mut w = [[0.0; 2]; 2];
    for code in 0..4u64 {
        Domain::Bit.decode(code, &mut x[3..]);
        let e = (-beta.value() * m.energy(&x)).exp();
        for j in 0..2 {
            w[j][usize::from(x[3 + j] == 1)] += e;
        }
    }
    for j in 0..2 {
        let brute = w[j][1] / (w[j][0] + w[j][1]);
        assert!((p[j] - brute).abs() < 1e-14, "{} vs {brute}", p[j]);
    }
}

#[test]
fn free_energy_at_huge_pre_activations_matches_the_asymptote() {
    // pre-activations c_j + W_j·v of ±1e3 (and ±2e3) at β = 1 and 0.5
    let w = vec![1e3, -1e3, 1e3, 1e3, -1e3, 0.0];
    let b = vec![0.5, -0.25];
    let c = vec![0.0, 0.0, 1e3];
    let m = Rbm::new(w, b, c).unwrap();
    for beta in [1.0, 0.5, 3.0] {
        let beta = Beta::new(beta).unwrap();
        for v in [[1i8, 0], [0, 1], [1, 1], [0, 0]] {
            let pre: Vec<f64> = (0..3)
                .map(|j| {
                    m.hidden_bias()[j]
                        + (0..2).map(|i| f64::from(v[i]) * m.weights()[i * 3 + j]).sum::<f64>()
                })
                .collect();
            // T softplus(β x) = max(x, 0) + T ln(1 + e^{−β|x|}); the log term is
            // e^{−500} or less at |x| ≥ 1e3, except for x = 0 where it is T ln 2
            let asym: f64 =
                -(0..2).map(|i| m.visible_bias()[i] * f64::from(v[i])).sum::<f64>()
                    - pre
                        .iter()
                        .map(|&x| {
                            if x == 0.0 {
                                std::f64::consts::LN_2 / beta.value()
                            } else {
                                x.max(0.0)
                            }
                        })
                        .sum::<f64>();
            let f = m.visible_free_energy(&v, beta).unwrap();
            assert!(f.is_finite());
            assert!(rel_close(f, asym, 1e-14), "v {v:?}, β {}: {f} vs {asym}", beta.value());
        }
        // ln Z and the log-likelihood stay finite too
        assert!(m.exact_log_z(beta).unwrap().is_finite());
        let ll = m.exact_log_likelihood(&[1, 1, 0, 1], beta).unwrap();
        assert!(ll.is_finite() && ll <= 0.0);
        // and the conditionals saturate without NaN
        let mut p = [0.0; 3];
        m.hidden_probs(&[1, 0], beta, &mut p).unwrap();
        assert!(p[0] == 1.0 && p[2] == 1.0 && (0.0..1e-200).contains(&p[1]), "{p:?}");
        let mut p32 = [0f32; 3];
        m.hidden_probs_batch(&[0i8, 1], beta, &mut p32).unwrap();
        assert_eq!(p32, [1.0, 0.0, 1.0]);
    }
}

#[test]
fn exact_log_likelihood_equals_brute_force() {
    let m = Rbm::random(4, 3, 0.8, Seed(3)).unwrap();
    let data = [1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1];
    for beta in [0.3, 1.0, 2.5] {
        let beta = Beta::new(beta).unwrap();
        let log_z = brute_log_z(&m, beta);
        let brute: f64 = data
            .chunks_exact(4)
            .map(|v| -beta.value() * brute_visible_free_energy(&m, v, beta) - log_z)
            .sum::<f64>()
            / 3.0;
        let ll = m.exact_log_likelihood(&data, beta).unwrap();
        assert!(rel_close(ll, brute, 1e-12), "{ll} vs {brute}");
    }
}

#[test]
fn exact_log_z_is_bit_identical_for_1_and_4_threads() {
    for (nv, nh) in [(40, 17), (15, 60)] {
        let m = Rbm::random(nv, nh, 0.3, Seed(21)).unwrap();
        let run = |k: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(k)
                .build()
                .unwrap()
                .install(|| m.exact_log_z(Beta::ONE).unwrap())
        };
        let (one, four) = (run(1), run(4));
        assert_eq!(one.to_bits(), four.to_bits(), "{one} vs {four}");
    }
}

#[test]
fn exact_log_z_sums_the_smaller_layer_of_a_wide_model() {
    // 40 visible units put the joint enumeration out of reach; the sum over the
    // 6 hidden units is checked against ln Z = ln Σ_h exp(−β F(h)), with F(h)
    // summing the visible layer analytically by an independent code path.
    let m = Rbm::random(40, 6, 0.4, Seed(2)).unwrap();
    let beta = Beta::new(1.3).unwrap();
    let mut h = [0i8; 6];
    let terms: Vec<f64> = (0..64u64)
        .map(|code| {
            Domain::Bit.decode(code, &mut h);
            -beta.value() * m.hidden_free_energy(&h, beta).unwrap()
        })
        .collect();
    let via_h = log_sum_exp(&terms);
    let fast = m.exact_log_z(beta).unwrap();
    assert!(rel_close(fast, via_h, 1e-12), "{fast} vs {via_h}");
}

#[test]
fn exact_log_z_over_several_gray_code_tasks_matches_the_other_layer() {
    // a smaller layer of 13 units spans two tasks of 2^12 terms with a fresh
    // start each; check both orientations against ln Σ exp(−β F) over the
    // larger layer (2^14 free energies, an independent code path)
    for (nv, nh) in [(13, 14), (14, 13)] {
        let m = Rbm::random(nv, nh, 0.5, Seed(31)).unwrap();
        for beta in [0.3, 1.0, 2.0] {
            let beta = Beta::new(beta).unwrap();
            let mut y = vec![0i8; 14];
            let terms: Vec<f64> = (0..1u64 << 14)
                .map(|code| {
                    Domain::Bit.decode(code, &mut y);
                    let f = if nv > nh {
                        m.visible_free_energy(&y, beta)
                    } else {
                        m.hidden_free_energy(&y, beta)
                    };
                    -beta.value() * f.unwrap()
                })
                .collect();
            let slow = log_sum_exp(&terms);
            let fast = m.exact_log_z(beta).unwrap();
            assert!(rel_close(fast, slow, 1e-12), "{nv}×{nh}: {fast} vs {slow}");
        }
    }
}

#[test]
fn exact_log_z_refuses_two_large_layers() {
    let m = Rbm::random(27, 30, 0.1, Seed(0)).unwrap();
    assert_eq!(m.exact_log_z(Beta::ONE), Err(Error::TooManyUnits { n_units: 27, max: 26 }));
}

#[test]
fn blocks_are_the_two_layers() {
    let m = Rbm::random(3, 2, 1.0, Seed(0)).unwrap();
    let blocks = m.blocks();
    assert_eq!(blocks.n_blocks(), 2);
    assert_eq!(blocks.block(0), &[0, 1, 2]);
    assert_eq!(blocks.block(1), &[3, 4]);
    // a block that is not a whole layer falls back to per-unit deltas
    let x = [1, 0, 1, 1, 0];
    let mut out = [0.0; 2];
    m.block_deltas(&x, &[2, 4], &mut out);
    assert_eq!(out, [m.flip_delta(&x, 2), m.flip_delta(&x, 4)]);
}

#[test]
fn constructors_validate() {
    let ok = || (vec![0.1; 6], vec![0.0; 3], vec![0.0; 2]);
    let (w, b, c) = ok();
    assert!(Rbm::new(w, b, c).is_ok());
    let (_, b, c) = ok();
    assert!(matches!(
        Rbm::new(vec![0.1; 5], b, c),
        Err(Error::ShapeMismatch { expected: 6, found: 5, .. })
    ));
    let (mut w, b, c) = ok();
    w[4] = f64::NAN;
    assert!(matches!(Rbm::new(w, b, c), Err(Error::NonFinite { what: "weights", index: 4 })));
    let (w, mut b, c) = ok();
    b[1] = f64::INFINITY;
    assert!(matches!(Rbm::new(w, b, c), Err(Error::NonFinite { what: "visible biases", .. })));
    let (w, b, mut c) = ok();
    c[0] = f64::NEG_INFINITY;
    assert!(matches!(Rbm::new(w, b, c), Err(Error::NonFinite { what: "hidden biases", .. })));
    assert!(matches!(
        Rbm::new(vec![], vec![], vec![1.0]),
        Err(Error::InvalidParameter { name: "n_visible", .. })
    ));
    assert!(Rbm::random(3, 0, 1.0, Seed(0)).is_err());
    assert!(Rbm::random(3, 2, f64::NAN, Seed(0)).is_err());
    assert!(Rbm::random(3, 2, -1.0, Seed(0)).is_err());
    assert!(Rbm::random(usize::MAX, 2, 1.0, Seed(0)).is_err());
}

#[test]
fn methods_reject_bad_input() {
    let mut m = Rbm::random(3, 2, 1.0, Seed(0)).unwrap();
    let beta = Beta::ONE;
    assert!(matches!(m.visible_free_energy(&[1, 0], beta), Err(Error::ShapeMismatch { .. })));
    assert_eq!(
        m.visible_free_energy(&[1, 2, 0], beta),
        Err(Error::InvalidUnitValue { index: 1, value: 2.0 })
    );
    assert!(m.hidden_free_energy(&[1, 0, 1], beta).is_err());
    assert!(m.hidden_probs(&[1, 0, 1], beta, &mut [0.0; 3]).is_err());
    assert!(m.visible_probs(&[1, 0], beta, &mut [0.0; 2]).is_err());
    assert!(m.visible_probs(&[-1, 0], beta, &mut [0.0; 3]).is_err());
    // batches: ragged input, wrong output, bad values
    assert!(matches!(
        m.hidden_probs_batch(&[1i8, 0, 1, 1], beta, &mut [0f32; 2]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        m.hidden_probs_batch(&[1i8, 0, 1], beta, &mut [0f32; 3]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        m.hidden_probs_batch(&[0.5f32, f32::NAN, 1.0], beta, &mut [0f32; 2]),
        Err(Error::NonFinite { index: 1, .. })
    ));
    assert!(matches!(
        m.visible_probs_batch(&[3i8, 0], beta, &mut [0f32; 3]),
        Err(Error::InvalidUnitValue { index: 0, value: 3.0 })
    ));
    // empty batches are fine
    m.hidden_probs_batch::<f32>(&[], beta, &mut []).unwrap();
    // log-likelihood data
    assert!(m.exact_log_likelihood(&[], beta).is_err());
    assert!(m.exact_log_likelihood(&[1, 0], beta).is_err());
    assert!(m.exact_log_likelihood(&[1, 0, 5], beta).is_err());
    // set_params leaves the model unchanged on error
    let before = m.params().to_vec();
    let mut bad = before.clone();
    bad[0] = f64::NAN;
    assert!(m.set_params(&bad).is_err());
    assert!(m.set_params(&before[1..]).is_err());
    assert_eq!(m.params(), before.as_slice());
}

#[test]
fn param_layout_is_w_then_b_then_c() {
    let m = Rbm::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], vec![7.0, 8.0], vec![9.0, 10.0, 11.0])
        .unwrap();
    assert_eq!(m.params(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0]);
    // E(v, h) = −b·v − c·h − vᵀ W h with W_{1,2} = 6
    assert_eq!(m.energy(&[0, 1, 0, 0, 1]), -(8.0 + 11.0 + 6.0));
    let mut phi = vec![0.0; 11];
    m.add_statistics(&[0, 1, 0, 0, 1], 1.0, &mut phi);
    assert_eq!(phi, [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0]);
}

#[test]
fn init_follows_hintons_guide_and_is_seeded() {
    let (nv, nh) = (50, 200);
    // unit 0 always on, unit 1 always off, unit 2 on in 1 of 4 rows, the rest alternate
    let rows = 4;
    let mut data = vec![0i8; rows * nv];
    for r in 0..rows {
        for i in 0..nv {
            data[r * nv + i] = match i {
                0 => 1,
                1 => 0,
                2 => i8::from(r == 0),
                _ => i8::from((r + i) % 2 == 0),
            };
        }
    }
    let m = Rbm::init(nv, nh, Some(&data), Seed(4)).unwrap();
    let b = m.visible_bias();
    let p = ebm_models::rbm::P_MIN;
    assert!((b[0] - ((1.0 - p) / p).ln()).abs() < 1e-12);
    assert!((b[1] - (p / (1.0 - p)).ln()).abs() < 1e-12);
    assert!((b[2] - (0.25f64 / 0.75).ln()).abs() < 1e-12);
    assert!(b[3..].iter().all(|&x| x.abs() < 1e-12));
    assert!(m.hidden_bias().iter().all(|&x| x == 0.0));
    // W ~ N(0, 0.01²): 10⁴ draws, the sample std has relative s.e. ≈ 0.7%
    let w = m.weights();
    let mean = w.iter().sum::<f64>() / w.len() as f64;
    let sd = (w.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / w.len() as f64).sqrt();
    assert!(mean.abs() < 5.0 * 0.01 / 100.0, "{mean}");
    assert!((sd / 0.01 - 1.0).abs() < 0.04, "{sd}");
    // reproducible from the seed, different for another seed
    let again = Rbm::init(nv, nh, Some(&data), Seed(4)).unwrap();
    assert_eq!(m.params(), again.params());
    let other = Rbm::init(nv, nh, Some(&data), Seed(5)).unwrap();
    assert_ne!(m.weights(), other.weights());
    // without data the visible biases are zero
    let none = Rbm::init(nv, nh, None, Seed(4)).unwrap();
    assert!(none.visible_bias().iter().all(|&x| x == 0.0));
    assert_eq!(none.weights(), m.weights());
    // bad data
    assert!(Rbm::init(nv, nh, Some(&data[1..]), Seed(4)).is_err());
    assert!(Rbm::init(nv, nh, Some(&[]), Seed(4)).is_err());
    let mut bad = data.clone();
    bad[7] = -1;
    assert!(matches!(
        Rbm::init(nv, nh, Some(&bad), Seed(4)),
        Err(Error::InvalidUnitValue { index: 7, value: -1.0 })
    ));
}

/// The documented f32 bound on a batched delta: `(K + 2) · 2⁻²⁴ · (|bias| + Σ|W|)`
/// over the K active units of the other layer (plus f64 rounding).
fn delta_tolerance(m: &Rbm, x: &[i8], unit: usize) -> f64 {
    let (nv, nh) = (m.n_visible(), m.n_hidden());
    let w = m.weights();
    let (mut mag, mut k) = (0.0, 0usize);
    if unit < nv {
        mag += m.visible_bias()[unit].abs();
        for j in 0..nh {
            if x[nv + j] == 1 {
                mag += w[unit * nh + j].abs();
                k += 1;
            }
        }
    } else {
        let j = unit - nv;
        mag += m.hidden_bias()[j].abs();
        for i in 0..nv {
            if x[i] == 1 {
                mag += w[i * nh + j].abs();
                k += 1;
            }
        }
    }
    (k as f64 + 2.0) * f64::powi(2.0, -24) * mag + 1e-12
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn block_deltas_batch_equals_row_by_row_within_the_f32_bound(
        m in rbm(1..=40, 1..=40, 3.0), rows in 0usize..9, seed in any::<u64>(),
    ) {
        let n = m.n_units();
        let xs = bits(seed, rows * n);
        for block in m.blocks().iter() {
            let w = block.len();
            let mut batch = vec![0.0; rows * w];
            m.block_deltas_batch(&xs, block, &mut batch);
            for (r, x) in xs.chunks_exact(n).enumerate() {
                let mut single = vec![0.0; w];
                m.block_deltas(x, block, &mut single);
                for (k, &u) in block.iter().enumerate() {
                    let (a, b) = (batch[r * w + k], single[k]);
                    prop_assert!((a - b).abs() <= delta_tolerance(&m, x, u), "unit {u}: {a} vs {b}");
                }
            }
        }
        // a block that is not a whole layer uses the exact per-unit default
        if n >= 2 {
            let block = [0, n - 1];
            let mut batch = vec![0.0; rows * 2];
            m.block_deltas_batch(&xs, &block, &mut batch);
            for (r, x) in xs.chunks_exact(n).enumerate() {
                prop_assert_eq!(batch[2 * r], m.flip_delta(x, 0));
                prop_assert_eq!(batch[2 * r + 1], m.flip_delta(x, n - 1));
            }
        }
    }
}

#[test]
fn block_deltas_batch_at_mnist_size_is_close_and_independent_of_the_batch_split() {
    let m = Rbm::random(784, 500, 0.1, Seed(3)).unwrap();
    let n = m.n_units();
    let rows = 16;
    let xs = bits(17, rows * n);
    for block in m.blocks().iter() {
        let w = block.len();
        let mut all = vec![0.0; rows * w];
        m.block_deltas_batch(&xs, block, &mut all);
        // rows computed in two separate calls give the same bits
        let mut halves = vec![0.0; rows * w];
        let (a, b) = halves.split_at_mut(5 * w);
        m.block_deltas_batch(&xs[..5 * n], block, a);
        m.block_deltas_batch(&xs[5 * n..], block, b);
        assert_eq!(all, halves);
        for (r, x) in xs.chunks_exact(n).enumerate() {
            let mut single = vec![0.0; w];
            m.block_deltas(x, block, &mut single);
            for (k, &u) in block.iter().enumerate() {
                assert!((all[r * w + k] - single[k]).abs() <= delta_tolerance(&m, x, u));
            }
        }
    }
}

#[test]
fn sparse_conditionals_match_the_gemm_conditionals() {
    use ebm_models::rbm::ActiveSets;
    let (nv, nh, rows) = (37, 70, 9);
    let m = Rbm::random(nv, nh, 0.7, Seed(5)).unwrap();
    let v = bits(8, rows * nv);
    let h = bits(9, rows * nh);
    for beta in [Beta::ONE, Beta::new(0.6).unwrap()] {
        let (mut sv, mut sh) = (ActiveSets::new(nv), ActiveSets::new(nh));
        v.chunks(nv).for_each(|r| sv.push_row(r));
        h.chunks(nh).for_each(|r| sh.push_row(r));
        let (mut a, mut b) = (vec![0f32; rows * nh], vec![0f32; rows * nh]);
        m.hidden_probs_batch(&v, beta, &mut a).unwrap();
        m.hidden_probs_sparse(&sv, 0..rows, beta, &mut b).unwrap();
        a.iter().zip(&b).for_each(|(x, y)| assert!((x - y).abs() < 2e-6, "{x} {y}"));
        let (mut a, mut b) = (vec![0f32; rows * nv], vec![0f32; (rows - 2) * nv]);
        m.visible_probs_batch(&h, beta, &mut a).unwrap();
        m.visible_probs_sparse(&sh, 2..rows, beta, &mut b).unwrap();
        a[2 * nv..].iter().zip(&b).for_each(|(x, y)| assert!((x - y).abs() < 2e-6, "{x} {y}"));
        let mut short = vec![0f32; 3];
        assert!(m.visible_probs_sparse(&sh, 0..rows, beta, &mut short).is_err());
        assert!(m.hidden_probs_sparse(&sh, 0..rows, beta, &mut b).is_err());
    }
}
