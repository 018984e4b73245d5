//! `ebm train --model potts-rbm --data msa:FILE` and `ebm eval` on the
//! result: a categorical RBM on aligned sequences, trained by CD-k or PCD
//! (block Gibbs), with the exact log-likelihood (hidden layer summed) when
//! n_h ≤ 20, the independent-site model's exact log-likelihood beside it,
//! and AIS (base-rate path) at the end and in `ebm eval`.

use super::print_json;
use crate::cli::{TrainArgs, TrainerName};
use crate::picture;
use ebm_core::{Beta, Error, LogLinear, Result, Seed, Trainer};
use ebm_data::SavedModel;
use ebm_data::msa::{Alignment, Alphabet, ReadOptions};
use ebm_models::potts_rbm::PottsRbm;
use ebm_samplers::{Gibbs, SiteChain};
use ebm_thermo::ais::{IndependentSites, Schedule};
use ebm_train::{Batches, Cd, Checkpoint, Pcd, StepReport, TrainState};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The fraction of sequences held out for testing (seeded split).
pub const TEST_FRACTION: f64 = 0.2;

/// Hidden layers up to this size get the exact log-likelihood every epoch.
const EXACT_EVERY_EPOCH: usize = 16;
/// … and up to this size at the end.
const EXACT_MAX: usize = 20;

/// An alignment split into train and test rows.
pub struct Sequences {
    /// What the user asked for.
    pub name: String,
    /// Training rows (category indices).
    pub train: Vec<u8>,
    /// Test rows.
    pub test: Vec<u8>,
    /// Positions per sequence.
    pub length: usize,
    /// Categories per position.
    pub q: usize,
    /// Similarity weights of the training and test rows, if asked for.
    pub weights: Option<(Vec<f64>, Vec<f64>)>,
}

impl Sequences {
    /// The training rows of epoch `epoch`: the training set itself (not
    /// copied), or with
    /// weights a resample of as many rows drawn with replacement ∝ weight
    /// (from `seed`'s SHUFFLE stream 2^62 + epoch).
    fn epoch_rows(&self, seed: u64, epoch: u64) -> std::borrow::Cow<'_, [u8]> {
        let Some((w, _)) = &self.weights else { return std::borrow::Cow::Borrowed(&self.train) };
        let mut cdf = Vec::with_capacity(w.len());
        let mut acc = 0.0;
        for &x in w {
            acc += x;
            cdf.push(acc);
        }
        let mut rng = Seed(seed).stream(ebm_core::Purpose::SHUFFLE, (1 << 62) + epoch);
        let n = self.length;
        let mut out = Vec::with_capacity(self.train.len());
        for _ in 0..w.len() {
            let u = ebm_core::uniform(&mut rng) * acc;
            let r = cdf.partition_point(|&c| c <= u).min(w.len() - 1);
            out.extend_from_slice(&self.train[r * n..(r + 1) * n]);
        }
        std::borrow::Cow::Owned(out)
    }
}

/// Loads `msa:FILE` (protein alphabet, 20 amino acids + gap), splits it
/// 80/20 with `seed`, and weighs each split by similarity at `reweight`.
pub fn load(spec: &str, seed: u64, reweight: Option<f64>) -> Result<Sequences> {
    let Some(path) = spec.strip_prefix("msa:") else {
        return Err(Error::InvalidSequence {
            what: "data spec",
            reason: format!(
                "`{spec}`: a categorical RBM trains on msa:FILE (an aligned FASTA file)"
            ),
        });
    };
    let msa = Alignment::load(Path::new(path), &Alphabet::protein(), &ReadOptions::default())?;
    let (train, test) = msa.split(TEST_FRACTION, Seed(seed))?;
    let weights = match reweight {
        Some(t) => Some((train.weights(t)?, test.weights(t)?)),
        None => None,
    };
    Ok(Sequences {
        weights,
        name: format!("{} ({} × {})", path, msa.n_sequences(), msa.length()),
        train: train.data().to_vec(),
        test: test.data().to_vec(),
        length: msa.length(),
        q: msa.alphabet().len(),
    })
}

/// The independent-site model's exact mean log-likelihood of `rows`
/// (weighted by `row_weights` if given), fitted to `train` (frequencies,
/// weighted by `train_weights` if given, with a pseudocount of 1 per
/// category): [`IndependentSites`].
pub fn independent_site_log_likelihood(
    train: &[u8],
    rows: &[u8],
    length: usize,
    q: usize,
    train_weights: Option<&[f64]>,
    row_weights: Option<&[f64]>,
) -> Result<f64> {
    let space = ebm_core::Categories::uniform(q, length)?;
    IndependentSites::fit_weighted(space, length, train, train_weights, 1.0)?
        .mean_log_likelihood(rows, row_weights)
}

#[derive(Serialize)]
struct EpochLine {
    epoch: usize,
    steps: u64,
    seconds: f64,
    monitor_seconds: f64,
    mean_grad_norm: f64,
    independent_site_log_likelihood_test: f64,
    /// The identity of the similarity weights, when the log-likelihoods are
    /// weighted means.
    reweight: Option<f64>,
    exact_log_likelihood_train: Option<f64>,
    exact_log_likelihood_test: Option<f64>,
    ais_log_likelihood_test: Option<f64>,
    ais_log_likelihood_test_lower: Option<f64>,
    ais_log_likelihood_test_upper: Option<f64>,
}

/// `ebm train --model potts-rbm`.
pub fn train(a: &TrainArgs) -> Result<()> {
    let data = load(&a.data, a.common.seed, a.reweight)?;
    super::check_chain_units(
        "--n-chains",
        a.n_chains.max(a.batch_size),
        data.length.saturating_add(a.n_hidden),
    )?;
    let seed = Seed(a.common.seed);
    let (nv, q) = (data.length, data.q);
    let init = PottsRbm::random(nv, a.n_hidden, q, 0.01, seed)?;
    let mut rbm =
        PottsRbm::independent_sites(&data.train, nv, a.n_hidden, q, 1.0, Some(init.weights()))?;
    let n_rows = data.train.len() / nv;
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
    data: &Sequences,
    rbm: &mut PottsRbm,
    trainer: &T,
    sampler: &Gibbs,
    mut state: TrainState<SiteChain<u8>>,
    steps_per_epoch: u64,
) -> Result<()>
where
    T: Trainer<PottsRbm, State = TrainState<SiteChain<u8>>, Report = StepReport>,
{
    let ckpt = super::train::checkpoint_path(&a.out);
    if a.resume {
        state = super::train::resume_checkpoint::<u8>(a, &ckpt, steps_per_epoch)?
            .restore(rbm, sampler)?;
    }
    let (nv, nh, q) = (data.length, a.n_hidden, data.q);
    let (w_train, w_test) = match &data.weights {
        Some((a, b)) => (Some(a.as_slice()), Some(b.as_slice())),
        None => (None, None),
    };
    let independent =
        independent_site_log_likelihood(&data.train, &data.test, nv, q, w_train, w_test)?;
    let first_epoch = (state.step / steps_per_epoch) as usize;
    let bar = crate::progress::bar(
        (a.epochs(steps_per_epoch).saturating_sub(first_epoch) as u64) * steps_per_epoch,
        "training",
        a.common.quiet,
    );
    if !a.common.json {
        println!(
            "training a categorical RBM {nv}×{q} → {nh} on {} with {:?}, k = {}, {} epochs from epoch {first_epoch}; independent-site test LL {independent:.4}",
            data.name,
            a.trainer,
            a.k(),
            a.epochs(steps_per_epoch)
        );
    }
    for epoch in first_epoch..a.epochs(steps_per_epoch) {
        let t0 = std::time::Instant::now();
        let rows = data.epoch_rows(a.common.seed, epoch as u64);
        let mut batches = Batches::new(&rows, nv, a.batch_size, Seed(a.common.seed), epoch as u64)?;
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
        let last = epoch + 1 == a.epochs(steps_per_epoch);
        let exact = (nh <= EXACT_EVERY_EPOCH || (last && nh <= EXACT_MAX))
            .then(|| rbm.exact_log_z(Beta::ONE))
            .transpose()?;
        let ll = |rows: &[u8], w: Option<&[f64]>, z: f64| {
            rbm.mean_log_marginal(rows, w, Beta::ONE).map(|m| m - z)
        };
        let ais = if last {
            let base = rbm.base_fields(&data.train, 1.0)?;
            let est = rbm.ais_log_z(
                Some(&base),
                Beta::ONE,
                &Schedule::Linear(2000),
                64,
                Seed(a.common.seed),
            )?;
            Some(rbm.ais_log_likelihood(&data.test, w_test, &est, Beta::ONE)?)
        } else {
            None
        };
        let line = EpochLine {
            epoch: epoch + 1,
            steps: state.step,
            seconds,
            monitor_seconds: 0.0,
            mean_grad_norm: norm_sum / n.max(1) as f64,
            independent_site_log_likelihood_test: independent,
            exact_log_likelihood_train: exact.map(|z| ll(&data.train, w_train, z)).transpose()?,
            exact_log_likelihood_test: exact.map(|z| ll(&data.test, w_test, z)).transpose()?,
            reweight: a.reweight,
            ais_log_likelihood_test: ais.map(|e| e.mean),
            ais_log_likelihood_test_lower: ais.map(|e| e.lower),
            ais_log_likelihood_test_upper: ais.map(|e| e.upper),
        };
        let line = EpochLine { monitor_seconds: tm.elapsed().as_secs_f64(), ..line };
        // the model first: the checkpoint never runs ahead of it (see train.rs)
        save_model(rbm, a, epoch + 1)?;
        Checkpoint::capture(rbm, &state).with_config(super::train::run_config(a)).save(&ckpt)?;
        if a.common.json {
            bar.suspend(|| print_json(&line))?;
        } else {
            let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.4}"));
            bar.suspend(|| {
                println!(
                    "epoch {:>3}  {:>6.2} s (+{:.2} s monitors)  exact LL train {} test {}  AIS test {}  (independent sites {:.4})",
                    line.epoch, line.seconds, line.monitor_seconds, f(line.exact_log_likelihood_train),
                    f(line.exact_log_likelihood_test), f(line.ais_log_likelihood_test), independent
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
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Io { path: dir.display().to_string(), message: e.to_string() })?;
        // one tile per hidden unit: q rows (categories) × n_v columns (positions)
        let w = rbm.weights();
        let tiles: Vec<Vec<f64>> = (0..nh.min(100))
            .map(|j| {
                (0..q)
                    .flat_map(|k| (0..nv).map(move |i| (i, k)))
                    .map(|(i, k)| w[(i * q + k) * nh + j])
                    .collect()
            })
            .collect();
        picture::tiles(&dir.join("filters.png"), &tiles, q, nv, 10, false)?;
        if !a.common.json {
            println!(
                "filters (one tile per hidden unit: categories × positions) written to {}",
                dir.display()
            );
        }
    }
    if !a.common.json {
        println!("model written to {} (checkpoint {})", a.out.display(), ckpt.display());
    }
    Ok(())
}

fn save_model(rbm: &PottsRbm, a: &TrainArgs, epochs_done: usize) -> Result<()> {
    let mut meta = BTreeMap::new();
    meta.insert("trainer".into(), format!("{:?}", a.trainer).to_lowercase());
    meta.insert("k".into(), a.k().to_string());
    meta.insert("epochs".into(), epochs_done.to_string());
    meta.insert("batch_size".into(), a.batch_size.to_string());
    meta.insert("learning_rate".into(), a.lr().to_string());
    meta.insert("weight_decay".into(), a.wd().to_string());
    meta.insert("lr_schedule".into(), a.lr_schedule.clone());
    meta.insert("data".into(), a.data.clone());
    meta.insert("seed".into(), a.common.seed.to_string());
    meta.insert("n_params".into(), rbm.n_params().to_string());
    SavedModel::PottsRbm(rbm.clone()).save(&a.out, &meta)
}

/// `ebm eval` on a categorical RBM.
pub fn eval(args: &crate::cli::EvalArgs, rbm: &PottsRbm) -> Result<()> {
    let crate::cli::EvalArgs { model, data, split, ais_betas, ais_runs, common, .. } = args;
    let (model, ais_betas, ais_runs) = (model.as_path(), *ais_betas, *ais_runs);
    let t0 = std::time::Instant::now();
    let ds = load(data, common.seed, None)?;
    ebm_core::check_len("sequence length (n_visible)", rbm.n_visible_units(), ds.length)?;
    let rows: &[u8] = match split.as_str() {
        "train" => &ds.train,
        "test" => &ds.test,
        other => {
            return Err(Error::InvalidSequence {
                what: "split",
                reason: format!("`{other}` (train or test)"),
            });
        }
    };
    let base = rbm.base_fields(&ds.train, 1.0)?;
    let ta = std::time::Instant::now();
    let est = rbm.ais_log_z(
        Some(&base),
        Beta::ONE,
        &Schedule::Linear(ais_betas.max(1)),
        ais_runs,
        Seed(common.seed),
    )?;
    let ais_seconds = ta.elapsed().as_secs_f64();
    let ll = rbm.ais_log_likelihood(rows, None, &est, Beta::ONE)?;
    let exact_log_z =
        (rbm.n_hidden() <= EXACT_MAX).then(|| rbm.exact_log_z(Beta::ONE)).transpose()?;
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
        n_examples: rows.len() / ds.length,
        exact_log_z,
        exact_mean_log_likelihood: exact_log_z.map(|z| ll.mean + est.log_z - z),
        independent_site_log_likelihood: Some(independent_site_log_likelihood(
            &ds.train, rows, ds.length, ds.q, None, None,
        )?),
        conservative: None,
        ais_betas,
        ais_runs,
        ais_seconds,
        seconds: t0.elapsed().as_secs_f64(),
    };
    out.report(common.json)
}
