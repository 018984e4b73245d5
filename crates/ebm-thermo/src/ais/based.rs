//! AIS along a path from a base of its own (see [`super::path`]): forward,
//! reverse, the sandwich of both, and RAISE.
//!
//! ```text
//! p_t ∝ e^{−β ((1 − t) E₀ + t E)},   ln w = −β Σ_k (t_k − t_{k−1}) (E(x_k) − E₀(x_k))
//! forward: x_1 ~ p_0,  E[w] = Z(β) / Z₀(β);   reverse: x ~ p_1,  E[w] = Z₀(β) / Z(β)
//! ```
//!
//! A model whose block sweeps have a kernel of their own
//! ([`EnergyModel::anneal_runs`]) runs the path itself when the base is one
//! of independent sites ([`Base::site_fields`]) and the sampler's sweep is a
//! plain block sweep: the RBM's base-rate path of Salakhutdinov and Murray
//! (2008), its hidden layer summed out and its runs batched, is
//! `Ais::log_z_from(&rbm, &base, &Gibbs::block(), β, seed)`.

use super::estimate::mean_visible_log_marginal;
use super::*;
use ebm_core::{AnnealBase, ChainRng, LogLinear, StateSpace};

/// Runs of the generic path swept together as one batch.
pub const AIS_BATCH: usize = 16;

/// Where the runs of a path start and draw.
struct Runs<'a, U> {
    n_runs: usize,
    /// `None`: exact draws from the base; else run r starts at row r.
    starts: Option<&'a [U]>,
    seed: Seed,
    stream_offset: u64,
    /// RAISE: one sweep at the path's first point before the first weight.
    first_sweep: bool,
    /// What may run the path: `false` when only a model kernel is valid
    /// (RAISE on a model with latent units).
    generic: bool,
}

impl Ais {
    /// ln Z(β) by AIS along `E_t = (1 − t) E₀ + t E` from `base`, over the
    /// schedule's grid read as t ∈ [0, 1]; each intermediate distribution
    /// is swept at β by `sampler` on the [`Interpolated`] model, or the
    /// model's own kernel runs the whole path ([`EnergyModel::anneal_runs`],
    /// when `base` is one of independent sites and the sweep a plain block sweep).
    /// Run r draws its base state and its moves from
    /// `seed.stream(Purpose::AIS, r)`; generic runs are swept in batches of
    /// [`AIS_BATCH`] (`sweep_batch`, so a model's batched hooks serve them),
    /// and the result is bit-identical for any thread count.
    ///
    /// Errors: a schedule that does not validate, sampler start errors.
    pub fn log_z_from<M, B, S>(
        &self,
        model: &M,
        base: &B,
        sampler: &S,
        beta: Beta,
        seed: Seed,
    ) -> Result<LogZEstimate>
    where
        M: EnergyModel + ?Sized,
        B: Base<M::Space> + Sync,
        S: for<'a> Sampler<Interpolated<'a, M, B>>,
    {
        let path = path_betas(self.schedule(), Beta::ONE, false)?;
        let runs = Runs {
            n_runs: self.n_runs(),
            starts: None,
            seed,
            stream_offset: 0,
            first_sweep: false,
            generic: true,
        };
        let lw = run_paths(model, base, sampler, beta, &path, &runs)?;
        LogZEstimate::from_log_weights(base.base_log_z(beta), &lw)
    }

    /// Reverse AIS along the same path, from the model (t = 1) down to the
    /// base, run r starting at row r of `starts` (rows of `n_units()`
    /// values, at least R; only the first R are used), which should be
    /// samples of `p_β` (exact, or from long or persistent chains). The
    /// result is a stochastic upper bound on ln Z. Streams:
    /// `seed.stream(Purpose::AIS, REVERSE_STREAM_OFFSET + r)`.
    ///
    /// Errors: fewer than R rows or a length not a multiple of `n_units()`
    /// ([`Error::ShapeMismatch`]), values outside the space, an invalid schedule.
    pub fn reverse_log_z_from<M, B, S>(
        &self,
        model: &M,
        base: &B,
        sampler: &S,
        beta: Beta,
        starts: &[UnitOf<M>],
        seed: Seed,
    ) -> Result<LogZEstimate>
    where
        M: EnergyModel + ?Sized,
        B: Base<M::Space> + Sync,
        S: for<'a> Sampler<Interpolated<'a, M, B>>,
    {
        let starts = self.reverse_starts(model, starts)?;
        let path = path_betas(self.schedule(), Beta::ONE, true)?;
        let runs = Runs {
            n_runs: self.n_runs(),
            starts: Some(starts),
            seed,
            stream_offset: REVERSE_STREAM_OFFSET,
            first_sweep: false,
            generic: true,
        };
        let lw = run_paths(model, base, sampler, beta, &path, &runs)?;
        LogZEstimate::from_reverse_log_weights(base.base_log_z(beta), &lw)
    }

    /// Forward and reverse AIS from `base` together (see [`Sandwich`]).
    pub fn sandwich_from<M, B, S>(
        &self,
        model: &M,
        base: &B,
        sampler: &S,
        beta: Beta,
        starts: &[UnitOf<M>],
        seed: Seed,
    ) -> Result<Sandwich>
    where
        M: EnergyModel + ?Sized,
        B: Base<M::Space> + Sync,
        S: for<'a> Sampler<Interpolated<'a, M, B>>,
    {
        Ok(Sandwich {
            forward: self.log_z_from(model, base, sampler, beta, seed)?,
            reverse: self.reverse_log_z_from(model, base, sampler, beta, starts, seed)?,
        })
    }

    /// A conservative mean log-likelihood of `data` (rows of `n_visible()`
    /// values) by RAISE along the path from `base` (see [`RaiseEstimate`]):
    /// `n_points` rows spread evenly through the data (row
    /// `⌊i · rows / n_points⌋`; all rows when `n_points ≥ rows`) each start
    /// `runs_per_point` reverse runs — one sweep at t = 1, then the schedule
    /// down to the base. `ln f(v)` ([`LogLinear::visible_log_marginal`]) is
    /// averaged over every row. Where forward AIS over-states the
    /// log-likelihood (in expectation), this under-states it; both tighten
    /// as the schedule grows. Run r (point-major) draws from
    /// `seed.stream(Purpose::AIS, RAISE_STREAM_OFFSET + r)`; the result does
    /// not depend on the number of threads.
    ///
    /// A model with latent units needs both a closed-form visible marginal
    /// and its own kernel for the path (the RBM has both); the generic
    /// runner serves fully visible models.
    ///
    /// Errors: data empty, of the wrong width or outside the space
    /// ([`Error::ShapeMismatch`], [`Error::InvalidUnitValue`]), zero points
    /// or runs per point ([`Error::InvalidParameter`]), a model without
    /// what RAISE needs ([`Error::Unsupported`]), an invalid schedule.
    #[allow(clippy::too_many_arguments)]
    pub fn raise_from<M, B, S>(
        &self,
        model: &M,
        base: &B,
        sampler: &S,
        beta: Beta,
        data: &[UnitOf<M>],
        n_points: usize,
        runs_per_point: usize,
        seed: Seed,
    ) -> Result<RaiseEstimate>
    where
        M: LogLinear + ?Sized,
        B: Base<M::Space> + Sync,
        S: for<'a> Sampler<Interpolated<'a, M, B>>,
    {
        let (n, nv) = (model.n_units(), model.n_visible());
        at_least("n_points", n_points, 1)?;
        at_least("runs_per_point", runs_per_point, 1)?;
        let mean_log_f = mean_visible_log_marginal(model, data, beta)?;
        let rows = data.len() / nv;
        let unsupported = || Error::Unsupported {
            what: "RAISE",
            reason: "the model's latent units have no closed-form marginal".into(),
        };
        // each point's row, repeated per run; latent units are placeholders
        // (only a model kernel, which sums them out, runs such starts)
        let points = n_points.min(rows);
        let mut starts = Vec::with_capacity(points * runs_per_point * n);
        for i in 0..points {
            let row = i * rows / points;
            for _ in 0..runs_per_point {
                starts.extend_from_slice(&data[row * nv..(row + 1) * nv]);
                starts.extend((nv..n).map(|u| model.space().fixed_value(u)));
            }
        }
        let path = path_betas(self.schedule(), Beta::ONE, true)?;
        let runs = Runs {
            n_runs: points * runs_per_point,
            starts: Some(&starts),
            seed,
            stream_offset: RAISE_STREAM_OFFSET,
            first_sweep: true,
            generic: nv == n,
        };
        let log_z0 = base.base_log_z(beta);
        let lw = run_paths(model, base, sampler, beta, &path, &runs).map_err(|e| match e {
            Error::Unsupported { .. } => unsupported(),
            e => e,
        })?;
        let corrections: Vec<f64> = lw.iter().map(|w| w - log_z0).collect();
        RaiseEstimate::from_corrections(mean_log_f, &corrections, runs_per_point)
    }
}

/// The log-weights of `runs` along `path` (t values, in visiting order), by
/// the model's kernel when it has one for this base and sampler, else by
/// sweeping `sampler` on the [`Interpolated`] models.
fn run_paths<M, B, S>(
    model: &M,
    base: &B,
    sampler: &S,
    beta: Beta,
    path: &[f64],
    runs: &Runs<'_, UnitOf<M>>,
) -> Result<Vec<f64>>
where
    M: EnergyModel + ?Sized,
    B: Base<M::Space> + Sync,
    S: for<'a> Sampler<Interpolated<'a, M, B>>,
{
    let b = beta.value();
    let rule = Sampler::<Interpolated<'_, M, B>>::block_rule(sampler);
    if let (Some(rule), Some(fields)) = (rule, base.site_fields()) {
        let s_path: Vec<f64> = path.iter().map(|t| b * t).collect();
        let kernel = AnnealRuns {
            rule,
            path: &s_path,
            starts: runs.starts,
            n_runs: runs.n_runs,
            seed: runs.seed,
            stream_offset: runs.stream_offset,
            base: Some(AnnealBase { fields, beta: b }),
            first_sweep: runs.first_sweep,
        };
        if let Some(lw) = model.anneal_runs(&kernel) {
            return lw;
        }
    }
    if !runs.generic {
        return Err(Error::Unsupported {
            what: "AIS from these starts",
            reason: "no model kernel for the path".into(),
        });
    }
    let n = model.n_units();
    let n_runs = runs.n_runs as u64;
    let at = |t: f64| Interpolated { target: model, base, t };
    // fixed chunks of runs, each swept as one batch (one GEMM per block for
    // models with batched hooks); run r keeps its own stream, so the result
    // does not depend on the chunking or the thread count
    let firsts: Vec<u64> = (0..n_runs).step_by(AIS_BATCH).collect();
    let chunks: Vec<Vec<f64>> = firsts
        .into_par_iter()
        .map(|first| {
            let end = (first + AIS_BATCH as u64).min(n_runs);
            let mut rngs: Vec<ChainRng> = (first..end)
                .map(|r| runs.seed.stream(Purpose::AIS, runs.stream_offset + r))
                .collect();
            let mut chains = rngs
                .iter_mut()
                .zip(first..end)
                .map(|(rng, r)| match runs.starts {
                    Some(s) => {
                        sampler.start(&at(path[0]), &s[r as usize * n..(r as usize + 1) * n])
                    }
                    None => {
                        let mut x: Vec<UnitOf<M>> =
                            (0..n).map(|i| model.space().fixed_value(i)).collect();
                        base.base_draw(beta, rng, &mut x);
                        sampler.start(&at(path[0]), &x)
                    }
                })
                .collect::<Result<Vec<_>>>()?;
            if runs.first_sweep {
                sampler.sweep_batch(&at(path[0]), &mut chains, beta, &mut rngs);
            }
            let last = path.len() - 1;
            let mut lw = vec![0.0; chains.len()];
            for k in 1..=last {
                for (w, chain) in lw.iter_mut().zip(&chains) {
                    let s = chain.state();
                    let gap = model.energy(s) - base.base_energy(s);
                    *w -= b * (path[k] - path[k - 1]) * gap;
                }
                if k < last {
                    sampler.sweep_batch(&at(path[k]), &mut chains, beta, &mut rngs);
                }
            }
            Ok(lw)
        })
        .collect::<Result<_>>()?;
    Ok(chunks.into_iter().flatten().collect())
}
