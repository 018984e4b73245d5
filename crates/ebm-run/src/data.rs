//! Data specs: `default`, `bars-and-stripes:N`, `mnist:DIR`, `fashion:DIR`.

use crate::binarize::Binarize;
use ebm_core::{Error, Result, Seed};
use std::path::PathBuf;

/// A binary data set with a train and a test split.
pub struct DataSet {
    /// What the user asked for.
    pub name: String,
    /// Training rows (flat 0/1 values).
    pub train: Vec<i8>,
    /// Test rows.
    pub test: Vec<i8>,
    /// Values per row.
    pub width: usize,
    /// Image shape (rows, cols) for pictures.
    pub image: (usize, usize),
    /// The class labels of the training and test rows (MNIST and
    /// Fashion-MNIST; empty for the other data sets).
    pub labels: (Vec<u8>, Vec<u8>),
}

impl DataSet {
    /// Rows of the given split (`train` or `test`).
    pub fn split(&self, split: &str) -> Result<&[i8]> {
        match split {
            "train" => Ok(&self.train),
            "test" => Ok(&self.test),
            other => Err(Error::InvalidSequence {
                what: "split",
                reason: format!("`{other}` (expected train or test)"),
            }),
        }
    }
}

/// Loads the data named by `spec`; MNIST and Fashion-MNIST images become
/// bits by `binarize` (stochastic, the convention of Salakhutdinov & Murray
/// 2008, or a threshold).
pub fn load(spec: &str, binarize: Binarize) -> Result<DataSet> {
    let bad = |reason: String| Error::InvalidSequence { what: "data spec", reason };
    let (kind, arg) = spec.split_once(':').unwrap_or((spec, ""));
    match kind {
        "default" => {
            let train = ebm_data::demo_digits();
            let test = ebm_data::generate::digits(10, Seed(0x7e57));
            Ok(DataSet {
                name: "default (procedural 10×10 digits)".into(),
                train: train.rows,
                test: test.rows,
                width: train.width,
                image: (10, 10),
                labels: (Vec::new(), Vec::new()),
            })
        }
        "bars-and-stripes" => {
            let n: usize = arg
                .parse()
                .map_err(|_| bad(format!("`{arg}` is not a size (bars-and-stripes:N)")))?;
            let rows = ebm_data::bars_and_stripes(n, n)?;
            Ok(DataSet {
                name: format!("bars-and-stripes {n}×{n}"),
                train: rows.clone(),
                test: rows,
                width: n * n,
                image: (n, n),
                labels: (Vec::new(), Vec::new()),
            })
        }
        "mnist" | "fashion" => {
            let dir = PathBuf::from(if arg.is_empty() { "." } else { arg });
            let (train, train_labels) = ebm_data::load_mnist_split(&dir, ebm_data::Split::Train)?;
            let (test, test_labels) = ebm_data::load_mnist_split(&dir, ebm_data::Split::Test)?;
            let width = train.pixels_per_image();
            let image = (train.rows, train.cols);
            if (test.rows, test.cols) != image {
                return Err(bad(format!(
                    "the test images are {}×{} but the training images {}×{}",
                    test.rows, test.cols, image.0, image.1
                )));
            }
            let label = if kind == "mnist" { "MNIST" } else { "Fashion-MNIST" };
            Ok(DataSet {
                name: format!("{label} from {} ({})", dir.display(), binarize.spec()),
                train: binarize.apply(&train, false)?,
                test: binarize.apply(&test, true)?,
                width,
                image,
                labels: (train_labels.labels, test_labels.labels),
            })
        }
        _ => Err(bad(format!(
            "unknown data `{spec}` (default, bars-and-stripes:N, mnist:DIR, fashion:DIR)"
        ))),
    }
}
