//! A plain listing of a store's objects, as an on-premises job writes one
//! (`find -printf`, `rclone lsjson` turned to CSV, a NAS scan): CSV (with a
//! header; gzipped when it ends in `.gz`) or Parquet, with a `key` column
//! and a `size` column in bytes, optionally `last_modified` and `etag`.
//! A listing without `key` is refused: a listing that names no objects
//! cannot say which were lost.

use super::{InventoryError, Listing, Want};
use polars::prelude::*;
use std::path::Path;

const COLUMNS: [&str; 4] = ["key", "size", "last_modified", "etag"];

/// Reads a plain listing.
pub fn read(path: &Path, want: Want) -> Result<Listing, InventoryError> {
    let lower = path.to_string_lossy().to_ascii_lowercase();
    let cols: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| want.details() || matches!(*c, "key" | "size"))
        .collect();
    let df = if lower.ends_with(".parquet") {
        super::parquet_columns(path, &cols)?
    } else {
        let gz = lower.ends_with(".gz");
        let bytes = if gz {
            super::read_maybe_gz(path)?
        } else {
            super::head(path)?
        };
        let header = super::csv_header(path, &bytes)?;
        check_columns(path, &header)?;
        let keep: Vec<String> = cols
            .iter()
            .filter(|c| header.iter().any(|h| h == *c))
            .map(|c| c.to_string())
            .collect();
        if gz {
            super::csv_text(path, &bytes, None, &keep)?
        } else {
            super::csv_file(path, &keep)?
        }
    };
    let found: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    check_columns(path, &found)?;
    let e = |e: PolarsError| InventoryError::unreadable(path, e);
    let key = super::text_col(&df, "key").map_err(e)?.unwrap_or_default();
    if key.null_count() > 0 {
        return Err(InventoryError::shape(
            path,
            format!("{} row(s) have no key", key.null_count()),
        ));
    }
    let size = super::size_col(&df, "size", path)?;
    let df = super::listing_frame(
        key,
        size,
        super::text_col(&df, "last_modified").map_err(e)?,
        super::text_col(&df, "etag").map_err(e)?,
        None,
        None,
    )
    .map_err(e)?;
    let root = path.parent().unwrap_or(Path::new("."));
    let taken = super::taken_at(path, root);
    Ok(Listing {
        df,
        about: format!(
            "{} {}{}",
            super::Shape::Plain.name(),
            path.display(),
            taken
                .map(|t| format!(" taken {}", crate::ingest::timestamp::format(t, false)))
                .unwrap_or_default()
        ),
        taken_at: taken,
    })
}

fn check_columns(path: &Path, found: &[String]) -> Result<(), InventoryError> {
    for need in ["key", "size"] {
        if !found.iter().any(|f| f == need) {
            return Err(InventoryError::shape(
                path,
                format!(
                    "no `{need}` column: a listing needs `key` and `size` (it has {})",
                    crate::fmt::term(&found.join(", "))
                ),
            ));
        }
    }
    Ok(())
}
