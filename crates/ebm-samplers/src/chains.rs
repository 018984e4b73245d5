//! Many chains in parallel, reproducibly.
//!
//! Chain c draws every random number from `seed.stream(Purpose::SAMPLING, c)`
//! (its initial state too), chains run on rayon's pool, and results are
//! gathered in chain order: the output is bit-identical for any number of
//! threads. The streams travel with the chains ([`Running`]), so a run can be
//! continued, or checkpointed through [`ebm_core::ChainRng::position`].

use ebm_core::{Beta, Chain, ChainRng, EnergyModel, Error, Purpose, Result, Sampler, Seed, UnitOf};
use rayon::prelude::*;

/// How many chains, how long, how often to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainsConfig {
    /// Number of independent chains (≥ 1).
    pub n_chains: usize,
    /// Sweeps discarded at the start of each chain.
    pub n_warmup: usize,
    /// Recorded sweeps per chain (after warm-up).
    pub n_sweeps: usize,
    /// Record every `thin`-th sweep (≥ 1).
    pub thin: usize,
    /// Master seed; chain c uses stream (seed, SAMPLING, c).
    pub seed: Seed,
}

impl ChainsConfig {
    /// Checks the counts.
    pub fn validate(&self) -> Result<()> {
        if self.n_chains == 0 {
            return Err(Error::InvalidParameter {
                name: "n_chains", value: 0.0, expected: "≥ 1"
            });
        }
        if self.thin == 0 {
            return Err(Error::InvalidParameter { name: "thin", value: 0.0, expected: "≥ 1" });
        }
        Ok(())
    }

    /// Samples recorded per chain: ⌊n_sweeps / thin⌋.
    pub fn n_samples(&self) -> usize {
        self.n_sweeps / self.thin.max(1)
    }
}

/// Where chains start; `U` is the unit type (`i8` binary, `u8` categorical).
#[derive(Debug, Clone, PartialEq)]
pub enum Init<U = i8> {
    /// A draw from the model's state space (uniform over a finite space;
    /// [`ebm_core::StateSpace::draw`]), from the chain's own stream.
    Uniform,
    /// Every chain at this configuration.
    State(Vec<U>),
    /// Chain c at `states[c]` (one per chain).
    States(Vec<Vec<U>>),
}

/// Chains with their random streams, ready to run.
#[derive(Debug, Clone)]
pub struct Running<C> {
    /// The chains, in index order.
    pub chains: Vec<C>,
    /// Each chain's stream.
    pub rngs: Vec<ChainRng>,
}

/// Recorded observables: `values[(c · n_samples + t) · n_observables + k]` is
/// observable k of chain c at sample t. Equality compares everything but the
/// timings.
#[derive(Debug, Clone)]
pub struct Traces {
    /// Number of chains.
    pub n_chains: usize,
    /// Samples per chain.
    pub n_samples: usize,
    /// Observables per sample.
    pub n_observables: usize,
    /// The values, chain-major.
    pub values: Vec<f64>,
    /// Each chain's acceptance rate at the end, if its sampler counts one.
    pub acceptance: Vec<Option<f64>>,
    /// Wall-clock seconds of the run (sweeps and observations).
    pub seconds: f64,
    /// Seconds spent inside `Sampler::sweep`, summed over chains (observing
    /// excluded): with one chain at a time, the wall time of the sweeps.
    pub sweep_seconds: f64,
}

impl PartialEq for Traces {
    fn eq(&self, other: &Self) -> bool {
        self.n_chains == other.n_chains
            && self.n_samples == other.n_samples
            && self.n_observables == other.n_observables
            && self.values == other.values
            && self.acceptance == other.acceptance
    }
}

impl Traces {
    /// The series of observable `k` for chain `c`.
    pub fn series(&self, c: usize, k: usize) -> Vec<f64> {
        let start = c * self.n_samples * self.n_observables;
        (0..self.n_samples).map(|t| self.values[start + t * self.n_observables + k]).collect()
    }

    /// The series of observable `k`, one vector per chain.
    pub fn chains(&self, k: usize) -> Vec<Vec<f64>> {
        (0..self.n_chains).map(|c| self.series(c, k)).collect()
    }

    /// Mean acceptance rate over chains that report one.
    pub fn acceptance_rate(&self) -> Option<f64> {
        let rates: Vec<f64> = self.acceptance.iter().flatten().copied().collect();
        (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64)
    }
}

/// Starts `config.n_chains` chains of `sampler` on `model` from `init`.
pub fn start_chains<M, S>(
    model: &M,
    sampler: &S,
    config: &ChainsConfig,
    init: &Init<UnitOf<M>>,
) -> Result<Running<S::Chain>>
where
    M: EnergyModel + ?Sized,
    S: Sampler<M>,
{
    config.validate()?;
    if let Init::States(states) = init {
        ebm_core::check_len("initial states", config.n_chains, states.len())?;
    }
    let (space, n) = (model.space(), model.n_units());
    let started: Vec<Result<(S::Chain, ChainRng)>> = (0..config.n_chains)
        .into_par_iter()
        .map(|c| {
            let mut rng = config.seed.stream(Purpose::SAMPLING, c as u64);
            let x0 = match init {
                Init::Uniform => rng.random_state(space, n),
                Init::State(x) => x.clone(),
                Init::States(xs) => xs[c].clone(),
            };
            Ok((sampler.start(model, &x0)?, rng))
        })
        .collect();
    let (mut chains, mut rngs) = (Vec::with_capacity(config.n_chains), Vec::new());
    for r in started {
        let (c, g) = r?;
        chains.push(c);
        rngs.push(g);
    }
    Ok(Running { chains, rngs })
}

/// How long to run and what to record in [`advance`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recording {
    /// Sweeps to run.
    pub n_sweeps: usize,
    /// Record every `thin`-th sweep (0 is read as 1).
    pub thin: usize,
    /// Values written by the observer per record.
    pub n_observables: usize,
}

/// Runs every chain for `rec.n_sweeps` sweeps at `beta`, recording
/// `observe(model, state, out)` (`rec.n_observables` values) every `rec.thin`
/// sweeps.
pub fn advance<M, S, O>(
    model: &M,
    sampler: &S,
    beta: Beta,
    running: &mut Running<S::Chain>,
    rec: Recording,
    observe: &O,
) -> Traces
where
    M: EnergyModel + ?Sized,
    S: Sampler<M>,
    O: Fn(&M, &[UnitOf<M>], &mut [f64]) + Sync,
{
    advance_reporting(model, sampler, beta, running, rec, observe, &|_| {})
}

/// Models with fewer units than this are not kept awake for: their sweeps
/// do not fork (Swendsen–Wang's stripes start at 2 × 2048 sites, the lattice
/// kernels at 2^14), and polling would only take CPU time from whatever
/// else runs.
const FORKING_UNITS: usize = 2 * crate::cluster::STRIPE_SITES;

/// [`advance`], calling `progress(1)` after every sweep of every chain (from
/// the worker threads; e.g. a progress bar's `inc`).
fn advance_reporting<M, S, O, P>(
    model: &M,
    sampler: &S,
    beta: Beta,
    running: &mut Running<S::Chain>,
    rec: Recording,
    observe: &O,
    progress: &P,
) -> Traces
where
    M: EnergyModel + ?Sized,
    S: Sampler<M>,
    O: Fn(&M, &[UnitOf<M>], &mut [f64]) + Sync,
    P: Fn(u64) + Sync,
{
    let Recording { n_sweeps, thin, n_observables } = rec;
    let thin = thin.max(1);
    let n_samples = n_sweeps / thin;
    let t0 = std::time::Instant::now();
    let n_chains = running.chains.len();
    let (chains, rngs) = (&mut running.chains, &mut running.rngs);
    // fewer chains than threads on a model large enough for a sweep to fork:
    // keep the spare workers awake for the forks (see `ebm_parallel`)
    let busy = if model.n_units() >= FORKING_UNITS { n_chains } else { usize::MAX };
    let per_chain: Vec<(Vec<f64>, f64)> = ebm_parallel::with_workers_awake(busy, || {
        chains
            .par_iter_mut()
            .zip(rngs.par_iter_mut())
            .map(|(chain, rng)| {
                let mut vals = vec![0.0; n_samples * n_observables];
                let mut in_sweeps = std::time::Duration::ZERO;
                let mut timed_sweep = |chain: &mut S::Chain, rng: &mut ChainRng| {
                    let t = std::time::Instant::now();
                    sampler.sweep(model, chain, beta, rng);
                    in_sweeps += t.elapsed();
                };
                for t in 0..n_samples * thin {
                    timed_sweep(chain, rng);
                    progress(1);
                    if (t + 1) % thin == 0 {
                        let s = (t + 1) / thin - 1;
                        observe(
                            model,
                            chain.state(),
                            &mut vals[s * n_observables..(s + 1) * n_observables],
                        );
                    }
                }
                for _ in n_samples * thin..n_sweeps {
                    timed_sweep(chain, rng);
                    progress(1);
                }
                (vals, in_sweeps.as_secs_f64())
            })
            .collect()
    });
    let seconds = t0.elapsed().as_secs_f64();
    Traces {
        n_chains: running.chains.len(),
        n_samples,
        n_observables,
        values: per_chain.iter().flat_map(|(v, _)| v.iter().copied()).collect(),
        acceptance: running.chains.iter().map(|c| c.acceptance_rate()).collect(),
        seconds,
        sweep_seconds: per_chain.iter().map(|(_, t)| t).sum(),
    }
}

/// An experiment: chains of a sampler on a model at one β, configured by
/// chained setters, run by [`Run::record`]. The defaults are those of
/// [`ChainsConfig::default`] and [`Init::Uniform`].
///
/// It starts the chains, discards the warm-up sweeps (at least the sampler's
/// [`Sampler::min_warmup`]), resets the move counters, then records
/// observables: the usual experiment in one call.
///
/// ```
/// use ebm_core::{Beta, Domain, EnergyModel, BinaryModel, Seed};
/// use ebm_samplers::{Gibbs, Run};
///
/// struct Pair;
/// impl EnergyModel for Pair {
///     type Space = Domain;
///     fn n_units(&self) -> usize { 2 }
///     fn space(&self) -> &Domain { &Domain::Spin }
///     fn energy(&self, s: &[i8]) -> f64 { -f64::from(s[0] * s[1]) }
/// }
/// impl BinaryModel for Pair {}
///
/// let (traces, running) = Run::new(&Pair, &Gibbs::sequential(), Beta::ONE)
///     .chains(4)
///     .warmup(100)
///     .sweeps(2000)
///     .seed(Seed(7))
///     .record(1, |m: &Pair, s: &[i8], out: &mut [f64]| out[0] = m.energy(s))?;
/// let e = ebm_thermo_free_mean(&traces.values);
/// // ⟨E⟩ = −tanh(1) ≈ −0.762
/// assert!((e + 0.762).abs() < 0.05);
/// assert_eq!(running.chains.len(), 4);
/// # fn ebm_thermo_free_mean(v: &[f64]) -> f64 { v.iter().sum::<f64>() / v.len() as f64 }
/// # Ok::<(), ebm_core::Error>(())
/// ```
pub struct Run<'a, M: EnergyModel + ?Sized, S> {
    model: &'a M,
    sampler: &'a S,
    beta: Beta,
    config: ChainsConfig,
    init: Init<UnitOf<M>>,
    progress: Option<&'a (dyn Fn(u64) + Sync)>,
}

impl Default for ChainsConfig {
    /// 4 chains, 100 warm-up sweeps, 1000 recorded sweeps, no thinning, seed 0.
    fn default() -> Self {
        ChainsConfig { n_chains: 4, n_warmup: 100, n_sweeps: 1000, thin: 1, seed: Seed(0) }
    }
}

impl<'a, M, S> Run<'a, M, S>
where
    M: EnergyModel + ?Sized,
    S: Sampler<M>,
{
    /// Chains of `sampler` on `model` at `beta`, with the default configuration.
    pub fn new(model: &'a M, sampler: &'a S, beta: Beta) -> Self {
        Run {
            model,
            sampler,
            beta,
            config: ChainsConfig::default(),
            init: Init::Uniform,
            progress: None,
        }
    }
    /// The whole configuration at once.
    pub fn config(mut self, config: ChainsConfig) -> Self {
        self.config = config;
        self
    }
    /// Number of independent chains.
    pub fn chains(mut self, n: usize) -> Self {
        self.config.n_chains = n;
        self
    }
    /// Sweeps discarded at the start of each chain.
    pub fn warmup(mut self, n: usize) -> Self {
        self.config.n_warmup = n;
        self
    }
    /// Recorded sweeps per chain (after warm-up).
    pub fn sweeps(mut self, n: usize) -> Self {
        self.config.n_sweeps = n;
        self
    }
    /// Record every `thin`-th sweep.
    pub fn thin(mut self, thin: usize) -> Self {
        self.config.thin = thin;
        self
    }
    /// The master seed: chain c uses stream (seed, SAMPLING, c).
    pub fn seed(mut self, seed: Seed) -> Self {
        self.config.seed = seed;
        self
    }
    /// Where the chains start.
    pub fn init(mut self, init: Init<UnitOf<M>>) -> Self {
        self.init = init;
        self
    }
    /// Calls `progress(1)` after every sweep of every chain, warm-up included
    /// (`n_chains · (n_warmup + n_sweeps)` calls in all, from the worker
    /// threads): for progress bars. Results do not change.
    pub fn progress(mut self, progress: &'a (dyn Fn(u64) + Sync)) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Runs the experiment, recording `observe(model, state, out)`
    /// (`n_observables` values) every `thin` production sweeps. Returns the
    /// traces and the running chains (to continue with [`advance`]).
    ///
    /// Errors: a bad configuration, a warm-up shorter than the sampler's
    /// [`Sampler::min_warmup`], or a start the sampler rejects.
    pub fn record<O>(&self, n_observables: usize, observe: O) -> Result<(Traces, Running<S::Chain>)>
    where
        O: Fn(&M, &[UnitOf<M>], &mut [f64]) + Sync,
    {
        let (model, sampler, beta, config) = (self.model, self.sampler, self.beta, &self.config);
        if config.n_warmup < sampler.min_warmup() {
            return Err(Error::InvalidSequence {
                what: "warm-up",
                reason: format!(
                    "{} sweeps, but the sampler adapts itself during its first {} \
                     (Sampler::min_warmup): give at least that many",
                    config.n_warmup,
                    sampler.min_warmup()
                ),
            });
        }
        let silent = |_: u64| {};
        let progress: &(dyn Fn(u64) + Sync) = self.progress.unwrap_or(&silent);
        let mut running = start_chains(model, sampler, config, &self.init)?;
        let none = |_: &M, _: &[UnitOf<M>], _: &mut [f64]| {};
        let warmup =
            Recording { n_sweeps: config.n_warmup, thin: config.n_warmup.max(1), n_observables: 0 };
        advance_reporting(model, sampler, beta, &mut running, warmup, &none, &progress);
        running.chains.iter_mut().for_each(|c| c.reset_counters());
        let rec = Recording { n_sweeps: config.n_sweeps, thin: config.thin, n_observables };
        let traces =
            advance_reporting(model, sampler, beta, &mut running, rec, &observe, &progress);
        Ok((traces, running))
    }
}
