//! Never lose an alert: series identity by key tuple, a loss that deepens,
//! a breach log that fails or was saved without a final newline, and a run
//! that fails or is killed at each of its write steps (fault injection
//! through `SHRINKWATCH_FAILPOINT`): the next clean run alerts every loss no
//! completed run alerted, and the state and breach log stay parseable.

mod common;

use common::{nightly, read_csv, write_series, Run, Spec};
use std::path::{Path, PathBuf};

const DAYS: usize = 120;

fn spec<'a>(force: &'a str, system: &'a str, loss: Option<(usize, f64)>) -> Spec<'a> {
    Spec {
        key: [force, system],
        loss,
    }
}

/// `nightly` with the state and breach log at their default places
/// (`reports/state.json`, `reports/breach-log.csv`) and no charts.
fn night(dir: &Path, input: &Path, env: &[(&str, &str)]) -> Run {
    nightly(dir, input, &["--no-charts"], env)
}

fn new_losses(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.contains("NEW LOSS")).collect()
}

/// Every record of a CSV file, strictly (same field count everywhere).
fn parse_strict(path: &Path) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(|x| x.unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

#[test]
fn series_whose_keys_join_to_the_same_text_are_different_series() {
    let dir = tempfile::tempdir().unwrap();
    let one = write_series(
        dir.path(),
        "one.csv",
        &[spec("A/B", "C", Some((100, 0.2)))],
        DAYS,
    );
    let (code, out, err) = night(dir.path(), &one, &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(new_losses(&out).len(), 1, "{out}");
    // night 2: another series, same start, whose key joins to the same text
    let two = write_series(
        dir.path(),
        "two.csv",
        &[
            spec("A/B", "C", Some((100, 0.2))),
            spec("A", "B/C", Some((100, 0.2))),
        ],
        DAYS,
    );
    let (code, out, err) = night(dir.path(), &two, &[]);
    assert_eq!(
        code, 1,
        "the second series' loss was not alerted: {out}{err}"
    );
    let lines = new_losses(&out);
    assert_eq!(lines.len(), 1, "{out}");
    assert!(lines[0].contains("NEW LOSS A/B/C"), "{out}");
    let rows = read_csv(&dir.path().join("reports/tonight/findings.csv"));
    let status = |f: &str, s: &str| {
        rows.iter()
            .find(|r| r["force"] == f && r["system"] == s && r["kind"] == "loss")
            .map(|r| r["status"].clone())
    };
    assert_eq!(status("A/B", "C").as_deref(), Some("known"));
    assert_eq!(status("A", "B/C").as_deref(), Some("new"));
    // and both in one run on a fresh state: both new
    let fresh = tempfile::tempdir().unwrap();
    let (code, out, _) = night(fresh.path(), &two, &[]);
    assert_eq!(code, 1);
    assert_eq!(new_losses(&out).len(), 2, "{out}");
    // the breach log has one row per series
    let log = read_csv(&dir.path().join("reports/breach-log.csv"));
    assert_eq!(log.iter().filter(|r| r["kind"] == "loss").count(), 2);
}

/// A series whose loss lands on `day` (`first` of its level) and deepens to
/// `then` of its level the next day.
fn deepening_csv(dir: &Path, name: &str, days: usize, first: f64, then: f64) -> PathBuf {
    let text = common::series_csv(&[spec("Kent Police", "Body-worn video", None)], days);
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let day = i - 1;
        let mut cells: Vec<String> = line.split(',').map(String::from).collect();
        let factor = if day == 100 {
            1.0 - first
        } else if day > 100 {
            1.0 - then
        } else {
            1.0
        };
        for c in cells.iter_mut().skip(3) {
            let v: f64 = c.parse().unwrap();
            *c = format!("{:.0}", v * factor);
        }
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    let p = dir.join(name);
    std::fs::write(&p, out).unwrap();
    p
}

#[test]
fn a_loss_that_deepens_is_alerted_again_with_a_follow_up_row() {
    let dir = tempfile::tempdir().unwrap();
    // night 1: the first 2.8 % of the loss is the last reading
    let n1 = deepening_csv(dir.path(), "n1.csv", 101, 0.028, 0.513);
    let (code, out, err) = night(dir.path(), &n1, &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("NEW LOSS Kent Police/Body-worn video: 2."),
        "{out}"
    );
    // night 2: the same loss (same start) is now 51.3 %
    let n2 = deepening_csv(dir.path(), "n2.csv", 102, 0.028, 0.513);
    let (code, out, err) = night(dir.path(), &n2, &[]);
    assert_eq!(code, 1, "a deepened loss must alert: {out}{err}");
    assert!(out.contains("deepened from 2."), "{out}");
    let rows = read_csv(&dir.path().join("reports/tonight/findings.csv"));
    let loss = rows.iter().find(|r| r["kind"] == "loss").unwrap();
    assert_eq!(loss["status"], "updated");
    assert_eq!(loss["start"], "2021-04-11");
    let log = read_csv(&dir.path().join("reports/breach-log.csv"));
    let pcts: Vec<f64> = log
        .iter()
        .filter(|r| r["kind"] == "loss")
        .map(|r| r["drop_pct"].parse().unwrap())
        .collect();
    assert_eq!(pcts.len(), 2, "{log:?}");
    assert!(
        (pcts[0] - 2.8).abs() < 0.3 && (pcts[1] - 51.3).abs() < 1.0,
        "{pcts:?}"
    );
    // night 3: the same depth again is known, no new row
    let (code, out, err) = night(dir.path(), &n2, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        read_csv(&dir.path().join("reports/breach-log.csv")).len(),
        2
    );
}

#[test]
fn a_deepened_loss_rerun_after_a_failed_state_save_is_logged_once() {
    let dir = tempfile::tempdir().unwrap();
    let n1 = deepening_csv(dir.path(), "n1.csv", 101, 0.028, 0.513);
    assert_eq!(night(dir.path(), &n1, &[]).0, 1);
    let n2 = deepening_csv(dir.path(), "n2.csv", 102, 0.028, 0.513);
    // night 2 writes its follow-up row, then fails to save the state
    let (code, out, err) = night(dir.path(), &n2, &[("SHRINKWATCH_FAILPOINT", "state")]);
    assert_eq!(code, 2, "{out}{err}");
    let log = || read_csv(&dir.path().join("reports/breach-log.csv"));
    assert_eq!(log().len(), 2, "{:?}", log());
    // the re-run alerts again (the state was not saved) but the breach log
    // already holds that depth: no second follow-up row
    let (code, out, err) = night(dir.path(), &n2, &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("deepened from 2."), "{out}");
    let rows = log();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let pct: f64 = rows[1]["drop_pct"].parse().unwrap();
    assert!((pct - 51.3).abs() < 1.0, "{rows:?}");
}

#[test]
fn a_loss_that_changes_little_stays_known() {
    let dir = tempfile::tempdir().unwrap();
    let n1 = deepening_csv(dir.path(), "n1.csv", 101, 0.20, 0.21);
    assert_eq!(night(dir.path(), &n1, &[]).0, 1);
    let n2 = deepening_csv(dir.path(), "n2.csv", 102, 0.20, 0.21);
    let (code, out, _) = night(dir.path(), &n2, &[]);
    assert_eq!(code, 0, "20 % → 21 % is the same loss: {out}");
    // and the breach log keeps its one row: a known loss gets no follow-up
    let log = read_csv(&dir.path().join("reports/breach-log.csv"));
    assert_eq!(log.len(), 1, "{log:?}");
}

#[test]
fn three_key_columns_log_each_finding_once_over_two_nights() {
    let dir = tempfile::tempdir().unwrap();
    // force, system and site: a third key column
    let csv = common::series_csv(&[spec("Kent Police", "Custody", Some((100, 0.2)))], DAYS);
    let mut out = String::new();
    for (i, line) in csv.lines().enumerate() {
        let mut cells: Vec<&str> = line.split(',').collect();
        cells.insert(3, if i == 0 { "site" } else { "Maidstone" });
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    let input = dir.path().join("sites.csv");
    std::fs::write(&input, out).unwrap();
    let keys = ["--no-charts", "--key-cols", "force,system,site"];
    let (code, o, err) = common::nightly(dir.path(), &input, &keys, &[]);
    assert_eq!(code, 1, "{o}{err}");
    let first = read_csv(&dir.path().join("reports/breach-log.csv"));
    assert_eq!(first.len(), 1, "{first:?}");
    // the same data again, with the state removed: every finding is new to
    // the state, but the breach log already holds it
    std::fs::remove_file(dir.path().join("reports/state.json")).unwrap();
    let (code, o, err) = common::nightly(dir.path(), &input, &keys, &[]);
    assert_eq!(code, 1, "{o}{err}");
    let second = read_csv(&dir.path().join("reports/breach-log.csv"));
    assert_eq!(second.len(), 1, "logged once: {second:?}");
    // a person records the decision in the log: the next night's summary
    // counts no loss awaiting one (the decision is found by all three keys)
    let path = dir.path().join("reports/breach-log.csv");
    let mut r = csv::Reader::from_path(&path).unwrap();
    let header = r.headers().unwrap().clone();
    let dec = header.iter().position(|h| h == "decision").unwrap();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header).unwrap();
    for rec in r.records() {
        let mut rec: Vec<String> = rec.unwrap().iter().map(String::from).collect();
        rec[dec] = "not reportable".into();
        w.write_record(&rec).unwrap();
    }
    std::fs::write(&path, w.into_inner().unwrap()).unwrap();
    let (code, o, err) = common::nightly(dir.path(), &input, &keys, &[]);
    assert_eq!(code, 0, "{o}{err}");
    let summary = std::fs::read_to_string(dir.path().join("reports/tonight/summary.txt")).unwrap();
    assert!(
        summary.contains("Losses awaiting a decision in the breach log: 0"),
        "{summary}"
    );
}

#[test]
fn a_quiet_first_night_leaves_an_empty_breach_log_ready_to_fill() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_series(
        dir.path(),
        "in.csv",
        &[spec("Kent Police", "Custody", None)],
        DAYS,
    );
    let (code, out, err) = night(dir.path(), &input, &[]);
    assert_eq!(code, 0, "{out}{err}");
    let log = std::fs::read_to_string(dir.path().join("reports/breach-log.csv")).unwrap();
    assert!(log.starts_with("logged_at,force,system,"), "{log}");
    assert_eq!(log.lines().count(), 1, "{log}");
}

#[test]
fn a_breach_log_that_cannot_be_read_stops_the_run_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_series(
        dir.path(),
        "in.csv",
        &[spec("Kent Police", "Custody", Some((100, 0.2)))],
        DAYS,
    );
    let (code, _, _) = night(dir.path(), &input, &[]);
    assert_eq!(code, 1);
    // someone hard-links the breach log elsewhere: it is not ours to read
    let log = dir.path().join("reports/breach-log.csv");
    let other = dir.path().join("copy-of-the-log.csv");
    std::fs::hard_link(&log, &other).unwrap();
    let before = std::fs::read(&other).unwrap();
    std::fs::remove_file(dir.path().join("reports/state.json")).unwrap();
    let (code, out, err) = night(dir.path(), &input, &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("breach log"), "{err}");
    assert_eq!(std::fs::read(&other).unwrap(), before);
    assert_eq!(std::fs::read(&log).unwrap(), before);
}

#[test]
fn a_failed_breach_log_write_is_alerted_again_on_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_series(
        dir.path(),
        "in.csv",
        &[spec("Kent Police", "Custody", Some((100, 0.2)))],
        DAYS,
    );
    // a person changed the breach log's header
    let log = dir.path().join("reports/breach-log.csv");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    std::fs::write(&log, "when,who,what\n2021-01-01,x,y\n").unwrap();
    let (code, out, err) = night(dir.path(), &input, &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("different columns"), "{err}");
    // the alert was printed although a later step failed
    assert!(out.contains("NEW LOSS Kent Police/Custody"), "{out}");
    // fixed: the next run alerts it again
    std::fs::remove_file(&log).unwrap();
    let (code, out, err) = night(dir.path(), &input, &[]);
    assert_eq!(code, 1, "the loss was never alerted: {out}{err}");
    assert!(out.contains("NEW LOSS Kent Police/Custody"), "{out}");
    assert_eq!(read_csv(&log).len(), 1);
}

#[test]
fn a_full_disk_leaves_the_breach_log_whole_and_the_loss_is_alerted_again() {
    let dir = tempfile::tempdir().unwrap();
    let first = write_series(
        dir.path(),
        "first.csv",
        &[spec("Kent Police", "Custody", Some((100, 0.2)))],
        DAYS,
    );
    assert_eq!(night(dir.path(), &first, &[]).0, 1);
    let log = dir.path().join("reports/breach-log.csv");
    let before = std::fs::read(&log).unwrap();
    let second = write_series(
        dir.path(),
        "second.csv",
        &[
            spec("Kent Police", "Custody", Some((100, 0.2))),
            spec("Kent Police", "Records", Some((110, 0.3))),
        ],
        DAYS,
    );
    let (code, out, err) = night(
        dir.path(),
        &second,
        &[("SHRINKWATCH_FAILPOINT", "breach-log-write:partial")],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("breach-log.csv"),
        "the error names the file: {err}"
    );
    assert!(err.contains("no space left"), "{err}");
    assert_eq!(std::fs::read(&log).unwrap(), before, "no half row is left");
    let (code, out, _) = night(dir.path(), &second, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("NEW LOSS Kent Police/Records"), "{out}");
    assert_eq!(parse_strict(&log).len(), 2);
}

#[test]
fn a_breach_log_saved_without_a_final_newline_keeps_every_row_apart() {
    let dir = tempfile::tempdir().unwrap();
    let first = write_series(
        dir.path(),
        "first.csv",
        &[spec("Kent Police", "Custody", Some((100, 0.2)))],
        DAYS,
    );
    assert_eq!(night(dir.path(), &first, &[]).0, 1);
    let log = dir.path().join("reports/breach-log.csv");
    // a person fills in the decision and saves without a final newline
    let text = std::fs::read_to_string(&log).unwrap();
    let row = text.trim_end();
    assert!(row.ends_with(",,,,,"), "{row}");
    let edited = format!(
        "{},not reportable,restored from backup,DPO,,",
        &row[..row.len() - 5]
    );
    std::fs::write(&log, &edited).unwrap();
    let second = write_series(
        dir.path(),
        "second.csv",
        &[
            spec("Kent Police", "Custody", Some((100, 0.2))),
            spec("Kent Police", "Records", Some((110, 0.3))),
        ],
        DAYS,
    );
    let (code, out, err) = night(dir.path(), &second, &[]);
    assert_eq!(code, 1, "{out}{err}");
    let rows = read_csv(&log);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["decision"], "not reportable");
    assert_eq!(rows[0]["system"], "Custody");
    assert_eq!(rows[1]["system"], "Records");
    assert!(std::fs::read_to_string(&log).unwrap().starts_with(&edited));
    // and the night after still works
    let (code, _, err) = night(dir.path(), &second, &[]);
    assert_eq!(code, 0, "{err}");
}

/// Each write step of a run, in order, and what the fault does there.
const STEPS: &[&str] = &[
    "charts",
    "report",
    "commit",
    "link",
    "breach-log",
    "breach-log-write",
    "state",
    "state-write",
];

#[test]
fn a_run_failed_or_killed_at_any_write_step_is_alerted_again() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path();
    let first = write_series(
        base,
        "first.csv",
        &[spec("Kent Police", "Custody", Some((100, 0.2)))],
        DAYS,
    );
    let second = write_series(
        base,
        "second.csv",
        &[
            spec("Kent Police", "Custody", Some((100, 0.2))),
            spec("Essex Police", "Records", Some((110, 0.3))),
        ],
        DAYS,
    );
    let charts: &[&str] = &[];
    let mut checked = 0;
    for step in STEPS {
        for action in ["fail", "kill", "partial"] {
            if action == "partial" && !step.ends_with("-write") {
                continue;
            }
            let d = base.join(format!("{step}-{action}"));
            std::fs::create_dir_all(&d).unwrap();
            // night 1 completes: the Custody loss is alerted
            let (code, out, err) = nightly(&d, &first, charts, &[]);
            assert_eq!(code, 1, "{step}:{action} night 1: {out}{err}");
            // night 2 fails or is killed at the step
            let fp = format!("{step}:{action}");
            let (code, out, err) = nightly(&d, &second, charts, &[("SHRINKWATCH_FAILPOINT", &fp)]);
            match action {
                "kill" => {
                    assert_eq!(code, -1, "{fp}: the kill did not land: {out}{err}");
                    assert!(
                        err.contains(&format!("failpoint: killed at {step}")),
                        "{fp}: {err}"
                    );
                }
                _ => {
                    assert_eq!(code, 2, "{fp}: the fault did not land: {out}{err}");
                    assert!(err.contains("injected fault"), "{fp}: {err}");
                }
            }
            // after the fault: state and breach log parseable, the report link
            // (if any) points at a complete report
            let state: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(d.join("reports/state.json")).unwrap(),
            )
            .unwrap_or_else(|e| panic!("{fp}: state broken: {e}"));
            assert_eq!(state["version"], 2);
            let log = d.join("reports/breach-log.csv");
            let rows = parse_strict(&log);
            assert!(!rows.is_empty(), "{fp}");
            let link = d.join("reports/tonight");
            assert!(
                link.join("manifest.json").is_file(),
                "{fp}: the report link points at an incomplete report"
            );
            // the next clean run alerts the loss no completed run alerted
            let (code, out, err) = nightly(&d, &second, charts, &[]);
            assert_eq!(code, 1, "{fp}: the Essex loss was lost: {out}{err}");
            let lines = new_losses(&out);
            assert_eq!(lines.len(), 1, "{fp}: {out}");
            assert!(lines[0].contains("Essex Police/Records"), "{fp}: {out}");
            // and the one after is quiet, with one breach-log row per finding
            let (code, out, _) = nightly(&d, &second, charts, &[]);
            assert_eq!(code, 0, "{fp}: {out}");
            let rows = read_csv(&log);
            let losses = rows.iter().filter(|r| r["kind"] == "loss").count();
            assert_eq!(losses, 2, "{fp}: {rows:?}");
            // nothing left behind: no temporary files, one run folder
            let leftovers: Vec<String> = std::fs::read_dir(d.join("reports"))
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n.contains(".tmp-") || n.contains(".link-"))
                .collect();
            assert!(leftovers.is_empty(), "{fp}: {leftovers:?}");
            let runs = std::fs::read_dir(d.join("reports/.shrinkwatch-runs"))
                .unwrap()
                .count();
            assert_eq!(runs, 1, "{fp}: run folders left behind");
            checked += 1;
        }
    }
    assert_eq!(checked, STEPS.len() * 2 + 2);
}
