//! `ebm logz` and `ebm eval`: ln Z estimates with intervals, and the
//! log-likelihood of data under a saved RBM.

use super::print_json;
use crate::cli::{Common, EvalArgs, LogZMethod, ModelArgs};
use crate::spec::{self, Model};
use ebm_core::{Beta, Error, Result, Seed};
use ebm_models::rbm_ais::{base_rate, data_marginals, rbm_log_likelihood};
use ebm_run::logz::{EXACT_RBM_LAYER, Method, log_z};
use ebm_samplers::Gibbs;
use ebm_thermo::ais::{Ais, Schedule};
use serde::Serialize;

pub fn run_logz(
    model: &ModelArgs,
    beta: f64,
    method: LogZMethod,
    n_betas: usize,
    n_runs: usize,
    common: &Common,
) -> Result<()> {
    let beta = Beta::new(beta)?;
    let parsed = spec::parse(&model.model, model.coupling, model.field)?;
    let options = ebm_run::logz::Options {
        method: match method {
            LogZMethod::Ais => Method::Ais,
            LogZMethod::Ti => Method::Ti,
        },
        n_betas,
        n_runs,
        seed: common.seed,
    };
    let out = crate::with_model!(&parsed, m => log_z(&model.model, m, beta, &options, None))?;
    if common.json {
        return print_json(&out);
    }
    println!(
        "{} at β = {}: ln Z by {} = {:.6} ± {:.6}, interval [{:.6}, {:.6}] ({} runs, ESS {:.1}, {:.2} s)",
        out.model,
        out.beta,
        out.method,
        out.log_z,
        out.std_err,
        out.lower,
        out.upper,
        out.n_runs,
        out.ess,
        out.seconds
    );
    if let Some(x) = out.exact_log_z {
        println!("  exact ln Z: {x:.6} ({:+.2} standard errors)", (out.log_z - x) / out.std_err);
    }
    Ok(())
}

/// What `ebm eval` reports, for both RBM kinds.
#[derive(Serialize)]
pub(super) struct EvalOut {
    pub(super) model: String,
    pub(super) data: String,
    pub(super) split: String,
    pub(super) log_z: f64,
    pub(super) log_z_std_err: f64,
    pub(super) log_z_lower: f64,
    pub(super) log_z_upper: f64,
    pub(super) mean_log_likelihood: f64,
    pub(super) mean_log_likelihood_lower: f64,
    pub(super) mean_log_likelihood_upper: f64,
    pub(super) n_examples: usize,
    pub(super) exact_log_z: Option<f64>,
    pub(super) exact_mean_log_likelihood: Option<f64>,
    /// The independent-site model's exact mean log-likelihood (categorical
    /// RBMs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) independent_site_log_likelihood: Option<f64>,
    /// The conservative estimate from the other side (binary RBMs only).
    #[serde(flatten)]
    pub(super) conservative: Option<Conservative>,
    pub(super) ais_betas: usize,
    pub(super) ais_runs: usize,
    /// Wall time of the AIS runs alone.
    pub(super) ais_seconds: f64,
    /// Wall time of the evaluation (AIS, marginal likelihoods, exact ln Z).
    pub(super) seconds: f64,
}

/// RAISE's conservative mean log-likelihood: an estimate whose expectation
/// lies below the true value, where forward AIS's lies above.
#[derive(Serialize)]
pub(super) struct Conservative {
    pub(super) mean_log_likelihood_conservative: f64,
    pub(super) mean_log_likelihood_conservative_std_err: f64,
    pub(super) mean_log_likelihood_conservative_lower: f64,
    pub(super) mean_log_likelihood_conservative_upper: f64,
    /// Data rows the reverse runs started from.
    pub(super) raise_points: usize,
    pub(super) raise_runs_per_point: usize,
    /// Wall time of the RAISE runs alone.
    pub(super) raise_seconds: f64,
}

impl EvalOut {
    /// Prints the report: one JSON line, or the human-readable form.
    pub(super) fn report(&self, json: bool) -> Result<()> {
        if json {
            return print_json(self);
        }
        println!(
            "{} on {} ({} split, {} examples), AIS with {} β × {} runs, {:.2} s ({:.2} s of AIS)",
            self.model,
            self.data,
            self.split,
            self.n_examples,
            self.ais_betas,
            self.ais_runs,
            self.seconds,
            self.ais_seconds
        );
        println!(
            "  ln Z                 {:>12.4} ± {:.4}   interval [{:.4}, {:.4}]",
            self.log_z, self.log_z_std_err, self.log_z_lower, self.log_z_upper
        );
        println!(
            "  mean log-likelihood  {:>12.4}            interval [{:.4}, {:.4}]",
            self.mean_log_likelihood,
            self.mean_log_likelihood_lower,
            self.mean_log_likelihood_upper
        );
        if let Some(c) = &self.conservative {
            println!(
                "  conservative (RAISE) {:>12.4} ± {:.4}   interval [{:.4}, {:.4}]   {} points × {} runs, {:.2} s",
                c.mean_log_likelihood_conservative,
                c.mean_log_likelihood_conservative_std_err,
                c.mean_log_likelihood_conservative_lower,
                c.mean_log_likelihood_conservative_upper,
                c.raise_points,
                c.raise_runs_per_point,
                c.raise_seconds
            );
            println!(
                "  (forward AIS over-states the log-likelihood in expectation, RAISE under-states it: the two bracket it)"
            );
        }
        if let Some(l) = self.independent_site_log_likelihood {
            println!("  independent sites    {l:>12.4}            (exact)");
        }
        if let (Some(z), Some(l)) = (self.exact_log_z, self.exact_mean_log_likelihood) {
            println!("  exact: ln Z {z:.4}, mean log-likelihood {l:.4}");
        }
        Ok(())
    }
}

/// `ebm eval`: forward AIS from the base rate, RAISE from the data
/// (`raise_points` rows × `raise_runs` reverse runs on the same schedule;
/// 0 points skips it) and exact ln Z when the smaller layer is small.
pub fn run_eval(args: &EvalArgs) -> Result<()> {
    let EvalArgs {
        model,
        data,
        split,
        binarize,
        ais_betas,
        ais_runs,
        raise_points,
        raise_runs,
        common,
    } = args;
    let (model, binarize) = (model.as_path(), binarize.as_deref());
    let (ais_betas, ais_runs, raise_points, raise_runs) =
        (*ais_betas, *ais_runs, *raise_points, *raise_runs);
    let (saved, meta) = ebm_data::SavedModel::load(model)?;
    if let ebm_data::SavedModel::GaussianRbm(m) = &saved {
        return super::gbrbm::eval(args, m);
    }
    let rbm = match spec::from_saved(model, saved)? {
        Model::Rbm(rbm) => rbm,
        Model::PottsRbm(m) => {
            return super::potts_rbm::eval(args, &m);
        }
        _ => {
            return Err(Error::InvalidSequence {
                what: "model file",
                reason: format!("{} is not an RBM (eval needs one)", model.display()),
            });
        }
    };
    // the binarisation the model was trained with, unless the flag says otherwise
    let spec = binarize.or(meta.get("binarize").map(String::as_str)).unwrap_or("stochastic");
    let ds = crate::data::load(data, crate::recipe::binarize(spec)?)?;
    ebm_core::check_len("data width (n_visible)", rbm.n_visible(), ds.width)?;
    let rows = ds.split(split)?;
    let t0 = std::time::Instant::now();
    // the base rate of the AIS path: the training data's marginals
    let marginals = data_marginals(&ds.train, ds.width)?;
    let schedule = if ais_betas == 14_500 {
        Schedule::Standard
    } else {
        Schedule::StandardScaled(ais_betas.max(3))
    };
    let t_ais = std::time::Instant::now();
    let base = base_rate(&rbm, &marginals)?;
    let gibbs = Gibbs::block();
    let est = Ais::new(schedule.clone(), ais_runs)?.log_z_from(
        &rbm,
        &base,
        &gibbs,
        Beta::ONE,
        Seed(common.seed),
    )?;
    let ais_seconds = t_ais.elapsed().as_secs_f64();
    let ll = rbm_log_likelihood(&rbm, rows, &est)?;
    let conservative = (raise_points > 0)
        .then(|| {
            let t = std::time::Instant::now();
            let seed = Seed(common.seed);
            let raise = Ais::new(schedule.clone(), 1)?;
            raise
                .raise_from(&rbm, &base, &gibbs, Beta::ONE, rows, raise_points, raise_runs, seed)
                .map(|r| Conservative {
                    mean_log_likelihood_conservative: r.mean,
                    mean_log_likelihood_conservative_std_err: r.std_err,
                    mean_log_likelihood_conservative_lower: r.lower,
                    mean_log_likelihood_conservative_upper: r.upper,
                    raise_points: r.n_points,
                    raise_runs_per_point: r.runs_per_point,
                    raise_seconds: t.elapsed().as_secs_f64(),
                })
        })
        .transpose()?;
    let exact_log_z = (rbm.n_visible().min(rbm.n_hidden()) <= EXACT_RBM_LAYER)
        .then(|| rbm.exact_log_z(Beta::ONE))
        .transpose()?;
    let out = EvalOut {
        model: model.display().to_string(),
        data: ds.name.clone(),
        split: split.into(),
        log_z: est.log_z,
        log_z_std_err: est.std_err,
        log_z_lower: est.lower,
        log_z_upper: est.upper,
        mean_log_likelihood: ll.mean,
        mean_log_likelihood_lower: ll.lower,
        mean_log_likelihood_upper: ll.upper,
        n_examples: rows.len() / ds.width,
        exact_log_z,
        exact_mean_log_likelihood: exact_log_z.map(|z| ll.mean + est.log_z - z),
        independent_site_log_likelihood: None,
        conservative,
        ais_betas,
        ais_runs,
        ais_seconds,
        seconds: t0.elapsed().as_secs_f64(),
    };
    out.report(common.json)
}
