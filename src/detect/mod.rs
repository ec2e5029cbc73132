//! The detection engine: pure Rust on slices, no files, no polars.
//!
//! Given one series (sorted timestamps, bytes stored, optionally the object
//! count) and the planned windows that apply to it, [`detect`] returns every
//! sudden, substantial, unusual reduction, classed as `loss`, `transient` or
//! `planned` (SPEC, "What counts as what").
//!
//! Method (a robust change test, in the spirit of a one-sided CUSUM restarted
//! at each candidate, Page 1954, with MAD-based scale, Hampel 1974):
//! 1. Work on log-changes between consecutive samples, so the test does not
//!    depend on the unit and a level shift leaves later changes untouched (a
//!    zero reading counts as a ~100 % drop).
//! 2. For a candidate reduction, learn the series' normal change from the
//!    trailing `baseline_days` ([`baseline::Baseline`]): weekday-aware, aware
//!    of a slow decline under way, leaving out gaps and earlier incidents. A
//!    change across a gap is compared with the sum of the skipped intervals'
//!    expectations.
//! 3. A drop is the run of consecutive decreasing samples, from a candidate on, whose change
//!    is at least `step_z` robust σ below expectation. A run longer than
//!    `max_drop_samples` is kept only when one window of that length carries
//!    most (3/4) of it; otherwise it is a gradual decline, not a finding.
//! 4. The drop must be substantial (observed and beyond-normal reduction both
//!    ≥ `min_drop_pct`, and ≥ `min_drop_bytes`) and unusual: the shortfall
//!    against expectation, in units of its robust σ, has a one-sided Student-t
//!    p-value ≤ `alpha` (degrees of freedom from the baseline size), and is
//!    worse than `extreme_margin` × the worst normal change in the window.
//! 5. A planned window overlapping the drop explains it up to the window's
//!    expected size × (1 + `planned_tolerance_rel`) + `planned_tolerance_pct`
//!    (drops in one window share that budget; a blank size explains any drop);
//!    otherwise a drop whose level is back on its expected path (short of at
//!    most 1 − `recovery_fraction` of the shortfall) within
//!    `recovery_samples` is transient; everything else is a loss.

pub mod baseline;
pub mod params;
pub mod stats;

use baseline::{Baseline, Cadence};
pub use params::{DetectParams, ParamError};
use serde::{Deserialize, Serialize};

/// What a reduction was classed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Sudden, substantial, unusual, persistent and unexplained.
    Loss,
    /// Met the tests but came back within `recovery_samples`.
    Transient,
    /// Explained by a planned window.
    Planned,
}

impl Kind {
    /// The name used in files (`loss`, `transient`, `planned`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Loss => "loss",
            Kind::Transient => "transient",
            Kind::Planned => "planned",
        }
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
    /// Typical expected log-change per interval (for drawing the expected path).
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
    /// Inferred interval in seconds.
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
        return Engine::new(&times[..n], &bytes[..n], objects, plans, p, trace).run();
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
    let mut r = Engine::new(&t, &b, o.as_deref(), plans, p, trace).run();
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

/// How far (in log units) below the smallest positive value a zero reading sits.
const ZERO_DEPTH: f64 = 20.0;

struct Engine<'a> {
    times: &'a [i64],
    bytes: &'a [f64],
    objects: Option<&'a [f64]>,
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
    fn new(
        times: &'a [i64],
        bytes: &'a [f64],
        objects: Option<&'a [f64]>,
        plans: &'a [PlanWindow],
        p: &'a DetectParams,
        trace: bool,
    ) -> Self {
        let n = times.len();
        let cad = Cadence::infer(times, p.weekly);
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
        let y: Vec<f64> = bytes
            .iter()
            .map(|&b| if b > 0.0 { b.ln() } else { zero_level })
            .collect();
        let mut c = vec![0.0; n];
        let mut g = vec![1usize; n];
        for i in 1..n {
            c[i] = y[i] - y[i - 1];
            let dt = times[i] - times[i - 1];
            g[i] = if dt == cad.step { 1 } else { cad.intervals(dt) };
        }
        let slot = times.iter().map(|&t| cad.slot(t)).collect();
        // A window of ≤ k changes can only lose min_drop_pct if one of its
        // changes alone loses min_drop_pct / k: a cheap pre-filter.
        let k_max = p.max_drop_samples.max(1);
        let big_step = (1.0 - p.min_drop_pct / 100.0 / k_max as f64).ln();
        // A drop is a run of consecutive falling samples, so only a big
        // change inside the falling run that starts at i counts for i.
        let mut next_big = vec![usize::MAX; n + 1];
        for i in (1..n).rev() {
            next_big[i] = if c[i] <= big_step {
                i
            } else if c[i] < 0.0 {
                next_big[i + 1]
            } else {
                usize::MAX
            };
        }
        Engine {
            times,
            bytes,
            objects: objects.filter(|o| o.len() >= n),
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
            window_secs: (p.baseline_days * 86_400.0) as i64,
            scratch: baseline::FitScratch::default(),
            pairs: Vec::new(),
            recent: Vec::new(),
            n,
            next_big,
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
        let recent_from = self.times[i] - baseline::RECENT_DAYS * 86_400;
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
            step_secs: self.cad.step,
            ..Default::default()
        };
        self.scan(&mut out, 1, 0);
        out
    }

    /// How far ahead of a candidate the engine looks (run extension and
    /// recovery): decisions about candidates more than this many samples
    /// before the newest one are final.
    fn lookahead(&self) -> usize {
        4 * self.p.max_drop_samples.max(1) + self.p.recovery_samples + 1
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
        let k_max = self.p.max_drop_samples.max(1);
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
                || self.next_big[i] >= i.saturating_add(cap).min(n)
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
                if best.1 > 0.75 * total {
                    self.note(
                        out,
                        i,
                        j,
                        f64::NAN,
                        f64::NAN,
                        f64::NAN,
                        "gradual: longer than max_drop_samples",
                    );
                    i = j + 1;
                    continue;
                }
                (best.0, best.0 + k_max - 1)
            };
            let window = &resid[s - i..=e - i];
            let excess_log: f64 = window.iter().map(shortfall).sum();
            let var: f64 = window.iter().map(|r| r.2).sum();
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
            let verdict = if drop_frac < min_frac || excess_frac < min_frac {
                Some("not substantial: below min_drop_pct")
            } else if before - after < self.p.min_drop_bytes as f64 {
                Some("not substantial: below min_drop_bytes")
            } else if p_value > self.p.alpha {
                Some("not unusual: p-value above alpha")
            } else if z > b.worst_z * self.p.extreme_margin {
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
            let (plan, exceeded) = self.plan_for(s, e, drop_pct);
            let recovered = self.recovery(s, e, &b, excess_log);
            let kind = if plan.is_some() && !exceeded {
                Kind::Planned
            } else if recovered.is_some() {
                Kind::Transient
            } else {
                Kind::Loss
            };
            let objects_lost = self.objects_lost(s, e);
            let last_excluded = if kind == Kind::Transient {
                recovered.unwrap_or(e)
            } else {
                e
            };
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
    fn plan_for(&mut self, s: usize, e: usize, drop_pct: f64) -> (Option<usize>, bool) {
        // The drop happened somewhere after the last sample before it: a
        // window that overlaps that interval can explain it (a disposal run
        // during a collection outage is first seen after the window).
        let (ts, te) = (self.times[s - 1] + 1, self.times[e]);
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

    /// First sample within `recovery_samples` after the drop whose level is
    /// back on the path the series would have followed without the drop
    /// (the level before it plus the expected changes since), short of at
    /// most `1 − recovery_fraction` of the shortfall or of the noise.
    fn recovery(&self, s: usize, e: usize, b: &Baseline, shortfall: f64) -> Option<usize> {
        let before = self.y[s - 1];
        let n = self.n;
        let mut path = before;
        for x in s..=e {
            path += b.expect(self.slot[x], self.g[x]).0;
        }
        let mut var = 0.0;
        for h in e + 1..n.min(e + 1 + self.p.recovery_samples) {
            let (m, v) = b.expect(self.slot[h], self.g[h]);
            path += m;
            var += v;
            let spread = 3.0 * (var + b.pooled_sigma.powi(2)).sqrt();
            let allowance = ((1.0 - self.p.recovery_fraction) * shortfall.abs()).max(spread);
            if self.y[h] >= path - allowance {
                return Some(h);
            }
        }
        None
    }

    /// Objects lost over the drop, net of the normal growth in objects.
    fn objects_lost(&self, s: usize, e: usize) -> Option<f64> {
        let o = self.objects?;
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
pub struct Incremental<'a> {
    engine: Engine<'a>,
    out: SeriesResult,
    snap: Snapshot,
    last_excluded: Vec<usize>,
}

impl<'a> Incremental<'a> {
    /// Prepares the series; no sample is visible yet.
    pub fn new(
        times: &'a [i64],
        bytes: &'a [f64],
        objects: Option<&'a [f64]>,
        plans: &'a [PlanWindow],
        p: &'a DetectParams,
    ) -> Self {
        let mut engine = Engine::new(times, bytes, objects, plans, p, false);
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
            last_excluded: Vec::new(),
        }
    }

    /// Makes the first `n` samples visible and returns the detections.
    pub fn advance(&mut self, n: usize) -> &[Detection] {
        let n = n.min(self.engine.times.len());
        // Undo what was decided after the snapshot, then resume there.
        for k in self.snap.detections..self.out.detections.len() {
            let d = &self.out.detections[k];
            for x in d.start_idx..=self.last_excluded[k] {
                self.engine.excluded[x] = false;
            }
        }
        self.out.detections.truncate(self.snap.detections);
        self.last_excluded.truncate(self.snap.detections);
        self.engine.plan_used.clone_from(&self.snap.plan_used);
        self.engine.n = n;
        let safe = n.saturating_sub(self.engine.lookahead());
        self.snap = self.engine.scan(&mut self.out, self.snap.i, safe);
        for d in &self.out.detections[self.last_excluded.len()..] {
            let last = if d.kind == Kind::Transient {
                d.recovered_idx.unwrap_or(d.end_idx)
            } else {
                d.end_idx
            };
            self.last_excluded.push(last.min(n.saturating_sub(1)));
        }
        &self.out.detections
    }
}

#[cfg(test)]
mod tests;
