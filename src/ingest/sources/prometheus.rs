//! Prometheus `query_range` responses (HTTP API `/api/v1/query_range`, as
//! documented at prometheus.io "HTTP API"): `{"status":"success","data":
//! {"resultType":"matrix","result":[{"metric":{labels},"values":[[unix_ts,
//! "value"],…]}]}}`, saved to a file or fetched live. Labels map to the key
//! columns; a series whose `__name__` ends in `objects` gives object counts.
//! Values are strings (`"NaN"`, `"+Inf"` are rejected with their text);
//! a step with no sample is simply absent: a gap.

use super::{KeyMap, Metric, SourceOptions, Table, Val};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The response envelope.
#[derive(Debug, Deserialize)]
pub struct Response {
    /// `success` or `error`.
    pub status: String,
    /// The result, when successful.
    #[serde(default)]
    pub data: Option<Data>,
    /// Error class, when not.
    #[serde(rename = "errorType", default)]
    pub error_type: Option<String>,
    /// The server's message, when not.
    #[serde(default)]
    pub error: Option<String>,
    /// Warnings (the data is still there).
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// `data` of a response.
#[derive(Debug, Deserialize)]
pub struct Data {
    /// `matrix` for a range query.
    #[serde(rename = "resultType")]
    pub result_type: String,
    /// One entry per series.
    pub result: Vec<SeriesData>,
}

/// One series of a matrix.
#[derive(Debug, Deserialize)]
pub struct SeriesData {
    /// Its labels.
    #[serde(default)]
    pub metric: BTreeMap<String, String>,
    /// `[unix seconds, "value"]` pairs.
    #[serde(default)]
    pub values: Vec<(f64, String)>,
}

/// The key map of Prometheus series: labels named like the key columns, or `--key-labels`.
pub fn key_map(cols: &[String], opts: &SourceOptions) -> KeyMap {
    KeyMap::new(cols, opts, &|_| Vec::new())
}

/// Checks a parsed response: the server's error, or a result that is not a matrix.
pub fn check(resp: &Response) -> Result<&Data, String> {
    if resp.status != "success" {
        return Err(format!(
            "Prometheus answered status `{}`{}: {}",
            resp.status,
            resp.error_type
                .as_ref()
                .map_or(String::new(), |t| format!(" ({t})")),
            resp.error.as_deref().unwrap_or("(no message)")
        ));
    }
    let data = resp
        .data
        .as_ref()
        .ok_or("the response has no `data` (expected a query_range response)")?;
    if data.result_type != "matrix" {
        return Err(format!(
            "the result is a `{}`, expected a `matrix` (the response of a range query, /api/v1/query_range)",
            data.result_type
        ));
    }
    Ok(data)
}

/// Adds the series of one response to `table`; `metric` is the column the
/// values fill (a series named `…objects` always fills the object count).
/// `record` numbers the points across the source.
pub fn add(table: &mut Table, data: &Data, metric: Metric, record: &mut u64) {
    for s in &data.result {
        let labels: Vec<(String, String)> = s
            .metric
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let m = match s.metric.get("__name__") {
            Some(n) if n.ends_with("objects") => Metric::Objects,
            _ => metric,
        };
        let id = table.series_of(&labels);
        for (t, v) in &s.values {
            *record += 1;
            let time = if t.is_finite() {
                Ok(t.floor() as i64)
            } else {
                Err(t.to_string())
            };
            table.put(id, time, m, Val::parse(v), *record, false);
        }
    }
}

/// Reads a saved `query_range` response.
pub fn read(bytes: &[u8], cols: &[String], opts: &SourceOptions) -> Result<Table, String> {
    let resp: Response = serde_json::from_slice(bytes)
        .map_err(|e| format!("not a Prometheus query_range response: {e}"))?;
    let data = check(&resp)?;
    for w in &resp.warnings {
        crate::log::warn(format!("Prometheus warned: {}", crate::fmt::term(w)));
    }
    let mut table = Table::new(key_map(cols, opts));
    let mut record = 0;
    add(&mut table, data, Metric::Bytes, &mut record);
    Ok(table)
}
