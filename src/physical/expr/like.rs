//! `e [NOT] [I]LIKE pattern [ESCAPE c]` with Arrow's `like` kernels.
//!
//! Arrow's kernels take `\` as the escape character, which is also SQL's
//! default. A pattern written with another escape character is rewritten
//! into Arrow's form: `c` followed by a character becomes `\` followed by
//! it, and a plain `\` becomes `\\`. A constant pattern is rewritten once,
//! when the expression is created.
//!
//! Arrow matches `%x%`, `x%` and `%x` with substring search but falls back
//! to a regular expression for more `%`s (`'%special%requests%'`, TPC-H
//! q13). A constant case-sensitive pattern of literal parts between `%`s
//! is matched here instead, finding the parts in order with `memchr`.

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, StringBuilder};
use arrow::buffer::BooleanBuffer;
use arrow::compute::kernels::comparison::{ilike, like, nilike, nlike};
use arrow::datatypes::DataType;
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use datafusion_common::ScalarValue;
use memchr::memmem::Finder;

use super::coerce::{cast_expr, common_type, is_string};
use super::kernels::apply;
use super::{ColumnarValue, PhysicalExpr, PhysicalExprRef};
use crate::error::{Error, Result};
use crate::plan_err;

/// `expr [NOT] [I]LIKE pattern [ESCAPE escape]`.
#[derive(Debug)]
pub struct LikeExpr {
    expr: PhysicalExprRef,
    pattern: PhysicalExprRef,
    negated: bool,
    case_insensitive: bool,
    /// The escape character as written (for display).
    escape: Option<char>,
    /// Set when a non-constant pattern must be rewritten per batch.
    rewrite: Option<char>,
    /// A constant pattern already rewritten for `escape`.
    rewritten: Option<ScalarValue>,
    /// A constant pattern matched part by part (see the module docs).
    segments: Option<Segments>,
}

/// The literal parts of a pattern like `a%b%c`, found in order.
#[derive(Debug)]
struct Segments {
    finders: Vec<Finder<'static>>,
    /// The pattern starts with `%` (else the first part is a prefix).
    open_start: bool,
    /// The pattern ends with `%` (else the last part is a suffix).
    open_end: bool,
}

impl Segments {
    /// The parts of `pattern` when it has only literals and at least two
    /// `%`-separated parts (fewer are Arrow's fast paths).
    fn parse(pattern: &str) -> Option<Self> {
        if pattern.contains(['_', '\\']) {
            return None;
        }
        let parts: Vec<&str> = pattern.split('%').filter(|p| !p.is_empty()).collect();
        if parts.len() < 2 {
            return None;
        }
        Some(Self {
            finders: parts.iter().map(|p| Finder::new(p.as_bytes()).into_owned()).collect(),
            open_start: pattern.starts_with('%'),
            open_end: pattern.ends_with('%'),
        })
    }

    fn matches(&self, s: &[u8]) -> bool {
        let last = self.finders.len() - 1;
        let mut rest = s;
        for (i, f) in self.finders.iter().enumerate() {
            let needle = f.needle();
            if i == 0 && !self.open_start {
                let Some(after) = rest.strip_prefix(needle) else {
                    return false;
                };
                rest = after;
            } else if i == last && !self.open_end {
                return rest.ends_with(needle);
            } else {
                // The leftmost match leaves the most room for the rest.
                match f.find(rest) {
                    Some(at) => rest = &rest[at + needle.len()..],
                    None => return false,
                }
            }
        }
        true
    }

    /// Matches every string of `array` (a string type), NULL staying NULL.
    fn evaluate(&self, array: &ArrayRef, negated: bool) -> Option<BooleanArray> {
        let test = |s: &str| self.matches(s.as_bytes()) != negated;
        let values = match array.data_type() {
            DataType::Utf8View => {
                let a = array.as_string_view();
                BooleanBuffer::collect_bool(a.len(), |i| test(a.value(i)))
            }
            DataType::Utf8 => {
                let a = array.as_string::<i32>();
                BooleanBuffer::collect_bool(a.len(), |i| test(a.value(i)))
            }
            DataType::LargeUtf8 => {
                let a = array.as_string::<i64>();
                BooleanBuffer::collect_bool(a.len(), |i| test(a.value(i)))
            }
            _ => return None,
        };
        Some(BooleanArray::new(values, array.logical_nulls()))
    }
}

impl LikeExpr {
    /// Builds the match. Both operands must be strings (or NULL);
    /// `constant_pattern` is the pattern's value when it is a literal, so
    /// that an escape character is rewritten only once.
    pub(crate) fn try_new(
        expr: PhysicalExprRef,
        pattern: PhysicalExprRef,
        negated: bool,
        case_insensitive: bool,
        escape: Option<char>,
        constant_pattern: Option<&ScalarValue>,
    ) -> Result<Self> {
        let (et, pt) = (expr.data_type().clone(), pattern.data_type().clone());
        let target = match common_type(&et, &pt) {
            Some(t) if is_string(&t) => t,
            Some(DataType::Null) => DataType::Utf8,
            _ => plan_err!("LIKE needs string operands, got {et} and {pt} in `{expr} LIKE {pattern}`"),
        };
        let (expr, pattern) = (cast_expr(expr, &target)?, cast_expr(pattern, &target)?);
        let mut rewrite = escape.filter(|c| *c != '\\');
        let mut rewritten = None;
        if let (Some(c), Some(text)) = (rewrite, constant_pattern.and_then(scalar_str)) {
            rewritten = Some(ScalarValue::Utf8(Some(escape_for_arrow(text, c)?)).cast_to(&target)?);
            rewrite = None;
        }
        let segments = match (&rewritten, constant_pattern) {
            (None, Some(p)) if !case_insensitive && escape.is_none_or(|c| c == '\\') => {
                scalar_str(p).and_then(Segments::parse)
            }
            _ => None,
        };
        Ok(Self {
            expr,
            pattern,
            negated,
            case_insensitive,
            escape,
            rewrite,
            rewritten,
            segments,
        })
    }
}

fn scalar_str(s: &ScalarValue) -> Option<&str> {
    match s {
        ScalarValue::Utf8(Some(v)) | ScalarValue::LargeUtf8(Some(v)) | ScalarValue::Utf8View(Some(v)) => Some(v),
        _ => None,
    }
}

/// Rewrites a pattern using `escape` as escape character into the form
/// Arrow's kernels read, where the escape character is `\`.
fn escape_for_arrow(pattern: &str, escape: char) -> Result<String> {
    let mut out = String::with_capacity(pattern.len() + 2);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == escape {
            match chars.next() {
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => {
                    return Err(Error::Execution(format!(
                        "LIKE pattern '{pattern}' must not end with the escape character '{escape}'"
                    )));
                }
            }
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// Rewrites every pattern of an array (output Utf8, cast back by the caller).
fn escape_array(patterns: &ArrayRef, escape: char) -> Result<ArrayRef> {
    let utf8 = arrow::compute::cast(patterns, &DataType::Utf8)?;
    let strings = utf8.as_string::<i32>();
    let mut out = StringBuilder::with_capacity(strings.len(), strings.value_data().len() + strings.len());
    for p in strings.iter() {
        match p {
            Some(p) => out.append_value(escape_for_arrow(p, escape)?),
            None => out.append_null(),
        }
    }
    Ok(arrow::compute::cast(&out.finish(), patterns.data_type())?)
}

impl fmt::Display for LikeExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let not = if self.negated { "NOT " } else { "" };
        let op = if self.case_insensitive { "ILIKE" } else { "LIKE" };
        write!(f, "{} {not}{op} {}", self.expr, self.pattern)?;
        if let Some(c) = self.escape {
            write!(f, " ESCAPE '{c}'")?;
        }
        Ok(())
    }
}

impl PhysicalExpr for LikeExpr {
    fn data_type(&self) -> &DataType {
        &DataType::Boolean
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let v = self.expr.evaluate(batch)?;
        if let (Some(seg), ColumnarValue::Array(a)) = (&self.segments, &v)
            && let Some(out) = seg.evaluate(a, self.negated)
        {
            return Ok(ColumnarValue::Array(Arc::new(out)));
        }
        let mut p = match &self.rewritten {
            Some(constant) => ColumnarValue::Scalar(constant.clone()),
            None => self.pattern.evaluate(batch)?,
        };
        if let Some(c) = self.rewrite {
            p = match p {
                ColumnarValue::Scalar(s) => match scalar_str(&s) {
                    Some(text) => ColumnarValue::Scalar(
                        ScalarValue::Utf8(Some(escape_for_arrow(text, c)?)).cast_to(&s.data_type())?,
                    ),
                    None => ColumnarValue::Scalar(s),
                },
                ColumnarValue::Array(a) => ColumnarValue::Array(escape_array(&a, c)?),
            };
        }
        let kernel = match (self.negated, self.case_insensitive) {
            (false, false) => like,
            (false, true) => ilike,
            (true, false) => nlike,
            (true, true) => nilike,
        };
        apply(&v, &p, |a, b| {
            kernel(a, b).map(|r: BooleanArray| Arc::new(r) as ArrayRef)
        })
        .map_err(|e| match e {
            Error::Arrow(ArrowError::InvalidArgumentError(m)) => Error::Execution(format!("{m} in `{self}`")),
            other => other.context(format!("evaluating `{self}`")),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{StringArray, StringViewArray};
    use datafusion_common::ScalarValue;

    use arrow::compute::kernels::comparison::{like as like_kernel, nlike};

    use super::{Segments, escape_for_arrow};
    use crate::logical::{Expr, col, lit};
    use crate::physical::expr::test_util::{batch, values};

    fn like(e: Expr, p: Expr, negated: bool, ci: bool, escape: Option<char>) -> Expr {
        Expr::Like {
            negated,
            expr: Box::new(e),
            pattern: Box::new(p),
            case_insensitive: ci,
            escape,
        }
    }

    fn b(v: Option<bool>) -> ScalarValue {
        ScalarValue::Boolean(v)
    }

    #[test]
    fn like_variants_and_nulls() {
        let t = batch(vec![(
            "s",
            Arc::new(StringArray::from(vec![Some("Apple pie"), Some("banana"), None])),
        )]);
        let cases = [
            (lit("%pie"), false, false, [Some(true), Some(false), None]),
            (lit("%pie"), true, false, [Some(false), Some(true), None]),
            (lit("apple%"), false, false, [Some(false), Some(false), None]),
            (lit("apple%"), false, true, [Some(true), Some(false), None]),
            (lit("b_n%"), false, false, [Some(false), Some(true), None]),
            (lit(ScalarValue::Utf8(None)), false, false, [None, None, None]),
        ];
        for (pattern, negated, ci, expected) in cases {
            let e = like(col("s"), pattern, negated, ci, None);
            assert_eq!(values(&e, &t), expected.map(b).to_vec(), "{e}");
        }
    }

    #[test]
    fn patterns_of_several_parts_match_as_arrow_does() {
        let strings = vec![
            Some("special requests"),
            Some("xx special yy requests zz"),
            Some("requests special"),
            Some("specialrequests"),
            Some("special"),
            Some(""),
            None,
            Some("aba"),
            Some("ab"),
            Some("a"),
        ];
        let t = batch(vec![("s", Arc::new(StringViewArray::from(strings.clone())))]);
        for pattern in [
            "%special%requests%",
            "special%requests",
            "%special%requests",
            "a%a",
            "a%b%",
            "%a%a%",
            "%%a%%b",
        ] {
            assert!(Segments::parse(pattern).is_some(), "{pattern}");
            for negated in [false, true] {
                let e = like(col("s"), lit(pattern), negated, false, None);
                let expected = {
                    let a = StringArray::from(strings.clone());
                    let p = StringArray::new_scalar(pattern);
                    if negated { nlike(&a, &p) } else { like_kernel(&a, &p) }.unwrap()
                };
                assert_eq!(values(&e, &t), expected.iter().map(b).collect::<Vec<_>>(), "{e}");
            }
        }
        assert!(Segments::parse("%x%").is_none() && Segments::parse("a_%b").is_none());
    }

    #[test]
    fn custom_escape_character() {
        assert_eq!(escape_for_arrow("a#%b\\", '#').unwrap(), "a\\%b\\\\");
        assert!(escape_for_arrow("abc#", '#').is_err());
        let t = batch(vec![
            ("s", Arc::new(StringViewArray::from(vec!["50%", "50 percent", "a\\b"]))),
            ("p", Arc::new(StringArray::from(vec!["50#%", "50#%", "a\\b"]))),
        ]);
        let e = like(col("s"), lit("%#%"), false, false, Some('#'));
        assert_eq!(values(&e, &t), vec![b(Some(true)), b(Some(false)), b(Some(false))]);
        let e = like(col("s"), col("p"), false, false, Some('#'));
        assert_eq!(values(&e, &t), vec![b(Some(true)), b(Some(false)), b(Some(true))]);
        let e = like(col("s"), lit("%\\%"), false, false, None);
        assert_eq!(values(&e, &t), vec![b(Some(true)), b(Some(false)), b(Some(false))]);
    }
}
