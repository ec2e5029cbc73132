//! The reports folder is handled as hostile: no write, truncate or delete
//! follows a link out of it (report links, the runs folder, the lock, the
//! state's temporary files, the breach log), `merge` reads only files inside
//! the shard folders, `--out` never moves a person's file or folder away,
//! and a failed run leaves no orphan run folder.

mod common;

use common::{bin, read_csv, write_series, Run, Spec};
use std::os::unix::fs::symlink;
use std::path::Path;

const DAYS: usize = 120;

fn loss_csv(dir: &Path) -> std::path::PathBuf {
    write_series(
        dir,
        "in.csv",
        &[Spec {
            key: ["Kent Police", "Custody"],
            loss: Some((100, 0.2)),
        }],
        DAYS,
    )
}

/// `shrinkwatch ARGS` run in the folder `cwd`.
fn run_in(cwd: &Path, args: &[&str]) -> Run {
    let o = bin().current_dir(cwd).args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

/// `scan --no-charts --input INPUT --out reports/tonight` run in `work`.
fn tonight(work: &Path, input: &Path) -> Run {
    run_in(
        work,
        &[
            "scan",
            "--no-charts",
            "--input",
            input.to_str().unwrap(),
            "--out",
            "reports/tonight",
        ],
    )
}

/// A temporary folder holding a work folder with `reports/` in it (where
/// shrinkwatch runs) and a victim folder outside it: (the temporary
/// folder, work, victim).
fn scene() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let base = tempfile::tempdir().unwrap();
    let work = base.path().join("work");
    std::fs::create_dir_all(work.join("reports")).unwrap();
    let v = victim(base.path());
    (base, work, v)
}

/// A folder outside the work folder with one file in it.
fn victim(base: &Path) -> std::path::PathBuf {
    let v = base.join("victim");
    std::fs::create_dir_all(&v).unwrap();
    std::fs::write(v.join("evidence.txt"), "keep me").unwrap();
    v
}

fn intact(v: &Path) {
    assert_eq!(
        std::fs::read_to_string(v.join("evidence.txt"))
            .ok()
            .as_deref(),
        Some("keep me"),
        "a file outside the reports folder was touched"
    );
}

#[test]
fn a_planted_report_link_is_replaced_and_its_target_never_deleted() {
    let (_base, work, v) = scene();
    let input = loss_csv(&work);
    // reports/2021-04-30 -> .shrinkwatch-runs/../../../victim
    symlink(
        ".shrinkwatch-runs/../../../victim",
        work.join("reports/2021-04-30"),
    )
    .unwrap();
    let input = input.to_str().unwrap();
    let (code, out, err) = run_in(
        &work,
        &[
            "scan",
            "--no-charts",
            "--input",
            input,
            "--as-of",
            "2021-04-30",
        ],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("that shrinkwatch did not make"), "{err}");
    intact(&v);
    // the night after replaces the now-genuine link as usual
    let (code, out, err) = run_in(
        &work,
        &[
            "scan",
            "--no-charts",
            "--input",
            input,
            "--as-of",
            "2021-04-30",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    intact(&v);
    assert!(work.join("reports/2021-04-30/manifest.json").is_file());
}

#[test]
fn a_lock_file_that_is_a_link_is_refused_and_its_target_kept() {
    let (_base, work, v) = scene();
    symlink(v.join("evidence.txt"), work.join("reports/state.json.lock")).unwrap();
    let input = loss_csv(&work);
    let (code, out, err) = tonight(&work, &input);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("symbolic link"), "{err}");
    intact(&v);
}

#[test]
fn links_planted_at_temporary_state_names_are_never_followed() {
    let (_base, work, v) = scene();
    // the old names were `.state.json.tmp-<pid>`: plant links for the next pids
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1000);
    for pid in last..last + 3000 {
        symlink(
            v.join("evidence.txt"),
            work.join(format!("reports/.state.json.tmp-{pid}")),
        )
        .unwrap();
    }
    let input = loss_csv(&work);
    let (code, out, err) = tonight(&work, &input);
    assert_eq!(code, 1, "{out}{err}");
    intact(&v);
    let m = std::fs::symlink_metadata(work.join("reports/state.json")).unwrap();
    assert!(m.is_file(), "state.json must be a regular file");
}

#[test]
fn a_state_file_that_is_a_link_is_refused() {
    let (_base, work, v) = scene();
    symlink(v.join("evidence.txt"), work.join("reports/state.json")).unwrap();
    let input = loss_csv(&work);
    let (code, _, err) = tonight(&work, &input);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    intact(&v);
}

#[test]
fn a_runs_folder_that_is_a_link_is_refused() {
    let (_base, work, v) = scene();
    std::fs::create_dir_all(v.join("x.partial")).unwrap();
    std::fs::write(v.join("x.partial/keep.txt"), "keep").unwrap();
    symlink(&v, work.join("reports/.shrinkwatch-runs")).unwrap();
    let input = loss_csv(&work);
    let (code, out, err) = tonight(&work, &input);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(".shrinkwatch-runs is a symbolic link"),
        "{err}"
    );
    // the alert still reached the operator, and nothing was written there
    assert!(out.contains("NEW LOSS Kent Police/Custody"), "{out}");
    intact(&v);
    assert!(v.join("x.partial/keep.txt").is_file());
    let entries: Vec<_> = std::fs::read_dir(&v).unwrap().flatten().collect();
    assert_eq!(
        entries.len(),
        2,
        "a report was written outside: {entries:?}"
    );
}

#[test]
fn a_breach_log_that_is_a_link_is_refused_and_nothing_written_outside() {
    let base = tempfile::tempdir().unwrap();
    let work = base.path().join("work");
    std::fs::create_dir_all(work.join("reports")).unwrap();
    let outside = base.path().join("cron-line");
    symlink(&outside, work.join("reports/breach-log.csv")).unwrap();
    let input = write_series(
        &work,
        "in.csv",
        &[Spec {
            key: ["Kent\n* * * * * root evil", "Custody"],
            loss: Some((100, 0.2)),
        }],
        DAYS,
    );
    let (code, out, err) = tonight(&work, &input);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert!(!outside.exists(), "the link's target was created");
    // the state did not advance: the next run (link removed) alerts again
    std::fs::remove_file(work.join("reports/breach-log.csv")).unwrap();
    let (code, out, _) = tonight(&work, &input);
    assert_eq!(code, 1, "{out}");
}

#[test]
fn out_never_moves_an_existing_file_or_folder_and_reserved_names_are_refused() {
    let base = tempfile::tempdir().unwrap();
    let work = base.path();
    let input = loss_csv(work);
    let input = input.to_str().unwrap();
    std::fs::create_dir_all(work.join("reports/mine")).unwrap();
    std::fs::write(work.join("reports/mine/notes.txt"), "mine").unwrap();
    std::fs::write(work.join("reports/file"), "mine").unwrap();
    for out in ["reports/mine", "reports/file"] {
        let (code, stdout, err) = run_in(
            work,
            &["scan", "--no-charts", "--input", input, "--out", out],
        );
        assert_eq!(code, 2, "{out}: {err}");
        assert!(err.contains("already exists"), "{err}");
        // refused before the scan: no alert was given
        assert!(!stdout.contains("NEW LOSS"), "{out}: {stdout}");
    }
    assert_eq!(
        std::fs::read_to_string(work.join("reports/mine/notes.txt")).unwrap(),
        "mine"
    );
    assert_eq!(
        std::fs::read_to_string(work.join("reports/file")).unwrap(),
        "mine"
    );
    for out in ["reports/latest", "reports/.hidden", "reports/state.json"] {
        let (code, _, err) = run_in(
            work,
            &["scan", "--no-charts", "--input", input, "--out", out],
        );
        assert_eq!(code, 2, "{out}: {err}");
        assert!(err.contains("reserved"), "{out}: {err}");
    }
    assert!(!work.join("reports/state.json").exists());
    assert!(!work.join("reports/latest").exists());
}

#[test]
fn a_failed_run_leaves_no_orphan_run_folder() {
    let base = tempfile::tempdir().unwrap();
    let work = base.path();
    let input = loss_csv(work);
    let input = input.to_str().unwrap();
    let args = ["scan", "--input", input, "--out", "reports/tonight"];
    assert_eq!(run_in(work, &args).0, 1);
    let runs = || {
        std::fs::read_dir(work.join("reports/.shrinkwatch-runs"))
            .unwrap()
            .count()
    };
    assert_eq!(runs(), 1);
    for step in ["report", "link"] {
        let o = bin()
            .current_dir(work)
            .args(args)
            .env("SHRINKWATCH_FAILPOINT", step)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{step}");
        assert_eq!(runs(), 1, "{step}: a failed run left its folder behind");
    }
    // a full disk while saving the state names the file
    let o = bin()
        .current_dir(work)
        .args(args)
        .env("SHRINKWATCH_FAILPOINT", "state-write:partial")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("state.json") && err.contains("no space left"),
        "{err}"
    );
}

#[test]
fn a_state_of_an_unknown_version_gives_a_warning_even_under_quiet() {
    let base = tempfile::tempdir().unwrap();
    let work = base.path();
    std::fs::create_dir_all(work.join("reports")).unwrap();
    std::fs::write(
        work.join("reports/state.json"),
        r#"{"version": 99, "findings": {}}"#,
    )
    .unwrap();
    let input = loss_csv(work);
    let (code, _, err) = run_in(
        work,
        &[
            "-q",
            "scan",
            "--no-charts",
            "--input",
            input.to_str().unwrap(),
            "--out",
            "reports/tonight",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("format version 99"), "{err}");
}

#[test]
fn a_version_1_state_is_read_by_tuple() {
    let base = tempfile::tempdir().unwrap();
    let work = base.path();
    let input = loss_csv(work);
    let args = [
        "scan",
        "--no-charts",
        "--input",
        input.to_str().unwrap(),
        "--out",
        "reports/tonight",
    ];
    assert_eq!(run_in(work, &args).0, 1);
    // written as the previous version wrote it: identities joined with `/`
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.join("reports/state.json")).unwrap())
            .unwrap();
    let mut v1 = serde_json::Map::new();
    for r in s["findings"].as_object().unwrap().values() {
        let key: Vec<&str> = r["key"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        let mut r = r.clone();
        r.as_object_mut().unwrap().remove("drop_pct");
        v1.insert(
            format!("{}|{}", key.join("/"), r["start"].as_str().unwrap()),
            r,
        );
    }
    let v1 = serde_json::json!({"version": 1, "findings": v1});
    std::fs::write(work.join("reports/state.json"), v1.to_string()).unwrap();
    let (code, out, err) = run_in(work, &args);
    assert_eq!(
        code, 0,
        "a version-1 state must still know its findings: {out}{err}"
    );
}

#[test]
fn merge_reads_only_charts_inside_the_shard_folders() {
    let base = tempfile::tempdir().unwrap();
    let work = base.path();
    let secret = work.join("secret.png");
    std::fs::write(&secret, "TOP-SECRET-CONTENT").unwrap();
    let input = write_series(
        work,
        "in.csv",
        &[
            Spec {
                key: ["Kent Police", "Custody"],
                loss: Some((100, 0.2)),
            },
            Spec {
                key: ["Essex Police", "Records"],
                loss: Some((90, 0.3)),
            },
        ],
        DAYS,
    );
    let input = input.to_str().unwrap();
    for i in 1..=2 {
        let shard = format!("{i}/2");
        let out = format!("s{i}/r");
        let (code, _, err) = run_in(
            work,
            &[
                "scan",
                "--input",
                input,
                "--shard",
                &shard,
                "--out",
                &out,
                "--chart-size",
                "640x360",
            ],
        );
        assert_eq!(code, 0, "{err}");
    }
    // a finding in a shard now names a file outside the shard as its chart
    let mut hit = false;
    for i in 1..=2 {
        let p = work.join(format!("s{i}/r/findings.json"));
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        for f in v.as_array_mut().unwrap() {
            if !f["chart"].as_str().unwrap_or("").is_empty() {
                f["chart"] = serde_json::Value::String("charts/../../../secret.png".into());
                hit = true;
            }
        }
        // the shard folders are links into their runs folders: write the real file
        std::fs::write(std::fs::canonicalize(&p).unwrap(), v.to_string()).unwrap();
    }
    assert!(hit, "no shard finding had a chart");
    let (code, out, err) = run_in(work, &["merge", "s1/r", "s2/r", "--out", "m/r"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("refused"), "{err}");
    // nothing from the secret file reached a report
    if let Ok(html) = std::fs::read_to_string(work.join("m/r/report.html")) {
        let b64 = "VE9QLVNFQ1JFVC1DT05URU5U"; // base64 of TOP-SECRET-CONTENT
        assert!(!html.contains(b64));
    }
    assert!(read_csv_opt(&work.join("m/r/findings.csv")).is_none());
}

/// `scan --no-charts --input INPUT --as-of DAY` (the report goes to
/// `reports/DAY`) run in `work`.
fn night(work: &Path, input: &Path, day: &str) -> Run {
    run_in(
        work,
        &[
            "scan",
            "--no-charts",
            "--input",
            input.to_str().unwrap(),
            "--as-of",
            day,
        ],
    )
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_rerun_replaces_its_run_folder_and_latest_follows_the_newest_report() {
    let (_base, work, _v) = scene();
    let input = loss_csv(&work);
    let runs = work.join("reports/.shrinkwatch-runs");
    for (day, folders) in [
        ("2021-04-29", 1),
        ("2021-04-30", 2),
        // the same night again: its earlier run folder is removed
        ("2021-04-30", 2),
    ] {
        let (code, out, err) = night(&work, &input, day);
        assert_ne!(code, 2, "{day}: {out}{err}");
        // the report links are shrinkwatch's own: no warning about them
        assert!(!err.contains("did not make"), "{day}: {err}");
        assert!(work
            .join("reports")
            .join(day)
            .join("manifest.json")
            .is_file());
        assert_eq!(
            std::fs::read_link(work.join("reports/latest")).unwrap(),
            Path::new(day),
            "{day}: latest does not point at the newest report"
        );
        assert_eq!(names(&runs).len(), folders, "{day}: {:?}", names(&runs));
    }
}

#[test]
fn a_runs_folder_that_is_a_file_is_refused_and_kept() {
    let (_base, work, _v) = scene();
    std::fs::write(work.join("reports/.shrinkwatch-runs"), "mine").unwrap();
    let input = loss_csv(&work);
    let (code, out, err) = tonight(&work, &input);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(".shrinkwatch-runs exists and is not a folder"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(work.join("reports/.shrinkwatch-runs")).unwrap(),
        "mine"
    );
}

/// The run's exit code, waiting at most a minute (a run that loops is
/// killed and fails the test).
fn exit_within_a_minute(mut c: std::process::Command) -> Run {
    let child = c
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let id = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output().unwrap()));
    match rx.recv_timeout(std::time::Duration::from_secs(60)) {
        Ok(o) => (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into(),
            String::from_utf8_lossy(&o.stderr).into(),
        ),
        Err(_) => {
            std::process::Command::new("kill")
                .args(["-9", &id.to_string()])
                .status()
                .ok();
            panic!("the run did not end within a minute");
        }
    }
}

#[test]
fn an_out_folder_whose_run_folder_cannot_be_made_fails_cleanly() {
    // a name that fits, but not with the run folder's suffix
    let (_base, work, _v) = scene();
    let input = loss_csv(&work);
    let name = "n".repeat(240);
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("shrinkwatch"));
    c.current_dir(&work).args([
        "scan",
        "--no-charts",
        "--input",
        input.to_str().unwrap(),
        "--out",
        &format!("reports/{name}"),
    ]);
    let (code, out, err) = exit_within_a_minute(c);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("cannot create"), "{err}");
    assert!(names(&work.join("reports/.shrinkwatch-runs")).is_empty());
    // a parent whose runs folder's path is too long (PATH_MAX 4096) while
    // the state, breach log and report paths beside it still fit
    let deep: Vec<String> = (0..16).map(|_| "d".repeat(254)).collect();
    let deep = deep.join("/");
    assert_eq!(deep.len(), 4079);
    // (relative to `work`: the absolute path is too long for one call)
    let made = std::process::Command::new("mkdir")
        .current_dir(&work)
        .args(["-p", &deep])
        .status()
        .unwrap();
    assert!(made.success());
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("shrinkwatch"));
    c.current_dir(&work).args([
        "scan",
        "--no-charts",
        "--input",
        input.to_str().unwrap(),
        "--out",
        &format!("{deep}/t"),
    ]);
    let (code, out, err) = exit_within_a_minute(c);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("cannot create") && err.contains("/.shrinkwatch-runs"),
        "{err}"
    );
}

#[test]
fn leftovers_of_killed_runs_are_removed_and_nothing_else() {
    let (_base, work, _v) = scene();
    let input = loss_csv(&work);
    let (code, out, err) = tonight(&work, &input);
    assert_eq!(code, 1, "{out}{err}");
    let reports = work.join("reports");
    let runs = reports.join(".shrinkwatch-runs");
    let [first] = <[String; 1]>::try_from(names(&runs)).unwrap();
    // no process has this id (pid_max is at most 2^22); this test's own
    // process stands for another run still writing
    let dead = "1-2147483646";
    let live = format!("1-{}", std::process::id());
    let link = |at: &str, to: &str| symlink(to, reports.join(at)).unwrap();
    // temporary report links: a killed run's goes, a running one's stays;
    // a file with such a name, a link without `.link-` and a link that is
    // not hidden stay
    link(&format!(".tonight.link-{dead}"), "x");
    link(&format!(".tonight.link-{live}"), "x");
    std::fs::write(reports.join(format!(".notes.link-{dead}")), "mine").unwrap();
    link(&format!(".other-{dead}"), "x");
    link(&format!("mine.link-{dead}"), "x");
    let dir = |name: &str| {
        std::fs::create_dir_all(runs.join(name)).unwrap();
        std::fs::write(runs.join(name).join("f"), "x").unwrap();
    };
    // run folders of killed runs (half-written, or finished but never
    // linked) go; another run's, a linked one, a replaced one and names
    // shrinkwatch does not give stay
    dir(&format!("tonight.{dead}.partial"));
    dir(&format!("tonight.{dead}"));
    dir("junk.partial");
    dir(&format!("tonight.{live}.partial"));
    dir(&format!("other.{dead}"));
    link("other", &format!(".shrinkwatch-runs/other.{dead}"));
    dir(&format!("old.replaced-{dead}"));
    dir("notes");
    // a link that only looks like a report link does not keep a folder
    dir(&format!("decoy.{dead}"));
    link("decoy", &format!("elsewhere/decoy.{dead}"));
    let before = names(&runs);
    let (code, out, err) = tonight(&work, &input);
    assert_eq!(code, 0, "{out}{err}");
    let gone = [
        format!("tonight.{dead}.partial"),
        format!("tonight.{dead}"),
        "junk.partial".into(),
        format!("decoy.{dead}"),
        first, // the report's previous run folder, replaced
    ];
    let after = names(&runs);
    for n in &before {
        assert_eq!(!gone.contains(n), after.contains(n), "{n}: {after:?}");
    }
    // and tonight's
    assert_eq!(after.len(), before.len() - gone.len() + 1, "{after:?}");
    assert_eq!(
        names(&reports),
        [
            format!(".notes.link-{dead}"),
            format!(".other-{dead}"),
            ".shrinkwatch-runs".into(),
            format!(".tonight.link-{live}"),
            "breach-log.csv".into(),
            "decoy".into(),
            "latest".into(),
            format!("mine.link-{dead}"),
            "other".into(),
            "state.json".into(),
            "state.json.lock".into(),
            "tonight".into(),
        ]
    );
}

fn read_csv_opt(p: &Path) -> Option<Vec<std::collections::HashMap<String, String>>> {
    p.is_file().then(|| read_csv(p))
}
