//! Data sets as the CLI loads them (`--data default`, `bars-and-stripes:N`,
//! `mnist:DIR`), so a Python run can train on the very rows `ebm train`
//! trains on.

use crate::convert::V;
use crate::{IntoPy, detached};
use ebm_core::{Error, Result, Seed};
use pyo3::prelude::*;
use std::path::PathBuf;

/// The CLI's `data::load`: MNIST binarised stochastically (each pixel on
/// with probability intensity/255, once, from `seed`; the test split from
/// `seed ^ 0x7e57`).
fn load(spec: &str, seed: u64) -> Result<V> {
    let bad = |reason: String| Error::InvalidSequence { what: "data spec", reason };
    let (kind, arg) = spec.split_once(':').unwrap_or((spec, ""));
    let (train, test, width, image, labels): (Vec<i8>, Vec<i8>, usize, (usize, usize), V) =
        match kind {
            "default" => {
                let train = ebm_data::demo_digits();
                let test = ebm_data::generate::digits(10, Seed(0x7e57));
                (train.rows, test.rows, train.width, (10, 10), V::None)
            }
            "bars-and-stripes" => {
                let n: usize = arg
                    .parse()
                    .map_err(|_| bad(format!("`{arg}` is not a size (bars-and-stripes:N)")))?;
                let rows = ebm_data::bars_and_stripes(n, n)?;
                (rows.clone(), rows, n * n, (n, n), V::None)
            }
            "mnist" => {
                let dir = PathBuf::from(if arg.is_empty() { "." } else { arg });
                let (train, train_labels) =
                    ebm_data::load_mnist_split(&dir, ebm_data::Split::Train)?;
                let (test, test_labels) = ebm_data::load_mnist_split(&dir, ebm_data::Split::Test)?;
                let width = train.pixels_per_image();
                let image = (train.rows, train.cols);
                let labels = V::D(vec![
                    (
                        "train",
                        V::ArrU8(train_labels.labels.clone(), vec![train_labels.labels.len()]),
                    ),
                    ("test", V::ArrU8(test_labels.labels.clone(), vec![test_labels.labels.len()])),
                ]);
                (
                    train.binarize_stochastic(Seed(seed))?,
                    test.binarize_stochastic(Seed(seed ^ 0x7e57))?,
                    width,
                    image,
                    labels,
                )
            }
            _ => {
                return Err(bad(format!(
                    "unknown data `{spec}` (default, bars-and-stripes:N, mnist:DIR)"
                )));
            }
        };
    let (nt, ns) = (train.len() / width.max(1), test.len() / width.max(1));
    Ok(V::D(vec![
        ("train", V::ArrI8(train, vec![nt, width])),
        ("test", V::ArrI8(test, vec![ns, width])),
        ("image_shape", V::L(vec![V::U(image.0 as u64), V::U(image.1 as u64)])),
        ("labels", labels),
    ]))
}

/// A data set as `ebm train --data SPEC --seed SEED` loads it: a dict with
/// int8 (rows, width) arrays `train` and `test`, `image_shape` and (MNIST)
/// `labels`.
#[pyfunction]
#[pyo3(signature = (spec, seed = 0))]
fn load_data(py: Python<'_>, spec: String, seed: u64) -> PyResult<Py<PyAny>> {
    let out = detached(py, move |_| load(&spec, seed))?;
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
