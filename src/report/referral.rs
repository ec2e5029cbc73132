//! `report.md` / `report.html`: the run summary, every finding, and for each
//! loss a section laid out in the order of the ICO's personal data breach
//! report form (DOMAIN.md), with the 72-hour deadline counted from detection
//! and the fields only a person can answer clearly marked to complete.

use super::doc::{Block, Cell, Doc, Span};
use crate::detect::{DetectParams, Kind};
use crate::findings::Finding;
use crate::fmt;
use crate::ingest::IngestCounts;

/// Facts about the run the report describes.
#[derive(Debug, Clone)]
pub struct RunInfo<'a> {
    /// When the run started (seconds, UTC): the moment of detection.
    pub started_at: i64,
    /// Latest observation in the data.
    pub data_until: Option<i64>,
    /// Row accounting.
    pub counts: &'a IngestCounts,
    /// Thresholds used.
    pub params: &'a DetectParams,
    /// Key column names.
    pub key_names: &'a [String],
    /// Findings not reported by an earlier run (`None` when no state is kept).
    pub new_since_last: Option<usize>,
    /// Which findings get a section of their own (`findings::detailed`;
    /// empty = all).
    pub detailed: &'a [bool],
}

fn t(s: impl Into<String>) -> Span {
    Span::Text(s.into())
}

fn todo(s: impl Into<String>) -> Span {
    Span::ToComplete(s.into())
}

/// Anchors of the findings' sections, unique in the report
/// ([`crate::charts::anchors`]: `<key>-<kind>-<start>`, with a hash of the
/// key tuple, kind and start where that is lossy or shared).
pub fn anchors(findings: &[Finding]) -> Vec<String> {
    crate::charts::anchors(findings)
}

/// Builds the report.
pub fn build(run: &RunInfo, findings: &[Finding]) -> Doc {
    let mut d = Doc {
        title: format!("shrinkwatch report — {}", fmt::date(run.started_at)),
        blocks: Vec::new(),
    };
    let b = &mut d.blocks;
    let ids = anchors(findings);
    let count = |k: Kind| findings.iter().filter(|f| f.kind == k).count();
    let (losses, transients, planned) = (
        count(Kind::Loss),
        count(Kind::Transient),
        count(Kind::Planned),
    );
    let c = run.counts;
    b.push(Block::Heading(2, "Summary".into(), "summary".into()));
    b.push(Block::Fields(
        false,
        vec![
            (
                "Run".into(),
                vec![t(format!(
                    "{} ({})",
                    fmt::uk_time(run.started_at),
                    fmt::date_time(run.started_at)
                ))],
            ),
            (
                "Data up to".into(),
                vec![t(run.data_until.map_or("no data".into(), fmt::date_time))],
            ),
            ("Series scanned".into(), vec![t(fmt::count(c.series))]),
            (
                "Rows".into(),
                vec![t(format!(
                    "{} read, {} kept, {} exact duplicates removed, {} rejected{}",
                    fmt::count(c.rows_read),
                    fmt::count(c.rows_kept),
                    fmt::count(c.duplicates),
                    fmt::count(c.rejected),
                    if c.rejected > 0 {
                        " (see rejected.csv)"
                    } else {
                        ""
                    }
                ))],
            ),
            (
                "Findings".into(),
                vec![t(format!(
                    "{losses} loss, {transients} transient, {planned} planned"
                ))],
            ),
            (
                "New since the last run".into(),
                vec![t(run.new_since_last.map_or(
                    "not tracked (no state file): every finding is listed".to_string(),
                    |n| n.to_string(),
                ))],
            ),
        ],
    ));
    if losses > 0 {
        b.push(Block::Para(vec![t(format!(
            "{losses} sudden, substantial and unexplained reduction{} of stored data {} found. A loss of personal data is a personal data breach (an availability breach), even if temporary. Law-enforcement processing: Data Protection Act 2018, Part 3, section 67; other processing: UK GDPR Article 33. Notify the ICO without undue delay and, where feasible, within 72 hours of becoming aware; record every breach in the breach log (s.67(6)), reported or not.",
            if losses == 1 { "" } else { "s" },
            if losses == 1 { "was" } else { "were" }
        ))]));
    } else {
        b.push(Block::Para(vec![t(
            "No loss was found: no sudden, substantial, unexplained reduction of stored data.",
        )]));
    }
    b.push(Block::Image(
        "overview.png".into(),
        "Overview: the largest reductions of this run".into(),
    ));

    b.push(Block::Heading(
        2,
        "All findings".into(),
        "all-findings".into(),
    ));
    if findings.is_empty() {
        b.push(Block::Para(vec![t("None.")]));
    } else {
        let mut header = vec!["#".to_string(), "severity".into(), "kind".into()];
        header.extend(run.key_names.iter().cloned());
        header.extend(
            [
                "start",
                "dropped",
                "%",
                "files lost",
                "p-value",
                "planned window",
                "chart",
            ]
            .map(String::from),
        );
        let rows = findings
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let mut r: Vec<Cell> = vec![
                    Cell {
                        text: (i + 1).to_string(),
                        link: Some((format!("#{}", ids[i]), format!("#{}", ids[i]))),
                    },
                    f.severity.as_str().into(),
                    f.kind.as_str().into(),
                ];
                r.extend(f.key.iter().map(|k| Cell::from(k.as_str())));
                r.push(fmt::date_time(f.start_ts).into());
                r.push(fmt::bytes(f.drop_bytes as f64).into());
                r.push(format!("{:.1}", f.drop_pct).into());
                r.push(f.objects_lost.map_or("unknown".into(), fmt::count).into());
                r.push(fmt::p_value(f.p_value).into());
                r.push(
                    if f.planned_reason.is_empty() {
                        "—".to_string()
                    } else if f.exceeded_plan {
                        format!("{} (exceeded)", f.planned_reason)
                    } else {
                        f.planned_reason.clone()
                    }
                    .into(),
                );
                r.push(if f.chart.is_empty() {
                    Cell::from("—")
                } else {
                    Cell {
                        text: "chart".into(),
                        link: Some((f.chart.clone(), format!("#{}", ids[i]))),
                    }
                });
                r
            })
            .collect();
        b.push(Block::Table(header, rows));
    }

    let shown = |i: usize| run.detailed.get(i).copied().unwrap_or(true);
    let omitted = (0..findings.len()).filter(|&i| !shown(i)).count();
    if omitted > 0 {
        b.push(Block::Para(vec![
            t(format!(
                "{omitted} of {} findings have no section or chart of their own below (at most {} do: new losses first, then known losses, transients and planned reductions, most severe first). All are in the table above, findings.csv and findings.json;",
                findings.len(),
                findings.len() - omitted
            )),
            Span::Code("scan --max-details N".into()),
            t("shows more."),
        ]));
    }
    let loss_list: Vec<(&Finding, &str)> = findings
        .iter()
        .zip(&ids)
        .enumerate()
        .filter(|&(i, (f, _))| f.kind == Kind::Loss && shown(i))
        .map(|(_, (f, id))| (f, id.as_str()))
        .collect();
    if !loss_list.is_empty() {
        b.push(Block::Heading(
            2,
            "Losses: details for referral to the ICO".into(),
            "losses".into(),
        ));
        b.push(Block::Para(vec![t("Each section follows the order of the ICO's personal data breach report form. Facts come from the monitoring data; everything marked \"to complete\" needs a person who knows the system and its data. Nothing there is guessed by the tool.")]));
        for (i, (f, id)) in loss_list.iter().enumerate() {
            referral_section(b, run, f, id, i + 1, losses);
        }
    }
    for (kind, heading, id, intro) in [
        (Kind::Transient, "Temporary losses of availability (transients)", "transients", "Each of these drops came back within the recovery window: a restore, or a collection glitch such as a zero reading. A temporary loss of availability is still a personal data breach if personal data was unavailable: record each in the breach log with its facts, and decide whether it is notifiable."),
        (Kind::Planned, "Planned reductions (for the breach log)", "planned", "These reductions fell inside a planned window (disposal, migration, tiering) and within its expected size. They are listed so the record shows what was removed and when."),
    ] {
        let list: Vec<(&Finding, &String)> = findings
            .iter()
            .zip(&ids)
            .enumerate()
            .filter(|&(i, (f, _))| f.kind == kind && shown(i))
            .map(|(_, fi)| fi)
            .collect();
        if list.is_empty() {
            continue;
        }
        b.push(Block::Heading(2, heading.into(), id.into()));
        b.push(Block::Para(vec![t(intro)]));
        for (f, anchor) in list {
            b.push(Block::Heading(3, format!("{} — {}", f.key.join(" — "), fmt::date_time(f.start_ts)), anchor.clone()));
            let back = if f.recovered_at.is_empty() { String::new() } else { format!(", back on {}", f.recovered_at) };
            b.push(Block::Para(vec![t(format!(
                "{} ({:.1}%{}) between {} and {}{back}. {}",
                fmt::bytes(f.drop_bytes as f64),
                f.drop_pct,
                f.objects_lost.map(|o| format!(", {} files", fmt::count(o))).unwrap_or_default(),
                fmt::date_time(f.before_ts),
                fmt::date_time(f.end_ts),
                if f.planned_reason.is_empty() { String::new() } else { format!("Planned window: {}.", f.planned_reason) }
            ))]));
            if !f.chart.is_empty() {
                b.push(Block::Image(f.chart.clone(), crate::charts::finding_title(f)));
            }
        }
    }
    b.push(Block::Heading(
        2,
        "How these findings were made".into(),
        "method".into(),
    ));
    b.push(Block::Para(vec![t(run.params.method())]));
    d
}

fn referral_section(
    b: &mut Vec<Block>,
    run: &RunInfo,
    f: &Finding,
    anchor: &str,
    n: usize,
    of: usize,
) {
    let who = f.key.join(" — ");
    b.push(Block::Heading(
        3,
        format!("Loss {n} of {of}: {who}, {}", fmt::date_time(f.start_ts)),
        anchor.to_string(),
    ));
    let detected = run.started_at;
    let deadline = fmt::deadline_72h(detected);
    let files = f
        .objects_lost
        .map(|o| format!("; about {} files are no longer there", fmt::count(o)))
        .unwrap_or_default();
    let plan = if f.planned_reason.is_empty() {
        "No planned disposal or migration covers it.".to_string()
    } else {
        format!("It happened during the planned window \"{}\", and went beyond what that plan expected.", f.planned_reason)
    };
    let recovery = if f.samples_after == 0 {
        "Not yet known: the drop is in the newest data, so whether it comes back cannot be seen yet.".to_string()
    } else {
        format!("Not yet known: the stored volume has not come back in the {} observation(s) since the drop. Choose on the form: Regular, Supplemented, Extended, Not recoverable, Already recovered or Not yet known.", f.samples_after)
    };
    let records = match f.objects_lost {
        Some(o) => vec![t(format!("About {} files or records (the store's object count fell by this much beyond its normal change).", fmt::count(o)))],
        None => vec![t("Unknown: the monitoring data has no object-count column for this system."), todo("number of records affected")],
    };
    let z = if f.z_score < -100.0 {
        "more than 100".to_string()
    } else {
        format!("{:.1}", -f.z_score)
    };
    b.push(Block::Fields(true, vec![
        ("Report type".into(), vec![t("Initial report."), todo("if this is a follow-up, the ICO case reference")]),
        ("What happened".into(), vec![t(format!(
            "The data stored in \"{}\" at {} fell suddenly by {} ({:.1}%) between {} and {}{files}. {plan}",
            f.key.get(1).cloned().unwrap_or_else(|| who.clone()),
            f.key.first().cloned().unwrap_or_default(),
            fmt::bytes(f.drop_bytes as f64),
            f.drop_pct,
            fmt::date_time(f.before_ts),
            fmt::date_time(f.end_ts)
        ))]),
        ("How it was discovered".into(), vec![t(format!(
            "Automated nightly storage-volume monitoring (shrinkwatch {}). The fall was {z} robust standard deviations below this store's normal change over {} (one-sided test, {}): far outside normal variation.",
            env!("CARGO_PKG_VERSION"),
            run.params.baseline_span(),
            fmt::p_value(f.p_value)
        ))]),
        ("When it happened".into(), vec![t(format!("Between the last normal reading ({}) and the first reduced reading ({}).", fmt::date_time(f.before_ts), fmt::date_time(f.start_ts)))]),
        ("When it was discovered".into(), vec![t(format!("Detected by this run at {}.", fmt::uk_time(detected))), todo("when a person became aware, if later")]),
        ("Deadline to report to the ICO".into(), vec![t(format!("{} (72 hours after detection).", fmt::uk_time(deadline))), todo("if reported later, the reasons for the delay")]),
        ("Categories of personal data".into(), vec![todo("what the lost data contains (e.g. footage of members of the public, officers; special category data)")]),
        ("Categories of data subjects".into(), vec![todo("whose data it is (victims, witnesses, suspects, officers, staff, public)")]),
        ("Number of records".into(), records),
        ("Number of data subjects".into(), vec![todo("approximate number of people affected (never estimated by this tool)")]),
        ("Likely consequences and their likelihood".into(), vec![todo("e.g. evidence no longer available to prosecutions; assess likelihood and severity")]),
        ("Confidentiality, integrity, availability".into(), vec![t("Availability: affected (loss or destruction of stored data)."), todo("confidentiality and integrity: assess whether data was moved or copied elsewhere rather than destroyed")]),
        ("Impact on the organisation".into(), vec![todo("operational and legal impact")]),
        ("Recovery time".into(), vec![t(recovery)]),
        ("Measures in place before the breach".into(), vec![todo("backups, supplier controls, change management for migrations")]),
        ("Measures taken or proposed".into(), vec![todo("e.g. stop the transfer, check backups, obtain the supplier's logs, restore, tell affected cases")]),
        ("Who else has been told".into(), vec![todo("e.g. supplier, CPS, other forces, data subjects")]),
        ("Contact details".into(), vec![todo("Data Protection Officer: name, email, telephone")]),
    ]));
    if !f.chart.is_empty() {
        b.push(Block::Image(
            f.chart.clone(),
            crate::charts::finding_title(f),
        ));
    }
}
