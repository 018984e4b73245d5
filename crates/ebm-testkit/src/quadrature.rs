//! Exact oracles for low-dimensional continuous models by numerical
//! quadrature: composite Simpson on a fine grid, in log space relative to the
//! minimum energy, so large β and deep wells stay accurate.

/// `ln Z`, `⟨x⟩`, `⟨x²⟩` and `P(x > 0)` of the 1-D density `∝ e^{−βE(x)}` on
/// `[lo, hi]` by Simpson's rule with `intervals` (even) subintervals. The
/// density must be negligible outside the interval.
///
/// ```
/// // a standard normal: ln Z = ½ ln 2π, ⟨x²⟩ = 1
/// let m = ebm_testkit::quadrature::moments_1d(|x| 0.5 * x * x, 1.0, -12.0, 12.0, 4000);
/// assert!((m.log_z - 0.5 * std::f64::consts::TAU.ln()).abs() < 1e-10);
/// assert!((m.second - 1.0).abs() < 1e-10);
/// ```
pub fn moments_1d(
    energy: impl Fn(f64) -> f64,
    beta: f64,
    lo: f64,
    hi: f64,
    intervals: usize,
) -> Moments1d {
    let m = intervals.max(2).next_multiple_of(2);
    let h = (hi - lo) / m as f64;
    let xs: Vec<f64> = (0..=m).map(|k| lo + h * k as f64).collect();
    let e: Vec<f64> = xs.iter().map(|&x| beta * energy(x)).collect();
    let e_min = e.iter().copied().fold(f64::INFINITY, f64::min);
    let (mut z, mut s1, mut s2, mut pos) = (0.0, 0.0, 0.0, 0.0);
    for (k, (&x, &ek)) in xs.iter().zip(&e).enumerate() {
        let c = if k == 0 || k == m {
            1.0
        } else if k % 2 == 1 {
            4.0
        } else {
            2.0
        };
        let w = c * (-(ek - e_min)).exp();
        z += w;
        s1 += w * x;
        s2 += w * x * x;
        if x > 0.0 {
            pos += w;
        } else if x == 0.0 {
            pos += 0.5 * w;
        }
    }
    Moments1d { log_z: (z * h / 3.0).ln() - e_min, mean: s1 / z, second: s2 / z, positive: pos / z }
}

/// What [`moments_1d`] computes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments1d {
    /// `ln ∫ e^{−βE}`.
    pub log_z: f64,
    /// `⟨x⟩`.
    pub mean: f64,
    /// `⟨x²⟩`.
    pub second: f64,
    /// `P(x > 0)`.
    pub positive: f64,
}
