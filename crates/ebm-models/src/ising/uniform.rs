//! The two-parameter view of a uniform Ising model.

use super::Ising;
use ebm_core::{
    BinaryModel, Blocks, Domain, EnergyModel, Error, KernelState, LocalRule, LogLinear, Result,
    check_finite, check_len,
};

/// An [`Ising`] model whose couplings all equal J and whose fields all equal
/// h, seen as a log-linear model with the two parameters θ = `[J, h]` and
/// statistics φ(s) = `[Σ_e s_a s_b, Σ_i s_i]` (the bond sum and the total
/// spin), so `E = −⟨θ, φ⟩`. Learning J and h of a lattice from data trains
/// this view; [`UniformIsing::model`] gives the underlying [`Ising`].
///
/// ```
/// use ebm_core::{EnergyModel, LogLinear};
/// use ebm_models::ising::{Ising, UniformIsing};
///
/// let mut m = UniformIsing::new(Ising::chain(4, true, 1.0, 0.0)?)?;
/// m.set_params(&[0.5, -0.2])?;
/// assert_eq!(m.model().uniform_couplings(), Some((0.5, -0.2)));
/// assert_eq!(m.energy(&[1, 1, 1, 1]), -0.5 * 4.0 + 0.2 * 4.0);
/// # Ok::<(), ebm_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct UniformIsing {
    model: Ising,
    theta: [f64; 2],
}

impl UniformIsing {
    /// Wraps a model with uniform couplings and fields
    /// ([`Ising::uniform_couplings`] is `Some`), or returns
    /// [`Error::InvalidParameter`] naming the spread of the couplings or fields.
    pub fn new(model: Ising) -> Result<Self> {
        match model.uniform_couplings() {
            Some((j, h)) => Ok(UniformIsing { model, theta: [j, h] }),
            None => {
                let spread = |v: &[f64]| {
                    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
                    if v.is_empty() { 0.0 } else { max - min }
                };
                let (sj, sh) = (spread(model.couplings()), spread(model.fields()));
                let (name, value) =
                    if sj > 0.0 { ("coupling spread", sj) } else { ("field spread", sh) };
                Err(Error::InvalidParameter { name, value, expected: "0 (uniform J and h)" })
            }
        }
    }

    /// The underlying model.
    pub fn model(&self) -> &Ising {
        &self.model
    }

    /// The underlying model, by value.
    pub fn into_inner(self) -> Ising {
        self.model
    }
}

impl EnergyModel for UniformIsing {
    type Space = Domain;

    fn n_units(&self) -> usize {
        self.model.n_units()
    }

    fn space(&self) -> &Domain {
        &Domain::Spin
    }

    fn energy(&self, s: &[i8]) -> f64 {
        self.model.energy(s)
    }
}

impl BinaryModel for UniformIsing {
    #[inline]
    fn flip_delta(&self, s: &[i8], i: usize) -> f64 {
        self.model.flip_delta(s, i)
    }

    fn block_deltas(&self, s: &[i8], block: &[usize], out: &mut [f64]) {
        self.model.block_deltas(s, block, out);
    }

    fn blocks(&self) -> Blocks {
        self.model.blocks()
    }

    fn block_kernel(&self, rule: LocalRule, x: &[i8]) -> Option<Box<dyn KernelState>> {
        self.model.block_kernel(rule, x)
    }

    fn block_kernel_sweep(
        &self,
        rule: LocalRule,
        state: &mut dyn KernelState,
        beta: ebm_core::Beta,
        key: [u32; 8],
    ) -> Option<u64> {
        self.model.block_kernel_sweep(rule, state, beta, key)
    }
}

impl LogLinear for UniformIsing {
    /// θ = `[J, h]`.
    fn params(&self) -> &[f64] {
        &self.theta
    }

    fn set_params(&mut self, theta: &[f64]) -> Result<()> {
        check_len("uniform Ising parameters", 2, theta.len())?;
        check_finite("uniform Ising parameters", theta)?;
        let e = self.model.n_edges();
        self.model.params[..e].fill(theta[0]);
        self.model.params[e..].fill(theta[1]);
        self.model.refresh();
        self.theta = [theta[0], theta[1]];
        Ok(())
    }

    /// φ(s) = `[Σ_e s_a s_b, Σ_i s_i]`.
    fn add_statistics(&self, s: &[i8], weight: f64, out: &mut [f64]) {
        let m: i64 = s.iter().map(|&x| i64::from(x)).sum();
        out[0] += weight * self.model.bond_sum(s) as f64;
        out[1] += weight * m as f64;
    }
}
