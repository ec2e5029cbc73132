//! `overview.png`: the run at a glance: the largest losses ranked by bytes
//! dropped (log scale), then, if there is room, the largest transient and
//! planned reductions, coloured by kind.

use super::style::{colour, init_fonts, kind_colour, px, FONT, LABEL_PX, TITLE_PX};
use super::{draw_err, ChartError};
use crate::detect::Kind;
use crate::findings::Finding;
use crate::fmt;
use plotters::prelude::*;
use std::path::Path;

/// Most bars shown.
pub const MAX_BARS: usize = 25;

/// Renders the overview of `findings` (already sorted or not); those marked
/// in `tonight` come first and are labelled NEW, the rest are context.
pub fn render(
    path: &Path,
    findings: &[Finding],
    tonight: &[bool],
    subtitle: &str,
    size: (u32, u32),
) -> Result<(), ChartError> {
    init_fonts();
    let h = size.1;
    let (title_px, label_px) = (px(TITLE_PX, h), px(LABEL_PX, h));
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(draw_err)?;
    let count = |k: Kind| findings.iter().filter(|f| f.kind == k).count();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let title = format!(
        "{}, {}, {}",
        plural(count(Kind::Loss), "loss", "losses"),
        plural(count(Kind::Transient), "transient drop", "transient drops"),
        plural(
            count(Kind::Planned) + count(Kind::Moved),
            "planned reduction or move",
            "planned reductions or moves"
        )
    );
    let body = super::draw_header(&root, &title, subtitle, h)?;

    // Losses first, biggest first; remaining room for the biggest transient
    // and planned reductions.
    let is_new = |i: usize| tonight.get(i).copied().unwrap_or(false);
    let mut order: Vec<usize> = (0..findings.len())
        .filter(|&i| findings[i].drop_bytes > 0)
        .collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (&findings[a], &findings[b]);
        (!is_new(a))
            .cmp(&!is_new(b))
            .then((fa.kind != Kind::Loss).cmp(&(fb.kind != Kind::Loss)))
            .then(fb.drop_bytes.cmp(&fa.drop_bytes))
    });
    order.truncate(MAX_BARS);
    let new_flags: Vec<bool> = order.iter().map(|&i| is_new(i)).collect();
    let mut ranked: Vec<&Finding> = order.iter().map(|&i| &findings[i]).collect();
    ranked.truncate(MAX_BARS);
    if ranked.is_empty() {
        body.draw(&Text::new(
            "No sudden reductions found.",
            (40, 60),
            (FONT, title_px).into_font().color(&colour::GREY),
        ))
        .map_err(draw_err)?;
        root.present()
            .map_err(|e| draw_err(format!("{}: {e}", path.display())))?;
        return Ok(());
    }
    let n = ranked.len();
    // At least 8 rows, so a few bars stay bars rather than blocks.
    let rows = n.max(8);
    let max = ranked
        .iter()
        .map(|f| f.drop_bytes as f64)
        .fold(1.0, f64::max);
    let min = ranked
        .iter()
        .map(|f| f.drop_bytes as f64)
        .fold(f64::INFINITY, f64::min)
        .max(1.0);
    let x0 = min / 3.0;
    let x1 = max * 6.0;
    let names: Vec<String> = ranked
        .iter()
        .zip(&new_flags)
        .map(|(f, new)| {
            format!(
                "{}{}, {}",
                if *new { "NEW " } else { "" },
                crate::fmt::plain(&f.key.join(" — ")),
                fmt::date(f.start_ts)
            )
        })
        .collect();
    let name_w =
        names.iter().map(|s| s.chars().count()).max().unwrap_or(20) as f64 * label_px * 0.55 + 20.0;
    let mut chart = ChartBuilder::on(&body)
        .margin_left(16)
        .margin_right(40)
        .margin_bottom(12)
        .x_label_area_size(label_px * 2.4)
        .y_label_area_size(name_w.min(size.0 as f64 * 0.5))
        .build_cartesian_2d((x0..x1).log_scale(), -0.5..(rows as f64 - 0.5))
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .bold_line_style(colour::GRID)
        .light_line_style(colour::GRID.mix(0.3))
        .axis_style(colour::GREY)
        .y_labels(rows)
        .y_label_formatter(&|y| {
            let i = rows as f64 - 1.0 - y.round();
            if (y - y.round()).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
                names[i as usize].clone()
            } else {
                String::new()
            }
        })
        .x_label_formatter(&|x| fmt::bytes(*x))
        .x_desc("bytes dropped (log scale)")
        .label_style((FONT, label_px).into_font().color(&colour::INK))
        .draw()
        .map_err(draw_err)?;
    let any_new = new_flags.iter().any(|n| *n);
    for (i, f) in ranked.iter().enumerate() {
        let y = (rows - 1 - i) as f64;
        // Tonight's findings in full colour, earlier ones faded as context.
        let colr = if any_new && !new_flags[i] {
            kind_colour(f.kind).mix(0.35)
        } else {
            kind_colour(f.kind).mix(1.0)
        };
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x0, y - 0.36), (f.drop_bytes as f64, y + 0.36)],
                colr.filled(),
            )))
            .map_err(draw_err)?;
        let files = f
            .objects_lost
            .map(|o| format!(", {} files", fmt::count(o)))
            .unwrap_or_default();
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((f.drop_bytes as f64, y))
                    + Text::new(
                        format!(
                            "{} ({:.1}%{files})",
                            fmt::bytes(f.drop_bytes as f64),
                            f.drop_pct
                        ),
                        (8, -(label_px as i32) / 2),
                        (FONT, label_px * 0.9).into_font().color(&colour::INK),
                    ),
            ))
            .map_err(draw_err)?;
    }
    for kind in Kind::ALL {
        let colr = kind_colour(kind);
        chart
            .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())
            .map_err(draw_err)?
            .label(kind.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 7), (x + 22, y + 7)], colr.filled()));
    }
    super::draw_legend(&mut chart, SeriesLabelPosition::LowerRight, label_px)?;
    root.present()
        .map_err(|e| draw_err(format!("{}: {e}", path.display())))?;
    Ok(())
}
