//! The chart of a migration that lost data: what left the source and what
//! arrived in its target(s), both counted from their levels before the
//! window, over the window and a week either side; the gap between the two
//! (what never arrived) is shaded. The reconciled figures are in the title.

use super::style::{colour, init_fonts, px, FONT, LABEL_PX};
use super::{draw_err, ChartError};
use crate::findings::Finding;
use crate::fmt;
use crate::ingest::series::Series;
use plotters::prelude::*;
use std::path::Path;

/// A move to draw.
pub struct MoveChart<'a> {
    /// The finding (a loss with `moved_to`).
    pub finding: &'a Finding,
    /// The source series.
    pub source: Series<'a>,
    /// The target series.
    pub targets: Vec<Series<'a>>,
    /// The planned window (seconds).
    pub window: (i64, i64),
}

/// Level change of `s` since its last reading before `t0`, at its readings in `[from, to]`.
fn since(s: &Series, t0: i64, from: i64, to: i64) -> Vec<(f64, f64)> {
    let b = s.times.partition_point(|&x| x < t0);
    let Some(b) = b.checked_sub(1) else {
        return Vec::new();
    };
    let base = s.bytes[b];
    (b..s.times.len())
        .filter(|&i| s.times[i] >= from && s.times[i] <= to && s.bytes[i].is_finite())
        .map(|i| (s.times[i] as f64, s.bytes[i] - base))
        .collect()
}

/// Renders the chart.
pub fn render(path: &Path, c: &MoveChart, size: (u32, u32)) -> Result<(), ChartError> {
    init_fonts();
    let h = size.1;
    let label_px = px(LABEL_PX, h);
    let (w0, w1) = c.window;
    let (from, to) = (w0 - 7 * 86_400, w1 + 7 * 86_400);
    // what left the source (positive), what arrived in the targets
    let left: Vec<(f64, f64)> = since(&c.source, w0, from, to)
        .into_iter()
        .map(|(t, d)| (t, (-d).max(0.0)))
        .collect();
    let mut arrived: Vec<(f64, f64)> = Vec::new();
    for t in &c.targets {
        for (x, d) in since(t, w0, from, to) {
            match arrived.iter_mut().find(|(y, _)| *y == x) {
                Some(p) => p.1 += d,
                None => arrived.push((x, d)),
            }
        }
    }
    arrived.sort_by(|a, b| a.0.total_cmp(&b.0));
    let top = left
        .iter()
        .chain(&arrived)
        .map(|p| p.1)
        .fold(1.0_f64, f64::max)
        * 1.15;
    let bottom = arrived.iter().map(|p| p.1).fold(0.0_f64, f64::min).min(0.0);
    let (unit, unit_size) = fmt::unit_for(top);
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(draw_err)?;
    let f = c.finding;
    let title = format!(
        "{}: {} left, {} never arrived",
        fmt::plain(&f.key.join(" — ")),
        fmt::bytes((f.drop_bytes + f.arrived_bytes.unwrap_or(0)) as f64),
        fmt::bytes(f.shortfall_bytes.unwrap_or(f.drop_bytes) as f64),
    );
    let subtitle = format!(
        "Moved to {} during \"{}\" ({} to {})\nEach line counts from its level before the window; shaded: what left and never arrived",
        fmt::plain(&f.moved_to),
        fmt::plain(&f.planned_reason),
        fmt::date(w0),
        fmt::date(w1)
    );
    let body = super::draw_header(&root, &title, &subtitle, h)?;
    let mut chart = ChartBuilder::on(&body)
        .margin_left(16)
        .margin_right(36)
        .margin_bottom(12)
        .x_label_area_size(label_px * 2.4)
        .y_label_area_size(label_px * 6.5)
        .build_cartesian_2d(from as f64..to as f64, bottom..top)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .bold_line_style(colour::GRID)
        .light_line_style(colour::GRID.mix(0.35))
        .axis_style(colour::GREY)
        .x_labels(8)
        .y_labels(8)
        .x_label_formatter(&|x| fmt::date(*x as i64))
        .y_label_formatter(&|y| format!("{:.1} {unit}", y / unit_size))
        .label_style((FONT, label_px).into_font().color(&colour::GREY))
        .draw()
        .map_err(draw_err)?;
    // the window
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(w0 as f64, bottom), (w1 as f64, top)],
            colour::PLANNED.mix(0.12).filled(),
        )))
        .map_err(draw_err)?;
    // the gap: between what left and what arrived, where less arrived
    // (the arrived line as drawn: straight between its readings)
    let arrived_at = |t: f64| {
        let i = arrived.partition_point(|p| p.0 <= t);
        match (i.checked_sub(1).map(|j| arrived[j]), arrived.get(i)) {
            (Some(p), Some(q)) if q.0 > p.0 => p.1 + (q.1 - p.1) * (t - p.0) / (q.0 - p.0),
            (Some(p), _) => p.1,
            _ => 0.0,
        }
    };
    for w in left.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (ra, rb) = (arrived_at(a.0), arrived_at(b.0));
        if a.1 > ra || b.1 > rb {
            chart
                .draw_series(std::iter::once(Polygon::new(
                    vec![
                        (a.0, a.1),
                        (b.0, b.1),
                        (b.0, rb.min(b.1)),
                        (a.0, ra.min(a.1)),
                    ],
                    colour::LOSS.mix(0.25).filled(),
                )))
                .map_err(draw_err)?;
        }
    }
    chart
        .draw_series(LineSeries::new(left.clone(), colour::LOSS.stroke_width(3)))
        .map_err(draw_err)?
        .label(format!("left {}", fmt::plain(&f.key.join("/"))))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], colour::LOSS.stroke_width(3)));
    chart
        .draw_series(LineSeries::new(
            arrived.clone(),
            colour::SERIES.stroke_width(3),
        ))
        .map_err(draw_err)?
        .label(format!("arrived in {}", fmt::plain(&f.moved_to)))
        .legend(|(x, y)| {
            PathElement::new(vec![(x, y), (x + 22, y)], colour::SERIES.stroke_width(3))
        });
    super::draw_legend(&mut chart, SeriesLabelPosition::UpperLeft, label_px)?;
    root.present()
        .map_err(|e| draw_err(format!("{}: {e}", path.display())))?;
    Ok(())
}
