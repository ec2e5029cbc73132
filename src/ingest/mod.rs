//! Ingest: read storage-volume observations (CSV or Parquet, one file, many
//! files or a folder) with polars, validate every row, set aside bad rows with
//! the file, line and reason, and split the rest into series.
//!
//! Nothing is silently dropped: every row read is either kept, counted as an
//! exact duplicate, or written to `rejected.csv`.

pub mod series;
pub mod timestamp;

use polars::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

pub use series::{Series as SeriesRef, SeriesSet};

/// Names of the input columns (SPEC: configurable).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnNames {
    /// Timestamp column.
    pub time: String,
    /// Key columns; one series per distinct combination.
    pub keys: Vec<String>,
    /// Bytes column.
    pub value: String,
    /// Object-count column.
    pub count: String,
    /// True when the user named the count column, so it must exist.
    pub count_required: bool,
}

impl Default for ColumnNames {
    fn default() -> Self {
        ColumnNames {
            time: "timestamp".into(),
            keys: vec!["force".into(), "system".into()],
            value: "bytes".into(),
            count: "objects".into(),
            count_required: false,
        }
    }
}

/// A problem that stops the run (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file or folder could not be opened or parsed at all.
    #[error("cannot read {file}: {reason}")]
    Unreadable {
        /// The file.
        file: String,
        /// What went wrong.
        reason: String,
    },
    /// A required column is absent.
    #[error("{file}: required column `{column}` is missing (columns found: {found})")]
    MissingColumn {
        /// The file.
        file: String,
        /// The column that was expected.
        column: String,
        /// The columns the file has.
        found: String,
    },
    /// No input files were found.
    #[error("no .csv or .parquet input files found in {0}")]
    NoFiles(String),
}

/// A row set aside, with where it came from and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejected {
    /// Input file.
    pub file: String,
    /// Line in a CSV file (header = line 1), row number in a Parquet file.
    pub line: u64,
    /// Column at fault (empty when the whole row is).
    pub column: String,
    /// The offending value, as read.
    pub value: String,
    /// Why it was rejected.
    pub reason: String,
}

/// An input file as read, for the manifest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputFile {
    /// Path as given.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Data rows read.
    pub rows: u64,
}

/// Counts that prove nothing was dropped: `rows_read = rows_kept + duplicates + rejected`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IngestCounts {
    /// Data rows read from all files.
    pub rows_read: u64,
    /// Rows kept as observations.
    pub rows_kept: u64,
    /// Exact duplicate rows removed.
    pub duplicates: u64,
    /// Rows written to rejected.csv.
    pub rejected: u64,
    /// Series found.
    pub series: u64,
}

/// Everything ingest produces.
#[derive(Debug, Clone)]
pub struct Ingested {
    /// The observations, grouped into series.
    pub set: SeriesSet,
    /// Rows set aside.
    pub rejected: Vec<Rejected>,
    /// Files read.
    pub files: Vec<InputFile>,
    /// Row accounting.
    pub counts: IngestCounts,
}

/// Rows of all files before grouping, with where each came from.
#[derive(Debug, Default)]
pub(crate) struct RawRows {
    pub sid: Vec<u32>,
    pub ts: Vec<i64>,
    pub bytes: Vec<f64>,
    pub objects: Vec<f64>,
    pub src: Vec<(u32, u64)>,
    pub keys: Vec<Vec<String>>,
    pub key_index: HashMap<Vec<String>, u32>,
    pub has_objects: bool,
}

/// Expands folders into their `.csv` / `.parquet` files (sorted by name).
/// Files named like shrinkwatch's own side files (`planned.csv`,
/// `labels.csv`, `rejected.csv`, `findings.csv`) are not observations and
/// are skipped in folders.
pub fn expand_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, IngestError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|e| IngestError::Unreadable {
                file: p.display().to_string(),
                reason: e.to_string(),
            })?;
            let mut found: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| is_data_file(f))
                .filter(|f| {
                    !matches!(
                        f.file_name().and_then(|n| n.to_str()),
                        Some("planned.csv" | "labels.csv" | "rejected.csv" | "findings.csv")
                    )
                })
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(IngestError::NoFiles(p.display().to_string()));
            }
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn is_data_file(p: &Path) -> bool {
    matches!(
        p.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("csv" | "parquet")
    )
}

/// Reads and validates every input file, then groups rows into series.
pub fn ingest(paths: &[PathBuf], cols: &ColumnNames) -> Result<Ingested, IngestError> {
    let files = expand_inputs(paths)?;
    let mut raw = RawRows::default();
    let mut rejected = Vec::new();
    let mut infos = Vec::new();
    for (fi, path) in files.iter().enumerate() {
        let rows = read_file(path, fi as u32, cols, &mut raw, &mut rejected)?;
        infos.push(file_info(path, rows)?);
    }
    let rows_read: u64 = infos.iter().map(|f| f.rows).sum();
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let (set, dup, conflicts) = series::group(raw, cols, &names);
    rejected.extend(conflicts);
    let counts = IngestCounts {
        rows_read,
        rows_kept: set.times.len() as u64,
        duplicates: dup,
        rejected: rejected.len() as u64,
        series: set.len() as u64,
    };
    debug_assert_eq!(
        counts.rows_read,
        counts.rows_kept + counts.duplicates + counts.rejected
    );
    Ok(Ingested {
        set,
        rejected,
        files: infos,
        counts,
    })
}

fn file_info(path: &Path, rows: u64) -> Result<InputFile, IngestError> {
    let unreadable = |e: std::io::Error| IngestError::Unreadable {
        file: path.display().to_string(),
        reason: e.to_string(),
    };
    let mut f = std::fs::File::open(path).map_err(unreadable)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(unreadable)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    let sha256 = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok(InputFile {
        path: path.display().to_string(),
        size,
        sha256,
        rows,
    })
}

fn read_file(
    path: &Path,
    fi: u32,
    cols: &ColumnNames,
    raw: &mut RawRows,
    rejected: &mut Vec<Rejected>,
) -> Result<u64, IngestError> {
    let fname = path.display().to_string();
    let unreadable = |reason: String| IngestError::Unreadable {
        file: fname.clone(),
        reason,
    };
    if !path.is_file() {
        return Err(unreadable("no such file".into()));
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let (mut df, csv) = match ext.as_str() {
        "csv" => {
            let df = CsvReadOptions::default()
                .with_has_header(true)
                .with_infer_schema_length(Some(0))
                .try_into_reader_with_file_path(Some(path.to_path_buf()))
                .and_then(|r| r.finish())
                .map_err(|e| unreadable(first_line(&e.to_string())))?;
            (df, true)
        }
        "parquet" => {
            let f = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
            let df = ParquetReader::new(f)
                .finish()
                .map_err(|e| unreadable(first_line(&e.to_string())))?;
            (df, false)
        }
        _ => {
            return Err(unreadable(
                "unknown file type (expected .csv or .parquet)".into(),
            ))
        }
    };
    // One chunk per column: row access by index is then O(1) (on a column
    // of many chunks, as Parquet row groups give, every access searches them).
    df.rechunk_mut_par();
    // A UTF-8 byte-order mark ends up in the first column name.
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    for n in &names {
        let clean = n.trim_start_matches('\u{feff}').trim();
        if clean != n {
            df.rename(n, clean.into())
                .map_err(|e| unreadable(e.to_string()))?;
        }
    }
    let found: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    // A file written with another delimiter reads as one wide column.
    let hint = match found.as_slice() {
        [one] if one.contains(';') => {
            " (the file looks semicolon-separated; shrinkwatch reads comma-separated CSV)"
        }
        [one] if one.contains('\t') => {
            " (the file looks tab-separated; shrinkwatch reads comma-separated CSV)"
        }
        _ => "",
    };
    let need = |c: &str| -> Result<&Column, IngestError> {
        df.column(c).map_err(|_| IngestError::MissingColumn {
            file: fname.clone(),
            column: c.to_string(),
            found: format!("{}{hint}", found.join(", ")),
        })
    };
    let time = need(&cols.time)?;
    let value = need(&cols.value)?;
    let keys: Vec<&Column> = cols
        .keys
        .iter()
        .map(|k| need(k))
        .collect::<Result<_, _>>()?;
    let count = if cols.count_required {
        Some(need(&cols.count)?)
    } else {
        df.column(&cols.count).ok()
    };
    if count.is_some() {
        raw.has_objects = true;
    }
    let n = df.height();
    let line_of = |i: usize| if csv { i as u64 + 2 } else { i as u64 + 1 };
    let times =
        TimeCol::new(time).map_err(|e| unreadable(format!("column `{}`: {e}", cols.time)))?;
    let values =
        NumCol::new(value).map_err(|e| unreadable(format!("column `{}`: {e}", cols.value)))?;
    let counts = count
        .map(NumCol::new)
        .transpose()
        .map_err(|e| unreadable(format!("column `{}`: {e}", cols.count)))?;
    let key_strs: Vec<StringChunked> = keys
        .iter()
        .map(|k| k.cast(&DataType::String).and_then(|c| c.str().cloned()))
        .collect::<Result<_, _>>()
        .map_err(|e| unreadable(e.to_string()))?;
    // Keys are looked up as borrowed strings in a per-file map, so a row
    // allocates nothing; only a series seen for the first time is copied.
    let mut key_buf: Vec<&str> = Vec::with_capacity(cols.keys.len());
    let mut local: HashMap<Vec<&str>, u32> = HashMap::new();
    'rows: for i in 0..n {
        let mut reject = |column: &str, value: String, reason: String| {
            rejected.push(Rejected {
                file: fname.clone(),
                line: line_of(i),
                column: column.to_string(),
                value,
                reason,
            });
        };
        key_buf.clear();
        for (k, kc) in key_strs.iter().enumerate() {
            let v = kc.get(i).map(str::trim).unwrap_or("");
            if v.is_empty() {
                reject(&cols.keys[k], String::new(), "empty key".into());
                continue 'rows;
            }
            key_buf.push(v);
        }
        let ts = match times.get(i) {
            Ok(t) => t,
            Err((v, why)) => {
                reject(&cols.time, v, why.into());
                continue;
            }
        };
        let bytes = match values.get(i) {
            Ok(Some(b)) => b,
            Ok(None) => {
                reject(&cols.value, String::new(), "missing bytes value".into());
                continue;
            }
            Err((v, why)) => {
                reject(&cols.value, v, why.into());
                continue;
            }
        };
        let objects = match counts.as_ref().map(|c| c.get(i)) {
            None | Some(Ok(None)) => f64::NAN,
            Some(Ok(Some(o))) => o,
            Some(Err((v, why))) => {
                reject(&cols.count, v, why.into());
                continue;
            }
        };
        let sid = match local.get(key_buf.as_slice()) {
            Some(&s) => s,
            None => {
                let owned: Vec<String> = key_buf.iter().map(|k| k.to_string()).collect();
                let next = raw.keys.len() as u32;
                let s = *raw.key_index.entry(owned.clone()).or_insert_with(|| {
                    raw.keys.push(owned);
                    next
                });
                local.insert(key_buf.clone(), s);
                s
            }
        };
        raw.sid.push(sid);
        raw.ts.push(ts);
        raw.bytes.push(bytes);
        raw.objects.push(objects);
        raw.src.push((fi, line_of(i)));
    }
    Ok(n as u64)
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_string()
}

/// The timestamp column in whatever type the file holds.
enum TimeCol {
    Text(StringChunked),
    /// Physical integer and the factor that turns it into seconds (divisor).
    Int(Int64Chunked, i64),
    Days(Int32Chunked),
}

impl TimeCol {
    fn new(c: &Column) -> Result<TimeCol, String> {
        match c.dtype() {
            DataType::String => Ok(TimeCol::Text(c.str().map_err(|e| e.to_string())?.clone())),
            DataType::Datetime(tu, _) => {
                let div = match tu {
                    TimeUnit::Nanoseconds => 1_000_000_000,
                    TimeUnit::Microseconds => 1_000_000,
                    TimeUnit::Milliseconds => 1_000,
                };
                let phys = c.cast(&DataType::Int64).map_err(|e| e.to_string())?;
                Ok(TimeCol::Int(
                    phys.i64().map_err(|e| e.to_string())?.clone(),
                    div,
                ))
            }
            DataType::Date => {
                let phys = c.cast(&DataType::Int32).map_err(|e| e.to_string())?;
                Ok(TimeCol::Days(
                    phys.i32().map_err(|e| e.to_string())?.clone(),
                ))
            }
            other => Err(format!(
                "has type {other}, expected a date, date-time or text"
            )),
        }
    }

    fn get(&self, i: usize) -> Result<i64, (String, &'static str)> {
        match self {
            TimeCol::Text(s) => {
                let v = s.get(i).unwrap_or("");
                if v.trim().is_empty() {
                    return Err((String::new(), "missing timestamp"));
                }
                timestamp::parse(v).map_err(|why| (v.to_string(), why))
            }
            TimeCol::Int(a, div) => a
                .get(i)
                .map(|v| v.div_euclid(*div))
                .ok_or((String::new(), "missing timestamp")),
            TimeCol::Days(a) => a
                .get(i)
                .map(|d| i64::from(d) * 86_400)
                .ok_or((String::new(), "missing timestamp")),
        }
    }
}

/// A non-negative integer column (bytes or objects) in whatever type the file holds.
enum NumCol {
    Text(StringChunked),
    Float(Float64Chunked),
    Int(Int64Chunked),
    UInt(UInt64Chunked),
}

impl NumCol {
    fn new(c: &Column) -> Result<NumCol, String> {
        let e = |e: PolarsError| e.to_string();
        Ok(match c.dtype() {
            DataType::String => NumCol::Text(c.str().map_err(e)?.clone()),
            DataType::Float32 | DataType::Float64 => NumCol::Float(
                c.cast(&DataType::Float64)
                    .map_err(e)?
                    .f64()
                    .map_err(e)?
                    .clone(),
            ),
            DataType::UInt64 => NumCol::UInt(c.u64().map_err(e)?.clone()),
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32 => NumCol::Int(
                c.cast(&DataType::Int64)
                    .map_err(e)?
                    .i64()
                    .map_err(e)?
                    .clone(),
            ),
            other => return Err(format!("has type {other}, expected a non-negative integer")),
        })
    }

    /// `Ok(None)` for a missing value.
    fn get(&self, i: usize) -> Result<Option<f64>, (String, &'static str)> {
        match self {
            NumCol::Text(s) => match s.get(i).map(str::trim) {
                None | Some("") => Ok(None),
                Some(v) => parse_count(v).map(Some).map_err(|why| (v.to_string(), why)),
            },
            NumCol::Float(a) => match a.get(i) {
                None => Ok(None),
                Some(v) if !v.is_finite() => Err((v.to_string(), "not a number")),
                Some(v) if v < 0.0 => Err((v.to_string(), "negative value")),
                Some(v) if v.fract() != 0.0 => {
                    Err((v.to_string(), "fractional value (expected a whole number)"))
                }
                Some(v) => Ok(Some(v)),
            },
            NumCol::Int(a) => match a.get(i) {
                None => Ok(None),
                Some(v) if v < 0 => Err((v.to_string(), "negative value")),
                Some(v) => Ok(Some(v as f64)),
            },
            NumCol::UInt(a) => match a.get(i) {
                None => Ok(None),
                Some(v) if v > i64::MAX as u64 => {
                    Err((v.to_string(), "value too large (over 2^63 − 1)"))
                }
                Some(v) => Ok(Some(v as f64)),
            },
        }
    }
}

/// Parses a non-negative whole number written in plain digits.
pub fn parse_count(v: &str) -> Result<f64, &'static str> {
    let v = v.trim();
    if v.eq_ignore_ascii_case("nan")
        || v.eq_ignore_ascii_case("null")
        || v.eq_ignore_ascii_case("na")
    {
        return Err("not a number");
    }
    if let Some(rest) = v.strip_prefix('-') {
        return Err(
            if rest.chars().all(|c| c.is_ascii_digit() || c == '.') && !rest.is_empty() {
                "negative value"
            } else {
                "not a whole number"
            },
        );
    }
    let digits = v.strip_prefix('+').unwrap_or(v);
    if digits.is_empty() {
        return Err("not a whole number");
    }
    if digits.bytes().all(|c| c.is_ascii_digit()) {
        return digits
            .parse::<i64>()
            .map(|x| x as f64)
            .map_err(|_| "value too large (over 2^63 − 1)");
    }
    if digits.contains(['e', 'E']) {
        return Err("exponent notation is not accepted (write the whole number)");
    }
    if digits.contains(',') || digits.contains('_') || digits.contains(' ') {
        return Err("thousands separators are not accepted (write plain digits)");
    }
    if let Some((int, frac)) = digits.split_once('.') {
        if int.bytes().all(|c| c.is_ascii_digit()) && frac.bytes().all(|c| c.is_ascii_digit()) {
            return if frac.bytes().all(|c| c == b'0') {
                int.parse::<i64>()
                    .map(|x| x as f64)
                    .map_err(|_| "value too large (over 2^63 − 1)")
            } else {
                Err("fractional value (expected a whole number)")
            };
        }
    }
    Err("not a whole number")
}

#[cfg(test)]
mod tests {
    use super::parse_count;

    #[test]
    fn counts() {
        assert_eq!(parse_count("123"), Ok(123.0));
        assert_eq!(parse_count("+7"), Ok(7.0));
        assert_eq!(parse_count("10.0"), Ok(10.0));
        assert_eq!(parse_count("-5"), Err("negative value"));
        assert_eq!(
            parse_count("1.5"),
            Err("fractional value (expected a whole number)")
        );
        assert!(parse_count("1e9").unwrap_err().contains("exponent"));
        assert!(parse_count("1,000").unwrap_err().contains("thousands"));
        assert_eq!(parse_count("NaN"), Err("not a number"));
        assert_eq!(parse_count("abc"), Err("not a whole number"));
        assert!(parse_count("99999999999999999999")
            .unwrap_err()
            .contains("too large"));
    }
}
