//! Conformance checks any model implementer can run.
//!
//! Each check takes a model and a state (or draws nothing itself), compares a
//! fast path against the slow definition, and reports the first
//! [`Violation`]. Use them inside proptest with states from
//! [`crate::strategies`], or on hand-picked states.
//!
//! ```
//! use ebm_core::Domain;
//! use ebm_testkit::{check_blocks, check_flip_deltas, toy::Dense};
//! let m = Dense::from_upper(Domain::Spin, &[1.0, -0.5, 2.0], vec![0.1, 0.2, 0.3])?;
//! check_flip_deltas(&m, &[1, -1, 1], 1e-12).unwrap();
//! check_blocks(&m, &[1, -1, 1], 1e-12).unwrap();
//! # Ok::<(), ebm_core::Error>(())
//! ```

use ebm_core::{Beta, BinaryModel, CategoricalModel, FiniteSpace, LogLinear, UnitOf};
use std::fmt;

/// A failed conformance check: which check, and what differed.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The check's name.
    pub check: &'static str,
    /// What was found.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.check, self.message)
    }
}

impl std::error::Error for Violation {}

fn fail<T>(check: &'static str, message: String) -> Result<T, Violation> {
    Err(Violation { check, message })
}

/// |a − b| ≤ tol · max(1, |a|, |b|).
fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * 1f64.max(a.abs()).max(b.abs())
}

/// Checks `flip_delta(x, i) = E(x with i flipped) − E(x)` for every unit, and
/// that flipping twice returns the same state with opposite deltas.
pub fn check_flip_deltas<M: BinaryModel + ?Sized>(
    model: &M,
    x: &[i8],
    tol: f64,
) -> Result<(), Violation> {
    const CHECK: &str = "flip_delta";
    if x.len() != model.n_units() {
        return fail(CHECK, format!("state has {} units, model {}", x.len(), model.n_units()));
    }
    let d = model.domain();
    let e0 = model.energy(x);
    let mut y = x.to_vec();
    for i in 0..x.len() {
        let delta = model.flip_delta(x, i);
        y[i] = d.flip(y[i]);
        let e1 = model.energy(&y);
        // the scale of the energies limits the attainable accuracy of a difference
        if !close(delta, e1 - e0, tol) && (delta - (e1 - e0)).abs() > tol * e0.abs().max(e1.abs()) {
            return fail(
                CHECK,
                format!("unit {i}: flip_delta {delta}, energy difference {}", e1 - e0),
            );
        }
        let back = model.flip_delta(&y, i);
        if !close(back, -delta, tol) && (back + delta).abs() > tol * e0.abs().max(e1.abs()) {
            return fail(CHECK, format!("unit {i}: delta {delta} but flipping back gives {back}"));
        }
        y[i] = d.flip(y[i]);
    }
    Ok(())
}

/// Checks that `blocks()` partitions the units into independent sets, as far
/// as state `x` can show: within a block, flipping unit j never changes the
/// flip delta of unit i; and `block_deltas` agrees with `flip_delta`.
pub fn check_blocks<M: BinaryModel + ?Sized>(
    model: &M,
    x: &[i8],
    tol: f64,
) -> Result<(), Violation> {
    const CHECK: &str = "blocks";
    let blocks = model.blocks();
    if blocks.n_units() != model.n_units() {
        return fail(
            CHECK,
            format!("blocks cover {} units, model has {}", blocks.n_units(), model.n_units()),
        );
    }
    let d = model.domain();
    let mut y = x.to_vec();
    let mut out = vec![0.0; blocks.max_block_len()];
    for (b, block) in blocks.iter().enumerate() {
        model.block_deltas(x, block, &mut out[..block.len()]);
        for (k, &i) in block.iter().enumerate() {
            let delta = model.flip_delta(x, i);
            if !close(out[k], delta, tol) {
                return fail(
                    CHECK,
                    format!("block {b}, unit {i}: block_deltas {} vs flip_delta {delta}", out[k]),
                );
            }
            for &j in block {
                if j == i {
                    continue;
                }
                y[j] = d.flip(y[j]);
                let after = model.flip_delta(&y, i);
                y[j] = d.flip(y[j]);
                if !close(after, delta, tol) {
                    return fail(
                        CHECK,
                        format!(
                            "block {b}: units {i} and {j} interact (Δ_{i} = {delta}, {after} after flipping {j})"
                        ),
                    );
                }
            }
        }
    }
    Ok(())
}

/// Checks the log-linear contract on state `x`: `E(x) = −⟨θ, φ(x)⟩` (or, for
/// a model that is not linear in θ, `φ = −∂E/∂θ` by finite differences), batch
/// statistics equal the sum of single ones, and `set_params` rejects a wrong
/// length and non-finite values without changing the model, and accepts its
/// own parameters.
pub fn check_log_linear<M: LogLinear + ?Sized>(
    model: &mut M,
    x: &[UnitOf<M>],
    tol: f64,
) -> Result<(), Violation> {
    const CHECK: &str = "log_linear";
    let theta = model.params().to_vec();
    if theta.len() != model.n_params() {
        return fail(
            CHECK,
            format!("n_params {} but params().len() {}", model.n_params(), theta.len()),
        );
    }
    let mut phi = vec![0.0; theta.len()];
    model.add_statistics(x, 1.0, &mut phi);
    if model.is_linear() {
        let dot: f64 = theta.iter().zip(&phi).map(|(t, p)| t * p).sum();
        let scale: f64 = theta.iter().zip(&phi).map(|(t, p)| (t * p).abs()).sum();
        let e = model.energy(x);
        if (e + dot).abs() > tol * scale.max(1.0) {
            return fail(CHECK, format!("E(x) = {e} but −⟨θ, φ(x)⟩ = {}", -dot));
        }
    } else {
        // φ_θ(x) = −∂E_θ(x)/∂θ, by central differences (error O(h²))
        let h = 1e-5;
        for k in 0..theta.len() {
            let mut e = [0.0; 2];
            for (s, sign) in [(0, 1.0), (1, -1.0)] {
                let mut t = theta.clone();
                t[k] += sign * h * (1.0 + theta[k].abs());
                if let Err(err) = model.set_params(&t) {
                    return fail(CHECK, format!("set_params near θ rejected: {err}"));
                }
                e[s] = model.energy(x);
            }
            let fd = -(e[0] - e[1]) / (2.0 * h * (1.0 + theta[k].abs()));
            if (phi[k] - fd).abs() > tol.max(1e-6) * (1.0 + fd.abs()) {
                let _ = model.set_params(&theta);
                return fail(CHECK, format!("φ[{k}] = {} but −∂E/∂θ_{k} = {fd}", phi[k]));
            }
        }
        if let Err(err) = model.set_params(&theta) {
            return fail(CHECK, format!("set_params rejected the model's own parameters: {err}"));
        }
    }
    let mut two = vec![0.0; theta.len()];
    let mut xs = x.to_vec();
    xs.extend_from_slice(x);
    model.add_statistics_batch(&xs, 0.5, &mut two);
    if let Some(k) = (0..phi.len()).find(|&k| !close(two[k], phi[k], tol)) {
        return fail(CHECK, format!("batch statistic {k}: {} vs single {}", two[k], phi[k]));
    }
    if model.set_params(&theta[..theta.len().saturating_sub(1)]).is_ok() && !theta.is_empty() {
        return fail(CHECK, "set_params accepted a parameter vector one too short".into());
    }
    if !theta.is_empty() {
        let mut bad = theta.clone();
        bad[theta.len() / 2] = f64::NAN;
        if model.set_params(&bad).is_ok() {
            return fail(CHECK, "set_params accepted a NaN".into());
        }
        if model.params() != theta.as_slice() {
            return fail(CHECK, "a rejected set_params changed the parameters".into());
        }
    }
    if let Err(err) = model.set_params(&theta) {
        return fail(CHECK, format!("set_params rejected the model's own parameters: {err}"));
    }
    if model.params() != theta.as_slice() {
        return fail(CHECK, "set_params(params()) changed the parameters".into());
    }
    Ok(())
}

/// Checks a closed-form `add_data_statistics(v)` against the definition
/// `E_β[φ(v, h) | v]`, enumerating the hidden units (at most 20). Passes
/// trivially for models that return `false` (no closed form).
pub fn check_data_statistics<M: LogLinear + BinaryModel + ?Sized>(
    model: &M,
    v: &[i8],
    beta: Beta,
    tol: f64,
) -> Result<(), Violation> {
    const CHECK: &str = "data_statistics";
    let (n, nv) = (model.n_units(), model.n_visible());
    if v.len() != nv {
        return fail(CHECK, format!("v has {} units, model {nv} visible", v.len()));
    }
    let nh = n - nv;
    if nh > 20 {
        return fail(CHECK, format!("{nh} hidden units are too many to enumerate"));
    }
    let mut fast = vec![0.0; model.n_params()];
    if !model.add_data_statistics(v, beta, 1.0, &mut fast) {
        return Ok(());
    }
    let d = model.domain();
    let mut x = v.to_vec();
    x.resize(n, d.low());
    // log-sum-exp over h of −β E(v, h)
    let log_w: Vec<f64> = (0..1u64 << nh)
        .map(|code| {
            d.decode(code, &mut x[nv..]);
            -beta.value() * model.energy(&x)
        })
        .collect();
    let m = log_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = log_w.iter().map(|l| (l - m).exp()).sum();
    let mut slow = vec![0.0; model.n_params()];
    for (code, l) in log_w.iter().enumerate() {
        d.decode(code as u64, &mut x[nv..]);
        model.add_statistics(&x, (l - m).exp() / z, &mut slow);
    }
    if let Some(k) = (0..slow.len()).find(|&k| !close(fast[k], slow[k], tol)) {
        return fail(
            CHECK,
            format!("statistic {k}: closed form {} vs enumeration {}", fast[k], slow[k]),
        );
    }
    Ok(())
}

/// Checks `local_energies(x, i)` against the definition for every unit of a
/// categorical model: `out[k] − out[x_i] = E(x with i set to k) − E(x)`.
pub fn check_local_energies<M: CategoricalModel + ?Sized>(
    model: &M,
    x: &[u8],
    tol: f64,
) -> Result<(), Violation> {
    const CHECK: &str = "local_energies";
    if x.len() != model.n_units() {
        return fail(CHECK, format!("state has {} units, model {}", x.len(), model.n_units()));
    }
    let space = model.space();
    let e0 = model.energy(x);
    let mut y = x.to_vec();
    let mut out = vec![0.0; space.max_values()];
    for i in 0..x.len() {
        let q = space.n_values(i);
        model.local_energies(x, i, &mut out[..q]);
        for k in 0..q {
            y[i] = k as u8;
            let slow = model.energy(&y) - e0;
            let fast = out[k] - out[usize::from(x[i])];
            if !close(fast, slow, tol) {
                return fail(CHECK, format!("unit {i}, value {k}: {fast} vs E difference {slow}"));
            }
        }
        y[i] = x[i];
    }
    Ok(())
}

/// Checks that a categorical model's `blocks()` partitions the units into
/// independent sets, as far as state `x` can show: within a block, changing
/// unit j never changes the local energies of unit i.
pub fn check_categorical_blocks<M: CategoricalModel + ?Sized>(
    model: &M,
    x: &[u8],
    tol: f64,
) -> Result<(), Violation> {
    const CHECK: &str = "blocks";
    let blocks = ebm_core::CategoricalModel::blocks(model);
    if blocks.n_units() != model.n_units() {
        return fail(
            CHECK,
            format!("blocks cover {} units, model has {}", blocks.n_units(), model.n_units()),
        );
    }
    let space = model.space();
    let mut y = x.to_vec();
    let (mut before, mut after) = (vec![0.0; space.max_values()], vec![0.0; space.max_values()]);
    for (b, block) in blocks.iter().enumerate() {
        for &i in block {
            let q = space.n_values(i);
            model.local_energies(x, i, &mut before[..q]);
            for &j in block.iter().filter(|&&j| j != i) {
                for v in 0..space.n_values(j) {
                    y[j] = v as u8;
                    model.local_energies(&y, i, &mut after[..q]);
                    let shift = after[0] - before[0];
                    if (0..q).any(|k| !close(after[k] - shift, before[k], tol)) {
                        return fail(
                            CHECK,
                            format!("block {b}: units {i} and {j} interact (changing {j} to {v})"),
                        );
                    }
                }
                y[j] = x[j];
            }
        }
    }
    Ok(())
}

/// Checks `energy_and_gradient` of a real-valued model at `x`: the energy
/// equals `energy(x)`, and every gradient component equals the central
/// finite difference with step `h` (relative tolerance `tol`, scaled by the
/// gradient's size and by h² curvature terms the difference cannot resolve).
/// The perturbed points `x ± h e_i` are wrapped into the model's space
/// (`ContinuousSpace::wrap`), so the check works at the edge of the torus.
pub fn check_gradient<M: ebm_core::GradientModel + ?Sized>(
    model: &M,
    x: &[f64],
    h: f64,
    tol: f64,
) -> Result<(), Violation> {
    const CHECK: &str = "gradient";
    let n = model.n_units();
    if x.len() != n {
        return fail(CHECK, format!("state has {} units, model {n}", x.len()));
    }
    let mut g = vec![0.0; n];
    let e = model.energy_and_gradient(x, &mut g);
    if !close(e, model.energy(x), 1e-12) {
        return fail(
            CHECK,
            format!("energy_and_gradient gives E = {e}, energy {}", model.energy(x)),
        );
    }
    let mut y = x.to_vec();
    let space = model.space();
    for i in 0..n {
        // the perturbed points are wrapped into the space (the torus: mod 2π)
        y[i] = x[i] + h;
        ebm_core::ContinuousSpace::wrap(space, &mut y);
        let up = model.energy(&y);
        y[i] = x[i] - h;
        ebm_core::ContinuousSpace::wrap(space, &mut y);
        let down = model.energy(&y);
        y[i] = x[i];
        let fd = (up - down) / (2.0 * h);
        if !close(fd, g[i], tol) {
            return fail(CHECK, format!("∂E/∂x_{i}: gradient {} vs finite difference {fd}", g[i]));
        }
    }
    Ok(())
}
