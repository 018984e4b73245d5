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
    type Space = Domain;

    fn n_units(&self) -> usize {
        self.b.len()
    }

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

/// A dense pairwise model of categorical units with arbitrary interaction
/// tables, implemented with nothing but `energy` (every other method is the
/// trait default): `E(x) = −Σ_{i<j} W_ij(x_i, x_j) − Σ_i b_i(x_i)`.
///
/// The most general pairwise q-state model: Potts (W_ij(a, b) = J δ_ab),
/// clock and mixed-alphabet models are special cases. Tables are stored for
/// each pair i < j in order (q_i × q_j values, row-major in x_i), then the
/// fields (q_i values per unit).
///
/// ```
/// use ebm_core::{Categories, EnergyModel, Seed};
/// use ebm_testkit::toy::DenseCategorical;
/// let m = DenseCategorical::random(Categories::new(vec![2, 3, 4])?, 1.0, Seed(1))?;
/// assert_eq!(m.n_units(), 3);
/// assert!(m.energy(&[1, 2, 3]).is_finite());
/// # Ok::<(), ebm_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DenseCategorical {
    space: ebm_core::Categories,
    /// Offset of pair (i, j)'s table, i < j, at `pair_offset[i * n + j]`.
    pair_offset: Vec<usize>,
    tables: Vec<f64>,
    field_offset: Vec<usize>,
    fields: Vec<f64>,
}

impl DenseCategorical {
    /// The model with interaction `tables` (pairs i < j in order, q_i × q_j
    /// each) and `fields` (q_i per unit); all finite.
    pub fn new(space: ebm_core::Categories, tables: Vec<f64>, fields: Vec<f64>) -> Result<Self> {
        use ebm_core::FiniteSpace;
        let n = space.len();
        let q: Vec<usize> = (0..n).map(|i| space.n_values(i)).collect();
        let mut pair_offset = vec![0; n * n];
        let mut total = 0;
        for i in 0..n {
            for j in i + 1..n {
                pair_offset[i * n + j] = total;
                total += q[i] * q[j];
            }
        }
        check_len("interaction tables", total, tables.len())?;
        check_len("fields (Σ q_i)", q.iter().sum(), fields.len())?;
        check_finite("interaction tables", &tables)?;
        check_finite("fields", &fields)?;
        let field_offset =
            q.iter().scan(0, |acc, &qi| Some(std::mem::replace(acc, *acc + qi))).collect();
        Ok(DenseCategorical { space, pair_offset, tables, field_offset, fields })
    }

    /// Every table entry and field uniform in `[−scale, scale]`, from
    /// `seed`'s INIT stream 0.
    pub fn random(space: ebm_core::Categories, scale: f64, seed: ebm_core::Seed) -> Result<Self> {
        use ebm_core::FiniteSpace;
        let n = space.len();
        let q: Vec<usize> = (0..n).map(|i| space.n_values(i)).collect();
        let pairs: usize = (0..n).map(|i| (i + 1..n).map(|j| q[i] * q[j]).sum::<usize>()).sum();
        let mut rng = seed.stream(ebm_core::Purpose::INIT, 0);
        let mut draw = |k: usize| -> Vec<f64> {
            (0..k).map(|_| scale * (2.0 * ebm_core::uniform(&mut rng) - 1.0)).collect()
        };
        let tables = draw(pairs);
        let fields = draw(q.iter().sum());
        DenseCategorical::new(space, tables, fields)
    }

    /// The same model with every parameter multiplied by `s` (E scales by s).
    pub fn scaled(&self, s: f64) -> DenseCategorical {
        DenseCategorical {
            tables: self.tables.iter().map(|t| t * s).collect(),
            fields: self.fields.iter().map(|f| f * s).collect(),
            ..self.clone()
        }
    }
}

impl EnergyModel for DenseCategorical {
    type Space = ebm_core::Categories;

    fn n_units(&self) -> usize {
        self.space.len()
    }

    fn space(&self) -> &ebm_core::Categories {
        &self.space
    }

    fn energy(&self, x: &[u8]) -> f64 {
        use ebm_core::FiniteSpace;
        let n = x.len();
        let mut e = 0.0;
        for i in 0..n {
            e -= self.fields[self.field_offset[i] + usize::from(x[i])];
            for j in i + 1..n {
                let qj = self.space.n_values(j);
                let t = self.pair_offset[i * n + j] + usize::from(x[i]) * qj + usize::from(x[j]);
                e -= self.tables[t];
            }
        }
        e
    }
}

impl ebm_core::CategoricalModel for DenseCategorical {}

/// A multivariate Gaussian as an energy model over real units, the exact
/// oracle for continuous samplers: `E(x) = ½ (x − μ)ᵀ A (x − μ)` with a
/// symmetric positive-definite precision A, so at β
///
/// ```text
/// ln Z(β) = (n/2) ln(2π/β) − ½ ln det A,   ⟨x⟩ = μ,   Cov(x) = A⁻¹ / β
/// ```
///
/// (through a Cholesky factor of A).
///
/// ```
/// use ebm_testkit::toy::Gaussian;
/// let g = Gaussian::new(vec![1.0, -1.0], vec![2.0, 0.5, 0.5, 1.0])?;
/// let cov = g.covariance(1.0);
/// assert!((cov[0] - 1.0 / 1.75).abs() < 1e-12); // (A⁻¹)₀₀ = 1 / (2 − 0.25)
/// # Ok::<(), ebm_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Gaussian {
    mean: Vec<f64>,
    precision: Vec<f64>,
    log_det: f64,
    inverse: Vec<f64>,
}

impl Gaussian {
    /// The Gaussian with mean `mean` (n values) and precision `precision`
    /// (n × n, row-major, symmetric positive definite).
    pub fn new(mean: Vec<f64>, precision: Vec<f64>) -> Result<Self> {
        let n = mean.len();
        check_len("precision (n × n)", n * n, precision.len())?;
        check_finite("mean", &mean)?;
        check_finite("precision", &precision)?;
        let a = nalgebra::DMatrix::from_row_slice(n, n, &precision);
        if (0..n).any(|i| (0..i).any(|j| a[(i, j)] != a[(j, i)])) {
            return Err(Error::InvalidParameter {
                name: "precision asymmetry",
                value: 1.0,
                expected: "a symmetric matrix",
            });
        }
        let chol = nalgebra::Cholesky::new(a).ok_or(Error::InvalidParameter {
            name: "precision",
            value: 0.0,
            expected: "positive definite",
        })?;
        let log_det = 2.0 * chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
        let inv = chol.inverse();
        let inverse =
            (0..n).flat_map(|i| (0..n).map(move |j| (i, j))).map(|(i, j)| inv[(i, j)]).collect();
        Ok(Gaussian { mean, precision, log_det, inverse })
    }

    /// The mean μ.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// `ln Z(β) = (n/2) ln(2π/β) − ½ ln det A`.
    pub fn log_z(&self, beta: f64) -> f64 {
        let n = self.mean.len() as f64;
        0.5 * n * (std::f64::consts::TAU / beta).ln() - 0.5 * self.log_det
    }

    /// `Cov(x) = A⁻¹ / β`, row-major.
    pub fn covariance(&self, beta: f64) -> Vec<f64> {
        self.inverse.iter().map(|c| c / beta).collect()
    }
}

impl EnergyModel for Gaussian {
    type Space = ebm_core::Reals;
    fn n_units(&self) -> usize {
        self.mean.len()
    }
    fn space(&self) -> &ebm_core::Reals {
        &ebm_core::Reals
    }
    fn energy(&self, x: &[f64]) -> f64 {
        let n = self.mean.len();
        let d: Vec<f64> = x.iter().zip(&self.mean).map(|(a, m)| a - m).collect();
        0.5 * (0..n)
            .map(|i| d[i] * (0..n).map(|j| self.precision[i * n + j] * d[j]).sum::<f64>())
            .sum::<f64>()
    }
}

impl ebm_core::GradientModel for Gaussian {
    fn energy_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let n = self.mean.len();
        let mut e = 0.0;
        for i in 0..n {
            let g: f64 = (0..n).map(|j| self.precision[i * n + j] * (x[j] - self.mean[j])).sum();
            grad[i] = g;
            e += 0.5 * (x[i] - self.mean[i]) * g;
        }
        e
    }
}
