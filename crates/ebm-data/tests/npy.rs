//! `.npy`: bit-exact round trips, hand-built NumPy headers, malformed files.

use ebm_core::Error;
use ebm_data::npy::{NpyArray, NpyData, read_npy, write_npy};

fn offset<T: std::fmt::Debug>(r: ebm_core::Result<T>) -> u64 {
    match r {
        Err(Error::Format { offset, .. }) => offset,
        other => panic!("expected a format error, got {other:?}"),
    }
}

/// A file as NumPy's `write_array_header_1_0` builds it (v1.0, 64-byte aligned).
fn numpy_file(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut header = dict.as_bytes().to_vec();
    let total = 10 + header.len() + 1;
    header.resize(header.len() + (64 - total % 64) % 64, b' ');
    header.push(b'\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend((header.len() as u16).to_le_bytes());
    b.extend(header);
    b.extend_from_slice(data);
    b
}

fn f64_bits(d: &NpyData) -> Vec<u64> {
    match d {
        NpyData::F64(v) => v.iter().map(|x| x.to_bits()).collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn round_trip_is_bit_exact_for_every_type() {
    let specials = [0.0, -0.0, 1.5e-310, f64::MAX, f64::MIN_POSITIVE, f64::INFINITY, f64::NAN];
    let f64s: Vec<f64> =
        (0..21).map(|k| specials[k % 7] * if k > 13 { -1.0 } else { 1.0 }).collect();
    let arrays = [
        NpyArray::new(3, 7, NpyData::F64(f64s.clone())).unwrap(),
        NpyArray::new(7, 3, NpyData::F32(f64s.iter().map(|&x| x as f32 + 0.1).collect())).unwrap(),
        NpyArray::new(4, 64, NpyData::U8((0..=255).collect())).unwrap(),
        NpyArray::new(2, 128, NpyData::I8((-128..=127).collect())).unwrap(),
        NpyArray::new(0, 5, NpyData::F64(vec![])).unwrap(),
        NpyArray::new(1000, 1, NpyData::I8(vec![1; 1000])).unwrap(),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (k, a) in arrays.iter().enumerate() {
        let bytes = a.to_bytes();
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0, "data 64-byte aligned");
        assert_eq!(bytes[10 + header_len - 1], b'\n');
        let p = dir.path().join(format!("a{k}.npy"));
        write_npy(&p, a).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), bytes);
        let back = read_npy(&p).unwrap();
        assert_eq!((back.rows(), back.cols()), (a.rows(), a.cols()));
        // compare bits (NaN != NaN under PartialEq)
        match (a.data(), back.data()) {
            (NpyData::F64(_), _) => assert_eq!(f64_bits(a.data()), f64_bits(back.data())),
            (NpyData::F32(x), NpyData::F32(y)) => {
                assert!(x.iter().zip(y).all(|(a, b)| a.to_bits() == b.to_bits()));
                assert_eq!(x.len(), y.len());
            }
            _ => assert_eq!(&back, a),
        }
    }
}

#[test]
fn header_matches_what_numpy_writes() {
    // np.save of np.zeros((2, 3)): 128-byte header, this exact dict
    let a = NpyArray::new(2, 3, NpyData::F64(vec![0.0; 6])).unwrap();
    let expected =
        numpy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", &[0; 48]);
    assert_eq!(expected.len(), 128 + 48);
    assert_eq!(a.to_bytes(), expected);
    let u = NpyArray::new(1, 2, NpyData::U8(vec![1, 2])).unwrap();
    assert_eq!(
        u.to_bytes(),
        numpy_file("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2), }", &[1, 2])
    );
}

#[test]
fn hand_built_numpy_headers_are_read() {
    let le: Vec<u8> =
        [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0].iter().flat_map(|x| x.to_le_bytes()).collect();
    let be: Vec<u8> =
        [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0].iter().flat_map(|x| x.to_be_bytes()).collect();
    let row_major = NpyData::F64(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);

    let f = numpy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", &le);
    assert_eq!(NpyArray::from_bytes(&f).unwrap().data(), &row_major);

    // big-endian, double quotes, no trailing comma, keys in another order
    let f = numpy_file(r#"{"shape": (2, 3), "fortran_order": False, "descr": ">f8"}"#, &be);
    assert_eq!(NpyArray::from_bytes(&f).unwrap().data(), &row_major);

    // Fortran order: column-major data [1, 4, 2, 5, 3, 6] is the same matrix
    let cm: Vec<u8> =
        [1.0f64, 4.0, 2.0, 5.0, 3.0, 6.0].iter().flat_map(|x| x.to_le_bytes()).collect();
    let f = numpy_file("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", &cm);
    let a = NpyArray::from_bytes(&f).unwrap();
    assert_eq!((a.rows(), a.cols(), a.data()), (2, 3, &row_major));

    // Python 2 long suffixes, booleans and signed bytes
    let f =
        numpy_file("{'descr': '|b1', 'fortran_order': False, 'shape': (2L, 2L), }", &[1, 0, 0, 1]);
    assert_eq!(NpyArray::from_bytes(&f).unwrap().data(), &NpyData::U8(vec![1, 0, 0, 1]));
    let f = numpy_file("{'descr': '|i1', 'fortran_order': False, 'shape': (1, 3), }", &[255, 0, 1]);
    assert_eq!(NpyArray::from_bytes(&f).unwrap().data(), &NpyData::I8(vec![-1, 0, 1]));
    let f32s: Vec<u8> = [0.5f32, -2.0].iter().flat_map(|x| x.to_le_bytes()).collect();
    let f = numpy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }", &f32s);
    assert_eq!(NpyArray::from_bytes(&f).unwrap().data(), &NpyData::F32(vec![0.5, -2.0]));

    // version 2.0: a u32 header length
    let dict = b"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
    let mut header = dict.to_vec();
    header.resize(128 - 12 - 1, b' ');
    header.push(b'\n');
    let mut f = b"\x93NUMPY\x02\x00".to_vec();
    f.extend((header.len() as u32).to_le_bytes());
    f.extend(&header);
    f.extend(&le);
    assert_eq!(NpyArray::from_bytes(&f).unwrap().data(), &row_major);
}

#[test]
fn malformed_files_give_offsets() {
    let good = NpyArray::new(2, 3, NpyData::F64(vec![1.0; 6])).unwrap().to_bytes();
    assert_eq!(good.len(), 128 + 48);
    // bad magic
    let mut b = good.clone();
    b[1] = b'X';
    assert_eq!(offset(NpyArray::from_bytes(&b)), 0);
    // unsupported version
    let mut b = good.clone();
    b[6] = 9;
    assert_eq!(offset(NpyArray::from_bytes(&b)), 6);
    // truncated anywhere: the offset is the end of the bytes
    for cut in [0, 5, 8, 9, 10, 60, 127, 128, 129, 175] {
        assert_eq!(offset(NpyArray::from_bytes(&good[..cut])), cut as u64, "cut {cut}");
    }
    // trailing bytes: the first extra one
    let mut b = good.clone();
    b.extend([0; 8]);
    assert_eq!(offset(NpyArray::from_bytes(&b)), 176);
    // three dimensions: at the shape value
    let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 3), }";
    let f = numpy_file(dict, &[0; 48]);
    assert_eq!(offset(NpyArray::from_bytes(&f)), 10 + dict.find('(').unwrap() as u64);
    // unsupported element type: at the descr value
    let dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }";
    let f = numpy_file(dict, &[0; 24]);
    assert_eq!(offset(NpyArray::from_bytes(&f)), 10 + dict.find("'<i4'").unwrap() as u64);
    // unknown key, missing key, broken syntax
    let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), 'x': (1,)}";
    let f = numpy_file(dict, &[0; 48]);
    assert_eq!(offset(NpyArray::from_bytes(&f)), 10 + dict.find("'x'").unwrap() as u64);
    let f = numpy_file("{'descr': '<f8', 'shape': (2, 3), }", &[0; 48]);
    assert!(matches!(NpyArray::from_bytes(&f), Err(Error::Format { .. })));
    let f = numpy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3 }", &[0; 48]);
    assert!(matches!(NpyArray::from_bytes(&f), Err(Error::Format { .. })));
    // a shape whose byte size overflows: truncation, not a panic or allocation
    let f = numpy_file(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551615, 3), }",
        &[0; 48],
    );
    assert!(matches!(NpyArray::from_bytes(&f), Err(Error::Format { .. })));
}

#[test]
fn new_checks_the_shape_and_io_errors_are_typed() {
    assert!(matches!(
        NpyArray::new(2, 3, NpyData::U8(vec![0; 5])),
        Err(Error::ShapeMismatch { expected: 6, found: 5, .. })
    ));
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(read_npy(dir.path().join("missing.npy")), Err(Error::Io { .. })));
    let a = NpyArray::new(1, 1, NpyData::U8(vec![0])).unwrap();
    assert!(matches!(write_npy(dir.path().join("no/such/dir.npy"), &a), Err(Error::Io { .. })));
}
