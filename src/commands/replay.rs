//! `shrinkwatch replay`: the nightly logic night by night over history,
//! reading the data once. For every loss it reports the night it was first
//! reported and the delay from its start; with labels, also the labelled
//! losses it never reported.

use super::Outcome;
use crate::arrival;
use crate::cli::ReplayArgs;
use crate::clock;
use crate::detect::{Incremental, Kind};
use crate::evaluate::near;
use crate::fmt;
use crate::ingest::timestamp;
use crate::labels;
use crate::pipeline::load;
use crate::planned;
use anyhow::{ensure, Result};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;

/// One row of `replay.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayRow {
    /// Key values joined by `/`.
    pub series: String,
    /// First reduced observation.
    pub start: String,
    /// The night (date) the loss was first reported; empty for a missed label.
    pub first_reported: String,
    /// Days from the start to that night (0 = reported the night it happened).
    pub delay_days: Option<i64>,
    /// What it was at the end of the replay: `loss`, `transient` (a
    /// provisional loss that came back), `planned`, `gone`, or `missed` (a
    /// labelled loss never reported).
    pub final_kind: String,
    /// Drop in percent when first reported.
    pub drop_pct: Option<f64>,
    /// Objects lost when first reported.
    pub objects_lost: Option<u64>,
    /// The label matched (within ±2 samples), if labels were given.
    pub label: String,
}

/// Runs the replay and writes `replay.csv` and `replay.md`.
pub fn run(args: &ReplayArgs) -> Result<Outcome> {
    let wall = Instant::now();
    let inputs = args.input.resolve()?;
    let from = clock::parse_flag(&args.from, "--from", false)?;
    let to = clock::parse_flag(&args.to, "--to", false)?;
    ensure!(to >= from, "--to must not be before --from");
    inputs.check_default()?;
    let labels_path = inputs.labels(&args.labels);
    let labels = labels_path
        .as_ref()
        .map(|p| labels::read(p, &inputs.config.columns.keys))
        .transpose()?;
    let (ing, plans) = load(&inputs)?;
    let set = &ing.set;
    let nights: Vec<i64> = (0..)
        .map(|k| from - from.rem_euclid(86_400) + k * 86_400 + clock::END_OF_DAY)
        .take_while(|&t| t <= to + clock::END_OF_DAY)
        .collect();
    let t0 = Instant::now();
    let index = planned::PlanIndex::new(&plans);
    let arrivals = crate::moves::arrivals(set, &plans, &|_| Vec::new());
    let per_series: Vec<Vec<ReplayRow>> = (0..set.len())
        .into_par_iter()
        .map(|i| {
            let s = set.get(i);
            let windows = index.for_series(s.key);
            let params = inputs
                .thresholds
                .for_series(&set.key_names, s.key)
                .into_owned();
            // start index → (night first reported as loss, drop %, objects),
            // and each finding's (start, end, kind) after the last night
            let night_by_night = |bytes: &[f64], objects: Option<&[f64]>| {
                let mut inc = Incremental::new(s.times, bytes, objects, &windows, &params);
                let mut first: BTreeMap<usize, (i64, f64, Option<u64>)> = BTreeMap::new();
                let mut prev = usize::MAX;
                let mut last: Vec<(usize, usize, Kind)> = Vec::new();
                for &night in &nights {
                    let n = s.times.partition_point(|&t| t <= night);
                    if n == prev {
                        continue;
                    }
                    prev = n;
                    let dets = inc.advance(n);
                    for d in dets
                        .iter()
                        .filter(|d| d.kind == Kind::Loss && s.times[d.start_idx] >= from)
                    {
                        first.entry(d.start_idx).or_insert((
                            night,
                            d.drop_pct,
                            d.objects_lost.map(|o| o as u64),
                        ));
                    }
                    last = dets
                        .iter()
                        .map(|d| (d.start_idx, d.end_idx, d.kind))
                        .collect();
                }
                (first, last)
            };
            let (mut first, mut last) = night_by_night(s.bytes, s.objects);
            // A store a migration more than doubled: also its own data, as
            // the scan judges it (`crate::arrival`; the arrival as the
            // whole history measures it), where the total saw nothing.
            if !arrivals[i].is_empty() {
                let own_bytes = arrival::own_values(s.times, s.bytes, &arrivals[i], false);
                let own_objects = s
                    .objects
                    .map(|o| arrival::own_values(s.times, o, &arrivals[i], true));
                let (own_first, own_last) = night_by_night(&own_bytes, own_objects.as_deref());
                let seen = |idx: usize| {
                    first.contains_key(&idx) || last.iter().any(|&(a, b, _)| a <= idx && idx <= b)
                };
                let add: Vec<_> = own_first.into_iter().filter(|(k, _)| !seen(*k)).collect();
                let add_last: Vec<_> = own_last.into_iter().filter(|(k, _, _)| !seen(*k)).collect();
                first.extend(add);
                last.extend(add_last);
            }
            let date_only = s.date_only();
            first
                .into_iter()
                .map(|(idx, (night, pct, obj))| {
                    let start = s.times[idx];
                    ReplayRow {
                        series: s.label(),
                        start: timestamp::format(start, date_only),
                        first_reported: timestamp::format(night - clock::END_OF_DAY, true),
                        delay_days: Some(
                            (night - clock::END_OF_DAY - (start - start.rem_euclid(86_400)))
                                / 86_400,
                        ),
                        final_kind: last
                            .iter()
                            .find(|(k, _, _)| *k == idx)
                            .map_or("gone".into(), |(_, _, kind)| kind.as_str().to_string()),
                        drop_pct: Some((pct * 1000.0).round() / 1000.0),
                        objects_lost: obj,
                        label: String::new(),
                    }
                })
                .collect()
        })
        .collect();
    let mut rows: Vec<ReplayRow> = per_series.into_iter().flatten().collect();
    // A migration that must arrive is reconciled across stores
    // (`moves::apply`), not by the per-series engine above: each move is
    // judged on the nights after its window closes, as the nightly scan
    // judges it (a target may be measured up to a week late).
    for plan in plans.iter().filter(|p| !p.moved_to.is_empty()) {
        let Some(si) = set.keys.iter().position(|k| *k == plan.key) else {
            continue;
        };
        let name = set.get(si).label();
        let due = nights
            .iter()
            .filter(|&&n| n >= plan.window.end && n <= plan.window.end + 8 * 86_400);
        for &night in due {
            let mut found = Vec::new();
            crate::moves::apply_until(
                set,
                std::slice::from_ref(plan),
                &inputs.thresholds,
                &timestamp::format(night, false),
                night,
                &mut found,
            );
            if let Some(f) = found.iter().find(|f| f.kind == Kind::Loss) {
                if f.start_ts >= from {
                    let reported = night - clock::END_OF_DAY;
                    rows.retain(|r| !(r.series == name && r.start == f.start));
                    rows.push(ReplayRow {
                        series: name.clone(),
                        start: f.start.clone(),
                        first_reported: timestamp::format(reported, true),
                        delay_days: Some(
                            (reported - (f.start_ts - f.start_ts.rem_euclid(86_400))) / 86_400,
                        ),
                        final_kind: "loss".into(),
                        drop_pct: Some(f.drop_pct),
                        objects_lost: f.objects_lost,
                        label: String::new(),
                    });
                }
                break;
            }
            if found.iter().any(|f| f.kind == Kind::Moved) {
                break;
            }
        }
    }
    let replay_secs = t0.elapsed().as_secs_f64();

    // Labels: which reported losses were real, and which labelled losses were missed.
    let mut missed = 0;
    let mut labelled_in_range = 0;
    if let Some(labels) = &labels {
        for l in labels
            .iter()
            .filter(|l| l.kind == "loss" && l.ts >= from && l.ts <= to + clock::END_OF_DAY)
        {
            let name = l.key.join("/");
            let Some(si) = set.find(&name) else { continue };
            labelled_in_range += 1;
            let times = set.get(si).times;
            let li = times.partition_point(|&t| t < l.ts);
            let hit = rows.iter_mut().find(|r| {
                r.series == name
                    && r.label.is_empty()
                    && timestamp::parse(&r.start)
                        .map(|st| near(times, times.partition_point(|&t| t < st), li))
                        .unwrap_or(false)
            });
            match hit {
                Some(r) => r.label = "loss".into(),
                None => {
                    missed += 1;
                    rows.push(ReplayRow {
                        series: name,
                        start: timestamp::format(l.ts, l.ts.rem_euclid(86_400) == 0),
                        first_reported: String::new(),
                        delay_days: None,
                        final_kind: "missed".into(),
                        drop_pct: None,
                        objects_lost: None,
                        label: "loss".into(),
                    });
                }
            }
        }
    }
    rows.sort_by(|a, b| (&a.start, &a.series).cmp(&(&b.start, &b.series)));

    let summary = render_summary(
        &rows,
        labels.is_some(),
        labelled_in_range,
        missed,
        nights.len(),
        replay_secs,
        &args.follow,
    );
    crate::out!("{summary}");
    super::write_folder(&args.out, "replay", wall, |dir| {
        crate::report::write_csv(&dir.join("replay.csv"), &rows)?;
        crate::report::write_file(dir.join("replay.md"), &summary)
    })?;
    Ok(Outcome::Clean)
}

fn render_summary(
    rows: &[ReplayRow],
    with_labels: bool,
    labelled: usize,
    missed: usize,
    nights: usize,
    secs: f64,
    follow: &[String],
) -> String {
    let reported: Vec<&ReplayRow> = rows.iter().filter(|r| r.delay_days.is_some()).collect();
    let losses: Vec<&&ReplayRow> = reported.iter().filter(|r| r.final_kind == "loss").collect();
    let mut delays: Vec<i64> = losses.iter().filter_map(|r| r.delay_days).collect();
    delays.sort_unstable();
    let median = delays.get(delays.len() / 2).copied().unwrap_or(0);
    let same_night = delays.iter().filter(|&&d| d == 0).count();
    let mut s = format!(
        "replayed {nights} nights in {secs:.2} s: {} loss alert(s); {} still a loss at the end (delay from start: median {median} day(s), max {} day(s); {same_night} reported the night they happened), {} came back (provisional, then transient), {} later explained or gone\n",
        reported.len(),
        losses.len(),
        delays.last().copied().unwrap_or(0),
        reported.iter().filter(|r| r.final_kind == "transient").count(),
        reported.iter().filter(|r| matches!(r.final_kind.as_str(), "planned" | "moved" | "gone")).count(),
    );
    if with_labels {
        s.push_str(&format!(
            "labelled losses in range: {labelled}; reported: {}; missed: {missed}\n",
            labelled - missed
        ));
    }
    for r in rows
        .iter()
        .filter(|r| follow.contains(&r.series) && r.delay_days.is_some())
    {
        s.push_str(&format!(
            "{}: drop starting {} first reported as a loss on the night of {} (delay {} day(s)){}; in the end: {}\n",
            crate::fmt::term(&r.series.replace('/', " / ")),
            r.start,
            r.first_reported,
            r.delay_days.unwrap_or(0),
            r.objects_lost.map(|o| format!(", {} files", fmt::count(o))).unwrap_or_default(),
            r.final_kind
        ));
    }
    s
}
