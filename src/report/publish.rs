//! Publishing a finished analysis as a run of the nightly job: classify
//! the findings against the state, print the alerts, write the report
//! folder (charts, findings, the referral report, the manifest), switch the
//! report links, append to the breach log and, last, save the state. `scan`
//! and `merge` both end here.
//!
//! Order matters for a run that may fail or be killed at any moment: the
//! alerts are printed first, and the state advances only after every
//! alerting output (report, breach log) is durable, so a run that did not
//! finish is alerted again by the next (at least once, never lost).

use crate::charts;
use crate::config::Config;
use crate::detect::{DetectParams, Kind};
use crate::findings::{Finding, Status};
use crate::fmt;
use crate::ingest::{timestamp, IngestCounts, InputFile, Rejected, Shard};
use crate::lock::Lock;
use crate::log;
use crate::report::{self, breach_log, manifest::Manifest, referral, summary, OutDir};
use crate::state::{self, State};
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How much of a report to draw (`--no-charts`, `--chart-size`,
/// `--max-details`) and whom to tell (`--notify-cmd`).
#[derive(Debug, Clone)]
pub struct Options {
    /// A shell command run with `summary.txt` on its standard input when
    /// there is something new.
    pub notify_cmd: Option<String>,
    /// No charts at all.
    pub no_charts: bool,
    /// Chart size in pixels.
    pub chart_size: (u32, u32),
    /// Findings that get a chart and a section of their own.
    pub max_details: usize,
}

/// What a run's publishing step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// Nothing to alert.
    Quiet,
    /// At least one new or updated loss (exit code 1).
    Alert,
}

/// Where a run's output goes: the report folder, the state file beside it
/// and the breach log.
pub struct Destination {
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
pub struct Publish<'a> {
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
    pub flags: Options,
    pub timings: BTreeMap<String, f64>,
    pub wall: Instant,
    /// The thresholds of a finding's series (how much a known loss must
    /// deepen to be alerted again).
    pub params: &'a dyn Fn(&Finding) -> DetectParams,
    /// The state, when the run already loaded it (else it is loaded here).
    pub state: Option<State>,
    /// What the state keeps for the next run (`crate::incremental`); `None`
    /// removes it.
    pub checkpoint: Option<crate::incremental::Checkpoint>,
    /// How much the run read (incremental or full), for the summary and
    /// the manifest.
    pub scope: Option<crate::incremental::Scope>,
    /// A step after classification that adds facts to tonight's findings,
    /// writing any files into the report folder (the object inventories);
    /// it never fails the run.
    pub enrich: Option<&'a Enrich<'a>>,
}

/// Adds facts to findings once their status is known; gets the report folder.
pub type Enrich<'a> = dyn Fn(&Path, &mut [Finding]) + 'a;

/// Draws the charts of the chosen findings into a folder and sets their `chart`.
pub type DrawCharts<'a> = dyn Fn(&Path, &mut [Finding], &[bool]) -> Result<()> + 'a;

/// Classifies findings against the state and prints the alerts, writes the
/// report folder, then (not for a shard) the breach log and last the state,
/// and prints the summary. Order matters for a run that fails or is killed
/// at any moment: the state advances only after every alerting output is
/// durable, so a run that did not finish is alerted again by the next.
pub fn publish(run: Publish, mut findings: Vec<Finding>, draw: &DrawCharts) -> Result<Published> {
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
        state,
        checkpoint,
        scope,
        enrich,
    } = run;
    let detected_at = timestamp::format(now, false);
    let mut state = match state {
        Some(s) => s,
        None => State::load(&dest.state)?,
    };
    let t_prep = Instant::now();
    let state_digest = shard.map(|_| state.digest());
    // No earlier state: the report is a history report.
    let first_run = state.findings.is_empty();
    state.classify(&mut findings, &detected_at, params);
    let alerts = state::alerts(&findings);
    // The alerts first: they reach the operator even if a later step fails.
    if log::level() >= 1 && shard.is_none() {
        print_alerts(&findings, alerts);
    }
    let fresh = findings
        .iter()
        .filter(|f| f.status != Status::Known)
        .count();
    let detailed = crate::findings::detailed(&findings, flags.max_details, first_run);
    // Tonight's news, or everything on a first run; a quiet night draws nothing.
    let news = first_run || fresh > 0;
    let decided = if shard.is_none() {
        breach_log::decisions(&dest.breach_log, &key_names)
    } else {
        Default::default()
    };
    let decisions: Vec<Option<String>> = findings
        .iter()
        .map(|f| decided.get(&breach_log::log_id(f)).cloned())
        .collect();
    let first_reported: Vec<Option<String>> = findings
        .iter()
        .map(|f| {
            state
                .first_reported(&f.key, &f.start)
                .and_then(|t| timestamp::parse(t).ok())
                .map(crate::clock::date_of)
        })
        .collect();
    let open_losses = findings
        .iter()
        .zip(&decisions)
        .filter(|(f, d)| !first_run && f.status == Status::Known && f.is_loss() && d.is_none())
        .count();
    log::debug(format!(
        "findings classified against the state and the breach log in {:.3} s",
        t_prep.elapsed().as_secs_f64()
    ));
    let out = OutDir::create(&dest.target)?;
    if let Some(enrich) = enrich {
        let t = Instant::now();
        enrich(out.path(), &mut findings);
        timings.insert("inventory".to_string(), t.elapsed().as_secs_f64());
    }
    let t = Instant::now();
    if !flags.no_charts {
        crate::failpoint::hit("charts").context("drawing the charts")?;
        draw(out.path(), &mut findings, &detailed)?;
        if news {
            let sub = format!(
                "Tonight's findings first, then the largest earlier losses; {} series scanned, data until {}",
                counts.series,
                data_until.map_or("no data".into(), fmt::date_time)
            );
            let tonight: Vec<bool> = findings
                .iter()
                .map(|f| !first_run && f.status != Status::Known)
                .collect();
            charts::overview::render(
                &out.path().join("overview.png"),
                &findings,
                &tonight,
                &sub,
                flags.chart_size,
            )?;
        }
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
    let info = referral::RunInfo {
        started_at: now,
        data_until,
        counts: &counts,
        params: &config.detect,
        key_names: keys,
        new_since_last: Some(fresh),
        detailed: &detailed,
        first_run,
        decisions: &decisions,
        first_reported: &first_reported,
        overview: news && !flags.no_charts,
    };
    // The tables and the report do not depend on each other: written on
    // two threads (a national estate's 85,000 findings take seconds each).
    let dir = out.path().to_path_buf();
    let (tables, doc) = rayon::join(
        || -> Result<()> {
            let t = Instant::now();
            report::write_findings(&dir, &findings, keys)?;
            if !rejected.is_empty() {
                report::write_rejected(&dir.join("rejected.csv"), &rejected)?;
            }
            log::debug(format!(
                "findings.csv and findings.json written in {:.3} s",
                t.elapsed().as_secs_f64()
            ));
            Ok(())
        },
        || -> Result<()> {
            let t = Instant::now();
            let doc = referral::build(&info, &findings);
            // One document, two renderings, each on its own thread.
            let (md, html) = rayon::join(
                || crate::report::write_file(dir.join("report.md"), doc.to_markdown()),
                || {
                    let html = doc.to_html(&|p| std::fs::read(dir.join(p)).ok());
                    crate::report::write_file(dir.join("report.html"), html)
                },
            );
            md?;
            html?;
            log::debug(format!(
                "report.md and report.html written in {:.3} s",
                t.elapsed().as_secs_f64()
            ));
            Ok(())
        },
    );
    tables?;
    doc?;
    let summary = summary::render(&summary::Summary {
        started_at: now,
        first_run,
        findings: &findings,
        open_losses,
        report: dest.target.join("report.html").display().to_string(),
        scope: scope.as_ref().map(|s| s.line()),
    });
    crate::report::write_file(out.path().join("summary.txt"), &summary)?;
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
        state_digest,
        timings,
        scope,
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
        let t = Instant::now();
        let logged = breach_log::append(&dest.breach_log, &findings, keys, now)?;
        log::debug(format!("breach log in {:.3} s", t.elapsed().as_secs_f64()));
        if logged > 0 {
            log::debug(format!(
                "{logged} finding(s) appended to {}",
                dest.breach_log.display()
            ));
        }
        // The notification is an alerting output too: a failed one leaves the
        // state as it was, so the next run notifies again.
        if let (Some(cmd), true) = (&flags.notify_cmd, fresh > 0) {
            notify(cmd, &summary, &dir)?;
        }
        // Last: once the state is saved, these findings are never alerted again.
        state.checkpoint = checkpoint;
        let t = Instant::now();
        state.save(&dest.state)?;
        log::debug(format!(
            "state written in {:.3} s",
            t.elapsed().as_secs_f64()
        ));
    }

    let c = &counts;
    let what = match shard {
        Some(sh) => format!("shard {sh} of"),
        None => "shrinkwatch:".to_string(),
    };
    crate::outln!(
        "{what} {} series, {} rows ({} duplicates, {} rejected{}), data until {}: {} loss, {} transient, {} planned, {} moved; {} new loss alert(s); report {} ({:.1} s)",
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
        by_kind.get("moved").copied().unwrap_or(0),
        alerts,
        dir.display(),
        wall.elapsed().as_secs_f64()
    );
    // A shard never alerts: `merge` does, once, for the whole estate.
    Ok(if alerts > 0 && shard.is_none() {
        Published::Alert
    } else {
        Published::Quiet
    })
}

fn print_alerts(findings: &[Finding], alerts: usize) {
    const SHOWN: usize = 20;
    for (shown, f) in findings
        .iter()
        .filter(|f| f.is_loss() && f.status != Status::Known)
        .enumerate()
    {
        if shown == SHOWN {
            crate::outln!("  … and {} more (see report.md)", alerts - SHOWN);
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
        let what = if f.status == Status::Updated {
            format!("LOSS ({})", f.change)
        } else {
            "NEW LOSS".to_string()
        };
        crate::outln!(
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

/// Number of findings of each kind.
pub fn count_kinds(findings: &[Finding]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for k in Kind::ALL {
        m.insert(k.as_str().to_string(), 0);
    }
    for f in findings {
        *m.entry(f.kind.as_str().to_string()).or_default() += 1;
    }
    m
}

/// Runs the `--notify-cmd` (through `sh -c`) with the summary on its
/// standard input and `SHRINKWATCH_REPORT` naming the report folder; a
/// command that cannot start or fails is an error naming it.
fn notify(cmd: &str, summary: &str, report: &Path) -> Result<()> {
    use std::io::Write;
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .env("SHRINKWATCH_REPORT", report)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("--notify-cmd `{}` cannot start", fmt::term(cmd)))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input is not an error.
        let _ = stdin.write_all(summary.as_bytes());
    }
    let status = child
        .wait()
        .with_context(|| format!("--notify-cmd `{}`", fmt::term(cmd)))?;
    if !status.success() {
        anyhow::bail!(
            "--notify-cmd `{}` failed ({status}); the state is left as it was, so the next run notifies again",
            fmt::term(cmd)
        );
    }
    Ok(())
}
