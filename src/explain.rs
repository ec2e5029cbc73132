//! `scan --explain` / `--explain-all`: every candidate reduction the engine
//! examined, with the value each test saw against its threshold and the
//! verdict (the kind flagged, or the first test that failed), so a user can
//! see which knob to turn.

use crate::config::Thresholds;
use crate::detect::{self, DetectParams};
use crate::ingest::{timestamp, SeriesSet};
use crate::planned::{self, PlannedRow};
use rayon::prelude::*;
use serde::Serialize;

/// One candidate reduction.
#[derive(Debug, Clone, Serialize)]
pub struct ExplainRow {
    /// Series, `KEY1/KEY2`.
    pub series: String,
    /// First reduced sample.
    pub start: String,
    /// Last sample of the drop.
    pub end: String,
    /// Observed drop in percent (empty when not tested).
    pub drop_pct: Option<f64>,
    /// Drop beyond the series' normal change, in percent.
    pub excess_pct: Option<f64>,
    /// Threshold both must reach.
    pub min_drop_pct: f64,
    /// One-sided p-value.
    pub p_value: Option<f64>,
    /// Threshold it must not exceed.
    pub alpha: f64,
    /// The kind flagged, or why not.
    pub verdict: String,
}

fn finite(x: f64, digits: i32) -> Option<f64> {
    x.is_finite()
        .then(|| (x * 10f64.powi(digits)).round() / 10f64.powi(digits))
}

/// Explains one series (`Some(index)`) or all of them.
pub fn explain(
    set: &SeriesSet,
    plans: &[PlannedRow],
    thresholds: &Thresholds,
    only: Option<usize>,
) -> Vec<ExplainRow> {
    let idx: Vec<usize> = match only {
        Some(i) => vec![i],
        None => (0..set.len()).collect(),
    };
    idx.into_par_iter()
        .flat_map_iter(|i| {
            let s = set.get(i);
            let p: DetectParams = thresholds.for_series(&set.key_names, s.key).into_owned();
            let windows = planned::for_series(plans, s.key);
            let r = detect::detect_traced(s.times, s.bytes, s.objects, &windows, &p, true);
            let date_only = s.date_only();
            r.candidates
                .into_iter()
                .map(|c| ExplainRow {
                    series: s.label(),
                    start: timestamp::format(s.times[c.start_idx], date_only),
                    end: timestamp::format(s.times[c.end_idx], date_only),
                    drop_pct: finite(c.drop_pct, 3),
                    excess_pct: finite(c.excess_pct, 3),
                    min_drop_pct: p.min_drop_pct,
                    p_value: c.p_value.is_finite().then_some(c.p_value),
                    alpha: p.alpha,
                    verdict: c.verdict,
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The rows as a readable table (for a terminal: text from the data, such
/// as a planned-window reason in a verdict, has its control characters
/// shown escaped).
pub fn render(rows: &[ExplainRow]) -> String {
    let mut s = String::from(
        "start        end          drop %  beyond normal %  (min)   p-value    (alpha)  verdict\n",
    );
    for r in rows {
        let opt =
            |x: Option<f64>, w: usize| x.map_or(format!("{:>w$}", "-"), |v| format!("{v:>w$.2}"));
        let p = r.p_value.map_or("-".to_string(), |p| format!("{p:.2e}"));
        s.push_str(&format!(
            "{:<12} {:<12} {} {} ({:>4}) {:>10} ({:>6})  {}\n",
            crate::fmt::term(&r.start),
            crate::fmt::term(&r.end),
            opt(r.drop_pct, 7),
            opt(r.excess_pct, 16),
            r.min_drop_pct,
            p,
            r.alpha,
            crate::fmt::term(&r.verdict)
        ));
    }
    s
}
