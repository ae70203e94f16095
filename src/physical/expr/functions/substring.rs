//! String functions that cut, pad, repeat and join: `substr`, `left`,
//! `right`, `split_part`, `trim`/`ltrim`/`rtrim`, `lpad`/`rpad`, `repeat`,
//! `concat`, `concat_ws`.
//!
//! Positions and lengths count characters, 1-based, with PostgreSQL's
//! rules for out-of-range and negative values. Results are Utf8; a
//! result longer than [`MAX_RESULT_CHARS`] is an error rather than an
//! allocation that takes the process down.

use std::sync::Arc;

use super::FunctionImpl;
use super::args::{Strings, arg, build_strings, finish, ints, shape};
use crate::error::{Error, Result};
use crate::exec_err;
use crate::functions::ScalarFunction;
use crate::physical::expr::ColumnarValue;

/// Largest string `lpad`, `rpad` and `repeat` build, in characters.
pub(crate) const MAX_RESULT_CHARS: i64 = 64 << 20;

pub(super) fn implementation(fun: ScalarFunction) -> FunctionImpl {
    use ScalarFunction::*;
    match fun {
        Substr => Arc::new(substr),
        Left => Arc::new(|a, n| str_int(a, n, left)),
        Right => Arc::new(|a, n| str_int(a, n, right)),
        Repeat => Arc::new(|a, n| str_int(a, n, repeat)),
        Lpad => Arc::new(|a, n| pad(a, n, true)),
        Rpad => Arc::new(|a, n| pad(a, n, false)),
        Trim => Arc::new(|a, n| trim(a, n, true, true)),
        Ltrim => Arc::new(|a, n| trim(a, n, true, false)),
        Rtrim => Arc::new(|a, n| trim(a, n, false, true)),
        SplitPart => Arc::new(split_part),
        Concat => Arc::new(concat),
        ConcatWs => Arc::new(concat_ws),
        other => Arc::new(move |_, _| Err(Error::Internal(format!("{other} is not a substring function")))),
    }
}

/// The characters of `s` from 0-based character index `from` (inclusive)
/// to `to` (exclusive), both clipped to the string.
fn chars(s: &str, from: usize, to: usize) -> &str {
    if to <= from {
        return "";
    }
    if s.is_ascii() {
        return &s[from.min(s.len())..to.min(s.len())];
    }
    let mut idx = s.char_indices().map(|(b, _)| b).chain(std::iter::once(s.len()));
    let start = idx.nth(from).unwrap_or(s.len());
    let end = idx.nth(to - from - 1).unwrap_or(s.len());
    &s[start..end]
}

fn char_count(s: &str) -> usize {
    if s.is_ascii() { s.len() } else { s.chars().count() }
}

/// `substr(s, start [, len])`: 1-based; a start before 1 eats into the
/// length, as in PostgreSQL (`substr('hello', 0, 2)` is `'h'`).
fn substr(args: &[ColumnarValue], n: usize) -> Result<ColumnarValue> {
    let (len, scalar) = shape(args, n);
    let s = Strings::new(arg(args, 0)?)?;
    let start = ints(arg(args, 1)?)?;
    let count = args.get(2).map(ints).transpose()?;
    let out = build_strings(len, |i, buf| {
        let (Some(v), Some(start)) = (s.get(i), start.get(i)) else {
            return Ok(false);
        };
        let end = match &count {
            None => i64::MAX,
            Some(c) => match c.get(i) {
                None => return Ok(false),
                Some(c) if c < 0 => exec_err!("negative substring length not allowed"),
                Some(c) => start.saturating_add(c),
            },
        };
        let from = start.max(1) - 1;
        let to = end.saturating_sub(1).max(0);
        buf.push_str(chars(v, from as usize, usize::try_from(to).unwrap_or(usize::MAX)));
        Ok(true)
    })?;
    finish(out, scalar)
}

/// A function of a string and an integer, NULL if either is NULL.
fn str_int(args: &[ColumnarValue], n: usize, f: fn(&str, i64, &mut String) -> Result<()>) -> Result<ColumnarValue> {
    let (len, scalar) = shape(args, n);
    let s = Strings::new(arg(args, 0)?)?;
    let k = ints(arg(args, 1)?)?;
    let out = build_strings(len, |i, buf| match (s.get(i), k.get(i)) {
        (Some(v), Some(k)) => f(v, k, buf).map(|_| true),
        _ => Ok(false),
    })?;
    finish(out, scalar)
}

/// The first `k` characters; all but the last `-k` when negative.
fn left(s: &str, k: i64, out: &mut String) -> Result<()> {
    let total = char_count(s) as i64;
    let keep = if k >= 0 { k.min(total) } else { (total + k).max(0) };
    out.push_str(chars(s, 0, keep as usize));
    Ok(())
}

/// The last `k` characters; all but the first `-k` when negative.
fn right(s: &str, k: i64, out: &mut String) -> Result<()> {
    let total = char_count(s) as i64;
    let skip = if k >= 0 {
        (total - k).max(0)
    } else {
        k.saturating_neg().min(total)
    };
    out.push_str(chars(s, skip as usize, total as usize));
    Ok(())
}

fn repeat(s: &str, k: i64, out: &mut String) -> Result<()> {
    if k <= 0 || s.is_empty() {
        return Ok(());
    }
    if (char_count(s) as i64).saturating_mul(k) > MAX_RESULT_CHARS {
        exec_err!(
            "requested length too large: repeat of {} characters {k} times",
            char_count(s)
        )
    }
    for _ in 0..k {
        out.push_str(s);
    }
    Ok(())
}

/// `lpad`/`rpad(s, length [, fill])`: pads with `fill` (default a space)
/// or truncates to `length` characters.
fn pad(args: &[ColumnarValue], n: usize, at_start: bool) -> Result<ColumnarValue> {
    let (len, scalar) = shape(args, n);
    let s = Strings::new(arg(args, 0)?)?;
    let target = ints(arg(args, 1)?)?;
    let fill = args.get(2).map(Strings::new).transpose()?;
    let out = build_strings(len, |i, buf| {
        let fill = match &fill {
            Some(f) => f.get(i),
            None => Some(" "),
        };
        let (Some(v), Some(target), Some(fill)) = (s.get(i), target.get(i), fill) else {
            return Ok(false);
        };
        if target > MAX_RESULT_CHARS {
            exec_err!("requested length too large: {target} characters")
        }
        let target = target.max(0) as usize;
        let have = char_count(v);
        if have >= target || fill.is_empty() {
            buf.push_str(chars(v, 0, target));
            return Ok(true);
        }
        if !at_start {
            buf.push_str(v);
        }
        buf.extend(fill.chars().cycle().take(target - have));
        if at_start {
            buf.push_str(v);
        }
        Ok(true)
    })?;
    finish(out, scalar)
}

/// `trim`/`ltrim`/`rtrim(s [, characters])`: removes any of the given
/// characters (default: spaces) from the chosen ends.
fn trim(args: &[ColumnarValue], n: usize, start: bool, end: bool) -> Result<ColumnarValue> {
    let (len, scalar) = shape(args, n);
    let s = Strings::new(arg(args, 0)?)?;
    let set = args.get(1).map(Strings::new).transpose()?;
    let out = build_strings(len, |i, buf| {
        let set = match &set {
            Some(c) => c.get(i),
            None => Some(" "),
        };
        let (Some(v), Some(set)) = (s.get(i), set) else {
            return Ok(false);
        };
        let strip = |c: char| set.contains(c);
        let v = if start { v.trim_start_matches(strip) } else { v };
        let v = if end { v.trim_end_matches(strip) } else { v };
        buf.push_str(v);
        Ok(true)
    })?;
    finish(out, scalar)
}

/// `split_part(s, delimiter, n)`: the n-th field (1-based; negative counts
/// from the end), `''` when there are fewer fields.
fn split_part(args: &[ColumnarValue], n: usize) -> Result<ColumnarValue> {
    let (len, scalar) = shape(args, n);
    let s = Strings::new(arg(args, 0)?)?;
    let delim = Strings::new(arg(args, 1)?)?;
    let field = ints(arg(args, 2)?)?;
    let out = build_strings(len, |i, buf| {
        let (Some(v), Some(d), Some(k)) = (s.get(i), delim.get(i), field.get(i)) else {
            return Ok(false);
        };
        let part = match k {
            0 => exec_err!("field position must not be zero"),
            _ if d.is_empty() => (k == 1 || k == -1).then_some(v),
            k if k > 0 => v.split(d).nth(k as usize - 1),
            k => v
                .rsplit(d)
                .nth(usize::try_from(k.unsigned_abs() - 1).unwrap_or(usize::MAX)),
        };
        buf.push_str(part.unwrap_or(""));
        Ok(true)
    })?;
    finish(out, scalar)
}

/// `concat(v, ...)`: NULLs are skipped; never NULL itself.
fn concat(args: &[ColumnarValue], n: usize) -> Result<ColumnarValue> {
    let (len, scalar) = shape(args, n);
    let parts = args.iter().map(Strings::new).collect::<Result<Vec<_>>>()?;
    let out = build_strings(len, |i, buf| {
        parts.iter().filter_map(|p| p.get(i)).for_each(|p| buf.push_str(p));
        Ok(true)
    })?;
    finish(out, scalar)
}

/// `concat_ws(sep, v, ...)`: joins the non-NULL values with `sep`; NULL
/// only when `sep` is NULL.
fn concat_ws(args: &[ColumnarValue], n: usize) -> Result<ColumnarValue> {
    let (len, scalar) = shape(args, n);
    let sep = Strings::new(arg(args, 0)?)?;
    let parts = args
        .get(1..)
        .unwrap_or_default()
        .iter()
        .map(Strings::new)
        .collect::<Result<Vec<_>>>()?;
    let out = build_strings(len, |i, buf| {
        let Some(sep) = sep.get(i) else { return Ok(false) };
        for (k, p) in parts.iter().filter_map(|p| p.get(i)).enumerate() {
            if k > 0 {
                buf.push_str(sep);
            }
            buf.push_str(p);
        }
        Ok(true)
    })?;
    finish(out, scalar)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringViewArray};
    use datafusion_common::ScalarValue;

    use crate::functions::ScalarFunction as F;
    use crate::logical::{Expr, col, lit};
    use crate::physical::expr::test_util::{batch, eval_err, values};

    fn call(f: F, args: Vec<Expr>) -> Expr {
        Expr::ScalarFunction(f, args)
    }

    fn t() -> arrow::record_batch::RecordBatch {
        batch(vec![
            ("v", Arc::new(StringViewArray::from(vec![Some("héllo"), None]))),
            ("n", Arc::new(Int64Array::from(vec![Some(2), Some(2)]))),
        ])
    }

    #[test]
    fn constant_cases() {
        let null = || lit(ScalarValue::Null);
        let cases: Vec<(F, Vec<Expr>, Option<&str>)> = vec![
            (F::Substr, vec![lit("hello"), lit(2i64)], Some("ello")),
            (F::Substr, vec![lit("hello"), lit(2i64), lit(3i64)], Some("ell")),
            (F::Substr, vec![lit("hello"), lit(0i64), lit(2i64)], Some("h")),
            (F::Substr, vec![lit("hello"), lit(-5i64), lit(3i64)], Some("")),
            (F::Substr, vec![lit("hello"), lit(10i64)], Some("")),
            (F::Substr, vec![lit("hello"), null()], None),
            (F::Left, vec![lit("abcde"), lit(2i64)], Some("ab")),
            (F::Left, vec![lit("abcde"), lit(-2i64)], Some("abc")),
            (F::Left, vec![lit("ab"), lit(5i64)], Some("ab")),
            (F::Right, vec![lit("abcde"), lit(2i64)], Some("de")),
            (F::Right, vec![lit("abcde"), lit(-2i64)], Some("cde")),
            (F::Lpad, vec![lit("hi"), lit(5i64)], Some("   hi")),
            (F::Lpad, vec![lit("hi"), lit(5i64), lit("xy")], Some("xyxhi")),
            (F::Rpad, vec![lit("hi"), lit(5i64), lit("xy")], Some("hixyx")),
            (F::Lpad, vec![lit("hello"), lit(2i64)], Some("he")),
            (F::Rpad, vec![lit("hi"), lit(5i64), lit("")], Some("hi")),
            (F::Lpad, vec![lit("hi"), lit(-1i64)], Some("")),
            (F::Lpad, vec![lit("hi"), lit(5i64), null()], None),
            (F::Repeat, vec![lit("ab"), lit(3i64)], Some("ababab")),
            (F::Repeat, vec![lit("ab"), lit(-1i64)], Some("")),
            (F::Trim, vec![lit("  a b  ")], Some("a b")),
            (F::Ltrim, vec![lit("  a b  ")], Some("a b  ")),
            (F::Rtrim, vec![lit("  a b  ")], Some("  a b")),
            (F::Trim, vec![lit("xyaxy"), lit("yx")], Some("a")),
            (F::Trim, vec![null()], None),
            (F::SplitPart, vec![lit("a,b,c"), lit(","), lit(2i64)], Some("b")),
            (F::SplitPart, vec![lit("a,b,c"), lit(","), lit(4i64)], Some("")),
            (F::SplitPart, vec![lit("a,b,c"), lit(","), lit(-1i64)], Some("c")),
            (F::SplitPart, vec![lit("a,b"), lit(""), lit(1i64)], Some("a,b")),
            (F::Concat, vec![lit("a"), null(), lit(1i64)], Some("a1")),
            (F::Concat, vec![null()], Some("")),
            (F::ConcatWs, vec![lit(","), lit("a"), null(), lit("b")], Some("a,b")),
            (F::ConcatWs, vec![lit(ScalarValue::Utf8(None)), lit("a")], None),
        ];
        let t = t();
        for (f, args, want) in cases {
            let e = call(f, args);
            assert_eq!(values(&e, &t)[0], ScalarValue::Utf8(want.map(String::from)), "{e}");
        }
    }

    #[test]
    fn string_view_columns_and_errors() {
        let t = t();
        let s = |v: Option<&str>| ScalarValue::Utf8(v.map(String::from));
        let cases: Vec<(Expr, Vec<ScalarValue>)> = vec![
            (
                call(F::Substr, vec![col("v"), col("n"), lit(2i64)]),
                vec![s(Some("él")), s(None)],
            ),
            (call(F::Left, vec![col("v"), col("n")]), vec![s(Some("hé")), s(None)]),
            (
                call(F::Right, vec![col("v"), lit(-1i64)]),
                vec![s(Some("éllo")), s(None)],
            ),
            (
                call(F::Lpad, vec![col("v"), lit(7i64), lit("é")]),
                vec![s(Some("ééhéllo")), s(None)],
            ),
            (
                call(F::Concat, vec![col("v"), col("n")]),
                vec![s(Some("héllo2")), s(Some("2"))],
            ),
            (
                call(F::ConcatWs, vec![lit("-"), col("v"), col("v")]),
                vec![s(Some("héllo-héllo")), s(Some(""))],
            ),
            (call(F::Trim, vec![col("v"), lit("ho")]), vec![s(Some("éll")), s(None)]),
            (call(F::Rtrim, vec![col("v"), col("v")]), vec![s(Some("")), s(None)]),
            (
                call(F::Rpad, vec![col("v"), lit(6i64)]),
                vec![s(Some("héllo ")), s(None)],
            ),
            (
                call(F::Repeat, vec![col("v"), col("n")]),
                vec![s(Some("héllohéllo")), s(None)],
            ),
            (
                call(F::SplitPart, vec![col("v"), lit("é"), lit(2i64)]),
                vec![s(Some("llo")), s(None)],
            ),
        ];
        for (e, want) in cases {
            assert_eq!(values(&e, &t), want, "{e}");
        }
        for (e, msg) in [
            (
                call(F::Substr, vec![lit("abc"), lit(1i64), lit(-1i64)]),
                "negative substring length",
            ),
            (
                call(F::SplitPart, vec![lit("a"), lit(","), lit(0i64)]),
                "must not be zero",
            ),
            (call(F::Repeat, vec![lit("ab"), lit(i64::MAX)]), "too large"),
            (call(F::Lpad, vec![lit("ab"), lit(i64::MAX)]), "too large"),
        ] {
            let err = eval_err(&e, &t);
            assert!(err.contains(msg), "{e}: {err}");
        }
        // Extreme integers neither panic nor overflow.
        let (min, max) = (lit(i64::MIN), lit(i64::MAX));
        for (e, want) in [
            (call(F::Left, vec![lit("abc"), min.clone()]), ""),
            (call(F::Right, vec![lit("abc"), min.clone()]), ""),
            (call(F::Left, vec![lit("abc"), max.clone()]), "abc"),
            (call(F::SplitPart, vec![lit("a,b"), lit(","), min.clone()]), ""),
            (call(F::SplitPart, vec![lit("a,b"), lit(","), max.clone()]), ""),
            (call(F::Substr, vec![lit("abc"), min.clone(), max.clone()]), ""),
            (call(F::Substr, vec![lit("abc"), max.clone(), max]), ""),
            (call(F::Substr, vec![lit("abc"), lit(2i64), lit(i64::MAX)]), "bc"),
            (call(F::Repeat, vec![lit("abc"), min]), ""),
        ] {
            assert_eq!(values(&e, &t)[0], s(Some(want)), "{e}");
        }
    }
}
