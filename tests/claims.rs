//! What the README and the help say the binary does, checked against it:
//! `--max-memory` in proportion to the input (the README's `512M` takes the
//! shipped data), the default input only in `./datasets`, a closed standard
//! output that ends the run quietly with its own exit code, help texts that
//! match the commands, one loss per printed page, and shards merged on a
//! later night giving one scan's report.

mod common;

use common::{bin, data, read_csv};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn shipped() -> PathBuf {
    root().join("datasets/observations.parquet")
}

/// `--max-memory 512M`, the README's own example, accepts the shipped data
/// (about 0.1 GB by the estimate; 45–90 MB measured); the estimate grows
/// with the input: a 4 GB CSV is refused at 1G before it is read.
#[test]
fn the_memory_estimate_is_in_proportion_to_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let o = bin()
        .current_dir(root())
        .args(["-q", "scan", "--no-charts", "--max-memory", "512M", "--out"])
        .arg(dir.path().join("r"))
        .arg("--state")
        .arg(dir.path().join("s.json"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(1),
        "512M refused the shipped data: {err}"
    );
    // the estimate is printed when refused: small for the shipped data
    let o = bin()
        .args(["scan", "--no-charts", "--max-memory", "1M", "--input"])
        .arg(shipped())
        .arg("--out")
        .arg(dir.path().join("tiny"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let mb: u64 = err
        .split("needs about ")
        .nth(1)
        .and_then(|r| r.split(" MB").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no estimate in MB: {err}"));
    assert!(
        (90..=200).contains(&mb),
        "shipped data estimated at {mb} MB"
    );
    // a large CSV is refused before it is read: 4 GB (sparse) whose first
    // 2 MB are rows like the rest, as the estimate samples them
    let big = dir.path().join("big.csv");
    {
        let text = std::fs::read_to_string(data("simple.csv")).unwrap();
        let mut head = String::from("timestamp,force,system,bytes,objects\n");
        for l in text.lines().skip(1).cycle() {
            head.push_str(l);
            head.push('\n');
            if head.len() > 2 << 20 {
                break;
            }
        }
        let f = std::fs::File::create(&big).unwrap();
        std::io::Write::write_all(&mut &f, head.as_bytes()).unwrap();
        f.set_len(4 << 30).unwrap();
    }
    let o = bin()
        .args(["scan", "--no-charts", "--max-memory", "1G", "--input"])
        .arg(&big)
        .arg("--out")
        .arg(dir.path().join("big"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("needs about") && err.contains("more than the limit of 1.0 GB"),
        "{err}"
    );
    assert!(!dir.path().join("big").exists());
}

/// Without `--input`, the input is `./datasets` and nothing else: in a
/// folder without it the run stops with exit 2 naming the path, and writes
/// nothing (it used to scan the build tree's datasets/ from anywhere).
#[test]
fn the_default_input_is_only_the_current_folders_datasets() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in [
        &["scan"][..],
        &["evaluate"],
        &["replay", "--from", "2023-01-01", "--to", "2023-01-02"],
    ] {
        let o = bin().current_dir(dir.path()).args(cmd).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{cmd:?}: {err}");
        assert!(
            err.contains("datasets/observations.parquet") && err.contains("--input"),
            "{cmd:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "a run without its input wrote {left:?}");
}

/// `scan | head -1`: the reader goes away after the first line; the run
/// still publishes (report, state, breach log) and exits 1 for its new
/// losses, with no panic (it used to end in exit 101).
#[test]
fn a_closed_standard_output_ends_the_run_quietly_with_its_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = bin_command()
        .args(["scan", "--no-charts", "--input"])
        .arg(data("simple.csv"))
        .arg("--planned")
        .arg(data("planned_simple.csv"))
        .arg("--out")
        .arg(dir.path().join("reports/tonight"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // close our end at once: every write of the run meets a broken pipe
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.is_empty(), "{err}");
    assert!(dir.path().join("reports/state.json").is_file());
    assert!(dir.path().join("reports/breach-log.csv").is_file());
    assert!(dir.path().join("reports/tonight/manifest.json").is_file());
    // the same through a shell pipe into head
    let sh = format!(
        "{} scan --no-charts --input {} --out {} | head -c 1 >/dev/null; echo \"exit ${{PIPESTATUS[0]}}\"",
        env!("CARGO_BIN_EXE_shrinkwatch"),
        data("simple.csv").display(),
        dir.path().join("reports/two").display()
    );
    let o = Command::new("bash").arg("-c").arg(&sh).output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(out.trim(), "exit 1", "{out}{err}");
    assert!(!err.contains("panicked"), "{err}");
}

fn bin_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_shrinkwatch"))
}

/// The long flags a subcommand's `--help` lists.
fn help_flags(cmd: &str) -> Vec<String> {
    let o = bin().args([cmd, "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout).to_string();
    // the option lines (`  -q, --quiet  …`, `      --out <DIR>  …`), not
    // flags named in the help text of others; -q/-v/-h are global
    let mut flags: Vec<String> = help
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("--"))
        .filter_map(|l| l.split_whitespace().next())
        .map(String::from)
        .collect();
    flags.sort();
    flags.dedup();
    flags
}

/// The README's usage line of `shrinkwatch CMD …` (in "Commands").
fn readme_usage(cmd: &str) -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = format!("- `shrinkwatch {cmd} ");
    let line = readme
        .lines()
        .find(|l| l.starts_with(&start))
        .unwrap_or_else(|| panic!("no usage line for {cmd} in README.md"));
    line.to_string()
}

/// Every flag a command takes is in its README usage line (or, for the
/// input and threshold flags, covered by `[input flags]`), and every flag
/// of the usage line exists.
#[test]
fn readme_usage_lines_match_the_commands_flags() {
    let input: Vec<String> = help_flags("evaluate")
        .into_iter()
        .filter(|f| !["--labels", "--out", "--naive-pct", "--help"].contains(&f.as_str()))
        .collect();
    assert!(input.contains(&"--min-drop-pct".to_string()), "{input:?}");
    for cmd in [
        "scan", "merge", "tune", "replay", "chart", "evaluate", "generate",
    ] {
        let usage = readme_usage(cmd);
        let takes_input = usage.contains("[input flags]");
        for f in help_flags(cmd) {
            if f == "--help" || (takes_input && input.contains(&f)) {
                continue;
            }
            let word = |s: &str| {
                usage.contains(&format!("{s} "))
                    || usage.contains(&format!("{s}]"))
                    || usage.contains(&format!("{s}`"))
            };
            assert!(
                word(&f),
                "`{cmd} --help` has {f}, its README usage line does not: {usage}"
            );
        }
        let helped = help_flags(cmd);
        for w in
            usage.split(|c: char| c.is_whitespace() || c == '[' || c == ']' || c == '`' || c == '|')
        {
            if w.starts_with("--") && w.len() > 2 {
                assert!(
                    helped.contains(&w.to_string()),
                    "README's {cmd} usage has {w}, the command has not"
                );
            }
        }
    }
}

/// `generate --help` gives the size of the default estate, and that is
/// what it makes with the default seed.
#[test]
fn generate_help_states_the_series_it_makes() {
    let o = bin().args(["generate", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout).to_string();
    let said: usize = help
        .split("series with seed 1")
        .next()
        .and_then(|h| h.split_whitespace().last())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no `N series with seed 1` in: {help}"));
    let dir = tempfile::tempdir().unwrap();
    let o = bin()
        .args(["generate", "--format", "csv", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success());
    let mut series: Vec<(String, String)> = read_csv(&dir.path().join("observations.csv"))
        .into_iter()
        .map(|r| (r["force"].clone(), r["system"].clone()))
        .collect();
    series.sort();
    series.dedup();
    assert_eq!(series.len(), said, "generate --help says {said} series");
}

/// The report prints one loss per page: every loss section after the first
/// starts a new page (the first follows the heading that starts one), and
/// the print style breaks there.
#[test]
fn the_html_report_prints_one_loss_per_page() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let o = bin()
        .current_dir(root())
        .args([
            "-q",
            "scan",
            "--no-charts",
            "--as-of",
            "2021-06-30",
            "--out",
        ])
        .arg(&out)
        .arg("--state")
        .arg(dir.path().join("s.json"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let css = html
        .split("<style>")
        .nth(1)
        .unwrap()
        .split("</style>")
        .next()
        .unwrap();
    let print = css.split("@media print{").nth(1).expect("a print style");
    assert!(print.contains(".page-break{break-before:page"), "{print}");
    assert!(print.contains("h2{break-before:page"), "{print}");
    let losses = html
        .split("<h2 id=\"losses\">")
        .nth(1)
        .expect("a losses section");
    let losses = losses.split("<h2 ").next().unwrap();
    let sections: Vec<&str> = losses.split("<h3 ").skip(1).collect();
    assert!(sections.len() >= 3, "{} loss sections", sections.len());
    // before each section but the first: a page break, and nothing else after it
    let parts: Vec<&str> = losses.split("<h3 ").collect();
    for before in parts.iter().skip(1).take(sections.len() - 1) {
        assert!(
            before
                .trim_end()
                .ends_with("<div class=\"page-break\"></div>"),
            "a loss section does not end with a page break before the next: …{}",
            &before[before.len().saturating_sub(200)..]
        );
    }
    assert!(
        !parts[0].contains("page-break"),
        "a blank page before the first loss"
    );
    // Markdown has no trace of it
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(!md.contains("page-break"));
}

/// Shards and `merge` on a later night: shards that read the state merge
/// keeps give one scan's report (findings, sections, charts); shards that
/// do not are named in a warning, since their charts were chosen for
/// another state.
#[test]
fn merged_shards_on_a_later_night_give_one_scans_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let g = bin()
        .args([
            "generate", "--seed", "5", "--series", "14", "--days", "500", "--out",
        ])
        .arg(d.join("data"))
        .output()
        .unwrap();
    assert!(g.status.success());
    let input = d.join("data/observations.parquet");
    let planned = d.join("data/planned.csv");
    let scan = |extra: &[&str], out: PathBuf, state: PathBuf| {
        let o = bin()
            .arg("scan")
            .arg("--input")
            .arg(&input)
            .arg("--planned")
            .arg(&planned)
            .args(["--chart-size", "640x360"])
            .args(extra)
            .arg("--out")
            .arg(out)
            .arg("--state")
            .arg(state)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    };
    let merge = |dirs: Vec<PathBuf>, as_of: &str, out: PathBuf| {
        let o = bin()
            .arg("merge")
            .args(dirs)
            .args(["--as-of", as_of, "--chart-size", "640x360", "--out"])
            .arg(out)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    };
    let nights = ["2022-02-01", "2022-05-15"];
    for (n, as_of) in nights.iter().enumerate() {
        // `--full`: a merge judges the whole history every night (shards
        // leave no checkpoint), so the one scan it is compared with does too
        let (code, err) = scan(
            &["--as-of", as_of, "--full"],
            d.join(format!("one/{n}")),
            d.join("one/state.json"),
        );
        assert_eq!(code, Some(1), "{err}");
        for (who, state) in [
            ("m", d.join("m/state.json")),
            ("blind", d.join("nowhere.json")),
        ] {
            let mut dirs = Vec::new();
            for i in 1..=3 {
                let s = d.join(format!("{who}-shards/{n}/{i}"));
                let (code, err) = scan(
                    &["--as-of", as_of, "--shard", &format!("{i}/3")],
                    s.clone(),
                    state.clone(),
                );
                assert_eq!(code, Some(0), "{err}");
                dirs.push(s);
            }
            let (code, err) = merge(dirs, as_of, d.join(format!("{who}/{n}")));
            assert_eq!(code, Some(1), "{who} night {n}: {err}");
            let warned = err.contains("did not read this merge's state");
            // night 0: nobody has a state yet, all saw the same (none)
            assert_eq!(warned, who == "blind" && n == 1, "{who} night {n}: {err}");
        }
    }
    let read =
        |p: PathBuf| std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let charts = |p: PathBuf| {
        let mut v: Vec<_> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        v.sort();
        v
    };
    // night 1 has news, each with a section and a chart in the one scan
    let one = read(d.join("one/1/report.md"));
    assert!(one.contains("Tonight's losses"), "{one}");
    for f in ["findings.csv", "findings.json", "report.md"] {
        let a = read(d.join("one/1").join(f));
        let b = read(d.join("m/1").join(f));
        assert!(
            a == b,
            "{f}: merged shards that read the state differ from one scan"
        );
    }
    // the same state, but for the one scan's checkpoint (a merge leaves none)
    let state = |p: PathBuf| {
        let mut v: serde_json::Value = serde_json::from_str(&read(p)).unwrap();
        v.as_object_mut().unwrap().remove("checkpoint");
        v
    };
    assert_eq!(
        state(d.join("one/state.json")),
        state(d.join("m/state.json"))
    );
    assert_eq!(
        read(d.join("one/breach-log.csv")),
        read(d.join("m/breach-log.csv"))
    );
    assert_eq!(charts(d.join("one/1/charts")), charts(d.join("m/1/charts")));
    assert!(!charts(d.join("one/1/charts")).is_empty());
    // the blind shards: findings and alerts the same, charts not (hence the warning)
    let blind: Vec<_> = read_csv(&d.join("blind/1/findings.csv"))
        .into_iter()
        .map(|r| {
            (
                r["force"].clone(),
                r["system"].clone(),
                r["kind"].clone(),
                r["start"].clone(),
                r["status"].clone(),
            )
        })
        .collect();
    let single: Vec<_> = read_csv(&d.join("one/1/findings.csv"))
        .into_iter()
        .map(|r| {
            (
                r["force"].clone(),
                r["system"].clone(),
                r["kind"].clone(),
                r["start"].clone(),
                r["status"].clone(),
            )
        })
        .collect();
    assert_eq!(blind, single);
}
