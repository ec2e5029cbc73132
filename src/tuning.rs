//! Tuning, the library part of `shrinkwatch tune`: what a recommendation
//! optimises, the scores of a setting, the grid (from the threshold table)
//! and the stable held-out split. The command itself is argument glue in
//! `commands/tune.rs`.

use crate::config::ThresholdSet;
use crate::detect::params::{Threshold, Tuning, THRESHOLDS};
use crate::detect::DetectParams;
use serde::Serialize;

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

/// The thresholds swept and their grids: the rows of the threshold table
/// with a grid, less those a flag pins (a flag is the user's decision).
pub fn grid(pinned: &ThresholdSet) -> Vec<(&'static Threshold, &'static [f64])> {
    THRESHOLDS
        .iter()
        .filter(|t| !pinned.contains(t.name))
        .filter_map(|t| match t.tuning {
            Tuning::Grid(g) => Some((t, g)),
            Tuning::Fixed(_) => None,
        })
        .collect()
}

/// The swept thresholds' names (the columns of `tune.csv` and `tune.md`).
pub fn swept() -> Vec<&'static Threshold> {
    THRESHOLDS
        .iter()
        .filter(|t| matches!(t.tuning, Tuning::Grid(_)))
        .collect()
}

pub fn better(a: &Score, b: &Score, obj: Objective) -> bool {
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
pub fn held_out(name: &str, share: f64) -> bool {
    let h = crate::hash::fnv1a(name.as_bytes());
    (h % 10_000) as f64 / 10_000.0 < share
}
