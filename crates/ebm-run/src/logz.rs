//! The ln Z estimate of `ebm logz` and `ebm.log_z`: annealed importance
//! sampling or thermodynamic integration with an interval, and the exact
//! value beside it whenever that is cheap.

use ebm_core::{Beta, EnergyModel, Error, FiniteModel, FiniteSpace, Result, Seed};
use ebm_models::boltzmann::BoltzmannMachine;
use ebm_models::ising::{Boundary, Ising};
use ebm_models::potts::Potts;
use ebm_models::potts_rbm::PottsRbm;
use ebm_models::rbm::Rbm;
use ebm_models::rbm_ais::base_rate;
use ebm_samplers::{Gibbs, SiteMoves};
use ebm_thermo::ais::{Ais, LogZEstimate, Schedule, Ti};
use serde::Serialize;

/// The estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Annealed importance sampling from β = 0 (an RBM at β = 1 anneals
    /// from its base-rate model, the hidden units summed analytically).
    Ais,
    /// Thermodynamic integration of ⟨E⟩ over β.
    Ti,
}

impl Method {
    /// `"ais"` or `"ti"`.
    pub fn name(self) -> &'static str {
        match self {
            Method::Ais => "ais",
            Method::Ti => "ti",
        }
    }
}

/// What `ebm logz --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct LogZOut {
    /// The model spec.
    pub model: String,
    /// The inverse temperature.
    pub beta: f64,
    /// `"ais"` or `"ti"`.
    pub method: &'static str,
    /// The estimate of ln Z.
    pub log_z: f64,
    /// Its standard error.
    pub std_err: f64,
    /// The interval's lower end.
    pub lower: f64,
    /// The interval's upper end.
    pub upper: f64,
    /// The effective sample size of the importance weights (AIS).
    pub ess: f64,
    /// Independent runs.
    pub n_runs: usize,
    /// The exact ln Z when it is known: enumeration for small models, the
    /// smaller layer's sum for small RBMs, Kaufman's formula for the periodic
    /// 2D Ising lattice without a field.
    pub exact_log_z: Option<f64>,
    /// Wall time.
    pub seconds: f64,
}

/// The largest smaller layer of an RBM whose ln Z is summed exactly beside
/// every estimate (2^25 terms: seconds at 784 × 25 on two cores).
pub const EXACT_RBM_LAYER: usize = 25;

/// The ln Z paths of a model: the estimate (the generic AIS/TI with block
/// Gibbs unless the model has its own) and the exact value when it is
/// cheap (enumeration up to 2^24 states unless the model knows better).
pub trait LogZPaths: FiniteModel
where
    Self::Space: SiteMoves<Self>,
{
    /// ln Z by `method` over `n_betas` temperatures and `n_runs` runs;
    /// `marginals` (the data's visible marginals) is the base rate of an
    /// RBM's AIS path and an error for any other model.
    fn estimate(
        &self,
        method: Method,
        beta: Beta,
        n_betas: usize,
        n_runs: usize,
        seed: Seed,
        marginals: Option<&[f64]>,
    ) -> Result<LogZEstimate> {
        if marginals.is_some() {
            return Err(Error::Unsupported {
                what: "data",
                reason: "the data's marginals are the base rate of an RBM's AIS path: other models anneal from β = 0".into(),
            });
        }
        generic(self, method, beta, n_betas, n_runs, seed)
    }

    /// The exact ln Z when it is cheap.
    fn exact_if_cheap(&self, beta: Beta) -> Option<f64> {
        let cheap = self.space().n_states(self.n_units()).is_some_and(|s| s <= 1 << 24);
        cheap.then(|| ebm_thermo::exact_log_z(self, beta).ok()).flatten()
    }
}

/// AIS on a linear schedule, or TI on `n_betas` rounded up to a multiple of
/// 4 intervals (200 burn-in, 1000 sweeps each), with block Gibbs.
fn generic<M>(
    model: &M,
    method: Method,
    beta: Beta,
    n_betas: usize,
    n_runs: usize,
    seed: Seed,
) -> Result<LogZEstimate>
where
    M: FiniteModel + ?Sized,
    M::Space: SiteMoves<M>,
{
    let sampler = Gibbs::block();
    match method {
        Method::Ais => {
            Ais::new(Schedule::Linear(n_betas), n_runs)?.log_z(model, &sampler, beta, seed)
        }
        Method::Ti => {
            let intervals = n_betas.div_ceil(4).max(1) * 4;
            let ti = Ti { intervals, n_chains: n_runs, burn_in: 200, n_sweeps: 1000 };
            Ok(ti.log_z(model, &sampler, beta, seed)?.to_log_z_estimate(n_runs))
        }
    }
}

impl LogZPaths for Ising {
    /// Kaufman's closed form for a periodic 2D lattice without a field past
    /// enumeration.
    fn exact_if_cheap(&self, beta: Beta) -> Option<f64> {
        if self.n_units() <= 24 {
            return ebm_thermo::exact_log_z(self, beta).ok();
        }
        match (self.lattice_dims(), self.boundary(), self.uniform_couplings()) {
            (Some([l, c]), Some(Boundary::Periodic), Some((j, 0.0))) => {
                let z = ebm_thermo::kaufman::kaufman_log_z(*l, *c, j, beta.value());
                z.is_finite().then_some(z)
            }
            _ => None,
        }
    }
}

impl LogZPaths for Rbm {
    /// AIS anneals from the base-rate model of the data's marginals when
    /// given (else from the uniform distribution), at any β, by the RBM's
    /// kernel (hidden units summed analytically, runs batched).
    fn estimate(
        &self,
        method: Method,
        beta: Beta,
        n_betas: usize,
        n_runs: usize,
        seed: Seed,
        marginals: Option<&[f64]>,
    ) -> Result<LogZEstimate> {
        if let Some(m) = marginals {
            ebm_core::check_len("data width (n_visible)", self.n_visible(), m.len())?;
        }
        match method {
            Method::Ais => {
                let ais = Ais::new(Schedule::StandardScaled(n_betas.max(3)), n_runs)?;
                match marginals {
                    Some(m) => {
                        ais.log_z_from(self, &base_rate(self, m)?, &Gibbs::block(), beta, seed)
                    }
                    None => ais.log_z(self, &Gibbs::block(), beta, seed),
                }
            }
            _ => generic(self, method, beta, n_betas, n_runs, seed),
        }
    }

    /// The sum over the smaller layer, up to [`EXACT_RBM_LAYER`] units.
    fn exact_if_cheap(&self, beta: Beta) -> Option<f64> {
        (self.n_visible().min(self.n_hidden()) <= EXACT_RBM_LAYER)
            .then(|| self.exact_log_z(beta).ok())
            .flatten()
    }
}

impl LogZPaths for BoltzmannMachine {}
impl LogZPaths for Potts {}
impl LogZPaths for PottsRbm {}

/// What one estimate is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The estimator.
    pub method: Method,
    /// Temperatures of the path.
    pub n_betas: usize,
    /// Independent runs.
    pub n_runs: usize,
    /// The seed the runs' streams derive from.
    pub seed: u64,
}

/// ln Z of `model` at `beta` (`spec` names it in the result), with the
/// exact value beside it when cheap; `marginals` as in
/// [`LogZPaths::estimate`].
pub fn log_z<M>(
    spec: &str,
    model: &M,
    beta: Beta,
    o: &Options,
    marginals: Option<&[f64]>,
) -> Result<LogZOut>
where
    M: LogZPaths,
    M::Space: SiteMoves<M>,
{
    if o.n_betas == 0 || o.n_runs == 0 {
        return Err(Error::InvalidSequence {
            what: "ln Z estimate",
            reason: format!(
                "{} temperatures and {} runs: both must be at least 1",
                o.n_betas, o.n_runs
            ),
        });
    }
    let t0 = std::time::Instant::now();
    let est = model.estimate(o.method, beta, o.n_betas, o.n_runs, Seed(o.seed), marginals)?;
    Ok(LogZOut {
        model: spec.to_string(),
        beta: beta.value(),
        method: o.method.name(),
        log_z: est.log_z,
        std_err: est.std_err,
        lower: est.lower,
        upper: est.upper,
        ess: est.ess,
        n_runs: est.n_runs,
        exact_log_z: model.exact_if_cheap(beta),
        seconds: t0.elapsed().as_secs_f64(),
    })
}
