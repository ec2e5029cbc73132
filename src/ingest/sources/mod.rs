//! Storage figures read where they already live: files exported by
//! monitoring systems (Prometheus `query_range` JSON, `az monitor metrics
//! list` JSON, `aws cloudwatch get-metric-data` JSON, Grafana's CSV export),
//! recognised by content, and a live Prometheus range query.
//!
//! Each reader turns its source into a [`Table`]: points with the key
//! columns taken from the series' labels (see [`KeyMap`]), bytes and object
//! counts joined on series and time. The table becomes a data frame with the
//! standard columns (all text) and goes through the same row validation as a
//! CSV file ([`super::validate::process`]), so a bad value still becomes a
//! row of `rejected.csv` with the file, the record number and the reason.
//! A missing point is never a row: it is a gap, never a zero.

pub mod azure;
pub mod cloudwatch;
pub mod grafana;
pub mod prometheus;
pub mod prometheus_api;
pub mod units;

use super::validate::{process, Ctx, Lines};
use super::{IngestError, RawRows, Rejected};
use polars::prelude::*;
use std::collections::HashMap;

/// Options of the monitoring-system readers (`--key-labels`,
/// `--keep-storage-classes`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceOptions {
    /// Key column → label it is read from (`--key-labels force=job`).
    pub key_labels: Vec<(String, String)>,
    /// CloudWatch: one series per bucket and storage class instead of one per bucket.
    pub keep_storage_classes: bool,
}

/// Parses `--key-labels force=job,system=mountpoint`.
pub fn parse_key_labels(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((col, label)) = part.split_once('=') else {
            return Err(format!(
                "`{part}`: expected COLUMN=LABEL, e.g. force=job,system=mountpoint"
            ));
        };
        let (col, label) = (col.trim(), label.trim());
        if col.is_empty() || label.is_empty() {
            return Err(format!(
                "`{part}`: expected COLUMN=LABEL, e.g. force=job,system=mountpoint"
            ));
        }
        if out.iter().any(|(c, _)| c == col) {
            return Err(format!("key column `{col}` is named twice"));
        }
        out.push((col.to_string(), label.to_string()));
    }
    if out.is_empty() {
        return Err("expected COLUMN=LABEL pairs, e.g. force=job,system=mountpoint".into());
    }
    Ok(out)
}

/// The formats recognised by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus HTTP API `query_range` response saved to a file.
    PrometheusJson,
    /// `az monitor metrics list` output.
    AzureJson,
    /// `aws cloudwatch get-metric-data` output (one or more pages).
    CloudWatchJson,
    /// Grafana panel "Download CSV" (wide: a time column, one column per series).
    GrafanaCsv,
}

impl Format {
    /// The name written in the manifest.
    pub fn name(self) -> &'static str {
        match self {
            Format::PrometheusJson => "prometheus-query-range-json",
            Format::AzureJson => "azure-monitor-metrics-json",
            Format::CloudWatchJson => "cloudwatch-get-metric-data-json",
            Format::GrafanaCsv => "grafana-csv",
        }
    }
}

/// What the JSON formats look like, for the message about an unrecognised file.
pub const JSON_EXPECTED: &str = "expected a Prometheus query_range response ({\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",…}}), the output of `az monitor metrics list` ({\"value\":[{\"name\":…,\"timeseries\":[…]}]}) or of `aws cloudwatch get-metric-data` ({\"MetricDataResults\":[…]})";

/// Recognises a JSON export from its first bytes (the top-level keys).
pub fn detect_json(head: &[u8]) -> Option<Format> {
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if !t.starts_with('{') {
        return None;
    }
    let has = |k: &str| t.contains(&format!("\"{k}\""));
    if has("MetricDataResults") {
        Some(Format::CloudWatchJson)
    } else if has("resultType") || (has("status") && (has("data") || has("errorType"))) {
        Some(Format::PrometheusJson)
    } else if has("timeseries") || (has("value") && (has("timespan") || has("namespace"))) {
        Some(Format::AzureJson)
    } else {
        None
    }
}

/// A value as read: a number, or text that is not one (rejected later, with it).
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// A number.
    Num(f64),
    /// Text that is not a number.
    Bad(String),
}

impl Val {
    /// Parses a value written as text (Prometheus writes `"1234"`, `"NaN"`, `"+Inf"`).
    pub fn parse(s: &str) -> Val {
        match s.trim().parse::<f64>() {
            Ok(v) if v.is_finite() => Val::Num(v),
            _ => Val::Bad(s.to_string()),
        }
    }

    fn add(&self, other: &Val) -> Val {
        match (self, other) {
            (Val::Num(a), Val::Num(b)) => Val::Num(a + b),
            (Val::Bad(a), _) | (_, Val::Bad(a)) => Val::Bad(a.clone()),
        }
    }

    /// The text validation sees: a whole number (averages are rounded to
    /// the nearest whole byte or object), or the offending text.
    fn text(&self) -> String {
        match self {
            Val::Num(v) if *v >= 0.0 => format!("{:.0}", v.round()),
            Val::Num(v) => format!("{v}"),
            Val::Bad(s) => s.clone(),
        }
    }
}

/// Which column a point fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Bytes stored.
    Bytes,
    /// Objects stored.
    Objects,
}

/// How the key columns are read from a series' labels: `--key-labels`
/// first, then a label named like the column, then the format's usual label
/// (e.g. Azure's resource group and storage account). Names match exactly,
/// else ignoring case.
#[derive(Debug, Clone)]
pub struct KeyMap {
    cols: Vec<String>,
    explicit: Vec<Option<String>>,
    fallback: Vec<Vec<&'static str>>,
}

impl KeyMap {
    /// The map for key columns `cols`, with the format's fallbacks per column name.
    pub fn new(
        cols: &[String],
        opts: &SourceOptions,
        fallback: &dyn Fn(&str) -> Vec<&'static str>,
    ) -> KeyMap {
        KeyMap {
            cols: cols.to_vec(),
            explicit: cols
                .iter()
                .map(|c| {
                    opts.key_labels
                        .iter()
                        .find(|(k, _)| k == c)
                        .map(|(_, l)| l.clone())
                })
                .collect(),
            fallback: cols.iter().map(|c| fallback(c)).collect(),
        }
    }

    /// The key values of a series (empty where no label gives one).
    pub fn resolve(&self, labels: &[(String, String)]) -> Vec<String> {
        let find = |name: &str| -> Option<&str> {
            labels
                .iter()
                .find(|(k, _)| k == name)
                .or_else(|| labels.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
                .map(|(_, v)| v.as_str())
        };
        (0..self.cols.len())
            .map(|i| {
                let v = match &self.explicit[i] {
                    Some(l) => find(l),
                    None => find(&self.cols[i])
                        .or_else(|| self.fallback[i].iter().find_map(|f| find(f))),
                };
                v.unwrap_or("").to_string()
            })
            .collect()
    }

    /// Where column `i` is read from, for messages.
    fn source(&self, i: usize) -> String {
        match &self.explicit[i] {
            Some(l) => format!("label `{l}` (--key-labels)"),
            None if self.fallback[i].is_empty() => format!("a label `{}`", self.cols[i]),
            None => format!(
                "a label `{}` (or {})",
                self.cols[i],
                self.fallback[i]
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// One row of a [`Table`].
#[derive(Debug, Clone)]
struct Row {
    series: u32,
    /// Seconds since the epoch, or the text that is not a time.
    time: Result<i64, String>,
    bytes: Option<Val>,
    objects: Option<Val>,
    /// Record number in the source (a point's number in a JSON file, a line
    /// in a CSV file), for `rejected.csv`.
    record: u64,
}

/// Points of one source, keyed and joined, ready for validation.
#[derive(Debug)]
pub struct Table {
    map: KeyMap,
    keys: Vec<Vec<String>>,
    key_ids: HashMap<Vec<String>, u32>,
    /// Label names seen, for the message when a key column has no label.
    label_names: Vec<String>,
    rows: Vec<Row>,
    slots: HashMap<(u32, i64), usize>,
    /// Points read (every point is a row or joined to one).
    pub points: u64,
}

impl Table {
    /// An empty table whose keys are read with `map`.
    pub fn new(map: KeyMap) -> Table {
        Table {
            map,
            keys: Vec::new(),
            key_ids: HashMap::new(),
            label_names: Vec::new(),
            rows: Vec::new(),
            slots: HashMap::new(),
            points: 0,
        }
    }

    /// The key values a series with these labels gets.
    pub fn key_of(&mut self, labels: &[(String, String)]) -> Vec<String> {
        for (k, _) in labels {
            if !self.label_names.contains(k) && self.label_names.len() < 64 {
                self.label_names.push(k.clone());
            }
        }
        self.map.resolve(labels)
    }

    /// The id of a series by its key values.
    pub fn series(&mut self, key: Vec<String>) -> u32 {
        if let Some(&id) = self.key_ids.get(&key) {
            return id;
        }
        let id = self.keys.len() as u32;
        self.keys.push(key.clone());
        self.key_ids.insert(key, id);
        id
    }

    /// The id of the series with these labels.
    pub fn series_of(&mut self, labels: &[(String, String)]) -> u32 {
        let k = self.key_of(labels);
        self.series(k)
    }

    /// Adds one point. A point whose series and time already hold this
    /// metric is added to it when `sum`, else kept as a row of its own (so
    /// validation sees the duplicate or the conflict).
    pub fn put(
        &mut self,
        series: u32,
        time: Result<i64, String>,
        metric: Metric,
        val: Val,
        record: u64,
        sum: bool,
    ) {
        self.points += 1;
        let fresh = |time: Result<i64, String>| {
            let (bytes, objects) = match metric {
                Metric::Bytes => (Some(val.clone()), None),
                Metric::Objects => (None, Some(val.clone())),
            };
            Row {
                series,
                time,
                bytes,
                objects,
                record,
            }
        };
        let Ok(ts) = time else {
            self.rows.push(fresh(time));
            return;
        };
        match self.slots.get(&(series, ts)) {
            None => {
                self.slots.insert((series, ts), self.rows.len());
                self.rows.push(fresh(Ok(ts)));
            }
            Some(&i) => {
                let row = &mut self.rows[i];
                let slot = match metric {
                    Metric::Bytes => &mut row.bytes,
                    Metric::Objects => &mut row.objects,
                };
                match slot {
                    None => {
                        *slot = Some(val.clone());
                        row.record = row.record.min(record);
                    }
                    Some(old) if sum => *old = old.add(&val),
                    Some(_) => self.rows.push(fresh(Ok(ts))),
                }
            }
        }
    }

    /// Rows so far.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when no point was read.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Stops with a clear error when a key column was found in no series.
    fn check_keys(&self, source: &str) -> Result<(), IngestError> {
        if self.keys.is_empty() {
            return Ok(());
        }
        for (i, col) in self.map.cols.iter().enumerate() {
            if self.keys.iter().all(|k| k[i].is_empty()) {
                return Err(IngestError::Unreadable {
                    file: source.to_string(),
                    reason: format!(
                        "no series has {} for the key column `{col}` (labels found: {}); name the label with --key-labels {col}=LABEL",
                        self.map.source(i),
                        if self.label_names.is_empty() {
                            "none".to_string()
                        } else {
                            self.label_names.join(", ")
                        }
                    ),
                });
            }
        }
        Ok(())
    }

    /// Validates the rows (in pieces) into `raw`; returns the rows read.
    pub(in crate::ingest) fn feed(
        self,
        ctx: &Ctx,
        raw: &mut RawRows,
        rejected: &mut Vec<Rejected>,
    ) -> Result<u64, IngestError> {
        self.check_keys(ctx.fname)?;
        // An object count without bytes at that time is not an observation:
        // bytes are what is watched, and their absence is a gap.
        let before = self.rows.len();
        let mut this = self;
        this.rows
            .retain(|r| r.bytes.is_some() || r.objects.is_none() || r.time.is_err());
        if this.rows.len() < before {
            crate::log::debug(format!(
                "{}: {} object counts without bytes at their time left out (gaps in bytes)",
                ctx.fname,
                before - this.rows.len()
            ));
        }
        let this = this;
        const PIECE: usize = 1 << 20;
        let cols = ctx.cols;
        let has_objects = this.rows.iter().any(|r| r.objects.is_some());
        raw.reserve(raw.sid.len() + this.rows.len());
        let mut n = 0u64;
        for piece in this.rows.chunks(PIECE) {
            // Times already read go as date-times (no text round trip);
            // a piece with a time that is not one goes as text, to be
            // rejected with it.
            let time = if piece.iter().all(|r| r.time.is_ok()) {
                let ms: Vec<i64> = piece
                    .iter()
                    .map(|r| r.time.as_ref().map_or(0, |t| t.saturating_mul(1000)))
                    .collect();
                Column::new(cols.time.as_str().into(), ms)
                    .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
                    .map_err(|e| ctx.unreadable(e.to_string()))?
            } else {
                let text: Vec<String> = piece
                    .iter()
                    .map(|r| match &r.time {
                        Ok(ts) => super::timestamp::format(*ts, false),
                        Err(t) => t.clone(),
                    })
                    .collect();
                Column::new(cols.time.as_str().into(), text)
            };
            let mut columns = vec![time];
            for (i, k) in cols.keys.iter().enumerate() {
                let v: Vec<&str> = piece
                    .iter()
                    .map(|r| this.keys[r.series as usize][i].as_str())
                    .collect();
                columns.push(Column::new(k.as_str().into(), v));
            }
            let value: Vec<Option<String>> = piece
                .iter()
                .map(|r| r.bytes.as_ref().map(Val::text))
                .collect();
            columns.push(Column::new(cols.value.as_str().into(), value));
            if has_objects {
                let count: Vec<Option<String>> = piece
                    .iter()
                    .map(|r| r.objects.as_ref().map(Val::text))
                    .collect();
                columns.push(Column::new(cols.count.as_str().into(), count));
            }
            let df =
                DataFrame::new(piece.len(), columns).map_err(|e| ctx.unreadable(e.to_string()))?;
            let lines = Lines::Map(piece.iter().map(|r| r.record).collect());
            n += process(&df, ctx, &lines, raw, rejected)?;
        }
        Ok(n)
    }
}

/// A time as written by the tool (RFC 3339 with `Z` or an offset), or the
/// text when it is not one (validation rejects it with the reason).
pub fn timestamp_of(s: &str) -> Result<i64, String> {
    super::timestamp::parse(s).map_err(|_| s.to_string())
}

/// Parses a duration as Prometheus writes them: `30s`, `15m`, `1h`, `120d`,
/// `2w`, `1y`, or combined (`1h30m`). Seconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let bad = || format!("`{s}`: expected a duration such as 30s, 15m, 1h, 120d or 1y");
    let t = s.trim();
    if t.is_empty() {
        return Err(bad());
    }
    let mut total = 0i64;
    let mut num = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            'y' => 365 * 86_400,
            _ => return Err(bad()),
        };
        let n: i64 = num.parse().map_err(|_| bad())?;
        total = total
            .checked_add(n.checked_mul(unit).ok_or_else(bad)?)
            .ok_or_else(bad)?;
        num.clear();
    }
    if !num.is_empty() || total <= 0 {
        return Err(bad());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h"), Ok(3600));
        assert_eq!(parse_duration("120d"), Ok(120 * 86_400));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert!(parse_duration("1.5h").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("10").is_err());
    }

    #[test]
    fn key_labels() {
        assert_eq!(
            parse_key_labels("force=job, system=mountpoint").unwrap(),
            vec![
                ("force".to_string(), "job".to_string()),
                ("system".to_string(), "mountpoint".to_string())
            ]
        );
        assert!(parse_key_labels("force").is_err());
        assert!(parse_key_labels("force=a,force=b").is_err());
        assert!(parse_key_labels("").is_err());
    }

    #[test]
    fn detection() {
        assert_eq!(
            detect_json(br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#),
            Some(Format::PrometheusJson)
        );
        assert_eq!(
            detect_json(b"{\n  \"MetricDataResults\": []}"),
            Some(Format::CloudWatchJson)
        );
        assert_eq!(
            detect_json(br#"{"cost": 0, "interval": "PT1H", "value": [{"timeseries": []}]}"#),
            Some(Format::AzureJson)
        );
        assert_eq!(detect_json(br#"{"hello": 1}"#), None);
        assert_eq!(detect_json(b"[1,2]"), None);
    }

    #[test]
    fn joins_and_sums() {
        let cols = vec!["force".to_string(), "system".to_string()];
        let map = KeyMap::new(&cols, &SourceOptions::default(), &|_| vec![]);
        let mut t = Table::new(map);
        let labels = vec![
            ("force".to_string(), "A".to_string()),
            ("system".to_string(), "B".to_string()),
        ];
        let s = t.series_of(&labels);
        t.put(s, Ok(0), Metric::Bytes, Val::Num(10.0), 1, false);
        t.put(s, Ok(0), Metric::Objects, Val::Num(2.0), 2, false);
        t.put(s, Ok(0), Metric::Bytes, Val::Num(11.0), 3, false);
        assert_eq!(t.len(), 2);
        t.put(s, Ok(60), Metric::Bytes, Val::Num(1.0), 4, true);
        t.put(s, Ok(60), Metric::Bytes, Val::Num(2.0), 5, true);
        assert_eq!(t.len(), 3);
        assert_eq!(t.rows[2].bytes, Some(Val::Num(3.0)));
        assert_eq!(Val::Num(2.5).text(), "3");
        assert_eq!(Val::parse("NaN"), Val::Bad("NaN".into()));
    }
}
