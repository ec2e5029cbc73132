//! Detection thresholds. Every field is a command-line flag and a key of the
//! TOML configuration (see `config.rs`); [`DetectParams::validate`] rejects
//! nonsense values at the edge with a message that names the key.

use serde::{Deserialize, Serialize};

/// The knobs of the detector. Defaults were chosen by `shrinkwatch evaluate`
/// over several generator seeds and harder shapes (see README, "Choosing the
/// defaults").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectParams {
    /// Smallest reduction, in percent of the stored bytes, that counts as
    /// substantial. Both the observed drop and the drop beyond the series'
    /// normal change must reach it.
    pub min_drop_pct: f64,
    /// Smallest reduction in bytes that counts (0 = no byte floor).
    pub min_drop_bytes: u64,
    /// Significance: a reduction is unusual when the one-sided p-value of its
    /// shortfall against the series' own recent changes is at most this.
    pub alpha: f64,
    /// A sudden reduction happens within at most this many samples.
    pub max_drop_samples: usize,
    /// A reduction that regains its level within this many samples after it
    /// ends is `transient`, otherwise `loss`.
    pub recovery_samples: usize,
    /// Share of the drop (0–1) that must come back for a recovery.
    pub recovery_fraction: f64,
    /// Length of the trailing window, in days, from which the normal change
    /// of a series is learned.
    pub baseline_days: f64,
    /// Fewest usable changes in the baseline window before anything is tested.
    pub min_history: usize,
    /// A sample belongs to a drop when its change is at least this many robust
    /// standard deviations below the expected change.
    pub step_z: f64,
    /// A drop must also be at least this many times as far below expectation
    /// as the worst normal change in the baseline window (0 = off). Guards
    /// against heavy-tailed series where the t-test alone is overconfident.
    pub extreme_margin: f64,
    /// Learn a separate expected change per weekday (per slot of the week for
    /// sub-daily series), so routine weekly jobs are normal.
    pub weekly: bool,
    /// Tolerance, in percentage points, by which a reduction may exceed the
    /// expected size of a planned window and still count as `planned`.
    pub planned_tolerance_pct: f64,
    /// Relative tolerance on a plan's expected size (0.2 = the plan may be
    /// underestimated by a fifth), added to `planned_tolerance_pct`.
    pub planned_tolerance_rel: f64,
}

impl Default for DetectParams {
    fn default() -> Self {
        DetectParams {
            min_drop_pct: 1.5,
            min_drop_bytes: 0,
            alpha: 1e-3,
            max_drop_samples: 3,
            recovery_samples: 3,
            recovery_fraction: 0.9,
            baseline_days: 84.0,
            min_history: 14,
            step_z: 2.0,
            extreme_margin: 1.0,
            weekly: true,
            planned_tolerance_pct: 2.0,
            planned_tolerance_rel: 0.2,
        }
    }
}

/// A threshold outside its allowed range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid value {value} for `{key}`: must be {allowed}")]
pub struct ParamError {
    /// The flag / configuration key, e.g. `min_drop_pct`.
    pub key: &'static str,
    /// The rejected value, as written.
    pub value: String,
    /// The allowed range in words.
    pub allowed: &'static str,
}

fn check(
    ok: bool,
    key: &'static str,
    value: impl ToString,
    allowed: &'static str,
) -> Result<(), ParamError> {
    if ok {
        Ok(())
    } else {
        Err(ParamError {
            key,
            value: value.to_string(),
            allowed,
        })
    }
}

impl DetectParams {
    /// Rejects values outside their meaningful ranges.
    pub fn validate(&self) -> Result<(), ParamError> {
        let p = self;
        check(
            p.min_drop_pct.is_finite() && p.min_drop_pct > 0.0 && p.min_drop_pct < 100.0,
            "min_drop_pct",
            p.min_drop_pct,
            "a percentage in (0, 100)",
        )?;
        check(
            p.alpha.is_finite() && p.alpha > 0.0 && p.alpha < 1.0,
            "alpha",
            p.alpha,
            "a probability in (0, 1)",
        )?;
        check(
            (1..=50).contains(&p.max_drop_samples),
            "max_drop_samples",
            p.max_drop_samples,
            "a whole number from 1 to 50",
        )?;
        check(
            p.recovery_samples <= 1000,
            "recovery_samples",
            p.recovery_samples,
            "a whole number from 0 to 1000",
        )?;
        check(
            p.recovery_fraction.is_finite()
                && p.recovery_fraction > 0.0
                && p.recovery_fraction <= 1.0,
            "recovery_fraction",
            p.recovery_fraction,
            "a fraction in (0, 1]",
        )?;
        check(
            p.baseline_days.is_finite() && p.baseline_days >= 1.0 && p.baseline_days <= 3660.0,
            "baseline_days",
            p.baseline_days,
            "a number of days from 1 to 3660",
        )?;
        check(
            (2..=10_000).contains(&p.min_history),
            "min_history",
            p.min_history,
            "a whole number from 2 to 10000",
        )?;
        check(
            p.step_z.is_finite() && p.step_z >= 0.0 && p.step_z <= 100.0,
            "step_z",
            p.step_z,
            "a number from 0 to 100",
        )?;
        check(
            p.planned_tolerance_pct.is_finite() && (0.0..=100.0).contains(&p.planned_tolerance_pct),
            "planned_tolerance_pct",
            p.planned_tolerance_pct,
            "a percentage from 0 to 100",
        )?;
        check(
            p.extreme_margin.is_finite() && (0.0..=100.0).contains(&p.extreme_margin),
            "extreme_margin",
            p.extreme_margin,
            "a number from 0 to 100",
        )?;
        check(
            p.planned_tolerance_rel.is_finite() && (0.0..=10.0).contains(&p.planned_tolerance_rel),
            "planned_tolerance_rel",
            p.planned_tolerance_rel,
            "a fraction from 0 to 10",
        )?;
        Ok(())
    }
}
