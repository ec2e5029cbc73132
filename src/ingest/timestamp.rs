//! Timestamps as SPEC allows them: `YYYY-MM-DD` (midnight UTC) or an RFC 3339
//! date-time, UTC when it carries no offset (`2023-07-26T06:00:00`,
//! `2023-07-26 06:00:00`, `…Z`, `…+01:00`). Parsed by hand on the fast path;
//! impossible dates (2023-02-30) are rejected.

use chrono::{DateTime, NaiveDate};

/// Seconds since the Unix epoch (UTC), or a reason why not.
pub fn parse(s: &str) -> Result<i64, &'static str> {
    parse_with(s, &mut DayCache::default())
}

/// The last calendar date parsed: files repeat one date for many rows.
#[derive(Debug, Default)]
pub struct DayCache {
    date: [u8; 10],
    day: i64,
}

impl DayCache {
    fn date(&mut self, b: &[u8]) -> Option<i64> {
        if b == self.date {
            return Some(self.day);
        }
        let d = date(b)?;
        self.date.copy_from_slice(b);
        self.day = d;
        Some(d)
    }
}

/// [`parse`], reusing the date part when it is the same as last time.
pub fn parse_with(s: &str, cache: &mut DayCache) -> Result<i64, &'static str> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() == 10 {
        return cache
            .date(b)
            .ok_or("not a valid date (expected YYYY-MM-DD)");
    }
    if b.len() >= 19 && (b[10] == b'T' || b[10] == b' ' || b[10] == b't') {
        let day = cache
            .date(&b[..10])
            .ok_or("not a valid date-time (bad date part)")?;
        let hms = hms(&b[11..19]).ok_or("not a valid date-time (bad time part)")?;
        let rest = &s[19..];
        let rest = rest
            .strip_prefix('.')
            .map(|r| r.trim_start_matches(|c: char| c.is_ascii_digit()))
            .unwrap_or(rest);
        let offset = match rest {
            "" | "Z" | "z" => 0,
            _ => offset(rest).ok_or("not a valid date-time (bad offset; expected Z or ±HH:MM)")?,
        };
        return Ok(day + hms - offset);
    }
    Err("not a date or RFC 3339 date-time")
}

/// `+HH:MM`, `-HH:MM` or `+HHMM`, at most ±18 hours, as seconds east of UTC.
fn offset(s: &str) -> Option<i64> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let b = rest.as_bytes();
    let (h, m) = match b.len() {
        5 if b[2] == b':' => (num(&b[..2])?, num(&b[3..])?),
        4 => (num(&b[..2])?, num(&b[2..])?),
        _ => return None,
    };
    (h <= 18 && m < 60).then_some(sign * i64::from(h * 3600 + m * 60))
}

fn num(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

fn date(b: &[u8]) -> Option<i64> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let d = NaiveDate::from_ymd_opt(num(&b[..4])? as i32, num(&b[5..7])?, num(&b[8..10])?)?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp())
}

fn hms(b: &[u8]) -> Option<i64> {
    if b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (h, m, s) = (num(&b[..2])?, num(&b[3..5])?, num(&b[6..8])?);
    (h < 24 && m < 60 && s < 61).then_some(i64::from(h * 3600 + m * 60 + s.min(59)))
}

/// Formats a timestamp as `YYYY-MM-DD` when it is midnight and `date_only`
/// is asked for, otherwise as RFC 3339 UTC (`2023-07-26T06:00:00Z`).
pub fn format(ts: i64, date_only: bool) -> String {
    let Some(dt) = DateTime::from_timestamp(ts, 0) else {
        return ts.to_string();
    };
    if date_only && ts.rem_euclid(86_400) == 0 {
        dt.format("%Y-%m-%d").to_string()
    } else {
        dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms() {
        let d = 1_690_329_600; // 2023-07-26
        assert_eq!(parse("2023-07-26"), Ok(d));
        assert_eq!(parse(" 2023-07-26 "), Ok(d));
        assert_eq!(parse("2023-07-26T06:00:00"), Ok(d + 21_600));
        assert_eq!(parse("2023-07-26 06:00:00Z"), Ok(d + 21_600));
        assert_eq!(parse("2023-07-26T06:00:00.250Z"), Ok(d + 21_600));
        assert_eq!(parse("2023-07-26T07:00:00+01:00"), Ok(d + 21_600));
        assert_eq!(parse("2023-07-26T01:00:00-05:00"), Ok(d + 21_600));
    }

    #[test]
    fn rejected_forms() {
        assert!(parse("2023-02-30").is_err());
        assert!(parse("26/07/2023").is_err());
        assert!(parse("").is_err());
        assert!(parse("2023-07-26T25:00:00").is_err());
        assert!(parse("2023-07-26T06:00:00+99:00").is_err());
        assert!(parse("yesterday").is_err());
    }

    #[test]
    fn formatting() {
        assert_eq!(format(1_690_329_600, true), "2023-07-26");
        assert_eq!(format(1_690_329_600 + 3600, true), "2023-07-26T01:00:00Z");
        assert_eq!(format(1_690_329_600, false), "2023-07-26T00:00:00Z");
    }
}
