//! `breach-log.csv`: an append-only record of every finding with its facts
//! and the decision fields a person fills in (reported / not reportable, and
//! why), as DPA 2018 s.67(6) requires. A finding already in the log (same
//! series, kind and start) is not appended again, so a finding whose kind
//! changes (a transient that turns out persistent) or a loss that deepens
//! gets a second row; existing rows are never rewritten.

use crate::findings::{Finding, Status};
use crate::fmt;
use anyhow::{bail, Context, Result};
use std::collections::HashSet;
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

/// Appends the findings not yet in the log at `path`; returns how many were
/// added. A finding is in the log when a row has its key values, kind and
/// start; an `updated` finding (a loss that deepened) is appended again
/// unless a row also has its `drop_pct`.
///
/// The log is a file people edit, so: it is never read or written through a
/// link or when hard-linked elsewhere; a last row saved without a final
/// newline is ended before the new rows; every text cell is made
/// spreadsheet-safe ([`fmt::csv_safe`]). The existing bytes are kept as they
/// are and the new rows added after them in a temporary file that replaces
/// the log in one rename: a full disk or a kill at any moment leaves the log
/// as it was or with every new row, never half a row.
pub fn append(
    path: &Path,
    findings: &[Finding],
    key_names: &[String],
    logged_at: i64,
) -> Result<usize> {
    let safe = |s: &str| fmt::csv_safe(s).into_owned();
    let mut header: Vec<String> = vec!["logged_at".to_string()];
    header.extend(key_names.iter().map(|k| safe(k)));
    header.extend(FACTS.iter().chain(DECISION).map(|s| s.to_string()));
    let nk = key_names.len();
    let pct_col = 1 + nk + FACTS.iter().position(|c| *c == "drop_pct").unwrap_or(0);
    let mut seen: HashSet<Vec<String>> = HashSet::new();
    let mut seen_pct: HashSet<Vec<String>> = HashSet::new();
    crate::failpoint::hit("breach-log")
        .with_context(|| format!("cannot write breach log {}", path.display()))?;
    let old = match crate::safefs::read_regular(path, MAX_LOG_BYTES) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read breach log {}", path.display()))
        }
    };
    if !old.is_empty() {
        let mut r = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(old.as_bytes());
        let got: Vec<String> = r
            .headers()
            .with_context(|| format!("cannot read breach log {}", path.display()))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_string())
            .collect();
        if got != header {
            bail!(
                "breach log {} has different columns ({}); expected {} (restore its header, or use another --breach-log)",
                path.display(),
                fmt::term(&got.join(",")),
                fmt::term(&header.join(","))
            );
        }
        for rec in r.records() {
            let rec = rec.with_context(|| format!("breach log {}", path.display()))?;
            // key columns, kind, start
            let id: Vec<String> = rec.iter().skip(1).take(nk + 2).map(String::from).collect();
            let mut with_pct = id.clone();
            with_pct.push(rec.get(pct_col).unwrap_or_default().to_string());
            seen.insert(id);
            seen_pct.insert(with_pct);
        }
    }
    let mut rows = Vec::new();
    for f in findings {
        let id = log_id(f);
        let mut with_pct = id.clone();
        with_pct.push(f.drop_pct.to_string());
        let first = seen.insert(id);
        let follow_up = f.status == Status::Updated && seen_pct.insert(with_pct);
        if !first && !follow_up {
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
        rows.push(row.iter().map(|c| safe(c)).collect::<Vec<_>>());
    }
    if rows.is_empty() && !old.is_empty() {
        return Ok(0);
    }
    let new_file = old.is_empty();
    let mut buf = old.into_bytes();
    if !new_file && !buf.ends_with(b"\n") {
        buf.push(b'\n');
    }
    {
        let mut w = csv::Writer::from_writer(&mut buf);
        if new_file {
            w.write_record(&header)?;
        }
        for r in &rows {
            w.write_record(r)?;
        }
        w.flush()?;
    }
    crate::safefs::replace_file_as(path, &buf, "breach-log-write").with_context(|| {
        format!(
            "cannot write breach log {} (it was left as it was before this run)",
            path.display()
        )
    })?;
    Ok(rows.len())
}

/// Largest breach log read (a million rows is ~300 MB).
const MAX_LOG_BYTES: u64 = 1 << 30;

/// The decisions people recorded in the log: for each finding (key values
/// as the log writes them, kind, start) with a non-empty `decision`, that
/// decision and who made it. A missing or unreadable log has none (the
/// append that follows reports its problem).
pub fn decisions(
    path: &Path,
    key_names: &[String],
) -> std::collections::HashMap<Vec<String>, String> {
    let mut out = std::collections::HashMap::new();
    let Ok(text) = crate::safefs::read_regular(path, MAX_LOG_BYTES) else {
        return out;
    };
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let Ok(headers) = r.headers().cloned() else {
        return out;
    };
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(dec), by) = (col("decision"), col("decided_by")) else {
        return out;
    };
    let nk = key_names.len();
    for rec in r.records().flatten() {
        let decision = rec.get(dec).unwrap_or_default().trim();
        if decision.is_empty() {
            continue;
        }
        let id: Vec<String> = rec.iter().skip(1).take(nk + 2).map(String::from).collect();
        let who = by
            .and_then(|b| rec.get(b))
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(|w| format!(" ({w})"))
            .unwrap_or_default();
        out.insert(id, format!("{decision}{who}"));
    }
    out
}

/// A finding's identity in the log: key values as written there, kind, start.
pub fn log_id(f: &Finding) -> Vec<String> {
    let mut id: Vec<String> = f
        .key
        .iter()
        .map(|k| fmt::csv_safe(k).into_owned())
        .collect();
    id.push(f.kind.as_str().to_string());
    id.push(f.start.clone());
    id
}
