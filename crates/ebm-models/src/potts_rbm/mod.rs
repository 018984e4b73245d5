//! The categorical-visible RBM (a "Potts RBM"): q categories per visible unit,
//! Bernoulli hidden units, for sequence data such as protein alignments.
//!
//! ```text
//! E(v, h) = −Σ_i g_i(v_i) − Σ_j c_j h_j − Σ_i Σ_j W_ij(v_i) h_j,
//! v_i ∈ {0, …, q − 1},  h_j ∈ {0, 1}
//! ```
//!
//! A state is `[v, h]`: n_v categorical values then n_h bits, all `u8`, in a
//! [`Categories`] space (q for the visibles, 2 for the hiddens), so the
//! model is a [`CategoricalModel`] and every sampler, the exact enumeration,
//! AIS, TI and the trainers apply unchanged. The conditionals are closed
//! forms: `p(h_j = 1 | v) = σ(β(c_j + Σ_i W_ij(v_i)))` and
//! `p(v_i = k | h) ∝ exp(β(g_i(k) + Σ_j W_ij(k) h_j))`, a softmax per site;
//! the batched block energies are one GEMM per block
//! ([`CategoricalModel::block_energies_batch`]).
//!
//! **Gauge.** The distribution is unchanged by `W_ij(k) → W_ij(k) + a_ij`,
//! `c_j → c_j − Σ_i a_ij` and `g_i(k) → g_i(k) + b_i`; left free, these
//! directions drift during training. Parameters are therefore always stored
//! in the zero-sum gauge, `Σ_k W_ij(k) = 0` and `Σ_k g_i(k) = 0`:
//! [`LogLinear::set_params`] projects onto it (moving the weights' means
//! into the hidden biases, dropping the fields' means, which shifts E by a
//! constant), so the model is always the same distribution as the θ given.

mod ais;
mod exact;

use crate::linalg::{View, sgemm, sigmoid, softplus};
use ebm_core::{
    Beta, Blocks, CategoricalModel, Categories, EnergyModel, Error, LogLinear, MAX_CATEGORIES,
    Result, Seed, check_finite, check_len,
};

pub use exact::MAX_EXACT_HIDDEN;

/// `Σ_j row_j h_j` for bits h.
#[inline]
fn dot_bits(row: &[f64], h: &[u8]) -> f64 {
    row.iter().zip(h).map(|(&x, &hj)| if hj == 1 { x } else { 0.0 }).sum()
}

/// A categorical-visible, Bernoulli-hidden RBM.
///
/// θ = `[W (n_v·q rows of n_h, row (i, k) = i·q + k), g (n_v·q), c (n_h)]`,
/// in the zero-sum gauge; φ(v, h) = `[onehot(v) ⊗ h, onehot(v), h]`, so
/// `E = −⟨θ, φ⟩`.
///
/// ```
/// use ebm_core::{Beta, EnergyModel, Seed};
/// use ebm_models::potts_rbm::PottsRbm;
/// let m = PottsRbm::random(5, 3, 4, 0.5, Seed(1))?;
/// assert_eq!(m.n_units(), 8);
/// let exact = m.exact_log_z(Beta::ONE)?;                  // 2^3 hidden states summed
/// let brute = ebm_thermo::exact(&m, Beta::ONE)?.log_z;    // 4^5 · 2^3 states enumerated
/// assert!((exact - brute).abs() < 1e-10);
/// # Ok::<(), ebm_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PottsRbm {
    nv: usize,
    nh: usize,
    q: usize,
    space: Categories,
    params: Vec<f64>,
    /// W as f32 (rows (i, k), columns j), for the GEMM of visible energies.
    w32: Vec<f32>,
}

impl PottsRbm {
    /// A model from its weights (`n_v·q·n_h`, row (i·q + k) holding
    /// W_ij(k) for j < n_h), fields (`n_v·q`) and hidden biases (`n_h`),
    /// projected onto the zero-sum gauge.
    ///
    /// Errors: no visible or hidden units, q outside `2..=256`, `n_v·q·n_h`
    /// overflowing ([`Error::InvalidParameter`]); lengths
    /// ([`Error::ShapeMismatch`]); non-finite values ([`Error::NonFinite`]).
    /// All but the last are checked before anything is allocated.
    pub fn new(
        n_visible: usize,
        n_hidden: usize,
        q: usize,
        weights: &[f64],
        fields: &[f64],
        hidden_bias: &[f64],
    ) -> Result<Self> {
        if n_visible == 0 || n_hidden == 0 {
            return Err(Error::InvalidParameter {
                name: "layer size",
                value: 0.0,
                expected: "≥ 1 visible and ≥ 1 hidden unit",
            });
        }
        // q and the lengths are checked before anything is allocated: with
        // q = 0 every slice is empty whatever n_v, and n_v·q·n_h may overflow
        if !(2..=MAX_CATEGORIES).contains(&q) {
            return Err(Error::InvalidParameter {
                name: "number of categories",
                value: q as f64,
                expected: "an integer in 2..=256",
            });
        }
        let too_large = || Error::InvalidParameter {
            name: "n_v × q × n_h",
            value: f64::INFINITY,
            expected: "fits in memory",
        };
        let n_fields = n_visible.checked_mul(q).ok_or_else(too_large)?;
        let n_weights = n_fields.checked_mul(n_hidden).ok_or_else(too_large)?;
        check_len("weights (n_v·q·n_h)", n_weights, weights.len())?;
        check_len("fields (n_v·q)", n_fields, fields.len())?;
        check_len("hidden biases", n_hidden, hidden_bias.len())?;
        let mut qs = vec![q; n_visible];
        qs.resize(n_visible + n_hidden, 2);
        let space = Categories::new(qs)?;
        let mut m = PottsRbm {
            nv: n_visible,
            nh: n_hidden,
            q,
            space,
            params: vec![0.0; n_weights + n_fields + n_hidden],
            w32: vec![0.0; n_weights],
        };
        let mut theta = weights.to_vec();
        theta.extend_from_slice(fields);
        theta.extend_from_slice(hidden_bias);
        m.set_params(&theta)?;
        Ok(m)
    }

    /// Weights uniform in `[−scale, scale]`, zero fields and biases, from
    /// `seed`'s INIT stream 0 (then gauged).
    pub fn random(
        n_visible: usize,
        n_hidden: usize,
        q: usize,
        scale: f64,
        seed: Seed,
    ) -> Result<Self> {
        let mut rng = seed.stream(ebm_core::Purpose::INIT, 0);
        let w: Vec<f64> = (0..n_visible * q * n_hidden)
            .map(|_| scale * (2.0 * ebm_core::uniform(&mut rng) - 1.0))
            .collect();
        PottsRbm::new(n_visible, n_hidden, q, &w, &vec![0.0; n_visible * q], &vec![0.0; n_hidden])
    }

    /// Zero weights (or `weights`) and biases, fields set to the log
    /// frequencies of the categories in `data` (rows of n_v values) with a
    /// pseudocount of `pseudocount` (> 0) per category
    /// ([`ebm_thermo::ais::IndependentSites::fit`]): the independent-site
    /// model, the usual starting point of training.
    pub fn independent_sites(
        data: &[u8],
        n_visible: usize,
        n_hidden: usize,
        q: usize,
        pseudocount: f64,
        weights: Option<&[f64]>,
    ) -> Result<Self> {
        let space = Categories::uniform(q, n_visible)?;
        let fit = ebm_thermo::ais::IndependentSites::fit(space, n_visible, data, pseudocount)?;
        let g = fit.fields();
        let zeros = vec![0.0; n_visible * q * n_hidden];
        PottsRbm::new(n_visible, n_hidden, q, weights.unwrap_or(&zeros), g, &vec![0.0; n_hidden])
    }

    /// Number of visible units n_v.
    pub fn n_visible_units(&self) -> usize {
        self.nv
    }

    /// Number of hidden units n_h.
    pub fn n_hidden(&self) -> usize {
        self.nh
    }

    /// Categories per visible unit.
    pub fn n_categories(&self) -> usize {
        self.q
    }

    /// W_ij(k) at `weights()[(i·q + k)·n_h + j]`.
    pub fn weights(&self) -> &[f64] {
        &self.params[..self.nv * self.q * self.nh]
    }

    /// g_i(k) at `fields()[i·q + k]`.
    pub fn fields(&self) -> &[f64] {
        let w = self.nv * self.q * self.nh;
        &self.params[w..w + self.nv * self.q]
    }

    /// The hidden biases c_j.
    pub fn hidden_bias(&self) -> &[f64] {
        &self.params[self.params.len() - self.nh..]
    }

    /// The hidden inputs `I_j(v) = c_j + Σ_i W_ij(v_i)` of visible row `v`.
    pub fn hidden_input(&self, v: &[u8], out: &mut [f64]) {
        let (q, nh) = (self.q, self.nh);
        out[..nh].copy_from_slice(self.hidden_bias());
        let w = self.weights();
        for (i, &vi) in v.iter().enumerate().take(self.nv) {
            let row = &w[(i * q + usize::from(vi)) * nh..][..nh];
            out[..nh].iter_mut().zip(row).for_each(|(o, &x)| *o += x);
        }
    }

    /// `ln Σ_h exp(−β E(v, h)) = β Σ_i g_i(v_i) + Σ_j softplus(β I_j(v))`,
    /// the negative free energy of visible row `v` times β.
    pub fn log_marginal(&self, v: &[u8], beta: Beta) -> Result<f64> {
        check_len("visible row", self.nv, v.len())?;
        ebm_core::StateSpace::validate(&self.space, v)?;
        Ok(self.log_marginal_in(v, beta.value(), &mut vec![0.0; self.nh]))
    }

    /// [`PottsRbm::log_marginal`] of a valid row, the hidden inputs in
    /// `input` (n_h values; no allocation).
    pub(crate) fn log_marginal_in(&self, v: &[u8], b: f64, input: &mut [f64]) -> f64 {
        self.hidden_input(v, input);
        let g = self.fields();
        let fields: f64 =
            v.iter().enumerate().map(|(i, &vi)| g[i * self.q + usize::from(vi)]).sum();
        b * fields + input.iter().map(|&x| softplus(b * x)).sum::<f64>()
    }

    /// Mean of [`PottsRbm::log_marginal`] over the rows of `data`, each with
    /// weight `weights[r]` (uniform if `None`): the data term of the
    /// log-likelihood, `mean ln p(v) + ln Z`.
    pub fn mean_log_marginal(
        &self,
        data: &[u8],
        weights: Option<&[f64]>,
        beta: Beta,
    ) -> Result<f64> {
        let rows = ebm_core::check_rows("data (rows of n_visible values)", data.len(), self.nv)?;
        ebm_core::validate_rows(&self.space, data, self.nv)?;
        if let Some(w) = weights {
            check_len("row weights", rows, w.len())?;
        }
        let (mut total, mut wsum) = (0.0, 0.0);
        let mut input = vec![0.0; self.nh];
        for (r, v) in data.chunks_exact(self.nv).enumerate() {
            let w = weights.map_or(1.0, |w| w[r]);
            total += w * self.log_marginal_in(v, beta.value(), &mut input);
            wsum += w;
        }
        Ok(total / wsum)
    }

    /// `out += weight · E[φ | v]`, the hidden means in `p` (n_h values).
    fn add_data_statistics_in(
        &self,
        v: &[u8],
        beta: Beta,
        weight: f64,
        out: &mut [f64],
        p: &mut [f64],
    ) {
        let (q, nh, nv) = (self.q, self.nh, self.nv);
        self.hidden_input(v, p);
        p.iter_mut().for_each(|x| *x = sigmoid(beta.value() * *x));
        let (ow, rest) = out.split_at_mut(nv * q * nh);
        let (og, oc) = rest.split_at_mut(nv * q);
        for (i, &vi) in v.iter().enumerate() {
            let r = i * q + usize::from(vi);
            og[r] += weight;
            ow[r * nh..(r + 1) * nh]
                .iter_mut()
                .zip(p.iter())
                .for_each(|(o, &pj)| *o += weight * pj);
        }
        oc.iter_mut().zip(p.iter()).for_each(|(o, &pj)| *o += weight * pj);
    }

    /// Moves the parameters into the zero-sum gauge (the same distribution).
    fn gauge(theta: &mut [f64], nv: usize, nh: usize, q: usize) {
        let (w, rest) = theta.split_at_mut(nv * q * nh);
        let (g, c) = rest.split_at_mut(nv * q);
        for i in 0..nv {
            for j in 0..nh {
                let mean = (0..q).map(|k| w[(i * q + k) * nh + j]).sum::<f64>() / q as f64;
                for k in 0..q {
                    w[(i * q + k) * nh + j] -= mean;
                }
                c[j] += mean;
            }
            let mean = g[i * q..(i + 1) * q].iter().sum::<f64>() / q as f64;
            g[i * q..(i + 1) * q].iter_mut().for_each(|x| *x -= mean);
        }
    }
}

impl EnergyModel for PottsRbm {
    type Space = Categories;

    fn n_units(&self) -> usize {
        self.nv + self.nh
    }

    fn space(&self) -> &Categories {
        &self.space
    }

    fn energy(&self, x: &[u8]) -> f64 {
        let (v, h) = x.split_at(self.nv);
        let (q, nh) = (self.q, self.nh);
        let (w, g, c) = (self.weights(), self.fields(), self.hidden_bias());
        let mut e = 0.0;
        for (i, &vi) in v.iter().enumerate() {
            let r = i * q + usize::from(vi);
            e -= g[r];
            let row = &w[r * nh..(r + 1) * nh];
            e -= dot_bits(row, h);
        }
        e - dot_bits(c, h)
    }
}

impl CategoricalModel for PottsRbm {
    /// Visible i: `−g_i(k) − Σ_j W_ij(k) h_j`; hidden j: `[0, −I_j(v)]`.
    fn local_energies(&self, x: &[u8], i: usize, out: &mut [f64]) {
        let (q, nh, nv) = (self.q, self.nh, self.nv);
        if i < nv {
            let (w, g) = (self.weights(), self.fields());
            let h = &x[nv..];
            for (k, o) in out[..q].iter_mut().enumerate() {
                let r = i * q + k;
                let row = &w[r * nh..(r + 1) * nh];
                *o = -g[r] - dot_bits(row, h);
            }
        } else {
            let j = i - nv;
            let w = self.weights();
            let input = self.hidden_bias()[j]
                + x[..nv]
                    .iter()
                    .enumerate()
                    .map(|(a, &va)| w[(a * q + usize::from(va)) * nh + j])
                    .sum::<f64>();
            out[0] = 0.0;
            out[1] = -input;
        }
    }

    /// The visible layer (one GEMM: the n_h-bit hidden rows times Wᵀ) or the
    /// hidden layer (sums of one weight row per visible unit), for all rows.
    fn block_energies_batch(&self, xs: &[u8], block: &[usize], out: &mut [f64]) {
        let (q, nh, nv, n) = (self.q, self.nh, self.nv, self.nv + self.nh);
        let w_out = self.space.max_values();
        let rows = xs.len() / n;
        let whole_visible = block.len() == nv && block.iter().enumerate().all(|(b, &i)| b == i);
        let whole_hidden = block.len() == nh && block.iter().enumerate().all(|(b, &i)| i == nv + b);
        if whole_visible && q == w_out {
            // E[r][(i, k)] = −g_ik − Σ_j h_rj W_(ik)j: (rows × nh)·(nh × nv·q)
            let h: Vec<f32> =
                xs.chunks_exact(n).flat_map(|x| x[nv..].iter().map(|&b| f32::from(b))).collect();
            let mut e = vec![0f32; rows * nv * q];
            sgemm(
                1.0,
                View::row_major(&h, rows, nh),
                View::row_major(&self.w32, nv * q, nh).t(),
                0.0,
                &mut e,
            );
            let g = self.fields();
            for (o, (er, _)) in
                out.chunks_exact_mut(nv * q).zip(e.chunks_exact(nv * q).zip(0..rows))
            {
                for (k, (ov, &ev)) in o.iter_mut().zip(er).enumerate() {
                    *ov = -g[k] - f64::from(ev);
                }
            }
            return;
        }
        if whole_hidden {
            let mut input = vec![0.0; nh];
            for (x, o) in xs.chunks_exact(n).zip(out.chunks_exact_mut(nh * w_out)) {
                self.hidden_input(&x[..nv], &mut input);
                for (e, &a) in o.chunks_exact_mut(w_out).zip(&input) {
                    e[0] = 0.0;
                    e[1] = -a;
                }
            }
            return;
        }
        for (x, o) in xs.chunks_exact(n).zip(out.chunks_exact_mut(w_out * block.len().max(1))) {
            for (&i, e) in block.iter().zip(o.chunks_exact_mut(w_out)) {
                self.local_energies(x, i, e);
            }
        }
    }

    /// The two layers.
    fn blocks(&self) -> Blocks {
        let n = self.nv + self.nh;
        Blocks::new(n, vec![(0..self.nv).collect(), (self.nv..n).collect()])
            .unwrap_or_else(|_| Blocks::singletons(n))
    }
}

impl LogLinear for PottsRbm {
    fn params(&self) -> &[f64] {
        &self.params
    }

    fn n_couplings(&self) -> usize {
        self.nv * self.q * self.nh
    }

    /// Stores θ projected onto the zero-sum gauge (the same distribution).
    /// A θ already in the gauge to rounding (every component within
    /// 1e−12 of its projection, relative) is stored as given, so that
    /// `set_params(params())` changes nothing.
    fn set_params(&mut self, theta: &[f64]) -> Result<()> {
        check_len("PottsRbm parameters", self.params.len(), theta.len())?;
        check_finite("PottsRbm parameters", theta)?;
        let mut t = theta.to_vec();
        PottsRbm::gauge(&mut t, self.nv, self.nh, self.q);
        check_finite("PottsRbm parameters (gauged)", &t)?;
        let gauged = t.iter().zip(theta).all(|(a, b)| (a - b).abs() <= 1e-12 * (1.0 + b.abs()));
        if gauged {
            t.copy_from_slice(theta);
        }
        self.params = t;
        let w = self.nv * self.q * self.nh;
        self.w32.iter_mut().zip(&self.params[..w]).for_each(|(a, &b)| *a = b as f32);
        Ok(())
    }

    /// φ(v, h) = `[onehot(v) ⊗ h, onehot(v), h]`.
    fn add_statistics(&self, x: &[u8], weight: f64, out: &mut [f64]) {
        let (q, nh, nv) = (self.q, self.nh, self.nv);
        let (v, h) = x.split_at(nv);
        let (ow, rest) = out.split_at_mut(nv * q * nh);
        let (og, oc) = rest.split_at_mut(nv * q);
        for (i, &vi) in v.iter().enumerate() {
            let r = i * q + usize::from(vi);
            og[r] += weight;
            for (o, &hj) in ow[r * nh..(r + 1) * nh].iter_mut().zip(h) {
                if hj == 1 {
                    *o += weight;
                }
            }
        }
        oc.iter_mut().zip(h).filter(|(_, hj)| **hj == 1).for_each(|(o, _)| *o += weight);
    }

    fn n_visible(&self) -> usize {
        self.nv
    }

    /// `E[φ | v]`: h replaced by `p(h = 1 | v) = σ(β I(v))`.
    fn add_data_statistics(&self, v: &[u8], beta: Beta, weight: f64, out: &mut [f64]) -> bool {
        self.add_data_statistics_in(v, beta, weight, out, &mut vec![0.0; self.nh]);
        true
    }

    /// Every row with one buffer of hidden means (the positive phase of
    /// every training step).
    fn add_data_statistics_batch(
        &self,
        vs: &[u8],
        beta: Beta,
        weight: f64,
        out: &mut [f64],
    ) -> bool {
        let mut p = vec![0.0; self.nh];
        for v in vs.chunks_exact(self.nv) {
            self.add_data_statistics_in(v, beta, weight, out, &mut p);
        }
        true
    }
}
