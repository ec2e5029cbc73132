//! The normal behaviour of a series just before a point in time: a robust,
//! weekday-aware model of its sample-to-sample change.
//!
//! Method: over a trailing window (`baseline`) of log-changes
//! `c_j = ln v_j − ln v_{j−1}`, leaving out changes across gaps and
//! changes that belong to earlier incidents, the expected change of a slot of
//! the week (weekday for daily data; hour-of-week for sub-daily data) is the
//! median of that slot's changes, and the noise is the MAD of the residuals
//! around those medians (the larger of the pooled and the slot's own MAD, so a
//! weekday with a routine job that varies from week to week is judged by its
//! own spread). A slot with fewer than [`MIN_PER_SLOT`] changes falls back to
//! the pooled median. When the last two weeks fell faster than the window's
//! median (a slow decline under way), every expectation is lowered by the
//! difference, so a decline is not mistaken for a sudden drop.

use super::stats::{median_in_place, robust_scale};

/// Fewest changes a slot of the week needs before it gets its own median.
pub const MIN_PER_SLOT: usize = 4;
/// Fewest recent changes needed to estimate the recent trend.
pub const MIN_RECENT: usize = 5;
/// Days that count as "recent" for the trend.
pub const RECENT_DAYS: i64 = 14;
/// Smallest noise scale in log units, so that a perfectly constant series
/// still gives finite test statistics (any real drop is then significant).
pub const SIGMA_FLOOR: f64 = 1e-9;

const WEEK_SECS: i64 = 7 * 86_400;
/// 1970-01-05 was a Monday.
const MONDAY_EPOCH: i64 = 4 * 86_400;

/// How a series' time axis is laid out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cadence {
    /// The usual interval between samples, in seconds (median gap).
    pub step: i64,
    /// Slots in a week (1 when the weekly pattern is not modelled).
    pub slots: usize,
}

impl Cadence {
    /// Infers the interval as the median positive difference of `times`.
    pub fn infer(times: &[i64], weekly: bool) -> Cadence {
        let mut diffs: Vec<f64> = times
            .windows(2)
            .map(|w| (w[1] - w[0]) as f64)
            .filter(|d| *d > 0.0)
            .collect();
        let step = median_in_place(&mut diffs)
            .map(|m| m.round() as i64)
            .unwrap_or(86_400)
            .max(1);
        let slots = if weekly && step <= 86_400 && WEEK_SECS % step == 0 {
            (WEEK_SECS / step) as usize
        } else {
            1
        };
        Cadence { step, slots }
    }

    /// Slot of the week of a timestamp.
    pub fn slot(&self, t: i64) -> usize {
        if self.slots <= 1 {
            return 0;
        }
        let s = (t - MONDAY_EPOCH).rem_euclid(WEEK_SECS) / self.step;
        (s as usize) % self.slots
    }

    /// How many intervals a difference in time spans (at least 1).
    pub fn intervals(&self, dt: i64) -> usize {
        ((dt as f64 / self.step as f64).round() as i64).max(1) as usize
    }
}

/// Buffers [`Baseline::fit`] reuses from one call to the next.
#[derive(Debug, Default)]
pub struct FitScratch {
    all: Vec<f64>,
    flat: Vec<f64>,
    start: Vec<usize>,
    pos: Vec<usize>,
    resid: Vec<f64>,
    tmp: Vec<f64>,
}

/// Expected change and noise of each slot of the week.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    /// Median of all usable changes (log units per interval).
    pub pooled_median: f64,
    /// Robust σ of residuals around the slot medians, pooled.
    pub pooled_sigma: f64,
    /// Expected change per slot.
    pub slot_median: Vec<f64>,
    /// Noise per slot (never below the pooled σ).
    pub slot_sigma: Vec<f64>,
    /// Changes per slot.
    pub slot_count: Vec<usize>,
    /// How much faster than usual the series has been falling lately
    /// (recent median change minus pooled median, ≤ 0): a slow decline under
    /// way lowers every slot's expectation by this much.
    pub recent_shift: f64,
    /// Most negative standardised residual in the window: how bad a normal
    /// day got lately (heavy-tailed series have large ones).
    pub worst_z: f64,
    /// Number of changes the baseline was learned from.
    pub n: usize,
}

impl Baseline {
    /// Learns a baseline from `(slot, change)` pairs; `recent` holds the
    /// changes of the last couple of weeks. `None` when empty. `s` holds
    /// buffers reused between calls.
    pub fn fit(
        pairs: &[(usize, f64)],
        recent: &mut [f64],
        slots: usize,
        s: &mut FitScratch,
    ) -> Option<Baseline> {
        if pairs.is_empty() {
            return None;
        }
        s.all.clear();
        s.all.extend(pairs.iter().map(|p| p.1));
        let pooled_median = median_in_place(&mut s.all)?;
        let mut slot_median = vec![pooled_median; slots];
        let mut slot_count = vec![0; slots];
        for &(sl, _) in pairs {
            slot_count[sl] += 1;
        }
        // Each slot's changes, contiguous in `flat` (in the order given).
        s.start.clear();
        s.start.push(0);
        let mut next = 0;
        for &count in &slot_count {
            next += count;
            s.start.push(next);
        }
        if slots > 1 {
            s.pos.clear();
            s.pos.extend_from_slice(&s.start[..slots]);
            s.flat.clear();
            s.flat.resize(pairs.len(), 0.0);
            for &(sl, c) in pairs {
                s.flat[s.pos[sl]] = c;
                s.pos[sl] += 1;
            }
            for sl in 0..slots {
                if slot_count[sl] >= MIN_PER_SLOT {
                    let vals = &mut s.flat[s.start[sl]..s.start[sl + 1]];
                    slot_median[sl] = median_in_place(vals).unwrap_or(pooled_median);
                }
            }
        }
        s.resid.clear();
        s.resid
            .extend(pairs.iter().map(|&(sl, c)| c - slot_median[sl]));
        let pooled_sigma = robust_scale(&s.resid, 0.0, &mut s.tmp).max(SIGMA_FLOOR);
        let mut slot_sigma = vec![pooled_sigma; slots];
        if slots > 1 {
            for sl in 0..slots {
                if slot_count[sl] >= MIN_PER_SLOT {
                    let vals = &s.flat[s.start[sl]..s.start[sl + 1]];
                    let own = robust_scale(vals, slot_median[sl], &mut s.tmp);
                    slot_sigma[sl] = own.max(pooled_sigma);
                }
            }
        }
        let recent_shift = if recent.len() >= MIN_RECENT {
            median_in_place(recent).map_or(0.0, |m| (m - pooled_median).min(0.0))
        } else {
            0.0
        };
        let worst_z = pairs
            .iter()
            .map(|&(sl, c)| (c - slot_median[sl]) / slot_sigma[sl])
            .fold(0.0, f64::min);

        Some(Baseline {
            pooled_median,
            pooled_sigma,
            slot_median,
            slot_sigma,
            slot_count,
            recent_shift,
            worst_z,
            n: pairs.len(),
        })
    }

    /// Most negative standardised sum of `len` consecutive changes of
    /// `pairs` (the baseline's own, in the order given): how bad a normal run
    /// of `len` days got, for drops that land in several steps.
    pub fn worst_run_z(&self, pairs: &[(usize, f64)], len: usize) -> f64 {
        let mut worst = 0.0f64;
        for win in pairs.windows(len.max(1)) {
            let (mut num, mut var) = (0.0, 0.0);
            for &(sl, c) in win {
                num += c - self.slot_median[sl];
                var += self.slot_sigma[sl].powi(2);
            }
            worst = worst.min(num / var.sqrt());
        }
        worst
    }

    /// Expected change and its variance for a change that spans `intervals`
    /// intervals and ends in slot `end_slot` (a change across a gap is
    /// compared with the sum of the skipped slots' expectations).
    pub fn expect(&self, end_slot: usize, intervals: usize) -> (f64, f64) {
        let slots = self.slot_median.len();
        let mut mean = 0.0;
        let mut var = 0.0;
        let k = intervals.max(1);
        if slots == 1 {
            return (
                (self.slot_median[0] + self.recent_shift) * k as f64,
                self.slot_sigma[0].powi(2) * k as f64,
            );
        }
        for back in 0..k {
            let s = (end_slot + slots - back % slots) % slots;
            mean += self.slot_median[s] + self.recent_shift;
            var += self.slot_sigma[s].powi(2);
        }
        (mean, var)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cadence_daily_and_six_hourly() {
        let day: Vec<i64> = (0..30).map(|d| 19_000 * 86_400 + d * 86_400).collect();
        let c = Cadence::infer(&day, true);
        assert_eq!(
            c,
            Cadence {
                step: 86_400,
                slots: 7
            }
        );
        // 1970-01-05 (Monday) is slot 0, the Sunday after is slot 6
        assert_eq!(c.slot(MONDAY_EPOCH), 0);
        assert_eq!(c.slot(MONDAY_EPOCH + 6 * 86_400 + 3600), 6);
        let q: Vec<i64> = (0..30).map(|d| d * 21_600).collect();
        assert_eq!(Cadence::infer(&q, true).slots, 28);
        assert_eq!(Cadence::infer(&q, false).slots, 1);
        // a single point has no interval: daily is assumed
        assert_eq!(Cadence::infer(&[5], true).step, 86_400);
        assert_eq!(c.intervals(3 * 86_400 + 10), 3);
        assert_eq!(c.intervals(1), 1);
    }

    #[test]
    fn weekday_job_is_learned_and_gap_sums_slots() {
        // slot 0 (Monday) always −2 %, other days +0.3 %, 12 weeks
        let mut pairs = Vec::new();
        for w in 0..12 {
            for s in 0..7 {
                let jitter = ((w * 7 + s) % 5) as f64 * 1e-5;
                pairs.push((s, if s == 0 { -0.02 } else { 0.003 } + jitter));
            }
        }
        let mut scratch = FitScratch::default();
        let b = Baseline::fit(&pairs, &mut [], 7, &mut scratch).unwrap();
        assert!((b.slot_median[0] + 0.02).abs() < 1e-4);
        assert!((b.slot_median[3] - 0.003).abs() < 1e-4);
        let (m, v) = b.expect(1, 2); // Monday + Tuesday
        assert!((m - (-0.02 + 0.003)).abs() < 2e-4);
        assert!(v > 0.0);
        assert!(Baseline::fit(&[], &mut [], 7, &mut scratch).is_none());
    }

    #[test]
    fn constant_series_has_floor_sigma() {
        let pairs: Vec<(usize, f64)> = (0..20).map(|i| (i % 7, 0.0)).collect();
        let b = Baseline::fit(&pairs, &mut [], 7, &mut FitScratch::default()).unwrap();
        assert_eq!(b.pooled_sigma, SIGMA_FLOOR);
    }
}
