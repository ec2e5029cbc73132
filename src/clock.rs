//! The moment of a run and the dates people type: `--as-of`, `--from` and
//! `--to` take a date (meaning its start, or its end for the last day of a
//! range or the night of a run) or a date-time taken as given; a report
//! folder is named by its run's date (UTC).

use crate::ingest::timestamp;
use anyhow::{anyhow, Result};

/// Seconds in a day, less one: a date's last second.
pub const END_OF_DAY: i64 = 86_399;

/// Now (UTC), in seconds since the epoch.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Parses a date or date-time typed for `flag`. A bare date is its first
/// second, or with `end_of_day` its last (`--as-of 2023-07-26` is the end of
/// that night; `--to` includes its day).
pub fn parse_flag(s: &str, flag: &str, end_of_day: bool) -> Result<i64> {
    let t =
        timestamp::parse(s).map_err(|why| anyhow!("{flag} `{}`: {why}", crate::fmt::term(s)))?;
    Ok(if end_of_day && is_date(s) {
        t + END_OF_DAY
    } else {
        t
    })
}

/// Whether the text is a bare date (`YYYY-MM-DD`), not a date-time.
pub fn is_date(s: &str) -> bool {
    s.trim().len() == 10
}

/// The moment of detection: the night given by `--as-of`, or now.
pub fn run_time(as_of: Option<&str>) -> Result<i64> {
    match as_of {
        Some(s) => parse_flag(s, "--as-of", true),
        None => Ok(now()),
    }
}

/// `YYYY-MM-DD` (UTC) of a moment: a report folder's default name.
pub fn date_of(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// Today's date in UTC as `YYYY-MM-DD`.
pub fn today() -> String {
    date_of(now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_date_times() {
        let d = parse_flag("2023-07-26", "--as-of", true).unwrap();
        assert_eq!(date_of(d), "2023-07-26");
        assert_eq!(d % 86_400, END_OF_DAY);
        assert_eq!(
            parse_flag("2023-07-26", "--from", false).unwrap() % 86_400,
            0
        );
        let t = parse_flag("2023-07-26T06:00:00Z", "--as-of", true).unwrap();
        assert_eq!(t % 86_400, 6 * 3600);
        let e = parse_flag("2023-13-01", "--to", true)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--to `2023-13-01`"), "{e}");
    }
}
