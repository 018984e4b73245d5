//! A small, stable mutation fuzzer run by every `cargo test`: valid files made
//! by the crates' own writers (IDX images and labels, `.npy`, safetensors
//! model files of every kind, checkpoints, FASTA), mutated thousands of
//! times each from a fixed seed — bit flips, byte overwrites, insertions,
//! deletions, truncations, and length fields set to huge values — and fed
//! to their parsers. Every parse must return (an error or a value), never
//! panic; an allocation from a forged length would abort the test process.
//! (`fuzz/` in the plan runs the same parsers under cargo-fuzz for
//! much longer; this is the part that runs everywhere in seconds.)

use ebm_core::{Purpose, Seed, uniform};
use ebm_data::msa::{Alignment, Alphabet, ReadOptions};
use ebm_data::npy::{NpyArray, NpyData};
use ebm_data::persist::SavedModel;
use ebm_data::{Images, Labels};
use ebm_models::gbrbm::GaussianRbm;
use ebm_models::ising::{Boundary, Ising};
use ebm_models::rbm::Rbm;
use ebm_train::Checkpoint;
use std::collections::BTreeMap;

/// Mutations per seed file.
const ROUNDS: usize = 5000;

/// One random mutation of `b` (never empty-handed: at least one edit).
fn mutate(b: &mut Vec<u8>, rng: &mut ebm_core::ChainRng) {
    let mut pick = |n: usize| (uniform(rng) * n as f64) as usize % n.max(1);
    let edits = 1 + pick(4);
    for _ in 0..edits {
        let len = b.len();
        match pick(7) {
            0 if len > 0 => {
                let i = pick(len);
                b[i] ^= 1 << pick(8);
            }
            1 if len > 0 => {
                let i = pick(len);
                b[i] = [0, 0xff, 0x7f, 0x80, b'{', b'"', b'>'][pick(7)];
            }
            2 => {
                let i = pick(len + 1);
                b.insert(i, pick(256) as u8);
            }
            3 if len > 0 => {
                let i = pick(len);
                b.remove(i);
            }
            4 => b.truncate(pick(len + 1)),
            5 if len >= 8 => {
                // a length or count field overwritten with a huge value
                let i = pick(len - 7);
                let huge: u64 = [u64::MAX, 1 << 40, 1 << 32, u32::MAX as u64, 1 << 62][pick(5)];
                let bytes = if pick(2) == 0 { huge.to_le_bytes() } else { huge.to_be_bytes() };
                let w = [4, 8][pick(2)];
                b[i..i + w].copy_from_slice(&bytes[..w]);
            }
            _ => {
                // a slice duplicated (repeated sections, doubled headers)
                if len > 0 {
                    let (s, n) = (pick(len), 1 + pick(16));
                    let piece: Vec<u8> = b[s..(s + n).min(len)].to_vec();
                    let at = pick(len + 1);
                    b.splice(at..at, piece);
                }
            }
        }
    }
}

/// Feeds `ROUNDS` mutations of `seed_bytes` to `parse`; returns how many
/// parsed without error (a check that the mutations are not all rejected
/// at the first byte).
fn fuzz(name: &str, seed_bytes: &[u8], index: u64, parse: impl Fn(&[u8]) -> bool) -> usize {
    assert!(parse(seed_bytes), "{name}: the unmutated file must parse");
    let mut rng = Seed(0xf022).stream(Purpose::DATA, index);
    let mut accepted = 0;
    for round in 0..ROUNDS {
        let mut b = seed_bytes.to_vec();
        mutate(&mut b, &mut rng);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse(&b)));
        match r {
            Ok(ok) => accepted += usize::from(ok),
            Err(_) => panic!("{name}: round {round} panicked on {:?}", &b[..b.len().min(64)]),
        }
    }
    accepted
}

#[test]
fn parsers_survive_thousands_of_mutations_of_their_own_files() {
    let images = Images::new(3, 4, 5, (0..60u8).collect()).unwrap().to_idx_bytes();
    let labels = Labels { labels: vec![1, 2, 3] }.to_idx_bytes();
    let npy =
        NpyArray::new(2, 3, NpyData::F64(vec![0.5, -1.0, 2.0, 3.0, 4.0, 5.0])).unwrap().to_bytes();
    let meta = BTreeMap::from([("seed".to_string(), "1".to_string())]);
    let rbm = Rbm::random(5, 3, 0.3, Seed(1)).unwrap();
    let gb = GaussianRbm::random(4, 2, 0.3, Seed(2)).unwrap();
    let ising = Ising::lattice(&[3, 3], Boundary::Periodic, 1.0, 0.1).unwrap();
    let models: Vec<Vec<u8>> = [SavedModel::from(rbm.clone()), gb.into(), ising.into()]
        .iter()
        .map(|m| m.to_bytes(&meta).unwrap())
        .collect();
    let mut ck = Checkpoint::<i8>::from_bytes(&{
        let c = Checkpoint::<i8> {
            step: 12,
            params: vec![0.5; 23],
            optimizer: ebm_train::OptimizerState {
                step: 12,
                first: vec![0.0; 23],
                second: Vec::new(),
                offsets: vec![0.5; 4],
            },
            chains: vec![ebm_core::ChainRecord {
                units: vec![0, 1, 1, 0, 1, 0, 0, 1],
                counts: vec![4, 2],
                reals: vec![0.25],
            }],
            rng_positions: vec![Seed(3).stream(Purpose::TRAINING, 0).position()],
            config: BTreeMap::from([("trainer".to_string(), "pcd".to_string())]),
        };
        c.to_bytes()
    })
    .unwrap();
    ck.step = 24;
    let ckpt = ck.to_bytes();
    let fasta = b">a\nACDEFG\n>b\nACD-FG\n>c\nWCDEFY\n".to_vec();

    let mut total = 0;
    total += fuzz("IDX images", &images, 0, |b| ebm_data::idx::decode_images(b).is_ok());
    total += fuzz("IDX labels", &labels, 1, |b| ebm_data::idx::decode_labels(b).is_ok());
    total += fuzz(".npy", &npy, 2, |b| NpyArray::from_bytes(b).is_ok());
    for (k, m) in models.iter().enumerate() {
        total += fuzz("model file", m, 3 + k as u64, |b| SavedModel::from_bytes(b).is_ok());
    }
    total += fuzz("checkpoint", &ckpt, 10, |b| Checkpoint::<i8>::from_bytes(b).is_ok());
    // the checksum rejects nearly every mutation of a current checkpoint:
    // fuzz the body through the older format, which has none
    ck.config.clear();
    ck.optimizer.offsets.clear();
    let v4 = ck.to_bytes();
    // format 2: no configuration count, no offsets section, no checksum
    let n = ck.params.len();
    let offsets_at = 16 + 8 + 2 * (8 + 8 * n) + 8;
    assert_eq!(v4[offsets_at..offsets_at + 8], [0; 8], "the empty offsets section");
    let mut v2 = b"EBMCKPT2".to_vec();
    v2.extend_from_slice(&v4[16..offsets_at]);
    v2.extend_from_slice(&v4[offsets_at + 8..v4.len() - 4]);
    total += fuzz("checkpoint (format 2)", &v2, 12, |b| Checkpoint::<i8>::from_bytes(b).is_ok());
    let protein = Alphabet::protein();
    total += fuzz("FASTA", &fasta, 11, |b| {
        Alignment::parse(b, &protein, &ReadOptions::default()).is_ok()
    });
    // some mutations keep a file valid (a flipped pixel, a flipped residue)
    println!("{total} of {} mutated files parsed", 12 * ROUNDS);
    assert!(total > 0, "every mutation was rejected: the mutator is too coarse");
}
