//! Optimizers on the flat parameter vector: SGD with momentum and weight
//! decay, Adam, learning-rate and momentum schedules, gradient clipping.
//!
//! Gradients here are *ascent* directions of the log-likelihood,
//! `g = β(⟨φ⟩_data − ⟨φ⟩_model)`; an update moves θ along g.

use ebm_core::{Error, Result};

/// A learning rate as a function of the step number (0-based).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LearningRate {
    /// η.
    Constant(f64),
    /// η₀ · γ^step.
    Exponential {
        /// η₀.
        initial: f64,
        /// γ ∈ (0, 1].
        decay: f64,
    },
    /// η₀ / (1 + step / τ).
    InverseTime {
        /// η₀.
        initial: f64,
        /// τ in steps.
        scale: f64,
    },
    /// η₀ · factor^(⌊step / every⌋).
    Steps {
        /// η₀.
        initial: f64,
        /// Multiplier applied every `every` steps.
        factor: f64,
        /// Steps between decays (≥ 1).
        every: u64,
    },
}

impl LearningRate {
    /// η at `step`.
    pub fn at(&self, step: u64) -> f64 {
        match *self {
            LearningRate::Constant(eta) => eta,
            LearningRate::Exponential { initial, decay } => initial * decay.powf(step as f64),
            LearningRate::InverseTime { initial, scale } => initial / (1.0 + step as f64 / scale),
            LearningRate::Steps { initial, factor, every } => {
                initial * factor.powf((step / every.max(1)) as f64)
            }
        }
    }

    fn validate(&self) -> Result<()> {
        let positive = |name, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::InvalidParameter { name, value: v, expected: "finite and > 0" })
            }
        };
        match *self {
            LearningRate::Constant(eta) => positive("learning rate", eta),
            LearningRate::Exponential { initial, decay } => {
                positive("learning rate", initial)?;
                positive("learning-rate decay", decay)
            }
            LearningRate::InverseTime { initial, scale } => {
                positive("learning rate", initial)?;
                positive("learning-rate scale", scale)
            }
            LearningRate::Steps { initial, factor, .. } => {
                positive("learning rate", initial)?;
                positive("learning-rate factor", factor)
            }
        }
    }
}

/// Momentum `initial` for the first `switch_step` steps, then `last` (Hinton's
/// practical guide: 0.5, then 0.9 once the parameters have settled).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Momentum {
    /// Momentum before `switch_step`.
    pub initial: f64,
    /// Momentum from `switch_step` on.
    pub last: f64,
    /// The step at which it switches.
    pub switch_step: u64,
}

impl Momentum {
    /// No momentum.
    pub const NONE: Momentum = Momentum { initial: 0.0, last: 0.0, switch_step: 0 };

    /// Constant momentum μ.
    pub fn constant(mu: f64) -> Self {
        Momentum { initial: mu, last: mu, switch_step: 0 }
    }

    /// Hinton's schedule: 0.5 for `switch_step` steps, then 0.9.
    pub fn hinton(switch_step: u64) -> Self {
        Momentum { initial: 0.5, last: 0.9, switch_step }
    }

    /// μ at `step`.
    pub fn at(&self, step: u64) -> f64 {
        if step < self.switch_step { self.initial } else { self.last }
    }
}

/// The update rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Optimizer {
    /// `v ← μ v + η (g − λ θ_c)`, `θ ← θ + v` (λ only on couplings).
    Sgd {
        /// η(step).
        learning_rate: LearningRate,
        /// μ(step).
        momentum: Momentum,
        /// λ ≥ 0, the weight cost on coupling parameters.
        weight_decay: f64,
    },
    /// Adam (Kingma & Ba) on the ascent direction `g − λ θ_c`.
    Adam {
        /// η(step).
        learning_rate: LearningRate,
        /// First-moment decay β₁ ∈ [0, 1).
        beta1: f64,
        /// Second-moment decay β₂ ∈ [0, 1).
        beta2: f64,
        /// ε > 0.
        eps: f64,
        /// λ ≥ 0, the weight cost on coupling parameters.
        weight_decay: f64,
    },
}

impl Optimizer {
    /// Plain SGD with learning rate η.
    pub fn sgd(eta: f64) -> Self {
        Optimizer::Sgd {
            learning_rate: LearningRate::Constant(eta),
            momentum: Momentum::NONE,
            weight_decay: 0.0,
        }
    }

    /// Adam with the usual constants (0.9, 0.999, 1e−8) and learning rate η.
    pub fn adam(eta: f64) -> Self {
        Optimizer::Adam {
            learning_rate: LearningRate::Constant(eta),
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }

    /// Checks every constant.
    pub fn validate(&self) -> Result<()> {
        let in_unit = |name, v: f64| {
            if (0.0..1.0).contains(&v) {
                Ok(())
            } else {
                Err(Error::InvalidParameter { name, value: v, expected: "in [0, 1)" })
            }
        };
        let decay = |v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(Error::InvalidParameter {
                    name: "weight decay",
                    value: v,
                    expected: "finite and ≥ 0",
                })
            }
        };
        match *self {
            Optimizer::Sgd { learning_rate, momentum, weight_decay } => {
                learning_rate.validate()?;
                in_unit("momentum", momentum.initial)?;
                in_unit("momentum", momentum.last)?;
                decay(weight_decay)
            }
            Optimizer::Adam { learning_rate, beta1, beta2, eps, weight_decay } => {
                learning_rate.validate()?;
                in_unit("beta1", beta1)?;
                in_unit("beta2", beta2)?;
                if !(eps.is_finite() && eps > 0.0) {
                    return Err(Error::InvalidParameter {
                        name: "eps",
                        value: eps,
                        expected: "finite and > 0",
                    });
                }
                decay(weight_decay)
            }
        }
    }

    /// Checks that `state` belongs to this optimizer and `n_params` parameters:
    /// `first` has `n_params` entries, and `second` too for Adam (none for SGD).
    pub fn check_state(&self, state: &OptimizerState, n_params: usize) -> Result<()> {
        ebm_core::check_len("optimizer first moments", n_params, state.first.len())?;
        let second = if matches!(self, Optimizer::Adam { .. }) { n_params } else { 0 };
        ebm_core::check_len("optimizer second moments", second, state.second.len())
    }

    /// A fresh state for `n_params` parameters.
    pub fn state(&self, n_params: usize) -> OptimizerState {
        let second = matches!(self, Optimizer::Adam { .. });
        OptimizerState {
            step: 0,
            first: vec![0.0; n_params],
            second: if second { vec![0.0; n_params] } else { Vec::new() },
            offsets: Vec::new(),
        }
    }

    /// Moves `theta` along the ascent direction `grad`; weight decay applies to
    /// `theta[..n_couplings]`. Increments `state.step`.
    pub fn apply(
        &self,
        state: &mut OptimizerState,
        theta: &mut [f64],
        grad: &[f64],
        n_couplings: usize,
    ) {
        let t = state.step;
        match *self {
            Optimizer::Sgd { learning_rate, momentum, weight_decay } => {
                let (eta, mu) = (learning_rate.at(t), momentum.at(t));
                for (k, ((th, g), v)) in
                    theta.iter_mut().zip(grad).zip(state.first.iter_mut()).enumerate()
                {
                    let decay = if k < n_couplings { weight_decay } else { 0.0 };
                    sgd_step(th, v, *g, eta, mu, decay);
                }
            }
            Optimizer::Adam { learning_rate, beta1, beta2, eps, weight_decay } => {
                let eta = learning_rate.at(t);
                let (c1, c2) = (1.0 - beta1.powf(t as f64 + 1.0), 1.0 - beta2.powf(t as f64 + 1.0));
                for (k, (((th, g), m), v)) in theta
                    .iter_mut()
                    .zip(grad)
                    .zip(state.first.iter_mut())
                    .zip(state.second.iter_mut())
                    .enumerate()
                {
                    let g = g - if k < n_couplings { weight_decay * *th } else { 0.0 };
                    *m = beta1 * *m + (1.0 - beta1) * g;
                    *v = beta2 * *v + (1.0 - beta2) * g * g;
                    *th += eta * (*m / c1) / ((*v / c2).sqrt() + eps);
                }
            }
        }
        state.step += 1;
    }
}

/// The optimizer's moving parts, saved in checkpoints.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerState {
    /// Updates applied so far.
    pub step: u64,
    /// SGD velocity, or Adam's first moment.
    pub first: Vec<f64>,
    /// Adam's second moment (empty for SGD).
    pub second: Vec<f64>,
    /// Centring offsets `[μ, λ]` ([`crate::Centring`]; empty without
    /// centring, and until the first step with it).
    pub offsets: Vec<f64>,
}

/// Scales `grad` so its Euclidean norm is at most `max_norm`; returns the norm
/// before clipping.
pub fn clip_norm(grad: &mut [f64], max_norm: f64) -> f64 {
    let norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
    if norm > max_norm && norm > 0.0 {
        let s = max_norm / norm;
        grad.iter_mut().for_each(|g| *g *= s);
    }
    norm
}

/// One parameter's SGD-with-momentum step, the one formula every path uses
/// (the shared optimizer and the RBM kernel's fused update):
/// `v ← μ v + η (g − λ θ)`, `θ ← θ + v` (λ the weight decay, 0 for biases).
#[inline(always)]
pub fn sgd_step(theta: &mut f64, velocity: &mut f64, g: f64, eta: f64, mu: f64, decay: f64) {
    let d = decay * *theta;
    *velocity = mu * *velocity + eta * (g - d);
    *theta += *velocity;
}
