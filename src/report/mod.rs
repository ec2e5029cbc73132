//! Output files of a run, one writer per format: findings as CSV and JSON,
//! rejected rows, the manifest. The output folder itself (temporary folder,
//! rename, link swap) is [`folder`]. Every CSV cell goes through
//! [`fmt::csv_safe`](crate::fmt::csv_safe): text from the data (names,
//! planned-window reasons, rejected values) is opened in spreadsheets.

pub mod breach_log;
pub mod doc;
pub mod folder;
pub mod manifest;
pub mod publish;
pub mod referral;
pub mod summary;

use crate::findings::{Finding, FindingRow};
use crate::fmt;
use crate::ingest::Rejected;
use anyhow::{Context, Result};
use serde_json::{Map, Value};
use std::path::Path;

pub use folder::{point_latest, OutDir, RUNS_DIR};

/// Writes a whole file; an error names it (a full disk says which file).
pub fn write_file(path: impl AsRef<Path>, bytes: impl AsRef<[u8]>) -> Result<()> {
    let path = path.as_ref();
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Writes any serialisable rows as CSV, every cell spreadsheet-safe
/// ([`fmt::csv_safe`]: numbers, negative ones too, are written unchanged).
pub fn write_csv<T: serde::Serialize>(path: &Path, rows: &[T]) -> Result<()> {
    // Serialise as csv does, then read the cells back to make each one safe:
    // the serialiser decides the columns and number formats, this only adds
    // a `'` in front of a text cell a spreadsheet would take for a formula.
    let mut plain = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    for r in rows {
        plain.serialize(r)?;
    }
    let plain = plain.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(plain.as_slice());
    let mut rec = csv::StringRecord::new();
    while r.read_record(&mut rec)? {
        w.write_record(rec.iter().map(|c| fmt::csv_safe(c).into_owned()))?;
    }
    w.flush()?;
    Ok(())
}

/// A finding as a JSON object with the key columns first, under their own names.
pub fn finding_json(f: &Finding, key_names: &[String]) -> Result<Value> {
    let mut m = Map::new();
    for (k, v) in key_names.iter().zip(&f.key) {
        m.insert(k.clone(), Value::String(v.clone()));
    }
    if let Value::Object(rest) = serde_json::to_value(FindingRow::from(f))? {
        m.extend(rest);
    }
    Ok(Value::Object(m))
}

/// `findings.csv` and `findings.json` in `dir`: the findings as JSON objects
/// (key columns under their own names, then the finding fields), made once
/// on all cores, then written as a table and as an array on two threads.
pub fn write_findings(dir: &Path, findings: &[Finding], key_names: &[String]) -> Result<()> {
    use rayon::prelude::*;
    let values: Vec<Value> = findings
        .par_iter()
        .map(|f| finding_json(f, key_names))
        .collect::<Result<_>>()?;
    let (csv, json) = rayon::join(
        || write_findings_csv(&dir.join("findings.csv"), &values, key_names),
        || -> Result<()> {
            let path = dir.join("findings.json");
            write_file(path, serde_json::to_string_pretty(&values)? + "\n")
        },
    );
    csv.and(json)
}

/// `findings.csv` from the findings as JSON objects.
fn write_findings_csv(path: &Path, values: &[Value], key_names: &[String]) -> Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut header: Vec<String> = key_names.to_vec();
    let fields = FindingRow::columns();
    header.extend(fields.iter().cloned());
    w.write_record(header.iter().map(|h| fmt::csv_safe(h).into_owned()))?;
    for v in values {
        w.write_record(header.iter().map(|h| cell(v.get(h))))?;
    }
    w.flush()?;
    Ok(())
}

/// `rejected.csv`.
pub fn write_rejected(path: &Path, rows: &[Rejected]) -> Result<()> {
    write_csv(path, rows)
}

/// A findings.csv cell: text made spreadsheet-safe, numbers as JSON writes them.
fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => fmt::csv_safe(s).into_owned(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Row {
        name: String,
        n: i64,
        x: f64,
        y: Option<f64>,
    }

    fn row(name: &str, n: i64, x: f64, y: Option<f64>) -> Row {
        Row {
            name: name.into(),
            n,
            x,
            y,
        }
    }

    #[test]
    fn csv_cells_are_spreadsheet_safe_and_numbers_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let rows = [
            row("Kent Police, \"BWV\"", -12, -1.5e-7, None),
            row("=HYPERLINK(\"x\")", 3, f64::NEG_INFINITY, Some(-0.25)),
            row("-2+3+cmd|' /C calc'!A0", 0, 1.0, Some(f64::NAN)),
            row("-12", 1, 2.5, None),
        ];
        let path = dir.path().join("a.csv");
        write_csv(&path, &rows).unwrap();
        let got = std::fs::read_to_string(&path).unwrap();
        // what csv itself writes, with only the formula cells prefixed
        let mut w = csv::Writer::from_writer(Vec::new());
        for r in &rows {
            w.serialize(r).unwrap();
        }
        let plain = String::from_utf8(w.into_inner().unwrap()).unwrap();
        let want = plain
            .replace("\"=HYPERLINK", "\"'=HYPERLINK")
            .replace("-2+3+cmd", "'-2+3+cmd");
        assert_eq!(got, want);
        assert!(got.contains("\n-12,1,2.5,\n"));
        // no rows: no file content, as before
        write_csv::<Row>(&path, &[]).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
    }
}
