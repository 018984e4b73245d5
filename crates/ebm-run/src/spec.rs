//! Model specs: `ising:16x16`, `ising:64`, `ising:8x8x8`, `ising:16x16:open`,
//! `potts:Q:16x16` (q-state Potts on the same lattices), the Ising spin
//! glass `glass:16x16[:pm|:gauss][:open][:disorder=N]`, or a saved model file
//! (`.safetensors`, written by `ebm train`).

use ebm_core::{EnergyModel, Error, Result, UnitOf};
use ebm_data::SavedModel;
use ebm_models::boltzmann::BoltzmannMachine;
use ebm_models::ising::{Boundary, Ising};
use ebm_models::potts::Potts;
use ebm_models::potts_rbm::PottsRbm;
use ebm_models::rbm::Rbm;
use std::path::Path;

/// A model named on the command line.
#[derive(Debug, Clone)]
pub enum Model {
    /// An Ising lattice or graph.
    Ising(Ising),
    /// A restricted Boltzmann machine (joint state [v, h]).
    Rbm(Rbm),
    /// A general Boltzmann machine.
    Boltzmann(BoltzmannMachine),
    /// A q-state Potts lattice.
    Potts(Potts),
    /// A categorical-visible RBM (joint state [v, h]).
    PottsRbm(PottsRbm),
}

/// Runs `$body` with `$m` bound to the concrete model inside `$model`.
#[macro_export]
macro_rules! with_model {
    ($model:expr, $m:ident => $body:expr) => {
        match $model {
            $crate::spec::Model::Ising($m) => $body,
            $crate::spec::Model::Rbm($m) => $body,
            $crate::spec::Model::Boltzmann($m) => $body,
            $crate::spec::Model::Potts($m) => $body,
            $crate::spec::Model::PottsRbm($m) => $body,
        }
    };
}

impl Model {
    /// The lattice shape for pictures: (rows, cols).
    pub fn picture_shape(&self, n_units: usize) -> (usize, usize) {
        let dims = match self {
            Model::Ising(m) => m.lattice_dims(),
            Model::Potts(m) => m.lattice_shape().map(|l| l.dims()),
            _ => None,
        };
        match dims {
            Some([l]) => (1, *l),
            Some([l, c, ..]) => (*l, *c),
            _ => (1, n_units),
        }
    }
}

/// What [`Observed::observe`] measures of one configuration: the values
/// `ebm sample` records after every sweep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// E(x).
    pub energy: f64,
    /// [`Observed::order`].
    pub order: f64,
    /// [`Observed::magnetization_sq`].
    pub magnetization_sq: f64,
    /// [`Observed::lowest_mode`].
    pub lowest_mode: f64,
}

/// What `ebm sample` records besides the energy: an order parameter in
/// [0, 1], the magnetisation moments of a finite-size-scaling study, and the
/// colour (palette index) of each unit for pictures.
pub trait Observed: EnergyModel {
    /// The energy and the observables below at once, as the run records
    /// them after every sweep. A model overrides this to share passes over
    /// `x` between them; the values must be those of the separate methods,
    /// bit for bit.
    fn observe(&self, x: &[UnitOf<Self>]) -> Observation {
        Observation {
            energy: self.energy(x),
            order: self.order(x),
            magnetization_sq: self.magnetization_sq(x),
            lowest_mode: self.lowest_mode(x),
        }
    }
    /// `|m|` for binary models (mean of the units), the Potts order
    /// parameter `(q·max_k n_k/N − 1)/(q − 1)` for Potts.
    fn order(&self, x: &[UnitOf<Self>]) -> f64;
    /// `m²` of the magnetisation: m = mean of the units for binary models;
    /// for Potts the squared length of the (q − 1)-component order
    /// parameter, `(q Σ_k f_k² − 1)/(q − 1)` (f_k the fraction of value k:
    /// 0 when the values are equally common, 1 when one value holds all).
    fn magnetization_sq(&self, x: &[UnitOf<Self>]) -> f64 {
        self.order(x).powi(2)
    }
    /// The structure factor at the smallest wave vector of the same order
    /// parameter (`ebm_models::lattice::Lattice::lowest_mode`, summed over
    /// the Potts components and normalised as `magnetization_sq`), on
    /// lattices; 0 elsewhere.
    fn lowest_mode(&self, _x: &[UnitOf<Self>]) -> f64 {
        0.0
    }
    /// k_min = 2π/L on lattices (for the correlation length), else `None`.
    fn k_min(&self) -> Option<f64> {
        None
    }
    /// Palette index of every unit (0 or 1 for binary units, the value for
    /// categorical ones).
    fn colours(&self, x: &[UnitOf<Self>]) -> Vec<usize>;
    /// Whether the model's units are binary (the JSON then also carries
    /// `abs_magnetization`).
    fn is_binary(&self) -> bool;
}

macro_rules! binary_observed {
    ($($t:ty),*) => {$(
        impl Observed for $t {
            fn order(&self, x: &[i8]) -> f64 {
                (x.iter().map(|&v| f64::from(v)).sum::<f64>() / x.len().max(1) as f64).abs()
            }
            fn colours(&self, x: &[i8]) -> Vec<usize> {
                x.iter().map(|&v| usize::from(v == 1)).collect()
            }
            fn is_binary(&self) -> bool {
                true
            }
        }
    )*};
}
binary_observed!(Rbm, BoltzmannMachine);

impl Observed for Ising {
    /// From [`Ising::observables`]: three passes over the spins instead of six.
    fn observe(&self, x: &[i8]) -> Observation {
        let o = self.observables(x);
        let order = o.magnetization.abs();
        Observation {
            energy: o.energy,
            order,
            magnetization_sq: order.powi(2),
            lowest_mode: o.lowest_mode,
        }
    }
    fn order(&self, x: &[i8]) -> f64 {
        self.abs_magnetization(x)
    }
    fn lowest_mode(&self, x: &[i8]) -> f64 {
        self.lattice_shape().map_or(0.0, |l| l.lowest_mode_i8(x, 0.0))
    }
    fn k_min(&self) -> Option<f64> {
        self.lattice_shape().map(|l| l.k_min())
    }
    fn colours(&self, x: &[i8]) -> Vec<usize> {
        x.iter().map(|&v| usize::from(v == 1)).collect()
    }
    fn is_binary(&self) -> bool {
        true
    }
}

impl Observed for PottsRbm {
    /// The fraction of hidden units on.
    fn order(&self, x: &[u8]) -> f64 {
        let h = &x[self.n_visible_units()..];
        h.iter().filter(|&&b| b == 1).count() as f64 / h.len().max(1) as f64
    }
    fn colours(&self, x: &[u8]) -> Vec<usize> {
        x.iter().map(|&v| usize::from(v)).collect()
    }
    fn is_binary(&self) -> bool {
        false
    }
}

impl Observed for Potts {
    fn order(&self, x: &[u8]) -> f64 {
        self.order_parameter(x)
    }
    fn magnetization_sq(&self, x: &[u8]) -> f64 {
        let f = self.fractions(x);
        let q = f.len() as f64;
        if q < 2.0 {
            return 0.0;
        }
        ((q * f.iter().map(|v| v * v).sum::<f64>() - 1.0) / (q - 1.0)).max(0.0)
    }
    fn lowest_mode(&self, x: &[u8]) -> f64 {
        let (Some(l), Some(q)) = (self.lattice_shape(), self.space().uniform_q()) else {
            return 0.0;
        };
        thread_local! {
            /// The indicator field of one value (reused: no allocation per
            /// recorded sweep).
            static INDICATOR: std::cell::RefCell<Vec<i8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        let qf = q as f64;
        INDICATOR.with(|v| {
            let mut v = v.borrow_mut();
            v.resize(x.len(), 0);
            let mut total = 0.0;
            for k in 0..q {
                for (vi, &xi) in v.iter_mut().zip(x) {
                    *vi = i8::from(usize::from(xi) == k);
                }
                total += l.lowest_mode_i8(&v, 1.0 / qf);
            }
            total * qf / (qf - 1.0)
        })
    }
    fn k_min(&self) -> Option<f64> {
        self.lattice_shape().map(|l| l.k_min())
    }
    fn colours(&self, x: &[u8]) -> Vec<usize> {
        x.iter().map(|&v| usize::from(v)).collect()
    }
    fn is_binary(&self) -> bool {
        false
    }
}

/// Loads a saved model file.
pub fn load_file(path: &Path) -> Result<Model> {
    from_saved(path, SavedModel::load(path)?.0)
}

/// The command-line model of a loaded model file (`path` for messages).
/// A Gaussian–Bernoulli RBM has real units: only `ebm eval` takes it.
pub fn from_saved(path: &Path, saved: SavedModel) -> Result<Model> {
    Ok(match saved {
        SavedModel::Rbm(m) => Model::Rbm(m),
        SavedModel::Boltzmann(m) => Model::Boltzmann(m),
        SavedModel::Ising(m) => Model::Ising(m),
        SavedModel::PottsRbm(m) => Model::PottsRbm(m),
        SavedModel::GaussianRbm(_) => {
            return Err(Error::InvalidSequence {
                what: "model file",
                reason: format!(
                    "{} is a Gaussian–Bernoulli RBM (real units): `ebm eval` evaluates it; exact, sample and logz take finite models",
                    path.display()
                ),
            });
        }
    })
}

/// Parses `spec` (an Ising or Potts lattice spec, with coupling `j` and
/// field `h`; for Potts the field acts on value 0) or loads it as a saved
/// model file if it names one.
pub fn parse(spec: &str, j: f64, h: f64) -> Result<Model> {
    let lattice_spec = ["ising:", "potts:", "glass:"].iter().any(|k| spec.starts_with(k));
    if !lattice_spec && (spec.ends_with(".safetensors") || Path::new(spec).is_file()) {
        return load_file(Path::new(spec));
    }
    parse_lattice(spec, j, h)
}

/// Parses a lattice spec only (`ising:…`, `potts:Q:…`, `glass:…`): an
/// [`Model::Ising`] or a [`Model::Potts`], never a file.
pub fn parse_lattice(spec: &str, j: f64, h: f64) -> Result<Model> {
    let bad = |reason: String| Error::InvalidSequence { what: "model spec", reason };
    let mut parts = spec.split(':');
    let kind = parts.next().unwrap_or_default();
    let q = match kind {
        "ising" => None,
        "glass" => return glass(spec, parts, j, h),
        "potts" => {
            let q_text = parts.next().ok_or_else(|| bad(format!("`{spec}` gives no q")))?;
            let q = q_text.parse::<usize>().map_err(|_| {
                bad(format!("`{q_text}` in `{spec}` is not a number of states (potts:Q:LxM)"))
            })?;
            Some(q)
        }
        _ => {
            return Err(bad(format!(
                "unknown model `{spec}` (expected ising:L, ising:LxM, ising:LxMxK, potts:Q:L, potts:Q:LxM, potts:Q:LxMxK, optionally :open, glass:LxM[:pm|:gauss][:open][:disorder=N], or a model file)"
            )));
        }
    };
    let (dims, boundary) = lattice_parts(spec, parts)?;
    Ok(match q {
        None => Model::Ising(Ising::lattice(&dims, boundary, j, h)?),
        Some(q) => Model::Potts(Potts::lattice(q, &dims, boundary, j, h)?),
    })
}

/// `glass:DIMS[:pm|:gauss][:periodic|:open][:disorder=N]`: the ±J (default)
/// or Gaussian Ising spin glass with couplings of scale `j` (±j, or standard
/// deviation j), drawn from the disorder seed N (default 1), in a uniform
/// field `h`.
fn glass<'a>(
    spec: &str,
    mut parts: impl Iterator<Item = &'a str>,
    j: f64,
    h: f64,
) -> Result<Model> {
    let bad = |reason: String| Error::InvalidSequence { what: "model spec", reason };
    let dims_text = parts.next().ok_or_else(|| bad(format!("`{spec}` gives no lattice size")))?;
    let (mut gaussian, mut boundary, mut disorder) = (false, Boundary::Periodic, 1u64);
    for part in parts {
        match part {
            "pm" => gaussian = false,
            "gauss" => gaussian = true,
            "periodic" => boundary = Boundary::Periodic,
            "open" => boundary = Boundary::Open,
            other => match other.strip_prefix("disorder=").map(str::parse::<u64>) {
                Some(Ok(n)) => disorder = n,
                _ => {
                    return Err(bad(format!(
                        "unknown glass option `{other}` in `{spec}` (pm, gauss, periodic, open, disorder=N)"
                    )));
                }
            },
        }
    }
    let dims = dims_text
        .split('x')
        .map(|d| d.parse::<usize>().map_err(|_| bad(format!("`{d}` in `{spec}` is not a size"))))
        .collect::<Result<Vec<_>>>()?;
    let seed = ebm_core::Seed(disorder);
    let glass = if gaussian {
        Ising::spin_glass_gaussian(&dims, boundary, j, seed)?
    } else {
        Ising::spin_glass_pm(&dims, boundary, j, seed)?
    };
    let n = glass.n_units();
    Ok(Model::Ising(if h != 0.0 { glass.with_fields(&vec![h; n])? } else { glass }))
}

/// The lattice part of a model spec, `DIMS[:periodic|:open]` (`DIMS` as
/// `L`, `LxM` or `LxMxK`), from the `:`-separated parts after the kind;
/// `spec` is the whole spec, for messages.
pub fn lattice_parts<'a>(
    spec: &str,
    mut parts: impl Iterator<Item = &'a str>,
) -> Result<(Vec<usize>, Boundary)> {
    let bad = |reason: String| Error::InvalidSequence { what: "model spec", reason };
    let dims_text = parts.next().ok_or_else(|| bad(format!("`{spec}` gives no lattice size")))?;
    let boundary = match parts.next() {
        None | Some("periodic") => Boundary::Periodic,
        Some("open") => Boundary::Open,
        Some(other) => return Err(bad(format!("unknown boundary `{other}` (periodic or open)"))),
    };
    if parts.next().is_some() {
        return Err(bad(format!("`{spec}` has too many `:` parts")));
    }
    let dims = dims_text
        .split('x')
        .map(|d| d.parse::<usize>().map_err(|_| bad(format!("`{d}` in `{spec}` is not a size"))))
        .collect::<Result<Vec<_>>>()?;
    Ok((dims, boundary))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ising's `observe` (shared passes, in slabs on large lattices) gives
    /// what the separate methods give, bit for bit: on a chain, a torus with
    /// and without a field (256², large enough for the slabs), a cube, and a
    /// graph with fields of its own.
    #[test]
    fn ising_observe_is_the_separate_methods() {
        let models = [
            Ising::chain(50, Boundary::Periodic, 1.0, 0.2).unwrap(),
            Ising::square(256, 256, Boundary::Periodic, 1.0, 0.0).unwrap(),
            Ising::square(256, 256, Boundary::Periodic, -0.5, 0.3).unwrap(),
            Ising::cubic(6, 6, 6, Boundary::Open, 0.7, -0.1).unwrap(),
            Ising::from_edges(4, &[(0, 1, 1.0), (1, 2, -0.5), (2, 3, 2.0)], &[0.1, 0.0, -0.3, 0.2])
                .unwrap(),
        ];
        let mut z = 0x9E37_79B9_7F4A_7C15u64;
        for (i, m) in models.iter().enumerate() {
            // two thirds of one sign, alternating by model, so that m < 0 too
            let major = if i % 2 == 0 { 1 } else { -1 };
            let x: Vec<i8> = (0..m.n_units())
                .map(|_| {
                    z ^= z << 13;
                    z ^= z >> 7;
                    z ^= z << 17;
                    if z.is_multiple_of(3) { -major } else { major }
                })
                .collect();
            let o = m.observe(&x);
            let want = [m.energy(&x), m.order(&x), m.magnetization_sq(&x), m.lowest_mode(&x)];
            let got = [o.energy, o.order, o.magnetization_sq, o.lowest_mode];
            assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits), "{:?}", m.lattice_dims());
        }
    }
}
