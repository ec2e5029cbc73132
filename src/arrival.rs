//! What a migration brought into a store, set aside so that the store's own
//! data is judged too. A store that receives an archive many times its own
//! size hides its own losses in percentages of the total: 43 GB gone from a
//! custody store of 0.69 TB is 6 % of its records, but 0.05 % of the 88 TB
//! it holds after an email archive moved in. For such a store (what arrived
//! at least as much as it held before the move) the engine also reads the
//! series with the arrival subtracted: flat at its level before the move
//! while the data arrives, then its readings less what arrived
//! ([`own_values`]). A reduction found only that way is reported with its
//! share of the store's own data and the bytes set aside (`set_aside_bytes`,
//! README "Migrations"). The arrival is measured once, on the readings just
//! before the window and at its end (or the first reading up to a week
//! after it), so the same readings give the same arrival whichever nights
//! are read; an incremental run that no longer reads them takes it from the
//! state (`SeriesSig::arrivals`).

use crate::ingest::series::Series;
use serde::{Deserialize, Serialize};

/// Longest wait after a window's end for a target's first reading.
pub const LATE_DAYS: i64 = 7;

/// What one move brought into one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Arrival {
    /// Key of the source store.
    pub source: Vec<String>,
    /// The move's window (first and last second).
    pub start: i64,
    /// See `start`.
    pub end: i64,
    /// Time of the target's last reading before the window.
    pub from: i64,
    /// Time of the reading the arrival is measured at.
    pub until: i64,
    /// The target's bytes before the window.
    pub base_bytes: f64,
    /// Bytes that arrived.
    pub bytes: f64,
    /// The target's objects before the window, when counted.
    pub base_objects: Option<f64>,
    /// Objects that arrived, when counted.
    pub objects: Option<f64>,
}

impl Arrival {
    /// The same move (source and window), whatever was measured.
    pub fn same_move(&self, source: &[String], start: i64, end: i64) -> bool {
        self.source == source && self.start == start && self.end == end
    }

    /// What is set aside of a reading `v` (bytes, or objects) at time `t`:
    /// nothing before the window, what has arrived so far (`v` above the
    /// level before, at most the arrival) until it is measured, the whole
    /// arrival after.
    fn aside(&self, t: i64, v: f64, objects: bool) -> f64 {
        let (base, amount) = if objects {
            match (self.base_objects, self.objects) {
                (Some(b), Some(a)) => (b, a),
                _ => return 0.0,
            }
        } else {
            (self.base_bytes, self.bytes)
        };
        if t <= self.from {
            0.0
        } else if t < self.until {
            (v - base).clamp(0.0, amount)
        } else {
            amount
        }
    }
}

/// Last index with a time before `t`.
fn last_before(times: &[i64], t: i64) -> Option<usize> {
    times.partition_point(|&x| x < t).checked_sub(1)
}

/// The reading a window's arrival is measured at: the last at or before its
/// end, or (a target measured late) the first up to [`LATE_DAYS`] after it;
/// `None` when there is none after the reading `b` before the window.
pub fn measured_at(times: &[i64], b: usize, end: i64) -> Option<usize> {
    match times.partition_point(|&x| x <= end).checked_sub(1) {
        Some(a) if a > b => Some(a),
        _ => {
            let i = times.partition_point(|&x| x <= end);
            (i < times.len() && times[i] <= end + LATE_DAYS * 86_400).then_some(i)
        }
    }
}

/// What the move `[start, end]` from `source` brought into `target`, when
/// it is at least what the target held before (else the target's own
/// losses still show in its total, and nothing is set aside); `None` also
/// when the target has no reading before the window or none to measure at.
pub fn measure(target: &Series, source: &[String], start: i64, end: i64) -> Option<Arrival> {
    let times = target.times;
    let b = last_before(times, start)?;
    let a = measured_at(times, b, end)?;
    let (vb, va) = (target.bytes[b], target.bytes[a]);
    if !(vb.is_finite() && va.is_finite() && vb > 0.0 && va - vb >= vb) {
        return None;
    }
    let (base_objects, objects) = match target.objects {
        Some(o) if o[b].is_finite() && o[a].is_finite() => {
            (Some(o[b]), Some((o[a] - o[b]).max(0.0)))
        }
        _ => (None, None),
    };
    Some(Arrival {
        source: source.to_vec(),
        start,
        end,
        from: times[b],
        until: times[a],
        base_bytes: vb,
        bytes: va - vb,
        base_objects,
        objects,
    })
}

/// What is set aside of the reading `i` of a series (bytes, or objects).
pub fn aside(times: &[i64], values: &[f64], i: usize, arrivals: &[Arrival], objects: bool) -> f64 {
    arrivals
        .iter()
        .map(|a| a.aside(times[i], values[i], objects))
        .sum()
}

/// A series' values with its arrivals set aside; a reading left with
/// nothing of its own (the arrival itself shrank) is unknown (NaN), which
/// the engine skips: the total's own judgement sees such a loss.
pub fn own_values(times: &[i64], values: &[f64], arrivals: &[Arrival], objects: bool) -> Vec<f64> {
    (0..values.len().min(times.len()))
        .map(|i| {
            let v = values[i] - aside(times, values, i, arrivals, objects);
            if v > 0.0 {
                v
            } else {
                f64::NAN
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: i64 = 86_400;

    fn arrival() -> Arrival {
        Arrival {
            source: vec!["F".into(), "Email".into()],
            start: 10 * D,
            end: 11 * D,
            from: 9 * D,
            until: 11 * D,
            base_bytes: 100.0,
            bytes: 1000.0,
            base_objects: None,
            objects: None,
        }
    }

    #[test]
    fn the_store_reads_flat_while_data_arrives_then_less_the_arrival() {
        let times: Vec<i64> = (8..14).map(|d| d * D).collect();
        let bytes = [99.0, 100.0, 600.0, 1101.0, 1102.0, 1050.0];
        let own = own_values(&times, &bytes, &[arrival()], false);
        assert_eq!(own, vec![99.0, 100.0, 100.0, 101.0, 102.0, 50.0]);
        // objects are not counted by this arrival: nothing set aside
        assert_eq!(own_values(&times, &bytes, &[arrival()], true), bytes);
    }

    #[test]
    fn a_reading_below_the_arrival_has_nothing_of_its_own() {
        let times = [9 * D, 12 * D];
        let own = own_values(&times, &[100.0, 900.0], &[arrival()], false);
        assert_eq!(own[0], 100.0);
        assert!(own[1].is_nan());
    }

    #[test]
    fn only_an_arrival_at_least_the_size_of_the_store_is_set_aside() {
        let key = vec!["F".to_string(), "Custody".to_string()];
        let times: Vec<i64> = (8..14).map(|d| d * D).collect();
        let big = [100.0, 100.0, 600.0, 1100.0, 1101.0, 1102.0];
        let s = Series {
            index: 0,
            key: &key,
            times: &times,
            bytes: &big,
            objects: None,
        };
        let a = measure(&s, &["F".into(), "Email".into()], 10 * D, 11 * D).unwrap();
        assert_eq!(
            (a.from, a.until, a.base_bytes, a.bytes),
            (9 * D, 11 * D, 100.0, 1000.0)
        );
        let small = [100.0, 100.0, 150.0, 199.0, 199.0, 200.0];
        let s = Series { bytes: &small, ..s };
        assert_eq!(
            measure(&s, &["F".into(), "Email".into()], 10 * D, 11 * D),
            None
        );
    }
}
