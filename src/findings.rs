//! Findings: the output schema of `scan` (SPEC "Output of scan"), built from
//! the engine's detections. Every field is documented because the struct *is*
//! the `findings.csv` / `findings.json` schema.

use crate::arrival::{self, Arrival};
use crate::config::Thresholds;
use crate::detect::{self, Detection, Kind};
use crate::ingest::{timestamp, SeriesSet};
use crate::planned::{self, PlannedRow};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// How urgent a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A loss of ≥ 10 %, ≥ 10,000 objects or ≥ 1 TB.
    Critical,
    /// Any other loss.
    High,
    /// A transient drop of half the data or more (e.g. a zero reading).
    Medium,
    /// A smaller transient drop.
    Low,
    /// A planned reduction, for the record.
    Info,
}

impl Severity {
    /// Name as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    fn of(d: &Detection) -> Severity {
        match d.kind {
            Kind::Loss
                if d.drop_pct >= 10.0
                    || d.objects_lost.unwrap_or(0.0) >= 10_000.0
                    || d.drop_bytes >= 1e12 =>
            {
                Severity::Critical
            }
            Kind::Loss => Severity::High,
            Kind::Transient if d.drop_pct >= 50.0 => Severity::Medium,
            Kind::Transient => Severity::Low,
            Kind::Planned | Kind::Moved => Severity::Info,
        }
    }
}

/// A finding against what earlier runs reported (the state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not reported before (also every finding when no state is kept).
    New,
    /// Reported by an earlier run, unchanged.
    Known,
    /// Reported before, and its kind changed or the loss deepened.
    Updated,
}

impl Status {
    /// Name as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Known => "known",
            Status::Updated => "updated",
        }
    }
}

/// Where a finding sits in the series this run's engine read: for charts
/// and scoring. A finding read back from a report folder (`merge`) has
/// none, rather than made-up zeros.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// Index of the series in the ingested set.
    pub series: usize,
    /// Index of the first reduced sample in the series.
    pub start_idx: usize,
    /// Index of the last sample of the drop.
    pub end_idx: usize,
    /// Expected log-change per interval, from the baseline (charts).
    pub expected_step_log: f64,
    /// Robust σ of one interval's log-change (charts).
    pub step_sigma_log: f64,
}

/// One finding: a sudden, substantial reduction in one series, as the
/// program uses it. Its file form is [`FindingRow`].
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Values of the key columns.
    pub key: Vec<String>,
    /// `start` in seconds since the epoch.
    pub start_ts: i64,
    /// `end` in seconds since the epoch.
    pub end_ts: i64,
    /// `before_at` in seconds since the epoch.
    pub before_ts: i64,
    /// `recovered_at` in seconds since the epoch (transients).
    pub recovered_ts: Option<i64>,
    /// Where it sits in this run's series, when this run found it.
    pub trace: Option<Trace>,
    /// `loss`, `transient` or `planned`.
    pub kind: Kind,
    /// Timestamp of the first reduced observation, as written.
    pub start: String,
    /// Timestamp of the last sample of the drop, as written.
    pub end: String,
    /// When this run saw it (RFC 3339, UTC).
    pub detected_at: String,
    /// Bytes at the last sample before the drop.
    pub before_bytes: u64,
    /// Bytes at the last sample of the drop.
    pub after_bytes: u64,
    /// `before_bytes − after_bytes`.
    pub drop_bytes: i64,
    /// Observed reduction in percent of `before_bytes`.
    pub drop_pct: f64,
    /// Objects lost (net of normal growth), when the input has an object count.
    pub objects_lost: Option<u64>,
    /// One-sided p-value of the drop against the series' normal change.
    pub p_value: f64,
    /// How urgent it is.
    pub severity: Severity,
    /// The planned window the drop fell in (its reason), if any.
    pub planned_reason: String,
    /// Chart file, relative to the report folder (empty without charts).
    pub chart: String,
    /// Against the state.
    pub status: Status,
    /// For `updated`: what changed.
    pub change: String,
    /// Reduction beyond the series' normal change, in percent.
    pub excess_pct: f64,
    /// Shortfall in robust standard deviations.
    pub z_score: f64,
    /// For a drop inside a planned window: true when it exceeded the plan.
    pub exceeded_plan: bool,
    /// Timestamp at which the level came back (transients), as written.
    pub recovered_at: String,
    /// Observations after the drop at the time of the run.
    pub samples_after: usize,
    /// Timestamp of the last observation before the drop, as written.
    pub before_at: String,
    /// Inferred sampling interval of the series, in seconds.
    pub interval_secs: i64,
    /// For a migration (`moved_to` in the planned window): where the data went.
    pub moved_to: String,
    /// Bytes that arrived in the targets beyond their normal growth.
    pub arrived_bytes: Option<i64>,
    /// Objects that arrived, when every store counts them.
    pub arrived_objects: Option<i64>,
    /// Bytes that left the source and never arrived.
    pub shortfall_bytes: Option<i64>,
    /// Objects that left and never arrived.
    pub shortfall_objects: Option<i64>,
    /// Bytes a migration brought into this store, set aside to find this
    /// reduction in the store's own data (`drop_pct` is of its own data);
    /// `None` for a reduction of the store's total.
    pub set_aside_bytes: Option<i64>,
    /// What the object inventories say (a new or updated loss on a series
    /// with `[[inventory]]`), else `None`.
    pub inventory: Option<crate::inventory::diff::Facts>,
}

/// A finding as `findings.csv` and `findings.json` hold it (SPEC "Output
/// of scan"), after the key columns. Every field is documented because this
/// struct *is* that schema. [`FindingRow::from`] and
/// [`FindingRow::into_finding`] are the one conversion each way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingRow {
    /// `loss`, `transient` or `planned`.
    pub kind: Kind,
    /// Timestamp of the first reduced observation.
    pub start: String,
    /// Timestamp of the last sample of the drop.
    pub end: String,
    /// When this run saw it (RFC 3339, UTC).
    pub detected_at: String,
    /// Bytes at the last sample before the drop.
    pub before_bytes: u64,
    /// Bytes at the last sample of the drop.
    pub after_bytes: u64,
    /// `before_bytes − after_bytes`.
    pub drop_bytes: i64,
    /// Observed reduction in percent of `before_bytes`.
    pub drop_pct: f64,
    /// Objects lost (net of normal growth), when the input has an object count.
    pub objects_lost: Option<u64>,
    /// One-sided p-value of the drop against the series' normal change.
    pub p_value: f64,
    /// `critical`, `high`, `medium`, `low` or `info`.
    pub severity: Severity,
    /// The planned window the drop fell in (its reason), if any.
    pub planned_reason: String,
    /// Chart file, relative to the report folder (empty without charts).
    pub chart: String,
    /// `new`, `known` (reported by an earlier run) or `updated` (its kind
    /// changed, or the loss deepened, since it was reported); `new` when no
    /// state is kept.
    pub status: Status,
    /// For `updated`: what changed.
    pub change: String,
    /// Reduction beyond the series' normal change, in percent.
    pub excess_pct: f64,
    /// Shortfall in robust standard deviations.
    pub z_score: f64,
    /// For a drop inside a planned window: true when it exceeded the plan.
    pub exceeded_plan: bool,
    /// Timestamp at which the level came back (transients).
    pub recovered_at: String,
    /// Observations after the drop at the time of the run (a loss seen on its
    /// last sample has had no chance to recover yet).
    pub samples_after: usize,
    /// Timestamp of the last observation before the drop.
    pub before_at: String,
    /// Inferred sampling interval of the series, in seconds.
    pub interval_secs: i64,
    /// For a migration: the series the data was moved to (`FORCE/SYSTEM`,
    /// several separated by `; `); empty otherwise.
    pub moved_to: String,
    /// For a migration: bytes that arrived in the targets beyond their normal growth.
    pub arrived_bytes: Option<i64>,
    /// For a migration: objects that arrived, when every store counts them.
    pub arrived_objects: Option<i64>,
    /// For a migration: bytes that left the source and never arrived.
    pub shortfall_bytes: Option<i64>,
    /// For a migration: objects that left and never arrived.
    pub shortfall_objects: Option<i64>,
    /// Objects listed in the inventory before the loss and gone from the
    /// one after it (`[[inventory]]`; empty when not diffed).
    #[serde(default)]
    pub inventory_lost_objects: Option<u64>,
    /// Their bytes.
    #[serde(default)]
    pub inventory_lost_bytes: Option<u64>,
    /// Objects whose size fell between the two inventories.
    #[serde(default)]
    pub inventory_shrunk_objects: Option<u64>,
    /// The largest folders with missing objects: `folder (files, bytes); …`.
    #[serde(default)]
    pub inventory_top_folders: String,
    /// The full list of missing objects, relative to the report folder.
    #[serde(default)]
    pub inventory_list: String,
    /// Which inventories were compared, or why none could be.
    #[serde(default)]
    pub inventory_note: String,
    /// Bytes a migration brought into this store that were set aside to
    /// find this reduction in the store's own data: `drop_pct` is then of
    /// its own data (README "Migrations"); empty for a reduction of the
    /// store's total.
    #[serde(default)]
    pub set_aside_bytes: Option<i64>,
}

impl From<&Finding> for FindingRow {
    fn from(f: &Finding) -> FindingRow {
        FindingRow {
            kind: f.kind,
            start: f.start.clone(),
            end: f.end.clone(),
            detected_at: f.detected_at.clone(),
            before_bytes: f.before_bytes,
            after_bytes: f.after_bytes,
            drop_bytes: f.drop_bytes,
            drop_pct: f.drop_pct,
            objects_lost: f.objects_lost,
            p_value: f.p_value,
            severity: f.severity,
            planned_reason: f.planned_reason.clone(),
            chart: f.chart.clone(),
            status: f.status,
            change: f.change.clone(),
            excess_pct: f.excess_pct,
            z_score: f.z_score,
            exceeded_plan: f.exceeded_plan,
            recovered_at: f.recovered_at.clone(),
            samples_after: f.samples_after,
            before_at: f.before_at.clone(),
            interval_secs: f.interval_secs,
            moved_to: f.moved_to.clone(),
            arrived_bytes: f.arrived_bytes,
            arrived_objects: f.arrived_objects,
            shortfall_bytes: f.shortfall_bytes,
            shortfall_objects: f.shortfall_objects,
            inventory_lost_objects: f.inventory.as_ref().and_then(|i| i.lost_objects),
            inventory_lost_bytes: f.inventory.as_ref().and_then(|i| i.lost_bytes),
            inventory_shrunk_objects: f.inventory.as_ref().and_then(|i| i.shrunk_objects),
            inventory_top_folders: f
                .inventory
                .as_ref()
                .map(|i| i.top_folders())
                .unwrap_or_default(),
            inventory_list: f
                .inventory
                .as_ref()
                .map(|i| i.list.clone())
                .unwrap_or_default(),
            inventory_note: f
                .inventory
                .as_ref()
                .map(|i| i.note.clone())
                .unwrap_or_default(),
            set_aside_bytes: f.set_aside_bytes,
        }
    }
}

impl FindingRow {
    /// The finding this row was written from, with its key values: times
    /// are read back from their text; it has no [`Trace`] (the series it
    /// came from is not at hand).
    pub fn into_finding(self, key: Vec<String>) -> Result<Finding, String> {
        let ts = |s: &str| timestamp::parse(s).map_err(|e| format!("time `{s}`: {e}"));
        let recovered_ts = if self.recovered_at.is_empty() {
            None
        } else {
            Some(ts(&self.recovered_at)?)
        };
        Ok(Finding {
            key,
            start_ts: ts(&self.start)?,
            end_ts: ts(&self.end)?,
            before_ts: ts(&self.before_at)?,
            recovered_ts,
            trace: None,
            kind: self.kind,
            start: self.start,
            end: self.end,
            detected_at: self.detected_at,
            before_bytes: self.before_bytes,
            after_bytes: self.after_bytes,
            drop_bytes: self.drop_bytes,
            drop_pct: self.drop_pct,
            objects_lost: self.objects_lost,
            p_value: self.p_value,
            severity: self.severity,
            planned_reason: self.planned_reason,
            chart: self.chart,
            status: self.status,
            change: self.change,
            excess_pct: self.excess_pct,
            z_score: self.z_score,
            exceeded_plan: self.exceeded_plan,
            recovered_at: self.recovered_at,
            samples_after: self.samples_after,
            before_at: self.before_at,
            interval_secs: self.interval_secs,
            moved_to: self.moved_to,
            arrived_bytes: self.arrived_bytes,
            arrived_objects: self.arrived_objects,
            shortfall_bytes: self.shortfall_bytes,
            shortfall_objects: self.shortfall_objects,
            set_aside_bytes: self.set_aside_bytes,
            // read back from a file: the counts and notes, not the folders' table
            inventory: (self.inventory_lost_objects.is_some() || !self.inventory_note.is_empty())
                .then(|| crate::inventory::diff::Facts {
                    lost_objects: self.inventory_lost_objects,
                    lost_bytes: self.inventory_lost_bytes,
                    shrunk_objects: self.inventory_shrunk_objects,
                    folders: Vec::new(),
                    folder_count: 0,
                    list: self.inventory_list,
                    note: self.inventory_note,
                }),
        })
    }

    /// The column names, in order.
    pub fn columns() -> Vec<String> {
        let any = FindingRow {
            kind: Kind::Loss,
            start: String::new(),
            end: String::new(),
            detected_at: String::new(),
            before_bytes: 0,
            after_bytes: 0,
            drop_bytes: 0,
            drop_pct: 0.0,
            objects_lost: None,
            p_value: 0.0,
            severity: Severity::Info,
            planned_reason: String::new(),
            chart: String::new(),
            status: Status::New,
            change: String::new(),
            excess_pct: 0.0,
            z_score: 0.0,
            exceeded_plan: false,
            recovered_at: String::new(),
            samples_after: 0,
            before_at: String::new(),
            interval_secs: 0,
            moved_to: String::new(),
            arrived_bytes: None,
            arrived_objects: None,
            shortfall_bytes: None,
            shortfall_objects: None,
            inventory_lost_objects: None,
            inventory_lost_bytes: None,
            inventory_shrunk_objects: None,
            inventory_top_folders: String::new(),
            inventory_list: String::new(),
            inventory_note: String::new(),
            set_aside_bytes: None,
        };
        match serde_json::to_value(&any) {
            Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }
}

impl Finding {
    /// `force/system`.
    pub fn label(&self) -> String {
        self.key.join("/")
    }

    /// Whether this finding is a loss.
    pub fn is_loss(&self) -> bool {
        self.kind == Kind::Loss
    }
}

/// Runs the engine over every series (in parallel), with per-series
/// thresholds, and returns its findings, unsorted; `crate::analysis` adds
/// the migrations and sorts them. A series with `arrivals` (a move brought
/// in at least what it held) is also judged on its own data, the arrivals
/// set aside ([`crate::arrival`]): a reduction found only that way is
/// added, its bytes as the store holds them, its `drop_pct` of its own
/// data, with `set_aside_bytes`.
pub fn engine_findings(
    set: &SeriesSet,
    plans: &[PlannedRow],
    arrivals: &[Vec<Arrival>],
    thresholds: &Thresholds,
    detected_at: &str,
) -> Vec<Finding> {
    let index = planned::PlanIndex::new(plans);
    let all: Vec<Finding> = (0..set.len())
        .into_par_iter()
        .flat_map_iter(|i| {
            let s = set.get(i);
            let windows = index.for_series(s.key);
            let params = thresholds.for_series(&set.key_names, s.key);
            let r = detect::detect(s.times, s.bytes, s.objects, &windows, &params);
            let make = |d: &Detection, step_secs: i64| {
                let fmt = |idx: usize| timestamp::format(s.times[idx], s.date_only());
                Finding {
                    key: s.key.to_vec(),
                    start_ts: s.times[d.start_idx],
                    end_ts: s.times[d.end_idx],
                    before_ts: s.times[d.before_idx],
                    recovered_ts: d.recovered_idx.map(|i| s.times[i]),
                    trace: Some(Trace {
                        series: i,
                        start_idx: d.start_idx,
                        end_idx: d.end_idx,
                        expected_step_log: d.expected_step_log,
                        step_sigma_log: d.step_sigma_log,
                    }),
                    kind: d.kind,
                    start: fmt(d.start_idx),
                    end: fmt(d.end_idx),
                    detected_at: detected_at.to_string(),
                    before_bytes: d.before_bytes as u64,
                    after_bytes: d.after_bytes as u64,
                    drop_bytes: (d.before_bytes - d.after_bytes) as i64,
                    drop_pct: round(d.drop_pct, 3),
                    objects_lost: d.objects_lost.map(|o| o as u64),
                    p_value: sig(d.p_value),
                    severity: Severity::of(d),
                    planned_reason: d
                        .plan
                        .map(|w| windows[w].reason.clone())
                        .unwrap_or_default(),
                    chart: String::new(),
                    status: Status::New,
                    change: String::new(),
                    excess_pct: round(d.excess_pct, 3),
                    z_score: round(d.z, 2),
                    exceeded_plan: d.exceeded_plan,
                    recovered_at: d.recovered_idx.map(fmt).unwrap_or_default(),
                    samples_after: d.samples_after,
                    before_at: fmt(d.before_idx),
                    interval_secs: step_secs,
                    moved_to: String::new(),
                    arrived_bytes: None,
                    arrived_objects: None,
                    shortfall_bytes: None,
                    shortfall_objects: None,
                    set_aside_bytes: None,
                    inventory: None,
                }
            };
            let mut out: Vec<Finding> = r.detections.iter().map(|d| make(d, r.step_secs)).collect();
            let arr = arrivals.get(i).map_or(&[][..], Vec::as_slice);
            if !arr.is_empty() {
                let bytes = arrival::own_values(s.times, s.bytes, arr, false);
                let objects = s
                    .objects
                    .map(|o| arrival::own_values(s.times, o, arr, true));
                let own = detect::detect(s.times, &bytes, objects.as_deref(), &windows, &params);
                for d in &own.detections {
                    let overlaps = (r.detections.iter())
                        .any(|x| x.start_idx <= d.end_idx && d.start_idx <= x.end_idx);
                    if overlaps {
                        continue; // the total's own finding says it
                    }
                    let mut f = make(d, own.step_secs);
                    let before = arrival::aside(s.times, s.bytes, d.before_idx, arr, false);
                    let after = arrival::aside(s.times, s.bytes, d.end_idx, arr, false);
                    f.before_bytes = (d.before_bytes + before) as u64;
                    f.after_bytes = (d.after_bytes + after) as u64;
                    f.drop_bytes = (d.before_bytes + before - d.after_bytes - after) as i64;
                    f.set_aside_bytes = Some(before.round() as i64);
                    if let Some(tr) = &mut f.trace {
                        // the expected path drawn on the total: the same growth in bytes
                        let k = d.before_bytes / (d.before_bytes + before);
                        tr.expected_step_log = (1.0 + k * tr.expected_step_log.exp_m1()).ln();
                        tr.step_sigma_log *= k;
                    }
                    out.push(f);
                }
            }
            out
        })
        .collect();
    all
}

fn round(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (x * m).round() / m
}

/// Keeps 3 significant digits (p-values span many orders of magnitude).
fn sig(p: f64) -> f64 {
    if p <= 0.0 || !p.is_finite() {
        return p.max(0.0);
    }
    format!("{p:.2e}")
        .parse::<f64>()
        .unwrap_or(p)
        .clamp(0.0, 1.0)
}

/// Which findings get a chart and a report section of their own, when at
/// most `max` can. On a nightly run (an earlier state exists) only tonight's
/// news does: new and updated findings, losses first; known findings were
/// drawn by the report that first carried them. On a first run (no state)
/// everything is history: losses first, then transients, then planned
/// reductions. Within each kind, the most recent first: those are the ones
/// still inside, or near, their 72-hour window.
pub fn detailed(findings: &[Finding], max: usize, first_run: bool) -> Vec<bool> {
    let rank = |f: &Finding| f.kind.rank();
    let mut idx: Vec<usize> = (0..findings.len())
        .filter(|&i| first_run || findings[i].status != Status::Known)
        .collect();
    idx.sort_by_key(|&i| (rank(&findings[i]), std::cmp::Reverse(findings[i].start_ts)));
    let mut out = vec![false; findings.len()];
    for &i in idx.iter().take(max) {
        out[i] = true;
    }
    out
}
