//! The IDX format of MNIST (and Fashion-MNIST): images and labels, raw or gzipped.
//!
//! An IDX file is big-endian: a 4-byte magic `00 00 TT DD` (TT the element
//! type, `0x08` = unsigned byte; DD the number of dimensions), one `u32` size
//! per dimension, then the elements in row-major order. Images have magic
//! 2051 (`00 00 08 03`: count × rows × cols), labels 2049 (`00 00 08 01`:
//! count). Only unsigned-byte files are accepted.
//!
//! Gzip is detected by its magic (`1f 8b`), not the file name. Every problem is
//! an [`Error::Format`] whose `offset` counts bytes of the **decompressed** IDX
//! stream (for a raw file: of the file):
//!
//! | problem | offset |
//! |---|---|
//! | wrong magic (the `00 00` prefix) | 0 |
//! | element type not unsigned byte | 2 |
//! | wrong number of dimensions | 3 |
//! | a size of 0 rows or columns | 8 or 12 |
//! | header or data shorter than declared | the end of the available bytes |
//! | bytes after the declared data | the first extra byte |
//! | label count ≠ image count ([`load_mnist_split`]) | 4, in the labels file |
//!
//! A damaged gzip stream (bad CRC, cut short) is an [`Error::Format`] with `what`
//! naming the gzip layer and the offset of the compressed input consumed so far.
//! Nothing is returned unless the whole file was read and checked; memory is
//! allocated as data actually arrives (bounded by the file's length, times
//! deflate's maximum ratio for gzip), never from a declared count alone.
//!
//! ```
//! use ebm_data::idx::{Images, decode_images};
//! let images = Images::new(2, 2, 3, (0..12).collect())?;
//! let bytes = images.to_idx_bytes();
//! assert_eq!(&bytes[..4], &[0, 0, 8, 3]);
//! assert_eq!(decode_images(&bytes)?, images);
//! # Ok::<(), ebm_core::Error>(())
//! ```

use crate::atomic::{io_error, write_atomic};
use ebm_core::{Error, Result};
use flate2::read::MultiGzDecoder;
use std::cell::Cell;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Magic number of an IDX image file (unsigned bytes, 3 dimensions).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX label file (unsigned bytes, 1 dimension).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// Deflate cannot expand a stream by more than about 1032:1, which bounds the
/// decompressed size of a gzip file by its compressed length.
const MAX_DEFLATE_RATIO: u64 = 1032;

/// The largest image (rows × cols) the reader accepts: 2^24 pixels (a
/// 4096 × 4096 image), so that no later allocation sized by one image — a
/// model's visible layer, a row buffer — comes from a forged header.
pub const MAX_IMAGE_PIXELS: u64 = 1 << 24;

/// A stack of 8-bit greyscale images, row-major, image after image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    /// Number of images.
    pub count: usize,
    /// Rows per image.
    pub rows: usize,
    /// Columns per image.
    pub cols: usize,
    /// `count · rows · cols` intensities (MNIST: 0 background, 255 full ink).
    pub pixels: Vec<u8>,
}

impl Images {
    /// Validates the shape (`pixels.len() = count · rows · cols`, rows and
    /// columns ≥ 1) and wraps the pixels.
    pub fn new(count: usize, rows: usize, cols: usize, pixels: Vec<u8>) -> Result<Self> {
        if rows == 0 || cols == 0 {
            return Err(Error::InvalidParameter {
                name: "image rows or columns",
                value: 0.0,
                expected: "≥ 1",
            });
        }
        let expected = count.checked_mul(rows).and_then(|x| x.checked_mul(cols)).ok_or(
            Error::InvalidParameter {
                name: "count × rows × cols",
                value: count as f64 * rows as f64 * cols as f64,
                expected: "representable as usize",
            },
        )?;
        ebm_core::check_len("pixels (count × rows × cols)", expected, pixels.len())?;
        Ok(Images { count, rows, cols, pixels })
    }

    /// Pixels per image, `rows · cols`.
    pub fn pixels_per_image(&self) -> usize {
        self.rows.saturating_mul(self.cols)
    }

    /// The pixels of image `k` (panics if `k ≥ count`, like slice indexing).
    pub fn image(&self, k: usize) -> &[u8] {
        let n = self.pixels_per_image();
        &self.pixels[k * n..(k + 1) * n]
    }

    /// Threshold binarisation of every image; see [`crate::binarize::threshold`].
    pub fn binarize_threshold(&self, t: u8) -> Vec<i8> {
        crate::binarize::threshold(&self.pixels, t)
    }

    /// Stochastic binarisation of every image (image `k` uses stream
    /// `(seed, DATA, k)`); see [`crate::binarize::stochastic`].
    ///
    /// Errors: [`Error::ShapeMismatch`] if the public fields were set to a
    /// shape that does not match the pixels.
    pub fn binarize_stochastic(&self, seed: ebm_core::Seed) -> Result<Vec<i8>> {
        ebm_core::check_len(
            "pixels (count × rows × cols)",
            self.count.saturating_mul(self.pixels_per_image()),
            self.pixels.len(),
        )?;
        crate::binarize::stochastic(&self.pixels, self.pixels_per_image(), seed)
    }

    /// The images as a raw (uncompressed) IDX file.
    ///
    /// Panics if a dimension exceeds `u32::MAX`, which IDX cannot express.
    pub fn to_idx_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(16 + self.pixels.len());
        b.extend_from_slice(&IMAGES_MAGIC.to_be_bytes());
        for d in [self.count, self.rows, self.cols] {
            b.extend_from_slice(&u32::try_from(d).expect("IDX sizes are u32").to_be_bytes());
        }
        b.extend_from_slice(&self.pixels);
        b
    }
}

/// Class labels, one byte per example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    /// The labels (MNIST: 0–9).
    pub labels: Vec<u8>,
}

impl Labels {
    /// Number of labels.
    pub fn count(&self) -> usize {
        self.labels.len()
    }

    /// How often each value 0..=255 occurs.
    pub fn histogram(&self) -> [usize; 256] {
        let mut h = [0; 256];
        for &l in &self.labels {
            h[l as usize] += 1;
        }
        h
    }

    /// The labels as a raw (uncompressed) IDX file.
    ///
    /// Panics if there are more than `u32::MAX` labels.
    pub fn to_idx_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(8 + self.labels.len());
        b.extend_from_slice(&LABELS_MAGIC.to_be_bytes());
        let n = u32::try_from(self.labels.len()).expect("IDX sizes are u32");
        b.extend_from_slice(&n.to_be_bytes());
        b.extend_from_slice(&self.labels);
        b
    }
}

/// Which half of MNIST to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    /// 60,000 training examples (`train-*`).
    Train,
    /// 10,000 test examples (`t10k-*`).
    Test,
}

impl Split {
    /// The standard file names `(images, labels)`, gzipped.
    pub fn file_names(self) -> (&'static str, &'static str) {
        match self {
            Split::Train => ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
            Split::Test => ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
        }
    }
}

/// Reads whole IDX files: header and data of an element stream, raw or gzipped.
struct Stream<'a> {
    inner: Box<dyn Read + 'a>,
    /// Compressed bytes consumed, when the input is gzipped.
    compressed: Option<&'a Cell<u64>>,
    /// IDX bytes delivered so far.
    pos: u64,
    /// What is being read, for errors.
    what: String,
    /// The file, for I/O errors of a raw file.
    path: Option<&'a Path>,
}

/// Counts the bytes a reader has delivered into a shared cell.
struct Counting<'c, R> {
    inner: R,
    n: &'c Cell<u64>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.set(self.n.get() + k as u64);
        Ok(k)
    }
}

impl<'a> Stream<'a> {
    /// A stream over `inner`; `gzip` selects decompression and requires the counter.
    fn new<R: Read + 'a>(
        inner: R,
        gzip: Option<&'a Cell<u64>>,
        what: String,
        path: Option<&'a Path>,
    ) -> Self {
        let inner: Box<dyn Read + 'a> = match gzip {
            Some(n) => Box::new(MultiGzDecoder::new(Counting { inner, n })),
            None => Box::new(inner),
        };
        Stream { inner, compressed: gzip, pos: 0, what, path }
    }

    fn err(&self, offset: u64, reason: String) -> Error {
        Error::Format { what: self.what.clone(), offset, reason }
    }

    fn read_error(&self, e: std::io::Error) -> Error {
        match (self.compressed, self.path) {
            (Some(n), _) => Error::Format {
                what: format!("gzip stream of {}", self.what),
                offset: n.get(),
                reason: format!("{e} (after {} decompressed bytes)", self.pos),
            },
            (None, Some(p)) => io_error(p, e),
            (None, None) => self.err(self.pos, e.to_string()),
        }
    }

    /// Fills as much of `buf` as the input holds; returns the bytes read.
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mut got = 0;
        while got < buf.len() {
            match self.inner.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(k) => {
                    got += k;
                    self.pos += k as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.read_error(e)),
            }
        }
        Ok(got)
    }

    /// Exactly `buf.len()` bytes of header, or a truncation error.
    fn header(&mut self, buf: &mut [u8], part: &str) -> Result<()> {
        let got = self.fill(buf)?;
        if got < buf.len() {
            return Err(self.err(self.pos, format!("truncated in the {part}")));
        }
        Ok(())
    }

    /// The magic number and the sizes of a `dims`-dimensional unsigned-byte file.
    fn read_header(&mut self, dims: u8, kind: &str) -> Result<Vec<u32>> {
        let mut magic = [0u8; 4];
        self.header(&mut magic, "magic number")?;
        let expected = u32::from_be_bytes([0, 0, 8, dims]);
        if magic[..2] != [0, 0] {
            return Err(self.err(
                0,
                format!(
                    "bad magic number {:#010x} (IDX {kind} start with {expected:#010x})",
                    u32::from_be_bytes(magic)
                ),
            ));
        }
        if magic[2] != 8 {
            return Err(self
                .err(2, format!("element type {:#04x}, expected 0x08 (unsigned byte)", magic[2])));
        }
        if magic[3] != dims {
            return Err(self.err(
                3,
                format!(
                    "{} dimensions, expected {dims} (IDX {kind}, magic {})",
                    magic[3],
                    u32::from_be_bytes([0, 0, 8, dims])
                ),
            ));
        }
        let mut sizes = vec![0u8; 4 * dims as usize];
        self.header(&mut sizes, "dimension sizes")?;
        Ok(sizes.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect())
    }

    /// Exactly `declared` data bytes followed by the end of the input.
    ///
    /// Memory grows with the bytes that actually arrive, starting from at most
    /// `bound` (what the input can hold).
    fn read_data(&mut self, declared: u128, bound: u64) -> Result<Vec<u8>> {
        let start = self.pos;
        let cap = declared.min(u128::from(bound.saturating_sub(start))).min(usize::MAX as u128);
        let mut data = Vec::with_capacity(cap as usize);
        let limit = u64::try_from(declared.saturating_add(1)).unwrap_or(u64::MAX);
        let result = (&mut self.inner).take(limit).read_to_end(&mut data);
        self.pos += data.len() as u64;
        if let Err(e) = result {
            return Err(self.read_error(e));
        }
        let got = data.len() as u128;
        if got < declared {
            return Err(self.err(
                self.pos,
                format!("truncated: the header declares {declared} data bytes, found {got}"),
            ));
        }
        if got > declared {
            return Err(self.err(
                start + declared as u64,
                format!("trailing bytes after the {declared} declared data bytes"),
            ));
        }
        Ok(data)
    }
}

/// Runs `f` over the IDX stream of `bytes` (gzip detected by magic).
fn with_bytes<T>(
    bytes: &[u8],
    what: &str,
    f: impl FnOnce(&mut Stream, u64) -> Result<T>,
) -> Result<T> {
    let counter = Cell::new(0);
    let gzip = bytes.starts_with(&GZIP_MAGIC);
    let bound = bound(bytes.len() as u64, gzip);
    let mut s = Stream::new(bytes, gzip.then_some(&counter), what.to_string(), None);
    f(&mut s, bound)
}

/// Runs `f` over the IDX stream of the file at `path` (gzip detected by magic).
fn with_file<T>(
    path: &Path,
    what: &str,
    f: impl FnOnce(&mut Stream, u64) -> Result<T>,
) -> Result<T> {
    let not_regular = || Error::Io {
        path: path.display().to_string(),
        message: "not a regular file (a device, FIFO or directory): not read".into(),
    };
    // checked before opening: opening a FIFO for reading blocks until a writer comes
    if !std::fs::metadata(path).map_err(|e| io_error(path, e))?.is_file() {
        return Err(not_regular());
    }
    let mut file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let meta = file.metadata().map_err(|e| io_error(path, e))?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    let len = meta.len();
    let mut head = [0u8; 2];
    let n = Read::by_ref(&mut file).take(2).read(&mut head).map_err(|e| io_error(path, e))?;
    let gzip = n == 2 && head == GZIP_MAGIC;
    file.seek(SeekFrom::Start(0)).map_err(|e| io_error(path, e))?;
    let counter = Cell::new(0);
    let reader = std::io::BufReader::with_capacity(1 << 16, file);
    let what = format!("{what} {}", path.display());
    let mut s = Stream::new(reader, gzip.then_some(&counter), what, Some(path));
    f(&mut s, bound(len, gzip))
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The most IDX bytes an input of `len` bytes can hold.
fn bound(len: u64, gzip: bool) -> u64 {
    if gzip { len.saturating_mul(MAX_DEFLATE_RATIO) } else { len }
}

fn images_from(s: &mut Stream, bound: u64) -> Result<Images> {
    let d = s.read_header(3, "images")?;
    for (k, &side) in d.iter().enumerate().skip(1) {
        if side == 0 {
            return Err(s.err(4 + 4 * k as u64, "an image side of 0".into()));
        }
    }
    let per_image = u64::from(d[1]) * u64::from(d[2]);
    if per_image > MAX_IMAGE_PIXELS {
        return Err(s.err(
            8,
            format!(
                "images of {} × {} pixels (at most {MAX_IMAGE_PIXELS} per image are read)",
                d[1], d[2]
            ),
        ));
    }
    let declared = u128::from(d[0]) * u128::from(d[1]) * u128::from(d[2]);
    let pixels = s.read_data(declared, bound)?;
    Ok(Images { count: d[0] as usize, rows: d[1] as usize, cols: d[2] as usize, pixels })
}

fn labels_from(s: &mut Stream, bound: u64) -> Result<Labels> {
    let d = s.read_header(1, "labels")?;
    let labels = s.read_data(u128::from(d[0]), bound)?;
    Ok(Labels { labels })
}

/// Parses IDX images from memory, raw or gzipped (see the [module docs](self)).
pub fn decode_images(bytes: &[u8]) -> Result<Images> {
    with_bytes(bytes, "IDX images", images_from)
}

/// Parses IDX labels from memory, raw or gzipped (see the [module docs](self)).
pub fn decode_labels(bytes: &[u8]) -> Result<Labels> {
    with_bytes(bytes, "IDX labels", labels_from)
}

/// Reads an IDX image file, raw or gzipped, streaming (see the [module docs](self)).
///
/// Errors: [`Error::Io`] if the file cannot be read, [`Error::Format`] if it is malformed.
pub fn read_images(path: impl AsRef<Path>) -> Result<Images> {
    with_file(path.as_ref(), "IDX images", images_from)
}

/// Reads an IDX label file, raw or gzipped, streaming (see the [module docs](self)).
///
/// Errors: [`Error::Io`] if the file cannot be read, [`Error::Format`] if it is malformed.
pub fn read_labels(path: impl AsRef<Path>) -> Result<Labels> {
    with_file(path.as_ref(), "IDX labels", labels_from)
}

/// Loads one split of MNIST (or Fashion-MNIST) from `dir`, which holds the four
/// standard gzipped files (see [`Split::file_names`]).
///
/// Errors: those of [`read_images`] and [`read_labels`], and an
/// [`Error::Format`] at offset 4 of the label file (its count) when the label
/// and image counts differ.
pub fn load_mnist_split(dir: impl AsRef<Path>, split: Split) -> Result<(Images, Labels)> {
    let (img, lab) = split.file_names();
    let (img, lab) = (dir.as_ref().join(img), dir.as_ref().join(lab));
    let images = read_images(&img)?;
    let labels = read_labels(&lab)?;
    if images.count != labels.count() {
        return Err(Error::Format {
            what: format!("IDX labels {}", lab.display()),
            offset: 4,
            reason: format!(
                "{} labels for {} images in {}",
                labels.count(),
                images.count,
                img.display()
            ),
        });
    }
    Ok((images, labels))
}

/// IDX sizes are `u32`.
fn fits_u32(d: usize) -> Result<()> {
    if u32::try_from(d).is_ok() {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name: "IDX dimension size",
            value: d as f64,
            expected: "≤ 4294967295 (u32)",
        })
    }
}

/// Gzips `bytes` (default compression level).
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

/// Writes `images` as an IDX file, gzipped if `gz`, atomically (see
/// [`crate::write_atomic`]).
///
/// Errors: [`Error::InvalidParameter`] if a size exceeds `u32::MAX` (IDX
/// cannot express it), [`Error::ShapeMismatch`] if the public fields disagree
/// with the pixels, [`Error::Io`] if the file cannot be written.
pub fn write_images(path: impl AsRef<Path>, images: &Images, gz: bool) -> Result<()> {
    for d in [images.count, images.rows, images.cols] {
        fits_u32(d)?;
    }
    ebm_core::check_len(
        "pixels (count × rows × cols)",
        images.count.saturating_mul(images.pixels_per_image()),
        images.pixels.len(),
    )?;
    let raw = images.to_idx_bytes();
    write_atomic(path.as_ref(), &if gz { gzip(&raw) } else { raw })
}

/// Writes `labels` as an IDX file, gzipped if `gz`, atomically (see
/// [`crate::write_atomic`]).
///
/// Errors: [`Error::InvalidParameter`] for more than `u32::MAX` labels,
/// [`Error::Io`] if the file cannot be written.
pub fn write_labels(path: impl AsRef<Path>, labels: &Labels, gz: bool) -> Result<()> {
    fits_u32(labels.count())?;
    let raw = labels.to_idx_bytes();
    write_atomic(path.as_ref(), &if gz { gzip(&raw) } else { raw })
}
