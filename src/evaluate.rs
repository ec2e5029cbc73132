//! Scoring findings against labels (SPEC `evaluate`): a finding matches a
//! label of the same series and kind whose first reduced sample is within
//! ±2 samples or ±2 days (whichever is wider: the same margin in time at
//! every cadence) of the finding's start, one-to-one (closest in time first).
//! Unmatched findings are false alarms, attributed to what they sat on (a
//! label of another kind whose span, ±margin, contains them, or nothing).
//! A naive rule, "the value fell ≥ 1 % since the previous sample", is scored
//! the same way beside it.

use crate::findings::Finding;
use crate::ingest::SeriesSet;
use crate::labels::Label;
use serde::Serialize;
use std::collections::BTreeMap;

/// Kinds that are findings.
pub const FINDING_KINDS: &[&str] = &["loss", "transient", "planned", "moved"];

/// A reported event, reduced to what matching needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Pred {
    /// Series index.
    pub series: usize,
    /// Kind as a string.
    pub kind: String,
    /// First reduced sample.
    pub start_idx: usize,
    /// Last sample of the drop.
    pub end_idx: usize,
}

impl Pred {
    /// The prediction a finding of this run's engine makes (a finding read
    /// back from a file, with no [`crate::findings::Trace`], makes none).
    pub fn of(f: &Finding) -> Option<Pred> {
        f.trace.as_ref().map(|t| Pred {
            series: t.series,
            kind: f.kind.as_str().to_string(),
            start_idx: t.start_idx,
            end_idx: t.end_idx,
        })
    }
}

/// Scores for one kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KindScore {
    /// Labels of this kind.
    pub labelled: usize,
    /// Findings of this kind.
    pub reported: usize,
    /// Matched pairs.
    pub matched: usize,
    /// matched / reported (1 when nothing was reported).
    pub precision: f64,
    /// matched / labelled (1 when nothing was labelled).
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Mean samples from the labelled start to the end of the reported drop.
    pub mean_delay_samples: f64,
    /// Largest such delay.
    pub max_delay_samples: usize,
    /// Unmatched findings of this kind, by what they sat on.
    pub false_alarms_on: BTreeMap<String, usize>,
    /// Labels of this kind found as another kind (or not at all).
    pub labels_found_as: BTreeMap<String, usize>,
}

/// The whole evaluation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Evaluation {
    /// Per kind (`loss`, `transient`, `planned`).
    pub kinds: BTreeMap<String, KindScore>,
    /// All three kinds together (micro-averaged).
    pub overall: KindScore,
    /// Loss findings per series-year that match no labelled loss.
    pub false_losses_per_series_year: f64,
    /// Series-years of data scored.
    pub series_years: f64,
    /// Labels naming a series the input does not have.
    pub unknown_series_labels: usize,
}

/// Matching margin in samples (SPEC: ±2).
pub const MARGIN: usize = 2;

/// The same margin in time: ±2 samples of a daily series are ±2 days, and a
/// finding within 2 days of its label matches at any cadence (at hourly or
/// 5-minute cadence ±2 samples would be ±2 hours or ±10 minutes: the score
/// would change with the sampling, not with the verdict).
pub const MARGIN_SECS: i64 = 2 * 86_400;

/// True when samples `i` and `j` of a series are within the margin: ±2
/// samples or ±2 days, whichever is wider.
pub fn near(times: &[i64], i: usize, j: usize) -> bool {
    i.abs_diff(j) <= MARGIN
        || match (times.get(i), times.get(j)) {
            (Some(a), Some(b)) => (a - b).abs() <= MARGIN_SECS,
            _ => false,
        }
}

/// Sample `i` is within the margin of the span `a..=b`.
fn near_span(times: &[i64], i: usize, a: usize, b: usize) -> bool {
    (a..=b).contains(&i) || near(times, i, a) || near(times, i, b)
}

fn label_index(set: &SeriesSet, labels: &[Label]) -> (Vec<(usize, usize, usize, String)>, usize) {
    let mut out = Vec::new();
    let mut unknown = 0;
    let mut index: std::collections::HashMap<&[String], usize> = std::collections::HashMap::new();
    for (i, k) in set.keys.iter().enumerate() {
        index.insert(k.as_slice(), i);
    }
    for l in labels {
        let Some(&s) = index.get(l.key.as_slice()) else {
            unknown += 1;
            continue;
        };
        let t = set.get(s).times;
        let a = t.partition_point(|&x| x < l.ts);
        if a >= t.len() {
            continue;
        }
        let b = t.partition_point(|&x| x <= l.end).saturating_sub(1).max(a);
        out.push((s, a, b, l.kind.clone()));
    }
    (out, unknown)
}

/// Scores `preds` against `labels`.
pub fn evaluate(set: &SeriesSet, preds: &[Pred], labels: &[Label]) -> Evaluation {
    evaluate_in(set, preds, labels, &vec![true; set.len()])
}

/// Scores only the series `i` with `keep[i]` (e.g. a tuning or held-out part).
pub fn evaluate_in(set: &SeriesSet, preds: &[Pred], labels: &[Label], keep: &[bool]) -> Evaluation {
    let (mut labs, unknown) = label_index(set, labels);
    labs.retain(|l| keep[l.0]);
    let kept: Vec<Pred> = preds.iter().filter(|p| keep[p.series]).cloned().collect();
    let preds = &kept[..];
    let mut ev = Evaluation {
        unknown_series_labels: unknown,
        ..Default::default()
    };
    let mut pred_matched = vec![false; preds.len()];
    let mut label_match: Vec<Option<usize>> = vec![None; labs.len()];
    // Candidate pairs of the same series and kind within the margin, closest first.
    let mut pairs: Vec<(usize, usize, usize)> = Vec::new();
    // Findings by series, so matching is linear in the data, not quadratic.
    let mut by_series: std::collections::HashMap<usize, Vec<usize>> =
        std::collections::HashMap::new();
    for (pi, p) in preds.iter().enumerate() {
        by_series.entry(p.series).or_default().push(pi);
    }
    let mut labels_by_series: std::collections::HashMap<usize, Vec<usize>> =
        std::collections::HashMap::new();
    for (li, l) in labs.iter().enumerate() {
        labels_by_series.entry(l.0).or_default().push(li);
    }
    let none = Vec::new();
    for (li, l) in labs.iter().enumerate() {
        for &pi in by_series.get(&l.0).unwrap_or(&none) {
            let p = &preds[pi];
            let t = set.get(l.0).times;
            if p.kind == l.3 && near(t, p.start_idx, l.1) {
                let gap = match (t.get(p.start_idx), t.get(l.1)) {
                    (Some(a), Some(b)) => a.abs_diff(*b) as usize,
                    _ => usize::MAX,
                };
                pairs.push((gap, li, pi));
            }
        }
    }
    pairs.sort_unstable();
    for (_, li, pi) in pairs {
        if label_match[li].is_none() && !pred_matched[pi] {
            label_match[li] = Some(pi);
            pred_matched[pi] = true;
        }
    }
    let mut overall = KindScore::default();
    let mut delays_all = Vec::new();
    for kind in FINDING_KINDS {
        let mut ks = KindScore {
            labelled: labs.iter().filter(|l| l.3 == *kind).count(),
            reported: preds.iter().filter(|p| p.kind == *kind).count(),
            ..Default::default()
        };
        let mut delays = Vec::new();
        for (li, l) in labs.iter().enumerate() {
            if l.3 != *kind {
                continue;
            }
            match label_match[li] {
                Some(pi) => {
                    ks.matched += 1;
                    delays.push(preds[pi].end_idx.saturating_sub(l.1));
                }
                None => {
                    // found as something else nearby?
                    let other = by_series
                        .get(&l.0)
                        .unwrap_or(&none)
                        .iter()
                        .map(|&pi| &preds[pi])
                        .find(|p| near(set.get(l.0).times, p.start_idx, l.1));
                    *ks.labels_found_as
                        .entry(other.map_or("missed".to_string(), |p| p.kind.clone()))
                        .or_default() += 1;
                }
            }
        }
        for (pi, p) in preds.iter().enumerate() {
            if p.kind != *kind || pred_matched[pi] {
                continue;
            }
            let on = labels_by_series
                .get(&p.series)
                .unwrap_or(&none)
                .iter()
                .map(|&li| &labs[li])
                .find(|l| near_span(set.get(p.series).times, p.start_idx, l.1, l.2))
                .map_or("unlabelled (noise or routine job)".to_string(), |l| {
                    format!("labelled {}", l.3)
                });
            *ks.false_alarms_on.entry(on).or_default() += 1;
        }
        finish(&mut ks, &delays);
        overall.labelled += ks.labelled;
        overall.reported += ks.reported;
        overall.matched += ks.matched;
        for (k, v) in &ks.false_alarms_on {
            *overall
                .false_alarms_on
                .entry(format!("{kind} on {k}"))
                .or_default() += v;
        }
        delays_all.extend(delays);
        ev.kinds.insert(kind.to_string(), ks);
    }
    finish(&mut overall, &delays_all);
    ev.overall = overall;
    ev.series_years = set
        .iter()
        .filter(|s| keep[s.index])
        .map(|s| {
            s.times
                .last()
                .zip(s.times.first())
                .map_or(0.0, |(b, a)| (b - a) as f64 / (365.25 * 86_400.0))
        })
        .sum();
    let false_losses = ev.kinds.get("loss").map_or(0, |k| k.reported - k.matched);
    ev.false_losses_per_series_year = if ev.series_years > 0.0 {
        false_losses as f64 / ev.series_years
    } else {
        0.0
    };
    ev
}

fn finish(ks: &mut KindScore, delays: &[usize]) {
    ks.precision = if ks.reported == 0 {
        1.0
    } else {
        ks.matched as f64 / ks.reported as f64
    };
    ks.recall = if ks.labelled == 0 {
        1.0
    } else {
        ks.matched as f64 / ks.labelled as f64
    };
    ks.f1 = if ks.precision + ks.recall == 0.0 {
        0.0
    } else {
        2.0 * ks.precision * ks.recall / (ks.precision + ks.recall)
    };
    ks.mean_delay_samples = if delays.is_empty() {
        0.0
    } else {
        delays.iter().sum::<usize>() as f64 / delays.len() as f64
    };
    ks.max_delay_samples = delays.iter().copied().max().unwrap_or(0);
}

/// The naive rule: every sample whose value fell by at least `pct` percent
/// since the previous sample is reported as a loss.
pub fn naive_preds(set: &SeriesSet, pct: f64) -> Vec<Pred> {
    let f = 1.0 - pct / 100.0;
    let mut out = Vec::new();
    for s in set.iter() {
        for i in 1..s.bytes.len() {
            if s.bytes[i] <= s.bytes[i - 1] * f {
                out.push(Pred {
                    series: s.index,
                    kind: "loss".into(),
                    start_idx: i,
                    end_idx: i,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::Label;

    /// One series of `n` readings every `step` seconds, a loss labelled at
    /// reading 100 and one finding at reading `at`; true when they match.
    fn matched(step: i64, n: usize, at: usize) -> bool {
        let set = SeriesSet {
            key_names: vec!["system".into()],
            keys: vec![vec!["S".into()]],
            offsets: vec![0, n],
            times: (0..n as i64).map(|i| i * step).collect(),
            bytes: vec![1.0; n],
            objects: vec![f64::NAN; n],
            has_objects: false,
        };
        let label = Label {
            key: vec!["S".into()],
            ts: 100 * step,
            end: 100 * step,
            kind: "loss".into(),
            line: 2,
        };
        let pred = Pred {
            series: 0,
            kind: "loss".into(),
            start_idx: at,
            end_idx: at,
        };
        evaluate(&set, &[pred], &[label]).kinds["loss"].matched == 1
    }

    #[test]
    fn the_margin_is_two_samples_or_two_days_whichever_is_wider() {
        // daily: ±2 samples are ±2 days
        assert!(matched(86_400, 200, 102) && matched(86_400, 200, 98));
        assert!(!matched(86_400, 200, 103) && !matched(86_400, 200, 97));
        // hourly: 30 hours away is the same day-and-a-bit as at daily
        assert!(matched(3_600, 400, 130) && matched(3_600, 400, 148));
        assert!(!matched(3_600, 400, 149) && !matched(3_600, 400, 51));
        // weekly: ±2 samples (two weeks)
        assert!(matched(7 * 86_400, 200, 102) && !matched(7 * 86_400, 200, 103));
    }
}
