//! Hostile or odd names from the data (issue 11, items 12–15): spreadsheet
//! formulas in CSV cells, Markdown/HTML injection in the report, terminal
//! escape sequences, and names that collide, are too long or have no Latin
//! letters when they become chart file names and anchors. Every test runs
//! the real binary on generated files in a temporary folder.

mod common;

use common::{csv_field, data, nightly, read_csv, run, write_series, Spec};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Day (0-based from 2021-01-01) of the generated losses: 2021-04-11.
const LOSS_DAY: usize = 100;
const DAYS: usize = 120;

fn loss(key: [&str; 2]) -> Spec<'_> {
    Spec {
        key,
        loss: Some((LOSS_DAY, 0.2)),
    }
}

fn tonight(dir: &Path) -> std::path::PathBuf {
    dir.join("reports/tonight")
}

/// `(force, system)` of a findings.csv / breach-log.csv row, with the `'`
/// a spreadsheet-safe cell may carry taken off.
fn key_of(row: &HashMap<String, String>) -> (String, String) {
    let un = |s: &str| s.strip_prefix('\'').unwrap_or(s).to_string();
    (un(&row["force"]), un(&row["system"]))
}

// ---- 12: spreadsheet formulas ----------------------------------------------

const FORMULA_FORCE: &str = "=HYPERLINK(\"http://x\",\"y\")";
const FORMULA_SYSTEM: &str = "@SUM(A1)";
const DDE_REASON: &str = "-2+3+cmd|' /C calc'!A0";

#[test]
fn csv_cells_from_the_data_cannot_be_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_series(
        dir.path(),
        "in.csv",
        &[loss([FORMULA_FORCE, FORMULA_SYSTEM])],
        DAYS,
    );
    // a rejected row whose value is a formula
    let mut text = std::fs::read_to_string(&input).unwrap();
    text.push_str(&format!(
        "2021-02-01,{},{},=2+5,1\n",
        csv_field(FORMULA_FORCE),
        csv_field(FORMULA_SYSTEM)
    ));
    std::fs::write(&input, text).unwrap();
    // a planned window around the loss, expecting none, with a DDE reason
    let planned = dir.path().join("planned.csv");
    std::fs::write(
        &planned,
        format!(
            "force,system,start,end,expected_drop_pct,reason\n{},{},2021-04-09,2021-04-13,0,{}\n",
            csv_field(FORMULA_FORCE),
            csv_field(FORMULA_SYSTEM),
            csv_field(DDE_REASON)
        ),
    )
    .unwrap();
    let (code, stdout, stderr) = nightly(
        dir.path(),
        &input,
        &["--planned", planned.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    let out = tonight(dir.path());

    let findings = read_csv(&out.join("findings.csv"));
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f["force"], format!("'{FORMULA_FORCE}"));
    assert_eq!(f["system"], format!("'{FORMULA_SYSTEM}"));
    assert_eq!(f["planned_reason"], format!("'{DDE_REASON}"));
    // numbers stay numbers, byte for byte as in findings.json
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("findings.json")).unwrap()).unwrap();
    let j = &json[0];
    for col in [
        "drop_bytes",
        "before_bytes",
        "after_bytes",
        "drop_pct",
        "z_score",
        "p_value",
    ] {
        assert_eq!(f[col], j[col].to_string(), "{col}");
        assert!(!f[col].starts_with('\''), "{col}: {}", f[col]);
    }
    assert!(
        f["z_score"].starts_with('-'),
        "a negative number: {}",
        f["z_score"]
    );
    assert_eq!(j["force"], FORMULA_FORCE, "JSON keeps the name as it is");

    let log = read_csv(&dir.path().join("reports/breach-log.csv"));
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["force"], format!("'{FORMULA_FORCE}"));
    assert_eq!(log[0]["system"], format!("'{FORMULA_SYSTEM}"));
    for (k, v) in &log[0] {
        assert!(
            v.parse::<f64>().is_ok() || !v.starts_with(['=', '+', '-', '@']),
            "breach log {k}: {v}"
        );
    }

    let rejected = read_csv(&out.join("rejected.csv"));
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0]["value"], "'=2+5");
    assert_eq!(rejected[0]["line"], "122", "line numbers stay numbers");
}

#[test]
fn explain_all_csv_cells_cannot_be_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_series(
        dir.path(),
        "in.csv",
        &[loss([FORMULA_FORCE, FORMULA_SYSTEM])],
        DAYS,
    );
    let csv = dir.path().join("explain.csv");
    let (code, stdout, stderr) = run(
        &[
            "scan",
            "--input",
            input.to_str().unwrap(),
            "--explain-all",
            csv.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let rows = read_csv(&csv);
    assert!(!rows.is_empty());
    for r in &rows {
        assert_eq!(r["series"], format!("'{FORMULA_FORCE}/{FORMULA_SYSTEM}"));
    }
}

// ---- 13: Markdown and HTML injection ----------------------------------------

const HOSTILE: [&str; 4] = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "A\n# Injected heading",
];

#[test]
fn report_renders_hostile_names_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let specs: Vec<Spec> = HOSTILE
        .iter()
        .map(|n| loss([n, "Custody *bold* _em_ `code` ~~x~~ | \\"]))
        .collect();
    let input = write_series(dir.path(), "in.csv", &specs, DAYS);
    let planned = dir.path().join("planned.csv");
    std::fs::write(
        &planned,
        format!(
            "force,system,start,end,expected_drop_pct,reason\n{},*,2021-04-09,2021-04-13,0,{}\n",
            csv_field(HOSTILE[0]),
            csv_field("<script>alert(2)</script> [y](javascript:alert(2))\n## Injected too")
        ),
    )
    .unwrap();
    let (code, stdout, stderr) = nightly(
        dir.path(),
        &input,
        &["--planned", planned.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    let out = tonight(dir.path());
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    for bad in ["<script", "<img", "](javascript:", "<a href"] {
        assert!(!md.contains(bad), "report.md contains {bad:?}:\n{md}");
    }
    for line in md.lines() {
        assert!(
            !line.starts_with("# Injected") && !line.starts_with("## Injected"),
            "injected heading: {line:?}"
        );
    }
    // every name is still there, as escaped text
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{md}");
    assert!(md.contains("\\[x\\]\\(javascript:alert(1))"), "{md}");
    assert!(md.contains("\\*bold\\*"), "{md}");
    // every link target is one the tool made: an anchor or a chart path
    for (i, _) in md.match_indices("](") {
        let target: String = md[i + 2..].chars().take_while(|&c| c != ')').collect();
        assert!(
            target.starts_with('#')
                || (target.starts_with("charts/") || target == "overview.png")
                    && target
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-./#".contains(c)),
            "link target {target:?}"
        );
    }

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for bad in ["<script", "<img src=x", "href=\"javascript", "<h1>Injected"] {
        assert!(!html.contains(bad), "report.html contains {bad:?}");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

// ---- 14: terminal escape sequences ------------------------------------------

const OSC_FORCE: &str = "Evil\x1b]0;pwned\x07 Force";
const CSI_SYSTEM: &str = "Red\x1b[31m System";

fn assert_no_esc(what: &str, (code, stdout, stderr): &(i32, String, String)) {
    for (name, s) in [("stdout", stdout), ("stderr", stderr)] {
        assert!(
            !s.contains('\x1b') && !s.contains('\x07'),
            "{what}: ESC/BEL on {name} (exit {code}): {s:?}"
        );
    }
}

fn osc_input(dir: &Path) -> std::path::PathBuf {
    write_series(dir, "in.csv", &[loss([OSC_FORCE, CSI_SYSTEM])], DAYS)
}

#[test]
fn terminal_never_sees_escape_sequences_from_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let input = osc_input(dir.path());
    let r = nightly(dir.path(), &input, &[], &[]);
    assert_eq!(r.0, 1, "{r:?}");
    assert!(r.1.contains("NEW LOSS"), "{r:?}");
    assert_no_esc("scan", &r);

    let name = format!("{OSC_FORCE}/{CSI_SYSTEM}");
    let chart = dir.path().join("c.png");
    let r = run(
        &[
            "chart",
            "--input",
            input.to_str().unwrap(),
            "--series",
            &name,
            "--out",
            chart.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(r.0, 0, "{r:?}");
    assert_no_esc("chart", &r);
    // an error that names the series of the input
    let r = run(
        &[
            "chart",
            "--input",
            input.to_str().unwrap(),
            "--series",
            "no such\x1b[2J series",
        ],
        &[],
    );
    assert_eq!(r.0, 2, "{r:?}");
    assert!(r.2.contains("no series"), "{r:?}");
    assert_no_esc("chart error", &r);
}

#[test]
fn explain_never_echoes_escape_sequences() {
    let dir = tempfile::tempdir().unwrap();
    let input = osc_input(dir.path());
    let name = format!("{OSC_FORCE}/{CSI_SYSTEM}");
    let r = run(
        &[
            "scan",
            "--input",
            input.to_str().unwrap(),
            "--explain",
            &name,
        ],
        &[],
    );
    assert_eq!(r.0, 0, "{r:?}");
    assert_no_esc("scan --explain", &r);
    let r = run(
        &[
            "scan",
            "--input",
            input.to_str().unwrap(),
            "--explain",
            "no such\x1b[2J series",
        ],
        &[],
    );
    assert_eq!(r.0, 2, "{r:?}");
    assert_no_esc("scan --explain error", &r);
}

// ---- 15: chart file names and anchors ---------------------------------------

/// Scans `specs` (each with a loss) and checks, for every finding: its chart
/// exists, is its own (no two findings share one), its file name is short
/// and ASCII-safe, and its report sections (Markdown and HTML) show that chart.
/// Returns the chart paths by key.
fn scan_and_check_charts(specs: &[Spec]) -> HashMap<(String, String), String> {
    let dir = tempfile::tempdir().unwrap();
    let input = write_series(dir.path(), "in.csv", specs, DAYS);
    let (code, stdout, stderr) = nightly(dir.path(), &input, &[], &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let out = tonight(dir.path());
    let findings = read_csv(&out.join("findings.csv"));
    assert_eq!(findings.len(), specs.len(), "{findings:?}");
    let mut charts = HashMap::new();
    for f in &findings {
        let chart = f["chart"].clone();
        let file = chart.strip_prefix("charts/").expect("in charts/");
        assert!(file.len() <= 100, "long file name {file}");
        assert!(
            file.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-.".contains(c)),
            "{file}"
        );
        assert!(!file.starts_with('-'), "{file}");
        assert!(out.join(&chart).is_file(), "{chart} missing");
        assert!(
            charts.insert(key_of(f), chart.clone()).is_none(),
            "duplicate key"
        );
    }
    let distinct: HashSet<&String> = charts.values().collect();
    assert_eq!(distinct.len(), charts.len(), "shared charts: {charts:?}");

    // each loss section of report.md shows its own series' chart
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let sections: Vec<&str> = md.split("\n### Loss ").skip(1).collect();
    assert_eq!(sections.len(), specs.len());
    let images: Vec<String> = sections
        .iter()
        .map(|s| {
            let i = s.find("\n![").expect("an image");
            let line = s[i + 1..].lines().next().unwrap();
            line[line.rfind("](").unwrap() + 2..line.len() - 1].to_string()
        })
        .collect();
    let mut want: Vec<&String> = charts.values().collect();
    want.sort();
    let mut got: Vec<&String> = images.iter().collect();
    got.sort();
    assert_eq!(got, want, "sections' images");
    // the sections' anchors are unique
    let ids: Vec<&str> = md
        .match_indices("<a id=\"")
        .map(|(i, _)| {
            let rest = &md[i + 7..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    let unique: HashSet<&&str> = ids.iter().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "duplicate Markdown anchors {ids:?}"
    );

    // HTML: ids unique, and each section's figure is its own chart
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let ids: Vec<&str> = html
        .match_indices(" id=\"")
        .map(|(i, _)| {
            let rest = &html[i + 5..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    let unique: HashSet<&&str> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate HTML ids {ids:?}");
    let figures: HashSet<&str> = html
        .match_indices("src=\"data:image/png;base64,")
        .map(|(i, _)| {
            let rest = &html[i..];
            &rest[..rest.find("\">").unwrap()]
        })
        .collect();
    // the overview plus one distinct picture per loss
    assert_eq!(figures.len(), specs.len() + 1, "sections share a picture");
    charts
}

#[test]
fn names_that_slug_alike_get_their_own_charts() {
    // all three were `charts/a-b-c-2021-04-11.png`
    scan_and_check_charts(&[loss(["A/B", "C"]), loss(["A", "B/C"]), loss(["A-B", "C"])]);
}

#[test]
fn names_that_differ_in_case_or_spacing_get_their_own_charts() {
    scan_and_check_charts(&[
        loss(["Kent Police", "Custody"]),
        loss(["kent police", "Custody"]),
        loss(["Kent-Police", "Custody"]),
        loss(["Kent", "Police Custody"]),
    ]);
}

#[test]
fn non_latin_names_get_their_own_charts() {
    // all were `charts/-2021-04-11.png` or `charts/heddlu-dyfed-powys-2021-04-11.png`
    scan_and_check_charts(&[
        loss(["Heddlu Dyfed-Powys/警察", "カメラ"]),
        loss(["Heddlu Dyfed-Powys/警察", "記録"]),
        loss(["Полиция", "Архив"]),
        loss(["الشرطة", "أرشيف"]),
        loss(["警察", "記録"]),
    ]);
}

#[test]
fn a_very_long_name_does_not_stop_the_run() {
    let long = "Constabulary of a Very Long Name ".repeat(8);
    let long = long.trim_end();
    assert!(long.len() >= 240);
    let charts = scan_and_check_charts(&[loss([long, "Custody"]), loss(["Kent Police", "ANPR"])]);
    assert_eq!(
        charts[&("Kent Police".to_string(), "ANPR".to_string())],
        "charts/kent-police-anpr-2021-04-11.png",
        "ordinary names keep their chart names"
    );
}

#[test]
fn ordinary_names_keep_their_chart_names_and_anchors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (code, stdout, stderr) = run(
        &[
            "scan",
            "--input",
            data("simple.csv").to_str().unwrap(),
            "--planned",
            data("planned_simple.csv").to_str().unwrap(),
            "--as-of",
            "2023-05-31",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    let charts: HashSet<String> = read_csv(&out.join("findings.csv"))
        .into_iter()
        .map(|f| f["chart"].clone())
        .collect();
    let want: HashSet<String> = [
        "charts/kent-police-body-worn-video-2023-04-22.png",
        "charts/kent-police-custody-2023-04-07.png",
        "charts/kent-police-custody-2023-05-12.png",
    ]
    .map(String::from)
    .into();
    assert_eq!(charts, want);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("<a id=\"kent-police-body-worn-video-loss-2023-04-22\"></a>"));
}
