//! `shrinkwatch scan`: the nightly job.

use super::{load, today, Outcome};
use crate::charts;
use crate::cli::ScanArgs;
use crate::findings::{analyze, Finding};
use crate::ingest::timestamp;
use crate::report::{self, manifest::Manifest, OutDir};
use anyhow::{bail, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// Runs a scan and writes its output folder.
pub fn run(args: &ScanArgs) -> Result<Outcome> {
    let started = chrono::Utc::now();
    let detected_at = started.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let inputs = args.input.resolve()?;
    let mut timings = BTreeMap::new();
    let t = Instant::now();
    let (ing, plans) = load(&inputs)?;
    timings.insert("ingest".to_string(), t.elapsed().as_secs_f64());
    if args.strict && !ing.rejected.is_empty() {
        let r = &ing.rejected[0];
        bail!(
            "--strict: {} row(s) rejected; first: {}, line {}, column `{}`: {} (value `{}`)",
            ing.rejected.len(),
            r.file,
            r.line,
            r.column,
            r.reason,
            r.value
        );
    }
    let t = Instant::now();
    let mut findings = analyze(&ing.set, &plans, &inputs.config.detect, &detected_at);
    timings.insert("detect".to_string(), t.elapsed().as_secs_f64());

    let target = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(today()));
    let t = Instant::now();
    let out = OutDir::create(&target)?;
    let last = ing.set.times.iter().max().copied();
    let data_until = last
        .map(|t| timestamp::format(t, false))
        .unwrap_or_default();
    let data_until_h = last
        .map(crate::fmt::date_time)
        .unwrap_or_else(|| "no data".into());
    charts::render_findings(
        out.path(),
        &mut findings,
        &ing.set,
        &plans,
        started.timestamp(),
        inputs.config.detect.recovery_samples,
        args.chart_size,
    )?;
    charts::overview::render(
        &out.path().join("overview.png"),
        &findings,
        &format!(
            "Largest losses first, by bytes dropped; {} series scanned, data until {}",
            ing.counts.series, data_until_h
        ),
        args.chart_size,
    )?;
    timings.insert("charts".to_string(), t.elapsed().as_secs_f64());
    let t = Instant::now();
    let keys = &ing.set.key_names;
    report::write_findings_csv(&out.path().join("findings.csv"), &findings, keys)?;
    report::write_findings_json(&out.path().join("findings.json"), &findings, keys)?;
    if !ing.rejected.is_empty() {
        report::write_rejected(&out.path().join("rejected.csv"), &ing.rejected)?;
    }
    let by_kind = count_kinds(&findings);
    timings.insert("write".to_string(), t.elapsed().as_secs_f64());
    let manifest = Manifest {
        tool: "shrinkwatch",
        version: env!("CARGO_PKG_VERSION"),
        command: "scan".into(),
        args: std::env::args().collect(),
        started_at: detected_at.clone(),
        config: inputs.config.clone(),
        planned: inputs.planned.as_ref().map(|p| p.display().to_string()),
        inputs: ing.files.clone(),
        counts: ing.counts.clone(),
        findings: by_kind.clone(),
        data_until: data_until.clone(),
        timings,
    };
    std::fs::write(
        out.path().join("manifest.json"),
        serde_json::to_string_pretty(&manifest)? + "\n",
    )?;
    let dir = out.commit()?;

    let c = &ing.counts;
    let losses = by_kind.get("loss").copied().unwrap_or(0);
    println!(
        "scanned {} series ({} rows read, {} duplicates removed, {} rejected; data until {}): {} loss, {} transient, {} planned → {}",
        c.series,
        c.rows_read,
        c.duplicates,
        c.rejected,
        data_until,
        losses,
        by_kind.get("transient").copied().unwrap_or(0),
        by_kind.get("planned").copied().unwrap_or(0),
        dir.display()
    );
    const SHOWN: usize = 20;
    for f in findings.iter().filter(|f| f.is_loss()).take(SHOWN) {
        println!(
            "  LOSS {}: {:.1}% ({} bytes{}) from {} ({}){}",
            f.label(),
            f.drop_pct,
            f.drop_bytes,
            f.objects_lost
                .map(|o| format!(", {o} objects"))
                .unwrap_or_default(),
            f.start,
            f.severity.as_str(),
            if f.planned_reason.is_empty() {
                String::new()
            } else {
                format!(" during planned window: {}", f.planned_reason)
            }
        );
    }
    if losses > SHOWN {
        println!("  … and {} more losses (see findings.csv)", losses - SHOWN);
    }
    Ok(if losses > 0 {
        Outcome::NewLoss
    } else {
        Outcome::Clean
    })
}

/// Number of findings of each kind.
pub fn count_kinds(findings: &[Finding]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for k in ["loss", "transient", "planned"] {
        m.insert(k.to_string(), 0);
    }
    for f in findings {
        *m.entry(f.kind.as_str().to_string()).or_default() += 1;
    }
    m
}
