//! Block Gibbs CD-k and PCD-k on the [`GaussianRbm`], batched: what
//! [`Cd`](crate::Cd) and [`Pcd`](crate::Pcd) run when the model is a
//! `GaussianRbm` and the sampler a plain heat-bath block sweep
//! (`Gibbs::block()`; see [`Sampler::block_rule`](ebm_core::Sampler::block_rule)).
//! The same chain and estimator as the generic code, at the cost of the work
//! CD needs: five f32 GEMMs per CD-1 step where the generic path runs seven
//! and converts every operand from f64.
//!
//! One CD-k step on a batch V₀ (B rows) at inverse temperature β, with
//! `A = V / σ²` (row-wise scaling by `1/σ_i²`):
//!
//! ```text
//! P₀ = σ(β(c + A₀W))                     positive phase, Rao–Blackwellised
//! H ~ Bernoulli(P₀)                      the chain's first hidden state
//! k times: V ~ N(b + HWᵀ, σ²/β)          block Gibbs, visible then hidden
//!          P = σ(β(c + AW)),  H ~ Bernoulli(P)   (the last H is not needed)
//! G = A₀ᵀP₀ − AₖᵀPₖ                      one GEMM over the stacked rows
//! g = β/B [G, Σ(V₀ − Vₖ)/σ², Σ(P₀ − Pₖ), (Σ(V₀ − b)² − Σ(Vₖ − b)²)/2σ² − Σ_j W G]
//! ```
//!
//! This is the generic trainer's estimator (positive statistics `E[φ | v₀]`,
//! negative statistics `E[φ | vₖ]` at the chain's last visible state, `φ` the
//! parameter gradient `−∂E/∂θ` of the module docs of `ebm_models::gbrbm`), so
//! both have the same expected gradient (tested against each other). PCD runs
//! the same sweeps on the persistent chains (visible given hidden, then hidden
//! given visible, from the chain's state `[v, h]`) and takes the negative
//! statistics over its m chains (scale 1/m beside the data term's 1/B).
//!
//! With [`Optimizer::Sgd`] and no clipping, the update is applied to θ in one
//! pass that also refreshes 1/σ², W/σ² and the f32 mirrors
//! ([`GaussianRbm::update_in_place`], the optimizer's formula bit for bit);
//! otherwise the gradient is formed in f64 and handed to the shared optimizer.
//!
//! Random numbers: CD row r of step t draws from stream
//! `(seed, TRAINING, 3·2⁴⁰ + t·2²⁰ + r)`, persistent chain c from its own
//! stream (saved in checkpoints); a hidden unit takes 32 bits compared as
//! `u · 2⁻²⁴ < p` in f32, a visible unit one standard normal (Ziggurat,
//! `rand_distr`). Rows are processed in fixed chunks of
//! [`ROW_CHUNK`](crate::ROW_CHUNK), GEMMs in blocks fixed by the shape: the
//! bits do not depend on the number of threads.

use crate::optim::{Optimizer, OptimizerState};
use crate::rbm::{ROW_CHUNK, all_finite};
use crate::trainer::{Learning, StepReport};
use ebm_core::{Chain, ChainRng, Error, LogLinear, Purpose, Result, check_len};
use ebm_models::gbrbm::GaussianRbm;
use ebm_samplers::SiteChain;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use std::time::Instant;

/// The stream space of CD rows (as the binary RBM's kernel).
const CD_SPACE: u64 = 3 << 40;

/// W's rows are cut into this many blocks for the statistics and the update.
const WEIGHT_BLOCKS: usize = 8;

/// Reused buffers (grown once, then reused: no allocation per step).
#[derive(Debug, Clone, Default)]
pub(crate) struct Scratch {
    /// CD rows' streams, one per batch row.
    rngs: Vec<ChainRng>,
    /// Stacked scaled visible rows `[A₀; Aₖ]` (`(B + m) × n_visible`).
    a: Vec<f32>,
    /// Stacked hidden values `[P₀; Pₖ]`, the negative half then scaled by
    /// `−B/m` for the statistics GEMM.
    p: Vec<f32>,
    /// The chains' hidden states (0/1), `m × n_hidden`.
    h: Vec<f32>,
    /// The chains' visible means, then states, `m × n_visible`.
    v: Vec<f32>,
    /// Per-chunk 32-bit words.
    u: Vec<Vec<u32>>,
    inv_var: Vec<f32>,
    /// `1/σ_i²` in f64 and the noise scales `σ_i/√β`.
    inv_var64: Vec<f64>,
    sd: Vec<f32>,
    work: Vec<f32>,
    /// The weight statistics G (`n_visible × n_hidden`).
    g: Vec<f32>,
    /// `Σ_j W_ij G_ij` per visible unit.
    couplings: Vec<f64>,
    /// Bias gradients `[g_b, g_c, g_z]`.
    gbias: Vec<f64>,
    block_norms: Vec<f64>,
    block_finite: Vec<bool>,
    theta: Vec<f64>,
    /// Non-fused path: the whole gradient.
    grad: Vec<f64>,
}

/// The persistent chains of a PCD step (state `[v, h]`) and their streams.
pub(crate) type Persistent<'a> = (&'a mut [SiteChain<f64>], &'a mut [ChainRng]);

/// Rows of each block of W.
fn weight_block_rows(nv: usize) -> usize {
    nv.div_ceil(WEIGHT_BLOCKS).max(1)
}

/// `h ← 1{u · 2⁻²⁴ < p}` (as 0/1 f32) for one row, drawing from `rng`.
fn sample_hidden(p: &[f32], rng: &mut ChainRng, u: &mut Vec<u32>, h: &mut [f32]) {
    const SCALE: f32 = 1.0 / 16_777_216.0;
    u.resize(p.len(), 0);
    rng.fill_u32(u);
    for ((h, &p), &u) in h.iter_mut().zip(p).zip(u.iter()) {
        *h = f32::from(u8::from(((u >> 8) as f32) * SCALE < p));
    }
}

/// `h ← Bernoulli(p)` for rows of `width`, row r drawing from `rngs[r]`, in
/// parallel over fixed chunks of [`ROW_CHUNK`] rows (`u`: one buffer per
/// chunk).
fn sample_hidden_rows(
    h: &mut [f32],
    p: &[f32],
    rngs: &mut [ChainRng],
    u: &mut [Vec<u32>],
    width: usize,
) {
    h.par_chunks_mut(ROW_CHUNK * width)
        .zip(rngs.par_chunks_mut(ROW_CHUNK))
        .zip(u.par_iter_mut())
        .enumerate()
        .for_each(|(c, ((h, r), u))| {
            let p = &p[c * ROW_CHUNK * width..][..h.len()];
            for ((h, p), r) in h.chunks_exact_mut(width).zip(p.chunks_exact(width)).zip(r) {
                sample_hidden(p, r, u, h);
            }
        });
}

/// `v ← m + sd_i ξ` with ξ standard normal, then `a ← v / σ²` for one row.
fn sample_visible(v: &mut [f32], a: &mut [f32], sd: &[f32], inv_var: &[f32], rng: &mut ChainRng) {
    for (((v, a), &s), &iv) in v.iter_mut().zip(a.iter_mut()).zip(sd).zip(inv_var) {
        let xi: f32 = StandardNormal.sample(rng);
        *v += s * xi;
        *a = *v * iv;
    }
}

/// `gb += w (v − b)`, `gz += w (v − b)² / 2` for one visible row.
fn add_moments<T: Copy + Into<f64>>(v: &[T], b: &[f64], w: f64, gb: &mut [f64], gz: &mut [f64]) {
    for (((&v, &b), gb), gz) in v.iter().zip(b).zip(gb.iter_mut()).zip(gz.iter_mut()) {
        let d = v.into() - b;
        *gb += w * d;
        *gz += w * 0.5 * d * d;
    }
}

/// One CD-k or PCD-k step of block Gibbs on a GB-RBM.
pub(crate) struct Kernel<'a> {
    pub(crate) k: usize,
    pub(crate) learning: &'a Learning,
}

impl Kernel<'_> {
    /// [`Kernel::step`] for a caller generic over the unit type (the
    /// trainers: the model was recognised as a [`GaussianRbm`], whose units
    /// are `f64`).
    pub(crate) fn step_units<U: ebm_core::UnitValue>(
        &self,
        model: &mut GaussianRbm,
        optimizer: &mut OptimizerState,
        s: &mut Scratch,
        batch: &[U],
        persistent: Option<Persistent<'_>>,
    ) -> Result<StepReport> {
        if let Some(v) = crate::trainer::units_as::<U, f64>(batch) {
            return self.step(model, optimizer, s, v, persistent);
        }
        let v: Vec<f64> = batch.iter().map(|u| u.to_f64()).collect();
        self.step(model, optimizer, s, &v, persistent)
    }

    /// A step on `batch` (rows of `n_visible` reals); negative chains start
    /// at the data (CD) or are the `persistent` ones (PCD).
    pub(crate) fn step(
        &self,
        model: &mut GaussianRbm,
        optimizer: &mut OptimizerState,
        s: &mut Scratch,
        batch: &[f64],
        persistent: Option<Persistent<'_>>,
    ) -> Result<StepReport> {
        // the other workers poll between the step's forks (as the RBM kernel)
        ebm_samplers::with_workers_awake(1, || {
            self.step_awake(model, optimizer, s, batch, persistent)
        })
    }

    fn step_awake(
        &self,
        model: &mut GaussianRbm,
        optimizer: &mut OptimizerState,
        s: &mut Scratch,
        batch: &[f64],
        mut persistent: Option<Persistent<'_>>,
    ) -> Result<StepReport> {
        let t0 = Instant::now();
        let (nv, nh) = (model.n_visible(), model.n_hidden());
        let rows = ebm_core::check_rows("batch (whole rows of n_visible values)", batch.len(), nv)?;
        ebm_core::check_finite("batch", batch)?;
        self.learning.optimizer.check_state(optimizer, model.n_params())?;
        if self.k == 0 {
            return Err(Error::InvalidParameter { name: "k", value: 0.0, expected: "≥ 1" });
        }
        if rows == 0 || rows > 1 << 20 {
            return Err(Error::InvalidParameter {
                name: "batch rows",
                value: rows as f64,
                expected: "1 to 2^20",
            });
        }
        let m_neg = match &persistent {
            Some((chains, rngs)) => {
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
                chains.len()
            }
            None => rows,
        };
        let l = self.learning;
        if l.centring.is_some() {
            return Err(Error::InvalidSequence {
                what: "centring",
                reason: "centred gradients are defined for RBMs (visible and hidden offsets)"
                    .into(),
            });
        }
        let pcd = persistent.is_some();
        let beta = l.beta;
        let step = optimizer.step;
        let total = rows + m_neg;
        model.inverse_variances_f32(&mut s.inv_var);
        s.inv_var64.clear();
        s.inv_var64.extend(s.inv_var.iter().map(|&x| f64::from(x)));
        s.sd.clear();
        s.sd.extend(s.inv_var64.iter().map(|&iv| (1.0 / (iv * beta.value())).sqrt() as f32));
        s.a.resize(total * nv, 0.0);
        s.p.resize(total * nh, 0.0);
        s.h.resize(m_neg * nh, 0.0);
        s.v.resize(m_neg * nv, 0.0);
        let n_chunks = m_neg.div_ceil(ROW_CHUNK);
        s.u.resize_with(n_chunks, Vec::new);
        // A₀ = V₀ / σ²
        let inv_var = &s.inv_var;
        s.a[..rows * nv]
            .par_chunks_exact_mut(nv)
            .zip(batch.par_chunks_exact(nv))
            .with_min_len(8)
            .for_each(|(a, v)| {
                for ((a, &v), &iv) in a.iter_mut().zip(v).zip(inv_var) {
                    *a = v as f32 * iv;
                }
            });
        let (a0, ak) = s.a.split_at_mut(rows * nv);
        let (p0, pk) = s.p.split_at_mut(rows * nh);
        model.hidden_probs_scaled_f32(a0, beta, p0, &mut s.work)?;
        // the negative chains' streams and first hidden states
        let rngs: &mut [ChainRng] = match persistent.as_mut() {
            Some((chains, rngs)) => {
                for (h, c) in s.h.chunks_exact_mut(nh).zip(chains.iter()) {
                    h.iter_mut().zip(&c.state()[nv..]).for_each(|(h, &x)| *h = x as f32);
                }
                rngs
            }
            None => {
                s.rngs.clear();
                s.rngs.extend(
                    (0..rows as u64)
                        .map(|r| l.seed.stream(Purpose::TRAINING, CD_SPACE + (step << 20) + r)),
                );
                sample_hidden_rows(&mut s.h, p0, &mut s.rngs, &mut s.u, nh);
                &mut s.rngs
            }
        };
        for sweep in 0..self.k {
            model.visible_means_f32(&s.h, &mut s.v, &mut s.work)?;
            let (inv_var, sd) = (&s.inv_var, &s.sd);
            s.v.par_chunks_mut(ROW_CHUNK * nv)
                .zip(ak.par_chunks_mut(ROW_CHUNK * nv))
                .zip(rngs.par_chunks_mut(ROW_CHUNK))
                .for_each(|((v, a), r)| {
                    for ((v, a), r) in v.chunks_exact_mut(nv).zip(a.chunks_exact_mut(nv)).zip(r) {
                        sample_visible(v, a, sd, inv_var, r);
                    }
                });
            model.hidden_probs_scaled_f32(ak, beta, pk, &mut s.work)?;
            if sweep + 1 < self.k || pcd {
                sample_hidden_rows(&mut s.h, pk, rngs, &mut s.u, nh);
            }
        }
        if let Some((chains, _)) = persistent.as_mut() {
            for ((c, v), h) in chains.iter_mut().zip(s.v.chunks_exact(nv)).zip(s.h.chunks_exact(nh))
            {
                let x = c.state_mut();
                x[..nv].iter_mut().zip(v).for_each(|(x, &v)| *x = f64::from(v));
                x[nv..].iter_mut().zip(h).for_each(|(x, &h)| *x = f64::from(h));
            }
        }
        // bias gradients at the old parameters (f64 sums in row order)
        let (sp, sn) = (beta.value() / rows as f64, beta.value() / m_neg as f64);
        s.gbias.clear();
        s.gbias.resize(2 * nv + nh, 0.0);
        {
            let (gb, rest) = s.gbias.split_at_mut(nv);
            let (gc, gz) = rest.split_at_mut(nh);
            let b = model.visible_bias();
            let iv64 = &s.inv_var64;
            let vk = &s.v[..];
            // columns in fixed blocks in parallel, each summed in row order
            const COLS: usize = 128;
            let visible = || {
                gb.par_chunks_mut(COLS).zip(gz.par_chunks_mut(COLS)).enumerate().for_each(
                    |(k, (gb, gz))| {
                        let cols = k * COLS..k * COLS + gb.len();
                        let bk = &b[cols.clone()];
                        for row in batch.chunks_exact(nv) {
                            add_moments(&row[cols.clone()], bk, sp, gb, gz);
                        }
                        for row in vk.chunks_exact(nv) {
                            add_moments(&row[cols.clone()], bk, -sn, gb, gz);
                        }
                        gb.iter_mut().zip(&iv64[cols.clone()]).for_each(|(g, iv)| *g *= iv);
                        gz.iter_mut().zip(&iv64[cols]).for_each(|(g, iv)| *g *= iv);
                    },
                );
            };
            let hidden = || {
                for row in p0.chunks_exact(nh) {
                    gc.iter_mut().zip(row).for_each(|(g, &p)| *g += sp * f64::from(p));
                }
                for row in pk.chunks_exact(nh) {
                    gc.iter_mut().zip(row).for_each(|(g, &p)| *g -= sn * f64::from(p));
                }
            };
            rayon::join(visible, hidden);
        }
        // G = A₀ᵀP₀ − (B/m) AₖᵀPₖ, with Σ_j W_ij G_ij beside it
        let f = -(rows as f32 / m_neg as f32);
        pk.iter_mut().for_each(|p| *p *= f);
        let block_rows = weight_block_rows(nv);
        let n_blocks = nv.div_ceil(block_rows);
        s.g.resize(nv * nh, 0.0);
        s.couplings.resize(nv, 0.0);
        s.block_norms.resize(n_blocks, 0.0);
        s.block_finite.resize(n_blocks, true);
        let (a, p, m) = (&s.a[..], &s.p[..], &*model);
        s.g.par_chunks_mut(block_rows * nh)
            .zip(s.couplings.par_chunks_mut(block_rows))
            .zip(s.block_norms.par_iter_mut().zip(s.block_finite.par_iter_mut()))
            .enumerate()
            .try_for_each(|(blk, ((g, cp), (norm, finite)))| -> Result<()> {
                let r = blk * block_rows..blk * block_rows + cp.len();
                m.weight_statistics_f32(a, p, r.clone(), g)?;
                m.couplings(g, r, cp);
                *finite = all_finite(g);
                *norm = crate::rbm::squared_norm(g, sp);
                Ok(())
            })?;
        for (gz, c) in s.gbias[nv + nh..].iter_mut().zip(&s.couplings) {
            *gz -= sp * c;
        }
        let finite = s.block_finite.iter().all(|&f| f) && s.gbias.iter().all(|g| g.is_finite());
        let fused = match l.optimizer {
            Optimizer::Sgd { learning_rate, momentum, weight_decay }
                if l.clip_norm.is_none() && finite =>
            {
                Some((learning_rate.at(step), momentum.at(step), weight_decay))
            }
            _ => None,
        };
        let grad_norm = if let Some((eta, mu, decay)) = fused {
            let norm = (s.block_norms.iter().sum::<f64>()
                + s.gbias.iter().map(|g| g * g).sum::<f64>())
            .sqrt();
            let nw = nv * nh;
            let (vel_w, vel_b) = optimizer.first.split_at_mut(nw);
            let gbias = &s.gbias;
            let (gb, rest) = gbias.split_at(nv);
            let (gc, gz) = rest.split_at(nh);
            let (vb, rest) = vel_b.split_at_mut(nv);
            let (vc, vz) = rest.split_at_mut(nh);
            model
                .update_in_place(
                    block_rows,
                    vel_w,
                    &s.g,
                    &mut s.theta,
                    |b, c, z| {
                        // a copy of the velocities, kept only if the update is
                        let step = |th: &mut [f64], v: &[f64], g: &[f64]| {
                            for ((th, &v), &g) in th.iter_mut().zip(v).zip(g) {
                                let mut v = v;
                                crate::optim::sgd_step(th, &mut v, g, eta, mu, 0.0);
                            }
                        };
                        step(b, vb, gb);
                        step(c, vc, gc);
                        step(z, vz, gz);
                    },
                    |t, v, g| crate::optim::sgd_step(t, v, sp * f64::from(g), eta, mu, decay),
                )
                .map_err(|e| Error::InvalidSequence {
                    what: "training step",
                    reason: format!("the update at step {step} diverged: {e}"),
                })?;
            // the bias velocities, now that the update is kept
            for (v, g) in vb.iter_mut().chain(vc.iter_mut()).chain(vz.iter_mut()).zip(gbias) {
                *v = mu * *v + eta * g;
            }
            optimizer.step += 1;
            norm
        } else {
            // the whole gradient in f64, then the shared optimizer
            s.grad.clear();
            s.grad.extend(s.g.iter().map(|&g| sp * f64::from(g)));
            s.grad.extend_from_slice(&s.gbias);
            crate::trainer::apply_ascent(model, l, optimizer, &mut s.grad)?
        };
        Ok(StepReport {
            step: optimizer.step,
            grad_norm,
            acceptance_rate: None,
            seconds: t0.elapsed().as_secs_f64(),
        })
    }
}
