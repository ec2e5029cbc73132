//! Formatting for people: byte sizes in decimal units (as storage vendors and
//! the ICO's form use them), thousands separators, dates, and UK local time
//! (GMT/BST) for deadlines.

use chrono::{DateTime, Datelike, NaiveDate, Weekday};

const UNITS: &[(&str, f64)] = &[
    ("PB", 1e15),
    ("TB", 1e12),
    ("GB", 1e9),
    ("MB", 1e6),
    ("kB", 1e3),
];

/// `18.2 TB`, `512 GB`, `900 bytes`: three significant figures.
pub fn bytes(b: f64) -> String {
    let a = b.abs();
    for &(name, size) in UNITS {
        if a >= size {
            return format!("{} {name}", sig3(b / size));
        }
    }
    format!("{} bytes", b.round() as i64)
}

/// The unit `bytes` would choose for values around `b`, and its size.
pub fn unit_for(b: f64) -> (&'static str, f64) {
    UNITS
        .iter()
        .copied()
        .find(|&(_, s)| b.abs() >= s)
        .unwrap_or(("bytes", 1.0))
}

fn sig3(x: f64) -> String {
    let a = x.abs();
    if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// `96,174`.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A p-value for people: `p = 0.0032`, `p = 2.5e-138`, `p < 1e-300`.
pub fn p_value(p: f64) -> String {
    if p <= 1e-300 {
        "p < 1e-300".to_string()
    } else if p < 0.001 {
        format!("p = {p:.1e}")
    } else {
        format!("p = {p:.3}")
    }
}

/// `26 Jul 2023`.
pub fn date(ts: i64) -> String {
    DateTime::from_timestamp(ts, 0)
        .map_or_else(|| ts.to_string(), |d| d.format("%-d %b %Y").to_string())
}

/// `26 Jul 2023 06:00 UTC` (the time only when it is not midnight).
pub fn date_time(ts: i64) -> String {
    match DateTime::from_timestamp(ts, 0) {
        Some(d) if ts.rem_euclid(86_400) == 0 => d.format("%-d %b %Y").to_string(),
        Some(d) => d.format("%-d %b %Y %H:%M UTC").to_string(),
        None => ts.to_string(),
    }
}

/// The last Sunday of a month, at 01:00 UTC (when UK clocks change).
fn last_sunday_0100(year: i32, month: u32) -> i64 {
    let first_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    let mut d = first_next
        .expect("valid month")
        .pred_opt()
        .expect("valid day");
    while d.weekday() != Weekday::Sun {
        d = d.pred_opt().expect("valid day");
    }
    d.and_hms_opt(1, 0, 0)
        .expect("valid time")
        .and_utc()
        .timestamp()
}

/// UK civil time offset at `ts`: British Summer Time (UTC+1) from 01:00 UTC
/// on the last Sunday of March to 01:00 UTC on the last Sunday of October,
/// otherwise Greenwich Mean Time.
pub fn uk_offset(ts: i64) -> (i64, &'static str) {
    let year = DateTime::from_timestamp(ts, 0).map_or(1970, |d| d.year());
    if ts >= last_sunday_0100(year, 3) && ts < last_sunday_0100(year, 10) {
        (3600, "BST")
    } else {
        (0, "GMT")
    }
}

/// `Wed 26 Jul 2023 10:15 BST`.
pub fn uk_time(ts: i64) -> String {
    let (off, zone) = uk_offset(ts);
    DateTime::from_timestamp(ts + off, 0).map_or_else(
        || ts.to_string(),
        |d| format!("{} {zone}", d.format("%a %-d %b %Y %H:%M")),
    )
}

/// The ICO deadline: 72 hours after becoming aware (an absolute duration;
/// its UK clock time moves by an hour across a clock change).
pub fn deadline_72h(aware: i64) -> i64 {
    aware + 72 * 3600
}

/// A text cell made safe for a spreadsheet (OWASP "CSV injection"): a cell
/// that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is
/// prefixed with `'` so no spreadsheet reads it as a formula. Numbers stay
/// numbers: a cell that parses as a number (`-12`, `1.5e3`) is unchanged.
pub fn csv_safe(s: &str) -> std::borrow::Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r')
            if s.trim().parse::<f64>().is_err() || s.starts_with(['\t', '\r']) =>
        {
            std::borrow::Cow::Owned(format!("'{s}"))
        }
        _ => std::borrow::Cow::Borrowed(s),
    }
}

/// Text from the data made inert for a terminal: control characters (C0,
/// DEL, C1, which carry ESC/OSC sequences), line and paragraph separators
/// and bidirectional overrides are shown escaped (`\x1b`, `\n`, `\u{202e}`).
pub fn term(s: &str) -> std::borrow::Cow<'_, str> {
    fn bad(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}')
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    }
    if !s.chars().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if bad(c) && (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if bad(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Text for either renderer: line breaks and tabs become spaces (a name
/// cannot start a new line, heading or table row), other control characters
/// and bidirectional overrides are shown escaped ([`term`]).
pub fn plain(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains(['\n', '\r', '\t']) {
        std::borrow::Cow::Owned(term(&s.replace(['\n', '\r', '\t'], " ")).into_owned())
    } else {
        term(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp()
    }

    #[test]
    fn sizes_and_counts() {
        assert_eq!(bytes(18.2e12), "18.2 TB");
        assert_eq!(bytes(1.5e15), "1.50 PB");
        assert_eq!(bytes(512e9), "512 GB");
        assert_eq!(bytes(900.0), "900 bytes");
        assert_eq!(count(96_174), "96,174");
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(count(12), "12");
        assert_eq!(date(ts("2023-07-26T00:00:00Z")), "26 Jul 2023");
    }

    #[test]
    fn uk_clock_and_deadline() {
        // summer: BST
        assert_eq!(
            uk_time(ts("2023-07-26T09:15:00Z")),
            "Wed 26 Jul 2023 10:15 BST"
        );
        // across a month end
        assert_eq!(
            uk_time(deadline_72h(ts("2023-07-30T09:00:00Z"))),
            "Wed 2 Aug 2023 10:00 BST"
        );
        // across the October clock change (29 Oct 2023, 01:00 UTC): 72 h later the
        // UK clock shows an hour less
        assert_eq!(
            uk_time(ts("2023-10-27T08:00:00Z")),
            "Fri 27 Oct 2023 09:00 BST"
        );
        assert_eq!(
            uk_time(deadline_72h(ts("2023-10-27T08:00:00Z"))),
            "Mon 30 Oct 2023 08:00 GMT"
        );
        // across the March clock change (26 Mar 2023)
        assert_eq!(
            uk_time(deadline_72h(ts("2023-03-24T12:00:00Z"))),
            "Mon 27 Mar 2023 13:00 BST"
        );
        // the change instants themselves
        assert_eq!(uk_offset(ts("2023-03-26T00:59:59Z")).1, "GMT");
        assert_eq!(uk_offset(ts("2023-03-26T01:00:00Z")).1, "BST");
        assert_eq!(uk_offset(ts("2023-10-29T00:59:59Z")).1, "BST");
        assert_eq!(uk_offset(ts("2023-10-29T01:00:00Z")).1, "GMT");
        assert_eq!(
            uk_time(ts("2024-01-31T23:30:00Z")),
            "Wed 31 Jan 2024 23:30 GMT"
        );
    }

    #[test]
    fn spreadsheet_and_terminal_safety() {
        assert_eq!(csv_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_safe("+1+2"), "'+1+2");
        assert_eq!(csv_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_safe("-cmd|' /C calc'!A0"), "'-cmd|' /C calc'!A0");
        assert_eq!(csv_safe("\tx"), "'\tx");
        assert_eq!(csv_safe("\r1"), "'\r1");
        assert_eq!(csv_safe("-12"), "-12");
        assert_eq!(csv_safe("-1.5e3"), "-1.5e3");
        assert_eq!(csv_safe("+3"), "+3");
        assert_eq!(csv_safe("Kent Police"), "Kent Police");
        assert_eq!(csv_safe(""), "");
        assert_eq!(term("Kent"), "Kent");
        assert_eq!(term("a\x1b]0;pwned\x07b"), "a\\x1b]0;pwned\\x07b");
        assert_eq!(term("x\ny"), "x\\ny");
        assert_eq!(term("\u{9b}31m"), "\\x9b31m");
        assert_eq!(term("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(
            term("Gwasanaeth Heddlu Dyfed-Powys — 警察"),
            "Gwasanaeth Heddlu Dyfed-Powys — 警察"
        );
    }
}
