//! `shrinkwatch evaluate`: precision, recall, F1 and delay against labels,
//! beside a naive rule.

use super::Outcome;
use crate::analysis::analyze_with;
use crate::cli::EvaluateArgs;
use crate::evaluate::{evaluate, naive_preds, Evaluation, Pred};
use crate::labels;
use crate::pipeline::load;
use anyhow::Result;
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Serialize)]
struct Output<'a> {
    detector: &'a Evaluation,
    naive_baseline: &'a Evaluation,
    naive_rule: String,
    config: &'a crate::config::Config,
    labels: String,
}

/// Runs the evaluation and writes `evaluation.json` and `evaluation.md`.
pub fn run(args: &EvaluateArgs) -> Result<Outcome> {
    let started = std::time::Instant::now();
    let inputs = args.input.resolve()?;
    let labels_path = inputs.labels_required(&args.labels)?;
    let labels = labels::read(&labels_path, &inputs.config.columns.keys)?;
    let (ing, plans) = load(&inputs)?;
    let findings = analyze_with(&ing.set, &plans, &inputs.thresholds, "");
    let preds: Vec<Pred> = findings.iter().filter_map(Pred::of).collect();
    let ev = evaluate(&ing.set, &preds, &labels);
    let naive = evaluate(&ing.set, &naive_preds(&ing.set, args.naive_pct), &labels);
    let text = render(&ev, &naive, args.naive_pct);
    crate::out!("{text}");
    let o = Output {
        detector: &ev,
        naive_baseline: &naive,
        naive_rule: format!(
            "value fell >= {}% since the previous sample",
            args.naive_pct
        ),
        config: &inputs.config,
        labels: labels_path.display().to_string(),
    };
    super::write_folder(&args.out, "evaluate", started, |dir| {
        crate::report::write_file(
            dir.join("evaluation.json"),
            serde_json::to_string_pretty(&o)? + "\n",
        )?;
        crate::report::write_file(dir.join("evaluation.md"), &text)?;
        Ok(())
    })?;
    Ok(Outcome::Clean)
}

/// The evaluation as a Markdown table.
pub fn render(ev: &Evaluation, naive: &Evaluation, naive_pct: f64) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "| method | kind | labelled | reported | matched | precision | recall | F1 | mean delay | max delay |");
    let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut row = |name: &str, kind: &str, k: &crate::evaluate::KindScore| {
        let _ = writeln!(
            s,
            "| {name} | {kind} | {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.2} | {} |",
            k.labelled,
            k.reported,
            k.matched,
            k.precision,
            k.recall,
            k.f1,
            k.mean_delay_samples,
            k.max_delay_samples
        );
    };
    for (kind, k) in &ev.kinds {
        row("shrinkwatch", kind, k);
    }
    row("shrinkwatch", "overall", &ev.overall);
    if let Some(k) = naive.kinds.get("loss") {
        row(&format!("naive (fell >= {naive_pct}%)"), "loss", k);
    }
    let _ = writeln!(
        s,
        "\nfalse losses per series-year: shrinkwatch {:.4}, naive {:.4} ({:.0} series-years)",
        ev.false_losses_per_series_year, naive.false_losses_per_series_year, ev.series_years
    );
    let _ = writeln!(s, "\nfalse alarms by what they sat on (shrinkwatch):");
    for (k, v) in &ev.overall.false_alarms_on {
        let _ = writeln!(s, "- {k}: {v}");
    }
    for (kind, k) in &ev.kinds {
        if !k.labels_found_as.is_empty() {
            let found: Vec<String> = k
                .labels_found_as
                .iter()
                .map(|(a, b)| format!("{a}: {b}"))
                .collect();
            let _ = writeln!(s, "- labelled {kind} not matched: {}", found.join(", "));
        }
    }
    if ev.unknown_series_labels > 0 {
        let _ = writeln!(
            s,
            "\n{} label(s) name a series the input does not have",
            ev.unknown_series_labels
        );
    }
    s
}
