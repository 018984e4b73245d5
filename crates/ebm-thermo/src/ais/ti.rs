//! Thermodynamic integration: ln Z by Simpson quadrature of ⟨E⟩ over β.

use super::*;

/// Thermodynamic integration: `ln Z(β) = ln Z₀ − ∫₀^β U(β') dβ'` (ln Z₀ =
/// Σ ln q_i; N ln 2 for binary units, N ln 2π for angles: any
/// [`UniformSpace`]), or from any known ln Z(β_0) over any grid
/// ([`Ti::log_z_on_grid`]), or along the path from a [`Base`] at fixed β
/// ([`Ti::log_z_from`]).
///
/// U is estimated at the `2m + 1` equally spaced nodes `β_i = i β / (2m)` of
/// Simpson's rule (`intervals = 2m`, a multiple of 4): at β_0 = 0 from
/// independent uniform states, elsewhere from `n_chains` chains of the given
/// sampler (each started uniformly at random, `burn_in` sweeps discarded,
/// then `n_sweeps` recorded), each node's mean and autocorrelation-corrected
/// standard error from [`crate::estimate`]. Then
///
/// ```text
/// ln Ẑ = ln Z₀ − S_h,        S_h = (h/3) Σ_i c_i U_i,   c = 1, 4, 2, 4, …, 4, 1
/// std_err = √(Σ_i (h c_i / 3)² se_i²)        (independent nodes)
/// quadrature_error = |S_h − S_{2h}| / 15     (Richardson, grid halving)
/// ```
///
/// Chain c of node i draws from `seed.derive(i).stream(Purpose::SAMPLING, c)`;
/// the result is bit-identical for any number of threads.
#[derive(Debug, Clone, PartialEq)]
pub struct Ti {
    /// Number of Simpson intervals (a positive multiple of 4).
    pub intervals: usize,
    /// Chains per node.
    pub n_chains: usize,
    /// Sweeps discarded at the start of each chain.
    pub burn_in: usize,
    /// Sweeps recorded per chain.
    pub n_sweeps: usize,
}

/// One node of thermodynamic integration: β and the estimate of U(β).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TiNode {
    /// The node's inverse temperature.
    pub beta: f64,
    /// The mean energy there, with its error bar and diagnostics.
    pub mean_energy: Estimate,
}

/// The result of [`Ti::log_z`].
#[derive(Debug, Clone, PartialEq)]
pub struct TiEstimate {
    /// `ln Z₀ − S_h` (ln Z₀ = Σ ln q_i; N ln 2 for binary units, N ln 2π for
    /// angles); for [`Ti::log_z_from`], `ln Z₀(β) − β S_h` with the base's
    /// `ln Z₀(β)`.
    pub log_z: f64,
    /// Statistical standard error propagated from the nodes.
    pub std_err: f64,
    /// `|S_h − S_{2h}| / 15`.
    pub quadrature_error: f64,
    /// `ln Z₀ − S_{2h}` (every other node).
    pub coarse_log_z: f64,
    /// The nodes.
    pub nodes: Vec<TiNode>,
}

impl TiEstimate {
    /// `√(std_err² + quadrature_error²)`.
    pub fn total_error(&self) -> f64 {
        self.std_err.hypot(self.quadrature_error)
    }

    /// As a [`LogZEstimate`]: `std_err` is [`TiEstimate::total_error`], the
    /// interval ±3 of it, `ess` the smallest node ESS, `n_runs` the number of
    /// chains per node.
    pub fn to_log_z_estimate(&self, n_chains: usize) -> LogZEstimate {
        let e = self.total_error();
        LogZEstimate {
            log_z: self.log_z,
            std_err: e,
            lower: self.log_z - INTERVAL_SIGMAS * e,
            upper: self.log_z + INTERVAL_SIGMAS * e,
            ess: self.nodes.iter().map(|n| n.mean_energy.ess).fold(f64::INFINITY, f64::min),
            n_runs: n_chains,
        }
    }
}

impl Ti {
    /// Runs the integration (see the type docs).
    ///
    /// Errors: `intervals` not a positive multiple of 4, zero chains or
    /// sweeps ([`Error::InvalidParameter`]), and sampler start errors.
    pub fn log_z<M, S>(&self, model: &M, sampler: &S, beta: Beta, seed: Seed) -> Result<TiEstimate>
    where
        M: EnergyModel<Space: UniformSpace> + ?Sized,
        S: Sampler<M>,
    {
        self.check()?;
        let h = beta.value() / self.intervals as f64;
        let grid: Vec<f64> = (0..=self.intervals).map(|i| h * i as f64).collect();
        let traces = self.node_traces(model, sampler, &grid, seed)?;
        let nodes = self.nodes(&grid, &traces);
        let (fine, var) = simpson(&nodes, h, self.intervals, 1);
        let (coarse, _) = simpson(&nodes, h, self.intervals, 2);
        let z0 = log_z0(model);
        Ok(TiEstimate {
            log_z: z0 - fine,
            std_err: var.sqrt(),
            quadrature_error: (fine - coarse).abs() / 15.0,
            coarse_log_z: z0 - coarse,
            nodes,
        })
    }

    /// ln Z(β) by integrating along the path `E_t = (1 − t) E₀ + t E` from a
    /// [`Base`] (the path of [`super::Ais::log_z_from`]) at fixed β:
    ///
    /// ```text
    /// d ln Z_t / dt = −β ⟨E − E₀⟩_t,    ln Z(β) = ln Z₀(β) − β ∫₀¹ ⟨E − E₀⟩_t dt
    /// ```
    ///
    /// by Simpson's rule on the `intervals + 1` equally spaced nodes
    /// `t_i = i / intervals`, with the error model of [`Ti::log_z`]
    /// (statistical error from each node's τ_int-aware standard error,
    /// Richardson quadrature error). At t = 0 the samples are the base's
    /// exact draws; elsewhere `n_chains` chains of `sampler` on the
    /// [`Interpolated`] model at β, each started from a base draw, `burn_in`
    /// sweeps discarded, `n_sweeps` recorded. In the result, `nodes[i].beta`
    /// holds `t_i` and `nodes[i].mean_energy` the estimate of `⟨E − E₀⟩_t`.
    /// Chain c of node i draws from `seed.derive(i).stream(Purpose::SAMPLING,
    /// c)`; bit-identical for any number of threads.
    ///
    /// This needs no uniform reference measure, so it integrates models on
    /// ℝⁿ from a [`super::DiagonalGaussian`].
    ///
    /// Errors: as [`Ti::log_z`].
    pub fn log_z_from<M, B, S>(
        &self,
        model: &M,
        base: &B,
        sampler: &S,
        beta: Beta,
        seed: Seed,
    ) -> Result<TiEstimate>
    where
        M: EnergyModel + ?Sized,
        B: Base<M::Space> + Sync,
        S: for<'a> Sampler<Interpolated<'a, M, B>>,
    {
        self.check()?;
        let n = model.n_units();
        let h = 1.0 / self.intervals as f64;
        let grid: Vec<f64> = (0..=self.intervals).map(|i| h * i as f64).collect();
        let gap = |x: &[UnitOf<M>]| model.energy(x) - base.base_energy(x);
        let traces: Vec<Vec<f64>> = (0..grid.len() * self.n_chains)
            .into_par_iter()
            .map(|job| {
                let (node, c) = (job / self.n_chains, job % self.n_chains);
                let mut rng = seed.derive(node as u64).stream(Purpose::SAMPLING, c as u64);
                let mut x: Vec<UnitOf<M>> =
                    (0..n).map(|i| ebm_core::StateSpace::fixed_value(model.space(), i)).collect();
                base.base_draw(beta, &mut rng, &mut x);
                let mut trace = Vec::with_capacity(self.n_sweeps);
                if node == 0 {
                    for _ in 0..self.n_sweeps {
                        base.base_draw(beta, &mut rng, &mut x);
                        trace.push(gap(&x));
                    }
                    return Ok(trace);
                }
                let at = Interpolated { target: model, base, t: grid[node] };
                let mut chain = sampler.start(&at, &x)?;
                for _ in 0..self.burn_in {
                    sampler.sweep(&at, &mut chain, beta, &mut rng);
                }
                for _ in 0..self.n_sweeps {
                    sampler.sweep(&at, &mut chain, beta, &mut rng);
                    trace.push(gap(chain.state()));
                }
                Ok(trace)
            })
            .collect::<Result<_>>()?;
        let nodes = self.nodes(&grid, &traces);
        let b = beta.value();
        let (fine, var) = simpson(&nodes, h, self.intervals, 1);
        let (coarse, _) = simpson(&nodes, h, self.intervals, 2);
        let z0 = base.base_log_z(beta);
        Ok(TiEstimate {
            log_z: z0 - b * fine,
            std_err: b * var.sqrt(),
            quadrature_error: b * (fine - coarse).abs() / 15.0,
            coarse_log_z: z0 - b * coarse,
            nodes,
        })
    }

    /// The checks every integration shares.
    fn check(&self) -> Result<()> {
        if self.intervals == 0 || !self.intervals.is_multiple_of(4) {
            return Err(Error::InvalidParameter {
                name: "intervals",
                value: self.intervals as f64,
                expected: "a positive multiple of 4",
            });
        }
        at_least("n_chains", self.n_chains, 1)?;
        at_least("n_sweeps", self.n_sweeps, 1)
    }

    /// ln Z at the last node of an increasing grid `betas` (any spacing, at
    /// least two nodes, β_0 ≥ 0), starting from a known `log_z_start` =
    /// ln Z(β_0): `ln Z(β_m) = ln Z(β_0) − ∫ U dβ` by the trapezoid rule on
    /// the grid, the statistical error propagated from the nodes, the
    /// quadrature error estimated as `|T_h − T_{2h}| / 3` (the trapezoid rule
    /// on every other node; needs an odd number of nodes ≥ 3 for it,
    /// otherwise 0 is reported and the grid should be refined by the
    /// caller). A node at β = 0 uses exact uniform states, as in
    /// [`Ti::log_z`]; `log_z_start` is then `ln Z₀ = Σ ln q_i`
    /// (`FiniteSpace::ln_size`). Fields of the result: `coarse_log_z` is
    /// the every-other-node estimate.
    ///
    /// Errors: a grid that is not increasing, has a negative or non-finite
    /// node or fewer than two nodes ([`Error::InvalidSequence`]), zero
    /// chains or sweeps, sampler start errors.
    pub fn log_z_on_grid<M, S>(
        &self,
        model: &M,
        sampler: &S,
        betas: &[f64],
        log_z_start: f64,
        seed: Seed,
    ) -> Result<TiEstimate>
    where
        M: EnergyModel<Space: UniformSpace> + ?Sized,
        S: Sampler<M>,
    {
        let bad = |reason: String| Error::InvalidSequence { what: "TI grid", reason };
        if betas.len() < 2 {
            return Err(bad(format!("needs at least 2 nodes, got {}", betas.len())));
        }
        if let Some(k) = betas.iter().position(|b| !(b.is_finite() && *b >= 0.0)) {
            return Err(bad(format!("node {k} = {} is not finite and ≥ 0", betas[k])));
        }
        if let Some(k) = betas.windows(2).position(|w| w[1] <= w[0]) {
            return Err(bad(format!("not strictly increasing at node {}", k + 1)));
        }
        if !log_z_start.is_finite() {
            return Err(Error::NonFinite { what: "TI starting ln Z", index: 0 });
        }
        at_least("n_chains", self.n_chains, 1)?;
        at_least("n_sweeps", self.n_sweeps, 1)?;
        let traces = self.node_traces(model, sampler, betas, seed)?;
        let nodes = self.nodes(betas, &traces);
        let trapezoid = |step: usize| -> (f64, f64) {
            let (mut s, mut var) = (0.0, 0.0);
            let idx: Vec<usize> = (0..nodes.len()).step_by(step).collect();
            for w in idx.windows(2) {
                let (a, b) = (&nodes[w[0]], &nodes[w[1]]);
                let d = (b.beta - a.beta) / 2.0;
                s += d * (a.mean_energy.mean + b.mean_energy.mean);
            }
            // the weight of node k is half the widths of its neighbouring intervals
            for (k, n) in nodes.iter().enumerate().step_by(step) {
                let left = if k >= step { n.beta - nodes[k - step].beta } else { 0.0 };
                let right =
                    if k + step < nodes.len() { nodes[k + step].beta - n.beta } else { 0.0 };
                let w = (left + right) / 2.0;
                var += w * w * n.mean_energy.std_err * n.mean_energy.std_err;
            }
            (s, var)
        };
        let (fine, var) = trapezoid(1);
        let coarse_ok = nodes.len() >= 3 && nodes.len() % 2 == 1;
        let coarse = if coarse_ok { trapezoid(2).0 } else { fine };
        Ok(TiEstimate {
            log_z: log_z_start - fine,
            std_err: var.sqrt(),
            quadrature_error: (fine - coarse).abs() / 3.0,
            coarse_log_z: log_z_start - coarse,
            nodes,
        })
    }

    /// The energy traces of every node of `grid`, `n_chains` per node, node
    /// after node.
    fn node_traces<M, S>(
        &self,
        model: &M,
        sampler: &S,
        grid: &[f64],
        seed: Seed,
    ) -> Result<Vec<Vec<f64>>>
    where
        M: EnergyModel<Space: UniformSpace> + ?Sized,
        S: Sampler<M>,
    {
        if let Some(rule) = sampler.block_rule() {
            let runs = ebm_core::NodeRuns {
                rule,
                betas: grid,
                n_chains: self.n_chains,
                burn_in: self.burn_in,
                n_sweeps: self.n_sweeps,
                seed,
            };
            if let Some(traces) = model.node_traces(&runs) {
                return traces;
            }
        }
        let (n, space) = (model.n_units(), model.space());
        (0..grid.len() * self.n_chains)
            .into_par_iter()
            .map(|job| {
                let (node, c) = (job / self.n_chains, job % self.n_chains);
                let mut rng = seed.derive(node as u64).stream(Purpose::SAMPLING, c as u64);
                let mut x = rng.random_state(space, n);
                let draw = |x: &mut [UnitOf<M>], rng: &mut ebm_core::ChainRng| {
                    rng.fill_random_state(space, x)
                };
                let mut trace = Vec::with_capacity(self.n_sweeps);
                if grid[node] == 0.0 {
                    for _ in 0..self.n_sweeps {
                        draw(&mut x, &mut rng);
                        trace.push(model.energy(&x));
                    }
                    return Ok(trace);
                }
                let b = Beta::new(grid[node])?;
                let mut chain = sampler.start(model, &x)?;
                for _ in 0..self.burn_in {
                    sampler.sweep(model, &mut chain, b, &mut rng);
                }
                for _ in 0..self.n_sweeps {
                    sampler.sweep(model, &mut chain, b, &mut rng);
                    trace.push(model.energy(chain.state()));
                }
                Ok(trace)
            })
            .collect()
    }

    /// One [`TiNode`] per grid node from its chains' traces.
    fn nodes(&self, grid: &[f64], traces: &[Vec<f64>]) -> Vec<TiNode> {
        traces
            .chunks(self.n_chains)
            .zip(grid)
            .map(|(ch, &beta)| {
                let refs: Vec<&[f64]> = ch.iter().map(|t| t.as_slice()).collect();
                TiNode { beta, mean_energy: estimate(&refs) }
            })
            .collect()
    }
}

/// Simpson's rule on every `step`-th node of `nodes` (spacing `h`,
/// `intervals` in all): `(Σ_k w_k U_k, Σ_k w_k² se_k²)`, `w_k = (h step c_k)/3`,
/// `c = 1, 4, 2, …, 4, 1`.
fn simpson(nodes: &[TiNode], h: f64, intervals: usize, step: usize) -> (f64, f64) {
    let hh = h * step as f64;
    let m = intervals / step;
    let (mut s, mut var) = (0.0, 0.0);
    for k in 0..=m {
        let c = if k == 0 || k == m {
            1.0
        } else if k % 2 == 1 {
            4.0
        } else {
            2.0
        };
        let e = &nodes[k * step].mean_energy;
        let w = hh * c / 3.0;
        s += w * e.mean;
        var += w * w * e.std_err * e.std_err;
    }
    (s, var)
}
