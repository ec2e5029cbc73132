//! Amazon S3 Inventory (Amazon S3 User Guide, "Cataloging and analyzing
//! your data with S3 Inventory" and "Locating your inventory list"): a
//! `manifest.json` with `sourceBucket`, `destinationBucket`, `version`,
//! `creationTimestamp` (milliseconds since the epoch, as a string, when the
//! listing began), `fileFormat` (`CSV`, `ORC` or `Parquet`), `fileSchema`
//! and `files` (`key` in the destination bucket, `size`, `MD5checksum` of
//! the data file). CSV data files are gzipped, have no header (the columns
//! are those of `fileSchema`, e.g. `Bucket, Key, VersionId, IsLatest,
//! IsDeleteMarker, Size, LastModifiedDate, ETag, …`), and hold each key
//! URL-encoded as an HTML form encodes it (space as `+`); Parquet files have
//! snake_case columns (`key`, `size`, `last_modified_date`, `e_tag`,
//! `is_latest`, `is_delete_marker`) and plain keys. A versioned inventory
//! lists every version: only each key's latest is kept, and a latest that
//! is a delete marker makes the key deleted. A `manifest.checksum` beside
//! the manifest, when present, must be the MD5 of the manifest.

use super::{InventoryError, Listing, Want};
use md5::{Digest, Md5};
use polars::prelude::*;
use std::path::Path;

/// One data file of the manifest.
#[derive(Debug, Clone, serde::Deserialize)]
struct DataFile {
    key: String,
    size: Option<u64>,
    #[serde(rename = "MD5checksum")]
    md5: Option<String>,
}

/// The manifest's fields this reader uses.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    source_bucket: Option<String>,
    creation_timestamp: Option<String>,
    file_format: Option<String>,
    file_schema: Option<String>,
    files: Vec<DataFile>,
}

fn manifest(path: &Path) -> Result<Manifest, InventoryError> {
    let v = super::read_json(path)?;
    serde_json::from_value(v)
        .map_err(|e| InventoryError::shape(path, format!("not an S3 Inventory manifest: {e}")))
}

/// `creationTimestamp` in seconds.
pub fn taken_at(path: &Path) -> Option<i64> {
    let m = manifest(path).ok()?;
    m.creation_timestamp?
        .trim()
        .parse::<i64>()
        .ok()
        .map(|ms| ms.div_euclid(1000))
}

/// Decodes a key as S3 Inventory's CSV writes it: `+` is a space, `%XX` a
/// byte; a `%` not followed by two hex digits is kept as it is.
pub fn url_decode(s: &str) -> String {
    if !s.contains(['%', '+']) {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    while i < b.len() {
        match b[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Checks a data file against the manifest: present, of the size and MD5
/// it gives.
fn check(manifest: &Path, f: &DataFile) -> Result<std::path::PathBuf, InventoryError> {
    let bad = |reason: String| InventoryError::DataFile {
        manifest: manifest.display().to_string(),
        data: crate::fmt::term(&f.key).into_owned(),
        reason,
    };
    let path = super::locate(manifest, &f.key).map_err(bad)?;
    let bytes = std::fs::read(&path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
    if let Some(size) = f.size {
        if bytes.len() as u64 != size {
            return Err(bad(format!(
                "{} is {} bytes, the manifest says {size}: a partial or changed copy",
                path.display(),
                bytes.len()
            )));
        }
    }
    if let Some(want) = &f.md5 {
        let got = hex(&Md5::digest(&bytes));
        if !got.eq_ignore_ascii_case(want.trim()) {
            return Err(bad(format!(
                "{} has MD5 {got}, the manifest says {}: a corrupt or changed copy",
                path.display(),
                crate::fmt::term(want)
            )));
        }
    }
    Ok(path)
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads an S3 Inventory from its `manifest.json`.
pub fn read(path: &Path, want: Want) -> Result<Listing, InventoryError> {
    let m = manifest(path)?;
    check_manifest_checksum(path)?;
    let format = m.file_format.clone().unwrap_or_else(|| "CSV".into());
    let mut all: Option<DataFrame> = None;
    for f in &m.files {
        let data = check(path, f)?;
        let df = match format.to_ascii_uppercase().as_str() {
            "CSV" => read_csv(path, &data, m.file_schema.as_deref(), want)?,
            "PARQUET" => read_parquet(&data, want)?,
            other => {
                return Err(InventoryError::shape(
                    path,
                    format!(
                    "fileFormat `{}` is not supported: configure the inventory as CSV or Parquet",
                    crate::fmt::term(other)
                ),
                ))
            }
        };
        super::stack(&mut all, df, &data)?;
    }
    let df = super::stacked(all, path)?;
    let taken = m
        .creation_timestamp
        .as_deref()
        .and_then(|t| t.trim().parse::<i64>().ok())
        .map(|ms| ms.div_euclid(1000));
    Ok(Listing {
        df,
        about: format!(
            "{} of bucket {}{}",
            super::Shape::S3.name(),
            crate::fmt::term(m.source_bucket.as_deref().unwrap_or("?")),
            taken
                .map(|t| format!(" taken {}", crate::ingest::timestamp::format(t, false)))
                .unwrap_or_default()
        ),
        taken_at: taken,
    })
}

/// `manifest.checksum` beside the manifest, when present, is its MD5.
fn check_manifest_checksum(path: &Path) -> Result<(), InventoryError> {
    let sum = path.with_file_name("manifest.checksum");
    let Ok(want) = std::fs::read_to_string(&sum) else {
        return Ok(());
    };
    let bytes = std::fs::read(path).map_err(|e| InventoryError::unreadable(path, e))?;
    let got = hex(&Md5::digest(&bytes));
    let want = want.split_whitespace().next().unwrap_or("");
    if !got.eq_ignore_ascii_case(want) {
        return Err(InventoryError::shape(
            path,
            format!(
                "its MD5 is {got} but manifest.checksum says {}: a corrupt or changed manifest",
                crate::fmt::term(want)
            ),
        ));
    }
    Ok(())
}

fn read_csv(
    manifest: &Path,
    data: &Path,
    schema: Option<&str>,
    want: Want,
) -> Result<DataFrame, InventoryError> {
    let Some(schema) = schema else {
        return Err(InventoryError::shape(
            manifest,
            "no fileSchema: the columns of its CSV files are unknown",
        ));
    };
    let names: Vec<String> = schema.split(',').map(|s| s.trim().to_string()).collect();
    let has = |n: &str| names.iter().any(|x| x == n);
    if !has("Key") {
        return Err(InventoryError::shape(
            manifest,
            format!(
                "fileSchema has no Key column (it has {})",
                crate::fmt::term(schema)
            ),
        ));
    }
    let keep: Vec<String> = [
        "Key",
        "Size",
        "LastModifiedDate",
        "ETag",
        "IsLatest",
        "IsDeleteMarker",
    ]
    .iter()
    .filter(|n| has(n) && (want.details() || !matches!(**n, "LastModifiedDate" | "ETag")))
    .map(|n| n.to_string())
    .collect();
    let bytes = super::read_maybe_gz(data)?;
    let df = super::csv_text(data, &bytes, Some(&names), &keep)?;
    let e = |e: PolarsError| InventoryError::unreadable(data, e);
    let key: StringChunked = df
        .column("Key")
        .and_then(|c| c.str().cloned())
        .map_err(e)?
        .iter()
        .map(|k| k.map(url_decode))
        .collect();
    let size = if has("Size") {
        super::size_col(&df, "Size", data)?
    } else {
        Int64Chunked::full_null("".into(), df.height())
    };
    frame(
        data,
        key,
        size,
        super::text_col(&df, "LastModifiedDate").map_err(e)?,
        super::text_col(&df, "ETag").map_err(e)?,
        super::bool_col(&df, "IsDeleteMarker").map_err(e)?,
        super::bool_col(&df, "IsLatest").map_err(e)?,
    )
}

fn read_parquet(data: &Path, want: Want) -> Result<DataFrame, InventoryError> {
    let cols: Vec<&str> = [
        "key",
        "size",
        "last_modified_date",
        "e_tag",
        "is_latest",
        "is_delete_marker",
    ]
    .into_iter()
    .filter(|c| want.details() || !matches!(*c, "last_modified_date" | "e_tag"))
    .collect();
    let df = super::parquet_columns(data, &cols)?;
    let e = |e: PolarsError| InventoryError::unreadable(data, e);
    let Some(key) = super::text_col(&df, "key").map_err(e)? else {
        return Err(InventoryError::shape(data, "no `key` column"));
    };
    let size = if df.column("size").is_ok() {
        super::size_col(&df, "size", data)?
    } else {
        Int64Chunked::full_null("".into(), df.height())
    };
    frame(
        data,
        key,
        size,
        super::text_col(&df, "last_modified_date").map_err(e)?,
        super::text_col(&df, "e_tag").map_err(e)?,
        super::bool_col(&df, "is_delete_marker").map_err(e)?,
        super::bool_col(&df, "is_latest").map_err(e)?,
    )
}

fn frame(
    data: &Path,
    key: StringChunked,
    size: Int64Chunked,
    modified: Option<StringChunked>,
    etag: Option<StringChunked>,
    deleted: Option<BooleanChunked>,
    latest: Option<BooleanChunked>,
) -> Result<DataFrame, InventoryError> {
    super::listing_frame(key, size, modified, etag, deleted, latest)
        .map_err(|e| InventoryError::unreadable(data, e))
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_decode_as_s3_inventory_encodes_them() {
        use super::url_decode;
        assert_eq!(url_decode("case-1%2Fclip+1.mp4"), "case-1/clip 1.mp4");
        assert_eq!(url_decode("a%2Cb%22c%0Ad"), "a,b\"c\nd");
        assert_eq!(url_decode("%3Dcmd"), "=cmd");
        assert_eq!(url_decode("100%"), "100%");
        assert_eq!(url_decode("%zz%2"), "%zz%2");
        assert_eq!(url_decode("caf%C3%A9"), "café");
        assert_eq!(url_decode("plain/key.txt"), "plain/key.txt");
    }
}
