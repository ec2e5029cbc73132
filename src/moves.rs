//! Migrations that must arrive: a planned window whose `moved_to` names the
//! store(s) the data goes to is reconciled over the whole window, not night
//! by night. What left the source (its level before the window less its
//! level at the window's end) is compared with what arrived in the targets
//! (their rise over the same window beyond their normal growth, measured on
//! the first reading after the window when a target is only measured late),
//! in bytes and, where every store counts them, objects. The share of what
//! left that never arrived is estimated from bytes and from objects and the
//! two are combined by the inverse of their noise (each target's own
//! spread of daily changes over the window), so a move into a store whose
//! volume is swamped by its own growth is judged by its file count. A
//! migration is planned to lose nothing, so a shortfall beyond that noise
//! (2σ) and lost by the source's thresholds (`DetectParams::move_lost`)
//! is a `loss` attributed to the
//! migration; a move where everything arrived is `moved`, reported for the
//! record with what arrived, even when the source was emptied or fell by
//! more than the plan said. A window still open stays `planned`, reports
//! what has left and arrived so far, and is judged when it closes.

use crate::arrival::Arrival;
use crate::config::Thresholds;
use crate::detect::Kind;
use crate::findings::{Finding, Severity};
use crate::ingest::series::Series;
use crate::ingest::{timestamp, SeriesSet};
use crate::planned::PlannedRow;

/// Days of a target's history from which its normal growth is learned.
const GROWTH_DAYS: i64 = 28;

/// An estimate and its noise (1σ).
type Estimate = (f64, f64);

/// What left one source and arrived in its targets over a window.
#[derive(Debug, Clone, PartialEq)]
pub struct Reconciled {
    /// Bytes that left the source.
    pub left_bytes: f64,
    /// Bytes that arrived beyond the targets' normal growth.
    pub arrived_bytes: f64,
    /// Objects that left, when every store counts them.
    pub left_objects: Option<f64>,
    /// Objects that arrived beyond normal growth.
    pub arrived_objects: Option<f64>,
    /// Noise of the arrived estimate, in bytes (the targets' spread).
    pub noise_bytes: f64,
    /// Noise of the arrived object estimate, when objects are counted.
    pub noise_objects: Option<f64>,
    /// The source's level before the window.
    pub before_bytes: f64,
    /// The source's object count before the window, when counted.
    pub before_objects: Option<f64>,
    /// Index of the source's last reading before the window.
    pub before_idx: usize,
    /// Index of its last reading in the window.
    pub end_idx: usize,
    /// The data ends before the window does.
    pub open: bool,
}

impl Reconciled {
    /// Bytes that left and never arrived (never negative): the share of
    /// what left that never arrived ([`Reconciled::missing_fraction`],
    /// bytes and files combined) times the bytes that left.
    pub fn shortfall_bytes(&self) -> f64 {
        self.missing_fraction().0 * self.left_bytes
    }

    /// Objects that left and never arrived, estimated the same way.
    pub fn shortfall_objects(&self) -> Option<f64> {
        Some(self.missing_fraction().0 * self.left_objects?)
    }

    /// The object shortfall in percent of the source's count before the
    /// window, when both are known.
    pub fn shortfall_objects_pct(&self) -> Option<f64> {
        Some(100.0 * self.shortfall_objects()? / self.before_objects?)
    }

    /// The shortfall in percent of the source's level before the window.
    pub fn shortfall_pct(&self) -> f64 {
        if self.before_bytes > 0.0 {
            100.0 * self.shortfall_bytes() / self.before_bytes
        } else {
            0.0
        }
    }

    /// The fraction of what left that never arrived, from bytes and from
    /// objects, each with its noise (1σ, as a fraction of what left).
    fn missing_fractions(&self) -> (Option<Estimate>, Option<Estimate>) {
        let by_bytes = (self.left_bytes > 0.0).then(|| {
            (
                1.0 - self.arrived_bytes / self.left_bytes,
                self.noise_bytes / self.left_bytes,
            )
        });
        let by_objects = match (self.left_objects, self.arrived_objects, self.noise_objects) {
            (Some(l), Some(a), Some(n)) if l > 0.0 => Some((1.0 - a / l, n / l)),
            _ => None,
        };
        (by_bytes, by_objects)
    }

    /// The best estimate of the fraction of what left that never arrived
    /// (never negative), and its noise: bytes and objects combined by
    /// inverse variance, so a target whose volume is swamped by its own
    /// growth is judged by its file count, and the reverse.
    pub fn missing_fraction(&self) -> (f64, f64) {
        let floor = 1e-4; // 0.01 % of what left: no estimate is exact
        let parts: Vec<(f64, f64)> = match self.missing_fractions() {
            (Some(b), Some(o)) => vec![b, o],
            (Some(b), None) => vec![b],
            (None, Some(o)) => vec![o],
            (None, None) => return (0.0, 0.0),
        };
        let w: Vec<f64> = parts
            .iter()
            .map(|(_, n)| 1.0 / n.max(floor).powi(2))
            .collect();
        let total: f64 = w.iter().sum();
        let f = parts.iter().zip(&w).map(|((f, _), w)| f * w).sum::<f64>() / total;
        (f.max(0.0), 1.0 / total.sqrt())
    }

    /// True when the shortfall is beyond the noise of its estimate (2σ).
    pub fn beyond_noise(&self) -> bool {
        let (f, n) = self.missing_fraction();
        f > 2.0 * n
    }
}

/// Last index with a time before `t`.
fn last_before(times: &[i64], t: i64) -> Option<usize> {
    times.partition_point(|&x| x < t).checked_sub(1)
}

/// Last index with a time at or before `t`.
fn last_at(times: &[i64], t: i64) -> Option<usize> {
    times.partition_point(|&x| x <= t).checked_sub(1)
}

/// A target's rise over `[start, end]` beyond its normal growth, in
/// `values`, and the noise of that estimate (the target's own robust spread
/// of daily changes over the same span).
fn arrived(s: &Series, values: &[f64], start: i64, end: i64) -> Option<(f64, f64)> {
    let b = last_before(s.times, start)?;
    // at the end of the window, or (measured late) the first reading after it
    let a = crate::arrival::measured_at(s.times, b, end)?;
    let (vb, va) = (values[b], values[a]);
    if !vb.is_finite() || !va.is_finite() || vb <= 0.0 {
        return None;
    }
    let (expected, noise) = growth(s, values, b, s.times[a]);
    Some((va - vb - expected, noise))
}

/// The readings that close a UTC day within `b..=e`: `b` itself, the last
/// reading of each day after it, and `e`. Reconciliation steps through
/// these, so growth, its noise and what a source took in are measured per
/// day whatever the cadence (hourly jitter summed hour by hour would
/// inflate both, and a lossy move would read as complete).
fn day_ends(times: &[i64], b: usize, e: usize) -> Vec<usize> {
    let mut out = vec![b];
    for i in b + 1..=e {
        let closes_day = i == e || times[i].div_euclid(86_400) != times[i + 1].div_euclid(86_400);
        if closes_day && times[i].div_euclid(86_400) != times[b].div_euclid(86_400) {
            out.push(i);
        }
    }
    if *out.last().unwrap_or(&b) != e {
        out.push(e);
    }
    out
}

/// A series' normal growth from its reading `b` until time `until` (its
/// median daily log-change over the weeks before `b`, one reading per day,
/// never negative), and the noise of that growth (its robust spread, over
/// the same span).
fn growth(s: &Series, values: &[f64], b: usize, until: i64) -> (f64, f64) {
    let vb = values[b];
    let from = s.times[b] - GROWTH_DAYS * 86_400;
    let first = s.times.partition_point(|&x| x < from);
    let days_idx = if first < b {
        day_ends(s.times, first, b)
    } else {
        vec![]
    };
    let mut rates: Vec<f64> = days_idx
        .windows(2)
        .filter(|w| values[w[0]] > 0.0 && values[w[1]] > 0.0)
        .map(|w| {
            let days = (s.times[w[1]] - s.times[w[0]]) as f64 / 86_400.0;
            (values[w[1]] / values[w[0]]).ln() / days.max(1e-9)
        })
        .filter(|r| r.is_finite())
        .collect();
    rates.sort_by(f64::total_cmp);
    let rate = rates.get(rates.len() / 2).copied().unwrap_or(0.0).max(0.0);
    let mut dev: Vec<f64> = rates.iter().map(|r| (r - rate).abs()).collect();
    dev.sort_by(f64::total_cmp);
    let sigma = 1.4826 * dev.get(dev.len() / 2).copied().unwrap_or(0.0);
    let days = (until - s.times[b]) as f64 / 86_400.0;
    let expected = vb * ((rate * days).exp() - 1.0);
    (expected, vb * sigma * days.max(1.0).sqrt())
}

/// What the source took in between its readings `b` and `e` while data
/// left it, as far as its readings show: the sum of its day-to-day rises
/// in the window (so what left is the sum of its falls: data that arrived
/// in the source during the move and then left with it counts as having
/// left). Intake on the nights data leaves is hidden in the net fall and
/// not guessed.
fn intake(times: &[i64], values: &[f64], b: usize, e: usize) -> f64 {
    day_ends(times, b, e)
        .windows(2)
        .map(|w| values[w[1]] - values[w[0]])
        .filter(|d| d.is_finite() && *d > 0.0)
        .sum()
}

/// Reconciles one window of `source` into `targets`.
pub fn reconcile(source: &Series, targets: &[Series], start: i64, end: i64) -> Option<Reconciled> {
    let b = last_before(source.times, start)?;
    let e = last_at(source.times, end)?;
    if e <= b {
        return None;
    }
    // What left: the net fall plus what the source took in meanwhile.
    let left =
        (source.bytes[b] - source.bytes[e] + intake(source.times, source.bytes, b, e)).max(0.0);
    let mut arrived_bytes = 0.0;
    let mut noise2 = 0.0;
    for t in targets {
        let (got, noise) = arrived(t, t.bytes, start, end).unwrap_or((0.0, 0.0));
        arrived_bytes += got.max(0.0);
        noise2 += noise * noise;
    }
    let (left_objects, arrived_objects, noise_objects) = match source.objects {
        Some(o)
            if targets.iter().all(|t| t.objects.is_some())
                && o[b].is_finite()
                && o[e].is_finite() =>
        {
            let got: Option<Vec<(f64, f64)>> = targets
                .iter()
                .map(|t| arrived(t, t.objects.unwrap_or(&[]), start, end))
                .collect();
            let got = got.map(|g| {
                let sum = g.iter().map(|x| x.0.max(0.0)).sum::<f64>();
                let noise = g.iter().map(|x| x.1 * x.1).sum::<f64>().sqrt();
                (sum, noise)
            });
            (
                Some((o[b] - o[e] + intake(source.times, o, b, e)).max(0.0)),
                got.map(|g| g.0),
                got.map(|g| g.1),
            )
        }
        _ => (None, None, None),
    };
    Some(Reconciled {
        left_bytes: left,
        arrived_bytes,
        left_objects,
        arrived_objects,
        noise_bytes: noise2.sqrt(),
        noise_objects,
        before_bytes: source.bytes[b],
        before_objects: source
            .objects
            .map(|o| o[b])
            .filter(|o| o.is_finite() && *o > 0.0),
        before_idx: b,
        end_idx: e,
        open: source.times.last().copied().unwrap_or(i64::MIN) < end,
    })
}

/// The series a `moved_to` entry names: `FORCE/SYSTEM`, or `SYSTEM` within
/// the source's force (the first key column), matched exactly.
fn resolve(set: &SeriesSet, source_key: &[String], name: &str) -> Option<usize> {
    let name = name.trim();
    if source_key.len() >= 2 {
        let mut same_force = source_key[..source_key.len() - 1].to_vec();
        same_force.push(name.to_string());
        if let Some(i) = set.keys.iter().position(|k| *k == same_force) {
            return Some(i);
        }
    }
    set.find(name)
}

/// What each move of `plans` brought into each series of `set` that it
/// names as a target, where that is at least what the target held
/// ([`crate::arrival`]); per series, in `set`'s order. A target whose
/// readings before the move are not in `set` (an incremental run's window
/// starts after it) takes the arrival `known` has for it, if any.
pub fn arrivals(
    set: &SeriesSet,
    plans: &[PlannedRow],
    known: &dyn Fn(&[String]) -> Vec<Arrival>,
) -> Vec<Vec<Arrival>> {
    let mut out: Vec<Vec<Arrival>> = vec![Vec::new(); set.len()];
    for row in plans.iter().filter(|r| !r.moved_to.is_empty()) {
        let w = &row.window;
        for name in &row.moved_to {
            let Some(i) = resolve(set, &row.key, name) else {
                continue;
            };
            if set.keys[i] == row.key {
                continue;
            }
            let t = set.get(i);
            let a = if t.times.first().is_some_and(|&x| x < w.start) {
                crate::arrival::measure(&t, &row.key, w.start, w.end)
            } else {
                known(t.key)
                    .into_iter()
                    .find(|a| a.same_move(&row.key, w.start, w.end))
            };
            out[i].extend(a);
        }
    }
    out
}

/// Applies every move of `plans` to the findings of a run (see the module
/// documentation); warns about targets that name no series.
pub fn apply(
    set: &SeriesSet,
    plans: &[PlannedRow],
    thresholds: &Thresholds,
    detected_at: &str,
    findings: &mut Vec<Finding>,
) {
    apply_until(set, plans, thresholds, detected_at, i64::MAX, findings);
}

/// [`apply`] on the observations at or before `until` only (a night of
/// `replay`), without copying the series.
pub fn apply_until(
    set: &SeriesSet,
    plans: &[PlannedRow],
    thresholds: &Thresholds,
    detected_at: &str,
    until: i64,
    findings: &mut Vec<Finding>,
) {
    for row in plans.iter().filter(|r| !r.moved_to.is_empty()) {
        let Some(src) = set.keys.iter().position(|k| *k == row.key) else {
            continue;
        };
        let source = set.get(src).until(until);
        let mut names = Vec::new();
        let mut targets = Vec::new();
        for name in &row.moved_to {
            match resolve(set, source.key, name) {
                Some(i) if i != src => {
                    names.push(set.keys[i].join("/"));
                    targets.push(set.get(i).until(until));
                }
                _ => crate::log::alarm(format!(
                    "planned window (line {}): moved_to `{}` names no other series in the input; the move cannot be reconciled",
                    row.line, name
                )),
            }
        }
        if targets.is_empty() {
            continue;
        }
        let w = &row.window;
        let Some(r) = reconcile(&source, &targets, w.start, w.end) else {
            continue;
        };
        let moved_to = names.join("; ");
        let p = thresholds.for_series(&set.key_names, source.key);
        // A shortfall beyond the targets' own noise (2σ) that the source's
        // thresholds call lost (`DetectParams::move_lost`; where every store
        // counts files, short in files too: a small move into a large,
        // fast-growing store is lost in its byte noise, its file count
        // still shows what arrived).
        let lost = !r.open
            && r.beyond_noise()
            && p.move_lost(
                r.shortfall_pct(),
                r.shortfall_bytes(),
                r.shortfall_objects_pct(),
            );
        // the source's findings in the window
        let inside: Vec<usize> = findings
            .iter()
            .enumerate()
            .filter(|(_, f)| f.key == source.key && f.start_ts >= w.start && f.start_ts <= w.end)
            .map(|(i, _)| i)
            .collect();
        let record = |f: &mut Finding| {
            f.moved_to = moved_to.clone();
            f.arrived_bytes = Some(r.arrived_bytes.round() as i64);
            f.arrived_objects = r.arrived_objects.map(|o| o.round() as i64);
            f.shortfall_bytes = Some(r.shortfall_bytes().round() as i64);
            f.shortfall_objects = r.shortfall_objects().map(|o| o.round() as i64);
        };
        if lost {
            // One finding for the whole move, starting at its first reading
            // in the window (a move spread over nights starts on the first).
            let mut f = new_finding(&source, &r, detected_at, &w.reason, Kind::Loss);
            if let Some(&i) = inside.first() {
                let g = &findings[i];
                f.p_value = g.p_value;
                f.z_score = g.z_score;
                f.interval_secs = g.interval_secs;
            }
            let shortfall = r.shortfall_bytes();
            f.kind = Kind::Loss;
            f.exceeded_plan = true;
            f.planned_reason = w.reason.clone();
            f.before_ts = source.times[r.before_idx];
            f.before_bytes = r.before_bytes as u64;
            f.drop_bytes = shortfall.round() as i64;
            f.drop_pct = (r.shortfall_pct() * 1000.0).round() / 1000.0;
            f.objects_lost = r.shortfall_objects().map(|o| o.round() as u64);
            f.severity =
                if f.drop_pct >= 10.0 || f.objects_lost.unwrap_or(0) >= 10_000 || shortfall >= 1e12
                {
                    Severity::Critical
                } else {
                    Severity::High
                };
            record(&mut f);
            // the other drops of the source in the window are part of the move
            findings
                .retain(|g| !(g.key == source.key && g.start_ts >= w.start && g.start_ts <= w.end));
            findings.push(f);
        } else {
            if !r.open && r.left_bytes > 0.0 {
                // one record for the whole move (a move spread over nights is
                // one move, whatever the engine saw night by night), from
                // its first night
                let p_value = inside.first().map(|&i| findings[i].p_value);
                findings.retain(|g| {
                    !(g.key == source.key && g.start_ts >= w.start && g.start_ts <= w.end)
                });
                let mut f = new_finding(&source, &r, detected_at, &w.reason, Kind::Moved);
                f.severity = Severity::Info;
                f.exceeded_plan = false;
                f.drop_bytes = r.left_bytes.round() as i64;
                f.drop_pct =
                    (100.0 * r.left_bytes / r.before_bytes.max(1.0) * 1000.0).round() / 1000.0;
                f.objects_lost = r.left_objects.map(|o| o.round() as u64);
                f.p_value = p_value.unwrap_or(f.p_value);
                record(&mut f);
                findings.push(f);
                continue;
            }
            for &i in &inside {
                let f = &mut findings[i];
                if matches!(f.kind, Kind::Loss | Kind::Planned) && !r.open {
                    // everything that left arrived: a move, not a loss
                    f.kind = Kind::Moved;
                    f.exceeded_plan = false;
                    f.severity = Severity::Info;
                }
                record(f);
            }
        }
    }
}

/// A finding for a move the engine saw no single drop for (a move spread
/// over days, each night's part within the plan): the whole window, from the
/// source's first reading in it to its last.
fn new_finding(
    source: &Series,
    r: &Reconciled,
    detected_at: &str,
    reason: &str,
    kind: Kind,
) -> Finding {
    let date_only = source.times.iter().all(|t| t % 86_400 == 0);
    let at = |i: usize| timestamp::format(source.times[i], date_only);
    // it starts with the source's first substantial fall in the window (a
    // window is often opened days before the first night's move)
    let start = (r.before_idx + 1..=r.end_idx)
        .find(|&i| source.bytes[i - 1] - source.bytes[i] >= 0.05 * r.left_bytes)
        .unwrap_or(r.before_idx + 1);
    Finding {
        key: source.key.to_vec(),
        start_ts: source.times[start],
        end_ts: source.times[r.end_idx],
        before_ts: source.times[r.before_idx],
        recovered_ts: None,
        // where it sits in the series (a reconciliation has no expected
        // path of its own: its chart is the move chart)
        trace: Some(crate::findings::Trace {
            series: source.index,
            start_idx: start,
            end_idx: r.end_idx,
            expected_step_log: 0.0,
            step_sigma_log: 0.0,
        }),
        kind,
        start: at(start),
        end: at(r.end_idx),
        detected_at: detected_at.to_string(),
        before_bytes: r.before_bytes as u64,
        after_bytes: source.bytes[r.end_idx].max(0.0) as u64,
        drop_bytes: 0,
        drop_pct: 0.0,
        objects_lost: None,
        p_value: 0.0,
        severity: Severity::High,
        planned_reason: reason.to_string(),
        chart: String::new(),
        status: crate::findings::Status::New,
        change: String::new(),
        excess_pct: 0.0,
        z_score: 0.0,
        exceeded_plan: true,
        recovered_at: String::new(),
        samples_after: source.times.len().saturating_sub(r.end_idx + 1),
        before_at: at(r.before_idx),
        interval_secs: 86_400,
        moved_to: String::new(),
        arrived_bytes: None,
        arrived_objects: None,
        shortfall_bytes: None,
        shortfall_objects: None,
        set_aside_bytes: None,
        inventory: None,
    }
}
