//! The RBM's AIS kernel ([`EnergyModel::anneal_runs`]): the generic `Ais`
//! paths run by the RBM itself, its hidden layer summed out and its runs
//! batched, for heat-bath block sweeps (`Gibbs::block()`).
//!
//! Both paths are the same kernel. `Ais::log_z` starts at the uniform
//! distribution (`b_A = 0`); `Ais::log_z_from` with [`base_rate`] starts at
//! the base-rate model of Salakhutdinov and Murray (2008), zero weights and
//! visible biases `b_A` fitted to the data marginals
//! (`b_A,i = ln(p_i / (1 − p_i))`). Summing out the hidden units gives the
//! visible marginals the weights need, for s from 0 to β:
//!
//! ```text
//! ln p*_s(v) = (β − s) b_A·v + s b·v + Σ_j softplus(s (c_j + Σ_i v_i W_ij))
//! ln Z_0     = n_hidden ln 2 + Σ_i softplus(β b_A,i)
//! ln w       = Σ_k ln p*_k(v_k) − ln p*_{k−1}(v_k)
//! ```
//!
//! The transition at s_k is one block-Gibbs sweep
//! `h ~ σ(s_k (c + Wᵀ v))`, `v ~ σ((β − s_k) b_A + s_k (b + W h))`. All runs
//! advance together: `Wᵀ v` as sums of W's rows over the ones of v (sparse),
//! `W h` as one f32 GEMM per step; the weights are accumulated
//! in f64, and `Σ_j softplus` differences are formed as
//! `Δs Σ_j max(x_j, 0) + ln Π_j (1 + e^{−s_k |x_j|}) / (1 + e^{−s_{k−1} |x_j|})`,
//! one exponential per unit and temperature and one logarithm per 512 units.
//! Reverse runs (`Ais::reverse_log_z[_from]`) and RAISE (`Ais::raise_from`,
//! from data points after one sweep at β) run the same path backwards.
//!
//! The runs are split into groups of at most 64 processed in parallel; run r
//! draws from `seed.stream(Purpose::AIS, offset + r)`, so the result does not
//! depend on the number of threads.
//!
//! [`EnergyModel::anneal_runs`]: ebm_core::EnergyModel::anneal_runs

use crate::linalg::{self, View, sigmoid_f32};
use crate::rbm::Rbm;
use ebm_core::{AnnealRuns, Domain, Error, LocalRule, Purpose, Result, Seed, check_len};
use ebm_thermo::ais::{IndependentSites, LogLikelihoodEstimate, LogZEstimate};
use rayon::prelude::*;

/// Data marginals are clamped to `[MARGINAL_MIN, 1 − MARGINAL_MIN]` before
/// the logit giving the base-rate biases.
pub const MARGINAL_MIN: f64 = 1e-3;

/// Units whose `(1 + e^{−a}) / (1 + e^{−b})` factors are multiplied before one logarithm.
const PRODUCT_LEN: usize = 512;

/// The column means of `data` (rows of `n_visible` bits): the marginals
/// `p_i = mean_r v_ri` for [`base_rate`].
///
/// Errors: empty data or a length not a multiple of `n_visible`
/// ([`Error::ShapeMismatch`]), values other than 0/1.
pub fn data_marginals(data: &[i8], n_visible: usize) -> Result<Vec<f64>> {
    let rows = ebm_core::check_rows("data (rows of n_visible values)", data.len(), n_visible)?;
    Domain::Bit.validate(data)?;
    let mut p = vec![0.0; n_visible];
    for row in data.chunks_exact(n_visible) {
        for (s, &x) in p.iter_mut().zip(row) {
            *s += f64::from(x);
        }
    }
    for s in &mut p {
        *s /= rows as f64;
    }
    Ok(p)
}

/// The base-rate biases `logit(clamp(p))`, or zeros (the uniform base) without marginals.
fn base_biases(rbm: &Rbm, p: &[f64]) -> Result<Vec<f64>> {
    let nv = rbm.n_visible();
    check_len("data marginals (n_visible)", nv, p.len())?;
    p.iter()
        .map(|&q| {
            if (0.0..=1.0).contains(&q) {
                let q = q.clamp(MARGINAL_MIN, 1.0 - MARGINAL_MIN);
                Ok((q / (1.0 - q)).ln())
            } else {
                Err(Error::InvalidParameter {
                    name: "data marginal",
                    value: q,
                    expected: "in [0, 1]",
                })
            }
        })
        .collect()
}

/// The base-rate base of Salakhutdinov and Murray (2008) for `rbm`: visible
/// unit i independent with `p(v_i = 1) = clamp(p_i)` (at β = 1; fields
/// `[0, logit(clamp(p_i))]`), the hidden units uniform (fields `[0, 0]`).
/// `data_marginals` are the per-unit means of the training data (see
/// [`data_marginals`]), clamped to `[MARGINAL_MIN, 1 − MARGINAL_MIN]`.
///
/// Annealing from it is the generic call, which the RBM's kernel runs
/// (hidden layer summed out, runs batched, any β):
///
/// ```
/// use ebm_core::{Beta, Seed};
/// use ebm_models::{rbm::Rbm, rbm_ais::{base_rate, data_marginals}};
/// use ebm_thermo::ais::{Ais, Schedule};
/// use ebm_samplers::Gibbs;
/// let rbm = Rbm::random(20, 8, 0.3, Seed(3))?;
/// let data: Vec<i8> = (0..50 * 20).map(|i| ((i * 7 / 3) % 2) as i8).collect();
/// let base = base_rate(&rbm, &data_marginals(&data, 20)?)?;
/// let ais = Ais::new(Schedule::Linear(500), 64)?;
/// let est = ais.log_z_from(&rbm, &base, &Gibbs::block(), Beta::ONE, Seed(1))?;
/// assert!(est.contains(rbm.exact_log_z(Beta::ONE)?), "{est:?}");
/// # Ok::<(), ebm_core::Error>(())
/// ```
///
/// Errors: marginals of the wrong length ([`Error::ShapeMismatch`]) or
/// outside [0, 1] ([`Error::InvalidParameter`]).
pub fn base_rate(rbm: &Rbm, data_marginals: &[f64]) -> Result<IndependentSites<Domain>> {
    let ba = base_biases(rbm, data_marginals)?;
    let mut fields = Vec::with_capacity(2 * (rbm.n_visible() + rbm.n_hidden()));
    for a in ba {
        fields.extend([0.0, a]);
    }
    fields.resize(2 * (rbm.n_visible() + rbm.n_hidden()), 0.0);
    IndependentSites::new(Domain::Bit, rbm.n_visible() + rbm.n_hidden(), fields)
}

/// The mean log-likelihood `mean_v[−F(v)] − ln Z` (β = 1) of `data` (rows of
/// `n_visible` bits) with the interval of `log_z` carried through:
/// [`LogLikelihoodEstimate::of_data`] at β = 1.
///
/// Errors: data empty, of the wrong width or not bits.
pub fn rbm_log_likelihood(
    rbm: &Rbm,
    data: &[i8],
    log_z: &LogZEstimate,
) -> Result<LogLikelihoodEstimate> {
    LogLikelihoodEstimate::of_data(rbm, data, ebm_core::Beta::ONE, log_z)
}

/// [`Rbm`]'s [`EnergyModel::anneal_runs`](ebm_core::EnergyModel::anneal_runs):
/// heat-bath block sweeps along `runs.path` (any points ≥ 0) by the batched
/// [`Runner`], from the uniform start or from a base of independent sites
/// whose hidden fields are flat (a field on a hidden unit would couple the
/// summed-out layer to the base: `None`, the generic path). Starts are joint
/// rows whose visible part is kept (the hidden part is summed out). `None`
/// for other rules.
pub(crate) fn anneal_runs(rbm: &Rbm, runs: &AnnealRuns<'_, i8>) -> Option<Result<Vec<f64>>> {
    if runs.rule != LocalRule::HeatBath || runs.n_runs == 0 || runs.path.len() < 2 {
        return None;
    }
    if runs.path.iter().any(|s| !(s.is_finite() && *s >= 0.0)) {
        return None;
    }
    let (nv, n) = (rbm.n_visible(), rbm.n_visible() + rbm.n_hidden());
    // b_A = f_i(1) − f_i(0); the constant Σ_i f_i(0) shifts every ln f_s by
    // (β − s) times it, which the kernel's increments leave out
    let (ba, top, constant) = match runs.base {
        None => (vec![0.0; nv], 1.0, 0.0),
        Some(base) => {
            let f = base.fields;
            if f.len() != 2 * n || !(base.beta.is_finite() && base.beta > 0.0) {
                return None;
            }
            if f[2 * nv..].chunks_exact(2).any(|p| p[0] != p[1]) {
                return None;
            }
            let ba = f[..2 * nv].chunks_exact(2).map(|p| p[1] - p[0]).collect();
            (ba, base.beta, f.iter().step_by(2).sum::<f64>())
        }
    };
    let starts = match runs.starts {
        None => None,
        Some(rows) => {
            if rows.len() < runs.n_runs * n {
                return Some(Err(Error::ShapeMismatch {
                    what: "reverse AIS starting states (≥ n_runs rows of n_units)",
                    expected: runs.n_runs * n,
                    found: rows.len(),
                }));
            }
            let v: Vec<i8> =
                rows[..runs.n_runs * n].chunks_exact(n).flat_map(|r| &r[..nv]).copied().collect();
            Some(v)
        }
    };
    let runner = Runner::new(rbm, ba, top);
    let first_sweep = runs.first_sweep.then_some(runs.path[0]);
    let mut lw = runner.run(
        runs.path,
        runs.n_runs,
        starts.as_deref(),
        runs.seed,
        runs.stream_offset,
        first_sweep,
    );
    let shift = -(runs.path[runs.path.len() - 1] - runs.path[0]) * constant;
    if shift != 0.0 {
        lw.iter_mut().for_each(|w| *w += shift);
    }
    Some(Ok(lw))
}

/// Parameters in the layout the batched path needs.
struct Runner {
    nv: usize,
    nh: usize,
    /// W, f32 row-major `nv × nh`.
    w32: Vec<f32>,
    c32: Vec<f32>,
    /// b_A and b − b_A in f32 (for the visible conditional) and f64 (weights).
    ba32: Vec<f32>,
    b32: Vec<f32>,
    db: Vec<f64>,
    /// β, the path's end: the base enters as `(β − s) b_A`.
    top: f32,
}

/// Per-group scratch, allocated once per group.
struct Group {
    v: Vec<f32>,
    h: Vec<f32>,
    pre: Vec<f32>,
    vin: Vec<f32>,
    /// `(b − b_A)·v` per run.
    lin: Vec<f64>,
    lw: Vec<f64>,
    rngs: Vec<ebm_core::ChainRng>,
    bits: Vec<u32>,
    /// `e^{−β_k |x_j|}` and `e^{−β_{k−1} |x_j|}` for one run.
    e_cur: Vec<f64>,
    e_prev: Vec<f64>,
    /// The runs' visible ones, for the sparse `V W`.
    v_ones: linalg::ActiveSets,
}

/// The most runs advanced together (one sparse product and one GEMM per step).
const MAX_GROUP: usize = 64;

/// `e^x` for `x ≤ 0` in f64 (relative error ≈ 2e-16; `x < −708` gives
/// `e^{−708}`), branch-free so loops over it vectorise: Cody–Waite reduction
/// `x = k ln 2 + r`, `|r| ≤ ln2/2`, Taylor polynomial of degree 12, and 2^k
/// from the exponent bits.
#[inline(always)]
fn exp_neg(x: f64) -> f64 {
    const MAGIC: f64 = 6_755_399_441_055_744.0; // 1.5 · 2^52
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let x = x.max(-708.0);
    let t = x * std::f64::consts::LOG2_E + MAGIC;
    let k = t - MAGIC;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut p = 1.0 / 479_001_600.0;
    for c in [
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    let bits = t.to_bits().wrapping_sub(MAGIC.to_bits()).wrapping_add(1023) << 52;
    p * f64::from_bits(bits)
}

/// `e^x` for `x ≤ 0` in f32 (relative error ≈ 3e-7; `x < −87` gives
/// `e^{−87}`), branch-free like [`exp_neg`] with a degree-6 polynomial.
#[inline(always)]
fn exp_neg_f32(x: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5 · 2^23
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.max(-87.0);
    let t = x * std::f32::consts::LOG2_E + MAGIC;
    let k = t - MAGIC;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut p = 1.0 / 720.0;
    for c in [1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = p * r + c;
    }
    let bits = t.to_bits().wrapping_sub(MAGIC.to_bits()).wrapping_add(127) << 23;
    p * f32::from_bits(bits)
}

/// 24 high bits of a u32 as an f32 in [0, 1).
#[inline]
fn unit_f32(u: u32) -> f32 {
    (u >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
}

impl Runner {
    fn new(rbm: &Rbm, ba: Vec<f64>, top: f64) -> Self {
        let b = rbm.visible_bias();
        Runner {
            nv: rbm.n_visible(),
            nh: rbm.n_hidden(),
            w32: rbm.weights().iter().map(|&x| x as f32).collect(),
            c32: rbm.hidden_bias().iter().map(|&x| x as f32).collect(),
            ba32: ba.iter().map(|&x| x as f32).collect(),
            b32: b.iter().map(|&x| x as f32).collect(),
            db: b.iter().zip(&ba).map(|(b, a)| b - a).collect(),
            top: top as f32,
        }
    }

    /// Log-weights of `n_runs` runs along `path`, in run order.
    fn run(
        &self,
        path: &[f64],
        n_runs: usize,
        starts: Option<&[i8]>,
        seed: Seed,
        offset: u64,
        first_sweep: Option<f64>,
    ) -> Vec<f64> {
        // groups of at most MAX_GROUP runs, as equal as possible (GEMM packing
        // of W is amortised over a group's rows)
        let per_group = n_runs.div_ceil(n_runs.div_ceil(MAX_GROUP));
        let groups: Vec<(usize, usize)> =
            (0..n_runs).step_by(per_group).map(|r0| (r0, per_group.min(n_runs - r0))).collect();
        let parts: Vec<Vec<f64>> = groups
            .par_iter()
            .map(|&(r0, m)| {
                let s = starts.map(|s| &s[r0 * self.nv..(r0 + m) * self.nv]);
                self.run_group(path, r0..r0 + m, s, seed, offset, first_sweep)
            })
            .collect();
        parts.concat()
    }

    /// Log-weights of the runs `runs` (their indices pick the streams).
    fn run_group(
        &self,
        path: &[f64],
        runs: std::ops::Range<usize>,
        starts: Option<&[i8]>,
        seed: Seed,
        offset: u64,
        first_sweep: Option<f64>,
    ) -> Vec<f64> {
        let (nv, nh) = (self.nv, self.nh);
        let (r0, m) = (runs.start, runs.len());
        let mut g = Group {
            v: vec![0.0; m * nv],
            h: vec![0.0; m * nh],
            pre: vec![0.0; m * nh],
            vin: vec![0.0; m * nv],
            lin: vec![0.0; m],
            lw: vec![0.0; m],
            rngs: (0..m).map(|r| seed.stream(Purpose::AIS, offset + (r0 + r) as u64)).collect(),
            bits: vec![0; nv.max(nh)],
            e_cur: vec![0.0; nh],
            e_prev: vec![0.0; nh],
            v_ones: linalg::ActiveSets::new(nv),
        };
        // initial visible states: given, or drawn from the base p_A (β = 0)
        for r in 0..m {
            let v = &mut g.v[r * nv..(r + 1) * nv];
            match starts {
                Some(s) => {
                    for (d, &x) in v.iter_mut().zip(&s[r * nv..(r + 1) * nv]) {
                        *d = f32::from(x);
                    }
                }
                None => {
                    let bits = &mut g.bits[..nv];
                    g.rngs[r].fill_u32(bits);
                    for ((d, &a), &u) in v.iter_mut().zip(&self.ba32).zip(bits.iter()) {
                        *d = f32::from(u8::from(unit_f32(u) < sigmoid_f32(self.top * a)));
                    }
                }
            }
            g.lin[r] = v.iter().zip(&self.db).map(|(&x, &d)| f64::from(x) * d).sum();
        }
        // RAISE: one transition at the path's first β before the first weight
        if let Some(beta) = first_sweep {
            self.hidden_pre(&mut g, m);
            for r in 0..m {
                let pre = &g.pre[r * nh..(r + 1) * nh];
                for (e, &x) in g.e_cur.iter_mut().zip(pre) {
                    *e = exp_neg(-beta * f64::from(x).abs());
                }
                self.hidden_sample(&mut g, r);
            }
            self.visible_sample(&mut g, m, beta as f32);
        }
        let last = path.len() - 1;
        for t in 1..=last {
            let (prev, cur) = (path[t - 1], path[t]);
            self.hidden_pre(&mut g, m);
            let sample = t < last;
            for r in 0..m {
                let pre = &g.pre[r * nh..(r + 1) * nh];
                // e^{−β|x|} at both temperatures (a vectorisable map)
                for ((&x, ec), ep) in pre.iter().zip(&mut g.e_cur).zip(&mut g.e_prev) {
                    let ax = f64::from(x).abs();
                    *ec = exp_neg(-cur * ax);
                    *ep = exp_neg(-prev * ax);
                }
                let mut pos = 0.0;
                let mut logs = 0.0;
                for ((pc, ec), ep) in pre
                    .chunks(PRODUCT_LEN)
                    .zip(g.e_cur.chunks(PRODUCT_LEN))
                    .zip(g.e_prev.chunks(PRODUCT_LEN))
                {
                    // factors in (1, 2]: 512 of them stay below 2^512
                    let (mut pcur, mut pprev) = ([1.0f64; 4], [1.0f64; 4]);
                    for ((x4, c4), p4) in
                        pc.chunks_exact(4).zip(ec.chunks_exact(4)).zip(ep.chunks_exact(4))
                    {
                        for k in 0..4 {
                            pos += f64::from(x4[k]).max(0.0);
                            pcur[k] *= 1.0 + c4[k];
                            pprev[k] *= 1.0 + p4[k];
                        }
                    }
                    let tail = pc.len() / 4 * 4;
                    for k in tail..pc.len() {
                        pos += f64::from(pc[k]).max(0.0);
                        pcur[0] *= 1.0 + ec[k];
                        pprev[0] *= 1.0 + ep[k];
                    }
                    logs += ((pcur[0] * pcur[1]) * (pcur[2] * pcur[3])).ln()
                        - ((pprev[0] * pprev[1]) * (pprev[2] * pprev[3])).ln();
                }
                g.lw[r] += (cur - prev) * (g.lin[r] + pos) + logs;
                if sample {
                    self.hidden_sample(&mut g, r);
                }
            }
            if sample {
                self.visible_sample(&mut g, m, cur as f32);
            }
        }
        g.lw
    }

    /// `pre ← V W + 1 cᵀ` for the group's m runs: V is binary, so a sum of
    /// W's rows over each run's ones (the sparse kernel of the RBM's
    /// conditionals, a third of the dense GEMM's time at MNIST densities).
    fn hidden_pre(&self, g: &mut Group, m: usize) {
        g.v_ones.clear(self.nv);
        for row in g.v.chunks_exact(self.nv) {
            g.v_ones.push_row(row);
        }
        linalg::sparse_rows(
            &mut g.pre,
            self.nh,
            linalg::Init::Row(&self.c32),
            (&self.w32, &g.v_ones),
            None,
            0..m,
        );
    }

    /// Run r's `h_j ~ σ(β x_j)` from its pre-activations `x` and
    /// `e_cur_j = e^{−β |x_j|}` (the exponential its weight already needed).
    fn hidden_sample(&self, g: &mut Group, r: usize) {
        let nh = self.nh;
        let bits = &mut g.bits[..nh];
        g.rngs[r].fill_u32(bits);
        let pre = &g.pre[r * nh..(r + 1) * nh];
        let h = &mut g.h[r * nh..(r + 1) * nh];
        for (((hj, &x), &e), &u) in h.iter_mut().zip(pre).zip(&g.e_cur).zip(&*bits) {
            let inv = 1.0 / (1.0 + e);
            let p = if x >= 0.0 { inv } else { e * inv };
            *hj = if unit_f32(u) < p as f32 { 1.0 } else { 0.0 };
        }
    }

    /// `v ~ σ((β_top − s) b_A + s (b + W h))`, updating `(b − b_A)·v`.
    fn visible_sample(&self, g: &mut Group, m: usize, s: f32) {
        let nv = self.nv;
        let wt = View::row_major(&self.w32, nv, self.nh).t();
        linalg::sgemm(1.0, View::row_major(&g.h, m, self.nh), wt, 0.0, &mut g.vin);
        for r in 0..m {
            let bits = &mut g.bits[..nv];
            g.rngs[r].fill_u32(bits);
            let v = &mut g.v[r * nv..(r + 1) * nv];
            let vin = &g.vin[r * nv..(r + 1) * nv];
            let (ba, b) = (&self.ba32, &self.b32);
            for ((((vi, &a0), &b0), &x), &u) in v.iter_mut().zip(ba).zip(b).zip(vin).zip(&*bits) {
                let a = (self.top - s) * a0 + s * (b0 + x);
                let e = exp_neg_f32(-a.abs());
                let inv = 1.0 / (1.0 + e);
                let p = if a >= 0.0 { inv } else { e * inv };
                *vi = if unit_f32(u) < p { 1.0 } else { 0.0 };
            }
            let mut lin = 0.0;
            for (&vi, &d) in v.iter().zip(&self.db) {
                if vi != 0.0 {
                    lin += d;
                }
            }
            g.lin[r] = lin;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exponentials_match_std() {
        let mut worst = (0.0f64, 0.0f32);
        for i in 0..=200_000 {
            let x = -750.0 * f64::from(i) / 200_000.0;
            let e = exp_neg(x);
            if x >= -708.0 {
                worst.0 = worst.0.max((e / x.exp() - 1.0).abs());
            } else {
                assert!(e > 0.0 && e < 1e-300);
            }
            let xf = (x / 8.0) as f32;
            let ef = exp_neg_f32(xf);
            if xf >= -87.0 {
                worst.1 = worst.1.max((ef / xf.exp() - 1.0).abs());
            }
        }
        assert!(worst.0 < 1e-15 && worst.1 < 1e-6, "{worst:?}");
        assert_eq!(exp_neg(0.0), 1.0);
        assert_eq!(exp_neg_f32(0.0), 1.0);
    }
}
