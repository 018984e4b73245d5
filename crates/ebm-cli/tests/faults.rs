//! Fault campaigns through the `ebm` binary: kill -9 at random moments of
//! training (every trainer and sampler kind, tempering included), and a full
//! disk. What must hold: the model on disk always loads; no temporary file
//! is left that a later run trips over; resuming a killed run gives the
//! uninterrupted run's files byte for byte; a write that finds the disk full
//! fails with one line and leaves every file that was there (PNGs included)
//! as it was.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use support::ebm;

fn temp_dir(tag: &str) -> PathBuf {
    support::temp_dir(&format!("faults-{tag}"))
}

fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

/// The training arguments of one configuration, writing `out`.
fn train_args(extra: &[&str], epochs: &str, out: &Path) -> Vec<String> {
    let mut a: Vec<String> = [
        "train",
        "--data",
        "bars-and-stripes:3",
        "--n-hidden",
        "8",
        "--checkpoint-every",
        "1",
        "--log-every",
        "1",
        "--seed",
        "7",
        "--quiet",
        "--json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.extend(extra.iter().map(|s| s.to_string()));
    a.extend(["--epochs".into(), epochs.into(), "--out".into(), out.display().to_string()]);
    a
}

fn run(args: &[String]) -> Output {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ebm(&refs)
}

/// 30 kills in all: 5 for each trainer and negative-phase sampler (PCD and
/// CD with the RBM kernel; PCD with sequential Gibbs, block and random-scan
/// Metropolis, parallel tempering), at pseudo-random moments of a 100-epoch run that
/// writes its model and checkpoint after every epoch (the moments spread
/// over the uninterrupted run's own duration, so the campaign adapts to the
/// machine's speed).
#[test]
fn kill_9_at_random_moments_leaves_loadable_files_and_resume_is_byte_identical() {
    let configs: [(&str, &[&str]); 6] = [
        ("pcd", &[]),
        ("cd", &["--trainer", "cd"]),
        ("gibbs", &["--k", "1", "--sampler", "gibbs"]),
        ("metropolis", &["--k", "1", "--sampler", "metropolis"]),
        ("metropolis-random", &["--k", "1", "--sampler", "metropolis-random"]),
        ("tempering", &["--k", "1", "--sampler", "tempering", "--n-replicas", "4"]),
    ];
    let epochs = "100";
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut killed_mid_run, mut resumed) = (0, 0);
    for (name, extra) in configs {
        let dir = temp_dir(name);
        let reference = dir.join("straight.safetensors");
        let t0 = std::time::Instant::now();
        let o = run(&train_args(extra, epochs, &reference));
        // the kills fall anywhere in a run of this length (and a little past)
        let span = (t0.elapsed().as_millis() as u64 * 6 / 5).max(20);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let want_model = std::fs::read(&reference).unwrap();
        let want_ckpt = std::fs::read(dir.join("straight.safetensors.ckpt")).unwrap();
        for round in 0..5 {
            let out = dir.join(format!("killed-{round}.safetensors"));
            let args = train_args(extra, epochs, &out);
            let mut child = Command::new(env!("CARGO_BIN_EXE_ebm"))
                .args(&args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            // before the first save, between saves, mid-write, or after the end
            std::thread::sleep(Duration::from_millis(next() % span));
            let finished = child.try_wait().unwrap().is_some();
            child.kill().ok(); // SIGKILL
            child.wait().unwrap();
            killed_mid_run += usize::from(!finished);
            // whatever the kill left: the model (if written) loads and
            // evaluates
            if out.exists() {
                let e = ebm(&[
                    "eval",
                    "--model",
                    out.to_str().unwrap(),
                    "--data",
                    "bars-and-stripes:3",
                    "--ais-betas",
                    "10",
                    "--ais-runs",
                    "2",
                    "--json",
                ]);
                assert!(
                    e.status.success(),
                    "{name} round {round}: the model left by kill -9 does not load: {}",
                    String::from_utf8_lossy(&e.stderr)
                );
            }
            // resume (or start, if no checkpoint was written yet) to the end:
            // byte-identical to the uninterrupted run
            let ckpt = dir.join(format!("killed-{round}.safetensors.ckpt"));
            let mut args = args.clone();
            if ckpt.exists() {
                args.push("--resume".into());
                resumed += 1;
            }
            let o = run(&args);
            assert!(
                o.status.success(),
                "{name} round {round}: the run after kill -9 fails: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(
                std::fs::read(&out).unwrap() == want_model,
                "{name} round {round}: the model after resuming differs from the uninterrupted run's"
            );
            assert!(
                std::fs::read(&ckpt).unwrap() == want_ckpt,
                "{name} round {round}: the checkpoint after resuming differs"
            );
        }
        // the later runs cleared what the killed ones left
        assert_eq!(temporaries(&dir), Vec::<String>::new(), "{name}: stray temporary files");
        std::fs::remove_dir_all(&dir).ok();
    }
    eprintln!("kill -9: {killed_mid_run} of 30 kills hit a running training, {resumed} resumed");
    // the campaign hit runs in flight, and resumed from their checkpoints
    assert!(killed_mid_run >= 15, "only {killed_mid_run} of 30 kills hit a running training");
    assert!(resumed >= 10, "only {resumed} of 30 runs resumed from a checkpoint");
}

/// The state a kill between the two saves of an epoch could leave when the
/// checkpoint was written first — a checkpoint at the last epoch beside the
/// model of the one before (the campaign above found it: the resume had
/// nothing left to train and kept the stale model): resuming rewrites the
/// model from the checkpoint, equal to the uninterrupted run's.
#[test]
fn resuming_a_finished_checkpoint_beside_an_older_model_rewrites_the_model() {
    let dir = temp_dir("finished");
    for (name, extra) in [("rbm", &[][..]), ("tempering", &["--sampler", "tempering"][..])] {
        let done = dir.join(format!("{name}-done.safetensors"));
        let stale = dir.join(format!("{name}-stale.safetensors"));
        let o = run(&train_args(extra, "6", &done));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let o = run(&train_args(extra, "5", &stale));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let ckpt = |p: &Path| PathBuf::from(format!("{}.ckpt", p.display()));
        std::fs::copy(ckpt(&done), ckpt(&stale)).unwrap();
        let mut args = train_args(extra, "6", &stale);
        args.push("--resume".into());
        let o = run(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(
            std::fs::read(&stale).unwrap() == std::fs::read(&done).unwrap(),
            "{name}: the model after resuming a finished checkpoint is not the checkpoint's"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A full disk (a 2 MiB tmpfs, when this process may mount one: root on
/// Linux; skipped otherwise), twice: the model and checkpoint on it, then
/// the PNGs on it. A training run that would overwrite an earlier run's
/// files there fails with one line on stderr, and every earlier file on the
/// full disk is byte for byte what it was, with no temporary file left.
#[test]
fn a_full_disk_fails_cleanly_and_keeps_every_earlier_file() {
    let dir = temp_dir("full-disk");
    let disk = dir.join("disk");
    std::fs::create_dir_all(&disk).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs", disk.to_str().unwrap()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here (needs root on Linux)");
        std::fs::remove_dir_all(&dir).ok();
        return;
    }
    // unmounted however the test ends
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            Command::new("umount").arg(self.0).status().ok();
        }
    }
    let guard = Unmount(&disk);
    let mut failures = Vec::new();
    for (case, out_dir, png_dir) in
        [("model", disk.clone(), dir.join("png")), ("pngs", dir.clone(), disk.join("png"))]
    {
        if let Err(e) = full_disk_case(&disk, &out_dir, &png_dir) {
            failures.push(format!("{case} on the full disk: {e}"));
        }
        for entry in std::fs::read_dir(&disk).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                std::fs::remove_dir_all(p).ok()
            } else {
                std::fs::remove_file(p).ok()
            };
        }
    }
    drop(guard);
    std::fs::remove_dir_all(&dir).ok();
    assert!(failures.is_empty(), "{failures:#?}");
}

/// One full-disk case: train into `out_dir` and `png_dir`, fill `disk`,
/// train again over the same files.
fn full_disk_case(disk: &Path, out_dir: &Path, png_dir: &Path) -> Result<(), String> {
    let out = out_dir.join("m.safetensors");
    let args = |seed: &str| {
        vec![
            "train".to_string(),
            "--data".into(),
            "bars-and-stripes:3".into(),
            "--n-hidden".into(),
            "8".into(),
            "--epochs".into(),
            "5".into(),
            "--seed".into(),
            seed.into(),
            "--quiet".into(),
            "--png-dir".into(),
            png_dir.display().to_string(),
            "--out".into(),
            out.display().to_string(),
        ]
    };
    let o = run(&args("1"));
    if !o.status.success() {
        return Err(format!("the first run fails: {}", String::from_utf8_lossy(&o.stderr)));
    }
    let before: Vec<(PathBuf, Vec<u8>)> = [out_dir, png_dir]
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap().flatten())
        .filter(|e| e.file_type().unwrap().is_file() && e.path().starts_with(disk))
        .map(|e| (e.path(), std::fs::read(e.path()).unwrap()))
        .collect();
    if before.is_empty() {
        return Err("no earlier file on the disk".into());
    }
    // fill the disk to the last byte
    {
        use std::io::Write;
        let mut f = std::fs::File::create(disk.join("filler")).unwrap();
        let block = vec![0u8; 4096];
        while f.write_all(&block).is_ok() {}
        while f.write_all(&[0]).is_ok() {}
        let _ = f.sync_all();
    }
    let o = run(&args("2"));
    let err = String::from_utf8_lossy(&o.stderr);
    eprintln!("full disk ({} earlier files): {}", before.len(), err.trim_end());
    if o.status.success() || err.trim_end().lines().count() != 1 || err.contains("panicked") {
        return Err(format!("not one line and a non-zero exit: {err}"));
    }
    if !err.contains("No space left") {
        return Err(format!("the run did not fail for want of space: {err}"));
    }
    let changed: Vec<&PathBuf> = before
        .iter()
        .filter(|(p, bytes)| std::fs::read(p).ok().as_ref() != Some(bytes))
        .map(|(p, _)| p)
        .collect();
    if !changed.is_empty() {
        return Err(format!("changed or lost: {changed:?}"));
    }
    let strays = temporaries(out_dir).len() + temporaries(png_dir).len();
    if strays > 0 {
        return Err(format!("{strays} temporary files left"));
    }
    Ok(())
}
