//! Reading function arguments row by row without turning them into
//! `ScalarValue`s: each accessor wraps a typed array (or one constant for
//! a scalar argument) and yields native values.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int64Array, LargeStringArray, StringArray, StringBuilder, StringViewArray,
};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion_common::ScalarValue;

use super::super::ColumnarValue;
use crate::error::{Error, Result};

/// Argument `i`, or an internal error (the signature check guarantees it).
pub(super) fn arg(args: &[ColumnarValue], i: usize) -> Result<&ColumnarValue> {
    args.get(i)
        .ok_or_else(|| Error::Internal(format!("missing argument {i}")))
}

/// How many rows to compute, and whether the result is a single scalar
/// (every argument is a scalar).
pub(super) fn shape(args: &[ColumnarValue], num_rows: usize) -> (usize, bool) {
    if args.iter().all(ColumnarValue::is_scalar) {
        (1, true)
    } else {
        (num_rows, false)
    }
}

fn wrong(what: &str, t: &DataType) -> Error {
    Error::Internal(format!("expected {what} argument, got {t}"))
}

/// A string argument in any encoding.
pub(super) enum Strings<'a> {
    Scalar(Option<&'a str>),
    Utf8(&'a StringArray),
    Large(&'a LargeStringArray),
    View(&'a StringViewArray),
}

impl<'a> Strings<'a> {
    /// Wraps `v`, which must be a string.
    pub fn new(v: &'a ColumnarValue) -> Result<Self> {
        Ok(match v {
            ColumnarValue::Scalar(ScalarValue::Utf8(s) | ScalarValue::LargeUtf8(s) | ScalarValue::Utf8View(s)) => {
                Strings::Scalar(s.as_deref())
            }
            ColumnarValue::Array(a) => match a.data_type() {
                DataType::Utf8 => Strings::Utf8(a.as_string::<i32>()),
                DataType::LargeUtf8 => Strings::Large(a.as_string::<i64>()),
                DataType::Utf8View => Strings::View(a.as_string_view()),
                other => return Err(wrong("a string", other)),
            },
            ColumnarValue::Scalar(s) => return Err(wrong("a string", &s.data_type())),
        })
    }

    /// The value of row `i` (NULL as `None`).
    #[inline]
    pub fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Strings::Scalar(s) => *s,
            Strings::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            Strings::Large(a) => a.is_valid(i).then(|| a.value(i)),
            Strings::View(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
}

/// A primitive argument (Int64 or Float64) read as native values.
pub(super) enum Natives<'a, T: arrow::datatypes::ArrowPrimitiveType> {
    Scalar(Option<T::Native>),
    Array(&'a arrow::array::PrimitiveArray<T>),
}

impl<'a, T: arrow::datatypes::ArrowPrimitiveType> Natives<'a, T> {
    /// The value of row `i` (NULL as `None`).
    #[inline]
    pub fn get(&self, i: usize) -> Option<T::Native> {
        match self {
            Natives::Scalar(v) => *v,
            Natives::Array(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
}

/// An Int64 argument.
pub(super) fn ints(v: &ColumnarValue) -> Result<Natives<'_, Int64Type>> {
    Ok(match v {
        ColumnarValue::Scalar(ScalarValue::Int64(x)) => Natives::Scalar(*x),
        ColumnarValue::Array(a) if a.data_type() == &DataType::Int64 => Natives::Array(a.as_primitive()),
        other => return Err(wrong("an Int64", &other.data_type())),
    })
}

/// A Float64 argument.
pub(super) fn floats(v: &ColumnarValue) -> Result<Natives<'_, Float64Type>> {
    Ok(match v {
        ColumnarValue::Scalar(ScalarValue::Float64(x)) => Natives::Scalar(*x),
        ColumnarValue::Array(a) if a.data_type() == &DataType::Float64 => Natives::Array(a.as_primitive()),
        other => return Err(wrong("a Float64", &other.data_type())),
    })
}

/// Builds a Utf8 array of `len` rows: `f(i, buf)` writes row `i` into the
/// (cleared) buffer and returns `false` for NULL.
pub(super) fn build_strings(len: usize, mut f: impl FnMut(usize, &mut String) -> Result<bool>) -> Result<ArrayRef> {
    let mut out = StringBuilder::with_capacity(len, len * 8);
    let mut buf = String::new();
    for i in 0..len {
        buf.clear();
        if f(i, &mut buf)? {
            out.append_value(&buf);
        } else {
            out.append_null();
        }
    }
    Ok(Arc::new(out.finish()))
}

/// Builds an Int64 array of `len` rows from `f(i)`.
pub(super) fn build_ints(len: usize, f: impl FnMut(usize) -> Result<Option<i64>>) -> Result<ArrayRef> {
    let values = (0..len).map(f).collect::<Result<Vec<_>>>()?;
    Ok(Arc::new(Int64Array::from(values)))
}

/// Builds a Float64 array of `len` rows from `f(i)`.
pub(super) fn build_floats(len: usize, f: impl FnMut(usize) -> Result<Option<f64>>) -> Result<ArrayRef> {
    let values = (0..len).map(f).collect::<Result<Vec<_>>>()?;
    Ok(Arc::new(Float64Array::from(values)))
}

/// Wraps a computed array: a scalar when every argument was a scalar.
pub(super) fn finish(array: ArrayRef, scalar: bool) -> Result<ColumnarValue> {
    ColumnarValue::from_kernel(array, scalar)
}
