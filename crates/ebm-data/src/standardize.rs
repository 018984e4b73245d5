//! Real-valued data for Gaussian units: intensities and per-feature
//! standardisation.
//!
//! ```text
//! z_i = (x_i − m_i) / s_i,   m_i = mean_r x_ri,   s_i = max(std_r x_ri, floor)
//! ```
//!
//! The statistics come from the training rows only and are applied to every
//! split; the floor keeps near-constant features (MNIST's border pixels) from
//! blowing up. [`Standardizer::invert`] maps model samples back to the data's
//! own units for pictures.
//!
//! ```
//! use ebm_data::standardize::Standardizer;
//! let rows = [0.0, 1.0, 2.0, 1.0]; // two rows of two features
//! let s = Standardizer::fit(&rows, 2, 0.1)?;
//! assert_eq!(s.apply(&rows)?, vec![-1.0, 0.0, 1.0, 0.0]);
//! # Ok::<(), ebm_core::Error>(())
//! ```

use ebm_core::{Error, Result, check_finite, check_len, check_rows};

/// Per-feature means and scales fitted to training rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    mean: Vec<f64>,
    scale: Vec<f64>,
}

impl Standardizer {
    /// The means and population standard deviations (floored at `floor`,
    /// finite and > 0) of `rows` (`width` features each, at least one row).
    pub fn fit(rows: &[f64], width: usize, floor: f64) -> Result<Self> {
        let n = check_rows("rows (whole rows of width values)", rows.len(), width)?;
        check_finite("rows", rows)?;
        if n == 0 || width == 0 {
            return Err(Error::InvalidParameter {
                name: "rows to standardise",
                value: 0.0,
                expected: "≥ 1 row of ≥ 1 feature",
            });
        }
        if !(floor.is_finite() && floor > 0.0) {
            return Err(Error::InvalidParameter {
                name: "standard-deviation floor",
                value: floor,
                expected: "finite and > 0",
            });
        }
        let mut mean = vec![0.0; width];
        for r in rows.chunks_exact(width) {
            mean.iter_mut().zip(r).for_each(|(m, x)| *m += x);
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut var = vec![0.0; width];
        for r in rows.chunks_exact(width) {
            for ((v, x), m) in var.iter_mut().zip(r).zip(&mean) {
                *v += (x - m) * (x - m);
            }
        }
        let scale = var.iter().map(|v| (v / n as f64).sqrt().max(floor)).collect();
        Ok(Standardizer { mean, scale })
    }

    /// Features per row.
    pub fn width(&self) -> usize {
        self.mean.len()
    }
    /// The means m_i.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }
    /// The scales s_i.
    pub fn scale(&self) -> &[f64] {
        &self.scale
    }

    /// `(x − m) / s` for every row of `rows` (finite values, whole rows).
    pub fn apply(&self, rows: &[f64]) -> Result<Vec<f64>> {
        check_rows("rows (whole rows of width values)", rows.len(), self.width())?;
        check_finite("rows", rows)?;
        let mut out = rows.to_vec();
        for r in out.chunks_exact_mut(self.width()) {
            for ((x, m), s) in r.iter_mut().zip(&self.mean).zip(&self.scale) {
                *x = (*x - m) / s;
            }
        }
        Ok(out)
    }

    /// `m + s z`, in place, for every row of `rows`.
    pub fn invert(&self, rows: &mut [f64]) -> Result<()> {
        check_len(
            "rows (a multiple of width)",
            rows.len().next_multiple_of(self.width()),
            rows.len(),
        )?;
        for r in rows.chunks_exact_mut(self.width()) {
            for ((z, m), s) in r.iter_mut().zip(&self.mean).zip(&self.scale) {
                *z = m + s * *z;
            }
        }
        Ok(())
    }
}

/// Pixel intensities in [0, 1]: `byte / 255` for every pixel.
pub fn intensities(pixels: &[u8]) -> Vec<f64> {
    pixels.iter().map(|&p| f64::from(p) / 255.0).collect()
}
