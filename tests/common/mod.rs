//! Helpers shared by the integration test files: the real binary, fixture
//! paths, CSV reading and small generated series.
#![allow(dead_code)]

use assert_cmd::Command;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The release or debug `shrinkwatch` binary cargo built for the tests.
pub fn bin() -> Command {
    Command::cargo_bin("shrinkwatch").expect("binary built")
}

/// A file in `tests/data/`.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Reads a CSV file into header-keyed rows.
pub fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
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

/// Exit code, standard output and standard error of a finished command.
pub type Run = (i32, String, String);

/// Runs the binary with `args` (and optional environment variables).
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut c = bin();
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

/// One series for [`write_series`]: key values, then the day (0-based) of a
/// loss and its size as a fraction (0.2 = 20 %), if any.
pub struct Spec<'a> {
    /// Key values (force, system).
    pub key: [&'a str; 2],
    /// Day of the loss and its fraction.
    pub loss: Option<(usize, f64)>,
}

/// `mk`: `days` daily samples from 2021-01-01 per series, growing slowly
/// with a little deterministic jitter; a loss is a lasting step down.
/// Returns the CSV text (header `timestamp,force,system,bytes,objects`).
pub fn series_csv(specs: &[Spec], days: usize) -> String {
    let mut out = String::from("timestamp,force,system,bytes,objects\n");
    let start = chrono::NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
    for (si, s) in specs.iter().enumerate() {
        let mut level = 1.0e12 * (1.0 + si as f64 * 0.37);
        for d in 0..days {
            // growth 0.1 % a day with ±0.05 % jitter (a fixed pattern)
            let jitter = (((d * 7919 + si * 104_729) % 11) as f64 - 5.0) * 1e-4;
            level *= 1.001 + jitter;
            let mut v = level;
            if let Some((day, frac)) = s.loss {
                if d >= day {
                    v *= 1.0 - frac;
                }
            }
            let date = start + chrono::Duration::days(d as i64);
            out.push_str(&format!(
                "{},{},{},{:.0},{:.0}\n",
                date.format("%Y-%m-%d"),
                csv_field(s.key[0]),
                csv_field(s.key[1]),
                v,
                v / 1.0e6
            ));
        }
    }
    out
}

/// Quotes a CSV field when it needs it.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes [`series_csv`] to `dir/name` and returns the path.
pub fn write_series(dir: &Path, name: &str, specs: &[Spec], days: usize) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, series_csv(specs, days)).unwrap();
    p
}

/// `scan` of `input` with reports, state and breach log under `dir`
/// (`dir/reports/tonight`, `dir/reports/state.json`, `dir/reports/breach-log.csv`).
pub fn nightly(dir: &Path, input: &Path, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let out = dir.join("reports/tonight");
    let mut args = vec![
        "scan".to_string(),
        "--input".into(),
        input.display().to_string(),
        "--out".into(),
        out.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&refs, env)
}

/// Runs `scan` into `out`, with a state file of its own (so runs in one test
/// do not see each other's findings as known).
pub fn scan(args: &[&str], out: &Path) -> (i32, String, String) {
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

pub fn simple_scan(out: &Path, planned: &str) -> Vec<std::collections::HashMap<String, String>> {
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
