//! Integration tests: run the real binary on the files in tests/data/ and
//! check exit codes, output files and values.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn bin() -> Command {
    Command::cargo_bin("shrinkwatch").expect("binary built")
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Reads a CSV file into header-keyed rows.
fn read_csv(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            headers
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

/// Runs `scan` into `out`, with a state file of its own (so runs in one test
/// do not see each other's findings as known).
fn scan(args: &[&str], out: &Path) -> (i32, String, String) {
    let o = bin()
        .arg("scan")
        .args(args)
        .arg("--out")
        .arg(out)
        .arg("--state")
        .arg(out.with_extension("state.json"))
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

fn simple_scan(out: &Path, planned: &str) -> Vec<std::collections::HashMap<String, String>> {
    let (code, stdout, stderr) = scan(
        &[
            "--input",
            data("simple.csv").to_str().unwrap(),
            "--planned",
            data(planned).to_str().unwrap(),
        ],
        out,
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    read_csv(&out.join("findings.csv"))
}

#[test]
fn scan_finds_loss_transient_and_planned_with_exact_values() {
    let dir = tempfile::tempdir().unwrap();
    let f = simple_scan(&dir.path().join("r"), "planned_simple.csv");
    assert_eq!(f.len(), 3, "{f:?}");
    // sorted by severity: the loss first
    let loss = &f[0];
    assert_eq!(
        (
            loss["force"].as_str(),
            loss["system"].as_str(),
            loss["kind"].as_str()
        ),
        ("Kent Police", "Body-worn video", "loss")
    );
    assert_eq!(loss["start"], "2023-04-22");
    assert_eq!(loss["end"], "2023-04-22");
    assert_eq!(loss["objects_lost"], "12000");
    assert_eq!(loss["severity"], "critical");
    let pct: f64 = loss["drop_pct"].parse().unwrap();
    assert!((pct - 9.83).abs() < 0.1, "{pct}");
    // the wildcard migration window (expected 0) does not hide it
    assert_eq!(
        loss["planned_reason"],
        "Evidence store migration (no loss expected)"
    );
    assert_eq!(loss["exceeded_plan"], "true");
    let before: u64 = loss["before_bytes"].parse().unwrap();
    let after: u64 = loss["after_bytes"].parse().unwrap();
    assert_eq!(loss["drop_bytes"], (before - after).to_string());
    let p: f64 = loss["p_value"].parse().unwrap();
    assert!((0.0..1e-6).contains(&p));

    let tr = f
        .iter()
        .find(|r| r["kind"] == "transient")
        .expect("transient");
    assert_eq!(
        (
            tr["system"].as_str(),
            tr["start"].as_str(),
            tr["after_bytes"].as_str()
        ),
        ("Custody", "2023-04-07", "0")
    );
    assert_eq!(tr["recovered_at"], "2023-04-08");
    let pl = f.iter().find(|r| r["kind"] == "planned").expect("planned");
    assert_eq!(
        (
            pl["system"].as_str(),
            pl["start"].as_str(),
            pl["severity"].as_str()
        ),
        ("Custody", "2023-05-12", "info")
    );
    assert_eq!(pl["planned_reason"], "MoPI review disposal");
    // the upward step and the slow decline of Essex are not findings
    assert!(f.iter().all(|r| r["force"] != "Essex Police"));
}

#[test]
fn findings_columns_follow_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    simple_scan(&out, "planned_simple.csv");
    let text = std::fs::read_to_string(out.join("findings.csv")).unwrap();
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("force,system,kind,start,end,detected_at,before_bytes,after_bytes,drop_bytes,drop_pct,objects_lost,p_value,severity,planned_reason,chart"), "{header}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("findings.json")).unwrap()).unwrap();
    let arr = json.as_array().unwrap();
    assert_eq!(arr.len(), 3);
    assert_eq!(arr[0]["force"], "Kent Police");
    assert_eq!(arr[0]["objects_lost"], 12000);
    assert!(arr[1]["objects_lost"].is_null());
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["counts"]["rows_read"], 450);
    assert_eq!(manifest["counts"]["series"], 3);
    assert_eq!(manifest["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(manifest["config"]["detect"]["min_drop_pct"], 1.5);
    assert!(!out.join("rejected.csv").exists());
}

#[test]
fn a_plan_too_small_does_not_explain_the_disposal() {
    let dir = tempfile::tempdir().unwrap();
    let f = simple_scan(&dir.path().join("r"), "planned_too_small.csv");
    let custody: Vec<_> = f
        .iter()
        .filter(|r| r["system"] == "Custody" && r["start"] == "2023-05-12")
        .collect();
    assert_eq!(custody.len(), 1);
    assert_eq!(custody[0]["kind"], "loss");
    assert_eq!(custody[0]["exceeded_plan"], "true");
}

#[test]
fn without_planned_windows_the_disposal_is_a_loss() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let (code, ..) = scan(&["--input", data("simple.csv").to_str().unwrap()], &out);
    assert_eq!(code, 1);
    let f = read_csv(&out.join("findings.csv"));
    assert_eq!(f.iter().filter(|r| r["kind"] == "loss").count(), 2);
}

#[test]
fn six_hourly_series_keeps_its_time_of_day() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let (code, stdout, _) = scan(&["--input", data("six_hourly.csv").to_str().unwrap()], &out);
    assert_eq!(code, 1, "{stdout}");
    let f = read_csv(&out.join("findings.csv"));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["start"], "2023-04-11T12:00:00Z");
    assert_eq!(f[0]["interval_secs"], "21600");
    assert_eq!(f[0]["objects_lost"], "");
}

#[test]
fn bad_rows_are_rejected_with_file_line_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let (code, stdout, stderr) = scan(&["--input", data("bad_rows.csv").to_str().unwrap()], &out);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("68 rows (1 duplicates, 8 rejected)"),
        "{stdout}"
    );
    let rej = read_csv(&out.join("rejected.csv"));
    let by_line = |l: &str| {
        rej.iter()
            .find(|r| r["line"] == l)
            .unwrap_or_else(|| panic!("no rejected row for line {l}: {rej:?}"))
    };
    assert!(by_line("63")["reason"].contains("not a valid date"));
    assert_eq!(by_line("63")["column"], "timestamp");
    assert!(by_line("64")["reason"].contains("not a date"));
    assert_eq!(by_line("65")["reason"], "negative value");
    assert!(by_line("66")["reason"].contains("fractional"));
    assert_eq!(by_line("67")["reason"], "empty key");
    assert!(by_line("68")["reason"].contains("exponent"));
    assert!(by_line("69")["reason"].contains("conflicting"));
    assert!(by_line("5")["reason"].contains("conflicting"));
    assert!(rej.iter().all(|r| r["file"].ends_with("bad_rows.csv")));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let c = &manifest["counts"];
    assert_eq!(
        c["rows_read"].as_u64().unwrap(),
        c["rows_kept"].as_u64().unwrap()
            + c["duplicates"].as_u64().unwrap()
            + c["rejected"].as_u64().unwrap()
    );
}

#[test]
fn strict_turns_rejections_into_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = scan(
        &[
            "--strict",
            "--input",
            data("bad_rows.csv").to_str().unwrap(),
        ],
        &dir.path().join("r"),
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("bad_rows.csv, line 63"), "{stderr}");
}

#[test]
fn missing_column_is_exit_2_naming_file_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = scan(
        &["--input", data("missing_column.csv").to_str().unwrap()],
        &dir.path().join("r"),
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("missing_column.csv") && stderr.contains("`bytes`"),
        "{stderr}"
    );
    assert!(!dir.path().join("r").exists(), "no half-written report");
}

#[test]
fn unreadable_input_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = scan(&["--input", "/nonexistent/obs.csv"], &dir.path().join("r"));
    assert_eq!(code, 2);
    assert!(stderr.contains("/nonexistent/obs.csv"), "{stderr}");
}

#[test]
fn invalid_threshold_is_rejected_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = scan(
        &[
            "--input",
            data("simple.csv").to_str().unwrap(),
            "--min-drop-pct",
            "150",
        ],
        &dir.path().join("r"),
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("min_drop_pct") && stderr.contains("(0, 100)"),
        "{stderr}"
    );
}

#[test]
fn renamed_columns_and_custom_keys() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(data("six_hourly.csv"))
        .unwrap()
        .replacen("timestamp,force,system,bytes", "when,org,store,size", 1);
    let input = dir.path().join("renamed.csv");
    std::fs::write(&input, text).unwrap();
    let out = dir.path().join("r");
    let (code, ..) = scan(
        &[
            "--input",
            input.to_str().unwrap(),
            "--time-col",
            "when",
            "--key-cols",
            "org,store",
            "--value-col",
            "size",
        ],
        &out,
    );
    assert_eq!(code, 1);
    let header = std::fs::read_to_string(out.join("findings.csv")).unwrap();
    assert!(header.starts_with("org,store,kind,start"), "{header}");
}

#[test]
fn order_duplicates_and_file_splits_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let base_out = dir.path().join("base");
    simple_scan(&base_out, "planned_simple.csv");
    let text = std::fs::read_to_string(data("simple.csv")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let header = lines.remove(0);
    // reversed order, every tenth row delivered twice, split into two files in a folder
    lines.reverse();
    let mut rows: Vec<String> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        rows.push(l.to_string());
        if i % 10 == 0 {
            rows.push(l.to_string());
        }
    }
    let folder = dir.path().join("parts");
    std::fs::create_dir(&folder).unwrap();
    let half = rows.len() / 2;
    std::fs::write(
        folder.join("a.csv"),
        format!("{header}\n{}\n", rows[..half].join("\n")),
    )
    .unwrap();
    std::fs::write(
        folder.join("b.csv"),
        format!("{header}\r\n{}\r\n", rows[half..].join("\r\n")),
    )
    .unwrap();
    let out = dir.path().join("shuffled");
    let (code, stdout, _) = scan(
        &[
            "--input",
            folder.to_str().unwrap(),
            "--planned",
            data("planned_simple.csv").to_str().unwrap(),
        ],
        &out,
    );
    assert_eq!(code, 1);
    assert!(!stdout.contains("(0 duplicates"), "{stdout}");
    let strip = |p: &Path| -> Vec<String> {
        read_csv(&p.join("findings.csv"))
            .into_iter()
            .map(|r| {
                format!(
                    "{} {} {} {} {}",
                    r["system"], r["kind"], r["start"], r["drop_bytes"], r["p_value"]
                )
            })
            .collect()
    };
    assert_eq!(strip(&base_out), strip(&out));
}

#[test]
fn config_round_trip_gives_the_same_findings() {
    let dir = tempfile::tempdir().unwrap();
    let o = bin().args(["config", "--print-default"]).output().unwrap();
    assert!(o.status.success());
    let cfg = dir.path().join("default.toml");
    std::fs::write(&cfg, &o.stdout).unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    simple_scan(&a, "planned_simple.csv");
    let (code, ..) = scan(
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--input",
            data("simple.csv").to_str().unwrap(),
            "--planned",
            data("planned_simple.csv").to_str().unwrap(),
        ],
        &b,
    );
    assert_eq!(code, 1);
    let strip = |p: &Path| {
        read_csv(&p.join("findings.csv"))
            .into_iter()
            .map(|mut r| {
                r.remove("detected_at");
                format!(
                    "{:?}",
                    r.into_iter().collect::<std::collections::BTreeMap<_, _>>()
                )
            })
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(strip(&a), strip(&b));
    // a flag wins over the file: a huge minimum drop leaves only the zero reading
    let c = dir.path().join("c");
    let (code, ..) = scan(
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--min-drop-pct",
            "50",
            "--input",
            data("simple.csv").to_str().unwrap(),
        ],
        &c,
    );
    assert_eq!(code, 0);
    let f = read_csv(&c.join("findings.csv"));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["kind"], "transient");
}

#[test]
fn bad_config_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[detect]\nmin_drop_pc = 2\n").unwrap();
    let (code, _, stderr) = scan(
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--input",
            data("simple.csv").to_str().unwrap(),
        ],
        &dir.path().join("r"),
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("min_drop_pc") && stderr.contains("bad.toml"),
        "{stderr}"
    );
}

#[test]
fn evaluate_scores_the_fixture_perfectly_and_beats_the_naive_rule() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ev");
    let o = bin()
        .args([
            "evaluate",
            "--input",
            data("simple.csv").to_str().unwrap(),
            "--planned",
            data("planned_simple.csv").to_str().unwrap(),
            "--labels",
            data("labels_simple.csv").to_str().unwrap(),
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let ev: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("evaluation.json")).unwrap())
            .unwrap();
    for kind in ["loss", "transient", "planned"] {
        assert_eq!(
            ev["detector"]["kinds"][kind]["f1"], 1.0,
            "{kind}: {}",
            ev["detector"]["kinds"][kind]
        );
    }
    assert!(
        ev["naive_baseline"]["kinds"]["loss"]["precision"]
            .as_f64()
            .unwrap()
            < 0.5
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("| shrinkwatch | loss | 1 | 1 | 1 |"));
}

#[test]
fn generate_is_deterministic_and_scan_catches_its_losses() {
    let dir = tempfile::tempdir().unwrap();
    let gen = |name: &str| {
        let out = dir.path().join(name);
        bin()
            .args([
                "generate", "--seed", "7", "--series", "30", "--days", "400", "--format", "both",
                "--out",
            ])
            .arg(&out)
            .assert()
            .success();
        out
    };
    let a = gen("a");
    let b = gen("b");
    for f in [
        "observations.csv",
        "observations.parquet",
        "planned.csv",
        "labels.csv",
    ] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between runs"
        );
    }
    let labels = read_csv(&a.join("labels.csv"));
    assert!(labels.iter().any(|l| l["kind"] == "loss"));
    let out = dir.path().join("ev");
    bin()
        .args(["evaluate", "--input"])
        .arg(a.join("observations.parquet"))
        .arg("--planned")
        .arg(a.join("planned.csv"))
        .arg("--labels")
        .arg(a.join("labels.csv"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let ev: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("evaluation.json")).unwrap())
            .unwrap();
    let f1 = ev["detector"]["kinds"]["loss"]["f1"].as_f64().unwrap();
    assert!(f1 >= 0.9, "loss F1 {f1}");
    // CSV and Parquet copies of the same data give the same findings
    let (c1, s1, _) = scan(
        &["--input", a.join("observations.csv").to_str().unwrap()],
        &dir.path().join("csv"),
    );
    let (c2, s2, _) = scan(
        &["--input", a.join("observations.parquet").to_str().unwrap()],
        &dir.path().join("pq"),
    );
    assert_eq!(c1, c2);
    let summary = |s: &str| {
        s.lines()
            .last()
            .unwrap()
            .split("; report")
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(summary(&s1), summary(&s2));
}

#[test]
fn shipped_dataset_flags_the_south_yorkshire_loss() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let o = bin()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["scan", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let f = read_csv(&out.join("findings.csv"));
    let syp: Vec<_> = f
        .iter()
        .filter(|r| {
            r["force"] == "South Yorkshire Police"
                && r["system"] == "Body-worn video"
                && r["start"] == "2023-07-26"
        })
        .collect();
    assert_eq!(syp.len(), 1, "{syp:?}");
    assert_eq!(syp[0]["kind"], "loss");
    let objects: f64 = syp[0]["objects_lost"].parse().unwrap();
    assert!(
        (objects - 96_174.0).abs() / 96_174.0 <= 0.05,
        "objects_lost {objects}"
    );
    assert!(syp[0]["planned_reason"].contains("migration"));
}

#[test]
fn help_and_usage_errors() {
    bin().arg("--help").assert().success();
    let o = bin().args(["scan", "--no-such-flag"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// Writes the six-hourly fixture as Parquet with other column types: text
/// timestamps and float bytes, or date-times in microseconds and unsigned bytes.
fn parquet_variant(path: &Path, text_time: bool) {
    use polars::prelude::*;
    let rows = read_csv(&data("six_hourly.csv"));
    let ts: Vec<String> = rows.iter().map(|r| r["timestamp"].clone()).collect();
    let bytes: Vec<u64> = rows.iter().map(|r| r["bytes"].parse().unwrap()).collect();
    let n = rows.len();
    let time_col: Column = if text_time {
        Series::new("timestamp".into(), ts).into()
    } else {
        let micros: Vec<i64> = ts
            .iter()
            .map(|t| chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp() * 1_000_000)
            .collect();
        Series::new("timestamp".into(), micros)
            .into_datetime(TimeUnit::Microseconds, None)
            .into()
    };
    let bytes_col: Column = if text_time {
        Series::new(
            "bytes".into(),
            bytes.iter().map(|&b| b as f64).collect::<Vec<f64>>(),
        )
        .into()
    } else {
        Series::new("bytes".into(), bytes).into()
    };
    let mut df = DataFrame::new(
        n,
        vec![
            time_col,
            Series::new("force".into(), vec!["Police Scotland"; n]).into(),
            Series::new("system".into(), vec!["ANPR"; n]).into(),
            bytes_col,
        ],
    )
    .unwrap();
    ParquetWriter::new(std::fs::File::create(path).unwrap())
        .finish(&mut df)
        .unwrap();
}

#[test]
fn parquet_with_other_column_types_gives_the_same_finding() {
    let dir = tempfile::tempdir().unwrap();
    for (i, text) in [true, false].into_iter().enumerate() {
        let input = dir.path().join(format!("v{i}.parquet"));
        parquet_variant(&input, text);
        let out = dir.path().join(format!("r{i}"));
        let (code, stdout, stderr) = scan(&["--input", input.to_str().unwrap()], &out);
        assert_eq!(code, 1, "{stdout}{stderr}");
        let f = read_csv(&out.join("findings.csv"));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0]["start"], "2023-04-11T12:00:00Z");
    }
}

#[test]
fn bad_planned_and_labels_files_name_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let planned = dir.path().join("planned.csv");
    std::fs::write(&planned, "force,system,start,end,expected_drop_pct,reason\nKent Police,Custody,2023-05-10,2023-05-14,20,ok\nKent Police,Custody,2023-05-14,2023-05-10,5,backwards\n").unwrap();
    let (code, _, stderr) = scan(
        &[
            "--input",
            data("simple.csv").to_str().unwrap(),
            "--planned",
            planned.to_str().unwrap(),
        ],
        &dir.path().join("r"),
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("planned.csv, line 3, column `end`") && stderr.contains("before start"),
        "{stderr}"
    );

    std::fs::write(&planned, "force,system,start,end,expected_drop_pct,reason\nKent Police,Custody,2023-05-10,2023-05-14,lots,x\n").unwrap();
    let (code, _, stderr) = scan(
        &[
            "--input",
            data("simple.csv").to_str().unwrap(),
            "--planned",
            planned.to_str().unwrap(),
        ],
        &dir.path().join("r"),
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("line 2, column `expected_drop_pct`"),
        "{stderr}"
    );

    let labels = dir.path().join("labels.csv");
    std::fs::write(
        &labels,
        "force,system,timestamp,kind\nKent Police,Custody,2023-04-07,oops\n",
    )
    .unwrap();
    let o = bin()
        .args([
            "evaluate",
            "--input",
            data("simple.csv").to_str().unwrap(),
            "--labels",
            labels.to_str().unwrap(),
            "--out",
        ])
        .arg(dir.path().join("ev"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("labels.csv, line 2, column `kind`")
            && stderr.contains("unknown kind `oops`"),
        "{stderr}"
    );

    std::fs::write(&labels, "force,timestamp,kind\n").unwrap();
    let o = bin()
        .args([
            "evaluate",
            "--input",
            data("simple.csv").to_str().unwrap(),
            "--labels",
            labels.to_str().unwrap(),
            "--out",
        ])
        .arg(dir.path().join("ev"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("column `system`: required column is missing")
    );
}

fn report_scan(dir: &Path, as_of: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join("r");
    let (input, planned) = (data("simple.csv"), data("planned_simple.csv"));
    let mut args = vec![
        "--input",
        input.to_str().unwrap(),
        "--planned",
        planned.to_str().unwrap(),
        "--as-of",
        as_of,
    ];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = scan(&args, &out);
    assert_eq!(code, 1, "{stdout}{stderr}");
    out
}

#[test]
fn report_md_matches_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let out = report_scan(dir.path(), "2023-05-31", &[]);
    let got = std::fs::read_to_string(out.join("report.md")).unwrap();
    let snap = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/report_simple.md");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snap, &got).unwrap();
    }
    let want =
        std::fs::read_to_string(&snap).expect("snapshot missing: run with UPDATE_SNAPSHOTS=1");
    assert_eq!(got, want, "report.md changed; if intended, run UPDATE_SNAPSHOTS=1 cargo test report_md_matches_snapshot");
}

#[test]
fn report_html_is_self_contained_and_complete() {
    let dir = tempfile::tempdir().unwrap();
    let out = report_scan(dir.path(), "2023-05-31", &[]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    // balanced tags (void elements aside)
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html.as_str();
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("unclosed tag");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') {
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if ["img", "meta", "br"].contains(&name.as_str()) {
            continue;
        }
        if tag.starts_with('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.as_str()),
                "mismatched </{name}>"
            );
        } else {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    // nothing fetched from outside: every image is inline, and there is one per chart plus the overview
    assert!(!html.contains("src=\"http") && !html.contains("<link") && !html.contains("<script"));
    let charts = std::fs::read_dir(out.join("charts")).unwrap().count();
    assert_eq!(charts, 3);
    // every PNG decodes, has the default size and is not blank
    let pngs = std::fs::read_dir(out.join("charts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .chain([out.join("overview.png")]);
    for p in pngs {
        let mut r = png::Decoder::new(std::fs::File::open(&p).unwrap())
            .read_info()
            .unwrap();
        let mut buf = vec![0; r.output_buffer_size()];
        let info = r.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (1600, 900), "{}", p.display());
        let ink = buf[..info.buffer_size()]
            .iter()
            .filter(|&&b| b < 200)
            .count();
        assert!(ink > 10_000, "{} looks blank", p.display());
    }
    assert_eq!(
        html.matches("src=\"data:image/png;base64,iVBORw0KGgo")
            .count(),
        charts + 1
    );
    // every finding is in it
    for f in read_csv(&out.join("findings.csv")) {
        let anchor = format!(
            "id=\"{}-{}-{}-{}\"",
            f["force"].to_lowercase().replace(' ', "-"),
            f["system"].to_lowercase().replace(' ', "-"),
            f["kind"],
            f["start"]
        );
        assert!(html.contains(&anchor), "{anchor} missing");
    }
    // facts a person must not have invented for them are marked to complete
    assert!(html.contains("class=\"todo\">☐ To complete: approximate number of people affected"));
}

#[test]
fn referral_deadline_is_72_hours_after_detection_in_uk_time() {
    for (as_of, detected, deadline) in [
        (
            "2023-07-30T09:00:00Z",
            "Sun 30 Jul 2023 10:00 BST",
            "Wed 2 Aug 2023 10:00 BST",
        ), // month end
        (
            "2023-10-27T08:00:00Z",
            "Fri 27 Oct 2023 09:00 BST",
            "Mon 30 Oct 2023 08:00 GMT",
        ), // clock change
        (
            "2023-12-30T23:30:00Z",
            "Sat 30 Dec 2023 23:30 GMT",
            "Tue 2 Jan 2024 23:30 GMT",
        ), // year end
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = report_scan(dir.path(), as_of, &["--no-charts"]);
        let md = std::fs::read_to_string(out.join("report.md")).unwrap();
        assert!(
            md.contains(&format!(
                "| When it was discovered | Detected by this run at {detected}."
            )),
            "{as_of}: {md}"
        );
        assert!(
            md.contains(&format!(
                "| Deadline to report to the ICO | {deadline} (72 hours after detection)."
            )),
            "{as_of}"
        );
    }
}

#[test]
fn breach_log_is_append_only_and_never_repeats_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("breach-log.csv");
    report_scan(dir.path(), "2023-05-31", &["--no-charts"]);
    let first = std::fs::read_to_string(&log).unwrap();
    let rows = read_csv(&log);
    assert_eq!(rows.len(), 3);
    assert!(rows
        .iter()
        .all(|r| r["decision"].is_empty() && r["decision_reason"].is_empty()));
    let loss = rows.iter().find(|r| r["kind"] == "loss").unwrap();
    assert_eq!(loss["ico_deadline_72h"], "Sun 4 Jun 2023 00:59 BST");
    // a person records a decision; the next run keeps it and adds nothing new
    std::fs::write(
        &log,
        first.replacen(
            "BST,,,,,,",
            "BST,,reported,availability breach,DPO,ICO-123,",
            1,
        ),
    )
    .unwrap();
    let edited = std::fs::read_to_string(&log).unwrap();
    report_scan(
        &dir.path().join("again"),
        "2023-05-31",
        &["--no-charts", "--breach-log", log.to_str().unwrap()],
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap(), edited);
}

/// Runs `scan` with an explicit state and output under `dir`; returns (exit code, stdout, stderr).
fn nightly(dir: &Path, input: &Path, extra: &[&str]) -> (i32, String, String) {
    let o = bin()
        .arg("scan")
        .arg("--input")
        .arg(input)
        .arg("--state")
        .arg(dir.join("state.json"))
        .arg("--out")
        .arg(dir.join("reports/tonight"))
        .arg("--no-charts")
        .args(extra)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

fn statuses(dir: &Path) -> Vec<(String, String, String, String)> {
    read_csv(&dir.join("reports/tonight/findings.csv"))
        .into_iter()
        .map(|r| {
            (
                r["system"].clone(),
                r["kind"].clone(),
                r["start"].clone(),
                r["status"].clone(),
            )
        })
        .collect()
}

/// The first `days` days of simple.csv (all three series), as a new file.
fn first_days(dir: &Path, days: usize, name: &str) -> PathBuf {
    let text = std::fs::read_to_string(data("simple.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let p = dir.join(name);
    std::fs::write(&p, lines[..1 + 3 * days].join("\n") + "\n").unwrap();
    p
}

#[test]
fn second_run_reports_nothing_new_and_a_new_day_alerts_once() {
    let dir = tempfile::tempdir().unwrap();
    // up to 2023-04-21: only the Custody zero reading (a transient), nothing new after
    let before = first_days(dir.path(), 110, "before.csv");
    let (code, out, err) = nightly(dir.path(), &before, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        statuses(dir.path()),
        vec![(
            "Custody".into(),
            "transient".into(),
            "2023-04-07".into(),
            "new".into()
        )]
    );
    let (code, out, _) = nightly(dir.path(), &before, &[]);
    assert_eq!(code, 0);
    assert!(out.contains("0 new loss alert(s)"), "{out}");
    assert_eq!(statuses(dir.path())[0].3, "known");
    // one more day, with the body-worn video loss: exit 1, exactly that finding new
    let after = first_days(dir.path(), 111, "after.csv");
    let (code, out, _) = nightly(dir.path(), &after, &[]);
    assert_eq!(code, 1, "{out}");
    let s = statuses(dir.path());
    let new: Vec<_> = s.iter().filter(|x| x.3 == "new").collect();
    assert_eq!(
        new,
        vec![&(
            "Body-worn video".to_string(),
            "loss".to_string(),
            "2023-04-22".to_string(),
            "new".to_string()
        )]
    );
    assert!(
        out.contains("NEW LOSS Kent Police/Body-worn video"),
        "{out}"
    );
    // and the night after, it is known: exit 0
    let (code, ..) = nightly(dir.path(), &first_days(dir.path(), 112, "later.csv"), &[]);
    assert_eq!(code, 0);
    // the report link, `latest` and the state are in place
    assert!(dir.path().join("reports/latest/manifest.json").is_file());
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("state.json")).unwrap())
            .unwrap();
    assert_eq!(state["findings"].as_object().unwrap().len(), 2);
}

#[test]
fn a_zero_reading_alerts_then_is_reported_again_as_an_update() {
    let dir = tempfile::tempdir().unwrap();
    // 2023-04-07 is day 95: the zero reading is the newest sample
    let (code, out, _) = nightly(dir.path(), &first_days(dir.path(), 96, "a.csv"), &[]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        statuses(dir.path()),
        vec![(
            "Custody".into(),
            "loss".into(),
            "2023-04-07".into(),
            "new".into()
        )]
    );
    let (code, out, _) = nightly(dir.path(), &first_days(dir.path(), 97, "b.csv"), &[]);
    assert_eq!(code, 0, "{out}");
    let f = read_csv(&dir.path().join("reports/tonight/findings.csv"));
    assert_eq!(
        (f[0]["kind"].as_str(), f[0]["status"].as_str()),
        ("transient", "updated")
    );
    assert!(
        f[0]["change"].starts_with("was loss, now transient"),
        "{}",
        f[0]["change"]
    );
}

#[test]
fn late_data_reveals_an_older_loss_as_new() {
    let dir = tempfile::tempdir().unwrap();
    // tonight's file lacks the body-worn video rows of 2023-04-20 .. 2023-04-25
    let text = std::fs::read_to_string(data("simple.csv")).unwrap();
    let keep = |l: &&str| {
        !(l.contains("Body-worn video") && ("2023-04-20".."2023-04-26").contains(&&l[..10]))
    };
    let partial: Vec<&str> = text.lines().take(1 + 3 * 114).filter(keep).collect();
    let p1 = dir.path().join("partial.csv");
    std::fs::write(&p1, partial.join("\n") + "\n").unwrap();
    let (code, ..) = nightly(dir.path(), &p1, &["--as-of", "2023-04-25"]);
    // the drop is already visible across the gap: reported on 2023-04-26's data? Not yet: no BWV row after 04-19 before 04-26
    assert_eq!(code, 0);
    // the late rows arrive: the loss of 2023-04-22 is new tonight, start in the past
    let (code, out, _) = nightly(
        dir.path(),
        &first_days(dir.path(), 114, "full.csv"),
        &["--as-of", "2023-04-25"],
    );
    assert_eq!(code, 1, "{out}");
    let f = read_csv(&dir.path().join("reports/tonight/findings.csv"));
    let loss = f.iter().find(|r| r["kind"] == "loss").unwrap();
    assert_eq!(
        (loss["start"].as_str(), loss["status"].as_str()),
        ("2023-04-22", "new")
    );
    assert_eq!(loss["detected_at"], "2023-04-25T23:59:59Z");
}

#[test]
fn as_of_ignores_later_observations() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = nightly(dir.path(), &data("simple.csv"), &["--as-of", "2023-04-21"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("data until 2023-04-21T00:00:00Z"), "{out}");
    let (code, ..) = nightly(dir.path(), &data("simple.csv"), &["--as-of", "2023-04-22"]);
    assert_eq!(code, 1);
}

#[cfg(unix)]
#[test]
fn a_second_run_waits_for_nobody_and_a_stale_lock_is_taken_over() {
    use std::os::unix::io::AsRawFd;
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("state.json.lock");
    std::fs::write(&lock, "pid 999999 since 2020-01-01T00:00:00Z\n").unwrap();
    // stale: nobody holds it, so the run proceeds
    let (code, out, err) = nightly(dir.path(), &data("six_hourly.csv"), &[]);
    assert_eq!(code, 1, "{out}{err}");
    // held by a live process (this test): exit 2 naming the holder
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&lock)
        .unwrap();
    std::fs::write(&lock, "pid 4242 since 2026-01-01T02:00:00Z\n").unwrap();
    assert_eq!(unsafe { libc_flock(f.as_raw_fd()) }, 0);
    let (code, _, err) = nightly(dir.path(), &data("six_hourly.csv"), &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("another shrinkwatch run holds")
            && err.contains("pid 4242 since 2026-01-01T02:00:00Z"),
        "{err}"
    );
    drop(f);
    let (code, ..) = nightly(dir.path(), &data("six_hourly.csv"), &[]);
    assert_eq!(code, 0, "known by now");
}

#[cfg(unix)]
unsafe fn libc_flock(fd: i32) -> i32 {
    extern "C" {
        fn flock(fd: i32, op: i32) -> i32;
    }
    const LOCK_EX: i32 = 2;
    const LOCK_NB: i32 = 4;
    flock(fd, LOCK_EX | LOCK_NB)
}

#[cfg(unix)]
#[test]
fn kill_9_at_any_moment_leaves_a_complete_report_and_a_valid_state() {
    let dir = tempfile::tempdir().unwrap();
    let bin_path = assert_cmd::cargo::cargo_bin("shrinkwatch");
    let run = |extra: &[&str]| {
        std::process::Command::new(&bin_path)
            .arg("scan")
            .arg("--input")
            .arg(data("simple.csv"))
            .arg("--planned")
            .arg(data("planned_simple.csv"))
            .arg("--state")
            .arg(dir.path().join("state.json"))
            .arg("--out")
            .arg(dir.path().join("reports/tonight"))
            .args(extra)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    // a first complete run
    assert_eq!(
        run(&["--as-of", "2023-05-01"]).wait().unwrap().code(),
        Some(1)
    );
    let check = |i: usize| {
        let link = dir.path().join("reports/tonight");
        let m = std::fs::read_to_string(link.join("manifest.json"))
            .unwrap_or_else(|e| panic!("kill {i}: no complete report: {e}"));
        serde_json::from_str::<serde_json::Value>(&m).unwrap();
        for f in [
            "findings.csv",
            "findings.json",
            "report.md",
            "report.html",
            "overview.png",
        ] {
            assert!(link.join(f).is_file(), "kill {i}: {f} missing");
        }
        let s = std::fs::read_to_string(dir.path().join("state.json")).unwrap();
        serde_json::from_str::<serde_json::Value>(&s)
            .unwrap_or_else(|e| panic!("kill {i}: state broken: {e}"));
    };
    // kill at spread-out moments (deterministic), alternating the night
    let mut seed: u64 = 12345;
    for i in 0..16 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = std::time::Duration::from_millis(5 + (seed >> 33) % 900);
        let mut child = run(&[
            "--as-of",
            if i % 2 == 0 {
                "2023-05-31"
            } else {
                "2023-05-01"
            },
        ]);
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        check(i);
    }
    // and the next run completes normally
    let code = run(&["--as-of", "2023-05-31"]).wait().unwrap().code();
    assert!(matches!(code, Some(0) | Some(1)));
    check(99);
    let runs = std::fs::read_dir(dir.path().join("reports/.shrinkwatch-runs"))
        .unwrap()
        .count();
    assert!(runs <= 2, "{runs} run folders left behind");
}

#[test]
fn no_progress_output_when_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let o = bin()
        .args([
            "scan",
            "--input",
            data("simple.csv").to_str().unwrap(),
            "--planned",
            data("planned_simple.csv").to_str().unwrap(),
            "--state",
        ])
        .arg(dir.path().join("s.json"))
        .arg("--out")
        .arg(dir.path().join("r"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        o.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout
            .lines()
            .last()
            .unwrap()
            .starts_with("shrinkwatch: 3 series, 450 rows (0 duplicates, 0 rejected)"),
        "{stdout}"
    );
    // -q: only the summary line
    let o = bin()
        .args([
            "-q",
            "scan",
            "--no-charts",
            "--input",
            data("simple.csv").to_str().unwrap(),
            "--state",
        ])
        .arg(dir.path().join("q.json"))
        .arg("--out")
        .arg(dir.path().join("q"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);
    // -v: details on stderr
    let o = bin()
        .args([
            "-v",
            "scan",
            "--no-charts",
            "--input",
            data("simple.csv").to_str().unwrap(),
            "--state",
        ])
        .arg(dir.path().join("v.json"))
        .arg("--out")
        .arg(dir.path().join("v"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("debug: detection over 3 series"));
}

#[test]
fn replay_reports_each_loss_on_its_night() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rp");
    let o = bin()
        .args([
            "replay",
            "--input",
            data("simple.csv").to_str().unwrap(),
            "--planned",
            data("planned_simple.csv").to_str().unwrap(),
            "--labels",
            data("labels_simple.csv").to_str().unwrap(),
            "--from",
            "2023-03-01",
            "--to",
            "2023-05-31",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rows = read_csv(&out.join("replay.csv"));
    let bwv = rows
        .iter()
        .find(|r| r["series"] == "Kent Police/Body-worn video")
        .unwrap();
    assert_eq!(
        (
            bwv["start"].as_str(),
            bwv["first_reported"].as_str(),
            bwv["delay_days"].as_str(),
            bwv["final_kind"].as_str(),
            bwv["label"].as_str()
        ),
        ("2023-04-22", "2023-04-22", "0", "loss", "loss")
    );
    let zero = rows
        .iter()
        .find(|r| r["series"] == "Kent Police/Custody" && r["start"] == "2023-04-07")
        .unwrap();
    assert_eq!(
        (zero["first_reported"].as_str(), zero["final_kind"].as_str()),
        ("2023-04-07", "transient")
    );
    assert!(!rows.iter().any(|r| r["final_kind"] == "missed"));
    assert!(String::from_utf8_lossy(&o.stdout)
        .contains("labelled losses in range: 1; reported: 1; missed: 0"));
}

#[test]
fn per_system_overrides_apply_and_flags_win_over_them() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "[detect]\nmin_drop_pct = 1.5\n\n[[override]]\nmatch = { system = \"Custody\" }\nset = { min_drop_pct = 50.0 }\n").unwrap();
    let input = data("simple.csv");
    let planned = data("planned_simple.csv");
    let run = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let mut args = vec![
            "--config",
            cfg.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--planned",
            planned.to_str().unwrap(),
            "--no-charts",
        ];
        args.extend_from_slice(extra);
        scan(&args, &out);
        read_csv(&out.join("findings.csv"))
            .into_iter()
            .map(|r| format!("{} {}", r["system"], r["kind"]))
            .collect::<Vec<_>>()
    };
    // Custody's 20 % planned disposal is below its own 50 %; its zero reading (100 %) and Body-worn video's 10 % loss stay
    assert_eq!(
        run("a", &[]),
        vec!["Body-worn video loss", "Custody transient"]
    );
    // a flag wins over the file, overrides included
    assert_eq!(run("b", &["--min-drop-pct", "1.5"]).len(), 3);
    // an override with a bad value is rejected, naming it and the key
    std::fs::write(
        &cfg,
        "[[override]]\nseries = \"Kent Police/Custody\"\nset = { alpha = 2.0 }\n",
    )
    .unwrap();
    let (code, _, err) = scan(
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
        ],
        &dir.path().join("c"),
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("override #1") && err.contains("`alpha`") && err.contains("(0, 1)"),
        "{err}"
    );
    // an unknown threshold in an override is named too
    std::fs::write(
        &cfg,
        "[[override]]\nmatch = { system = \"Custody\" }\nset = { min_drop = 2.0 }\n",
    )
    .unwrap();
    let (code, _, err) = scan(
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
        ],
        &dir.path().join("d"),
    );
    assert_eq!(code, 2);
    assert!(err.contains("min_drop"), "{err}");
}

#[test]
fn explain_names_the_deciding_test() {
    let o = bin()
        .args([
            "scan",
            "--input",
            data("simple.csv").to_str().unwrap(),
            "--planned",
            data("planned_simple.csv").to_str().unwrap(),
            "--explain",
            "Kent Police/Custody",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    let line = |start: &str| {
        text.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no candidate at {start}: {text}"))
            .to_string()
    };
    assert!(line("2023-04-07").ends_with("transient"));
    assert!(line("2023-05-12").ends_with("planned"));
    // the routine Sunday deletions (2 %) are examined and rejected by a named test
    assert!(
        text.lines().any(|l| l.contains("not unusual")
            || l.contains("not substantial")
            || l.contains("too little history")),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all.csv");
    bin()
        .args([
            "scan",
            "--input",
            data("simple.csv").to_str().unwrap(),
            "--explain-all",
        ])
        .arg(&all)
        .assert()
        .success();
    let rows = read_csv(&all);
    assert!(rows
        .iter()
        .any(|r| r["series"] == "Kent Police/Body-worn video" && r["verdict"] == "loss"));
    assert!(rows.iter().all(|r| !r["verdict"].is_empty()));
}

/// A quiet daily series whose only labelled loss is 1.2 %: below the default
/// 1.5 % minimum, so tuning must lower `min_drop_pct` to find it.
fn small_loss_fixture(dir: &Path) -> (PathBuf, PathBuf) {
    let mut csv = String::from("timestamp,force,system,bytes\n");
    let mut level = 1e13_f64;
    let t0 = chrono::NaiveDate::from_ymd_opt(2023, 1, 2).unwrap();
    for i in 0..200 {
        level *= 1.001;
        if i == 150 {
            level *= 0.988;
        }
        let wiggle = 1.0 + 0.0001 * ((i as f64) * 1.7).sin();
        csv.push_str(&format!(
            "{},Essex Police,Records management,{}\n",
            t0 + chrono::Duration::days(i),
            (level * wiggle).round()
        ));
    }
    let input = dir.join("small.csv");
    std::fs::write(&input, csv).unwrap();
    let labels = dir.join("small-labels.csv");
    std::fs::write(
        &labels,
        format!(
            "force,system,timestamp,kind\nEssex Police,Records management,{},loss\n",
            t0 + chrono::Duration::days(150)
        ),
    )
    .unwrap();
    (input, labels)
}

#[test]
fn tune_finds_the_setting_the_fixture_requires() {
    let dir = tempfile::tempdir().unwrap();
    let (input, labels) = small_loss_fixture(dir.path());
    let out = dir.path().join("tune");
    let o = bin()
        .args(["tune", "--holdout", "0", "--input"])
        .arg(&input)
        .arg("--labels")
        .arg(&labels)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rec: toml::Value =
        toml::from_str(&std::fs::read_to_string(out.join("recommended.toml")).unwrap()).unwrap();
    let min = rec["detect"]["min_drop_pct"].as_float().unwrap();
    assert!(min < 1.2, "recommended min_drop_pct {min}");
    let trials = read_csv(&out.join("tune.csv"));
    assert!(trials.len() >= 10);
    assert!(trials
        .iter()
        .any(|t| t["role"] == "current" && t["recall"] == "0.0000"));
    assert!(trials
        .iter()
        .any(|t| t["role"] == "recommended" && t["f1"] == "1.0000"));
    assert!(out.join("tune.png").is_file());
    // the recommendation, used as a config, finds the loss
    let (code, ..) = scan(
        &[
            "--config",
            out.join("recommended.toml").to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--no-charts",
        ],
        &dir.path().join("r"),
    );
    assert_eq!(code, 1);
}

#[test]
fn tune_reports_held_out_scores() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    bin()
        .args([
            "generate", "--seed", "3", "--series", "24", "--days", "300", "--out",
        ])
        .arg(&ds)
        .assert()
        .success();
    let out = dir.path().join("tune");
    let o = bin()
        .args([
            "tune",
            "--holdout",
            "0.5",
            "--objective",
            "recall=0.9",
            "--input",
        ])
        .arg(ds.join("observations.parquet"))
        .arg("--planned")
        .arg(ds.join("planned.csv"))
        .arg("--labels")
        .arg(ds.join("labels.csv"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("held-out series") && text.contains("| recommended |"),
        "{text}"
    );
    assert!(std::fs::read_to_string(out.join("recommended.toml"))
        .unwrap()
        .contains("# Held-out part: precision"));
}

/// Each file in tests/data/bad/ either stops the run with exit 2 and a clear
/// message naming the file, or is read with bad rows set aside; never a panic.
#[test]
fn bad_input_corpus_gives_clear_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let bad = |name: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/bad")
            .join(name)
    };
    for (file, code, needles) in [
        ("empty.csv", 2, vec!["empty.csv", "empty"]),
        (
            "semicolon.csv",
            2,
            vec![
                "semicolon.csv",
                "`timestamp` is missing",
                "semicolon-separated",
            ],
        ),
        ("tab.csv", 2, vec!["tab.csv", "tab-separated"]),
        (
            "nonutf8.csv",
            2,
            vec!["nonutf8.csv", "line 2, column `force`: not valid UTF-8"],
        ),
        (
            "ragged.csv",
            2,
            vec!["ragged.csv", "line 2: 3 fields, but the header has 4"],
        ),
        ("trunc.parquet", 2, vec!["trunc.parquet"]),
        // no usable row: exit 2 (issue 11, item 17)
        ("header_only.csv", 2, vec!["no usable row", "no data rows"]),
        ("bom.csv", 0, vec!["1 series, 2 rows"]),
        ("quoted.csv", 0, vec!["1 series, 2 rows"]),
        (
            "numbers.csv",
            2,
            vec!["no usable row", "all 5 rows were rejected"],
        ),
    ] {
        let (got, out, err) = scan(
            &["--no-charts", "--input", bad(file).to_str().unwrap()],
            &dir.path().join(file),
        );
        assert_eq!(got, code, "{file}: {out}{err}");
        assert!(!err.contains("panicked"), "{file}: {err}");
        for n in needles {
            assert!(
                out.contains(n) || err.contains(n),
                "{file}: `{n}` not in: {out}{err}"
            );
        }
    }
    // every bad number is named with its reason (no row is usable, so the
    // reasons are in the error, not in a report's rejected.csv)
    let (_, _, err) = scan(
        &[
            "--no-charts",
            "--input",
            bad("numbers.csv").to_str().unwrap(),
        ],
        &dir.path().join("numbers-again.csv"),
    );
    for reason in [
        "too large",
        "thousands separators",
        ": not a number",
        "missing bytes value",
        "not a whole number",
    ] {
        assert!(err.contains(reason), "`{reason}` not in: {err}");
    }
    // quoted fields keep their commas and quotes in the key
    let f = read_csv(&dir.path().join("quoted.csv").join("findings.csv"));
    assert!(f.is_empty());
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("quoted.csv/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(m["counts"]["series"], 1);
}

/// `scan --shard I/N` on N hosts then `merge` gives exactly what one scan
/// gives: findings, JSON, state, report, breach log and exit code; a merge
/// with a shard missing, given twice or from other data writes nothing.
#[test]
fn shards_merged_equal_one_scan() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ds = d.join("data");
    let g = bin()
        .args([
            "generate", "--seed", "5", "--series", "14", "--days", "500", "--out",
        ])
        .arg(&ds)
        .output()
        .unwrap();
    assert!(g.status.success());
    let input = ds.join("observations.parquet");
    let planned = ds.join("planned.csv");
    let common = |c: &mut Command| {
        c.arg("--input")
            .arg(&input)
            .arg("--planned")
            .arg(&planned)
            .args(["--as-of", "2022-05-01", "--chart-size", "640x360"]);
    };
    let mut one = bin();
    one.arg("scan");
    common(&mut one);
    let one = one.arg("--out").arg(d.join("one/r")).output().unwrap();
    assert_eq!(
        one.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    let n = 4;
    let mut rows_other = 0u64;
    for i in 1..=n {
        let mut c = bin();
        c.arg("scan");
        common(&mut c);
        let o = c
            .args(["--shard", &format!("{i}/{n}"), "--out"])
            .arg(d.join(format!("s{i}/r")))
            .arg("--state")
            .arg(d.join("m/state.json"))
            .output()
            .unwrap();
        // a shard never alerts and never writes the state
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!d.join(format!("s{i}/state.json")).exists());
        assert!(!d.join("m/state.json").exists());
        let m: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(d.join(format!("s{i}/r/manifest.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(m["shard"], format!("{i}/{n}"));
        rows_other += m["counts"]["other_shards"].as_u64().unwrap();
    }
    // every row kept by exactly one shard: the others saw it as "other"
    let total: u64 = {
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("one/r/manifest.json")).unwrap())
                .unwrap();
        m["counts"]["rows_read"].as_u64().unwrap()
    };
    assert_eq!(rows_other, total * (n - 1));
    let merge = |dirs: &[&str], out: &str| {
        let mut c = bin();
        c.arg("merge");
        for s in dirs {
            c.arg(d.join(s));
        }
        c.args(["--as-of", "2022-05-01", "--chart-size", "640x360", "--out"])
            .arg(d.join(out))
            .output()
            .unwrap()
    };
    let m = merge(&["s3/r", "s1/r", "s4/r", "s2/r"], "m/r");
    assert_eq!(
        m.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&m.stderr)
    );
    for f in [
        "r/findings.csv",
        "r/findings.json",
        "r/report.md",
        "state.json",
        "breach-log.csv",
    ] {
        let a = std::fs::read_to_string(d.join("one").join(f)).unwrap();
        let b = std::fs::read_to_string(d.join("m").join(f)).unwrap();
        assert!(a == b, "{f} differs between one scan and merged shards");
    }
    let charts = |p: &str| {
        let mut v: Vec<_> = std::fs::read_dir(d.join(p).join("r/charts"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        v.sort();
        v
    };
    assert!(!charts("one").is_empty());
    assert_eq!(charts("one"), charts("m"));
    // broken merges stop with exit 2 and write nothing
    for (dirs, needle) in [
        (vec!["s1/r", "s2/r", "s3/r"], "missing"),
        (vec!["s1/r", "s2/r", "s3/r", "s3/r"], "given twice"),
        (vec!["s1/r", "s2/r", "s3/r", "one/r"], "not a shard"),
    ] {
        let o = merge(&dirs, "bad/r");
        assert_eq!(o.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&o.stderr).contains(needle));
        assert!(!d.join("bad/r").exists());
    }
    // bad --shard values are refused by the command line
    let o = bin().args(["scan", "--shard", "5/4"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 ≤ I ≤ N"));
}

/// An input too large for the memory limit stops before reading, saying
/// what limit was hit and how to get past it; within the limit it runs.
#[test]
fn memory_limit_fails_early_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let input = data("simple.csv");
    let (code, _, err) = scan(
        &[
            "--no-charts",
            "--max-memory",
            "1K",
            "--input",
            input.to_str().unwrap(),
        ],
        &dir.path().join("a"),
    );
    assert_eq!(code, 2, "{err}");
    for needle in [
        "needs about",
        "more than the limit",
        "--shard I/N",
        "--max-memory",
    ] {
        assert!(err.contains(needle), "`{needle}` not in {err}");
    }
    assert!(!dir.path().join("a").exists());
    let (code, out, err) = scan(
        &[
            "--no-charts",
            "--max-memory",
            "2G",
            "--input",
            input.to_str().unwrap(),
        ],
        &dir.path().join("b"),
    );
    assert!(code == 0 || code == 1, "{out}{err}");
    let o = bin()
        .args(["scan", "--max-memory", "lots"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// More of the corpus: timestamps in every accepted form, offsets and both
/// clock changes; conflicting duplicates; tiny and all-zero series; a
/// misspelt column; a planned file with an unknown series and overlapping
/// windows; Parquet files with wrong column types.
#[test]
fn bad_input_corpus_timestamps_conflicts_types() {
    let dir = tempfile::tempdir().unwrap();
    let bad = |name: &str| data("bad").join(name).to_str().unwrap().to_string();
    let rejected = |name: &str| read_csv(&dir.path().join(name).join("rejected.csv"));

    // every accepted form is read; offsets are applied (the two 01:30 rows
    // on the October clock change are an hour apart, not a conflict)
    let (code, out, err) = scan(
        &["--no-charts", "--input", &bad("timestamps.csv")],
        &dir.path().join("ts"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("2 series, 14 rows (0 duplicates, 4 rejected)"),
        "{out}"
    );
    let r = rejected("ts");
    let lines: Vec<(&str, &str)> = r
        .iter()
        .map(|r| (r["line"].as_str(), r["reason"].as_str()))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("7", "not a valid date (expected YYYY-MM-DD)"),
            ("8", "not a valid date (expected YYYY-MM-DD)"),
            ("9", "not a date or RFC 3339 date-time"),
            ("10", "missing timestamp"),
        ]
    );
    assert!(r.iter().all(|r| r["column"] == "timestamp"));

    // an exact duplicate is counted; a conflicting pair is rejected whole
    let (code, out, _) = scan(
        &["--no-charts", "--input", &bad("conflicts.csv")],
        &dir.path().join("cf"),
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("1 series, 5 rows (1 duplicates, 2 rejected)"),
        "{out}"
    );
    let r = rejected("cf");
    assert_eq!(r.len(), 2);
    assert!(r.iter().all(
        |r| r["reason"].starts_with("conflicting values") && r["reason"].contains("110 / 120")
    ));
    assert_eq!((r[0]["line"].as_str(), r[1]["line"].as_str()), ("4", "5"));

    // quoted fields with newlines, doubled quotes and a blank line: rows
    // are named by their physical line in the file
    let (code, out, _) = scan(
        &["--no-charts", "--input", &bad("quoted_newline.csv")],
        &dir.path().join("qn"),
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("1 series, 5 rows (0 duplicates, 2 rejected)"),
        "{out}"
    );
    let r = rejected("qn");
    let got: Vec<(&str, &str)> = r
        .iter()
        .map(|r| (r["line"].as_str(), r["reason"].as_str()))
        .collect();
    assert_eq!(got, vec![("6", "blank line"), ("7", "not a whole number")]);
    assert_eq!(r[1]["value"], "abc");
    let m = std::fs::read_to_string(dir.path().join("qn/findings.json")).unwrap();
    assert_eq!(m.trim(), "[]");

    // a one-row series and an all-zero series: read, nothing to report
    let (code, out, _) = scan(
        &["--no-charts", "--input", &bad("tiny.csv")],
        &dir.path().join("tiny"),
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("2 series, 41 rows (0 duplicates, 0 rejected)")
            && out.contains("0 loss, 0 transient"),
        "{out}"
    );

    let (code, _, err) = scan(
        &["--no-charts", "--input", &bad("misspelled.csv")],
        &dir.path().join("ms"),
    );
    assert_eq!(code, 2);
    assert!(err.contains("misspelled.csv: required column `system` is missing (columns found: timestamp, force, sytem, bytes)"), "{err}");

    // planned windows that match nothing or overlap are warned about
    let (code, _, err) = scan(
        &[
            "--no-charts",
            "--input",
            data("simple.csv").to_str().unwrap(),
            "--planned",
            &bad("planned_unknown_overlap.csv"),
        ],
        &dir.path().join("pl"),
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("line 2: `Kent Polce/Custody` matches no series"),
        "{err}"
    );
    assert!(
        err.contains(
            "lines 3 and 4: windows for `Kent Police/Custody` and `Kent Police/*` overlap"
        ),
        "{err}"
    );

    // Parquet with wrong column types: an unusable type stops the run naming
    // the column; text where a number belongs rejects just those rows
    use polars::prelude::*;
    let write = |name: &str, mut df: DataFrame| {
        let p = dir.path().join(name);
        ParquetWriter::new(std::fs::File::create(&p).unwrap())
            .finish(&mut df)
            .unwrap();
        p.to_str().unwrap().to_string()
    };
    let boolean = write(
        "bool.parquet",
        df!("timestamp" => ["2023-01-01"], "force" => ["A"], "system" => ["B"], "bytes" => [true])
            .unwrap(),
    );
    let (code, _, err) = scan(
        &["--no-charts", "--input", &boolean],
        &dir.path().join("pb"),
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("bool.parquet") && err.contains("column `bytes`: has type bool"),
        "{err}"
    );
    let numeric_time = write(
        "ftime.parquet",
        df!("timestamp" => [1.5f64], "force" => ["A"], "system" => ["B"], "bytes" => [1i64])
            .unwrap(),
    );
    let (code, _, err) = scan(
        &["--no-charts", "--input", &numeric_time],
        &dir.path().join("pf"),
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("column `timestamp`: has type f64, expected a date, date-time or text"),
        "{err}"
    );
    let text = write(
        "text.parquet",
        df!("timestamp" => ["2023-01-01", "2023-01-02"], "force" => ["A", "A"], "system" => ["B", "B"], "bytes" => ["12", "abc"]).unwrap(),
    );
    let (code, out, _) = scan(&["--no-charts", "--input", &text], &dir.path().join("pt"));
    assert_eq!(code, 0);
    assert!(
        out.contains("1 series, 2 rows (0 duplicates, 1 rejected)"),
        "{out}"
    );
    let r = rejected("pt");
    assert_eq!(
        (r[0]["line"].as_str(), r[0]["value"].as_str()),
        ("2", "abc")
    );
}
