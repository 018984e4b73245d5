//! IDX reader: round trips (raw and gzip, memory and files) and every malformed
//! case with its typed error and byte offset.

use ebm_core::Error;
use ebm_data::idx::{
    Images, Labels, Split, decode_images, decode_labels, load_mnist_split, read_images,
    read_labels, write_images, write_labels,
};
use std::io::Write;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn sample_images(count: usize, rows: usize, cols: usize) -> Images {
    let pixels = (0..count * rows * cols).map(|k| (k * 37 % 256) as u8).collect();
    Images::new(count, rows, cols, pixels).unwrap()
}

/// The offset of a format error (panics with the error otherwise).
fn offset<T: std::fmt::Debug>(r: ebm_core::Result<T>) -> u64 {
    match r {
        Err(Error::Format { offset, .. }) => offset,
        other => panic!("expected a format error, got {other:?}"),
    }
}

fn what<T: std::fmt::Debug>(r: ebm_core::Result<T>) -> String {
    match r {
        Err(Error::Format { what, .. }) => what,
        other => panic!("expected a format error, got {other:?}"),
    }
}

#[test]
fn header_bytes_follow_the_idx_layout() {
    let img = sample_images(2, 3, 4);
    let b = img.to_idx_bytes();
    assert_eq!(&b[..16], &[0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]);
    assert_eq!(&b[16..], &img.pixels[..]);
    let lab = Labels { labels: vec![7, 2, 1] };
    assert_eq!(lab.to_idx_bytes(), vec![0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]);
}

#[test]
fn round_trip_in_memory_raw_and_gzip() {
    for (count, rows, cols) in [(0, 28, 28), (1, 1, 1), (5, 3, 7), (300, 28, 28)] {
        let img = sample_images(count, rows, cols);
        let raw = img.to_idx_bytes();
        assert_eq!(decode_images(&raw).unwrap(), img);
        assert_eq!(decode_images(&gzip(&raw)).unwrap(), img);
        if count > 0 {
            assert_eq!(img.image(count - 1), &img.pixels[(count - 1) * rows * cols..]);
        }
    }
    let lab = Labels { labels: (0..1000).map(|k| (k % 10) as u8).collect() };
    assert_eq!(decode_labels(&lab.to_idx_bytes()).unwrap(), lab);
    assert_eq!(decode_labels(&gzip(&lab.to_idx_bytes())).unwrap(), lab);
}

#[test]
fn multi_member_gzip_is_one_stream() {
    let raw = sample_images(4, 2, 2).to_idx_bytes();
    let mut two = gzip(&raw[..10]);
    two.extend(gzip(&raw[10..]));
    assert_eq!(decode_images(&two).unwrap(), sample_images(4, 2, 2));
}

#[test]
fn round_trip_through_files_raw_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let img = sample_images(7, 4, 5);
    let lab = Labels { labels: vec![3, 1, 4, 1, 5, 9, 2] };
    for gz in [false, true] {
        let ip = dir.path().join(format!("images-{gz}"));
        let lp = dir.path().join(format!("labels-{gz}"));
        write_images(&ip, &img, gz).unwrap();
        write_labels(&lp, &lab, gz).unwrap();
        let head = std::fs::read(&ip).unwrap();
        assert_eq!(head.starts_with(&[0x1f, 0x8b]), gz, "gzip detected by content");
        assert_eq!(read_images(&ip).unwrap(), img);
        assert_eq!(read_labels(&lp).unwrap(), lab);
    }
}

#[test]
fn load_split_checks_counts() {
    let dir = tempfile::tempdir().unwrap();
    let (ip, lp) = Split::Test.file_names();
    let img = sample_images(6, 28, 28);
    write_images(dir.path().join(ip), &img, true).unwrap();
    write_labels(dir.path().join(lp), &Labels { labels: vec![0, 1, 2, 3, 4, 5] }, true).unwrap();
    let (i, l) = load_mnist_split(dir.path(), Split::Test).unwrap();
    assert_eq!((i, l.count()), (img, 6));

    write_labels(dir.path().join(lp), &Labels { labels: vec![0, 1, 2, 3, 4] }, true).unwrap();
    let r = load_mnist_split(dir.path(), Split::Test);
    assert_eq!(offset(r), 4, "the label file's count field");
    let r = load_mnist_split(dir.path(), Split::Test);
    assert!(what(r).contains(lp));

    // the training files are not there: an I/O error naming the file
    match load_mnist_split(dir.path(), Split::Train) {
        Err(Error::Io { path, .. }) => assert!(path.ends_with(Split::Train.file_names().0)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn truncation_anywhere_reports_where_the_bytes_end() {
    let raw = sample_images(3, 2, 3).to_idx_bytes();
    assert_eq!(raw.len(), 34);
    for cut in 0..raw.len() {
        assert_eq!(offset(decode_images(&raw[..cut])), cut as u64, "raw cut at {cut}");
        // a well-formed gzip of a truncated IDX stream: offsets are decompressed bytes
        assert_eq!(offset(decode_images(&gzip(&raw[..cut]))), cut as u64, "gzip cut at {cut}");
    }
    let lab = Labels { labels: vec![1, 2, 3, 4] }.to_idx_bytes();
    for cut in 0..lab.len() {
        assert_eq!(offset(decode_labels(&lab[..cut])), cut as u64, "labels cut at {cut}");
    }
}

#[test]
fn truncated_files_on_disk_too() {
    let dir = tempfile::tempdir().unwrap();
    let raw = sample_images(3, 2, 3).to_idx_bytes();
    for cut in [0, 3, 15, 16, 20, 33] {
        let p = dir.path().join(format!("cut{cut}"));
        std::fs::write(&p, &raw[..cut]).unwrap();
        assert_eq!(offset(read_images(&p)), cut as u64);
        std::fs::write(&p, gzip(&raw[..cut])).unwrap();
        assert_eq!(offset(read_images(&p)), cut as u64);
    }
}

#[test]
fn damaged_gzip_streams_are_format_errors_of_the_gzip_layer() {
    let raw = sample_images(20, 5, 5).to_idx_bytes();
    let gz = gzip(&raw);
    // cut short inside the compressed stream (header, deflate data, trailer)
    for cut in [3, 12, gz.len() / 2, gz.len() - 5, gz.len() - 1] {
        let w = what(decode_images(&gz[..cut]));
        assert!(w.contains("gzip"), "cut {cut}: {w}");
    }
    // a wrong CRC in the trailer
    let mut bad = gz.clone();
    let n = bad.len();
    bad[n - 8] ^= 0xff;
    assert!(what(decode_images(&bad)).contains("gzip"));
    // garbage after the gzip member
    let mut tail = gz.clone();
    tail.extend_from_slice(b"garbage!");
    assert!(decode_images(&tail).is_err());
}

#[test]
fn bad_magic_type_and_dimensions() {
    let mut raw = sample_images(2, 2, 2).to_idx_bytes();
    raw[0] = 1;
    assert_eq!(offset(decode_images(&raw)), 0);
    raw[0] = 0;
    raw[1] = 0x08;
    assert_eq!(offset(decode_images(&raw)), 0);
    raw[1] = 0;
    raw[2] = 0x0d; // float elements
    assert_eq!(offset(decode_images(&raw)), 2);
    raw[2] = 8;
    raw[3] = 2;
    assert_eq!(offset(decode_images(&raw)), 3);
    // a label file given to the image reader and vice versa
    let lab = Labels { labels: vec![1; 10] }.to_idx_bytes();
    assert_eq!(offset(decode_images(&lab)), 3);
    assert_eq!(offset(decode_labels(&sample_images(2, 2, 2).to_idx_bytes())), 3);
    // PNG signature
    assert_eq!(offset(decode_images(b"\x89PNG\r\n\x1a\n........")), 0);
}

#[test]
fn zero_sides_are_rejected_at_their_field() {
    let mut raw = sample_images(2, 2, 2).to_idx_bytes();
    raw[11] = 0; // rows
    assert_eq!(offset(decode_images(&raw)), 8);
    raw[11] = 2;
    raw[15] = 0; // cols
    assert_eq!(offset(decode_images(&raw)), 12);
}

#[test]
fn trailing_bytes_are_rejected_at_the_first_extra_byte() {
    let raw = sample_images(3, 2, 3).to_idx_bytes();
    for extra in [1usize, 7, 1000] {
        let mut b = raw.clone();
        b.extend(std::iter::repeat_n(0u8, extra));
        assert_eq!(offset(decode_images(&b)), raw.len() as u64);
        assert_eq!(offset(decode_images(&gzip(&b))), raw.len() as u64);
    }
    let mut lab = Labels { labels: vec![1, 2] }.to_idx_bytes();
    lab.push(9);
    assert_eq!(offset(decode_labels(&lab)), 10);
}

#[test]
fn huge_declared_sizes_do_not_allocate_and_report_truncation() {
    // 2^96 declared bytes in a 20-byte file: sides past the per-image cap
    // are refused at the header (offset 8), before the data is looked at
    let mut raw = vec![0, 0, 8, 3];
    raw.extend([0xff; 12]);
    raw.extend([1, 2, 3, 4]);
    assert_eq!(offset(decode_images(&raw)), 8);
    assert_eq!(offset(decode_images(&gzip(&raw))), 8);
    // 2^32 − 1 declared 28 × 28 images (3.4 TB) in a 20-byte file (raw) and
    // in a tiny gzip file: truncation at the end of what is there
    let mut raw = vec![0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 28, 0, 0, 0, 28];
    raw.extend([1, 2, 3, 4]);
    assert_eq!(offset(decode_images(&raw)), 20);
    assert_eq!(offset(decode_images(&gzip(&raw))), 20);
    let mut lab = vec![0, 0, 8, 1, 0xff, 0xff, 0xff, 0xff];
    lab.extend([5; 3]);
    assert_eq!(offset(decode_labels(&lab)), 11);
    // a highly compressible stream that is long but still shorter than declared
    let mut big = vec![0, 0, 8, 1, 0x10, 0, 0, 0]; // 2^28 labels declared
    big.extend(std::iter::repeat_n(0u8, 1 << 20));
    assert_eq!(offset(decode_labels(&gzip(&big))), 8 + (1 << 20));
}

#[test]
fn missing_file_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("nope.gz");
    match read_images(&p) {
        Err(Error::Io { path, .. }) => assert!(path.ends_with("nope.gz")),
        other => panic!("{other:?}"),
    }
    // a directory is not a file either
    assert!(matches!(read_labels(dir.path()), Err(Error::Io { .. })));
}

#[test]
fn images_new_validates_shape() {
    assert!(Images::new(2, 2, 2, vec![0; 8]).is_ok());
    assert!(matches!(Images::new(2, 2, 2, vec![0; 7]), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(Images::new(2, 0, 2, vec![]), Err(Error::InvalidParameter { .. })));
    let mut bad = sample_images(2, 2, 2);
    bad.count = 3; // inconsistent public fields: an error, not a panic
    assert!(bad.binarize_stochastic(ebm_core::Seed(0)).is_err());
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad");
    assert!(matches!(write_images(&p, &bad, false), Err(Error::ShapeMismatch { .. })));
    assert!(!p.exists());
}
