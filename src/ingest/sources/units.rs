//! Values with units as Grafana formats them ("Formatted data" on): the
//! `bytes` unit (IEC: `B`, `KiB` … `EiB`), `decbytes` (SI: `B`, `kB`, `MB`
//! … `EB`), and the `short` unit for counts (`K`, `Mil`, `Bil`, `Tri`,
//! `Quadr`). A plain number is taken as it is.

use super::Val;

/// The multiplier of a unit suffix, if it is one Grafana writes.
fn multiplier(unit: &str) -> Option<f64> {
    const KI: f64 = 1024.0;
    Some(match unit {
        "" | "B" | "b" | "bytes" | "Bytes" => 1.0,
        "KiB" => KI,
        "MiB" => KI * KI,
        "GiB" => KI.powi(3),
        "TiB" => KI.powi(4),
        "PiB" => KI.powi(5),
        "EiB" => KI.powi(6),
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "PB" => 1e15,
        "EB" => 1e18,
        "K" | "k" => 1e3,
        "Mil" | "M" => 1e6,
        "Bil" => 1e9,
        "Tri" | "T" => 1e12,
        "Quadr" => 1e15,
        _ => return None,
    })
}

/// Parses `1.50 TB`, `512 GiB`, `1.2 Mil`, `1234`; anything else is kept as
/// text to be rejected with it.
pub fn parse(s: &str) -> Val {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e'))
        .unwrap_or(t.len());
    // `1e9` has an `e` that is part of the number; `1 EB` does not reach here
    // with the `e` (upper case).
    let (num, unit) = t.split_at(split);
    let num = num.trim();
    let unit = unit.trim();
    match (num.parse::<f64>(), multiplier(unit)) {
        (Ok(v), Some(m)) if v.is_finite() => Val::Num(v * m),
        _ => Val::Bad(s.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse("1.50 TB"), Val::Num(1.5e12));
        assert_eq!(parse("512 GiB"), Val::Num(512.0 * 1024f64.powi(3)));
        assert_eq!(parse("900 B"), Val::Num(900.0));
        assert_eq!(parse("12 kB"), Val::Num(12e3));
        assert_eq!(parse("3.4 Mil"), Val::Num(3.4e6));
        assert_eq!(parse("1234"), Val::Num(1234.0));
        assert_eq!(parse("1.5e12"), Val::Num(1.5e12));
        assert_eq!(parse("-5 GB"), Val::Num(-5e9));
        assert_eq!(parse("12 furlongs"), Val::Bad("12 furlongs".into()));
        assert_eq!(parse("abc"), Val::Bad("abc".into()));
    }
}
