//! The `ebm` binary, run as a user would: JSON fields, exact values, errors.

use std::process::{Command, Output};

fn ebm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ebm")).args(args).output().expect("the ebm binary runs")
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = ebm(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "one JSON object on one line: {text}");
    serde_json::from_str(&text).unwrap()
}

fn field(v: &serde_json::Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or_else(|| panic!("missing numeric field {k} in {v}"))
}

#[test]
fn exact_gives_the_known_log_z_of_the_4x4_torus() {
    let v = json(&["exact", "--model", "ising:4x4", "--beta", "0.3", "--json"]);
    assert!((field(&v, "log_z") - 12.785523325714).abs() < 1e-9, "{v}");
    for k in ["free_energy", "mean_energy", "entropy", "heat_capacity"] {
        assert!(field(&v, k).is_finite());
    }
    assert_eq!(v["n_states"].as_u64(), Some(65536));
    // F = U − T S
    let t = 1.0 / 0.3;
    assert!(
        (field(&v, "free_energy") - (field(&v, "mean_energy") - t * field(&v, "entropy"))).abs()
            < 1e-10
    );
}

#[test]
fn sample_reports_every_field_and_agrees_with_exact() {
    let exact = json(&["exact", "--model", "ising:4x4", "--beta", "0.3", "--json"]);
    let v = json(&[
        "sample",
        "--model",
        "ising:4x4",
        "--beta",
        "0.3",
        "--sampler",
        "metropolis",
        "--n-chains",
        "4",
        "--n-sweeps",
        "4000",
        "--n-warmup",
        "100",
        "--json",
        "--seed",
        "3",
    ]);
    for k in ["acceptance_rate", "tau_int", "r_hat"] {
        assert!(field(&v, k).is_finite(), "{k}: {v}");
    }
    let e = &v["energy_per_unit"];
    let (mean, se) = (e["mean"].as_f64().unwrap(), e["std_err"].as_f64().unwrap());
    let exact_u = field(&exact, "mean_energy_per_unit");
    assert!((mean - exact_u).abs() < 4.0 * se, "{mean} ± {se} vs {exact_u}");
    assert!(v["abs_magnetization"]["mean"].as_f64().unwrap() > 0.0);
}

#[test]
fn sample_writes_a_png() {
    let dir = std::env::temp_dir().join(format!("ebm-cli-png-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("config.png");
    let out = ebm(&[
        "sample",
        "--model",
        "ising:32x32",
        "--beta",
        "0.6",
        "--n-sweeps",
        "50",
        "--n-warmup",
        "10",
        "--png",
        png.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_flags_and_values_give_one_line_errors_and_nonzero_exit() {
    for args in [
        &["exact", "--model", "ising:4x4", "--beta", "-1"][..],
        &["exact", "--model", "ising:4x4", "--beta", "0"],
        &["exact", "--model", "potts:4x4", "--beta", "1"],
        &["exact", "--model", "ising:0x4", "--beta", "1"],
        &["exact", "--model", "ising:8x8", "--beta", "1"],
        &["exact", "--model", "ising:4x4", "--beta", "abc"],
        &["exact", "--model", "ising:4x4"],
        &["sample", "--model", "ising:4x4", "--beta", "1", "--n-chains", "0"],
        &["frobnicate"],
    ] {
        let out = ebm(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("ebm: "), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
