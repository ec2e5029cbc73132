//! The settings layer: every row of the threshold table has a flag, a key
//! with its documentation in `config --print-default`, validation (from the
//! flag and from the file, each named), and a tune grid or an explicit "not
//! tuned"; and `tune` resolves flags, file and overrides exactly as `scan`
//! and `evaluate` do.

mod common;

use common::{bin, read_csv, run, write_series, Spec};
use shrinkwatch::detect::params::{Tuning, Value, THRESHOLDS};
use std::path::Path;

#[test]
fn every_threshold_has_a_flag_a_documented_key_validation_and_a_tuning_entry() {
    let (code, help, _) = run(&["scan", "--help"], &[]);
    assert_eq!(code, 0);
    let (code, toml, _) = run(&["config", "--print-default"], &[]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = toml.lines().collect();
    let dir = tempfile::tempdir().unwrap();
    let input = write_series(
        dir.path(),
        "in.csv",
        &[Spec {
            key: ["Kent Police", "Custody"],
            loss: None,
        }],
        40,
    );
    let swept: Vec<&str> = THRESHOLDS
        .iter()
        .filter(|t| matches!(t.tuning, Tuning::Grid(_)))
        .map(|t| t.name)
        .collect();
    for t in THRESHOLDS {
        // a flag with its help
        let flag = t.flag();
        assert!(
            help.lines()
                .any(|l| l.contains(&format!("{flag} <")) && l.contains(t.help)),
            "{flag} missing from scan --help"
        );
        // a key with its default and its documentation just above it
        let key = format!("{} = {}", t.name, t.default.toml());
        let at = lines
            .iter()
            .position(|l| *l == key)
            .unwrap_or_else(|| panic!("`{key}` missing from config --print-default"));
        let doc: Vec<&str> = t.doc.lines().collect();
        for (i, d) in doc.iter().enumerate() {
            assert_eq!(lines[at - doc.len() + i], format!("# {d}"), "{}", t.name);
        }
        // validation, from a flag and from the file, each naming where
        let bad = match t.default {
            Value::Bool(_) => None,
            _ if t.range.hi.0.is_finite() => Some(t.range.hi.0 * 2.0 + 1.0),
            _ => Some(-1.0),
        };
        if let Some(bad) = bad {
            let text = match t.default {
                Value::Int(_) if bad >= 0.0 => format!("{}", bad as u64),
                _ => format!("{bad}"),
            };
            let (code, _, err) = run(
                &[
                    "scan",
                    "--no-charts",
                    "--input",
                    input.to_str().unwrap(),
                    "--out",
                    dir.path().join("r").to_str().unwrap(),
                    &format!("{flag}={text}"),
                ],
                &[],
            );
            assert_eq!(code, 2, "{flag}={text}: {err}");
            assert!(err.contains(&flag), "{flag}: {err}");
            let cfg = dir.path().join(format!("{}.toml", t.name));
            std::fs::write(&cfg, format!("[detect]\n{} = {text}\n", t.name)).unwrap();
            let (code, _, err) = run(
                &[
                    "scan",
                    "--no-charts",
                    "--input",
                    input.to_str().unwrap(),
                    "--config",
                    cfg.to_str().unwrap(),
                    "--out",
                    dir.path().join("r").to_str().unwrap(),
                ],
                &[],
            );
            assert_eq!(code, 2, "{}: {err}", t.name);
            assert!(
                err.contains(&format!("{}.toml", t.name)) && err.contains(t.name),
                "{}: {err}",
                t.name
            );
        }
        // tuned over a grid, or explicitly not
        match t.tuning {
            Tuning::Grid(g) => assert!(!g.is_empty() && swept.contains(&t.name)),
            Tuning::Fixed(why) => assert!(!why.is_empty(), "{}", t.name),
        }
    }
}

/// A labelled loss of 20 % in `Kent Police/Custody`, which an override
/// hides (min_drop_pct 50 for that system) unless a flag wins over it.
fn hidden_loss(dir: &Path) -> (String, String, String) {
    let input = write_series(
        dir,
        "in.csv",
        &[
            Spec {
                key: ["Kent Police", "Custody"],
                loss: Some((100, 0.2)),
            },
            Spec {
                key: ["Kent Police", "Records"],
                loss: Some((90, 0.1)),
            },
        ],
        120,
    );
    let labels = dir.join("labels.csv");
    std::fs::write(
        &labels,
        "force,system,timestamp,kind\nKent Police,Custody,2021-04-11,loss\nKent Police,Records,2021-04-01,loss\n",
    )
    .unwrap();
    let cfg = dir.join("c.toml");
    std::fs::write(
        &cfg,
        "[[override]]\nmatch = { system = \"Custody\" }\nset = { min_drop_pct = 50.0 }\n",
    )
    .unwrap();
    (
        input.display().to_string(),
        labels.display().to_string(),
        cfg.display().to_string(),
    )
}

#[test]
fn tune_scan_and_evaluate_resolve_flags_file_and_overrides_alike() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (input, labels, cfg) = hidden_loss(d);
    for (flags, found) in [(vec![], 1usize), (vec!["--min-drop-pct", "1.5"], 2)] {
        // scan: the flag wins over the override
        let out = d.join(format!("scan{}", flags.len()));
        let mut args = vec!["scan", "--no-charts", "--input", &input, "--config", &cfg];
        args.extend(&flags);
        let out_s = out.display().to_string();
        args.extend(["--out", &out_s]);
        let (code, stdout, err) = run(&args, &[]);
        assert_eq!(code, 1, "{stdout}{err}");
        let losses = read_csv(&out.join("findings.csv"))
            .iter()
            .filter(|r| r["kind"] == "loss")
            .count();
        assert_eq!(losses, found, "scan {flags:?}");
        // evaluate: the same
        let ev = d.join(format!("ev{}", flags.len()));
        let ev_s = ev.display().to_string();
        let mut args = vec![
            "evaluate", "--input", &input, "--config", &cfg, "--labels", &labels,
        ];
        args.extend(&flags);
        args.extend(["--out", &ev_s]);
        let (code, _, err) = run(&args, &[]);
        assert_eq!(code, 0, "{err}");
        let e: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(ev.join("evaluation.json")).unwrap())
                .unwrap();
        let recall = e["detector"]["kinds"]["loss"]["recall"].as_f64().unwrap();
        assert!(
            (recall - found as f64 / 2.0).abs() < 1e-9,
            "evaluate {flags:?}: {recall}"
        );
        // tune: its starting point scores what scan and evaluate see
        let tu = d.join(format!("tune{}", flags.len()));
        let o = bin()
            .args([
                "tune",
                "--holdout",
                "0",
                "--input",
                &input,
                "--config",
                &cfg,
            ])
            .args(["--labels", &labels])
            .args(&flags)
            .arg("--out")
            .arg(&tu)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let trials = read_csv(&tu.join("tune.csv"));
        // the starting point is `current`, or `recommended` when nothing beat it
        let start_recall: f64 = trials
            .iter()
            .find(|t| t["role"] == "current")
            .or_else(|| trials.iter().find(|t| t["role"] == "recommended"))
            .unwrap()["recall"]
            .parse()
            .unwrap();
        assert!(
            (start_recall - found as f64 / 2.0).abs() < 1e-9,
            "tune {flags:?}: start recall {start_recall}"
        );
        // a flag pins its threshold: it is not swept
        let swept: Vec<String> = trials
            .iter()
            .map(|t| t["min_drop_pct"].clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if flags.is_empty() {
            assert!(swept.len() > 1, "{swept:?}");
        } else {
            assert_eq!(swept, vec!["1.5".to_string()]);
        }
    }
}
