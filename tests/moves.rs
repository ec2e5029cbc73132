//! Migrations that must arrive: a planned window with `moved_to` is
//! reconciled over the window (what left the source against what arrived in
//! the target beyond its normal growth). A complete move that empties the
//! source is no loss; the same move with 1 % missing is one loss of about
//! 1 %, attributed to the migration; without a target the emptying is a loss.

mod common;

use common::{nightly, read_csv};
use std::path::{Path, PathBuf};

/// Two stores of one force, 120 days from 2021-01-01: `Old store` moves
/// everything to `New store` on days 100 and 101 (half each night), and
/// `arrive` of what left arrives. Returns the CSV.
fn estate(dir: &Path, arrive: f64) -> PathBuf {
    let mut out = String::from("timestamp,force,system,bytes,objects\n");
    let start = chrono::NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
    let (mut old, mut new) = (2.0e13_f64, 5.0e13_f64);
    let mut moved = 0.0;
    for d in 0..120usize {
        let wiggle = (((d * 7919) % 11) as f64 - 5.0) * 1e-4;
        old *= 1.001 + wiggle;
        new *= 1.0015 - wiggle / 2.0;
        let leaving = match d {
            100 => old * 0.5,
            101 => old,
            _ => 0.0,
        };
        old -= leaving;
        moved += leaving;
        if d >= 101 {
            old = 0.0;
        }
        let target = new + moved * arrive;
        let date = (start + chrono::Duration::days(d as i64)).format("%Y-%m-%d");
        out.push_str(&format!(
            "{date},Kent Police,Old store,{:.0},{:.0}\n{date},Kent Police,New store,{:.0},{:.0}\n",
            old,
            old / 1.0e6,
            target,
            target / 1.0e6
        ));
    }
    let p = dir.join(format!("estate-{arrive}.csv"));
    std::fs::write(&p, out).unwrap();
    p
}

fn planned(dir: &Path, moved_to: &str) -> PathBuf {
    let p = dir.join(format!("planned-{}.csv", moved_to.len()));
    std::fs::write(
        &p,
        format!(
            "force,system,start,end,expected_drop_pct,reason,moved_to\nKent Police,Old store,2021-04-10,2021-04-12,100,migration to the new store,{moved_to}\n"
        ),
    )
    .unwrap();
    p
}

fn losses(
    dir: &Path,
    input: &Path,
    plan: &Path,
) -> (i32, Vec<std::collections::HashMap<String, String>>) {
    let (code, out, err) = nightly(
        dir,
        input,
        &["--no-charts", "--planned", plan.to_str().unwrap()],
        &[],
    );
    assert!(code == 0 || code == 1, "{out}{err}");
    let rows = read_csv(&dir.join("reports/tonight/findings.csv"))
        .into_iter()
        .filter(|r| r["kind"] == "loss")
        .collect();
    (code, rows)
}

type Row = std::collections::HashMap<String, String>;

/// `scan --shard I/N` for every I over `input` (extra flags after the
/// plan), each shard exiting 0; the loss rows of all shards together, and
/// what the shards printed on standard error.
fn shard_losses(
    dir: &Path,
    input: &Path,
    plan: &Path,
    n: usize,
    extra: &[&str],
) -> (Vec<Row>, String) {
    let (mut found, mut errs) = (Vec::new(), String::new());
    for i in 1..=n {
        let out = dir.join(format!("shard-{i}"));
        let shard = format!("{i}/{n}");
        let state = dir.join("shard-state.json");
        let mut args = vec![
            "scan",
            "--input",
            input.to_str().unwrap(),
            "--planned",
            plan.to_str().unwrap(),
        ];
        args.extend(extra);
        args.extend([
            "--no-charts",
            "--shard",
            &shard,
            "--out",
            out.to_str().unwrap(),
            "--state",
            state.to_str().unwrap(),
        ]);
        let (code, o, err) = common::run(&args, &[]);
        assert_eq!(code, 0, "a shard never alerts: {o}{err}");
        errs.push_str(&err);
        found.extend(
            read_csv(&out.join("findings.csv"))
                .into_iter()
                .filter(|r| r["kind"] == "loss"),
        );
    }
    (found, errs)
}

/// `replay` of April 2021 over `input` with `plan` into `out`; its rows.
fn replay(input: &Path, plan: &Path, out: &Path) -> Vec<Row> {
    let (code, o, err) = common::run(
        &[
            "replay",
            "--input",
            input.to_str().unwrap(),
            "--planned",
            plan.to_str().unwrap(),
            "--from",
            "2021-04-01",
            "--to",
            "2021-04-30",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{o}{err}");
    read_csv(&out.join("replay.csv"))
}

#[test]
fn a_complete_move_that_empties_the_source_is_no_loss() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, rows) = losses(d, &estate(d, 1.0), &planned(d, "New store"));
    assert_eq!(code, 0, "{rows:?}");
    assert!(rows.is_empty(), "{rows:?}");
    let all = read_csv(&d.join("reports/tonight/findings.csv"));
    let moved: Vec<_> = all
        .iter()
        .filter(|r| r["moved_to"] == "Kent Police/New store")
        .collect();
    assert!(
        !moved.is_empty(),
        "the move is reported for the record: {all:?}"
    );
    assert!(moved.iter().all(|r| r["kind"] == "moved"));
}

#[test]
fn a_move_with_one_percent_missing_is_one_loss_of_about_one_percent() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, rows) = losses(d, &estate(d, 0.99), &planned(d, "Kent Police/New store"));
    assert_eq!(code, 1);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!(
        (r["force"].as_str(), r["system"].as_str()),
        ("Kent Police", "Old store")
    );
    let pct: f64 = r["drop_pct"].parse().unwrap();
    assert!((pct - 1.0).abs() < 0.25, "shortfall {pct} %");
    let short: f64 = r["shortfall_bytes"].parse().unwrap();
    let arrived: f64 = r["arrived_bytes"].parse().unwrap();
    assert!(
        (short / (short + arrived) - 0.01).abs() < 0.0025,
        "{short} of {}",
        short + arrived
    );
    assert_eq!(r["moved_to"], "Kent Police/New store");
    assert_eq!(r["planned_reason"], "migration to the new store");
    // the referral says what left and never arrived
    let md = std::fs::read_to_string(d.join("reports/tonight/report.md")).unwrap();
    assert!(
        md.contains("never arrived in Kent Police/New store"),
        "{md}"
    );
}

#[test]
fn emptying_a_store_without_a_target_or_into_a_target_that_never_grew_is_a_loss() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // no moved_to: the plan explains the fall (it said 100 %) — but a plan
    // that names a target that never grew does not
    let (_, rows) = losses(d, &estate(d, 0.0), &planned(d, "New store"));
    assert_eq!(rows.len(), 1, "{rows:?}");
    let pct: f64 = rows[0]["drop_pct"].parse().unwrap();
    assert!(pct > 95.0, "{pct}");
    let sub = d.join("no-plan");
    std::fs::create_dir_all(&sub).unwrap();
    let none = sub.join("none.csv");
    std::fs::write(&none, "force,system,start,end,expected_drop_pct,reason\n").unwrap();
    let (code, rows) = losses(&sub, &estate(&sub, 1.0), &none);
    assert_eq!(code, 1);
    assert!(rows.iter().any(|r| r["system"] == "Old store"), "{rows:?}");
}

/// A force whose `Old store` moves half of itself into `New store` (a plan
/// explains the fall), while `New store` loses 5 % of its own data the same
/// night: each store alone shows nothing unexplained (the new store grew),
/// the force's total shows the loss.
fn hidden_loss(dir: &Path) -> (PathBuf, PathBuf) {
    let mut out = String::from("timestamp,force,system,bytes,objects\n");
    let start = chrono::NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
    let (mut old, mut new) = (4.0e13_f64, 2.0e13_f64);
    for d in 0..120usize {
        let wiggle = (((d * 7919) % 11) as f64 - 5.0) * 1e-4;
        old *= 1.001 + wiggle;
        new *= 1.0012 - wiggle / 2.0;
        if d == 100 {
            let moved = old * 0.5;
            old -= moved;
            new = new * 0.95 + moved;
        }
        let date = (start + chrono::Duration::days(d as i64)).format("%Y-%m-%d");
        out.push_str(&format!(
            "{date},Kent Police,Old store,{old:.0},{:.0}\n{date},Kent Police,New store,{new:.0},{:.0}\n",
            old / 1.0e6,
            new / 1.0e6
        ));
    }
    let input = dir.join("hidden.csv");
    std::fs::write(&input, out).unwrap();
    let plan = dir.join("plan-hidden.csv");
    std::fs::write(
        &plan,
        "force,system,start,end,expected_drop_pct,reason\nKent Police,Old store,2021-04-11,2021-04-11,50,archive to the new store\n",
    )
    .unwrap();
    (input, plan)
}

#[test]
fn force_totals_show_a_loss_hidden_by_a_move_inside_the_force() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (input, plan) = hidden_loss(d);
    let (code, rows) = losses(d, &input, &plan);
    assert_eq!(code, 0, "no store alone shows it: {rows:?}");
    let with = d.join("totals");
    std::fs::create_dir_all(&with).unwrap();
    let (code, out, err) = nightly(
        &with,
        &input,
        &[
            "--no-charts",
            "--planned",
            plan.to_str().unwrap(),
            "--totals",
        ],
        &[],
    );
    assert_eq!(code, 1, "{out}{err}");
    let rows: Vec<_> = read_csv(&with.join("reports/tonight/findings.csv"))
        .into_iter()
        .filter(|r| r["kind"] == "loss")
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0]["force"].as_str(), rows[0]["system"].as_str()),
        ("Kent Police", "(force total)")
    );
    assert_eq!(rows[0]["start"], "2021-04-11");
    let pct: f64 = rows[0]["drop_pct"].parse().unwrap();
    assert!(
        (1.0..2.5).contains(&pct),
        "about 5 % of a third of the force: {pct}"
    );
    // A shard holds whole forces: the same total, and the same loss, in
    // whichever shard holds Kent Police; nothing in the others.
    let found: Vec<_> = shard_losses(d, &input, &plan, 3, &["--totals"])
        .0
        .into_iter()
        .map(|r| {
            (
                r["system"].clone(),
                r["start"].clone(),
                r["drop_pct"].clone(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![(
            rows[0]["system"].clone(),
            rows[0]["start"].clone(),
            rows[0]["drop_pct"].clone()
        )]
    );
}

#[test]
fn a_move_inside_a_force_is_reconciled_in_whichever_shard_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = estate(d, 0.99);
    let plan = planned(d, "New store");
    let (rows, err) = shard_losses(d, &input, &plan, 4, &[]);
    assert!(!err.contains("cannot be reconciled"), "{err}");
    let found: Vec<_> = rows
        .into_iter()
        .map(|r| (r["system"].clone(), r["moved_to"].clone()))
        .collect();
    assert_eq!(
        found,
        vec![("Old store".to_string(), "Kent Police/New store".to_string())]
    );
}

/// A small store moved into a huge, noisy one: the target's volume swings
/// by more than everything that moved, its file count does not. `arrive`
/// of the files (and bytes) arrive.
fn swamped(dir: &Path, arrive: f64) -> PathBuf {
    let mut out = String::from("timestamp,force,system,bytes,objects\n");
    let start = chrono::NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
    let (mut old_b, mut old_o) = (2.0e12_f64, 1.0e6_f64);
    let (mut new_b, mut new_o) = (4.0e14_f64, 2.0e6_f64);
    for d in 0..120usize {
        // the big store's volume: ±0.4 % a day, far more than 2 TB
        let swing = ((((d * 7919) % 13) as f64) - 6.0) / 6.0 * 0.004;
        let (gb, go) = (old_b * 0.001, old_o * 0.001);
        old_b += gb;
        old_o += go;
        new_b *= 1.001;
        new_o += 1500.0 + ((d * 31) % 7) as f64 * 10.0;
        if d == 100 {
            new_b += old_b * arrive;
            new_o += old_o * arrive;
            old_b = 0.0;
            old_o = 0.0;
        }
        let date = (start + chrono::Duration::days(d as i64)).format("%Y-%m-%d");
        out.push_str(&format!(
            "{date},Kent Police,Old store,{old_b:.0},{old_o:.0}\n{date},Kent Police,New store,{:.0},{new_o:.0}\n",
            new_b * (1.0 + swing)
        ));
    }
    let p = dir.join(format!("swamped-{arrive}.csv"));
    std::fs::write(&p, out).unwrap();
    p
}

#[test]
fn a_move_into_a_store_whose_volume_swamps_it_is_judged_by_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let plan = planned(d, "New store");
    // everything arrived: a move, whatever the target's volume did
    let (code, rows) = losses(d, &swamped(d, 1.0), &plan);
    assert_eq!(code, 0, "{rows:?}");
    assert!(read_csv(&d.join("reports/tonight/findings.csv"))
        .iter()
        .any(|r| r["kind"] == "moved" && r["system"] == "Old store"));
    // 8 % of the files never arrived: the file count shows it
    let (code, rows) = losses(d, &swamped(d, 0.92), &plan);
    assert_eq!(code, 1, "{rows:?}");
    assert_eq!(rows.len(), 1, "{rows:?}");
    let pct: f64 = rows[0]["drop_pct"].parse().unwrap();
    assert!(
        (7.0..9.0).contains(&pct),
        "about 8 % of the old store: {pct}"
    );
    let files: f64 = rows[0]["shortfall_objects"].parse().unwrap();
    assert!(
        (0.95..1.05).contains(&(files / (0.08 * 1.105e6))),
        "about 88,000 files: {files}"
    );
}

#[test]
fn replay_reports_a_lossy_move_when_its_window_closes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let plan = planned(d, "New store");
    let rows: Vec<_> = replay(&estate(d, 0.99), &plan, &d.join("replay"))
        .into_iter()
        .filter(|r| r["final_kind"] == "loss")
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["series"], "Kent Police/Old store");
    // judged once the window (10–12 April) has closed, not before
    assert!(
        rows[0]["first_reported"].as_str() >= "2021-04-12",
        "{rows:?}"
    );
    // a complete move is no loss, in a replay as in a scan
    assert!(replay(&estate(d, 1.0), &plan, &d.join("replay-complete"))
        .iter()
        .all(|r| r["final_kind"] != "loss"));
}

/// The same daily CSV with each reading repeated at every hour of its day,
/// each with a tiny jitter (±0.005 %), as a collector that reads hourly
/// would see it.
fn hourly(daily: &Path) -> PathBuf {
    let text = std::fs::read_to_string(daily).unwrap();
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    for (i, line) in lines.enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        for h in 0..24usize {
            let jitter = |k: usize| {
                let u = ((i * 7919 + h * 104_729 + k * 13) % 1000) as f64 / 1000.0 - 0.5;
                1.0 + u * 1e-4
            };
            let bytes: f64 = f[3].parse().unwrap();
            let objects: f64 = f[4].parse().unwrap();
            out.push_str(&format!(
                "{}T{h:02}:00:00Z,{},{},{:.0},{:.0}\n",
                f[0],
                f[1],
                f[2],
                bytes * jitter(0),
                objects * jitter(1)
            ));
        }
    }
    let p = daily.with_extension("hourly.csv");
    std::fs::write(&p, out).unwrap();
    p
}

#[test]
fn a_lossy_move_read_hourly_is_the_same_loss_as_read_daily() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let plan = planned(d, "New store");
    let daily = estate(d, 0.97);
    let mut pcts = vec![];
    for input in [daily.clone(), hourly(&daily)] {
        let (code, rows) = losses(d, &input, &plan);
        assert_eq!(code, 1, "{}: {rows:?}", input.display());
        assert_eq!(rows.len(), 1, "{}: {rows:?}", input.display());
        assert_eq!(rows[0]["moved_to"], "Kent Police/New store");
        pcts.push(rows[0]["drop_pct"].parse::<f64>().unwrap());
    }
    assert!((pcts[0] - 3.0).abs() < 0.5, "daily: {pcts:?}");
    assert!(
        (pcts[0] - pcts[1]).abs() < 0.2,
        "daily and hourly: {pcts:?}"
    );
    // a complete move stays a move at both cadences
    let complete = estate(d, 1.0);
    for input in [complete.clone(), hourly(&complete)] {
        let (code, rows) = losses(d, &input, &plan);
        assert_eq!(code, 0, "{}: {rows:?}", input.display());
    }
}

/// A custody store of 0.69 TB into which an 87 TB email archive moves on
/// days 20 and 21 of 300 (from 2023-01-01, daily). On day 200 a planned
/// disposal removes 5 % of the custody store's own data (announced 7 %);
/// on day 280 it loses 6.2 % of its own data (43 GB: 0.05 % of what it
/// holds). Returns the CSV and the planned windows.
fn archive_into_custody(dir: &Path) -> (PathBuf, PathBuf) {
    let mut out = String::from("timestamp,force,system,bytes,objects\n");
    let start = chrono::NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
    let (mut own, mut email) = (6.9e11_f64, 8.7e13_f64);
    let mut arrived = 0.0;
    for d in 0..300usize {
        let wiggle = (((d * 7919) % 11) as f64 - 5.0) * 2e-4;
        own *= 1.0002 + wiggle;
        if d > 0 {
            own /= 1.0 + (((d - 1) * 7919 % 11) as f64 - 5.0) * 2e-4; // noise, not drift
        }
        let leaving = match d {
            20 => email / 2.0,
            21 => email,
            _ => 0.0,
        };
        email -= leaving;
        arrived += leaving;
        match d {
            200 => own *= 0.95,
            280 => own *= 1.0 - 0.062,
            _ => {}
        }
        let custody = own + arrived;
        let date = (start + chrono::Duration::days(d as i64)).format("%Y-%m-%d");
        out.push_str(&format!(
            "{date},Kent Police,Custody,{:.0},{:.0}\n{date},Kent Police,Email archive,{:.0},{:.0}\n",
            custody,
            custody / 2.0e5,
            email,
            email / 2.0e5
        ));
    }
    let p = dir.join("archive-into-custody.csv");
    std::fs::write(&p, out).unwrap();
    let plan = dir.join("archive-into-custody-planned.csv");
    std::fs::write(
        &plan,
        "force,system,start,end,expected_drop_pct,reason,moved_to\n\
         Kent Police,Email archive,2023-01-21,2023-01-22,100,migration of the email archive,Custody\n\
         Kent Police,Custody,2023-07-19,2023-07-20,7,scheduled retention review\n",
    )
    .unwrap();
    (p, plan)
}

fn custody_rows(dir: &Path) -> Vec<Row> {
    read_csv(&dir.join("reports/tonight/findings.csv"))
        .into_iter()
        .filter(|r| r["system"] == "Custody")
        .collect()
}

#[test]
fn a_small_loss_in_a_store_a_migration_more_than_doubled_is_judged_on_its_own_data() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (input, plan) = archive_into_custody(d);
    let (code, out, err) = nightly(
        d,
        &input,
        &["--no-charts", "--planned", plan.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 1, "{out}{err}");
    let rows = custody_rows(d);
    let loss: Vec<&Row> = rows.iter().filter(|r| r["kind"] == "loss").collect();
    assert_eq!(loss.len(), 1, "{rows:?}");
    let l = loss[0];
    assert_eq!(l["start"], "2023-10-08");
    let pct: f64 = l["drop_pct"].parse().unwrap();
    assert!((pct - 6.2).abs() < 0.5, "{pct} % of its own data");
    let aside: f64 = l["set_aside_bytes"].parse().unwrap();
    assert!((aside / 8.7e13 - 1.0).abs() < 0.01, "set aside {aside}");
    let before: f64 = l["before_bytes"].parse().unwrap();
    assert!(before > 8.7e13, "bytes as the store holds them: {before}");
    // the planned disposal of its own data is planned, within its plan
    let planned: Vec<&Row> = rows.iter().filter(|r| r["kind"] == "planned").collect();
    assert_eq!(planned.len(), 1, "{rows:?}");
    assert_eq!(planned[0]["start"], "2023-07-20");
    // the move itself: complete
    let all = read_csv(&d.join("reports/tonight/findings.csv"));
    assert!(
        all.iter()
            .any(|r| r["system"] == "Email archive" && r["kind"] == "moved"),
        "{all:?}"
    );
    assert_eq!(
        all.iter().filter(|r| r["kind"] == "loss").count(),
        1,
        "{all:?}"
    );
    let md = std::fs::read_to_string(d.join("reports/tonight/report.md")).unwrap();
    assert!(
        md.contains("of the store's own data, leaving aside the"),
        "{md}"
    );
    // replay reports it on its night, as the nightly scan would have
    let out = d.join("replay");
    let (code, o, err) = common::run(
        &[
            "replay",
            "--input",
            input.to_str().unwrap(),
            "--planned",
            plan.to_str().unwrap(),
            "--from",
            "2023-10-01",
            "--to",
            "2023-10-31",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{o}{err}");
    let rows = read_csv(&out.join("replay.csv"));
    let custody: Vec<&Row> = rows
        .iter()
        .filter(|r| r["series"] == "Kent Police/Custody")
        .collect();
    assert_eq!(custody.len(), 1, "{rows:?}");
    assert_eq!(
        (
            custody[0]["start"].as_str(),
            custody[0]["first_reported"].as_str()
        ),
        ("2023-10-08", "2023-10-08")
    );
    assert_eq!(custody[0]["final_kind"], "loss");
}

#[test]
fn a_night_long_after_the_move_sets_aside_what_the_state_kept() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (input, plan) = archive_into_custody(d);
    let night = |as_of: &str, extra: &[&str]| {
        let mut args = vec![
            "--no-charts",
            "--planned",
            plan.to_str().unwrap(),
            "--as-of",
            as_of,
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = nightly(d, &input, &args, &[]);
        assert!(code == 0 || code == 1, "{out}{err}");
        let summary = std::fs::read_to_string(d.join("reports/tonight/summary.txt")).unwrap();
        (code, summary, custody_rows(d))
    };
    night("2023-10-07", &[]);
    // the next night reads a window that starts long after the move
    let (code, summary, rows) = night("2023-10-08", &[]);
    assert!(summary.contains("Incremental run: window"), "{summary}");
    assert_eq!(code, 1, "{summary}");
    let loss: Vec<&Row> = rows.iter().filter(|r| r["kind"] == "loss").collect();
    assert_eq!(loss.len(), 1, "{rows:?}");
    assert_eq!(loss[0]["start"], "2023-10-08");
    let incremental = rows.clone();
    // the same night judged on the whole history: the same findings
    let (_, summary, rows) = night("2023-10-08", &["--full"]);
    assert!(summary.contains("Full scan"), "{summary}");
    let strip = |rows: &[Row]| -> Vec<Vec<(String, String)>> {
        rows.iter()
            .map(|r| {
                let mut v: Vec<(String, String)> = r
                    .iter()
                    .filter(|(k, _)| !["detected_at", "status", "change"].contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                v.sort();
                v
            })
            .collect()
    };
    assert_eq!(strip(&incremental), strip(&rows));
}
