//! Multiple sequence alignments (protein families) as categorical data: a FASTA
//! / A2M reader, similarity reweighting and a seeded train/test split.
//!
//! An [`Alignment`] holds `N` aligned sequences of one common length `L`,
//! each position encoded as a category index (`u8`) of an [`Alphabet`]:
//! row-major, sequence after sequence, ready for categorical models over
//! [`Alignment::space`] (`L` units of `q = alphabet.len()` values each).
//! [`Alphabet::protein`] is the usual `q = 21`: the 20 amino acids
//! `ACDEFGHIKLMNPQRSTVWY` as categories 0–19, then the gap `-` as category
//! 20 ([`PROTEIN_GAP`]).
//!
//! # Reading
//!
//! [`Alignment::parse`] (bytes) and [`Alignment::load`] (a file) read FASTA:
//! a record is a header line starting with `>` followed by its sequence, which
//! may be wrapped over several lines. The header's name is the line with all
//! its leading `>` and surrounding whitespace removed (`>>S1` and `> S1` are
//! both named `S1`). `\r\n` line ends, blank lines, whitespace inside sequence
//! lines and a leading UTF-8 byte-order mark are tolerated. Letters are read
//! according to [`ReadOptions`]:
//!
//! - `a2m: false` (the default): a lowercase letter that is not itself a
//!   symbol is read as its uppercase form, and `.` (when it is not itself a
//!   symbol and the alphabet has `-`) as the gap `-`;
//! - `a2m: true`: lowercase letters and `.` are A2M insert states and are
//!   dropped, leaving the match columns (the standard A2M → aligned FASTA
//!   conversion); uppercase letters and `-` are the aligned positions.
//!
//! Every problem is an [`Error::Format`] whose `offset` is the byte offset in
//! the input (of the file, for [`Alignment::load`]) and whose reason names the
//! record:
//!
//! | problem | offset |
//! |---|---|
//! | no sequences (empty or blank input) | the end of the input |
//! | sequence data before the first header | its first non-blank byte |
//! | a record with no residues (in A2M: no match columns) | its header's `>` |
//! | a record longer than the first record | its first residue beyond that length |
//! | a record shorter than the first record | just past its last residue |
//! | a letter that is not in the alphabet | that byte |
//!
//! Lengths are compared with the first record; the reason of a length error
//! names the record, its length and the expected one. The reason of an
//! unknown letter names the letter, the record and the (1-based) column.
//!
//! # Reweighting and splitting
//!
//! [`Alignment::weights`] gives each sequence the weight
//! `1 / #{j : identity(i, j) ≥ threshold}` (the sequence itself included),
//! the standard correction for the phylogenetic redundancy of a family
//! (threshold 0.8 in most of the literature); [`effective_size`] is their sum.
//! [`Alignment::split`] and [`split_indices`] make a reproducible random
//! train/test split from an [`ebm_core::Seed`].
//!
//! ```
//! use ebm_data::msa::{Alignment, Alphabet, ReadOptions, effective_size};
//! let fasta = b">>S1\nACDE-\n>>S2\nACDE-\n>>S3\nWWWW-\n";
//! let msa = Alignment::parse(fasta, &Alphabet::protein(), &ReadOptions::default())?;
//! assert_eq!((msa.n_sequences(), msa.length()), (3, 5));
//! assert_eq!(msa.row(0), &[0, 1, 2, 3, 20]);
//! assert_eq!(msa.to_string(2), "WWWW-");
//! let w = msa.weights(0.8)?;
//! assert_eq!(w, vec![0.5, 0.5, 1.0]);
//! assert_eq!(effective_size(&w), 2.0);
//! # Ok::<(), ebm_core::Error>(())
//! ```

use ebm_core::{Categories, Error, Purpose, Result, Seed};
use rand::RngExt;
use rayon::prelude::*;
use std::fmt;
use std::path::Path;

/// The protein alphabet's symbols in category order: the 20 amino acids, then
/// the gap.
pub const PROTEIN_SYMBOLS: &str = "ACDEFGHIKLMNPQRSTVWY-";

/// The category of the gap `-` in [`Alphabet::protein`].
pub const PROTEIN_GAP: u8 = 20;

/// An ordered set of single-byte symbols; the position of a symbol is its
/// category index.
///
/// Symbols are printable ASCII characters other than `>` (which starts a
/// header), so an alphabet has 2 to 93 symbols — always within the
/// [`ebm_core::MAX_CATEGORIES`] values a categorical unit can take. Case
/// matters: `a` and `A` are different symbols (see [`ReadOptions`] for how
/// lowercase input is read).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Alphabet {
    symbols: Vec<u8>,
    lookup: [Option<u8>; 256],
}

impl Alphabet {
    /// The alphabet whose category `k` is the `k`-th character of `symbols`,
    /// e.g. `"ACGT-"` or `"01"`.
    ///
    /// Errors: [`Error::InvalidSequence`] (naming `"alphabet"`) when `symbols`
    /// has fewer than 2 characters (a category needs at least two values), a
    /// character that is not printable ASCII or is `>`, or a repeated
    /// character.
    pub fn new(symbols: &str) -> Result<Alphabet> {
        let bad = |reason: String| Error::InvalidSequence { what: "alphabet", reason };
        let bytes = symbols.as_bytes();
        if let Some(c) = symbols.chars().find(|&c| !c.is_ascii_graphic() || c == '>') {
            return Err(bad(format!(
                "symbol {c:?} is not allowed (symbols are printable ASCII characters other than '>')"
            )));
        }
        if bytes.len() < 2 {
            return Err(bad(format!(
                "{} symbol(s) {symbols:?}: an alphabet needs at least 2",
                bytes.len()
            )));
        }
        // Unreachable with ASCII-only symbols (at most 93 distinct ones), kept
        // so the bound of `u8` category indices is stated where it matters.
        if bytes.len() > ebm_core::MAX_CATEGORIES {
            return Err(bad(format!(
                "{} symbols: at most {} are supported",
                bytes.len(),
                ebm_core::MAX_CATEGORIES
            )));
        }
        let mut lookup = [None; 256];
        for (k, &b) in bytes.iter().enumerate() {
            if lookup[usize::from(b)].is_some() {
                return Err(bad(format!(
                    "symbol '{}' appears more than once in {symbols:?}",
                    char::from(b)
                )));
            }
            lookup[usize::from(b)] = Some(k as u8);
        }
        Ok(Alphabet { symbols: bytes.to_vec(), lookup })
    }

    /// The 21-letter protein alphabet [`PROTEIN_SYMBOLS`]: the amino acids
    /// `ACDEFGHIKLMNPQRSTVWY` are categories 0–19 in that (alphabetical
    /// one-letter code) order and the gap `-` is category 20 ([`PROTEIN_GAP`]).
    pub fn protein() -> Alphabet {
        Alphabet::new(PROTEIN_SYMBOLS).expect("the protein alphabet is valid")
    }

    /// Number of symbols, the `q` of every position.
    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    /// Always `false`: an alphabet has at least two symbols.
    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }

    /// The category of symbol `byte`, or `None` if it is not in the alphabet
    /// (exact match: no case folding).
    #[inline]
    pub fn index(&self, byte: u8) -> Option<u8> {
        self.lookup[usize::from(byte)]
    }

    /// The symbol of category `k`.
    ///
    /// Panics if `k ≥ len()`, like slice indexing.
    pub fn symbol(&self, k: u8) -> char {
        char::from(self.symbols[usize::from(k)])
    }

    /// The symbols in category order, e.g. `"ACDEFGHIKLMNPQRSTVWY-"`.
    pub fn as_str(&self) -> &str {
        // Only ASCII bytes are ever stored.
        std::str::from_utf8(&self.symbols).unwrap_or_default()
    }
}

impl fmt::Debug for Alphabet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Alphabet").field(&self.as_str()).finish()
    }
}

/// How letters outside the alphabet's exact symbols are read; see the
/// [module documentation](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ReadOptions {
    /// A2M input: lowercase letters and `.` are insert states and are dropped
    /// (even if the alphabet has them as symbols). When `false` (the default)
    /// lowercase letters are read as uppercase and `.` as `-`, whenever they
    /// are not symbols themselves.
    pub a2m: bool,
}

/// `N` aligned sequences of one length `L`, as category indices of an
/// [`Alphabet`], row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alignment {
    names: Vec<String>,
    length: usize,
    alphabet: Alphabet,
    data: Vec<u8>,
}

/// What a byte of a sequence line is, for one alphabet and set of options.
#[derive(Clone, Copy)]
enum Code {
    /// An aligned position of this category.
    Symbol(u8),
    /// Whitespace: ignored.
    Blank,
    /// An A2M insert state: dropped.
    Insert,
    /// Not readable.
    Unknown,
}

/// The reading of every byte value.
fn code_table(alphabet: &Alphabet, options: &ReadOptions) -> [Code; 256] {
    let mut table = [Code::Unknown; 256];
    for (b, code) in table.iter_mut().enumerate() {
        let b = b as u8;
        *code = if options.a2m && (b.is_ascii_lowercase() || b == b'.') {
            Code::Insert
        } else if let Some(k) = alphabet.index(b) {
            Code::Symbol(k)
        } else if b.is_ascii_whitespace() {
            Code::Blank
        } else if b.is_ascii_lowercase() {
            alphabet.index(b.to_ascii_uppercase()).map_or(Code::Unknown, Code::Symbol)
        } else if b == b'.' {
            alphabet.index(b'-').map_or(Code::Unknown, Code::Symbol)
        } else {
            Code::Unknown
        };
    }
    table
}

/// A byte for an error message: `'X'` if printable, else its hex value.
fn show_byte(b: u8) -> String {
    if b.is_ascii_graphic() { format!("'{}'", char::from(b)) } else { format!("byte 0x{b:02x}") }
}

/// The record being read.
struct Record {
    /// Index of the record (0-based).
    index: usize,
    /// Offset of the header's first `>`.
    header: u64,
    /// `data.len()` when the record started.
    start: usize,
    /// Offset of the first residue beyond the expected length.
    overrun: Option<u64>,
    /// Offset just past the last residue.
    end: u64,
}

/// FASTA parsing state.
struct Parser<'a> {
    what: &'a str,
    names: Vec<String>,
    data: Vec<u8>,
    length: Option<usize>,
}

impl Parser<'_> {
    fn err(&self, offset: u64, reason: String) -> Error {
        Error::Format { what: self.what.to_string(), offset, reason }
    }

    /// The record's description for error messages.
    fn describe(&self, r: &Record) -> String {
        format!("record {} '{}'", r.index + 1, self.names[r.index])
    }

    /// Checks a finished record's length.
    fn finish(&mut self, r: &Record) -> Result<()> {
        let found = self.data.len() - r.start;
        if found == 0 {
            return Err(self.err(
                r.header,
                format!("{} has an empty sequence (no aligned positions)", self.describe(r)),
            ));
        }
        match self.length {
            None => self.length = Some(found),
            Some(expected) if expected != found => {
                let offset = if found > expected { r.overrun.unwrap_or(r.end) } else { r.end };
                return Err(self.err(
                    offset,
                    format!(
                        "{} has length {found}, but the first record '{}' has length {expected}",
                        self.describe(r),
                        self.names[0]
                    ),
                ));
            }
            Some(_) => {}
        }
        Ok(())
    }
}

impl Alignment {
    /// Wraps `data` (category indices, `names.len()` rows of `length`).
    ///
    /// Errors: [`Error::InvalidParameter`] if `length` is 0,
    /// [`Error::ShapeMismatch`] if `data.len() ≠ names.len() · length`,
    /// [`Error::InvalidUnitValue`] (index into `data`) for a value
    /// `≥ alphabet.len()`.
    pub fn new(
        names: Vec<String>,
        length: usize,
        alphabet: Alphabet,
        data: Vec<u8>,
    ) -> Result<Alignment> {
        if length == 0 {
            return Err(Error::InvalidParameter {
                name: "alignment length",
                value: 0.0,
                expected: "≥ 1",
            });
        }
        let expected = names.len().checked_mul(length).ok_or(Error::InvalidParameter {
            name: "sequences × length",
            value: names.len() as f64 * length as f64,
            expected: "representable as usize",
        })?;
        ebm_core::check_len("alignment data (sequences × length)", expected, data.len())?;
        if let Some(index) = data.iter().position(|&v| usize::from(v) >= alphabet.len()) {
            return Err(Error::InvalidUnitValue { index, value: f64::from(data[index]) });
        }
        Ok(Alignment { names, length, alphabet, data })
    }

    /// Reads a FASTA or A2M alignment from bytes; see the
    /// [module documentation](self) for the format and the errors (all
    /// [`Error::Format`], `what = "FASTA alignment"`).
    pub fn parse(text: &[u8], alphabet: &Alphabet, options: &ReadOptions) -> Result<Alignment> {
        Alignment::parse_named(text, alphabet, options, "FASTA alignment")
    }

    /// Reads a FASTA or A2M alignment file, like [`Alignment::parse`] (the
    /// error's `what` names the file).
    ///
    /// Errors: [`Error::Io`] naming `path` if it cannot be read, else those of
    /// [`Alignment::parse`].
    pub fn load(path: &Path, alphabet: &Alphabet, options: &ReadOptions) -> Result<Alignment> {
        let text = crate::read_capped(path, crate::MAX_READ_BYTES)?;
        let what = format!("FASTA alignment {}", path.display());
        Alignment::parse_named(&text, alphabet, options, &what)
    }

    fn parse_named(
        text: &[u8],
        alphabet: &Alphabet,
        options: &ReadOptions,
        what: &str,
    ) -> Result<Alignment> {
        let table = code_table(alphabet, options);
        let mut p = Parser { what, names: Vec::new(), data: Vec::new(), length: None };
        let mut record: Option<Record> = None;
        let bom = if text.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
        let mut line_start = bom as u64;
        for (line_no, line) in text[bom..].split(|&b| b == b'\n').enumerate() {
            let here = line_start;
            line_start += line.len() as u64 + 1;
            let Some(first) = line.iter().position(|b| !b.is_ascii_whitespace()) else {
                continue; // blank line
            };
            if line[first] == b'>' {
                if let Some(r) = record.take() {
                    p.finish(&r)?;
                }
                let name = line[first..]
                    .iter()
                    .position(|&b| b != b'>')
                    .map_or(&[][..], |k| &line[first + k..]);
                let name = String::from_utf8_lossy(name.trim_ascii()).into_owned();
                let index = p.names.len();
                p.names.push(name);
                let start = p.data.len();
                let header = here + first as u64;
                record = Some(Record { index, header, start, overrun: None, end: header });
                continue;
            }
            let Some(r) = record.as_mut() else {
                return Err(p.err(
                    here + first as u64,
                    format!(
                        "sequence data {} on line {} before the first '>' header",
                        show_byte(line[first]),
                        line_no + 1
                    ),
                ));
            };
            for (k, &b) in line.iter().enumerate().skip(first) {
                match table[usize::from(b)] {
                    Code::Symbol(v) => {
                        let offset = here + k as u64;
                        if r.overrun.is_none() && p.length == Some(p.data.len() - r.start) {
                            r.overrun = Some(offset);
                        }
                        p.data.push(v);
                        r.end = offset + 1;
                    }
                    Code::Blank | Code::Insert => {}
                    Code::Unknown => {
                        let column = p.data.len() - r.start + 1;
                        return Err(p.err(
                            here + k as u64,
                            format!(
                                "unknown letter {} in {} at column {column} (line {}); \
                                 the alphabet is \"{}\"",
                                show_byte(b),
                                p.describe(r),
                                line_no + 1,
                                alphabet.as_str()
                            ),
                        ));
                    }
                }
            }
        }
        match record {
            Some(r) => p.finish(&r)?,
            None => {
                return Err(p.err(
                    text.len() as u64,
                    "no sequences: the input has no '>' header".to_string(),
                ));
            }
        }
        let length = p.length.unwrap_or(0);
        Ok(Alignment { names: p.names, length, alphabet: alphabet.clone(), data: p.data })
    }

    /// Number of sequences `N`.
    pub fn n_sequences(&self) -> usize {
        self.names.len()
    }

    /// Length `L` of every sequence (number of aligned columns).
    pub fn length(&self) -> usize {
        self.length
    }

    /// Sequence `i` as category indices.
    ///
    /// Panics if `i ≥ n_sequences()`, like slice indexing.
    pub fn row(&self, i: usize) -> &[u8] {
        &self.data[i * self.length..(i + 1) * self.length]
    }

    /// All sequences, row-major (`N · L` category indices).
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The sequences' names (headers without `>`), in file order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The alphabet the sequences are encoded in.
    pub fn alphabet(&self) -> &Alphabet {
        &self.alphabet
    }

    /// The state space of one sequence: `L` units of `alphabet.len()` values.
    pub fn space(&self) -> Categories {
        // An alphabet has 2..=93 symbols, always a valid number of categories.
        Categories::uniform(self.alphabet.len(), self.length)
            .expect("an alphabet's size is a valid number of categories")
    }

    /// Sequence `i` decoded back to its symbols.
    ///
    /// Panics if `i ≥ n_sequences()`, like slice indexing.
    pub fn to_string(&self, i: usize) -> String {
        self.row(i).iter().map(|&k| self.alphabet.symbol(k)).collect()
    }

    /// The alignment as FASTA: `>name` then the sequence on one line, per
    /// record. [`Alignment::parse`] reads it back to an equal alignment
    /// (names are trimmed and lose leading `>`, as on every read).
    pub fn to_fasta(&self) -> String {
        let mut s = String::with_capacity(self.data.len() + self.names.len() * 16);
        for (i, name) in self.names.iter().enumerate() {
            s.push('>');
            s.push_str(name);
            s.push('\n');
            s.push_str(&self.to_string(i));
            s.push('\n');
        }
        s
    }

    /// The alignment of the given rows, in the given order (repeats allowed).
    ///
    /// Errors: [`Error::InvalidParameter`] (`"row index"`) for an index
    /// `≥ n_sequences()`.
    pub fn select(&self, rows: &[usize]) -> Result<Alignment> {
        if let Some(&bad) = rows.iter().find(|&&i| i >= self.n_sequences()) {
            return Err(Error::InvalidParameter {
                name: "row index",
                value: bad as f64,
                expected: "< the number of sequences",
            });
        }
        let mut data = Vec::with_capacity(rows.len() * self.length);
        for &i in rows {
            data.extend_from_slice(self.row(i));
        }
        Ok(Alignment {
            names: rows.iter().map(|&i| self.names[i].clone()).collect(),
            length: self.length,
            alphabet: self.alphabet.clone(),
            data,
        })
    }

    /// A seeded random split `(train, test)`: the rows of
    /// [`split_indices`]`(N, test_fraction, seed)`, each part in file order.
    ///
    /// Errors: [`Error::InvalidParameter`] unless `0 ≤ test_fraction < 1`.
    pub fn split(&self, test_fraction: f64, seed: Seed) -> Result<(Alignment, Alignment)> {
        let (train, test) = split_indices(self.n_sequences(), test_fraction, seed)?;
        Ok((self.select(&train)?, self.select(&test)?))
    }

    /// Similarity weights: `w_i = 1 / #{j : identity(i, j) ≥ identity}`, the
    /// count including `i` itself, so `0 < w_i ≤ 1`.
    ///
    /// `identity(i, j)` is the fraction of the `L` columns where sequences
    /// `i` and `j` hold the same symbol, the gap counting as a symbol like any
    /// other (two gaps match; the convention of the DCA and RBM literature,
    /// e.g. Morcos et al. 2011, Tubiana et al. 2019). Thresholds are compared
    /// exactly: `j` counts when `m / L ≥ identity` in `f64` for its number
    /// `m` of equal columns.
    ///
    /// Cost `O(N² L)`, each pair compared once (16 bytes at a time) and the
    /// pairs spread over rayon's threads. Neighbour counts are integers, so
    /// the weights are bit-identical for any number of threads.
    ///
    /// Errors: [`Error::InvalidParameter`] unless `0 < identity ≤ 1`.
    pub fn weights(&self, identity: f64) -> Result<Vec<f64>> {
        if !(identity > 0.0 && identity <= 1.0) {
            return Err(Error::InvalidParameter {
                name: "identity threshold",
                value: identity,
                expected: "in (0, 1]",
            });
        }
        let counts = neighbour_counts(&self.data, self.length, identity);
        Ok(counts.into_iter().map(|c| 1.0 / f64::from(c)).collect())
    }
}

/// Bytes compared at a time by [`neighbour_counts`].
const BLOCK: usize = 16;

/// Number of equal bytes of two rows of blocks.
#[inline]
fn equal_count(a: &[[u8; BLOCK]], b: &[[u8; BLOCK]]) -> u32 {
    let mut total = 0u32;
    // Per-lane u8 counters cannot overflow within 255 blocks.
    for (ca, cb) in a.chunks(255).zip(b.chunks(255)) {
        let mut acc = [0u8; BLOCK];
        for (x, y) in ca.iter().zip(cb) {
            for ((s, &u), &v) in acc.iter_mut().zip(x).zip(y) {
                *s += u8::from(u == v);
            }
        }
        total += acc.iter().map(|&v| u32::from(v)).sum::<u32>();
    }
    total
}

/// For each row, the number of rows (itself included) with identity ≥ `t`.
fn neighbour_counts(data: &[u8], length: usize, t: f64) -> Vec<u32> {
    let n = data.len().checked_div(length).unwrap_or(0);
    if n == 0 {
        return Vec::new();
    }
    // The smallest number of equal columns that reaches the threshold (m = L
    // always does, as t ≤ 1).
    let min_equal = (0..=length).find(|&m| m as f64 / length as f64 >= t).unwrap_or(length);
    // Rows padded to whole blocks; padding bytes always match, so they are
    // added to the requirement.
    let stride = length.div_ceil(BLOCK);
    let need = (min_equal + stride * BLOCK - length) as u32;
    let mut blocks = vec![[0u8; BLOCK]; n * stride];
    for (row, dst) in data.chunks_exact(length).zip(blocks.chunks_exact_mut(stride)) {
        for (chunk, block) in row.chunks(BLOCK).zip(dst.iter_mut()) {
            block[..chunk.len()].copy_from_slice(chunk);
        }
    }
    let blocks = &blocks;
    let row = |i: usize| &blocks[i * stride..(i + 1) * stride];
    // Each unordered pair once; the per-thread partial counts are integers, so
    // their sum does not depend on how rayon splits the work.
    (0..n)
        .into_par_iter()
        .fold(
            || vec![0u32; n],
            |mut counts, i| {
                let a = row(i);
                counts[i] += 1; // the sequence itself
                let mut own = 0;
                for (j, b) in blocks[(i + 1) * stride..].chunks_exact(stride).enumerate() {
                    if equal_count(a, b) >= need {
                        own += 1;
                        counts[i + 1 + j] += 1;
                    }
                }
                counts[i] += own;
                counts
            },
        )
        .reduce(
            || vec![0u32; n],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(&b) {
                    *x += y;
                }
                a
            },
        )
}

/// The effective number of sequences, `Σ w_i` (summed in order).
pub fn effective_size(weights: &[f64]) -> f64 {
    weights.iter().sum()
}

/// The ChaCha stream index of the split: far beyond any epoch number, so the
/// split is independent of `ebm-train`'s epoch shuffles `(seed, SHUFFLE,
/// epoch)` drawn from the same seed.
const SPLIT_STREAM: u64 = 1 << 63;

/// A seeded random split of `0..n` into `(train, test)` index lists, each
/// sorted ascending.
///
/// A Fisher–Yates permutation of `0..n` is drawn from stream
/// `(seed, Purpose::SHUFFLE, 2⁶³)`; its first `⌊test_fraction · n⌋` indices
/// form the test set (the product rounded down, forgiving the last-bit error
/// of binary fractions, so `0.29 · 100` gives 29), the rest the training set.
/// The training set is therefore never empty when `n ≥ 1`. Use it to split
/// per-sequence data (such as [`Alignment::weights`]) exactly as
/// [`Alignment::split`] splits the rows.
///
/// Errors: [`Error::InvalidParameter`] unless `0 ≤ test_fraction < 1`.
pub fn split_indices(n: usize, test_fraction: f64, seed: Seed) -> Result<(Vec<usize>, Vec<usize>)> {
    if !(0.0..1.0).contains(&test_fraction) {
        return Err(Error::InvalidParameter {
            name: "test fraction",
            value: test_fraction,
            expected: "in [0, 1)",
        });
    }
    let n_test = ((test_fraction * n as f64) * (1.0 + 4.0 * f64::EPSILON)).floor() as usize;
    let n_test = n_test.min(n.saturating_sub(1));
    let mut rng = seed.stream(Purpose::SHUFFLE, SPLIT_STREAM);
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.random_range(0..=i);
        order.swap(i, j);
    }
    let mut test = order[..n_test].to_vec();
    let mut train = order[n_test..].to_vec();
    test.sort_unstable();
    train.sort_unstable();
    Ok((train, test))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protein(text: &[u8]) -> Result<Alignment> {
        Alignment::parse(text, &Alphabet::protein(), &ReadOptions::default())
    }

    fn format_error(r: Result<Alignment>) -> (u64, String) {
        match r {
            Err(Error::Format { offset, reason, .. }) => (offset, reason),
            other => panic!("expected a format error, got {other:?}"),
        }
    }

    /// Neighbour counts by the definition, one pair at a time in f64.
    fn counts_by_definition(a: &Alignment, t: f64) -> Vec<u32> {
        let (n, l) = (a.n_sequences(), a.length());
        (0..n)
            .map(|i| {
                (0..n)
                    .filter(|&j| {
                        let m = a.row(i).iter().zip(a.row(j)).filter(|(x, y)| x == y).count();
                        m as f64 / l as f64 >= t
                    })
                    .count() as u32
            })
            .collect()
    }

    /// A pseudo-random alignment with many near-duplicates.
    fn random_alignment(n: usize, l: usize, q: u8, seed: u64) -> Alignment {
        let mut rng = Seed(seed).stream(Purpose::DATA, 0);
        let parents: Vec<u8> = (0..4 * l).map(|_| rng.random_range(0..q)).collect();
        let mut data = Vec::with_capacity(n * l);
        for _ in 0..n {
            let p = rng.random_range(0..4usize);
            for c in 0..l {
                let v = if rng.random_range(0..10) < 2 {
                    rng.random_range(0..q)
                } else {
                    parents[p * l + c]
                };
                data.push(v);
            }
        }
        let symbols = &"ABCDEFGHIJKLMNOPQRSTUVWXYZ"[..usize::from(q)];
        let names = (0..n).map(|i| format!("s{i}")).collect();
        Alignment::new(names, l, Alphabet::new(symbols).unwrap(), data).unwrap()
    }

    #[test]
    fn protein_alphabet_order() {
        let a = Alphabet::protein();
        assert_eq!(a.len(), 21);
        assert_eq!(a.index(b'A'), Some(0));
        assert_eq!(a.index(b'Y'), Some(19));
        assert_eq!(a.index(b'-'), Some(PROTEIN_GAP));
        assert_eq!(a.index(b'a'), None);
        assert_eq!(a.index(b'X'), None);
        for k in 0..21u8 {
            assert_eq!(a.index(a.symbol(k) as u8), Some(k));
        }
        assert_eq!(format!("{a:?}"), "Alphabet(\"ACDEFGHIKLMNPQRSTVWY-\")");
    }

    #[test]
    fn alphabet_rejects_bad_symbol_sets() {
        for bad in ["", "A", "AA", "ABCA", "A B", "A>", "Aé", "A\t"] {
            assert!(
                matches!(Alphabet::new(bad), Err(Error::InvalidSequence { what: "alphabet", .. })),
                "{bad:?}"
            );
        }
        assert_eq!(Alphabet::new("01").unwrap().len(), 2);
    }

    #[test]
    fn code_table_follows_options() {
        let a = Alphabet::protein();
        let plain = code_table(&a, &ReadOptions::default());
        assert!(matches!(plain[usize::from(b'c')], Code::Symbol(1)));
        assert!(matches!(plain[usize::from(b'.')], Code::Symbol(20)));
        assert!(matches!(plain[usize::from(b'x')], Code::Unknown));
        assert!(matches!(plain[usize::from(b'\r')], Code::Blank));
        let a2m = code_table(&a, &ReadOptions { a2m: true });
        assert!(matches!(a2m[usize::from(b'c')], Code::Insert));
        assert!(matches!(a2m[usize::from(b'.')], Code::Insert));
        assert!(matches!(a2m[usize::from(b'C')], Code::Symbol(1)));
        // '.' is a gap only if the alphabet has '-'; an own lowercase symbol wins.
        let dna = Alphabet::new("acgtN").unwrap();
        let t = code_table(&dna, &ReadOptions::default());
        assert!(matches!(t[usize::from(b'.')], Code::Unknown));
        assert!(matches!(t[usize::from(b'a')], Code::Symbol(0)));
        assert!(matches!(t[usize::from(b'A')], Code::Unknown));
        assert!(matches!(t[usize::from(b'n')], Code::Symbol(4)));
    }

    #[test]
    fn overrun_offset_is_the_first_extra_residue() {
        let text = b">a\nACD\n>b\nAC\nDE\n";
        let (offset, reason) = format_error(protein(text));
        assert_eq!(offset, 14); // the 'E'
        assert_eq!(text[offset as usize], b'E');
        assert!(reason.contains("length 4") && reason.contains("length 3"), "{reason}");
    }

    #[test]
    fn fast_counts_match_the_definition() {
        for (n, l, q) in [(1, 1, 2), (2, 3, 2), (40, 7, 3), (60, 16, 4), (50, 17, 21), (30, 40, 5)]
        {
            let a = random_alignment(n, l, q, (n * l) as u64);
            for t in [0.01, 0.3, 0.5, 0.8, 0.9, 1.0] {
                assert_eq!(
                    neighbour_counts(a.data(), l, t),
                    counts_by_definition(&a, t),
                    "n {n} l {l} t {t}"
                );
            }
        }
    }

    #[test]
    fn weights_are_identical_for_any_thread_count() {
        let a = random_alignment(500, 31, 21, 7);
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| a.weights(0.8).unwrap())
        };
        let one = run(1);
        for threads in [2, 3, 8] {
            let w = run(threads);
            assert!(one.iter().zip(&w).all(|(x, y)| x.to_bits() == y.to_bits()), "{threads}");
        }
        assert!(effective_size(&one) < 500.0);
    }

    #[test]
    fn long_rows_do_not_overflow_lane_counters() {
        // 300 blocks of 16: more than the 255 a u8 lane counter can take.
        let l = 300 * BLOCK + 5;
        let data = vec![3u8; 2 * l];
        let names = vec!["a".into(), "b".into()];
        let a = Alignment::new(names, l, Alphabet::new("ABCD").unwrap(), data).unwrap();
        assert_eq!(a.weights(1.0).unwrap(), vec![0.5, 0.5]);
    }

    #[test]
    fn split_fraction_rounding() {
        let (train, test) = split_indices(100, 0.29, Seed(1)).unwrap();
        assert_eq!((train.len(), test.len()), (71, 29));
        assert_eq!(split_indices(1, 0.9, Seed(1)).unwrap(), (vec![0], vec![]));
        assert_eq!(split_indices(0, 0.5, Seed(1)).unwrap(), (vec![], vec![]));
    }
}
