//! Bad input never panics and never drops data silently: rejected rows with
//! file, line and reason, fatal errors naming file and column, the bad-input
//! corpus, configuration errors, and the same findings whatever the order,
//! duplicates or file splits.

mod common;

use common::*;
use std::path::Path;

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
