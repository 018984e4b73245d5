//! Acceptance checks against the real MNIST files (facts from shared/data/README.md).
//!
//! The files are looked up in `$EBM_MNIST_DIR`, else `../../../shared/data/mnist`
//! relative to this crate. When they are absent the tests print why and pass
//! without checking anything (the data is not part of the repository).

use ebm_core::Seed;
use ebm_data::idx::{Split, load_mnist_split};
use std::path::PathBuf;

fn mnist_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("EBM_MNIST_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist"),
    };
    let (images, _) = Split::Train.file_names();
    if dir.join(images).is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: MNIST not found in {} (set EBM_MNIST_DIR to the folder of the four .gz files)",
            dir.display()
        );
        None
    }
}

#[test]
fn mnist_train_matches_published_facts() {
    let Some(dir) = mnist_dir() else { return };
    let (images, labels) = load_mnist_split(&dir, Split::Train).unwrap();
    assert_eq!((images.count, images.rows, images.cols), (60_000, 28, 28));
    assert_eq!(labels.count(), 60_000);
    assert_eq!(&labels.labels[..10], &[5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    let counts = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
    assert_eq!(&labels.histogram()[..10], &counts);
    assert_eq!(labels.histogram()[10..].iter().sum::<usize>(), 0);
    let sum: u64 = images.pixels.iter().map(|&p| u64::from(p)).sum();
    assert_eq!(sum, 1_567_298_545);
    let first: u64 = images.image(0).iter().map(|&p| u64::from(p)).sum();
    assert_eq!(first, 27_525);
    // mean / std 33.318421 / 78.567490 (to the printed precision)
    let n = images.pixels.len() as f64;
    let mean = sum as f64 / n;
    let var = images.pixels.iter().map(|&p| (f64::from(p) - mean).powi(2)).sum::<f64>() / n;
    assert!((mean - 33.318421).abs() < 5e-7, "{mean}");
    assert!((var.sqrt() - 78.567490).abs() < 5e-7, "{}", var.sqrt());
    // threshold binarisation: fraction of pixels >= 128 is 0.132258
    let on = images.binarize_threshold(128).iter().filter(|&&x| x == 1).count();
    assert!((on as f64 / n - 0.132258).abs() < 5e-7, "{}", on as f64 / n);
}

#[test]
fn mnist_test_matches_published_facts_and_binarises_stochastically() {
    let Some(dir) = mnist_dir() else { return };
    let (images, labels) = load_mnist_split(&dir, Split::Test).unwrap();
    assert_eq!((images.count, images.rows, images.cols), (10_000, 28, 28));
    assert_eq!(&labels.labels[..10], &[7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    let counts = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];
    assert_eq!(&labels.histogram()[..10], &counts);
    let sum: u64 = images.pixels.iter().map(|&p| u64::from(p)).sum();
    assert_eq!(sum, 264_923_200);

    // Stochastic binarisation: E[#on] = Σ p/255, Var = Σ q(1−q) with q = p/255.
    let bits = images.binarize_stochastic(Seed(2008)).unwrap();
    let on = bits.iter().filter(|&&x| x == 1).count() as f64;
    let expected = sum as f64 / 255.0;
    let var: f64 = images
        .pixels
        .iter()
        .map(|&p| {
            let q = f64::from(p) / 255.0;
            q * (1.0 - q)
        })
        .sum();
    assert!(
        (on - expected).abs() < 5.0 * var.sqrt(),
        "on {on}, expected {expected} ± {}",
        var.sqrt()
    );
    // background pixels are never on, full ink always
    for (&p, &b) in images.pixels.iter().zip(&bits) {
        if p == 0 {
            assert_eq!(b, 0);
        }
        if p == 255 {
            assert_eq!(b, 1);
        }
    }
}
