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
    Train(Box<TrainArgs>),
    /// Evaluate a saved RBM: ln Z by AIS and the mean log-likelihood.
    Eval(Box<EvalArgs>),
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
    /// Data: `mnist:DIR`, `fashion:DIR` (binarised, see --binarize),
    /// `bars-and-stripes:N`, `default`, (potts-rbm) `msa:FILE`, or (gbrbm)
    /// `mnist-real:DIR`, `fashion-real:DIR`.
    #[arg(long, default_value = "default")]
    pub data: String,
    /// Trainer.
    #[arg(long, value_enum, default_value = "pcd")]
    pub trainer: TrainerName,
    /// Sweeps per step (the k of CD-k; default: PCD on an rbm 10, else 1).
    #[arg(long = "k", value_parser = count::<1, 1000000>, allow_negative_numbers = true)]
    pub k_flag: Option<usize>,
    /// Persistent chains (PCD).
    #[arg(long, default_value_t = 100, value_parser = count::<1, 1000000>, allow_negative_numbers = true)]
    pub n_chains: usize,
    /// Epochs (default: RBMs enough for 5000 steps and at least 10
    /// epochs; the other kinds 10).
    #[arg(long = "epochs", value_parser = count::<1, 1000000>, allow_negative_numbers = true)]
    pub epochs_flag: Option<usize>,
    /// Mini-batch size.
    #[arg(long, default_value_t = 100, value_parser = count::<1, 16777216>, allow_negative_numbers = true)]
    pub batch_size: usize,
    /// Learning rate (default 0.05; gbrbm 0.001).
    #[arg(long, allow_negative_numbers = true)]
    pub learning_rate: Option<f64>,
    /// Learning-rate schedule over epochs: `constant`, `inverse:E`
    /// (η / (1 + epoch / E)), `exponential:G` (η · G^epoch) or `steps:F:E`
    /// (η · F every E epochs).
    #[arg(long, default_value = "constant")]
    pub lr_schedule: String,
    /// Momentum: constant `M`, or `A:B:E` (A for the first E epochs, then B;
    /// Hinton's guide is 0.5:0.9:5). Default: rbm 0.5, potts-rbm 0.5:0.9:5,
    /// gbrbm 0.
    #[arg(long)]
    pub momentum: Option<String>,
    /// Negative-phase sampler (rbm): `block-gibbs` (both layers in turn:
    /// the RBM's batched kernel), `gibbs` (unit by unit), `metropolis`, or
    /// `tempering` (parallel tempering over block Gibbs on the ladder of
    /// `--n-replicas` and `--beta-min`, or `--betas`). Default:
    /// block-gibbs.
    #[arg(long, value_enum)]
    pub sampler: Option<SamplerName>,
    /// Tempering: rungs of the geometric ladder.
    #[arg(long, default_value_t = 8, value_parser = count::<2, 1000>, allow_negative_numbers = true)]
    pub n_replicas: usize,
    /// Tempering: the ladder's lowest β, as a fraction of the target β.
    #[arg(long, default_value_t = 0.4, allow_negative_numbers = true)]
    pub beta_min: f64,
    /// Tempering: explicit β fractions, increasing, ending at 1 (replaces
    /// `--n-replicas` and `--beta-min`).
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    pub betas: Option<Vec<f64>>,
    /// Centred gradients (Melchior, Fischer & Wiskott 2016; rbm): visible
    /// and hidden offsets follow the data's means with this sliding factor;
    /// `0` turns centring off. Default (rbm): 0.01.
    #[arg(long, allow_negative_numbers = true)]
    pub centring: Option<f64>,
    /// Binarisation of MNIST-like images (rbm): `stochastic[:SEED]` (each
    /// pixel on with probability intensity/255, drawn once from SEED, 0 by
    /// default: Salakhutdinov & Murray 2008) or `threshold[:T]` (on when
    /// intensity/255 ≥ T, 0.5 by default).
    #[arg(long, default_value = "stochastic")]
    pub binarize: String,
    /// Write the model and checkpoint every N epochs and after the last
    /// (default: every ⌈epochs / 20⌉-th, so about 20 times in a run; a
    /// signal writes those of the last finished epoch before stopping).
    #[arg(long, value_parser = count::<1, 1000000>, allow_negative_numbers = true)]
    pub checkpoint_every: Option<usize>,
    /// Report an epoch line (monitors, exact or AIS log-likelihood) every N
    /// epochs and after the last (default as for --checkpoint-every).
    #[arg(long, value_parser = count::<1, 1000000>, allow_negative_numbers = true)]
    pub log_every: Option<usize>,
    /// Estimate the test log-likelihood by AIS (`--ll-betas` β × 16 runs, on
    /// the first 1000 test rows) every N epochs when exact ln Z is too dear:
    /// the learning curve, in the epoch lines and `log_likelihood.png`.
    #[arg(long, value_parser = count::<1, 1000000>, allow_negative_numbers = true)]
    pub ll_every: Option<usize>,
    /// AIS intermediate β of the learning curve.
    #[arg(long, default_value_t = 1000, value_parser = count::<3, 100000000>, allow_negative_numbers = true)]
    pub ll_betas: usize,
    /// Clip each step's gradient to this Euclidean norm.
    #[arg(long, allow_negative_numbers = true)]
    pub clip_norm: Option<f64>,
    /// potts-rbm: reweight sequences by similarity, weight 1/#neighbours at
    /// this identity (0.8 is the usual choice), computed within each split:
    /// every epoch trains on a weighted resample of the training set, and
    /// the log-likelihoods reported are weighted means.
    #[arg(long, allow_negative_numbers = true)]
    pub reweight: Option<f64>,
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
    /// Sweeps per step: the flag, or 10 for PCD on a binary RBM (the
    /// default recipe), 1 else.
    pub fn k(&self) -> usize {
        let pcd_rbm = self.model == "rbm" && self.trainer == TrainerName::Pcd;
        self.k_flag.unwrap_or(if pcd_rbm { 10 } else { 1 })
    }
    /// The epochs: the flag, or for an RBM enough for
    /// [`crate::recipe::DEFAULT_STEPS`] steps and at least 10 (10 for the
    /// other kinds).
    pub fn epochs(&self, steps_per_epoch: u64) -> usize {
        self.epochs_flag.unwrap_or(if self.model == "rbm" {
            (crate::recipe::DEFAULT_STEPS.div_ceil(steps_per_epoch.max(1)) as usize).max(10)
        } else {
            10
        })
    }
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

/// The flags of `ebm eval`, shared by the binary, Gaussian–Bernoulli and
/// categorical RBM evaluations.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Saved model file.
    #[arg(long)]
    pub model: PathBuf,
    /// Data: `mnist:DIR`, `fashion:DIR`, `bars-and-stripes:N`, `default`,
    /// or (potts-rbm) `msa:FILE`.
    #[arg(long, default_value = "default")]
    pub data: String,
    /// Which split of the data.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Binarisation of MNIST-like images, as for `ebm train` (default:
    /// the one the model was trained with, recorded in its file).
    #[arg(long)]
    pub binarize: Option<String>,
    /// AIS intermediate inverse temperatures.
    #[arg(long, default_value_t = 14_500, value_parser = count::<3, 100000000>, allow_negative_numbers = true)]
    pub ais_betas: usize,
    /// AIS runs.
    #[arg(long, default_value_t = 100, value_parser = count::<1, 1000000>, allow_negative_numbers = true)]
    pub ais_runs: usize,
    /// Data rows RAISE starts reverse runs from (spread evenly through
    /// the split; all rows when there are fewer), on the AIS schedule:
    /// the conservative estimate of the log-likelihood, from below.
    /// 0 skips it. Binary RBMs only.
    #[arg(long, default_value_t = 500, value_parser = count::<0, 100000000>, allow_negative_numbers = true)]
    pub raise_points: usize,
    /// RAISE runs per data row.
    #[arg(long, default_value_t = 1, value_parser = count::<1, 1000000>, allow_negative_numbers = true)]
    pub raise_runs: usize,
    #[command(flatten)]
    pub common: Common,
}
