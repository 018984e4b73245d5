//! `ebm train`: an RBM trained with CD-k or PCD, with per-epoch monitors,
//! atomic model files and resumable checkpoints.

use super::print_json;
use crate::cli::{TrainArgs, TrainerName};
use crate::data::{self, DataSet};
use crate::picture::{self, Series};
use ebm_core::{Error, LogLinear, Result, Seed, Trainer};
use ebm_data::SavedModel;
use ebm_models::rbm::Rbm;
use ebm_samplers::{Gibbs, SiteChain};
use ebm_train::{
    Batches, Cd, Checkpoint, Learning, LearningRate, Momentum, Optimizer, Pcd, RbmMonitors,
    StepReport, TrainState, rbm_monitors,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The monitors as printed: `ebm_train::RbmMonitors` with serde.
#[derive(Debug, Clone, Serialize)]
pub struct Monitors {
    recon_error: f64,
    pseudo_log_likelihood: f64,
    free_energy_train: f64,
    free_energy_test: f64,
    free_energy_gap: f64,
    exact_log_likelihood_train: Option<f64>,
    exact_log_likelihood_test: Option<f64>,
}

impl From<RbmMonitors> for Monitors {
    fn from(m: RbmMonitors) -> Self {
        Monitors {
            recon_error: m.recon_error,
            pseudo_log_likelihood: m.pseudo_log_likelihood,
            free_energy_train: m.free_energy_train,
            free_energy_test: m.free_energy_test,
            free_energy_gap: m.free_energy_gap,
            exact_log_likelihood_train: m.exact_log_likelihood_train,
            exact_log_likelihood_test: m.exact_log_likelihood_test,
        }
    }
}

#[derive(Serialize)]
struct EpochLine {
    epoch: usize,
    steps: u64,
    /// Wall time of the epoch's training steps alone.
    seconds: f64,
    /// Wall time of the monitors after the epoch (not in `seconds`).
    monitor_seconds: f64,
    mean_grad_norm: f64,
    #[serde(flatten)]
    monitors: Monitors,
}

/// SGD with Hinton's momentum ramp (0.5 → 0.9 over five epochs; none for
/// a Gaussian–Bernoulli RBM) or the flag's constant momentum, gradient clipping if asked for, the flags'
/// learning rate (constant, or inverse-time decay over `--lr-decay-epochs`)
/// and weight decay, seeded by `--seed`: the optimizer of every RBM kind.
pub fn learning(a: &TrainArgs, steps_per_epoch: u64) -> Learning {
    Learning::new(
        Optimizer::Sgd {
            learning_rate: match a.lr_decay_epochs {
                Some(e) => {
                    LearningRate::InverseTime { initial: a.lr(), scale: e * steps_per_epoch as f64 }
                }
                None => LearningRate::Constant(a.lr()),
            },
            momentum: match a.momentum {
                Some(mu) => Momentum::constant(mu),
                // real units need a steadier step: no momentum unless asked
                None if a.model == "gbrbm" => Momentum::NONE,
                None => Momentum::hinton(5 * steps_per_epoch),
            },
            weight_decay: a.wd(),
        },
        Seed(a.common.seed),
    )
    .with_clip_norm(a.clip_norm)
}

/// The files a data spec reads: `KIND:FILE`, or for a directory (MNIST,
/// Fashion-MNIST) its four IDX files, gzipped or raw.
fn data_inputs(spec: &str) -> Vec<PathBuf> {
    let Some((_, arg)) = spec.split_once(':') else { return Vec::new() };
    let p = Path::new(arg);
    if !p.is_dir() {
        return vec![p.to_path_buf()];
    }
    [ebm_data::Split::Train, ebm_data::Split::Test]
        .into_iter()
        .flat_map(|s| {
            let (images, labels) = s.file_names();
            [images, labels]
        })
        .flat_map(|gz| [p.join(gz), p.join(gz.trim_end_matches(".gz"))])
        .collect()
}

/// A file's identity: (device, inode) on Unix, so hard links and other
/// spellings of a path are the same file; the canonical path elsewhere.
#[cfg(unix)]
fn file_id(p: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()))
}
#[cfg(not(unix))]
fn file_id(p: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(p).ok()
}

/// An error when an output of `ebm train` (the model file, its checkpoint)
/// is one of the data files it reads — the same file by device and inode,
/// so hard links and other spellings of the path count. Nothing is written
/// then.
pub fn outputs_clash(a: &TrainArgs) -> Option<Error> {
    let id = file_id;
    let ckpt = checkpoint_path(&a.out);
    for out in [&a.out, &ckpt] {
        // checked before any training: a save that can only fail at the end
        // of the first epoch must not run that epoch (nor leave a checkpoint)
        if let Ok(m) = std::fs::symlink_metadata(out)
            && !m.is_file()
        {
            let what = if m.file_type().is_symlink() {
                "is a symbolic link (name the file it points to)"
            } else {
                "is not a regular file (a directory, device or FIFO)"
            };
            return Some(Error::InvalidSequence {
                what: "--out",
                reason: format!("{} {what}: ebm only replaces regular files", out.display()),
            });
        }
        let Some(o) = id(out) else { continue };
        if let Some(input) = data_inputs(&a.data).iter().find(|i| id(i).as_ref() == Some(&o)) {
            return Some(Error::InvalidSequence {
                what: "--out",
                reason: format!(
                    "{} is the data file {}: refusing to overwrite an input",
                    out.display(),
                    input.display()
                ),
            });
        }
    }
    None
}

/// What a resumed run must share with the run that wrote its checkpoint:
/// every flag that shapes the training (not `--epochs`: resuming to more
/// epochs is the point).
pub fn run_config(a: &TrainArgs) -> BTreeMap<String, String> {
    let opt = |x: Option<f64>| x.map_or("none".to_string(), |v| v.to_string());
    BTreeMap::from([
        ("model".into(), a.model.clone()),
        ("data".into(), a.data.clone()),
        ("trainer".into(), format!("{:?}", a.trainer).to_lowercase()),
        ("k".into(), a.k.to_string()),
        ("n_chains".into(), a.n_chains.to_string()),
        ("n_hidden".into(), a.n_hidden.to_string()),
        ("batch_size".into(), a.batch_size.to_string()),
        ("learning_rate".into(), a.lr().to_string()),
        ("momentum".into(), a.momentum.map_or("default".into(), |m| m.to_string())),
        ("weight_decay".into(), a.wd().to_string()),
        ("clip_norm".into(), opt(a.clip_norm)),
        ("lr_decay_epochs".into(), opt(a.lr_decay_epochs)),
        ("reweight".into(), opt(a.reweight)),
        ("seed".into(), a.common.seed.to_string()),
    ])
}

/// The checkpoint `--resume` continues from, checked against this run: the
/// same configuration ([`run_config`], field by field), a step at the end of
/// one of this run's epochs and not past its last.
pub fn resume_checkpoint<U: ebm_core::UnitValue>(
    a: &TrainArgs,
    ckpt: &Path,
    steps_per_epoch: u64,
) -> Result<Checkpoint<U>> {
    let ck = Checkpoint::<U>::load(ckpt)?;
    ck.check_config(&run_config(a))?;
    let epochs = ck.step / steps_per_epoch.max(1);
    if ck.step % steps_per_epoch.max(1) != 0 || epochs > a.epochs as u64 {
        return Err(Error::InvalidSequence {
            what: "--resume",
            reason: format!(
                "the checkpoint is at step {}, not the end of one of this run's {} epochs of {steps_per_epoch} steps",
                ck.step, a.epochs
            ),
        });
    }
    Ok(ck)
}

/// The checkpoint beside a model file: `FILE.ckpt`.
pub fn checkpoint_path(out: &Path) -> PathBuf {
    let mut p = out.as_os_str().to_owned();
    p.push(".ckpt");
    PathBuf::from(p)
}

/// Trains according to `a`; returns the trained model and the per-epoch lines.
pub fn run(a: &TrainArgs) -> Result<()> {
    if a.model != "rbm" {
        return Err(Error::InvalidSequence {
            what: "model kind",
            reason: format!(
                "`{}` (rbm and potts-rbm can be trained from the command line)",
                a.model
            ),
        });
    }
    if a.reweight.is_some() {
        return Err(Error::InvalidSequence {
            what: "--reweight",
            reason: "reweighting by similarity applies to --model potts-rbm".into(),
        });
    }
    let data = data::load(&a.data, a.common.seed)?;
    super::check_chain_units(
        "--n-chains",
        a.n_chains.max(a.batch_size),
        data.width.saturating_add(a.n_hidden),
    )?;
    let seed = Seed(a.common.seed);
    let mut rbm = Rbm::init(data.width, a.n_hidden, Some(&data.train), seed)?;
    let n_rows = data.train.len() / data.width;
    let steps_per_epoch = n_rows.div_ceil(a.batch_size.max(1)) as u64;
    let learning = learning(a, steps_per_epoch);
    let sampler = Gibbs::block();
    match a.trainer {
        TrainerName::Cd => {
            let t = Cd { k: a.k, sampler: sampler.clone(), learning };
            let state = t.init(&rbm)?;
            train_loop(a, &data, &mut rbm, &t, &sampler, state, steps_per_epoch)
        }
        TrainerName::Pcd => {
            let t = Pcd { n_chains: a.n_chains, k: a.k, sampler: sampler.clone(), learning };
            let state = t.init(&rbm)?;
            train_loop(a, &data, &mut rbm, &t, &sampler, state, steps_per_epoch)
        }
    }
}

fn train_loop<T>(
    a: &TrainArgs,
    data: &DataSet,
    rbm: &mut Rbm,
    trainer: &T,
    sampler: &Gibbs,
    mut state: TrainState<SiteChain>,
    steps_per_epoch: u64,
) -> Result<()>
where
    T: Trainer<Rbm, State = TrainState<SiteChain>, Report = StepReport>,
{
    let ckpt = checkpoint_path(&a.out);
    if a.resume {
        state = resume_checkpoint::<i8>(a, &ckpt, steps_per_epoch)?.restore(rbm, sampler)?;
    }
    let first_epoch = (state.step / steps_per_epoch) as usize;
    let bar = crate::progress::bar(
        ((a.epochs.saturating_sub(first_epoch)) as u64) * steps_per_epoch,
        "training",
        a.common.quiet,
    );
    let mut curve: Vec<(f64, f64, Option<f64>)> = Vec::new();
    if !a.common.json {
        println!(
            "training an RBM {}×{} on {} ({} rows) with {:?}, k = {}, {} epochs from epoch {first_epoch}",
            data.width,
            a.n_hidden,
            data.name,
            data.train.len() / data.width,
            a.trainer,
            a.k,
            a.epochs
        );
    }
    for epoch in first_epoch..a.epochs {
        let t0 = std::time::Instant::now();
        let mut batches =
            Batches::new(&data.train, data.width, a.batch_size, Seed(a.common.seed), epoch as u64)?;
        let (mut norm_sum, mut n) = (0.0, 0);
        while let Some(batch) = batches.next_batch() {
            let r = trainer.step(rbm, &mut state, batch)?;
            norm_sum += r.grad_norm;
            n += 1;
            bar.inc(1);
            crate::interrupt::check(epoch + 1)?;
        }
        let seconds = t0.elapsed().as_secs_f64();
        let t_monitor = std::time::Instant::now();
        // exact ln Z every epoch when it is cheap (≲ 0.1 s), else at the end
        let (nv, nh) = (rbm.n_visible(), rbm.n_hidden());
        let cheap = nv.min(nh) <= 20 && (1u64 << nv.min(nh)) * nv.max(nh) as u64 <= 1 << 25;
        let monitors: Monitors = rbm_monitors(
            rbm,
            &data.train,
            &data.test,
            1000,
            cheap || epoch + 1 == a.epochs,
            Seed(a.common.seed),
        )?
        .into();
        let monitor_seconds = t_monitor.elapsed().as_secs_f64();
        curve.push((epoch as f64 + 1.0, monitors.recon_error, monitors.exact_log_likelihood_test));
        Checkpoint::capture(rbm, &state).with_config(run_config(a)).save(&ckpt)?;
        save_model(rbm, a, epoch + 1)?;
        let line = EpochLine {
            epoch: epoch + 1,
            steps: state.step,
            seconds,
            monitor_seconds,
            mean_grad_norm: norm_sum / n.max(1) as f64,
            monitors,
        };
        if a.common.json {
            bar.suspend(|| print_json(&line))?;
        } else {
            let ll = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.3}"));
            bar.suspend(|| {
                println!(
                    "epoch {:>3}  {:>6.2} s (+{:.2} s monitors)  recon {:.5}  PL {:>9.3}  F gap {:>7.3}  exact LL train {} test {}",
                    line.epoch, line.seconds, line.monitor_seconds, line.monitors.recon_error, line.monitors.pseudo_log_likelihood,
                    line.monitors.free_energy_gap, ll(line.monitors.exact_log_likelihood_train), ll(line.monitors.exact_log_likelihood_test)
                )
            });
        }
    }
    bar.finish_and_clear();
    if let Some(dir) = &a.png_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Io { path: dir.display().to_string(), message: e.to_string() })?;
        filters_png(rbm, data, &dir.join("filters.png"))?;
        let series = vec![Series {
            label: "reconstruction error".into(),
            points: curve.iter().map(|c| (c.0, c.1)).collect(),
            line: true,
            errors: vec![],
        }];
        picture::chart(
            &dir.join("training.png"),
            "Training",
            "epoch",
            "reconstruction error per pixel",
            &series,
        )?;
        let ll: Vec<(f64, f64)> = curve.iter().filter_map(|c| c.2.map(|l| (c.0, l))).collect();
        if ll.len() > 1 {
            let series = vec![Series {
                label: "exact test log-likelihood".into(),
                points: ll,
                line: true,
                errors: vec![],
            }];
            picture::chart(
                &dir.join("log_likelihood.png"),
                "Exact log-likelihood",
                "epoch",
                "nats per example",
                &series,
            )?;
        }
        if !a.common.json {
            println!("pictures written to {}", dir.display());
        }
    }
    if !a.common.json {
        println!("model written to {} (checkpoint {})", a.out.display(), ckpt.display());
    }
    Ok(())
}

/// Each hidden unit's incoming weights as an image tile.
pub fn filters_png(rbm: &Rbm, data: &DataSet, path: &Path) -> Result<()> {
    let (nv, nh) = (rbm.n_visible(), rbm.n_hidden());
    let w = rbm.weights();
    let tiles: Vec<Vec<f64>> =
        (0..nh.min(100)).map(|j| (0..nv).map(|i| w[i * nh + j]).collect()).collect();
    picture::tiles(path, &tiles, data.image.0, data.image.1, 10, false)
}

fn save_model(rbm: &Rbm, a: &TrainArgs, epochs_done: usize) -> Result<()> {
    let mut meta = BTreeMap::new();
    meta.insert("trainer".into(), format!("{:?}", a.trainer).to_lowercase());
    meta.insert("k".into(), a.k.to_string());
    meta.insert("epochs".into(), epochs_done.to_string());
    meta.insert("batch_size".into(), a.batch_size.to_string());
    meta.insert("learning_rate".into(), a.lr().to_string());
    meta.insert("weight_decay".into(), a.wd().to_string());
    if let Some(e) = a.lr_decay_epochs {
        meta.insert("lr_decay_epochs".into(), e.to_string());
    }
    meta.insert("data".into(), a.data.clone());
    meta.insert("seed".into(), a.common.seed.to_string());
    meta.insert("n_params".into(), rbm.n_params().to_string());
    SavedModel::Rbm(rbm.clone()).save(&a.out, &meta)
}
