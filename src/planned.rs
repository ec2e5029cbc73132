//! Planned windows (`--planned FILE`, SPEC "Input: planned windows"):
//! `force,system,start,end,expected_drop_pct,reason[,moved_to]`, key columns
//! as configured, `*` matching every value, dates inclusive; `moved_to`
//! names where a migration moves the data (see `moves`).

use crate::detect::PlanWindow;
use crate::ingest::{timestamp, SeriesSet};
use crate::sidefile::{SideFile, SideFileError};
use std::path::Path;

/// A planned window as written in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRow {
    /// Key values (`*` = any).
    pub key: Vec<String>,
    /// The window (start of the first day to the end of the last day).
    pub window: PlanWindow,
    /// Line in the file.
    pub line: u64,
    /// Where a migration moves the data (`moved_to`: `FORCE/SYSTEM`, or
    /// `SYSTEM` within the same force; several separated by `;`).
    pub moved_to: Vec<String>,
}

/// Reads a planned-windows file.
pub fn read(path: &Path, key_cols: &[String]) -> Result<Vec<PlannedRow>, SideFileError> {
    let (f, mut reader) = SideFile::open(path, "planned-windows file")?;
    let idx = f.require(key_cols.iter().map(String::as_str).chain(["start", "end"]))?;
    let exp_col = f.column("expected_drop_pct");
    let reason_col = f.column("reason");
    let moved_col = f.column("moved_to");
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let rec = rec.map_err(|e| f.error(line, "", e.to_string()))?;
        let get = |c: usize| rec.get(c).unwrap_or("").trim();
        let key: Vec<String> = idx[..key_cols.len()]
            .iter()
            .map(|&c| get(c).to_string())
            .collect();
        if let Some(k) = key.iter().position(String::is_empty) {
            return Err(f.error(
                line,
                &key_cols[k],
                "empty key (use * to match every value)".into(),
            ));
        }
        let day = |c: usize, name: &str| -> Result<i64, SideFileError> {
            let v = get(c);
            timestamp::parse(v).map_err(|why| f.error(line, name, format!("`{v}`: {why}")))
        };
        let start = day(idx[key_cols.len()], "start")?;
        let end_raw = day(idx[key_cols.len() + 1], "end")?;
        // A date-only end covers that whole day.
        let end = if get(idx[key_cols.len() + 1]).len() == 10 {
            end_raw + crate::clock::END_OF_DAY
        } else {
            end_raw
        };
        if end < start {
            return Err(f.error(
                line,
                "end",
                format!(
                    "end {} is before start {}",
                    get(idx[key_cols.len() + 1]),
                    get(idx[key_cols.len()])
                ),
            ));
        }
        let expected = match exp_col.map(get).unwrap_or("") {
            "" => None,
            v => match v.trim_end_matches('%').parse::<f64>() {
                Ok(x) if x.is_finite() && (0.0..=100.0).contains(&x) => Some(x),
                _ => return Err(f.error(line, "expected_drop_pct", format!("`{v}` is not a percentage from 0 to 100 (leave blank when the size is unknown)"))),
            },
        };
        let reason = reason_col.map(get).unwrap_or("").to_string();
        let moved_to: Vec<String> = moved_col
            .map(get)
            .unwrap_or("")
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        if !moved_to.is_empty() && key.iter().any(|k| k == "*") {
            return Err(f.error(
                line,
                "moved_to",
                "a move needs one source series (no `*` in its key)".into(),
            ));
        }
        out.push(PlannedRow {
            key,
            window: PlanWindow {
                start,
                end,
                expected_drop_pct: expected,
                reason,
            },
            line,
            moved_to,
        });
    }
    Ok(out)
}

/// The windows that apply to a series with `key`, in start order.
pub fn for_series(rows: &[PlannedRow], key: &[String]) -> Vec<PlanWindow> {
    PlanIndex::new(rows).for_series(key)
}

/// The planned rows indexed by key, so that finding the windows of each of
/// many series costs the rows that match it rather than every row (30,000
/// windows × 10,000 series were a third of a national scan).
pub struct PlanIndex<'a> {
    rows: &'a [PlannedRow],
    /// Rows without a `*`, by their key.
    exact: std::collections::HashMap<&'a [String], Vec<usize>>,
    /// Rows with a `*` in some key column, in file order.
    wild: Vec<usize>,
    /// The key lengths of the exact rows.
    lens: Vec<usize>,
}

impl<'a> PlanIndex<'a> {
    /// Indexes `rows`.
    pub fn new(rows: &'a [PlannedRow]) -> PlanIndex<'a> {
        let mut exact: std::collections::HashMap<&'a [String], Vec<usize>> =
            std::collections::HashMap::new();
        let mut wild = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            if r.key.iter().any(|k| k == "*") {
                wild.push(i);
            } else {
                exact.entry(r.key.as_slice()).or_default().push(i);
            }
        }
        let mut lens: Vec<usize> = exact.keys().map(|k| k.len()).collect();
        lens.sort_unstable();
        lens.dedup();
        PlanIndex {
            rows,
            exact,
            wild,
            lens,
        }
    }

    /// The windows that apply to a series with `key`, in start order (rows
    /// with the same start in file order).
    pub fn for_series(&self, key: &[String]) -> Vec<PlanWindow> {
        let matches = |r: &PlannedRow| r.key.iter().zip(key).all(|(a, b)| a == "*" || a == b);
        let mut idx: Vec<usize> = self
            .wild
            .iter()
            .copied()
            .filter(|&i| matches(&self.rows[i]))
            .collect();
        // an exact row whose key is shorter or longer than the series' still
        // matches on the columns both have, as a `*` row does
        if let Some(e) = self.exact.get(key) {
            idx.extend(e.iter().copied());
        }
        if self.lens.iter().any(|&l| l != key.len()) {
            idx.extend(
                self.exact
                    .iter()
                    .filter(|(k, _)| k.len() != key.len())
                    .flat_map(|(_, v)| v.iter().copied())
                    .filter(|&i| matches(&self.rows[i])),
            );
        }
        idx.sort_unstable();
        idx.dedup();
        let mut w: Vec<PlanWindow> = idx.iter().map(|&i| self.rows[i].window.clone()).collect();
        w.sort_by_key(|x| x.start);
        w
    }
}

/// Share of a series' time span a planned window may cover before it is
/// called out: a reduction in a window is reported as planned, never as a
/// loss, so a window over most of the data hides most losses.
pub const MAX_COVER: f64 = 0.5;

/// Warnings for the windows that cover at least [`MAX_COVER`] of the time
/// span (first to last observation) of a series they match, e.g. a
/// `*,*,1500-01-01,2500-12-31` row: each names the file, line, window and
/// how many series it silences. Series with one observation are left out
/// (nothing to silence). Linear in the windows times the series each
/// matches.
pub fn check_coverage(rows: &[PlannedRow], set: &SeriesSet, file: &str) -> Vec<String> {
    use std::collections::HashMap;
    // Series by key with the `*` positions of a window blanked, per pattern.
    let mut by_mask: HashMap<u64, HashMap<Vec<&str>, Vec<usize>>> = HashMap::new();
    let mut out = Vec::new();
    for r in rows {
        let mask = r
            .key
            .iter()
            .enumerate()
            .filter(|(_, k)| *k == "*")
            .fold(0u64, |m, (i, _)| m | 1 << i.min(63));
        let index = by_mask.entry(mask).or_insert_with(|| {
            let mut m: HashMap<Vec<&str>, Vec<usize>> = HashMap::new();
            for (i, k) in set.keys.iter().enumerate() {
                let p = k
                    .iter()
                    .enumerate()
                    .map(|(j, v)| {
                        if mask >> j.min(63) & 1 == 1 {
                            "*"
                        } else {
                            v.as_str()
                        }
                    })
                    .collect();
                m.entry(p).or_default().push(i);
            }
            m
        });
        let key: Vec<&str> = r.key.iter().map(String::as_str).collect();
        let Some(matched) = index.get(&key) else {
            continue;
        };
        let w = &r.window;
        let mut covered = Vec::new();
        for &i in matched {
            let t = &set.times[set.offsets[i]..set.offsets[i + 1]];
            let (Some(&first), Some(&last)) = (t.first(), t.last()) else {
                continue;
            };
            let span = (last - first) as f64;
            if span <= 0.0 {
                continue;
            }
            let inside = (w.end.min(last) - w.start.max(first)).max(0) as f64;
            if inside / span >= MAX_COVER {
                covered.push(i);
            }
        }
        if covered.is_empty() {
            continue;
        }
        // A date-only end is the last second of that day: shown as the date.
        let end = if (w.end + 1).rem_euclid(86_400) == 0 {
            timestamp::format(w.end - crate::clock::END_OF_DAY, true)
        } else {
            timestamp::format(w.end, false)
        };
        let example = set.keys[covered[0]].join("/");
        out.push(format!(
            "{file}, line {}: the planned window `{}` from {} to {} covers at least {:.0} % of the data of {} series (of {} it matches, e.g. {example}): every reduction there is reported as planned, never as a loss. Check the dates",
            r.line,
            r.key.join("/"),
            timestamp::format(w.start, true),
            end,
            MAX_COVER * 100.0,
            covered.len(),
            matched.len()
        ));
    }
    out
}

/// Warnings about a planned-windows file against the series read: a window
/// that matches no series (a typo in a name?) and windows of one series that
/// overlap (a drop in the overlap is judged against the earlier window, and
/// drops in one window share its expected size). Linear in the series and
/// windows (plus the overlapping pairs), so a national estate with tens of
/// thousands of windows is checked in milliseconds; at most `MAX_WARNINGS`.
pub fn check(rows: &[PlannedRow], series: &[Vec<String>], file: &str) -> Vec<String> {
    const MAX_WARNINGS: usize = 1000;
    use std::collections::{HashMap, HashSet};
    // For each pattern of `*` positions, the series keys with those
    // positions blanked: "does any series match this key" is one lookup.
    fn project(k: &[&str], mask: u64) -> Vec<String> {
        k.iter()
            .enumerate()
            .map(|(i, v)| {
                if mask >> i.min(63) & 1 == 1 {
                    "*".to_string()
                } else {
                    v.to_string()
                }
            })
            .collect()
    }
    let mut by_mask: HashMap<u64, HashSet<Vec<String>>> = HashMap::new();
    let mut exists = |key: &[&str]| -> bool {
        let mask = key
            .iter()
            .enumerate()
            .filter(|(_, k)| **k == "*")
            .fold(0u64, |m, (i, _)| m | 1 << i.min(63));
        let set = by_mask.entry(mask).or_insert_with(|| {
            series
                .iter()
                .map(|s| {
                    let s: Vec<&str> = s.iter().map(String::as_str).collect();
                    project(&s, mask)
                })
                .collect()
        });
        set.contains(&project(key, mask))
    };
    let mut out = Vec::new();
    for r in rows {
        let key: Vec<&str> = r.key.iter().map(String::as_str).collect();
        if !exists(&key) && out.len() < MAX_WARNINGS {
            out.push(format!(
                "{file}, line {}: `{}` matches no series in the input (a misspelt name?); the window is not used",
                r.line,
                r.key.join("/")
            ));
        }
    }
    // Overlaps: sweep in start order over the windows still open.
    let mut order: Vec<&PlannedRow> = rows.iter().collect();
    order.sort_by_key(|r| (r.window.start, r.line));
    let mut open: Vec<&PlannedRow> = Vec::new();
    for b in order {
        open.retain(|a| a.window.end >= b.window.start);
        for a in &open {
            if out.len() >= MAX_WARNINGS {
                return out;
            }
            let merged: Option<Vec<&str>> = a
                .key
                .iter()
                .zip(&b.key)
                .map(|(x, y)| match (x.as_str(), y.as_str()) {
                    ("*", v) | (v, "*") => Some(v),
                    (x, y) if x == y => Some(x),
                    _ => None,
                })
                .collect();
            if merged.is_some_and(|m| exists(&m)) {
                let (first, second) = if a.line < b.line { (a, &b) } else { (&b, a) };
                out.push(format!(
                    "{file}, lines {} and {}: windows for `{}` and `{}` overlap; a drop in the overlap is judged against the earlier window",
                    first.line,
                    second.line,
                    first.key.join("/"),
                    second.key.join("/")
                ));
            }
        }
        open.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &[&str], start: &str, end: &str, line: u64) -> PlannedRow {
        PlannedRow {
            key: key.iter().map(|k| k.to_string()).collect(),
            window: PlanWindow {
                start: timestamp::parse(start).unwrap(),
                end: timestamp::parse(end).unwrap() + 86_399,
                expected_drop_pct: None,
                reason: String::new(),
            },
            line,
            moved_to: Vec::new(),
        }
    }

    /// The index finds exactly the rows the plain filter does, in the same
    /// order: exact keys, `*` in either column, keys of another length,
    /// windows with the same start (file order kept).
    #[test]
    fn the_index_finds_what_the_filter_finds() {
        let rows = vec![
            row(&["A", "X"], "2021-03-01", "2021-03-02", 2),
            row(&["*", "X"], "2021-01-01", "2021-01-02", 3),
            row(&["A", "*"], "2021-03-01", "2021-03-05", 4),
            row(&["B", "Y"], "2021-02-01", "2021-02-02", 5),
            row(&["A"], "2021-02-10", "2021-02-11", 6),
            row(&["A", "X"], "2021-01-15", "2021-01-16", 7),
            row(&["*", "*"], "2021-03-01", "2021-03-01", 8),
        ];
        let naive = |key: &[String]| {
            let mut w: Vec<PlanWindow> = rows
                .iter()
                .filter(|r| r.key.iter().zip(key).all(|(a, b)| a == "*" || a == b))
                .map(|r| r.window.clone())
                .collect();
            w.sort_by_key(|x| x.start);
            w
        };
        let index = PlanIndex::new(&rows);
        for k in [["A", "X"], ["A", "Y"], ["B", "X"], ["B", "Y"], ["C", "Z"]] {
            let key: Vec<String> = k.iter().map(|s| s.to_string()).collect();
            let got = index.for_series(&key);
            assert_eq!(got, naive(&key), "{k:?}");
        }
        assert_eq!(
            index.for_series(&["A".to_string(), "X".to_string()]).len(),
            6
        );
    }

    #[test]
    fn windows_over_most_of_the_data_are_named() {
        // two series of 100 days from 2021-01-01, one of a single day
        let day = |d: i64| timestamp::parse("2021-01-01").unwrap() + d * 86_400;
        let mut set = SeriesSet {
            key_names: vec!["force".into(), "system".into()],
            offsets: vec![0],
            ..Default::default()
        };
        for (k, days) in [(["A", "X"], 100), (["B", "X"], 100), (["C", "Y"], 1)] {
            set.keys.push(k.iter().map(|s| s.to_string()).collect());
            set.times.extend((0..days).map(day));
            set.bytes.extend((0..days).map(|_| 1.0));
            set.objects.extend((0..days).map(|_| f64::NAN));
            set.offsets.push(set.times.len());
        }
        let rows = [
            row(&["*", "*"], "1500-01-01", "2500-12-31", 2),
            row(&["A", "X"], "2021-02-01", "2021-02-03", 3),
            row(&["*", "X"], "2021-01-01", "2021-03-01", 4),
            row(&["Nobody", "*"], "1500-01-01", "2500-12-31", 5),
        ];
        let w = check_coverage(&rows, &set, "p.csv");
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w[0].starts_with(
                "p.csv, line 2: the planned window `*/*` from 1500-01-01 to 2500-12-31"
            ) && w[0].contains("of 2 series (of 3 it matches"),
            "{}",
            w[0]
        );
        assert!(
            w[1].starts_with("p.csv, line 4") && w[1].contains("of 2 series"),
            "{}",
            w[1]
        );
    }
}
