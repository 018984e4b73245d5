//! Ising: conformance (flip deltas, blocks, log-linear) on random lattices,
//! graphs and spin glasses; exact ln Z against closed forms and brute force;
//! bond counting; observables; typed errors on bad input.

use ebm_core::{Beta, BinaryModel, Domain, EnergyModel, Error, LogLinear, Seed};
use ebm_models::ising::{Boundary, Disorder, Ising, Lattice, UniformIsing};
use ebm_testkit::toy::Dense;
use ebm_testkit::{check_blocks, check_flip_deltas, check_log_linear, strategies};
use ebm_thermo::exact;
use proptest::prelude::*;

const TOL: f64 = 1e-12;

fn beta(b: f64) -> Beta {
    Beta::new(b).unwrap()
}

fn close_rel(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
}

// ---------------------------------------------------------------------------
// Reference implementations written from the coordinates, independent of the
// model's CSR and bond list.

/// Site index, last axis fastest.
fn site(dims: &[usize], c: &[usize]) -> usize {
    c.iter().zip(dims).fold(0, |i, (&x, &l)| i * l + x)
}

/// All coordinate tuples in site order.
fn all_coords(dims: &[usize]) -> Vec<Vec<usize>> {
    let n: usize = dims.iter().product();
    (0..n)
        .map(|mut i| {
            let mut c = vec![0; dims.len()];
            for a in (0..dims.len()).rev() {
                c[a] = i % dims[a];
                i /= dims[a];
            }
            c
        })
        .collect()
}

/// The documented bond order: sites in order, axes in order, `+1` neighbour.
fn reference_bonds(dims: &[usize], periodic: bool) -> Vec<(usize, usize)> {
    let mut bonds = Vec::new();
    for c in all_coords(dims) {
        for a in 0..dims.len() {
            let mut d = c.clone();
            if c[a] + 1 < dims[a] {
                d[a] += 1;
            } else if periodic {
                d[a] = 0;
            } else {
                continue;
            }
            bonds.push((site(dims, &c), site(dims, &d)));
        }
    }
    bonds
}

/// E(s) = −J Σ_bonds s_i s_j − h Σ s_i, bonds as in `reference_bonds`.
fn reference_energy(dims: &[usize], periodic: bool, j: f64, h: f64, s: &[i8]) -> f64 {
    let pairs: i64 = reference_bonds(dims, periodic)
        .iter()
        .map(|&(a, b)| i64::from(s[a]) * i64::from(s[b]))
        .sum();
    let m: i64 = s.iter().map(|&x| i64::from(x)).sum();
    -j * pairs as f64 - h * m as f64
}

/// ln Σ_s exp(−β E(s)) by brute force over all 2^n states.
fn brute_log_z(n: usize, beta: f64, energy: impl Fn(&[i8]) -> f64) -> f64 {
    let mut s = vec![0i8; n];
    let log_w: Vec<f64> = (0..1u64 << n)
        .map(|code| {
            Domain::Spin.decode(code, &mut s);
            -beta * energy(&s)
        })
        .collect();
    let m = log_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + log_w.iter().map(|l| (l - m).exp()).sum::<f64>().ln()
}

// ---------------------------------------------------------------------------
// Strategies

/// Lattice shape: 1–3 axes, periodic sides 2..=5 (odd ones included), open
/// sides 1..=5, at most ~40 sites.
fn lattice_shape() -> impl Strategy<Value = (Vec<usize>, bool)> {
    (1..=3usize, any::<bool>()).prop_flat_map(|(d, periodic)| {
        let lo: usize = if periodic { 2 } else { 1 };
        let hi = match d {
            1 => 12usize,
            2 => 6,
            _ => 3,
        };
        (proptest::collection::vec(lo..=hi, d), Just(periodic))
    })
}

/// A lattice model: uniform, ±J glass, Gaussian glass, or with random fields.
fn lattice_model() -> impl Strategy<Value = Ising> {
    (lattice_shape(), -2.0..2.0f64, -2.0..2.0f64, 0..4u8, any::<u64>()).prop_map(
        |((dims, periodic), j, h, kind, seed)| {
            let m = Ising::lattice(&dims, periodic, j, h).unwrap();
            match kind {
                0 => m,
                1 => m.with_random_couplings(Disorder::PlusMinus(j), Seed(seed)).unwrap(),
                2 => m
                    .with_random_couplings(Disorder::Gaussian { mean: 0.1, std: 1.5 }, Seed(seed))
                    .unwrap(),
                _ => m
                    .with_random_fields(Disorder::Gaussian { mean: 0.0, std: 1.0 }, Seed(seed))
                    .unwrap(),
            }
        },
    )
}

/// A random graph on 1..=9 sites: edge list `(i, j, J)` (random orientation)
/// and fields.
#[allow(clippy::type_complexity)]
fn graph_spec() -> impl Strategy<Value = (usize, Vec<(usize, usize, f64)>, Vec<f64>)> {
    (1..=9usize).prop_flat_map(|n| {
        let pairs = n * (n - 1) / 2;
        (
            Just(n),
            proptest::collection::vec(
                (any::<bool>(), any::<bool>(), -3.0..3.0f64)
                    .prop_map(|(on, flip, j)| if on { Some((flip, j)) } else { None }),
                pairs,
            ),
            proptest::collection::vec(-3.0..3.0f64, n),
        )
            .prop_map(|(n, mask, fields)| {
                let mut edges = Vec::new();
                let mut k = 0;
                for a in 0..n {
                    for b in a + 1..n {
                        if let Some((flip, j)) = mask[k] {
                            edges.push(if flip { (b, a, j) } else { (a, b, j) });
                        }
                        k += 1;
                    }
                }
                (n, edges, fields)
            })
    })
}

fn any_model() -> impl Strategy<Value = Ising> {
    prop_oneof![
        lattice_model(),
        graph_spec().prop_map(|(n, e, f)| Ising::from_edges(n, &e, &f).unwrap()),
    ]
}

fn with_state(m: impl Strategy<Value = Ising>) -> impl Strategy<Value = (Ising, Vec<i8>)> {
    m.prop_flat_map(|m| {
        let n = m.n_units();
        (Just(m), strategies::state(n, Domain::Spin))
    })
}

// ---------------------------------------------------------------------------
// Conformance under proptest

/// `observables` against the separate methods, bit for bit.
fn check_observables(m: &Ising, s: &[i8]) -> Result<(), TestCaseError> {
    let o = m.observables(s);
    prop_assert_eq!(o.energy.to_bits(), m.energy(s).to_bits(), "energy");
    prop_assert_eq!(o.magnetization.to_bits(), m.magnetization(s).to_bits(), "magnetization");
    let mode = m.lattice_shape().map_or(0.0, |l| l.lowest_mode_i8(s, 0.0));
    prop_assert_eq!(o.lowest_mode.to_bits(), mode.to_bits(), "lowest mode");
    Ok(())
}

/// Large enough for the parallel integer sums and the wide kernels: a 256²
/// torus (h = 0 and h ≠ 0) and a 40³ cube, random spins.
#[test]
fn observables_agree_with_the_separate_methods_on_large_lattices() {
    let mut z = 0x9E37_79B9_7F4A_7C15u64;
    let mut spins = |n: usize| -> Vec<i8> {
        (0..n)
            .map(|_| {
                z ^= z << 13;
                z ^= z >> 7;
                z ^= z << 17;
                if z & 3 == 0 { -1 } else { 1 }
            })
            .collect()
    };
    for (dims, h) in [(vec![256, 256], 0.0), (vec![256, 256], 0.3), (vec![40, 40, 40], -0.7)] {
        let m = Ising::lattice(&dims, true, 1.0, h).unwrap();
        let s = spins(m.n_units());
        check_observables(&m, &s).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn observables_agree_with_the_separate_methods(
        (m, s) in with_state(prop_oneof![
            any_model(),
            (lattice_shape(), -2.0..2.0f64)
                .prop_map(|((dims, periodic), j)| Ising::lattice(&dims, periodic, j, 0.0).unwrap()),
        ])
    ) {
        check_observables(&m, &s)?;
    }

    #[test]
    fn conformance_kit_passes((mut m, s) in with_state(any_model())) {
        check_flip_deltas(&m, &s, TOL).map_err(|v| TestCaseError::fail(v.to_string()))?;
        check_blocks(&m, &s, TOL).map_err(|v| TestCaseError::fail(v.to_string()))?;
        check_log_linear(&mut m, &s, TOL).map_err(|v| TestCaseError::fail(v.to_string()))?;
    }

    #[test]
    fn lattice_energy_and_bond_order_match_reference(
        ((dims, periodic), s_seed, j, h) in (lattice_shape(), any::<u64>(), -2.0..2.0f64, -2.0..2.0f64)
    ) {
        let m = Ising::lattice(&dims, periodic, j, h).unwrap();
        let n: usize = dims.iter().product();
        prop_assert_eq!(m.n_units(), n);
        let bonds = reference_bonds(&dims, periodic);
        let got: Vec<(usize, usize)> = m.edges().map(|(a, b, _)| (a, b)).collect();
        prop_assert_eq!(&got, &bonds);
        prop_assert_eq!(m.lattice_shape().unwrap().n_bonds(), bonds.len());
        prop_assert_eq!(m.lattice_dims(), Some(dims.as_slice()));
        let s: Vec<i8> = (0..n).map(|i| if (s_seed >> (i % 64)) & 1 == 1 { 1 } else { -1 }).collect();
        let e = reference_energy(&dims, periodic, j, h, &s);
        prop_assert!(close_rel(m.energy(&s), e, TOL), "{} vs {}", m.energy(&s), e);
        // the blocks of a bipartite lattice are the two checkerboard colours
        let bipartite = !periodic || dims.iter().all(|l| l % 2 == 0);
        prop_assert_eq!(m.lattice_shape().unwrap().is_bipartite(), bipartite);
        if bipartite && n > 1 {
            prop_assert_eq!(m.blocks().n_blocks(), 2);
        }
        if !bipartite {
            // an odd cycle needs at least three colours
            prop_assert!(m.blocks().n_blocks() >= 3);
        }
    }

    /// The graph model's energy equals the dense reference model's, and so
    /// does its exact ln Z.
    #[test]
    fn graph_matches_dense_reference(
        ((n, edges, fields), code, b) in (graph_spec(), any::<u64>(), 0.05..1.5f64)
    ) {
        let m = Ising::from_edges(n, &edges, &fields).unwrap();
        let mut upper = vec![0.0; n * (n - 1) / 2];
        let idx = |a: usize, b: usize| {
            let (a, b) = (a.min(b), a.max(b));
            a * n - a * (a + 1) / 2 + (b - a - 1)
        };
        for &(a, b, j) in &edges {
            upper[idx(a, b)] = j;
        }
        let dense = Dense::from_upper(Domain::Spin, &upper, fields.clone()).unwrap();
        let mut s = vec![0i8; n];
        Domain::Spin.decode(code, &mut s);
        prop_assert!(close_rel(m.energy(&s), dense.energy(&s), TOL));
        let (z1, z2) = (exact(&m, beta(b)).unwrap().log_z, exact(&dense, beta(b)).unwrap().log_z);
        prop_assert!(close_rel(z1, z2, 1e-12), "{z1} vs {z2}");
        // parameter layout: couplings in edge order, then fields
        let e = edges.len();
        prop_assert_eq!(m.n_params(), e + n);
        for (k, &(a, b, j)) in edges.iter().enumerate() {
            prop_assert_eq!(m.edge(k), (a, b));
            prop_assert_eq!(m.params()[k], j);
            prop_assert_eq!(m.coupling(k), j);
        }
        prop_assert_eq!(&m.params()[e..], fields.as_slice());
        // φ(s) = [s_a s_b per edge, s_i per site]
        let mut phi = vec![0.0; e + n];
        m.add_statistics(&s, 1.0, &mut phi);
        for (k, &(a, b, _)) in edges.iter().enumerate() {
            prop_assert_eq!(phi[k], f64::from(s[a] * s[b]));
        }
        for i in 0..n {
            prop_assert_eq!(phi[e + i], f64::from(s[i]));
        }
    }

    /// The two-parameter view: conformance, E = −(J·bond sum + h·total spin),
    /// and set_params reaches the underlying couplings.
    #[test]
    fn uniform_view_conforms(
        (((dims, periodic), j, h), code, j2, h2) in
            ((lattice_shape(), -2.0..2.0f64, -2.0..2.0f64), any::<u64>(), -2.0..2.0f64, -2.0..2.0f64)
    ) {
        let mut m = UniformIsing::new(Ising::lattice(&dims, periodic, j, h).unwrap()).unwrap();
        let n = m.n_units();
        let s: Vec<i8> = (0..n).map(|i| if (code >> (i % 64)) & 1 == 1 { 1 } else { -1 }).collect();
        // without bonds (a single open site) J is reported as 0
        let j0 = if m.model().n_edges() == 0 { 0.0 } else { j };
        prop_assert_eq!(m.params(), &[j0, h][..]);
        let mut phi = [0.0; 2];
        m.add_statistics(&s, 1.0, &mut phi);
        let bonds: i64 = reference_bonds(&dims, periodic).iter().map(|&(a, b)| i64::from(s[a] * s[b])).sum();
        prop_assert_eq!(phi, [bonds as f64, s.iter().map(|&x| f64::from(x)).sum::<f64>()]);
        check_flip_deltas(&m, &s, TOL).map_err(|v| TestCaseError::fail(v.to_string()))?;
        check_blocks(&m, &s, TOL).map_err(|v| TestCaseError::fail(v.to_string()))?;
        check_log_linear(&mut m, &s, TOL).map_err(|v| TestCaseError::fail(v.to_string()))?;
        m.set_params(&[j2, h2]).unwrap();
        prop_assert_eq!(m.model().uniform_couplings(), Some((if m.model().n_edges() == 0 { 0.0 } else { j2 }, h2)));
        let e = reference_energy(&dims, periodic, j2, h2, &s);
        prop_assert!(close_rel(m.energy(&s), e, TOL));
        check_flip_deltas(&m, &s, TOL).map_err(|v| TestCaseError::fail(v.to_string()))?;
        check_log_linear(&mut m, &s, TOL).map_err(|v| TestCaseError::fail(v.to_string()))?;
    }

    /// local_field, neighbour_sum and flip_delta agree; set_params refreshes
    /// the adjacency couplings and the uniformity flag.
    #[test]
    fn set_params_refreshes_local_fields(
        ((mut m, s), theta_seed) in (with_state(any_model()), any::<u64>())
    ) {
        let n = m.n_units();
        for i in 0..n {
            let lf = m.local_field(&s, i);
            prop_assert!(close_rel(m.flip_delta(&s, i), 2.0 * f64::from(s[i]) * lf, TOL));
            if let Some((j, h)) = m.uniform_couplings() {
                prop_assert!(close_rel(lf, j * f64::from(m.neighbour_sum(&s, i)) + h, TOL));
            }
        }
        let mut rng = Seed(theta_seed).stream(ebm_core::Purpose::custom(99), 0);
        let theta: Vec<f64> = (0..m.n_params()).map(|_| 4.0 * ebm_core::uniform(&mut rng) - 2.0).collect();
        m.set_params(&theta).unwrap();
        prop_assert_eq!(m.params(), theta.as_slice());
        check_flip_deltas(&m, &s, TOL).map_err(|v| TestCaseError::fail(v.to_string()))?;
        check_blocks(&m, &s, TOL).map_err(|v| TestCaseError::fail(v.to_string()))?;
        // local fields recomputed from θ by hand
        let e = m.n_edges();
        for i in 0..n {
            let mut f = theta[e + i];
            for (k, (a, b, _)) in m.edges().enumerate() {
                if a == i { f += theta[k] * f64::from(s[b]); }
                if b == i { f += theta[k] * f64::from(s[a]); }
            }
            prop_assert!(close_rel(m.local_field(&s, i), f, TOL));
        }
        // back to uniform parameters: the uniform fast path is taken again
        let mut uni = vec![0.75; e];
        uni.resize(e + n, -0.25);
        m.set_params(&uni).unwrap();
        prop_assert_eq!(m.uniform_couplings(), Some((if e == 0 { 0.0 } else { 0.75 }, -0.25)));
        check_flip_deltas(&m, &s, TOL).map_err(|v| TestCaseError::fail(v.to_string()))?;
    }
}

// ---------------------------------------------------------------------------
// Closed forms

/// ln((2 cosh βJ)^N + (2 sinh βJ)^N) for even or odd N, stably.
fn ring_log_z(n: usize, beta: f64, j: f64) -> f64 {
    let a = 2.0 * (beta * j).cosh();
    let t = (beta * j).tanh();
    n as f64 * a.ln() + (t.powi(n as i32)).ln_1p()
}

#[test]
fn periodic_chain_matches_transfer_matrix() {
    for j in [1.0, -1.0] {
        for b in [0.1, 0.3, 0.5, 1.0, 2.0] {
            for n in [3, 10] {
                let m = Ising::chain(n, Boundary::Periodic, j, 0.0).unwrap();
                let z = exact(&m, beta(b)).unwrap().log_z;
                let want = ring_log_z(n, b, j);
                assert!(close_rel(z, want, 1e-12), "N={n} β={b} J={j}: {z} vs {want}");
            }
        }
    }
}

#[test]
fn periodic_chain_in_a_field_matches_transfer_matrix() {
    // λ± = e^{βJ} cosh βh ± sqrt(e^{2βJ} sinh² βh + e^{−2βJ}); Z = λ+^N + λ−^N
    for (j, h) in [(1.0, 0.3), (-0.7, 1.1), (0.5, -2.0)] {
        for b in [0.2, 0.8, 1.5] {
            let n = 10;
            let m = Ising::chain(n, true, j, h).unwrap();
            let z = exact(&m, beta(b)).unwrap().log_z;
            let (bj, bh) = (b * j, b * h);
            let root = ((2.0 * bj).exp() * bh.sinh().powi(2) + (-2.0 * bj).exp()).sqrt();
            let lp = bj.exp() * bh.cosh() + root;
            let lm = bj.exp() * bh.cosh() - root;
            let want = n as f64 * lp.ln() + (lm / lp).powi(n as i32).ln_1p();
            assert!(close_rel(z, want, 1e-12), "J={j} h={h} β={b}: {z} vs {want}");
        }
    }
}

#[test]
fn open_chain_and_side_two_ring() {
    for b in [0.1, 0.7, 1.9] {
        // open chain: Z = 2 (2 cosh βJ)^{N−1}
        let m = Ising::chain(10, Boundary::Open, -1.3, 0.0).unwrap();
        let want = 2f64.ln() + 9.0 * (2.0 * (b * 1.3f64).cosh()).ln();
        assert!(close_rel(exact(&m, beta(b)).unwrap().log_z, want, 1e-12));
        // periodic side 2: two distinct bonds between the same pair (coupling 2J),
        // Z = 4 cosh 2βJ, which is also the ring formula at N = 2
        let m = Ising::chain(2, Boundary::Periodic, 0.9, 0.0).unwrap();
        assert_eq!(m.n_edges(), 2);
        assert_eq!(m.neighbours(0), &[1, 1]);
        let want = (4.0 * (2.0 * b * 0.9f64).cosh()).ln();
        let z = exact(&m, beta(b)).unwrap().log_z;
        assert!(close_rel(z, want, 1e-12) && close_rel(z, ring_log_z(2, b, 0.9), 1e-12));
    }
}

#[test]
fn periodic_3d_log_z_matches_brute_force() {
    for dims in [[2usize, 2, 2], [3, 3, 2]] {
        for (j, h) in [(1.0, 0.0), (-0.6, 0.25)] {
            let m = Ising::lattice(&dims, Boundary::Periodic, j, h).unwrap();
            assert_eq!(m.n_edges(), 3 * m.n_units());
            for b in [0.1, 0.4, 1.0] {
                let z = exact(&m, beta(b)).unwrap().log_z;
                let n = m.n_units();
                let want = brute_log_z(n, b, |s| reference_energy(&dims, true, j, h, s));
                assert!(close_rel(z, want, 1e-12), "{dims:?} J={j} h={h} β={b}: {z} vs {want}");
            }
        }
    }
}

#[test]
fn periodic_2x2_square_has_doubled_bonds() {
    // 8 bonds: each of the 4 nearest-neighbour pairs twice
    let m = Ising::square(2, 2, true, 1.0, 0.0).unwrap();
    assert_eq!(m.n_edges(), 8);
    assert_eq!(m.energy(&[1, 1, 1, 1]), -8.0);
    // s = (+,+,−,−): rows aligned, columns anti-aligned → 4 − 4 = 0
    assert_eq!(m.energy(&[1, 1, -1, -1]), 0.0);
    // checkerboard: every bond anti-aligned
    assert_eq!(m.energy(&[1, -1, -1, 1]), 8.0);
}

// ---------------------------------------------------------------------------
// Bond counting

#[test]
fn all_up_energy_counts_bonds() {
    use Boundary::{Open, Periodic};
    let cases: &[(&[usize], Boundary, usize)] = &[
        (&[1], Open, 0),
        (&[5], Open, 4),
        (&[5], Periodic, 5),
        (&[2], Periodic, 2),
        (&[1, 4], Open, 3),
        (&[3, 4], Open, 17),
        (&[3, 4], Periodic, 24),
        (&[2, 2], Periodic, 8),
        (&[5, 5], Periodic, 50),
        (&[2, 3, 4], Open, 46),
        (&[2, 3, 4], Periodic, 72),
        (&[2, 2, 2], Periodic, 24),
        (&[3, 3, 3], Open, 54),
        (&[1, 1, 1], Open, 0),
    ];
    let (j, h) = (0.7, -0.3);
    for &(dims, boundary, bonds) in cases {
        let m = Ising::lattice(dims, boundary, j, h).unwrap();
        let n = m.n_units();
        assert_eq!(n, dims.iter().product::<usize>());
        assert_eq!(m.n_edges(), bonds, "{dims:?} {boundary:?}");
        let up = vec![1i8; n];
        let down = vec![-1i8; n];
        let e_up = -j * bonds as f64 - h * n as f64;
        let e_down = -j * bonds as f64 + h * n as f64;
        assert!(close_rel(m.energy(&up), e_up, 1e-14), "{dims:?} {boundary:?}");
        assert!(close_rel(m.energy(&down), e_down, 1e-14), "{dims:?} {boundary:?}");
        assert_eq!(m.nearest_neighbour_correlation(&up), if bonds > 0 { 1.0 } else { 0.0 });
        // the same through the named constructors
        let named = match dims.len() {
            1 => Ising::chain(dims[0], boundary, j, h),
            2 => Ising::square(dims[0], dims[1], boundary, j, h),
            _ => Ising::cubic(dims[0], dims[1], dims[2], boundary, j, h),
        }
        .unwrap();
        assert_eq!(named, m);
    }
}

#[test]
fn site_numbering_and_neighbours() {
    let l = Lattice::new(&[2, 3, 4], Boundary::Open).unwrap();
    assert_eq!(l.site(&[1, 2, 3]), Some(23));
    assert_eq!(l.coords(23), Some([1, 2, 3]));
    assert_eq!(l.site(&[2, 0, 0]), None);
    assert_eq!(l.site(&[0, 0]), None);
    assert_eq!(l.coords(24), None);
    for i in 0..24 {
        let c = l.coords(i).unwrap();
        assert_eq!(l.site(&c), Some(i));
    }
    let m = Ising::square(4, 4, true, 1.0, 0.0).unwrap();
    let mut nb: Vec<u32> = m.neighbours(0).to_vec();
    nb.sort_unstable();
    assert_eq!(nb, vec![1, 3, 4, 12]);
    assert_eq!(m.max_degree(), 4);
    let m = Ising::square(3, 3, false, 1.0, 0.0).unwrap();
    assert_eq!((m.degree(0), m.degree(1), m.degree(4)), (2, 3, 4));
    assert_eq!(m.boundary(), Some(Boundary::Open));
}

#[test]
fn blocks_of_graphs_are_greedy_colourings() {
    // star: 2 colours; complete graph K5: 5; odd cycle: 3
    let star: Vec<_> = (1..6).map(|k| (0, k, 1.0)).collect();
    assert_eq!(Ising::from_edges(6, &star, &[0.0; 6]).unwrap().blocks().n_blocks(), 2);
    let mut k5 = Vec::new();
    for a in 0..5 {
        for b in a + 1..5 {
            k5.push((a, b, -0.5));
        }
    }
    assert_eq!(Ising::from_edges(5, &k5, &[0.0; 5]).unwrap().blocks().n_blocks(), 5);
    let c5: Vec<_> = (0..5).map(|k| (k, (k + 1) % 5, 1.0)).collect();
    assert_eq!(Ising::from_edges(5, &c5, &[0.0; 5]).unwrap().blocks().n_blocks(), 3);
    assert_eq!(Ising::from_edges(3, &[], &[0.0; 3]).unwrap().blocks().n_blocks(), 1);
    // odd periodic lattices fall back to a valid colouring
    for dims in [&[3usize][..], &[5], &[3, 3], &[3, 4], &[3, 3, 3], &[2, 5, 2]] {
        let m = Ising::lattice(dims, true, 1.0, 0.0).unwrap();
        let s: Vec<i8> = (0..m.n_units()).map(|i| if i % 3 == 0 { 1 } else { -1 }).collect();
        check_blocks(&m, &s, TOL).unwrap();
        assert!(m.blocks().n_blocks() >= 3, "{dims:?}");
    }
}

// ---------------------------------------------------------------------------
// Observables

#[test]
fn observables() {
    let m = Ising::square(4, 4, true, 1.0, 0.5).unwrap();
    let up = vec![1i8; 16];
    assert_eq!(m.magnetization(&up), 1.0);
    assert_eq!(m.abs_magnetization(&up), 1.0);
    assert_eq!(m.energy_per_spin(&up), (-32.0 - 8.0) / 16.0);
    let mut one = up.clone();
    one[5] = -1;
    assert_eq!(m.magnetization(&one), 14.0 / 16.0);
    assert_eq!(m.nearest_neighbour_correlation(&one), (32.0 - 8.0) / 32.0);
    let down: Vec<i8> = up.iter().map(|&x| -x).collect();
    assert_eq!(m.magnetization(&down), -1.0);
    assert_eq!(m.abs_magnetization(&down), 1.0);
    let board: Vec<i8> = (0..16).map(|i| if (i / 4 + i % 4) % 2 == 0 { 1 } else { -1 }).collect();
    assert_eq!(m.magnetization(&board), 0.0);
    assert_eq!(m.nearest_neighbour_correlation(&board), -1.0);
    assert_eq!(m.energy_per_spin(&board), 32.0 / 16.0);
}

// ---------------------------------------------------------------------------
// Disorder

#[test]
fn spin_glasses_are_seeded_and_distributed_as_asked() {
    let dims = [10, 10, 10];
    let a = Ising::spin_glass_pm(&dims, true, 1.5, Seed(3)).unwrap();
    assert_eq!(a, Ising::spin_glass_pm(&dims, true, 1.5, Seed(3)).unwrap());
    assert_ne!(a, Ising::spin_glass_pm(&dims, true, 1.5, Seed(4)).unwrap());
    assert_eq!(a.n_edges(), 3000);
    assert!(a.couplings().iter().all(|&j| j == 1.5 || j == -1.5));
    let plus = a.couplings().iter().filter(|&&j| j > 0.0).count() as f64;
    // binomial(3000, 1/2): σ ≈ 27.4; 5σ
    assert!((plus - 1500.0).abs() < 137.0, "{plus}");
    assert!(a.fields().iter().all(|&h| h == 0.0));
    assert_eq!(a.uniform_couplings(), None);
    assert_eq!(a.blocks().n_blocks(), 2);
    assert_eq!(a.lattice_dims(), Some(&dims[..]));

    let g = Ising::spin_glass_gaussian(&dims, true, 2.0, Seed(3)).unwrap();
    let n = g.n_edges() as f64;
    let mean = g.couplings().iter().sum::<f64>() / n;
    let var = g.couplings().iter().map(|j| (j - mean).powi(2)).sum::<f64>() / (n - 1.0);
    // σ(mean) = 2/√3000 ≈ 0.0365; σ(var)/var ≈ √(2/3000) ≈ 0.026; 5σ
    assert!(mean.abs() < 0.183, "{mean}");
    assert!((var / 4.0 - 1.0).abs() < 0.13, "{var}");
    // fourth moment of a Gaussian: 3σ⁴ (distinguishes it from ±J or uniform)
    let m4 = g.couplings().iter().map(|j| j.powi(4)).sum::<f64>() / n / 16.0;
    assert!((m4 - 3.0).abs() < 0.6, "{m4}");

    // random fields use their own stream: same seed, not the coupling values
    let rf = Ising::square(20, 20, true, 1.0, 0.0)
        .unwrap()
        .with_random_fields(Disorder::Gaussian { mean: 0.5, std: 0.1 }, Seed(3))
        .unwrap();
    assert!(rf.couplings().iter().all(|&j| j == 1.0));
    let hm = rf.fields().iter().sum::<f64>() / 400.0;
    assert!((hm - 0.5).abs() < 0.025, "{hm}");
    assert_eq!(rf.uniform_couplings(), None);
    let with = Ising::chain(3, false, 1.0, 0.0).unwrap().with_fields(&[0.1, 0.2, 0.3]).unwrap();
    assert_eq!(with.fields(), &[0.1, 0.2, 0.3]);
    assert_eq!(with.field(2), 0.3);
}

// ---------------------------------------------------------------------------
// Bad input

#[test]
fn bad_input_returns_typed_errors() {
    use Boundary::{Open, Periodic};
    let invalid = |r: Result<Ising, Error>, want: &str| match r {
        Err(Error::InvalidParameter { name, .. }) => assert_eq!(name, want),
        other => panic!("expected InvalidParameter {want}, got {other:?}"),
    };
    invalid(Ising::chain(0, Open, 1.0, 0.0), "lattice side");
    invalid(Ising::square(3, 0, Periodic, 1.0, 0.0), "lattice side");
    invalid(Ising::cubic(2, 2, 0, Open, 1.0, 0.0), "lattice side");
    invalid(Ising::lattice(&[], Open, 1.0, 0.0), "lattice dimension");
    invalid(Ising::lattice(&[2, 2, 2, 2], Open, 1.0, 0.0), "lattice dimension");
    invalid(Ising::chain(1, Periodic, 1.0, 0.0), "periodic lattice side");
    invalid(Ising::square(4, 1, Periodic, 1.0, 0.0), "periodic lattice side");
    invalid(Ising::chain(4, Open, f64::NAN, 0.0), "coupling J");
    invalid(Ising::chain(4, Open, 1.0, f64::INFINITY), "field h");
    invalid(Ising::from_edges(0, &[], &[]), "number of spins");
    invalid(
        Ising::spin_glass_gaussian(&[3, 3], Open, -1.0, Seed(0)),
        "Gaussian standard deviation",
    );
    invalid(Ising::spin_glass_pm(&[3, 3], Open, f64::NAN, Seed(0)), "±J coupling");
    assert!(matches!(
        Ising::lattice(&[1 << 20, 1 << 20], Open, 1.0, 0.0),
        Err(Error::TooManyUnits { .. })
    ));

    let seq = |r: Result<Ising, Error>, needle: &str| match r {
        Err(Error::InvalidSequence { what: "edges", reason }) => {
            assert!(reason.contains(needle), "{reason}")
        }
        other => panic!("expected InvalidSequence ({needle}), got {other:?}"),
    };
    let f3 = [0.0; 3];
    seq(Ising::from_edges(3, &[(0, 1, 1.0), (2, 2, 1.0)], &f3), "self-loop");
    seq(Ising::from_edges(3, &[(0, 1, 1.0), (1, 2, 1.0), (1, 0, 2.0)], &f3), "edges 0 and 2");
    seq(Ising::from_edges(3, &[(0, 2, 1.0), (0, 2, 1.0)], &f3), "both join");
    seq(Ising::from_edges(3, &[(0, 3, 1.0)], &f3), "≥ 3");
    assert_eq!(
        Ising::from_edges(3, &[(0, 1, 1.0)], &[0.0; 2]),
        Err(Error::ShapeMismatch { what: "fields", expected: 3, found: 2 })
    );
    assert_eq!(
        Ising::from_edges(3, &[(0, 1, 1.0), (1, 2, f64::NAN)], &f3),
        Err(Error::NonFinite { what: "couplings", index: 1 })
    );
    assert_eq!(
        Ising::from_edges(3, &[(0, 1, 1.0)], &[0.0, 0.0, f64::NEG_INFINITY]),
        Err(Error::NonFinite { what: "fields", index: 2 })
    );
    assert_eq!(
        Ising::chain(3, Open, 1.0, 0.0).unwrap().with_fields(&[0.0; 4]),
        Err(Error::ShapeMismatch { what: "fields", expected: 3, found: 4 })
    );

    // the uniform view needs uniform couplings and fields
    let glass = Ising::spin_glass_pm(&[3, 3], true, 1.0, Seed(0)).unwrap();
    assert!(matches!(
        UniformIsing::new(glass),
        Err(Error::InvalidParameter { name: "coupling spread", value: 2.0, .. })
    ));
    let rf = Ising::chain(3, true, 1.0, 0.0).unwrap().with_fields(&[0.0, 0.5, 0.0]).unwrap();
    assert!(matches!(
        UniformIsing::new(rf),
        Err(Error::InvalidParameter { name: "field spread", value: 0.5, .. })
    ));

    // set_params: wrong length or non-finite leaves the model unchanged
    let mut m = Ising::square(3, 3, true, 1.0, 0.2).unwrap();
    let before = m.clone();
    assert_eq!(
        m.set_params(&[0.0; 5]),
        Err(Error::ShapeMismatch { what: "Ising parameters", expected: 27, found: 5 })
    );
    let mut theta = m.params().to_vec();
    theta[20] = f64::NAN;
    assert_eq!(m.set_params(&theta), Err(Error::NonFinite { what: "Ising parameters", index: 20 }));
    assert_eq!(m, before);
}

// ---------------------------------------------------------------------------
// Kaufman's closed form for the finite periodic square lattice

#[test]
fn periodic_square_matches_kaufman() {
    use ebm_thermo::kaufman::{kaufman_log_z, kaufman_mean_energy};
    // (2, c): the side-2 convention (doubled bonds) agrees with Kaufman's
    let sizes = [(3, 3), (4, 4), (4, 5), (5, 4), (2, 2), (2, 5), (3, 2)];
    for (rows, cols) in sizes {
        for j in [1.0, 0.5, -1.0] {
            if j < 0.0 && (rows % 2 == 1 || cols % 2 == 1) {
                continue; // Kaufman's form covers the unfrustrated antiferromagnet only
            }
            let m = Ising::square(rows, cols, Boundary::Periodic, j, 0.0).unwrap();
            for b in [0.1, 0.3, 0.4406868, 0.8] {
                let t = exact(&m, beta(b)).unwrap();
                let (lz, u) =
                    (kaufman_log_z(rows, cols, j, b), kaufman_mean_energy(rows, cols, j, b));
                let what = format!("{rows}×{cols} J={j} β={b}");
                assert!((t.log_z - lz).abs() <= 1e-10 * lz.abs(), "{what}: {} vs {lz}", t.log_z);
                assert!(close_rel(t.mean_energy, u, 1e-9), "{what}: U {} vs {u}", t.mean_energy);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The structure factor at k_min against a direct sum over sites written from
// the coordinates: S = mean over the axes a with L_a = L_0 of
// |Σ_x (v_x − centre) e^{i k_min x_a}|² / N.

fn mode_reference(l: &Lattice, v: &[f64]) -> f64 {
    let dims = l.dims();
    let k = std::f64::consts::TAU / dims[0] as f64;
    let (mut total, mut axes) = (0.0, 0);
    for a in 0..dims.len() {
        if dims[a] != dims[0] {
            continue;
        }
        let (mut re, mut im) = (0.0, 0.0);
        for (i, &x) in v.iter().enumerate() {
            let c = l.coords(i).unwrap()[a] as f64;
            re += x * (k * c).cos();
            im += x * (k * c).sin();
        }
        total += (re * re + im * im) / v.len() as f64;
        axes += 1;
    }
    total / f64::from(axes)
}

/// The i8 plane sums at the ends of the range, on lattices with rows and
/// columns longer than the 256 values the sums take in 16 bits at a time.
#[test]
fn lowest_mode_of_extreme_i8_fields() {
    for dims in [vec![300, 300], vec![600, 600], vec![40, 40, 40], vec![70_000]] {
        let l = Lattice::new(&dims, Boundary::Periodic).unwrap();
        // same-sign pairs: a 16-bit sum over more than 256 rows would overflow
        for (lo, hi) in [(-128i8, -90i8), (127, 90), (-128, 127)] {
            // hi in the low half along any axis: the plane sums vary along every axis
            let v: Vec<i8> = (0..l.n_sites())
                .map(|i| {
                    let low = l.coords(i).unwrap().iter().zip(&dims).any(|(&c, &d)| 2 * c < d);
                    if low { hi } else { lo }
                })
                .collect();
            let field: Vec<f64> = v.iter().map(|&x| f64::from(x)).collect();
            let (fast, real) = (l.lowest_mode_i8(&v, 0.0), l.lowest_mode(&field));
            assert!(close_rel(fast, real, 1e-9), "{fast} vs {real} on {dims:?}");
        }
    }
}

proptest! {
    #[test]
    fn lowest_mode_is_the_structure_factor_at_k_min(
        dims in prop::collection::vec(1usize..7, 1..4),
        seed in any::<u64>(),
        centre in prop::sample::select(vec![0.0, 1.0 / 3.0, 0.5]),
    ) {
        let l = Lattice::new(&dims, Boundary::Open).unwrap();
        let n = l.n_sites();
        let mut z = seed | 1;
        let spins: Vec<i8> = (0..n)
            .map(|_| {
                z ^= z << 13;
                z ^= z >> 7;
                z ^= z << 17;
                if centre == 0.0 { if z & 1 == 0 { -1 } else { 1 } } else { (z & 1) as i8 }
            })
            .collect();
        let field: Vec<f64> = spins.iter().map(|&s| f64::from(s) - centre).collect();
        let want = mode_reference(&l, &field);
        let fast = l.lowest_mode_i8(&spins, centre);
        let real = l.lowest_mode(&field);
        prop_assert!(close_rel(fast, want, 1e-9), "i8 {fast} vs {want} on {dims:?}");
        prop_assert!(close_rel(real, want, 1e-9), "f64 {real} vs {want} on {dims:?}");
    }
}
