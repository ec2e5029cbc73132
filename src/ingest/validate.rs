//! Row validation: every row of a piece checked (time, key, bytes, objects)
//! on two threads, rejected rows kept with file, line, column and reason,
//! good rows appended to the run's compact rows with their series id.

use super::columns::{NumCol, NumView, TimeCol, TimeView};
use super::keys::{KeyCache, KeyTable};
use super::{timestamp, ColumnNames, IngestError, RawRows, Rejected};
use polars::prelude::*;
use polars_arrow::array::Utf8ViewArray;

/// What is being read, for messages and rejected rows.
pub(super) struct Ctx<'a> {
    pub fname: &'a str,
    pub cols: &'a ColumnNames,
    pub shard: Option<super::Shard>,
    /// Rows before this time (seconds, UTC) are counted, not kept (an
    /// incremental run's window, see `crate::incremental`).
    pub since: Option<i64>,
    /// Only these series are kept (an incremental run re-reading the whole
    /// history of the few series its window could not judge); rows of any
    /// other series, and rows without a key, are counted as left out.
    pub only: Option<&'a std::collections::HashSet<Vec<String>>>,
}

impl Ctx<'_> {
    pub(super) fn unreadable(&self, reason: impl Into<String>) -> IngestError {
        IngestError::Unreadable {
            file: self.fname.to_string(),
            reason: reason.into(),
        }
    }
}

/// Line (CSV, header = 1) or row (Parquet, first = 1) of each record of a piece.
pub(super) enum Lines {
    /// One record per line from this line on.
    From(u64),
    /// Explicit line of each record (quoted newlines or blank lines).
    Map(Vec<u64>),
}

impl Lines {
    pub(super) fn of(&self, i: usize) -> u64 {
        match self {
            Lines::From(first) => first + i as u64,
            Lines::Map(m) => m.get(i).copied().unwrap_or(0),
        }
    }
}

/// Validates the rows of one piece and appends the good ones to `raw`.
/// Returns the number of rows read.
pub(super) fn process(
    df: &DataFrame,
    ctx: &Ctx,
    lines: &Lines,
    raw: &mut RawRows,
    rejected: &mut Vec<Rejected>,
) -> Result<u64, IngestError> {
    let cols = ctx.cols;
    let n = df.height();
    if n == 0 {
        return Ok(0);
    }
    let col = |c: &str| {
        df.column(c).map_err(|_| IngestError::MissingColumn {
            file: ctx.fname.to_string(),
            column: c.to_string(),
            found: df
                .get_column_names()
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
    };
    let bad_type = |c: &str, e: String| ctx.unreadable(format!("column `{c}`: {e}"));
    let times = TimeCol::new(col(&cols.time)?).map_err(|e| bad_type(&cols.time, e))?;
    let values = NumCol::new(col(&cols.value)?).map_err(|e| bad_type(&cols.value, e))?;
    let counts = match df.column(&cols.count) {
        Ok(c) => Some(NumCol::new(c).map_err(|e| bad_type(&cols.count, e))?),
        Err(_) if cols.count_required => {
            col(&cols.count)?;
            None
        }
        Err(_) => None,
    };
    if counts.is_some() {
        raw.has_objects = true;
    }
    let key_cols: Vec<StringChunked> = cols
        .keys
        .iter()
        .map(|k| {
            col(k)?
                .cast(&DataType::String)
                .and_then(|c| c.str().cloned())
                .map_err(|e| ctx.unreadable(e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    let none = || ctx.unreadable("column without data");
    let tv = times.view().ok_or_else(none)?;
    let vv = values.view().ok_or_else(none)?;
    let cv = match &counts {
        Some(c) => Some(c.view().ok_or_else(none)?),
        None => None,
    };
    let kv: Vec<&Utf8ViewArray> = key_cols
        .iter()
        .map(|k| k.downcast_iter().next().ok_or_else(none))
        .collect::<Result<_, _>>()?;
    if lines.of(0) > u32::MAX as u64 || lines.of(n - 1) > u32::MAX as u64 {
        return Err(
            ctx.unreadable("more than 4,294,967,295 rows in one file: split the file into several")
        );
    }
    let v = Views {
        time: tv,
        value: vv,
        count: cv,
        keys: kv,
    };
    // Two halves in parallel, each with its own key table, appended in order.
    let mid = n / 2;
    let (a, b) = rayon::join(
        || rows_local(&v, 0..mid, ctx, lines),
        || rows_local(&v, mid..n, ctx, lines),
    );
    for part in [a, b] {
        // Only series with a row kept become series (all rows of a series
        // may be rejected, or belong to another shard).
        let mut used = vec![false; part.keys.keys.len()];
        for &s in &part.sid {
            used[s as usize] = true;
        }
        let ids: Vec<u32> = part
            .keys
            .keys
            .iter()
            .enumerate()
            .map(|(l, k)| {
                if !used[l] {
                    return u32::MAX; // no row of it kept
                }
                let k: Vec<&str> = k.iter().map(String::as_str).collect();
                raw.keys.id(&k)
            })
            .collect();
        raw.sid.extend(part.sid.iter().map(|&s| ids[s as usize]));
        raw.ts.extend_from_slice(&part.ts);
        raw.bytes.extend_from_slice(&part.bytes);
        raw.objects.extend_from_slice(&part.objects);
        raw.line.extend_from_slice(&part.line);
        raw.other_shards += part.other;
        raw.before_window += part.before;
        if let Some(r) = raw.ts_range.last_mut() {
            r.0 = r.0.min(part.min_ts);
            r.1 = r.1.max(part.max_ts);
        }
        rejected.extend(part.rejected);
    }
    Ok(n as u64)
}

/// Column views of one piece.
pub(super) struct Views<'a> {
    time: TimeView<'a>,
    value: NumView<'a>,
    count: Option<NumView<'a>>,
    keys: Vec<&'a Utf8ViewArray>,
}

/// Rows of part of a piece, with series ids local to `keys`.
#[derive(Default)]
pub(super) struct Local {
    keys: KeyTable,
    sid: Vec<u32>,
    ts: Vec<i64>,
    bytes: Vec<f64>,
    objects: Vec<f64>,
    line: Vec<u32>,
    rejected: Vec<Rejected>,
    /// Rows of other shards.
    other: u64,
    /// Per local id: the series belongs to this run's shard.
    inside: Vec<bool>,
    /// Rows before the window (`Ctx::since`), counted, not kept.
    before: u64,
    /// Earliest and latest time read (every row with a valid time).
    min_ts: i64,
    max_ts: i64,
}

pub(super) fn rows_local(
    v: &Views,
    range: std::ops::Range<usize>,
    ctx: &Ctx,
    lines: &Lines,
) -> Local {
    let cols = ctx.cols;
    let mut out = Local {
        min_ts: i64::MAX,
        max_ts: i64::MIN,
        ..Local::default()
    };
    let cap = range.len();
    out.sid.reserve(cap);
    out.ts.reserve(cap);
    out.bytes.reserve(cap);
    out.objects.reserve(cap);
    out.line.reserve(cap);
    let mut cache = KeyCache::default();
    let mut key_buf: Vec<&str> = Vec::with_capacity(v.keys.len());
    let mut days = timestamp::DayCache::default();
    let rejected = &mut out.rejected;
    'rows: for i in range {
        let mut reject = |column: &str, value: String, reason: String| {
            rejected.push(Rejected {
                file: ctx.fname.to_string(),
                line: lines.of(i),
                column: column.to_string(),
                value,
                reason,
            });
        };
        key_buf.clear();
        for (k, kc) in v.keys.iter().enumerate() {
            let s = kc.get(i).map(str::trim).unwrap_or("");
            if s.is_empty() {
                // A row without a key is reported by one shard only.
                if ctx.shard.is_some_and(|sh| !sh.first()) || ctx.only.is_some() {
                    out.other += 1;
                } else if blank_row(v, i) {
                    reject("", String::new(), "blank line".into());
                } else {
                    reject(&cols.keys[k], String::new(), "empty key".into());
                }
                continue 'rows;
            }
            key_buf.push(s);
        }
        let sid = cache.resolve(&key_buf, &mut out.keys);
        if ctx.shard.is_some() || ctx.only.is_some() {
            while out.inside.len() < out.keys.keys.len() {
                let key = &out.keys.keys[out.inside.len()];
                let k: Vec<&str> = key.iter().map(String::as_str).collect();
                out.inside.push(
                    ctx.shard.is_none_or(|sh| sh.holds(&k))
                        && ctx.only.is_none_or(|only| only.contains(key)),
                );
            }
            if !out.inside[sid as usize] {
                out.other += 1;
                continue;
            }
        }
        let ts = match &v.time {
            TimeView::Text(s) => {
                let t = s.get(i).unwrap_or("");
                if t.trim().is_empty() {
                    reject(&cols.time, String::new(), "missing timestamp".into());
                    continue;
                }
                match timestamp::parse_with(t, &mut days) {
                    Ok(x) => x,
                    Err(why) => {
                        reject(&cols.time, t.to_string(), why.into());
                        continue;
                    }
                }
            }
            TimeView::Int(a, div) => match a.get(i) {
                Some(x) => x.div_euclid(*div),
                None => {
                    reject(&cols.time, String::new(), "missing timestamp".into());
                    continue;
                }
            },
            TimeView::Days(a) => match a.get(i) {
                Some(d) => i64::from(d) * 86_400,
                None => {
                    reject(&cols.time, String::new(), "missing timestamp".into());
                    continue;
                }
            },
        };
        out.min_ts = out.min_ts.min(ts);
        out.max_ts = out.max_ts.max(ts);
        if ctx.since.is_some_and(|s| ts < s) {
            out.before += 1;
            continue;
        }
        let bytes = match v.value.get(i) {
            Ok(Some(b)) => b,
            Ok(None) => {
                reject(&cols.value, String::new(), "missing bytes value".into());
                continue;
            }
            Err((x, why)) => {
                reject(&cols.value, x, why.into());
                continue;
            }
        };
        let objects = match v.count.as_ref().map(|c| c.get(i)) {
            None | Some(Ok(None)) => f64::NAN,
            Some(Ok(Some(o))) => o,
            Some(Err((x, why))) => {
                reject(&cols.count, x, why.into());
                continue;
            }
        };
        out.sid.push(sid);
        out.ts.push(ts);
        out.bytes.push(bytes);
        out.objects.push(objects);
        out.line.push(lines.of(i) as u32);
    }
    out
}

/// True when every field of row `i` is missing (a blank line in a CSV file).
pub(super) fn blank_row(v: &Views, i: usize) -> bool {
    let empty = |a: &Utf8ViewArray| a.get(i).is_none_or(|s| s.trim().is_empty());
    let time_empty = match &v.time {
        TimeView::Text(a) => empty(a),
        TimeView::Int(a, _) => a.get(i).is_none(),
        TimeView::Days(a) => a.get(i).is_none(),
    };
    time_empty
        && v.keys.iter().all(|a| empty(a))
        && matches!(v.value.get(i), Ok(None))
        && v.count
            .as_ref()
            .is_none_or(|c| matches!(c.get(i), Ok(None)))
}
