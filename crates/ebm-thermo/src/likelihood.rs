//! Exact log-likelihoods and exact expectations of sufficient statistics, for
//! models small enough to enumerate: the oracle for trainers.

use crate::exact::{MAX_DISTRIBUTION_UNITS, exact};
use ebm_core::{Beta, BinaryModel, Error, LogLinear, Result, check_len};

/// The largest number of hidden units marginalised by enumeration.
pub const MAX_HIDDEN_UNITS: usize = 24;

/// ln Σ_h exp(−β E(v, h)) for visible values `v` (the first `v.len()` units),
/// by enumerating the remaining (hidden) units: `−β F(v)`.
pub fn log_marginal<M: BinaryModel + ?Sized>(model: &M, v: &[i8], beta: Beta) -> Result<f64> {
    let n = model.n_units();
    if v.len() > n {
        return Err(Error::ShapeMismatch { what: "visible vector", expected: n, found: v.len() });
    }
    let nh = n - v.len();
    if nh > MAX_HIDDEN_UNITS {
        return Err(Error::TooManyUnits { n_units: nh, max: MAX_HIDDEN_UNITS });
    }
    model.domain().validate(v)?;
    let d = model.domain();
    let mut x = v.to_vec();
    x.resize(n, d.low());
    let b = beta.value();
    let (mut m, mut s) = (f64::NEG_INFINITY, 0.0);
    for code in 0..1u64 << nh {
        d.decode(code, &mut x[v.len()..]);
        let a = -b * model.energy(&x);
        if a > m {
            s = s * (m - a).exp() + 1.0;
            m = a;
        } else {
            s += (a - m).exp();
        }
    }
    Ok(m + s.ln())
}

/// Mean exact log-likelihood of the rows of `data` (each `n_visible` values):
/// `mean_v [ln Σ_h exp(−β E(v, h))] − ln Z`.
pub fn exact_log_likelihood<M: BinaryModel + ?Sized>(
    model: &M,
    data: &[i8],
    n_visible: usize,
    beta: Beta,
) -> Result<f64> {
    ebm_core::check_rows("data (rows of n_visible values)", data.len(), n_visible)?;
    let log_z = exact(model, beta)?.log_z;
    let rows = data.len() / n_visible;
    let mut total = 0.0;
    for v in data.chunks_exact(n_visible) {
        total += log_marginal(model, v, beta)?;
    }
    Ok(total / rows as f64 - log_z)
}

/// ⟨φ⟩ under the exact model distribution at β (at most
/// [`MAX_DISTRIBUTION_UNITS`] units).
pub fn exact_model_statistics<M: LogLinear + BinaryModel + ?Sized>(
    model: &M,
    beta: Beta,
) -> Result<Vec<f64>> {
    let dist = crate::exact::exact_distribution(model, beta)?;
    let n = model.n_units();
    let d = model.domain();
    let mut x = vec![0i8; n];
    let mut out = vec![0.0; model.n_params()];
    for (code, &p) in dist.probs.iter().enumerate() {
        if p > 0.0 {
            d.decode(code as u64, &mut x);
            model.add_statistics(&x, p, &mut out);
        }
    }
    Ok(out)
}

/// Mean over the rows of `data` of `E_β[φ(v, h) | v]`, by enumerating the
/// hidden units (the data term of the log-likelihood gradient).
pub fn exact_data_statistics<M: LogLinear + BinaryModel + ?Sized>(
    model: &M,
    data: &[i8],
    beta: Beta,
) -> Result<Vec<f64>> {
    let (n, nv) = (model.n_units(), model.n_visible());
    check_len("data length modulo n_visible", 0, data.len() % nv.max(1))?;
    if n - nv > MAX_HIDDEN_UNITS || n > MAX_DISTRIBUTION_UNITS + MAX_HIDDEN_UNITS {
        return Err(Error::TooManyUnits { n_units: n - nv, max: MAX_HIDDEN_UNITS });
    }
    let d = model.domain();
    let rows = (data.len() / nv.max(1)).max(1) as f64;
    let mut out = vec![0.0; model.n_params()];
    let mut x = vec![0i8; n];
    for v in data.chunks_exact(nv.max(1)) {
        let log_m = log_marginal(model, v, beta)?;
        x[..nv].copy_from_slice(v);
        for code in 0..1u64 << (n - nv) {
            d.decode(code, &mut x[nv..]);
            let p = (-beta.value() * model.energy(&x) - log_m).exp();
            model.add_statistics(&x, p / rows, &mut out);
        }
    }
    Ok(out)
}

/// The exact gradient of the mean log-likelihood of `data`:
/// `β (⟨φ⟩_data − ⟨φ⟩_model)`.
pub fn exact_log_likelihood_gradient<M: LogLinear + BinaryModel + ?Sized>(
    model: &M,
    data: &[i8],
    beta: Beta,
) -> Result<Vec<f64>> {
    let pos = exact_data_statistics(model, data, beta)?;
    let neg = exact_model_statistics(model, beta)?;
    Ok(pos.iter().zip(&neg).map(|(p, q)| beta.value() * (p - q)).collect())
}
