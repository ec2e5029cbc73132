//! The detection engine: pure Rust on slices, no files, no polars.
//!
//! Given one series (sorted timestamps, bytes stored, optionally the object
//! count) and the planned windows that apply to it, [`detect`] returns every
//! sudden, substantial, unusual reduction, classed as `loss`, `transient` or
//! `planned` (SPEC, "What counts as what").
//!
//! Every window is a duration in time, never a number of samples (SPEC,
//! "Input"): a series with several readings a day is first summarised per
//! UTC day ([`daily`]: each day's minimum, and its last reading for recovery)
//! and the engine runs on that daily series, mapping every index back to the
//! raw samples; `max_drop` and `recovery` are durations.
//!
//! Method (a robust change test, in the spirit of a one-sided CUSUM restarted
//! at each candidate, Page 1954, with MAD-based scale, Hampel 1974):
//! 1. Work on log-changes between consecutive samples, so the test does not
//!    depend on the unit and a level shift leaves later changes untouched (a
//!    zero reading counts as a ~100 % drop).
//! 2. For a candidate reduction, learn the series' normal change from the
//!    trailing `baseline` ([`baseline::Baseline`]): weekday-aware, aware
//!    of a slow decline under way, leaving out gaps and earlier incidents. A
//!    change across a gap is compared with the sum of the skipped intervals'
//!    expectations.
//! 3. A drop is the run of consecutive decreasing samples, from a candidate on, whose change
//!    is at least `step_z` robust σ below expectation, together with further
//!    such steps each within `max_drop` of the one
//!    before, over flat or growing readings, while the level stays down (a
//!    loss landing in nightly batches is one incident); a leading step below
//!    `min_drop_pct` that carries less than 1 / (4 × max_drop) of it, or is
//!    within 1.5 × `step_z` of normal, is noise, not its start. A
//!    run longer than
//!    `max_drop` is kept only when one window of that length carries
//!    most (3/4) of it; otherwise it is a gradual decline, not a finding.
//! 4. The drop must be a reduction (less stored after than before) and
//!    substantial (the reduction below the expected path ≥ `min_drop_pct`,
//!    and ≥ `min_drop_bytes`) and unusual: the shortfall
//!    against expectation, in units of its robust σ, has a one-sided Student-t
//!    p-value ≤ `alpha` (degrees of freedom from the baseline size), and is
//!    worse than `extreme_margin` × the worst normal change in the window
//!    (for a drop in several steps, also the worst normal run of as many).
//! 5. A planned window overlapping the drop explains it up to the window's
//!    expected size × (1 + `planned_tolerance_rel`) + `planned_tolerance_pct`
//!    (drops in one window share that budget; a blank size explains any drop);
//!    otherwise a drop whose level is back on its expected path (short of at
//!    most 1 − `recovery_fraction` of what was lost, or of the noise when that
//!    is smaller than half the shortfall) within `recovery` (
//!    days after the drop's last step; the first reading after a collection
//!    gap that began within it also counts) is transient; everything else is
//!    a loss.

pub mod baseline;
pub mod daily;
pub mod params;
pub mod stats;

use baseline::{Baseline, Cadence};
use daily::{Days, DAY};
pub use params::{DetectParams, ParamError};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// What a reduction was classed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Sudden, substantial, unusual, persistent and unexplained.
    Loss,
    /// Met the tests but came back within `recovery` (time).
    Transient,
    /// Explained by a planned window.
    Planned,
    /// Left its store in a planned move (`moved_to`) and arrived in the
    /// target(s): reconciled, reported for the record.
    Moved,
}

impl Kind {
    /// The name used in files (`loss`, `transient`, `planned`, `moved`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Loss => "loss",
            Kind::Transient => "transient",
            Kind::Planned => "planned",
            Kind::Moved => "moved",
        }
    }

    /// Every kind, in the order a reader meets them: losses first, then
    /// transients, planned reductions and reconciled moves.
    pub const ALL: [Kind; 4] = [Kind::Loss, Kind::Transient, Kind::Planned, Kind::Moved];

    /// Place in [`Kind::ALL`] (the report's section order).
    pub fn rank(self) -> usize {
        self as usize
    }
}

/// A planned reduction (disposal, migration, tiering) for one series.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanWindow {
    /// First second of the window (inclusive).
    pub start: i64,
    /// Last second of the window (inclusive).
    pub end: i64,
    /// The reduction the plan expects, in percent; `None` = size unknown, so
    /// any reduction inside the window is explained.
    pub expected_drop_pct: Option<f64>,
    /// Why (from the planned file).
    pub reason: String,
}

/// One reduction found in a series. Indices refer to the input slices.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Classification.
    pub kind: Kind,
    /// Index of the last sample before the drop.
    pub before_idx: usize,
    /// Index of the first reduced sample.
    pub start_idx: usize,
    /// Index of the last sample of the drop.
    pub end_idx: usize,
    /// Bytes at `before_idx`.
    pub before_bytes: f64,
    /// Bytes at `end_idx`.
    pub after_bytes: f64,
    /// `before_bytes − after_bytes`.
    pub drop_bytes: f64,
    /// Observed reduction in percent of `before_bytes`.
    pub drop_pct: f64,
    /// Reduction beyond the series' normal change, in percent.
    pub excess_pct: f64,
    /// Objects lost, net of the normal growth in objects, when counts exist.
    pub objects_lost: Option<f64>,
    /// Shortfall in robust standard deviations (negative).
    pub z: f64,
    /// One-sided p-value of the shortfall.
    pub p_value: f64,
    /// Typical expected log-change per interval of `SeriesResult::step_secs`
    /// (for drawing the expected path).
    pub expected_step_log: f64,
    /// Robust σ of one interval's log-change.
    pub step_sigma_log: f64,
    /// Index of the sample at which the level came back, for transients.
    pub recovered_idx: Option<usize>,
    /// Index into the plan windows of the window the drop fell in, if any.
    pub plan: Option<usize>,
    /// True when the drop fell in a planned window but exceeded its plan.
    pub exceeded_plan: bool,
    /// Samples observed after the drop (recovery can only be judged on these).
    pub samples_after: usize,
}

/// Why a candidate reduction was or was not flagged (for `--explain`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// Index of the first reduced sample.
    pub start_idx: usize,
    /// Index of the last reduced sample.
    pub end_idx: usize,
    /// Observed drop in percent.
    pub drop_pct: f64,
    /// Drop beyond normal change, in percent.
    pub excess_pct: f64,
    /// One-sided p-value.
    pub p_value: f64,
    /// Outcome: the kind flagged, or the first test that failed.
    pub verdict: String,
}

/// The result of scanning one series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeriesResult {
    /// Findings, in time order.
    pub detections: Vec<Detection>,
    /// Every candidate examined, when tracing was asked for.
    pub candidates: Vec<Candidate>,
    /// Inferred interval of the raw samples, in seconds.
    pub step_secs: i64,
}

/// Scans one series. `times` must be strictly increasing (seconds, UTC);
/// `bytes` and `objects` (NaN = unknown) have the same length. Points with a
/// non-finite or negative byte value are ignored.
pub fn detect(
    times: &[i64],
    bytes: &[f64],
    objects: Option<&[f64]>,
    plans: &[PlanWindow],
    p: &DetectParams,
) -> SeriesResult {
    detect_traced(times, bytes, objects, plans, p, false)
}

/// Like [`detect`], optionally recording every candidate examined.
pub fn detect_traced(
    times: &[i64],
    bytes: &[f64],
    objects: Option<&[f64]>,
    plans: &[PlanWindow],
    p: &DetectParams,
    trace: bool,
) -> SeriesResult {
    let n = times.len().min(bytes.len());
    let ok = (0..n)
        .all(|i| bytes[i].is_finite() && bytes[i] >= 0.0 && (i == 0 || times[i] > times[i - 1]));
    if ok {
        return run_series(&times[..n], &bytes[..n], objects, plans, p, trace);
    }
    // Defensive path: keep valid points in time order, map indices back.
    let mut keep: Vec<usize> = (0..n)
        .filter(|&i| bytes[i].is_finite() && bytes[i] >= 0.0)
        .collect();
    keep.sort_by_key(|&i| times[i]);
    keep.dedup_by_key(|i| times[*i]);
    let t: Vec<i64> = keep.iter().map(|&i| times[i]).collect();
    let b: Vec<f64> = keep.iter().map(|&i| bytes[i]).collect();
    let o: Option<Vec<f64>> = objects.map(|o| {
        keep.iter()
            .map(|&i| o.get(i).copied().unwrap_or(f64::NAN))
            .collect()
    });
    let mut r = run_series(&t, &b, o.as_deref(), plans, p, trace);
    for d in &mut r.detections {
        d.before_idx = keep[d.before_idx];
        d.start_idx = keep[d.start_idx];
        d.end_idx = keep[d.end_idx];
        d.recovered_idx = d.recovered_idx.map(|i| keep[i]);
    }
    for c in &mut r.candidates {
        c.start_idx = keep[c.start_idx];
        c.end_idx = keep[c.end_idx];
    }
    r
}

/// Scans one valid series (strictly increasing times, finite non-negative
/// bytes): a sub-daily one on its per-day summary, indices mapped back.
fn run_series(
    times: &[i64],
    bytes: &[f64],
    objects: Option<&[f64]>,
    plans: &[PlanWindow],
    p: &DetectParams,
    trace: bool,
) -> SeriesResult {
    let objects = objects.filter(|o| o.len() >= times.len());
    Engine::for_series(times, bytes, objects, plans, p, trace).run()
}

/// How far (in log units) below the smallest positive value a zero reading sits.
const ZERO_DEPTH: f64 = 20.0;

/// The raw samples of a summarised series and where each day sits in them.
struct RawMap<'a> {
    times: &'a [i64],
    bytes: &'a [f64],
    days: Days,
    /// Median interval of the raw samples.
    step: i64,
}

struct Engine<'a> {
    /// The series the engine works on: the raw one, or its per-day summary.
    times: Cow<'a, [i64]>,
    bytes: Cow<'a, [f64]>,
    objects: Option<Cow<'a, [f64]>>,
    /// For a summarised series: the raw samples (indices are mapped back).
    raw: Option<RawMap<'a>>,
    /// Log of each day's last reading (summarised series only).
    y_last: Option<Vec<f64>>,
    /// Log level of a zero reading.
    zero_level: f64,
    /// `max_drop` in intervals of this series (at least 1).
    k_max: usize,
    /// `recovery` in seconds.
    recovery_secs: i64,
    /// Recovery thresholds (log level) of the detections, for mapping the
    /// recovery back to a raw sample.
    rec_thr: Vec<f64>,
    /// Last change each detection excluded from later baselines.
    last_ex: Vec<usize>,
    /// (before, start, end) of each detection in the raw samples.
    spans: Vec<(usize, usize, usize)>,
    plans: &'a [PlanWindow],
    p: &'a DetectParams,
    trace: bool,
    cad: Cadence,
    /// log level (see `Engine::new`)
    y: Vec<f64>,
    /// change into sample i (c[0] = 0)
    c: Vec<f64>,
    /// intervals spanned by change i
    g: Vec<usize>,
    slot: Vec<usize>,
    /// change i belongs to an earlier incident
    excluded: Vec<bool>,
    plan_used: Vec<f64>,
    window_secs: i64,
    scratch: baseline::FitScratch,
    pairs: Vec<(usize, f64)>,
    recent: Vec<f64>,
    /// Samples visible to the loop (all of them, except when replaying).
    n: usize,
    /// Index of the first change at or after i, within the run of falling
    /// samples that starts at i, that alone could make a substantial drop
    /// (pre-filter; `usize::MAX` when none).
    next_big: Vec<usize>,
    /// Index of the first change at or after i, falling or not, that alone
    /// could make a substantial drop (pre-filter for staircases).
    next_any: Vec<usize>,
}

/// Where the main loop can resume: its position, the number of detections
/// made before it, and the planned windows' used budget at that point.
#[derive(Debug, Clone)]
struct Snapshot {
    i: usize,
    detections: usize,
    plan_used: Vec<f64>,
}

impl<'a> Engine<'a> {
    /// The engine for a valid series: on its per-day summary when some day
    /// has several readings, else on the series itself.
    fn for_series(
        times: &'a [i64],
        bytes: &'a [f64],
        objects: Option<&'a [f64]>,
        plans: &'a [PlanWindow],
        p: &'a DetectParams,
        trace: bool,
    ) -> Self {
        let Some(mut days) = daily::summarise(times, bytes, objects) else {
            return Engine::new(
                Cow::Borrowed(times),
                Cow::Borrowed(bytes),
                objects.map(Cow::Borrowed),
                None,
                plans,
                p,
                trace,
            );
        };
        let step = Cadence::infer(times, false).step;
        let t = Cow::Owned(std::mem::take(&mut days.times));
        let b = Cow::Owned(std::mem::take(&mut days.bytes));
        let o = days.objects.take().map(Cow::Owned);
        let raw = RawMap {
            times,
            bytes,
            days,
            step,
        };
        Engine::new(t, b, o, Some(raw), plans, p, trace)
    }

    #[allow(clippy::too_many_arguments)]
    fn new(
        times: Cow<'a, [i64]>,
        bytes: Cow<'a, [f64]>,
        objects: Option<Cow<'a, [f64]>>,
        raw: Option<RawMap<'a>>,
        plans: &'a [PlanWindow],
        p: &'a DetectParams,
        trace: bool,
    ) -> Self {
        let n = times.len();
        let cad = Cadence::infer(&times, p.weekly);
        // Log level; a zero reading sits e^-20 below the smallest positive
        // value of the series (a ~100 % drop), which keeps the whole analysis
        // invariant to the unit of `bytes`.
        let min_pos = bytes
            .iter()
            .copied()
            .filter(|b| *b > 0.0)
            .fold(f64::INFINITY, f64::min);
        let zero_level = if min_pos.is_finite() {
            min_pos.ln() - ZERO_DEPTH
        } else {
            0.0
        };
        let log = |b: f64| if b > 0.0 { b.ln() } else { zero_level };
        let y: Vec<f64> = bytes.iter().map(|&b| log(b)).collect();
        let y_last = raw
            .as_ref()
            .map(|r| r.days.last.iter().map(|&b| log(b)).collect());
        let mut c = vec![0.0; n];
        let mut g = vec![1usize; n];
        for i in 1..n {
            c[i] = y[i] - y[i - 1];
            let dt = times[i] - times[i - 1];
            g[i] = if dt == cad.step { 1 } else { cad.intervals(dt) };
        }
        let slot = times.iter().map(|&t| cad.slot(t)).collect();
        // max_drop is a duration: that many intervals of a daily
        // (or summarised) series, at least one interval of a coarser one.
        let k_max = (p.max_drop / cad.step.max(1)).max(1) as usize;
        let recovery_secs = p.recovery;
        // A window of ≤ k changes can only fall min_drop_pct below its
        // expected path if one of its changes alone falls min_drop_pct / k
        // below its expectation, which is rarely above the largest
        // per-slot median change of the whole series (its weekday pattern,
        // plus a margin for growth that varies): a cheap pre-filter.
        let high = {
            let mut per_slot: Vec<Vec<f64>> = vec![Vec::new(); cad.slots];
            for i in 1..n {
                if g[i] == 1 {
                    per_slot[cad.slot(times[i])].push(c[i]);
                }
            }
            per_slot
                .iter_mut()
                .filter_map(|v| {
                    let k = v.len() * 3 / 4;
                    (!v.is_empty()).then(|| *v.select_nth_unstable_by(k, f64::total_cmp).1)
                })
                .fold(0.0f64, f64::max)
        };
        let big_step = (1.0 - p.min_drop_pct / 100.0 / k_max as f64).ln() + high.max(0.0);
        // A drop is a run of consecutive falling samples, so only a big
        // change inside the falling run that starts at i counts for i.
        let mut next_big = vec![usize::MAX; n + 1];
        let mut next_any = vec![usize::MAX; n + 1];
        for i in (1..n).rev() {
            next_big[i] = if c[i] <= big_step {
                i
            } else if c[i] < 0.0 {
                next_big[i + 1]
            } else {
                usize::MAX
            };
            next_any[i] = if c[i] <= big_step { i } else { next_any[i + 1] };
        }
        Engine {
            objects: objects.filter(|o| o.len() >= n),
            times,
            bytes,
            raw,
            y_last,
            zero_level,
            k_max,
            recovery_secs,
            rec_thr: Vec::new(),
            last_ex: Vec::new(),
            spans: Vec::new(),
            plans,
            p,
            trace,
            cad,
            y,
            c,
            g,
            slot,
            excluded: vec![false; n],
            plan_used: vec![0.0; plans.len()],
            window_secs: p.baseline,
            scratch: baseline::FitScratch::default(),
            pairs: Vec::new(),
            recent: Vec::new(),
            n,
            next_big,
            next_any,
        }
    }

    /// Indices of changes usable for the baseline before change `i`.
    fn baseline_indices(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        let t0 = self.times[i] - self.window_secs;
        (1..i)
            .rev()
            .take_while(move |&j| self.times[j] > t0)
            .filter(move |&j| self.g[j] == 1 && !self.excluded[j])
    }

    fn baseline(&mut self, i: usize) -> Option<Baseline> {
        let mut pairs = std::mem::take(&mut self.pairs);
        let mut recent = std::mem::take(&mut self.recent);
        pairs.clear();
        recent.clear();
        // The last two weeks of readings before the change: across a
        // collection gap, the two weeks before the gap (a decline under way
        // when the collector stopped is still under way across the gap).
        let last = (self.times[i - 1].saturating_add(self.cad.step)).min(self.times[i]);
        let recent_from = last - baseline::RECENT_DAYS * 86_400;
        for j in self.baseline_indices(i) {
            pairs.push((self.slot[j], self.c[j]));
            if self.times[j] > recent_from {
                recent.push(self.c[j]);
            }
        }
        let b = if pairs.len() >= self.p.min_history {
            Baseline::fit(&pairs, &mut recent, self.cad.slots, &mut self.scratch)
        } else {
            None
        };
        self.pairs = pairs;
        self.recent = recent;
        b
    }

    /// How bad a normal run of two (and three, for `steps` ≥ 3) days got in
    /// the baseline window last fitted (`self.pairs`).
    fn worst_run(&self, b: &Baseline, steps: usize) -> f64 {
        let two = b.worst_run_z(&self.pairs, 2);
        if steps >= 3 {
            two.min(b.worst_run_z(&self.pairs, 3))
        } else {
            two
        }
    }

    /// Standardised residual of change j and its expected mean and variance.
    fn residual(&self, b: &Baseline, j: usize) -> (f64, f64, f64) {
        let (m, v) = b.expect(self.slot[j], self.g[j]);
        ((self.c[j] - m) / v.sqrt(), m, v)
    }

    fn is_drop_step(&self, b: &Baseline, j: usize) -> bool {
        j >= 1 && !self.excluded[j] && self.c[j] < 0.0 && self.residual(b, j).0 <= -self.p.step_z
    }

    fn run(mut self) -> SeriesResult {
        let mut out = SeriesResult {
            step_secs: self.raw_step(),
            ..Default::default()
        };
        self.scan(&mut out, 1, 0);
        let n_raw = self.raw_visible();
        let mut mapped = SeriesResult {
            step_secs: out.step_secs,
            ..Default::default()
        };
        for (k, d) in out.detections.iter().enumerate() {
            mapped.detections.push(self.to_raw(d, k, n_raw));
        }
        for c in &out.candidates {
            mapped.candidates.push(self.candidate_to_raw(c));
        }
        mapped
    }

    /// The interval of the raw samples.
    fn raw_step(&self) -> i64 {
        self.raw.as_ref().map_or(self.cad.step, |r| r.step)
    }

    /// Raw samples visible (those of the first `self.n` days when summarised).
    fn raw_visible(&self) -> usize {
        match &self.raw {
            None => self.n,
            Some(r) => r.days.first[self.n.min(r.days.len())],
        }
    }

    /// Log level of raw sample `r`.
    fn raw_y(&self, r: usize) -> f64 {
        let b = match &self.raw {
            Some(m) => m.bytes[r],
            None => self.bytes[r],
        };
        if b > 0.0 {
            b.ln()
        } else {
            self.zero_level
        }
    }

    /// The raw sample at which the fall into day `x` happened: the first
    /// reading from the smallest of the day before on whose change against
    /// the reading a day earlier (same hour, so a nightly purge or an
    /// hour-of-day pattern cancels), beyond that day's expected change (a
    /// weekly job is expected), shows at least 0.3 of the fall between the
    /// two days' minima beyond theirs; else the first reading of day `x`
    /// below their midpoint.
    fn raw_step_sample(&self, x: usize, b: Option<&Baseline>) -> usize {
        let Some(r) = &self.raw else { return x };
        let expect = |d: usize, g: usize| b.map_or(0.0, |b| b.expect(self.slot[d], g).0);
        let fall = self.y[x] - self.y[x - 1] - expect(x, self.g[x]);
        // From the smallest reading of the day before: when a step late in
        // that day is what made it the smallest, the fall began there.
        let lo = r.days.min_idx[x - 1];
        let hi = r.days.min_idx[x];
        // Change of reading k against the reading a day earlier at the same
        // time of day, beyond the expected change (None when that reading is
        // missing: comparing other hours would cross a purge).
        let dod = |k: usize| {
            let then = r.times[k] - DAY;
            let back = r.times.partition_point(|&t| t <= then);
            if back == 0 || 2 * (then - r.times[back - 1]) > r.step {
                return None;
            }
            let day = if k < r.days.first[x] { x - 1 } else { x };
            Some(self.raw_y(k) - self.raw_y(back - 1) - expect(day, 1))
        };
        let thr = 0.3 * fall;
        for k in lo..=hi {
            if !dod(k).is_some_and(|d| d <= thr) {
                continue;
            }
            // The day before's smallest reading was chosen for being low: it
            // starts the fall only when the fall persists after it.
            if k == lo && k < hi && !dod(k + 1).is_some_and(|d| d <= thr) {
                continue;
            }
            return k;
        }
        let mid = 0.5 * (self.y[x - 1] + self.y[x]);
        (r.days.first[x]..r.days.first[x + 1])
            .find(|&k| self.raw_y(k) <= mid)
            .unwrap_or(hi)
    }

    /// (before, start, end) raw indices of a drop over `s..=e`, with the
    /// baseline's expected changes when known.
    fn raw_span(&self, s: usize, e: usize, b: Option<&Baseline>) -> (usize, usize, usize) {
        if self.raw.is_none() {
            return (s - 1, s, e);
        }
        let start = self.raw_step_sample(s, b);
        let end = if e == s {
            start
        } else {
            self.raw_step_sample(e, b).max(start)
        };
        (start - 1, start, end)
    }

    /// A detection with its indices in the raw samples; `thr` is the log
    /// level its recovery reached.
    fn to_raw(&self, d: &Detection, k: usize, n_raw: usize) -> Detection {
        let Some(r) = &self.raw else {
            return d.clone();
        };
        let thr = self.rec_thr[k];
        let (before, start, end) = self.spans[k];
        let recovered = d.recovered_idx.map(|h| {
            let last = r.days.first[h + 1] - 1;
            (r.days.first[h].max(end + 1)..=last)
                .find(|&k| self.raw_y(k) >= thr)
                .unwrap_or(last)
                .max(end + 1)
                .min(n_raw.saturating_sub(1))
        });
        let per = r.step as f64 / self.cad.step.max(1) as f64;
        Detection {
            before_idx: before,
            start_idx: start,
            end_idx: end,
            recovered_idx: recovered,
            samples_after: n_raw.saturating_sub(1).saturating_sub(end),
            expected_step_log: d.expected_step_log * per,
            step_sigma_log: d.step_sigma_log * per.sqrt(),
            ..d.clone()
        }
    }

    fn candidate_to_raw(&self, c: &Candidate) -> Candidate {
        if self.raw.is_none() || c.start_idx == 0 {
            return c.clone();
        }
        let (_, start, end) = self.raw_span(c.start_idx, c.end_idx.max(c.start_idx), None);
        Candidate {
            start_idx: start,
            end_idx: end,
            ..c.clone()
        }
    }

    /// Intervals of this series within `recovery` after a drop (at least one).
    fn recovery_intervals(&self) -> usize {
        (self.recovery_secs / self.cad.step.max(1)) as usize + 1
    }

    /// How far ahead of a candidate the engine looks (run extension and
    /// recovery): decisions about candidates more than this many samples
    /// before the newest one are final.
    fn lookahead(&self) -> usize {
        4 * self.k_max + self.recovery_intervals() + 1
    }

    /// The main loop over the visible samples `..self.n`, from candidate
    /// `from`. Returns the state at the last loop head at or before `safe`
    /// (for resuming when more samples arrive).
    fn scan(&mut self, out: &mut SeriesResult, from: usize, safe: usize) -> Snapshot {
        let n = self.n;
        let mut snap = Snapshot {
            i: from,
            detections: out.detections.len(),
            plan_used: self.plan_used.clone(),
        };
        if n < 2 {
            return snap;
        }
        let k_max = self.k_max;
        let cap = 4 * k_max;
        let min_frac = self.p.min_drop_pct / 100.0;
        let mut i = from.max(1);
        while i < n {
            if i <= safe {
                snap = Snapshot {
                    i,
                    detections: out.detections.len(),
                    plan_used: self.plan_used.clone(),
                };
            }
            if self.c[i] >= 0.0
                || (self.next_big[i] >= i.saturating_add(cap).min(n)
                    && self.next_any[i] >= i.saturating_add(k_max).min(n))
                || self.excluded[i]
            {
                i += 1;
                continue;
            }
            let Some(b) = self.baseline(i) else {
                i += 1;
                continue;
            };
            // The weekly pattern must be known for the candidate's slot.
            if b.slot_count[self.slot[i]] < baseline::MIN_PER_SLOT && self.cad.slots > 1 {
                self.note(
                    out,
                    i,
                    i,
                    f64::NAN,
                    f64::NAN,
                    f64::NAN,
                    "not tested: too little history for this slot of the week",
                );
                i += 1;
                continue;
            }
            if !self.is_drop_step(&b, i) {
                i += 1;
                continue;
            }
            let mut j = i;
            while j + 1 < n && j + 1 - i < cap && self.is_drop_step(&b, j + 1) {
                j += 1;
            }
            {
                // Further steps, each within max_drop of the one before, over
                // flat or growing readings, are the same incident while the
                // level stays down (less than half of the shortfall so far
                // has come back). The window of max_drop that carries most of
                // it is chosen below.
                let sf = |x: usize| {
                    let r = self.residual(&b, x);
                    r.0 * r.2.sqrt()
                };
                let mut cum: f64 = (i..=j).map(sf).sum();
                let mut run = cum;
                let mut x = j + 1;
                while x < n && x - i < cap && x - j < k_max && !self.excluded[x] {
                    run += sf(x);
                    if self.is_drop_step(&b, x) {
                        j = x;
                        cum = run;
                    } else if run > 0.5 * cum {
                        break;
                    }
                    x += 1;
                }
            }
            let resid: Vec<(f64, f64, f64)> = (i..=j).map(|x| self.residual(&b, x)).collect();
            let shortfall = |r: &(f64, f64, f64)| r.0 * r.2.sqrt();
            let (s, e) = if j - i < k_max {
                (i, j)
            } else {
                let mut best = (i, f64::INFINITY);
                for a in i..=j + 1 - k_max {
                    let sum: f64 = resid[a - i..a - i + k_max].iter().map(shortfall).sum();
                    if sum < best.1 {
                        best = (a, sum);
                    }
                }
                let total: f64 = resid.iter().map(shortfall).sum();
                // A chain longer than max_drop that no window of max_drop
                // dominates is a gradual decline — unless one of its steps is
                // substantial on its own: a sudden loss inside a longer run
                // of small reductions is still sudden (the incident starts at
                // that step; what follows more than max_drop later is judged
                // on its own).
                let big = (i..=j).find(|&x| {
                    self.c[x] < 0.0
                        && resid[x - i].0 <= -self.p.step_z
                        && 1.0 - shortfall(&resid[x - i]).exp() >= min_frac
                });
                if best.1 > 0.75 * total && big.is_some() {
                    let x = big.unwrap_or(i);
                    let end = (x + k_max - 1).min(j);
                    // the rest of the chain is judged on its own
                    j = end;
                    (x, end)
                } else if best.1 > 0.75 * total {
                    self.note(
                        out,
                        i,
                        j,
                        f64::NAN,
                        f64::NAN,
                        f64::NAN,
                        "gradual: longer than max_drop",
                    );
                    i = j + 1;
                    continue;
                } else {
                    (best.0, best.0 + k_max - 1)
                }
            };
            // A step leading the incident that is not substantial on its own
            // (below min_drop_pct) and carries only a small share of it (less
            // than 1 / (4 × max_drop)) or is not clearly unusual (within
            // 1.5 × step_z) is noise before the drop, not its start. (A
            // substantial first step keeps its start when the loss deepens.)
            let is_step = |x: usize| self.c[x] < 0.0 && resid[x - i].0 <= -self.p.step_z;
            let total: f64 = (s..=e)
                .filter(|&x| is_step(x))
                .map(|x| shortfall(&resid[x - i]))
                .sum();
            let mut s = s;
            let substantial = |x: usize| 1.0 - shortfall(&resid[x - i]).exp() >= min_frac;
            while s < e
                && (!is_step(s)
                    || (!substantial(s)
                        && (shortfall(&resid[s - i]) > total / (4 * k_max) as f64
                            || resid[s - i].0 > -1.5 * self.p.step_z)))
            {
                s += 1;
            }
            // The incident's size and test count its reduction steps only,
            // not the flat or growing readings between them (a day that did
            // not grow is not data lost).
            let steps = (s..=e).filter(|&x| is_step(x)).map(|x| &resid[x - i]);
            let n_steps = steps.clone().count();
            let excess_log: f64 = steps.clone().map(shortfall).sum();
            let var: f64 = steps.map(|r| r.2).sum();

            let z = excess_log / var.sqrt();
            let p_value = stats::lower_tail_p(z, (b.n as f64 - 1.0).max(1.0));
            let before = self.bytes[s - 1];
            let after = self.bytes[e];
            let drop_frac = if before > 0.0 {
                (before - after) / before
            } else {
                0.0
            };
            let excess_frac = 1.0 - excess_log.exp();
            let drop_pct = 100.0 * drop_frac;
            let excess_pct = 100.0 * excess_frac;
            let verdict = if drop_frac <= 0.0 || excess_frac < min_frac {
                Some("not substantial: below min_drop_pct")
            } else if before - after < self.p.min_drop_bytes as f64 {
                Some("not substantial: below min_drop_bytes")
            } else if p_value > self.p.alpha {
                Some("not unusual: p-value above alpha")
            } else if z > b.worst_z * self.p.extreme_margin
                || (n_steps >= 2 && z > self.worst_run(&b, n_steps) * self.p.extreme_margin)
            {
                Some("not unusual: no worse than the worst normal change in the baseline window")
            } else {
                None
            };
            if let Some(v) = verdict {
                self.note(out, s, e, drop_pct, excess_pct, p_value, v);
                i = j + 1;
                continue;
            }
            // Classification.
            let span = self.raw_span(s, e, Some(&b));
            let (plan, exceeded) = self.plan_for(s, e, span, drop_pct);
            let rec = self.recovery(s, e, span.1, &b, excess_log);
            let recovered = rec.map(|r| r.0);
            let kind = if plan.is_some() && !exceeded {
                Kind::Planned
            } else if recovered.is_some() {
                Kind::Transient
            } else {
                Kind::Loss
            };
            let objects_lost = self.objects_lost(s, e);
            // The rest of a long run of falling steps belongs to the same
            // incident.
            let last_excluded = if kind == Kind::Transient {
                recovered.unwrap_or(e)
            } else {
                e.max(j)
            };
            self.rec_thr.push(rec.map_or(f64::NAN, |r| r.1));
            self.spans.push(span);
            self.last_ex.push(last_excluded.min(n - 1));
            for x in s..=last_excluded.min(n - 1) {
                self.excluded[x] = true;
            }
            self.note(out, s, e, drop_pct, excess_pct, p_value, kind.as_str());
            out.detections.push(Detection {
                kind,
                before_idx: s - 1,
                start_idx: s,
                end_idx: e,
                before_bytes: before,
                after_bytes: after,
                drop_bytes: before - after,
                drop_pct,
                excess_pct,
                objects_lost,
                z,
                p_value,
                expected_step_log: b.pooled_median + b.recent_shift,
                step_sigma_log: b.pooled_sigma,
                recovered_idx: recovered,
                plan,
                exceeded_plan: exceeded,
                samples_after: n - 1 - e,
            });
            i = last_excluded + 1;
        }
        snap
    }

    #[allow(clippy::too_many_arguments)]
    fn note(
        &self,
        out: &mut SeriesResult,
        s: usize,
        e: usize,
        drop_pct: f64,
        excess_pct: f64,
        p_value: f64,
        verdict: &str,
    ) {
        if self.trace {
            out.candidates.push(Candidate {
                start_idx: s,
                end_idx: e,
                drop_pct,
                excess_pct,
                p_value,
                verdict: verdict.to_string(),
            });
        }
    }

    /// The planned window a drop falls in, and whether the drop exceeds what
    /// is left of that plan. Drops inside one window share its budget.
    fn plan_for(
        &mut self,
        s: usize,
        e: usize,
        span: (usize, usize, usize),
        drop_pct: f64,
    ) -> (Option<usize>, bool) {
        // The drop happened somewhere after the last sample before it: a
        // window that overlaps that interval can explain it (a disposal run
        // during a collection outage is first seen after the window).
        let (ts, te) = match &self.raw {
            None => (self.times[s - 1] + 1, self.times[e]),
            Some(r) => {
                let (before, _, end) = span;
                (r.times[before] + 1, r.times[end])
            }
        };
        let Some(w) = self.plans.iter().position(|w| ts <= w.end && te >= w.start) else {
            return (None, false);
        };
        let used = self.plan_used[w];
        self.plan_used[w] += drop_pct;
        match self.plans[w].expected_drop_pct {
            None => (Some(w), false),
            Some(exp) => (
                Some(w),
                used + drop_pct
                    > exp * (1.0 + self.p.planned_tolerance_rel) + self.p.planned_tolerance_pct,
            ),
        }
    }

    /// First sample within `recovery` (time) after the drop's last step
    /// whose level is back on the path the series would have followed
    /// without the drop (the level before it plus the expected changes
    /// since), short of at most `1 − recovery_fraction` of what was lost, or
    /// of the noise when that is less than half the shortfall (a small loss
    /// that stays lost is not "back within the noise"). The first sample
    /// after a collection gap that began within `recovery` also counts. A
    /// summarised series is judged on each day's last reading, from the
    /// drop's own day on (a zero reading at 03:00 back at 04:00). Returns
    /// the sample and the log level it had to reach.
    fn recovery(
        &self,
        s: usize,
        e: usize,
        start_raw: usize,
        b: &Baseline,
        shortfall: f64,
    ) -> Option<(usize, f64)> {
        if self.recovery_secs <= 0 {
            return None;
        }
        let y = self.y_last.as_deref().unwrap_or(&self.y);
        let n = self.n;
        // The path starts from the last day whose last reading came before
        // the drop (a loss late in a day, after that day's smallest reading,
        // already shows in its last one).
        let mut from_day = s - 1;
        if let Some(r) = &self.raw {
            if r.days.first[s] > start_raw && from_day > 0 {
                from_day -= 1;
            }
        }
        let mut path = y[from_day];
        for x in from_day + 1..=e {
            path += b.expect(self.slot[x], self.g[x]).0;
        }
        let lost = (1.0 - shortfall.exp()).clamp(0.0, 1.0);
        let share = -(1.0 - (1.0 - self.p.recovery_fraction) * lost).ln();
        let mut var = 0.0;
        let from = if self.raw.is_some() { e } else { e + 1 };
        for (h, &level) in y.iter().enumerate().take(n).skip(from) {
            // A reading after the window counts only as the first one after
            // a collection gap that began inside it.
            if h > e + 1 && self.times[h - 1] - self.times[e] >= self.recovery_secs {
                break;
            }
            if h > e {
                let (m, v) = b.expect(self.slot[h], self.g[h]);
                path += m;
                var += v;
            }
            let spread = 3.0 * (var + b.pooled_sigma.powi(2)).sqrt();
            let allowance = share.max(spread.min(0.5 * shortfall.abs()));
            if level >= path - allowance {
                return Some((h, path - allowance));
            }
        }
        None
    }

    /// Objects lost over the drop, net of the normal growth in objects.
    fn objects_lost(&self, s: usize, e: usize) -> Option<f64> {
        let o = self.objects.as_deref()?;
        let (ob, oa) = (o[s - 1], o[e]);
        if !ob.is_finite() || !oa.is_finite() {
            return None;
        }
        // Normal change in objects over the drop: the median change of the
        // same slot of the week (when known), else of all slots.
        let diffs: Vec<(usize, f64)> = self
            .baseline_indices(s)
            .filter_map(|j| {
                let d = o[j] - o[j - 1];
                d.is_finite().then_some((self.slot[j], d))
            })
            .collect();
        let mut all: Vec<f64> = diffs.iter().map(|d| d.1).collect();
        let pooled = stats::median_in_place(&mut all).unwrap_or(0.0);
        let mut expected = 0.0;
        for x in s..=e {
            for back in 0..self.g[x] {
                let slot = (self.slot[x] + self.cad.slots - back % self.cad.slots) % self.cad.slots;
                let mut same: Vec<f64> =
                    diffs.iter().filter(|d| d.0 == slot).map(|d| d.1).collect();
                expected += if same.len() >= baseline::MIN_PER_SLOT {
                    stats::median_in_place(&mut same).unwrap_or(pooled)
                } else {
                    pooled
                };
            }
        }
        Some((ob + expected - oa).max(0.0).round())
    }
}

/// The engine fed one night at a time (for `replay`): after
/// [`Incremental::advance`] to `n` samples, the detections are those a scan
/// of the first `n` samples would report, but only the tail since the last
/// final decision is recomputed. The interval and the zero-reading level are
/// taken from the whole series (a small difference from a real nightly run).
/// A sub-daily series advances by whole UTC days; a prefix that ends inside
/// a day is scanned afresh.
pub struct Incremental<'a> {
    engine: Engine<'a>,
    out: SeriesResult,
    snap: Snapshot,
    /// The answer of the last `advance`, indices in the raw samples.
    mapped: Vec<Detection>,
    times: &'a [i64],
    bytes: &'a [f64],
    objects: Option<&'a [f64]>,
    plans: &'a [PlanWindow],
    p: &'a DetectParams,
}

impl<'a> Incremental<'a> {
    /// Prepares the series (strictly increasing times, valid bytes); no
    /// sample is visible yet.
    pub fn new(
        times: &'a [i64],
        bytes: &'a [f64],
        objects: Option<&'a [f64]>,
        plans: &'a [PlanWindow],
        p: &'a DetectParams,
    ) -> Self {
        let objects = objects.filter(|o| o.len() >= times.len());
        let mut engine = Engine::for_series(times, bytes, objects, plans, p, false);
        engine.n = 0;
        let snap = Snapshot {
            i: 1,
            detections: 0,
            plan_used: engine.plan_used.clone(),
        };
        let out = SeriesResult {
            step_secs: engine.cad.step,
            ..Default::default()
        };
        Incremental {
            engine,
            out,
            snap,
            mapped: Vec::new(),
            times,
            bytes,
            objects,
            plans,
            p,
        }
    }

    /// Makes the first `n` samples visible and returns the detections.
    pub fn advance(&mut self, n: usize) -> &[Detection] {
        let n = n.min(
            self.engine
                .raw
                .as_ref()
                .map_or(self.engine.times.len(), |r| r.times.len()),
        );
        let m = match &self.engine.raw {
            None => n,
            Some(r) => {
                let m = r.days.days_visible(n);
                if r.days.first[m] != n {
                    // The last visible day is incomplete: its summary differs.
                    self.mapped = detect(
                        &self.times[..n],
                        &self.bytes[..n],
                        self.objects.map(|o| &o[..n]),
                        self.plans,
                        self.p,
                    )
                    .detections;
                    return &self.mapped;
                }
                m
            }
        };
        // Undo what was decided after the snapshot, then resume there.
        for k in self.snap.detections..self.out.detections.len() {
            let d = &self.out.detections[k];
            for x in d.start_idx..=self.engine.last_ex[k] {
                self.engine.excluded[x] = false;
            }
        }
        self.out.detections.truncate(self.snap.detections);
        self.engine.rec_thr.truncate(self.snap.detections);
        self.engine.spans.truncate(self.snap.detections);
        self.engine.last_ex.truncate(self.snap.detections);
        self.engine.plan_used.clone_from(&self.snap.plan_used);
        self.engine.n = m;
        let safe = m.saturating_sub(self.engine.lookahead());
        self.snap = self.engine.scan(&mut self.out, self.snap.i, safe);
        let n_raw = self.engine.raw_visible();
        self.mapped = self
            .out
            .detections
            .iter()
            .enumerate()
            .map(|(k, d)| self.engine.to_raw(d, k, n_raw))
            .collect();
        &self.mapped
    }
}

#[cfg(test)]
mod tests;
