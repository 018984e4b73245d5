//! The engine behind `ebm.BernoulliRBM`: an RBM and its training state,
//! trained by `ebm_train::Cd` / `Pcd` exactly as `ebm train` does
//! (`Rbm::init` from the data, SGD with the CLI's momentum and weight cost,
//! `Batches` seeded per epoch), scored by exact ln Z or base-rate AIS (`Ais::log_z_from`).

use crate::convert::{self, V};
use crate::models::Rbm as PyRbm;
use crate::{Cancel, IntoPy, detached, to_py_err};
use ebm_core::{Beta, Error, LogLinear, Purpose, Result, Seed, Trainer, uniform};
use ebm_models::rbm::Rbm;
use ebm_models::rbm_ais::{base_rate, data_marginals, rbm_log_likelihood};
use ebm_samplers::{Gibbs, Ladder, ParallelTempering, SiteChain, TemperingChain};
use ebm_thermo::ais::{Ais, LogZEstimate, Schedule};
use ebm_train::{
    Batches, Cd, Centring, Checkpoint, Learning, LearningRate, Momentum, Optimizer, Pcd,
    StepReport, TrainState, rbm_monitors,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The hyperparameters of a trainer (what a checkpoint records).
#[derive(Debug, Clone, PartialEq)]
struct Config {
    trainer: String,
    k: usize,
    n_chains: usize,
    sampler: String,
    n_replicas: usize,
    learning_rate: f64,
    /// `None`: Hinton's 0.5 → 0.9 at `momentum_switch` steps.
    momentum: Option<f64>,
    momentum_switch: u64,
    weight_decay: f64,
    /// Centred gradients' sliding factor ν (0: not centred).
    centring: f64,
    seed: u64,
    n_visible: usize,
    n_hidden: usize,
}

impl Config {
    fn learning(&self) -> Learning {
        Learning::new(
            Optimizer::Sgd {
                learning_rate: LearningRate::Constant(self.learning_rate),
                momentum: match self.momentum {
                    Some(mu) => Momentum::constant(mu),
                    None => Momentum::hinton(self.momentum_switch),
                },
                weight_decay: self.weight_decay,
            },
            Seed(self.seed),
        )
        .with_centring((self.centring != 0.0).then_some(Centring { rate: self.centring }))
    }

    /// As strings, floats by their bits (exact).
    fn to_map(&self) -> BTreeMap<String, String> {
        let f = |x: f64| format!("{:016x}", x.to_bits());
        BTreeMap::from([
            ("py.trainer".into(), self.trainer.clone()),
            ("py.k".into(), self.k.to_string()),
            ("py.n_chains".into(), self.n_chains.to_string()),
            ("py.sampler".into(), self.sampler.clone()),
            ("py.n_replicas".into(), self.n_replicas.to_string()),
            ("py.learning_rate".into(), f(self.learning_rate)),
            ("py.momentum".into(), self.momentum.map_or("hinton".into(), f)),
            ("py.momentum_switch".into(), self.momentum_switch.to_string()),
            ("py.weight_decay".into(), f(self.weight_decay)),
            ("py.centring".into(), f(self.centring)),
            ("py.seed".into(), self.seed.to_string()),
            ("py.n_visible".into(), self.n_visible.to_string()),
            ("py.n_hidden".into(), self.n_hidden.to_string()),
        ])
    }

    fn from_map(m: &BTreeMap<String, String>) -> Result<Self> {
        let bad = |k: &str| Error::Format {
            what: "ebm.BernoulliRBM state".into(),
            offset: 0,
            reason: format!("missing or malformed `{k}`"),
        };
        let s = |k: &str| m.get(k).cloned().ok_or_else(|| bad(k));
        let u = |k: &str| s(k)?.parse::<u64>().map_err(|_| bad(k));
        let f = |k: &str| u64::from_str_radix(&s(k)?, 16).map(f64::from_bits).map_err(|_| bad(k));
        Ok(Config {
            trainer: s("py.trainer")?,
            k: u("py.k")? as usize,
            n_chains: u("py.n_chains")? as usize,
            sampler: s("py.sampler")?,
            n_replicas: u("py.n_replicas")? as usize,
            learning_rate: f("py.learning_rate")?,
            momentum: if s("py.momentum")? == "hinton" { None } else { Some(f("py.momentum")?) },
            momentum_switch: u("py.momentum_switch")?,
            weight_decay: f("py.weight_decay")?,
            // states pickled before centring existed were not centred
            centring: if m.contains_key("py.centring") { f("py.centring")? } else { 0.0 },
            seed: u("py.seed")?,
            n_visible: u("py.n_visible")? as usize,
            n_hidden: u("py.n_hidden")? as usize,
        })
    }
}

/// A trainer and its state, one variant per (trainer, sampler chain) type.
enum State {
    Cd(Cd<Gibbs>, TrainState<SiteChain>),
    Pcd(Pcd<Gibbs>, TrainState<SiteChain>),
    PcdTempering(Pcd<ParallelTempering<Gibbs>>, TrainState<TemperingChain<SiteChain>>),
}

fn gibbs_of(name: &str) -> Result<Gibbs> {
    match name {
        "block-gibbs" => Ok(Gibbs::block()),
        "gibbs" => Ok(Gibbs::sequential()),
        other => Err(Error::InvalidSequence {
            what: "sampler",
            reason: format!(
                "`{other}` (block-gibbs: the RBM kernel; gibbs: sequential sweeps; tempering: PCD with parallel tempering)"
            ),
        }),
    }
}

impl State {
    /// A fresh state, or one restored from a checkpoint.
    fn new(c: &Config, rbm: &mut Rbm, ck: Option<&Checkpoint<i8>>) -> Result<State> {
        let learning = c.learning();
        learning.validate()?;
        Ok(match (c.trainer.as_str(), c.sampler.as_str()) {
            ("cd", "tempering") => {
                return Err(Error::InvalidSequence {
                    what: "sampler",
                    reason: "tempering keeps persistent chains: use trainer=\"pcd\"".into(),
                });
            }
            ("cd", s) => {
                let t = Cd { k: c.k, sampler: gibbs_of(s)?, learning };
                let st = match ck {
                    Some(ck) => ck.restore(rbm, &t.sampler)?,
                    None => t.init(rbm)?,
                };
                State::Cd(t, st)
            }
            ("pcd", "tempering") => {
                let sampler =
                    ParallelTempering::new(Gibbs::block(), Ladder::geometric(c.n_replicas, 0.3)?);
                let t = Pcd { n_chains: c.n_chains, k: c.k, sampler, learning };
                let st = match ck {
                    Some(ck) => ck.restore(rbm, &t.sampler)?,
                    None => t.init(rbm)?,
                };
                State::PcdTempering(t, st)
            }
            ("pcd", s) => {
                let t = Pcd { n_chains: c.n_chains, k: c.k, sampler: gibbs_of(s)?, learning };
                let st = match ck {
                    Some(ck) => ck.restore(rbm, &t.sampler)?,
                    None => t.init(rbm)?,
                };
                State::Pcd(t, st)
            }
            (other, _) => {
                return Err(Error::InvalidSequence {
                    what: "trainer",
                    reason: format!("`{other}` (cd or pcd)"),
                });
            }
        })
    }

    fn step(&mut self, rbm: &mut Rbm, batch: &[i8]) -> Result<StepReport> {
        match self {
            State::Cd(t, s) => t.step(rbm, s, batch),
            State::Pcd(t, s) => t.step(rbm, s, batch),
            State::PcdTempering(t, s) => t.step(rbm, s, batch),
        }
    }

    fn step_count(&self) -> u64 {
        match self {
            State::Cd(_, s) | State::Pcd(_, s) => s.step,
            State::PcdTempering(_, s) => s.step,
        }
    }

    fn checkpoint(&self, rbm: &Rbm) -> Checkpoint<i8> {
        match self {
            State::Cd(_, s) | State::Pcd(_, s) => Checkpoint::capture(rbm, s),
            State::PcdTempering(_, s) => Checkpoint::capture(rbm, s),
        }
    }

    /// The persistent chains' states (rows of n_visible + n_hidden).
    fn chain_states(&self) -> Vec<Vec<i8>> {
        use ebm_core::Chain;
        match self {
            State::Cd(..) => Vec::new(),
            State::Pcd(_, s) => s.chains.iter().map(|c| c.state().to_vec()).collect(),
            State::PcdTempering(_, s) => s.chains.iter().map(|c| c.state().to_vec()).collect(),
        }
    }
}

/// An RBM with its trainer: what `ebm.BernoulliRBM` holds once fitted.
/// Not for direct use: its methods take int8 bits (or float64 for
/// `transform`) and no validation beyond ebm's own.
#[pyclass(module = "ebm._ebm")]
pub(crate) struct RbmTrainer {
    rbm: Rbm,
    config: Config,
    state: Option<State>,
    /// Training rows set by `set_data` (int8 bits, n_visible wide).
    data: Option<Arc<Vec<i8>>>,
    /// Incremented at every parameter change (caches key on it).
    version: u64,
    /// The last ln Z and what it was computed for.
    log_z_cache: Option<LogZCache>,
}

/// `(version, betas, runs, marginals, estimate, exact)` of a computed ln Z.
type LogZCache = (u64, usize, usize, Option<Vec<f64>>, LogZEstimate, bool);

/// Moves the trainer's RBM and state to a worker thread and back.
struct Parts {
    rbm: Rbm,
    state: State,
}

impl RbmTrainer {
    fn take(&mut self) -> PyResult<Parts> {
        let state = self.state.take().ok_or_else(|| {
            PyValueError::new_err("the trainer is busy or was interrupted mid-step")
        })?;
        let rbm = std::mem::replace(
            &mut self.rbm,
            placeholder(self.config.n_visible, self.config.n_hidden),
        );
        Ok(Parts { rbm, state })
    }
    fn put(&mut self, p: Parts) {
        self.rbm = p.rbm;
        self.state = Some(p.state);
        self.version += 1;
    }
    fn bits(&self, x: &Bound<'_, PyAny>, what: &str) -> PyResult<(Vec<i8>, usize)> {
        let (v, rows, cols, _) = convert::rows::<i8>(x, what, "int8")?;
        ebm_core::check_len("row length (n_visible)", self.rbm.n_visible(), cols).py()?;
        Ok((v, rows))
    }
}

/// A same-shaped zero RBM (a placeholder while the real one is away).
fn placeholder(nv: usize, nh: usize) -> Rbm {
    Rbm::new(vec![0.0; nv * nh], vec![0.0; nv], vec![0.0; nh]).expect("valid shape")
}

/// An exact "estimate" (no error) for the log-likelihood interval.
fn exact_estimate(log_z: f64) -> LogZEstimate {
    LogZEstimate { log_z, std_err: 0.0, lower: log_z, upper: log_z, ess: f64::INFINITY, n_runs: 0 }
}

/// `Σ_i ln p(v_i | v_−i)` of one row, exactly: each flip moves the hidden
/// pre-activations by ± a row of W, so the sum costs one free energy.
fn row_pseudo_likelihood(rbm: &Rbm, v: &[i8]) -> f64 {
    let (nv, nh) = (rbm.n_visible(), rbm.n_hidden());
    let (w, b, c) = (rbm.weights(), rbm.visible_bias(), rbm.hidden_bias());
    let mut pre = c.to_vec();
    for (i, &x) in v.iter().enumerate() {
        if x == 1 {
            for (p, &wij) in pre.iter_mut().zip(&w[i * nh..(i + 1) * nh]) {
                *p += wij;
            }
        }
    }
    let softplus = |x: f64| if x > 0.0 { x + (-x).exp().ln_1p() } else { x.exp().ln_1p() };
    let base: f64 = pre.iter().map(|&p| softplus(p)).sum();
    let mut total = 0.0;
    for i in 0..nv {
        let s = if v[i] == 1 { -1.0 } else { 1.0 };
        let row = &w[i * nh..(i + 1) * nh];
        let flipped: f64 = pre.iter().zip(row).map(|(&p, &wij)| softplus(p + s * wij)).sum();
        // −F(v) = b·v + Σ softplus; d = −F(v') + F(v); ln p(v_i|v_−i) = −softplus(d)
        let d = s * b[i] + flipped - base;
        total -= softplus(d);
    }
    total
}

#[pymethods]
impl RbmTrainer {
    /// A new RBM initialised as `Rbm::init` (W ~ N(0, 0.01²) from `seed`,
    /// visible biases from the data's marginals) and its trainer.
    #[new]
    #[pyo3(signature = (n_hidden, data, *, trainer = "pcd", k = 1, n_chains = 100, sampler = "block-gibbs", n_replicas = 8, learning_rate = 0.05, momentum = None, momentum_switch = 0, weight_decay = 2e-4, centring = 0.0, seed = 0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        n_hidden: usize,
        data: &Bound<'_, PyAny>,
        trainer: &str,
        k: usize,
        n_chains: usize,
        sampler: &str,
        n_replicas: usize,
        learning_rate: f64,
        momentum: Option<f64>,
        momentum_switch: u64,
        weight_decay: f64,
        centring: f64,
        seed: u64,
    ) -> PyResult<Self> {
        let (x, _, nv, _) = convert::rows::<i8>(data, "X", "int8")?;
        let mut rbm = Rbm::init(nv, n_hidden, Some(&x), Seed(seed)).py()?;
        let config = Config {
            trainer: trainer.into(),
            k,
            n_chains,
            sampler: sampler.into(),
            n_replicas,
            learning_rate,
            momentum,
            momentum_switch,
            weight_decay,
            centring,
            seed,
            n_visible: nv,
            n_hidden,
        };
        let state = State::new(&config, &mut rbm, None).py()?;
        Ok(RbmTrainer {
            rbm,
            config,
            state: Some(state),
            data: None,
            version: 0,
            log_z_cache: None,
        })
    }

    /// Keeps the training rows (int8 bits) for `epoch`.
    fn set_data(&mut self, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let (x, _) = self.bits(data, "X")?;
        self.data = Some(Arc::new(x));
        Ok(())
    }

    /// Drops the training rows.
    fn clear_data(&mut self) {
        self.data = None;
    }

    /// One epoch over the rows given to `set_data`, in the order of
    /// `Batches(data, batch_size, seed, epoch)`: `(seconds, mean gradient
    /// norm, steps)`. Ctrl-C stops it after the step in flight, the model
    /// as that step left it.
    fn epoch(
        &mut self,
        py: Python<'_>,
        epoch: u64,
        batch_size: usize,
    ) -> PyResult<(f64, f64, u64)> {
        let data = self
            .data
            .clone()
            .ok_or_else(|| PyValueError::new_err("no data: call set_data first"))?;
        let nv = self.config.n_visible;
        let seed = Seed(self.config.seed);
        let mut parts = self.take()?;
        let (tx, rx) = std::sync::mpsc::channel::<Parts>();
        let r = detached(py, move |cancel: &Cancel| {
            let t0 = std::time::Instant::now();
            let run = (|| {
                let mut batches = Batches::new(&data, nv, batch_size, seed, epoch)?;
                let (mut norm, mut n) = (0.0, 0u64);
                while let Some(batch) = batches.next_batch() {
                    cancel.check(epoch as usize + 1)?;
                    let r = parts.state.step(&mut parts.rbm, batch)?;
                    norm += r.grad_norm;
                    n += 1;
                }
                Ok((t0.elapsed().as_secs_f64(), norm / n.max(1) as f64, n))
            })();
            let _ = tx.send(parts);
            run
        });
        // the parts come back whatever happened (unless the worker is still running)
        match rx.recv_timeout(std::time::Duration::from_secs(5)) {
            Ok(p) => self.put(p),
            Err(_) => {
                return Err(PyValueError::new_err(
                    "the training step did not finish after the interrupt; the estimator must be fitted again",
                ));
            }
        }
        r
    }

    /// One training step on `batch` (int8 rows): `partial_fit`.
    fn step(&mut self, py: Python<'_>, batch: &Bound<'_, PyAny>) -> PyResult<f64> {
        let (x, _) = self.bits(batch, "X")?;
        let mut parts = self.take()?;
        let r = py.detach(|| parts.state.step(&mut parts.rbm, &x));
        self.put(parts);
        Ok(r.py()?.grad_norm)
    }

    /// Steps taken.
    #[getter]
    fn n_steps(&self) -> u64 {
        self.state.as_ref().map_or(0, State::step_count)
    }

    /// `(W (n_visible, n_hidden), b, c)` as float64 arrays.
    #[allow(clippy::type_complexity)]
    fn params<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let (nv, nh) = (self.rbm.n_visible(), self.rbm.n_hidden());
        Ok((
            convert::to_numpy(py, self.rbm.weights().to_vec(), &[nv, nh])?,
            convert::to_numpy(py, self.rbm.visible_bias().to_vec(), &[nv])?,
            convert::to_numpy(py, self.rbm.hidden_bias().to_vec(), &[nh])?,
        ))
    }

    /// Replaces the parameters (W as (n_visible, n_hidden), any layout).
    #[allow(non_snake_case)]
    fn set_params(
        &mut self,
        W: &Bound<'_, PyAny>,
        b: &Bound<'_, PyAny>,
        c: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let m = PyRbm::from_numpy(W, b, c)?;
        let mut theta = m.inner.params().to_vec();
        if theta.len() != self.rbm.params().len() {
            return Err(PyValueError::new_err("the new parameters have another shape"));
        }
        self.rbm.set_params(&std::mem::take(&mut theta)).py()?;
        self.version += 1;
        Ok(())
    }

    /// The model as an `ebm.Rbm` (a copy).
    fn rbm(&self) -> PyRbm {
        PyRbm::wrap(self.rbm.clone())
    }

    /// p(h = 1 | v) as float64 (rows, n_hidden) for float64 rows: in f64 when
    /// every value is 0 or 1, else (mean-field input) by the f32 batched
    /// kernel (accurate to ~1e-6).
    fn transform<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (v, rows, cols, _) = convert::rows::<f64>(x, "X", "float64")?;
        ebm_core::check_len("row length (n_visible)", self.rbm.n_visible(), cols).py()?;
        let nh = self.rbm.n_hidden();
        let rbm = &self.rbm;
        let out = py.detach(|| -> Result<Vec<f64>> {
            if v.iter().all(|&x| x == 0.0 || x == 1.0) {
                let bits: Vec<i8> = v.iter().map(|&x| x as i8).collect();
                let mut out = vec![0.0; rows * nh];
                for (r, o) in bits.chunks_exact(cols.max(1)).zip(out.chunks_exact_mut(nh)) {
                    rbm.hidden_probs(r, Beta::ONE, o)?;
                }
                Ok(out)
            } else {
                let v32: Vec<f32> = v.iter().map(|&x| x as f32).collect();
                let mut out = vec![0f32; rows * nh];
                rbm.hidden_probs_batch(&v32, Beta::ONE, &mut out)?;
                Ok(out.into_iter().map(f64::from).collect())
            }
        });
        convert::to_numpy(py, out.py()?, &[rows, nh])
    }

    /// The free energies F(v) of int8 rows (float64).
    fn free_energy<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (v, rows) = self.bits(x, "X")?;
        let nv = self.rbm.n_visible();
        let rbm = &self.rbm;
        let f = py.detach(|| {
            v.chunks_exact(nv)
                .map(|r| rbm.visible_free_energy(r, Beta::ONE))
                .collect::<Result<Vec<_>>>()
        });
        convert::to_numpy(py, f.py()?, &[rows])
    }

    /// `Σ_i ln p(v_i | v_−i)` per int8 row (float64), exactly.
    fn pseudo_likelihood<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (v, rows) = self.bits(x, "X")?;
        ebm_core::Domain::Bit.validate(&v).py()?;
        let nv = self.rbm.n_visible();
        let rbm = &self.rbm;
        let pl: Vec<f64> = py.detach(|| {
            use rayon::prelude::*;
            v.par_chunks_exact(nv).map(|r| row_pseudo_likelihood(rbm, r)).collect()
        });
        convert::to_numpy(py, pl, &[rows])
    }

    /// ln Z: exact (smaller layer summed) when it has at most `exact_max`
    /// units, else base-rate AIS (`Ais::log_z_from`) with `ais_betas` β (14,500: the standard
    /// schedule, as `ebm eval`), `ais_runs` runs, the base rates of
    /// `marginals` (or the uniform base) and `seed`. Cached until the
    /// parameters change. A dict: log_z, std_err, lower, upper, ess, n_runs,
    /// method ("exact" or "ais").
    #[pyo3(signature = (ais_betas = 14500, ais_runs = 100, marginals = None, seed = 0, exact_max = 20))]
    fn log_z(
        &mut self,
        py: Python<'_>,
        ais_betas: usize,
        ais_runs: usize,
        marginals: Option<Vec<f64>>,
        seed: u64,
        exact_max: usize,
    ) -> PyResult<Py<PyAny>> {
        let (est, exact) =
            self.log_z_estimate(py, ais_betas, ais_runs, marginals, seed, exact_max)?;
        let out = V::D(vec![
            ("log_z", V::F(est.log_z)),
            ("std_err", V::F(est.std_err)),
            ("lower", V::F(est.lower)),
            ("upper", V::F(est.upper)),
            ("ess", V::F(est.ess)),
            ("n_runs", V::U(est.n_runs as u64)),
            ("method", V::S(if exact { "exact" } else { "ais" }.into())),
        ]);
        Ok(out.into_py(py)?.unbind())
    }

    /// The mean log-likelihood of int8 rows with its interval (from ln Z's),
    /// as `ebm eval` computes it: a dict with mean, lower, upper, std_err,
    /// log_z (the dict of `log_z`), n_examples.
    #[pyo3(signature = (x, ais_betas = 14500, ais_runs = 100, marginals = None, seed = 0, exact_max = 20))]
    #[allow(clippy::too_many_arguments)]
    fn log_likelihood(
        &mut self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        ais_betas: usize,
        ais_runs: usize,
        marginals: Option<Vec<f64>>,
        seed: u64,
        exact_max: usize,
    ) -> PyResult<Py<PyAny>> {
        let (v, rows) = self.bits(x, "X")?;
        let (est, exact) =
            self.log_z_estimate(py, ais_betas, ais_runs, marginals, seed, exact_max)?;
        let rbm = &self.rbm;
        let ll = py.detach(|| rbm_log_likelihood(rbm, &v, &est)).py()?;
        let out = V::D(vec![
            ("mean", V::F(ll.mean)),
            ("lower", V::F(ll.lower)),
            ("upper", V::F(ll.upper)),
            ("std_err", V::F(ll.std_err)),
            ("n_examples", V::U(rows as u64)),
            ("log_z", V::F(est.log_z)),
            ("log_z_std_err", V::F(est.std_err)),
            ("log_z_lower", V::F(est.lower)),
            ("log_z_upper", V::F(est.upper)),
            ("method", V::S(if exact { "exact" } else { "ais" }.into())),
        ]);
        Ok(out.into_py(py)?.unbind())
    }

    /// One block-Gibbs step from int8 rows v: h ~ p(h | v), then
    /// v' ~ p(v | h), in f64, row r drawing from stream (seed, custom(0x6b),
    /// counter · 2^24 + r). Returns v' (int8).
    fn gibbs<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        seed: u64,
        counter: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (v, rows) = self.bits(x, "v")?;
        ebm_core::Domain::Bit.validate(&v).py()?;
        let (nv, nh) = (self.rbm.n_visible(), self.rbm.n_hidden());
        let rbm = &self.rbm;
        let out = py.detach(|| -> Result<Vec<i8>> {
            use rayon::prelude::*;
            let mut out = vec![0i8; rows * nv];
            out.par_chunks_mut(nv).zip(v.par_chunks(nv)).enumerate().try_for_each(
                |(r, (o, vr))| {
                    let mut rng =
                        Seed(seed).stream(Purpose::custom(0x6b), (counter << 24) + r as u64);
                    let mut ph = vec![0.0; nh];
                    rbm.hidden_probs(vr, Beta::ONE, &mut ph)?;
                    let h: Vec<i8> = ph.iter().map(|&p| i8::from(uniform(&mut rng) < p)).collect();
                    let mut pv = vec![0.0; nv];
                    rbm.visible_probs(&h, Beta::ONE, &mut pv)?;
                    for (oi, &p) in o.iter_mut().zip(&pv) {
                        *oi = i8::from(uniform(&mut rng) < p);
                    }
                    Ok(())
                },
            )?;
            Ok(out)
        });
        convert::to_numpy(py, out.py()?, &[rows, nv])
    }

    /// The persistent chains' hidden units (int8, (n_chains, n_hidden));
    /// empty for CD.
    fn chain_hidden<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let nv = self.rbm.n_visible();
        let nh = self.rbm.n_hidden();
        let states = self.state.as_ref().map(State::chain_states).unwrap_or_default();
        let n = states.len();
        let h: Vec<i8> = states.into_iter().flat_map(|s| s[nv..].to_vec()).collect();
        convert::to_numpy(py, h, &[n, nh])
    }

    /// The monitors `ebm train` prints after each epoch (`rbm_monitors` on
    /// ≤ 1000 rows of `train` and `test`, exact ln Z when cheap, the
    /// pseudo-likelihood's unit drawn from `seed`), for comparison with the
    /// CLI's JSON lines.
    #[pyo3(signature = (train, test, seed, with_exact = true))]
    fn monitors(
        &self,
        py: Python<'_>,
        train: &Bound<'_, PyAny>,
        test: &Bound<'_, PyAny>,
        seed: u64,
        with_exact: bool,
    ) -> PyResult<Py<PyAny>> {
        let (tr, _) = self.bits(train, "train")?;
        let (te, _) = self.bits(test, "test")?;
        let rbm = &self.rbm;
        let m = py.detach(|| rbm_monitors(rbm, &tr, &te, 1000, with_exact, Seed(seed))).py()?;
        let out = V::D(vec![
            ("recon_error", V::F(m.recon_error)),
            ("pseudo_log_likelihood", V::F(m.pseudo_log_likelihood)),
            ("free_energy_train", V::F(m.free_energy_train)),
            ("free_energy_test", V::F(m.free_energy_test)),
            ("free_energy_gap", V::F(m.free_energy_gap)),
            ("exact_log_likelihood_train", V::opt(m.exact_log_likelihood_train, V::F)),
            ("exact_log_likelihood_test", V::opt(m.exact_log_likelihood_test, V::F)),
        ]);
        Ok(out.into_py(py)?.unbind())
    }

    /// The whole state (parameters, optimizer, persistent chains, stream
    /// positions, hyperparameters) as checkpoint bytes: pickling, and
    /// resuming bit for bit.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let state =
            self.state.as_ref().ok_or_else(|| PyValueError::new_err("the trainer is busy"))?;
        let ck = state.checkpoint(&self.rbm).with_config(self.config.to_map());
        Ok(PyBytes::new(py, &ck.to_bytes()))
    }

    /// The trainer of `to_bytes`.
    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Self> {
        let ck = Checkpoint::<i8>::from_bytes(data).py()?;
        let config = Config::from_map(&ck.config).py()?;
        let mut rbm = placeholder(config.n_visible, config.n_hidden);
        let state = State::new(&config, &mut rbm, Some(&ck)).py()?;
        Ok(RbmTrainer {
            rbm,
            config,
            state: Some(state),
            data: None,
            version: 0,
            log_z_cache: None,
        })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let bytes = slf.borrow().to_bytes(py)?;
        (slf.get_type().getattr("from_bytes")?, (bytes,)).into_pyobject(py).map(|t| t.into_any())
    }

    /// Saves the RBM as a `.safetensors` model file (`ebm eval` reads it).
    fn save(&self, path: std::path::PathBuf) -> PyResult<()> {
        ebm_data::SavedModel::Rbm(self.rbm.clone()).save(&path, &self.config.to_map()).py()
    }
}

impl RbmTrainer {
    fn log_z_estimate(
        &mut self,
        py: Python<'_>,
        ais_betas: usize,
        ais_runs: usize,
        marginals: Option<Vec<f64>>,
        seed: u64,
        exact_max: usize,
    ) -> PyResult<(LogZEstimate, bool)> {
        if let Some((v, b, r, m, est, exact)) = &self.log_z_cache
            && *v == self.version
            && (*exact || (*b == ais_betas && *r == ais_runs && *m == marginals))
        {
            return Ok((*est, *exact));
        }
        let rbm = Arc::new(self.rbm.clone());
        let small = rbm.n_visible().min(rbm.n_hidden()) <= exact_max;
        let m2 = marginals.clone();
        let (est, exact) = detached(py, move |_| {
            if small {
                Ok((exact_estimate(rbm.exact_log_z(Beta::ONE)?), true))
            } else {
                let schedule = if ais_betas == 14_500 {
                    Schedule::Standard
                } else {
                    Schedule::StandardScaled(ais_betas.max(3))
                };
                let ais = Ais::new(schedule, ais_runs)?;
                let gibbs = Gibbs::block();
                let rbm: &Rbm = &rbm;
                let est = match m2.as_deref() {
                    Some(m) => {
                        ais.log_z_from(rbm, &base_rate(rbm, m)?, &gibbs, Beta::ONE, Seed(seed))?
                    }
                    None => ais.log_z(rbm, &gibbs, Beta::ONE, Seed(seed))?,
                };
                Ok((est, false))
            }
        })?;
        self.log_z_cache = Some((self.version, ais_betas, ais_runs, marginals, est, exact));
        Ok((est, exact))
    }
}

/// The column means of int8 rows (the AIS base rates).
#[pyfunction]
fn _data_marginals(x: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
    let (v, _, cols, _) = convert::rows::<i8>(x, "X", "int8")?;
    data_marginals(&v, cols).map_err(to_py_err)
}

/// Adds the class to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<RbmTrainer>()?;
    m.add_function(wrap_pyfunction!(_data_marginals, m)?)?;
    Ok(())
}
