//! Writes each target's seed corpus, `corpus/TARGET/seed-K`, from the
//! crates' own writers (valid files are where mutations find the deep
//! paths). Run from `fuzz/`: `cargo run --bin seeds`.

use ebm_core::{ChainRecord, Purpose, Seed};
use ebm_data::{Images, Labels, NpyArray, NpyData, SavedModel};
use ebm_models::gbrbm::GaussianRbm;
use ebm_models::ising::{Boundary, Ising};
use ebm_models::potts_rbm::PottsRbm;
use ebm_models::rbm::Rbm;
use ebm_train::Checkpoint;
use std::collections::BTreeMap;

fn write(target: &str, files: &[Vec<u8>]) -> std::io::Result<()> {
    let dir = std::path::Path::new("corpus").join(target);
    std::fs::create_dir_all(&dir)?;
    for (k, f) in files.iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{k}")), f)?;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let images = Images::new(3, 4, 5, (0..60u8).collect())?.to_idx_bytes();
    write("idx_images", &[images])?;
    write("idx_labels", &[Labels { labels: vec![1, 2, 3] }.to_idx_bytes()])?;
    let npy: Vec<Vec<u8>> = [
        NpyArray::new(2, 3, NpyData::F64(vec![0.5, -1.0, 2.0, 3.0, 4.0, 5.0]))?,
        NpyArray::new(1, 4, NpyData::F32(vec![0.5, -1.0, 2.0, 3.0]))?,
    ]
    .iter()
    .map(|a| a.to_bytes())
    .collect();
    write("npy", &npy)?;
    let meta = BTreeMap::from([("seed".to_string(), "1".to_string())]);
    let models: Vec<SavedModel> = vec![
        Rbm::random(5, 3, 0.3, Seed(1))?.into(),
        GaussianRbm::random(4, 2, 0.3, Seed(2))?.into(),
        Ising::lattice(&[3, 3], Boundary::Periodic, 1.0, 0.1)?.into(),
        PottsRbm::random(3, 2, 3, 0.3, Seed(3))?.into(),
    ];
    let files = models.iter().map(|m| m.to_bytes(&meta)).collect::<Result<Vec<_>, _>>()?;
    write("model_file", &files)?;
    write("model_metadata", &files)?;
    let c = Checkpoint::<i8> {
        step: 12,
        params: vec![0.5; 23],
        optimizer: ebm_train::OptimizerState {
            step: 12,
            first: vec![0.0; 23],
            second: Vec::new(),
            offsets: Vec::new(),
        },
        chains: vec![ChainRecord {
            units: vec![0, 1, 1, 0, 1, 0, 0, 1],
            counts: vec![4, 2],
            reals: vec![0.25],
        }],
        rng_positions: vec![Seed(3).stream(Purpose::TRAINING, 0).position()],
        config: BTreeMap::from([("trainer".to_string(), "pcd".to_string())]),
    };
    // the current format, and the body through format 2 (no checksum, so
    // mutations reach the fields)
    let v3 = c.to_bytes();
    let mut nocfg = c.clone();
    nocfg.config.clear();
    let body = nocfg.to_bytes();
    let mut v2 = b"EBMCKPT2".to_vec();
    v2.extend_from_slice(&body[16..body.len() - 4]);
    write("checkpoint", &[v3, v2])?;
    write("fasta", &[b">a\nACDEFG\n>b\nACD-FG\n>c\nWCDEFY\n".to_vec()])?;
    // model specs: two bytes choosing J and h, then the text
    let specs = [
        "ising:4x4",
        "ising:16",
        "ising:3x3x3:open",
        "potts:3:8x8",
        "potts:4:5x5:periodic",
        "glass:6x6:gauss:open:disorder=3",
        "glass:4x4:pm",
    ];
    let spec_seeds: Vec<Vec<u8>> = specs
        .iter()
        .enumerate()
        .map(|(k, s)| [&[k as u8, (k * 3) as u8][..], s.as_bytes()].concat())
        .collect();
    write("model_spec", &spec_seeds)?;
    println!("seed corpora written to corpus/");
    Ok(())
}
