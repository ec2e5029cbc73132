//! Output files of a run, one writer per format: findings as CSV and JSON,
//! rejected rows, the manifest. The output folder itself (temporary folder,
//! rename, link swap) is [`folder`].

pub mod breach_log;
pub mod doc;
pub mod folder;
pub mod manifest;
pub mod referral;

use crate::findings::Finding;
use crate::ingest::Rejected;
use anyhow::{Context, Result};
use serde_json::{Map, Value};
use std::path::Path;

pub use folder::{point_latest, OutDir, RUNS_DIR};

/// Writes any serialisable rows as CSV.
pub fn write_csv<T: serde::Serialize>(path: &Path, rows: &[T]) -> Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    for r in rows {
        w.serialize(r)?;
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
    if let Value::Object(rest) = serde_json::to_value(f)? {
        m.extend(rest);
    }
    Ok(Value::Object(m))
}

/// `findings.csv`: key columns under their own names, then the finding fields.
pub fn write_findings_csv(path: &Path, findings: &[Finding], key_names: &[String]) -> Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut header: Vec<String> = key_names.to_vec();
    let fields = field_names();
    header.extend(fields.iter().cloned());
    w.write_record(&header)?;
    for f in findings {
        let v = finding_json(f, key_names)?;
        let rec: Vec<String> = header.iter().map(|h| cell(v.get(h))).collect();
        w.write_record(&rec)?;
    }
    w.flush()?;
    Ok(())
}

/// `findings.json`: an array of finding objects.
pub fn write_findings_json(path: &Path, findings: &[Finding], key_names: &[String]) -> Result<()> {
    let arr: Vec<Value> = findings
        .iter()
        .map(|f| finding_json(f, key_names))
        .collect::<Result<_>>()?;
    std::fs::write(path, serde_json::to_string_pretty(&arr)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))
}

/// `rejected.csv`.
pub fn write_rejected(path: &Path, rows: &[Rejected]) -> Result<()> {
    write_csv(path, rows)
}

/// The serialised field names of [`Finding`], in order.
pub fn field_names() -> Vec<String> {
    // Serialising a blank finding gives the names in declaration order.
    let blank = Finding {
        key: vec![],
        series: 0,
        start_ts: 0,
        end_ts: 0,
        start_idx: 0,
        end_idx: 0,
        before_ts: 0,
        expected_step_log: 0.0,
        step_sigma_log: 0.0,
        kind: crate::detect::Kind::Loss,
        start: String::new(),
        end: String::new(),
        detected_at: String::new(),
        before_bytes: 0,
        after_bytes: 0,
        drop_bytes: 0,
        drop_pct: 0.0,
        objects_lost: None,
        p_value: 0.0,
        severity: crate::findings::Severity::Info,
        planned_reason: String::new(),
        chart: String::new(),
        status: String::new(),
        change: String::new(),
        excess_pct: 0.0,
        z_score: 0.0,
        exceeded_plan: false,
        recovered_at: String::new(),
        samples_after: 0,
        before_at: String::new(),
        interval_secs: 0,
    };
    match serde_json::to_value(&blank) {
        Ok(Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}
