//! Alignment reader: FASTA and A2M parsing, every malformed case with its typed
//! error and byte offset, custom alphabets, similarity weights computed by
//! hand, seeded splits, and the real protein families when they are present.
//!
//! The real files are looked up in `$EBM_MSA_DIR`, else
//! `../../../shared/data/protein-msa` relative to this crate. When they are
//! absent those tests print why and pass without checking anything (the data
//! is not part of the repository).

use ebm_core::{Error, FiniteSpace, Seed, StateSpace};
use ebm_data::msa::{Alignment, Alphabet, PROTEIN_GAP, ReadOptions, effective_size, split_indices};
use std::path::PathBuf;
use std::time::Instant;

fn protein(text: &[u8]) -> ebm_core::Result<Alignment> {
    Alignment::parse(text, &Alphabet::protein(), &ReadOptions::default())
}

fn a2m(text: &[u8]) -> ebm_core::Result<Alignment> {
    Alignment::parse(text, &Alphabet::protein(), &ReadOptions { a2m: true })
}

/// The offset and reason of a format error (panics with the result otherwise).
fn format_error<T: std::fmt::Debug>(r: ebm_core::Result<T>) -> (u64, String) {
    match r {
        Err(Error::Format { offset, reason, .. }) => (offset, reason),
        other => panic!("expected a format error, got {other:?}"),
    }
}

/// Offset of the first occurrence of `needle` in `text`.
fn find(text: &[u8], needle: &[u8]) -> u64 {
    text.windows(needle.len()).position(|w| w == needle).expect("needle in text") as u64
}

const SMALL: &[u8] =
    b">>S1 first\r\nACDEF\r\nGHIKL\r\n\r\n> S2\nMNPQR\nSTVWY\n>S3\n  -ACDE FGHI-  \n\n";

#[test]
fn parses_wrapped_crlf_and_both_header_styles() {
    let msa = protein(SMALL).unwrap();
    assert_eq!(msa.n_sequences(), 3);
    assert_eq!(msa.length(), 10);
    assert_eq!(msa.names(), &["S1 first", "S2", "S3"]);
    assert_eq!(msa.row(0), &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(msa.row(1), &[10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    assert_eq!(msa.row(2), &[PROTEIN_GAP, 0, 1, 2, 3, 4, 5, 6, 7, PROTEIN_GAP]);
    assert_eq!(msa.data().len(), 30);
    assert_eq!(&msa.data()[10..20], msa.row(1));
    assert_eq!(msa.to_string(0), "ACDEFGHIKL");
    assert_eq!(msa.to_string(1), "MNPQRSTVWY");
    assert_eq!(msa.to_string(2), "-ACDEFGHI-");
    assert_eq!(msa.alphabet(), &Alphabet::protein());
    let space = msa.space();
    assert_eq!((space.len(), space.uniform_q()), (10, Some(21)));
    assert!(space.validate(msa.row(2)).is_ok());
    assert_eq!(space.n_values(0), 21);
}

#[test]
fn round_trips_through_fasta() {
    let msa = protein(SMALL).unwrap();
    let text = msa.to_fasta();
    assert!(text.starts_with(">S1 first\nACDEFGHIKL\n>S2\n"), "{text}");
    assert_eq!(protein(text.as_bytes()).unwrap(), msa);
    // the same through a file, and a byte-order mark is tolerated
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.fasta");
    std::fs::write(&path, [&b"\xEF\xBB\xBF"[..], text.as_bytes()].concat()).unwrap();
    let loaded = Alignment::load(&path, &Alphabet::protein(), &ReadOptions::default()).unwrap();
    assert_eq!(loaded, msa);
}

#[test]
fn lowercase_and_dots_without_a2m() {
    let msa = protein(b">a\nacDe.\n>b\nAC.EF\n").unwrap();
    assert_eq!(msa.to_string(0), "ACDE-");
    assert_eq!(msa.to_string(1), "AC-EF");
}

#[test]
fn a2m_drops_insert_states() {
    // match columns: uppercase and '-'; inserts: lowercase and '.'
    let text = b">a\nAC..DE-\n>b\nAcgCD.E-\n>c\nA-ddDE-\n";
    let msa = a2m(text).unwrap();
    assert_eq!(msa.length(), 5);
    assert_eq!(msa.to_string(0), "ACDE-");
    assert_eq!(msa.to_string(1), "ACDE-");
    assert_eq!(msa.to_string(2), "A-DE-");
    // without the option the same file has unequal lengths
    let (offset, reason) = format_error(protein(text));
    assert_eq!(offset, find(text, b"Acg") + 7); // the 8th residue of 'b'
    assert!(reason.contains("'b'") && reason.contains("8") && reason.contains("7"), "{reason}");
    // a record made only of inserts has no match columns
    let only_inserts = b">a\nAC\n>b\nac..\n";
    let (offset, reason) = format_error(a2m(only_inserts));
    assert_eq!(offset, find(only_inserts, b">b"));
    assert!(reason.contains("'b'") && reason.contains("empty"), "{reason}");
}

#[test]
fn custom_alphabets() {
    let bits = Alphabet::new("01").unwrap();
    let msa = Alignment::parse(b">x\n0110\n>y\n1 0 0 1\n", &bits, &ReadOptions::default()).unwrap();
    assert_eq!(msa.data(), &[0, 1, 1, 0, 1, 0, 0, 1]);
    assert_eq!(msa.space().uniform_q(), Some(2));
    assert_eq!(msa.to_string(1), "1001");
    let dna = Alphabet::new("ACGT-").unwrap();
    assert_eq!(
        (dna.len(), dna.index(b'-'), dna.symbol(2), dna.as_str()),
        (5, Some(4), 'G', "ACGT-")
    );
    let msa = Alignment::parse(b">x\nacgt.\n>y\nTTGA-\n", &dna, &ReadOptions::default()).unwrap();
    assert_eq!(msa.data(), &[0, 1, 2, 3, 4, 3, 3, 2, 0, 4]);
    // a protein letter is unknown to DNA
    let (offset, reason) =
        format_error(Alignment::parse(b">x\nACGT\n>y\nACGE\n", &dna, &ReadOptions::default()));
    assert_eq!(offset, 14);
    assert!(reason.contains("'E'") && reason.contains("'y'") && reason.contains("column 4"));
    // typed errors for bad symbol sets
    for bad in ["", "A", "ACGA", "AC GT", ">AC", "ACΔ"] {
        match Alphabet::new(bad) {
            Err(Error::InvalidSequence { what: "alphabet", reason }) => assert!(!reason.is_empty()),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
}

#[test]
fn empty_input_has_no_sequences() {
    for text in [&b""[..], b"\n\n  \r\n"] {
        let (offset, reason) = format_error(protein(text));
        assert_eq!(offset, text.len() as u64);
        assert!(reason.contains("no sequences"), "{reason}");
    }
}

#[test]
fn data_before_the_first_header() {
    let text = b"\n  ACDE\n>a\nACDE\n";
    let (offset, reason) = format_error(protein(text));
    assert_eq!(offset, 3);
    assert!(reason.contains("before the first"), "{reason}");
}

#[test]
fn empty_record() {
    let text = b">a\nACDE\n>b\n\n>c\nACDE\n";
    let (offset, reason) = format_error(protein(text));
    assert_eq!(offset, find(text, b">b"));
    assert!(reason.contains("'b'") && reason.contains("empty"), "{reason}");
    // the last record, too
    let text = b">a\nACDE\n>>z\n";
    let (offset, reason) = format_error(protein(text));
    assert_eq!(offset, find(text, b">>z"));
    assert!(reason.contains("'z'"), "{reason}");
}

#[test]
fn unequal_lengths_name_the_record_and_both_lengths() {
    // shorter: the offset is just past the last residue of the short record
    let text = b">a\nACDEF\nGH\n>b\nACD\nEF\n>c\nACDEFGH\n";
    let (offset, reason) = format_error(protein(text));
    assert_eq!(offset, find(text, b"EF\n>c") + 2);
    assert!(reason.contains("record 2 'b'"), "{reason}");
    assert!(reason.contains("length 5") && reason.contains("length 7"), "{reason}");
    // longer: the offset is the first residue beyond the first record's length
    let text = b">a\nACD\n>b\nACDE\nFG\n";
    let (offset, reason) = format_error(protein(text));
    assert_eq!(offset, find(text, b"ACDE") + 3);
    assert!(reason.contains("'b'") && reason.contains("length 6") && reason.contains("length 3"));
}

#[test]
fn unknown_letters_are_named() {
    let text = b">a\nACDEF\n>seq two\nAC\nDXF\n";
    let (offset, reason) = format_error(protein(text));
    assert_eq!(offset, find(text, b"X"));
    assert!(reason.contains("'X'"), "{reason}");
    assert!(reason.contains("'seq two'"), "{reason}");
    assert!(reason.contains("column 4"), "{reason}");
    assert!(reason.contains("line 5"), "{reason}");
    // non-printable and non-ASCII bytes are shown in hex
    let text = b">a\nAC\xC3\xA9\n";
    let (offset, reason) = format_error(protein(text));
    assert_eq!(offset, 5);
    assert!(reason.contains("0xc3"), "{reason}");
    // the error names the file when loading
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.fasta");
    std::fs::write(&path, b">a\nAB\n").unwrap();
    match Alignment::load(&path, &Alphabet::protein(), &ReadOptions::default()) {
        Err(Error::Format { what, offset: 4, .. }) => assert!(what.contains("bad.fasta")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_file_is_an_io_error_with_its_path() {
    let path = std::path::Path::new("/nonexistent/dir/x.fasta");
    match Alignment::load(path, &Alphabet::protein(), &ReadOptions::default()) {
        Err(Error::Io { path: p, message }) => {
            assert_eq!(p, "/nonexistent/dir/x.fasta");
            assert!(!message.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn new_validates() {
    let a = Alphabet::new("01").unwrap();
    let names = || vec!["x".to_string(), "y".to_string()];
    assert!(Alignment::new(names(), 2, a.clone(), vec![0, 1, 1, 0]).is_ok());
    assert!(matches!(
        Alignment::new(names(), 2, a.clone(), vec![0, 1, 1]),
        Err(Error::ShapeMismatch { expected: 4, found: 3, .. })
    ));
    assert!(matches!(
        Alignment::new(names(), 2, a.clone(), vec![0, 1, 2, 0]),
        Err(Error::InvalidUnitValue { index: 2, .. })
    ));
    assert!(matches!(Alignment::new(vec![], 0, a, vec![]), Err(Error::InvalidParameter { .. })));
}

#[test]
fn weights_by_hand() {
    // two identical sequences and one far from both
    let msa = protein(b">a\nACDEFGHIKL\n>b\nACDEFGHIKL\n>c\nWWWWWWWWWW\n").unwrap();
    let w = msa.weights(0.8).unwrap();
    assert_eq!(w, vec![0.5, 0.5, 1.0]);
    assert_eq!(effective_size(&w), 2.0);
    // identity exactly at the threshold counts; gaps are symbols (two gaps match):
    //   a-b: 8/10 equal   a-c: 6/10   b-c: 8/10 (6/10 if the two shared gaps did not count)
    let msa = protein(b">a\nACDEFGHIKL\n>b\nACDEFGHI--\n>c\nACDEFGWW--\n").unwrap();
    assert_eq!(msa.weights(0.8).unwrap(), vec![1.0 / 2.0, 1.0 / 3.0, 1.0 / 2.0]);
    assert_eq!(msa.weights(0.7).unwrap(), vec![1.0 / 2.0, 1.0 / 3.0, 1.0 / 2.0]);
    assert_eq!(msa.weights(0.81).unwrap(), vec![1.0; 3]);
    assert_eq!(msa.weights(0.6).unwrap(), vec![1.0 / 3.0; 3]);
    assert_eq!(msa.weights(1.0).unwrap(), vec![1.0; 3]);
    assert_eq!(msa.weights(1e-9).unwrap(), vec![1.0 / 3.0; 3]);
}

#[test]
fn weights_reject_bad_thresholds() {
    let msa = protein(SMALL).unwrap();
    for t in [0.0, -0.5, 1.0 + 1e-12, 2.0, f64::NAN, f64::INFINITY] {
        match msa.weights(t) {
            Err(Error::InvalidParameter { name: "identity threshold", .. }) => {}
            other => panic!("{t}: {other:?}"),
        }
    }
}

#[test]
fn splits_are_seeded_disjoint_and_complete() {
    let text: String = (0..50).map(|i| format!(">s{i}\nAC{}\n", ["D", "E"][i % 2])).collect();
    let msa = protein(text.as_bytes()).unwrap();
    let (train, test) = msa.split(0.2, Seed(7)).unwrap();
    assert_eq!((train.n_sequences(), test.n_sequences()), (40, 10));
    assert_eq!((train.length(), test.length()), (3, 3));
    let (again_train, again_test) = msa.split(0.2, Seed(7)).unwrap();
    assert_eq!((&again_train, &again_test), (&train, &test));
    let (_, other_test) = msa.split(0.2, Seed(8)).unwrap();
    assert_ne!(other_test.names(), test.names());
    // the index lists agree with the alignments and cover every row once
    let (tr, te) = split_indices(50, 0.2, Seed(7)).unwrap();
    let names = |rows: &[usize]| rows.iter().map(|&i| format!("s{i}")).collect::<Vec<_>>();
    assert_eq!(train.names(), names(&tr).as_slice());
    assert_eq!(test.names(), names(&te).as_slice());
    for (k, &i) in te.iter().enumerate() {
        assert_eq!(test.row(k), msa.row(i));
    }
    let mut all: Vec<usize> = tr.iter().chain(&te).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..50).collect::<Vec<_>>());
    assert!(tr.windows(2).all(|w| w[0] < w[1]) && te.windows(2).all(|w| w[0] < w[1]));
    // weights split the same way
    let w = msa.weights(0.8).unwrap();
    let w_test: Vec<f64> = te.iter().map(|&i| w[i]).collect();
    assert_eq!(w_test.len(), 10);
    // fraction 0: nothing in test; rounding down: ⌊0.25 · 50⌋ = 12
    let (train, test) = msa.split(0.0, Seed(1)).unwrap();
    assert_eq!((train.n_sequences(), test.n_sequences()), (50, 0));
    assert_eq!(train, msa);
    assert_eq!(split_indices(50, 0.25, Seed(1)).unwrap().1.len(), 12);
    for f in [-0.1, 1.0, 1.5, f64::NAN] {
        assert!(matches!(msa.split(f, Seed(1)), Err(Error::InvalidParameter { .. })), "{f}");
        assert!(split_indices(50, f, Seed(1)).is_err());
    }
}

#[test]
fn select_rows() {
    let msa = protein(SMALL).unwrap();
    let s = msa.select(&[2, 0, 2]).unwrap();
    assert_eq!(s.names(), &["S3", "S1 first", "S3"]);
    assert_eq!(s.row(1), msa.row(0));
    assert_eq!(s.select(&[]).unwrap().n_sequences(), 0);
    assert!(matches!(msa.select(&[0, 3]), Err(Error::InvalidParameter { .. })));
}

// ---------------------------------------------------------------- real data

fn msa_file(name: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os("EBM_MSA_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/protein-msa"))
        }
    };
    let path = dir.join(name);
    if path.is_file() {
        Some(path)
    } else {
        eprintln!(
            "SKIPPED: {name} not found in {} (set EBM_MSA_DIR to the folder of the alignments)",
            dir.display()
        );
        None
    }
}

/// Loads a family, checks its shape, and reports its effective size at 80 %.
fn check_family(name: &str, n: usize, l: usize) -> Option<(Alignment, f64)> {
    let path = msa_file(name)?;
    let msa = Alignment::load(&path, &Alphabet::protein(), &ReadOptions::default()).unwrap();
    assert_eq!((msa.n_sequences(), msa.length()), (n, l), "{name}");
    assert_eq!(msa.space().uniform_q(), Some(21));
    assert_eq!(msa.names()[0], "S1");
    let start = Instant::now();
    let w = msa.weights(0.8).unwrap();
    let elapsed = start.elapsed();
    let n_eff = effective_size(&w);
    eprintln!(
        "{name}: {n} sequences × {l}, effective size at 80 % identity {n_eff:.2} \
         ({:.3} of N), weights in {elapsed:.2?}",
        n_eff / n as f64
    );
    assert!(w.iter().all(|&x| x > 0.0 && x <= 1.0));
    assert!(n_eff >= 1.0 && n_eff <= n as f64);
    Some((msa, n_eff))
}

#[test]
fn ww_domain() {
    let Some((msa, n_eff)) = check_family("WW_domain_MSA.fasta", 17_233, 31) else { return };
    assert!(n_eff < 0.9 * 17_233.0, "{n_eff}");
    assert!(msa.data().contains(&PROTEIN_GAP));
    // round trip of the whole family, and a reproducible 80/20 split
    assert_eq!(protein(msa.to_fasta().as_bytes()).unwrap(), msa);
    let (train, test) = msa.split(0.2, Seed(2019)).unwrap();
    assert_eq!((train.n_sequences(), test.n_sequences()), (13_787, 3_446));
}

#[test]
fn kunitz_domain() {
    let Some((msa, n_eff)) = check_family("Kunitz_domain_MSA.fasta", 11_819, 53) else { return };
    assert!(n_eff < 0.9 * 11_819.0, "{n_eff}");
    assert!(msa.data().contains(&PROTEIN_GAP));
}

#[test]
fn lattice_proteins() {
    let Some((msa, _)) = check_family("Lattice_Proteins_MSA.fasta", 46_265, 27) else { return };
    assert!(!msa.data().contains(&PROTEIN_GAP), "lattice proteins have no gaps");
}
