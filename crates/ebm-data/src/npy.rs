//! NumPy `.npy` files of 2-D arrays (`u8`, `i8`, `f32`, `f64`), for exchange with Python.
//!
//! Format (NumPy's `numpy.lib.format`): the magic `\x93NUMPY`, a major and
//! minor version byte, the header length (`u16` little-endian in version 1.0,
//! `u32` in 2.0 and 3.0), then the header: a Python dict literal such as
//! `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }` padded with
//! spaces and a final `\n`, then the raw elements.
//!
//! Writing produces version 1.0, C order, little-endian, with the header padded
//! so the data starts at a multiple of 64 bytes, as NumPy does; descriptors
//! `|u1`, `|i1`, `<f4`, `<f8`. Reading accepts versions 1.0–3.0, either byte
//! order, Fortran order (transposed into row-major on load) and `|b1`
//! (booleans, read as `u8` 0/1), and requires exactly two dimensions and
//! exactly the declared number of data bytes. Errors are [`Error::Format`] with
//! the byte offset of the problem.
//!
//! A small hand implementation rather than a crate: the available one (`npyz`)
//! parses headers with a general Python-literal parser (pest, big integers);
//! 2-D arrays of four element types need a hundred lines that are tested here
//! against hand-built NumPy headers.
//!
//! ```
//! use ebm_data::npy::{NpyArray, NpyData};
//! let a = NpyArray::new(2, 3, NpyData::F64(vec![0.5, 1.0, 1.5, 2.0, 2.5, 3.0]))?;
//! let bytes = a.to_bytes();
//! assert_eq!(&bytes[..6], b"\x93NUMPY");
//! assert_eq!(bytes.len() % 64, 48 % 64); // 64-byte header, 48 data bytes
//! assert_eq!(NpyArray::from_bytes(&bytes)?, a);
//! # Ok::<(), ebm_core::Error>(())
//! ```

use crate::atomic::write_atomic;
use ebm_core::{Error, Result};
use std::path::Path;

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The elements of an array, row-major.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyData {
    /// `|u1` (also what `|b1` booleans are read as).
    U8(Vec<u8>),
    /// `|i1` (e.g. 0/1 or ±1 unit states).
    I8(Vec<i8>),
    /// `<f4`.
    F32(Vec<f32>),
    /// `<f8`.
    F64(Vec<f64>),
}

impl NpyData {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            NpyData::U8(v) => v.len(),
            NpyData::I8(v) => v.len(),
            NpyData::F32(v) => v.len(),
            NpyData::F64(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The NumPy type descriptor this crate writes: `|u1`, `|i1`, `<f4` or `<f8`.
    pub fn descr(&self) -> &'static str {
        match self {
            NpyData::U8(_) => "|u1",
            NpyData::I8(_) => "|i1",
            NpyData::F32(_) => "<f4",
            NpyData::F64(_) => "<f8",
        }
    }

    fn le_bytes(&self) -> Vec<u8> {
        match self {
            NpyData::U8(v) => v.clone(),
            NpyData::I8(v) => v.iter().map(|&x| x as u8).collect(),
            NpyData::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            NpyData::F64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }
}

/// A 2-D array: `rows × cols` elements, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    rows: usize,
    cols: usize,
    data: NpyData,
}

/// Element kinds and their sizes.
#[derive(Clone, Copy)]
enum Kind {
    U8,
    Bool,
    I8,
    F32,
    F64,
}

impl Kind {
    fn size(self) -> usize {
        match self {
            Kind::U8 | Kind::Bool | Kind::I8 => 1,
            Kind::F32 => 4,
            Kind::F64 => 8,
        }
    }
}

impl NpyArray {
    /// Wraps `data` as a `rows × cols` array.
    ///
    /// Errors: [`Error::ShapeMismatch`] if `data.len() ≠ rows · cols`.
    pub fn new(rows: usize, cols: usize, data: NpyData) -> Result<Self> {
        let n = rows.checked_mul(cols).ok_or(Error::InvalidParameter {
            name: "rows × cols",
            value: rows as f64 * cols as f64,
            expected: "representable as usize",
        })?;
        ebm_core::check_len("array elements (rows × cols)", n, data.len())?;
        Ok(NpyArray { rows, cols, data })
    }

    /// Number of rows (the first axis).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (the second axis).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The elements, row-major.
    pub fn data(&self) -> &NpyData {
        &self.data
    }

    /// The elements, row-major, by value.
    pub fn into_data(self) -> NpyData {
        self.data
    }

    /// The `.npy` file (version 1.0, C order, little-endian).
    pub fn to_bytes(&self) -> Vec<u8> {
        let dict = format!(
            "{{'descr': '{}', 'fortran_order': False, 'shape': ({}, {}), }}",
            self.data.descr(),
            self.rows,
            self.cols
        );
        // magic (6) + version (2) + length (2) + dict + padding + '\n' ≡ 0 mod 64
        let unpadded = MAGIC.len() + 4 + dict.len() + 1;
        let header_len = dict.len() + 1 + (64 - unpadded % 64) % 64;
        let mut b = Vec::with_capacity(10 + header_len + self.data.len() * 8);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&[1, 0]);
        b.extend_from_slice(&(header_len as u16).to_le_bytes());
        b.extend_from_slice(dict.as_bytes());
        b.resize(10 + header_len - 1, b' ');
        b.push(b'\n');
        b.extend_from_slice(&self.data.le_bytes());
        b
    }

    /// Parses a `.npy` file held in memory (see the [module docs](self)).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let err = |offset: usize, reason: String| Error::Format {
            what: "npy array".into(),
            offset: offset as u64,
            reason,
        };
        if bytes.len() < 8 {
            return Err(err(bytes.len(), "truncated in the magic string and version".into()));
        }
        if &bytes[..6] != MAGIC {
            return Err(err(0, "bad magic string (not a .npy file)".into()));
        }
        let (len_bytes, major) = match bytes[6] {
            1 => (2, 1),
            2 | 3 => (4, bytes[6]),
            v => return Err(err(6, format!("unsupported .npy version {v}.{}", bytes[7]))),
        };
        let start = 8 + len_bytes;
        if bytes.len() < start {
            return Err(err(bytes.len(), "truncated in the header length".into()));
        }
        let header_len = if major == 1 {
            u16::from_le_bytes([bytes[8], bytes[9]]) as usize
        } else {
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize
        };
        let data_start = start + header_len;
        if bytes.len() < data_start {
            return Err(err(bytes.len(), format!("truncated in the {header_len}-byte header")));
        }
        let header = Header::parse(&bytes[start..data_start])
            .map_err(|(at, reason)| err(start + at, reason))?;
        let size = header.kind.size();
        let n_bytes = header.rows.checked_mul(header.cols).and_then(|n| n.checked_mul(size));
        let available = bytes.len() - data_start;
        let n_bytes = match n_bytes {
            Some(n) if n <= available => n,
            _ => {
                return Err(err(
                    bytes.len(),
                    format!(
                        "truncated: shape ({}, {}) of {size}-byte elements needs more than the {available} data bytes",
                        header.rows, header.cols
                    ),
                ));
            }
        };
        if n_bytes < available {
            return Err(err(data_start + n_bytes, "trailing bytes after the array data".into()));
        }
        let raw = &bytes[data_start..];
        let data = decode(raw, header.kind, header.big_endian);
        let data = if header.fortran { transpose(data, header.rows, header.cols) } else { data };
        NpyArray::new(header.rows, header.cols, data)
    }

    /// Reads a `.npy` file.
    ///
    /// Errors: [`Error::Io`] if it cannot be read, [`Error::Format`] if malformed.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = crate::read_capped(path, crate::MAX_READ_BYTES)?;
        NpyArray::from_bytes(&bytes).map_err(|e| match e {
            Error::Format { what, offset, reason } => {
                Error::Format { what: format!("{what} {}", path.display()), offset, reason }
            }
            e => e,
        })
    }

    /// Writes the array as a `.npy` file, atomically (see [`crate::write_atomic`]).
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomic(path.as_ref(), &self.to_bytes())
    }
}

fn decode(raw: &[u8], kind: Kind, big: bool) -> NpyData {
    macro_rules! floats {
        ($t:ty, $n:literal) => {
            raw.chunks_exact($n)
                .map(|c| {
                    let a: [u8; $n] = c.try_into().expect("exact chunk");
                    if big { <$t>::from_be_bytes(a) } else { <$t>::from_le_bytes(a) }
                })
                .collect()
        };
    }
    match kind {
        Kind::U8 | Kind::Bool => NpyData::U8(raw.to_vec()),
        Kind::I8 => NpyData::I8(raw.iter().map(|&x| x as i8).collect()),
        Kind::F32 => NpyData::F32(floats!(f32, 4)),
        Kind::F64 => NpyData::F64(floats!(f64, 8)),
    }
}

/// Column-major `rows × cols` elements into row-major order.
fn transpose(data: NpyData, rows: usize, cols: usize) -> NpyData {
    fn t<T: Copy>(v: &[T], rows: usize, cols: usize) -> Vec<T> {
        (0..rows * cols).map(|k| v[(k % cols) * rows + k / cols]).collect()
    }
    match data {
        NpyData::U8(v) => NpyData::U8(t(&v, rows, cols)),
        NpyData::I8(v) => NpyData::I8(t(&v, rows, cols)),
        NpyData::F32(v) => NpyData::F32(t(&v, rows, cols)),
        NpyData::F64(v) => NpyData::F64(t(&v, rows, cols)),
    }
}

/// The parsed header dict.
struct Header {
    kind: Kind,
    big_endian: bool,
    fortran: bool,
    rows: usize,
    cols: usize,
}

/// A Python literal of the header dict.
enum Value {
    Str(String),
    Bool(bool),
    Tuple(Vec<u64>),
}

/// A tiny parser of the header's Python dict literal; errors carry the offset
/// within the header.
struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

type ParseResult<T> = std::result::Result<T, (usize, String)>;

impl Parser<'_> {
    fn fail<T>(&self, reason: impl Into<String>) -> ParseResult<T> {
        Err((self.pos, reason.into()))
    }

    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.pos).copied()
    }

    fn expect(&mut self, c: u8) -> ParseResult<()> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            self.fail(format!("expected '{}' in the header", c as char))
        }
    }

    fn string(&mut self) -> ParseResult<String> {
        let q = match self.peek() {
            Some(q @ (b'\'' | b'"')) => q,
            _ => return self.fail("expected a quoted string in the header"),
        };
        let start = self.pos + 1;
        match self.s[start..].iter().position(|&c| c == q) {
            Some(k) => {
                self.pos = start + k + 1;
                Ok(String::from_utf8_lossy(&self.s[start..start + k]).into_owned())
            }
            None => self.fail("unterminated string in the header"),
        }
    }

    fn integer(&mut self) -> ParseResult<u64> {
        self.skip_ws();
        let start = self.pos;
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_digit() {
            self.pos += 1;
        }
        let digits = std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("");
        let v = digits.parse().map_err(|_| (start, "expected a dimension size".to_string()))?;
        if self.s.get(self.pos) == Some(&b'L') {
            self.pos += 1; // Python 2 long suffix
        }
        Ok(v)
    }

    fn value(&mut self) -> ParseResult<Value> {
        match self.peek() {
            Some(b'\'' | b'"') => self.string().map(Value::Str),
            Some(b'(') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    if self.peek() == Some(b')') {
                        self.pos += 1;
                        return Ok(Value::Tuple(items));
                    }
                    items.push(self.integer()?);
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b')') => {}
                        _ => return self.fail("expected ',' or ')' in the shape"),
                    }
                }
            }
            _ => {
                for (word, v) in [("True", true), ("False", false)] {
                    if self.s[self.pos..].starts_with(word.as_bytes()) {
                        self.pos += word.len();
                        return Ok(Value::Bool(v));
                    }
                }
                self.fail("expected a string, a tuple, True or False")
            }
        }
    }
}

impl Header {
    fn parse(s: &[u8]) -> ParseResult<Header> {
        let mut p = Parser { s, pos: 0 };
        p.expect(b'{')?;
        let (mut descr, mut fortran, mut shape) = (None, None, None);
        loop {
            if p.peek() == Some(b'}') {
                p.pos += 1;
                break;
            }
            p.skip_ws();
            let key_at = p.pos;
            let key = p.string()?;
            p.expect(b':')?;
            p.skip_ws();
            let value_at = p.pos;
            match (key.as_str(), p.value()?) {
                ("descr", Value::Str(d)) => descr = Some((value_at, d)),
                ("fortran_order", Value::Bool(f)) => fortran = Some(f),
                ("shape", Value::Tuple(t)) => shape = Some((value_at, t)),
                ("descr" | "fortran_order" | "shape", _) => {
                    return Err((value_at, format!("wrong type of value for '{key}'")));
                }
                _ => return Err((key_at, format!("unexpected key '{key}' in the header"))),
            }
            match p.peek() {
                Some(b',') => p.pos += 1,
                Some(b'}') => {}
                _ => return p.fail("expected ',' or '}' in the header"),
            }
        }
        if p.s[p.pos..].iter().any(|c| !c.is_ascii_whitespace()) {
            return p.fail("unexpected characters after the header dict");
        }
        let missing = |k: &str| (0, format!("the header has no '{k}'"));
        let (descr_at, descr) = descr.ok_or_else(|| missing("descr"))?;
        let fortran = fortran.ok_or_else(|| missing("fortran_order"))?;
        let (shape_at, shape) = shape.ok_or_else(|| missing("shape"))?;
        let (big_endian, kind) = match descr.as_bytes() {
            [order @ (b'<' | b'>' | b'|' | b'='), rest @ ..] => (*order == b'>', rest),
            rest => (false, rest),
        };
        let kind = match kind {
            b"u1" => Kind::U8,
            b"b1" => Kind::Bool,
            b"i1" => Kind::I8,
            b"f4" => Kind::F32,
            b"f8" => Kind::F64,
            _ => {
                return Err((
                    descr_at,
                    format!("unsupported element type '{descr}' (u1, b1, i1, f4 and f8 are)"),
                ));
            }
        };
        let [rows, cols] = shape[..] else {
            return Err((shape_at, format!("{} dimensions, expected 2", shape.len())));
        };
        let dim = |d: u64| usize::try_from(d).map_err(|_| (shape_at, "dimension too large".into()));
        Ok(Header { kind, big_endian, fortran, rows: dim(rows)?, cols: dim(cols)? })
    }
}

/// Reads a 2-D `.npy` file; see [`NpyArray::read`].
pub fn read_npy(path: impl AsRef<Path>) -> Result<NpyArray> {
    NpyArray::read(path)
}

/// Writes a 2-D `.npy` file atomically; see [`NpyArray::write`].
pub fn write_npy(path: impl AsRef<Path>, array: &NpyArray) -> Result<()> {
    array.write(path)
}
