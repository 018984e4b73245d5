//! The Gaussian–Bernoulli RBM against exact results: ln Z by numerical
//! integration, the conditionals and statistics against their definitions,
//! block and sequential Gibbs against the exact moments and marginal CDF
//! (bounds from the chains' effective sample size, a mis-tempered control
//! that fails), AIS from a Gaussian base against exact ln Z on 784 × 16.
#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

use ebm_core::{
    Beta, Chain, EnergyModel, HybridModel, LogLinear, Purpose, Sampler, Seed, StateSpace,
};
use ebm_models::gbrbm::GaussianRbm;
use ebm_samplers::{Gibbs, Init, Metropolis, Run};
use ebm_thermo::ais::GaussianBits;
use ebm_thermo::{Ais, Schedule, estimate};

/// A small model with every parameter non-trivial: weights, both biases and
/// spread log-variances.
fn small(nv: usize, nh: usize, scale: f64, seed: u64) -> GaussianRbm {
    let mut m = GaussianRbm::random(nv, nh, scale, Seed(seed)).unwrap();
    let mut theta = m.params().to_vec();
    let nw = nv * nh;
    for i in 0..nv {
        theta[nw + i] = 0.3 * i as f64 - 0.2; // b
        theta[nw + nv + nh + i] = -0.5 + 0.4 * i as f64; // z = ln σ²
    }
    for j in 0..nh {
        theta[nw + nv + j] = 0.25 - 0.2 * j as f64; // c
    }
    m.set_params(&theta).unwrap();
    m
}

/// Σ_h ∫ e^{−βE} dv for n_v = 2 by the trapezoid rule on a wide grid (the
/// integrand is a sum of Gaussians: the rule converges geometrically).
fn log_z_by_quadrature(m: &GaussianRbm, beta: f64) -> f64 {
    let (nv, nh) = (m.n_visible(), m.n_hidden());
    assert_eq!(nv, 2);
    let (lo, hi, k) = (-14.0, 14.0, 1400);
    let d = (hi - lo) / k as f64;
    let mut x = vec![0.0; nv + nh];
    let mut total = 0.0;
    for code in 0..1u32 << nh {
        for j in 0..nh {
            x[nv + j] = f64::from((code >> j) & 1);
        }
        for a in 0..=k {
            x[0] = lo + a as f64 * d;
            for b in 0..=k {
                x[1] = lo + b as f64 * d;
                total += (-beta * m.energy(&x)).exp();
            }
        }
    }
    (total * d * d).ln()
}

#[test]
fn exact_log_z_equals_numerical_integration() {
    for (seed, beta) in [(1u64, 1.0), (2, 0.5), (3, 2.0)] {
        let m = small(2, 3, 0.8, seed);
        let exact = m.exact_log_z(Beta::new(beta).unwrap()).unwrap();
        let quad = log_z_by_quadrature(&m, beta);
        assert!((exact - quad).abs() < 1e-9, "β = {beta}: exact {exact} vs quadrature {quad}");
    }
    // the density integrates to one: ln p(v) = −βF(v) − ln Z, summed on the grid
    let m = small(2, 3, 0.8, 4);
    let (lo, k) = (-14.0, 700);
    let d = 28.0 / k as f64;
    let mut mass = 0.0;
    for a in 0..=k {
        for b in 0..=k {
            let v = [lo + a as f64 * d, lo + b as f64 * d];
            mass += m.exact_log_likelihood(&v, Beta::ONE).unwrap().exp() * d * d;
        }
    }
    assert!((mass - 1.0).abs() < 1e-9, "∫ p(v) dv = {mass}");
    // the walk past its cap is a typed error
    let big = GaussianRbm::random(2, 21, 0.1, Seed(1)).unwrap();
    assert!(big.exact_log_z(Beta::ONE).is_err());
}

#[test]
fn conditionals_and_statistics_match_their_definitions() {
    let m = small(5, 4, 0.6, 7);
    let mut rng = Seed(1).stream(Purpose::DATA, 0);
    let n = m.n_units();
    let xs: Vec<f64> = (0..6).flat_map(|_| rng.random_state(m.space(), n)).collect();
    for block in m.blocks().iter().chain([&[1usize, 6][..]]) {
        // against the default (read off the energy) and batch against single
        let mut fast = vec![0.0; 2 * block.len() * 6];
        m.conditionals_batch(&xs, block, &mut fast);
        for (r, x) in xs.chunks_exact(n).enumerate() {
            let mut one = vec![0.0; 2 * block.len()];
            m.conditionals(x, block, &mut one);
            assert_eq!(one, fast[r * one.len()..][..one.len()], "batch vs single, bit for bit");
            for (k, &i) in block.iter().enumerate() {
                let mut y = x.to_vec();
                let mut at = |v: f64| {
                    y[i] = v;
                    m.energy(&y)
                };
                let want = if i < 5 {
                    let (em, e0, ep) = (at(-1.0), at(0.0), at(1.0));
                    [em + ep - 2.0 * e0, 0.5 * (em - ep)]
                } else {
                    [at(1.0) - at(0.0), 0.0]
                };
                for c in 0..2 {
                    let got = one[2 * k + c];
                    assert!((got - want[c]).abs() < 1e-5 * (1.0 + want[c].abs()), "unit {i}"); // f32 GEMM
                }
            }
        }
    }
    // φ = −∂E/∂θ, by central differences, and batch = Σ single
    let x = &xs[..n];
    let mut phi = vec![0.0; m.n_params()];
    m.add_statistics(x, 1.0, &mut phi);
    let theta = m.params().to_vec();
    for k in 0..theta.len() {
        let h = 1e-6;
        let mut e = [0.0; 2];
        for (s, sign) in [(0, 1.0), (1, -1.0)] {
            let mut t = theta.clone();
            t[k] += sign * h;
            let mut p = m.clone();
            p.set_params(&t).unwrap();
            e[s] = p.energy(x);
        }
        let fd = -(e[0] - e[1]) / (2.0 * h);
        assert!((phi[k] - fd).abs() < 1e-5 * (1.0 + fd.abs()), "φ[{k}] {} vs {fd}", phi[k]);
    }
    assert!(!m.is_linear());
    ebm_testkit::check_log_linear(&mut m.clone(), x, 1e-5).unwrap();
    let mut batch = vec![0.0; m.n_params()];
    m.add_statistics_batch(&xs, 0.5, &mut batch);
    let mut sum = vec![0.0; m.n_params()];
    xs.chunks_exact(n).for_each(|x| m.add_statistics(x, 0.5, &mut sum));
    for (a, b) in batch.iter().zip(&sum) {
        assert!((a - b).abs() < 1e-5 * (1.0 + b.abs()));
    }
    // the data term: E[φ | v] over the 2^4 hidden states, at β = 1.7
    let beta = Beta::new(1.7).unwrap();
    let v = &x[..5];
    let mut closed = vec![0.0; m.n_params()];
    assert!(m.add_data_statistics(v, beta, 1.0, &mut closed));
    let mut weights = Vec::new();
    let mut stats = Vec::new();
    let mut y = x.to_vec();
    for code in 0..16u32 {
        for j in 0..4 {
            y[5 + j] = f64::from((code >> j) & 1);
        }
        weights.push(-beta.value() * m.energy(&y));
        let mut s = vec![0.0; m.n_params()];
        m.add_statistics(&y, 1.0, &mut s);
        stats.push(s);
    }
    let top = weights.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = weights.iter().map(|l| (l - top).exp()).collect();
    let total: f64 = w.iter().sum();
    for k in 0..m.n_params() {
        let want: f64 = stats.iter().zip(&w).map(|(s, w)| s[k] * w / total).sum();
        assert!((closed[k] - want).abs() < 1e-5 * (1.0 + want.abs()), "E[φ_{k} | v]");
    }
    // typed errors: bad sizes, non-finite parameters, out-of-range variances
    assert!(GaussianRbm::new(2, 2, vec![0.0; 3]).is_err());
    assert!(GaussianRbm::new(0, 2, vec![]).is_err());
    let mut bad = theta.clone();
    *bad.last_mut().unwrap() = 31.0;
    assert!(m.clone().set_params(&bad).is_err());
    bad[0] = f64::NAN;
    assert!(m.clone().set_params(&bad).is_err());
    assert!(m.space().validate(&[0.0, 0.0, 0.0, 0.0, 0.0, 0.5]).is_err(), "a bit of 0.5");
    assert!(m.space().validate(&[f64::INFINITY]).is_err());
    assert!(Metropolis::block().start(&m, x).is_err(), "heat bath only");
}

/// The exact moments of a small model at β: ⟨v_i⟩, ⟨v_i²⟩, ⟨h_j⟩ and the
/// mixture CDF of v_0, from the hidden marginal p(h) ∝ e^{βS(h)} and the
/// Gaussian v | h ~ N(b + W h, σ²/β).
struct Exact {
    mean_v: Vec<f64>,
    sq_v: Vec<f64>,
    mean_h: Vec<f64>,
    /// (p(h), μ_0(h)) for the CDF of v_0.
    mixture: Vec<(f64, f64)>,
    sd0: f64,
}

fn exact_moments(m: &GaussianRbm, beta: f64) -> Exact {
    let (nv, nh) = (m.n_visible(), m.n_hidden());
    let (w, b, c) = (m.weights(), m.visible_bias(), m.hidden_bias());
    let var: Vec<f64> = m.log_variances().iter().map(|z| z.exp()).collect();
    let mut terms = Vec::new();
    for code in 0..1u32 << nh {
        let h: Vec<f64> = (0..nh).map(|j| f64::from((code >> j) & 1)).collect();
        let mu: Vec<f64> =
            (0..nv).map(|i| b[i] + (0..nh).map(|j| w[i * nh + j] * h[j]).sum::<f64>()).collect();
        let s: f64 = (0..nh).map(|j| c[j] * h[j]).sum::<f64>()
            + (0..nv).map(|i| (mu[i] * mu[i] - b[i] * b[i]) / (2.0 * var[i])).sum::<f64>();
        terms.push((beta * s, h, mu));
    }
    let top = terms.iter().map(|t| t.0).fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = terms.iter().map(|t| (t.0 - top).exp()).sum();
    let mut e = Exact {
        mean_v: vec![0.0; nv],
        sq_v: vec![0.0; nv],
        mean_h: vec![0.0; nh],
        mixture: Vec::new(),
        sd0: (var[0] / beta).sqrt(),
    };
    for (l, h, mu) in &terms {
        let p = (l - top).exp() / total;
        for i in 0..nv {
            e.mean_v[i] += p * mu[i];
            e.sq_v[i] += p * (mu[i] * mu[i] + var[i] / beta);
        }
        for j in 0..nh {
            e.mean_h[j] += p * h[j];
        }
        e.mixture.push((p, mu[0]));
    }
    e
}

/// Φ(x), the standard normal CDF, by erfc (Numerical Recipes' Chebyshev
/// fit, |error| < 1.2e−7).
fn normal_cdf(x: f64) -> f64 {
    let z = (x / std::f64::consts::SQRT_2).abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.26551223
        + t * (1.00002368
            + t * (0.37409196
                + t * (0.09678418
                    + t * (-0.18628806
                        + t * (0.27886807
                            + t * (-1.13520398
                                + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    let erfc = t * poly.exp();
    if x >= 0.0 { 1.0 - 0.5 * erfc } else { 0.5 * erfc }
}

/// Runs `sampler` at `sample_beta` and compares with the exact moments at
/// `beta`: the number of moments off by more than 5 standard errors, and
/// the Kolmogorov–Smirnov distance of v_0's samples from its exact CDF
/// scaled by √ESS (≈ the KS statistic of ESS independent draws; P(> 1.95) ≈
/// 0.001 for exact samples).
fn check(m: &GaussianRbm, sampler: &Gibbs, beta: f64, sample_beta: f64) -> (usize, f64) {
    let (nv, nh) = (m.n_visible(), m.n_hidden());
    let ex = exact_moments(m, beta);
    let k = 2 * nv + nh;
    let (traces, _) = Run::new(m, sampler, Beta::new(sample_beta).unwrap())
        .chains(8)
        .warmup(200)
        .sweeps(5000)
        .seed(Seed(11))
        .init(Init::Uniform)
        .record(k, move |_: &GaussianRbm, x: &[f64], out: &mut [f64]| {
            for i in 0..nv {
                out[i] = x[i];
                out[nv + i] = x[i] * x[i];
            }
            out[2 * nv..].copy_from_slice(&x[nv..]);
        })
        .unwrap();
    let want = |q: usize| {
        if q < nv {
            ex.mean_v[q]
        } else if q < 2 * nv {
            ex.sq_v[q - nv]
        } else {
            ex.mean_h[q - 2 * nv]
        }
    };
    let mut bad = 0;
    let mut ess0 = 0.0;
    for q in 0..k {
        let chains = traces.chains(q);
        let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
        let e = estimate(&refs);
        if q == 0 {
            ess0 = e.ess;
        }
        // a bit that never changed (p within 1e−6 of 0 or 1) has no spread
        let off = if e.std_err > 0.0 {
            ((e.mean - want(q)) / e.std_err).abs() > 5.0
        } else {
            (e.mean - want(q)).abs() > 1e-4
        };
        if off {
            eprintln!(
                "moment {q}: {} ± {} (τ {:.1}, R̂ {:.3}) vs exact {}",
                e.mean,
                e.std_err,
                e.tau_int,
                e.r_hat,
                want(q)
            );
            bad += 1;
        }
    }
    let mut v0: Vec<f64> = traces.chains(0).into_iter().flatten().collect();
    v0.sort_by(f64::total_cmp);
    let cdf = |x: f64| ex.mixture.iter().map(|(p, mu)| p * normal_cdf((x - mu) / ex.sd0)).sum();
    let n = v0.len() as f64;
    let d = v0
        .iter()
        .enumerate()
        .map(|(r, &x)| {
            let f: f64 = cdf(x);
            (f - r as f64 / n).abs().max(((r + 1) as f64 / n - f).abs())
        })
        .fold(0.0, f64::max);
    (bad, d * ess0.min(n).sqrt())
}

#[test]
fn gibbs_samples_the_exact_distribution_at_any_beta() {
    let m = small(3, 4, 1.0, 5);
    for beta in [0.5, 1.0, 2.0] {
        for sampler in [Gibbs::block(), Gibbs::random_scan()] {
            let (bad, ks) = check(&m, &sampler, beta, beta);
            eprintln!("β = {beta}, {:?}: {bad} moments off, KS·√ESS = {ks:.3}", sampler.scan());
            assert_eq!(bad, 0, "β = {beta}, {:?}", sampler.scan());
            assert!(ks < 1.95, "β = {beta}, {:?}: KS·√ESS = {ks}", sampler.scan());
        }
    }
    // the negative control: sampling at the wrong temperature must fail
    let (bad, ks) = check(&m, &Gibbs::block(), 1.0, 0.85);
    assert!(bad > 0 && ks > 1.95, "mis-tempered: {bad} moments off, KS·√ESS {ks}");
}

#[test]
fn batched_sweeps_equal_single_sweeps_bit_for_bit() {
    let m = small(6, 5, 0.7, 9);
    let gibbs = Gibbs::block();
    let mut rng0 = Seed(2).stream(Purpose::INIT, 0);
    let starts: Vec<Vec<f64>> = (0..7).map(|_| rng0.random_state(m.space(), 11)).collect();
    let mut one: Vec<_> = starts.iter().map(|x| gibbs.start(&m, x).unwrap()).collect();
    let mut many: Vec<_> = starts.iter().map(|x| gibbs.start(&m, x).unwrap()).collect();
    let mut r1: Vec<_> = (0..7).map(|r| Seed(3).stream(Purpose::SAMPLING, r)).collect();
    let mut r2 = r1.clone();
    for _ in 0..20 {
        for (c, r) in one.iter_mut().zip(r1.iter_mut()) {
            gibbs.sweep(&m, c, Beta::new(1.3).unwrap(), r);
        }
        gibbs.sweep_batch(&m, &mut many, Beta::new(1.3).unwrap(), &mut r2);
    }
    for (a, b) in one.iter().zip(&many) {
        assert_eq!(a.state(), b.state());
    }
}

#[test]
fn ais_from_a_gaussian_base_matches_exact_log_z_on_784_by_16() {
    let (nv, nh) = (784, 16);
    let mut m = GaussianRbm::random(nv, nh, 0.04, Seed(21)).unwrap();
    let mut theta = m.params().to_vec();
    let nw = nv * nh;
    for i in 0..nv {
        theta[nw + i] = 0.5 * ((i % 28) as f64 / 28.0 - 0.5);
        theta[nw + nv + nh + i] = -0.3 + 0.6 * ((i / 28) as f64 / 28.0);
    }
    for j in 0..nh {
        theta[nw + nv + j] = -0.5 + 0.06 * j as f64;
    }
    m.set_params(&theta).unwrap();
    // a base fitted to samples of the model's visible units
    let gibbs = Gibbs::block();
    let mut rng = Seed(22).stream(Purpose::SAMPLING, 0);
    let mut c = gibbs.start(&m, &vec![0.0; nv + nh]).unwrap();
    let mut rows = Vec::new();
    for s in 0..600 {
        gibbs.sweep(&m, &mut c, Beta::ONE, &mut rng);
        if s >= 100 {
            rows.extend_from_slice(&c.state()[..nv]);
        }
    }
    let base = GaussianBits::fit(&rows, nv, nh, 1e-2).unwrap();
    let ais = Ais::new(Schedule::Linear(400), 64).unwrap();
    for (beta, seed) in [(1.0, 1u64), (0.6, 2)] {
        let beta = Beta::new(beta).unwrap();
        let exact = m.exact_log_z(beta).unwrap();
        let est = ais.log_z_from(&m, &base, &gibbs, beta, Seed(seed)).unwrap();
        eprintln!(
            "β = {}: AIS {:.4} ± {:.4} [{:.4}, {:.4}] (ESS {:.1}), exact {exact:.4}",
            beta.value(),
            est.log_z,
            est.std_err,
            est.lower,
            est.upper,
            est.ess
        );
        assert!(est.contains(exact), "{est:?} vs {exact}");
        assert!(est.upper - est.lower < 0.5, "a useful interval: {est:?}");
        // the wrong answer is excluded: a model one hidden bias away
        let mut shifted = m.clone();
        let mut t = theta.clone();
        t[nw + nv] += 1.0;
        shifted.set_params(&t).unwrap();
        assert!(!est.contains(shifted.exact_log_z(beta).unwrap()));
    }
}
