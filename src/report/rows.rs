//! `findings.csv` and `findings.json` written straight from the findings:
//! each finding's fields serialised once into cells (CSV) or streamed as a
//! JSON object (JSON), with no intermediate JSON value per finding (on a
//! national estate of 85,000 findings building those values was most of
//! the time of writing both files). The output is the same as the values
//! gave: key columns first under their own names, then [`FindingRow`]'s
//! fields; a text cell made spreadsheet-safe, a number written as JSON
//! writes it, an absent value (or a number that is not finite) empty.

use crate::findings::FindingRow;
use crate::fmt;
use serde::ser::{self, Impossible, Serialize, SerializeStruct, Serializer};
use std::fmt::Display;

/// Why a value cannot be a cell (a nested value: never in a [`FindingRow`]).
#[derive(Debug)]
pub struct CellError(String);

impl Display for CellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CellError {}

impl ser::Error for CellError {
    fn custom<T: Display>(msg: T) -> Self {
        CellError(msg.to_string())
    }
}

/// The cells of one row, in field order.
pub fn cells(row: &FindingRow) -> Result<Vec<String>, CellError> {
    let mut out = Vec::with_capacity(40);
    row.serialize(RowSer { out: &mut out })?;
    Ok(out)
}

/// One finding as a JSON object: key columns first, then the row's fields.
#[derive(serde::Serialize)]
pub struct Keyed<'a> {
    #[serde(flatten)]
    pub keys: KeyCols<'a>,
    #[serde(flatten)]
    pub row: FindingRow,
}

/// Key columns as JSON object entries (name → value).
pub struct KeyCols<'a> {
    pub names: &'a [String],
    pub values: &'a [String],
}

impl Serialize for KeyCols<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.names.len()))?;
        for (k, v) in self.names.iter().zip(self.values) {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Serialises a flat struct into its cells.
struct RowSer<'a> {
    out: &'a mut Vec<String>,
}

impl SerializeStruct for RowSer<'_> {
    type Ok = ();
    type Error = CellError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        _key: &'static str,
        value: &T,
    ) -> Result<(), CellError> {
        self.out.push(value.serialize(CellSer)?);
        Ok(())
    }
    fn end(self) -> Result<(), CellError> {
        Ok(())
    }
}

fn nested<T>() -> Result<T, CellError> {
    Err(CellError("a nested value cannot be one cell".into()))
}

/// A JSON number as serde_json writes it; not finite: empty (JSON null).
fn float(v: f64) -> String {
    if v.is_finite() {
        serde_json::Number::from_f64(v).map_or(String::new(), |n| n.to_string())
    } else {
        String::new()
    }
}

macro_rules! only_struct {
    ($($m:ident($($t:ty),*)),* $(,)?) => {
        $(fn $m(self, $(_: $t),*) -> Result<(), CellError> { nested() })*
    };
}

/// The compound values (sequences, tuples, maps, variants with fields):
/// never one cell, in both serializers below.
macro_rules! refuse_compound {
    () => {
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, CellError> {
            nested()
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, CellError> {
            nested()
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, CellError> {
            nested()
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, CellError> {
            nested()
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, CellError> {
            nested()
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, CellError> {
            nested()
        }
    };
}

/// Integers and booleans: their text as JSON writes it.
macro_rules! integers {
    ($($m:ident($t:ty)),* $(,)?) => {
        $(fn $m(self, v: $t) -> Result<String, CellError> { Ok(v.to_string()) })*
    };
}

impl<'a> Serializer for RowSer<'a> {
    type Ok = ();
    type Error = CellError;
    type SerializeSeq = Impossible<(), CellError>;
    type SerializeTuple = Impossible<(), CellError>;
    type SerializeTupleStruct = Impossible<(), CellError>;
    type SerializeTupleVariant = Impossible<(), CellError>;
    type SerializeMap = Impossible<(), CellError>;
    type SerializeStruct = RowSer<'a>;
    type SerializeStructVariant = Impossible<(), CellError>;

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<RowSer<'a>, CellError> {
        Ok(self)
    }
    only_struct!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );
    fn serialize_none(self) -> Result<(), CellError> {
        nested()
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<(), CellError> {
        nested()
    }
    fn serialize_unit(self) -> Result<(), CellError> {
        nested()
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<(), CellError> {
        nested()
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), CellError> {
        nested()
    }
    refuse_compound!();
}

/// Serialises one field's value into its cell.
struct CellSer;

impl Serializer for CellSer {
    type Ok = String;
    type Error = CellError;
    type SerializeSeq = Impossible<String, CellError>;
    type SerializeTuple = Impossible<String, CellError>;
    type SerializeTupleStruct = Impossible<String, CellError>;
    type SerializeTupleVariant = Impossible<String, CellError>;
    type SerializeMap = Impossible<String, CellError>;
    type SerializeStruct = Impossible<String, CellError>;
    type SerializeStructVariant = Impossible<String, CellError>;

    integers!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
    );
    fn serialize_f32(self, v: f32) -> Result<String, CellError> {
        Ok(float(f64::from(v)))
    }
    fn serialize_f64(self, v: f64) -> Result<String, CellError> {
        Ok(float(v))
    }
    fn serialize_char(self, v: char) -> Result<String, CellError> {
        Ok(fmt::csv_safe(&v.to_string()).into_owned())
    }
    fn serialize_str(self, v: &str) -> Result<String, CellError> {
        Ok(fmt::csv_safe(v).into_owned())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<String, CellError> {
        nested()
    }
    fn serialize_none(self) -> Result<String, CellError> {
        Ok(String::new())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<String, CellError> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<String, CellError> {
        Ok(String::new())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, CellError> {
        Ok(String::new())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, CellError> {
        Ok(fmt::csv_safe(variant).into_owned())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<String, CellError> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, CellError> {
        nested()
    }
    refuse_compound!();
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, CellError> {
        nested()
    }
}
