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

use super::Outcome;
use crate::analysis::analyze_with;
use crate::charts;
use crate::cli::TuneArgs;
use crate::clock::today;
use crate::detect::params::Value;
use crate::detect::DetectParams;
use crate::evaluate::{evaluate_in, Pred};
use crate::labels;
use crate::pipeline::load;
use crate::tuning::{better, grid, held_out, swept, Objective, Score, Trial};
use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

/// Runs the sweep and writes `tune.csv`, `tune.png`, `recommended.toml`.
pub fn run(args: &TuneArgs) -> Result<Outcome> {
    let wall = Instant::now();
    let inputs = args.input.resolve()?;
    if !(0.0..0.9).contains(&args.holdout) {
        bail!("--holdout must be a share from 0 to 0.9 (0 = no held-out part)");
    }
    let labels_path = inputs.labels_required(&args.labels)?;
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
        // Exactly what `scan` would give each series with `p` in the file.
        let t = inputs.thresholds.with_base(p.clone());
        let preds: Vec<Pred> = analyze_with(set, &plans, &t, "")
            .iter()
            .filter_map(Pred::of)
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
        for (name, values) in grid(&inputs.thresholds.flags) {
            let candidates: Vec<DetectParams> = values
                .iter()
                .map(|&v| best.with(name, Value::Num(v)))
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
    let cols: Vec<&str> = swept().iter().map(|t| t.name).collect();
    let _ = writeln!(
        text,
        "\n| rank | {} | precision | recall | F1 | false alarms / series-year | mean delay |",
        cols.join(" | ")
    );
    let _ = writeln!(
        text,
        "|---:|{}---:|---:|---:|---:|---:|",
        "---:|".repeat(cols.len())
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
    crate::out!("{text}");

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
            detect: crate::config::ThresholdSet::of(&best),
            columns: Default::default(),
            inventories: Vec::new(),
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
    let cols = swept();
    let names: Vec<&str> = cols.iter().map(|t| t.name).collect();
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
        let mut rec: Vec<String> = cols
            .iter()
            .map(|c| (c.get)(&t.params).to_string())
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
    let values: Vec<String> = swept().iter().map(|t| (t.get)(p).to_string()).collect();
    let _ = writeln!(
        text,
        "| {name} | {} | {:.3} | {:.3} | {:.3} | {:.4} | {:.2} |",
        values.join(" | "),
        s.precision,
        s.recall,
        s.f1,
        s.false_alarms_per_series_year,
        s.mean_delay_samples
    );
}
