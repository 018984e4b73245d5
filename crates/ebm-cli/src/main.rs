//! # ebm: the command line of the ebm framework
//!
//! Subcommands `exact`, `sample`, `logz`, `train`, `eval` and `demo`; each
//! prints human text, or one JSON object (JSON lines for training) with
//! `--json`. Errors print one line on stderr and exit non-zero.
//!
//! Depends on every library crate of the workspace; nothing depends on it.
//! What a user names (model and data specs) and the sampling and ln Z runs
//! live in `ebm-run`, shared with the Python package: this crate parses
//! flags, prints, draws and trains.
#![deny(missing_docs)]

mod cli;
mod commands;
mod interrupt;
mod picture;
mod progress;
mod recipe;

use ebm_run::{data, spec, with_model};

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                print!("{e}");
                return ExitCode::SUCCESS;
            }
            // clap's first paragraph, folded onto one line
            let rendered = e.render().to_string();
            let first: Vec<&str> = rendered
                .lines()
                .skip_while(|l| l.trim().is_empty())
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            let line = first.join(" ");
            eprintln!("ebm: {} (see `ebm --help`)", line.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    // the command runs on a worker of the pool (RAYON_NUM_THREADS threads,
    // default one per core), so that parallel sections start without waking
    // a sleeping pool from outside and, on one thread, run inline
    let run = || commands::run(cli);
    let result = match rayon::ThreadPoolBuilder::new().build() {
        Ok(pool) => pool.install(run),
        Err(_) => run(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ebm: error: {e}");
            ExitCode::FAILURE
        }
    }
}
