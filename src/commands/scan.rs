//! `shrinkwatch scan`: the nightly job.
//!
//! Order matters for a run that may fail or be killed at any moment: take
//! the lock, classify against the state and print the alerts, write the
//! whole report into a fresh folder and switch the report link to it, append
//! to the breach log, and only then save the state. A run that stops before
//! the state is saved leaves the previous state, so the next run alerts the
//! same findings again (at least once, never lost).

use super::{load, load_shard, Outcome};
use crate::charts;
use crate::cli::{ReportArgs, ScanArgs};
use crate::config::Config;
use crate::detect::DetectParams;
use crate::findings::{analyze_with, Finding};
use crate::fmt;
use crate::ingest::{timestamp, IngestCounts, InputFile, Rejected, Shard};
use crate::lock::Lock;
use crate::log;
use crate::report::{self, breach_log, manifest::Manifest, referral, OutDir};
use crate::state::{self, State};
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Runs a scan and writes its output folder.
pub fn run(args: &ScanArgs) -> Result<Outcome> {
    let wall = Instant::now();
    // The moment of detection: now, or the night given by --as-of.
    let out = &args.report;
    let now = run_time(out)?;
    let inputs = args.input.resolve()?;
    if args.explain.is_some() || args.explain_all.is_some() {
        return explain(args, &inputs, now);
    }
    let date = report_date(now);
    let target = out.out.clone().unwrap_or_else(|| match args.shard {
        Some(sh) => PathBuf::from("reports").join("shards").join(format!(
            "{date}.shard-{}-of-{}",
            sh.index + 1,
            sh.count
        )),
        None => PathBuf::from("reports").join(&date),
    });
    // A shard reads the nightly state where `merge` keeps it by default.
    let state = out.state.clone().or_else(|| {
        args.shard
            .map(|_| PathBuf::from("reports").join("state.json"))
    });
    crate::report::folder::check_out(&target)?;
    let dest = Destination::new(target, state, out.breach_log.clone());
    // A shard only reads the state (for the same chart choice as one run);
    // `merge` takes the lock and writes state and breach log.
    let _lock = if args.shard.is_none() {
        Some(dest.lock()?)
    } else {
        None
    };
    OutDir::clean_partials(&dest.parent);

    let mut timings = BTreeMap::new();
    let t = Instant::now();
    let (mut ing, plans) = load_shard(&inputs, args.shard)?;
    if args.report.as_of.is_some() {
        ing.set = ing.set.truncated(now);
    }
    timings.insert("ingest".to_string(), t.elapsed().as_secs_f64());
    log::debug(format!(
        "read {} rows from {} file(s) in {:.3} s",
        ing.counts.rows_read,
        ing.files.len(),
        t.elapsed().as_secs_f64()
    ));
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
    if ing.counts.rejected > 0 {
        log::warn(format!(
            "{} row(s) rejected (see rejected.csv in the report)",
            ing.counts.rejected
        ));
    }
    let detected_at = timestamp::format(now, false);
    let t = Instant::now();
    let findings = analyze_with(&ing.set, &plans, &inputs.thresholds, &detected_at);
    timings.insert("detect".to_string(), t.elapsed().as_secs_f64());
    log::debug(format!(
        "detection over {} series in {:.3} s",
        ing.counts.series,
        t.elapsed().as_secs_f64()
    ));
    let run = Publish {
        command: "scan",
        now,
        dest,
        shard: args.shard,
        config: &inputs.config,
        planned: inputs.planned.as_ref().map(|p| p.display().to_string()),
        files: ing.files.clone(),
        counts: ing.counts.clone(),
        rejected: std::mem::take(&mut ing.rejected),
        key_names: ing.set.key_names.clone(),
        data_until: ing.set.times.iter().max().copied(),
        flags: out,
        timings,
        wall,
        params: &|f: &Finding| {
            inputs
                .thresholds
                .for_series(&ing.set.key_names, &f.key)
                .into_owned()
        },
    };
    let opts = charts::ChartOptions {
        detected_at: now,
        recovery_samples: inputs.config.detect.recovery_samples,
        size: out.chart_size,
    };
    publish(run, findings, &|dir, findings, only| {
        let pb = log::progress(only.iter().filter(|d| **d).count() as u64, "charts");
        charts::render_findings(dir, findings, &ing.set, &plans, &opts, only, &pb)?;
        pb.finish_and_clear();
        Ok(())
    })
}

/// Where a run's output goes: the report folder, the state file beside it
/// and the breach log.
pub(crate) struct Destination {
    pub target: PathBuf,
    pub parent: PathBuf,
    pub state: PathBuf,
    pub breach_log: PathBuf,
}

impl Destination {
    /// Defaults: state and breach log beside the report folder.
    pub fn new(target: PathBuf, state: Option<PathBuf>, breach_log: Option<PathBuf>) -> Self {
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        Destination {
            state: state.unwrap_or_else(|| parent.join("state.json")),
            breach_log: breach_log.unwrap_or_else(|| parent.join("breach-log.csv")),
            target,
            parent,
        }
    }

    /// The run lock on the state file; holding it, the temporary files a
    /// killed run left beside the state and the breach log are removed.
    pub fn lock(&self) -> Result<Lock> {
        let lock_path = PathBuf::from(format!("{}.lock", self.state.display()));
        let lock = Lock::acquire(
            &lock_path,
            &timestamp::format(chrono::Utc::now().timestamp(), false),
        )?;
        crate::safefs::remove_stale_temps(&self.state);
        crate::safefs::remove_stale_temps(&self.breach_log);
        Ok(lock)
    }
}

/// Everything a finished analysis needs to become a report.
pub(crate) struct Publish<'a> {
    pub command: &'static str,
    pub now: i64,
    pub dest: Destination,
    pub shard: Option<Shard>,
    pub config: &'a Config,
    pub planned: Option<String>,
    pub files: Vec<InputFile>,
    pub counts: IngestCounts,
    pub rejected: Vec<Rejected>,
    pub key_names: Vec<String>,
    pub data_until: Option<i64>,
    /// Charts and details (`--no-charts`, `--chart-size`, `--max-details`).
    pub flags: &'a ReportArgs,
    pub timings: BTreeMap<String, f64>,
    pub wall: Instant,
    /// The thresholds of a finding's series (how much a known loss must
    /// deepen to be alerted again).
    pub params: &'a dyn Fn(&Finding) -> DetectParams,
}

/// Draws the charts of the chosen findings into a folder and sets their `chart`.
pub(crate) type DrawCharts<'a> = dyn Fn(&Path, &mut [Finding], &[bool]) -> Result<()> + 'a;

/// Classifies findings against the state and prints the alerts, writes the
/// report folder, then (not for a shard) the breach log and last the state,
/// and prints the summary. Order matters for a run that fails or is killed
/// at any moment: the state advances only after every alerting output is
/// durable, so a run that did not finish is alerted again by the next.
pub(crate) fn publish(
    run: Publish,
    mut findings: Vec<Finding>,
    draw: &DrawCharts,
) -> Result<Outcome> {
    let Publish {
        command,
        now,
        dest,
        shard,
        config,
        planned,
        files,
        counts,
        rejected,
        key_names,
        data_until,
        flags,
        mut timings,
        wall,
        params,
    } = run;
    let detected_at = timestamp::format(now, false);
    let mut state = State::load(&dest.state)?;
    state.classify(&mut findings, &detected_at, params);
    let alerts = state::alerts(&findings);
    // The alerts first: they reach the operator even if a later step fails.
    if log::level() >= 1 && shard.is_none() {
        print_alerts(&findings, alerts);
    }
    let fresh = findings.iter().filter(|f| f.status != "known").count();
    let detailed = crate::findings::detailed(&findings, flags.max_details);
    let out = OutDir::create(&dest.target)?;
    let t = Instant::now();
    if !flags.no_charts {
        crate::failpoint::hit("charts").context("drawing the charts")?;
        draw(out.path(), &mut findings, &detailed)?;
        let sub = format!(
            "Largest losses first, by bytes dropped; {} series scanned, data until {}",
            counts.series,
            data_until.map_or("no data".into(), fmt::date_time)
        );
        charts::overview::render(
            &out.path().join("overview.png"),
            &findings,
            &sub,
            flags.chart_size,
        )?;
    }
    timings.insert("charts".to_string(), t.elapsed().as_secs_f64());
    log::debug(format!(
        "{} charts in {:.3} s",
        detailed.iter().filter(|d| **d).count(),
        t.elapsed().as_secs_f64()
    ));

    let t = Instant::now();
    crate::failpoint::hit("report").context("writing the report")?;
    let keys = &key_names;
    report::write_findings_csv(&out.path().join("findings.csv"), &findings, keys)?;
    report::write_findings_json(&out.path().join("findings.json"), &findings, keys)?;
    if !rejected.is_empty() {
        report::write_rejected(&out.path().join("rejected.csv"), &rejected)?;
    }
    let info = referral::RunInfo {
        started_at: now,
        data_until,
        counts: &counts,
        params: &config.detect,
        key_names: keys,
        new_since_last: Some(fresh),
        detailed: &detailed,
    };
    let doc = referral::build(&info, &findings);
    crate::report::write_file(out.path().join("report.md"), doc.to_markdown())?;
    let dir = out.path().to_path_buf();
    let html = doc.to_html(&|p| std::fs::read(dir.join(p)).ok());
    crate::report::write_file(out.path().join("report.html"), html)?;
    timings.insert("write".to_string(), t.elapsed().as_secs_f64());
    let by_kind = count_kinds(&findings);
    let manifest = Manifest {
        tool: "shrinkwatch",
        version: env!("CARGO_PKG_VERSION"),
        command: command.into(),
        args: std::env::args().collect(),
        started_at: detected_at.clone(),
        config: config.clone(),
        planned,
        inputs: files,
        counts: counts.clone(),
        findings: by_kind.clone(),
        data_until: data_until
            .map(|t| timestamp::format(t, false))
            .unwrap_or_default(),
        shard: shard.map(|s| s.to_string()),
        timings,
    };
    // The manifest is written last: a folder with a manifest is complete.
    report::write_file(
        out.path().join("manifest.json"),
        serde_json::to_string_pretty(&manifest)? + "\n",
    )?;
    let dir = out.commit()?;
    if shard.is_none() {
        report::point_latest(&dir)?;
        // The breach log lives beside the report folders and only grows.
        let logged = breach_log::append(&dest.breach_log, &findings, keys, now)?;
        if logged > 0 {
            log::debug(format!(
                "{logged} finding(s) appended to {}",
                dest.breach_log.display()
            ));
        }
        // Last: once the state is saved, these findings are never alerted again.
        state.save(&dest.state)?;
    }

    let c = &counts;
    let what = match shard {
        Some(sh) => format!("shard {sh} of"),
        None => "shrinkwatch:".to_string(),
    };
    println!(
        "{what} {} series, {} rows ({} duplicates, {} rejected{}), data until {}: {} loss, {} transient, {} planned; {} new loss alert(s); report {} ({:.1} s)",
        c.series,
        c.rows_read,
        c.duplicates,
        c.rejected,
        if c.other_shards > 0 {
            format!(", {} in other shards", c.other_shards)
        } else {
            String::new()
        },
        data_until.map_or("no data".into(), |t| timestamp::format(t, false)),
        by_kind.get("loss").copied().unwrap_or(0),
        by_kind.get("transient").copied().unwrap_or(0),
        by_kind.get("planned").copied().unwrap_or(0),
        alerts,
        dir.display(),
        wall.elapsed().as_secs_f64()
    );
    // A shard never alerts: `merge` does, once, for the whole estate.
    Ok(if alerts > 0 && shard.is_none() {
        Outcome::NewLoss
    } else {
        Outcome::Clean
    })
}

fn print_alerts(findings: &[Finding], alerts: usize) {
    const SHOWN: usize = 20;
    for (shown, f) in findings
        .iter()
        .filter(|f| f.is_loss() && f.status != "known")
        .enumerate()
    {
        if shown == SHOWN {
            println!("  … and {} more (see report.md)", alerts - SHOWN);
            break;
        }
        let objects = f
            .objects_lost
            .map(|o| format!(", {} files", fmt::count(o)))
            .unwrap_or_default();
        let plan = if f.planned_reason.is_empty() {
            String::new()
        } else {
            format!(" during planned window: {}", f.planned_reason)
        };
        let what = if f.status == "updated" {
            format!("LOSS ({})", f.change)
        } else {
            "NEW LOSS".to_string()
        };
        println!(
            "  {what} {}: {:.1}% ({}{objects}) from {} ({}){}",
            fmt::term(&f.label()),
            f.drop_pct,
            fmt::bytes(f.drop_bytes as f64),
            f.start,
            f.severity.as_str(),
            fmt::term(&plan)
        );
    }
}

/// `--explain` / `--explain-all`: no report, no state; the candidates only.
fn explain(args: &ScanArgs, inputs: &crate::cli::Inputs, now: i64) -> Result<Outcome> {
    let (mut ing, plans) = load(inputs)?;
    if args.report.as_of.is_some() {
        ing.set = ing.set.truncated(now);
    }
    if let Some(name) = &args.explain {
        let i = ing.set.find(name).ok_or_else(|| {
            anyhow::anyhow!("--explain: no series `{}` in the input", fmt::term(name))
        })?;
        let rows = crate::explain::explain(&ing.set, &plans, &inputs.thresholds, Some(i));
        println!(
            "{}: {} candidate reduction(s) examined",
            fmt::term(name),
            rows.len()
        );
        print!("{}", crate::explain::render(&rows));
    }
    if let Some(path) = &args.explain_all {
        let rows = crate::explain::explain(&ing.set, &plans, &inputs.thresholds, None);
        report::write_csv(path, &rows)?;
        println!(
            "{} candidate reduction(s) in {} series → {}",
            rows.len(),
            ing.counts.series,
            path.display()
        );
    }
    Ok(Outcome::Clean)
}

/// The moment of detection: now, or the night given by `--as-of`.
pub(crate) fn run_time(out: &ReportArgs) -> Result<i64> {
    match &out.as_of {
        Some(s) => parse_as_of(s),
        None => Ok(chrono::Utc::now().timestamp()),
    }
}

/// `YYYY-MM-DD` of a run (UTC): the default report folder's name.
pub(crate) fn report_date(now: i64) -> String {
    chrono::DateTime::from_timestamp(now, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// `--as-of`: a date means the end of that day (UTC); a date-time is taken as is.
pub fn parse_as_of(s: &str) -> Result<i64> {
    let t = timestamp::parse(s).map_err(|why| anyhow::anyhow!("--as-of `{s}`: {why}"))?;
    Ok(if s.trim().len() == 10 { t + 86_399 } else { t })
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
