//! The diff of two listings of one store: a left join of BEFORE on AFTER by
//! key (polars, keeping BEFORE's order). A key present before and gone
//! after, or whose latest version after is a delete marker, is **lost**; a
//! key whose size fell is **shrunk** (a truncated file). Both are written
//! as they are found, row by row (`lost-objects.csv`,
//! `shrunk-objects.csv`), and summed per folder: the first N segments of
//! the key (`by-folder.csv`, largest first). Keys come from the store and
//! are hostile text: every text cell is spreadsheet-safe
//! ([`fmt::csv_safe`](crate::fmt::csv_safe)); the CSV writer quotes commas,
//! quotes and line breaks.

use super::{InventoryError, Listing, DELETED, ETAG, KEY, MODIFIED, SIZE};
use crate::fmt;
use polars::prelude::*;
use std::collections::HashMap;

use std::path::{Path, PathBuf};

/// Lost and shrunk objects of one folder.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct FolderRow {
    /// The first N segments of the keys, with a trailing `/` (`(top level)`
    /// for keys with no folder).
    pub folder: String,
    /// Objects lost.
    pub lost_objects: u64,
    /// Their bytes.
    pub lost_bytes: u64,
    /// Objects shrunk.
    pub shrunk_objects: u64,
    /// Bytes they lost.
    pub shrunk_bytes: u64,
}

/// What a diff found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiffSummary {
    /// Objects before.
    pub before_objects: u64,
    /// Their bytes.
    pub before_bytes: u64,
    /// Objects after (delete markers not counted).
    pub after_objects: u64,
    /// Their bytes.
    pub after_bytes: u64,
    /// Objects present before and gone after (delete markers included).
    pub lost_objects: u64,
    /// Their bytes, as BEFORE gives them.
    pub lost_bytes: u64,
    /// Of the lost, those whose latest version after is a delete marker
    /// (earlier versions may still be there).
    pub delete_markers: u64,
    /// Objects whose size fell.
    pub shrunk_objects: u64,
    /// Bytes they lost.
    pub shrunk_bytes: u64,
    /// Every folder with a lost or shrunk object, largest first.
    pub folders: Vec<FolderRow>,
}

impl DiffSummary {
    /// Whether anything was lost or shrunk.
    pub fn any(&self) -> bool {
        self.lost_objects > 0 || self.shrunk_objects > 0
    }
}

/// What the inventories say about one loss, as its finding carries it
/// (`findings.csv` columns `inventory_*`, the referral section).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// Objects present in the listing before and gone from the one after.
    pub lost_objects: Option<u64>,
    /// Their bytes.
    pub lost_bytes: Option<u64>,
    /// Objects whose size fell.
    pub shrunk_objects: Option<u64>,
    /// The largest folders (at most [`TOP_FOLDERS`]).
    pub folders: Vec<FolderRow>,
    /// Folders with a lost or shrunk object in all.
    pub folder_count: u64,
    /// The full list (`lost-objects.csv`), relative to the report folder.
    pub list: String,
    /// Which listings were compared, or why none could be.
    pub note: String,
}

/// Folders a finding names.
pub const TOP_FOLDERS: usize = 5;

impl Facts {
    /// The largest folders in one line: `a/ (812 files, 141 GB); b/ (…)`.
    pub fn top_folders(&self) -> String {
        self.folders
            .iter()
            .map(|f| {
                format!(
                    "{} ({} files, {})",
                    f.folder,
                    fmt::count(f.lost_objects + f.shrunk_objects),
                    fmt::bytes((f.lost_bytes + f.shrunk_bytes) as f64)
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Parts the join is done in (by a hash of the key), to bound its memory.
const JOIN_PARTS: usize = 4;

/// What became of a key present before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hit {
    /// Not in the listing after.
    Missing,
    /// Its latest version after is a delete marker.
    DeleteMarker,
    /// Smaller after: its size then.
    Shrunk(i64),
}

/// Output file names in the output folder.
pub const LOST_CSV: &str = "lost-objects.csv";
/// Shrunk objects.
pub const SHRUNK_CSV: &str = "shrunk-objects.csv";
/// Per folder.
pub const FOLDERS_CSV: &str = "by-folder.csv";

/// The folder of a key: its first `depth` segments (fewer when the key is
/// shallower; the file name is never part of it), with a trailing `/`.
pub fn folder_of(key: &str, depth: usize) -> String {
    let segs: Vec<&str> = key.split('/').collect();
    let n = depth.min(segs.len().saturating_sub(1));
    if n == 0 {
        "(top level)".to_string()
    } else {
        let mut f = segs[..n].join("/");
        f.push('/');
        f
    }
}

/// Sums of a listing's present objects (delete markers left out).
fn totals(df: &DataFrame) -> PolarsResult<(u64, u64)> {
    let del = df.column(DELETED)?.bool()?;
    let size = df.column(SIZE)?.i64()?;
    let mut n = 0u64;
    let mut b = 0u64;
    for (d, s) in del.iter().zip(size.iter()) {
        if d != Some(true) {
            n += 1;
            b += s.unwrap_or(0).max(0) as u64;
        }
    }
    Ok((n, b))
}

/// Diffs BEFORE and AFTER, writing the three files into `out` (which must
/// exist). `depth`: folder segments for `by-folder.csv`.
pub fn diff(
    before: &Listing,
    after: &Listing,
    depth: usize,
    out: &Path,
) -> anyhow::Result<DiffSummary> {
    let t = std::time::Instant::now();
    let (before_objects, before_bytes) = totals(&before.df)?;
    let (after_objects, after_bytes) = totals(&after.df)?;
    // The join, in parts by a hash of the key (each part's hash tables a
    // fraction of the whole: the memory a join of tens of millions of keys
    // needs at once): BEFORE's keys with their row numbers against AFTER's
    // size and delete marker. BEFORE's other columns are read by row after.
    let part_of = |df: &DataFrame| -> PolarsResult<Vec<u32>> {
        Ok(df
            .column(KEY)?
            .str()?
            .iter()
            .map(|k| (crate::hash::fnv1a(k.unwrap_or("").as_bytes()) % JOIN_PARTS as u64) as u32)
            .collect())
    };
    let (bp, ap) = (part_of(&before.df)?, part_of(&after.df)?);
    let n = before.df.height();
    let mut left = before.df.select([KEY])?;
    left.with_column(Column::new(
        "row".into(),
        (0..n as u32).collect::<Vec<u32>>(),
    ))?;
    let mut right = after.df.select([KEY, SIZE, DELETED])?;
    right.rename(SIZE, "after_size".into())?;
    right.rename(DELETED, "after_deleted".into())?;
    let deleted_before = before.df.column(DELETED)?.bool()?;
    let size = before.df.column(SIZE)?.i64()?;
    // Rows lost (with their delete marker) or shrunk (with the size after).
    let mut hits: Vec<(usize, Hit)> = Vec::new();
    for part in 0..JOIN_PARTS as u32 {
        let mask = |p: &[u32]| p.iter().map(|&x| x == part).collect::<BooleanChunked>();
        let l = left.filter(&mask(&bp))?;
        let r = right.filter(&mask(&ap))?;
        let joined = l.join(&r, [KEY], [KEY], JoinArgs::new(JoinType::Left), None)?;
        if joined.height() != l.height() {
            return Err(InventoryError::Shape {
                file: "AFTER".into(),
                reason: format!(
                    "{} lists some keys more than once: a versioned inventory without IsLatest/IsCurrentVersion, or two listings joined",
                    after.about
                ),
            }
            .into());
        }
        let rows = joined.column("row")?.u32()?;
        let after_size = joined.column("after_size")?.i64()?;
        let after_deleted = joined.column("after_deleted")?.bool()?;
        for ((row, del1), b1) in rows.iter().zip(after_deleted.iter()).zip(after_size.iter()) {
            let Some(i) = row.map(|r| r as usize) else {
                continue;
            };
            if deleted_before.get(i) == Some(true) {
                continue; // not there before
            }
            match del1 {
                None => hits.push((i, Hit::Missing)),
                Some(true) => hits.push((i, Hit::DeleteMarker)),
                Some(false) => {
                    if let (Some(b0), Some(b1)) = (size.get(i), b1) {
                        if b1 < b0 {
                            hits.push((i, Hit::Shrunk(b1)));
                        }
                    }
                }
            }
        }
    }
    // BEFORE's order.
    hits.sort_unstable_by_key(|h| h.0);
    let key = before.df.column(KEY)?.str()?;
    let modified = before.df.column(MODIFIED)?.str()?;
    let etag = before.df.column(ETAG)?.str()?;
    crate::log::debug(format!(
        "{} lost or shrunk found in {:.2} s",
        hits.len(),
        t.elapsed().as_secs_f64()
    ));

    let file = |name: &str| -> anyhow::Result<csv::Writer<std::io::BufWriter<std::fs::File>>> {
        let p = out.join(name);
        let f = std::fs::File::create(&p)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?;
        Ok(csv::Writer::from_writer(std::io::BufWriter::with_capacity(
            1 << 20,
            f,
        )))
    };
    let mut lost_w = file(LOST_CSV)?;
    lost_w.write_record(["key", "size", "last_modified", "etag", "after"])?;
    let mut shrunk_w = file(SHRUNK_CSV)?;
    shrunk_w.write_record([
        "key",
        "size_before",
        "size_after",
        "bytes_lost",
        "last_modified_before",
    ])?;
    let mut s = DiffSummary {
        before_objects,
        before_bytes,
        after_objects,
        after_bytes,
        ..DiffSummary::default()
    };
    let mut folders: HashMap<String, FolderRow> = HashMap::new();
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let text = |v: Option<&str>| fmt::csv_safe(v.unwrap_or("")).into_owned();
    let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    for (i, hit) in hits {
        let k = key.get(i).unwrap_or("");
        if !seen.insert(k) {
            return Err(InventoryError::Shape {
                file: "BEFORE".into(),
                reason: format!(
                    "{} lists key `{}` more than once: a versioned inventory without IsLatest/IsCurrentVersion, or two listings joined",
                    before.about,
                    fmt::term(k)
                ),
            }
            .into());
        }
        let b = size.get(i);
        let entry = folders
            .entry(folder_of(k, depth))
            .or_insert_with_key(|f| FolderRow {
                folder: f.clone(),
                ..FolderRow::default()
            });
        if let Hit::Missing | Hit::DeleteMarker = hit {
            let bytes = b.unwrap_or(0).max(0) as u64;
            let how = if hit == Hit::DeleteMarker {
                s.delete_markers += 1;
                "delete marker"
            } else {
                "missing"
            };
            s.lost_objects += 1;
            s.lost_bytes += bytes;
            entry.lost_objects += 1;
            entry.lost_bytes += bytes;
            lost_w.write_record([
                text(Some(k)).as_bytes(),
                num(b).as_bytes(),
                text(modified.get(i)).as_bytes(),
                text(etag.get(i)).as_bytes(),
                how.as_bytes(),
            ])?;
        } else {
            let b0 = b.unwrap_or(0);
            let b1 = match hit {
                Hit::Shrunk(b1) => b1,
                _ => b0,
            };
            let d = (b0 - b1).max(0) as u64;
            s.shrunk_objects += 1;
            s.shrunk_bytes += d;
            entry.shrunk_objects += 1;
            entry.shrunk_bytes += d;
            shrunk_w.write_record([
                text(Some(k)).as_bytes(),
                num(Some(b0)).as_bytes(),
                num(Some(b1)).as_bytes(),
                d.to_string().as_bytes(),
                text(modified.get(i)).as_bytes(),
            ])?;
        }
    }
    lost_w.flush()?;
    shrunk_w.flush()?;
    let mut rows: Vec<FolderRow> = folders.into_values().collect();
    rows.sort_by(|a, b| {
        (
            b.lost_bytes + b.shrunk_bytes,
            b.lost_objects + b.shrunk_objects,
        )
            .cmp(&(
                a.lost_bytes + a.shrunk_bytes,
                a.lost_objects + a.shrunk_objects,
            ))
            .then_with(|| a.folder.cmp(&b.folder))
    });
    let mut fw = file(FOLDERS_CSV)?;
    fw.write_record([
        "folder",
        "lost_objects",
        "lost_bytes",
        "shrunk_objects",
        "shrunk_bytes",
    ])?;
    for r in &rows {
        fw.write_record([
            fmt::csv_safe(&r.folder).into_owned(),
            r.lost_objects.to_string(),
            r.lost_bytes.to_string(),
            r.shrunk_objects.to_string(),
            r.shrunk_bytes.to_string(),
        ])?;
    }
    fw.flush()?;
    s.folders = rows;
    Ok(s)
}

/// The short summary for a terminal: what was compared, what was lost,
/// the largest folders. Names from the data are escaped ([`fmt::term`]).
pub fn render(before: &Listing, after: &Listing, s: &DiffSummary, top: usize) -> String {
    let mut out = String::new();
    let side = |l: &Listing, n: u64, b: u64| {
        format!(
            "{}: {} objects, {}",
            fmt::term(&l.about),
            fmt::count(n),
            fmt::bytes(b as f64)
        )
    };
    out.push_str(&format!(
        "before {}\n",
        side(before, s.before_objects, s.before_bytes)
    ));
    out.push_str(&format!(
        "after  {}\n",
        side(after, s.after_objects, s.after_bytes)
    ));
    let markers = if s.delete_markers > 0 {
        format!(
            " ({} behind a delete marker: earlier versions may remain)",
            fmt::count(s.delete_markers)
        )
    } else {
        String::new()
    };
    out.push_str(&format!(
        "lost: {} objects, {}{markers}; shrunk: {} objects, {}\n",
        fmt::count(s.lost_objects),
        fmt::bytes(s.lost_bytes as f64),
        fmt::count(s.shrunk_objects),
        fmt::bytes(s.shrunk_bytes as f64)
    ));
    if !s.folders.is_empty() {
        out.push_str(&format!(
            "largest of {} folder(s):\n",
            fmt::count(s.folders.len() as u64)
        ));
        for f in s.folders.iter().take(top) {
            out.push_str(&format!(
                "  {}  {} lost ({}), {} shrunk\n",
                fmt::term(&f.folder),
                fmt::count(f.lost_objects),
                fmt::bytes(f.lost_bytes as f64),
                fmt::count(f.shrunk_objects)
            ));
        }
    }
    out
}

/// Reads BEFORE and AFTER and diffs them into `out`.
pub fn run(
    before: &Path,
    after: &Path,
    depth: usize,
    out: &Path,
) -> anyhow::Result<(Listing, Listing, DiffSummary)> {
    let t = std::time::Instant::now();
    let b = super::read(before)?;
    crate::log::debug(format!(
        "read BEFORE ({} rows) in {:.2} s",
        b.df.height(),
        t.elapsed().as_secs_f64()
    ));
    let t = std::time::Instant::now();
    let a = super::read_some(after, super::Want::KeySize)?;
    crate::log::debug(format!(
        "read AFTER ({} rows) in {:.2} s",
        a.df.height(),
        t.elapsed().as_secs_f64()
    ));
    let s = diff(&b, &a, depth, out)?;
    Ok((b, a, s))
}

/// The paths of the three output files in `dir`.
pub fn outputs(dir: &Path) -> [PathBuf; 3] {
    [
        dir.join(LOST_CSV),
        dir.join(SHRUNK_CSV),
        dir.join(FOLDERS_CSV),
    ]
}

#[cfg(test)]
mod tests {
    use super::folder_of;

    #[test]
    fn folders_are_the_first_segments_never_the_file() {
        assert_eq!(folder_of("case-1/bwv/cam-1/clip.mp4", 2), "case-1/bwv/");
        assert_eq!(folder_of("case-1/clip.mp4", 2), "case-1/");
        assert_eq!(folder_of("clip.mp4", 2), "(top level)");
        assert_eq!(folder_of("a/b/c", 1), "a/");
        assert_eq!(folder_of("a/b/c", 0), "(top level)");
    }
}
