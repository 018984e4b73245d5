//! Centring (Melchior, Fischer & Wiskott 2016, "How to center deep
//! Boltzmann machines", JMLR 17): the RBM's energy written around offsets
//! μ (visible) and λ (hidden),
//!
//! `E(v, h) = −(v − μ)ᵀ W (h − λ) − b'ᵀ(v − μ) − c'ᵀ(h − λ)`,
//!
//! describes the same family as the plain RBM (b = b' − Wλ, c = c' − Wᵀμ up
//! to a constant), but gradient ascent in the centred coordinates is better
//! conditioned: the weight gradient no longer carries the data's mean. In the
//! plain coordinates the model stores, a centred step is a linear map of the
//! plain gradient `g = (g_W, g_b, g_c)`:
//!
//! `g'_W = g_W − μ g_cᵀ − g_b λᵀ`, `g'_b = g_b − g'_W λ`, `g'_c = g_c − g'_Wᵀ μ`
//!
//! (a step along `(g'_W, g_b, g_c)` in centred coordinates, mapped back).
//! The offsets follow the data: μ the visible means and λ the hidden means
//! `E[h | v]` of the mini-batches, as exponential moving averages with
//! sliding factor ν (their first values are the first batch's means). They
//! are part of the training state ([`crate::OptimizerState::offsets`]) and
//! of checkpoints, so a resumed run continues bit-identically.

use ebm_core::{Error, Result};

/// Centred gradients for an RBM, with offsets moving at rate `rate` (ν;
/// Melchior et al. use 0.01).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Centring {
    /// The sliding factor ν ∈ (0, 1] of the offsets' moving averages.
    pub rate: f64,
}

impl Centring {
    /// Checks ν ∈ (0, 1].
    pub fn validate(&self) -> Result<()> {
        if self.rate.is_finite() && self.rate > 0.0 && self.rate <= 1.0 {
            Ok(())
        } else {
            Err(Error::InvalidParameter {
                name: "centring rate",
                value: self.rate,
                expected: "in (0, 1]",
            })
        }
    }

    /// Moves the offsets `[μ (nv), λ (nh)]` toward this batch's visible and
    /// hidden means (`offsets` empty: starts them there).
    pub fn update_offsets(&self, offsets: &mut Vec<f64>, mean_v: &[f64], mean_h: &[f64]) {
        let n = mean_v.len() + mean_h.len();
        if offsets.len() != n {
            offsets.clear();
            offsets.extend(mean_v.iter().chain(mean_h));
            return;
        }
        let nu = self.rate;
        for (o, &m) in offsets.iter_mut().zip(mean_v.iter().chain(mean_h)) {
            *o += nu * (m - *o);
        }
    }

    /// Maps the plain gradient `[g_W (nv × nh, row-major), g_b, g_c]` to the
    /// centred step in place, with offsets `[μ, λ]`.
    pub fn centre(grad: &mut [f64], offsets: &[f64], nv: usize, nh: usize) {
        let (mu, lambda) = offsets.split_at(nv);
        let (gw, rest) = grad.split_at_mut(nv * nh);
        let (gb, gc) = rest.split_at_mut(nv);
        for ((row, &m), &b) in gw.chunks_exact_mut(nh).zip(mu).zip(gb.iter()) {
            for ((w, &c), &l) in row.iter_mut().zip(gc.iter()).zip(lambda) {
                *w -= m * c + b * l;
            }
        }
        for (row, b) in gw.chunks_exact(nh).zip(gb.iter_mut()) {
            *b -= row.iter().zip(lambda).map(|(w, l)| w * l).sum::<f64>();
        }
        for (row, &m) in gw.chunks_exact(nh).zip(mu) {
            for (c, &w) in gc.iter_mut().zip(row) {
                *c -= w * m;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against the definitions: g'_W is the difference of the centred
    /// statistics ⟨(v − μ)(h − λ)ᵀ⟩ of two sample sets, and the bias parts are
    /// what a step in centred coordinates does to the plain biases
    /// (b = b' − Wλ, c = c' − Wᵀμ, mapped there and back).
    #[test]
    fn the_map_is_a_step_in_centred_coordinates() {
        let (nv, nh) = (3, 2);
        let x = |k: usize| ((k as f64) * 0.731).sin().abs();
        // "data" and "model" samples: real values stand in for E[h | v]
        let set = |o: usize| -> Vec<(Vec<f64>, Vec<f64>)> {
            (0..5)
                .map(|r| {
                    (
                        (0..nv).map(|i| x(o + 7 * r + i)).collect(),
                        (0..nh).map(|j| x(o + 7 * r + 4 + j)).collect(),
                    )
                })
                .collect()
        };
        let (data, model) = (set(0), set(100));
        let offsets = [0.2, 0.7, 0.4, 0.55, 0.1];
        let (mu, lambda) = offsets.split_at(nv);
        let stats = |s: &[(Vec<f64>, Vec<f64>)], centred: bool| -> Vec<f64> {
            let mut out = vec![0.0; nv * nh + nv + nh];
            for (v, h) in s {
                for i in 0..nv {
                    for j in 0..nh {
                        let (a, b) =
                            if centred { (v[i] - mu[i], h[j] - lambda[j]) } else { (v[i], h[j]) };
                        out[i * nh + j] += a * b / s.len() as f64;
                    }
                    out[nv * nh + i] += v[i] / s.len() as f64;
                }
                for j in 0..nh {
                    out[nv * nh + nv + j] += h[j] / s.len() as f64;
                }
            }
            out
        };
        let diff = |a: Vec<f64>, b: Vec<f64>| -> Vec<f64> {
            a.iter().zip(&b).map(|(a, b)| a - b).collect()
        };
        let g = diff(stats(&data, false), stats(&model, false));
        let gc = diff(stats(&data, true), stats(&model, true));
        let mut mapped = g.clone();
        Centring::centre(&mut mapped, &offsets, nv, nh);
        for k in 0..nv * nh {
            assert!((mapped[k] - gc[k]).abs() < 1e-12, "{k}: {} vs {}", mapped[k], gc[k]);
        }
        // plain (W, b, c) → centred, step (g'_W, g_b, g_c) there, → plain
        let w: Vec<f64> = (0..nv * nh).map(|k| x(200 + k) - 0.5).collect();
        let (b, c) = (vec![0.3, -0.2, 0.1], vec![-0.4, 0.25]);
        let wl = |w: &[f64], i: usize| (0..nh).map(|j| w[i * nh + j] * lambda[j]).sum::<f64>();
        let wm = |w: &[f64], j: usize| (0..nv).map(|i| w[i * nh + j] * mu[i]).sum::<f64>();
        let w2: Vec<f64> = w.iter().zip(&gc).map(|(w, g)| w + g).collect();
        for i in 0..nv {
            let b_centred = b[i] + wl(&w, i) + g[nv * nh + i];
            let plain = b_centred - wl(&w2, i);
            assert!((plain - (b[i] + mapped[nv * nh + i])).abs() < 1e-12);
        }
        for j in 0..nh {
            let c_centred = c[j] + wm(&w, j) + g[nv * nh + nv + j];
            let plain = c_centred - wm(&w2, j);
            assert!((plain - (c[j] + mapped[nv * nh + nv + j])).abs() < 1e-12);
        }
        // offsets at zero: the plain gradient
        let mut same = g.clone();
        Centring::centre(&mut same, &[0.0; 5], nv, nh);
        assert_eq!(same, g);
    }

    #[test]
    fn offsets_start_at_the_first_batch_then_slide() {
        let c = Centring { rate: 0.25 };
        let mut o = Vec::new();
        c.update_offsets(&mut o, &[1.0], &[0.0, 0.5]);
        assert_eq!(o, vec![1.0, 0.0, 0.5]);
        c.update_offsets(&mut o, &[0.0], &[1.0, 0.5]);
        assert_eq!(o, vec![0.75, 0.25, 0.5]);
        assert!(Centring { rate: 0.0 }.validate().is_err());
        assert!(Centring { rate: f64::NAN }.validate().is_err());
        assert!(Centring { rate: 1.5 }.validate().is_err());
    }
}
