//! Shared look of every chart: sizes, fonts (DejaVu Sans, embedded, so no
//! system fonts or libraries are needed), the Okabe–Ito colour-blind-safe
//! palette, and axis formatting.

use plotters::style::{register_font, FontStyle, RGBColor};
use std::sync::Once;

/// Default chart size in pixels.
pub const DEFAULT_SIZE: (u32, u32) = (1600, 900);
/// Font family name the charts use.
pub const FONT: &str = "sans-serif";
/// Title, subtitle, label and small text sizes, relative to a 900 px height.
pub const TITLE_PX: f64 = 30.0;
/// Subtitle size.
pub const SUBTITLE_PX: f64 = 20.0;
/// Axis and annotation text size.
pub const LABEL_PX: f64 = 18.0;

/// Okabe & Ito (2008) palette.
pub mod colour {
    use plotters::style::RGBColor;
    /// Text.
    pub const INK: RGBColor = RGBColor(33, 33, 33);
    /// Secondary text and axes.
    pub const GREY: RGBColor = RGBColor(110, 110, 110);
    /// Grid lines.
    pub const GRID: RGBColor = RGBColor(225, 225, 225);
    /// The series itself.
    pub const SERIES: RGBColor = RGBColor(0, 114, 178);
    /// The expected range.
    pub const EXPECTED: RGBColor = RGBColor(86, 180, 233);
    /// A loss.
    pub const LOSS: RGBColor = RGBColor(213, 94, 0);
    /// A transient drop.
    pub const TRANSIENT: RGBColor = RGBColor(230, 159, 0);
    /// A planned reduction / planned window.
    pub const PLANNED: RGBColor = RGBColor(0, 158, 115);
    /// A reconciled move (Okabe–Ito sky blue).
    pub const MOVED: RGBColor = RGBColor(86, 180, 233);
    /// The detection marker.
    pub const DETECTED: RGBColor = RGBColor(204, 121, 167);
}

/// Colour of a finding kind.
pub fn kind_colour(kind: crate::detect::Kind) -> RGBColor {
    match kind {
        crate::detect::Kind::Loss => colour::LOSS,
        crate::detect::Kind::Transient => colour::TRANSIENT,
        crate::detect::Kind::Planned => colour::PLANNED,
        crate::detect::Kind::Moved => colour::MOVED,
    }
}

static FONTS: Once = Once::new();

/// Registers the embedded fonts with plotters (once per process).
pub fn init_fonts() {
    FONTS.call_once(|| {
        // The bytes are valid TrueType files shipped in the repository.
        let _ = register_font(
            FONT,
            FontStyle::Normal,
            include_bytes!("../../assets/fonts/DejaVuSans.ttf"),
        );
        let _ = register_font(
            FONT,
            FontStyle::Bold,
            include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf"),
        );
    });
}

/// Scales a pixel size designed for 900 px height to the actual height.
pub fn px(size: f64, height: u32) -> f64 {
    (size * height as f64 / 900.0).max(8.0)
}

/// Date label for a time-axis tick, as precise as the ticks are dense.
pub fn date_label(ts: f64, span_secs: f64) -> String {
    let Some(d) = chrono::DateTime::from_timestamp(ts as i64, 0) else {
        return String::new();
    };
    if span_secs <= 3.0 * 86_400.0 {
        d.format("%-d %b %H:%M").to_string()
    } else if span_secs <= 200.0 * 86_400.0 {
        d.format("%-d %b %Y").to_string()
    } else {
        d.format("%b %Y").to_string()
    }
}

/// Tick positions on calendar boundaries between `from` and `to` (seconds):
/// every 6 hours, day, week (Mondays), half month (1st and 15th), month or
/// quarter, whichever gives a readable number of ticks.
pub fn date_ticks(from: i64, to: i64) -> Vec<f64> {
    use chrono::{Datelike, Duration, NaiveDate};
    let span = (to - from).max(1);
    let day = 86_400;
    if span <= 3 * day || span <= 14 * day {
        let step = if span <= 3 * day { day / 4 } else { day };
        let first = from.div_euclid(step) * step + step;
        return (0..)
            .map(|k| first + k * step)
            .take_while(|t| *t <= to)
            .map(|t| t as f64)
            .collect();
    }
    let start = chrono::DateTime::from_timestamp(from, 0)
        .map(|d| d.date_naive())
        .unwrap_or_default();
    let end = chrono::DateTime::from_timestamp(to, 0)
        .map(|d| d.date_naive())
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut d = start;
    let keep = |d: NaiveDate| -> bool {
        if span <= 60 * day {
            d.weekday() == chrono::Weekday::Mon
        } else if span <= 200 * day {
            d.day() == 1 || d.day() == 15
        } else if span <= 800 * day {
            d.day() == 1
        } else {
            d.day() == 1 && (d.month() - 1) % 3 == 0
        }
    };
    while d <= end {
        if keep(d) {
            let t = d
                .and_hms_opt(0, 0, 0)
                .map(|x| x.and_utc().timestamp())
                .unwrap_or(0);
            if t >= from && t <= to {
                out.push(t as f64);
            }
        }
        d += Duration::days(1);
    }
    out
}

/// Parses `WIDTHxHEIGHT` (e.g. `1600x900`).
pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("`{s}`: expected WIDTHxHEIGHT, e.g. 1600x900"))?;
    let w: u32 = w
        .trim()
        .parse()
        .map_err(|_| format!("`{s}`: width is not a number"))?;
    let h: u32 = h
        .trim()
        .parse()
        .map_err(|_| format!("`{s}`: height is not a number"))?;
    if !(400..=8000).contains(&w) || !(300..=8000).contains(&h) {
        return Err(format!(
            "`{s}`: width must be 400-8000 and height 300-8000 pixels"
        ));
    }
    Ok((w, h))
}
