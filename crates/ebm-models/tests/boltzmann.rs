//! The general Boltzmann machine against its definitions: conformance kit in
//! both domains, exact ln Z vs a naive sum, greedy-colouring blocks, validation.

use ebm_core::{Beta, BinaryModel, Domain, EnergyModel, Error, LogLinear, Seed};
use ebm_models::boltzmann::BoltzmannMachine;
use ebm_testkit::strategies::{domain, state};
use ebm_testkit::toy::Dense;
use ebm_testkit::{check_blocks, check_data_statistics, check_flip_deltas, check_log_linear};
use proptest::prelude::*;

/// A random machine: n ∈ units, n_visible ≤ n, couplings uniform in
/// [−scale, scale], each zeroed with probability `sparsity`.
fn machine(
    units: std::ops::RangeInclusive<usize>,
    scale: f64,
    sparsity: f64,
) -> impl Strategy<Value = BoltzmannMachine> {
    (units, domain()).prop_flat_map(move |(n, d)| {
        let pairs = n * (n - 1) / 2;
        (
            proptest::collection::vec((-scale..=scale, 0.0..1.0f64), pairs),
            proptest::collection::vec(-scale..=scale, n),
            0..=n,
        )
            .prop_map(move |(u, b, nv)| {
                let upper: Vec<f64> =
                    u.into_iter().map(|(w, r)| if r < sparsity { 0.0 } else { w }).collect();
                BoltzmannMachine::from_upper(d, &upper, b, nv).expect("valid parameters")
            })
    })
}

fn machine_with_state(
    units: std::ops::RangeInclusive<usize>,
    scale: f64,
    sparsity: f64,
) -> impl Strategy<Value = (BoltzmannMachine, Vec<i8>)> {
    machine(units, scale, sparsity).prop_flat_map(|m| {
        let (n, d) = (m.n_units(), m.domain());
        (Just(m), state(n, d))
    })
}

/// ln Z = ln Σ_x exp(−β E(x)) with E written from the definition.
fn naive_log_z(m: &BoltzmannMachine, beta: f64) -> f64 {
    let n = m.n_units();
    let (w, b) = (m.couplings(), m.biases());
    let mut x = vec![0i8; n];
    let terms: Vec<f64> = (0..1u64 << n)
        .map(|code| {
            m.domain().decode(code, &mut x);
            let mut e = 0.0;
            for i in 0..n {
                e -= b[i] * f64::from(x[i]);
                for j in i + 1..n {
                    e -= w[i * n + j] * f64::from(x[i]) * f64::from(x[j]);
                }
            }
            -beta * e
        })
        .collect();
    let mx = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    mx + terms.iter().map(|t| (t - mx).exp()).sum::<f64>().ln()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn conformance((mut m, x) in machine_with_state(1..=8, 2.0, 0.3), b in 0.05..5.0f64) {
        let beta = Beta::new(b).unwrap();
        check_flip_deltas(&m, &x, 1e-12).map_err(|e| TestCaseError::fail(e.to_string()))?;
        check_blocks(&m, &x, 1e-12).map_err(|e| TestCaseError::fail(e.to_string()))?;
        check_log_linear(&mut m, &x, 1e-12).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let v = &x[..m.n_visible()];
        check_data_statistics(&m, v, beta, 1e-12).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // a closed form exists exactly when every unit is visible
        let mut out = vec![0.0; m.n_params()];
        prop_assert_eq!(m.add_data_statistics(v, beta, 1.0, &mut out), m.n_hidden() == 0);
        if m.n_hidden() > 0 {
            prop_assert!(out.iter().all(|&o| o == 0.0), "nothing added when returning false");
        }
    }

    /// The sparse case: blocks must be independent sets of the non-zero
    /// couplings, and colour a chain-like graph with few colours.
    #[test]
    fn greedy_colouring_is_valid_for_sparse_couplings((m, x) in machine_with_state(2..=12, 1.0, 0.8)) {
        check_blocks(&m, &x, 1e-12).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let blocks = m.blocks();
        let n = m.n_units();
        let w = m.couplings();
        for block in blocks.iter() {
            for &i in block {
                for &j in block {
                    prop_assert!(i == j || w[i * n + j] == 0.0, "{i} and {j} share a block");
                }
            }
        }
        let max_degree = (0..n).map(|i| (0..n).filter(|&j| w[i * n + j] != 0.0).count()).max().unwrap();
        prop_assert!(blocks.n_blocks() <= max_degree + 1);
    }

    /// With no hidden units, exact ln Z (ebm-thermo) equals a naive sum; with
    /// hidden units too (ln Z does not depend on the split).
    #[test]
    fn exact_log_z_equals_naive_sum(m in machine(1..=10, 1.5, 0.2), b in 0.05..4.0f64) {
        let beta = Beta::new(b).unwrap();
        let exact = ebm_thermo::exact(&m, beta).unwrap().log_z;
        let naive = naive_log_z(&m, b);
        prop_assert!((exact - naive).abs() <= 1e-10 * naive.abs().max(1.0), "{exact} vs {naive}");
    }

    /// The same energies as the testkit's reference dense model.
    #[test]
    fn energy_matches_reference((m, x) in machine_with_state(1..=8, 2.0, 0.3)) {
        let reference = Dense::new(m.domain(), m.couplings().to_vec(), m.biases().to_vec()).unwrap();
        let (a, b) = (m.energy(&x), reference.energy(&x));
        prop_assert!((a - b).abs() <= 1e-12 * a.abs().max(1.0), "{a} vs {b}");
    }
}

#[test]
fn fully_visible_log_z_of_a_three_unit_machine_by_hand() {
    // E = −(0.5 x0 − x1 + 0.25 x2) − (1.0 x0 x1 − 2.0 x1 x2); 8 states of bits
    let m = BoltzmannMachine::from_upper(Domain::Bit, &[1.0, 0.0, -2.0], vec![0.5, -1.0, 0.25], 3)
        .unwrap();
    let mut z = 0.0;
    for code in 0..8u32 {
        let x = [code & 1, (code >> 1) & 1, (code >> 2) & 1].map(f64::from);
        let e = -(0.5 * x[0] - x[1] + 0.25 * x[2]) - (x[0] * x[1] - 2.0 * x[1] * x[2]);
        z += (-e).exp();
    }
    let exact = ebm_thermo::exact(&m, Beta::ONE).unwrap().log_z;
    assert!((exact - z.ln()).abs() < 1e-14, "{exact} vs {}", z.ln());
    assert_eq!(m.n_hidden(), 0);
}

#[test]
fn dense_couplings_give_singletons_and_a_path_two_colours() {
    let dense = BoltzmannMachine::random(5, 5, 1.0, Seed(1)).unwrap();
    assert_eq!(dense.blocks().n_blocks(), 5);
    // path 0 - 1 - 2 - 3
    let path = BoltzmannMachine::from_upper(
        Domain::Spin,
        &[1.0, 0.0, 0.0, 1.0, 0.0, 1.0],
        vec![0.0; 4],
        4,
    )
    .unwrap();
    let blocks = path.blocks();
    assert_eq!(blocks.n_blocks(), 2);
    assert_eq!(blocks.block(0), &[0, 2]);
    assert_eq!(blocks.block(1), &[1, 3]);
}

#[test]
fn spin_domain_flip_deltas() {
    let m = BoltzmannMachine::from_upper(Domain::Spin, &[1.0], vec![0.5, 0.0], 2).unwrap();
    // E(+,+) = −0.5 − 1; flipping unit 0: E(−,+) = 0.5 + 1 → Δ = 3
    assert_eq!(m.energy(&[1, 1]), -1.5);
    assert_eq!(m.flip_delta(&[1, 1], 0), 3.0);
}

#[test]
fn param_layout_is_upper_triangle_then_biases() {
    let w = vec![
        0.0, 1.0, 2.0, 3.0, //
        1.0, 0.0, 4.0, 5.0, //
        2.0, 4.0, 0.0, 6.0, //
        3.0, 5.0, 6.0, 0.0,
    ];
    let mut m = BoltzmannMachine::new(w.clone(), vec![7.0, 8.0, 9.0, 10.0], 2).unwrap();
    assert_eq!(m.params(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]);
    assert_eq!(m.n_visible(), 2);
    assert_eq!(m.n_hidden(), 2);
    let mut phi = vec![0.0; 10];
    m.add_statistics(&[1, 0, 1, 1], 1.0, &mut phi);
    assert_eq!(phi, [0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0]);
    // set_params rebuilds the full symmetric matrix
    let theta: Vec<f64> = (1..=10).map(|k| -f64::from(k)).collect();
    m.set_params(&theta).unwrap();
    let neg: Vec<f64> = w.iter().map(|x| -x).collect();
    assert_eq!(m.couplings(), neg.as_slice());
    assert_eq!(m.biases(), &[-7.0, -8.0, -9.0, -10.0]);
}

#[test]
fn invalid_couplings_are_typed_errors() {
    let sym = || vec![0.0, 1.0, 1.0, 0.0];
    assert!(BoltzmannMachine::new(sym(), vec![0.0; 2], 1).is_ok());
    // asymmetric
    assert!(matches!(
        BoltzmannMachine::new(vec![0.0, 1.0, 0.5, 0.0], vec![0.0; 2], 2),
        Err(Error::InvalidParameter { name: "coupling asymmetry W_ij − W_ji", value, .. }) if value == -0.5
    ));
    // non-zero diagonal
    assert!(matches!(
        BoltzmannMachine::new(vec![0.0, 1.0, 1.0, 2.0], vec![0.0; 2], 2),
        Err(Error::InvalidParameter { name: "coupling diagonal", value, .. }) if value == 2.0
    ));
    // wrong shapes
    assert!(matches!(
        BoltzmannMachine::new(vec![0.0; 3], vec![0.0; 2], 2),
        Err(Error::ShapeMismatch { expected: 4, found: 3, .. })
    ));
    assert!(matches!(
        BoltzmannMachine::new(sym(), vec![0.0; 2], 3),
        Err(Error::InvalidParameter { name: "n_visible", .. })
    ));
    assert!(matches!(
        BoltzmannMachine::new(vec![], vec![], 0),
        Err(Error::InvalidParameter { name: "n_units", .. })
    ));
    assert!(matches!(
        BoltzmannMachine::from_upper(Domain::Bit, &[1.0, 2.0], vec![0.0; 3], 3),
        Err(Error::ShapeMismatch { expected: 3, found: 2, .. })
    ));
    // NaN and infinities
    assert!(matches!(
        BoltzmannMachine::new(vec![0.0, f64::NAN, f64::NAN, 0.0], vec![0.0; 2], 2),
        Err(Error::NonFinite { what: "couplings", index: 1 })
    ));
    assert!(matches!(
        BoltzmannMachine::new(sym(), vec![0.0, f64::INFINITY], 2),
        Err(Error::NonFinite { what: "biases", index: 1 })
    ));
    assert!(matches!(
        BoltzmannMachine::from_upper(Domain::Spin, &[f64::NAN], vec![0.0; 2], 2),
        Err(Error::NonFinite { .. })
    ));
    // set_params
    let mut m = BoltzmannMachine::new(sym(), vec![0.0; 2], 1).unwrap();
    assert!(matches!(m.set_params(&[1.0, 2.0]), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(m.set_params(&[1.0, f64::NAN, 0.0]), Err(Error::NonFinite { .. })));
    assert_eq!(m.params(), &[1.0, 0.0, 0.0]);
    // random
    assert!(BoltzmannMachine::random(3, 4, 1.0, Seed(0)).is_err());
    assert!(BoltzmannMachine::random(3, 1, f64::NAN, Seed(0)).is_err());
}

#[test]
fn random_is_seeded() {
    let a = BoltzmannMachine::random(6, 3, 0.5, Seed(8)).unwrap();
    let b = BoltzmannMachine::random(6, 3, 0.5, Seed(8)).unwrap();
    let c = BoltzmannMachine::random(6, 3, 0.5, Seed(9)).unwrap();
    assert_eq!(a, b);
    assert_ne!(a.params(), c.params());
    assert_eq!(a.n_params(), 15 + 6);
    assert!(a.params().iter().all(|t| t.abs() < 5.0 * 0.5));
}
