//! NumPy in, NumPy and plain Python values out.
//!
//! Inputs are taken as they are, never silently converted: the dtype must be
//! the one named (a `TypeError` otherwise, naming the dtype given and the
//! `astype` to use), the number of dimensions must match (`ValueError`), and
//! the array must be C-contiguous (`ValueError` pointing to
//! `np.ascontiguousarray`). The data are copied once into Rust vectors, so
//! the work that follows runs without the GIL.

use numpy::{Element, PyArray1, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// A dense array read from Python: its values (row-major) and shape.
pub(crate) struct Dense<T> {
    /// The values, row-major.
    pub values: Vec<T>,
    /// The shape.
    pub shape: Vec<usize>,
}

/// Reads `obj` as a C-contiguous NumPy array of `T` with `ndim` dimensions
/// (any of `ndims`), `what` naming it in messages and `dtype` naming `T`.
pub(crate) fn array<T: Element + Copy>(
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
    let ndim = untyped.ndim();
    if !ndims.contains(&ndim) {
        let want: Vec<String> = ndims.iter().map(|d| format!("{d}-D")).collect();
        return Err(PyValueError::new_err(format!(
            "{what} must be {} (got a {ndim}-D array of shape {:?})",
            want.join(" or "),
            untyped.shape()
        )));
    }
    let Ok(typed) = obj.cast::<PyArrayDyn<T>>() else {
        return Err(PyTypeError::new_err(format!(
            "{what} must have dtype {dtype} (got {}): use .astype(np.{dtype})",
            untyped.dtype()
        )));
    };
    if !untyped.is_c_contiguous() {
        return Err(PyValueError::new_err(format!(
            "{what} must be C-contiguous (got strides {:?}): use np.ascontiguousarray({what})",
            untyped.strides()
        )));
    }
    let ro = typed.try_readonly().map_err(|e| PyValueError::new_err(format!("{what}: {e}")))?;
    let values = ro.as_slice().map_err(|e| PyValueError::new_err(format!("{what}: {e}")))?.to_vec();
    Ok(Dense { values, shape: untyped.shape().to_vec() })
}

/// Rows of a 2-D array (a 1-D array is one row): `(values, rows, cols)`.
pub(crate) fn rows<T: Element + Copy>(
    obj: &Bound<'_, PyAny>,
    what: &str,
    dtype: &str,
) -> PyResult<(Vec<T>, usize, usize, bool)> {
    let d = array::<T>(obj, what, dtype, &[1, 2])?;
    Ok(match d.shape[..] {
        [n] => (d.values, 1, n, true),
        [r, c] => (d.values, r, c, false),
        _ => unreachable!(),
    })
}

/// `values` as a NumPy array of `shape`.
pub(crate) fn to_numpy<'py, T: Element>(
    py: Python<'py>,
    values: Vec<T>,
    shape: &[usize],
) -> PyResult<Bound<'py, PyAny>> {
    let flat = PyArray1::from_vec(py, values);
    Ok(flat.reshape(shape)?.into_any())
}

/// A result value built off the GIL and turned into Python objects on it:
/// JSON's shapes plus NumPy arrays, and results of `ebm-run` through their
/// JSON (`ebm.Measured` pairs for `{mean, std_err}`).
#[derive(Debug, Clone)]
pub(crate) enum V {
    /// `None`.
    None,
    /// A float.
    F(f64),
    /// An int.
    U(u64),
    /// A string.
    S(String),
    /// A list.
    L(Vec<V>),
    /// A dict, keys in this order.
    D(Vec<(&'static str, V)>),
    /// A float64 array.
    ArrF(Vec<f64>, Vec<usize>),
    /// An int8 array.
    ArrI8(Vec<i8>, Vec<usize>),
    /// A uint8 array.
    ArrU8(Vec<u8>, Vec<usize>),
    /// A result of `ebm-run`, turned into Python objects by its serde
    /// serialisation (the fields and order the CLI prints; NaN and ±inf
    /// stay floats, where the CLI's JSON has null), objects of exactly
    /// `mean` and `std_err` as `ebm.Measured`; the top-level dict gains
    /// `None` for each of `absent` the serialisation skipped, then the
    /// extra entries (replacing any of the same name).
    Result(RunResult, &'static [&'static str], Vec<(&'static str, V)>),
}

impl V {
    /// A result of `ebm-run` (see [`V::Result`]).
    pub fn result(
        value: RunResult,
        absent: &'static [&'static str],
        extras: Vec<(&'static str, V)>,
    ) -> V {
        V::Result(value, absent, extras)
    }

    /// `Some(x)` → `x`, `None` → `V::None`.
    pub fn opt<T>(x: Option<T>, f: impl FnOnce(T) -> V) -> V {
        x.map_or(V::None, f)
    }

    /// The Python object.
    pub fn into_py<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(match self {
            V::None => py.None().into_bound(py),
            V::F(x) => x.into_pyobject(py)?.into_any(),
            V::U(x) => x.into_pyobject(py)?.into_any(),
            V::S(s) => s.into_pyobject(py)?.into_any(),
            V::L(items) => {
                let list = PyList::empty(py);
                for v in items {
                    list.append(v.into_py(py)?)?;
                }
                list.into_any()
            }
            V::D(items) => {
                let d = PyDict::new(py);
                for (k, v) in items {
                    d.set_item(k, v.into_py(py)?)?;
                }
                d.into_any()
            }
            V::ArrF(v, s) => to_numpy(py, v, &s)?,
            V::ArrI8(v, s) => to_numpy(py, v, &s)?,
            V::ArrU8(v, s) => to_numpy(py, v, &s)?,
            V::Result(value, absent, extras) => {
                let out = match value {
                    RunResult::Sample(r) => pythonize::pythonize(py, &*r),
                    RunResult::LogZ(r) => pythonize::pythonize(py, &r),
                }
                .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
                let out = measured_pairs(py, out)?;
                if let Ok(d) = out.cast::<PyDict>() {
                    for k in absent {
                        if !d.contains(*k)? {
                            d.set_item(*k, py.None())?;
                        }
                    }
                    for (k, v) in extras {
                        d.set_item(k, v.into_py(py)?)?;
                    }
                }
                out
            }
        })
    }
}

/// The results of `ebm-run` the bindings return.
#[derive(Debug, Clone)]
pub(crate) enum RunResult {
    /// `ebm_run::sample::measure`'s.
    Sample(Box<ebm_run::sample::SampleOut>),
    /// `ebm_run::logz::log_z`'s.
    LogZ(ebm_run::logz::LogZOut),
}

/// `obj` with every dict of exactly `mean` and `std_err` (at any depth of
/// dicts and lists) replaced by `ebm.Measured`.
fn measured_pairs<'py>(py: Python<'py>, obj: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    if let Ok(d) = obj.cast::<PyDict>() {
        if let (2, Some(mean), Some(se)) = (d.len(), d.get_item("mean")?, d.get_item("std_err")?) {
            let cls = py.import("ebm._result")?.getattr("Measured")?;
            return cls.call1((mean, se));
        }
        let keys: Vec<Bound<'py, PyAny>> = d.keys().iter().collect();
        for k in keys {
            if let Some(v) = d.get_item(&k)? {
                d.set_item(&k, measured_pairs(py, v)?)?;
            }
        }
        return Ok(obj);
    }
    if let Ok(l) = obj.cast::<PyList>() {
        for i in 0..l.len() {
            let v = measured_pairs(py, l.get_item(i)?)?;
            l.set_item(i, v)?;
        }
    }
    Ok(obj)
}
