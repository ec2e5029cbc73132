//! Per-day summary of series sampled more often than daily, so that a verdict
//! depends on time and never on the sampling cadence.
//!
//! A series with two or more readings in some UTC day is summarised as one
//! reading per day: the day's **minimum** (a zero reading at 03:00 that is back
//! at 04:00 becomes a one-day dip; a nightly retention purge, hour-of-day
//! patterns and intra-day jitter vanish; a cadence switch daily → hourly in the
//! middle of a history becomes one uniform daily series), stamped at the day's
//! midnight, plus the day's **last** reading (used to judge recovery within the
//! day). The engine runs on the daily series and maps every index back to the
//! raw samples (see `Engine::to_raw` in `mod.rs`). Repeating each reading of a
//! daily series at every hour of its day gives back the daily series, so it
//! gives the same findings. A series with at most one reading per day (daily,
//! weekly) is left as it is.

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// A sub-daily series summarised per UTC day.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Days {
    /// Midnight (UTC) of each day that has readings.
    pub times: Vec<i64>,
    /// The day's smallest reading.
    pub bytes: Vec<f64>,
    /// The day's last reading.
    pub last: Vec<f64>,
    /// Objects at the day's smallest reading (NaN = unknown).
    pub objects: Option<Vec<f64>>,
    /// Raw index of each day's first reading, then the number of readings.
    pub first: Vec<usize>,
    /// Raw index of each day's smallest reading (the first, on a tie).
    pub min_idx: Vec<usize>,
}

impl Days {
    /// Number of days (`times`, `bytes` and `objects` may have been taken).
    pub fn len(&self) -> usize {
        self.min_idx.len()
    }

    /// True when there is no day.
    pub fn is_empty(&self) -> bool {
        self.min_idx.is_empty()
    }

    /// Days whose first reading is among the first `n_raw` readings.
    pub fn days_visible(&self, n_raw: usize) -> usize {
        self.first[..self.len()].partition_point(|&f| f < n_raw)
    }
}

/// Summarises `times` (strictly increasing seconds), `bytes` and `objects`
/// per UTC day, or `None` when no day has two readings (nothing to summarise).
pub fn summarise(times: &[i64], bytes: &[f64], objects: Option<&[f64]>) -> Option<Days> {
    let n = times.len().min(bytes.len());
    if !(1..n).any(|i| times[i].div_euclid(DAY) == times[i - 1].div_euclid(DAY)) {
        return None;
    }
    let cap = n / 8 + 2;
    let mut d = Days {
        times: Vec::with_capacity(cap),
        bytes: Vec::with_capacity(cap),
        last: Vec::with_capacity(cap),
        objects: objects.map(|_| Vec::with_capacity(cap)),
        first: Vec::with_capacity(cap + 1),
        min_idx: Vec::with_capacity(cap),
    };
    let mut i = 0;
    while i < n {
        let day = times[i].div_euclid(DAY);
        let end = (day + 1) * DAY;
        let start = i;
        let (mut mi, mut mv) = (i, bytes[i]);
        i += 1;
        while i < n && times[i] < end {
            if bytes[i] < mv {
                mv = bytes[i];
                mi = i;
            }
            i += 1;
        }
        d.times.push(day * DAY);
        d.bytes.push(mv);
        d.last.push(bytes[i - 1]);
        d.first.push(start);
        d.min_idx.push(mi);
        if let (Some(o), Some(out)) = (objects, d.objects.as_mut()) {
            out.push(o.get(mi).copied().unwrap_or(f64::NAN));
        }
    }
    d.first.push(n);
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_series_is_left_alone_and_hourly_is_summarised() {
        let daily: Vec<i64> = (0..10).map(|d| d * DAY + 3600).collect();
        assert!(summarise(&daily, &[1.0; 10], None).is_none());
        let hourly: Vec<i64> = (0..72).map(|h| h * 3600).collect();
        let mut v: Vec<f64> = (0..72).map(|h| 100.0 + h as f64).collect();
        v[27] = 0.0; // a zero reading at 03:00 on day 1
        let d = summarise(&hourly, &v, Some(&v)).unwrap();
        assert_eq!(d.times, vec![0, DAY, 2 * DAY]);
        assert_eq!(d.bytes, vec![100.0, 0.0, 148.0]);
        assert_eq!(d.last, vec![123.0, 147.0, 171.0]);
        assert_eq!(d.first, vec![0, 24, 48, 72]);
        assert_eq!(d.min_idx, vec![0, 27, 48]);
        assert_eq!(d.objects.as_ref().unwrap()[1], 0.0);
        assert_eq!(d.days_visible(24), 1);
        assert_eq!(d.days_visible(25), 2);
    }
}
