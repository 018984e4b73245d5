//! The Potts checkerboard kernel: which models get it, bit-identity for any
//! thread count, and a model whose J or h changed between sweeps is sampled
//! as the new model (exactly, against enumeration; the old one's
//! distribution must fail: the negative control).

use ebm_core::{Beta, Chain, EnergyModel, FiniteSpace, LogLinear, Purpose, Sampler, Seed, uniform};
use ebm_models::lattice::Boundary;
use ebm_models::potts::Potts;
use ebm_samplers::{Gibbs, Metropolis};
use ebm_testkit::statistics::{draw_code, tv_test};
use ebm_thermo::exact_distribution;

#[test]
fn only_uniform_periodic_even_lattices_with_small_tables_get_the_kernel() {
    let x = |m: &Potts| vec![0u8; m.n_units()];
    let yes = Potts::lattice(3, &[8, 8], Boundary::Periodic, 1.0, 0.1).unwrap();
    assert!(Gibbs::block().start(&yes, &x(&yes)).unwrap().runs_model_kernel());
    for no in [
        Potts::lattice(3, &[7, 8], Boundary::Periodic, 1.0, 0.0).unwrap(), // odd side
        Potts::lattice(3, &[8, 8], Boundary::Open, 1.0, 0.0).unwrap(),     // open
        Potts::lattice(21, &[8, 8], Boundary::Periodic, 1.0, 0.0).unwrap(), // table too large
    ] {
        assert!(!Gibbs::block().start(&no, &x(&no)).unwrap().runs_model_kernel());
    }
    // a non-uniform field: generic
    let mut fields = vec![0.0; 64 * 3];
    fields[5] = 0.3;
    let no = yes.clone().with_fields(&fields).unwrap();
    assert!(!Gibbs::block().start(&no, &x(&no)).unwrap().runs_model_kernel());
    // sequential and clamped samplers never use it
    assert!(!Gibbs::sequential().start(&yes, &x(&yes)).unwrap().runs_model_kernel());
}

#[test]
fn the_kernel_is_bit_identical_for_one_two_and_four_threads() {
    let m = Potts::lattice(3, &[128, 256], Boundary::Periodic, 1.0, 0.05).unwrap();
    let beta = Beta::new(1.0).unwrap();
    let run = |threads: usize, s: &ebm_samplers::AnySampler| {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| {
            let mut rng = Seed(3).stream(Purpose::SAMPLING, 0);
            let x0 = rng.random_state(m.space(), m.n_units());
            let mut c = s.start(&m, &x0).unwrap();
            for _ in 0..20 {
                s.sweep(&m, &mut c, beta, &mut rng);
            }
            c.state().to_vec()
        })
    };
    for s in [
        ebm_samplers::AnySampler::Gibbs(Gibbs::block()),
        ebm_samplers::AnySampler::Metropolis(Metropolis::block()),
    ] {
        let one = run(1, &s);
        assert_eq!(one, run(2, &s));
        assert_eq!(one, run(4, &s));
    }
}

#[test]
fn the_kernel_follows_a_model_whose_couplings_and_fields_changed() {
    let a = Potts::lattice(3, &[2, 4], Boundary::Periodic, 0.8, 0.3).unwrap();
    // b: new uniform J and h (the kernel keeps running); c: non-uniform (fallback)
    let b = Potts::lattice(3, &[2, 4], Boundary::Periodic, -0.6, -0.4).unwrap();
    let mut c = a.clone();
    let mut theta = c.params().to_vec();
    theta[3] = 1.5;
    c.set_params(&theta).unwrap();
    let beta = Beta::new(1.1).unwrap();
    let p_a = exact_distribution(&a, beta).unwrap().probs;
    for (name, target) in [("uniform change", &b), ("non-uniform change", &c)] {
        let p = exact_distribution(target, beta).unwrap().probs;
        for (s_name, s) in [
            ("gibbs", ebm_samplers::AnySampler::Gibbs(Gibbs::block())),
            ("metropolis", ebm_samplers::AnySampler::Metropolis(Metropolis::block())),
        ] {
            let counts: Vec<Vec<u64>> = (0..200u64)
                .map(|ch| {
                    let mut rng = Seed(70).stream(Purpose::SAMPLING, ch);
                    let mut x = vec![0u8; 8];
                    a.space().state_of_code(draw_code(&p_a, uniform(&mut rng)), &mut x);
                    let mut chain = s.start(&a, &x).unwrap();
                    for _ in 0..20 {
                        s.sweep(&a, &mut chain, beta, &mut rng);
                    }
                    for _ in 0..50 {
                        s.sweep(target, &mut chain, beta, &mut rng);
                    }
                    let mut h = vec![0u64; p.len()];
                    for _ in 0..400 {
                        s.sweep(target, &mut chain, beta, &mut rng);
                        h[a.space().code_of_state(chain.state()) as usize] += 1;
                    }
                    h
                })
                .collect();
            let r = tv_test(&p, &counts);
            assert!(r.passed(), "{name} {s_name}: {r:?}");
            assert!(!tv_test(&p_a, &counts).passed(), "{name} {s_name}: the old model passed");
        }
    }
}

#[test]
fn annealing_finds_the_ground_states_of_ferro_and_antiferro_potts() {
    use ebm_samplers::{Anneal, Schedule};
    // ferro q = 3 on 8×8: E_min = −J·N_b = −128; antiferro q = 3 on an even
    // torus: a proper 3-colouring exists, E_min = 0 (no agreeing bond)
    for (j, e_min) in [(1.0, -128.0), (-1.0, 0.0)] {
        let m = Potts::lattice(3, &[8, 8], Boundary::Periodic, j, 0.0).unwrap();
        for s in [
            ebm_samplers::AnySampler::Gibbs(Gibbs::block()),
            ebm_samplers::AnySampler::Metropolis(Metropolis::random_scan()),
        ] {
            let anneal = Anneal {
                sampler: s.clone(),
                schedule: Schedule::geometric(0.1, 8.0, 200).unwrap(),
                sweeps_per_step: 5,
            };
            let mut rng = Seed(4).stream(Purpose::SAMPLING, 0);
            let x0 = rng.random_state(m.space(), m.n_units());
            let mut chain = s.start(&m, &x0).unwrap();
            let (best, state) = anneal.run(&m, &mut chain, &mut rng);
            assert_eq!(best, e_min, "J = {j}: {best}");
            assert_eq!(m.energy(&state), best);
        }
    }
}
