//! Heat-bath (Gibbs) sampling.

use crate::clamp::Clamp;
use crate::site::{Moves, Scan, SiteMoves};
use ebm_core::LocalRule;

/// Heat-bath sampling: unit i is set from its exact conditional distribution
/// given the rest: a binary unit flips with probability σ(−β Δ_i), a
/// categorical unit takes value k with probability ∝ e^{−β E_k}.
///
/// One type for every family of models ([`SiteMoves`]). One sweep visits n
/// units (sequential or random scan) or every block once. A block scan runs
/// the model's own sweep kernel when it has one (`block_kernel`: the
/// checkerboard kernel of a uniform periodic Ising lattice), on the model's
/// current parameters every sweep.
///
/// ```
/// use ebm_core::{Beta, Chain, Purpose, Sampler, Seed};
/// use ebm_samplers::Gibbs;
/// use ebm_testkit::toy::Dense;
/// let model = Dense::from_upper(ebm_core::Domain::Spin, &[1.0], vec![0.0, 0.0])?;
/// let mut rng = Seed(0).stream(Purpose::SAMPLING, 0);
/// let gibbs = Gibbs::sequential();
/// let mut chain = gibbs.start(&model, &[1, -1])?;
/// let mut aligned = 0;
/// for _ in 0..20_000 {
///     gibbs.sweep(&model, &mut chain, Beta::ONE, &mut rng);
///     aligned += (chain.state()[0] == chain.state()[1]) as u32;
/// }
/// // p(aligned) = e / (e + 1/e) ≈ 0.881
/// assert!((f64::from(aligned) / 2e4 - 0.881).abs() < 0.02);
/// # Ok::<(), ebm_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Gibbs {
    scan: Scan,
    clamp: Option<Clamp>,
}

impl Gibbs {
    /// Gibbs with the given scan order.
    pub fn new(scan: Scan) -> Self {
        Gibbs { scan, clamp: None }
    }
    /// Sequential-scan Gibbs.
    pub fn sequential() -> Self {
        Gibbs::new(Scan::Sequential)
    }
    /// Random-scan Gibbs.
    pub fn random_scan() -> Self {
        Gibbs::new(Scan::Random)
    }
    /// Block Gibbs over the model's `blocks()`.
    pub fn block() -> Self {
        Gibbs::new(Scan::Block)
    }
    /// The same sampler with units fixed by `clamp`.
    pub fn with_clamp(mut self, clamp: Clamp) -> Self {
        self.clamp = Some(clamp);
        self
    }
    /// The scan order.
    pub fn scan(&self) -> Scan {
        self.scan
    }
    /// The clamp, if any.
    pub fn clamp(&self) -> Option<&Clamp> {
        self.clamp.as_ref()
    }
    fn moves(&self) -> Moves<'_> {
        Moves { rule: LocalRule::HeatBath, scan: self.scan, clamp: &self.clamp }
    }
}

crate::site::impl_site_sampler!(Gibbs);
