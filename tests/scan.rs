//! `scan` on the fixtures: exact values of a loss, a transient and a planned
//! reduction, column names, Parquet variants, thresholds, per-system
//! overrides, `--explain` and the memory limit.

mod common;

use common::*;
use std::path::Path;

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

/// One series (`Kent Police/Custody`) read `per_day` times a day for 150
/// days from 2023-01-02 00:00, growing 0.2 % a day with a little fixed
/// jitter, 20 % lower for the `dipped` readings from reading `from` on.
fn dip_csv(per_day: usize, from: usize, dipped: usize) -> String {
    let t0 = chrono::NaiveDate::from_ymd_opt(2023, 1, 2)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let step = chrono::Duration::seconds(86_400 / per_day as i64);
    let mut out = String::from("timestamp,force,system,bytes\n");
    let mut level = 1.0e12;
    for i in 0..150 * per_day {
        let jitter = (((i * 7919) % 11) as f64 - 5.0) * 2e-5;
        level *= 1.002f64.powf(1.0 / per_day as f64) + jitter;
        let v = if (from..from + dipped).contains(&i) {
            level * 0.8
        } else {
            level
        };
        let t = t0 + step * i as i32;
        out.push_str(&format!(
            "{},Kent Police,Custody,{v:.0}\n",
            t.format("%Y-%m-%dT%H:%M:%SZ")
        ));
    }
    out
}

/// The kind of the one finding of a dip (`scan --recovery RECOVERY`).
fn dip_kind(dir: &Path, name: &str, csv: &str, recovery: &str) -> String {
    let input = dir.join(format!("{name}.csv"));
    std::fs::write(&input, csv).unwrap();
    let out = dir.join(name);
    let args = ["--no-charts", "--recovery", recovery, "--input"];
    let mut args: Vec<&str> = args.to_vec();
    args.push(input.to_str().unwrap());
    let (code, stdout, stderr) = scan(&args, &out);
    let f = read_csv(&out.join("findings.csv"));
    assert_eq!(f.len(), 1, "{name}: {f:?}\n{stdout}{stderr}");
    let kind = f[0]["kind"].clone();
    assert_eq!(
        code,
        if kind == "loss" { 1 } else { 0 },
        "{name}: {stdout}{stderr}"
    );
    kind
}

#[test]
fn the_transient_window_is_exactly_recovery_long() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // daily readings, the drop on day 120: back on day 125, 5 days after
    // it, is within --recovery 5d; back one reading later is not
    for (dipped, recovery, want) in [
        (5, "5d", "transient"),
        (6, "5d", "loss"),
        (5, "3d", "loss"),
        (3, "3d", "transient"),
        (4, "3d", "loss"),
    ] {
        let name = format!("daily-{dipped}-{recovery}");
        let kind = dip_kind(d, &name, &dip_csv(1, 120, dipped), recovery);
        assert_eq!(kind, want, "{name}");
    }
    // hourly readings (summarised per UTC day, a day back when its last
    // reading is), the drop at 12:00 on day 120: back at 23:00 two days
    // later is within --recovery 2d; back one reading later (00:00 on the
    // third day) is not
    let from = 120 * 24 + 12;
    for (dipped, recovery, want) in [
        (2 * 24 + 11, "2d", "transient"),
        (2 * 24 + 12, "2d", "loss"),
        (3 * 24 + 11, "3d", "transient"),
        (3 * 24 + 12, "3d", "loss"),
    ] {
        let name = format!("hourly-{dipped}h-{recovery}");
        let kind = dip_kind(d, &name, &dip_csv(24, from, dipped), recovery);
        assert_eq!(kind, want, "{name}");
    }
}
