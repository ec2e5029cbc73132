//! One series over a time range: the stored bytes (gaps drawn as gaps),
//! planned windows shaded and named, every finding marked, and for the
//! finding the chart is about, the expected range the detector used, the
//! drop shaded and labelled, and when it was detected.

use super::style::{colour, date_label, date_ticks, init_fonts, kind_colour, px, FONT, LABEL_PX};
use super::{draw_err, ChartError};
use crate::detect::PlanWindow;
use crate::findings::Finding;
use crate::fmt;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// What to draw.
#[derive(Debug, Clone)]
pub struct SeriesChart<'a> {
    /// First line (bold).
    pub title: String,
    /// Lines under the title (grey), separated by newlines.
    pub subtitle: String,
    /// Timestamps of the whole series.
    pub times: &'a [i64],
    /// Bytes of the whole series.
    pub bytes: &'a [f64],
    /// Sampling interval in seconds.
    pub step_secs: i64,
    /// Start of the range shown.
    pub from: i64,
    /// End of the range shown.
    pub to: i64,
    /// Findings of this series (those in range are marked).
    pub findings: Vec<&'a Finding>,
    /// The finding the chart is about.
    pub focus: Option<&'a Finding>,
    /// Planned windows of this series.
    pub plans: Vec<PlanWindow>,
    /// When the focus was detected, if that is inside the range.
    pub detected: Option<i64>,
    /// Samples after the drop over which recovery was judged.
    pub recovery_secs: i64,
}

/// Where things ended up, for tests and callers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layout {
    /// Pixel columns of the focus drop (from the last sample before it to its end).
    pub focus_px: Option<(i32, i32)>,
    /// Pixel rows of the plotting area.
    pub plot_rows: (i32, i32),
}

/// Renders the chart to a PNG file.
pub fn render(path: &Path, c: &SeriesChart, size: (u32, u32)) -> Result<Layout, ChartError> {
    init_fonts();
    let h = size.1;
    let lo = c.times.partition_point(|&t| t < c.from);
    let hi = c.times.partition_point(|&t| t <= c.to);
    let (from, to) = (c.from as f64, c.to.max(c.from + 1) as f64);
    let span = to - from;

    // The expected path of the focus, drawn as a band.
    let band: Vec<(f64, f64, f64)> = c.focus.map(|f| expected_band(f, c)).unwrap_or_default();
    let visible = &c.bytes[lo..hi];
    let mut y_lo = visible.iter().copied().fold(f64::INFINITY, f64::min);
    let mut y_hi = visible.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for &(_, l, u) in &band {
        y_lo = y_lo.min(l);
        y_hi = y_hi.max(u);
    }
    if !y_lo.is_finite() {
        (y_lo, y_hi) = (0.0, 1.0);
    }
    let pad = ((y_hi - y_lo) * 0.08).max(y_hi.abs() * 0.002).max(1.0);
    let y0 = if y_lo <= 0.0 {
        0.0
    } else {
        (y_lo - pad).max(0.0)
    };
    let y1 = y_hi + pad * 1.8; // room for labels at the top
    let (unit, unit_size) = fmt::unit_for(y_hi);
    let decimals = if (y1 - y0) / unit_size < 2.0 {
        2
    } else if (y1 - y0) / unit_size < 20.0 {
        1
    } else {
        0
    };

    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(draw_err)?;
    let label_px = px(LABEL_PX, h);
    let body = super::draw_header(&root, &c.title, &c.subtitle, h)?;

    let label_style = (FONT, label_px).into_font().color(&colour::INK);
    let mut chart = ChartBuilder::on(&body)
        .margin_left(16)
        .margin_right(36)
        .margin_bottom(12)
        .margin_top(8)
        .x_label_area_size(label_px * 2.4)
        .y_label_area_size(label_px * 6.5)
        .build_cartesian_2d(from..to, y0..y1)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .bold_line_style(colour::GRID)
        .light_line_style(colour::GRID.mix(0.35))
        .axis_style(colour::GREY)
        .y_labels(8)
        .x_labels(0)
        .disable_x_mesh()
        .y_label_formatter(&|y| format!("{:.*} {unit}", decimals, y / unit_size))
        .label_style((FONT, label_px).into_font().color(&colour::GREY))
        .draw()
        .map_err(draw_err)?;

    // Time axis on calendar boundaries (drawn here: plotters' own ticks fall
    // on arbitrary instants).
    let ticks = date_ticks(c.from, c.to.max(c.from + 1));
    for &t in &ticks {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(t, y0), (t, y1)],
                colour::GRID.stroke_width(1),
            )))
            .map_err(draw_err)?;
    }
    {
        let (px_range, py_range) = chart.plotting_area().get_pixel_range();
        let axis_style = (FONT, label_px)
            .into_font()
            .color(&colour::GREY)
            .pos(Pos::new(HPos::Center, VPos::Top));
        let mut last_right = i32::MIN;
        for &t in &ticks {
            let (x, _) = chart.backend_coord(&(t, y0));
            let text = date_label(t, span);
            let half = (text.chars().count() as f64 * label_px * 0.3) as i32;
            if x - half <= last_right + 8 || x - half < px_range.start - 40 {
                continue; // would overlap the previous label
            }
            last_right = x + half;
            root.draw(&Text::new(text, (x, py_range.end + 8), axis_style.clone()))
                .map_err(draw_err)?;
        }
    }

    // Planned windows, shaded and named.
    for w in c
        .plans
        .iter()
        .filter(|w| w.end >= c.from && w.start <= c.to)
    {
        let (a, b) = (w.start.max(c.from) as f64, w.end.min(c.to) as f64);
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(a, y0), (b, y1)],
                colour::PLANNED.mix(0.13).filled(),
            )))
            .map_err(draw_err)?
            .label(format!(
                "planned: {}",
                shorten(&crate::fmt::plain(&w.reason), 60)
            ))
            .legend(|(x, y)| {
                Rectangle::new(
                    [(x, y - 7), (x + 22, y + 7)],
                    colour::PLANNED.mix(0.3).filled(),
                )
            });
        let expect = w
            .expected_drop_pct
            .map_or("size not given".to_string(), |e| {
                format!("expected drop {e}%")
            });
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((a, y1))
                    + Text::new(
                        format!("planned ({expect})"),
                        (6, 6),
                        (FONT, label_px * 0.9).into_font().color(&colour::PLANNED),
                    ),
            ))
            .map_err(draw_err)?;
    }

    if let Some(f) = c.focus {
        let colr = kind_colour(f.kind);
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(f.before_ts as f64, y0), (f.end_ts as f64, y1)],
                colr.mix(0.12).filled(),
            )))
            .map_err(draw_err)?;
        if band.len() >= 2 {
            let mut poly: Vec<(f64, f64)> = band.iter().map(|&(t, _, u)| (t, u)).collect();
            poly.extend(band.iter().rev().map(|&(t, l, _)| (t, l)));
            chart
                .draw_series(std::iter::once(Polygon::new(
                    poly,
                    colour::EXPECTED.mix(0.35).filled(),
                )))
                .map_err(draw_err)?
                .label("expected range (detector's baseline, ±3σ)")
                .legend(|(x, y)| {
                    Rectangle::new(
                        [(x, y - 7), (x + 22, y + 7)],
                        colour::EXPECTED.mix(0.5).filled(),
                    )
                });
        }
    }

    // The series, broken at gaps.
    let gap = (c.step_secs as f64 * 1.5).max(1.0);
    let mut first = true;
    let mut seg: Vec<(f64, f64)> = Vec::new();
    let idx: Vec<usize> = (lo..hi).collect();
    for (k, &i) in idx.iter().enumerate() {
        seg.push((c.times[i] as f64, c.bytes[i]));
        let last = k + 1 == idx.len() || (c.times[idx[k + 1]] - c.times[i]) as f64 > gap;
        if last {
            if seg.len() == 1 {
                chart
                    .draw_series(std::iter::once(Circle::new(
                        seg[0],
                        3,
                        colour::SERIES.filled(),
                    )))
                    .map_err(draw_err)?;
            } else {
                let s = chart
                    .draw_series(LineSeries::new(seg.clone(), colour::SERIES.stroke_width(2)))
                    .map_err(draw_err)?;
                if first {
                    s.label("stored (gaps = no data)").legend(|(x, y)| {
                        PathElement::new(vec![(x, y), (x + 22, y)], colour::SERIES.stroke_width(3))
                    });
                    first = false;
                }
            }
            seg.clear();
        }
    }

    // Every finding of the series in range.
    let mut labelled = std::collections::HashSet::new();
    for f in c
        .findings
        .iter()
        .filter(|f| f.end_ts >= c.from && f.before_ts <= c.to)
    {
        let colr = kind_colour(f.kind);
        let pts = vec![
            (f.before_ts as f64, f.before_bytes as f64),
            (f.end_ts as f64, f.after_bytes as f64),
        ];
        let s = chart
            .draw_series(LineSeries::new(pts, colr.stroke_width(4)))
            .map_err(draw_err)?;
        if labelled.insert(f.kind) {
            s.label(format!("{} (sudden drop)", f.kind.as_str()))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 22, y)], colr.stroke_width(4))
                });
        }
        chart
            .draw_series(std::iter::once(TriangleMarker::new(
                (f.end_ts as f64, f.after_bytes as f64),
                7,
                colr.filled(),
            )))
            .map_err(draw_err)?;
    }

    // Detection marker.
    if let Some(t) = c.detected.filter(|t| (c.from..=c.to).contains(t)) {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(t as f64, y0), (t as f64, y1)],
                10,
                7,
                colour::DETECTED.stroke_width(2),
            ))
            .map_err(draw_err)?
            .label(format!("detected {}", fmt::date_time(t)))
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 22, y)], colour::DETECTED.stroke_width(2))
            });
    }

    // The numbers, next to the drop.
    let mut focus_px = None;
    if let Some(f) = c.focus {
        let (xa, _) = chart.backend_coord(&(f.before_ts as f64, y0));
        let (xb, yb) = chart.backend_coord(&(f.end_ts as f64, f.after_bytes as f64));
        focus_px = Some((xa, xb));
        let mut lines = vec![format!(
            "−{} (−{:.1}%)",
            fmt::bytes(f.drop_bytes as f64),
            f.drop_pct
        )];
        if let Some(o) = f.objects_lost {
            lines.push(format!("{} files lost", fmt::count(o)));
        }
        lines.push(format!(
            "{} on {}",
            f.kind.as_str(),
            fmt::date_time(f.start_ts)
        ));
        let text_w =
            lines.iter().map(|l| l.chars().count()).max().unwrap_or(10) as f64 * label_px * 0.62
                + 16.0;
        let text_h = lines.len() as f64 * label_px * 1.3 + 10.0;
        let (plot_x, _) = chart.plotting_area().get_pixel_range();
        let dx = if (xb as f64 + 24.0 + text_w) < plot_x.end as f64 {
            24
        } else {
            -(text_w as i32) - 24
        };
        let dy = (label_px * 0.5) as i32;
        let style = (FONT, label_px)
            .into_font()
            .style(FontStyle::Bold)
            .color(&kind_colour(f.kind));
        let root_area = chart.plotting_area().strip_coord_spec();
        let (px0, py0) = (
            plot_x.start,
            chart.plotting_area().get_pixel_range().1.start,
        );
        let plot_h = chart.plotting_area().get_pixel_range().1.len() as i32;
        let mut at = (xb - px0 + dx, yb - py0 + dy);
        if at.1 + text_h as i32 > plot_h - 6 {
            at.1 = (plot_h - 6 - text_h as i32).max(6); // keep the box inside the plot
        }
        root_area
            .draw(&Rectangle::new(
                [
                    (at.0 - 8, at.1 - 6),
                    (at.0 + text_w as i32 - 8, at.1 + text_h as i32 - 6),
                ],
                ShapeStyle::from(&WHITE.mix(0.9)).filled(),
            ))
            .map_err(draw_err)?;
        root_area
            .draw(&Rectangle::new(
                [
                    (at.0 - 8, at.1 - 6),
                    (at.0 + text_w as i32 - 8, at.1 + text_h as i32 - 6),
                ],
                kind_colour(f.kind).stroke_width(1),
            ))
            .map_err(draw_err)?;
        for (k, l) in lines.iter().enumerate() {
            let st = if k == 0 {
                style.clone()
            } else {
                label_style.clone()
            };
            root_area
                .draw(&Text::new(
                    l.clone(),
                    (at.0, at.1 + (k as f64 * label_px * 1.3) as i32),
                    st,
                ))
                .map_err(draw_err)?;
        }
    }

    super::draw_legend(&mut chart, SeriesLabelPosition::UpperLeft, label_px * 0.95)?;
    let rows = chart.plotting_area().get_pixel_range().1;
    root.present()
        .map_err(|e| draw_err(format!("{}: {e}", path.display())))?;
    Ok(Layout {
        focus_px,
        plot_rows: (rows.start, rows.end),
    })
}

/// Expected level from the last sample before the drop onwards: the level
/// before × exp(expected change per interval × k), ±3σ√k.
fn expected_band(f: &Finding, c: &SeriesChart) -> Vec<(f64, f64, f64)> {
    let step = c.step_secs.max(1) as f64;
    let span = (f.end_ts - f.before_ts) as f64 + c.recovery_secs as f64;
    let n = ((span / step).ceil() as usize).clamp(1, 2_000);
    let Some(trace) = &f.trace else {
        return Vec::new();
    };
    (0..=n)
        .map(|k| {
            let t = f.before_ts as f64 + k as f64 * step;
            let mean = f.before_bytes as f64 * (trace.expected_step_log * k as f64).exp();
            let w = 3.0 * trace.step_sigma_log * (k.max(1) as f64).sqrt();
            (t, mean * (-w).exp(), mean * w.exp())
        })
        .collect()
}

fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}
