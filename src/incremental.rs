//! Incremental nightly scans: a night's run reads only the time range that
//! can change a verdict and carries every older finding over from the state
//! (README "Running it every night", issue 17).
//!
//! A run leaves a [`Checkpoint`] in the state: a fingerprint of the
//! configuration, the planned windows, every input file (size, mtime, and
//! for Parquet each row group's statistics), per series what is needed to
//! continue (sample counts, cadence, a hash of its recent readings) and
//! every finding in full. The next run on the same inputs and
//! configuration then:
//!
//! 1. plans a window ([`plan`]): from the thresholds, the anchor `C` (the
//!    last run's moment less [`Spans::keep`]) and the read start `R = C −
//!    warm-up`, earlier still for a planned window that overlaps it. Files
//!    wholly before `R` are not opened; Parquet row groups wholly before it
//!    are not decoded (their statistics say so). A changed configuration, a
//!    planned window changed before `C`, a file gone, or rows added before
//!    `C` (a new row group, or a new or changed CSV file, holding them) make
//!    it a full scan, saying why;
//! 2. judges each series on the window ([`combine`]): a series whose
//!    readings since `C` are those the last run saw, with nothing new, keeps
//!    its findings; a series whose whole history is in the window is judged
//!    afresh; any other takes tonight's findings from `C` on and the carried
//!    ones before it, after checking that tonight's engine, run on the
//!    window, found exactly the carried findings between `C` and the last
//!    run's final decisions (a stretch longer than the baseline, so the
//!    engine's state entering tonight's news is the one a full scan has).
//!    A series the window cannot judge (a disagreement, too few readings
//!    after the anchor — back after a long gap —, a cadence, date format or
//!    zero reading that differs from its history, a new series with older
//!    readings) is judged on its whole history instead ([`rejudge`]: the
//!    inputs read once more, keeping only those series); the run stays
//!    incremental for the rest.
//!
//! Residual difference from a full scan, by design: `rejected.csv` lists
//! the rows rejected among those read tonight (older ones were listed by the
//! run that read them), and the row counts of the summary line are tonight's.

use crate::arrival::Arrival;
use crate::config::Thresholds;
use crate::detect::baseline::Cadence;
use crate::detect::daily::DAY;
use crate::findings::{Finding, FindingRow, Status};
use crate::hash::Fnv;
use crate::ingest::groups::{self, Group};
use crate::ingest::{self, FileRead, Ingested, SeriesSet, Window};
use crate::pipeline::Inputs;
use crate::planned::PlannedRow;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Raised whenever the same readings would be judged differently (2: the
/// arrivals of moves set aside, kept in the checkpoint), so that a
/// checkpoint of an earlier judgement makes the next run a full scan.
const JUDGEMENT: u32 = 2;

/// What a run leaves in the state for the next one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Hash of the configuration, column names, source options and tool version.
    pub fingerprint: String,
    /// The run's moment (seconds, UTC).
    pub now: i64,
    /// `C`: the next run judges afresh from here on.
    pub anchor: i64,
    /// Latest observation of the run.
    pub data_until: Option<i64>,
    /// The planned windows.
    pub planned: Vec<PlanSig>,
    /// The input files.
    pub files: Vec<FileSig>,
    /// Every series.
    pub series: Vec<SeriesSig>,
    /// Every finding of the run, in full.
    pub findings: Vec<Carried>,
}

/// A planned window as a checkpoint remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PlanSig {
    /// Hash of its keys, window, expected size, reason and targets.
    pub sig: String,
    /// First second.
    pub start: i64,
    /// Last second.
    pub end: i64,
}

/// An input file as a checkpoint remembers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileSig {
    /// Path as listed.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: u64,
    /// Earliest and latest time of its rows (CSV; unknown when not read).
    pub min_ts: Option<i64>,
    /// See `min_ts`.
    pub max_ts: Option<i64>,
    /// Its row groups (Parquet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<Group>>,
}

/// A series as a checkpoint remembers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesSig {
    /// Key values.
    pub key: Vec<String>,
    /// First and last reading.
    pub first: i64,
    /// See `first`.
    pub last: i64,
    /// Readings in its whole history.
    pub total: u64,
    /// Readings before the checkpoint's anchor.
    pub before_anchor: u64,
    /// Interval of the raw readings (median), seconds.
    pub step: i64,
    /// Every reading at midnight (times written as dates).
    pub date_only: bool,
    /// Some day has two readings (the engine works on a per-day summary).
    pub summarised: bool,
    /// Smallest positive bytes value (a zero reading is judged against it).
    pub min_pos: Option<f64>,
    /// Some reading is zero.
    pub has_zero: bool,
    /// Hash of its readings from the anchor on.
    pub recent: String,
    /// What moves brought into it, set aside to judge its own data
    /// (`crate::arrival`): a window that no longer holds the readings they
    /// were measured on takes them from here.
    #[serde(default)]
    pub arrivals: Vec<Arrival>,
}

/// A finding carried over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Carried {
    /// Key values.
    pub key: Vec<String>,
    /// The finding as `findings.json` holds it.
    #[serde(flatten)]
    pub row: FindingRow,
}

/// Durations that bound what can change a verdict, from the thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spans {
    /// Engine warm-up read before the anchor (baseline + margin).
    pub warm: i64,
    /// Anchor distance from the run's moment: the last run's final
    /// decisions (lookahead) plus a verified stretch of baseline + longest
    /// drop + recovery + margin.
    pub keep: i64,
    /// Longest drop (4 × max_drop) plus recovery: how far an earlier
    /// incident reaches.
    pub reach: i64,
    /// The baseline.
    pub baseline: i64,
}

/// Safety margin added to every span.
pub const MARGIN: i64 = 7 * DAY;

/// How much earlier than the shared warm-up a window may start for a
/// series back after a gap (see [`plan`]).
pub const MAX_WIDEN: i64 = 120 * DAY;

impl Spans {
    /// The widest spans over every series' thresholds; `step` is the
    /// coarsest interval among the series (at least a day: a sub-daily
    /// series is judged per day).
    pub fn of(th: &Thresholds, key_names: &[String], keys: &[&[String]], step: i64) -> Spans {
        let step = step.max(DAY);
        let mut sp = Spans::for_params(&th.base, step);
        for k in keys {
            let s = Spans::for_params(&th.for_series(key_names, k), step);
            sp.warm = sp.warm.max(s.warm);
            sp.keep = sp.keep.max(s.keep);
            sp.reach = sp.reach.max(s.reach);
            sp.baseline = sp.baseline.max(s.baseline);
        }
        sp
    }

    fn for_params(p: &crate::detect::DetectParams, step: i64) -> Spans {
        let margin = MARGIN.max(2 * step);
        let cap = 4 * p.max_drop.max(step);
        let lookahead = cap + p.recovery + 2 * step;
        let reach = cap + p.recovery;
        Spans {
            warm: p.baseline + margin,
            keep: lookahead + p.baseline + reach + margin,
            reach,
            baseline: p.baseline,
        }
    }
}

/// Hash of what a run's verdicts depend on besides the data: the
/// configuration and thresholds, the column names, the source options,
/// `--totals` and the tool version.
pub fn fingerprint(inputs: &Inputs) -> String {
    let mut h = Fnv::default();
    h.eat(env!("CARGO_PKG_VERSION").as_bytes());
    h.eat(&JUDGEMENT.to_le_bytes());
    h.eat(
        serde_json::to_string(&inputs.config)
            .unwrap_or_default()
            .as_bytes(),
    );
    h.eat(
        serde_json::to_string(&inputs.thresholds)
            .unwrap_or_default()
            .as_bytes(),
    );
    // the flags win over the file's overrides: they are part of it too
    h.eat(format!("{:?}", inputs.thresholds.flags).as_bytes());
    h.eat(format!("{:?}", inputs.sources).as_bytes());
    h.eat(&[u8::from(inputs.totals)]);
    h.eat(
        inputs
            .planned
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
            .as_bytes(),
    );
    format!("{:016x}", h.finish())
}

/// The planned windows as a checkpoint remembers them.
pub fn plan_sigs(plans: &[PlannedRow]) -> Vec<PlanSig> {
    plans
        .iter()
        .map(|p| {
            let mut h = Fnv::default();
            for k in &p.key {
                h.eat(k.as_bytes()).eat(&[0]);
            }
            h.eat(&p.window.start.to_le_bytes());
            h.eat(&p.window.end.to_le_bytes());
            h.eat(format!("{:?}", p.window.expected_drop_pct).as_bytes());
            h.eat(p.window.reason.as_bytes()).eat(&[0]);
            for m in &p.moved_to {
                h.eat(m.as_bytes()).eat(&[0]);
            }
            PlanSig {
                sig: format!("{:016x}", h.finish()),
                start: p.window.start,
                end: p.window.end,
            }
        })
        .collect()
}

/// How tonight's run reads its inputs.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Everything, and why.
    Full(String),
    /// Only a window.
    Window(Box<WindowPlan>),
}

/// An incremental run's plan.
#[derive(Debug, Clone)]
pub struct WindowPlan {
    /// What to read.
    pub read: Window,
    /// `C`: findings from here on are judged tonight.
    pub anchor: i64,
    /// Files new or changed since the last run (rows before `C` in them are
    /// late rows).
    pub fresh: Vec<bool>,
    /// Planned windows changed since the last run.
    pub plans_changed: bool,
    /// The last run's checkpoint.
    pub prev: Checkpoint,
    /// The spans used.
    pub spans: Spans,
}

/// Size and modification time of a file.
fn stat(path: &Path) -> Result<(u64, u64), String> {
    let m = std::fs::metadata(path).map_err(|e| e.to_string())?;
    let mtime = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64);
    Ok((m.len(), mtime))
}

/// Decides whether tonight can read a window, and which one.
pub fn plan(
    inputs: &Inputs,
    files: &[PathBuf],
    plans: &[PlannedRow],
    prev: Option<&Checkpoint>,
    now: i64,
) -> Plan {
    let full = |why: &str| Plan::Full(why.to_string());
    let Some(prev) = prev else {
        return full("no earlier run recorded in the state");
    };
    if inputs.prometheus.is_some() {
        return full("a live Prometheus query is read whole");
    }
    if prev.fingerprint != fingerprint(inputs) {
        return full("the configuration, thresholds, columns or planned-windows file changed since the last run");
    }
    if now < prev.now {
        return full("this run's moment is before the last run's");
    }
    let t = crate::fmt::date_time;
    let key_names = &inputs.config.columns.keys;
    let keys: Vec<&[String]> = prev.series.iter().map(|s| s.key.as_slice()).collect();
    let step = prev.series.iter().map(|s| s.step).max().unwrap_or(DAY);
    let spans = Spans::of(&inputs.thresholds, key_names, &keys, step);
    let anchor = prev.anchor;
    // Planned windows changed since the last run: one that starts before
    // the anchor could change a carried finding.
    let now_sigs = plan_sigs(plans);
    let old: std::collections::HashSet<&PlanSig> = prev.planned.iter().collect();
    let new: std::collections::HashSet<&PlanSig> = now_sigs.iter().collect();
    let changed: Vec<&PlanSig> = old.symmetric_difference(&new).copied().collect::<Vec<_>>();
    if let Some(p) = changed
        .iter()
        .filter(|p| p.start < anchor)
        .min_by_key(|p| p.start)
    {
        return Plan::Full(format!(
            "a planned window starting {} (before the window) was added, changed or removed",
            t(p.start)
        ));
    }
    // The read start: a warm-up before the anchor, and before any planned
    // window that reaches into it (a window's budget is shared by its drops).
    let late = crate::detect::daily::DAY * 8; // a move's target may be measured a week late
                                              // Only a window that reaches what is judged tonight (from the anchor,
                                              // less how far an earlier incident reaches) matters.
    let mut from = anchor - spans.warm;
    // A series that stopped reading well before the last run (a collector
    // down) has older final decisions: it is judged from an earlier anchor
    // of its own (`combine`), so the window starts earlier for it, by at
    // most `MAX_WIDEN`; a longer gap is judged on its whole history.
    for sig in &prev.series {
        let p = inputs.thresholds.for_series(key_names, &sig.key);
        let sp = spans_of(&p, sig.step);
        let (lookahead, engine_step) = lookahead(&p, sig.step, sig.summarised);
        // its last decisions, allowing for irregular readings
        let settled = sig.last - 2 * lookahead as i64 * engine_step;
        if settled < anchor + sp.baseline + sp.reach {
            let want = settled - sp.baseline - sp.reach - sp.warm;
            if want >= anchor - spans.warm - MAX_WIDEN {
                from = from.min(want);
            }
        }
    }
    for p in plans {
        if p.window.end + late >= anchor - spans.reach {
            from = from.min(p.window.start - spans.warm);
        }
    }
    // The files.
    let mut read = Vec::with_capacity(files.len());
    let mut fresh = Vec::with_capacity(files.len());
    let by_path: HashMap<&str, &FileSig> =
        prev.files.iter().map(|f| (f.path.as_str(), f)).collect();
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    for (path, name) in files.iter().zip(&names) {
        let shown = crate::fmt::term(name);
        let ext = ingest::extension(path);
        if ext != "csv" && ext != "parquet" {
            return Plan::Full(format!(
                "{shown} is a monitoring export, read whole every night"
            ));
        }
        let Ok((size, mtime)) = stat(path) else {
            return Plan::Full(format!("{shown} cannot be read"));
        };
        let old = by_path.get(name.as_str()).copied();
        let same = old.is_some_and(|o| o.size == size && o.mtime_ns == mtime);
        if ext == "csv" {
            match old {
                Some(o) if same => {
                    read.push(if o.max_ts.is_some_and(|m| m < from) {
                        FileRead::Skip
                    } else {
                        FileRead::All
                    });
                    fresh.push(false);
                }
                _ => {
                    read.push(FileRead::All);
                    fresh.push(true);
                }
            }
            continue;
        }
        let Ok(gs) = groups::parquet_groups(path, &inputs.config.columns.time) else {
            return Plan::Full(format!("{shown}: cannot read its row groups"));
        };
        let mut known: HashMap<&str, usize> = HashMap::new();
        for g in old.and_then(|o| o.groups.as_ref()).into_iter().flatten() {
            *known.entry(g.sig.as_str()).or_default() += 1;
        }
        let mut chosen = Vec::new();
        for (i, g) in gs.iter().enumerate() {
            let is_old = match known.get_mut(g.sig.as_str()) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    true
                }
                _ => false,
            };
            match (g.min_ts, g.max_ts) {
                (Some(lo), Some(hi)) => {
                    if !is_old && lo < anchor {
                        return Plan::Full(format!(
                            "late rows: row group {} of {shown} is new or changed and holds readings from {}, before the window",
                            i + 1,
                            t(lo)
                        ));
                    }
                    if hi >= from {
                        chosen.push(i);
                    }
                }
                _ if same || is_old => chosen.push(i),
                _ => {
                    return Plan::Full(format!(
                        "{shown} changed and has no time statistics to tell new rows from old"
                    ))
                }
            }
        }
        if known.values().any(|n| *n > 0) {
            return Plan::Full(format!(
                "row groups of {shown} changed or were removed since the last run"
            ));
        }
        read.push(some_groups(chosen, gs.len()));
        fresh.push(false);
    }
    let listed: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
    if let Some(gone) = prev
        .files
        .iter()
        .find(|f| !listed.contains(f.path.as_str()))
    {
        return Plan::Full(format!(
            "input file {} was read by the last run and is gone",
            crate::fmt::term(&gone.path)
        ));
    }
    Plan::Window(Box::new(WindowPlan {
        read: Window {
            since: from,
            files: read,
            only: None,
        },
        anchor,
        fresh,
        plans_changed: !changed.is_empty(),
        prev: prev.clone(),
        spans,
    }))
}

/// After reading the window: late rows in a new or changed file (rows
/// before the anchor) make the run a full scan.
pub fn check_read(wp: &WindowPlan, ing: &Ingested) -> Result<(), String> {
    for (i, f) in ing.files.iter().enumerate() {
        if !wp.fresh.get(i).copied().unwrap_or(false) {
            continue;
        }
        if let Some((lo, _)) = f.ts_range {
            if lo < wp.anchor {
                return Err(format!(
                    "late rows: {} is new or changed and holds readings from {}, before the window",
                    crate::fmt::term(&f.path),
                    crate::fmt::date_time(lo)
                ));
            }
        }
    }
    Ok(())
}

/// Facts about one series' readings.
struct Facts {
    step: i64,
    date_only: bool,
    summarised: bool,
    min_pos: Option<f64>,
    has_zero: bool,
}

fn facts(times: &[i64], bytes: &[f64]) -> Facts {
    let min_pos = bytes
        .iter()
        .copied()
        .filter(|b| *b > 0.0)
        .fold(f64::INFINITY, f64::min);
    Facts {
        step: Cadence::infer(times, false).step,
        date_only: times.iter().all(|t| t.rem_euclid(DAY) == 0),
        summarised: times
            .windows(2)
            .any(|w| w[0].div_euclid(DAY) == w[1].div_euclid(DAY)),
        min_pos: min_pos.is_finite().then_some(min_pos),
        has_zero: bytes.contains(&0.0),
    }
}

/// Hash of the readings at or after `from`.
fn recent_hash(times: &[i64], bytes: &[f64], objects: &[f64], from: i64) -> String {
    let a = times.partition_point(|&t| t < from);
    let mut h = Fnv::default();
    for i in a..times.len() {
        h.eat(&times[i].to_le_bytes());
        h.eat(&bytes[i].to_bits().to_le_bytes());
        h.eat(&objects[i].to_bits().to_le_bytes());
    }
    format!("{:016x}", h.finish())
}

/// The run's findings and checkpoint after a full scan.
pub fn after_full(
    inputs: &Inputs,
    files: &[PathBuf],
    ing: &Ingested,
    plans: &[PlannedRow],
    findings: &[Finding],
    now: i64,
) -> Checkpoint {
    let set = &ing.set;
    let key_names = &set.key_names;
    let keys: Vec<&[String]> = set.keys.iter().map(Vec::as_slice).collect();
    let mut series = Vec::with_capacity(set.len());
    let mut step = DAY;
    for i in 0..set.len() {
        let r = set.offsets[i]..set.offsets[i + 1];
        if r.is_empty() {
            continue;
        }
        let f = facts(&set.times[r.clone()], &set.bytes[r.clone()]);
        step = step.max(f.step);
        series.push((i, f));
    }
    let spans = Spans::of(&inputs.thresholds, key_names, &keys, step);
    // from the run's moment, or from the data's end when the data ends
    // earlier (a history scanned years later has nothing after its end)
    let until = set.times.iter().max().map_or(now, |&t| t.min(now));
    let anchor = until - spans.keep;
    let arrivals = crate::moves::arrivals(set, plans, &|_| Vec::new());
    let sigs = series
        .into_iter()
        .map(|(i, f)| whole_sig(set, i, &f, anchor, &arrivals))
        .collect();
    Checkpoint {
        fingerprint: fingerprint(inputs),
        now,
        anchor,
        data_until: set.times.iter().max().copied(),
        planned: plan_sigs(plans),
        files: file_sigs(inputs, files, ing, None),
        series: sigs,
        findings: carry(findings),
    }
}

/// The arrivals an earlier checkpoint kept, by series
/// ([`crate::moves::arrivals`]' `known`).
fn known_arrivals(prev: &Checkpoint) -> impl Fn(&[String]) -> Vec<Arrival> + '_ {
    let by: HashMap<&[String], &[Arrival]> = (prev.series.iter())
        .filter(|s| !s.arrivals.is_empty())
        .map(|s| (s.key.as_slice(), s.arrivals.as_slice()))
        .collect();
    move |k: &[String]| by.get(k).map(|a| a.to_vec()).unwrap_or_default()
}

/// What the checkpoint keeps of series `i` of `set`, read whole (never
/// empty), with `f` its facts.
fn whole_sig(
    set: &SeriesSet,
    i: usize,
    f: &Facts,
    anchor: i64,
    arrivals: &[Vec<Arrival>],
) -> SeriesSig {
    let r = set.offsets[i]..set.offsets[i + 1];
    let t = &set.times[r.clone()];
    SeriesSig {
        key: set.keys[i].clone(),
        first: t[0],
        last: t[t.len() - 1],
        total: t.len() as u64,
        before_anchor: t.partition_point(|&x| x < anchor) as u64,
        step: f.step,
        date_only: f.date_only,
        summarised: f.summarised,
        min_pos: f.min_pos,
        has_zero: f.has_zero,
        recent: recent_hash(t, &set.bytes[r.clone()], &set.objects[r], anchor),
        arrivals: arrivals.get(i).cloned().unwrap_or_default(),
    }
}

/// Whether the series a window could not judge (`c.redo`) may be judged
/// on their own ([`widen`], then [`rejudge`]): a series of a force with a
/// migration or a force total (judged with the force's other stores), or
/// more than a quarter of the estate make it a full scan instead (`Err`,
/// why).
fn redo_allowed(inputs: &Inputs, plans: &[PlannedRow], c: &Combined) -> Result<(), String> {
    let Some((_, why)) = c.redo.first() else {
        return Ok(());
    };
    let n = c.redo.len();
    let estate = c.checkpoint.series.len() + n;
    if inputs.totals {
        return Err(format!(
            "{why} (with --totals a store is judged with its force's total)"
        ));
    }
    if 4 * n > estate {
        return Err(format!(
            "{n} of {estate} series cannot be judged on the window; the first: {why}"
        ));
    }
    // Forces with a migration: a move is judged on its source and targets together.
    let mut moving: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for p in plans.iter().filter(|p| !p.moved_to.is_empty()) {
        let force = p.key.first().map_or("*", String::as_str);
        moving.insert(force);
        for t in &p.moved_to {
            moving.insert(t.split_once('/').map_or(force, |(f, _)| f));
        }
    }
    if let Some((k, why)) = c.redo.iter().find(|(k, _)| {
        moving.contains("*") || k.first().is_some_and(|f| moving.contains(f.as_str()))
    }) {
        return Err(format!(
            "{why} ({} is in a force with a migration, judged together)",
            crate::fmt::term(&k.join("/"))
        ));
    }
    Ok(())
}

/// [`widen`]'s window pass: reads a window plan and judges it.
type WindowPass<'a> = dyn Fn(
        &WindowPlan,
        &mut BTreeMap<String, f64>,
    ) -> anyhow::Result<(Ingested, Vec<PlannedRow>, Result<Combined, String>)>
    + 'a;

/// How much further back than the window [`widen`] reads.
pub const WIDER: i64 = 365 * DAY;

/// A Parquet file's chosen row groups (of `n`): all of them read as the
/// whole file.
fn some_groups(chosen: Vec<usize>, n: usize) -> FileRead {
    if chosen.len() == n {
        FileRead::All
    } else {
        FileRead::Groups(chosen)
    }
}

/// Judges the series a window could not (`c.redo`) on a window [`WIDER`]
/// than tonight's, as the window itself is judged (their findings before
/// their anchor carried, the rest judged tonight, the two checked against
/// each other on the stretch between): the inputs are read once more from
/// the earlier start keeping only those series (a Parquet file's row
/// groups before it are not decoded), and the wider data replaces the
/// window's in `ing`. A series the wider window cannot judge either stays
/// in `c.redo`, for [`rejudge`] on its whole history.
fn widen(
    inputs: &Inputs,
    files: &[PathBuf],
    wp: &WindowPlan,
    ing: &mut Ingested,
    c: &mut Combined,
    window_pass: &WindowPass,
) -> Result<(), String> {
    if crate::failpoint::hit("widen").is_err() {
        return Ok(()); // the crash tests' stand-in for a wider window that cannot judge
    }
    let t0 = std::time::Instant::now();
    let keys: std::collections::HashSet<Vec<String>> =
        c.redo.iter().map(|(k, _)| k.clone()).collect();
    let since = wp.read.since.saturating_sub(WIDER);
    let mut read = Vec::with_capacity(files.len());
    for (i, path) in files.iter().enumerate() {
        let before = wp.read.files.get(i).cloned().unwrap_or(FileRead::All);
        read.push(match before {
            FileRead::All => FileRead::All,
            FileRead::Skip => {
                let name = path.display().to_string();
                let known = wp.prev.files.iter().find(|f| f.path == name);
                if known.and_then(|f| f.max_ts).is_some_and(|m| m < since) {
                    FileRead::Skip
                } else {
                    FileRead::All
                }
            }
            FileRead::Groups(_) => {
                let gs = groups::parquet_groups(path, &inputs.config.columns.time)
                    .map_err(|e| e.to_string())?;
                let chosen: Vec<usize> = gs
                    .iter()
                    .enumerate()
                    .filter(|(_, g)| g.max_ts.is_none_or(|hi| hi >= since))
                    .map(|(i, _)| i)
                    .collect();
                some_groups(chosen, gs.len())
            }
        });
    }
    // The earlier checkpoint restricted to those series (copied alone, not
    // the whole estate's findings); tonight's newest reading of the whole
    // estate, so that the same next anchor follows.
    let prev = Checkpoint {
        fingerprint: wp.prev.fingerprint.clone(),
        now: wp.prev.now,
        anchor: wp.prev.anchor,
        data_until: c.checkpoint.data_until,
        planned: wp.prev.planned.clone(),
        files: wp.prev.files.clone(),
        series: (wp.prev.series.iter())
            .filter(|s| keys.contains(&s.key))
            .cloned()
            .collect(),
        findings: (wp.prev.findings.iter())
            .filter(|f| keys.contains(&f.key))
            .cloned()
            .collect(),
    };
    let wide = WindowPlan {
        read: Window {
            since,
            files: read,
            only: Some(keys),
        },
        anchor: wp.anchor,
        fresh: wp.fresh.clone(),
        plans_changed: wp.plans_changed,
        prev,
        spans: wp.spans,
    };
    // (its timings are not the night's: the manifest keeps the window's)
    let (sub, _, done) = window_pass(&wide, &mut BTreeMap::new())
        .map_err(|e| format!("re-reading the series the window could not judge: {e}"))?;
    // A wider window that cannot be judged either: on the whole history.
    let Ok(mut w) = done else {
        return Ok(());
    };
    if w.checkpoint.anchor != c.checkpoint.anchor {
        return Ok(());
    }
    let judged: std::collections::HashSet<Vec<String>> =
        w.checkpoint.series.iter().map(|s| s.key.clone()).collect();
    let n = judged.len();
    if n == 0 {
        return Ok(());
    }
    let first = c
        .redo
        .iter()
        .find(|(k, _)| judged.contains(k))
        .map(|(_, why)| why.clone())
        .unwrap_or_default();
    // The wider data replaces the window's (a series still left for
    // `rejudge` is replaced again by its whole history).
    let (merged, index) = ing.set.with_series_of(&sub.set);
    for f in &mut w.findings {
        if let Some(tr) = &mut f.trace {
            tr.series = index[tr.series];
        }
    }
    ing.set = merged;
    c.redo.retain(|(k, _)| !judged.contains(k));
    c.findings.extend(w.findings);
    crate::analysis::sort(&mut c.findings);
    c.checkpoint.findings = carry(&c.findings);
    c.checkpoint.series.extend(w.checkpoint.series);
    c.scope.carried += w.scope.carried;
    c.scope.widened = Some(format!(
        "{n} series judged on a window from {}, which tonight's window could not judge (the first: {first})",
        crate::clock::date_of(since)
    ));
    crate::log::debug(format!(
        "{n} series re-read from {} and judged in {:.3} s",
        crate::clock::date_of(since),
        t0.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// Judges the series a window could not (`c.redo`) on their whole history,
/// as a full scan judges them, and joins them to the window's findings and
/// checkpoint: the inputs are read once more keeping only those series,
/// and their whole history replaces the window's in `ing` (charts and the
/// report show what they were judged on). [`redo_allowed`] has said it may.
fn rejudge(
    inputs: &Inputs,
    files: &[PathBuf],
    plans: &[PlannedRow],
    ing: &mut Ingested,
    c: &mut Combined,
    as_of: Option<i64>,
    detected_at: &str,
) -> Result<(), String> {
    let Some((_, why)) = c.redo.first() else {
        return Ok(());
    };
    let n = c.redo.len();
    for (_, why) in &c.redo {
        crate::log::debug(format!("judged on its whole history: {why}"));
    }
    let only: std::collections::HashSet<Vec<String>> =
        c.redo.iter().map(|(k, _)| k.clone()).collect();
    let w = Window {
        since: i64::MIN,
        files: vec![FileRead::All; files.len()],
        only: Some(only),
    };
    let t0 = std::time::Instant::now();
    let sub = ingest::ingest_window(
        files,
        None,
        &inputs.config.columns,
        None,
        &inputs.sources,
        Some(&w),
    )
    .map_err(|e| format!("re-reading the series the window could not judge: {e}"))?;
    let set = match as_of {
        Some(t) => sub.set.truncated(t),
        None => sub.set,
    };
    let mut found = crate::analysis::analyze_with(&set, plans, &inputs.thresholds, detected_at);
    let arrivals = crate::moves::arrivals(&set, plans, &|_| Vec::new());
    let mut sigs = Vec::with_capacity(set.len());
    for i in 0..set.len() {
        let r = set.offsets[i]..set.offsets[i + 1];
        if r.is_empty() {
            continue;
        }
        let f = facts(&set.times[r.clone()], &set.bytes[r]);
        if f.step.max(DAY) > c.spans_step {
            return Err(format!(
                "{} reads less often than the window was planned for",
                crate::fmt::term(&set.keys[i].join("/"))
            ));
        }
        sigs.push(whole_sig(&set, i, &f, c.checkpoint.anchor, &arrivals));
    }
    let (merged, index) = ing.set.with_series_of(&set);
    for f in &mut found {
        if let Some(tr) = &mut f.trace {
            tr.series = index[tr.series];
        }
    }
    ing.set = merged;
    c.findings.extend(found);
    crate::analysis::sort(&mut c.findings);
    c.checkpoint.findings = carry(&c.findings);
    c.checkpoint.series.extend(sigs);
    c.scope.whole_history = Some(format!(
        "{n} series judged on their whole history, which the window could not judge (the first: {why})"
    ));
    crate::log::debug(format!(
        "{n} series re-read and judged on their whole history in {:.3} s",
        t0.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// The files as read tonight; a file not opened keeps its earlier record.
fn file_sigs(
    inputs: &Inputs,
    files: &[PathBuf],
    ing: &Ingested,
    prev: Option<&Checkpoint>,
) -> Vec<FileSig> {
    let old: HashMap<&str, &FileSig> = prev
        .map(|p| p.files.iter().map(|f| (f.path.as_str(), f)).collect())
        .unwrap_or_default();
    files
        .iter()
        .enumerate()
        .filter_map(|(i, path)| {
            let name = path.display().to_string();
            let info = ing.files.get(i)?;
            let (size, mtime_ns) = stat(path).ok()?;
            let ext = ingest::extension(path);
            if ext == "parquet" {
                let groups = groups::parquet_groups(path, &inputs.config.columns.time).ok()?;
                return Some(FileSig {
                    path: name,
                    size,
                    mtime_ns,
                    min_ts: None,
                    max_ts: None,
                    groups: Some(groups),
                });
            }
            let (min_ts, max_ts) = match (info.ts_range, old.get(name.as_str())) {
                (Some((a, b)), _) => (Some(a), Some(b)),
                (None, Some(o)) if info.read.is_some() => (o.min_ts, o.max_ts),
                _ => (None, None),
            };
            Some(FileSig {
                path: name,
                size,
                mtime_ns,
                min_ts,
                max_ts,
                groups: None,
            })
        })
        .collect()
}

fn carry(findings: &[Finding]) -> Vec<Carried> {
    findings
        .iter()
        .map(|f| {
            let mut row = FindingRow::from(f);
            row.detected_at.clear();
            row.status = Status::New;
            row.change.clear();
            row.chart.clear();
            Carried {
                key: f.key.clone(),
                row,
            }
        })
        .collect()
}

/// A finding as compared between tonight's window and the carried ones
/// (what does not depend on the night).
fn comparable(key: &[String], f: &FindingRow) -> (Vec<String>, String) {
    let mut r = f.clone();
    r.detected_at.clear();
    r.status = Status::New;
    r.change.clear();
    r.chart.clear();
    r.samples_after = 0;
    (key.to_vec(), serde_json::to_string(&r).unwrap_or_default())
}

/// What an incremental run did, for the summary and the manifest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scope {
    /// `incremental` or `full`.
    pub mode: &'static str,
    /// The time range read (`2030-06-01 … 2030-12-29`), incremental only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    /// From when findings were judged tonight, incremental only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judged_from: Option<String>,
    /// Findings carried over from the state.
    pub carried: usize,
    /// Why the run was a full scan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Incremental only: series the window could not judge, judged on a
    /// window a year wider instead (how many, from when, why for the first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub widened: Option<String>,
    /// Incremental only: series neither window could judge, judged on
    /// their whole history instead (how many, and why for the first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub whole_history: Option<String>,
}

impl Scope {
    /// A full scan and why.
    pub fn full(reason: &str) -> Scope {
        Scope {
            mode: "full",
            window: None,
            judged_from: None,
            carried: 0,
            reason: Some(reason.to_string()),
            widened: None,
            whole_history: None,
        }
    }

    /// One line for `summary.txt` and the log (and one more for each
    /// group of series judged on a wider window or their whole history).
    pub fn line(&self) -> String {
        match (&self.window, &self.reason) {
            (Some(w), _) => format!(
                "Incremental run: window {w}; {} earlier finding(s) carried over from the state.{}",
                self.carried,
                [&self.widened, &self.whole_history]
                    .into_iter()
                    .flatten()
                    .map(|h| format!("\n{h}."))
                    .collect::<String>()
            ),
            (None, Some(r)) => format!("Full scan: {r}."),
            (None, None) => "Full scan.".to_string(),
        }
    }
}

/// Tonight's findings of an incremental run: tonight's window judgement
/// joined with the carried findings, and tonight's checkpoint; or why a full
/// scan is needed instead.
#[allow(clippy::too_many_arguments)]
pub fn combine(
    inputs: &Inputs,
    files: &[PathBuf],
    wp: &WindowPlan,
    ing: &Ingested,
    plans: &[PlannedRow],
    tonight: Vec<Finding>,
    anchored: &[(usize, f64)],
    now: i64,
    detected_at: &str,
) -> Result<Combined, String> {
    let t_anchor = anchor_time(wp);
    let prev = &wp.prev;
    let set: &SeriesSet = &ing.set;
    let c = wp.anchor;
    let from = wp.read.since;
    let key_names = &set.key_names;
    let th: &Thresholds = &inputs.thresholds;
    let by_key: HashMap<&[String], usize> = set
        .keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_slice(), i))
        .collect();
    // What moves brought into each series, as tonight's engine set it aside.
    let arrivals = crate::moves::arrivals(set, plans, &known_arrivals(prev));
    let mut carried_by: BTreeMap<&[String], Vec<&Carried>> = BTreeMap::new();
    for f in &prev.findings {
        carried_by.entry(f.key.as_slice()).or_default().push(f);
    }
    let mut tonight_by: HashMap<Vec<String>, Vec<Finding>> = HashMap::new();
    for f in tonight {
        tonight_by.entry(f.key.clone()).or_default().push(f);
    }
    let mut out: Vec<Finding> = Vec::new();
    let mut redo: Vec<(Vec<String>, String)> = Vec::new();
    let mut carried_n = 0usize;
    let mut new_sigs: Vec<SeriesSig> = Vec::new();
    let new_spans_step = prev.series.iter().map(|s| s.step).max().unwrap_or(DAY);
    // Tonight's anchor for the next run.
    let keys_all: Vec<&[String]> = prev
        .series
        .iter()
        .map(|s| s.key.as_slice())
        .chain(set.keys.iter().map(Vec::as_slice))
        .collect();
    let spans = Spans::of(th, key_names, &keys_all, new_spans_step);
    let until = set
        .times
        .iter()
        .max()
        .copied()
        .into_iter()
        .chain(prev.data_until)
        .max()
        .map_or(now, |t| t.min(now));
    let next_anchor = until - spans.keep;
    let t = crate::fmt::date_time;
    let revive = |cf: &Carried, samples_after: usize| -> Result<Finding, String> {
        let mut f = cf
            .row
            .clone()
            .into_finding(cf.key.clone())
            .map_err(|e| format!("a carried finding cannot be read back ({e})"))?;
        f.detected_at = detected_at.to_string();
        f.samples_after = samples_after;
        Ok(f)
    };
    // Moves still open (or recently closed) are judged tonight whatever their start.
    let open_moves: Vec<&PlannedRow> = plans
        .iter()
        .filter(|p| !p.moved_to.is_empty() && p.window.end + 8 * DAY >= c)
        .collect();
    let in_open_move = |key: &[String], start: i64| {
        open_moves.iter().any(|p| {
            p.window.start <= start
                && start <= p.window.end
                && p.key.iter().zip(key).all(|(a, b)| a == "*" || a == b)
        })
    };
    let mut seen: std::collections::HashSet<&[String]> = std::collections::HashSet::new();
    for sig in &prev.series {
        seen.insert(sig.key.as_slice());
        let carried = carried_by
            .get(sig.key.as_slice())
            .cloned()
            .unwrap_or_default();
        let Some(&si) = by_key.get(sig.key.as_slice()) else {
            if sig.last >= from {
                // It had readings in the window, and tonight none: rows
                // were removed from a rewritten file.
                return Err(format!(
                    "{} had readings in the window and now has none",
                    crate::fmt::term(&sig.key.join("/"))
                ));
            }
            // Nothing read of it tonight: its history is what the last
            // run saw, so are its findings.
            for cf in &carried {
                out.push(revive(cf, cf.row.samples_after)?);
                carried_n += 1;
            }
            let mut s = sig.clone();
            s.before_anchor = sig.total; // every reading is older than the window
            s.recent = recent_hash(&[], &[], &[], next_anchor);
            new_sigs.push(s);
            continue;
        };
        let r = set.offsets[si]..set.offsets[si + 1];
        let times = &set.times[r.clone()];
        let bytes = &set.bytes[r.clone()];
        let objects = &set.objects[r.clone()];
        let since_c = times.partition_point(|&x| x < c);
        let total = sig.before_anchor + (times.len() - since_c) as u64;
        let last = times.last().copied().unwrap_or(sig.last).max(sig.last);
        let mine = tonight_by.remove(&sig.key).unwrap_or_default();
        let moving = open_moves
            .iter()
            .any(|p| p.key.iter().zip(&sig.key).all(|(a, b)| a == "*" || a == b));
        let unchanged = !wp.plans_changed
            && !moving
            && recent_hash(
                &times[..times.partition_point(|&x| x <= prev.now)],
                bytes,
                objects,
                c,
            ) == sig.recent
            && times.last().is_none_or(|&x| x <= prev.now)
            && total == sig.total;
        let f = facts(times, bytes);
        let whole = sig.first >= from;
        if unchanged {
            for cf in &carried {
                out.push(revive(cf, cf.row.samples_after)?);
                carried_n += 1;
            }
        } else if whole {
            out.extend(mine);
        } else {
            // The series' history before the window shapes the engine
            // through a few whole-series facts: they must agree.
            let label = crate::fmt::term(&sig.key.join("/")).into_owned();
            // The engine saw the zero anchor before the window, if any.
            let step = if anchored.iter().any(|a| a.0 == si) {
                let mut with: Vec<i64> = vec![t_anchor];
                with.extend_from_slice(times);
                Cadence::infer(&with, false).step
            } else {
                f.step
            };
            if step != sig.step {
                redo.push((
                    sig.key.clone(),
                    format!(
                    "the interval of {label} in the window ({} s) differs from its history ({} s)",
                    step, sig.step
                ),
                ));
                continue;
            }
            if f.date_only != sig.date_only || f.summarised != sig.summarised {
                redo.push((
                    sig.key.clone(),
                    format!("the cadence of {label} in the window differs from its history"),
                ));
                continue;
            }
            let hist_min = sig.min_pos.unwrap_or(f64::INFINITY);
            let win_min = f.min_pos.unwrap_or(f64::INFINITY);
            let anchored_ok = anchored.iter().any(|a| a.0 == si);
            if (f.has_zero && win_min > hist_min && !anchored_ok)
                || (sig.has_zero && win_min < hist_min)
            {
                redo.push((sig.key.clone(), format!(
                    "a zero reading of {label} is judged against its smallest reading, which lies outside the window"
                )));
                continue;
            }
            // The last run's final decisions: candidates more than the
            // engine's lookahead before its last reading.
            let p = th.for_series(key_names, &sig.key);
            let (lookahead, _) = lookahead(&p, sig.step, f.summarised);
            let upto = times.partition_point(|&x| x <= prev.now);
            let engine_times: Vec<i64> = if f.summarised {
                let mut d: Vec<i64> = times[..upto].iter().map(|x| x.div_euclid(DAY)).collect();
                d.dedup();
                d.into_iter().map(|x| x * DAY).collect()
            } else {
                times[..upto].to_vec()
            };
            let final_before = if engine_times.len() > lookahead {
                engine_times[engine_times.len() - lookahead]
            } else {
                i64::MIN
            };
            // Its own anchor: the shared one, or earlier for a series whose
            // last decisions are older (back after a gap), when the window
            // holds the warm-up before it (`plan` widens it for such series).
            let sp = spans_of(&p, sig.step);
            let c = if final_before < c + sp.baseline + sp.reach {
                final_before.saturating_sub(sp.baseline + sp.reach)
            } else {
                c
            };
            if final_before == i64::MIN || c.saturating_sub(sp.warm) < from {
                redo.push((
                    sig.key.clone(),
                    format!(
                    "{label} has too few readings after {} to check the window against its history",
                    t(c)
                ),
                ));
                continue;
            }
            // Tonight's engine must agree with the carried findings between
            // the anchor and the last run's final decisions.
            let zone = |start: i64| start >= c && start < final_before;
            let mut a: Vec<(Vec<String>, String)> = carried
                .iter()
                .filter(|cf| {
                    let s = crate::ingest::timestamp::parse(&cf.row.start).unwrap_or(i64::MIN);
                    zone(s) && !in_open_move(&cf.key, s)
                })
                .map(|cf| comparable(&cf.key, &cf.row))
                .collect();
            let mut b: Vec<(Vec<String>, String)> = mine
                .iter()
                .filter(|g| zone(g.start_ts) && !in_open_move(&g.key, g.start_ts))
                .map(|g| comparable(&g.key, &FindingRow::from(g)))
                .collect();
            a.sort();
            b.sort();
            if a != b {
                redo.push((sig.key.clone(), format!(
                    "tonight's window judges {label} differently from its history between {} and {} ({} finding(s) against {})",
                    t(c),
                    t(final_before),
                    b.len(),
                    a.len()
                )));
                continue;
            }
            for cf in &carried {
                let s = crate::ingest::timestamp::parse(&cf.row.start).unwrap_or(i64::MIN);
                if s >= c || in_open_move(&cf.key, s) {
                    continue;
                }
                let end = crate::ingest::timestamp::parse(&cf.row.end).unwrap_or(i64::MIN);
                let after = if end >= from {
                    times.len() - times.partition_point(|&x| x <= end)
                } else {
                    (cf.row.samples_after as u64 + total - sig.total) as usize
                };
                out.push(revive(cf, after)?);
                carried_n += 1;
            }
            out.extend(
                mine.into_iter()
                    .filter(|g| g.start_ts >= c || in_open_move(&g.key, g.start_ts)),
            );
        }
        new_sigs.push(SeriesSig {
            key: sig.key.clone(),
            first: sig.first.min(times.first().copied().unwrap_or(sig.first)),
            last,
            total,
            before_anchor: sig.before_anchor
                + (times
                    .partition_point(|&x| x < next_anchor)
                    .saturating_sub(since_c)) as u64,
            step: sig.step,
            date_only: sig.date_only && f.date_only,
            summarised: sig.summarised || f.summarised,
            min_pos: match (sig.min_pos, f.min_pos) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
            has_zero: sig.has_zero || f.has_zero,
            recent: recent_hash(times, bytes, objects, next_anchor),
            arrivals: arrivals[si].clone(),
        });
    }
    // Series seen for the first time: their whole history is tonight's.
    for (i, k) in set.keys.iter().enumerate() {
        if seen.contains(k.as_slice()) {
            continue;
        }
        let r = set.offsets[i]..set.offsets[i + 1];
        let times = &set.times[r.clone()];
        if times.is_empty() {
            continue;
        }
        if times[0] < c {
            redo.push((
                k.clone(),
                format!(
                    "{} is new and has readings from {}, before the window",
                    crate::fmt::term(&k.join("/")),
                    t(times[0])
                ),
            ));
            continue;
        }
        out.extend(tonight_by.remove(k).unwrap_or_default());
        let f = facts(times, &set.bytes[r]);
        new_sigs.push(whole_sig(set, i, &f, next_anchor, &arrivals));
    }
    crate::analysis::sort(&mut out);
    let data_until = match (set.times.iter().max().copied(), prev.data_until) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let checkpoint = Checkpoint {
        fingerprint: fingerprint(inputs),
        now,
        anchor: next_anchor,
        data_until,
        planned: plan_sigs(plans),
        files: file_sigs(inputs, files, ing, Some(prev)),
        series: new_sigs,
        findings: carry(&out),
    };
    let d = crate::clock::date_of;
    let scope = Scope {
        mode: "incremental",
        window: Some(format!("{} … {}", d(from), d(now))),
        judged_from: Some(d(c)),
        carried: carried_n,
        reason: None,
        widened: None,
        whole_history: None,
    };
    Ok(Combined {
        findings: out,
        checkpoint,
        scope,
        redo,
        spans_step: new_spans_step.max(DAY),
    })
}

/// What [`combine`] makes of a window.
pub struct Combined {
    /// Findings of every series judged on the window or carried, sorted.
    pub findings: Vec<Finding>,
    /// Tonight's checkpoint (without the `redo` series).
    pub checkpoint: Checkpoint,
    /// Incremental, and what was carried.
    pub scope: Scope,
    /// Series the window could not judge, and why: each is judged on its
    /// whole history ([`rejudge`]).
    pub redo: Vec<(Vec<String>, String)>,
    /// The interval the checkpoint's spans were computed for.
    pub spans_step: i64,
}

/// How many of a series' engine readings (one a day when `summarised`,
/// else one per `step`) its newest decisions wait for: 4 × max_drop, the
/// recovery, and a margin of 3; and the engine's interval.
fn lookahead(p: &crate::detect::DetectParams, step: i64, summarised: bool) -> (usize, i64) {
    let engine_step = if summarised { DAY } else { step.max(1) };
    let k_max = (p.max_drop / engine_step).max(1);
    (
        (4 * k_max + p.recovery / engine_step + 3) as usize,
        engine_step,
    )
}

fn spans_of(p: &crate::detect::DetectParams, step: i64) -> Spans {
    Spans::for_params(p, step.max(DAY))
}

/// A scan's analysis: what was read, the findings, and what the state
/// keeps for the next run.
pub struct Analysed {
    /// The observations read (tonight's window on an incremental run).
    pub ing: Ingested,
    /// The planned windows.
    pub plans: Vec<PlannedRow>,
    /// Every finding, sorted as `analysis::analyze_with` sorts them.
    pub findings: Vec<Finding>,
    /// For the state (`None` for a shard, which never writes it).
    pub checkpoint: Option<Checkpoint>,
    /// Incremental or full, and why (`None` for a shard).
    pub scope: Option<Scope>,
    /// Seconds per phase (`ingest`, `detect`).
    pub timings: BTreeMap<String, f64>,
}

/// Reads and judges a scan's inputs: a window when `prev` allows it and
/// `full` (the reason, e.g. `--full`) does not force a full scan; a full
/// scan otherwise, or when the window turns out not to be enough (then
/// saying why). `as_of`: later observations are ignored.
#[allow(clippy::too_many_arguments)]
pub fn analyse(
    inputs: &Inputs,
    shard: Option<ingest::Shard>,
    prev: Option<&Checkpoint>,
    now: i64,
    as_of: bool,
    full: Option<&str>,
    detected_at: &str,
) -> anyhow::Result<Analysed> {
    use std::time::Instant;
    let files = inputs.files()?;
    let mut timings = BTreeMap::new();
    let judge = |set: &SeriesSet,
                 plans: &[PlannedRow],
                 prev: Option<&Checkpoint>,
                 timings: &mut BTreeMap<String, f64>| {
        let t = Instant::now();
        let f = match prev {
            Some(p) => crate::analysis::analyze_known(
                set,
                plans,
                &inputs.thresholds,
                detected_at,
                &known_arrivals(p),
            ),
            None => crate::analysis::analyze_with(set, plans, &inputs.thresholds, detected_at),
        };
        timings.insert("detect".to_string(), t.elapsed().as_secs_f64());
        crate::log::debug(format!(
            "detection over {} series in {:.3} s",
            set.len(),
            t.elapsed().as_secs_f64()
        ));
        f
    };
    let load = |window: Option<&Window>, timings: &mut BTreeMap<String, f64>| {
        let t = Instant::now();
        let (mut ing, plans) = crate::pipeline::load_files(inputs, shard, &files, window)?;
        if as_of {
            ing.set = ing.set.truncated(now);
        }
        timings.insert("ingest".to_string(), t.elapsed().as_secs_f64());
        crate::log::debug(format!(
            "read {} rows from {} file(s) in {:.3} s",
            ing.counts.rows_read,
            ing.files.len(),
            t.elapsed().as_secs_f64()
        ));
        anyhow::Ok((ing, plans))
    };
    // Reads a window and judges it: tonight's findings joined with the
    // carried ones (or why the window cannot be judged).
    let window_pass =
        |wp: &WindowPlan,
         timings: &mut BTreeMap<String, f64>|
         -> anyhow::Result<(Ingested, Vec<PlannedRow>, Result<Combined, String>)> {
            let (ing, plans) = load(Some(&wp.read), timings)?;
            let done = check_read(wp, &ing).and_then(|()| {
                let anchored = zero_anchors(wp, &ing.set);
                let tonight = if anchored.is_empty() {
                    judge(&ing.set, &plans, Some(&wp.prev), timings)
                } else {
                    let set = with_anchors(&ing.set, &anchored, anchor_time(wp));
                    let mut f = judge(&set, &plans, Some(&wp.prev), timings);
                    for x in &mut f {
                        if let Some(tr) = &mut x.trace {
                            if anchored.iter().any(|a| a.0 == tr.series) {
                                tr.start_idx -= 1;
                                tr.end_idx -= 1;
                            }
                        }
                    }
                    f
                };
                let t = Instant::now();
                let c = combine(
                    inputs,
                    &files,
                    wp,
                    &ing,
                    &plans,
                    tonight,
                    &anchored,
                    now,
                    detected_at,
                );
                crate::log::debug(format!(
                    "joined with the carried findings in {:.3} s",
                    t.elapsed().as_secs_f64()
                ));
                c
            });
            Ok((ing, plans, done))
        };
    let reason = if shard.is_some() {
        None
    } else if let Some(why) = full {
        Some(why.to_string())
    } else {
        let plans = match &inputs.planned {
            Some(p) => crate::planned::read(p, &inputs.config.columns.keys)?,
            None => Vec::new(),
        };
        let t = Instant::now();
        let planned = plan(inputs, &files, &plans, prev, now);
        crate::log::debug(format!(
            "window planned in {:.3} s",
            t.elapsed().as_secs_f64()
        ));
        match planned {
            Plan::Full(why) => Some(why),
            Plan::Window(wp) => {
                let (mut ing, plans, done) = window_pass(&wp, &mut timings)?;
                let done = done.and_then(|mut c| {
                    let as_of = as_of.then_some(now);
                    redo_allowed(inputs, &plans, &c)?;
                    if !c.redo.is_empty() {
                        widen(inputs, &files, &wp, &mut ing, &mut c, &window_pass)?;
                    }
                    rejudge(inputs, &files, &plans, &mut ing, &mut c, as_of, detected_at)?;
                    Ok((c.findings, c.checkpoint, c.scope))
                });
                match done {
                    Ok((findings, checkpoint, scope)) => {
                        ing.counts.series = checkpoint.series.len() as u64;
                        crate::log::debug(scope.line());
                        return Ok(Analysed {
                            ing,
                            plans,
                            findings,
                            checkpoint: Some(checkpoint),
                            scope: Some(scope),
                            timings,
                        });
                    }
                    Err(why) => Some(why),
                }
            }
        }
    };
    if let Some(why) = &reason {
        crate::log::debug(format!("full scan: {why}"));
    }
    let (ing, plans) = load(None, &mut timings)?;
    let findings = judge(&ing.set, &plans, None, &mut timings);
    let (checkpoint, scope) = match (&reason, shard) {
        (Some(why), None) => (
            Some(after_full(inputs, &files, &ing, &plans, &findings, now)),
            Some(Scope::full(why)),
        ),
        _ => (None, None),
    };
    Ok(Analysed {
        ing,
        plans,
        findings,
        checkpoint,
        scope,
        timings,
    })
}

/// When the zero anchors sit: long before the window, at midnight.
fn anchor_time(wp: &WindowPlan) -> i64 {
    let back = (3 * wp.spans.warm).max(800 * DAY);
    (wp.read.since - back).div_euclid(DAY) * DAY
}

/// Series whose window holds a zero reading while their smallest positive
/// reading lies before it: the engine sets a zero reading below the
/// series' smallest positive one, so it is shown that value, as one
/// reading long before the window (a change across so long a gap is
/// never a candidate nor part of a baseline).
fn zero_anchors(wp: &WindowPlan, set: &SeriesSet) -> Vec<(usize, f64)> {
    let sigs: HashMap<&[String], &SeriesSig> = wp
        .prev
        .series
        .iter()
        .map(|s| (s.key.as_slice(), s))
        .collect();
    let mut out = Vec::new();
    for (i, k) in set.keys.iter().enumerate() {
        let Some(sig) = sigs.get(k.as_slice()) else {
            continue;
        };
        if sig.first >= wp.read.since {
            continue; // its whole history is in the window
        }
        let b = &set.bytes[set.offsets[i]..set.offsets[i + 1]];
        let f_min = b
            .iter()
            .copied()
            .filter(|x| *x > 0.0)
            .fold(f64::INFINITY, f64::min);
        if let Some(h) = sig.min_pos {
            if b.contains(&0.0) && h < f_min {
                out.push((i, h));
            }
        }
    }
    out
}

/// `set` with one reading of `anchors[k].1` bytes at `t` before series
/// `anchors[k].0` (objects unknown).
fn with_anchors(set: &SeriesSet, anchors: &[(usize, f64)], t: i64) -> SeriesSet {
    let extra: HashMap<usize, f64> = anchors.iter().copied().collect();
    let mut out = SeriesSet {
        key_names: set.key_names.clone(),
        keys: set.keys.clone(),
        has_objects: set.has_objects,
        ..Default::default()
    };
    let n = set.times.len() + anchors.len();
    out.times.reserve(n);
    out.bytes.reserve(n);
    out.objects.reserve(n);
    out.offsets.push(0);
    for i in 0..set.len() {
        if let Some(&b) = extra.get(&i) {
            out.times.push(t);
            out.bytes.push(b);
            out.objects.push(f64::NAN);
        }
        let r = set.offsets[i]..set.offsets[i + 1];
        out.times.extend_from_slice(&set.times[r.clone()]);
        out.bytes.extend_from_slice(&set.bytes[r.clone()]);
        out.objects.extend_from_slice(&set.objects[r]);
        out.offsets.push(out.times.len());
    }
    out
}
