//! The subcommands.

mod demo;
mod exact;
mod gbrbm;
mod glass;
mod logz;
mod potts_rbm;
mod sample;
mod scan;
pub mod train;
mod xy;

use crate::cli::{Cli, Command};
use ebm_core::Result;
use serde::Serialize;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    if matches!(cli.command, Command::Train(_)) {
        crate::interrupt::install();
    }
    match cli.command {
        Command::Exact { model, beta, common } => exact::run(&model, beta, &common),
        Command::Sample {
            model,
            beta,
            sampler,
            n_chains,
            n_sweeps,
            n_warmup,
            n_replicas,
            beta_min,
            png,
            common,
        } => sample::run(&sample::Options {
            model,
            beta,
            sampler,
            n_chains,
            n_sweeps,
            n_warmup,
            n_replicas,
            beta_min,
            png,
            common,
        }),
        Command::Scan {
            model,
            beta,
            sampler,
            n_chains,
            n_sweeps,
            n_warmup,
            n_replicas,
            out,
            job,
            jobs,
            png_dir,
            common,
        } => scan::run(&scan::Options {
            model,
            beta,
            sampler,
            n_chains,
            n_sweeps,
            n_warmup,
            n_replicas,
            out,
            job,
            jobs,
            png_dir,
            common,
        }),
        Command::Train(args) => {
            if let Some(clash) = train::outputs_clash(&args) {
                return Err(clash);
            }
            match args.model.as_str() {
                "potts-rbm" => potts_rbm::train(&args),
                "gbrbm" => gbrbm::train(&args),
                _ => train::run(&args),
            }
        }
        Command::Logz { model, beta, method, n_betas, n_runs, common } => {
            logz::run_logz(&model, beta, method, n_betas, n_runs, &common)
        }
        Command::Eval(args) => logz::run_eval(&args),
        Command::Demo { out, common } => {
            if common.json {
                return Err(ebm_core::Error::InvalidSequence {
                    what: "flag",
                    reason: "demo prints a report and writes pictures; --json is not supported"
                        .into(),
                });
            }
            demo::run(&out, common.seed, common.quiet)
        }
    }
}

pub use ebm_run::{Measured, check_chain_units};

/// Prints `value` as one line of JSON on stdout.
pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    let line = serde_json::to_string(value)
        .map_err(|e| ebm_core::Error::Io { path: "<stdout>".into(), message: e.to_string() })?;
    println!("{line}");
    Ok(())
}
