//! The `ebm` binary, run as a user would: JSON fields, exact values, errors.

mod support;

use std::process::Command;
use support::{ebm, temp_dir};

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
        &["sample", "--model", "glass:4x4:foo", "--beta", "1"],
        &["sample", "--model", "glass:4x4:disorder=x", "--beta", "1"],
        &["sample", "--model", "potts:3:4x4", "--beta", "1", "--sampler", "houdayer"],
        &[
            "sample",
            "--model",
            "glass:4x4",
            "--beta",
            "1",
            "--sampler",
            "houdayer",
            "--beta-min",
            "2",
        ],
        &[
            "sample",
            "--model",
            "glass:4x4",
            "--beta",
            "1",
            "--sampler",
            "tempering",
            "--beta-min",
            "0",
        ],
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

#[test]
fn logz_reports_its_fields_and_brackets_the_exact_value() {
    for method in ["ais", "ti"] {
        let v = json(&[
            "logz",
            "--model",
            "ising:4x4",
            "--beta",
            "0.4406868",
            "--method",
            method,
            "--n-betas",
            "200",
            "--n-runs",
            "32",
            "--json",
        ]);
        for k in ["log_z", "std_err", "lower", "upper"] {
            assert!(field(&v, k).is_finite(), "{k}: {v}");
        }
        assert_eq!(v["method"].as_str(), Some(method));
        let exact = field(&v, "exact_log_z");
        assert!((15.52..15.53).contains(&exact));
        assert!((field(&v, "log_z") - exact).abs() < 5.0 * field(&v, "std_err"), "{v}");
    }
}

#[test]
fn train_writes_json_lines_a_model_eval_reads_and_resume_is_bit_exact() {
    let dir = temp_dir("train");
    let out = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let train = |file: &str, epochs: &str, resume: bool| {
        let mut args = vec![
            "train",
            "--data",
            "bars-and-stripes:3",
            "--n-hidden",
            "8",
            "--epochs",
            epochs,
            "--batch-size",
            "7",
            "--trainer",
            "pcd",
            "--n-chains",
            "20",
            "--learning-rate",
            "0.05",
            "--json",
            "--seed",
            "5",
        ];
        let f = out(file);
        args.extend(["--out", f.as_str()]);
        if resume {
            args.push("--resume");
        }
        let o = ebm(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let lines = train("straight.safetensors", "4", false);
    assert_eq!(lines.lines().count(), 4);
    for l in lines.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        for k in [
            "epoch",
            "recon_error",
            "pseudo_log_likelihood",
            "free_energy_gap",
            "exact_log_likelihood_test",
            "seconds",
        ] {
            assert!(v[k].is_number(), "{k}: {v}");
        }
    }
    // 2 epochs, then resume to 4: the same model file, byte for byte
    train("resumed.safetensors", "2", false);
    train("resumed.safetensors", "4", true);
    let (a, b) = (
        std::fs::read(out("straight.safetensors")).unwrap(),
        std::fs::read(out("resumed.safetensors")).unwrap(),
    );
    assert!(a == b, "resumed training differs from the uninterrupted run");
    // and the same checkpoint: it carries the learning curve, so the resumed
    // run's pictures draw the epochs before the resume too
    let ckpt = |f: &str| std::fs::read(out(&format!("{f}.safetensors.ckpt"))).unwrap();
    assert!(ckpt("straight") == ckpt("resumed"), "the resumed checkpoint differs");
    let v = json(&[
        "eval",
        "--model",
        &out("straight.safetensors"),
        "--data",
        "bars-and-stripes:3",
        "--split",
        "test",
        "--ais-betas",
        "2000",
        "--ais-runs",
        "50",
        "--json",
    ]);
    for k in ["log_z", "log_z_lower", "log_z_upper", "mean_log_likelihood"] {
        assert!(field(&v, k).is_finite(), "{k}: {v}");
    }
    assert_eq!(v["n_examples"].as_u64(), Some(14));
    // a small RBM: the exact ln Z is reported too and lies in the interval's neighbourhood
    let exact = field(&v, "exact_log_z");
    assert!((field(&v, "log_z") - exact).abs() < 5.0 * field(&v, "log_z_std_err") + 0.05, "{v}");
    // both sides of the log-likelihood: forward AIS and RAISE (all 14 test
    // rows) each hold the exact value within their intervals
    let ll = field(&v, "exact_mean_log_likelihood");
    for side in ["mean_log_likelihood", "mean_log_likelihood_conservative"] {
        let (lo, hi) = (field(&v, &format!("{side}_lower")), field(&v, &format!("{side}_upper")));
        assert!(lo <= ll && ll <= hi, "{side}: [{lo}, {hi}] vs exact {ll}: {v}");
    }
    assert_eq!(v["raise_points"].as_u64(), Some(14));
    // --raise-points 0 skips RAISE and its fields
    let v = json(&[
        "eval",
        "--model",
        &out("straight.safetensors"),
        "--data",
        "bars-and-stripes:3",
        "--ais-betas",
        "100",
        "--raise-points",
        "0",
        "--json",
    ]);
    assert!(v.get("mean_log_likelihood_conservative").is_none(), "{v}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The default recipe (centred, tempered PCD-1 for 5000 steps) learns bars
/// and stripes 3×3 to within half a nat of the optimum −ln 14, with no flags
/// but the data and the hidden layer; it reports about 20 epoch lines and
/// records its configuration in the model file, which `ebm eval` reads.
#[test]
fn bars_and_stripes_default_recipe() {
    let dir = temp_dir("bas-default");
    let model = dir.join("bas.safetensors");
    let m = model.to_str().unwrap();
    let args = ["train", "--data", "bars-and-stripes:3", "--n-hidden", "16", "--out", m];
    let o = ebm(&[&args[..], &["--json"]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(text.lines().count(), 20, "{text}");
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["epoch"].as_u64(), Some(5000));
    let ll = field(&last, "exact_log_likelihood_test");
    let optimum = -(14f64).ln();
    eprintln!("default recipe on BAS 3×3: exact LL {ll:.4} (optimum {optimum:.4})");
    assert!(ll > optimum - 0.5, "{ll} vs {optimum}");
    // negative control: plain PCD-1 (no centring, one sweep) falls short
    let o = ebm(&[&args[..], &["--json", "--k", "1", "--centring", "0"]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let plain: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let plain = field(&plain, "exact_log_likelihood_test");
    eprintln!("plain PCD-1: exact LL {plain:.4}");
    assert!(plain < optimum - 0.5, "{plain}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn truncated_data_and_corrupt_model_files_are_one_line_errors() {
    let dir = temp_dir("bad");
    // MNIST-shaped files with the image file cut short
    let mut images = vec![0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28];
    images.extend(vec![7u8; 784 * 3]);
    let mut labels = vec![0, 0, 8, 1, 0, 0, 0, 10];
    labels.extend(vec![1u8; 10]);
    let gz = |bytes: &[u8]| {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    };
    for split in ["train", "t10k"] {
        std::fs::write(dir.join(format!("{split}-images-idx3-ubyte.gz")), gz(&images)).unwrap();
        std::fs::write(dir.join(format!("{split}-labels-idx1-ubyte.gz")), gz(&labels)).unwrap();
    }
    let data = format!("mnist:{}", dir.display());
    let model = dir.join("m.safetensors");
    let o = ebm(&["train", "--data", &data, "--epochs", "1", "--out", model.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("truncated") || err.contains("malformed"), "{err}");
    // a corrupt model file
    std::fs::write(&model, b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all").unwrap();
    for args in [
        vec!["eval", "--model", model.to_str().unwrap()],
        vec!["exact", "--model", model.to_str().unwrap(), "--beta", "1"],
    ] {
        let o = ebm(&args);
        assert!(!o.status.success());
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.starts_with("ebm: error:"), "{err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn demo_runs_and_writes_its_pictures() {
    let dir = temp_dir("demo");
    let o = ebm(&["demo", "--out", dir.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("Kaufman") && text.contains("AIS"), "{text}");
    for png in [
        "ising_energy.png",
        "ising_heat_capacity.png",
        "rbm_filters.png",
        "rbm_samples.png",
        "rbm_log_likelihood.png",
    ] {
        let bytes = std::fs::read(dir.join(png)).unwrap();
        assert_eq!(&bytes[..4], b"\x89PNG", "{png}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn potts_specs_run_exact_sample_and_logz_with_every_sampler() {
    // q = 2 Potts at β is Ising at β/2 plus β·N_b/2: the 4×4 torus at
    // β = 0.6 is ising:4x4 at 0.3 (ln Z above) plus 0.6 · 32 / 2
    let v = json(&["exact", "--model", "potts:2:4x4", "--beta", "0.6", "--json"]);
    assert!((field(&v, "log_z") - (12.785523325714 + 9.6)).abs() < 1e-9, "{v}");
    let exact = json(&["exact", "--model", "potts:3:3x3:open", "--beta", "0.8", "--json"]);
    assert_eq!(exact["n_states"].as_u64(), Some(19683));
    let u = field(&exact, "mean_energy_per_unit");
    for sampler in ["gibbs", "block-gibbs", "metropolis", "metropolis-random", "tempering"] {
        let s = json(&[
            "sample",
            "--model",
            "potts:3:3x3:open",
            "--beta",
            "0.8",
            "--sampler",
            sampler,
            "--n-chains",
            "8",
            "--n-sweeps",
            "4000",
            "--json",
        ]);
        let e = &s["energy_per_unit"];
        let (mean, se) = (field(e, "mean"), field(e, "std_err"));
        assert!((mean - u).abs() < 5.0 * se + 1e-3, "{sampler}: {mean} ± {se} vs {u}");
        assert!(s.get("abs_magnetization").is_none(), "Potts has no magnetization: {s}");
        let order = field(&s["order_parameter"], "mean");
        assert!((0.0..=1.0).contains(&order), "{s}");
    }
    let l = json(&["logz", "--model", "potts:3:3x3:open", "--beta", "0.8", "--json"]);
    let (lz, lo, hi) = (field(&l, "log_z"), field(&l, "lower"), field(&l, "upper"));
    let x = field(&l, "exact_log_z");
    assert!((x - field(&exact, "log_z")).abs() < 1e-12 && lo <= x && x <= hi, "{l}: {lz}");
    for bad in [
        ["exact", "--model", "potts:1:4", "--beta", "1"],
        ["exact", "--model", "potts:q:4", "--beta", "1"],
    ] {
        let out = ebm(&bad);
        assert!(!out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1, "{bad:?}");
    }
}

#[test]
fn potts_rbm_trains_on_an_alignment_and_eval_reads_it() {
    // a small synthetic alignment: 60 sequences of 6 residues, two families
    let dir = temp_dir("potts-rbm");
    let fasta = dir.join("toy.fasta");
    let mut text = String::new();
    for s in 0..60u32 {
        let base = if s % 2 == 0 { "ACDEFG" } else { "WYWY-K" };
        let mut seq: Vec<char> = base.chars().collect();
        seq[(s as usize * 7) % 6] = ['A', 'C', '-'][(s % 3) as usize];
        text.push_str(&format!(">>S{s}\n{}\n", seq.iter().collect::<String>()));
    }
    std::fs::write(&fasta, text).unwrap();
    let data = format!("msa:{}", fasta.display());
    let out = dir.join("toy.safetensors");
    let o = out.to_str().unwrap();
    let lines = ebm(&[
        "train",
        "--model",
        "potts-rbm",
        "--data",
        &data,
        "--n-hidden",
        "4",
        "--epochs",
        "3",
        "--batch-size",
        "10",
        "--n-chains",
        "20",
        "--reweight",
        "0.8",
        "--out",
        o,
        "--json",
    ]);
    assert!(lines.status.success(), "{}", String::from_utf8_lossy(&lines.stderr));
    let text = String::from_utf8(lines.stdout).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    let (exact, ais) =
        (field(&last, "exact_log_likelihood_test"), field(&last, "ais_log_likelihood_test"));
    assert!(
        field(&last, "ais_log_likelihood_test_lower") <= exact + 1e-9
            && exact <= field(&last, "ais_log_likelihood_test_upper") + 1e-9,
        "{last}"
    );
    assert!((exact - ais).abs() < 0.5, "{last}");
    assert_eq!(last["reweight"].as_f64(), Some(0.8));
    // eval: AIS beside the exact value (4 hidden units), same split
    let e = json(&[
        "eval",
        "--model",
        o,
        "--data",
        &data,
        "--ais-betas",
        "500",
        "--ais-runs",
        "32",
        "--json",
    ]);
    let x = field(&e, "exact_mean_log_likelihood");
    assert!(
        field(&e, "mean_log_likelihood_lower") <= x && x <= field(&e, "mean_log_likelihood_upper"),
        "{e}"
    );
    assert!(field(&e, "independent_site_log_likelihood").is_finite());
    // bad input: a missing file, --reweight on a binary RBM
    let missing =
        ebm(&["train", "--model", "potts-rbm", "--data", "msa:/nonexistent.fasta", "--out", o]);
    assert!(!missing.status.success());
    assert_eq!(String::from_utf8_lossy(&missing.stderr).lines().count(), 1);
    let wrong = ebm(&["train", "--data", "bars-and-stripes:3", "--reweight", "0.8", "--out", o]);
    assert!(!wrong.status.success());
    std::fs::remove_dir_all(&dir).ok();
}

/// IDX files of `count` 8×8 images: two blurred bars with pixel noise.
fn write_real_images(dir: &std::path::Path, prefix: &str, count: u32) {
    use std::io::Write;
    let gz = |bytes: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    };
    let mut images = vec![0, 0, 8, 3];
    images.extend(count.to_be_bytes());
    images.extend([0, 0, 0, 8, 0, 0, 0, 8]);
    let mut labels = vec![0, 0, 8, 1];
    labels.extend(count.to_be_bytes());
    let mut state = 12345u32;
    for k in 0..count {
        for p in 0..64u32 {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let (r, c) = (p / 8, p % 8);
            let on = if k % 2 == 0 { (3..5).contains(&r) } else { (3..5).contains(&c) };
            let noise = (state >> 24) % 60;
            images.push(if on { 190 + noise as u8 } else { noise as u8 });
        }
        labels.push((k % 2) as u8);
    }
    std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte.gz")), gz(&images)).unwrap();
    std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte.gz")), gz(&labels)).unwrap();
}

#[test]
fn gbrbm_trains_on_real_images_eval_brackets_the_exact_value_and_resume_is_bit_exact() {
    let dir = temp_dir("gbrbm");
    write_real_images(&dir, "train", 400);
    write_real_images(&dir, "t10k", 100);
    let data = format!("mnist-real:{}", dir.display());
    let out = dir.join("gb.safetensors");
    let o = out.to_str().unwrap();
    let png = dir.join("png");
    let args = |epochs: &str, extra: &[&str]| {
        let mut v: Vec<String> = [
            "train",
            "--model",
            "gbrbm",
            "--data",
            &data,
            "--n-hidden",
            "6",
            "--trainer",
            "pcd",
            "--n-chains",
            "20",
            "--batch-size",
            "20",
            "--learning-rate",
            "0.01",
            "--epochs",
            epochs,
            "--json",
            "--out",
            o,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |a: Vec<String>| {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        let r = ebm(&refs);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        String::from_utf8(r.stdout).unwrap()
    };
    let text = run(args("3", &["--png-dir", png.to_str().unwrap()]));
    assert_eq!(text.lines().count(), 3, "{text}");
    let lines: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (first, last) = (&lines[0], &lines[2]);
    assert!(
        field(last, "exact_log_likelihood_test") > field(first, "exact_log_likelihood_test"),
        "learning raises the exact test log-density: {first} → {last}"
    );
    assert!(field(last, "recon_error_test") < field(first, "recon_error_test"), "{last}");
    for name in ["filters.png", "samples.png"] {
        assert!(std::fs::metadata(png.join(name)).unwrap().len() > 100, "{name}");
    }
    let full = std::fs::read(&out).unwrap();
    // eval: AIS from the Gaussian base brackets the exact value
    let e = json(&[
        "eval",
        "--model",
        o,
        "--data",
        &data,
        "--ais-betas",
        "500",
        "--ais-runs",
        "32",
        "--json",
    ]);
    let x = field(&e, "exact_mean_log_likelihood");
    assert!(
        field(&e, "mean_log_likelihood_lower") <= x && x <= field(&e, "mean_log_likelihood_upper"),
        "{e}"
    );
    assert!((x - field(last, "exact_log_likelihood_test")).abs() < 1e-9, "{e} vs {last}");
    // two epochs, then resume to three: the same file, byte for byte
    run(args("2", &[]));
    run(args("3", &["--resume"]));
    assert_eq!(std::fs::read(&out).unwrap(), full, "resume equals an uninterrupted run");
    // bad input: binary data for a GB-RBM, a GB-RBM where a finite model is needed
    for bad in [
        vec!["train", "--model", "gbrbm", "--data", "bars-and-stripes:3", "--out", o],
        vec!["exact", "--model", o, "--beta", "1"],
    ] {
        let r = ebm(&bad);
        assert!(!r.status.success());
        let err = String::from_utf8(r.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.starts_with("ebm: error:"), "{err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn xy_sample_agrees_with_the_bessel_chain_for_every_continuous_sampler() {
    let exact = ebm_testkit::bessel::xy_ring_mean_energy(32, 1.0, 1.0) / 32.0;
    for sampler in ["gibbs", "overrelaxation", "metropolis", "hmc", "tempering"] {
        let v = json(&[
            "sample",
            "--model",
            "xy:32",
            "--beta",
            "1",
            "--sampler",
            sampler,
            "--n-chains",
            "4",
            "--n-sweeps",
            "2000",
            "--json",
            "--quiet",
        ]);
        let e = &v["energy_per_unit"];
        let z = (field(e, "mean") - exact) / field(e, "std_err");
        assert!(z.abs() < 5.0, "{sampler}: {v} vs exact {exact}");
        assert!(field(&v, "helicity_modulus_std_err") > 0.0, "{v}");
    }
    // the negative control: the exact value at another β is excluded
    let v = json(&["sample", "--model", "xy:32", "--beta", "1.3", "--json", "--quiet"]);
    let e = &v["energy_per_unit"];
    assert!(((field(e, "mean") - exact) / field(e, "std_err")).abs() > 5.0, "{v}");
    // a picture, and bad specs as one-line errors
    let dir = temp_dir("xy");
    let png = dir.join("xy.png");
    let o = ebm(&[
        "sample",
        "--model",
        "xy:16x16",
        "--beta",
        "1",
        "--n-sweeps",
        "50",
        "--png",
        png.to_str().unwrap(),
    ]);
    assert!(o.status.success() && std::fs::metadata(&png).unwrap().len() > 100);
    for bad in [["xy:", "1"], ["xy:8x", "1"], ["xy:8:twisted", "1"], ["ising:8", "1"]] {
        let mut args = vec!["sample", "--model", bad[0], "--beta", bad[1]];
        if bad[0] == "ising:8" {
            args.extend(["--sampler", "hmc"]);
        }
        let r = ebm(&args);
        assert!(!r.status.success(), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&r.stderr).trim_end().lines().count(), 1);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn saves_refuse_devices_fifos_links_and_the_input_files() {
    let dir = temp_dir("targets");
    let one_line_failure = |args: &[&str], needle: &str| {
        let r = ebm(args);
        assert!(!r.status.success(), "{args:?} must fail");
        let err = String::from_utf8(r.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    };
    let train = |out: &str, data: &str| {
        vec![
            "train".to_string(),
            "--data".into(),
            data.into(),
            "--n-hidden".into(),
            "4".into(),
            "--epochs".into(),
            "1".into(),
            "--out".into(),
            out.into(),
        ]
    };
    let run = |v: Vec<String>, needle: &str| {
        let args: Vec<&str> = v.iter().map(String::as_str).collect();
        one_line_failure(&args, needle);
    };
    // a device: /dev/null stays a character device
    run(train("/dev/null", "bars-and-stripes:3"), "not a regular file");
    assert!(!std::fs::metadata("/dev/null").unwrap().is_file());
    // a FIFO and a symbolic link
    let fifo = dir.join("fifo");
    if std::process::Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success()) {
        run(train(fifo.to_str().unwrap(), "bars-and-stripes:3"), "not a regular file");
        assert!(!std::fs::symlink_metadata(&fifo).unwrap().is_file());
    }
    let target = dir.join("kept.safetensors");
    std::fs::write(&target, b"precious").unwrap();
    let link = dir.join("link.safetensors");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    run(train(link.to_str().unwrap(), "bars-and-stripes:3"), "symbolic link");
    assert_eq!(std::fs::read(&target).unwrap(), b"precious");
    // the input itself, by name and by a hard link, for MNIST and an alignment
    let mnist = dir.join("mnist");
    std::fs::create_dir_all(&mnist).unwrap();
    write_real_images(&mnist, "train", 20);
    write_real_images(&mnist, "t10k", 10);
    let images = mnist.join("train-images-idx3-ubyte.gz");
    let before = std::fs::read(&images).unwrap();
    let data = format!("mnist:{}", mnist.display());
    run(train(images.to_str().unwrap(), &data), "refusing to overwrite an input");
    let hard = dir.join("alias.safetensors");
    std::fs::hard_link(&images, &hard).unwrap();
    run(train(hard.to_str().unwrap(), &data), "refusing to overwrite an input");
    assert_eq!(std::fs::read(&images).unwrap(), before, "the data set is intact");
    let fasta = dir.join("toy.fasta");
    std::fs::write(&fasta, ">a\nACDE\n>b\nACDF\n>c\nWCDE\n>d\nACYE\n>e\nACDE\n").unwrap();
    let mut v = train(fasta.to_str().unwrap(), &format!("msa:{}", fasta.display()));
    v.extend(["--model".into(), "potts-rbm".into()]);
    run(v, "refusing to overwrite an input");
    assert!(std::fs::read_to_string(&fasta).unwrap().starts_with(">a"));
    // a PNG path that is a directory: refused, the directory kept
    let png_dir = dir.join("as-dir.png");
    std::fs::create_dir_all(&png_dir).unwrap();
    one_line_failure(
        &[
            "sample",
            "--model",
            "ising:8x8",
            "--beta",
            "0.4",
            "--n-sweeps",
            "10",
            "--png",
            png_dir.to_str().unwrap(),
        ],
        "is a directory",
    );
    assert!(png_dir.is_dir());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn huge_lattices_forged_images_and_endless_model_files_are_one_line_errors() {
    let one_line = |args: &[&str], needle: &str| {
        let r = ebm(args);
        assert!(!r.status.success(), "{args:?}");
        let err = String::from_utf8(r.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(needle) && !err.contains("panicked"), "{args:?}: {err}");
    };
    // 3.6·10⁹ sites: refused before any allocation
    one_line(&["exact", "--model", "ising:60000x60000", "--beta", "0.4"], "too many units");
    one_line(&["sample", "--model", "xy:60000x60000", "--beta", "0.4"], "too many units");
    // the 16-byte IDX header of 0 images with forged sides
    let dir = temp_dir("forged");
    use std::io::Write;
    let gz = |bytes: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    };
    let images = [0, 0, 8, 3, 0, 0, 0, 0, 3, 2, 0x2b, 0, 0xff, 0xff, 2, 0x3b];
    for split in ["train", "t10k"] {
        std::fs::write(dir.join(format!("{split}-images-idx3-ubyte.gz")), gz(&images)).unwrap();
        std::fs::write(
            dir.join(format!("{split}-labels-idx1-ubyte.gz")),
            gz(&[0, 0, 8, 1, 0, 0, 0, 0]),
        )
        .unwrap();
    }
    let out = dir.join("m.safetensors");
    for data in ["mnist", "mnist-real"] {
        let spec = format!("{data}:{}", dir.display());
        let model = if data == "mnist" { "rbm" } else { "gbrbm" };
        one_line(
            &[
                "train",
                "--model",
                model,
                "--data",
                &spec,
                "--epochs",
                "1",
                "--out",
                out.to_str().unwrap(),
            ],
            "at most",
        );
    }
    // /dev/zero as a model file: refused at once, not read to its end
    if std::path::Path::new("/dev/zero").exists() {
        one_line(&["eval", "--model", "/dev/zero"], "not a regular file");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn count_flags_are_bounded_and_negative_or_zero_counts_get_the_range_message() {
    let cases: &[&[&str]] = &[
        &["sample", "--model", "ising:8", "--beta", "1", "--n-chains", "-1"],
        &["sample", "--model", "ising:8", "--beta", "1", "--n-chains", "1000000000"],
        &["sample", "--model", "ising:8", "--beta", "1", "--n-sweeps", "18446744073709551615"],
        &["sample", "--model", "ising:8", "--beta", "1", "--n-sweeps", "0"],
        &["sample", "--model", "ising:8", "--beta", "1", "--n-warmup", "18446744073709551615"],
        &["sample", "--model", "ising:8", "--beta", "1", "--n-replicas", "100000000"],
        &["logz", "--model", "ising:4x4", "--beta", "1", "--n-betas", "18446744073709551615"],
        &["logz", "--model", "ising:4x4", "--beta", "1", "--n-runs", "-3"],
        &["eval", "--model", "x.safetensors", "--ais-betas", "18446744073709551615"],
        &["eval", "--model", "x.safetensors", "--ais-runs", "1000000000000"],
        &["train", "--epochs", "0", "--out", "x.safetensors"],
        &["train", "--k", "18446744073709551615", "--out", "x.safetensors"],
        &["train", "--n-hidden", "1000000000000", "--out", "x.safetensors"],
        &["train", "--batch-size", "-5", "--out", "x.safetensors"],
    ];
    for args in cases {
        let r = ebm(args);
        assert!(!r.status.success(), "{args:?}");
        let err = String::from_utf8(r.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains("must be a whole number from"), "{args:?}: {err}");
    }
    // within the bounds, the product of chains and units is bounded too
    let r = ebm(&["sample", "--model", "ising:1024x1024", "--beta", "1", "--n-chains", "1000"]);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("units a run may hold"));
}

#[test]
fn resume_refuses_another_configuration_a_damaged_checkpoint_and_an_absurd_step() {
    let dir = temp_dir("resume-trust");
    let out = dir.join("m.safetensors");
    let o = out.to_str().unwrap();
    let base = [
        "train",
        "--data",
        "bars-and-stripes:3",
        "--n-hidden",
        "4",
        "--batch-size",
        "7",
        "--out",
        o,
    ];
    fn with<'a>(base: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
        let mut v: Vec<&str> = base.to_vec();
        v.extend_from_slice(extra);
        v
    }
    let ok = ebm(&with(&base, &["--epochs", "2", "--quiet"]));
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let refused = |extra: &[&str], needle: &str| {
        let r = ebm(&with(&base, extra));
        assert!(!r.status.success(), "{extra:?} was accepted");
        let err = String::from_utf8(r.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{extra:?}: {err}");
    };
    for (flag, value, field) in [
        ("--trainer", "cd", "trainer"),
        ("--k", "3", "k"),
        ("--n-chains", "50", "n_chains"),
        ("--learning-rate", "0.2", "learning_rate"),
        ("--seed", "9", "seed"),
        ("--momentum", "0.5", "momentum"),
    ] {
        refused(&["--epochs", "3", "--resume", flag, value], &format!("{field} was"));
    }
    // another batch size (it changes the batch order and the epoch length)
    let other: Vec<&str> = base.iter().map(|&a| if a == "7" { "5" } else { a }).collect();
    let r = ebm(&with(&other, &["--epochs", "3", "--resume"]));
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("batch_size was 7"), "{r:?}");
    // a flipped bit anywhere in the checkpoint
    let ckpt = dir.join("m.safetensors.ckpt");
    let good = std::fs::read(&ckpt).unwrap();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x10;
    std::fs::write(&ckpt, &bad).unwrap();
    refused(&["--epochs", "3", "--resume"], "checksum");
    // a step of 2^63 (re-checksummed, so only the step is wrong): refused
    let mut absurd = good.clone();
    let n_cfg = u64::from_le_bytes(absurd[8..16].try_into().unwrap()) as usize;
    let mut at = 16;
    for _ in 0..2 * n_cfg {
        let len = u64::from_le_bytes(absurd[at..at + 8].try_into().unwrap()) as usize;
        at += 8 + len;
    }
    absurd[at..at + 8].copy_from_slice(&(1u64 << 63).to_le_bytes());
    let body = absurd.len() - 4;
    let crc = crc32fast::hash(&absurd[..body]);
    absurd[body..].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&ckpt, &absurd).unwrap();
    refused(&["--epochs", "3", "--resume"], "not the end of one of this run's");
    // the intact checkpoint resumes
    std::fs::write(&ckpt, &good).unwrap();
    let r = ebm(&with(&base, &["--epochs", "3", "--resume", "--quiet"]));
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_diverging_learning_rate_is_reported_as_divergence() {
    let dir = temp_dir("diverge");
    let out = dir.join("m.safetensors");
    for trainer in ["pcd", "cd"] {
        let r = ebm(&[
            "train",
            "--data",
            "bars-and-stripes:3",
            "--n-hidden",
            "4",
            "--trainer",
            trainer,
            "--learning-rate",
            "1e300",
            "--epochs",
            "2",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(!r.status.success());
        let err = String::from_utf8(r.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains("diverged"), "{trainer}: {err}");
        assert!(!out.exists(), "no model from a diverged first epoch");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Whether this process ignores SIGHUP (Linux: bit 0 of `SigIgn` in
/// /proc/self/status; elsewhere taken as ignored, so only SIGTERM is sent).
fn sighup_ignored() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
        .is_none_or(|mask| mask & 1 == 1)
}

#[test]
fn sigterm_during_training_stops_after_the_step_and_leaves_loadable_files() {
    let dir = temp_dir("sigterm");
    for round in 0..3u64 {
        // each round its own files: the model checked is the one this
        // round's signal left
        let out = dir.join(format!("m{round}.safetensors"));
        // the last round runs under `nohup` (SIGHUP ignored), as long runs
        // are: the handler must still be installed
        let mut child = if round == 2 {
            let mut c = Command::new("nohup");
            c.arg(env!("CARGO_BIN_EXE_ebm"));
            c
        } else {
            Command::new(env!("CARGO_BIN_EXE_ebm"))
        };
        let mut child = child
            .args([
                "train",
                "--data",
                "bars-and-stripes:4",
                "--n-hidden",
                "32",
                "--epochs",
                "1000000",
                "--log-every",
                "1",
                "--quiet",
                "--out",
                out.to_str().unwrap(),
            ])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // training runs (its handler installed) once the first epoch line
        // is out, however loaded the machine; the rest of stdout is drained
        // so the child never blocks on a full pipe
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        loop {
            let mut line = String::new();
            let n = std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
            assert!(n > 0, "training ended without an epoch line");
            if line.starts_with("epoch") {
                break;
            }
        }
        let drain = std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        std::thread::sleep(std::time::Duration::from_millis(100 + 300 * round));
        // round 1 is a closed terminal's SIGHUP, the others SIGTERM; where
        // this test itself runs with SIGHUP ignored (under nohup: the child
        // inherits it and rightly keeps ignoring it), SIGTERM throughout
        let signal = if round == 1 && !sighup_ignored() { "-HUP" } else { "-TERM" };
        let killed = Command::new("kill").args([signal, &child.id().to_string()]).status();
        assert!(killed.is_ok_and(|s| s.success()));
        let r = child.wait_with_output().unwrap();
        drain.join().unwrap().unwrap();
        assert!(!r.status.success());
        let err = String::from_utf8(r.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "round {round}, {}: {err}", r.status);
        assert!(err.contains("interrupted by a signal"), "{err}");
        // the model on disk loads and evaluates; no temporary file is left
        let e = json(&[
            "eval",
            "--model",
            out.to_str().unwrap(),
            "--data",
            "bars-and-stripes:4",
            "--ais-betas",
            "10",
            "--ais-runs",
            "2",
            "--json",
        ]);
        assert!(field(&e, "mean_log_likelihood").is_finite());
        let stray = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .count();
        assert_eq!(stray, 0);
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// The bad-input catalogue: every subcommand and file type, each case a
/// non-zero exit with one line on stderr (no panic), and every file that
/// existed before untouched.
#[test]
fn bad_input_catalogue() {
    let dir = temp_dir("catalogue");
    let p = |name: &str| dir.join(name).to_str().unwrap().to_string();
    // files a user has: a model, its checkpoint, a picture, data
    let model = p("good.safetensors");
    let r = ebm(&[
        "train",
        "--data",
        "bars-and-stripes:3",
        "--n-hidden",
        "4",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        &model,
    ]);
    assert!(r.status.success());
    let png = p("good.png");
    assert!(
        ebm(&[
            "sample",
            "--model",
            "ising:8x8",
            "--beta",
            "0.4",
            "--n-sweeps",
            "10",
            "--png",
            &png,
            "--quiet"
        ])
        .status
        .success()
    );
    let corrupt = p("corrupt.safetensors");
    std::fs::write(&corrupt, b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all").unwrap();
    let empty = p("empty.safetensors");
    std::fs::write(&empty, b"").unwrap();
    let text = p("notes.txt");
    std::fs::write(&text, b"just text\n").unwrap();
    let fasta_bad = p("bad.fasta");
    std::fs::write(&fasta_bad, b">a\nACDE\n>b\nAC\n").unwrap(); // unequal lengths
    let sub = p("subdir");
    std::fs::create_dir_all(&sub).unwrap();
    let snapshot = || -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|e| e.path().is_file())
            .map(|e| {
                (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap())
            })
            .collect();
        v.sort();
        v
    };
    let before = snapshot();
    let out = p("new.safetensors");
    let mnist_missing = format!("mnist:{}", p("no-such-dir"));
    let msa_bad = format!("msa:{fasta_bad}");
    let missing = p("missing.safetensors");
    let cases: Vec<Vec<&str>> = vec![
        // exact
        vec!["exact", "--model", "ising:4x4"],
        vec!["exact", "--model", "ising:4x4", "--beta", "nan"],
        vec!["exact", "--model", "ising:4x4", "--beta", "-1"],
        vec!["exact", "--model", "ising:4x4", "--beta", "inf"],
        vec!["exact", "--model", "ising:8x8", "--beta", "1"],
        vec!["exact", "--model", "ising:0", "--beta", "1"],
        vec!["exact", "--model", "ising:1", "--beta", "1"],
        vec!["exact", "--model", "ising:2x2x2x2", "--beta", "1"],
        vec!["exact", "--model", "ising:4:twisted", "--beta", "1"],
        vec!["exact", "--model", "ising:4x", "--beta", "1"],
        vec!["exact", "--model", "potts:1:4", "--beta", "1"],
        vec!["exact", "--model", "potts:300:4", "--beta", "1"],
        vec!["exact", "--model", "potts:x:4", "--beta", "1"],
        vec!["exact", "--model", "spin-glass:4", "--beta", "1"],
        vec!["exact", "--model", &corrupt, "--beta", "1"],
        vec!["exact", "--model", &empty, "--beta", "1"],
        vec!["exact", "--model", &text, "--beta", "1"],
        vec!["exact", "--model", "ising:4x4", "--beta", "1", "--coupling", "nan"],
        // sample
        vec!["sample", "--model", "ising:8", "--beta", "1", "--sampler", "bogus"],
        vec!["sample", "--model", "ising:8", "--beta", "1", "--n-chains", "0"],
        vec!["sample", "--model", "ising:8", "--beta", "1", "--n-chains", "-1"],
        vec!["sample", "--model", "ising:8", "--beta", "1", "--n-sweeps", "0"],
        vec![
            "sample",
            "--model",
            "ising:8",
            "--beta",
            "1",
            "--n-replicas",
            "1",
            "--sampler",
            "tempering",
        ],
        vec!["sample", "--model", "ising:8", "--beta", "1", "--sampler", "hmc"],
        vec!["sample", "--model", "ising:8", "--beta", "1", "--png", &sub],
        vec!["sample", "--model", "ising:8", "--beta", "1", "--png", "/dev/null"],
        vec!["sample", "--model", "ising:1024x1024", "--beta", "1", "--n-chains", "1000"],
        vec!["sample", "--model", "xy:0", "--beta", "1"],
        vec!["sample", "--model", "xy:8", "--beta", "0"],
        vec!["sample", "--model", &model, "--beta", "1", "--n-warmup", "-5"],
        // logz
        vec!["logz", "--model", "ising:4x4", "--beta", "1", "--method", "bogus"],
        vec!["logz", "--model", "ising:4x4", "--beta", "1", "--n-betas", "0"],
        vec!["logz", "--model", "ising:4x4", "--beta", "1", "--n-runs", "0"],
        vec!["logz", "--model", "ising:4x4", "--beta", "-2"],
        vec!["logz", "--model", &corrupt, "--beta", "1"],
        // train
        vec!["train", "--model", "bogus", "--out", &out],
        vec!["train", "--data", "bogus:3", "--out", &out],
        vec!["train", "--data", &mnist_missing, "--out", &out],
        vec!["train", "--data", "bars-and-stripes:0", "--out", &out],
        vec!["train", "--data", "bars-and-stripes:x", "--out", &out],
        vec!["train", "--data", "bars-and-stripes:3", "--epochs", "0", "--out", &out],
        vec!["train", "--data", "bars-and-stripes:3", "--k", "0", "--out", &out],
        vec!["train", "--data", "bars-and-stripes:3", "--batch-size", "0", "--out", &out],
        vec!["train", "--data", "bars-and-stripes:3", "--n-hidden", "0", "--out", &out],
        vec!["train", "--data", "bars-and-stripes:3", "--learning-rate", "nan", "--out", &out],
        vec!["train", "--data", "bars-and-stripes:3", "--learning-rate", "-1", "--out", &out],
        vec!["train", "--data", "bars-and-stripes:3", "--momentum", "1.5", "--out", &out],
        vec!["train", "--data", "bars-and-stripes:3", "--clip-norm", "-1", "--out", &out],
        vec!["train", "--data", "bars-and-stripes:3", "--momentum", "0.5:0.9", "--out", &out],
        vec!["train", "--data", "bars-and-stripes:3", "--lr-schedule", "linear", "--out", &out],
        vec!["train", "--data", "bars-and-stripes:3", "--lr-schedule", "inverse:0", "--out", &out],
        vec!["train", "--data", "bars-and-stripes:3", "--binarize", "round", "--out", &out],
        vec!["train", "--data", "bars-and-stripes:3", "--binarize", "threshold:2", "--out", &out],
        vec!["train", "--data", "bars-and-stripes:3", "--sampler", "wolff", "--out", &out],
        vec!["train", "--data", "bars-and-stripes:3", "--betas", "0.5,0.9", "--out", &out],
        vec![
            "train",
            "--data",
            "bars-and-stripes:3",
            "--sampler",
            "tempering",
            "--beta-min",
            "0",
            "--out",
            &out,
        ],
        vec!["train", "--data", "bars-and-stripes:3", "--centring", "2", "--out", &out],
        vec!["train", "--data", "bars-and-stripes:3", "--centring", "nan", "--out", &out],
        vec!["train", "--data", &mnist_missing, "--binarize", "threshold", "--out", &out],
        vec!["train", "--data", "fashion:/nonexistent", "--out", &out],
        vec!["train", "--data", "bars-and-stripes:3", "--weight-decay", "-1", "--out", &out],
        vec!["train", "--data", "bars-and-stripes:3", "--out", "/dev/null"],
        vec!["train", "--data", "bars-and-stripes:3", "--out", &sub],
        vec!["train", "--data", "bars-and-stripes:3", "--reweight", "0.8", "--out", &out],
        vec!["train", "--data", "bars-and-stripes:3", "--resume", "--out", &out],
        vec!["train", "--model", "potts-rbm", "--data", "bars-and-stripes:3", "--out", &out],
        vec!["train", "--model", "potts-rbm", "--data", &msa_bad, "--out", &out],
        vec!["train", "--model", "gbrbm", "--data", "bars-and-stripes:3", "--out", &out],
        vec!["train", "--data", "bars-and-stripes:3"],
        // eval
        vec!["eval", "--model", &missing],
        vec!["eval", "--model", &corrupt],
        vec!["eval", "--model", &empty],
        vec!["eval", "--model", "/dev/zero"],
        vec!["eval", "--model", &model, "--data", "bars-and-stripes:4"],
        vec!["eval", "--model", &model, "--data", "bars-and-stripes:3", "--split", "bogus"],
        vec!["eval", "--model", &model, "--data", "bars-and-stripes:3", "--ais-betas", "0"],
        vec!["eval", "--model", &model, "--data", "bars-and-stripes:3", "--ais-runs", "0"],
        vec!["eval", "--model", &model, "--data", "bars-and-stripes:3", "--raise-runs", "0"],
        vec!["eval", "--model", &model, "--data", "bars-and-stripes:3", "--raise-points", "-1"],
        vec!["eval", "--model", &model, "--data", "bars-and-stripes:3", "--binarize", "x"],
        // demo and the command line itself
        vec!["demo", "--json"],
        vec!["bogus-command"],
        vec!["exact", "--model", "ising:4", "--beta", "1", "--seed", "-1"],
    ];
    assert!(cases.len() >= 60, "{} cases", cases.len());
    for args in &cases {
        let r = ebm(args);
        assert!(!r.status.success(), "{args:?} succeeded");
        let err = String::from_utf8(r.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("ebm: ") && !err.contains("panicked"), "{args:?}: {err}");
    }
    let after = snapshot();
    for (name, bytes) in &before {
        let now = after.iter().find(|(n, _)| n == name).map(|(_, b)| b);
        assert!(now == Some(bytes), "a bad command changed or removed {name}");
    }
    let new: Vec<&String> =
        after.iter().map(|(n, _)| n).filter(|n| !before.iter().any(|(b, _)| b == *n)).collect();
    assert!(new.is_empty(), "bad commands left new files: {new:?}");
    assert!(!std::path::Path::new(&out).exists());
    assert!(std::fs::metadata("/dev/null").is_ok_and(|m| !m.is_file()));
    std::fs::remove_dir_all(&dir).ok();
}

/// `--sampler wolff` and `--sampler swendsen-wang` on the 4×4 torus at
/// β = 0.44: energy and heat capacity per unit within 4σ of enumeration,
/// every finite-size-scaling field present with a finite error; a model
/// without a pair form is a one-line error.
#[test]
fn cluster_samplers_report_the_critical_observables_and_agree_with_exact() {
    let exact = json(&["exact", "--model", "ising:4x4", "--beta", "0.44", "--json"]);
    for sampler in ["wolff", "swendsen-wang", "sw"] {
        let v = json(&[
            "sample",
            "--model",
            "ising:4x4",
            "--beta",
            "0.44",
            "--sampler",
            sampler,
            "--n-chains",
            "4",
            "--n-sweeps",
            "20000",
            "--n-warmup",
            "100",
            "--json",
            "--seed",
            "5",
        ]);
        for (k, exact_k) in [
            ("energy_per_unit", "mean_energy_per_unit"),
            ("heat_capacity_per_unit", "heat_capacity_per_unit"),
        ] {
            let (mean, se) = (v[k]["mean"].as_f64().unwrap(), v[k]["std_err"].as_f64().unwrap());
            let want = field(&exact, exact_k);
            assert!(
                (mean - want).abs() < 4.0 * se && se > 0.0,
                "{sampler} {k}: {mean} ± {se} vs {want}"
            );
        }
        for k in [
            "magnetization_sq",
            "magnetization_4",
            "binder",
            "susceptibility",
            "susceptibility_full",
            "correlation_length",
        ] {
            assert!(
                v[k]["std_err"].as_f64().is_some_and(|e| e.is_finite() && e > 0.0),
                "{sampler} {k}: {v}"
            );
        }
        assert_eq!(v["path"], "cluster");
        assert!(field(&v, "mean_cluster_size") >= 1.0);
        // each chain on its own agrees with the exact energy, and the pooled
        // mean is (up to the jackknife's whole blocks) the chains' mean
        let chains = v["per_chain"].as_array().unwrap();
        assert_eq!(chains.len(), 4, "{v}");
        let want = field(&exact, "mean_energy_per_unit");
        let mut pooled = 0.0;
        for c in chains {
            let (mean, se) =
                (field(&c["energy_per_unit"], "mean"), field(&c["energy_per_unit"], "std_err"));
            assert!(
                (mean - want).abs() < 5.0 * se && se > 0.0,
                "{sampler} chain: {mean} ± {se} vs {want}"
            );
            assert!(c["binder"]["std_err"].as_f64().unwrap() > 0.0);
            pooled += mean / 4.0;
        }
        // (each chain's jackknife uses whole blocks only: a few samples less)
        let (m, se) =
            (field(&v["energy_per_unit"], "mean"), field(&v["energy_per_unit"], "std_err"));
        assert!((pooled - m).abs() < 0.5 * se, "{pooled} vs {m} ± {se}");
    }
    let out = ebm(&["sample", "--model", "ising:4x4", "--beta", "1", "--sampler", "hmc"]);
    assert!(!out.status.success());
    let xy = ebm(&["sample", "--model", "xy:8", "--beta", "1", "--sampler", "wolff"]);
    assert!(!xy.status.success());
    assert_eq!(String::from_utf8_lossy(&xy.stderr).lines().count(), 1);
}

/// `ebm scan`: one JSON line per (model, β) point; a rerun skips finished
/// points and reruns a torn one; a job array (--job K --jobs 2) gives the
/// same numbers as the single run; the Binder crossings and charts appear.
#[test]
fn scan_points_are_independent_resumable_jobs() {
    let dir = temp_dir("scan");
    let out = dir.join("scan.jsonl");
    let args = |out: &std::path::Path, extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "scan",
            "--model",
            "ising:4x4,ising:6x6",
            "--beta",
            "0.3:0.5:3",
            "--sampler",
            "sw",
            "--n-sweeps",
            "300",
            "--n-warmup",
            "20",
            "--n-chains",
            "2",
            "--json",
            "--seed",
            "9",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(["--out".to_string(), out.display().to_string()]);
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |a: Vec<String>| json(&a.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    let png = dir.join("png");
    let first = run(args(&out, &["--png-dir", png.to_str().unwrap()]));
    assert_eq!(first["run"], 6, "{first}");
    assert!(png.join("binder.png").exists());
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 6);
    let again = run(args(&out, &[]));
    assert_eq!((again["run"].as_u64(), again["skipped"].as_u64()), (Some(0), Some(6)));
    // a torn last line (a kill during the write) is dropped and rerun
    let mut torn: String = text.lines().take(5).map(|l| format!("{l}\n")).collect();
    torn.push_str(&text.lines().nth(5).unwrap()[..20]);
    std::fs::write(&out, torn).unwrap();
    assert_eq!(run(args(&out, &[]))["run"], 1);
    // a two-job array gives the same numbers
    let energies = |path: &std::path::Path| {
        let mut e: Vec<(String, String)> = std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (format!("{}@{}", v["model"], v["beta"]), v["energy_per_unit"].to_string())
            })
            .collect();
        e.sort();
        e
    };
    let (a, b) = (dir.join("job0.jsonl"), dir.join("job1.jsonl"));
    assert_eq!(run(args(&a, &["--job", "0", "--jobs", "2"]))["run"], 3);
    assert_eq!(run(args(&b, &["--job", "1", "--jobs", "2"]))["run"], 3);
    let mut split = energies(&a);
    split.extend(energies(&b));
    split.sort();
    assert_eq!(split, energies(&out));
    // bad grids and job indices are one-line errors
    for bad in
        [&["--beta", "0.5:0.3:3"][..], &["--beta", "0.3:0.5"], &["--job", "2", "--jobs", "2"]]
    {
        let mut a = args(&dir.join("bad.jsonl"), &[]);
        a.extend(bad.iter().map(|s| s.to_string()));
        let o = ebm(&a.iter().map(|s| s.as_str()).collect::<Vec<_>>());
        assert!(
            !o.status.success() && String::from_utf8_lossy(&o.stderr).lines().count() == 1,
            "{bad:?}"
        );
    }
}

/// `--sampler houdayer` on a spin glass: the energy of a 6-spin ±J glass
/// within 4σ of enumeration, the overlap observables present and sane, the
/// disorder seed reproducible; `ebm scan` runs it and reads the overlap's
/// Binder ratio.
#[test]
fn houdayer_samples_a_spin_glass_and_reports_the_overlap() {
    let exact = json(&["exact", "--model", "glass:2x3:open", "--beta", "1.2", "--json"]);
    let run = |model: &str| {
        json(&[
            "sample",
            "--model",
            model,
            "--beta",
            "1.2",
            "--sampler",
            "houdayer",
            "--n-replicas",
            "4",
            "--n-chains",
            "4",
            "--n-sweeps",
            "20000",
            "--json",
            "--seed",
            "3",
        ])
    };
    let v = run("glass:2x3:open");
    let (mean, se) =
        (field(&v["energy_per_unit"], "mean"), field(&v["energy_per_unit"], "std_err"));
    let want = field(&exact, "mean_energy_per_unit");
    assert!((mean - want).abs() < 4.0 * se && se > 0.0, "{mean} ± {se} vs {want}");
    for k in [
        "overlap_abs",
        "overlap_sq",
        "overlap_4",
        "binder_overlap",
        "sg_susceptibility",
        "link_overlap",
    ] {
        let m = v[k]["mean"].as_f64().unwrap_or_else(|| panic!("{k} in {v}"));
        assert!(m.is_finite() && v[k]["std_err"].as_f64().unwrap() > 0.0, "{k}: {v}");
    }
    let q2 = v["overlap_sq"]["mean"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&q2));
    assert!(field(&v, "round_trips_per_1000_sweeps") > 0.0);
    assert!(field(&v, "mean_cluster_size") >= 1.0);
    assert_eq!(v["swap_rates"].as_array().unwrap().len(), 3);
    // another disorder seed is another glass (Gaussian couplings: ±J
    // glasses with the same frustrated plaquettes share Z by gauge symmetry)
    let z = |m: &str| field(&json(&["exact", "--model", m, "--beta", "1.2", "--json"]), "log_z");
    assert_ne!(z("glass:2x3:open:gauss:disorder=2"), z("glass:2x3:open:gauss"));
    assert_eq!(z("glass:2x3:open:gauss:disorder=1"), z("glass:2x3:open:gauss"));
    // a rerun with the same seed gives the same numbers (timings aside)
    let mut again = run("glass:2x3:open");
    for k in ["seconds", "sweep_seconds", "ns_per_attempt"] {
        again[k] = v[k].clone();
    }
    assert_eq!(again, v);

    let dir = temp_dir("glass-scan");
    let out = dir.join("g.jsonl");
    let s = json(&[
        "scan",
        "--model",
        "glass:4x4:gauss,glass:5x5:gauss",
        "--beta",
        "0.8:1.2:2",
        "--sampler",
        "houdayer",
        "--n-sweeps",
        "200",
        "--n-warmup",
        "20",
        "--n-chains",
        "2",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(s["run"].as_u64(), Some(4), "{s}");
    let lines = std::fs::read_to_string(&out).unwrap();
    assert_eq!(lines.lines().count(), 4);
    assert!(lines.lines().all(|l| l.contains("binder_overlap")));
}

/// The MNIST files: `$EBM_MNIST_DIR`, else the shared data folder beside
/// the project; `None` (the test skips) when they are absent.
fn mnist_dir() -> Option<String> {
    let dir = match std::env::var_os("EBM_MNIST_DIR") {
        Some(d) => std::path::PathBuf::from(d),
        None => {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist")
        }
    };
    dir.join("train-images-idx3-ubyte.gz").exists().then(|| dir.to_str().unwrap().to_string())
}

/// Issue 14's exact check: a 784×20 RBM trained on MNIST (one epoch of
/// plain PCD-1), evaluated on the 10,000 test images by forward AIS (14,500
/// β × 50 runs), RAISE (200 points) and exact enumeration of the 2^20 hidden
/// states: the exact mean log-likelihood lies in both intervals. Skips
/// without the MNIST files.
#[test]
fn mnist_784x20_forward_ais_raise_and_exact_agree() {
    let Some(dir) = mnist_dir() else {
        eprintln!("skipped: no MNIST files (set EBM_MNIST_DIR)");
        return;
    };
    let tmp = temp_dir("mnist20");
    let model = tmp.join("m20.safetensors");
    let (data, m) = (format!("mnist:{dir}"), model.to_str().unwrap().to_string());
    let o = ebm(&[
        "train",
        "--data",
        &data,
        "--n-hidden",
        "20",
        "--epochs",
        "1",
        "--k",
        "1",
        "--centring",
        "0",
        "--out",
        &m,
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&[
        "eval",
        "--model",
        &m,
        "--data",
        &data,
        "--ais-runs",
        "50",
        "--raise-points",
        "200",
        "--json",
        "--quiet",
    ]);
    let exact = field(&v, "exact_mean_log_likelihood");
    eprintln!(
        "784×20: exact {exact:.4}, forward AIS {:.4} [{:.4}, {:.4}], RAISE {:.4} [{:.4}, {:.4}]",
        field(&v, "mean_log_likelihood"),
        field(&v, "mean_log_likelihood_lower"),
        field(&v, "mean_log_likelihood_upper"),
        field(&v, "mean_log_likelihood_conservative"),
        field(&v, "mean_log_likelihood_conservative_lower"),
        field(&v, "mean_log_likelihood_conservative_upper"),
    );
    assert_eq!(v["n_examples"].as_u64(), Some(10_000));
    for side in ["mean_log_likelihood", "mean_log_likelihood_conservative"] {
        let (lo, hi) = (field(&v, &format!("{side}_lower")), field(&v, &format!("{side}_upper")));
        assert!(lo <= exact && exact <= hi, "{side}: [{lo}, {hi}] vs exact {exact}");
    }
    std::fs::remove_dir_all(&tmp).ok();
}
