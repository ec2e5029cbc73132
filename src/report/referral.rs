//! `report.md` / `report.html`, laid out for the data protection officer who
//! opens it in the morning with a 72-hour clock: tonight's news first (a
//! headline, then new and changed findings, each new loss with a section in
//! the order of the ICO's personal data breach report form (DOMAIN.md), the
//! deadline counted from detection and the fields only a person can answer
//! marked to complete), then the losses still awaiting a decision in the
//! breach log, then the rest of the history as a compact table.

use super::doc::{Block, Cell, Doc, Span};
use crate::detect::{DetectParams, Kind};
use crate::findings::{Finding, Status};
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
    /// Which findings get a section of their own (`findings::detailed`).
    pub detailed: &'a [bool],
    /// No earlier state: the report is a history report.
    pub first_run: bool,
    /// Per finding: the decision a person recorded in the breach log, if any.
    pub decisions: &'a [Option<String>],
    /// Per finding: the date (`YYYY-MM-DD`) of the run that first reported it.
    pub first_reported: &'a [Option<String>],
    /// Whether `overview.png` was drawn.
    pub overview: bool,
}

fn t(s: impl Into<String>) -> Span {
    Span::Text(s.into())
}

fn todo(s: impl Into<String>) -> Span {
    Span::ToComplete(s.into())
}

/// Builds the report, tonight's news first: a one-line headline, the run
/// summary, tonight's new and changed findings with a referral section and
/// chart for each new loss, then the losses still awaiting a decision in the
/// breach log, then the rest of the history as a compact table. A first run
/// (no earlier state) is a history report and says so.
pub fn build(run: &RunInfo, findings: &[Finding]) -> Doc {
    let mut d = Doc {
        title: format!("shrinkwatch report — {}", fmt::date(run.started_at)),
        blocks: Vec::new(),
    };
    let b = &mut d.blocks;
    let ids = crate::charts::anchors(findings);
    let all: Vec<usize> = (0..findings.len()).collect();
    let is_news = |i: &usize| run.first_run || findings[*i].status != Status::Known;
    let decided = |i: usize| run.decisions.get(i).and_then(|d| d.as_deref());
    // Tonight's news in the order of its sections: losses, then transients,
    // then planned reductions and reconciled moves, the most recent first.
    let mut news: Vec<usize> = all.iter().copied().filter(is_news).collect();
    news.sort_by_key(|&i| {
        (
            findings[i].kind.rank(),
            std::cmp::Reverse(findings[i].start_ts),
        )
    });
    let open: Vec<usize> = all
        .iter()
        .copied()
        .filter(|i| !is_news(i) && findings[*i].kind == Kind::Loss && decided(*i).is_none())
        .collect();
    let history: Vec<usize> = all
        .iter()
        .copied()
        .filter(|i| !is_news(i) && !open.contains(i))
        .collect();
    let count = |k: Kind| findings.iter().filter(|f| f.kind == k).count();
    let (losses, transients, planned, moved) = (
        count(Kind::Loss),
        count(Kind::Transient),
        count(Kind::Planned),
        count(Kind::Moved),
    );
    let new_losses: Vec<usize> = news
        .iter()
        .copied()
        .filter(|&i| findings[i].kind == Kind::Loss)
        .collect();

    b.push(Block::Para(vec![t(headline(
        run,
        findings,
        &news,
        &new_losses,
        open.len(),
    ))]));
    if !new_losses.is_empty() {
        b.push(Block::Para(vec![t("A loss of personal data is a personal data breach (an availability breach), even if temporary. Law-enforcement processing: Data Protection Act 2018, Part 3, section 67; other processing: UK GDPR Article 33. Notify the ICO without undue delay and, where feasible, within 72 hours of becoming aware; record every breach in the breach log (s.67(6)), reported or not.")]));
    }
    // Tonight's news.
    let (heading, id) = if run.first_run {
        ("All findings (first run: the history)", "all-findings")
    } else {
        ("Tonight: new and changed findings", "tonight")
    };
    b.push(Block::Heading(2, heading.into(), id.into()));
    if news.is_empty() {
        b.push(Block::Para(vec![t(
            "Nothing new or changed since the last run.",
        )]));
    } else {
        b.push(full_table(run, findings, &ids, &news));
    }
    let shown = |i: usize| run.detailed.get(i).copied().unwrap_or(false);
    let omitted = news.iter().filter(|&&i| !shown(i)).count();
    if omitted > 0 {
        b.push(Block::Para(vec![
            t(format!(
                "{omitted} of these {} findings have no section or chart of their own below (at most {} do: losses first, the most recent first). All are in the table above, findings.csv and findings.json;",
                news.len(),
                news.len() - omitted
            )),
            Span::Code("scan --max-details N".into()),
            t("shows more."),
        ]));
    }
    // Sections in the order `detailed` ranks them: losses first, most recent first.
    let order: Vec<usize> = news.iter().copied().filter(|&i| shown(i)).collect();
    let loss_list: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&i| findings[i].kind == Kind::Loss)
        .collect();
    if !loss_list.is_empty() {
        b.push(Block::Heading(
            2,
            if run.first_run {
                "Losses: details for referral to the ICO, the most recent first".into()
            } else {
                "Tonight's losses: details for referral to the ICO".into()
            },
            "losses".into(),
        ));
        b.push(Block::Para(vec![t("Each section follows the order of the ICO's personal data breach report form. Facts come from the monitoring data; everything marked \"to complete\" needs a person who knows the system and its data. Nothing there is guessed by the tool.")]));
        for (n, &i) in loss_list.iter().enumerate() {
            referral_section(b, run, &findings[i], &ids[i], n + 1, loss_list.len());
        }
    }
    for (kind, heading, id, intro) in [
        (Kind::Transient, "Temporary losses of availability (transients)", "transients", "Each of these drops came back within the recovery window: a restore, or a collection glitch such as a zero reading. A temporary loss of availability is still a personal data breach if personal data was unavailable: record each in the breach log with its facts, and decide whether it is notifiable."),
        (Kind::Planned, "Planned reductions (for the breach log)", "planned", "These reductions fell inside a planned window (disposal, migration, tiering) and within its expected size. They are listed so the record shows what was removed and when."),
        (Kind::Moved, "Reconciled moves (for the breach log)", "moved", "Each of these stores was emptied or reduced by a planned move whose target is named in the plan, and what left it arrived in the target(s): reconciled over the whole window, in bytes and, where counted, files. They are listed so the record shows what moved, where, and when."),
    ] {
        let list: Vec<usize> = order.iter().copied().filter(|&i| findings[i].kind == kind).collect();
        if list.is_empty() {
            continue;
        }
        b.push(Block::Heading(2, heading.into(), id.into()));
        b.push(Block::Para(vec![t(intro)]));
        for i in list {
            let f = &findings[i];
            b.push(Block::Heading(3, format!("{} — {}", f.key.join(" — "), fmt::date_time(f.start_ts)), ids[i].clone()));
            let back = if f.recovered_at.is_empty() { String::new() } else { format!(", back on {}", f.recovered_at) };
            b.push(Block::Para(vec![t(format!(
                "{} ({}{}) between {} and {}{back}. {}",
                fmt::bytes(f.drop_bytes as f64),
                share(f),
                f.objects_lost.map(|o| format!(", {} files", fmt::count(o))).unwrap_or_default(),
                fmt::date_time(f.before_ts),
                fmt::date_time(f.end_ts),
                if f.planned_reason.is_empty() { String::new() } else { format!("Planned window: {}.", f.planned_reason) }
            ))]));
            if !f.moved_to.is_empty() {
                b.push(Block::Para(vec![t(format!(
                    "Moved to {}: {} arrived there beyond its normal growth{}{}.",
                    f.moved_to,
                    fmt::bytes(f.arrived_bytes.unwrap_or(0) as f64),
                    f.arrived_objects.map(|o| format!(" ({} files)", fmt::count(o.max(0) as u64))).unwrap_or_default(),
                    match f.shortfall_bytes {
                        Some(s) if s > 0 => format!("; {} has not arrived (within the noise of the target's own changes, or the window is still open)", fmt::bytes(s as f64)),
                        _ => String::new(),
                    }
                ))]));
            }
            if !f.chart.is_empty() {
                b.push(Block::Image(f.chart.clone(), crate::charts::finding_title(f)));
            }
        }
    }

    if run.overview {
        b.push(Block::Image(
            "overview.png".into(),
            "Overview: tonight's findings, with the largest earlier losses for context".into(),
        ));
    }

    let c = run.counts;
    b.push(Block::Heading(2, "The run".into(), "summary".into()));
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
                "Findings in the data".into(),
                vec![t(format!(
                    "{losses} loss, {transients} transient, {planned} planned, {moved} moved"
                ))],
            ),
            (
                "New or changed tonight".into(),
                vec![t(if run.first_run {
                    "first run (no earlier state): every finding is listed as new".to_string()
                } else {
                    news.len().to_string()
                })],
            ),
            (
                "Losses awaiting a decision".into(),
                vec![t(format!(
                    "{} (known losses whose decision column in the breach log is empty)",
                    open.len()
                ))],
            ),
        ],
    ));

    // Losses reported before and not yet decided.
    if !run.first_run {
        b.push(Block::Heading(
            2,
            "Open losses awaiting a decision".into(),
            "open".into(),
        ));
        if open.is_empty() {
            b.push(Block::Para(vec![t(
                "None: every loss reported so far has a decision in the breach log.",
            )]));
        } else {
            b.push(Block::Para(vec![t("Losses an earlier run reported whose decision column in the breach log is still empty (reported to the ICO, or not reportable, and why). Each links to the report that first carried it.")]));
            let mut header = vec!["status".to_string(), "severity".into()];
            header.extend(run.key_names.iter().cloned());
            header.extend(
                ["start", "dropped", "%", "files lost", "first reported"].map(String::from),
            );
            let rows = open
                .iter()
                .map(|&i| {
                    let f = &findings[i];
                    let mut r: Vec<Cell> =
                        vec![f.status.as_str().into(), f.severity.as_str().into()];
                    r.extend(f.key.iter().map(|k| Cell::from(k.as_str())));
                    r.push(fmt::date_time(f.start_ts).into());
                    r.push(fmt::bytes(f.drop_bytes as f64).into());
                    r.push(format!("{:.1}", f.drop_pct).into());
                    r.push(f.objects_lost.map_or("unknown".into(), fmt::count).into());
                    r.push(match run.first_reported.get(i).and_then(|d| d.as_deref()) {
                        Some(date) => Cell {
                            text: date.to_string(),
                            link: Some((
                                format!("../{date}/report.md#{}", ids[i]),
                                format!("../{date}/report.html#{}", ids[i]),
                            )),
                        },
                        None => Cell::from("—"),
                    });
                    r
                })
                .collect();
            b.push(Block::Table(header, rows));
        }
        b.push(Block::Heading(2, "History".into(), "history".into()));
        if history.is_empty() {
            b.push(Block::Para(vec![t("Nothing else.")]));
        } else {
            b.push(Block::Para(vec![t(
                "Every other finding in the data, already reported by an earlier run.",
            )]));
            let mut header = vec!["status".to_string(), "kind".into()];
            header.extend(run.key_names.iter().cloned());
            header.extend(["start", "dropped", "%", "decision"].map(String::from));
            let rows = history
                .iter()
                .map(|&i| {
                    let f = &findings[i];
                    let mut r: Vec<Cell> = vec![f.status.as_str().into(), f.kind.as_str().into()];
                    r.extend(f.key.iter().map(|k| Cell::from(k.as_str())));
                    r.push(fmt::date_time(f.start_ts).into());
                    r.push(fmt::bytes(f.drop_bytes as f64).into());
                    r.push(format!("{:.1}", f.drop_pct).into());
                    r.push(decided(i).unwrap_or("—").into());
                    r
                })
                .collect();
            b.push(Block::Table(header, rows));
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

/// The first line a reader meets: what is new tonight.
fn headline(
    run: &RunInfo,
    findings: &[Finding],
    news: &[usize],
    new_losses: &[usize],
    open: usize,
) -> String {
    let still_open = if open > 0 {
        format!(
            " {open} earlier loss{} still await{} a decision in the breach log.",
            if open == 1 { "" } else { "es" },
            if open == 1 { "s" } else { "" }
        )
    } else {
        String::new()
    };
    if run.first_run {
        return format!(
            "First run (no earlier state): this is a history report of everything in the data, {} finding{}; the most recent losses come first.",
            findings.len(),
            if findings.len() == 1 { "" } else { "s" }
        );
    }
    let Some(&first) = new_losses.iter().max_by_key(|&&i| findings[i].start_ts) else {
        return if news.is_empty() {
            format!("Nothing new tonight.{still_open}")
        } else {
            format!(
                "No new loss tonight; {} finding{} changed (see below).{still_open}",
                news.len(),
                if news.len() == 1 { "" } else { "s" }
            )
        };
    };
    let f = &findings[first];
    let files = f
        .objects_lost
        .map(|o| format!(", {} files", fmt::count(o)))
        .unwrap_or_default();
    let more = if new_losses.len() > 1 {
        format!(" and {} more", new_losses.len() - 1)
    } else {
        String::new()
    };
    format!(
        "{} new loss{} tonight: {}, {} ({:.1}%{files}) from {}{more}. Tell the ICO by {} unless it is decided not reportable.{still_open}",
        new_losses.len(),
        if new_losses.len() == 1 { "" } else { "es" },
        f.key.join(" — "),
        fmt::bytes(f.drop_bytes as f64),
        f.drop_pct,
        fmt::date_time(f.start_ts),
        fmt::uk_time(fmt::deadline_72h(run.started_at)),
    )
}

/// A reduction's share: of the store's total, or (`set_aside_bytes`) of its
/// own data, what a migration brought in set aside.
fn share(f: &Finding) -> String {
    match f.set_aside_bytes {
        Some(aside) => format!(
            "{:.1}% of the store's own data, leaving aside the {} a migration brought in",
            f.drop_pct,
            fmt::bytes(aside as f64)
        ),
        None => format!("{:.1}%", f.drop_pct),
    }
}

/// The full table of some findings, with their status.
fn full_table(run: &RunInfo, findings: &[Finding], ids: &[String], which: &[usize]) -> Block {
    let mut header = vec![
        "#".to_string(),
        "status".into(),
        "severity".into(),
        "kind".into(),
    ];
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
    let rows = which
        .iter()
        .enumerate()
        .map(|(n, &i)| {
            let f = &findings[i];
            let mut r: Vec<Cell> = vec![
                Cell {
                    text: (n + 1).to_string(),
                    link: Some((format!("#{}", ids[i]), format!("#{}", ids[i]))),
                },
                f.status.as_str().into(),
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
    Block::Table(header, rows)
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
    // One loss per printed page: the first follows its section's heading
    // (which starts a page), each later one starts a page of its own.
    if n > 1 {
        b.push(Block::PageBreak);
    }
    b.push(Block::Heading(
        3,
        format!("Loss {n} of {of}: {who}, {}", fmt::date_time(f.start_ts)),
        anchor.to_string(),
    ));
    // The chart first: what happened, at a glance, before the form.
    if !f.chart.is_empty() {
        b.push(Block::Image(
            f.chart.clone(),
            crate::charts::finding_title(f),
        ));
    }
    let detected = run.started_at;
    let deadline = fmt::deadline_72h(detected);
    let files = f
        .objects_lost
        .map(|o| format!("; about {} files are no longer there", fmt::count(o)))
        .unwrap_or_default();
    let plan = if let (Some(short), false) = (f.shortfall_bytes, f.moved_to.is_empty()) {
        format!(
            "It happened during the migration \"{}\": {}{} left {} but never arrived in {} ({} arrived there beyond its normal growth).",
            f.planned_reason,
            fmt::bytes(short as f64),
            f.shortfall_objects.map(|o| format!(" / {} files", fmt::count(o.max(0) as u64))).unwrap_or_default(),
            f.key.join("/"),
            f.moved_to,
            fmt::bytes(f.arrived_bytes.unwrap_or(0) as f64),
        )
    } else if f.planned_reason.is_empty() {
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
            "The data stored in \"{}\" at {} fell suddenly by {} ({}) between {} and {}{files}. {plan}",
            f.key.get(1).cloned().unwrap_or_else(|| who.clone()),
            f.key.first().cloned().unwrap_or_default(),
            fmt::bytes(f.drop_bytes as f64),
            share(f),
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
    if let Some(facts) = &f.inventory {
        inventory_section(b, f, facts);
    }
}

/// Which files: what the object inventories around the loss say (the
/// counts against the volume series, the largest folders, the full list),
/// or why they could not say it.
fn inventory_section(b: &mut Vec<Block>, f: &Finding, facts: &crate::inventory::diff::Facts) {
    let Some(said) = crate::inventory::alert::compared(f, facts) else {
        b.push(Block::Fields(
            false,
            vec![(
                "Files missing (object inventory)".into(),
                vec![t(format!("Not known: {}.", facts.note))],
            )],
        ));
        return;
    };
    let shrunk = match facts.shrunk_objects {
        Some(n) if n > 0 => format!(
            " {} more objects are smaller than before (truncated).",
            fmt::count(n)
        ),
        _ => String::new(),
    };
    b.push(Block::Fields(
        false,
        vec![
            (
                "Files missing (object inventory)".into(),
                vec![t(format!(
                    "{said}.{shrunk} In {} folder(s); {}.",
                    fmt::count(facts.folder_count),
                    facts.note
                ))],
            ),
            (
                "Full list of the missing files".into(),
                vec![Span::Code(facts.list.clone())],
            ),
        ],
    ));
    if !facts.folders.is_empty() {
        let rows = facts
            .folders
            .iter()
            .map(|r| {
                vec![
                    Cell::from(r.folder.as_str()),
                    fmt::count(r.lost_objects).into(),
                    fmt::bytes(r.lost_bytes as f64).into(),
                    fmt::count(r.shrunk_objects).into(),
                ]
            })
            .collect();
        b.push(Block::Table(
            [
                "largest folders with missing files",
                "files missing",
                "bytes",
                "files shrunk",
            ]
            .map(String::from)
            .to_vec(),
            rows,
        ));
    }
}
