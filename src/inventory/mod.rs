//! Object inventories: which files were lost. A nightly full listing of a
//! store's objects, in the shape a storage service writes it, is read into
//! one table ([`Listing`]: key, size, last modified, ETag/MD5, delete
//! marker); two of them are diffed on the key ([`diff`]). One reader per
//! shape:
//! - [`s3`]: Amazon S3 Inventory, a `manifest.json` naming CSV.gz (no
//!   header, columns as its `fileSchema` says, keys URL-encoded) or Parquet
//!   data files, each checked against the manifest's MD5 and size;
//! - [`azure`]: Azure Blob Inventory, a `<rule>-manifest.json` naming CSV
//!   (with a header) or Parquet files, each checked against its size;
//! - [`plain`]: a plain listing (`find`, `rclone lsjson` turned to CSV, a NAS
//!   scan): CSV, CSV.gz or Parquet with `key` and `size`, optional
//!   `last_modified` and `etag`.
//!
//! [`alert`] joins the inventories to a scan's losses (configuration
//! `[[inventory]]`), after the engine and outside it.

pub mod alert;
pub mod azure;
pub mod diff;
pub mod plain;
pub mod s3;

use polars::prelude::*;
use std::path::{Path, PathBuf};

/// An inventory that cannot be used: the message names the file and what
/// is wrong with it (exit code 2 for `inventory diff`; a note in the report
/// for a scan, which never fails because of an inventory).
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// A file could not be opened or read.
    #[error("{file}: {reason}")]
    Unreadable {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// The file is not a manifest or listing this tool knows, or breaks its shape.
    #[error("{file}: {reason}")]
    Shape {
        /// The file.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// A data file the manifest names is missing, or differs from what the
    /// manifest says (size, MD5): the listing would be silently short.
    #[error("{manifest}: data file {data}: {reason}")]
    DataFile {
        /// The manifest.
        manifest: String,
        /// The data file as the manifest names it.
        data: String,
        /// Missing, wrong size or wrong checksum.
        reason: String,
    },
}

impl InventoryError {
    pub(crate) fn shape(file: &Path, reason: impl Into<String>) -> InventoryError {
        InventoryError::Shape {
            file: file.display().to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn unreadable(file: &Path, reason: impl std::fmt::Display) -> InventoryError {
        InventoryError::Unreadable {
            file: file.display().to_string(),
            reason: reason.to_string(),
        }
    }
}

/// Which kind of inventory a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Amazon S3 Inventory (`manifest.json`).
    S3,
    /// Azure Blob Inventory (`<rule>-manifest.json`).
    Azure,
    /// A plain listing with `key` and `size` columns.
    Plain,
}

impl Shape {
    /// Name for people.
    pub fn name(self) -> &'static str {
        match self {
            Shape::S3 => "S3 Inventory",
            Shape::Azure => "Azure Blob Inventory",
            Shape::Plain => "listing",
        }
    }
}

/// One listing of a store's objects as read: a table with the columns
/// [`KEY`] (text), [`SIZE`] (Int64, null when unknown), [`MODIFIED`] (text,
/// null when unknown), [`ETAG`] (text, null when unknown) and [`DELETED`]
/// (Boolean: the key's latest version is a delete marker, or the blob is
/// soft-deleted). Old versions and snapshots are left out when read: one row
/// per key.
#[derive(Debug, Clone)]
pub struct Listing {
    /// The table.
    pub df: DataFrame,
    /// What was read, for messages (`S3 Inventory of bucket b taken …`).
    pub about: String,
    /// When the listing was taken (seconds, UTC), when known.
    pub taken_at: Option<i64>,
}

/// Column names of a [`Listing`].
pub const KEY: &str = "key";
/// Object size in bytes.
pub const SIZE: &str = "size";
/// Last modified, as the inventory writes it.
pub const MODIFIED: &str = "last_modified";
/// ETag or Content-MD5.
pub const ETAG: &str = "etag";
/// Latest version is a delete marker (or the blob is soft-deleted).
pub const DELETED: &str = "deleted";

/// What kind of inventory `path` is: a JSON manifest is read to tell S3
/// from Azure; anything else is a plain listing.
pub fn shape_of(path: &Path) -> Result<Shape, InventoryError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if !name.ends_with(".json") {
        return Ok(Shape::Plain);
    }
    let v = read_json(path)?;
    if v.get("sourceBucket").is_some() || v.get("fileSchema").is_some() {
        Ok(Shape::S3)
    } else if v.get("destinationContainer").is_some() || v.get("inventoryStartTime").is_some() {
        Ok(Shape::Azure)
    } else {
        Err(InventoryError::shape(
            path,
            "neither an S3 Inventory manifest (sourceBucket, fileSchema, files) nor an Azure Blob Inventory manifest (destinationContainer, files)",
        ))
    }
}

/// Which columns to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Every column of a [`Listing`] (the listing before a loss).
    All,
    /// Key, size and delete marker only (the listing after it: its
    /// last-modified and ETag are never shown).
    KeySize,
}

impl Want {
    /// Whether a column of the last-modified or ETag kind is read.
    pub fn details(self) -> bool {
        self == Want::All
    }
}

/// Reads any inventory: an S3 or Azure manifest, or a plain listing.
pub fn read(path: &Path) -> Result<Listing, InventoryError> {
    read_some(path, Want::All)
}

/// [`read`], reading only the columns `want` says (the others are null).
pub fn read_some(path: &Path, want: Want) -> Result<Listing, InventoryError> {
    match shape_of(path)? {
        Shape::S3 => s3::read(path, want),
        Shape::Azure => azure::read(path, want),
        Shape::Plain => plain::read(path, want),
    }
}

/// When an inventory was taken, without reading its data: the manifest's
/// creation or start time, else a date in the file's or its folders' names
/// (`2023-07-25`, `2023-07-25T00-00Z`), searched up to `root`.
pub fn taken_at(path: &Path, root: &Path) -> Option<i64> {
    let from_manifest = match shape_of(path) {
        Ok(Shape::S3) => s3::taken_at(path),
        Ok(Shape::Azure) => azure::taken_at(path),
        _ => None,
    };
    from_manifest.or_else(|| {
        let mut p = Some(path);
        while let Some(cur) = p {
            if let Some(t) = cur.file_name().and_then(|n| date_in(&n.to_string_lossy())) {
                return Some(t);
            }
            if cur == root {
                break;
            }
            p = cur.parent();
        }
        None
    })
}

/// The first date-time in a name: `YYYY-MM-DD`, optionally followed by
/// `THH-MM`, `THH:MM` or `THHMM` (S3's folder names are `2016-11-06T21-32Z`).
pub fn date_in(name: &str) -> Option<i64> {
    let b = name.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    for i in 0..b.len().saturating_sub(9) {
        let w = &b[i..i + 10];
        if !(digits(&w[0..4])
            && w[4] == b'-'
            && digits(&w[5..7])
            && w[7] == b'-'
            && digits(&w[8..10]))
        {
            continue;
        }
        let date = chrono::NaiveDate::parse_from_str(&name[i..i + 10], "%Y-%m-%d").ok()?;
        let rest = &b[i + 10..];
        let mut secs = 0i64;
        if rest.len() >= 5 && rest[0] == b'T' && digits(&rest[1..3]) {
            let hh: i64 = name[i + 11..i + 13].parse().ok()?;
            let mm =
                if rest.len() >= 6 && (rest[3] == b'-' || rest[3] == b':') && digits(&rest[4..6]) {
                    name[i + 14..i + 16].parse::<i64>().ok()
                } else if digits(&rest[3..5]) {
                    name[i + 13..i + 15].parse::<i64>().ok()
                } else {
                    None
                };
            if let Some(mm) = mm {
                if hh < 24 && mm < 60 {
                    secs = hh * 3600 + mm * 60;
                }
            }
        }
        return Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp() + secs);
    }
    None
}

/// Largest manifest read, in bytes (a manifest lists files, not objects).
const MAX_MANIFEST: u64 = 64 << 20;

/// Reads a JSON manifest (a regular file of at most 64 MiB).
pub(crate) fn read_json(path: &Path) -> Result<serde_json::Value, InventoryError> {
    let bytes = crate::ingest::read_small(path, MAX_MANIFEST, "manifest")
        .map_err(|r| InventoryError::unreadable(path, r))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| InventoryError::shape(path, format!("not valid JSON: {e}")))
}

/// Finds a data file a manifest names by its key in the destination bucket
/// or container: the folder holding a copy of that bucket is some folder
/// above the manifest, so each folder from the manifest's own upwards is
/// tried with the key, then with the key less its leading folders (a copy
/// of only part of the bucket). A key with `..` is refused.
pub(crate) fn locate(manifest: &Path, key: &str) -> Result<PathBuf, String> {
    let key = key.trim_start_matches('/');
    let parts: Vec<&str> = key.split('/').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() || parts.iter().any(|p| *p == ".." || p.contains('\\')) {
        return Err("not a usable file name".into());
    }
    let dir = manifest.parent().unwrap_or(Path::new("."));
    let mut ancestors = vec![dir.to_path_buf()];
    let mut cur = dir.to_path_buf();
    for _ in 0..parts.len() + 2 {
        match cur.parent() {
            Some(p) if !p.as_os_str().is_empty() => {
                cur = p.to_path_buf();
                ancestors.push(cur.clone());
            }
            _ => {
                if cur != Path::new(".") && cur.is_relative() {
                    ancestors.push(PathBuf::from("."));
                }
                break;
            }
        }
    }
    for a in &ancestors {
        for k in 0..parts.len() {
            let p = parts[k..].iter().fold(a.clone(), |acc, s| acc.join(s));
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    Err(format!(
        "missing (looked for it in {} and the folders above it)",
        dir.display()
    ))
}

/// Reads a whole data file, gunzipped when its name ends in `.gz`.
pub(crate) fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, InventoryError> {
    use std::io::Read;
    let mut f = crate::safefs::open_regular(path, crate::safefs::Links::Follow)
        .map_err(|e| InventoryError::unreadable(path, crate::ingest::io_reason(path, &e)))?;
    let mut raw = Vec::new();
    f.read_to_end(&mut raw)
        .map_err(|e| InventoryError::unreadable(path, e))?;
    if path.to_string_lossy().to_ascii_lowercase().ends_with(".gz") {
        let mut out = Vec::with_capacity(raw.len() * 6);
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| InventoryError::unreadable(path, format!("not valid gzip: {e}")))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Reads CSV bytes as text columns: with a header, or with the given names.
pub(crate) fn csv_text(
    path: &Path,
    bytes: &[u8],
    names: Option<&[String]>,
    keep: &[String],
) -> Result<DataFrame, InventoryError> {
    let mut opts = CsvReadOptions::default()
        .with_has_header(names.is_none())
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(false);
    if let Some(names) = names {
        let schema: Schema = names
            .iter()
            .map(|n| Field::new(n.as_str().into(), DataType::String))
            .collect();
        opts = opts.with_schema(Some(Arc::new(schema)));
    }
    let cols: Arc<[PlSmallStr]> = keep.iter().map(|k| PlSmallStr::from(k.as_str())).collect();
    let df = opts
        .with_columns(Some(cols))
        .into_reader_with_file_handle(std::io::Cursor::new(bytes))
        .finish()
        .map_err(|e| {
            InventoryError::unreadable(
                path,
                format!("not readable as CSV: {}", first_line(&e.to_string())),
            )
        })?;
    Ok(df)
}

/// Reads an uncompressed CSV file with a header as text columns, straight
/// from the file (memory-mapped: no copy of the whole file in memory).
pub(crate) fn csv_file(path: &Path, keep: &[String]) -> Result<DataFrame, InventoryError> {
    let cols: Arc<[PlSmallStr]> = keep.iter().map(|k| PlSmallStr::from(k.as_str())).collect();
    // No rechunk: a listing of millions of keys would be copied whole once more.
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(false)
        .with_rechunk(false)
        .with_low_memory(true)
        .with_columns(Some(cols))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|r| r.finish())
        .map_err(|e| {
            InventoryError::unreadable(
                path,
                format!("not readable as CSV: {}", first_line(&e.to_string())),
            )
        })
}

/// The first 64 KiB of a file (enough for a header).
pub(crate) fn head(path: &Path) -> Result<Vec<u8>, InventoryError> {
    use std::io::Read;
    let f = crate::safefs::open_regular(path, crate::safefs::Links::Follow)
        .map_err(|e| InventoryError::unreadable(path, crate::ingest::io_reason(path, &e)))?;
    let mut out = Vec::new();
    f.take(64 << 10)
        .read_to_end(&mut out)
        .map_err(|e| InventoryError::unreadable(path, e))?;
    Ok(out)
}

/// The header names of CSV bytes (the first record).
pub(crate) fn csv_header(path: &Path, bytes: &[u8]) -> Result<Vec<String>, InventoryError> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes);
    let mut rec = csv::StringRecord::new();
    match r.read_record(&mut rec) {
        Ok(true) => Ok(rec
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
            .collect()),
        Ok(false) => Err(InventoryError::shape(path, "empty file: no header")),
        Err(e) => Err(InventoryError::shape(path, format!("header: {e}"))),
    }
}

/// Reads some columns of a Parquet file (those of `want` that it has).
pub(crate) fn parquet_columns(path: &Path, want: &[&str]) -> Result<DataFrame, InventoryError> {
    let open = || {
        crate::safefs::open_regular(path, crate::safefs::Links::Follow)
            .map_err(|e| InventoryError::unreadable(path, crate::ingest::io_reason(path, &e)))
    };
    let perr = |e: PolarsError| {
        InventoryError::unreadable(
            path,
            format!("not readable as Parquet: {}", first_line(&e.to_string())),
        )
    };
    let mut r = ParquetReader::new(open()?);
    let schema = r.schema().map_err(perr)?;
    let have: Vec<String> = want
        .iter()
        .filter(|w| schema.get(w).is_some())
        .map(|w| w.to_string())
        .collect();
    ParquetReader::new(open()?)
        .with_columns(Some(have))
        .finish()
        .map_err(perr)
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

/// A column as text: text as it is, a date-time in RFC 3339 (UTC), a
/// number in decimal; `None` when absent.
pub(crate) fn text_col(df: &DataFrame, name: &str) -> PolarsResult<Option<StringChunked>> {
    let Ok(c) = df.column(name) else {
        return Ok(None);
    };
    Ok(Some(match c.dtype() {
        DataType::String => c.str()?.clone(),
        DataType::Datetime(unit, _) => {
            let per_sec: i64 = match unit {
                TimeUnit::Milliseconds => 1_000,
                TimeUnit::Microseconds => 1_000_000,
                TimeUnit::Nanoseconds => 1_000_000_000,
            };
            let phys = c.cast(&DataType::Int64)?;
            phys.i64()?
                .iter()
                .map(|v| {
                    v.and_then(|v| {
                        let (s, sub) = (v.div_euclid(per_sec), v.rem_euclid(per_sec));
                        chrono::DateTime::from_timestamp(
                            s,
                            (sub * (1_000_000_000 / per_sec)) as u32,
                        )
                    })
                    .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                })
                .collect::<StringChunked>()
                .with_name(name.into())
        }
        _ => c.cast(&DataType::String)?.str()?.clone(),
    }))
}

/// A size column as Int64: whole numbers, or an error naming the column.
pub(crate) fn size_col(
    df: &DataFrame,
    name: &str,
    file: &Path,
) -> Result<Int64Chunked, InventoryError> {
    let c = df
        .column(name)
        .map_err(|_| InventoryError::shape(file, format!("no `{name}` column")))?;
    let bad = || {
        InventoryError::shape(
            file,
            format!("column `{name}` holds a value that is not a whole number of bytes"),
        )
    };
    let v = match c.dtype() {
        DataType::String => {
            let s = c.str().map_err(|_| bad())?;
            let mut out = Vec::with_capacity(s.len());
            for v in s.iter() {
                out.push(match v.map(str::trim) {
                    None | Some("") => None,
                    Some(t) => Some(t.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(bad)?),
                });
            }
            Int64Chunked::from_iter_options(name.into(), out.into_iter())
        }
        dt if dt.is_integer() => c
            .cast(&DataType::Int64)
            .map_err(|_| bad())?
            .i64()
            .map_err(|_| bad())?
            .clone(),
        _ => return Err(bad()),
    };
    if v.iter().flatten().any(|n| n < 0) {
        return Err(bad());
    }
    Ok(v)
}

/// A Boolean column from text (`true`/`false` in any case) or Boolean.
pub(crate) fn bool_col(df: &DataFrame, name: &str) -> PolarsResult<Option<BooleanChunked>> {
    let Ok(c) = df.column(name) else {
        return Ok(None);
    };
    Ok(Some(match c.dtype() {
        DataType::Boolean => c.bool()?.clone(),
        _ => c
            .cast(&DataType::String)?
            .str()?
            .iter()
            .map(|v| v.map(|t| t.trim().eq_ignore_ascii_case("true")))
            .collect::<BooleanChunked>(),
    }))
}

/// Appends one data file's table (read from `data`) to those read so far.
pub(crate) fn stack(
    all: &mut Option<DataFrame>,
    df: DataFrame,
    data: &Path,
) -> Result<(), InventoryError> {
    match all {
        None => *all = Some(df),
        Some(a) => {
            a.vstack_mut(&df)
                .map_err(|e| InventoryError::unreadable(data, e))?;
        }
    }
    Ok(())
}

/// The tables read from a manifest's data files, stacked; an empty listing
/// when it names none.
pub(crate) fn stacked(all: Option<DataFrame>, path: &Path) -> Result<DataFrame, InventoryError> {
    match all {
        Some(df) => Ok(df),
        None => listing_frame(
            StringChunked::from_iter_values("".into(), std::iter::empty::<&str>()),
            Int64Chunked::from_vec("".into(), vec![]),
            None,
            None,
            None,
            None,
        )
        .map_err(|e| InventoryError::unreadable(path, e)),
    }
}

/// Builds a [`Listing`] table from its parts; `keep` selects the rows (the
/// latest version of each key, no snapshots).
pub(crate) fn listing_frame(
    key: StringChunked,
    size: Int64Chunked,
    modified: Option<StringChunked>,
    etag: Option<StringChunked>,
    deleted: Option<BooleanChunked>,
    keep: Option<BooleanChunked>,
) -> PolarsResult<DataFrame> {
    let n = key.len();
    let text_or_null = |c: Option<StringChunked>, name: &str| -> Column {
        match c {
            Some(c) => c.with_name(name.into()).into_series().into(),
            None => Series::full_null(name.into(), n, &DataType::String).into(),
        }
    };
    let deleted = deleted
        .map(|d| d.fill_null_with_values(false))
        .transpose()?
        .unwrap_or_else(|| BooleanChunked::full(DELETED.into(), false, n));
    let df = DataFrame::new(
        n,
        vec![
            key.with_name(KEY.into()).into_series().into(),
            size.with_name(SIZE.into()).into_series().into(),
            text_or_null(modified, MODIFIED),
            text_or_null(etag, ETAG),
            deleted.with_name(DELETED.into()).into_series().into(),
        ],
    )?;
    match keep {
        Some(k) => df.filter(&k.fill_null_with_values(true)?),
        None => Ok(df),
    }
}
