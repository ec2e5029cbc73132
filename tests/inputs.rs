//! Resource and exit semantics of the inputs (issue 11, items 16–19): FIFOs,
//! devices and sockets refused at once, size limits on the configuration and
//! side files, exit 2 when no row is usable, a usage error for empty key
//! columns, warnings under `-q` for a planned window that hides most of the
//! data and for overrides that match nothing, and each error printed once.
//! Every test runs the real binary.

mod common;

use common::{nightly, run, write_series, Run, Spec};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs the binary with `args`, killing it and failing the test when it has
/// not finished within `secs` seconds (a FIFO or a device must never hang a
/// run). Output goes to files, so a chatty run cannot block on a full pipe.
fn run_within(secs: u64, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("shrinkwatch"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(secs) {
            child.kill().ok();
            child.wait().ok();
            panic!(
                "`shrinkwatch {}` still running after {secs} s: killed (stderr so far: {})",
                args.join(" "),
                std::fs::read_to_string(&err).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (
        status.code().unwrap_or(-1),
        std::fs::read_to_string(&out).unwrap(),
        std::fs::read_to_string(&err).unwrap(),
    )
}

/// One series with a 20 % loss on day 100 of 120, and a second without.
fn estate(dir: &Path) -> PathBuf {
    write_series(
        dir,
        "obs.csv",
        &[
            Spec {
                key: ["Kent Police", "Custody"],
                loss: Some((100, 0.2)),
            },
            Spec {
                key: ["Essex Police", "Records"],
                loss: None,
            },
        ],
        120,
    )
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid, NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// `scan` arguments writing everything under `dir`, each call into a
/// report folder of its own (`dir/reports/run-N`).
fn scan_args(dir: &Path, extra: &[&str]) -> Vec<String> {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut a: Vec<String> = vec![
        "scan".into(),
        "--no-charts".into(),
        "--out".into(),
        dir.join(format!("reports/run-{n}")).display().to_string(),
    ];
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn fifo_or_socket_as_input_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fifo = d.join("pipe.csv");
    mkfifo(&fifo);
    let f = fifo.display().to_string();
    let (code, out, err) = run_within(20, &refs(&scan_args(d, &["--input", &f])));
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(&f) && err.contains("FIFO") && err.contains("not a regular file"),
        "{err}"
    );
    assert!(!err.contains("no such file"), "{err}");
    assert!(
        !d.join("reports").exists()
            || std::fs::read_dir(d.join("reports")).unwrap().all(|e| {
                let name = e.unwrap().file_name();
                !name.to_string_lossy().starts_with("run-")
            }),
        "no report is written"
    );
    // the same FIFO inside an input folder is an error too, not skipped
    let folder = d.join("in");
    std::fs::create_dir(&folder).unwrap();
    estate(&folder);
    mkfifo(&folder.join("late.csv"));
    let (code, out, err) = run_within(
        20,
        &refs(&scan_args(d, &["--input", folder.to_str().unwrap()])),
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("late.csv") && err.contains("FIFO"), "{err}");
    // a socket
    let sock = d.join("sock.csv");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let (code, out, err) = run_within(
        20,
        &refs(&scan_args(d, &["--input", sock.to_str().unwrap()])),
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("sock.csv") && err.contains("socket"), "{err}");
    // a symbolic link to a regular file is a fine input
    let real = estate(d);
    let link = d.join("link.csv");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let (code, out, err) = run_within(
        60,
        &refs(&scan_args(d, &["--input", link.to_str().unwrap()])),
    );
    assert_eq!(code, 1, "{out}{err}");
}

#[test]
fn devices_as_input_config_planned_or_labels_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = estate(d);
    let i = input.to_str().unwrap();
    for dev in ["/dev/zero", "/dev/null"] {
        let (code, out, err) = run_within(20, &refs(&scan_args(d, &["--input", dev])));
        assert_eq!(code, 2, "{dev}: {out}{err}");
        assert!(
            err.contains(dev) && err.contains("device") && err.contains("not a regular file"),
            "{dev}: {err}"
        );
        assert!(!err.contains("no such file"), "{err}");
    }
    for flag in ["--config", "--planned"] {
        let (code, out, err) =
            run_within(20, &refs(&scan_args(d, &["--input", i, flag, "/dev/zero"])));
        assert_eq!(code, 2, "{flag}: {out}{err}");
        assert!(
            err.contains("/dev/zero") && err.contains("device"),
            "{flag}: {err}"
        );
    }
    let eval_out = d.join("eval").display().to_string();
    let (code, out, err) = run_within(
        20,
        &[
            "evaluate",
            "--input",
            i,
            "--labels",
            "/dev/zero",
            "--out",
            &eval_out,
        ],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("/dev/zero") && err.contains("device"), "{err}");
}

#[test]
fn oversized_config_is_refused_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = estate(d);
    let cfg = d.join("huge.toml");
    let mut text = String::from("[detect]\nmin_drop_pct = 5\n");
    while text.len() < 2 << 20 {
        text.push_str("# a comment line that makes this configuration file far too large\n");
    }
    std::fs::write(&cfg, text).unwrap();
    let (code, out, err) = run_within(
        30,
        &refs(&scan_args(
            d,
            &[
                "--input",
                input.to_str().unwrap(),
                "--config",
                cfg.to_str().unwrap(),
            ],
        )),
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("huge.toml") && err.contains("1 MiB"), "{err}");
}

#[test]
fn no_usable_row_exits_2_even_under_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // bytes in exponent notation: every row is rejected
    let text = common::series_csv(
        &[Spec {
            key: ["Kent Police", "Custody"],
            loss: None,
        }],
        30,
    );
    let mut bad = String::from("timestamp,force,system,bytes\n");
    for l in text.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        bad.push_str(&format!("{},{},{},1.0e+14\n", f[0], f[1], f[2]));
    }
    let input = d.join("exp.csv");
    std::fs::write(&input, bad).unwrap();
    let (code, out, err) = run(
        &refs(
            &[
                vec!["-q".to_string()],
                scan_args(d, &["--input", input.to_str().unwrap()]),
            ]
            .concat(),
        ),
        &[],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("no usable row") && err.contains("all 30 rows were rejected"),
        "{err}"
    );
    // the first reasons are shown with file, line and column
    assert!(
        err.contains("exp.csv, line 2, column `bytes`") && err.contains("exponent"),
        "{err}"
    );
    // a header without rows
    let empty = d.join("header.csv");
    std::fs::write(&empty, "timestamp,force,system,bytes\n").unwrap();
    let (code, out, err) = run(
        &refs(
            &[
                vec!["-q".to_string()],
                scan_args(d, &["--input", empty.to_str().unwrap()]),
            ]
            .concat(),
        ),
        &[],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("no usable row"), "{err}");
    // some usable rows: the run goes on as before
    let mixed = d.join("mixed.csv");
    let mut text = std::fs::read_to_string(estate(d)).unwrap();
    text.push_str("2021-06-01,Kent Police,Custody,1.0e+14,1\n");
    std::fs::write(&mixed, text).unwrap();
    let (code, out, err) = nightly(d, &mixed, &["--no-charts"], &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("1 rejected"), "{out}");
}

#[test]
fn empty_key_columns_are_a_usage_error_and_leave_the_breach_log() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = estate(d);
    let (code, out, err) = nightly(d, &input, &["--no-charts"], &[]);
    assert_eq!(code, 1, "{out}{err}");
    let log = d.join("reports/breach-log.csv");
    let before = std::fs::read(&log).unwrap();
    for keys in ["", " , ,", ","] {
        let (code, out, err) = nightly(d, &input, &["--no-charts", "--key-cols", keys], &[]);
        assert_eq!(code, 2, "`{keys}`: {out}{err}");
        assert!(err.contains("--key-cols"), "`{keys}`: {err}");
        assert_eq!(std::fs::read(&log).unwrap(), before, "breach log changed");
    }
    // an empty `keys` list in the configuration file too
    let cfg = d.join("c.toml");
    std::fs::write(&cfg, "[columns]\nkeys = []\n").unwrap();
    let (code, out, err) = nightly(
        d,
        &input,
        &["--no-charts", "--config", cfg.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("keys"), "{err}");
    assert_eq!(std::fs::read(&log).unwrap(), before, "breach log changed");
}

#[test]
fn planned_window_over_all_the_data_warns_under_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = estate(d);
    let planned = d.join("plan.csv");
    std::fs::write(
        &planned,
        "force,system,start,end,expected_drop_pct,reason\n*,*,1500-01-01,2500-12-31,,x\n",
    )
    .unwrap();
    let (_, out, err) = nightly(
        d,
        &input,
        &["-q", "--no-charts", "--planned", planned.to_str().unwrap()],
        &[],
    );
    assert!(
        err.contains("warning")
            && err.contains("plan.csv, line 2")
            && err.contains("1500-01-01")
            && err.contains("2 series"),
        "{out}{err}"
    );
    // an ordinary short window says nothing
    std::fs::write(
        &planned,
        "force,system,start,end,expected_drop_pct,reason\nKent Police,Custody,2021-04-10,2021-04-12,20,cleanup\n",
    )
    .unwrap();
    let (_, out, err) = nightly(
        d,
        &input,
        &["-q", "--no-charts", "--planned", planned.to_str().unwrap()],
        &[],
    );
    assert!(!err.contains("warning"), "{out}{err}");
}

#[test]
fn override_matching_no_series_warns_under_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = estate(d);
    let cfg = d.join("c.toml");
    std::fs::write(
        &cfg,
        "[[override]]\nmatch = { system = \"Custdy\" }\nset = { min_drop_pct = 50.0 }\n\n\
         [[override]]\nmatch = { system = \"Custody\" }\nset = { min_drop_pct = 3.0 }\n\n\
         [[override]]\nseries = \"Kent Police/Nothing\"\nset = { alpha = 0.01 }\n",
    )
    .unwrap();
    let (code, out, err) = nightly(
        d,
        &input,
        &["-q", "--no-charts", "--config", cfg.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("override #1") && err.contains("Custdy") && err.contains("no series"),
        "{err}"
    );
    assert!(
        err.contains("override #3") && err.contains("Kent Police/Nothing"),
        "{err}"
    );
    assert!(!err.contains("override #2"), "{err}");
}

#[test]
fn configuration_errors_are_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = estate(d);
    let i = input.to_str().unwrap();
    let cfg = d.join("c.toml");
    std::fs::write(&cfg, "[detect]\nmax_drop_samples = 72\n").unwrap();
    let c = cfg.to_str().unwrap();
    let flag = scan_args(d, &["--input", i, "--max-drop-samples", "72"]);
    let file = scan_args(d, &["--input", i, "--config", c]);
    for args in [flag, file] {
        let (code, out, err) = run(&refs(&args), &[]);
        assert_eq!(code, 2, "{out}{err}");
        assert_eq!(err.matches("`max_drop`").count(), 1, "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // an unknown key: one message, with the file, line and key
    std::fs::write(&cfg, "[detect]\nmin_drop_pc = 3\n").unwrap();
    let (code, out, err) = run(&refs(&scan_args(d, &["--input", i, "--config", c])), &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(err.matches("min_drop_pc`").count(), 1, "{err}");
    assert!(err.contains("c.toml") && err.contains("line 2"), "{err}");
}
