//! Thermodynamic integration: ln Z by Simpson quadrature of ⟨E⟩ over β.

use super::*;

/// Thermodynamic integration: `ln Z(β) = N ln 2 − ∫₀^β U(β') dβ'`.
///
/// U is estimated at the `2m + 1` equally spaced nodes `β_i = i β / (2m)` of
/// Simpson's rule (`intervals = 2m`, a multiple of 4): at β_0 = 0 from
/// independent uniform states, elsewhere from `n_chains` chains of the given
/// sampler (each started uniformly at random, `burn_in` sweeps discarded,
/// then `n_sweeps` recorded), each node's mean and autocorrelation-corrected
/// standard error from [`crate::estimate`]. Then
///
/// ```text
/// ln Ẑ = N ln 2 − S_h,        S_h = (h/3) Σ_i c_i U_i,   c = 1, 4, 2, 4, …, 4, 1
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
    /// `ln Z₀ − S_h` (ln Z₀ = Σ ln q_i; N ln 2 for binary units).
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
        M: EnergyModel<Space: FiniteSpace> + ?Sized,
        S: Sampler<M>,
    {
        if self.intervals == 0 || !self.intervals.is_multiple_of(4) {
            return Err(Error::InvalidParameter {
                name: "intervals",
                value: self.intervals as f64,
                expected: "a positive multiple of 4",
            });
        }
        at_least("n_chains", self.n_chains, 1)?;
        at_least("n_sweeps", self.n_sweeps, 1)?;
        let n_nodes = self.intervals + 1;
        let h = beta.value() / self.intervals as f64;
        let (n, space) = (model.n_units(), model.space());
        let traces: Vec<Vec<f64>> = (0..n_nodes * self.n_chains)
            .into_par_iter()
            .map(|job| {
                let (node, c) = (job / self.n_chains, job % self.n_chains);
                let mut rng = seed.derive(node as u64).stream(Purpose::SAMPLING, c as u64);
                let mut x = rng.random_state(space, n);
                let draw = |x: &mut [UnitOf<M>], rng: &mut ebm_core::ChainRng| {
                    rng.fill_random_state(space, x)
                };
                let mut trace = Vec::with_capacity(self.n_sweeps);
                if node == 0 {
                    for _ in 0..self.n_sweeps {
                        draw(&mut x, &mut rng);
                        trace.push(model.energy(&x));
                    }
                    return Ok(trace);
                }
                let b = Beta::new(h * node as f64)?;
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
            .collect::<Result<_>>()?;
        let nodes: Vec<TiNode> = traces
            .chunks(self.n_chains)
            .enumerate()
            .map(|(i, ch)| {
                let refs: Vec<&[f64]> = ch.iter().map(|t| t.as_slice()).collect();
                TiNode { beta: h * i as f64, mean_energy: estimate(&refs) }
            })
            .collect();
        let simpson = |step: usize| -> (f64, f64) {
            let hh = h * step as f64;
            let m = self.intervals / step;
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
        };
        let (fine, var) = simpson(1);
        let (coarse, _) = simpson(2);
        let z0 = log_z0(model);
        Ok(TiEstimate {
            log_z: z0 - fine,
            std_err: var.sqrt(),
            quadrature_error: (fine - coarse).abs() / 15.0,
            coarse_log_z: z0 - coarse,
            nodes,
        })
    }
}
