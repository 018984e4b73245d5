//! The Metropolis-adjusted Langevin algorithm for real-valued units.

use ebm_core::{
    Beta, Chain, ChainRecord, ContinuousSpace, Error, GradientModel, Result, Sampler,
    standard_normal, uniform,
};

/// MALA: from x, propose `x' = x − (ε²/2) β ∇E(x) + ε ξ` (ξ standard normal)
/// and accept with the Metropolis–Hastings ratio of `p_β ∝ e^{−βE}`,
/// proposal densities included, so `p_β` is exactly invariant for every
/// step size ε.
///
/// One sweep is `steps` proposals, each moving every unit. The energy and
/// gradient at the current state are recomputed from the model given at the
/// start of each sweep (the model may change between sweeps).
///
/// On a space with a non-trivial [`ContinuousSpace::wrap`] (the torus of
/// [`ebm_core::Angles`]) the proposal is made in the covering space ℝⁿ and
/// wrapped; the reverse density is that of the unwrapped point. This is
/// exact on the torus: the lifted kernel K(x, y) on ℝⁿ satisfies detailed
/// balance for the periodic density e^{−βE}, and it commutes with the
/// translations by 2π (E and ∇E are periodic), so its projection
/// `Σ_k K(x, y + 2πk)` satisfies detailed balance on the torus.
///
/// ```
/// use ebm_core::{Beta, Chain, EnergyModel, GradientModel, Purpose, Reals, Sampler, Seed};
/// use ebm_samplers::Mala;
/// struct Quadratic;
/// impl EnergyModel for Quadratic {
///     type Space = Reals;
///     fn n_units(&self) -> usize { 1 }
///     fn space(&self) -> &Reals { &Reals }
///     fn energy(&self, x: &[f64]) -> f64 { 0.5 * x[0] * x[0] }
/// }
/// impl GradientModel for Quadratic {
///     fn energy_and_gradient(&self, x: &[f64], g: &mut [f64]) -> f64 { g[0] = x[0]; self.energy(x) }
/// }
/// let mala = Mala::new(1.0)?;
/// let mut c = mala.start(&Quadratic, &[3.0])?;
/// let mut rng = Seed(1).stream(Purpose::SAMPLING, 0);
/// let mut sum_sq = 0.0;
/// for _ in 0..20_000 { mala.sweep(&Quadratic, &mut c, Beta::ONE, &mut rng); sum_sq += c.state()[0].powi(2); }
/// assert!((sum_sq / 20_000.0 - 1.0).abs() < 0.1); // ⟨x²⟩ = 1
/// # Ok::<(), ebm_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mala {
    step: f64,
    steps: usize,
    /// Sweeps of step-size adaptation (0: none) and the acceptance aimed at.
    adapt: u64,
    target: f64,
}

impl Mala {
    /// MALA with step size ε = `step` (finite, > 0), one proposal per sweep.
    pub fn new(step: f64) -> Result<Self> {
        if !(step.is_finite() && step > 0.0) {
            return Err(Error::InvalidParameter {
                name: "MALA step",
                value: step,
                expected: "finite and > 0",
            });
        }
        Ok(Mala { step, steps: 1, adapt: 0, target: 0.574 })
    }

    /// The same with `steps` (≥ 1) proposals per sweep.
    pub fn with_steps(mut self, steps: usize) -> Result<Self> {
        if steps == 0 {
            return Err(Error::InvalidParameter {
                name: "MALA steps per sweep",
                value: 0.0,
                expected: "≥ 1",
            });
        }
        self.steps = steps;
        Ok(self)
    }

    /// The same with its step size adapted during each chain's first
    /// `sweeps` sweeps (which must be warm-up: [`Sampler::min_warmup`]) so
    /// that the mean acceptance probability approaches `target` (in (0, 1);
    /// 0.574 is optimal for MALA in high dimension), by a Robbins–Monro
    /// update of log ε after every proposal; after them the step is frozen,
    /// so production sweeps run one fixed, exact kernel. The adapted step
    /// lives in the chain and in its record.
    pub fn adapt_during(mut self, sweeps: u64, target: f64) -> Result<Self> {
        if !(target > 0.0 && target < 1.0) {
            return Err(Error::InvalidParameter {
                name: "MALA target acceptance",
                value: target,
                expected: "in (0, 1)",
            });
        }
        self.adapt = sweeps;
        self.target = target;
        Ok(self)
    }

    /// The initial step size ε.
    pub fn step(&self) -> f64 {
        self.step
    }
}

/// The chain of a gradient sampler (MALA, HMC): the state, scratch for the
/// proposal, its gradient and momenta, and the move counters. Equality
/// compares states and counters.
#[derive(Debug, Clone)]
pub struct GradientChain {
    pub(crate) x: Vec<f64>,
    pub(crate) grad: Vec<f64>,
    pub(crate) y: Vec<f64>,
    pub(crate) grad_y: Vec<f64>,
    /// Momenta (HMC).
    pub(crate) p: Vec<f64>,
    /// Scratch: the wrapped proposal (MALA), `M⁻¹ p` (HMC, dense mass).
    pub(crate) w: Vec<f64>,
    pub(crate) proposed: u64,
    pub(crate) accepted: u64,
    /// Sweeps run, and ln of the adapted step's factor (MALA).
    pub(crate) sweeps: u64,
    pub(crate) log_scale: f64,
}

impl GradientChain {
    /// A validated chain at `x0` for `model` (length, finite values).
    pub(crate) fn new<M: GradientModel + ?Sized>(model: &M, x0: &[f64]) -> Result<Self> {
        let n = model.n_units();
        ebm_core::check_len("state", n, x0.len())?;
        ebm_core::StateSpace::validate(model.space(), x0)?;
        Ok(GradientChain {
            x: x0.to_vec(),
            grad: vec![0.0; n],
            y: vec![0.0; n],
            grad_y: vec![0.0; n],
            p: vec![0.0; n],
            w: vec![0.0; n],
            proposed: 0,
            accepted: 0,
            sweeps: 0,
            log_scale: 0.0,
        })
    }

    /// The factor the adapted step size carries, `e^{log_scale}` (1 without
    /// adaptation).
    pub fn step_factor(&self) -> f64 {
        self.log_scale.exp()
    }

    /// A chain from its record ([`Chain::record`]): the state, the counters,
    /// the sweep count and the adapted step (a record of the state only
    /// restarts them).
    pub(crate) fn restore<M: GradientModel + ?Sized>(
        model: &M,
        r: &ChainRecord<f64>,
    ) -> Result<Self> {
        let mut c = GradientChain::new(model, &r.units)?;
        match (r.counts.as_slice(), r.reals.as_slice()) {
            ([], []) => {}
            (&[proposed, accepted, sweeps], &[log_scale])
                if accepted <= proposed && log_scale.is_finite() =>
            {
                (c.proposed, c.accepted, c.sweeps, c.log_scale) =
                    (proposed, accepted, sweeps, log_scale);
            }
            _ => {
                return Err(Error::InvalidSequence {
                    what: "gradient chain record",
                    reason: "expected [proposed, accepted, sweeps] and [ln step factor]".into(),
                });
            }
        }
        Ok(c)
    }
}

impl PartialEq for GradientChain {
    fn eq(&self, o: &Self) -> bool {
        self.x == o.x && self.proposed == o.proposed && self.accepted == o.accepted
    }
}

impl Chain for GradientChain {
    type Unit = f64;
    fn state(&self) -> &[f64] {
        &self.x
    }
    fn acceptance_rate(&self) -> Option<f64> {
        (self.proposed > 0).then(|| self.accepted as f64 / self.proposed as f64)
    }
    fn reset_counters(&mut self) {
        self.proposed = 0;
        self.accepted = 0;
    }

    /// The state, the counters, the sweep count and the adapted step.
    fn record(&self) -> ChainRecord<f64> {
        ChainRecord {
            units: self.x.clone(),
            counts: vec![self.proposed, self.accepted, self.sweeps],
            reals: vec![self.log_scale],
        }
    }
}

impl<M: GradientModel + ?Sized> Sampler<M> for Mala {
    type Chain = GradientChain;

    fn start(&self, model: &M, x0: &[f64]) -> Result<GradientChain> {
        GradientChain::new(model, x0)
    }

    fn restore(&self, model: &M, record: &ChainRecord<f64>) -> Result<GradientChain> {
        GradientChain::restore(model, record)
    }

    /// The adaptation sweeps: they must be warm-up.
    fn min_warmup(&self) -> usize {
        usize::try_from(self.adapt).unwrap_or(usize::MAX)
    }

    fn sweep<R: rand::Rng + ?Sized>(
        &self,
        model: &M,
        c: &mut GradientChain,
        beta: Beta,
        rng: &mut R,
    ) {
        let adapting = c.sweeps < self.adapt;
        let b = beta.value();
        let space = model.space();
        let mut e = model.energy_and_gradient(&c.x, &mut c.grad);
        for _ in 0..self.steps {
            let eps = self.step * c.log_scale.exp();
            let half = 0.5 * eps * eps;
            // y = x − (ε²/2) β ∇E(x) + ε ξ; log q(y | x) = −|ξ|²/2 + const
            let mut fwd = 0.0;
            for ((y, &x), &g) in c.y.iter_mut().zip(&c.x).zip(&c.grad) {
                let xi = standard_normal(rng);
                *y = x - half * b * g + eps * xi;
                fwd += xi * xi;
            }
            // the model sees the wrapped proposal (a copy: the reverse
            // density below needs the unwrapped one)
            c.w.copy_from_slice(&c.y);
            space.wrap(&mut c.w);
            let e_y = model.energy_and_gradient(&c.w, &mut c.grad_y);
            // log q(x | y): the reverse move's standardised noise
            let mut rev = 0.0;
            for ((&x, &y), &g) in c.x.iter().zip(&c.y).zip(&c.grad_y) {
                let z = (x - y + half * b * g) / eps;
                rev += z * z;
            }
            let log_a = -b * (e_y - e) - 0.5 * rev + 0.5 * fwd;
            if adapting {
                adapt_step(c, c.proposed, e_y.is_finite(), log_a, self.target);
            }
            c.proposed += 1;
            if e_y.is_finite() && (log_a >= 0.0 || uniform(rng) < log_a.exp()) {
                std::mem::swap(&mut c.x, &mut c.w);
                std::mem::swap(&mut c.grad, &mut c.grad_y);
                e = e_y;
                c.accepted += 1;
            }
        }
        c.sweeps += 1;
    }
}

/// One Robbins–Monro update of the chain's ln step factor toward the target
/// acceptance probability `target`, from the log acceptance ratio of the
/// proposal just made (`finite`: whether its energy was finite), with gain
/// `(k + 10)^{−0.6}` at the k-th update (MALA: proposals so far; HMC:
/// sweeps, which no counter reset touches); clamped to ±30. Used by MALA
/// and HMC during warm-up only.
pub(crate) fn adapt_step(c: &mut GradientChain, k: u64, finite: bool, log_a: f64, target: f64) {
    let a = if finite { log_a.min(0.0).exp() } else { 0.0 };
    let gain = 1.0 / ((k + 10) as f64).powf(0.6);
    c.log_scale = (c.log_scale + gain * (a - target)).clamp(-30.0, 30.0);
}
