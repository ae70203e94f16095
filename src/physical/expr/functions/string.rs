//! Character-level string functions: case, length, search, `replace`,
//! `reverse`, `ascii`/`chr`.
//!
//! Arguments may be Utf8, LargeUtf8 or Utf8View; results that are strings
//! are Utf8. Lengths and positions count characters, not bytes (except
//! `octet_length`), as in PostgreSQL.

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray};
use arrow::compute::kernels::comparison::{ends_with, starts_with};
use arrow::compute::kernels::length::length;
use arrow::datatypes::DataType;

use super::FunctionImpl;
use super::args::{Strings, arg, build_ints, build_strings, finish, ints, shape};
use crate::error::{Error, Result};
use crate::exec_err;
use crate::functions::ScalarFunction;
use crate::physical::expr::ColumnarValue;
use crate::physical::expr::kernels::apply;

pub(super) fn implementation(fun: ScalarFunction) -> FunctionImpl {
    use ScalarFunction::*;
    match fun {
        Upper => Arc::new(|a, n| {
            map_str(a, n, |s, out| match s.is_ascii() {
                true => out.extend(s.bytes().map(|b| b.to_ascii_uppercase() as char)),
                false => out.push_str(&s.to_uppercase()),
            })
        }),
        Lower => Arc::new(|a, n| {
            map_str(a, n, |s, out| match s.is_ascii() {
                true => out.extend(s.bytes().map(|b| b.to_ascii_lowercase() as char)),
                false => out.push_str(&s.to_lowercase()),
            })
        }),
        Initcap => Arc::new(|a, n| map_str(a, n, initcap)),
        Reverse => Arc::new(|a, n| map_str(a, n, |s, out| out.extend(s.chars().rev()))),
        CharLength => Arc::new(|a, n| map_int(a, n, |s| s.chars().count() as i64)),
        Ascii => Arc::new(|a, n| map_int(a, n, |s| s.chars().next().map_or(0, |c| c as i64))),
        OctetLength => Arc::new(octet_length),
        StartsWith => Arc::new(|a, n| predicate(a, n, starts_with)),
        EndsWith => Arc::new(|a, n| predicate(a, n, ends_with)),
        Strpos => Arc::new(strpos),
        Replace => Arc::new(replace),
        Chr => Arc::new(chr),
        other => Arc::new(move |_, _| Err(Error::Internal(format!("{other} is not a string function")))),
    }
}

/// A string-to-string function of one argument, NULL on NULL.
fn map_str(args: &[ColumnarValue], n: usize, f: impl Fn(&str, &mut String)) -> Result<ColumnarValue> {
    let (len, scalar) = shape(args, n);
    let s = Strings::new(arg(args, 0)?)?;
    let out = build_strings(len, |i, buf| {
        Ok(match s.get(i) {
            Some(v) => {
                f(v, buf);
                true
            }
            None => false,
        })
    })?;
    finish(out, scalar)
}

/// A string-to-integer function of one argument, NULL on NULL.
fn map_int(args: &[ColumnarValue], n: usize, f: impl Fn(&str) -> i64) -> Result<ColumnarValue> {
    let (len, scalar) = shape(args, n);
    let s = Strings::new(arg(args, 0)?)?;
    finish(build_ints(len, |i| Ok(s.get(i).map(&f)))?, scalar)
}

/// Upper-cases the first letter of each word, lower-cases the rest; words
/// are runs of letters and digits.
fn initcap(s: &str, out: &mut String) {
    let mut in_word = false;
    for c in s.chars() {
        if in_word {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        in_word = c.is_alphanumeric();
    }
}

fn octet_length(args: &[ColumnarValue], n: usize) -> Result<ColumnarValue> {
    let (len, scalar) = shape(args, n);
    let v = arg(args, 0)?;
    let out: ArrayRef = match v.data_type() {
        // The kernel reads the offsets without touching the bytes.
        DataType::Utf8 | DataType::LargeUtf8 => length(&v.clone().into_array(len)?)?,
        _ => {
            let s = Strings::new(v)?;
            build_ints(len, |i| Ok(s.get(i).map(|x| x.len() as i64)))?
        }
    };
    finish(arrow::compute::cast(&out, &DataType::Int64)?, scalar)
}

/// `starts_with` / `ends_with` with Arrow's kernels (operands of one
/// encoding; the planner leaves them as written, so unify here).
fn predicate(
    args: &[ColumnarValue],
    _n: usize,
    kernel: fn(
        &dyn arrow::array::Datum,
        &dyn arrow::array::Datum,
    ) -> std::result::Result<BooleanArray, arrow::error::ArrowError>,
) -> Result<ColumnarValue> {
    let (a, b) = (arg(args, 0)?, arg(args, 1)?);
    let (a, b) = if a.data_type() == b.data_type() {
        (a.clone(), b.clone())
    } else {
        (to_utf8(a)?, to_utf8(b)?)
    };
    apply(&a, &b, |x, y| kernel(x, y).map(|r| Arc::new(r) as ArrayRef))
}

fn to_utf8(v: &ColumnarValue) -> Result<ColumnarValue> {
    crate::physical::expr::select::conform(v.clone(), &DataType::Utf8)
}

/// 1-based character position of `sub` in `s`, 0 when absent.
fn strpos(args: &[ColumnarValue], n: usize) -> Result<ColumnarValue> {
    let (len, scalar) = shape(args, n);
    let (s, sub) = (Strings::new(arg(args, 0)?)?, Strings::new(arg(args, 1)?)?);
    let out = build_ints(len, |i| {
        Ok(match (s.get(i), sub.get(i)) {
            (Some(s), Some(sub)) => Some(match s.find(sub) {
                Some(byte) => s[..byte].chars().count() as i64 + 1,
                None => 0,
            }),
            _ => None,
        })
    })?;
    finish(out, scalar)
}

fn replace(args: &[ColumnarValue], n: usize) -> Result<ColumnarValue> {
    let (len, scalar) = shape(args, n);
    let s = Strings::new(arg(args, 0)?)?;
    let from = Strings::new(arg(args, 1)?)?;
    let to = Strings::new(arg(args, 2)?)?;
    let out = build_strings(len, |i, buf| {
        Ok(match (s.get(i), from.get(i), to.get(i)) {
            (Some(s), Some(""), Some(_)) => {
                buf.push_str(s);
                true
            }
            (Some(s), Some(from), Some(to)) => {
                let mut last = 0;
                for (at, _) in s.match_indices(from) {
                    buf.push_str(&s[last..at]);
                    buf.push_str(to);
                    last = at + from.len();
                }
                buf.push_str(&s[last..]);
                true
            }
            _ => false,
        })
    })?;
    finish(out, scalar)
}

/// The character with the given code point; 0 and invalid code points are
/// errors, as in PostgreSQL.
fn chr(args: &[ColumnarValue], n: usize) -> Result<ColumnarValue> {
    let (len, scalar) = shape(args, n);
    let code = ints(arg(args, 0)?)?;
    let out = build_strings(len, |i, buf| {
        let Some(c) = code.get(i) else { return Ok(false) };
        if c == 0 {
            exec_err!("null character not permitted")
        }
        match u32::try_from(c).ok().and_then(char::from_u32) {
            Some(ch) => buf.push(ch),
            None => exec_err!("requested character {c} is not a valid code point"),
        }
        Ok(true)
    })?;
    finish(out, scalar)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, LargeStringArray, StringArray, StringViewArray};
    use datafusion_common::ScalarValue;

    use crate::functions::ScalarFunction as F;
    use crate::logical::{Expr, col, lit};
    use crate::physical::expr::test_util::{batch, eval_err, values};

    fn call(f: F, args: Vec<Expr>) -> Expr {
        Expr::ScalarFunction(f, args)
    }

    fn s(v: &str) -> ScalarValue {
        ScalarValue::Utf8(Some(v.into()))
    }

    fn i(v: i64) -> ScalarValue {
        ScalarValue::Int64(Some(v))
    }

    /// The same strings in each encoding, plus a NULL row.
    fn encodings() -> Vec<arrow::record_batch::RecordBatch> {
        let v = vec![Some("héllo wORLD"), None];
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(v.clone())),
            Arc::new(LargeStringArray::from(v.clone())),
            Arc::new(StringViewArray::from(v)),
        ];
        arrays.into_iter().map(|a| batch(vec![("s", a)])).collect()
    }

    #[test]
    fn one_argument_functions_in_every_encoding() {
        let b = |v: bool| ScalarValue::Boolean(Some(v));
        let cases: Vec<(F, Vec<Expr>, ScalarValue, ScalarValue)> = vec![
            (F::Upper, vec![], s("HÉLLO WORLD"), ScalarValue::Utf8(None)),
            (F::Lower, vec![], s("héllo world"), ScalarValue::Utf8(None)),
            (F::Initcap, vec![], s("Héllo World"), ScalarValue::Utf8(None)),
            (F::Reverse, vec![], s("DLROw olléh"), ScalarValue::Utf8(None)),
            (F::CharLength, vec![], i(11), ScalarValue::Int64(None)),
            (F::OctetLength, vec![], i(12), ScalarValue::Int64(None)),
            (F::Ascii, vec![], i(104), ScalarValue::Int64(None)),
            (F::Strpos, vec![lit("llo")], i(3), ScalarValue::Int64(None)),
            (F::Strpos, vec![lit("xyz")], i(0), ScalarValue::Int64(None)),
            (
                F::Replace,
                vec![lit("l"), lit("L")],
                s("héLLo wORLD"),
                ScalarValue::Utf8(None),
            ),
            (F::StartsWith, vec![lit("hé")], b(true), ScalarValue::Boolean(None)),
            (F::EndsWith, vec![lit("LD")], b(true), ScalarValue::Boolean(None)),
            (F::EndsWith, vec![lit("ld")], b(false), ScalarValue::Boolean(None)),
        ];
        for t in encodings() {
            for (f, rest, want, null) in &cases {
                let mut args = vec![col("s")];
                args.extend(rest.iter().cloned());
                let e = call(*f, args);
                assert_eq!(
                    values(&e, &t),
                    vec![want.clone(), null.clone()],
                    "{e} over {}",
                    t.column(0).data_type()
                );
            }
        }
    }

    #[test]
    fn constants_nulls_and_chr() {
        let t = batch(vec![("x", Arc::new(StringArray::from(vec!["a"])))]);
        assert_eq!(values(&call(F::Chr, vec![lit(65i64)]), &t), vec![s("A")]);
        assert_eq!(values(&call(F::Ascii, vec![lit("")]), &t), vec![i(0)]);
        assert_eq!(
            values(&call(F::Upper, vec![lit(ScalarValue::Null)]), &t),
            vec![ScalarValue::Utf8(None)]
        );
        assert_eq!(
            values(&call(F::Replace, vec![lit("aaa"), lit(""), lit("b")]), &t),
            vec![s("aaa")]
        );
        assert!(eval_err(&call(F::Chr, vec![lit(0i64)]), &t).contains("null character"));
        assert!(eval_err(&call(F::Chr, vec![lit(0xD800i64)]), &t).contains("not a valid code point"));
        let mixed = call(
            F::StartsWith,
            vec![col("x"), lit(ScalarValue::Utf8View(Some("a".into())))],
        );
        assert_eq!(values(&mixed, &t), vec![ScalarValue::Boolean(Some(true))]);
    }
}
