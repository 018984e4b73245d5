//! Exact log-likelihoods and exact expectations of sufficient statistics, for
//! models small enough to enumerate: the oracle for trainers.

use crate::exact::{MAX_DISTRIBUTION_UNITS, exact};
use ebm_core::StateSpace;
use ebm_core::{Beta, Error, FiniteModel, FiniteSpace, LogLinear, Result, UnitOf, check_len};

/// The largest number of hidden units marginalised by enumeration.
pub const MAX_HIDDEN_UNITS: usize = 24;

/// The number of joint states of the units `nv..n` (the hidden ones), if at
/// most 2^24 ([`MAX_HIDDEN_UNITS`] binary units).
fn hidden_states<M: FiniteModel + ?Sized>(model: &M, nv: usize) -> Result<u64> {
    let (n, space) = (model.n_units(), model.space());
    let max = 1u64 << MAX_HIDDEN_UNITS;
    let binary = (nv..n).all(|i| space.n_values(i) == 2);
    let states = (nv..n).try_fold(1u64, |acc, i| acc.checked_mul(space.n_values(i) as u64));
    match states {
        Some(s) if s <= max => Ok(s),
        _ if binary => Err(Error::TooManyUnits { n_units: n - nv, max: MAX_HIDDEN_UNITS }),
        _ => Err(Error::TooManyStates {
            ln_states: (nv..n).map(|i| (space.n_values(i) as f64).ln()).sum(),
            max,
        }),
    }
}

/// Sets units `nv..` of `x` to the hidden state with mixed-radix code `code`
/// (unit nv fastest; for binary units bit k ⇔ unit nv + k high).
fn set_hidden<S: FiniteSpace + ?Sized>(space: &S, nv: usize, mut code: u64, x: &mut [S::Unit]) {
    for (i, v) in x.iter_mut().enumerate().skip(nv) {
        let q = space.n_values(i) as u64;
        *v = space.value(i, (code % q) as usize);
        code /= q;
    }
}

/// ln Σ_h exp(−β E(v, h)) for visible values `v` (the first `v.len()` units),
/// by enumerating the remaining (hidden) units: `−β F(v)`.
pub fn log_marginal<M: FiniteModel + ?Sized>(
    model: &M,
    v: &[UnitOf<M>],
    beta: Beta,
) -> Result<f64> {
    let n = model.n_units();
    if v.len() > n {
        return Err(Error::ShapeMismatch { what: "visible vector", expected: n, found: v.len() });
    }
    let states = hidden_states(model, v.len())?;
    let space = model.space();
    space.validate(v)?;
    let mut x = v.to_vec();
    x.extend((v.len()..n).map(|i| space.fixed_value(i)));
    let b = beta.value();
    let (mut m, mut s) = (f64::NEG_INFINITY, 0.0);
    for code in 0..states {
        set_hidden(space, v.len(), code, &mut x);
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
pub fn exact_log_likelihood<M: FiniteModel + ?Sized>(
    model: &M,
    data: &[UnitOf<M>],
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
pub fn exact_model_statistics<M: LogLinear + FiniteModel + ?Sized>(
    model: &M,
    beta: Beta,
) -> Result<Vec<f64>> {
    let dist = crate::exact::exact_distribution(model, beta)?;
    let n = model.n_units();
    let space = model.space();
    let mut x = vec![UnitOf::<M>::default(); n];
    let mut out = vec![0.0; model.n_params()];
    for (code, &p) in dist.probs.iter().enumerate() {
        if p > 0.0 {
            space.state_of_code(code as u64, &mut x);
            model.add_statistics(&x, p, &mut out);
        }
    }
    Ok(out)
}

/// Mean over the rows of `data` of `E_β[φ(v, h) | v]`, by enumerating the
/// hidden units (the data term of the log-likelihood gradient).
pub fn exact_data_statistics<M: LogLinear + FiniteModel + ?Sized>(
    model: &M,
    data: &[UnitOf<M>],
    beta: Beta,
) -> Result<Vec<f64>> {
    let (n, nv) = (model.n_units(), model.n_visible());
    check_len("data length modulo n_visible", 0, data.len() % nv.max(1))?;
    if n > MAX_DISTRIBUTION_UNITS + MAX_HIDDEN_UNITS {
        return Err(Error::TooManyUnits { n_units: n - nv, max: MAX_HIDDEN_UNITS });
    }
    let states = hidden_states(model, nv)?;
    let space = model.space();
    let rows = (data.len() / nv.max(1)).max(1) as f64;
    let mut out = vec![0.0; model.n_params()];
    let mut x: Vec<UnitOf<M>> = (0..n).map(|i| space.fixed_value(i)).collect();
    for v in data.chunks_exact(nv.max(1)) {
        let log_m = log_marginal(model, v, beta)?;
        x[..nv].copy_from_slice(v);
        for code in 0..states {
            set_hidden(space, nv, code, &mut x);
            let p = (-beta.value() * model.energy(&x) - log_m).exp();
            model.add_statistics(&x, p / rows, &mut out);
        }
    }
    Ok(out)
}

/// The exact gradient of the mean log-likelihood of `data`:
/// `β (⟨φ⟩_data − ⟨φ⟩_model)`.
pub fn exact_log_likelihood_gradient<M: LogLinear + FiniteModel + ?Sized>(
    model: &M,
    data: &[UnitOf<M>],
    beta: Beta,
) -> Result<Vec<f64>> {
    let pos = exact_data_statistics(model, data, beta)?;
    let neg = exact_model_statistics(model, beta)?;
    Ok(pos.iter().zip(&neg).map(|(p, q)| beta.value() * (p - q)).collect())
}
