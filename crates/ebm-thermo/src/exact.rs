//! Exact enumeration of all Π_i q_i configurations of a finite model (2^n
//! for binary units).
//!
//! States are visited in reflected mixed-radix Gray-code order (the binary
//! reflected Gray code when every q_i = 2), so each new state differs from
//! the previous one in a single unit and costs one
//! [`FiniteModel::value_change`] (a `flip_delta` for binary models, a
//! `local_energies` for categorical ones); the energy is recomputed from
//! scratch with [`EnergyModel::energy`] every
//! [`CHUNK`] states against drift. Sums of exponentials are never formed from
//! raw energies: each chunk is reduced relative to its own lowest energy
//! (weights ≤ 1), and chunks are merged with a weighted Chan–Welford update in
//! f64, so ln Z, U and Var(E) stay accurate at β = 1e−6 or 1e3 and for energies
//! of magnitude 1e6. The entropy is computed as `S = ln W + β (U − E_ref)`
//! with `W = Σ exp(−β (E − E_ref))`, which avoids the cancellation of
//! `β (U − F)` at large β.
//!
//! The work is split into a number of tasks that depends only on the number
//! of states, reduced in task order, so results are bit-identical for any
//! number of rayon threads.

use ebm_core::{Beta, BinaryModel, EnergyModel, Error, FiniteModel, FiniteSpace, Result, UnitOf};
use rayon::prelude::*;

/// The largest number of binary units [`exact`] enumerates (2^32 states).
pub const MAX_EXACT_UNITS: usize = 32;

/// The largest number of states [`exact`] enumerates, Π q_i ≤ 2^32.
pub const MAX_EXACT_STATES: u64 = 1 << MAX_EXACT_UNITS;

/// The largest number of binary units for [`exact_distribution`] and
/// [`exact_moments`], which store or touch O(2^n) or O(2^n n²) values.
pub const MAX_DISTRIBUTION_UNITS: usize = 24;

/// The largest number of states for [`exact_distribution`], 2^24.
pub const MAX_DISTRIBUTION_STATES: u64 = 1 << MAX_DISTRIBUTION_UNITS;

/// States reduced together, and the interval of full energy recomputation.
pub const CHUNK: usize = 4096;

/// Every task holds 2^TASK_BITS states at most (unless n is small).
const TASK_BITS: usize = 18;

/// Exact thermodynamics of a model at one inverse temperature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thermo {
    /// The inverse temperature.
    pub beta: Beta,
    /// Number of units n.
    pub n_units: usize,
    /// Number of states summed, Π q_i (2^n for binary units).
    pub n_states: u64,
    /// ln Z.
    pub log_z: f64,
    /// F = −T ln Z.
    pub free_energy: f64,
    /// U = ⟨E⟩.
    pub mean_energy: f64,
    /// S = β (U − F) (in units of k_B).
    pub entropy: f64,
    /// Var(E) = ⟨E²⟩ − ⟨E⟩².
    pub energy_variance: f64,
    /// C = β² Var(E).
    pub heat_capacity: f64,
    /// The lowest energy among all states.
    pub min_energy: f64,
}

impl Thermo {
    /// F / n.
    pub fn free_energy_per_unit(&self) -> f64 {
        self.free_energy / self.n_units as f64
    }
    /// U / n.
    pub fn mean_energy_per_unit(&self) -> f64 {
        self.mean_energy / self.n_units as f64
    }
    /// S / n.
    pub fn entropy_per_unit(&self) -> f64 {
        self.entropy / self.n_units as f64
    }
    /// C / n.
    pub fn heat_capacity_per_unit(&self) -> f64 {
        self.heat_capacity / self.n_units as f64
    }
    /// ln Z / n.
    pub fn log_z_per_unit(&self) -> f64 {
        self.log_z / self.n_units as f64
    }
}

/// Weighted energy statistics relative to a reference energy `e_ref`:
/// `w = Σ exp(−β (E − e_ref))`, `mean` = weighted mean of `E − e_ref`,
/// `m2` = weighted sum of squared deviations from the mean.
#[derive(Debug, Clone, Copy)]
struct Stats {
    e_ref: f64,
    w: f64,
    mean: f64,
    m2: f64,
}

impl Stats {
    const EMPTY: Stats = Stats { e_ref: f64::INFINITY, w: 0.0, mean: 0.0, m2: 0.0 };

    /// Two-pass statistics of a chunk, relative to its lowest energy; `weights`
    /// is scratch space (one `exp` per state).
    fn of_chunk(beta: f64, energies: &[f64], weights: &mut Vec<f64>) -> Stats {
        if energies.is_empty() {
            return Stats::EMPTY;
        }
        let e_ref = energies.iter().copied().fold(f64::INFINITY, f64::min);
        weights.clear();
        weights.extend(energies.iter().map(|&e| (-beta * (e - e_ref)).exp()));
        let (mut w, mut s1) = (0.0, 0.0);
        for (&e, &p) in energies.iter().zip(weights.iter()) {
            w += p;
            s1 += p * (e - e_ref);
        }
        let mean = s1 / w;
        let m2 = energies
            .iter()
            .zip(weights.iter())
            .map(|(&e, &p)| {
                let dev = (e - e_ref) - mean;
                p * dev * dev
            })
            .sum();
        Stats { e_ref, w, mean, m2 }
    }

    /// Merges two sets of statistics (Chan et al.'s update with weights).
    fn merge(self, other: Stats, beta: f64) -> Stats {
        if other.w == 0.0 {
            return self;
        }
        if self.w == 0.0 {
            return other;
        }
        let e_ref = self.e_ref.min(other.e_ref);
        let sa = (-beta * (self.e_ref - e_ref)).exp();
        let sb = (-beta * (other.e_ref - e_ref)).exp();
        let (wa, wb) = (self.w * sa, other.w * sb);
        let (ma, mb) = (self.mean + (self.e_ref - e_ref), other.mean + (other.e_ref - e_ref));
        let w = wa + wb;
        let delta = mb - ma;
        let mean = ma + delta * (wb / w);
        let m2 = self.m2 * sa + other.m2 * sb + delta * delta * (wa * wb / w);
        Stats { e_ref, w, mean, m2 }
    }
}

/// Checks the size cap and returns n.
fn check_units<M: EnergyModel + ?Sized>(model: &M, max: usize) -> Result<usize> {
    let n = model.n_units();
    if n > max {
        return Err(Error::TooManyUnits { n_units: n, max });
    }
    Ok(n)
}

/// The number of states of `model`, if at most `max` (binary models report
/// the cap in units, [`Error::TooManyUnits`]; others [`Error::TooManyStates`]).
fn check_states<M: FiniteModel + ?Sized>(model: &M, max: u64) -> Result<(usize, u64)> {
    let (n, space) = (model.n_units(), model.space());
    let binary = (0..n).all(|i| space.n_values(i) == 2);
    match space.n_states(n) {
        Some(states) if states <= max => Ok((n, states)),
        _ if binary => Err(Error::TooManyUnits { n_units: n, max: max.ilog2() as usize }),
        _ => Err(Error::TooManyStates { ln_states: space.ln_size(n), max }),
    }
}

/// Tasks of 2^TASK_BITS consecutive Gray-code indices (fewer in the last):
/// (number of tasks, task length).
fn tasks(states: u64) -> (u64, u64) {
    let len = states.min(1 << TASK_BITS);
    (states.div_ceil(len), len)
}

/// A position in the reflected mixed-radix Gray code: the counter's digits
/// `a` (unit 0 fastest), each unit's direction, and the state's code.
struct Gray {
    a: Vec<usize>,
    forward: Vec<bool>,
    code: u64,
    stride: Vec<u64>,
}

impl Gray {
    /// The Gray code at index `k`, its state written to `x`: digit i runs
    /// forward when the number formed by the digits above it is even.
    fn at<S: FiniteSpace + ?Sized>(space: &S, k: u64, x: &mut [S::Unit]) -> Gray {
        let n = x.len();
        let mut a = vec![0usize; n];
        let mut rest = k;
        let mut stride = vec![1u64; n];
        for i in 0..n {
            let q = space.n_values(i) as u64;
            a[i] = (rest % q) as usize;
            rest /= q;
            if i + 1 < n {
                stride[i + 1] = stride[i].saturating_mul(q);
            }
        }
        // parity of the number above digit i, from the top down
        let mut forward = vec![true; n];
        let mut odd_above = false;
        for i in (0..n).rev() {
            forward[i] = !odd_above;
            let q = space.n_values(i);
            odd_above = (a[i] % 2 == 1) ^ (q % 2 == 1 && odd_above);
        }
        let mut code = 0u64;
        for i in 0..n {
            let q = space.n_values(i);
            let g = if forward[i] { a[i] } else { q - 1 - a[i] };
            x[i] = space.value(i, g);
            code += g as u64 * stride[i];
        }
        Gray { a, forward, code, stride }
    }

    /// Steps to the next index: the unit that changes and its new value index.
    #[inline]
    fn step<S: FiniteSpace + ?Sized>(&mut self, space: &S) -> (usize, usize) {
        let mut i = 0;
        while self.a[i] + 1 == space.n_values(i) {
            self.a[i] = 0;
            self.forward[i] = !self.forward[i];
            i += 1;
        }
        self.a[i] += 1;
        let q = space.n_values(i);
        let g = if self.forward[i] { self.a[i] } else { q - 1 - self.a[i] };
        if self.forward[i] {
            self.code += self.stride[i];
        } else {
            self.code -= self.stride[i];
        }
        (i, g)
    }
}

fn walk<M, V>(model: &M, k0: u64, len: u64, x: &mut [UnitOf<M>], mut visit: V)
where
    M: FiniteModel + ?Sized,
    V: FnMut(u64, &[UnitOf<M>], f64),
{
    let space = model.space();
    let width = (0..x.len()).map(|i| space.n_values(i)).max().unwrap_or(0);
    let mut scratch = vec![0.0; width];
    let mut gray = Gray::at(space, k0, x);
    let mut e = model.energy(x);
    visit(gray.code, x, e);
    for j in 1..len {
        let (i, g) = gray.step(space);
        e += model.value_change(x, i, g, &mut scratch);
        x[i] = space.value(i, g);
        if j % CHUNK as u64 == 0 {
            e = model.energy(x);
        }
        visit(gray.code, x, e);
    }
}

fn task_stats<M: FiniteModel + ?Sized>(model: &M, n: usize, beta: f64, k0: u64, len: u64) -> Stats {
    let mut x = vec![UnitOf::<M>::default(); n];
    let mut buf = Vec::with_capacity(CHUNK);
    let mut weights = Vec::with_capacity(CHUNK);
    let mut stats = Stats::EMPTY;
    walk(model, k0, len, &mut x, |_, _, e| {
        buf.push(e);
        if buf.len() == CHUNK {
            stats = stats.merge(Stats::of_chunk(beta, &buf, &mut weights), beta);
            buf.clear();
        }
    });
    stats.merge(Stats::of_chunk(beta, &buf, &mut weights), beta)
}

/// Energy statistics over all states, reduced in task order.
fn all_stats<M: FiniteModel + ?Sized>(model: &M, n: usize, states: u64, beta: f64) -> Stats {
    let (n_tasks, len) = tasks(states);
    let parts: Vec<Stats> = (0..n_tasks)
        .into_par_iter()
        .map(|t| task_stats(model, n, beta, t * len, len.min(states - t * len)))
        .collect();
    parts.into_iter().fold(Stats::EMPTY, |acc, s| acc.merge(s, beta))
}

/// Exact thermodynamics of `model` at `beta` by enumerating all Π q_i states
/// (2^n for binary units), binary or categorical.
///
/// Errors with [`Error::TooManyUnits`] above [`MAX_EXACT_UNITS`] binary
/// units, [`Error::TooManyStates`] above [`MAX_EXACT_STATES`] states of a
/// categorical model, and [`Error::NonFinite`] if some state's energy is not
/// finite.
///
/// ```
/// use ebm_core::{Beta, BinaryModel, Domain, EnergyModel};
/// struct Pair;
/// impl EnergyModel for Pair {
///     type Space = Domain;
///     fn n_units(&self) -> usize { 2 }
///     fn space(&self) -> &Domain { &Domain::Spin }
///     fn energy(&self, s: &[i8]) -> f64 { -f64::from(s[0] * s[1]) }
/// }
/// impl BinaryModel for Pair {}
/// let t = ebm_thermo::exact(&Pair, Beta::new(1.0)?)?;
/// // Z = 2e + 2/e
/// assert!((t.log_z - (2.0 * 1f64.exp() + 2.0 / 1f64.exp()).ln()).abs() < 1e-14);
/// assert!((t.free_energy - (t.mean_energy - t.entropy)).abs() < 1e-14);
/// # Ok::<(), ebm_core::Error>(())
/// ```
pub fn exact<M: FiniteModel + ?Sized>(model: &M, beta: Beta) -> Result<Thermo> {
    let (n, states) = check_states(model, MAX_EXACT_STATES)?;
    let b = beta.value();
    let s = all_stats(model, n, states, b);
    if !(s.e_ref.is_finite() && s.w.is_finite() && s.mean.is_finite() && s.m2.is_finite()) {
        return Err(Error::NonFinite { what: "energies of the enumerated states", index: 0 });
    }
    let ln_w = s.w.ln();
    let log_z = -b * s.e_ref + ln_w;
    let mean_energy = s.e_ref + s.mean;
    let energy_variance = (s.m2 / s.w).max(0.0);
    Ok(Thermo {
        beta,
        n_units: n,
        n_states: states,
        log_z,
        free_energy: -log_z / b,
        mean_energy,
        entropy: ln_w + b * s.mean,
        energy_variance,
        heat_capacity: b * b * energy_variance,
        min_energy: s.e_ref,
    })
}

/// ln Z of `model` at `beta`, by [`exact`].
pub fn exact_log_z<M: FiniteModel + ?Sized>(model: &M, beta: Beta) -> Result<f64> {
    exact(model, beta).map(|t| t.log_z)
}

/// The exact Boltzmann distribution over all Π q_i states.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactDistribution {
    /// The thermodynamics computed on the way.
    pub thermo: Thermo,
    /// `probs[code]` = p(x) for the state with mixed-radix code `code`
    /// ([`FiniteSpace::state_of_code`]; for binary units bit i set ⇔ unit i
    /// high, as [`ebm_core::Domain::decode`]).
    pub probs: Vec<f64>,
}

impl ExactDistribution {
    /// Total-variation distance ½ Σ |p − q| to a histogram of state codes,
    /// normalised by its total count.
    pub fn total_variation(&self, counts: &[u64]) -> Result<f64> {
        ebm_core::check_len("histogram", self.probs.len(), counts.len())?;
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return Err(Error::InvalidParameter {
                name: "histogram total",
                value: 0.0,
                expected: "> 0",
            });
        }
        let t = total as f64;
        Ok(0.5 * self.probs.iter().zip(counts).map(|(p, &c)| (p - c as f64 / t).abs()).sum::<f64>())
    }

    /// The exact distribution of the energy: pairs (E, p(E)) sorted by E, with
    /// energies equal to within `tol` (absolute) merged.
    pub fn energy_levels<M: FiniteModel + ?Sized>(&self, model: &M, tol: f64) -> Vec<(f64, f64)> {
        let n = model.n_units();
        let mut x = vec![UnitOf::<M>::default(); n];
        let mut pairs: Vec<(f64, f64)> = self
            .probs
            .iter()
            .enumerate()
            .map(|(code, &p)| {
                model.space().state_of_code(code as u64, &mut x);
                (model.energy(&x), p)
            })
            .collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut out: Vec<(f64, f64)> = Vec::new();
        for (e, p) in pairs {
            match out.last_mut() {
                Some(last) if (e - last.0).abs() <= tol => last.1 += p,
                _ => out.push((e, p)),
            }
        }
        out
    }
}

/// Runs `visit(code, x, p)` over every state with its exact probability, task
/// by task in parallel; each task starts from `init()` and the per-task
/// accumulators are returned in task order.
fn visit_probabilities<M, A, I, V>(
    model: &M,
    beta: Beta,
    init: I,
    visit: V,
) -> Result<(Thermo, Vec<A>)>
where
    M: FiniteModel + ?Sized,
    A: Send,
    I: Fn() -> A + Sync,
    V: Fn(&mut A, u64, &[UnitOf<M>], f64) + Sync,
{
    let thermo = exact(model, beta)?;
    let (n, b, log_z, states) = (thermo.n_units, beta.value(), thermo.log_z, thermo.n_states);
    let (n_tasks, len) = tasks(states);
    let parts = (0..n_tasks)
        .into_par_iter()
        .map(|t| {
            let mut acc = init();
            let mut x = vec![UnitOf::<M>::default(); n];
            walk(model, t * len, len.min(states - t * len), &mut x, |code, x, e| {
                visit(&mut acc, code, x, (-b * e - log_z).exp());
            });
            acc
        })
        .collect();
    Ok((thermo, parts))
}

/// The exact distribution of `model` at `beta`, for at most
/// [`MAX_DISTRIBUTION_UNITS`] units.
pub fn exact_distribution<M: FiniteModel + ?Sized>(
    model: &M,
    beta: Beta,
) -> Result<ExactDistribution> {
    let (_, states) = check_states(model, MAX_DISTRIBUTION_STATES)?;
    let (thermo, parts) =
        visit_probabilities(model, beta, Vec::new, |acc: &mut Vec<(u64, f64)>, code, _, p| {
            acc.push((code, p))
        })?;
    let mut probs = vec![0.0; states as usize];
    for (code, p) in parts.into_iter().flatten() {
        probs[code as usize] = p;
    }
    Ok(ExactDistribution { thermo, probs })
}

/// First and second moments of the units under the exact distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct Moments {
    /// The thermodynamics computed on the way.
    pub thermo: Thermo,
    /// ⟨x_i⟩ (the magnetization of spin i, or activation of bit i).
    pub mean: Vec<f64>,
    /// ⟨x_i x_j⟩, row-major n × n (diagonal ⟨x_i²⟩).
    pub pair: Vec<f64>,
}

impl Moments {
    /// ⟨x_i x_j⟩.
    pub fn pair(&self, i: usize, j: usize) -> f64 {
        self.pair[i * self.mean.len() + j]
    }

    /// Mean of ⟨x_i⟩ over units: the magnetization per spin, or mean activation.
    pub fn mean_per_unit(&self) -> f64 {
        self.mean.iter().sum::<f64>() / self.mean.len().max(1) as f64
    }
}

/// ⟨x_i⟩ and ⟨x_i x_j⟩ of `model` at `beta`, for at most
/// [`MAX_DISTRIBUTION_UNITS`] units (cost O(2^n n²)).
pub fn exact_moments<M: BinaryModel + ?Sized>(model: &M, beta: Beta) -> Result<Moments> {
    let n = check_units(model, MAX_DISTRIBUTION_UNITS)?;
    let (thermo, parts) = visit_probabilities(
        model,
        beta,
        || (vec![0.0; n], vec![0.0; n * n]),
        |(mean, pair): &mut (Vec<f64>, Vec<f64>), _, x, p| {
            for (i, &xi) in x.iter().enumerate() {
                if xi == 0 {
                    continue;
                }
                let pi = p * f64::from(xi);
                mean[i] += pi;
                for (q, &xj) in pair[i * n..(i + 1) * n].iter_mut().zip(x) {
                    *q += pi * f64::from(xj);
                }
            }
        },
    )?;
    let (mut mean, mut pair) = (vec![0.0; n], vec![0.0; n * n]);
    for (m, q) in parts {
        mean.iter_mut().zip(&m).for_each(|(a, b)| *a += b);
        pair.iter_mut().zip(&q).for_each(|(a, b)| *a += b);
    }
    Ok(Moments { thermo, mean, pair })
}
