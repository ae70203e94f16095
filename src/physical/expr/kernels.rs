//! Arrow kernels applied to [`ColumnarValue`]s: scalars are passed as
//! scalar datums, and a result over scalars only is a scalar again.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, BooleanArray, Datum};
use arrow::compute::kernels::{boolean, cmp};
use arrow::error::ArrowError;

use super::ColumnarValue;
use super::unary::NotExpr;
use super::view_eq::{self, constant_bytes};
use crate::error::{Error, Result};
use crate::logical::Operator;

/// Applies a two-operand kernel, keeping a scalar result when both
/// operands are scalars.
pub(crate) fn apply(
    l: &ColumnarValue,
    r: &ColumnarValue,
    kernel: impl Fn(&dyn Datum, &dyn Datum) -> std::result::Result<ArrayRef, ArrowError>,
) -> Result<ColumnarValue> {
    let out = kernel(&l.to_datum()?, &r.to_datum()?)?;
    ColumnarValue::from_kernel(out, l.is_scalar() && r.is_scalar())
}

/// `l op r` for a comparison operator: NULL where either side is NULL,
/// except for the null-safe `IS [NOT] DISTINCT FROM`.
pub(crate) fn compare(op: Operator, l: &ColumnarValue, r: &ColumnarValue) -> Result<ColumnarValue> {
    if matches!(op, Operator::Eq | Operator::NotEq)
        && let Some(eq) = view_equals(l, r).or_else(|| view_equals(r, l))
    {
        let eq = ColumnarValue::Array(Arc::new(eq));
        return if op == Operator::Eq {
            Ok(eq)
        } else {
            NotExpr::negate(eq)
        };
    }
    let kernel = match op {
        Operator::Eq => cmp::eq,
        Operator::NotEq => cmp::neq,
        Operator::Lt => cmp::lt,
        Operator::LtEq => cmp::lt_eq,
        Operator::Gt => cmp::gt,
        Operator::GtEq => cmp::gt_eq,
        Operator::IsDistinctFrom => cmp::distinct,
        Operator::IsNotDistinctFrom => cmp::not_distinct,
        other => return Err(Error::Internal(format!("{other} is not a comparison"))),
    };
    apply(l, r, |a, b| kernel(a, b).map(|x| Arc::new(x) as ArrayRef))
}

/// `column = constant` on string views (see [`view_eq`]), when `l` is a
/// view column and `r` a non-NULL constant.
fn view_equals(l: &ColumnarValue, r: &ColumnarValue) -> Option<BooleanArray> {
    match (l, r) {
        (ColumnarValue::Array(a), ColumnarValue::Scalar(c)) => view_eq::views_in(a.as_ref(), &[constant_bytes(c)?]),
        _ => None,
    }
}

/// Kleene `l AND r` / `l OR r` over boolean values of `num_rows` rows.
pub(crate) fn kleene(op: Operator, l: ColumnarValue, r: ColumnarValue, num_rows: usize) -> Result<ColumnarValue> {
    let all_scalar = l.is_scalar() && r.is_scalar();
    let n = if all_scalar { 1 } else { num_rows };
    let (l, r) = (l.into_array(n)?, r.into_array(n)?);
    let (l, r) = (l.as_boolean_opt(), r.as_boolean_opt());
    let (Some(l), Some(r)) = (l, r) else {
        return Err(Error::Internal(format!("{op} on non-boolean values")));
    };
    let out = match op {
        Operator::And => boolean::and_kleene(l, r)?,
        Operator::Or => boolean::or_kleene(l, r)?,
        other => return Err(Error::Internal(format!("{other} is not AND/OR"))),
    };
    ColumnarValue::from_kernel(Arc::new(out), all_scalar)
}
