//! Harnesses shared by the cargo-fuzz targets in `fuzz/` and by the test
//! that replays their corpus and every crash found (`tests/fuzz_corpus.rs`):
//! each takes arbitrary bytes and panics only when an invariant is broken.

use crate::detect::params::{Tuning, Value, THRESHOLDS};
use crate::detect::{detect, DetectParams, Kind, PlanWindow};
use crate::ingest::{self, ColumnNames};
use std::io::Write;

fn temp_file(ext: &str, data: &[u8]) -> tempfile::TempPath {
    let mut f = tempfile::Builder::new()
        .suffix(ext)
        .tempfile()
        .expect("temporary file");
    f.write_all(data).expect("write temporary file");
    f.into_temp_path()
}

/// Arbitrary bytes as a CSV observation file: ingest returns rows or a
/// clear error, never panics, and accounts for every row.
pub fn csv_ingest(data: &[u8]) {
    let path = temp_file(".csv", data);
    if let Ok(ing) = ingest::ingest(&[path.to_path_buf()], &ColumnNames::default()) {
        let c = &ing.counts;
        assert_eq!(c.rows_read, c.rows_kept + c.duplicates + c.rejected);
        assert_eq!(c.rows_kept as usize, ing.set.times.len());
        for s in ing.set.iter() {
            assert!(s.times.windows(2).all(|w| w[0] < w[1]));
            assert!(s.bytes.iter().all(|b| b.is_finite() && *b >= 0.0));
        }
        for r in &ing.rejected {
            assert!(r.line >= 1 && !r.reason.is_empty());
        }
    }
}

/// Arbitrary bytes as a planned-windows file.
pub fn planned(data: &[u8]) {
    let path = temp_file(".csv", data);
    let keys = vec!["force".to_string(), "system".to_string()];
    if let Ok(rows) = crate::planned::read(&path, &keys) {
        for r in &rows {
            let w = crate::planned::for_series(std::slice::from_ref(r), &r.key);
            for w in w {
                assert!(w.start <= w.end);
                assert!(w.expected_drop_pct.is_none_or(|p| p.is_finite()));
            }
        }
    }
}

/// Arbitrary bytes as a TOML configuration file: it is accepted with valid
/// thresholds for every series, or refused with a message.
pub fn config(data: &[u8]) {
    let path = temp_file(".toml", data);
    let Ok(file) = crate::config::ConfigFile::load(&path) else {
        return;
    };
    let none = crate::config::ThresholdSet::default();
    if let Ok(t) = crate::config::Thresholds::resolve(&file, Some("fuzz.toml"), &none) {
        let names = crate::config::columns(&file.columns, None, None, None, None).keys;
        for key in [
            vec!["A".to_string(), "B".to_string()],
            vec![String::new(); names.len()],
        ] {
            let p = t.for_series(&names, &key);
            assert!(
                p.validate().is_ok(),
                "accepted thresholds must be valid: {p:?}"
            );
        }
    }
}

/// Arbitrary bytes as a series (and a few thresholds) for the engine: no
/// panic, no NaN in a finding, p-values in [0, 1], indices in range.
pub fn engine(data: &[u8]) {
    if data.len() < 4 {
        return;
    }
    // Thresholds from the table: each swept one at a value of its grid, the
    // weekly model on or off.
    let mut p = DetectParams::default();
    for (i, t) in THRESHOLDS.iter().enumerate() {
        let pick = usize::from(data[i % 4].rotate_left(i as u32));
        p = match (t.tuning, t.default) {
            (Tuning::Grid(g), _) => p.with(t, Value::Num(g[pick % g.len()])),
            (_, Value::Bool(_)) => p.with(t, Value::Bool(pick & 1 == 0)),
            _ => p,
        };
    }
    let mut times = Vec::new();
    let mut bytes = Vec::new();
    let mut objects = Vec::new();
    let mut t: i64 = 1_600_000_000;
    let mut level: f64 = 1e12;
    for c in data[4..].chunks(4) {
        let (a, b) = (c[0], c.get(1).copied().unwrap_or(0));
        let v = c.get(2).copied().unwrap_or(0);
        // step: usually a day, sometimes 6 hours, a gap, a repeat or going back
        t += match a % 16 {
            0 => 0,
            1 => -86_400,
            2 => 21_600,
            3 => 86_400 * i64::from(b % 30),
            _ => 86_400,
        };
        // value: growth, a drop of any size, zero, or a non-number
        level = match v % 32 {
            0 => 0.0,
            1 => f64::NAN,
            2 => -1.0,
            3..=6 => level * (1.0 - f64::from(b) / 255.0),
            7 => level * (1.0 + f64::from(b) / 64.0) + 1.0,
            _ => level * (1.0 + (f64::from(b) - 120.0) / 20_000.0),
        };
        times.push(t);
        bytes.push(level);
        objects.push(if a & 0x80 == 0 {
            (level / 1e6).floor()
        } else {
            f64::NAN
        });
        if level.is_nan() || level < 0.0 {
            level = 1e12;
        }
    }
    let plans = if data[0] & 0x80 != 0 && !times.is_empty() {
        let mid = times[times.len() / 2];
        vec![PlanWindow {
            start: mid - 3 * 86_400,
            end: mid + 3 * 86_400,
            expected_drop_pct: (data[1] & 1 == 0).then_some(f64::from(data[2] % 50)),
            reason: "fuzz".into(),
        }]
    } else {
        Vec::new()
    };
    let r = detect(&times, &bytes, Some(&objects), &plans, &p);
    let n = times.len();
    for d in &r.detections {
        // Indices point into the input as given; for input out of time
        // order they are not monotonic, but their times are.
        assert!(
            d.before_idx < n && d.start_idx < n && d.end_idx < n,
            "{d:?}"
        );
        assert!(
            times[d.before_idx] < times[d.start_idx] && times[d.start_idx] <= times[d.end_idx],
            "{d:?}"
        );
        for (name, x) in [
            ("drop_pct", d.drop_pct),
            ("excess_pct", d.excess_pct),
            ("drop_bytes", d.drop_bytes),
            ("before_bytes", d.before_bytes),
            ("after_bytes", d.after_bytes),
            ("z", d.z),
            ("expected_step_log", d.expected_step_log),
            ("step_sigma_log", d.step_sigma_log),
        ] {
            assert!(!x.is_nan(), "{name} is NaN: {d:?}");
        }
        assert!(
            (0.0..=1.0).contains(&d.p_value),
            "p-value {}: {d:?}",
            d.p_value
        );
        assert!(d.drop_pct > 0.0 && d.drop_pct <= 100.0, "{d:?}");
        assert!(d.objects_lost.is_none_or(|o| !o.is_nan()), "{d:?}");
        if d.kind == Kind::Planned {
            assert!(d.plan.is_some());
        }
    }
}
