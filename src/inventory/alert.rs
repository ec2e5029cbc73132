//! Joined to the alert: after the engine (like `moves`, outside it), each
//! new or updated loss on a series with `[[inventory]]` is diffed: the last
//! inventory taken before the loss's first reduced reading against the
//! first taken at or after its last reading, each within
//! [`MAX_GAP_DAYS`] of it, by the manifest's creation (S3) or start
//! (Azure) time, or the date in a listing's or its folder's name. The full
//! lists go into the report folder (`inventory/<finding>/`), and the
//! finding gets the counts, the largest folders and the list's path
//! ([`Facts`]). An inventory that is missing or unreadable becomes a note
//! in the finding: a scan never fails because of it.

use super::diff::{self, Facts, TOP_FOLDERS};
use crate::config::InventoryMap;
use crate::findings::{Finding, Status};
use crate::fmt;
use crate::ingest::timestamp;
use std::path::{Path, PathBuf};

/// How far from the loss an inventory may have been taken to be used.
pub const MAX_GAP_DAYS: i64 = 7;

/// Deepest folder searched below an `[[inventory]]` path.
const MAX_DEPTH: usize = 8;

/// One inventory found in a folder, with when it was taken.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The manifest or listing.
    pub path: PathBuf,
    /// When it was taken (seconds, UTC).
    pub taken_at: i64,
}

/// Every inventory under `root` with a known time, oldest first: the S3
/// (`manifest.json`) and Azure (`*-manifest.json`) manifests; in a folder
/// tree with no manifest, the listings (`.csv`, `.csv.gz`, `.parquet`)
/// whose name or folder holds their date.
pub fn find(root: &Path) -> Vec<Found> {
    let mut files = Vec::new();
    walk(root, 0, &mut files);
    let is_manifest = |p: &PathBuf| {
        p.file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .is_some_and(|n| n == "manifest.json" || n.ends_with("-manifest.json"))
    };
    let manifests: Vec<PathBuf> = files.iter().filter(|p| is_manifest(p)).cloned().collect();
    let chosen: Vec<PathBuf> = if manifests.is_empty() {
        files
            .into_iter()
            .filter(|p| {
                let n = p.to_string_lossy().to_ascii_lowercase();
                n.ends_with(".csv") || n.ends_with(".csv.gz") || n.ends_with(".parquet")
            })
            .collect()
    } else {
        manifests
    };
    let mut out: Vec<Found> = chosen
        .into_iter()
        .filter_map(|p| {
            super::taken_at(&p, root).map(|t| Found {
                path: p,
                taken_at: t,
            })
        })
        .collect();
    out.sort_by(|a, b| (a.taken_at, &a.path).cmp(&(b.taken_at, &b.path)));
    out
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if depth > MAX_DEPTH {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, depth + 1, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

/// The two inventories around a loss: the last taken before `start` and
/// the first taken at or after `end`, each within [`MAX_GAP_DAYS`]; or why
/// there are not two.
pub fn around(found: &[Found], start: i64, end: i64) -> Result<(&Found, &Found), String> {
    let gap = MAX_GAP_DAYS * 86_400;
    let before = found.iter().rev().find(|f| f.taken_at < start);
    let after = found.iter().find(|f| f.taken_at >= end);
    let day = |t: i64| timestamp::format(t, false);
    match (before, after) {
        (None, _) => Err(format!("no inventory taken before {}", day(start))),
        (Some(b), _) if start - b.taken_at > gap => Err(format!(
            "no inventory in the {MAX_GAP_DAYS} days before {} (the last is from {})",
            day(start),
            day(b.taken_at)
        )),
        (_, None) => Err(format!("no inventory taken at or after {}", day(end))),
        (_, Some(a)) if a.taken_at - end > gap => Err(format!(
            "no inventory in the {MAX_GAP_DAYS} days from {} (the next is from {})",
            day(end),
            day(a.taken_at)
        )),
        (Some(b), Some(a)) => Ok((b, a)),
    }
}

/// Diffs the inventories around every new or updated loss on a series with
/// an `[[inventory]]`, writing the lists into `report/inventory/<finding>/`
/// and the facts into the finding. Never fails: what goes wrong is the
/// finding's note (and a warning).
pub fn enrich(maps: &[InventoryMap], report: &Path, findings: &mut [Finding]) {
    if maps.is_empty() {
        return;
    }
    let names = crate::charts::chart_names(findings);
    for (f, name) in findings.iter_mut().zip(names) {
        if !f.is_loss() || f.status == Status::Known {
            continue;
        }
        let label = f.label();
        let Some(map) = maps.iter().find(|m| m.series == label) else {
            continue;
        };
        let stem = name
            .trim_start_matches("charts/")
            .trim_end_matches(".png")
            .to_string();
        let facts = match facts_for(map, f, report, &stem) {
            Ok(facts) => facts,
            Err(note) => {
                crate::log::warn(format!("{}: {}", fmt::term(&label), fmt::term(&note)));
                Facts {
                    note,
                    ..Facts::default()
                }
            }
        };
        f.inventory = Some(facts);
    }
}

fn facts_for(map: &InventoryMap, f: &Finding, report: &Path, stem: &str) -> Result<Facts, String> {
    let where_ = map.path.display().to_string();
    if !map.path.is_dir() {
        return Err(format!("inventory folder {where_} not found"));
    }
    let found = find(&map.path);
    let (b, a) =
        around(&found, f.start_ts, f.end_ts).map_err(|why| format!("{why} in {where_}"))?;
    let rel = PathBuf::from("inventory").join(stem);
    let dir = report.join(&rel);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let before = super::read(&b.path).map_err(|e| e.to_string())?;
    let after = super::read_some(&a.path, super::Want::KeySize).map_err(|e| e.to_string())?;
    let s = diff::diff(&before, &after, 2, &dir).map_err(|e| e.to_string())?;
    let day = |t: i64| timestamp::format(t, false);
    Ok(Facts {
        lost_objects: Some(s.lost_objects),
        lost_bytes: Some(s.lost_bytes),
        shrunk_objects: Some(s.shrunk_objects),
        folders: s.folders.iter().take(TOP_FOLDERS).cloned().collect(),
        folder_count: s.folders.len() as u64,
        list: rel
            .join(diff::LOST_CSV)
            .to_string_lossy()
            .replace('\\', "/"),
        note: format!(
            "compared {} ({} objects, {}) with {} ({} objects, {}) from {where_}{}",
            day(b.taken_at),
            fmt::count(s.before_objects),
            fmt::bytes(s.before_bytes as f64),
            day(a.taken_at),
            fmt::count(s.after_objects),
            fmt::bytes(s.after_bytes as f64),
            if s.delete_markers > 0 {
                format!(
                    "; {} of the missing objects are behind a delete marker (earlier versions may remain)",
                    fmt::count(s.delete_markers)
                )
            } else {
                String::new()
            }
        ),
    })
}

/// The comparison with the volume series in words: `96,174 objects, 16.6
/// TB — 98 % of the 97,721 files and 99 % of the 16.7 TB the volume series
/// lost`.
pub fn compared(f: &Finding, facts: &Facts) -> Option<String> {
    let (n, b) = (facts.lost_objects?, facts.lost_bytes?);
    let pct = |x: f64, of: f64| format!("{:.0} %", 100.0 * x / of);
    let mut parts = Vec::new();
    if let Some(o) = f.objects_lost.filter(|o| *o > 0) {
        parts.push(format!(
            "{} of the {} files",
            pct(n as f64, o as f64),
            fmt::count(o)
        ));
    }
    if f.drop_bytes > 0 {
        parts.push(format!(
            "{} of the {}",
            pct(b as f64, f.drop_bytes as f64),
            fmt::bytes(f.drop_bytes as f64)
        ));
    }
    let of = if parts.is_empty() {
        String::new()
    } else {
        format!(" — {} the volume series lost", parts.join(" and "))
    };
    Some(format!(
        "{} objects, {}{of}",
        fmt::count(n),
        fmt::bytes(b as f64)
    ))
}
