//! The validated configuration the rest of the program sees: defaults, then
//! the TOML file (`--config`), then command-line flags, validated once.

use crate::cli::ThresholdArgs;
use crate::detect::{DetectParams, ParamError};
use crate::ingest::ColumnNames;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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

/// Thresholds for some series only: every series whose key columns have
/// the values in `match` (or whose `KEY1/KEY2` name is `series`) gets the
/// values in `set` on top of `[detect]`. Later overrides win over earlier.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// Exact series name, `KEY1/KEY2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    /// Key column values, e.g. `{ system = "File shares" }`.
    #[serde(default, rename = "match", skip_serializing_if = "BTreeMap::is_empty")]
    pub matches: BTreeMap<String, String>,
    /// The thresholds to use there.
    #[serde(default)]
    pub set: ThresholdArgs,
}

impl Override {
    /// Whether this override applies to a series.
    pub fn applies(&self, key_names: &[String], key: &[String]) -> bool {
        self.series.as_ref().is_none_or(|s| *s == key.join("/"))
            && self.matches.iter().all(|(col, want)| {
                key_names
                    .iter()
                    .position(|k| k == col)
                    .is_some_and(|i| key.get(i) == Some(want))
            })
    }
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
    /// Per-system and per-series thresholds.
    #[serde(default, rename = "override", skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<Override>,
}

impl Override {
    /// How the override is written, for messages: `series = "A/B"`,
    /// `match system = "File shares"`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(sr) = &self.series {
            parts.push(format!("series = \"{sr}\""));
        }
        if !self.matches.is_empty() {
            let m: Vec<String> = self
                .matches
                .iter()
                .map(|(k, v)| format!("{k} = \"{v}\""))
                .collect();
            parts.push(format!("match {}", m.join(", ")));
        }
        if parts.is_empty() {
            "every series".into()
        } else {
            parts.join(", ")
        }
    }
}

/// Warnings for the overrides that apply to no series of the input (a
/// misspelt name, or a column that is not a key column): their thresholds
/// are never used, which an operator who wrote them should know. `file` is
/// the configuration file.
pub fn unmatched_overrides(
    overrides: &[Override],
    key_names: &[String],
    keys: &[Vec<String>],
    file: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    for (i, o) in overrides.iter().enumerate() {
        if keys.iter().any(|k| o.applies(key_names, k)) {
            continue;
        }
        let not_keys: Vec<&str> = o
            .matches
            .keys()
            .filter(|c| !key_names.contains(c))
            .map(String::as_str)
            .collect();
        let hint = if not_keys.is_empty() {
            "a misspelt name?".to_string()
        } else {
            format!(
                "`{}` is not a key column; the key columns are {}",
                not_keys.join("`, `"),
                key_names.join(", ")
            )
        };
        out.push(format!(
            "configuration {file}: override #{} ({}) matches no series in the input ({hint}); its thresholds are not used",
            i + 1,
            o.describe()
        ));
    }
    out
}

/// Thresholds for every series: the base values, the file's overrides and
/// the command-line flags (which win over the file, overrides included).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Thresholds {
    /// Base values (`[detect]` with the flags applied).
    pub base: DetectParams,
    /// Overrides from the file, in order.
    pub overrides: Vec<Override>,
    /// The flags given on the command line.
    #[serde(skip)]
    pub flags: ThresholdArgs,
}

impl Thresholds {
    /// The same thresholds for every series.
    pub fn uniform(p: &DetectParams) -> Thresholds {
        Thresholds {
            base: p.clone(),
            ..Default::default()
        }
    }

    /// The thresholds of one series.
    pub fn for_series(
        &self,
        key_names: &[String],
        key: &[String],
    ) -> std::borrow::Cow<'_, DetectParams> {
        let mut hits = self
            .overrides
            .iter()
            .filter(|o| o.applies(key_names, key))
            .peekable();
        if hits.peek().is_none() {
            return std::borrow::Cow::Borrowed(&self.base);
        }
        let mut p = self.base.clone();
        for o in hits {
            o.set.apply(&mut p);
        }
        self.flags.apply(&mut p);
        std::borrow::Cow::Owned(p)
    }

    /// Checks that every override gives valid thresholds.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.base.validate()?;
        for (k, o) in self.overrides.iter().enumerate() {
            let mut p = self.base.clone();
            o.set.apply(&mut p);
            self.flags.apply(&mut p);
            p.validate().map_err(|e| ConfigError::Override(k + 1, e))?;
        }
        Ok(())
    }
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
    /// A value outside its range. Transparent: the message is the
    /// parameter error's own, printed once (not again as its cause).
    #[error(transparent)]
    Invalid(#[from] ParamError),
    /// A value outside its range in an override.
    #[error("override #{0}: {1}")]
    Override(usize, ParamError),
    /// A value outside its range, with where it was written: the flag, or
    /// the configuration file and its table.
    #[error("{place}: {error}")]
    InvalidAt {
        /// `--max-drop-samples`, `configuration c.toml, [detect]`, …
        place: String,
        /// The value and its range.
        error: ParamError,
    },
    /// Unusable column names (no key column, an empty or repeated name).
    #[error("{0}")]
    Columns(String),
}

/// The final configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Detection thresholds (base values).
    pub detect: DetectParams,
    /// Per-system and per-series overrides.
    pub overrides: Vec<Override>,
    /// Input column names.
    pub columns: ColumnNames,
}

/// Largest configuration file read, in bytes (1 MiB: a real one is a few
/// KB, even with hundreds of overrides).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

impl ConfigFile {
    /// Loads and parses a TOML configuration file: a regular file (a FIFO or
    /// device is refused at once) of at most [`MAX_CONFIG_BYTES`].
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let file = path.display().to_string();
        let bytes = crate::ingest::read_small(path, MAX_CONFIG_BYTES, "configuration file")
            .map_err(|reason| ConfigError::Read {
                file: file.clone(),
                reason,
            })?;
        let text = String::from_utf8(bytes).map_err(|e| ConfigError::Parse {
            file: file.clone(),
            reason: format!("not valid UTF-8 (at byte {})", e.utf8_error().valid_up_to()),
        })?;
        let cfg: ConfigFile = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            file: file.clone(),
            reason: toml_reason(&text, &e),
        })?;
        if let Some(keys) = &cfg.columns.keys {
            check_keys(keys).map_err(|why| {
                ConfigError::Columns(format!("configuration {file}: [columns] keys: {why}"))
            })?;
        }
        Ok(cfg)
    }
}

/// A TOML error on one line: "line L, column C: message" (the parser's own
/// text spans several lines, with the source quoted).
fn toml_reason(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or("");
            let line = before.matches('\n').count() + 1;
            let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {col}: {msg}")
        }
        None => msg,
    }
}

/// Checks a list of key columns: at least one, none empty, none repeated.
pub fn check_keys(keys: &[String]) -> Result<(), String> {
    if keys.is_empty() {
        return Err("no key column: give the columns that name a series, e.g. force,system".into());
    }
    if keys.iter().any(|k| k.trim().is_empty()) {
        return Err("an empty column name".into());
    }
    for (i, k) in keys.iter().enumerate() {
        if keys[..i].contains(k) {
            return Err(format!("`{k}` is given twice"));
        }
    }
    Ok(())
}

/// Parses `--key-cols A,B`: comma-separated names, spaces around them
/// ignored; no name, an empty name or a repeated one is a usage error.
pub fn parse_key_cols(s: &str) -> Result<String, String> {
    let keys: Vec<String> = s.split(',').map(|k| k.trim().to_string()).collect();
    let keys = if keys.iter().all(String::is_empty) {
        Vec::new()
    } else {
        keys
    };
    check_keys(&keys)?;
    Ok(s.to_string())
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

# Per-system or per-series thresholds, on top of [detect] (flags still win):
# [[override]]
# match = {{ system = "File shares" }}
# set = {{ min_drop_pct = 3.0 }}
#
# [[override]]
# series = "South Yorkshire Police/Body-worn video"
# set = {{ min_drop_pct = 1.0, alpha = 0.01 }}

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
    fn overrides_matching_nothing_are_named() {
        let names = vec!["force".to_string(), "system".to_string()];
        let keys = vec![vec!["Kent".to_string(), "Custody".to_string()]];
        let o = |m: &[(&str, &str)], series: Option<&str>| Override {
            series: series.map(str::to_string),
            matches: m
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            set: ThresholdArgs::default(),
        };
        let all = [
            o(&[("system", "Custody")], None),
            o(&[("system", "Custdy")], None),
            o(&[("sytem", "Custody")], None),
            o(&[], Some("Kent/Custody")),
            o(&[], Some("Kent/Nothing")),
        ];
        let w = unmatched_overrides(&all, &names, &keys, "c.toml");
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].contains("override #2") && w[0].contains("Custdy"));
        assert!(w[1].contains("override #3") && w[1].contains("`sytem` is not a key column"));
        assert!(w[2].contains("override #5") && w[2].contains("Kent/Nothing"));
    }

    #[test]
    fn key_columns_are_checked() {
        assert!(parse_key_cols("force, system").is_ok());
        for bad in ["", " ", ",", " , ,", "force,,system", "force,force"] {
            assert!(parse_key_cols(bad).is_err(), "`{bad}`");
        }
    }

    #[test]
    fn toml_errors_are_one_line_with_line_and_column() {
        let text = "[detect]\nmin_drop_pc = 3\n";
        let e = toml::from_str::<ConfigFile>(text).unwrap_err();
        let r = toml_reason(text, &e);
        assert!(r.starts_with("line 2, column 1: "), "{r}");
        assert!(!r.contains('\n') && r.contains("min_drop_pc"), "{r}");
    }

    #[test]
    fn unknown_key_is_named() {
        let e = toml::from_str::<ConfigFile>("[detect]\nmin_drop_pc = 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("min_drop_pc"), "{e}");
    }
}
