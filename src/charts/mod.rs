//! Charts (plotters, PNG): one file per chart kind, shared style in
//! [`style`]. Rendering needs no system fonts or libraries: the fonts are
//! embedded and the bitmap backend encodes PNG itself.

pub mod overview;
pub mod series;
pub mod style;

use crate::detect::Kind;
use crate::findings::Finding;
use crate::fmt;
use crate::ingest::SeriesSet;
use crate::planned::{self, PlannedRow};
use rayon::prelude::*;
use std::path::Path;

/// A chart that could not be drawn or written.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// plotters failed (drawing or writing the PNG).
    #[error("cannot draw chart: {0}")]
    Draw(String),
}

/// A file name safe on every system: lower-case letters, digits and dashes.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// `charts/<force>-<system>-<start>.png` for a finding.
pub fn chart_name(f: &Finding) -> String {
    let mut parts: Vec<String> = f.key.iter().map(|k| slug(k)).collect();
    parts.push(slug(&f.start.replace(':', "")));
    format!("charts/{}.png", parts.join("-"))
}

/// A title a person understands.
pub fn finding_title(f: &Finding) -> String {
    let who = f.key.join(" — ");
    let files = f
        .objects_lost
        .map(|o| format!(" ({} files)", fmt::count(o)))
        .unwrap_or_default();
    let what = fmt::bytes(f.drop_bytes as f64);
    let when = fmt::date_time(f.start_ts);
    match f.kind {
        Kind::Loss => format!("{who}: {what}{files} lost on {when}"),
        Kind::Transient => format!(
            "{who}: {what}{files} unavailable on {when}, back {}",
            if f.recovered_at.is_empty() {
                "later".to_string()
            } else {
                fmt::date(parse_ts(&f.recovered_at))
            }
        ),
        Kind::Planned => format!("{who}: {what}{files} removed on {when} (planned)"),
    }
}

fn parse_ts(s: &str) -> i64 {
    crate::ingest::timestamp::parse(s).unwrap_or(0)
}

/// The lines under the title: the test, the planned window, and when the
/// finding was detected when that is outside the chart's range (a scan of
/// history).
pub fn finding_subtitle(f: &Finding, detected_at: i64, chart_to: i64) -> String {
    let z = if f.z_score < -100.0 {
        "over 100σ".to_string()
    } else {
        format!("{:.1}σ", -f.z_score)
    };
    let mut first = format!(
        "{:.1}% drop between {} and {}, {z} below the series' normal change ({})",
        f.drop_pct,
        fmt::date_time(f.before_ts),
        fmt::date_time(f.end_ts),
        fmt::p_value(f.p_value)
    );
    if detected_at > chart_to {
        first.push_str(&format!("; detected {}", fmt::date_time(detected_at)));
    }
    let second = if f.planned_reason.is_empty() {
        "No planned window covers it.".to_string()
    } else if f.exceeded_plan {
        format!(
            "Happened during the planned window \"{}\" but went beyond its plan.",
            f.planned_reason
        )
    } else {
        format!("Explained by the planned window \"{}\".", f.planned_reason)
    };
    format!("{first}\n{second}")
}

/// Renders one chart per finding (in parallel) into `dir/charts/`, and sets
/// each finding's `chart` field. `detected_at` is marked when it lies in range.
pub fn render_findings(
    dir: &Path,
    findings: &mut [Finding],
    set: &SeriesSet,
    plans: &[PlannedRow],
    detected_at: i64,
    recovery_samples: usize,
    size: (u32, u32),
) -> Result<(), ChartError> {
    std::fs::create_dir_all(dir.join("charts")).map_err(|e| ChartError::Draw(e.to_string()))?;
    let snapshot: Vec<Finding> = findings.to_vec();
    let names: Vec<String> = snapshot.iter().map(chart_name).collect();
    snapshot
        .par_iter()
        .zip(names.par_iter())
        .try_for_each(|(f, name)| {
            let s = set.get(f.series);
            let step = f.interval_secs.max(1);
            let from = f.before_ts - (90 * 86_400).max(60 * step);
            let to = f.end_ts + (30 * 86_400).max(20 * step);
            let same: Vec<&Finding> = snapshot.iter().filter(|g| g.series == f.series).collect();
            let to = to.min(s.times.last().copied().unwrap_or(to)).max(f.end_ts);
            let chart = series::SeriesChart {
                title: finding_title(f),
                subtitle: finding_subtitle(f, detected_at, to),
                times: s.times,
                bytes: s.bytes,
                step_secs: step,
                from: from.max(s.times.first().copied().unwrap_or(from)),
                to,
                findings: same,
                focus: Some(f),
                plans: planned::for_series(plans, s.key),
                detected: Some(detected_at),
                recovery_samples,
            };
            series::render(&dir.join(name), &chart, size).map(|_| ())
        })?;
    for (f, name) in findings.iter_mut().zip(names) {
        f.chart = name;
    }
    Ok(())
}
