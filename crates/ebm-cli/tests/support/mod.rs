//! Helpers shared by the `ebm` binary's integration tests.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs the `ebm` binary with `args`.
pub fn ebm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ebm")).args(args).output().expect("the ebm binary runs")
}

/// A fresh directory for one test (`tag` unique across the test files).
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ebm-cli-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
