//! Labels (SPEC "Labels"): `force,system,timestamp,kind` with kind one of
//! `loss`, `transient`, `planned`, `gradual`, `step_up`; an optional `end`
//! column gives the last sample of the event (used to attribute false alarms
//! that sit on a slow decline). Extra columns are ignored.

use crate::ingest::timestamp;
use crate::sidefile::{SideFile, SideFileError};
use std::path::Path;

/// The kinds a label may have.
pub const KINDS: &[&str] = &[
    "loss",
    "transient",
    "planned",
    "moved",
    "gradual",
    "step_up",
];

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

/// Reads a labels file.
pub fn read(path: &Path, key_cols: &[String]) -> Result<Vec<Label>, SideFileError> {
    let (f, mut reader) = SideFile::open(path, "labels file")?;
    let idx = f.require(
        key_cols
            .iter()
            .map(String::as_str)
            .chain(["timestamp", "kind"]),
    )?;
    let end_col = f.column("end");
    let nk = key_cols.len();
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let rec = rec.map_err(|e| f.error(line, "", e.to_string()))?;
        let get = |c: usize| rec.get(c).unwrap_or("").trim();
        let key: Vec<String> = idx[..nk].iter().map(|&c| get(c).to_string()).collect();
        let ts = timestamp::parse(get(idx[nk]))
            .map_err(|why| f.error(line, "timestamp", format!("`{}`: {why}", get(idx[nk]))))?;
        let kind = get(idx[nk + 1]).to_string();
        if !KINDS.contains(&kind.as_str()) {
            return Err(f.error(
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
                .map_err(|why| f.error(line, "end", format!("`{v}`: {why}")))?
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
