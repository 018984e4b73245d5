//! Epoch monitors: how training is going, in numbers a researcher trusts.
//!
//! - [`rbm_monitors`]: reconstruction error, pseudo-log-likelihood, the
//!   free-energy gap between held-out and training data (it grows when the
//!   model overfits, Hinton's practical guide §6), and the exact
//!   log-likelihood when the smaller layer is small enough to sum.
//! - [`pseudo_log_likelihood`]: Σ_i ln p(x_i | x_−i) for any fully visible model.

use ebm_core::{Beta, BinaryModel, Purpose, Result, Seed, uniform};
use ebm_models::rbm::Rbm;
use rayon::prelude::*;

/// Monitors of an RBM on a training and a held-out set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RbmMonitors {
    /// Mean-field reconstruction error: mean squared difference between v and
    /// p(v | p(h | v)), per unit.
    pub recon_error: f64,
    /// Stochastic pseudo-log-likelihood per row: n_visible · ln p(v_i | v_−i)
    /// for one random unit i per row (an unbiased estimate of the full sum).
    pub pseudo_log_likelihood: f64,
    /// Mean visible free energy F(v) of the training rows.
    pub free_energy_train: f64,
    /// Mean visible free energy of the held-out rows.
    pub free_energy_test: f64,
    /// `free_energy_test − free_energy_train`.
    pub free_energy_gap: f64,
    /// Exact mean log-likelihood of the training rows (if computed).
    pub exact_log_likelihood_train: Option<f64>,
    /// Exact mean log-likelihood of the held-out rows (if computed).
    pub exact_log_likelihood_test: Option<f64>,
}

/// `ln σ(−d) = −softplus(d)`, stable for any d.
fn log_sigmoid_neg(d: f64) -> f64 {
    -(if d > 0.0 { d + (-d).exp().ln_1p() } else { d.exp().ln_1p() })
}

/// The monitors at β = 1 on (at most `max_rows` of) `train` and `test`; the
/// exact log-likelihood when `with_exact` and the smaller layer has at most 20
/// units. The random unit of the pseudo-likelihood comes from `seed`.
pub fn rbm_monitors(
    rbm: &Rbm,
    train: &[i8],
    test: &[i8],
    max_rows: usize,
    with_exact: bool,
    seed: Seed,
) -> Result<RbmMonitors> {
    let beta = Beta::ONE;
    let (nv, nh) = (rbm.n_visible(), rbm.n_hidden());
    let train = &train[..train.len().min(max_rows * nv)];
    let test = &test[..test.len().min(max_rows * nv)];
    let rows = train.len() / nv;
    let mut ph = vec![0f32; rows * nh];
    rbm.hidden_probs_batch(train, beta, &mut ph)?;
    let mut pv = vec![0f32; rows * nv];
    rbm.visible_probs_batch(&ph, beta, &mut pv)?;
    let recon_error =
        train.iter().zip(&pv).map(|(&v, &p)| (f64::from(v) - f64::from(p)).powi(2)).sum::<f64>()
            / train.len().max(1) as f64;
    // rows in parallel, their values collected in row order and summed in
    // that order: the same bits for any number of threads
    let free_energies = |d: &[i8]| -> Result<Vec<f64>> {
        d.par_chunks_exact(nv).map(|v| rbm.visible_free_energy(v, beta)).collect()
    };
    let mean = |f: &[f64]| f.iter().sum::<f64>() / f.len().max(1) as f64;
    let f_train_rows = free_energies(train)?;
    let mut rng = seed.stream(Purpose::custom(77), 0);
    let units: Vec<usize> =
        (0..rows).map(|_| ((uniform(&mut rng) * nv as f64) as usize).min(nv - 1)).collect();
    let terms: Vec<f64> = train
        .par_chunks_exact(nv)
        .zip(units.par_iter().zip(f_train_rows.par_iter()))
        .map_init(
            || vec![0i8; nv],
            |flipped, (v, (&i, &f))| -> Result<f64> {
                flipped.copy_from_slice(v);
                flipped[i] = 1 - flipped[i];
                // p(v_i | v_−i) = σ(F(v') − F(v))
                Ok(log_sigmoid_neg(f - rbm.visible_free_energy(flipped, beta)?))
            },
        )
        .collect::<Result<_>>()?;
    let pl: f64 = terms.iter().sum();
    let (f_train, f_test) = (mean(&f_train_rows), mean(&free_energies(test)?));
    let log_z = if with_exact && nv.min(nh) <= 20 { Some(rbm.exact_log_z(beta)?) } else { None };
    Ok(RbmMonitors {
        recon_error,
        pseudo_log_likelihood: nv as f64 * pl / rows.max(1) as f64,
        free_energy_train: f_train,
        free_energy_test: f_test,
        free_energy_gap: f_test - f_train,
        exact_log_likelihood_train: log_z.map(|z| -f_train - z),
        exact_log_likelihood_test: log_z.map(|z| -f_test - z),
    })
}

/// Mean over the rows of `data` of `Σ_i ln p_β(x_i | x_−i)` for a fully
/// visible model: `p(x_i | x_−i) = σ(β Δ_i)` with `Δ_i` the flip delta.
pub fn pseudo_log_likelihood<M: BinaryModel + ?Sized>(
    model: &M,
    data: &[i8],
    beta: Beta,
) -> Result<f64> {
    let n = model.n_units();
    ebm_core::check_len("data length modulo n_units", 0, data.len() % n.max(1))?;
    model.domain().validate(data)?;
    let rows = data.len() / n.max(1);
    let mut total = 0.0;
    for x in data.chunks_exact(n.max(1)) {
        for i in 0..n {
            total += log_sigmoid_neg(-beta.value() * model.flip_delta(x, i));
        }
    }
    Ok(total / rows.max(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebm_core::EnergyModel;

    #[test]
    fn monitors_match_their_definitions_on_a_small_rbm() {
        let rbm = Rbm::random(6, 3, 0.8, Seed(1)).unwrap();
        let data: Vec<i8> = (0..36).map(|k| ((k * 7 + k / 6) % 3 == 0) as i8).collect();
        let m = rbm_monitors(&rbm, &data, &data[..24], 100, true, Seed(2)).unwrap();
        let exact = rbm.exact_log_likelihood(&data[..36], Beta::ONE).unwrap();
        assert!((m.exact_log_likelihood_train.unwrap() - exact).abs() < 1e-10);
        assert!(m.recon_error > 0.0 && m.recon_error < 1.0);
        assert!(m.pseudo_log_likelihood < 0.0);
    }

    #[test]
    fn pseudo_likelihood_of_independent_bits_is_their_log_likelihood() {
        // no couplings: p(x_i | x_−i) = p(x_i), so PL = exact LL
        let m = ebm_models::boltzmann::BoltzmannMachine::new(vec![0.0; 9], vec![0.3, -1.2, 2.0], 3)
            .unwrap();
        let data = [1i8, 0, 1, 0, 0, 1, 1, 1, 0];
        let pl = pseudo_log_likelihood(&m, &data, Beta::ONE).unwrap();
        let ll = ebm_thermo::exact_log_likelihood(&m, &data, 3, Beta::ONE).unwrap();
        assert!((pl - ll).abs() < 1e-12, "{pl} vs {ll}");
        assert_eq!(m.n_units(), 3);
    }
}
