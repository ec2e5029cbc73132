//! Charts (plotters, PNG): one file per chart kind, shared style in
//! [`style`]. Rendering needs no system fonts or libraries: the fonts are
//! embedded and the bitmap backend encodes PNG itself.

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

/// `charts/<force>-<system>-<start>.png` for a finding.
pub fn chart_name(f: &Finding) -> String {
    let mut parts: Vec<String> = f.key.iter().map(|k| slug(k)).collect();
    parts.push(slug(&f.start.replace(':', "")));
    format!("charts/{}.png", parts.join("-"))
}

/// A title a person understands.
pub fn finding_title(f: &Finding) -> String {
    let who = f.key.join(" — ");
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
            if f.recovered_at.is_empty() {
                "later".to_string()
            } else {
                fmt::date(parse_ts(&f.recovered_at))
            }
        ),
        Kind::Planned => format!("{who}: {what}{files} removed on {when} (planned)"),
    }
}

fn parse_ts(s: &str) -> i64 {
    crate::ingest::timestamp::parse(s).unwrap_or(0)
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
    let second = if f.planned_reason.is_empty() {
        "No planned window covers it.".to_string()
    } else if f.exceeded_plan {
        format!(
            "Happened during the planned window \"{}\" but went beyond its plan.",
            f.planned_reason
        )
    } else {
        format!("Explained by the planned window \"{}\".", f.planned_reason)
    };
    format!("{first}\n{second}")
}

/// How finding charts are drawn.
#[derive(Debug, Clone, Copy)]
pub struct ChartOptions {
    /// When the findings were detected (marked when inside a chart's range).
    pub detected_at: i64,
    /// Samples after a drop drawn with the expected band.
    pub recovery_samples: usize,
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
        recovery_samples,
        size,
    } = *opts;
    std::fs::create_dir_all(dir.join("charts")).map_err(|e| ChartError::Draw(e.to_string()))?;
    let snapshot: Vec<Finding> = findings.to_vec();
    let names: Vec<String> = snapshot.iter().map(chart_name).collect();
    // Every chart marks the other findings of its series: group them once.
    let mut by_series: std::collections::HashMap<usize, Vec<&Finding>> =
        std::collections::HashMap::new();
    for g in &snapshot {
        by_series.entry(g.series).or_default().push(g);
    }
    snapshot
        .par_iter()
        .zip(names.par_iter())
        .enumerate()
        .filter(|(i, _)| only.get(*i).copied().unwrap_or(true))
        .try_for_each(|(_, (f, name))| {
            let s = set.get(f.series);
            let step = f.interval_secs.max(1);
            let from = f.before_ts - (90 * 86_400).max(60 * step);
            let to = f.end_ts + (30 * 86_400).max(20 * step);
            let same: Vec<&Finding> = by_series.get(&f.series).cloned().unwrap_or_default();
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
                recovery_samples,
            };
            let r = series::render(&dir.join(name), &chart, size).map(|_| ());
            progress.inc(1);
            r
        })?;
    for (i, (f, name)) in findings.iter_mut().zip(names).enumerate() {
        if only.get(i).copied().unwrap_or(true) {
            f.chart = name;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::series::{render, SeriesChart};
    use super::style::colour;
    use crate::detect::{DetectParams, PlanWindow};
    use crate::findings::analyze;
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
            recovery_samples: 3,
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
