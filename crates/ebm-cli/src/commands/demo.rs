//! `ebm demo`: the guided tour, on embedded data, in well under a minute.
//!
//! 1. The 2D Ising model around its critical point: sampled energy, |m| and
//!    heat capacity of a 16×16 torus against Kaufman's exact finite-lattice
//!    values and Onsager's infinite-lattice ones.
//! 2. An RBM trained with PCD-5 on the embedded digits, its exact
//!    log-likelihood (the hidden layer is small enough to sum), and the AIS
//!    estimate of ln Z next to the exact ln Z.
//! 3. Pictures of all of it in the output folder.

use crate::data;
use crate::picture::{self, Series};
use ebm_core::{Beta, Chain, EnergyModel, Result, Seed};
use ebm_models::ising::{Boundary, Ising};
use ebm_models::rbm::Rbm;
use ebm_models::rbm_ais::{base_rate, data_marginals};
use ebm_samplers::{ChainsConfig, Gibbs, Init, Run};
use ebm_thermo::ais::{Ais, Schedule};
use ebm_thermo::kaufman::{
    BETA_C, kaufman_heat_capacity, kaufman_mean_energy, onsager_energy_per_spin,
    onsager_magnetization,
};
use ebm_thermo::observables::{CRITICAL_COLUMNS, Samples, critical, critical_row};
use ebm_train::{Batches, Learning, LearningRate, Momentum, Optimizer, Pcd};
use std::path::Path;

fn io(path: &Path, e: std::io::Error) -> ebm_core::Error {
    ebm_core::Error::Io { path: path.display().to_string(), message: e.to_string() }
}

pub fn run(out: &Path, seed: u64, quiet: bool) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
    let t0 = std::time::Instant::now();
    ising_part(out, seed, quiet)?;
    rbm_part(out, seed, quiet)?;
    println!("\npictures in {}/ ; demo took {:.1} s", out.display(), t0.elapsed().as_secs_f64());
    Ok(())
}

fn ising_part(out: &Path, seed: u64, quiet: bool) -> Result<()> {
    const L: usize = 16;
    let n = (L * L) as f64;
    let model = Ising::square(L, L, Boundary::Periodic, 1.0, 0.0)?;
    println!(
        "== 2D Ising model, {L}×{L} torus, J = 1: block (checkerboard) Gibbs, 8 chains × 4000 sweeps per temperature"
    );
    println!(
        "   exact: Kaufman (this finite torus) and Onsager (infinite lattice); T_c = {:.4}\n",
        1.0 / BETA_C
    );
    println!(
        "{:>6} {:>20} {:>10} {:>9} {:>18} {:>9} {:>9} {:>18} {:>9}",
        "T",
        "u sampled",
        "Kaufman",
        "Onsager",
        "c sampled",
        "Kaufman",
        "",
        "|m| sampled",
        "Onsager"
    );
    let temps = [1.6, 1.8, 2.0, 2.1, 2.2, 1.0 / BETA_C, 2.35, 2.5, 2.8, 3.2, 3.8];
    let bar = crate::progress::bar(temps.len() as u64, "ising", quiet);
    let (mut u_pts, mut c_pts, mut m_pts) = (Vec::new(), Vec::new(), Vec::new());
    let mut critical_state = Vec::new();
    for (k, &t) in temps.iter().enumerate() {
        let beta = Beta::from_temperature(t)?;
        let config = ChainsConfig {
            n_chains: 8,
            n_warmup: 500,
            n_sweeps: 4000,
            thin: 1,
            seed: Seed(seed).derive(k as u64),
        };
        let (traces, running) = Run::new(&model, &Gibbs::block(), beta)
            .config(config)
            .init(Init::Uniform)
            .record(CRITICAL_COLUMNS.len(), |m: &Ising, s: &[i8], o: &mut [f64]| {
                o.copy_from_slice(&critical_row(m.energy(s) / n, m.magnetization(s).powi(2), 0.0));
            })?;
        let est = |k| {
            let chains = traces.chains(k);
            let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
            ebm_thermo::estimate(&refs)
        };
        let (u, m) = (est(0), est(1));
        // c = β² N Var(u) over all chains, with the block-jackknife error of
        // `ebm sample` (blocks of 10 τ_int): a chain's variance about its own
        // mean is biased low by about 2τ/n, a third of an error bar at T_c
        let samples = Samples::new(&traces.values, traces.n_chains, traces.n_observables)?;
        let c = critical(&samples, beta.value(), model.n_units(), None).heat_capacity_per_unit;
        let (c_mean, c_err) = (c.mean, c.std_err);
        let b = beta.value();
        let (u_k, c_k) =
            (kaufman_mean_energy(L, L, 1.0, b) / n, kaufman_heat_capacity(L, L, 1.0, b) / n);
        let (u_o, m_o) = (onsager_energy_per_spin(1.0, b), onsager_magnetization(1.0, b));
        bar.suspend(|| {
            println!(
                "{t:>6.3} {:>11.5} ± {:.5} {u_k:>10.5} {u_o:>9.5} {:>9.4} ± {:.4} {c_k:>9.4} {:>9} {:>9.4} ± {:.4} {m_o:>9.4}",
                u.mean, u.std_err, c_mean, c_err, "", m.mean, m.std_err
            )
        });
        u_pts.push((t, u.mean, u.std_err, u_k, u_o));
        c_pts.push((t, c_mean, c_err, c_k));
        m_pts.push((t, m.mean, m.std_err, m_o));
        if (t - 1.0 / BETA_C).abs() < 1e-9 {
            critical_state = running.chains[0].state().to_vec();
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    // exact curves on a fine grid
    let fine: Vec<f64> = (0..=110).map(|i| 1.5 + 2.5 * i as f64 / 110.0).collect();
    let line = |label: &str, f: &dyn Fn(f64) -> f64| Series {
        label: label.into(),
        points: fine.iter().map(|&t| (t, f(t))).collect(),
        line: true,
        errors: vec![],
    };
    let dots = |label: &str, pts: Vec<(f64, f64, f64)>| Series {
        label: label.into(),
        points: pts.iter().map(|p| (p.0, p.1)).collect(),
        line: false,
        errors: pts.iter().map(|p| p.2).collect(),
    };
    picture::chart(
        &out.join("ising_energy.png"),
        "2D Ising, 16×16 torus: energy per spin",
        "temperature T",
        "u = U / N",
        &[
            line("Kaufman (exact, 16×16)", &|t| kaufman_mean_energy(L, L, 1.0, 1.0 / t) / n),
            line("Onsager (exact, infinite)", &|t| onsager_energy_per_spin(1.0, 1.0 / t)),
            dots("block Gibbs", u_pts.iter().map(|p| (p.0, p.1, p.2)).collect()),
        ],
    )?;
    picture::chart(
        &out.join("ising_heat_capacity.png"),
        "2D Ising, 16×16 torus: heat capacity per spin",
        "temperature T",
        "c = C / N",
        &[
            line("Kaufman (exact, 16×16)", &|t| kaufman_heat_capacity(L, L, 1.0, 1.0 / t) / n),
            dots("block Gibbs", c_pts.iter().map(|p| (p.0, p.1, p.2)).collect()),
        ],
    )?;
    picture::chart(
        &out.join("ising_magnetization.png"),
        "2D Ising, 16×16 torus: |magnetization| per spin",
        "temperature T",
        "<|m|>",
        &[
            line("Onsager (exact, infinite)", &|t| onsager_magnetization(1.0, 1.0 / t)),
            dots("block Gibbs", m_pts.iter().map(|p| (p.0, p.1, p.2)).collect()),
        ],
    )?;
    picture::configuration(
        &out.join("ising_critical_configuration.png"),
        &critical_state.iter().map(|&v| usize::from(v == 1)).collect::<Vec<_>>(),
        L,
        L,
        24,
    )?;
    // small-lattice check: exact enumeration against sampling at T_c
    let small = Ising::square(4, 4, Boundary::Periodic, 1.0, 0.0)?;
    let beta = Beta::new(BETA_C)?;
    let exact = ebm_thermo::exact(&small, beta)?;
    println!(
        "\n   4×4 torus at T_c by exact enumeration of all 65,536 states: ln Z = {:.10} (Kaufman: {:.10}), U/N = {:.6}, S/N = {:.6}, C/N = {:.6}",
        exact.log_z,
        ebm_thermo::kaufman::kaufman_log_z(4, 4, 1.0, BETA_C),
        exact.mean_energy_per_unit(),
        exact.entropy_per_unit(),
        exact.heat_capacity_per_unit()
    );
    Ok(())
}

fn rbm_part(out: &Path, seed: u64, quiet: bool) -> Result<()> {
    let data = data::load("default", ebm_run::Binarize::Stochastic(seed))?;
    let (nv, nh) = (data.width, 16);
    let rows = data.train.len() / nv;
    println!(
        "\n== RBM {nv}×{nh} trained with PCD-5 (5 block-Gibbs sweeps per step) on the embedded 10×10 digits ({rows} training rows, {} test rows)",
        data.test.len() / nv
    );
    let mut rbm = Rbm::init(nv, nh, Some(&data.train), Seed(seed))?;
    let batch = 20;
    let steps_per_epoch = rows.div_ceil(batch) as u64;
    let pcd = Pcd {
        n_chains: 100,
        k: 5,
        sampler: Gibbs::block(),
        learning: Learning::new(
            Optimizer::Sgd {
                learning_rate: LearningRate::InverseTime {
                    initial: 0.05,
                    scale: 50.0 * steps_per_epoch as f64,
                },
                momentum: Momentum::constant(0.5),
                weight_decay: 2e-4,
            },
            Seed(seed),
        ),
    };
    let mut state = pcd.init(&rbm)?;
    let epochs = 100;
    let bar = crate::progress::bar(epochs as u64, "rbm", quiet);
    let mut ll_curve = Vec::new();
    let ll = |rbm: &Rbm, d: &[i8]| rbm.exact_log_likelihood(d, Beta::ONE);
    println!("{:>6} {:>16} {:>16}", "epoch", "exact LL train", "exact LL test");
    let report =
        |rbm: &Rbm| -> Result<(f64, f64)> { Ok((ll(rbm, &data.train)?, ll(rbm, &data.test)?)) };
    let (a, b) = report(&rbm)?;
    println!("{:>6} {a:>16.4} {b:>16.4}   (Hinton initialisation: independent pixels)", 0);
    for epoch in 0..epochs {
        let mut batches = Batches::new(&data.train, nv, batch, Seed(seed), epoch as u64)?;
        while let Some(b) = batches.next_batch() {
            ebm_core::Trainer::step(&pcd, &mut rbm, &mut state, b)?;
        }
        if (epoch + 1) % 10 == 0 {
            let (a, b) = report(&rbm)?;
            ll_curve.push((epoch as f64 + 1.0, a, b));
            bar.suspend(|| println!("{:>6} {a:>16.4} {b:>16.4}", epoch + 1));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let exact_log_z = rbm.exact_log_z(Beta::ONE)?;
    let t = std::time::Instant::now();
    let marginals = data_marginals(&data.train, nv)?;
    let base = base_rate(&rbm, &marginals)?;
    let ais = Ais::new(Schedule::Standard, 100)?;
    let est = ais.log_z_from(&rbm, &base, &Gibbs::block(), Beta::ONE, Seed(seed))?;
    println!(
        "\n   ln Z exact (2^{nh} hidden states summed) = {exact_log_z:.4}\n   ln Z by AIS (14,500 β, 100 runs, {:.1} s)  = {:.4} ± {:.4}, interval [{:.4}, {:.4}], ESS {:.1}",
        t.elapsed().as_secs_f64(),
        est.log_z,
        est.std_err,
        est.lower,
        est.upper,
        est.ess
    );
    // pictures: filters, samples from the model, the learning curve
    crate::commands::train::filters_png(&rbm, &data, &out.join("rbm_filters.png"))?;
    crate::commands::train::samples_png(&rbm, &data, &out.join("rbm_samples.png"), 30, seed)?;
    picture::chart(
        &out.join("rbm_log_likelihood.png"),
        "RBM 100×16, PCD-5: exact log-likelihood",
        "epoch",
        "nats per example",
        &[
            Series {
                label: "train".into(),
                points: ll_curve.iter().map(|c| (c.0, c.1)).collect(),
                line: true,
                errors: vec![],
            },
            Series {
                label: "test".into(),
                points: ll_curve.iter().map(|c| (c.0, c.2)).collect(),
                line: true,
                errors: vec![],
            },
        ],
    )?;
    Ok(())
}
