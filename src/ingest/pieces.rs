//! Reading one input file in bounded pieces: a CSV file in blocks of about
//! [`CSV_BLOCK`] bytes cut at record boundaries (quote-aware), a Parquet
//! file in runs of whole row groups of about [`PARQUET_ROWS`] rows. Each
//! piece is parsed by polars, validated row by row and appended to
//! [`RawRows`]; the piece's data frame is dropped before the next one is
//! read, so memory holds the compact rows plus one piece, not the file.

use super::sources::{self, Format, SourceOptions};
use super::validate::{process, Ctx, Lines};
use super::{IngestError, InputFile, RawRows, Rejected};

use polars::prelude::*;
use sha2::{Digest, Sha256};
use std::io::{Cursor, Read};
use std::path::Path;

/// Bytes of CSV parsed at a time.
pub(crate) const CSV_BLOCK: usize = 32 << 20;
/// Rows of Parquet read at a time (whole row groups; at least one group).
const PARQUET_ROWS: usize = 4 << 20;

fn sha_hex(h: Sha256) -> String {
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads a whole file into `raw`, returning its manifest entry. A `.json`
/// file is recognised by its first bytes (a monitoring system's export,
/// see [`super::sources`]); a `.csv` file whose header is Grafana's wide
/// shape (`"Time"` then one column per series, no bytes column) is read as
/// a Grafana export, any other `.csv` as the long table.
pub(super) fn read_file(
    path: &Path,
    ctx: &Ctx,
    opts: &SourceOptions,
    groups: Option<&[usize]>,
    raw: &mut RawRows,
    rejected: &mut Vec<Rejected>,
) -> Result<InputFile, IngestError> {
    super::regular_file(path).map_err(|why| ctx.unreadable(why))?;
    match super::extension(path).as_str() {
        "csv" => {
            if sources::grafana::looks_wide(&head(path, ctx)?, &ctx.cols.value) {
                read_export(path, Format::GrafanaCsv, ctx, opts, raw, rejected)
            } else {
                read_csv(path, ctx, raw, rejected)
            }
        }
        "parquet" => read_parquet(path, ctx, groups, raw, rejected),
        "json" => match sources::detect_json(&head(path, ctx)?) {
            Some(f) => read_export(path, f, ctx, opts, raw, rejected),
            None => Err(ctx.unreadable(format!(
                "not a recognised monitoring export: {}",
                sources::JSON_EXPECTED
            ))),
        },
        _ => Err(ctx.unreadable(
            "unknown file type (expected .csv, .parquet, or .json from a monitoring system)",
        )),
    }
}

/// The first 64 KiB of a file, to recognise its format.
fn head(path: &Path, ctx: &Ctx) -> Result<Vec<u8>, IngestError> {
    let f = open_input(path, ctx)?;
    let mut buf = Vec::new();
    f.take(64 << 10)
        .read_to_end(&mut buf)
        .map_err(|e| ctx.unreadable(super::io_reason(path, &e)))?;
    Ok(buf)
}

/// Reads a monitoring system's export (whole, into memory) through its reader.
fn read_export(
    path: &Path,
    format: Format,
    ctx: &Ctx,
    opts: &SourceOptions,
    raw: &mut RawRows,
    rejected: &mut Vec<Rejected>,
) -> Result<InputFile, IngestError> {
    let mut bytes = Vec::new();
    open_input(path, ctx)?
        .read_to_end(&mut bytes)
        .map_err(|e| ctx.unreadable(super::io_reason(path, &e)))?;
    let keys = &ctx.cols.keys;
    let table = match format {
        Format::PrometheusJson => sources::prometheus::read(&bytes, keys, opts),
        Format::AzureJson => sources::azure::read(&bytes, keys, opts),
        Format::CloudWatchJson => sources::cloudwatch::read(&bytes, keys, opts),
        Format::GrafanaCsv => sources::grafana::read(&bytes, keys, opts),
    }
    .map_err(|why| {
        ctx.unreadable(format!(
            "{} ({}): {why}",
            format.name(),
            "recognised by content"
        ))
    })?;
    let rows = table.feed(ctx, raw, rejected)?;
    let mut h = Sha256::new();
    h.update(&bytes);
    Ok(InputFile {
        path: ctx.fname.to_string(),
        size: bytes.len() as u64,
        sha256: sha_hex(h),
        rows,
        format: Some(format.name().to_string()),
        ..InputFile::default()
    })
}

/// Reads a Parquet file, or only the row groups `groups` of it (an
/// incremental run: the others hold only rows before its window).
fn read_parquet(
    path: &Path,
    ctx: &Ctx,
    groups: Option<&[usize]>,
    raw: &mut RawRows,
    rejected: &mut Vec<Rejected>,
) -> Result<InputFile, IngestError> {
    let perr = |e: PolarsError| ctx.unreadable(first_line(&e.to_string()));
    let open = || open_input(path, ctx);
    let mut reader = ParquetReader::new(open()?);
    let schema = reader.schema().map_err(perr)?;
    let md = reader.get_metadata().map_err(perr)?.clone();
    let found: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
    let want = wanted_columns(ctx, &found, "")?;
    // Pieces of whole consecutive row groups (of the chosen ones).
    let chosen = |g: usize| groups.is_none_or(|gs| gs.contains(&g));
    let mut pieces = Vec::new();
    let (mut start, mut len) = (0usize, 0usize);
    let mut first_row = 0usize;
    let mut kept_rows = 0usize;
    for (g, rg) in md.row_groups.iter().enumerate() {
        let n = rg.num_rows();
        if chosen(g) {
            if len == 0 {
                start = first_row;
            }
            len += n;
            kept_rows += n;
            if len >= PARQUET_ROWS {
                pieces.push((start, len));
                len = 0;
            }
        } else if len > 0 {
            pieces.push((start, len));
            len = 0;
        }
        first_row += n;
    }
    if len > 0 || (pieces.is_empty() && groups.is_none()) {
        pieces.push((start, len));
    }
    raw.reserve(raw.sid.len() + kept_rows);
    let mut rows = 0u64;
    let mut parse_secs = 0.0;
    for (off, len) in pieces {
        let mut r = ParquetReader::new(open()?)
            .with_columns(Some(want.clone()))
            .with_slice(Some((off, len)));
        r.set_metadata(md.clone());
        let t = std::time::Instant::now();
        let mut df = r.finish().map_err(perr)?;
        df.rechunk_mut_par();
        parse_secs += t.elapsed().as_secs_f64();
        rows += process(&df, ctx, &Lines::From(off as u64 + 1), raw, rejected)?;
    }
    crate::log::debug(format!("{}: Parquet decoding {parse_secs:.3} s", ctx.fname));
    let mut h = Sha256::new();
    let f = open()?;
    let size = if ctx.only.is_some() {
        // A re-read of a few series: its file record is not kept.
        f.metadata()
            .map_err(|e| ctx.unreadable(e.to_string()))?
            .len()
    } else {
        let mut f = f;
        std::io::copy(&mut f, &mut h).map_err(|e| ctx.unreadable(e.to_string()))?
    };
    Ok(InputFile {
        path: ctx.fname.to_string(),
        size,
        sha256: sha_hex(h),
        rows,
        read: groups.map(|g| {
            format!(
                "{} of {} row groups ({} of {} rows; the others wholly before the window)",
                g.len(),
                md.row_groups.len(),
                kept_rows,
                md.num_rows
            )
        }),
        ..InputFile::default()
    })
}

/// Opens an input file: a regular file only, without blocking (a FIFO put
/// in its place after [`super::expand_inputs`] looked is refused, not waited on).
fn open_input(path: &Path, ctx: &Ctx) -> Result<std::fs::File, IngestError> {
    crate::safefs::open_regular(path, crate::safefs::Links::Follow)
        .map_err(|e| ctx.unreadable(super::io_reason(path, &e)))
}

/// The needed columns that the file has, or a missing-column error.
fn wanted_columns(ctx: &Ctx, found: &[String], hint: &str) -> Result<Vec<String>, IngestError> {
    let cols = ctx.cols;
    let mut want = Vec::new();
    let mut need = |c: &str, required: bool| -> Result<(), IngestError> {
        if found.iter().any(|f| f == c) {
            if !want.iter().any(|w| w == c) {
                want.push(c.to_string());
            }
            Ok(())
        } else if required {
            Err(IngestError::MissingColumn {
                file: ctx.fname.to_string(),
                column: c.to_string(),
                found: format!("{}{hint}", found.join(", ")),
            })
        } else {
            Ok(())
        }
    };
    need(&cols.time, true)?;
    need(&cols.value, true)?;
    for k in &cols.keys {
        need(k, true)?;
    }
    need(&cols.count, cols.count_required)?;
    Ok(want)
}

fn read_csv(
    path: &Path,
    ctx: &Ctx,
    raw: &mut RawRows,
    rejected: &mut Vec<Rejected>,
) -> Result<InputFile, IngestError> {
    let io = |e: std::io::Error| ctx.unreadable(super::io_reason(path, &e));
    let mut f = open_input(path, ctx)?;
    let total = f.metadata().map_err(io)?.len();
    let mut h = Sha256::new();
    let mut size = 0u64;
    let mut buf: Vec<u8> = Vec::new();
    let mut header: Option<Vec<u8>> = None;
    let mut names: Vec<String> = Vec::new();
    // Physical line number of buf[0].
    let mut line = 1u64;
    let mut rows = 0u64;
    let mut eof = false;
    let mut parse_secs = 0.0;
    let mut process_secs = 0.0;
    while !eof || !buf.is_empty() {
        if !eof {
            let at = buf.len();
            // A block, or what is left of a smaller file (and one byte to
            // see its end): a folder of small nightly files must not zero
            // a whole block per file.
            let left = usize::try_from(total.saturating_sub(size)).unwrap_or(usize::MAX);
            buf.resize(at + CSV_BLOCK.min(left.saturating_add(1).max(64 << 10)), 0);
            let mut got = 0;
            while at + got < buf.len() {
                let n = f.read(&mut buf[at + got..]).map_err(io)?;
                if n == 0 {
                    eof = true;
                    break;
                }
                got += n;
            }
            buf.truncate(at + got);
            if ctx.only.is_none() {
                h.update(&buf[at..]); // (a re-read of a few series is not recorded)
            }
            size += got as u64;
        }
        let cut = if eof {
            buf.len()
        } else {
            match last_record_end(&buf) {
                Some(c) => c,
                None => continue, // one record longer than the block: read more
            }
        };
        let mut piece = &buf[..cut];
        let mut piece_line = line;
        if header.is_none() {
            if piece.is_empty() {
                return Err(ctx.unreadable("empty CSV file (no header line)"));
            }
            let end = first_record_end(piece).unwrap_or(piece.len());
            let mut hd = piece[..end].to_vec();
            if hd.starts_with(b"\xef\xbb\xbf") {
                hd.drain(..3);
            }
            if !hd.ends_with(b"\n") {
                hd.push(b'\n');
            }
            let text = std::str::from_utf8(&hd)
                .map_err(|_| ctx.unreadable("line 1: the header is not valid UTF-8"))?;
            names = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(text.as_bytes())
                .records()
                .next()
                .and_then(Result::ok)
                .map(|r| r.iter().map(|s| s.trim().to_string()).collect())
                .unwrap_or_default();
            let hint = match names.as_slice() {
                [one] if one.contains(';') => {
                    " (the file looks semicolon-separated; shrinkwatch reads comma-separated CSV)"
                }
                [one] if one.contains('\t') => {
                    " (the file looks tab-separated; shrinkwatch reads comma-separated CSV)"
                }
                _ => "",
            };
            wanted_columns(ctx, &names, hint)?;
            piece_line += count_lines(&piece[..end]);
            piece = &piece[end..];
            header = Some(hd);
            if !piece.is_empty() && total > 0 {
                // Rough row count from the first piece, to size the buffers once.
                let per = piece.len() as f64 / count_lines(piece).max(1) as f64;
                raw.reserve((total as f64 / per.max(1.0) * 1.02) as usize);
            }
        }
        let hd = header.as_deref().unwrap_or_default();
        if !piece.is_empty() {
            let t = std::time::Instant::now();
            let lines = record_lines(piece, piece_line);
            let df = parse_csv_piece(hd, piece, ctx, piece_line, &names)?;
            parse_secs += t.elapsed().as_secs_f64();
            if let Lines::Map(m) = &lines {
                if m.len() != df.height() {
                    return Err(ctx.unreadable(format!(
                        "lines {}–{}: {} records found but {} rows parsed",
                        piece_line,
                        piece_line + count_lines(piece),
                        m.len(),
                        df.height()
                    )));
                }
            }
            let t = std::time::Instant::now();
            rows += process(&df, ctx, &lines, raw, rejected)?;
            process_secs += t.elapsed().as_secs_f64();
        }
        line = piece_line + count_lines(piece);
        buf.drain(..cut);
    }
    if header.is_none() {
        return Err(ctx.unreadable("empty CSV file (no header line)"));
    }
    crate::log::debug(format!(
        "{}: CSV parsing {parse_secs:.3} s, validating {process_secs:.3} s",
        ctx.fname
    ));
    Ok(InputFile {
        path: ctx.fname.to_string(),
        size,
        sha256: sha_hex(h),
        rows,
        ..InputFile::default()
    })
}

fn count_lines(b: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', b).count() as u64
}

/// End (exclusive) of the last complete record: just after the last newline
/// that is not inside quotes.
fn last_record_end(b: &[u8]) -> Option<usize> {
    if memchr::memchr(b'"', b).is_none() {
        return memchr::memrchr(b'\n', b).map(|i| i + 1);
    }
    let mut quoted = false;
    let mut last = None;
    for i in memchr::memchr2_iter(b'"', b'\n', b) {
        if b[i] == b'"' {
            quoted = !quoted;
        } else if !quoted {
            last = Some(i + 1);
        }
    }
    last
}

/// End (exclusive) of the first record.
fn first_record_end(b: &[u8]) -> Option<usize> {
    let mut quoted = false;
    for i in memchr::memchr2_iter(b'"', b'\n', b) {
        if b[i] == b'"' {
            quoted = !quoted;
        } else if !quoted {
            return Some(i + 1);
        }
    }
    None
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|&c| c == b'\r' || c == b'\n')
}

/// The line of each record in a piece that starts at line `first`: records
/// are separated by unquoted newlines (a blank line is a record of nulls).
fn record_lines(b: &[u8], first: u64) -> Lines {
    let simple = memchr::memchr(b'"', b).is_none()
        && memchr::memmem::find(b, b"\n\n").is_none()
        && memchr::memmem::find(b, b"\n\r\n").is_none()
        && !b.starts_with(b"\n")
        && !b.starts_with(b"\r\n");
    if simple {
        return Lines::From(first);
    }
    let mut out = Vec::new();
    let mut quoted = false;
    let mut line = first;
    let mut rec_start = 0usize;
    let mut rec_line = first;
    for i in memchr::memchr2_iter(b'"', b'\n', b) {
        if b[i] == b'"' {
            quoted = !quoted;
            continue;
        }
        line += 1;
        if !quoted {
            // polars reads a blank line inside the data as a row of nulls
            // (which is then rejected, with its line): count it too
            out.push(rec_line);
            rec_start = i + 1;
            rec_line = line;
        }
    }
    if rec_start < b.len() && !is_blank(&b[rec_start..]) {
        out.push(rec_line);
    }
    Lines::Map(out)
}

/// Parses one piece (with the header prepended) as all-text columns. On a
/// parse error, finds the first offending line with the `csv` crate so the
/// message names it.
fn parse_csv_piece(
    header: &[u8],
    piece: &[u8],
    ctx: &Ctx,
    start_line: u64,
    names: &[String],
) -> Result<DataFrame, IngestError> {
    let mut bytes = Vec::with_capacity(header.len() + piece.len());
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(piece);
    let read = |typed: Option<SchemaRef>| {
        CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .with_raise_if_empty(false)
            .with_schema_overwrite(typed)
            .into_reader_with_file_handle(Cursor::new(&bytes[..]))
            .finish()
    };
    // Bytes and objects are read as integers, which is much faster; a piece
    // with anything else in them (bad values to reject with their text,
    // `10.0`, huge numbers) is read again as text.
    let numeric: Vec<Field> = names
        .iter()
        .filter(|n| **n == ctx.cols.value || **n == ctx.cols.count)
        .map(|n| Field::new(n.as_str().into(), DataType::Int64))
        .collect();
    let typed = (!numeric.is_empty())
        .then(|| read(Some(Arc::new(Schema::from_iter(numeric)))).ok())
        .flatten();
    let parsed = match typed {
        Some(df) => Ok(df),
        None => read(None),
    };
    let mut df = match parsed {
        Ok(df) => df,
        Err(e) => {
            let detail = locate_csv_error(header, piece, start_line, names)
                .unwrap_or_else(|| first_line(&e.to_string()));
            return Err(ctx.unreadable(detail));
        }
    };
    df.rechunk_mut_par();
    // A UTF-8 byte-order mark or spaces around a name are not part of it.
    let found: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    for n in &found {
        let clean = n.trim_start_matches('\u{feff}').trim();
        if clean != n {
            df.rename(n, clean.into())
                .map_err(|e| ctx.unreadable(e.to_string()))?;
        }
    }
    Ok(df)
}

/// The first record the `csv` crate cannot read or whose field count differs
/// from the header's, as "line L, column C: what".
fn locate_csv_error(
    header: &[u8],
    piece: &[u8],
    start_line: u64,
    names: &[String],
) -> Option<String> {
    let mut bytes = header.to_vec();
    bytes.extend_from_slice(piece);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes.as_slice());
    let header_lines = count_lines(header);
    let line_of = |pos: Option<&csv::Position>| {
        pos.map_or(start_line, |p| start_line + p.line() - 1 - header_lines)
    };
    let mut rec = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => return None,
            Ok(true) => {
                let line = line_of(rec.position());
                if rec.len() != names.len() {
                    return Some(format!(
                        "line {line}: {} fields, but the header has {} ({})",
                        rec.len(),
                        names.len(),
                        names.join(", ")
                    ));
                }
                for (k, field) in rec.iter().enumerate() {
                    if let Err(e) = std::str::from_utf8(field) {
                        return Some(format!(
                            "line {line}, column `{}`: not valid UTF-8 (byte {} of the field); save the file as UTF-8",
                            names.get(k).map_or("?", String::as_str),
                            e.valid_up_to() + 1
                        ));
                    }
                }
            }
            Err(e) => {
                let line = line_of(e.position());
                return Some(format!("line {line}: {e}"));
            }
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_string()
}
