//! `shrinkwatch merge`: combines the report folders of `scan --shard 1/N …
//! N/N` into the report, state and breach log that one scan of the whole
//! estate would have written. The shards must come from the same inputs
//! (same files, by SHA-256), the same configuration and the same N, and
//! their row counts must add up to the rows read, or nothing is written.

use super::Outcome;
use crate::cli::MergeArgs;
use crate::clock;
use crate::config::Config;
use crate::findings::{Finding, FindingRow};
use crate::ingest::{timestamp, IngestCounts, InputFile, Rejected, Shard};
use crate::report::publish::{publish, Destination, Publish};
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The parts of a shard's manifest that merging needs.
#[derive(Debug, Deserialize)]
struct ShardManifest {
    command: String,
    config: Config,
    planned: Option<String>,
    inputs: Vec<InputFile>,
    counts: IngestCounts,
    data_until: String,
    shard: Option<String>,
    #[serde(default)]
    state_digest: Option<String>,
}

struct ShardDir {
    dir: PathBuf,
    shard: Shard,
    manifest: ShardManifest,
}

fn read_manifest(dir: &Path) -> Result<ShardDir> {
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{} is not a complete report folder (no readable manifest.json)",
            dir.display()
        )
    })?;
    let manifest: ShardManifest = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a shrinkwatch manifest", path.display()))?;
    let Some(s) = manifest.shard.as_deref() else {
        bail!(
            "{} is not a shard (it was written by `{}` without --shard)",
            dir.display(),
            manifest.command
        );
    };
    let shard = Shard::parse(s).map_err(|e| anyhow::anyhow!("{}: shard {e}", path.display()))?;
    Ok(ShardDir {
        dir: dir.to_path_buf(),
        shard,
        manifest,
    })
}

/// Reads a shard's findings.json back into findings (with their key values
/// and times), and where each one's chart is.
fn read_findings(d: &ShardDir) -> Result<Vec<(Finding, Option<PathBuf>)>> {
    let path = d.dir.join("findings.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    let keys = &d.manifest.config.columns.keys;
    rows.into_iter()
        .enumerate()
        .map(|(i, v)| {
            let bad = |what: &str| anyhow::anyhow!("{}: finding {}: {what}", path.display(), i + 1);
            let key = keys
                .iter()
                .map(|k| {
                    v.get(k)
                        .and_then(|x| x.as_str())
                        .map(str::to_string)
                        .ok_or_else(|| bad(&format!("no key `{k}`")))
                })
                .collect::<Result<Vec<_>>>()?;
            let row: FindingRow = serde_json::from_value(v).map_err(|e| bad(&e.to_string()))?;
            let f = row.into_finding(key).map_err(|e| bad(&e))?;
            let chart = if f.chart.is_empty() {
                None
            } else {
                Some(chart_inside(&d.dir, &f.chart).map_err(|e| bad(&e))?)
            };
            Ok((f, chart))
        })
        .collect()
}

/// The chart a shard's finding names, when it is a regular file inside the
/// shard's own `charts/` folder: merge reads nothing outside the shards.
fn chart_inside(dir: &Path, chart: &str) -> std::result::Result<PathBuf, String> {
    use std::path::Component;
    let rel = Path::new(chart);
    let parts: Vec<Component> = rel.components().collect();
    let plain = matches!(
        parts.as_slice(),
        [Component::Normal(c), Component::Normal(_)] if *c == "charts"
    );
    let refuse = |why: &str| format!("chart `{}` {why}: refused", crate::fmt::term(chart));
    if !plain || crate::ingest::extension(rel) != "png" {
        return Err(refuse("is not a file in the shard's charts/ folder"));
    }
    let path = dir.join(rel);
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_symlink() => return Err(refuse("is a symbolic link")),
        Ok(m) if !m.is_file() => return Err(refuse("is not a regular file")),
        Err(e) => return Err(refuse(&format!("cannot be read ({e})"))),
        Ok(_) => {}
    }
    let inside = match (std::fs::canonicalize(&path), std::fs::canonicalize(dir)) {
        (Ok(p), Ok(d)) => p.starts_with(d),
        _ => false,
    };
    if !inside {
        return Err(refuse("is outside the shard folder"));
    }
    Ok(path)
}

fn read_rejected(dir: &Path) -> Result<Vec<Rejected>> {
    let path = dir.join("rejected.csv");
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut r =
        csv::Reader::from_path(&path).with_context(|| format!("cannot read {}", path.display()))?;
    r.deserialize()
        .map(|row| row.with_context(|| format!("{}: bad row", path.display())))
        .collect()
}

/// Runs `merge`.
pub fn run(args: &MergeArgs) -> Result<Outcome> {
    let wall = Instant::now();
    let out = &args.report;
    let now = clock::run_time(out.as_of.as_deref())?;
    let shards = args
        .shards
        .iter()
        .map(|d| read_manifest(d))
        .collect::<Result<Vec<_>>>()?;
    // The same split of the same data, every part present exactly once.
    let first = &shards[0];
    let n = first.shard.count;
    let mut seen: BTreeMap<u32, &Path> = BTreeMap::new();
    for s in &shards {
        if s.shard.count != n {
            bail!(
                "{} is shard {} but {} is shard {}: all shards must split the estate the same way",
                s.dir.display(),
                s.shard,
                first.dir.display(),
                first.shard
            );
        }
        if let Some(other) = seen.insert(s.shard.index, &s.dir) {
            bail!(
                "shard {} given twice: {} and {}",
                s.shard,
                other.display(),
                s.dir.display()
            );
        }
        let same_inputs = s.manifest.inputs.len() == first.manifest.inputs.len()
            && s.manifest
                .inputs
                .iter()
                .zip(&first.manifest.inputs)
                .all(|(a, b)| a.sha256 == b.sha256 && a.rows == b.rows);
        if !same_inputs {
            bail!(
                "{} and {} were scanned from different input files (sizes or SHA-256 differ)",
                s.dir.display(),
                first.dir.display()
            );
        }
        if s.manifest.config != first.manifest.config
            || s.manifest.planned != first.manifest.planned
        {
            bail!(
                "{} and {} were scanned with different configurations or planned windows",
                s.dir.display(),
                first.dir.display()
            );
        }
    }
    let missing: Vec<String> = (0..n)
        .filter(|i| !seen.contains_key(i))
        .map(|i| format!("{}/{n}", i + 1))
        .collect();
    if !missing.is_empty() {
        bail!(
            "shard(s) {} missing: a merge needs all {n}",
            missing.join(", ")
        );
    }
    // Every row read is accounted for by exactly one shard.
    let rows_read = first.manifest.counts.rows_read;
    let mut counts = IngestCounts {
        rows_read,
        ..Default::default()
    };
    for s in &shards {
        let c = &s.manifest.counts;
        if c.rows_read != rows_read
            || c.rows_kept + c.duplicates + c.rejected + c.other_shards != rows_read
        {
            bail!(
                "{}: row counts do not add up to the {rows_read} rows read (the folder was changed?)",
                s.dir.display()
            );
        }
        counts.rows_kept += c.rows_kept;
        counts.duplicates += c.duplicates;
        counts.rejected += c.rejected;
        counts.series += c.series;
    }
    if counts.rows_kept + counts.duplicates + counts.rejected != rows_read {
        bail!(
            "the shards account for {} of {rows_read} rows: they do not cover the estate exactly once",
            counts.rows_kept + counts.duplicates + counts.rejected
        );
    }
    let mut findings = Vec::new();
    let mut chart_src: HashMap<(Vec<String>, String), PathBuf> = HashMap::new();
    let mut rejected = Vec::new();
    for s in &shards {
        for (f, chart) in read_findings(s)? {
            if let Some(c) = chart {
                chart_src.insert((f.key.clone(), f.start.clone()), c);
            }
            findings.push(f);
        }
        rejected.extend(read_rejected(&s.dir)?);
    }
    // Same order as one scan.
    crate::analysis::sort(&mut findings);
    let files: Vec<String> = first
        .manifest
        .inputs
        .iter()
        .map(|f| f.path.clone())
        .collect();
    rejected.sort_by_key(|r| {
        (
            files
                .iter()
                .position(|f| *f == r.file)
                .unwrap_or(usize::MAX),
            r.line,
        )
    });
    let data_until = shards
        .iter()
        .filter_map(|s| timestamp::parse(&s.manifest.data_until).ok())
        .max();
    let target = out
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(clock::date_of(now)));
    let dest = Destination::new(target, out.state.clone(), out.breach_log.clone());
    let _lock = dest.lock()?;
    crate::report::OutDir::clean_partials(&dest.parent);
    // A shard picks the findings to chart by the state it read; one that
    // read another state (or none) drew charts for other findings, and those
    // this merge details would have none. Alerting is not affected.
    let ours = crate::state::State::load(&dest.state)?.digest();
    let blind: Vec<String> = shards
        .iter()
        .filter(|s| s.manifest.state_digest.as_deref() != Some(ours.as_str()))
        .map(|s| s.shard.to_string())
        .collect();
    if !blind.is_empty() {
        crate::log::alarm(format!(
            "shard(s) {} did not read this merge's state ({}): tonight's findings may lack their charts in the report. Give every `scan --shard` the state merge keeps: --state {}",
            blind.join(", "),
            dest.state.display(),
            dest.state.display()
        ));
    }
    let mut timings = BTreeMap::new();
    timings.insert("read_shards".to_string(), wall.elapsed().as_secs_f64());
    crate::log::debug(format!(
        "{} shard(s): {} findings, {} rejected rows",
        shards.len(),
        findings.len(),
        rejected.len()
    ));
    let config = first.manifest.config.clone();
    let thresholds = crate::config::Thresholds {
        base: config.detect.clone(),
        overrides: config.overrides.clone(),
        flags: Default::default(),
    };
    let run = Publish {
        command: "merge",
        now,
        dest,
        shard: None,
        config: &config,
        planned: first.manifest.planned.clone(),
        files: first.manifest.inputs.clone(),
        counts,
        rejected,
        key_names: config.columns.keys.clone(),
        data_until,
        flags: out.options(),
        timings,
        wall,
        params: &|f: &Finding| {
            thresholds
                .for_series(&config.columns.keys, &f.key)
                .into_owned()
        },
        state: None,
        // The next scan reads everything: a merged state has no checkpoint.
        checkpoint: None,
        scope: None,
        // Shards do not diff inventories (a shard cannot see the state).
        enrich: None,
    };
    let published = publish(run, findings, &|dir, findings, only| {
        std::fs::create_dir_all(dir.join("charts"))?;
        // The names one scan of the whole estate gives (unique in the run).
        let names = crate::charts::chart_names(findings);
        for ((f, keep), name) in findings.iter_mut().zip(only).zip(names) {
            let src = chart_src.get(&(f.key.clone(), f.start.clone()));
            f.chart = match src {
                Some(src) if *keep => {
                    std::fs::copy(src, dir.join(&name))
                        .with_context(|| format!("cannot copy {}", src.display()))?;
                    name
                }
                _ => String::new(),
            };
        }
        Ok(())
    })?;
    Ok(published.into())
}
