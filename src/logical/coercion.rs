//! Type coercion: the casts that make operands of an operator, the branches
//! of a CASE or the inputs of a UNION agree on one type. The binder applies
//! these while building expressions, so later stages see matching types.

use arrow::datatypes::{DataType, TimeUnit};
use datafusion_common::DFSchema;

use super::expr::{Expr, Operator};
use super::expr_schema::ExprSchema;
use crate::error::Result;
use crate::functions::DECIMAL128_MAX_PRECISION;
use crate::plan_err;

fn int_rank(t: &DataType) -> Option<(bool, u8)> {
    Some(match t {
        DataType::Int8 => (true, 1),
        DataType::Int16 => (true, 2),
        DataType::Int32 => (true, 3),
        DataType::Int64 => (true, 4),
        DataType::UInt8 => (false, 1),
        DataType::UInt16 => (false, 2),
        DataType::UInt32 => (false, 3),
        DataType::UInt64 => (false, 4),
        _ => return None,
    })
}

/// Digits needed to hold any value of an integer type as a decimal.
pub(crate) fn int_decimal_precision(t: &DataType) -> Option<u8> {
    Some(match t {
        DataType::Int8 | DataType::UInt8 => 3,
        DataType::Int16 | DataType::UInt16 => 5,
        DataType::Int32 | DataType::UInt32 => 10,
        DataType::Int64 => 19,
        DataType::UInt64 => 20,
        _ => return None,
    })
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
}

fn wider_int(a: &DataType, b: &DataType) -> Option<DataType> {
    let (sa, ra) = int_rank(a)?;
    let (sb, rb) = int_rank(b)?;
    Some(if sa == sb {
        if ra >= rb { a.clone() } else { b.clone() }
    } else {
        // Mixed signedness: a signed type one size up, as far as it goes.
        match ra.max(rb) + u8::from(if sa { rb >= ra } else { ra >= rb }) {
            1 => DataType::Int8,
            2 => DataType::Int16,
            3 => DataType::Int32,
            _ => DataType::Int64,
        }
    })
}

fn decimal_union(p1: u8, s1: i8, p2: u8, s2: i8) -> DataType {
    let s = s1.max(s2);
    let int_digits = (p1 as i16 - s1 as i16).max(p2 as i16 - s2 as i16);
    let p = (int_digits + s as i16).clamp(1, DECIMAL128_MAX_PRECISION as i16);
    DataType::Decimal128(p as u8, s)
}

/// The type both sides of a comparison (or the values of an IN list, CASE
/// branches, UNION columns) are cast to, if there is one.
pub fn common_type(a: &DataType, b: &DataType) -> Option<DataType> {
    use DataType::*;
    if a == b {
        return Some(a.clone());
    }
    Some(match (a, b) {
        (Null, t) | (t, Null) => t.clone(),
        (Dictionary(_, v), t) | (t, Dictionary(_, v)) => return common_type(v, t),
        (x, y) if int_rank(x).is_some() && int_rank(y).is_some() => wider_int(x, y)?,
        (Decimal128(p1, s1), Decimal128(p2, s2)) => decimal_union(*p1, *s1, *p2, *s2),
        (Decimal128(p, s), i) | (i, Decimal128(p, s)) if int_rank(i).is_some() => {
            decimal_union(*p, *s, int_decimal_precision(i)?, 0)
        }
        (Float16 | Float32 | Float64, y) | (y, Float16 | Float32 | Float64) if y.is_numeric() => Float64,
        (Utf8View, y) | (y, Utf8View) if is_string(y) => Utf8View,
        (LargeUtf8, y) | (y, LargeUtf8) if is_string(y) => LargeUtf8,
        (Date32, y) | (y, Date32) if is_string(y) => Date32,
        (t @ Timestamp(..), y) | (y, t @ Timestamp(..)) if is_string(y) => t.clone(),
        (Timestamp(u, tz), Date32) | (Date32, Timestamp(u, tz)) => Timestamp(*u, tz.clone()),
        (Timestamp(_, tz1), Timestamp(_, tz2)) if tz1 == tz2 => Timestamp(TimeUnit::Microsecond, tz1.clone()),
        (Boolean, y) if is_string(y) => Boolean,
        (y, Boolean) if is_string(y) => Boolean,
        (x, y) if is_string(x) && y.is_numeric() => y.clone(),
        (x, y) if x.is_numeric() && is_string(y) => x.clone(),
        _ => return None,
    })
}

/// The common type of several types (`None` if two of them cannot meet).
pub fn common_type_of<'a>(types: impl IntoIterator<Item = &'a DataType>) -> Option<DataType> {
    types
        .into_iter()
        .try_fold(DataType::Null, |acc, t| common_type(&acc, t))
}

/// Casts `e` to `t` unless it already has that type; an error when no
/// cast between the types exists (found now rather than when the plan is
/// lowered).
pub fn cast_to(e: Expr, t: &DataType, schema: &DFSchema) -> Result<Expr> {
    let from = e.get_type(schema)?;
    if &from == t {
        return Ok(e);
    }
    if !arrow::compute::can_cast_types(&from, t) {
        plan_err!("cannot cast {e} from {from} to {t}");
    }
    Ok(Expr::Cast(Box::new(e), t.clone()))
}

/// `e` as a literal of the column type `t`, when `e` is a non-NULL
/// literal (or constant expression) whose value `t` holds exactly (it converts to
/// `t` and back unchanged) and `t` is an integer or decimal type. Then a
/// comparison of a `t` column with `e` can compare in `t` instead of
/// casting the column on every row (`int_col < 5`, `price > 1.00`), with
/// the same answer: the casts to the wider type keep order and values.
pub fn exact_literal(e: &Expr, t: &DataType) -> Option<Expr> {
    let v = match e {
        Expr::Literal(v) => v.clone(),
        // `l_quantity < 1 + 10`: a constant expression counts as its value.
        e => crate::physical::expr::evaluate_constant(e).ok().flatten()?,
    };
    if v.is_null() || !(int_rank(t).is_some() || matches!(t, DataType::Decimal128(..))) {
        return None;
    }
    if &v.data_type() == t {
        return Some(Expr::Literal(v));
    }
    let cast = v.cast_to(t).ok().filter(|c| !c.is_null())?;
    (cast.cast_to(&v.data_type()).ok()? == v).then_some(Expr::Literal(cast))
}

/// Builds `left op right` with the casts its operator needs, or a clear
/// error when the types cannot meet.
pub fn coerce_binary(left: Expr, op: Operator, right: Expr, schema: &DFSchema) -> Result<Expr> {
    use DataType::*;
    let lt = left.get_type(schema)?;
    let rt = right.get_type(schema)?;
    let (lt2, rt2) = match op {
        Operator::And | Operator::Or => {
            for (e, t) in [(&left, &lt), (&right, &rt)] {
                if !matches!(t, Boolean | Null) {
                    plan_err!("{op} needs boolean operands, but {e} is {t}");
                }
            }
            (Boolean, Boolean)
        }
        Operator::StringConcat => (Utf8, Utf8),
        op if op.is_comparison() => match common_type(&lt, &rt) {
            Some(_) if let Some(r) = exact_literal(&right, &lt) => {
                return Ok(Expr::Binary(Box::new(left), op, Box::new(r)));
            }
            Some(_) if let Some(l) = exact_literal(&left, &rt) => {
                return Ok(Expr::Binary(Box::new(l), op, Box::new(right)));
            }
            Some(t) => (t.clone(), t),
            None => plan_err!("cannot compare {left} ({lt}) with {right} ({rt})"),
        },
        _ => arithmetic_types(&left, &lt, op, &right, &rt)?,
    };
    let l = if lt == Null && op == Operator::StringConcat {
        left
    } else {
        cast_to(left, &lt2, schema)?
    };
    let r = cast_to(right, &rt2, schema)?;
    Ok(Expr::Binary(Box::new(l), op, Box::new(r)))
}

fn arithmetic_types(
    left: &Expr,
    lt: &DataType,
    op: Operator,
    right: &Expr,
    rt: &DataType,
) -> Result<(DataType, DataType)> {
    use DataType::*;
    Ok(match (lt, rt) {
        (Null, Null) => (Int64, Int64),
        (Null, t) | (t, Null) if t.is_numeric() => (t.clone(), t.clone()),
        (Date32, Interval(_)) | (Timestamp(..), Interval(_)) => (lt.clone(), rt.clone()),
        (Interval(_), Date32) if op == Operator::Plus => (lt.clone(), rt.clone()),
        (Date32, Date32) | (Timestamp(..), Timestamp(..)) if op == Operator::Minus => (lt.clone(), rt.clone()),
        (Date32, i) if int_rank(i).is_some() && matches!(op, Operator::Plus | Operator::Minus) => {
            plan_err!("cannot {op} a number and a date: use an interval, e.g. {left} {op} INTERVAL '1' DAY")
        }
        (x, y) if int_rank(x).is_some() && int_rank(y).is_some() => {
            if op == Operator::Divide {
                // As DuckDB and Spark: `/` on integers is a true division.
                (Float64, Float64)
            } else {
                let t = wider_int(x, y).unwrap_or(Int64);
                (t.clone(), t)
            }
        }
        (Decimal128(..), Decimal128(..)) => (lt.clone(), rt.clone()),
        (Decimal128(..), i) if int_rank(i).is_some() => {
            (lt.clone(), Decimal128(int_decimal_precision(i).unwrap_or(20), 0))
        }
        (i, Decimal128(..)) if int_rank(i).is_some() => {
            (Decimal128(int_decimal_precision(i).unwrap_or(20), 0), rt.clone())
        }
        (x, y) if x.is_numeric() && y.is_numeric() => (Float64, Float64),
        (x, y) if (is_string(x) && y.is_numeric()) || (x.is_numeric() && is_string(y)) => {
            plan_err!("cannot apply {op} to {left} ({lt}) and {right} ({rt}); cast the string first")
        }
        _ => plan_err!("cannot apply {op} to {left} ({lt}) and {right} ({rt})"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_types() {
        use DataType::*;
        assert_eq!(common_type(&Int32, &Int64), Some(Int64));
        assert_eq!(common_type(&Decimal128(15, 2), &Int64), Some(Decimal128(21, 2)));
        assert_eq!(
            common_type(&Decimal128(15, 2), &Decimal128(3, 2)),
            Some(Decimal128(15, 2))
        );
        assert_eq!(common_type(&Utf8View, &Utf8), Some(Utf8View));
        assert_eq!(common_type(&Date32, &Utf8), Some(Date32));
        assert_eq!(common_type(&Float64, &Decimal128(15, 2)), Some(Float64));
        assert_eq!(common_type(&Boolean, &Int32), None);
        assert_eq!(common_type_of([&Null, &Int32, &Int64]), Some(Int64));
    }

    #[test]
    fn literals_compare_in_the_column_type_when_exact() {
        use DataType::*;
        use datafusion_common::ScalarValue as S;
        let lit = |v: S| Expr::Literal(v);
        assert_eq!(
            exact_literal(&lit(S::Int64(Some(5))), &Int32),
            Some(lit(S::Int32(Some(5))))
        );
        assert_eq!(exact_literal(&lit(S::Int64(Some(1 << 40))), &Int32), None);
        assert_eq!(exact_literal(&lit(S::Int64(Some(-1))), &UInt8), None);
        assert_eq!(
            exact_literal(&lit(S::Decimal128(Some(100), 21, 2)), &Decimal128(15, 2)),
            Some(lit(S::Decimal128(Some(100), 15, 2)))
        );
        // 1.005 is not a Decimal(15, 2); 10^14 does not fit Decimal(15, 2).
        assert_eq!(
            exact_literal(&lit(S::Decimal128(Some(1005), 4, 3)), &Decimal128(15, 2)),
            None
        );
        assert_eq!(
            exact_literal(&lit(S::Int64(Some(100_000_000_000_000))), &Decimal128(15, 2)),
            None
        );
        assert_eq!(exact_literal(&lit(S::Int64(None)), &Int32), None);
        assert_eq!(exact_literal(&lit(S::Float64(Some(1.5))), &Int32), None);
    }
}
