//! The settings layer, below the command line: the configuration file
//! (`--config`), per-series overrides, and the one rule that resolves the
//! thresholds of a series, used by every command: defaults < file `[detect]`
//! < matching overrides (in order) < flags ([`Thresholds::resolve`],
//! [`Thresholds::for_series`]). Threshold names, kinds and ranges come from
//! the table in `detect::params`.

use crate::detect::params::{threshold, Threshold, Value, THRESHOLDS};
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
    pub set: ThresholdSet,
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
    /// Detection thresholds (`[detect]`): any of the table's keys, on top
    /// of the defaults.
    #[serde(default, skip_serializing_if = "ThresholdSet::is_empty")]
    pub detect: ThresholdSet,
    /// Input column names.
    #[serde(default)]
    pub columns: ColumnsFile,
    /// Per-system and per-series thresholds.
    #[serde(default, rename = "override", skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<Override>,
    /// Object inventories of some series (`[[inventory]]`): a new loss on
    /// one is diffed against the listings taken around it.
    #[serde(default, rename = "inventory", skip_serializing_if = "Vec::is_empty")]
    pub inventories: Vec<InventoryMap>,
}

/// `[[inventory]]`: where the nightly object inventories of a series are
/// (S3 Inventory or Azure Blob Inventory manifests, or plain listings named
/// by their date). A relative `path` is relative to the configuration
/// file's folder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryMap {
    /// The series, `KEY1/KEY2` (e.g. `South Yorkshire Police/Body-worn video`).
    pub series: String,
    /// The folder holding its inventories.
    pub path: std::path::PathBuf,
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

/// Some thresholds by name: a per-series override's `set` table, or the
/// thresholds given as flags. Names and kinds of value are those of
/// [`THRESHOLDS`]; an unknown name or a value of the wrong kind is refused.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThresholdSet(BTreeMap<&'static str, Value>);

impl ThresholdSet {
    /// Sets one threshold (a value of the wrong kind is ignored: the table's
    /// parsers never make one).
    pub fn insert(&mut self, t: &'static Threshold, v: Value) {
        if let Some(v) = t.unit.coerce(v) {
            self.0.insert(t.name, v);
        }
    }

    /// Whether it sets this threshold.
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Every threshold of `p` (a whole configuration, e.g. tune's recommendation).
    pub fn of(p: &DetectParams) -> ThresholdSet {
        ThresholdSet(THRESHOLDS.iter().map(|t| (t.name, (t.get)(p))).collect())
    }

    /// Whether it sets nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Writes its values over `p`.
    pub fn apply(&self, p: &mut DetectParams) {
        for t in THRESHOLDS {
            if let Some(v) = self.0.get(t.name) {
                (t.set)(p, *v);
            }
        }
    }
}

impl Serialize for ThresholdSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for t in THRESHOLDS {
            match self.0.get(t.name) {
                Some(Value::Num(x)) => m.serialize_entry(t.name, x)?,
                Some(Value::Int(n)) => m.serialize_entry(t.name, n)?,
                Some(Value::Bool(b)) => m.serialize_entry(t.name, b)?,
                Some(v @ Value::Secs(_)) => m.serialize_entry(t.name, &v.to_string())?,
                None => {}
            }
        }
        m.end()
    }
}

/// A threshold's name in a file: an unknown one is an error at the key
/// (so the file's parser names its line and column).
struct Name(&'static Threshold);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let k = String::deserialize(d)?;
        threshold(&k).map(Name).ok_or_else(|| {
            let names: Vec<String> = THRESHOLDS.iter().map(|t| format!("`{}`", t.name)).collect();
            serde::de::Error::custom(format!(
                "unknown field `{k}`, expected one of {}",
                names.join(", ")
            ))
        })
    }
}

/// A threshold's value in a file, checked against its kind at the value.
struct Typed(&'static Threshold);

impl<'de> serde::de::DeserializeSeed<'de> for Typed {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        /// A value as any format writes it.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bool(bool),
            Int(u64),
            Num(f64),
            Text(String),
        }
        let t = self.0;
        let v = match Raw::deserialize(d)? {
            Raw::Bool(b) => Value::Bool(b),
            Raw::Int(n) => Value::Int(n),
            Raw::Num(x) => Value::Num(x),
            Raw::Text(text) => t.unit.parse(&text).map_err(serde::de::Error::custom)?,
        };
        t.unit.coerce(v).ok_or_else(|| {
            serde::de::Error::custom(format!("`{}`: `{v}` is not {}", t.name, t.range.words))
        })
    }
}

impl<'de> Deserialize<'de> for ThresholdSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = ThresholdSet;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a table of thresholds")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<ThresholdSet, A::Error> {
                let mut set = ThresholdSet::default();
                while let Some(Name(t)) = m.next_key()? {
                    let v = m.next_value_seed(Typed(t))?;
                    set.0.insert(t.name, v);
                }
                Ok(set)
            }
        }
        d.deserialize_map(Visit)
    }
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
    pub flags: ThresholdSet,
}

impl Thresholds {
    /// The one resolution rule: defaults < the file's `[detect]` < its
    /// matching overrides, in order < the flags. Validated here, once: a
    /// value out of range names where it was written (the flag, or the file
    /// and its table). `file_name` is the configuration file, if any.
    pub fn resolve(
        file: &ConfigFile,
        file_name: Option<&str>,
        flags: &ThresholdSet,
    ) -> Result<Thresholds, ConfigError> {
        let mut base = DetectParams::default();
        file.detect.apply(&mut base);
        flags.apply(&mut base);
        let t = Thresholds {
            base,
            overrides: file.overrides.clone(),
            flags: flags.clone(),
        };
        t.validate().map_err(|e| match e {
            ConfigError::Invalid(error) => {
                let place = match (flags.contains(error.key), file_name) {
                    (true, _) => format!("--{}", error.key.replace('_', "-")),
                    (false, Some(f)) => format!("configuration {f}, [detect]"),
                    (false, None) => return ConfigError::Invalid(error),
                };
                ConfigError::InvalidAt { place, error }
            }
            // An override's own values: the flags were checked with the base.
            ConfigError::Override(n, error) => match file_name {
                Some(f) => ConfigError::InvalidAt {
                    place: format!("configuration {f}, override #{n}"),
                    error,
                },
                None => ConfigError::Override(n, error),
            },
            other => other,
        })?;
        Ok(t)
    }

    /// The same overrides and flags over other base values (what `tune`
    /// tries): a series gets exactly what `scan` would give it with those
    /// values in the file.
    pub fn with_base(&self, base: DetectParams) -> Thresholds {
        let mut base = base;
        self.flags.apply(&mut base);
        Thresholds {
            base,
            overrides: self.overrides.clone(),
            flags: self.flags.clone(),
        }
    }

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

/// The default configuration as commented TOML (`config --print-default`):
/// every threshold of [`THRESHOLDS`] with its documentation and default.
pub fn default_toml() -> String {
    let c = ColumnNames::default();
    let mut detect = String::new();
    for t in THRESHOLDS {
        for line in t.doc.lines() {
            detect.push_str("# ");
            detect.push_str(line);
            detect.push('\n');
        }
        detect.push_str(&format!("{} = {}\n", t.name, t.default.toml()));
    }
    format!(
        r#"# shrinkwatch configuration. Every key is optional; flags on the command line
# win over this file. Use it with `shrinkwatch scan --config FILE`.

[detect]
{detect}
# Per-system or per-series thresholds, on top of [detect] (flags still win):
# [[override]]
# match = {{ system = "File shares" }}
# set = {{ {first} = 3.0 }}
#
# [[override]]
# series = "South Yorkshire Police/Body-worn video"
# set = {{ {first} = 1.0, {third} = 0.01 }}

# Object inventories: a new loss on this series is diffed against the
# nightly listing taken before it and the first taken at or after it (S3
# Inventory or Azure Blob Inventory manifests, or plain listings with the
# date in their name), and the report names the files lost. A relative
# path is relative to this file's folder.
# [[inventory]]
# series = "South Yorkshire Police/Body-worn video"
# path = "inventories/syp-bwv"

[columns]
time = "{}"
keys = [{}]
value = "{}"
# Object (file/record) count column. Used when present in the data; naming it
# here makes it required.
# count = "{}"
"#,
        c.time,
        c.keys
            .iter()
            .map(|k| format!("\"{k}\""))
            .collect::<Vec<_>>()
            .join(", "),
        c.value,
        c.count,
        first = THRESHOLDS[0].name,
        third = THRESHOLDS[2].name,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_toml_round_trips() {
        let f: ConfigFile = toml::from_str(&default_toml()).unwrap();
        let mut p = DetectParams::default();
        f.detect.apply(&mut p);
        assert_eq!(p, DetectParams::default());
        assert_eq!(f.detect, ThresholdSet::of(&DetectParams::default()));
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
            set: ThresholdSet::default(),
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
