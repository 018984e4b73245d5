//! Parallel tempering (replica exchange) around any sampler.

use ebm_core::{Beta, Chain, ChainRecord, EnergyModel, Error, Result, Sampler, UnitOf, uniform};

/// The inverse temperatures of the replicas, as fractions of the target β:
/// replica k runs at `β_k = f_k · β` with `0 < f_0 < … < f_{K−1} = 1`.
///
/// Stating the ladder relative to β lets one tempering configuration serve any
/// target temperature (and every step of an annealing schedule).
#[derive(Debug, Clone, PartialEq)]
pub struct Ladder {
    fractions: Vec<f64>,
}

impl Ladder {
    /// `n` fractions spaced geometrically from `min_fraction` to 1.
    pub fn geometric(n: usize, min_fraction: f64) -> Result<Self> {
        if n < 2 {
            return Err(Error::InvalidSequence {
                what: "tempering ladder",
                reason: format!("needs at least 2 replicas, got {n}"),
            });
        }
        if !(min_fraction > 0.0 && min_fraction < 1.0) {
            return Err(Error::InvalidParameter {
                name: "min_fraction",
                value: min_fraction,
                expected: "in (0, 1)",
            });
        }
        let r = min_fraction.ln();
        let f = (0..n).map(|k| (r * (1.0 - k as f64 / (n - 1) as f64)).exp()).collect::<Vec<_>>();
        Ladder::new(f)
    }

    /// A ladder from explicit fractions: finite, strictly increasing, in
    /// (0, 1], ending at 1.
    pub fn new(fractions: Vec<f64>) -> Result<Self> {
        let bad = |reason: String| Err(Error::InvalidSequence { what: "tempering ladder", reason });
        if fractions.len() < 2 {
            return bad(format!("needs at least 2 replicas, got {}", fractions.len()));
        }
        if let Some(k) = fractions.iter().position(|f| !(f.is_finite() && *f > 0.0 && *f <= 1.0)) {
            return bad(format!("fraction {k} = {} is not in (0, 1]", fractions[k]));
        }
        if let Some(k) = fractions.windows(2).position(|w| w[1] <= w[0]) {
            return bad(format!("not strictly increasing at position {}", k + 1));
        }
        if fractions.last() != Some(&1.0) {
            return bad("the last fraction must be 1 (the target β)".into());
        }
        Ok(Ladder { fractions })
    }

    /// A ladder from absolute inverse temperatures, the last being the target:
    /// stored as fractions of the last.
    pub fn from_betas(betas: &[f64]) -> Result<Self> {
        let Some(&top) = betas.last() else {
            return Err(Error::InvalidSequence {
                what: "tempering ladder",
                reason: "empty".into(),
            });
        };
        Beta::new(top)?;
        Ladder::new(betas.iter().map(|b| b / top).collect())
    }

    /// The fractions f_k.
    pub fn fractions(&self) -> &[f64] {
        &self.fractions
    }

    /// Number of replicas.
    pub fn len(&self) -> usize {
        self.fractions.len()
    }

    /// Always false: a ladder has at least two rungs.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Parallel tempering: K replicas of the model at `β_k = f_k β`, each moved by
/// the inner sampler, followed by replica-exchange moves between neighbouring
/// rungs accepted with `min(1, exp((β_i − β_j)(E_i − E_j)))`.
///
/// Exchanges alternate between even and odd pairs from sweep to sweep. The
/// chain's [`Chain::state`] is the replica at the target β.
///
/// A model of F independent factors ([`EnergyModel::n_factors`]: two
/// replicas of a spin glass, say) has each factor exchanged on its own,
/// accepted on that factor's energies, when the inner chains expose their
/// units ([`Chain::units_mut`]): F independent ladders that share their
/// sweeps. Otherwise whole replicas are exchanged on the total energy. With
/// [`ParallelTempering::adapt_during`], the ladder of each chain is adapted
/// toward uniform swap rates during its first sweeps (warm-up only: afterwards
/// it is frozen, so the production chain is a fixed, valid kernel).
#[derive(Debug, Clone, PartialEq)]
pub struct ParallelTempering<S> {
    inner: S,
    ladder: Ladder,
    adapt_sweeps: u64,
}

/// The chain of [`ParallelTempering`]: replicas, their energies and ladder, and
/// exchange statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct TemperingChain<C> {
    replicas: Vec<C>,
    /// The model's independent factors F, exchanged one by one.
    parts: usize,
    /// Rung-major: `energies[r·F + f]` is factor f's energy at rung r.
    energies: Vec<f64>,
    fractions: Vec<f64>,
    /// Per pair (k, k+1): attempted and accepted exchanges.
    attempts: Vec<u64>,
    accepts: Vec<u64>,
    /// Factor-major: which walker of factor f occupies rung r
    /// (`walker_at[f·K + r]`), and each walker's last visited end.
    walker_at: Vec<usize>,
    last_end: Vec<u8>,
    round_trips: u64,
    sweeps: u64,
}

fn bad(reason: String) -> Error {
    Error::InvalidSequence { what: "tempering chain record", reason }
}

/// Reads the integer part of a tempering chain's record.
struct Counts<'a> {
    counts: &'a [u64],
    pos: usize,
}

impl Counts<'_> {
    fn next(&mut self, what: &str) -> Result<u64> {
        let v = self.counts.get(self.pos).copied();
        self.pos += 1;
        v.ok_or_else(|| bad(format!("ends before {what}")))
    }
    fn take(&mut self, n: usize, what: &str) -> Result<Vec<u64>> {
        (0..n).map(|_| self.next(what)).collect()
    }
}

const FROM_BOTTOM: u8 = 1;
const FROM_TOP: u8 = 2;

impl<C: Chain> TemperingChain<C> {
    /// The replicas, from the hottest (smallest β) to the target.
    pub fn replicas(&self) -> &[C] {
        &self.replicas
    }

    /// The current ladder fractions (adapted, if adaptation is on).
    pub fn fractions(&self) -> &[f64] {
        &self.fractions
    }

    /// Acceptance rate of exchanges between rungs k and k+1 (NaN if none tried).
    pub fn swap_rate(&self, k: usize) -> f64 {
        self.accepts[k] as f64 / self.attempts[k] as f64
    }

    /// All pair swap rates.
    pub fn swap_rates(&self) -> Vec<f64> {
        (0..self.attempts.len()).map(|k| self.swap_rate(k)).collect()
    }

    /// Completed round trips of walkers bottom → top → bottom of the ladder
    /// (of every factor's walkers, for a model of independent factors).
    pub fn round_trips(&self) -> u64 {
        self.round_trips
    }

    /// Sweeps done.
    pub fn n_sweeps(&self) -> u64 {
        self.sweeps
    }

    fn track_ends(&mut self) {
        let k = self.replicas.len();
        for f in 0..self.parts {
            let w = f * k + self.walker_at[f * k];
            if self.last_end[w] == FROM_TOP {
                self.round_trips += 1;
            }
            self.last_end[w] = FROM_BOTTOM;
            let w = f * k + self.walker_at[f * k + k - 1];
            if self.last_end[w] == FROM_BOTTOM {
                self.last_end[w] = FROM_TOP;
            }
        }
    }

    /// Factor `f`'s energy at rung `r`, recomputed from the replica.
    fn refresh_energies<M>(&mut self, model: &M, r: usize)
    where
        M: EnergyModel<Space: ebm_core::StateSpace<Unit = C::Unit>> + ?Sized,
    {
        let x = self.replicas[r].state();
        let f = self.parts;
        if f == 1 {
            self.energies[r] = model.energy(x);
            return;
        }
        let m = x.len() / f;
        for (p, e) in self.energies[r * f..(r + 1) * f].iter_mut().enumerate() {
            *e = model.factor_energy(p, &x[p * m..(p + 1) * m]);
        }
    }
}

impl<C: Chain> Chain for TemperingChain<C> {
    type Unit = C::Unit;

    fn state(&self) -> &[C::Unit] {
        self.replicas.last().map_or(&[], |r| r.state())
    }

    fn acceptance_rate(&self) -> Option<f64> {
        self.replicas.last().and_then(|r| r.acceptance_rate())
    }

    /// Resets the replicas' move counters, the swap counts and the round
    /// trips (the ladder and the walkers' positions are kept).
    fn reset_counters(&mut self) {
        self.replicas.iter_mut().for_each(|r| r.reset_counters());
        self.attempts.iter_mut().for_each(|a| *a = 0);
        self.accepts.iter_mut().for_each(|a| *a = 0);
        self.last_end.iter_mut().for_each(|e| *e = 0);
        self.round_trips = 0;
    }

    /// Every replica's record, the adapted ladder, the swap counters, the
    /// walkers and the sweep count: a restored chain continues bit for bit.
    /// Layout: `counts = [k, sweeps, round_trips, attempts (k−1), accepts
    /// (k−1), walker_at (k·F), last_end (k·F), then per replica: its numbers of
    /// units, counts and reals, then its counts]`, `reals = [fractions (k),
    /// then each replica's reals]`, `units` = the replicas' units in order.
    fn record(&self) -> ChainRecord<C::Unit> {
        let k = self.replicas.len();
        let mut r = ChainRecord {
            units: Vec::new(),
            counts: vec![k as u64, self.sweeps, self.round_trips],
            reals: self.fractions.clone(),
        };
        r.counts.extend(&self.attempts);
        r.counts.extend(&self.accepts);
        r.counts.extend(self.walker_at.iter().map(|&w| w as u64));
        r.counts.extend(self.last_end.iter().map(|&e| u64::from(e)));
        for replica in &self.replicas {
            let inner = replica.record();
            r.counts.extend([
                inner.units.len() as u64,
                inner.counts.len() as u64,
                inner.reals.len() as u64,
            ]);
            r.counts.extend(&inner.counts);
            r.units.extend(inner.units);
            r.reals.extend(inner.reals);
        }
        r
    }
}

impl<S> ParallelTempering<S> {
    /// Tempering around `inner` on `ladder`.
    pub fn new(inner: S, ladder: Ladder) -> Self {
        ParallelTempering { inner, ladder, adapt_sweeps: 0 }
    }

    /// Adapts each chain's ladder toward uniform swap rates during its first
    /// `sweeps` sweeps (re-spacing every 50 sweeps), then freezes it.
    pub fn adapt_during(mut self, sweeps: u64) -> Self {
        self.adapt_sweeps = sweeps;
        self
    }

    /// The initial ladder.
    pub fn ladder(&self) -> &Ladder {
        &self.ladder
    }

    /// The inner sampler.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The same tempering with the inner sampler transformed by `f`.
    pub fn map_inner<T>(self, f: impl FnOnce(S) -> T) -> ParallelTempering<T> {
        ParallelTempering {
            inner: f(self.inner),
            ladder: self.ladder,
            adapt_sweeps: self.adapt_sweeps,
        }
    }
}

/// The number of factors tempering exchanges one by one: the model's
/// `n_factors()` when it divides the units into equal blocks, else 1.
fn parts_of<M: EnergyModel + ?Sized>(model: &M) -> usize {
    let f = model.n_factors();
    if f > 1 && model.n_units().is_multiple_of(f) { f } else { 1 }
}

/// Re-spaces `fractions` in log β so that pairs with low swap rates get
/// narrower gaps, keeping both ends fixed.
fn respace(fractions: &mut [f64], rates: &[f64]) {
    let logs: Vec<f64> = fractions.iter().map(|f| f.ln()).collect();
    let gaps: Vec<f64> = logs.windows(2).map(|w| w[1] - w[0]).collect();
    let total: f64 = gaps.iter().sum();
    let weights: Vec<f64> = gaps
        .iter()
        .zip(rates)
        .map(|(g, r)| g * (if r.is_nan() { 0.5 } else { *r } + 0.05))
        .collect();
    let wsum: f64 = weights.iter().sum();
    if !(wsum > 0.0 && total > 0.0) {
        return;
    }
    let mut acc = logs[0];
    for (k, w) in weights.iter().enumerate() {
        acc += total * w / wsum;
        fractions[k + 1] = acc.exp();
    }
    let last = fractions.len() - 1;
    fractions[last] = 1.0;
}

impl<M, S> Sampler<M> for ParallelTempering<S>
where
    M: EnergyModel + ?Sized,
    S: Sampler<M>,
{
    type Chain = TemperingChain<S::Chain>;

    /// The ladder adapts during the first `adapt_during` sweeps: they must be
    /// warm-up.
    fn min_warmup(&self) -> usize {
        usize::try_from(self.adapt_sweeps).unwrap_or(usize::MAX)
    }

    /// Every replica starts at `x0`.
    fn start(&self, model: &M, x0: &[UnitOf<M>]) -> Result<Self::Chain> {
        let k = self.ladder.len();
        let f = parts_of(model);
        let first = self.inner.start(model, x0)?;
        let mut c = TemperingChain {
            replicas: vec![first; k],
            parts: f,
            energies: vec![0.0; k * f],
            fractions: self.ladder.fractions.clone(),
            attempts: vec![0; k - 1],
            accepts: vec![0; k - 1],
            walker_at: (0..f).flat_map(|_| 0..k).collect(),
            last_end: vec![0; k * f],
            round_trips: 0,
            sweeps: 0,
        };
        (0..k).for_each(|r| c.refresh_energies(model, r));
        Ok(c)
    }

    /// Rebuilds a chain from [`Chain::record`] (see its layout), restoring
    /// each replica through the inner sampler and recomputing the cached
    /// energies; a record of one state only (an older checkpoint) starts
    /// every replica there, as [`Sampler::start`].
    fn restore(&self, model: &M, record: &ChainRecord<UnitOf<M>>) -> Result<Self::Chain> {
        if record.counts.is_empty() {
            return self.start(model, &record.units);
        }
        let mut rd = Counts { counts: &record.counts, pos: 0 };
        let k = usize::try_from(rd.next("the number of replicas")?).unwrap_or(usize::MAX);
        if k != self.ladder.len() {
            return Err(bad(format!("{k} replicas, the sampler has {}", self.ladder.len())));
        }
        let sweeps = rd.next("the sweep count")?;
        let round_trips = rd.next("the round trips")?;
        let attempts = rd.take(k - 1, "the swap attempts")?;
        let accepts = rd.take(k - 1, "the swap accepts")?;
        let f = parts_of(model);
        let walker_at: Vec<usize> =
            rd.take(k * f, "the walkers")?.into_iter().map(|w| w as usize).collect();
        let last_end: Vec<u8> =
            rd.take(k * f, "the walkers' ends")?.into_iter().map(|e| e as u8).collect();
        if walker_at.iter().any(|&w| w >= k) || accepts.iter().zip(&attempts).any(|(a, t)| a > t) {
            return Err(bad("walker or swap counters out of range".into()));
        }
        if record.reals.len() < k {
            return Err(bad("fewer reals than replicas".into()));
        }
        let fractions = record.reals[..k].to_vec();
        Ladder::new(fractions.clone()).map_err(|e| bad(format!("recorded ladder: {e}")))?;
        let (mut u0, mut r0) = (0usize, k);
        let mut replicas = Vec::with_capacity(k);
        for _ in 0..k {
            let nu = rd.next("a replica's units")? as usize;
            let nc = rd.next("a replica's counts")? as usize;
            let nr = rd.next("a replica's reals")? as usize;
            let inner_counts = rd.take(nc, "a replica's counts")?;
            if u0.saturating_add(nu) > record.units.len()
                || r0.saturating_add(nr) > record.reals.len()
            {
                return Err(bad("a replica's record runs past the end".into()));
            }
            let inner = ChainRecord {
                units: record.units[u0..u0 + nu].to_vec(),
                counts: inner_counts,
                reals: record.reals[r0..r0 + nr].to_vec(),
            };
            u0 += nu;
            r0 += nr;
            replicas.push(self.inner.restore(model, &inner)?);
        }
        if rd.pos != record.counts.len() || u0 != record.units.len() || r0 != record.reals.len() {
            return Err(bad("trailing values".into()));
        }
        let mut c = TemperingChain {
            replicas,
            parts: f,
            energies: vec![0.0; k * f],
            fractions,
            attempts,
            accepts,
            walker_at,
            last_end,
            round_trips,
            sweeps,
        };
        (0..k).for_each(|r| c.refresh_energies(model, r));
        Ok(c)
    }

    fn sweep<R: rand::Rng + ?Sized>(
        &self,
        model: &M,
        c: &mut Self::Chain,
        beta: Beta,
        rng: &mut R,
    ) {
        let k = c.replicas.len();
        for r in 0..k {
            self.inner.sweep(model, &mut c.replicas[r], beta.scaled_down(c.fractions[r]), rng);
            c.refresh_energies(model, r);
        }
        self.exchange(c, beta, rng);
    }

    /// Each rung of every chain as one batch of the inner sampler
    /// (`sweep_batch`: one GEMM per layer for the RBM's block Gibbs), then
    /// each chain's exchanges. A chain draws from its own stream in the order
    /// [`Sampler::sweep`] does (its rungs bottom up, then its exchanges), so
    /// the result is `sweep`'s wherever the inner sampler's batch is its
    /// `sweep`'s. Chains whose ladders differ (adapted during warm-up) are
    /// swept one by one.
    fn sweep_batch<R: rand::Rng>(
        &self,
        model: &M,
        chains: &mut [Self::Chain],
        beta: Beta,
        rngs: &mut [R],
    ) {
        let n = chains.len().min(rngs.len());
        let (chains, rngs) = (&mut chains[..n], &mut rngs[..n]);
        let k = self.ladder.len();
        let same =
            chains.iter().all(|c| c.replicas.len() == k && c.fractions == chains[0].fractions);
        if n < 2 || !same {
            for (c, r) in chains.iter_mut().zip(rngs.iter_mut()) {
                self.sweep(model, c, beta, r);
            }
            return;
        }
        // the replicas rung-major (moved, not copied): rung r is one batch
        let mut rungs: Vec<S::Chain> = Vec::with_capacity(n * k);
        {
            let mut drains: Vec<_> = chains.iter_mut().map(|c| c.replicas.drain(..)).collect();
            for _ in 0..k {
                rungs.extend(drains.iter_mut().filter_map(Iterator::next));
            }
        }
        // (the ladder stays in the chains: only their replicas were moved)
        let ladder = &chains[0].fractions;
        for (batch, &f) in rungs.chunks_mut(n).zip(ladder) {
            self.inner.sweep_batch(model, batch, beta.scaled_down(f), rngs);
        }
        for (i, replica) in rungs.into_iter().enumerate() {
            chains[i % n].replicas.push(replica);
        }
        // the energies in parallel (a dense model's energy is the costly
        // part: the RBM's reads nnz(v) rows of W), the exchanges in order
        use rayon::prelude::*;
        chains.par_iter_mut().for_each(|c| (0..k).for_each(|r| c.refresh_energies(model, r)));
        for (c, rng) in chains.iter_mut().zip(rngs.iter_mut()) {
            self.exchange(c, beta, rng);
        }
    }
}

impl<S> ParallelTempering<S> {
    /// The exchange half of a sweep: neighbouring rungs (even pairs on even
    /// sweeps, odd on odd) swap with the Metropolis probability of their
    /// energies, factor by factor where the model has independent factors;
    /// then the round-trip bookkeeping and, during warm-up, the adaptation.
    fn exchange<C: Chain, R: rand::Rng + ?Sized>(
        &self,
        c: &mut TemperingChain<C>,
        beta: Beta,
        rng: &mut R,
    ) {
        let k = c.replicas.len();
        let (parity, f) = ((c.sweeps % 2) as usize, c.parts);
        for i in (parity..k - 1).step_by(2) {
            let j = i + 1;
            let bi = beta.scaled_down(c.fractions[i]).value();
            let bj = beta.scaled_down(c.fractions[j]).value();
            if f > 1 && c.replicas[i].units_mut().is_some() {
                // each factor on its own: F independent ladders
                let m = c.replicas[i].state().len() / f;
                for p in 0..f {
                    let log_a = (bi - bj) * (c.energies[i * f + p] - c.energies[j * f + p]);
                    c.attempts[i] += 1;
                    if log_a >= 0.0 || uniform(rng) < log_a.exp() {
                        c.accepts[i] += 1;
                        let (lo, hi) = c.replicas.split_at_mut(j);
                        if let (Some(a), Some(b)) = (lo[i].units_mut(), hi[0].units_mut()) {
                            a[p * m..(p + 1) * m].swap_with_slice(&mut b[p * m..(p + 1) * m]);
                        }
                        c.energies.swap(i * f + p, j * f + p);
                        c.walker_at.swap(p * k + i, p * k + j);
                    }
                }
            } else {
                let total = |r: usize| c.energies[r * f..(r + 1) * f].iter().sum::<f64>();
                let log_a = (bi - bj) * (total(i) - total(j));
                c.attempts[i] += 1;
                if log_a >= 0.0 || uniform(rng) < log_a.exp() {
                    c.accepts[i] += 1;
                    c.replicas.swap(i, j);
                    for p in 0..f {
                        c.energies.swap(i * f + p, j * f + p);
                        c.walker_at.swap(p * k + i, p * k + j);
                    }
                }
            }
        }
        c.track_ends();
        c.sweeps += 1;
        if c.sweeps <= self.adapt_sweeps && c.sweeps.is_multiple_of(50) {
            let rates = c.swap_rates();
            respace(&mut c.fractions, &rates);
            c.attempts.iter_mut().for_each(|a| *a = 0);
            c.accepts.iter_mut().for_each(|a| *a = 0);
        }
    }
}
