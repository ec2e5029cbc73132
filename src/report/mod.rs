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
pub mod rows;
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

/// `findings.csv` and `findings.json` in `dir`, on two threads: key
/// columns under their own names, then the finding fields ([`rows`]).
pub fn write_findings(dir: &Path, findings: &[Finding], key_names: &[String]) -> Result<()> {
    let fields = FindingRow::columns();
    if key_names.iter().any(|k| fields.contains(k)) {
        // A key column named like a finding field: the field's value under
        // that name, in the key's place (as one JSON object holds them).
        return write_findings_by_value(dir, findings, key_names);
    }
    let (csv, json) = rayon::join(
        || -> Result<()> {
            let path = dir.join("findings.csv");
            let mut w = csv::Writer::from_path(&path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let header = key_names.iter().chain(&fields);
            w.write_record(header.map(|h| fmt::csv_safe(h).into_owned()))?;
            for f in findings {
                let keys = f.key.iter().map(|k| fmt::csv_safe(k).into_owned());
                let rest = rows::cells(&FindingRow::from(f))?;
                w.write_record(keys.chain(rest))?;
            }
            w.flush()?;
            Ok(())
        },
        || -> Result<()> {
            let all: Vec<rows::Keyed> = findings
                .iter()
                .map(|f| rows::Keyed {
                    keys: rows::KeyCols {
                        names: key_names,
                        values: &f.key,
                    },
                    row: FindingRow::from(f),
                })
                .collect();
            write_file(
                dir.join("findings.json"),
                serde_json::to_string_pretty(&all)? + "\n",
            )
        },
    );
    csv.and(json)
}

/// [`write_findings`] through one JSON value per finding.
fn write_findings_by_value(dir: &Path, findings: &[Finding], key_names: &[String]) -> Result<()> {
    let values: Vec<Value> = findings
        .iter()
        .map(|f| finding_json(f, key_names))
        .collect::<Result<_>>()?;
    let path = dir.join("findings.csv");
    let mut w = csv::Writer::from_path(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let mut header: Vec<String> = key_names.to_vec();
    header.extend(FindingRow::columns());
    w.write_record(header.iter().map(|h| fmt::csv_safe(h).into_owned()))?;
    for v in &values {
        w.write_record(header.iter().map(|h| cell(v.get(h))))?;
    }
    w.flush()?;
    write_file(
        dir.join("findings.json"),
        serde_json::to_string_pretty(&values)? + "\n",
    )
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

    /// The direct writer ([`rows`]) writes what one JSON value per finding
    /// wrote: hostile text made safe, absent values and numbers that are not
    /// finite empty, negative numbers and zeros as JSON writes them.
    #[test]
    fn the_direct_writer_writes_what_the_values_wrote() {
        use crate::detect::Kind;
        use crate::findings::{Severity, Status};
        let row = |kind, drop_pct: f64, p_value: f64, objects: Option<u64>| FindingRow {
            kind,
            start: "2023-07-26".into(),
            end: "2023-07-27T06:00:00Z".into(),
            detected_at: "2023-07-27T23:59:59Z".into(),
            before_bytes: 1_000_000_000_000,
            after_bytes: 900_000_000_000,
            drop_bytes: 100_000_000_000,
            drop_pct,
            objects_lost: objects,
            p_value,
            severity: Severity::Critical,
            planned_reason: "=HYPERLINK(\"http://x\")".into(),
            chart: "charts/a,b.png".into(),
            status: Status::Updated,
            change: "+was transient, \"now\" lost\nline two".into(),
            excess_pct: -0.0,
            z_score: f64::NEG_INFINITY,
            exceeded_plan: true,
            recovered_at: String::new(),
            samples_after: 3,
            before_at: "2023-07-25".into(),
            interval_secs: 86_400,
            moved_to: "@Force/System; Other/Store".into(),
            arrived_bytes: Some(-5),
            arrived_objects: None,
            shortfall_bytes: Some(0),
            shortfall_objects: Some(i64::MIN),
            inventory_lost_objects: Some(u64::MAX),
            inventory_lost_bytes: None,
            inventory_shrunk_objects: Some(0),
            inventory_top_folders: "-cases (3 files, 1 KB)".into(),
            inventory_list: String::new(),
            inventory_note: "\u{202e}reversed".into(),
            set_aside_bytes: Some(87_000_000_000_000),
        };
        let key = |a: &str, b: &str| vec![a.to_string(), b.to_string()];
        let findings = vec![
            row(Kind::Loss, 10.0, 1.2e-300, Some(7))
                .into_finding(key("=Force", "System, \"quoted\""))
                .unwrap(),
            row(Kind::Transient, f64::NAN, 0.5, None)
                .into_finding(key("Force", "-1+1"))
                .unwrap(),
            row(Kind::Planned, 1.5e-7, f64::INFINITY, Some(0))
                .into_finding(key("Ünïcode", ""))
                .unwrap(),
        ];
        let names = key("force", "system");
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        write_findings(a.path(), &findings, &names).unwrap();
        write_findings_by_value(b.path(), &findings, &names).unwrap();
        for file in ["findings.csv", "findings.json"] {
            let read =
                |d: &tempfile::TempDir| std::fs::read_to_string(d.path().join(file)).unwrap();
            assert_eq!(read(&a), read(&b), "{file}");
        }
        // and the first is not empty: three findings, text made safe
        let csv = std::fs::read_to_string(a.path().join("findings.csv")).unwrap();
        assert!(csv.contains("'=Force"), "{csv}");
        assert_eq!(
            csv::Reader::from_reader(csv.as_bytes()).records().count(),
            3
        );
    }

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
