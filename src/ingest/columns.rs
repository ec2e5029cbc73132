//! Column adapters: a piece's timestamp, bytes and object-count columns in
//! whatever type the file holds (text, integers, dates, date-times,
//! floats), read through one view per column without a per-row lookup.

use polars::prelude::*;
use polars_arrow::array::{PrimitiveArray, Utf8ViewArray};

/// The timestamp column of a piece in whatever type the file holds.
pub(super) enum TimeCol {
    Text(StringChunked),
    /// Physical integer and the factor that turns it into seconds (divisor).
    Int(Int64Chunked, i64),
    Days(Int32Chunked),
}

pub(super) enum TimeView<'a> {
    Text(&'a Utf8ViewArray),
    Int(&'a PrimitiveArray<i64>, i64),
    Days(&'a PrimitiveArray<i32>),
}

impl TimeCol {
    pub(super) fn new(c: &Column) -> Result<TimeCol, String> {
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

    pub(super) fn view(&self) -> Option<TimeView<'_>> {
        Some(match self {
            TimeCol::Text(a) => TimeView::Text(a.downcast_iter().next()?),
            TimeCol::Int(a, d) => TimeView::Int(a.downcast_iter().next()?, *d),
            TimeCol::Days(a) => TimeView::Days(a.downcast_iter().next()?),
        })
    }
}

/// A non-negative integer column (bytes or objects) in whatever type the file holds.
pub(super) enum NumCol {
    Text(StringChunked),
    Float(Float64Chunked),
    Int(Int64Chunked),
    UInt(UInt64Chunked),
}

pub(super) enum NumView<'a> {
    Text(&'a Utf8ViewArray),
    Float(&'a PrimitiveArray<f64>),
    Int(&'a PrimitiveArray<i64>),
    UInt(&'a PrimitiveArray<u64>),
}

impl NumCol {
    pub(super) fn new(c: &Column) -> Result<NumCol, String> {
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

    pub(super) fn view(&self) -> Option<NumView<'_>> {
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
    pub(super) fn get(&self, i: usize) -> Result<Option<f64>, (String, &'static str)> {
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
