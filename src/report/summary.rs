//! `summary.txt`: tonight's news as plain text of at most 80 columns, fit
//! for the body of an e-mail or a chat message: what is new (series, size,
//! files, start, ICO deadline), what changed, the counts and where the
//! report is. The same text goes to `--notify-cmd` on its standard input.

use crate::detect::Kind;
use crate::findings::{Finding, Status};
use crate::fmt;

/// Widest line.
pub const WIDTH: usize = 80;

/// What the summary says.
pub struct Summary<'a> {
    /// The run's moment (seconds, UTC).
    pub started_at: i64,
    /// No earlier state.
    pub first_run: bool,
    /// Every finding of the run.
    pub findings: &'a [Finding],
    /// Known losses still without a decision in the breach log.
    pub open_losses: usize,
    /// Where the report is.
    pub report: String,
    /// How much was read (an incremental run's window, or why it was a
    /// full scan), when the run says.
    pub scope: Option<String>,
}

/// Cuts a line to [`WIDTH`] characters (names from the data can be long).
fn fit(line: String) -> String {
    if line.chars().count() <= WIDTH {
        return line;
    }
    let mut s: String = line.chars().take(WIDTH - 1).collect();
    s.push('…');
    s
}

/// The text.
pub fn render(s: &Summary) -> String {
    let f = s.findings;
    let news: Vec<&Finding> = f
        .iter()
        .filter(|x| s.first_run || x.status != Status::Known)
        .collect();
    let new_losses: Vec<&&Finding> = news
        .iter()
        .filter(|x| x.kind == Kind::Loss && x.status != Status::Updated)
        .collect();
    let changed: Vec<&&Finding> = news
        .iter()
        .filter(|x| x.status == Status::Updated)
        .collect();
    let mut out: Vec<String> = vec![format!(
        "shrinkwatch, run of {}",
        fmt::uk_time(s.started_at)
    )];
    out.push(if s.first_run {
        format!(
            "First run (no earlier state): a history report of {} finding(s).",
            f.len()
        )
    } else if news.is_empty() {
        "Nothing new tonight.".to_string()
    } else if new_losses.is_empty() {
        format!("No new loss tonight; {} finding(s) changed.", changed.len())
    } else {
        format!(
            "{} new loss{} tonight.",
            new_losses.len(),
            if new_losses.len() == 1 { "" } else { "es" }
        )
    });
    let deadline = fmt::uk_time(fmt::deadline_72h(s.started_at));
    const SHOWN: usize = 20;
    let mut losses: Vec<&&Finding> = new_losses.clone();
    losses.sort_by_key(|x| std::cmp::Reverse(x.start_ts));
    for x in losses.iter().take(SHOWN) {
        out.push(String::new());
        out.push(format!("NEW LOSS  {}", fmt::plain(&x.key.join(" / "))));
        let files = x
            .objects_lost
            .map(|o| format!(", {} files", fmt::count(o)))
            .unwrap_or_default();
        out.push(format!(
            "  {} ({:.1}%){files}, from {}",
            fmt::bytes(x.drop_bytes as f64),
            x.drop_pct,
            fmt::date_time(x.start_ts)
        ));
        if !x.planned_reason.is_empty() {
            out.push(format!(
                "  during planned window: {}",
                fmt::plain(&x.planned_reason)
            ));
        }
        out.push(format!("  Tell the ICO by {deadline}"));
    }
    if losses.len() > SHOWN {
        out.push(format!("… and {} more new losses", losses.len() - SHOWN));
    }
    for x in changed.iter().take(SHOWN) {
        out.push(String::new());
        out.push(format!("CHANGED  {}", fmt::plain(&x.key.join(" / "))));
        out.push(format!(
            "  {} from {}: {}",
            x.kind.as_str(),
            fmt::date_time(x.start_ts),
            fmt::plain(&x.change)
        ));
    }
    if changed.len() > SHOWN {
        out.push(format!("… and {} more changed", changed.len() - SHOWN));
    }
    let count = |k: Kind| f.iter().filter(|x| x.kind == k).count();
    out.push(String::new());
    out.push(format!(
        "Losses awaiting a decision in the breach log: {}",
        s.open_losses
    ));
    out.push(format!(
        "Findings in the data: {} loss, {} transient, {} planned, {} moved",
        count(Kind::Loss),
        count(Kind::Transient),
        count(Kind::Planned),
        count(Kind::Moved)
    ));
    if let Some(scope) = &s.scope {
        // Paths in it come from the command line: shown plainly.
        out.extend(scope.lines().map(|l| fmt::plain(l).into_owned()));
    }
    out.push(format!("Report: {}", fmt::plain(&s.report)));
    let mut text: String = out.into_iter().map(fit).collect::<Vec<_>>().join("\n");
    text.push('\n');
    text
}
