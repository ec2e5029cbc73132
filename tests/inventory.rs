//! `inventory diff` and inventories joined to a scan's losses, on fixtures
//! in the shapes S3 Inventory, Azure Blob Inventory and plain listings have
//! (tests/data/inventory/README.md says where each shape comes from; the
//! Parquet ones are written here with polars).

mod common;

use common::{data, read_csv, run, scan, write_series, Spec};
use polars::prelude::*;
use std::path::{Path, PathBuf};

const HOSTILE: [&str; 5] = [
    "case-2023-00007/bwv/cam-02/clip,\"0001\".mp4",
    "case-2023-00007/bwv/cam-02/clip\nnewline.mp4",
    "=HYPERLINK(\"http://x\")/evil.mp4",
    "case-2023-00008/<script>alert(1)</script>.mp4",
    "case-2023-00008/bwv/cam 03/clip 0002+plus.mp4",
];

fn inv(rel: &str) -> PathBuf {
    data("inventory").join(rel)
}

fn s3_manifest(root: &Path, stamp: &str) -> PathBuf {
    root.join("inv/syp-bwv-evidence/daily")
        .join(stamp)
        .join("manifest.json")
}

fn diff(before: &Path, after: &Path, out: &Path, extra: &[&str]) -> common::Run {
    let mut args = vec![
        "inventory",
        "diff",
        before.to_str().unwrap(),
        after.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    run(&args, &[])
}

/// Copies a fixture folder into `dir` (to break it there).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_tree(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn s3_csv_gz_manifest_url_decoded_keys_delete_markers_and_hostile_keys() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d");
    let root = inv("s3");
    let (code, stdout, stderr) = diff(
        &s3_manifest(&root, "2023-07-25T00-00Z"),
        &s3_manifest(&root, "2023-07-26T00-00Z"),
        &out,
        &[],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    // 11 latest objects before (an earlier version is not an object), 4 after
    assert!(stdout.contains("11 objects"), "{stdout}");
    assert!(
        stdout.contains("lost: 8 objects, 79.5 kB (1 behind a delete marker"),
        "{stdout}"
    );
    // the terminal never gets a raw line break from a key
    assert!(!stdout.contains("clip\nnewline"), "{stdout}");
    let lost = read_csv(&out.join("lost-objects.csv"));
    assert_eq!(lost.len(), 8);
    let keys: Vec<&str> = lost.iter().map(|r| r["key"].as_str()).collect();
    // decoded exactly (`%2C`, `%22`, `%0A`, `+` as a space), a formula made inert
    assert!(keys.contains(&HOSTILE[0]), "{keys:?}");
    assert!(keys.contains(&HOSTILE[1]), "{keys:?}");
    assert!(
        keys.contains(&"'=HYPERLINK(\"http://x\")/evil.mp4"),
        "{keys:?}"
    );
    assert!(keys.contains(&HOSTILE[3]), "{keys:?}");
    assert!(keys.contains(&HOSTILE[4]), "{keys:?}");
    let marker: Vec<_> = lost
        .iter()
        .filter(|r| r["after"] == "delete marker")
        .collect();
    assert_eq!(marker.len(), 1);
    assert_eq!(marker[0]["key"], "case-2023-00003/bwv/cam-09/clip-0001.mp4");
    assert_eq!(marker[0]["size"], "7000");
    let big = lost
        .iter()
        .find(|r| r["key"] == "case-2023-00002/bwv/cam-05/clip-0002.mp4")
        .unwrap();
    assert_eq!(big["size"], "40000");
    assert_eq!(big["last_modified"], "2023-07-01T10:00:00.000Z");
    assert_eq!(big["after"], "missing");
    // the unchanged objects and the earlier version are not lost
    assert!(!keys.iter().any(|k| k.starts_with("case-2023-00001/")));
    let shrunk = read_csv(&out.join("shrunk-objects.csv"));
    assert_eq!(shrunk.len(), 1);
    assert_eq!(
        (
            shrunk[0]["size_before"].as_str(),
            shrunk[0]["size_after"].as_str()
        ),
        ("9000", "4000")
    );
    let folders = read_csv(&out.join("by-folder.csv"));
    assert_eq!(folders[0]["folder"], "case-2023-00002/bwv/");
    assert_eq!(folders[0]["lost_objects"], "2");
    assert_eq!(folders[0]["lost_bytes"], "70000");
    assert!(folders
        .iter()
        .any(|f| f["folder"].starts_with("'=HYPERLINK")));
}

#[test]
fn group_depth_sets_the_folders() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d");
    let root = inv("s3");
    let (code, ..) = diff(
        &s3_manifest(&root, "2023-07-25T00-00Z"),
        &s3_manifest(&root, "2023-07-26T00-00Z"),
        &out,
        &["--group-depth", "1"],
    );
    assert_eq!(code, 1);
    let folders = read_csv(&out.join("by-folder.csv"));
    assert_eq!(folders[0]["folder"], "case-2023-00002/");
}

#[test]
fn s3_data_file_missing_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s3");
    copy_tree(&inv("s3"), &root);
    std::fs::remove_file(root.join("inv/syp-bwv-evidence/daily/data/2023-07-25T00-00Z-1.csv.gz"))
        .unwrap();
    let out = dir.path().join("d");
    let (code, _, stderr) = diff(
        &s3_manifest(&root, "2023-07-25T00-00Z"),
        &s3_manifest(&root, "2023-07-26T00-00Z"),
        &out,
        &[],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("2023-07-25T00-00Z-1.csv.gz") && stderr.contains("missing"),
        "{stderr}"
    );
    assert!(!out.exists(), "no output folder for a failed diff");
}

#[test]
fn s3_checksum_mismatch_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s3");
    copy_tree(&inv("s3"), &root);
    // same size, one byte changed: only the MD5 can tell
    let f = root.join("inv/syp-bwv-evidence/daily/data/2023-07-26T00-00Z-0.csv.gz");
    let mut bytes = std::fs::read(&f).unwrap();
    let last = bytes.len() - 5;
    bytes[last] ^= 0x55;
    std::fs::write(&f, bytes).unwrap();
    let (code, _, stderr) = diff(
        &s3_manifest(&root, "2023-07-25T00-00Z"),
        &s3_manifest(&root, "2023-07-26T00-00Z"),
        &dir.path().join("d"),
        &[],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("MD5") && stderr.contains("2023-07-26T00-00Z-0.csv.gz"),
        "{stderr}"
    );
}

#[test]
fn s3_data_file_of_the_wrong_size_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s3");
    copy_tree(&inv("s3"), &root);
    let f = root.join("inv/syp-bwv-evidence/daily/data/2023-07-25T00-00Z-0.csv.gz");
    let mut bytes = std::fs::read(&f).unwrap();
    bytes.truncate(bytes.len() - 10);
    std::fs::write(&f, bytes).unwrap();
    let (code, _, stderr) = diff(
        &s3_manifest(&root, "2023-07-25T00-00Z"),
        &s3_manifest(&root, "2023-07-26T00-00Z"),
        &dir.path().join("d"),
        &[],
    );
    assert_eq!(code, 2, "{stderr}");
    // the size is checked before the checksum, and said so
    assert!(stderr.contains(" bytes, the manifest says "), "{stderr}");
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn write_parquet(path: &Path, mut df: DataFrame) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let f = std::fs::File::create(path).unwrap();
    ParquetWriter::new(f).finish(&mut df).unwrap();
}

/// An S3 Inventory in Parquet: snake_case columns, plain keys, versioned.
fn s3_parquet_night(
    root: &Path,
    stamp: &str,
    ms: i64,
    rows: &[(&str, Option<i64>, bool, bool)],
) -> PathBuf {
    let n = rows.len();
    let df = DataFrame::new(
        n,
        vec![
            Series::new("bucket".into(), vec!["b"; n]).into(),
            Series::new("key".into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()).into(),
            Series::new(
                "is_latest".into(),
                rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            )
            .into(),
            Series::new(
                "is_delete_marker".into(),
                rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            )
            .into(),
            Series::new("size".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()).into(),
            Series::new("last_modified_date".into(), vec![1_688_205_600_000i64; n])
                .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
                .unwrap()
                .into(),
        ],
    )
    .unwrap();
    let key = format!("inv/b/cfg/data/{stamp}.parquet");
    let data = root.join(&key);
    write_parquet(&data, df);
    let bytes = std::fs::read(&data).unwrap();
    let manifest = serde_json::json!({
        "sourceBucket": "b",
        "destinationBucket": "arn:aws:s3:::inv",
        "version": "2016-11-30",
        "creationTimestamp": ms.to_string(),
        "fileFormat": "Parquet",
        "fileSchema": "message s3.inventory { required binary bucket (UTF8); required binary key (UTF8); optional boolean is_latest; optional boolean is_delete_marker; optional int64 size; optional int64 last_modified_date (TIMESTAMP_MILLIS); }",
        "files": [{"key": key, "size": bytes.len(), "MD5checksum": md5_hex(&bytes)}]
    });
    let m = root.join(format!("inv/b/cfg/{stamp}/manifest.json"));
    std::fs::create_dir_all(m.parent().unwrap()).unwrap();
    std::fs::write(&m, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    m
}

#[test]
fn s3_parquet_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("bucket");
    let before = s3_parquet_night(
        &root,
        "2023-07-25T00-00Z",
        1_690_243_200_000,
        &[
            ("case-1/bwv/a.mp4", Some(100), true, false),
            ("case-1/bwv/b.mp4", Some(200), true, false),
            (HOSTILE[1], Some(300), true, false),
            ("case-2/bwv/c.mp4", Some(400), true, false),
        ],
    );
    let after = s3_parquet_night(
        &root,
        "2023-07-26T00-00Z",
        1_690_329_600_000,
        &[
            ("case-1/bwv/a.mp4", Some(100), true, false),
            ("case-2/bwv/c.mp4", None, true, true),
            ("case-2/bwv/c.mp4", Some(400), false, false),
        ],
    );
    let out = dir.path().join("d");
    let (code, stdout, stderr) = diff(&before, &after, &out, &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let lost = read_csv(&out.join("lost-objects.csv"));
    let mut got: Vec<(String, String, String)> = lost
        .iter()
        .map(|r| (r["key"].clone(), r["size"].clone(), r["after"].clone()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("case-1/bwv/b.mp4".into(), "200".into(), "missing".into()),
            (
                "case-2/bwv/c.mp4".into(),
                "400".into(),
                "delete marker".into()
            ),
            (HOSTILE[1].into(), "300".into(), "missing".into()),
        ]
    );
    // the timestamp column is written as a date-time
    assert_eq!(lost[0]["last_modified"], "2023-07-01T10:00:00.000Z");
}

#[test]
fn azure_csv_inventory_skips_snapshots_and_old_versions() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d");
    let m = |d: &str| {
        inv(&format!(
            "azure/2021/07/{d}/00-00-00/custody-daily/custody-daily-manifest.json"
        ))
    };
    let (code, stdout, stderr) = diff(&m("25"), &m("27"), &out, &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    // 9 rows, of which a snapshot and an earlier version: 7 blobs before
    assert!(stdout.contains("7 objects"), "{stdout}");
    let lost = read_csv(&out.join("lost-objects.csv"));
    assert_eq!(lost.len(), 6, "{lost:?}");
    assert!(lost.iter().any(|r| r["key"] == HOSTILE[1]));
    assert!(lost
        .iter()
        .all(|r| r["key"] != "custody/case-2021-00100/suite-1/record-0002.pdf"));
    let folders = read_csv(&out.join("by-folder.csv"));
    assert_eq!(folders[0]["folder"], "custody/case-2021-00101/");
    assert_eq!(folders[0]["lost_objects"], "3");
    assert_eq!(folders[0]["lost_bytes"], "3003");
}

#[test]
fn azure_run_not_succeeded_or_short_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("az");
    copy_tree(&inv("azure"), &root);
    let m = root.join("2021/07/25/00-00-00/custody-daily/custody-daily-manifest.json");
    let after = root.join("2021/07/27/00-00-00/custody-daily/custody-daily-manifest.json");
    let text = std::fs::read_to_string(&m).unwrap();
    std::fs::write(&m, text.replace("\"Succeeded\"", "\"Pending\"")).unwrap();
    let (code, _, stderr) = diff(&m, &after, &dir.path().join("d"), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("Pending"), "{stderr}");
    std::fs::write(
        &m,
        text.replace("\"objectCount\": 9", "\"objectCount\": 10"),
    )
    .unwrap();
    let (code, _, stderr) = diff(&m, &after, &dir.path().join("d"), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("counts 10 objects but its files hold 9"),
        "{stderr}"
    );
    // a data file gone
    std::fs::write(&m, &text).unwrap();
    std::fs::remove_file(root.join("2021/07/25/00-00-00/custody-daily/custody-daily.csv")).unwrap();
    let (code, _, stderr) = diff(&m, &after, &dir.path().join("d"), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("custody-daily.csv") && stderr.contains("missing"),
        "{stderr}"
    );
}

/// An Azure Blob Inventory in Parquet (same column names as its CSV).
fn azure_parquet_night(root: &Path, day: &str, rows: &[(&str, i64)]) -> PathBuf {
    let n = rows.len();
    let df = DataFrame::new(
        n,
        vec![
            Series::new("Name".into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()).into(),
            Series::new(
                "Content-Length".into(),
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            )
            .into(),
            Series::new(
                "Last-Modified".into(),
                vec!["2021-07-01T09:00:00.0000000Z"; n],
            )
            .into(),
        ],
    )
    .unwrap();
    let blob = format!("2021/07/{day}/01-00-00/r/r.parquet");
    write_parquet(&root.join(&blob), df);
    let size = std::fs::metadata(root.join(&blob)).unwrap().len();
    let manifest = serde_json::json!({
        "destinationContainer": "inv",
        "endpoint": "https://acct.blob.core.windows.net",
        "files": [{"blob": blob, "size": size}],
        "inventoryCompletionTime": format!("2021-07-{day}T01:10:00Z"),
        "inventoryStartTime": format!("2021-07-{day}T01:00:00Z"),
        "ruleDefinition": {"format": "parquet", "objectType": "blob", "schedule": "daily",
            "schemaFields": ["Name", "Content-Length", "Last-Modified"]},
        "ruleName": "r",
        "status": "Succeeded",
        "summary": {"objectCount": n, "totalObjectSize": rows.iter().map(|r| r.1).sum::<i64>()},
        "version": "1.0"
    });
    let m = root.join(format!("2021/07/{day}/01-00-00/r/r-manifest.json"));
    std::fs::write(&m, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    m
}

#[test]
fn azure_parquet_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("container");
    let before = azure_parquet_night(
        &root,
        "25",
        &[("x/y/a.pdf", 5), ("x/y/b.pdf", 7), (HOSTILE[0], 9)],
    );
    let after = azure_parquet_night(&root, "26", &[("x/y/a.pdf", 5), ("x/y/b.pdf", 3)]);
    let out = dir.path().join("d");
    let (code, stdout, stderr) = diff(&before, &after, &out, &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let lost = read_csv(&out.join("lost-objects.csv"));
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0]["key"], HOSTILE[0]);
    let shrunk = read_csv(&out.join("shrunk-objects.csv"));
    assert_eq!(shrunk[0]["key"], "x/y/b.pdf");
    assert_eq!(shrunk[0]["bytes_lost"], "4");
}

#[test]
fn plain_listings_csv_and_gz_and_nothing_lost_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d");
    let b = inv("plain/listing-2023-03-01.csv");
    let (code, stdout, stderr) = diff(&b, &inv("plain/listing-2023-03-02.csv.gz"), &out, &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let lost = read_csv(&out.join("lost-objects.csv"));
    let keys: Vec<&str> = lost.iter().map(|r| r["key"].as_str()).collect();
    assert_eq!(keys, vec!["nas/case-1/b.pdf", "nas/case-2/c.pdf"]);
    let (code, stdout, _) = diff(&b, &b, &dir.path().join("same"), &[]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("lost: 0 objects"), "{stdout}");
    assert_eq!(read_csv(&dir.path().join("same/lost-objects.csv")).len(), 0);
}

#[test]
fn listing_without_a_key_column_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = diff(
        &inv("plain/no-key.csv"),
        &inv("plain/listing-2023-03-01.csv"),
        &dir.path().join("d"),
        &[],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("no-key.csv") && stderr.contains("no `key` column"),
        "{stderr}"
    );
}

fn listing(path: &Path, rows: &[(&str, u64)]) {
    let mut s = String::from("key,size\n");
    for (k, n) in rows {
        s.push_str(&format!("{},{n}\n", common::csv_field(k)));
    }
    std::fs::write(path, s).unwrap();
}

#[test]
fn scan_names_the_missing_files_of_a_new_loss_and_says_when_it_cannot() {
    let dir = tempfile::tempdir().unwrap();
    // a 20 % loss on day 100 (2021-04-11) in both series
    let input = write_series(
        dir.path(),
        "obs.csv",
        &[
            Spec {
                key: ["Kent Police", "Body-worn video"],
                loss: Some((100, 0.2)),
            },
            Spec {
                key: ["Essex Police", "Body-worn video"],
                loss: Some((100, 0.2)),
            },
        ],
        130,
    );
    let kent = dir.path().join("inv/kent");
    std::fs::create_dir_all(&kent).unwrap();
    let keep = ("case-9/bwv/keep.mp4", 10);
    listing(
        &kent.join("listing-2021-04-09.csv"),
        &[keep, ("case-1/bwv/old.mp4", 1)],
    );
    listing(
        &kent.join("listing-2021-04-10.csv"),
        &[
            keep,
            ("case-1/bwv/a.mp4", 1000),
            ("case-1/bwv/b.mp4", 2000),
            ("=cmd|x/<b>y.mp4", 5),
        ],
    );
    listing(&kent.join("listing-2021-04-11.csv"), &[keep]);
    // Essex: only listings long before the loss
    let essex = dir.path().join("inv/essex");
    std::fs::create_dir_all(&essex).unwrap();
    listing(&essex.join("listing-2021-02-01.csv"), &[keep]);
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        "[[inventory]]\nseries = \"Kent Police/Body-worn video\"\npath = \"inv/kent\"\n\n[[inventory]]\nseries = \"Essex Police/Body-worn video\"\npath = \"inv/essex\"\n",
    )
    .unwrap();
    let out = dir.path().join("r");
    let (code, stdout, stderr) = scan(
        &[
            "--input",
            input.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--no-charts",
        ],
        &out,
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    let f = read_csv(&out.join("findings.csv"));
    let kent_loss = f
        .iter()
        .find(|r| r["force"] == "Kent Police" && r["kind"] == "loss")
        .unwrap();
    assert_eq!(kent_loss["inventory_lost_objects"], "3");
    assert_eq!(kent_loss["inventory_lost_bytes"], "3005");
    assert!(kent_loss["inventory_top_folders"].starts_with("case-1/bwv/ (2 files, 3.00 kB)"));
    assert!(
        kent_loss["inventory_note"].contains("compared 2021-04-10"),
        "{kent_loss:?}"
    );
    let list = out.join(&kent_loss["inventory_list"]);
    let lost = read_csv(&list);
    assert_eq!(lost.len(), 3);
    assert!(lost.iter().any(|r| r["key"] == "'=cmd|x/<b>y.mp4"));
    let essex_loss = f
        .iter()
        .find(|r| r["force"] == "Essex Police" && r["kind"] == "loss")
        .unwrap();
    assert_eq!(essex_loss["inventory_lost_objects"], "");
    assert!(
        essex_loss["inventory_note"].contains("no inventory in the 7 days before"),
        "{essex_loss:?}"
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("Files missing (object inventory)"), "{md}");
    assert!(md.contains("3 objects, 3.00 kB — 0 % of the"), "{md}");
    assert!(md.contains(&kent_loss["inventory_list"]), "{md}");
    assert!(
        md.contains("Not known: no inventory in the 7 days before"),
        "{md}"
    );
    // hostile folder names are text in the report
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!html.contains("<b>y"), "markup from a key reached the HTML");
}

#[test]
fn shipped_scan_names_the_south_yorkshire_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let (code, stdout, stderr) = scan(&["--as-of", "2023-07-26", "--no-charts"], &out);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let f = read_csv(&out.join("findings.csv"));
    let syp = f
        .iter()
        .find(|r| {
            r["force"] == "South Yorkshire Police"
                && r["system"] == "Body-worn video"
                && r["kind"] == "loss"
                && r["start"] == "2023-07-26"
        })
        .unwrap();
    assert_eq!(syp["inventory_lost_objects"], "96174");
    // within a few percent of the volume series' estimate
    let est: f64 = syp["objects_lost"].parse().unwrap();
    assert!((96_174.0 / est - 1.0).abs() < 0.03, "{est}");
    let list = &syp["inventory_list"];
    assert_eq!(
        list,
        "inventory/south-yorkshire-police-body-worn-video-2023-07-26/lost-objects.csv"
    );
    assert_eq!(read_csv(&out.join(list)).len(), 96_174);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let section = md
        .split("### Loss")
        .find(|s| s.contains("South Yorkshire Police — Body-worn video, 26 Jul 2023"))
        .unwrap();
    assert!(
        section.contains("96,174 objects, 17.4 TB — 98 % of the"),
        "{section}"
    );
    assert!(section.contains(list.as_str()), "{section}");
    assert!(
        section.contains("| largest folders with missing files |"),
        "{section}"
    );
    assert!(section.contains("/bwv/ | "), "{section}");
}
