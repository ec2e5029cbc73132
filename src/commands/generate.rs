//! `shrinkwatch generate`: writes a realistic labelled dataset.

use super::Outcome;
use crate::cli::{Format, GenerateArgs};
use crate::generate::{generate, Dataset, GenOptions};
use crate::ingest::timestamp;
use anyhow::{Context, Result};
use polars::prelude::*;
use std::path::Path;

/// Generates and writes `observations.{parquet,csv}`, `planned.csv` (with
/// `moved_to` for migrations), `labels.csv`.
pub fn run(args: &GenerateArgs) -> Result<Outcome> {
    anyhow::ensure!(
        args.noise.is_finite() && args.noise > 0.0 && args.noise <= 100.0,
        "--noise must be a number in (0, 100]"
    );
    anyhow::ensure!(
        args.gaps.is_finite() && (0.0..=50.0).contains(&args.gaps),
        "--gaps must be a number from 0 to 50"
    );
    anyhow::ensure!(
        (1..=100_000_000).contains(&args.days),
        "--days must be from 1 to 100000000"
    );
    let opts = GenOptions {
        seed: args.seed,
        series: args.series,
        days: args.days,
        start: args.start,
        noise: args.noise,
        interval_hours: args.interval_hours,
        gaps: args.gaps,
        weekly_jobs: args.weekly_jobs,
        interval_minutes: args.interval_minutes,
        day_events: args.day_events,
        sawtooth: args.sawtooth,
        cadence_switch: args.cadence_switch,
        event_rate: args.event_rate,
        // the UK estate (the shipped dataset) has a complete and a lossy
        // move; a grid of --series N has none unless asked (sharded scans
        // split a move's stores, see the README)
        moves: args.moves.unwrap_or(if args.series.is_none() {
            crate::generate::DEFAULT_MOVES
        } else {
            0
        }),
    };
    let ds = generate(&opts);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    if matches!(args.format, Format::Parquet | Format::Both) {
        write_parquet(&ds, &args.out.join("observations.parquet"))?;
    }
    if matches!(args.format, Format::Csv | Format::Both) {
        write_observations_csv(&ds, &args.out.join("observations.csv"))?;
    }
    write_planned(&ds, &args.out.join("planned.csv"))?;
    write_labels(&ds, &args.out.join("labels.csv"))?;
    // The UK estate carries object inventories for a few series.
    if args.series.is_none() {
        crate::generate::inventories::write(
            &ds,
            crate::generate::inventories::SHIPPED,
            args.seed,
            &args.out,
        )?;
    }
    crate::outln!(
        "generated {} series, {} rows, {} planned windows, {} labels (seed {}) → {}",
        ds.series.len(),
        ds.rows.len(),
        ds.planned.len(),
        ds.labels.len(),
        args.seed,
        args.out.display()
    );
    Ok(Outcome::Clean)
}

fn write_parquet(ds: &Dataset, path: &Path) -> Result<()> {
    let n = ds.rows.len();
    let ts: Vec<i64> = ds.rows.iter().map(|r| r.ts * 1000).collect();
    let force: Vec<&str> = ds
        .rows
        .iter()
        .map(|r| ds.series[r.series as usize].0.as_str())
        .collect();
    let system: Vec<&str> = ds
        .rows
        .iter()
        .map(|r| ds.series[r.series as usize].1.as_str())
        .collect();
    let bytes: Vec<i64> = ds.rows.iter().map(|r| r.bytes as i64).collect();
    let objects: Vec<Option<i64>> = ds
        .rows
        .iter()
        .map(|r| r.objects.map(|o| o as i64))
        .collect();
    let mut df = DataFrame::new(
        n,
        vec![
            Series::new("timestamp".into(), ts)
                .into_datetime(TimeUnit::Milliseconds, None)
                .into(),
            Series::new("force".into(), force).into(),
            Series::new("system".into(), system).into(),
            Series::new("bytes".into(), bytes).into(),
            Series::new("objects".into(), objects).into(),
        ],
    )?;
    let f =
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    ParquetWriter::new(f)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(&mut df)?;
    Ok(())
}

fn write_observations_csv(ds: &Dataset, path: &Path) -> Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    w.write_record(["timestamp", "force", "system", "bytes", "objects"])?;
    for r in &ds.rows {
        let (f, s) = &ds.series[r.series as usize];
        let ts = timestamp::format(r.ts, !ds.sub_daily[r.series as usize]);
        w.write_record([
            ts.as_str(),
            f,
            s,
            &r.bytes.to_string(),
            &r.objects.map(|o| o.to_string()).unwrap_or_default(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

fn write_planned(ds: &Dataset, path: &Path) -> Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    w.write_record([
        "force",
        "system",
        "start",
        "end",
        "expected_drop_pct",
        "reason",
        "moved_to",
    ])?;
    for p in &ds.planned {
        w.write_record([
            p.force.as_str(),
            &p.system,
            &p.start.to_string(),
            &p.end.to_string(),
            &p.expected_drop_pct
                .map(|e| e.to_string())
                .unwrap_or_default(),
            &p.reason,
            &p.moved_to,
        ])?;
    }
    w.flush()?;
    Ok(())
}

fn write_labels(ds: &Dataset, path: &Path) -> Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    w.write_record([
        "force",
        "system",
        "timestamp",
        "kind",
        "end",
        "drop_pct",
        "objects_lost",
        "note",
    ])?;
    for l in &ds.labels {
        let (f, s) = &ds.series[l.series as usize];
        let date_only = !ds.sub_daily[l.series as usize];
        w.write_record([
            f.as_str(),
            s,
            &timestamp::format(l.ts, date_only),
            l.kind,
            &timestamp::format(l.end, date_only),
            &l.drop_pct.to_string(),
            &l.objects_lost.map(|o| o.to_string()).unwrap_or_default(),
            &l.note,
        ])?;
    }
    w.flush()?;
    Ok(())
}
