//! `ebm train`: an RBM trained with CD-k or PCD, with per-epoch monitors,
//! atomic model files and resumable checkpoints.

use super::print_json;
use crate::cli::{SamplerName, TrainArgs, TrainerName};
use crate::data::{self, DataSet};
use crate::picture::{self, Series};
use crate::recipe;
use ebm_core::{Beta, Chain, Error, LogLinear, Result, Sampler, Seed, Trainer};
use ebm_data::SavedModel;
use ebm_models::rbm::Rbm;
use ebm_models::rbm_ais::{base_rate, data_marginals, rbm_log_likelihood};
use ebm_samplers::{AnySampler, Gibbs, Ladder, Metropolis, ParallelTempering, WithClamp};
use ebm_thermo::ais::{Ais, Schedule};
use ebm_train::{
    Batches, Cd, Checkpoint, Learning, Pcd, RbmMonitors, StepReport, TrainState, rbm_monitors,
};
use rayon::prelude::*;
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
    /// Wall time of the training steps since the previous line alone.
    seconds: f64,
    /// Wall time of the monitors after the epoch (not in `seconds`).
    monitor_seconds: f64,
    mean_grad_norm: f64,
    /// The AIS test log-likelihood of the learning curve (`--ll-every`).
    #[serde(skip_serializing_if = "Option::is_none")]
    ais_log_likelihood_test: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ais_log_likelihood_test_std_err: Option<f64>,
    #[serde(flatten)]
    monitors: Monitors,
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
    let mut config = BTreeMap::from([
        ("model".into(), a.model.clone()),
        ("data".into(), a.data.clone()),
        ("trainer".into(), format!("{:?}", a.trainer).to_lowercase()),
        ("k".into(), a.k().to_string()),
        ("n_chains".into(), a.n_chains.to_string()),
        ("n_hidden".into(), a.n_hidden.to_string()),
        ("batch_size".into(), a.batch_size.to_string()),
        ("learning_rate".into(), a.lr().to_string()),
        ("momentum".into(), a.momentum.clone().unwrap_or("default".into())),
        ("weight_decay".into(), a.wd().to_string()),
        ("clip_norm".into(), opt(a.clip_norm)),
        ("lr_schedule".into(), a.lr_schedule.clone()),
        ("reweight".into(), opt(a.reweight)),
        ("seed".into(), a.common.seed.to_string()),
    ]);
    if a.model == "rbm" {
        let centring = recipe::centring(a).ok().flatten().map(|c| c.rate);
        config.extend([
            ("sampler".into(), format!("{:?}", recipe::sampler_name(a)).to_lowercase()),
            (
                "ladder".into(),
                match &a.betas {
                    Some(b) => format!("{b:?}"),
                    None => format!("{}:{}", a.n_replicas, a.beta_min),
                },
            ),
            ("centring".into(), opt(centring)),
            ("binarize".into(), a.binarize.clone()),
        ]);
    }
    config
}

/// One point of the learning curve: after `epoch`, the reconstruction error
/// and the test log-likelihood (exact, or the `--ll-every` AIS estimate).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvePoint {
    /// Epochs done.
    pub epoch: usize,
    /// Reconstruction error per pixel.
    pub recon_error: f64,
    /// Test log-likelihood, when measured at this epoch.
    pub log_likelihood: Option<f64>,
    /// Whether `log_likelihood` is exact (else AIS).
    pub exact: bool,
}

/// The checkpoint's record key of the learning curve (not a configuration
/// field: [`Checkpoint::check_config`] compares only the keys of
/// [`run_config`]).
const CURVE_KEY: &str = "learning_curve";

/// [`run_config`] with the learning curve so far: `epoch,recon,ll,exact`
/// points joined by `;` (`-` for no LL; f64 printed round-trip exactly).
pub fn run_config_with(a: &TrainArgs, curve: &[CurvePoint]) -> BTreeMap<String, String> {
    let mut config = run_config(a);
    let point = |c: &CurvePoint| {
        let ll = c.log_likelihood.map_or("-".to_string(), |l| l.to_string());
        format!("{},{},{ll},{}", c.epoch, c.recon_error, u8::from(c.exact))
    };
    config.insert(CURVE_KEY.into(), curve.iter().map(point).collect::<Vec<_>>().join(";"));
    config
}

/// The learning curve a checkpoint carries (empty for one written before
/// it carried one).
pub fn curve_from<U: ebm_core::UnitValue>(ck: &Checkpoint<U>) -> Result<Vec<CurvePoint>> {
    let bad = || Error::InvalidSequence {
        what: "checkpoint",
        reason: format!("its {CURVE_KEY} record is not `epoch,recon,ll,exact;…`"),
    };
    let Some(text) = ck.config.get(CURVE_KEY).filter(|t| !t.is_empty()) else {
        return Ok(Vec::new());
    };
    text.split(';')
        .map(|p| {
            let f: Vec<&str> = p.split(',').collect();
            let [epoch, recon, ll, exact] = f[..] else { return Err(bad()) };
            Ok(CurvePoint {
                epoch: epoch.parse().map_err(|_| bad())?,
                recon_error: recon.parse().map_err(|_| bad())?,
                log_likelihood: match ll {
                    "-" => None,
                    l => Some(l.parse().map_err(|_| bad())?),
                },
                exact: match exact {
                    "0" => false,
                    "1" => true,
                    _ => return Err(bad()),
                },
            })
        })
        .collect()
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
    if ck.step % steps_per_epoch.max(1) != 0 || epochs > a.epochs(steps_per_epoch) as u64 {
        return Err(Error::InvalidSequence {
            what: "--resume",
            reason: format!(
                "the checkpoint is at step {}, not the end of one of this run's {} epochs of {steps_per_epoch} steps",
                ck.step,
                a.epochs(steps_per_epoch)
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

/// The negative-phase sampler of `--sampler` for `--model rbm`: block or
/// sequential Gibbs (the `Gibbs` type, whose block form runs the RBM's
/// batched kernel), tempering over block Gibbs (its concrete type, whose
/// `sweep_batch` sweeps each rung of all chains as one batch of that kernel)
/// or the run-time choice of Metropolis.
enum Negative {
    Gibbs(Gibbs),
    Tempering(ParallelTempering<Gibbs>),
    Other(AnySampler),
}

fn negative_sampler(a: &TrainArgs) -> Result<Negative> {
    Ok(match recipe::sampler_name(a) {
        SamplerName::BlockGibbs => Negative::Gibbs(Gibbs::block()),
        SamplerName::Gibbs => Negative::Gibbs(Gibbs::sequential()),
        SamplerName::Metropolis => Negative::Other(AnySampler::Metropolis(Metropolis::block())),
        SamplerName::MetropolisRandom => {
            Negative::Other(AnySampler::Metropolis(Metropolis::random_scan()))
        }
        SamplerName::Tempering => {
            let ladder = match &a.betas {
                Some(f) => Ladder::new(f.clone())?,
                None => Ladder::geometric(a.n_replicas, a.beta_min)?,
            };
            Negative::Tempering(ParallelTempering::new(Gibbs::block(), ladder))
        }
        other => {
            return Err(Error::InvalidSequence {
                what: "--sampler",
                reason: format!(
                    "{other:?}: an RBM's negative phase runs block-gibbs, gibbs, metropolis, metropolis-random or tempering"
                )
                .to_lowercase(),
            });
        }
    })
}

/// Replicas per negative chain (tempering: the ladder's rungs).
fn replicas(a: &TrainArgs) -> usize {
    match (recipe::sampler_name(a), &a.betas) {
        (SamplerName::Tempering, Some(b)) => b.len(),
        (SamplerName::Tempering, None) => a.n_replicas,
        _ => 1,
    }
}

/// Trains according to `a`, writing the model, its checkpoint and the
/// per-epoch lines.
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
    let negative = negative_sampler(a)?;
    let data = data::load(&a.data, recipe::binarize(&a.binarize)?)?;
    super::check_chain_units(
        "--n-chains",
        a.n_chains.max(a.batch_size).saturating_mul(replicas(a)),
        data.width.saturating_add(a.n_hidden),
    )?;
    let seed = Seed(a.common.seed);
    let mut rbm = Rbm::init(data.width, a.n_hidden, Some(&data.train), seed)?;
    let n_rows = data.train.len() / data.width;
    let steps_per_epoch = n_rows.div_ceil(a.batch_size.max(1)) as u64;
    let learning = recipe::learning(a, steps_per_epoch)?;
    let run = Run { a, data: &data, steps_per_epoch };
    match negative {
        Negative::Gibbs(g) => run.with_sampler(&mut rbm, g, learning),
        Negative::Tempering(t) => run.with_sampler(&mut rbm, t, learning),
        Negative::Other(s) => run.with_sampler(&mut rbm, s, learning),
    }
}

/// One training run's fixed parts.
struct Run<'a> {
    a: &'a TrainArgs,
    data: &'a DataSet,
    steps_per_epoch: u64,
}

impl Run<'_> {
    fn with_sampler<S>(&self, rbm: &mut Rbm, sampler: S, learning: Learning) -> Result<()>
    where
        S: Sampler<Rbm> + WithClamp + Clone,
        S::Chain: 'static,
    {
        let a = self.a;
        match a.trainer {
            TrainerName::Cd => {
                let t = Cd { k: a.k(), sampler, learning };
                let state = t.init(rbm)?;
                // CD keeps no chains: any sampler restores its (empty) state
                self.train_loop(rbm, &t, state, |ck, m| ck.restore(m, &Gibbs::block()))
            }
            TrainerName::Pcd => {
                let t = Pcd { n_chains: a.n_chains, k: a.k(), sampler: sampler.clone(), learning };
                let state = t.init(rbm)?;
                self.train_loop(rbm, &t, state, |ck, m| ck.restore(m, &sampler))
            }
        }
    }

    fn train_loop<T, C, R>(
        &self,
        rbm: &mut Rbm,
        trainer: &T,
        mut state: TrainState<C>,
        restore: R,
    ) -> Result<()>
    where
        T: Trainer<Rbm, State = TrainState<C>, Report = StepReport>,
        C: ebm_core::Chain<Unit = i8>,
        R: Fn(&Checkpoint<i8>, &mut Rbm) -> Result<TrainState<C>>,
    {
        let (a, data, steps_per_epoch) = (self.a, self.data, self.steps_per_epoch);
        let epochs = a.epochs(steps_per_epoch);
        let ckpt = checkpoint_path(&a.out);
        // (epoch, reconstruction error, test LL, whether that LL is exact):
        // carried in the checkpoint, so a resumed run draws the whole curve
        let mut curve: Vec<CurvePoint> = Vec::new();
        if a.resume {
            let ck = resume_checkpoint::<i8>(a, &ckpt, steps_per_epoch)?;
            state = restore(&ck, rbm)?;
            curve = curve_from(&ck)?;
        }
        let first_epoch = (state.step / steps_per_epoch) as usize;
        // by default about 20 lines and checkpoints in a run, every epoch in short ones
        let every = epochs.div_ceil(20).max(1);
        let (log_every, ckpt_every) =
            (a.log_every.unwrap_or(every), a.checkpoint_every.unwrap_or(every));
        let bar = crate::progress::bar(
            ((epochs.saturating_sub(first_epoch)) as u64) * steps_per_epoch,
            "training",
            a.common.quiet,
        );
        let marginals = data_marginals(&data.train, data.width)?;
        if !a.common.json {
            println!(
                "training an RBM {}×{} on {} ({} rows) with {:?}, k = {}, {} sampler, {} epochs of {steps_per_epoch} steps from epoch {first_epoch}",
                data.width,
                a.n_hidden,
                data.name,
                data.train.len() / data.width,
                a.trainer,
                a.k(),
                format!("{:?}", recipe::sampler_name(a)).to_lowercase(),
                epochs
            );
        }
        let (mut norm_sum, mut n, mut seconds) = (0.0, 0u64, 0.0);
        let mut unsaved: Option<(Checkpoint<i8>, usize)> = None;
        for epoch in first_epoch..epochs {
            let t0 = std::time::Instant::now();
            let mut batches = Batches::new(
                &data.train,
                data.width,
                a.batch_size,
                Seed(a.common.seed),
                epoch as u64,
            )?;
            while let Some(batch) = batches.next_batch() {
                let r = trainer.step(rbm, &mut state, batch)?;
                norm_sum += r.grad_norm;
                n += 1;
                bar.inc(1);
                if let Err(e) = crate::interrupt::check(epoch + 1) {
                    // the files of the last finished epoch, then the one-line error
                    if let Some((ck, done)) = &unsaved {
                        let mut m = rbm.clone();
                        m.set_params(&ck.params)?;
                        save_model(&m, a, *done)?;
                        ck.save(&ckpt)?;
                    }
                    return Err(e);
                }
            }
            seconds += t0.elapsed().as_secs_f64();
            let done = epoch + 1;
            let last = done == epochs;
            if done % log_every == 0 || last {
                let mean_grad_norm = norm_sum / n.max(1) as f64;
                let point = self.log_epoch(
                    rbm,
                    &state,
                    &marginals,
                    (done, last),
                    (seconds, mean_grad_norm),
                    &bar,
                )?;
                (norm_sum, n, seconds) = (0.0, 0, 0.0);
                curve.push(point);
            }
            let snapshot = Checkpoint::capture(rbm, &state).with_config(run_config_with(a, &curve));
            if done % ckpt_every == 0 || last {
                // the model first: a checkpoint on disk never runs ahead of
                // the model beside it (a kill between the two saves then
                // leaves a checkpoint one epoch behind, which a resume
                // recomputes), so resuming a finished run leaves a current
                // model
                save_model(rbm, a, done)?;
                snapshot.save(&ckpt)?;
                unsaved = None;
            } else {
                // kept in memory, written if a signal stops the run
                unsaved = Some((snapshot, done));
            }
        }
        bar.finish_and_clear();
        if first_epoch >= epochs {
            // a resume of a finished run: the model is the checkpoint's
            save_model(rbm, a, epochs)?;
        }
        if let Some(dir) = &a.png_dir {
            pictures(rbm, data, dir, &curve, a.common.seed)?;
            if !a.common.json {
                println!("pictures written to {}", dir.display());
            }
        }
        if !a.common.json {
            println!("model written to {} (checkpoint {})", a.out.display(), ckpt.display());
        }
        Ok(())
    }

    /// The monitors after epoch `done` (`last`: the run's last), printed as
    /// one line (JSON or text) above the bar; the learning curve's point.
    fn log_epoch<C>(
        &self,
        rbm: &Rbm,
        state: &TrainState<C>,
        marginals: &[f64],
        (done, last): (usize, bool),
        (seconds, mean_grad_norm): (f64, f64),
        bar: &indicatif::ProgressBar,
    ) -> Result<CurvePoint> {
        let (a, data) = (self.a, self.data);
        let t_monitor = std::time::Instant::now();
        // exact ln Z when it is cheap (≲ 0.1 s), else at the end
        let (nv, nh) = (rbm.n_visible(), rbm.n_hidden());
        let cheap = nv.min(nh) <= 20 && (1u64 << nv.min(nh)) * nv.max(nh) as u64 <= 1 << 25;
        let monitors: Monitors =
            rbm_monitors(rbm, &data.train, &data.test, 1000, cheap || last, Seed(a.common.seed))?
                .into();
        // the AIS learning curve: the same streams every time (common
        // random numbers: the curve's wiggles are the model's)
        let ais = match a.ll_every {
            Some(k) if done % k == 0 || last => {
                let test = &data.test[..data.test.len().min(1000 * nv)];
                let schedule = Schedule::StandardScaled(a.ll_betas);
                let base = base_rate(rbm, marginals)?;
                let est = Ais::new(schedule, 16)?.log_z_from(
                    rbm,
                    &base,
                    &Gibbs::block(),
                    Beta::ONE,
                    Seed(a.common.seed),
                )?;
                // the mean free energy is exact: ln Ẑ's error is the LL's
                Some((rbm_log_likelihood(rbm, test, &est)?.mean, est.std_err))
            }
            _ => None,
        };
        let monitor_seconds = t_monitor.elapsed().as_secs_f64();
        let monitors_recon = monitors.recon_error;
        let ll_test = monitors.exact_log_likelihood_test.or(ais.map(|e| e.0));
        let exact = monitors.exact_log_likelihood_test.is_some();
        let line = EpochLine {
            epoch: done,
            steps: state.step,
            seconds,
            monitor_seconds,
            mean_grad_norm,
            ais_log_likelihood_test: ais.map(|e| e.0),
            ais_log_likelihood_test_std_err: ais.map(|e| e.1),
            monitors,
        };
        if a.common.json {
            bar.suspend(|| print_json(&line))?;
        } else {
            let ll = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.3}"));
            bar.suspend(|| {
                println!(
                    "epoch {:>4}  {:>7.2} s (+{:.2} s monitors)  recon {:.5}  PL {:>9.3}  F gap {:>7.3}  exact LL train {} test {}{}",
                    line.epoch, line.seconds, line.monitor_seconds, line.monitors.recon_error, line.monitors.pseudo_log_likelihood,
                    line.monitors.free_energy_gap, ll(line.monitors.exact_log_likelihood_train), ll(line.monitors.exact_log_likelihood_test),
                    line.ais_log_likelihood_test.map_or(String::new(), |l| format!("  AIS LL test {l:.3}"))
                )
            });
        }
        Ok(CurvePoint { epoch: done, recon_error: monitors_recon, log_likelihood: ll_test, exact })
    }
}

/// `filters.png`, `samples.png`, `training.png` and (with two or more
/// points) `log_likelihood.png` in `dir`.
fn pictures(rbm: &Rbm, data: &DataSet, dir: &Path, curve: &[CurvePoint], seed: u64) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::Io { path: dir.display().to_string(), message: e.to_string() })?;
    filters_png(rbm, data, &dir.join("filters.png"))?;
    samples_png(rbm, data, &dir.join("samples.png"), 100, seed)?;
    let series = vec![Series {
        label: "reconstruction error".into(),
        points: curve.iter().map(|c| (c.epoch as f64, c.recon_error)).collect(),
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
    let ll: Vec<(f64, f64)> =
        curve.iter().filter_map(|c| c.log_likelihood.map(|l| (c.epoch as f64, l))).collect();
    // exact where every point is exact (the cheap case), else AIS
    let exact = curve.iter().filter(|c| c.log_likelihood.is_some()).all(|c| c.exact);
    if ll.len() > 1 {
        let series = vec![Series {
            label: if exact {
                "exact test log-likelihood"
            } else {
                "AIS test log-likelihood (--ll-every)"
            }
            .into(),
            points: ll,
            line: true,
            errors: vec![],
        }];
        picture::chart(
            &dir.join("log_likelihood.png"),
            "Test log-likelihood",
            "epoch",
            "nats per example",
            &series,
        )?;
    }
    Ok(())
}

/// Samples from the model as image tiles: `n` block-Gibbs chains started at
/// test rows, 1000 sweeps each (fewer for big models: about 10^8 / (nv · nh),
/// at least 100), chain c on stream (seed, SAMPLING, c).
pub fn samples_png(rbm: &Rbm, data: &DataSet, path: &Path, n: usize, seed: u64) -> Result<()> {
    let (nv, nh) = (rbm.n_visible(), rbm.n_hidden());
    let sweeps = (100_000_000 / (nv * nh).max(1)).clamp(100, 1000);
    let sampler = Gibbs::block();
    let rows = (data.test.len() / nv).max(1);
    let tiles = (0..n)
        .into_par_iter()
        .map(|k| -> Result<Vec<f64>> {
            let mut rng = Seed(seed).stream(ebm_core::Purpose::SAMPLING, k as u64);
            let mut x = data.test[(k % rows) * nv..][..nv].to_vec();
            x.resize(nv + nh, 0);
            let mut c = sampler.start(rbm, &x)?;
            for _ in 0..sweeps {
                sampler.sweep(rbm, &mut c, ebm_core::Beta::ONE, &mut rng);
            }
            Ok(c.state()[..nv].iter().map(|&b| f64::from(b)).collect())
        })
        .collect::<Result<Vec<_>>>()?;
    picture::tiles(path, &tiles, data.image.0, data.image.1, 10, true)
}

/// Each hidden unit's incoming weights as an image tile.
pub fn filters_png(rbm: &Rbm, data: &DataSet, path: &Path) -> Result<()> {
    let (nv, nh) = (rbm.n_visible(), rbm.n_hidden());
    let w = rbm.weights();
    let tiles: Vec<Vec<f64>> =
        (0..nh.min(100)).map(|j| (0..nv).map(|i| w[i * nh + j]).collect()).collect();
    picture::tiles(path, &tiles, data.image.0, data.image.1, 10, false)
}

/// The model file, with the run's whole configuration ([`run_config`]),
/// the epochs done and the binarisation (which `ebm eval` reuses) as
/// metadata.
fn save_model(rbm: &Rbm, a: &TrainArgs, epochs_done: usize) -> Result<()> {
    let mut meta = run_config(a);
    meta.insert("epochs".into(), epochs_done.to_string());
    meta.insert("n_params".into(), rbm.n_params().to_string());
    meta.insert("binarize".into(), recipe::binarize(&a.binarize)?.spec());
    SavedModel::Rbm(rbm.clone()).save(&a.out, &meta)
}
