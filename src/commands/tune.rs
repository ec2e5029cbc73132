//! `shrinkwatch tune`: sweeps the thresholds that matter against labelled
//! history and recommends a configuration.
//!
//! Method: coordinate descent from the current configuration (defaults, or
//! `--config`): each threshold in turn is tried at every value of its grid
//! with the others fixed, the best by the objective is kept, for two rounds.
//! Every setting runs the real engine over the tuning part of the series
//! (ingested once, settings in parallel). With `--holdout F` (default 0.3) a
//! stable share F of the series is kept out of tuning and the default and
//! recommended settings are scored on it, so a user sees whether the tuning
//! generalises.

use super::{load, today, Outcome};
use crate::charts;
use crate::cli::{shipped_dir, TuneArgs};
use crate::config::Thresholds;
use crate::detect::DetectParams;
use crate::evaluate::{evaluate_in, Pred};
use crate::findings::analyze_with;
use crate::labels;
use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

/// What the recommendation optimises.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// Highest loss F1.
    F1,
    /// Fewest false alarms per series-year with loss recall at least this.
    Recall(f64),
}

/// Parses `f1` or `recall=0.98`.
pub fn parse_objective(s: &str) -> Result<Objective, String> {
    if s == "f1" {
        return Ok(Objective::F1);
    }
    match s.strip_prefix("recall=").map(str::parse::<f64>) {
        Some(Ok(r)) if (0.0..=1.0).contains(&r) => Ok(Objective::Recall(r)),
        _ => Err(format!(
            "`{s}`: expected `f1` or `recall=R` with R between 0 and 1"
        )),
    }
}

/// Scores of one setting on one part of the series.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Score {
    /// Loss precision.
    pub precision: f64,
    /// Loss recall.
    pub recall: f64,
    /// Loss F1.
    pub f1: f64,
    /// Loss findings that match no labelled loss, per series-year.
    pub false_alarms_per_series_year: f64,
    /// Mean samples from a labelled loss's start to the end of its finding.
    pub mean_delay_samples: f64,
}

/// One setting tried.
#[derive(Debug, Clone)]
pub struct Trial {
    /// The thresholds.
    pub params: DetectParams,
    /// Scores on the tuning part.
    pub tune: Score,
}

/// The thresholds swept and their grids.
fn grid() -> Vec<(&'static str, Vec<f64>)> {
    vec![
        ("min_drop_pct", vec![0.5, 1.0, 1.5, 2.0, 3.0, 5.0]),
        ("alpha", vec![1e-2, 1e-3, 1e-4, 1e-6]),
        ("max_drop_samples", vec![1.0, 2.0, 3.0, 5.0]),
        ("recovery_samples", vec![1.0, 2.0, 3.0, 5.0]),
        ("step_z", vec![1.5, 2.0, 3.0]),
        ("baseline_days", vec![28.0, 56.0, 84.0, 168.0]),
        ("planned_tolerance_pct", vec![0.0, 2.0, 5.0]),
    ]
}

fn with(p: &DetectParams, name: &str, v: f64) -> DetectParams {
    let mut q = p.clone();
    match name {
        "min_drop_pct" => q.min_drop_pct = v,
        "alpha" => q.alpha = v,
        "max_drop_samples" => q.max_drop_samples = v as usize,
        "recovery_samples" => q.recovery_samples = v as usize,
        "step_z" => q.step_z = v,
        "baseline_days" => q.baseline_days = v,
        "planned_tolerance_pct" => q.planned_tolerance_pct = v,
        _ => {}
    }
    q
}

fn better(a: &Score, b: &Score, obj: Objective) -> bool {
    match obj {
        Objective::F1 => {
            (a.f1, -a.false_alarms_per_series_year) > (b.f1, -b.false_alarms_per_series_year)
        }
        Objective::Recall(r) => match (a.recall >= r, b.recall >= r) {
            (true, false) => true,
            (false, true) => false,
            (true, true) => {
                (-a.false_alarms_per_series_year, a.f1) > (-b.false_alarms_per_series_year, b.f1)
            }
            (false, false) => (a.recall, a.f1) > (b.recall, b.f1),
        },
    }
}

/// A stable split: series whose name hashes below `share` are held out.
fn held_out(name: &str, share: f64) -> bool {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325; // FNV-1a
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (h % 10_000) as f64 / 10_000.0 < share
}

/// Runs the sweep and writes `tune.csv`, `tune.png`, `recommended.toml`.
pub fn run(args: &TuneArgs) -> Result<Outcome> {
    let wall = Instant::now();
    let inputs = args.input.resolve()?;
    if !(0.0..0.9).contains(&args.holdout) {
        bail!("--holdout must be a share from 0 to 0.9 (0 = no held-out part)");
    }
    let labels_path = match (&args.labels, inputs.shipped) {
        (Some(p), _) => p.clone(),
        (None, true) => shipped_dir().join("labels.csv"),
        (None, false) => bail!("--labels FILE is required with --input"),
    };
    let labels = labels::read(&labels_path, &inputs.config.columns.keys)?;
    let (ing, plans) = load(&inputs)?;
    let set = &ing.set;
    let hold: Vec<bool> = set
        .keys
        .iter()
        .map(|k| args.holdout > 0.0 && held_out(&k.join("/"), args.holdout))
        .collect();
    let tune_part: Vec<bool> = hold.iter().map(|h| !h).collect();
    let score = |p: &DetectParams, keep: &[bool]| -> Score {
        let t = Thresholds {
            base: p.clone(),
            overrides: inputs.thresholds.overrides.clone(),
            flags: Default::default(),
        };
        let preds: Vec<Pred> = analyze_with(set, &plans, &t, "")
            .iter()
            .map(Pred::from)
            .collect();
        let ev = evaluate_in(set, &preds, &labels, keep);
        let k = ev.kinds.get("loss").cloned().unwrap_or_default();
        Score {
            precision: k.precision,
            recall: k.recall,
            f1: k.f1,
            false_alarms_per_series_year: ev.false_losses_per_series_year,
            mean_delay_samples: k.mean_delay_samples,
        }
    };

    let start = inputs.config.detect.clone();
    let mut tried: BTreeMap<String, Trial> = BTreeMap::new();
    let key = |p: &DetectParams| serde_json::to_string(p).unwrap_or_default();
    let mut best = start.clone();
    let base_score = score(&best, &tune_part);
    tried.insert(
        key(&best),
        Trial {
            params: best.clone(),
            tune: base_score,
        },
    );
    let mut best_score = base_score;
    for _round in 0..2 {
        for (name, values) in grid() {
            let candidates: Vec<DetectParams> = values
                .iter()
                .map(|&v| with(&best, name, v))
                .filter(|p| p.validate().is_ok() && !tried.contains_key(&key(p)))
                .collect();
            let scored: Vec<(DetectParams, Score)> = candidates
                .into_par_iter()
                .map(|p| {
                    let s = score(&p, &tune_part);
                    (p, s)
                })
                .collect();
            for (p, s) in scored {
                if better(&s, &best_score, args.objective) {
                    best = p.clone();
                    best_score = s;
                }
                tried.insert(key(&p), Trial { params: p, tune: s });
            }
        }
    }
    let sweep_secs = wall.elapsed().as_secs_f64();
    let (default_hold, best_hold) = if args.holdout > 0.0 {
        (Some(score(&start, &hold)), Some(score(&best, &hold)))
    } else {
        (None, None)
    };
    let mut trials: Vec<Trial> = tried.into_values().collect();
    // Best first; among equal scores the recommendation, then the starting point.
    let rank = |t: &Trial| (t.params != best, t.params != start);
    trials.sort_by(|a, b| {
        if better(&a.tune, &b.tune, args.objective) {
            std::cmp::Ordering::Less
        } else if better(&b.tune, &a.tune, args.objective) {
            std::cmp::Ordering::Greater
        } else {
            rank(a).cmp(&rank(b))
        }
    });

    let held = hold.iter().filter(|h| **h).count();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "tried {} settings in {:.1} s on {} series ({} held out); objective {}",
        trials.len(),
        sweep_secs,
        set.len() - held,
        held,
        match args.objective {
            Objective::F1 => "loss F1".to_string(),
            Objective::Recall(r) => format!("fewest false alarms with loss recall >= {r}"),
        }
    );
    let _ = writeln!(text, "\n| rank | min_drop_pct | alpha | max_drop_samples | recovery_samples | step_z | baseline_days | planned_tolerance_pct | precision | recall | F1 | false alarms / series-year | mean delay |");
    let _ = writeln!(
        text,
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for (i, t) in trials.iter().take(10).enumerate() {
        row(&mut text, &(i + 1).to_string(), &t.params, &t.tune);
    }
    if let (Some(d), Some(b)) = (default_hold, best_hold) {
        let _ = writeln!(text, "\nheld-out series ({held}):\n\n| setting | precision | recall | F1 | false alarms / series-year |\n|---|---:|---:|---:|---:|");
        for (name, s) in [("current (start)", d), ("recommended", b)] {
            let _ = writeln!(
                text,
                "| {name} | {:.3} | {:.3} | {:.3} | {:.4} |",
                s.precision, s.recall, s.f1, s.false_alarms_per_series_year
            );
        }
    }
    print!("{text}");

    super::write_folder(&args.out, "tune", wall, |dir| {
        write_trials(&dir.join("tune.csv"), &trials, &start, &best)?;
        crate::report::write_file(dir.join("tune.md"), &text)?;
        let points: Vec<(f64, f64)> = trials
            .iter()
            .map(|t| (t.tune.recall, t.tune.precision))
            .collect();
        charts::tune::render(
            &dir.join("tune.png"),
            &points,
            (base_score.recall, base_score.precision),
            (best_score.recall, best_score.precision),
            args.chart_size,
        )?;
        let rec = crate::config::ConfigFile {
            detect: best.clone(),
            columns: Default::default(),
            overrides: inputs.thresholds.overrides.clone(),
        };
        let toml = format!(
        "# Recommended by `shrinkwatch tune` ({}) on {} labelled series; use with `shrinkwatch scan --config recommended.toml`.\n# Tuning part: precision {:.3}, recall {:.3}, F1 {:.3}.{}\n{}",
        today(),
        set.len() - held,
        best_score.precision,
        best_score.recall,
        best_score.f1,
        best_hold.map_or(String::new(), |h| format!("\n# Held-out part: precision {:.3}, recall {:.3}, F1 {:.3}.", h.precision, h.recall, h.f1)),
        toml::to_string(&rec).context("writing recommended.toml")?
    );
        crate::report::write_file(dir.join("recommended.toml"), toml)?;
        Ok(())
    })?;
    Ok(Outcome::Clean)
}

/// `tune.csv`: every setting tried with its scores on the tuning part.
fn write_trials(
    path: &std::path::Path,
    trials: &[Trial],
    start: &DetectParams,
    best: &DetectParams,
) -> Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    let names: Vec<&str> = grid().iter().map(|g| g.0).collect();
    let mut header: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    header.extend(
        [
            "precision",
            "recall",
            "f1",
            "false_alarms_per_series_year",
            "mean_delay_samples",
            "role",
        ]
        .map(String::from),
    );
    w.write_record(&header)?;
    for t in trials {
        let v = serde_json::to_value(&t.params)?;
        let mut rec: Vec<String> = names
            .iter()
            .map(|n| v.get(*n).map(|x| x.to_string()).unwrap_or_default())
            .collect();
        let s = &t.tune;
        rec.extend(
            [
                s.precision,
                s.recall,
                s.f1,
                s.false_alarms_per_series_year,
                s.mean_delay_samples,
            ]
            .iter()
            .map(|x| format!("{x:.4}")),
        );
        rec.push(
            if t.params == *best {
                "recommended"
            } else if t.params == *start {
                "current"
            } else {
                ""
            }
            .to_string(),
        );
        w.write_record(&rec)?;
    }
    w.flush()?;
    Ok(())
}

fn row(text: &mut String, name: &str, p: &DetectParams, s: &Score) {
    let _ = writeln!(
        text,
        "| {name} | {} | {} | {} | {} | {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.4} | {:.2} |",
        p.min_drop_pct,
        p.alpha,
        p.max_drop_samples,
        p.recovery_samples,
        p.step_z,
        p.baseline_days,
        p.planned_tolerance_pct,
        s.precision,
        s.recall,
        s.f1,
        s.false_alarms_per_series_year,
        s.mean_delay_samples
    );
}
