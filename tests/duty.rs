//! The legal duty, path by path: a finding that becomes a loss alerts (exit
//! 1, `updated`, a breach-log row); the breach log keeps what earlier nights
//! wrote, byte for byte, grows on later nights and gets a second row when a
//! finding's kind changes; the same file with a byte-order mark or CRLF line
//! ends gives the same findings, value for value; a state that cannot be
//! read stops the run, one from a newer version is read with a warning.

mod common;

use common::{data, read_csv, run, Run};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Daily rows from 2021-01-01 for `days` days of the series `keys`, growing
/// 0.1 % a day with a fixed jitter, each multiplied by `factor(series, day)`.
fn write(
    dir: &Path,
    name: &str,
    keys: &[(&str, &str)],
    days: usize,
    factor: impl Fn(usize, usize) -> f64,
) -> PathBuf {
    let start = chrono::NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
    let mut out = String::from("timestamp,force,system,bytes,objects\n");
    for (si, (force, system)) in keys.iter().enumerate() {
        let mut level = 1.0e12 * (1.0 + si as f64 * 0.37);
        for d in 0..days {
            let jitter = (((d * 7919 + si * 104_729) % 11) as f64 - 5.0) * 1e-4;
            level *= 1.001 + jitter;
            let v = level * factor(si, d);
            let date = start + chrono::Duration::days(d as i64);
            out.push_str(&format!(
                "{},{force},{system},{v:.0},{:.0}\n",
                date.format("%Y-%m-%d"),
                v / 1.0e6
            ));
        }
    }
    let p = dir.join(name);
    std::fs::write(&p, out).unwrap();
    p
}

/// One night: `scan` with the state and breach log beside `dir/reports/tonight`.
fn night(dir: &Path, input: &Path, extra: &[&str]) -> Run {
    let out = dir.join("reports/tonight");
    let mut args = vec![
        "scan",
        "--no-charts",
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(&args, &[])
}

fn findings(dir: &Path) -> Vec<HashMap<String, String>> {
    read_csv(&dir.join("reports/tonight/findings.csv"))
}

fn log_path(dir: &Path) -> PathBuf {
    dir.join("reports/breach-log.csv")
}

/// (system, kind, start) of each breach-log row, in order.
fn log_rows(dir: &Path) -> Vec<(String, String, String)> {
    read_csv(&log_path(dir))
        .into_iter()
        .map(|r| (r["system"].clone(), r["kind"].clone(), r["start"].clone()))
        .collect()
}

const KEYS: &[(&str, &str)] = &[
    ("Kent Police", "Custody"),
    ("Kent Police", "Records"),
    ("Kent Police", "Body-worn video"),
];

/// A lasting 20 % cut of Custody from day 100 (2021-04-11).
fn custody_loss(series: usize, day: usize) -> f64 {
    if series == 0 && day >= 100 {
        0.8
    } else {
        1.0
    }
}

#[test]
fn a_planned_reduction_whose_plan_is_withdrawn_alerts_as_a_loss() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.csv", KEYS, 120, custody_loss);
    let plan = dir.path().join("planned.csv");
    std::fs::write(
        &plan,
        "force,system,start,end,expected_drop_pct,reason\nKent Police,Custody,2021-04-09,2021-04-13,,MoPI disposal\n",
    )
    .unwrap();
    // night 1: the cut is explained by the plan: recorded, not alerted
    let (code, out, err) = night(dir.path(), &input, &["--planned", plan.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let f = findings(dir.path());
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        (f[0]["kind"].as_str(), f[0]["status"].as_str()),
        ("planned", "new")
    );
    let night1 = std::fs::read(log_path(dir.path())).unwrap();
    assert_eq!(
        log_rows(dir.path()),
        vec![("Custody".into(), "planned".into(), "2021-04-11".into())]
    );
    // night 2: the plan turns out not to cover it (withdrawn): the same
    // reduction is now a loss, and that is an alert
    let (code, out, err) = night(dir.path(), &input, &[]);
    assert_eq!(
        code, 1,
        "a finding that became a loss must alert: {out}{err}"
    );
    assert!(
        out.contains("LOSS (was planned, now loss") && out.contains("Kent Police/Custody"),
        "{out}"
    );
    assert!(out.contains("; 1 new loss alert(s);"), "{out}");
    let f = findings(dir.path());
    assert_eq!(
        (
            f[0]["kind"].as_str(),
            f[0]["status"].as_str(),
            f[0]["start"].as_str()
        ),
        ("loss", "updated", "2021-04-11")
    );
    assert!(f[0]["change"].starts_with("was planned, now loss"), "{f:?}");
    // the breach log kept night 1's bytes and gained the loss row, with its deadline
    let log = std::fs::read(log_path(dir.path())).unwrap();
    assert!(log.starts_with(&night1), "night 1's rows were rewritten");
    assert_eq!(
        log_rows(dir.path()),
        vec![
            ("Custody".into(), "planned".into(), "2021-04-11".into()),
            ("Custody".into(), "loss".into(), "2021-04-11".into()),
        ]
    );
    let rows = read_csv(&log_path(dir.path()));
    assert!(rows[0]["ico_deadline_72h"].is_empty());
    assert!(!rows[1]["ico_deadline_72h"].is_empty(), "{rows:?}");
    // night 3: nothing changed: quiet, no new row
    let (code, out, _) = night(dir.path(), &input, &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(std::fs::read(log_path(dir.path())).unwrap(), log);
}

#[test]
fn the_breach_log_grows_night_by_night_and_records_each_change_of_kind() {
    let dir = tempfile::tempdir().unwrap();
    // Records: a 30 % dip on day 104 only, back on day 105 (a loss on the
    // night it happens, a transient the night after). Body-worn video: a
    // lasting 25 % cut from day 110.
    let shape = |s: usize, d: usize| match (s, d) {
        (1, 104) => 0.7,
        (2, d) if d >= 110 => 0.75,
        _ => custody_loss(s, d),
    };
    // night 1, data to day 104: Custody and Records are losses
    let n1 = write(dir.path(), "n1.csv", KEYS, 105, shape);
    let (code, out, err) = night(dir.path(), &n1, &[]);
    assert_eq!(code, 1, "{out}{err}");
    let log1 = std::fs::read(log_path(dir.path())).unwrap();
    assert_eq!(
        log_rows(dir.path()),
        vec![
            ("Custody".into(), "loss".into(), "2021-04-11".into()),
            ("Records".into(), "loss".into(), "2021-04-15".into()),
        ]
    );
    // night 2, to day 105: Records came back: a second row, as a transient
    let n2 = write(dir.path(), "n2.csv", KEYS, 106, shape);
    let (code, out, err) = night(dir.path(), &n2, &[]);
    assert_eq!(code, 0, "a restore is no new loss: {out}{err}");
    let log2 = std::fs::read(log_path(dir.path())).unwrap();
    assert!(log2.starts_with(&log1), "night 1's rows were rewritten");
    assert_eq!(
        log_rows(dir.path())[2..],
        [("Records".into(), "transient".into(), "2021-04-15".into())]
    );
    let last = read_csv(&log_path(dir.path())).pop().unwrap();
    assert!(last["recovered_at"].starts_with("2021-04-16"), "{last:?}");
    // night 3, to day 112: the body-worn video loss is appended after them
    let n3 = write(dir.path(), "n3.csv", KEYS, 113, shape);
    let (code, out, err) = night(dir.path(), &n3, &[]);
    assert_eq!(code, 1, "{out}{err}");
    let log3 = std::fs::read(log_path(dir.path())).unwrap();
    assert!(log3.starts_with(&log2), "night 2's rows were rewritten");
    assert_eq!(
        log_rows(dir.path())[3..],
        [("Body-worn video".into(), "loss".into(), "2021-04-21".into())]
    );
    // night 4, nothing new: the log is untouched
    let (code, _, _) = night(dir.path(), &n3, &[]);
    assert_eq!(code, 0);
    assert_eq!(std::fs::read(log_path(dir.path())).unwrap(), log3);
}

/// Every finding of a scan of `input` (with the shipped test plan, as of a
/// fixed night), every column.
fn scan_all(dir: &Path, name: &str, input: &Path) -> Vec<HashMap<String, String>> {
    let out = dir.join(name);
    let (code, stdout, stderr) = run(
        &[
            "scan",
            "--no-charts",
            "--input",
            input.to_str().unwrap(),
            "--planned",
            data("planned_simple.csv").to_str().unwrap(),
            "--as-of",
            "2023-05-31",
            "--out",
            out.to_str().unwrap(),
            "--state",
            dir.join(format!("{name}.json")).to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 1, "{name}: {stdout}{stderr}");
    read_csv(&out.join("findings.csv"))
}

#[test]
fn a_byte_order_mark_or_crlf_line_ends_give_the_same_findings_value_for_value() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(data("simple.csv")).unwrap();
    let clean = scan_all(dir.path(), "clean", &data("simple.csv"));
    let kinds: Vec<&str> = clean.iter().map(|f| f["kind"].as_str()).collect();
    assert_eq!(kinds, ["loss", "transient", "planned"], "{clean:?}");
    let crlf = text.replace('\n', "\r\n");
    for (name, body) in [
        ("bom", format!("\u{feff}{text}")),
        ("crlf", crlf.clone()),
        ("bom-crlf", format!("\u{feff}{crlf}")),
    ] {
        let p = dir.path().join(format!("{name}.csv"));
        std::fs::write(&p, body).unwrap();
        let got = scan_all(dir.path(), name, &p);
        assert_eq!(got, clean, "{name}: findings differ from the clean file's");
    }
}

/// The state file cannot be read (here a folder stands in its place): the
/// run stops with exit 2 before anything is published, rather than taking
/// the state as empty (which would re-alert every loss and then replace
/// what earlier nights recorded).
#[test]
fn an_unreadable_state_stops_the_run_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.csv", KEYS, 120, custody_loss);
    std::fs::create_dir_all(dir.path().join("reports/state.json")).unwrap();
    let (code, out, err) = run(
        &[
            "scan",
            "--no-charts",
            "--input",
            input.to_str().unwrap(),
            "--out",
            dir.path().join("reports/tonight").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("cannot read state file"), "{err}");
    assert!(!log_path(dir.path()).exists(), "the breach log was written");
    assert!(!dir.path().join("reports/tonight").exists());
}

/// A state written by a newer shrinkwatch is read with a warning (even
/// under -q); this version's own state never warns.
#[test]
fn only_a_state_from_a_newer_version_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.csv", KEYS, 120, custody_loss);
    let (code, out, err) = night(dir.path(), &input, &[]);
    assert_eq!(code, 1, "{out}{err}");
    // this version's state: read quietly
    let (code, _, err) = night(dir.path(), &input, &[]);
    assert_eq!(code, 0);
    assert!(err.is_empty(), "a warning about our own state: {err}");
    let state = dir.path().join("reports/state.json");
    let text = std::fs::read_to_string(&state).unwrap();
    assert!(text.contains("\"version\": 2"), "{text}");
    std::fs::write(&state, text.replace("\"version\": 2", "\"version\": 99")).unwrap();
    let (code, _, err) = night(dir.path(), &input, &[]);
    assert_eq!(code, 0, "the findings it could match stay known: {err}");
    assert!(
        err.contains("format version 99, newer than this shrinkwatch knows"),
        "{err}"
    );
}

/// A loss awaiting a decision is listed on later nights with the date of
/// the report that first carried it, linked to that report.
#[test]
fn an_open_loss_links_to_the_report_that_first_carried_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.csv", KEYS, 120, custody_loss);
    let (code, out, err) = night(dir.path(), &input, &["--as-of", "2021-04-25"]);
    assert_eq!(code, 1, "{out}{err}");
    let state = std::fs::read_to_string(dir.path().join("reports/state.json")).unwrap();
    assert!(state.contains("\"version\": 2"), "{state}");
    let (code, out, err) = night(dir.path(), &input, &["--as-of", "2021-04-28"]);
    assert_eq!(code, 0, "{out}{err}");
    let md = std::fs::read_to_string(dir.path().join("reports/tonight/report.md")).unwrap();
    assert!(
        md.contains("[2021-04-25](../2021-04-25/report.md#"),
        "no link to the first report: {md}"
    );
}
