//! Detection thresholds: the engine's parameter set and the one declarative
//! table of them ([`THRESHOLDS`]: name, help, documentation, unit, default,
//! valid range, tuning grid). Flags, configuration keys, validation, the
//! default configuration and `tune`'s grid and columns are all made from it,
//! so a threshold is written here and in the engine code that uses it.

use serde::{Deserialize, Serialize};

/// The knobs of the detector. Defaults were chosen by `shrinkwatch evaluate`
/// over several generator seeds and harder shapes (see README, "Choosing the
/// defaults").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectParams {
    /// Smallest reduction, in percent of the stored bytes, that counts as
    /// substantial. Both the observed drop and the drop beyond the series'
    /// normal change must reach it.
    pub min_drop_pct: f64,
    /// Smallest reduction in bytes that counts (0 = no byte floor).
    pub min_drop_bytes: u64,
    /// Significance: a reduction is unusual when the one-sided p-value of its
    /// shortfall against the series' own recent changes is at most this.
    pub alpha: f64,
    /// A sudden reduction happens within this time (seconds), from the last
    /// reading before it to its last step; steps each within it of the
    /// previous one are one incident.
    pub max_drop: i64,
    /// A reduction whose level is back on its expected path within this time
    /// (seconds) after it ends is `transient`, otherwise `loss`.
    pub recovery: i64,
    /// Share of the drop (0–1) that must come back for a recovery.
    pub recovery_fraction: f64,
    /// Length of the trailing window (seconds) from which the normal change
    /// of a series is learned.
    pub baseline: i64,
    /// Fewest usable changes in the baseline window before anything is tested.
    pub min_history: usize,
    /// A sample belongs to a drop when its change is at least this many robust
    /// standard deviations below the expected change.
    pub step_z: f64,
    /// A drop must also be at least this many times as far below expectation
    /// as the worst normal change in the baseline window (0 = off). Guards
    /// against heavy-tailed series where the t-test alone is overconfident.
    pub extreme_margin: f64,
    /// Learn a separate expected change per weekday (per slot of the week for
    /// sub-daily series), so routine weekly jobs are normal.
    pub weekly: bool,
    /// Tolerance, in percentage points, by which a reduction may exceed the
    /// expected size of a planned window and still count as `planned`.
    pub planned_tolerance_pct: f64,
    /// Relative tolerance on a plan's expected size (0.2 = the plan may be
    /// underestimated by a fifth), added to `planned_tolerance_pct`.
    pub planned_tolerance_rel: f64,
}

/// A threshold's value, as written in flags and the configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A real number.
    Num(f64),
    /// A whole number.
    Int(u64),
    /// true / false.
    Bool(bool),
    /// A duration in seconds (written `36h`, `3d`, `2w`).
    Secs(i64),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Num(x) => write!(f, "{x}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Secs(s) => f.write_str(&duration_text(*s)),
        }
    }
}

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// `3d`, `36h`, `2w`, `90m`, `45s`: the largest unit that writes it exactly.
pub fn duration_text(secs: i64) -> String {
    for (unit, size) in [("w", 7 * DAY), ("d", DAY), ("h", 3600), ("m", 60)] {
        if secs != 0 && secs % size == 0 {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

/// `84 days`, `36 hours`, `2 weeks` (for prose).
pub fn duration_words(secs: i64) -> String {
    let (n, unit) = match secs {
        s if s % DAY == 0 => (s / DAY, "day"),
        s if s % 3600 == 0 => (s / 3600, "hour"),
        s if s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// Parses a duration: a number with `s`, `m`, `h`, `d` or `w` (`36h`,
/// `1.5d`); a bare number is a number of days (what the sample counts of
/// earlier versions meant on daily data).
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (num, size) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let size = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => DAY,
                'w' => 7 * DAY,
                _ => {
                    return Err(format!(
                        "`{s}`: unknown unit `{c}` (use s, m, h, d or w, e.g. 36h or 3d)"
                    ))
                }
            };
            (&s[..i], size)
        }
        _ => (s, DAY),
    };
    match num.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 && x * (size as f64) < 1e12 => {
            Ok((x * size as f64).round() as i64)
        }
        _ => Err(format!(
            "`{s}` is not a duration (e.g. 36h, 3d, 2w; a bare number is days)"
        )),
    }
}

impl Value {
    /// As written in a TOML file (durations quoted: `"3d"`).
    pub fn toml(self) -> String {
        match self {
            Value::Secs(_) => format!("\"{self}\""),
            _ => self.to_string(),
        }
    }

    /// As a number (whole numbers and booleans too, for ranges and grids).
    pub fn as_f64(self) -> f64 {
        match self {
            Value::Num(x) => x,
            Value::Int(n) => n as f64,
            Value::Bool(b) => f64::from(u8::from(b)),
            Value::Secs(s) => s as f64,
        }
    }
}

/// What kind of value a threshold takes: how it is parsed and named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A percentage (`PCT`).
    Percent,
    /// A number of bytes (`BYTES`).
    Bytes,
    /// A probability (`P`).
    Probability,
    /// A count (`N`).
    Count,
    /// A fraction (`F`).
    Fraction,
    /// Robust standard deviations (`Z`).
    Sigmas,
    /// A multiple (`X`).
    Factor,
    /// true / false (`BOOL`).
    Flag,
    /// A span of time (`DURATION`: `36h`, `3d`, `2w`).
    Duration,
}

impl Unit {
    /// The placeholder shown in `--help`.
    pub fn value_name(self) -> &'static str {
        match self {
            Unit::Percent => "PCT",
            Unit::Bytes => "BYTES",
            Unit::Probability => "P",
            Unit::Count => "N",
            Unit::Fraction => "F",
            Unit::Sigmas => "Z",
            Unit::Factor => "X",
            Unit::Flag => "BOOL",
            Unit::Duration => "DURATION",
        }
    }

    /// Parses a value as written on the command line.
    pub fn parse(self, s: &str) -> Result<Value, String> {
        let s = s.trim();
        match self {
            Unit::Flag => match s {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                _ => Err(format!("`{s}` is not true or false")),
            },
            Unit::Duration => parse_duration(s).map(Value::Secs),
            Unit::Bytes | Unit::Count => s
                .parse::<u64>()
                .map(Value::Int)
                .map_err(|_| format!("`{s}` is not a whole number")),
            _ => match s.parse::<f64>() {
                Ok(x) => Ok(Value::Num(x)),
                Err(_) => Err(format!("`{s}` is not a number")),
            },
        }
    }

    /// Converts a value of another shape where that loses nothing (a
    /// configuration file may write `3` for a real number, or `3.0` for a
    /// whole one); `None` when it is the wrong kind.
    pub fn coerce(self, v: Value) -> Option<Value> {
        match (self, v) {
            (Unit::Duration, Value::Secs(_)) => Some(v),
            // a bare number of days
            (Unit::Duration, Value::Num(x)) => parse_duration(&x.to_string()).ok().map(Value::Secs),
            (Unit::Duration, Value::Int(n)) => Some(Value::Secs(n as i64 * DAY)),
            (Unit::Duration, Value::Bool(_)) => None,
            (_, Value::Secs(_)) => None,
            (Unit::Flag, Value::Bool(_)) => Some(v),
            (Unit::Flag, _) | (_, Value::Bool(_)) => None,
            (Unit::Bytes | Unit::Count, Value::Int(_)) => Some(v),
            (Unit::Bytes | Unit::Count, Value::Num(x)) => {
                (x.fract() == 0.0 && (0.0..1.8e19).contains(&x)).then_some(Value::Int(x as u64))
            }
            (_, Value::Int(n)) => Some(Value::Num(n as f64)),
            (_, Value::Num(_)) => Some(v),
        }
    }
}

/// The values a threshold may take.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    /// Lowest value and whether it is allowed itself.
    pub lo: (f64, bool),
    /// Highest value and whether it is allowed itself.
    pub hi: (f64, bool),
    /// The range in words, for messages.
    pub words: &'static str,
}

impl Range {
    /// Whether `v` is inside.
    pub fn contains(&self, v: Value) -> bool {
        if let Value::Bool(_) = v {
            return true;
        }
        let x = v.as_f64();
        x.is_finite()
            && (x > self.lo.0 || (self.lo.1 && x == self.lo.0))
            && (x < self.hi.0 || (self.hi.1 && x == self.hi.0))
    }
}

/// How `tune` treats a threshold.
#[derive(Debug, Clone, Copy)]
pub enum Tuning {
    /// Swept over these values (durations in days).
    Grid(&'static [f64]),
    /// Not swept, and why.
    Fixed(&'static str),
}

/// One detection threshold: everything the program knows about it, written
/// once. The command-line flags, the configuration keys and their
/// validation, the commented default configuration, `tune`'s grid and its
/// columns are all made from [`THRESHOLDS`].
pub struct Threshold {
    /// Flag (with `-` for `_`) and configuration key.
    pub name: &'static str,
    /// An earlier name still accepted (flag and key).
    pub alias: Option<&'static str>,
    /// One line for `--help`.
    pub help: &'static str,
    /// The comment above the key in the default configuration.
    pub doc: &'static str,
    /// Its kind of value.
    pub unit: Unit,
    /// Default value.
    pub default: Value,
    /// Allowed values.
    pub range: Range,
    /// How `tune` treats it.
    pub tuning: Tuning,
    /// Reads it from a parameter set.
    pub get: fn(&DetectParams) -> Value,
    /// Writes it into a parameter set (the value has its unit's shape).
    pub set: fn(&mut DetectParams, Value),
}

impl Threshold {
    /// The command-line flag, `--min-drop-pct`.
    pub fn flag(&self) -> String {
        format!("--{}", self.name.replace('_', "-"))
    }

    /// Checks a value against the range.
    pub fn check(&self, v: Value) -> Result<(), ParamError> {
        if self.range.contains(v) {
            Ok(())
        } else {
            Err(ParamError {
                key: self.name,
                value: v.to_string(),
                allowed: self.range.words,
            })
        }
    }
}

/// Looks a threshold up by name (or its earlier name).
pub fn threshold(name: &str) -> Option<&'static Threshold> {
    THRESHOLDS
        .iter()
        .find(|t| t.name == name || t.alias == Some(name))
}

/// Earlier names of thresholds that became durations: a bare number there
/// is a number of days, which is what the sample counts meant on daily data.
const fn alias_of(name: &str) -> Option<&'static str> {
    match name.as_bytes() {
        b"max_drop" => Some("max_drop_samples"),
        b"recovery" => Some("recovery_samples"),
        b"baseline" => Some("baseline_days"),
        _ => None,
    }
}

/// Values of the fields' own types in and out of [`Value`].
trait Field: Copy {
    fn put(self) -> Value;
    fn take(v: Value) -> Self;
}

impl Field for f64 {
    fn put(self) -> Value {
        Value::Num(self)
    }
    fn take(v: Value) -> Self {
        v.as_f64()
    }
}

impl Field for u64 {
    fn put(self) -> Value {
        Value::Int(self)
    }
    fn take(v: Value) -> Self {
        match v {
            Value::Int(n) => n,
            other => other.as_f64() as u64,
        }
    }
}

impl Field for usize {
    fn put(self) -> Value {
        Value::Int(self as u64)
    }
    fn take(v: Value) -> Self {
        usize::try_from(u64::take(v)).unwrap_or(usize::MAX)
    }
}

impl Field for i64 {
    fn put(self) -> Value {
        Value::Secs(self)
    }
    fn take(v: Value) -> Self {
        match v {
            Value::Secs(s) => s,
            other => other.as_f64() as i64,
        }
    }
}

impl Field for bool {
    fn put(self) -> Value {
        Value::Bool(self)
    }
    fn take(v: Value) -> Self {
        matches!(v, Value::Bool(true))
    }
}

/// `[lo, hi]`, `(lo, hi)` and the like.
const fn range(lo: f64, lo_in: bool, hi: f64, hi_in: bool, words: &'static str) -> Range {
    Range {
        lo: (lo, lo_in),
        hi: (hi, hi_in),
        words,
    }
}

macro_rules! threshold {
    ($field:ident, $unit:ident, $default:expr, $range:expr, $tuning:expr, help: $help:literal, doc: $doc:literal) => {
        Threshold {
            name: stringify!($field),
            alias: alias_of(stringify!($field)),
            help: $help,
            doc: $doc,
            unit: Unit::$unit,
            default: $default,
            range: $range,
            tuning: $tuning,
            get: |p| Field::put(p.$field),
            set: |p, v| p.$field = Field::take(v),
        }
    };
}

/// Every detection threshold, in the order they are shown.
pub static THRESHOLDS: &[Threshold] = &[
    threshold!(min_drop_pct, Percent, Value::Num(1.5),
        range(0.0, false, 100.0, false, "a percentage in (0, 100)"),
        Tuning::Grid(&[0.5, 1.0, 1.5, 2.0, 3.0, 5.0]),
        help: "Smallest reduction that counts, in percent",
        doc: "Smallest reduction that counts, in percent of the stored bytes. Both the\nobserved drop and the drop beyond the series' normal change must reach it."),
    threshold!(min_drop_bytes, Bytes, Value::Int(0),
        range(0.0, true, f64::INFINITY, false, "a whole number of bytes"),
        Tuning::Fixed("a site's own floor, not learnt from labels"),
        help: "Smallest reduction that counts, in bytes",
        doc: "Smallest reduction in bytes that counts (0 = no floor)."),
    threshold!(alpha, Probability, Value::Num(1e-3),
        range(0.0, false, 1.0, false, "a probability in (0, 1)"),
        Tuning::Grid(&[1e-2, 1e-3, 1e-4, 1e-6]),
        help: "Significance level of the one-sided test",
        doc: "Significance: one-sided p-value of the shortfall against the series' own\nrecent changes must be at most this."),
    threshold!(max_drop, Duration, Value::Secs(3 * DAY),
        range(3600.0, true, 50.0 * 86_400.0, true, "a duration from 1h to 50d"),
        Tuning::Grid(&[1.0, 2.0, 3.0, 5.0]),
        help: "A sudden reduction happens within this time (36h, 3d; a bare number is days); steps within it of each other are one incident",
        doc: "A sudden reduction happens within this time (36h, 3d, 1w; a bare number is\ndays), from the last reading before it to its last step, at any sampling\ncadence; reductions that follow each other within it are one incident.\n(`max_drop_samples = N`, the earlier name, is read as N days.)"),
    threshold!(recovery, Duration, Value::Secs(3 * DAY),
        range(0.0, true, 1000.0 * 86_400.0, true, "a duration from 0 to 1000d"),
        Tuning::Grid(&[1.0, 2.0, 3.0, 5.0]),
        help: "A reduction back on its expected path within this time after it ends is transient (3d; 0 = never)",
        doc: "A reduction whose level is back on its expected path within this time after\nit ends is `transient`, at any cadence (0 = never). (`recovery_samples = N`,\nthe earlier name, is read as N days.)"),
    threshold!(recovery_fraction, Fraction, Value::Num(0.9),
        range(0.0, false, 1.0, true, "a fraction in (0, 1]"),
        Tuning::Fixed("what counts as back is a definition, not a fit"),
        help: "Share of the drop that must come back to count as recovered (0-1]",
        doc: "Share of the drop (0-1) that must come back to count as recovered."),
    threshold!(baseline, Duration, Value::Secs(84 * DAY),
        range(86_400.0, true, 3660.0 * 86_400.0, true, "a duration from 1d to 3660d"),
        Tuning::Grid(&[28.0, 56.0, 84.0, 168.0]),
        help: "History used to learn each series' normal change (12w, 84d; a bare number is days)",
        doc: "History from which each series' normal change is learned (12w, 84d; a bare\nnumber is days). (`baseline_days = N`, the earlier name, is read as N days.)"),
    threshold!(min_history, Count, Value::Int(14),
        range(2.0, true, 10_000.0, true, "a whole number from 2 to 10000"),
        Tuning::Fixed("how much history a test needs, not a fit"),
        help: "Fewest usable daily changes (days of history; intervals for series read less often) before a series is tested",
        doc: "Fewest usable changes in that window before anything is tested: daily\nchanges (sub-daily series are summarised per day), or intervals for series\nread less often than daily."),
    threshold!(step_z, Sigmas, Value::Num(2.0),
        range(0.0, true, 100.0, true, "a number from 0 to 100"),
        Tuning::Grid(&[1.5, 2.0, 3.0]),
        help: "Robust standard deviations below expectation for a sample to be part of a drop",
        doc: "A sample is part of a drop when its change is this many robust standard\ndeviations below the expected change."),
    threshold!(extreme_margin, Factor, Value::Num(1.0),
        range(0.0, true, 100.0, true, "a number from 0 to 100"),
        Tuning::Fixed("a guard against heavy tails, kept on"),
        help: "A drop must be this many times worse than the worst normal change in the baseline window (0 = off)",
        doc: "A drop must also be this many times as far below expectation as the worst\nnormal change in the baseline window (0 = off); guards heavy-tailed series."),
    threshold!(weekly, Flag, Value::Bool(true),
        range(0.0, true, 1.0, true, "true or false"),
        Tuning::Fixed("a property of the data, not a fit"),
        help: "Model the weekly pattern (true/false)",
        doc: "Learn the expected change per weekday (hour-of-week for sub-daily data), so\nroutine weekly jobs are normal."),
    threshold!(planned_tolerance_pct, Percent, Value::Num(2.0),
        range(0.0, true, 100.0, true, "a percentage from 0 to 100"),
        Tuning::Grid(&[0.0, 2.0, 5.0]),
        help: "Percentage points a reduction may exceed its plan and still be planned",
        doc: "Percentage points by which a reduction may exceed a planned window's\nexpected size and still count as `planned`."),
    threshold!(planned_tolerance_rel, Fraction, Value::Num(0.2),
        range(0.0, true, 10.0, true, "a fraction from 0 to 10"),
        Tuning::Fixed("kept with planned_tolerance_pct, which is swept"),
        help: "Relative tolerance on a plan's expected size (0.2 = a fifth)",
        doc: "Relative tolerance on a plan's expected size (0.2 = it may be a fifth too\nsmall), added to planned_tolerance_pct."),
];

impl Default for DetectParams {
    /// The defaults of [`THRESHOLDS`].
    fn default() -> Self {
        let mut p = DetectParams {
            min_drop_pct: 0.0,
            min_drop_bytes: 0,
            alpha: 0.0,
            max_drop: 0,
            recovery: 0,
            recovery_fraction: 0.0,
            baseline: 0,
            min_history: 0,
            step_z: 0.0,
            extreme_margin: 0.0,
            weekly: false,
            planned_tolerance_pct: 0.0,
            planned_tolerance_rel: 0.0,
        };
        for t in THRESHOLDS {
            (t.set)(&mut p, t.default);
        }
        p
    }
}

/// A threshold outside its allowed range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid value {value} for `{key}`: must be {allowed}")]
pub struct ParamError {
    /// The flag / configuration key, e.g. `min_drop_pct`.
    pub key: &'static str,
    /// The rejected value, as written.
    pub value: String,
    /// The allowed range in words.
    pub allowed: &'static str,
}

impl DetectParams {
    /// Rejects values outside their meaningful ranges (the ranges of
    /// [`THRESHOLDS`]), naming the first key at fault.
    pub fn validate(&self) -> Result<(), ParamError> {
        THRESHOLDS.iter().try_for_each(|t| t.check((t.get)(self)))
    }

    /// Whether a known loss of `was` percent that now measures `now` percent
    /// has deepened enough to be alerted again: by more than `min_drop_pct`
    /// points, or to more than half again its size (and by at least half of
    /// `min_drop_pct`, so noise on a tiny loss does not re-alert).
    pub fn deepened(&self, was: f64, now: f64) -> bool {
        let min = self.min_drop_pct;
        now - was > min || (now > 1.5 * was && now - was >= min / 2.0)
    }

    /// Whether a migration's shortfall (what left a source and never
    /// arrived, in percent of the source and in bytes; in percent of its
    /// files where every store counts them) is a loss: a migration is
    /// planned to lose nothing, so at least half of `min_drop_pct` (and
    /// `min_drop_bytes`) is enough, in bytes and, where known, in files.
    pub fn move_lost(&self, pct: f64, bytes: f64, files_pct: Option<f64>) -> bool {
        let floor = self.min_drop_pct / 2.0;
        pct >= floor && bytes >= self.min_drop_bytes as f64 && files_pct.is_none_or(|o| o >= floor)
    }

    /// How long after a drop the charts show the expected path (the
    /// recovery window), in seconds.
    pub fn recovery_secs(&self) -> i64 {
        self.recovery
    }

    /// The method in one paragraph with these values, for a report.
    pub fn method(&self) -> String {
        format!(
            "Each series' change is compared with its own normal change over the previous {} (robust median and spread per weekday, leaving out gaps and earlier incidents; readings taken more than once a day are summarised per day). A finding is a drop within {} of at least {}% of the level the series should have had (both as observed and beyond the normal change) whose one-sided p-value is at most {}; drops that follow each other within that time are one incident. A drop back on its expected path within {} is transient; one inside a planned window and within its expected size (+{}% of it, +{} percentage points) is planned. Sizes use decimal units (1 TB = 10^12 bytes); times are UTC unless marked BST/GMT.",
            duration_words(self.baseline),
            duration_words(self.max_drop),
            self.min_drop_pct,
            self.alpha,
            duration_words(self.recovery),
            self.planned_tolerance_rel * 100.0,
            self.planned_tolerance_pct
        )
    }

    /// How a finding was tested, for a referral: "N robust standard
    /// deviations below this store's normal change over the previous D days".
    pub fn baseline_span(&self) -> String {
        format!("the previous {}", duration_words(self.baseline))
    }

    /// A copy with one threshold set (a value of the wrong kind changes nothing).
    pub fn with(&self, t: &Threshold, v: Value) -> DetectParams {
        let mut p = self.clone();
        if let Some(v) = t.unit.coerce(v) {
            (t.set)(&mut p, v);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_reads_and_writes_its_own_field_and_its_default_is_valid() {
        let d = DetectParams::default();
        d.validate().unwrap();
        for t in THRESHOLDS {
            assert!(t.range.contains(t.default), "{}", t.name);
            assert_eq!((t.get)(&d), t.default, "{}", t.name);
            // a different value lands in this field and no other
            let other = match t.default {
                Value::Num(x) => Value::Num(x / 2.0 + 0.125),
                Value::Int(n) => Value::Int(n + 1),
                Value::Bool(b) => Value::Bool(!b),
                Value::Secs(s) => Value::Secs(s + 3600),
            };
            let q = d.with(t, other);
            assert_eq!((t.get)(&q), other, "{}", t.name);
            for u in THRESHOLDS.iter().filter(|u| u.name != t.name) {
                assert_eq!((u.get)(&q), (u.get)(&d), "{} wrote {}", t.name, u.name);
            }
            if let Tuning::Grid(g) = t.tuning {
                assert!(g.iter().all(|&x| t.unit.coerce(Value::Num(x)).is_some()));
            }
        }
        let names: std::collections::HashSet<&str> = THRESHOLDS.iter().map(|t| t.name).collect();
        assert_eq!(names.len(), THRESHOLDS.len());
    }

    #[test]
    fn durations_read_and_write() {
        assert_eq!(parse_duration("36h"), Ok(36 * 3600));
        assert_eq!(parse_duration("3d"), Ok(3 * DAY));
        assert_eq!(parse_duration("2w"), Ok(14 * DAY));
        assert_eq!(parse_duration("1.5d"), Ok(36 * 3600));
        assert_eq!(parse_duration("3"), Ok(3 * DAY));
        assert_eq!(parse_duration("90m"), Ok(5400));
        assert!(parse_duration("3x").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("-1d").is_err());
        assert_eq!(duration_text(3 * DAY), "3d");
        assert_eq!(duration_text(36 * 3600), "36h");
        assert_eq!(duration_text(14 * DAY), "2w");
        assert_eq!(duration_text(45), "45s");
        assert_eq!(
            Unit::Duration.coerce(Value::Int(2)),
            Some(Value::Secs(2 * DAY))
        );
        assert_eq!(
            Unit::Duration.coerce(Value::Num(0.5)),
            Some(Value::Secs(DAY / 2))
        );
    }

    #[test]
    fn out_of_range_values_name_their_key() {
        // the earlier name finds the duration; a bare 72 is 72 days
        let t = threshold("max_drop_samples").unwrap();
        let e = DetectParams::default()
            .with(t, Value::Int(72))
            .validate()
            .unwrap_err();
        assert_eq!(e.key, "max_drop");
        assert_eq!(
            e.to_string(),
            "invalid value 72d for `max_drop`: must be a duration from 1h to 50d"
        );
        let a = threshold("alpha").unwrap();
        assert!(DetectParams::default()
            .with(a, Value::Num(1.0))
            .validate()
            .is_err());
        assert!(DetectParams::default()
            .with(a, Value::Num(f64::NAN))
            .validate()
            .is_err());
    }
}
