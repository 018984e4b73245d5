//! Data sets as the CLI loads them (`--data default`, `bars-and-stripes:N`,
//! `mnist:DIR`, `fashion:DIR`), so a Python run can train on the very rows
//! `ebm train` trains on.

use crate::convert::V;
use crate::{IntoPy, detached};
use ebm_core::Result;
use ebm_run::Binarize;
use pyo3::prelude::*;
use std::path::PathBuf;

/// The CLI's `data::load` (the same call: `ebm_run::data::load`), as a dict.
fn load(spec: &str, binarize: Binarize) -> Result<V> {
    let ds = ebm_run::data::load(spec, binarize)?;
    let w = ds.width.max(1);
    let (nt, ns) = (ds.train.len() / w, ds.test.len() / w);
    let (train_labels, test_labels) = ds.labels;
    let labels = if train_labels.is_empty() && test_labels.is_empty() {
        V::None
    } else {
        let (a, b) = (train_labels.len(), test_labels.len());
        V::D(vec![
            ("train", V::ArrU8(train_labels, vec![a])),
            ("test", V::ArrU8(test_labels, vec![b])),
        ])
    };
    Ok(V::D(vec![
        ("name", V::S(ds.name)),
        ("train", V::ArrI8(ds.train, vec![nt, ds.width])),
        ("test", V::ArrI8(ds.test, vec![ns, ds.width])),
        ("image_shape", V::L(vec![V::U(ds.image.0 as u64), V::U(ds.image.1 as u64)])),
        ("labels", labels),
    ]))
}

/// A data set as `ebm train --data SPEC --binarize B` loads it (`default`,
/// `bars-and-stripes:N`, `mnist:DIR`, `fashion:DIR`): a dict with int8
/// (rows, width) arrays `train` and `test`, `name`, `image_shape` and
/// (MNIST, Fashion-MNIST) `labels`. Images become bits by `binarize`
/// (`"stochastic[:SEED]"` or `"threshold[:T]"`), by default stochastically
/// from `seed` (the test split from `seed ^ 0x7e57`).
#[pyfunction]
#[pyo3(signature = (spec, seed = 0, binarize = None))]
fn load_data(
    py: Python<'_>,
    spec: String,
    seed: u64,
    binarize: Option<String>,
) -> PyResult<Py<PyAny>> {
    let b = match binarize {
        Some(text) => Binarize::parse(&text).py()?,
        None => Binarize::Stochastic(seed),
    };
    let out = detached(py, move |_| load(&spec, b))?;
    Ok(out.into_py(py)?.unbind())
}

/// MNIST images as uint8 (count, rows·cols) intensities and their labels
/// (uint8), unbinarised: `(images, labels)` of the `train` or `test` split.
#[pyfunction]
#[pyo3(signature = (dir, split = "train"))]
fn load_mnist_images(py: Python<'_>, dir: PathBuf, split: &str) -> PyResult<Py<PyAny>> {
    let s = match split {
        "train" => ebm_data::Split::Train,
        "test" => ebm_data::Split::Test,
        other => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "split must be \"train\" or \"test\" (got {other:?})"
            )));
        }
    };
    let (images, labels) = py.detach(|| ebm_data::load_mnist_split(&dir, s)).py()?;
    let w = images.pixels_per_image();
    let n = labels.labels.len();
    let out = V::L(vec![
        V::ArrU8(images.pixels.clone(), vec![images.count, w]),
        V::ArrU8(labels.labels, vec![n]),
    ]);
    Ok(out.into_py(py)?.unbind())
}

/// Adds the functions to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(load_data, m)?)?;
    m.add_function(wrap_pyfunction!(load_mnist_images, m)?)?;
    Ok(())
}
