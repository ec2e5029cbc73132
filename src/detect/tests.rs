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

fn summary(d: &[Detection]) -> Vec<(Kind, usize)> {
    d.iter().map(|x| (x.kind, x.start_idx)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn scaling_bytes_changes_no_finding((wiggle, cuts) in series_strategy(), k in prop::sample::select(vec![1e-6, 0.5, 3.0, 1024.0, 1e6])) {
        let (t, v) = build(&wiggle, &cuts, 0.002);
        let scaled: Vec<f64> = v.iter().map(|x| x * k).collect();
        prop_assert_eq!(summary(&run(&t, &v)), summary(&run(&t, &scaled)));
    }

    #[test]
    fn shifting_time_by_whole_weeks_changes_no_finding((wiggle, cuts) in series_strategy(), weeks in -500i64..500) {
        let (t, v) = build(&wiggle, &cuts, 0.002);
        let shifted: Vec<i64> = t.iter().map(|x| x + weeks * 7 * DAY).collect();
        prop_assert_eq!(summary(&run(&t, &v)), summary(&run(&shifted, &v)));
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
    #![proptest_config(ProptestConfig::with_cases(96))]

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
