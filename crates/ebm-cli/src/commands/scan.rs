//! `ebm scan`: a finite-size-scaling study, every (model, β) point an
//! independent deterministic job.
//!
//! Each point runs exactly what `ebm sample --json` runs, with a seed
//! derived from the master seed, the model spec and β (not from the point's
//! position, so adding sizes or β values leaves every other point's result
//! unchanged), and appends its JSON object as one line to `--out`. A rerun
//! skips points already in the file (a torn last line, from a kill, is
//! dropped and the point rerun). `--job K --jobs N` runs only the points
//! whose index is K mod N: the same command with K = 0…N−1 is a batch
//! system's job array, each job with its own `--out`; `cat` the files
//! together and run `ebm scan … --jobs 1 --png-dir DIR` on the result to
//! draw (nothing is left to run, so it only plots).

use super::sample::{self, measure_json};
use crate::cli::{Common, ModelArgs, SamplerName};
use crate::spec;
use ebm_core::{Error, Purpose, Result, Seed};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct Options {
    pub model: ModelArgs,
    pub beta: String,
    pub sampler: SamplerName,
    pub n_chains: usize,
    pub n_sweeps: usize,
    pub n_warmup: usize,
    pub n_replicas: usize,
    pub out: PathBuf,
    pub job: usize,
    pub jobs: usize,
    pub png_dir: Option<PathBuf>,
    pub common: Common,
}

/// `A:B:N`: N ≥ 1 values from A to B inclusive, all finite and > 0.
pub fn beta_grid(text: &str) -> Result<Vec<f64>> {
    let bad = |reason: String| Error::InvalidSequence { what: "--beta grid", reason };
    let parts: Vec<&str> = text.split(':').collect();
    let [a, b, n] = parts.as_slice() else {
        return Err(bad(format!("`{text}` is not A:B:N")));
    };
    let num = |s: &str| s.trim().parse::<f64>().map_err(|_| bad(format!("`{s}` is not a number")));
    let (a, b) = (num(a)?, num(b)?);
    let n: usize = n.trim().parse().map_err(|_| bad(format!("`{n}` is not a count")))?;
    if !(1..=10_000).contains(&n) {
        return Err(bad(format!("{n} points: between 1 and 10000")));
    }
    if !(a.is_finite() && b.is_finite() && a > 0.0 && b >= a) {
        return Err(bad(format!("need 0 < A ≤ B, finite; got {a}:{b}")));
    }
    if n == 1 && a != b {
        return Err(bad("one point needs A = B".into()));
    }
    Ok((0..n).map(|k| if n == 1 { a } else { a + (b - a) * k as f64 / (n - 1) as f64 }).collect())
}

/// The point's seed: the master seed's stream for (spec, β), FNV-1a hashed.
fn point_seed(master: u64, spec: &str, beta: f64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in spec.bytes().chain(beta.to_bits().to_le_bytes()) {
        h = (h ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut rng = Seed(master).stream(Purpose::custom(0x5ca9), h);
    ebm_core::rand_core::Rng::next_u64(&mut rng)
}

/// The finished points in `path` (model, β bits) and its complete lines;
/// a line that does not parse (a torn write) is dropped.
/// What a scan file holds: the finished (model, β bits), its complete lines,
/// and whether a torn line was dropped.
type Finished = (BTreeSet<(String, u64)>, Vec<serde_json::Value>, bool);

/// A curve point: (β, mean, std_err).
type Point = (f64, f64, f64);

fn finished(path: &Path) -> Result<Finished> {
    if !path.exists() {
        return Ok((BTreeSet::new(), Vec::new(), false));
    }
    let bytes = ebm_data::read_capped(path, 1 << 30)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut done = BTreeSet::new();
    let mut lines = Vec::new();
    let mut torn = false;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(v) if v["model"].is_string() && v["beta"].is_f64() => {
                done.insert((
                    v["model"].as_str().unwrap_or("").to_string(),
                    v["beta"].as_f64().unwrap_or(0.0).to_bits(),
                ));
                lines.push(v);
            }
            _ => torn = true,
        }
    }
    Ok((done, lines, torn))
}

fn lines_text(lines: &[serde_json::Value]) -> String {
    lines.iter().map(|v| format!("{v}\n")).collect()
}

#[derive(Serialize)]
struct Crossing {
    models: [String; 2],
    /// β where the Binder cumulants of the two sizes cross (linear
    /// interpolation between the grid points that bracket the sign change).
    beta: f64,
    /// Its standard error (parametric bootstrap over the four U₄ values).
    std_err: f64,
}

#[derive(Serialize)]
struct Summary {
    out: String,
    points: usize,
    run: usize,
    skipped: usize,
    other_jobs: usize,
    crossings: Vec<Crossing>,
    pictures: Vec<String>,
    seconds: f64,
}

pub fn run(o: &Options) -> Result<()> {
    let t0 = std::time::Instant::now();
    let betas = beta_grid(&o.beta)?;
    let specs: Vec<String> = o.model.model.split(',').map(|s| s.trim().to_string()).collect();
    for s in &specs {
        spec::parse(s, o.model.coupling, o.model.field)?;
    }
    if o.jobs == 0 || o.job >= o.jobs {
        return Err(Error::InvalidParameter {
            name: "--job",
            value: o.job as f64,
            expected: "below --jobs (≥ 1)",
        });
    }
    if o.sampler != SamplerName::Houdayer {
        sample::sampler(o.sampler, o.n_replicas, 0.3)?;
    }
    let (done, mut lines, torn) = finished(&o.out)?;
    if torn {
        // keep what was complete; the torn point is run again
        ebm_data::write_atomic(&o.out, lines_text(&lines).as_bytes())?;
    }
    let points: Vec<(String, f64)> =
        specs.iter().flat_map(|s| betas.iter().map(move |&b| (s.clone(), b))).collect();
    let (mut run, mut skipped, mut other) = (0, 0, 0);
    for (p, (spec_text, beta)) in points.iter().enumerate() {
        if p % o.jobs != o.job {
            other += 1;
            continue;
        }
        if done.contains(&(spec_text.clone(), beta.to_bits())) {
            skipped += 1;
            continue;
        }
        let options = sample::Options {
            model: ModelArgs {
                model: spec_text.clone(),
                coupling: o.model.coupling,
                field: o.model.field,
            },
            beta: *beta,
            sampler: o.sampler,
            n_chains: o.n_chains,
            n_sweeps: o.n_sweeps,
            n_warmup: o.n_warmup,
            n_replicas: o.n_replicas,
            beta_min: None,
            png: None,
            common: Common {
                json: true,
                seed: point_seed(o.common.seed, spec_text, *beta),
                quiet: true,
            },
        };
        let mut v = measure_json(&options)?;
        v["point_seed"] = serde_json::json!(options.common.seed);
        append_line(&o.out, &v)?;
        lines.push(v);
        run += 1;
        if !o.common.quiet && !o.common.json {
            eprintln!("  [{}/{}] {spec_text} β = {beta}: done", p + 1, points.len());
        }
    }
    let crossings = binder_crossings(&lines, &specs, o.common.seed);
    let pictures = match &o.png_dir {
        Some(dir) => draw(dir, &lines, &specs)?,
        None => Vec::new(),
    };
    let summary = Summary {
        out: o.out.display().to_string(),
        points: points.len(),
        run,
        skipped,
        other_jobs: other,
        crossings,
        pictures,
        seconds: t0.elapsed().as_secs_f64(),
    };
    if o.common.json {
        return super::print_json(&summary);
    }
    println!(
        "{} points ({} run, {} already in {}, {} left to other jobs), {:.1} s",
        summary.points,
        summary.run,
        summary.skipped,
        summary.out,
        summary.other_jobs,
        summary.seconds
    );
    for c in &summary.crossings {
        println!(
            "  Binder crossing {} / {}: β = {:.6} ± {:.6}",
            c.models[0], c.models[1], c.beta, c.std_err
        );
    }
    for p in &summary.pictures {
        println!("  wrote {p}");
    }
    Ok(())
}

fn append_line(path: &Path, v: &serde_json::Value) -> Result<()> {
    let io =
        |e: std::io::Error| Error::Io { path: path.display().to_string(), message: e.to_string() };
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && !meta.file_type().is_file()
    {
        return Err(Error::Io {
            path: path.display().to_string(),
            message: "not a regular file".into(),
        });
    }
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(io)?;
    f.write_all(format!("{v}\n").as_bytes()).map_err(io)?;
    f.sync_data().map_err(io)
}

/// (β, mean, std_err) of `field` for `model`, sorted by β.
fn curve(lines: &[serde_json::Value], model: &str, field: &str) -> Vec<Point> {
    let mut c: Vec<Point> = lines
        .iter()
        .filter(|v| v["model"] == model)
        .filter_map(|v| {
            // a spin glass (`--sampler houdayer`) has the overlap's Binder ratio g
            let f = if field == "binder" && v[field].is_null() { "binder_overlap" } else { field };
            Some((v["beta"].as_f64()?, v[f]["mean"].as_f64()?, v[f]["std_err"].as_f64()?))
        })
        .collect();
    c.sort_by(|a, b| a.0.total_cmp(&b.0));
    c.dedup_by(|a, b| a.0 == b.0);
    c
}

/// The Binder crossing of each pair of consecutive specs: the first sign
/// change of U_a − U_b on their common β values, interpolated linearly; its
/// error from 2000 parametric-bootstrap draws of the four U₄ values.
fn binder_crossings(lines: &[serde_json::Value], specs: &[String], seed: u64) -> Vec<Crossing> {
    let mut out = Vec::new();
    for (k, pair) in specs.windows(2).enumerate() {
        let (a, b) = (curve(lines, &pair[0], "binder"), curve(lines, &pair[1], "binder"));
        let common: Vec<(Point, Point)> = a
            .iter()
            .filter_map(|pa| b.iter().find(|pb| pb.0 == pa.0).map(|pb| (*pa, *pb)))
            .collect();
        let cross = |d1: f64, d2: f64, b1: f64, b2: f64| b1 + d1 * (b2 - b1) / (d1 - d2);
        let Some(w) = common.windows(2).find(|w| {
            let (d1, d2) = (w[0].0.1 - w[0].1.1, w[1].0.1 - w[1].1.1);
            d1 * d2 <= 0.0 && d1 != d2
        }) else {
            continue;
        };
        let (p1, p2) = (w[0], w[1]);
        let beta = cross(p1.0.1 - p1.1.1, p2.0.1 - p2.1.1, p1.0.0, p2.0.0);
        let mut rng = Seed(seed).stream(Purpose::custom(0xb1d), k as u64);
        let mut normal = || ebm_core::standard_normal(&mut rng);
        let draws: Vec<f64> = (0..2000)
            .filter_map(|_| {
                let d1 = (p1.0.1 + p1.0.2 * normal()) - (p1.1.1 + p1.1.2 * normal());
                let d2 = (p2.0.1 + p2.0.2 * normal()) - (p2.1.1 + p2.1.2 * normal());
                let c = cross(d1, d2, p1.0.0, p2.0.0);
                c.is_finite().then_some(c)
            })
            .collect();
        let mean = draws.iter().sum::<f64>() / draws.len().max(1) as f64;
        let var =
            draws.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / (draws.len().max(2) - 1) as f64;
        out.push(Crossing {
            models: [pair[0].clone(), pair[1].clone()],
            beta,
            std_err: var.sqrt(),
        });
    }
    out
}

/// One chart per observable, one series per model spec, error bars.
fn draw(dir: &Path, lines: &[serde_json::Value], specs: &[String]) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::Io { path: dir.display().to_string(), message: e.to_string() })?;
    let mut written = Vec::new();
    let mut by_field: BTreeMap<&str, &str> = BTreeMap::new();
    by_field.insert("binder", "Binder cumulant U4");
    by_field.insert("susceptibility", "susceptibility χ");
    by_field.insert("heat_capacity_per_unit", "heat capacity per unit C/N");
    by_field.insert("correlation_length", "correlation length ξ");
    for (field, title) in by_field {
        let series: Vec<crate::picture::Series> = specs
            .iter()
            .map(|s| {
                let c = curve(lines, s, field);
                crate::picture::Series {
                    label: s.clone(),
                    points: c.iter().map(|p| (p.0, p.1)).collect(),
                    line: false,
                    errors: c.iter().map(|p| p.2).collect(),
                }
            })
            .filter(|s| !s.points.is_empty())
            .collect();
        if series.is_empty() {
            continue;
        }
        let path = dir.join(format!("{field}.png"));
        crate::picture::chart(&path, title, "β", title, &series)?;
        written.push(path.display().to_string());
    }
    Ok(written)
}
