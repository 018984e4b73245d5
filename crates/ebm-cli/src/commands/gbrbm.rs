//! `ebm train --model gbrbm --data mnist-real:DIR|fashion-real:DIR` and
//! `ebm eval` on the result: a Gaussian–Bernoulli RBM on pixel intensities
//! standardised per pixel (statistics of the training split, scale floored
//! at [`STD_FLOOR`]), trained by CD-k or PCD (block Gibbs: v | h Gaussian,
//! h | v Bernoulli) with learned variances; exact log-density when
//! n_h ≤ 16, AIS from a Gaussian base otherwise; filters and samples as
//! PNGs.

use super::print_json;
use crate::cli::{TrainArgs, TrainerName};
use crate::picture;
use ebm_core::{Beta, Chain, Error, LogLinear, Purpose, Result, Sampler, Seed, Trainer};
use ebm_data::SavedModel;
use ebm_data::standardize::{Standardizer, intensities};
use ebm_models::gbrbm::GaussianRbm;
use ebm_samplers::{Gibbs, SiteChain};
use ebm_thermo::ais::{Ais, GaussianBits, Schedule};
use ebm_train::{Batches, Cd, Checkpoint, Pcd};
use ebm_train::{StepReport, TrainState};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The floor of the per-pixel scale in intensity units (a pixel that is
/// almost always 0 is not blown up to huge values).
pub const STD_FLOOR: f64 = 0.1;

/// Hidden layers up to this size get the exact log-density every epoch.
const EXACT_EVERY_EPOCH: usize = 16;

/// Test rows monitored every epoch (reconstruction error).
const MONITOR_ROWS: usize = 1000;

/// A real-valued image data set, standardised.
pub struct RealData {
    /// What the user asked for.
    pub name: String,
    /// Training rows, standardised.
    pub train: Vec<f64>,
    /// Test rows, standardised with the training statistics.
    pub test: Vec<f64>,
    /// Pixels per image.
    pub width: usize,
    /// Image shape.
    pub image: (usize, usize),
    /// The standardisation (for pictures in pixel units).
    pub standardizer: Standardizer,
}

impl RealData {
    fn split(&self, split: &str) -> Result<&[f64]> {
        match split {
            "train" => Ok(&self.train),
            "test" => Ok(&self.test),
            other => Err(Error::InvalidSequence {
                what: "split",
                reason: format!("`{other}` (expected train or test)"),
            }),
        }
    }
}

/// Loads `mnist-real:DIR` or `fashion-real:DIR` (the four IDX files).
pub fn load(spec: &str) -> Result<RealData> {
    let (kind, dir) = spec.split_once(':').unwrap_or((spec, ""));
    let label = match kind {
        "mnist-real" => "MNIST",
        "fashion-real" => "Fashion-MNIST",
        _ => {
            return Err(Error::InvalidSequence {
                what: "data spec",
                reason: format!(
                    "`{spec}`: a Gaussian–Bernoulli RBM trains on real-valued data, mnist-real:DIR or fashion-real:DIR"
                ),
            });
        }
    };
    let dir = PathBuf::from(if dir.is_empty() { "." } else { dir });
    let (train, _) = ebm_data::load_mnist_split(&dir, ebm_data::Split::Train)?;
    let (test, _) = ebm_data::load_mnist_split(&dir, ebm_data::Split::Test)?;
    let width = train.pixels_per_image();
    if (test.rows, test.cols) != (train.rows, train.cols) {
        return Err(Error::InvalidSequence {
            what: "data spec",
            reason: format!(
                "the test images are {}×{} but the training images {}×{}",
                test.rows, test.cols, train.rows, train.cols
            ),
        });
    }
    let raw_train = intensities(&train.pixels);
    let standardizer = Standardizer::fit(&raw_train, width, STD_FLOOR)?;
    Ok(RealData {
        name: format!("{label} intensities from {} (standardised per pixel)", dir.display()),
        train: standardizer.apply(&raw_train)?,
        test: standardizer.apply(&intensities(&test.pixels))?,
        width,
        image: (train.rows, train.cols),
        standardizer,
    })
}

#[derive(Serialize)]
struct EpochLine {
    epoch: usize,
    steps: u64,
    seconds: f64,
    monitor_seconds: f64,
    mean_grad_norm: f64,
    /// Mean squared error of the mean-field reconstruction (v → p(h|v) →
    /// E[v|h]) on the first test rows, standardised units.
    recon_error_test: f64,
    sigma_min: f64,
    sigma_median: f64,
    sigma_max: f64,
    exact_log_likelihood_train: Option<f64>,
    exact_log_likelihood_test: Option<f64>,
}

/// `ebm train --model gbrbm`.
pub fn train(a: &TrainArgs) -> Result<()> {
    if a.reweight.is_some() {
        return Err(Error::InvalidSequence {
            what: "--reweight",
            reason: "reweighting by similarity applies to --model potts-rbm".into(),
        });
    }
    let data = load(&a.data)?;
    super::check_chain_units(
        "--n-chains",
        a.n_chains.max(a.batch_size),
        data.width.saturating_add(a.n_hidden),
    )?;
    let mut rbm =
        GaussianRbm::init(data.width, a.n_hidden, 0.01, Some(&data.train), Seed(a.common.seed))?;
    let n_rows = data.train.len() / data.width;
    let steps_per_epoch = n_rows.div_ceil(a.batch_size.max(1)) as u64;
    let learning = crate::recipe::learning(a, steps_per_epoch)?;
    let sampler = Gibbs::block();
    match a.trainer {
        TrainerName::Cd => {
            let t = Cd { k: a.k(), sampler: sampler.clone(), learning };
            let state = t.init(&rbm)?;
            train_loop(a, &data, &mut rbm, &t, &sampler, state, steps_per_epoch)
        }
        TrainerName::Pcd => {
            let t = Pcd { n_chains: a.n_chains, k: a.k(), sampler: sampler.clone(), learning };
            let state = t.init(&rbm)?;
            train_loop(a, &data, &mut rbm, &t, &sampler, state, steps_per_epoch)
        }
    }
}

fn train_loop<T>(
    a: &TrainArgs,
    data: &RealData,
    rbm: &mut GaussianRbm,
    trainer: &T,
    sampler: &Gibbs,
    mut state: TrainState<SiteChain<f64>>,
    steps_per_epoch: u64,
) -> Result<()>
where
    T: Trainer<GaussianRbm, State = TrainState<SiteChain<f64>>, Report = StepReport>,
{
    let ckpt = super::train::checkpoint_path(&a.out);
    if a.resume {
        state = super::train::resume_checkpoint::<f64>(a, &ckpt, steps_per_epoch)?
            .restore(rbm, sampler)?;
    }
    let (nv, nh) = (data.width, a.n_hidden);
    let first_epoch = (state.step / steps_per_epoch) as usize;
    let bar = crate::progress::bar(
        (a.epochs(steps_per_epoch).saturating_sub(first_epoch) as u64) * steps_per_epoch,
        "training",
        a.common.quiet,
    );
    if !a.common.json {
        println!(
            "training a Gaussian–Bernoulli RBM {nv}×{nh} on {} ({} rows) with {:?}, k = {}, lr {}, {} epochs from epoch {first_epoch}",
            data.name,
            data.train.len() / nv,
            a.trainer,
            a.k(),
            a.lr(),
            a.epochs(steps_per_epoch)
        );
    }
    for epoch in first_epoch..a.epochs(steps_per_epoch) {
        let t0 = std::time::Instant::now();
        let mut batches =
            Batches::new(&data.train, nv, a.batch_size, Seed(a.common.seed), epoch as u64)?;
        let (mut norm_sum, mut n) = (0.0, 0);
        while let Some(batch) = batches.next_batch() {
            let r = trainer.step(rbm, &mut state, batch)?;
            norm_sum += r.grad_norm;
            n += 1;
            bar.inc(1);
            crate::interrupt::check(epoch + 1)?;
        }
        let seconds = t0.elapsed().as_secs_f64();
        let tm = std::time::Instant::now();
        let exact = (nh <= EXACT_EVERY_EPOCH)
            .then(|| {
                Ok::<_, Error>((
                    rbm.exact_mean_log_likelihood(&data.train, Beta::ONE)?,
                    rbm.exact_mean_log_likelihood(&data.test, Beta::ONE)?,
                ))
            })
            .transpose()?;
        let sigma = sorted_sigmas(rbm);
        let line = EpochLine {
            epoch: epoch + 1,
            steps: state.step,
            seconds,
            monitor_seconds: 0.0,
            mean_grad_norm: norm_sum / n.max(1) as f64,
            recon_error_test: recon_error(
                rbm,
                &data.test[..data.test.len().min(MONITOR_ROWS * nv)],
            )?,
            sigma_min: sigma[0],
            sigma_median: sigma[sigma.len() / 2],
            sigma_max: sigma[sigma.len() - 1],
            exact_log_likelihood_train: exact.map(|e| e.0),
            exact_log_likelihood_test: exact.map(|e| e.1),
        };
        let line = EpochLine { monitor_seconds: tm.elapsed().as_secs_f64(), ..line };
        // the model first: the checkpoint never runs ahead of it (see train.rs)
        save_model(rbm, a, epoch + 1)?;
        Checkpoint::capture(rbm, &state).with_config(super::train::run_config(a)).save(&ckpt)?;
        if a.common.json {
            bar.suspend(|| print_json(&line))?;
        } else {
            let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.3}"));
            bar.suspend(|| {
                println!(
                    "epoch {:>3}  {:>6.2} s (+{:.2} s monitors)  recon {:.4}  σ {:.3}…{:.3}  exact LL train {} test {}",
                    line.epoch, line.seconds, line.monitor_seconds, line.recon_error_test,
                    line.sigma_min, line.sigma_max, f(line.exact_log_likelihood_train), f(line.exact_log_likelihood_test)
                )
            });
        }
    }
    bar.finish_and_clear();
    if first_epoch >= a.epochs(steps_per_epoch) {
        // a resume of a finished run: the model is the checkpoint's
        save_model(rbm, a, first_epoch)?;
    }
    if let Some(dir) = &a.png_dir {
        pictures(rbm, data, dir, Seed(a.common.seed))?;
        if !a.common.json {
            println!("filters and samples written to {}", dir.display());
        }
    }
    if !a.common.json {
        println!("model written to {} (checkpoint {})", a.out.display(), ckpt.display());
    }
    Ok(())
}

fn sorted_sigmas(rbm: &GaussianRbm) -> Vec<f64> {
    let mut s = rbm.std_devs();
    s.sort_by(f64::total_cmp);
    s
}

/// Mean squared error per pixel of the mean-field reconstruction of `rows`.
fn recon_error(rbm: &GaussianRbm, rows: &[f64]) -> Result<f64> {
    let (nv, nh) = (rbm.n_visible(), rbm.n_hidden());
    let n = rows.len() / nv;
    let mut p = vec![0.0; n * nh];
    rbm.hidden_probs_batch(rows, Beta::ONE, &mut p)?;
    let mut back = vec![0.0; n * nv];
    rbm.visible_means_batch(&p, &mut back)?;
    let sq: f64 = rows.iter().zip(&back).map(|(a, b)| (a - b) * (a - b)).sum();
    Ok(sq / (n * nv).max(1) as f64)
}

/// `filters.png` (each hidden unit's weights, first 100) and `samples.png`:
/// 100 chains of block Gibbs from the space's reference draw, 1000 sweeps,
/// each shown as its last visible mean E[v | h] in pixel units (clipped to
/// [0, 1]).
fn pictures(rbm: &GaussianRbm, data: &RealData, dir: &Path, seed: Seed) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::Io { path: dir.display().to_string(), message: e.to_string() })?;
    let (nv, nh) = (rbm.n_visible(), rbm.n_hidden());
    let w = rbm.weights();
    let tiles: Vec<Vec<f64>> =
        (0..nh.min(100)).map(|j| (0..nv).map(|i| w[i * nh + j]).collect()).collect();
    picture::tiles(&dir.join("filters.png"), &tiles, data.image.0, data.image.1, 10, false)?;
    let gibbs = Gibbs::block();
    let chains = 100;
    let mut rngs: Vec<_> = (0..chains).map(|c| seed.stream(Purpose::SAMPLING, c)).collect();
    let mut cs = rngs
        .iter_mut()
        .map(|r| gibbs.start(rbm, &r.random_state(ebm_core::EnergyModel::space(rbm), nv + nh)))
        .collect::<Result<Vec<_>>>()?;
    for _ in 0..1000 {
        gibbs.sweep_batch(rbm, &mut cs, Beta::ONE, &mut rngs);
    }
    let hs: Vec<f64> = cs.iter().flat_map(|c| c.state()[nv..].to_vec()).collect();
    let mut means = vec![0.0; chains as usize * nv];
    rbm.visible_means_batch(&hs, &mut means)?;
    data.standardizer.invert(&mut means)?;
    let tiles: Vec<Vec<f64>> =
        means.chunks_exact(nv).map(|m| m.iter().map(|x| x.clamp(0.0, 1.0)).collect()).collect();
    picture::tiles(&dir.join("samples.png"), &tiles, data.image.0, data.image.1, 10, true)
}

fn save_model(rbm: &GaussianRbm, a: &TrainArgs, epochs_done: usize) -> Result<()> {
    let mut meta = BTreeMap::new();
    meta.insert("trainer".into(), format!("{:?}", a.trainer).to_lowercase());
    meta.insert("k".into(), a.k().to_string());
    meta.insert("epochs".into(), epochs_done.to_string());
    meta.insert("batch_size".into(), a.batch_size.to_string());
    meta.insert("learning_rate".into(), a.lr().to_string());
    meta.insert("momentum".into(), a.momentum.clone().unwrap_or("0".into()));
    meta.insert("weight_decay".into(), a.wd().to_string());
    if let Some(c) = a.clip_norm {
        meta.insert("clip_norm".into(), c.to_string());
    }
    meta.insert("lr_schedule".into(), a.lr_schedule.clone());
    meta.insert("data".into(), a.data.clone());
    meta.insert("std_floor".into(), STD_FLOOR.to_string());
    meta.insert("seed".into(), a.common.seed.to_string());
    meta.insert("n_params".into(), rbm.n_params().to_string());
    SavedModel::GaussianRbm(rbm.clone()).save(&a.out, &meta)
}

/// The exact mean log-density of `rows` under independent Gaussians fitted
/// to `train` (each pixel's mean and standard deviation, floored at 0.01 in
/// standardised units): the baseline a GB-RBM must beat.
fn independent_gaussian_log_likelihood(train: &[f64], rows: &[f64], width: usize) -> Result<f64> {
    use ebm_core::EnergyModel;
    use ebm_thermo::ais::{Base, DiagonalGaussian};
    let g = DiagonalGaussian::fit(train, width, 1e-2)?;
    let log_z = g.base_log_z(Beta::ONE);
    let n = (rows.len() / width).max(1);
    Ok(-rows.chunks_exact(width).map(|v| g.energy(v)).sum::<f64>() / n as f64 - log_z)
}

/// `ebm eval` on a Gaussian–Bernoulli RBM: AIS along the path from
/// [`GaussianBits`] fitted to the training rows (moments of each pixel, fair
/// coins for the hidden units) with block Gibbs at every step; the exact
/// ln Z beside it when n_h ≤ 20, and the independent-Gaussian baseline.
/// Log-densities are per image, in the standardised units the model sees.
pub fn eval(args: &crate::cli::EvalArgs, rbm: &GaussianRbm) -> Result<()> {
    let crate::cli::EvalArgs { model, data, split, ais_betas, ais_runs, common, .. } = args;
    let (model, ais_betas, ais_runs) = (model.as_path(), *ais_betas, *ais_runs);
    let t0 = std::time::Instant::now();
    let ds = load(data)?;
    ebm_core::check_len("data width (n_visible)", rbm.n_visible(), ds.width)?;
    let rows = ds.split(split)?;
    let base = GaussianBits::fit(&ds.train, ds.width, rbm.n_hidden(), 1e-2)?;
    let schedule = if ais_betas == 14_500 {
        Schedule::Standard
    } else {
        Schedule::StandardScaled(ais_betas.max(3))
    };
    let ta = std::time::Instant::now();
    let est = Ais::new(schedule, ais_runs)?.log_z_from(
        rbm,
        &base,
        &Gibbs::block(),
        Beta::ONE,
        Seed(common.seed),
    )?;
    let ais_seconds = ta.elapsed().as_secs_f64();
    let mut total = 0.0;
    for v in rows.chunks_exact(ds.width) {
        total -= rbm.visible_free_energy(v, Beta::ONE)?;
    }
    let n = rows.len() / ds.width;
    let marginal = total / n as f64;
    let ll = ebm_thermo::LogLikelihoodEstimate::new(marginal, &est);
    let exact_log_z = (rbm.n_hidden() <= ebm_models::gbrbm::MAX_EXACT_HIDDEN)
        .then(|| rbm.exact_log_z(Beta::ONE))
        .transpose()?;
    let out = super::logz::EvalOut {
        model: model.display().to_string(),
        data: ds.name.clone(),
        split: split.into(),
        log_z: est.log_z,
        log_z_std_err: est.std_err,
        log_z_lower: est.lower,
        log_z_upper: est.upper,
        mean_log_likelihood: ll.mean,
        mean_log_likelihood_lower: ll.lower,
        mean_log_likelihood_upper: ll.upper,
        n_examples: n,
        exact_log_z,
        exact_mean_log_likelihood: exact_log_z.map(|z| marginal - z),
        independent_site_log_likelihood: Some(independent_gaussian_log_likelihood(
            &ds.train, rows, ds.width,
        )?),
        conservative: None,
        ais_betas,
        ais_runs,
        ais_seconds,
        seconds: t0.elapsed().as_secs_f64(),
    };
    out.report(common.json)
}
