//! The README runs: every ```console block of README.md is executed, in
//! order, against the built binary in one scratch folder holding a copy of
//! `datasets/`, and its output must be what the README shows.
//!
//! A console block is a series of `$ COMMAND` lines (a line ending in `\`
//! continues on the next), each followed by the output it prints (standard
//! output and standard error together). A command must exit 0, unless its
//! line ends with a comment `# exit N`. In the shown output, `…` stands for
//! any text within a line, and a line holding only `…` for any number of
//! lines: that is how times, dates of the run and long elisions are masked.
//! Everything else must match exactly (trailing spaces aside).
//!
//! Other fenced blocks must say what they are (```text, ```toml, ```ini,
//! ```yaml, ```json, ```csv): a block tagged ```sh, ```bash or ```shell, or
//! not tagged at all, fails the test, so no command in the README is
//! silently left unchecked.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Tags of blocks that are not run (configuration, illustrations, commands
/// that need a live server or a scheduler).
const SHOWN_ONLY: &[&str] = &["text", "toml", "ini", "yaml", "json", "csv"];

/// One `$ COMMAND` and the output the README shows for it.
#[derive(Debug)]
struct Step {
    /// README line of the command.
    line: usize,
    command: String,
    exit: i32,
    expected: Vec<String>,
}

/// The console blocks of `text`, each as its steps; an error for a block
/// whose tag does not say whether it runs.
fn console_blocks(text: &str) -> Result<Vec<Vec<Step>>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i].trim_start();
        let Some(tag) = l.strip_prefix("```") else {
            i += 1;
            continue;
        };
        let indent = lines[i].len() - l.len();
        let tag = tag.trim();
        let open = i + 1;
        let mut body = Vec::new();
        i += 1;
        while i < lines.len() && lines[i].trim_start() != "```" {
            body.push(lines[i].get(indent..).unwrap_or(lines[i].trim_start()));
            i += 1;
        }
        i += 1;
        match tag {
            "console" => blocks.push(steps(&body, open)?),
            t if SHOWN_ONLY.contains(&t) => {}
            t => {
                return Err(format!(
                    "README.md line {open}: a block tagged `{t}`: tag commands to run ```console, anything else ```text (or toml, ini, yaml, json, csv)"
                ))
            }
        }
    }
    Ok(blocks)
}

fn steps(body: &[&str], open: usize) -> Result<Vec<Step>, String> {
    let mut out: Vec<Step> = Vec::new();
    let mut k = 0;
    while k < body.len() {
        if let Some(cmd) = body[k].strip_prefix("$ ") {
            let line = open + k + 1;
            let mut command = cmd.to_string();
            while command.ends_with('\\') && k + 1 < body.len() {
                command.pop();
                k += 1;
                command.push_str(body[k].trim_start());
            }
            let exit = command
                .rsplit_once("# exit ")
                .and_then(|(_, n)| n.trim().parse().ok())
                .unwrap_or(0);
            out.push(Step {
                line,
                command,
                exit,
                expected: Vec::new(),
            });
        } else if let Some(step) = out.last_mut() {
            step.expected.push(body[k].trim_end().to_string());
        } else {
            return Err(format!(
                "README.md line {}: a console block must start with `$ COMMAND`",
                open + k + 1
            ));
        }
        k += 1;
    }
    Ok(out)
}

/// Whether `line` matches `pattern`, where `…` stands for any text.
fn line_matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split('…').collect();
    if parts.len() == 1 {
        return pattern == line;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || line.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &line[first.len()..];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(p) => rest = &rest[p + mid.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// Whether the output lines match the shown lines (a line of only `…`
/// stands for any number of lines).
fn output_matches(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((e, rest)) if e.trim() == "…" => {
            (0..=actual.len()).any(|skip| output_matches(rest, &actual[skip..]))
        }
        Some((e, rest)) => match actual.split_first() {
            Some((a, more)) => line_matches(e, a.trim_end()) && output_matches(rest, more),
            None => false,
        },
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// Runs every step of the README's console blocks; returns the failures.
fn run_readme(readme: &str) -> Result<usize, String> {
    let blocks = console_blocks(readme)?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir().unwrap();
    copy_dir(&root.join("datasets"), &work.path().join("datasets"));
    let bin_dir: PathBuf = Path::new(env!("CARGO_BIN_EXE_shrinkwatch"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut failures = Vec::new();
    let mut ran = 0;
    for step in blocks.iter().flatten() {
        let o = Command::new("sh")
            .arg("-c")
            .arg(format!("exec 2>&1\n{}", step.command))
            .current_dir(work.path())
            .env("PATH", &path)
            .env("TZ", "UTC")
            .env("LC_ALL", "C")
            .env_remove("SHRINKWATCH_FAILPOINT")
            .env_remove("SHRINKWATCH_PROMETHEUS_TOKEN")
            .output()
            .unwrap();
        ran += 1;
        let text = String::from_utf8_lossy(&o.stdout);
        let actual: Vec<&str> = text.lines().collect();
        let code = o.status.code().unwrap_or(-1);
        if code != step.exit || !output_matches(&step.expected, &actual) {
            failures.push(format!(
                "README.md line {}: `{}`\n  exit {code} (README: {})\n  README shows:\n{}\n  it printed:\n{}",
                step.line,
                step.command,
                step.exit,
                step.expected
                    .iter()
                    .map(|l| format!("    | {l}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
                actual
                    .iter()
                    .map(|l| format!("    | {l}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ));
        }
    }
    if failures.is_empty() {
        Ok(ran)
    } else {
        Err(failures.join("\n\n"))
    }
}

#[test]
fn every_command_in_the_readme_prints_what_the_readme_shows() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    match run_readme(&readme) {
        Ok(ran) => assert!(
            ran >= 5,
            "only {ran} README commands found: is the parser broken?"
        ),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn the_matcher_masks_only_what_it_is_told_to() {
    let e = |s: &[&str]| s.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    assert!(output_matches(&e(&["a … c"]), &["a b c"]));
    assert!(output_matches(&e(&["a … c"]), &["a  c"]));
    assert!(!output_matches(&e(&["a … c"]), &["a b d"]));
    assert!(!output_matches(&e(&["x"]), &["y"]));
    assert!(output_matches(&e(&["x", "…", "z"]), &["x", "1", "2", "z"]));
    assert!(output_matches(&e(&["x", "…", "z"]), &["x", "z"]));
    assert!(!output_matches(&e(&["x", "…", "z"]), &["x", "1"]));
    assert!(!output_matches(&e(&["x"]), &["x", "more"]));
    assert!(!output_matches(&e(&["x", "y"]), &["x"]));
}

#[test]
fn a_command_block_that_is_not_a_console_block_is_refused() {
    for tag in ["", "sh", "bash", "shell"] {
        let md = format!("text\n\n```{tag}\nshrinkwatch scan\n```\n");
        assert!(console_blocks(&md).is_err(), "`{tag}` accepted");
    }
    let md = "```text\ncron line\n```\n\n```console\n$ echo a \\\n  b   # exit 0\na b\n```\n";
    let blocks = console_blocks(md).unwrap();
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0][0].command, "echo a b   # exit 0");
    assert_eq!(blocks[0][0].expected, vec!["a b"]);
}
