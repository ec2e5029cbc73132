//! The morning report leads with tonight's news: the order new → changed →
//! open → history, the status column, the small quiet-night report,
//! summary.txt on a night with a new loss and on a quiet night, a decision
//! filled in the breach log, `--notify-cmd`, and reproducible `--as-of`
//! reports.

mod common;

use common::{nightly, write_series, Run, Spec};
use std::path::{Path, PathBuf};

const DAYS: usize = 120;

fn spec<'a>(force: &'a str, system: &'a str, loss: Option<(usize, f64)>) -> Spec<'a> {
    Spec {
        key: [force, system],
        loss,
    }
}

/// Night 1: Kent's loss (day 90). Night 2 adds Essex's loss (day 110).
fn nights(dir: &Path) -> (PathBuf, PathBuf) {
    let one = write_series(
        dir,
        "one.csv",
        &[
            spec("Kent Police", "Custody", Some((90, 0.2))),
            spec("Essex Police", "Records", None),
        ],
        DAYS,
    );
    let two = write_series(
        dir,
        "two.csv",
        &[
            spec("Kent Police", "Custody", Some((90, 0.2))),
            spec("Essex Police", "Records", Some((110, 0.3))),
        ],
        DAYS,
    );
    (one, two)
}

fn report(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join("reports/tonight").join(name)).unwrap()
}

fn pos(text: &str, needle: &str) -> usize {
    text.find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in:\n{text}"))
}

fn run_night(dir: &Path, input: &Path, extra: &[&str]) -> Run {
    nightly(dir, input, extra, &[])
}

#[test]
fn news_first_then_open_losses_then_history_with_status_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (one, two) = nights(d);
    // a first run is a history report and says so
    assert_eq!(run_night(d, &one, &[]).0, 1);
    let md = report(d, "report.md");
    assert!(
        md.contains("First run (no earlier state): this is a history report"),
        "{md}"
    );
    // night 2: Essex is new, Kent is an open loss
    let (code, out, err) = run_night(d, &two, &[]);
    assert_eq!(code, 1, "{out}{err}");
    let md = report(d, "report.md");
    let first_line = md.lines().nth(2).unwrap();
    assert!(
        first_line.starts_with("1 new loss tonight: Essex Police — Records"),
        "{first_line}"
    );
    let tonight = pos(&md, "## Tonight: new and changed findings");
    let section = pos(&md, "### Loss 1 of 1: Essex Police — Records");
    let open = pos(&md, "## Open losses awaiting a decision");
    let history = pos(&md, "## History");
    assert!(
        tonight < section && section < open && open < history,
        "order"
    );
    // the first finding a reader meets is the new loss
    assert!(pos(&md, "Essex Police") < md.find("Kent Police").unwrap());
    // Kent is listed as open, with status, not as news
    let open_part = &md[open..history];
    assert!(
        open_part.contains("| known | critical | Kent Police | Custody |"),
        "{open_part}"
    );
    assert!(!md[tonight..open].contains("Kent Police"));
    // every table has a status column
    for table in md
        .split("\n\n")
        .filter(|b| b.starts_with("| ") && b.contains("|---"))
    {
        let header = table.lines().next().unwrap();
        if header.contains("question") || header.starts_with("| | |") {
            continue; // the referral form and the run's facts
        }
        assert!(header.contains("| status |"), "{header}");
    }
    // the HTML says the same in the same order
    let html = report(d, "report.html");
    assert!(html.find("Essex Police").unwrap() < html.find("Kent Police").unwrap());
}

#[test]
fn a_changed_finding_is_news_with_status_updated() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // night 1: a drop on the last day; night 2: it came back (a transient)
    let text = common::series_csv(&[spec("Kent Police", "Custody", None)], DAYS);
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    // a 50 % drop on day 100 only
    let mut c: Vec<String> = lines[101].split(',').map(String::from).collect();
    for v in c.iter_mut().skip(3) {
        *v = format!("{:.0}", v.parse::<f64>().unwrap() * 0.5);
    }
    lines[101] = c.join(",");
    let one = d.join("one.csv");
    std::fs::write(&one, lines[..102].join("\n") + "\n").unwrap();
    let two = d.join("two.csv");
    std::fs::write(&two, lines[..106].join("\n") + "\n").unwrap();
    assert_eq!(run_night(d, &one, &[]).0, 1);
    let (code, out, _) = run_night(d, &two, &[]);
    assert_eq!(code, 0, "{out}");
    let md = report(d, "report.md");
    assert!(
        md.contains("No new loss tonight; 1 finding changed"),
        "{md}"
    );
    let tonight = pos(&md, "## Tonight: new and changed findings");
    assert!(
        md[tonight..].contains("| updated | low | transient | Kent Police | Custody |"),
        "{md}"
    );
    let summary = report(d, "summary.txt");
    assert!(
        summary.contains("CHANGED  Kent Police / Custody"),
        "{summary}"
    );
}

#[test]
fn a_quiet_night_writes_a_small_report_without_charts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (_, two) = nights(d);
    assert_eq!(run_night(d, &two, &[]).0, 1);
    let busy = std::fs::metadata(d.join("reports/tonight/report.html"))
        .unwrap()
        .len();
    let (code, out, _) = run_night(d, &two, &[]);
    assert_eq!(code, 0, "{out}");
    let md = report(d, "report.md");
    assert_eq!(
        md.lines().nth(2).unwrap(),
        "Nothing new tonight. 2 earlier losses still await a decision in the breach log."
    );
    assert!(
        !md.contains("### Loss"),
        "no referral section on a quiet night"
    );
    let folder = d.join("reports/tonight");
    assert!(!folder.join("overview.png").exists());
    let charts = std::fs::read_dir(folder.join("charts")).map_or(0, |r| r.count());
    assert_eq!(charts, 0, "no chart redrawn for known findings");
    let quiet = std::fs::metadata(folder.join("report.html")).unwrap().len();
    assert!(quiet < 100_000 && quiet * 10 < busy, "{quiet} vs {busy}");
}

#[test]
fn summary_txt_for_a_new_loss_and_for_a_quiet_night() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (one, two) = nights(d);
    assert_eq!(run_night(d, &one, &[]).0, 1);
    assert_eq!(run_night(d, &two, &[]).0, 1);
    let s = report(d, "summary.txt");
    for line in s.lines() {
        assert!(line.chars().count() <= 80, "too wide: {line}");
    }
    assert!(s.contains("1 new loss tonight."), "{s}");
    assert!(s.contains("NEW LOSS  Essex Police / Records\n"), "{s}");
    assert!(s.contains(", from 21 Apr 2021\n"), "{s}");
    assert!(s.contains("  Tell the ICO by "), "{s}");
    assert!(
        s.contains("Losses awaiting a decision in the breach log: 1\n"),
        "{s}"
    );
    assert!(
        s.contains("Report: ") && s.contains("tonight/report.html"),
        "{s}"
    );
    assert_eq!(run_night(d, &two, &[]).0, 0);
    let s = report(d, "summary.txt");
    assert!(s.contains("Nothing new tonight."), "{s}");
    assert!(!s.contains("NEW LOSS"), "{s}");
    assert!(
        s.contains("Losses awaiting a decision in the breach log: 2\n"),
        "{s}"
    );
}

#[test]
fn a_decision_in_the_breach_log_shows_in_the_next_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (one, two) = nights(d);
    assert_eq!(run_night(d, &one, &[]).0, 1);
    // the DPO decides Kent's loss
    let log = d.join("reports/breach-log.csv");
    let text = std::fs::read_to_string(&log).unwrap();
    let row = text.lines().nth(1).unwrap();
    assert!(
        row.contains("Kent Police") && row.ends_with(",,,,,"),
        "{row}"
    );
    let decided = format!(
        "{},not reportable,restored from backup,J. Smith DPO,,",
        &row[..row.len() - 5]
    );
    std::fs::write(&log, text.replace(row, &decided)).unwrap();
    assert_eq!(run_night(d, &two, &[]).0, 1);
    let md = report(d, "report.md");
    let open = pos(&md, "## Open losses awaiting a decision");
    let history = pos(&md, "## History");
    assert!(
        !md[open..history].contains("Kent Police"),
        "decided is not open"
    );
    assert!(
        md[history..].contains("| known | loss | Kent Police | Custody |")
            && md[history..].contains("not reportable (J. Smith DPO)"),
        "{}",
        &md[history..]
    );
    let s = report(d, "summary.txt");
    assert!(
        s.contains("Losses awaiting a decision in the breach log: 0\n"),
        "{s}"
    );
}

#[test]
fn notify_cmd_gets_the_summary_when_there_is_news_and_a_failure_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (one, two) = nights(d);
    let got = d.join("mail.txt");
    let cmd = format!("cat > '{}'", got.display());
    assert_eq!(run_night(d, &one, &["--notify-cmd", &cmd]).0, 1);
    let body = std::fs::read_to_string(&got).unwrap();
    assert_eq!(body, report(d, "summary.txt"));
    // a quiet night notifies nobody
    std::fs::remove_file(&got).unwrap();
    assert_eq!(run_night(d, &one, &["--notify-cmd", &cmd]).0, 0);
    assert!(!got.exists());
    // a failed notification: exit 2, and the next run notifies again
    let (code, out, err) = run_night(d, &two, &["--notify-cmd", "exit 3"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("--notify-cmd `exit 3` failed"), "{err}");
    let (code, out, _) = run_night(d, &two, &["--notify-cmd", &cmd]);
    assert_eq!(code, 1, "{out}");
    assert!(std::fs::read_to_string(&got)
        .unwrap()
        .contains("NEW LOSS  Essex Police / Records"));
}

#[test]
fn as_of_reports_are_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (_, two) = nights(d);
    let mut reports = Vec::new();
    for n in 0..2 {
        let sub = d.join(format!("run{n}"));
        std::fs::create_dir_all(&sub).unwrap();
        assert_eq!(run_night(&sub, &two, &["--as-of", "2021-04-15"]).0, 1);
        assert_eq!(run_night(&sub, &two, &["--as-of", "2021-04-30"]).0, 1);
        // the same text but for where the report is
        let summary: String = report(&sub, "summary.txt")
            .lines()
            .filter(|l| !l.starts_with("Report: "))
            .collect();
        reports.push((report(&sub, "report.md"), summary));
    }
    assert_eq!(reports[0], reports[1]);
}

#[test]
fn a_later_night_with_news_draws_its_charts_and_overview_and_a_quiet_one_draws_none() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let specs = [
        spec("Kent Police", "Custody", Some((100, 0.2))),
        spec("Kent Police", "Records", Some((50, 0.3))),
    ];
    // night 1 (first run): an earlier loss, before tonight's
    let n1 = write_series(d, "n1.csv", &specs, 95);
    let (code, out, err) = nightly(d, &n1, &[], &[]);
    assert_eq!(code, 1, "{out}{err}");
    // night 2: a new loss, charted
    let n2 = write_series(d, "n2.csv", &specs, 120);
    let (code, out, err) = nightly(d, &n2, &[], &[]);
    assert_eq!(code, 1, "{out}{err}");
    let tonight = d.join("reports/tonight");
    let rows = common::read_csv(&tonight.join("findings.csv"));
    let loss = rows
        .iter()
        .find(|r| r["kind"] == "loss" && r["system"] == "Custody")
        .expect("the loss");
    assert_eq!(loss["status"], "new");
    assert!(!loss["chart"].is_empty(), "{rows:?}");
    assert!(tonight.join(&loss["chart"]).is_file(), "{}", loss["chart"]);
    assert!(
        tonight.join("overview.png").is_file(),
        "the overview of tonight's news"
    );
    // night 3: the same data, nothing new, nothing drawn
    let (code, out, err) = nightly(d, &n2, &[], &[]);
    assert_eq!(code, 0, "{out}{err}");
    let charts = std::fs::read_dir(tonight.join("charts"))
        .map(|r| r.count())
        .unwrap_or(0);
    assert_eq!(charts, 0, "a quiet night draws nothing");
    assert!(!tonight.join("overview.png").exists(), "no overview either");
}

/// The widest span, first to last pixel in one row, of the pixels of `rgb`
/// (±2 per channel) in a PNG: the length of the longest bar drawn in that
/// colour (a faded bar lets the grid lines through, so it has gaps).
fn widest_span(png_path: &Path, rgb: [u8; 3]) -> usize {
    let mut r = png::Decoder::new(std::fs::File::open(png_path).unwrap())
        .read_info()
        .unwrap();
    let mut buf = vec![0; r.output_buffer_size()];
    let info = r.next_frame(&mut buf).unwrap();
    let px = info.line_size / info.width as usize;
    let close = |p: &[u8]| (0..3).all(|c| p[c].abs_diff(rgb[c]) <= 2);
    buf[..info.buffer_size()]
        .chunks(info.line_size)
        .map(|row| {
            let mut hits = row.chunks(px).enumerate().filter(|(_, p)| close(p));
            match (hits.next(), hits.next_back()) {
                (Some((a, _)), Some((b, _))) => b - a + 1,
                (Some(_), None) => 1,
                _ => 0,
            }
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn the_overview_marks_tonights_findings_and_fades_the_earlier_ones() {
    // the overview draws tonight's findings in full colour and earlier ones
    // faded (35 % on white) as context; a first run has no "tonight"
    const LOSS: [u8; 3] = [213, 94, 0];
    let fade = |c: u8| (f64::from(c) * 0.35 + 255.0 * 0.65).round() as u8;
    let faded = LOSS.map(fade);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Records' loss (30 % of the bigger store) is the larger one; Custody's
    // (20 %) is tonight's news on night 2
    let specs = [
        spec("Kent Police", "Custody", Some((100, 0.2))),
        spec("Kent Police", "Records", Some((50, 0.3))),
    ];
    let tonight = d.join("reports/tonight");
    let overview = tonight.join("overview.png");
    let n1 = write_series(d, "n1.csv", &specs, 95);
    assert_eq!(nightly(d, &n1, &[], &[]).0, 1);
    // night 1, a first run: a history report, nothing faded
    assert!(widest_span(&overview, LOSS) > 100, "the loss drawn in full");
    assert_eq!(
        widest_span(&overview, faded),
        0,
        "nothing faded on a first run"
    );
    assert!(report(d, "report.md").contains("(overview.png)"));
    let n2 = write_series(d, "n2.csv", &specs, 120);
    let (code, out, err) = nightly(d, &n2, &[], &[]);
    assert_eq!(code, 1, "{out}{err}");
    // night 2: tonight's Custody loss in full colour, Records' earlier and
    // larger loss faded (a longer bar: more bytes dropped)
    let (new, earlier) = (widest_span(&overview, LOSS), widest_span(&overview, faded));
    assert!(
        new > 100 && earlier > new,
        "new {new} px, earlier {earlier} px"
    );
    assert!(report(d, "report.md").contains("(overview.png)"));
    // night 3: quiet, no overview and the report does not point at one
    let (code, out, err) = nightly(d, &n2, &[], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!overview.exists());
    assert!(!report(d, "report.md").contains("overview.png"));
    // --no-charts: no overview, and the report does not point at one
    let other = tempfile::tempdir().unwrap();
    let n1 = write_series(other.path(), "n1.csv", &specs, 95);
    assert_eq!(nightly(other.path(), &n1, &["--no-charts"], &[]).0, 1);
    assert!(!other.path().join("reports/tonight/overview.png").exists());
    assert!(!report(other.path(), "report.md").contains("overview.png"));
}
