//! Findings: the output schema of `scan` (SPEC "Output of scan"), built from
//! the engine's detections. Every field is documented because the struct *is*
//! the `findings.csv` / `findings.json` schema.

use crate::config::Thresholds;
use crate::detect::{self, DetectParams, Detection, Kind};
use crate::ingest::{timestamp, SeriesSet};
use crate::planned::{self, PlannedRow};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// How urgent a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A loss of ≥ 10 %, ≥ 10,000 objects or ≥ 1 TB.
    Critical,
    /// Any other loss.
    High,
    /// A transient drop of half the data or more (e.g. a zero reading).
    Medium,
    /// A smaller transient drop.
    Low,
    /// A planned reduction, for the record.
    Info,
}

impl Severity {
    /// Name as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    fn of(d: &Detection) -> Severity {
        match d.kind {
            Kind::Loss
                if d.drop_pct >= 10.0
                    || d.objects_lost.unwrap_or(0.0) >= 10_000.0
                    || d.drop_bytes >= 1e12 =>
            {
                Severity::Critical
            }
            Kind::Loss => Severity::High,
            Kind::Transient if d.drop_pct >= 50.0 => Severity::Medium,
            Kind::Transient => Severity::Low,
            Kind::Planned => Severity::Info,
        }
    }
}

/// One finding: a sudden, substantial reduction in one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Values of the key columns (written under their own names).
    #[serde(skip)]
    pub key: Vec<String>,
    /// Index of the series in the ingested set.
    #[serde(skip)]
    pub series: usize,
    /// `start` in seconds since the epoch.
    #[serde(skip)]
    pub start_ts: i64,
    /// `end` in seconds since the epoch.
    #[serde(skip)]
    pub end_ts: i64,
    /// Index of the first reduced sample in the series.
    #[serde(skip)]
    pub start_idx: usize,
    /// Index of the last sample of the drop.
    #[serde(skip)]
    pub end_idx: usize,
    /// Timestamp of the last sample before the drop.
    #[serde(skip)]
    pub before_ts: i64,
    /// Expected log-change per interval and its σ, from the baseline (charts).
    #[serde(skip)]
    pub expected_step_log: f64,
    /// See `expected_step_log`.
    #[serde(skip)]
    pub step_sigma_log: f64,
    /// `loss`, `transient` or `planned`.
    pub kind: Kind,
    /// Timestamp of the first reduced observation.
    pub start: String,
    /// Timestamp of the last sample of the drop.
    pub end: String,
    /// When this run saw it (RFC 3339, UTC).
    pub detected_at: String,
    /// Bytes at the last sample before the drop.
    pub before_bytes: u64,
    /// Bytes at the last sample of the drop.
    pub after_bytes: u64,
    /// `before_bytes − after_bytes`.
    pub drop_bytes: i64,
    /// Observed reduction in percent of `before_bytes`.
    pub drop_pct: f64,
    /// Objects lost (net of normal growth), when the input has an object count.
    pub objects_lost: Option<u64>,
    /// One-sided p-value of the drop against the series' normal change.
    pub p_value: f64,
    /// `critical`, `high`, `medium`, `low` or `info`.
    pub severity: Severity,
    /// The planned window the drop fell in (its reason), if any.
    pub planned_reason: String,
    /// Chart file, relative to the report folder (empty without charts).
    pub chart: String,
    /// `new`, `known` (reported by an earlier run) or `updated` (its kind
    /// changed since it was reported); `new` when no state is kept.
    pub status: String,
    /// For `updated`: what changed.
    pub change: String,
    /// Reduction beyond the series' normal change, in percent.
    pub excess_pct: f64,
    /// Shortfall in robust standard deviations.
    pub z_score: f64,
    /// For a drop inside a planned window: true when it exceeded the plan.
    pub exceeded_plan: bool,
    /// Timestamp at which the level came back (transients).
    pub recovered_at: String,
    /// Observations after the drop at the time of the run (a loss seen on its
    /// last sample has had no chance to recover yet).
    pub samples_after: usize,
    /// Timestamp of the last observation before the drop.
    pub before_at: String,
    /// Inferred sampling interval of the series, in seconds.
    pub interval_secs: i64,
}

impl Finding {
    /// `force/system`.
    pub fn label(&self) -> String {
        self.key.join("/")
    }

    /// Whether this finding is a loss.
    pub fn is_loss(&self) -> bool {
        self.kind == Kind::Loss
    }
}

/// Runs the engine over every series (in parallel) and returns all findings,
/// sorted by severity, then start, then series.
pub fn analyze(
    set: &SeriesSet,
    plans: &[PlannedRow],
    params: &DetectParams,
    detected_at: &str,
) -> Vec<Finding> {
    analyze_with(set, plans, &Thresholds::uniform(params), detected_at)
}

/// Like [`analyze`], with per-series thresholds (configuration overrides).
pub fn analyze_with(
    set: &SeriesSet,
    plans: &[PlannedRow],
    thresholds: &Thresholds,
    detected_at: &str,
) -> Vec<Finding> {
    let mut all: Vec<Finding> = (0..set.len())
        .into_par_iter()
        .flat_map_iter(|i| {
            let s = set.get(i);
            let windows = planned::for_series(plans, s.key);
            let params = thresholds.for_series(&set.key_names, s.key);
            let r = detect::detect(s.times, s.bytes, s.objects, &windows, &params);
            let date_only = s.date_only();
            r.detections
                .into_iter()
                .map(|d| {
                    let fmt = |idx: usize| timestamp::format(s.times[idx], date_only);
                    Finding {
                        key: s.key.to_vec(),
                        series: i,
                        start_ts: s.times[d.start_idx],
                        end_ts: s.times[d.end_idx],
                        start_idx: d.start_idx,
                        end_idx: d.end_idx,
                        before_ts: s.times[d.before_idx],
                        expected_step_log: d.expected_step_log,
                        step_sigma_log: d.step_sigma_log,
                        kind: d.kind,
                        start: fmt(d.start_idx),
                        end: fmt(d.end_idx),
                        detected_at: detected_at.to_string(),
                        before_bytes: d.before_bytes as u64,
                        after_bytes: d.after_bytes as u64,
                        drop_bytes: (d.before_bytes - d.after_bytes) as i64,
                        drop_pct: round(d.drop_pct, 3),
                        objects_lost: d.objects_lost.map(|o| o as u64),
                        p_value: sig(d.p_value),
                        severity: Severity::of(&d),
                        planned_reason: d
                            .plan
                            .map(|w| windows[w].reason.clone())
                            .unwrap_or_default(),
                        chart: String::new(),
                        status: "new".into(),
                        change: String::new(),
                        excess_pct: round(d.excess_pct, 3),
                        z_score: round(d.z, 2),
                        exceeded_plan: d.exceeded_plan,
                        recovered_at: d.recovered_idx.map(fmt).unwrap_or_default(),
                        samples_after: d.samples_after,
                        before_at: fmt(d.before_idx),
                        interval_secs: r.step_secs,
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect();
    all.sort_by(|a, b| (a.severity, a.start_ts, &a.key).cmp(&(b.severity, b.start_ts, &b.key)));
    all
}

fn round(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (x * m).round() / m
}

/// Keeps 3 significant digits (p-values span many orders of magnitude).
fn sig(p: f64) -> f64 {
    if p <= 0.0 || !p.is_finite() {
        return p.max(0.0);
    }
    format!("{p:.2e}")
        .parse::<f64>()
        .unwrap_or(p)
        .clamp(0.0, 1.0)
}

/// Which findings get a chart and a report section of their own, when at
/// most `max` can: new or updated losses first, then known losses, then
/// transients, then planned reductions; within each, in the given order
/// (most severe first).
pub fn detailed(findings: &[Finding], max: usize) -> Vec<bool> {
    let rank = |f: &Finding| match (f.kind, f.status == "known") {
        (Kind::Loss, false) => 0,
        (Kind::Loss, true) => 1,
        (Kind::Transient, _) => 2,
        (Kind::Planned, _) => 3,
    };
    let mut idx: Vec<usize> = (0..findings.len()).collect();
    idx.sort_by_key(|&i| rank(&findings[i]));
    let mut out = vec![false; findings.len()];
    for &i in idx.iter().take(max) {
        out[i] = true;
    }
    out
}
