//! Thermodynamic-integration chains of the RBM, batched: what `Ti` runs on
//! an [`Rbm`] with a heat-bath block sweep (`Gibbs::block()`), through
//! [`EnergyModel::node_traces`].
//!
//! Each node's chains advance in fixed groups of [`GROUP`]: a sweep is
//! `v ~ σ(β(b + W h))` then `h ~ σ(β(c + vW))` for the whole group, as two
//! sparse products over the other layer's ones (f32, resolved to 2⁻²⁴ like
//! the training kernel), and the recorded value is the joint energy
//! `E(v, h) = −b·v − Σ_{j ∈ h} (c + vW)_j`, with the hidden pre-activations
//! of the sweep's own conditional (f32, ≈1e−7 relative) and b·v in f64. Chain c
//! of node i starts at a uniform state drawn from, and then draws only from,
//! `seed.derive(i).stream(SAMPLING, c)`; groups run in parallel and never
//! share a stream, so the traces do not depend on the number of threads.

use super::conditionals::sigmoid_scaled;
use super::*;
use ebm_core::{LocalRule, NodeRuns, Purpose};

/// Chains advanced together.
const GROUP: usize = 16;

/// One group's buffers.
struct Group {
    rngs: Vec<ebm_core::ChainRng>,
    v: ActiveSets,
    h: ActiveSets,
    p: Vec<f32>,
    /// Hidden pre-activations `c + vW`.
    a: Vec<f32>,
    u: Vec<u32>,
    x: Vec<i8>,
}

impl Rbm {
    /// The hidden pre-activations `a = c + vW` of the group's visible rows
    /// (f32, as the sampler's conditionals) into `a`, and the joint energies
    /// `E(v, h) = −b·v − Σ_{j ∈ h} a_j` (b·v in f64) pushed onto `traces`.
    fn group_energies(&self, g: &Group, a: &[f32], traces: &mut [Vec<f64>]) {
        let nw = self.nv * self.nh;
        let b = &self.theta[nw..nw + self.nv];
        for (r, t) in traces.iter_mut().enumerate() {
            let ar = &a[r * self.nh..][..self.nh];
            let bv: f64 = g.v.row(r).iter().map(|&i| b[i as usize]).sum();
            let ha: f64 = g.h.row(r).iter().map(|&j| f64::from(ar[j as usize])).sum();
            t.push(-(bv + ha));
        }
    }

    /// The traces of one group: chains `c0..c0 + len` of node `node`.
    fn group_traces(
        &self,
        runs: &NodeRuns<'_>,
        node: usize,
        c0: usize,
        len: usize,
    ) -> Result<Vec<Vec<f64>>> {
        let (nv, nh) = (self.nv, self.nh);
        let seed = runs.seed.derive(node as u64);
        let mut g = Group {
            rngs: (c0..c0 + len).map(|c| seed.stream(Purpose::SAMPLING, c as u64)).collect(),
            v: ActiveSets::new(nv),
            h: ActiveSets::new(nh),
            p: vec![0.0; len * nv.max(nh)],
            a: vec![0.0; len * nh],
            u: Vec::new(),
            x: vec![0; nv + nh],
        };
        let mut traces: Vec<Vec<f64>> =
            (0..len).map(|_| Vec::with_capacity(runs.n_sweeps)).collect();
        let beta = runs.betas[node];
        let pre = |v: &ActiveSets, a: &mut [f32]| {
            linalg::sparse_rows(a, nh, linalg::Init::Row(&self.c32), (&self.w32, v), None, 0..len);
        };
        // the generic start: a uniform state per chain (at β = 0, every
        // recorded state is a fresh uniform draw, as the generic runner's)
        let draw = |g: &mut Group| {
            g.v.clear(nv);
            g.h.clear(nh);
            for rng in g.rngs.iter_mut() {
                rng.fill_random_state(&Domain::Bit, &mut g.x);
                g.v.push_row(&g.x[..nv]);
                g.h.push_row(&g.x[nv..]);
            }
        };
        if beta == 0.0 {
            // the generic runner draws a start, then one state per record
            draw(&mut g);
            for _ in 0..runs.n_sweeps {
                draw(&mut g);
                pre(&g.v, &mut g.a);
                self.group_energies(&g, &g.a, &mut traces);
            }
            return Ok(traces);
        }
        draw(&mut g);
        let beta = Beta::new(beta)?;
        for sweep in 0..runs.burn_in + runs.n_sweeps {
            let pv = &mut g.p[..len * nv];
            linalg::sparse_rows(
                pv,
                nv,
                linalg::Init::Row(&self.b32),
                (&self.wt32, &g.h),
                None,
                0..len,
            );
            sigmoid_scaled(pv, beta);
            g.v.sample_rows(pv, nv, &mut g.rngs, &mut g.u);
            pre(&g.v, &mut g.a);
            let ph = &mut g.p[..len * nh];
            ph.copy_from_slice(&g.a);
            sigmoid_scaled(ph, beta);
            g.h.sample_rows(ph, nh, &mut g.rngs, &mut g.u);
            if sweep >= runs.burn_in {
                self.group_energies(&g, &g.a, &mut traces);
            }
        }
        Ok(traces)
    }
    /// [`EnergyModel::node_traces`] for heat-bath block sweeps (see the
    /// module docs); other rules: `None`.
    pub(super) fn ti_traces(&self, runs: &NodeRuns<'_>) -> Option<Result<Vec<Vec<f64>>>> {
        if runs.rule != LocalRule::HeatBath {
            return None;
        }
        let groups = runs.n_chains.div_ceil(GROUP);
        let jobs: Vec<(usize, usize)> =
            (0..runs.betas.len()).flat_map(|i| (0..groups).map(move |k| (i, k))).collect();
        let out: Result<Vec<Vec<Vec<f64>>>> = jobs
            .into_par_iter()
            .map(|(node, k)| {
                let c0 = k * GROUP;
                self.group_traces(runs, node, c0, GROUP.min(runs.n_chains - c0))
            })
            .collect();
        Some(out.map(|groups| groups.into_iter().flatten().collect()))
    }
}
