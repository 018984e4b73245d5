//! Exact thermodynamics of q-state models, checked against independent
//! computations: q = 2 Potts against Kaufman's Ising torus, q = 3 and 4
//! against a row transfer matrix written here, mixed alphabets against brute
//! force over codes (no Gray code, no local energies).

use ebm_core::{Beta, Categories, EnergyModel, Error, FiniteSpace, Seed};
use ebm_models::lattice::Boundary;
use ebm_models::potts::Potts;
use ebm_testkit::toy::DenseCategorical;
use ebm_thermo::kaufman::kaufman_log_z;
use ebm_thermo::{exact, exact_distribution};

#[test]
fn q2_potts_is_ising_at_half_the_coupling_on_several_tori() {
    // E_Potts = −J Σ δ = −J N_b / 2 − (J/2) Σ s s, so
    // ln Z_Potts(β) = β J N_b / 2 + ln Z_Ising(β/2) with Ising coupling J
    for (rows, cols) in [(3, 3), (4, 4), (4, 5), (3, 6), (4, 6)] {
        let m = Potts::lattice(2, &[rows, cols], Boundary::Periodic, 1.0, 0.0).unwrap();
        let n_bonds = m.n_edges() as f64;
        assert_eq!(n_bonds, 2.0 * (rows * cols) as f64);
        for beta in [0.1, 0.5, 0.881_373_587, 1.5] {
            let got = exact(&m, Beta::new(beta).unwrap()).unwrap().log_z;
            let want = beta * n_bonds / 2.0 + kaufman_log_z(rows, cols, 1.0, beta / 2.0);
            assert!(
                (got - want).abs() <= 1e-11 * want.abs(),
                "{rows}×{cols} β={beta}: {got} vs {want}"
            );
        }
    }
}

/// ln Z of q-state Potts on an `rows × cols` lattice (`cols` periodic or
/// open, `rows` periodic or open) with uniform J and field h on value 0, by a
/// row transfer matrix: T[a][b] = e^{−β(E_row(a) + E_vertical(a, b))}.
fn transfer_matrix_log_z(
    q: usize,
    rows: usize,
    cols: usize,
    periodic: bool,
    j: f64,
    h: f64,
    beta: f64,
) -> f64 {
    let n_rows_states = q.pow(cols as u32);
    let digits = |mut a: usize| -> Vec<usize> {
        (0..cols)
            .map(|_| {
                let d = a % q;
                a /= q;
                d
            })
            .collect()
    };
    let rows_digits: Vec<Vec<usize>> = (0..n_rows_states).map(digits).collect();
    let row_energy = |r: &[usize]| -> f64 {
        let mut e = 0.0;
        let bonds = if periodic { cols } else { cols - 1 };
        for y in 0..bonds {
            if r[y] == r[(y + 1) % cols] {
                e -= j;
            }
        }
        e - h * r.iter().filter(|&&v| v == 0).count() as f64
    };
    let vertical = |a: &[usize], b: &[usize]| -> f64 {
        -j * a.iter().zip(b).filter(|(x, y)| x == y).count() as f64
    };
    let w: Vec<f64> = rows_digits.iter().map(|r| (-beta * row_energy(r)).exp()).collect();
    let t: Vec<Vec<f64>> = (0..n_rows_states)
        .map(|a| {
            (0..n_rows_states)
                .map(|b| w[a] * (-beta * vertical(&rows_digits[a], &rows_digits[b])).exp())
                .collect()
        })
        .collect();
    let mul = |m: &[Vec<f64>], v: &[f64]| -> Vec<f64> {
        m.iter().map(|row| row.iter().zip(v).map(|(a, b)| a * b).sum()).collect()
    };
    if periodic {
        // tr(T^rows): sum over starting row states of (T^rows e_a)_a
        (0..n_rows_states)
            .map(|a| {
                let mut v = vec![0.0; n_rows_states];
                v[a] = 1.0;
                for _ in 0..rows {
                    v = mul(&t, &v);
                }
                v[a]
            })
            .sum::<f64>()
            .ln()
    } else {
        // Σ_{a_1..a_rows} Π_k T[a_k][a_{k+1}] · w[a_rows]
        let mut v = w.clone();
        for _ in 1..rows {
            v = mul(&t, &v);
        }
        v.iter().sum::<f64>().ln()
    }
}

#[test]
fn q3_and_q4_enumeration_equal_a_row_transfer_matrix() {
    let cases = [
        // (q, rows, cols, periodic, J, h)
        (3, 3, 3, true, 1.0, 0.0),
        (3, 3, 3, true, 1.0, 0.4),
        (3, 4, 3, true, -0.7, 0.2),
        (4, 3, 3, true, 1.0, -0.3),
        (4, 3, 4, true, 0.6, 0.5),
        (3, 3, 4, false, 1.2, 0.3),
        (4, 2, 4, false, -1.0, 0.1),
    ];
    for (q, rows, cols, periodic, j, h) in cases {
        let boundary = if periodic { Boundary::Periodic } else { Boundary::Open };
        let m = Potts::lattice(q, &[rows, cols], boundary, j, h).unwrap();
        for beta in [0.3, 1.0, 2.5] {
            let got = exact(&m, Beta::new(beta).unwrap()).unwrap().log_z;
            let want = transfer_matrix_log_z(q, rows, cols, periodic, j, h, beta);
            assert!(
                (got - want).abs() <= 1e-10 * want.abs().max(1.0),
                "q={q} {rows}×{cols} periodic={periodic} J={j} h={h} β={beta}: {got} vs {want}"
            );
        }
    }
}

/// ln Z, U and p by brute force: every code decoded independently, energies
/// from `energy`, plain sums relative to the minimum.
fn brute_force<M: EnergyModel<Space = Categories>>(m: &M, beta: f64) -> (f64, f64, Vec<f64>) {
    let (n, space) = (m.n_units(), m.space());
    let states = space.n_states(n).unwrap();
    let mut x = vec![0u8; n];
    let energies: Vec<f64> = (0..states)
        .map(|code| {
            space.state_of_code(code, &mut x);
            m.energy(&x)
        })
        .collect();
    let e_min = energies.iter().copied().fold(f64::INFINITY, f64::min);
    let w: Vec<f64> = energies.iter().map(|&e| (-beta * (e - e_min)).exp()).collect();
    let z: f64 = w.iter().sum();
    let u = energies.iter().zip(&w).map(|(e, w)| e * w).sum::<f64>() / z;
    (z.ln() - beta * e_min, u, w.iter().map(|w| w / z).collect())
}

#[test]
fn mixed_alphabet_enumeration_equals_brute_force() {
    let space = Categories::new(vec![2, 3, 4, 3, 5, 2, 3]).unwrap();
    let dense = DenseCategorical::random(space.clone(), 1.0, Seed(31)).unwrap();
    let edges = [
        (0, 1, 0.7),
        (1, 2, -0.5),
        (2, 3, 0.9),
        (3, 4, 0.4),
        (4, 5, -0.8),
        (5, 6, 0.6),
        (6, 0, 0.3),
        (1, 5, 0.5),
    ];
    let n_fields: usize = (0..7).map(|i| space.n_values(i)).sum();
    let fields: Vec<f64> = (0..n_fields).map(|k| ((k * 5 % 7) as f64 - 3.0) / 5.0).collect();
    let potts = Potts::from_edges(space, &edges, &fields).unwrap();
    for beta in [0.2, 1.0, 3.0] {
        let b = Beta::new(beta).unwrap();
        for (name, (t, d, (lz, u, p))) in [
            (
                "dense",
                (
                    exact(&dense, b).unwrap(),
                    exact_distribution(&dense, b).unwrap(),
                    brute_force(&dense, beta),
                ),
            ),
            (
                "potts",
                (
                    exact(&potts, b).unwrap(),
                    exact_distribution(&potts, b).unwrap(),
                    brute_force(&potts, beta),
                ),
            ),
        ] {
            assert_eq!(t.n_states, 2 * 3 * 4 * 3 * 5 * 2 * 3);
            assert!(
                (t.log_z - lz).abs() < 1e-12 * lz.abs().max(1.0),
                "{name} β={beta}: ln Z {} vs {lz}",
                t.log_z
            );
            assert!(
                (t.mean_energy - u).abs() < 1e-11 * u.abs().max(1.0),
                "{name} β={beta}: U {} vs {u}",
                t.mean_energy
            );
            let tv: f64 = d.probs.iter().zip(&p).map(|(a, b)| (a - b).abs()).sum();
            assert!(tv < 1e-12, "{name} β={beta}: distributions differ by {tv}");
        }
    }
}

#[test]
fn the_thermodynamic_identities_hold_for_potts() {
    let m = Potts::lattice(3, &[3, 3], Boundary::Periodic, 1.0, 0.2).unwrap();
    let b = 0.8;
    let t = exact(&m, Beta::new(b).unwrap()).unwrap();
    assert!((t.free_energy - (t.mean_energy - t.entropy / b)).abs() < 1e-12 * t.free_energy.abs());
    // U = −∂ ln Z / ∂β, C = β² ∂²ln Z/∂β², by central differences
    let h = 1e-4;
    let lz = |x: f64| exact(&m, Beta::new(x).unwrap()).unwrap().log_z;
    let u = -(lz(b + h) - lz(b - h)) / (2.0 * h);
    assert!((u - t.mean_energy).abs() < 1e-6 * t.mean_energy.abs(), "{u} vs {}", t.mean_energy);
    let c = b * b * (lz(b + h) - 2.0 * lz(b) + lz(b - h)) / (h * h);
    assert!((c - t.heat_capacity).abs() < 1e-4 * t.heat_capacity, "{c} vs {}", t.heat_capacity);
    // infinite temperature: ln Z = N ln q
    let t0 = exact(&m, Beta::new(1e-12).unwrap()).unwrap();
    assert!((t0.log_z - 9.0 * 3f64.ln()).abs() < 1e-9);
}

#[test]
fn too_many_states_is_a_typed_error() {
    // 3^21 > 2^32
    let m = Potts::lattice(3, &[21], Boundary::Periodic, 1.0, 0.0).unwrap();
    assert!(
        matches!(exact(&m, Beta::ONE), Err(Error::TooManyStates { max, .. }) if max == 1 << 32)
    );
    // 3^16 ≤ 2^32 but > 2^24: exact works, the distribution does not
    let m = Potts::lattice(3, &[16], Boundary::Periodic, 1.0, 0.0).unwrap();
    assert!(matches!(exact_distribution(&m, Beta::ONE), Err(Error::TooManyStates { .. })));
}

// ---------------------------------------------------------------------------
// AIS and TI on q-state models: the base at β = 0 is uniform over the q^N
// states (ln Z₀ = N ln q), and the estimates must cover the exact values.

use ebm_samplers::{Gibbs, Metropolis};
use ebm_thermo::ais::{Ais, Schedule, Ti};

#[test]
fn ais_on_a_q3_potts_lattice_covers_exact_ln_z() {
    // over 40 seeds (model fields and AIS streams drawn anew): ±3σ interval
    // ∋ ln Z at least 38 times (claims 99.7%), ±σ in the binomial 99.9%
    // range of 68.3% over 40: [0.44, 0.92]
    let ais = Ais::new(Schedule::Linear(400), 64).unwrap();
    let beta = Beta::new(1.0).unwrap();
    let (mut in_se, mut in_interval) = (0, 0);
    for s in 0..40u64 {
        let fields: Vec<f64> =
            (0..27).map(|k| 0.5 * (((k as u64 * 7 + s * 13) % 11) as f64 / 10.0 - 0.5)).collect();
        let m = Potts::lattice(3, &[3, 3], Boundary::Periodic, 1.0, 0.0)
            .unwrap()
            .with_fields(&fields)
            .unwrap();
        let want = exact(&m, beta).unwrap().log_z;
        let sampler = if s % 2 == 0 {
            ebm_samplers::AnySampler::Gibbs(Gibbs::block())
        } else {
            ebm_samplers::AnySampler::Metropolis(Metropolis::random_scan())
        };
        let est = ais.log_z(&m, &sampler, beta, Seed(900 + s)).unwrap();
        let z = (est.log_z - want) / est.std_err;
        in_se += u32::from(z.abs() <= 1.0);
        in_interval += u32::from(est.contains(want));
    }
    eprintln!("q=3 Potts AIS: ±se {in_se}/40, interval {in_interval}/40");
    assert!((18..=37).contains(&in_se) && in_interval >= 38, "{in_se} {in_interval}");
}

#[test]
fn ais_at_the_wrong_temperature_is_caught() {
    // negative control: the estimate at β = 1 compared with ln Z(1.1) fails
    let m = Potts::lattice(3, &[3, 3], Boundary::Periodic, 1.0, 0.2).unwrap();
    let est = Ais::new(Schedule::Linear(400), 64)
        .unwrap()
        .log_z(&m, &Gibbs::sequential(), Beta::ONE, Seed(3))
        .unwrap();
    let wrong = exact(&m, Beta::new(1.1).unwrap()).unwrap().log_z;
    let right = exact(&m, Beta::ONE).unwrap().log_z;
    assert!(est.contains(right) && !est.contains(wrong), "{est:?}: {right} vs {wrong}");
}

#[test]
fn ti_on_a_q3_potts_lattice_matches_exact_within_its_error() {
    let m = Potts::lattice(3, &[3, 3], Boundary::Periodic, 1.0, 0.3).unwrap();
    let beta = Beta::new(1.2).unwrap();
    let t = exact(&m, beta).unwrap();
    let ti = Ti { intervals: 32, n_chains: 4, burn_in: 200, n_sweeps: 3000 };
    let est = ti.log_z(&m, &Gibbs::block(), beta, Seed(4)).unwrap();
    eprintln!(
        "q=3 TI: {:.4} ± {:.4} ± {:.4}, exact {:.4}",
        est.log_z, est.std_err, est.quadrature_error, t.log_z
    );
    assert!((est.log_z - t.log_z).abs() < 4.0 * est.total_error());
    assert!(
        (est.nodes[0].mean_energy.mean - {
            // U(0): the uniform average of E = −J·N_b/3 − h·N/3
            -(18.0 / 3.0) - 0.3 * 9.0 / 3.0
        })
        .abs()
            < 4.0 * est.nodes[0].mean_energy.std_err
    );
    let u = est.nodes.last().unwrap().mean_energy;
    assert!((u.mean - t.mean_energy).abs() < 4.0 * u.std_err, "{u:?} vs {}", t.mean_energy);
}

#[test]
fn ti_on_a_nonuniform_grid_from_a_known_start_matches_exact() {
    // from β = 0.5 (ln Z known exactly) to β = 1.5 on a grid denser near the
    // q = 3 transition (β_c ≈ 1.005 in infinite volume), odd node count
    let m = Potts::lattice(3, &[3, 3], Boundary::Periodic, 1.0, 0.1).unwrap();
    let start = exact(&m, Beta::new(0.5).unwrap()).unwrap().log_z;
    let want = exact(&m, Beta::new(1.5).unwrap()).unwrap().log_z;
    let grid: Vec<f64> = (0..=32)
        .map(|k| {
            let t = k as f64 / 32.0;
            0.5 + (t + 0.15 * (std::f64::consts::PI * t).sin()) * 1.0
        })
        .collect();
    let ti = Ti { intervals: 4, n_chains: 4, burn_in: 200, n_sweeps: 3000 };
    let est = ti.log_z_on_grid(&m, &Gibbs::block(), &grid, start, Seed(8)).unwrap();
    eprintln!(
        "grid TI: {:.4} ± {:.4} ± {:.4} (coarse {:.4}), exact {want:.4}",
        est.log_z, est.std_err, est.quadrature_error, est.coarse_log_z
    );
    assert!((est.log_z - want).abs() < 4.0 * est.total_error(), "{} vs {want}", est.log_z);
    assert_eq!(est.nodes.len(), 33);
    // from β = 0 with ln Z₀ = N ln q it is the ordinary integral
    let zero: Vec<f64> = (0..=16).map(|k| 1.2 * k as f64 / 16.0).collect();
    let z0 = 9.0 * 3f64.ln();
    let est0 = ti.log_z_on_grid(&m, &Metropolis::random_scan(), &zero, z0, Seed(9)).unwrap();
    let want0 = exact(&m, Beta::new(1.2).unwrap()).unwrap().log_z;
    assert!((est0.log_z - want0).abs() < 4.0 * est0.total_error(), "{} vs {want0}", est0.log_z);
    // bad grids are typed errors
    for bad in [vec![0.5], vec![0.5, 0.4], vec![-0.1, 0.5], vec![0.2, f64::NAN]] {
        assert!(
            matches!(
                ti.log_z_on_grid(&m, &Gibbs::block(), &bad, start, Seed(1)),
                Err(Error::InvalidSequence { .. })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn ais_from_a_fitted_base_covers_exact_with_far_fewer_steps() {
    use ebm_core::{Domain, EnergyModel, FiniteSpace, Purpose, uniform};
    use ebm_testkit::statistics::draw_code;
    use ebm_thermo::ais::IndependentSites;
    // a q = 3 Potts lattice with strong fields, and a binary spin glass: the
    // independent-site base fitted to exact samples is close to the target,
    // so 40 steps give a tighter estimate than 40 steps from uniform
    let potts = Potts::lattice(3, &[3, 3], Boundary::Periodic, 0.4, 1.2).unwrap();
    let glass = ebm_models::ising::Ising::spin_glass_gaussian(&[3, 4], true, 0.4, Seed(3))
        .unwrap()
        .with_fields(&[0.8; 12])
        .unwrap();
    let b = Beta::ONE;
    fn samples<M: ebm_core::FiniteModel>(m: &M, rows: usize) -> Vec<ebm_core::UnitOf<M>> {
        let p = exact_distribution(m, Beta::ONE).unwrap().probs;
        let mut rng = Seed(5).stream(Purpose::DATA, 0);
        let mut x = vec![ebm_core::UnitOf::<M>::default(); m.n_units()];
        let mut out = Vec::new();
        for _ in 0..rows {
            m.space().state_of_code(draw_code(&p, uniform(&mut rng)), &mut x);
            out.extend_from_slice(&x);
        }
        out
    }
    let ais = Ais::new(Schedule::Linear(40), 64).unwrap();
    // Potts
    let base =
        IndependentSites::fit(potts.space().clone(), 9, &samples(&potts, 2000), 1.0).unwrap();
    let want = exact(&potts, b).unwrap().log_z;
    let fitted = ais.log_z_from(&potts, &base, &Gibbs::block(), b, Seed(1)).unwrap();
    let uniform_start = ais.log_z(&potts, &Gibbs::block(), b, Seed(1)).unwrap();
    eprintln!(
        "Potts: base {:.4} ± {:.4}, uniform {:.4} ± {:.4}, exact {want:.4}",
        fitted.log_z, fitted.std_err, uniform_start.log_z, uniform_start.std_err
    );
    assert!(fitted.contains(want), "{fitted:?} vs {want}");
    assert!(fitted.std_err < uniform_start.std_err, "{fitted:?} vs {uniform_start:?}");
    // binary spin glass, Metropolis
    let base = IndependentSites::fit(Domain::Spin, 12, &samples(&glass, 2000), 1.0).unwrap();
    let want = exact(&glass, b).unwrap().log_z;
    let fitted = ais.log_z_from(&glass, &base, &Metropolis::random_scan(), b, Seed(2)).unwrap();
    assert!(fitted.contains(want), "{fitted:?} vs {want}");
    // the base alone: ln Z₀ and exact draws are right (β = 0.7)
    let b7 = Beta::new(0.7).unwrap();
    assert!(
        (ebm_thermo::ais::Base::base_log_z(&base, b7) - exact(&base, b7).unwrap().log_z).abs()
            < 1e-12
    );
    // coverage over 20 seeds of a q = 3 model at β = 1.3 with its fitted base
    let m = Potts::lattice(3, &[3, 3], Boundary::Periodic, 0.8, 0.5).unwrap();
    let b13 = Beta::new(1.3).unwrap();
    let base = IndependentSites::fit(m.space().clone(), 9, &samples(&m, 500), 1.0).unwrap();
    let want = exact(&m, b13).unwrap().log_z;
    let inside = (0..20u64)
        .filter(|&s| {
            Ais::new(Schedule::Linear(200), 32)
                .unwrap()
                .log_z_from(&m, &base, &Gibbs::sequential(), b13, Seed(100 + s))
                .unwrap()
                .contains(want)
        })
        .count();
    assert!(inside >= 19, "{inside}/20");
}
