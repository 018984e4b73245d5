//! Annealing schedules: the β path from the uniform distribution to the target.

use super::*;

/// An annealing path `0 = β_0 < β_1 < … < β_K = β` from the uniform
/// distribution to the target.
///
/// [`Schedule::betas`] lists `β_1, …, β_K` (β_0 = 0 is implicit: the uniform
/// state is drawn directly, never by a sampler step at β = 0).
///
/// ```
/// use ebm_core::Beta;
/// use ebm_thermo::ais::Schedule;
/// let b = Schedule::Standard.betas(Beta::new(2.0)?)?;
/// assert_eq!(b.len(), 14_500);
/// assert_eq!(b[0], 2e-3);
/// assert_eq!(*b.last().unwrap(), 2.0);
/// assert!(Schedule::Given(vec![0.5, 0.4, 2.0]).betas(Beta::new(2.0)?).is_err());
/// # Ok::<(), ebm_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// `β_k = β · k / K`, k = 1..=K.
    Linear(usize),
    /// `β_k = β · f^{(K − k)/(K − 1)}`: geometric from `β · first_fraction` to β.
    Geometric {
        /// K, the number of intermediate inverse temperatures.
        n_betas: usize,
        /// `β_1 / β`, in (0, 1).
        first_fraction: f64,
    },
    /// Salakhutdinov and Murray (2008): 14,500 steps of `10⁻³ β` up to `β/2`,
    /// `10⁻⁴ β` up to `0.9 β`, then `10⁻⁵ β` up to β.
    Standard,
    /// The shape of [`Schedule::Standard`] with `K` steps in total (split
    /// 500 : 4000 : 10000 between the three segments; K ≥ 3).
    StandardScaled(usize),
    /// The given `β_1 < … < β_K = β` (absolute values; a leading 0 is allowed
    /// and dropped). Validated by [`Schedule::betas`].
    Given(Vec<f64>),
}

impl Schedule {
    /// `β_1, …, β_K` for the target β, strictly increasing, ending exactly at β.
    ///
    /// Errors: [`Error::InvalidParameter`] for zero steps or a geometric
    /// fraction outside (0, 1); [`Error::InvalidSequence`] for a given schedule
    /// that is empty, non-finite, not strictly increasing, not positive, or
    /// not ending at β (relative tolerance 1e-12).
    pub fn betas(&self, target: Beta) -> Result<Vec<f64>> {
        let t = target.value();
        let betas = match self {
            Schedule::Linear(k) => {
                at_least("n_betas", *k, 1)?;
                (1..=*k).map(|i| t * i as f64 / *k as f64).collect()
            }
            Schedule::Geometric { n_betas, first_fraction } => {
                at_least("n_betas", *n_betas, 1)?;
                let f = *first_fraction;
                if !(f > 0.0 && f < 1.0) {
                    return Err(Error::InvalidParameter {
                        name: "first_fraction",
                        value: f,
                        expected: "in (0, 1)",
                    });
                }
                let k = *n_betas;
                if k == 1 {
                    vec![t]
                } else {
                    let span = (k - 1) as f64;
                    (1..=k).map(|i| t * f.powf((k - i) as f64 / span)).collect()
                }
            }
            Schedule::Standard => standard(t, [500, 4000, 10_000]),
            Schedule::StandardScaled(k) => {
                at_least("n_betas", *k, 3)?;
                let n1 = ((*k as f64 * 500.0 / 14_500.0).round() as usize).max(1);
                let n2 = ((*k as f64 * 4000.0 / 14_500.0).round() as usize).max(1);
                let n3 = k.saturating_sub(n1 + n2).max(1);
                standard(t, [n1, n2, n3])
            }
            Schedule::Given(b) => return validate_given(b, t),
        };
        Ok(betas)
    }
}

/// The three-segment schedule with the given step counts, ending exactly at `t`.
fn standard(t: f64, n: [usize; 3]) -> Vec<f64> {
    let mut out = Vec::with_capacity(n.iter().sum());
    let segments = [(0.0, 0.5), (0.5, 0.9), (0.9, 1.0)];
    for (&(a, b), &m) in segments.iter().zip(&n) {
        for i in 1..=m {
            out.push(t * (a + (b - a) * i as f64 / m as f64));
        }
    }
    if let Some(last) = out.last_mut() {
        *last = t;
    }
    out
}

fn validate_given(b: &[f64], t: f64) -> Result<Vec<f64>> {
    let b = if b.first() == Some(&0.0) { &b[1..] } else { b };
    let Some(&last) = b.last() else {
        return Err(invalid_sequence("no inverse temperature after β = 0".into()));
    };
    if let Some(i) = b.iter().position(|x| !x.is_finite() || *x <= 0.0) {
        return Err(invalid_sequence(format!("β_{} = {} is not finite and > 0", i + 1, b[i])));
    }
    if let Some(i) = b.windows(2).position(|w| w[1] <= w[0]) {
        return Err(invalid_sequence(format!(
            "not strictly increasing: β_{} = {} ≥ β_{} = {}",
            i + 1,
            b[i],
            i + 2,
            b[i + 1]
        )));
    }
    if (last - t).abs() > 1e-12 * t {
        return Err(invalid_sequence(format!("ends at {last}, not at the target β = {t}")));
    }
    let mut out = b.to_vec();
    if let Some(l) = out.last_mut() {
        *l = t;
    }
    Ok(out)
}
