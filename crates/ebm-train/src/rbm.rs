//! CD-k specialised to the [`Rbm`]: the same update as the generic
//! [`Cd`](crate::Cd) with `Gibbs::block()`, at the cost of the work CD needs.
//!
//! One step on a batch V₀ (B rows) at inverse temperature β:
//!
//! ```text
//! P₀ = σ(β(c + V₀W))                     positive phase, Rao–Blackwellised
//! H ~ Bernoulli(P₀)                      the chain's first hidden state
//! k times: V ~ Bernoulli(σ(β(b + HWᵀ)))  block Gibbs, visible then hidden
//!          P = σ(β(c + VW)),  H ~ Bernoulli(P)   (the last H is not needed)
//! g = β [V₀ᵀP₀ − VₖᵀPₖ, Σ(V₀ − Vₖ), Σ(P₀ − Pₖ)] / B
//! ```
//!
//! This is exactly the generic trainer's estimator (positive statistics
//! `E[φ | v₀]`, negative statistics `E[φ | vₖ]` at the chain's last visible
//! state), so both have the same expected gradient (tested against each other
//! and against the exact expected CD-k gradient of a small RBM). What differs
//! is the cost: every product with a binary matrix (V₀, H, Vₖ) is a sum of
//! weight rows over its ones ([`Rbm::hidden_probs_sparse`]), `p(h | v₀)` and
//! `p(h | vₖ)` are computed once, and the weight gradient `V₀ᵀP₀ − VₖᵀPₖ` is a
//! sparse outer difference ([`Rbm::sparse_outer_difference`]). Products are
//! formed in f32 from the model's f32 mirror; the gradient is applied to the
//! f64 master parameters by the shared optimizer. Buffers live in the state:
//! no allocation per step once it has grown.
//!
//! Random numbers: row r of step t draws from stream
//! `(seed, TRAINING, 3·2⁴⁰ + t·2²⁰ + r)`, 32 bits per unit, compared as
//! `u · 2⁻²⁴ < p` in f32 (flip probabilities are resolved to 2⁻²⁴).
//! Rows are processed in fixed chunks of [`ROW_CHUNK`] in parallel and
//! every sum has a fixed order, so results are bit-identical for any number
//! of threads.

use crate::optim::{OptimizerState, clip_norm};
use crate::trainer::{Learning, StepReport};
use ebm_core::{ChainRng, Error, LogLinear, Purpose, Result, Trainer, check_len};
use ebm_models::rbm::{ActiveSets, Rbm};
use rayon::prelude::*;
use std::time::Instant;

/// Rows processed together by one task: a constant, so results do not depend
/// on the number of threads.
pub const ROW_CHUNK: usize = 25;

/// Rows of weight gradient formed by one task.
const GRAD_ROWS: usize = 16;

const RBM_CD_SPACE: u64 = 3 << 40;

/// CD-k for the RBM (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
pub struct RbmCd {
    /// Block-Gibbs sweeps of the negative chains (k ≥ 1).
    pub k: usize,
    /// Optimizer, β, seed.
    pub learning: Learning,
}

/// The moving parts of [`RbmCd`]: the step counter and optimizer moments
/// (what a checkpoint needs) plus reused buffers.
#[derive(Debug, Clone)]
pub struct RbmCdState {
    /// Steps taken.
    pub step: u64,
    /// The optimizer's moments.
    pub optimizer: OptimizerState,
    scratch: Scratch,
}

/// What one [`RbmCd`] step reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RbmStepReport {
    /// The shared report (step, gradient norm, seconds; no acceptance rate).
    pub step: StepReport,
    /// Mean squared reconstruction error of the batch,
    /// `Σ (v₀ − p(v | h₀))² / (B · n_visible)` with h₀ the first hidden sample
    /// (what `rbm.m` and the PyTorch peer report as the training error).
    pub reconstruction_error: f64,
}

#[derive(Debug, Clone, Default)]
struct Chunk {
    rng: Vec<ChainRng>,
    v0: ActiveSets,
    h: ActiveSets,
    v: ActiveSets,
    pv: Vec<f32>,
    u: Vec<u32>,
    recon: f64,
}

#[derive(Debug, Clone, Default)]
struct Scratch {
    chunks: Vec<Chunk>,
    p0: Vec<f32>,
    pk: Vec<f32>,
    v0_all: ActiveSets,
    vk_all: ActiveSets,
    v0_t: ActiveSets,
    vk_t: ActiveSets,
    gw: Vec<f32>,
    grad: Vec<f64>,
    theta: Vec<f64>,
}

impl RbmCd {
    /// A fresh state for `model`.
    pub fn init(&self, model: &Rbm) -> Result<RbmCdState> {
        self.learning.optimizer.validate()?;
        if self.k == 0 {
            return Err(Error::InvalidParameter { name: "k", value: 0.0, expected: "≥ 1" });
        }
        Ok(RbmCdState {
            step: 0,
            optimizer: self.learning.optimizer.state(model.n_params()),
            scratch: Scratch::default(),
        })
    }
}

/// Samples rows of bits from probabilities `p` (rows of `width`), row r
/// drawing 32 bits per unit from `rngs[r]`.
#[inline]
fn sample_rows(
    p: &[f32],
    width: usize,
    rngs: &mut [ChainRng],
    u: &mut Vec<u32>,
    out: &mut ActiveSets,
) {
    out.clear(width);
    u.resize(width, 0);
    for (p, rng) in p.chunks_exact(width).zip(rngs.iter_mut()) {
        rng.fill_u32(u);
        out.push_bernoulli(p, u);
    }
}

impl Trainer<Rbm> for RbmCd {
    type State = RbmCdState;
    type Report = RbmStepReport;

    fn step(&self, model: &mut Rbm, state: &mut RbmCdState, batch: &[i8]) -> Result<RbmStepReport> {
        let t0 = Instant::now();
        let (nv, nh) = (model.n_visible(), model.n_hidden());
        if batch.is_empty() || !batch.len().is_multiple_of(nv) {
            return Err(Error::ShapeMismatch {
                what: "batch (whole rows of n_visible values)",
                expected: nv * (batch.len() / nv).max(1),
                found: batch.len(),
            });
        }
        ebm_core::Domain::Bit.validate(batch)?;
        check_len("optimizer state", model.n_params(), state.optimizer.first.len())?;
        let rows = batch.len() / nv;
        let l = &self.learning;
        let beta = l.beta;
        let step = state.optimizer.step;
        let s = &mut state.scratch;
        let n_chunks = rows.div_ceil(ROW_CHUNK);
        s.chunks.resize_with(n_chunks, Chunk::default);
        s.p0.resize(rows * nh, 0.0);
        s.pk.resize(rows * nh, 0.0);
        // negative chains, chunk by chunk (each chunk's rows are independent)
        let m = &*model;
        s.chunks
            .par_iter_mut()
            .zip(s.p0.par_chunks_mut(ROW_CHUNK * nh))
            .zip(s.pk.par_chunks_mut(ROW_CHUNK * nh))
            .enumerate()
            .try_for_each(|(c, ((ch, p0), pk))| -> Result<()> {
                let r0 = c * ROW_CHUNK;
                let len = p0.len() / nh;
                let data = &batch[r0 * nv..(r0 + len) * nv];
                ch.rng.clear();
                ch.rng.extend((0..len as u64).map(|r| {
                    l.seed.stream(Purpose::TRAINING, RBM_CD_SPACE + (step << 20) + r0 as u64 + r)
                }));
                ch.v0.clear(nv);
                data.chunks_exact(nv).for_each(|v| ch.v0.push_row(v));
                m.hidden_probs_sparse(&ch.v0, 0..len, beta, p0)?;
                sample_rows(p0, nh, &mut ch.rng, &mut ch.u, &mut ch.h);
                ch.pv.resize(len * nv, 0.0);
                ch.recon = 0.0;
                for sweep in 0..self.k {
                    m.visible_probs_sparse(&ch.h, 0..len, beta, &mut ch.pv)?;
                    if sweep == 0 {
                        let mut e = 0.0f64;
                        for (&x, &p) in data.iter().zip(&ch.pv) {
                            let d = f32::from(x) - p;
                            e += f64::from(d * d);
                        }
                        ch.recon = e;
                    }
                    sample_rows(&ch.pv, nv, &mut ch.rng, &mut ch.u, &mut ch.v);
                    m.hidden_probs_sparse(&ch.v, 0..len, beta, pk)?;
                    if sweep + 1 < self.k {
                        sample_rows(pk, nh, &mut ch.rng, &mut ch.u, &mut ch.h);
                    }
                }
                Ok(())
            })?;
        // statistics: V₀ᵀP₀ − VₖᵀPₖ by sparse outer differences over visible units
        s.v0_all.clear(nv);
        s.vk_all.clear(nv);
        let mut recon = 0.0;
        for ch in &s.chunks {
            s.v0_all.extend(&ch.v0);
            s.vk_all.extend(&ch.v);
            recon += ch.recon;
        }
        s.v0_all.transpose_into(&mut s.v0_t);
        s.vk_all.transpose_into(&mut s.vk_t);
        s.gw.resize(nv * nh, 0.0);
        s.grad.resize(model.n_params(), 0.0);
        let scale = beta.value() / rows as f64;
        let (p0, pk, v0_t, vk_t) = (&s.p0, &s.pk, &s.v0_t, &s.vk_t);
        let (gw_w, g_rest) = s.grad.split_at_mut(nv * nh);
        s.gw.par_chunks_mut(GRAD_ROWS * nh)
            .zip(gw_w.par_chunks_mut(GRAD_ROWS * nh))
            .enumerate()
            .try_for_each(|(c, (g32, g64))| -> Result<()> {
                let i0 = c * GRAD_ROWS;
                let len = g32.len() / nh;
                Rbm::sparse_outer_difference(g32, nh, (p0, v0_t), (pk, vk_t), i0..i0 + len)?;
                for (d, &x) in g64.iter_mut().zip(g32.iter()) {
                    *d = scale * f64::from(x);
                }
                Ok(())
            })?;
        let (gb, gc) = g_rest.split_at_mut(nv);
        for (i, g) in gb.iter_mut().enumerate() {
            *g = scale * (v0_t.row(i).len() as f64 - vk_t.row(i).len() as f64);
        }
        gc.iter_mut().for_each(|g| *g = 0.0);
        for (a, b) in p0.chunks_exact(nh).zip(pk.chunks_exact(nh)) {
            for ((g, &x), &y) in gc.iter_mut().zip(a).zip(b) {
                *g += f64::from(x) - f64::from(y);
            }
        }
        gc.iter_mut().for_each(|g| *g *= scale);
        // the update, with the generic trainer's checks
        if let Some(k) = s.grad.iter().position(|g| !g.is_finite()) {
            return Err(Error::Diverged { what: "gradient", step, index: k });
        }
        let grad_norm = match l.clip_norm {
            Some(max) => clip_norm(&mut s.grad, max),
            None => s.grad.iter().map(|g| g * g).sum::<f64>().sqrt(),
        };
        s.theta.clear();
        s.theta.extend_from_slice(model.params());
        l.optimizer.apply(&mut state.optimizer, &mut s.theta, &s.grad, model.n_couplings());
        if let Some(k) = s.theta.iter().position(|t| !t.is_finite()) {
            state.optimizer.step = step;
            return Err(Error::Diverged { what: "parameters", step, index: k });
        }
        model.set_params(&s.theta)?;
        state.step = state.optimizer.step;
        Ok(RbmStepReport {
            step: StepReport {
                step: state.step,
                grad_norm,
                acceptance_rate: None,
                seconds: t0.elapsed().as_secs_f64(),
            },
            reconstruction_error: recon / (rows * nv) as f64,
        })
    }
}
