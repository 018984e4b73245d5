//! The models: `Ising`, `Potts`, `BoltzmannMachine`, `Rbm`.
//!
//! Lattice models are built from the command line's model specs
//! (`ising:4x4`, `potts:3:8x8:open`, `glass:16x16:gauss:disorder=3`) by the
//! same constructors the CLI calls, so a Python model and a CLI model of
//! the same spec are the same model; every lattice model knows its spec.

use crate::convert::{self, Dense};
use crate::{IntoPy, to_py_err};
use ebm_core::{Categories, Domain, EnergyModel, Error, Seed};
use ebm_data::SavedModel;
use ebm_models::boltzmann::BoltzmannMachine as BmModel;
use ebm_models::ising::{Boundary, Ising as IsingModel};
use ebm_models::potts::Potts as PottsModel;
use ebm_models::rbm::Rbm as RbmModel;
use numpy::{Element, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A model of any kind, shared with worker threads.
#[derive(Clone)]
pub(crate) enum AnyModel {
    /// An Ising lattice or graph.
    Ising(Arc<IsingModel>),
    /// A Potts lattice or graph.
    Potts(Arc<PottsModel>),
    /// A Boltzmann machine.
    Boltzmann(Arc<BmModel>),
    /// An RBM (joint state `[v, h]`).
    Rbm(Arc<RbmModel>),
}

/// Runs `$body` with `$m` bound to the concrete model inside an [`AnyModel`].
macro_rules! with_any {
    ($model:expr, $m:ident => $body:expr) => {
        match $model {
            $crate::models::AnyModel::Ising(x) => {
                let $m: &ebm_models::ising::Ising = &**x;
                $body
            }
            $crate::models::AnyModel::Potts(x) => {
                let $m: &ebm_models::potts::Potts = &**x;
                $body
            }
            $crate::models::AnyModel::Boltzmann(x) => {
                let $m: &ebm_models::boltzmann::BoltzmannMachine = &**x;
                $body
            }
            $crate::models::AnyModel::Rbm(x) => {
                let $m: &ebm_models::rbm::Rbm = &**x;
                $body
            }
        }
    };
}
pub(crate) use with_any;

/// The model inside a Python model object.
pub(crate) fn any_model(obj: &Bound<'_, PyAny>) -> PyResult<AnyModel> {
    if let Ok(m) = obj.cast::<Ising>() {
        return Ok(AnyModel::Ising(m.get().inner.clone()));
    }
    if let Ok(m) = obj.cast::<Potts>() {
        return Ok(AnyModel::Potts(m.get().inner.clone()));
    }
    if let Ok(m) = obj.cast::<BoltzmannMachine>() {
        return Ok(AnyModel::Boltzmann(m.get().inner.clone()));
    }
    if let Ok(m) = obj.cast::<Rbm>() {
        return Ok(AnyModel::Rbm(m.get().inner.clone()));
    }
    Err(PyTypeError::new_err(format!(
        "expected an ebm model (Ising, Potts, BoltzmannMachine, Rbm), got {}",
        obj.get_type().name()?
    )))
}

/// `obj`'s spec, if it is a lattice model built from one.
pub(crate) fn spec_of(obj: &Bound<'_, PyAny>) -> Option<String> {
    if let Ok(m) = obj.cast::<Ising>() {
        return m.get().spec.clone();
    }
    if let Ok(m) = obj.cast::<Potts>() {
        return m.get().spec.clone();
    }
    None
}

/// Reads `obj` as an array of `T` in any memory layout (parameters: copied
/// once at construction, so a transposed view such as scikit-learn's
/// `components_.T` is fine). The dtype must be `T` exactly.
fn params<T: Element + Copy>(
    obj: &Bound<'_, PyAny>,
    what: &str,
    dtype: &str,
    ndims: &[usize],
) -> PyResult<Dense<T>> {
    let Ok(untyped) = obj.cast::<PyUntypedArray>() else {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a NumPy array of dtype {dtype} (got {}): use np.asarray(..., dtype=np.{dtype})",
            obj.get_type().name()?
        )));
    };
    if !ndims.contains(&untyped.ndim()) {
        return Err(PyValueError::new_err(format!(
            "{what} must be {}-D (got shape {:?})",
            ndims[0],
            untyped.shape()
        )));
    }
    let Ok(typed) = obj.cast::<PyArrayDyn<T>>() else {
        return Err(PyTypeError::new_err(format!(
            "{what} must have dtype {dtype} (got {}): use .astype(np.{dtype})",
            untyped.dtype()
        )));
    };
    let ro = typed.try_readonly().map_err(|e| PyValueError::new_err(format!("{what}: {e}")))?;
    let values: Vec<T> = ro.as_array().iter().copied().collect();
    Ok(Dense { values, shape: untyped.shape().to_vec() })
}

// ---------------------------------------------------------------- specs

/// A parsed lattice spec.
pub(crate) enum Parsed {
    /// `ising:…` or `glass:…`.
    Ising(IsingModel),
    /// `potts:Q:…`.
    Potts(PottsModel),
}

/// Parses an `ising:…`, `potts:Q:…` or `glass:…` spec with coupling `j` and
/// field `h` exactly as `ebm --model SPEC --coupling J --field H` does (the
/// same call: `ebm_run::spec::parse_lattice`).
pub(crate) fn parse_spec(spec: &str, j: f64, h: f64) -> ebm_core::Result<Parsed> {
    match ebm_run::spec::parse_lattice(spec, j, h)? {
        ebm_run::Model::Ising(m) => Ok(Parsed::Ising(m)),
        ebm_run::Model::Potts(m) => Ok(Parsed::Potts(m)),
        _ => Err(Error::InvalidSequence {
            what: "model spec",
            reason: format!("`{spec}` is not a lattice spec"),
        }),
    }
}

fn dims_text(dims: &[usize]) -> String {
    dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("x")
}

fn lattice_spec(kind: &str, dims: &[usize], periodic: bool) -> String {
    format!("{kind}{}{}", dims_text(dims), if periodic { "" } else { ":open" })
}

/// Energies of the rows of `states` (1-D: one state, a float; 2-D: one
/// energy per row), checked against the model's space.
fn energies<M: EnergyModel>(
    py: Python<'_>,
    m: &M,
    states: &Bound<'_, PyAny>,
    dtype: &str,
) -> PyResult<Py<PyAny>>
where
    ebm_core::UnitOf<M>: Element,
{
    let (x, rows, cols, single) = convert::rows::<ebm_core::UnitOf<M>>(states, "states", dtype)?;
    ebm_core::check_len("state length (n_units)", m.n_units(), cols).py()?;
    ebm_core::validate_rows(m.space(), &x, cols).py()?;
    let e: Vec<f64> = if cols == 0 {
        vec![0.0; rows]
    } else {
        x.chunks_exact(cols).map(|s| m.energy(s)).collect()
    };
    if single {
        return Ok(e[0].into_pyobject(py)?.into_any().unbind());
    }
    Ok(convert::to_numpy(py, e, &[rows])?.unbind())
}

// ---------------------------------------------------------------- Ising

/// The Ising model `E(s) = −Σ_e J_e s_a s_b − Σ_i h_i s_i` on a lattice or a
/// graph; states are int8 arrays of ±1 spins.
#[pyclass(module = "ebm", frozen)]
pub(crate) struct Ising {
    pub(crate) inner: Arc<IsingModel>,
    /// The CLI spec (and coupling, field) it was built from, if any.
    pub(crate) spec: Option<String>,
    coupling: f64,
    field: f64,
}

impl Ising {
    fn from_spec_inner(spec: String, coupling: f64, field: f64) -> PyResult<Self> {
        match parse_spec(&spec, coupling, field).py()? {
            Parsed::Ising(m) => Ok(Ising { inner: Arc::new(m), spec: Some(spec), coupling, field }),
            Parsed::Potts(_) => {
                Err(PyValueError::new_err(format!("`{spec}` is a Potts spec: use ebm.Potts")))
            }
        }
    }
}

#[pymethods]
impl Ising {
    /// The model of a command-line spec (`ising:16x16`, `ising:8x8x8:open`,
    /// `glass:16x16:gauss:disorder=2`), with `--coupling` and `--field`.
    #[staticmethod]
    #[pyo3(signature = (spec, coupling = 1.0, field = 0.0))]
    fn from_spec(spec: String, coupling: f64, field: f64) -> PyResult<Self> {
        Self::from_spec_inner(spec, coupling, field)
    }

    /// A hypercubic lattice with sides `dims` (1 to 3), uniform coupling and
    /// field, periodic (a torus) unless `periodic=False`.
    #[staticmethod]
    #[pyo3(signature = (dims, *, coupling = 1.0, field = 0.0, periodic = true))]
    fn lattice(dims: Vec<usize>, coupling: f64, field: f64, periodic: bool) -> PyResult<Self> {
        Self::from_spec_inner(lattice_spec("ising:", &dims, periodic), coupling, field)
    }

    /// An `l × m` square lattice (`m = l` if omitted): `Ising.square(4, 4)`
    /// is the CLI's `ising:4x4`.
    #[staticmethod]
    #[pyo3(signature = (l, m = None, *, coupling = 1.0, field = 0.0, periodic = true))]
    fn square(
        l: usize,
        m: Option<usize>,
        coupling: f64,
        field: f64,
        periodic: bool,
    ) -> PyResult<Self> {
        Self::lattice(vec![l, m.unwrap_or(l)], coupling, field, periodic)
    }

    /// A chain (a ring if periodic) of `l` spins.
    #[staticmethod]
    #[pyo3(signature = (l, *, coupling = 1.0, field = 0.0, periodic = true))]
    fn chain(l: usize, coupling: f64, field: f64, periodic: bool) -> PyResult<Self> {
        Self::lattice(vec![l], coupling, field, periodic)
    }

    /// An `l × m × k` simple cubic lattice.
    #[staticmethod]
    #[pyo3(signature = (l, m, k, *, coupling = 1.0, field = 0.0, periodic = true))]
    fn cubic(
        l: usize,
        m: usize,
        k: usize,
        coupling: f64,
        field: f64,
        periodic: bool,
    ) -> PyResult<Self> {
        Self::lattice(vec![l, m, k], coupling, field, periodic)
    }

    /// The Ising spin glass on a lattice: ±J couplings (`kind="pm"`) or
    /// N(0, J²) (`kind="gauss"`), drawn from the disorder seed (the CLI's
    /// `glass:LxM[:gauss][:open][:disorder=N]`), in a uniform field.
    #[staticmethod]
    #[pyo3(signature = (dims, *, kind = "pm", coupling = 1.0, field = 0.0, periodic = true, disorder = 1))]
    fn spin_glass(
        dims: Vec<usize>,
        kind: &str,
        coupling: f64,
        field: f64,
        periodic: bool,
        disorder: u64,
    ) -> PyResult<Self> {
        if kind != "pm" && kind != "gauss" {
            return Err(PyValueError::new_err(format!(
                "kind must be \"pm\" or \"gauss\" (got {kind:?})"
            )));
        }
        let mut spec = format!("glass:{}", dims_text(&dims));
        if kind == "gauss" {
            spec.push_str(":gauss");
        }
        if !periodic {
            spec.push_str(":open");
        }
        if disorder != 1 {
            spec.push_str(&format!(":disorder={disorder}"));
        }
        Self::from_spec_inner(spec, coupling, field)
    }

    /// Ising on any graph of `n` spins: `edges` an int64 array of shape
    /// (E, 2) (each pair once), `couplings` float64 (E,), `fields` float64
    /// (n,) (zeros if omitted).
    #[staticmethod]
    #[pyo3(signature = (n, edges, couplings, fields = None))]
    fn from_edges(
        n: usize,
        edges: &Bound<'_, PyAny>,
        couplings: &Bound<'_, PyAny>,
        fields: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let list = edge_list(edges, couplings)?;
        let h = match fields {
            Some(f) => params::<f64>(f, "fields", "float64", &[1])?.values,
            None => vec![0.0; n],
        };
        let m = IsingModel::from_edges(n, &list, &h).py()?;
        Ok(Ising { inner: Arc::new(m), spec: None, coupling: 1.0, field: 0.0 })
    }

    /// The number of spins.
    #[getter]
    fn n_units(&self) -> usize {
        self.inner.n_units()
    }
    /// The command-line spec of a lattice model (`None` for a graph).
    #[getter]
    fn spec(&self) -> Option<String> {
        self.spec.clone()
    }
    /// The lattice sides (`None` for a graph).
    #[getter]
    fn dims(&self) -> Option<Vec<usize>> {
        self.inner.lattice_dims().map(<[usize]>::to_vec)
    }
    /// Whether the lattice is periodic (`None` for a graph).
    #[getter]
    fn periodic(&self) -> Option<bool> {
        self.inner.boundary().map(|b| b == Boundary::Periodic)
    }
    /// The edges, int64 (E, 2), in edge order.
    #[getter]
    fn edges<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let e: Vec<i64> = self.inner.edges().flat_map(|(a, b, _)| [a as i64, b as i64]).collect();
        convert::to_numpy(py, e, &[self.inner.n_edges(), 2])
    }
    /// The couplings J_e, float64 (E,), in edge order.
    #[getter]
    fn couplings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_numpy(py, self.inner.couplings().to_vec(), &[self.inner.n_edges()])
    }
    /// The fields h_i, float64 (n,).
    #[getter]
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_numpy(py, self.inner.fields().to_vec(), &[self.inner.n_units()])
    }
    /// E(s) of an int8 state of ±1 spins (a float), or of each row of a 2-D
    /// int8 array (a float64 array).
    fn energy(&self, py: Python<'_>, states: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        energies(py, &*self.inner, states, "int8")
    }
    fn __repr__(&self) -> String {
        match &self.spec {
            Some(s) if self.coupling == 1.0 && self.field == 0.0 => format!("Ising({s:?})"),
            Some(s) => format!("Ising({s:?}, coupling={}, field={})", self.coupling, self.field),
            None => format!(
                "Ising(graph of {} spins, {} edges)",
                self.inner.n_units(),
                self.inner.n_edges()
            ),
        }
    }
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let me = slf.get();
        let cls = slf.get_type();
        match &me.spec {
            Some(s) => (cls.getattr("from_spec")?, (s.clone(), me.coupling, me.field))
                .into_pyobject(py)
                .map(|t| t.into_any()),
            None => {
                let edges = me.edges(py)?;
                let j = me.couplings(py)?;
                let h = me.fields(py)?;
                (cls.getattr("from_edges")?, (me.inner.n_units(), edges, j, h))
                    .into_pyobject(py)
                    .map(|t| t.into_any())
            }
        }
    }
}

/// `(i, j, J)` triples from an (E, 2) int64 array and an (E,) float64 one.
fn edge_list(
    edges: &Bound<'_, PyAny>,
    couplings: &Bound<'_, PyAny>,
) -> PyResult<Vec<(usize, usize, f64)>> {
    let e = params::<i64>(edges, "edges", "int64", &[2])?;
    if e.shape[1] != 2 {
        return Err(PyValueError::new_err(format!(
            "edges must have shape (E, 2) (got {:?})",
            e.shape
        )));
    }
    let j = params::<f64>(couplings, "couplings", "float64", &[1])?.values;
    if j.len() != e.shape[0] {
        return Err(PyValueError::new_err(format!(
            "couplings must have one value per edge ({} edges, {} couplings)",
            e.shape[0],
            j.len()
        )));
    }
    e.values
        .chunks_exact(2)
        .zip(&j)
        .map(|(p, &jv)| {
            let idx = |v: i64| {
                usize::try_from(v)
                    .map_err(|_| PyValueError::new_err(format!("edge endpoint {v} is negative")))
            };
            Ok((idx(p[0])?, idx(p[1])?, jv))
        })
        .collect()
}

// ---------------------------------------------------------------- Potts

/// The q-state Potts model `E(s) = −Σ_e J_e δ(s_a, s_b) − Σ_i h_i(s_i)`;
/// states are uint8 arrays of values 0 … q−1.
#[pyclass(module = "ebm", frozen)]
pub(crate) struct Potts {
    pub(crate) inner: Arc<PottsModel>,
    pub(crate) spec: Option<String>,
    coupling: f64,
    field: f64,
}

impl Potts {
    fn from_spec_inner(spec: String, coupling: f64, field: f64) -> PyResult<Self> {
        match parse_spec(&spec, coupling, field).py()? {
            Parsed::Potts(m) => Ok(Potts { inner: Arc::new(m), spec: Some(spec), coupling, field }),
            Parsed::Ising(_) => {
                Err(PyValueError::new_err(format!("`{spec}` is an Ising spec: use ebm.Ising")))
            }
        }
    }
}

#[pymethods]
impl Potts {
    /// The model of a command-line spec (`potts:3:16x16`, `potts:4:8:open`),
    /// with `--coupling` and `--field` (the field acts on value 0).
    #[staticmethod]
    #[pyo3(signature = (spec, coupling = 1.0, field = 0.0))]
    fn from_spec(spec: String, coupling: f64, field: f64) -> PyResult<Self> {
        Self::from_spec_inner(spec, coupling, field)
    }

    /// q states on a hypercubic lattice with sides `dims`, uniform coupling
    /// and a field on value 0 of every site.
    #[staticmethod]
    #[pyo3(signature = (q, dims, *, coupling = 1.0, field = 0.0, periodic = true))]
    fn lattice(
        q: usize,
        dims: Vec<usize>,
        coupling: f64,
        field: f64,
        periodic: bool,
    ) -> PyResult<Self> {
        Self::from_spec_inner(
            lattice_spec(&format!("potts:{q}:"), &dims, periodic),
            coupling,
            field,
        )
    }

    /// q states on an `l × m` square lattice (`m = l` if omitted).
    #[staticmethod]
    #[pyo3(signature = (q, l, m = None, *, coupling = 1.0, field = 0.0, periodic = true))]
    fn square(
        q: usize,
        l: usize,
        m: Option<usize>,
        coupling: f64,
        field: f64,
        periodic: bool,
    ) -> PyResult<Self> {
        Self::lattice(q, vec![l, m.unwrap_or(l)], coupling, field, periodic)
    }

    /// Potts on any graph: `q` the number of values of every unit (an int)
    /// or of each unit (a sequence of ints, one per unit), `edges` int64
    /// (E, 2), `couplings` float64 (E,), `fields` float64 (Σ q_i,) site-major
    /// (zeros if omitted); `n` is the number of units when `q` is an int.
    #[staticmethod]
    #[pyo3(signature = (q, edges, couplings, fields = None, n = None))]
    fn from_edges(
        q: &Bound<'_, PyAny>,
        edges: &Bound<'_, PyAny>,
        couplings: &Bound<'_, PyAny>,
        fields: Option<&Bound<'_, PyAny>>,
        n: Option<usize>,
    ) -> PyResult<Self> {
        let space = if let Ok(q) = q.extract::<usize>() {
            let n = n.ok_or_else(|| {
                PyValueError::new_err("with one q for every unit, give the number of units n")
            })?;
            Categories::uniform(q, n).py()?
        } else {
            Categories::new(q.extract::<Vec<usize>>()?).py()?
        };
        let list = edge_list(edges, couplings)?;
        let total: usize =
            (0..space.len()).map(|i| ebm_core::FiniteSpace::n_values(&space, i)).sum();
        let h = match fields {
            Some(f) => params::<f64>(f, "fields", "float64", &[1])?.values,
            None => vec![0.0; total],
        };
        let m = PottsModel::from_edges(space, &list, &h).py()?;
        Ok(Potts { inner: Arc::new(m), spec: None, coupling: 1.0, field: 0.0 })
    }

    /// The number of units.
    #[getter]
    fn n_units(&self) -> usize {
        self.inner.n_units()
    }
    /// The number of values of each unit.
    #[getter]
    fn q(&self) -> Vec<usize> {
        let s = self.inner.space();
        (0..s.len()).map(|i| ebm_core::FiniteSpace::n_values(s, i)).collect()
    }
    /// The command-line spec of a lattice model (`None` for a graph).
    #[getter]
    fn spec(&self) -> Option<String> {
        self.spec.clone()
    }
    /// The couplings J_e, float64 (E,).
    #[getter]
    fn couplings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_numpy(py, self.inner.couplings().to_vec(), &[self.inner.n_edges()])
    }
    /// The edges, int64 (E, 2).
    #[getter]
    fn edges<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let e: Vec<i64> = (0..self.inner.n_edges())
            .flat_map(|k| {
                let (a, b) = self.inner.edge(k);
                [a as i64, b as i64]
            })
            .collect();
        convert::to_numpy(py, e, &[self.inner.n_edges(), 2])
    }
    /// The fields h_i(k), float64 (Σ q_i,), site-major.
    #[getter]
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let h: Vec<f64> =
            (0..self.inner.n_units()).flat_map(|i| self.inner.fields(i).to_vec()).collect();
        let n = h.len();
        convert::to_numpy(py, h, &[n])
    }
    /// E(s) of a uint8 state (a float) or of each row of a 2-D uint8 array.
    fn energy(&self, py: Python<'_>, states: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        energies(py, &*self.inner, states, "uint8")
    }
    fn __repr__(&self) -> String {
        match &self.spec {
            Some(s) if self.coupling == 1.0 && self.field == 0.0 => format!("Potts({s:?})"),
            Some(s) => format!("Potts({s:?}, coupling={}, field={})", self.coupling, self.field),
            None => format!("Potts(graph of {} units)", self.inner.n_units()),
        }
    }
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let me = slf.get();
        let cls = slf.get_type();
        match &me.spec {
            Some(s) => (cls.getattr("from_spec")?, (s.clone(), me.coupling, me.field))
                .into_pyobject(py)
                .map(|t| t.into_any()),
            None => (
                cls.getattr("from_edges")?,
                (me.q(), me.edges(py)?, me.couplings(py)?, me.fields(py)?),
            )
                .into_pyobject(py)
                .map(|t| t.into_any()),
        }
    }
}

// ---------------------------------------------------------------- BM

/// The general Boltzmann machine `E(x) = −Σ_i b_i x_i − Σ_{i<j} W_ij x_i x_j`
/// (W symmetric, zero diagonal) of 0/1 bits (or ±1 spins with
/// `spins=True`); the first `n_visible` units are visible.
#[pyclass(module = "ebm", frozen)]
pub(crate) struct BoltzmannMachine {
    pub(crate) inner: Arc<BmModel>,
}

#[pymethods]
impl BoltzmannMachine {
    /// From the full couplings `W` (float64, n × n, symmetric, zero
    /// diagonal) and biases `b` (float64, n).
    #[new]
    #[pyo3(signature = (W, b, n_visible = None, *, spins = false))]
    #[allow(non_snake_case)]
    fn new(
        W: &Bound<'_, PyAny>,
        b: &Bound<'_, PyAny>,
        n_visible: Option<usize>,
        spins: bool,
    ) -> PyResult<Self> {
        let w = params::<f64>(W, "W", "float64", &[2])?;
        let b = params::<f64>(b, "b", "float64", &[1])?.values;
        let n = b.len();
        if w.shape != [n, n] {
            return Err(PyValueError::new_err(format!(
                "W must have shape ({n}, {n}) for {n} biases (got {:?})",
                w.shape
            )));
        }
        let domain = if spins { Domain::Spin } else { Domain::Bit };
        let m = BmModel::with_domain(domain, w.values, b, n_visible.unwrap_or(n)).py()?;
        Ok(BoltzmannMachine { inner: Arc::new(m) })
    }
    /// A machine of bits with couplings and biases drawn from N(0, scale²)
    /// from `seed` (as `BoltzmannMachine::random`).
    #[staticmethod]
    #[pyo3(signature = (n_units, n_visible = None, scale = 1.0, seed = 0))]
    fn random(n_units: usize, n_visible: Option<usize>, scale: f64, seed: u64) -> PyResult<Self> {
        let m = BmModel::random(n_units, n_visible.unwrap_or(n_units), scale, Seed(seed)).py()?;
        Ok(BoltzmannMachine { inner: Arc::new(m) })
    }
    /// The number of units.
    #[getter]
    fn n_units(&self) -> usize {
        self.inner.n_units()
    }
    /// The number of visible units.
    #[getter]
    fn n_visible(&self) -> usize {
        ebm_core::LogLinear::n_visible(&*self.inner)
    }
    /// Whether the units are ±1 spins (else 0/1 bits).
    #[getter]
    fn spins(&self) -> bool {
        ebm_core::BinaryModel::domain(&*self.inner) == Domain::Spin
    }
    /// The full symmetric couplings W, float64 (n, n).
    #[getter]
    #[allow(non_snake_case)]
    fn W<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let n = self.inner.n_units();
        convert::to_numpy(py, self.inner.couplings().to_vec(), &[n, n])
    }
    /// The biases b, float64 (n,).
    #[getter]
    fn b<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_numpy(py, self.inner.biases().to_vec(), &[self.inner.n_units()])
    }
    /// E(x) of an int8 state or of each row of a 2-D int8 array.
    fn energy(&self, py: Python<'_>, states: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        energies(py, &*self.inner, states, "int8")
    }
    /// Saves the model as a `.safetensors` file the CLI reads.
    fn save(&self, path: std::path::PathBuf) -> PyResult<()> {
        SavedModel::Boltzmann((*self.inner).clone()).save(&path, &BTreeMap::new()).py()
    }
    fn __repr__(&self) -> String {
        format!(
            "BoltzmannMachine(n_units={}, n_visible={})",
            self.inner.n_units(),
            self.n_visible()
        )
    }
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        reduce_saved(slf.py(), SavedModel::Boltzmann((*slf.get().inner).clone()))
    }
}

// ---------------------------------------------------------------- RBM

/// The Bernoulli–Bernoulli RBM `E(v, h) = −b·v − c·h − vᵀ W h` (W is
/// n_visible × n_hidden); its joint state is `[v, h]`, int8 0/1 bits.
#[pyclass(module = "ebm", frozen)]
pub(crate) struct Rbm {
    pub(crate) inner: Arc<RbmModel>,
}

impl Rbm {
    /// Wraps a Rust RBM.
    pub(crate) fn wrap(m: RbmModel) -> Self {
        Rbm { inner: Arc::new(m) }
    }
}

#[pymethods]
impl Rbm {
    /// An RBM from weights `W` (float64, n_visible × n_hidden, any memory
    /// layout), visible biases `b` (n_visible,) and hidden biases `c`
    /// (n_hidden,). A scikit-learn `BernoulliRBM` is
    /// `Rbm.from_numpy(rbm.components_.T, rbm.intercept_visible_, rbm.intercept_hidden_)`.
    #[staticmethod]
    #[allow(non_snake_case)]
    pub(crate) fn from_numpy(
        W: &Bound<'_, PyAny>,
        b: &Bound<'_, PyAny>,
        c: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let w = params::<f64>(W, "W", "float64", &[2])?;
        let b = params::<f64>(b, "b", "float64", &[1])?.values;
        let c = params::<f64>(c, "c", "float64", &[1])?.values;
        if w.shape != [b.len(), c.len()] {
            return Err(PyValueError::new_err(format!(
                "W must have shape (n_visible, n_hidden) = ({}, {}) for the biases given (got {:?}); scikit-learn's components_ is (n_hidden, n_visible): pass components_.T",
                b.len(),
                c.len(),
                w.shape
            )));
        }
        Ok(Rbm::wrap(RbmModel::new(w.values, b, c).py()?))
    }
    /// An RBM with every weight and bias drawn from N(0, scale²) from `seed`.
    #[staticmethod]
    #[pyo3(signature = (n_visible, n_hidden, scale = 0.1, seed = 0))]
    fn random(n_visible: usize, n_hidden: usize, scale: f64, seed: u64) -> PyResult<Self> {
        Ok(Rbm::wrap(RbmModel::random(n_visible, n_hidden, scale, Seed(seed)).py()?))
    }
    /// Loads a `.safetensors` RBM written by `ebm train` (or `Rbm.save`).
    #[staticmethod]
    fn load(path: std::path::PathBuf) -> PyResult<Self> {
        match SavedModel::load(&path).py()?.0 {
            SavedModel::Rbm(m) => Ok(Rbm::wrap(m)),
            other => Err(PyValueError::new_err(format!(
                "{} holds a {} model, not an RBM",
                path.display(),
                other.kind()
            ))),
        }
    }
    /// Saves the model as a `.safetensors` file (`ebm eval --model FILE` reads it).
    fn save(&self, path: std::path::PathBuf) -> PyResult<()> {
        SavedModel::Rbm((*self.inner).clone()).save(&path, &BTreeMap::new()).py()
    }
    /// The number of visible units.
    #[getter]
    fn n_visible(&self) -> usize {
        self.inner.n_visible()
    }
    /// The number of hidden units.
    #[getter]
    fn n_hidden(&self) -> usize {
        self.inner.n_hidden()
    }
    /// The number of units, n_visible + n_hidden (the joint state).
    #[getter]
    fn n_units(&self) -> usize {
        self.inner.n_units()
    }
    /// The weights W, float64 (n_visible, n_hidden).
    #[getter]
    #[allow(non_snake_case)]
    fn W<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_numpy(
            py,
            self.inner.weights().to_vec(),
            &[self.inner.n_visible(), self.inner.n_hidden()],
        )
    }
    /// The visible biases b, float64 (n_visible,).
    #[getter]
    fn b<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_numpy(py, self.inner.visible_bias().to_vec(), &[self.inner.n_visible()])
    }
    /// The hidden biases c, float64 (n_hidden,).
    #[getter]
    fn c<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_numpy(py, self.inner.hidden_bias().to_vec(), &[self.inner.n_hidden()])
    }
    /// E(v, h) of a joint int8 state `[v, h]` or of each row of a 2-D array.
    fn energy(&self, py: Python<'_>, states: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        energies(py, &*self.inner, states, "int8")
    }
    /// The visible free energy F(v) = −T ln Σ_h e^{−βE(v,h)} (f64) of an int8
    /// row of 0/1 bits (a float) or of each row of a 2-D array.
    #[pyo3(signature = (v, beta = 1.0))]
    fn free_energy(&self, py: Python<'_>, v: &Bound<'_, PyAny>, beta: f64) -> PyResult<Py<PyAny>> {
        let beta = ebm_core::Beta::new(beta).py()?;
        let (x, rows, cols, single) = convert::rows::<i8>(v, "v", "int8")?;
        ebm_core::check_len("row length (n_visible)", self.inner.n_visible(), cols).py()?;
        let m = self.inner.clone();
        let f = py
            .detach(move || {
                x.chunks_exact(cols.max(1))
                    .map(|r| m.visible_free_energy(r, beta))
                    .collect::<ebm_core::Result<Vec<f64>>>()
            })
            .py()?;
        if single {
            return Ok(f[0].into_pyobject(py)?.into_any().unbind());
        }
        Ok(convert::to_numpy(py, f, &[rows])?.unbind())
    }
    /// Exact ln Z(β), summing the smaller layer (≤ 26 units).
    #[pyo3(signature = (beta = 1.0))]
    fn exact_log_z(&self, py: Python<'_>, beta: f64) -> PyResult<f64> {
        let beta = ebm_core::Beta::new(beta).py()?;
        let m = self.inner.clone();
        crate::detached(py, move |_| m.exact_log_z(beta))
    }
    /// p(h = 1 | v), float64 (rows, n_hidden), in f64, for int8 rows of bits.
    #[pyo3(signature = (v, beta = 1.0))]
    fn hidden_probs<'py>(
        &self,
        py: Python<'py>,
        v: &Bound<'py, PyAny>,
        beta: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let beta = ebm_core::Beta::new(beta).py()?;
        let (x, rows, cols, _) = convert::rows::<i8>(v, "v", "int8")?;
        ebm_core::check_len("row length (n_visible)", self.inner.n_visible(), cols).py()?;
        let nh = self.inner.n_hidden();
        let mut out = vec![0.0; rows * nh];
        for (r, o) in x.chunks_exact(cols.max(1)).zip(out.chunks_exact_mut(nh)) {
            self.inner.hidden_probs(r, beta, o).py()?;
        }
        convert::to_numpy(py, out, &[rows, nh])
    }
    /// p(v = 1 | h), float64 (rows, n_visible), in f64, for int8 rows of bits.
    #[pyo3(signature = (h, beta = 1.0))]
    fn visible_probs<'py>(
        &self,
        py: Python<'py>,
        h: &Bound<'py, PyAny>,
        beta: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let beta = ebm_core::Beta::new(beta).py()?;
        let (x, rows, cols, _) = convert::rows::<i8>(h, "h", "int8")?;
        ebm_core::check_len("row length (n_hidden)", self.inner.n_hidden(), cols).py()?;
        let nv = self.inner.n_visible();
        let mut out = vec![0.0; rows * nv];
        for (r, o) in x.chunks_exact(cols.max(1)).zip(out.chunks_exact_mut(nv)) {
            self.inner.visible_probs(r, beta, o).py()?;
        }
        convert::to_numpy(py, out, &[rows, nv])
    }
    fn __repr__(&self) -> String {
        format!("Rbm(n_visible={}, n_hidden={})", self.inner.n_visible(), self.inner.n_hidden())
    }
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        reduce_saved(slf.py(), SavedModel::Rbm((*slf.get().inner).clone()))
    }
}

/// `(ebm._ebm._load_bytes, (bytes,))`: pickling through the safetensors
/// model file format, bit-exact.
fn reduce_saved<'py>(py: Python<'py>, saved: SavedModel) -> PyResult<Bound<'py, PyAny>> {
    let bytes = saved.to_bytes(&BTreeMap::new()).map_err(to_py_err)?;
    let f = py.import("ebm._ebm")?.getattr("_load_bytes")?;
    (f, (PyBytes::new(py, &bytes),)).into_pyobject(py).map(|t| t.into_any())
}

/// A model from the bytes of a model file (unpickling).
#[pyfunction]
fn _load_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Py<PyAny>> {
    saved_to_py(py, SavedModel::from_bytes(data).py()?.0, "<bytes>")
}

fn saved_to_py(py: Python<'_>, saved: SavedModel, path: &str) -> PyResult<Py<PyAny>> {
    Ok(match saved {
        SavedModel::Rbm(m) => Py::new(py, Rbm::wrap(m))?.into_any(),
        SavedModel::Boltzmann(m) => {
            Py::new(py, BoltzmannMachine { inner: Arc::new(m) })?.into_any()
        }
        SavedModel::Ising(m) => {
            Py::new(py, Ising { inner: Arc::new(m), spec: None, coupling: 1.0, field: 0.0 })?
                .into_any()
        }
        other => {
            return Err(PyValueError::new_err(format!(
                "{path} holds a {} model, which the Python package does not wrap yet",
                other.kind()
            )));
        }
    })
}

/// Loads a saved model file (`.safetensors`, written by `ebm train`): an
/// `Rbm`, `BoltzmannMachine` or `Ising`.
#[pyfunction]
fn load(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Py<PyAny>> {
    let saved = SavedModel::load(&path).py()?.0;
    saved_to_py(py, saved, &path.display().to_string())
}

/// The model of a command-line spec: `ising:…` and `glass:…` give an
/// `Ising`, `potts:Q:…` a `Potts`, a file name a saved model.
#[pyfunction]
#[pyo3(signature = (spec, coupling = 1.0, field = 0.0))]
fn model(py: Python<'_>, spec: String, coupling: f64, field: f64) -> PyResult<Py<PyAny>> {
    let lattice = ["ising:", "potts:", "glass:"].iter().any(|k| spec.starts_with(k));
    if !lattice && (spec.ends_with(".safetensors") || std::path::Path::new(&spec).is_file()) {
        return load(py, spec.into());
    }
    Ok(match parse_spec(&spec, coupling, field).py()? {
        Parsed::Ising(m) => {
            Py::new(py, Ising { inner: Arc::new(m), spec: Some(spec), coupling, field })?.into_any()
        }
        Parsed::Potts(m) => {
            Py::new(py, Potts { inner: Arc::new(m), spec: Some(spec), coupling, field })?.into_any()
        }
    })
}

/// Adds the model classes and functions to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Ising>()?;
    m.add_class::<Potts>()?;
    m.add_class::<BoltzmannMachine>()?;
    m.add_class::<Rbm>()?;
    m.add_function(wrap_pyfunction!(_load_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(model, m)?)?;
    Ok(())
}
