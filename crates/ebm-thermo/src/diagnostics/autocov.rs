//! Autocovariance sums of centred series, `A(t) = Σ_chains Σ_i c_i c_{i+t}`:
//! the first [`DIRECT_LAGS`] lags as direct sums, every further lag from one
//! FFT of the pooled power spectrum (Wiener–Khinchin).
//!
//! A chain near a critical point has τ of thousands of sweeps, so Sokal's
//! window runs to most of the series: direct sums for every lag cost
//! O(n²) per observable (most of a 20,000-sweep `ebm sample` at 256²),
//! the FFT O(n log n). The FFT is `rustfft`'s scalar planner, which picks
//! the same algorithm on every machine, so the sums keep the same bits
//! everywhere (as the eight-lane direct sums do).

use rustfft::FftPlannerScalar;
use rustfft::num_complex::Complex;

/// Lags summed directly; a window found within them (τ below about 6)
/// never pays for the FFT.
pub(super) const DIRECT_LAGS: usize = 32;

/// The autocovariance sums of a set of centred series of length n, computed
/// on demand.
pub(super) struct Autocov<'a> {
    centred: &'a [Vec<f64>],
    n: usize,
    /// `A(t)` for every t < n, once a lag ≥ [`DIRECT_LAGS`] was asked for.
    all: Option<Vec<f64>>,
}

impl<'a> Autocov<'a> {
    /// The sums of `centred`, each series of length at least `n`.
    pub(super) fn new(centred: &'a [Vec<f64>], n: usize) -> Self {
        Autocov { centred, n, all: None }
    }

    /// `A(t)`, t < n.
    pub(super) fn at(&mut self, t: usize) -> f64 {
        let n = self.n;
        if t < DIRECT_LAGS {
            return self.centred.iter().map(|c| dot_lanes(&c[..n - t], &c[t..n])).sum();
        }
        self.all.get_or_insert_with(|| by_fft(self.centred, n))[t]
    }
}

/// `Σ_k a_k b_k` over the common length, in eight lanes summed in a fixed
/// order: the same bits on every machine, and a loop the compiler
/// vectorises (one running sum would chain every addition on the last).
pub(super) fn dot_lanes(a: &[f64], b: &[f64]) -> f64 {
    const L: usize = 8;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; L];
    let (ac, bc) = (a.chunks_exact(L), b.chunks_exact(L));
    let tail: f64 = ac.remainder().iter().zip(bc.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ac.zip(bc) {
        for k in 0..L {
            acc[k] += x[k] * y[k];
        }
    }
    let pairs = [acc[0] + acc[4], acc[1] + acc[5], acc[2] + acc[6], acc[3] + acc[7]];
    (pairs[0] + pairs[2]) + (pairs[1] + pairs[3]) + tail
}

/// `A(t)` for t < n: each series zero-padded to m ≥ 2n (no wrap-around), its
/// power spectrum summed over the series, and one inverse transform.
fn by_fft(centred: &[Vec<f64>], n: usize) -> Vec<f64> {
    let m = (2 * n).next_power_of_two();
    let mut planner = FftPlannerScalar::<f64>::new();
    let forward = planner.plan_fft_forward(m);
    let inverse = planner.plan_fft_inverse(m);
    let mut power = vec![Complex::new(0.0, 0.0); m];
    let mut buf = vec![Complex::new(0.0, 0.0); m];
    for c in centred {
        for (b, &x) in buf.iter_mut().zip(&c[..n]) {
            *b = Complex::new(x, 0.0);
        }
        buf[n..].fill(Complex::new(0.0, 0.0));
        forward.process(&mut buf);
        for (p, b) in power.iter_mut().zip(&buf) {
            p.re += b.norm_sqr();
        }
    }
    inverse.process(&mut power);
    power[..n].iter().map(|p| p.re / m as f64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The FFT sums match the direct ones at every lag, for one and several
    /// series of awkward lengths.
    #[test]
    fn fft_sums_match_direct_sums() {
        let series = |len: usize, salt: u64| -> Vec<f64> {
            let mut z = salt;
            let mut v = 0.0;
            (0..len)
                .map(|_| {
                    z = z
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    // AR(1) with φ = 0.9: correlations at many lags
                    v = 0.9 * v + ((z >> 11) as f64 / (1u64 << 53) as f64 - 0.5);
                    v
                })
                .collect()
        };
        for (len, k) in [(37usize, 1usize), (1000, 3), (4097, 2)] {
            let centred: Vec<Vec<f64>> = (0..k).map(|i| series(len, i as u64 + 7)).collect();
            let fft = by_fft(&centred, len);
            let scale: f64 = centred.iter().map(|c| dot_lanes(c, c)).sum();
            for t in 0..len {
                let direct: f64 = centred.iter().map(|c| dot_lanes(&c[..len - t], &c[t..])).sum();
                assert!(
                    (fft[t] - direct).abs() <= 1e-12 * scale,
                    "len {len} lag {t}: {} vs {direct}",
                    fft[t]
                );
            }
        }
    }
}
