//! Grafana's panel CSV export ("Inspect → Data → Download CSV", grafana.com
//! docs "The panel inspect view"; written by `toCSV` in grafana-data's
//! `utils/csv.ts`): wide, a time column (`"Time"`) then one column per
//! series, every header quoted, CRLF line ends, an optional `sep=,` first
//! line ("Download for Excel"), a blank line after each frame (several
//! frames, when not joined by time, follow one another, each with its own
//! header), and the delimiter of the browser's locale (`,` or `;`). Times
//! are epoch milliseconds (raw data) or `YYYY-MM-DD HH:mm:ss` in the
//! dashboard's time zone ("Formatted data"; read as UTC, so export with the
//! dashboard set to UTC). Values are raw numbers or carry units (`1.50 TB`,
//! `512 GiB`, see [`super::units`]); an empty cell is a gap. A series name
//! is a Prometheus series (`name{force="…", system="…"}`) whose labels map
//! to the key columns, or a legend `FORCE/SYSTEM`; a name ending in
//! `objects` gives object counts.

use super::{timestamp_of, units, KeyMap, Metric, SourceOptions, Table};

/// True when a CSV header (first line, or the line after `sep=`) is Grafana's
/// wide shape rather than the long table: a first column named `Time`
/// (any case) and no column named like the bytes column.
pub fn looks_wide(head: &[u8], value_col: &str) -> bool {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    let Some(mut first) = lines.next() else {
        return false;
    };
    if first.starts_with("sep=") {
        match lines.next() {
            Some(l) => first = l,
            None => return false,
        }
    }
    let delim = delimiter(first);
    let names: Vec<String> = first
        .split(delim as char)
        .map(|f| f.trim().trim_matches('"').to_string())
        .collect();
    names.len() >= 2
        && names[0].eq_ignore_ascii_case("time")
        && !names.iter().any(|n| n == value_col)
}

/// `,` unless the line looks `;`-separated (Grafana uses the locale's separator).
fn delimiter(header: &str) -> u8 {
    if header.starts_with("\"Time\";") || header.starts_with("Time;") {
        b';'
    } else if header.starts_with("\"Time\"\t") || header.starts_with("Time\t") {
        b'\t'
    } else {
        b','
    }
}

/// Labels of a series name: `name{a="x", b="y"}`, `{a="x"}`, or a legend
/// (`FORCE/SYSTEM` when it has one part per key column).
fn labels_of(name: &str, cols: &[String]) -> Vec<(String, String)> {
    let name = name.trim();
    if let (Some(open), true) = (name.find('{'), name.ends_with('}')) {
        let mut out = Vec::new();
        let metric = name[..open].trim();
        if !metric.is_empty() {
            out.push(("__name__".to_string(), metric.to_string()));
        }
        let body = &name[open + 1..name.len() - 1];
        let mut rest = body.trim_start();
        while !rest.is_empty() {
            let Some(eq) = rest.find('=') else { break };
            let key = rest[..eq].trim().to_string();
            let after = rest[eq + 1..].trim_start();
            let Some(after) = after.strip_prefix('"') else {
                break;
            };
            let mut val = String::new();
            let mut chars = after.char_indices();
            let mut end = after.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some((_, 'n')) => val.push('\n'),
                        Some((_, c2)) => val.push(c2),
                        None => {}
                    },
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => val.push(c),
                }
            }
            out.push((key, val));
            rest = after[end..]
                .trim_start()
                .trim_start_matches(',')
                .trim_start();
        }
        return out;
    }
    let mut out = vec![("series".to_string(), name.to_string())];
    let parts: Vec<&str> = name.split('/').map(str::trim).collect();
    if parts.len() == cols.len() && cols.len() > 1 {
        for (c, p) in cols.iter().zip(parts) {
            out.push((c.clone(), p.to_string()));
        }
    } else if cols.len() == 1 {
        out.push((cols[0].clone(), name.to_string()));
    }
    out
}

/// A time cell: epoch milliseconds (or seconds), or a date-time.
fn time_of(cell: &str) -> Result<i64, String> {
    let t = cell.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        let v: i64 = t.parse().map_err(|_| t.to_string())?;
        // 13 digits: milliseconds (Grafana's raw time); 10: seconds
        return Ok(if t.len() >= 12 { v.div_euclid(1000) } else { v });
    }
    timestamp_of(t)
}

/// Reads a Grafana CSV export.
pub fn read(bytes: &[u8], cols: &[String], opts: &SourceOptions) -> Result<Table, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("not valid UTF-8 (byte {})", e.valid_up_to() + 1))?;
    let text = text.trim_start_matches('\u{feff}');
    let mut skip = 0usize;
    let mut body = text;
    let mut delim = None;
    if let Some(rest) = text.strip_prefix("sep=") {
        let d = rest.bytes().next().unwrap_or(b',');
        delim = Some(d);
        let nl = text.find('\n').map_or(text.len(), |i| i + 1);
        body = &text[nl..];
        skip = 1;
    }
    let first_line = body.lines().next().unwrap_or("");
    let delim = delim.unwrap_or_else(|| delimiter(first_line));
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delim)
        .from_reader(body.as_bytes());
    let mut table = Table::new(KeyMap::new(cols, opts, &|_| Vec::new()));
    // Per column of the current frame: (series id, metric), None for time.
    let mut frame: Option<Vec<Option<(u32, Metric)>>> = None;
    let mut time_col = 0usize;
    let mut rec = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(format!("not a readable CSV file: {e}")),
        }
        let line = rec.position().map_or(0, |p| p.line()) + skip as u64;
        if rec.iter().all(|f| f.trim().is_empty()) {
            frame = None; // a blank line ends a frame
            continue;
        }
        // The next frame's header (the `csv` crate skips the blank line before it).
        if frame.is_some()
            && rec
                .get(time_col)
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("time"))
        {
            frame = None;
        }
        let Some(cols_of) = &frame else {
            // a header
            let names: Vec<&str> = rec.iter().collect();
            let Some(t) = names
                .iter()
                .position(|n| n.trim().eq_ignore_ascii_case("time"))
            else {
                return Err(format!(
                    "line {line}: expected a Grafana CSV header with a `Time` column (found: {})",
                    names.join(", ")
                ));
            };
            time_col = t;
            let mut f = Vec::new();
            for (i, n) in names.iter().enumerate() {
                if i == t {
                    f.push(None);
                    continue;
                }
                let labels = labels_of(n, cols);
                let metric = match labels.iter().find(|(k, _)| k == "__name__") {
                    Some((_, m)) if m.ends_with("objects") => Metric::Objects,
                    Some(_) => Metric::Bytes,
                    None if n.trim().ends_with("objects") => Metric::Objects,
                    None => Metric::Bytes,
                };
                let labels: Vec<(String, String)> = if metric == Metric::Objects {
                    // a legend `FORCE/SYSTEM objects` names the series without the suffix
                    match labels_of(n.trim().trim_end_matches("objects").trim(), cols) {
                        l if !n.contains('{') => l,
                        _ => labels,
                    }
                } else {
                    labels
                };
                f.push(Some((table.series_of(&labels), metric)));
            }
            frame = Some(f);
            continue;
        };
        let time = time_of(rec.get(time_col).unwrap_or(""));
        for (i, cell) in rec.iter().enumerate() {
            let Some(Some((sid, metric))) = cols_of.get(i) else {
                continue;
            };
            if cell.trim().is_empty() {
                continue; // no value: a gap
            }
            table.put(*sid, time.clone(), *metric, units::parse(cell), line, false);
        }
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_or_long() {
        assert!(looks_wide(
            b"\"Time\",\"South Yorkshire Police/Body-worn video\"\r\n",
            "bytes"
        ));
        assert!(looks_wide(b"sep=,\r\n\"Time\",\"a\"\r\n", "bytes"));
        assert!(looks_wide(b"\"Time\";\"a\"\r\n", "bytes"));
        assert!(!looks_wide(b"timestamp,force,system,bytes\n", "bytes"));
        assert!(!looks_wide(b"time,force,system,bytes\n", "bytes"));
    }

    #[test]
    fn series_names() {
        let cols = vec!["force".to_string(), "system".to_string()];
        let l = labels_of(
            r#"storage_bytes{force="South \"Yorks\"", system="BWV"}"#,
            &cols,
        );
        assert!(l.contains(&("force".into(), "South \"Yorks\"".into())));
        assert!(l.contains(&("system".into(), "BWV".into())));
        assert!(l.contains(&("__name__".into(), "storage_bytes".into())));
        let l = labels_of("Avon/Evidence store", &cols);
        assert!(l.contains(&("force".into(), "Avon".into())));
        assert!(l.contains(&("system".into(), "Evidence store".into())));
        assert_eq!(time_of("1704067200000"), Ok(1_704_067_200));
        assert_eq!(time_of("2024-01-01 00:00:00"), Ok(1_704_067_200));
    }
}
