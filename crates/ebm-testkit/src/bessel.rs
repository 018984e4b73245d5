//! Modified Bessel functions of the first kind and integer order, `I_k(x)`,
//! in f64, and the exact oracle they give: the periodic XY chain at h = 0.
//!
//! ```text
//! I_k(x) = Σ_{m≥0} (x/2)^{2m+k} / (m! (m+k)!)              (k ≥ 0, x ≥ 0)
//! I_{k−1}(x) − I_{k+1}(x) = (2k/x) I_k(x),   I_k'(x) = (I_{k−1}(x) + I_{k+1}(x)) / 2
//! ```
//!
//! The series has positive terms only, so summing it has no cancellation;
//! [`ln_bessel_i`] sums it relative to its first term with a running
//! rescaling, so `ln I_k(x)` is accurate (to a few ulps per term) far beyond
//! the range where `I_k` itself overflows.
//!
//! **The XY chain.** `E(θ) = −J Σ_i cos(θ_i − θ_{i+1})` on a periodic chain
//! of N angles: the transfer kernel `e^{βJ cos(θ − θ')} = Σ_k I_k(βJ)
//! e^{ik(θ − θ')}` has eigenvalues `2π I_k(βJ)`, k ∈ ℤ, so
//!
//! ```text
//! ln Z = N ln 2π + ln Σ_{k∈ℤ} I_k(βJ)^N
//! ⟨E⟩ = −∂ ln Z/∂β = −J N Σ_k I_k^{N−1} I_k' / Σ_k I_k^N        (at x = βJ)
//! ```
//!
//! both summed in log space over |k| until the terms fall below e^{−60} of
//! the first ([`xy_ring_log_z`], [`xy_ring_mean_energy`]). A twist δ on
//! every bond (`cos(θ_i − θ_{i+1} − δ)`) multiplies term k by `e^{−ikNδ}`,
//! so the helicity modulus `Υ = (1/N) ∂²F/∂δ²` is
//!
//! ```text
//! Υ = (N/β) Σ_k k² I_k^N / Σ_k I_k^N                      ([`xy_ring_helicity`])
//! ```

/// `ln I_k(x)` for `x > 0` (and `ln I_0(0) = 0`, `ln I_k(0) = −∞` for
/// k ≥ 1); NaN for a negative or non-finite x.
///
/// ```
/// use ebm_testkit::bessel::ln_bessel_i;
/// assert!((ln_bessel_i(0, 1.0).exp() - 1.266_065_877_752_008_4).abs() < 1e-15);
/// ```
pub fn ln_bessel_i(k: u32, x: f64) -> f64 {
    if !(x.is_finite() && x >= 0.0) {
        return f64::NAN;
    }
    if x == 0.0 {
        return if k == 0 { 0.0 } else { f64::NEG_INFINITY };
    }
    let kf = f64::from(k);
    // ln of the first term: k ln(x/2) − ln k!
    let ln_fact: f64 = (2..=k).map(|j| f64::from(j).ln()).sum();
    let ln_t0 = kf * (0.5 * x).ln() - ln_fact;
    // Σ_m t_m / t_0, t_{m+1}/t_m = (x/2)² / ((m+1)(m+1+k)), rescaled when large
    let q = 0.25 * x * x;
    let (mut sum, mut term, mut offset) = (1.0f64, 1.0f64, 0.0f64);
    let mut m = 0.0f64;
    loop {
        m += 1.0;
        term *= q / (m * (m + kf));
        sum += term;
        if sum > 1e280 {
            sum *= 1e-280;
            term *= 1e-280;
            offset += 280.0 * std::f64::consts::LN_10;
        }
        // past the largest term, stop when the rest is below an ulp
        if m * (m + kf) > q && term < sum * 1e-17 {
            break;
        }
    }
    ln_t0 + offset + sum.ln()
}

/// `I_k(x)` (may overflow to +∞ for large x; use [`ln_bessel_i`] there).
///
/// ```
/// use ebm_testkit::bessel::bessel_i;
/// // the recurrence I_{k−1} − I_{k+1} = (2k/x) I_k
/// let (x, k) = (3.0, 2);
/// let lhs = bessel_i(k - 1, x) - bessel_i(k + 1, x);
/// assert!((lhs - 2.0 * f64::from(k) / x * bessel_i(k, x)).abs() < 1e-14 * lhs);
/// ```
pub fn bessel_i(k: u32, x: f64) -> f64 {
    ln_bessel_i(k, x).exp()
}

/// Terms `(ln I_k(x)^N, I_k'(x)/I_k(x))` for k = 0, 1, … until the first
/// falls e^{−60} below k = 0's, each k ≥ 1 standing for ±k.
fn ring_terms(n: usize, x: f64) -> Vec<(f64, f64)> {
    let nf = n as f64;
    let mut out = Vec::new();
    let ln_i = |k: u32| ln_bessel_i(k, x);
    let mut k = 0u32;
    loop {
        let (lk, lo, hi) = (ln_i(k), ln_i(k.abs_diff(1)), ln_i(k + 1));
        // I_k'/I_k = (I_{|k−1|} + I_{k+1}) / (2 I_k)
        let ratio = 0.5 * ((lo - lk).exp() + (hi - lk).exp());
        out.push((nf * lk, ratio));
        if k >= 1 && nf * lk < out[0].0 - 60.0 {
            return out;
        }
        k += 1;
    }
}

/// ln Z of the periodic XY chain of `n ≥ 2` angles with coupling J at
/// inverse temperature β, given `x = βJ ≥ 0`, h = 0:
/// `N ln 2π + ln Σ_{k∈ℤ} I_k(x)^N` (log-sum-exp over k). NaN for x < 0.
///
/// ```
/// // N = 4, βJ = 1 (reference value from 30-digit arithmetic)
/// let lz = ebm_testkit::bessel::xy_ring_log_z(4, 1.0);
/// assert!((lz - 8.371_827_432_455_003_5).abs() < 1e-12);
/// ```
pub fn xy_ring_log_z(n: usize, x: f64) -> f64 {
    if !(x.is_finite() && x >= 0.0) {
        return f64::NAN;
    }
    let t = ring_terms(n, x);
    let m = t[0].0;
    let s: f64 = t.iter().enumerate().map(|(k, &(w, _))| mult(k) * (w - m).exp()).sum();
    n as f64 * std::f64::consts::TAU.ln() + m + s.ln()
}

/// ⟨E⟩ of the periodic XY chain of `n ≥ 2` angles, coupling `j ≥ 0`, at
/// `beta`, h = 0: `−J N Σ_k I_k^N (I_k'/I_k) / Σ_k I_k^N` at x = βJ. NaN for
/// J < 0.
pub fn xy_ring_mean_energy(n: usize, j: f64, beta: f64) -> f64 {
    let x = beta * j;
    if !(x.is_finite() && x >= 0.0) {
        return f64::NAN;
    }
    let t = ring_terms(n, x);
    let m = t[0].0;
    let (mut num, mut den) = (0.0, 0.0);
    for (k, &(w, ratio)) in t.iter().enumerate() {
        let e = mult(k) * (w - m).exp();
        num += e * ratio;
        den += e;
    }
    -j * n as f64 * num / den
}

/// The helicity modulus of the periodic XY chain of `n ≥ 2` angles,
/// coupling `j ≥ 0`, at `beta`, h = 0: `(N/β) Σ_k k² I_k^N / Σ_k I_k^N` at
/// x = βJ (what `(1/N)[⟨Σ J cos(θ_i − θ_{i+1})⟩ − β⟨(Σ J sin(θ_i −
/// θ_{i+1}))²⟩]` estimates). NaN for J < 0 or β ≤ 0.
///
/// ```
/// // N = 8, βJ = 2 (reference value from 30-digit arithmetic)
/// let u = ebm_testkit::bessel::xy_ring_helicity(8, 1.0, 2.0);
/// assert!((u - 0.406_110_684_124_152_39).abs() < 1e-12);
/// ```
pub fn xy_ring_helicity(n: usize, j: f64, beta: f64) -> f64 {
    let x = beta * j;
    if !(x.is_finite() && x >= 0.0 && beta > 0.0) {
        return f64::NAN;
    }
    let t = ring_terms(n, x);
    let m = t[0].0;
    let (mut num, mut den) = (0.0, 0.0);
    for (k, &(w, _)) in t.iter().enumerate() {
        let e = mult(k) * (w - m).exp();
        num += e * (k * k) as f64;
        den += e;
    }
    n as f64 / beta * num / den
}

/// k = 0 once, every k ≥ 1 for ±k.
fn mult(k: usize) -> f64 {
    if k == 0 { 1.0 } else { 2.0 }
}

#[cfg(test)]
mod tests {
    // reference values are quoted to the digits of their source
    #![allow(clippy::excessive_precision, clippy::inconsistent_digit_grouping)]
    use super::*;

    #[test]
    fn known_values() {
        // reference values from 30-digit arithmetic (mpmath)
        let cases = [
            (0, 1.0, 1.266_065_877_752_008_4),
            (1, 1.0, 0.565_159_103_992_485_03),
            (0, 2.0, 2.279_585_302_336_067_3),
            (1, 2.0, 1.590_636_854_637_329_1),
            (2, 2.0, 0.688_948_447_698_738_2),
            (5, 10.0, 777.188_286_403_260_01),
            (0, 10.0, 2815.716_628_466_254_4),
            (3, 0.5, 0.002_645_111_968_990_285_9),
            (10, 1.0, 2.752_948_039_836_873_7e-10),
            (0, 50.0, 2.932_553_783_849_336_2e20),
            (20, 50.0, 5.442_008_402_752_997_4e18),
        ];
        for (k, x, want) in cases {
            let got = bessel_i(k, x);
            assert!(((got - want) / want).abs() < 1e-13, "I_{k}({x}) = {got}, want {want}");
        }
        assert_eq!(ln_bessel_i(0, 0.0), 0.0);
        assert_eq!(ln_bessel_i(2, 0.0), f64::NEG_INFINITY);
        assert!(ln_bessel_i(0, -1.0).is_nan());
        // beyond overflow: ln I_0(x) → x − ½ ln(2πx) + ln(1 + 1/(8x) + 9/(128x²))
        let x = 2000.0f64;
        let asym = x - 0.5 * (std::f64::consts::TAU * x).ln()
            + (1.0 + 1.0 / (8.0 * x) + 9.0 / (128.0 * x * x)).ln();
        assert!((ln_bessel_i(0, x) - asym).abs() < 1e-10, "{}", ln_bessel_i(0, x) - asym);
    }

    #[test]
    fn recurrences_hold() {
        for x in [0.1, 0.7, 1.0, 3.3, 12.0, 40.0] {
            for k in 1..15u32 {
                let (a, b, c) = (bessel_i(k - 1, x), bessel_i(k, x), bessel_i(k + 1, x));
                let r = a - c - 2.0 * f64::from(k) / x * b;
                assert!(r.abs() < 1e-12 * a, "x = {x}, k = {k}: {r}");
            }
        }
    }

    #[test]
    fn the_xy_ring_matches_high_precision_values_and_its_derivative() {
        // ln Z and ⟨E⟩/N at N = 32 (mpmath, 30 digits)
        let cases = [
            (0.5, 60.781_657_139_034_457, -0.242_499_612_580_801_95),
            (1.0, 66.361_325_597_341_129, -0.446_389_965_906_343_05),
            (2.0, 85.179_879_401_126_223, -0.697_779_352_868_965_92),
        ];
        for (x, lz, u) in cases {
            assert!((xy_ring_log_z(32, x) - lz).abs() < 1e-11, "{x}: {}", xy_ring_log_z(32, x));
            let e = xy_ring_mean_energy(32, 1.0, x) / 32.0;
            assert!((e - u).abs() < 1e-13, "{x}: {e}");
            // ⟨E⟩ = −d ln Z/dβ, central difference
            let h = 1e-5;
            let fd = -(xy_ring_log_z(32, x + h) - xy_ring_log_z(32, x - h)) / (2.0 * h);
            assert!((fd - 32.0 * u).abs() < 1e-7, "{x}: {fd}");
        }
        // the helicity modulus (mpmath, 30 digits)
        for (n, x, want) in [
            (8, 1.0, 0.025_147_068_221_074_461),
            (8, 2.0, 0.406_110_684_124_152_39),
            (32, 4.0, 0.143_554_767_162_726_26),
            (32, 8.0, 0.765_240_491_248_414_75),
        ] {
            let got = xy_ring_helicity(n, 1.0, x);
            assert!(((got - want) / want).abs() < 1e-12, "N = {n}, x = {x}: {got}");
        }
        // β = 0: Z = (2π)^N
        assert!((xy_ring_log_z(5, 0.0) - 5.0 * std::f64::consts::TAU.ln()).abs() < 1e-14);
        assert!(xy_ring_log_z(4, -1.0).is_nan() && xy_ring_mean_energy(4, -1.0, 1.0).is_nan());
    }
}
