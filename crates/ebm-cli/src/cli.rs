//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Energy-based models with exact statistical mechanics.
#[derive(Debug, Parser)]
#[command(name = "ebm", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Print one JSON object on stdout instead of human text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Master seed of every random stream.
    #[arg(long, default_value_t = 0, global = true)]
    pub seed: u64,
    /// Hide progress bars.
    #[arg(long, global = true)]
    pub quiet: bool,
}

/// The model: `ising:L`, `ising:LxM`, `ising:LxMxK`, or the q-state Potts
/// `potts:Q:L`, `potts:Q:LxM`, `potts:Q:LxMxK` (periodic; append `:open` for
/// open boundaries) with `--coupling` and `--field` (for Potts the field acts
/// on value 0), or a saved model file.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// Model spec or saved model file.
    #[arg(long)]
    pub model: String,
    /// Coupling J (Ising or Potts).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub coupling: f64,
    /// Field h (Ising; for Potts, on value 0).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub field: f64,
}

/// Sampler names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SamplerName {
    /// Sequential heat-bath Gibbs.
    Gibbs,
    /// Block Gibbs over the model's blocks (checkerboard, bipartite layers).
    BlockGibbs,
    /// Single-flip Metropolis over the model's blocks (the checkerboard
    /// kernel on a uniform periodic lattice).
    Metropolis,
    /// Single-flip Metropolis, random scan (mixes better at tiny β).
    MetropolisRandom,
    /// Parallel tempering over block Gibbs (XY: over the heat bath).
    Tempering,
    /// Wolff single-cluster moves (Ising and Potts; one sweep = n_c
    /// clusters, n_c = N/⟨|C|⟩ fixed after the warm-up).
    Wolff,
    /// Swendsen–Wang cluster moves (Ising and Potts; one sweep = one
    /// update of every cluster).
    #[value(alias = "sw")]
    SwendsenWang,
    /// Ising spin glasses (`glass:LxM`): two replicas, each on its own
    /// tempering ladder (`--n-replicas` rungs from `--beta-min`), Metropolis
    /// sweeps and Houdayer's two-replica cluster move; reports the overlap.
    Houdayer,
    /// XY: the von Mises heat bath followed by two overrelaxation sweeps.
    Overrelaxation,
    /// XY: Hamiltonian Monte Carlo on the torus (10 leapfrog steps, the
    /// step adapted to acceptance 0.75 during warm-up).
    Hmc,
}

/// ln Z estimators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogZMethod {
    /// Annealed importance sampling.
    Ais,
    /// Thermodynamic integration.
    Ti,
}

/// Trainers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TrainerName {
    /// CD-k.
    Cd,
    /// Persistent CD.
    Pcd,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Exact thermodynamics by enumeration (up to 32 units).
    Exact {
        #[command(flatten)]
        model: ModelArgs,
        /// Inverse temperature β.
        #[arg(long, allow_negative_numbers = true)]
        beta: f64,
        #[command(flatten)]
        common: Common,
    },
    /// Markov-chain sampling with error bars.
    Sample {
        #[command(flatten)]
        model: ModelArgs,
        /// Inverse temperature β.
        #[arg(long, allow_negative_numbers = true)]
        beta: f64,
        /// Sampler.
        #[arg(long, value_enum, default_value = "block-gibbs")]
        sampler: SamplerName,
        /// Independent chains.
        #[arg(long, default_value_t = 4, value_parser = count::<1, 1000000>, allow_negative_numbers = true)]
        n_chains: usize,
        /// Recorded sweeps per chain.
        #[arg(long, default_value_t = 2000, value_parser = count::<1, 1000000000>, allow_negative_numbers = true)]
        n_sweeps: usize,
        /// Discarded sweeps per chain.
        #[arg(long, default_value_t = 200, value_parser = count::<0, 1000000000>, allow_negative_numbers = true)]
        n_warmup: usize,
        /// Replicas for `--sampler tempering` (rungs per copy for `houdayer`).
        #[arg(long, default_value_t = 8, value_parser = count::<2, 1024>, allow_negative_numbers = true)]
        n_replicas: usize,
        /// The hottest rung of `tempering` and `houdayer` (default 0.3 β).
        #[arg(long, allow_negative_numbers = true)]
        beta_min: Option<f64>,
        /// Write a picture of chain 0's final configuration.
        #[arg(long)]
        png: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Finite-size scaling: `ebm sample` at every (model, β) point, each an
    /// independent, resumable job; JSON lines, Binder/χ/C/ξ charts and the
    /// Binder crossings of consecutive sizes.
    Scan {
        /// Model specs, comma-separated (one per size), e.g.
        /// `ising:16x16,ising:32x32,ising:64x64`.
        #[command(flatten)]
        model: ModelArgs,
        /// The β grid `A:B:N` (N values from A to B).
        #[arg(long)]
        beta: String,
        /// Sampler.
        #[arg(long, value_enum, default_value = "wolff")]
        sampler: SamplerName,
        /// Independent chains per point.
        #[arg(long, default_value_t = 4, value_parser = count::<1, 1000000>, allow_negative_numbers = true)]
        n_chains: usize,
        /// Recorded sweeps per chain.
        #[arg(long, default_value_t = 2000, value_parser = count::<2, 1000000000>, allow_negative_numbers = true)]
        n_sweeps: usize,
        /// Discarded sweeps per chain.
        #[arg(long, default_value_t = 200, value_parser = count::<0, 1000000000>, allow_negative_numbers = true)]
        n_warmup: usize,
        /// Replicas for `--sampler tempering`.
        #[arg(long, default_value_t = 8, value_parser = count::<2, 1024>, allow_negative_numbers = true)]
        n_replicas: usize,
        /// The JSON-lines file of finished points (appended; a rerun skips them).
        #[arg(long)]
        out: PathBuf,
        /// This job's index (runs the points p with p mod --jobs = --job).
        #[arg(long, default_value_t = 0, value_parser = count::<0, 1000000>)]
        job: usize,
        /// The number of jobs the scan is split into.
        #[arg(long, default_value_t = 1, value_parser = count::<1, 1000000>)]
        jobs: usize,
        /// Write binder.png, susceptibility.png, … here.
        #[arg(long)]
        png_dir: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Estimate ln Z (annealed importance sampling or thermodynamic integration).
    Logz {
        #[command(flatten)]
        model: ModelArgs,
        /// Inverse temperature β.
        #[arg(long, allow_negative_numbers = true)]
        beta: f64,
        /// Estimator.
        #[arg(long, value_enum, default_value = "ais")]
        method: LogZMethod,
        /// Intermediate inverse temperatures (AIS) or quadrature nodes (TI).
        #[arg(long, default_value_t = 1000, value_parser = count::<1, 10000000>, allow_negative_numbers = true)]
        n_betas: usize,
        /// Independent runs (AIS) or chains per node (TI).
        #[arg(long, default_value_t = 64, value_parser = count::<1, 1000000>, allow_negative_numbers = true)]
        n_runs: usize,
        #[command(flatten)]
        common: Common,
    },
    /// Train an RBM.
    Train(TrainArgs),
    /// Evaluate a saved RBM: ln Z by AIS and the mean log-likelihood.
    Eval {
        /// Saved model file.
        #[arg(long)]
        model: PathBuf,
        /// Data: `mnist:DIR`, `bars-and-stripes:N`, `default`, or (potts-rbm)
        /// `msa:FILE`.
        #[arg(long, default_value = "default")]
        data: String,
        /// Which split of the data.
        #[arg(long, default_value = "test")]
        split: String,
        /// AIS intermediate inverse temperatures.
        #[arg(long, default_value_t = 14_500, value_parser = count::<3, 100000000>, allow_negative_numbers = true)]
        ais_betas: usize,
        /// AIS runs.
        #[arg(long, default_value_t = 100, value_parser = count::<1, 1000000>, allow_negative_numbers = true)]
        ais_runs: usize,
        /// Data rows RAISE starts reverse runs from (spread evenly through
        /// the split; all rows when there are fewer), on the AIS schedule:
        /// the conservative estimate of the log-likelihood, from below.
        /// 0 skips it. Binary RBMs only.
        #[arg(long, default_value_t = 500, value_parser = count::<0, 100000000>, allow_negative_numbers = true)]
        raise_points: usize,
        /// RAISE runs per data row.
        #[arg(long, default_value_t = 1, value_parser = count::<1, 1000000>, allow_negative_numbers = true)]
        raise_runs: usize,
        #[command(flatten)]
        common: Common,
    },
    /// The guided tour: exact vs sampled Ising thermodynamics, an RBM trained
    /// on the embedded data, AIS against exact ln Z, pictures.
    Demo {
        /// Folder for the pictures.
        #[arg(long, default_value = "ebm-demo")]
        out: PathBuf,
        #[command(flatten)]
        common: Common,
    },
}

/// `ebm train` arguments.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Model kind: `rbm` (binary data), `potts-rbm` (a categorical RBM on
    /// `--data msa:FILE`, an aligned FASTA file; 80/20 seeded split) or
    /// `gbrbm` (a Gaussian–Bernoulli RBM on `--data mnist-real:DIR` or
    /// `fashion-real:DIR`: intensities standardised per pixel).
    #[arg(long, default_value = "rbm")]
    pub model: String,
    /// Hidden units.
    #[arg(long, default_value_t = 64, value_parser = count::<1, 1000000>, allow_negative_numbers = true)]
    pub n_hidden: usize,
    /// Data: `mnist:DIR`, `bars-and-stripes:N`, `default`, (potts-rbm)
    /// `msa:FILE`, or (gbrbm) `mnist-real:DIR`, `fashion-real:DIR`.
    #[arg(long, default_value = "default")]
    pub data: String,
    /// Trainer.
    #[arg(long, value_enum, default_value = "pcd")]
    pub trainer: TrainerName,
    /// Sweeps per step (the k of CD-k).
    #[arg(long, default_value_t = 1, value_parser = count::<1, 1000000>, allow_negative_numbers = true)]
    pub k: usize,
    /// Persistent chains (PCD).
    #[arg(long, default_value_t = 100, value_parser = count::<1, 1000000>, allow_negative_numbers = true)]
    pub n_chains: usize,
    /// Epochs.
    #[arg(long, default_value_t = 10, value_parser = count::<1, 1000000>, allow_negative_numbers = true)]
    pub epochs: usize,
    /// Mini-batch size.
    #[arg(long, default_value_t = 100, value_parser = count::<1, 16777216>, allow_negative_numbers = true)]
    pub batch_size: usize,
    /// Learning rate (default 0.05; gbrbm 0.001).
    #[arg(long, allow_negative_numbers = true)]
    pub learning_rate: Option<f64>,
    /// Constant momentum (default: Hinton's 0.5 → 0.9 over five epochs;
    /// gbrbm 0).
    #[arg(long, allow_negative_numbers = true)]
    pub momentum: Option<f64>,
    /// Clip each step's gradient to this Euclidean norm.
    #[arg(long, allow_negative_numbers = true)]
    pub clip_norm: Option<f64>,
    /// potts-rbm: reweight sequences by similarity, weight 1/#neighbours at
    /// this identity (0.8 is the usual choice), computed within each split:
    /// every epoch trains on a weighted resample of the training set, and
    /// the log-likelihoods reported are weighted means.
    #[arg(long, allow_negative_numbers = true)]
    pub reweight: Option<f64>,
    /// Decay the learning rate as η / (1 + epoch / E) with this E (in
    /// epochs); constant when absent.
    #[arg(long, allow_negative_numbers = true)]
    pub lr_decay_epochs: Option<f64>,
    /// Weight cost on the couplings (default 2e-4; gbrbm 0).
    #[arg(long, allow_negative_numbers = true)]
    pub weight_decay: Option<f64>,
    /// Output model file (a checkpoint is written next to it as FILE.ckpt).
    #[arg(long)]
    pub out: PathBuf,
    /// Resume from FILE.ckpt.
    #[arg(long)]
    pub resume: bool,
    /// Write weight filters and training curves as PNGs into this folder.
    #[arg(long)]
    pub png_dir: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

impl TrainArgs {
    /// The learning rate: the flag, or the model's default (0.001 for a
    /// Gaussian–Bernoulli RBM, whose real units need small steps; 0.05 else).
    pub fn lr(&self) -> f64 {
        self.learning_rate.unwrap_or(if self.model == "gbrbm" { 1e-3 } else { 0.05 })
    }
    /// The weight cost: the flag, or 0 (gbrbm) / 2e-4.
    pub fn wd(&self) -> f64 {
        self.weight_decay.unwrap_or(if self.model == "gbrbm" { 0.0 } else { 2e-4 })
    }
}

/// A count flag's value: a whole number in `MIN..=MAX`. Negative numbers
/// reach this check (the flags allow them) and get the range message, not
/// "unexpected argument"; the bounds keep every count from overflowing an
/// allocation or running for years.
fn count<const MIN: usize, const MAX: usize>(s: &str) -> Result<usize, String> {
    let out_of_range = || format!("must be a whole number from {MIN} to {MAX}");
    match s.trim().parse::<i128>() {
        Ok(v) if (MIN as i128..=MAX as i128).contains(&v) => Ok(v as usize),
        _ => Err(out_of_range()),
    }
}
