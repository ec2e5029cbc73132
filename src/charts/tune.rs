//! `tune.png`: the precision/recall trade-off of every setting tried, with
//! the starting (current) and the recommended settings marked.

use super::style::{colour, init_fonts, px, FONT, LABEL_PX};
use super::{draw_err, ChartError};
use plotters::prelude::*;
use std::path::Path;

/// Renders the scatter of (recall, precision) points.
pub fn render(
    path: &Path,
    points: &[(f64, f64)],
    current: (f64, f64),
    recommended: (f64, f64),
    size: (u32, u32),
) -> Result<(), ChartError> {
    init_fonts();
    let h = size.1;
    let label_px = px(LABEL_PX, h);
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(draw_err)?;
    let body = super::draw_header(
        &root,
        "Threshold tuning: precision against recall of losses",
        &format!(
            "{} settings tried; each point is one setting scored on the tuning series",
            points.len()
        ),
        h,
    )?;
    let lo = |f: fn(&(f64, f64)) -> f64| {
        points
            .iter()
            .map(f)
            .chain([f(&current), f(&recommended)])
            .fold(1.0, f64::min)
    };
    let (x0, y0) = ((lo(|p| p.0) - 0.05).max(0.0), (lo(|p| p.1) - 0.05).max(0.0));
    let mut chart = ChartBuilder::on(&body)
        .margin(20)
        .x_label_area_size(label_px * 3.0)
        .y_label_area_size(label_px * 4.0)
        .build_cartesian_2d(x0..1.005, y0..1.005)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .bold_line_style(colour::GRID)
        .light_line_style(colour::GRID.mix(0.3))
        .axis_style(colour::GREY)
        .x_desc("recall (share of labelled losses found)")
        .y_desc("precision (share of reported losses that are real)")
        .label_style((FONT, label_px).into_font().color(&colour::INK))
        .axis_desc_style((FONT, label_px).into_font().color(&colour::INK))
        .draw()
        .map_err(draw_err)?;
    chart
        .draw_series(
            points
                .iter()
                .map(|&p| Circle::new(p, 5, colour::GREY.mix(0.6).filled())),
        )
        .map_err(draw_err)?
        .label("a setting tried")
        .legend(|(x, y)| Circle::new((x + 10, y), 5, colour::GREY.filled()));
    for (k, (p, colr, name)) in [
        (current, colour::SERIES, "current"),
        (recommended, colour::LOSS, "recommended"),
    ]
    .into_iter()
    .enumerate()
    {
        // labels go left of points near the right edge, one above the other
        let dx = if p.0 > 0.8 {
            -(label_px * 8.0) as i32
        } else {
            14
        };
        let dy = -22 - (k as i32) * (label_px * 1.3) as i32;
        chart
            .draw_series(std::iter::once(
                EmptyElement::at(p)
                    + Circle::new((0, 0), 10 - 3 * k as i32, colr.filled())
                    + Text::new(
                        name.to_string(),
                        (dx, dy),
                        (FONT, label_px)
                            .into_font()
                            .style(FontStyle::Bold)
                            .color(&colr),
                    ),
            ))
            .map_err(draw_err)?
            .label(format!("{name}: precision {:.3}, recall {:.3}", p.1, p.0))
            .legend(move |(x, y)| Circle::new((x + 10, y), 7, colr.filled()));
    }
    super::draw_legend(&mut chart, SeriesLabelPosition::LowerLeft, label_px)?;
    root.present()
        .map_err(|e| draw_err(format!("{}: {e}", path.display())))?;
    Ok(())
}
