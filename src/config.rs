//! The validated configuration the rest of the program sees: defaults, then
//! the TOML file (`--config`), then command-line flags, validated once.

use crate::detect::{DetectParams, ParamError};
use crate::ingest::ColumnNames;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The `[columns]` table of the configuration file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnsFile {
    /// Timestamp column.
    pub time: Option<String>,
    /// Key columns.
    pub keys: Option<Vec<String>>,
    /// Bytes column.
    pub value: Option<String>,
    /// Object-count column.
    pub count: Option<String>,
}

/// The configuration file as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Detection thresholds.
    #[serde(default)]
    pub detect: DetectParams,
    /// Input column names.
    #[serde(default)]
    pub columns: ColumnsFile,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration {file}: {reason}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// The file is not valid TOML or has unknown keys.
    #[error("configuration {file}: {reason}")]
    Parse {
        /// The file.
        file: String,
        /// The parser's message (names line, column and key).
        reason: String,
    },
    /// A value outside its range.
    #[error("{0}")]
    Invalid(#[from] ParamError),
}

/// The final configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    /// Detection thresholds.
    pub detect: DetectParams,
    /// Input column names.
    pub columns: ColumnNames,
}

impl ConfigFile {
    /// Loads and parses a TOML configuration file.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            file: file.clone(),
            reason: e.to_string(),
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            file,
            reason: e.to_string().trim_end().replace('\n', " "),
        })
    }
}

/// Builds [`ColumnNames`] from the file's table and the flags (flags win).
pub fn columns(
    file: &ColumnsFile,
    time: Option<&str>,
    keys: Option<&str>,
    value: Option<&str>,
    count: Option<&str>,
) -> ColumnNames {
    let d = ColumnNames::default();
    let count_named = count.map(str::to_string).or_else(|| file.count.clone());
    ColumnNames {
        time: time
            .map(str::to_string)
            .or_else(|| file.time.clone())
            .unwrap_or(d.time),
        keys: keys
            .map(|k| {
                k.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .or_else(|| file.keys.clone())
            .unwrap_or(d.keys),
        value: value
            .map(str::to_string)
            .or_else(|| file.value.clone())
            .unwrap_or(d.value),
        count_required: count_named.is_some(),
        count: count_named.unwrap_or(d.count),
    }
}

/// The default configuration as commented TOML (`config --print-default`).
pub fn default_toml() -> String {
    let d = DetectParams::default();
    let c = ColumnNames::default();
    format!(
        r#"# shrinkwatch configuration. Every key is optional; flags on the command line
# win over this file. Use it with `shrinkwatch scan --config FILE`.

[detect]
# Smallest reduction that counts, in percent of the stored bytes. Both the
# observed drop and the drop beyond the series' normal change must reach it.
min_drop_pct = {}
# Smallest reduction in bytes that counts (0 = no floor).
min_drop_bytes = {}
# Significance: one-sided p-value of the shortfall against the series' own
# recent changes must be at most this.
alpha = {}
# A sudden reduction happens within at most this many samples.
max_drop_samples = {}
# A reduction that regains its level within this many samples is `transient`.
recovery_samples = {}
# Share of the drop (0-1) that must come back to count as recovered.
recovery_fraction = {}
# Days of history from which each series' normal change is learned.
baseline_days = {}
# Fewest usable changes in that window before anything is tested.
min_history = {}
# A sample is part of a drop when its change is this many robust standard
# deviations below the expected change.
step_z = {}
# A drop must also be this many times as far below expectation as the worst
# normal change in the baseline window (0 = off); guards heavy-tailed series.
extreme_margin = {}
# Learn the expected change per weekday (hour-of-week for sub-daily data), so
# routine weekly jobs are normal.
weekly = {}
# Percentage points by which a reduction may exceed a planned window's
# expected size and still count as `planned`.
planned_tolerance_pct = {}
# Relative tolerance on a plan's expected size (0.2 = it may be a fifth too
# small), added to planned_tolerance_pct.
planned_tolerance_rel = {}

[columns]
time = "{}"
keys = [{}]
value = "{}"
# Object (file/record) count column. Used when present in the data; naming it
# here makes it required.
# count = "{}"
"#,
        d.min_drop_pct,
        d.min_drop_bytes,
        d.alpha,
        d.max_drop_samples,
        d.recovery_samples,
        d.recovery_fraction,
        d.baseline_days,
        d.min_history,
        d.step_z,
        d.extreme_margin,
        d.weekly,
        d.planned_tolerance_pct,
        d.planned_tolerance_rel,
        c.time,
        c.keys
            .iter()
            .map(|k| format!("\"{k}\""))
            .collect::<Vec<_>>()
            .join(", "),
        c.value,
        c.count
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_toml_round_trips() {
        let f: ConfigFile = toml::from_str(&default_toml()).unwrap();
        assert_eq!(f.detect, DetectParams::default());
        assert_eq!(
            columns(&f.columns, None, None, None, None).keys,
            vec!["force", "system"]
        );
    }

    #[test]
    fn unknown_key_is_named() {
        let e = toml::from_str::<ConfigFile>("[detect]\nmin_drop_pc = 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("min_drop_pc"), "{e}");
    }
}
