//! MCMC diagnostics: integrated autocorrelation time, effective sample size,
//! split-R̂, and error bars that account for autocorrelation.
//!
//! Convention: the integrated autocorrelation time is
//! `τ = 1 + 2 Σ_{t≥1} ρ(t)`, so a chain of N correlated samples carries
//! `ESS = N / τ` independent samples' worth of information and the standard
//! error of its mean is `σ √(τ / N)`. The sum is cut at Sokal's automatic
//! window: the smallest M with `M ≥ c τ(M)`, c = 5.

mod autocov;

use autocov::Autocov;

/// Sokal's window constant.
pub const SOKAL_C: f64 = 5.0;

/// Summary of one observable over several chains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Mean over all samples of all chains.
    pub mean: f64,
    /// Standard error of `mean`, from the autocorrelation-corrected variance
    /// and, with two or more chains, from the spread of the chain means when
    /// that is larger (chains that disagree, or a τ the window underestimates).
    pub std_err: f64,
    /// Integrated autocorrelation time τ (in recorded samples), pooled over chains.
    pub tau_int: f64,
    /// Effective sample size N_total / τ.
    pub ess: f64,
    /// Split-R̂ (Gelman–Rubin on half-chains); ≈ 1 when chains agree.
    pub r_hat: f64,
    /// Sample standard deviation over all samples.
    pub std_dev: f64,
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Integrated autocorrelation time τ pooled over chains (each chain centred on
/// its own mean; autocovariances summed over chains before normalising).
/// Returns 1 for constant or too-short series.
pub fn tau_int(chains: &[&[f64]]) -> f64 {
    let n = chains.iter().map(|c| c.len()).min().unwrap_or(0);
    if n < 4 {
        return 1.0;
    }
    let centred: Vec<Vec<f64>> = chains
        .iter()
        .map(|c| {
            let m = mean(&c[..n]);
            c[..n].iter().map(|v| v - m).collect()
        })
        .collect();
    let mut sums = Autocov::new(&centred, n);
    let norm = (centred.len() * n) as f64;
    let mut autocov = |t: usize| sums.at(t) / norm;
    let c0 = autocov(0);
    if c0 <= 0.0 || !c0.is_finite() {
        return 1.0;
    }
    let mut tau = 1.0;
    for m in 1..n {
        tau += 2.0 * autocov(m) / c0;
        if m as f64 >= SOKAL_C * tau {
            return tau.max(1.0 / n as f64);
        }
    }
    // no window found: the series is too short to resolve its correlations
    tau.max(1.0)
}

/// Split-R̂: each chain cut in two halves, then the Gelman–Rubin ratio of the
/// pooled to the within-chain variance estimate. NaN with fewer than 4 samples
/// per chain; +∞ when the halves are constant but differ.
pub fn split_r_hat(chains: &[&[f64]]) -> f64 {
    let n = chains.iter().map(|c| c.len()).min().unwrap_or(0) / 2;
    if n < 2 {
        return f64::NAN;
    }
    let halves: Vec<&[f64]> = chains.iter().flat_map(|c| [&c[..n], &c[n..2 * n]]).collect();
    let m = halves.len() as f64;
    let means: Vec<f64> = halves.iter().map(|h| mean(h)).collect();
    let grand = mean(&means);
    let b = n as f64 * means.iter().map(|x| (x - grand).powi(2)).sum::<f64>() / (m - 1.0);
    let w = halves
        .iter()
        .zip(&means)
        .map(|(h, mu)| h.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (n as f64 - 1.0))
        .sum::<f64>()
        / m;
    if w == 0.0 {
        return if b == 0.0 { 1.0 } else { f64::INFINITY };
    }
    let var_plus = (n as f64 - 1.0) / n as f64 * w + b / n as f64;
    (var_plus / w).sqrt()
}

/// Mean, error bar, τ, ESS and R̂ of one observable recorded by several chains
/// (equal lengths are used: longer chains are cut to the shortest).
pub fn estimate(chains: &[&[f64]]) -> Estimate {
    let n = chains.iter().map(|c| c.len()).min().unwrap_or(0);
    let m = chains.len();
    if n == 0 || m == 0 {
        return Estimate {
            mean: f64::NAN,
            std_err: f64::NAN,
            tau_int: f64::NAN,
            ess: 0.0,
            r_hat: f64::NAN,
            std_dev: f64::NAN,
        };
    }
    let total = (n * m) as f64;
    let all_mean = chains.iter().map(|c| c[..n].iter().sum::<f64>()).sum::<f64>() / total;
    let var = chains
        .iter()
        .map(|c| c[..n].iter().map(|x| (x - all_mean).powi(2)).sum::<f64>())
        .sum::<f64>()
        / (total - 1.0).max(1.0);
    let tau = tau_int(chains);
    let ess = total / tau;
    let mut std_err = (var / ess).sqrt();
    if m >= 2 {
        let means: Vec<f64> = chains.iter().map(|c| mean(&c[..n])).collect();
        let mm = mean(&means);
        let between = means.iter().map(|x| (x - mm).powi(2)).sum::<f64>() / (m as f64 - 1.0);
        std_err = std_err.max((between / m as f64).sqrt());
    }
    Estimate {
        mean: all_mean,
        std_err,
        tau_int: tau,
        ess,
        r_hat: split_r_hat(chains),
        std_dev: var.sqrt(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An AR(1) series x_t = a x_{t−1} + e_t from a tiny LCG-driven Gaussian.
    fn ar1(a: f64, n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut x = 0.0;
        (0..n)
            .map(|_| {
                // Box–Muller
                let (u1, u2) = (next().max(1e-300), next());
                let e = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
                x = a * x + e;
                x
            })
            .collect()
    }

    #[test]
    fn tau_of_ar1_matches_theory() {
        // τ = (1 + a) / (1 − a)
        for a in [0.0, 0.5, 0.9] {
            let chains: Vec<Vec<f64>> = (0..8).map(|s| ar1(a, 50_000, s)).collect();
            let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
            let tau = tau_int(&refs);
            let exact = (1.0 + a) / (1.0 - a);
            assert!((tau - exact).abs() < 0.08 * exact, "a = {a}: τ = {tau}, exact {exact}");
        }
    }

    #[test]
    fn r_hat_is_one_for_agreeing_chains_and_large_for_disagreeing() {
        let chains: Vec<Vec<f64>> = (0..4).map(|s| ar1(0.5, 4000, s)).collect();
        let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
        let r = split_r_hat(&refs);
        assert!((r - 1.0).abs() < 0.02, "{r}");
        let shifted: Vec<Vec<f64>> = chains
            .iter()
            .enumerate()
            .map(|(k, c)| c.iter().map(|x| x + 3.0 * k as f64).collect())
            .collect();
        let refs: Vec<&[f64]> = shifted.iter().map(|c| c.as_slice()).collect();
        assert!(split_r_hat(&refs) > 1.5);
    }

    #[test]
    fn error_bars_of_correlated_means_are_honest() {
        // 200 repetitions: the z-scores of the mean (true mean 0) have unit spread
        let a = 0.8;
        let z: Vec<f64> = (0..200)
            .map(|r| {
                let chains: Vec<Vec<f64>> = (0..4).map(|s| ar1(a, 5000, 1000 * r + s)).collect();
                let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
                let e = estimate(&refs);
                e.mean / e.std_err
            })
            .collect();
        let var = z.iter().map(|v| v * v).sum::<f64>() / z.len() as f64;
        // χ²_200 / 200 has sd 0.1: accept 0.7..1.35
        assert!((0.7..1.35).contains(&var), "var of z = {var}");
    }
}
