//! Parquet row groups as an incremental run sees them, from the file's
//! footer alone (no data decoded): each group's rows, its time range from
//! the timestamp column's statistics, and a signature of its metadata
//! (sizes and every column's statistics), so that a group rewritten or
//! added since the last run is told apart from one that is unchanged.

use super::IngestError;
use crate::hash::Fnv;
use polars::prelude::*;
use polars_arrow::datatypes::{ArrowDataType, TimeUnit as ArrowUnit};
use polars_parquet::parquet::statistics::Statistics;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One row group of a Parquet file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Rows in the group.
    pub rows: u64,
    /// Earliest time in the group (seconds, UTC), when the statistics say.
    pub min_ts: Option<i64>,
    /// Latest time in the group, when the statistics say.
    pub max_ts: Option<i64>,
    /// FNV-1a of the group's sizes and column statistics, hex.
    pub sig: String,
}

/// The row groups of a Parquet file; `time_col` is the timestamp column.
/// A file without statistics on that column (or with times as text) gives
/// groups without a time range: nothing of it can be skipped.
pub fn parquet_groups(path: &Path, time_col: &str) -> Result<Vec<Group>, IngestError> {
    let unreadable = |reason: String| IngestError::Unreadable {
        file: path.display().to_string(),
        reason,
    };
    let f = crate::safefs::open_regular(path, crate::safefs::Links::Follow)
        .map_err(|e| unreadable(super::io_reason(path, &e)))?;
    let mut reader = ParquetReader::new(f);
    let schema = reader.schema().map_err(|e| unreadable(e.to_string()))?;
    let md = reader
        .get_metadata()
        .map_err(|e| unreadable(e.to_string()))?
        .clone();
    // Seconds from the physical value of the timestamp column.
    let unit: Option<i64> = match schema.get(time_col).map(|f| f.dtype()) {
        Some(ArrowDataType::Timestamp(u, _)) => Some(match u {
            ArrowUnit::Second => 1,
            ArrowUnit::Millisecond => 1_000,
            ArrowUnit::Microsecond => 1_000_000,
            ArrowUnit::Nanosecond => 1_000_000_000,
        }),
        Some(ArrowDataType::Date32) => Some(-86_400), // days: multiply
        _ => None,
    };
    let secs = |v: i64| match unit {
        Some(d) if d < 0 => Some(v.saturating_mul(-d)),
        Some(d) => Some(v.div_euclid(d)),
        None => None,
    };
    let footer = &md.footer_buf;
    let mut out = Vec::with_capacity(md.row_groups.len());
    for rg in &md.row_groups {
        let mut h = Fnv::default();
        h.eat(&(rg.num_rows() as u64).to_le_bytes());
        h.eat(&(rg.total_byte_size() as u64).to_le_bytes());
        let (mut min_ts, mut max_ts) = (None, None);
        for c in rg.parquet_columns() {
            h.eat(c.descriptor().path_in_schema.join(".").as_bytes());
            h.eat(&c.compressed_size().to_le_bytes());
            h.eat(&c.uncompressed_size().to_le_bytes());
            h.eat(&c.num_values().to_le_bytes());
            let stats = c.statistics(footer).and_then(Result::ok);
            h.eat(format!("{stats:?}").as_bytes());
            let is_time = c.descriptor().path_in_schema.len() == 1
                && c.descriptor().path_in_schema[0].as_str() == time_col;
            if !is_time {
                continue;
            }
            let (lo, hi) = match &stats {
                Some(Statistics::Int64(s)) if s.null_count.unwrap_or(0) == 0 => {
                    (s.min_value, s.max_value)
                }
                Some(Statistics::Int32(s)) if s.null_count.unwrap_or(0) == 0 => {
                    (s.min_value.map(i64::from), s.max_value.map(i64::from))
                }
                _ => (None, None),
            };
            min_ts = lo.and_then(secs);
            max_ts = hi.and_then(secs);
        }
        out.push(Group {
            rows: rg.num_rows() as u64,
            min_ts,
            max_ts,
            sig: format!("{:016x}", h.finish()),
        });
    }
    Ok(out)
}
