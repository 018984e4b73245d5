//! MNIST CD-1 speed: an RBM 784×500, CD-1, batch 100, lr 0.1, momentum 0.5
//! (0.9 from epoch 5, so one epoch runs at 0.5), weight cost 2e−4 on W,
//! W ~ 0.1·N(0, 1), biases 0: the PyTorch peer's recipe
//! (`../shared/peers/rbm_torch.py`), MNIST binarised at intensity > 127
//! (`ebm_data`'s loader, threshold 128).
//!
//! The peer follows Hinton's `rbm.m`: h₀ sampled, the reconstruction v₁ =
//! p(v | h₀) kept as probabilities, negative statistics (v₁, p(h | v₁)). That
//! is `RbmCd` with `Reconstruction::MeanField`, timed like for like; standard
//! CD-1 (`Reconstruction::Sampled`, binary v₁) is timed beside it.
//!
//! Prints seconds per epoch (60,000 images) with 1 and 2 threads for both
//! reconstructions (median and min of `REPEATS` epochs, default 3, from the
//! same start, after a 30-batch warm-up), a short measurement of the generic
//! `Cd { k: 1, sampler: Gibbs::block() }` path, the reconstruction errors
//! (running training error `mean (v₀ − p(v|h₀))²` as PyTorch's
//! `train_recon_mse_running`, and the mean-field `mean (v − σ(σ(vW + c)Wᵀ + b))²`
//! over the training set, the peers' `recon_mse_meanfield`), and, when the
//! peers' `results.json` is found (`$PEERS_OUT/results.json`, default
//! `~/.cache/ebm-peers-out`), the ratios to PyTorch's figures. `ONLY_MF=1`
//! skips the sampled variant and the generic path; `PHASES=1` only times
//! each kernel of a mean-field step on one batch (where the time goes).
//!
//! Run: `cargo run --release --example mnist_cd1` (data from
//! `$EBM_MNIST_DIR`, default `../shared/data/mnist`; skips if absent).

use ebm_core::{Beta, LogLinear, Seed, Trainer};
use ebm_data::{Split, load_mnist_split};
use ebm_models::rbm::{ActiveSets, Rbm};
use ebm_samplers::Gibbs;
use ebm_train::{Batches, Cd, Learning, LearningRate, Momentum, Optimizer, RbmCd, Reconstruction};
use std::path::{Path, PathBuf};
use std::time::Instant;

const NV: usize = 784;
const NH: usize = 500;
const BATCH: usize = 100;

/// The PyTorch peer's start: W ~ 0.1·N(0, 1), biases 0.
fn start_model() -> Rbm {
    let w = Rbm::random(NV, NH, 0.1, Seed(42)).expect("valid shape").weights().to_vec();
    Rbm::new(w, vec![0.0; NV], vec![0.0; NH]).expect("finite")
}

fn learning() -> Learning {
    Learning::new(
        Optimizer::Sgd {
            learning_rate: LearningRate::Constant(0.1),
            momentum: Momentum::hinton(5 * 600),
            weight_decay: 2e-4,
        },
        Seed(7),
    )
}

/// Mean-field reconstruction error over `data` (the peers' `recon_mse_meanfield`).
fn mean_field_recon(m: &Rbm, data: &[i8]) -> f64 {
    let rows = 1000;
    let (mut ph, mut pv) = (vec![0f32; rows * NH], vec![0f32; rows * NV]);
    let mut total = 0.0;
    for chunk in data.chunks(rows * NV) {
        let r = chunk.len() / NV;
        m.hidden_probs_batch(chunk, Beta::ONE, &mut ph[..r * NH]).expect("bits");
        m.visible_probs_batch(&ph[..r * NH], Beta::ONE, &mut pv[..r * NV]).expect("finite");
        total += chunk
            .iter()
            .zip(&pv)
            .map(|(&x, &p)| f64::from((f32::from(x) - p) * (f32::from(x) - p)))
            .sum::<f64>();
    }
    total / data.len() as f64
}

struct Run {
    seconds: f64,
    train_recon: f64,
    model: Rbm,
}

/// One epoch of the specialised trainer from the common start.
fn epoch_fast(
    data: &[i8],
    reconstruction: Reconstruction,
    epoch: u64,
    max_batches: Option<usize>,
) -> Run {
    let mut model = start_model();
    let cd = RbmCd { k: 1, reconstruction, learning: learning() };
    let mut state = cd.init(&model).expect("valid trainer");
    let mut batches = Batches::new(data, NV, BATCH, Seed(1), epoch).expect("whole rows");
    let (mut err, mut n) = (0.0, 0usize);
    let t0 = Instant::now();
    while let Some(b) = batches.next_batch() {
        let r = cd.step(&mut model, &mut state, b).expect("finite training");
        err += r.reconstruction_error;
        n += 1;
        if max_batches.is_some_and(|m| n >= m) {
            break;
        }
    }
    Run { seconds: t0.elapsed().as_secs_f64(), train_recon: err / n as f64, model }
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool").install(f)
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// PyTorch's CD-1 for one thread count: (threads, seconds median, train
/// recon, mean-field recon).
type TorchRow = (u64, f64, f64, f64);

/// PyTorch's CD-1 rows, and the file they came from.
fn torch_results() -> Option<(PathBuf, Vec<TorchRow>)> {
    let dir = std::env::var_os("PEERS_OUT").map(PathBuf::from).or_else(|| {
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/ebm-peers-out"))
    })?;
    let path = dir.join("results.json");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    let runs = json["results"]["rbm_torch"]["runs"].as_array()?;
    let rows = runs
        .iter()
        .filter(|r| r["method"] == "cd1")
        .filter_map(|r| {
            let q = &r["quality_after_1_epoch"];
            Some((
                r["threads"].as_u64()?,
                r["sec_per_epoch"]["median"].as_f64()?,
                q["train_recon_mse_running"].as_f64()?,
                q["recon_mse_meanfield"].as_f64()?,
            ))
        })
        .collect();
    Some((path, rows))
}

fn main() {
    let dir = std::env::var_os("EBM_MNIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/mnist"));
    if !dir.join("train-images-idx3-ubyte.gz").exists() {
        println!(
            "skipped: no MNIST at {} (set EBM_MNIST_DIR to the folder holding \
             train-images-idx3-ubyte.gz)",
            dir.display()
        );
        return;
    }
    let data = match load_mnist_split(&dir, Split::Train) {
        Ok((images, _)) if images.pixels_per_image() == NV => images.binarize_threshold(128),
        Ok((images, _)) => {
            eprintln!("unexpected MNIST image size {}", images.pixels_per_image());
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("cannot read MNIST: {e}");
            std::process::exit(1);
        }
    };
    let ones = data.iter().filter(|&&x| x == 1).count() as f64 / data.len() as f64;
    println!(
        "MNIST: {} images, binarised at > 127 ({:.4} ones); RBM {NV}x{NH}, CD-1, batch {BATCH}, \
         lr 0.1, momentum 0.5, weight cost 2e-4",
        data.len() / NV,
        ones
    );
    let repeats: usize = std::env::var("REPEATS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);

    if std::env::var_os("PHASES").is_some_and(|v| v == "1") {
        for threads in [1, 2] {
            in_pool(threads, || phases(&data, threads));
        }
        return;
    }
    let only_mf = std::env::var_os("ONLY_MF").is_some_and(|v| v == "1");
    let modes: &[Reconstruction] = if only_mf {
        &[Reconstruction::MeanField]
    } else {
        &[Reconstruction::MeanField, Reconstruction::Sampled]
    };
    if !only_mf {
        generic_path(&data);
    }

    // (reconstruction, threads, median s, train recon, mean-field recon)
    let mut ours = Vec::new();
    for &rec in modes {
        for threads in [1usize, 2] {
            let (mut secs, run) = in_pool(threads, || {
                epoch_fast(&data, rec, 99, Some(30)); // warm-up
                let mut secs = Vec::new();
                let mut last = None;
                for _ in 0..repeats {
                    let r = epoch_fast(&data, rec, 0, None);
                    secs.push(r.seconds);
                    last = Some(r);
                }
                (secs, last.expect("at least one repeat"))
            });
            let min = secs.iter().copied().fold(f64::INFINITY, f64::min);
            let med = median(&mut secs);
            let mf = mean_field_recon(&run.model, &data);
            println!(
                "RbmCd {rec:?}, {threads} thread(s): {med:.3} s/epoch (median of {repeats}, min \
                 {min:.3}; all {secs:.3?}); train recon {:.5}, mean-field recon {mf:.5}; params \
                 finite: {}",
                run.train_recon,
                run.model.params().iter().all(|p| p.is_finite())
            );
            ours.push((rec, threads as u64, med, run.train_recon, mf));
        }
    }

    match torch_results() {
        Some((path, torch)) if !torch.is_empty() => {
            println!("PyTorch peer ({}):", path.display());
            for (t, s, tr, mf) in &torch {
                for o in ours.iter().filter(|o| o.1 == *t) {
                    println!(
                        "  {t} thread(s), {:?}: PyTorch {s:.3} s/epoch, ours {:.3} s/epoch, ratio \
                         {:.2}; train recon {tr:.5} vs ours {:.5} ({:+.1}%), mean-field {mf:.5} \
                         vs ours {:.5} ({:+.1}%)",
                        o.0,
                        o.2,
                        o.2 / s,
                        o.3,
                        100.0 * (o.3 / tr - 1.0),
                        o.4,
                        100.0 * (o.4 / mf - 1.0)
                    );
                }
            }
        }
        _ => println!(
            "no PyTorch results found (run `ONLY=rbm_torch ../shared/peers/run_all.sh`, \
             PEERS_OUT=<dir>) to print the comparison"
        ),
    }
}

/// Milliseconds per call of each kernel of a mean-field CD-1 step on the
/// first MNIST batch (`PHASES=1`; the sampling and bookkeeping are left out).
fn phases(data: &[i8], threads: usize) {
    let mut model = start_model();
    let batch = &data[..BATCH * NV];
    let mut v0 = ActiveSets::new(NV);
    batch.chunks_exact(NV).for_each(|v| v0.push_row(v));
    let mut v0_t = ActiveSets::new(0);
    v0.transpose_into(&mut v0_t);
    let (mut p0, mut pk) = (vec![0f32; BATCH * NH], vec![0f32; BATCH * NH]);
    let mut pv = vec![0f32; BATCH * NV];
    let mut h = ActiveSets::new(NH);
    let mut work = Vec::new();
    let mut gw = vec![0f32; NV * NH];
    let mut vel = vec![0f64; NV * NH];
    let mut norms = vec![0f64; 8];
    let reps = 200;
    let time = |name: &str, f: &mut dyn FnMut()| {
        f();
        let t0 = Instant::now();
        for _ in 0..reps {
            f();
        }
        println!("  {name:<44} {:7.3} ms", 1e3 * t0.elapsed().as_secs_f64() / reps as f64);
    };
    println!("phases, {threads} thread(s), per batch of {BATCH}:");
    time("P0 = sigma(c + V0 W), sparse", &mut || {
        model.hidden_probs_sparse(&v0, 0..BATCH, Beta::ONE, &mut p0).expect("shapes");
    });
    let u: Vec<u32> = (0..NH as u32).map(|k| k.wrapping_mul(2_654_435_761)).collect();
    time("H0 ~ P0 (fixed uniforms)", &mut || {
        h.clear(NH);
        p0.chunks_exact(NH).for_each(|p| h.push_bernoulli(p, &u));
    });
    time("V1 = sigma(b + H0 W^T), sparse", &mut || {
        model.visible_probs_sparse(&h, 0..BATCH, Beta::ONE, &mut pv).expect("shapes");
    });
    let mut hd = vec![0f32; BATCH * NH];
    for r in 0..BATCH {
        h.row(r).iter().for_each(|&j| hd[r * NH + j as usize] = 1.0);
    }
    println!("  (H0 has {:.1} ones per row)", h.n_active() as f64 / BATCH as f64);
    time("V1 = sigma(b + H0 W^T), dense GEMM (for scale)", &mut || {
        model.visible_probs_batch(&hd, Beta::ONE, &mut pv).expect("shapes");
    });
    time("P1 = sigma(c + V1 W), GEMM", &mut || {
        model.hidden_probs_dense(&pv, Beta::ONE, &mut pk, &mut work).expect("shapes");
    });
    time("V0^T P0 - V1^T P1, sparse + GEMM", &mut || {
        Rbm::sparse_dense_outer_difference(&mut gw, NH, (&p0, &v0_t), (&pv, &pk), 0..NV)
            .expect("shapes");
    });
    time("SGD on W + f32 mirrors (no gradient)", &mut || {
        model
            .update_weights(
                NV.div_ceil(8),
                &mut vel,
                &mut gw,
                &mut norms,
                |_, _| Ok(0.0),
                |t, v, g| {
                    *v = 0.5 * *v + 1e-9 * (f64::from(g) - 2e-4 * *t);
                    *t += *v;
                },
            )
            .expect("finite");
    });
}

/// The generic path, briefly (60 batches, extrapolated to an epoch).
fn generic_path(data: &[i8]) {
    let generic_batches = 60;
    let generic = in_pool(1, || {
        let mut model = start_model();
        let cd = Cd { k: 1, sampler: Gibbs::block(), learning: learning() };
        let mut state = cd.init(&model).expect("valid trainer");
        let mut batches = Batches::new(data, NV, BATCH, Seed(1), 0).expect("whole rows");
        let t0 = Instant::now();
        for _ in 0..generic_batches {
            let b = batches.next_batch().expect("enough batches");
            cd.step(&mut model, &mut state, b).expect("finite training");
        }
        t0.elapsed().as_secs_f64() * (data.len() / NV / BATCH) as f64 / generic_batches as f64
    });
    println!(
        "generic Cd {{ k: 1, sampler: Gibbs::block() }}, 1 thread: {generic:.2} s/epoch \
         (extrapolated from {generic_batches} batches)"
    );
}
