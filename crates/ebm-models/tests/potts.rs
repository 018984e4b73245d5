//! Potts: conformance (local energies, blocks, log-linear) on random lattices
//! and graphs with mixed alphabets, energies from the definition written from
//! coordinates, observables, and typed errors on bad input.

use ebm_core::{CategoricalModel, Categories, EnergyModel, Error, FiniteSpace, LogLinear};
use ebm_models::lattice::{Boundary, Lattice};
use ebm_models::potts::Potts;
use ebm_testkit::{check_categorical_blocks, check_local_energies, check_log_linear, strategies};
use proptest::prelude::*;

const TOL: f64 = 1e-12;

/// Potts energy written from coordinates (independent of the bond list):
/// every site and axis, the +1 neighbour, wrapping when periodic.
fn energy_from_coordinates(dims: &[usize], periodic: bool, j: f64, h: f64, s: &[u8]) -> f64 {
    let lattice = Lattice::new(dims, periodic).unwrap();
    let mut e = 0.0;
    for i in 0..lattice.n_sites() {
        let c = lattice.coords(i).unwrap();
        if s[i] == 0 {
            e -= h;
        }
        for a in 0..dims.len() {
            let mut d = c;
            d[a] += 1;
            if d[a] == dims[a] {
                if !periodic {
                    continue;
                }
                d[a] = 0;
            }
            let k = lattice.site(&d[..dims.len()]).unwrap();
            if s[i] == s[k] {
                e -= j;
            }
        }
    }
    e
}

fn lattice_case() -> impl Strategy<Value = (Potts, Vec<u8>, Vec<usize>, bool, f64, f64)> {
    (
        2usize..=5,
        prop::collection::vec(1usize..=4, 1..=3),
        any::<bool>(),
        -1.5..1.5f64,
        -1.0..1.0f64,
    )
        .prop_filter("periodic sides ≥ 2", |(_, dims, periodic, _, _)| {
            !periodic || dims.iter().all(|&l| l >= 2)
        })
        .prop_flat_map(|(q, dims, periodic, j, h)| {
            let m = Potts::lattice(q, &dims, periodic, j, h).unwrap();
            let space = m.space().clone();
            (
                Just(m),
                strategies::categorical_state(&space),
                Just(dims),
                Just(periodic),
                Just(j),
                Just(h),
            )
        })
}

fn graph_case() -> impl Strategy<Value = (Potts, Vec<u8>)> {
    prop::collection::vec(2usize..=5, 2..=7)
        .prop_flat_map(|q| {
            let n = q.len();
            let pairs: Vec<(usize, usize)> =
                (0..n).flat_map(|a| (a + 1..n).map(move |b| (a, b))).collect();
            let n_fields: usize = q.iter().sum();
            (
                Just(q),
                prop::collection::vec(prop::option::of(-1.5..1.5f64), pairs.len()),
                Just(pairs),
                prop::collection::vec(-1.0..1.0f64, n_fields),
            )
        })
        .prop_flat_map(|(q, js, pairs, fields)| {
            let edges: Vec<(usize, usize, f64)> =
                pairs.iter().zip(js).filter_map(|(&(a, b), j)| j.map(|j| (a, b, j))).collect();
            let space = Categories::new(q).unwrap();
            let m = Potts::from_edges(space.clone(), &edges, &fields).unwrap();
            (Just(m), strategies::categorical_state(&space))
        })
}

proptest! {
    #[test]
    fn lattice_potts_conforms_and_matches_the_coordinate_energy(
        (mut m, s, dims, periodic, j, h) in lattice_case()
    ) {
        check_local_energies(&m, &s, TOL).unwrap();
        check_categorical_blocks(&m, &s, TOL).unwrap();
        check_log_linear(&mut m, &s, TOL).unwrap();
        let want = energy_from_coordinates(&dims, periodic, j, h, &s);
        prop_assert!((m.energy(&s) - want).abs() <= TOL * want.abs().max(1.0));
    }

    #[test]
    fn graph_potts_with_mixed_alphabets_conforms((mut m, s) in graph_case()) {
        check_local_energies(&m, &s, TOL).unwrap();
        check_categorical_blocks(&m, &s, TOL).unwrap();
        check_log_linear(&mut m, &s, TOL).unwrap();
    }
}

#[test]
fn bipartite_lattices_get_a_checkerboard_and_odd_rings_three_colours() {
    let even = Potts::lattice(3, &[4, 4], Boundary::Periodic, 1.0, 0.0).unwrap();
    assert_eq!(CategoricalModel::blocks(&even).n_blocks(), 2);
    let odd = Potts::lattice(3, &[5], Boundary::Periodic, 1.0, 0.0).unwrap();
    assert_eq!(CategoricalModel::blocks(&odd).n_blocks(), 3);
}

#[test]
fn observables_count_values_and_agreeing_bonds() {
    let m = Potts::lattice(3, &[4], Boundary::Periodic, 1.0, 0.0).unwrap();
    assert_eq!(m.fractions(&[0, 0, 1, 2]), vec![0.5, 0.25, 0.25]);
    assert_eq!(m.order_parameter(&[1, 1, 1, 1]), 1.0);
    assert!((m.order_parameter(&[0, 1, 2, 0]) - 0.25).abs() < 1e-15);
    assert_eq!(m.bond_agreement(&[0, 0, 1, 1]), 0.5);
    assert_eq!(m.uniform().map(|(q, j, h)| (q, j, h.to_vec())), Some((3, 1.0, vec![0.0; 3])));
    let mut theta = m.params().to_vec();
    theta[0] = 2.0;
    let mut m2 = m.clone();
    m2.set_params(&theta).unwrap();
    assert!(m2.uniform().is_none(), "a changed coupling is not uniform");
}

#[test]
fn bad_input_gets_typed_errors() {
    assert!(matches!(
        Potts::lattice(1, &[4], Boundary::Periodic, 1.0, 0.0),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        Potts::lattice(257, &[4], Boundary::Periodic, 1.0, 0.0),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        Potts::lattice(3, &[4], Boundary::Periodic, f64::NAN, 0.0),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        Potts::lattice(3, &[1], Boundary::Periodic, 1.0, 0.0),
        Err(Error::InvalidParameter { .. })
    ));
    let space = Categories::new(vec![2, 3]).unwrap();
    assert!(matches!(
        Potts::from_edges(space.clone(), &[(0, 1, 1.0)], &[0.0; 4]),
        Err(Error::ShapeMismatch { expected: 5, found: 4, .. })
    ));
    assert!(matches!(
        Potts::from_edges(space.clone(), &[(0, 0, 1.0)], &[0.0; 5]),
        Err(Error::InvalidSequence { .. })
    ));
    assert!(matches!(
        Potts::from_edges(space.clone(), &[(0, 2, 1.0)], &[0.0; 5]),
        Err(Error::InvalidSequence { .. })
    ));
    assert!(matches!(
        Potts::from_edges(space.clone(), &[(0, 1, f64::INFINITY)], &[0.0; 5]),
        Err(Error::NonFinite { .. })
    ));
    let m = Potts::from_edges(space, &[(0, 1, 1.0)], &[0.0; 5]).unwrap();
    assert!(matches!(m.clone().with_fields(&[f64::NAN; 5]), Err(Error::NonFinite { .. })));
    assert!(matches!(m.clone().with_couplings(&[1.0, 2.0]), Err(Error::ShapeMismatch { .. })));
    assert_eq!(m.space().n_values(1), 3);
}
