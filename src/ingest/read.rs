//! Reading one input file in bounded pieces: a CSV file in blocks of about
//! [`CSV_BLOCK`] bytes cut at record boundaries (quote-aware), a Parquet
//! file in runs of whole row groups of about [`PARQUET_ROWS`] rows. Each
//! piece is parsed by polars, validated row by row and appended to
//! [`RawRows`]; the piece's data frame is dropped before the next one is
//! read, so memory holds the compact rows plus one piece, not the file.

use super::{timestamp, ColumnNames, IngestError, InputFile, RawRows, Rejected};

use polars::prelude::*;
use polars_arrow::array::{PrimitiveArray, Utf8ViewArray};
use sha2::{Digest, Sha256};
use std::io::{Cursor, Read};
use std::path::Path;

/// Bytes of CSV parsed at a time.
pub(crate) const CSV_BLOCK: usize = 32 << 20;
/// Rows of Parquet read at a time (whole row groups; at least one group).
const PARQUET_ROWS: usize = 4 << 20;

/// What is being read, for messages and rejected rows.
pub(super) struct Ctx<'a> {
    pub fname: &'a str,
    pub cols: &'a ColumnNames,
    pub shard: Option<super::Shard>,
}

impl Ctx<'_> {
    fn unreadable(&self, reason: impl Into<String>) -> IngestError {
        IngestError::Unreadable {
            file: self.fname.to_string(),
            reason: reason.into(),
        }
    }
}

/// Line (CSV, header = 1) or row (Parquet, first = 1) of each record of a piece.
enum Lines {
    /// One record per line from this line on.
    From(u64),
    /// Explicit line of each record (quoted newlines or blank lines).
    Map(Vec<u64>),
}

impl Lines {
    fn of(&self, i: usize) -> u64 {
        match self {
            Lines::From(first) => first + i as u64,
            Lines::Map(m) => m.get(i).copied().unwrap_or(0),
        }
    }
}

fn sha_hex(h: Sha256) -> String {
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads a whole file into `raw`, returning its manifest entry.
pub(super) fn read_file(
    path: &Path,
    ctx: &Ctx,
    raw: &mut RawRows,
    rejected: &mut Vec<Rejected>,
) -> Result<InputFile, IngestError> {
    super::regular_file(path).map_err(|why| ctx.unreadable(why))?;
    match super::extension(path).as_str() {
        "csv" => read_csv(path, ctx, raw, rejected),
        "parquet" => read_parquet(path, ctx, raw, rejected),
        _ => Err(ctx.unreadable("unknown file type (expected .csv or .parquet)")),
    }
}

fn read_parquet(
    path: &Path,
    ctx: &Ctx,
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
    // Pieces of whole row groups.
    let mut pieces = Vec::new();
    let (mut start, mut len) = (0usize, 0usize);
    for rg in &md.row_groups {
        len += rg.num_rows();
        if len >= PARQUET_ROWS {
            pieces.push((start, len));
            start += len;
            len = 0;
        }
    }
    if len > 0 || pieces.is_empty() {
        pieces.push((start, len));
    }
    raw.reserve(md.num_rows);
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
    let mut f = open()?;
    let size = std::io::copy(&mut f, &mut h).map_err(|e| ctx.unreadable(e.to_string()))?;
    Ok(InputFile {
        path: ctx.fname.to_string(),
        size,
        sha256: sha_hex(h),
        rows,
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
            buf.resize(at + CSV_BLOCK, 0);
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
            h.update(&buf[at..]);
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

/// The timestamp column of a piece in whatever type the file holds.
enum TimeCol {
    Text(StringChunked),
    /// Physical integer and the factor that turns it into seconds (divisor).
    Int(Int64Chunked, i64),
    Days(Int32Chunked),
}

enum TimeView<'a> {
    Text(&'a Utf8ViewArray),
    Int(&'a PrimitiveArray<i64>, i64),
    Days(&'a PrimitiveArray<i32>),
}

impl TimeCol {
    fn new(c: &Column) -> Result<TimeCol, String> {
        let e = |e: PolarsError| e.to_string();
        match c.dtype() {
            DataType::String => Ok(TimeCol::Text(c.str().map_err(e)?.clone())),
            DataType::Datetime(tu, _) => {
                let div = match tu {
                    TimeUnit::Nanoseconds => 1_000_000_000,
                    TimeUnit::Microseconds => 1_000_000,
                    TimeUnit::Milliseconds => 1_000,
                };
                let phys = c.cast(&DataType::Int64).map_err(e)?;
                Ok(TimeCol::Int(phys.i64().map_err(e)?.clone(), div))
            }
            DataType::Date => {
                let phys = c.cast(&DataType::Int32).map_err(e)?;
                Ok(TimeCol::Days(phys.i32().map_err(e)?.clone()))
            }
            other => Err(format!(
                "has type {other}, expected a date, date-time or text"
            )),
        }
    }

    fn view(&self) -> Option<TimeView<'_>> {
        Some(match self {
            TimeCol::Text(a) => TimeView::Text(a.downcast_iter().next()?),
            TimeCol::Int(a, d) => TimeView::Int(a.downcast_iter().next()?, *d),
            TimeCol::Days(a) => TimeView::Days(a.downcast_iter().next()?),
        })
    }
}

/// A non-negative integer column (bytes or objects) in whatever type the file holds.
enum NumCol {
    Text(StringChunked),
    Float(Float64Chunked),
    Int(Int64Chunked),
    UInt(UInt64Chunked),
}

enum NumView<'a> {
    Text(&'a Utf8ViewArray),
    Float(&'a PrimitiveArray<f64>),
    Int(&'a PrimitiveArray<i64>),
    UInt(&'a PrimitiveArray<u64>),
}

impl NumCol {
    fn new(c: &Column) -> Result<NumCol, String> {
        let e = |e: PolarsError| e.to_string();
        Ok(match c.dtype() {
            DataType::String => NumCol::Text(c.str().map_err(e)?.clone()),
            DataType::Float32 | DataType::Float64 => NumCol::Float(
                c.cast(&DataType::Float64)
                    .map_err(e)?
                    .f64()
                    .map_err(e)?
                    .clone(),
            ),
            DataType::UInt64 => NumCol::UInt(c.u64().map_err(e)?.clone()),
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32 => NumCol::Int(
                c.cast(&DataType::Int64)
                    .map_err(e)?
                    .i64()
                    .map_err(e)?
                    .clone(),
            ),
            other => return Err(format!("has type {other}, expected a non-negative integer")),
        })
    }

    fn view(&self) -> Option<NumView<'_>> {
        Some(match self {
            NumCol::Text(a) => NumView::Text(a.downcast_iter().next()?),
            NumCol::Float(a) => NumView::Float(a.downcast_iter().next()?),
            NumCol::Int(a) => NumView::Int(a.downcast_iter().next()?),
            NumCol::UInt(a) => NumView::UInt(a.downcast_iter().next()?),
        })
    }
}

impl NumView<'_> {
    /// `Ok(None)` for a missing value.
    #[inline]
    fn get(&self, i: usize) -> Result<Option<f64>, (String, &'static str)> {
        match self {
            NumView::Text(s) => match s.get(i).map(str::trim) {
                None | Some("") => Ok(None),
                Some(v) => super::parse_count(v)
                    .map(Some)
                    .map_err(|why| (v.to_string(), why)),
            },
            NumView::Float(a) => match a.get(i) {
                None => Ok(None),
                Some(v) if !v.is_finite() => Err((v.to_string(), "not a number")),
                Some(v) if v < 0.0 => Err((v.to_string(), "negative value")),
                Some(v) if v.fract() != 0.0 => {
                    Err((v.to_string(), "fractional value (expected a whole number)"))
                }
                Some(v) => Ok(Some(v)),
            },
            NumView::Int(a) => match a.get(i) {
                None => Ok(None),
                Some(v) if v < 0 => Err((v.to_string(), "negative value")),
                Some(v) => Ok(Some(v as f64)),
            },
            NumView::UInt(a) => match a.get(i) {
                None => Ok(None),
                Some(v) if v > i64::MAX as u64 => {
                    Err((v.to_string(), "value too large (over 2^63 − 1)"))
                }
                Some(v) => Ok(Some(v as f64)),
            },
        }
    }
}

/// Validates the rows of one piece and appends the good ones to `raw`.
/// Returns the number of rows read.
fn process(
    df: &DataFrame,
    ctx: &Ctx,
    lines: &Lines,
    raw: &mut RawRows,
    rejected: &mut Vec<Rejected>,
) -> Result<u64, IngestError> {
    let cols = ctx.cols;
    let n = df.height();
    if n == 0 {
        return Ok(0);
    }
    let col = |c: &str| {
        df.column(c).map_err(|_| IngestError::MissingColumn {
            file: ctx.fname.to_string(),
            column: c.to_string(),
            found: df
                .get_column_names()
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
    };
    let bad_type = |c: &str, e: String| ctx.unreadable(format!("column `{c}`: {e}"));
    let times = TimeCol::new(col(&cols.time)?).map_err(|e| bad_type(&cols.time, e))?;
    let values = NumCol::new(col(&cols.value)?).map_err(|e| bad_type(&cols.value, e))?;
    let counts = match df.column(&cols.count) {
        Ok(c) => Some(NumCol::new(c).map_err(|e| bad_type(&cols.count, e))?),
        Err(_) if cols.count_required => {
            col(&cols.count)?;
            None
        }
        Err(_) => None,
    };
    if counts.is_some() {
        raw.has_objects = true;
    }
    let key_cols: Vec<StringChunked> = cols
        .keys
        .iter()
        .map(|k| {
            col(k)?
                .cast(&DataType::String)
                .and_then(|c| c.str().cloned())
                .map_err(|e| ctx.unreadable(e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    let none = || ctx.unreadable("column without data");
    let tv = times.view().ok_or_else(none)?;
    let vv = values.view().ok_or_else(none)?;
    let cv = match &counts {
        Some(c) => Some(c.view().ok_or_else(none)?),
        None => None,
    };
    let kv: Vec<&Utf8ViewArray> = key_cols
        .iter()
        .map(|k| k.downcast_iter().next().ok_or_else(none))
        .collect::<Result<_, _>>()?;
    if lines.of(0) > u32::MAX as u64 || lines.of(n - 1) > u32::MAX as u64 {
        return Err(
            ctx.unreadable("more than 4,294,967,295 rows in one file: split the file into several")
        );
    }
    let v = Views {
        time: tv,
        value: vv,
        count: cv,
        keys: kv,
    };
    // Two halves in parallel, each with its own key table, appended in order.
    let mid = n / 2;
    let (a, b) = rayon::join(
        || rows_local(&v, 0..mid, ctx, lines),
        || rows_local(&v, mid..n, ctx, lines),
    );
    for part in [a, b] {
        // Only series with a row kept become series (all rows of a series
        // may be rejected, or belong to another shard).
        let mut used = vec![false; part.keys.keys.len()];
        for &s in &part.sid {
            used[s as usize] = true;
        }
        let ids: Vec<u32> = part
            .keys
            .keys
            .iter()
            .enumerate()
            .map(|(l, k)| {
                if !used[l] {
                    return u32::MAX; // no row of it kept
                }
                let k: Vec<&str> = k.iter().map(String::as_str).collect();
                raw.keys.id(&k)
            })
            .collect();
        raw.sid.extend(part.sid.iter().map(|&s| ids[s as usize]));
        raw.ts.extend_from_slice(&part.ts);
        raw.bytes.extend_from_slice(&part.bytes);
        raw.objects.extend_from_slice(&part.objects);
        raw.line.extend_from_slice(&part.line);
        raw.other_shards += part.other;
        rejected.extend(part.rejected);
    }
    Ok(n as u64)
}

/// Column views of one piece.
struct Views<'a> {
    time: TimeView<'a>,
    value: NumView<'a>,
    count: Option<NumView<'a>>,
    keys: Vec<&'a Utf8ViewArray>,
}

/// Rows of part of a piece, with series ids local to `keys`.
#[derive(Default)]
struct Local {
    keys: KeyTable,
    sid: Vec<u32>,
    ts: Vec<i64>,
    bytes: Vec<f64>,
    objects: Vec<f64>,
    line: Vec<u32>,
    rejected: Vec<Rejected>,
    /// Rows of other shards.
    other: u64,
    /// Per local id: the series belongs to this run's shard.
    inside: Vec<bool>,
}

/// Distinct key tuples and their ids.
#[derive(Debug, Default)]
pub(crate) struct KeyTable {
    pub keys: Vec<Vec<String>>,
    /// Length-prefixed key tuple → id.
    index: std::collections::HashMap<String, u32>,
    flat: String,
}

impl KeyTable {
    /// The id of a key tuple, adding it when new.
    pub fn id(&mut self, key: &[&str]) -> u32 {
        flat_key(key, &mut self.flat);
        if let Some(&s) = self.index.get(self.flat.as_str()) {
            return s;
        }
        let s = self.keys.len() as u32;
        self.keys.push(key.iter().map(|k| k.to_string()).collect());
        self.index.insert(self.flat.clone(), s);
        s
    }
}

fn rows_local(v: &Views, range: std::ops::Range<usize>, ctx: &Ctx, lines: &Lines) -> Local {
    let cols = ctx.cols;
    let mut out = Local::default();
    let cap = range.len();
    out.sid.reserve(cap);
    out.ts.reserve(cap);
    out.bytes.reserve(cap);
    out.objects.reserve(cap);
    out.line.reserve(cap);
    let mut cache = KeyCache::default();
    let mut key_buf: Vec<&str> = Vec::with_capacity(v.keys.len());
    let mut days = timestamp::DayCache::default();
    let rejected = &mut out.rejected;
    'rows: for i in range {
        let mut reject = |column: &str, value: String, reason: String| {
            rejected.push(Rejected {
                file: ctx.fname.to_string(),
                line: lines.of(i),
                column: column.to_string(),
                value,
                reason,
            });
        };
        key_buf.clear();
        for (k, kc) in v.keys.iter().enumerate() {
            let s = kc.get(i).map(str::trim).unwrap_or("");
            if s.is_empty() {
                // A row without a key is reported by one shard only.
                if ctx.shard.is_some_and(|sh| !sh.first()) {
                    out.other += 1;
                } else if blank_row(v, i) {
                    reject("", String::new(), "blank line".into());
                } else {
                    reject(&cols.keys[k], String::new(), "empty key".into());
                }
                continue 'rows;
            }
            key_buf.push(s);
        }
        let sid = cache.resolve(&key_buf, &mut out.keys);
        if let Some(sh) = ctx.shard {
            while out.inside.len() < out.keys.keys.len() {
                let k: Vec<&str> = out.keys.keys[out.inside.len()]
                    .iter()
                    .map(String::as_str)
                    .collect();
                out.inside.push(sh.holds(&k));
            }
            if !out.inside[sid as usize] {
                out.other += 1;
                continue;
            }
        }
        let ts = match &v.time {
            TimeView::Text(s) => {
                let t = s.get(i).unwrap_or("");
                if t.trim().is_empty() {
                    reject(&cols.time, String::new(), "missing timestamp".into());
                    continue;
                }
                match timestamp::parse_with(t, &mut days) {
                    Ok(x) => x,
                    Err(why) => {
                        reject(&cols.time, t.to_string(), why.into());
                        continue;
                    }
                }
            }
            TimeView::Int(a, div) => match a.get(i) {
                Some(x) => x.div_euclid(*div),
                None => {
                    reject(&cols.time, String::new(), "missing timestamp".into());
                    continue;
                }
            },
            TimeView::Days(a) => match a.get(i) {
                Some(d) => i64::from(d) * 86_400,
                None => {
                    reject(&cols.time, String::new(), "missing timestamp".into());
                    continue;
                }
            },
        };
        let bytes = match v.value.get(i) {
            Ok(Some(b)) => b,
            Ok(None) => {
                reject(&cols.value, String::new(), "missing bytes value".into());
                continue;
            }
            Err((x, why)) => {
                reject(&cols.value, x, why.into());
                continue;
            }
        };
        let objects = match v.count.as_ref().map(|c| c.get(i)) {
            None | Some(Ok(None)) => f64::NAN,
            Some(Ok(Some(o))) => o,
            Some(Err((x, why))) => {
                reject(&cols.count, x, why.into());
                continue;
            }
        };
        out.sid.push(sid);
        out.ts.push(ts);
        out.bytes.push(bytes);
        out.objects.push(objects);
        out.line.push(lines.of(i) as u32);
    }
    out
}

/// True when every field of row `i` is missing (a blank line in a CSV file).
fn blank_row(v: &Views, i: usize) -> bool {
    let empty = |a: &Utf8ViewArray| a.get(i).is_none_or(|s| s.trim().is_empty());
    let time_empty = match &v.time {
        TimeView::Text(a) => empty(a),
        TimeView::Int(a, _) => a.get(i).is_none(),
        TimeView::Days(a) => a.get(i).is_none(),
    };
    time_empty
        && v.keys.iter().all(|a| empty(a))
        && matches!(v.value.get(i), Ok(None))
        && v.count
            .as_ref()
            .is_none_or(|c| matches!(c.get(i), Ok(None)))
}

/// Series ids for key strings without hashing most rows: a row usually has
/// the key of the row before it (series-major files) or the key that
/// followed that key last time (day-major files, same order every day).
#[derive(Default)]
struct KeyCache {
    prev: Option<u32>,
    /// Per series id: the id that followed it last time.
    next: Vec<u32>,
}

impl KeyCache {
    #[inline]
    fn same(t: &KeyTable, sid: u32, key: &[&str]) -> bool {
        t.keys
            .get(sid as usize)
            .is_some_and(|k| k.iter().zip(key).all(|(a, b)| a == b))
    }

    #[inline]
    fn resolve(&mut self, key: &[&str], t: &mut KeyTable) -> u32 {
        if let Some(p) = self.prev {
            if Self::same(t, p, key) {
                return p;
            }
            let guess = self.next[p as usize];
            if guess != u32::MAX && Self::same(t, guess, key) {
                self.prev = Some(guess);
                return guess;
            }
        }
        let sid = t.id(key);
        if self.next.len() < t.keys.len() {
            self.next.resize(t.keys.len(), u32::MAX);
        }
        if let Some(p) = self.prev {
            self.next[p as usize] = sid;
        }
        self.prev = Some(sid);
        sid
    }
}

/// One string for a key tuple, injective: each part prefixed by its length.
pub(super) fn flat_key(key: &[&str], out: &mut String) {
    out.clear();
    for k in key {
        let mut n = k.len();
        // decimal length without the formatting machinery (hot on misses)
        let mut digits = [0u8; 20];
        let mut d = digits.len();
        loop {
            d -= 1;
            digits[d] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        out.extend(digits[d..].iter().map(|&b| b as char));
        out.push(':');
        out.push_str(k);
    }
}
