//! Synthetic binary data sets, generated in code (nothing downloaded or shipped).
//!
//! - [`bars_and_stripes`]: every distinct bars-and-stripes pattern of an
//!   `rows × cols` grid (MacKay's toy set, small enough for exact likelihoods).
//! - [`digits`] and [`demo_digits`]: 10×10 binary digits drawn from a 5×7
//!   bitmap font with random shifts, bold strokes and pixel noise; the default
//!   data set of the CLI demo.
//!
//! Rows are flat `Vec<i8>` of 0/1 values, row after row.

use ebm_core::{Error, Purpose, Result, Seed, uniform};

/// The largest side [`bars_and_stripes`] accepts (2¹⁶ + 2¹⁶ − 2 patterns of
/// up to 256 units each is 32 MiB).
pub const MAX_BARS_AND_STRIPES_SIDE: usize = 16;

/// The number of distinct bars-and-stripes patterns of a `rows × cols` grid:
/// `2^rows + 2^cols − 2` (all-off and all-on are both a bar and a stripe
/// pattern), saturating at `usize::MAX`; 0 if a side is 0.
pub fn bars_and_stripes_count(rows: usize, cols: usize) -> usize {
    if rows == 0 || cols == 0 {
        return 0;
    }
    let pow =
        |k: usize| u32::try_from(k).ok().and_then(|k| 1usize.checked_shl(k)).filter(|&p| p > 0);
    match (pow(rows), pow(cols)) {
        (Some(a), Some(b)) => a.saturating_add(b) - 2,
        _ => usize::MAX,
    }
}

/// Every distinct bars-and-stripes pattern of a `rows × cols` grid, each a row
/// of `rows · cols` 0/1 values (row-major: unit `r · cols + c`).
///
/// A stripe pattern switches on a subset of the grid's rows, a bar pattern a
/// subset of its columns. Order: the `2^rows` stripe patterns by subset code
/// (bit r set = row r on, so the first is all-off and the last all-on), then
/// the bar patterns by code, without all-off and all-on, which were already
/// listed. There are [`bars_and_stripes_count`]`(rows, cols)` rows; e.g. 14
/// for 3×3 and 30 for 4×4.
///
/// Errors: [`Error::InvalidParameter`] for a side of 0 or above
/// [`MAX_BARS_AND_STRIPES_SIDE`].
///
/// ```
/// let data = ebm_data::generate::bars_and_stripes(2, 3)?;
/// assert_eq!(data.len(), (4 + 8 - 2) * 6);
/// assert_eq!(&data[6..12], &[1, 1, 1, 0, 0, 0]); // top stripe
/// # Ok::<(), ebm_core::Error>(())
/// ```
pub fn bars_and_stripes(rows: usize, cols: usize) -> Result<Vec<i8>> {
    for (name, side) in [("bars-and-stripes rows", rows), ("bars-and-stripes columns", cols)] {
        if side == 0 || side > MAX_BARS_AND_STRIPES_SIDE {
            return Err(Error::InvalidParameter {
                name,
                value: side as f64,
                expected: "between 1 and 16",
            });
        }
    }
    let n = rows * cols;
    let mut out = Vec::with_capacity(bars_and_stripes_count(rows, cols) * n);
    for code in 0..1usize << rows {
        for r in 0..rows {
            let on = i8::from(code >> r & 1 == 1);
            out.extend(std::iter::repeat_n(on, cols));
        }
    }
    for code in 1..(1usize << cols) - 1 {
        for _ in 0..rows {
            out.extend((0..cols).map(|c| i8::from(code >> c & 1 == 1)));
        }
    }
    Ok(out)
}

/// The 5×7 bitmap glyphs [`digits`] draws, one `u8` per glyph row (bit 4 =
/// leftmost column), indexed by digit.
pub const DIGIT_FONT: [[u8; 7]; 10] = [
    [0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110],
    [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
    [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111],
    [0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110],
    [0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010],
    [0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110],
    [0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110],
    [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000],
    [0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110],
    [0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100],
];

/// Side of a [`digits`] image: 10 × 10 = 100 units.
pub const DIGIT_SIDE: usize = 10;

/// Probability that [`digits`] flips a pixel after drawing.
pub const DIGIT_NOISE: f64 = 0.02;

/// The seed of [`demo_digits`].
pub const DEMO_SEED: Seed = Seed(0x0EB0_D161);

/// Rows per digit class in [`demo_digits`].
pub const DEMO_PER_DIGIT: usize = 30;

/// A labelled binary data set: `n_rows` rows of `width` 0/1 values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labelled {
    /// Values per row.
    pub width: usize,
    /// The rows, flat (`n_rows · width` values, each 0 or 1).
    pub rows: Vec<i8>,
    /// One label per row.
    pub labels: Vec<u8>,
}

impl Labelled {
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.labels.len()
    }

    /// Row `k` (panics if `k ≥ n_rows()`, like slice indexing).
    pub fn row(&self, k: usize) -> &[i8] {
        &self.rows[k * self.width..(k + 1) * self.width]
    }
}

/// `per_digit` noisy 10×10 images of each digit 0–9, in the order 0, 1, …, 9,
/// 0, 1, … (so any prefix is nearly balanced); labels are the digits.
///
/// Row `k` is drawn from stream `(seed, Purpose::DATA, k)`: the 5×7 glyph is
/// placed at a random offset (its left column at 1, 2 or 3 and its top row at 1
/// or 2 of the 10×10 grid, uniformly), made
/// bold (each stroke also inks the pixel to its right) with probability 1/2,
/// and each of the 100 pixels is then flipped with probability
/// [`DIGIT_NOISE`].
pub fn digits(per_digit: usize, seed: Seed) -> Labelled {
    let n = 10 * per_digit;
    let width = DIGIT_SIDE * DIGIT_SIDE;
    let mut rows = vec![0i8; n * width];
    let mut labels = Vec::with_capacity(n);
    for (k, img) in rows.chunks_exact_mut(width).enumerate() {
        let digit = k % 10;
        let mut rng = seed.stream(Purpose::DATA, k as u64);
        let dx = 1 + (uniform(&mut rng) * 3.0) as usize;
        let dy = 1 + (uniform(&mut rng) * 2.0) as usize;
        let bold = uniform(&mut rng) < 0.5;
        for (r, bits) in DIGIT_FONT[digit].iter().enumerate() {
            for c in 0..5 {
                if bits >> (4 - c) & 1 == 1 {
                    img[(r + dy) * DIGIT_SIDE + c + dx] = 1;
                    if bold {
                        img[(r + dy) * DIGIT_SIDE + c + dx + 1] = 1;
                    }
                }
            }
        }
        for x in img.iter_mut() {
            if uniform(&mut rng) < DIGIT_NOISE {
                *x = 1 - *x;
            }
        }
        labels.push(digit as u8);
    }
    Labelled { width, rows, labels }
}

/// The CLI demo's default data set: [`digits`]`(`[`DEMO_PER_DIGIT`]`,
/// `[`DEMO_SEED`]`)`, 300 rows of 100 units, 30 of each digit.
///
/// Generated procedurally on every call (bit-identical on every platform):
/// no third-party data is shipped or downloaded.
pub fn demo_digits() -> Labelled {
    digits(DEMO_PER_DIGIT, DEMO_SEED)
}
