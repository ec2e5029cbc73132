//! Object inventories for a few series of the generated estate, in the
//! shapes the storage services write (see `inventory`), with a case-folder
//! layout (`case-2020-00123/bwv/cam-17/clip-0001.mp4`), on the nights
//! around a loss, and `config.toml` mapping each series to its folder.
//!
//! Each store is a population of objects whose count and bytes follow the
//! series' readings on each night; a labelled loss between two nights
//! removes its objects (`objects_lost`, and `drop_pct` of the bytes) as a
//! run of whole case folders; the other nights' change is routine deletion
//! and new objects. [`SHIPPED`] says which series and nights; a store
//! listed only in part (a bucket of it) says so in its `scope`.

use super::rng::Rng;
use super::Dataset;
use anyhow::{Context, Result};
use chrono::NaiveDate;
use polars::prelude::*;
use std::io::Write;
use std::path::Path;

/// How an inventory is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Amazon S3 Inventory, CSV.gz with `manifest.json`.
    S3Csv,
    /// Azure Blob Inventory, Parquet with `<rule>-manifest.json`.
    AzureParquet,
}

/// One series' inventories.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Force and system of the series.
    pub series: (&'static str, &'static str),
    /// Folder under `inventories/`.
    pub folder: &'static str,
    /// Bucket or container listed.
    pub store: &'static str,
    /// Shape.
    pub format: Format,
    /// Nights (midnight UTC) with an inventory.
    pub nights: &'static [(i32, u32, u32)],
    /// The system's second path segment (`bwv`, `custody`).
    pub area: &'static str,
    /// File names (`clip`, `.mp4`).
    pub file: (&'static str, &'static str),
    /// Years of the case folders.
    pub years: (i32, i32),
    /// `Some(n)`: only one bucket of the store is listed, of n objects,
    /// holding every object the loss took; `None`: the whole store.
    pub scope: Option<usize>,
}

/// The inventories the shipped dataset carries (see datasets/README.md).
pub const SHIPPED: &[Spec] = &[
    Spec {
        series: ("South Yorkshire Police", "Body-worn video"),
        folder: "syp-bwv",
        store: "syp-bwv-archive-2019-2020",
        format: Format::S3Csv,
        nights: &[(2023, 7, 25), (2023, 7, 26)],
        area: "bwv",
        file: ("clip", ".mp4"),
        years: (2019, 2020),
        scope: Some(130_000),
    },
    Spec {
        series: ("Humberside Police", "Custody"),
        folder: "humberside-custody",
        store: "custody",
        format: Format::AzureParquet,
        nights: &[(2021, 7, 25), (2021, 7, 27)],
        area: "custody",
        file: ("record", ".pdf"),
        years: (2016, 2021),
        scope: None,
    },
];

#[derive(Debug, Clone)]
struct Obj {
    key: String,
    size: u64,
    modified: i64,
}

fn midnight(d: (i32, u32, u32)) -> i64 {
    NaiveDate::from_ymd_opt(d.0, d.1, d.2)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc().timestamp())
        .unwrap_or(0)
}

/// Objects of a new case folder.
fn case(spec: &Spec, rng: &mut Rng, year: i32, n: usize, avg: f64, out: &mut Vec<Obj>) {
    let clips = rng.int(3, 40) as usize;
    let start = NaiveDate::from_ymd_opt(year, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc().timestamp())
        .unwrap_or(0)
        + rng.int(0, 364 * 86_400);
    for i in 0..clips {
        let sub = rng.int(1, 60);
        out.push(Obj {
            key: format!(
                "case-{year}-{n:05}/{}/{}-{sub:02}/{}-{:04}{}",
                spec.area,
                if spec.area == "bwv" { "cam" } else { "suite" },
                spec.file.0,
                i + 1,
                spec.file.1
            ),
            size: (avg * (0.6 * rng.normal() - 0.18).exp()).max(1024.0) as u64,
            modified: start + i as i64 * rng.int(30, 900),
        });
    }
}

/// Scales the sizes of `objs` so they add up to `total`.
fn scale(objs: &mut [Obj], total: f64) {
    let sum: f64 = objs.iter().map(|o| o.size as f64).sum();
    if sum <= 0.0 || total <= 0.0 {
        return;
    }
    let k = total / sum;
    for o in objs.iter_mut() {
        o.size = ((o.size as f64 * k).round() as u64).max(1);
    }
}

/// The listings of one spec, night by night (objects of each night).
fn simulate(ds: &Dataset, spec: &Spec, seed: u64) -> Result<Vec<Vec<Obj>>> {
    let idx = ds
        .series
        .iter()
        .position(|(f, s)| f == spec.series.0 && s == spec.series.1)
        .with_context(|| format!("no series {}/{}", spec.series.0, spec.series.1))?;
    let reading = |t: i64| {
        ds.rows
            .iter()
            .filter(|r| r.series as usize == idx && r.ts <= t)
            .max_by_key(|r| r.ts)
            .map(|r| (r.bytes as f64, r.objects.unwrap_or(0) as f64))
    };
    let mut rng = Rng::new(seed ^ idx as u64);
    let times: Vec<i64> = spec.nights.iter().map(|&d| midnight(d)).collect();
    let (b0, o0) = reading(times[0]).context("no reading before the first night")?;
    let avg = b0 / o0.max(1.0);
    // the first night's population, case folder by case folder
    let n0 = spec.scope.unwrap_or(o0.round() as usize);
    let mut pop: Vec<Obj> = Vec::with_capacity(n0 + n0 / 20);
    let mut case_no = 0usize;
    let span = (spec.years.1 - spec.years.0 + 1) as usize;
    while pop.len() < n0 {
        let year = spec.years.0 + ((pop.len() * span) / n0.max(1)) as i32;
        case_no += 1;
        case(spec, &mut rng, year, case_no, avg, &mut pop);
    }
    pop.truncate(n0);
    let total0 = if spec.scope.is_some() {
        n0 as f64 * avg
    } else {
        b0
    };
    scale(&mut pop, total0);
    let mut nights = vec![pop.clone()];
    let mut prev_t = times[0];
    let (mut prev_b, mut prev_o) = (total0, n0 as f64);
    for &t in &times[1..] {
        let mut cur = nights.last().cloned().unwrap_or_default();
        // a labelled loss between the nights: a run of whole case folders
        let mut event_bytes = 0.0;
        for l in ds
            .labels
            .iter()
            .filter(|l| l.series as usize == idx && l.kind == "loss" && l.ts > prev_t && l.ts <= t)
        {
            let n = l.objects_lost.unwrap_or(0) as usize;
            let bytes = l.drop_pct / 100.0 * reading(prev_t).map_or(0.0, |r| r.0);
            if n == 0 || n >= cur.len() {
                continue;
            }
            let first = rng.int(0, (cur.len() - n) as i64) as usize;
            // start at a case folder's first object
            let folder = |k: &str| k.split('/').next().unwrap_or("").to_string();
            let mut a = first;
            while a > 0 && folder(&cur[a - 1].key) == folder(&cur[first].key) {
                a -= 1;
            }
            let gone: Vec<Obj> = cur.drain(a..(a + n).min(cur.len())).collect();
            // the lost objects' sizes were theirs on every earlier night too
            let mut gone_scaled = gone.clone();
            scale(&mut gone_scaled, bytes);
            let sizes: std::collections::HashMap<&str, u64> = gone
                .iter()
                .zip(&gone_scaled)
                .map(|(g, s)| (g.key.as_str(), s.size))
                .collect();
            for night in nights.iter_mut() {
                for o in night.iter_mut() {
                    if let Some(s) = sizes.get(o.key.as_str()) {
                        o.size = *s;
                    }
                }
            }
            event_bytes += gone_scaled.iter().map(|o| o.size as f64).sum::<f64>();
        }
        if spec.scope.is_none() {
            // routine: a few deletions, and new objects to the night's count
            let (b, o) = reading(t).context("no reading on a night")?;
            let days = ((t - prev_t) / 86_400).max(1) as f64;
            let mut routine = (prev_o * 0.0003 * days).round() as usize;
            let target = o.round() as i64;
            let added = target - (cur.len() as i64 - routine as i64);
            if added < 0 {
                routine += (-added) as usize;
            }
            let mut routine_bytes = 0.0;
            for _ in 0..routine.min(cur.len()) {
                let i = rng.int(0, cur.len() as i64 - 1) as usize;
                routine_bytes += cur.remove(i).size as f64;
            }
            let mut new = Vec::new();
            while (new.len() as i64) < added {
                case_no += 1;
                case(spec, &mut rng, spec.years.1, case_no, avg, &mut new);
            }
            new.truncate(added.max(0) as usize);
            for o in new.iter_mut() {
                o.modified = prev_t + rng.int(0, t - prev_t - 1);
            }
            let new_bytes =
                (b - (prev_b - event_bytes - routine_bytes)).max(new.len() as f64 * avg * 0.1);
            scale(&mut new, new_bytes);
            cur.extend(new);
            (prev_b, prev_o) = (b, o);
        }
        prev_t = t;
        nights.push(cur);
    }
    Ok(nights)
}

/// `+` for a space, `%XX` for every byte but letters, digits and `-_.*`,
/// as S3 Inventory's CSV holds keys.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn iso(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S.000Z").to_string())
        .unwrap_or_default()
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn write_s3(dir: &Path, spec: &Spec, t: i64, objs: &[Obj], rng: &mut Rng) -> Result<()> {
    use md5::{Digest, Md5};
    let stamp = chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%dT%H-%MZ").to_string())
        .unwrap_or_default();
    let base = format!("inventory/{}/daily", spec.store);
    let name = format!("{:016x}{:016x}.csv.gz", rng.next_u64(), rng.next_u64());
    let key = format!("{base}/data/{name}");
    let mut enc = flate2::GzBuilder::new().write(Vec::new(), flate2::Compression::best());
    for o in objs {
        writeln!(
            enc,
            "\"{}\",\"{}\",\"{}\",\"{}\"",
            spec.store,
            url_encode(&o.key),
            o.size,
            iso(o.modified)
        )?;
    }
    let gz = enc.finish()?;
    let data = dir.join(&key);
    std::fs::create_dir_all(data.parent().unwrap_or(dir))?;
    std::fs::write(&data, &gz).with_context(|| format!("cannot write {}", data.display()))?;
    let manifest = serde_json::json!({
        "sourceBucket": spec.store,
        "destinationBucket": format!("arn:aws:s3:::{}-inventory", spec.folder),
        "version": "2016-11-30",
        "creationTimestamp": (t * 1000).to_string(),
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size, LastModifiedDate",
        "files": [{"key": key, "size": gz.len(), "MD5checksum": hex(&Md5::digest(&gz))}],
    });
    let text = serde_json::to_string_pretty(&manifest)? + "\n";
    let mdir = dir.join(&base).join(stamp);
    std::fs::create_dir_all(&mdir)?;
    std::fs::write(mdir.join("manifest.json"), &text)?;
    std::fs::write(
        mdir.join("manifest.checksum"),
        hex(&Md5::digest(text.as_bytes())) + "\n",
    )?;
    Ok(())
}

fn write_azure(dir: &Path, spec: &Spec, t: i64, objs: &[Obj]) -> Result<()> {
    let when = chrono::DateTime::from_timestamp(t, 0).unwrap_or_default();
    let rule = format!("{}-daily", spec.store);
    let folder = format!("{}/{rule}", when.format("%Y/%m/%d/%H-%M-%S"));
    let blob = format!("{folder}/{rule}.parquet");
    let n = objs.len();
    let mut df = DataFrame::new(
        n,
        vec![
            Series::new(
                "Name".into(),
                objs.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(),
            )
            .into(),
            Series::new(
                "Content-Length".into(),
                objs.iter().map(|o| o.size as i64).collect::<Vec<_>>(),
            )
            .into(),
            Series::new(
                "Last-Modified".into(),
                objs.iter().map(|o| o.modified * 1000).collect::<Vec<_>>(),
            )
            .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?
            .into(),
        ],
    )?;
    let path = dir.join(&blob);
    std::fs::create_dir_all(path.parent().unwrap_or(dir))?;
    let f =
        std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
    ParquetWriter::new(f)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(&mut df)?;
    let size = std::fs::metadata(&path)?.len();
    let total: u64 = objs.iter().map(|o| o.size).sum();
    let manifest = serde_json::json!({
        "destinationContainer": "inventory",
        "endpoint": format!("https://{}.blob.core.windows.net", spec.folder.replace('-', "")),
        "files": [{"blob": blob, "size": size}],
        "inventoryCompletionTime": (when + chrono::Duration::minutes(40)).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "inventoryStartTime": when.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "ruleDefinition": {
            "filters": {"blobTypes": ["blockBlob"], "includeBlobVersions": false, "includeSnapshots": false, "prefixMatch": [format!("{}/", spec.store)]},
            "format": "parquet",
            "objectType": "blob",
            "schedule": "daily",
            "schemaFields": ["Name", "Content-Length", "Last-Modified"]
        },
        "ruleName": rule,
        "status": "Succeeded",
        "summary": {"objectCount": n, "totalObjectSize": total},
        "version": "1.0"
    });
    std::fs::write(
        dir.join(format!("{folder}/{rule}-manifest.json")),
        serde_json::to_string_pretty(&manifest)? + "\n",
    )?;
    Ok(())
}

/// Writes `out/inventories/<folder>/…` for each spec and `out/config.toml`
/// mapping the series to them.
pub fn write(ds: &Dataset, specs: &[Spec], seed: u64, out: &Path) -> Result<()> {
    let mut config = String::from(
        "# The shipped dataset's configuration: where the object inventories of some\n# series are (see README.md, \"Inventories\"). `shrinkwatch scan` on the shipped\n# data reads it when no --config is given.\n",
    );
    for spec in specs {
        // Another seed's estate may not have the store: no inventory for it.
        if !ds
            .series
            .iter()
            .any(|(f, s)| f == spec.series.0 && s == spec.series.1)
        {
            continue;
        }
        let nights = simulate(ds, spec, seed)?;
        let dir = out.join("inventories").join(spec.folder);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        let mut rng = Rng::new(seed ^ 0x1_4E7_0A7);
        for (objs, &d) in nights.iter().zip(spec.nights) {
            match spec.format {
                Format::S3Csv => write_s3(&dir, spec, midnight(d), objs, &mut rng)?,
                Format::AzureParquet => write_azure(&dir, spec, midnight(d), objs)?,
            }
        }
        config.push_str(&format!(
            "\n[[inventory]]\nseries = \"{}/{}\"\npath = \"inventories/{}\"\n",
            spec.series.0, spec.series.1, spec.folder
        ));
    }
    std::fs::write(out.join("config.toml"), config)?;
    Ok(())
}
