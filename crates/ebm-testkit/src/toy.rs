//! Tiny reference models implemented with nothing but `energy`.

use ebm_core::{BinaryModel, Domain, EnergyModel, Error, Result, check_finite, check_len};

/// A fully connected pairwise model written the slow, obvious way:
/// `E(x) = −Σ_i b_i x_i − Σ_{i<j} W_ij x_i x_j`, in either domain.
///
/// Its [`BinaryModel`] impl is empty: every sampler and exact enumeration run on
/// the trait's defaults, which is what makes it a reference.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    domain: Domain,
    /// Couplings, row-major n × n, symmetric with zero diagonal.
    w: Vec<f64>,
    /// Biases (fields).
    b: Vec<f64>,
}

impl Dense {
    /// Builds the model from symmetric couplings `w` (n × n, zero diagonal) and
    /// biases `b` (length n), all finite.
    pub fn new(domain: Domain, w: Vec<f64>, b: Vec<f64>) -> Result<Self> {
        let n = b.len();
        check_len("couplings", n * n, w.len())?;
        check_finite("couplings", &w)?;
        check_finite("biases", &b)?;
        for i in 0..n {
            if w[i * n + i] != 0.0 {
                return Err(Error::InvalidParameter {
                    name: "coupling diagonal",
                    value: w[i * n + i],
                    expected: "0",
                });
            }
            for j in 0..i {
                if w[i * n + j] != w[j * n + i] {
                    return Err(Error::InvalidParameter {
                        name: "coupling asymmetry",
                        value: w[i * n + j] - w[j * n + i],
                        expected: "0 (W symmetric)",
                    });
                }
            }
        }
        Ok(Dense { domain, w, b })
    }

    /// Builds from the upper triangle (row-major, i < j) instead of a full matrix.
    pub fn from_upper(domain: Domain, upper: &[f64], b: Vec<f64>) -> Result<Self> {
        let n = b.len();
        check_len("upper-triangle couplings", n * n.saturating_sub(1) / 2, upper.len())?;
        let mut w = vec![0.0; n * n];
        let mut k = 0;
        for i in 0..n {
            for j in i + 1..n {
                w[i * n + j] = upper[k];
                w[j * n + i] = upper[k];
                k += 1;
            }
        }
        Dense::new(domain, w, b)
    }

    /// W_ij.
    pub fn coupling(&self, i: usize, j: usize) -> f64 {
        self.w[i * self.b.len() + j]
    }

    /// b_i.
    pub fn bias(&self, i: usize) -> f64 {
        self.b[i]
    }

    /// Multiplies every coupling and bias by `s` (to reach large energies).
    pub fn scaled(&self, s: f64) -> Dense {
        Dense {
            domain: self.domain,
            w: self.w.iter().map(|w| w * s).collect(),
            b: self.b.iter().map(|b| b * s).collect(),
        }
    }
}

impl EnergyModel for Dense {
    fn n_units(&self) -> usize {
        self.b.len()
    }

    type Space = Domain;

    fn space(&self) -> &Domain {
        &self.domain
    }

    fn energy(&self, x: &[i8]) -> f64 {
        let n = self.b.len();
        let mut e = 0.0;
        for i in 0..n {
            let xi = f64::from(x[i]);
            e -= self.b[i] * xi;
            let row = &self.w[i * n + i + 1..(i + 1) * n];
            for (w, &xj) in row.iter().zip(&x[i + 1..]) {
                e -= w * xi * f64::from(xj);
            }
        }
        e
    }
}

impl BinaryModel for Dense {}
