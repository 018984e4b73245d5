//! Single-site moves of the XY model: Metropolis in a window, the exact
//! heat bath, overrelaxation.
//!
//! **Why a model-specific sampler.** The generic `Gibbs` and `Metropolis`
//! of `ebm-samplers` dispatch on the space type through `SiteMoves`,
//! which is written for finite spaces (enumerable values, flip deltas,
//! local energy tables). A continuous single-site move needs something no
//! other model has yet: the local field `H_i`, whose direction gives the
//! heat bath (a von Mises draw) and the overrelaxation reflection. Rather
//! than a family trait with one member, [`XyMoves`] is one sampler type
//! implementing [`Sampler<Xy>`] directly (the `Sampler` trait is in
//! `ebm-core`, so the model crate needs no sampler crate). It composes with
//! everything generic over `Sampler`: parallel tempering, the chain runner,
//! AIS and TI. When a second model with a local field appears, the three
//! moves lift to a trait `LocalFieldModel { fn local_field(..) }` unchanged.
//!
//! ```text
//! Metropolis:     θ' = θ + δ (2u − 1),  accept with min(1, e^{−βΔE}),
//!                 ΔE = −(H_x (cos θ' − cos θ) + H_y (sin θ' − sin θ))
//! heat bath:      θ ~ von Mises(φ_i, κ = β |H_i|)
//! overrelaxation: θ → 2φ_i − θ   (E unchanged: cos(θ' − φ) = cos(θ − φ))
//! ```
//!
//! Overrelaxation is an energy-preserving, measure-preserving involution, so
//! it leaves p_β invariant but is not ergodic on its own (it conserves E):
//! [`XyMoves::with_overrelaxation`] adds k overrelaxation sweeps after each
//! Metropolis or heat-bath sweep, the standard way to speed up decorrelation
//! of long-wavelength modes at no cost in exactness.

use super::{Xy, von_mises};
use ebm_core::{
    Angles, Beta, Chain, ChainRecord, EnergyModel, Error, Result, Sampler, StateSpace,
    rand_core::Rng, uniform,
};

/// The single-site sampler of the [`Xy`] model (see the [module docs](self)):
/// a sequential sweep of Metropolis or heat-bath updates, each optionally
/// followed by overrelaxation sweeps; the Metropolis window's half-width may
/// be adapted during warm-up only ([`XyMoves::adapt_during`]).
///
/// ```
/// use ebm_core::{Beta, Chain, EnergyModel, Purpose, Sampler, Seed};
/// use ebm_models::{lattice::Boundary, xy::{Xy, XyMoves}};
/// let m = Xy::chain(16, Boundary::Periodic, 1.0, 0.0)?;
/// let hb = XyMoves::heat_bath().with_overrelaxation(1);
/// let mut c = hb.start(&m, &[0.0; 16])?;
/// let mut rng = Seed(1).stream(Purpose::SAMPLING, 0);
/// let mut e = 0.0;
/// for _ in 0..4000 { hb.sweep(&m, &mut c, Beta::ONE, &mut rng); e += m.energy(c.state()); }
/// // ⟨E⟩/N → −I₁(1)/I₀(1) = −0.446 for a long chain
/// assert!((e / 4000.0 / 16.0 + 0.446).abs() < 0.03);
/// # Ok::<(), ebm_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct XyMoves {
    rule: Rule,
    overrelax: usize,
    /// Sweeps of window adaptation (0: none) and the acceptance aimed at.
    adapt: u64,
    target: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Rule {
    /// Uniform proposals in `θ ± width`.
    Metropolis { width: f64 },
    /// Von Mises draws from the conditional.
    HeatBath,
}

impl XyMoves {
    /// Metropolis with proposals uniform in `θ ± width` (`width` in (0, π]).
    pub fn metropolis(width: f64) -> Result<Self> {
        if !(width > 0.0 && width <= std::f64::consts::PI) {
            return Err(Error::InvalidParameter {
                name: "XY Metropolis half-width",
                value: width,
                expected: "in (0, π]",
            });
        }
        Ok(XyMoves { rule: Rule::Metropolis { width }, overrelax: 0, adapt: 0, target: 0.5 })
    }

    /// The exact heat bath: each spin drawn from its von Mises conditional.
    pub fn heat_bath() -> Self {
        XyMoves { rule: Rule::HeatBath, overrelax: 0, adapt: 0, target: 0.5 }
    }

    /// The same with `k` overrelaxation sweeps after every sweep.
    pub fn with_overrelaxation(mut self, k: usize) -> Self {
        self.overrelax = k;
        self
    }

    /// The same with the Metropolis half-width adapted during each chain's
    /// first `sweeps` sweeps (which must be warm-up: [`Sampler::min_warmup`])
    /// toward the mean acceptance probability `target` (in (0, 1)): a
    /// Robbins–Monro step on ln δ after every sweep (gain
    /// `(sweeps + 10)^{−0.6}`, δ capped at π), then frozen; the adapted
    /// factor is in the chain and its record. No effect on the heat bath.
    pub fn adapt_during(mut self, sweeps: u64, target: f64) -> Result<Self> {
        if !(target > 0.0 && target < 1.0) {
            return Err(Error::InvalidParameter {
                name: "XY target acceptance",
                value: target,
                expected: "in (0, 1)",
            });
        }
        self.adapt = sweeps;
        self.target = target;
        Ok(self)
    }
}

/// The chain of [`XyMoves`]: the angles, the Metropolis counters, the sweep
/// count and the adapted window factor (and a cache of `(cos θ_i, sin θ_i)`,
/// rebuilt from the angles on restore, so local fields cost no
/// trigonometry).
#[derive(Debug, Clone, PartialEq)]
pub struct XyChain {
    theta: Vec<f64>,
    cs: Vec<(f64, f64)>,
    proposed: u64,
    accepted: u64,
    sweeps: u64,
    log_scale: f64,
}

impl XyChain {
    /// The factor the adapted Metropolis half-width carries (1 without
    /// adaptation).
    pub fn width_factor(&self) -> f64 {
        self.log_scale.exp()
    }
}

impl Chain for XyChain {
    type Unit = f64;
    fn state(&self) -> &[f64] {
        &self.theta
    }
    fn acceptance_rate(&self) -> Option<f64> {
        (self.proposed > 0).then(|| self.accepted as f64 / self.proposed as f64)
    }
    fn reset_counters(&mut self) {
        self.proposed = 0;
        self.accepted = 0;
    }
    /// The angles, `[proposed, accepted, sweeps]` and `[ln width factor]`.
    fn record(&self) -> ChainRecord<f64> {
        ChainRecord {
            units: self.theta.clone(),
            counts: vec![self.proposed, self.accepted, self.sweeps],
            reals: vec![self.log_scale],
        }
    }
}

impl Sampler<Xy> for XyMoves {
    type Chain = XyChain;

    fn start(&self, model: &Xy, x0: &[f64]) -> Result<XyChain> {
        ebm_core::check_len("state", model.n_units(), x0.len())?;
        Angles.validate(x0)?;
        Ok(XyChain {
            theta: x0.to_vec(),
            cs: x0.iter().map(|t| (t.cos(), t.sin())).collect(),
            proposed: 0,
            accepted: 0,
            sweeps: 0,
            log_scale: 0.0,
        })
    }

    fn restore(&self, model: &Xy, r: &ChainRecord<f64>) -> Result<XyChain> {
        let mut c = self.start(model, &r.units)?;
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
                    what: "XY chain record",
                    reason: "expected [proposed, accepted, sweeps] and [ln width factor]".into(),
                });
            }
        }
        Ok(c)
    }

    fn min_warmup(&self) -> usize {
        usize::try_from(self.adapt).unwrap_or(usize::MAX)
    }

    fn sweep<R: Rng + ?Sized>(&self, model: &Xy, c: &mut XyChain, beta: Beta, rng: &mut R) {
        let b = beta.value();
        let n = model.n_units();
        match self.rule {
            Rule::Metropolis { width } => {
                let delta = (width * c.log_scale.exp()).min(std::f64::consts::PI);
                let mut sum_a = 0.0;
                for i in 0..n {
                    let (hx, hy) = model.local_field_cached(&c.cs, i);
                    let t = c.theta[i];
                    let t1 = Angles::reduce(t + delta * (2.0 * uniform(rng) - 1.0));
                    let (c0, s0) = c.cs[i];
                    let (s1, c1) = t1.sin_cos();
                    let de = -(hx * (c1 - c0) + hy * (s1 - s0));
                    let log_a = -b * de;
                    sum_a += log_a.min(0.0).exp();
                    c.proposed += 1;
                    if log_a >= 0.0 || uniform(rng) < log_a.exp() {
                        c.theta[i] = t1;
                        c.cs[i] = (c1, s1);
                        c.accepted += 1;
                    }
                }
                if c.sweeps < self.adapt && n > 0 {
                    let gain = 1.0 / ((c.sweeps + 10) as f64).powf(0.6);
                    let cap = (std::f64::consts::PI / width).ln();
                    c.log_scale =
                        (c.log_scale + gain * (sum_a / n as f64 - self.target)).clamp(-30.0, cap);
                }
            }
            Rule::HeatBath => {
                for i in 0..n {
                    let (hx, hy) = model.local_field_cached(&c.cs, i);
                    let t = von_mises(rng, hy.atan2(hx), b * hx.hypot(hy));
                    c.theta[i] = t;
                    c.cs[i] = (t.cos(), t.sin());
                }
            }
        }
        for _ in 0..self.overrelax {
            for i in 0..n {
                let (hx, hy) = model.local_field_cached(&c.cs, i);
                if hx != 0.0 || hy != 0.0 {
                    let t = Angles::reduce(2.0 * hy.atan2(hx) - c.theta[i]);
                    c.theta[i] = t;
                    c.cs[i] = (t.cos(), t.sin());
                }
            }
        }
        c.sweeps += 1;
    }
}
