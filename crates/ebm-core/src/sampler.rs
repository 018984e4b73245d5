//! The sampler and trainer traits: dynamics and learning, apart from models.

use crate::beta::Beta;
use crate::error::Result;
use crate::kernel::LocalRule;
use crate::model::{EnergyModel, LogLinear, UnitOf};

/// Everything a chain holds, as plain numbers: what a checkpoint saves so that
/// a restored chain ([`Sampler::restore`]) continues exactly as the
/// uninterrupted one would.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChainRecord<U> {
    /// Unit values (a tempering chain: every replica's, in ladder order).
    pub units: Vec<U>,
    /// Integer state: counters, positions, the lengths of nested records.
    pub counts: Vec<u64>,
    /// Real state: an adapted ladder, say.
    pub reals: Vec<f64>,
}

/// The mutable part of a Markov chain: its configuration plus whatever the
/// sampler caches (local fields, replicas, counters).
pub trait Chain: Clone + Send {
    /// The value type of one unit (`i8` binary, `u8` categorical).
    type Unit: crate::UnitValue;

    /// The current configuration.
    fn state(&self) -> &[Self::Unit];

    /// Fraction of proposed single-unit moves accepted so far (for Gibbs, the
    /// fraction of updates that changed the unit), if the sampler counts it.
    fn acceptance_rate(&self) -> Option<f64> {
        None
    }

    /// Forgets the move counters (called after warm-up, so rates describe the
    /// production run). The default does nothing.
    fn reset_counters(&mut self) {}

    /// The configuration, writable, if the chain keeps nothing derived from
    /// it between sweeps (or refreshes it): moves that exchange units
    /// between chains (tempering over a model's independent factors) use
    /// it. The default, `None`, makes them exchange whole chains instead.
    fn units_mut(&mut self) -> Option<&mut [Self::Unit]> {
        None
    }

    /// The whole chain as numbers, for checkpoints; [`Sampler::restore`]
    /// rebuilds it. The default records the configuration only, which is
    /// the whole chain for a sampler whose chain is its state.
    fn record(&self) -> ChainRecord<Self::Unit> {
        ChainRecord { units: self.state().to_vec(), counts: Vec::new(), reals: Vec::new() }
    }
}

/// A Markov-chain kernel leaving `p_β(x) ∝ exp(−β E(x))` invariant, for
/// models over any [`crate::StateSpace`].
///
/// Contract: for every β, if `chain.state()` is distributed as `p_β` before
/// [`Sampler::sweep`], it is after. The sampler value is immutable configuration
/// (shareable across threads); everything that changes lives in its
/// [`Sampler::Chain`]. Randomness is borrowed, so each chain can own a stream.
///
/// ```
/// use ebm_core::{uniform, Beta, BinaryModel, Chain, Domain, EnergyModel, Result, Sampler};
/// use rand_core::Rng;
///
/// /// Metropolis with one uniformly chosen flip per unit and sweep.
/// struct RandomFlip;
/// #[derive(Clone)]
/// struct State(Vec<i8>);
/// impl Chain for State { type Unit = i8; fn state(&self) -> &[i8] { &self.0 } }
///
/// impl<M: BinaryModel + ?Sized> Sampler<M> for RandomFlip {
///     type Chain = State;
///     fn start(&self, model: &M, x0: &[i8]) -> Result<State> {
///         ebm_core::check_len("state", model.n_units(), x0.len())?;
///         model.domain().validate(x0)?;
///         Ok(State(x0.to_vec()))
///     }
///     fn sweep<R: Rng + ?Sized>(&self, model: &M, c: &mut State, beta: Beta, rng: &mut R) {
///         let n = c.0.len();
///         for _ in 0..n {
///             let i = (rng.next_u64() % n as u64) as usize;
///             let delta = model.flip_delta(&c.0, i);
///             if delta <= 0.0 || uniform(rng) < (-beta.value() * delta).exp() {
///                 c.0[i] = model.domain().flip(c.0[i]);
///             }
///         }
///     }
/// }
///
/// struct Field(f64);
/// impl EnergyModel for Field {
///     type Space = Domain;
///     fn n_units(&self) -> usize { 1 }
///     fn space(&self) -> &Domain { &Domain::Spin }
///     fn energy(&self, s: &[i8]) -> f64 { -self.0 * f64::from(s[0]) }
/// }
/// impl BinaryModel for Field {}
///
/// let mut rng = ebm_core::Seed(1).stream(ebm_core::Purpose::SAMPLING, 0);
/// let mut chain = RandomFlip.start(&Field(1.0), &[-1])?;
/// let mut up = 0;
/// for _ in 0..10_000 {
///     RandomFlip.sweep(&Field(1.0), &mut chain, Beta::ONE, &mut rng);
///     up += (chain.state()[0] == 1) as u32;
/// }
/// // p(+1) = e / (e + 1/e) ≈ 0.881
/// assert!((f64::from(up) / 1e4 - 0.881).abs() < 0.03);
/// # Ok::<(), ebm_core::Error>(())
/// ```
pub trait Sampler<M: EnergyModel + ?Sized>: Sync {
    /// Per-chain mutable state.
    type Chain: Chain<Unit = UnitOf<M>>;

    /// A chain starting at configuration `x0` (validated: length and values).
    fn start(&self, model: &M, x0: &[UnitOf<M>]) -> Result<Self::Chain>;

    /// The chain recorded by [`Chain::record`] (of a chain of this sampler on
    /// a model of the same shape), validated. The default starts a chain at
    /// the recorded configuration, right for chains that are their state.
    fn restore(&self, model: &M, record: &ChainRecord<UnitOf<M>>) -> Result<Self::Chain> {
        self.start(model, &record.units)
    }

    /// Sweeps a chain must run before its samples count: a sampler that adapts
    /// itself during warm-up (parallel tempering's ladder) is not a fixed
    /// kernel before then. Runners reject shorter warm-ups. Default 0.
    fn min_warmup(&self) -> usize {
        0
    }

    /// `Some(rule)` if one sweep is exactly a block sweep: every block of the
    /// model's `blocks()` in turn, each unit of the block updated once by
    /// `rule` from the same configuration, nothing clamped. Trainers use it
    /// to hand a whole negative phase to a model's batched kernel (block
    /// Gibbs on an RBM). Default `None`.
    fn block_rule(&self) -> Option<LocalRule> {
        None
    }

    /// One sweep: on average one update per unit (the sampler's documented unit
    /// of work), at inverse temperature `beta`, drawing from `rng`.
    fn sweep<R: rand_core::Rng + ?Sized>(
        &self,
        model: &M,
        chain: &mut Self::Chain,
        beta: Beta,
        rng: &mut R,
    );

    /// One sweep of each chain, chain r drawing from `rngs[r]`: the kernel of
    /// [`Sampler::sweep`], each chain drawing the same numbers in the same
    /// order. Samplers override it to batch the model's work across chains
    /// (block Gibbs on an RBM: one sparse product per layer for the batch).
    ///
    /// What holds: a chain's result never depends on which other chains share
    /// its batch (so runs are bit-identical for any thread count); and it is
    /// bit-identical to [`Sampler::sweep`] whenever the model's batched block
    /// deltas ([`crate::BinaryModel::block_deltas_batch`]) equal its single-state
    /// ones row by row, which the defaults guarantee. A model that batches in
    /// lower precision (the RBM: f32 fields, within a documented bound) gives
    /// the same kernel up to that rounding: a chain may take a different
    /// decision where a uniform falls within the rounding of a flip
    /// probability, so trajectories agree in distribution, not bit for bit.
    fn sweep_batch<R: rand_core::Rng>(
        &self,
        model: &M,
        chains: &mut [Self::Chain],
        beta: Beta,
        rngs: &mut [R],
    ) {
        for (c, r) in chains.iter_mut().zip(rngs.iter_mut()) {
            self.sweep(model, c, beta, r);
        }
    }
}

/// A learning rule: one parameter update of a [`LogLinear`] model from a
/// mini-batch, `θ ← θ + η β(⟨φ⟩_data − ⟨φ⟩_model)` or a variant.
///
/// The trainer is configuration; its mutable part (optimizer moments,
/// persistent chains, RNG streams, step counter) is [`Trainer::State`], which
/// is what a checkpoint saves. The user's own loop drives training.
///
/// ```
/// use ebm_core::{LogLinear, Result, Trainer, UnitOf};
///
/// /// Moment matching for fully visible models with an exact model term
/// /// supplied by a closure (e.g. exact enumeration).
/// struct ExactAscent<F> { rate: f64, model_moments: F }
///
/// impl<M: LogLinear, F: Fn(&M) -> Vec<f64>> Trainer<M> for ExactAscent<F> {
///     type State = usize;
///     type Report = f64;
///     fn step(&self, model: &mut M, steps: &mut usize, batch: &[UnitOf<M>]) -> Result<f64> {
///         let n = model.n_visible();
///         ebm_core::check_len("batch width", 0, batch.len() % n)?;
///         let rows = (batch.len() / n) as f64;
///         let mut grad = vec![0.0; model.n_params()];
///         model.add_statistics_batch(batch, 1.0 / rows, &mut grad);
///         for (g, m) in grad.iter_mut().zip((self.model_moments)(model)) { *g -= m; }
///         let theta: Vec<f64> = model.params().iter().zip(&grad).map(|(t, g)| t + self.rate * g).collect();
///         model.set_params(&theta)?;
///         *steps += 1;
///         Ok(grad.iter().map(|g| g * g).sum::<f64>().sqrt())
///     }
/// }
/// # let _ = std::marker::PhantomData::<ExactAscent<fn(&()) -> Vec<f64>>>;
/// ```
pub trait Trainer<M: LogLinear + ?Sized> {
    /// Everything that changes during training, apart from the model.
    type State;
    /// What one step reports (losses, norms, timings).
    type Report;

    /// One update from `batch`: rows of `n_visible()` values, concatenated.
    fn step(
        &self,
        model: &mut M,
        state: &mut Self::State,
        batch: &[UnitOf<M>],
    ) -> Result<Self::Report>;
}
