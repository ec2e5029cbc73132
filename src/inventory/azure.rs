//! Azure Blob Inventory (Microsoft Learn, "Azure Storage blob inventory",
//! section "Inventory files"): each rule's run writes
//! `<container>/YYYY/MM/DD/HH-MM-SS/<rule>/<rule>-manifest.json` with
//! `destinationContainer`, `endpoint`, `files` (`blob`, the data file's
//! path in the container, and its `size`), `inventoryStartTime`,
//! `inventoryCompletionTime`, `ruleDefinition` (`format` `csv` or
//! `parquet`, `schemaFields`), `ruleName`, `status` and `summary`
//! (`objectCount`, `totalObjectSize`). CSV data files have a header row
//! (`Name`, `Content-Length`, `Last-Modified`, `Content-MD5`, …); Parquet
//! files have the same column names. A run whose status is not `Succeeded`
//! is refused (its listing may be short), and so is one whose files hold
//! fewer or more rows than its summary's `objectCount`. Snapshots and
//! earlier versions (`IsCurrentVersion` false) are left out; a blob with
//! `Deleted` true is deleted (soft delete).

use super::{InventoryError, Listing, Want};
use polars::prelude::*;
use std::path::Path;

#[derive(Debug, Clone, serde::Deserialize)]
struct DataFile {
    blob: String,
    size: Option<u64>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    object_count: Option<u64>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
struct Rule {
    format: Option<String>,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    destination_container: Option<String>,
    endpoint: Option<String>,
    files: Vec<DataFile>,
    inventory_start_time: Option<String>,
    inventory_completion_time: Option<String>,
    #[serde(default)]
    rule_definition: Rule,
    rule_name: Option<String>,
    status: Option<String>,
    #[serde(default)]
    summary: Summary,
}

fn manifest(path: &Path) -> Result<Manifest, InventoryError> {
    let v = super::read_json(path)?;
    serde_json::from_value(v).map_err(|e| {
        InventoryError::shape(path, format!("not an Azure Blob Inventory manifest: {e}"))
    })
}

/// `inventoryStartTime` (else `inventoryCompletionTime`) in seconds.
pub fn taken_at(path: &Path) -> Option<i64> {
    let m = manifest(path).ok()?;
    start(&m)
}

fn start(m: &Manifest) -> Option<i64> {
    m.inventory_start_time
        .as_deref()
        .or(m.inventory_completion_time.as_deref())
        .and_then(|t| crate::ingest::timestamp::parse(t).ok())
}

/// Reads an Azure Blob Inventory from its `<rule>-manifest.json`.
pub fn read(path: &Path, want: Want) -> Result<Listing, InventoryError> {
    let m = manifest(path)?;
    if let Some(status) = &m.status {
        if !status.eq_ignore_ascii_case("Succeeded") {
            return Err(InventoryError::shape(
                path,
                format!(
                    "the inventory run's status is `{}`, not Succeeded: its listing may be incomplete",
                    crate::fmt::term(status)
                ),
            ));
        }
    }
    let mut all: Option<DataFrame> = None;
    let mut rows = 0u64;
    for f in &m.files {
        let bad = |reason: String| InventoryError::DataFile {
            manifest: path.display().to_string(),
            data: crate::fmt::term(&f.blob).into_owned(),
            reason,
        };
        let data = super::locate(path, &f.blob).map_err(bad)?;
        let len = std::fs::metadata(&data)
            .map_err(|e| bad(format!("{}: {e}", data.display())))?
            .len();
        if let Some(size) = f.size {
            if len != size {
                return Err(bad(format!(
                    "{} is {len} bytes, the manifest says {size}: a partial or changed copy",
                    data.display()
                )));
            }
        }
        let parquet = m
            .rule_definition
            .format
            .as_deref()
            .map(|f| f.eq_ignore_ascii_case("parquet"))
            .unwrap_or_else(|| {
                data.to_string_lossy()
                    .to_ascii_lowercase()
                    .ends_with(".parquet")
            });
        let (df, n) = if parquet {
            read_parquet(&data, want)?
        } else {
            read_csv(&data, want)?
        };
        rows += n;
        super::stack(&mut all, df, &data)?;
    }
    if let Some(want) = m.summary.object_count {
        if want != rows {
            return Err(InventoryError::shape(
                path,
                format!(
                    "its summary counts {want} objects but its files hold {rows} rows: a short or changed listing"
                ),
            ));
        }
    }
    let df = super::stacked(all, path)?;
    let taken = start(&m);
    Ok(Listing {
        df,
        about: format!(
            "{} {} of {}/{}{}",
            super::Shape::Azure.name(),
            crate::fmt::term(m.rule_name.as_deref().unwrap_or("?")),
            crate::fmt::term(m.endpoint.as_deref().unwrap_or("?")),
            crate::fmt::term(m.destination_container.as_deref().unwrap_or("?")),
            taken
                .map(|t| format!(" taken {}", crate::ingest::timestamp::format(t, false)))
                .unwrap_or_default()
        ),
        taken_at: taken,
    })
}

const COLUMNS: [&str; 8] = [
    "Name",
    "Content-Length",
    "Last-Modified",
    "Content-MD5",
    "Etag",
    "IsCurrentVersion",
    "Deleted",
    "Snapshot",
];

/// The columns read: the details only for [`Want::All`].
fn columns(want: Want) -> Vec<&'static str> {
    COLUMNS
        .iter()
        .copied()
        .filter(|c| want.details() || !matches!(*c, "Last-Modified" | "Content-MD5" | "Etag"))
        .collect()
}

fn read_csv(data: &Path, want: Want) -> Result<(DataFrame, u64), InventoryError> {
    let bytes = super::read_maybe_gz(data)?;
    let header = super::csv_header(data, &bytes)?;
    if !header.iter().any(|h| h == "Name") {
        return Err(InventoryError::shape(
            data,
            format!(
                "no `Name` column (the header has {})",
                crate::fmt::term(&header.join(", "))
            ),
        ));
    }
    let keep: Vec<String> = columns(want)
        .iter()
        .filter(|c| header.iter().any(|h| h == *c))
        .map(|c| c.to_string())
        .collect();
    let df = super::csv_text(data, &bytes, None, &keep)?;
    frame(data, df)
}

fn read_parquet(data: &Path, want: Want) -> Result<(DataFrame, u64), InventoryError> {
    let df = super::parquet_columns(data, &columns(want))?;
    if df.column("Name").is_err() {
        return Err(InventoryError::shape(data, "no `Name` column"));
    }
    frame(data, df)
}

fn frame(data: &Path, df: DataFrame) -> Result<(DataFrame, u64), InventoryError> {
    let e = |e: PolarsError| InventoryError::unreadable(data, e);
    let n = df.height() as u64;
    let key = super::text_col(&df, "Name").map_err(e)?.unwrap_or_default();
    let size = if df.column("Content-Length").is_ok() {
        super::size_col(&df, "Content-Length", data)?
    } else {
        Int64Chunked::full_null("".into(), df.height())
    };
    let etag = match super::text_col(&df, "Content-MD5").map_err(e)? {
        Some(c) => Some(c),
        None => super::text_col(&df, "Etag").map_err(e)?,
    };
    let current = super::bool_col(&df, "IsCurrentVersion").map_err(e)?;
    let snapshot = super::text_col(&df, "Snapshot").map_err(e)?;
    let keep: Option<BooleanChunked> = if current.is_some() || snapshot.is_some() {
        Some(
            (0..df.height())
                .map(|i| {
                    let cur = current.as_ref().and_then(|c| c.get(i)) != Some(false);
                    let snap = snapshot
                        .as_ref()
                        .and_then(|s| s.get(i))
                        .is_some_and(|s| !s.trim().is_empty());
                    cur && !snap
                })
                .collect(),
        )
    } else {
        None
    };
    let df = super::listing_frame(
        key,
        size,
        super::text_col(&df, "Last-Modified").map_err(e)?,
        etag,
        super::bool_col(&df, "Deleted").map_err(e)?,
        keep,
    )
    .map_err(e)?;
    Ok((df, n))
}
