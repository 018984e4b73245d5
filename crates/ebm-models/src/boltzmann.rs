//! The general Boltzmann machine: dense symmetric couplings, visible and hidden units.
//!
//! `n` binary units (bits by default, ±1 spins on request), the first
//! `n_visible` of which are visible, with
//!
//! ```text
//! E(x) = −Σ_i b_i x_i − Σ_{i<j} W_ij x_i x_j,   W symmetric, zero diagonal.
//! ```
//!
//! Flip deltas come from local fields in O(n) without allocation. Blocks are a
//! greedy colouring of the graph of non-zero couplings (singletons when W is
//! dense, few colours when it is sparse).
//!
//! **Layout of θ** ([`LogLinear::params`]): the upper triangle of W row-major
//! (`W_01, W_02, …, W_0(n−1), W_12, …`), then b; `φ(x) = [x_i x_j (i<j), x]`.
//! With hidden units `add_data_statistics` returns `false`: `E[x_i x_j | v]`
//! has no closed form, and the trainer samples h with v clamped.
//!
//! ```
//! use ebm_core::{Beta, EnergyModel, LogLinear};
//! use ebm_models::boltzmann::BoltzmannMachine;
//!
//! // two visible units and one hidden unit, every pair coupled
//! let bm = BoltzmannMachine::new(
//!     vec![0.0, 1.0, -0.5, 1.0, 0.0, 0.25, -0.5, 0.25, 0.0],
//!     vec![0.1, 0.2, 0.3],
//!     2,
//! )?;
//! assert_eq!(bm.params(), &[1.0, -0.5, 0.25, 0.1, 0.2, 0.3]);
//! assert_eq!(bm.energy(&[1, 1, 0]), -(0.1 + 0.2 + 1.0));
//! # Ok::<(), ebm_core::Error>(())
//! ```

use crate::linalg::{self, dot_i8};
use ebm_core::{
    BinaryModel, Blocks, Domain, EnergyModel, Error, LogLinear, Purpose, Result, Seed,
    check_finite, check_len,
};

/// A Boltzmann machine with dense symmetric couplings (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
pub struct BoltzmannMachine {
    domain: Domain,
    n: usize,
    nv: usize,
    /// `[upper triangle of W (row-major, i < j), b]`.
    theta: Vec<f64>,
    /// The full n × n symmetric W (zero diagonal), for O(n) local fields.
    w: Vec<f64>,
}

fn n_pairs(n: usize) -> usize {
    n * n.saturating_sub(1) / 2
}

impl BoltzmannMachine {
    /// A machine of bits from the full couplings `w` (row-major `n × n`,
    /// symmetric, zero diagonal), biases `b` (length n) and the number of
    /// visible units (the first `n_visible` units).
    ///
    /// Errors: `n = 0`, `n_visible > n`, `w.len() ≠ n²`, non-finite values, a
    /// non-zero diagonal or an asymmetric W.
    pub fn new(w: Vec<f64>, b: Vec<f64>, n_visible: usize) -> Result<Self> {
        Self::with_domain(Domain::Bit, w, b, n_visible)
    }

    /// As [`BoltzmannMachine::new`], in either domain (±1 spins or 0/1 bits).
    pub fn with_domain(domain: Domain, w: Vec<f64>, b: Vec<f64>, n_visible: usize) -> Result<Self> {
        let n = b.len();
        check_shape(n, n_visible)?;
        check_len("couplings (n × n)", n * n, w.len())?;
        check_finite("couplings", &w)?;
        check_finite("biases", &b)?;
        for i in 0..n {
            let d = w[i * n + i];
            if d != 0.0 {
                return Err(Error::InvalidParameter {
                    name: "coupling diagonal",
                    value: d,
                    expected: "0",
                });
            }
            for j in 0..i {
                if w[i * n + j] != w[j * n + i] {
                    return Err(Error::InvalidParameter {
                        name: "coupling asymmetry W_ij − W_ji",
                        value: w[i * n + j] - w[j * n + i],
                        expected: "0 (W symmetric)",
                    });
                }
            }
        }
        let mut theta = Vec::with_capacity(n_pairs(n) + n);
        for i in 0..n {
            theta.extend_from_slice(&w[i * n + i + 1..(i + 1) * n]);
        }
        theta.extend_from_slice(&b);
        Ok(BoltzmannMachine { domain, n, nv: n_visible, theta, w })
    }

    /// A machine from the upper triangle of W (row-major, i < j; length
    /// n(n−1)/2) and biases `b` (length n): the layout of θ.
    pub fn from_upper(
        domain: Domain,
        upper: &[f64],
        b: Vec<f64>,
        n_visible: usize,
    ) -> Result<Self> {
        let n = b.len();
        check_shape(n, n_visible)?;
        check_len("upper-triangle couplings", n_pairs(n), upper.len())?;
        check_finite("couplings", upper)?;
        check_finite("biases", &b)?;
        let mut theta = upper.to_vec();
        theta.extend_from_slice(&b);
        let mut bm = BoltzmannMachine { domain, n, nv: n_visible, theta, w: vec![0.0; n * n] };
        bm.refresh();
        Ok(bm)
    }

    /// A machine of bits with every coupling (upper triangle) and bias drawn
    /// from N(0, scale²), from `seed.stream(Purpose::INIT, 0)` in θ order.
    pub fn random(n_units: usize, n_visible: usize, scale: f64, seed: Seed) -> Result<Self> {
        check_shape(n_units, n_visible)?;
        if !(scale.is_finite() && scale >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "scale",
                value: scale,
                expected: "finite and ≥ 0",
            });
        }
        let mut theta = vec![0.0; n_pairs(n_units) + n_units];
        linalg::fill_normal(&mut seed.stream(Purpose::INIT, 0), scale, &mut theta);
        let (upper, b) = theta.split_at(n_pairs(n_units));
        Self::from_upper(Domain::Bit, upper, b.to_vec(), n_visible)
    }

    /// Number of hidden units, `n_units − n_visible`.
    pub fn n_hidden(&self) -> usize {
        self.n - self.nv
    }

    /// The full coupling matrix, row-major n × n (symmetric, zero diagonal).
    pub fn couplings(&self) -> &[f64] {
        &self.w
    }

    /// The biases b.
    pub fn biases(&self) -> &[f64] {
        &self.theta[n_pairs(self.n)..]
    }

    /// Rebuilds the full W from θ's upper triangle (no allocation).
    fn refresh(&mut self) {
        let n = self.n;
        let mut k = 0;
        for i in 0..n {
            self.w[i * n + i] = 0.0;
            for j in i + 1..n {
                let x = self.theta[k];
                self.w[i * n + j] = x;
                self.w[j * n + i] = x;
                k += 1;
            }
        }
    }

    /// The local field `b_i + Σ_j W_ij x_j` (W_ii = 0).
    #[inline]
    fn field(&self, x: &[i8], i: usize) -> f64 {
        self.biases()[i] + dot_i8(&self.w[i * self.n..(i + 1) * self.n], x)
    }
}

fn check_shape(n: usize, n_visible: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::InvalidParameter { name: "n_units", value: 0.0, expected: "≥ 1" });
    }
    if n_visible > n {
        return Err(Error::InvalidParameter {
            name: "n_visible",
            value: n_visible as f64,
            expected: "≤ n_units",
        });
    }
    Ok(())
}

impl EnergyModel for BoltzmannMachine {
    type Space = Domain;

    fn n_units(&self) -> usize {
        self.n
    }

    fn space(&self) -> &Domain {
        &self.domain
    }

    /// `−Σ_i x_i (b_i + Σ_{j>i} W_ij x_j)`, in f64.
    fn energy(&self, x: &[i8]) -> f64 {
        let n = self.n;
        let b = self.biases();
        let mut e = 0.0;
        for (i, &xi) in x.iter().enumerate().take(n) {
            if xi != 0 {
                e += f64::from(xi)
                    * (b[i] + dot_i8(&self.w[i * n + i + 1..(i + 1) * n], &x[i + 1..]));
            }
        }
        -e
    }
}

impl BinaryModel for BoltzmannMachine {
    /// `−(x_i' − x_i) (b_i + Σ_j W_ij x_j)`: O(n), no allocation.
    fn flip_delta(&self, x: &[i8], i: usize) -> f64 {
        let dx = self.domain.flip(x[i]) - x[i];
        -f64::from(dx) * self.field(x, i)
    }

    /// A greedy colouring of the graph of non-zero couplings, units in order:
    /// each block is an independent set.
    fn blocks(&self) -> Blocks {
        let n = self.n;
        let mut colour = vec![usize::MAX; n];
        let mut used = vec![usize::MAX; n + 1];
        for i in 0..n {
            for j in 0..i {
                if self.w[i * n + j] != 0.0 {
                    used[colour[j]] = i;
                }
            }
            colour[i] = (0..=n).find(|&c| used[c] != i).unwrap_or(i);
        }
        Blocks::from_colouring(&colour).unwrap_or_else(|_| Blocks::singletons(n))
    }
}

impl LogLinear for BoltzmannMachine {
    /// `[upper triangle of W (row-major, i < j), b]`.
    fn params(&self) -> &[f64] {
        &self.theta
    }

    fn set_params(&mut self, theta: &[f64]) -> Result<()> {
        check_len("params", self.theta.len(), theta.len())?;
        check_finite("params", theta)?;
        self.theta.copy_from_slice(theta);
        self.refresh();
        Ok(())
    }

    /// `φ(x) = [x_i x_j (i < j, row-major), x]`.
    fn add_statistics(&self, x: &[i8], weight: f64, out: &mut [f64]) {
        let n = self.n;
        let (pairs, bias) = out.split_at_mut(n_pairs(n));
        let mut k = 0;
        for i in 0..n {
            let len = n - i - 1;
            if x[i] != 0 {
                let s = weight * f64::from(x[i]);
                for (o, &xj) in pairs[k..k + len].iter_mut().zip(&x[i + 1..]) {
                    *o += s * f64::from(xj);
                }
            }
            k += len;
        }
        for (o, &xi) in bias.iter_mut().zip(x) {
            *o += weight * f64::from(xi);
        }
    }

    fn n_visible(&self) -> usize {
        self.nv
    }
}
