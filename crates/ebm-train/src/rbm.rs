//! Block Gibbs CD-k and PCD-k on the [`Rbm`], batched: what
//! [`Cd`](crate::Cd) and [`Pcd`](crate::Pcd) run when the model is an `Rbm`
//! and the sampler a plain heat-bath block sweep (`Gibbs::block()`; see
//! [`Sampler::block_rule`](ebm_core::Sampler::block_rule)). The same chain
//! and estimator as the generic code, at the cost of the work CD needs.
//! [`RbmCd`] is the same kernel under its own name, with one extra: the
//! mean-field reconstruction of Hinton's `rbm.m`.
//!
//! One step on a batch V₀ (B rows) at inverse temperature β, with
//! [`Reconstruction::Sampled`] (the default):
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
//! and against the exact expected CD-k gradient of a small RBM). It is
//! standard CD: the negative statistics are those of a state of a Markov
//! chain that leaves the model's distribution invariant, which is what the
//! maximum-likelihood gradient asks for as k grows.
//!
//! [`Reconstruction::MeanField`] replaces every sampled visible state by its
//! probabilities, `Vₜ = σ(β(b + HWᵀ))` (the hidden states stay sampled, from
//! `σ(β(c + VₜW))`), and takes the negative statistics at `(Vₖ, Pₖ)` with
//! `Pₖ = σ(β(c + VₖW))`: the update of Hinton's `rbm.m`, of his practical
//! guide and of the PyTorch peer (`rbm_torch.py`). It is the common practical
//! variant (less noise, usually lower reconstruction error), but `Vₖ` is not
//! a state of the chain, so its fixed points are not those of CD.
//!
//! The cost: every product with a binary matrix (V₀, H, a sampled Vₖ) is a
//! sum of weight rows over its ones ([`Rbm::hidden_probs_sparse`]), `p(h | v₀)`
//! and `p(h | vₖ)` are computed once, and the weight gradient `V₀ᵀP₀ − VₖᵀPₖ`
//! is a sparse outer difference ([`Rbm::sparse_outer_difference`]), or, with a
//! mean-field `Vₖ`, a sparse term minus an f32 GEMM
//! ([`Rbm::sparse_dense_outer_difference`]; `Pₖ` is then a GEMM too,
//! [`Rbm::hidden_probs_dense`]). Products are formed in f32 from the model's
//! f32 mirror; the gradient is applied to the f64 master parameters. With
//! [`Optimizer::Sgd`] and no clipping, the gradient of
//! each block of W's rows is formed and applied (the optimizer's formula,
//! bit for bit) in one pass that also refreshes the f32 mirror
//! ([`Rbm::update_weights`]); otherwise the whole gradient is formed, checked
//! and handed to the shared optimizer. Buffers live in the state: no
//! allocation per step once it has grown.
//!
//! PCD runs the same sweeps on the persistent chains (visible given hidden,
//! then hidden given visible, k times, from the chain's state `[v, h]`) and
//! takes the negative statistics `E[φ | vₖ]` over its m chains (scale 1/m,
//! the data term's 1/B).
//!
//! Random numbers: CD row r of step t draws from stream
//! `(seed, TRAINING, 3·2⁴⁰ + t·2²⁰ + r)`, persistent chain c from its own
//! stream `(seed, TRAINING, c)` (saved in checkpoints), 32 bits per unit, compared as
//! `u · 2⁻²⁴ < p` in f32 (flip probabilities are resolved to 2⁻²⁴).
//! Rows are processed in fixed chunks of [`ROW_CHUNK`], GEMMs are split into
//! blocks fixed by the shape (never along the summed index), and every sum
//! has a fixed order, so results are bit-identical for any number of threads.

use crate::centring::Centring;
use crate::optim::{Optimizer, OptimizerState, clip_norm};
use crate::trainer::{Learning, StepReport};
use ebm_core::{Chain, ChainRng, Error, LogLinear, Purpose, Result, Trainer, check_len};
use ebm_models::rbm::{ActiveSets, Moves, Rbm};
use ebm_samplers::SiteChain;
use rayon::prelude::*;
use std::time::Instant;

/// Rows processed together by one task: a constant, so results do not depend
/// on the number of threads.
pub const ROW_CHUNK: usize = 25;

/// W's rows are cut into this many blocks for the gradient and the update
/// (fixed by the shape: 784 visible units give 8 blocks of 98 rows).
const WEIGHT_BLOCKS: usize = 8;

const RBM_CD_SPACE: u64 = 3 << 40;

/// What the negative phase of [`RbmCd`] uses for the visible units (see the
/// [module docs](self)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Reconstruction {
    /// Sampled binary visible states: standard CD-k, the generic
    /// [`Cd`](crate::Cd)'s estimator.
    #[default]
    Sampled,
    /// Visible probabilities `σ(β(b + HWᵀ))` instead of samples, with
    /// negative statistics `(Vₖ, p(h | Vₖ))`: `rbm.m` and the PyTorch peer.
    MeanField,
}

/// CD-k for the RBM (see the [module docs](self)): with
/// [`Reconstruction::Sampled`] exactly what `Cd { sampler: Gibbs::block(), .. }`
/// runs on an [`Rbm`] (same kernel, same random streams, same bits); with
/// [`Reconstruction::MeanField`], the `rbm.m` / PyTorch variant.
#[derive(Debug, Clone, PartialEq)]
pub struct RbmCd {
    /// Block-Gibbs sweeps of the negative chains (k ≥ 1).
    pub k: usize,
    /// Sampled (standard CD) or mean-field visible reconstructions.
    pub reconstruction: Reconstruction,
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
    /// CD: the chain's previous visible state (k > 1).
    v_prev: ActiveSets,
    /// CD: the hidden pre-activations of the chain's last visible state.
    inputs: Vec<f32>,
    /// CD: the changes from the previous visible state to the new one.
    moves: Moves,
    u: Vec<u32>,
    recon: f64,
}

/// Reused buffers of the RBM kernel (grown once, then reused: no allocation
/// per step).
#[derive(Debug, Clone, Default)]
pub(crate) struct Scratch {
    chunks: Vec<Chunk>,
    neg_chunks: Vec<Chunk>,
    /// PCD: `Σ_r p(h | vₖ)` over the chains (n_hidden sums).
    neg_hidden_sum: Vec<f64>,
    pv_neg: Vec<f32>,
    p0: Vec<f32>,
    pk: Vec<f32>,
    pv: Vec<f32>,
    dense_work: Vec<f32>,
    v0_all: ActiveSets,
    vk_all: ActiveSets,
    /// The batch's (or the chains') hidden samples, for the grouped `H Wᵀ`.
    h_all: ActiveSets,
    v0_t: ActiveSets,
    vk_t: ActiveSets,
    gw: Vec<f32>,
    block_norms: Vec<f64>,
    gbias: Vec<f64>,
    grad: Vec<f64>,
    theta: Vec<f64>,
    /// Centring: the batch's visible then hidden means.
    means: Vec<f64>,
    kept_offsets: Vec<f64>,
    /// Centring in the fused update: the centred bias steps, and row products.
    gbias_centred: Vec<f64>,
    /// CD: per visible unit, the batch rows whose data and chain state are
    /// both on, the data alone, the chain alone ([`ActiveSets::split_into`]).
    paired_t: [ActiveSets; 3],
    /// CD: `P₀ − Pₖ`, the shared rows' terms of the weight gradient.
    p_diff: Vec<f32>,
    centring_work: [Vec<f64>; 4],
    /// The batch as `i8` rows, for callers generic over the unit type.
    batch: Vec<i8>,
}

impl RbmCd {
    /// Standard CD-k ([`Reconstruction::Sampled`]) with `learning`.
    pub fn new(k: usize, learning: Learning) -> Self {
        RbmCd { k, reconstruction: Reconstruction::Sampled, learning }
    }

    /// A fresh state for `model`.
    pub fn init(&self, model: &Rbm) -> Result<RbmCdState> {
        self.learning.validate()?;
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

/// `Σ (x − p)²` in f64 over a chunk of rows (eight lanes, fixed order).
fn squared_error(data: &[i8], p: &[f32]) -> f64 {
    const L: usize = 8;
    let mut acc = [0.0f64; L];
    let n = data.len().min(p.len());
    let (dc, pc) = (data[..n].chunks_exact(L), p[..n].chunks_exact(L));
    let (dr, pr) = (dc.remainder(), pc.remainder());
    for (x, q) in dc.zip(pc) {
        for k in 0..L {
            let d = f32::from(x[k]) - q[k];
            acc[k] += f64::from(d * d);
        }
    }
    for (&x, &q) in dr.iter().zip(pr) {
        let d = f32::from(x) - q;
        acc[0] += f64::from(d * d);
    }
    acc.iter().sum()
}

/// Whether every value is finite (no early exit: vectorises).
pub(crate) fn all_finite(p: &[f32]) -> bool {
    p.iter().map(|x| u32::from(x.to_bits() & 0x7f80_0000 == 0x7f80_0000)).sum::<u32>() == 0
}

/// Rows of each block of W for the gradient and the update.
fn weight_block_rows(nv: usize) -> usize {
    nv.div_ceil(WEIGHT_BLOCKS).max(1)
}

/// Where the negative statistics live.
#[derive(Clone, Copy)]
enum Negative<'a> {
    /// Sampled visible states (transposed) and their hidden probabilities;
    /// for CD, whose row r is the chain of data row r, also the split of the
    /// ones into shared and single ones with `P₀ − Pₖ` (see
    /// [`Rbm::sparse_outer_paired`]).
    Sparse(&'a ActiveSets, &'a [f32], Option<(&'a [ActiveSets; 3], &'a [f32])>),
    /// Mean-field visible probabilities and their hidden probabilities.
    Dense(&'a [f32], &'a [f32]),
}

/// `g32 ← V₀ᵀP₀ − VₖᵀPₖ` for the rows `rows` of W.
fn weight_gradient(
    g32: &mut [f32],
    nh: usize,
    pos: (&[f32], &ActiveSets),
    neg: Negative<'_>,
    rows: std::ops::Range<usize>,
) -> Result<()> {
    match neg {
        Negative::Sparse(vk_t, pk, None) => {
            Rbm::sparse_outer_difference(g32, nh, pos, (pk, vk_t), rows)
        }
        Negative::Sparse(_, pk, Some(([both, only0, onlyk], d))) => {
            Rbm::sparse_outer_paired(g32, nh, (d, both), (pos.0, only0), (pk, onlyk), rows)
        }
        Negative::Dense(pv, pk) => Rbm::sparse_dense_outer_difference(g32, nh, pos, (pv, pk), rows),
    }
}

/// Centring in the fused update: the centred bias steps
/// `g'_b = g_b − g'_W λ`, `g'_c = g_c − g'_Wᵀ μ` (see [`Centring`]) into
/// `out`, without forming g'_W: with `g'_W = g_W − μ g_cᵀ − g_b λᵀ` and
/// `g_W = scale (V₀ᵀP₀ − VₖᵀPₖ)`, the products `g_W λ` and `g_Wᵀ μ` are
/// `O(rows · (nv + nh))` through `P λ` and `V μ`. `gbias` is the plain
/// `[g_b, g_c]`, `offsets` `[μ, λ]`; `work` holds the row products.
#[allow(clippy::too_many_arguments)]
fn centred_biases(
    out: &mut Vec<f64>,
    work: &mut [Vec<f64>; 4],
    gbias: &[f64],
    offsets: &[f64],
    pos: (&[f32], &ActiveSets),
    neg: &Negative<'_>,
    scale: f64,
    (nv, nh): (usize, usize),
) {
    let (mu, lambda) = offsets.split_at(nv);
    let (gb, gc) = gbias.split_at(nv);
    let [a0, ak, b0, bk] = work;
    // P λ for the data rows and the negative rows
    let p_lambda = |p: &[f32], out: &mut Vec<f64>| {
        out.clear();
        out.extend(
            p.chunks_exact(nh)
                .map(|row| row.iter().zip(lambda).map(|(&x, l)| f64::from(x) * l).sum::<f64>()),
        );
    };
    // V μ from the transposed sets (rows with unit i on gain μ_i)
    let v_mu = |vt: &ActiveSets, rows: usize, out: &mut Vec<f64>| {
        out.clear();
        out.resize(rows, 0.0);
        for (i, &m) in mu.iter().enumerate() {
            for &r in vt.row(i) {
                out[r as usize] += m;
            }
        }
    };
    let (p0, v0_t) = pos;
    let rows = p0.len() / nh;
    p_lambda(p0, a0);
    v_mu(v0_t, rows, b0);
    let pk = match *neg {
        Negative::Sparse(vk_t, pk, _) => {
            p_lambda(pk, ak);
            v_mu(vk_t, pk.len() / nh, bk);
            pk
        }
        Negative::Dense(pv, pk) => {
            p_lambda(pk, ak);
            bk.clear();
            bk.extend(
                pv.chunks_exact(nv)
                    .map(|row| row.iter().zip(mu).map(|(&x, m)| f64::from(x) * m).sum::<f64>()),
            );
            pk
        }
    };
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let (gc_l, l_l, mu_mu, gb_mu) =
        (dot(gc, lambda), dot(lambda, lambda), dot(mu, mu), dot(gb, mu));
    out.clear();
    // (g_W λ)_i = scale (Σ_{r: v₀ᵣᵢ = 1} (P₀λ)_r − Σ_r Vₖ[r, i] (Pₖλ)_r)
    for i in 0..nv {
        let pos_i: f64 = v0_t.row(i).iter().map(|&r| a0[r as usize]).sum();
        let neg_i: f64 = match *neg {
            Negative::Sparse(vk_t, _, _) => vk_t.row(i).iter().map(|&r| ak[r as usize]).sum(),
            Negative::Dense(pv, _) => {
                pv.chunks_exact(nv).zip(ak.iter()).map(|(row, a)| f64::from(row[i]) * a).sum()
            }
        };
        let gw_lambda = scale * (pos_i - neg_i);
        out.push(gb[i] - (gw_lambda - mu[i] * gc_l - gb[i] * l_l));
    }
    // (g_Wᵀ μ)_j = scale (Σ_r P₀[r, j] (V₀μ)_r − Σ_r Pₖ[r, j] (Vₖμ)_r)
    let start = out.len();
    out.resize(start + nh, 0.0);
    let acc = &mut out[start..];
    for (row, &b) in p0.chunks_exact(nh).zip(b0.iter()) {
        acc.iter_mut().zip(row).for_each(|(a, &p)| *a += f64::from(p) * b);
    }
    for (row, &b) in pk.chunks_exact(nh).zip(bk.iter()) {
        acc.iter_mut().zip(row).for_each(|(a, &p)| *a -= f64::from(p) * b);
    }
    for (j, a) in acc.iter_mut().enumerate() {
        let gwt_mu = scale * *a;
        *a = gc[j] - (gwt_mu - mu_mu * gc[j] - gb_mu * lambda[j]);
    }
}

impl Trainer<Rbm> for RbmCd {
    type State = RbmCdState;
    type Report = RbmStepReport;

    fn step(&self, model: &mut Rbm, state: &mut RbmCdState, batch: &[i8]) -> Result<RbmStepReport> {
        let kernel = Kernel {
            k: self.k,
            mean_field: self.reconstruction == Reconstruction::MeanField,
            learning: &self.learning,
        };
        kernel.step(model, &mut state.optimizer, &mut state.scratch, batch, None).map(
            |(step, reconstruction_error)| {
                state.step = step.step;
                RbmStepReport { step, reconstruction_error }
            },
        )
    }
}

/// The persistent chains of a PCD step: block-Gibbs chains (state `[v, h]`)
/// and their streams.
pub(crate) type Persistent<'a> = (&'a mut [SiteChain], &'a mut [ChainRng]);

/// One CD-k or PCD-k step of block Gibbs on an RBM: what [`RbmCd`], and
/// `Cd`/`Pcd` with `Gibbs::block()` on an [`Rbm`], run.
pub(crate) struct Kernel<'a> {
    pub(crate) k: usize,
    pub(crate) mean_field: bool,
    pub(crate) learning: &'a Learning,
}

impl Kernel<'_> {
    /// [`Kernel::step`] for a caller generic over the unit type (the
    /// trainers: the model was recognised as an [`Rbm`], so its units are
    /// `i8` bits): an `i8` batch is used in place; any other unit type (not
    /// reachable from the trainers) is converted into the scratch space
    /// first (bits outside {0, 1} are rejected by `step`).
    pub(crate) fn step_units<U: ebm_core::UnitValue>(
        &self,
        model: &mut Rbm,
        optimizer: &mut OptimizerState,
        s: &mut Scratch,
        batch: &[U],
        persistent: Option<Persistent<'_>>,
    ) -> Result<(StepReport, f64)> {
        if let Some(bits) = crate::trainer::units_as::<U, i8>(batch) {
            return self.step(model, optimizer, s, bits, persistent);
        }
        let mut bits = std::mem::take(&mut s.batch);
        bits.clear();
        bits.extend(batch.iter().map(|u| u.to_f64() as i8));
        let out = self.step(model, optimizer, s, &bits, persistent);
        s.batch = bits;
        out
    }

    /// A step on `batch`; negative chains start at the data (CD) or are the
    /// `persistent` ones (PCD, never mean-field). Returns the report and the
    /// summed squared reconstruction error (CD; 0 for PCD).
    pub(crate) fn step(
        &self,
        model: &mut Rbm,
        optimizer: &mut OptimizerState,
        s: &mut Scratch,
        batch: &[i8],
        persistent: Option<Persistent<'_>>,
    ) -> Result<(StepReport, f64)> {
        // a step forks a dozen times for a few hundred microseconds each:
        // the other workers poll instead of sleeping between the forks
        // (waking one costs about what it would take over on a VM)
        ebm_samplers::with_workers_awake(1, || {
            self.step_awake(model, optimizer, s, batch, persistent)
        })
    }

    fn step_awake(
        &self,
        model: &mut Rbm,
        optimizer: &mut OptimizerState,
        s: &mut Scratch,
        batch: &[i8],
        mut persistent: Option<Persistent<'_>>,
    ) -> Result<(StepReport, f64)> {
        let t0 = Instant::now();
        let (nv, nh) = (model.n_visible(), model.n_hidden());
        let rows = ebm_core::check_rows("batch (whole rows of n_visible values)", batch.len(), nv)?;
        ebm_core::Domain::Bit.validate(batch)?;
        check_len("optimizer state", model.n_params(), optimizer.first.len())?;
        self.learning.optimizer.check_state(optimizer, model.n_params())?;
        if self.k == 0 {
            return Err(Error::InvalidParameter { name: "k", value: 0.0, expected: "≥ 1" });
        }
        if rows > 1 << 20 {
            return Err(Error::InvalidParameter {
                name: "batch rows",
                value: rows as f64,
                expected: "at most 2^20",
            });
        }
        let l = self.learning;
        let beta = l.beta;
        let step = optimizer.step;
        let mean_field = self.mean_field && persistent.is_none();
        let cd = persistent.is_none();
        let n_chunks = rows.div_ceil(ROW_CHUNK);
        s.chunks.resize_with(n_chunks, Chunk::default);
        s.p0.resize(rows * nh, 0.0);
        s.pv.resize(rows * nv, 0.0);
        let m_neg = persistent.as_ref().map_or(rows, |(c, _)| c.len());
        if let Some((chains, rngs)) = &persistent {
            check_len("persistent streams", chains.len(), rngs.len())?;
            if chains.is_empty() {
                return Err(Error::InvalidParameter {
                    name: "n_chains",
                    value: 0.0,
                    expected: "≥ 1",
                });
            }
            for c in chains.iter() {
                check_len("chain state", nv + nh, c.state().len())?;
            }
        }
        // the positive phase walks the batch's chunks beside P_k's (used by CD
        // only): as many of them as the batch has, whatever the chain count
        s.pk.resize(m_neg.max(rows) * nh, 0.0);
        // positive phase (and, for CD, the first hidden sample), chunk by
        // chunk (each chunk's rows are independent)
        let m = &*model;
        let k = self.k;
        s.chunks.par_iter_mut().zip(s.p0.par_chunks_mut(ROW_CHUNK * nh)).enumerate().try_for_each(
            |(c, (ch, p0))| -> Result<()> {
                let r0 = c * ROW_CHUNK;
                let len = p0.len() / nh;
                let data = &batch[r0 * nv..(r0 + len) * nv];
                ch.v0.clear(nv);
                data.chunks_exact(nv).for_each(|v| ch.v0.push_row(v));
                if !cd {
                    return m.hidden_probs_sparse(&ch.v0, 0..len, beta, p0);
                }
                // the pre-activations are kept: the chain's next visible
                // state differs from v₀ in a few units (hidden_probs_moved)
                ch.inputs.resize(len * nh, 0.0);
                m.hidden_inputs_sparse(&ch.v0, 0..len, &mut ch.inputs)?;
                Rbm::probs_of_inputs(&ch.inputs, beta, p0)?;
                ch.rng.clear();
                ch.rng.extend((0..len as u64).map(|r| {
                    l.seed.stream(Purpose::TRAINING, RBM_CD_SPACE + (step << 20) + r0 as u64 + r)
                }));
                ch.h.sample_rows(p0, nh, &mut ch.rng, &mut ch.u);
                Ok(())
            },
        )?;
        // CD's negative chains: p(v | h) for the whole batch by group tables
        // (hidden units are about half on), then each chunk samples on
        if cd {
            for sweep in 0..k {
                s.h_all.clear(nh);
                s.chunks.iter().for_each(|ch| s.h_all.extend(&ch.h));
                m.visible_probs_grouped(&s.h_all, beta, &mut s.pv)?;
                s.chunks
                    .par_iter_mut()
                    .zip(s.pk.par_chunks_mut(ROW_CHUNK * nh))
                    .zip(s.pv.par_chunks(ROW_CHUNK * nv))
                    .enumerate()
                    .try_for_each(|(c, ((ch, pk), pv))| -> Result<()> {
                        let len = pv.len() / nv;
                        if sweep == 0 {
                            let r0 = c * ROW_CHUNK;
                            ch.recon = squared_error(&batch[r0 * nv..(r0 + len) * nv], pv);
                            if mean_field {
                                // the hidden probabilities of V₁ are one GEMM, below
                                return Ok(());
                            }
                        }
                        if sweep > 0 {
                            std::mem::swap(&mut ch.v, &mut ch.v_prev);
                        }
                        ch.v.sample_rows(pv, nv, &mut ch.rng, &mut ch.u);
                        let old = if sweep == 0 { &ch.v0 } else { &ch.v_prev };
                        ch.moves.between(old, &ch.v);
                        m.hidden_probs_moved(&mut ch.inputs, &ch.moves, beta, &mut pk[..len * nh])?;
                        if sweep + 1 < k {
                            ch.h.sample_rows(&pk[..len * nh], nh, &mut ch.rng, &mut ch.u);
                        }
                        Ok(())
                    })?;
                if mean_field {
                    break;
                }
            }
        }
        if let Some((chains, rngs)) = persistent.as_mut() {
            s.pk.truncate(m_neg * nh);
            persistent_sweeps(m, beta, k, s, chains, rngs)?;
        }
        let scale = beta.value() / rows as f64;
        let block_rows = weight_block_rows(nv);
        s.gw.resize(nv * nh, 0.0);
        s.block_norms.resize(nv.div_ceil(block_rows), 0.0);
        s.gbias.clear();
        s.gbias.resize(nv + nh, 0.0);
        // with the fused SGD update, the positive half V₀ᵀP₀ of the weight
        // gradient is formed beside the last GEMM (the same sums, earlier)
        let positive_first =
            mean_field && l.clip_norm.is_none() && matches!(l.optimizer, Optimizer::Sgd { .. });
        let mut finite_p0_pv = true;
        let mut recon = 0.0;
        if mean_field {
            for sweep in 0..k {
                if sweep + 1 < k {
                    model.hidden_probs_dense(&s.pv, beta, &mut s.pk, &mut s.dense_work)?;
                    s.chunks
                        .par_iter_mut()
                        .zip(s.pk.par_chunks(ROW_CHUNK * nh))
                        .zip(s.pv.par_chunks_mut(ROW_CHUNK * nv))
                        .try_for_each(|((ch, pk), pv)| -> Result<()> {
                            let len = pk.len() / nh;
                            ch.h.sample_rows(pk, nh, &mut ch.rng, &mut ch.u);
                            model.visible_probs_sparse(&ch.h, 0..len, beta, pv)
                        })?;
                    continue;
                }
                // the last GEMM beside the bookkeeping that does not need Pₖ
                let (gb, gc) = s.gbias.split_at_mut(nv);
                let (gemm, other) = rayon::join(
                    || -> Result<()> {
                        model.hidden_probs_dense(&s.pv, beta, &mut s.pk, &mut s.dense_work)?;
                        hidden_bias_gradient(gc, &s.p0, &s.pk, nh, scale);
                        Ok(())
                    },
                    || -> Result<()> {
                        recon = collect_rows(&s.chunks, &mut s.v0_all, &mut s.vk_all, false, nv);
                        s.v0_all.transpose_into(&mut s.v0_t);
                        s.vk_all.transpose_into(&mut s.vk_t);
                        visible_bias_gradient(gb, &s.v0_t, &s.vk_t, Some(&s.pv), nv, scale);
                        finite_p0_pv = all_finite(&s.p0) && all_finite(&s.pv);
                        if positive_first {
                            let (p0, v0_t) = (&s.p0[..], &s.v0_t);
                            s.gw.par_chunks_mut(block_rows * nh).enumerate().try_for_each(
                                |(c, g32)| {
                                    let i0 = c * block_rows;
                                    let r = i0..i0 + g32.len() / nh;
                                    Rbm::sparse_outer_sum(g32, nh, (p0, v0_t), r)
                                },
                            )?;
                        }
                        Ok(())
                    },
                );
                gemm?;
                other?;
            }
        } else if cd {
            // the visible side and the hidden side on two threads
            let (gb, gc) = s.gbias.split_at_mut(nv);
            let (chunks, v0_all, vk_all, v0_t, vk_t) =
                (&s.chunks, &mut s.v0_all, &mut s.vk_all, &mut s.v0_t, &mut s.vk_t);
            let (p0, pk, p_diff, [both, only0, onlyk]) =
                (&s.p0, &s.pk, &mut s.p_diff, &mut s.paired_t);
            (recon, finite_p0_pv) = rayon::join(
                || {
                    let recon = collect_rows(chunks, v0_all, vk_all, true, nv);
                    v0_all.transpose_into(v0_t);
                    vk_all.transpose_into(vk_t);
                    visible_bias_gradient(gb, v0_t, vk_t, None, nv, scale);
                    v0_t.split_into(vk_t, both, only0, onlyk);
                    recon
                },
                || {
                    hidden_bias_gradient(gc, p0, pk, nh, scale);
                    p_diff.clear();
                    p_diff.extend(p0.iter().zip(&pk[..p0.len()]).map(|(a, b)| a - b));
                    all_finite(p0)
                },
            );
        } else {
            // PCD: B data rows against m chains, scales 1/B and 1/m
            collect_rows(&s.chunks, &mut s.v0_all, &mut s.vk_all, false, nv);
            s.vk_all.clear(nv);
            for ch in &s.neg_chunks {
                s.vk_all.extend(&ch.v);
            }
            s.v0_all.transpose_into(&mut s.v0_t);
            s.vk_all.transpose_into(&mut s.vk_t);
            let (gb, gc) = s.gbias.split_at_mut(nv);
            let (sp, sn) = (beta.value() / rows as f64, beta.value() / m_neg as f64);
            for (i, g) in gb.iter_mut().enumerate() {
                *g = sp * s.v0_t.row(i).len() as f64 - sn * s.vk_t.row(i).len() as f64;
            }
            // Σ P₀ in gc, Σ Pₖ in a reused buffer (no allocation per step)
            let neg_sum = &mut s.neg_hidden_sum;
            neg_sum.clear();
            neg_sum.resize(nh, 0.0);
            for row in s.p0.chunks_exact(nh) {
                gc.iter_mut().zip(row).for_each(|(a, &p)| *a += f64::from(p));
            }
            for row in s.pk.chunks_exact(nh) {
                neg_sum.iter_mut().zip(row).for_each(|(a, &p)| *a += f64::from(p));
            }
            for (g, b) in gc.iter_mut().zip(neg_sum.iter()) {
                *g = sp * *g - sn * b;
            }
            finite_p0_pv = all_finite(&s.p0);
            if m_neg != rows {
                // Vₖᵀ(Pₖ · B/m) / B = VₖᵀPₖ / m: the weight gradient's one scale
                let f = rows as f32 / m_neg as f32;
                s.pk.iter_mut().for_each(|p| *p *= f);
            }
        }
        // with probabilities in [0, 1], every gradient component is finite
        let probs_finite = finite_p0_pv && all_finite(&s.pk);
        let neg = if mean_field {
            Negative::Dense(&s.pv, &s.pk)
        } else {
            // CD's chain r starts at data row r: pair their ones (filled above)
            let paired = cd.then_some((&s.paired_t, &s.p_diff[..]));
            Negative::Sparse(&s.vk_t, &s.pk, paired)
        };
        let pos = (&s.p0[..], &s.v0_t);
        let fused = match l.optimizer {
            Optimizer::Sgd { learning_rate, momentum, weight_decay }
                if l.clip_norm.is_none() && probs_finite =>
            {
                Some((learning_rate.at(step), momentum.at(step), weight_decay))
            }
            _ => None,
        };
        if let Some(c) = &l.centring {
            // the offsets before the step, restored if it diverges
            s.kept_offsets.clear();
            s.kept_offsets.extend_from_slice(&optimizer.offsets);
            s.means.clear();
            s.means.extend((0..nv).map(|i| s.v0_t.row(i).len() as f64 / rows as f64));
            s.means.resize(nv + nh, 0.0);
            let mh = &mut s.means[nv..];
            for row in s.p0.chunks_exact(nh) {
                mh.iter_mut().zip(row).for_each(|(a, &p)| *a += f64::from(p));
            }
            mh.iter_mut().for_each(|a| *a /= rows as f64);
            c.update_offsets(&mut optimizer.offsets, &s.means[..nv], &s.means[nv..]);
        }
        let restore_offsets = |o: &mut OptimizerState, kept: &[f64]| {
            if l.centring.is_some() {
                o.offsets.clear();
                o.offsets.extend_from_slice(kept);
            }
        };
        let grad_norm = if let Some((eta, mu, decay)) = fused {
            // gradient, SGD update and f32 mirror, block by block
            let centre = l.centring.is_some();
            let (offsets, gbias) = (&optimizer.offsets, &s.gbias);
            let (vel_w, vel_b) = optimizer.first.split_at_mut(nv * nh);
            // the centred bias steps (they read only the plain gradient and
            // the offsets) beside the weight update
            let (gbias_centred, centring_work) = (&mut s.gbias_centred, &mut s.centring_work);
            let centred = || {
                if centre {
                    centred_biases(
                        gbias_centred,
                        centring_work,
                        gbias,
                        offsets,
                        pos,
                        &neg,
                        scale,
                        (nv, nh),
                    );
                }
            };
            let (gw, block_norms) = (&mut s.gw, &mut s.block_norms);
            let update = || {
                model.update_weights(
                    block_rows,
                    vel_w,
                    gw,
                    block_norms,
                    |r, g32| {
                        match neg {
                            // the positive half is already in g32
                            Negative::Dense(pv, pk) if positive_first => {
                                Rbm::subtract_dense_outer(g32, nh, nv, (pv, pk), r.clone())?
                            }
                            _ => weight_gradient(g32, nh, pos, neg, r.clone())?,
                        }
                        if centre {
                            // g'_W = g_W − μ g_cᵀ − g_b λᵀ, in g32's units (g = scale · g32)
                            let (mu, lambda) = offsets.split_at(nv);
                            let (gb, gc) = gbias.split_at(nv);
                            for (row, i) in g32.chunks_exact_mut(nh).zip(r) {
                                let (m, b) = (mu[i] / scale, gb[i] / scale);
                                for ((g, &c), &l) in row.iter_mut().zip(gc).zip(lambda) {
                                    *g -= (m * c + b * l) as f32;
                                }
                            }
                        }
                        Ok(squared_norm(g32, scale))
                    },
                    // Optimizer::apply's SGD step, bit for bit
                    |t, v, g| crate::optim::sgd_step(t, v, scale * f64::from(g), eta, mu, decay),
                )
            };
            let (res, ()) = rayon::join(update, centred);
            let gb = if centre { &s.gbias_centred } else { &s.gbias };
            let res_b = model.update_biases(|b, c| {
                for ((th, v), &g) in b.iter_mut().chain(c.iter_mut()).zip(vel_b.iter_mut()).zip(gb)
                {
                    crate::optim::sgd_step(th, v, g, eta, mu, 0.0);
                }
            });
            // as the unfused path: a failed step does not count (the model
            // keeps finite values, non-finite ones set to 0 by the update)
            let diverged = |e: Error, offset: usize| match e {
                Error::NonFinite { index, .. } => {
                    Error::Diverged { what: "parameters", step, index: offset + index }
                }
                e => e,
            };
            if res.is_err() || res_b.is_err() {
                restore_offsets(optimizer, &s.kept_offsets);
            }
            res.map_err(|e| diverged(e, 0))?;
            res_b.map_err(|e| diverged(e, nv * nh))?;
            optimizer.step += 1;
            let norm2: f64 =
                s.block_norms.iter().sum::<f64>() + gb.iter().map(|g| g * g).sum::<f64>();
            norm2.sqrt()
        } else {
            // the whole gradient, checked, then the shared optimizer
            s.grad.resize(model.n_params(), 0.0);
            let (gw_w, g_rest) = s.grad.split_at_mut(nv * nh);
            s.gw.par_chunks_mut(block_rows * nh)
                .zip(gw_w.par_chunks_mut(block_rows * nh))
                .enumerate()
                .try_for_each(|(c, (g32, g64))| -> Result<()> {
                    let i0 = c * block_rows;
                    weight_gradient(g32, nh, pos, neg, i0..i0 + g32.len() / nh)?;
                    for (d, &x) in g64.iter_mut().zip(g32.iter()) {
                        *d = scale * f64::from(x);
                    }
                    Ok(())
                })?;
            g_rest.copy_from_slice(&s.gbias);
            if let Some(k) = s.grad.iter().position(|g| !g.is_finite()) {
                return Err(Error::Diverged { what: "gradient", step, index: k });
            }
            if l.centring.is_some() {
                Centring::centre(&mut s.grad, &optimizer.offsets, nv, nh);
            }
            let grad_norm = match l.clip_norm {
                Some(max) => clip_norm(&mut s.grad, max),
                None => s.grad.iter().map(|g| g * g).sum::<f64>().sqrt(),
            };
            s.theta.clear();
            s.theta.extend_from_slice(model.params());
            l.optimizer.apply(optimizer, &mut s.theta, &s.grad, model.n_couplings());
            if let Some(k) = s.theta.iter().position(|t| !t.is_finite()) {
                optimizer.step = step;
                restore_offsets(optimizer, &s.kept_offsets);
                return Err(Error::Diverged { what: "parameters", step, index: k });
            }
            model.set_params(&s.theta)?;
            grad_norm
        };
        let report = StepReport {
            step: optimizer.step,
            grad_norm,
            acceptance_rate: None,
            seconds: t0.elapsed().as_secs_f64(),
        };
        Ok((report, recon / (rows * nv) as f64))
    }
}

/// k block-Gibbs sweeps of the persistent chains (visible given hidden, then
/// hidden given visible, each drawing from the chain's own stream), in chunks
/// of [`ROW_CHUNK`] chains; leaves `p(h | vₖ)` in `s.pk`, `vₖ` in the negative
/// chunks, and the new states in the chains.
fn persistent_sweeps(
    model: &Rbm,
    beta: ebm_core::Beta,
    k: usize,
    s: &mut Scratch,
    chains: &mut [SiteChain],
    rngs: &mut [ChainRng],
) -> Result<()> {
    let (nv, nh) = (model.n_visible(), model.n_hidden());
    let m = chains.len();
    s.neg_chunks.resize_with(m.div_ceil(ROW_CHUNK), Chunk::default);
    s.pv_neg.resize(m * nv, 0.0);
    s.neg_chunks.par_iter_mut().zip(chains.par_chunks(ROW_CHUNK)).for_each(|(ch, cs)| {
        ch.h.clear(nh);
        for c in cs.iter() {
            ch.h.push_row(&c.state()[nv..]);
        }
    });
    for _ in 0..k {
        s.h_all.clear(nh);
        s.neg_chunks.iter().for_each(|ch| s.h_all.extend(&ch.h));
        model.visible_probs_grouped(&s.h_all, beta, &mut s.pv_neg)?;
        s.neg_chunks
            .par_iter_mut()
            .zip(rngs.par_chunks_mut(ROW_CHUNK))
            .zip(s.pk.par_chunks_mut(ROW_CHUNK * nh))
            .zip(s.pv_neg.par_chunks(ROW_CHUNK * nv))
            .try_for_each(|(((ch, rs), pk), pv)| -> Result<()> {
                let len = rs.len();
                ch.v.sample_rows(pv, nv, rs, &mut ch.u);
                model.hidden_probs_sparse(&ch.v, 0..len, beta, pk)?;
                ch.h.sample_rows(pk, nh, rs, &mut ch.u);
                Ok(())
            })?;
    }
    s.neg_chunks.par_iter_mut().zip(chains.par_chunks_mut(ROW_CHUNK)).for_each(|(ch, cs)| {
        for (r, c) in cs.iter_mut().enumerate() {
            let x = c.state_mut();
            x.fill(0);
            ch.v.row(r).iter().for_each(|&i| x[i as usize] = 1);
            ch.h.row(r).iter().for_each(|&j| x[nv + j as usize] = 1);
        }
    });
    Ok(())
}

/// Gathers the chunks' visible rows (V₀, and Vₖ when `sampled`) in row order
/// and returns the sum of their reconstruction errors, in chunk order.
fn collect_rows(
    chunks: &[Chunk],
    v0_all: &mut ActiveSets,
    vk_all: &mut ActiveSets,
    sampled: bool,
    nv: usize,
) -> f64 {
    v0_all.clear(nv);
    vk_all.clear(nv);
    let mut recon = 0.0;
    for ch in chunks {
        v0_all.extend(&ch.v0);
        if sampled {
            vk_all.extend(&ch.v);
        }
        recon += ch.recon;
    }
    recon
}

/// `gb ← scale · Σ(V₀ − Vₖ)`: counts of the transposed binary rows, minus the
/// mean-field probabilities `pv` (summed in row order in f64) when given.
fn visible_bias_gradient(
    gb: &mut [f64],
    v0_t: &ActiveSets,
    vk_t: &ActiveSets,
    pv: Option<&[f32]>,
    nv: usize,
    scale: f64,
) {
    if let Some(pv) = pv {
        for (i, g) in gb.iter_mut().enumerate() {
            *g = v0_t.row(i).len() as f64;
        }
        for row in pv.chunks_exact(nv) {
            for (g, &p) in gb.iter_mut().zip(row) {
                *g -= f64::from(p);
            }
        }
        gb.iter_mut().for_each(|g| *g *= scale);
    } else {
        for (i, g) in gb.iter_mut().enumerate() {
            *g = scale * (v0_t.row(i).len() as f64 - vk_t.row(i).len() as f64);
        }
    }
}

/// `gc ← scale · Σ(P₀ − Pₖ)` (`gc` zeroed), sums in row order in f64.
fn hidden_bias_gradient(gc: &mut [f64], p0: &[f32], pk: &[f32], nh: usize, scale: f64) {
    for (a, b) in p0.chunks_exact(nh).zip(pk.chunks_exact(nh)) {
        for ((g, &x), &y) in gc.iter_mut().zip(a).zip(b) {
            *g += f64::from(x) - f64::from(y);
        }
    }
    gc.iter_mut().for_each(|g| *g *= scale);
}

/// `Σ (scale · g)²` in f64 (eight lanes, fixed order; with AVX2 when the
/// CPU has it: the same operations, the same bits).
pub(crate) fn squared_norm(g32: &[f32], scale: f64) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        unsafe fn avx2(g32: &[f32], scale: f64) -> f64 {
            squared_norm_body(g32, scale)
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { avx2(g32, scale) };
        }
    }
    squared_norm_body(g32, scale)
}

#[inline(always)]
fn squared_norm_body(g32: &[f32], scale: f64) -> f64 {
    const L: usize = 8;
    let mut acc = [0.0f64; L];
    let c = g32.chunks_exact(L);
    let r = c.remainder();
    for g in c {
        for k in 0..L {
            let x = scale * f64::from(g[k]);
            acc[k] += x * x;
        }
    }
    for &g in r {
        let x = scale * f64::from(g);
        acc[0] += x * x;
    }
    acc.iter().sum()
}
