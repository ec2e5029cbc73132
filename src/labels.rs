//! Labels (SPEC "Labels"): `force,system,timestamp,kind` with kind one of
//! `loss`, `transient`, `planned`, `gradual`, `step_up`; an optional `end`
//! column gives the last sample of the event (used to attribute false alarms
//! that sit on a slow decline). Extra columns are ignored.

use crate::ingest::timestamp;
use std::path::Path;

/// The kinds a label may have.
pub const KINDS: &[&str] = &["loss", "transient", "planned", "gradual", "step_up"];

/// One labelled event.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// Key values of the series.
    pub key: Vec<String>,
    /// First observation at the reduced level.
    pub ts: i64,
    /// Last sample of the event (= `ts` when not given).
    pub end: i64,
    /// One of [`KINDS`].
    pub kind: String,
    /// Line in the file.
    pub line: u64,
}

/// A labels file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{file}, line {line}, column `{column}`: {reason}")]
pub struct LabelError {
    /// The file.
    pub file: String,
    /// Line (header = 1).
    pub line: u64,
    /// Column at fault.
    pub column: String,
    /// What is wrong.
    pub reason: String,
}

/// Reads a labels file.
pub fn read(path: &Path, key_cols: &[String]) -> Result<Vec<Label>, LabelError> {
    let file = path.display().to_string();
    let err = |line: u64, column: &str, reason: String| LabelError {
        file: file.clone(),
        line,
        column: column.to_string(),
        reason,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| err(0, "", e.to_string()))?;
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| err(1, "", e.to_string()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let mut idx = Vec::new();
    for k in key_cols
        .iter()
        .map(String::as_str)
        .chain(["timestamp", "kind"])
    {
        idx.push(col(k).ok_or_else(|| {
            err(
                1,
                k,
                format!(
                    "required column is missing (columns found: {})",
                    headers.join(", ")
                ),
            )
        })?);
    }
    let end_col = col("end");
    let nk = key_cols.len();
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i as u64 + 2;
        let rec = rec.map_err(|e| err(line, "", e.to_string()))?;
        let get = |c: usize| rec.get(c).unwrap_or("").trim();
        let key: Vec<String> = idx[..nk].iter().map(|&c| get(c).to_string()).collect();
        let ts = timestamp::parse(get(idx[nk]))
            .map_err(|why| err(line, "timestamp", format!("`{}`: {why}", get(idx[nk]))))?;
        let kind = get(idx[nk + 1]).to_string();
        if !KINDS.contains(&kind.as_str()) {
            return Err(err(
                line,
                "kind",
                format!(
                    "unknown kind `{kind}` (expected one of {})",
                    KINDS.join(", ")
                ),
            ));
        }
        let end = match end_col.map(get).unwrap_or("") {
            "" => ts,
            v => timestamp::parse(v)
                .map_err(|why| err(line, "end", format!("`{v}`: {why}")))?
                .max(ts),
        };
        out.push(Label {
            key,
            ts,
            end,
            kind,
            line,
        });
    }
    Ok(out)
}
