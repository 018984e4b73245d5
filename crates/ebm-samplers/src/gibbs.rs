//! Heat-bath (Gibbs) sampling.

use crate::clamp::{Clamp, check_clamp, is_free};
use ebm_core::{
    Beta, BinaryModel, Chain, KernelState, LocalRule, Result, Sampler, check_len, uniform,
};
use rand::RngExt;

/// The order in which units are visited in a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scan {
    /// Units 0, 1, …, n−1 in turn.
    Sequential,
    /// n units drawn uniformly with replacement.
    Random,
    /// The model's `blocks()` in turn, all units of a block from the same
    /// configuration (valid because blocks are independent sets).
    Block,
}

/// The chain of a single-site sampler: the configuration, a scratch buffer of
/// block deltas, move counters, and, when the model runs block sweeps with a
/// kernel of its own ([`BinaryModel::block_kernel`]), that kernel's state
/// (which then holds the configuration). Equality compares configurations
/// and counters.
#[derive(Debug, Clone)]
pub struct SiteChain {
    pub(crate) x: Vec<i8>,
    pub(crate) deltas: Vec<f64>,
    pub(crate) blocks: Option<ebm_core::Blocks>,
    pub(crate) kernel: Option<Box<dyn KernelState>>,
    pub(crate) proposed: u64,
    pub(crate) accepted: u64,
}

impl SiteChain {
    /// A validated chain at `x0` for `model`; block scans ask the model for a
    /// sweep kernel under `rule` (unless units are clamped).
    pub(crate) fn new<M: BinaryModel + ?Sized>(
        model: &M,
        x0: &[i8],
        clamp: &Option<Clamp>,
        block_rule: Option<LocalRule>,
    ) -> Result<Self> {
        check_len("state", model.n_units(), x0.len())?;
        model.domain().validate(x0)?;
        check_clamp(clamp, model.n_units())?;
        let kernel = match (block_rule, clamp) {
            (Some(rule), None) => model.block_kernel(rule, x0),
            _ => None,
        };
        let blocks = (block_rule.is_some() && kernel.is_none()).then(|| model.blocks());
        if let Some(b) = &blocks {
            check_len("blocks", model.n_units(), b.n_units())?;
        }
        let width = blocks.as_ref().map_or(0, |b| b.max_block_len());
        Ok(SiteChain {
            x: x0.to_vec(),
            deltas: vec![0.0; width],
            blocks,
            kernel,
            proposed: 0,
            accepted: 0,
        })
    }

    /// Mutable access to the configuration (for clamping new values in, e.g.
    /// the next data vector of a positive phase). Values must stay in the
    /// model's domain. A model's sweep kernel, if the chain had one, is left
    /// for the generic block sweep.
    pub fn state_mut(&mut self) -> &mut [i8] {
        self.leave_kernel();
        &mut self.x
    }

    /// Whether the chain runs a sweep kernel of the model's
    /// ([`BinaryModel::block_kernel`]) rather than the generic sweep.
    pub fn runs_model_kernel(&self) -> bool {
        self.kernel.is_some()
    }

    /// Copies the kernel's configuration back and drops the kernel.
    pub(crate) fn leave_kernel(&mut self) {
        if let Some(k) = self.kernel.take() {
            self.x.copy_from_slice(k.state());
        }
    }

    /// One block sweep through the model's kernel, if the chain has one and
    /// the model accepts it; `false` (the chain then holds its configuration
    /// in `x`, kernel dropped) when the generic sweep must run.
    pub(crate) fn kernel_sweep<M: BinaryModel + ?Sized, R: rand::Rng + ?Sized>(
        &mut self,
        model: &M,
        rule: LocalRule,
        beta: Beta,
        rng: &mut R,
    ) -> bool {
        let Some(k) = self.kernel.as_mut() else { return false };
        let mut key = [0u32; 8];
        key.iter_mut().for_each(|w| *w = rng.next_u32());
        match model.block_kernel_sweep(rule, k.as_mut(), beta, key) {
            Some(flips) => {
                self.proposed += self.x.len() as u64;
                self.accepted += flips;
                true
            }
            None => {
                // the model no longer fits the kernel: the generic sweep runs
                // from here on (the key drawn above is simply not used)
                self.leave_kernel();
                false
            }
        }
    }

    /// The blocks for a generic block sweep (taken out; put back after).
    pub(crate) fn take_blocks<M: BinaryModel + ?Sized>(&mut self, model: &M) -> ebm_core::Blocks {
        let blocks = self.blocks.take().unwrap_or_else(|| model.blocks());
        if self.deltas.len() < blocks.max_block_len() {
            self.deltas.resize(blocks.max_block_len(), 0.0);
        }
        blocks
    }
}

impl PartialEq for SiteChain {
    fn eq(&self, other: &Self) -> bool {
        self.state() == other.state()
            && self.proposed == other.proposed
            && self.accepted == other.accepted
    }
}

impl Chain for SiteChain {
    fn state(&self) -> &[i8] {
        match &self.kernel {
            Some(k) => k.state(),
            None => &self.x,
        }
    }

    fn acceptance_rate(&self) -> Option<f64> {
        (self.proposed > 0).then(|| self.accepted as f64 / self.proposed as f64)
    }

    fn reset_counters(&mut self) {
        self.proposed = 0;
        self.accepted = 0;
    }
}

/// σ(−βΔ) = 1 / (1 + e^{βΔ}): the heat-bath probability of flipping a unit
/// whose flip changes the energy by Δ. Saturates cleanly at 0 and 1.
#[inline]
pub(crate) fn flip_probability(beta: f64, delta: f64) -> f64 {
    1.0 / (1.0 + (beta * delta).exp())
}

/// Heat-bath sampling: unit i is set from its exact conditional distribution,
/// i.e. flipped with probability σ(−β Δ_i).
///
/// One sweep visits n units (sequential or random scan) or every block once.
/// A block scan runs the model's own sweep kernel when it has one
/// ([`BinaryModel::block_kernel`]: the checkerboard kernel of a uniform
/// periodic Ising lattice), on the model's current parameters every sweep.
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
}

impl<M: BinaryModel + ?Sized> Sampler<M> for Gibbs {
    type Chain = SiteChain;

    fn block_rule(&self) -> Option<LocalRule> {
        (self.scan == Scan::Block && self.clamp.is_none()).then_some(LocalRule::HeatBath)
    }

    fn start(&self, model: &M, x0: &[i8]) -> Result<SiteChain> {
        let rule = (self.scan == Scan::Block).then_some(LocalRule::HeatBath);
        SiteChain::new(model, x0, &self.clamp, rule)
    }

    fn sweep<R: rand::Rng + ?Sized>(&self, model: &M, c: &mut SiteChain, beta: Beta, rng: &mut R) {
        let (b, d, n) = (beta.value(), model.domain(), c.x.len());
        let (mut proposed, mut accepted) = (0u64, 0u64);
        let mut update = |x: &mut [i8], i: usize, delta: f64, rng: &mut R| {
            proposed += 1;
            if uniform(rng) < flip_probability(b, delta) {
                x[i] = d.flip(x[i]);
                accepted += 1;
            }
        };
        match self.scan {
            Scan::Sequential => {
                for i in 0..n {
                    if is_free(&self.clamp, i) {
                        let delta = model.flip_delta(&c.x, i);
                        update(&mut c.x, i, delta, rng);
                    }
                }
            }
            Scan::Random => {
                for _ in 0..n {
                    let i = rng.random_range(0..n);
                    if is_free(&self.clamp, i) {
                        let delta = model.flip_delta(&c.x, i);
                        update(&mut c.x, i, delta, rng);
                    }
                }
            }
            Scan::Block => {
                if c.kernel_sweep(model, LocalRule::HeatBath, beta, rng) {
                    return;
                }
                let blocks = c.take_blocks(model);
                for block in blocks.iter() {
                    let out = &mut c.deltas[..block.len()];
                    model.block_deltas(&c.x, block, out);
                    for (k, &i) in block.iter().enumerate() {
                        if is_free(&self.clamp, i) {
                            let delta = c.deltas[k];
                            update(&mut c.x, i, delta, rng);
                        }
                    }
                }
                c.blocks = Some(blocks);
            }
        }
        c.proposed += proposed;
        c.accepted += accepted;
    }

    /// Block scan batches the model's work: for each block, one
    /// `block_deltas_batch` call over all chains (a sparse product for an
    /// RBM). Each chain draws the same numbers in the same order as in
    /// [`Sampler::sweep`], so the result is bit-identical to sweeping the
    /// chains one by one whenever the model's batched deltas equal its
    /// single-state ones (see [`Sampler::sweep_batch`] for what holds
    /// otherwise). Blocks whose units are all clamped are skipped (they draw no
    /// numbers in `sweep`). Chains on a model's own sweep kernel are swept one
    /// by one.
    fn sweep_batch<R: rand::Rng>(
        &self,
        model: &M,
        chains: &mut [SiteChain],
        beta: Beta,
        rngs: &mut [R],
    ) {
        // chains on a model's own kernel sweep one by one (the kernel
        // parallelises within the chain)
        if self.scan != Scan::Block
            || chains.is_empty()
            || chains.iter().any(|c| c.kernel.is_some())
        {
            for (c, r) in chains.iter_mut().zip(rngs.iter_mut()) {
                self.sweep(model, c, beta, r);
            }
            return;
        }
        let (b, d, n) = (beta.value(), model.domain(), model.n_units());
        // borrow the first chain's blocks for the sweep (no copy), put them back after
        let blocks = chains[0].blocks.take().unwrap_or_else(|| model.blocks());
        let rows = chains.len().min(rngs.len());
        let mut xs: Vec<i8> = Vec::with_capacity(rows * n);
        chains[..rows].iter().for_each(|c| xs.extend_from_slice(&c.x));
        let mut out = vec![0.0; rows * blocks.max_block_len()];
        let mut counts = vec![(0u64, 0u64); rows];
        for block in blocks.iter() {
            // a block with no free unit draws nothing in `sweep` either: skip
            // its deltas (no wasted GEMM in a clamped positive phase)
            if self.clamp.is_some() && block.iter().all(|&i| !is_free(&self.clamp, i)) {
                continue;
            }
            let w = block.len();
            model.block_deltas_batch(&xs, block, &mut out[..rows * w]);
            for (r, ((x, rng), cnt)) in
                xs.chunks_exact_mut(n).zip(rngs.iter_mut()).zip(counts.iter_mut()).enumerate()
            {
                for (k, &i) in block.iter().enumerate() {
                    if is_free(&self.clamp, i) {
                        cnt.0 += 1;
                        if uniform(rng) < flip_probability(b, out[r * w + k]) {
                            x[i] = d.flip(x[i]);
                            cnt.1 += 1;
                        }
                    }
                }
            }
        }
        for ((c, x), (p, a)) in chains.iter_mut().zip(xs.chunks_exact(n)).zip(counts) {
            c.x.copy_from_slice(x);
            c.proposed += p;
            c.accepted += a;
        }
        chains[0].blocks = Some(blocks);
    }
}
