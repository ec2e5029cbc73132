//! `shrinkwatch chart`: one series over any date range, with its findings
//! marked, in the same style as the report's charts (for investigations).

use super::Outcome;
use crate::analysis::analyze_with;
use crate::charts::{self, series::SeriesChart};
use crate::cli::ChartArgs;
use crate::fmt;
use crate::ingest::timestamp;
use crate::pipeline::load;
use crate::planned;
use anyhow::{anyhow, Context, Result};
use std::path::PathBuf;

/// Renders the chart and prints where it went.
pub fn run(args: &ChartArgs) -> Result<Outcome> {
    let inputs = args.input.resolve()?;
    let (ing, plans) = load(&inputs)?;
    let idx = ing.set.find(&args.series).ok_or_else(|| {
        let some: Vec<String> = ing
            .set
            .keys
            .iter()
            .take(5)
            .map(|k| fmt::term(&k.join("/")).into_owned())
            .collect();
        anyhow!(
            "no series `{}` in the input (series are named like `{}`)",
            fmt::term(&args.series),
            some.join("`, `")
        )
    })?;
    let s = ing.set.get(idx);
    let parse = |v: &Option<String>, end: bool, flag: &str| -> Result<Option<i64>> {
        v.as_deref()
            .map(|x| crate::clock::parse_flag(x, flag, end))
            .transpose()
    };
    let first = s.times.first().copied().unwrap_or(0);
    let last = s.times.last().copied().unwrap_or(0);
    let from = parse(&args.from, false, "--from")?.unwrap_or(first);
    let to = parse(&args.to, true, "--to")?.unwrap_or(last);
    anyhow::ensure!(to > from, "--to must be after --from");
    // Findings use the whole history (the baseline needs it); only those in range are drawn.
    let findings: Vec<_> = analyze_with(&ing.set, &plans, &inputs.thresholds, "")
        .into_iter()
        .filter(|f| f.trace.as_ref().is_some_and(|t| t.series == idx))
        .collect();
    let in_range = findings
        .iter()
        .filter(|f| f.end_ts >= from && f.before_ts <= to)
        .count();
    let step = findings.first().map_or_else(
        || crate::detect::baseline::Cadence::infer(s.times, true).step,
        |f| f.interval_secs,
    );
    let chart = SeriesChart {
        title: format!(
            "{} — stored data, {} to {}",
            crate::fmt::plain(&s.key.join(" — ")),
            fmt::date(from),
            fmt::date(to)
        ),
        subtitle: format!(
            "{} finding(s) in this range ({} in the whole history); shaded: planned windows",
            in_range,
            findings.len()
        ),
        times: s.times,
        bytes: s.bytes,
        step_secs: step,
        from,
        to,
        findings: findings.iter().collect(),
        focus: None,
        plans: planned::for_series(&plans, s.key),
        detected: None,
        recovery_secs: inputs.config.detect.recovery_secs(),
    };
    let out = args.out.clone().unwrap_or_else(|| {
        let d = |t: i64| {
            timestamp::format(t, true)
                .chars()
                .take(10)
                .collect::<String>()
        };
        // `<key>-<from>-<to>.png`, with the key tuple's hash where the
        // readable part is lossy (as the report's chart names)
        let (key, lossy) = charts::key_slug(s.key);
        let key = if lossy {
            let parts: Vec<&str> = s.key.iter().map(String::as_str).collect();
            format!("{key}-{}", charts::id_hash(&parts))
        } else {
            key
        };
        PathBuf::from("reports")
            .join("charts")
            .join(format!("{key}-{}-{}.png", d(from), d(to)))
    });
    if let Some(dir) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    charts::series::render(&out, &chart, args.chart_size)?;
    crate::outln!(
        "chart of {} ({} finding(s) marked) → {}",
        fmt::term(&s.label()),
        in_range,
        fmt::term(&out.display().to_string())
    );
    Ok(Outcome::Clean)
}
