//! Charts (plotters, PNG): one file per chart kind, shared style in
//! [`style`]. Rendering needs no system fonts or libraries: the fonts are
//! embedded and the bitmap backend encodes PNG itself.

pub mod moves;
pub mod overview;
pub mod series;
pub mod style;
pub mod tune;

use crate::detect::Kind;
use crate::findings::Finding;
use crate::fmt;
use crate::ingest::SeriesSet;
use crate::planned::{self, PlannedRow};
use rayon::prelude::*;
use std::path::Path;

/// A chart that could not be drawn or written.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// plotters failed (drawing or writing the PNG).
    #[error("cannot draw chart: {0}")]
    Draw(String),
}

/// plotters' drawing errors as a [`ChartError`].
pub(crate) fn draw_err<E: std::fmt::Display>(e: E) -> ChartError {
    ChartError::Draw(e.to_string())
}

/// Draws the bold title and the grey subtitle lines (separated by newlines)
/// at the top of a chart; returns the area below them.
pub(crate) fn draw_header<'a>(
    root: &plotters::drawing::DrawingArea<
        plotters::prelude::BitMapBackend<'a>,
        plotters::coord::Shift,
    >,
    title: &str,
    subtitle: &str,
    height: u32,
) -> Result<
    plotters::drawing::DrawingArea<plotters::prelude::BitMapBackend<'a>, plotters::coord::Shift>,
    ChartError,
> {
    use plotters::prelude::*;
    use style::{colour, px, FONT, SUBTITLE_PX, TITLE_PX};
    let (title_px, sub_px) = (px(TITLE_PX, height), px(SUBTITLE_PX, height));
    let lines: Vec<&str> = subtitle.lines().collect();
    let (top, body) =
        root.split_vertically((title_px + sub_px * 1.3 * lines.len() as f64 + 32.0) as u32);
    top.draw(&Text::new(
        title.to_string(),
        (28, 14),
        (FONT, title_px)
            .into_font()
            .style(FontStyle::Bold)
            .color(&colour::INK),
    ))
    .map_err(draw_err)?;
    for (k, line) in lines.iter().enumerate() {
        let y = 22 + title_px as i32 + (k as f64 * sub_px * 1.3) as i32;
        top.draw(&Text::new(
            line.to_string(),
            (28, y),
            (FONT, sub_px).into_font().color(&colour::GREY),
        ))
        .map_err(draw_err)?;
    }
    Ok(body)
}

/// Draws the legend of a chart in the shared style.
pub(crate) fn draw_legend<'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut plotters::chart::ChartContext<'a, plotters::prelude::BitMapBackend<'a>, CT>,
    position: plotters::chart::SeriesLabelPosition,
    text_px: f64,
) -> Result<(), ChartError> {
    use plotters::prelude::*;
    chart
        .configure_series_labels()
        .position(position)
        .margin(12)
        .background_style(WHITE.mix(0.9))
        .border_style(style::colour::GRID)
        .label_font(
            (style::FONT, text_px)
                .into_font()
                .color(&style::colour::INK),
        )
        .draw()
        .map_err(draw_err)
}

/// A file name safe on every system: lower-case letters, digits and dashes.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Longest readable part (the key values) of a chart file name or an
/// anchor, in bytes: a file name stays under 100 bytes however long the names.
pub const SLUG_KEY_MAX: usize = 60;

/// Whether a key value slugs losing nothing but case and the difference
/// between a space and a hyphen: ASCII letters and digits in words separated
/// by single spaces or hyphens (`Kent Police`, `Body-worn video`).
fn plain_key(k: &str) -> bool {
    !k.is_empty()
        && k.split([' ', '-'])
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The readable part of a series' file names and anchors: the slugs of its
/// key values joined by `-`, at most [`SLUG_KEY_MAX`] bytes (`series` when
/// nothing readable is left); and whether it is lossy on its own, so that
/// the name needs [`id_hash`] to stay unique: a value that is not
/// [`plain_key`] (punctuation, non-Latin letters, control characters),
/// a cut, or nothing left.
pub fn key_slug(key: &[String]) -> (String, bool) {
    let parts: Vec<String> = key
        .iter()
        .map(|k| slug(k))
        .filter(|s| !s.is_empty())
        .collect();
    let mut out = parts.join("-");
    let mut lossy = !key.iter().all(|k| plain_key(k));
    if out.len() > SLUG_KEY_MAX {
        out.truncate(SLUG_KEY_MAX);
        out.truncate(out.trim_end_matches('-').len());
        lossy = true;
    }
    if out.is_empty() {
        out = "series".into();
        lossy = true;
    }
    (out, lossy)
}

/// 8 hex digits of FNV-1a (64 bit, folded to 32) over the parts, each
/// preceded by its length: the same tuple always gives the same hash, and
/// `("A-B", "C")` and `("A", "B-C")` give different ones.
pub fn id_hash(parts: &[&str]) -> String {
    let mut fnv = crate::hash::Fnv::default();
    for p in parts {
        fnv.eat(&(p.len() as u64).to_le_bytes()).eat(p.as_bytes());
    }
    let h = fnv.finish();
    format!("{:08x}", (h ^ (h >> 32)) as u32)
}

/// A finding's name in two forms: readable only, and with the hash of its
/// identity (key tuple, kind, start); `lossy` when the readable one alone
/// could be another finding's.
struct Stem {
    bare: String,
    hashed: String,
    lossy: bool,
}

/// `<key>-<start>` (chart) or `<key>-<kind>-<start>` (anchor).
fn stem(f: &Finding, anchor: bool) -> Stem {
    let (key, lossy) = key_slug(&f.key);
    let bare = if anchor {
        slug(&format!("{key}-{}-{}", f.kind.as_str(), f.start))
    } else {
        format!("{key}-{}", slug(&f.start.replace(':', "")))
    };
    let mut id: Vec<&str> = f.key.iter().map(String::as_str).collect();
    id.push(f.kind.as_str());
    id.push(&f.start);
    let hashed = format!("{bare}-{}", id_hash(&id));
    Stem {
        bare,
        hashed,
        lossy,
    }
}

/// Unique names for findings (the rule of [`chart_names`]).
fn unique(findings: &[Finding], anchor: bool) -> Vec<String> {
    use std::collections::{HashMap, HashSet};
    type Id<'a> = (&'a [String], &'a str, &'a str);
    let ids: Vec<Id> = findings
        .iter()
        .map(|f| (f.key.as_slice(), f.kind.as_str(), f.start.as_str()))
        .collect();
    let stems: Vec<Stem> = findings.iter().map(|f| stem(f, anchor)).collect();
    let mut names: Vec<String> = stems
        .iter()
        .map(|s| if s.lossy { &s.hashed } else { &s.bare }.clone())
        .collect();
    // A readable name two different findings would share: each gets its hash.
    let mut owners: HashMap<&str, HashSet<Id>> = HashMap::new();
    for (n, i) in names.iter().zip(&ids) {
        owners.entry(n.as_str()).or_default().insert(*i);
    }
    let shared: HashSet<String> = owners
        .into_iter()
        .filter(|(_, o)| o.len() > 1)
        .map(|(n, _)| n.to_string())
        .collect();
    for (n, s) in names.iter_mut().zip(&stems) {
        if shared.contains(n.as_str()) {
            *n = s.hashed.clone();
        }
    }
    // Hashes that still meet (never seen; a 32-bit hash could): `-2`, `-3`,
    // in the findings' order.
    let mut taken: HashMap<String, Id> = HashMap::new();
    for (n, i) in names.iter_mut().zip(&ids) {
        let base = n.clone();
        let mut k = 1;
        while taken.get(n.as_str()).is_some_and(|o| o != i) {
            k += 1;
            *n = format!("{base}-{k}");
        }
        taken.insert(n.clone(), *i);
    }
    names
}

/// `charts/<key>-<start>.png` for a finding on its own (`charts/kent-police-
/// body-worn-video-2023-04-22.png`), with `-<hash>` before `.png` when its
/// key is lossy ([`key_slug`]). A run names its charts with
/// [`chart_names`], which also separates names that differ only in case,
/// spaces or hyphens.
pub fn chart_name(f: &Finding) -> String {
    let s = stem(f, false);
    format!("charts/{}.png", if s.lossy { s.hashed } else { s.bare })
}

/// The chart file names of a run's findings, unique per finding (key tuple,
/// kind, start) and at most about 100 bytes. The readable name
/// `charts/<key>-<start>.png` gets `-<hash>` ([`id_hash`] of the key values,
/// kind and start) when the key is lossy on its own ([`key_slug`]: not plain
/// ASCII words, too long, no Latin letters or digits) or when another
/// finding of the run has the same readable name (`Kent Police` and
/// `kent police`, or `("A-B", "C")` and `("A", "B-C")`). Ordinary names keep
/// their readable names.
pub fn chart_names(findings: &[Finding]) -> Vec<String> {
    unique(findings, false)
        .into_iter()
        .map(|n| format!("charts/{n}.png"))
        .collect()
}

/// The anchors of a run's findings' sections (`<key>-<kind>-<start>`), by the
/// rule of [`chart_names`].
pub fn anchors(findings: &[Finding]) -> Vec<String> {
    unique(findings, true)
}

/// The move chart of a migration loss: its source, its targets (as
/// `moved_to` names them) and the planned window it fell in.
fn move_chart<'a>(
    f: &'a Finding,
    set: &'a SeriesSet,
    plans: &[PlannedRow],
) -> Option<moves::MoveChart<'a>> {
    let src = set.keys.iter().position(|k| *k == f.key)?;
    let targets: Vec<_> = f
        .moved_to
        .split("; ")
        .filter_map(|n| set.find(n))
        .map(|i| set.get(i))
        .collect();
    let w = plans.iter().find(|r| {
        r.key == f.key
            && !r.moved_to.is_empty()
            && r.window.start <= f.start_ts
            && f.start_ts <= r.window.end
    })?;
    (!targets.is_empty()).then(|| moves::MoveChart {
        finding: f,
        source: set.get(src),
        targets,
        window: (w.window.start, w.window.end),
    })
}

/// A title a person understands (on one line: names from the data have
/// line breaks as spaces and control characters shown escaped).
pub fn finding_title(f: &Finding) -> String {
    let who = crate::fmt::plain(&f.key.join(" — ")).into_owned();
    let files = f
        .objects_lost
        .map(|o| format!(" ({} files)", fmt::count(o)))
        .unwrap_or_default();
    let what = fmt::bytes(f.drop_bytes as f64);
    let when = fmt::date_time(f.start_ts);
    match f.kind {
        Kind::Loss => format!("{who}: {what}{files} lost on {when}"),
        Kind::Transient => format!(
            "{who}: {what}{files} unavailable on {when}, back {}",
            f.recovered_ts.map_or("later".to_string(), fmt::date)
        ),
        Kind::Planned => format!("{who}: {what}{files} removed on {when} (planned)"),
        Kind::Moved => format!("{who}: {what}{files} moved on {when} (arrived)"),
    }
}

/// The lines under the title: the test, the planned window, and when the
/// finding was detected when that is outside the chart's range (a scan of
/// history).
pub fn finding_subtitle(f: &Finding, detected_at: i64, chart_to: i64) -> String {
    let z = if f.z_score < -100.0 {
        "over 100σ".to_string()
    } else {
        format!("{:.1}σ", -f.z_score)
    };
    let mut first = format!(
        "{:.1}% drop between {} and {}, {z} below the series' normal change ({})",
        f.drop_pct,
        fmt::date_time(f.before_ts),
        fmt::date_time(f.end_ts),
        fmt::p_value(f.p_value)
    );
    if detected_at > chart_to {
        first.push_str(&format!("; detected {}", fmt::date_time(detected_at)));
    }
    let reason = crate::fmt::plain(&f.planned_reason);
    let second = if reason.is_empty() {
        "No planned window covers it.".to_string()
    } else if f.exceeded_plan {
        format!("Happened during the planned window \"{reason}\" but went beyond its plan.")
    } else {
        format!("Explained by the planned window \"{reason}\".")
    };
    format!("{first}\n{second}")
}

/// How finding charts are drawn.
#[derive(Debug, Clone, Copy)]
pub struct ChartOptions {
    /// When the findings were detected (marked when inside a chart's range).
    pub detected_at: i64,
    /// Samples after a drop drawn with the expected band.
    pub recovery_secs: i64,
    /// Size in pixels.
    pub size: (u32, u32),
}

/// Renders one chart per finding (in parallel) into `dir/charts/`, and sets
/// each finding's `chart` field. `detected_at` is marked when it lies in range.
pub fn render_findings(
    dir: &Path,
    findings: &mut [Finding],
    set: &SeriesSet,
    plans: &[PlannedRow],
    opts: &ChartOptions,
    only: &[bool],
    progress: &indicatif::ProgressBar,
) -> Result<(), ChartError> {
    let ChartOptions {
        detected_at,
        recovery_secs,
        size,
    } = *opts;
    std::fs::create_dir_all(dir.join("charts")).map_err(|e| ChartError::Draw(e.to_string()))?;
    let snapshot: Vec<Finding> = findings.to_vec();
    let names: Vec<String> = chart_names(&snapshot);
    // Every chart marks the other findings of its series: group them once.
    let mut by_series: std::collections::HashMap<usize, Vec<&Finding>> =
        std::collections::HashMap::new();
    for g in &snapshot {
        if let Some(t) = &g.trace {
            by_series.entry(t.series).or_default().push(g);
        }
    }
    snapshot
        .par_iter()
        .zip(names.par_iter())
        .enumerate()
        .filter(|(i, _)| only.get(*i).copied().unwrap_or(true))
        .try_for_each(|(_, (f, name))| {
            // A migration: what left against what arrived (the gap shaded
            // when something never arrived).
            if !f.moved_to.is_empty() {
                if let Some(c) = move_chart(f, set, plans) {
                    let r = moves::render(&dir.join(name), &c, size);
                    progress.inc(1);
                    return r;
                }
            }
            // Only a finding this run's engine made can be drawn from the series.
            let Some(trace) = &f.trace else {
                return Ok(());
            };
            let s = set.get(trace.series);
            let step = f.interval_secs.max(1);
            let from = f.before_ts - (90 * 86_400).max(60 * step);
            let to = f.end_ts + (30 * 86_400).max(20 * step);
            let same: Vec<&Finding> = by_series.get(&trace.series).cloned().unwrap_or_default();
            let to = to.min(s.times.last().copied().unwrap_or(to)).max(f.end_ts);
            let chart = series::SeriesChart {
                title: finding_title(f),
                subtitle: finding_subtitle(f, detected_at, to),
                times: s.times,
                bytes: s.bytes,
                step_secs: step,
                from: from.max(s.times.first().copied().unwrap_or(from)),
                to,
                findings: same,
                focus: Some(f),
                plans: planned::for_series(plans, s.key),
                detected: Some(detected_at),
                recovery_secs,
            };
            let r = series::render(&dir.join(name), &chart, size).map(|_| ());
            progress.inc(1);
            r
        })?;
    for (i, (f, name)) in findings.iter_mut().zip(names).enumerate() {
        let drawn =
            f.trace.is_some() || (!f.moved_to.is_empty() && move_chart(f, set, plans).is_some());
        if only.get(i).copied().unwrap_or(true) && drawn {
            f.chart = name;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::series::{render, SeriesChart};
    use super::style::colour;
    use crate::analysis::analyze;
    use crate::detect::{DetectParams, PlanWindow};
    use crate::ingest::SeriesSet;

    /// A growing daily series with a 12 % loss on day 150.
    fn set() -> SeriesSet {
        let t0 = 1_672_617_600; // 2023-01-02
        let mut times = Vec::new();
        let mut bytes = Vec::new();
        let mut level = 1e13;
        for i in 0..200i64 {
            level *= if i % 7 < 5 { 1.003 } else { 1.001 };
            if i == 150 {
                level *= 0.88;
            }
            times.push(t0 + i * 86_400);
            bytes.push(level * (1.0 + 0.0004 * (i as f64 * 1.7).sin()));
        }
        let n = times.len();
        SeriesSet {
            key_names: vec!["force".into(), "system".into()],
            keys: vec![vec!["Kent Police".into(), "Custody".into()]],
            offsets: vec![0, n],
            objects: vec![f64::NAN; n],
            times,
            bytes,
            has_objects: false,
        }
    }

    fn decode(path: &std::path::Path) -> (u32, u32, Vec<u8>) {
        let dec = png::Decoder::new(std::fs::File::open(path).unwrap());
        let mut r = dec.read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size()];
        let info = r.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    /// The finding of [`set`] under another key (and start, kind).
    fn named(key: [&str; 2], start: &str, kind: crate::detect::Kind) -> crate::findings::Finding {
        let mut f = analyze(&set(), &[], &DetectParams::default(), "").remove(0);
        f.key = key.iter().map(|k| k.to_string()).collect();
        f.start = start.into();
        f.kind = kind;
        f
    }

    #[test]
    fn slugs_are_readable_unique_and_short() {
        use super::{anchors, chart_name, chart_names, id_hash, key_slug};
        use crate::detect::Kind::{Loss, Transient};
        let k = |a: &str, b: &str| vec![a.to_string(), b.to_string()];
        assert_eq!(
            key_slug(&k("Kent Police", "Body-worn video")),
            ("kent-police-body-worn-video".into(), false)
        );
        assert_eq!(key_slug(&k("A/B", "C")), ("a-b-c".into(), true));
        assert_eq!(key_slug(&k("警察", "記録")), ("series".into(), true));
        assert_eq!(
            key_slug(&k("Heddlu/警察", "ANPR")),
            ("heddlu-anpr".into(), true)
        );
        let (long, lossy) = key_slug(&k(&"Long Name ".repeat(24), "Custody"));
        assert!(lossy && long.len() <= super::SLUG_KEY_MAX && !long.ends_with('-'));
        // the tuple, not a joined string
        assert_ne!(id_hash(&["A-B", "C"]), id_hash(&["A", "B-C"]));
        assert_eq!(id_hash(&["A", "B"]), id_hash(&["A", "B"]));
        assert_eq!(id_hash(&["A", "B"]).len(), 8);

        let ordinary = named(["Kent Police", "Body-worn video"], "2023-04-22", Loss);
        assert_eq!(
            chart_name(&ordinary),
            "charts/kent-police-body-worn-video-2023-04-22.png"
        );
        let timed = named(["Kent Police", "ANPR"], "2023-04-22T06:00:00", Transient);
        assert_eq!(
            chart_name(&timed),
            "charts/kent-police-anpr-2023-04-22t060000.png"
        );
        assert_eq!(
            anchors(&[ordinary.clone(), timed.clone()]),
            [
                "kent-police-body-worn-video-loss-2023-04-22",
                "kent-police-anpr-transient-2023-04-22t06-00-00"
            ]
        );
        // lossy on its own: hashed even alone
        let slash = named(["A/B", "C"], "2021-04-11", Loss);
        assert!(chart_name(&slash).starts_with("charts/a-b-c-2021-04-11-"));
        // shared readable names: all who share get their hash, the rest not
        let fs = [
            named(["Kent Police", "Custody"], "2021-04-11", Loss),
            named(["kent police", "Custody"], "2021-04-11", Loss),
            named(["A-B", "C"], "2021-04-11", Loss),
            named(["A", "B-C"], "2021-04-11", Loss),
            slash.clone(),
            ordinary.clone(),
        ];
        let names = chart_names(&fs);
        let distinct: std::collections::HashSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), fs.len(), "{names:?}");
        assert_eq!(names[5], chart_name(&ordinary));
        assert_eq!(names[4], chart_name(&slash));
        for n in &names[..4] {
            let stem = n.strip_suffix(".png").unwrap();
            let hash = &stem[stem.len() - 9..];
            assert!(
                hash.starts_with('-') && hash[1..].bytes().all(|b| b.is_ascii_hexdigit()),
                "{n}"
            );
        }
        // the same finding twice keeps one name
        assert_eq!(
            chart_names(&[slash.clone(), slash.clone()]),
            [chart_name(&slash), chart_name(&slash)]
        );
        let ids = anchors(&fs);
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), fs.len(), "{ids:?}");
    }

    #[test]
    fn drop_is_drawn_where_it_happened() {
        let s = set();
        let findings = analyze(&s, &[], &DetectParams::default(), "");
        assert_eq!(findings.len(), 1);
        let f = &findings[0];
        let series = s.get(0);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.png");
        let chart = SeriesChart {
            title: super::finding_title(f),
            subtitle: super::finding_subtitle(f, i64::MAX, 0),
            times: series.times,
            bytes: series.bytes,
            step_secs: 86_400,
            from: series.times[60],
            to: series.times[199],
            findings: vec![f],
            focus: Some(f),
            plans: vec![PlanWindow {
                start: series.times[100],
                end: series.times[110],
                expected_drop_pct: Some(5.0),
                reason: "disposal".into(),
            }],
            detected: Some(series.times[151]),
            recovery_secs: 3 * 86_400,
        };
        let layout = render(&path, &chart, (1200, 700)).unwrap();
        let (w, h, px) = decode(&path);
        assert_eq!((w, h), (1200, 700));
        // not blank: plenty of non-white pixels
        let ink = px.chunks(3).filter(|p| p != &[255, 255, 255]).count();
        assert!(ink > 20_000, "only {ink} non-white pixels");
        // the loss colour, per pixel column, inside the plot rows: its densest
        // column is within the drop's columns
        let (x0, x1) = layout.focus_px.unwrap();
        let (r0, r1) = layout.plot_rows;
        let c = colour::LOSS;
        let mut per_col = vec![0usize; w as usize];
        for y in r0.max(0)..r1.min(h as i32) {
            let row = &px[y as usize * w as usize * 3..(y as usize + 1) * w as usize * 3];
            for (n, p) in per_col.iter_mut().zip(row.chunks(3)) {
                if p == [c.0, c.1, c.2] {
                    *n += 1;
                }
            }
        }
        let (best, count) = per_col.iter().enumerate().max_by_key(|(_, n)| **n).unwrap();
        assert!(*count > 50, "drop line too short: {count} px");
        assert!(
            (x0 - 3..=x1 + 3).contains(&(best as i32)),
            "densest loss column {best} outside drop {x0}..{x1}"
        );
        // the planned window's green tint appears only left of the drop (days 100-110 < 150)
        let planned_cols: Vec<usize> = (0..w as usize)
            .filter(|&x| {
                let y = (r0 + r1) as usize / 2;
                let i = (y * w as usize + x) * 3;
                // shaded: a light tint of the planned colour, greener than grey
                let (r, g, b) = (i32::from(px[i]), i32::from(px[i + 1]), i32::from(px[i + 2]));
                g > r + 5 && g >= b && r < 250
            })
            .collect();
        assert!(
            !planned_cols.is_empty() && planned_cols.iter().all(|&x| (x as i32) < x0),
            "planned shading {planned_cols:?} not left of {x0}"
        );
    }
}
