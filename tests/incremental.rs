//! Incremental nightly scans (issue 17): a series of nights run both ways,
//! incrementally (the default, reading only a window) and with `--full`, on
//! a small generated estate delivered as one CSV file per night, with late
//! rows (inside the window, and from long ago), a configuration change and
//! planned windows edited after the fact (a recent one, and an old one);
//! every night the findings, the state's record of findings, the breach
//! log and the exit code must be the same both ways. Also: Parquet row
//! groups before the window are not decoded, and files before it not opened.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Nights of the sequence (after a first scan of the history).
const NIGHTS: usize = 16;
/// Days of history in the first file.
const HISTORY: usize = 250;

/// Observations of a generated estate, by day (`YYYY-MM-DD`) → CSV lines.
struct Estate {
    header: String,
    days: BTreeMap<String, Vec<String>>,
    planned: String,
}

fn generate(dir: &Path) -> Estate {
    let g = dir.join("gen");
    let (code, out, err) = run(
        &[
            "generate",
            "--seed",
            "11",
            "--series",
            "24",
            "--days",
            &(HISTORY + NIGHTS + 2).to_string(),
            "--event-rate",
            "4",
            "--format",
            "csv",
            "--out",
            g.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{out}{err}");
    let text = std::fs::read_to_string(g.join("observations.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_string();
    let mut days: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in lines {
        days.entry(l[..10].to_string())
            .or_default()
            .push(l.to_string());
    }
    Estate {
        header,
        days,
        planned: std::fs::read_to_string(g.join("planned.csv")).unwrap(),
    }
}

fn write_lines(path: &Path, header: &str, lines: &[String]) {
    let mut s = String::from(header);
    s.push('\n');
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    std::fs::write(path, s).unwrap();
}

/// One way of running the nights: its own state, breach log and reports.
struct Way {
    dir: PathBuf,
    extra: Vec<String>,
}

impl Way {
    fn scan(
        &self,
        input: &Path,
        planned: &Path,
        night: &str,
        flags: &[&str],
        env: &[(&str, &str)],
    ) -> (i32, String) {
        let mut args: Vec<String> = vec![
            "scan".into(),
            "--input".into(),
            input.display().to_string(),
            "--planned".into(),
            planned.display().to_string(),
            "--as-of".into(),
            night.into(),
            "--out".into(),
            self.dir.join("reports").join(night).display().to_string(),
            "--state".into(),
            self.dir.join("state.json").display().to_string(),
            "--breach-log".into(),
            self.dir.join("breach-log.csv").display().to_string(),
            "--no-charts".into(),
            "--baseline".into(),
            "42d".into(),
        ];
        args.extend(self.extra.iter().cloned());
        args.extend(flags.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = run(&refs, env);
        assert!(code == 0 || code == 1, "{night}: {out}{err}");
        let summary =
            std::fs::read_to_string(self.dir.join("reports").join(night).join("summary.txt"))
                .unwrap();
        (code, summary)
    }

    fn findings(&self, night: &str) -> String {
        std::fs::read_to_string(self.dir.join("reports").join(night).join("findings.csv")).unwrap()
    }

    /// The state's record of findings (the checkpoint differs by design:
    /// each way keeps its own anchor and file records).
    fn state_findings(&self) -> serde_json::Value {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(self.dir.join("state.json")).unwrap())
                .unwrap();
        v["findings"].clone()
    }

    fn breach_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("breach-log.csv")).unwrap_or_default()
    }
}

#[test]
fn nights_incremental_and_full_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let est = generate(dir);
    let dates: Vec<String> = est.days.keys().cloned().collect();
    assert!(dates.len() >= HISTORY + NIGHTS);
    let folder = dir.join("nights");
    std::fs::create_dir_all(&folder).unwrap();
    let planned = dir.join("planned.csv");
    std::fs::write(&planned, &est.planned).unwrap();
    // Rows held back and delivered late: two from inside the window (a week
    // before the night they arrive), and one from long before it.
    let late_recent = (HISTORY + 6 - 7, HISTORY + 6);
    let late_old = (40usize, HISTORY + 11);
    // Stores whose collectors were down: two back on night 4, after 45
    // days (the window widens to judge it from an earlier anchor of its
    // own) and after 160 days (judged on a second window a year wider,
    // which holds its whole history here); a third back on night 5 after
    // 160 days, where the wider window is made to fail (a failpoint), so it
    // is judged on its whole history. The rest of each run stays incremental.
    let gaps = [
        (gapped_series(&est, 0), (HISTORY + 3 - 45)..(HISTORY + 3)),
        (gapped_series(&est, 1), (HISTORY + 3 - 160)..(HISTORY + 3)),
        (gapped_series(&est, 2), (HISTORY + 4 - 160)..(HISTORY + 4)),
    ];
    let in_gap = |d: usize, line: &str| {
        gaps.iter()
            .any(|(key, gap)| gap.contains(&d) && line.contains(key.as_str()))
    };
    let mut history: Vec<String> = Vec::new();
    for (d, day) in dates.iter().enumerate().take(HISTORY) {
        let mut lines = est.days[day].clone();
        if d == late_old.0 {
            lines.pop();
        }
        lines.retain(|l| !in_gap(d, l));
        history.extend(lines);
    }
    write_lines(&folder.join("history.csv"), &est.header, &history);
    let inc = Way {
        dir: dir.join("inc"),
        extra: vec![],
    };
    let full = Way {
        dir: dir.join("full"),
        extra: vec!["--full".into()],
    };
    let mut modes = Vec::new();
    for n in 0..=NIGHTS {
        let d = HISTORY - 1 + n;
        let night = &dates[d];
        if n > 0 {
            let mut lines = est.days[night].clone();
            if d == late_recent.0 {
                lines.truncate(lines.len() - 2); // two rows arrive a week late
            }
            if d == late_recent.1 {
                let held = &est.days[&dates[late_recent.0]];
                lines.extend(held[held.len() - 2..].iter().cloned());
            }
            if d == late_old.1 {
                let held = &est.days[&dates[late_old.0]];
                lines.push(held[held.len() - 1].clone());
            }
            lines.retain(|l| !in_gap(d, l));
            write_lines(&folder.join(format!("{night}.csv")), &est.header, &lines);
        }
        // A planned window edited after the fact: a recent one (inside the
        // window), then an old one (long before it).
        if n == 8 {
            let edited = edit_planned(&est.planned, &dates[d - 20], &dates[d - 18]);
            std::fs::write(&planned, edited).unwrap();
        }
        if n == 13 {
            let mut edited = std::fs::read_to_string(&planned).unwrap();
            edited.push_str(&format!(
                "{},{},{},{},0,an old disposal recorded late\n",
                first_key(&est).0,
                first_key(&est).1,
                dates[30],
                dates[33]
            ));
            std::fs::write(&planned, edited).unwrap();
        }
        // A configuration change for one night (then back).
        let flags: &[&str] = if n == 10 {
            &["--min-drop-pct", "2"]
        } else {
            &[]
        };
        let env: &[(&str, &str)] = if n == 5 {
            &[("SHRINKWATCH_FAILPOINT", "widen")]
        } else {
            &[]
        };
        let (ci, si) = inc.scan(&folder, &planned, night, flags, env);
        let (cf, _) = full.scan(&folder, &planned, night, flags, env);
        assert_eq!(ci, cf, "{night}: exit codes differ\n{si}");
        assert_eq!(
            inc.findings(night),
            full.findings(night),
            "{night}: findings differ\n{si}"
        );
        assert_eq!(
            inc.state_findings(),
            full.state_findings(),
            "{night}: states differ"
        );
        assert_eq!(
            inc.breach_log(),
            full.breach_log(),
            "{night}: breach logs differ"
        );
        let mode = si
            .lines()
            .find(|l| l.starts_with("Incremental run") || l.starts_with("Full scan"))
            .unwrap_or("")
            .to_string();
        modes.push((night.clone(), mode, si));
    }
    let says = |n: usize, what: &str| {
        assert!(
            modes[n].1.contains(what) || modes[n].2.contains(what),
            "night {} should say `{what}`: {}\n{:?}",
            modes[n].0,
            modes[n].2,
            modes.iter().map(|m| (&m.0, &m.1)).collect::<Vec<_>>()
        );
    };
    says(0, "Full scan: no earlier run");
    says(1, "Incremental run: window");
    says(4, "Incremental run"); // the stores back after 45 and 160 days …
    says(4, "1 series judged on a window from"); // … the second on a wider window
    says(5, "Incremental run"); // the third back, the wider window failing …
    says(5, "series judged on their whole history"); // … judged whole
    says(6, "Incremental run"); // late rows inside the window
    says(8, "Incremental run"); // a recent planned window edited
    says(10, "Full scan: the configuration");
    says(11, "Full scan: the configuration"); // and back
    says(12, "Full scan: late rows"); // the row from long ago arrived
    says(13, "Full scan: a planned window starting");
    says(14, "Incremental run");
    let incremental = modes
        .iter()
        .filter(|m| m.1.starts_with("Incremental"))
        .count();
    assert!(
        incremental >= NIGHTS / 2,
        "too few incremental nights: {modes:?}"
    );
    // Something happened over these nights: the comparison is not of empty files.
    let last = inc.findings(&dates[HISTORY - 1 + NIGHTS]);
    assert!(last.lines().count() > 20, "{last}");
}

/// `,FORCE,SYSTEM,` of the `n`-th series other than the first in a force
/// without a migration (a move is judged on all its stores together).
fn gapped_series(est: &Estate, n: usize) -> String {
    let moving: Vec<&str> = est
        .planned
        .lines()
        .skip(1)
        .filter(|l| !l.ends_with(','))
        .filter_map(|l| l.split(',').next())
        .collect();
    est.days
        .values()
        .next()
        .unwrap()
        .iter()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| !moving.contains(&f[1]) && !f[1].contains('"') && !f[2].contains('"'))
        .map(|f| format!(",{},{},", f[1], f[2]))
        .nth(n)
        .unwrap()
}

fn first_key(est: &Estate) -> (String, String) {
    let l = &est.days.values().next().unwrap()[0];
    let f: Vec<&str> = l.split(',').collect();
    (f[1].to_string(), f[2].to_string())
}

/// The planned windows with one recent window added for the first series.
fn edit_planned(planned: &str, from: &str, to: &str) -> String {
    let mut s = planned.to_string();
    let first = planned.lines().nth(1).unwrap_or("");
    let f: Vec<&str> = first.split(',').collect();
    let cols = planned.lines().next().unwrap().split(',').count();
    let mut row = vec![
        f.first().copied().unwrap_or("*").to_string(),
        f.get(1).copied().unwrap_or("*").to_string(),
        from.to_string(),
        to.to_string(),
        String::new(),
        "migration recorded after the fact".to_string(),
    ];
    row.resize(cols, String::new());
    s.push_str(&row.join(","));
    s.push('\n');
    s
}

#[test]
fn files_and_row_groups_before_the_window_are_not_read() {
    use polars::prelude::*;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // 400 days of 3 series as Parquet, one row group per 30 days.
    let text = series_csv(
        &[
            Spec {
                key: ["A", "one"],
                loss: Some((390, 0.2)),
            },
            Spec {
                key: ["A", "two"],
                loss: None,
            },
            Spec {
                key: ["B", "one"],
                loss: None,
            },
        ],
        400,
    );
    let mut rows: Vec<(i64, String, String, i64)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let d = chrono::NaiveDate::parse_from_str(f[0], "%Y-%m-%d").unwrap();
            let ts = d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() * 1000;
            (
                ts,
                f[1].to_string(),
                f[2].to_string(),
                f[3].parse().unwrap(),
            )
        })
        .collect();
    rows.sort();
    let pq = dir.join("obs.parquet");
    let ts: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let mut df = DataFrame::new(
        rows.len(),
        vec![
            Series::new("timestamp".into(), ts)
                .into_datetime(TimeUnit::Milliseconds, None)
                .into(),
            Series::new(
                "force".into(),
                rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
            )
            .into(),
            Series::new(
                "system".into(),
                rows.iter().map(|r| r.2.clone()).collect::<Vec<_>>(),
            )
            .into(),
            Series::new("bytes".into(), rows.iter().map(|r| r.3).collect::<Vec<_>>()).into(),
        ],
    )
    .unwrap();
    ParquetWriter::new(std::fs::File::create(&pq).unwrap())
        .with_row_group_size(Some(90))
        .finish(&mut df)
        .unwrap();
    let way = Way {
        dir: dir.join("pq"),
        extra: vec![],
    };
    let empty = dir.join("planned.csv");
    std::fs::write(&empty, "force,system,start,end,expected_drop_pct,reason\n").unwrap();
    let (c1, s1) = way.scan(&pq, &empty, "2022-01-30", &[], &[]);
    assert!(s1.contains("Full scan: no earlier run"), "{s1}");
    let (c2, s2) = way.scan(&pq, &empty, "2022-01-31", &[], &[]);
    assert!(s2.contains("Incremental run: window"), "{s2}");
    assert_eq!((c1, c2), (1, 0), "{s1}{s2}");
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(way.dir.join("reports/2022-01-31/manifest.json")).unwrap(),
    )
    .unwrap();
    let read = m["inputs"][0]["read"].as_str().unwrap_or("");
    let (got, of) = read
        .split_once(" of ")
        .map(|(a, b)| {
            (
                a.parse::<usize>().unwrap(),
                b.split_whitespace()
                    .next()
                    .unwrap()
                    .parse::<usize>()
                    .unwrap(),
            )
        })
        .unwrap_or((0, 0));
    assert!(got > 0 && got * 2 < of, "manifest: {m}");
    assert_eq!(m["scope"]["mode"], "incremental", "{m}");
    // The same findings as a full scan of the same night.
    let full = Way {
        dir: dir.join("pqfull"),
        extra: vec!["--full".into()],
    };
    full.scan(&pq, &empty, "2022-01-30", &[], &[]);
    full.scan(&pq, &empty, "2022-01-31", &[], &[]);
    assert_eq!(way.findings("2022-01-31"), full.findings("2022-01-31"));
    // A CSV folder: the history file ends before the window and is not opened.
    let folder = dir.join("csv");
    std::fs::create_dir_all(&folder).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (head, body) = (lines[0], &lines[1..]);
    let day = |l: &&str| l[..10].to_string();
    let mut by_day: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in body {
        by_day.entry(day(l)).or_default().push(l.to_string());
    }
    let days: Vec<&String> = by_day.keys().collect();
    let old: Vec<String> = days[..100]
        .iter()
        .flat_map(|d| by_day[*d].clone())
        .collect();
    write_lines(&folder.join("0-old.csv"), head, &old);
    for d in &days[100..] {
        write_lines(&folder.join(format!("{d}.csv")), head, &by_day[*d]);
    }
    let cw = Way {
        dir: dir.join("csvway"),
        extra: vec![],
    };
    cw.scan(&folder, &empty, "2022-01-30", &[], &[]);
    let (_, s) = cw.scan(&folder, &empty, "2022-01-31", &[], &[]);
    assert!(s.contains("Incremental run"), "{s}");
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(cw.dir.join("reports/2022-01-31/manifest.json")).unwrap(),
    )
    .unwrap();
    let first = &m["inputs"][0];
    assert!(
        first["path"].as_str().unwrap().ends_with("0-old.csv"),
        "{m}"
    );
    assert_eq!(first["read"], "not opened: wholly before the window", "{m}");
}
