//! Contrastive divergence (CD-k), persistent CD, and exact-gradient ascent.

use crate::centring::Centring;
use crate::optim::{Optimizer, OptimizerState, clip_norm};
use crate::rbm::Kernel;
use ebm_core::{
    Beta, Chain, ChainRng, Error, FiniteModel, LocalRule, LogLinear, Purpose, Result, Sampler,
    Seed, StateSpace, Trainer, UnitOf, check_len,
};
use ebm_models::gbrbm::GaussianRbm;
use ebm_models::rbm::Rbm;
use ebm_samplers::{Clamp, SiteChain, WithClamp};
use rayon::prelude::*;
use std::any::Any;
use std::time::Instant;

/// Chains advanced together by one `sweep_batch` call: a constant, so results
/// do not depend on the number of threads.
pub const CHAIN_CHUNK: usize = 64;

/// What every trainer shares: the update rule and the experiment's constants.
#[derive(Debug, Clone, PartialEq)]
pub struct Learning {
    /// The update rule.
    pub optimizer: Optimizer,
    /// The inverse temperature of the model being trained (1 in machine learning).
    pub beta: Beta,
    /// The master seed of every training stream.
    pub seed: Seed,
    /// Clip the gradient to this Euclidean norm, if set.
    pub clip_norm: Option<f64>,
    /// Sweeps of the clamped sampler in a sampled positive phase (latent
    /// models without closed-form `E[φ | v]`, such as a BM with hidden units).
    pub positive_sweeps: usize,
    /// Centred gradients ([`Centring`]; RBMs only, in [`Cd`] and [`Pcd`]:
    /// [`ExactAscent`] follows the plain gradient), if set.
    pub centring: Option<Centring>,
}

impl Learning {
    /// `optimizer` at β = 1 with `seed`, no clipping, 10 positive sweeps.
    pub fn new(optimizer: Optimizer, seed: Seed) -> Self {
        Learning {
            optimizer,
            beta: Beta::ONE,
            seed,
            clip_norm: None,
            positive_sweeps: 10,
            centring: None,
        }
    }

    /// The same with centred gradients (`None`: plain ones).
    pub fn with_centring(mut self, centring: Option<Centring>) -> Self {
        self.centring = centring;
        self
    }

    /// The same with each step's gradient clipped to Euclidean norm
    /// `max_norm` (`None`: no clipping).
    pub fn with_clip_norm(mut self, max_norm: Option<f64>) -> Self {
        self.clip_norm = max_norm;
        self
    }

    /// Checks the optimizer ([`Optimizer::validate`]), the clipping norm
    /// (finite and > 0 when set) and the centring rate.
    pub fn validate(&self) -> Result<()> {
        self.optimizer.validate()?;
        if let Some(c) = &self.centring {
            c.validate()?;
        }
        match self.clip_norm {
            Some(c) if !(c.is_finite() && c > 0.0) => Err(Error::InvalidParameter {
                name: "gradient clipping norm",
                value: c,
                expected: "finite and > 0",
            }),
            _ => Ok(()),
        }
    }
}

/// Reused buffers of a model's training kernel (block Gibbs on an RBM): not
/// part of a checkpoint, ignored by equality.
#[derive(Debug, Clone, Default)]
pub struct Workspace(
    pub(crate) Option<Box<crate::rbm::Scratch>>,
    pub(crate) Option<Box<crate::gbrbm::Scratch>>,
);

impl PartialEq for Workspace {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// The moving parts of training: everything a checkpoint must save besides
/// the model's parameters (and reused buffers, [`Workspace`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainState<C> {
    /// Steps taken.
    pub step: u64,
    /// The optimizer's moments.
    pub optimizer: OptimizerState,
    /// Persistent chains (PCD; empty for CD).
    pub chains: Vec<C>,
    /// Their random streams.
    pub rngs: Vec<ChainRng>,
    /// Buffers reused from step to step.
    pub workspace: Workspace,
}

/// What one step reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepReport {
    /// The step's number (1-based: the number of updates applied so far).
    pub step: u64,
    /// Euclidean norm of the gradient before clipping.
    pub grad_norm: f64,
    /// Mean acceptance rate of the negative chains, if their sampler counts one.
    pub acceptance_rate: Option<f64>,
    /// Wall time of the step in seconds.
    pub seconds: f64,
}

/// Rows per mini-batch that get distinct per-row streams: row r of step t uses
/// index `t · 2^24 + r` of its purpose (CD rows and positive-phase rows have
/// purposes of their own, apart from the persistent chains' `TRAINING`).
pub const MAX_BATCH_ROWS: usize = 1 << 24;

/// `xs` as a slice of `T` when `U` is `T` (a kernel recognised its model, so
/// it knows the unit type the generic caller holds), `None` otherwise.
pub(crate) fn units_as<U: 'static, T: 'static>(xs: &[U]) -> Option<&[T]> {
    (std::any::TypeId::of::<U>() == std::any::TypeId::of::<T>()).then(|| {
        // SAFETY: U and T are the same type (checked just above), so `xs` is
        // a valid `[T]` of the same length.
        unsafe { std::slice::from_raw_parts(xs.as_ptr().cast::<T>(), xs.len()) }
    })
}

fn row_streams(seed: Seed, purpose: Purpose, step: u64, rows: usize) -> Vec<ChainRng> {
    (0..rows as u64).map(|r| seed.stream(purpose, (step << 24) + r)).collect()
}

fn sweep_all<M, S>(
    model: &M,
    sampler: &S,
    chains: &mut [S::Chain],
    rngs: &mut [ChainRng],
    beta: Beta,
    sweeps: usize,
) where
    M: LogLinear + ?Sized,
    S: Sampler<M>,
{
    chains.par_chunks_mut(CHAIN_CHUNK).zip(rngs.par_chunks_mut(CHAIN_CHUNK)).for_each(|(c, r)| {
        for _ in 0..sweeps {
            sampler.sweep_batch(model, c, beta, r);
        }
    });
}

/// Validates a batch: whole rows of `n_visible()` values in the model's domain.
fn check_batch<M: LogLinear + ?Sized>(model: &M, batch: &[UnitOf<M>]) -> Result<usize> {
    let rows = ebm_core::check_rows(
        "batch (whole rows of n_visible values)",
        batch.len(),
        model.n_visible(),
    )?;
    ebm_core::validate_rows(model.space(), batch, model.n_visible())?;
    if rows > MAX_BATCH_ROWS {
        return Err(Error::InvalidParameter {
            name: "batch rows",
            value: rows as f64,
            expected: "at most 2^24",
        });
    }
    Ok(rows)
}

/// Chains whose visible units are the rows of `batch`; hidden units start low
/// and, if there are any, are drawn by `hidden_sweeps` sweeps of `sampler`
/// with the visible units clamped.
fn chains_at_data<M, S>(
    model: &M,
    sampler: &S,
    batch: &[UnitOf<M>],
    rngs: &mut [ChainRng],
    beta: Beta,
    hidden_sweeps: usize,
) -> Result<Vec<S::Chain>>
where
    M: LogLinear + ?Sized,
    S: Sampler<M> + WithClamp + Clone,
{
    let (n, nv) = (model.n_units(), model.n_visible());
    if nv == n {
        return batch.chunks_exact(nv).map(|v| sampler.start(model, v)).collect();
    }
    let clamped = sampler.clone().with_clamp(Clamp::first(nv, n));
    let space = model.space();
    let mut x: Vec<UnitOf<M>> = (0..n).map(|i| space.fixed_value(i)).collect();
    let mut chains = batch
        .chunks_exact(nv)
        .map(|v| {
            x[..nv].copy_from_slice(v);
            clamped.start(model, &x)
        })
        .collect::<Result<Vec<_>>>()?;
    sweep_all(model, &clamped, &mut chains, rngs, beta, hidden_sweeps);
    // re-start unclamped chains at the clamped chains' states
    chains.iter().map(|c| sampler.start(model, c.state())).collect()
}

/// `out += (1/m) Σ_c E[φ | v_c]` over chain states, Rao–Blackwellised over the
/// hidden units when the model has a closed form (one batched call), sampled
/// φ otherwise.
fn add_chain_statistics<M: LogLinear + ?Sized, C: Chain<Unit = UnitOf<M>>>(
    model: &M,
    chains: &[C],
    beta: Beta,
    out: &mut [f64],
) {
    let nv = model.n_visible();
    let w = 1.0 / chains.len() as f64;
    let visible: Vec<UnitOf<M>> =
        chains.iter().flat_map(|c| c.state()[..nv].iter().copied()).collect();
    if !model.add_data_statistics_batch(&visible, beta, w, out) {
        for c in chains {
            model.add_statistics(c.state(), w, out);
        }
    }
}

/// The data term `⟨φ⟩_data` (closed form, or clamped sampling).
fn positive_statistics<M, S>(
    model: &M,
    sampler: &S,
    learning: &Learning,
    step: u64,
    batch: &[UnitOf<M>],
    rows: usize,
) -> Result<Vec<f64>>
where
    M: LogLinear + ?Sized,
    S: Sampler<M> + WithClamp + Clone,
{
    let mut pos = vec![0.0; model.n_params()];
    if !model.add_data_statistics_batch(batch, learning.beta, 1.0 / rows as f64, &mut pos) {
        pos.iter_mut().for_each(|p| *p = 0.0);
        let mut rngs = row_streams(learning.seed, Purpose::POSITIVE_ROWS, step, rows);
        let chains = chains_at_data(
            model,
            sampler,
            batch,
            &mut rngs,
            learning.beta,
            learning.positive_sweeps,
        )?;
        let w = 1.0 / rows as f64;
        for c in &chains {
            model.add_statistics(c.state(), w, &mut pos);
        }
    }
    Ok(pos)
}

/// Checks that the optimizer state fits the optimizer and the model.
fn l_check_state(learning: &Learning, n_params: usize, state: &OptimizerState) -> Result<()> {
    learning.optimizer.check_state(state, n_params)
}

/// `θ ← update(θ, β(pos − neg))`, with the checks every trainer needs. The
/// update is applied to a copy of the optimizer state, kept only when the new
/// parameters are finite: after [`Error::Diverged`] the model and the training
/// state are both as they were before the step.
fn apply_gradient<M: LogLinear + ?Sized>(
    model: &mut M,
    learning: &Learning,
    opt: &mut OptimizerState,
    pos: &[f64],
    neg: &[f64],
    layers: Option<(usize, usize)>,
) -> Result<f64> {
    let b = learning.beta.value();
    let mut grad: Vec<f64> = pos.iter().zip(neg).map(|(p, q)| b * (p - q)).collect();
    if let (Some(c), Some((nv, nh))) = (&learning.centring, layers) {
        if let Some(k) = grad.iter().position(|g| !g.is_finite()) {
            return Err(Error::Diverged { what: "gradient", step: opt.step, index: k });
        }
        let mut next = opt.clone();
        // ⟨φ⟩_data holds the batch's visible and hidden means
        let means = &pos[nv * nh..];
        c.update_offsets(&mut next.offsets, &means[..nv], &means[nv..nv + nh]);
        Centring::centre(&mut grad, &next.offsets, nv, nh);
        let norm = apply_ascent(model, learning, &mut next, &mut grad)?;
        *opt = next;
        return Ok(norm);
    }
    apply_ascent(model, learning, opt, &mut grad)
}

/// `θ ← update(θ, grad)` for an ascent direction `grad` (β already in it),
/// clipped when the learning asks for it, with the checks every trainer
/// needs: a non-finite gradient is [`Error::Diverged`], and the update is
/// applied to a copy of the optimizer state, kept only when the model takes
/// the new parameters; on an error the model and `opt` are as they were.
pub(crate) fn apply_ascent<M: LogLinear + ?Sized>(
    model: &mut M,
    learning: &Learning,
    opt: &mut OptimizerState,
    grad: &mut [f64],
) -> Result<f64> {
    let step = opt.step;
    if let Some(k) = grad.iter().position(|g| !g.is_finite()) {
        return Err(Error::Diverged { what: "gradient", step, index: k });
    }
    let mut next = opt.clone();
    let norm = match learning.clip_norm {
        Some(max) => clip_norm(grad, max),
        None => grad.iter().map(|g| g * g).sum::<f64>().sqrt(),
    };
    let mut theta = model.params().to_vec();
    learning.optimizer.apply(&mut next, &mut theta, grad, model.n_couplings());
    if let Some(k) = theta.iter().position(|t| !t.is_finite()) {
        return Err(Error::Diverged { what: "parameters", step, index: k });
    }
    // a finite step the model cannot take (a variance past its bound, a
    // weight past f32) is a divergence too: say so, with the model's reason
    model.set_params(&theta).map_err(|e| Error::InvalidSequence {
        what: "training step",
        reason: format!("the update at step {step} diverged: {e}"),
    })?;
    *opt = next;
    Ok(norm)
}

fn mean_acceptance<C: Chain>(chains: &[C]) -> Option<f64> {
    let r: Vec<f64> = chains.iter().filter_map(|c| c.acceptance_rate()).collect();
    (!r.is_empty()).then(|| r.iter().sum::<f64>() / r.len() as f64)
}

/// CD-k: negative chains start at the batch (hidden units drawn given the
/// data) and run k sweeps of the sampler.
#[derive(Debug, Clone, PartialEq)]
pub struct Cd<S> {
    /// Sweeps of the negative chains (k ≥ 1).
    pub k: usize,
    /// The negative-phase sampler (block Gibbs for an RBM is the classic CD).
    pub sampler: S,
    /// Optimizer, β, seed.
    pub learning: Learning,
}

impl<S> Cd<S> {
    /// A fresh training state for `model` (CD keeps no chains between steps).
    pub fn init<M: LogLinear + ?Sized>(
        &self,
        model: &M,
    ) -> Result<TrainState<ebm_samplers::SiteChain<UnitOf<M>>>> {
        self.learning.validate()?;
        if self.k == 0 {
            return Err(Error::InvalidParameter { name: "k", value: 0.0, expected: "≥ 1" });
        }
        Ok(TrainState {
            step: 0,
            optimizer: self.learning.optimizer.state(model.n_params()),
            chains: Vec::new(),
            rngs: Vec::new(),
            workspace: Workspace::default(),
        })
    }
}

/// The layer sizes centring needs (`None` without centring); an error when
/// centring is asked of a model that is not an [`Rbm`].
fn centring_layers<M: LogLinear + 'static>(
    model: &M,
    l: &Learning,
) -> Result<Option<(usize, usize)>> {
    if l.centring.is_none() {
        return Ok(None);
    }
    match (model as &dyn Any).downcast_ref::<Rbm>() {
        Some(r) => Ok(Some((r.n_visible(), r.n_hidden()))),
        None => Err(Error::InvalidSequence {
            what: "centring",
            reason: "centred gradients are defined for RBMs (visible and hidden offsets)".into(),
        }),
    }
}

/// The GB-RBM's block-Gibbs kernel, when `model` is a [`GaussianRbm`] and
/// the sampler a plain heat-bath block sweep (batched f32 GEMMs; see
/// [`crate::gbrbm`]).
fn gbrbm_kernel<'m, M: LogLinear + 'static, S: Sampler<M>>(
    model: &'m mut M,
    sampler: &S,
) -> Option<&'m mut GaussianRbm> {
    if sampler.block_rule() != Some(LocalRule::HeatBath) {
        return None;
    }
    (model as &mut dyn Any).downcast_mut::<GaussianRbm>()
}

/// The RBM's block-Gibbs kernel, when `model` is an [`Rbm`] and the sampler a
/// plain heat-bath block sweep: the same chain and estimator as the generic
/// code, batched (sparse products, f32 sampling; see [`crate::rbm`]).
fn rbm_kernel<'m, M: LogLinear + 'static, S: Sampler<M>>(
    model: &'m mut M,
    sampler: &S,
) -> Option<&'m mut Rbm> {
    if sampler.block_rule() != Some(LocalRule::HeatBath) {
        return None;
    }
    (model as &mut dyn Any).downcast_mut::<Rbm>()
}

impl<M, S> Trainer<M> for Cd<S>
where
    M: LogLinear + 'static,
    S: Sampler<M> + WithClamp + Clone,
{
    type State = TrainState<ebm_samplers::SiteChain<UnitOf<M>>>;
    type Report = StepReport;

    fn step(
        &self,
        model: &mut M,
        state: &mut Self::State,
        batch: &[UnitOf<M>],
    ) -> Result<StepReport> {
        if let Some(rbm) = rbm_kernel(model, &self.sampler) {
            let kernel = Kernel { k: self.k, mean_field: false, learning: &self.learning };
            let ws = state.workspace.0.get_or_insert_with(Default::default);
            let (report, _) = kernel.step_units(rbm, &mut state.optimizer, ws, batch, None)?;
            state.step = report.step;
            return Ok(report);
        }
        if let Some(rbm) = gbrbm_kernel(model, &self.sampler) {
            let kernel = crate::gbrbm::Kernel { k: self.k, learning: &self.learning };
            let ws = state.workspace.1.get_or_insert_with(Default::default);
            let report = kernel.step_units(rbm, &mut state.optimizer, ws, batch, None)?;
            state.step = report.step;
            return Ok(report);
        }
        let t0 = Instant::now();
        let rows = check_batch(model, batch)?;
        l_check_state(&self.learning, model.n_params(), &state.optimizer)?;
        let step = state.optimizer.step;
        let l = &self.learning;
        let layers = centring_layers(&*model, l)?;
        let pos = positive_statistics(&*model, &self.sampler, l, step, batch, rows)?;
        let mut rngs = row_streams(l.seed, Purpose::CD_ROWS, step, rows);
        let mut chains = chains_at_data(&*model, &self.sampler, batch, &mut rngs, l.beta, 1)?;
        sweep_all(&*model, &self.sampler, &mut chains, &mut rngs, l.beta, self.k);
        let mut neg = vec![0.0; model.n_params()];
        add_chain_statistics(&*model, &chains, l.beta, &mut neg);
        let grad_norm = apply_gradient(model, l, &mut state.optimizer, &pos, &neg, layers)?;
        state.step = state.optimizer.step;
        Ok(StepReport {
            step: state.step,
            grad_norm,
            acceptance_rate: mean_acceptance(&chains),
            seconds: t0.elapsed().as_secs_f64(),
        })
    }
}

/// Persistent CD (Tieleman 2008): `n_chains` chains survive across steps, each
/// moved k sweeps per step. With a parallel-tempering sampler this is tempered
/// persistent training, with no special code.
#[derive(Debug, Clone, PartialEq)]
pub struct Pcd<S> {
    /// Number of persistent chains.
    pub n_chains: usize,
    /// Sweeps per step.
    pub k: usize,
    /// The negative-phase sampler.
    pub sampler: S,
    /// Optimizer, β, seed.
    pub learning: Learning,
}

impl<S> Pcd<S> {
    /// A fresh state: `n_chains` chains at uniformly random states, chain c on
    /// stream (seed, TRAINING, c).
    pub fn init<M>(&self, model: &M) -> Result<TrainState<S::Chain>>
    where
        M: LogLinear + ?Sized,
        S: Sampler<M>,
    {
        self.learning.validate()?;
        if self.k == 0 || self.n_chains == 0 {
            let (name, value) = if self.k == 0 { ("k", 0.0) } else { ("n_chains", 0.0) };
            return Err(Error::InvalidParameter { name, value, expected: "≥ 1" });
        }
        let (n, space) = (model.n_units(), model.space());
        let mut rngs = Vec::with_capacity(self.n_chains);
        let mut chains = Vec::with_capacity(self.n_chains);
        for c in 0..self.n_chains as u64 {
            let mut rng = self.learning.seed.stream(Purpose::TRAINING, c);
            let x = rng.random_state(space, n);
            chains.push(self.sampler.start(model, &x)?);
            rngs.push(rng);
        }
        Ok(TrainState {
            step: 0,
            optimizer: self.learning.optimizer.state(model.n_params()),
            chains,
            rngs,
            workspace: Workspace::default(),
        })
    }
}

impl<M, S> Trainer<M> for Pcd<S>
where
    M: LogLinear + 'static,
    S: Sampler<M> + WithClamp + Clone,
    S::Chain: 'static,
{
    type State = TrainState<S::Chain>;
    type Report = StepReport;

    fn step(
        &self,
        model: &mut M,
        state: &mut Self::State,
        batch: &[UnitOf<M>],
    ) -> Result<StepReport> {
        let chains = (&mut state.chains as &mut dyn Any).downcast_mut::<Vec<SiteChain>>();
        if let (Some(rbm), Some(chains)) = (rbm_kernel(model, &self.sampler), chains) {
            let kernel = Kernel { k: self.k, mean_field: false, learning: &self.learning };
            let ws = state.workspace.0.get_or_insert_with(Default::default);
            let persistent = Some((&mut chains[..], &mut state.rngs[..]));
            let (report, _) =
                kernel.step_units(rbm, &mut state.optimizer, ws, batch, persistent)?;
            state.step = report.step;
            return Ok(report);
        }
        let chains = (&mut state.chains as &mut dyn Any).downcast_mut::<Vec<SiteChain<f64>>>();
        if let (Some(rbm), Some(chains)) = (gbrbm_kernel(model, &self.sampler), chains) {
            let kernel = crate::gbrbm::Kernel { k: self.k, learning: &self.learning };
            let ws = state.workspace.1.get_or_insert_with(Default::default);
            let persistent = Some((&mut chains[..], &mut state.rngs[..]));
            let report = kernel.step_units(rbm, &mut state.optimizer, ws, batch, persistent)?;
            state.step = report.step;
            return Ok(report);
        }
        let t0 = Instant::now();
        let rows = check_batch(model, batch)?;
        l_check_state(&self.learning, model.n_params(), &state.optimizer)?;
        check_len("persistent chains", state.chains.len(), state.rngs.len())?;
        let step = state.optimizer.step;
        let l = &self.learning;
        let layers = centring_layers(&*model, l)?;
        let pos = positive_statistics(&*model, &self.sampler, l, step, batch, rows)?;
        sweep_all(&*model, &self.sampler, &mut state.chains, &mut state.rngs, l.beta, self.k);
        let mut neg = vec![0.0; model.n_params()];
        add_chain_statistics(&*model, &state.chains, l.beta, &mut neg);
        let grad_norm = apply_gradient(model, l, &mut state.optimizer, &pos, &neg, layers)?;
        state.step = state.optimizer.step;
        Ok(StepReport {
            step: state.step,
            grad_norm,
            acceptance_rate: mean_acceptance(&state.chains),
            seconds: t0.elapsed().as_secs_f64(),
        })
    }
}

/// Maximum likelihood with exact expectations (enumeration): the reference
/// every sampled trainer approximates. For models of up to ~20 units.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactAscent {
    /// Optimizer and β (the seed is unused: nothing is random).
    pub learning: Learning,
}

impl ExactAscent {
    /// A fresh state.
    pub fn init<M: LogLinear + ?Sized>(
        &self,
        model: &M,
    ) -> Result<TrainState<ebm_samplers::SiteChain>> {
        self.learning.validate()?;
        Ok(TrainState {
            step: 0,
            optimizer: self.learning.optimizer.state(model.n_params()),
            chains: Vec::new(),
            rngs: Vec::new(),
            workspace: Workspace::default(),
        })
    }
}

impl<M: LogLinear + FiniteModel + ?Sized> Trainer<M> for ExactAscent {
    type State = TrainState<ebm_samplers::SiteChain>;
    type Report = StepReport;

    fn step(
        &self,
        model: &mut M,
        state: &mut Self::State,
        batch: &[UnitOf<M>],
    ) -> Result<StepReport> {
        let t0 = Instant::now();
        check_batch(model, batch)?;
        let l = &self.learning;
        l_check_state(l, model.n_params(), &state.optimizer)?;
        let pos = ebm_thermo::exact_data_statistics(&*model, batch, l.beta)?;
        let neg = ebm_thermo::exact_model_statistics(&*model, l.beta)?;
        let grad_norm = apply_gradient(model, l, &mut state.optimizer, &pos, &neg, None)?;
        state.step = state.optimizer.step;
        Ok(StepReport {
            step: state.step,
            grad_norm,
            acceptance_rate: None,
            seconds: t0.elapsed().as_secs_f64(),
        })
    }
}
