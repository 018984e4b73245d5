//! Annealed importance sampling runs, forward and reverse, with any sampler.

use super::*;

/// Annealed importance sampling for any model over a [`UniformSpace`]
/// (binary, categorical, angles) with any [`Sampler`] as the transition
/// kernel: `ln Z(β) = ln Z₀ + ln E[w]`, `ln Z₀ = N ln 2` for binary units
/// (`Σ ln q_i` categorical, `N ln 2π` angles; see the
/// [module docs](super)).
///
/// ```
/// use ebm_core::{Beta, BinaryModel, Domain, EnergyModel, Seed, Sampler};
/// use ebm_thermo::ais::{Ais, Schedule};
/// # use ebm_core::{Chain, Result, uniform};
/// # use ebm_core::rand_core::Rng;
/// # struct Heat; #[derive(Clone)] struct S(Vec<i8>);
/// # impl Chain for S { type Unit = i8; fn state(&self) -> &[i8] { &self.0 } }
/// # impl<M: BinaryModel + ?Sized> Sampler<M> for Heat {
/// #     type Chain = S;
/// #     fn start(&self, _: &M, x: &[i8]) -> Result<S> { Ok(S(x.to_vec())) }
/// #     fn sweep<R: Rng + ?Sized>(&self, m: &M, c: &mut S, b: Beta, rng: &mut R) {
/// #         for i in 0..c.0.len() {
/// #             let d = m.flip_delta(&c.0, i);
/// #             if uniform(rng) < 1.0 / (1.0 + (b.value() * d).exp()) { c.0[i] = -c.0[i]; }
/// #         }
/// #     }
/// # }
/// /// Two coupled spins: Z = 2 e^{β} + 2 e^{−β}.
/// struct Pair;
/// impl EnergyModel for Pair {
///     type Space = Domain;
///     fn n_units(&self) -> usize { 2 }
///     fn space(&self) -> &Domain { &Domain::Spin }
///     fn energy(&self, s: &[i8]) -> f64 { -f64::from(s[0] * s[1]) }
/// }
/// impl BinaryModel for Pair {}
///
/// let est = Ais::new(Schedule::Linear(100), 200)?.log_z(&Pair, &Heat, Beta::ONE, Seed(1))?;
/// let exact = (2.0 * 1f64.exp() + 2.0 * (-1f64).exp()).ln();
/// assert!(est.contains(exact));
/// # Ok::<(), ebm_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Ais {
    schedule: Schedule,
    n_runs: usize,
}

impl Ais {
    /// AIS along `schedule` with `n_runs` independent runs.
    ///
    /// Errors: `n_runs == 0` ([`Error::InvalidParameter`]). The schedule is
    /// validated against the target β when a run starts.
    pub fn new(schedule: Schedule, n_runs: usize) -> Result<Self> {
        at_least("n_runs", n_runs, 1)?;
        Ok(Ais { schedule, n_runs })
    }

    /// The schedule.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// Number of runs R.
    pub fn n_runs(&self) -> usize {
        self.n_runs
    }

    /// The forward log-weights `ln w_r`, r = 0..R, in run order
    /// (`E[w] = Z(β) / Z₀`, `Z₀ = 2^N` for binary units).
    pub fn log_weights<M, S>(
        &self,
        model: &M,
        sampler: &S,
        beta: Beta,
        seed: Seed,
    ) -> Result<Vec<f64>>
    where
        M: EnergyModel<Space: UniformSpace> + ?Sized,
        S: Sampler<M>,
    {
        let path = path_betas(&self.schedule, beta, false)?;
        if let Some(lw) = self.model_kernel(model, sampler, &path, None, seed, 0) {
            return lw;
        }
        let (n, space) = (model.n_units(), model.space());
        (0..self.n_runs as u64)
            .into_par_iter()
            .map(|r| {
                let mut rng = seed.stream(Purpose::AIS, r);
                let x = rng.random_state(space, n);
                run_path(model, sampler, &x, &path, &mut rng)
            })
            .collect()
    }

    /// Forward AIS: `ln Z(β)` from R runs starting at the uniform distribution.
    ///
    /// Errors: an invalid schedule, and whatever the sampler's `start` returns.
    pub fn log_z<M, S>(
        &self,
        model: &M,
        sampler: &S,
        beta: Beta,
        seed: Seed,
    ) -> Result<LogZEstimate>
    where
        M: EnergyModel<Space: UniformSpace> + ?Sized,
        S: Sampler<M>,
    {
        let lw = self.log_weights(model, sampler, beta, seed)?;
        LogZEstimate::from_log_weights(log_z0(model), &lw)
    }

    /// Reverse AIS: the same path run from β down to 0, run r starting at row
    /// r of `starts` (rows of `n_units()` values, at least R of them; only the
    /// first R are used), which should be samples of `p_β` (exact, or from a
    /// long MCMC run). The weights `w = Π_k f_{k−1}(x_k)/f_k(x_k)
    /// = exp(Σ_k (β_k − β_{k−1}) E(x_k))` have `E[w] = Z₀ / Z(β)`, so the
    /// result is a stochastic upper bound on ln Z. Streams:
    /// `seed.stream(Purpose::AIS, REVERSE_STREAM_OFFSET + r)`.
    ///
    /// Errors: fewer than R rows or a length not a multiple of `n_units()`
    /// ([`Error::ShapeMismatch`]), values outside the domain, an invalid schedule.
    pub fn reverse_log_z<M, S>(
        &self,
        model: &M,
        sampler: &S,
        beta: Beta,
        starts: &[UnitOf<M>],
        seed: Seed,
    ) -> Result<LogZEstimate>
    where
        M: EnergyModel<Space: UniformSpace> + ?Sized,
        S: Sampler<M>,
    {
        let n = model.n_units();
        let starts = self.reverse_starts(model, starts)?;
        let path = path_betas(&self.schedule, beta, true)?;
        let kernel =
            self.model_kernel(model, sampler, &path, Some(starts), seed, REVERSE_STREAM_OFFSET);
        if let Some(lw) = kernel {
            return LogZEstimate::from_reverse_log_weights(log_z0(model), &lw?);
        }
        let lw: Vec<f64> = (0..self.n_runs)
            .into_par_iter()
            .map(|r| {
                let mut rng = seed.stream(Purpose::AIS, REVERSE_STREAM_OFFSET + r as u64);
                run_path(model, sampler, &starts[r * n..(r + 1) * n], &path, &mut rng)
            })
            .collect::<Result<_>>()?;
        LogZEstimate::from_reverse_log_weights(log_z0(model), &lw)
    }

    /// The runs by the model's own kernel ([`EnergyModel::anneal_runs`]) when
    /// the sampler's sweep is a plain block sweep and the model has one.
    fn model_kernel<M, S>(
        &self,
        model: &M,
        sampler: &S,
        path: &[f64],
        starts: Option<&[UnitOf<M>]>,
        seed: Seed,
        stream_offset: u64,
    ) -> Option<Result<Vec<f64>>>
    where
        M: EnergyModel + ?Sized,
        S: Sampler<M>,
    {
        let rule = sampler.block_rule()?;
        let runs = AnnealRuns {
            rule,
            path,
            starts,
            n_runs: self.n_runs,
            seed,
            stream_offset,
            base: None,
            first_sweep: false,
        };
        model.anneal_runs(&runs)
    }

    /// Forward and reverse AIS together (see [`Sandwich`]).
    pub fn sandwich<M, S>(
        &self,
        model: &M,
        sampler: &S,
        beta: Beta,
        starts: &[UnitOf<M>],
        seed: Seed,
    ) -> Result<Sandwich>
    where
        M: EnergyModel<Space: UniformSpace> + ?Sized,
        S: Sampler<M>,
    {
        Ok(Sandwich {
            forward: self.log_z(model, sampler, beta, seed)?,
            reverse: self.reverse_log_z(model, sampler, beta, starts, seed)?,
        })
    }
}

/// The visiting order `s_0, …, s_K` of a path: `[0, β_1, …, β_K]` forward,
/// `[β_K, …, β_1, 0]` reverse.
pub fn path_betas(schedule: &Schedule, beta: Beta, reverse: bool) -> Result<Vec<f64>> {
    let mut path = vec![0.0];
    path.extend(schedule.betas(beta)?);
    if reverse {
        path.reverse();
    }
    Ok(path)
}

/// One run along `path` from `x`: `ln w = −Σ_t (s_t − s_{t−1}) E(x_t)`, with a
/// sweep at `s_t` after every increment but the last.
fn run_path<M, S, R>(
    model: &M,
    sampler: &S,
    x: &[UnitOf<M>],
    path: &[f64],
    rng: &mut R,
) -> Result<f64>
where
    M: EnergyModel<Space: UniformSpace> + ?Sized,
    S: Sampler<M>,
    R: Rng,
{
    let mut chain = sampler.start(model, x)?;
    let last = path.len() - 1;
    let mut lw = 0.0;
    for t in 1..=last {
        lw -= (path[t] - path[t - 1]) * model.energy(chain.state());
        if t < last {
            // interior β of a validated schedule: finite and > 0
            sampler.sweep(model, &mut chain, Beta::new(path[t])?, rng);
        }
    }
    Ok(lw)
}
