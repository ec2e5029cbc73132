//! `breach-log.csv`: an append-only record of every finding with its facts
//! and the decision fields a person fills in (reported / not reportable, and
//! why), as DPA 2018 s.67(6) requires. A finding already in the log (same
//! series, kind and start) is not appended again, so a finding whose kind
//! changes (a transient that turns out persistent) gets a second row;
//! existing rows are never rewritten.

use crate::findings::Finding;
use crate::fmt;
use anyhow::{bail, Context, Result};
use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

/// Columns after the key columns.
const FACTS: &[&str] = &[
    "kind",
    "start",
    "end",
    "detected_at",
    "severity",
    "drop_bytes",
    "drop_pct",
    "objects_lost",
    "p_value",
    "planned_reason",
    "ico_deadline_72h",
    "recovered_at",
];
/// Columns a person fills in.
const DECISION: &[&str] = &[
    "decision",
    "decision_reason",
    "decided_by",
    "ico_reference",
    "remedial_action",
];

/// Appends the findings not yet in the log at `path`; returns how many were added.
pub fn append(
    path: &Path,
    findings: &[Finding],
    key_names: &[String],
    logged_at: i64,
) -> Result<usize> {
    let mut header: Vec<String> = vec!["logged_at".to_string()];
    header.extend(key_names.iter().cloned());
    header.extend(FACTS.iter().chain(DECISION).map(|s| s.to_string()));
    let nk = key_names.len();
    let mut seen: HashSet<Vec<String>> = HashSet::new();
    let exists = path.is_file()
        && std::fs::metadata(path)
            .map(|m| m.len() > 0)
            .unwrap_or(false);
    if exists {
        let mut r = csv::Reader::from_path(path)
            .with_context(|| format!("cannot read breach log {}", path.display()))?;
        let got: Vec<String> = r.headers()?.iter().map(String::from).collect();
        if got != header {
            bail!(
                "breach log {} has different columns ({}); expected {}",
                path.display(),
                got.join(","),
                header.join(",")
            );
        }
        for rec in r.records() {
            let rec = rec.with_context(|| format!("breach log {}", path.display()))?;
            // key columns, kind, start
            seen.insert(rec.iter().skip(1).take(nk + 2).map(String::from).collect());
        }
    } else if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut rows = Vec::new();
    for f in findings {
        let mut id: Vec<String> = f.key.clone();
        id.push(f.kind.as_str().to_string());
        id.push(f.start.clone());
        if !seen.insert(id) {
            continue;
        }
        let mut row = vec![fmt::date_time(logged_at)];
        row.extend(f.key.iter().cloned());
        row.extend([
            f.kind.as_str().to_string(),
            f.start.clone(),
            f.end.clone(),
            f.detected_at.clone(),
            f.severity.as_str().to_string(),
            f.drop_bytes.to_string(),
            f.drop_pct.to_string(),
            f.objects_lost.map(|o| o.to_string()).unwrap_or_default(),
            format!("{:.3e}", f.p_value),
            f.planned_reason.clone(),
            if f.kind == crate::detect::Kind::Loss {
                fmt::uk_time(fmt::deadline_72h(logged_at))
            } else {
                String::new()
            },
            f.recovered_at.clone(),
        ]);
        row.extend(DECISION.iter().map(|_| String::new()));
        rows.push(row);
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open breach log {}", path.display()))?;
    let mut w = csv::Writer::from_writer(file);
    if !exists {
        w.write_record(&header)?;
    }
    for r in &rows {
        w.write_record(r)?;
    }
    w.flush()?;
    let mut file = w
        .into_inner()
        .map_err(|e| anyhow::anyhow!("breach log {}: {e}", path.display()))?;
    file.flush()?;
    file.sync_all().ok();
    Ok(rows.len())
}
