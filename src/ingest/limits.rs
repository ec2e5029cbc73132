//! Failing early instead of exhausting memory: before any file is parsed,
//! the rows of the input are counted (Parquet footers) or estimated (CSV:
//! file size over the mean line length of the first megabyte), and the
//! memory a run needs is compared with the limit (`--max-memory`, default
//! 90 % of the memory available when the run starts).
//!
//! Model (measured, see BENCHMARKS.md "Memory"): the peak is about
//! [`BYTES_PER_ROW`] per row kept (the compact rows, the series order and
//! one gathered column while grouping), plus one piece being parsed (never
//! more than the input itself: [`PIECE_EXPANSION`] times its size, at most
//! [`PIECE`]), plus the program ([`PROGRAM`]). Every term grows with the
//! input or is small: the shipped 2 MB dataset needs about 0.1 GB (measured
//! peak 45–90 MB), not a fixed half gigabyte.

use super::{IngestError, Shard};
use polars::prelude::*;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Peak bytes per row kept (measured 46 B at 42.7 M rows; rounded up).
pub const BYTES_PER_ROW: u64 = 56;
/// The program itself: code, polars, the chart renderer and its fonts.
pub const PROGRAM: u64 = 96 << 20;
/// The largest piece being parsed at once, decoded (CSV blocks of 32 MB,
/// Parquet runs of row groups), in bytes.
pub const PIECE: u64 = 256 << 20;
/// Decoded bytes per input byte of a piece (Parquet is compressed).
pub const PIECE_EXPANSION: u64 = 8;

/// Parses `8G`, `512M`, `2GB`, `1.5G`, `100000` (bytes).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim().to_ascii_uppercase();
    let t = t.strip_suffix('B').unwrap_or(&t);
    let (num, mul) = match t.chars().last() {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        Some('T') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}`: expected a size such as 8G, 512M or a number of bytes"))?;
    if !(v.is_finite() && v > 0.0) {
        return Err(format!("`{s}`: the size must be positive"));
    }
    Ok((v * mul as f64) as u64)
}

/// Memory available to a new process (MemAvailable), if known.
pub fn available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
}

/// Rows in a file: exact for Parquet, estimated for CSV.
fn rows_in(path: &Path) -> Result<(u64, bool), IngestError> {
    let unreadable = |reason: String| IngestError::Unreadable {
        file: path.display().to_string(),
        reason,
    };
    // Never blocks: a FIFO is refused, not waited on.
    let open = || {
        crate::safefs::open_regular(path, crate::safefs::Links::Follow)
            .map_err(|e| unreadable(super::io_reason(path, &e)))
    };
    if super::extension(path) == "parquet" {
        let f = open()?;
        // A file whose footer cannot be read fails later with its own message.
        return Ok(ParquetReader::new(f)
            .num_rows()
            .map_or((0, true), |n| (n as u64, true)));
    }
    let f = open()?;
    let size = f
        .metadata()
        .map_err(|e| unreadable(super::io_reason(path, &e)))?
        .len();
    let mut head = Vec::with_capacity(1 << 20);
    f.take(1 << 20)
        .read_to_end(&mut head)
        .map_err(|e| unreadable(super::io_reason(path, &e)))?;
    let lines = memchr::memchr_iter(b'\n', &head).count().max(1) as u64;
    let per_line = (head.len() as u64 / lines).max(1);
    Ok((size / per_line, false))
}

/// Stops the run before reading when the input needs more memory than the
/// limit allows.
pub fn check(
    files: &[PathBuf],
    shard: Option<Shard>,
    limit: Option<u64>,
) -> Result<(), IngestError> {
    let (limit, source) = match (limit, available()) {
        (Some(l), _) => (l, "--max-memory"),
        (None, Some(a)) => (a / 10 * 9, "90% of the memory available now"),
        (None, None) => return Ok(()),
    };
    let mut rows = 0u64;
    let mut size = 0u64;
    let mut estimated = false;
    for f in files {
        let (r, exact) = rows_in(f)?;
        rows += r;
        size += std::fs::metadata(f).map_or(0, |m| m.len());
        estimated |= !exact;
    }
    let kept = match shard {
        Some(s) => rows / u64::from(s.count) + 1,
        None => rows,
    };
    let need = need(kept, size);
    if need <= limit {
        return Ok(());
    }
    Err(IngestError::TooLarge(format!(
        "the input ({}{} rows in {} file(s){}) needs about {} of memory, more than the limit of {} ({}). Split the estate with `scan --shard I/N` on several machines and `merge`, run on a machine with more memory, or raise the limit with --max-memory",
        if estimated { "about " } else { "" },
        rows,
        files.len(),
        shard.map_or(String::new(), |s| format!(", of which shard {s} keeps about {kept}")),
        size_text(need),
        size_text(limit),
        source
    )))
}

/// Memory a run needs for `rows` kept rows read from `input_bytes` of files.
pub fn need(rows: u64, input_bytes: u64) -> u64 {
    let piece = input_bytes.saturating_mul(PIECE_EXPANSION).min(PIECE);
    rows.saturating_mul(BYTES_PER_ROW)
        .saturating_add(piece)
        .saturating_add(PROGRAM)
}

/// `0.1 GB`, `1.9 GB`: sizes in GiB with one decimal, `512 MB` below 1 GiB.
fn size_text(b: u64) -> String {
    if b < 1 << 30 {
        format!("{} MB", b.div_ceil(1 << 20))
    } else {
        format!("{:.1} GB", b as f64 / f64::from(1u32 << 30))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn need_grows_with_the_input() {
        use super::need;
        // the shipped data: 253 k rows in 2 MB of Parquet, peak 45–90 MB measured
        let shipped = need(252_686, 2_100_000);
        assert!(shipped > 90 << 20 && shipped < 200 << 20, "{shipped}");
        // 42.7 M rows, peak 1.86 GB measured
        let big = need(42_700_000, 400 << 20);
        assert!(big > 1_860_000_000 && big < 3 << 30, "{big}");
        assert!(need(1_000_000, 10 << 20) < need(2_000_000, 10 << 20));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("8G"), Ok(8 << 30));
        assert_eq!(parse_size("512m"), Ok(512 << 20));
        assert_eq!(parse_size("2GB"), Ok(2 << 30));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("1.5G"), Ok(3 << 29));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("-1G").is_err());
    }
}
