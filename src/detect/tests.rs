//! Edge cases of the engine, and its invariants (property tests).

use super::*;
use proptest::prelude::*;

const DAY: i64 = 86_400;
/// 2023-01-02, a Monday.
const T0: i64 = 1_672_617_600;

/// A daily series growing 0.3 % a day on working days, 0.1 % at weekends,
/// with deterministic ±0.05 % wiggle.
fn growing(n: usize) -> (Vec<i64>, Vec<f64>) {
    let mut t = Vec::with_capacity(n);
    let mut v = Vec::with_capacity(n);
    let mut level = 1e12;
    for i in 0..n {
        let weekday = i % 7;
        level *= if weekday < 5 { 1.003 } else { 1.001 };
        let wiggle = 1.0 + 0.0005 * ((i as f64 * 1.7).sin());
        t.push(T0 + i as i64 * DAY);
        v.push(level * wiggle);
    }
    (t, v)
}

fn run(t: &[i64], v: &[f64]) -> Vec<Detection> {
    detect(t, v, None, &[], &DetectParams::default()).detections
}

fn cut(v: &mut [f64], from: usize, frac: f64) {
    for x in &mut v[from..] {
        *x *= 1.0 - frac;
    }
}

#[test]
fn empty_and_single_sample() {
    assert!(run(&[], &[]).is_empty());
    assert!(run(&[T0], &[5.0]).is_empty());
}

#[test]
fn quiet_growth_has_no_findings() {
    let (t, v) = growing(200);
    assert!(run(&t, &v).is_empty());
}

#[test]
fn loss_is_found_with_its_start_and_size() {
    let (t, mut v) = growing(200);
    cut(&mut v, 150, 0.10);
    let d = run(&t, &v);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].kind, Kind::Loss);
    assert_eq!(d[0].start_idx, 150);
    assert_eq!(d[0].end_idx, 150);
    assert!((d[0].drop_pct - 9.8).abs() < 0.5, "{}", d[0].drop_pct);
    assert!(d[0].p_value < 1e-6 && d[0].p_value >= 0.0);
}

#[test]
fn loss_over_three_samples_is_one_incident() {
    let (t, mut v) = growing(200);
    cut(&mut v, 150, 0.05);
    cut(&mut v, 151, 0.08);
    cut(&mut v, 152, 0.03);
    let d = run(&t, &v);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].start_idx, d[0].end_idx), (150, 152));
}

#[test]
fn constant_series_mad_zero() {
    let t: Vec<i64> = (0..100).map(|i| T0 + i * DAY).collect();
    let mut v = vec![5e11; 100];
    assert!(run(&t, &v).is_empty());
    cut(&mut v, 80, 0.02);
    let d = run(&t, &v);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].kind, Kind::Loss);
    assert!(d[0].p_value < 1e-9);
    assert!(d[0].z.is_finite());
}

#[test]
fn zero_reading_that_comes_back_is_transient() {
    let (t, mut v) = growing(200);
    v[120] = 0.0;
    let d = run(&t, &v);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].kind, Kind::Transient);
    assert_eq!(d[0].recovered_idx, Some(121));
    assert!((d[0].drop_pct - 100.0).abs() < 1e-9);
}

#[test]
fn zero_reading_that_stays_is_a_loss() {
    let (t, mut v) = growing(200);
    for x in &mut v[190..] {
        *x = 0.0;
    }
    let d = run(&t, &v);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].kind, Kind::Loss);
}

#[test]
fn all_zero_series_has_no_findings() {
    let t: Vec<i64> = (0..50).map(|i| T0 + i * DAY).collect();
    assert!(run(&t, &[0.0; 50]).is_empty());
}

#[test]
fn loss_in_first_sample_cannot_be_judged_and_last_sample_is_flagged() {
    let (t, mut v) = growing(120);
    v[0] *= 2.0; // the first change is a big drop, but there is no history
    assert!(run(&t, &v).is_empty());
    let (t, mut v) = growing(120);
    cut(&mut v, 119, 0.2);
    let d = run(&t, &v);
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0].kind, d[0].start_idx, d[0].samples_after),
        (Kind::Loss, 119, 0)
    );
}

#[test]
fn loss_across_a_gap_is_bridged() {
    let (mut t, mut v) = growing(200);
    cut(&mut v, 150, 0.15);
    // samples 145..=152 missing: the drop is seen across the gap
    t.drain(145..153);
    v.drain(145..153);
    let d = run(&t, &v);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].kind, Kind::Loss);
    assert_eq!(t[d[0].start_idx], T0 + 153 * DAY);
}

#[test]
fn a_gap_alone_is_not_a_drop() {
    let (mut t, mut v) = growing(200);
    t.drain(100..130);
    v.drain(100..130);
    assert!(run(&t, &v).is_empty());
}

#[test]
fn all_gaps_irregular_sampling() {
    // every sample 3-9 days apart: no regular interval, still no panic and no finding
    let mut t = vec![T0];
    for i in 1..60 {
        t.push(t[i - 1] + DAY * (3 + (i as i64 * 7) % 7));
    }
    let v: Vec<f64> = (0..60).map(|i| 1e9 * (1.0 + 0.01 * i as f64)).collect();
    assert!(run(&t, &v).is_empty());
}

#[test]
fn weekly_job_is_normal_but_a_loss_on_that_weekday_is_not() {
    let (t, mut v) = growing(200);
    for i in (6..200).step_by(7) {
        cut(&mut v, i, 0.02); // every Sunday a routine job removes 2 %
    }
    assert!(run(&t, &v).is_empty(), "{:?}", run(&t, &v));
    cut(&mut v, 160, 0.05); // Sunday 160 loses 5 % more
    let d = run(&t, &v);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].start_idx, 160);
}

#[test]
fn planned_window_explains_its_size_and_not_more() {
    let (t, mut v) = growing(200);
    cut(&mut v, 150, 0.10);
    let w = |exp: Option<f64>| {
        vec![PlanWindow {
            start: t[148],
            end: t[152],
            expected_drop_pct: exp,
            reason: "disposal".into(),
        }]
    };
    let p = DetectParams::default();
    assert_eq!(
        detect(&t, &v, None, &w(Some(10.0)), &p).detections[0].kind,
        Kind::Planned
    );
    assert_eq!(
        detect(&t, &v, None, &w(None), &p).detections[0].kind,
        Kind::Planned
    );
    let d = detect(&t, &v, None, &w(Some(0.0)), &p).detections;
    assert_eq!(d[0].kind, Kind::Loss);
    assert!(d[0].exceeded_plan);
    assert_eq!(d[0].plan, Some(0));
}

#[test]
fn objects_lost_are_net_of_normal_growth() {
    let (t, mut v) = growing(200);
    let mut o: Vec<f64> = (0..200).map(|i| 1_000_000.0 + 500.0 * i as f64).collect();
    cut(&mut v, 150, 0.05);
    for x in &mut o[150..] {
        *x -= 50_000.0;
    }
    let d = detect(&t, &v, Some(&o), &[], &DetectParams::default()).detections;
    assert_eq!(d[0].objects_lost, Some(50_000.0));
}

#[test]
fn slow_decline_is_not_a_finding() {
    let (t, mut v) = growing(300);
    // 15 % over 90 days, smoothly
    for (k, i) in (150..240).enumerate() {
        let rate = 0.15 / 90.0 * (1.0 - (std::f64::consts::TAU * k as f64 / 90.0).cos());
        cut(&mut v, i, rate);
    }
    assert!(run(&t, &v).is_empty(), "{:?}", run(&t, &v));
}

/// A series growing until day 130, then falling about 0.5 % a day (a slow
/// decline, for less than half the baseline window), with the readings of
/// days `gap` missing (a collector down).
fn declining_with_gap(gap: std::ops::Range<usize>) -> (Vec<i64>, Vec<f64>) {
    let (mut t, mut v) = growing(200);
    for i in 130..200 {
        cut(&mut v, i, 0.007); // undo the growth and fall
    }
    t.drain(gap.clone());
    v.drain(gap);
    (t, v)
}

/// A decline under way when the collector stopped is still under way when
/// it comes back: the fall across a 9-day gap is what the last two weeks
/// of readings before the gap predict, no loss (the recent trend used to be
/// measured back from the first reading after the gap, which left too few
/// readings to see the decline).
#[test]
fn a_slow_decline_across_a_gap_is_not_a_finding() {
    let (t, v) = declining_with_gap(160..169);
    let d = run(&t, &v);
    assert!(
        d.iter().all(|x| x.kind != Kind::Loss),
        "{:?}",
        d.iter()
            .map(|x| (t[x.start_idx], x.drop_pct))
            .collect::<Vec<_>>()
    );
    // the same gap with 5 % lost in it is a loss
    let (t, mut v) = declining_with_gap(160..169);
    cut(&mut v, 160, 0.05);
    let d = run(&t, &v);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].kind, Kind::Loss);
    assert_eq!(t[d[0].start_idx], T0 + 169 * DAY);
}

#[test]
fn upward_step_is_not_a_finding() {
    let (t, mut v) = growing(200);
    for x in &mut v[120..] {
        *x *= 1.6;
    }
    assert!(run(&t, &v).is_empty());
}

#[test]
fn six_hourly_series() {
    let t: Vec<i64> = (0..600).map(|i| T0 + i * 21_600).collect();
    let mut v: Vec<f64> = (0..600)
        .map(|i| 1e12 * (1.0005f64).powi(i) * (1.0 + 0.0002 * (i as f64 * 2.3).sin()))
        .collect();
    cut(&mut v, 500, 0.04);
    let d = detect(&t, &v, None, &[], &DetectParams::default());
    assert_eq!(d.step_secs, 21_600);
    assert_eq!(d.detections.len(), 1);
    assert_eq!(d.detections[0].start_idx, 500);
}

#[test]
fn invalid_points_are_ignored_and_indices_map_back() {
    let (t, mut v) = growing(200);
    cut(&mut v, 150, 0.10);
    v[40] = f64::NAN;
    v[41] = -5.0;
    let d = run(&t, &v);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].start_idx, 150);
}

fn series_strategy() -> impl Strategy<Value = (Vec<f64>, Vec<(usize, f64)>)> {
    // wiggles per sample and up to three cuts (position, fraction)
    (
        prop::collection::vec(-1.0f64..1.0, 120..220),
        prop::collection::vec((60usize..119, 0.0f64..0.5), 0..3),
    )
}

fn build(wiggle: &[f64], cuts: &[(usize, f64)], noise: f64) -> (Vec<i64>, Vec<f64>) {
    let (t, mut v) = growing(wiggle.len());
    for (x, w) in v.iter_mut().zip(wiggle) {
        *x *= 1.0 + noise * w;
    }
    for &(at, f) in cuts {
        cut(&mut v, at.min(wiggle.len() - 1), f);
    }
    (t, v)
}

/// Property tests run a fixed sequence of cases (same seed every run, so a
/// failure in CI fails the same way on a laptop); cases that once failed are
/// replayed first from `proptest-regressions/`.
fn fixed(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_2023_0726),
        ..ProptestConfig::default()
    }
}

/// Every planted cut of at least 5 % is inside (±3 samples) a loss the
/// engine reported: a property comparing two runs must not pass because
/// both runs found nothing.
fn planted_found(d: &[Detection], cuts: &[(usize, f64)], n: usize) -> Result<(), String> {
    for &(at, f) in cuts.iter().filter(|c| c.1 >= 0.05) {
        let at = at.min(n - 1);
        if !d
            .iter()
            .any(|x| x.kind == Kind::Loss && x.start_idx <= at + 3 && at <= x.end_idx + 3)
        {
            return Err(format!(
                "planted {:.1} % cut at {at} not found: {:?}",
                f * 100.0,
                summary(d)
            ));
        }
    }
    Ok(())
}

fn summary(d: &[Detection]) -> Vec<(Kind, usize)> {
    d.iter().map(|x| (x.kind, x.start_idx)).collect()
}

proptest! {
    #![proptest_config(fixed(64))]

    #[test]
    fn scaling_bytes_changes_no_finding((wiggle, cuts) in series_strategy(), k in prop::sample::select(vec![1e-6, 0.5, 3.0, 1024.0, 1e6])) {
        let (t, v) = build(&wiggle, &cuts, 0.002);
        let scaled: Vec<f64> = v.iter().map(|x| x * k).collect();
        let base = run(&t, &v);
        planted_found(&base, &cuts, t.len()).map_err(TestCaseError::fail)?;
        prop_assert_eq!(summary(&base), summary(&run(&t, &scaled)));
    }

    #[test]
    fn shifting_time_by_whole_weeks_changes_no_finding((wiggle, cuts) in series_strategy(), weeks in -500i64..500) {
        let (t, v) = build(&wiggle, &cuts, 0.002);
        let shifted: Vec<i64> = t.iter().map(|x| x + weeks * 7 * DAY).collect();
        let base = run(&t, &v);
        planted_found(&base, &cuts, t.len()).map_err(TestCaseError::fail)?;
        prop_assert_eq!(summary(&base), summary(&run(&shifted, &v)));
    }

    #[test]
    fn adding_growth_never_creates_a_loss((wiggle, cuts) in series_strategy(), g in 0.0f64..0.02) {
        let (t, v) = build(&wiggle, &cuts, 0.002);
        let grown: Vec<f64> = v.iter().enumerate().map(|(i, x)| x * (g * i as f64).exp()).collect();
        // Growth may split one multi-sample incident in two (a slightly
        // negative sample between two drops turns positive), but every loss
        // it reports must lie on a loss reported without it.
        let base: Vec<(usize, usize)> = run(&t, &v).iter().filter(|d| d.kind == Kind::Loss).map(|d| (d.start_idx, d.end_idx)).collect();
        for d in run(&t, &grown).iter().filter(|d| d.kind == Kind::Loss) {
            prop_assert!(
                base.iter().any(|&(s, e)| d.start_idx + 2 >= s && d.start_idx <= e + 2),
                "growth {} created a loss at {} (losses without it: {:?})", g, d.start_idx, base
            );
        }
    }

    #[test]
    fn p_values_are_probabilities_and_findings_finite(values in prop::collection::vec(prop_oneof![Just(0.0), 0.0f64..1e15, Just(f64::NAN), Just(-1.0)], 0..150)) {
        let t: Vec<i64> = (0..values.len() as i64).map(|i| T0 + i * DAY).collect();
        for d in run(&t, &values) {
            prop_assert!((0.0..=1.0).contains(&d.p_value));
            prop_assert!(d.drop_pct.is_finite() && d.before_bytes.is_finite());
        }
    }
}

#[test]
fn incremental_matches_a_scan_of_each_prefix() {
    let (t, mut v) = growing(260);
    cut(&mut v, 100, 0.08);
    v[150] *= 0.7; // a one-sample dip: provisional loss, then transient
    cut(&mut v, 200, 0.05);
    cut(&mut v, 201, 0.04);
    let p = DetectParams::default();
    let plans = [PlanWindow {
        start: t[199],
        end: t[203],
        expected_drop_pct: Some(4.0),
        reason: "disposal".into(),
    }];
    let mut inc = Incremental::new(&t, &v, None, &plans, &p);
    for n in 2..=t.len() {
        let got = summary(inc.advance(n));
        let want = summary(&detect(&t[..n], &v[..n], None, &plans, &p).detections);
        assert_eq!(got, want, "prefix of {n} samples");
    }
    // the dip was a loss on its own night and a transient the night after
    let mut inc = Incremental::new(&t, &v, None, &plans, &p);
    assert!(inc
        .advance(151)
        .iter()
        .any(|d| d.start_idx == 150 && d.kind == Kind::Loss));
    assert!(inc
        .advance(152)
        .iter()
        .any(|d| d.start_idx == 150 && d.kind == Kind::Transient));
}

/// The history a loss needs before it can be judged, for daily data with the
/// weekly model: four weeks (four changes in its weekday slot) plus a day.
pub const MIN_DAILY_HISTORY: usize = 29;

proptest! {
    #![proptest_config(fixed(96))]

    #[test]
    fn removing_a_planned_window_never_hides_a_loss(
        wiggle in prop::collection::vec(-1.0f64..1.0, 150..220),
        at in 60usize..140,
        f in 0.05f64..0.5,
        plan_pct in 0.0f64..10.0,
    ) {
        let (t, v) = build(&wiggle, &[(at, f)], 0.002);
        let p = DetectParams::default();
        let plans = [PlanWindow { start: t[at - 2], end: t[at + 2], expected_drop_pct: Some(plan_pct), reason: "plan".into() }];
        let with: Vec<usize> = detect(&t, &v, None, &plans, &p).detections.iter().filter(|d| d.kind == Kind::Loss).map(|d| d.start_idx).collect();
        let without: Vec<usize> = detect(&t, &v, None, &[], &p).detections.iter().filter(|d| d.kind == Kind::Loss).map(|d| d.start_idx).collect();
        for s in with {
            prop_assert!(without.contains(&s), "loss at {} hidden without the window", s);
        }
    }

    #[test]
    fn a_loss_is_still_flagged_with_only_the_minimum_history(
        wiggle in prop::collection::vec(-1.0f64..1.0, 150..220),
        at in 60usize..140,
        f in 0.05f64..0.5,
    ) {
        let (t, v) = build(&wiggle, &[(at, f)], 0.002);
        let p = DetectParams::default();
        let full = detect(&t, &v, None, &[], &p).detections;
        prop_assume!(full.iter().any(|d| d.kind == Kind::Loss && d.start_idx == at));
        let cut = at - MIN_DAILY_HISTORY;
        let short = detect(&t[cut..], &v[cut..], None, &[], &p).detections;
        prop_assert!(short.iter().any(|d| d.kind == Kind::Loss && d.start_idx == MIN_DAILY_HISTORY), "{:?}", short);
    }
}

// ---- Time, not samples (issue 13) ----

const HOUR: i64 = 3_600;

/// Each reading of a daily series repeated at every `24 / per_day` hours of
/// its day, with a tiny deterministic noise (±1e-7).
fn repeat_within_days(t: &[i64], v: &[f64], per_day: i64) -> (Vec<i64>, Vec<f64>) {
    let mut rt = Vec::with_capacity(t.len() * per_day as usize);
    let mut rv = Vec::with_capacity(t.len() * per_day as usize);
    for (i, (&ti, &vi)) in t.iter().zip(v).enumerate() {
        for h in 0..per_day {
            rt.push(ti + h * DAY / per_day);
            rv.push(vi * (1.0 + 1e-7 * ((i as f64 * 3.1 + h as f64 * 0.7).sin())));
        }
    }
    (rt, rv)
}

/// (kind, UTC day of the start, drop %) of each finding.
fn by_day(t: &[i64], d: &[Detection]) -> Vec<(Kind, i64, f64)> {
    d.iter()
        .map(|x| (x.kind, t[x.start_idx].div_euclid(DAY), x.drop_pct))
        .collect()
}

fn same_findings(a: &[(Kind, i64, f64)], b: &[(Kind, i64, f64)]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.0 == y.0 && x.1 == y.1 && (x.2 - y.2).abs() <= 0.1)
}

/// A daily series growing `rate` a day at `per_day` samples a day, with a
/// small wiggle, and the loss `steps` (day offset, fraction) landing at
/// `hour` of each step's day.
fn staircase(
    per_day: i64,
    rate: f64,
    at_day: i64,
    hour: i64,
    steps: &[(i64, f64)],
) -> (Vec<i64>, Vec<f64>) {
    let n = 200 * per_day;
    let dt = DAY / per_day;
    let mut t = Vec::new();
    let mut v = Vec::new();
    let mut level = 1e12;
    for k in 0..n {
        let ts = T0 + k * dt;
        level *= 1.0 + rate / per_day as f64;
        for &(d, f) in steps {
            if ts == T0 + (at_day + d) * DAY + hour * HOUR - (hour * HOUR) % dt {
                level *= 1.0 - f;
            }
        }
        t.push(ts);
        v.push(level * (1.0 + 0.0004 * ((k as f64 * 1.3).sin())));
    }
    (t, v)
}

#[test]
fn a_staircase_within_max_drop_is_one_finding_at_every_cadence() {
    let patterns: &[&[(i64, f64)]] = &[
        &[(0, 0.03), (1, 0.03), (2, 0.03)],
        &[(0, 0.04), (2, 0.04)],
        &[(0, 0.02), (1, 0.05)],
        &[(0, 0.006), (1, 0.006), (2, 0.006)],
    ];
    for per_day in [1, 4, 24] {
        for hour in [0, 2, 14, 23] {
            for steps in patterns {
                let (t, v) = staircase(per_day, 0.003, 150, hour, steps);
                let d = run(&t, &v);
                let what = format!(
                    "{per_day}/day, {hour}:00, steps {steps:?}: {:?}",
                    by_day(&t, &d)
                );
                assert_eq!(d.len(), 1, "{what}");
                assert_eq!(d[0].kind, Kind::Loss, "{what}");
                // The first step, even a small one late in a day.
                let first = T0 + 150 * DAY + hour * HOUR - (hour * HOUR) % (DAY / per_day);
                assert_eq!(t[d[0].start_idx], first, "{what}");
                let total = 100.0 * (1.0 - steps.iter().map(|s| 1.0 - s.1).product::<f64>());
                assert!((d[0].drop_pct - total).abs() < 1.5, "{what}");
            }
        }
    }
}

#[test]
fn dips_are_transient_by_time_at_hourly_cadence() {
    // a zero reading at 03:00 that is back at 04:00
    let (t, mut v) = staircase(24, 0.003, 150, 0, &[]);
    let z = (150 * 24 + 3) as usize;
    v[z] = 0.0;
    let d = run(&t, &v);
    assert_eq!(d.len(), 1, "{:?}", by_day(&t, &d));
    assert_eq!(
        (d[0].kind, d[0].start_idx, d[0].recovered_idx),
        (Kind::Transient, z, Some(z + 1))
    );
    // dips of 1 to 3 days from any hour, and a restore after 60 hours
    for (hour, hours) in [(14, 24), (5, 48), (14, 60), (14, 72), (0, 72), (23, 71)] {
        let (t, mut v) = staircase(24, 0.003, 150, 0, &[]);
        let s = (150 * 24 + hour) as usize;
        for x in &mut v[s..s + hours] {
            *x *= 0.8;
        }
        let d = run(&t, &v);
        let what = format!("dip at {hour}:00 for {hours} h: {:?}", by_day(&t, &d));
        assert_eq!(d.len(), 1, "{what}");
        assert_eq!((d[0].kind, d[0].start_idx), (Kind::Transient, s), "{what}");
        assert_eq!(d[0].recovered_idx, Some(s + hours), "{what}");
    }
}

#[test]
fn a_small_loss_against_growth_is_a_loss() {
    // a store growing 0.2 % a day loses 1.6 %: observed 1.4 %, 1.6 % below
    // its expected path, and it stays lost while growth continues
    for per_day in [1, 24] {
        let (t, v) = staircase(per_day, 0.002, 150, 9, &[(0, 0.016)]);
        let d = run(&t, &v);
        assert_eq!(d.len(), 1, "{per_day}/day: {:?}", by_day(&t, &d));
        assert_eq!(d[0].kind, Kind::Loss, "{per_day}/day");
    }
}

#[test]
fn a_cadence_switch_keeps_working() {
    // daily for 120 days, then hourly (and the reverse), a loss after the switch
    for daily_first in [true, false] {
        let (t, v) = staircase(24, 0.003, 160, 10, &[(0, 0.05)]);
        let keep: Vec<usize> = (0..t.len())
            .filter(|&k| {
                let day = (t[k] - T0) / DAY;
                let hourly = if daily_first { day >= 120 } else { day < 120 };
                hourly || (t[k] - T0) % DAY == 0
            })
            .collect();
        let t2: Vec<i64> = keep.iter().map(|&k| t[k]).collect();
        let v2: Vec<f64> = keep.iter().map(|&k| v[k]).collect();
        let d = run(&t2, &v2);
        let what = format!("daily first {daily_first}: {:?}", by_day(&t2, &d));
        assert_eq!(d.len(), 1, "{what}");
        assert_eq!(d[0].kind, Kind::Loss, "{what}");
        let expect = if daily_first { 160 } else { 161 };
        assert_eq!((t2[d[0].start_idx] - T0).div_euclid(DAY), expect, "{what}");
    }
}

#[test]
fn incremental_matches_a_scan_of_each_prefix_at_hourly_cadence() {
    let (t, mut v) = staircase(24, 0.003, 100, 14, &[(0, 0.05), (1, 0.04)]);
    for x in &mut v[150 * 24 + 5..152 * 24] {
        *x *= 0.6;
    }
    let p = DetectParams::default();
    let mut inc = Incremental::new(&t, &v, None, &[], &p);
    for n in (2..=t.len()).step_by(7) {
        let got = summary(inc.advance(n));
        let want = summary(&detect(&t[..n], &v[..n], None, &[], &p).detections);
        assert_eq!(got, want, "prefix of {n} samples");
    }
}

proptest! {
    #![proptest_config(fixed(48))]

    #[test]
    fn repeating_daily_readings_every_hour_gives_the_same_findings(
        (wiggle, cuts) in series_strategy(),
        dip in prop::option::of((60usize..115, 1usize..4, 0.1f64..1.0)),
        per_day in prop::sample::select(vec![24i64, 4]),
    ) {
        let (t, mut v) = build(&wiggle, &cuts, 0.002);
        if let Some((at, len, f)) = dip {
            for x in &mut v[at..at + len] {
                *x *= 1.0 - f;
            }
        }
        let base = run(&t, &v);
        if dip.is_none() {
            planted_found(&base, &cuts, t.len()).map_err(TestCaseError::fail)?;
        }
        let daily = by_day(&t, &base);
        let (ht, hv) = repeat_within_days(&t, &v, per_day);
        let hourly = by_day(&ht, &run(&ht, &hv));
        prop_assert!(same_findings(&daily, &hourly), "daily {:?}\nrepeated {:?}", daily, hourly);
    }

    #[test]
    fn a_staircase_of_daily_steps_is_one_finding(
        n_steps in 1usize..4,
        gap_day in any::<bool>(),
        f in 0.02f64..0.2,
        hour in 0i64..24,
        per_day in prop::sample::select(vec![1i64, 4, 24]),
    ) {
        // N steps within max_drop (3 days): consecutive days, or days 0 and 2
        let steps: Vec<(i64, f64)> = if gap_day && n_steps == 2 {
            vec![(0, f), (2, f)]
        } else {
            (0..n_steps as i64).map(|d| (d, f)).collect()
        };
        let (t, v) = staircase(per_day, 0.003, 150, hour, &steps);
        let d = run(&t, &v);
        prop_assert_eq!(d.len(), 1, "{:?}", by_day(&t, &d));
        prop_assert_eq!(d[0].kind, Kind::Loss);
    }
}

/// An hourly store with a nightly purge at 01:00 of `amp` of scratch data
/// ingested through the day, and a loss `f` at `hour` on day 150.
fn sawtooth(amp: f64, f: f64, hour: i64) -> (Vec<i64>, Vec<f64>) {
    let mut t = Vec::new();
    let mut v = Vec::new();
    let mut level = 1e12;
    let mut scratch = 0.0;
    for k in 0..200 * 24 {
        let h = k % 24;
        level *= 1.0 + 0.003 / 24.0;
        if k == 150 * 24 + hour {
            level *= 1.0 - f;
        }
        if h == 1 {
            scratch = 0.0;
        }
        scratch += amp * level / 24.0;
        t.push(T0 + k * HOUR);
        v.push((level + scratch) * (1.0 + 0.0003 * ((k as f64 * 1.7).sin())));
    }
    (t, v)
}

#[test]
fn a_nightly_purge_is_normal_and_a_loss_on_it_is_a_loss() {
    let (t, v) = sawtooth(0.09, 0.0, 0);
    assert!(run(&t, &v).is_empty(), "{:?}", by_day(&t, &run(&t, &v)));
    for hour in [0, 3, 11, 20] {
        let (t, v) = sawtooth(0.09, 0.038, hour);
        let d = run(&t, &v);
        let what = format!("loss at {hour}:00: {:?}", by_day(&t, &d));
        assert_eq!(d.len(), 1, "{what}");
        assert_eq!(d[0].kind, Kind::Loss, "{what}");
        assert_eq!(t[d[0].start_idx], T0 + 150 * DAY + hour * HOUR, "{what}");
    }
}

/// A proptest case (found in CI): two big cuts four days apart with small
/// reductions between them used to be one chain longer than max_drop and
/// dismissed as a gradual decline, so neither loss was reported (and adding
/// growth, which breaks the chain, "created" them).
#[test]
fn big_cuts_inside_a_long_run_of_small_reductions_are_still_losses() {
    let wiggle: Vec<f64> = vec![
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.2839454293154013,
        -0.7484874682692552,
        -0.12675331827075142,
        -0.8005736020465158,
        -0.8165925929075576,
        -0.15373440494737262,
        -0.24247135315287,
        -0.5836597543023522,
        -0.3975459623519779,
        0.32469395801231427,
        0.21445069667923006,
        0.7797026264105837,
        0.14969608759548436,
        0.5234945162161317,
        0.6319751121448043,
        -0.04636132183992113,
        0.31723612168944204,
        0.05383384861711589,
        -0.45142753493634075,
        0.6699538983004203,
        0.3647203848076195,
        -0.33623216995043953,
        -0.011490767688115387,
        -0.628986302449116,
        -0.703535204422016,
        -0.29152372349775557,
        0.0807229908087435,
        0.20754078814847282,
        0.5788992196875521,
        -0.9796832200531755,
        0.40791183422642086,
        -0.0049533523479110145,
        0.393973888439308,
        -0.6393878118254261,
        0.3767982349934395,
        0.2531555098595951,
        -0.435118772241428,
        -0.16643166973990056,
        0.015788049804665145,
        -0.207505786699624,
        0.30243664954046484,
        -0.9840925930300116,
        0.32131172918809425,
        0.4725902957451719,
        0.41056166424786855,
        0.40732902487654826,
        -0.9262876818180495,
        -0.03487223887247226,
        0.5888833877471444,
        -0.12700580721725788,
        0.571102635818206,
        -0.2717907951845536,
        -0.39180534205457135,
        0.9789915682827762,
        -0.6496924108002378,
        -0.6341976236504677,
        -0.3305316201437637,
        -0.02196831830455547,
        0.716265025407753,
        -0.9326467606235267,
        -0.06543219780255291,
        0.9637910908864894,
        -0.38711403694356633,
        -0.34992468567078555,
        -0.2116863693664497,
        -0.9716754143410762,
        0.6344330342809854,
        0.6830094639666396,
        -0.9156381972857053,
        0.5015443288639516,
        -0.07775514467261613,
        -0.005542035899989072,
        0.2510546995395517,
        0.7395574214736494,
        0.11033088018387867,
        -0.7083115098724226,
        0.07093293134536624,
        0.03513052929390319,
        0.100854884782478,
        0.2555841800066105,
        0.1647995882876527,
    ];
    let (t, v) = build(
        &wiggle,
        &[(100, 0.26864604438823436), (96, 0.17033431618297537)],
        0.002,
    );
    let losses: Vec<usize> = run(&t, &v)
        .iter()
        .filter(|d| d.kind == Kind::Loss)
        .map(|d| d.start_idx)
        .collect();
    assert!(losses.contains(&96) && losses.contains(&100), "{losses:?}");
    let g = 0.003601568265900739;
    let grown: Vec<f64> = v
        .iter()
        .enumerate()
        .map(|(i, x)| x * (g * i as f64).exp())
        .collect();
    let with_growth: Vec<usize> = run(&t, &grown)
        .iter()
        .filter(|d| d.kind == Kind::Loss)
        .map(|d| d.start_idx)
        .collect();
    assert!(
        with_growth
            .iter()
            .all(|s| losses.iter().any(|b| s + 2 >= *b && *s <= b + 2)),
        "{with_growth:?} vs {losses:?}"
    );
}

/// The engine fed night by night must keep a decision open for as long as
/// `recovery` can still change it, also when `recovery` is much longer than
/// `max_drop` (its lookahead counts the recovery window, not only the run).
#[test]
fn incremental_waits_for_a_long_recovery_window() {
    let (t, mut v) = growing(200);
    // a dip of 12 days: back within a 20-day window (transient), never
    // back with recovery off (a loss)
    for x in &mut v[150..162] {
        *x *= 0.8;
    }
    for (recovery, kind) in [(20 * DAY, Kind::Transient), (0, Kind::Loss)] {
        let p = DetectParams {
            max_drop: DAY,
            recovery,
            ..DetectParams::default()
        };
        let d = detect(&t, &v, None, &[], &p).detections;
        assert_eq!(summary(&d), vec![(kind, 150)], "{d:?}");
        let mut inc = Incremental::new(&t, &v, None, &[], &p);
        for n in 140..=t.len() {
            let got = summary(inc.advance(n));
            let want = summary(&detect(&t[..n], &v[..n], None, &[], &p).detections);
            assert_eq!(got, want, "recovery {recovery} s, prefix of {n} samples");
        }
    }
}

/// A chain of steps longer than `max_drop` whose first `max_drop` carries
/// most of it is one loss: the later steps of the chain are part of that
/// incident, not a finding of their own.
#[test]
fn the_tail_of_a_loss_longer_than_max_drop_is_not_a_second_finding() {
    let (t, mut v) = growing(200);
    cut(&mut v, 150, 0.15);
    cut(&mut v, 152, 0.05);
    cut(&mut v, 154, 0.05);
    let d = run(&t, &v);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(
        (d[0].kind, d[0].start_idx, d[0].end_idx),
        (Kind::Loss, 150, 152)
    );
}

/// Back on the expected path means short of it by at most 1 −
/// `recovery_fraction` (0.9) of what was lost: after a 20 % dip, a level
/// 1.8 % below the path is back (transient), 2.3 % below is not (a loss).
/// The path starts from the last reading before the drop and grows by the
/// expected change of each day since (0.3 % a day here), so starting it a
/// day early or late moves the verdict.
#[test]
fn recovery_is_judged_against_the_expected_path_and_the_fraction() {
    for (short, kind) in [(0.018, Kind::Transient), (0.023, Kind::Loss)] {
        let (t, mut v) = staircase(1, 0.003, 150, 0, &[]);
        v[150] *= 0.8;
        v[151] *= 0.8;
        cut(&mut v, 152, short);
        let d = run(&t, &v);
        assert_eq!(d.len(), 1, "{short}: {d:?}");
        assert_eq!((d[0].kind, d[0].start_idx), (kind, 150), "{short}: {d:?}");
        if kind == Kind::Transient {
            assert_eq!(d[0].recovered_idx, Some(152));
        }
    }
}
