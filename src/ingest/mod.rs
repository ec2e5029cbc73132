//! Ingest: read storage-volume observations (CSV or Parquet, one file, many
//! files or a folder, or what monitoring systems export or serve: see
//! [`sources`]) with polars, validate every row, set aside bad rows with
//! the file, line and reason, and split the rest into series.
//!
//! Nothing is silently dropped: every row read is either kept, counted as an
//! exact duplicate, or written to `rejected.csv`.

mod columns;
pub mod groups;
pub mod keys;
pub mod limits;
mod pieces;
pub mod series;
pub mod sources;
pub mod timestamp;
mod validate;

pub use keys::{key_hash, Shard};

use serde::Serialize;
use std::path::{Path, PathBuf};

pub use series::{Series as SeriesRef, SeriesSet};

/// Names of the input columns (SPEC: configurable).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
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
    /// The input needs more memory than the run may use.
    #[error("{0}")]
    TooLarge(String),
    /// No input files were found.
    #[error("no .csv or .parquet input files found in {0}")]
    NoFiles(String),
}

/// A row set aside, with where it came from and why.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct InputFile {
    /// Path as given (for a live query, the endpoint's URL).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Data rows read.
    pub rows: u64,
    /// The format recognised, when it is not the long CSV or Parquet table
    /// (`prometheus-query-range-json`, `grafana-csv`, `prometheus-api`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The PromQL query of a live source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The object-count query of a live source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_query: Option<String>,
    /// The range of a live source: `START/END step S`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    /// What an incremental run read of the file, when not all of it
    /// (`not opened: wholly before the window`, `3 of 11 row groups`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<String>,
    /// Earliest and latest time among the rows read (not in the manifest).
    #[serde(skip)]
    pub ts_range: Option<(i64, i64)>,
}

/// What an incremental run reads of its inputs (see `crate::incremental`):
/// rows before `since` are not kept, and each file is read whole, not at
/// all, or only some of its Parquet row groups.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Window {
    /// First second kept.
    pub since: i64,
    /// Per input file, in the order of the list read.
    pub files: Vec<FileRead>,
    /// Only these series (keys) are kept; `None`: every series.
    pub only: Option<std::collections::HashSet<Vec<String>>>,
}

/// How much of one file an incremental run reads.
#[derive(Debug, Clone, PartialEq)]
pub enum FileRead {
    /// The whole file.
    All,
    /// Not opened: every row is before the window and known.
    Skip,
    /// Only these row groups of a Parquet file (by index).
    Groups(Vec<usize>),
}

/// Counts that prove nothing was dropped:
/// `rows_read = rows_kept + duplicates + rejected + other_shards`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
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
    /// Rows of series that belong to other shards (`scan --shard`).
    #[serde(default)]
    pub other_shards: u64,
    /// Rows older than an incremental run's window (read, not kept: see
    /// `window` in the manifest).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub before_window: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
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

/// Rows of all files before grouping, with where each came from: rows of
/// file `f` are `file_start[f]..file_start[f + 1]`, `line` is the line (CSV)
/// or row (Parquet) in that file.
#[derive(Debug, Default)]
pub(crate) struct RawRows {
    pub sid: Vec<u32>,
    pub ts: Vec<i64>,
    pub bytes: Vec<f64>,
    pub objects: Vec<f64>,
    pub line: Vec<u32>,
    pub file_start: Vec<usize>,
    pub keys: keys::KeyTable,
    pub has_objects: bool,
    /// Rows left to other shards.
    pub other_shards: u64,
    /// Rows before an incremental run's window, counted, not kept.
    pub before_window: u64,
    /// Per file: the earliest and latest time of its rows read.
    pub ts_range: Vec<(i64, i64)>,
}

impl RawRows {
    fn reserve(&mut self, n: usize) {
        let n = n.saturating_sub(self.sid.len());
        self.sid.reserve(n);
        self.ts.reserve(n);
        self.bytes.reserve(n);
        self.objects.reserve(n);
        self.line.reserve(n);
    }
}

/// Expands folders into their `.csv` / `.parquet` files (sorted by name).
/// Files named like shrinkwatch's own side files (`planned.csv`,
/// `labels.csv`, `rejected.csv`, `findings.csv`) are not observations and
/// are skipped in folders.
///
/// Every file to be read must be a regular file (a symbolic link to one is
/// fine): a FIFO would hang the run and a device would never end, so a
/// FIFO, device, socket or folder named as a file, given or found in a
/// folder under a data file's name, stops the run at once naming it.
pub fn expand_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, IngestError> {
    let mut out = Vec::new();
    let unreadable = |p: &Path, reason: String| IngestError::Unreadable {
        file: p.display().to_string(),
        reason,
    };
    for p in paths {
        if p.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|e| unreadable(p, e.to_string()))?;
            let mut found = Vec::new();
            for e in rd {
                let f = e.map_err(|e| unreadable(p, e.to_string()))?.path();
                let name = f.file_name().and_then(|n| n.to_str());
                if !is_data_file(&f)
                    || matches!(
                        name,
                        Some("planned.csv" | "labels.csv" | "rejected.csv" | "findings.csv")
                    )
                {
                    continue;
                }
                regular_file(&f).map_err(|why| unreadable(&f, why))?;
                found.push(f);
            }
            found.sort();
            if found.is_empty() {
                return Err(IngestError::NoFiles(p.display().to_string()));
            }
            out.extend(found);
        } else {
            regular_file(p).map_err(|why| unreadable(p, why))?;
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// The size of `path` when it is a regular file (following links), else why
/// it cannot be read, e.g. "it is a FIFO (named pipe), not a regular file".
/// Looks at the file's metadata only: never opens it, so never blocks.
pub fn regular_file(path: &Path) -> Result<u64, String> {
    let m = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound if crate::safefs::is_link(path) => {
            "no such file (a symbolic link to nothing)".to_string()
        }
        std::io::ErrorKind::NotFound => "no such file or folder".to_string(),
        _ => e.to_string(),
    })?;
    if m.is_file() {
        return Ok(m.len());
    }
    let what = crate::safefs::kind_of(&m);
    Err(format!("it is {what}, not a regular file"))
}

/// The message of an I/O error on `path` without the path itself (the
/// errors of [`crate::safefs`] name it; callers name it once).
pub fn io_reason(path: &Path, e: &std::io::Error) -> String {
    let s = e.to_string();
    let p = path.display().to_string();
    match s.strip_prefix(p.as_str()) {
        Some(rest) if rest.starts_with(": ") => rest[2..].to_string(),
        Some(rest) if rest.starts_with(' ') => format!("it{rest}"),
        _ => s,
    }
}

/// Reads a small input a person names (configuration, planned windows,
/// labels) of at most `max` bytes: a regular file only (a FIFO or device is
/// refused at once, never read), opened without blocking, never more than
/// `max + 1` bytes read. `what` names the kind of file in the limit's
/// message (`configuration file`). The error is the reason; the caller names the file.
pub fn read_small(path: &Path, max: u64, what: &str) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let too_big = |size: Option<u64>| {
        format!(
            "it is {}larger than the {} limit for a {what} (is it the right file?)",
            size.map_or(String::new(), |s| format!(
                "{} bytes, ",
                crate::fmt::count(s)
            )),
            limit_text(max)
        )
    };
    let size = regular_file(path)?;
    if size > max {
        return Err(too_big(Some(size)));
    }
    let f = crate::safefs::open_regular(path, crate::safefs::Links::Follow)
        .map_err(|e| io_reason(path, &e))?;
    let mut buf = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(|e| io_reason(path, &e))?;
    if buf.len() as u64 > max {
        return Err(too_big(None));
    }
    Ok(buf)
}

/// A limit in bytes as written in the documentation: `1 MiB`, `256 MiB`.
pub fn limit_text(max: u64) -> String {
    if max >= 1 << 20 && max % (1 << 20) == 0 {
        format!("{} MiB", max >> 20)
    } else if max >= 1 << 10 && max % (1 << 10) == 0 {
        format!("{} KiB", max >> 10)
    } else {
        format!("{max} bytes")
    }
}

/// Files read from a folder. A `.json` export is read when named with
/// `--input`, not from a folder, where other JSON files (reports, state)
/// often sit.
fn is_data_file(p: &Path) -> bool {
    matches!(extension(p).as_str(), "csv" | "parquet")
}

/// A file's extension in lower case (empty when it has none).
pub(crate) fn extension(p: &Path) -> String {
    p.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default()
}

/// Reads and validates every input file, then groups rows into series.
pub fn ingest(paths: &[PathBuf], cols: &ColumnNames) -> Result<Ingested, IngestError> {
    ingest_shard(paths, cols, None)
}

/// [`ingest`] keeping only the series of one shard; the rows of other
/// shards are counted, not kept.
pub fn ingest_shard(
    paths: &[PathBuf],
    cols: &ColumnNames,
    shard: Option<Shard>,
) -> Result<Ingested, IngestError> {
    ingest_files(&expand_inputs(paths)?, cols, shard)
}

/// [`ingest_shard`] on files already listed by [`expand_inputs`].
pub fn ingest_files(
    files: &[PathBuf],
    cols: &ColumnNames,
    shard: Option<Shard>,
) -> Result<Ingested, IngestError> {
    ingest_sources(files, None, cols, shard, &sources::SourceOptions::default())
}

/// [`ingest_files`] with the options of the monitoring-system formats and,
/// optionally, a live Prometheus query read after the files.
pub fn ingest_sources(
    files: &[PathBuf],
    live: Option<&sources::prometheus_api::Live>,
    cols: &ColumnNames,
    shard: Option<Shard>,
    opts: &sources::SourceOptions,
) -> Result<Ingested, IngestError> {
    ingest_window(files, live, cols, shard, opts, None)
}

/// [`ingest_sources`] reading only what `window` says (an incremental
/// run): files not opened, Parquet row groups left out, rows before
/// `window.since` counted (`before_window`) but not kept.
pub fn ingest_window(
    files: &[PathBuf],
    live: Option<&sources::prometheus_api::Live>,
    cols: &ColumnNames,
    shard: Option<Shard>,
    opts: &sources::SourceOptions,
    window: Option<&Window>,
) -> Result<Ingested, IngestError> {
    let t = std::time::Instant::now();
    let mut raw = RawRows::default();
    let mut rejected = Vec::new();
    let mut infos = Vec::new();
    let mut names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    for (fi, path) in files.iter().enumerate() {
        raw.file_start.push(raw.sid.len());
        raw.ts_range.push((i64::MAX, i64::MIN));
        let ctx = validate::Ctx {
            fname: &names[fi],
            cols,
            shard,
            since: window.map(|w| w.since),
            only: window.and_then(|w| w.only.as_ref()),
        };
        let how = window
            .and_then(|w| w.files.get(fi))
            .unwrap_or(&FileRead::All);
        let mut info = match how {
            FileRead::Skip => InputFile {
                path: names[fi].clone(),
                size: regular_file(path).map_err(|why| ctx.unreadable(why))?,
                read: Some("not opened: wholly before the window".into()),
                ..InputFile::default()
            },
            FileRead::All => pieces::read_file(path, &ctx, opts, None, &mut raw, &mut rejected)?,
            FileRead::Groups(g) => pieces::read_file(
                path,
                &ctx,
                opts,
                Some(g.as_slice()),
                &mut raw,
                &mut rejected,
            )?,
        };
        let r = raw.ts_range[fi];
        info.ts_range = (r.0 <= r.1).then_some(r);
        infos.push(info);
    }
    if let Some(live) = live {
        let endpoint = live.endpoint();
        let now = chrono::Utc::now().timestamp();
        let (table, got) =
            sources::prometheus_api::fetch(live, &cols.keys, opts, now).map_err(|reason| {
                IngestError::Unreadable {
                    file: endpoint.clone(),
                    reason,
                }
            })?;
        crate::log::debug(format!(
            "{endpoint}: {} points in {} requests ({} bytes) in {:.3} s",
            table.points,
            got.requests,
            got.size,
            t.elapsed().as_secs_f64()
        ));
        raw.file_start.push(raw.sid.len());
        raw.ts_range.push((i64::MAX, i64::MIN));
        names.push(endpoint.clone());
        let ctx = validate::Ctx {
            fname: &endpoint,
            cols,
            shard,
            since: None,
            only: None,
        };
        let rows = table.feed(&ctx, &mut raw, &mut rejected)?;
        infos.push(InputFile {
            path: endpoint.clone(),
            size: got.size,
            sha256: got.sha256,
            rows,
            format: Some("prometheus-api".into()),
            query: Some(live.query.clone()),
            count_query: live.count_query.clone(),
            range: Some(format!(
                "{}/{} step {}s",
                timestamp::format(got.start, false),
                timestamp::format(got.end, false),
                live.step
            )),
            ..InputFile::default()
        });
    }
    let rows_read: u64 = infos.iter().map(|f| f.rows).sum();
    crate::log::debug(format!(
        "parsed and validated {rows_read} rows in {:.3} s",
        t.elapsed().as_secs_f64()
    ));
    let t = std::time::Instant::now();
    let other_shards = raw.other_shards;
    let before_window = raw.before_window;
    let (set, dup, conflicts) = series::group(raw, cols, &names)?;
    crate::log::debug(format!(
        "split into {} series in {:.3} s",
        set.len(),
        t.elapsed().as_secs_f64()
    ));
    rejected.extend(conflicts);
    let counts = IngestCounts {
        rows_read,
        rows_kept: set.times.len() as u64,
        duplicates: dup,
        rejected: rejected.len() as u64,
        series: set.len() as u64,
        other_shards,
        before_window,
    };
    debug_assert_eq!(
        counts.rows_read,
        counts.rows_kept
            + counts.duplicates
            + counts.rejected
            + counts.other_shards
            + counts.before_window
    );
    Ok(Ingested {
        set,
        rejected,
        files: infos,
        counts,
    })
}

/// Parses a non-negative whole number written in plain digits.
pub fn parse_count(v: &str) -> Result<f64, &'static str> {
    let b = v.as_bytes();
    if !b.is_empty() && b.len() <= 18 && b.iter().all(u8::is_ascii_digit) {
        // fast path: plain digits, cannot overflow
        return Ok(b.iter().fold(0i64, |x, &c| x * 10 + i64::from(c - b'0')) as f64);
    }
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
    use super::{key_hash, parse_count, Shard};

    const HASH_SYP: u64 = 3_919_591_925_953_919_916;

    #[test]
    fn shards_are_stable() {
        // FNV-1a of the length-prefixed key: pinned, so that a series never
        // moves to another shard between versions.
        assert_eq!(
            key_hash("22:South Yorkshire Police15:Body-worn video"),
            HASH_SYP
        );
        let s = Shard::parse("3/8").unwrap();
        assert_eq!((s.index, s.count), (2, 8));
        assert_eq!(s.to_string(), "3/8");
        // a series' shard is its force's (the first key value)
        assert_eq!(
            s.holds(&["South Yorkshire Police", "Body-worn video"]),
            key_hash("22:South Yorkshire Police") % 8 == 2
        );
        assert_eq!(
            s.holds(&["South Yorkshire Police", "Body-worn video"]),
            s.holds(&["South Yorkshire Police", "Digital evidence"])
        );
        for bad in ["0/3", "4/3", "1/0", "x/2", "2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

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
