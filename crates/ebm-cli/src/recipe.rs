//! The training recipe from `ebm train`'s flags: the optimizer and its
//! schedules, the negative-phase sampler's ladder, centring, the
//! binarisation of images, and the defaults.
//!
//! The default recipe for a binary RBM is centred PCD-10: 100 persistent
//! chains, 10 block-Gibbs sweeps per step (the RBM's batched kernel),
//! centred gradients (offsets sliding at ν = 0.01), learning rate 0.05,
//! constant momentum 0.5, weight cost 2e-4 and, with `--epochs` absent,
//! enough epochs for 5000 steps. Why, on bars and stripes 3×3 (14 patterns,
//! optimum −ln 14 = −2.64 nats; final exact log-likelihood over seeds 1–5,
//! `ebm train --data bars-and-stripes:3 --n-hidden 16 --seed S` plus the
//! flags named):
//!
//! | recipe | exact LL | time |
//! |---|---|---|
//! | the default | −2.76 to −2.83 | 2.5–3.0 s |
//! | `--k 1 --centring 0` (plain PCD-1) | −3.25 to −5.30 | 0.8 s |
//! | `--k 1 --centring 0 --weight-decay 0` | −3.84 to −5.30 | 0.8 s |
//! | `--k 1` (centred PCD-1), `--weight-decay 0` | −3.38 to −5.15 | 0.8 s |
//! | `--centring 0 --weight-decay 0` (PCD-10) | −2.80 to −2.93 | 1.3–2.9 s |
//! | `--k 1 --sampler tempering` (8 rungs from 0.4 β) | −2.71 to −2.73 | 6–7 s |
//! | `--k 1 --sampler tempering --centring 0 --weight-decay 0 --momentum 0.9` | −4.54 to −6.94 | 5–6 s |
//!
//! With one sweep per step the persistent chains cannot follow the
//! parameters between the data's modes (momentum 0.9 undoes even
//! tempering); ten sweeps or a tempering ladder let them, and centring
//! conditions the gradient. Centred tempered PCD-1 is the most accurate but
//! runs on the generic path (8 single-chain sweeps per chain and step: slow on
//! MNIST-sized models), so the default is the kernel's centred PCD-10.
//!
//! On MNIST (784×500, stochastic:0) the default also beat what was tried
//! around it: `--ll-every` AIS test log-likelihood (1000 rows, 16 runs)
//! after 12 epochs of `ebm train --data mnist:DIR --n-hidden 500 --epochs 12
//! --ll-every 3` plus the flags named, against the default's −97.6 ± 1.1 at
//! epoch 10 (the README's run): `--learning-rate 0.1` −105.5;
//! `--momentum 0.5:0.9:5` −135.5; `--momentum 0.9 --learning-rate 0.02`
//! −123.6; `--k 5 --momentum 0.5:0.9:5` −162.6. Momentum 0.9 hurts here too.

use crate::cli::{SamplerName, TrainArgs};
use ebm_core::{Error, Result, Seed};
use ebm_train::{Centring, Learning, LearningRate, Momentum, Optimizer};

/// Steps of a default RBM run (see the module doc).
pub const DEFAULT_STEPS: u64 = 5000;

/// The offsets' sliding factor of the default recipe (Melchior et al.'s).
pub const DEFAULT_CENTRING: f64 = 0.01;

fn bad(what: &'static str, reason: String) -> Error {
    Error::InvalidSequence { what, reason }
}

fn number(what: &'static str, text: &str) -> Result<f64> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| bad(what, format!("`{text}` is not a finite number")))
}

fn epochs_in_steps(what: &'static str, text: &str, steps_per_epoch: u64) -> Result<f64> {
    let e = number(what, text)?;
    if e <= 0.0 {
        return Err(bad(what, format!("{e} epochs: must be > 0")));
    }
    Ok(e * steps_per_epoch as f64)
}

/// `--momentum`: `M` or `A:B:E` (A for E epochs, then B), each in [0, 1).
pub fn momentum(spec: &str, steps_per_epoch: u64) -> Result<Momentum> {
    let parts: Vec<&str> = spec.split(':').collect();
    let value = |t: &str| -> Result<f64> {
        let m = number("--momentum", t)?;
        if (0.0..1.0).contains(&m) {
            Ok(m)
        } else {
            Err(bad("--momentum", format!("{m} is not in [0, 1)")))
        }
    };
    match parts.as_slice() {
        [m] => Ok(Momentum::constant(value(m)?)),
        [a, b, e] => {
            let switch = epochs_in_steps("--momentum", e, steps_per_epoch)?;
            Ok(Momentum { initial: value(a)?, last: value(b)?, switch_step: switch.round() as u64 })
        }
        _ => Err(bad("--momentum", format!("`{spec}` (expected M or A:B:E)"))),
    }
}

/// `--lr-schedule` from the initial rate `eta`.
pub fn learning_rate(spec: &str, eta: f64, steps_per_epoch: u64) -> Result<LearningRate> {
    let parts: Vec<&str> = spec.split(':').collect();
    let spe = steps_per_epoch.max(1) as f64;
    let what = "--lr-schedule";
    Ok(match parts.as_slice() {
        ["constant"] => LearningRate::Constant(eta),
        ["inverse", e] => LearningRate::InverseTime {
            initial: eta,
            scale: epochs_in_steps(what, e, steps_per_epoch)?,
        },
        ["exponential", g] => {
            let g = number(what, g)?;
            if !(g > 0.0 && g <= 1.0) {
                return Err(bad(what, format!("factor {g} per epoch is not in (0, 1]")));
            }
            // per step: g^(1/steps per epoch)
            LearningRate::Exponential { initial: eta, decay: g.powf(1.0 / spe) }
        }
        ["steps", f, e] => {
            let f = number(what, f)?;
            if !(f > 0.0 && f <= 1.0) {
                return Err(bad(what, format!("factor {f} is not in (0, 1]")));
            }
            let every = epochs_in_steps(what, e, steps_per_epoch)?.round().max(1.0) as u64;
            LearningRate::Steps { initial: eta, factor: f, every }
        }
        _ => {
            return Err(bad(
                what,
                format!("`{spec}` (expected constant, inverse:E, exponential:G or steps:F:E)"),
            ));
        }
    })
}

/// The optimizer of every RBM kind: SGD with the flags' momentum (default:
/// rbm 0.5, potts-rbm Hinton's 0.5:0.9:5, gbrbm none), learning-rate
/// schedule, weight decay and gradient clipping; centred gradients when
/// asked for; seeded by `--seed`.
pub fn learning(a: &TrainArgs, steps_per_epoch: u64) -> Result<Learning> {
    let default_momentum = match a.model.as_str() {
        "gbrbm" => "0",
        "potts-rbm" => "0.5:0.9:5",
        _ => "0.5",
    };
    let mu = momentum(a.momentum.as_deref().unwrap_or(default_momentum), steps_per_epoch)?;
    if a.model != "rbm" && (a.sampler.is_some() || a.betas.is_some()) {
        return Err(bad(
            "--sampler",
            format!("the negative-phase sampler is chosen for --model rbm, not {}", a.model),
        ));
    }
    if a.betas.is_some() && sampler_name(a) != SamplerName::Tempering {
        return Err(bad("--betas", "a tempering ladder needs --sampler tempering".into()));
    }
    let centring = centring(a)?;
    let learning = Learning::new(
        Optimizer::Sgd {
            learning_rate: learning_rate(&a.lr_schedule, a.lr(), steps_per_epoch)?,
            momentum: mu,
            weight_decay: a.wd(),
        },
        Seed(a.common.seed),
    )
    .with_clip_norm(a.clip_norm)
    .with_centring(centring);
    learning.validate()?;
    Ok(learning)
}

/// The centring of `--centring` (rbm default: ν = 0.01; `0`: none).
pub fn centring(a: &TrainArgs) -> Result<Option<Centring>> {
    match (a.model.as_str(), a.centring) {
        ("rbm", None) => Ok(Some(Centring { rate: DEFAULT_CENTRING })),
        (_, Some(0.0)) => Ok(None),
        ("rbm", Some(rate)) => Ok(Some(Centring { rate })),
        (_, None) => Ok(None),
        (_, Some(_)) => Err(bad("--centring", "centred gradients apply to --model rbm".into())),
    }
}

/// `--binarize` (`ebm_run::Binarize::parse`), its errors naming the flag.
pub fn binarize(spec: &str) -> Result<ebm_run::Binarize> {
    ebm_run::Binarize::parse(spec).map_err(|e| match e {
        Error::InvalidSequence { reason, .. } => bad("--binarize", reason),
        other => other,
    })
}

/// The negative-phase sampler of `--sampler` (default: block Gibbs).
pub fn sampler_name(a: &TrainArgs) -> SamplerName {
    a.sampler.unwrap_or(SamplerName::BlockGibbs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse_and_bad_ones_are_errors() {
        assert_eq!(momentum("0.5", 10).unwrap(), Momentum::constant(0.5));
        assert_eq!(
            momentum("0.5:0.9:5", 10).unwrap(),
            Momentum { initial: 0.5, last: 0.9, switch_step: 50 }
        );
        for m in ["1.0", "-0.1", "0.5:0.9", "x", "0.5:0.9:0", "nan"] {
            assert!(momentum(m, 10).is_err(), "{m}");
        }
        assert_eq!(learning_rate("constant", 0.1, 7).unwrap(), LearningRate::Constant(0.1));
        let LearningRate::Exponential { decay, .. } =
            learning_rate("exponential:0.5", 1.0, 4).unwrap()
        else {
            panic!()
        };
        assert!((decay.powi(4) - 0.5).abs() < 1e-12);
        assert_eq!(
            learning_rate("steps:0.1:3", 1.0, 10).unwrap(),
            LearningRate::Steps { initial: 1.0, factor: 0.1, every: 30 }
        );
        assert_eq!(
            learning_rate("inverse:2", 1.0, 10).unwrap(),
            LearningRate::InverseTime { initial: 1.0, scale: 20.0 }
        );
        for l in ["linear", "inverse:0", "exponential:2", "steps:0.1", "inverse:x", ""] {
            assert!(learning_rate(l, 1.0, 10).is_err(), "{l}");
        }
    }
}
