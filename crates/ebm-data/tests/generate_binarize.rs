//! Bars-and-stripes, demo digits, threshold and stochastic binarisation.

use ebm_core::{Error, Purpose, Seed};
use ebm_data::binarize::{stochastic, threshold};
use ebm_data::generate::{
    DIGIT_FONT, DIGIT_NOISE, bars_and_stripes, bars_and_stripes_count, demo_digits, digits,
};
use std::collections::HashSet;

fn distinct_rows(data: &[i8], width: usize) -> usize {
    data.chunks_exact(width).collect::<HashSet<_>>().len()
}

/// Whether a pattern is a bar or a stripe pattern: every grid row constant, or
/// every grid column constant.
fn is_bars_or_stripes(x: &[i8], rows: usize, cols: usize) -> bool {
    let stripes = (0..rows).all(|r| (0..cols).all(|c| x[r * cols + c] == x[r * cols]));
    let bars = (0..cols).all(|c| (0..rows).all(|r| x[r * cols + c] == x[c]));
    stripes || bars
}

#[test]
fn bars_and_stripes_3x3_has_14_and_4x4_has_30_distinct_rows() {
    let d = bars_and_stripes(3, 3).unwrap();
    assert_eq!(d.len(), 14 * 9);
    assert_eq!(distinct_rows(&d, 9), 14);
    let d = bars_and_stripes(4, 4).unwrap();
    assert_eq!(d.len(), 30 * 16);
    assert_eq!(distinct_rows(&d, 16), 30);
}

#[test]
fn bars_and_stripes_are_complete_distinct_and_valid_for_every_small_shape() {
    for rows in 1..=5 {
        for cols in 1..=5 {
            let n = rows * cols;
            let d = bars_and_stripes(rows, cols).unwrap();
            let count = bars_and_stripes_count(rows, cols);
            assert_eq!(count, (1 << rows) + (1 << cols) - 2);
            assert_eq!(d.len(), count * n);
            assert_eq!(distinct_rows(&d, n), count, "{rows}x{cols}");
            assert!(d.iter().all(|&x| x == 0 || x == 1));
            // every row is valid, and every valid pattern is present (brute force)
            assert!(d.chunks_exact(n).all(|x| is_bars_or_stripes(x, rows, cols)));
            let valid = (0u64..1 << n)
                .filter(|code| {
                    let x: Vec<i8> = (0..n).map(|i| (code >> i & 1) as i8).collect();
                    is_bars_or_stripes(&x, rows, cols)
                })
                .count();
            assert_eq!(valid, count, "{rows}x{cols}");
        }
    }
    // the order documented: all-off first, all-on last of the stripes
    let d = bars_and_stripes(2, 3).unwrap();
    assert_eq!(&d[..6], &[0; 6]);
    assert_eq!(&d[18..24], &[1; 6]);
    assert_eq!(&d[24..30], &[1, 0, 0, 1, 0, 0]); // first bar pattern: column 0
}

#[test]
fn bars_and_stripes_rejects_bad_sides() {
    for (r, c) in [(0, 3), (3, 0), (17, 2), (2, 17)] {
        assert!(matches!(bars_and_stripes(r, c), Err(Error::InvalidParameter { .. })));
    }
    assert!(bars_and_stripes(16, 1).is_ok());
    assert_eq!(bars_and_stripes_count(0, 3), 0);
    assert_eq!(bars_and_stripes_count(16, 16), 2 * 65536 - 2);
    assert_eq!(bars_and_stripes_count(64, 2), usize::MAX, "saturates, no overflow");
}

#[test]
fn threshold_is_greater_or_equal() {
    let px: Vec<u8> = (0..=255).collect();
    let b = threshold(&px, 128);
    assert!(b[..128].iter().all(|&x| x == 0) && b[128..].iter().all(|&x| x == 1));
    assert!(threshold(&px, 0).iter().all(|&x| x == 1));
    assert_eq!(threshold(&px, 255).iter().filter(|&&x| x == 1).count(), 1);
}

#[test]
fn stochastic_is_reproducible_and_per_row() {
    let px: Vec<u8> = (0..50 * 40).map(|k| (k * 7 % 256) as u8).collect();
    let a = stochastic(&px, 40, Seed(5)).unwrap();
    assert_eq!(a, stochastic(&px, 40, Seed(5)).unwrap());
    assert_ne!(a, stochastic(&px, 40, Seed(6)).unwrap());
    // rows depend only on (seed, row index): a prefix of rows gives a prefix
    assert_eq!(stochastic(&px[..13 * 40], 40, Seed(5)).unwrap(), a[..13 * 40]);
    // and row k is exactly the documented rule with stream (seed, DATA, k)
    let k = 17;
    let mut draws = vec![0u32; 40];
    Seed(5).stream(Purpose::DATA, k as u64).fill_u32(&mut draws);
    for (j, &u) in draws.iter().enumerate() {
        let p = px[k * 40 + j];
        let on = (u64::from(u) * 255) < (u64::from(p) << 32);
        assert_eq!(a[k * 40 + j], i8::from(on));
    }
    // shape errors
    assert!(matches!(stochastic(&px, 0, Seed(5)), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(stochastic(&px, 47, Seed(5)), Err(Error::ShapeMismatch { .. })));
}

#[test]
fn stochastic_mean_matches_intensity_over_255() {
    // 400 rows × 250 pixels of each intensity: N = 100,000 draws per level,
    // σ = sqrt(q(1−q)/N); 5σ bound (a fixed seed, so it cannot flake).
    let n_rows = 400;
    let width = 250;
    for p in [0u8, 1, 17, 64, 128, 200, 254, 255] {
        let px = vec![p; n_rows * width];
        let b = stochastic(&px, width, Seed(u64::from(p))).unwrap();
        let n = b.len() as f64;
        let mean = b.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let q = f64::from(p) / 255.0;
        let sigma = (q * (1.0 - q) / n).sqrt();
        if p == 0 || p == 255 {
            assert_eq!(mean, q, "p = {p} is deterministic");
        } else {
            assert!((mean - q).abs() < 5.0 * sigma, "p = {p}: mean {mean}, q {q}, σ {sigma}");
        }
    }
}

#[test]
fn demo_digits_are_deterministic_balanced_and_recognisable() {
    let d = demo_digits();
    assert_eq!(d, demo_digits());
    assert_eq!((d.n_rows(), d.width), (300, 100));
    assert_eq!(d.rows.len(), 300 * 100);
    assert!(d.rows.iter().all(|&x| x == 0 || x == 1));
    let mut counts = [0; 10];
    d.labels.iter().for_each(|&l| counts[l as usize] += 1);
    assert_eq!(counts, [30; 10]);
    assert_eq!(&d.labels[..12], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    assert!(distinct_rows(&d.rows, 100) >= 295, "noise and shifts make rows distinct");
    // ink fraction: glyphs have 11–20 of 35 pixels inked (more when bold), plus noise
    let ink = d.rows.iter().filter(|&&x| x == 1).count() as f64 / d.rows.len() as f64;
    assert!((0.12..0.35).contains(&ink), "{ink}");
    // Every row is its digit's glyph at one of the documented placements
    // (left column 1–3, top row 1–2, bold or not) up to a few noise flips, and
    // strictly closer to its own digit than to any other.
    let templates = |digit: usize| {
        let mut out = Vec::new();
        for dx in 1..=3 {
            for dy in 1..=2 {
                for bold in [false, true] {
                    let mut t = [0i8; 100];
                    for (r, bits) in DIGIT_FONT[digit].iter().enumerate() {
                        for c in 0..5 {
                            if bits >> (4 - c) & 1 == 1 {
                                t[(r + dy) * 10 + c + dx] = 1;
                                if bold {
                                    t[(r + dy) * 10 + c + dx + 1] = 1;
                                }
                            }
                        }
                    }
                    out.push(t);
                }
            }
        }
        out
    };
    let all: Vec<Vec<[i8; 100]>> = (0..10).map(templates).collect();
    let hamming = |a: &[i8], b: &[i8; 100]| a.iter().zip(b).filter(|(x, y)| x != y).count();
    let mut flips = 0;
    for k in 0..d.n_rows() {
        let best: Vec<usize> =
            all.iter().map(|ts| ts.iter().map(|t| hamming(d.row(k), t)).min().unwrap()).collect();
        let own = best[d.labels[k] as usize];
        flips += own;
        // P(> 12 flips of 100 at p = 0.02) ≈ 1e-6 per row
        assert!(own <= 12, "row {k}: {own} pixels from its own glyph");
        let other = (0..10).filter(|&c| c != d.labels[k] as usize).map(|c| best[c]).min().unwrap();
        assert!(own < other, "row {k} (digit {}) looks like another digit", d.labels[k]);
    }
    // the noise level: mean flips per row ≈ 100 · DIGIT_NOISE = 2 (σ of the
    // mean over 300 rows ≈ 0.08; the best template can only absorb flips)
    let mean_flips = flips as f64 / d.n_rows() as f64;
    assert!(mean_flips <= 100.0 * DIGIT_NOISE + 0.5, "{mean_flips}");
    assert!(mean_flips >= 100.0 * DIGIT_NOISE - 0.8, "{mean_flips}");
    let fresh = digits(20, Seed(99));
    assert_eq!(fresh.n_rows(), 200);
    // a different seed gives different data, the noise level is as documented
    assert_ne!(fresh.rows[..100 * 10], d.rows[..100 * 10]);
}
