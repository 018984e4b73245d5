//! Model files: bit-exact round trips for every kind, standard safetensors
//! layout, typed errors for corrupt files, atomic saves.

use ebm_core::{BinaryModel, Domain, EnergyModel, Error, LogLinear, Seed};
use ebm_data::persist::SavedModel;
use ebm_models::boltzmann::BoltzmannMachine;
use ebm_models::ising::{Boundary, Disorder, Ising};
use ebm_models::rbm::Rbm;
use safetensors::{Dtype, SafeTensors};
use std::collections::BTreeMap;

fn meta() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("seed".to_string(), "42".to_string()),
        ("trainer".to_string(), "pcd k=1 lr=0.01 batch=20".to_string()),
        ("note".to_string(), "ünïcödé, \"quotes\" and {braces}".to_string()),
    ])
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn rbm() -> Rbm {
    // awkward values: subnormals, −0, large magnitudes
    let mut m = Rbm::random(7, 5, 0.7, Seed(3)).unwrap();
    let mut theta = m.params().to_vec();
    theta[0] = -0.0;
    theta[1] = 5e-324;
    theta[2] = 3.0e38; // large, within the f32 mirrors (larger is refused)
    m.set_params(&theta).unwrap();
    m
}

fn bm_spin_with_hidden() -> BoltzmannMachine {
    let n = 6;
    let b: Vec<f64> = (0..n).map(|i| 0.1 * i as f64 - 0.2).collect();
    let mut w = vec![0.0; n * n];
    for i in 0..n {
        for j in i + 1..n {
            let x = ((i * 7 + j * 3) % 11) as f64 / 3.0 - 1.5;
            w[i * n + j] = x;
            w[j * n + i] = x;
        }
    }
    BoltzmannMachine::with_domain(Domain::Spin, w, b, 4).unwrap()
}

fn isings() -> Vec<Ising> {
    vec![
        // spin glass with random fields on a periodic torus
        Ising::spin_glass_gaussian(&[4, 5], Boundary::Periodic, 1.0, Seed(1))
            .unwrap()
            .with_random_fields(Disorder::Gaussian { mean: 0.1, std: 0.5 }, Seed(2))
            .unwrap(),
        // periodic side 2: doubled bonds, which from_edges would reject
        Ising::lattice(&[2, 3], Boundary::Periodic, 0.7, -0.3).unwrap(),
        Ising::cubic(2, 3, 2, Boundary::Open, 1.0, 0.25).unwrap(),
        Ising::chain(9, Boundary::Periodic, -1.0, 0.0).unwrap(),
        // a graph (triangle plus pendant) and an edgeless model
        Ising::from_edges(
            4,
            &[(0, 1, 1.0), (2, 1, -0.5), (0, 2, 0.25), (3, 0, 2.0)],
            &[0.1, 0.2, 0.3, 0.4],
        )
        .unwrap(),
        Ising::from_edges(3, &[], &[0.5, -0.5, 0.0]).unwrap(),
    ]
}

fn round_trip(m: SavedModel) -> SavedModel {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("model.safetensors");
    m.save(&p, &meta()).unwrap();
    let (back, meta2) = SavedModel::load(&p).unwrap();
    assert_eq!(meta2, meta());
    assert_eq!(back.kind(), m.kind());
    // the same bytes again
    assert_eq!(back.to_bytes(&meta()).unwrap(), std::fs::read(&p).unwrap());
    back
}

#[test]
fn rbm_round_trips_bit_exactly() {
    let m = rbm();
    let SavedModel::Rbm(back) = round_trip(SavedModel::Rbm(m.clone())) else { panic!() };
    assert_eq!((back.n_visible(), back.n_hidden()), (7, 5));
    assert_eq!(bits(back.params()), bits(m.params()));
    assert_eq!(bits(back.weights()), bits(m.weights()));
    assert_eq!(bits(back.visible_bias()), bits(m.visible_bias()));
    assert_eq!(bits(back.hidden_bias()), bits(m.hidden_bias()));
}

#[test]
fn boltzmann_round_trips_bit_exactly_with_domain_and_hidden_units() {
    for m in [bm_spin_with_hidden(), BoltzmannMachine::random(5, 5, 0.3, Seed(9)).unwrap()] {
        let SavedModel::Boltzmann(back) = round_trip(m.clone().into()) else { panic!() };
        assert_eq!(back, m);
        assert_eq!(back.domain(), m.domain());
        assert_eq!(back.n_visible(), m.n_visible());
        assert_eq!(bits(back.params()), bits(m.params()));
    }
}

#[test]
fn ising_round_trips_bit_exactly_with_its_lattice() {
    for m in isings() {
        let SavedModel::Ising(back) = round_trip(m.clone().into()) else { panic!() };
        assert_eq!(back, m, "edges, couplings, fields, lattice, blocks");
        assert_eq!(bits(back.params()), bits(m.params()));
        assert_eq!(back.lattice_dims(), m.lattice_dims());
        assert_eq!(back.boundary(), m.boundary());
        let s: Vec<i8> = (0..m.n_units()).map(|i| if i % 3 == 0 { 1 } else { -1 }).collect();
        assert_eq!(back.energy(&s).to_bits(), m.energy(&s).to_bits());
    }
}

#[test]
fn files_are_standard_safetensors() {
    let bytes = SavedModel::Rbm(rbm()).to_bytes(&meta()).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut names = st.names();
    names.sort();
    assert_eq!(names, ["W", "b", "c"]);
    for (name, shape) in [("W", vec![7, 5]), ("b", vec![7]), ("c", vec![5])] {
        let t = st.tensor(name).unwrap();
        assert_eq!(t.dtype(), Dtype::F64);
        assert_eq!(t.shape(), &shape[..]);
    }
    let w = st.tensor("W").unwrap();
    let first = f64::from_le_bytes(w.data()[8..16].try_into().unwrap());
    assert_eq!(first.to_bits(), rbm().weights()[1].to_bits(), "row-major, little-endian");
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let m = header.metadata().as_ref().unwrap();
    for (k, v) in [
        ("ebm.kind", "rbm"),
        ("ebm.format", "1"),
        ("ebm.domain", "bit"),
        ("ebm.n_visible", "7"),
        ("ebm.n_hidden", "5"),
        ("ebm.n_units", "12"),
        ("seed", "42"),
    ] {
        assert_eq!(m.get(k).map(String::as_str), Some(v), "{k}");
    }

    let bytes = SavedModel::Boltzmann(bm_spin_with_hidden()).to_bytes(&BTreeMap::new()).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(st.tensor("W").unwrap().shape(), &[6, 6]);
    assert_eq!(st.tensor("b").unwrap().shape(), &[6]);
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let m = header.metadata().as_ref().unwrap();
    assert_eq!(m["ebm.kind"], "boltzmann");
    assert_eq!(m["ebm.domain"], "spin");
    assert_eq!(m["ebm.n_visible"], "4");

    let ising = &isings()[0];
    let bytes = SavedModel::Ising(ising.clone()).to_bytes(&BTreeMap::new()).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let e = st.tensor("edges").unwrap();
    assert_eq!((e.dtype(), e.shape()), (Dtype::I64, &[40usize, 2][..]));
    assert_eq!(st.tensor("J").unwrap().shape(), &[40]);
    assert_eq!(st.tensor("h").unwrap().shape(), &[20]);
    let pairs: Vec<i64> =
        e.data().chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap())).collect();
    for k in 0..40 {
        let (a, b) = ising.edge(k);
        assert_eq!((pairs[2 * k], pairs[2 * k + 1]), (a as i64, b as i64));
    }
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let m = header.metadata().as_ref().unwrap();
    assert_eq!((m["ebm.lattice_dims"].as_str(), m["ebm.boundary"].as_str()), ("4,5", "periodic"));
}

fn format_offset<T: std::fmt::Debug>(r: ebm_core::Result<T>) -> u64 {
    match r {
        Err(Error::Format { offset, .. }) => offset,
        other => panic!("expected a format error, got {other:?}"),
    }
}

#[test]
fn truncated_or_corrupt_files_are_format_errors() {
    let bytes = SavedModel::Rbm(rbm()).to_bytes(&meta()).unwrap();
    let n = bytes.len();
    for cut in [0, 1, 7, 8, 9, 40, n / 2, n - 8, n - 1] {
        let off = format_offset(SavedModel::from_bytes(&bytes[..cut]));
        assert_eq!(off, cut as u64, "cut at {cut}: truncation is reported at the end");
    }
    // trailing bytes
    let mut b = bytes.clone();
    b.push(0);
    assert_eq!(format_offset(SavedModel::from_bytes(&b)), n as u64 + 1);
    // broken JSON header
    let mut b = bytes.clone();
    b[8] = b'[';
    assert_eq!(format_offset(SavedModel::from_bytes(&b)), 8);
    // garbage that is not safetensors at all
    assert!(matches!(SavedModel::from_bytes(&[0xff; 64]), Err(Error::Format { .. })));
    // loading a corrupt file from disk names the file
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cut.safetensors");
    std::fs::write(&p, &bytes[..n / 2]).unwrap();
    match SavedModel::load(&p) {
        Err(Error::Format { what, .. }) => assert!(what.contains("cut.safetensors")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(SavedModel::load(dir.path().join("missing")), Err(Error::Io { .. })));
}

/// Rewrites a file's JSON header through `edit` (keeping the data section).
fn edit_header(bytes: &[u8], edit: impl FnOnce(&mut String)) -> Vec<u8> {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header = String::from_utf8(bytes[8..8 + n].to_vec()).unwrap();
    edit(&mut header);
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend(header.as_bytes());
    out.extend(&bytes[8 + n..]);
    out
}

#[test]
fn semantic_errors_are_typed() {
    let bytes = SavedModel::Rbm(rbm()).to_bytes(&BTreeMap::new()).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap());
    let data_start = 8 + n;

    // unknown kind and wrong domain: the header
    let b = edit_header(&bytes, |h| *h = h.replace("\"rbm\"", "\"gan\""));
    assert_eq!(format_offset(SavedModel::from_bytes(&b)), 8);
    let b = edit_header(&bytes, |h| *h = h.replace("\"bit\"", "\"spin\""));
    assert_eq!(format_offset(SavedModel::from_bytes(&b)), 8);
    // shape inconsistent with the metadata
    let b =
        edit_header(&bytes, |h| *h = h.replace("\"ebm.n_hidden\":\"5\"", "\"ebm.n_hidden\":\"6\""));
    assert_eq!(format_offset(SavedModel::from_bytes(&b)), 8);
    // no metadata at all: a plain safetensors file that is not ours
    let plain = safetensors::serialize(
        [("W", safetensors::tensor::TensorView::new(Dtype::F64, vec![1], &[0; 8]).unwrap())],
        None,
    )
    .unwrap();
    assert_eq!(format_offset(SavedModel::from_bytes(&plain)), 8);

    // a NaN weight: the offset of that very value (W's place in the data
    // section comes from the header)
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let w_start = header.info("W").unwrap().data_offsets.0 as u64;
    let mut b = bytes.clone();
    let at = (data_start + w_start + 8 * 3) as usize;
    b[at..at + 8].copy_from_slice(&f64::NAN.to_le_bytes());
    assert_eq!(format_offset(SavedModel::from_bytes(&b)), at as u64);

    // an asymmetric BM coupling matrix: the constructor's error, at the data
    let bm = SavedModel::Boltzmann(bm_spin_with_hidden()).to_bytes(&BTreeMap::new()).unwrap();
    let n = u64::from_le_bytes(bm[..8].try_into().unwrap());
    let (_, header) = SafeTensors::read_metadata(&bm).unwrap();
    let w = (8 + n) as usize + header.info("W").unwrap().data_offsets.0;
    let mut b = bm.clone();
    b[w + 8..w + 16].copy_from_slice(&123.0f64.to_le_bytes()); // W_01 only
    match SavedModel::from_bytes(&b) {
        Err(Error::Format { offset, reason, .. }) => {
            assert_eq!(offset, 8 + n);
            assert!(reason.contains("asymmetry"), "{reason}");
        }
        other => panic!("{other:?}"),
    }

    // an Ising edge out of range: the offset of the endpoint
    let is = SavedModel::Ising(isings()[4].clone()).to_bytes(&BTreeMap::new()).unwrap();
    let n = u64::from_le_bytes(is[..8].try_into().unwrap());
    let (_, header) = SafeTensors::read_metadata(&is).unwrap();
    let e = (8 + n) as usize + header.info("edges").unwrap().data_offsets.0;
    let mut b = is.clone();
    b[e + 24..e + 32].copy_from_slice(&(-1i64).to_le_bytes());
    assert_eq!(format_offset(SavedModel::from_bytes(&b)), (e + 24) as u64);
    // a duplicated edge: rejected by Ising::from_edges
    let mut b = is.clone();
    b[e + 16..e + 32].copy_from_slice(&is[e..e + 16]);
    assert_eq!(format_offset(SavedModel::from_bytes(&b)), 8 + n);
    // lattice edges that do not match the declared lattice
    let lat = SavedModel::Ising(isings()[2].clone()).to_bytes(&BTreeMap::new()).unwrap();
    let b = edit_header(&lat, |h| *h = h.replace("\"open\"", "\"periodic\""));
    assert!(matches!(SavedModel::from_bytes(&b), Err(Error::Format { .. })));
}

#[test]
fn reserved_metadata_keys_are_refused() {
    let m = BTreeMap::from([("ebm.kind".to_string(), "x".to_string())]);
    assert!(matches!(SavedModel::Rbm(rbm()).to_bytes(&m), Err(Error::InvalidSequence { .. })));
}

fn dir_entries(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn failed_saves_leave_the_previous_file_intact() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("model.safetensors");
    let old = SavedModel::Rbm(rbm());
    old.save(&p, &meta()).unwrap();
    let old_bytes = std::fs::read(&p).unwrap();
    assert_eq!(dir_entries(dir.path()), ["model.safetensors"], "no temporary file left");

    // a save that fails before writing (bad metadata) keeps the old file
    let bad = BTreeMap::from([("ebm.x".to_string(), String::new())]);
    assert!(SavedModel::Ising(isings()[0].clone()).save(&p, &bad).is_err());
    assert_eq!(std::fs::read(&p).unwrap(), old_bytes);

    // the target is a non-empty directory: the rename fails, the directory
    // and its content stay, and the temporary file is removed
    let target = dir.path().join("taken");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep"), b"precious").unwrap();
    match SavedModel::Ising(isings()[0].clone()).save(&target, &meta()) {
        Err(Error::Io { path, .. }) => assert!(path.ends_with("taken")),
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read(target.join("keep")).unwrap(), b"precious");
    assert_eq!(dir_entries(dir.path()), ["model.safetensors", "taken"]);

    // the target directory was removed: an I/O error, nothing created
    let gone = dir.path().join("gone");
    std::fs::create_dir(&gone).unwrap();
    std::fs::remove_dir(&gone).unwrap();
    assert!(matches!(old.save(gone.join("m.safetensors"), &meta()), Err(Error::Io { .. })));
    assert!(!gone.exists());

    // the old file is still loadable and unchanged; a successful save replaces it
    let (m, _) = SavedModel::load(&p).unwrap();
    assert_eq!(m.kind(), "rbm");
    SavedModel::Ising(isings()[1].clone()).save(&p, &BTreeMap::new()).unwrap();
    assert_eq!(SavedModel::load(&p).unwrap().0.kind(), "ising");
    assert_eq!(dir_entries(dir.path()), ["model.safetensors", "taken"]);
}

#[test]
fn potts_rbm_files_round_trip_bit_exactly() {
    use ebm_models::potts_rbm::PottsRbm;
    let m = PottsRbm::random(7, 4, 21, 0.3, Seed(5)).unwrap();
    let mut meta = std::collections::BTreeMap::new();
    meta.insert("note".to_string(), "categorical".to_string());
    let bytes = SavedModel::PottsRbm(m.clone()).to_bytes(&meta).unwrap();
    let (back, meta2) = SavedModel::from_bytes(&bytes).unwrap();
    assert_eq!(meta2, meta);
    let SavedModel::PottsRbm(back) = back else { panic!("a categorical RBM was saved") };
    assert_eq!(back, m);
    assert_eq!(
        back.params().iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        m.params().iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    );
    // a truncated file is a typed format error
    assert!(matches!(SavedModel::from_bytes(&bytes[..bytes.len() - 3]), Err(Error::Format { .. })));
}
